"""Claims in tests: whether every seed of a run satisfies a claim (the comparison the ledger fixes), without the
evidence rules' verdict (one seed of a small preset is inconclusive by design, yet its comparison can be asserted)."""

from inrdict.experiments._evidence import OPS, declared, satisfied


def seeds_hold(results: dict, name: str) -> bool:
    """Every seed's value of claim `name` in a run's results satisfies its ledger comparison."""
    e = results["evidence"][name]
    return e["values"] is not None and all(OPS[e["op"]](v, e["threshold"]) for v in e["values"])


def all_seeds_hold(results: dict) -> dict[str, bool]:
    return {name: seeds_hold(results, name) for name in results["evidence"]}


def satisfied_claims(module, numbers: dict, config) -> dict[str, bool | None]:
    """`module.claims` judged per seed against the ledger (None where nothing was measured)."""
    return {name: satisfied(value, declared(module.NAME, name)) for name, value in module.claims(numbers, config).items()}

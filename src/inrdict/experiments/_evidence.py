"""The claims ledger and computed verdicts (SPEC §11): how a claim's numbers become a label.

**The ledger** (`ledger.toml`, beside this module) declares every claim of every experiment once, before the run
that judges it: the paper's sentence (quoted, with figure and section) or "ours", the metric, the comparison
`op` and `threshold` with the threshold's source, the preset whose run judges it (`protocol`, the paper's
protocol unless said otherwise), labelled deviations (`variants`, other presets), and whether the metric is
`deterministic` (closed form: one value decides) or varies with the seed. A definition changed after a result was
seen keeps its history as `[[... .changes]]` entries (date, reason, the result that prompted it, the definition
`before`). `ledger.lock.json` holds a fingerprint of each definition: a definition that differs from its
fingerprint without a change entry whose `before` matches the locked one fails `check_lock` (and the test suite).

**A run's outcome** for one claim. An experiment's `claims(numbers, config)` returns, per claim, the metric only:
one value per replicate (seed), an estimate with its own interval (`{"estimate", "interval"}`: decided by where the
interval lies), or None where it cannot be measured. With `x_1 … x_n` and the ledger's `x op threshold`:

* *holds*: every replicate satisfies it and, for n ≥ 2, so does the whole 95 % interval of the mean
  (Student t: mean ± t_{0.975, n−1} s/√n, exact for normal replicates);
* *fails*: every replicate violates it and the interval lies wholly on the failing side;
* *inconclusive*: replicates disagree, the interval covers the threshold, the value is missing, or n = 1 for a
  metric that varies with the seed (one seed cannot show that the outcome is not an accident of it).

**A claim's verdict** across the runs found (`verdict`): *reproduces* (holds on its protocol's run), *reproduces
only under a named deviation* (fails or is inconclusive there, holds on a variant's run; or holds on its protocol's
run where that protocol or threshold was set after a result was seen, `post_hoc`), *does not reproduce*
(fails on its protocol's run and no variant holds), *inconclusive*, or *not run*. Several runs of one preset must
agree. Prose never sets a label.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import itertools
import json
import math
import operator
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from inrdict._io import atomic_write_text
from inrdict.errors import InrdictError

LEDGER = Path(__file__).with_name("ledger.toml")
LOCK = Path(__file__).with_name("ledger.lock.json")

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
OUTCOMES = ("holds", "fails", "inconclusive")
LABELS = {
    "reproduces": "holds on the run of its protocol (the paper's unless the ledger says otherwise), across seeds",
    "reproduces only under a named deviation": "not on its protocol's run; holds on a labelled variant's run",
    "does not reproduce": "fails on its protocol's run (every seed and the interval), and no labelled variant holds",
    "inconclusive": "seeds disagree, the interval covers the threshold, a single seed, or the value is missing",
    "not run": "no run of its protocol was found",
}
DEFINITION = ("metric", "op", "threshold", "protocol")
"""The fields whose change needs a ledger entry (their fingerprint is locked)."""
CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class Change:
    """One change of a claim's definition after a result was seen."""

    date: str
    reason: str
    prompted_by: str
    before: Mapping[str, object]


@dataclasses.dataclass(frozen=True)
class Claim:
    """One ledger entry (module docstring)."""

    experiment: str
    name: str
    source: str  # "paper" or "ours"
    quote: str  # the paper's sentence with figure and section, or why the claim is ours
    metric: str
    op: str
    threshold: float
    threshold_source: str
    protocol: str
    fixed: str
    deterministic: bool = False
    variants: tuple[str, ...] = ()
    note: str = ""  # prose that explains a verdict; it never sets one
    post_hoc: bool = False  # its definition was set after a result was seen: at best "only under a named deviation"
    changes: tuple[Change, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.experiment}/{self.name}"

    def definition(self) -> dict:
        return {field: getattr(self, field) for field in DEFINITION}

    def statement(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


def fingerprint(definition: Mapping[str, object]) -> str:
    """A short hash of a claim's definition (metric, op, threshold, protocol)."""
    canonical = {field: definition.get(field) for field in DEFINITION}
    canonical["threshold"] = float(canonical["threshold"])  # type: ignore[arg-type]
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:16]


def parse_ledger(text: str) -> dict[str, Claim]:
    """Claims keyed "experiment/claim" from the ledger's TOML text; a malformed entry raises naming it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InrdictError(f"the claims ledger is not valid TOML ({error}): fix ledger.toml") from None
    claims: dict[str, Claim] = {}
    for experiment, entries in data.items():
        for name, entry in entries.items():
            try:
                changes = tuple(Change(**change) for change in entry.get("changes", ()))
                fields = {k: v for k, v in entry.items() if k != "changes"}
                claim = Claim(experiment=experiment, name=name, changes=changes,
                              variants=tuple(fields.pop("variants", ())), **fields)  # fmt: skip
            except TypeError as error:
                raise InrdictError(f"ledger entry {experiment}/{name} is malformed: {error}") from None
            if claim.op not in OPS or claim.source not in ("paper", "ours"):
                raise InrdictError(f"ledger entry {claim.key}: op must be one of {list(OPS)} and source paper or ours")
            claims[claim.key] = claim
    return claims


@cache
def ledger() -> dict[str, Claim]:
    """The committed ledger (`ledger.toml`)."""
    return parse_ledger(LEDGER.read_text())


def claims_of(experiment: str) -> dict[str, Claim]:
    """The ledger's claims of one experiment (its `NAME`), by claim name."""
    return {c.name: c for c in ledger().values() if c.experiment == experiment}


def lock_problems(claims: Mapping[str, Claim], lock: Mapping[str, str]) -> list[str]:
    """Why `claims` disagree with the locked fingerprints: a definition that changed with no change entry whose
    `before` is the locked definition, a claim missing from the lock, or a locked claim removed from the ledger."""
    problems = []
    for key, claim in claims.items():
        now = fingerprint(claim.definition())
        if key not in lock:
            problems.append(f"{key} is not in {LOCK.name}: run `inrdict ledger --lock` once it is fixed")
        elif lock[key] != now and not any(fingerprint({**claim.definition(), **c.before}) == lock[key]
                                          for c in claim.changes):  # fmt: skip
            problems.append(
                f"{key}: its metric, op, threshold or protocol changed without a ledger entry: add a "
                f"[[{claim.experiment}.{claim.name}.changes]] entry (date, reason, prompted_by, before = the old "
                "definition), then `inrdict ledger --lock`"
            )
    problems += [
        f"{key} is locked but no longer in the ledger: a claim is never deleted" for key in lock if key not in claims
    ]
    return problems


def check_lock() -> list[str]:
    return lock_problems(ledger(), json.loads(LOCK.read_text()))


def write_lock() -> None:
    """Lock the ledger's current definitions, after `check_lock` finds every change recorded (claims new to the
    ledger are locked as they are)."""
    lock = json.loads(LOCK.read_text()) if LOCK.is_file() else {}
    problems = lock_problems({key: claim for key, claim in ledger().items() if key in lock}, lock)
    if problems:
        raise InrdictError(problems[0])
    fresh = {key: fingerprint(claim.definition()) for key, claim in sorted(ledger().items())}
    atomic_write_text(LOCK, json.dumps(fresh, indent=1) + "\n", "ledger lock")


# --- outcomes of one run ----------------------------------------------------------------------------------------------


def replicates(value) -> list[float] | None:
    """A claim function's value as a list of floats (one per replicate), None where it is missing or not finite."""
    if value is None:
        return None
    values = [float(v) for v in (value if isinstance(value, (list, tuple, np.ndarray)) else [value])]
    return values if values and all(math.isfinite(v) for v in values) else None


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t interval of the mean of `values` (n ≥ 2); (x, x) for one value."""
    import scipy.stats

    x = np.asarray(values, np.float64)
    if x.size < 2:
        return float(x[0]), float(x[0])
    half = scipy.stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def judge(values, claim: Claim) -> dict:
    """The outcome of `claim` on one run whose metric came out as `values` (module docstring), with its evidence:
    {values, n, mean, interval, threshold, op, outcome, reason}. `values` may also be an estimate with an interval
    computed by the experiment (`{"estimate": x, "interval": [low, high]}`, e.g. a bootstrap over seeds and faces)."""
    record: dict = {"op": claim.op, "threshold": claim.threshold, "deterministic": claim.deterministic}
    test = OPS[claim.op]
    if isinstance(values, Mapping):
        estimate, interval = replicates(values.get("estimate")), values.get("interval")
        bounds = replicates(list(interval)) if interval is not None else None
        if estimate is None or bounds is None:
            return record | {
                "values": None,
                "n": 0,
                "outcome": "inconclusive",
                "reason": "no estimate with an interval",
            }
        low, high = bounds
        record |= {"values": estimate, "n": values.get("n"), "mean": estimate[0], "interval": [low, high]}
        if not test(low, claim.threshold) == test(high, claim.threshold) == test(estimate[0], claim.threshold):
            return record | {"outcome": "inconclusive", "reason": "the 95 % interval covers the threshold"}
        return record | {"outcome": "holds" if test(estimate[0], claim.threshold) else "fails", "reason": ""}
    x = replicates(values)
    if x is None:
        return record | {"values": None, "n": 0, "outcome": "inconclusive", "reason": "not measured on this run"}
    low, high = mean_interval(x)
    each = [test(v, claim.threshold) for v in x]
    record |= {"values": x, "n": len(x), "mean": float(np.mean(x)), "interval": [low, high] if len(x) > 1 else None}
    if any(each) and not all(each):
        return record | {"outcome": "inconclusive", "reason": f"{sum(each)} of {len(x)} seeds hold"}
    if len(x) == 1 and not claim.deterministic:
        return record | {"outcome": "inconclusive", "reason": "one seed of a seed-dependent metric"}
    if not test(low, claim.threshold) == test(high, claim.threshold) == each[0]:
        return record | {"outcome": "inconclusive", "reason": "the 95 % interval of the mean covers the threshold"}
    return record | {"outcome": "holds" if each[0] else "fails", "reason": ""}


def declared(experiment: str, name: str) -> Claim | None:
    """The ledger's entry for claim `name` of `experiment`: its own, else one whose name is a pattern (`*`) matching
    it (claims named after a row, e.g. `meta*_spectrum_flatter_than_random_siren30` for extra weights' rows)."""
    claims = claims_of(experiment)
    if name in claims:
        return claims[name]
    return next((c for pattern, c in claims.items() if "*" in pattern and fnmatch.fnmatchcase(name, pattern)), None)


def judge_all(experiment: str, values: Mapping[str, object]) -> dict[str, dict]:
    """`judge` for every claim a run measured; a measured claim missing from the ledger raises (declare it first)."""
    entries = {name: declared(experiment, name) for name in values}
    unknown = sorted(name for name, claim in entries.items() if claim is None)
    if unknown:
        raise InrdictError(f"{experiment}: claims {unknown} are not in the ledger ({LEDGER.name}): declare them first")
    judged = {}
    for name, value in values.items():
        claim = entries[name]
        assert claim is not None
        judged[name] = judge(value, claim) | {"ledger": fingerprint(claim.definition()), "ledger_entry": claim.name}
    return judged


def satisfied(values, claim: Claim) -> bool | None:
    """Whether every replicate satisfies the claim's comparison (None where nothing was measured): what the
    contract test flips by perturbing the numbers a claim reads."""
    x = replicates(values.get("estimate") if isinstance(values, Mapping) else values)
    return None if x is None else all(OPS[claim.op](v, claim.threshold) for v in x)


def evaluate(module, numbers: Mapping, config) -> dict[str, dict]:
    """A run's evidence: `judge_all` of what `module.claims(numbers, config)` measured."""
    return judge_all(module.NAME, module.claims(numbers, config))


def outcomes(evidence: Mapping[str, Mapping]) -> dict[str, bool | None]:
    """The boolean view of a run's evidence: True (holds), False (fails), None (inconclusive)."""
    return {name: {"holds": True, "fails": False}.get(e["outcome"]) for name, e in evidence.items()}


# --- verdicts across runs ---------------------------------------------------------------------------------------------


def verdict(claim: Claim, runs: Iterable[tuple[str, Mapping]]) -> tuple[str, str]:
    """(label, the run that decides it) from `runs`: (preset, that run's evidence record of `claim`) pairs.
    Runs judged under another definition of the claim (an older ledger) are ignored; several runs of one preset
    (another machine, one thread) must agree, or that preset's outcome is inconclusive."""
    current = fingerprint(claim.definition())
    by_preset: dict[str, set[str]] = {}
    for preset, record in runs:
        if record.get("ledger") == current:
            by_preset.setdefault(preset, set()).add(record["outcome"])
    outcome = {p: o.pop() if len(o) == 1 else "inconclusive" for p, o in by_preset.items()}
    base = outcome.get(claim.protocol)
    held = [v for v in claim.variants if outcome.get(v) == "holds"]
    if base is None:
        return "not run", f"no `{claim.protocol}` run"
    if base == "holds":
        if claim.post_hoc:  # the protocol itself is the deviation: chosen after a result was seen
            return "reproduces only under a named deviation", f"{claim.protocol} (set after a result was seen)"
        return "reproduces", claim.protocol
    if held:
        return "reproduces only under a named deviation", held[0]
    if base == "inconclusive":
        return "inconclusive", claim.protocol
    return "does not reproduce", claim.protocol


# --- statistics the claims use ----------------------------------------------------------------------------------------


def spearman_permutation_p(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(Spearman's ρ, exact one-sided p-value P(ρ_perm ≥ ρ)) over every permutation of y's ranks (n ≤ 10)."""
    import scipy.stats

    n = len(x)
    if n > 10:
        raise ValueError("the exact permutation test enumerates n! orders: n ≤ 10")
    rx, ry = scipy.stats.rankdata(x), scipy.stats.rankdata(y)
    orders = np.array(list(itertools.permutations(ry)))  # (n!, n)
    cx = rx - rx.mean()
    centred = orders - orders.mean(axis=1, keepdims=True)
    rhos = centred @ cx / (np.linalg.norm(centred, axis=1) * np.linalg.norm(cx))
    observed = float(np.corrcoef(rx, ry)[0, 1])
    return observed, float(np.mean(rhos >= observed - 1e-12))


def spearman_estimate(rho: float, n: int, confidence: float = CONFIDENCE) -> dict:
    """Spearman's ρ over n points with its interval from Fisher's z, standard error 1.06/√(n − 3) (Fieller, Hartley
    & Pearson 1957); no interval for n ≤ 3 or an undefined ρ."""
    import scipy.stats

    if not (n > 3 and math.isfinite(rho)):
        return {"estimate": rho, "interval": None, "n": n}
    z, half = (
        math.atanh(min(max(rho, -0.999999), 0.999999)),
        scipy.stats.norm.ppf(0.5 + confidence / 2) * 1.06 / math.sqrt(n - 3),
    )
    return {"estimate": rho, "interval": [math.tanh(z - half), math.tanh(z + half)], "n": n}


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm–Bonferroni adjusted p-values (family-wise error over all of `p_values`)."""
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    adjusted, running = {}, 0.0
    for rank, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - rank) * p))
        adjusted[name] = running
    return adjusted

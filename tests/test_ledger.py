"""The claims ledger and computed verdicts (SPEC §11): the lock catches a changed definition, outcomes follow the
numbers and their intervals, verdicts follow the runs, and the statistics the claims use are exact."""

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest
import scipy.stats

from inrdict.errors import InrdictError
from inrdict.experiments import REGISTRY, _evidence
from inrdict.experiments._evidence import (
    Claim,
    fingerprint,
    judge,
    ledger,
    lock_problems,
    parse_ledger,
    spearman_estimate,
    spearman_permutation_p,
    verdict,
)

CLAIM = Claim(experiment="x", name="c", source="ours", quote="q", metric="m", op=">", threshold=30.0,
              threshold_source="ours", protocol="default", fixed="2026-12-06")  # fmt: skip


def test_the_committed_ledger_matches_its_lock():
    assert _evidence.check_lock() == []


def test_every_ledger_entry_belongs_to_a_registered_experiment():
    names = {module.NAME for module in REGISTRY.values()}
    assert {claim.experiment for claim in ledger().values()} <= names
    assert all(claim.source in ("paper", "ours") and claim.quote and claim.threshold_source for claim in ledger().values())
    # A paper claim quotes the paper or says that it paraphrases it.
    assert all('"' in c.quote or "paraphrase" in c.quote or "SPEC" in c.quote for c in ledger().values() if c.source == "paper")


def test_a_changed_threshold_without_a_ledger_entry_is_caught():
    text = _evidence.LEDGER.read_text()
    lock = json.loads(_evidence.LOCK.read_text())
    assert lock_problems(parse_ledger(text), lock) == []
    key = "figure_3/small_omega0_alias_far_below"
    old = '''small_omega0_alias_far_below"]\nsource = "paper"'''
    assert old in text
    changed = parse_ledger(text.replace("""threshold = 50.0\nthreshold_source = "ours: SPEC §5's 'far below' read as 50 dB\"""",
                                        """threshold = 40.0\nthreshold_source = "ours\"""", 1))  # fmt: skip
    assert changed[key].threshold == 40.0
    problems = lock_problems(changed, lock)
    assert len(problems) == 1 and problems[0].startswith(key) and "without a ledger entry" in problems[0]
    # With an entry whose `before` is the locked definition, the change is recorded: the lock accepts it.
    entry = _evidence.Change("2026-12-06", "a test", "none", {"threshold": 50.0})
    recorded = dict(changed) | {key: dataclasses.replace(changed[key], changes=(entry,))}
    assert lock_problems(recorded, lock) == []
    # An entry that names another old value does not cover it; nor may a claim disappear.
    wrong = dict(changed) | {key: dataclasses.replace(changed[key], changes=(dataclasses.replace(entry, before={"threshold": 45.0}),))}
    assert len(lock_problems(wrong, lock)) == 1
    assert any("no longer in the ledger" in p for p in lock_problems({k: v for k, v in recorded.items() if k != key}, lock))


def test_a_malformed_entry_is_refused_in_one_line():
    with pytest.raises(InrdictError, match="x/c.*malformed"):
        parse_ledger('[x.c]\nsource = "ours"\n')
    with pytest.raises(InrdictError, match="op must be"):
        parse_ledger(_toml(op="=>"))
    with pytest.raises(InrdictError, match="not valid TOML"):
        parse_ledger("[x.c\nsource = ")


def test_the_findings_command_refuses_a_missing_page_in_one_line(tmp_path, capsys):
    from inrdict import cli

    results = _evidence.LEDGER.parents[3] / "results" / "reproduce" / "figure_3"  # a committed run
    code = cli.main(["findings", str(results), "--out", str(tmp_path / "f.md"), "--readme", str(tmp_path / "README.md")])
    assert code == 2 and "README.md not found" in capsys.readouterr().err


def _toml(**fields) -> str:
    base = {"source": "ours", "quote": "q", "metric": "m", "op": ">", "threshold": 1.0, "threshold_source": "s",
            "protocol": "default", "fixed": "2026-12-06"} | fields  # fmt: skip
    return "[x.c]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in base.items())


@pytest.mark.parametrize(
    ("values", "outcome", "reason"),
    [
        ([40.0, 41.0, 39.5, 42.0, 40.5], "holds", ""),
        ([10.0, 12.0, 11.0], "fails", ""),
        ([40.0, 20.0, 45.0], "inconclusive", "2 of 3 seeds hold"),
        ([30.5, 30.2, 35.0], "inconclusive", "interval"),  # every seed above, but the mean's interval reaches 30
        ([40.0], "inconclusive", "one seed"),
        (None, "inconclusive", "not measured"),
        ([float("nan"), 40.0], "inconclusive", "not measured"),
    ],
)
def test_outcomes_follow_the_seeds_and_their_interval(values, outcome, reason):
    record = judge(values, CLAIM)
    assert record["outcome"] == outcome and reason in record["reason"]
    if outcome != "inconclusive":
        low, high = record["interval"]
        mean, sem = np.mean(values), np.std(values, ddof=1) / math.sqrt(len(values))
        t = scipy.stats.t.ppf(0.975, len(values) - 1)
        assert (low, high) == pytest.approx((mean - t * sem, mean + t * sem))


def test_deterministic_claims_and_estimates_with_intervals():
    exact = dataclasses.replace(CLAIM, deterministic=True)
    assert judge(40.0, exact)["outcome"] == "holds" and judge(20.0, exact)["outcome"] == "fails"
    assert judge({"estimate": 40.0, "interval": [35.0, 45.0]}, CLAIM)["outcome"] == "holds"
    assert judge({"estimate": 40.0, "interval": [25.0, 45.0]}, CLAIM)["outcome"] == "inconclusive"
    assert judge({"estimate": 20.0, "interval": [15.0, 25.0]}, CLAIM)["outcome"] == "fails"
    assert judge({"estimate": 40.0, "interval": None}, CLAIM)["outcome"] == "inconclusive"


def test_verdicts_follow_the_protocol_run_and_the_labelled_variants():
    claim = dataclasses.replace(CLAIM, variants=("lr_1e-3",))
    stamp = fingerprint(claim.definition())

    def run(preset, outcome, ledger_stamp=stamp):
        return preset, {"outcome": outcome, "ledger": ledger_stamp}

    assert verdict(claim, [run("default", "holds")])[0] == "reproduces"
    assert verdict(claim, [run("default", "fails")])[0] == "does not reproduce"
    assert verdict(claim, [run("default", "inconclusive")])[0] == "inconclusive"
    assert verdict(claim, [run("default", "fails"), run("lr_1e-3", "holds")]) == (
        "reproduces only under a named deviation", "lr_1e-3")
    assert verdict(claim, [run("lr_1e-3", "holds")])[0] == "not run"  # a deviation alone decides nothing
    assert verdict(claim, [run("default", "holds", "0" * 16)])[0] == "not run"  # judged under an older definition
    # A protocol set after a result was seen is itself the deviation.
    assert verdict(dataclasses.replace(claim, post_hoc=True), [run("default", "holds")])[0] == (
        "reproduces only under a named deviation")


def test_spearman_permutation_p_value_is_exact():
    rho, p = spearman_permutation_p([1, 2, 3, 4], [10, 20, 30, 40])
    assert rho == pytest.approx(1.0) and p == pytest.approx(1 / 24)  # one of 4! orders is as extreme
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=6), rng.normal(size=6)
    rho, p = spearman_permutation_p(x, y)
    brute = np.mean([scipy.stats.spearmanr(x, perm).statistic >= rho - 1e-12 for perm in itertools.permutations(y)])
    assert rho == pytest.approx(scipy.stats.spearmanr(x, y).statistic) and p == pytest.approx(brute)
    with pytest.raises(ValueError):
        spearman_permutation_p(range(11), range(11))


def test_holm_adjusts_in_order():
    adjusted = _evidence.holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})


def test_spearman_interval_is_fishers():
    estimate = spearman_estimate(-0.9, 13)
    low, high = estimate["interval"]
    half = 1.959963984540054 * 1.06 / math.sqrt(10)
    assert (low, high) == pytest.approx((math.tanh(math.atanh(-0.9) - half), math.tanh(math.atanh(-0.9) + half)))
    assert spearman_estimate(0.5, 3)["interval"] is None


def test_reruns_of_one_preset_must_agree():
    stamp = fingerprint(CLAIM.definition())
    agree = [("default", {"outcome": "holds", "ledger": stamp}), ("default", {"outcome": "holds", "ledger": stamp})]
    assert verdict(CLAIM, agree)[0] == "reproduces"
    one_thread = ("default", {"outcome": "fails", "ledger": stamp})
    assert verdict(CLAIM, [*agree, one_thread])[0] == "inconclusive"  # the verdict flipped with the machine

"""The committed evidence (results/) and the pages generated from it: the findings page, the README's verdict table
and docs/results.md are exactly what `inrdict findings` makes of the committed runs; those runs were judged under
the current ledger, and judging their numbers again gives the same outcomes; every number the front pages quote is
found in a committed results file."""

import json
import math
import re
from pathlib import Path

import pytest

from inrdict.experiments import REGISTRY
from inrdict.experiments._evidence import declared, evaluate, fingerprint
from inrdict.experiments._findings import (
    findings_markdown,
    markers,
    measured_markdown,
    suggest_table_markdown,
    verdict_table_markdown,
)
from inrdict.experiments._run import to_jsonable

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT / "results" / "reproduce", ROOT / "results" / "variants"]
RUNS = sorted(p for folder in FOLDERS for p in folder.glob("*/results.json"))


def _block(path: Path, name: str = "") -> str:
    begin, end = markers(name)
    return path.read_text().split(begin, 1)[1].split(end, 1)[0].lstrip("\n")


def test_every_reproduced_experiment_is_committed():
    names = {json.loads(p.read_text())["experiment"] for p in (ROOT / "results" / "reproduce").glob("*/results.json")}
    from inrdict.experiments import reproduce_order

    assert names == {REGISTRY[name].NAME for name in reproduce_order()}


def test_every_committed_variant_has_its_run_in_make_evidence():
    """A run in results/variants that scripts/make_evidence.sh does not make could never be remade; and the
    script's runs that are missing here were never collected."""
    import subprocess

    listed = subprocess.run(["bash", "make_evidence.sh", "--list"], cwd=ROOT / "scripts", capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip  (started from another folder)
    committed = {p.name for p in (ROOT / "results" / "variants").iterdir() if (p / "results.json").is_file()}
    assert committed == set(listed) - {"reproduce"}


def test_the_pages_are_generated_from_the_committed_runs():
    assert (ROOT / "docs" / "findings.md").read_text() == findings_markdown(FOLDERS)
    assert _block(ROOT / "README.md") == verdict_table_markdown(FOLDERS)
    assert _block(ROOT / "README.md", "suggest") == suggest_table_markdown(FOLDERS)
    assert _block(ROOT / "docs" / "results.md") == measured_markdown(FOLDERS)


@pytest.mark.parametrize("path", RUNS, ids=[p.parent.name for p in RUNS])
def test_committed_runs_are_judged_under_the_current_ledger(path):
    results = json.loads(path.read_text())
    module = next(m for m in REGISTRY.values() if m.NAME == results["experiment"])
    for name, record in results["evidence"].items():
        claim = declared(module.NAME, name)
        assert claim is not None and record["ledger"] == fingerprint(claim.definition()), (
            f"{path}: {name} was judged under another definition: rerun scripts/make_evidence.sh"
        )
    config = module.PRESETS[results["preset"]]
    assert to_jsonable(config) == results["config"], f"{path} was not run with its preset {results['preset']!r}"
    again = evaluate(module, results["numbers"], config)
    assert {k: e["outcome"] for k, e in again.items()} == {k: e["outcome"] for k, e in results["evidence"].items()}


def _committed_numbers() -> list[float]:
    found: list[float] = []

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, (int, float)) and not isinstance(node, bool) and math.isfinite(node):
            found.append(float(node))

    for path in [*RUNS, *sorted((ROOT / "benchmarks").rglob("*.json"))]:  # results and committed benchmarks
        walk(json.loads(path.read_text()))
    return found


NUMBER = re.compile(r"(?<![\w.])[-+−]?\d+\.\d+(?:e[-+]?\d+)?(?![\w.])")
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]
NOT_RESULTS = {"3.11", "2.11"}  # versions: the Python the README asks for, a PyTorch release the docs name


def _quoted_numbers(text: str) -> list[str]:
    # The findings page's history notes (lines "* `claim`: …") quote the earlier, uncommitted runs that prompted a
    # change of a claim: the ledger's record, not a measurement of the committed runs.
    kept = "\n".join(line for line in text.splitlines() if not line.startswith("* `"))
    return [n.replace("−", "-") for n in NUMBER.findall(kept) if n not in NOT_RESULTS]


def _found(token: str, numbers: list[float]) -> bool:
    value = float(token)
    if "e" in token:
        return any(math.isclose(v, value, rel_tol=0.05) for v in numbers)
    decimals = len(token.split(".")[1])
    significant = len(token.lstrip("+-0.").replace(".", ""))
    return any(
        round(v, decimals) == value or (v != 0 and float(f"{v:.{max(significant, 1)}g}") == value) for v in numbers
    )


def test_every_number_the_docs_quote_is_in_a_committed_results_file():
    """README and every docs page. A weak check (a number matches any committed value that rounds to it), but one
    that a number typed from an uncommitted run usually fails."""
    numbers = _committed_numbers()
    missing = {
        page: [t for t in _quoted_numbers((ROOT / page).read_text()) if not _found(t, numbers)] for page in PAGES
    }
    assert not any(missing.values()), missing


def test_the_number_check_can_fail_and_the_blocks_need_their_markers():
    assert _found("35.45", [35.4512]) and _found("-2.5", [-2.53]) and _found("1e-4", [1e-4])
    assert not _found("35.46", [35.4512]) and not _found("123.456", [1.0, 2.0])
    assert _quoted_numbers("PSNR 21.03 dB, python 3.11\n* `c`: prompted by 52.9 dB") == ["21.03"]
    from inrdict.errors import InrdictError
    from inrdict.experiments._findings import replace_block

    (b1, e1), (b2, e2) = markers(), markers("suggest")
    assert replace_block(f"a\n{b1}\nold\n{e1}\nb", "new\n", "x") == f"a\n{b1}\nnew\n{e1}\nb"
    both = f"{b2}\nx\n{e2}\n{b1}\ny\n{e1}\n"  # two kinds of block, the named one first: each replaced on its own
    assert replace_block(both, "z\n", "x") == f"{b2}\nx\n{e2}\n{b1}\nz\n{e1}\n"
    assert replace_block(both, "z\n", "x", "suggest") == f"{b2}\nz\n{e2}\n{b1}\ny\n{e1}\n"
    with pytest.raises(InrdictError, match="no generated block"):
        replace_block("no markers", "new", "README.md")


def test_the_suggest_table_reads_the_held_out_run_and_never_the_design_one(tmp_path):
    design = json.loads((ROOT / "results/variants/suggest_validation-design_series/results.json").read_text())
    (tmp_path / "design").mkdir()
    (tmp_path / "design" / "results.json").write_text(json.dumps(design))
    assert suggest_table_markdown([tmp_path]).startswith("No held-out run")
    series = design["numbers"]["families"]["siren"]["kinds"]["series"]
    siren = {"kinds": {"image": series, "series": series},
             "timings": {"image": {"compute_ratio": [30.0, 10.0, 20.0]}, "projection": {"compute_ratio": [200.0, 100.0, 300.0]}}}  # fmt: skip
    held = {**design, "preset": "default", "numbers": {**design["numbers"], "split": "held_out", "families": {"siren": siren}},
            "evidence": {"siren_image_median_regret_at_most_1db": {"outcome": "holds"}}}  # fmt: skip
    (tmp_path / "held").mkdir()
    (tmp_path / "held" / "results.json").write_text(json.dumps(held))
    table = suggest_table_markdown([tmp_path])
    assert "preset `default`" in table and f"`results/{tmp_path.name}/held`" in table
    assert f"| siren | image ({series['n']}) | {series['median_regret_db']:.2f} [" in table
    assert table.count("\n| ") == 3 and table.count("| holds |") == 1  # header, image, series; one claim given
    assert "siren ×20 at 128², ×200 at 512²" in table  # medians of the repeated timings
    steps = "/".join(map(str, sorted({s["short_search_steps"] for s in series["signals"]})))
    assert f"{series['gain_over_short_search_db']:+.2f} dB ({steps}) |" in table  # the steps its budget bought

"""The experiment contract, the registry, artefacts resolved once, and the index page."""

import ast
import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from inrdict import cli
from inrdict.experiments import REGISTRY, check_contract, reproduce_order
from inrdict.experiments._evidence import evaluate
from tests._claims import satisfied_claims

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam



@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_experiment_follows_the_contract(name):
    check_contract(REGISTRY[name])


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_experiment_imports_another():
    modules = {module.__name__ for module in REGISTRY.values()}
    for module in REGISTRY.values():
        others = modules - {module.__name__}
        imported = _imports(Path(module.__file__))
        assert not imported & others, f"{module.__name__} imports {imported & others}"


def test_producers_run_before_the_experiments_that_need_them():
    order = reproduce_order()
    assert sorted(order) == sorted(name for name, module in REGISTRY.items() if getattr(module, "IN_REPRODUCE", True))
    assert not {"analyse", "families", "predictors", "reptile", "suggest", "regret", "fit", "grid_psf", "grid_psf_training", "grid_spectrum"} & set(order)  # tools and sweeps
    for name in order:
        for required in getattr(REGISTRY[name], "REQUIRES", ()):
            assert order.index(required) < order.index(name)


TINY = {
    "meta": dict(grid_size=8, steps=2, eval_every=1, checkpoint_every=1, hidden=(16, 16)),
    "2": dict(image_size=16, steps=2, eval_every=1, hidden=(8, 8), rff_features=8),
    "3": dict(steps=2, eval_every=1, hidden=(8,)),
    "4": dict(grid_size=8, siren_omegas=(5.0, 40.0, 100.0), n_seeds=1, iterations=3),
    "10": dict(grid_size=8, siren_omegas=(5.0, 40.0, 100.0), n_seeds=1, iterations=4),  # > psnr_iteration: a claim
    "11": dict(grid_size=8, ffn_sigmas=(1.0, 10.0), ffn_features=8, n_seeds=1, iterations=3),
    "12": dict(grid_size=8, siren_omegas=(5.0, 40.0, 100.0), n_seeds=1, iterations=3),
    "linearised": dict(grid_size=8, siren_omegas=(30.0,), iterations=3),
    "5": dict(grid_size=8, siren_omegas=(5.0, 30.0), ffn_sigmas=(1.0,), n_eigenvectors=3),
    "theorem1": dict(seeds=1, max_depth=2, ja_max_order=30, siren_steps=20, max_harmonic=8),
    "families": dict(models=("siren", "gauss"), sweep_factors=(2.0,), parameters=1000, grid_size=8, n_test=4,
                     iterations=3, n_eigenvectors=3, alias_hidden=(8,), alias_steps=2),
    "predictors": dict(models=("relu", "siren", "gauss"), parameters=1000, grid_size=8, n_test=4, n_select=3, n_seeds=2,
                       learning_rates=(1e-4, 1e-3), n_bootstrap=50),
    "family_comparison": dict(models=("relu", "siren", "gauss"), parameters=1000, grid_size=8, n_test=3, n_select=2,
                              knob_factors=(1.0,), lr_factors=(1.0,), max_extensions=1, select_iteration=2,
                              iterations=(2,), n_bootstrap=50),
    "reptile": dict(grid_size=8, steps=2, inner_steps=(2,), epsilons=(1.0,), n_test=4, n_validation=2),
    "analyse": dict(hidden=(16, 16), grid_size=8, n_test=4, iterations=3, n_eigenvectors=3, alias_hidden=(8,),
                    alias_steps=2, fit_size=8, fit_steps=2),
    "suggest": dict(size=16, window=8, windows=1, hidden=(8, 8)),
    "regret": dict(families=("gauss",), kinds=("image", "series"), max_signals=1, image_size=16, series_size=64, volume_size=10, width=8,
                   train_steps=4, eval_every=2, n_seeds=3, windows=1, projection_size=24, timing_repeats=1,
                   bootstrap=20),
    "fit": dict(size=16, steps=4, hidden=(8, 8)),
    "grid_psf": dict(grid_size=32, levels=4, n_avg_fixed=12.0, n_max_sweep=(16.0, 32.0), n_max_fixed=32.0,
                     n_avg_sweep=(12.0, 24.0), anisotropy_n_min=4, anisotropy_n_max=16.0, table_n_min=8,
                     table_n_max=32.0, log2_tables=(6, 12), n_centers=2, n_seeds=2),
    "grid_psf_training": dict(grid_size=32, levels=4, n_min=4, n_max=16.0, log2_table=6, adam_steps=(1, 10),
                              n_centers=2, n_seeds=2),
    "grid_spectrum": dict(ntk_grid=8, levels=3, n_min=4, n_max=16.0, images=("camera",), image_size=16, steps=4,
                          n_seeds=2),
    "pretrain": dict(grid_size=8, steps=(1, 2, 3)),
    "13": dict(grid_size=8, n_seeds=1, n_test=5, iterations=3),
    "14": dict(grid_size=8, n_seeds=1, n_test=5, iterations=3),
    "15": dict(grid_size=8, max_index=8, index_stride=4, steps=3),
    "16": dict(grid_size=8, n_test=5, n_eigenvectors=3, n_seeds=1),
    "6": dict(image_size=16, steps=2, eval_every=1, hidden=(8, 8), random_features=8, crop=8),
    "7": dict(image_size=16, steps=2, eval_every=1, hidden=(8, 8), random_features=8, crop=8),
    "8": dict(image_size=16, steps=2, eval_every=1, hidden=(8, 8), rff_features=8, crop=8),
    "9": dict(steps=2, eval_every=1, ffn_frequencies=4, ffn_hidden=(8,)),
    "aliasing": dict(steps=2, siren_omega0s=(30.0, 300.0), ffn_sigmas=(3.0, 100.0), n_seeds=1, siren_hidden=(8,),
                     ffn_frequencies=4, ffn_hidden=(8,)),
}


@pytest.fixture
def tiny_presets(monkeypatch, tmp_path):
    """Every experiment's default preset shrunk to seconds; a private artefact cache."""
    assert set(TINY) == set(REGISTRY), "add the new experiment to TINY"
    for name, changes in TINY.items():
        module = REGISTRY[name]
        monkeypatch.setitem(module.PRESETS, "default", dataclasses.replace(module.PRESETS["default"], **changes))
    monkeypatch.setenv("INRDICT_CACHE_DIR", str(tmp_path / "cache"))


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.sections, self.text, self.scripts = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "section":
            self.sections.append(attrs["id"])
        elif tag == "script":
            self.scripts += 1

    def handle_data(self, data):
        self.text.append(data)


def test_reproduce_learns_the_meta_siren_once_and_figure_4_reuses_it(tiny_presets, tmp_path, capsys):
    out = tmp_path / "figures"
    assert cli.main(["reproduce", "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    # The MAML SIREN by the meta experiment, first (Figs. 4, 5, 10 and the linearised study reuse it); the FFN and the
    # Reptile SIREN by Figs. 11 and 12, the first experiments that need them; the pretrained SIRENs by "pretrain" (Figs.
    # 13, 14 and 16 reuse them).
    assert stdout.count("learning it now") == 4, stdout
    assert stdout.count("No finished siren30-lfw8-3faces-3steps") == 1
    assert stdout.count("No finished maml-siren-lfw8") == 1 and "No finished maml-ffn1-lfw8" in stdout
    assert "No finished reptile-siren-lfw8" in stdout
    assert stdout.index("Meta: ") < stdout.index("Figure 4: ")
    artefact = Path(json.loads((out / "meta_learning" / "results.json").read_text())["numbers"]["artefact"])
    stamp = artefact.stat().st_mtime_ns
    reproduced = [REGISTRY[name] for name in reproduce_order()]
    for module in reproduced:
        assert (out / module.NAME / "results.json").is_file()
    # A later standalone run of the same preset finds the same file: no second meta-learning.
    assert cli.main(["figure", "4", "--out", str(tmp_path / "alone"), "--no-progress"]) == 0
    assert "learning it now" not in capsys.readouterr().out
    assert artefact.stat().st_mtime_ns == stamp
    # The index page: one section per experiment, its picture, its claims; no scripts.
    page = _Page()
    page.feed((out / "index.html").read_text())
    assert set(page.sections) == {module.NAME for module in reproduced} and page.scripts == 0
    assert all((out / src).is_file() for src in page.images) and len(page.images) == len(reproduced)
    text = " ".join(page.text)
    assert "Claims" in text and ("holds" in text or "fails" in text or "inconclusive" in text)
    assert "full_basis_captures_all_energy" in text  # figure 4's sanity check, listed apart from its claims
    # Every claim of every experiment can fail (those outside `reproduce`: test_contract_tools.py).
    check_every_claim_can_fail(out, reproduce_order())
    # The findings page: a table per experiment found, every claim in it with a computed verdict.
    check_findings_page(out, reproduce_order(), tmp_path / "findings.md")
    assert cli.main(["findings", str(tmp_path / "nothing_here"), "--out", str(tmp_path / "none.md")]) == 2


def check_findings_page(out: Path, names: list[str], page_path: Path) -> str:
    """`inrdict findings` of `out`: a table per experiment of `names`, every claim in it with a computed verdict."""
    assert cli.main(["findings", str(out), "--out", str(page_path)]) == 0
    page = page_path.read_text()
    for name in names:
        module = REGISTRY[name]
        assert f"## {module.NAME} — `inrdict figure {name}`" in page
        claims = json.loads((out / module.NAME / "results.json").read_text())["claims"]
        assert all(f"| `{claim}`" in page for claim in claims)
    verdicts = [line.rsplit("**", 2)[-2] for line in page.splitlines() if line.startswith("| `")]
    assert verdicts and set(verdicts) <= {"reproduces", "reproduces only under a named deviation", "does not reproduce",
                                          "inconclusive", "not run"}  # fmt: skip
    return page


def _paths(node, path=()):
    """Every place of a results' `numbers` a claim may read: scalars, None, and lists (whole, and per element
    when short)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        yield path
        if len(node) <= 64:
            for index, value in enumerate(node):
                yield from _paths(value, (*path, index))
    elif node is None or isinstance(node, (bool, int, float)) or node in ("nan", "inf", "-inf"):
        yield path


def _perturbations(value):
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, (int, float)):
        return [-value, value + 1e3, value - 1e3, 10 * value + 1, 0.5 * value, 1.5 * value, 0, None, "nan"]
    if value is None or isinstance(value, str):
        return [0.0, 1e3, -1e3, [], "nan"]
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return [value[::-1], sorted(value), sorted(value, reverse=True), [-v for v in value], [v + 1e3 for v in value],
                [v * (1 + i) for i, v in enumerate(value)]]  # fmt: skip
    return [value[::-1]] if isinstance(value, list) else []


def claims_that_cannot_fail(module, numbers: dict, config) -> list[str]:
    """The claims of `numbers` that hold and that no single perturbation of one number (or one list) flips: a claim
    true whatever was measured belongs in `sanity`."""
    holding = {name for name, value in satisfied_claims(module, numbers, config).items() if value}
    for path in list(_paths(numbers)):
        if not holding:
            break
        parent = numbers
        for key in path[:-1]:
            parent = parent[key]
        original = parent[path[-1]] if path else None
        for changed in _perturbations(original):
            parent[path[-1]] = changed
            try:
                flipped = {name for name, value in satisfied_claims(module, numbers, config).items() if value is False}
            except Exception:  # a perturbation a claim cannot read (a string where a number was): no evidence
                flipped = set()
            finally:
                parent[path[-1]] = original
            holding -= flipped
    return sorted(holding)


def check_every_claim_can_fail(out: Path, names: list[str]) -> None:
    """Each experiment's claims on its tiny default results in `out`: re-evaluated from results.json they give what
    was recorded, and every claim that holds is flipped by perturbing some number it reads."""
    for name in names:
        module = REGISTRY[name]
        folder = name if name in ("analyse", "suggest", "fit") else module.NAME
        results = json.loads((out / folder / "results.json").read_text())
        config = module.PRESETS["default"]
        recomputed = evaluate(module, results["numbers"], config)
        assert {k: e["outcome"] for k, e in recomputed.items()} == {k: e["outcome"] for k, e in results["evidence"].items()}, name
        assert not claims_that_cannot_fail(module, results["numbers"], config), name


def test_the_can_fail_check_catches_a_claim_true_by_construction():
    class Planted:
        NAME = "figure_3"  # borrows two of Fig. 3's ledger entries (> 30 dB, < 30 dB)

        @staticmethod
        def claims(numbers, config):
            return {"both_fit_training_samples": numbers["psnr"], "large_omega0_aliases_within_30db": min(numbers["count"], 0)}

    failing = claims_that_cannot_fail(Planted, {"psnr": 35.0, "count": 3}, None)
    assert failing == ["large_omega0_aliases_within_30db"]


def test_index_of_a_folder_without_runs_is_refused(tmp_path, capsys):
    assert cli.main(["index", str(tmp_path)]) == 2
    assert "no finished runs" in capsys.readouterr().err


def test_list_names_every_experiment(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name, module in REGISTRY.items():
        assert module.TITLE in out and f"default ≈ {module.DEFAULT_SECONDS} s" in out

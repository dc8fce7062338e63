"""Single-image pretraining (the "pretrain" artefact) and Figs. 13–16 on the embedded faces, cut to test size."""

import contextlib
import dataclasses
import io
import json

import jax
import numpy as np
import pytest

import inrdict
from inrdict.errors import InrdictError
from inrdict.experiments.paper import figure13, figure14, figure15, figure16, pretraining
from inrdict.experiments._run import run_experiment
from inrdict.experiments.studies import pretrained as _pretrained
from inrdict.experiments.studies.rows import siren_row
from inrdict.io import checkpoints, data
from tests._claims import satisfied_claims, seeds_hold

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam

# The default pretraining with a 60-step long run (instead of 500) for the figure tests.
SHORT = dataclasses.replace(pretraining.DEFAULT, steps=(5, 20, 60))


@pytest.fixture(scope="module")
def short_pretraining():
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(pretraining.PRESETS, "default", SHORT)
        yield


@pytest.fixture(scope="module")
def figure_13(short_pretraining, short_meta_run, tmp_path_factory):
    """Fig. 13's default rows on 8 held-out faces, 1 random seed, 3 fine-tuning updates, float32; the short meta run."""
    _, meta_out = short_meta_run
    config = dataclasses.replace(figure13.DEFAULT, n_seeds=1, n_test=8, iterations=3, precision="float32",
                                 meta_checkpoint=str(meta_out / "meta_siren.npz"))  # fmt: skip
    out = tmp_path_factory.mktemp("runs") / "figure_13"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        results = run_experiment(figure13, config, out, progress=False)
    return results, config, out, printed.getvalue()


def test_pretraining_checkpoints_are_prefixes_of_one_fit_run(tmp_path):
    """The 5-step checkpoint is `inrdict.fit` for 5 steps; the 8-step one continues the same Adam run; a second
    `learn` in the same folder resumes: finished faces are not trained again."""
    config = dataclasses.replace(pretraining.DEFAULT, grid_size=16, face_indices=(1, 4), steps=(2, 5, 8))
    pretraining.learn(config, tmp_path, progress=False)
    face = _pretrained.pretraining_faces("lfw", 16, None, 0, (1,))[0]
    reference = inrdict.fit(siren_row(30.0, 0), data.ntk_grid(16), face.reshape(-1, 1), steps=5, learning_rate=1e-4,
                            monitor=inrdict.Monitor(progress=False))  # fmt: skip
    saved = checkpoints.load_weights(tmp_path / _pretrained.checkpoint_name(1, 5))
    for ours, theirs in zip(jax.tree_util.tree_leaves(saved), jax.tree_util.tree_leaves(reference.model)):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-7)
    record = json.loads((tmp_path / "training.json").read_text())
    curve = record["faces"][0]["train_psnr_db"]
    assert len(curve) == 9 and curve[:5] == pytest.approx(list(reference.train_psnr_db), abs=1e-3)
    assert curve[5] == pytest.approx(reference.final_eval_psnr_db, abs=0.01)
    manifest = json.loads((tmp_path / pretraining.ARTEFACT).read_text())
    assert [(e["face_index"], e["steps"]) for e in manifest["checkpoints"]] == [(1, 2), (1, 5), (1, 8), (4, 2), (4, 5), (4, 8)]
    stamp = (tmp_path / _pretrained.checkpoint_name(1, 8)).stat().st_mtime_ns
    (tmp_path / _pretrained.checkpoint_name(4, 8)).unlink()  # interrupted during face 4
    pretraining.learn(config, tmp_path, progress=False)
    assert (tmp_path / _pretrained.checkpoint_name(1, 8)).stat().st_mtime_ns == stamp
    assert (tmp_path / _pretrained.checkpoint_name(4, 8)).is_file()


def test_pretraining_config_is_validated():
    with pytest.raises(InrdictError, match="increasing"):
        dataclasses.replace(pretraining.DEFAULT, steps=(50, 5))
    with pytest.raises(InrdictError, match="distinct"):
        dataclasses.replace(pretraining.DEFAULT, face_indices=(2, 2))


def test_figure_13_rows_and_robust_claims(figure_13):
    """Rows, the spread over the 3 pretraining images, and the claim that holds with a 30-step meta SIREN: its E(0.1)
    beats every pretrained initialisation (measured on the default preset: 0.986 vs ≤ 0.83; the PSNR@3 lead too,
    23.8 vs ≤ 20.4 dB). Negative transfer is recorded, not asserted: on 32² LFW faces it is driven by one face."""
    results, _, out, printed = figure_13
    numbers, claims = results["numbers"], results["claims"]
    assert list(numbers["models"]) == ["SIREN ω0=30", "Pretrained 5 it", "Pretrained 20 it", "Pretrained 60 it", "Meta SIREN"]
    for label in numbers["pretraining"]["labels"]:
        m = numbers["models"][label]
        assert m["n_seeds"] == 3 and len(m["psnr_at_k_per_seed"]) == 3 and m["finetune_optimizer"] == "adam"
        assert m["finetune_learning_rate"] == 1e-4
    assert numbers["models"]["Meta SIREN"]["finetune_optimizer"] == "gd"
    assert seeds_hold(results, "meta_beats_every_pretrained_energy_at_0.1"), results["evidence"]
    assert results["evidence"]["meta_beats_every_pretrained_energy_at_0.1"]["n"] == 3  # one value per pretraining face
    assert set(claims) >= {"energy_at_0.1_falls_as_pretraining_grows", "psnr_at_3_falls_as_pretraining_grows"}
    assert {row["paper"] for row in results["versus_paper"] if "Pretrained 60 it" in row["quantity"]} == {13.50}
    assert (out / "energy_concentration.png").is_file() and (out / "energy_and_psnr.pdf").is_file()
    assert printed.count("learning it now") == 1 and "No finished siren30-lfw32-3faces-60steps" in printed


def test_figures_14_and_16_reuse_the_pretrained_sirens(figure_13, tmp_path):
    """The pretrained SIRENs are learned once: Figs. 14 and 16 find them (and Fig. 14 every curve in the cache)."""
    results, config, _, _ = figure_13
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        fourteen = run_experiment(figure14, figure14.Config(**dataclasses.asdict(config)), tmp_path / "figure_14", progress=False)
        sixteen_config = dataclasses.replace(figure16.DEFAULT, n_seeds=1, n_test=8, precision="float32",
                                             meta_checkpoint=config.meta_checkpoint)  # fmt: skip
        sixteen = run_experiment(figure16, sixteen_config, tmp_path / "figure_16", progress=False)
    assert "learning it now" not in printed.getvalue()
    models = fourteen["numbers"]["models"]
    assert all(m["seconds"]["all_cached"] for m in models.values())
    assert [m["psnr_at_k"] for m in models.values()] == [m["psnr_at_k"] for m in results["numbers"]["models"].values()]
    assert (tmp_path / "figure_14" / "overview.png").is_file()
    # Fig. 16: one row per initialisation; pretraining pulls the top eigenvectors towards the pretraining face
    # (measured on the default preset: random start 0.33 → 0.73 / 0.90 / 0.91 after 5 / 50 / 500 steps).
    rows = sixteen["numbers"]["models"]
    assert len(rows) == 1 + 9 + 2 and list(rows)[-1] == "Meta SIREN (Reptile)"
    assert seeds_hold(sixteen, "pretrained_top_eigenvectors_hold_their_face_more_than_the_random_start"), rows
    energy = sixteen["numbers"]["own_face_energy_by_duration"]
    assert energy[0] < 0.5 < energy[1] < energy[2], energy
    with np.load(tmp_path / "figure_16" / "arrays.npz") as arrays:
        assert arrays["model_0_eigenvectors"].shape == (10, 32, 32)
    assert (tmp_path / "figure_16" / "overview.png").is_file()


def test_fit_targets_is_fit_for_every_target():
    """The vmapped route gives each target the PSNR curve of `inrdict.fit` on it alone."""
    model, points = siren_row(30.0, 0), data.ntk_grid(8)
    targets = np.asarray(jax.random.uniform(jax.random.key(3), (3, 64)), np.float32)
    curves = figure15.fit_targets(model, points, targets, steps=6, targets_per_chunk=2)
    assert curves.shape == (3, 7)
    for target, curve in zip(targets, curves):
        alone = inrdict.fit(model, points, target[:, None], steps=6, learning_rate=1e-4,
                            monitor=inrdict.Monitor(progress=False))  # fmt: skip
        np.testing.assert_allclose(curve[:-1], alone.train_psnr_db, atol=1e-3)
        assert curve[-1] == pytest.approx(alone.final_eval_psnr_db, abs=1e-3)


def test_figure_15_curves(tmp_path):
    """A random SIREN-30 at 16²: targets in [0, 1], the PSNR recorded per index and the claims keyed by row."""
    config = dataclasses.replace(figure15.DEFAULT, grid_size=16, max_index=60, index_stride=20, steps=10, learned_meta=False)
    results = run_experiment(figure15, config, tmp_path / "figure_15", progress=False)
    numbers = results["numbers"]
    assert numbers["indices"] == [0, 20, 40, 60] and list(numbers["models"]) == ["SIREN ω0=30"]
    m = numbers["models"]["SIREN ω0=30"]
    assert len(m["final_psnr_db"]) == 4 and all(b > a for a, b in zip(m["initial_psnr_db"], m["final_psnr_db"]))
    assert set(results["claims"]) == {"siren_ω0=30_psnr_falls_with_index_spearman_le_-0.5"}
    targets = figure15.eigenvector_targets(np.linalg.qr(np.random.default_rng(0).normal(size=(16, 4)))[0], "minmax", 0.25)
    assert targets.min(axis=1) == pytest.approx(0.0) and targets.max(axis=1) == pytest.approx(1.0)
    assert (tmp_path / "figure_15" / "overview.png").is_file()


def test_claims_can_fail():
    falls = {"energy_at_0.1_per_seed": [0.5], "psnr_at_k_per_seed": [20.0], "kind": "random"}
    numbers = {"pretraining": {"random_label": "SIREN ω0=30", "labels": ["Pretrained 5 it"], "durations": [5]},
               "models": {"SIREN ω0=30": falls,
                          "Pretrained 5 it": {**falls, "energy_at_0.1_per_seed": [0.6], "psnr_at_k_per_seed": [21.0]},
                          "Meta SIREN": {"energy_at_0.1_per_seed": [0.55], "psnr_at_k_per_seed": [20.5], "kind": "meta"}}}  # fmt: skip
    assert not any(satisfied_claims(figure13, numbers, figure13.DEFAULT).values())
    flat = {"models": {"SIREN ω0=30": {"spearman_index_vs_psnr": 0.3, "final_psnr_db": [1.0] * 13},
                       "Meta SIREN": {"spearman_index_vs_psnr": -0.4, "final_psnr_db": [1.0] * 13}}}  # fmt: skip
    assert not any(satisfied_claims(figure15, numbers=flat, config=figure15.DEFAULT).values())

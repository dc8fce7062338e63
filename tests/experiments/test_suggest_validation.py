"""`inrdict figure regret`: the declared sets meet the issue's minimums and keep design and held-out apart, the
signed distance fields are distance fields, the seed-batched reference training is `fit`'s training, and every
choice is made on one quarter of the samples and scored on the other."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from inrdict.analysis import fitting
from inrdict.analysis import suggest as knob_suggest
from inrdict.analysis.suggest import default_values
from inrdict.errors import InrdictError
from inrdict.experiments.beyond import suggest_validation as sv
from inrdict.experiments.studies import regret
from inrdict.io import data
from inrdict.train.fit import Monitor, fit
from inrdict.train.recipes import optimizer, recipe


def test_the_declared_sets_meet_the_issues_minimums_and_keep_design_apart():
    declared = regret.declared_sets()
    names = [e.name for e in declared]
    assert len(names) == len(set(names))
    held = {k: regret.entries("held_out", k) for k in regret.KINDS}
    assert len(held["image"]) >= 20 and len(held["series"]) >= 8 and len(held["volume"]) >= 5
    assert sum(e.loader.startswith("file:") for e in held["volume"]) >= 3  # real volumes beside the SDFs
    categories = " ".join(e.category for e in held["image"])
    for needed in ("photograph", "medical", "face", "line art"):
        assert needed in categories, needed
    used = set(data.BUNDLED_IMAGES) - {"retina"}  # every bundled image but retina shaped an earlier design
    assert not {e.loader.partition(":")[2] for e in declared if e.split == "held_out"} & used
    assert all(e.origin and e.licence for e in declared)
    for entry in declared:
        how, _, what = entry.loader.partition(":")
        assert how in ("file", "bundled", "sdf"), entry
        assert how != "file" or (regret.SETS_DIR / what).is_file(), entry


@pytest.mark.parametrize("shape", ["sphere", "box", "torus", "octahedron", "capped_cylinder", "capsule_pair",
                                   "box_frame"])  # fmt: skip
def test_signed_distance_fields_are_distance_fields(shape):
    """Negative inside, positive at the corners, and |∇d| ≈ 1 wherever the field is smooth (the eikonal equation;
    the octahedron's bound is exact only near its faces, so there |∇d| = 1 on the faces' normals)."""
    n = 48
    d = regret.sdf(shape, n)
    assert d.shape == (n, n, n) and d.min() < 0 < d[0, 0, 0]
    gradient = np.linalg.norm(np.stack(np.gradient(d, 2.0 / (n - 1))), axis=0)
    assert np.median(gradient) == pytest.approx(1.0, abs=0.05)


def test_the_score_quarter_is_shared_by_the_seeds_and_the_rest_is_split_per_seed():
    train, select, score = regret.sample_splits(1001, 3, 0)
    assert (train.size, select.size, score.size) == (500, 250, 251)
    assert np.array_equal(np.sort(np.concatenate([train, select, score])), np.arange(1001))
    assert all(np.array_equal(a, b) for a, b in zip(regret.sample_splits(1001, 3, 0), (train, select, score)))
    other = regret.sample_splits(1001, 4, 0)
    assert np.array_equal(other[2], score) and not np.array_equal(other[0], train)  # no seed chooses on score samples
    assert not np.array_equal(regret.sample_splits(1001, 3, 1)[2], score)


@pytest.mark.standard_promotion  # Optax's Adam
def test_the_seed_batched_reference_training_is_fits_training():
    """Seed by seed, `train_seeds` gives the score-quarter PSNR that `inrdict.fit` reaches with the same model, the
    same recipe's optimiser and the same samples (a cross-check of two implementations)."""
    rows, cols = np.meshgrid(np.arange(16) / 16, np.arange(16) / 16, indexing="ij")
    image = 0.5 + 0.3 * np.sin(2 * np.pi * 2 * rows) * np.cos(2 * np.pi * cols)
    run, points = recipe("gauss"), fitting.grid((16, 16))
    splits = [regret.sample_splits(256, s, 0) for s in range(2)]
    models = [fitting.build("gauss", 2, run, 10.0, (16, 16), seed=s)[0] for s in range(2)]
    select, score = regret.train_seeds(models, points, image, splits, run, steps=40, every=20)
    assert select.shape == score.shape == (2, 3) and np.all(score[:, -1] > score[:, 0] + 1)
    targets = run.to_target(image.reshape(-1, 1))
    for s, (train, _, scored) in enumerate(splits):
        result = fit(models[s], points[train], targets[train], steps=40, optimizer=optimizer(run, 256, 40),
                     monitor=Monitor(points[scored], targets[scored], every=20, progress=False))  # fmt: skip
        np.testing.assert_allclose(fitting.unit_psnr(run, result.eval_psnr_db), score[s, 1:], atol=0.02)


def _unit(select_final, score_final, early=None, values=(7.5, 15.0, 30.0, 60.0, 120.0)):
    """A synthetic unit over five octaves (default: SIREN's at 128², centre 30), with curves ending at the given
    means (2 seeds, 3 points); the argmax and the suggestion are the second value, the default the third."""
    values = np.asarray(values)
    early = np.zeros(5) if early is None else np.asarray(early)
    curve = lambda final: np.stack([early, (early + final) / 2, final], axis=1)  # noqa: E731
    select = np.repeat(curve(np.asarray(select_final))[:, None], 2, axis=1)
    score = np.repeat(curve(np.asarray(score_final))[:, None], 2, axis=1)
    return {"values": values, "octaves": values, "argmax": values[1], "suggestion": values[1], "default": values[2],
            "select": select, "score": score, "train_seconds": np.ones(5), "suggest_seconds": np.asarray(1.0),
            "scored_values": values, "predicted": np.array([1.0, 3.0, 2.0, 0.0, -1.0]), "longest": np.asarray(128)}  # fmt: skip


def test_choices_are_made_on_the_select_quarter_and_scored_on_the_other(monkeypatch):
    monkeypatch.setattr(sv, "BEST_CONSTANT", {})  # that baseline has its own test
    config = dataclasses.replace(sv.DEFAULT, train_steps=40, eval_every=20)
    # select prefers 60; score prefers 30: the reference is 60 (its choice), scored 29; the suggestion (15) scores 27
    unit = _unit([20, 25, 28, 30, 22], [21, 27, 31, 29, 20], early=[5, 9, 1, 1, 1])
    row = sv.per_signal(unit, config, "image", "siren", budget=8)
    assert row["value"] == {"suggestion": 15.0, "uncalibrated": 15.0, "default": 30.0, "reference": 60.0,
                            "short_search": 15.0}  # fmt: skip
    assert row["regret_db"] == pytest.approx(2.0) and row["psnr"]["default"] == pytest.approx(31.0)
    assert row["short_search_steps"] == 0 and row["short_search_budget"] == 8  # < eval_every: the initial point
    assert (
        sv.per_signal(unit, config, "image", "siren", budget=40)["value"]["short_search"] == 60.0
    )  # step 40: 60 leads
    assert row["spearman_predicted_vs_trained"] == pytest.approx(
        regret.spearman([1, 3, 2, 0, -1], [21, 27, 31, 29, 20])
    )
    summary = sv.aggregate([row, row], config, 0)
    assert summary["median_regret_db"] == pytest.approx(2.0) and summary["within_1db"] == 0.0
    assert summary["gain_over_default_db"] == pytest.approx(-4.0) and summary["wins_over_default"] == 0.0
    assert summary["in_sample_best_constant_factor"] == 2.0  # select prefers 60, the lattice centre is 30
    assert summary["in_sample_shift_octaves"] == 2.0  # the reference (60) is two octaves above the argmax (15)


def test_the_best_constant_is_an_octave_read_at_each_signals_resolution(monkeypatch):
    monkeypatch.setitem(sv.BEST_CONSTANT, "siren", {"image": 0.5})
    assert sv.constant_value("siren", "image", 128) == 15.0 and sv.constant_value("siren", "image", 512) == 60.0
    row = sv.per_signal(_unit([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),
                        dataclasses.replace(sv.DEFAULT, train_steps=40, eval_every=20), "image", "siren", budget=0)  # fmt: skip
    assert row["value"]["best_constant"] == 15.0
    design = dataclasses.replace(sv.DEFAULT, split="design", train_steps=40, eval_every=20)  # where it is chosen
    assert "best_constant" not in sv.per_signal(_unit([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]), design, "image", "siren", 0)["value"]
    monkeypatch.setitem(sv.BEST_CONSTANT, "siren", {"image": 0.75, "series": 2.0**-4})
    with pytest.raises(InrdictError, match="not an octave"):
        sv.constant_value("siren", "image", 128)
    assert sv.constant_value("siren", "series", 1024) == default_values("siren", 1024, dim=1)[0] == 1.88  # the 1-D lattice


def test_a_calibrated_suggestion_off_the_trained_values_is_trained_on_its_own(monkeypatch, tmp_path):
    """The unit keeps the argmax; the calibrated value (a half-octave of the lattice) is trained once (cached) and
    merged in order, in every array."""
    monkeypatch.setenv("INRDICT_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(knob_suggest.SHIFT_OCTAVES, ("siren", 2), -0.5)
    calls = []

    def fake_trained(signal, family, values, config):
        calls.append(list(values))
        return np.full((1, 2, 3), 99.0), np.full((1, 2, 3), 98.0), np.full(1, 7.0)

    monkeypatch.setattr(sv, "_trained", fake_trained)
    octaves = default_values("siren", 128)[::2][:5]  # 1.88 … 30, the argmax 3.75
    unit, config, image = _unit([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], values=octaves), sv.DEFAULT, np.zeros((128, 128))
    merged = sv._with_suggestion(unit, ("key",), image, "siren", config)
    assert float(merged["suggestion"]) == 2.65 and float(merged["argmax"]) == 3.75 and calls == [[2.65]]
    assert list(merged["values"]) == [1.88, 2.65, 3.75, 7.5, 15.0, 30.0]  # 2.65: the lattice's half-octave
    assert merged["select"][1, 0, -1] == 99.0 and merged["score"][1, 0, -1] == 98.0 and merged["train_seconds"][1] == 7.0
    assert merged["score"][2, 0, -1] == 2.0 and merged["train_seconds"][2] == 1.0  # the argmax's row moved down one
    sv._with_suggestion(unit, ("key",), image, "siren", config)
    assert len(calls) == 1  # read back from the cache
    monkeypatch.setitem(knob_suggest.SHIFT_OCTAVES, ("siren", 2), 1.0)  # onto a trained value: nothing to train
    assert float(sv._with_suggestion(unit, ("key",), image, "siren", config)["suggestion"]) == 7.5
    assert len(calls) == 1
    design = dataclasses.replace(config, split="design")  # where the shift is fit: never applied there
    assert float(sv._with_suggestion(unit, ("key",), image, "siren", design)["suggestion"]) == 3.75
    assert len(calls) == 1


def test_the_calibration_and_the_best_constants_are_the_committed_design_runs():
    """SHIFT_OCTAVES and BEST_CONSTANT are the design runs' in-sample numbers, as committed (never the held-out's)."""
    root = Path(__file__).resolve().parents[2] / "results" / "variants"
    runs = {"image": "design", "volume": "design", "series": "design_series"}
    for kind, preset in runs.items():
        results = json.loads((root / f"suggest_validation-{preset}" / "results.json").read_text())
        assert results["preset"] == preset and results["numbers"]["split"] == "design"
        for family, record in results["numbers"]["families"].items():
            k = record["kinds"][kind]
            assert knob_suggest.SHIFT_OCTAVES[(family, sv.DIM[kind])] == k["in_sample_shift_octaves"], (family, kind)
            assert sv.BEST_CONSTANT[family][kind] == k["in_sample_best_constant_factor"], (family, kind)

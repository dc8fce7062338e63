"""The grid encodings' training recipe (tiny-cuda-nn's image run: Adam lr 1e-2, β2 0.99, ε 1e-15, [0, 1]
coordinates and targets), its Adam settings reaching optax while every other recipe keeps PyTorch's, and
`suggest` / `fit` / `analyse` / `figure families` on the grid families."""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from inrdict.analysis import fitting
from inrdict.analysis.suggest import (
    RESOLUTION_FACTORS,
    SuggestOptions,
    default_values,
    lattice_centre,
    suggest,
)
from inrdict.cli import main
from inrdict.errors import InrdictError
from inrdict.experiments.beyond import families_compare
from inrdict.models import MODEL_NAMES, model_knobs
from inrdict.models import family as _family
from inrdict.models.family import Recipe
from inrdict.train import recipes

GRIDS = ("grid", "hashgrid")


def _updates(transformation, gradients, steps: int = 3):
    """The updates of `steps` steps of `transformation` on the same gradients, from zero parameters."""
    params = jnp.zeros_like(gradients)
    state = transformation.init(params)
    out = []
    for _ in range(steps):
        update, state = transformation.update(gradients, state, params)
        params = params + update
        out.append(np.asarray(update))
    return np.stack(out)


@pytest.mark.parametrize("name", GRIDS)
def test_the_grid_families_train_as_tiny_cuda_nns_image_sample(name):
    run = recipes.recipe(name)
    assert (run.learning_rate, run.adam, run.final_lr_factor) == (1e-2, (0.9, 0.99, 1e-15), 1.0)
    assert run.domain == (0.0, 1.0) == _family.get(name).domain and run.target_range == (0.0, 1.0)
    assert "data/config_hash.json" in run.source and "mlp_learning_an_image.cu" in run.source
    assert _family.get(name).knob == "n_max" and fitting.knob_default(name, run) == model_knobs(name)["n_max"]


@pytest.mark.standard_promotion  # Optax's Adam
def test_tcnns_epsilon_lets_a_tiny_gradient_take_a_full_step():
    """Adam's first step is −lr · g / (|g| + ε): with ε = 1e-15 a table entry's 1e-12 gradient moves it by the full
    lr (as Instant-NGP's rarely-touched hash entries need); with PyTorch's 1e-8 by 1e-4 of it. The recipe's settings
    reach optax: its updates are optax.adam's with those settings, bit for bit."""
    gradients = jnp.asarray([1e-12, -1e-12, 1.0], jnp.float32)
    grid_run = recipes.recipe("hashgrid")
    ours = _updates(recipes.optimizer(grid_run, pixels=100), gradients)
    np.testing.assert_array_equal(ours, _updates(optax.adam(1e-2, b1=0.9, b2=0.99, eps=1e-15), gradients))
    np.testing.assert_allclose(ours[0], [-1e-2, 1e-2, -1e-2], rtol=2e-3)  # lr · |g| / (|g| + ε)
    torch_default = _updates(optax.adam(1e-2), gradients)[0]
    np.testing.assert_allclose(torch_default[:2], [-1e-6, 1e-6], rtol=1e-3)


@pytest.mark.standard_promotion  # Optax's Adam
def test_every_other_recipe_keeps_pytorchs_adam_bit_for_bit():
    """The recipes before β and ε existed (every family of MODEL_NAMES) keep torch.optim.Adam's (0.9, 0.999, 1e-8),
    their optimiser's updates are those of the construction they had (`optax.adam(schedule)`) exactly, and one
    setting is still one object (jitted steps compile once)."""
    gradients = jax.random.normal(jax.random.key(0), (5,), jnp.float32)
    runs = [run for name in MODEL_NAMES for run in _family.get(name).recipes]
    assert len(runs) >= len(MODEL_NAMES)
    for run in runs:
        assert run.adam == (0.9, 0.999, 1e-8), run.name
        optimizer = recipes.optimizer(run, 4096, 50)
        assert optimizer is recipes.optimizer(run, 4096, 50)
        before = optax.adam(recipes.lambda_lr(run.initial_lr(4096), run.final_lr_factor, 50))
        np.testing.assert_array_equal(_updates(optimizer, gradients), _updates(before, gradients))


@pytest.mark.parametrize(("changes", "message"), [({"adam_b2": 1.0}, "adam_b1, adam_b2 < 1"),
                                                  ({"adam_eps": 0.0}, "adam_eps > 0")])  # fmt: skip
def test_bad_adam_settings_are_refused_in_one_line(changes, message):
    with pytest.raises(InrdictError, match=message) as error:
        Recipe("grid", "bad", 1e-2, 10, "this test", **changes)
    assert "\n" not in str(error.value)


def test_the_n_max_lattice_is_centred_on_one_cell_per_sample():
    """N_max's candidates: n samples per axis × 2^(−4 … 2) in half-octaves, those below N_min = 16 left out; not the
    reference N_max (7006 for hashgrid) scaled by n / 128."""
    assert lattice_centre("hashgrid", 256) == lattice_centre("grid", 256) == 256.0
    values = default_values("hashgrid", 256)
    assert values[0] == 16.0 and values[-1] == 1020.0 and 256.0 in values and len(values) == len(RESOLUTION_FACTORS)
    small = default_values("grid", 64)
    assert small[0] == 16.0 and small[-1] == 256.0 and len(small) == 9  # 4 … 11.3 fall below N_min
    with pytest.raises(InrdictError, match="every n_max candidate for 3 samples per axis lies below"):
        default_values("hashgrid", 3)
    assert default_values("siren", 256)[8] == 60.0  # the frequency knobs' lattice is unchanged: 30 × 256 / 128


def _image(size: int = 24) -> np.ndarray:
    """A smooth image with one edge: something a coarse grid fits and a finer one refines."""
    y, x = np.mgrid[0:size, 0:size] / size
    return np.sin(3 * np.pi * x) * np.cos(2 * np.pi * y) + (x > 0.6)


def test_suggest_scores_n_max_for_a_hash_grid_before_training():
    """Two N_max values on one window: finite predicted PSNRs, and the suggestion among them."""
    found = suggest("hashgrid", _image(), SuggestOptions(window=12, windows=1, hidden=(8, 8), values=(16.0, 48.0)))
    assert found.knob == "n_max" and found.recipe == "tcnn_image" and found.shape == (24, 24)
    assert np.all(np.isfinite(found.scores)) and found.value in (16.0, 48.0)


@pytest.mark.parametrize(("family", "values", "message"), [
    ("hashgrid", (8.0, 32.0), "n_max must be at least its N_min = 16"),
    ("relu", None, "relu has no frequency knob"),
])  # fmt: skip
def test_bad_n_max_requests_are_refused_in_one_line(family, values, message):
    with pytest.raises(InrdictError, match=message) as error:
        suggest(family, _image(), SuggestOptions(window=12, windows=1, values=values))
    assert "\n" not in str(error.value)


@pytest.mark.standard_promotion  # Optax's Adam
def test_fit_trains_a_hash_grid_with_its_recipe_at_its_own_size():
    """`fit` builds the family's own 64 × 64 head (not SIREN-matched widths) and follows the recipe. With cells of
    two samples (N_max = 16 on 32²) the held-out samples are interpolated: held-out PSNR rises by over 10 dB. With
    N_max = N_min = n = 16 every level puts a vertex on every sample (samples at k / n), so training touches only
    the training samples' own entries and the held-out prediction does not move: why the lattice stops where it
    does (`inrdict.analysis.suggest`)."""
    options = fitting.FitOptions(knob=16.0, steps=40, progress=False)
    fitted = fitting.fit("hashgrid", _image(32), options)
    assert fitted.run == recipes.recipe("hashgrid") and fitted.value == 16.0 and fitted.model.hidden == (64, 64)
    assert fitted.final_held_out_psnr_db > fitted.initial_held_out_psnr_db + 10.0
    on_vertices = fitting.fit("hashgrid", _image(16), options)
    assert on_vertices.train_psnr_db[-1] > on_vertices.train_psnr_db[0] + 10.0  # it memorises the training samples
    assert abs(on_vertices.final_held_out_psnr_db - on_vertices.initial_held_out_psnr_db) < 0.1


@pytest.mark.standard_promotion  # Optax's Adam
def test_analyse_fits_a_grid_encoding_with_its_recipe(tmp_path):
    """`analyse hashgrid`: the astronaut is fitted on [0, 1)² with the recipe's Adam (not the Fig. 2 grid [-1, 1)²
    at lr 1e-4, which puts three quarters of it outside the tables), and `--set n_max=` sets the knob."""
    sets = ["--set", "grid_size=8", "--set", "top_k=8", "--set", "n_test=2", "--set", "iterations=3", "--set",
            "n_eigenvectors=4", "--set", "alias_steps=5", "--set", "alias_hidden=8,8", "--set", "fit_size=8",
            "--set", "fit_steps=30", "--set", "hidden=8,8", "--set", "n_max=16", "--no-progress"]  # fmt: skip
    assert main(["analyse", "hashgrid", "--out", str(tmp_path / "run"), *sets]) == 0
    numbers = json.loads((tmp_path / "run" / "results.json").read_text())["numbers"]
    fit = numbers["fit"]
    assert fit["protocol"] == "recipe" and fit["recipe"]["adam_b1_b2_eps"] == [0.9, 0.99, 1e-15]
    assert fit["learning_rate"] == 1e-2 and fit["psnr_db"] > fit["psnr_curve_db"][0] + 5.0
    assert numbers["model"]["knobs"] == {"n_max": 16.0}


def test_the_figure2_fit_stays_for_the_papers_models_and_recipe_needs_a_family():
    from inrdict.experiments import analyse

    assert analyse.fit_protocol(analyse.Config(model="siren")) == "figure2"
    assert analyse.fit_protocol(analyse.Config(model="grid")) == "recipe"
    with pytest.raises(InrdictError, match="fit_protocol recipe needs a family name"):
        analyse.Config(model="pkg.mod:factory", fit_protocol="recipe")


def test_the_grids_preset_keeps_the_grid_families_own_sizes():
    """Grid rows cannot meet the SIREN budget: they keep the family's head and tables, are marked unmatched and
    are left out of the size check; the default preset's rows are unchanged."""
    assert families_compare.DEFAULT.models == MODEL_NAMES
    config = dataclasses.replace(families_compare.GRIDS, models=("siren", "grid"), sweep_factors=())
    rows = families_compare.rows_of(config)
    assert [r["model"].hidden for r in rows.values()] == [(256,) * 4, (64, 64)]
    matched = {"parameters": 198_401, "parameter_matched": True, "spectrum_route": "top_k"}
    grid = {"parameters": 1_000_000, "parameter_matched": False, "spectrum_route": "top_k"}
    assert families_compare.sanity({"models": {"siren": matched, "grid": grid}}, config)["parameter_counts_matched"]
    assert not families_compare.sanity({"models": {"grid": dict(grid, parameter_matched=True)}}, config)[
        "parameter_counts_matched"
    ]
    # the claims compare families at one budget: a run with rows at their own size does not measure them
    unmatched = families_compare.claims({"models": {"siren": matched, "grid": grid}}, config)
    assert len(unmatched) == 3 and all(value is None for value in unmatched.values())

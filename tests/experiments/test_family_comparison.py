"""The family comparison at a resolvable grid, on a tiny preset: the run's training recipe is what is trained (its
target range, measured back in [0, 1] units), the control starts every family from a zero output, the lr chosen
is the best tried on the selection faces, and the claims carry intervals."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inrdict.analysis import lens
from inrdict.errors import InrdictError
from inrdict.experiments.beyond import family_comparison as fc
from inrdict.experiments._run import run_experiment
from inrdict.io import data
from inrdict.train.recipes import recipe

pytestmark = pytest.mark.standard_promotion  # fine-tuning runs Optax's Adam

TINY = dict(models=("relu", "siren", "wire"), grid_size=8, n_test=3, n_select=2, knob_factors=(0.5, 1.0),
            lr_factors=(0.1, 1.0, 10.0), max_extensions=1, select_iteration=3, iterations=(3, 6), n_bootstrap=100,
            parameters=3000)  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("family_comparison") / "run"
    return run_experiment(fc, dataclasses.replace(fc.DEFAULT, **TINY), out, progress=False)


def _psnr01(prediction01: np.ndarray, images: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    return -10 * np.log10(np.mean((prediction01[None, held_out] - images[:, held_out]) ** 2, axis=1))


@pytest.mark.parametrize("name", ["siren", "wire"])
def test_psnr_is_measured_in_pixel_units_whatever_the_runs_target_range(name):
    """SIREN fits [-1, 1] (vsitzmann), WIRE [0, 1]: PSNR@0 equals the PSNR of the initial output mapped back to
    [0, 1], and the control's PSNR@0 that of a zero output in the run's range."""
    run, config = recipe(name), dataclasses.replace(fc.DEFAULT, **TINY)
    model, _ = fc.build(name, run, config, 1.0, seed=0)
    points = np.asarray(data.ntk_grid(8))
    images = np.stack([0.2 + 0.6 * points[:, 0], 0.8 - 0.5 * points[:, 1] * points[:, 0]]).astype(np.float32)  # smooth
    mask = lens.pixel_mask(64, 0, 0.5)
    initial = np.asarray(jax.vmap(model)(jnp.asarray(points))[:, 0])
    curve = fc.train_psnr(model, run, points, images, mask, run.learning_rate, 2)
    control = fc.train_psnr(model, run, points, images, mask, run.learning_rate, 2, control=True)
    assert np.allclose(curve[:, 0], _psnr01(run.from_target(initial), images, ~mask), atol=1e-3)
    assert np.allclose(control[:, 0], _psnr01(run.from_target(np.zeros(64)), images, ~mask), atol=1e-3)
    assert run.target_range == ((-1.0, 1.0) if name == "siren" else (0.0, 1.0))
    # The linearised predictor starts where the network does (same targets, same units), then moves.
    spectrum = lens.ntk_spectrum(model, points, lens.SpectrumOptions("dense"))
    linear = fc.linearised_psnr(spectrum, initial.astype(np.float64), run, images, mask, (0, 50))
    assert np.allclose(linear[0], curve[:, 0], atol=1e-3) and np.all(np.abs(linear[50] - linear[0]) > 0.1)


def test_claims_have_intervals_and_the_chosen_lr_is_the_best_tried(tiny_run):
    numbers, evidence = tiny_run["numbers"], tiny_run["evidence"]
    assert tiny_run["sanity"] == {"chosen_lr_is_the_best_tried": True}
    for name, f in numbers["families"].items():
        assert f["recipe"]["source"] == recipe(name).source
        tried = {float(k): v for k, v in f["selection_psnr_by_lr"].items()}
        assert max(tried, key=tried.get) == pytest.approx(f["learning_rate"], rel=1e-2)
        assert f["lr_optimum_inside"] == (min(tried) < f["learning_rate"] < max(tried))
    for k in TINY["iterations"]:
        for claim in (f"energy_predicts_tuned_psnr_at_{k}", f"energy_predicts_control_psnr_at_{k}",
                      f"psnr0_baseline_predicts_tuned_psnr_at_{k}"):  # fmt: skip
            judged = evidence[claim]
            low, high = judged["interval"]
            assert -1 <= low <= judged["mean"] <= high <= 1 and judged["outcome"] in ("holds", "fails", "inconclusive")
    assert numbers["families"]["siren"]["knobs"]["convention"] == "vsitzmann"  # the fitting convention


def test_bad_settings_are_refused_in_one_line():
    with pytest.raises(InrdictError, match="select_iteration"):
        dataclasses.replace(fc.DEFAULT, iterations=(3,), select_iteration=30)
    with pytest.raises(InrdictError, match="spectrum=stored"):
        dataclasses.replace(fc.DEFAULT, grid_size=128)


def test_a_sweep_extends_past_its_edge_until_the_best_is_inside():
    """A score peaked at 0.3, swept from (1, 2, 4) by ×2: extended to 0.5, 0.25 and 0.125, the best (0.25) is then
    inside; with one extension allowed it stops at the edge and says so."""
    score = lambda v: -((np.log(v) - np.log(0.3)) ** 2)  # noqa: E731
    best, tried, inside = fc.sweep((1.0, 2.0, 4.0), score, 2.0, 3)
    assert best == 0.25 and inside and sorted(tried) == [0.125, 0.25, 0.5, 1.0, 2.0, 4.0]
    best, tried, inside = fc.sweep((1.0, 2.0, 4.0), score, 2.0, 1)
    assert best == 0.5 and not inside and min(tried) == 0.5

"""Figs. 6–9: frozen and trained input mappings (small presets of the Fig. 2 protocol) and FFN aliasing (paper preset)."""

import dataclasses
import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inrdict.experiments.paper import figure6, figure7, figure8, figure9
from inrdict.experiments._run import run_experiment
from inrdict.experiments.studies import mappings as _mappings
from tests._claims import all_seeds_hold, seeds_hold

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam

SMALL = {"image_size": 32, "steps": 100, "eval_every": 50, "hidden": (64, 64), "crop": 16}
CONFIGS = {
    "6": dataclasses.replace(figure6.PRESETS["default"], random_features=64, **SMALL),
    "7": dataclasses.replace(figure7.PRESETS["default"], random_features=64, **SMALL),
    "8": dataclasses.replace(figure8.PRESETS["default"], rff_features=64, **SMALL),
    "9": dataclasses.replace(figure9.DEFAULT, n_seeds=2),  # the paper's protocol, 2 of the default's 5 seeds
}
MODULES = {"6": figure6, "7": figure7, "8": figure8, "9": figure9}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each figure run once (lazily); name → (folder, results)."""
    done = {}

    def run(name):
        if name not in done:
            out = tmp_path_factory.mktemp("runs") / MODULES[name].NAME
            done[name] = out, run_experiment(MODULES[name], CONFIGS[name], out, progress=False)
        return done[name]

    return run


def test_frozen_w0_identity_is_exactly_periodic_and_the_four_shift_average(runs):
    _, results = runs("6")
    assert all(all_seeds_hold(results).values()), results["evidence"]
    assert results["claims"]["a_odd_bins_empty"]  # deterministic (the frozen mapping's period): holds outright
    assert results["sanity"] == {"a_periodic_at_init": True}
    a, b = results["numbers"]["models"]["a"], results["numbers"]["models"]["b"]
    assert a["odd_bin_energy_fraction"] <= 1e-10 and b["odd_bin_energy_fraction"] > 1e-2
    assert a["psnr_db_vs_four_shift_average"] > a["psnr_db"] + 3.0
    assert not a["trained_mapping"] and "frequency_change" not in a


def test_trained_first_layer_leaves_periodicity_by_orders_of_magnitude(runs):
    _, frozen = runs("6")
    _, results = runs("7")
    assert all_seeds_hold(results) == {"a_leaves_periodicity": True} and results["sanity"] == {"a_periodic_at_init": True}
    a = results["numbers"]["models"]["a"]
    assert a["odd_bin_energy_fraction"] >= 1e3 * max(frozen["numbers"]["models"]["a"]["odd_bin_energy_fraction"], 1e-10)
    # Same initialisation as the frozen network: identical odd-bin energy before training.
    assert a["odd_bin_energy_fraction_at_init"] == frozen["numbers"]["models"]["a"]["odd_bin_energy_fraction_at_init"]
    moved = a["frequency_change"]
    assert moved["diagonal_initial_hz"] == pytest.approx([1.0, 1.0], rel=1e-6) and 0 < moved["max_abs_change_hz"] < 0.5


def test_trained_frequencies_move_little_and_support_follows_the_start(runs):
    _, results = runs("8")
    assert all(all_seeds_hold(results).values()), results["evidence"]
    models = results["numbers"]["models"]
    assert set(models) == {"sfm_1", "sfm_0.5", "ffn"}
    assert models["sfm_1"]["odd_bin_energy_fraction"] >= 1e-7
    for m in models.values():
        assert m["trained_mapping"] and 0 < m["frequency_change"]["relative_change"] < 0.5
    assert models["ffn"]["frequency_change"]["relative_change"] < 0.1


@pytest.mark.parametrize("name", ["6", "7", "8"])
def test_image_outputs_are_complete_and_consistent(runs, name):
    out, results = runs(name)
    keys = list(results["numbers"]["models"])
    for prefix in ["gt"] + [f"rec_{key}" for key in keys]:
        for stem in (prefix, f"{prefix}_ft", f"{prefix}_ft_crop"):
            assert (out / f"{stem}.pdf").stat().st_size > 0 and (out / f"{stem}.png").stat().st_size > 0
    assert (out / "overview.png").stat().st_size > 0
    with np.load(out / "arrays.npz") as arrays:
        gt = arrays["ground_truth"]
        assert gt.shape == (32, 32, 3) and arrays[f"{keys[0]}_dft_crop_db"].shape == (16, 16)
        rec = arrays[f"{keys[-1]}_reconstruction"]
        psnr = -10 * np.log10(np.mean((rec - gt) ** 2))
        assert psnr == pytest.approx(results["numbers"]["models"][keys[-1]]["psnr_db"], abs=1e-3)
        np.testing.assert_array_equal(arrays["gt_dft_crop_db"], arrays["gt_dft_db"][8:24, 8:24])


def test_w0_identity_means_one_cycle_per_unit():
    """Columns (a)/(b): ω0 = 1 with stored first weight 2π f0 I; (a) is exactly 1-periodic in float64."""
    models = _mappings.siren_models(CONFIGS["6"], trainable=False)
    for key, f0 in (("a", 1.0), ("b", 0.5)):
        model = models[key][1]
        assert model.first_omega0 == 1.0
        np.testing.assert_allclose(np.asarray(model.first.weight), 2 * np.pi * f0 * np.eye(2), rtol=1e-7)
        np.testing.assert_allclose(_mappings.frequencies_hz(model), f0 * np.eye(2), rtol=1e-6)
    with jax.enable_x64(True):  # in float64, with 2π itself in float64, the shifts agree to round-off
        a = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x, models["a"][1])
        a = eqx.tree_at(lambda m: m.first.weight, a, 2 * jnp.pi * jnp.eye(2, dtype=jnp.float64))
        r = jax.random.uniform(jax.random.key(0), (20, 2), jnp.float64, -1, 0)
        base = jax.vmap(a)(r)
        for shift in ([1.0, 0.0], [0.0, 1.0], [1.0, 1.0]):
            assert np.max(np.abs(jax.vmap(a)(r + jnp.array([shift])) - base)) < 1e-11
        assert np.max(np.abs(jax.vmap(a)(r + jnp.array([[0.5, 0.0]])) - base)) > 1e-4


def test_mapping_studies_validate_their_settings():
    from jaxtyping import TypeCheckError

    from inrdict.errors import InrdictError

    with pytest.raises(InrdictError, match="even"):
        dataclasses.replace(figure6.PRESETS["default"], image_size=33)
    with pytest.raises(InrdictError, match="crop"):
        dataclasses.replace(figure8.PRESETS["default"], image_size=16, crop=32)
    with pytest.raises((InrdictError, TypeCheckError), match="convention|haiku"):  # the Literal, under the runtime checks
        dataclasses.replace(figure7.PRESETS["default"], convention="haiku")


def test_ffn_large_sigma_aliases_and_small_sigma_does_not_fit_at_the_papers_lr(runs):
    """What holds on every seed and machine under the paper's protocol (lr 1e-4): σ = 100 fits and aliases; σ = 3 is
    far from fitting its samples (train PSNR ~15–20 dB against the 40 dB the alias claim needs), so its alias claim
    fails; σ = 3 still interpolates better. Whether σ = 3 fits at lr 1e-3 depends on the seed and the machine (the
    `lr_1e-3` variant: 2 of 5 seeds on one machine), so no test asserts it."""
    _, results = runs("9")
    models = results["numbers"]["models"]
    assert results["numbers"]["alias_hz"] == 105.0
    assert seeds_hold(results, "large_sigma_aliases_within_30db"), results["evidence"]
    assert max(results["numbers"]["per_seed"]["sigma_3"]["train_psnr_db"]) < 30.0, results["numbers"]["per_seed"]
    assert results["claims"]["small_sigma_alias_far_below"] is False  # every seed unfitted: the claim fails outright
    assert models["sigma_100"]["alias_below_signal_db"] < 30.0
    # σ = 100 fits the training samples and fails between them; σ = 3 is the better interpolant.
    assert models["sigma_100"]["train_psnr_db"] > 40.0 and models["sigma_100"]["fits_training_samples"]
    assert models["sigma_3"]["full_grid_psnr_db"] > models["sigma_100"]["full_grid_psnr_db"] + 5.0


def test_ffn_has_comparable_size_to_figure_3s_siren():
    from inrdict.experiments.studies import tones as _tones
    from inrdict.models import Siren, count_parameters

    ffn = _tones.ffn(figure9.DEFAULT, 3.0, jax.random.key(0), jax.random.key(1))
    siren = Siren(1, (128, 128), 1, convention="fit", key=jax.random.key(2))
    assert count_parameters(ffn) == 16_641 and count_parameters(siren) == 16_897


def test_fig9_stored_spectra_reproduce_the_alias_level(runs):
    out, _ = runs("9")
    with np.load(out / "arrays.npz") as arrays:
        freqs, level = arrays["freqs_full_hz"], arrays["sigma_100_full_db"]
        peak = max(level[freqs == 23][0], level[freqs == -23][0])
        alias = max(level[freqs == 105][0], level[freqs == -105][0])
    stored = json.loads((out / "results.json").read_text())["numbers"]["models"]["sigma_100"]
    assert peak - alias == pytest.approx(stored["alias_below_signal_db"], abs=1e-6)
    for stem in ("overview", "full_grid_sigma_100", "train_grid_sigma_3"):
        assert (out / f"{stem}.pdf").stat().st_size > 0 and (out / f"{stem}.png").stat().st_size > 0


def test_fig9_tone_is_seeded():
    tiny = {"steps": 1, "eval_every": 1, "ffn_frequencies": 4, "ffn_hidden": (4,)}
    a, _ = figure9.compute(dataclasses.replace(figure9.DEFAULT, seed=1, **tiny), progress=False)
    b, _ = figure9.compute(dataclasses.replace(figure9.DEFAULT, seed=1, **tiny), progress=False)
    c, _ = figure9.compute(dataclasses.replace(figure9.DEFAULT, seed=2, **tiny), progress=False)
    assert a["phase_rad"] == b["phase_rad"] != c["phase_rad"]

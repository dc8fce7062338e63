"""The grid PSF after training (`experiments.beyond.grid_psf_training`) on a tiny grid: one small GD step gives the
NTK's PSF (the linearised prediction), Adam's change is wider, the window measures what the whole grid measures,
and bad settings are refused."""

import dataclasses

import numpy as np
import pytest

from inrdict.analysis import lens
from inrdict.errors import InrdictError
from inrdict.experiments.beyond import grid_psf_training as gpt

TINY = gpt.Config(grid_size=32, levels=4, n_min=4, n_max=16.0, log2_table=6, adam_steps=(1, 10), n_centers=2,
                  n_seeds=2)  # fmt: skip


@pytest.mark.parametrize(("changes", "message"), [
    ({"adam_steps": (10, 1)}, "adam_steps must be whole numbers in increasing order"),
    ({"window": 0.4}, r"window must lie in \(0, 0.25\]"),
    ({"grid_size": 24}, "grid_size 24 undersamples the finest level"),
    ({"n_min": 32}, "grid levels need"),
])  # fmt: skip
def test_bad_settings_are_refused_in_one_line(changes, message):
    with pytest.raises(InrdictError, match=message) as error:
        dataclasses.replace(TINY, **changes)
    assert "\n" not in str(error.value)


def test_the_window_measures_what_the_whole_grid_measures():
    model = gpt.build("grid", TINY, 0)
    for center in gpt._centers(TINY):
        spread = lens.point_spread(model, (32, 32), center)
        h, (c0, c1) = gpt._half(TINY), center
        widths, bounded, peak = gpt._widths(3.0 * spread.values[c0 - h : c0 + h + 1, c1 - h : c1 + h + 1], center, TINY)
        assert bounded == 0 and peak == pytest.approx(3.0)
        assert widths == pytest.approx(spread.fwhm, rel=1e-9)


def test_a_width_beyond_the_window_is_bounded_by_it():
    side = 2 * gpt._half(TINY) + 1
    widths, bounded, _ = gpt._widths(np.ones((side, side)), (16, 16), TINY)
    assert bounded == 4 and widths["axis0"] == pytest.approx((side - 1) / 32)
    assert widths["diagonal"] == pytest.approx(np.sqrt(2) * (side - 1) / 32)


@pytest.mark.standard_promotion  # Optax's Adam
def test_a_gd_step_gives_the_ntk_psf_and_adam_a_wider_one():
    numbers, arrays = gpt.compute(TINY, progress=False)
    assert gpt.sanity(numbers, TINY) == {"gd_step_change_is_the_ntk_row": True, "gd_step_mean_fwhm_is_the_ntk_s": True,
                                         "last_adam_step_measured_at_every_centre": True}  # fmt: skip
    for name in gpt.MODELS:
        for run in numbers["models"][name]["per_seed"]:
            # the linearised prediction: the normalised change after one small step is the NTK's row, width and all
            assert run["gd_map_max_difference"] < 1e-4 and abs(run["gd"][0]["fwhm_ratio"] - 1.0) < 1e-4, (name, run)
            assert [row["steps"] for row in run["adam"]] == [1, 10]
            assert run["adam"][-1]["unmeasured"] == 0 and run["adam"][-1]["peak_change"] > 0.1  # f(r₀) moved to 1
        gd_map, ntk_map = arrays[f"{name}_gd_1"], arrays[f"{name}_ntk"]
        assert gd_map.shape == ntk_map.shape == (17, 17) and np.max(np.abs(gd_map - ntk_map)) < 1e-4
    values = gpt.claims(numbers, TINY)
    assert set(values) == {"adam_broadens_the_multigrid_psf", "adam_broadens_the_hash_grid_psf"}
    assert all(len(v) == 2 and np.all(np.isfinite(v)) for v in values.values())
    assert min(min(v) for v in values.values()) > 1.2  # measured 1.58 … 2.59: Adam broadens, far from the line

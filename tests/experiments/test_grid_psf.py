"""The grid PSF study (`experiments.beyond.grid_psf`) on a tiny grid: the N_avg solver, one value per seed per
claim, and what the study's numbers must satisfy by construction."""

import numpy as np

from inrdict.experiments.beyond import grid_psf
from inrdict.models.grid import level_resolutions


def test_an_average_resolution_out_of_reach_is_refused():
    import pytest

    from inrdict.errors import InrdictError

    with pytest.raises(InrdictError, match="N_avg = 12 is out of reach of 8 levels up to N_max = 64"):
        grid_psf.Config(n_avg_sweep=(12.0, 64.0))


def test_n_min_is_chosen_for_the_average_resolution():
    for levels, n_avg, n_max in ((8, 24.0, 128.0), (8, 12.0, 128.0), (4, 10.0, 32.0)):
        n_min = grid_psf.n_min_for_average(levels, n_avg, n_max)
        mean = np.mean(level_resolutions(levels, n_min, n_max))
        for other in (n_min - 1, n_min + 1):
            if 1 <= other <= n_max:
                assert abs(mean - n_avg) <= abs(np.mean(level_resolutions(levels, other, n_max)) - n_avg)


def test_a_tiny_run_measures_every_claim_per_seed():
    config = grid_psf.Config(grid_size=32, levels=4, n_avg_fixed=12.0, n_max_sweep=(16.0, 32.0), n_max_fixed=32.0,
                             n_avg_sweep=(12.0, 24.0), anisotropy_n_min=4, anisotropy_n_max=16.0, table_n_min=8,
                             table_n_max=32.0, log2_tables=(6, 12), n_centers=2, n_seeds=2)  # fmt: skip
    numbers, arrays = grid_psf.compute(config, progress=False)
    values = grid_psf.claims(numbers, config)
    assert set(values) == {"fwhm_falls_as_n_avg_grows", "fwhm_nearly_constant_in_n_max_at_fixed_n_avg",
                           "axis_aligned_grid_is_anisotropic", "rotated_levels_reduce_anisotropy",
                           "collisions_lower_snr"}  # fmt: skip
    assert all(len(v) == 2 and np.all(np.isfinite(v)) for v in values.values())
    studies = numbers["studies"]
    assert [row["family"] for row in studies["collisions"]] == ["hashgrid"] * 2
    assert all(row["family"] == "grid" for key in ("n_max_sweep", "n_avg_sweep", "anisotropy") for row in studies[key])
    # at T = 2^12 the finest level (33² = 1089 vertices) fits its table: no collision, no far-field speckle
    # beyond the head's smooth part; at T = 2^6 it collides: the far field is noisier
    assert studies["collisions"][1]["snr_db"] > studies["collisions"][0]["snr_db"]
    center = tuple(numbers["centers"][0])
    assert arrays["example_psf"].shape == (32, 32) and arrays["example_psf"][center] == 1.0

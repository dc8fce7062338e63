"""The NTK's point spread function (`inrdict.analysis.psf`): FWHM of known profiles, the row against the Jacobian
oracle, and the widths' dependence on a SIREN's ω0 (the dictionary's atoms narrow as ω0 grows)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inrdict import lens, ntk
from inrdict.analysis.psf import _profiles, fwhm, point_spread
from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.models import Siren

GAUSSIAN_FWHM = 2.0 * np.sqrt(2.0 * np.log(2.0))  # FWHM / σ of a Gaussian


def test_fwhm_of_a_tent_is_exact_and_of_a_gaussian_close():
    x = np.arange(-50, 51) / 100.0  # spacing 0.01, centre at index 50
    tent = np.clip(1.0 - np.abs(x) / 0.2, 0.0, None)  # half maximum at |x| = 0.1: FWHM 0.2 exactly
    assert fwhm(tent, 50, 0.01) == pytest.approx(0.2, abs=1e-12)
    gaussian = np.exp(-(x**2) / (2 * 0.05**2))
    assert fwhm(gaussian, 50, 0.01) == pytest.approx(GAUSSIAN_FWHM * 0.05, rel=2e-3)
    assert np.isnan(fwhm(np.ones(11), 5, 0.1))  # never falls to a half: unknown, not 0


def test_every_direction_of_an_isotropic_spot_has_one_width():
    """A round Gaussian spot off the grid's centre: both axes and both diagonals (√2 spacing) read 2.355 σ."""
    n, (c0, c1), sigma = 201, (70, 120), 0.03
    grid = np.arange(n) / n
    values = np.exp(-((grid[:, None] - grid[c0]) ** 2 + (grid[None, :] - grid[c1]) ** 2) / (2 * sigma**2))
    widths = {name: fwhm(profile, at, spacing) for name, (profile, at, spacing) in _profiles(values, (c0, c1)).items()}
    assert set(widths) == {"axis0", "axis1", "diagonal", "antidiagonal"}
    assert all(w == pytest.approx(GAUSSIAN_FWHM * sigma, rel=1e-2) for w in widths.values()), widths


def test_the_point_spread_is_the_ntk_row_and_narrows_as_omega0_grows():
    with jax.enable_x64(True):
        siren = Siren(2, (24, 24), 1, first_omega0=20.0, convention="ntk", key=jax.random.key(0), dtype=jnp.float64)
        spread = lens.point_spread(siren, (16, 16), (5, 9), dtype=np.float64)
        oracle = ntk.empirical_ntk(siren, data.unit_grid((16, 16)), method="jacobian", dtype=jnp.float64)
        column = oracle[:, 5 * 16 + 9] / oracle[5 * 16 + 9, 5 * 16 + 9]
        assert np.max(np.abs(spread.values.ravel() - column)) <= 1e-10 and spread.values[5, 9] == 1.0
    widths = []
    for omega0 in (10.0, 30.0, 90.0):
        model = Siren(2, (64, 64), 1, first_omega0=omega0, convention="ntk", key=jax.random.key(0))
        widths.append(point_spread(model, (48, 48)).fwhm)
    for name in widths[0]:  # every direction, by a factor of at least 2 per step (measured: ≈ 3)
        assert widths[0][name] > 2 * widths[1][name] > 4 * widths[2][name], (name, widths)


def test_bad_centres_are_refused():
    siren = Siren(2, (8,), 1, key=jax.random.key(0))
    with pytest.raises(InrdictError, match="not a point of the 8×8 grid"):
        point_spread(siren, (8, 8), (8, 0))
    with pytest.raises(InrdictError, match="not a point"):
        point_spread(siren, (8, 8), (1,))


def test_several_centres_from_one_product_equal_one_at_a_time():
    siren = Siren(2, (16, 16), 1, first_omega0=20.0, convention="ntk", key=jax.random.key(1))
    centres = [(3, 4), (10, 2), (7, 7)]
    together = lens.point_spreads(siren, (12, 12), centres)
    for spread, centre in zip(together, centres):
        alone = point_spread(siren, (12, 12), centre)
        assert spread.center == centre and np.allclose(spread.values, alone.values, atol=1e-6)
        assert spread.fwhm == pytest.approx(alone.fwhm, rel=1e-5, nan_ok=True)


def test_a_grid_of_another_dimension_or_a_bare_centre_is_refused():
    siren = Siren(2, (8,), 1, key=jax.random.key(0))
    with pytest.raises(InrdictError, match="takes 2-D coordinates, the grid"):
        point_spread(siren, (8,))
    from jaxtyping import TypeCheckError

    with pytest.raises((InrdictError, TypeCheckError), match="each centre is a grid index|Type-check error"):
        lens.point_spreads(siren, (8, 8), [5])  # the tests' type checks may see it first


def test_a_response_map_measures_as_the_ntk_row_does():
    """`spread_of_map` of the unnormalised row (any positive scale) is `point_spread`; a map without a positive value
    at its centre, or a centre outside it, is refused."""
    siren = Siren(2, (16, 16), 1, first_omega0=20.0, convention="ntk", key=jax.random.key(2))
    spread = point_spread(siren, (12, 12), (4, 7))
    again = lens.spread_of_map(2.5e-6 * spread.values, (4, 7))
    assert again.center == (4, 7) and np.allclose(again.values, spread.values, atol=1e-12)
    assert again.fwhm == pytest.approx(spread.fwhm, rel=1e-9, nan_ok=True)
    with pytest.raises(InrdictError, match="a PSF needs a positive peak"):
        lens.spread_of_map(-spread.values, (4, 7))
    with pytest.raises(InrdictError, match="not a point of the 12×12 map"):
        lens.spread_of_map(spread.values, (4, 12))

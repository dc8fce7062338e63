"""Theorem 1 (Yüce et al., CVPR 2022) and the Jacobi–Anger expansion, checked numerically (inrdict.analysis.theory)."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import jv

import inrdict
from inrdict.analysis import theory
from inrdict.errors import InrdictError

ALPHA2 = [0.1, 1.0, 0.5]  # rho(x) = 0.1 + x + 0.5 x^2   (K = 2)
ALPHA3 = [0.0, 1.0, 0.3, -0.2]  # rho(x) = x + 0.3 x^2 - 0.2 x^3   (K = 3)

# (Omega in cycles per unit, alpha, depth L): T = 1..3, D = 1..2, K = 2..3, L = 2..4.
THEOREM_CASES = [
    ([[1], [3]], ALPHA2, 4),
    ([[1], [2]], ALPHA2, 2),
    ([[2]], ALPHA3, 3),
    ([[1, 0], [0, 1]], ALPHA3, 3),
    ([[1, 0], [0, 1], [1, 2]], ALPHA2, 3),
    ([[1, 0], [1, 1]], ALPHA2, 4),
    ([[1, 2]], ALPHA3, 2),
]


# ---------------------------------------------------------------------------------------------------- lattice


@pytest.mark.parametrize("T", [1, 2, 3, 4])
def test_lattice_point_count_equals_brute_force(T):
    for R in range(0, 7 if T < 4 else 5):
        brute = theory.lattice_points_brute_force(T, R)
        assert theory.lattice_point_count(T, R) == len(brute)
        fast = theory.lattice_points(T, R)
        assert len(fast) == len(brute)
        assert {tuple(s) for s in fast} == {tuple(s) for s in brute}  # same set, no duplicates
        assert np.all(np.abs(fast).sum(axis=1) <= R)


def test_lattice_point_count_closed_forms():
    assert theory.lattice_point_count(1, 7) == 15  # -7..7
    assert theory.lattice_point_count(2, 3) == 2 * 3**2 + 2 * 3 + 1  # 2-D L1 ball: 2R^2 + 2R + 1
    assert theory.lattice_point_count(5, 0) == 1
    assert theory.lattice_point_count(3, 8) == 833


def test_harmonic_support_deduplicates_and_is_symmetric():
    support = theory.harmonic_support([[1], [2]], 2)  # s1 + 2 s2 with |s1| + |s2| <= 2
    assert support.dtype == np.int64
    assert support[:, 0].tolist() == list(range(-4, 5))  # 9 distinct frequencies from 13 lattice points
    support2 = theory.harmonic_support([[1, 0], [0, 1], [1, 1]], 2)
    assert {tuple(v) for v in support2} == {tuple(-v) for v in support2}
    assert (0, 0) in {tuple(v) for v in support2}
    assert len(support2) <= theory.lattice_point_count(3, 2)
    assert theory.harmonic_support([[0.5]], 2).dtype == np.float64


def test_energy_outside_support_counts_conjugate_bins_and_negative_frequencies():
    r = theory.periodic_grid(32, 1)[:, 0]
    tone = 2.0 + np.sin(2 * np.pi * 3 * r + 0.3)  # DC and the bins +3 and -3 (= 29)
    assert theory.energy_outside_support(tone, [[0], [3]]) < 1e-28
    assert theory.energy_outside_support(tone, [[0], [-3]]) < 1e-28
    two_half_amplitude_bins = 2 * 0.5**2 / (2.0**2 + 2 * 0.5**2)
    assert np.isclose(theory.energy_outside_support(tone, [[0], [4]]), two_half_amplitude_bins)
    assert theory.measured_support_size(tone) == 3
    grid2 = theory.periodic_grid(16, 2)
    plane = np.cos(2 * np.pi * grid2 @ np.array([2, -5])).reshape(16, 16)
    assert theory.energy_outside_support(plane.ravel(), [[-2, 5]]) < 1e-28
    assert theory.energy_outside_support(plane, [[2, 5]]) > 0.99


def test_bad_input_raises_inrdict_error():
    with pytest.raises(InrdictError, match="integer"):
        theory.lattice_point_count(2.5, 3)
    with pytest.raises(InrdictError):
        theory.lattice_point_count(0, 3)
    with pytest.raises(InrdictError, match="alias"):
        theory.polynomial_inr([[1], [3]], ALPHA2, 4, n=32)  # support reaches 24 cycles: needs n >= 49
    signal = theory.polynomial_inr([[1]], ALPHA2, 2)
    with pytest.raises(InrdictError, match="alias"):
        theory.energy_outside_support(signal, theory.harmonic_support([[1]], 10))
    with pytest.raises(InrdictError, match="DFT bins"):
        theory.energy_outside_support(signal, theory.harmonic_support([[0.3]], 2))
    with pytest.raises(InrdictError, match="degree"):
        theory.polynomial_inr([[1]], [1.0, 0.0], 2)
    with pytest.raises(InrdictError, match="shape"):
        theory.SineNetwork(np.ones((2, 1)), np.ones((4, 3)), np.ones(4))
    with pytest.raises(InrdictError, match="T = 1"):
        theory.compare_harmonics(theory.random_sine_network(2), 4)


def test_annotations_accept_what_the_functions_convert():
    """The runtime type checks (tests/conftest.py) pass tuples, Python numbers, NumPy integers and integral floats:
    NumPy's ArrayLike alone refuses tuples and bare floats under beartype, so theory.ArrayInput adds them."""
    assert theory.lattice_point_count(np.int64(2), 3.0) == 25
    assert theory.harmonic_support(((1,), (2,)), np.int32(2))[:, 0].tolist() == list(range(-4, 5))
    signal = theory.polynomial_inr(((1, 0), (0, 1)), (0.1, 1.0, 0.5), 2.0, seed=np.int64(1), bias_std=1)
    assert theory.energy_outside_support(signal, theory.harmonic_support(((1, 0), (0, 1)), 2)) <= 1e-20
    net = theory.SineNetwork((2.0,), (0.5, -1.0), (1.0, 2.0), phase=0.3, b1=[0.1, 0.2], b2=1)
    assert net.Omega.shape == (1, 1) and net.W1.shape == (2, 1) and net.phase.shape == (1,) and net.b2 == 1.0
    assert all(a.dtype == np.float64 for a in (net.Omega, net.W1, net.w2, net.phase, net.b1))
    shifted = dataclasses.replace(net, b2=np.float64(2.0))
    np.testing.assert_allclose(shifted((0.1, 0.2)) - net((0.1, 0.2)), 1.0)
    assert theory.compare_harmonics(net, np.int64(6)).relative_error < 1e-10
    assert theory.jacobi_anger_errors(net, (0, 5, 30))[-1] < 1e-12
    np.testing.assert_allclose(theory.evaluate_sinusoids([1.0], [1.0], [0.25]), [1.0], atol=1e-15)
    with pytest.raises(InrdictError, match="scalar"):
        theory.SineNetwork([[1.0]], [[1.0]], [1.0], b2=[1.0, 2.0])
    with pytest.raises(InrdictError, match="integer"):
        theory.polynomial_inr([[1]], ALPHA2, 2.5)


# ---------------------------------------------------------------------------------------------------- Theorem 1


@pytest.mark.parametrize("Omega, alpha, depth", THEOREM_CASES)
def test_energy_outside_harmonic_support_is_at_rounding_level(Omega, alpha, depth):
    order = theory.theorem1_order(len(alpha) - 1, depth)
    for seed in range(3):
        signal = theory.polynomial_inr(Omega, alpha, depth, seed=seed)
        assert theory.energy_outside_support(signal, theory.harmonic_support(Omega, order)) <= 1e-20
    # A larger (and non-square-free) grid changes nothing: no wrap-around either way.
    big = theory.polynomial_inr(Omega, alpha, depth, n=theory.min_grid_size(Omega, order) + 7, seed=5)
    assert theory.energy_outside_support(big, theory.harmonic_support(Omega, order)) <= 1e-20


@pytest.mark.parametrize("Omega, alpha, depth", THEOREM_CASES)
def test_negative_controls_leave_energy_outside(Omega, alpha, depth):
    """One extra layer beyond the support's assumption, or non-integer Omega: 1e-7 and more (rounding: ~1e-30)."""
    for seed in range(3):
        shares = theory.theorem1_check(np.array(Omega), alpha, depth, seed=seed)
        assert shares["polynomial"] <= 1e-20
        assert shares["one_extra_layer"] > 1e-7
        assert shares["non_integer_omega"] > 1e-7


@pytest.mark.parametrize("Omega, depth", [([[1], [2]], 2), ([[1, 0], [0, 1]], 2), ([[1, 0], [0, 1], [1, 2]], 3)])
def test_tanh_activation_leaves_energy_outside_the_quadratic_support(Omega, depth):
    for seed in range(3):
        assert theory.theorem1_check(np.array(Omega), ALPHA2, depth, seed=seed)["tanh"] > 1e-6


def test_one_extra_layer_by_hand():
    """Depth L against the support K^(L-2) of depth L-1 (what theorem1_check's control computes)."""
    Omega, depth = [[1, 0], [0, 1]], 3
    signal = theory.polynomial_inr(Omega, ALPHA2, depth, seed=0)
    assert theory.energy_outside_support(signal, theory.harmonic_support(Omega, 2**2)) <= 1e-20
    assert theory.energy_outside_support(signal, theory.harmonic_support(Omega, 2**1)) > 1e-4


@pytest.mark.parametrize(
    "Omega, alpha", [([[1], [3]], ALPHA2), ([[1, 0], [0, 1], [1, 2]], ALPHA2), ([[1, 0], [0, 1]], ALPHA3)]
)
def test_measured_support_is_bounded_by_the_lattice_and_grows_with_depth(Omega, alpha):
    rows = theory.support_growth(Omega, alpha, [1, 2, 3, 4] if len(alpha) == 3 else [1, 2, 3])
    for row in rows:
        assert row["energy_outside"] <= 1e-20
        assert row["measured_support"] <= row["support_size"] <= row["lattice_count"]
        assert row["lattice_count"] == theory.lattice_point_count(len(Omega), row["order"])
    measured = [row["measured_support"] for row in rows]
    assert all(a < b for a, b in zip(measured, measured[1:])), measured
    # For generic weights and K = 2 every harmonic of H(Omega) is present (above 1e-24 of the energy).
    if len(alpha) == 3:
        assert all(row["measured_support"] == row["support_size"] for row in rows)


def test_polynomial_inr_is_deterministic_and_float64():
    a = theory.polynomial_inr([[1, 0], [0, 1]], ALPHA2, 3, seed=4)
    b = theory.polynomial_inr([[1, 0], [0, 1]], ALPHA2, 3, seed=4)
    assert a.dtype == np.float64 and a.shape == (9, 9)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, theory.polynomial_inr([[1, 0], [0, 1]], ALPHA2, 3, seed=5))


# ---------------------------------------------------------------------------------------------------- Jacobi–Anger


def spec_formula(net, r, order):
    """SPEC §1 verbatim (phi = 0, b1 = 0): sum_m sum_s w2_m prod_t J_{s_t}(W1_{m,t}) sin(2 pi <s, Omega> r) + b2."""
    total = np.full(len(r), net.b2)
    for s in itertools.product(range(-order, order + 1), repeat=net.n_frequencies):
        s = np.array(s)
        weight = np.prod(jv(s[None, :], net.W1), axis=1) @ net.w2
        total += weight * np.sin(2 * np.pi * r @ (net.Omega.T @ s))
    return total


def test_jacobi_anger_series_matches_spec_formula_and_coefficients():
    r = theory.periodic_grid(64, 1)
    plain = theory.random_sine_network(2, 1, 8, seed=3, biases=False)
    for order in (1, 4):
        series = theory.jacobi_anger_series(plain, r, order)
        np.testing.assert_allclose(series, spec_formula(plain, r, order), atol=1e-13)
    net = theory.random_sine_network(2, 2, 8, seed=3)  # with phases, biases and an offset
    grid = theory.periodic_grid(12, 2)
    for order in (0, 3):
        _, nu, A = theory.jacobi_anger_coefficients(net, order)
        termwise = theory.evaluate_sinusoids(nu, A, grid, net.b2)
        np.testing.assert_allclose(theory.jacobi_anger_series(net, grid, order), termwise, atol=1e-13)


@pytest.mark.parametrize("T, D, modulation", [(1, 1, 1.0), (2, 1, 1.0), (3, 1, 1.0), (2, 2, 1.0), (1, 1, 4.0)])
def test_jacobi_anger_error_falls_with_order_to_1e12(T, D, modulation):
    net = theory.random_sine_network(T, D, 16, seed=1, modulation=modulation)
    errors = theory.jacobi_anger_errors(net, range(30))
    above_floor = errors[errors > 1e-13]
    assert np.all(np.diff(above_floor) < 0), errors  # strictly decreasing until float64 rounding
    assert errors[0] > 1e-2
    assert errors.min() <= 1e-12


def test_bessel_harmonics_match_the_dft_for_random_weights():
    for seed, modulation, nu in itertools.product(range(3), (0.5, 1.0, 3.0), (1.0, 7.0, 2.37)):
        net = theory.random_sine_network(1, 1, 32, seed=seed, modulation=modulation)
        net = theory.SineNetwork([[nu]], net.W1, net.w2, net.phase, net.b1, net.b2)
        result = theory.compare_harmonics(net, 12)
        assert result.relative_error < 1e-10
        assert np.all(result.amplitude_relative_error < 1e-10)
        np.testing.assert_allclose(result.frequencies, np.arange(13) * nu)


def test_bessel_harmonics_without_biases_are_odd_only():
    net = theory.random_sine_network(1, 1, 16, seed=2, biases=False)  # sin(a sin(theta)) is odd in theta
    result = theory.compare_harmonics(net, 9)
    assert np.all(result.predicted[0::2] == 0.0) and np.all(result.measured[0::2] < 1e-14)
    assert np.all(result.predicted[1::2] > 1e-8)
    assert result.relative_error < 1e-10


def test_sine_network_from_siren_reproduces_the_model_and_its_harmonics():
    with jax.enable_x64(True):
        key = jax.random.key(0)
        model = inrdict.Siren(1, (1, 8), 1, first_omega0=30.0, convention="fit", key=key, dtype=jnp.float64)
        net = theory.sine_network_from_siren(model)

        def evaluate(r):
            return np.asarray(inrdict.predict(model, jnp.asarray(r)))

        r = theory.periodic_grid(50, 1)
        np.testing.assert_allclose(net(r), evaluate(r)[:, 0], atol=1e-13)
        result = theory.compare_harmonics(net, 10, evaluate=evaluate)
    assert result.relative_error < 1e-10
    assert np.isclose(net.Omega[0, 0], 30.0 * float(model.layers[0].weight[0, 0]) / (2 * np.pi))

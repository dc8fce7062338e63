"""DFT energy of a sampled signal outside H(Omega), measured support size, and Theorem 1 checked on networks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
from jaxtyping import Bool, Float

from inrdict.analysis.theory._checks import (
    DEFAULT_SUPPORT_THRESHOLD,
    ArrayInput,
    Count,
    Scalar,
    _as_count,
    _as_omega,
    _is_integer_valued,
)
from inrdict.analysis.theory.polynomial import init_inr, polynomial_degree, polynomial_inr, sample_inr
from inrdict.analysis.theory.support import harmonic_support, lattice_point_count, min_grid_size, theorem1_order
from inrdict.errors import InrdictError

# ----------------------------------------------------------------------------------------------------------------
# DFT energy outside H(Omega) and measured support size
# ----------------------------------------------------------------------------------------------------------------


def _as_grid_signal(signal: ArrayInput, D: int) -> Float[np.ndarray, "*grid"]:
    signal = np.asarray(signal, np.float64)
    if signal.ndim == 1 and D > 1:
        n = round(signal.size ** (1.0 / D))
        if n**D != signal.size:
            raise InrdictError(f"a flat signal of {signal.size} samples is not an n^{D} grid; pass it shaped (n,)*{D}")
        signal = signal.reshape((n,) * D)
    if signal.ndim != D:
        raise InrdictError(f"the signal must be a {D}-D grid like the support's frequency vectors, got {signal.shape}")
    if not np.all(np.isfinite(signal)):
        raise InrdictError("the signal contains non-finite values; lower the weights or the depth")
    return signal


def support_mask(support: ArrayInput, shape: tuple[int, ...]) -> Bool[np.ndarray, "*grid"]:
    """Boolean DFT-bin mask of a frequency set on a periodic grid of the given shape.

    Each nu in ``support`` (integer (F, D), cycles per unit) and its conjugate -nu mark bin ``nu mod n`` per axis.

    Raises:
        InrdictError: if a frequency is not an integer or not strictly inside the Nyquist band (it would alias).
    """
    support = np.asarray(support)
    if support.ndim == 1:
        support = support[:, None]
    if support.ndim != 2 or support.shape[1] != len(shape):
        raise InrdictError(
            f"the support must have shape (F, {len(shape)}) for a {len(shape)}-D grid, got {support.shape}"
        )
    if not _is_integer_valued(support.astype(np.float64)):
        raise InrdictError(
            "non-integer frequencies do not sit on DFT bins of the periodic grid; use integer Omega "
            "or map the support to its nearest bins with np.rint"
        )
    support = np.round(support).astype(np.int64)
    sizes = np.asarray(shape, np.int64)
    if support.size and np.any(2 * np.abs(support) >= sizes):
        raise InrdictError(
            f"the support reaches {int(np.abs(support).max())} cycles per unit, which aliases on a grid of shape "
            f"{shape}; use at least {2 * int(np.abs(support).max()) + 1} points per axis"
        )
    mask = np.zeros(shape, bool)
    for sign in (1, -1):
        mask[tuple(np.mod(sign * support, sizes).T)] = True
    return mask


def dft_energy(signal: ArrayInput) -> Float[np.ndarray, "*grid"]:
    """|fftn(signal)|^2 per bin (unnormalised), float64, same shape as the signal."""
    return np.abs(np.fft.fftn(np.asarray(signal, np.float64))) ** 2


def energy_outside_support(signal: ArrayInput, support: ArrayInput) -> float:
    """Share of the DFT energy of ``signal`` in bins outside the frequency set ``support``.

    ``share = sum_{k not in S} |X_k|^2 / sum_k |X_k|^2`` with ``X = fftn(signal)`` on the periodic grid and
    S the bins ``nu mod n`` of every nu in ``support`` and of its conjugate -nu.

    Args:
        signal: samples on the periodic grid, shape ``(n_1, ..., n_D)`` (or flat ``n^D``, row-major).
        support: (F, D) integer frequency vectors in cycles per unit, e.g. ``harmonic_support(Omega, R)``.

    Returns:
        The share in [0, 1]. Theorem 1 predicts rounding level (< 1e-20) for integer Omega, exact polynomial
        activations and R = K^(L-1).

    Raises:
        InrdictError: for a non-integer support, a support that aliases on this grid, or a zero signal.
    """
    support = np.asarray(support)
    D = support.shape[1] if support.ndim == 2 else 1
    signal = _as_grid_signal(signal, D)
    mask = support_mask(support, signal.shape)
    energy = dft_energy(signal)
    total = float(energy.sum())
    if total == 0.0:
        raise InrdictError("the signal is identically zero, so its energy share is undefined; pass a non-zero signal")
    return float(energy[~mask].sum() / total)


def measured_support_size(signal: ArrayInput, threshold: Scalar = DEFAULT_SUPPORT_THRESHOLD) -> int:
    """Number of DFT bins whose energy exceeds ``threshold`` times the total energy.

    A real signal's bins come in conjugate pairs, so this counts +nu and -nu separately, like the lattice
    count counts s and -s. Noise floor of float64 rounding: ~1e-32 / n^D relative per bin.
    """
    energy = dft_energy(signal)
    total = float(energy.sum())
    if total == 0.0:
        return 0
    return int(np.count_nonzero(energy > threshold * total))


def support_growth(
    Omega: ArrayInput,
    alpha: ArrayInput,
    depths: Iterable[Count],
    n: Count | None = None,
    *,
    width: Count = 16,
    seed: Count = 0,
    threshold: Scalar = DEFAULT_SUPPORT_THRESHOLD,
) -> list[dict[str, float | int]]:
    """Theorem 1 per depth: bound, lattice count, |H(Omega)|, measured support and energy outside H.

    One random network per depth (``init_inr`` with ``seed``), all sampled on the same periodic grid
    (``n=None``: the smallest grid that holds the deepest support).

    Returns:
        One dict per depth: ``depth`` (L), ``order`` (K^(L-1)), ``lattice_count`` (#s with ||s||_1 <= order),
        ``support_size`` (#distinct frequencies in H), ``measured_support`` (#bins above ``threshold``),
        ``energy_outside`` (share outside H), ``grid`` (n).
    """
    Omega = _as_omega(Omega)
    K = polynomial_degree(alpha)
    checked_depths = [_as_count(L, "depth", minimum=1) for L in depths]
    if not checked_depths:
        raise InrdictError("depths is empty; pass at least one depth L >= 1")
    needed = min_grid_size(Omega, theorem1_order(K, max(checked_depths)))
    n = needed if n is None else _as_count(n, "the grid size n", minimum=1)
    rows = []
    for L in checked_depths:
        order = theorem1_order(K, L)
        support = harmonic_support(Omega, order)
        signal = polynomial_inr(Omega, alpha, L, n, width=width, seed=seed)
        rows.append(
            {
                "depth": L,
                "order": order,
                "lattice_count": lattice_point_count(Omega.shape[0], order),
                "support_size": int(support.shape[0]),
                "measured_support": measured_support_size(signal, threshold),
                "energy_outside": energy_outside_support(signal, support),
                "grid": n,
            }
        )
    return rows


def theorem1_check(
    Omega: ArrayInput,
    alpha: ArrayInput,
    depth: Count,
    n: Count | None = None,
    *,
    width: Count = 16,
    seed: Count = 0,
    non_integer_shift: Scalar = 0.37,
) -> dict[str, float]:
    """Energy outside H(Omega) for the theorem's case and three controls that break one assumption each.

    All four networks share the weights (``init_inr(Omega, depth, width, seed)``) and the periodic grid.
    ``n=None`` takes twice the minimal grid of the (shifted) support plus one: every polynomial support then
    fits without aliasing, and the rounded non-integer support leaves about half of the bins free to show
    leakage (on the minimal grid it can cover every bin, making that control vacuous).

    Returns:
        ``polynomial``: integer Omega, rho = alpha, support K^(L-1) (Theorem 1: rounding level).
        ``one_extra_layer``: the same signal against the support K^(L-2) that a network one layer shallower
        would have (needs L >= 2): the harmonics of order K^(L-2) < ||s||_1 <= K^(L-1) are missed.
        ``tanh``: rho = tanh (not a polynomial: infinitely many harmonics), support K^(L-1).
        ``non_integer_omega``: Omega + ``non_integer_shift`` with rho = alpha, support rounded to the nearest
        DFT bins. This does not contradict Theorem 1: the frequencies are off the grid's bins, so the
        DFT of the non-periodic samples leaks into every bin (the check relies on integer frequencies).
    """
    Omega = _as_omega(Omega)
    if not _is_integer_valued(Omega):
        raise InrdictError("theorem1_check needs integer Omega (it adds the non-integer shift itself); round Omega")
    K = polynomial_degree(alpha)
    depth = _as_count(depth, "depth", minimum=2)
    order = theorem1_order(K, depth)
    shifted = Omega + non_integer_shift
    n = 2 * max(min_grid_size(Omega, order), min_grid_size(shifted, order)) + 1 if n is None else n
    params = init_inr(Omega, depth, width=width, seed=seed)
    signal = polynomial_inr(Omega, alpha, depth, n, width=width, seed=seed)
    shifted_params = dataclasses.replace(params, Omega=shifted)
    return {
        "polynomial": energy_outside_support(signal, harmonic_support(Omega, order)),
        "one_extra_layer": energy_outside_support(signal, harmonic_support(Omega, theorem1_order(K, depth - 1))),
        "tanh": energy_outside_support(sample_inr(params, n, "tanh"), harmonic_support(Omega, order)),
        "non_integer_omega": energy_outside_support(
            sample_inr(shifted_params, n, alpha), np.rint(harmonic_support(shifted, order))
        ),
    }

"""The lattice of harmonic orders and the support H(Omega) of Theorem 1."""

from __future__ import annotations

import itertools
import math

import numpy as np
from jaxtyping import Int, Real

from inrdict.analysis.theory._checks import MAX_ENUMERATED, ArrayInput, Count, _as_count, _as_omega, _is_integer_valued
from inrdict.errors import InrdictError

# ----------------------------------------------------------------------------------------------------------------
# Lattice of harmonic orders and the support H(Omega)
# ----------------------------------------------------------------------------------------------------------------


def lattice_point_count(T: Count, R: Count) -> int:
    """Number of integer vectors s in Z^T with ||s||_1 <= R.

    Formula: ``sum_{i=0}^{min(T, R)} 2^i C(T, i) C(R, i)`` (choose the i non-zero coordinates, their signs, and
    their absolute values as a composition of a number <= R into i positive parts: C(R, i) ways).

    Args:
        T: dimension (number of mapping frequencies), >= 1.
        R: maximal L1 norm (harmonic order, K^(L-1) in Theorem 1), >= 0.

    Returns:
        The exact count (Python int).

    Raises:
        InrdictError: if T or R is not a whole number or out of range.
    """
    T = _as_count(T, "T", minimum=1)
    R = _as_count(R, "R", minimum=0)
    return sum(2**i * math.comb(T, i) * math.comb(R, i) for i in range(min(T, R) + 1))


def lattice_points(T: Count, R: Count) -> Int[np.ndarray, "count T"]:
    """All s in Z^T with ||s||_1 <= R, one per row (``lattice_point_count(T, R)`` rows, int64, no duplicates).

    Raises:
        InrdictError: for bad T / R, or if there are more than ``MAX_ENUMERATED`` points.
    """
    T = _as_count(T, "T", minimum=1)
    R = _as_count(R, "R", minimum=0)
    count = lattice_point_count(T, R)
    if count > MAX_ENUMERATED:
        raise InrdictError(
            f"the lattice ||s||_1 <= {R} in Z^{T} has {count} points, more than {MAX_ENUMERATED}; "
            "use fewer mapping frequencies or a lower harmonic order"
        )
    points = np.zeros((1, 0), np.int64)
    used = np.zeros(1, np.int64)
    for _ in range(T):
        blocks, budgets = [], []
        for value in range(-R, R + 1):
            keep = used + abs(value) <= R
            blocks.append(np.concatenate([points[keep], np.full((int(keep.sum()), 1), value, np.int64)], axis=1))
            budgets.append(used[keep] + abs(value))
        points, used = np.concatenate(blocks), np.concatenate(budgets)
    return points


def lattice_points_brute_force(T: Count, R: Count) -> Int[np.ndarray, "count T"]:
    """Reference enumeration of {s in Z^T : ||s||_1 <= R} by filtering the box [-R, R]^T (tests only; slow)."""
    T = _as_count(T, "T", minimum=1)
    R = _as_count(R, "R", minimum=0)
    rows = [s for s in itertools.product(range(-R, R + 1), repeat=T) if sum(map(abs, s)) <= R]
    return np.asarray(rows, np.int64).reshape(-1, T)


def harmonic_support(Omega: ArrayInput, max_order: Count) -> Real[np.ndarray, "F D"]:
    """The frequency set ``H(Omega) = { Omega^T s : s in Z^T, ||s||_1 <= max_order }``, deduplicated.

    Args:
        Omega: mapping frequencies, (T, D) (or (T,) for D = 1), cycles per unit.
        max_order: R, the largest L1 norm of s; Theorem 1 uses ``R = K^(L-1)`` (see ``theorem1_order``).

    Returns:
        (F, D) array of distinct frequency vectors, sorted lexicographically. int64 when Omega is integer-valued
        (then every row is a DFT bin of the periodic grid); otherwise float64 (rounded to 1e-9 before
        deduplication). F <= ``lattice_point_count(T, max_order)``, with equality unless some integer
        combinations of the rows coincide (always the case for D = 1 and T >= 2). Always contains 0 and is
        symmetric (nu in H implies -nu in H).

    Raises:
        InrdictError: for a malformed Omega or a lattice too large to enumerate.
    """
    Omega = _as_omega(Omega)
    points = lattice_points(Omega.shape[0], max_order)
    if _is_integer_valued(Omega):
        freqs = points @ Omega.astype(np.int64)
        return np.unique(freqs, axis=0)
    freqs = points.astype(np.float64) @ Omega
    return np.unique(np.round(freqs, 9), axis=0)


def theorem1_order(degree: Count, depth: Count) -> int:
    """Harmonic order bound of Theorem 1: ``K^(L-1)`` for activation degree K and L weight matrices."""
    degree = _as_count(degree, "the activation degree K", minimum=1)
    depth = _as_count(depth, "the depth L (number of weight matrices)", minimum=1)
    return degree ** (depth - 1)


def min_grid_size(Omega: ArrayInput, max_order: Count) -> int:
    """Smallest n per axis whose periodic grid holds ``H(Omega)`` without aliasing: ``2 R max|Omega| + 1``.

    Every nu in H(Omega) has ``|nu_d| <= R max_t |Omega_{t,d}|``; the DFT of n points separates frequencies
    ``|nu_d| < n / 2`` (the Nyquist bin n/2 cannot tell sin from 0), so n must exceed twice that bound.
    """
    Omega = _as_omega(Omega)
    R = _as_count(max_order, "max_order", minimum=0)
    return int(2 * math.ceil(R * float(np.max(np.abs(Omega)))) + 1)

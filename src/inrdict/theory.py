"""Theorem 1 of Yüce et al. (CVPR 2022) and the Jacobi–Anger view of SIREN, checked numerically (SPEC §1, §7).

Everything here is float64 NumPy/SciPy: no JAX, no training, no plotting. Functions return numbers and arrays
that an experiment module can tabulate.

Conventions (one place, used by every function below)
-----------------------------------------------------

* **Frequencies are in cycles per unit.** The input mapping is

      gamma(r) = sin(2 pi Omega r + phi),   Omega in R^{T x D} (rows Omega_t = mapping frequencies), phi in R^T,

  so the paper's angular matrix is ``2 pi Omega``. An integer row is exactly periodic on [0, 1)^D, and a
  frequency vector nu in Z^D is DFT bin ``nu mod n`` of the periodic grid (negative frequencies wrap to the top
  half of the axis).
* **Periodic grid.** ``periodic_grid(n, D)``: points ``j / n``, j = 0..n-1 per axis (``linspace(0, 1, n+1)[:-1]``,
  the SPEC §2 NTK grid), ``meshgrid(indexing="ij")`` flattened row-major, so a signal reshapes to ``(n,) * D``.
* **Depth L counts weight matrices (the paper's Eq. 1).** ``f(r) = W_L z_{L-1} + b_L``,
  ``z_l = rho(W_l z_{l-1} + b_l)`` for l = 1..L-1, ``z_0 = gamma(r)``: L-1 nonlinear layers after the mapping and
  one linear read-out. L = 1 is a linear combination of the mapping itself. With ``rho`` a polynomial of degree K
  each ``z_l`` is a polynomial of degree K^l in the entries of ``z_0``, which is why the bound reads K^(L-1).
* **Theorem 1.** With ``rho(x) = sum_{k=0}^K alpha_k x^k`` the network is a finite sum of sinusoids whose
  frequencies lie in ``H(Omega) = { sum_t s_t Omega_t : s in Z^T, ||s||_1 <= K^(L-1) }``. Proof sketch: write
  ``sin(theta_t) = (e^{i theta_t} - e^{-i theta_t}) / 2i``; a monomial of total degree <= R in the ``z_0`` entries
  expands into exponentials ``e^{i <s, theta>}`` with ``||s||_1 <= R``.
* **Jacobi–Anger.** ``e^{i a sin theta} = sum_{k in Z} J_k(a) e^{i k theta}`` (J_k: Bessel function of the first kind,
  ``scipy.special.jv``; ``J_{-k} = (-1)^k J_k``). For the two-layer sine network (``SineNetwork``)

      f(r) = b2 + sum_m w2_m sin( sum_t W1_{m,t} sin(theta_t(r)) + b1_m ),   theta_t(r) = 2 pi <Omega_t, r> + phi_t,

  taking the imaginary part of ``e^{i b1_m} prod_t e^{i W1_{m,t} sin theta_t}`` gives

      f(r) = b2 + sum_m w2_m sum_{s in Z^T} [prod_t J_{s_t}(W1_{m,t})] sin( <s, theta(r)> + b1_m )
           = b2 + sum_{s in Z^T} Im( A_s e^{2 pi i <Omega^T s, r>} ),
      A_s = e^{i <s, phi>} sum_m w2_m e^{i b1_m} prod_t J_{s_t}(W1_{m,t}).

  With phi = 0 and b1 = 0 this is SPEC §1's formula ``sum_m sum_s w2_m prod_t J_{s_t}(W1_{m,t}) sin(<s, omega> r)``.
  The inner weights W1 are modulation indices: J_k(a) is negligible once |k| exceeds |a| by a few units.

SIREN mapping (see ``sine_network_from_siren``): a SIREN ``D -> T -> M -> 1`` is a ``SineNetwork`` with
``Omega = first_omega0 W_0 / (2 pi)``, ``phi = first_omega0 b_0``, ``W1 = hidden_omega0 W_1``,
``b1 = hidden_omega0 b_1``, ``w2 = W_2[0]``, ``b2 = b_2[0] + output_offset``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
from collections.abc import Callable, Iterable

import numpy as np
from jaxtyping import Bool, Complex, Float, Int, Real
from numpy.typing import ArrayLike
from scipy.special import jv

from inrdict.errors import InrdictError

#: Largest lattice / coefficient set this module enumerates (keeps every call to a few seconds at most).
MAX_ENUMERATED = 2_000_000

#: Default relative per-bin energy threshold of ``measured_support_size``: float64 rounding noise of the
#: networks here sits near 1e-33 of the total energy per bin, genuine harmonics at 1e-16 or above.
DEFAULT_SUPPORT_THRESHOLD = 1e-24

ArrayInput = ArrayLike | tuple | int | float
"""What the functions convert with ``np.asarray``: NumPy's ``ArrayLike`` (arrays, nested lists, JAX arrays) plus what
runtime checkers such as beartype refuse from it although NumPy takes it: tuples (a tuple lacks ``__reversed__``,
so it fails the ``_NestedSequence`` protocol) and plain Python numbers (``ArrayLike`` names only ``complex``,
relying on the PEP 484 numeric tower int < float < complex, which beartype does not apply by default)."""

Count = int | float | np.integer | np.floating
"""A whole number as callers pass it: an int, a NumPy integer, or an integral float (2.0). Checked by
``_as_count``, which refuses 2.5 (and booleans) with an ``InrdictError`` naming the argument."""

Scalar = int | float | np.integer | np.floating
"""A real number (weights' scales, thresholds, shifts)."""

Activation = ArrayInput | str | Callable[[np.ndarray], np.ndarray]
"""Polynomial coefficients alpha_0..alpha_K (increasing powers), a name ('tanh', 'sin', 'relu') or a callable."""


# ----------------------------------------------------------------------------------------------------------------
# Input checking
# ----------------------------------------------------------------------------------------------------------------


def _as_count(value: object, name: str, minimum: int = 0) -> int:
    """A non-negative integer from an int (or an integral float); InrdictError otherwise."""
    if isinstance(value, bool):
        raise InrdictError(f"{name} must be an integer, got the boolean {value}; pass an int")
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    try:
        value = operator.index(value)
    except TypeError:
        raise InrdictError(f"{name} must be an integer, got {value!r}; pass a whole number") from None
    if value < minimum:
        raise InrdictError(f"{name} must be at least {minimum}, got {value}")
    return value


def _as_omega(Omega: ArrayInput) -> Float[np.ndarray, "T D"]:
    """Omega as a float64 (T, D) array; a 1-D array is T frequencies of a 1-D input."""
    Omega = np.asarray(Omega, np.float64)
    if Omega.ndim == 1:
        Omega = Omega[:, None]
    if Omega.ndim != 2 or Omega.shape[0] < 1 or Omega.shape[1] < 1:
        raise InrdictError(f"Omega must have shape (T, D) with T, D >= 1, got shape {Omega.shape}")
    if not np.all(np.isfinite(Omega)):
        raise InrdictError("Omega contains non-finite values; pass finite frequencies (cycles per unit)")
    return Omega


def _is_integer_valued(array: np.ndarray) -> bool:
    return bool(np.all(array == np.round(array)))


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


# ----------------------------------------------------------------------------------------------------------------
# The polynomial INR of Theorem 1
# ----------------------------------------------------------------------------------------------------------------


def periodic_grid(n: Count, dim: Count) -> Float[np.ndarray, "N D"]:
    """The periodic grid of [0, 1)^D: ``n^D`` points ``j / n``, ij-meshgrid flattened row-major, float64 (N, D)."""
    n = _as_count(n, "the grid size n", minimum=1)
    dim = _as_count(dim, "the input dimension D", minimum=1)
    axis = np.arange(n, dtype=np.float64) / n
    mesh = np.meshgrid(*([axis] * dim), indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


@dataclasses.dataclass(frozen=True)
class DenseINRParams:
    """Weights of ``f(r) = W_L z_{L-1} + b_L``, ``z_l = rho(W_l z_{l-1} + b_l)``, ``z_0 = sin(2 pi Omega r + phi)``.

    Attributes:
        Omega: (T, D) mapping frequencies, cycles per unit.
        phase: (T,) mapping phases phi, radians.
        weights: L matrices, ``weights[l-1]`` is W_l of shape (out, in); the first has in = T, the last out = 1.
        biases: L vectors, ``biases[l-1]`` is b_l of shape (out,).
    """

    Omega: Float[np.ndarray, "T D"]
    phase: Float[np.ndarray, " T"]
    weights: tuple[Float[np.ndarray, "_ _"], ...]
    biases: tuple[Float[np.ndarray, " _"], ...]

    @property
    def depth(self) -> int:
        """L, the number of weight matrices (= nonlinear layers + 1)."""
        return len(self.weights)


def init_inr(
    Omega: ArrayInput,
    depth: Count,
    *,
    width: Count = 16,
    seed: Count | np.random.Generator = 0,
    phase: ArrayInput | None = None,
    bias_std: Scalar = 0.5,
) -> DenseINRParams:
    """Random float64 weights of a depth-L dense INR with sinusoidal mapping.

    W_l ~ N(0, 1/fan_in) (variance-preserving), b_l ~ N(0, bias_std^2); ``phase=None`` draws phi ~ U(0, 2 pi).
    Random phases and biases break the symmetries (e.g. odd functions) that would zero some harmonics, so a
    generic network fills its support H(Omega).

    Args:
        Omega: (T, D) or (T,) mapping frequencies, cycles per unit.
        depth: L >= 1, the number of weight matrices; hidden layers all have ``width`` units.
        width: hidden width.
        seed: an int or a ``numpy.random.Generator``; the same seed gives the same weights.
        phase: optional (T,) mapping phases in radians.
        bias_std: standard deviation of the biases.

    Returns:
        The parameters; scalar output.
    """
    Omega = _as_omega(Omega)
    depth = _as_count(depth, "the depth L (number of weight matrices)", minimum=1)
    width = _as_count(width, "width", minimum=1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_as_count(seed, "seed"))
    T = Omega.shape[0]
    if phase is None:
        phase = rng.uniform(0.0, 2.0 * np.pi, T)
    phase = np.asarray(phase, np.float64)
    if phase.shape != (T,):
        raise InrdictError(f"phase must have shape ({T},) like the rows of Omega, got {phase.shape}")
    sizes = [T] + [width] * (depth - 1) + [1]
    weights = tuple(rng.normal(0.0, 1.0 / math.sqrt(n_in), (n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:]))
    biases = tuple(rng.normal(0.0, bias_std, n_out) for n_out in sizes[1:])
    return DenseINRParams(Omega, phase, weights, biases)


def polynomial_activation(alpha: ArrayInput) -> Callable[[np.ndarray], np.ndarray]:
    """``rho(x) = sum_k alpha_k x^k`` (alpha in increasing powers), evaluated by Horner's rule in float64."""
    alpha = _as_alpha(alpha)

    def rho(x: np.ndarray) -> np.ndarray:
        out = np.full_like(x, alpha[-1])
        for a in alpha[-2::-1]:
            out = out * x + a
        return out

    return rho


def _as_alpha(alpha: ArrayInput) -> Float[np.ndarray, " coefficients"]:
    alpha = np.atleast_1d(np.asarray(alpha, np.float64))
    if alpha.ndim != 1 or alpha.size < 2 or not np.all(np.isfinite(alpha)):
        raise InrdictError("alpha must be a 1-D list of finite polynomial coefficients alpha_0..alpha_K with K >= 1")
    nonzero = np.flatnonzero(alpha)
    if nonzero.size == 0 or nonzero[-1] == 0:
        raise InrdictError("the polynomial activation must have degree K >= 1; give a non-zero alpha_k with k >= 1")
    return alpha[: nonzero[-1] + 1]


def polynomial_degree(alpha: ArrayInput) -> int:
    """K, the degree of ``rho`` (trailing zero coefficients ignored)."""
    return _as_alpha(alpha).size - 1


def _activation(activation: Activation) -> Callable[[np.ndarray], np.ndarray]:
    if callable(activation):
        return activation
    if isinstance(activation, str):
        named = {"tanh": np.tanh, "sin": np.sin, "relu": lambda x: np.maximum(x, 0.0)}
        if activation not in named:
            raise InrdictError(
                f"unknown activation {activation!r}: use 'tanh', 'sin', 'relu', coefficients or a callable"
            )
        return named[activation]
    return polynomial_activation(activation)


def evaluate_inr(params: DenseINRParams, coords: ArrayInput, activation: Activation) -> Float[np.ndarray, " N"]:
    """Forward pass in float64 at the points ``coords`` (N, D); returns f, (N,).

    ``activation``: polynomial coefficients alpha (increasing powers), a name ('tanh', 'sin', 'relu') or a
    callable applied elementwise. Hidden states are stored (N, width).
    """
    coords = np.asarray(coords, np.float64)
    if coords.ndim != 2 or coords.shape[1] != params.Omega.shape[1]:
        raise InrdictError(f"coords must have shape (N, {params.Omega.shape[1]}), got {coords.shape}")
    rho = _activation(activation)
    z = np.sin(2.0 * np.pi * coords @ params.Omega.T + params.phase)  # (N, T)
    for W, b in zip(params.weights[:-1], params.biases[:-1]):
        z = rho(z @ W.T + b)
    return (z @ params.weights[-1].T + params.biases[-1])[:, 0]


def sample_inr(params: DenseINRParams, n: Count, activation: Activation) -> Float[np.ndarray, "*grid"]:
    """The network on the periodic grid of [0, 1)^D, reshaped to ``(n,) * D`` (float64). No aliasing check."""
    D = params.Omega.shape[1]
    return evaluate_inr(params, periodic_grid(n, D), activation).reshape((n,) * D)


def polynomial_inr(
    Omega: ArrayInput,
    alpha: ArrayInput,
    depth: Count,
    n: Count | None = None,
    *,
    width: Count = 16,
    seed: Count | np.random.Generator = 0,
    phase: ArrayInput | None = None,
    bias_std: Scalar = 0.5,
) -> Float[np.ndarray, "*grid"]:
    """A random depth-L INR with exact polynomial activation, sampled in float64 on the periodic grid.

    ``f(r) = W_L z_{L-1} + b_L``, ``z_l = rho(W_l z_{l-1} + b_l)``, ``z_0 = sin(2 pi Omega r + phi)``,
    ``rho(x) = sum_k alpha_k x^k``; weights from ``init_inr(Omega, depth, width=..., seed=...)``.

    Args:
        Omega: (T, D) mapping frequencies, cycles per unit (integer rows are periodic on [0, 1)^D).
        alpha: activation coefficients alpha_0..alpha_K (K >= 1).
        depth: L, the number of weight matrices.
        n: grid points per axis; None picks ``min_grid_size(Omega, K^(L-1))`` (the smallest grid without aliasing).
        width, seed, phase, bias_std: see ``init_inr``.

    Returns:
        The samples, shape ``(n,) * D``.

    Raises:
        InrdictError: if the grid is too small for the support ``H(Omega)`` (its harmonics would alias).
    """
    Omega = _as_omega(Omega)
    order = theorem1_order(polynomial_degree(alpha), depth)
    needed = min_grid_size(Omega, order)
    n = needed if n is None else _as_count(n, "the grid size n", minimum=1)
    if n < needed:
        raise InrdictError(
            f"a grid of n={n} points per axis aliases the harmonics of order {order} (frequencies up to "
            f"{(needed - 1) // 2} cycles per unit); use n >= {needed}"
        )
    params = init_inr(Omega, depth, width=width, seed=seed, phase=phase, bias_std=bias_std)
    return sample_inr(params, n, alpha)


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
    depths = [_as_count(L, "depth", minimum=1) for L in depths]
    if not depths:
        raise InrdictError("depths is empty; pass at least one depth L >= 1")
    needed = min_grid_size(Omega, theorem1_order(K, max(depths)))
    n = needed if n is None else _as_count(n, "the grid size n", minimum=1)
    rows = []
    for L in depths:
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


# ----------------------------------------------------------------------------------------------------------------
# Two-layer sine network and its Jacobi–Anger expansion
# ----------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, init=False)
class SineNetwork:
    """``f(r) = b2 + sum_m w2_m sin( sum_t W1_{m,t} sin(2 pi <Omega_t, r> + phi_t) + b1_m )`` in float64.

    Any weights work (random or trained): the constructor takes array-likes (lists, NumPy or JAX arrays),
    converts them to float64 and checks their shapes; the attributes are those float64 arrays.

    Attributes:
        Omega: (T, D) mapping frequencies, cycles per unit (a (T,) argument means D = 1).
        W1: (M, T) inner weights = modulation indices (radians) (an (M,) argument means T = 1).
        w2: (M,) output weights.
        phase: (T,) mapping phases phi (radians); the argument defaults to zeros.
        b1: (M,) inner biases (radians); the argument defaults to zeros.
        b2: output offset; the argument defaults to 0.
    """

    Omega: Float[np.ndarray, "T D"]
    W1: Float[np.ndarray, "M T"]
    w2: Float[np.ndarray, " M"]
    phase: Float[np.ndarray, " T"]
    b1: Float[np.ndarray, " M"]
    b2: float

    def __init__(
        self,
        Omega: ArrayInput,
        W1: ArrayInput,
        w2: ArrayInput,
        phase: ArrayInput | None = None,
        b1: ArrayInput | None = None,
        b2: ArrayInput = 0.0,
    ) -> None:
        Omega = _as_omega(Omega)
        T = Omega.shape[0]
        W1 = np.asarray(W1, np.float64)
        if W1.ndim == 1 and T == 1:
            W1 = W1[:, None]
        if W1.ndim != 2 or W1.shape[1] != T:
            raise InrdictError(f"W1 must have shape (M, {T}) to match Omega's {T} rows, got {W1.shape}")
        M = W1.shape[0]
        w2 = np.asarray(w2, np.float64).reshape(-1)
        phase = np.zeros(T) if phase is None else np.asarray(phase, np.float64).reshape(-1)
        b1 = np.zeros(M) if b1 is None else np.asarray(b1, np.float64).reshape(-1)
        for name, array, size in (("w2", w2, M), ("phase", phase, T), ("b1", b1, M)):
            if array.shape != (size,):
                raise InrdictError(f"{name} must have {size} entries to match W1 of shape {W1.shape}, got {array.size}")
        b2 = np.asarray(b2, np.float64)
        if b2.size != 1:
            raise InrdictError(f"b2 must be a scalar (one output), got shape {b2.shape}")
        for name, array in (("W1", W1), ("w2", w2), ("phase", phase), ("b1", b1), ("b2", b2)):
            if not np.all(np.isfinite(array)):
                raise InrdictError(f"{name} contains non-finite values; pass finite weights")
        for name, value in (("Omega", Omega), ("W1", W1), ("w2", w2), ("phase", phase), ("b1", b1)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "b2", float(b2.reshape(())))

    @property
    def n_frequencies(self) -> int:
        """T."""
        return self.Omega.shape[0]

    @property
    def width(self) -> int:
        """M."""
        return self.W1.shape[0]

    def angles(self, coords: ArrayInput) -> Float[np.ndarray, "N T"]:
        """theta_t(r) = 2 pi <Omega_t, r> + phi_t at every point, (N, T)."""
        coords = np.asarray(coords, np.float64)
        if coords.ndim == 1 and self.Omega.shape[1] == 1:
            coords = coords[:, None]
        if coords.ndim != 2 or coords.shape[1] != self.Omega.shape[1]:
            raise InrdictError(f"coords must have shape (N, {self.Omega.shape[1]}), got {coords.shape}")
        return 2.0 * np.pi * coords @ self.Omega.T + self.phase

    def __call__(self, coords: ArrayInput) -> Float[np.ndarray, " N"]:
        """Direct evaluation, (N,)."""
        return np.sin(np.sin(self.angles(coords)) @ self.W1.T + self.b1) @ self.w2 + self.b2


def random_sine_network(
    T: Count,
    D: Count = 1,
    width: Count = 16,
    *,
    seed: Count | np.random.Generator = 0,
    modulation: Scalar = 1.0,
    max_frequency: Count = 4,
    biases: bool = True,
) -> SineNetwork:
    """A random ``SineNetwork``: integer Omega in [-max_frequency, max_frequency] (non-zero rows),
    W1 ~ N(0, modulation^2), w2 ~ N(0, 1/M); with ``biases`` phi ~ U(0, 2 pi), b1 ~ U(-pi, pi), b2 ~ N(0, 1).
    """
    T = _as_count(T, "T", minimum=1)
    D = _as_count(D, "D", minimum=1)
    width = _as_count(width, "width", minimum=1)
    max_frequency = _as_count(max_frequency, "max_frequency", minimum=1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_as_count(seed, "seed"))
    Omega = rng.integers(-max_frequency, max_frequency + 1, (T, D)).astype(np.float64)
    Omega[np.all(Omega == 0, axis=1), 0] = 1.0
    W1 = rng.normal(0.0, modulation, (width, T))
    w2 = rng.normal(0.0, 1.0 / math.sqrt(width), width)
    if not biases:
        return SineNetwork(Omega, W1, w2)
    return SineNetwork(
        Omega, W1, w2, rng.uniform(0, 2 * np.pi, T), rng.uniform(-np.pi, np.pi, width), float(rng.normal())
    )


def sine_network_from_siren(model) -> SineNetwork:
    """The ``SineNetwork`` equal to a SIREN ``D -> T -> M -> 1`` (``inrdict.Siren`` with two hidden layers).

    SIREN: ``f(r) = W_2 sin(w_h (W_1 sin(w_0 (W_0 r + b_0)) + b_1)) + b_2 + offset`` (``w_0 = first_omega0``,
    ``w_h = hidden_omega0``), so ``Omega = w_0 W_0 / (2 pi)`` (cycles per unit), ``phi = w_0 b_0``,
    ``W1 = w_h W_1``, ``b1 = w_h b_1``, ``w2 = W_2[0]``, ``b2 = b_2[0] + offset``. Weights are copied to float64.

    Raises:
        InrdictError: if the model does not have exactly two sine layers and one scalar output.
    """
    layers = getattr(model, "layers", None)
    if layers is None or len(layers) != 3 or not hasattr(model, "first_omega0"):
        raise InrdictError("expected an inrdict.Siren with exactly two hidden layers, e.g. hidden=(1, M) for T = 1")
    W0, b0, W1, b1, W2, b2 = (np.asarray(a, np.float64) for layer in layers for a in (layer.weight, layer.bias))
    if W2.shape[0] != 1:
        raise InrdictError(f"the SIREN must have one output, got {W2.shape[0]}; fit one channel at a time")
    w0, wh = float(model.first_omega0), float(model.hidden_omega0)
    return SineNetwork(
        Omega=w0 * W0 / (2.0 * np.pi),
        W1=wh * W1,
        w2=W2[0],
        phase=w0 * b0,
        b1=wh * b1,
        b2=float(b2[0]) + float(getattr(model, "output_offset", 0.0)),
    )


def _bessel_table(W1: Float[np.ndarray, "M T"], order: int) -> Float[np.ndarray, "M T orders"]:
    """J_k(W1_{m,t}) for k = -order..order, (M, T, 2 order + 1)."""
    ks = np.arange(-order, order + 1, dtype=np.float64)
    return jv(ks, W1[:, :, None])


def jacobi_anger_series(net: SineNetwork, coords: ArrayInput, order: Count) -> Float[np.ndarray, " N"]:
    """Jacobi–Anger series of ``net`` truncated to the box ``|s_t| <= order``, evaluated at ``coords`` (N, D).

    ``f_n(r) = b2 + sum_m w2_m Im( e^{i b1_m} sum_{|s_t| <= n} prod_t J_{s_t}(W1_{m,t}) e^{i s_t theta_t(r)} )``.
    The box sum factorises, ``sum_{s in box} prod_t c_{t,s_t} = prod_t sum_{|k| <= n} c_{t,k}``, so the
    (2n+1)^T terms cost O(N M T n) (identical to summing ``jacobi_anger_coefficients`` term by term).

    Returns:
        (N,) float64.
    """
    order = _as_count(order, "the truncation order n")
    theta = net.angles(coords)  # (N, T)
    ks = np.arange(-order, order + 1)
    phasors = np.exp(1j * theta[:, :, None] * ks)  # (N, T, 2n+1)
    partial = np.einsum("mtk,ntk->nmt", _bessel_table(net.W1, order), phasors)  # (N, M, T)
    inner = np.prod(partial, axis=2) * np.exp(1j * net.b1)  # (N, M)
    return inner.imag @ net.w2 + net.b2


def jacobi_anger_coefficients(
    net: SineNetwork, order: Count
) -> tuple[Int[np.ndarray, "S T"], Float[np.ndarray, "S D"], Complex[np.ndarray, " S"]]:
    """The dictionary atoms of ``net``: ``f(r) = b2 + sum_s Im(A_s e^{2 pi i <nu_s, r>})`` over ``|s_t| <= order``.

    ``nu_s = Omega^T s`` (cycles per unit) and ``A_s = e^{i <s, phi>} sum_m w2_m e^{i b1_m} prod_t J_{s_t}(W1_{m,t})``;
    atom s is the sinusoid ``|A_s| sin(2 pi <nu_s, r> + arg A_s)``. Pairs s, -s share the frequency line.

    Returns:
        ``(s, nu, A)``: (S, T) int64 harmonic orders, (S, D) frequencies, (S,) complex amplitudes,
        S = (2 order + 1)^T.

    Raises:
        InrdictError: if S exceeds ``MAX_ENUMERATED``.
    """
    order = _as_count(order, "the truncation order n")
    T = net.n_frequencies
    if (2 * order + 1) ** T * net.width * T > MAX_ENUMERATED * 4:  # the (M, S, T) table of Bessel factors
        raise InrdictError(f"(2*{order}+1)^{T} terms are too many to list; use jacobi_anger_series or a lower order")
    s = np.array(list(itertools.product(range(-order, order + 1), repeat=T)), np.int64).reshape(-1, T)
    table = _bessel_table(net.W1, order)  # (M, T, 2n+1)
    products = np.prod(table[:, np.arange(T), s + order], axis=-1)  # (M, S): prod_t J_{s_t}(W1_{m,t})
    amplitudes = np.exp(1j * (s @ net.phase)) * ((net.w2 * np.exp(1j * net.b1)) @ products)
    return s, s.astype(np.float64) @ net.Omega, amplitudes


def evaluate_sinusoids(
    freqs: ArrayInput, amplitudes: ArrayInput, coords: ArrayInput, offset: Scalar = 0.0
) -> Float[np.ndarray, " N"]:
    """``offset + sum_s Im(A_s e^{2 pi i <nu_s, r>})`` at every point, (N,).

    ``freqs`` (S, D) (or (S,) for D = 1) in cycles per unit, ``amplitudes`` (S,) complex, ``coords`` (N, D).
    """
    coords = np.asarray(coords, np.float64)
    if coords.ndim == 1:
        coords = coords[:, None]
    freqs = np.asarray(freqs, np.float64)
    if freqs.ndim == 1:
        freqs = freqs[:, None]
    amplitudes = np.asarray(amplitudes, np.complex128).reshape(-1)
    if freqs.ndim != 2 or freqs.shape[1] != coords.shape[1] or amplitudes.shape != (freqs.shape[0],):
        raise InrdictError(
            f"freqs {freqs.shape}, amplitudes {amplitudes.shape} and coords {coords.shape} do not match: "
            "pass (S, D), (S,) and (N, D)"
        )
    return (np.exp(2j * np.pi * coords @ freqs.T) @ amplitudes).imag + float(offset)


def jacobi_anger_errors(
    net: SineNetwork, orders: Iterable[Count], coords: ArrayInput | None = None
) -> Float[np.ndarray, " orders"]:
    """Max absolute error ``max_r |f_n(r) - f(r)|`` of the truncated series for each order n in ``orders``.

    ``coords=None`` uses the periodic grid (256 points for D = 1, 32^D otherwise). The error falls roughly like
    ``J_{n+1}(max |W1|)`` until float64 rounding (~1e-15 times the size of f).
    """
    if coords is None:
        D = net.Omega.shape[1]
        coords = periodic_grid(256 if D == 1 else 32, D)
    direct = net(coords)
    return np.array([float(np.max(np.abs(jacobi_anger_series(net, coords, n) - direct))) for n in orders])


# ----------------------------------------------------------------------------------------------------------------
# Harmonic amplitudes of a 1-D, one-frequency sine network
# ----------------------------------------------------------------------------------------------------------------


def bessel_harmonic_coefficients(net: SineNetwork, max_harmonic: Count) -> Complex[np.ndarray, " harmonics"]:
    """Complex Fourier coefficients C_k (k = 0..max_harmonic) of a one-frequency net in the angle theta.

    For T = 1, ``f = b2 + sum_m w2_m sin(W1_m sin theta + b1_m) = sum_{k in Z} C_k e^{i k theta}`` with
    ``theta = 2 pi nu r + phi`` and, from ``sin(a sin theta + b) = cos b sin(a sin theta) + sin b cos(a sin theta)``,

        C_0 = b2 + sum_m w2_m J_0(W1_m) sin b1_m,
        C_k = sum_m w2_m J_k(W1_m) sin b1_m          (k even >= 2:  f has 2 C_k cos(k theta)),
        C_k = -i sum_m w2_m J_k(W1_m) cos b1_m       (k odd:       f has 2 |C_k| sin(k theta) up to sign),

    and C_{-k} = conj(C_k). The amplitude of harmonic k (frequency k |nu|) is |C_0| for k = 0, 2 |C_k| otherwise.

    Raises:
        InrdictError: if the net has more than one mapping frequency.
    """
    if net.n_frequencies != 1:
        raise InrdictError(
            f"harmonic amplitudes need one mapping frequency (T = 1), got T = {net.n_frequencies}; "
            "use jacobi_anger_coefficients for several frequencies"
        )
    K = _as_count(max_harmonic, "max_harmonic")
    ks = np.arange(K + 1)
    bessel = jv(ks[None, :], net.W1[:, 0:1])  # (M, K+1)
    even = (net.w2 * np.sin(net.b1)) @ bessel
    odd = (net.w2 * np.cos(net.b1)) @ bessel
    coefficients = np.where(ks % 2 == 0, even + 0j, -1j * odd)
    coefficients[0] += net.b2
    return coefficients


def harmonic_amplitudes(coefficients: ArrayInput) -> Float[np.ndarray, " harmonics"]:
    """One-sided amplitudes of a real signal from C_0..C_K (1-D, complex or real): |C_0|, 2|C_1|, ..., 2|C_K|."""
    coefficients = np.asarray(coefficients, np.complex128)
    if coefficients.ndim != 1 or coefficients.size < 1:
        raise InrdictError(f"coefficients must be a non-empty 1-D array C_0..C_K, got shape {coefficients.shape}")
    amplitudes = 2.0 * np.abs(coefficients)
    amplitudes[0] /= 2.0
    return amplitudes


def alias_free_samples(net: SineNetwork, max_harmonic: Count, tolerance: Scalar = 1e-18) -> int:
    """Samples per period so that harmonics above Nyquist carry < ``tolerance`` of the weights' scale.

    The smallest power of two N >= 64 with N > 2 max_harmonic and
    ``sum_m |w2_m| |J_k(W1_m)| <= tolerance (sum_m |w2_m| + |b2|)`` for every k >= N / 2.
    """
    K = _as_count(max_harmonic, "max_harmonic")
    a = np.abs(net.W1[:, 0])
    scale = float(np.abs(net.w2).sum() + abs(net.b2)) or 1.0
    limit = int(math.ceil(a.max() + 10.0 * a.max() ** (1.0 / 3.0) + 40.0))
    while True:
        ks = np.arange(limit + 1)
        bound = np.abs(jv(ks[:, None], a[None, :])) @ np.abs(net.w2)  # (limit+1,)
        above = np.flatnonzero(bound > tolerance * scale)
        k_tail = int(above[-1]) + 1 if above.size else 0
        if k_tail < limit:
            break
        limit *= 2
    n = 64
    while n <= 2 * max(k_tail, K):
        n *= 2
    return n


@dataclasses.dataclass(frozen=True)
class HarmonicComparison:
    """Bessel prediction vs DFT of the sampled network, harmonics k = 0..K of the mapping frequency nu.

    Attributes:
        harmonics: (K+1,) k.
        frequencies: (K+1,) k |nu|, cycles per unit.
        predicted: (K+1,) amplitudes from ``bessel_harmonic_coefficients``.
        measured: (K+1,) amplitudes from the DFT over one period.
        predicted_coefficients, measured_coefficients: (K+1,) complex C_k (phase of theta removed).
        relative_error: ``max_k |C_k^pred - C_k^meas| / max_k |C_k^pred|``.
        amplitude_relative_error: (K+1,) ``|amp_pred - amp_meas| / max(amp_pred)``.
        n_samples: samples per period used.
    """

    harmonics: Int[np.ndarray, " harmonics"]
    frequencies: Float[np.ndarray, " harmonics"]
    predicted: Float[np.ndarray, " harmonics"]
    measured: Float[np.ndarray, " harmonics"]
    predicted_coefficients: Complex[np.ndarray, " harmonics"]
    measured_coefficients: Complex[np.ndarray, " harmonics"]
    relative_error: float
    amplitude_relative_error: Float[np.ndarray, " harmonics"]
    n_samples: int


def compare_harmonics(
    net: SineNetwork,
    max_harmonic: Count = 10,
    n_samples: Count | None = None,
    evaluate: Callable[[np.ndarray], ArrayInput] | None = None,
) -> HarmonicComparison:
    """Predict each harmonic's amplitude by Jacobi–Anger and measure it from the DFT of the sampled network.

    The network (one mapping frequency nu != 0, D = 1) is exactly periodic with period 1/|nu| whatever nu is,
    so it is sampled over one period, ``r_j = j / (N nu)``, j = 0..N-1 (then ``theta_j = 2 pi j / N + phi``) and
    ``C_k^meas = e^{-i k phi} fft(f)_k / N``. This works for trained weights with arbitrary (non-integer)
    frequencies. Aliasing from harmonics above N/2 is below 1e-18 with the automatic N.

    Args:
        net: a one-frequency, 1-D ``SineNetwork`` (e.g. ``sine_network_from_siren`` of a SIREN 1 -> 1 -> M -> 1).
        max_harmonic: K, the highest harmonic reported.
        n_samples: samples per period; None picks ``alias_free_samples(net, K)``.
        evaluate: optional callable mapping r of shape (N, 1) to f of shape (N,) or (N, 1), sampled instead of
            ``net(r)``, e.g. ``lambda r: np.asarray(inrdict.predict(model, r))`` for the trained model itself
            (float32 then limits the agreement to ~1e-7).

    Returns:
        A ``HarmonicComparison``.
    """
    coefficients = bessel_harmonic_coefficients(net, max_harmonic)
    if net.Omega.shape[1] != 1:
        raise InrdictError(f"compare_harmonics needs a 1-D input (D = 1), got D = {net.Omega.shape[1]}")
    nu = float(net.Omega[0, 0])
    if nu == 0.0:
        raise InrdictError("the mapping frequency is zero, so the network is constant; use a non-zero frequency")
    K = coefficients.size - 1
    n = alias_free_samples(net, K) if n_samples is None else _as_count(n_samples, "n_samples", minimum=1)
    if n <= 2 * K:
        raise InrdictError(f"{n} samples per period cannot resolve harmonic {K}; use n_samples > {2 * K}")
    r = (np.arange(n, dtype=np.float64) / (n * nu))[:, None]
    samples = net(r) if evaluate is None else np.asarray(evaluate(r), np.float64).reshape(-1)
    if samples.shape != (n,):
        raise InrdictError(f"evaluate must return {n} values for {n} points, got shape {samples.shape}")
    ks = np.arange(K + 1)
    measured = np.fft.fft(samples)[: K + 1] / n * np.exp(-1j * ks * float(net.phase[0]))
    predicted_amp, measured_amp = harmonic_amplitudes(coefficients), harmonic_amplitudes(measured)
    scale = max(float(np.abs(coefficients).max()), 1e-300)
    return HarmonicComparison(
        harmonics=ks,
        frequencies=ks * abs(nu),
        predicted=predicted_amp,
        measured=measured_amp,
        predicted_coefficients=coefficients,
        measured_coefficients=measured,
        relative_error=float(np.abs(coefficients - measured).max() / scale),
        amplitude_relative_error=np.abs(predicted_amp - measured_amp) / max(float(predicted_amp.max()), 1e-300),
        n_samples=n,
    )

"""The polynomial INR of Theorem 1: random dense INRs with a polynomial (or named) activation."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable

import numpy as np
from jaxtyping import Float

from inrdict.analysis.theory._checks import Activation, ArrayInput, Count, Scalar, _as_count, _as_omega
from inrdict.analysis.theory.support import min_grid_size, theorem1_order
from inrdict.errors import InrdictError

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
    sizes: list[int] = [T] + [width] * (depth - 1) + [1]
    weights = tuple(rng.normal(0.0, 1.0 / math.sqrt(n_in), (n_out, n_in)) for n_in, n_out in itertools.pairwise(sizes))
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
        named: dict[str, Callable[[np.ndarray], np.ndarray]] = {
            "tanh": np.tanh,
            "sin": np.sin,
            "relu": lambda x: np.maximum(x, 0.0),
        }
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

"""Dense INRs with an elementwise activation: Gauss, sinc, real WIRE (subclasses of `DenseINR`)."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from inrdict.models._common import _positive, _sizes, _uniform_layers
from inrdict.models.dense import DenseINR, Linear, _check_sizes


class _ElementwiseINR(DenseINR):
    """A `DenseINR` on raw coordinates with the linear-layer default initialisation (shared by Gauss, sinc, WIRE)."""

    @staticmethod
    def _default_layers(in_features, hidden, out_features, key, dtype) -> tuple[Linear, ...]:
        """W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) in every layer (the usual linear-layer default)."""
        sizes = (in_features, *_check_sizes(in_features, hidden, out_features), out_features)
        bounds = tuple(1.0 / math.sqrt(n) for n in sizes[:-1])
        return _uniform_layers(key, sizes, bounds, bounds, dtype)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features


class GaussINR(_ElementwiseINR):
    """Coordinate-MLP with Gaussian activations (Ramasinghe & Lucey, "Beyond Periodicity", ECCV 2022).

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = exp(-u² / (2 sigma²))   (the paper's Gaussian activation),
    f(r) = W_L z_{L-1} + b_L (linear output).

    The paper's point is that such activations need no special initialisation; it prescribes none, so the
    linear-layer default W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) is used. sigma sets the bandwidth: the
    activation's Fourier transform is sigma sqrt(2 pi) exp(-sigma² xi² / 2), so smaller sigma passes higher
    frequencies. Default sigma = 0.1 for images on [-1, 1]² (to check: the paper's experiments' sigma).

    Args:
        in_features, hidden, out_features: sizes (2, (256,) * 4, 1 by default).
        sigma: Gaussian width (> 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    sigma: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 sigma: float = 0.1, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.sigma = _positive("the Gaussian width sigma", sigma)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.exp(-(u**2) / (2.0 * self.sigma**2))

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"sigma": self.sigma}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "GaussINR":
        return cls(*_sizes(hyperparameters), sigma=float(hyperparameters["sigma"]), key=jax.random.key(0), dtype=dtype)


class SincINR(_ElementwiseINR):
    """Coordinate-MLP with sinc activations (Saratchandran et al., "A sampling theory perspective on activations
    for implicit neural representations", CVPR 2024).

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = sinc(omega u) = sin(pi omega u) / (pi omega u),  rho(0) = 1,
    f(r) = W_L z_{L-1} + b_L.

    Normalisation: the paper's optimality result (its Riesz-basis and partition-of-unity conditions on the
    integer translates of the activation) holds for the *normalised* sinc sin(pi x)/(pi x), whose translates are
    orthonormal and sum to 1; omega scales the bandwidth (the activation's spectrum is flat up to pi omega
    radians per unit of u and zero beyond). Default omega = 10 for images on [-1, 1]² (to check: chosen to give
    about the Gaussian sigma = 0.1's bandwidth, not taken from the paper). Initialisation: no special scheme
    (to check); W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)).

    Args:
        in_features, hidden, out_features: sizes.
        omega: bandwidth (> 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    omega: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 omega: float = 10.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.omega = _positive("the sinc bandwidth omega", omega)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.sinc(self.omega * u)  # numpy convention: sin(pi x)/(pi x), exact derivatives at 0

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"omega": self.omega}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "SincINR":
        return cls(*_sizes(hyperparameters), omega=float(hyperparameters["omega"]), key=jax.random.key(0), dtype=dtype)


class RealWire(_ElementwiseINR):
    """WIRE with the real Gabor wavelet (Saragadam et al., "WIRE: Wavelet Implicit Neural Representations",
    CVPR 2023, the real-valued variant of its Gabor nonlinearity).

    z_l = psi(W_l z_{l-1} + b_l),  psi(u) = Re[exp(j omega0 u) exp(-|s0 u|²)] = cos(omega0 u) exp(-(s0 u)²),
    f(r) = W_L z_{L-1} + b_L, real weights throughout. omega0 is the wavelet's frequency, s0 its inverse width;
    the paper recommends omega0 = 20, s0 = 10 for images. Initialisation: no special scheme in the paper as we
    read it (to check); W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)).

    Args:
        in_features, hidden, out_features: sizes.
        omega0: wavelet frequency (> 0), keyword-only.
        s0: wavelet scale (>= 0; 0 gives a cosine), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    omega0: float = eqx.field(static=True)
    s0: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 omega0: float = 20.0, s0: float = 10.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.omega0 = _positive("the WIRE frequency omega0", omega0)
        self.s0 = _positive("the WIRE scale s0", s0, allow_zero=True)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.cos(self.omega0 * u) * jnp.exp(-((self.s0 * u) ** 2))

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"omega0": self.omega0, "s0": self.s0}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "RealWire":
        h = hyperparameters
        return cls(*_sizes(h), omega0=float(h["omega0"]), s0=float(h["s0"]), key=jax.random.key(0), dtype=dtype)



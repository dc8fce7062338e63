"""Dense INRs with an elementwise activation: Gauss and sinc (subclasses of `DenseINR`)."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from inrdict.models._common import _positive, _sizes, _uniform_layers
from inrdict.models.dense import DenseINR, Linear, _check_sizes


class _ElementwiseINR(DenseINR):
    """A `DenseINR` on raw coordinates with the linear-layer default initialisation (Gauss, sinc)."""

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
    """Coordinate-MLP with Gaussian activations (Ramasinghe & Lucey, "Beyond Periodicity", ECCV 2022), as the
    reference implementations ship it.

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = exp(-(s u)²),   f(r) = W_L z_{L-1} + b_L (linear output).

    The form exp(-(s u)²) is the reference code's (vishwa91/wire `modules/gauss.py` `GaussLayer.forward`:
    `torch.exp(-(self.scale*self.linear(input))**2)`; liuzhen0212/FINER `models.py` `GaussLayer`, the same); the
    paper's exp(-u²/(2 sigma²)) is this with s = 1/(sqrt(2) sigma). Defaults from one named run,
    liuzhen0212/FINER `run_gauss.sh` at commit 07a9a92: `SCALE=30`, `train_image.py`'s `hidden_layers=3` (a first
    Gauss layer and 3 more: 4 layers); its training (Adam 5e-3, decayed to 0.1×, pixels in [-1, 1]) is
    `inrdict.train.recipes`' "finer". Other values in the sources: vishwa91/wire's `GaussLayer` defaults to 10, and
    its `wire_image_denoise.py` passes its sigma0 as Gauss's scale, 4 at commit 0ac8cba (an outside reading found
    5 at a later HEAD). Imported Gauss weights must name their scale (`inrdict import --set scale=...`): a state
    dict does not hold it and the two repositories disagree. Initialisation: PyTorch's `nn.Linear` default W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) in every
    layer, the output layer too (neither repository re-initialises). Coordinates in [-1, 1]² in both repositories.

    Args:
        in_features, hidden, out_features: sizes (2, (256,) * 4, 1 by default).
        scale: s of exp(-(s u)²) (> 0; larger s, narrower bump, higher frequencies), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    scale: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 scale: float = 30.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.scale = _positive("the Gaussian scale s", scale)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.exp(-((self.scale * u) ** 2))

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"scale": self.scale}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "GaussINR":
        h = hyperparameters
        scale = float(h["scale"]) if "scale" in h else 1.0 / (math.sqrt(2.0) * float(h["sigma"]))  # older: sigma
        return cls(*_sizes(h), scale=scale, key=jax.random.key(0), dtype=dtype)


class SincINR(_ElementwiseINR):
    """Coordinate-MLP with sinc activations (Saratchandran, Ramasinghe, Shevchenko, Long & Lucey, "A sampling theory
    perspective on activations for implicit neural representations", ICML 2024).

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = sinc(omega u) = sin(pi omega u) / (pi omega u),  rho(0) = 1,
    f(r) = W_L z_{L-1} + b_L.

    Sources: the authors released no code that we could find. Normalisation: the paper's optimality result rests on
    the integer translates of the activation forming a Riesz basis and a partition of unity, which holds for the
    *normalised* sinc sin(pi x)/(pi x); omega scales the bandwidth (a flat spectrum up to pi omega radians per unit
    of u). The same authors' CVPR 2024 companion ("From activation to initialization") writes the unnormalised
    sin(omega x)/(omega x), i.e. this class at omega/pi; the public re-implementations we found use the
    normalised `torch.sinc(omega x)` (kushalvyas/alpine `Sinc`, omega = 30). Default omega = 10: ours (no author
    default for images is published), about the bandwidth of a Gaussian exp(-(7 u)²); sweep it. Initialisation:
    PyTorch's `nn.Linear` default W, b ~ U(±1/sqrt(fan_in)), a LeCun-type scheme as the companion paper uses.

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

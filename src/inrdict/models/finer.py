"""FINER (Liu et al., CVPR 2024): rho(u) = sin(omega0 (|u| + 1) u)."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from inrdict.models._common import _positive, _sizes, _uniform_layers
from inrdict.models.dense import DenseINR, _check_sizes


class Finer(DenseINR):
    """FINER: variable-periodic activations (Liu et al., "FINER: Flexible spectral-bias tuning in Implicit NEural
    Representation by Variable-periodic Activation Functions", CVPR 2024).

    z_l = sin(omega_l (|u_l| + 1) u_l),  u_l = W_l z_{l-1} + b_l   (the paper's variable-periodic activation),
    f(r) = W_L z_{L-1} + b_L.

    The local frequency omega (2|u| + 1) grows with |u|, so the range of the first layer's bias decides which
    frequencies the network starts with. Initialisation (SIREN's for the weights, as in the paper):
    first layer W ~ U(-1/fan_in, 1/fan_in); later layers and the output layer
    W ~ U(-sqrt(6/fan_in)/hidden_omega0, +sqrt(6/fan_in)/hidden_omega0); first-layer bias b ~ U(-k, k) with the
    paper's larger k (`first_bias_scale`, default 20, to check); other biases the linear-layer default
    U(-1/sqrt(fan_in), +1/sqrt(fan_in)) (as SIREN's PyTorch implementation leaves them). omega0 = 30 as in SIREN.

    Warning: the scale (|u| + 1) is differentiated through, following the paper's math (rho'(u) =
    omega (2|u| + 1) cos(omega (|u| + 1) u)); an implementation that treats it as a constant in the backward pass
    computes a different gradient (omega (|u| + 1) cos(...)) and a different NTK.

    Args:
        in_features, hidden, out_features: sizes.
        first_omega0, hidden_omega0: omega of the first / later layers (> 0), keyword-only.
        first_bias_scale: k of the first layer's bias U(-k, k) (>= 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    first_omega0: float = eqx.field(static=True)
    hidden_omega0: float = eqx.field(static=True)
    first_bias_scale: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 first_omega0: float = 30.0, hidden_omega0: float = 30.0, first_bias_scale: float = 20.0,
                 key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        self.first_omega0 = _positive("FINER's first_omega0", first_omega0)
        self.hidden_omega0 = _positive("FINER's hidden_omega0", hidden_omega0)
        self.first_bias_scale = _positive("FINER's first_bias_scale", first_bias_scale, allow_zero=True)
        sizes = (in_features, *hidden, out_features)
        weight_bounds = (1.0 / in_features, *(math.sqrt(6.0 / n) / self.hidden_omega0 for n in sizes[1:-1]))
        bias_bounds = (self.first_bias_scale, *(1.0 / math.sqrt(n) for n in sizes[1:-1]))
        self.layers = _uniform_layers(key, sizes, weight_bounds, bias_bounds, dtype)

    def omega(self, index: int) -> float:
        return self.first_omega0 if index == 0 else self.hidden_omega0

    def activate(self, index: int, u: Array) -> Array:
        return jnp.sin(self.omega(index) * (jnp.abs(u) + 1.0) * u)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"first_omega0": self.first_omega0, "hidden_omega0": self.hidden_omega0,
                                            "first_bias_scale": self.first_bias_scale}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "Finer":
        h = hyperparameters
        return cls(*_sizes(h), first_omega0=float(h["first_omega0"]), hidden_omega0=float(h["hidden_omega0"]),
                   first_bias_scale=float(h["first_bias_scale"]), key=jax.random.key(0), dtype=dtype)  # fmt: skip



"""Implicit neural representations as Equinox modules (SPEC §3).

Every model here is a *dense INR*:

    z_0 = encode(r),   u_l = W_l z_{l-1} + b_l,   z_l = act_l(u_l)   (l = 1 .. L-1),
    f(r) = W_L z_{L-1} + b_L + output_offset.

The three families differ only in `encode`, `act_l` and initialisation:

* `ReluMLP`   encode = identity,               act = relu,                LeCun truncated normal.
* `FFN`       encode = [sin 2πBr, cos 2πBr],    act = relu,                LeCun truncated normal; B frozen.
* `Siren`     encode = identity,               act_l = sin(omega_l u_l),  SIREN uniform init.

Keeping them in one shape is what lets `fit`, meta-learning and the structured NTK treat them alike: a model
exposes `encode`, `layers` (tuple of `Linear`) and `activate(index, u)`. `__call__` maps one point
`(in_features,)` to `(out_features,)`; batch with `jax.vmap`.

Weights are stored `(out, in)` and applied as `W @ x` (Equinox's convention). The authors' Haiku pickle stores
`(in, out)`: transpose once, when importing.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from inrdict.errors import InrdictError

# Haiku/Flax "truncated_normal" variance scaling divides by the std of a unit normal truncated to [-2, 2],
# so that the truncated draw has exactly the requested standard deviation.
_TRUNCATED_NORMAL_STD = 0.87962566103423978

SirenConvention = Literal["fit", "ntk"]


def lecun_truncated_normal(key: PRNGKeyArray, shape: tuple[int, int], fan_in: int, dtype=jnp.float32) -> Array:
    """Haiku's default weight init: truncated normal on [-2s, 2s] with s = 1/(0.8796 sqrt(fan_in)).

    The resulting weights have standard deviation exactly 1/sqrt(fan_in) (variance scaling 1.0, fan-in).
    """
    stddev = 1.0 / math.sqrt(fan_in) / _TRUNCATED_NORMAL_STD
    return stddev * jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)


def symmetric_uniform(key: PRNGKeyArray, shape: tuple[int, ...], bound: float, dtype=jnp.float32) -> Array:
    """U(-bound, bound)."""
    return jax.random.uniform(key, shape, dtype, -bound, bound)


class Linear(eqx.Module):
    """u = W x + b with W of shape (out, in)."""

    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.weight @ x + self.bias

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]


def _check_sizes(in_features: int, hidden: tuple[int, ...], out_features: int) -> tuple[int, ...]:
    hidden = tuple(int(h) for h in hidden)
    if in_features < 1 or out_features < 1 or not hidden or any(h < 1 for h in hidden):
        raise InrdictError(
            f"network sizes must be positive with at least one hidden layer, got in={in_features}, "
            f"hidden={hidden}, out={out_features}"
        )
    return hidden


def _lecun_layers(sizes: tuple[int, ...], key: PRNGKeyArray, dtype) -> tuple[Linear, ...]:
    """Dense layers with LeCun truncated-normal weights and zero biases (Haiku/Flax defaults)."""
    keys = jax.random.split(key, len(sizes) - 1)
    return tuple(
        Linear(lecun_truncated_normal(k, (n_out, n_in), n_in, dtype), jnp.zeros((n_out,), dtype))
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])
    )


class DenseINR(eqx.Module):
    """Shared forward pass of the dense INRs. Subclasses define `layers`, `encode` and `activate`."""

    layers: tuple[Linear, ...]
    # Names of array fields that are fixed, not trained (see `partition_trainable`). `encode` may only use these
    # (never trained parameters), so fitting can compute the input mapping of fixed points once.
    frozen_fields: ClassVar[tuple[str, ...]] = ()

    def encode(self, r: Float[Array, " d"]) -> Float[Array, " e"]:
        return r

    def activate(self, index: int, u: Array) -> Array:
        raise NotImplementedError

    @property
    def output_offset(self) -> float:
        return 0.0

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " out"]:
        return self.head(self.encode(r))

    def head(self, z: Float[Array, " e"]) -> Float[Array, " out"]:
        """The network after the input mapping: f(r) = head(encode(r))."""
        for index, layer in enumerate(self.layers[:-1]):
            z = self.activate(index, layer(z))
        return self.layers[-1](z) + self.output_offset

    @property
    def in_features(self) -> int:
        raise NotImplementedError

    @property
    def out_features(self) -> int:
        return self.layers[-1].out_features

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(layer.out_features for layer in self.layers[:-1])

    def hyperparameters(self) -> dict:
        """JSON-able settings that, with the arrays' shapes, describe this model (checkpoints store them)."""
        return {"in_features": int(self.in_features), "hidden": [int(h) for h in self.hidden],
                "out_features": int(self.out_features)}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "DenseINR":
        """A model with these settings, arrays drawn from `key(0)`: the skeleton a checkpoint's arrays fill."""
        h = hyperparameters
        return cls(int(h["in_features"]), tuple(int(w) for w in h["hidden"]), int(h["out_features"]),
                   key=jax.random.key(0), dtype=dtype)  # fmt: skip


class ReluMLP(DenseINR):
    """ReLU MLP on raw coordinates: the NTK baseline of Figs. 4–5 (2 → 256 ×4 → 1)."""

    def __init__(
        self,
        in_features: int = 2,
        hidden: tuple[int, ...] = (256, 256, 256, 256),
        out_features: int = 1,
        *,
        key: PRNGKeyArray,
        dtype=jnp.float32,
    ):
        hidden = _check_sizes(in_features, hidden, out_features)
        self.layers = _lecun_layers((in_features, *hidden, out_features), key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jax.nn.relu(u)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features


class FFN(DenseINR):
    """Fourier-feature network: gamma(r) = [sin(2π B r), cos(2π B r)], then a ReLU MLP.

    B has shape (T, D) and is frozen (never trained); Omega = 2π B in radians per unit. Build B with
    `gaussian_frequencies` (random Fourier features), `single_frequency` (B = f0 I) or
    `positional_encoding_frequencies` (NeRF). Initialisation of the MLP: LeCun truncated normal, zero biases.
    """

    B: Float[Array, "T D"]
    frozen_fields: ClassVar[tuple[str, ...]] = ("B",)

    def __init__(
        self,
        B: Float[Array, "T D"],
        hidden: tuple[int, ...] = (256, 256, 256),
        out_features: int = 1,
        *,
        key: PRNGKeyArray,
        dtype=jnp.float32,
    ):
        B = jnp.asarray(B, dtype)
        if B.ndim != 2:
            raise InrdictError(f"the frequency matrix B must have shape (T, D), got shape {B.shape}")
        hidden = _check_sizes(B.shape[1], hidden, out_features)
        self.B = B
        self.layers = _lecun_layers((2 * B.shape[0], *hidden, out_features), key, dtype)

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"n_frequencies": int(self.B.shape[0])}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "FFN":
        h = hyperparameters
        B = jnp.zeros((int(h["n_frequencies"]), int(h["in_features"])), dtype)
        return cls(B, tuple(int(w) for w in h["hidden"]), int(h["out_features"]), key=jax.random.key(0), dtype=dtype)

    def encode(self, r: Float[Array, " D"]) -> Float[Array, " e"]:  # e = 2T
        projection = 2 * jnp.pi * (self.B @ r)  # (T,)
        return jnp.concatenate([jnp.sin(projection), jnp.cos(projection)])

    def activate(self, index: int, u: Array) -> Array:
        return jax.nn.relu(u)

    @property
    def in_features(self) -> int:
        return self.B.shape[1]


def gaussian_frequencies(key: PRNGKeyArray, n_features: int, in_features: int, sigma: float) -> Array:
    """Random Fourier features: B = sigma * N(0, 1) of shape (n_features, in_features)."""
    return sigma * jax.random.normal(key, (n_features, in_features))


def single_frequency(f0: float, in_features: int = 2) -> Array:
    """Single-frequency mapping B = f0 I: the FFN is then exactly 1/f0-periodic along every axis."""
    return f0 * jnp.eye(in_features)


def positional_encoding_frequencies(n_octaves: int, in_features: int = 2) -> Array:
    """NeRF positional encoding sin/cos(2^k π r_d), k = 0..n_octaves-1, as B rows 2^(k-1) e_d."""
    rows = [2.0 ** (k - 1) * np.eye(in_features)[d] for k in range(n_octaves) for d in range(in_features)]
    return jnp.asarray(np.stack(rows), jnp.float32)


class Siren(DenseINR):
    """SIREN: z_l = sin(omega_l (W_l z_{l-1} + b_l)), linear output layer (SPEC §3).

    omega_1 = `first_omega0`, later layers use `hidden_omega0`. Initialisation:
    first layer W ~ U(-1/fan_in, 1/fan_in); later layers and the output layer
    W ~ U(-sqrt(6/fan_in)/hidden_omega0, +sqrt(6/fan_in)/hidden_omega0).

    Warning — two bias conventions exist in the original code and both are here:

    * ``convention="fit"`` (Fig. 3): biases drawn from the same uniform as that layer's weights, no offset.
    * ``convention="ntk"`` (Figs. 4–5, meta-learning, the authors' published weights): zero initial biases and a
      constant +0.5 added to the output.
    """

    first_omega0: float = eqx.field(static=True)
    hidden_omega0: float = eqx.field(static=True)
    convention: SirenConvention = eqx.field(static=True)

    def __init__(
        self,
        in_features: int = 2,
        hidden: tuple[int, ...] = (256, 256, 256, 256),
        out_features: int = 1,
        *,
        first_omega0: float = 30.0,
        hidden_omega0: float = 30.0,
        convention: SirenConvention = "ntk",
        key: PRNGKeyArray,
        dtype=jnp.float32,
    ):
        hidden = _check_sizes(in_features, hidden, out_features)
        if convention not in ("fit", "ntk"):
            raise InrdictError(f"unknown SIREN bias convention {convention!r}: use 'fit' or 'ntk'")
        if first_omega0 <= 0 or hidden_omega0 <= 0:
            raise InrdictError(f"SIREN omegas must be positive, got {first_omega0=}, {hidden_omega0=}")
        self.first_omega0 = float(first_omega0)
        self.hidden_omega0 = float(hidden_omega0)
        self.convention = convention
        sizes = (in_features, *hidden, out_features)
        layers = []
        for index, (k, n_in, n_out) in enumerate(zip(jax.random.split(key, len(sizes) - 1), sizes[:-1], sizes[1:])):
            bound = 1.0 / n_in if index == 0 else math.sqrt(6.0 / n_in) / self.hidden_omega0
            wkey, bkey = jax.random.split(k)
            weight = symmetric_uniform(wkey, (n_out, n_in), bound, dtype)
            if convention == "fit":
                bias = symmetric_uniform(bkey, (n_out,), bound, dtype)
            else:
                bias = jnp.zeros((n_out,), dtype)
            layers.append(Linear(weight, bias))
        self.layers = tuple(layers)

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {
            "first_omega0": self.first_omega0, "hidden_omega0": self.hidden_omega0, "convention": self.convention,
        }  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "Siren":
        h = hyperparameters
        return cls(
            int(h["in_features"]), tuple(int(w) for w in h["hidden"]), int(h["out_features"]),
            first_omega0=float(h["first_omega0"]), hidden_omega0=float(h["hidden_omega0"]),
            convention=h["convention"], key=jax.random.key(0), dtype=dtype,
        )  # fmt: skip

    def omega(self, index: int) -> float:
        return self.first_omega0 if index == 0 else self.hidden_omega0

    def activate(self, index: int, u: Array) -> Array:
        return jnp.sin(self.omega(index) * u)

    @property
    def output_offset(self) -> float:
        return 0.5 if self.convention == "ntk" else 0.0

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features


def trainable_filter(model: eqx.Module):
    """Boolean pytree: True on the arrays that are trained: every inexact array except the model class's
    `frozen_fields` (any Equinox module may declare them; a module without them trains every array)."""
    spec = jax.tree_util.tree_map(eqx.is_inexact_array, model)
    for name in getattr(type(model), "frozen_fields", ()):
        spec = eqx.tree_at(lambda m, name=name: getattr(m, name), spec, replace=False)
    return spec


def partition_trainable(model: eqx.Module) -> tuple[eqx.Module, eqx.Module]:
    """Split a model into (trainable, frozen) halves; `eqx.combine(trainable, frozen)` rebuilds it.

    This is the single place that decides what is trained: fitting, meta-learning and the NTK all use it.
    """
    return eqx.partition(model, trainable_filter(model))


def count_parameters(model: eqx.Module) -> int:
    """Number of trainable scalars (SIREN 2 → 256 ×4 → 1 has 198,401). Complex parameters count once each."""
    trainable, _ = partition_trainable(model)
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(trainable))

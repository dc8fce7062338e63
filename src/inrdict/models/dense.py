"""Implicit neural representations as Equinox modules (SPEC §3).

Every model here is a *dense INR*:

    z_0 = encode(r),   u_l = W_l z_{l-1} + b_l,   z_l = act_l(u_l)   (l = 1 .. L-1),
    f(r) = W_L z_{L-1} + b_L + output_offset.

The three families differ only in `encode`, `act_l` and initialisation:

* `ReluMLP`   encode = identity,               act = relu,                LeCun truncated normal.
* `FFN`       encode = [sin 2πBr, cos 2πBr],    act = relu,                LeCun truncated normal; B frozen.
* `Siren`     encode = identity,               act_l = sin(omega_l u_l),  SIREN uniform init.

Trainable and frozen input mappings (the paper's appendix, Figs. 6–8): `Siren` trains its first layer (SIREN*);
`SirenFrozenFirst` freezes it, so it becomes a fixed mapping encode = sin(omega_0 (W_0 r + b_0)); `FFN` keeps B
fixed; `FFNStar` trains B (FFN* from random Fourier features, SFM* from B = f0 I). Which arrays are trained is
decided by each class's `frozen_fields` alone (`partition_trainable`); `encode` is always the *fixed* part of the
network, so a trained mapping lives in `head` (FFNStar's `encode` is the identity).

Keeping them in one shape is what lets `fit`, meta-learning and the structured NTK treat them alike: a model
exposes `encode`, `layers` (tuple of `Linear`) and `activate(index, u)`. `__call__` maps one point
`(in_features,)` to `(out_features,)`; batch with `jax.vmap`.

Weights are stored `(out, in)` and applied as `W @ x` (Equinox's convention). The authors' Haiku pickle stores
`(in, out)`: transpose once, when importing.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models import sine
from inrdict.models.family import SOURCE_FINER, Family, Recipe, register

# Haiku/Flax "truncated_normal" variance scaling divides by the std of a unit normal truncated to [-2, 2],
# so that the truncated draw has exactly the requested standard deviation.
_TRUNCATED_NORMAL_STD = 0.87962566103423978

SirenConvention = Literal["vsitzmann", "lucidrains", "fit", "ntk"]
SIREN_CONVENTIONS = ("vsitzmann", "lucidrains", "ntk")  # "fit" is SPEC §3's name for "lucidrains" (same draws)


def siren_bias_bound(convention: str, fan_in: int, weight_bound: float) -> float:
    """Half-width of the uniform a SIREN layer's initial bias is drawn from (0: zero biases), the same rule in every
    layer, the output layer included.

    * "vsitzmann" — vsitzmann/siren (`explore_siren.ipynb` `SineLayer.init_weights`, `modules.py` `sine_init` /
      `first_layer_sine_init`) re-draws only the weights, so biases keep `nn.Linear`'s default U(±1/sqrt(fan_in));
    * "lucidrains" (= SPEC §3's "fit", the paper's Fig. 3) — lucidrains/siren-pytorch `Siren.init_` draws the
      bias from the weight's own U(±bound): 1/fan_in in the first layer, sqrt(6/fan_in)/omega0 after;
    * "ntk" — the authors' Haiku NTK code: zero biases (and a +0.5 output offset, `Siren.output_offset`).

    At width 256 the hidden bound is 0.0625 ("vsitzmann") against 0.0051 ("lucidrains", omega0 = 30).
    """
    return {"vsitzmann": 1.0 / math.sqrt(fan_in), "lucidrains": weight_bound, "ntk": 0.0}[convention]


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
        # The subclasses' constructor (DenseINR's own, generated by the dataclass, takes `layers`).
        constructor: Callable[..., DenseINR] = cls
        return constructor(int(h["in_features"]), tuple(int(w) for w in h["hidden"]), int(h["out_features"]),
                           key=jax.random.key(0), dtype=dtype)  # fmt: skip


def dense_layer_features(model: DenseINR, z: Float[Array, "n e"]) -> tuple[list[tuple[Array, Array]], Array]:
    """(pairs, df/dz), the structured NTK factors of a dense stack (`inrdict.ntk.layer_features`): the (A, D) pairs of `model.layers` (with `model.activate`) applied to mapped inputs z, and
    the sensitivity df/dz (n, e) of the output to those inputs (what a trained input mapping's own term needs)."""
    inputs, slopes = [], []
    for index, layer in enumerate(model.layers[:-1]):
        inputs.append(z)
        u = z @ layer.weight.T + layer.bias[None, :]  # (n, out)
        z, slope = jax.jvp(lambda v, index=index: model.activate(index, v), (u,), (jnp.ones_like(u),))
        slopes.append(slope)
    inputs.append(z)
    d = jnp.ones((z.shape[0], 1), z.dtype)  # (n, 1): f = u_L
    sensitivities = [d]
    for layer, slope in zip(reversed(model.layers[1:]), reversed(slopes)):
        d = (d @ layer.weight) * slope  # (n, width)
        sensitivities.append(d)
    return list(zip(inputs, reversed(sensitivities))), d @ model.layers[0].weight


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
        return self.fourier_features(r)

    def fourier_features(self, r: Float[Array, " D"]) -> Float[Array, " e"]:
        """gamma(r) = [sin(2π B r), cos(2π B r)], shape (2T,)."""
        projection = 2 * jnp.pi * (self.B @ r)  # (T,)
        return jnp.concatenate([sine.sin(projection), sine.cos(projection)])

    def activate(self, index: int, u: Array) -> Array:
        return jax.nn.relu(u)

    @property
    def in_features(self) -> int:
        return self.B.shape[1]


class FFNStar(FFN):
    """FFN* / SFM*: a Fourier-feature network whose frequencies B are trained with the MLP (paper App., Fig. 8).

    Same arrays and initialisation as `FFN`: FFN* starts from random Fourier features (`gaussian_frequencies`),
    SFM* from a single frequency B = f0 I (`single_frequency`; the whole T x D matrix is trained, so the diagonal
    frequencies and any cross terms can move). Omega = 2π B in radians per unit, as for `FFN`.

    B is not in `frozen_fields`, so `partition_trainable` (fitting, meta-learning, the NTK) trains it. Because the
    mapping changes during training it is part of `head`, and `encode` is the identity: fitting must not compute
    the Fourier features once. The structured NTK gets one more term, for B (`structured_ntk_features`).
    """

    frozen_fields: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:  # Equinox uses FFN's constructor; a type checker would synthesise one from the fields
        __init__ = FFN.__init__

    def encode(self, r: Float[Array, " D"]) -> Float[Array, " D"]:
        return r

    def head(self, r: Float[Array, " D"]) -> Float[Array, " out"]:
        """The whole network: the trained mapping, then the ReLU MLP."""
        return super().head(self.fourier_features(r))

    def structured_ntk_features(self, points: Float[Array, "n D"]) -> list[tuple[Array, Array]]:
        """NTK pairs (A, D) (see `inrdict.ntk.layer_features`): the MLP's dense layers on gamma(r), plus B.

        With p = 2π B r (T,) and e = df/dp = df/dsin(p) ⊙ cos(p) - df/dcos(p) ⊙ sin(p), the gradient of f
        with respect to B_{t,d} is 2π e_t r_d. B has no bias, so its term sum_d (D_d D_dᵀ) with D_d = 2π e r_d
        is written as one pair per input coordinate d with no A columns (D_d D_dᵀ ⊙ (0 + 1)).
        """
        points = jnp.asarray(points, self.B.dtype)  # (n, D)
        projection = 2 * jnp.pi * (points @ self.B.T)  # (n, T)
        features = jnp.concatenate([sine.sin(projection), sine.cos(projection)], axis=1)  # (n, 2T)
        pairs, d_features = dense_layer_features(self, features)  # d_features = df/dgamma, (n, 2T)
        n_frequencies = self.B.shape[0]
        e = d_features[:, :n_frequencies] * sine.cos(projection) - d_features[:, n_frequencies:] * sine.sin(projection)
        no_columns = jnp.zeros((points.shape[0], 0), points.dtype)
        return pairs + [(no_columns, 2 * jnp.pi * e * points[:, d : d + 1]) for d in range(points.shape[1])]


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


def _siren_settings(model) -> dict:
    """The static settings of a SIREN (`Siren`, `SirenFrozenFirst`) that its `hyperparameters()` add."""
    return {"first_omega0": model.first_omega0, "hidden_omega0": model.hidden_omega0, "convention": model.convention}


class Siren(DenseINR):
    """SIREN: z_l = sin(omega_l (W_l z_{l-1} + b_l)), linear output layer (SPEC §3).

    omega_1 = `first_omega0`, later layers use `hidden_omega0`. Initialisation:
    first layer W ~ U(-1/fan_in, 1/fan_in); later layers and the output layer
    W ~ U(-sqrt(6/fan_in)/hidden_omega0, +sqrt(6/fan_in)/hidden_omega0).

    Warning — three bias conventions, each named after its source (`siren_bias_bound`):

    * ``"vsitzmann"`` (the SIREN authors' code; the default for fitting, `inrdict.train.recipes`): biases
      U(±1/sqrt(fan_in)), PyTorch's `nn.Linear` default, which vsitzmann/siren never re-draws; no offset.
    * ``"lucidrains"`` (lucidrains/siren-pytorch; ``"fit"`` is SPEC §3's name for it, the paper's Fig. 3 and the
      1-D studies): biases drawn from the same uniform as that layer's weights, no offset.
    * ``"ntk"`` (the paper's Figs. 4–5, meta-learning, the authors' published weights; the constructor's default):
      zero initial biases and a constant +0.5 added to the output.
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
        if convention not in (*SIREN_CONVENTIONS, "fit"):
            raise InrdictError(f"unknown SIREN bias convention {convention!r}: use one of "
                               f"{', '.join(SIREN_CONVENTIONS)} ('fit' = 'lucidrains')")  # fmt: skip
        convention = "lucidrains" if convention == "fit" else convention
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
            bias_bound = siren_bias_bound(convention, n_in, bound)
            bias = symmetric_uniform(bkey, (n_out,), bias_bound, dtype) if bias_bound else jnp.zeros((n_out,), dtype)
            layers.append(Linear(weight, bias))
        self.layers = tuple(layers)

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | _siren_settings(self)

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
        return sine.sin(self.omega(index) * u)

    @property
    def output_offset(self) -> float:
        return 0.5 if self.convention == "ntk" else 0.0

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features


class SirenFrozenFirst(DenseINR):
    """SIREN with a frozen first layer: a fixed input mapping gamma(r) = sin(omega_0 (W_0 r + b_0)) (paper App., Fig. 6).

    Built from a `Siren` (`SirenFrozenFirst(siren)`): the same arrays and the same function, but the first layer,
    weight *and* bias, is in `frozen_fields`, so it is never trained. It is then exactly the paper's sinusoidal
    mapping gamma(r) = sin(Omega r + phi) with Omega = omega_0 W_0 and phi = omega_0 b_0 fixed (a fixed phase does not
    change a period), followed by the SIREN's hidden layers (all with `hidden_omega0`) and linear output layer.
    Fitting computes the mapping of the training points once, like an FFN's.

    `hidden` is the Siren's (the first layer's width first); `hyperparameters()` are the Siren's too.
    """

    first: Linear
    first_omega0: float = eqx.field(static=True)
    hidden_omega0: float = eqx.field(static=True)
    convention: SirenConvention = eqx.field(static=True)
    frozen_fields: ClassVar[tuple[str, ...]] = ("first",)

    def __init__(self, siren: Siren):
        if not isinstance(siren, Siren):
            raise InrdictError(f"SirenFrozenFirst freezes the first layer of a Siren, got a {type(siren).__name__}")
        self.first, self.layers = siren.layers[0], siren.layers[1:]
        self.first_omega0, self.hidden_omega0, self.convention = (
            siren.first_omega0,
            siren.hidden_omega0,
            siren.convention,
        )

    def encode(self, r: Float[Array, " d"]) -> Float[Array, " e"]:
        return sine.sin(self.first_omega0 * self.first(r))

    def activate(self, index: int, u: Array) -> Array:
        return sine.sin(self.hidden_omega0 * u)

    @property
    def output_offset(self) -> float:
        return 0.5 if self.convention == "ntk" else 0.0

    @property
    def in_features(self) -> int:
        return self.first.in_features

    @property
    def hidden(self) -> tuple[int, ...]:
        return (self.first.out_features, *super().hidden)

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | _siren_settings(self)

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "SirenFrozenFirst":
        return cls(Siren.from_hyperparameters(hyperparameters, dtype=dtype))


def trainable_filter(model: eqx.Module):
    """Boolean pytree: True on the arrays that are trained: every inexact array except the model class's
    `frozen_fields` (any Equinox module may declare them, dotted for a wrapped module's, e.g. "model.B"; a module
    without them trains every array)."""
    spec = jax.tree_util.tree_map(eqx.is_inexact_array, model)
    for name in getattr(model, "frozen_fields", ()):
        spec = eqx.tree_at(operator.attrgetter(name), spec, replace=False)  # a dotted name: attribute by attribute
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


# ----------------------------------------------------------------------------------------------------------------
# The paper's three families (SPEC §3) as registry records (`inrdict.models.family`)
# ----------------------------------------------------------------------------------------------------------------


def _positive_sigma(sigma: float) -> float:
    sigma = float(sigma)
    if not (math.isfinite(sigma) and sigma > 0):
        raise InrdictError(f"the FFN sigma must be a finite positive number, got {sigma}")
    return sigma


def ffn(in_features: int = 2, hidden: tuple[int, ...] = (256,) * 3, out_features: int = 1, *, sigma: float = 10.0,
        n_features: int = 256, key: PRNGKeyArray, dtype=jnp.float32) -> FFN:  # fmt: skip
    """FFN with random Fourier features B = sigma N(0, 1) of shape (n_features, in_features) (SPEC §3; sigma = 10,
    T = 256 as the paper's Fig. 2). One key, split into B's and the MLP's."""
    b_key, mlp_key = jax.random.split(key)
    B = gaussian_frequencies(b_key, int(n_features), in_features, _positive_sigma(sigma))
    return FFN(B, hidden, out_features, key=mlp_key, dtype=dtype)


_TANCIK = "tancik/fourier-feature-networks Demo.ipynb"
_PAPER_GRID = "the paper's NTK grid (SPEC §4: linspace(0, 1, N + 1)[:-1])"
_LUCIDRAINS = "lucidrains/siren-pytorch siren_pytorch.py"

# Tancik et al.'s demo (Adam lr 1e-3, 2000 iterations, pixels in [0, 1], inputs [0, 1)) trains the no-mapping
# row and the FFN; 3 hidden layers as the paper's FFN.
RELU = register(Family(
    name="relu", build=ReluMLP, classes=(ReluMLP,), prng_id=1, domain=(0.0, 1.0), domain_source=_PAPER_GRID,
    reference="the paper's ReLU baseline (SPEC §3)",
    recipes=(Recipe("relu", "tancik", 1e-3, 2000, f"{_TANCIK} (the no-mapping row)", depth=3, domain=(0.0, 1.0)),),
))  # fmt: skip
FFN_FAMILY = register(Family(
    name="ffn", build=ffn, classes=(FFN, FFNStar), prng_id=101, domain=(0.0, 1.0),
    domain_source=f"{_PAPER_GRID}; Tancik et al.'s FFN code also uses [0, 1)",
    reference="Tancik et al., NeurIPS 2020 (random Fourier features; SPEC §3)", knob="sigma",
    knob_fields={"sigma": "sigma", "n_features": "n_features"}, depth=3,
    recipes=(Recipe("ffn", "tancik", 1e-3, 2000, _TANCIK, depth=3, domain=(0.0, 1.0)),),
))  # fmt: skip
_VSITZMANN = "vsitzmann/siren explore_siren.ipynb (Adam lr 1e-4, total_steps 500, Normalize(0.5, 0.5) → [-1, 1])"
SIREN = register(Family(
    name="siren", build=Siren, classes=(Siren, SirenFrozenFirst), prng_id=2, domain=(0.0, 1.0),
    domain_source=f"{_PAPER_GRID}; its meta-learned SIREN was trained there",
    reference="Sitzmann et al., NeurIPS 2020 (vsitzmann/siren; SPEC §3)", knob="first_omega0",
    knob_fields={"omega0": "first_omega0", "hidden_omega0": "hidden_omega0", "convention": "convention"},
    recipes=(
        # the SIREN authors' fitting code and bias convention; explore_siren.ipynb's Siren(hidden_layers=3): a first
        # sine layer and 3 more, so 4 sine layers
        Recipe("siren", "vsitzmann", 1e-4, 500, _VSITZMANN, target_range=(-1.0, 1.0), depth=4,
               knobs={"convention": "vsitzmann"}),
        # liuzhen0212/FINER run_siren.sh (LR=0.0005, ω0 = 30, train_image.py's hidden_layers = 3)
        Recipe("siren", "finer_baseline", 5e-4, 5000, f"{SOURCE_FINER}, run_siren.sh", 0.1, (-1.0, 1.0), depth=4,
               knobs={"convention": "vsitzmann"}),
    ),
    import_sources={
        "sequential": (
            # Siren(first_omega_0=30, hidden_omega_0=30.)
            ("vsitzmann/siren explore_siren.ipynb", {"first_omega0": 30.0, "hidden_omega0": 30.0, "indexing": "ij"}),
            # Siren(first_omega_0=30, hidden_omega_0=30.0); train_image.py --first_omega / --hidden_omega 30
            ("liuzhen0212/FINER models.py, train_image.py",
             {"first_omega0": 30.0, "hidden_omega0": 30.0, "indexing": "ij"}),
            # INR(first_omega_0=30, hidden_omega_0=30.); get_INR's defaults 30 / 30
            ("vishwa91/wire modules/siren.py, wire_image_denoise.py",
             {"first_omega0": 30.0, "hidden_omega0": 30.0, "indexing": "xy"}),
        ),
        # Sine: torch.sin(30 * input) in every layer
        "siren_modules": (
            ("vsitzmann/siren modules.py, dataio.py", {"first_omega0": 30.0, "hidden_omega0": 30.0, "indexing": "ij"}),
        ),
        "lucidrains": (
            # SirenNet(w0 = 1., w0_initial = 30., final_activation = None); None → nn.Identity()
            (f"{_LUCIDRAINS} (w0 = 1.)",
             {"first_omega0": 30.0, "hidden_omega0": 1.0, "final_activation": "identity", "indexing": "ij"}),
            # SirenNet(w0 = 30., w0_initial = 30., final_activation = None); Siren's activation None → Sine(w0)
            (f"{_LUCIDRAINS}, versions with w0 = 30.",
             {"first_omega0": 30.0, "hidden_omega0": 30.0, "final_activation": "sine", "indexing": "ij"}),
        ),
    },
))  # fmt: skip

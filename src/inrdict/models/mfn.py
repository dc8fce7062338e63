"""Multiplicative filter networks (Fathony et al., ICLR 2021), Fourier or Gabor filters."""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any, ClassVar, Literal, NamedTuple, cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models import sine
from inrdict.models._common import _positive, _require_single_output, _sizes, _symmetric_uniforms
from inrdict.models.dense import Linear, _check_sizes
from inrdict.models.family import Family, Recipe, register

MFNFilter = Literal["fourier", "gabor"]

# ----------------------------------------------------------------------------------------------------------------
# Multiplicative filter networks
# ----------------------------------------------------------------------------------------------------------------


class FourierFilter(eqx.Module):
    """g(r) = sin(omega r + phi): omega (h, d), phi (h,) (MFN paper, FourierNet filter)."""

    omega: Float[Array, "h d"]
    phi: Float[Array, " h"]

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " h"]:
        return sine.sin(self.omega @ r + self.phi)


class GaborFilter(eqx.Module):
    """g_j(r) = exp(-gamma_j / 2 ||r - mu_j||²) sin(omega_j r + phi_j) (MFN paper, GaborNet filter).

    omega (h, d), phi (h,), gamma (h,), mu (h, d)."""

    omega: Float[Array, "h d"]
    phi: Float[Array, " h"]
    gamma: Float[Array, " h"]
    mu: Float[Array, "h d"]

    def envelope(self, r: Float[Array, " d"]) -> Float[Array, " h"]:
        return jnp.exp(-0.5 * self.gamma * jnp.sum((r[None, :] - self.mu) ** 2, axis=1))

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " h"]:
        return self.envelope(r) * sine.sin(self.omega @ r + self.phi)


_GAMMA_CHUNK = 256


@functools.partial(jax.jit, static_argnums=(2,))
def _gamma_chunk(key: PRNGKeyArray, shape_parameter: Array, dtype) -> Array:
    return jax.random.gamma(key, shape_parameter, (_GAMMA_CHUNK,), dtype)


def _gamma(key: PRNGKeyArray, shape_parameter: float, n: int, dtype) -> Float[Array, " n"]:
    """n draws from Gamma(shape_parameter, 1), in fixed-size chunks: `jax.random.gamma` (a rejection-sampling
    loop) takes seconds to compile, so it is compiled once per dtype rather than once per width."""
    keys = jax.random.split(key, -(-n // _GAMMA_CHUNK))
    shape_array = jnp.asarray(shape_parameter, dtype)
    return jnp.concatenate([_gamma_chunk(k, shape_array, dtype) for k in keys])[:n]


class _MFNSpec(NamedTuple):
    """An `MFN`'s sizes and initialisation settings (hashable: static under `jax.jit`)."""

    in_features: int
    hidden: tuple[int, ...]
    out_features: int
    filter: str
    input_scale: float
    weight_scale: float
    beta: float
    domain: tuple[float, float]
    dtype: Any


@functools.partial(jax.jit, static_argnums=(2,))
def _mfn_arrays(key, gammas, settings: _MFNSpec):
    """(filters, layers) of `MFN`, drawn as its docstring says, given the Gabor precisions' Gamma(alpha/k, 1)
    draws `gammas` (jitted: one compile per configuration)."""
    in_features, hidden, out_features, filter, input_scale, weight_scale, beta, domain, dtype = settings
    k = len(hidden)
    bound = input_scale / math.sqrt(k * in_features)
    spec = []
    for width in hidden:  # per filter: omega, phi, and (Gabor) U(-1, 1) for the centres
        spec += [((width, in_features), bound), ((width,), math.pi), ((width, in_features), 1.0)]
    for n_in, n_out in itertools.pairwise(hidden):  # hidden linears: U(±sqrt(weight_scale/h)), default bias
        spec += [((n_out, n_in), math.sqrt(weight_scale / n_in)), ((n_out,), 1.0 / math.sqrt(n_in))]
    spec += [((out_features, hidden[-1]), 1.0 / math.sqrt(hidden[-1])), ((out_features,), 1.0 / math.sqrt(hidden[-1]))]
    arrays = _symmetric_uniforms(key, tuple(spec), dtype)
    filters: list[FourierFilter | GaborFilter] = []
    for index in range(k):
        omega, phi, unit = arrays[3 * index : 3 * index + 3]
        if filter == "fourier":
            filters.append(FourierFilter(omega, phi))
        else:
            gamma = gammas[index] / beta
            mu = domain[0] + (unit + 1.0) * (0.5 * (domain[1] - domain[0]))  # U(low, high)
            filters.append(GaborFilter(omega * jnp.sqrt(gamma)[:, None], phi, gamma, mu))
    layers = tuple(Linear(w, b) for w, b in zip(arrays[3 * k :: 2], arrays[3 * k + 1 :: 2]))
    return tuple(filters), layers


class MFN(eqx.Module):
    """Multiplicative filter network (Fathony, Sahu, Willmott & Kolter, ICLR 2021), FourierNet or GaborNet.

    The recursion as the reference code's `MFNBase.forward` computes it (the paper's defining recursion; we cite the
    code, which we could read, not an equation number), with k = len(hidden) filters:

        z_1 = g_1(r),   z_{i+1} = (W_i z_i + b_i) ⊙ g_{i+1}(r)  (i = 1 .. k-1),   f(r) = W_out z_k + b_out,

    FourierNet: g_i(r) = sin(omega_i r + phi_i); GaborNet:
    g_ij(r) = exp(-gamma_ij / 2 ||r - mu_ij||²) sin(omega_ij r + phi_ij). Products of sinusoids are sums of
    sinusoids, so f is a linear combination of Fourier (Gabor) atoms whose frequencies are sums ±omega_1 ± … ±
    omega_k (and whose envelope precisions are sums of gammas). Every filter parameter is trained.

    Initialisation and defaults as the reference code (boschresearch/multiplicative-filter-networks `mfn/mfn.py`;
    its image experiment `mfn/experiments/image_rep.py`), with n_layers = k - 1:

    * hidden linears W_i ~ U(±sqrt(weight_scale/h)) (`MFNBase.__init__`: `lin.weight.data.uniform_(-np.sqrt(
      weight_scale / hidden_size), ...)`), weight_scale = 1 (`image_rep.py`); their biases PyTorch's default
      U(±1/sqrt(h));
    * the output layer PyTorch's `nn.Linear` default, W, b ~ U(±1/sqrt(h)) (not re-initialised);
    * filters: PyTorch's default U(±1/sqrt(d)) scaled by input_scale / sqrt(k) (`FourierLayer`/`GaborLayer`:
      `self.linear.weight.data *= weight_scale`, with `weight_scale = input_scale / np.sqrt(n_layers + 1)`), so
      omega ~ U(-a, a), a = input_scale / sqrt(k d); GaborNet multiplies each row by sqrt(gamma_j); phases
      phi ~ U(-pi, pi) (`self.linear.bias.data.uniform_(-np.pi, np.pi)`);
    * GaborNet envelopes: gamma ~ Gamma(alpha / k, rate beta) (`Gamma(alpha / (n_layers + 1), beta)`), centres
      mu ~ U(-1, 1)^d (`2 * torch.rand(out_features, in_features) - 1`), i.e. over the domain the authors evaluate
      on ([-1, 1]², `mfn/data.py`): `domain` sets that interval (keep it the domain the network is evaluated on).

    Defaults for images (`image_rep.py`): GaborNet, input_scale = 256, weight_scale = 1, alpha = 6, beta = 1,
    3 hidden layers of 256 (k = 4 filters), Adam lr 1e-2, coordinates in [-1, 1]². Our widths are matched to the
    paper's SIREN ((253,) * 4), the filter count the reference's.

    Args:
        in_features, hidden, out_features: sizes; hidden[i] is the width of filter i + 1 (k = len(hidden)).
        filter: "fourier" or "gabor" (anything else raises `InrdictError`), keyword-only.
        input_scale: frequency scale (> 0), keyword-only.
        weight_scale: variance scale of the hidden linears, U(±sqrt(weight_scale/h)) (> 0), keyword-only.
        alpha, beta: Gamma shape (total over the k filters) and rate of the Gabor precisions (> 0), keyword-only.
        domain: (low, high) of the input coordinates, for the Gabor centres, keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    filters: tuple[FourierFilter, ...] | tuple[GaborFilter, ...]
    layers: tuple[Linear, ...]  # k - 1 hidden linear layers, then the output layer
    frozen_fields: ClassVar[tuple[str, ...]] = ()  # every filter parameter is trained
    filter: MFNFilter = eqx.field(static=True)
    input_scale: float = eqx.field(static=True)
    weight_scale: float = eqx.field(static=True)
    alpha: float = eqx.field(static=True)
    beta: float = eqx.field(static=True)
    domain: tuple[float, float] = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 filter: str = "gabor", input_scale: float = 256.0, weight_scale: float = 1.0, alpha: float = 6.0,
                 beta: float = 1.0, domain: tuple[float, float] = (-1.0, 1.0), key: PRNGKeyArray,
                 dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        if filter not in ("fourier", "gabor"):
            raise InrdictError(f"unknown MFN filter {filter!r}: use 'fourier' or 'gabor'")
        self.filter = cast(MFNFilter, filter)  # checked just above
        self.input_scale = _positive("the MFN input_scale", input_scale)
        self.weight_scale = _positive("the MFN weight_scale", weight_scale)
        self.alpha = _positive("the MFN Gamma shape alpha", alpha)
        self.beta = _positive("the MFN Gamma rate beta", beta)
        low, high = (float(x) for x in domain)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise InrdictError(f"the MFN input domain must be an interval (low, high) with low < high, got {domain}")
        self.domain = (low, high)
        dtype = jnp.dtype(dtype)  # one jit cache entry for jnp.float32 and np.dtype("float32") alike
        uniform_key, gamma_key = jax.random.split(key)
        gammas = []
        if filter == "gabor":
            gamma_keys = jax.random.split(gamma_key, len(hidden))
            gammas = [_gamma(k, self.alpha / len(hidden), width, dtype) for k, width in zip(gamma_keys, hidden)]
        spec = _MFNSpec(in_features, hidden, out_features, filter, self.input_scale, self.weight_scale, self.beta,
                        self.domain, dtype)  # fmt: skip
        self.filters, self.layers = _mfn_arrays(uniform_key, gammas, spec)

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " out"]:
        filters: tuple[FourierFilter | GaborFilter, ...] = self.filters
        z = filters[0](r)
        for layer, g in zip(self.layers[:-1], filters[1:]):
            z = layer(z) * g(r)
        return self.layers[-1](z)

    @property
    def in_features(self) -> int:
        return self.filters[0].omega.shape[1]

    @property
    def out_features(self) -> int:
        return self.layers[-1].out_features

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(g.phi.shape[0] for g in self.filters)

    def hyperparameters(self) -> dict:
        return {"in_features": int(self.in_features), "hidden": [int(h) for h in self.hidden],
                "out_features": int(self.out_features), "filter": self.filter, "input_scale": self.input_scale,
                "weight_scale": self.weight_scale, "alpha": self.alpha, "beta": self.beta, "domain": list(self.domain)}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "MFN":
        h = hyperparameters
        low, high = (float(x) for x in h["domain"])
        return cls(*_sizes(h), filter=h["filter"], input_scale=float(h["input_scale"]),
                   weight_scale=float(h.get("weight_scale", 6.0)),  # older checkpoints: U(±sqrt(6/h)) hidden linears
                   alpha=float(h["alpha"]), beta=float(h["beta"]), domain=(low, high), key=jax.random.key(0),
                   dtype=dtype)  # fmt: skip

    def structured_ntk_features(self, points: Float[Array, "n d"]) -> list[tuple[Array, Array]]:
        """Pairs (A, D) with Theta = sum (D Dᵀ) ⊙ (A Aᵀ + 1) (see `inrdict.ntk.layer_features`).

        With u_i = W_i z_i + b_i, delta_i = df/dz_i and e_i = df/dg_i (e_1 = delta_1, e_{i+1} = delta_{i+1} ⊙ u_i):

        * linear layer i: (z_i, delta_{i+1} ⊙ g_{i+1}); output layer: (z_k, 1);
        * sin(omega r + phi) (its phi acts as the bias): (r, e ⊙ cos(omega r + phi)), times the envelope for Gabor;
        * Gabor gamma_j (a per-unit vector): (no columns, e ⊙ g ⊙ (-||r - mu_j||² / 2));
        * Gabor mu_{:, l}, one per input coordinate l: (no columns, e ⊙ g ⊙ gamma ⊙ (r_l - mu_{:, l})).
        """
        _require_single_output(self)
        dtype = self.layers[-1].weight.dtype
        points = jnp.asarray(points, dtype)  # (n, d)
        n = points.shape[0]
        filters = [jax.vmap(g)(points) for g in self.filters]  # each (n, h_i)
        zs, us = [filters[0]], []
        for layer, g in zip(self.layers[:-1], filters[1:]):
            us.append(zs[-1] @ layer.weight.T + layer.bias[None, :])  # (n, h_{i+1})
            zs.append(us[-1] * g)
        out = self.layers[-1]
        pairs = [(zs[-1], jnp.ones((n, 1), dtype))]
        delta = jnp.ones((n, 1), dtype) @ out.weight  # (n, h_k): df/dz_k
        for i in reversed(range(len(self.layers) - 1)):  # layer i maps z_i to u_i, filter i + 1 multiplies it
            pairs += self._filter_pairs(self.filters[i + 1], points, delta * us[i])
            d_u = delta * filters[i + 1]  # (n, h_{i+1}): df/du_i
            pairs.append((zs[i], d_u))
            delta = d_u @ self.layers[i].weight  # (n, h_i)
        pairs += self._filter_pairs(self.filters[0], points, delta)
        return pairs

    @staticmethod
    def _filter_pairs(g, points: Array, e: Array) -> list[tuple[Array, Array]]:
        """NTK pairs of one filter's parameters, given e = df/dg (n, h)."""
        phase = points @ g.omega.T + g.phi[None, :]  # (n, h)
        if isinstance(g, FourierFilter):
            return [(points, e * sine.cos(phase))]
        offsets = points[:, None, :] - g.mu[None, :, :]  # (n, h, d)
        envelope = jnp.exp(-0.5 * g.gamma[None, :] * jnp.sum(offsets**2, axis=2))  # (n, h)
        e_g = e * envelope * sine.sin(phase)  # e ⊙ g
        no_columns = jnp.zeros((points.shape[0], 0), points.dtype)
        pairs = [(points, e * envelope * sine.cos(phase)),
                 (no_columns, e_g * (-0.5 * jnp.sum(offsets**2, axis=2)))]  # fmt: skip
        pairs += [(no_columns, e_g * g.gamma[None, :] * offsets[:, :, axis]) for axis in range(points.shape[1])]
        return pairs


MFN_FAMILY = register(Family(
    name="mfn", build=MFN, classes=(MFN,), prng_id=107, domain=(-1.0, 1.0),
    domain_source="boschresearch/multiplicative-filter-networks mfn/data.py: torch.linspace(-1.0, 1.0, ...)",
    reference="Fathony et al., ICLR 2021 (boschresearch/multiplicative-filter-networks)", knob="input_scale",
    knob_fields={"input_scale": "input_scale", "weight_scale": "weight_scale", "mfn_filter": "filter"},
    # mfn/experiments/image_rep.py: Adam lr 1e-2, no schedule; n_layers = 3: 4 filters
    recipes=(Recipe("mfn", "image_rep", 1e-2, 10000, "boschresearch/multiplicative-filter-networks mfn/experiments/"
                    "image_rep.py", 1.0, (-1.0, 1.0), depth=4),),
    import_sources={
        "mfn": (("boschresearch/multiplicative-filter-networks mfn/mfn.py, mfn/data.py", {"indexing": "ij"}),),
        "mfn_wire": (("vishwa91/wire modules/mfn.py, wire_image_denoise.py", {"indexing": "xy"}),),
    },
))  # fmt: skip

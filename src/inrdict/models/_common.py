"""Shared helpers of the INR families: argument checks and uniform initialisers, and `INRModel`, the interface
every inrdict model has."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models.dense import Linear

SIREN_PARAMETERS = 198_401  # SIREN 2 → 256 ×4 → 1, the paper's NTK / meta-learning network


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise InrdictError(f"{name} must be a finite {bound} number, got {value}")
    return value


def _require_single_output(model) -> None:
    if model.out_features != 1:
        raise InrdictError(f"the NTK needs a single-output model, this one has {model.out_features} outputs")


def _sizes(h: dict) -> tuple[int, tuple[int, ...], int]:
    return int(h["in_features"]), tuple(int(w) for w in h["hidden"]), int(h["out_features"])


@functools.partial(jax.jit, static_argnums=(1, 2))  # dtype: pass jnp.dtype(...) so equal dtypes share a compile
def _symmetric_uniforms(key: PRNGKeyArray, spec: tuple[tuple[tuple[int, ...], float], ...], dtype) -> list[Array]:
    """Arrays of the shapes in `spec` = ((shape, bound), ...) with independent entries U(-bound, bound).

    One `jax.random.uniform` call for all of them, cut and scaled: every call is a threefry hash that XLA
    compiles anew, so a model drawn array by array takes seconds to initialise, this takes a fraction.
    """
    sizes = [math.prod(shape) for shape, _ in spec]
    flat = jax.random.uniform(key, (sum(sizes),), dtype, -1.0, 1.0)  # (total,)
    arrays, start = [], 0
    for (shape, bound), size in zip(spec, sizes):
        arrays.append(bound * flat[start : start + size].reshape(shape))
        start += size
    return arrays


def _uniform_layers(key: PRNGKeyArray, sizes: tuple[int, ...], weight_bounds: tuple[float, ...],
                    bias_bounds: tuple[float, ...], dtype) -> tuple[Linear, ...]:  # fmt: skip
    """Dense layers sizes[i] → sizes[i+1] with W ~ U(±weight_bounds[i]) and b ~ U(±bias_bounds[i])."""
    spec = []
    for n_in, n_out, weight_bound, bias_bound in zip(sizes[:-1], sizes[1:], weight_bounds, bias_bounds):
        spec += [((n_out, n_in), float(weight_bound)), ((n_out,), float(bias_bound))]
    arrays = _symmetric_uniforms(key, tuple(spec), jnp.dtype(dtype))
    return tuple(Linear(w, b) for w, b in zip(arrays[::2], arrays[1::2]))


def activation_width(model) -> int:
    """The widest activation of one point, for memory estimates: the model's own `activation_width` where it says
    (a grid encoding's tables are long but a point reads 2^d rows of each), else its largest array dimension."""
    own = getattr(model, "activation_width", None)
    if own is not None:
        return int(own)
    leaves = jax.tree_util.tree_leaves(model)
    return max((max(leaf.shape, default=1) for leaf in leaves if hasattr(leaf, "shape")), default=1)

"""Models by family name, from the records of `inrdict.models.family`: `make_model` with a family's recommended
knobs (`model_knobs`), its initialisation key (`model_key`), its authors' coordinate domain (`on_reference_domain`),
and widths matched to the paper's SIREN (`matched_hidden`). Importing this module registers the families inrdict
ships (`BUILT_IN`)."""

from __future__ import annotations

import math
from typing import Any, cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models import family as _family
from inrdict.models._common import SIREN_PARAMETERS
from inrdict.models.dense import FFN_FAMILY, RELU, SIREN
from inrdict.models.domain import OnDomain
from inrdict.models.family import INRModel
from inrdict.models.finer import FINER
from inrdict.models.gauss import GAUSS
from inrdict.models.mfn import MFN_FAMILY
from inrdict.models.sinc import SINC
from inrdict.models.wire import WIRE, WIRE_REAL

# The families inrdict ships, in the order of `inrdict.models`' imports (which register them): the default rows of
# every study over families.
BUILT_IN = (RELU, FFN_FAMILY, SIREN, GAUSS, WIRE, WIRE_REAL, FINER, SINC, MFN_FAMILY)
MODEL_NAMES = tuple(f.name for f in BUILT_IN)


def on_reference_domain(name: str, model: eqx.Module) -> eqx.Module:
    """`model` (of family `name`) evaluated on its authors' coordinate range from [0, 1)^d inputs (`OnDomain`);
    unchanged when that range is [0, 1)."""
    low, high = _family.get(name).domain
    # A model of a named family is an INRModel as well as an eqx.Module (typing has no intersection types).
    return model if (low, high) == (0.0, 1.0) else OnDomain(cast(INRModel, model), low, high)


def model_knobs(name: str) -> dict[str, Any]:
    """The knobs of family `name` and their recommended values (the constructor's keyword-only defaults)."""
    return _family.get(name).knobs()


def model_key(name: str, seed: int):
    """The initialisation key of family `name` for `seed` (`Family.key`)."""
    return _family.get(name).key(seed)


def make_model(name: str, in_features: int = 2, hidden: tuple[int, ...] | None = None, out_features: int = 1, *,
               key: PRNGKeyArray, dtype=jnp.float32, **knobs) -> eqx.Module:  # fmt: skip
    """A model of family `name` with `knobs` overriding its recommended settings (`model_knobs`).

    Args:
        name: a registered family (`inrdict.models.family.names()`): "relu", "ffn", "siren" (SIREN in the "ntk"
            convention unless `convention="fit"`), "gauss", "wire", "wire_real", "finer", "sinc", "mfn", or one
            of your own.
        in_features, out_features: sizes.
        hidden: widths (default: the family's `hidden`, else `matched_hidden(name, ...)`, about the paper's SIREN's
            198,401 parameters).
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
        knobs: the model's keyword settings, e.g. `omega0=20.0` for "wire".

    Raises:
        InrdictError: unknown name, a knob the model does not have, or a bad value.
    """
    allowed = model_knobs(name)
    unknown = sorted(set(knobs) - set(allowed))
    if unknown:
        have = ", ".join(allowed) if allowed else "none"
        raise InrdictError(f"{name} has no setting {', '.join(map(repr, unknown))}: its settings are {have}")
    if hidden is None:
        default = _family.get(name).hidden
        hidden = default if default is not None else matched_hidden(name, in_features=in_features,
                                                                    out_features=out_features, **knobs)  # fmt: skip
    return _family.get(name).build(in_features, tuple(hidden), out_features, key=key, dtype=dtype, **knobs)


def _trained_size(shapes) -> int:
    """Trained scalars of a model of `jax.ShapeDtypeStruct` leaves (from `jax.eval_shape`): all inexact leaves
    except those under the class's `frozen_fields`."""

    def size(tree) -> int:
        leaves = jax.tree_util.tree_leaves(tree)
        return sum(math.prod(leaf.shape) for leaf in leaves if jnp.issubdtype(leaf.dtype, jnp.inexact))

    return size(shapes) - sum(size(getattr(shapes, name)) for name in getattr(type(shapes), "frozen_fields", ()))


def matched_hidden(
    family: str, target_parameters: int = SIREN_PARAMETERS, depth: int | None = None, *, in_features: int = 2,
    out_features: int = 1, **knobs,
) -> tuple[int, ...]:  # fmt: skip
    """Equal widths (h,) * depth whose trained-parameter count is closest to `target_parameters`.

    `family` is any of `MODEL_NAMES`; depth defaults to 4 hidden layers (3 for "ffn", as the paper's FFN). Counts
    come from `jax.eval_shape` of the constructor (nothing is allocated). For 2 → … → 1: relu / siren / gauss /
    finer / sinc (256,)*4 = 198,401; wire (222,)*3 = 199,135; wire_real (221,)*3 = 197,796 (3 layers, as WIRE's run); mfn (253,)*4 = 199,112 (Gabor),
    (255,)*4 = 199,156 (Fourier, `filter="fourier"`); ffn (T = 256) (211,)*3 = 197,919.

    Raises:
        InrdictError: unknown family, non-positive depth or target, or a target below the count at width 1 (a grid
            encoding's tables alone can exceed it).
    """
    record = _family.get(family)
    depth = record.depth if depth is None else depth
    if depth < 1 or target_parameters < 1:
        raise InrdictError(f"depth and target_parameters must be positive, got {depth=}, {target_parameters=}")
    constructor = record.build

    def count(width: int) -> int:
        shapes = jax.eval_shape(
            lambda: constructor(in_features, (width,) * depth, out_features, key=jax.random.key(0), **knobs)
        )
        return _trained_size(shapes)

    # With equal widths every family's count is a quadratic a w² + b w + c (dense layers w², filters and
    # biases w): read it off three tiny widths, solve for the target, check the neighbouring integers.
    c1, c2, c3 = count(1), count(2), count(3)
    a2 = c3 - 2 * c2 + c1  # 2a
    b = c2 - c1 - 1.5 * a2
    c = c1 - a2 / 2 - b
    if c1 > target_parameters:
        raise InrdictError(f"{family} has {c1:,} trained parameters at width 1, more than the "
                           f"{target_parameters:,} asked: give its widths (hidden=...) or a larger budget")  # fmt: skip
    if a2 == 0:
        root = (target_parameters - c) / b
    else:
        root = (-b + math.sqrt(b * b - 2 * a2 * (c - target_parameters))) / a2
    candidates = {max(1, math.floor(root) + offset) for offset in (-1, 0, 1, 2)}
    best = min(candidates, key=lambda w: (abs(count(w) - target_parameters), w))
    return (best,) * depth

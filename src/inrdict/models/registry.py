"""Every INR by name, in one place: command-line names → constructors (`MODELS`) and their knobs (`model_knobs`,
`FREQUENCY_KNOB`, the config fields that set them: `KNOB_FIELDS`), class names → classes (`MODEL_CLASSES`, what a
checkpoint names), and widths matched to the paper's SIREN (`matched_hidden`)."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models._common import SIREN_PARAMETERS, INRModel, _positive
from inrdict.models.dense import FFN, FFNStar, ReluMLP, Siren, SirenFrozenFirst, gaussian_frequencies
from inrdict.models.domain import OnDomain
from inrdict.models.elementwise import GaussINR, SincINR
from inrdict.models.finer import Finer
from inrdict.models.mfn import MFN
from inrdict.models.wire import ComplexWire, RealWire

FAMILY_CLASSES = (GaussINR, SincINR, RealWire, Finer, ComplexWire, MFN)
# Class name → class, for every model a checkpoint can describe (`inrdict.io.checkpoints`).
MODEL_CLASSES: dict[str, type[INRModel]] = {cls.__name__: cls for cls in (ReluMLP, FFN, FFNStar, Siren, SirenFrozenFirst,
                                                                           *FAMILY_CLASSES, OnDomain)}  # fmt: skip

# Command-line names → constructors `(in_features, hidden, out_features, *, key, **knobs) -> model`; the classes'
# keyword defaults are each reference implementation's settings for images (2 → … → 1; sources in each class).
FAMILIES: dict[str, type] = {
    "gauss": GaussINR,
    "wire": ComplexWire,
    "wire_real": RealWire,
    "finer": Finer,
    "sinc": SincINR,
    "mfn": MFN,
}


# ----------------------------------------------------------------------------------------------------------------
# Every INR by name: the paper's models and the families above, through one constructor
# ----------------------------------------------------------------------------------------------------------------


def _ffn(in_features: int = 2, hidden: tuple[int, ...] = (256,) * 3, out_features: int = 1, *, sigma: float = 10.0,
         n_features: int = 256, key: PRNGKeyArray, dtype=jnp.float32) -> FFN:  # fmt: skip
    """FFN with random Fourier features B = sigma N(0, 1) of shape (n_features, in_features) (SPEC §3; sigma = 10,
    T = 256 as the paper's Fig. 2). One key, split into B's and the MLP's."""
    b_key, mlp_key = jax.random.split(key)
    B = gaussian_frequencies(b_key, int(n_features), in_features, _positive("the FFN sigma", sigma))
    return FFN(B, hidden, out_features, key=mlp_key, dtype=dtype)


# The coordinate range each model's authors train on, per axis, with the source; the paper's NTK grid is [0, 1)²
# (SPEC §4). `on_reference_domain` evaluates a model there from inrdict's [0, 1) grids.
REFERENCE_DOMAIN: dict[str, tuple[float, float]] = {
    "relu": (0.0, 1.0),  # the paper's NTK grid (SPEC §4: linspace(0, 1, N + 1)[:-1])
    "ffn": (0.0, 1.0),  # the paper's NTK grid; Tancik et al.'s FFN code also uses [0, 1)
    "siren": (0.0, 1.0),  # the paper's NTK grid (its meta-learned SIREN was trained there)
    "gauss": (-1.0, 1.0),  # vishwa91/wire wire_image_denoise.py and liuzhen0212/FINER train_image.py: linspace(-1, 1)
    "wire": (-1.0, 1.0),  # vishwa91/wire wire_image_denoise.py: torch.linspace(-1, 1, W)
    "wire_real": (-1.0, 1.0),  # the same script
    "finer": (-1.0, 1.0),  # liuzhen0212/FINER train_image.py: torch.linspace(-1, 1, H)
    "sinc": (-1.0, 1.0),  # no author code: as the other families (kushalvyas/alpine's grids are [-1, 1] too)
    "mfn": (-1.0, 1.0),  # boschresearch/multiplicative-filter-networks mfn/data.py: torch.linspace(-1.0, 1.0, ...)
}  # fmt: skip


def on_reference_domain(name: str, model: eqx.Module) -> eqx.Module:
    """`model` (of model name `name`) evaluated on its authors' coordinate range from [0, 1)^d inputs
    (`OnDomain`); unchanged when that range is [0, 1)."""
    _check_name(name)
    low, high = REFERENCE_DOMAIN[name]
    # A model of a named family is an INRModel as well as an eqx.Module (typing has no intersection types).
    return model if (low, high) == (0.0, 1.0) else OnDomain(cast(INRModel, model), low, high)


# Name → constructor `(in_features, hidden, out_features, *, key, dtype, **knobs)`; keyword defaults = recommended.
MODELS: dict[str, Callable[..., eqx.Module]] = {"relu": ReluMLP, "ffn": _ffn, "siren": Siren, **FAMILIES}
MODEL_NAMES = tuple(MODELS)
# Each model's main frequency knob (None: it has none), the one a frequency sweep varies.
FREQUENCY_KNOB: dict[str, str | None] = {
    "relu": None, "ffn": "sigma", "siren": "first_omega0", "gauss": "scale", "wire": "omega0", "wire_real": "omega0",
    "finer": "first_omega0", "sinc": "omega", "mfn": "input_scale",
}  # fmt: skip
# Config field → the knob it sets, per model name (`inrdict analyse --set omega0=20` is WIRE's omega0, SIREN's and
# FINER's first_omega0 and sinc's omega).
KNOB_FIELDS: dict[str, dict[str, str]] = {
    "omega0": {"siren": "first_omega0", "finer": "first_omega0", "wire": "omega0", "wire_real": "omega0",
               "sinc": "omega"},
    "hidden_omega0": {"siren": "hidden_omega0", "finer": "hidden_omega0"},
    "sigma": {"ffn": "sigma"},
    "scale": {"gauss": "scale"},
    "s0": {"wire": "s0", "wire_real": "s0"},
    "first_bias_scale": {"finer": "first_bias_scale"},
    "scale_gradient": {"finer": "scale_gradient"},
    "input_scale": {"mfn": "input_scale"},
    "weight_scale": {"mfn": "weight_scale"},
    "mfn_filter": {"mfn": "filter"},
    "n_features": {"ffn": "n_features"},
    "convention": {"siren": "convention"},
}  # fmt: skip
# Hidden layers: the paper's FFN has 3; WIRE's default run has 3 Gabor layers (vishwa91/wire wire_image_denoise.py,
# hidden_layers = 2 after the first); every other model 4 (the paper's SIREN, FINER's run_*.sh, MFN's 4 filters).
DEFAULT_DEPTH = {"ffn": 3, "wire": 3, "wire_real": 3}


def model_knobs(name: str) -> dict[str, Any]:
    """The knobs of model `name` and their recommended values (the constructor's keyword-only defaults)."""
    _check_name(name)
    parameters = inspect.signature(MODELS[name]).parameters.values()
    return {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY and p.name not in ("key", "dtype")}


def _check_name(name: str) -> None:
    if name not in MODELS:
        raise InrdictError(f"unknown INR family {name!r}: choose one of {', '.join(MODELS)}")


def make_model(name: str, in_features: int = 2, hidden: tuple[int, ...] | None = None, out_features: int = 1, *,
               key: PRNGKeyArray, dtype=jnp.float32, **knobs) -> eqx.Module:  # fmt: skip
    """Model `name` (one of `MODEL_NAMES`) with `knobs` overriding its recommended settings (`model_knobs`).

    Args:
        name: "relu", "ffn", "siren" (`inrdict.models`; SIREN in the "ntk" convention unless `convention="fit"`) or
            a family of this module ("gauss", "wire", "wire_real", "finer", "sinc", "mfn").
        in_features, out_features: sizes.
        hidden: widths (default: `matched_hidden(name, ...)`, about the paper's SIREN's 198,401 parameters).
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
        hidden = matched_hidden(name, in_features=in_features, out_features=out_features, **knobs)
    return MODELS[name](in_features, tuple(hidden), out_features, key=key, dtype=dtype, **knobs)


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
        InrdictError: unknown family, non-positive depth or target.
    """
    _check_name(family)
    depth = DEFAULT_DEPTH.get(family, 4) if depth is None else depth
    if depth < 1 or target_parameters < 1:
        raise InrdictError(f"depth and target_parameters must be positive, got {depth=}, {target_parameters=}")
    constructor = MODELS[family]

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
    if a2 == 0:
        root = (target_parameters - c) / b
    else:
        root = (-b + math.sqrt(b * b - 2 * a2 * (c - target_parameters))) / a2
    candidates = {max(1, math.floor(root) + offset) for offset in (-1, 0, 1, 2)}
    best = min(candidates, key=lambda w: (abs(count(w) - target_parameters), w))
    return (best,) * depth

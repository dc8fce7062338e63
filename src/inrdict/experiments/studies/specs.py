"""Model specs of `analyse` and `families`: a name with knobs, a factory or a checkpoint → an Equinox model.

A model spec (the `model` config field, `inrdict analyse MODEL`) is one of

* a family name (`inrdict.models.family.names()`: relu, ffn, siren, gauss, wire, wire_real, finer, sinc, mfn, …),
  built with the knob fields of the config (`Family.knob_fields`) over the name's recommended settings, at the widths given or
  matched to the paper's SIREN (~198k parameters, `matched_hidden`); a name wins over a file of that name
  (write ``./siren`` for the file);
* ``package.module:factory``, a callable returning an Equinox module that maps a point (2,) to one value, called
  with ``key=`` (and ``in_features=1`` for the aliasing test when it takes that argument); the current directory
  is searched too, as ``python -m`` does;
* ``torch:package.module:factory``, a callable returning a single-output `torch.nn.Module` (PyTorch, the optional
  extra; `inrdict.pytorch`), called after ``torch.manual_seed(seed)``;
* a path to an inrdict checkpoint (`inrdict.io.checkpoints.load_weights`: ``.npz``, or the authors' ``.pickle``).

The measurements themselves are the library's (`inrdict.analysis.lens`, `inrdict.analysis.probes`); `face_study`
and `top_eigenvectors` run them for several rows through the figures' cached study (`learnability.run_study`).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from inrdict._keys import init_key
from inrdict.errors import InrdictError
from inrdict.experiments.studies.learnability import FaceStudy, Row, run_study
from inrdict.experiments.studies.rows import eigensystems
from inrdict.io import data
from inrdict.models import (
    INRModel,
    OnDomain,
    make_model,
    model_key,
    model_knobs,
    on_reference_domain,
    partition_trainable,
)
from inrdict.models import family as _family

STUDY_FIELDS = ("dataset", "data_dir", "grid_size", "n_test", "precision", "spectrum", "top_k", "iterations",
                "psnr_iteration", "random_lr", "seed")  # fmt: skip
_FACTORY = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


def knobs_of(name: str, config) -> dict:
    """The model knobs the config's knob fields set (fields left None keep the recommended values).

    Raises:
        InrdictError: a knob field set that model `name` does not have.
    """
    knobs = {}
    for field, targets in _family.knob_fields().items():
        value = getattr(config, field, None)
        if value is None:
            continue
        if name not in targets:
            takers = [f for f, t in _family.knob_fields().items() if name in t]
            raise InrdictError(f"{field} does not apply to {name}; its settings: {', '.join(takers) or 'none'}")
        knobs[targets[name]] = value
    return knobs


def describe_knobs(name: str, knobs: dict) -> str:
    """ "omega0=20, s0=30": the model's main settings after `knobs` (frequency knob first)."""
    settings = model_knobs(name) | knobs
    keys = [k for k in (_family.get(name).knob, *settings) if k is not None and k != "domain"]
    return ", ".join(f"{k}={settings[k]:g}" if isinstance(settings[k], float) else f"{k}={settings[k]}"
                     for k in dict.fromkeys(keys))  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A model spec resolved: the 2-D model, what it is, and how to build its 1-D version (or why not)."""

    model: eqx.Module | object  # an Equinox module, or an `inrdict.pytorch.model.TorchINR` (kind "torch")
    kind: str  # "family", "factory", "checkpoint" or "torch"
    label: str
    family: str | None  # model name when known
    knobs: dict
    one_d: Callable[[PRNGKeyArray], object] | None  # callable (key) -> 1-D model, or None
    one_d_missing: str | None = None  # why there is no 1-D version


def check_single_output(model, what: str) -> None:
    """Refuse anything but an Equinox module mapping a point (2,) to one value, with something to train."""
    if not isinstance(model, eqx.Module):
        raise InrdictError(f"{what} is a {type(model).__name__}, not an Equinox module (eqx.Module)")
    try:
        module = cast(Callable[..., Any], model)  # an Equinox module, called on a point (if it can be)
        shape = jax.eval_shape(module, jax.ShapeDtypeStruct((2,), jnp.float32)).shape
    except Exception as error:  # the user's module failing on a point is their bug, told in one line
        raise InrdictError(f"{what} cannot map a point of shape (2,): {type(error).__name__}: {error}") from None
    if shape != (1,):
        raise InrdictError(f"{what} must map a point (2,) to one value (output shape (1,)), it gives shape {shape}")
    if not jax.tree_util.tree_leaves(partition_trainable(model)[0]):
        raise InrdictError(f"{what} has no trainable arrays: its NTK is zero")


def resolve_model(spec: str, config, *, hidden_1d: tuple[int, ...], in_features: int = 2) -> Resolved:
    """The model of a spec (module docstring) with the config's knob fields, hidden widths and seed.

    A model name is built with `in_features` coordinates (2: images; 1 or 3 for `analyse --signal`).

    Raises:
        InrdictError: unknown name, missing or bad file, unimportable module, missing factory, a factory that does
            not return a single-output Equinox module, or knob fields set for a spec that is not a model name.
    """
    spec = spec.strip()
    if spec in _family.names():
        knobs = knobs_of(spec, config)
        # Each family on its authors' coordinate range (`Family.domain`; the paper's models on [0, 1)).
        model = on_reference_domain(
            spec, make_model(spec, in_features, config.hidden, 1, key=model_key(spec, config.seed), **knobs)
        )
        label = f"{spec} ({describe_knobs(spec, knobs)})" if model_knobs(spec) else spec
        return Resolved(model, "family", label, spec, knobs,
                        lambda key: on_reference_domain(spec, make_model(spec, 1, hidden_1d, 1, key=key, **knobs)))  # fmt: skip
    if spec.lower().endswith((".pt", ".pth")):
        return _from_torch_state_dict(spec, config, hidden_1d)
    if getattr(config, "family", None) is not None:
        raise InrdictError(f"family names the family of a PyTorch state dict (.pt/.pth); {spec!r} is not one")
    set_fields = [f for f in (*_family.knob_fields(), "hidden") if getattr(config, f, None) is not None]
    if set_fields:
        raise InrdictError(f"{', '.join(set_fields)} set the knobs of a model name ({', '.join(_family.names())}); "
                           f"{spec!r} is not one")  # fmt: skip
    if spec.startswith("torch:"):
        return _from_torch_factory(spec, config.seed)
    if _FACTORY.fullmatch(spec) and not Path(spec).exists():
        return _from_factory(spec, config.seed)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise InrdictError(f"model {spec!r} is neither a model name ({', '.join(_family.names())}), "
                           f"package.module:factory, nor an existing checkpoint file")  # fmt: skip
    from inrdict.io.checkpoints import load_weights

    model = load_weights(path, getattr(config, "grid_size", None))  # an imported model: exact on the NTK grid
    check_single_output(model, f"the model in {path}")
    family = _family.family_of(model)
    if family is None:
        return Resolved(model, "checkpoint", path.stem, None, {}, None, f"a {type(model).__name__} has no 1-D version")
    knobs = _checkpoint_knobs(model, family)
    return Resolved(model, "checkpoint", f"{path.stem} ({family})", family, knobs,
                    lambda key: make_model(family, 1, hidden_1d, 1, key=key, **knobs))  # fmt: skip


def _from_torch_state_dict(spec: str, config, hidden_1d: tuple[int, ...]) -> Resolved:
    """A reference implementation's PyTorch state dict (`inrdict.io.reference_weights`, no PyTorch needed), with
    the config's knob fields for what the file does not hold, on [−1, 1] like the reference scripts."""
    from inrdict.io.reference_weights import import_torch_weights

    family = getattr(config, "family", None)
    if family is None:
        raise InrdictError(
            f"{spec} is a PyTorch state dict: name its family with --family ({', '.join(_family.importable())})"
        )
    if getattr(config, "hidden", None) is not None:
        raise InrdictError("hidden is read from the state dict; leave it unset")
    knobs = knobs_of(family, config)
    model = import_torch_weights(Path(spec).expanduser(), family, knobs)
    settings = {
        k: v for k, v in model.model.hyperparameters().items() if k not in ("in_features", "hidden", "out_features")
    }
    one_knobs = {k: settings[k] for k in model_knobs(family) if k in settings}  # SIREN: the "fit" convention
    label = f"{Path(spec).stem} ({family}, {describe_knobs(family, one_knobs)})"
    return Resolved(model, "checkpoint", label, family, one_knobs,
                    lambda key: OnDomain(cast(INRModel, make_model(family, 1, hidden_1d, 1, key=key, **one_knobs)), -1.0, 1.0))  # fmt: skip


def _checkpoint_knobs(model, family: str) -> dict:
    """A checkpoint's knobs (from its hyperparameters); an FFN's σ is estimated as the RMS of its B."""
    if family == "ffn":
        return {
            "sigma": float(np.sqrt(np.mean(np.asarray(model.B, np.float64) ** 2))),
            "n_features": int(model.B.shape[0]),
        }
    settings = model.hyperparameters()
    return {k: tuple(settings[k]) if isinstance(settings[k], list) else settings[k]
            for k in model_knobs(family) if k in settings}  # fmt: skip


def _load_factory(spec: str):
    """(factory, takes(name) -> bool) for ``package.module:factory``, imported as `python -m` would."""
    module_name, attribute = spec.split(":")
    added = os.getcwd() not in sys.path  # like `python -m`: modules in the current directory are importable
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any failure to import the user's module is bad input here
        raise InrdictError(
            f"cannot import {module_name!r} for model {spec!r}: {type(error).__name__}: {error}"
        ) from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise InrdictError(f"{module_name} has no callable {attribute!r} (model {spec!r})")
    parameters: Mapping[str, inspect.Parameter]
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        parameters = {}
    takes = lambda name: name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())  # noqa: E731
    return factory, takes


def _from_factory(spec: str, seed: int) -> Resolved:
    factory, takes = _load_factory(spec)
    key = {"key": init_key(seed, "factory")} if takes("key") else {}  # a factory without `key` builds its own weights
    model = _call_factory(factory, spec, **key)
    check_single_output(model, f"{spec}({'key=...' if key else ''})")
    if takes("in_features"):
        one_d = (lambda k: _call_factory(factory, spec, key=k, in_features=1)) if key else (
            lambda k: _call_factory(factory, spec, in_features=1))  # fmt: skip
    else:
        one_d = None
    return Resolved(model, "factory", spec, None, {}, one_d, None if one_d else f"{spec} takes no in_features argument")


def _from_torch_factory(spec: str, seed: int) -> Resolved:
    """``torch:package.module:factory``: a factory returning a single-output `torch.nn.Module`, called after
    `torch.manual_seed(seed)` (and with ``in_features=1`` for the aliasing test when it takes that argument)."""
    from inrdict.pytorch import require_torch

    torch = require_torch()
    from inrdict.pytorch.model import TorchINR

    target = spec[len("torch:") :]
    if not _FACTORY.fullmatch(target):
        raise InrdictError(f"a PyTorch model spec is torch:package.module:factory, got {spec!r}")
    factory, takes = _load_factory(target)

    def build(in_features: int) -> TorchINR:
        torch.manual_seed(seed)
        module = _call_factory(factory, spec, **({"in_features": 1} if in_features == 1 else {}))
        return TorchINR(module, in_features=in_features, label=spec)

    one_d = (lambda _key: build(1)) if takes("in_features") else None
    return Resolved(
        build(2), "torch", spec, None, {}, one_d, None if one_d else f"{spec} takes no in_features argument"
    )


def _call_factory(factory, spec: str, **kwargs):
    try:
        return factory(**kwargs)
    except Exception as error:  # the user's factory failing is bad input for inrdict, reported in one line
        arguments = ", ".join(f"{k}=..." for k in kwargs)
        raise InrdictError(f"{spec}({arguments}) failed: {type(error).__name__}: {error}") from None


# ------------------------------------------------------------------------------------------------ faces and NTK


def study_of(config, **overrides) -> FaceStudy:
    """The `FaceStudy` settings of a config that carries `STUDY_FIELDS` (one seed, no meta-learned rows)."""
    fields = {name: getattr(config, name) for name in STUDY_FIELDS} | overrides
    return FaceStudy(**fields, n_seeds=1, learned_meta=False)


def face_study(rows: dict[str, eqx.Module], study: FaceStudy, *, progress: bool = True) -> tuple[dict, dict]:
    """E(λ) and PSNR@k of random-initialisation rows on the held-out faces: (numbers, arrays) as `run_study`'s
    (a model the checkpoint format cannot describe is computed without the on-disk cache)."""
    return run_study(
        [Row(label, model, "random", study.seed) for label, model in rows.items()], study, progress=progress
    )


def top_eigenvectors(model, label: str, study: FaceStudy, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(eigvals, top k eigenvectors (n, k)) of the model's NTK on the study's grid (from the on-disk cache that
    `run_study` filled)."""
    ((_, _, spectrum, _),) = eigensystems({label: model}, data.ntk_grid(study.grid_size), study.spectrum_options,
                                          progress=False)  # fmt: skip
    return np.asarray(spectrum.eigvals), np.asarray(spectrum.eigvecs[:, :k])

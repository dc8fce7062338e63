"""Model checkpoints: one self-describing `.npz` file, and a safe importer for the authors' Haiku pickle.

A checkpoint is an uncompressed NumPy `.npz` (a zip of `.npy` files) holding

* `leaf_000`, `leaf_001`, …: the model's arrays, in `jax.tree_util.tree_leaves(model)` order;
* `__meta__`: UTF-8 JSON as a uint8 array: `{"format": "inrdict-checkpoint", "format_version": 1,
  "model": model_config(model), "metadata": {...}, "inrdict_version": ...}`.

Loading rebuilds a skeleton from `model` and fills it with the arrays, after checking their number, shapes and
dtypes. Nothing is pickled: unpickling runs whatever code the file names, so a checkpoint from a stranger could
take over the machine (SPEC §9 lists pickled checkpoints as a defect). Files are read with `allow_pickle=False`.

The one pickle we must read, the authors' published SIREN (SPEC §8), goes through `load_numpy_pickle`, whose
unpickler can only rebuild NumPy arrays and refuses every other class before anything is called.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path
from typing import Any, TypeVar, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict._io import atomic_file
from inrdict._version import __version__
from inrdict.errors import InrdictError
from inrdict.io.reference_weights import GRID_KEY, ImportedModel, grid_of, on_unit_grid
from inrdict.models import INRModel, Linear, Siren
from inrdict.models import family as _family

FORMAT_NAME = "inrdict-checkpoint"
FORMAT_VERSION = 1

_Tree = TypeVar("_Tree")


def model_config(model: eqx.Module) -> dict:
    """JSON-able description of a model: its family, `hyperparameters()` (sizes, static settings) and dtype."""
    family = type(model).__name__
    if family not in _family.model_classes() or _family.model_class(family) is not type(model):
        raise InrdictError(f"cannot describe a {family}: checkpoints support {', '.join(_family.model_classes())}")
    described = cast(INRModel, model)  # of a registered model class (checked just above)
    return {"family": family, **described.hyperparameters(), "dtype": str(jax.tree_util.tree_leaves(model)[0].dtype)}


def describable(model: object) -> bool:
    """Whether the checkpoint format (and so the on-disk cache's keys, `model_config`) can describe `model` (an
    Equinox module of a known family; never a PyTorch module)."""
    if not isinstance(model, eqx.Module):
        return False
    try:
        model_config(model)
    except InrdictError:
        return False
    return True


def model_from_config(config: dict) -> eqx.Module:
    """A model of the described family and shapes (`from_hyperparameters`: arrays from key(0), an FFN's B = 0)."""
    family = config.get("family") if isinstance(config, dict) else None
    if not isinstance(family, str) or family not in _family.model_classes():
        raise InrdictError(f"unknown model family {family!r}: expected one of {', '.join(_family.model_classes())}")
    try:
        dtype = np.dtype(config["dtype"])
        if not np.issubdtype(dtype, np.inexact):
            raise ValueError(f"dtype {dtype} is not floating-point")
        if jax.dtypes.canonicalize_dtype(dtype) != dtype:
            raise InrdictError(f"the model is {dtype}: enable it first with jax.config.update('jax_enable_x64', True)")
        # every INRModel class is an eqx.Module too (typing has no intersection types)
        return cast(eqx.Module, _family.model_class(family).from_hyperparameters(config, dtype=dtype))
    except (KeyError, TypeError, ValueError) as error:
        raise InrdictError(f"invalid {family} model config ({type(error).__name__}: {error}): {config}") from None


def save_model(path: str | os.PathLike, model: eqx.Module, *, metadata: dict | None = None) -> Path:
    """Write `model` (and JSON-able `metadata`) to one `.npz` file atomically; returns the path.

    The file is written beside `path`, synced, then renamed over it: a failure leaves any old file untouched.
    """
    return _write(
        path, jax.tree_util.tree_leaves(model), {"model": model_config(model), "metadata": dict(metadata or {})}
    )


def load_model(path: str | os.PathLike) -> tuple[eqx.Module, dict]:
    """Read a checkpoint written by `save_model`; returns `(model, metadata)`.

    The model takes the coordinates it was trained on: an inrdict-trained model inrdict's unit grid [0, 1)^d; a
    reference model written by `inrdict import-weights` its source's own coordinates (e.g. [−1, 1]² with both ends,
    in the source's axis order), which ``grid_of(metadata).points(shape)`` (`inrdict.io.reference_weights`) gives
    in pixel order. A model imported before the grid was recorded holds an `OnDomain` and takes [0, 1)^d.
    """
    arrays, meta, fail = _read(path)
    if "model" not in meta:
        raise fail("it holds a training state, not a model (see load_pytree)")
    try:
        skeleton = model_from_config(meta.get("model"))
    except InrdictError as error:
        raise fail(str(error)) from None
    return _fill(skeleton, arrays, fail), meta.get("metadata", {})


def model_from_leaves(config: dict, leaves) -> eqx.Module:
    """The model `model_config` described, with `leaves` (in `jax.tree_util.tree_leaves` order) as its arrays, shapes
    and dtypes checked: how a model travels as plain arrays (e.g. an experiment's `arrays.npz`) and back."""

    def fail(problem: str) -> InrdictError:
        return InrdictError(f"cannot rebuild the {config.get('family')} model: {problem}")

    return _fill(model_from_config(config), {f"leaf_{i:03d}": np.asarray(leaf) for i, leaf in enumerate(leaves)}, fail)


def save_pytree(path: str | os.PathLike, tree, *, metadata: dict | None = None) -> Path:
    """Write any pytree of arrays (e.g. parameters + optimiser state) atomically, in the same format.

    Loading needs a tree of the same structure (`load_pytree(path, like)`): the structure is code, not data.
    """
    return _write(path, jax.tree_util.tree_leaves(tree), {"pytree": True, "metadata": dict(metadata or {})})


def load_pytree(path: str | os.PathLike, like: _Tree) -> tuple[_Tree, dict]:
    """Read a `save_pytree` file into the structure of `like`, checking every leaf's shape and dtype."""
    arrays, meta, fail = _read(path)
    if not meta.get("pytree"):
        raise fail("it holds a model, not a training state (see load_model)")
    return _fill(like, arrays, fail), meta.get("metadata", {})


def _write(path: str | os.PathLike, leaves: list, meta: dict) -> Path:
    path = Path(path)
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **meta, "inrdict_version": __version__}
    try:
        meta_text = json.dumps(meta)
    except (TypeError, ValueError) as error:
        raise InrdictError(f"checkpoint metadata must be JSON-serialisable: {error}") from None
    # Any: passed as **arrays, which mypy would match against savez's own typed keywords (allow_pickle)
    arrays: dict[str, Any] = {f"leaf_{i:03d}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
    arrays["__meta__"] = np.frombuffer(meta_text.encode("utf-8"), np.uint8)
    with atomic_file(path, "checkpoint") as file:
        np.savez(file, **arrays)
    return path


def _read(path: str | os.PathLike):
    """(arrays by name, header, fail) of a checkpoint file, with format and version checked."""
    path = Path(path)

    def fail(problem: str) -> InrdictError:
        return InrdictError(f"cannot load checkpoint {path}: {problem}".replace("\n", " "))

    if not path.is_file():
        raise fail("no such file; check the path")
    try:  # Any failure to parse an untrusted file is a bad-file error, whatever NumPy or zipfile raise.
        with path.open("rb") as file:  # our handle: np.load leaks its own when the zip is broken
            magic = file.read(6)
            if magic[:4] != b"PK\x03\x04":
                raise fail("it is a single .npy array" if magic == b"\x93NUMPY" else "it is not a zip archive")
            file.seek(0)
            data = np.load(file, allow_pickle=False)
            with data:
                arrays = {name: data[name] for name in data.files}
    except InrdictError:
        raise
    except Exception as error:
        raise fail(f"not an .npz checkpoint ({type(error).__name__}: {error})") from None
    meta_array = arrays.pop("__meta__", None)
    if meta_array is None or meta_array.dtype != np.uint8 or meta_array.ndim != 1:
        raise fail("no __meta__ entry, so it was not written by inrdict.save_model")
    try:
        meta = json.loads(meta_array.tobytes().decode("utf-8"))
    except ValueError as error:
        raise fail(f"its __meta__ entry is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise fail(f"format is {meta.get('format') if isinstance(meta, dict) else None!r}, not {FORMAT_NAME!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise fail(f"format version {meta.get('format_version')!r} is not {FORMAT_VERSION}; upgrade inrdict")
    return arrays, meta, fail


def _fill(skeleton, arrays: dict, fail):
    """`skeleton` with its leaves replaced by `arrays` (leaf_000, ...), after checking count, shapes and dtypes."""
    expected, treedef = jax.tree_util.tree_flatten(skeleton)
    names = [f"leaf_{i:03d}" for i in range(len(expected))]
    if sorted(arrays) != names:
        raise fail(f"expected arrays {names[0]}..{names[-1]} ({len(names)}), found {len(arrays)}: {sorted(arrays)}")
    for name, want in zip(names, expected):
        got, want = arrays[name], np.asarray(want)
        if got.shape != want.shape or got.dtype != want.dtype:
            raise fail(f"{name} is {got.dtype}{list(got.shape)}, the model needs {want.dtype}{list(want.shape)}")
    return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(arrays[name]) for name in names])


def _latin1_bytes(text, encoding="latin1"):
    """Protocols 0-2 store bytes as `_codecs.encode(text, "latin1")`; allow that call and nothing else."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError("_codecs.encode is allowed only for latin1 text")
    return text.encode("latin1")


def _allowed_classes() -> dict[tuple[str, str], object]:
    from numpy._core import multiarray, numeric  # the NumPy 2 homes; naming numpy.core would warn

    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype, ("_codecs", "encode"): _latin1_bytes}
    for package in ("numpy.core", "numpy._core"):  # NumPy 1 pickles name numpy.core
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer  # type: ignore[attr-defined]  # protocol 5; private, not in NumPy's stubs
    return allowed


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file, path: Path):
        super().__init__(file)
        self.path, self.allowed = path, _allowed_classes()

    def find_class(self, module: str, name: str):
        if (module, name) not in self.allowed:
            self.refuse(f"asks for {ascii(f'{module}.{name}')[1:-1][:200]}")
        return self.allowed[(module, name)]

    def persistent_load(self, pid):
        self.refuse("uses persistent ids")

    def refuse(self, what: str):
        raise InrdictError(f"refusing to load {self.path}: the pickle {what}, only NumPy arrays are allowed")


def load_numpy_pickle(path: str | os.PathLike) -> object:
    """Unpickle a file that holds only containers, plain values and NumPy arrays; refuse anything else."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            return _NumpyOnlyUnpickler(file, path).load()
    except InrdictError:
        raise
    except OSError as error:
        raise InrdictError(f"cannot read {path}: {error.strerror or error}") from None
    except Exception as error:  # a corrupt or truncated pickle can fail in many ways
        reason = f"{type(error).__name__}: {error}".replace("\n", " ")
        raise InrdictError(f"cannot load {path}: corrupt or unsupported pickle ({reason})") from None


_HAIKU_LAYER = re.compile(r"siren/siren_layer(?:_([1-9][0-9]*))?/linear")


def import_haiku_siren(path: str | os.PathLike) -> Siren:
    """The authors' Haiku SIREN pickle (SPEC §8) as a `Siren(convention="ntk")` with omegas 30, float32.

    Haiku stores `w` as (in, out) and computes `x @ w + b`; Equinox stores (out, in), so each `w` is transposed.
    """
    params = load_numpy_pickle(path)

    def fail(problem: str) -> InrdictError:
        return InrdictError(f"{path} is not a Haiku SIREN parameter dict: {problem}")

    if not isinstance(params, dict) or not params:
        got = "an empty dict" if isinstance(params, dict) else type(params).__name__
        raise fail(f"expected a non-empty dict of layers, got {got}")
    indexed = {}
    for name, layer in params.items():
        match = _HAIKU_LAYER.fullmatch(name) if isinstance(name, str) else None
        if match is None:
            raise fail(f"unexpected entry {name!r} (layers are named siren/siren_layer[_k]/linear)")
        indexed[int(match.group(1) or 0)] = (name, layer)
    if sorted(indexed) != list(range(len(indexed))) or len(indexed) < 2:
        raise fail(f"layers must be numbered 0, 1, ..., with at least 2 of them, got {sorted(indexed)}")
    layers: list[Linear] = []
    for index in range(len(indexed)):
        name, layer = indexed[index]
        if not isinstance(layer, dict) or set(layer) != {"w", "b"}:
            raise fail(f"{name} must be a dict with exactly the keys 'w' and 'b'")
        w, b = layer["w"], layer["b"]
        if not all(isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating) for a in (w, b)):
            raise fail(f"{name} 'w' and 'b' must be floating-point NumPy arrays")
        if w.ndim != 2 or b.shape != (w.shape[1],) or (layers and w.shape[0] != layers[-1].out_features):
            raise fail(f"{name} has w {w.shape} and b {b.shape}, which do not chain with the previous layer")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise fail(f"{name} holds non-finite values")
        layers.append(Linear(jnp.asarray(w.T, jnp.float32), jnp.asarray(b, jnp.float32)))
    sizes = [layer.in_features for layer in layers] + [layers[-1].out_features]
    skeleton = Siren(sizes[0], tuple(sizes[1:-1]), sizes[-1], first_omega0=30.0, hidden_omega0=30.0,
                     convention="ntk", key=jax.random.key(0))  # fmt: skip
    return eqx.tree_at(lambda model: model.layers, skeleton, tuple(layers))


def load_weights(path: str | os.PathLike, grid_size: int | None = None) -> eqx.Module:
    """A model on inrdict's unit grid [0, 1)^d, for the experiments: an inrdict checkpoint's, the authors' Haiku SIREN
    pickle (read with the safe unpickler), or an imported reference model mapped there (`on_unit_grid`: exact on
    the grid of `grid_size` points per axis when given, else up to one pixel off at the far edge of a source grid
    that includes both ends; `load_model` gives it on its own coordinates)."""
    if Path(path).suffix.lower() in (".pickle", ".pkl"):
        return import_haiku_siren(path)
    model, metadata = load_model(path)
    if GRID_KEY in metadata:  # written by `inrdict import-weights`: takes its source's coordinates
        return on_unit_grid(cast(ImportedModel, model), grid_of(metadata), grid_size)
    return model

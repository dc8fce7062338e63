"""On-disk cache of NTK eigendecompositions and meta-learned checkpoints, shared by Figs. 4 and 5.

Location: `$INRDICT_CACHE_DIR`, else `~/.cache/inrdict`. NTK entries are keyed by a SHA-256 of everything that
determines them (model family, static settings and every weight; the grid; the precision), so a stale hit is
impossible. Meta-learned checkpoints are keyed by their resolved config (dataset path included, not its
contents) and the inrdict version. Delete the folder to reclaim space (a 64² float64 eigensystem is ~130 MB).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

from inrdict.errors import InrdictError

CACHE_VERSION = 1


def cache_dir() -> Path:
    return Path(os.environ.get("INRDICT_CACHE_DIR") or Path.home() / ".cache" / "inrdict")


def fingerprint(*parts) -> str:
    """SHA-256 (first 20 hex digits) of JSON-able parts and arrays / pytrees of arrays."""
    digest = hashlib.sha256(str(CACHE_VERSION).encode())
    for part in parts:
        leaves = jax.tree_util.tree_leaves(part)
        if leaves and all(hasattr(leaf, "shape") for leaf in leaves):
            for leaf in leaves:
                array = np.ascontiguousarray(np.asarray(leaf))
                digest.update(f"{array.dtype}{array.shape}".encode())
                digest.update(array.tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


def ntk_eigensystem(model, points: np.ndarray, dtype, *, use_cache: bool = True) -> tuple[np.ndarray, np.ndarray, dict]:
    """(eigvals descending, eigvecs in columns, timings) of the model's empirical NTK on `points`, cached on disk.

    `timings` holds ntk_seconds / eigh_seconds of the computation (or the cached one) and `cached` (bool).
    """
    from inrdict.checkpoints import model_config
    from inrdict.ntk import eigh_descending, empirical_ntk

    dtype = np.dtype(dtype)
    key = fingerprint(model_config(model), str(dtype), np.asarray(points), model)
    path = cache_dir() / "ntk" / f"{key}.npz"
    if use_cache and path.is_file():
        try:
            with open(path, "rb") as file, np.load(file, allow_pickle=False) as stored:  # our handle: no leak
                timings = json.loads(bytes(stored["timings"]).decode())
                return stored["eigvals"], stored["eigvecs"], {**timings, "cached": True}
        except Exception:  # any damage (truncated zip, bad JSON, missing array): recompute the entry
            path.unlink(missing_ok=True)
    start = time.perf_counter()
    kernel = empirical_ntk(model, points, dtype=dtype)
    ntk_seconds = time.perf_counter() - start
    start = time.perf_counter()
    eigvals, eigvecs = eigh_descending(kernel)
    timings = {"ntk_seconds": ntk_seconds, "eigh_seconds": time.perf_counter() - start}
    if use_cache:
        _save_atomic(path, eigvals=eigvals, eigvecs=eigvecs, timings=np.frombuffer(json.dumps(timings).encode(), np.uint8))
    return eigvals, eigvecs, {**timings, "cached": False}


def _save_atomic(path: Path, **arrays) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise InrdictError(f"cannot write the cache entry {path}: {error.strerror} (set INRDICT_CACHE_DIR)") from None
        raise

"""On-disk cache of NTK eigendecompositions (shared by every NTK figure) and the home of learned artefacts.

Location: `$INRDICT_CACHE_DIR`, else `~/.cache/inrdict`. NTK entries (`ntk/`) are keyed by a SHA-256 of everything
that determines them (model family, static settings and every weight; the grid; the precision), so a stale hit
is impossible. Learned artefacts (`artefacts/`: meta-learned and pretrained initialisations) are keyed by their
producer's resolved config (see `inrdict.experiments._artefacts`). Delete the folder to reclaim space (a 64²
float64 eigensystem is ~130 MB).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
import zipfile
from pathlib import Path

import jax
import numpy as np
from jaxtyping import Float

from inrdict._io import atomic_file
from inrdict._typing import AnyArray

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


class CacheDamageWarning(UserWarning):
    """A cache entry could not be read; it was deleted and will be recomputed."""


def memoize(namespace: str, parts: tuple, compute, *, use_cache: bool = True) -> tuple[dict[str, np.ndarray], bool]:
    """`(arrays, cached)`: the dict of NumPy arrays `compute()` returns, stored under `namespace/` keyed by a
    fingerprint of `parts` (everything that determines it), and read back instead of recomputed when present.

    A damaged entry (truncated by a crash, overwritten) is reported with a `CacheDamageWarning`, deleted and
    recomputed; entries are written atomically.
    """
    path = cache_dir() / namespace / f"{fingerprint(namespace, *parts)}.npz"
    if use_cache and path.is_file():
        try:
            with open(path, "rb") as file, np.load(file, allow_pickle=False) as stored:  # our handle: no leak
                return {name: stored[name] for name in stored.files}, True
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            warnings.warn(f"damaged {namespace} cache entry {path} ({type(error).__name__}: {error}): recomputing it",
                          CacheDamageWarning, stacklevel=3)  # fmt: skip
            path.unlink(missing_ok=True)
    arrays = compute()
    if use_cache:
        with atomic_file(path, "cache entry") as file:
            np.savez(file, **arrays)
    return arrays, False


def ntk_eigensystem(
    model, points: Float[AnyArray, "n d"], dtype, *, use_cache: bool = True
) -> tuple[Float[np.ndarray, " n"], Float[np.ndarray, "n n"], dict]:
    """(eigvals descending, eigvecs in columns, timings) of the model's empirical NTK on `points`, cached on disk.

    `timings` holds ntk_seconds / eigh_seconds of the computation (or the cached one) and `cached` (bool). Memory
    for the kernel *and* its eigendecomposition is checked before anything is computed.
    """
    from inrdict.checkpoints import model_config
    from inrdict.ntk import eigh_descending, eigh_memory_bytes, empirical_ntk

    dtype = np.dtype(dtype)

    def compute() -> dict[str, np.ndarray]:
        start = time.perf_counter()
        kernel = empirical_ntk(model, points, dtype=dtype, reserve_bytes=eigh_memory_bytes(len(points), dtype.itemsize))
        ntk_seconds = time.perf_counter() - start
        start = time.perf_counter()
        eigvals, eigvecs = eigh_descending(kernel)
        timings = {"ntk_seconds": ntk_seconds, "eigh_seconds": time.perf_counter() - start}
        return {"eigvals": eigvals, "eigvecs": eigvecs, "timings": np.frombuffer(json.dumps(timings).encode(), np.uint8)}

    stored, cached = memoize("ntk", (model_config(model), str(dtype), np.asarray(points), model), compute, use_cache=use_cache)
    timings = json.loads(bytes(stored["timings"]).decode())
    return stored["eigvals"], stored["eigvecs"], {**timings, "cached": cached}

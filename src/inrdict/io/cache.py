"""The on-disk store: memoise a computation by a fingerprint of everything that determines it. It knows nothing of
what it stores (the caller names a namespace and the parts; `inrdict.analysis.lens` stores NTK spectra and
fine-tuning curves, `inrdict.experiments._artefacts` learned initialisations).

Location: `$INRDICT_CACHE_DIR`, else `~/.cache/inrdict`. Entries are keyed by a SHA-256 of their parts (for an NTK
spectrum: model family, static settings and every weight; the grid; the precision), so a stale hit is impossible.
Delete the folder to reclaim space (a 64² float64 eigensystem is ~130 MB).
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from pathlib import Path

import jax
import numpy as np

from inrdict._io import atomic_file, cache_root

CACHE_VERSION = 1


def cache_dir() -> Path:
    return cache_root()


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
        with atomic_file(path, "cache entry") as out:
            np.savez(out, **arrays)
    return arrays, False

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
from typing import Literal

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


# Above this many points the automatic route is matrix-free: a full `eigh` at 128² (16,384 points) takes ~10 min
# and 4.7 GB on 2 cores, top-k eigenpairs of the operator ~20 s (benchmarks/ntk_topk.py).
DENSE_MAX_POINTS = 4096
Route = Literal["auto", "dense", "matrix_free"]


def spectrum_route(n_points: int, route: Route = "auto") -> str:
    """"dense" or "matrix_free" for `route` on `n_points` points ("auto": dense up to `DENSE_MAX_POINTS`)."""
    if route == "auto":
        return "dense" if n_points <= DENSE_MAX_POINTS else "matrix_free"
    return route


def spectrum_memory_bytes(model, n_points: int, dtype, *, route: Route = "auto", top_k: int = 64) -> int:
    """Rough peak bytes of `ntk_eigensystem` before anything is computed: the kernel and its eigendecomposition
    (about 6 n² values) on the dense route; n · (Σ_l (in_l + out_l) + 8 k) values of layer features and Krylov
    vectors on the matrix-free one (a model without `layers` is counted as 4 layers of 256)."""
    from inrdict.ntk import eigh_memory_bytes

    itemsize = np.dtype(dtype).itemsize
    if spectrum_route(n_points, route) == "dense":
        return n_points**2 * itemsize + eigh_memory_bytes(n_points, itemsize)
    layers = getattr(model, "layers", None)
    widths = sum(layer.in_features + layer.out_features for layer in layers) if layers else 4 * 512
    return n_points * (widths + 8 * min(top_k, n_points)) * itemsize


def require_spectrum_memory(model, n_points: int, dtype, *, route: Route = "auto", top_k: int = 64) -> None:
    """Refuse in one line, before any data is prepared, an NTK spectrum that would not fit in memory."""
    from inrdict._memory import require_memory

    chosen = spectrum_route(n_points, route)
    require_memory(spectrum_memory_bytes(model, n_points, dtype, route=route, top_k=top_k),
                   f"the {chosen.replace('_', '-')} NTK spectrum of {n_points} points",
                   "choose a smaller --set grid_size" + (" or --set spectrum=matrix_free" if chosen == "dense" else ""))  # fmt: skip


def ntk_eigensystem(
    model,
    points: Float[AnyArray, "n d"],
    dtype,
    *,
    use_cache: bool = True,
    route: Route = "auto",
    top_k: int = 64,
) -> tuple[Float[np.ndarray, " k"], Float[np.ndarray, "n k"], dict]:
    """(eigvals descending, unit eigvecs in columns, info) of the model's empirical NTK on `points`, cached on disk.

    Route (`spectrum_route`): "dense" forms the kernel and computes all n eigenpairs (k = n; memory for the kernel
    *and* its eigendecomposition is checked before anything is computed); "matrix_free" computes only the `top_k`
    largest with `inrdict.ntk_operator.top_eigenpairs` (residual ≤ 1e-4 λ₀ in float32, 1e-8 λ₀ in float64), never
    forming the full kernel (the operator keeps its upper triangle where that is cheaper: `storing_pays`). `info`
    holds the route, k, timings (ntk_seconds / eigh_seconds, or solve_seconds, the largest residual and
    stored_kernel) and `cached` (bool).
    """
    from inrdict.checkpoints import model_config

    dtype = np.dtype(dtype)
    route = spectrum_route(len(points), route)
    parts = (model_config(model), str(dtype), np.asarray(points), model)
    if route == "dense":
        stored, cached = memoize("ntk", parts, lambda: _dense_eigensystem(model, points, dtype), use_cache=use_cache)
    else:
        k = min(int(top_k), len(points))
        stored, cached = memoize("ntk_topk", (*parts, k), lambda: _top_eigensystem(model, points, dtype, k),
                                 use_cache=use_cache)  # fmt: skip
    info = json.loads(bytes(stored["timings"]).decode())
    return stored["eigvals"], stored["eigvecs"], {"route": route, "k": int(stored["eigvals"].size), **info, "cached": cached}


def _dense_eigensystem(model, points, dtype: np.dtype) -> dict[str, np.ndarray]:
    from inrdict.ntk import eigh_descending, eigh_memory_bytes, empirical_ntk

    start = time.perf_counter()
    kernel = empirical_ntk(model, points, dtype=dtype, reserve_bytes=eigh_memory_bytes(len(points), dtype.itemsize))
    ntk_seconds = time.perf_counter() - start
    start = time.perf_counter()
    eigvals, eigvecs = eigh_descending(kernel)
    timings = {"ntk_seconds": ntk_seconds, "eigh_seconds": time.perf_counter() - start}
    return {"eigvals": eigvals, "eigvecs": eigvecs, "timings": np.frombuffer(json.dumps(timings).encode(), np.uint8)}


def _top_eigensystem(model, points, dtype: np.dtype, k: int) -> dict[str, np.ndarray]:
    from inrdict.ntk_operator import top_eigenpairs

    result = top_eigenpairs(model, points, k, dtype=dtype, tol=1e-4 if dtype == np.float32 else 1e-8)
    info = {"solve_seconds": result.seconds, "products": result.matvecs, "max_residual": float(np.max(result.residuals)),
            "converged": bool(result.converged), "solver": result.method,
            "stored_kernel": bool(result.stored_kernel)}  # fmt: skip
    return {"eigvals": result.eigvals, "eigvecs": result.eigvecs, "timings": np.frombuffer(json.dumps(info).encode(), np.uint8)}

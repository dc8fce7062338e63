"""NumPy/SciPy's OpenBLAS on one thread while XLA runs: a context manager."""

from __future__ import annotations

import contextlib
import ctypes


@contextlib.contextmanager
def _single_threaded_blas():
    """Run NumPy/SciPy's OpenBLAS on one thread inside the block (restored afterwards).

    The solver alternates XLA products (which use every core) with small BLAS/LAPACK calls; multi-threaded OpenBLAS
    then fights XLA's thread pool: on 2 cores a 168 x 168 `eigh` took 135 ms instead of 1 ms and the products
    slowed by ~25 %. Uses the `scipy_openblas` wheels' thread setters when they are loaded; a no-op otherwise.
    """
    restore = []
    paths = set()
    try:
        with open("/proc/self/maps") as maps:
            fields = [line.split() for line in maps if "openblas" in line.lower()]
        paths = {parts[-1] for parts in fields if parts[-1].startswith("/")}
    except OSError:  # pragma: no cover - not Linux
        pass
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:  # pragma: no cover
            continue
        for suffix in ("", "64_"):
            getter = getattr(library, f"scipy_openblas_get_num_threads{suffix}", None) or getattr(
                library, f"openblas_get_num_threads{suffix}", None
            )
            setter = getattr(library, f"scipy_openblas_set_num_threads{suffix}", None) or getattr(
                library, f"openblas_set_num_threads{suffix}", None
            )
            if getter is not None and setter is not None:
                restore.append((setter, int(getter())))
                setter(1)
                break
    try:
        yield
    finally:
        for setter, threads in restore:
            setter(threads)

"""Several JAX processes (`jax.distributed`): every process's rows gathered, small arrays summed."""

from __future__ import annotations

import jax
import numpy as np

from inrdict.errors import InrdictError


def gather_rows(local: np.ndarray, n: int) -> np.ndarray:
    """Every process's rows (its `local_rows`, in process order) stacked into (n, ...) on every process."""
    if jax.process_count() == 1:
        return local
    from jax.experimental import multihost_utils

    counts = multihost_utils.process_allgather(np.array([local.shape[0]], np.int32)).reshape(-1)
    widest = int(counts.max())
    padded = np.zeros((widest, *local.shape[1:]), local.dtype)
    padded[: local.shape[0]] = local
    stacked = multihost_utils.process_allgather(padded)  # (processes, widest, ...)
    rows = np.concatenate([stacked[p, : counts[p]] for p in range(len(counts))], axis=0)
    if rows.shape[0] != n:
        raise InrdictError(f"gathered {rows.shape[0]} rows from the processes, expected {n}")
    return rows


def process_sum(partial: np.ndarray) -> np.ndarray:
    """The sum over processes of a small array (identical, bit for bit, on every process); itself on one."""
    if jax.process_count() == 1:
        return partial
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(np.asarray(partial))).sum(axis=0)

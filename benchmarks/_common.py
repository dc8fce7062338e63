"""Timing helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp


def best_seconds(fn, repeats: int) -> float:
    """Best wall time of `repeats` calls of `fn`, each waited for with `block_until_ready`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_gflops(m: int, k: int, n: int, repeats: int = 5) -> float:
    """This machine's float32 throughput on a jitted (m, k) @ (k, n) matmul, best of `repeats`."""
    a = jax.random.normal(jax.random.key(0), (m, k), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (k, n), jnp.float32)
    f = jax.jit(jnp.matmul)
    jax.block_until_ready(f(a, b))
    return 2 * m * k * n / best_seconds(lambda: f(a, b), repeats) / 1e9

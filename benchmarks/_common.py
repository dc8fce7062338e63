"""Timing helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import resource
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


def rss_bytes() -> int:
    """Peak resident memory of this process so far: VmHWM of /proc/self/status.

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: on Linux that survives exec, so a freshly spawned child starts from
    its parent's resident size at fork time, which is what per-method children are meant to avoid.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

"""The stored upper triangle of the NTK: block rows formed from the layer features, products with one matmul per
block row, and the rule deciding when storing pays (see `inrdict.ntk.operator`, "Stored triangle")."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, cast

import jax
import jax.numpy as jnp
from jaxtyping import Array

from inrdict._memory import available_memory_bytes

if TYPE_CHECKING:  # the operator stores through this module: a type-only import back
    from inrdict.ntk.operator import KernelOperator, NTKOperator

# `top_eigenpairs` keeps the kernel's upper triangle when it takes at most this (and a quarter of free memory).
STORE_LIMIT_BYTES = 1 << 30


@functools.partial(jax.jit, static_argnums=1)
def _triangle_rows(blocks: Array, n_blocks: int) -> list[Array]:
    """Upper-triangle blocks (pairs, b, b) in row-major pair order → block rows R_i = [Θ_ii / 2, Θ_i,i+1, ...]
    of shape (b, (n_blocks − i) b), the diagonal block symmetrised and halved (`_stored_product` adds it twice)."""
    rows, start = [], 0
    for i in range(n_blocks):
        row_blocks = blocks[start : start + n_blocks - i]  # (n_blocks − i, b, b): blocks (i, i), (i, i + 1), ...
        diagonal = 0.25 * (row_blocks[0] + row_blocks[0].T)
        row_blocks = jnp.concatenate([diagonal[None], row_blocks[1:]])
        rows.append(jnp.transpose(row_blocks, (1, 0, 2)).reshape(row_blocks.shape[1], -1))
        start += n_blocks - i
    return rows


@jax.jit
def _stored_product(kernel_rows: list[Array], vectors: Array) -> Array:
    """Θ V (N, m) from the block rows R_i of the upper triangle (`_triangle_rows`): rows of block i get R_i V[i:],
    and rows from block i on get R_iᵀ V_i (as (V_iᵀ R_i)ᵀ: no transposed copy of R_i)."""
    block = kernel_rows[0].shape[0]
    direct, mirrored = [], jnp.zeros(vectors.shape[::-1], vectors.dtype)  # (m, N)
    for i, row in enumerate(kernel_rows):
        start = i * block
        direct.append(row @ vectors[start:])
        mirrored = mirrored.at[:, start:].add(vectors[start : start + block].T @ row)
    return jnp.concatenate(direct) + mirrored.T


def storing_pays(operator: KernelOperator, k: int) -> bool:
    """Whether `top_eigenpairs` should `store()` the kernel: structured method on one device, the upper triangle
    within `STORE_LIMIT_BYTES` and a quarter of free memory, and cheaper to form than the ~2.5 k matrix-free
    products a Krylov solver needs for k pairs (forming: 2 b² Σ_l (in_l + out_l) flops per block pair; a product:
    4 N P). For the SIREN 2→256×4→1 at k = 64 forming is cheaper up to ~250² points; in float32 the 1 GiB limit
    stops at ~150²."""
    if operator.stored or operator.method != "structured" or operator.n_devices != 1:
        return operator.stored
    ntk = cast("NTKOperator", operator)  # the structured method is `NTKOperator`'s
    if ntk.stored_bytes() > min(STORE_LIMIT_BYTES, available_memory_bytes() // 4):
        return False
    pairs = ntk._n_blocks * (ntk._n_blocks + 1) // 2
    forming = pairs * 2 * ntk.block_size**2 * sum(ntk._feature_widths)
    return forming < 2.5 * k * 4 * ntk.shape[0] * ntk.n_parameters

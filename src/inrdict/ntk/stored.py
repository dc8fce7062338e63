"""The stored upper triangle of the NTK: block rows formed from the layer features and products with one matmul per
block row (when storing pays: `inrdict.ntk.operator.storing_pays`; the math: `inrdict.ntk.operator`, "Stored
triangle")."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array

# `top_eigenpairs` keeps the kernel's upper triangle when it takes at most this (and a quarter of free memory).
STORE_LIMIT_BYTES = 1 << 30


@functools.partial(jax.jit, static_argnums=1)
def triangle_rows(blocks: Array, n_blocks: int) -> list[Array]:
    """Upper-triangle blocks (pairs, b, b) in row-major pair order → block rows R_i = [Θ_ii / 2, Θ_i,i+1, ...]
    of shape (b, (n_blocks − i) b), the diagonal block symmetrised and halved (`stored_product` adds it twice)."""
    rows, start = [], 0
    for i in range(n_blocks):
        row_blocks = blocks[start : start + n_blocks - i]  # (n_blocks − i, b, b): blocks (i, i), (i, i + 1), ...
        diagonal = 0.25 * (row_blocks[0] + row_blocks[0].T)
        row_blocks = jnp.concatenate([diagonal[None], row_blocks[1:]])
        rows.append(jnp.transpose(row_blocks, (1, 0, 2)).reshape(row_blocks.shape[1], -1))
        start += n_blocks - i
    return rows


@jax.jit
def stored_product(kernel_rows: list[Array], vectors: Array) -> Array:
    """Θ V (N, m) from the block rows R_i of the upper triangle (`triangle_rows`): rows of block i get R_i V[i:],
    and rows from block i on get R_iᵀ V_i (as (V_iᵀ R_i)ᵀ: no transposed copy of R_i)."""
    block = kernel_rows[0].shape[0]
    direct, mirrored = [], jnp.zeros(vectors.shape[::-1], vectors.dtype)  # (m, N)
    for i, row in enumerate(kernel_rows):
        start = i * block
        direct.append(row @ vectors[start:])
        mirrored = mirrored.at[:, start:].add(vectors[start : start + block].T @ row)
    return jnp.concatenate(direct) + mirrored.T

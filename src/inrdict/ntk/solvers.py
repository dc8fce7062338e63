"""Top-k eigenpairs of the NTK operator: block Krylov (default), ARPACK, LOBPCG."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from jaxtyping import Float

from inrdict._typing import AnyArray
from inrdict.errors import InrdictError
from inrdict.ntk._blas import _single_threaded_blas
from inrdict.ntk.operator import SOLVERS, KernelOperator, NTKOperator, _model_dtype
from inrdict.ntk.stored import storing_pays

# -------------------------------------------------------------------------------------------------- eigenpairs


@dataclasses.dataclass(frozen=True)
class TopEigenpairs:
    """The k largest eigenpairs of an NTK, from `top_eigenpairs`.

    Attributes:
        eigvals: (k,) descending.
        eigvecs: (N, k) unit eigenvectors in columns (a column reshapes to the grid like `eigh_descending`'s).
        residuals: (k,) ‖Θ x_i − λ_i x_i‖ / λ_0 of each returned pair.
        matvecs: vector products used (a block of m counts m), residual checks included.
        seconds: wall time, features and compilation included.
        method: the solver ("block", "eigsh", "lobpcg" or "dense" for tiny N).
        converged: whether every residual is ≤ the requested tolerance.
        stored_kernel: whether the products used the kernel's stored upper triangle (`NTKOperator.store`)
            rather than the matrix-free form.
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    residuals: np.ndarray
    matvecs: int
    seconds: float
    method: str
    converged: bool
    stored_kernel: bool = False


def _orthonormalize(z: np.ndarray, basis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Orthonormal columns spanning z's part orthogonal to `basis` (orthonormal columns): CGS2 + QR.

    Directions that vanish (the Krylov space became invariant, e.g. a kernel of low rank) are replaced by random
    ones, so the returned block always has z's number of columns.
    """
    norms = np.linalg.norm(z, axis=0)
    for _ in range(2):
        if basis.shape[1]:
            z = z - basis @ (basis.T @ z)
    q, r = np.linalg.qr(z)
    scale = max(float(norms.max()), np.finfo(z.dtype).tiny)
    weak = np.abs(np.diag(r)) < 1e3 * np.finfo(z.dtype).eps * scale
    if weak.any():
        fresh = rng.standard_normal((z.shape[0], int(weak.sum()))).astype(z.dtype)
        keep = q[:, ~weak]
        for _ in range(2):
            fresh = fresh - basis @ (basis.T @ fresh) if basis.shape[1] else fresh
            fresh = fresh - keep @ (keep.T @ fresh)
        q = np.concatenate([keep, np.linalg.qr(fresh)[0]], axis=1)
    return q


def _block_krylov(operator: KernelOperator, k: int, block: int, max_basis: int, tol: float, max_products: int,
                  rng: np.random.Generator):  # fmt: skip
    """Block Krylov–Schur for the k largest eigenpairs: (eigvals, eigvecs, residuals/λ0, converged).

    Keeps an orthonormal basis Q (N, s) and its images W = Θ Q. Each step orthonormalises the newest images against
    Q (the next Krylov block), multiplies it by Θ, extends H = Qᵀ W and runs Rayleigh–Ritz: Ritz pairs (θ, Q y) with
    residuals W y − θ Q y from the stored products. A full basis is compressed to its leading Ritz vectors (thick
    restart) and the Krylov recurrence continues from the residual block.
    """
    n, dtype = operator.shape[0], operator.dtype
    q = np.empty((n, max_basis), dtype)
    w = np.empty((n, max_basis), dtype)
    h = np.zeros((max_basis, max_basis), np.float64)
    size = 0
    z = rng.standard_normal((n, block)).astype(dtype)
    used = 0
    while True:
        new = _orthonormalize(z, q[:, :size], rng)
        images = operator.matmat(new)
        used += block
        q[:, size : size + block], w[:, size : size + block] = new, images
        column = (q[:, : size + block].T @ images).astype(np.float64)  # (s + b, b)
        h[: size + block, size : size + block] = column
        h[size : size + block, :size] = column[:size].T
        size += block
        theta, y = np.linalg.eigh(0.5 * (h[:size, :size] + h[:size, :size].T))
        theta, y = theta[::-1], y[:, ::-1]
        if size >= k:
            yk = y[:, :k].astype(dtype)
            vectors = q[:, :size] @ yk
            residual = w[:, :size] @ yk - vectors * theta[:k].astype(dtype)[None, :]
            residuals = np.linalg.norm(residual, axis=0).astype(np.float64) / abs(theta[0])
            if residuals.max() <= tol or used >= max_products:
                vectors /= np.linalg.norm(vectors, axis=0, keepdims=True)
                return theta[:k].copy(), vectors, residuals, bool(residuals.max() <= tol), used
        z = images
        if size + block > max_basis:  # thick restart onto the leading Ritz vectors
            z = images - q[:, :size] @ (q[:, :size].T @ images)
            keep = min(size - block, max(k + block, (size + k) // 2))
            yp = y[:, :keep].astype(dtype)
            q[:, :keep], w[:, :keep] = q[:, :size] @ yp, w[:, :size] @ yp
            h[:] = 0.0
            h[np.arange(keep), np.arange(keep)] = theta[:keep]
            size = keep


def _residuals(operator: KernelOperator, eigvals: np.ndarray, eigvecs: np.ndarray) -> np.ndarray:
    images = operator.matmat(eigvecs.astype(operator.dtype))
    residual = images.astype(np.float64) - eigvecs.astype(np.float64) * eigvals[None, :]
    return np.linalg.norm(residual, axis=0) / abs(float(eigvals[0]))


def _default_block(k: int) -> int:
    return max(1, min(8, k))


def solver_memory_bytes(n: int, k: int, solver: str, block: int, max_basis: int, itemsize: int) -> int:
    """Bytes the eigensolver keeps besides the operator (Krylov basis and images, Ritz vectors, residuals)."""
    if solver == "block":
        return (2 * max_basis + 3 * k + 4 * block) * n * itemsize
    if solver == "eigsh":
        return (max(2 * k + 1, 20) + 3 * k) * n * 8
    return 12 * (k + 16) * n * 8  # lobpcg: X, AX, R, AR, P, AP and Gram work, float64


def top_eigenpairs_of(
    operator: KernelOperator,
    k: int,
    *,
    method: str = "block",
    tol: float = 1e-4,
    block_size: int | None = None,
    max_basis: int | None = None,
    max_products: int | None = None,
    seed: int = 0,
    store_kernel: bool | None = None,
) -> TopEigenpairs:
    """The k largest eigenpairs of an `NTKOperator` (see `top_eigenpairs` for the arguments); with
    `store_kernel` (or when `storing_pays`) the operator is `store()`d first."""
    start = time.perf_counter()
    n = operator.shape[0]
    if not 1 <= k <= n:
        raise InrdictError(f"k must be between 1 and the number of points ({n}), got {k}")
    if method not in SOLVERS:
        raise InrdictError(f"unknown eigensolver {method!r}: choose one of {', '.join(SOLVERS)}")
    floor = 1e-6 if operator.dtype == np.float32 else 1e-12
    if tol < floor:
        raise InrdictError(
            f"tol={tol:g} is below what {operator.dtype.name} products resolve ({floor:g}): raise tol or use float64"
        )
    block = _default_block(k) if block_size is None else int(block_size)
    if block < 1:
        raise InrdictError(f"block_size must be positive, got {block}")
    max_basis = max_basis or max(4 * k, 2 * k + 16 * block)
    max_basis = min(max_basis, n)
    max_products = max_products or max(50 * k, 2000)
    rng = np.random.default_rng(seed)
    if store_kernel or (store_kernel is None and storing_pays(operator, k)):
        operator.store()
    before = operator.products
    with _single_threaded_blas():
        eigvals, eigvecs, residuals, converged, method = _solve(operator, k, method, tol, block, max_basis,
                                                                max_products, rng)  # fmt: skip
    eigvecs = np.asarray(eigvecs, operator.dtype)
    eigvecs /= np.linalg.norm(eigvecs, axis=0, keepdims=True)
    return TopEigenpairs(
        eigvals=np.asarray(eigvals, operator.dtype),
        eigvecs=eigvecs,
        residuals=np.asarray(residuals, np.float64),
        matvecs=operator.products - before,
        seconds=time.perf_counter() - start,
        method=method,
        converged=converged,
        stored_kernel=operator.stored,
    )


def _solve(operator: KernelOperator, k: int, method: str, tol: float, block: int, max_basis: int, max_products: int,
           rng: np.random.Generator):  # fmt: skip
    n = operator.shape[0]
    if max_basis < k + 2 * block or n <= max_basis:  # tiny problem: the whole kernel in n products
        kernel = operator.dense().astype(np.float64)
        eigvals, eigvecs = np.linalg.eigh(kernel)
        eigvals, eigvecs = eigvals[::-1][:k].copy(), eigvecs[:, ::-1][:, :k].astype(operator.dtype)
        residuals = np.linalg.norm(kernel @ eigvecs - eigvecs * eigvals, axis=0) / abs(eigvals[0])
        converged, method = bool(residuals.max() <= tol), "dense"
    elif method == "block":
        eigvals, eigvecs, residuals, converged, _ = _block_krylov(operator, k, block, max_basis, tol, max_products, rng)
    elif method == "eigsh":
        import scipy.sparse.linalg

        v0 = rng.standard_normal(n).astype(operator.dtype)
        eigvals, eigvecs = scipy.sparse.linalg.eigsh(
            operator.as_linear_operator(), k=k, which="LA", tol=tol, v0=v0, maxiter=max_products
        )
        order = np.argsort(eigvals)[::-1]
        eigvals, eigvecs = eigvals[order].astype(np.float64), eigvecs[:, order]
        residuals = _residuals(operator, eigvals, eigvecs)
        converged = bool(residuals.max() <= tol)
    else:
        import warnings

        import scipy.sparse.linalg

        x0 = rng.standard_normal((n, min(n, k + 16)))
        as64 = scipy.sparse.linalg.LinearOperator(
            (n, n), matvec=lambda v: operator.matvec(v.astype(operator.dtype)).astype(np.float64),
            matmat=lambda v: operator.matmat(v.astype(operator.dtype)).astype(np.float64), dtype=np.float64,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "not reaching the requested tolerance": reported by `converged`
            eigvals, eigvecs = scipy.sparse.linalg.lobpcg(
                as64, x0, tol=tol, largest=True, maxiter=max(1, max_products // x0.shape[1])
            )
        order = np.argsort(eigvals)[::-1][:k]
        eigvals, eigvecs = eigvals[order], eigvecs[:, order].astype(operator.dtype)
        residuals = _residuals(operator, eigvals, eigvecs)
        converged = bool(residuals.max() <= tol)
    return eigvals, eigvecs, residuals, converged, method


def top_eigenpairs(
    model,
    points: Float[AnyArray, " n *d"],
    k: int,
    *,
    dtype=None,
    tol: float = 1e-4,
    method: str = "block",
    block_size: int | None = None,
    max_basis: int | None = None,
    max_products: int | None = None,
    seed: int = 0,
    operator_method: str = "auto",
    max_bytes: int | None = None,
    store_kernel: bool | None = None,
) -> TopEigenpairs:
    """The k largest eigenpairs of the empirical NTK of `model` on `points`, without forming the kernel.

    Builds an `NTKOperator` (exact products Θ V from the layer features, O(N · width) memory) and runs an iterative
    eigensolver until every pair has ‖Θ x_i − λ_i x_i‖ ≤ tol · λ_0.

    Args:
        model: a single-output model (a `DenseINR` for the structured products, any Equinox module otherwise).
        points: (N, d) inputs.
        k: number of eigenpairs (1 ≤ k ≤ N).
        dtype: float32 or float64 (default: the model's; float64 needs `jax.enable_x64(True)`).
        tol: residual tolerance relative to the largest eigenvalue (≥ 1e-6 in float32, ≥ 1e-12 in float64).
        method: "block" (block Krylov–Schur, default: fastest measured), "eigsh" (ARPACK) or "lobpcg" (SciPy).
        block_size: vectors per product for "block" (default 8).
        max_basis: Krylov basis size before a thick restart (default max(4k, 2k + 16 · block_size)).
        max_products: stop after about this many vector products (default max(50 k, 2000)); see `converged`.
        seed: seed of the random start vectors.
        operator_method: "auto", "structured" or "generic" (see `NTKOperator`).
        max_bytes: refuse when operator + solver memory would exceed this (default 80 % of physical memory).
        store_kernel: keep the kernel's upper triangle and multiply by it (`NTKOperator.store`); None (default)
            decides by `storing_pays`: small grids (≤ ~150² points for the SIREN 2→256×4→1 in float32) are
            stored, since forming the triangle costs fewer flops than the solver's matrix-free products. False
            keeps the solve matrix-free at any size.

    Returns:
        `TopEigenpairs`: eigvals (k,) descending, eigvecs (N, k) unit columns, residuals (k,) relative to λ_0,
        matvecs, seconds, method, converged, stored_kernel. Problems with N ≤ max_basis are solved densely from N products
        (method "dense").

    Raises:
        InrdictError: bad k, method, dtype or tol, a multi-output model, or not enough memory (with the bytes needed).
    """
    start = time.perf_counter()
    n = np.asarray(points).shape[0]
    itemsize = np.dtype(dtype if dtype is not None else _model_dtype(model)).itemsize
    block = _default_block(k) if block_size is None else max(1, int(block_size))
    basis = min(n, max_basis or max(4 * k, 2 * k + 16 * block))
    operator = NTKOperator(
        model, points, dtype=dtype, method=operator_method, max_bytes=max_bytes,
        max_columns=max(block, min(k, 64)), extra_bytes=solver_memory_bytes(n, k, method, block, basis, itemsize),
    )  # fmt: skip
    result = top_eigenpairs_of(operator, k, method=method, tol=tol, block_size=block_size, max_basis=max_basis,
                               max_products=max_products, seed=seed, store_kernel=store_kernel)  # fmt: skip
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


__all__ = ["NTKOperator", "TopEigenpairs", "storing_pays", "top_eigenpairs", "top_eigenpairs_of"]

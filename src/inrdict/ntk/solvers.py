"""Top-k eigenpairs of the NTK operator: block Krylov (default), ARPACK, LOBPCG.

**Eigenpairs.** `top_eigenpairs` offers three solvers over the operator, all stopping when every one of the k
residuals ‖Θ x_i − λ_i x_i‖ is ≤ tol · λ_0:

* ``"block"`` (default): block Krylov–Schur — block Lanczos with full reorthogonalisation (two classical
  Gram–Schmidt passes), a Rayleigh–Ritz step after every block, and thick restart onto the leading Ritz vectors when
  the basis is full. Residuals come from the stored products Θ Q (no extra products). Small blocks (default 8)
  keep the number of products close to single-vector Lanczos, while each block product still runs as matmuls of
  width m·in, near the matmul peak.
* ``"eigsh"``: SciPy's ARPACK (implicitly restarted Lanczos) over single-vector products (tol per ARPACK's
  convention, ‖r_i‖ ≤ tol·|λ_i|, which implies the bound above), plus one block product to report residuals.
* ``"lobpcg"``: SciPy's LOBPCG on a block of k + 16 vectors (run in float64, products in the operator's dtype),
  plus one block product for the residuals.

Their measured cost: docs/performance.md ("top-k eigenpairs").
"""

from __future__ import annotations

import dataclasses
import time
import typing

import jax
import numpy as np
from jaxtyping import Float

from inrdict._memory import USABLE_FRACTION, available_memory_bytes
from inrdict._typing import AnyArray
from inrdict.errors import InrdictError
from inrdict.ntk._blas import _single_threaded_blas
from inrdict.ntk.gather import gather_rows, process_sum
from inrdict.ntk.operator import NTKOperator, model_dtype, storing_pays
from inrdict.ntk.protocol import KernelOperator, LinearOperatorMixin

SOLVERS = ("block", "eigsh", "lobpcg")

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
        route: "points" (Krylov on Θ, N×N) or "parameters" (on Jᵀ J, P×P, eigenvectors mapped back by
            u = J v / √λ); see `choose_route`.
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    residuals: np.ndarray
    matvecs: int
    seconds: float
    method: str
    converged: bool
    stored_kernel: bool = False
    route: str = "points"


class _Space(LinearOperatorMixin):
    """The vector space a solver iterates in: Θ on the N points (rows possibly split across processes) or
    G = Jᵀ J on the P parameters (replicated). Inner products and QR factorisations sum over processes."""

    def __init__(self, n: int, rows: slice, matmat, dtype, distributed: bool):
        self.shape = (n, n)
        self.dtype = np.dtype(dtype)
        self.rows = rows  # this process's rows of the vectors (all of them on one process)
        self._matmat = matmat
        self.distributed = distributed

    def matmat(self, vectors):
        return self._matmat(vectors)

    def dense(self) -> np.ndarray:
        """The whole operator (n, n) from n products, on every process."""
        if not self.distributed:
            return super().dense()
        kernel = gather_rows(self.matmat(np.eye(self.shape[0], dtype=self.dtype)[self.rows]), self.shape[0])
        return 0.5 * (kernel + kernel.T)

    def inner(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """aᵀ b over all N rows."""
        return process_sum(a.T @ b) if self.distributed else a.T @ b

    def norms(self, z: np.ndarray) -> np.ndarray:
        if not self.distributed:
            return np.linalg.norm(z, axis=0)
        return np.sqrt(np.maximum(process_sum(np.sum(z * z, axis=0)), 0.0))

    def qr(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Thin QR of the row-split z: on one process LAPACK's; across processes TSQR (local QR, then a QR of
        the stacked R factors, the same on every process)."""
        if not self.distributed:
            return np.linalg.qr(z)
        from jax.experimental import multihost_utils

        n_local, width = z.shape
        padded = np.zeros((max(n_local, width), width), z.dtype)
        padded[:n_local] = z
        q_local, r_local = np.linalg.qr(padded)
        stacked = np.asarray(multihost_utils.process_allgather(r_local)).reshape(-1, width)
        q_outer, r = np.linalg.qr(stacked)
        index = jax.process_index()
        return q_local[:n_local] @ q_outer[index * width : (index + 1) * width], r

    def random(self, rng: np.random.Generator, width: int) -> np.ndarray:
        """Random columns (the same as on one process, restricted to this process's rows)."""
        return rng.standard_normal((self.shape[0], width)).astype(self.dtype)[self.rows]


def _orthonormalize(z: np.ndarray, basis: np.ndarray, rng: np.random.Generator, space: _Space,
                    depth: int = 0) -> np.ndarray:  # fmt: skip
    """Orthonormal columns spanning z's part orthogonal to `basis` (orthonormal columns): CGS2 + QR.

    Directions that vanish (the Krylov space became invariant, e.g. a kernel of low rank) are replaced by random
    ones, so the returned block always has z's number of columns. A block that was almost inside the basis' span
    comes out of the QR as normalised rounding noise, no longer orthogonal to the basis (Ritz values then exceed
    λ_max: a ReLU MLP's fast-decaying spectrum in float64 did this): where its overlap with the basis exceeds
    1e3 eps it is orthogonalised again.
    """
    norms = space.norms(z)
    for _ in range(2):
        if basis.shape[1]:
            z = z - basis @ space.inner(basis, z)
    q, r = space.qr(z)
    scale = max(float(norms.max()), np.finfo(z.dtype).tiny)
    weak = np.abs(np.diag(r)) < 1e3 * np.finfo(z.dtype).eps * scale
    if weak.any():
        fresh = space.random(rng, int(weak.sum()))
        keep = q[:, ~weak]
        for _ in range(2):
            fresh = fresh - basis @ space.inner(basis, fresh) if basis.shape[1] else fresh
            fresh = fresh - keep @ space.inner(keep, fresh)
        q = np.concatenate([keep, space.qr(fresh)[0]], axis=1)
    if basis.shape[1]:  # a block that was mostly in the basis' span: its rounding noise, normalised, leaks back in
        leak = float(np.abs(space.inner(basis, q)).max())
        if leak > 1e3 * np.finfo(z.dtype).eps and depth < 3:
            return _orthonormalize(q, basis, rng, space, depth + 1)
    return q


def _block_krylov(space: _Space, k: int, block: int, max_basis: int, tol: float, max_products: int,
                  rng: np.random.Generator):  # fmt: skip
    """Block Krylov–Schur for the k largest eigenpairs: (eigvals, eigvecs, residuals/λ0, converged).

    Keeps an orthonormal basis Q (N, s) and its images W = Θ Q. Each step orthonormalises the newest images against
    Q (the next Krylov block), multiplies it by Θ, extends H = Qᵀ W and runs Rayleigh–Ritz: Ritz pairs (θ, Q y) with
    residuals W y − θ Q y from the stored products. A full basis is compressed to its leading Ritz vectors (thick
    restart) and the Krylov recurrence continues from the residual block. Across processes Q and W are split by
    rows like the points (each process holds its rows); only H's blocks and the QR's R factors are exchanged.
    """
    n, dtype = space.rows.stop - space.rows.start, space.dtype
    q = np.empty((n, max_basis), dtype)
    w = np.empty((n, max_basis), dtype)
    h = np.zeros((max_basis, max_basis), np.float64)
    size = 0
    z = space.random(rng, block)
    used = 0
    while True:
        new = _orthonormalize(z, q[:, :size], rng, space)
        images = space.matmat(new)
        used += block
        q[:, size : size + block], w[:, size : size + block] = new, images
        column = space.inner(q[:, : size + block], images).astype(np.float64)  # (s + b, b)
        h[: size + block, size : size + block] = column
        h[size : size + block, :size] = column[:size].T
        size += block
        theta, y = np.linalg.eigh(0.5 * (h[:size, :size] + h[:size, :size].T))
        theta, y = theta[::-1], y[:, ::-1]
        if size >= k:
            yk = y[:, :k].astype(dtype)
            vectors = q[:, :size] @ yk
            residual = w[:, :size] @ yk - vectors * theta[:k].astype(dtype)[None, :]
            residuals = space.norms(residual).astype(np.float64) / abs(theta[0])
            if residuals.max() <= tol or used >= max_products:
                vectors /= space.norms(vectors)[None, :]
                return theta[:k].copy(), vectors, residuals, bool(residuals.max() <= tol), used
        z = images
        if size + block > max_basis:  # thick restart onto the leading Ritz vectors
            z = images - q[:, :size] @ space.inner(q[:, :size], images)
            keep = min(size - block, max(k + block, (size + k) // 2))
            yp = y[:, :keep].astype(dtype)
            q[:, :keep], w[:, :keep] = q[:, :size] @ yp, w[:, :size] @ yp
            h[:] = 0.0
            h[np.arange(keep), np.arange(keep)] = theta[:keep]
            size = keep


def _residuals(space: _Space, eigvals: np.ndarray, eigvecs: np.ndarray) -> np.ndarray:
    images = space.matmat(eigvecs.astype(space.dtype))
    residual = images.astype(np.float64) - eigvecs.astype(np.float64) * eigvals[None, :]
    return space.norms(residual) / abs(float(eigvals[0]))


def _default_block(k: int) -> int:
    return max(1, min(8, k))


def solver_memory_bytes(n: int, k: int, solver: str, block: int, max_basis: int, itemsize: int) -> int:
    """Bytes the eigensolver keeps besides the operator (Krylov basis and images, Ritz vectors, residuals)."""
    if solver == "block":
        return (2 * max_basis + 3 * k + 4 * block) * n * itemsize
    if solver == "eigsh":
        return (max(2 * k + 1, 20) + 3 * k) * n * 8
    return 12 * (k + 16) * n * 8  # lobpcg: X, AX, R, AR, P, AP and Gram work, float64


ROUTES = ("auto", "points", "parameters")


def route_costs(operator: NTKOperator, k: int, block: int) -> dict[str, dict[str, float]]:
    """Predicted flops and solver bytes of a block Krylov solve on each route (the operator's memory is common).

    Per vector product 4 N P flops on both routes, `expected_products` of them; per product the basis work of
    dimension D (N or P) with a basis of s vectors: CGS2 (8 D s) and the Ritz vectors and residuals (4 D s k / b).
    The P×P route adds mapping the eigenvectors back (k/2 products) and their residuals on Θ (k products) and holds
    2 N k values for them; the basis is `solver_memory_bytes` of its dimension."""
    n, p, itemsize = operator.shape[0], operator.n_parameters, operator.dtype.itemsize
    product = 4.0 * n * p
    costs = {}
    for route, dimension in (("points", n), ("parameters", p)):
        basis = min(max(4 * k, 2 * k + 16 * block), dimension)
        products = expected_products(k, block)
        flops = products * (product + 8.0 * dimension * basis + 4.0 * dimension * basis * k / block)
        memory = solver_memory_bytes(dimension, k, "block", block, basis, itemsize)
        if route == "parameters":
            flops += 1.5 * k * product
            memory += 2 * n * k * itemsize
        costs[route] = {"flops": flops, "bytes": float(memory)}
    return costs


def choose_route(operator: KernelOperator, k: int, route: str = "auto", block: int | None = None) -> str:
    """ "points" (Krylov on Θ = J Jᵀ, N×N) or "parameters" (on G = Jᵀ J, P×P: the same non-zero spectrum).

    "auto" compares `route_costs` when the grid has more points than the model has parameters (N > P, e.g. a 1024²
    grid for the 198k-parameter SIREN): the P×P route when the N×N route's Krylov basis would not fit in memory
    beside the operator and the P×P one does, else the route of fewer predicted flops. A product costs 4 N P flops on
    both; the P×P route's basis is small but it pays ~1.5 k extra products to map its eigenvectors back and check
    them on Θ, so for wide models it wins on memory, for small models with many pairs on time (measured,
    `benchmarks/ntk_hires.py`, SIREN 2→256×4→1, top-16 at 512²: 219 s on the P×P route vs 169 s on the N×N one).
    The kernel stored, rotated layer features (not of the form J Jᵀ), a sparse operator (its P×P products would be
    generic ones) or another framework's operator: "points".
    """
    if route not in ROUTES:
        raise InrdictError(f"unknown route {route!r}: choose one of {', '.join(ROUTES)}")
    applies = isinstance(operator, NTKOperator) and (
        operator.method in ("generic", "sparse") or operator.gram_structured
    )
    if route == "parameters" and not applies:
        raise InrdictError("the P×P route needs an NTKOperator whose layer features are plain (A, D) pairs: "
                           "use route='points'")  # fmt: skip
    if route != "auto":
        return route
    if not applies or operator.stored or operator.method == "sparse":  # P×P products would be generic ones
        return "points"
    ntk = typing.cast(NTKOperator, operator)
    if ntk.n_parameters >= ntk.shape[0] or storing_pays(ntk, k):
        return "points"
    costs = route_costs(ntk, k, _default_block(k) if block is None else block)
    budget = USABLE_FRACTION * available_memory_bytes() - ntk.memory_bytes()
    if costs["points"]["bytes"] > budget >= costs["parameters"]["bytes"]:
        return "parameters"
    return "parameters" if costs["parameters"]["flops"] < costs["points"]["flops"] else "points"


@dataclasses.dataclass(frozen=True)
class SolverOptions:
    """How `top_eigenpairs` solves for the top k (every field checked on construction).

    Attributes:
        method: "block" (block Krylov–Schur, default: fastest measured), "eigsh" (ARPACK) or "lobpcg" (SciPy).
        tol: residual tolerance relative to the largest eigenvalue, ‖Θ x_i − λ_i x_i‖ ≤ tol · λ₀ (≥ 1e-6 in
            float32, ≥ 1e-12 in float64).
        block_size: vectors per product for "block" (default `_default_block(k)`: min(8, k)).
        max_basis: Krylov basis size before a thick restart (default max(4k, 2k + 16 · block_size)).
        max_products: stop after about this many vector products (default max(50 k, 2000)); see `converged`.
        seed: seed of the random start vectors.
        store_kernel: keep the kernel's upper triangle and multiply by it (`NTKOperator.store`); None (default)
            decides by `storing_pays`: small grids (≤ ~150² points for the SIREN 2→256×4→1 in float32) are
            stored, since forming the triangle costs fewer flops than the solver's matrix-free products. False
            keeps the solve matrix-free at any size.
        route: "auto" (default), "points" (Krylov on Θ, N×N) or "parameters" (on Jᵀ J, P×P, eigenvectors
            mapped back as u = J v / √λ): "auto" takes the parameters when the grid has more points than the
            model has trained parameters and that is cheaper (`choose_route`).
    """

    method: str = "block"
    tol: float = 1e-4
    block_size: int | None = None
    max_basis: int | None = None
    max_products: int | None = None
    seed: int = 0
    store_kernel: bool | None = None
    route: str = "auto"

    def __post_init__(self):
        if self.method not in SOLVERS:
            raise InrdictError(f"unknown eigensolver {self.method!r}: choose one of {', '.join(SOLVERS)}")
        if self.route not in ROUTES:
            raise InrdictError(f"unknown route {self.route!r}: choose one of {', '.join(ROUTES)}")
        if self.block_size is not None and self.block_size < 1:
            raise InrdictError(f"block_size must be positive, got {self.block_size}")

    def block(self, k: int) -> int:
        """Vectors per product for k pairs."""
        return _default_block(k) if self.block_size is None else int(self.block_size)

    def basis(self, k: int, dimension: int) -> int:
        """Krylov basis size for k pairs in a space of `dimension`."""
        return min(self.max_basis or max(4 * k, 2 * k + 16 * self.block(k)), dimension)


def top_eigenpairs_of(operator: KernelOperator, k: int, options: SolverOptions = SolverOptions()) -> TopEigenpairs:
    """The k largest eigenpairs of a `KernelOperator` (see `top_eigenpairs`); with `options.store_kernel` (or
    when `storing_pays`) an `NTKOperator` is `store()`d first."""
    start = time.perf_counter()
    n = operator.shape[0]
    if not 1 <= k <= n:
        raise InrdictError(f"k must be between 1 and the number of points ({n}), got {k}")
    floor = 1e-6 if operator.dtype == np.float32 else 1e-12
    if options.tol < floor:
        raise InrdictError(f"tol={options.tol:g} is below what {operator.dtype.name} products resolve ({floor:g}): "
                           "raise tol or use float64")  # fmt: skip
    block = options.block(k)
    route = choose_route(operator, k, options.route, block)
    distributed = getattr(operator, "n_processes", 1) > 1
    if distributed and options.method != "block":
        raise InrdictError(f"across processes only the block solver runs (method='block'), not {options.method!r}")
    space = _route_space(operator, k, route, distributed)
    max_products = options.max_products or max(50 * k, 2000)
    store = options.store_kernel
    if route == "points" and (store or (store is None and storing_pays(operator, k))):
        operator.store()
    before = operator.products
    with _single_threaded_blas():
        eigvals, eigvecs, residuals, converged, method = _solve(
            space, k, options.method, options.tol, block, options.basis(k, space.shape[0]), max_products,
            np.random.default_rng(options.seed),
        )  # fmt: skip
        if route == "parameters":
            eigvecs, residuals = _mapped_back(typing.cast(NTKOperator, operator), eigvals, eigvecs, distributed)
            converged = bool(residuals.max() <= options.tol)
    eigvecs = np.asarray(eigvecs, operator.dtype)
    if distributed:
        eigvecs = gather_rows(eigvecs, n)
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
        route=route,
    )


def _route_space(operator: KernelOperator, k: int, route: str, distributed: bool) -> _Space:
    """The space the solver iterates in: Θ's N points (this process's rows) or G = Jᵀ J's P parameters."""
    if route == "parameters":
        ntk = typing.cast(NTKOperator, operator)
        if not 1 <= k <= ntk.n_parameters:
            raise InrdictError(f"k must be between 1 and the number of parameters ({ntk.n_parameters}), got {k}")
        return _Space(ntk.n_parameters, slice(0, ntk.n_parameters), ntk.gram_matmat, operator.dtype, False)
    n = operator.shape[0]
    return _Space(n, getattr(operator, "local_rows", slice(0, n)), operator.matmat, operator.dtype, distributed)


def _mapped_back(ntk: NTKOperator, eigvals, eigvecs, distributed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvectors of G = Jᵀ J mapped to Θ's as u = J v / √λ (unit in exact arithmetic; normalised here) and
    their residuals from one product on Θ."""
    points = _Space(ntk.shape[0], ntk.local_rows, ntk.matmat, ntk.dtype, distributed)
    eigvecs = ntk.forward(np.asarray(eigvecs, ntk.dtype))
    eigvecs = eigvecs / np.maximum(points.norms(eigvecs), np.finfo(ntk.dtype).tiny)[None, :]
    return eigvecs, _residuals(points, np.asarray(eigvals, np.float64), eigvecs)


def _solve(space: _Space, k: int, method: str, tol: float, block: int, max_basis: int, max_products: int,
           rng: np.random.Generator):  # fmt: skip
    n = space.shape[0]
    if max_basis < k + 2 * block or n <= max_basis:  # tiny problem: the whole kernel in n products
        kernel = space.dense().astype(np.float64)
        eigvals, eigvecs = np.linalg.eigh(kernel)
        eigvals, eigvecs = eigvals[::-1][:k].copy(), eigvecs[:, ::-1][:, :k].astype(space.dtype)
        residuals = np.linalg.norm(kernel @ eigvecs - eigvecs * eigvals, axis=0) / abs(eigvals[0])
        converged, method = bool(residuals.max() <= tol), "dense"
        eigvecs = eigvecs[space.rows]
    elif method == "block":
        eigvals, eigvecs, residuals, converged, _ = _block_krylov(space, k, block, max_basis, tol, max_products, rng)
    elif method == "eigsh":
        import scipy.sparse.linalg

        v0 = rng.standard_normal(n).astype(space.dtype)
        eigvals, eigvecs = scipy.sparse.linalg.eigsh(
            space.as_linear_operator(), k=k, which="LA", tol=tol, v0=v0, maxiter=max_products
        )
        order = np.argsort(eigvals)[::-1]
        eigvals, eigvecs = eigvals[order].astype(np.float64), eigvecs[:, order]
        residuals = _residuals(space, eigvals, eigvecs)
        converged = bool(residuals.max() <= tol)
    else:
        import warnings

        import scipy.sparse.linalg

        x0 = rng.standard_normal((n, min(n, k + 16)))
        as64 = scipy.sparse.linalg.LinearOperator(
            (n, n), matvec=lambda v: space.matvec(v.astype(space.dtype)).astype(np.float64),
            matmat=lambda v: space.matmat(v.astype(space.dtype)).astype(np.float64), dtype=np.float64,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "not reaching the requested tolerance": reported by `converged`
            eigvals, eigvecs = scipy.sparse.linalg.lobpcg(
                as64, x0, tol=tol, largest=True, maxiter=max(1, max_products // x0.shape[1])
            )
        order = np.argsort(eigvals)[::-1][:k]
        eigvals, eigvecs = eigvals[order], eigvecs[:, order].astype(space.dtype)
        residuals = _residuals(space, eigvals, eigvecs)
        converged = bool(residuals.max() <= tol)
    return eigvals, eigvecs, residuals, converged, method


ANNOUNCE_SECONDS = 60.0  # spectra predicted to take longer than this announce their time and memory first


def expected_products(k: int, block: int, route: str = "points") -> int:
    """Products a block Krylov solve for k pairs typically needs at tol 1e-4: ~2 k + 6 blocks (measured for the
    SIREN 2→256×4→1: 160–168 for k = 64, `benchmarks/ntk_topk.py`; 80 for k = 16, `benchmarks/ntk_hires.py`), plus k
    on the P×P route (mapping the eigenvectors back and their residuals on Θ)."""
    return int(2 * k + 6 * block + (k if route == "parameters" else 0))


def estimate_cost(operator: NTKOperator, k: int, block: int, route: str, *, nominal_flops: float = 1e11) -> dict:
    """Predicted seconds and peak bytes of a top-k solve, before it starts.

    Seconds: `expected_products` × the time of one product of `block` vectors, measured here on this operator
    (one warm-up to compile, one timed: 2 blocks of products, counted in `operator.products`) when a nominal
    `nominal_flops` rate (4 N P flops per vector) predicts more than a tenth of `ANNOUNCE_SECONDS`; else that
    nominal prediction. Peak bytes: the operator's estimate and the Krylov basis on the route's dimension."""
    n, p = operator.shape[0], operator.n_parameters
    products = expected_products(k, block, route)
    seconds = products * 4.0 * n * p / nominal_flops
    measured = False
    if seconds > ANNOUNCE_SECONDS / 10 and not operator.stored:
        dimension = p if route == "parameters" else operator.local_rows.stop - operator.local_rows.start
        probe = np.random.default_rng(0).standard_normal((dimension, block)).astype(operator.dtype)
        product = operator.gram_matmat if route == "parameters" else operator.matmat
        product(probe)  # compiles
        start = time.perf_counter()
        product(probe)
        seconds = products / block * (time.perf_counter() - start)
        measured = True
    peak = operator.memory_bytes() + route_costs(operator, k, block)[route]["bytes"]
    return {"seconds": float(seconds), "peak_bytes": int(peak), "products": products, "measured": measured}


def describe_cost(cost: dict, n: int, k: int, route: str) -> str:
    """One line: "top-16 NTK eigenpairs of 262,144 points (P×P route): about 3.1 min, peak ~2.1 GB"."""
    seconds = cost["seconds"]
    when = f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"
    name = "P×P" if route == "parameters" else "N×N"
    basis = "measured" if cost["measured"] else "nominal"
    return (f"top-{k} NTK eigenpairs of {n:,} points ({name} route): about {when} "
            f"(~{cost['products']} products at the {basis} rate), peak ~{cost['peak_bytes'] / 2**30:.1f} GiB")  # fmt: skip


def top_eigenpairs(
    model,
    points: Float[AnyArray, " n *d"],
    k: int,
    options: SolverOptions = SolverOptions(),
    *,
    dtype=None,
    operator_method: str = "auto",
    max_bytes: int | None = None,
    announce=None,
) -> TopEigenpairs:
    """The k largest eigenpairs of the empirical NTK of `model` on `points`, without forming the kernel.

    Builds an `NTKOperator` (exact products Θ V from the layer features, O(N · width) memory) and runs an iterative
    eigensolver until every pair has ‖Θ x_i − λ_i x_i‖ ≤ tol · λ_0.

    Args:
        model: a single-output model (a `DenseINR` for the structured products, any Equinox module otherwise).
        points: (N, d) inputs.
        k: number of eigenpairs (1 ≤ k ≤ N).
        options: the solver, its tolerance and route (`SolverOptions`).
        dtype: float32 or float64 (default: the model's; float64 needs `jax.enable_x64(True)`).
        operator_method: "auto", "structured", "sparse" or "generic" (see `NTKOperator`).
        max_bytes: refuse when operator + solver memory would exceed this (default 80 % of physical memory).
        announce: a callable taking one line (e.g. `print`): when the solve is predicted to take longer than
            `ANNOUNCE_SECONDS`, it is told the estimated time and peak memory first (`estimate_cost`).

    Returns:
        `TopEigenpairs`: eigvals (k,) descending, eigvecs (N, k) unit columns, residuals (k,) relative to λ_0,
        matvecs, seconds, method, converged, stored_kernel, route. Problems with N ≤ max_basis are solved densely
        from N products (method "dense").

    Raises:
        InrdictError: bad k, options, dtype or tol, a multi-output model, or not enough memory (with the bytes
        needed).
    """
    start = time.perf_counter()
    n = np.asarray(points).shape[0]
    itemsize = np.dtype(dtype if dtype is not None else model_dtype(model)).itemsize
    block = options.block(k)
    solver_bytes = solver_memory_bytes(n, k, options.method, block, options.basis(k, n), itemsize)
    operator = NTKOperator(model, points, dtype=dtype, method=operator_method, max_bytes=max_bytes,
                           max_columns=max(block, min(k, 64)), extra_bytes=solver_bytes)  # fmt: skip
    if announce is not None and options.method == "block" and not options.store_kernel:
        chosen = choose_route(operator, k, options.route, block)
        if chosen == "parameters" or not storing_pays(operator, k):
            cost = estimate_cost(operator, k, block, chosen)
            if cost["seconds"] > ANNOUNCE_SECONDS:
                announce(describe_cost(cost, n, k, chosen))
    result = top_eigenpairs_of(operator, k, options)
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


__all__ = [
    "ROUTES",
    "NTKOperator",
    "SolverOptions",
    "TopEigenpairs",
    "choose_route",
    "storing_pays",
    "top_eigenpairs",
    "top_eigenpairs_of",
]

"""The eigenpairs of a model's empirical NTK on a grid, by route (SPEC §4).

`ntk_spectrum` is the one place that checks memory up front and chooses how eigenpairs are computed: "dense" forms Θ
(N x N) and computes all N eigenpairs with `eigh` (E(t) exact for every t); "stored" keeps Θ's upper triangle and
computes the top k with a Krylov solver; "matrix_free" computes the top k from products Θ V without forming Θ
(`inrdict.ntk.top_eigenpairs`). "auto" is dense up to `DENSE_MAX_POINTS` points and the top k above, storing the
triangle where that is cheaper (`inrdict.ntk.storing_pays`); the route taken is recorded. With the top k only, E(t)
is exact for t ≥ λ_k / λ₀ (`Spectrum.exact_from`). A model of another framework (`inrdict.adapters`) brings its own
kernel and kernel operator. Nothing here reads or writes files (caching: `inrdict.experiments.studies.memo`).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Literal

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Float

from inrdict._memory import require_memory
from inrdict._typing import AnyArray
from inrdict.adapters import ForeignINR, adapt
from inrdict.errors import InrdictError
from inrdict.ntk import (
    SolverOptions,
    TopEigenpairs,
    eigh_descending,
    eigh_memory_bytes,
    empirical_ntk,
    top_eigenpairs,
    top_eigenpairs_of,
)
from inrdict.ntk.solvers import solver_memory_bytes

# Above this many points "auto" computes the top k only: a full `eigh` at 128² (16,384 points) takes ~10 min and
# 4.7 GB on 2 cores, the top k of the operator ~20 s (benchmarks/ntk_topk.py).
DENSE_MAX_POINTS = 4096
DEFAULT_TOP_K = 64
SpectrumRoute = Literal["auto", "dense", "stored", "matrix_free"]
Precision = Literal["float32", "float64"]
_STORE = {"auto": None, "stored": True, "matrix_free": False}  # SolverOptions.store_kernel per top-k route


@dataclasses.dataclass(frozen=True)
class SpectrumOptions:
    """How `ntk_spectrum` computes eigenpairs (checked on construction).

    Attributes:
        route: "auto" (dense up to `DENSE_MAX_POINTS` points, the top k above), "dense", "stored" or "matrix_free".
        top_k: eigenpairs on a top-k route (at most N); ignored on the dense route.
        precision: of the kernel or its products and the eigenpairs; the solver's residual tolerance is 1e-4 λ₀ in
            float32, 1e-8 λ₀ in float64 (JAX's x64 mode is enabled for a float64 computation).
    """

    route: SpectrumRoute = "auto"
    top_k: int = DEFAULT_TOP_K
    precision: Precision = "float32"

    def __post_init__(self):
        if self.route not in ("auto", "dense", "stored", "matrix_free"):
            raise InrdictError(f"unknown spectrum route {self.route!r}: choose auto, dense, stored or matrix_free")
        if self.precision not in ("float32", "float64"):
            raise InrdictError(f"the NTK spectrum is computed in float32 or float64, not {self.precision}")
        if int(self.top_k) < 1:
            raise InrdictError(f"top_k must be at least 1, got {self.top_k}")

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64 if self.precision == "float64" else np.float32)

    def plan(self, n_points: int) -> SpectrumPlan:
        """The route for `n_points` points, planned once (`SpectrumPlan`)."""
        return SpectrumPlan(planned_route(n_points, self.route), n_points, min(int(self.top_k), n_points), self)


@dataclasses.dataclass(frozen=True)
class SpectrumPlan:
    """A spectrum planned before anything is computed: the memory check, the cache key and the computation read it,
    and the `Spectrum` carries it.

    Attributes:
        route: "dense", "stored", "matrix_free", or "auto" for a top k whose triangle is stored where that pays
            (`inrdict.ntk.storing_pays`, decided on the operator).
        n_points: N.
        k: eigenpairs asked of a top-k route (min(top_k, N)).
        options: what was asked.
    """

    route: str
    n_points: int
    k: int
    options: SpectrumOptions

    @property
    def dtype(self) -> np.dtype:
        return self.options.dtype

    @property
    def solver(self) -> SolverOptions:
        """The top-k solver's options: tolerance by precision, the triangle stored as the route says."""
        return SolverOptions(tol=1e-4 if self.dtype == np.float32 else 1e-8, store_kernel=_STORE[self.route])


@dataclasses.dataclass(frozen=True)
class SpectrumInfo:
    """How a spectrum was computed. Dense route: the seconds forming the kernel and in `eigh`; top-k route: the
    solver's seconds, products, largest residual ‖Θx − λx‖ / λ₀, convergence, solver name, whether the kernel's
    triangle was stored and the Krylov route (points or parameters); `ntk_route`: how a model of another framework
    formed its kernel or products. Fields left None do not apply."""

    ntk_seconds: float | None = None
    eigh_seconds: float | None = None
    solve_seconds: float | None = None
    products: int | None = None
    max_residual: float | None = None
    converged: bool | None = None
    solver: str | None = None
    stored_kernel: bool | None = None
    krylov_route: str | None = None
    ntk_route: str | None = None

    def record(self) -> dict:
        """The fields that apply, in this order (what results files hold)."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}

    @classmethod
    def of(cls, result: TopEigenpairs, **fields) -> SpectrumInfo:
        """The info of a top-k solve."""
        info = cls(solve_seconds=result.seconds, products=result.matvecs, max_residual=float(np.max(result.residuals)),
                   converged=bool(result.converged), solver=result.method, stored_kernel=bool(result.stored_kernel))  # fmt: skip
        return dataclasses.replace(info, **fields)


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """Eigenpairs of the empirical NTK on N points, eigenvalues descending.

    Attributes:
        eigvals: (k,) descending; k = N on the dense route.
        eigvecs: (N, k) unit eigenvectors in columns.
        route: "dense", "stored" or "matrix_free" (the route taken).
        info: how it was computed (`SpectrumInfo`).
        plan: how it was planned (`SpectrumPlan`; None for a spectrum built by hand).
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    route: str
    info: SpectrumInfo = SpectrumInfo()
    plan: SpectrumPlan | None = None

    @property
    def k(self) -> int:
        return int(self.eigvals.size)

    @property
    def normalised(self) -> np.ndarray:
        """λ_i / λ₀, (k,)."""
        return self.eigvals / self.eigvals[0]

    @property
    def exact_from(self) -> float:
        """Smallest t for which E(t) is exact: 0 with all eigenpairs (dense), λ_k / λ₀ with the top k."""
        return 0.0 if self.route == "dense" else float(self.eigvals[-1] / self.eigvals[0])

    def record(self, *, cached: bool = False) -> dict:
        """What results files hold about the spectrum: route, k, the timings and solver info, `cached`."""
        return {"route": self.route, "k": self.k, **self.info.record(), "cached": cached}


def planned_route(n_points: int, route: SpectrumRoute = "auto") -> str:
    """ "dense" where `route` is dense or "auto" on at most `DENSE_MAX_POINTS` points; else the top-k route asked for
    ("auto" there: stored or matrix-free, decided when the operator is built). Across several processes
    (`inrdict.distributed`) only the matrix-free route splits its work, so "auto" is "matrix_free"."""
    if jax.distributed.is_initialized() and jax.process_count() > 1:  # (never starts a backend before that)
        if route in ("dense", "stored"):
            raise InrdictError(f"across {jax.process_count()} processes the NTK spectrum is matrix-free, not {route}: "
                               "use --set spectrum=matrix_free (or auto)")  # fmt: skip
        return "matrix_free"
    if route == "auto":
        return "dense" if n_points <= DENSE_MAX_POINTS else "auto"
    return route


def spectrum_memory_bytes(model, plan: SpectrumPlan) -> int:
    """Rough peak bytes of `ntk_spectrum` before anything is computed: the kernel and its eigendecomposition (about
    6 n² values) on the dense route; n · (Σ_l (in_l + out_l) + 8 k) values of layer features and Krylov vectors on a
    top-k route, plus the triangle (n² / 2 values) when "stored" (a model without `layers` is counted as 4 layers of
    256; "auto" stores only where the triangle fits, so it is counted matrix-free)."""
    itemsize, n = plan.dtype.itemsize, plan.n_points
    if plan.route == "dense":
        return n**2 * itemsize + eigh_memory_bytes(n, itemsize)
    layers = getattr(model, "layers", None)
    widths = sum(layer.in_features + layer.out_features for layer in layers) if layers else 4 * 512
    triangle = n * (n + 1) // 2 if plan.route == "stored" else 0
    return (n * (widths + 8 * plan.k) + triangle) * itemsize


def require_spectrum_memory(model, plan: SpectrumPlan) -> None:
    """Refuse in one line, before any data is prepared, an NTK spectrum that would not fit in memory."""
    name = {"dense": "dense", "stored": "stored-triangle"}.get(plan.route, "matrix-free")
    require_memory(spectrum_memory_bytes(model, plan), f"the {name} NTK spectrum of {plan.n_points} points",
                   "choose a smaller --set grid_size"
                   + (" or --set spectrum=matrix_free" if plan.route in ("dense", "stored") else ""))  # fmt: skip


def _announce(line: str) -> None:
    """Where a long spectrum tells its estimated time and memory before it starts: stderr (process 0 only)."""
    if jax.process_index() == 0:
        print(f"inrdict: {line}", file=sys.stderr, flush=True)


def ntk_spectrum(
    model: eqx.Module | object,  # an inrdict model, or another framework's (`inrdict.adapters`: PyTorch)
    points: Float[AnyArray, "n d"],
    options: SpectrumOptions | SpectrumPlan = SpectrumOptions(),
) -> Spectrum:
    """The eigenpairs of `model`'s empirical NTK on `points` (module docstring), as `options` say (a
    `SpectrumOptions`, or the `SpectrumPlan` a caller already made of them for these points).

    Raises:
        InrdictError: a spectrum that would not fit in memory (before anything is computed), or bad options.
    """
    plan = options.plan(len(points)) if isinstance(options, SpectrumOptions) else options
    if plan.n_points != len(points):
        raise InrdictError(f"the spectrum was planned for {plan.n_points} points, not {len(points)}")
    model = adapt(model)
    if isinstance(model, ForeignINR):
        return _foreign_spectrum(model, points, plan)
    with jax.enable_x64(plan.dtype == np.float64):
        require_spectrum_memory(model, plan)
        if plan.route == "dense":
            start = time.perf_counter()
            kernel = empirical_ntk(model, points, dtype=plan.dtype,
                                   reserve_bytes=eigh_memory_bytes(plan.n_points, plan.dtype.itemsize))  # fmt: skip
            ntk_seconds = time.perf_counter() - start
            start = time.perf_counter()
            eigvals, eigvecs = eigh_descending(kernel)
            info = SpectrumInfo(ntk_seconds=ntk_seconds, eigh_seconds=time.perf_counter() - start)
            return Spectrum(eigvals, eigvecs, "dense", info, plan)
        result = top_eigenpairs(model, points, plan.k, plan.solver, dtype=plan.dtype, announce=_announce)
    info = SpectrumInfo.of(result, krylov_route=result.route)
    return Spectrum(result.eigvals, result.eigvecs, "stored" if result.stored_kernel else "matrix_free", info, plan)


def _foreign_spectrum(model: ForeignINR, points, plan: SpectrumPlan) -> Spectrum:
    """`ntk_spectrum` of a model of another framework (`inrdict.adapters`): its own dense kernel and `eigh` on the
    dense route, `top_eigenpairs_of` over its own kernel operator otherwise."""
    n, dtype, k = plan.n_points, plan.dtype, plan.k
    if plan.route == "dense":
        start = time.perf_counter()
        kernel = model.ntk(points, dtype=dtype, reserve_bytes=eigh_memory_bytes(n, dtype.itemsize))
        ntk_seconds = time.perf_counter() - start
        start = time.perf_counter()
        eigvals, eigvecs = eigh_descending(kernel)
        info = SpectrumInfo(ntk_seconds=ntk_seconds, eigh_seconds=time.perf_counter() - start,
                            ntk_route=model.dense_route)  # fmt: skip
        return Spectrum(eigvals, eigvecs, "dense", info, plan)
    if plan.route == "stored":
        raise InrdictError(f"the stored-triangle route is for inrdict's own models: use route dense or matrix_free "
                           f"for a {model.class_name}")  # fmt: skip
    extra = solver_memory_bytes(n, k, "block", 8, min(n, 4 * k), dtype.itemsize)
    solver = dataclasses.replace(plan.solver, store_kernel=None)
    result = top_eigenpairs_of(model.kernel_operator(points, dtype=dtype, extra_bytes=extra), k, solver)
    info = SpectrumInfo.of(result, stored_kernel=False, ntk_route=model.product_route)
    return Spectrum(result.eigvals, result.eigvecs, "matrix_free", info, plan)

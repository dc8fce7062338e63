"""The empirical NTK of an INR: the dense kernel and its eigendecomposition (`kernel`), the matrix-free operator
Θ V (`operator`: the class; `products`: its jitted products; `protocol`: what every operator offers the solvers;
`gather`: several processes), its stored upper triangle (`stored`) and the top-k eigenpair solvers (`solvers`)."""

from inrdict.ntk.kernel import (
    METHODS,
    Method,
    eigh_descending,
    eigh_memory_bytes,
    empirical_ntk,
    kernel_blocks,
    layer_features,
    memory_bytes,
    resolve_method,
    supports_structured,
)  # fmt: skip
from inrdict.ntk.operator import OPERATOR_METHODS, NTKOperator, ntk_matmat, storing_pays
from inrdict.ntk.protocol import KernelOperator
from inrdict.ntk.solvers import (
    ROUTES,
    SOLVERS,
    SolverOptions,
    TopEigenpairs,
    choose_route,
    estimate_cost,
    route_costs,
    solver_memory_bytes,
    top_eigenpairs,
    top_eigenpairs_of,
)  # fmt: skip
from inrdict.ntk.stored import STORE_LIMIT_BYTES

__all__ = [
    "METHODS",
    "OPERATOR_METHODS",
    "ROUTES",
    "SOLVERS",
    "STORE_LIMIT_BYTES",
    "KernelOperator",
    "Method",
    "NTKOperator",
    "SolverOptions",
    "TopEigenpairs",
    "choose_route",
    "eigh_descending",
    "eigh_memory_bytes",
    "empirical_ntk",
    "estimate_cost",
    "kernel_blocks",
    "layer_features",
    "memory_bytes",
    "ntk_matmat",
    "resolve_method",
    "route_costs",
    "solver_memory_bytes",
    "storing_pays",
    "supports_structured",
    "top_eigenpairs",
    "top_eigenpairs_of",
]  # fmt: skip

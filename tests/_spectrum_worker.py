"""One process of the two-process spectrum test (tests/test_distributed.py): joins the run, computes the top
eigenpairs of a small SIREN's NTK on both routes and writes them (every process, so the test sees each agrees)."""

import sys

import jax
import numpy as np

from inrdict.distributed import initialize

index, count = initialize()
jax.config.update("jax_enable_x64", True)

from tests._spectrum_problem import problem  # noqa: E402

from inrdict.ntk import NTKOperator, SolverOptions, top_eigenpairs_of  # noqa: E402

model, points, k = problem()
out = {}
for route in ("points", "parameters"):
    operator = NTKOperator(model, points, dtype=np.float64)
    result = top_eigenpairs_of(operator, k, SolverOptions(tol=1e-10, route=route, store_kernel=False))
    out[f"{route}_eigvals"], out[f"{route}_eigvecs"] = result.eigvals, result.eigvecs
    out[f"{route}_local_rows"] = np.array([operator.local_rows.start, operator.local_rows.stop])
    out[f"{route}_route"], out[f"{route}_method"] = result.route, result.method
out["devices"] = np.array([len(jax.devices()), len(jax.local_devices()), count])
np.savez(sys.argv[1], **out)
jax.distributed.shutdown()

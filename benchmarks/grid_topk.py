"""Top-k NTK eigenpairs of the grid encodings at 64²–512², matrix-free: the sparse route (scatter-add and gather of
the table entries' precomputed coefficients) against the generic one (jvp∘vjp of the model), side by side.

    python benchmarks/grid_topk.py [--grids 64 128 256 512] [--methods sparse generic] [--k 16]
                                   [--dense-grids 32 64] [--json FILE]

Models: `make_model("hashgrid")` (Instant-NGP image defaults: 16 levels of F = 2 from N_min = 16 with per-level
scale 1.5, T = 2^15, head (64, 64); P = 715,400) and `make_model("grid")` (16 dense levels from 16 to 256;
P = 432,644), float32, on `ntk_grid(n)`; the k largest eigenpairs to ‖Θ x − λ x‖ ≤ 1e-4 λ₀ with
`SolverOptions(store_kernel=False)`. Each row runs in a fresh child process (its peak RSS is its own): "setup s"
builds the operator (the sparse route computes and compiles its features there), "product s" times one product of 8
vectors (compiled), "solve s" the whole solve; "speed-up" is the generic row's solve time over the sparse row's.
The dense kernel (`empirical_ntk`, all N² entries, float32) is timed the same way at `--dense-grids`: its sparse
method (SciPy's sparse J_T J_Tᵀ plus the head's terms) against "ntvp" (per-column jvp of per-point gradients), the
second call of each (the first compiles). Machines are noisy: compare rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(family: str, grid: int, k: int, method: str) -> dict:
    import jax
    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _common import rss_bytes

    from inrdict.io.data import ntk_grid
    from inrdict.models import count_parameters, make_model, model_key
    from inrdict.ntk import NTKOperator, SolverOptions, top_eigenpairs_of

    model = make_model(family, key=model_key(family, 0))
    points = ntk_grid(grid)
    start = time.perf_counter()
    operator = NTKOperator(model, points, method=method, max_columns=max(8, k))
    setup = time.perf_counter() - start
    probe = np.random.default_rng(0).standard_normal((points.shape[0], 8)).astype(np.float32)
    operator.matmat(probe)  # compiles
    start = time.perf_counter()
    operator.matmat(probe)
    product = time.perf_counter() - start
    start = time.perf_counter()
    result = top_eigenpairs_of(operator, k, SolverOptions(store_kernel=False))
    solve = time.perf_counter() - start
    return {"family": family, "grid": grid, "n": int(points.shape[0]), "parameters": count_parameters(model),
            "operator_method": operator.method, "route": result.route, "k": k, "setup_s": setup,
            "product_8_s": product, "solve_s": solve, "products": result.matvecs,
            "max_residual": float(result.residuals.max()), "converged": bool(result.converged),
            "top_eigval": float(result.eigvals[0]), "kth_over_top": float(result.eigvals[-1] / result.eigvals[0]),
            "peak_gib": rss_bytes() / 2**30, "jax": jax.__version__}  # fmt: skip


def dense_child(family: str, grid: int, method: str) -> dict:
    import numpy as np

    from inrdict.io.data import ntk_grid
    from inrdict.models import make_model, model_key
    from inrdict.ntk import empirical_ntk

    model = make_model(family, key=model_key(family, 0))
    points = ntk_grid(grid)
    start = time.perf_counter()
    empirical_ntk(model, points, method=method)
    first = time.perf_counter() - start
    start = time.perf_counter()
    kernel = empirical_ntk(model, points, method=method)
    return {"family": family, "grid": grid, "n": int(points.shape[0]), "method": method, "first_s": first,
            "second_s": time.perf_counter() - start, "trace": float(np.trace(kernel))}  # fmt: skip


def run_child(family: str, grid: int, k: int | str, method: str) -> dict:
    command = [sys.executable, __file__, "--child", family, str(grid), str(k), method]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        return {
            "family": family,
            "grid": grid,
            "operator_method": method,
            "error": out.stderr.strip().splitlines()[-1:],
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs=4, metavar=("FAMILY", "GRID", "K", "METHOD"), help=argparse.SUPPRESS)
    parser.add_argument("--methods", nargs="+", default=["sparse", "generic"])
    parser.add_argument("--dense-grids", type=int, nargs="*", default=[32, 64])
    parser.add_argument("--families", nargs="+", default=["hashgrid", "grid"])
    parser.add_argument("--grids", type=int, nargs="*", default=[64, 128, 256, 512])
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "grid_topk.json")
    args = parser.parse_args()
    if args.child:
        family, grid, k, method = args.child
        found = dense_child(family, int(grid), method) if k == "dense" else child(family, int(grid), int(k), method)
        print(json.dumps(found))
        return
    rows = [run_child(family, grid, args.k, method) for family in args.families for grid in args.grids
            for method in args.methods]  # fmt: skip
    solves = {(r["family"], r["grid"], r["operator_method"]): r.get("solve_s") for r in rows}
    for row in rows:
        generic = solves.get((row["family"], row["grid"], "generic"))
        if "error" not in row and generic is not None:
            row["speedup_vs_generic"] = generic / row["solve_s"]
    print(f"{'family':>9} {'grid':>6} {'method':>8} {'N':>8} {'P':>10} {'setup s':>8} {'8-product s':>11} "
          f"{'solve s':>8} {'speed-up':>8} {'products':>8} {'peak GiB':>8} {'res':>8}")  # fmt: skip
    for row in rows:
        if "error" in row:
            print(f"{row['family']:>9} {row['grid']:>5}² {row['operator_method']:>8}  failed: {row['error']}")
            continue
        print(f"{row['family']:>9} {row['grid']:>5}² {row['operator_method']:>8} {row['n']:>8,} "
              f"{row['parameters']:>10,} {row['setup_s']:>8.2f} {row['product_8_s']:>11.3f} {row['solve_s']:>8.1f} "
              f"{row.get('speedup_vs_generic', float('nan')):>8.2f} {row['products']:>8} {row['peak_gib']:>8.2f} "
              f"{row['max_residual']:>8.1e}")  # fmt: skip
    dense = [run_child(family, grid, "dense", method) for family in args.families for grid in args.dense_grids
             for method in ("sparse", "ntvp")]  # fmt: skip
    print(f"\n{'family':>9} {'grid':>6} {'dense kernel':>12} {'first s':>8} {'second s':>8}")
    for row in dense:
        if "error" in row:
            print(f"{row['family']:>9} {row['grid']:>5}² {row['operator_method']:>12}  failed: {row['error']}")
            continue
        print(
            f"{row['family']:>9} {row['grid']:>5}² {row['method']:>12} {row['first_s']:>8.2f} {row['second_s']:>8.2f}"
        )
    record = {
        "rows": rows,
        "dense_rows": dense,
        "k": args.k,
        "cores": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Top-k NTK eigenpairs at 256²–1024² (megapixel) and across processes: the P×P route, the up-front estimate.

    python benchmarks/ntk_hires.py [--quick] [--grids 512 1024] [--k 16] [--processes 2] [--json FILE]

Network: the Figs. 4–5 SIREN 2 → 256 ×4 → 1 ("ntk" convention, ω0 = 30, P = 198,401), float32, on `ntk_grid(n)`
(N = n² points), k largest eigenpairs to ‖Θ x − λ x‖ ≤ 1e-4 λ_0, `store_kernel=False`.

Rows, each in a fresh child process (its peak RSS, VmHWM, is its own):

* ``auto``: `top_eigenpairs_of` as the lens runs it: the P×P route (Krylov on Jᵀ J) once N > P (from ~446²),
  the N×N route below. "estimate s" is `estimate_cost`'s prediction (measured product rate × expected products),
  printed before the solve by `inrdict analyse` / `figure 5` when over a minute; "solve s" what it took.
* ``points``: the N×N route forced, at the first grid where the P×P route applies (a side-by-side ratio).
* ``2 processes``: the auto route with the points split over two CPU processes on 127.0.0.1 (`jax.distributed`,
  Gloo), each process on half the cores (`--processes 2`; the smallest grid).

"setup s" is the operator (layer features); "peak GiB" the child's VmHWM (the largest of the processes).
Machines are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(grid: int, route: str, k: int) -> dict:
    import jax
    import numpy as np

    from inrdict.distributed import initialize

    if os.environ.get("JAX_NUM_PROCESSES"):
        initialize()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _common import rss_bytes

    from inrdict.io.data import ntk_grid
    from inrdict.models import make_model
    from inrdict.ntk import NTKOperator, SolverOptions, top_eigenpairs_of
    from inrdict.ntk.solvers import choose_route, describe_cost, estimate_cost, solver_memory_bytes

    model = make_model("siren", hidden=(256,) * 4, key=jax.random.key(0))
    points = ntk_grid(grid)
    n = points.shape[0]
    start = time.perf_counter()
    operator = NTKOperator(model, points, max_columns=max(8, min(k, 64)),
                           extra_bytes=solver_memory_bytes(n, k, "block", 8, min(n, 4 * k), 4))  # fmt: skip
    setup = time.perf_counter() - start
    chosen = choose_route(operator, k, route)
    cost = estimate_cost(operator, k, 8, chosen)
    start = time.perf_counter()
    result = top_eigenpairs_of(operator, k, SolverOptions(route=route, store_kernel=False))
    solve = time.perf_counter() - start
    return {"grid": grid, "n": n, "route": result.route, "processes": jax.process_count(), "k": k,
            "setup_s": setup, "solve_s": solve, "estimate_s": cost["seconds"], "estimate_line": describe_cost(cost, n, k, chosen),
            "estimate_peak_gib": cost["peak_bytes"] / 2**30, "products": result.matvecs,
            "max_residual": float(result.residuals.max()), "converged": result.converged,
            "peak_gib": rss_bytes() / 2**30, "top_eigval": float(result.eigvals[0])}  # fmt: skip


def run_child(grid: int, route: str, k: int, processes: int = 1) -> dict:
    command = [sys.executable, __file__, "--child", str(grid), route, str(k)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    if processes == 1:
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if out.returncode:
            return {"grid": grid, "route": route, "error": out.stderr.strip().splitlines()[-1:]}
        return json.loads(out.stdout.strip().splitlines()[-1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cores = os.cpu_count() or 2
    workers = []
    for index in range(processes):
        share = ",".join(str(c) for c in range(index * cores // processes, (index + 1) * cores // processes)) or "0"
        workers.append(subprocess.Popen(
            ["taskset", "-c", share, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**env, "JAX_PLATFORMS": "cpu", "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
                 "JAX_NUM_PROCESSES": str(processes), "JAX_PROCESS_ID": str(index)}))  # fmt: skip
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate()
        if worker.returncode:
            return {"grid": grid, "route": route, "processes": processes, "error": stderr.strip().splitlines()[-1:]}
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    row = results[0]
    row["peak_gib"] = max(r["peak_gib"] for r in results)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs=3, metavar=("GRID", "ROUTE", "K"), help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="64² and 128² only (a dry run)")
    parser.add_argument("--grids", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="processes of the distributed row (1: none)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "ntk_hires.json")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1], int(args.child[2]))))
        return
    grids = [64, 128] if args.quick else args.grids
    rows = [run_child(grid, "auto", args.k) for grid in grids]
    both = [g for g in grids if g * g > 198_401] or ([grids[-1]] if args.quick else [])
    if both:
        rows.append(run_child(both[0], "points", args.k))
    if args.processes > 1:
        rows.append(run_child(grids[0], "auto", args.k, args.processes))
    print(f"{'grid':>6} {'N':>9} {'route':>10} {'proc':>4} {'setup s':>8} {'estimate s':>10} {'solve s':>8} "
          f"{'products':>8} {'peak GiB':>8} {'res':>8}")  # fmt: skip
    for row in rows:
        if "error" in row:
            print(f"{row['grid']:>5}² {row['route']:>20}  failed: {row['error']}")
            continue
        print(f"{row['grid']:>5}² {row['n']:>9,} {row['route']:>10} {row['processes']:>4} {row['setup_s']:>8.1f} "
              f"{row['estimate_s']:>10.1f} {row['solve_s']:>8.1f} {row['products']:>8} {row['peak_gib']:>8.2f} "
              f"{row['max_residual']:>8.1e}")  # fmt: skip
    import jax

    record = {"rows": rows, "k": args.k, "jax": jax.__version__, "device": str(jax.devices()[0]),
              "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M")}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Top-64 NTK eigenpairs of the Figs. 4–5 SIREN: dense kernel + eigh / eigsh vs matrix-free `top_eigenpairs`.

    python benchmarks/ntk_topk.py [--quick] [--only GRID:ROUTE ...] [--json benchmarks/results/ntk_topk.json]

Network: SIREN 2 → 256 ×4 → 1 ("ntk" convention, ω0 = 30, P = 198,401 parameters), float32, on `ntk_grid(n)`
(N = n² points). Target: the k = 64 largest eigenpairs with ‖Θ x − λ x‖ ≤ 1e-4 λ_0.

Routes, each in its own fresh child process (so its peak RSS, VmHWM, is its own):

* ``dense eigh``: `empirical_ntk` (structured, N x N) then `eigh_descending` (all N pairs, LAPACK syevd).
  64² and 128² (--quick: 64² only). It is the reference the other routes' eigenvalues are compared with.
* ``dense eigsh``: the same kernel, then `scipy.sparse.linalg.eigsh(K, k=64)` (the original code's route, there with
  k = 2000).
* ``naive eigsh``: `eigsh(k=64)` over a jitted one-vector matvec built from `layer_features` (no kernel: for each
  layer M = Dᵀ diag(v) A, then rowdot(D, A Mᵀ) + D Dᵀ v over all points at once). 64² and 128².
* ``inrdict block`` / ``inrdict eigsh`` / ``inrdict lobpcg``: `inrdict.ntk.top_eigenpairs` with each of its
  solvers over the blocked, matrix-free `NTKOperator` (``store_kernel=False``); block at 64², 128², 256² (--quick:
  no 256²), the others at 64² (eigsh at 128² too).
* ``inrdict stored``: `top_eigenpairs` as it runs by default at 64² and 128² (`storing_pays`): block Krylov over
  the operator after `NTKOperator.store()` has formed the kernel's upper triangle (0.04 / 0.57 GB) from the layer
  features; products are then memory-bound N² matmuls. Its "setup s" includes forming the triangle.

Timing: every child compiles first (one untimed call at the same shapes: a kernel, a matvec or an operator and
one block product), then times one run of the route after `block_until_ready`: "setup s" is the kernel
or the features, "solve s" the eigensolver, "total s" both ("cold +s" is the compile/warm-up call, not included).
"vs naive" divides the route's total by the naive eigsh route's total at the same grid.

FLOPs: one NTK-vector product costs 4 N P (a VJP and a JVP, 2 N P each; elementwise work ignored). "GFLOP/s" is
the product rate of a block of 8 vectors (the block solver's width) and "1-vec" of a single vector, both best of
3, measured in the child right after the solve, and "% peak" divides by the float32 matmul peak (jitted 4096³
`A @ B`, best of 5) measured in the same child. "eff GFLOP/s" is matvecs · 4 N P / solve s: the whole solver,
orthogonalisation and Rayleigh–Ritz included (matrix-free routes only; the stored route's products are
reported as the triangle's bytes read per second of a block product, printed in the "GFLOP/s" column as
"x GB/s"). "res" is max_i ‖Θ x_i − λ_i x_i‖ / λ_0 (from the solver's own
products for "inrdict block" and "stored", from one extra block product, untimed, otherwise); "|Δλ|" is
max_i |λ_i − λ_i(dense eigh)| / λ_0. Machines are noisy (and this one is shared): compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _common import best_seconds, matmul_gflops, rss_bytes

from inrdict.experiments._run import device_info, package_versions
from inrdict.io.data import ntk_grid
from inrdict.models import Siren

HERE = Path(__file__).resolve().parent
K = 64
TOL = 1e-4


def make_model():
    return Siren(2, (256,) * 4, 1, first_omega0=30.0, hidden_omega0=30.0, convention="ntk", key=jax.random.key(0))


def n_parameters(model) -> int:
    return sum(layer.weight.size + layer.bias.size for layer in model.layers)


# --------------------------------------------------------------------------------------------------- child side


def residuals(matmat, eigvals: np.ndarray, eigvecs: np.ndarray) -> np.ndarray:
    images = np.asarray(matmat(eigvecs.astype(np.float32)), np.float64)
    return np.linalg.norm(images - eigvecs.astype(np.float64) * eigvals[None, :], axis=0) / abs(float(eigvals[0]))


def naive_matvec(features):
    """The straightforward one-vector product from `layer_features`, jitted over all points at once."""

    @jax.jit
    def matvec(features, v):
        out = jnp.zeros_like(v)
        for a, d in features:
            m = d.T @ (v[:, None] * a)  # (out, in): the weight gradient
            out = out + jnp.sum((a @ m.T) * d, axis=1) + d @ (d.T @ v)
        return out

    return lambda v: matvec(features, jnp.asarray(v, jnp.float32))


def child(spec: dict) -> dict:
    import scipy.sparse.linalg

    from inrdict.ntk import NTKOperator, SolverOptions, eigh_descending, empirical_ntk, layer_features, top_eigenpairs

    route, grid = spec["route"], spec["grid"]
    model = make_model()
    points = np.asarray(ntk_grid(grid), np.float32)
    n = points.shape[0]
    flops_per_vector = 4.0 * n * n_parameters(model)
    result: dict = {"idle_rss_bytes": rss_bytes()}

    if route in ("dense eigh", "dense eigsh"):
        start = time.perf_counter()
        eigh_descending(np.eye(8, dtype=np.float32))
        empirical_ntk(model, points)  # compile (the kernel is then freed)
        result["cold_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        kernel = empirical_ntk(model, points)
        result["setup_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        if route == "dense eigh":
            eigvals, eigvecs = eigh_descending(kernel)
            eigvals, eigvecs = eigvals[:K].astype(np.float64), eigvecs[:, :K]
            result["matvecs"] = 0
        else:
            eigvals, eigvecs = scipy.sparse.linalg.eigsh(kernel, k=K)
            order = np.argsort(eigvals)[::-1]
            eigvals, eigvecs = eigvals[order].astype(np.float64), eigvecs[:, order]
            result["matvecs"] = None
        result["solve_seconds"] = time.perf_counter() - start
        result["residual_max"] = float(residuals(lambda x: kernel @ x, eigvals, eigvecs).max())
    elif route == "naive eigsh":
        features_fn = jax.jit(lambda p: layer_features(model, p))
        start = time.perf_counter()
        matvec = naive_matvec(features_fn(jnp.asarray(points)))
        jax.block_until_ready(matvec(np.ones(n, np.float32)))
        result["cold_seconds"] = time.perf_counter() - start
        calls = [0]

        def counted(v):
            calls[0] += 1
            return np.asarray(matvec(np.ravel(v)))

        start = time.perf_counter()
        features = jax.block_until_ready(features_fn(jnp.asarray(points)))
        matvec = naive_matvec(features)
        result["setup_seconds"] = time.perf_counter() - start
        operator = scipy.sparse.linalg.LinearOperator((n, n), matvec=counted, dtype=np.float32)
        start = time.perf_counter()
        eigvals, eigvecs = scipy.sparse.linalg.eigsh(operator, k=K)
        result["solve_seconds"] = time.perf_counter() - start
        result["matvecs"] = calls[0]
        order = np.argsort(eigvals)[::-1]
        eigvals, eigvecs = eigvals[order].astype(np.float64), eigvecs[:, order]
        result["residual_max"] = float(residuals(lambda x: np.stack([counted(c) for c in x.T], 1), eigvals, eigvecs).max())
        v = np.random.default_rng(0).standard_normal(n).astype(np.float32)
        one = best_seconds(lambda: matvec(v), 3)
        result["gflops_1vec"] = flops_per_vector / one / 1e9
    else:
        stored = route == "inrdict stored"
        method = "block" if stored else route.split()[-1]
        start = time.perf_counter()
        warm = NTKOperator(model, points)
        if stored:
            warm.store()
        for width in (8,) if method == "block" else (8, 1, 64, 16):  # the widths each solver's products use
            warm.matmat(np.zeros((n, width), np.float32))
        result["cold_seconds"] = time.perf_counter() - start
        del warm
        start = time.perf_counter()
        found = top_eigenpairs(model, points, K, SolverOptions(tol=TOL, method=method, store_kernel=stored))
        total = time.perf_counter() - start
        assert found.stored_kernel == stored
        # setup = the features (and the stored triangle) of a fresh operator (warm), timed separately; the solve is
        # the rest
        start = time.perf_counter()
        operator = NTKOperator(model, points)
        if stored:
            operator.store()
            jax.block_until_ready(operator._kernel_rows)
        result["setup_seconds"] = time.perf_counter() - start
        result["solve_seconds"] = max(total - result["setup_seconds"], 0.0)
        result["matvecs"] = found.matvecs
        result["converged"] = found.converged
        eigvals, eigvecs = found.eigvals.astype(np.float64), found.eigvecs
        result["residual_max"] = float(found.residuals.max())
        v8 = np.random.default_rng(0).standard_normal((n, 8)).astype(np.float32)
        if stored:  # products read the triangle: report its bandwidth, not matrix-free flops
            result["stored_gb_per_s"] = operator.stored_bytes() / best_seconds(lambda: operator.matmat(v8), 3) / 1e9
        else:
            result["gflops"] = 8 * flops_per_vector / best_seconds(lambda: operator.matmat(v8), 3) / 1e9
            result["gflops_1vec"] = flops_per_vector / best_seconds(lambda: operator.matvec(v8[:, 0]), 3) / 1e9
    result["peak_rss_bytes"] = rss_bytes()
    result["total_seconds"] = result["setup_seconds"] + result["solve_seconds"]
    if result.get("matvecs") and route != "inrdict stored":
        result["effective_gflops"] = result["matvecs"] * flops_per_vector / result["solve_seconds"] / 1e9
    result["matmul_peak_gflops_in_child"] = matmul_gflops(4096, 4096, 4096)
    np.save(spec["eigvals_out"], eigvals)
    return result


def run_child(route: str, grid: int, workdir: Path, timeout: float) -> dict:
    out = workdir / f"{route.replace(' ', '_')}-{grid}.npy"
    spec = {"route": route, "grid": grid, "eigvals_out": str(out)}
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
                              capture_output=True, text=True, check=False, timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"child exited with {proc.returncode}: " + " | ".join(tail)}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["eigvals"] = np.load(out).tolist()
    return result


# ------------------------------------------------------------------------------------------------------- main

ROUTES = ("dense eigh", "dense eigsh", "naive eigsh", "inrdict stored", "inrdict block", "inrdict eigsh",
          "inrdict lobpcg")
HEADER = (f"{'grid':>4} {'route':<16} {'matvecs':>7} {'cold +s':>7} {'setup s':>7} {'solve s':>8} {'total s':>8} "
          f"{'vs naive':>8} {'GFLOP/s':>7} {'% peak':>6} {'1-vec':>5} {'eff':>5} {'peak GB':>7} {'res':>7} {'|Δλ|':>7}")  # fmt: skip


def fmt(value, spec: str) -> str:
    """`format(value, spec)`, or "-" padded to the spec's width when there is no value."""
    if value is not None:
        return format(value, spec)
    width = spec.lstrip("<>^").split(".")[0].rstrip("dfe")
    return "-".rjust(int(width) if width.isdigit() else 1)


def print_row(row: dict) -> None:
    head = f"{row['grid']:>3}² {row['route']:<16}"
    if "error" in row:
        print(f"{head} FAILED: {row['error'][:150]}")
        return
    peak = row.get("matmul_peak_gflops_in_child")
    share = 100 * row["gflops"] / peak if row.get("gflops") and peak else None
    rate = fmt(row.get("gflops"), ">7.0f") if "stored_gb_per_s" not in row else f"{row['stored_gb_per_s']:>3.0f} GB/s"
    print(f"{head} {fmt(row.get('matvecs'), '>7d')} {row['cold_seconds']:>7.1f} {row['setup_seconds']:>7.2f} "
          f"{row['solve_seconds']:>8.2f} {row['total_seconds']:>8.2f} {fmt(row.get('vs_naive'), '>7.2f') + 'x':>8} "
          f"{rate:>7} {fmt(share, '>5.0f') + '%':>6} {fmt(row.get('gflops_1vec'), '>5.0f')} "
          f"{fmt(row.get('effective_gflops'), '>5.0f')} {row['peak_rss_bytes'] / 1e9:>7.2f} "
          f"{row['residual_max']:>7.1e} {fmt(row.get('eigval_error'), '>7.1e')}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="skip 256² and the dense 128² routes")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per child before it is abandoned")
    parser.add_argument("--only", action="append", metavar="GRID:ROUTE",
                        help="run only these rows, e.g. --only '256:inrdict block' (repeatable)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/ntk_topk.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    import tempfile

    peak = matmul_gflops(4096, 4096, 4096)
    print(f"matmul peak float32: {peak:.0f} GFLOP/s (jitted 4096³, best of 5)   cpus: {os.cpu_count()}   "
          f"devices: {jax.devices()}")  # fmt: skip
    plan = [(64, "dense eigh"), (64, "dense eigsh"), (64, "naive eigsh"), (64, "inrdict stored"), (64, "inrdict block"),
            (64, "inrdict eigsh"), (64, "inrdict lobpcg"), (128, "naive eigsh"), (128, "inrdict stored"),
            (128, "inrdict block"), (128, "inrdict eigsh")]  # fmt: skip
    if not args.quick:
        plan[7:7] = [(128, "dense eigh"), (128, "dense eigsh")]
        plan.append((256, "inrdict block"))
    if args.only:
        wanted = [(int(item.split(":")[0]), item.split(":", 1)[1].strip()) for item in args.only]
        plan = [row for row in wanted if row[1] in ROUTES] or parser.error(f"--only takes GRID:ROUTE, ROUTE one of {ROUTES}")
    rows = []
    print(HEADER)
    print("-" * len(HEADER))
    with tempfile.TemporaryDirectory() as tmp:
        for grid, route in plan:
            res = run_child(route, grid, Path(tmp), args.timeout)
            row = {"grid": grid, "points": grid * grid, "route": route, **res}
            rows.append(row)
            reference = next((r for r in rows if r["grid"] == grid and r["route"] == "dense eigh" and "error" not in r), None)
            naive = next((r for r in rows if r["grid"] == grid and r["route"] == "naive eigsh" and "error" not in r), None)
            if "error" not in row:
                if reference is not None:
                    ref = np.asarray(reference["eigvals"])
                    row["eigval_error"] = float(np.max(np.abs(np.asarray(row["eigvals"]) - ref)) / ref[0])
                if naive is not None:
                    row["vs_naive"] = row["total_seconds"] / naive["total_seconds"]
            print_row(row)
    for row in rows:  # ratios against naive rows that finished after them
        naive = next((r for r in rows if r["grid"] == row["grid"] and r["route"] == "naive eigsh" and "error" not in r), None)
        if naive is not None and "error" not in row:
            row["vs_naive"] = row["total_seconds"] / naive["total_seconds"]
    print("\nvs naive, all rows: " + ", ".join(f"{r['grid']}² {r['route']} {r['vs_naive']:.2f}x" for r in rows if "vs_naive" in r))
    report = {"matmul_peak_gflops": peak, "k": K, "tol": TOL, "quick": args.quick, "rows": rows,
              "versions": package_versions(), "device": device_info(), "cpu_count": os.cpu_count()}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

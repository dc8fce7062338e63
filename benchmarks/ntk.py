"""Empirical NTK of the Fig. 4–5 networks: structured vs generic vs Jacobian oracle vs neural-tangents, and eigh.

    python benchmarks/ntk.py [--quick] [--peer-venv benchmarks/.nt-venv] [--json benchmarks/results/ntk.json]

Networks: SIREN 2 → 256 ×4 → 1 ("ntk" convention, omega0 = 30) and ReLU MLP 2 → 256 ×4 → 1, float32, on the
64 × 64 `ntk_grid` (N = 4096 points).

FLOP count of the structured kernel (elementwise work ignored): every layer adds (D Dᵀ) ⊙ (A Aᵀ + 1), two
N x N products with inner sizes out_l and in_l, so

    full      = 2 N² sum_l (in_l + out_l)                              (SIREN / ReLU here: 2 · 4096² · 2051 = 68.8 GFLOP)
    performed = full · (n_blocks (n_blocks + 1) / 2) / n_blocks²       (only the upper-triangle b x b blocks)

The structured child also times its parts (layer features, the jitted upper-triangle blocks, the host assembly) and
XLA's rate on a bare (512, 256) @ (256, 512) matmul, the shape of most of the blocks' arithmetic; each
neural-tangents row then gets the ratio the structured kernel would reach with every block at that bare rate
(its ceiling on this machine), with and without the features and the assembly as measured.

"% peak" divides the performed GFLOP/s by this machine's float32 matmul peak (jitted 4096³ `A @ B`, best of 5),
measured in the structured child right after its timing (on a shared machine the peak itself moves; the parent's
start-of-run measurement is printed too).

Every method runs in its own fresh child process (this script with --child, or `_nt_peer.py` in the
neural-tangents venv), so that its peak RSS is not contaminated by the others; the
"idle" RSS of the same child (Python + JAX + model, before any kernel) is reported beside it. Peak RSS is the
child's VmHWM (/proc/self/status), not ru_maxrss, which on Linux inherits the parent's size across fork + exec.
Only public API is timed: `inrdict.ntk.empirical_ntk` (host assembly of the blocks included). Compile time is
what JAX reports through `jax.monitoring` (trace + lowering + XLA compile) during the first call; run time is the
best of --repeats later calls for the fast methods, the first call minus its compile time for the slow ones.

Grids. The generic `ntvp` method and neural-tangents' JACOBIAN_CONTRACTION run on all 4096 points (--quick: on
the --small-grid), and so does the Jacobian oracle (`method="jacobian"`: per-point `jax.jacrev` stacked into the
N x P Jacobian, ~3.3 GB at 4096 points, then J Jᵀ). neural-tangents' NTK_VECTOR_PRODUCTS always runs on the
--small-grid (default 32 × 32 = 1024 points): it holds N x N x width intermediates (4 GB at 1024 points, growing
as N², ~64 GB at 4096). Use --big-slow to try it at 4096 anyway. (An earlier oracle took `jax.jacrev` of the whole
N-output map, which has the same N² memory: 5.2 GB and 31 s at 1024 points; the per-point form takes ~2 s.) Ratios are always against the
structured kernel on the same points; "rel err" is ||K - K_structured||_F / ||K_structured||_F.

Eigendecomposition of the SIREN 4096-point structured float32 kernel: `inrdict.ntk.eigh_descending` (LAPACK
syevd via scipy, all pairs) vs `jnp.linalg.eigh` vs `scipy.sparse.linalg.eigsh(K, k=2000)` (the original code;
--quick: k = --quick-k).

neural-tangents pins an old JAX, so it runs from a separate venv (see `_nt_peer.py` for how to create it); it is
skipped, with instructions, when --peer-venv does not exist. Machines are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _common import best_seconds, matmul_gflops, rss_bytes

from inrdict.experiments._run import device_info, package_versions
from inrdict.io.data import ntk_grid
from inrdict.models import ReluMLP, Siren

HERE = Path(__file__).resolve().parent
MODELS = ("siren", "relu")
METHODS = ("structured", "ntvp", "jacobian")
OPTIONAL_METHODS = ("ntvp", "jacobian", "nt1", "nt2", "nt3")
NT_IMPLS = {1: "JACOBIAN_CONTRACTION", 2: "NTK_VECTOR_PRODUCTS", 3: "STRUCTURED_DERIVATIVES"}
NT_INSTALL = (
    f"python -m venv {HERE / '.nt-venv'} && "
    f"{HERE / '.nt-venv'}/bin/pip install 'neural-tangents==0.6.5' 'jax[cpu]==0.4.38'"
)


def make_model(name: str):
    key = jax.random.key(0)
    if name == "siren":
        return Siren(key=key, convention="ntk", first_omega0=30.0, hidden_omega0=30.0)
    return ReluMLP(key=key)


def structured_flops(model, n_points: int, block_size: int) -> tuple[float, float]:
    """(full, performed) flops of the structured kernel: 2 N² sum (in + out), and the upper-triangle share."""
    full = 2.0 * n_points**2 * sum(layer.in_features + layer.out_features for layer in model.layers)
    n_blocks = -(-n_points // block_size)
    return full, full * (n_blocks * (n_blocks + 1) / 2) / n_blocks**2


# --------------------------------------------------------------------------------------------------- child side


COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")  # fmt: skip


def child(spec: dict) -> dict:
    """Run one inrdict method in this (fresh) process; save the kernel; report times and peak RSS.

    Compile time is what JAX itself reports (trace + lowering + XLA compile, via `jax.monitoring`) during the
    first call; run time is the best of the later calls, or the first call minus compile for a single run.
    """
    from inrdict.ntk import empirical_ntk

    compile_seconds = [0.0]

    def listener(event, duration, **kwargs):
        if event in COMPILE_EVENTS:
            compile_seconds[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listener)
    model = make_model(spec["model"])
    points = np.asarray(ntk_grid(spec["grid"]), np.float32)
    method = spec["method"]
    idle = rss_bytes()
    times, compiles = [], []
    for _ in range(spec["repeats"] + (1 if spec["repeats"] > 1 else 0)):  # several runs: the first one is a warm-up
        compile_seconds[0] = 0.0
        start = time.perf_counter()
        kernel = empirical_ntk(model, points, method=method, dtype=jnp.float32)
        times.append(time.perf_counter() - start)
        compiles.append(compile_seconds[0])
    first_compile = min(compiles[0], times[0])
    seconds = min(times[1:]) if len(times) > 1 else times[0] - first_compile
    result = {"compile_seconds": first_compile, "seconds": seconds, "first_call_seconds": times[0], "all_seconds": times,
              "recompile_seconds_later_calls": sum(compiles[1:]), "idle_rss_bytes": idle, "peak_rss_bytes": rss_bytes()}  # fmt: skip
    if method == "structured":
        result["block_size"] = min(512, points.shape[0])  # empirical_ntk's default
        result["matmul_peak_gflops_in_child"] = matmul_gflops(4096, 4096, 4096)  # same process, same moment
        result.update(structured_parts(model, points, result["block_size"], spec["repeats"]))
    np.save(spec["kernel_out"], kernel)
    return result


def structured_parts(model, points: np.ndarray, block_size: int, repeats: int) -> dict:
    """Where a structured call's time goes: the layer features, the upper-triangle blocks (jitted), and the host
    assembly that mirrors them; and the rate XLA reaches on a bare (b, width) @ (width, b) matmul, the shape of
    most of the blocks' arithmetic (operands in cache: often above the 4096³ peak)."""
    from inrdict.ntk import kernel as ntk_kernel

    points = jnp.asarray(points)
    features = ntk_kernel._padded_features(model, points, block_size)
    blocks = np.asarray(ntk_kernel.kernel_blocks(features)[0])
    n, n_blocks = points.shape[0], -(-points.shape[0] // block_size)
    repeats = max(repeats, 3)
    width = max(layer.out_features for layer in model.layers)
    return {
        "parts_seconds": {
            "features": best_seconds(lambda: ntk_kernel._padded_features(model, points, block_size), repeats),
            "blocks": best_seconds(lambda: ntk_kernel.kernel_blocks(features)[0], repeats),
            "assembly": best_seconds(lambda: ntk_kernel._assemble(blocks, n_blocks, block_size, n), repeats),
        },
        "block_matmul_width": width,
        "block_matmul_gflops_in_child": matmul_gflops(block_size, width, block_size, repeats=20),
    }


def run_child(model: str, method: str, grid: int, repeats: int, workdir: Path) -> dict:
    kernel_out = workdir / f"{model}-{method}-{grid}.npy"
    spec = {"model": model, "method": method, "grid": grid, "repeats": repeats, "kernel_out": str(kernel_out)}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"child exited with {proc.returncode}: " + " | ".join(tail)}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["kernel_path"] = str(kernel_out)
    return result


def write_peer_weights(model_name: str, grid: int, path: Path) -> None:
    """The model's weights in the (in, out) convention, plus the points, for `_nt_peer.py`."""
    model = make_model(model_name)
    arrays = {"kind": model_name, "n_layers": len(model.layers), "points": np.asarray(ntk_grid(grid), np.float32)}
    for index, layer in enumerate(model.layers):
        arrays[f"W{index}"] = np.asarray(layer.weight).T
        arrays[f"b{index}"] = np.asarray(layer.bias)
    if model_name == "siren":
        arrays["omegas"] = np.array([model.omega(i) for i in range(len(model.layers) - 1)])
        arrays["offset"] = np.float32(model.output_offset)
    else:
        arrays["omegas"] = np.ones(len(model.layers) - 1)
        arrays["offset"] = np.float32(0.0)
    np.savez(path, **arrays)


def run_peer(python: Path, weights: Path, impl: int, reference: Path, repeats: int) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    command = [str(python), str(HERE / "_nt_peer.py"), "--weights", str(weights), "--impl", str(impl),
               "--reference", str(reference), "--repeats", str(repeats)]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"peer exited with {proc.returncode}: " + " | ".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rel_error(kernel: np.ndarray, reference: np.ndarray) -> float:
    kernel, reference = kernel.astype(np.float64), reference.astype(np.float64)
    return float(np.linalg.norm(kernel - reference) / np.linalg.norm(reference))


# ---------------------------------------------------------------------------------------------- eigen section


def eigen_benchmark(kernel: np.ndarray, k: int, repeats: int) -> list[dict]:
    import scipy.linalg
    import scipy.sparse.linalg

    from inrdict.ntk import eigh_descending

    eigh_descending(np.eye(4, dtype=kernel.dtype))  # imports and LAPACK initialisation outside the timing

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        evals, _ = eigh_descending(kernel)
        times.append(time.perf_counter() - start)
    evd = {
        "method": "inrdict eigh_descending (scipy syevd)",
        "k": kernel.shape[0],
        "compile_seconds": 0.0,
        "seconds": min(times),
    }
    top = evals[:k]

    eigh = jax.jit(jnp.linalg.eigh)
    kj = jnp.asarray(kernel)
    start = time.perf_counter()
    compiled = eigh.lower(kj).compile()
    jcompile = time.perf_counter() - start
    jevals = None

    def jrun():
        nonlocal jevals
        jevals = compiled(kj)[0]
        return jevals

    jseconds = best_seconds(jrun, repeats)
    jtop = np.sort(np.asarray(jevals))[::-1][:k]
    jnp_row = {
        "method": "jnp.linalg.eigh (jit)",
        "k": kernel.shape[0],
        "compile_seconds": jcompile,
        "seconds": jseconds,
    }

    start = time.perf_counter()
    svals = scipy.sparse.linalg.eigsh(kernel, k=k, return_eigenvectors=True)[0]
    sseconds = time.perf_counter() - start
    stop = np.sort(svals)[::-1]
    eigsh_row = {"method": f"scipy eigsh(k={k})", "k": k, "compile_seconds": 0.0, "seconds": sseconds}

    scale = float(top[0])
    for row, values in ((evd, top), (jnp_row, jtop), (eigsh_row, stop)):
        row["max_abs_diff_top_k_over_lambda_max"] = float(np.max(np.abs(values - top)) / scale)
        row["ratio_vs_evd"] = row["seconds"] / evd["seconds"]
    evd["lambda_max"] = scale
    evd["lambda_k"] = float(top[-1])
    return [evd, jnp_row, eigsh_row]


# ------------------------------------------------------------------------------------------------------- main


def fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick", action="store_true", help="ntvp and NT impl 1 on the small grid, eigsh with --quick-k"
    )
    parser.add_argument("--grid", type=int, default=64, help="points per axis of the main grid (64: 4096 points)")
    parser.add_argument("--small-grid", type=int, default=32, help="grid of the methods too slow/large for --grid")
    parser.add_argument("--big-slow", action="store_true", help="run NT impl 2 on --grid too (~64 GB at 4096 points)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=OPTIONAL_METHODS,
        default=list(OPTIONAL_METHODS),
        help="methods besides structured (always run: it is the reference)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="best-of for the fast methods")
    parser.add_argument("--eigsh-k", type=int, default=2000)
    parser.add_argument("--quick-k", type=int, default=200)
    parser.add_argument("--eig-repeats", type=int, default=1)
    parser.add_argument("--no-eigen", action="store_true")
    parser.add_argument("--peer-venv", type=Path, default=HERE / ".nt-venv")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/ntk.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    peak = matmul_gflops(4096, 4096, 4096)
    print(f"matmul peak float32: {peak:.0f} GFLOP/s (jitted 4096³, best of 5)   cpus: {os.cpu_count()}")
    slow_grid = args.small_grid if args.quick else args.grid
    big_grid = args.grid if args.big_slow else args.small_grid
    grids = {"structured": args.grid, "ntvp": slow_grid, "jacobian": slow_grid}
    grids = {m: g for m, g in grids.items() if m == "structured" or m in args.methods}
    nt_grids = {i: g for i, g in {1: slow_grid, 2: big_grid, 3: args.grid}.items() if f"nt{i}" in args.methods}
    for name, grid in [
        *((m, g) for m, g in grids.items() if m != "structured"),
        *((f"NT impl {i}", g) for i, g in nt_grids.items()),
    ]:
        if grid != args.grid:
            print(f"note: {name} runs on the {grid}x{grid} grid ({grid * grid} points), not {args.grid}x{args.grid}"
                  + (" (--quick)" if args.quick and name in ("ntvp", "NT impl 1") else " (too slow / too large at full size)"))  # fmt: skip
    peer_python = args.peer_venv / "bin" / "python"
    if nt_grids and not peer_python.exists():
        print(f"neural-tangents peer skipped: no venv at {args.peer_venv}. Create it with:\n  {NT_INSTALL}")

    rows = []
    eigen = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for model_name in args.models:
            model = make_model(model_name)
            structured = {}
            for grid in sorted({args.grid, *grids.values(), *nt_grids.values()}, reverse=True):
                res = run_child(model_name, "structured", grid, args.repeats, workdir)
                if "error" in res:
                    raise SystemExit(f"structured {model_name} {grid}: {res['error']}")
                structured[grid] = res
            references = {grid: np.load(res["kernel_path"]) for grid, res in structured.items()}

            def add(label, grid, res, kernel=None, model_name=model_name, structured=structured, references=references):
                row = {"model": model_name, "method": label, "grid": grid, "points": grid * grid, **res}
                if "error" not in res:
                    base = structured[grid]
                    row["ratio_vs_structured"] = res["seconds"] / base["seconds"]
                    if kernel is not None:
                        row["rel_error_vs_structured"] = rel_error(kernel, references[grid])
                    elif "rel_error_vs_reference" in res:
                        row["rel_error_vs_structured"] = res["rel_error_vs_reference"]
                rows.append(row)
                print_row(row)
                return row

            if model_name == args.models[0]:
                print_header()
            for grid, res in sorted(structured.items(), reverse=True):
                full, performed = structured_flops(model, grid * grid, res["block_size"])
                extra = {"gflop_full": full / 1e9, "gflop_performed": performed / 1e9, "gflops": performed / res["seconds"] / 1e9,
                         "gflops_full_equivalent": full / res["seconds"] / 1e9}  # fmt: skip
                extra["fraction_of_matmul_peak"] = extra["gflops"] / res["matmul_peak_gflops_in_child"]
                extra["blocks_gflops"] = performed / res["parts_seconds"]["blocks"] / 1e9
                row = add("inrdict structured", grid, {**{k: v for k, v in res.items() if k != "kernel_path"}, **extra},
                          references[grid])  # fmt: skip
                print(f"{'':<7}└ {full / 1e9:.1f} GFLOP full, {performed / 1e9:.1f} performed (upper-triangle blocks of "
                      f"{res['block_size']}); full-flop equivalent {row['gflops_full_equivalent']:.0f} GFLOP/s; "
                      f"matmul peak in this child {res['matmul_peak_gflops_in_child']:.0f} GFLOP/s")  # fmt: skip
                parts = res["parts_seconds"]
                print(f"{'':<7}└ features {parts['features']:.3f} s, blocks {parts['blocks']:.3f} s "
                      f"({row['blocks_gflops']:.0f} GFLOP/s; a bare {res['block_size']}×{res['block_matmul_width']}×{res['block_size']} matmul: "
                      f"{res['block_matmul_gflops_in_child']:.0f} GFLOP/s), host assembly {parts['assembly']:.3f} s")  # fmt: skip
            for method in [m for m in ("ntvp", "jacobian") if m in grids]:
                grid = grids[method]
                res = run_child(model_name, method, grid, 1, workdir)
                kernel = np.load(res.pop("kernel_path")) if "error" not in res else None
                add(f"inrdict {method}", grid, res, kernel)
            if peer_python.exists():  # (nt_grids is empty when --methods has no ntN)
                for impl, grid in nt_grids.items():
                    weights = workdir / f"{model_name}-{grid}.npz"
                    if not weights.exists():
                        write_peer_weights(model_name, grid, weights)
                    res = run_peer(peer_python, weights, impl, Path(structured[grid]["kernel_path"]),
                                   args.repeats if impl == 3 else 1)  # fmt: skip
                    row = add(f"neural-tangents impl {impl}", grid, res)
                    if "error" not in res:  # the most the structured kernel could be worth against this peer here
                        base = structured[grid]
                        performed = structured_flops(model, grid * grid, base["block_size"])[1]
                        at_bare_rate = performed / (base["block_matmul_gflops_in_child"] * 1e9)
                        row["ceiling_ratio_blocks_at_bare_matmul_rate"] = res["seconds"] / at_bare_rate
                        row["ceiling_ratio_with_features_and_assembly"] = res["seconds"] / (
                            at_bare_rate + base["parts_seconds"]["features"] + base["parts_seconds"]["assembly"]
                        )
                        print(f"{'':<7}└ ceiling here: {row['ceiling_ratio_blocks_at_bare_matmul_rate']:.1f}x with every "
                              f"block at the bare matmul rate, {row['ceiling_ratio_with_features_and_assembly']:.1f}x "
                              "adding the features and the assembly as measured")  # fmt: skip
            if model_name == "siren" and not args.no_eigen:
                eigen = eigen_benchmark(
                    references[args.grid], args.quick_k if args.quick else args.eigsh_k, args.eig_repeats
                )
            for path in workdir.glob(f"{model_name}-*.npy"):
                path.unlink()

    if eigen:
        n = eigen[0]["k"]
        print(f"\neigendecomposition of the SIREN {n}-point structured float32 kernel"
              + (" (--quick: small k)" if args.quick else ""))  # fmt: skip
        header = f"{'method':<40} {'compile s':>9} {'run s':>8} {'vs evd':>7} {'max|Δλ| top-k / λmax':>21}"
        print(header)
        print("-" * len(header))
        for row in eigen:
            print(f"{row['method']:<40} {row['compile_seconds']:>9.2f} {row['seconds']:>8.2f} {row['ratio_vs_evd']:>6.2f}x "
                  f"{row['max_abs_diff_top_k_over_lambda_max']:>21.1e}")  # fmt: skip

    report = {"matmul_peak_gflops": peak, "grid": args.grid, "small_grid": args.small_grid, "quick": args.quick,
              "big_slow": args.big_slow, "kernels": rows, "eigen": eigen}  # fmt: skip
    if peer_python.exists():
        report["peer_venv"] = str(args.peer_venv)
    report.update(versions=package_versions(), device=device_info(), cpu_count=os.cpu_count())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


HEADER = (f"{'model':<6} {'method':<26} {'points':>6} {'compile s':>9} {'run s':>9} {'vs struct':>9} "
          f"{'peak GB':>7} {'idle GB':>7} {'GFLOP/s':>7} {'% peak':>6} {'rel err':>8}")  # fmt: skip


def print_header() -> None:
    print(HEADER)
    print("-" * len(HEADER))


def print_row(row: dict) -> None:
    head = f"{row['model']:<6} {row['method']:<26} {row['points']:>6}"
    if "error" in row:
        print(f"{head}  FAILED: {row['error'][:160]}")
        return
    gflops = row.get("gflops")
    frac = row.get("fraction_of_matmul_peak")
    print(f"{head} {row['compile_seconds']:>9.2f} {row['seconds']:>9.3f} {row['ratio_vs_structured']:>8.1f}x "
          f"{row['peak_rss_bytes'] / 1e9:>7.2f} {fmt(row.get('idle_rss_bytes') and row['idle_rss_bytes'] / 1e9, '>7.2f'):>7} "
          f"{fmt(gflops, '>7.0f'):>7} {fmt(frac and 100 * frac, '>5.0f') + '%' if frac else '-':>6} {fmt(row.get('rel_error_vs_structured'), '>8.1e'):>8}")  # fmt: skip


if __name__ == "__main__":
    main()

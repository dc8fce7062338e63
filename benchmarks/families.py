"""Forward pass and exact NTK of every INR family beside SIREN's, at matched size (~198k parameters).

    python benchmarks/families.py [--grid 64] [--repeats 3] [--json benchmarks/results/families.json]

Models: `inrdict.models.MODEL_NAMES` at each paper's recommended settings and `matched_hidden` widths (SIREN
2 → 256 ×4 → 1 has 198,401 trained parameters), float32, on the grid² `ntk_grid` points. Timed with public API only:

* forward: `jax.vmap(model)` over all points, jitted;
* NTK: `inrdict.ntk.empirical_ntk(model, points)` ("auto": the structured path for every family, complex WIRE
  through its rotated groups), host assembly of the blocks included;
* complex WIRE's generic path (`method="ntvp"`), the route it took before its structured features, on the
  --ntvp-grid (default 32² points: it costs N² P, minutes at 64²) beside its structured kernel on the same points.

First call = compile + run; "run" is the best of --repeats later calls; compile is the first call minus that.
Ratios are to SIREN's run time in the same process (machines are noisy: compare ratios within one run).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
from _common import best_seconds

from inrdict.experiments._run import device_info, package_versions
from inrdict.io.data import ntk_grid
from inrdict.models import MODEL_NAMES, count_parameters, make_model
from inrdict.ntk import empirical_ntk


def first_and_best(fn, repeats: int) -> tuple[float, float]:
    """(first call, best of `repeats` later calls), seconds, each waited for."""
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    return first, best_seconds(fn, repeats)


def measure(model, points: np.ndarray, repeats: int, method: str = "auto") -> dict:
    forward = eqx.filter_jit(jax.vmap(model))
    x = jax.numpy.asarray(points)
    f_first, f_run = first_and_best(lambda: forward(x), repeats)
    k_first, k_run = first_and_best(lambda: empirical_ntk(model, points, method=method), repeats)
    return {"forward_run_s": f_run, "forward_compile_s": max(f_first - f_run, 0.0),
            "ntk_run_s": k_run, "ntk_compile_s": max(k_first - k_run, 0.0)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", type=int, default=64)
    parser.add_argument("--ntvp-grid", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "families.json")
    args = parser.parse_args()

    points = ntk_grid(args.grid)
    rows = {}
    for name in MODEL_NAMES:
        model = make_model(name, key=jax.random.key(0))
        rows[name] = {"parameters": count_parameters(model), "hidden": list(model.hidden), **measure(model, points, args.repeats)}
        print(f"  {name:<10} done", flush=True)
    siren = rows["siren"]
    for row in rows.values():
        row["forward_vs_siren"] = row["forward_run_s"] / siren["forward_run_s"]
        row["ntk_vs_siren"] = row["ntk_run_s"] / siren["ntk_run_s"]

    wire = make_model("wire", key=jax.random.key(0))
    small = ntk_grid(args.ntvp_grid)
    structured = first_and_best(lambda: empirical_ntk(wire, small, method="structured"), args.repeats)
    ntvp = first_and_best(lambda: empirical_ntk(wire, small, method="ntvp"), 1)
    wire_paths = {"points": small.shape[0], "structured_run_s": structured[1], "ntvp_run_s": ntvp[1],
                  "ntvp_vs_structured": ntvp[1] / structured[1]}  # fmt: skip

    n = points.shape[0]
    print(f"\nforward pass and exact NTK on {n} points ({args.grid}²), float32, best of {args.repeats}; ratio = / SIREN")
    print(f"{'model':<10} {'params':>8} {'hidden':>16} {'forward ms':>11} {'ratio':>6} {'NTK s':>7} {'ratio':>6} "
          f"{'compile fwd/NTK s':>18}")  # fmt: skip
    for name, r in rows.items():
        print(f"{name:<10} {r['parameters']:>8,} {str(tuple(r['hidden'])):>16} {1e3 * r['forward_run_s']:>11.2f} "
              f"{r['forward_vs_siren']:>6.2f} {r['ntk_run_s']:>7.3f} {r['ntk_vs_siren']:>6.2f} "
              f"{r['forward_compile_s']:>8.2f}/{r['ntk_compile_s']:<8.2f}")  # fmt: skip
    print(f"\ncomplex WIRE on {wire_paths['points']} points: structured (rotated groups) {wire_paths['structured_run_s']:.3f} s, "
          f"generic ntvp {wire_paths['ntvp_run_s']:.2f} s ({wire_paths['ntvp_vs_structured']:.0f}x)")
    payload = {"grid": args.grid, "points": n, "repeats": args.repeats, "models": rows, "complex_wire_paths": wire_paths,
               "device": device_info(), "versions": package_versions(),
               "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

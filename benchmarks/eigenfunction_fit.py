"""Fitting many NTK eigenvectors from one initialisation (Fig. 15): `figure15.fit_targets` (one jitted computation,
`vmap` over the targets of a chunk, `lax.map` over chunks) against a per-target Python loop of `inrdict.fit`'s jitted
full-batch Adam steps, side by side.

    python benchmarks/eigenfunction_fit.py [--quick] [--json benchmarks/results/eigenfunction_fit.json]

SIREN-30 2 → 256 ×4 → 1 ("ntk" convention), targets = its own NTK eigenvectors scaled to [0, 1] (the default preset's
protocol), full-batch Adam lr 1e-4 on all pixels. Rate = targets × steps per second (compile excluded: both routes
are compiled on a first call with the same shapes). FLOPs per target-step: forward + backward 6 · n · P (P = 198,401
weights; the sines are not counted), as a share of this machine's float32 matmul peak measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _common import matmul_gflops

from inrdict.experiments._run import device_info, package_versions
from inrdict.experiments.paper.figure15 import eigenvector_targets, fit_targets
from inrdict.experiments.studies.rows import siren_row
from inrdict.io.data import ntk_grid
from inrdict.models import count_parameters
from inrdict.ntk import eigh_descending, empirical_ntk
from inrdict.train.fit import encode_inputs, fit_steps, init_state
from inrdict.train.optim import adam


def per_target_loop(model, coords, targets, steps: int) -> float:
    """Seconds of the straightforward route: for each target, one jitted `fit_steps` call of `steps` updates."""
    optimizer = adam(1e-4)
    state, frozen = init_state(model, optimizer)
    inputs = encode_inputs(model, jnp.asarray(coords))
    ys = [jnp.asarray(t[:, None]) for t in targets]
    jax.block_until_ready(fit_steps(state, frozen, inputs, ys[0], steps, optimizer))  # compile
    start = time.perf_counter()
    for y in ys:
        jax.block_until_ready(fit_steps(state, frozen, inputs, y, steps, optimizer))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the default grid (32²) and fewer targets")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/eigenfunction_fit.json"))
    args, chunks = parser.parse_args(), (1, 4, 8)  # targets per chunk of the vmapped route
    sizes = [(32, 8, 50)] + ([] if args.quick else [(64, 8, 20)])  # (grid, targets, steps)
    print(f"matmul peak float32: {(peak := matmul_gflops(4096, 4096, 4096)):.0f} GFLOP/s (4096³)")
    header = (f"{'grid':>4} {'targets':>7} {'steps':>5} {'chunk':>5} {'vmapped s':>9} {'compile s':>9} {'loop s':>8} "
              f"{'loop/vmap':>9} {'tgt·steps/s':>11} {'GFLOP/s':>8} {'% peak':>7}")  # fmt: skip
    print(header + "\n" + "-" * len(header))
    rows = []
    model = siren_row(30.0, 0)
    for grid, n_targets, steps in sizes:
        coords = ntk_grid(grid)
        _, eigvecs = eigh_descending(np.asarray(empirical_ntk(model, coords)))
        targets = eigenvector_targets(np.asarray(eigvecs)[:, :n_targets], "minmax", 0.25)
        loop = per_target_loop(model, coords, targets, steps)
        for chunk in chunks:
            start = time.perf_counter()
            fit_targets(model, coords, targets[:chunk], steps=steps, targets_per_chunk=chunk)  # compile (one chunk)
            compile_seconds = time.perf_counter() - start
            start = time.perf_counter()
            fit_targets(model, coords, targets, steps=steps, targets_per_chunk=chunk)
            seconds = time.perf_counter() - start
            flops = n_targets * steps * 6 * grid * grid * count_parameters(model)
            row = {"grid": grid, "targets": n_targets, "steps": steps, "targets_per_chunk": chunk, "seconds": seconds,
                   "compile_seconds": compile_seconds, "per_target_loop_seconds": loop, "loop_over_vmapped": loop / seconds,
                   "target_steps_per_second": n_targets * steps / seconds,
                   "loop_target_steps_per_second": n_targets * steps / loop, "gflops": flops / seconds / 1e9,
                   "fraction_of_matmul_peak": flops / seconds / 1e9 / peak}  # fmt: skip
            rows.append(row)
            print(f"{grid:>4} {n_targets:>7} {steps:>5} {chunk:>5} {seconds:>9.2f} {compile_seconds:>9.2f} {loop:>8.2f} "
                  f"{row['loop_over_vmapped']:>8.2f}x {row['target_steps_per_second']:>11.1f} {row['gflops']:>8.1f} "
                  f"{100 * row['fraction_of_matmul_peak']:>6.0f}%")  # fmt: skip
    report = {"matmul_peak_gflops": peak, "rows": rows, "versions": package_versions(), "device": device_info(),
              "cpu_count": os.cpu_count(), "load_average": os.getloadavg()}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Seconds per meta-learning outer step (MAML second order, first-order MAML, Reptile) and the default Fig. 4 time.

    python benchmarks/meta.py [--quick] [--json benchmarks/results/meta.json]

SIREN 2 → 256 ×4 → 1, batch of 3 tasks, 2 inner SGD steps, at the paper grid (64²) and the default grid (32²);
the step is `inrdict.train.meta.meta_step`, exactly what `meta_train` runs. Compile time and
run time (best of N, after `block_until_ready`) are reported separately, with the ratio to MAML and the
projected time of the preset's whole run. FLOP estimate (forward = 2 N P per task, P = weights of the hidden
and output layers): MAML ≈ 7 forward-equivalents per inner step + 3 for the outer loss, first-order ≈ 3 per inner
step + 3, Reptile ≈ 3 per inner step + 1. Machines are noisy: compare ratios within one run.
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
import optax

from inrdict.experiments.paper import meta_learning
from inrdict.experiments._run import device_info, package_versions
from inrdict.io.data import ntk_grid
from inrdict.models import Siren
from inrdict.train.fit import init_state
from inrdict.train.meta import InnerLoop, meta_step

FORWARD_EQUIVALENTS = {"maml": lambda k: 7 * k + 3, "fomaml": lambda k: 3 * k + 3, "reptile": lambda k: 3 * k + 1}


def time_step(method: str, grid: int, repeats: int, batch: int = 3, inner_steps: int = 2) -> dict:
    model = Siren(key=jax.random.key(0))
    optimizer = optax.adam(1e-5)
    state, frozen = init_state(model, optimizer)
    coords = jnp.asarray(ntk_grid(grid))
    targets = jax.random.uniform(jax.random.key(1), (batch, grid * grid, 1))

    def step():
        return meta_step(state, frozen, coords, targets, jax.random.key(0), optimizer, method, InnerLoop(inner_steps, 0.01))

    start = time.perf_counter()
    jax.block_until_ready(step())
    compile_seconds = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(step())
        times.append(time.perf_counter() - start)
    weights = sum(layer.in_features * layer.out_features for layer in model.layers)
    flops = 2 * grid * grid * weights * batch * FORWARD_EQUIVALENTS[method](inner_steps)
    seconds = min(times)
    return {"method": method, "grid": grid, "compile_seconds": compile_seconds, "seconds_per_step": seconds,
            "gflops": flops / seconds / 1e9}  # fmt: skip


def time_default_figure4(with_checkpoint: bool) -> float:
    """Wall time of `inrdict figure 4` (default preset) in a fresh cache, with or without a meta checkpoint cached."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "INRDICT_CACHE_DIR": cache}
        command = [sys.executable, "-m", "inrdict.cli"]
        if with_checkpoint:
            subprocess.run(command + ["meta-learn", "--out", f"{out}/meta", "--no-progress"], env=env, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            extra = ["--set", f"meta_checkpoint={out}/meta/meta_siren.npz"]
        else:
            extra = []
        start = time.perf_counter()
        subprocess.run(command + ["figure", "4", "--out", f"{out}/f4", "--no-progress", *extra], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="default grid only, skip the Fig. 4 timings")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/meta.json"))
    args = parser.parse_args()

    presets = {32: meta_learning.DEFAULT.steps} if args.quick else {64: meta_learning.PAPER.steps, 32: meta_learning.DEFAULT.steps}
    header = f"{'method':<8} {'grid':>5} {'compile s':>9} {'s/step':>8} {'vs MAML':>8} {'GFLOP/s':>8} {'preset run':>11}"
    print(header)
    print("-" * len(header))
    rows = []
    for grid, steps in presets.items():
        maml_seconds = None
        for method in ("maml", "fomaml", "reptile"):
            row = time_step(method, grid, args.repeats)
            maml_seconds = maml_seconds or row["seconds_per_step"]
            row["speedup_vs_maml"] = maml_seconds / row["seconds_per_step"]
            row["projected_preset_seconds"] = steps * row["seconds_per_step"]
            rows.append(row)
            print(f"{method:<8} {grid:>4}² {row['compile_seconds']:>9.2f} {row['seconds_per_step']:>8.3f} "
                  f"{row['speedup_vs_maml']:>7.2f}x {row['gflops']:>8.1f} {row['projected_preset_seconds'] / 60:>8.1f} min")  # fmt: skip
    report = {"steps": rows}
    if not args.quick:
        report["default_figure4_seconds_with_checkpoint"] = time_default_figure4(True)
        report["default_figure4_seconds_learning_checkpoint_first"] = time_default_figure4(False)
        print(f"\ndefault `inrdict figure 4`: {report['default_figure4_seconds_with_checkpoint']:.1f} s with a meta "
              f"checkpoint, {report['default_figure4_seconds_learning_checkpoint_first']:.1f} s meta-learning it first")  # fmt: skip
    report.update(versions=package_versions(), device=device_info())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Seconds per training step of the Fig. 2 and Fig. 3 networks, achieved GFLOP/s vs this machine's matmul peak.

    python benchmarks/fit.py [--quick] [--no-reproduce] [--json benchmarks/results/fit.json]

FLOP count of one full-batch step of a dense network on N points (elementwise work ignored):
forward 2 N sum_l in_l out_l; backward twice that, minus the first layer's input gradient (not needed), so
N sum_l 2 in_l out_l (3 for l > 1, 2 for l = 1). The matmul peak is measured here with a float32 jitted
`A @ B` of 4096 x 4096 and of the network's own shape (N x 256 by 256 x 256), best of several runs.
Paths: "one-batch" (the straightforward jitted step: one `value_and_grad` over all points, input mapping
recomputed every step), "chunked" (gradients summed over 4096-point chunks), "fit" (what `inrdict.fit` runs:
chunked, with the frozen input mapping of the fixed training points computed once). Compile time and run time
are reported separately. Machines are noisy: compare ratios within one run.
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
from _common import best_seconds, matmul_gflops

from inrdict.experiments._run import device_info, package_versions
from inrdict.io.data import astronaut, image_dataset, square_image, tone
from inrdict.models import FFN, Siren, gaussian_frequencies, single_frequency
from inrdict.train.fit import DEFAULT_CHUNK_SIZE, Batching, default_chunk_size, encode_inputs, fit_steps, init_state


def step_flops(model, n_points: int) -> float:
    total = 0
    for index, layer in enumerate(model.layers):
        total += 2 * layer.in_features * layer.out_features * (2 if index == 0 else 3)
    return float(total * n_points)


def time_training_step(model, coords, targets, repeats: int, chunk_size: int | None, encoded: bool) -> dict:
    """Compile once, then time single full-batch Adam steps of `inrdict.train.fit.fit_steps` (best of).

    chunk_size=None is the straightforward baseline: one `value_and_grad` over the whole batch. `encoded`: the
    input mapping of the fixed training points is computed once beforehand (untimed), as `inrdict.fit` does.
    """
    optimizer = optax.adam(1e-4)
    state, frozen = init_state(model, optimizer)
    coords, targets = jnp.asarray(coords), jnp.asarray(targets)
    if encoded:
        coords = encode_inputs(model, coords)
    batching = Batching(chunk_size=chunk_size or coords.shape[0])

    def step():
        return fit_steps(state, frozen, coords, targets, 1, optimizer, batching=batching, encoded=encoded)

    start = time.perf_counter()
    jax.block_until_ready(step())
    compile_seconds = time.perf_counter() - start
    seconds = best_seconds(step, repeats)
    flops = step_flops(model, coords.shape[0])
    return {"compile_seconds": compile_seconds, "seconds_per_step": seconds, "gflop_per_step": flops / 1e9,
            "gflops": flops / seconds / 1e9}  # fmt: skip


def cases(quick: bool):
    key = jax.random.key(0)
    sizes = [("default", 128)] + ([] if quick else [("paper", 512)])
    for preset, n in sizes:
        coords, targets = image_dataset(square_image(astronaut(), n))
        for name, B in [("rff σ=10", gaussian_frequencies(jax.random.key(7), 256, 2, 10.0)), ("f0=1", single_frequency(1.0))]:
            yield f"Fig. 2 FFN {name}", preset, n * n, FFN(B, (256, 256, 256), 3, key=key), coords, targets
    r, y = tone(23.0, 256)
    for omega in (30.0, 300.0):
        model = Siren(1, (128, 128), 1, first_omega0=omega, convention="fit", key=key)
        yield f"Fig. 3 SIREN ω0={omega:g}", "paper=default", 128, model, r[::2, None], y[::2, None]


def time_reproduce() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "inrdict.cli", "reproduce", "--out", out, "--no-progress"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 512² paper size")
    parser.add_argument("--no-reproduce", action="store_true", help="skip timing the whole default reproduce")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/fit.json"))
    args = parser.parse_args()

    peak_square = matmul_gflops(4096, 4096, 4096)
    peak_shape = matmul_gflops(128 * 128, 256, 256)
    print(f"matmul peak float32: {peak_square:.0f} GFLOP/s (4096³), {peak_shape:.0f} GFLOP/s (16384x256 @ 256x256)")
    rows = []
    header = (f"{'network':<22} {'preset':<13} {'points':>7} {'path':<10} {'compile s':>9} {'s/step':>8} "
              f"{'GFLOP/step':>10} {'GFLOP/s':>8} {'% peak':>7} {'speed-up':>8}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for name, preset, n_points, model, coords, targets in cases(args.quick):
        baseline = None
        paths = (("one-batch", None, False), ("chunked", DEFAULT_CHUNK_SIZE, False), ("fit", default_chunk_size(), True))
        for path, chunk, encoded in paths:
            if path == "chunked" and n_points <= DEFAULT_CHUNK_SIZE:
                continue  # identical to the baseline
            timing = time_training_step(model, coords, targets, args.repeats, chunk, encoded)
            row = {"network": name, "preset": preset, "points": n_points, "path": path, **timing}
            row["fraction_of_matmul_peak"] = row["gflops"] / peak_square
            baseline = baseline or row["seconds_per_step"]
            row["speedup_vs_one_batch"] = baseline / row["seconds_per_step"]
            rows.append(row)
            print(f"{name:<22} {preset:<13} {n_points:>7} {path:<10} {row['compile_seconds']:>9.2f} "
                  f"{row['seconds_per_step']:>8.4f} {row['gflop_per_step']:>10.2f} {row['gflops']:>8.1f} "
                  f"{100 * row['fraction_of_matmul_peak']:>6.0f}% {row['speedup_vs_one_batch']:>7.2f}x")  # fmt: skip
    report = {"matmul_peak_gflops": peak_square, "matmul_network_shape_gflops": peak_shape, "steps": rows}
    if not args.no_reproduce:
        report["default_reproduce_seconds"] = time_reproduce()
        print(f"\nwhole default `inrdict reproduce`: {report['default_reproduce_seconds']:.1f} s")
    report.update(versions=package_versions(), device=device_info(), cpu_count=os.cpu_count())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

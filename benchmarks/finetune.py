"""Fine-tuning many images from one initialisation: `inrdict.train.finetune` (one jitted, vmapped computation) against a
per-image Python loop of jitted Optax steps, side by side.

    python benchmarks/finetune.py [--quick] [--json benchmarks/results/finetune.json]

The paper's protocol (Fig. 4 legend, Fig. 10): SIREN 2 → 256 ×4 → 1 and ReLU MLP, 100 images at 64² (the paper
preset) or 35 at 32² (the default), one 50 % pixel mask, 10 Adam iterations. FLOP count per image and iteration:
training forward + backward 6 · n_train · P plus the held-out forward 2 · n_test · P (P = 198,401 weights; the sin
of SIREN's activations is not counted), as a share of this machine's float32 matmul peak measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from _common import matmul_gflops

from inrdict.experiments._run import device_info, package_versions
from inrdict.experiments.studies.rows import relu_row, siren_row
from inrdict.io.data import ntk_grid
from inrdict.models import count_parameters, partition_trainable
from inrdict.train.finetune import finetune, split_mask


def per_image_loop(model, coords, images, mask, iterations: int) -> float:
    """Seconds of the straightforward route: for each image, a jitted Adam step called `iterations` times."""
    params, frozen = partition_trainable(model)
    optimizer = optax.adam(1e-4)
    x_train, x_test = jnp.asarray(coords[mask]), jnp.asarray(coords[~mask])

    def mse(p, x, y):
        return jnp.mean((jax.vmap(eqx.combine(p, frozen))(x)[:, 0] - y) ** 2)

    @jax.jit
    def step(p, state, y_train, y_test):
        loss, grads = jax.value_and_grad(mse)(p, x_train, y_train)
        updates, state = optimizer.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss, mse(p, x_test, y_test)

    image = jnp.asarray(images[0])
    jax.block_until_ready(step(params, optimizer.init(params), image[mask], image[~mask]))  # compile
    start = time.perf_counter()
    for image in images:
        image = jnp.asarray(image)
        p, state = params, optimizer.init(params)
        for _ in range(iterations):
            p, state, loss, test = step(p, state, image[mask], image[~mask])
        jax.block_until_ready(p)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the default size (35 images at 32²)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/finetune.json"))
    args = parser.parse_args()
    peak = matmul_gflops(4096, 4096, 4096)
    print(f"matmul peak float32: {peak:.0f} GFLOP/s (4096³)")
    sizes = [("default", 32, 35)] + ([] if args.quick else [("paper", 64, 100)])
    header = f"{'model':<10} {'preset':<8} {'images':>6} {'inrdict s':>9} {'compile s':>9} {'loop s':>8} {'ratio':>6} {'GFLOP/s':>8} {'% peak':>7}"
    print(header + "\n" + "-" * len(header))
    rows = []
    for preset, grid, n_images in sizes:
        coords = ntk_grid(grid)
        images = np.asarray(jax.random.uniform(jax.random.key(1), (n_images, grid * grid)), np.float32)
        mask = split_mask(grid * grid, key=jax.random.key(0))
        for name, model in (("SIREN-30", siren_row(30.0, 0)), ("ReLU", relu_row(0))):
            start = time.perf_counter()
            finetune(model, coords, images[:4], mask, iterations=10)  # compile (a chunk of 4 images)
            compile_seconds = time.perf_counter() - start
            start = time.perf_counter()
            finetune(model, coords, images, mask, iterations=10)
            seconds = time.perf_counter() - start
            loop = per_image_loop(model, coords, images, mask, 10)
            n_train, weights = int(mask.sum()), count_parameters(model)
            flops = n_images * 10 * (6 * n_train + 2 * (grid * grid - n_train)) * weights
            row = {"model": name, "preset": preset, "grid": grid, "images": n_images, "iterations": 10,
                   "seconds": seconds, "compile_seconds": compile_seconds, "per_image_loop_seconds": loop,
                   "speedup_vs_loop": loop / seconds, "gflops": flops / seconds / 1e9,
                   "fraction_of_matmul_peak": flops / seconds / 1e9 / peak}  # fmt: skip
            rows.append(row)
            print(f"{name:<10} {preset:<8} {n_images:>6} {seconds:>9.2f} {compile_seconds:>9.2f} {loop:>8.2f} "
                  f"{row['speedup_vs_loop']:>5.2f}x {row['gflops']:>8.1f} {100 * row['fraction_of_matmul_peak']:>6.0f}%")  # fmt: skip
    report = {"matmul_peak_gflops": peak, "rows": rows, "versions": package_versions(), "device": device_info(),
              "cpu_count": os.cpu_count()}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

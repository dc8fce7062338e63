"""The hot kernels of `reproduce` with XLA's scalar sin (`jnp.sin`, the route before) and the vectorised one
(`inrdict.models.sine`, the route now), side by side in one process, as GFLOP/s and a share of this machine's
float32 matmul peak (measured in the same run, 4096³).

    python benchmarks/sine.py [--repeats 3] [--json benchmarks/cpu_2core/sine.json]

Rows: the elementwise functions (ns per element, 8.4 M float32); a MAML, first-order MAML and Reptile outer step
(SIREN 2 → 256 ×4 → 1, 3 tasks, 2 inner SGD steps, 32², `inrdict.train.meta.meta_step`; FLOPs as
`benchmarks/meta.py`: 7k + 3, 3k + 3 and 3k + 1 forward-equivalents of 2 N P for k inner steps); fine-tuning
35 faces × 10 Adam steps at 32² (`inrdict.train.finetune`; FLOPs as `benchmarks/finetune.py`). SIREN's sines are not
counted as FLOPs, so the share of peak is that of the matrix products. The compiled programs are cleared between
routes (the switch is read when a program is traced).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from _common import best_seconds, matmul_gflops

from inrdict.experiments._run import device_info, package_versions
from inrdict.io.data import ntk_grid
from inrdict.models import Siren, count_parameters, sine
from inrdict.train.finetune import finetune, split_mask
from inrdict.train.fit import init_state
from inrdict.train.meta import InnerLoop, meta_step

FORWARD_EQUIVALENTS = {"maml": lambda k: 7 * k + 3, "fomaml": lambda k: 3 * k + 3, "reptile": lambda k: 3 * k + 1}
VECTORISED = sine._fast


def use(route: str) -> None:
    """Switch `inrdict.models.sine` to XLA's scalar sin ("jnp.sin") or back ("vectorised")."""
    sine._fast = VECTORISED if route == "vectorised" else (lambda x: False)
    jax.clear_caches()


def rows_of_route(route: str, repeats: int, peak: float) -> list[dict]:
    use(route)
    rows = []
    x = jax.random.normal(jax.random.key(0), (32, 512, 512)) * 30
    for name, fn in (("sin", sine.sin), ("cos", sine.cos)):
        seconds = best_seconds(lambda fn=fn: jax.jit(fn)(x), repeats)
        rows.append({"kernel": f"elementwise {name}", "route": route, "ns_per_element": seconds / x.size * 1e9})
    model = Siren(key=jax.random.key(0))
    weights = sum(layer.in_features * layer.out_features for layer in model.layers)
    optimizer = optax.adam(1e-5)
    state, frozen = init_state(model, optimizer)
    coords = jnp.asarray(ntk_grid(32))
    targets = jax.random.uniform(jax.random.key(1), (3, 32 * 32, 1))
    for method in ("maml", "fomaml", "reptile"):
        seconds = best_seconds(
            lambda m=method: meta_step(state, frozen, coords, targets, jax.random.key(0), optimizer, m, InnerLoop(2, 0.01)),
            repeats,
        )
        flops = 2 * 32 * 32 * weights * 3 * FORWARD_EQUIVALENTS[method](2)
        rows.append({"kernel": f"{method} outer step, 3 tasks, 32²", "route": route, "seconds": seconds,
                     "gflops": flops / seconds / 1e9, "fraction_of_matmul_peak": flops / seconds / 1e9 / peak})  # fmt: skip
    images = np.asarray(jax.random.uniform(jax.random.key(1), (35, 32 * 32)), np.float32)
    mask = split_mask(32 * 32, key=jax.random.key(0))
    grid = ntk_grid(32)
    seconds = best_seconds(lambda: finetune(model, grid, images, mask, iterations=10).test_psnr_db, repeats)
    n_train = int(mask.sum())
    flops = 35 * 10 * (6 * n_train + 2 * (32 * 32 - n_train)) * count_parameters(model)
    rows.append({"kernel": "fine-tuning 35 faces × 10 Adam steps, 32²", "route": route, "seconds": seconds,
                 "gflops": flops / seconds / 1e9, "fraction_of_matmul_peak": flops / seconds / 1e9 / peak})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/cpu_2core/sine.json"))
    args = parser.parse_args()
    peak = matmul_gflops(4096, 4096, 4096)
    print(f"matmul peak float32: {peak:.0f} GFLOP/s (4096³), {os.cpu_count()} cores")
    before, after = rows_of_route("jnp.sin", args.repeats, peak), rows_of_route("vectorised", args.repeats, peak)
    print(f"{'kernel':<44} {'jnp.sin':>10} {'vectorised':>11} {'speed-up':>9} {'% peak now':>11}")
    for old, new in zip(before, after, strict=True):
        key = "ns_per_element" if "ns_per_element" in new else "seconds"
        unit = " ns" if key == "ns_per_element" else " s"
        new["speedup"] = old[key] / new[key]
        share = f"{100 * new['fraction_of_matmul_peak']:.0f} %" if "fraction_of_matmul_peak" in new else ""
        print(f"{new['kernel']:<44} {old[key]:>8.3f}{unit} {new[key]:>8.3f}{unit} {new['speedup']:>8.2f}x {share:>11}")
    report = {"matmul_peak_gflops": peak, "rows": before + after, "versions": package_versions(),
              "device": device_info(), "cpu_count": os.cpu_count(),
              "command": "python benchmarks/sine.py"}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

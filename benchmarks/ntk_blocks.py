"""Schedules of the structured NTK's upper-triangle blocks, side by side in one process.

    python benchmarks/ntk_blocks.py [--model siren|relu] [--repeats 5] [--json benchmarks/cpu_2core/ntk_blocks.json]

Every variant computes the same (pairs, b, b) blocks of sum_l (D_l D_lᵀ) ⊙ (A_l A_lᵀ + 1) from the same layer
features (`inrdict.ntk.kernel._padded_features`, 4096 points of the 64 × 64 `ntk_grid`, b = 512, float32) and is
checked against the library's (`kernel_blocks`, `lax.map` over the pairs):

- `lax.map` (the library), and `lax.map` with `batch_size=4` (four pairs vmapped per step);
- `unrolled`: the 36 pairs written out in one program;
- `batched einsum`: each layer's products for all pairs as one batched contraction;
- `ones column`: A extended by a column of ones, so that A Aᵀ + 1 is one product;
- `256-wide dots only`: the hidden layers' two products per pair and nothing else, a lower bound on the time of
  the arithmetic the blocks cannot avoid (not a kernel);
- a bare (b, 256) @ (256, b) matmul's rate, the shape of those products, and the 4096³ peak.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _common import best_seconds, matmul_gflops
from ntk import make_model, structured_flops

from inrdict.experiments._run import device_info, package_versions
from inrdict.io.data import ntk_grid
from inrdict.ntk import kernel as ntk_kernel


def _pair_block(features, i, j, ones_column=False):
    block = 0.0
    for a, d in features:
        gram = a[i] @ a[j].T if ones_column else a[i] @ a[j].T + 1.0
        block = block + (d[i] @ d[j].T) * gram
    return block


@jax.jit
def lax_map_batched(features, rows, cols):
    return jax.lax.map(lambda p: _pair_block(features, *p), (rows, cols), batch_size=4)


@jax.jit
def unrolled(features, rows, cols):
    return jnp.stack([_pair_block(features, rows[p], cols[p]) for p in range(rows.shape[0])])


@jax.jit
def batched_einsum(features, rows, cols):
    block = 0.0
    for a, d in features:
        dd = jnp.einsum("pik,pjk->pij", d[rows], d[cols])
        block = block + dd * (jnp.einsum("pik,pjk->pij", a[rows], a[cols]) + 1.0)
    return block


@jax.jit
def ones_column(features, rows, cols):
    extended = [(jnp.concatenate([a, jnp.ones((*a.shape[:-1], 1), a.dtype)], -1), d) for a, d in features]
    return jax.lax.map(lambda p: _pair_block(extended, *p, ones_column=True), (rows, cols))


@jax.jit
def wide_dots_only(features, rows, cols):
    wide = [(a, d) for a, d in features if a.shape[-1] > 8 and d.shape[-1] > 8]

    def one(pair):
        i, j = pair
        return sum((d[i] @ d[j].T) + (a[i] @ a[j].T) for a, d in wide)

    return jax.lax.map(one, (rows, cols))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("siren", "relu"), default="siren")
    parser.add_argument("--repeats", type=int, default=10, help="rounds (each times every variant once)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    model, block_size = make_model(args.model), 512
    points = jnp.asarray(ntk_grid(64), jnp.float32)
    features = ntk_kernel._padded_features(model, points, block_size)
    n_blocks = features[0][0].shape[0]
    rows, cols = (jnp.asarray(x) for x in ntk_kernel._upper_blocks(n_blocks))
    reference = np.asarray(ntk_kernel.kernel_blocks(features)[0])
    performed = structured_flops(model, points.shape[0], block_size)[1]
    wide_flops = sum(
        2 * rows.size * block_size**2 * (a.shape[-1] + d.shape[-1])
        for a, d in features
        if a.shape[-1] > 8 and d.shape[-1] > 8
    )
    variants = {
        "lax.map (the library)": lambda f, r, c: ntk_kernel.kernel_blocks(f)[0],
        "lax.map, batch_size=4": lax_map_batched,
        "unrolled": unrolled,
        "batched einsum": batched_einsum,
        "ones column": ones_column,
    }
    a_bare = jax.random.normal(jax.random.key(0), (block_size, 256), jnp.float32)
    b_bare = jax.random.normal(jax.random.key(1), (256, block_size), jnp.float32)
    bare_matmul = jax.jit(jnp.matmul)
    timed = {**variants, "256-wide dots only": wide_dots_only}
    errors = {}
    for name, fn in variants.items():  # also compiles
        out = np.asarray(fn(features, rows, cols))
        errors[name] = float(np.abs(out - reference).max() / np.abs(reference).max())
    jax.block_until_ready((wide_dots_only(features, rows, cols), bare_matmul(a_bare, b_bare)))
    # Round robin: every round times each variant once, so a slow moment of this noisy machine hits all of them.
    best = dict.fromkeys([*timed, "bare"], float("inf"))
    for _ in range(args.repeats):
        for name, fn in timed.items():
            best[name] = min(best[name], best_seconds(lambda fn=fn: fn(features, rows, cols), 1))
        best["bare"] = min(best["bare"], best_seconds(lambda: bare_matmul(a_bare, b_bare), 20))
    rows_out = [{"variant": name, "seconds": best[name], "gflops": performed / best[name] / 1e9,
                 "ratio_vs_library": best[name] / best["lax.map (the library)"], "max_rel_error": errors[name]}
                for name in variants]  # fmt: skip
    print(f"{args.model}, {points.shape[0]} points, {rows.size} blocks of {block_size}: {performed / 1e9:.1f} GFLOP")
    print(f"{'variant':<26} {'s':>7} {'GFLOP/s':>8} {'vs library':>10} {'max rel err':>11}")
    for row in rows_out:
        print(f"{row['variant']:<26} {row['seconds']:>7.3f} {row['gflops']:>8.1f} {row['ratio_vs_library']:>9.2f}x "
              f"{row['max_rel_error']:>11.1e}")  # fmt: skip
    wide_seconds = best["256-wide dots only"]
    bare = 2 * block_size * 256 * block_size / best["bare"] / 1e9
    peak = matmul_gflops(4096, 4096, 4096)
    print(f"256-wide dots only: {wide_seconds:.3f} s ({wide_flops / wide_seconds / 1e9:.1f} GFLOP/s); bare "
          f"{block_size}×256×{block_size} matmul {bare:.1f} GFLOP/s; 4096³ peak {peak:.1f} GFLOP/s")  # fmt: skip
    if args.json:
        report = {"model": args.model, "points": int(points.shape[0]), "block_size": block_size,
                  "gflop_performed": performed / 1e9, "variants": rows_out,
                  "wide_dots_only": {"seconds": wide_seconds, "gflops": wide_flops / wide_seconds / 1e9},
                  "bare_block_matmul_gflops": bare, "matmul_peak_gflops": peak,
                  "versions": package_versions(), "device": device_info(), "argv": sys.argv[1:]}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

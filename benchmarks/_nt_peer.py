"""neural-tangents peer for benchmarks/ntk.py: runs INSIDE a separate venv (neural-tangents pins an old JAX).

    benchmarks/.nt-venv/bin/python benchmarks/_nt_peer.py --weights W.npz --impl 1 [--reference K.npy]

Create the venv once (the main venv's JAX is too new for neural-tangents):

    python -m venv benchmarks/.nt-venv
    benchmarks/.nt-venv/bin/pip install "neural-tangents==0.6.5" "jax[cpu]==0.4.38"

The .npz (written by benchmarks/ntk.py) holds the SAME weights as the inrdict model, transposed to the
(in, out) convention (W0, b0, W1, b1, ...), the points, the model kind ("siren" or "relu"), the SIREN omegas and
the output offset. The network is rebuilt here in plain JAX:

    SIREN: z = sin(30 (z @ W_l + b_l)) for hidden layers, f = z @ W_L + b_L + 0.5
    ReLU:  z = relu(z @ W_l + b_l),                       f = z @ W_L + b_L

and `neural_tangents.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0, implementation=impl)` is timed on all the
points: compile (`jax.jit(...).lower(...).compile()`) separately from run (best of --repeats). With --block B the
kernel is computed as row blocks K[i:i+B, :] by one compiled function (for the implementations whose full-size
intermediates would not fit in memory). Prints one JSON object as its last stdout line: seconds, peak RSS (VmHWM) of
this process, and the relative Frobenius error against --reference (the inrdict structured kernel).

neural-tangents 0.6.5 reads two names that JAX 0.4.38 no longer re-exports from `jax.interpreters.ad`
(`source_info_util`, `config`; used only by STRUCTURED_DERIVATIVES); they are put back from `jax._src` below.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from importlib import metadata

warnings.filterwarnings("ignore")

import jax
import jax.numpy as jnp
import numpy as np
from jax.interpreters import ad

_SHIMS = []
if not hasattr(ad, "source_info_util"):
    from jax._src import source_info_util

    ad.source_info_util = source_info_util
    _SHIMS.append("jax.interpreters.ad.source_info_util")
if not hasattr(ad, "config"):
    from jax._src import config as _config

    ad.config = getattr(_config, "config", _config)
    _SHIMS.append("jax.interpreters.ad.config")

import neural_tangents as nt
from _common import rss_bytes

IMPLEMENTATIONS = {1: "JACOBIAN_CONTRACTION", 2: "NTK_VECTOR_PRODUCTS", 3: "STRUCTURED_DERIVATIVES"}


def build(weights):
    kind = str(weights["kind"])
    n_layers = int(weights["n_layers"])
    params = [(jnp.asarray(weights[f"W{i}"]), jnp.asarray(weights[f"b{i}"])) for i in range(n_layers)]
    omegas = [float(w) for w in weights["omegas"]]
    offset = float(weights["offset"])

    def f(params, x):  # x: (n, d) -> (n, 1)
        z = x
        for index, (w, b) in enumerate(params[:-1]):
            u = z @ w + b
            z = jnp.sin(omegas[index] * u) if kind == "siren" else jax.nn.relu(u)
        w, b = params[-1]
        return z @ w + b + offset

    return f, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--impl", type=int, choices=sorted(IMPLEMENTATIONS), required=True)
    parser.add_argument("--reference", help=".npy kernel to compare against (inrdict structured)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--block", type=int, default=0, help="rows per block (0: the whole kernel at once)")
    args = parser.parse_args()

    weights = np.load(args.weights)
    f, params = build(weights)
    points = jnp.asarray(weights["points"], jnp.float32)
    n = points.shape[0]
    idle_rss = rss_bytes()
    kernel_fn = nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0, implementation=args.impl)
    block = args.block if 0 < args.block < n else n
    if n % block:
        raise SystemExit(f"--block {block} must divide the {n} points")

    start = time.perf_counter()
    if block == n:
        compiled = jax.jit(lambda x, p: kernel_fn(x, None, p)).lower(points, params).compile()
        run = lambda: compiled(points, params).reshape(n, n)
    else:
        compiled = jax.jit(lambda x1, x2, p: kernel_fn(x1, x2, p)).lower(points[:block], points, params).compile()

        def run():
            return jnp.concatenate(
                [compiled(points[i : i + block], points, params).reshape(block, n) for i in range(0, n, block)]
            )

    compile_seconds = time.perf_counter() - start
    times = []
    for _ in range(max(1, args.repeats)):
        start = time.perf_counter()
        kernel = jax.block_until_ready(run())
        times.append(time.perf_counter() - start)
    kernel = np.asarray(kernel)
    result = {
        "impl": args.impl,
        "implementation": IMPLEMENTATIONS[args.impl],
        "kind": str(weights["kind"]),
        "points": int(n),
        "block": int(block),
        "compile_seconds": compile_seconds,
        "seconds": min(times),
        "all_seconds": times,
        "idle_rss_bytes": idle_rss,
        "peak_rss_bytes": rss_bytes(),
        "finite": bool(np.isfinite(kernel).all()),
        "symmetry_error": float(np.linalg.norm(kernel - kernel.T) / np.linalg.norm(kernel)),
        "versions": {
            "jax": jax.__version__,
            "neural_tangents": metadata.version("neural-tangents"),
            "python": sys.version.split()[0],
        },
        "shims": _SHIMS,
    }
    if args.reference:
        reference = np.load(args.reference).astype(np.float64)
        result["rel_error_vs_reference"] = float(np.linalg.norm(kernel - reference) / np.linalg.norm(reference))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

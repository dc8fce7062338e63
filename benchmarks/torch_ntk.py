"""The NTK of a PyTorch SIREN three ways: inrdict's torch.func route, the same weights imported into inrdict's
structured NTK, and the torch.func tutorial's NTK-vector-product recipe.

    .venv-torch/bin/python benchmarks/torch_ntk.py [--grid 64] [--json benchmarks/results/torch_ntk.json]
        [--torchax-python PATH]     # also try the torchax bridge in another environment (see below)

Network: a PyTorch SIREN 2 → 256 ×4 → 1 (vsitzmann/siren's `SineLayer`, ω0 = 30; 198,401 parameters), float32, on
`ntk_grid(grid)` (N = grid² points). Rows, all in this one process, one after another:

* ``torch.func products`` — `inrdict.pytorch.ntk.TorchNTKOperator` (vjp over blocks of points, vmapped over the
  columns, then vmapped jvp): one product Θ V with 8 columns (best of 3), and the top 64 eigenpairs with inrdict's
  block Krylov solver (`top_eigenpairs_of`, tol 1e-4 λ₀);
* ``torch.func Jacobian Gram`` — `inrdict.pytorch.ntk.empirical_ntk` (per-point gradients, J Jᵀ) + `eigh`:
  the dense route `analyse` takes up to 64²;
* ``imported, structured`` — the state dict read by `inrdict.io.reference_weights` into inrdict's `Siren`
  (no PyTorch), then `NTKOperator` (matrix-free) and `top_eigenpairs` (default: the stored triangle at 64²);
* ``tutorial NTK-vps`` — the recipe of PyTorch's torch.func NTK tutorial (`empirical_ntk_ntk_vps`: a vjp and a jvp
  per pair of points, vmapped over all pairs, a basis vector per output). It materialises a parameter vector per
  pair (N² P values: 13 TB at 64²), so it runs at N = 32 and 48 points here and its 64² time is extrapolated
  from the measured time per pair (quadratic in N); the 64² kernel then gives Θ V and the top 64 (`eigh`).
* ``torchax`` (with ``--torchax-python``): torchax turns the module into a JAX function; inrdict's generic
  `NTKOperator` (jax.vjp, jax.jvp) then gives Θ V. Run in the other environment's Python, since torchax 0.0.13 does
  not import with PyTorch 2.14 (recorded as such when it fails).

"ratio" is the row's time over the torch.func products row's (K·V; top-64). Machines are noisy: compare within one
run. Results: a table on stdout and JSON (every number, versions, device).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jvp, vjp, vmap

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inrdict.experiments._run import device_info, package_versions  # noqa: E402
from inrdict.io.data import ntk_grid  # noqa: E402
from inrdict.io.reference_weights import model_from_state_dict  # noqa: E402
from inrdict.ntk import NTKOperator, SolverOptions, eigh_descending, top_eigenpairs, top_eigenpairs_of  # noqa: E402
from inrdict.pytorch.model import TorchINR  # noqa: E402
from inrdict.pytorch.ntk import TorchNTKOperator  # noqa: E402
from inrdict.pytorch.ntk import empirical_ntk as torch_gram  # noqa: E402
from tests.pytorch.torch_inrs import siren_paper  # noqa: E402

K, COLUMNS, TOL = 64, 8, 1e-4


def best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def tutorial_ntk(net: nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """The tutorial's `empirical_ntk_ntk_vps` (compute='full') for a single-output network: (N1, N2)."""
    params = {k: v.detach() for k, v in net.named_parameters()}

    def fnet_single(p, x):
        return functional_call(net, p, (x.unsqueeze(0),)).squeeze(0)

    def get_ntk(a, b):
        output, vjp_fn = vjp(lambda p: fnet_single(p, a), params)

        def get_ntk_slice(vec):
            vjps = vjp_fn(vec)
            _, jvps = jvp(lambda p: fnet_single(p, b), (params,), vjps)
            return jvps

        basis = torch.eye(output.numel(), dtype=output.dtype).view(output.numel(), -1)
        return vmap(get_ntk_slice)(basis)

    result = vmap(vmap(get_ntk, (None, 0)), (0, None))(x1, x2)
    return result.reshape(x1.shape[0], x2.shape[0])


def torchax_row(python: str, grid: int) -> dict:
    """K·V through torchax + inrdict's generic operator, in another environment (a child process)."""
    code = f"""
import json, time, sys
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'src')!r})
import numpy as np, torch, jax, jax.numpy as jnp, torchax, equinox as eqx
from tests.pytorch.torch_inrs import siren_paper
from inrdict.io.data import ntk_grid
from inrdict.ntk import NTKOperator
torch.manual_seed(0)
weights, f = torchax.extract_jax(siren_paper())
class Bridged(eqx.Module):
    weights: dict
    def __call__(self, r):
        return f(self.weights, (r[None, :],))[0]
model = Bridged({{k: jnp.asarray(v) for k, v in weights.items()}})
operator = NTKOperator(model, ntk_grid({grid}), method="generic")
v = np.random.default_rng(0).standard_normal(({grid}**2, {COLUMNS})).astype(np.float32)
operator.matmat(v)
times = []
for _ in range(3):
    start = time.perf_counter(); operator.matmat(v); times.append(time.perf_counter() - start)
print(json.dumps({{"kv_seconds": min(times), "torch": torch.__version__, "jax": jax.__version__}}))
"""
    run = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=1800)
    if run.returncode != 0:
        return {"error": (run.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=64)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "torch_ntk.json")
    parser.add_argument("--torchax-python", default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    module = siren_paper()
    inr = TorchINR(module)
    points = ntk_grid(args.grid)
    n = len(points)
    v = np.random.default_rng(0).standard_normal((n, COLUMNS)).astype(np.float32)
    rows = {}

    operator = TorchNTKOperator(inr, points)
    operator.matmat(v)
    kv = best(lambda: operator.matmat(v))
    start = time.perf_counter()
    top = top_eigenpairs_of(TorchNTKOperator(inr, points), K, SolverOptions(tol=TOL))
    rows["torch.func products"] = {"kv_seconds": kv, "top64_seconds": time.perf_counter() - start,
                                   "products": top.matvecs, "converged": top.converged,
                                   "max_residual": float(top.residuals.max())}  # fmt: skip
    reference = top.eigvals

    start = time.perf_counter()
    kernel = torch_gram(inr, points)
    gram_seconds = time.perf_counter() - start
    start = time.perf_counter()
    eigvals, _ = eigh_descending(kernel)
    rows["torch.func Jacobian Gram + eigh"] = {"kernel_seconds": gram_seconds, "eigh_seconds": time.perf_counter() - start,
                                               "top64_seconds": gram_seconds + time.perf_counter() - start,
                                               "max_eigenvalue_difference": float(np.abs(eigvals[:K] - reference).max() / reference[0])}  # fmt: skip
    del kernel

    state = {k: t.detach().numpy() for k, t in module.state_dict().items()}
    siren = model_from_state_dict(state, "siren")
    structured = NTKOperator(siren, points)
    structured.matmat(v)
    kv = best(lambda: structured.matmat(v))
    for name, store in (("imported, structured (matrix-free)", False), ("imported, structured (default)", None)):
        top_eigenpairs(siren, points[:512], 8, SolverOptions(store_kernel=store))  # compile
        start = time.perf_counter()
        result = top_eigenpairs(siren, points, K, SolverOptions(tol=TOL, store_kernel=store))
        rows[name] = {"kv_seconds": kv, "top64_seconds": time.perf_counter() - start, "products": result.matvecs,
                      "stored_kernel": result.stored_kernel, "converged": result.converged,
                      "max_eigenvalue_difference": float(np.abs(result.eigvals - reference).max() / reference[0])}  # fmt: skip

    per_pair = []
    for m in (32, 48):
        x = torch.from_numpy(points[np.linspace(0, n - 1, m).astype(int)])
        tutorial_ntk(module, x[:4], x[:4])
        seconds = best(lambda x=x: tutorial_ntk(module, x, x), repeats=2)
        per_pair.append({"points": m, "seconds": seconds, "seconds_per_pair": seconds / m**2})
    rate = min(p["seconds_per_pair"] for p in per_pair)
    rows["tutorial NTK-vps (extrapolated)"] = {"measured": per_pair, "kv_seconds": rate * n * n,
                                               "top64_seconds": rate * n * n,
                                               "memory_bytes_as_written": n * n * inr.n_parameters * 4}  # fmt: skip
    if args.torchax_python:
        rows["torchax + inrdict generic operator"] = torchax_row(args.torchax_python, args.grid)
    else:
        try:
            import torchax  # noqa: F401

            rows["torchax + inrdict generic operator"] = {"error": "not measured: pass --torchax-python"}
        except Exception as error:  # noqa: BLE001 (recorded: why the bridge is not an option here)
            rows["torchax + inrdict generic operator"] = {"error": f"{type(error).__name__}: {error}"[:300]}

    base = rows["torch.func products"]
    print(f"PyTorch SIREN 2 → 256 ×4 → 1 ({inr.n_parameters:,} parameters), float32, {args.grid}² = {n} points; "
          f"Θ V with {COLUMNS} columns; top {K} eigenpairs (tol {TOL:g} λ₀); torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print(f"{'route':40s} {'K·V s':>9s} {'ratio':>7s} {'top-64 s':>10s} {'ratio':>7s}  note")
    for name, row in rows.items():
        if "error" in row:
            print(f"{name:40s} {'-':>9s} {'':>7s} {'-':>10s} {'':>7s}  {row['error']}")
            continue
        kv, topk = row.get("kv_seconds", math.nan), row.get("top64_seconds", math.nan)
        note = ("extrapolated from N = 32, 48" if "measured" in row else
                f"{row['products']} products" if "products" in row else
                f"K·V only (torch {row['torch']}, its own environment)" if "torch" in row else "dense kernel + eigh")  # fmt: skip
        print(f"{name:40s} {kv:9.3f} {kv / base['kv_seconds']:7.2f} {topk:10.2f} "
              f"{topk / base['top64_seconds']:7.2f}  {note}")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"grid": args.grid, "points": n, "parameters": inr.n_parameters, "columns": COLUMNS,
                                     "k": K, "tol": TOL, "rows": rows, "versions": package_versions() | {"torch": torch.__version__},
                                     "device": device_info()}, indent=2, default=float))  # fmt: skip
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""The empirical NTK of a PyTorch INR, computed by PyTorch (`torch.func`).

Θ[i, j] = <∂f(r_i)/∂θ, ∂f(r_j)/∂θ> over the trained real parameters θ (a complex parameter's real and imaginary
parts are two real ones; SPEC §4). Two routes, cross-checked by `parity_certificate`:

* **products** (`TorchNTKOperator`): Θ V = J (Jᵀ V) for V (N, m) — a `vjp` of f over a block of points, `vmap`-ed
  over the m columns, gives Jᵀ V (m parameter vectors, summed over blocks); a `jvp` along each of them, `vmap`-ed,
  gives J (Jᵀ V). Cost ≈ 3 forward passes per column; memory one block's activations times m. It is what
  `inrdict.ntk.top_eigenpairs_of` needs, so the top k of a 256² grid never forms the kernel.
* **Jacobian Gram** (`empirical_ntk`): per-point gradients J_b (b, P) of blocks of points (`vmap(grad)`), and
  Θ = J Jᵀ block by block (2 N² P flops): the dense kernel for `eigh` on grids up to 64².

`parity_certificate` computes Θ on 64 points by both routes in float64 against an oracle J Jᵀ with J from one
`torch.func.jacrev` of f over all 64 points, and reports the largest relative differences.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.func import grad, jacrev, jvp, vjp, vmap

from inrdict._memory import require_memory
from inrdict.errors import InrdictError
from inrdict.ntk.protocol import LinearOperatorMixin
from inrdict.pytorch.model import TorchINR, torch_dtype

CERTIFICATE_POINTS = 64


def _points(points, dtype: torch.dtype, in_features: int) -> torch.Tensor:
    points = np.asarray(points)
    points = points[:, None] if points.ndim == 1 else points
    if points.shape[1] != in_features:
        raise InrdictError(f"the model takes {in_features} input features, the points have {points.shape[1]}")
    return torch.from_numpy(np.ascontiguousarray(points)).to(dtype)


class TorchNTKOperator(LinearOperatorMixin):
    """Θ of a PyTorch INR on N points as a linear operator: `matmat(V)` = Θ V without forming Θ (an
    `inrdict.ntk.KernelOperator`, so `inrdict.ntk.top_eigenpairs_of` runs on it; `matvec`, `dense` and the SciPy
    view come from `LinearOperatorMixin`).

    Args:
        model: a `TorchINR`.
        points: (N, d) inputs.
        dtype: float32 or float64.
        block_size: points per vjp/jvp block (results do not depend on it).
        max_columns: columns of V per vmapped product (bounds the activations kept: block × columns × width).
        max_bytes: refuse when the estimated memory exceeds this (default: 80 % of memory).
        extra_bytes: memory the caller needs besides the operator (e.g. a Krylov basis).
    """

    method = "torch.func"
    n_devices = 1
    stored = False

    def __init__(self, model: TorchINR, points, *, dtype=np.float32, block_size: int = 512, max_columns: int = 16,
                 max_bytes: int | None = None, extra_bytes: int = 0):  # fmt: skip
        self.model = model
        self._torch_dtype = torch_dtype(dtype)
        self.dtype = np.dtype(np.float32 if self._torch_dtype == torch.float32 else np.float64)
        self._points = _points(points, self._torch_dtype, model.in_features)
        n = self._points.shape[0]
        self.shape = (n, n)
        self.block_size = max(1, min(int(block_size), n))
        self.max_columns = max(1, int(max_columns))
        self.products = 0
        self.n_parameters = model.n_parameters
        self._params = model.parameters(self._torch_dtype)
        self._f = model.function(self._torch_dtype)
        require_memory(self.memory_bytes() + int(extra_bytes), f"the PyTorch NTK operator of {n} points",
                       "use fewer points or a smaller k", limit_bytes=max_bytes)  # fmt: skip

    def memory_bytes(self) -> int:
        """Rough peak: m parameter vectors (Jᵀ V) twice, one block's activations per column (a guess: 8 layers of
        512), V and Θ V."""
        item = self.dtype.itemsize
        grads = 2 * self.n_parameters * self.max_columns * item
        activations = 8 * 512 * self.block_size * self.max_columns * item
        return grads + activations + 4 * self.shape[0] * self.max_columns * item

    def store(self, **_) -> None:
        raise InrdictError("the PyTorch NTK operator is matrix-free only")

    def _blocks(self):
        for start in range(0, self.shape[0], self.block_size):
            yield slice(start, start + self.block_size), self._points[start : start + self.block_size]

    def _product(self, v: torch.Tensor) -> torch.Tensor:
        """Θ V for V (N, m) as a tensor."""
        params, f = self._params, self._f
        transposed = None  # Jᵀ V: {name: (m, *shape)}
        for rows, x in self._blocks():
            _, pullback = vjp(lambda p, x=x: f(p, x), params)
            (block,) = vmap(pullback)(v[rows].T.contiguous())
            transposed = block if transposed is None else {n: transposed[n] + block[n] for n in block}
        out = torch.empty_like(v)
        for rows, x in self._blocks():
            out[rows] = vmap(lambda t, x=x: jvp(lambda p: f(p, x), (params,), (t,))[1])(transposed).T
        return out

    def matmat(self, vectors) -> np.ndarray:
        """Θ V for V (N, m): NumPy (N, m) of the operator's dtype; columns run in chunks of `max_columns`."""
        vectors = np.asarray(vectors, self.dtype)
        if vectors.ndim != 2 or vectors.shape[0] != self.shape[0]:
            raise InrdictError(f"matmat needs an array of shape ({self.shape[0]}, m), got {vectors.shape}")
        out = np.empty_like(vectors)
        with torch.no_grad():
            for start in range(0, vectors.shape[1], self.max_columns):
                chunk = torch.from_numpy(np.ascontiguousarray(vectors[:, start : start + self.max_columns]))
                out[:, start : start + chunk.shape[1]] = self._product(chunk).numpy()
        self.products += vectors.shape[1]
        return out


def _jacobian_rows(model: TorchINR, params, f, x: torch.Tensor) -> torch.Tensor:
    """(b, P) per-point gradients of f at the points x (b, d), parameters flattened in `model.names` order."""
    rows = vmap(grad(lambda p, xi: f(p, xi[None])[0]), in_dims=(None, 0))(params, x)
    return torch.cat([rows[n].reshape(x.shape[0], -1) for n in model.names], dim=1)


def empirical_ntk(model: TorchINR, points, *, dtype=np.float32, max_block_bytes: int = 1 << 28,
                  reserve_bytes: int = 0) -> np.ndarray:  # fmt: skip
    """The dense empirical NTK Θ = J Jᵀ (N, N) of a PyTorch INR from per-point Jacobian blocks (NumPy, `dtype`).

    Blocks of b points (b · P values ≤ `max_block_bytes`) are differentiated once each; the Gram blocks J_i J_jᵀ
    (j ≥ i) fill the upper triangle and its mirror. Memory: the kernel, all Jacobian blocks when they fit in a
    quarter of the budget (else they are recomputed per pair), plus `reserve_bytes` (e.g. for `eigh`)."""
    dtype_t = torch_dtype(dtype)
    x = _points(points, dtype_t, model.in_features)
    n, item = x.shape[0], np.dtype(dtype).itemsize
    jacobian_bytes = n * model.n_parameters * item
    keep = jacobian_bytes <= (1 << 32)
    require_memory(n * n * item + (jacobian_bytes if keep else 2 * max_block_bytes) + reserve_bytes,
                   f"the dense PyTorch NTK of {n} points", "choose a smaller grid or a top-k route")  # fmt: skip
    params, f = model.parameters(dtype_t), model.function(dtype_t)
    block = max(1, min(n, max_block_bytes // max(1, model.n_parameters * item)))
    starts = list(range(0, n, block))
    cache: dict[int, torch.Tensor] = {}

    def rows(start: int) -> torch.Tensor:
        if start in cache:
            return cache[start]
        j = _jacobian_rows(model, params, f, x[start : start + block])
        if keep:
            cache[start] = j
        return j

    kernel = np.empty((n, n), np.dtype(dtype))
    with torch.no_grad():
        for i, a in enumerate(starts):
            ja = rows(a)
            for b in starts[i:]:
                gram = (ja @ rows(b).T).numpy()
                kernel[a : a + block, b : b + block] = gram
                kernel[b : b + block, a : a + block] = gram.T
    return kernel


def oracle_kernel(model: TorchINR, points) -> np.ndarray:
    """Θ = J Jᵀ in float64 with J from one `torch.func.jacrev` of f over all the points (the parity oracle)."""
    x = _points(points, torch.float64, model.in_features)
    params, f = model.parameters(torch.float64), model.function(torch.float64)
    jac = jacrev(lambda p: f(p, x))(params)
    flat = torch.cat([jac[n].reshape(x.shape[0], -1) for n in model.names], dim=1)
    return (flat @ flat.T).detach().numpy()


def parity_certificate(model: TorchINR, points, *, n_points: int = CERTIFICATE_POINTS) -> dict:
    """Θ on `n_points` of `points` (evenly spread indices) by the product route and the Jacobian-Gram route, in
    float64, against `oracle_kernel`: max |Θ_route − Θ_oracle| / max |Θ_oracle| for each (≤ 1e-10 expected)."""
    points = np.asarray(points)
    points = points[:, None] if points.ndim == 1 else points
    chosen = points[np.unique(np.linspace(0, len(points) - 1, min(n_points, len(points))).round().astype(int))]
    start = time.perf_counter()
    oracle = oracle_kernel(model, chosen)
    scale = float(np.abs(oracle).max())
    products = TorchNTKOperator(model, chosen, dtype=np.float64).dense()
    gram = empirical_ntk(model, chosen, dtype=np.float64)
    return {
        "points": len(chosen), "precision": "float64", "oracle": "torch.func.jacrev Jacobian, J Jᵀ",
        "products_max_relative_error": float(np.abs(products - oracle).max() / scale),
        "jacobian_gram_max_relative_error": float(np.abs(gram - oracle).max() / scale),
        "largest_entry": scale, "seconds": time.perf_counter() - start,
    }  # fmt: skip

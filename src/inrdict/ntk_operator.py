"""Matrix-free empirical NTK: products Θ V and the top-k eigenpairs without forming the N x N kernel.

The dense kernel (`inrdict.ntk.empirical_ntk`) is N x N: 17 GB in float32 at 256² grid points. Its eigenvectors of
largest eigenvalue need only products Θ V, and those have an exact form in the structured layer features.

**The product.** For a dense INR, `inrdict.ntk.layer_features` gives per layer l the inputs A_l (N, in_l) and the
output sensitivities D_l = df/du_l (N, out_l), and Θ = Σ_l (D_l D_lᵀ) ⊙ (A_l A_lᵀ + 1). For one vector v (N,),

    ((D Dᵀ) ⊙ (A Aᵀ)) v = rowdot(D, A Mᵀ)      with  M = Dᵀ diag(v) A   (out, in)   (the weight gradient),
    (D Dᵀ) v           = D (Dᵀ v)                                                     (the bias gradient),

i.e. Θ v = J (Jᵀ v): a VJP (the parameter gradient of Σ_i v_i f(r_i)) followed by a JVP. For a block V (N, m) the
m weight gradients of a layer come out of one matmul Dᵀ [v_1 ⊙ A, ..., v_m ⊙ A]: (out, N) @ (N, m·in), and the
second half is one matmul D [M_1, ..., M_m]: (N, out) @ (out, m·in) followed by a row-wise dot with A. Cost
4 N m Σ_l in_l out_l flops (4 N m P for P parameters), memory O(N Σ_l (in_l + out_l)) for the features plus
O(b m width) per block of b points: the points are processed in blocks with `lax.scan` / `lax.map`, the weight
gradients are accumulated over blocks (and `psum`-ed over devices). Models that are not `DenseINR`s (or whose layers
are frozen) use the generic form Θ V = J (Jᵀ V) with `jax.vjp` and `jax.jvp` on the model itself, vmapped over the m
columns, blocked the same way.

**Multi-device.** With several `jax.devices()` the points (and the features, and the rows of V) are split evenly
across them with `jax.shard_map`; each device accumulates its share of Jᵀ V, one `psum` adds them, and each
device applies J to its own rows.

**Stored triangle.** Forming the kernel costs about N² Σ_l (in_l + out_l) flops; a Krylov solve for k pairs
needs ~2.5 k products of 4 N P flops. For wide networks on grids up to ~150² points forming is the cheaper of the
two (SIREN 2→256×4→1: the triangle costs what 13 products cost at 64², 45 at 128², 170 at 256², and k = 64
needs ~160), so `top_eigenpairs` (`storing_pays`)
lets `NTKOperator.store()` keep the upper triangle, as block rows, when it takes ≤ `STORE_LIMIT_BYTES` (1 GiB)
and a quarter of free memory (0.04 GB at 64², 0.57 GB at 128²; 8.6 GB at 256², which stays matrix-free).
Products then read the triangle (memory-bound matmuls, 2 N² m flops). `store_kernel=False` keeps any solve
matrix-free.

**Eigenpairs.** `top_eigenpairs` offers three solvers over the operator, all stopping when every one of the k
residuals ‖Θ x_i − λ_i x_i‖ is ≤ tol · λ_0:

* ``"block"`` (default): block Krylov–Schur — block Lanczos with full reorthogonalisation (two classical
  Gram–Schmidt passes), a Rayleigh–Ritz step after every block, and thick restart onto the leading Ritz vectors when
  the basis is full. Residuals come from the stored products Θ Q (no extra products). Small blocks (default 8)
  keep the number of products close to single-vector Lanczos, while each block product still runs as matmuls of
  width m·in, near the matmul peak.
* ``"eigsh"``: SciPy's ARPACK (implicitly restarted Lanczos) over single-vector products (tol per ARPACK's
  convention, ‖r_i‖ ≤ tol·|λ_i|, which implies the bound above), plus one block product to report residuals.
* ``"lobpcg"``: SciPy's LOBPCG on a block of k + 16 vectors (run in float64, products in the operator's dtype),
  plus one block product for the residuals.

Measured with `benchmarks/ntk_topk.py`: SIREN 2→256×4→1 ("ntk" convention, ω0 = 30), float32, k = 64,
tol = 1e-4, in one run on the 2-core development machine (matmul peak ~310 GFLOP/s; wall times after
compilation, features and the stored triangle included; peak RSS):

    grid   default (stored, block)     block, matrix-free         eigsh, matrix-free     naive eigsh, 1-vector
    64²    0.57 s, 168 products        3.9 s, 168, 60 % of peak   7.2 s, 227 (163 + 64)  6.4 s, 163
    128²   5.7 s, 160, 1.8 GB          13.5 s, 160, 0.8 GB        23 s, 194 (130 + 64)   26 s, 163
    256²   (8.6 GB: matrix-free)       54 s, 160, 1.2 GB          -                      -

Block Krylov needs about as many products as ARPACK (~160 for k = 64), and a block of 8 runs at 1.6–1.7x the
per-vector rate of single products (159–172 vs 95–101 GFLOP/s), so the matrix-free ``"block"`` is 1.7–1.9x faster
than ``"eigsh"`` and than the naive route, and 11x faster than ``"lobpcg"`` (1824 products; run in float32 it did
not converge at all in our trials). Storing the triangle makes 64² 7x and 128² 2.4x faster again (11x / 4.5x
faster than the naive route). The dense routes: kernel + `eigsh` 1.0 s at 64², 18 s and 2.1 GB at 128²; kernel
+ full `eigh` 3.5 s at 64², 236 s and 4.7 GB at 128²; at 256² the kernel (17 GB) does not fit a laptop.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from inrdict._memory import available_memory_bytes, require_memory
from inrdict._typing import AnyArray, as_rows
from inrdict.errors import InrdictError
from inrdict.models import DenseINR, partition_trainable
from inrdict.ntk import kernel_blocks, layer_features, resolve_method

SOLVERS = ("block", "eigsh", "lobpcg")
OPERATOR_METHODS = ("auto", "structured", "generic")
_AXIS = "points"
# `top_eigenpairs` keeps the kernel's upper triangle when it takes at most this (and a quarter of free memory).
STORE_LIMIT_BYTES = 1 << 30


# ----------------------------------------------------------------------------------------------------- products


def _varying(tree, axis: str | None):
    """Under `shard_map`, mark a scan's zero initial carry as varying over the device axis (its output is)."""
    return tree if axis is None else jax.tree_util.tree_map(lambda x: jax.lax.pcast(x, (axis,), to="varying"), tree)


def _structured_local(features, vblocks: Array, axis: str | None) -> Array:
    """Θ V on this device's points from per-layer features.

    Args:
        features: per layer (A (nb, b, in), D (nb, b, out)); padding rows have D = 0. A rotated group
            (A, D, A', D') (see `inrdict.ntk.layer_features`) adds (D' Dᵀ) ⊙ (A' Aᵀ): row n of its product is
            d'_nᵀ M a'_n with the same weight gradient M = Dᵀ diag(v) A, so it costs no extra accumulation.
        vblocks: (nb, b, m) rows of V in the same blocks.
        axis: the `shard_map` axis to `psum` the weight gradients over, or None on one device.

    Returns:
        (nb, b, m): the rows of Θ V for these points.
    """
    block, m = vblocks.shape[1], vblocks.shape[2]
    dtype = vblocks.dtype

    def accumulate(carry, xs):
        feats, v = xs
        out = []
        for (grad_w, grad_b), (a, d, *_) in zip(carry, feats):
            scaled = (v[:, :, None] * a[:, None, :]).reshape(block, m * a.shape[-1])  # (b, m·in): v_j ⊙ a
            out.append((grad_w + d.T @ scaled, grad_b + d.T @ v))  # (out, m·in), (out, m)
        return out, None

    init = [
        (jnp.zeros((d.shape[-1], m * a.shape[-1]), dtype), jnp.zeros((d.shape[-1], m), dtype)) for a, d, *_ in features
    ]
    grads, _ = jax.lax.scan(accumulate, _varying(init, axis), (features, vblocks))  # Jᵀ V, layer by layer
    if axis is not None:
        grads = jax.lax.psum(grads, axis)

    def apply(feats):
        y = jnp.zeros((block, m), dtype)
        for (grad_w, grad_b), (a, d, *rotated) in zip(grads, feats):
            z = (d @ grad_w).reshape(block, m, a.shape[-1])  # (b, m, in): row n, column j is d_nᵀ M_j
            y = y + jnp.sum(z * a[:, None, :], axis=-1) + d @ grad_b  # (b, m)
            if rotated:
                a_rot, d_rot = rotated
                z_rot = (d_rot @ grad_w).reshape(block, m, a.shape[-1])  # (b, m, in): d'_nᵀ M_j
                y = y + jnp.sum(z_rot * a_rot[:, None, :], axis=-1)
        return y

    return jax.lax.map(apply, features)


def _generic_local(trainable, frozen_arrays, frozen_static, points: Array, mask: Array, vblocks: Array,
                   axis: str | None) -> Array:  # fmt: skip
    """Θ V = J (Jᵀ V) for any single-output model, on this device's points (shapes as `_structured_local`).

    points (nb, b, d), mask (nb, b) (0 on padding rows), vblocks (nb, b, m).
    """
    frozen = eqx.combine(frozen_arrays, frozen_static)
    # Per-device partial gradients, summed explicitly below. (Left invariant, the parameters' cotangent would be
    # psum-ed implicitly by `shard_map`'s transpose rule.)
    trainable = _varying(trainable, axis)

    def outputs(params, pts, msk):  # (b,)
        model = eqx.combine(params, frozen)
        return jax.vmap(lambda r: jnp.ravel(model(r))[0])(pts) * msk

    def accumulate(carry, xs):
        pts, msk, v = xs
        _, pullback = jax.vjp(lambda p: outputs(p, pts, msk), trainable)
        grads = jax.vmap(lambda c: pullback(c)[0])(v.T)  # parameters with a leading axis m
        return jax.tree_util.tree_map(jnp.add, carry, grads), None

    m = vblocks.shape[2]
    init = jax.tree_util.tree_map(lambda p: jnp.zeros((m, *p.shape), p.dtype), trainable)
    grads, _ = jax.lax.scan(accumulate, _varying(init, axis), (points, mask, vblocks))
    if axis is not None:
        grads = jax.lax.psum(grads, axis)

    def apply(xs):
        pts, msk = xs
        push = jax.vmap(lambda t: jax.jvp(lambda p: outputs(p, pts, msk), (trainable,), (t,))[1])
        return push(grads).T  # (b, m)

    return jax.lax.map(apply, (points, mask))


@functools.partial(jax.jit, static_argnums=1)
def _triangle_rows(blocks: Array, n_blocks: int) -> list[Array]:
    """Upper-triangle blocks (pairs, b, b) in row-major pair order → block rows R_i = [Θ_ii / 2, Θ_i,i+1, ...]
    of shape (b, (n_blocks − i) b), the diagonal block symmetrised and halved (`_stored_product` adds it twice)."""
    rows, start = [], 0
    for i in range(n_blocks):
        row_blocks = blocks[start : start + n_blocks - i]  # (n_blocks − i, b, b): blocks (i, i), (i, i + 1), ...
        diagonal = 0.25 * (row_blocks[0] + row_blocks[0].T)
        row_blocks = jnp.concatenate([diagonal[None], row_blocks[1:]])
        rows.append(jnp.transpose(row_blocks, (1, 0, 2)).reshape(row_blocks.shape[1], -1))
        start += n_blocks - i
    return rows


@jax.jit
def _stored_product(kernel_rows: list[Array], vectors: Array) -> Array:
    """Θ V (N, m) from the block rows R_i of the upper triangle (`_triangle_rows`): rows of block i get R_i V[i:],
    and rows from block i on get R_iᵀ V_i (as (V_iᵀ R_i)ᵀ: no transposed copy of R_i)."""
    block = kernel_rows[0].shape[0]
    direct, mirrored = [], jnp.zeros(vectors.shape[::-1], vectors.dtype)  # (m, N)
    for i, row in enumerate(kernel_rows):
        start = i * block
        direct.append(row @ vectors[start:])
        mirrored = mirrored.at[:, start:].add(vectors[start : start + block].T @ row)
    return jnp.concatenate(direct) + mirrored.T


@functools.lru_cache(maxsize=None)
def _mesh(n_devices: int):
    return jax.make_mesh((n_devices,), (_AXIS,))


def _spread(mesh) -> object:
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    return NamedSharding(mesh, P(_AXIS))


@functools.partial(jax.jit, static_argnames=("n_devices",))
def _structured_product(features, vblocks: Array, n_devices: int) -> Array:
    if n_devices == 1:
        return _structured_local(features, vblocks, None)
    from jax.sharding import PartitionSpec as P

    local = functools.partial(_structured_local, axis=_AXIS)
    return jax.shard_map(local, mesh=_mesh(n_devices), in_specs=(P(_AXIS), P(_AXIS)), out_specs=P(_AXIS))(
        features, vblocks
    )


@eqx.filter_jit
def _generic_product(trainable, frozen, points: Array, mask: Array, vblocks: Array, n_devices: int) -> Array:
    frozen_arrays, frozen_static = eqx.partition(frozen, eqx.is_array)
    if n_devices == 1:
        return _generic_local(trainable, frozen_arrays, frozen_static, points, mask, vblocks, None)
    from jax.sharding import PartitionSpec as P

    def local(params, fixed, pts, msk, v):
        return _generic_local(params, fixed, frozen_static, pts, msk, v, _AXIS)

    specs = (P(), P(), P(_AXIS), P(_AXIS), P(_AXIS))
    return jax.shard_map(local, mesh=_mesh(n_devices), in_specs=specs, out_specs=P(_AXIS))(
        trainable, frozen_arrays, points, mask, vblocks
    )


@eqx.filter_jit
def _features(model, points: Array, mask: Array, n_devices: int):
    """Per layer (A, D) for points in blocks (nb, b, d); padding rows (mask 0) get D = 0."""
    model_arrays, model_static = eqx.partition(model, eqx.is_array)

    def local(arrays, pts, msk):
        model = eqx.combine(arrays, model_static)

        def one_block(xs):
            block_points, block_mask = xs
            return [tuple(x * block_mask[:, None] if index % 2 else x for index, x in enumerate(group))
                    for group in layer_features(model, block_points)]  # every D (and D') masked

        return jax.lax.map(one_block, (pts, msk))

    if n_devices == 1:
        return local(model_arrays, points, mask)
    from jax.sharding import PartitionSpec as P

    return jax.shard_map(local, mesh=_mesh(n_devices), in_specs=(P(), P(_AXIS), P(_AXIS)), out_specs=P(_AXIS))(
        model_arrays, points, mask
    )


# ----------------------------------------------------------------------------------------------------- operator


def _model_dtype(model) -> np.dtype:
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return np.dtype(leaves[0].dtype) if leaves else np.dtype(np.float32)


def _check_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype == np.float64 and not jax.config.read("jax_enable_x64"):
        raise InrdictError(
            "a float64 NTK operator needs JAX's x64 mode: run inside `with jax.enable_x64(True):` "
            "or set JAX_ENABLE_X64=1"
        )
    if dtype not in (np.float32, np.float64):
        raise InrdictError(f"the NTK operator works in float32 or float64, not {dtype}")
    return dtype


def _n_parameters(trainable) -> int:
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(trainable))


class NTKOperator:
    """The empirical NTK Θ (N x N, symmetric PSD) as a linear operator: `matmat(V)` = Θ V without forming Θ.

    Θ[i, j] = <df(r_i)/dθ, df(r_j)/dθ> over the trainable parameters (SPEC §4; an FFN's B is not one). Products
    are exact (same value as `empirical_ntk(...) @ V` up to rounding), cost 4 N m P flops for m vectors and P
    parameters, and need O(N Σ_l (in_l + out_l)) memory for the structured features (0.54 GB in float32 for the
    SIREN 2→256×4→1 at 256² points) plus O(block_size · m · width) per block of points.

    Attributes:
        shape: (N, N).
        dtype: float32 or float64 (NumPy dtype); products take and return arrays of this dtype.
        method: "structured" (layer features, `DenseINR`) or "generic" (`jax.vjp` then `jax.jvp`, any model).
        n_devices: devices the points are split across.
        block_size: points per block on each device.
        products: vector products performed so far (a block of m vectors counts m).
        feature_bytes: bytes held by the features (structured) or the padded points (generic).
        stored: whether `store()` has formed the kernel's upper triangle, which later products then use.

    Args:
        model: a single-output model: for "structured" a `DenseINR` (or a model with `structured_ntk_features`, see
            `inrdict.ntk.layer_features`), any Equinox module for "generic".
        points: (N, d) inputs (a 1-D array is taken as d = 1).
        dtype: float32 or float64 (default: the model's); float64 needs `jax.enable_x64(True)`.
        method: "structured", "generic", or "auto" (structured where it applies).
        block_size: points per block (default min(1024, points per device)); results do not depend on it.
        max_columns: a `matmat` with more columns runs in chunks of this many (bounds the working memory).
        max_bytes: refuse when the estimated memory exceeds this (default: 80 % of this machine's memory).
        extra_bytes: memory the caller needs besides the operator, included in the check (e.g. a Krylov basis).

    Raises:
        InrdictError: multi-output model, unknown method, float64 without x64, or not enough memory.
    """

    def __init__(
        self,
        model,
        points: Float[AnyArray, "n *d"],
        *,
        dtype=None,
        method: str = "auto",
        block_size: int | None = None,
        max_columns: int = 64,
        max_bytes: int | None = None,
        extra_bytes: int = 0,
    ):
        if method not in OPERATOR_METHODS:
            raise InrdictError(f"unknown NTK operator method {method!r}: choose auto, structured or generic")
        if isinstance(model, DenseINR) and model.out_features != 1:
            raise InrdictError(f"the NTK needs a single-output model, this one has {model.out_features} outputs")
        method = resolve_method(model, method, generic="generic", what="structured NTK operator")
        points = as_rows(np.asarray(points))
        dtype = _check_dtype(dtype if dtype is not None else _model_dtype(model))
        if max_columns < 1:
            raise InrdictError(f"max_columns must be positive, got {max_columns}")
        n = points.shape[0]
        n_devices = len(jax.devices())
        per_device = -(-n // n_devices)
        block_size = min(1024, per_device) if block_size is None else int(block_size)
        if block_size < 1:
            raise InrdictError(f"block_size must be positive, got {block_size}")
        blocks_per_device = -(-per_device // block_size)
        n_blocks = n_devices * blocks_per_device
        self.shape = (n, n)
        self.dtype = dtype
        self.method = method
        self.n_devices = n_devices
        self.block_size = block_size
        self.max_columns = int(max_columns)
        self.products = 0
        self.stored = False
        self._n_blocks = n_blocks
        self._padded = n_blocks * block_size
        self._input_dim = points.shape[1]

        model = jax.tree_util.tree_map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, model)
        out_shape = jax.eval_shape(model, jax.ShapeDtypeStruct(points.shape[1:], dtype)).shape
        if int(np.prod(out_shape)) != 1:
            raise InrdictError(f"the NTK needs a single-output model, this one has output shape {out_shape}")
        trainable, frozen = partition_trainable(model)
        self.n_parameters = _n_parameters(trainable)
        if self.n_parameters == 0:
            raise InrdictError("the model has no trainable parameters, so its NTK is zero: train some of them")
        if method == "structured":
            shapes = jax.eval_shape(lambda p: layer_features(model, p), jax.ShapeDtypeStruct(points.shape, dtype))
            self._feature_widths = [int(leaf.shape[-1]) for leaf in jax.tree_util.tree_leaves(shapes)]
        feature_bytes = self._feature_bytes()
        needed = self.memory_bytes() + int(extra_bytes)
        require_memory(
            needed,
            f"the matrix-free NTK of {n} points in {dtype.name} ({feature_bytes / 2**30:.2f} GiB of layer features)",
            "use fewer points, a smaller k or max_basis" + (", or float32" if dtype == np.float64 else ""),
            limit_bytes=max_bytes,
        )

        padded = np.zeros((self._padded, points.shape[1]), dtype)
        padded[:n] = points
        mask = (np.arange(self._padded) < n).astype(dtype)
        block_points = padded.reshape(n_blocks, block_size, -1)
        block_mask = mask.reshape(n_blocks, block_size)
        if n_devices > 1:
            spread = _spread(_mesh(n_devices))
            block_points, block_mask = jax.device_put((block_points, block_mask), spread)
        else:
            block_points, block_mask = jnp.asarray(block_points), jnp.asarray(block_mask)
        if method == "structured":
            self._features = _features(model, block_points, block_mask, n_devices)
            self.feature_bytes = sum(x.nbytes for group in self._features for x in group)
        else:
            self._trainable, self._frozen = trainable, frozen
            self._points, self._mask = block_points, block_mask
            self.feature_bytes = block_points.nbytes + block_mask.nbytes

    # ---- memory

    def _feature_bytes(self) -> int:
        if self.method == "structured":
            return self._padded * sum(self._feature_widths) * self.dtype.itemsize
        return self._padded * (self._input_dim + 1) * self.dtype.itemsize

    def memory_bytes(self) -> int:
        """Estimated peak bytes: features, the weight gradients of `max_columns` vectors, per-block work, V and ΘV."""
        itemsize, m, b = self.dtype.itemsize, self.max_columns, self.block_size
        if self.method == "structured":
            width = max(self._feature_widths)
        else:
            width = 1024  # activations per point of an arbitrary model: a guess, the generic path is for small models
        grads = 2 * self.n_parameters * m * itemsize * self.n_devices
        work = 4 * b * m * width * itemsize * self.n_devices
        vectors = 4 * self._padded * m * itemsize
        return self._feature_bytes() + grads + work + vectors

    def stored_bytes(self) -> int:
        """Bytes the kernel's upper-triangle blocks take once `store()`d: n_blocks (n_blocks + 1) / 2 · b² values."""
        return self._n_blocks * (self._n_blocks + 1) // 2 * self.block_size**2 * self.dtype.itemsize

    def store(self, *, max_bytes: int | None = None) -> None:
        """Form the kernel's upper-triangle blocks from the layer features and keep them: later products cost
        2 N² m flops (memory-bound matmuls) instead of 4 N P m.

        Forming costs about N² Σ_l (in_l + out_l) flops, the price of N Σ_l (in_l + out_l) / (4 P) matrix-free
        products (about 13 for the SIREN 2→256×4→1 at 64² points, 45 at 128², 170 at 256²), and `stored_bytes()` of memory,
        so it pays for an eigensolver that needs more products than that and only while the triangle fits.
        Structured method on one device only.

        Raises:
            InrdictError: generic method, several devices, or not enough memory (default budget: 80 % of free memory).
        """
        if self.stored:
            return
        if self.method != "structured" or self.n_devices != 1:
            raise InrdictError("storing the NTK needs the structured method (a DenseINR) on one device")
        require_memory(2 * self.stored_bytes(), f"the NTK of {self.shape[0]} points in {self.dtype.name} "
                       f"(upper triangle)", "keep it matrix-free (store_kernel=False)", limit_bytes=max_bytes)  # fmt: skip
        blocks, _, _ = kernel_blocks(self._features)
        self._kernel_rows = _triangle_rows(blocks, self._n_blocks)
        del blocks
        self.stored = True

    # ---- products

    def _product(self, vblocks) -> Array:
        if self.stored:
            return _stored_product(self._kernel_rows, vblocks.reshape(self._padded, -1)).reshape(vblocks.shape)
        if self.method == "structured":
            return _structured_product(self._features, vblocks, n_devices=self.n_devices)
        return _generic_product(self._trainable, self._frozen, self._points, self._mask, vblocks, self.n_devices)

    def matmat(self, vectors: Float[AnyArray, "n m"]) -> Float[np.ndarray, "n m"]:
        """Θ V for V of shape (N, m): a NumPy array (N, m) of the operator's dtype.

        Columns run in chunks of `max_columns`; each distinct chunk width compiles once and is reused.
        """
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != self.shape[0]:
            raise InrdictError(f"matmat needs an array of shape ({self.shape[0]}, m), got {vectors.shape}")
        n, m = vectors.shape
        out = np.empty((n, m), self.dtype)
        for start in range(0, m, self.max_columns):
            chunk = vectors[:, start : start + self.max_columns]
            width = chunk.shape[1]
            padded = np.zeros((self._padded, width), self.dtype)
            padded[:n] = chunk
            vblocks = padded.reshape(self._n_blocks, self.block_size, width)
            if self.n_devices > 1:
                vblocks = jax.device_put(vblocks, _spread(_mesh(self.n_devices)))
            result = np.asarray(self._product(vblocks)).reshape(self._padded, width)
            out[:, start : start + width] = result[:n]
        self.products += m
        return out

    def matvec(self, vector: Float[AnyArray, "n *one"]) -> Float[np.ndarray, "n *one"]:
        """Θ v for v of shape (N,) (or (N, 1)): a NumPy array of the same shape."""
        vector = np.asarray(vector)
        return self.matmat(vector.reshape(self.shape[0], 1)).reshape(vector.shape)

    def __matmul__(self, other):
        other = np.asarray(other)
        return self.matvec(other) if other.ndim == 1 else self.matmat(other)

    def dense(self) -> np.ndarray:
        """The full kernel Θ (N, N) from N products (for small N and tests): symmetrised, of the operator's dtype."""
        kernel = self.matmat(np.eye(self.shape[0], dtype=self.dtype))
        return 0.5 * (kernel + kernel.T)

    def as_linear_operator(self):
        """A `scipy.sparse.linalg.LinearOperator` view (matvec and matmat) of this operator."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=self.matvec, matmat=self.matmat, rmatvec=self.matvec,
                              rmatmat=self.matmat, dtype=self.dtype)  # fmt: skip


def ntk_matmat(
    model, points: Float[AnyArray, "n *d"], vectors: Float[AnyArray, "n m"], **kwargs
) -> Float[np.ndarray, "n m"]:
    """Θ V (N, m) for the empirical NTK Θ of `model` on `points` (N, d), without forming Θ.

    A one-shot `NTKOperator(model, points, **kwargs).matmat(vectors)`; build the operator once to reuse features.
    """
    return NTKOperator(model, points, **kwargs).matmat(vectors)


# -------------------------------------------------------------------------------------------------- eigenpairs


@dataclasses.dataclass(frozen=True)
class TopEigenpairs:
    """The k largest eigenpairs of an NTK, from `top_eigenpairs`.

    Attributes:
        eigvals: (k,) descending.
        eigvecs: (N, k) unit eigenvectors in columns (a column reshapes to the grid like `eigh_descending`'s).
        residuals: (k,) ‖Θ x_i − λ_i x_i‖ / λ_0 of each returned pair.
        matvecs: vector products used (a block of m counts m), residual checks included.
        seconds: wall time, features and compilation included.
        method: the solver ("block", "eigsh", "lobpcg" or "dense" for tiny N).
        converged: whether every residual is ≤ the requested tolerance.
        stored_kernel: whether the products used the kernel's stored upper triangle (`NTKOperator.store`)
            rather than the matrix-free form.
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    residuals: np.ndarray
    matvecs: int
    seconds: float
    method: str
    converged: bool
    stored_kernel: bool = False


@contextlib.contextmanager
def _single_threaded_blas():
    """Run NumPy/SciPy's OpenBLAS on one thread inside the block (restored afterwards).

    The solver alternates XLA products (which use every core) with small BLAS/LAPACK calls; multi-threaded OpenBLAS
    then fights XLA's thread pool: on 2 cores a 168 x 168 `eigh` took 135 ms instead of 1 ms and the products
    slowed by ~25 %. Uses the `scipy_openblas` wheels' thread setters when they are loaded; a no-op otherwise.
    """
    restore = []
    paths = set()
    try:
        with open("/proc/self/maps") as maps:
            fields = [line.split() for line in maps if "openblas" in line.lower()]
        paths = {parts[-1] for parts in fields if parts[-1].startswith("/")}
    except OSError:  # pragma: no cover - not Linux
        pass
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:  # pragma: no cover
            continue
        for suffix in ("", "64_"):
            getter = getattr(library, f"scipy_openblas_get_num_threads{suffix}", None) or getattr(
                library, f"openblas_get_num_threads{suffix}", None
            )
            setter = getattr(library, f"scipy_openblas_set_num_threads{suffix}", None) or getattr(
                library, f"openblas_set_num_threads{suffix}", None
            )
            if getter is not None and setter is not None:
                restore.append((setter, int(getter())))
                setter(1)
                break
    try:
        yield
    finally:
        for setter, threads in restore:
            setter(threads)


def _orthonormalize(z: np.ndarray, basis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Orthonormal columns spanning z's part orthogonal to `basis` (orthonormal columns): CGS2 + QR.

    Directions that vanish (the Krylov space became invariant, e.g. a kernel of low rank) are replaced by random
    ones, so the returned block always has z's number of columns.
    """
    norms = np.linalg.norm(z, axis=0)
    for _ in range(2):
        if basis.shape[1]:
            z = z - basis @ (basis.T @ z)
    q, r = np.linalg.qr(z)
    scale = max(float(norms.max()), np.finfo(z.dtype).tiny)
    weak = np.abs(np.diag(r)) < 1e3 * np.finfo(z.dtype).eps * scale
    if weak.any():
        fresh = rng.standard_normal((z.shape[0], int(weak.sum()))).astype(z.dtype)
        keep = q[:, ~weak]
        for _ in range(2):
            fresh = fresh - basis @ (basis.T @ fresh) if basis.shape[1] else fresh
            fresh = fresh - keep @ (keep.T @ fresh)
        q = np.concatenate([keep, np.linalg.qr(fresh)[0]], axis=1)
    return q


def _block_krylov(operator: NTKOperator, k: int, block: int, max_basis: int, tol: float, max_products: int,
                  rng: np.random.Generator):  # fmt: skip
    """Block Krylov–Schur for the k largest eigenpairs: (eigvals, eigvecs, residuals/λ0, converged).

    Keeps an orthonormal basis Q (N, s) and its images W = Θ Q. Each step orthonormalises the newest images against
    Q (the next Krylov block), multiplies it by Θ, extends H = Qᵀ W and runs Rayleigh–Ritz: Ritz pairs (θ, Q y) with
    residuals W y − θ Q y from the stored products. A full basis is compressed to its leading Ritz vectors (thick
    restart) and the Krylov recurrence continues from the residual block.
    """
    n, dtype = operator.shape[0], operator.dtype
    q = np.empty((n, max_basis), dtype)
    w = np.empty((n, max_basis), dtype)
    h = np.zeros((max_basis, max_basis), np.float64)
    size = 0
    z = rng.standard_normal((n, block)).astype(dtype)
    used = 0
    while True:
        new = _orthonormalize(z, q[:, :size], rng)
        images = operator.matmat(new)
        used += block
        q[:, size : size + block], w[:, size : size + block] = new, images
        column = (q[:, : size + block].T @ images).astype(np.float64)  # (s + b, b)
        h[: size + block, size : size + block] = column
        h[size : size + block, :size] = column[:size].T
        size += block
        theta, y = np.linalg.eigh(0.5 * (h[:size, :size] + h[:size, :size].T))
        theta, y = theta[::-1], y[:, ::-1]
        if size >= k:
            yk = y[:, :k].astype(dtype)
            vectors = q[:, :size] @ yk
            residual = w[:, :size] @ yk - vectors * theta[:k].astype(dtype)[None, :]
            residuals = np.linalg.norm(residual, axis=0).astype(np.float64) / abs(theta[0])
            if residuals.max() <= tol or used >= max_products:
                vectors /= np.linalg.norm(vectors, axis=0, keepdims=True)
                return theta[:k].copy(), vectors, residuals, bool(residuals.max() <= tol), used
        z = images
        if size + block > max_basis:  # thick restart onto the leading Ritz vectors
            z = images - q[:, :size] @ (q[:, :size].T @ images)
            keep = min(size - block, max(k + block, (size + k) // 2))
            yp = y[:, :keep].astype(dtype)
            q[:, :keep], w[:, :keep] = q[:, :size] @ yp, w[:, :size] @ yp
            h[:] = 0.0
            h[np.arange(keep), np.arange(keep)] = theta[:keep]
            size = keep


def _residuals(operator: NTKOperator, eigvals: np.ndarray, eigvecs: np.ndarray) -> np.ndarray:
    images = operator.matmat(eigvecs.astype(operator.dtype))
    residual = images.astype(np.float64) - eigvecs.astype(np.float64) * eigvals[None, :]
    return np.linalg.norm(residual, axis=0) / abs(float(eigvals[0]))


def _default_block(k: int) -> int:
    return max(1, min(8, k))


def storing_pays(operator: NTKOperator, k: int) -> bool:
    """Whether `top_eigenpairs` should `store()` the kernel: structured method on one device, the upper triangle
    within `STORE_LIMIT_BYTES` and a quarter of free memory, and cheaper to form than the ~2.5 k matrix-free
    products a Krylov solver needs for k pairs (forming: 2 b² Σ_l (in_l + out_l) flops per block pair; a product:
    4 N P). For the SIREN 2→256×4→1 at k = 64 forming is cheaper up to ~250² points; in float32 the 1 GiB limit
    stops at ~150²."""
    if operator.stored or operator.method != "structured" or operator.n_devices != 1:
        return operator.stored
    if operator.stored_bytes() > min(STORE_LIMIT_BYTES, available_memory_bytes() // 4):
        return False
    pairs = operator._n_blocks * (operator._n_blocks + 1) // 2
    forming = pairs * 2 * operator.block_size**2 * sum(operator._feature_widths)
    return forming < 2.5 * k * 4 * operator.shape[0] * operator.n_parameters


def solver_memory_bytes(n: int, k: int, solver: str, block: int, max_basis: int, itemsize: int) -> int:
    """Bytes the eigensolver keeps besides the operator (Krylov basis and images, Ritz vectors, residuals)."""
    if solver == "block":
        return (2 * max_basis + 3 * k + 4 * block) * n * itemsize
    if solver == "eigsh":
        return (max(2 * k + 1, 20) + 3 * k) * n * 8
    return 12 * (k + 16) * n * 8  # lobpcg: X, AX, R, AR, P, AP and Gram work, float64


def top_eigenpairs_of(
    operator: NTKOperator,
    k: int,
    *,
    method: str = "block",
    tol: float = 1e-4,
    block_size: int | None = None,
    max_basis: int | None = None,
    max_products: int | None = None,
    seed: int = 0,
    store_kernel: bool | None = None,
) -> TopEigenpairs:
    """The k largest eigenpairs of an `NTKOperator` (see `top_eigenpairs` for the arguments); with
    `store_kernel` (or when `storing_pays`) the operator is `store()`d first."""
    start = time.perf_counter()
    n = operator.shape[0]
    if not 1 <= k <= n:
        raise InrdictError(f"k must be between 1 and the number of points ({n}), got {k}")
    if method not in SOLVERS:
        raise InrdictError(f"unknown eigensolver {method!r}: choose one of {', '.join(SOLVERS)}")
    floor = 1e-6 if operator.dtype == np.float32 else 1e-12
    if tol < floor:
        raise InrdictError(
            f"tol={tol:g} is below what {operator.dtype.name} products resolve ({floor:g}): raise tol or use float64"
        )
    block = _default_block(k) if block_size is None else int(block_size)
    if block < 1:
        raise InrdictError(f"block_size must be positive, got {block}")
    max_basis = max_basis or max(4 * k, 2 * k + 16 * block)
    max_basis = min(max_basis, n)
    max_products = max_products or max(50 * k, 2000)
    rng = np.random.default_rng(seed)
    if store_kernel or (store_kernel is None and storing_pays(operator, k)):
        operator.store()
    before = operator.products
    with _single_threaded_blas():
        eigvals, eigvecs, residuals, converged, method = _solve(operator, k, method, tol, block, max_basis,
                                                                max_products, rng)  # fmt: skip
    eigvecs = np.asarray(eigvecs, operator.dtype)
    eigvecs /= np.linalg.norm(eigvecs, axis=0, keepdims=True)
    return TopEigenpairs(
        eigvals=np.asarray(eigvals, operator.dtype),
        eigvecs=eigvecs,
        residuals=np.asarray(residuals, np.float64),
        matvecs=operator.products - before,
        seconds=time.perf_counter() - start,
        method=method,
        converged=converged,
        stored_kernel=operator.stored,
    )


def _solve(operator: NTKOperator, k: int, method: str, tol: float, block: int, max_basis: int, max_products: int,
           rng: np.random.Generator):  # fmt: skip
    n = operator.shape[0]
    if max_basis < k + 2 * block or n <= max_basis:  # tiny problem: the whole kernel in n products
        kernel = operator.dense().astype(np.float64)
        eigvals, eigvecs = np.linalg.eigh(kernel)
        eigvals, eigvecs = eigvals[::-1][:k].copy(), eigvecs[:, ::-1][:, :k].astype(operator.dtype)
        residuals = np.linalg.norm(kernel @ eigvecs - eigvecs * eigvals, axis=0) / abs(eigvals[0])
        converged, method = bool(residuals.max() <= tol), "dense"
    elif method == "block":
        eigvals, eigvecs, residuals, converged, _ = _block_krylov(operator, k, block, max_basis, tol, max_products, rng)
    elif method == "eigsh":
        import scipy.sparse.linalg

        v0 = rng.standard_normal(n).astype(operator.dtype)
        eigvals, eigvecs = scipy.sparse.linalg.eigsh(
            operator.as_linear_operator(), k=k, which="LA", tol=tol, v0=v0, maxiter=max_products
        )
        order = np.argsort(eigvals)[::-1]
        eigvals, eigvecs = eigvals[order].astype(np.float64), eigvecs[:, order]
        residuals = _residuals(operator, eigvals, eigvecs)
        converged = bool(residuals.max() <= tol)
    else:
        import warnings

        import scipy.sparse.linalg

        x0 = rng.standard_normal((n, min(n, k + 16)))
        as64 = scipy.sparse.linalg.LinearOperator(
            (n, n), matvec=lambda v: operator.matvec(v.astype(operator.dtype)).astype(np.float64),
            matmat=lambda v: operator.matmat(v.astype(operator.dtype)).astype(np.float64), dtype=np.float64,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "not reaching the requested tolerance": reported by `converged`
            eigvals, eigvecs = scipy.sparse.linalg.lobpcg(
                as64, x0, tol=tol, largest=True, maxiter=max(1, max_products // x0.shape[1])
            )
        order = np.argsort(eigvals)[::-1][:k]
        eigvals, eigvecs = eigvals[order], eigvecs[:, order].astype(operator.dtype)
        residuals = _residuals(operator, eigvals, eigvecs)
        converged = bool(residuals.max() <= tol)
    return eigvals, eigvecs, residuals, converged, method


def top_eigenpairs(
    model,
    points: Float[AnyArray, "n *d"],
    k: int,
    *,
    dtype=None,
    tol: float = 1e-4,
    method: str = "block",
    block_size: int | None = None,
    max_basis: int | None = None,
    max_products: int | None = None,
    seed: int = 0,
    operator_method: str = "auto",
    max_bytes: int | None = None,
    store_kernel: bool | None = None,
) -> TopEigenpairs:
    """The k largest eigenpairs of the empirical NTK of `model` on `points`, without forming the kernel.

    Builds an `NTKOperator` (exact products Θ V from the layer features, O(N · width) memory) and runs an iterative
    eigensolver until every pair has ‖Θ x_i − λ_i x_i‖ ≤ tol · λ_0.

    Args:
        model: a single-output model (a `DenseINR` for the structured products, any Equinox module otherwise).
        points: (N, d) inputs.
        k: number of eigenpairs (1 ≤ k ≤ N).
        dtype: float32 or float64 (default: the model's; float64 needs `jax.enable_x64(True)`).
        tol: residual tolerance relative to the largest eigenvalue (≥ 1e-6 in float32, ≥ 1e-12 in float64).
        method: "block" (block Krylov–Schur, default: fastest measured), "eigsh" (ARPACK) or "lobpcg" (SciPy).
        block_size: vectors per product for "block" (default 8).
        max_basis: Krylov basis size before a thick restart (default max(4k, 2k + 16 · block_size)).
        max_products: stop after about this many vector products (default max(50 k, 2000)); see `converged`.
        seed: seed of the random start vectors.
        operator_method: "auto", "structured" or "generic" (see `NTKOperator`).
        max_bytes: refuse when operator + solver memory would exceed this (default 80 % of physical memory).
        store_kernel: keep the kernel's upper triangle and multiply by it (`NTKOperator.store`); None (default)
            decides by `storing_pays`: small grids (≤ ~150² points for the SIREN 2→256×4→1 in float32) are
            stored, since forming the triangle costs fewer flops than the solver's matrix-free products. False
            keeps the solve matrix-free at any size.

    Returns:
        `TopEigenpairs`: eigvals (k,) descending, eigvecs (N, k) unit columns, residuals (k,) relative to λ_0,
        matvecs, seconds, method, converged, stored_kernel. Problems with N ≤ max_basis are solved densely from N products
        (method "dense").

    Raises:
        InrdictError: bad k, method, dtype or tol, a multi-output model, or not enough memory (with the bytes needed).
    """
    start = time.perf_counter()
    n = np.asarray(points).shape[0]
    itemsize = np.dtype(dtype if dtype is not None else _model_dtype(model)).itemsize
    block = _default_block(k) if block_size is None else max(1, int(block_size))
    basis = min(n, max_basis or max(4 * k, 2 * k + 16 * block))
    operator = NTKOperator(
        model, points, dtype=dtype, method=operator_method, max_bytes=max_bytes,
        max_columns=max(block, min(k, 64)), extra_bytes=solver_memory_bytes(n, k, method, block, basis, itemsize),
    )  # fmt: skip
    result = top_eigenpairs_of(operator, k, method=method, tol=tol, block_size=block_size, max_basis=max_basis,
                               max_products=max_products, seed=seed, store_kernel=store_kernel)  # fmt: skip
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


__all__ = ["NTKOperator", "TopEigenpairs", "ntk_matmat", "storing_pays", "top_eigenpairs", "top_eigenpairs_of"]

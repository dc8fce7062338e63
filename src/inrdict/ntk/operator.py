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

**Grid encodings** (`inrdict.models.grid`: each point touches c = L 2^d table entries) take the sparse route: their
`sparse_ntk_features` give per point the entries' rows and coefficients K (c, F) = ∂f/∂T[row], computed once, so
that Jᵀ V is a scatter-add of K v into tables (rows, F, m) and J U a gather, O(N c F m) per block of m vectors, plus
the bias-free head's layer features as above. The generic route recomputes the encoding and the head in every
product; the head's share is the same on both routes, so the gain is what the encoding costs (measured against the
generic route in `benchmarks/grid_topk.py`, table in docs/performance.md).

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
"""

from __future__ import annotations

import itertools
import typing

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from inrdict._memory import available_memory_bytes, require_memory
from inrdict._typing import AnyArray, as_rows
from inrdict.errors import InrdictError
from inrdict.models import DenseINR, partition_trainable
from inrdict.ntk.gather import gather_rows
from inrdict.ntk.kernel import kernel_blocks, layer_features, resolve_method
from inrdict.ntk.products import (
    generic_gram_product,
    generic_product,
    mesh,
    point_features,
    sparse_point_features,
    sparse_product,
    spread,
    structured_gram_product,
    structured_product,
)
from inrdict.ntk.protocol import KernelOperator, LinearOperatorMixin
from inrdict.ntk.stored import STORE_LIMIT_BYTES, stored_product, triangle_rows

OPERATOR_METHODS = ("auto", "structured", "sparse", "generic")


def model_dtype(model) -> np.dtype:
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


class NTKOperator(LinearOperatorMixin):
    """The empirical NTK Θ (N x N, symmetric PSD) as a linear operator: `matmat(V)` = Θ V without forming Θ.

    Θ[i, j] = <df(r_i)/dθ, df(r_j)/dθ> over the trainable parameters (SPEC §4; an FFN's B is not one). Products
    are exact (same value as `empirical_ntk(...) @ V` up to rounding), cost 4 N m P flops for m vectors and P
    parameters, and need O(N Σ_l (in_l + out_l)) memory for the structured features (0.54 GB in float32 for the
    SIREN 2→256×4→1 at 256² points) plus O(block_size · m · width) per block of points.

    Attributes:
        shape: (N, N).
        dtype: float32 or float64 (NumPy dtype); products take and return arrays of this dtype.
        method: "structured" (layer features, `DenseINR`), "sparse" (a grid encoding's table entries) or "generic"
            (`jax.vjp` then `jax.jvp`, any model).
        n_devices: devices the points are split across.
        block_size: points per block on each device.
        products: vector products performed so far (a block of m vectors counts m).
        feature_bytes: bytes held by the features (structured) or the padded points (generic).
        stored: whether `store()` has formed the kernel's upper triangle, which later products then use.
        n_processes: JAX processes (`jax.distributed.initialize`) the points are split across. With several,
            every process builds the operator from the same points and `matmat` takes and returns this process's
            rows only, `local_rows` of the N.
        n_parameters: P, the trainable parameters; `gram_matmat` and `forward` work in that space (the P×P route).

    Args:
        model: a single-output model: for "structured" a `DenseINR` (or a model with `structured_ntk_features`, see
            `inrdict.ntk.layer_features`), any Equinox module for "generic".
        points: (N, d) inputs (a 1-D array is taken as d = 1).
        dtype: float32 or float64 (default: the model's); float64 needs `jax.enable_x64(True)`.
        method: "structured", "sparse", "generic", or "auto" (sparse for grid encodings, else structured where
            it applies, else generic).
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
        points: Float[AnyArray, " n *d"],
        *,
        dtype=None,
        method: str = "auto",
        block_size: int | None = None,
        max_columns: int = 64,
        max_bytes: int | None = None,
        extra_bytes: int = 0,
    ):
        if method not in OPERATOR_METHODS:
            raise InrdictError(f"unknown NTK operator method {method!r}: choose auto, structured, sparse or generic")
        if isinstance(model, DenseINR) and model.out_features != 1:
            raise InrdictError(f"the NTK needs a single-output model, this one has {model.out_features} outputs")
        method = resolve_method(model, method, generic="generic", what="structured NTK operator")
        points = as_rows(np.asarray(points))
        dtype = _check_dtype(dtype if dtype is not None else model_dtype(model))
        if max_columns < 1:
            raise InrdictError(f"max_columns must be positive, got {max_columns}")
        n = points.shape[0]
        n_devices = len(jax.devices())
        per_device = -(-n // n_devices)
        block_size = min(1024, per_device) if block_size is None else int(block_size)
        if block_size < 1:
            raise InrdictError(f"block_size must be positive, got {block_size}")
        self.shape = (n, n)
        self.dtype = dtype
        self.method = method
        self.n_devices = n_devices
        self.block_size = block_size
        self.max_columns = int(max_columns)
        self.products = 0
        self.stored = False
        self._n_blocks = n_devices * -(-per_device // block_size)
        self._padded = self._n_blocks * block_size
        self._input_dim = points.shape[1]
        model, trainable, frozen = self._cast_and_measure(model, points)
        require_memory(
            self.memory_bytes() + int(extra_bytes),
            f"the matrix-free NTK of {n} points in {dtype.name} ({self._feature_bytes() / 2**30:.2f} GiB of layer "
            "features)",
            "use fewer points, a smaller k or max_basis" + (", or float32" if dtype == np.float64 else ""),
            limit_bytes=max_bytes,
        )
        block_points, block_mask = self._place_blocks(points)
        if method == "structured":
            self._features = point_features(model, block_points, block_mask, n_devices)
            self.feature_bytes = sum(x.nbytes for group in self._features for x in group)
        elif method == "sparse":
            self._features = sparse_point_features(model, block_points, block_mask, n_devices)
            self.feature_bytes = sum(x.nbytes for x in jax.tree_util.tree_leaves(self._features))
            self._trainable, self._frozen = trainable, frozen  # the P×P route runs generic products
            self._points, self._mask = block_points, block_mask
        else:
            self._trainable, self._frozen = trainable, frozen
            self._points, self._mask = block_points, block_mask
            self.feature_bytes = block_points.nbytes + block_mask.nbytes

    def _cast_and_measure(self, model, points: np.ndarray | jax.Array):
        """(model in the operator's dtype, its trainable and frozen parts); checks a single output and trainable
        parameters, and records P and (structured) the layer features' widths, before any memory is taken."""
        dtype = self.dtype
        model = jax.tree_util.tree_map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, model)
        out_shape = jax.eval_shape(model, jax.ShapeDtypeStruct(points.shape[1:], dtype)).shape
        if int(np.prod(out_shape)) != 1:
            raise InrdictError(f"the NTK needs a single-output model, this one has output shape {out_shape}")
        trainable, frozen = partition_trainable(model)
        self.n_parameters = _n_parameters(trainable)
        if self.n_parameters == 0:
            raise InrdictError("the model has no trainable parameters, so its NTK is zero: train some of them")
        if self.method == "structured":
            shapes = jax.eval_shape(lambda p: layer_features(model, p), jax.ShapeDtypeStruct(points.shape, dtype))
            self._feature_widths = [int(leaf.shape[-1]) for leaf in jax.tree_util.tree_leaves(shapes)]
        elif self.method == "sparse":
            one = jax.ShapeDtypeStruct((1, points.shape[1]), dtype)
            rows, coefficients, head = jax.eval_shape(model.sparse_ntk_features, one)
            self._total_rows = int(model.table_rows)
            self._entries, self._table_features = int(rows.shape[1]), int(coefficients.shape[2])
            self._head_widths = [(int(a.shape[1]), int(d.shape[1])) for a, d in head]
        return model, trainable, frozen

    def _place_blocks(self, points: np.ndarray | jax.Array) -> tuple[typing.Any, typing.Any]:
        """The points, zero-padded to whole blocks, and their mask (1 on real points), as (n_blocks, block_size, …)
        arrays on the devices; with several processes each keeps its own devices' blocks (`local_rows`)."""
        n, n_blocks, block_size, n_devices = self.shape[0], self._n_blocks, self.block_size, self.n_devices
        padded = np.zeros((self._padded, points.shape[1]), self.dtype)
        padded[:n] = points
        mask = (np.arange(self._padded) < n).astype(self.dtype)
        host_points = padded.reshape(n_blocks, block_size, -1)
        host_mask = mask.reshape(n_blocks, block_size)
        self.n_processes = jax.process_count()
        self._local_blocks = (0, n_blocks)
        block_points: typing.Any
        block_mask: typing.Any  # the blocks of points this process's devices hold
        if self.n_processes > 1:  # every process passes the same points; each keeps its own devices' blocks
            sharding = spread(mesh(n_devices))
            block_points = jax.make_array_from_callback(host_points.shape, sharding, lambda index: host_points[index])
            block_mask = jax.make_array_from_callback(host_mask.shape, sharding, lambda index: host_mask[index])
            starts = sorted(index[0].indices(n_blocks)[:2] for index in
                            sharding.addressable_devices_indices_map(host_points.shape).values())  # fmt: skip
            if any(a[1] != b[0] for a, b in itertools.pairwise(starts)):
                raise InrdictError("this process's devices do not hold contiguous blocks of points")
            self._local_blocks = (starts[0][0], starts[-1][1])
        elif n_devices > 1:
            sharding = spread(mesh(n_devices))
            block_points, block_mask = jax.device_put((host_points, host_mask), sharding)
        else:
            block_points, block_mask = jnp.asarray(host_points), jnp.asarray(host_mask)
        lo, hi = self._local_blocks
        self.local_rows = slice(min(lo * block_size, n), min(hi * block_size, n))
        return block_points, block_mask

    # ---- memory

    def _feature_bytes(self) -> int:
        if self.method == "structured":
            return self._padded * sum(self._feature_widths) * self.dtype.itemsize
        if self.method == "sparse":
            per_point = self._entries * (4 + self._table_features * self.dtype.itemsize)  # int32 rows, coefficients
            return self._padded * (per_point + sum(map(sum, self._head_widths)) * self.dtype.itemsize)
        return self._padded * (self._input_dim + 1) * self.dtype.itemsize

    def memory_bytes(self) -> int:
        """Estimated peak bytes: features, the weight gradients of `max_columns` vectors, per-block work, V and ΘV."""
        itemsize, m, b = self.dtype.itemsize, self.max_columns, self.block_size
        if self.method == "sparse":  # the tables' and head's gradients (scan carry and update), the gathered entries
            head = sum(a * d for a, d in self._head_widths)
            grads = 2 * (self._total_rows * self._table_features + head) * m * itemsize * self.n_devices
            work = 3 * b * m * self._entries * self._table_features * itemsize * self.n_devices
            return self._feature_bytes() + grads + work + 4 * self._padded * m * itemsize
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
        self._kernel_rows = triangle_rows(blocks, self._n_blocks)
        del blocks
        self.stored = True

    # ---- products

    def _product(self, vblocks) -> Array:
        if self.stored:
            return stored_product(self._kernel_rows, vblocks.reshape(self._padded, -1)).reshape(vblocks.shape)
        if self.method == "structured":
            return structured_product(self._features, vblocks, n_devices=self.n_devices)
        if self.method == "sparse":
            return sparse_product(self._features, vblocks, total_rows=self._total_rows, n_devices=self.n_devices)
        return generic_product(self._trainable, self._frozen, self._points, self._mask, vblocks, self.n_devices)

    def _to_blocks(self, local: np.ndarray):
        """This process's rows (n_local, m) → the padded point blocks (nb, b, m) the products take."""
        lo, hi = self._local_blocks
        width = local.shape[1]
        padded = np.zeros(((hi - lo) * self.block_size, width), self.dtype)
        padded[: local.shape[0]] = local
        blocks = padded.reshape(hi - lo, self.block_size, width)
        if self.n_processes > 1:
            return jax.make_array_from_process_local_data(spread(mesh(self.n_devices)), blocks,
                                                          (self._n_blocks, self.block_size, width))  # fmt: skip
        if self.n_devices > 1:
            return jax.device_put(blocks, spread(mesh(self.n_devices)))
        return blocks

    def _from_blocks(self, blocks) -> np.ndarray:
        """Padded point blocks (nb, b, m) → this process's rows (n_local, m)."""
        if self.n_processes > 1:
            shards = sorted(blocks.addressable_shards, key=lambda shard: shard.index[0].indices(self._n_blocks)[0])
            local = np.concatenate([np.asarray(shard.data) for shard in shards], axis=0)
        else:
            local = np.asarray(blocks)
        rows = self.local_rows.stop - self.local_rows.start
        return local.reshape(-1, local.shape[-1])[:rows]

    def _local_count(self) -> int:
        return self.local_rows.stop - self.local_rows.start

    def matmat(self, vectors: Float[AnyArray, "n m"]) -> Float[np.ndarray, "n m"]:
        """Θ V for V of shape (N, m): a NumPy array (N, m) of the operator's dtype (with several processes, V and
        Θ V are this process's `local_rows`).

        Columns run in chunks of `max_columns`; each distinct chunk width compiles once and is reused.
        """
        vectors = np.asarray(vectors)
        n = self._local_count()
        if vectors.ndim != 2 or vectors.shape[0] != n:
            raise InrdictError(f"matmat needs an array of shape ({n}, m), got {vectors.shape}")
        m = vectors.shape[1]
        out = np.empty((n, m), self.dtype)
        for start in range(0, m, self.max_columns):
            chunk = vectors[:, start : start + self.max_columns].astype(self.dtype, copy=False)
            if self.stored:
                width = chunk.shape[1]
                padded = np.zeros((self._padded, width), self.dtype)
                padded[:n] = chunk
                vblocks = padded.reshape(self._n_blocks, self.block_size, width)
                result = np.asarray(self._product(vblocks)).reshape(self._padded, width)[:n]
            else:
                result = self._from_blocks(self._product(self._to_blocks(chunk)))
            out[:, start : start + chunk.shape[1]] = result
        self.products += m
        return out

    def dense(self) -> np.ndarray:
        """The full kernel Θ (N, N) from N products (for small N and tests): symmetrised, on every process."""
        if self.n_processes == 1:
            return super().dense()
        rows = self.local_rows
        kernel = self.matmat(np.eye(self.shape[0], dtype=self.dtype)[rows])  # this process's rows of Θ
        kernel = gather_rows(kernel, self.shape[0])
        return 0.5 * (kernel + kernel.T)

    # ---- the P×P route: G = Jᵀ J has Θ = J Jᵀ's non-zero spectrum

    @property
    def gram_structured(self) -> bool:
        """Whether `gram_matmat` can use the layer features: plain (A, D) groups covering every parameter."""
        if self.method != "structured" or any(len(group) != 2 for group in self._features):
            return False
        return sum(a.shape[-1] * d.shape[-1] + d.shape[-1] for a, d in self._features) == self.n_parameters

    def _gram(self, flat: typing.Any, rows_only: bool):
        if self.method == "structured" and self.gram_structured:
            return structured_gram_product(self._features, flat, n_devices=self.n_devices, rows_only=rows_only)
        if self.method == "structured":
            raise InrdictError("the P×P route needs plain layer features (no rotated groups): use the N×N route")
        return generic_gram_product(self._trainable, self._frozen, self._points, self._mask, flat,
                                     self.n_devices, rows_only)  # fmt: skip

    def gram_matmat(self, directions: Float[AnyArray, "p m"]) -> Float[np.ndarray, "p m"]:
        """Jᵀ J W for parameter directions W (P, m): the P×P Gram operator, same on every process.

        Parameters are ordered per layer, weights (row-major) then bias, for the structured method and in
        `jax.flatten_util.ravel_pytree` order for the generic one. Counts m products (the same 4 N P m flops)."""
        directions = np.asarray(directions, self.dtype)
        if directions.ndim != 2 or directions.shape[0] != self.n_parameters:
            raise InrdictError(f"gram_matmat needs an array of shape ({self.n_parameters}, m), got {directions.shape}")
        out = np.empty(directions.shape, self.dtype)
        for start in range(0, directions.shape[1], self.max_columns):
            chunk = directions[:, start : start + self.max_columns]
            result = self._gram(chunk, rows_only=False)
            if self.n_processes > 1:
                result = result.addressable_shards[0].data
            out[:, start : start + chunk.shape[1]] = np.asarray(result)
        self.products += directions.shape[1]
        return out

    def forward(self, directions: Float[AnyArray, "p m"]) -> Float[np.ndarray, "n m"]:
        """J W (N, m) (this process's `local_rows` with several processes): the output change along W (P, m)."""
        directions = np.asarray(directions, self.dtype)
        out = np.empty((self._local_count(), directions.shape[1]), self.dtype)
        for start in range(0, directions.shape[1], self.max_columns):
            chunk = directions[:, start : start + self.max_columns]
            out[:, start : start + chunk.shape[1]] = self._from_blocks(self._gram(chunk, rows_only=True))
        return out


def storing_pays(operator: KernelOperator, k: int) -> bool:
    """Whether `top_eigenpairs` should `store()` the kernel: structured method on one device, the upper triangle
    within `STORE_LIMIT_BYTES` and a quarter of free memory, and cheaper to form than the ~2.5 k matrix-free
    products a Krylov solver needs for k pairs (forming: 2 b² Σ_l (in_l + out_l) flops per block pair; a product:
    4 N P). For the SIREN 2→256×4→1 at k = 64 forming is cheaper up to ~250² points; in float32 the 1 GiB limit
    stops at ~150²."""
    if operator.stored or operator.method != "structured" or operator.n_devices != 1:
        return operator.stored
    ntk = typing.cast(NTKOperator, operator)  # the structured method is `NTKOperator`'s
    if ntk.stored_bytes() > min(STORE_LIMIT_BYTES, available_memory_bytes() // 4):
        return False
    pairs = ntk._n_blocks * (ntk._n_blocks + 1) // 2
    forming = pairs * 2 * ntk.block_size**2 * sum(ntk._feature_widths)
    return forming < 2.5 * k * 4 * ntk.shape[0] * ntk.n_parameters


def ntk_matmat(
    model, points: Float[AnyArray, " n *d"], vectors: Float[AnyArray, "n m"], **kwargs
) -> Float[np.ndarray, "n m"]:
    """Θ V (N, m) for the empirical NTK Θ of `model` on `points` (N, d), without forming Θ.

    A one-shot `NTKOperator(model, points, **kwargs).matmat(vectors)`; build the operator once to reuse features.
    """
    return NTKOperator(model, points, **kwargs).matmat(vectors)

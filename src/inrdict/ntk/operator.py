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

import functools
import itertools
import typing

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float

from inrdict._memory import require_memory
from inrdict._typing import AnyArray, as_rows
from inrdict.errors import InrdictError
from inrdict.models import DenseINR, partition_trainable
from inrdict.ntk.kernel import kernel_blocks, layer_features, resolve_method
from inrdict.ntk.stored import _stored_product, _triangle_rows

SOLVERS = ("block", "eigsh", "lobpcg")
OPERATOR_METHODS = ("auto", "structured", "generic")
_AXIS = "points"


# ----------------------------------------------------------------------------------------------------- products


def _varying(tree, axis: str | None):
    """Under `shard_map`, mark a scan's zero initial carry as varying over the device axis (its output is)."""
    return tree if axis is None else jax.tree_util.tree_map(lambda x: jax.lax.pcast(x, (axis,), to="varying"), tree)


def _transpose_local(features, vblocks: Array, axis: str | None):
    """Jᵀ V on this device's points, as per-layer weight gradients [(M (out, m·in), g (out, m))], `psum`-ed over
    `axis`: M = Dᵀ [v_1 ⊙ A, ..., v_m ⊙ A] and g = Dᵀ V, accumulated over the blocks (shapes as `_structured_local`)."""
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
    return grads


def _forward_local(features, grads, m: int) -> Array:
    """J W on this device's points for m parameter directions W given as per-layer (M (out, m·in), g (out, m)):
    row n, column j is Σ_l d_nᵀ (M_lj a_n + g_lj) (+ d'_nᵀ M_lj a'_n for a rotated group). Returns (nb, b, m)."""

    def apply(feats):
        block = feats[0][0].shape[0]
        y = jnp.zeros((block, m), grads[0][1].dtype)
        for (grad_w, grad_b), (a, d, *rotated) in zip(grads, feats):
            z = (d @ grad_w).reshape(block, m, a.shape[-1])  # (b, m, in): row n, column j is d_nᵀ M_j
            y = y + jnp.sum(z * a[:, None, :], axis=-1) + d @ grad_b  # (b, m)
            if rotated:
                a_rot, d_rot = rotated
                z_rot = (d_rot @ grad_w).reshape(block, m, a.shape[-1])  # (b, m, in): d'_nᵀ M_j
                y = y + jnp.sum(z_rot * a_rot[:, None, :], axis=-1)
        return y

    return jax.lax.map(apply, features)


def _structured_local(features, vblocks: Array, axis: str | None) -> Array:
    """Θ V = J (Jᵀ V) on this device's points from per-layer features.

    Args:
        features: per layer (A (nb, b, in), D (nb, b, out)); padding rows have D = 0. A rotated group
            (A, D, A', D') (see `inrdict.ntk.layer_features`) adds (D' Dᵀ) ⊙ (A' Aᵀ): row n of its product is
            d'_nᵀ M a'_n with the same weight gradient M = Dᵀ diag(v) A, so it costs no extra accumulation.
        vblocks: (nb, b, m) rows of V in the same blocks.
        axis: the `shard_map` axis to `psum` the weight gradients over, or None on one device.

    Returns:
        (nb, b, m): the rows of Θ V for these points.
    """
    return _forward_local(features, _transpose_local(features, vblocks, axis), vblocks.shape[2])


def _pack(grads, m: int) -> Array:
    """Per-layer (M (out, m·in), g (out, m)) → (P, m): per layer the weight entries (row-major W) then the bias."""
    parts = []
    for grad_w, grad_b in grads:
        out = grad_b.shape[0]
        n_in = grad_w.shape[1] // m
        parts += [grad_w.reshape(out, m, n_in).transpose(0, 2, 1).reshape(out * n_in, m), grad_b]
    return jnp.concatenate(parts, axis=0)


def _unpack(flat: Array, features) -> list[tuple[Array, Array]]:
    """(P, m) → per-layer (M (out, m·in), g (out, m)), the inverse of `_pack`."""
    m, grads, start = flat.shape[1], [], 0
    for a, d, *_ in features:
        n_in, out = a.shape[-1], d.shape[-1]
        w = flat[start : start + out * n_in].reshape(out, n_in, m).transpose(0, 2, 1).reshape(out, m * n_in)
        start += out * n_in
        grads.append((w, flat[start : start + out]))
        start += out
    return grads


def _gram_local(features, flat: Array, axis: str | None) -> Array:
    """Jᵀ J W (P, m) for parameter directions W (P, m) (replicated): J W on this device's points, then Jᵀ, `psum`-ed.
    Only for plain (A, D) groups: a rotated group's term is not of the form J Jᵀ in these features."""
    m = flat.shape[1]
    rows = _forward_local(features, _unpack(flat, features), m)  # (nb, b, m)
    return _pack(_transpose_local(features, rows, axis), m)


def _forward_rows(features, flat: Array) -> Array:
    """J W (nb, b, m) on this device's points for parameter directions W (P, m)."""
    return _forward_local(features, _unpack(flat, features), flat.shape[1])


def _generic_outputs(frozen):
    def outputs(params, pts, msk):  # (b,)
        model = eqx.combine(params, frozen)
        return jax.vmap(lambda r: jnp.ravel(model(r))[0])(pts) * msk

    return outputs


def _generic_transpose(outputs, trainable, points: Array, mask: Array, vblocks: Array, axis: str | None):
    """Jᵀ V as parameter pytrees with a leading axis m, accumulated over the blocks and `psum`-ed over `axis`."""

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
    return grads


def _generic_forward(outputs, trainable, points: Array, mask: Array, directions) -> Array:
    """J T (nb, b, m) for parameter pytrees `directions` with a leading axis m."""

    def apply(xs):
        pts, msk = xs
        push = jax.vmap(lambda t: jax.jvp(lambda p: outputs(p, pts, msk), (trainable,), (t,))[1])
        return push(directions).T  # (b, m)

    return jax.lax.map(apply, (points, mask))


def _generic_local(trainable, frozen_arrays, frozen_static, points: Array, mask: Array, vblocks: Array,
                   axis: str | None) -> Array:  # fmt: skip
    """Θ V = J (Jᵀ V) for any single-output model, on this device's points (shapes as `_structured_local`).

    points (nb, b, d), mask (nb, b) (0 on padding rows), vblocks (nb, b, m).
    """
    outputs = _generic_outputs(eqx.combine(frozen_arrays, frozen_static))
    # Per-device partial gradients, summed explicitly below. (Left invariant, the parameters' cotangent would be
    # psum-ed implicitly by `shard_map`'s transpose rule.)
    trainable = _varying(trainable, axis)
    grads = _generic_transpose(outputs, trainable, points, mask, vblocks, axis)
    return _generic_forward(outputs, trainable, points, mask, grads)


def _generic_gram_local(trainable, frozen_arrays, frozen_static, points: Array, mask: Array, flat: Array,
                        axis: str | None, rows_only: bool = False) -> Array:  # fmt: skip
    """Jᵀ J W (P, m) for flat parameter directions W (P, m) (`ravel_pytree` order), or J W (nb, b, m) with
    `rows_only`."""
    outputs = _generic_outputs(eqx.combine(frozen_arrays, frozen_static))
    trainable = _varying(trainable, axis)
    _, unravel = ravel_pytree(trainable)
    rows = _generic_forward(outputs, trainable, points, mask, jax.vmap(unravel, in_axes=1)(flat))
    if rows_only:
        return rows
    grads = _generic_transpose(outputs, trainable, points, mask, rows, axis)
    return jax.vmap(lambda g: ravel_pytree(g)[0])(grads).T


@functools.cache
def _mesh(n_devices: int):
    return jax.make_mesh((n_devices,), (_AXIS,))


def _spread(mesh) -> typing.Any:  # a NamedSharding
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


@functools.partial(jax.jit, static_argnames=("n_devices", "rows_only"))
def _structured_gram_product(features, flat: Array, n_devices: int, rows_only: bool = False) -> Array:
    """Jᵀ J W (P, m), or J W (nb, b, m) with `rows_only`, from the layer features."""
    if n_devices == 1:
        return _forward_rows(features, flat) if rows_only else _gram_local(features, flat, None)
    from jax.sharding import PartitionSpec as P

    body = _forward_rows if rows_only else functools.partial(_gram_local, axis=_AXIS)
    out = P(_AXIS) if rows_only else P()
    return jax.shard_map(body, mesh=_mesh(n_devices), in_specs=(P(_AXIS), P()), out_specs=out)(features, flat)


@eqx.filter_jit
def _generic_gram_product(trainable, frozen, points: Array, mask: Array, flat: Array, n_devices: int,
                          rows_only: bool = False) -> Array:  # fmt: skip
    frozen_arrays, frozen_static = eqx.partition(frozen, eqx.is_array)
    if n_devices == 1:
        return _generic_gram_local(trainable, frozen_arrays, frozen_static, points, mask, flat, None, rows_only)
    from jax.sharding import PartitionSpec as P

    def local(params, fixed, pts, msk, w):
        return _generic_gram_local(params, fixed, frozen_static, pts, msk, w, _AXIS, rows_only)

    specs = (P(), P(), P(_AXIS), P(_AXIS), P())
    out = P(_AXIS) if rows_only else P()
    return jax.shard_map(local, mesh=_mesh(n_devices), in_specs=specs, out_specs=out)(
        trainable, frozen_arrays, points, mask, flat
    )


@eqx.filter_jit
def _features(model, points: Array, mask: Array, n_devices: int):
    """Per layer (A, D) for points in blocks (nb, b, d); padding rows (mask 0) get D = 0."""
    model_arrays, model_static = eqx.partition(model, eqx.is_array)

    def local(arrays, pts, msk):
        model = eqx.combine(arrays, model_static)

        def one_block(xs):
            block_points, block_mask = xs
            return [
                tuple(x * block_mask[:, None] if index % 2 else x for index, x in enumerate(group))
                for group in layer_features(model, block_points)
            ]  # every D (and D') masked

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


@typing.runtime_checkable
class KernelOperator(typing.Protocol):
    """What the eigensolvers (`top_eigenpairs_of`) need of an operator: `NTKOperator`, or another framework's
    (`inrdict.pytorch.ntk.TorchNTKOperator`) — shape (N, N), dtype, a `products` counter, `matmat` / `matvec`,
    `dense`, `as_linear_operator`, and `stored` / `store` / `method` / `n_devices` for `storing_pays`."""

    shape: tuple[int, int]
    dtype: np.dtype
    products: int
    stored: bool
    method: str
    n_devices: int

    def matmat(self, vectors): ...

    def matvec(self, vector): ...

    def dense(self) -> np.ndarray: ...

    def store(self) -> None: ...

    def as_linear_operator(self): ...


class LinearOperatorMixin:
    """matvec, `@`, `dense` and a SciPy view from a class's `matmat`, `shape` and `dtype` (`NTKOperator`,
    `inrdict.pytorch.ntk.TorchNTKOperator`)."""

    if typing.TYPE_CHECKING:  # what the class provides (declared for the type checker only)
        shape: tuple[int, int]
        dtype: np.dtype

        def matmat(self, vectors: AnyArray) -> np.ndarray: ...

    def matvec(self, vector: Float[AnyArray, " n *one"]) -> Float[np.ndarray, " n *one"]:
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


class NTKOperator(LinearOperatorMixin):
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
        n_processes: JAX processes (`jax.distributed.initialize`) the points are split across. With several,
            every process builds the operator from the same points and `matmat` takes and returns this process's
            rows only, `local_rows` of the N.
        n_parameters: P, the trainable parameters; `gram_matmat` and `forward` work in that space (the P×P route).

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
        host_points = padded.reshape(n_blocks, block_size, -1)
        host_mask = mask.reshape(n_blocks, block_size)
        self.n_processes = jax.process_count()
        self._local_blocks = (0, n_blocks)
        block_points: typing.Any
        block_mask: typing.Any  # the blocks of points this process's devices hold
        if self.n_processes > 1:  # every process passes the same points; each keeps its own devices' blocks
            spread = _spread(_mesh(n_devices))
            block_points = jax.make_array_from_callback(host_points.shape, spread, lambda index: host_points[index])
            block_mask = jax.make_array_from_callback(host_mask.shape, spread, lambda index: host_mask[index])
            starts = sorted(index[0].indices(n_blocks)[:2] for index in
                            spread.addressable_devices_indices_map(host_points.shape).values())  # fmt: skip
            if any(a[1] != b[0] for a, b in itertools.pairwise(starts)):
                raise InrdictError("this process's devices do not hold contiguous blocks of points")
            self._local_blocks = (starts[0][0], starts[-1][1])
        elif n_devices > 1:
            spread = _spread(_mesh(n_devices))
            block_points, block_mask = jax.device_put((host_points, host_mask), spread)
        else:
            block_points, block_mask = jnp.asarray(host_points), jnp.asarray(host_mask)
        lo, hi = self._local_blocks
        self.local_rows = slice(min(lo * block_size, n), min(hi * block_size, n))
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

    def _to_blocks(self, local: np.ndarray):
        """This process's rows (n_local, m) → the padded point blocks (nb, b, m) the products take."""
        lo, hi = self._local_blocks
        width = local.shape[1]
        padded = np.zeros(((hi - lo) * self.block_size, width), self.dtype)
        padded[: local.shape[0]] = local
        blocks = padded.reshape(hi - lo, self.block_size, width)
        if self.n_processes > 1:
            return jax.make_array_from_process_local_data(_spread(_mesh(self.n_devices)), blocks,
                                                          (self._n_blocks, self.block_size, width))  # fmt: skip
        if self.n_devices > 1:
            return jax.device_put(blocks, _spread(_mesh(self.n_devices)))
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
            return _structured_gram_product(self._features, flat, n_devices=self.n_devices, rows_only=rows_only)
        if self.method == "structured":
            raise InrdictError("the P×P route needs plain layer features (no rotated groups): use the N×N route")
        return _generic_gram_product(self._trainable, self._frozen, self._points, self._mask, flat,
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


def gather_rows(local: np.ndarray, n: int) -> np.ndarray:
    """Every process's rows (its `local_rows`, in process order) stacked into (n, ...) on every process."""
    if jax.process_count() == 1:
        return local
    from jax.experimental import multihost_utils

    counts = multihost_utils.process_allgather(np.array([local.shape[0]], np.int32)).reshape(-1)
    widest = int(counts.max())
    padded = np.zeros((widest, *local.shape[1:]), local.dtype)
    padded[: local.shape[0]] = local
    stacked = multihost_utils.process_allgather(padded)  # (processes, widest, ...)
    rows = np.concatenate([stacked[p, : counts[p]] for p in range(len(counts))], axis=0)
    if rows.shape[0] != n:
        raise InrdictError(f"gathered {rows.shape[0]} rows from the processes, expected {n}")
    return rows


def process_sum(partial: np.ndarray) -> np.ndarray:
    """The sum over processes of a small array (identical, bit for bit, on every process); itself on one."""
    if jax.process_count() == 1:
        return partial
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(np.asarray(partial))).sum(axis=0)


def ntk_matmat(
    model, points: Float[AnyArray, " n *d"], vectors: Float[AnyArray, "n m"], **kwargs
) -> Float[np.ndarray, "n m"]:
    """Θ V (N, m) for the empirical NTK Θ of `model` on `points` (N, d), without forming Θ.

    A one-shot `NTKOperator(model, points, **kwargs).matmat(vectors)`; build the operator once to reuse features.
    """
    return NTKOperator(model, points, **kwargs).matmat(vectors)

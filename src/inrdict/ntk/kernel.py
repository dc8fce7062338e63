"""Empirical neural tangent kernel (SPEC §4).

Definition, for a single-output model f(r; theta) and points r_1 .. r_N:

    Theta[i, j] = < d f(r_i) / d theta , d f(r_j) / d theta >        (N, N), symmetric PSD

over every *trainable* parameter (`models.partition_trainable`: an FFN's B is not one).

Three implementations, one switch (`method=`):

* ``"structured"`` (default for dense INRs): for a layer u = W a + b the parameter gradient of f at r_n is
  d_n a_nᵀ (for W) and d_n (for b), with a_n the layer input and d_n = df(r_n)/du. Hence the layer adds
  (D Dᵀ) ⊙ (A Aᵀ + 1) to Theta, rows of A and D being a_n and d_n. One forward and one backward sweep give
  all A and D in O(N * width) memory; the kernel is then assembled block by block over the upper triangle
  (b x b blocks, mirrored), never forming the N x P Jacobian. Cost ~ 2 N² (sum of layer widths) flops,
  halved by symmetry. With several devices (GPUs, or CPU devices) the blocks are split across all of them.
  Needs a `DenseINR` (elementwise activations, every layer trained).
* ``"sparse"`` (default for grid encodings, `inrdict.models.grid`): each point's gradient touches c = L 2^d entries of
  F features in the tables, ∂f/∂T[row] = K (`sparse_ntk_features`), so the tables add J_T J_Tᵀ, a sparse product
  (SciPy; non-zero only between points that share a vertex or collide in a hash), and the bias-free head adds
  Σ_k (D_k D_kᵀ) ⊙ (A_k A_kᵀ) as above.
* ``"ntvp"`` (generic): any Equinox model. Per column block J, per-sample gradients g_j = df(r_j)/dtheta
  (b x P) and one forward-mode product J(X) g_j per column gives Theta[:, J]. Memory O(b (P + N width)).
* ``"jacobian"`` (oracle): `jax.jacrev` of f at each point (vmapped) stacked into J (N x P), then J Jᵀ.
  Obviously right, N x P memory; kept as the reference the others are tested against. (A `jacrev` of the whole
  N-output map would vmap N backward passes over all N points: N² x width memory, ~80 GB at 4096 points.)

Every method returns the symmetrised kernel (Theta + Thetaᵀ) / 2 as a NumPy array of the requested dtype.
float64 needs JAX's x64 mode (`with jax.enable_x64(True):` or JAX_ENABLE_X64=1); a float32 kernel of the
4096-point SIREN agrees with float64 to ~3e-7 relative, so its eigenvalues below ~1e-7 of the largest are noise.
"""

from __future__ import annotations

import functools
import math
from typing import Literal, TypeVar, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float

from inrdict._memory import USABLE_FRACTION, available_memory_bytes, require_memory
from inrdict._typing import AnyArray, as_rows
from inrdict.errors import InrdictError
from inrdict.models import DenseINR, count_parameters, dense_layer_features, partition_trainable

Method = Literal["auto", "structured", "sparse", "ntvp", "jacobian"]
METHODS = ("auto", "structured", "sparse", "ntvp", "jacobian")


def _scalar_output(model, r):
    out = model(r)
    if out.shape != (1,):
        raise InrdictError(f"the NTK needs a single-output model, this one has output shape {out.shape}")
    return out[0]


def supports_structured(model) -> bool:
    """Whether the structured method applies: a `DenseINR` whose layers are all trained, or any model that
    provides its own `structured_ntk_features(points)` (see `layer_features`)."""
    if hasattr(model, "structured_ntk_features"):
        return True
    return isinstance(model, DenseINR) and "layers" not in type(model).frozen_fields


def supports_sparse(model) -> bool:
    """Whether the sparse operator route applies: a model (a grid encoding, `inrdict.models.grid`) that provides
    `sparse_ntk_features(points)` (table rows and coefficients, and its head's layer features) and `table_rows`."""
    return hasattr(model, "sparse_ntk_features") and hasattr(model, "table_rows")


def layer_features(model: eqx.Module, points: Float[AnyArray, "n d"]) -> list[tuple[Array, ...]]:
    """Per parameter group, (A, D) with Theta = sum over groups of (D Dᵀ) ⊙ (A Aᵀ + 1).

    For a dense layer u = W a + b: A holds the layer inputs a_n (n, in), D the output sensitivities
    d_n = df(r_n)/du (n, out). One forward sweep stores inputs and activation slopes act'(u) (from `jax.jvp` of
    the model's own elementwise `activate`), one backward sweep D_l = (D_{l+1} W_{l+1}) ⊙ act'(u_l), starting
    from D_L = 1. A model that is not a plain stack of dense layers (multiplicative filters, trained input
    mappings) may define `structured_ntk_features(points)` returning such pairs itself; a per-unit parameter
    vector θ (no weight matrix) is the pair (A with zero columns, D = df/dθ). Such a model may also return
    4-tuples (A, D, A', D') ("rotated" pairs, e.g. complex layers): they add (D Dᵀ) ⊙ (A Aᵀ + 1) + (D' Dᵀ) ⊙ (A' Aᵀ).
    """
    if hasattr(model, "structured_ntk_features"):
        return list(model.structured_ntk_features(points))
    dense = cast(DenseINR, model)  # without `structured_ntk_features`, the structured method needs a DenseINR
    return list(dense_layer_features(dense, jax.vmap(dense.encode)(jnp.asarray(points)))[0])


def _upper_blocks(n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.triu_indices(n_blocks)
    return rows.astype(np.int32), cols.astype(np.int32)


def _assemble(blocks: np.ndarray, n_blocks: int, block_size: int, n: int) -> np.ndarray:
    """Place upper-triangle blocks (pairs, b, b) and their transposes into the (n, n) kernel (on the host).

    Off-diagonal blocks are mirrored exactly; diagonal blocks are symmetrised, so the result is symmetric.
    """
    size = n_blocks * block_size
    kernel = np.empty((size, size), blocks.dtype)
    for block, i, j in zip(blocks, *_upper_blocks(n_blocks)):
        rows, cols = slice(i * block_size, (i + 1) * block_size), slice(j * block_size, (j + 1) * block_size)
        if i == j:
            kernel[rows, cols] = 0.5 * (block + block.T)
        else:
            kernel[rows, cols], kernel[cols, rows] = block, block.T
    return kernel[:n, :n] if size != n else kernel


@eqx.filter_jit
def _padded_features(model: eqx.Module, points: Array, block_size: int) -> list[tuple[Array, ...]]:
    """`layer_features` on points padded to whole blocks, reshaped (n_blocks, b, width); padding rows get D = 0."""
    n = points.shape[0]
    n_blocks = -(-n // block_size)
    padded = jnp.pad(points, ((0, n_blocks * block_size - n), (0, 0)))
    keep = (jnp.arange(padded.shape[0]) < n).astype(points.dtype)[:, None]
    return [
        tuple((x * keep if index % 2 else x).reshape(n_blocks, block_size, -1) for index, x in enumerate(group))
        for group in layer_features(model, padded)
    ]  # (A, D) or (A, D, A', D'): every D gets the padding mask


def _blocks_for_pairs(features: list[tuple[Array, ...]], rows: Array, cols: Array) -> Array:
    """Blocks (i, j) of sum_l (D Dᵀ) ⊙ (A Aᵀ + 1) for the given pairs: (pairs, b, b); a rotated group
    (A, D, A', D') adds (D' Dᵀ) ⊙ (A' Aᵀ) (see `layer_features`)."""
    block_size = features[0][0].shape[1]
    dtype = features[0][0].dtype

    def one_block(pair):
        i, j = pair
        block = jnp.zeros((block_size, block_size), dtype)
        for a, d, *rotated in features:
            block = block + (d[i] @ d[j].T) * (a[i] @ a[j].T + 1.0)  # (b, b)
            if rotated:
                a_rot, d_rot = rotated
                block = block + (d_rot[i] @ d[j].T) * (a_rot[i] @ a[j].T)
        return block

    return jax.lax.map(one_block, (rows, cols))


_blocks_one_device = jax.jit(_blocks_for_pairs)


def kernel_blocks(features: list[tuple[Array, ...]]) -> tuple[Array, np.ndarray, np.ndarray]:
    """The upper triangle of sum_l (D Dᵀ) ⊙ (A Aᵀ + 1) as (blocks (pairs, b, b), rows (pairs,), cols (pairs,)),
    computed and kept on the default device, from features (n_blocks, b, width) with D = 0 on padding rows.

    Block p is Theta[rows[p] block, cols[p] block], rows[p] ≤ cols[p], in row-major pair order."""
    rows, cols = _upper_blocks(features[0][0].shape[0])
    return _blocks_one_device(features, jnp.asarray(rows), jnp.asarray(cols)), rows, cols


def _structured_blocks(features: list[tuple[Array, ...]]) -> np.ndarray:
    """Upper-triangle blocks, (n_blocks (n_blocks + 1) / 2, b, b) in row-major pair order, on the host.

    Takes arrays only, so models that differ in static settings (omega_0) share one compiled kernel. With
    several devices the block pairs (all of equal cost) are split evenly across them with `shard_map`; the
    per-layer features, O(N * width), are replicated.
    """
    devices = jax.devices()
    if len(devices) == 1:
        return np.asarray(kernel_blocks(features)[0])
    rows, cols = _upper_blocks(features[0][0].shape[0])
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh, blocks_fn = _blocks_sharded(len(devices))
    n_pairs = rows.size
    padded = -(-n_pairs // len(devices)) * len(devices)  # pad with copies of pair (0, 0), dropped below
    rows, cols = (np.pad(x, (0, padded - n_pairs)) for x in (rows, cols))
    spread, copied = NamedSharding(mesh, P("pairs")), NamedSharding(mesh, P())
    blocks = blocks_fn(jax.device_put(features, copied), jax.device_put(rows, spread), jax.device_put(cols, spread))
    return np.asarray(blocks)[:n_pairs]


@functools.cache
def _blocks_sharded(n_devices: int):
    """(mesh, `_blocks_for_pairs` under `shard_map` over it), built (and compiled) once per device count."""
    from jax.sharding import PartitionSpec as P

    mesh = jax.make_mesh((n_devices,), ("pairs",))
    return mesh, jax.jit(
        jax.shard_map(_blocks_for_pairs, mesh=mesh, in_specs=(P(), P("pairs"), P("pairs")), out_specs=P("pairs"))
    )


def _flat_grads(trainable, frozen, points):
    """Per-point gradients of the scalar output, flattened: (n, P)."""

    def grad_one(r):
        grads = jax.jacrev(lambda p: _scalar_output(eqx.combine(p, frozen), r))(trainable)
        return ravel_pytree(grads)[0]

    return jax.vmap(grad_one)(points)


@eqx.filter_jit
def _jacobian_kernel(model, points: Array) -> Array:
    trainable, frozen = partition_trainable(model)
    jac = _flat_grads(trainable, frozen, points)  # (n, P): row i is jacrev of f(r_i)
    kernel = jac @ jac.T
    return 0.5 * (kernel + kernel.T)


@eqx.filter_jit
def _ntvp_kernel(model, points: Array, block_size: int) -> Array:
    trainable, frozen = partition_trainable(model)
    n = points.shape[0]
    n_blocks = -(-n // block_size)
    padded = jnp.pad(points, ((0, n_blocks * block_size - n), (0, 0))).reshape(n_blocks, block_size, -1)
    _, unravel = ravel_pytree(trainable)

    def outputs(p):
        return jax.vmap(lambda r: _scalar_output(eqx.combine(p, frozen), r))(points)  # (n,)

    def column_block(block_points):
        grads = _flat_grads(trainable, frozen, block_points)  # (b, P)
        return jax.vmap(lambda g: jax.jvp(outputs, (trainable,), (unravel(g),))[1])(grads)  # (b, n)

    columns = jax.lax.map(column_block, padded).reshape(n_blocks * block_size, n)[:n]  # (n, n)
    return 0.5 * (columns + columns.T)


@eqx.filter_jit
def _sparse_features(model, points: Array):
    return model.sparse_ntk_features(points)


def _sparse_kernel(model, points: Array) -> np.ndarray:
    """Θ of a grid encoding (`"sparse"` above): J_T (N, rows·F) as a SciPy CSR matrix with c·F entries per row (a hash
    collision within a point's entries is summed), J_T J_Tᵀ in sparse arithmetic, plus the head's dense terms."""
    import scipy.sparse

    rows, coefficients, head = _sparse_features(model, points)
    rows, coefficients = np.array(rows, np.int64), np.array(coefficients)  # writable copies (SciPy sorts in place)
    n, entries = rows.shape
    f = coefficients.shape[2]
    columns = (rows[:, :, None] * f + np.arange(f)).reshape(-1)
    jacobian = scipy.sparse.csr_matrix((coefficients.reshape(-1), columns, np.arange(n + 1) * entries * f),
                                       shape=(n, int(model.table_rows) * f))  # fmt: skip
    jacobian.sum_duplicates()
    kernel = (jacobian @ jacobian.T).toarray()
    for a, d in head:
        a, d = np.asarray(a), np.asarray(d)
        kernel += (d @ d.T) * (a @ a.T)
    return 0.5 * (kernel + kernel.T)


def memory_bytes(model, n_points: int, method: str, block_size: int, itemsize: int) -> int:
    """Peak bytes of one kernel computation (estimate): the kernel, its staging copies and per-method work.

    The structured method's per-layer features are sized with `jax.eval_shape` (nothing is allocated).
    """
    kernel = 3 * n_points**2 * itemsize  # blocks or Jacobian product, the assembled kernel, a transposed copy
    if method == "structured":
        feature_values = n_points * _feature_values_per_point(model)
        return kernel + 2 * feature_values * itemsize + 4 * block_size**2 * itemsize
    if method == "jacobian":
        return kernel + 3 * n_points * count_parameters(model) * itemsize
    if method == "sparse":  # the head's two n² temporaries, the tables' product (sparse, at most dense), and the
        # features with their SciPy copies (a value and an int64 index each, three times)
        return kernel + 4 * n_points**2 * itemsize + 3 * n_points * _feature_values_per_point(model) * (itemsize + 8)
    width = max(max(model.hidden), 2 * model.layers[0].in_features) if isinstance(model, DenseINR) else 1024
    return kernel + 3 * block_size * (count_parameters(model) + 4 * n_points * width) * itemsize


def _feature_values_per_point(model) -> int:
    """Values per point of `layer_features(model, ·)` (every group's A and D have one row per point; a grid
    encoding's `sparse_ntk_features`: rows, coefficients and its head's A and D), from
    `jax.eval_shape` at one point. Tracing the model costs about as much as a 4096-point kernel's assembly, so the
    count is kept per model structure (tree definition, static settings included, and leaf shapes)."""
    leaves, treedef = jax.tree_util.tree_flatten(model)
    shapes = tuple((x.shape, str(x.dtype)) if eqx.is_array(x) else None for x in leaves)
    try:
        key = (treedef, shapes)
        if key not in _FEATURE_COUNTS:
            if len(_FEATURE_COUNTS) >= 256:
                _FEATURE_COUNTS.clear()
            _FEATURE_COUNTS[key] = _count_features(model)
        return _FEATURE_COUNTS[key]
    except TypeError:  # a static setting that cannot be hashed: count without the cache
        return _count_features(model)


_FEATURE_COUNTS: dict[tuple, int] = {}


def _count_features(model) -> int:
    d = int(model.in_features) if hasattr(model, "in_features") else 2
    model_dtype = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype
    features = model.sparse_ntk_features if supports_sparse(model) else (lambda p: layer_features(model, p))
    shapes = jax.eval_shape(features, jax.ShapeDtypeStruct((1, d), model_dtype))
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(shapes))


def eigh_memory_bytes(n_points: int, itemsize: int) -> int:
    """Extra bytes of `eigh_descending` on an (n, n) kernel: LAPACK's copy of it, the eigenvectors, `syevd`'s
    workspace (1 + 6n + 2n² values) and the descending copy: about 5 n² values."""
    return 5 * n_points**2 * itemsize


_Method = TypeVar("_Method", bound=str)


def resolve_method(
    model, method: _Method, *, generic: _Method, what: str = "structured NTK"
) -> _Method | Literal["structured", "sparse"]:
    """ "auto" → "sparse" for a grid encoding (`supports_sparse`), else "structured" where `supports_structured(model)`,
    else `generic`; refuse "sparse" and "structured" where they do not apply."""
    if method == "auto":
        if supports_sparse(model):
            return "sparse"
        return "structured" if supports_structured(model) else generic
    if method == "sparse" and not supports_sparse(model):
        raise InrdictError(f"the sparse NTK route needs a grid encoding (family grid or hashgrid), not a "
                           f"{type(model).__name__}: use method='auto'")  # fmt: skip
    if method == "structured" and supports_sparse(model):
        raise InrdictError("a grid encoding's NTK has no layer-feature form: use method='sparse' (or 'auto')")
    if method == "structured" and not supports_structured(model):
        raise InrdictError(
            f"the {what} needs a DenseINR with trained layers or a model with structured_ntk_features; "
            f"a {type(model).__name__} is neither: use method='{generic}'"
        )
    return method


def empirical_ntk(
    model,
    points: Float[AnyArray, " n *d"],
    *,
    method: Method = "auto",
    block_size: int | None = None,
    dtype=None,
    max_bytes: int | None = None,
    reserve_bytes: int = 0,
) -> np.ndarray:
    """The empirical NTK Gram matrix Theta[i, j] = <df(r_i)/dtheta, df(r_j)/dtheta>, shape (n, n).

    Args:
        model: a single-output model; a `DenseINR` for ``method="structured"``, any Equinox module otherwise.
        points: (n, d) inputs (a 1-D array is taken as d = 1).
        method: "structured", "sparse", "ntvp", "jacobian", or "auto" (sparse for a grid encoding, else
            structured where it applies, else ntvp).
        block_size: points per block (structured default: 512; ntvp default: 16); the result does not depend on it.
        dtype: float32 or float64 (default: the model's). The model and the points are cast to it.
        max_bytes: refuse when the estimate exceeds this (default: 80 % of the memory available now).
        reserve_bytes: memory the caller needs on top of the kernel afterwards (e.g. `eigh_memory_bytes`),
            counted in the up-front check.

    Returns:
        The symmetrised kernel as a NumPy array of `dtype`.

    Raises:
        InrdictError: unknown method, float64 without x64 mode, a multi-output model, or a kernel that would not
            fit in memory (the message gives the bytes needed and what would fit).
    """
    if method not in METHODS:
        raise InrdictError(f"unknown NTK method {method!r}: choose one of {', '.join(METHODS)}")
    if getattr(model, "out_features", 1) != 1:
        raise InrdictError(f"the NTK needs a single-output model, this one has {model.out_features} outputs")
    method = resolve_method(model, method, generic="ntvp")
    points = as_rows(np.asarray(points))
    dtype = jnp.dtype(
        dtype if dtype is not None else jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype
    )
    if dtype == jnp.float64 and not jax.config.read("jax_enable_x64"):
        raise InrdictError(
            "a float64 NTK needs JAX's x64 mode: run inside `with jax.enable_x64(True):` or set JAX_ENABLE_X64=1"
        )
    if dtype not in (jnp.float32, jnp.float64):
        raise InrdictError(f"the NTK is computed in float32 or float64, not {dtype}")
    n = points.shape[0]
    if block_size is None:
        block_size = 16 if method == "ntvp" else min(512, n)
    if block_size < 1:
        raise InrdictError(f"block_size must be positive, got {block_size}")
    block_size = min(block_size, n)
    needed = memory_bytes(model, n, method, block_size, dtype.itemsize) + reserve_bytes
    cheaper = [] if method == "structured" or not supports_structured(model) else ["method='structured'"]
    cheaper += ["float32"] if dtype == jnp.float64 else []
    limit = int(USABLE_FRACTION * available_memory_bytes()) if max_bytes is None else max_bytes
    cheaper += [f"fewer than ~{int(n * math.sqrt(limit / needed))} points"]  # the N² terms dominate
    require_memory(needed, f"the {method} NTK of {n} points in {dtype.name}" + (" and its eigh" if reserve_bytes else ""),
                   f"use {' or '.join(cheaper)}", limit_bytes=limit)  # fmt: skip
    model = jax.tree_util.tree_map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, model)
    points = jnp.asarray(points, dtype)
    if method == "structured":
        blocks = _structured_blocks(_padded_features(model, points, block_size))
        return _assemble(blocks, -(-n // block_size), block_size, n)
    if method == "sparse":
        return _sparse_kernel(model, points)
    if method == "jacobian":
        return np.asarray(_jacobian_kernel(model, points))
    return np.asarray(_ntvp_kernel(model, points, block_size))


def eigh_descending(kernel: Float[AnyArray, "n n"]) -> tuple[np.ndarray, np.ndarray]:
    """All eigenpairs of a symmetric kernel, eigenvalues descending.

    Returns (eigvals (n,), eigvecs (n, n)) with unit eigenvector i in column i, in the kernel's dtype. Uses
    LAPACK's divide-and-conquer `syevd` (scipy), which for all n eigenpairs is far faster than a top-k Lanczos
    (the original code's `eigsh(k=2000)`), and gives the full spectrum so energy curves reach 100 %.
    """
    import scipy.linalg

    kernel = np.asarray(kernel)
    eigvals, eigvecs = scipy.linalg.eigh(kernel, driver="evd", check_finite=False)
    return eigvals[::-1].copy(), eigvecs[:, ::-1].copy()

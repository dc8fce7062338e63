"""The jitted products behind `NTKOperator`: Θ V from the structured layer features, from a grid encoding's sparse
features (`sparse_*`) or from `jax.vjp` / `jax.jvp` (`generic_*`), the P×P Gram products Jᵀ J W, and the features
themselves, on one device or split across several with `jax.shard_map` (the math: `inrdict.ntk.operator`)."""

from __future__ import annotations

import functools
import typing

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jaxtyping import Array

from inrdict.ntk.kernel import layer_features

AXIS = "points"  # the mesh axis the points are split along


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


def _sparse_transpose(features, vblocks: Array, total_rows: int, axis: str | None):
    """Jᵀ V from sparse features (`inrdict.models.grid.SparseNTKFeatures`, blocked (nb, b, …)): the tables' gradients
    U (total_rows, F, m), U[row] = Σ_{(n, c): rows_nc = row} K_nc v_n (a scatter-add), and per bias-free head layer
    M = Dᵀ [v_1 ⊙ A, ..., v_m ⊙ A] (out, m·in), accumulated over the blocks and `psum`-ed over `axis`."""
    rows, coefficients, head = features
    block, m = vblocks.shape[1], vblocks.shape[2]
    n_features = coefficients.shape[-1]

    def accumulate(carry, xs):
        tables, grads = carry
        (r, k, h), v = xs
        updates = (k[:, :, :, None] * v[:, None, None, :]).reshape(-1, n_features, m)  # (b·c, F, m)
        tables = tables.at[r.reshape(-1)].add(updates, indices_are_sorted=False, unique_indices=False)
        grads = [g + d.T @ (v[:, :, None] * a[:, None, :]).reshape(block, -1) for g, (a, d) in zip(grads, h)]
        return (tables, grads), None

    dtype = vblocks.dtype
    init = (jnp.zeros((total_rows, n_features, m), dtype),
            [jnp.zeros((d.shape[-1], m * a.shape[-1]), dtype) for a, d in head])  # fmt: skip
    (tables, grads), _ = jax.lax.scan(accumulate, _varying(init, axis), ((rows, coefficients, head), vblocks))
    if axis is not None:
        tables, grads = jax.lax.psum((tables, grads), axis)
    return tables, grads


def _sparse_forward(features, tables: Array, grads, m: int) -> Array:
    """J W (nb, b, m) for table directions `tables` (rows, F, m) and head directions `grads` [(out, m·in)]: row n is
    Σ_{c,f} K_ncf U[rows_nc, f] + Σ_k d_nᵀ M_k a_n (a gather)."""

    def apply(feats):
        r, k, h = feats
        y = jnp.einsum("bcf,bcfm->bm", k, tables[r])
        for grad, (a, d) in zip(grads, h):
            y = y + jnp.sum((d @ grad).reshape(a.shape[0], m, a.shape[-1]) * a[:, None, :], axis=-1)
        return y

    return jax.lax.map(apply, features)


def _sparse_local(features, vblocks: Array, total_rows: int, axis: str | None) -> Array:
    """Θ V = J (Jᵀ V) on this device's points from sparse features: a scatter-add and a gather per level entry,
    O(N L 2^d F m) for the tables plus 4 N m Σ_k in_k out_k for the head."""
    tables, grads = _sparse_transpose(features, vblocks, total_rows, axis)
    return _sparse_forward(features, tables, grads, vblocks.shape[2])


@functools.partial(jax.jit, static_argnames=("total_rows", "n_devices"))
def sparse_product(features, vblocks: Array, total_rows: int, n_devices: int) -> Array:
    if n_devices == 1:
        return _sparse_local(features, vblocks, total_rows, None)
    from jax.sharding import PartitionSpec as P

    local = functools.partial(_sparse_local, total_rows=total_rows, axis=AXIS)
    return jax.shard_map(local, mesh=mesh(n_devices), in_specs=(P(AXIS), P(AXIS)), out_specs=P(AXIS))(features, vblocks)


@eqx.filter_jit
def sparse_point_features(model, points: Array, mask: Array, n_devices: int):
    """`model.sparse_ntk_features` for points in blocks (nb, b, d); padding rows (mask 0) get zero coefficients
    and head sensitivities."""
    model_arrays, model_static = eqx.partition(model, eqx.is_array)

    def local(arrays, pts, msk):
        model = eqx.combine(arrays, model_static)

        def one_block(xs):
            block_points, block_mask = xs
            rows, coefficients, head = model.sparse_ntk_features(block_points)
            keep = block_mask[:, None]
            return rows, coefficients * keep[:, :, None], tuple((a, d * keep) for a, d in head)

        return jax.lax.map(one_block, (pts, msk))

    if n_devices == 1:
        return local(model_arrays, points, mask)
    from jax.sharding import PartitionSpec as P

    return jax.shard_map(local, mesh=mesh(n_devices), in_specs=(P(), P(AXIS), P(AXIS)), out_specs=P(AXIS))(
        model_arrays, points, mask
    )


@functools.cache
def mesh(n_devices: int):
    return jax.make_mesh((n_devices,), (AXIS,))


def spread(mesh) -> typing.Any:  # a NamedSharding
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    return NamedSharding(mesh, P(AXIS))


@functools.partial(jax.jit, static_argnames=("n_devices",))
def structured_product(features, vblocks: Array, n_devices: int) -> Array:
    if n_devices == 1:
        return _structured_local(features, vblocks, None)
    from jax.sharding import PartitionSpec as P

    local = functools.partial(_structured_local, axis=AXIS)
    return jax.shard_map(local, mesh=mesh(n_devices), in_specs=(P(AXIS), P(AXIS)), out_specs=P(AXIS))(features, vblocks)


@eqx.filter_jit
def generic_product(trainable, frozen, points: Array, mask: Array, vblocks: Array, n_devices: int) -> Array:
    frozen_arrays, frozen_static = eqx.partition(frozen, eqx.is_array)
    if n_devices == 1:
        return _generic_local(trainable, frozen_arrays, frozen_static, points, mask, vblocks, None)
    from jax.sharding import PartitionSpec as P

    def local(params, fixed, pts, msk, v):
        return _generic_local(params, fixed, frozen_static, pts, msk, v, AXIS)

    specs = (P(), P(), P(AXIS), P(AXIS), P(AXIS))
    return jax.shard_map(local, mesh=mesh(n_devices), in_specs=specs, out_specs=P(AXIS))(
        trainable, frozen_arrays, points, mask, vblocks
    )


@functools.partial(jax.jit, static_argnames=("n_devices", "rows_only"))
def structured_gram_product(features, flat: Array, n_devices: int, rows_only: bool = False) -> Array:
    """Jᵀ J W (P, m), or J W (nb, b, m) with `rows_only`, from the layer features."""
    if n_devices == 1:
        return _forward_rows(features, flat) if rows_only else _gram_local(features, flat, None)
    from jax.sharding import PartitionSpec as P

    body = _forward_rows if rows_only else functools.partial(_gram_local, axis=AXIS)
    out = P(AXIS) if rows_only else P()
    return jax.shard_map(body, mesh=mesh(n_devices), in_specs=(P(AXIS), P()), out_specs=out)(features, flat)


@eqx.filter_jit
def generic_gram_product(trainable, frozen, points: Array, mask: Array, flat: Array, n_devices: int,
                          rows_only: bool = False) -> Array:  # fmt: skip
    frozen_arrays, frozen_static = eqx.partition(frozen, eqx.is_array)
    if n_devices == 1:
        return _generic_gram_local(trainable, frozen_arrays, frozen_static, points, mask, flat, None, rows_only)
    from jax.sharding import PartitionSpec as P

    def local(params, fixed, pts, msk, w):
        return _generic_gram_local(params, fixed, frozen_static, pts, msk, w, AXIS, rows_only)

    specs = (P(), P(), P(AXIS), P(AXIS), P())
    out = P(AXIS) if rows_only else P()
    return jax.shard_map(local, mesh=mesh(n_devices), in_specs=specs, out_specs=out)(
        trainable, frozen_arrays, points, mask, flat
    )


@eqx.filter_jit
def point_features(model, points: Array, mask: Array, n_devices: int):
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

    return jax.shard_map(local, mesh=mesh(n_devices), in_specs=(P(), P(AXIS), P(AXIS)), out_specs=P(AXIS))(
        model_arrays, points, mask
    )

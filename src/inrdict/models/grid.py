"""Multiresolution grid encodings with a small MLP head (Müller, Evans, Schied & Keller, "Instant Neural Graphics
Primitives with a Multiresolution Hash Encoding", ACM ToG 41(4), SIGGRAPH 2022): the dense multigrid, the family
`grid` (its record is here), and the machinery the hash grid (`inrdict.models.hashgrid`, family `hashgrid`) shares.

**Levels** (paper eqs. 2–3). L levels between the coarsest resolution N_min and the finest N_max:

    b = exp((ln N_max − ln N_min) / (L − 1)),   N_l = ⌊N_min b^l⌋,   l = 0 … L − 1,

and level l places r ∈ [0, 1]^d at x_l = N_l r: its cell has the 2^d integer vertices ⌊x_l⌋ + {0, 1}^d, each
holding F trained features. The level's output is their d-linear interpolation, with weights ∏_i (1 − w_i) or w_i,
w = x_l − ⌊x_l⌋, and the encoding y (L·F,) concatenates the levels, coarsest first. Paper and reference code
differ here: tiny-cuda-nn (`include/tiny-cuda-nn/common_device.h`, `grid_scale` and `pos_fract`) places r at
(N_min b^l − 1) r + 1/2 without the floor, which staggers the levels but lets the top vertex of a dense level
wrap around (its own comment says so). We follow the paper: a dense level has exactly (N_l + 1)^d vertices.

**Tables.** A level is stored densely, one row per vertex, when its vertices fit a table of T rows
((N_l + 1)^d ≤ T, the paper's Sec. 3 rule); otherwise the vertex v is hashed (eq. 4),

    h(v) = (v_1 π_1 ⊕ v_2 π_2 ⊕ v_3 π_3) mod T,   π = (1, 2654435761, 805459861),

in unsigned 32-bit arithmetic that wraps around (tiny-cuda-nn's `coherent_prime_hash`), with no collision
handling. The dense multigrid never hashes (T = ∞). Outside [0, 1]^d a dense level holds its edge values (the
position is clamped to its box) and a hashed level hashes whatever vertices the point has, as tiny-cuda-nn does. Every table entry starts U(−1e-4, 1e-4) (paper Sec. 4;
tiny-cuda-nn `GridEncodingTemplated::initialize_params`).

**Rotated levels (R-MHE).** Dai & Fan (ICLR 2026, arXiv 2602.10495) rotate each level's coordinates by its own
rotation to remove the axis-aligned grid's anisotropy. Their choice of angles is not available to us, so ours is a
library choice: level l turns r about the centre of the unit cube, r' = R_l (r − ½) + ½, by θ_l = (π/2) l / L
(equally spaced over a quarter turn, the square's symmetry; in 3-D the same angles about the diagonal (1, 1, 1)/√3,
whose own symmetry is a third of a turn). A rotated dense level stores the padded box, about twice the vertices. A rotated
level's vertices run from −p to N_l + p per axis, p = ⌈N_l (√d − 1) / 2⌉, so that the turned cube stays inside.

**Head** (paper Sec. 4: "two hidden layers that have a width of 64 neurons and ReLU"; tiny-cuda-nn's
`FullyFusedMLP`, which has no biases and initialises every weight matrix Glorot-uniform U(±√(6 / (fan_in +
fan_out))), `src/fully_fused_mlp.cu` `initialize_params`): z_1 = relu(W_1 y), …, f(r) = W_out z_k, linear output.

Defaults of the dense multigrid: L = 16 levels of F = 2 features from N_min = 16 to N_max = 256 (tiny-cuda-nn's
DenseGrid defaults: `n_levels` 16, `n_features_per_level` 2, `base_resolution` 16 and a `per_level_scale` that
reaches 256, `src/encoding.cu` `create_grid_encoding`), coordinates in [0, 1]^d (tiny-cuda-nn's image sample).
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models.dense import _check_sizes
from inrdict.models.family import SOURCE_TCNN_IMAGE, Family, Recipe, register

HASH_PRIMES = (1, 2654435761, 805459861)  # paper eq. 4; tiny-cuda-nn `coherent_prime_hash`
INIT_BOUND = 1e-4  # tables U(±1e-4): paper Sec. 4, tiny-cuda-nn `GridEncodingTemplated::initialize_params`


class Level(NamedTuple):
    """One level's geometry: resolution N_l, its vertices lo … hi per axis, its rotation (d, d) (None: none) and
    its table: `rows` vertices stored densely, or hashed into `rows` = T rows."""

    resolution: int
    lo: int
    hi: int
    rotation: tuple[tuple[float, ...], ...] | None
    rows: int
    hashed: bool


def level_resolutions(levels: int, n_min: int, n_max: float) -> tuple[int, ...]:
    """N_l = ⌊N_min b^l⌋ with b = exp((ln N_max − ln N_min) / (L − 1)) (paper eqs. 2–3), in float64, each product
    rounded 1e-9 up so that round-off never floors a whole number to the one below (N_{L−1} = ⌊N_max⌋). N_max may
    be fractional: 16 · 1.5^15 gives tiny-cuda-nn's per-level scale 1.5 exactly."""
    if levels < 1 or n_min < 1 or n_max < n_min or (levels == 1 and n_max != n_min):
        raise InrdictError(f"grid levels need L ≥ 1 and 1 ≤ N_min ≤ N_max (N_min = N_max for one level), got "
                           f"L={levels}, N_min={n_min}, N_max={n_max}")  # fmt: skip
    if levels == 1:
        return (int(n_min),)
    growth = math.exp((math.log(n_max) - math.log(n_min)) / (levels - 1))
    return tuple(math.floor(n_min * growth**level + 1e-9) for level in range(levels))


def _rotation(angle: float, d: int) -> tuple[tuple[float, ...], ...] | None:
    """R_l for `angle` in d dimensions: the plane rotation in 2-D, about (1, 1, 1)/√3 in 3-D (Rodrigues)."""
    if d == 1 or angle == 0.0:
        return None
    c, s = math.cos(angle), math.sin(angle)
    if d == 2:
        return ((c, -s), (s, c))
    axis = np.full(3, 1.0 / math.sqrt(3.0))
    cross = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    matrix = c * np.eye(3) + s * cross + (1.0 - c) * np.outer(axis, axis)
    return tuple(tuple(float(x) for x in row) for row in matrix)


def plan_levels(d: int, levels: int, n_min: int, n_max: float, table: int | None, rotate: bool) -> tuple[Level, ...]:
    """Every level's geometry and table (module docstring); `table` = T (None: never hash)."""
    if not 1 <= d <= 3:
        raise InrdictError(f"grid encodings take 1 to 3 coordinates, got {d}")
    plan = []
    for index, resolution in enumerate(level_resolutions(levels, n_min, n_max)):
        rotation = _rotation(0.5 * math.pi * index / levels, d) if rotate else None
        pad = math.ceil(resolution * (math.sqrt(d) - 1.0) / 2.0) if rotation is not None else 0
        lo, hi = -pad, resolution + pad
        vertices = (hi - lo + 1) ** d
        hashed = table is not None and vertices > table
        plan.append(Level(resolution, lo, hi, rotation, int(table) if hashed and table else vertices, hashed))
    return tuple(plan)


def _vertex_rows(level: Level, vertices: Array) -> Array:
    """Table rows (2^d,) of integer vertices (2^d, d): the dense index Σ_i v_i side^i (first axis fastest, as
    tiny-cuda-nn's strides), or the hash."""
    if not level.hashed:
        shifted = vertices - level.lo
        side = level.hi - level.lo + 1
        return sum(shifted[:, axis] * side**axis for axis in range(vertices.shape[1]))
    codes = jax.lax.bitcast_convert_type(vertices, jnp.uint32)  # two's complement: negative vertices wrap
    mixed = codes[:, 0] * jnp.uint32(HASH_PRIMES[0])
    for axis in range(1, vertices.shape[1]):
        mixed = mixed ^ (codes[:, axis] * jnp.uint32(HASH_PRIMES[axis]))
    return (mixed % jnp.uint32(level.rows)).astype(jnp.int32)


def corners(level: Level, r: Float[Array, " d"]) -> tuple[Array, Float[Array, " c"]]:
    """The table rows (2^d,) int32 and d-linear weights (2^d,) of r's cell on one level (r ∈ [0, 1]^d)."""
    if level.rotation is not None:
        rotation = jnp.asarray(level.rotation, r.dtype)
        r = rotation @ (r - 0.5) + 0.5
    position = r * level.resolution
    if not level.hashed:  # a dense table ends at its box: outside it the level holds its edge values
        position = jnp.clip(position, level.lo, level.hi)
    cell = jnp.floor(position)
    if not level.hashed:
        cell = jnp.minimum(cell, level.hi - 1)  # the box's far face belongs to the last cell
    weight = position - cell  # (d,), in [0, 1]
    offsets = jnp.asarray(list(itertools.product((0, 1), repeat=r.shape[0])), jnp.int32)  # (2^d, d)
    vertices = cell.astype(jnp.int32)[None, :] + offsets
    weights = jnp.prod(jnp.where(offsets == 1, weight[None, :], 1.0 - weight[None, :]), axis=1)  # (2^d,)
    return _vertex_rows(level, vertices), weights


def interpolate(level: Level, table: Float[Array, "rows f"], r: Float[Array, " d"]) -> Float[Array, " f"]:
    """One level's features at r ∈ [0, 1]^d: the d-linear interpolation of its cell's 2^d vertices."""
    rows, weights = corners(level, r)
    return weights @ table[rows]


class SparseNTKFeatures(NamedTuple):
    """Per point, what the sparse NTK route needs (`inrdict.ntk.products`; n points, c = L·2^d table entries each):

    rows (n, c): the entries' rows in the levels' tables stacked end to end (level l's rows offset by the rows of
    the levels before it); coefficients (n, c, F): ∂f/∂T[row, f] = w_c ∂f/∂y_{l,f} (interpolation weight times the
    head's sensitivity to the level's feature f); head: per bias-free head layer u = W a, its input A (n, in) and
    output sensitivity D = ∂f/∂u (n, out). Then Θ = Σ_{c,c',f} [rows_ic = rows_jc'] K_icf K_jc'f + Σ_k (D_k D_kᵀ) ⊙
    (A_k A_kᵀ)."""

    rows: Array
    coefficients: Array
    head: tuple[tuple[Array, Array], ...]


class MultigridINR(eqx.Module):
    """A multiresolution grid encoding (module docstring) feeding a bias-free ReLU MLP: the dense multigrid.

    Args:
        in_features: d, 1 to 3 coordinates in [0, 1]^d.
        hidden: the head's hidden widths (paper: (64, 64)).
        out_features: outputs.
        levels, features: L levels of F features each, keyword-only.
        n_min, n_max: coarsest and finest resolution N_min, N_max, keyword-only.
        rotate: turn each level's coordinates (R-MHE, module docstring), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    tables: tuple[Float[Array, "rows f"], ...]
    head: tuple[Float[Array, "out in"], ...]
    frozen_fields: ClassVar[tuple[str, ...]] = ()  # tables and head are trained
    plan: tuple[Level, ...] = eqx.field(static=True)
    dimensions: int = eqx.field(static=True)
    features: int = eqx.field(static=True)
    n_min: int = eqx.field(static=True)
    n_max: float = eqx.field(static=True)
    rotate: bool = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (64, 64), out_features: int = 1, *,
                 levels: int = 16, features: int = 2, n_min: int = 16, n_max: float = 256.0, rotate: bool = False,
                 key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self._build(in_features, hidden, out_features, (levels, features, n_min, n_max, None, rotate), key, dtype)

    def _build(self, in_features: int, hidden, out_features: int, grid: tuple, key: PRNGKeyArray, dtype) -> None:
        """Shared by the subclasses: `grid` = (levels, features, n_min, n_max, table or None, rotate)."""
        levels, features, n_min, n_max, table, rotate = grid
        hidden = _check_sizes(in_features, hidden, out_features)
        for name, value in (("levels", levels), ("features", features), ("n_min", n_min)):
            if isinstance(value, bool) or int(value) != value:
                raise InrdictError(f"{name} must be a whole number, got {value}")
        if not math.isfinite(float(n_max)):
            raise InrdictError(f"n_max must be a finite resolution, got {n_max}")
        if features < 1:
            raise InrdictError(f"features per level must be positive, got {features}")
        self.plan = plan_levels(int(in_features), int(levels), int(n_min), float(n_max), table, bool(rotate))
        if self.table_rows >= 2**31:  # the stacked tables' rows are int32 (sparse NTK route)
            raise InrdictError(f"the levels' tables hold {self.table_rows:,} rows, over 2^31: use fewer levels, a "
                               "smaller table (log2_table) or a smaller n_max")  # fmt: skip
        self.dimensions, self.features = int(in_features), int(features)
        self.n_min, self.n_max, self.rotate = int(n_min), float(n_max), bool(rotate)
        table_key, head_key = jax.random.split(key)
        table_keys = jax.random.split(table_key, len(self.plan))
        self.tables = tuple(
            jax.random.uniform(k, (level.rows, self.features), dtype, -INIT_BOUND, INIT_BOUND)
            for k, level in zip(table_keys, self.plan)
        )
        sizes = (len(self.plan) * self.features, *hidden, out_features)
        head_keys = jax.random.split(head_key, len(sizes) - 1)
        self.head = tuple(
            jax.random.uniform(k, (n_out, n_in), dtype, -1.0, 1.0) * math.sqrt(6.0 / (n_in + n_out))
            for k, n_in, n_out in zip(head_keys, sizes[:-1], sizes[1:])
        )

    def encode(self, r: Float[Array, " d"]) -> Float[Array, " lf"]:
        """y (L·F,): the levels' interpolated features, coarsest first."""
        if r.shape != (self.dimensions,):
            raise InrdictError(f"this grid encoding takes {self.dimensions} coordinates, got shape {r.shape}")
        return jnp.concatenate([interpolate(level, table, r) for level, table in zip(self.plan, self.tables)])

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " out"]:
        z = self.encode(r)
        for weight in self.head[:-1]:
            z = jax.nn.relu(weight @ z)
        return self.head[-1] @ z

    def sparse_ntk_features(self, points: Float[Array, "n d"]) -> SparseNTKFeatures:
        """The per-point gradients of f in sparse form (`SparseNTKFeatures`): one forward and one backward sweep of
        the head (ReLU' = [u > 0], as `jax.nn.relu`'s derivative), for the sparse NTK route."""
        if points.ndim != 2 or points.shape[1] != self.dimensions:
            raise InrdictError(f"this grid encoding takes points of shape (n, {self.dimensions}), got {points.shape}")
        offsets = np.cumsum([0, *(level.rows for level in self.plan[:-1])])

        def one(r):
            found = [corners(level, r) for level in self.plan]
            y = jnp.concatenate([w @ table[rows] for (rows, w), table in zip(found, self.tables)])
            inputs, pre = [y], []
            for weight in self.head[:-1]:
                pre.append(weight @ inputs[-1])
                inputs.append(jax.nn.relu(pre[-1]))
            sensitivity = [jnp.ones((self.head[-1].shape[0],), y.dtype)]  # ∂f/∂u of the output layer
            grad = self.head[-1].T @ sensitivity[0]
            for weight, u in zip(self.head[-2::-1], pre[::-1]):
                sensitivity.insert(0, jnp.where(u > 0, grad, 0.0))
                grad = weight.T @ sensitivity[0]
            per_level = grad.reshape(len(self.plan), self.features)  # ∂f/∂y per level and feature
            rows = jnp.concatenate([rows + int(offset) for (rows, _), offset in zip(found, offsets)])
            weights = jnp.stack([w for _, w in found])  # (L, 2^d)
            coefficients = (weights[:, :, None] * per_level[:, None, :]).reshape(-1, self.features)
            return rows, coefficients, tuple(zip(inputs, sensitivity))

        rows, coefficients, head = jax.vmap(one)(points)
        return SparseNTKFeatures(rows, coefficients, head)

    @property
    def in_features(self) -> int:
        return self.dimensions

    @property
    def out_features(self) -> int:
        return self.head[-1].shape[0]

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(weight.shape[0] for weight in self.head[:-1])

    @property
    def activation_width(self) -> int:
        """The widest activation of one point (memory estimates): the encoding's L·F or the head's widest layer."""
        return max(len(self.plan) * self.features, *self.hidden, 2**self.dimensions * self.features)

    @property
    def levels(self) -> int:
        return len(self.plan)

    @property
    def table_rows(self) -> int:
        """Rows of every level's table together (the sparse NTK route's stacked tables)."""
        return sum(level.rows for level in self.plan)

    def hyperparameters(self) -> dict:
        return {"in_features": self.in_features, "hidden": list(self.hidden), "out_features": self.out_features,
                "levels": self.levels, "features": self.features, "n_min": self.n_min, "n_max": self.n_max,
                "rotate": self.rotate}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> MultigridINR:
        h = hyperparameters
        return cls(int(h["in_features"]), tuple(h["hidden"]), int(h["out_features"]), levels=int(h["levels"]),
                   features=int(h["features"]), n_min=int(h["n_min"]), n_max=float(h["n_max"]),
                   rotate=bool(h["rotate"]), key=jax.random.key(0), dtype=dtype)  # fmt: skip


GRID = register(Family(
    name="grid", build=MultigridINR, classes=(MultigridINR,), prng_id=111, domain=(0.0, 1.0),
    domain_source="tiny-cuda-nn samples/mlp_learning_an_image.cu: coordinates in [0, 1]^2",
    reference="Müller et al., SIGGRAPH 2022, dense levels (tiny-cuda-nn DenseGrid); Audia et al., ICLR 2025 "
              "(arXiv 2504.13412, multigrid parametric encodings)",
    # the knob: the finest resolution (paper Sec. 3: N_max is set by the finest detail; `inrdict.analysis.suggest`)
    knob="n_max", knob_fields={"n_max": "n_max"},
    depth=2, hidden=(64, 64),  # paper Sec. 4: two hidden layers of 64
    recipes=(Recipe("grid", "tcnn_image", 1e-2, 2000, f"{SOURCE_TCNN_IMAGE}; the encoding a DenseGrid",
                    target_range=(0.0, 1.0), domain=(0.0, 1.0), adam_b1=0.9, adam_b2=0.99, adam_eps=1e-15),),
))  # fmt: skip

"""The grid families (`inrdict.models.grid`, `inrdict.models.hashgrid`): levels and hash as the Instant-NGP paper
defines them (checked against an independent NumPy transcription), d-linear interpolation, the dense/hash split of
the reference image config, the empirical NTK against the jacrev oracle in float64, locality, checkpoints."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inrdict
from inrdict import ntk
from inrdict.errors import InrdictError
from inrdict.models import HashGridINR, MultigridINR, count_parameters, family, make_model, model_key
from inrdict.models.grid import level_resolutions, plan_levels
from tests.conftest import rel_error

SMALL = {"levels": 4, "n_min": 4, "n_max": 64}


def numpy_hash(vertices: np.ndarray, rows: int) -> np.ndarray:
    """Paper eq. 4 in uint64 arithmetic, reduced to 32 bits after each product: (⊕ v_i π_i mod 2^32) mod T."""
    primes = (1, 2654435761, 805459861)
    mixed = np.zeros(len(vertices), np.uint64)
    for axis in range(vertices.shape[1]):
        code = vertices[:, axis].astype(np.int64) % 2**32  # two's complement of a negative vertex
        mixed ^= (code.astype(np.uint64) * np.uint64(primes[axis])) % np.uint64(2**32)
    return (mixed % np.uint64(rows)).astype(np.int64)


def test_levels_follow_the_papers_equations_2_and_3():
    for levels, n_min, n_max in ((16, 16, 512), (16, 16, 16 * 1.5**15), (8, 16, 256), (5, 3, 3000)):
        resolutions = level_resolutions(levels, n_min, n_max)
        growth = np.exp((np.log(n_max) - np.log(n_min)) / (levels - 1))
        expected = [int(np.floor(n_min * growth**level + 1e-9)) for level in range(levels)]
        assert list(resolutions) == expected and resolutions[0] == n_min and resolutions[-1] == int(n_max)
    # tiny-cuda-nn's image sample (per_level_scale 1.5, base 16): N_l = ⌊16 · 1.5^l⌋, whole products not floored below
    assert level_resolutions(16, 16, 16 * 1.5**15) == tuple(int(16 * 1.5**level) for level in range(16))
    with pytest.raises(InrdictError, match="N_min ≤ N_max"):
        level_resolutions(4, 32, 16)


def test_the_reference_image_config_hashes_its_ten_finest_levels():
    """2-D, T = 2^15: a level is dense iff (N_l + 1)² ≤ T, i.e. N_l ≤ 180: N_l = 16, 24, 36, 54, 81, 121 dense."""
    model = make_model("hashgrid", key=model_key("hashgrid", 0))
    assert [level.resolution for level in model.plan[:7]] == [16, 24, 36, 54, 81, 121, 182]
    assert [level.hashed for level in model.plan] == [False] * 6 + [True] * 10 and model.hashed_levels == 10
    assert [level.rows for level in model.plan[:2]] == [17**2, 25**2] and model.plan[-1].rows == 2**15
    tables = sum(level.rows for level in model.plan) * 2
    head = 32 * 64 + 64 * 64 + 64  # L·F = 32 inputs, (64, 64), 1 output, no biases
    assert count_parameters(model) == tables + head


def test_the_hash_is_equation_4_with_wrapping_32_bit_products():
    level = plan_levels(3, 1, 1000, 1000, 2**11, False)[0]
    assert level.hashed
    rng = np.random.default_rng(0)
    vertices = rng.integers(-5, 1000, (64, 3)).astype(np.int32)
    from inrdict.models.grid import _vertex_rows

    got = np.asarray(_vertex_rows(level, jnp.asarray(vertices)))
    assert np.array_equal(got, numpy_hash(vertices, 2**11))


@pytest.mark.parametrize("rotate", [False, True])
def test_a_dense_level_interpolates_d_linearly(rotate):
    """Tables holding g(v / N_l) for an affine g give back g at every point: d-linear interpolation is exact on
    affine functions (rotated levels: g of the turned point)."""
    model = MultigridINR(2, (4,), 1, levels=2, features=1, n_min=3, n_max=7, rotate=rotate, key=jax.random.key(0))
    slope, offset = np.array([0.7, -1.3]), 0.25
    tables = []
    for level in model.plan:
        axis = np.arange(level.lo, level.hi + 1) / level.resolution
        grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1)  # [i, j] = (v_0, v_1) / N
        values = grid @ slope + offset
        tables.append(jnp.asarray(values.T.reshape(-1, 1), jnp.float32))  # row = v_0 + side · v_1
    points = np.random.default_rng(1).uniform(0, 1, (50, 2)).astype(np.float32)
    for level, table in zip(model.plan, tables):
        from inrdict.models.grid import interpolate

        got = np.asarray(jax.vmap(lambda r, level=level, table=table: interpolate(level, table, r))(points))[:, 0]
        turned = points if level.rotation is None else (points - 0.5) @ np.asarray(level.rotation).T + 0.5
        assert np.max(np.abs(got - (turned @ slope + offset))) < 1e-5


@pytest.mark.parametrize(("name", "d", "knobs"), [
    ("grid", 2, {}), ("grid", 3, {"rotate": True}), ("hashgrid", 2, {"log2_table": 8}),
    ("hashgrid", 2, {"log2_table": 8, "rotate": True}), ("hashgrid", 1, {"log2_table": 5}),
])  # fmt: skip
def test_ntk_matches_the_jacobian_oracle_in_float64(name, d, knobs):
    with jax.enable_x64(True):
        settings = {**SMALL, **({"n_max": 16} if d == 3 else {}), **knobs}
        model = make_model(name, d, (16, 16), 1, key=model_key(name, 0), **settings)
        points = np.random.default_rng(0).uniform(0.0, 1.0, (23, d))
        oracle = ntk.empirical_ntk(model, points, method="jacobian", dtype=jnp.float64)
        assert np.trace(oracle) > 0
        for method in ("auto", "sparse", "ntvp"):  # auto is the sparse kernel for a grid encoding
            assert rel_error(ntk.empirical_ntk(model, points, dtype=jnp.float64, method=method), oracle) <= 1e-10
        vectors = np.random.default_rng(1).standard_normal((23, 3))
        for method in ("auto", "sparse", "generic"):  # auto is the sparse route for a grid encoding
            operator = ntk.NTKOperator(model, points, dtype=np.float64, block_size=8, method=method)
            assert operator.method == ("generic" if method == "generic" else "sparse")
            assert rel_error(operator.matmat(vectors), oracle @ vectors) <= 1e-10


def test_the_sparse_route_gives_the_oracles_top_eigenpairs_on_both_routes_and_two_devices():
    """Top eigenpairs through the sparse products (N×N route) and the P×P route (generic products behind the
    sparse operator) against the oracle's eigh, and the sparse products split across 2 (fake CPU) devices."""
    import os
    import subprocess
    import sys

    with jax.enable_x64(True):
        model = make_model("hashgrid", 2, (8,), 1, key=model_key("hashgrid", 1), **SMALL, log2_table=7)
        points = inrdict.io.data.ntk_grid(12)
        dense = ntk.eigh_descending(ntk.empirical_ntk(model, points, method="jacobian", dtype=jnp.float64))[0]
        for route in ("points", "parameters"):
            pairs = ntk.top_eigenpairs(model, points, 4, ntk.SolverOptions(tol=1e-10, route=route), dtype=jnp.float64)
            assert pairs.route == route and np.max(np.abs(pairs.eigvals - dense[:4])) <= 1e-8 * dense[0]
        for method in ("auto", "sparse", "ntvp"):  # wrong coordinate counts are refused, never indexed
            for bad in (points[:, :1], np.pad(points, ((0, 0), (0, 1))), points[:, 0]):
                with pytest.raises(InrdictError, match="takes"):
                    ntk.empirical_ntk(model, bad, method=method, dtype=jnp.float64)
        with pytest.raises(InrdictError, match="use method='sparse'"):
            ntk.empirical_ntk(model, points, method="structured")
        assert ntk.choose_route(ntk.NTKOperator(model, points, dtype=np.float64), 4) == "points"
        siren = make_model("siren", 2, (8,), 1, key=model_key("siren", 0))
        with pytest.raises(InrdictError, match="sparse NTK route needs a grid encoding"):
            ntk.NTKOperator(siren, points, method="sparse")
        with pytest.raises(InrdictError, match="sparse NTK route needs a grid encoding"):
            ntk.empirical_ntk(siren, points, method="sparse")
    code = """
import jax, jax.numpy as jnp, numpy as np
from inrdict import ntk
from inrdict.models import make_model, model_key
assert jax.device_count() == 2, jax.devices()
with jax.enable_x64(True):
    model = make_model("hashgrid", 2, (8,), 1, key=model_key("hashgrid", 1), levels=4, n_min=4, n_max=64,
                       log2_table=7, dtype=jnp.float64)
    points = np.random.default_rng(0).uniform(0.0, 1.0, (29, 2))  # 15 per device, blocks of 4, padded
    vectors = np.random.default_rng(1).standard_normal((29, 3))
    operator = ntk.NTKOperator(model, points, block_size=4)
    assert operator.n_devices == 2 and operator.method == "sparse"
    oracle = ntk.empirical_ntk(model, points, method="jacobian")
    print(np.linalg.norm(operator.matmat(vectors) - oracle @ vectors) / np.linalg.norm(oracle @ vectors))
"""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.split()[-1]) < 1e-12


def test_the_tables_kernel_is_local_and_the_hash_adds_collisions():
    """With the head's weights fixed, the kernel of the tables alone, Θ_T(r, r') = Σ ∂f/∂T(r) · ∂f/∂T(r'), is zero
    between points that share no cell at any level of a dense multigrid, and (almost surely) not once a tiny table
    makes distant vertices collide."""

    def table_kernel(model, points):
        def f(tables, r):
            return jnp.squeeze(type(model).__call__(_with_tables(model, tables), r))

        jac = jax.vmap(jax.grad(f), in_axes=(None, 0))(model.tables, jnp.asarray(points))
        flat = jnp.concatenate([x.reshape(len(points), -1) for x in jac], axis=1)
        return np.asarray(flat @ flat.T)

    with jax.enable_x64(True):
        points = np.array([[0.05, 0.05], [0.93, 0.91]])  # no shared cell at N = 4 … 16
        dense = MultigridINR(2, (8,), 1, levels=3, n_min=4, n_max=16, key=jax.random.key(0), dtype=jnp.float64)
        kernel = table_kernel(dense, points)
        assert kernel[0, 0] > 0 and abs(kernel[0, 1]) <= 1e-12 * kernel[0, 0]
        tiny = HashGridINR(2, (8,), 1, levels=3, n_min=4, n_max=16, log2_table=2, key=jax.random.key(0),
                           dtype=jnp.float64)  # fmt: skip
        assert tiny.hashed_levels == 3
        kernel = table_kernel(tiny, points)
        assert abs(kernel[0, 1]) > 1e-6 * kernel[0, 0]


def _with_tables(model, tables):
    import equinox as eqx

    return eqx.tree_at(lambda m: m.tables, model, tables)


def test_checkpoints_and_bad_settings(tmp_path):
    model = make_model("hashgrid", 2, (8,), 1, key=model_key("hashgrid", 3), rotate=True, **SMALL, log2_table=6)
    loaded, _ = inrdict.load_model(inrdict.save_model(tmp_path / "grid.npz", model))
    assert type(loaded) is HashGridINR and loaded.hyperparameters() == model.hyperparameters()
    points = np.random.default_rng(0).uniform(0, 1, (7, 2)).astype(np.float32)
    assert np.array_equal(jax.vmap(loaded)(points), jax.vmap(model)(points))
    assert (
        family.family_of(model) == "hashgrid"
        and family.family_of(make_model("grid", key=model_key("grid", 0), **SMALL)) == "grid"
    )
    for knobs, message in (({"log2_table": 40}, "log2_table"), ({"features": 0}, "features per level"),
                           ({"n_min": 32, "n_max": 16}, "N_min ≤ N_max")):  # fmt: skip
        with pytest.raises(InrdictError, match=message):
            make_model("hashgrid", key=model_key("hashgrid", 0), **knobs)
    with pytest.raises(InrdictError, match="1 to 3 coordinates"):
        make_model("grid", 4, key=model_key("grid", 0), **SMALL)
    # the tables start U(±1e-4) (paper Sec. 4), spread over that range
    assert all(1e-5 < float(jnp.max(jnp.abs(t))) <= 1e-4 for t in model.tables)


def test_outside_the_unit_cube_a_dense_level_holds_its_edge_values():
    """Clamped, not extrapolated: a point beyond the box reads the same features as its projection on the box."""
    from inrdict.models.grid import interpolate

    model = MultigridINR(2, (4,), 1, levels=2, n_min=3, n_max=7, key=jax.random.key(0))
    for level, table in zip(model.plan, model.tables):
        outside = np.array([[-0.7, 0.4], [1.8, 0.25], [1.3, -2.0]], np.float32)
        projected = np.clip(outside, 0.0, 1.0)
        read = jax.vmap(lambda r, level=level, table=table: interpolate(level, table, r))
        assert np.allclose(read(outside), read(projected), atol=1e-12)


@pytest.mark.parametrize("d", [1, 3])
def test_interpolation_is_exact_on_affine_functions_in_1_and_3_d_corners_included(d):
    """Tables holding g(v / N) for an affine g: the level returns g(r) at random points and at every corner of the
    unit cube (r = 1 reads the top vertex, the last cell's far face)."""
    from inrdict.models.grid import interpolate

    model = MultigridINR(d, (4,), 1, levels=1, features=1, n_min=5, n_max=5, key=jax.random.key(0))
    (level,) = model.plan
    slope, offset = np.linspace(0.4, -1.1, d), 0.3
    axis = np.arange(level.lo, level.hi + 1) / level.resolution
    vertices = np.stack(np.meshgrid(*[axis] * d, indexing="ij"), -1)  # [i_0, …, i_{d-1}] = v / N
    table = (vertices @ slope + offset).transpose(*range(d)[::-1]).reshape(-1, 1)  # row Σ v_i side^i
    corners = np.array(list(__import__("itertools").product((0.0, 1.0), repeat=d)))
    points = np.concatenate([np.random.default_rng(2).uniform(0, 1, (20, d)), corners]).astype(np.float32)
    got = np.asarray(jax.vmap(lambda r: interpolate(level, jnp.asarray(table, jnp.float32), r))(points))[:, 0]
    assert np.max(np.abs(got - (points @ slope + offset))) < 1e-5


def test_a_level_exactly_filling_its_table_is_dense():
    """(N + 1)^d = T is one-to-one (the paper's rule is ≤), T + 1 vertices are hashed."""
    (level,) = plan_levels(2, 1, 15, 15, 16**2, False)
    assert not level.hashed and level.rows == 256
    (level,) = plan_levels(2, 1, 16, 16, 16**2, False)
    assert level.hashed and level.rows == 256


def test_bad_numbers_and_coordinates_are_refused_in_one_line():
    from jaxtyping import TypeCheckError

    with pytest.raises(InrdictError, match="n_max must be a finite"):
        make_model("hashgrid", key=model_key("hashgrid", 0), n_max=float("nan"))
    for knobs in ({"n_min": 16.7}, {"levels": 2.5}, {"log2_table": 2.5}):  # the tests' type checks may see it first
        with pytest.raises((InrdictError, TypeCheckError), match=r"must be a whole number|must lie|Type-check error"):
            make_model("hashgrid", key=model_key("hashgrid", 0), **knobs)
    model = make_model("grid", 2, key=model_key("grid", 0), **SMALL)
    with pytest.raises(InrdictError, match="takes 2 coordinates, got shape"):
        model(jnp.zeros(3))

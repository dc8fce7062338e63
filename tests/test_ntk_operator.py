"""Matrix-free NTK products and top-k eigenpairs (`inrdict.ntk`) against the dense kernels."""

import dataclasses
import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from inrdict import ntk
from inrdict.errors import InrdictError
from inrdict.io.data import ntk_grid
from inrdict.models import FFN, FFNStar, ReluMLP, Siren, gaussian_frequencies, single_frequency
from inrdict.ntk import (
    NTKOperator,
    SolverOptions,
    TopEigenpairs,
    ntk_matmat,
    storing_pays,
    top_eigenpairs,
    top_eigenpairs_of,  # fmt: skip
)
from inrdict.ntk import products as ntk_products
from tests.conftest import rel_error

TOLERANCE = {jnp.float32: 1e-5, jnp.float64: 1e-12}


@pytest.fixture(autouse=True)
def strict_promotion():
    """The operator must not rely on implicit dtype promotion (rank promotion is already 'raise' in conftest)."""
    with jax.numpy_dtype_promotion("strict"):
        yield


def dense_ntk(model, points, **kwargs) -> np.ndarray:
    """`ntk.empirical_ntk` (the reference), run under standard promotion: only the operator is held to "strict"."""
    with jax.numpy_dtype_promotion("standard"):
        return ntk.empirical_ntk(model, jnp.asarray(points), **kwargs)


def cast(model, dtype):
    return jax.tree_util.tree_map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, model)


def model_zoo(dtype):
    keys = jax.random.split(jax.random.key(11), 7)
    return {
        "relu": ReluMLP(2, (16, 16), 1, key=keys[0], dtype=dtype),
        "ffn rff": FFN(gaussian_frequencies(keys[1], 8, 2, 10.0).astype(dtype), (16, 16), 1, key=keys[2], dtype=dtype),
        "ffn f0=1": FFN(single_frequency(1.0).astype(dtype), (12,), 1, key=keys[3], dtype=dtype),
        "siren ntk": Siren(2, (16, 16, 16), 1, first_omega0=30.0, convention="ntk", key=keys[4], dtype=dtype),
        "siren fit": Siren(2, (20, 12), 1, first_omega0=30.0, hidden_omega0=10.0, convention="fit", key=keys[5],
                           dtype=dtype),
        "eqx mlp (generic)": cast(eqx.nn.MLP(2, 1, 8, 2, activation=jnp.tanh, key=keys[6]), dtype),
    }  # fmt: skip


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("name", list(model_zoo(jnp.float32)))
def test_products_equal_the_dense_kernels(name, dtype):
    with jax.enable_x64(dtype == jnp.float64):
        model = model_zoo(dtype)[name]
        points = ntk_grid(6)  # 36 points in blocks of 8: several blocks and a padded one
        vectors = np.random.default_rng(0).standard_normal((36, 5)).astype(dtype)
        operator = NTKOperator(model, points, block_size=8, dtype=dtype)
        assert operator.method == ("generic" if name.startswith("eqx") else "structured")
        assert operator.shape == (36, 36) and operator.dtype == np.dtype(dtype)
        product = operator.matmat(vectors)
        assert product.shape == (36, 5) and product.dtype == np.dtype(dtype)
        oracle = dense_ntk(model, points, method="jacobian", dtype=dtype).astype(np.float64)
        assert rel_error(product, oracle @ vectors) <= TOLERANCE[dtype]
        if operator.method == "structured":
            structured = dense_ntk(model, points, method="structured", dtype=dtype).astype(np.float64)
            assert rel_error(product, structured @ vectors) <= TOLERANCE[dtype]
            generic = NTKOperator(model, points, block_size=8, dtype=dtype, method="generic").matmat(vectors)
            assert rel_error(generic, oracle @ vectors) <= TOLERANCE[dtype]
        assert rel_error(operator.matvec(vectors[:, 1]), oracle @ vectors[:, 1]) <= TOLERANCE[dtype]
        assert operator.products == 6


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("name", ["relu", "siren fit", "ffn* (rotated features)"])
def test_stored_kernel_products_equal_the_dense_kernels(name, dtype):
    """`store()` keeps the upper triangle (block rows, halved diagonal blocks); products must not change."""
    with jax.enable_x64(dtype == jnp.float64):
        zoo = model_zoo(dtype)
        zoo["ffn* (rotated features)"] = FFNStar(gaussian_frequencies(jax.random.key(3), 6, 2, 5.0).astype(dtype),
                                                 (12,), 1, key=jax.random.key(4), dtype=dtype)  # fmt: skip
        model, points = zoo[name], ntk_grid(6)  # 36 points in blocks of 8: 5 block rows, the last one padded
        vectors = np.random.default_rng(2).standard_normal((36, 5)).astype(dtype)
        operator = NTKOperator(model, points, block_size=8, dtype=dtype)
        free = operator.matmat(vectors)
        operator.store()
        assert operator.stored and operator.stored_bytes() == 15 * 8 * 8 * np.dtype(dtype).itemsize
        stored = operator.matmat(vectors)
        oracle = dense_ntk(model, points, method="jacobian", dtype=dtype).astype(np.float64)
        assert stored.dtype == np.dtype(dtype) and rel_error(stored, oracle @ vectors) <= TOLERANCE[dtype]
        assert rel_error(stored, free) <= TOLERANCE[dtype]
        assert rel_error(operator.matvec(vectors[:, 0]), oracle @ vectors[:, 0]) <= TOLERANCE[dtype]
        raw = operator.matmat(np.eye(36, dtype=dtype))  # Θ column by column, not symmetrised afterwards
        assert rel_error(raw, raw.T) <= TOLERANCE[dtype] and rel_error(operator.dense(), oracle) <= TOLERANCE[dtype]


def test_block_size_and_column_chunks_do_not_change_products():
    with jax.enable_x64(True):
        model = Siren(2, (16, 16), 1, key=jax.random.key(1), dtype=jnp.float64)
        points = ntk_grid(5)
        vectors = np.random.default_rng(1).standard_normal((25, 5))
        reference = dense_ntk(model, points) @ vectors
        for block_size, max_columns in [(1, 64), (7, 2), (25, 5), (64, 1)]:
            operator = NTKOperator(model, points, block_size=block_size, max_columns=max_columns)
            assert rel_error(operator.matmat(vectors), reference) < 1e-13
        assert rel_error(ntk_matmat(model, points, vectors), reference) < 1e-13
        assert rel_error(operator.dense(), dense_ntk(model, points)) < 1e-13


def test_products_compile_once_per_shape():
    """A second operator of the same shapes (other weights, other omega) reuses the compiled product."""
    points = ntk_grid(6)
    first = NTKOperator(Siren(2, (16,), 1, first_omega0=5.0, key=jax.random.key(2)), points)
    first.matmat(np.ones((36, 3), np.float32))
    compiled = ntk_products.structured_product._cache_size()
    second = NTKOperator(Siren(2, (16,), 1, first_omega0=50.0, key=jax.random.key(3)), points)
    for _ in range(2):
        second.matmat(np.ones((36, 3), np.float32))
    first.matvec(np.ones(36, np.float32))  # a new width compiles once more
    assert ntk_products.structured_product._cache_size() == compiled + 1


def gap_index(eigvals: np.ndarray, k: int) -> int:
    """The j ≤ k with the largest relative gap λ_{j-1}/λ_j among the leading k: the top-j subspace is well defined."""
    ratios = eigvals[: k - 1] / eigvals[1:k]
    return int(np.argmax(ratios[k // 4 :]) + k // 4 + 1)


def check_against_dense(result: TopEigenpairs, kernel: np.ndarray, k: int, tol: float) -> float:
    """Eigenvalues, residuals and the leading well-separated subspace against `eigh_descending(kernel)`."""
    dense_vals, dense_vecs = ntk.eigh_descending(kernel)
    dense_vals, dense_vecs = dense_vals.astype(np.float64), dense_vecs.astype(np.float64)
    lam0 = dense_vals[0]
    assert result.eigvals.shape == (k,) and result.eigvecs.shape == (kernel.shape[0], k)
    assert np.all(np.diff(result.eigvals) <= 0)
    assert np.allclose(np.linalg.norm(result.eigvecs.astype(np.float64), axis=0), 1.0, atol=1e-5)
    # Eigenvalues: each Rayleigh–Ritz value lies within its residual of the true one.
    assert np.max(np.abs(result.eigvals - dense_vals[:k])) / lam0 <= tol
    # The reported residuals are the true ones.
    vecs = result.eigvecs.astype(np.float64)
    true_residuals = np.linalg.norm(kernel.astype(np.float64) @ vecs - vecs * result.eigvals.astype(np.float64), axis=0)
    true_residuals /= lam0
    assert result.converged and result.residuals.max() <= tol
    assert np.allclose(result.residuals, true_residuals, rtol=0.05, atol=10 * np.finfo(kernel.dtype).eps)
    # Subspaces (Davis–Kahan: sin angle ≤ ‖R‖ / gap) on a leading block that a clear gap separates from the rest.
    j = gap_index(dense_vals, k)
    gap = (result.eigvals[j - 1] - dense_vals[j]) / lam0
    assert gap > 0.01, (j, gap)
    angle = scipy.linalg.subspace_angles(vecs[:, :j], dense_vecs[:, :j]).max()
    bound = np.linalg.norm(true_residuals[:j]) / gap
    assert np.sin(angle) <= 2 * bound + 1e-5, (j, angle, bound)
    return angle


@pytest.mark.parametrize("store_kernel", [False, None])
def test_top_eigenpairs_match_eigh_32x32(store_kernel):
    """The Figs. 4–5 SIREN (2 → 256 ×4 → 1, "ntk", ω0 = 30), float32, at 32²: matrix-free, and by default with
    the kernel's upper triangle stored (at this size forming it costs fewer flops than the solver's products)."""
    model = Siren(2, (256,) * 4, 1, first_omega0=30.0, convention="ntk", key=jax.random.key(0))
    points = ntk_grid(32)
    result = top_eigenpairs(model, points, 32, SolverOptions(tol=1e-4, store_kernel=store_kernel))
    assert result.method == "block" and result.matvecs < 10 * 32
    assert result.stored_kernel == (store_kernel is None)
    check_against_dense(result, dense_ntk(model, points), 32, 1e-4)
    # The same solve on a prebuilt operator (reusable across k and tol) gives the same pairs.
    again = top_eigenpairs_of(NTKOperator(model, points), 32, SolverOptions(tol=1e-4, store_kernel=store_kernel))
    assert again.matvecs == result.matvecs and np.allclose(again.eigvals, result.eigvals, rtol=1e-5)


def test_storing_the_kernel_is_chosen_only_where_it_pays():
    points = ntk_grid(64)
    wide = Siren(2, (256,) * 4, 1, key=jax.random.key(0))
    narrow = Siren(2, (16,), 1, key=jax.random.key(0))
    generic = eqx.nn.MLP(2, 1, 256, 2, key=jax.random.key(1))
    assert storing_pays(NTKOperator(wide, points), 64)  # forming ≈ 40 products' flops, the solve ≈ 160
    assert not storing_pays(NTKOperator(wide, points), 4)  # a handful of pairs: ~10 products are cheaper
    assert not storing_pays(NTKOperator(narrow, points), 64)  # P = 65: products are cheaper than a 4096² kernel
    assert not storing_pays(NTKOperator(generic, points), 64)  # no structured features to form it from
    with pytest.raises(InrdictError, match="structured method"):
        NTKOperator(generic, points).store()
    with pytest.raises(InrdictError, match=r"upper triangle\) needs about .* keep it matrix-free"):
        NTKOperator(wide, points).store(max_bytes=10_000_000)


def test_top_eigenpairs_match_eigh_64x64():
    """A narrower SIREN (2 → 64 ×3 → 1) at 64², float32."""
    model = Siren(2, (64, 64, 64), 1, first_omega0=30.0, convention="ntk", key=jax.random.key(4))
    points = ntk_grid(64)
    result = top_eigenpairs(model, points, 24, SolverOptions(tol=1e-4))
    check_against_dense(result, dense_ntk(model, points), 24, 1e-4)


def test_top_eigenpairs_float64_to_a_tight_tolerance():
    with jax.enable_x64(True):
        model = Siren(2, (64, 64, 64), 1, first_omega0=30.0, convention="ntk", key=jax.random.key(4), dtype=jnp.float64)
        points = ntk_grid(24)
        result = top_eigenpairs(model, points, 24, SolverOptions(tol=1e-9))
        assert result.eigvecs.dtype == np.float64 and result.method == "block"
        assert check_against_dense(result, dense_ntk(model, points), 24, 1e-9) < 1e-6


@pytest.mark.parametrize("method", ["eigsh", "lobpcg"])
def test_scipy_solvers_over_the_operator(method):
    model = Siren(2, (32, 32), 1, first_omega0=10.0, convention="ntk", key=jax.random.key(5))
    points = ntk_grid(16)  # 256 points > the default basis (144 for k = 8), so the solver really runs
    kernel = dense_ntk(model, points).astype(np.float64)
    with jax.enable_x64(True):  # LOBPCG's own arithmetic is float64; the products stay float32
        result = top_eigenpairs(model, points, 8, SolverOptions(method=method, tol=1e-4))
    assert result.method == method and result.eigvecs.dtype == np.float32
    dense_vals = ntk.eigh_descending(kernel)[0]
    assert np.max(np.abs(result.eigvals - dense_vals[:8])) / dense_vals[0] < 1e-4
    assert result.residuals.max() < 1e-3


def test_tiny_problems_are_solved_densely():
    model = ReluMLP(2, (8,), 1, key=jax.random.key(6))
    points = ntk_grid(4)
    result = top_eigenpairs(model, points, 3)
    assert result.method == "dense" and result.matvecs == 16
    assert dataclasses.is_dataclass(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.method = "block"
    dense_vals = ntk.eigh_descending(dense_ntk(model, points).astype(np.float64))[0]
    assert np.allclose(result.eigvals, dense_vals[:3], rtol=1e-5)


def test_refusals_are_clear():
    model = Siren(2, (16,), 1, key=jax.random.key(7))
    points = ntk_grid(8)
    with pytest.raises(InrdictError, match=r"matrix-free NTK of 64 points .* needs about .* GiB .* available: use fewer"):  # noqa: E501
        NTKOperator(model, points, max_bytes=10_000)
    with pytest.raises(InrdictError, match="needs about"):
        top_eigenpairs(model, points, 4, max_bytes=100_000)
    with pytest.raises(InrdictError, match="single-output"):
        NTKOperator(Siren(2, (8,), 3, key=jax.random.key(8)), points)
    with pytest.raises(InrdictError, match="single-output"):
        NTKOperator(eqx.nn.MLP(2, 2, 4, 1, key=jax.random.key(9)), points)
    with pytest.raises(InrdictError, match="structured NTK operator needs"):
        NTKOperator(eqx.nn.MLP(2, 1, 4, 1, key=jax.random.key(9)), points, method="structured")
    with pytest.raises(InrdictError, match="k must be between"):
        top_eigenpairs(model, points, 65)
    with pytest.raises(InrdictError, match="unknown eigensolver"):
        top_eigenpairs(model, points, 4, SolverOptions(method="arnoldi"))
    with pytest.raises(InrdictError, match="below what float32"):
        top_eigenpairs(model, points, 4, SolverOptions(tol=1e-9))
    with pytest.raises(InrdictError, match=r"shape \(64, m\)"):
        NTKOperator(model, points).matmat(np.ones((63, 2), np.float32))
    if not jax.config.read("jax_enable_x64"):
        with pytest.raises(InrdictError, match="x64"):
            NTKOperator(model, points, dtype=jnp.float64)


def test_operator_sharded_over_two_devices():
    """With 2 (fake CPU) devices the points are split between them; products and eigenpairs must not change."""
    import os
    import subprocess
    import sys

    code = """
import equinox as eqx, jax, jax.numpy as jnp, numpy as np
from inrdict import ntk
from inrdict.io.data import ntk_grid
from inrdict.models import Siren
from inrdict.ntk import NTKOperator, SolverOptions, top_eigenpairs
assert jax.device_count() == 2, jax.devices()
with jax.enable_x64(True):
    points = ntk_grid(5)  # 25 points: 13 per device, blocks of 4, padded
    vectors = np.random.default_rng(0).standard_normal((25, 3))
    siren = Siren(2, (16, 16), 1, key=jax.random.key(0), dtype=jnp.float64)
    mlp = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x,
                                 eqx.nn.MLP(2, 1, 8, 2, activation=jnp.tanh, key=jax.random.key(1)))
    for model in (siren, mlp):
        operator = NTKOperator(model, points, block_size=4)
        assert operator.n_devices == 2
        oracle = ntk.empirical_ntk(model, points, method="jacobian")
        print(np.linalg.norm(operator.matmat(vectors) - oracle @ vectors) / np.linalg.norm(oracle @ vectors))
    model = Siren(2, (32, 32), 1, first_omega0=10.0, key=jax.random.key(2), dtype=jnp.float64)
    points = ntk_grid(16)
    result = top_eigenpairs(model, points, 6, SolverOptions(tol=1e-9))
    dense = ntk.eigh_descending(ntk.empirical_ntk(model, points))[0]
    print(np.max(np.abs(result.eigvals - dense[:6])) / dense[0])
    for name, model in (("siren", model), ("mlp", mlp)):  # the P×P route's products under shard_map
        pairs = top_eigenpairs(model, points, 6, SolverOptions(tol=1e-9, route="parameters"), operator_method="auto")
        dense = ntk.eigh_descending(ntk.empirical_ntk(model, points, method="jacobian"))[0]
        print(np.max(np.abs(pairs.eigvals - dense[:6])) / dense[0])
"""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    errors = [float(line) for line in out.stdout.split()]
    assert len(errors) == 5 and max(errors) < 1e-12, errors


# ------------------------------------------------------------------------------------------ the P×P route (Jᵀ J)


def route_zoo(dtype):
    """Models whose Jᵀ J the P×P route runs: structured (plain layer groups) and generic; P < N = 24² = 576."""
    keys = jax.random.split(jax.random.key(21), 3)
    return {
        "siren (structured)": Siren(2, (16, 16), 1, first_omega0=30.0, key=keys[0], dtype=dtype),  # P = 337
        "relu (structured)": ReluMLP(2, (12, 12), 1, key=keys[1], dtype=dtype),  # P = 205
        "eqx mlp (generic)": cast(eqx.nn.MLP(2, 1, 12, 2, activation=jnp.tanh, key=keys[2]), dtype),  # P = 205
    }


@pytest.mark.parametrize("name", list(route_zoo(jnp.float32)))
def test_both_routes_give_the_same_eigenpairs(name):
    """Θ = J Jᵀ (N×N) and G = Jᵀ J (P×P) share their non-zero spectrum; u = J v / √λ maps G's eigenvectors to Θ's.
    Both routes against each other and the jacrev oracle, float64."""
    with jax.enable_x64(True):
        model = route_zoo(jnp.float64)[name]
        points = ntk_grid(24)
        by_points = top_eigenpairs(model, points, 12, SolverOptions(tol=1e-10, route="points", store_kernel=False))
        by_parameters = top_eigenpairs(model, points, 12, SolverOptions(tol=1e-10, route="parameters"))
        oracle = ntk.eigh_descending(dense_ntk(model, points, method="jacobian"))[0][:12]
    assert (by_points.route, by_parameters.route) == ("points", "parameters")
    assert by_parameters.method == "block" and by_parameters.converged, by_parameters.residuals.max()
    for result in (by_points, by_parameters):
        assert np.max(np.abs(result.eigvals - oracle)) / oracle[0] < 1e-9
    overlap = np.abs(np.sum(by_points.eigvecs * by_parameters.eigvecs, axis=0))  # unit vectors, up to sign
    assert np.all(overlap > 1 - 1e-8), overlap.min()
    assert by_parameters.residuals.max() < 1e-9  # ‖Θ u − λ u‖ / λ_0, measured on Θ


def test_the_gram_product_is_jt_j():
    """`gram_matmat` is Jᵀ J W and `forward` is J W, against the jacrev Jacobian (structured and generic)."""
    from jax.flatten_util import ravel_pytree

    from inrdict.models import partition_trainable

    with jax.enable_x64(True):
        for name, model in route_zoo(jnp.float64).items():
            points = ntk_grid(6).astype(np.float64)
            operator = NTKOperator(model, points, block_size=16)
            trainable, frozen = partition_trainable(model)
            flat, unravel = ravel_pytree(trainable)
            jac = jax.vmap(jax.jacrev(lambda p, r: eqx.combine(unravel(p), frozen)(r)[0]), (None, 0))(flat, points)
            w = np.random.default_rng(0).standard_normal((operator.n_parameters, 3))
            if operator.method == "structured":  # per layer, row-major weight then bias: a permutation of ravel's
                eigen_g = np.linalg.eigvalsh(operator.gram_matmat(np.eye(operator.n_parameters)))
                assert np.allclose(eigen_g, np.linalg.eigvalsh(np.asarray(jac.T @ jac)), atol=1e-9 * eigen_g.max())
                rows = operator.forward(w)  # J W: wᵀ (Jᵀ J) w = ‖J w‖² column by column, and Θ (J W) = J (Jᵀ J W)
                assert rel_error(np.sum(w * operator.gram_matmat(w), axis=0), np.sum(rows**2, axis=0)) < 1e-12
                assert rel_error(operator.matmat(rows), operator.forward(operator.gram_matmat(w))) < 1e-12
            else:
                assert rel_error(operator.gram_matmat(w), jac.T @ (jac @ w)) < 1e-12, name
                assert rel_error(operator.forward(w), jac @ w) < 1e-12, name


def test_the_route_is_chosen_by_size():
    points = ntk_grid(24)  # N = 576
    small = Siren(2, (16, 16), 1, key=jax.random.key(0))  # P = 337 < N: the P×P route
    wide = Siren(2, (64, 64), 1, key=jax.random.key(0))  # P = 4,417 > N: the N×N route
    assert ntk.choose_route(NTKOperator(small, points), 8) == "parameters"
    assert ntk.choose_route(NTKOperator(wide, points), 8) == "points"
    assert top_eigenpairs(small, points, 8).route == "parameters"
    assert top_eigenpairs(small, points, 8, SolverOptions(route="points")).route == "points"
    with pytest.raises(InrdictError, match="unknown route 'pixels'"):
        top_eigenpairs(small, points, 8, SolverOptions(route="pixels"))
    from inrdict.models import make_model

    wire = make_model("wire", hidden=(8, 8), key=jax.random.key(0))  # complex layers: rotated feature groups
    assert ntk.choose_route(NTKOperator(wire, points), 8) == "points"
    with pytest.raises(InrdictError, match="plain \\(A, D\\) pairs"):
        top_eigenpairs(wire, points, 8, SolverOptions(route="parameters"))


def test_long_spectra_announce_their_time_and_memory(monkeypatch):
    """Over `ANNOUNCE_SECONDS` (here 0) the solve says its estimated time, from a measured product, and peak memory."""
    from inrdict.ntk import solvers

    monkeypatch.setattr(solvers, "ANNOUNCE_SECONDS", 0.0)
    lines = []
    model = Siren(2, (16, 16), 1, key=jax.random.key(0))
    result = top_eigenpairs(model, ntk_grid(24), 8, announce=lines.append)
    assert len(lines) == 1 and result.route == "parameters"
    assert re.fullmatch(r"top-8 NTK eigenpairs of 576 points \(P×P route\): about [0-9.]+ min \(~72 products at "
                        r"the measured rate\), peak ~[0-9.]+ GiB", lines[0]), lines[0]  # fmt: skip
    operator = NTKOperator(model, ntk_grid(24))
    cost = solvers.estimate_cost(operator, 8, 8, "parameters")
    assert cost["measured"] and cost["seconds"] > 0 and operator.products == 16  # two timed blocks of 8
    assert cost["peak_bytes"] > operator.memory_bytes()


def test_the_route_follows_memory_then_flops(monkeypatch):
    """N > P: a wide model's P×P route holds a smaller basis but pays ~1.5 k extra products, so "auto" keeps the N×N
    route while its basis fits in memory, and takes the P×P route when only that one fits."""
    from inrdict._memory import USABLE_FRACTION
    from inrdict.ntk import solvers

    operator = NTKOperator(Siren(2, (64, 64), 1, key=jax.random.key(0)), ntk_grid(96))  # P = 4,417 < N = 9,216
    assert not storing_pays(operator, 16)
    costs = ntk.route_costs(operator, 16, 8)
    assert costs["parameters"]["bytes"] < costs["points"]["bytes"]
    assert costs["parameters"]["flops"] > costs["points"]["flops"]
    assert ntk.choose_route(operator, 16) == "points"
    budget = operator.memory_bytes() + (costs["points"]["bytes"] + costs["parameters"]["bytes"]) / 2
    monkeypatch.setattr(solvers, "available_memory_bytes", lambda: budget / USABLE_FRACTION)
    assert ntk.choose_route(operator, 16) == "parameters"

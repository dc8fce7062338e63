import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import TypeCheckError

from inrdict import ntk
from inrdict.errors import InrdictError
from inrdict.io.data import ntk_grid
from inrdict.models import FFN, ReluMLP, Siren, gaussian_frequencies, positional_encoding_frequencies, single_frequency
from tests.conftest import rel_error

TOLERANCE = {jnp.float32: 1e-5, jnp.float64: 1e-10}


def model_zoo(key, dtype):
    keys = jax.random.split(key, 9)
    return {
        "relu 2x16": ReluMLP(2, (16, 16), 1, key=keys[0], dtype=dtype),
        "relu 3x24": ReluMLP(2, (24, 24, 24), 1, key=keys[1], dtype=dtype),
        "ffn rff sigma=10": FFN(gaussian_frequencies(keys[2], 8, 2, 10.0).astype(dtype), (16, 16), 1, key=keys[3], dtype=dtype),
        "ffn f0=1": FFN(single_frequency(1.0).astype(dtype), (16,), 1, key=keys[4], dtype=dtype),
        "ffn nerf": FFN(positional_encoding_frequencies(3).astype(dtype), (12, 12), 1, key=keys[4], dtype=dtype),
        "siren ntk w0=5": Siren(2, (16, 16), 1, first_omega0=5.0, convention="ntk", key=keys[5], dtype=dtype),
        "siren ntk w0=100": Siren(2, (16, 16, 16), 1, first_omega0=100.0, convention="ntk", key=keys[6], dtype=dtype),
        "siren fit w0=30": Siren(2, (20, 12), 1, first_omega0=30.0, hidden_omega0=10.0, convention="fit", key=keys[7], dtype=dtype),
        "siren 1-d": Siren(1, (16, 16), 1, convention="fit", key=keys[8], dtype=dtype),
    }


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("name", list(model_zoo(jax.random.key(0), jnp.float32)))
def test_structured_equals_ntvp_equals_jacobian(name, dtype):
    with jax.enable_x64(dtype == jnp.float64):
        model = model_zoo(jax.random.key(0), dtype)[name]
        points = ntk_grid(5) if model.in_features == 2 else np.linspace(0, 1, 23, endpoint=False)[:, None]
        oracle = ntk.empirical_ntk(model, points, method="jacobian", dtype=dtype)
        structured = ntk.empirical_ntk(model, points, method="structured", block_size=7, dtype=dtype)
        ntvp = ntk.empirical_ntk(model, points, method="ntvp", block_size=4, dtype=dtype)
        assert oracle.dtype == structured.dtype == ntvp.dtype == np.dtype(dtype)
        assert oracle.shape == (points.shape[0],) * 2
        assert rel_error(structured, oracle) <= TOLERANCE[dtype]
        assert rel_error(ntvp, oracle) <= TOLERANCE[dtype]
        assert np.array_equal(structured, structured.T) and np.array_equal(ntvp, ntvp.T)
        eigvals = np.linalg.eigvalsh(np.asarray(oracle, np.float64))
        assert eigvals.min() >= -10 * TOLERANCE[dtype] * eigvals.max()  # PSD up to rounding


def test_oracle_matches_a_hand_written_gradient_gram():
    """The oracle itself, checked against a loop over per-point gradients."""
    with jax.enable_x64(True):
        model = Siren(2, (6,), 1, convention="fit", key=jax.random.key(3), dtype=jnp.float64)
        points = jnp.asarray(ntk_grid(3), jnp.float64)
        grads = []
        for r in points:
            g = jax.grad(lambda m: m(r)[0])(model)
            grads.append(jnp.concatenate([leaf.ravel() for leaf in jax.tree_util.tree_leaves(g)]))
        grads = jnp.stack(grads)
        assert rel_error(ntk.empirical_ntk(model, points, method="jacobian"), grads @ grads.T) < 1e-13


def test_frozen_frequencies_do_not_contribute():
    with jax.enable_x64(True):
        model = FFN(gaussian_frequencies(jax.random.key(1), 4, 2, 2.0), (8,), 1, key=jax.random.key(2), dtype=jnp.float64)
        points = ntk_grid(4)
        features = ntk.layer_features(model, jnp.asarray(points, jnp.float64))
        by_hand = sum((d @ d.T) * (a @ a.T + 1) for a, d in features)
        assert rel_error(ntk.empirical_ntk(model, points), by_hand) < 1e-13
        # If B were trained, the kernel would be larger: make sure the oracle does not include it either.
        everything = eqx.partition(model, eqx.is_inexact_array)[0]
        J = jax.jacrev(lambda m: jax.vmap(lambda r: m(r)[0])(jnp.asarray(points, jnp.float64)))(everything)
        J = jnp.concatenate([j.reshape(points.shape[0], -1) for j in jax.tree_util.tree_leaves(J)], axis=1)
        assert rel_error(J @ J.T, by_hand) > 1e-3


@pytest.mark.parametrize("block_size", [1, 5, 16, 17, 64])
def test_block_size_does_not_change_the_kernel(block_size):
    with jax.enable_x64(True):
        model = Siren(2, (16, 16), 1, first_omega0=30.0, key=jax.random.key(4), dtype=jnp.float64)
        points = ntk_grid(4)  # 16 points: blocks that divide, do not divide, and exceed n
        reference = ntk.empirical_ntk(model, points, block_size=16)
        assert rel_error(ntk.empirical_ntk(model, points, block_size=block_size), reference) < 1e-14


def test_memory_estimate_counts_each_models_features_once_per_structure():
    """The structured features are sized per model structure (kept between calls): equal to the features' own size,
    different for a wider model, the same for the same structure with other weights or another ω0."""
    from inrdict.ntk.kernel import _feature_values_per_point, layer_features

    def actual(model):
        return sum(x.size for group in layer_features(model, ntk_grid(2)) for x in group) // 4

    narrow, wide = (Siren(2, (w, w), 1, key=jax.random.key(0)) for w in (8, 16))
    other = Siren(2, (8, 8), 1, first_omega0=5.0, key=jax.random.key(1))
    counts = [_feature_values_per_point(m) for m in (narrow, wide, other, narrow)]
    assert counts == [actual(narrow), actual(wide), actual(other), actual(narrow)] and counts[0] < counts[1]
    n = 100
    assert ntk.memory_bytes(wide, n, "structured", 16, 4) - 3 * n * n * 4 - 4 * 16 * 16 * 4 == 2 * n * counts[1] * 4


def test_generic_path_handles_any_equinox_model():
    with jax.enable_x64(True):
        mlp = eqx.nn.MLP(2, 1, 8, 2, activation=jnp.tanh, key=jax.random.key(5))
        mlp = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x, mlp)
        points = ntk_grid(4)
        oracle = ntk.empirical_ntk(mlp, points, method="jacobian")
        assert rel_error(ntk.empirical_ntk(mlp, points), oracle) < 1e-12  # auto -> ntvp
        with pytest.raises(InrdictError, match="structured NTK needs a DenseINR"):
            ntk.empirical_ntk(mlp, points, method="structured")


def test_refusals_are_clear():
    model = Siren(2, (8,), 1, key=jax.random.key(6))
    points = ntk_grid(8)
    with pytest.raises(InrdictError, match=r"needs about .* GiB .* fewer than ~\d+ points"):
        ntk.empirical_ntk(model, points, max_bytes=10_000)
    with pytest.raises((InrdictError, TypeCheckError), match="unknown NTK method|'fast'"):  # Literal hint, under the checks
        ntk.empirical_ntk(model, points, method="fast")
    with pytest.raises(InrdictError, match="single-output"):
        ntk.empirical_ntk(Siren(2, (8,), 3, key=jax.random.key(7)), points)
    if not jax.config.read("jax_enable_x64"):
        with pytest.raises(InrdictError, match="x64"):
            ntk.empirical_ntk(model, points, dtype=jnp.float64)


def test_eigh_descending_on_a_circulant_kernel():
    """A circulant kernel's eigenvalues are the DFT of its first row; eigenvectors are unit and orthogonal."""
    n = 32
    row = np.exp(-np.minimum(np.arange(n), n - np.arange(n)) / 3.0)
    kernel = np.stack([np.roll(row, i) for i in range(n)])
    eigvals, eigvecs = ntk.eigh_descending(kernel)
    assert np.all(np.diff(eigvals) <= 0)
    assert np.allclose(eigvals, np.sort(np.fft.fft(row).real)[::-1], atol=1e-10)
    assert np.allclose(eigvecs.T @ eigvecs, np.eye(n), atol=1e-10)
    assert np.allclose(eigvecs @ np.diag(eigvals) @ eigvecs.T, kernel, atol=1e-10)
    # The top eigenvector of this kernel is the constant (DC) mode.
    assert np.allclose(np.abs(eigvecs[:, 0]), 1 / np.sqrt(n), atol=1e-10)


def test_structured_kernel_sharded_over_two_devices_matches_the_oracle():
    """With 2 (fake CPU) devices the block pairs are split between them; the kernel must not change."""
    import os
    import subprocess
    import sys

    code = """
import jax, jax.numpy as jnp, numpy as np
from inrdict import ntk
from inrdict.io.data import ntk_grid
from inrdict.models import Siren
assert jax.device_count() == 2, jax.devices()
with jax.enable_x64(True):
    model = Siren(2, (16, 16), 1, key=jax.random.key(0), dtype=jnp.float64)
    points = ntk_grid(5)  # 25 points, blocks of 4: 7 blocks, 28 pairs, padded to an even count
    sharded = ntk.empirical_ntk(model, points, block_size=4)
    oracle = ntk.empirical_ntk(model, points, method="jacobian")
print(np.linalg.norm(sharded - oracle) / np.linalg.norm(oracle))
"""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip()) < 1e-12

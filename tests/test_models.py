import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inrdict
from jaxtyping import TypeCheckError
from inrdict.models import FFN, ReluMLP, Siren, gaussian_frequencies, positional_encoding_frequencies, single_frequency


def all_families(key):
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    return {
        "relu": ReluMLP(2, (32, 32), 1, key=k1),
        "ffn_rff": FFN(gaussian_frequencies(k2, 16, 2, 10.0), (32, 32), 3, key=k3),
        "ffn_nerf": FFN(positional_encoding_frequencies(4), (32,), 1, key=k3),
        "siren_fit": Siren(2, (32, 32), 1, first_omega0=30.0, convention="fit", key=k4),
        "siren_ntk": Siren(2, (32, 32), 1, first_omega0=5.0, convention="ntk", key=k5),
    }


@pytest.mark.parametrize("name", ["relu", "ffn_rff", "ffn_nerf", "siren_fit", "siren_ntk"])
def test_every_family_maps_points_and_is_deterministic(name, getkey):
    key = getkey()
    model, again = all_families(key)[name], all_families(key)[name]
    other = all_families(getkey())[name]
    points = jax.random.uniform(getkey(), (7, 2))
    out = jax.vmap(model)(points)
    assert out.shape == (7, model.out_features) and out.dtype == jnp.float32
    assert np.array_equal(out, jax.vmap(again)(points)), "same key must give the same network"
    assert not np.allclose(out, jax.vmap(other)(points)), "different keys must give different networks"
    assert np.allclose(eqx.filter_jit(lambda m, p: jax.vmap(m)(p))(model, points), out, atol=1e-6)


@pytest.mark.parametrize(
    "model_fn, expected",
    [
        (lambda k: Siren(2, (256,) * 4, 1, key=k), 198_401),
        (lambda k: ReluMLP(2, (256,) * 4, 1, key=k), 198_401),
        (lambda k: Siren(1, (128, 128), 1, convention="fit", key=k), 1 * 128 + 128 + 128 * 128 + 128 + 128 + 1),
        # B (256 x 2) is frozen and not counted: 512*256+256 + 2*(256*256+256) + 256*3+3.
        (lambda k: FFN(gaussian_frequencies(k, 256, 2, 10.0), (256,) * 3, 3, key=k), 263_683),
    ],
)
def test_parameter_counts(model_fn, expected, getkey):
    assert inrdict.count_parameters(model_fn(getkey())) == expected


def test_siren_initialisation_bounds_and_bias_conventions(getkey):
    key = getkey()
    ntk = Siren(2, (256,) * 4, 1, first_omega0=30.0, hidden_omega0=30.0, convention="ntk", key=key)
    fit = Siren(2, (256,) * 4, 1, first_omega0=30.0, hidden_omega0=30.0, convention="fit", key=key)
    for index, (layer_ntk, layer_fit) in enumerate(zip(ntk.layers, fit.layers)):
        fan_in = layer_ntk.in_features
        bound = 1 / fan_in if index == 0 else math.sqrt(6 / fan_in) / 30.0
        w = np.asarray(layer_ntk.weight)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # uniform: std = bound / sqrt(3)
        assert np.all(np.asarray(layer_ntk.bias) == 0)
        b = np.asarray(layer_fit.bias)
        assert np.abs(b).max() <= bound and np.all(b != 0)
        if b.size > 100:
            assert abs(b.std() - bound / math.sqrt(3)) < 0.15 * bound
    assert ntk.output_offset == 0.5 and fit.output_offset == 0.0
    # Zero-weight last layer isolates the offset: output is exactly 0.5 under the "ntk" convention.
    zeroed = eqx.tree_at(lambda m: m.layers[-1].weight, ntk, jnp.zeros_like(ntk.layers[-1].weight))
    assert float(zeroed(jnp.array([0.3, 0.7]))[0]) == 0.5


def test_siren_activation_uses_first_and_hidden_omega(getkey):
    model = Siren(1, (4, 4), 1, first_omega0=300.0, hidden_omega0=30.0, convention="fit", key=getkey())
    r = jnp.array([0.123])
    z1 = jnp.sin(300.0 * model.layers[0](r))
    z2 = jnp.sin(30.0 * model.layers[1](z1))
    assert np.allclose(model(r), model.layers[2](z2), atol=1e-6)


def test_lecun_truncated_normal_std_and_truncation(getkey):
    model = ReluMLP(2, (512, 512), 1, key=getkey())
    for layer in model.layers:
        w, fan_in = np.asarray(layer.weight), layer.in_features
        std = 1 / math.sqrt(fan_in)
        assert abs(w.std() - std) < 0.05 * std
        assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-6
        assert np.all(np.asarray(layer.bias) == 0)


@pytest.mark.parametrize("f0", [1.0, 0.5, 2.0])
def test_single_frequency_ffn_is_exactly_one_over_f0_periodic(f0, getkey):
    with jax.enable_x64(True):
        model = FFN(single_frequency(f0), (64, 64), 1, key=getkey(), dtype=jnp.float64)
        points = jax.random.uniform(getkey(), (50, 2), jnp.float64, -1, 1)
        base = jax.vmap(model)(points)
        for shift in ([1 / f0, 0.0], [0.0, 1 / f0], [1 / f0, -2 / f0]):
            moved = jax.vmap(model)(points + jnp.array([shift]))
            assert np.max(np.abs(moved - base)) < 1e-11
        # Not periodic with half the period: the test above can fail.
        half = jax.vmap(model)(points + jnp.array([[0.5 / f0, 0.0]]))
        assert np.max(np.abs(half - base)) > 1e-4


def test_frozen_frequencies_are_not_trainable(getkey):
    model = FFN(gaussian_frequencies(getkey(), 8, 2, 1.0), (16,), 1, key=getkey())
    trainable, frozen = inrdict.partition_trainable(model)
    assert trainable.B is None and frozen.B is not None
    assert all(leaf is not None for leaf in jax.tree_util.tree_leaves(trainable.layers))
    assert eqx.tree_equal(eqx.combine(trainable, frozen), model)


def test_positional_encoding_frequencies_are_octaves():
    B = np.asarray(positional_encoding_frequencies(3, 2))
    assert B.shape == (6, 2)
    assert np.allclose(np.abs(B).sum(axis=1), [0.5, 0.5, 1, 1, 2, 2])


def test_bad_sizes_raise_inrdict_error(getkey):
    with pytest.raises(inrdict.InrdictError, match="positive"):
        Siren(2, (0, 4), 1, key=getkey())
    with pytest.raises((inrdict.InrdictError, TypeCheckError), match="convention"):  # the Literal hint, under the runtime checks
        Siren(2, (4,), 1, convention="haiku", key=getkey())
    with pytest.raises((inrdict.InrdictError, TypeCheckError), match="shape|'T D'"):
        FFN(jnp.ones(3), (4,), 1, key=getkey())


def test_computation_never_imports_plotting():
    """Layering: the library (models → fitting, meta, ntk, alignment, experiments' compute) never loads matplotlib."""
    import subprocess
    import sys

    code = ("import sys, inrdict, inrdict.ntk, inrdict.meta, inrdict.alignment, inrdict.datasets, inrdict.experiments; "
            "print('matplotlib' in sys.modules)")  # fmt: skip
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"

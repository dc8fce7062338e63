import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import TypeCheckError

import inrdict
from inrdict.errors import InrdictError
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


def _siren_bias_bounds_numpy(source: str, sizes: tuple[int, ...], hidden_omega0: float) -> list[float]:
    """Each layer's initial-bias half-width, transcribed from each source: vsitzmann/siren re-draws only weights
    (`sine_init`, `first_layer_sine_init`), so `nn.Linear.reset_parameters` stays, bound 1/sqrt(fan_in);
    lucidrains/siren-pytorch `Siren.init_` draws `bias.uniform_(-w_std, w_std)` with w_std = 1/dim (first layer)
    or sqrt(c/dim)/w0 (c = 6); the authors' Haiku NTK code uses zero biases."""
    bounds = []
    for index, fan_in in enumerate(sizes[:-1]):
        w_std = 1 / fan_in if index == 0 else np.sqrt(6 / fan_in) / hidden_omega0
        bounds.append({"vsitzmann": 1 / np.sqrt(fan_in), "lucidrains": w_std, "ntk": 0.0}[source])
    return bounds


@pytest.mark.parametrize("convention", ["vsitzmann", "lucidrains", "ntk"])
def test_siren_bias_conventions_match_a_numpy_transcription_of_their_source(convention, getkey):
    sizes = (2, 256, 256, 256, 256, 1)
    model = Siren(2, sizes[1:-1], 1, first_omega0=30.0, hidden_omega0=30.0, convention=convention, key=getkey())
    for layer, bound in zip(model.layers, _siren_bias_bounds_numpy(convention, sizes, 30.0)):
        b = np.asarray(layer.bias)
        if bound == 0:
            assert np.all(b == 0)
            continue
        assert np.abs(b).max() <= bound and np.all(b != 0)
        if b.size > 100:  # a uniform on ±bound: max near the bound, std = bound / sqrt(3)
            assert np.abs(b).max() > 0.9 * bound and abs(b.std() - bound / math.sqrt(3)) < 0.15 * bound
    assert model.output_offset == (0.5 if convention == "ntk" else 0.0)
    # At width 256 the two PyTorch conventions differ by 12x in the hidden bias range (1/16 against about 1/196).
    assert _siren_bias_bounds_numpy("vsitzmann", sizes, 30.0)[1] > 12 * _siren_bias_bounds_numpy("lucidrains", sizes, 30.0)[1]


def test_siren_fit_is_the_lucidrains_convention_and_unknown_names_are_refused(getkey):
    key = getkey()
    fit = Siren(2, (16, 16), 1, convention="fit", key=key)
    lucidrains = Siren(2, (16, 16), 1, convention="lucidrains", key=key)
    assert fit.convention == "lucidrains"
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(fit), jax.tree_util.tree_leaves(lucidrains)))
    with pytest.raises((InrdictError, TypeCheckError), match="vsitzmann|convention"):  # the Literal, under typechecks
        Siren(2, (16,), 1, convention="haiku", key=key)  # type: ignore[arg-type]


def test_siren_initialisation_bounds_and_bias_conventions(getkey):
    key = getkey()
    ntk = Siren(2, (256,) * 4, 1, first_omega0=30.0, hidden_omega0=30.0, convention="ntk", key=key)
    for index, layer_ntk in enumerate(ntk.layers):
        fan_in = layer_ntk.in_features
        bound = 1 / fan_in if index == 0 else math.sqrt(6 / fan_in) / 30.0
        w = np.asarray(layer_ntk.weight)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # uniform: std = bound / sqrt(3)
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

    code = ("import sys, inrdict, inrdict.ntk, inrdict.train.meta, inrdict.analysis.alignment, inrdict.io.datasets, inrdict.experiments; "
            "print('matplotlib' in sys.modules)")  # fmt: skip
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------------------------
# Trainable and frozen input mappings (Figs. 6–8): SIREN* / SIREN with a frozen first layer, SFM* / FFN*.
# ---------------------------------------------------------------------------------------------------------------


def mapping_variants(key, dtype=jnp.float32, in_features=2):
    from inrdict.models import FFNStar, SirenFrozenFirst

    k1, k2, k3 = jax.random.split(key, 3)
    B = gaussian_frequencies(k1, 6, in_features, 3.0).astype(dtype)
    siren = Siren(in_features, (5, 8, 8), 1, first_omega0=30.0, convention="fit", key=k3, dtype=dtype)
    return {
        "ffn": FFN(B, (8, 8), 1, key=k2, dtype=dtype),
        "ffn_star": FFNStar(B, (8, 8), 1, key=k2, dtype=dtype),
        "sfm_star": FFNStar(single_frequency(1.0, in_features).astype(dtype), (8,), 1, key=k2, dtype=dtype),
        "siren_star": siren,
        "siren_frozen_first": SirenFrozenFirst(siren),
    }


def test_partition_trainable_decides_which_mapping_is_trained(getkey):
    variants = mapping_variants(getkey())
    trainable = {name: inrdict.partition_trainable(model)[0] for name, model in variants.items()}
    assert trainable["ffn"].B is None and trainable["ffn_star"].B is not None and trainable["sfm_star"].B is not None
    assert trainable["siren_frozen_first"].first.weight is None and trainable["siren_frozen_first"].first.bias is None
    assert trainable["siren_star"].layers[0].weight is not None
    # B (6 x 2) counts for FFN* only; the frozen first layer (5 x 2 + 5) leaves SIREN's count.
    assert inrdict.count_parameters(variants["ffn_star"]) == inrdict.count_parameters(variants["ffn"]) + 12
    assert inrdict.count_parameters(variants["siren_frozen_first"]) == inrdict.count_parameters(variants["siren_star"]) - 15


def test_mapping_variants_compute_the_same_function_as_their_base(getkey):
    variants = mapping_variants(getkey())
    points = jax.random.uniform(getkey(), (9, 2), minval=-1, maxval=1)
    out = {name: np.asarray(jax.vmap(model)(points)) for name, model in variants.items()}
    np.testing.assert_array_equal(out["ffn_star"], out["ffn"])
    np.testing.assert_array_equal(out["siren_frozen_first"], out["siren_star"])
    frozen, siren = variants["siren_frozen_first"], variants["siren_star"]
    assert frozen.hidden == siren.hidden == (5, 8, 8) and frozen.in_features == 2 and frozen.output_offset == 0.0
    assert frozen.hyperparameters() == siren.hyperparameters()
    # FFN*'s encode is the identity: the trained mapping lives in `head`, so fitting never caches it.
    np.testing.assert_array_equal(np.asarray(variants["ffn_star"].encode(points[0])), np.asarray(points[0]))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("name", ["ffn_star", "sfm_star", "siren_frozen_first", "siren_star"])
@pytest.mark.parametrize("in_features", [1, 2])
def test_structured_ntk_of_trained_and_frozen_mappings_matches_the_oracle(name, dtype, in_features):
    from inrdict import ntk
    from tests.conftest import rel_error

    with jax.enable_x64(dtype == jnp.float64):
        model = mapping_variants(jax.random.key(3), dtype, in_features)[name]
        points = np.asarray(jax.random.uniform(jax.random.key(4), (23, in_features), dtype, -1, 1))
        oracle = ntk.empirical_ntk(model, points, method="jacobian", dtype=dtype)
        assert ntk.supports_structured(model)
        structured = ntk.empirical_ntk(model, points, method="structured", block_size=7, dtype=dtype)
        tolerance = 1e-10 if dtype == jnp.float64 else 1e-5
        assert rel_error(structured, oracle) <= tolerance
        assert rel_error(ntk.empirical_ntk(model, points, method="ntvp", block_size=4, dtype=dtype), oracle) <= tolerance


def test_trained_frequencies_add_a_positive_kernel_term():
    """FFN*'s kernel is FFN's plus the B term: the difference is PSD and not small."""
    from inrdict import ntk

    with jax.enable_x64(True):
        variants = mapping_variants(jax.random.key(5), jnp.float64)
        points = np.asarray(jax.random.uniform(jax.random.key(6), (20, 2), jnp.float64, -1, 1))
        difference = ntk.empirical_ntk(variants["ffn_star"], points) - ntk.empirical_ntk(variants["ffn"], points)
        eigvals = np.linalg.eigvalsh(difference)
        assert eigvals.min() > -1e-10 * eigvals.max() and np.linalg.norm(difference) > 1e-2


@pytest.mark.standard_promotion  # runs Optax's Adam
def test_fit_trains_a_mapping_only_when_it_is_trainable(getkey):
    variants = mapping_variants(getkey())
    coords = jax.random.uniform(getkey(), (64, 2), minval=-1, maxval=1)
    targets = jnp.sin(3 * coords[:, :1]) * coords[:, 1:]
    quiet = inrdict.Monitor(progress=False)
    trained = {name: inrdict.fit(model, coords, targets, steps=5, learning_rate=1e-2, monitor=quiet).model
               for name, model in variants.items()}  # fmt: skip

    def moved(a, b):
        return not np.array_equal(np.asarray(a), np.asarray(b))

    assert not moved(trained["ffn"].B, variants["ffn"].B)
    assert moved(trained["ffn_star"].B, variants["ffn_star"].B) and moved(trained["sfm_star"].B, variants["sfm_star"].B)
    frozen = trained["siren_frozen_first"]
    assert not moved(frozen.first.weight, variants["siren_frozen_first"].first.weight)
    assert not moved(frozen.first.bias, variants["siren_frozen_first"].first.bias)
    assert moved(frozen.layers[0].weight, variants["siren_frozen_first"].layers[0].weight)
    assert moved(trained["siren_star"].layers[0].weight, variants["siren_star"].layers[0].weight)
    # A fit that trains B follows the loss of the model it returns (B was not cached at its initial value).
    final = float(jnp.mean((jax.vmap(trained["ffn_star"])(coords) - targets) ** 2))
    initial = float(jnp.mean((jax.vmap(variants["ffn_star"])(coords) - targets) ** 2))
    assert final < initial


def test_checkpoints_round_trip_the_mapping_variants(getkey, tmp_path):
    import json

    from inrdict.io.checkpoints import load_model, model_config, model_from_config, save_model

    for name, model in mapping_variants(getkey()).items():
        path = save_model(tmp_path / f"{name}.npz", model)
        loaded, _ = load_model(path)
        assert type(loaded) is type(model) and bool(eqx.tree_equal(loaded, model)), name
        assert model_config(model)["family"] == type(model).__name__
        skeleton = model_from_config(json.loads(json.dumps(model_config(model))))
        assert jax.tree_util.tree_structure(skeleton) == jax.tree_util.tree_structure(model)


def test_frozen_first_layer_needs_a_siren(getkey):
    from inrdict.models import SirenFrozenFirst

    with pytest.raises((inrdict.InrdictError, TypeCheckError), match="Siren"):
        SirenFrozenFirst(ReluMLP(2, (4,), 1, key=getkey()))


@pytest.mark.parametrize("name", ["ffn", "ffn_star", "sfm_star", "siren_star", "siren_frozen_first"])
def test_encode_depends_on_frozen_arrays_only(name, getkey):
    """`fit` computes `encode` of the training points once, so it must not depend on any trained array."""
    model = mapping_variants(getkey())[name]
    trainable, frozen = inrdict.partition_trainable(model)
    points = jax.random.uniform(getkey(), (5, 2), minval=-1, maxval=1)
    jacobian = jax.jacobian(lambda p: jax.vmap(eqx.combine(p, frozen).encode)(points))(trainable)
    assert all(np.all(np.asarray(leaf) == 0) for leaf in jax.tree_util.tree_leaves(jacobian))

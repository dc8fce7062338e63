"""Other INR families (inrdict.models): NTK against the jacrev oracle, parameter counts, fitting, checkpoint
skeletons (forward passes and initialisation against the reference code: test_reference_families.py). conftest runs every test under strict dtype promotion
(except those marked `standard_promotion`), rank-promotion errors and jaxtyping/beartype checks."""

import dataclasses
import importlib
import json
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inrdict
from inrdict import ntk
from inrdict.errors import InrdictError
from inrdict.models import (
    MFN,
    MODEL_NAMES,
    ComplexWire,
    Finer,
    GaussINR,
    OnDomain,
    RealWire,
    SincINR,
    count_parameters,
    family,
    kernel_from_features,
    make_model,
    matched_hidden,
    model_key,
    model_knobs,
    on_reference_domain,
)
from tests.conftest import rel_error

# name -> (family name, knobs)
VARIANTS = {
    "gauss": ("gauss", {}),
    "sinc": ("sinc", {}),
    "wire_real": ("wire_real", {}),
    "finer": ("finer", {}),
    "wire": ("wire", {}),
    "mfn_gabor": ("mfn", {"filter": "gabor"}),
    "mfn_fourier": ("mfn", {"filter": "fourier"}),
}
SMALL = (9, 7, 5)  # one small shape for most tests, so model initialisations compile once per family and dtype


def build(name, hidden, key, dtype=jnp.float32, out_features=1, **extra):
    name_of, knobs = VARIANTS[name]
    return family.get(name_of).build(2, hidden, out_features, key=key, dtype=dtype, **(knobs | extra))


def test_the_registry_holds_the_shipped_families_in_order_with_distinct_ids_and_classes():
    assert family.names()[: len(MODEL_NAMES)] == MODEL_NAMES  # registration order is the studies' default order
    assert MODEL_NAMES == ("relu", "ffn", "siren", "gauss", "wire", "wire_real", "finer", "sinc", "mfn")
    records = [family.get(name) for name in MODEL_NAMES]
    assert len({r.prng_id for r in records}) == len(records)
    classes = [cls for r in records for cls in r.classes]
    assert len(set(classes)) == len(classes) and all(family.model_class(c.__name__) is c for c in classes)
    assert family.importable() == ("siren", "gauss", "wire", "finer", "mfn")
    grids = ("grid", "hashgrid")  # registered, not in MODEL_NAMES: not parameter-matched (their tables alone exceed it)
    assert family.with_knob() == (*(n for n in MODEL_NAMES if n != "relu"), *grids)
    assert set(family.with_recipes()) == {*MODEL_NAMES, *grids}
    with pytest.raises(InrdictError, match="already registered"):
        family.register(records[2])
    with pytest.raises(InrdictError, match="PRNG id 103 is 'wire'"):
        family.register(dataclasses.replace(records[3], name="gauss_again", prng_id=103, recipes=()))
    with pytest.raises(InrdictError, match="PRNG id 5 is 'pixel_mask'"):
        family.register(dataclasses.replace(records[3], name="gauss_again", prng_id=5, recipes=()))
    with pytest.raises(InrdictError, match="PRNG id 108 is 'factory'"):  # only the paper's rows share an id
        family.register(dataclasses.replace(records[3], name="factory", prng_id=108, recipes=()))
    clone = type("Siren", (GaussINR,), {})  # a second class named Siren: refused before anything is registered
    with pytest.raises(InrdictError, match="another model class is named Siren"):
        family.register(dataclasses.replace(records[3], name="gauss_again", prng_id=999, classes=(clone,), recipes=()))
    assert "gauss_again" not in family.names() and family.model_class("Siren") is not clone
    with pytest.raises(InrdictError, match="not a keyword of its constructor"):
        dataclasses.replace(records[3], knob="omega0")
    with pytest.raises(InrdictError, match="unknown INR family 'sirne'"):
        family.get("sirne")


@pytest.fixture
def tanh_family():
    """`tests/_tanh_family.py`, imported (which registers it) and removed again afterwards."""
    module = importlib.import_module("tests._tanh_family")
    yield module
    family.unregister("tanh_test")
    sys.modules.pop("tests._tanh_family", None)


@pytest.mark.standard_promotion  # `inrdict analyse` fine-tunes with Optax's Adam
def test_a_new_family_is_one_module(tanh_family, tmp_path):
    """A dense-style family defined and registered in one module (`tests/_tanh_family.py`) works everywhere a
    family name goes: models, keys, domains, the structured NTK, checkpoints, `suggest`'s knob, its recipe and the
    command line."""
    from inrdict.analysis.suggest import knob_of
    from inrdict.cli import main
    from inrdict.train.recipes import recipe

    name, cls = "tanh_test", tanh_family.TanhINR
    assert name in family.names() and name not in MODEL_NAMES and model_knobs(name) == {"omega": 3.0}
    model = make_model(name, hidden=(8, 8), key=model_key(name, 0), omega=2.0)
    assert type(model) is cls and model.omega == 2.0 and matched_hidden(name, 1_000) == (21,) * 3
    again = make_model(name, hidden=(8, 8), key=model_key(name, 0), omega=2.0)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(again)))
    wrapped = on_reference_domain(name, model)
    assert isinstance(wrapped, OnDomain) and (wrapped.low, wrapped.high) == (-1.0, 1.0)
    with jax.enable_x64(True):
        points = np.random.default_rng(0).uniform(0.0, 1.0, (13, 2))
        oracle = ntk.empirical_ntk(wrapped, points, method="jacobian", dtype=jnp.float64)
        structured = ntk.empirical_ntk(wrapped, points, method="auto", dtype=jnp.float64)
        assert rel_error(structured, oracle) <= 1e-10
    loaded, _ = inrdict.load_model(inrdict.save_model(tmp_path / "tanh.npz", wrapped))
    assert type(loaded) is OnDomain and type(loaded.model) is cls and loaded.model.omega == 2.0
    assert knob_of(name) == "omega" and recipe(name).steps == 50
    sets = ["--set", "grid_size=12", "--set", "top_k=8", "--set", "n_test=2", "--set", "iterations=3", "--set",
            "n_eigenvectors=4", "--set", "alias_steps=20", "--set", "alias_hidden=8,8", "--set", "fit_size=12",
            "--set", "fit_steps=2", "--set", "hidden=8,8", "--set", "omega0=2", "--no-progress"]  # fmt: skip
    assert main(["analyse", name, "--out", str(tmp_path / "run"), *sets]) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["config"]["model"] == name and "omega=2" in json.dumps(results["numbers"])


@eqx.filter_jit
def features_kernel(model, points):
    """Dense kernel from the model's own structured factors (`structured_ntk_features`), without `inrdict.ntk`."""
    return kernel_from_features(model.structured_ntk_features(points))


@eqx.filter_jit
def forward(model, r):
    return model(r)


# ---------------------------------------------------------------------------------------------------------------
# (a) NTK: structured and ntvp against the jacrev oracle, float64
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(VARIANTS))
def test_ntk_methods_match_the_jacobian_oracle_in_float64(name):
    with jax.enable_x64(True):
        # Built in float32 and cast by empirical_ntk: ntk.memory_bytes sizes the structured features of a DenseINR
        # with float32 points, which strict promotion refuses for a model built in float64.
        model = build(name, SMALL, jax.random.key(1))
        points = np.random.default_rng(0).uniform(-1.0, 1.0, (21, 2))
        oracle = ntk.empirical_ntk(model, points, method="jacobian", dtype=jnp.float64)
        assert oracle.dtype == np.float64 and np.trace(oracle) > 0
        if name in ("wire", "mfn_gabor"):  # the generic path on the two non-dense structures (DenseINRs: test_ntk)
            ntvp = ntk.empirical_ntk(model, points, method="ntvp", block_size=4, dtype=jnp.float64)
            assert rel_error(ntvp, oracle) <= 1e-10
        assert ntk.supports_structured(model)  # complex WIRE too, through its rotated groups
        structured = ntk.empirical_ntk(model, points, method="structured", block_size=8, dtype=jnp.float64)
        assert rel_error(structured, oracle) <= 1e-10
        if name == "wire":  # the factors alone (no ntk blocking) give the same kernel
            model64 = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64), model)
            assert rel_error(features_kernel(model64, jnp.asarray(points)), oracle) <= 1e-10


def test_mfn_structured_features_of_a_float64_model_under_x64():
    with jax.enable_x64(True):
        model = build("mfn_gabor", SMALL, jax.random.key(2), dtype=jnp.float64)
        points = jnp.asarray(np.random.default_rng(1).uniform(-1.0, 1.0, (11, 2)))
        oracle = ntk.empirical_ntk(model, points, method="jacobian")
        assert rel_error(features_kernel(model, points), oracle) <= 1e-10


# ---------------------------------------------------------------------------------------------------------------
# (c) exact parameter counts, (f) matched widths
# ---------------------------------------------------------------------------------------------------------------

HIDDEN = (32, 16)
EXPECTED_COUNTS = {
    "gauss": (2 * 32 + 32) + (32 * 16 + 16) + (16 + 1),  # 641
    "sinc": 641,
    "wire_real": 2 * (2 * 32 + 32) + 2 * (32 * 16 + 16) + (16 + 1),  # two linear maps per layer: 1265
    "finer": 641,
    # real first layer, complex hidden layer (2x), complex output weights + real bias
    "wire": (2 * 32 + 32) + 2 * (32 * 16 + 16) + (2 * 16 + 1),  # 1185
    # filters: Gabor omega, mu (h x 2), phi, gamma (h); Fourier omega (h x 2), phi (h); then linear layers
    "mfn_gabor": 6 * (32 + 16) + (32 * 16 + 16) + (16 + 1),  # 833
    "mfn_fourier": 3 * (32 + 16) + (32 * 16 + 16) + (16 + 1),  # 689
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_exact_parameter_counts(name):
    model = build(name, HIDDEN, jax.random.key(11))
    assert count_parameters(model) == EXPECTED_COUNTS[name]
    assert model.hidden == HIDDEN and model.in_features == 2 and model.out_features == 1


MATCHED = {
    "gauss": ((256,) * 4, 198_401),
    "sinc": ((256,) * 4, 198_401),
    "wire_real": ((221,) * 3, 197_796),
    "finer": ((256,) * 4, 198_401),
    "wire": ((222,) * 3, 199_135),
    "mfn_gabor": ((253,) * 4, 199_112),
    "mfn_fourier": ((255,) * 4, 199_156),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_matched_widths_give_about_the_sirens_parameter_count(name):
    family, knobs = VARIANTS[name]
    hidden, expected = MATCHED[name]
    assert matched_hidden(family, **knobs) == hidden
    assert count_parameters(build(name, hidden, jax.random.key(12))) == expected
    assert abs(expected - 198_401) / 198_401 < 0.005


# ---------------------------------------------------------------------------------------------------------------
# (d) fitting, (e) checkpoint skeletons
# ---------------------------------------------------------------------------------------------------------------

FIT_LR = {"finer": 3e-4, "wire": 1e-3}


@pytest.mark.standard_promotion  # Optax's Adam takes a float to an int32 power (bias correction)
@pytest.mark.parametrize("name", list(VARIANTS))
def test_fit_reduces_the_loss_on_a_tiny_image(name):
    x = np.linspace(-1, 1, 12, endpoint=False, dtype=np.float32)
    grid = np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1).reshape(-1, 2)  # (144, 2)
    signal = 0.5 + 0.3 * np.sin(np.pi * grid[:, :1]) * np.cos(0.5 * np.pi * grid[:, 1:])  # (144, 1)
    model = build(name, HIDDEN, jax.random.key(13))
    result = inrdict.fit(model, grid, signal, steps=40, learning_rate=FIT_LR.get(name, 2e-3),
                         monitor=inrdict.Monitor(every=20, progress=False))  # fmt: skip
    assert np.all(np.isfinite(result.train_psnr_db))
    assert result.final_eval_psnr_db > result.train_psnr_db[0] + 1.0, (result.train_psnr_db[0], result.eval_psnr_db)
    assert type(result.model) is type(model)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_from_hyperparameters_rebuilds_the_same_skeleton(name):
    extra = {"domain": (0.0, 1.0), "input_scale": 50.0} if name.startswith("mfn") else {}
    with jax.enable_x64(True):
        model = build(name, SMALL, jax.random.key(14), dtype=jnp.float64, **extra)
        hyperparameters = json.loads(json.dumps(model.hyperparameters()))
        assert hyperparameters["hidden"] == list(SMALL)
        rebuilt = type(model).from_hyperparameters(hyperparameters, dtype=jnp.float64)
        assert jax.tree_util.tree_structure(rebuilt) == jax.tree_util.tree_structure(model)  # static knobs included
        assert rebuilt.hyperparameters() == model.hyperparameters()
        for a, b in zip(jax.tree_util.tree_leaves(rebuilt), jax.tree_util.tree_leaves(model)):
            assert a.shape == b.shape and a.dtype == b.dtype == jnp.float64
        filled = eqx.combine(jax.tree_util.tree_map(lambda x: x, model), rebuilt)
        r = jnp.array([0.25, -0.5], jnp.float64)
        assert np.array_equal(forward(filled, r), forward(model, r))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_checkpoint_round_trip(name, tmp_path):
    model = build(name, SMALL, jax.random.key(15))
    loaded, metadata = inrdict.load_model(inrdict.save_model(tmp_path / "model.npz", model, metadata={"seed": 15}))
    assert metadata == {"seed": 15} and loaded.hyperparameters() == model.hyperparameters()
    assert jax.tree_util.tree_structure(loaded) == jax.tree_util.tree_structure(model)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(loaded), jax.tree_util.tree_leaves(model)))


def test_bad_hyperparameters_raise_inrdict_errors():
    key = jax.random.key(0)
    bad = [
        lambda: GaussINR(scale=0.0, key=key),
        lambda: SincINR(omega=float("nan"), key=key),
        lambda: RealWire(s0=-1.0, key=key),
        lambda: ComplexWire(omega0=0.0, key=key),
        lambda: Finer(first_bias_scale=-1.0, key=key),
        lambda: MFN(filter="wavelet", key=key),  # `filter` is typed str so this is InrdictError under beartype too
        lambda: MFN(domain=(1.0, -1.0), key=key),
        lambda: MFN(beta=0.0, key=key),
        lambda: GaussINR(2, (), 1, key=key),
        lambda: matched_hidden("sirne"),
        lambda: make_model("gauss", key=key, omega0=3.0),  # a knob gauss does not have
        lambda: make_model("ffn", key=key, sigma=0.0),
        lambda: MFN(2, (4,), 2, key=key).structured_ntk_features(jnp.zeros((3, 2))),
        lambda: ComplexWire(2, (4,), 3, key=key).structured_ntk_features(jnp.zeros((3, 2))),
    ]
    for make in bad:
        with pytest.raises(InrdictError):
            make()


# ---------------------------------------------------------------------------------------------------------------
# Every model by name; the complex WIRE through the matrix-free operator; fine-tuning and meta-learning
# ---------------------------------------------------------------------------------------------------------------


def test_every_model_name_builds_at_the_sirens_size_with_its_recommended_knobs():
    from inrdict.models import FFN, ReluMLP, Siren

    assert set(MODEL_NAMES) <= set(family.names())
    assert model_knobs("siren") == {"first_omega0": 30.0, "hidden_omega0": 30.0, "convention": "ntk"}
    assert model_knobs("wire") == {"omega0": 4.0, "s0": 4.0} and model_knobs("relu") == {}  # wire_image_denoise.py
    for name in MODEL_NAMES:
        assert family.get(name).knob is None or family.get(name).knob in model_knobs(name)
    assert matched_hidden("ffn") == (211,) * 3  # T = 256 Fourier features, 3 hidden layers: 197,919 parameters
    key = jax.random.key(16)
    siren = make_model("siren", hidden=(8, 8), key=key, first_omega0=60.0)
    assert type(siren) is Siren and siren.first_omega0 == 60.0 and siren.convention == "ntk"
    assert type(make_model("relu", hidden=(8,), key=key)) is ReluMLP
    ffn = make_model("ffn", hidden=(8,), key=key, sigma=3.0, n_features=4000)
    assert type(ffn) is FFN and ffn.B.shape == (4000, 2) and abs(float(np.std(ffn.B)) - 3.0) < 0.1
    assert type(make_model("wire", hidden=(4, 4), key=key, omega0=7.0)) is ComplexWire


def test_complex_wire_through_the_matrix_free_operator():
    """The rotated groups work in `ntk_operator` too: exact products against the oracle kernel."""
    from inrdict.ntk import NTKOperator

    with jax.enable_x64(True):
        model = build("wire", SMALL, jax.random.key(17))
        points = np.random.default_rng(2).uniform(-1.0, 1.0, (40, 2))
        oracle = ntk.empirical_ntk(model, points, method="jacobian", dtype=jnp.float64)
        operator = NTKOperator(model, points, dtype=jnp.float64, block_size=16)
        assert operator.method == "structured"
        vectors = np.random.default_rng(3).standard_normal((40, 3))
        assert rel_error(operator.matmat(vectors), oracle @ vectors) <= 1e-10


@pytest.mark.standard_promotion  # Optax's Adam
@pytest.mark.parametrize("name", ["wire", "mfn_gabor"])  # not DenseINRs (those share SIREN's tested code path)
def test_finetuning_and_a_maml_step_take_the_families_that_are_not_dense_inrs(name):
    from inrdict.io.data import ntk_grid
    from inrdict.train.finetune import finetune, split_mask
    from inrdict.train.fit import init_state
    from inrdict.train.meta import InnerLoop, meta_step
    from inrdict.train.optim import adam

    model = build(name, SMALL, jax.random.key(18))
    points = ntk_grid(4)  # (16, 2)
    images = np.random.default_rng(4).uniform(0.0, 1.0, (2, 16)).astype(np.float32)
    tuned = finetune(model, points, images, split_mask(16, key=jax.random.key(19)), iterations=2, learning_rate=1e-3)
    assert tuned.test_psnr_db.shape == (2, 3) and np.all(np.isfinite(tuned.test_psnr_db))
    optimizer = adam(1e-3)  # `meta_train`'s outer step, second-order MAML through one inner SGD step
    state, frozen = init_state(model, optimizer)
    state, losses = meta_step(state, frozen, jnp.asarray(points), jnp.asarray(images)[:, :, None], jax.random.key(20),
                              optimizer, "maml", InnerLoop(1, 0.01))  # fmt: skip
    assert losses.shape == (2,) and np.all(np.isfinite(losses)) and int(state.step) == 1
    learned = eqx.combine(state.params, frozen)
    assert type(learned) is type(model)
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(learned), jax.tree_util.tree_leaves(model)))

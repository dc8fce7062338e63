"""The families against their authors' reference code: each forward pass and initialisation against an independent
NumPy transcription of the reference formulas, at the reference defaults. Sources (file and the quoted line) beside
each transcription; the classes' docstrings say the same.

* Gauss      vishwa91/wire modules/gauss.py; liuzhen0212/FINER models.py (GaussLayer), run_gauss.sh
* FINER      liuzhen0212/FINER models.py (FinerLayer, Finer), train_image.py, run_finer.sh
* WIRE       vishwa91/wire modules/wire.py (ComplexGaborLayer, RealGaborLayer, INR), wire_image_denoise.py
* MFN        boschresearch/multiplicative-filter-networks mfn/mfn.py, mfn/experiments/image_rep.py, mfn/data.py
* sinc       no author code; the ICML 2024 paper's normalised sinc
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from inrdict import ntk
from inrdict.io.checkpoints import load_model, save_model
from inrdict.models import (
    MFN,
    family,
    ComplexWire,
    Finer,
    GaussINR,
    OnDomain,
    RealWire,
    SincINR,
    make_model,
    matched_hidden,
    model_knobs,
    on_reference_domain,
)
from inrdict.train import recipes
from tests.conftest import rel_error

SMALL = (9, 7, 5)


def np_(x):
    return np.asarray(x, np.float64)


def pytorch_linear_bound(fan_in: int) -> float:
    """torch.nn.Linear's default: kaiming_uniform_(a=sqrt(5)) gives W ~ U(±1/sqrt(fan_in)); the bias the same."""
    return 1.0 / math.sqrt(fan_in)


def assert_uniform(values, low, high, name):
    """Exact support and a Kolmogorov–Smirnov test against U(low, high) (p > 1e-6: robust to the draw, yet a
    wrong bound by 5 % on a few thousand samples fails)."""
    values = np.asarray(values, np.float64).ravel()
    assert values.min() >= low and values.max() <= high, f"{name}: outside [{low}, {high}]"
    p = scipy.stats.kstest(values, scipy.stats.uniform(low, high - low).cdf).pvalue
    assert p > 1e-6, f"{name}: not U({low}, {high}) (KS p = {p:.2g}, n = {values.size})"


def assert_symmetric_uniform(values, bound, name):
    assert_uniform(values, -bound, bound, name)


# ---------------------------------------------------------------------------------------------------------------
# The reference defaults (what each class's keyword defaults must be)
# ---------------------------------------------------------------------------------------------------------------

REFERENCE_DEFAULTS = {
    # FINER run_gauss.sh SCALE=30; models.py GaussLayer(scale=30.0); WIRE's "sigma0=30 for image representation"
    "gauss": {"scale": 30.0},
    # FINER models.py: first_bias_scale=None, scale_req_grad=False; run_finer.sh FIRSTOMEGA=30 HIDDENOMEGA=30
    "finer": {"first_omega0": 30.0, "hidden_omega0": 30.0, "first_bias_scale": None, "scale_gradient": False},
    # vishwa91/wire@0ac8cba wire_image_denoise.py: omega0 = 4.0, sigma0 = 4.0, hidden_layers = 2 (one named run)
    "wire": {"omega0": 4.0, "s0": 4.0},
    "wire_real": {"omega0": 4.0, "s0": 4.0},
    # image_rep.py: GaborNet(..., input_scale=256, weight_scale=1); mfn.py GaborNet alpha=6.0, beta=1.0
    "mfn": {"filter": "gabor", "input_scale": 256.0, "weight_scale": 1.0, "alpha": 6.0, "beta": 1.0,
            "domain": (-1.0, 1.0)},
}  # fmt: skip


@pytest.mark.parametrize("name", list(REFERENCE_DEFAULTS))
def test_recommended_knobs_are_the_reference_defaults(name):
    assert model_knobs(name) == REFERENCE_DEFAULTS[name]
    assert family.get(name).domain == (-1.0, 1.0)  # every reference trains on linspace(-1, 1) per axis


REFERENCE_DEPTHS = {"gauss": 4, "finer": 4, "wire": 3, "wire_real": 3, "mfn": 4}  # run_*.sh / hidden_layers = 2 / 4 filters


@pytest.mark.parametrize("name", list(REFERENCE_DEPTHS))
def test_default_depth_and_recipe_come_from_the_same_named_run(name):
    """A family's default architecture, knobs and training come from one reference run (`inrdict.train.recipes`)."""
    run = recipes.recipe(name)
    assert len(matched_hidden(name)) == REFERENCE_DEPTHS[name] == run.depth == family.get(name).depth
    assert all(model_knobs(name)[k] == v for k, v in run.knobs.items()), (name, run.knobs)
    assert run.source and (run.final_lr_factor < 1) == (name != "mfn")  # FINER, Gauss, WIRE decay; MFN does not
    assert run.target_range == ((0.0, 1.0) if name.startswith("wire") else (-1.0, 1.0))


# ---------------------------------------------------------------------------------------------------------------
# Forward passes: NumPy transcriptions of the reference layers, on our models' arrays
# ---------------------------------------------------------------------------------------------------------------


def _forward(model, r):
    return np.asarray(eqx.filter_jit(lambda m, x: m(x))(model, jnp.asarray(r)), np.float64)


def test_gauss_forward_is_exp_of_minus_scale_times_linear_squared():
    # vishwa91/wire modules/gauss.py: `return torch.exp(-(self.scale*self.linear(input))**2)`; plain final linear.
    with jax.enable_x64(True):
        model = GaussINR(2, SMALL, 1, key=jax.random.key(0), dtype=jnp.float64)
        r = np.array([0.31, -0.62])
        z = r
        for layer in model.layers[:-1]:
            z = np.exp(-((30.0 * (np_(layer.weight) @ z + np_(layer.bias))) ** 2))
        expected = np_(model.layers[-1].weight) @ z + np_(model.layers[-1].bias)
        assert np.allclose(_forward(model, r), expected, rtol=1e-12, atol=1e-300)


def test_finer_forward_and_its_stop_gradient_scale():
    # FINER models.py FinerLayer.forward: `x = self.linear(input); scale = self.generate_scale(x);
    # out = torch.sin(self.omega_0 * scale * x)`, generate_scale: `with torch.no_grad(): scale = torch.abs(x) + 1`.
    with jax.enable_x64(True):
        model = Finer(2, SMALL, 1, hidden_omega0=7.0, key=jax.random.key(1), dtype=jnp.float64)
        r = np.array([0.2, -0.9])
        z = r
        for index, layer in enumerate(model.layers[:-1]):
            x = np_(layer.weight) @ z + np_(layer.bias)
            z = np.sin((30.0 if index == 0 else 7.0) * (np.abs(x) + 1) * x)
        expected = np_(model.layers[-1].weight) @ z + np_(model.layers[-1].bias)
        assert np.allclose(_forward(model, r), expected, rtol=1e-12)
        # Backward: the scale is a constant, d/dx = omega (|x| + 1) cos(omega (|x| + 1) x) ...
        u = jnp.linspace(-1.3, 1.3, 27, dtype=jnp.float64)
        a = np_(u)
        slope = jax.vmap(jax.grad(lambda x: model.activate(0, x)))(u)
        assert np.allclose(slope, 30.0 * (np.abs(a) + 1) * np.cos(30.0 * (np.abs(a) + 1) * a), rtol=1e-12)
        # ... unless scale_gradient=True (`--scale_req_grad`): omega (2|x| + 1) cos(...).
        differentiated = Finer(2, SMALL, 1, scale_gradient=True, key=jax.random.key(1), dtype=jnp.float64)
        slope = jax.vmap(jax.grad(lambda x: differentiated.activate(0, x)))(u)
        assert np.allclose(slope, 30.0 * (2 * np.abs(a) + 1) * np.cos(30.0 * (np.abs(a) + 1) * a), rtol=1e-12)


def test_complex_wire_forward_is_the_reference_complex_gabor_stack():
    # wire.py ComplexGaborLayer.forward: `lin = self.linear(input); omega = self.omega_0 * lin;
    # scale = self.scale_0 * lin; return torch.exp(1j*omega - scale.abs().square())`; INR: `output.real`.
    with jax.enable_x64(True):
        model = ComplexWire(2, SMALL, 1, omega0=20.0, s0=30.0, key=jax.random.key(3), dtype=jnp.float64)
        r = np.array([0.3, -0.7])

        def gabor(lin):
            return np.exp(1j * 20.0 * lin - np.abs(30.0 * lin) ** 2)

        z = gabor(np_(model.first.weight) @ r + np_(model.first.bias))
        for layer in model.layers:
            weight = np_(layer.weight_real) + 1j * np_(layer.weight_imag)
            z = gabor(weight @ z + np_(layer.bias_real) + 1j * np_(layer.bias_imag))
        out = model.output
        expected = np.real((np_(out.weight_real) + 1j * np_(out.weight_imag)) @ z) + np_(out.bias)
        assert np.allclose(_forward(model, r), expected, rtol=1e-12, atol=1e-300)


def test_real_wire_forward_has_two_linear_maps_per_layer():
    # wire.py RealGaborLayer.forward: `omega = self.omega_0 * self.freqs(input); scale = self.scale(input) *
    # self.scale_0; return torch.cos(omega)*torch.exp(-(scale**2))`; a plain final linear.
    with jax.enable_x64(True):
        model = RealWire(2, SMALL, 1, omega0=20.0, s0=3.0, key=jax.random.key(4), dtype=jnp.float64)
        r = np.array([0.05, 0.11])
        z = r
        for freqs, scale in zip(model.frequency_maps, model.scale_maps):
            omega = 20.0 * (np_(freqs.weight) @ z + np_(freqs.bias))
            envelope = (np_(scale.weight) @ z + np_(scale.bias)) * 3.0
            z = np.cos(omega) * np.exp(-(envelope**2))
        expected = np_(model.output.weight) @ z + np_(model.output.bias)
        assert np.allclose(_forward(model, r), expected, rtol=1e-12, atol=1e-300)
        assert not np.allclose(model.frequency_maps[0].weight, model.scale_maps[0].weight)  # two separate maps


@pytest.mark.parametrize("filter_kind", ["fourier", "gabor"])
def test_mfn_forward_is_the_reference_recursion(filter_kind):
    # mfn.py MFNBase.forward: `out = self.filters[0](x); for i in range(1, len(self.filters)):
    # out = self.filters[i](x) * self.linear[i - 1](out)`; `out = self.output_linear(out)`.
    # GaborLayer: `D = (x**2).sum(-1)[..., None] + (self.mu**2).sum(-1)[None, :] - 2 * x @ self.mu.T`;
    # `return torch.sin(self.linear(x)) * torch.exp(-0.5 * D * self.gamma[None, :])`.
    with jax.enable_x64(True):
        model = MFN(2, SMALL, 1, filter=filter_kind, key=jax.random.key(5), dtype=jnp.float64)
        x = np.array([0.2, 0.9])

        def layer(f):
            value = np.sin(np_(f.omega) @ x + np_(f.phi))
            if filter_kind == "gabor":
                mu = np_(f.mu)
                distance = (x**2).sum() + (mu**2).sum(-1) - 2 * mu @ x
                value = value * np.exp(-0.5 * distance * np_(f.gamma))
            return value

        out = layer(model.filters[0])
        for linear, f in zip(model.layers[:-1], model.filters[1:]):
            out = layer(f) * (np_(linear.weight) @ out + np_(linear.bias))
        expected = np_(model.layers[-1].weight) @ out + np_(model.layers[-1].bias)
        assert np.allclose(_forward(model, x), expected, rtol=1e-11)


def test_sinc_is_the_normalised_sinc():
    with jax.enable_x64(True):
        model = SincINR(2, SMALL, 1, omega=4.0, key=jax.random.key(6), dtype=jnp.float64)
        u = np.array([0.0, 0.25, 0.5, -0.75, 0.1])  # zeros at u = k / omega
        expected = [1.0, 0.0, 0.0, 0.0, np.sin(np.pi * 0.4) / (np.pi * 0.4)]
        assert np.allclose(model.activate(0, jnp.asarray(u)), expected, atol=1e-15)
        assert float(jax.grad(lambda v: model.activate(0, v))(0.0)) == 0.0


# ---------------------------------------------------------------------------------------------------------------
# Initialisation: the reference's distributions at its defaults
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [GaussINR, SincINR])
def test_gauss_and_sinc_keep_pytorchs_linear_default(cls):
    model = cls(2, (512, 512), 1, key=jax.random.key(7))
    for index, layer in enumerate(model.layers):
        bound = pytorch_linear_bound(layer.in_features)
        assert_symmetric_uniform(layer.weight, bound, f"layer {index} weight")
        if layer.bias.size > 100:
            assert_symmetric_uniform(layer.bias, bound, f"layer {index} bias")


def test_finer_initialisation_is_the_official_one():
    # FinerLayer.init_weights: first `uniform_(-1 / self.in_features, 1 / self.in_features)`, others
    # `uniform_(-np.sqrt(6 / self.in_features) / self.omega_0, ...)`; the final linear the same bound with
    # hidden_omega_0; first_bias_scale=None: every bias PyTorch's default.
    model = Finer(2, (512, 512), 1, key=jax.random.key(8))
    first, hidden, output = model.layers
    assert_symmetric_uniform(first.weight, 1 / 2, "first weight: U(±1/fan_in)")
    assert_symmetric_uniform(first.bias, pytorch_linear_bound(2), "first bias: PyTorch's U(±1/sqrt(fan_in))")
    for layer in (hidden, output):
        assert_symmetric_uniform(layer.weight, math.sqrt(6 / 512) / 30.0, "sqrt(6/fan_in)/omega0")
    assert_symmetric_uniform(hidden.bias, pytorch_linear_bound(512), "hidden bias")
    # init_first_bias: `self.linear.bias.uniform_(-self.first_bias_scale, self.first_bias_scale)`.
    wide = Finer(2, (4096,), 1, first_bias_scale=20.0, key=jax.random.key(9))
    assert_symmetric_uniform(wide.layers[0].bias, 20.0, "first bias with first_bias_scale = 20")


def test_wire_initialisation_is_pytorchs_default_for_real_and_complex_layers():
    complex_wire = ComplexWire(2, (512, 512), 1, key=jax.random.key(10))
    assert_symmetric_uniform(complex_wire.first.weight, pytorch_linear_bound(2), "real first weight")
    (layer,) = complex_wire.layers
    for part in ("weight_real", "weight_imag", "bias_real", "bias_imag"):  # cfloat: real, imaginary parts alike
        assert_symmetric_uniform(getattr(layer, part), pytorch_linear_bound(512), part)
    real_wire = RealWire(2, (512, 512), 1, key=jax.random.key(11))
    for maps in (real_wire.frequency_maps, real_wire.scale_maps):
        for linear in maps:
            assert_symmetric_uniform(linear.weight, pytorch_linear_bound(linear.in_features), "weight")
    assert_symmetric_uniform(real_wire.output.weight, pytorch_linear_bound(512), "output weight")


def test_mfn_initialisation_is_the_reference_one():
    # MFNBase: hidden `uniform_(-np.sqrt(weight_scale / hidden_size), ...)` (weight_scale = 1), the output linear
    # untouched (PyTorch's default); GaborLayer: `mu = 2 * torch.rand(out, in) - 1`, `gamma ~ Gamma(alpha /
    # (n_layers + 1), beta)`, `weight *= weight_scale * sqrt(gamma)` with weight_scale = input_scale /
    # sqrt(n_layers + 1) on PyTorch's default U(±1/sqrt(in)); `bias.uniform_(-np.pi, np.pi)`.
    k, h = 4, 600
    model = MFN(2, (h,) * k, 1, key=jax.random.key(12))
    for linear in model.layers[:-1]:
        assert_symmetric_uniform(linear.weight, math.sqrt(1.0 / h), "hidden W: U(±sqrt(weight_scale/h))")
    assert_symmetric_uniform(np.concatenate([np_(linear.bias) for linear in model.layers[:-1]]),
                             pytorch_linear_bound(h), "hidden bias")  # fmt: skip
    assert_symmetric_uniform(model.layers[-1].weight, pytorch_linear_bound(h), "output W: PyTorch's default")
    gamma = np.concatenate([np_(f.gamma) for f in model.filters])
    p = scipy.stats.kstest(gamma, scipy.stats.gamma(a=6.0 / k, scale=1.0).cdf).pvalue
    assert p > 1e-6, f"gamma is not Gamma(alpha/(n_layers+1), 1): KS p = {p:.2g}"
    assert_uniform(np.concatenate([np_(f.mu) for f in model.filters]), -1.0, 1.0, "mu: 2 rand - 1")
    scaled = np.concatenate([np_(f.omega) / np.sqrt(np_(f.gamma))[:, None] for f in model.filters])
    assert_symmetric_uniform(scaled, 256.0 / math.sqrt(k) * pytorch_linear_bound(2), "omega / sqrt(gamma)")
    assert_symmetric_uniform(np.concatenate([np_(f.phi) for f in model.filters]), math.pi, "phase")


# ---------------------------------------------------------------------------------------------------------------
# The coordinate domain
# ---------------------------------------------------------------------------------------------------------------


def test_on_domain_is_the_model_on_mapped_points_and_its_ntk_too(tmp_path):
    with jax.enable_x64(True):
        model = make_model("finer", hidden=(8, 6), key=jax.random.key(13))
        wrapped = on_reference_domain("finer", model)
        assert isinstance(wrapped, OnDomain) and on_reference_domain("siren", model) is model
        points = np.random.default_rng(2).uniform(0.0, 1.0, (17, 2))
        mapped = 2.0 * points - 1.0
        p32, m32 = jnp.asarray(points, jnp.float32), jnp.asarray(mapped, jnp.float32)
        assert np.allclose(jax.vmap(wrapped)(p32), jax.vmap(model)(m32), rtol=1e-5, atol=1e-6)
        on_grid = ntk.empirical_ntk(wrapped, points, method="structured", dtype=jnp.float64)
        assert rel_error(on_grid, ntk.empirical_ntk(model, mapped, method="jacobian", dtype=jnp.float64)) <= 1e-10
        assert rel_error(on_grid, ntk.empirical_ntk(wrapped, points, method="jacobian", dtype=jnp.float64)) <= 1e-10
    path = tmp_path / "finer_on_domain.npz"
    save_model(path, wrapped)
    loaded, _ = load_model(path)
    assert isinstance(loaded, OnDomain) and (loaded.low, loaded.high) == (-1.0, 1.0)
    p32 = jnp.asarray(points, jnp.float32)
    assert np.allclose(jax.vmap(loaded)(p32), jax.vmap(wrapped)(p32))


def test_on_domain_keeps_the_wrapped_models_frozen_fields():
    from inrdict.models import count_parameters, partition_trainable

    ffn = make_model("ffn", hidden=(8,), key=jax.random.key(14), n_features=6)
    wrapped = OnDomain(ffn, -1.0, 1.0)
    assert wrapped.frozen_fields == ("model.B",) and count_parameters(wrapped) == count_parameters(ffn)
    trainable, frozen = partition_trainable(wrapped)
    assert trainable.model.B is None and frozen.model.B is not None
    with pytest.raises(Exception, match="low < high"):
        OnDomain(ffn, 1.0, -1.0)

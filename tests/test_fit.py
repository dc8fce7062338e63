import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jaxtyping import TypeCheckError

import inrdict
from inrdict.errors import DivergenceError, InrdictError
from inrdict.io.data import tone
from inrdict.models import FFN, Siren, gaussian_frequencies
from inrdict.train import fit as fit_module
from inrdict.train.recipes import recipe, schedule

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam
QUIET = inrdict.Monitor(progress=False)


@pytest.fixture
def tone_data():
    r, y = tone(3.0, 64)
    return r[:, None], y[:, None]


def test_fit_learns_a_tone_and_reports_consistent_psnr(tone_data, getkey):
    r, y = tone_data
    model = Siren(1, (32, 32), 1, first_omega0=30.0, convention="fit", key=getkey())
    result = inrdict.fit(model, r, y, steps=300, learning_rate=1e-3, monitor=inrdict.Monitor(every=100, progress=False))
    assert result.train_psnr_db.shape == (300,)
    assert list(result.eval_steps) == [100, 200, 300]
    assert result.final_eval_psnr_db > 30.0 and result.final_eval_psnr_db > result.train_psnr_db[0] + 20
    # Reported PSNR equals the PSNR of the returned predictions and of the returned model.
    mse = np.mean((result.predictions - y) ** 2)
    assert np.isclose(result.final_eval_psnr_db, -10 * np.log10(mse), atol=1e-3)
    assert np.allclose(inrdict.predict(result.model, r), result.predictions, atol=1e-6)


@pytest.mark.parametrize("family", ["siren", "ffn"])
def test_full_batch_fit_is_deterministic_and_matches_a_hand_written_adam_loop(family, tone_data, getkey):
    r, y = tone_data
    if family == "siren":
        model = Siren(1, (8,), 1, convention="fit", key=getkey())
    else:  # fit pre-computes the frozen Fourier features; the result must equal the plain loop's
        model = FFN(gaussian_frequencies(getkey(), 6, 1, 3.0), (8,), 1, key=getkey())
    a = inrdict.fit(model, r, y, steps=7, learning_rate=1e-3, monitor=inrdict.Monitor(every=3, progress=False))
    b = inrdict.fit(model, r, y, steps=7, learning_rate=1e-3, monitor=inrdict.Monitor(every=7, progress=False))
    params, frozen = inrdict.partition_trainable(model)
    optimizer = optax.adam(1e-3)
    state = optimizer.init(params)
    for _ in range(7):
        grads = jax.grad(lambda p: jnp.mean((jax.vmap(eqx.combine(p, frozen))(jnp.asarray(r)) - y) ** 2))(params)
        updates, state = optimizer.update(grads, state, params)
        params = eqx.apply_updates(params, updates)
    model = eqx.combine(params, frozen)
    for fitted in (a.model, b.model):
        for got, want in zip(jax.tree_util.tree_leaves(fitted), jax.tree_util.tree_leaves(model)):
            assert np.allclose(got, want, atol=1e-6)


def test_minibatch_fit_is_seeded(tone_data, getkey):
    r, y = tone_data
    model = Siren(1, (16,), 1, convention="fit", key=getkey())
    kwargs = dict(steps=20, learning_rate=1e-3, monitor=inrdict.Monitor(every=10, progress=False))
    a = inrdict.fit(model, r, y, batching=inrdict.Batching(8, jax.random.key(3)), **kwargs)
    b = inrdict.fit(model, r, y, batching=inrdict.Batching(8, jax.random.key(3)), **kwargs)
    c = inrdict.fit(model, r, y, batching=inrdict.Batching(8, jax.random.key(4)), **kwargs)
    assert np.array_equal(a.predictions, b.predictions)
    assert not np.array_equal(a.predictions, c.predictions)
    with pytest.raises(InrdictError, match="key"):
        inrdict.fit(model, r, y, batching=inrdict.Batching(8), **kwargs)


def test_fourier_matrix_stays_frozen(getkey):
    model = FFN(gaussian_frequencies(getkey(), 8, 2, 3.0), (16,), 1, key=getkey())
    x = jax.random.uniform(getkey(), (32, 2))
    result = inrdict.fit(model, x, jnp.sin(x[:, :1] * 5), steps=20, learning_rate=1e-2, monitor=QUIET)
    assert np.array_equal(result.model.B, model.B)
    assert not np.array_equal(result.model.layers[0].weight, model.layers[0].weight)


def test_nan_loss_is_reported_with_its_step(tone_data, getkey):
    r, y = tone_data
    model = Siren(1, (16,), 1, convention="fit", key=getkey())
    bad = y.copy()
    bad[5] = np.nan
    with pytest.raises(DivergenceError, match="at step 0"):
        inrdict.fit(model, r, bad, steps=10, monitor=QUIET)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps"),
        ({"steps": 5, "monitor": inrdict.Monitor(every=0, progress=False)}, "every"),
        ({"steps": 5, "batching": inrdict.Batching(0, jax.random.key(0))}, "batch size"),
        ({"steps": 5, "batching": inrdict.Batching(chunk_size=0)}, "chunk_size"),
        ({"steps": 5, "learning_rate": -1.0}, "learning_rate"),
        ({"steps": 5, "monitor": inrdict.Monitor(np.zeros((3, 1), np.float32), progress=False)}, "together"),
    ],
)
def test_bad_arguments(kwargs, message, tone_data, getkey):
    r, y = tone_data
    model = Siren(1, (4,), 1, convention="fit", key=getkey())
    with pytest.raises(InrdictError, match=message):
        inrdict.fit(model, r, y, **{"monitor": QUIET, **kwargs})
    # Mismatched point counts: `fit` raises a one-line InrdictError; under this suite's runtime shape checks the
    # annotations (coords "n *d", targets "n *c") reject the call first.
    with pytest.raises((InrdictError, TypeCheckError), match="points|n"):
        inrdict.fit(model, r, y[:10], steps=1, monitor=QUIET)


def test_too_large_full_batch_is_refused_before_allocating(tone_data, getkey, monkeypatch):
    r, y = tone_data
    monkeypatch.setattr(inrdict._memory, "available_memory_bytes", lambda: 1000)
    model = Siren(1, (64,), 1, convention="fit", key=getkey())
    with pytest.raises(InrdictError, match="GiB.*smaller image"):
        inrdict.fit(model, r, y, steps=1, monitor=QUIET)


def test_chunked_gradient_equals_one_big_gradient(getkey):
    model = FFN(gaussian_frequencies(getkey(), 16, 2, 3.0), (32, 32), 3, key=getkey())
    params, frozen = inrdict.partition_trainable(model)
    x, y = jax.random.uniform(getkey(), (1000, 2)), jax.random.uniform(getkey(), (1000, 3))
    whole_loss, whole = fit_module.mse_value_and_grad(params, frozen, x, y, chunk_size=1000)
    manual = jax.grad(lambda p: jnp.mean((jax.vmap(eqx.combine(p, frozen))(x) - y) ** 2))(params)
    for chunk in (128, 333, 999):  # uneven last chunk: padding must carry zero weight
        loss, grads = fit_module.mse_value_and_grad(params, frozen, x, y, chunk_size=chunk)
        assert np.isclose(loss, whole_loss, rtol=1e-5)
        for got, want, ref in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(whole), jax.tree_util.tree_leaves(manual)):
            assert np.allclose(got, want, rtol=1e-4, atol=1e-7) and np.allclose(want, ref, rtol=1e-4, atol=1e-7)


def test_psnr_of_mse():
    assert inrdict.psnr_db(0.01) == pytest.approx(20.0)
    assert inrdict.psnr_db(1.0) == pytest.approx(0.0)


def test_recipe_schedule_is_lambdalr_decay_and_wire_scales_its_lr_by_image_size():
    """lr_t = lr · 0.1^min(t / T, 1) (PyTorch's LambdaLR of FINER's train_image.py and WIRE's denoising script) and
    WIRE's lr × min(1, 256² / HW); MFN's rate is constant; targets map [0, 1] → the run's range and back."""
    wire = recipe("wire")
    rate = schedule(wire, pixels=512 * 512)
    assert np.isclose(float(rate(0)), 1e-3 / 4) and np.isclose(float(rate(wire.steps)), 1e-4 / 4)
    assert np.isclose(float(rate(wire.steps // 2)), 1e-3 / 4 * 0.1**0.5, rtol=1e-5)
    assert np.isclose(float(rate(10 * wire.steps)), 1e-4 / 4)  # min(t / T, 1): flat after T
    assert np.isclose(float(schedule(wire, pixels=64 * 64)(0)), 1e-3)  # small images: no scaling
    mfn = schedule(recipe("mfn"), pixels=64 * 64)
    assert float(mfn(0)) == float(mfn(5000)) == 1e-2
    siren = recipe("siren")
    pixels = np.array([0.0, 0.25, 1.0])
    assert np.allclose(siren.to_target(pixels), [-1.0, -0.5, 1.0]) and np.allclose(siren.from_target(siren.to_target(pixels)), pixels)
    with pytest.raises(inrdict.InrdictError, match="denoise, sisr"):
        recipe("wire", "paper")

"""The vectorised sin / cos of the sinusoidal INRs (`inrdict.models.sine`): accurate to 1e-7 where SIRENs evaluate
them, differentiated as the pair they are, exact `jnp.sin` in float64, and really vectorised (no scalar `sine` op
left in the program XLA compiles)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inrdict.models import Siren, sine


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3, 1e5])
def test_float32_values_are_within_2e_7_of_the_exact_ones(scale):
    x = np.random.default_rng(0).uniform(-scale, scale, 200_000).astype(np.float32)
    exact = x.astype(np.float64)
    for fast, reference in ((sine.sin, np.sin), (sine.cos, np.cos)):
        error = np.abs(np.asarray(jax.jit(fast)(x), np.float64) - reference(exact))
        assert error.max() < 2e-7, (fast.__name__, scale, error.max())
    quarter = np.float32(np.pi / 2) * np.arange(-8, 9, dtype=np.float32)  # the branch points of the reduction
    assert np.abs(np.asarray(sine.sin(quarter), np.float64) - np.sin(quarter.astype(np.float64))).max() < 2e-7


def test_derivatives_are_the_pair_at_every_order():
    x = jnp.linspace(-40.0, 40.0, 101, dtype=jnp.float32)
    d_sin = jax.vmap(jax.grad(sine.sin))(x)
    d2_sin = jax.vmap(jax.grad(jax.grad(sine.sin)))(x)
    d_cos = jax.vmap(jax.grad(sine.cos))(x)
    np.testing.assert_array_equal(d_sin, sine.cos(x))
    np.testing.assert_array_equal(d2_sin, -sine.sin(x))
    np.testing.assert_array_equal(d_cos, -sine.sin(x))


def test_float64_is_jnp_sin_exactly_and_float32_compiles_without_a_scalar_sine():
    with jax.enable_x64(True):
        x = jnp.linspace(-100.0, 100.0, 1001, dtype=jnp.float64)
        np.testing.assert_array_equal(sine.sin(x), jnp.sin(x))
        np.testing.assert_array_equal(sine.cos(x), jnp.cos(x))
    x32 = jnp.ones((4, 8), jnp.float32)
    for fn in (sine.sin, sine.cos, jnp.sin):
        text = jax.jit(fn).lower(x32).as_text()
        assert ("stablehlo.sine" in text or "stablehlo.cosine" in text) == (fn is jnp.sin), text
    siren = Siren(2, (8,), 1, key=jax.random.key(0))
    hlo = jax.jit(jax.grad(lambda m, r: m(r)[0])).lower(siren, jnp.zeros(2, jnp.float32)).as_text()
    assert "stablehlo.sine" not in hlo and "stablehlo.cosine" not in hlo  # the SIREN and its gradient use the vectorised pair

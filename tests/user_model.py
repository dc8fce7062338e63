"""A user's own INRs for the `analyse` tests (`inrdict analyse tests.user_model:build`): plain Equinox modules that
inrdict's checkpoint format does not know, so the lens computes them without the on-disk cache."""

import equinox as eqx
import jax.numpy as jnp


class TanhINR(eqx.Module):
    """f(r) = MLP(r) with tanh activations: (in_features,) → (1,)."""

    mlp: eqx.nn.MLP

    def __call__(self, r):
        return self.mlp(r)


def build(*, key, in_features: int = 2) -> TanhINR:
    """The factory `analyse` calls: `build(key=...)`, and `build(key=..., in_features=1)` for the aliasing test."""
    return TanhINR(eqx.nn.MLP(in_features, 1, 24, 2, activation=jnp.tanh, key=key))


def build_without_in_features(*, key) -> TanhINR:
    return TanhINR(eqx.nn.MLP(2, 1, 24, 2, activation=jnp.tanh, key=key))


def build_two_outputs(*, key) -> eqx.nn.MLP:
    return eqx.nn.MLP(2, 2, 8, 1, key=key)


def build_not_a_module(*, key):
    return lambda r: r[:1]


def build_without_key():
    """A factory that takes no key (it seeds itself): `analyse` must call it as `build_without_key()`."""
    import jax

    return build_without_in_features(key=jax.random.key(7))


def build_failing():
    return build_without_in_features(key=None)

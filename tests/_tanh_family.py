"""A new family in one module, as a user would add one (`tests/test_families.py` imports it): a dense INR with
z_l = tanh(omega (W_l z_{l-1} + b_l)) and its registry record. Nothing else in inrdict names it."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from inrdict.models import DenseINR, Linear
from inrdict.models.family import Family, Recipe, register


class TanhINR(DenseINR):
    """z_l = tanh(omega u_l), linear output; W, b ~ U(±1/sqrt(fan_in))."""

    omega: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (64,) * 3, out_features: int = 1, *,
                 omega: float = 3.0, key, dtype=jnp.float32):  # fmt: skip
        sizes = (in_features, *hidden, out_features)
        keys = jax.random.split(key, 2 * len(sizes) - 2)
        layers = []
        for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1.0 / math.sqrt(n_in)
            w = jax.random.uniform(keys[2 * index], (n_out, n_in), dtype, -bound, bound)
            b = jax.random.uniform(keys[2 * index + 1], (n_out,), dtype, -bound, bound)
            layers.append(Linear(w, b))
        self.layers, self.omega = tuple(layers), float(omega)

    def activate(self, index: int, u):
        return jnp.tanh(self.omega * u)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"omega": self.omega}

    @classmethod
    def from_hyperparameters(cls, h: dict, *, dtype) -> TanhINR:
        return cls(int(h["in_features"]), tuple(h["hidden"]), int(h["out_features"]), omega=float(h["omega"]),
                   key=jax.random.key(0), dtype=dtype)  # fmt: skip


TANH = register(Family(
    name="tanh_test", build=TanhINR, classes=(TanhINR,), prng_id=901, domain=(-1.0, 1.0),
    domain_source="this test", reference="none: a test family", knob="omega", knob_fields={"omega0": "omega"},
    depth=3, recipes=(Recipe("tanh_test", "test", 1e-3, 50, "this test", depth=3),),
))  # fmt: skip

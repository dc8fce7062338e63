"""Gauss: a dense INR with Gaussian activations (Ramasinghe & Lucey, ECCV 2022), and its registry record."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from inrdict.models._common import _positive, _sizes
from inrdict.models.elementwise import _ElementwiseINR
from inrdict.models.family import SOURCE_FINER, Family, Recipe, register


class GaussINR(_ElementwiseINR):
    """Coordinate-MLP with Gaussian activations (Ramasinghe & Lucey, "Beyond Periodicity", ECCV 2022), as the
    reference implementations ship it.

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = exp(-(s u)²),   f(r) = W_L z_{L-1} + b_L (linear output).

    The form exp(-(s u)²) is the reference code's (vishwa91/wire `modules/gauss.py` `GaussLayer.forward`:
    `torch.exp(-(self.scale*self.linear(input))**2)`; liuzhen0212/FINER `models.py` `GaussLayer`, the same); the
    paper's exp(-u²/(2 sigma²)) is this with s = 1/(sqrt(2) sigma). Defaults from one named run,
    liuzhen0212/FINER `run_gauss.sh` at commit 07a9a92: `SCALE=30`, `train_image.py`'s `hidden_layers=3` (a first
    Gauss layer and 3 more: 4 layers); its training (Adam 5e-3, decayed to 0.1×, pixels in [-1, 1]) is
    `inrdict.train.recipes`' "finer". Other values in the sources: vishwa91/wire's `GaussLayer` defaults to 10, and
    its `wire_image_denoise.py` passes its sigma0 as Gauss's scale, 4 at commit 0ac8cba (an outside reading found
    5 at a later HEAD). Imported Gauss weights must name their scale (`inrdict import --set scale=...`): a state
    dict does not hold it and the two repositories disagree. Initialisation: PyTorch's `nn.Linear` default W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) in every
    layer, the output layer too (neither repository re-initialises). Coordinates in [-1, 1]² in both repositories.

    Args:
        in_features, hidden, out_features: sizes (2, (256,) * 4, 1 by default).
        scale: s of exp(-(s u)²) (> 0; larger s, narrower bump, higher frequencies), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    scale: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 scale: float = 30.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.scale = _positive("the Gaussian scale s", scale)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.exp(-((self.scale * u) ** 2))

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"scale": self.scale}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "GaussINR":
        h = hyperparameters
        scale = float(h["scale"]) if "scale" in h else 1.0 / (math.sqrt(2.0) * float(h["sigma"]))  # older: sigma
        return cls(*_sizes(h), scale=scale, key=jax.random.key(0), dtype=dtype)


GAUSS = register(Family(
    name="gauss", build=GaussINR, classes=(GaussINR,), prng_id=102, domain=(-1.0, 1.0),
    domain_source="vishwa91/wire wire_image_denoise.py and liuzhen0212/FINER train_image.py: linspace(-1, 1)",
    reference="Ramasinghe & Lucey, ECCV 2022 (code: vishwa91/wire, liuzhen0212/FINER)", knob="scale",
    knob_fields={"scale": "scale"},
    # run_gauss.sh (LR=0.005, SCALE=30), train_image.py's schedule and range
    recipes=(Recipe("gauss", "finer", 5e-3, 5000, f"{SOURCE_FINER}, run_gauss.sh", 0.1, (-1.0, 1.0), depth=4,
                    knobs={"scale": 30.0}),),
    import_sources={"sequential": (
        ("liuzhen0212/FINER models.py, train_image.py", {"scale": 30.0, "indexing": "ij"}),  # Gauss(scale=30.0)
        ("vishwa91/wire modules/gauss.py, wire_image_denoise.py", {"scale": 10.0, "indexing": "xy"}),  # INR(scale=10.0)
    )},
))  # fmt: skip

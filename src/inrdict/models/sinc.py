"""Sinc: a dense INR with sinc activations (Saratchandran et al., ICML 2024), and its registry record."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from inrdict.models._common import _positive, _sizes
from inrdict.models.elementwise import _ElementwiseINR
from inrdict.models.family import Family, Recipe, register


class SincINR(_ElementwiseINR):
    """Coordinate-MLP with sinc activations (Saratchandran, Ramasinghe, Shevchenko, Long & Lucey, "A sampling theory
    perspective on activations for implicit neural representations", ICML 2024).

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = sinc(omega u) = sin(pi omega u) / (pi omega u),  rho(0) = 1,
    f(r) = W_L z_{L-1} + b_L.

    Sources: the authors released no code that we could find. Normalisation: the paper's optimality result rests on
    the integer translates of the activation forming a Riesz basis and a partition of unity, which holds for the
    *normalised* sinc sin(pi x)/(pi x); omega scales the bandwidth (a flat spectrum up to pi omega radians per unit
    of u). The same authors' CVPR 2024 companion ("From activation to initialization") writes the unnormalised
    sin(omega x)/(omega x), i.e. this class at omega/pi; the public re-implementations we found use the
    normalised `torch.sinc(omega x)` (kushalvyas/alpine `Sinc`, omega = 30). Default omega = 10: ours (no author
    default for images is published), about the bandwidth of a Gaussian exp(-(7 u)²); sweep it. Initialisation:
    PyTorch's `nn.Linear` default W, b ~ U(±1/sqrt(fan_in)), a LeCun-type scheme as the companion paper uses.

    Args:
        in_features, hidden, out_features: sizes.
        omega: bandwidth (> 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    omega: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 omega: float = 10.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.omega = _positive("the sinc bandwidth omega", omega)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.sinc(self.omega * u)  # numpy convention: sin(pi x)/(pi x), exact derivatives at 0

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"omega": self.omega}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "SincINR":
        return cls(*_sizes(hyperparameters), omega=float(hyperparameters["omega"]), key=jax.random.key(0), dtype=dtype)


SINC = register(Family(
    name="sinc", build=SincINR, classes=(SincINR,), prng_id=106, domain=(-1.0, 1.0),
    domain_source="no author code: as the other families (kushalvyas/alpine's grids are [-1, 1] too)",
    reference="Saratchandran et al., ICML 2024 (no author code; kushalvyas/alpine's Sinc)", knob="omega",
    knob_fields={"omega0": "omega"},
    # no author code: FINER's protocol, as Gauss, its closest relative
    recipes=(Recipe("sinc", "gauss_protocol", 5e-3, 5000, "none: FINER's train_image.py protocol at Gauss's lr (no "
                    "sinc reference run)", 0.1, (-1.0, 1.0), depth=4),),
))  # fmt: skip

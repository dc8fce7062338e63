"""FINER (Liu et al., CVPR 2024): rho(u) = sin(omega0 (|u| + 1) u), as liuzhen0212/FINER ships it."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from inrdict.models import sine
from inrdict.models._common import _positive, _sizes, _uniform_layers
from inrdict.models.dense import DenseINR, _check_sizes
from inrdict.models.family import SOURCE_FINER, Family, Recipe, register


class Finer(DenseINR):
    """FINER: variable-periodic activations (Liu et al., "FINER: Flexible spectral-bias tuning in Implicit NEural
    Representation by Variable-periodic Activation Functions", CVPR 2024).

    z_l = sin(omega_l (|u_l| + 1) u_l),  u_l = W_l z_{l-1} + b_l,   f(r) = W_L z_{L-1} + b_L.

    Defaults are the official code's (liuzhen0212/FINER, `models.py` at commit 07a9a92; its image script
    `train_image.py` and `run_finer.sh`):

    * the scale |u| + 1 carries **no gradient**: `FinerLayer.generate_scale` computes it under `torch.no_grad()`
      unless `scale_req_grad` (default False; `train_image.py` sets it only with `--scale_req_grad`), and the
      authors' NTK code (`ntk/models/models_haiku.py`) uses `jax.lax.stop_gradient(jnp.abs(x) + 1)`. So
      drho/du = omega (|u| + 1) cos(omega (|u| + 1) u). The authors' NTK code shares this stop-gradient but not
      the rest of this model: it uses zero hidden biases, a +0.5 output offset and 1-D inputs, so inrdict's FINER
      NTK (PyTorch's default biases, no offset, 2-D inputs) is the NTK of the network `train_image.py` trains,
      not the one their notebook plots.
      `scale_gradient=True` differentiates through the scale as the paper's formula reads
      (drho/du = omega (2|u| + 1) cos(...)), a different gradient and NTK;
    * weights as SIREN: first layer U(±1/fan_in), later layers and the output layer U(±sqrt(6/fan_in)/hidden_omega0)
      (`FinerLayer.init_weights`, `Finer.__init__`'s final linear);
    * first-layer bias: PyTorch's `nn.Linear` default U(±1/sqrt(fan_in)) — `first_bias_scale` defaults to None
      (`train_image.py`: `--first_bias_scale ... default=None`; `run_finer.sh` passes none). A number k draws
      U(-k, k) instead (`FinerLayer.init_first_bias`); the authors' NTK notebook sweeps k ∈ {1, 5, 10, 20};
    * other biases: PyTorch's default U(±1/sqrt(fan_in)); omega0 = 30 in every layer (`run_finer.sh`).

    The official image runs use 4 FINER layers of 256 (`run_finer.sh`'s `HIDDENLAYERS=3`: a first layer and 3
    more), Adam lr 5e-4 decayed to 0.1× (`inrdict.train.recipes`' "finer") on coordinates in [-1, 1]²
    (`train_image.py`: `torch.linspace(-1, 1, H)`, `indexing='ij'`); its record's `domain` records the
    domain.

    Args:
        in_features, hidden, out_features: sizes.
        first_omega0, hidden_omega0: omega of the first / later layers (> 0), keyword-only.
        first_bias_scale: None for PyTorch's default first-layer bias, else k of U(-k, k) (>= 0), keyword-only.
        scale_gradient: differentiate through |u| + 1 (False: the official stop-gradient), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    first_omega0: float = eqx.field(static=True)
    hidden_omega0: float = eqx.field(static=True)
    first_bias_scale: float | None = eqx.field(static=True)
    scale_gradient: bool = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 first_omega0: float = 30.0, hidden_omega0: float = 30.0, first_bias_scale: float | None = None,
                 scale_gradient: bool = False, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        self.first_omega0 = _positive("FINER's first_omega0", first_omega0)
        self.hidden_omega0 = _positive("FINER's hidden_omega0", hidden_omega0)
        self.first_bias_scale = (None if first_bias_scale is None else
                                 _positive("FINER's first_bias_scale", first_bias_scale, allow_zero=True))  # fmt: skip
        self.scale_gradient = bool(scale_gradient)
        sizes = (in_features, *hidden, out_features)
        weight_bounds = (1.0 / in_features, *(math.sqrt(6.0 / n) / self.hidden_omega0 for n in sizes[1:-1]))
        first_bias = 1.0 / math.sqrt(in_features) if self.first_bias_scale is None else self.first_bias_scale
        bias_bounds = (first_bias, *(1.0 / math.sqrt(n) for n in sizes[1:-1]))
        self.layers = _uniform_layers(key, sizes, weight_bounds, bias_bounds, dtype)

    def omega(self, index: int) -> float:
        return self.first_omega0 if index == 0 else self.hidden_omega0

    def activate(self, index: int, u: Array) -> Array:
        scale = jnp.abs(u) + 1.0
        if not self.scale_gradient:
            scale = jax.lax.stop_gradient(scale)
        return sine.sin(self.omega(index) * scale * u)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"first_omega0": self.first_omega0, "hidden_omega0": self.hidden_omega0,
                                            "first_bias_scale": self.first_bias_scale,
                                            "scale_gradient": self.scale_gradient}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "Finer":
        h = hyperparameters
        bias = h.get("first_bias_scale")
        return cls(*_sizes(h), first_omega0=float(h["first_omega0"]), hidden_omega0=float(h["hidden_omega0"]),
                   first_bias_scale=None if bias is None else float(bias),
                   scale_gradient=bool(h.get("scale_gradient", True)),  # older checkpoints: differentiated
                   key=jax.random.key(0), dtype=dtype)  # fmt: skip


FINER = register(Family(
    name="finer", build=Finer, classes=(Finer,), prng_id=105, domain=(-1.0, 1.0),
    domain_source="liuzhen0212/FINER train_image.py: torch.linspace(-1, 1, H)",
    reference="Liu et al., CVPR 2024 (liuzhen0212/FINER)", knob="first_omega0",
    knob_fields={"omega0": "first_omega0", "hidden_omega0": "hidden_omega0", "first_bias_scale": "first_bias_scale",
                 "scale_gradient": "scale_gradient"},
    # run_finer.sh (LR=0.0005, HIDDENLAYERS=3 → 4 FINER layers, ω0 = 30), 5000 epochs (train_image.py)
    recipes=(Recipe("finer", "finer", 5e-4, 5000, f"{SOURCE_FINER}, run_finer.sh", 0.1, (-1.0, 1.0), depth=4),),
    # Finer(first_omega_0=30, hidden_omega_0=30.0); train_image.py --first_omega / --hidden_omega 30
    import_sources={"sequential": (
        ("liuzhen0212/FINER models.py, train_image.py", {"first_omega0": 30.0, "hidden_omega0": 30.0, "indexing": "ij"}),
    )},
))  # fmt: skip

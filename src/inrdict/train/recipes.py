"""Each family trained as its authors train it on one image: learning rate, its schedule and scaling, the range the
pixels are mapped to, the architecture, the knobs — one `Recipe` per named reference run, sources in each.

`RECIPES[family]` is the default recipe of a family (`inrdict.models.MODEL_NAMES`); `PRESETS[family]` holds every
named run of it, the default included, so `recipe("wire", "sisr")` is vishwa91/wire's super-resolution run.

The schedules are PyTorch's `LambdaLR(opt, lambda t: factor ** min(t / T, 1))` (FINER's `train_image.py`, WIRE's
`wire_image_denoise.py`): lr_t = lr · factor^min(t / T, 1), T = the run's step count, decaying to `factor`· lr at the
end; `final_lr_factor = 1` is a constant rate. Targets: the authors' image scripts map pixels in [0, 1] to
`target_range` before fitting ([-1, 1]: vsitzmann/siren's `Normalize(0.5, 0.5)`, FINER's `(img - 0.5) / 0.5`,
MFN), and predictions back; PSNR is measured in [0, 1] either way.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np
import optax

from inrdict.errors import InrdictError


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One reference training run of a family on an image.

    Attributes:
        family: the model name (`inrdict.models.MODEL_NAMES`).
        name: the preset's name (`PRESETS[family]`).
        learning_rate: Adam's initial step size.
        steps: the run's length T (the schedule decays over it).
        final_lr_factor: lr at step T over the initial lr (1: constant).
        target_range: (low, high) the [0, 1] pixels are mapped to.
        reference_pixels: lr × min(1, reference_pixels / pixels) when set (WIRE's `maxpoints = 256*256`).
        depth: hidden layers of the source's architecture (None: the model's default).
        knobs: model settings of the run (`make_model` keywords).
        domain: the coordinate range per axis the run trains on (`torch.linspace(-1, 1, ·)` in every PyTorch
            reference; [0, 1) for the FFN demo).
        source: the file (and commit) the numbers come from.
    """

    family: str
    name: str
    learning_rate: float
    steps: int
    source: str
    final_lr_factor: float = 1.0
    target_range: tuple[float, float] = (0.0, 1.0)
    reference_pixels: int | None = None
    depth: int | None = None
    knobs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    domain: tuple[float, float] = (-1.0, 1.0)

    def __post_init__(self):
        if not (self.learning_rate > 0 and self.steps > 0 and 0 < self.final_lr_factor <= 1):
            raise InrdictError(f"recipe {self.family}/{self.name}: learning_rate and steps must be positive and "
                               f"final_lr_factor in (0, 1], got {self.learning_rate}, {self.steps}, "
                               f"{self.final_lr_factor}")  # fmt: skip
        low, high = self.target_range
        if not low < high:
            raise InrdictError(f"recipe {self.family}/{self.name}: target_range must have low < high")

    def initial_lr(self, pixels: int, learning_rate: float | None = None) -> float:
        """The first step's lr for an image of `pixels` points (WIRE: × min(1, reference_pixels / pixels))."""
        base = self.learning_rate if learning_rate is None else float(learning_rate)
        return base * (1.0 if self.reference_pixels is None else min(1.0, self.reference_pixels / pixels))

    def schedule(self, pixels: int, steps: int | None = None, learning_rate: float | None = None) -> optax.Schedule:
        """lr_t = initial_lr · final_lr_factor^min(t / T, 1), T = `steps` (default the run's own length)."""
        return lambda_lr(self.initial_lr(pixels, learning_rate), self.final_lr_factor, int(steps or self.steps))

    def optimizer(self, pixels: int, steps: int | None = None, learning_rate: float | None = None):
        """Adam with `schedule(pixels, steps, learning_rate)` (every reference script uses Adam); one object per
        setting, so that jitted steps taking it as a static argument compile once."""
        return scheduled_adam(self.initial_lr(pixels, learning_rate), self.final_lr_factor, int(steps or self.steps))

    def to_target(self, pixels: np.ndarray) -> np.ndarray:
        """[0, 1] pixel values → the run's target range."""
        low, high = self.target_range
        return low + (high - low) * np.asarray(pixels)

    def from_target(self, values: np.ndarray) -> np.ndarray:
        """The run's target range → [0, 1] pixel values (inverse of `to_target`)."""
        low, high = self.target_range
        return (np.asarray(values) - low) / (high - low)


def lambda_lr(lr0: float, final_factor: float, total: int) -> optax.Schedule:
    """PyTorch's `LambdaLR(opt, lambda t: final_factor ** min(t / total, 1))` on base rate lr0."""
    if final_factor == 1.0:
        return optax.constant_schedule(lr0)
    rate = math.log(final_factor)
    return lambda t: lr0 * jnp.exp(rate * jnp.minimum(t / total, 1.0))


@functools.cache
def scheduled_adam(lr0: float, final_factor: float, total: int) -> optax.GradientTransformation:
    """Adam on `lambda_lr(lr0, final_factor, total)`, one object per setting."""
    return optax.adam(lambda_lr(lr0, final_factor, total))


_VSITZMANN = "vsitzmann/siren explore_siren.ipynb (Adam lr 1e-4, total_steps 500, Normalize(0.5, 0.5) → [-1, 1])"
_FINER = "liuzhen0212/FINER@07a9a92 train_image.py (LambdaLR 0.1 ** min(t / num_epochs, 1), (img - 0.5) / 0.5)"
_WIRE = "vishwa91/wire@0ac8cba wire_image_denoise.py"

_ALL = (
    # SIREN: the SIREN authors' fitting code, their bias convention (`Siren`, "vsitzmann").
    # explore_siren.ipynb's Siren(hidden_layers=3): a first sine layer and 3 more, so 4 sine layers.
    Recipe("siren", "vsitzmann", 1e-4, 500, _VSITZMANN, target_range=(-1.0, 1.0), depth=4,
           knobs={"convention": "vsitzmann"}),
    # liuzhen0212/FINER run_siren.sh (LR=0.0005, ω0 = 30, train_image.py's hidden_layers = 3).
    Recipe("siren", "finer_baseline", 5e-4, 5000, f"{_FINER}, run_siren.sh", 0.1, (-1.0, 1.0), depth=4,
           knobs={"convention": "vsitzmann"}),
    # FINER: run_finer.sh (LR=0.0005, HIDDENLAYERS=3 → 4 FINER layers, ω0 = 30), 5000 epochs (train_image.py).
    Recipe("finer", "finer", 5e-4, 5000, f"{_FINER}, run_finer.sh", 0.1, (-1.0, 1.0), depth=4),
    # Gauss: run_gauss.sh (LR=0.005, SCALE=30), train_image.py's schedule and range.
    Recipe("gauss", "finer", 5e-3, 5000, f"{_FINER}, run_gauss.sh", 0.1, (-1.0, 1.0), depth=4, knobs={"scale": 30.0}),
    # WIRE: wire_image_denoise.py run with nonlin='wire': hidden_layers = 2 (3 Gabor layers), omega0 = sigma0 = 4,
    # learning_rate = 1e-3 × min(1, maxpoints / (H W)), maxpoints = 256², LambdaLR 0.1 ** min(t / niters, 1),
    # niters = 2000, utils.normalize(im, True) → [0, 1]. (Its comment advises 5e-3–2e-2 for WIRE: the families
    # study sweeps the lr.)
    Recipe("wire", "denoise", 1e-3, 2000, _WIRE, 0.1, (0.0, 1.0), 256 * 256, depth=3,
           knobs={"omega0": 4.0, "s0": 4.0}),
    # vishwa91/wire@2eb758b wire_SISR.py: nonlin='wire', omega0 = 8, sigma0 = 6, lr 1e-2, LambdaLR 0.2 ** (t/2000).
    Recipe("wire", "sisr", 1e-2, 2000, "vishwa91/wire@2eb758b wire_SISR.py", 0.2, (0.0, 1.0), depth=3,
           knobs={"omega0": 8.0, "s0": 6.0}),
    # liuzhen0212/FINER run_wire.sh: FIRSTOMEGA = HIDDENOMEGA = 20, SCALE = 10, HIDDENLAYERS = 3, train_image.py.
    Recipe("wire", "finer_baseline", 5e-3, 5000, f"{_FINER}, run_wire.sh", 0.1, (-1.0, 1.0), depth=4,
           knobs={"omega0": 20.0, "s0": 10.0}),
    # The comment of wire_image_denoise.py ("omega0=20, sigma0=30 for image representation"); no script runs it.
    Recipe("wire", "representation_advice", 5e-3, 2000, f"{_WIRE} (comment only)", 0.1, (0.0, 1.0), 256 * 256,
           depth=3, knobs={"omega0": 20.0, "s0": 30.0}),
    Recipe("wire_real", "denoise", 1e-3, 2000, f"{_WIRE} (no script trains RealGaborLayer: ComplexWire's run)", 0.1, (0.0, 1.0),
           256 * 256, depth=3, knobs={"omega0": 4.0, "s0": 4.0}),
    # boschresearch/multiplicative-filter-networks mfn/experiments/image_rep.py: Adam lr 1e-2, no schedule.
    Recipe("mfn", "image_rep", 1e-2, 10000, "boschresearch/multiplicative-filter-networks mfn/experiments/"
           "image_rep.py", 1.0, (-1.0, 1.0), depth=4),  # n_layers = 3: 4 filters
    # tancik/fourier-feature-networks Demo.ipynb: Adam lr 1e-3, 2000 iterations, pixels in [0, 1], inputs [0, 1).
    Recipe("ffn", "tancik", 1e-3, 2000, "tancik/fourier-feature-networks Demo.ipynb", depth=3, domain=(0.0, 1.0)),
    Recipe("relu", "tancik", 1e-3, 2000, "tancik/fourier-feature-networks Demo.ipynb (the no-mapping row)", depth=3,
           domain=(0.0, 1.0)),
    # sinc has no author code (kushalvyas/alpine's grids): FINER's protocol, as Gauss, its closest relative.
    Recipe("sinc", "gauss_protocol", 5e-3, 5000, "none: FINER's train_image.py protocol at Gauss's lr (no sinc "
           "reference run)", 0.1, (-1.0, 1.0), depth=4),
)  # fmt: skip
PRESETS: dict[str, dict[str, Recipe]] = {}
for _r in _ALL:
    PRESETS.setdefault(_r.family, {})[_r.name] = _r
RECIPES: dict[str, Recipe] = {family: next(iter(runs.values())) for family, runs in PRESETS.items()}
"""Each family's default run: the first of its presets above."""


def recipe(family: str, name: str | None = None) -> Recipe:
    """The named run of `family` (default: `RECIPES[family]`).

    Raises:
        InrdictError: an unknown family or preset, naming the known ones.
    """
    if family not in PRESETS:
        raise InrdictError(f"no training recipe for {family!r}: known families {', '.join(PRESETS)}")
    if name is None:
        return RECIPES[family]
    if name not in PRESETS[family]:
        raise InrdictError(f"{family} has no recipe {name!r}: choose one of {', '.join(PRESETS[family])}")
    return PRESETS[family][name]

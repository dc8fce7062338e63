"""Each family trained as its authors train it on one image. The runs (`inrdict.models.Recipe`: learning rate, its
schedule and scaling, the range the pixels are mapped to, the architecture, the knobs, sources in each) are in each
family's record (`Family.recipes`, the default first); `recipe("wire", "sisr")` is vishwa91/wire's
super-resolution run. This module turns a run into its optimiser (`optimizer`, `schedule`).

The schedules are PyTorch's `LambdaLR(opt, lambda t: factor ** min(t / T, 1))` (FINER's `train_image.py`, WIRE's
`wire_image_denoise.py`): lr_t = lr · factor^min(t / T, 1), T = the run's step count, decaying to `factor`· lr at the
end; `final_lr_factor = 1` is a constant rate. Targets: the authors' image scripts map pixels in [0, 1] to
`target_range` before fitting ([-1, 1]: vsitzmann/siren's `Normalize(0.5, 0.5)`, FINER's `(img - 0.5) / 0.5`,
MFN), and predictions back; PSNR is measured in [0, 1] either way. Adam's β1, β2 and ε are the run's
(`Recipe.adam_b1`, `adam_b2`, `adam_eps`: PyTorch's defaults 0.9, 0.999, 1e-8 unless its source sets others, as
tiny-cuda-nn's 0.9, 0.99, 1e-15 for the grid encodings).
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp
import optax

from inrdict.models import family as _family
from inrdict.models.family import Recipe

__all__ = ["Recipe", "lambda_lr", "optimizer", "recipe", "schedule", "scheduled_adam"]


def lambda_lr(lr0: float, final_factor: float, total: int) -> optax.Schedule:
    """PyTorch's `LambdaLR(opt, lambda t: final_factor ** min(t / total, 1))` on base rate lr0."""
    if final_factor == 1.0:
        return optax.constant_schedule(lr0)
    rate = math.log(final_factor)
    return lambda t: lr0 * jnp.exp(rate * jnp.minimum(t / total, 1.0))


@functools.cache
def scheduled_adam(lr0: float, final_factor: float, total: int, b1: float = 0.9, b2: float = 0.999,
                   eps: float = 1e-8) -> optax.GradientTransformation:  # fmt: skip
    """Adam (β1 `b1`, β2 `b2`, ε `eps`; defaults PyTorch's and optax's) on `lambda_lr(lr0, final_factor, total)`,
    one object per setting."""
    return optax.adam(lambda_lr(lr0, final_factor, total), b1=b1, b2=b2, eps=eps)


def schedule(run: Recipe, pixels: int, steps: int | None = None, learning_rate: float | None = None) -> optax.Schedule:
    """lr_t = initial_lr · final_lr_factor^min(t / T, 1), T = `steps` (default the run's own length)."""
    return lambda_lr(run.initial_lr(pixels, learning_rate), run.final_lr_factor, int(steps or run.steps))


def optimizer(run: Recipe, pixels: int, steps: int | None = None, learning_rate: float | None = None):
    """Adam with the run's β1, β2, ε (`Recipe.adam`) on `schedule(run, pixels, steps, learning_rate)` (every
    reference script uses Adam); one object per setting, so that jitted steps taking it as a static argument
    compile once."""
    return scheduled_adam(run.initial_lr(pixels, learning_rate), run.final_lr_factor, int(steps or run.steps),
                          *run.adam)  # fmt: skip


def recipe(family: str, name: str | None = None) -> Recipe:
    """The named run of `family` (default: its first, `Family.recipe`).

    Raises:
        InrdictError: an unknown family or run, naming the known ones.
    """
    return _family.get(family).recipe(name)

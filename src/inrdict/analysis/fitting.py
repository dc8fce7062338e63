"""Fit a family to a signal at the resolution it has, as the family's authors train it (`inrdict fit`, `lens.fit`),
and the preparation that `inrdict suggest` shares with it, so that the knob it suggests is the knob `fit` uses.

Preparation (`prepare`): an RGB(A) image becomes gray (0.299 R + 0.587 G + 0.114 B); the signal must be finite and
not constant. Its longest axis is brought to `size` samples (default: its own length, at most `MAX_SIZE` per
dimension), the other axes in proportion, so the aspect ratio is kept (anti-aliased linear resampling; nothing is
resampled at the default size below the cap). The values, once resampled, are min-max scaled to [0, 1], so that any rescaling
a·x + b (a > 0) of the signal, metres or millimetres, CT numbers or grey levels, changes nothing; `fit` reports the
reconstruction in the signal's own units and PSNR with the signal's range (max − min) as the peak.

Coordinates (`grid`): sample k of axis i lies at k / max(shape), so the spacing is the same on every axis (square
pixels) and the longest axis spans [0, 1); the recipe's domain maps [0, 1) to the family's own coordinates
(`inrdict.models.Recipe.domain`).

Training (`fit`): the family's reference run (`Family.recipes`, the first: Adam, its lr, schedule and steps,
the target range, its depth and knobs; widths matched to the paper's SIREN, or the family's own (`Family.hidden`:
a grid encoding's head, whose tables are not matched to any budget)) on a seeded `1 − held_out` of the samples,
PSNR measured on the others.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, cast

import equinox as eqx
import numpy as np
from jaxtyping import Bool, Float

from inrdict._keys import init_key
from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.models import INRModel, make_model, matched_hidden, model_key, model_knobs
from inrdict.models import family as _family
from inrdict.models.domain import OnDomain
from inrdict.train import recipes
from inrdict.train.finetune import split_mask
from inrdict.train.fit import FitResult, Monitor, predict
from inrdict.train.fit import fit as fit_points
from inrdict.train.recipes import Recipe, recipe

# The largest fitting resolution per axis, by signal dimension: 1024² for an image (a million samples), 2^16
# samples for a 1-D signal (1.5 s of 44.1 kHz audio), 128³ for a volume (two million samples). Larger signals are
# resampled down to it (stated in the results); `size` overrides.
MAX_SIZE = {1: 65536, 2: 1024, 3: 128}
HELD_OUT = 0.5  # the share of samples `fit` holds out by default: the split `suggest` predicts for


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A signal ready to fit: `values` (*shape) in [0, 1], the original being `low + (high − low) · values`.

    Attributes:
        values: the resampled, min-max scaled signal, float64, shape `shape`.
        low, high: the resampled signal's minimum and maximum (its units).
        source_shape: the shape it was given in (after RGB → gray).
    """

    values: np.ndarray
    low: float
    high: float
    source_shape: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def dim(self) -> int:
        return self.values.ndim

    def in_units(self, values: np.ndarray) -> np.ndarray:
        """[0, 1] values → the signal's own units."""
        return self.low + (self.high - self.low) * np.asarray(values)


def as_signal(signal) -> np.ndarray:
    """A 1-D signal (n,), a grayscale image (h, w) or a volume (d, h, w) as float64 ((h, w, 3|4) is an RGB(A)
    image, converted to gray)."""
    array = np.asarray(signal, np.float64)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = data.to_grayscale(array[..., :3])
    if array.ndim not in (1, 2, 3):
        raise InrdictError(f"expected a 1-D signal (n,), an image (h, w) or (h, w, 3) or a volume (d, h, w); got an "
                           f"array of shape {array.shape}")  # fmt: skip
    return array


def fitting_shape(shape: tuple[int, ...], size: int | None = None) -> tuple[int, ...]:
    """The shape fitted: the longest axis at `size` (default: its own length, capped at `MAX_SIZE`), the others in
    proportion (rounded, at least 1)."""
    longest = max(shape)
    target = min(longest, MAX_SIZE[len(shape)]) if size is None else int(size)
    if target < 2:
        raise InrdictError(f"the fitting size must be at least 2 samples, got {target}")
    if target == longest:
        return tuple(shape)
    return tuple(max(1, round(n * target / longest)) for n in shape)


def prepare(signal, size: int | None = None) -> Prepared:
    """The signal as `fit` and `suggest` see it (module docstring): resampled in its own units, then min-max scaled,
    so the values fitted span [0, 1] exactly; a one-line error for a signal that has nothing to fit (empty,
    non-finite, constant)."""
    array = as_signal(signal)
    if array.size == 0 or min(array.shape) < 1:
        raise InrdictError(f"the signal is empty (shape {array.shape}): give at least a few samples per axis")
    if not np.all(np.isfinite(array)):
        raise InrdictError("the signal holds NaN or infinite values: clean it first")
    shape = fitting_shape(array.shape, size)
    fitted = data.resample(array, shape) if shape != array.shape else array
    low, high = float(fitted.min()), float(fitted.max())
    if not high - low > 1e-12 * max(1.0, abs(high)):
        raise InrdictError("the signal is constant: every knob fits it, there is nothing to choose")
    return Prepared(np.asarray((fitted - low) / (high - low), np.float64), low, high, tuple(array.shape))


def grid(shape: tuple[int, ...]) -> Float[np.ndarray, "n d"]:
    """Sample coordinates in C order, (prod(shape), d) float32: sample k of axis i at k / max(shape)."""
    step = 1.0 / max(shape)
    axes = [np.arange(n, dtype=np.float64) * step for n in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(shape)).astype(np.float32)


def training_mask(n_points: int, held_out: float, seed: int) -> Bool[np.ndarray, " n"]:
    """The seeded split of `fit` (True = trained on): round((1 − held_out) · n) samples."""
    if not 0.0 < held_out < 1.0:
        raise InrdictError(f"held_out must lie in (0, 1), got {held_out}")
    return split_mask(n_points, key=init_key(seed, "pixel_mask"), train_fraction=1.0 - held_out)


def knob_default(family: str, run: Recipe) -> float:
    """The frequency knob of `run` (or the family's recommended value)."""
    knob = _family.get(family).knob
    if knob is None:
        raise InrdictError(f"{family} has no frequency knob")
    return float(run.knobs.get(knob, model_knobs(family)[knob]))


def build(family: str, dim: int, run: Recipe, value: float | None = None, hidden: tuple[int, ...] | None = None,
          seed: int = 0, dtype=None) -> tuple[eqx.Module, dict[str, Any]]:  # fmt: skip
    """(model on the run's domain, its knobs): `family` with the run's knobs, its frequency knob at `value` (None:
    the run's), widths `hidden` (None: the family's own widths where it has them (`Family.hidden`: the grid
    encodings' 64 × 64 head), else the run's depth, matched to the paper's SIREN's parameter count)."""
    knobs: dict[str, Any] = dict(run.knobs)
    knob = _family.get(family).knob
    if value is not None:
        if knob is None:
            raise InrdictError(f"{family} has no frequency knob to set: leave the knob out")
        if not (math.isfinite(value) and value > 0):
            raise InrdictError(f"the knob value must be a positive number, got {value}")
        knobs[knob] = float(value)
    if hidden is None:
        own = _family.get(family).hidden  # a grid encoding's head: its tables alone exceed the SIREN budget
        hidden = own if own is not None else matched_hidden(family, depth=run.depth, in_features=dim, **knobs)
    extra = {} if dtype is None else {"dtype": dtype}
    model = make_model(family, dim, hidden, 1, key=model_key(family, seed), **knobs, **extra)
    low, high = run.domain
    domain_model = model if (low, high) == (0.0, 1.0) else OnDomain(cast(INRModel, model), low, high)
    return domain_model, knobs


@dataclasses.dataclass(frozen=True)
class FitOptions:
    """How `fit` trains.

    Attributes:
        knob: the frequency knob's value (None: the recipe's).
        recipe: the named reference run (`Family.recipes`; None: the family's default).
        steps: optimiser steps (None: the recipe's; the schedule spans them).
        learning_rate: Adam's initial rate (None: the recipe's).
        size: samples on the longest axis (None: the signal's own, at most `MAX_SIZE`).
        hidden: hidden widths (None: the family's own, else the recipe's depth at the paper's SIREN's count).
        held_out: the share of samples held out to measure PSNR on.
        seed: initialisation and split.
        progress: show a progress bar.
    """

    knob: float | None = None
    recipe: str | None = None
    steps: int | None = None
    learning_rate: float | None = None
    size: int | None = None
    hidden: tuple[int, ...] | None = None
    held_out: float = HELD_OUT
    seed: int = 0
    progress: bool = True


@dataclasses.dataclass(frozen=True)
class Fitted:
    """What `fit` returns.

    Attributes:
        model: the trained model; it takes the `grid` coordinates ([0, 1) on the longest axis).
        family, knob, value: the family, its frequency knob (None if it has none) and the value trained with.
        run: the recipe followed.
        signal: the prepared signal.
        train_mask: (n,) True where trained on (C order over `signal.shape`).
        reconstruction: the model on every sample, in the signal's units, shape `signal.shape`.
        initial_held_out_psnr_db: held-out PSNR of the initial model (dB, peak = the signal's range).
        steps, held_out_psnr_db: (k,) held-out PSNR after those steps.
        train_psnr_db: (steps,) training PSNR before each step.
        seconds: training wall time (compilation included).
    """

    model: eqx.Module
    family: str
    knob: str | None
    value: float | None
    run: Recipe
    signal: Prepared
    train_mask: np.ndarray
    reconstruction: np.ndarray
    initial_held_out_psnr_db: float
    steps: np.ndarray
    held_out_psnr_db: np.ndarray
    train_psnr_db: np.ndarray
    seconds: float

    @property
    def final_held_out_psnr_db(self) -> float:
        return float(self.held_out_psnr_db[-1])


def unit_psnr(run: Recipe, psnr_target_db):
    """PSNR in the run's target range → PSNR with peak 1 on [0, 1] values."""
    low, high = run.target_range
    return np.asarray(psnr_target_db) + 20.0 * np.log10(high - low)


def fit(family: str, signal, options: FitOptions = FitOptions()) -> Fitted:
    """Train `family` on `signal` (a 1-D signal, an image or a volume) at its resolution as its authors train it
    (module docstring); returns a `Fitted`."""
    run = recipe(family, options.recipe)
    prepared = prepare(signal, options.size)
    points = grid(prepared.shape)
    n = points.shape[0]
    if options.steps is not None and options.steps < 1:
        raise InrdictError(f"steps must be positive, got {options.steps}")
    steps = int(options.steps or run.steps)
    value = options.knob if options.knob is not None or _family.get(family).knob is None else knob_default(family, run)
    model, _ = build(family, prepared.dim, run, value, options.hidden, options.seed)
    mask = training_mask(n, options.held_out, options.seed)
    targets = run.to_target(prepared.values.reshape(-1, 1)).astype(np.float32)
    initial = unit_psnr(run, -10 * np.log10(np.mean((predict(model, points[~mask]) - targets[~mask]) ** 2)))
    monitor = Monitor(points[~mask], targets[~mask], every=max(1, steps // 25), progress=options.progress,
                      description=f"fit {family}")  # fmt: skip
    result: FitResult = fit_points(
        model, points[mask], targets[mask], steps=steps, optimizer=recipes.optimizer(run, n, steps, options.learning_rate),
        learning_rate=run.initial_lr(n, options.learning_rate), monitor=monitor,
    )  # fmt: skip
    trained = result.model
    values = run.from_target(predict(trained, points)[:, 0]).reshape(prepared.shape)
    return Fitted(
        model=trained, family=family, knob=_family.get(family).knob, value=value, run=run, signal=prepared,
        train_mask=mask, reconstruction=prepared.in_units(values), initial_held_out_psnr_db=float(initial),
        steps=np.concatenate([[0], result.eval_steps]),
        held_out_psnr_db=np.r_[initial, unit_psnr(run, result.eval_psnr_db)],
        train_psnr_db=unit_psnr(run, result.train_psnr_db), seconds=result.seconds,
    )  # fmt: skip


__all__ = [
    "HELD_OUT",
    "MAX_SIZE",
    "FitOptions",
    "Fitted",
    "Prepared",
    "as_signal",
    "build",
    "fit",
    "fitting_shape",
    "grid",
    "knob_default",
    "prepare",
    "training_mask",
    "unit_psnr",
]  # fmt: skip

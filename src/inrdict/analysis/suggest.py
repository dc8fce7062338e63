"""Choose an INR's frequency knob before training: the lens turned into a recommendation (`inrdict suggest`).

For each value v of the family's frequency knob (`inrdict.models.FREQUENCY_KNOB`: SIREN's first ω0, the FFN's σ,
Gauss's s, WIRE's ω0, …) the network at initialisation is linearised and gradient descent on it is predicted from
its NTK (`inrdict.train.finetune.linearised_gd`). (`inrdict figure predictors` asks a different question — whether
a quantity at initialisation ranks INR families — and its answer, at a shared lr only, does not validate this use:
`inrdict figure regret` does.)

    Θ_v on a window of the signal at the fitting resolution (w × w pixels of an image, w samples of a 1-D signal;
    the signal's own sample spacing on the unit grid), a seeded 50 % of the window's samples for training, the
    rest held out, `steps` GD steps at η = n_train / (2 λ_max(Θ_tt)) (the largest step at which no mode
    overshoots), score(v) = predicted held-out PSNR, averaged over `windows` windows;   suggestion = argmax_v score(v).

Held-out samples are what make the choice non-trivial: a knob too low cannot fit the window's detail, a knob too
high fits the training samples with atoms finer than the sample spacing and predicts the held-out ones badly (the
kernel's correlation length falls below the spacing) — the dictionary's atoms must match the signal's scale.
Normalising η by λ_max makes the score independent of the kernel's overall scale, so values and families compare.
`steps` is the training budget in those normalised steps (modes with λ ≳ λ_max / steps are learned).

The candidates are the family's recommended knob times 2^(−4 … 2) in half-octaves (13 values; the recommended
values were set for 256²–512² images, and at 64² the trained optimum of the FFN and Gauss lies two octaves below
them); for 1-D signals they follow the fitting resolution (`resolution_scale`). They are searched coarse to fine:
every octave (7 values), then the two half-octaves beside the best (9 kernels per window instead of 13). Values
given explicitly are all scored.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import cast

import jax
import jax.numpy as jnp
import numpy as np

from inrdict._keys import init_key, model_key
from inrdict.analysis.learnability import pixel_mask
from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.models import FREQUENCY_KNOB, make_model, model_knobs, on_reference_domain
from inrdict.ntk import empirical_ntk
from inrdict.train.finetune import linearised_gd

# The training budget of the prediction, in GD steps at η = n_train / (2 λ_max). Chosen on the design images only
# (scikit-image's camera, coffee, brick and text, SIREN 2 → 64 ×3 → 1 at 64², Adam lr 1e-4 for 300 steps: budgets
# 3 … 1e5 tried; 1e3 and 1e4 gave the lowest regret there); the validation (`inrdict figure regret`) uses other images.
DEFAULT_STEPS = 1000
# Candidate values per family: the family's recommended knob times 2^(-4 … 2) in half-octaves (13 values).
GRID_FACTORS = 2.0 ** np.linspace(-4.0, 2.0, 13)
# Fitting resolution and window by signal dimension: an image is fitted at 64² and scored on 32² windows (1024
# samples per kernel); a 1-D signal at up to 1024 samples, scored on windows of 256; a volume at up to 32³, scored on
# 10³ windows (1000 samples per kernel, as an image's).
DEFAULT_SIZE = {1: 1024, 2: 64, 3: 32}
DEFAULT_WINDOW = {1: 256, 2: 32, 3: 10}


def knob_of(family: str) -> str:
    """The family's frequency knob, or a one-line error for a family without one."""
    if family not in FREQUENCY_KNOB:
        raise InrdictError(
            f"unknown family {family!r}: choose one of {', '.join(k for k, v in FREQUENCY_KNOB.items() if v)}"
        )
    knob = FREQUENCY_KNOB[family]
    if knob is None:
        with_knob = ", ".join(k for k, v in FREQUENCY_KNOB.items() if v)
        raise InrdictError(f"{family} has no frequency knob to choose; families with one: {with_knob}")
    return knob


def default_values(family: str, scale: float = 1.0) -> np.ndarray:
    """The family's recommended knob value times `scale` times `GRID_FACTORS` (rounded to 3 significant digits)."""
    base = float(model_knobs(family)[knob_of(family)]) * scale
    return np.array([float(f"{base * f:.3g}") for f in GRID_FACTORS])


def fitting_size(signal: np.ndarray, size: int | None, window: int | None) -> tuple[int, int]:
    """(size, window) per axis for a signal from `as_signal`: the given values, or `DEFAULT_SIZE` (a 1-D signal no
    longer than itself) and `DEFAULT_WINDOW` (no larger than size)."""
    dim = signal.ndim
    size = size or (DEFAULT_SIZE[2] if dim == 2 else min(DEFAULT_SIZE[dim], min(signal.shape)))
    return size, window or min(DEFAULT_WINDOW[dim], size)


def resolution_scale(dim: int, size: int) -> float:
    """The factor on the candidates for a signal of `dim` dimensions fitted at `size` samples per axis: 1 for
    images (the lattice validated at 64², `inrdict figure regret`); for 1-D signals and volumes size / 64, the
    candidates following the fitting grid's Nyquist frequency from where the image lattice covers the optimum (a
    heuristic, not validated: the suggestion's claim flags an optimum on the lattice's edge)."""
    return 1.0 if dim == 2 else size / DEFAULT_SIZE[2]


def as_signal(signal) -> np.ndarray:
    """A 1-D signal (n,), a grayscale image (h, w) or a volume (d, h, w) as float64 ((h, w, 3|4) is an RGB(A)
    image, converted to gray)."""
    array = np.asarray(signal, np.float64)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = data.to_grayscale(array[..., :3])
    if array.ndim not in (1, 2, 3):
        raise InrdictError(f"suggest takes a 1-D signal (n,), an image (h, w) or (h, w, 3) or a volume (d, h, w); got "
                           f"an array of shape {array.shape}")  # fmt: skip
    return array


def check_signal(signal, size: int, window: int) -> np.ndarray:
    """`as_signal`, refused in one line when it cannot be scored at `size` with windows of `window` samples per axis."""
    array = as_signal(signal)
    if not np.all(np.isfinite(array)):
        raise InrdictError("the signal holds NaN or infinite values: clean it first")
    if min(array.shape) < window:
        shape, box = "x".join(map(str, array.shape)), "x".join([str(window)] * array.ndim)
        raise InrdictError(f"the signal ({shape}) is smaller than the {box} window: use a larger signal or "
                           f"--set window=<smaller>")  # fmt: skip
    if window > size:
        raise InrdictError(f"the window ({window}) exceeds the fitting resolution size ({size})")
    if float(array.std()) < 1e-8:
        raise InrdictError("the signal is constant: every knob fits it, there is nothing to choose")
    return array


def at_resolution(signal: np.ndarray, size: int) -> np.ndarray:
    """The signal resampled to the fitting resolution: size² for an image (anti-aliased, clipped to [0, 1] as
    `data.resize`), size samples for a 1-D signal and size³ for a volume (anti-aliased linear resampling, values as
    given)."""
    if signal.ndim == 3:
        return data.resample(signal, (size,) * 3)
    if signal.ndim == 2:
        return data.resize(signal, size) if signal.shape != (size, size) else signal
    if signal.shape == (size,):
        return signal
    import skimage.transform

    return skimage.transform.resize(signal, (size,), anti_aliasing=signal.size > size, order=1)


def windows_of(size: int, window: int, count: int, seed: int, dim: int = 2) -> list[tuple[int, ...]]:
    """`count` seeded first corners of windows of `window` samples per axis inside `size` per axis, the first one
    centred; tuples of `dim` indices."""
    rng = np.random.default_rng(np.asarray(jax.random.key_data(init_key(seed, "suggest_windows"))).ravel())
    centre = ((size - window) // 2,) * dim
    others = [tuple(int(x) for x in rng.integers(0, size - window + 1, dim)) for _ in range(max(0, count - 1))]
    return [centre, *others]


def unit_grid(size: int, dim: int) -> np.ndarray:
    """The NTK grid `linspace(0, 1, size + 1)[:-1]` per axis: (size, 1) for dim 1, (size, size, 2) for dim 2,
    (size, size, size, 3) for dim 3."""
    if dim == 1:
        return data.axis_grid(size, 0.0, 1.0)[:, None]
    return data.unit_grid((size,) * dim).reshape(*(size,) * dim, dim)


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """What `suggest` found.

    Attributes:
        family, knob: the family and the knob chosen for it.
        candidates: (c,) the values searched among.
        values: (v,) the values scored (ascending; all candidates, or the coarse-to-fine subset).
        scores: (v, w) predicted held-out PSNR (dB) per scored value and window.
        value: the suggestion, argmax of the mean score.
        seconds: wall time (kernels, eigendecompositions, predictions; compilation included).
    """

    family: str
    knob: str
    candidates: np.ndarray
    values: np.ndarray
    scores: np.ndarray
    value: float
    seconds: float

    @property
    def mean_scores(self) -> np.ndarray:
        return self.scores.mean(axis=1)


def coarse_indices(count: int) -> list[int]:
    """The coarse pass over `count` sorted candidates: every other one, both ends included."""
    return sorted({*range(0, count, 2), count - 1})


def suggest(family: str, signal, *, values=None, size: int | None = None, window: int | None = None,
            windows: int = 4, steps: int = DEFAULT_STEPS, hidden: tuple[int, ...] | None = None,
            seed: int = 0) -> Suggestion:  # fmt: skip
    """The frequency-knob value predicted to fit `signal` best (module docstring).

    Args:
        family: a model name with a frequency knob (`FREQUENCY_KNOB`).
        signal: a 1-D signal (n,), an image (h, w) or (h, w, 3), or a volume (d, h, w); resampled to the
            resolution it will be fitted at.
        values: knob values, all scored (default: `default_values(family, resolution_scale(…))`, searched coarse
            to fine).
        size: the fitting resolution per axis (default `DEFAULT_SIZE`: 64 for an image, min(n, 1024) for 1-D,
            ≤ 32 for a volume).
        window: samples per axis of a window (default `DEFAULT_WINDOW`).
        windows: the NTK is computed on this many windows.
        steps: the training budget, in GD steps at η = n_train / (2 λ_max).
        hidden: hidden widths (default: the family's, matched to the paper's SIREN).
        seed: initialisation, mask and windows.
    """
    start = time.perf_counter()
    knob = knob_of(family)
    given = as_signal(signal)
    dim = given.ndim
    size, window = fitting_size(given, size, window)
    if steps < 1 or windows < 1 or window < 4:
        raise InrdictError(f"steps ({steps}) and windows ({windows}) must be positive and window ({window}) at least 4")
    array = at_resolution(check_signal(given, size, window), size)
    exhaustive = values is not None
    candidates = (
        default_values(family, resolution_scale(dim, size))
        if values is None
        else np.sort(np.asarray(values, np.float64))
    )
    if candidates.ndim != 1 or candidates.size < 1 or np.any(~np.isfinite(candidates)) or np.any(candidates <= 0):
        raise InrdictError(f"knob values must be positive numbers, got {values}")
    points = unit_grid(size, dim)
    mask = pixel_mask(window**dim, seed)
    crops = [tuple(slice(c, c + window) for c in corner) for corner in windows_of(size, window, windows, seed, dim)]
    scored: dict[int, np.ndarray] = {}

    def score(index: int) -> None:
        if index in scored:
            return
        model = on_reference_domain(family, make_model(family, dim, hidden, 1, key=model_key(family, seed),
                                                       **{knob: float(candidates[index])}, dtype=jnp.float64))  # fmt: skip
        row = np.empty(len(crops))
        for j, crop in enumerate(crops):
            inputs = points[crop].reshape(-1, dim).astype(np.float64)
            kernel = empirical_ntk(model, inputs, dtype=np.float64)
            initial = np.asarray(jax.vmap(cast(Callable, model))(jnp.asarray(inputs))[:, 0])  # a Module is callable
            row[j] = linearised_gd(kernel, initial, array[crop].reshape(1, -1), mask)(steps)[1][0]  # held-out PSNR
        scored[index] = row

    with jax.enable_x64(True):
        if exhaustive:
            for i in range(candidates.size):
                score(i)
        else:
            for i in coarse_indices(candidates.size):
                score(i)
            best = max(scored, key=lambda i: scored[i].mean())
            for i in (best - 1, best + 1):  # the fine pass: the best coarse value's neighbours
                if 0 <= i < candidates.size:
                    score(i)
    order = sorted(scored)
    scores = np.stack([scored[i] for i in order])
    value = float(candidates[order[int(np.argmax(scores.mean(axis=1)))]])
    return Suggestion(family, knob, candidates, candidates[order], scores, value, time.perf_counter() - start)


__all__ = ["DEFAULT_SIZE", "DEFAULT_STEPS", "DEFAULT_WINDOW", "GRID_FACTORS", "Suggestion", "as_signal",
           "at_resolution", "check_signal", "coarse_indices", "default_values", "fitting_size", "knob_of", "resolution_scale", "suggest", "unit_grid",
           "windows_of"]  # fmt: skip

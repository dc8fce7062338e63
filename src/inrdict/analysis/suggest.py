"""Choose an INR's frequency knob before training: the lens turned into a recommendation (`inrdict suggest`).

For each value v of the family's frequency knob (`inrdict.models.FREQUENCY_KNOB`: SIREN's first ω0, the FFN's σ,
Gauss's s, WIRE's ω0, …) the network at initialisation is linearised and gradient descent on it is predicted from
its NTK (`inrdict.train.finetune.linearised_gd_psnr_db`), the predictor that ranked families by their measured
PSNR@k in `inrdict figure predictors` (Spearman +0.88 at a shared lr; E(0.1) and the area under E(λ) did not):

    Θ_v on a w × w window of the signal at the fitting resolution (the signal's own pixel spacing),
    a seeded 50 % of the window's pixels for training, the rest held out,
    `steps` GD steps at η = n_train / (2 λ_max(Θ_tt)) (the largest step at which no mode overshoots),
    score(v) = predicted held-out PSNR, averaged over `windows` windows;   suggestion = argmax_v score(v).

Held-out pixels are what make the choice non-trivial: a knob too low cannot fit the window's detail, a knob too
high fits the training pixels with atoms finer than the pixel spacing and predicts the held-out pixels badly (the
kernel's correlation length falls below the spacing) — the dictionary's atoms must match the signal's scale.
Normalising η by λ_max makes the score independent of the kernel's overall scale, so values and families compare.
`steps` is the training budget in those normalised steps (modes with λ ≳ λ_max / steps are learned).
"""

from __future__ import annotations

import dataclasses
import time

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
# A value grid per family: the family's recommended knob times 2^(-2 … 2) in half-octaves (nine values).
GRID_FACTORS = 2.0 ** np.linspace(-2.0, 2.0, 9)


def knob_of(family: str) -> str:
    """The family's frequency knob, or a one-line error for a family without one."""
    if family not in FREQUENCY_KNOB:
        raise InrdictError(f"unknown family {family!r}: choose one of {', '.join(k for k, v in FREQUENCY_KNOB.items() if v)}")
    knob = FREQUENCY_KNOB[family]
    if knob is None:
        with_knob = ", ".join(k for k, v in FREQUENCY_KNOB.items() if v)
        raise InrdictError(f"{family} has no frequency knob to choose; families with one: {with_knob}")
    return knob


def default_values(family: str) -> np.ndarray:
    """The family's recommended knob value times `GRID_FACTORS` (rounded to 3 significant digits)."""
    base = float(model_knobs(family)[knob_of(family)])
    return np.array([float(f"{base * f:.3g}") for f in GRID_FACTORS])


def check_signal(signal, size: int, window: int) -> np.ndarray:
    """A grayscale image (h, w) as float64, refused in one line when it cannot be scored."""
    image = np.asarray(signal, np.float64)
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        image = data.to_grayscale(image[..., :3])
    if image.ndim != 2:
        raise InrdictError(f"suggest takes an image (h, w) or (h, w, 3); got an array of shape {image.shape}")
    if not np.all(np.isfinite(image)):
        raise InrdictError("the signal holds NaN or infinite values: clean it first")
    if min(image.shape) < window:
        raise InrdictError(f"the signal ({image.shape[0]}x{image.shape[1]}) is smaller than the {window}x{window} "
                           f"window: use a larger signal or --set window=<smaller>")  # fmt: skip
    if window > size:
        raise InrdictError(f"the window ({window}) exceeds the fitting resolution size ({size})")
    if float(image.std()) < 1e-8:
        raise InrdictError("the signal is constant: every knob fits it, there is nothing to choose")
    return image


def windows_of(size: int, window: int, count: int, seed: int) -> list[tuple[int, int]]:
    """`count` seeded top-left corners of window × window squares inside size × size (the first one centred)."""
    rng = np.random.default_rng(np.asarray(jax.random.key_data(init_key(seed, "suggest_windows"))).ravel())
    centre = ((size - window) // 2, (size - window) // 2)
    others = [tuple(int(x) for x in rng.integers(0, size - window + 1, 2)) for _ in range(max(0, count - 1))]
    return [centre, *others]


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """What `suggest` found.

    Attributes:
        family, knob: the family and the knob chosen for it.
        values: (v,) knob values scored.
        scores: (v, w) predicted held-out PSNR (dB) per value and window.
        value: the suggestion, argmax of the mean score.
        seconds: wall time (kernels, eigendecompositions, predictions; compilation included).
    """

    family: str
    knob: str
    values: np.ndarray
    scores: np.ndarray
    value: float
    seconds: float

    @property
    def mean_scores(self) -> np.ndarray:
        return self.scores.mean(axis=1)


def suggest(family: str, signal, *, values=None, size: int = 64, window: int = 32, windows: int = 4,
            steps: int = DEFAULT_STEPS, hidden: tuple[int, ...] | None = None, seed: int = 0) -> Suggestion:  # fmt: skip
    """The frequency-knob value predicted to fit `signal` best (module docstring).

    Args:
        family: a model name with a frequency knob (`FREQUENCY_KNOB`).
        signal: an image (h, w) or (h, w, 3); resized to size × size, the resolution it will be fitted at.
        values: knob values to score (default `default_values(family)`).
        window, windows: the NTK is computed on `windows` windows of window × window pixels.
        steps: the training budget, in GD steps at η = n_train / (2 λ_max).
        hidden: hidden widths (default: the family's, matched to the paper's SIREN).
        seed: initialisation, mask and windows.
    """
    start = time.perf_counter()
    knob = knob_of(family)
    if steps < 1 or windows < 1 or window < 4:
        raise InrdictError(f"steps ({steps}) and windows ({windows}) must be positive and window ({window}) at least 4")
    image = check_signal(signal, size, window)
    values = default_values(family) if values is None else np.asarray(values, np.float64)
    if values.ndim != 1 or values.size < 1 or np.any(~np.isfinite(values)) or np.any(values <= 0):
        raise InrdictError(f"knob values must be positive numbers, got {values}")
    resized = data.resize(image, size) if image.shape != (size, size) else image
    points = data.ntk_grid(size).reshape(size, size, 2)
    mask = pixel_mask(window * window, seed)
    corners = windows_of(size, window, windows, seed)
    scores = np.empty((values.size, len(corners)))
    with jax.enable_x64(True):
        for i, value in enumerate(values):
            model = on_reference_domain(family, make_model(family, 2, hidden, 1, key=model_key(family, seed),
                                                           **{knob: float(value)}, dtype=jnp.float64))  # fmt: skip
            for j, (row, col) in enumerate(corners):
                crop = points[row : row + window, col : col + window].reshape(-1, 2).astype(np.float64)
                target = resized[row : row + window, col : col + window].reshape(1, -1)
                kernel = empirical_ntk(model, crop, dtype=np.float64)
                initial = np.asarray(jax.vmap(model)(jnp.asarray(crop))[:, 0])
                _, held_out = linearised_gd(kernel, initial, target, mask)(steps)  # η = n_train / 2λ_max
                scores[i, j] = held_out[0]
    best = float(values[int(np.argmax(scores.mean(axis=1)))])
    return Suggestion(family, knob, values, scores, best, time.perf_counter() - start)


__all__ = ["DEFAULT_STEPS", "GRID_FACTORS", "Suggestion", "check_signal", "default_values", "knob_of", "suggest", "windows_of"]

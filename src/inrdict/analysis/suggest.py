"""Choose an INR's frequency knob before training: the lens turned into a recommendation (`inrdict suggest`).

For each value v of the family's frequency knob (`Family.knob`: SIREN's first ω0, the FFN's σ,
Gauss's s, WIRE's ω0, …) the network at initialisation is linearised and gradient descent on it is predicted from
its NTK (`inrdict.train.finetune.linearised_gd`). (`inrdict figure predictors` asks a different question — whether
a quantity at initialisation ranks INR families — and its answer, at a shared lr only, does not validate this use:
`inrdict figure regret` does.)

    Θ_v on a window of the signal at the resolution it will be fitted at (w × w samples of an image, w samples of a
    1-D signal, w³ of a volume, at the signal's own sample spacing), a seeded 50 % of the window's samples for
    training, the rest held out, `steps` GD steps at η = n_train / (2 λ_max(Θ_tt)) (the largest step at which no
    mode overshoots), score(v) = predicted held-out PSNR, averaged over `windows` windows; suggestion = argmax_v.

The signal is prepared exactly as `inrdict fit` prepares it (`inrdict.analysis.fitting.prepare`): its own
resolution up to a cap (`fitting.MAX_SIZE`; `size` sets the longest axis), the aspect ratio kept, the values
min-max scaled to [0, 1] and mapped to the family's reference target range (`inrdict.train.recipes`), on the
family's coordinates, with the reference run's depth, knobs and bias convention. So the answer does not depend on
the signal's units, and it is the knob for the network `fit` trains. The windows have a fixed number of samples, so
the cost does not grow with the signal's size.

Held-out samples are what make the choice non-trivial: a knob too low cannot fit the window's detail, a knob too
high fits the training samples with atoms finer than the sample spacing and predicts the held-out ones badly (the
kernel's correlation length falls below the spacing) — the dictionary's atoms must match the signal's scale.
Normalising η by λ_max makes the score independent of the kernel's overall scale, so values and families compare.
`steps` is the training budget in those normalised steps (modes with λ ≳ λ_max / steps are learned).

The candidates are the lattice centre (`lattice_centre`: the family's reference knob × n / n_ref, n samples on the
longest axis, n_ref = `REFERENCE_SIZE` by dimension) × 2^(−4 … 4) in half-octaves (17 values), searched coarse to
fine: every octave (9 values), then the two half-octaves beside the best (11 kernels per window instead of 17).
Values given explicitly are all scored. The factor n / n_ref moves the lattice with the sample spacing, as the
Nyquist frequency moves.

* Images and volumes: n_ref = 128. At 64² this is the centre of the earlier 64² lattice, the reference
  × 2^(−4 … 2) (where the trained optima of the FFN and Gauss lay up to two octaves below the reference), one
  octave wider on each side.
* 1-D signals: n_ref = 1024. Set on the design series of `inrdict figure regret` (scripts/design/series_lattice.py,
  results/design/series_lattice.json): at n_ref = 128 the trained optima of the design series (203–800 samples)
  lay 1.6–5 octaves below the centre, many beyond the lattice; at n_ref = 1024 all lie within 2.1 octaves of it.
  Cropping four EEG channels to 200, 400 and 800 samples moved the trained optima by 1.0 (SIREN, noisily), 1.0
  (FFN) and 0.4 (Gauss) octaves per octave of n (least squares), so the lattice moves with n as for images.

**Grid encodings** (`grid`, `hashgrid`: `inrdict.models.grid`): the knob is the finest resolution N_max, at the
family's L, F, N_min and T. Why N_max and not the level count at a fixed budget: N_max is the encoding's bandwidth,
the analogue of ω0 or σ — the finest level's atoms are tents one cell 1/N_max wide, so N_max sets the kernel's
shortest correlation length, and the paper chooses it by the data (Müller et al. 2022, Sec. 3: N_max matched to the
finest detail in the training data; Table 1's range 512 … 524288 over tasks). The level count L at a fixed budget
moves no scale: with N_min and N_max fixed it only sets how densely the scales in between are sampled (the growth b
of eq. 3), an integer with a few useful values, and at a fixed parameter budget it trades against T (more
collisions) or F, so its effect on the dictionary is second order. A change of N_max at fixed L, F, T changes the
parameter count only through the dense (unhashed) coarse levels (of `grid`, every level): the candidates are not
parameter-matched. Its natural unit is the sample count, not a reference value: the longest axis's n samples span
[0, 1) (`fitting.grid`), so N_max = n puts one finest cell on each sample, whatever the family's default (tiny-cuda-nn's
16 · 1.5^15 ≈ 7006 for hashgrid, 256 for grid) — scaling that default by n / n_ref (as for the frequency knobs) would
centre hashgrid's lattice at 55 cells per sample. So for a resolution knob (`RESOLUTION_KNOBS`) the lattice centre is
n (`lattice_centre`) and the factors are `RESOLUTION_FACTORS`, 2^(−4 … 2) in half-octaves (13 values): four octaves
below (cells of 16 samples: a blurred fit) to two above (finest cells a quarter of a sample: the top levels then hold
one training sample per cell, pure memorisation with nothing to predict a held-out sample from, so finer values only
add parameters; the dense grid's finest table grows as N_max², 4n is its largest), values below N_min dropped (eq. 3
needs N_min ≤ N_max). On the sample grid k / n a level of exactly N = n cells puts a vertex on every sample, so it
only memorises (`tests/test_grid_recipes.py`): the useful values lie below n, and the lattice reaches four octaves
down. On scikit-image's camera at 128² the argmax was 45.3 for hashgrid and 22.6 for grid (1.5 and 2.5 octaves
below the centre), and `fit` at 45.3 held out 25.9 dB against 13.3 dB at tiny-cuda-nn's 7006 (one image,
one seed, run by hand on 2026-12-07 and not committed: an illustration, not a validation). No calibration
(`SHIFT_OCTAVES`) and no held-out validation have been run for them.

suggestion = argmax_v score(v) × 2^c, c = `SHIFT_OCTAVES[(family, dim)]` (0 unless set): a calibration of the
linearised prediction against trained networks, set on the design split of `inrdict figure regret` only (its
comment names the committed results file).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import cast

import jax
import jax.numpy as jnp
import numpy as np

from inrdict._keys import init_key
from inrdict.analysis import fitting
from inrdict.analysis.learnability import pixel_mask
from inrdict.errors import InrdictError
from inrdict.models import family as _family
from inrdict.ntk import empirical_ntk
from inrdict.train.finetune import linearised_gd
from inrdict.train.recipes import recipe

# The training budget of the prediction, in GD steps at η = n_train / (2 λ_max). Chosen on the design images only
# (scikit-image's camera, coffee, brick and text, SIREN 2 → 64 ×3 → 1 at 64², Adam lr 1e-4 for 300 steps: budgets
# 3 … 1e5 tried; 1e3 and 1e4 gave the lowest regret there); the validation (`inrdict figure regret`) uses other images.
DEFAULT_STEPS = 1000
# Candidate values: the lattice centre × 2^(-4 … 4) in half-octaves (17 values).
GRID_FACTORS = 2.0 ** np.linspace(-4.0, 4.0, 17)
# The lattice centre is the reference knob at n = REFERENCE_SIZE[dim] samples on the longest axis (`lattice_centre`).
REFERENCE_SIZE = {1: 1024, 2: 128, 3: 128}
# Calibration of the argmax, in octaves, per (family, dimension) (module docstring): the median over the design
# split's signals of log2(trained reference / argmax) to the nearest half-octave (`in_sample_shift_octaves`):
# images and volumes from results/variants/suggest_validation-design, 1-D from -design_series (all 9 series), both
# run before the calibration existed (2026-12-06). Absent: 0.
SHIFT_OCTAVES: dict[tuple[str, int], float] = {
    ("siren", 1): -2.5, ("siren", 2): -1.0, ("siren", 3): -1.5,
    ("ffn", 1): 0.5, ("ffn", 2): -0.5, ("ffn", 3): -0.5,
    ("gauss", 1): 0.0, ("gauss", 2): 0.0, ("gauss", 3): 0.0,
}  # fmt: skip


# Knobs that are a resolution in cells per unit (a grid encoding's finest level, `inrdict.models.grid`): their
# lattice is centred on the samples per axis and spans `RESOLUTION_FACTORS` (module docstring).
RESOLUTION_KNOBS = frozenset({"n_max"})
RESOLUTION_FACTORS = 2.0 ** np.linspace(-4.0, 2.0, 13)

# Samples per axis of a window, by signal dimension: 32² for an image, 256 for a 1-D signal, 10³ for a volume (about
# a thousand samples per kernel).
DEFAULT_WINDOW = {1: 256, 2: 32, 3: 10}


def knob_of(family: str) -> str:
    """The family's frequency knob, or a one-line error for a family without one."""
    if family not in _family.names():
        raise InrdictError(f"unknown family {family!r}: choose one of {', '.join(_family.with_knob())}")
    knob = _family.get(family).knob
    if knob is None:
        with_knob = ", ".join(_family.with_knob())
        raise InrdictError(f"{family} has no frequency knob to choose; families with one: {with_knob}")
    return knob


def lattice_centre(family: str, longest: int | None = None, dim: int = 2, run: str | None = None) -> float:
    """The middle candidate for a `dim`-D signal of `longest` samples on its longest axis (None: `REFERENCE_SIZE`):
    the reference knob (of recipe `run`) × longest / `REFERENCE_SIZE[dim]`; for a resolution knob (`RESOLUTION_KNOBS`:
    a grid encoding's N_max) `longest` itself, one finest cell per sample (module docstring)."""
    size = REFERENCE_SIZE[dim] if longest is None else longest
    if knob_of(family) in RESOLUTION_KNOBS:
        return float(size)
    return fitting.knob_default(family, recipe(family, run)) * size / REFERENCE_SIZE[dim]


def _lowest(family: str, run: str | None) -> float:
    """The smallest value the knob may take: a grid encoding's N_min (N_max ≥ N_min, paper eq. 3); else 0."""
    if knob_of(family) not in RESOLUTION_KNOBS:
        return 0.0
    return float(recipe(family, run).knobs.get("n_min", _family.get(family).knobs().get("n_min", 1)))


def default_values(family: str, longest: int | None = None, run: str | None = None, dim: int = 2) -> np.ndarray:
    """The candidates: `lattice_centre` × `GRID_FACTORS` (a resolution knob: × `RESOLUTION_FACTORS`, values below
    N_min left out), rounded to 3 significant digits."""
    base = lattice_centre(family, longest, dim, run)
    factors = RESOLUTION_FACTORS if knob_of(family) in RESOLUTION_KNOBS else GRID_FACTORS
    values = [float(f"{base * f:.3g}") for f in factors]
    kept = [v for v in values if v >= _lowest(family, run)]
    if not kept:
        raise InrdictError(f"every {knob_of(family)} candidate for {base:g} samples per axis lies below the family's "
                           f"N_min = {_lowest(family, run):g}: use a larger signal (--size) or give values")  # fmt: skip
    return np.array(kept)


def calibrated(family: str, dim: int, value: float, among=()) -> float:
    """The argmax `value` × 2^`SHIFT_OCTAVES[(family, dim)]`: the value of `among` (the candidates) within 1 % of it,
    else rounded to 3 significant digits (unchanged without a shift)."""
    shift = SHIFT_OCTAVES.get((family, dim), 0.0)
    if not shift:
        return value
    target = value * 2.0**shift
    near = [float(c) for c in among if abs(c / target - 1.0) < 0.01]
    return near[0] if near else float(f"{target:.3g}")


def windows_of(shape: tuple[int, ...], window: int, count: int, seed: int) -> list[tuple[int, ...]]:
    """`count` seeded first corners of windows of `window` samples per axis inside `shape`, the first centred."""
    if min(shape) < window:
        raise InrdictError(f"the signal ({'x'.join(map(str, shape))}) is smaller than the "
                           f"{'x'.join([str(window)] * len(shape))} window: use a larger signal or "
                           f"--set window=<smaller>")  # fmt: skip
    rng = np.random.default_rng(np.asarray(jax.random.key_data(init_key(seed, "suggest_windows"))).ravel())
    centre = tuple((n - window) // 2 for n in shape)
    others = [tuple(int(rng.integers(0, n - window + 1)) for n in shape) for _ in range(max(0, count - 1))]
    return [centre, *others]


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """What `suggest` found.

    Attributes:
        family, knob: the family and the knob chosen for it.
        recipe: the reference run whose network and targets were scored (`inrdict.train.recipes`).
        shape: the signal's shape as fitted (`fitting.prepare`); window: samples per axis of a window.
        corners: the windows' first corners.
        candidates: (c,) the values searched among.
        values: (v,) the values scored (ascending; all candidates, or the coarse-to-fine subset).
        scores: (v, w) predicted held-out PSNR (dB, [0, 1] values) per scored value and window.
        argmax: the scored value of the best mean score.
        value: the suggestion, `argmax` calibrated (`calibrated`; the same value without a calibration).
        seconds: wall time (kernels, eigendecompositions, predictions; compilation included).
    """

    family: str
    knob: str
    recipe: str
    shape: tuple[int, ...]
    window: int
    corners: list[tuple[int, ...]]
    candidates: np.ndarray
    values: np.ndarray
    scores: np.ndarray
    argmax: float
    value: float
    seconds: float

    @property
    def mean_scores(self) -> np.ndarray:
        return self.scores.mean(axis=1)

    @property
    def kernels(self) -> int:
        """NTKs computed (values scored × windows)."""
        return int(self.scores.size)


def coarse_indices(count: int) -> list[int]:
    """The coarse pass over `count` sorted candidates: every other one, both ends included."""
    return sorted({*range(0, count, 2), count - 1})


@dataclasses.dataclass(frozen=True)
class SuggestOptions:
    """How `suggest` searches.

    Attributes:
        values: knob values, all scored (None: `default_values(family, longest)`, searched coarse to fine).
        size: samples on the longest axis, as `fit` will fit it (None: the signal's own, at most `fitting.MAX_SIZE`).
        window: samples per axis of a window (None: `DEFAULT_WINDOW`).
        windows: the NTK is computed on this many windows.
        steps: the training budget, in GD steps at η = n_train / (2 λ_max).
        hidden: hidden widths (None: the recipe's depth at the paper's SIREN's parameter count, as `fit`).
        recipe: the reference run (`Family.recipes`; None: the family's default).
        held_out: the share of each window's samples predicted (the split `fit` will hold out).
        seed: initialisation, mask and windows.
    """

    values: tuple[float, ...] | None = None
    size: int | None = None
    window: int | None = None
    windows: int = 4
    steps: int = DEFAULT_STEPS
    hidden: tuple[int, ...] | None = None
    recipe: str | None = None
    held_out: float = 0.5
    seed: int = 0


def _candidates(family: str, values, longest: int, run: str | None, dim: int) -> np.ndarray:
    if values is None:
        return default_values(family, longest, run, dim)
    candidates = np.sort(np.asarray(values, np.float64))
    if candidates.ndim != 1 or candidates.size < 1 or np.any(~np.isfinite(candidates)) or np.any(candidates <= 0):
        raise InrdictError(f"knob values must be positive numbers, got {values}")
    lowest = _lowest(family, run)
    if candidates[0] < lowest:
        raise InrdictError(f"{family}'s {knob_of(family)} must be at least its N_min = {lowest:g} (paper eq. 3), got "
                           f"{candidates[0]:g}: give larger values")  # fmt: skip
    return candidates


def suggest(family: str, signal, options: SuggestOptions = SuggestOptions()) -> Suggestion:
    """The frequency-knob value predicted to fit `signal` best (module docstring): a 1-D signal (n,), an image
    (h, w) or (h, w, 3), or a volume (d, h, w), in any units."""
    start = time.perf_counter()
    knob = knob_of(family)
    run = recipe(family, options.recipe)
    prepared = fitting.prepare(signal, options.size)
    dim = prepared.dim
    window = options.window or min(DEFAULT_WINDOW[dim], min(prepared.shape))
    if window < 4:
        raise InrdictError(f"windows need at least 4 samples per axis, and the signal's shortest axis has "
                           f"{min(prepared.shape)}: give a larger signal (or --set window=4 or more)")  # fmt: skip
    if options.steps < 1 or options.windows < 1 or not 0 < options.held_out < 1:
        raise InrdictError(f"steps ({options.steps}) and windows ({options.windows}) must be positive and held_out "
                           f"({options.held_out}) in (0, 1)")  # fmt: skip
    candidates = _candidates(family, options.values, max(prepared.shape), options.recipe, dim)
    points = fitting.grid(prepared.shape).reshape(*prepared.shape, dim)
    targets = run.to_target(prepared.values)
    mask = pixel_mask(window**dim, options.seed, train_fraction=1.0 - options.held_out)
    corners = windows_of(prepared.shape, window, options.windows, options.seed)
    crops = [tuple(slice(c, c + window) for c in corner) for corner in corners]
    scored: dict[int, np.ndarray] = {}

    def score(index: int) -> None:
        if index in scored:
            return
        model, _ = fitting.build(family, dim, run, float(candidates[index]), options.hidden, options.seed,
                                 dtype=jnp.float64)  # fmt: skip
        row = np.empty(len(crops))
        for j, crop in enumerate(crops):
            inputs = points[crop].reshape(-1, dim).astype(np.float64)
            kernel = empirical_ntk(model, inputs, dtype=np.float64)
            initial = np.asarray(jax.vmap(cast(Callable, model))(jnp.asarray(inputs))[:, 0])  # a Module is callable
            held_out = linearised_gd(kernel, initial, targets[crop].reshape(1, -1), mask)(options.steps)[1][0]
            row[j] = fitting.unit_psnr(run, held_out)
        scored[index] = row

    with jax.enable_x64(True):
        if options.values is not None:
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
    argmax = float(candidates[order[int(np.argmax(scores.mean(axis=1)))]])
    return Suggestion(family, knob, run.name, prepared.shape, window, corners, candidates, candidates[order], scores,
                      argmax, calibrated(family, dim, argmax, candidates), time.perf_counter() - start)  # fmt: skip


__all__ = ["DEFAULT_STEPS", "DEFAULT_WINDOW", "GRID_FACTORS", "REFERENCE_SIZE", "RESOLUTION_FACTORS", "RESOLUTION_KNOBS",
           "SHIFT_OCTAVES", "SuggestOptions",
           "Suggestion", "calibrated", "coarse_indices", "default_values", "knob_of", "lattice_centre", "suggest",
           "windows_of"]  # fmt: skip

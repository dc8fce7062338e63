"""`inrdict suggest SIGNAL --family NAME`: the frequency knob predicted to fit a signal best, before any training
(beyond the paper; `inrdict.analysis.suggest`).

The signal is taken as `inrdict fit` takes it: at its own resolution (the longest axis capped at
`inrdict.analysis.fitting.MAX_SIZE`, or `size`), aspect ratio kept, values min-max scaled (units do not matter).
For values of the knob (`suggest.default_values`: the reference knob × (n / 128)^p × 2^(lo … hi), searched coarse
to fine; or all of `values`),
the NTK at initialisation of the family's reference network on `windows` windows (window samples per axis, at the
signal's own spacing) predicts, by linearised gradient descent (`steps` steps at η = n_train / 2λ_max), the PSNR
on held-out samples (a seeded 50 % split); the suggestion is the value of the highest mean prediction (its
argmax), calibrated per family and dimension (`suggest.SHIFT_OCTAVES`). Its cost
does not grow with the signal's size. `inrdict figure regret` measures how good that choice is.

Writes `overview.png/pdf` (the predicted curve over the knob values, the signal, the windows) and `results.json`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from inrdict.analysis import fitting
from inrdict.analysis import suggest as knob_suggest
from inrdict.errors import InrdictError
from inrdict.experiments._run import signal_folder, validate_config
from inrdict.io import data
from inrdict.train.recipes import recipe

NAME = "suggest"
TITLE = "Choose the frequency knob for a signal before training: NTK-predicted held-out PSNR over the knob grid"
DEFAULT_SECONDS = 30
IN_REPRODUCE = False  # a tool for any signal: `inrdict suggest`


@dataclasses.dataclass(frozen=True)
class Config:
    """`suggest` settings."""

    signal: str = "astronaut"  # a bundled image name, an image file, a .wav, or a .npy array (n,), (h, w)
    family: str = "siren"  # a registered family with a frequency knob (`inrdict.models.family.with_knob()`)
    values: tuple[float, ...] | None = None  # knob values, all scored (default: the family's grid, coarse to fine)
    size: int | None = None  # samples on the longest axis as it will be fitted (None: its own, capped)
    window: int | None = None  # samples per axis of a window (None: 32 for images, 256 for 1-D, 10 for volumes)
    windows: int = 4
    steps: int = knob_suggest.DEFAULT_STEPS
    hidden: tuple[int, ...] | None = None  # None: the recipe's depth, widths matched to the paper's SIREN
    recipe: str | None = None  # the reference run (`Family.recipes`; None: the family's default)
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        knob_suggest.knob_of(self.family)  # a family without a knob is refused here, in one line
        recipe(self.family, self.recipe)  # so is an unknown recipe
        if self.window and self.size and self.window > self.size:
            raise InrdictError(f"window ({self.window}) exceeds size ({self.size})")

    def options(self) -> knob_suggest.SuggestOptions:
        return knob_suggest.SuggestOptions(values=self.values, size=self.size, window=self.window,
                                           windows=self.windows, steps=self.steps, hidden=self.hidden,
                                           recipe=self.recipe, seed=self.seed)  # fmt: skip


DEFAULT = Config()
"""The signal at its own resolution (≤ 1024² for an image), four windows of 32² (256 samples for 1-D, 10³ for a
volume), the family's reference network: ~20–60 s on 2 cores for the 11 values of the coarse-to-fine search
(compilation included), whatever the signal's size."""
PRESETS = {"paper": DEFAULT, "default": DEFAULT}


def out_name(config: Config) -> str:
    return signal_folder("suggest", config.signal, config.family)


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    name, signal = data.load_signal(config.signal, volumes=True)
    prepared = fitting.prepare(signal, config.size)
    dim = prepared.dim
    if progress:
        given, fitted = "x".join(map(str, prepared.source_shape)), "x".join(map(str, prepared.shape))
        print(f"  scoring {config.family}'s {knob_suggest.knob_of(config.family)} on {name} ({given}, fitted at "
              f"{fitted}; values min-max scaled from [{prepared.low:.4g}, {prepared.high:.4g}])", flush=True)  # fmt: skip
    found = knob_suggest.suggest(config.family, signal, config.options())
    numbers = {
        "signal": name, "shape": list(prepared.source_shape), "fitted_shape": list(found.shape), "dimensions": dim,
        "value_range": [prepared.low, prepared.high], "window": found.window, "family": found.family,
        "knob": found.knob, "recipe": found.recipe, "candidates": found.candidates.tolist(),
        "values": found.values.tolist(), "predicted_held_out_psnr_db": found.mean_scores.tolist(),
        "predicted_per_window_db": found.scores.tolist(), "argmax": found.argmax, "suggestion": found.value,
        "windows": [list(c) for c in found.corners], "kernels": found.kernels, "seconds": found.seconds,
        "predictor": f"linearised GD, {config.steps} steps at η = n_train/(2 λ_max), held-out half of each window of "
                     f"{found.window}{_power(dim)} samples of the signal at {'x'.join(map(str, found.shape))}",
    }  # fmt: skip
    return numbers, {"signal": prepared.values, "scores": found.scores}


def _power(dim: int) -> str:
    return {1: "", 2: "²", 3: "³"}[dim]


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """How far inside the candidates the best-scored value (the argmax, before calibration) lies, min(log10(s/first),
    log10(last/s)) (the ledger asks > 0: on an edge the best value may lie beyond them: widen `values`)."""
    candidates, s = numbers["candidates"], numbers["argmax"]
    return {"suggestion_inside_the_knob_grid": float(min(np.log10(s / candidates[0]), np.log10(candidates[-1] / s)))}


def summary(numbers: dict) -> list[tuple[str, str]]:
    curve = "  ".join(f"{v:g}: {p:.1f}" for v, p in zip(numbers["values"], numbers["predicted_held_out_psnr_db"]))
    cost = (f"{numbers['kernels']} NTKs of {numbers['window']}{_power(numbers['dimensions'])} samples in "
            f"{numbers['seconds']:.1f} s (flat in the signal's size), fitted at "
            f"{'x'.join(map(str, numbers['fitted_shape']))}")  # fmt: skip
    text = f"{numbers['family']} {numbers['knob']} = {numbers['suggestion']:g} for {numbers['signal']}"
    if numbers.get("argmax", numbers["suggestion"]) != numbers["suggestion"]:
        text += f" (best scored {numbers['argmax']:g}, calibrated on the design split)"
    return [("suggestion", text), ("predicted dB", curve), ("cost", cost)]


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    values, scores = np.asarray(numbers["values"]), np.asarray(arrays["scores"])
    for column in scores.T:
        left.semilogx(values, column, color="grey", alpha=0.4, linewidth=0.8)
    left.semilogx(values, scores.mean(axis=1), marker="o", color="darkred", label="mean over windows")
    left.axvline(numbers["suggestion"], color="k", linestyle=":", label=f"suggestion {numbers['suggestion']:g}")
    left.xaxis.set_minor_formatter(plt.NullFormatter())  # log axis: label the grid values only
    left.set_xticks(values, [f"{v:g}" for v in values], fontsize=7)
    left.set(xlabel=f"{numbers['family']} {numbers['knob']}", ylabel="predicted held-out PSNR (dB)",
             title="NTK-predicted fit over the knob values scored")  # fmt: skip
    left.legend(fontsize=8)
    signal, size = arrays["signal"], results["numbers"]["window"]
    if signal.ndim == 1:
        right.plot(np.arange(signal.size), signal, color="k", linewidth=0.6)
        for (start,) in numbers["windows"]:
            right.axvspan(start, start + size, color="gold", alpha=0.25)
        right.set(xlabel="sample", title=f"{numbers['signal']} at {signal.size} samples, windows scored")
    elif signal.ndim == 3:
        mid = signal.shape[0] // 2
        right.imshow(signal[mid], cmap="gray")
        for depth, row, col in numbers["windows"]:
            if depth <= mid < depth + size:
                right.add_patch(plt.Rectangle((col - 0.5, row - 0.5), size, size, fill=False, edgecolor="yellow",
                                              linewidth=1))  # fmt: skip
        right.set_title(f"{numbers['signal']} at {'x'.join(map(str, signal.shape))}: the middle slice, windows "
                        "crossing it", fontsize=9)  # fmt: skip
        right.axis("off")
    else:
        right.imshow(signal, cmap="gray", vmin=0, vmax=1)
        for row, col in numbers["windows"]:
            right.add_patch(plt.Rectangle((col - 0.5, row - 0.5), size, size, fill=False, edgecolor="yellow",
                                          linewidth=1))  # fmt: skip
        right.set_title(f"{numbers['signal']} at {'x'.join(map(str, signal.shape))}, windows scored", fontsize=9)
        right.axis("off")
    save(fig, out_dir, "overview")

"""`inrdict fit SIGNAL --family NAME [--knob V | --suggest]`: fit an INR to a signal at its own resolution, as the
family's authors train it (beyond the paper; `inrdict.analysis.fitting`).

The signal (an image, a 1-D signal or a volume, in any units) is taken at its resolution (the longest axis capped
at `fitting.MAX_SIZE`, or `size`), aspect ratio kept, values min-max scaled, exactly as `inrdict suggest` takes it.
The family's reference run (`inrdict.train.recipes`: Adam, lr, schedule, steps, target range, depth, knobs, its
sources named there) trains on a seeded half of the samples (`held_out`); PSNR (peak = the signal's range) is
measured on the other half during training. The frequency knob is the run's, `knob`, or with `suggest` the one
`inrdict suggest` predicts for this signal.

Writes `model.npz` (the trained model, a checkpoint `inrdict.load_model` reads: it takes the coordinates
`fitting.grid(fitted_shape)`, sample k of axis i at k / max(shape), and outputs the recipe's target range; the
metadata holds what maps it back to the signal's units), `reconstruction.npy` (in the signal's units),
`overview.png/pdf` (signal, reconstruction, error, held-out PSNR over training) and `results.json`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from inrdict.analysis import fitting
from inrdict.analysis import suggest as knob_suggest
from inrdict.errors import InrdictError
from inrdict.experiments._run import signal_folder, validate_config
from inrdict.io import checkpoints, data
from inrdict.models import count_parameters
from inrdict.models import family as _family
from inrdict.train.recipes import recipe

NAME = "fit"
TITLE = "Fit an INR to a signal at its resolution, as the family's authors train it: held-out PSNR and the fit"
DEFAULT_SECONDS = 1800  # measured ~3–5 s per step on 2 cores (512², 198,401 parameters), 500 steps
IN_REPRODUCE = False  # a tool for any signal: `inrdict fit`
CONVERGED_DB = 0.5  # held-out PSNR gained over the last fifth of the steps below which the fit has flattened


@dataclasses.dataclass(frozen=True)
class Config:
    """`fit` settings (`fitting.FitOptions`)."""

    signal: str = "camera"  # a bundled image name, an image file, a .wav, or a .npy array (n,), (h, w), (d, h, w)
    family: str = "siren"  # a registered family (`inrdict.models.family.names()`)
    knob: float | None = None  # the frequency knob (None: the recipe's, or the suggestion with `suggest`)
    suggest: bool = False  # choose the knob with `inrdict suggest` first
    recipe: str | None = None  # the reference run (`Family.recipes`; None: the family's default)
    steps: int | None = None  # None: the recipe's
    learning_rate: float | None = None  # None: the recipe's
    size: int | None = None  # samples on the longest axis (None: the signal's own, capped at `fitting.MAX_SIZE`)
    hidden: tuple[int, ...] | None = None  # None: the recipe's depth, widths matched to the paper's SIREN
    held_out: float = fitting.HELD_OUT
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        recipe(self.family, self.recipe)  # an unknown recipe is refused here, in one line
        if self.knob is not None and self.suggest:
            raise InrdictError("give --knob or --suggest, not both")
        if (self.knob is not None or self.suggest) and _family.get(self.family).knob is None:
            raise InrdictError(f"{self.family} has no frequency knob: leave out --knob and --suggest")
        if not 0.0 < self.held_out < 1.0:
            raise InrdictError(f"held_out must lie in (0, 1), got {self.held_out}")

    def options(self, knob: float | None) -> fitting.FitOptions:
        return fitting.FitOptions(knob=knob, recipe=self.recipe, steps=self.steps, learning_rate=self.learning_rate,
                                  size=self.size, hidden=self.hidden, held_out=self.held_out, seed=self.seed)  # fmt: skip


DEFAULT = Config()
"""SIREN (the paper's 198,401 parameters) on the 512² camera image, its authors' 500 steps: about half an hour on 2
CPU cores, seconds on a GPU (`--set size=128` for a quick look)."""
PRESETS = {"paper": DEFAULT, "default": DEFAULT}


def out_name(config: Config) -> str:
    return signal_folder("fit", config.signal, config.family)


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    name, signal = data.load_signal(config.signal, volumes=True)
    suggestion = None
    knob = config.knob
    if config.suggest:
        options = knob_suggest.SuggestOptions(size=config.size, hidden=config.hidden, recipe=config.recipe,
                                              held_out=config.held_out, seed=config.seed)  # fmt: skip
        suggestion = knob_suggest.suggest(config.family, signal, options)
        knob = suggestion.value
        if progress:
            print(f"  suggest: {suggestion.knob} = {knob:g} ({suggestion.kernels} NTKs, {suggestion.seconds:.1f} s)")
    fitted = fitting.fit(config.family, signal, dataclasses.replace(config.options(knob), progress=progress))
    run, prepared = fitted.run, fitted.signal
    numbers = {
        "signal": name, "shape": list(prepared.source_shape), "fitted_shape": list(prepared.shape),
        "dimensions": prepared.dim, "value_range": [prepared.low, prepared.high], "family": config.family,
        "knob": fitted.knob, "value": fitted.value, "suggested": suggestion is not None,
        "suggestion": None if suggestion is None else {
            "values": suggestion.values.tolist(), "predicted_held_out_psnr_db": suggestion.mean_scores.tolist(),
            "argmax": suggestion.argmax, "value": suggestion.value, "seconds": suggestion.seconds},
        "recipe": {"name": run.name, "source": run.source, "learning_rate": run.initial_lr(fitted.train_mask.size,
                   config.learning_rate), "steps": int(fitted.steps[-1]), "final_lr_factor": run.final_lr_factor,
                   "target_range": list(run.target_range), "domain": list(run.domain)},
        "model": checkpoints.model_config(fitted.model), "parameters": count_parameters(fitted.model),
        "held_out": config.held_out, "n_train": int(fitted.train_mask.sum()),
        "n_held_out": int((~fitted.train_mask).sum()),
        "initial_held_out_psnr_db": fitted.initial_held_out_psnr_db,
        "held_out_psnr_db": fitted.final_held_out_psnr_db, "final_train_psnr_db": float(fitted.train_psnr_db[-1]),
        "curve_steps": fitted.steps.tolist(), "curve_held_out_psnr_db": fitted.held_out_psnr_db.tolist(),
        "seconds": fitted.seconds,
        "psnr": "10 log10(range² / MSE) on the held-out samples, range = the signal's max − min",
    }  # fmt: skip
    leaves = {f"model_leaf_{i:03d}": np.asarray(leaf) for i, leaf in enumerate(jax.tree_util.tree_leaves(fitted.model))}
    arrays = {"signal": prepared.in_units(prepared.values), "reconstruction": fitted.reconstruction,
              "train_mask": fitted.train_mask.reshape(prepared.shape), **leaves}  # fmt: skip
    return numbers, arrays


def late_gain(numbers: dict) -> float:
    """Held-out PSNR gained over the last fifth of the steps (dB)."""
    steps, curve = np.asarray(numbers["curve_steps"]), np.asarray(numbers["curve_held_out_psnr_db"])
    before = int(np.searchsorted(steps, 0.8 * steps[-1], side="right")) - 1
    return float(curve[-1] - curve[max(before, 0)])


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """Whether the fit has flattened: the held-out PSNR gained over the last fifth of the steps (the ledger asks
    < 0.5 dB; if not, more steps would pay: --set steps=…)."""
    return {"held_out_psnr_flattened": late_gain(numbers)}


def summary(numbers: dict) -> list[tuple[str, str]]:
    knob = f", {numbers['knob']} = {numbers['value']:g}" if numbers["knob"] else ""
    how = " (suggested)" if numbers["suggested"] else ""
    shape = "x".join(map(str, numbers["fitted_shape"]))
    r = numbers["recipe"]
    training = (f"{r['name']}: Adam lr {r['learning_rate']:g} → ×{r['final_lr_factor']:g}, {r['steps']} steps on "
                f"{numbers['n_train']:,} of {shape} samples")  # fmt: skip
    psnr = (f"{numbers['held_out_psnr_db']:.2f} dB (from {numbers['initial_held_out_psnr_db']:.2f}; last fifth of the "
            f"steps +{late_gain(numbers):.2f} dB)")  # fmt: skip
    return [("model", f"{numbers['family']}{knob}{how}, {numbers['parameters']:,} parameters"),
            ("training", training), ("held-out PSNR", psnr), ("seconds", f"{numbers['seconds']:.1f}")]  # fmt: skip


def publish(results: dict, config: Config, folder: Path) -> None:
    """The trained model as a checkpoint (`model.npz`) and the reconstruction (`reconstruction.npy`)."""
    numbers = results["numbers"]
    with np.load(folder / "arrays.npz") as arrays:
        leaves = [arrays[name] for name in sorted(n for n in arrays.files if n.startswith("model_leaf_"))]
        np.save(folder / "reconstruction.npy", arrays["reconstruction"])
    model = checkpoints.model_from_leaves(numbers["model"], leaves)
    low, high = numbers["value_range"]
    checkpoints.save_model(folder / "model.npz", model, metadata={
        "experiment": NAME, "signal": numbers["signal"], "family": numbers["family"], "knob": numbers["knob"],
        "value": numbers["value"], "recipe": numbers["recipe"], "fitted_shape": numbers["fitted_shape"],
        "source_shape": numbers["shape"], "low": low, "high": high, "held_out": numbers["held_out"],
        "seed": results["config"]["seed"],
        "coordinates": "inrdict.analysis.fitting.grid(fitted_shape): sample k of axis i at k / max(fitted_shape)",
        "to_signal_units": "low + (high - low) * (output - t0) / (t1 - t0), [t0, t1] = recipe.target_range",
        "held_out_psnr_db": numbers["held_out_psnr_db"],
        "note": "the PSNR and the reconstruction refer to the signal at fitted_shape (resampled from source_shape "
                "when that was larger than the cap or --set size)"})  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    signal, reconstruction = np.asarray(arrays["signal"]), np.asarray(arrays["reconstruction"])
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
    if signal.ndim == 1:
        axes[0].plot(signal, color="k", linewidth=0.6)
        axes[1].plot(reconstruction, color="darkred", linewidth=0.6)
        axes[2].plot(reconstruction - signal, color="grey", linewidth=0.6)
    else:
        middle = (lambda a: a[a.shape[0] // 2]) if signal.ndim == 3 else (lambda a: a)
        low, high = numbers["value_range"]
        for ax, image in zip(axes[:2], (signal, reconstruction)):
            ax.imshow(middle(image), cmap="gray", vmin=low, vmax=high)
        axes[2].imshow(np.abs(middle(reconstruction) - middle(signal)), cmap="magma")
        for ax in axes[:3]:
            ax.axis("off")
    slice_note = " (middle slice)" if signal.ndim == 3 else ""
    for ax, title in zip(axes[:3], ("signal", "reconstruction", "|error|")):
        ax.set_title(f"{title}{slice_note}", fontsize=9)
    axes[3].plot(numbers["curve_steps"], numbers["curve_held_out_psnr_db"], marker=".", color="darkred")
    axes[3].set(xlabel="step", ylabel="held-out PSNR (dB)",
                title=f"{numbers['family']} on {numbers['signal']}: {numbers['held_out_psnr_db']:.2f} dB")  # fmt: skip
    save(fig, out_dir, "overview")

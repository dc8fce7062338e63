"""Figure 3 — aliasing: a large first omega_0 fits the samples with a spurious 105 Hz tone (SPEC §1, §5).

A 23 Hz sine with a seeded phase is sampled at the 256 points `linspace(0, 1, 256, endpoint=False)`; SIRENs
1 → 128 → 128 → 1 ("fit" bias convention, hidden omega_0 = 30) with first omega_0 ∈ {30, 300} are trained on
the 128 even-indexed samples (fs = 128 Hz). Both fit them; evaluated on all 256 points (fs = 256 Hz) the
omega_0 = 300 network shows a tone at ±105 Hz = 128 − 23 Hz, indistinguishable from −23 Hz on the training
samples, while omega_0 = 30 keeps it far below the 23 Hz peak.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from inrdict.analysis import spectrum
from inrdict.experiments._run import validate_config
from inrdict.experiments.studies import tones as _tones
from inrdict.io import data
from inrdict.models import Siren
from inrdict.train.fit import Monitor, fit, predict
from inrdict.train.losses import psnr_db

NAME = "figure_3"
TITLE = "Aliasing: SIREN with first ω0 = 300 puts a 23 Hz tone's alias at ±105 Hz, ω0 = 30 does not"
DEFAULT_SECONDS = 10


@dataclasses.dataclass(frozen=True)
class Config:
    """Figure 3 settings; the defaults are the paper's (cheap: seconds on a CPU)."""

    freq_hz: float = 23.0
    n_samples: int = 256  # full grid; training uses every `train_stride`-th sample
    train_stride: int = 2
    first_omega0s: tuple[float, ...] = (30.0, 300.0)
    hidden_omega0: float = 30.0
    hidden: tuple[int, ...] = (128, 128)
    steps: int = 2000
    learning_rate: float = 1e-4
    eval_every: int = 100
    seed: int = 0  # draws the tone's phase and the networks' initialisation
    n_seeds: int = 5  # seeds seed … seed + n_seeds − 1: the claims are judged across them (the plots show the first)

    def __post_init__(self):
        validate_config(self)

    @property
    def alias_hz(self) -> float:
        """Frequency that coincides with -freq_hz on the training grid: fs_train - freq_hz."""
        return self.n_samples / self.train_stride - self.freq_hz


PAPER = Config()
DEFAULT = PAPER
"""The paper settings already run in seconds on 2 CPU cores (5 seeds: the claims are judged across them)."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """The first seed's numbers and arrays (the plots), and every seed's fit and alias levels (`per_seed`)."""
    return _tones.over_seeds(_one_seed, config, progress=progress)


def _one_seed(config: Config, seed: int, *, progress: bool) -> tuple[dict, dict[str, np.ndarray]]:
    phase_key, *init_keys = jax.random.split(jax.random.key(seed), 1 + len(config.first_omega0s))
    phase = float(jax.random.uniform(phase_key, (), minval=0.0, maxval=2 * np.pi))
    r, target = data.tone(config.freq_hz, config.n_samples, phase)
    r_train, target_train = r[:: config.train_stride], target[:: config.train_stride]
    freqs_full, target_full_db = spectrum.magnitude_spectrum_db(target)
    freqs_train, target_train_db = spectrum.magnitude_spectrum_db(target_train)
    arrays = {
        "r": r, "target": target, "freqs_full_hz": freqs_full, "target_full_db": target_full_db,
        "freqs_train_hz": freqs_train, "target_train_db": target_train_db,
    }  # fmt: skip
    numbers: dict = {
        "phase_rad": phase,
        "alias_hz": config.alias_hz,
        "fs_train_hz": config.n_samples / config.train_stride,
        "fs_full_hz": float(config.n_samples),
        "models": {},
    }
    for init_key, omega0 in zip(init_keys, config.first_omega0s):
        model = Siren(
            1, config.hidden, 1, first_omega0=omega0, hidden_omega0=config.hidden_omega0, convention="fit",
            key=init_key,
        )  # fmt: skip
        result = fit(
            model, r_train, target_train, steps=config.steps, learning_rate=config.learning_rate,
            monitor=Monitor(every=config.eval_every, progress=progress, description=f"Fig. 3 ω0={omega0:g}"),
        )  # fmt: skip
        full = predict(result.model, r).ravel()
        train = full[:: config.train_stride]
        _, full_db = spectrum.magnitude_spectrum_db(full)
        _, train_db = spectrum.magnitude_spectrum_db(train)
        tag = f"omega0_{omega0:g}"
        arrays[f"{tag}_full"], arrays[f"{tag}_full_db"], arrays[f"{tag}_train_db"] = full, full_db, train_db
        levels = spectrum.tone_levels_db(full, (config.freq_hz, config.alias_hz))
        numbers["models"][tag] = {
            "first_omega0": omega0,
            "train_psnr_db": float(psnr_db(np.mean((train - target_train) ** 2))),
            "full_grid_psnr_db": float(psnr_db(np.mean((full - target) ** 2))),
            "psnr_protocol": "train = the 128 even-indexed samples; full grid = all 256 samples",
            "level_signal_db": levels[config.freq_hz],
            "level_alias_db": levels[config.alias_hz],
            "alias_below_signal_db": levels[config.freq_hz] - levels[config.alias_hz],
            "fit_seconds": result.seconds,
        }
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """SPEC §5 Fig. 3, per seed (thresholds in the ledger): the worse training PSNR of the two networks; the alias
    level below the peak of the largest and of the smallest first omega_0."""
    per_seed = numbers["per_seed"]
    low, high = per_seed[f"omega0_{min(config.first_omega0s):g}"], per_seed[f"omega0_{max(config.first_omega0s):g}"]
    return {
        "both_fit_training_samples": np.min([m["train_psnr_db"] for m in per_seed.values()], axis=0).tolist(),
        "large_omega0_aliases_within_30db": high["alias_below_signal_db"],
        "small_omega0_alias_far_below": low["alias_below_signal_db"],
    }


def summary(numbers: dict) -> list[tuple[str, str]]:
    return [
        (f"SIREN ω0={m['first_omega0']:g}",
         (f"train PSNR {m['train_psnr_db']:6.2f} dB   {numbers['alias_hz']:g} Hz alias "
         f"{m['alias_below_signal_db']:6.1f} dB below the signal peak"))
        for m in numbers["models"].values()
    ]  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """Spectra of reconstruction vs target on the training grid and the full grid, ±f and ±alias marked."""
    from inrdict.plotting import plt, save, tone_panel

    numbers, config = results["numbers"], results["config"]
    marks = [-numbers["alias_hz"], -config["freq_hz"], config["freq_hz"], numbers["alias_hz"]]
    models = list(numbers["models"].items())
    overview, axes = plt.subplots(2, len(models), figsize=(6 * len(models), 8), squeeze=False)
    for col, (tag, m) in enumerate(models):
        grids = [
            ("train", arrays["freqs_train_hz"], arrays[f"{tag}_train_db"], arrays["target_train_db"],
             f"training grid, fs = {numbers['fs_train_hz']:g} Hz"),
            ("full", arrays["freqs_full_hz"], arrays[f"{tag}_full_db"], arrays["target_full_db"],
             f"full grid, fs = {numbers['fs_full_hz']:g} Hz"),
        ]  # fmt: skip
        for row, (grid, freqs, rec_db, target_db, grid_label) in enumerate(grids):
            title = f"SIREN ω0 = {m['first_omega0']:g} — {grid_label}"
            if grid == "full":
                title += f"\n{numbers['alias_hz']:g} Hz alias {m['alias_below_signal_db']:.1f} dB below the peak"
            fig, ax = plt.subplots(figsize=(6, 4))
            tone_panel(ax, freqs, rec_db, target_db, marks, title)
            save(fig, out_dir, f"{grid}_grid_{tag}")
            tone_panel(axes[row, col], freqs, rec_db, target_db, marks, title)
    overview.suptitle(f"Fig. 3 — aliasing of a {config['freq_hz']:g} Hz tone")
    overview.tight_layout()
    save(overview, out_dir, "overview")

"""Shared pieces of Fig. 9 and the aliasing curve: Fig. 3's 23 Hz tone, its alias, and the FFN of comparable size.

The problem (SPEC §5 Fig. 3): g(r) = sin(2π 23 r + phase), phase seeded, on `linspace(0, 1, 256, endpoint=False)`;
networks train on the 128 even-indexed samples (fs = 128 Hz), where a tone at 128 − 23 = 105 Hz is
indistinguishable from −23 Hz; evaluated on all 256 points (fs = 256 Hz) a network that put energy at ±105 Hz
shows it. The alias level is the spectrum level at ±105 Hz below the one at ±23 Hz (dB; the larger of ±f each).

FFN of comparable size to Fig. 3's SIREN 1 → 128 → 128 → 1 (16,897 trained parameters): 64 frequencies
B = σ N(0, 1) (64 x 1, frozen; 128 sin/cos features), one hidden ReLU layer of 128, → 1: 16,641 trained parameters.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from inrdict.analysis import spectrum
from inrdict.experiments._run import validate_config
from inrdict.io import data
from inrdict.models import FFN, gaussian_frequencies
from inrdict.train.losses import psnr_db


@dataclasses.dataclass(frozen=True)
class ToneStudy:
    """The tone, the grids and the training (Fig. 3's; defaults are the paper's)."""

    seed: int = 0  # draws the tone's phase and the networks' initialisation
    freq_hz: float = 23.0
    n_samples: int = 256  # full grid; training uses every `train_stride`-th sample
    train_stride: int = 2
    steps: int = 2000  # full-batch Adam steps at `learning_rate`
    learning_rate: float = 1e-4
    ffn_frequencies: int = 64  # T: the FFN maps r to 2T = 128 features
    ffn_hidden: tuple[int, ...] = (128,)

    def __post_init__(self):
        validate_config(self)


def over_seeds(one_seed, config, *, progress: bool) -> tuple[dict, dict]:
    """`one_seed(config, seed, progress=...) -> (numbers, arrays)` for seeds seed … seed + n_seeds − 1: the first
    seed's numbers and arrays (what the plots draw), with every seed's training PSNR and alias level per model
    (`per_seed[tag][quantity]`, the claims' replicates) and the seeds (`seeds`)."""
    numbers, arrays = one_seed(config, config.seed, progress=progress)
    runs = [numbers] + [one_seed(config, config.seed + i, progress=progress)[0] for i in range(1, config.n_seeds)]
    numbers["seeds"] = [config.seed + i for i in range(config.n_seeds)]
    numbers["per_seed"] = {tag: {q: [run["models"][tag][q] for run in runs] for q in ("train_psnr_db", "alias_below_signal_db")}
                           for tag in numbers["models"]}  # fmt: skip
    return numbers, arrays


def alias_hz(config: ToneStudy) -> float:
    """The frequency that coincides with -freq_hz on the training grid (fs_train - freq_hz): 105 Hz."""
    return config.n_samples / config.train_stride - config.freq_hz


@dataclasses.dataclass(frozen=True)
class Tone:
    """One seeded instance of the problem: the phase, the full grid and the training samples."""

    phase: float
    r: np.ndarray  # (n,) full grid
    target: np.ndarray  # (n,)
    r_train: np.ndarray  # (n / stride,)
    target_train: np.ndarray


def tone(config: ToneStudy, phase_key) -> Tone:
    """The tone with phase ~ U(0, 2π) drawn from `phase_key`."""
    phase = float(jax.random.uniform(phase_key, (), minval=0.0, maxval=2 * np.pi))
    r, target = data.tone(config.freq_hz, config.n_samples, phase)
    return Tone(phase, r, target, r[:: config.train_stride], target[:: config.train_stride])


def ffn(config: ToneStudy, sigma: float | jax.Array, frequency_key, init_key) -> FFN:
    """The FFN of comparable size: B = sigma N(0, 1) from `frequency_key` (so every sigma of one key shares the
    normal draw), hidden `ffn_hidden`, one output. `sigma` may be a traced scalar (models built under a vmap)."""
    B = sigma * gaussian_frequencies(frequency_key, config.ffn_frequencies, 1, 1.0)
    return FFN(B, config.ffn_hidden, 1, key=init_key)


def alias_numbers(full: np.ndarray, problem: Tone, config: ToneStudy) -> dict:
    """Training and full-grid PSNR, and the signal/alias levels (dB) of a prediction on the full grid."""
    alias = alias_hz(config)
    levels = spectrum.tone_levels_db(full, (config.freq_hz, alias))
    train = full[:: config.train_stride]
    return {
        "train_psnr_db": float(psnr_db(np.mean((train - problem.target_train) ** 2))),
        "full_grid_psnr_db": float(psnr_db(np.mean((full - problem.target) ** 2))),
        "psnr_protocol": f"train = the {train.size} even-indexed samples; full grid = all {full.size} samples",
        "level_signal_db": levels[config.freq_hz],
        "level_alias_db": levels[alias],
        "alias_below_signal_db": levels[config.freq_hz] - levels[alias],
    }

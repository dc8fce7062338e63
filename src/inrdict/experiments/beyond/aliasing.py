"""Aliasing as a curve (not in the paper; SPEC §7): where does the 105 Hz alias of Figs. 3 and 9 set in?

Fig. 3's problem (`studies.tones`: a 23 Hz sine, trained on the 128 even-indexed of 256 samples, 2000 full-batch Adam steps
at lr 1e-4) fitted by SIRENs 1 → 128 → 128 → 1 ("fit" convention, hidden ω0 = 30) over a range of first ω0, and by
the FFN of comparable size (64 frequencies B = σ N(0, 1), hidden 128, → 1) over a range of σ. For each knob value
and seed: the level of the ±105 Hz alias below the ±23 Hz peak on the 256-point grid (dB). Each seed draws the
tone's phase and one initialisation shared by every knob value (a SIREN's weights do not depend on its first ω0;
an FFN's B = σ B0 shares B0), so along a curve only the knob changes.

The crossover is the first knob value where the seed-mean alias is within `threshold_db` (30 dB) of the peak,
interpolated linearly in log(knob) between the last value above and the first below the threshold — counting only
knob values whose networks fit the training samples (every seed's training PSNR ≥ `fit_psnr_db`, Fig. 3's
precondition). Networks that do not fit have a weak 23 Hz peak, so their alias is "within 30 dB" of it without any
aliasing: with the paper's 2000 steps at lr 1e-4, the FFN of comparable size does not fit the tone for σ ≲ 3 (its
mapping reaches ~3σ Hz and its ReLU must build 23 Hz from harmonics), and those points are drawn hollow.

The fits are tiny and dispatch-bound, so the networks of all seeds (SIREN: per ω0, a static setting) or of all
seeds and σ at once (FFN) are built with `eqx.filter_vmap` and trained together by one vmapped `fit_steps` scan.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict.errors import DivergenceError, InrdictError
from inrdict.experiments.studies import tones as _tones
from inrdict.models import Siren
from inrdict.train.fit import encode_inputs, fit_steps, init_state
from inrdict.train.optim import adam

NAME = "aliasing"
TITLE = "Aliasing as a curve: the 105 Hz alias level against SIREN first ω0 and FFN σ, with the crossover values"
DEFAULT_SECONDS = 20
FAMILIES = ("siren", "ffn")
KNOB = {"siren": "first ω0", "ffn": "σ"}


@dataclasses.dataclass(frozen=True)
class Config(_tones.ToneStudy):
    """Aliasing-curve settings (the `paper` preset is the dense version: the paper has no such curve)."""

    siren_omega0s: tuple[float, ...] = (10.0, 15.0, 20.0, 30.0, 40.0, 60.0, 80.0, 100.0, 150.0, 200.0, 300.0, 400.0)
    siren_hidden: tuple[int, ...] = (128, 128)
    hidden_omega0: float = 30.0
    ffn_sigmas: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 20.0, 30.0, 50.0, 70.0, 100.0, 150.0)
    n_seeds: int = 5
    threshold_db: float = 30.0  # "aliasing": the alias within this many dB of the signal peak
    fit_psnr_db: float = 30.0  # a knob value counts only if every seed fits the training samples this well

    def __post_init__(self):
        super().__post_init__()
        for name in ("siren_omega0s", "ffn_sigmas"):
            values = getattr(self, name)
            if len(values) < 2 or list(values) != sorted(set(values)):
                raise InrdictError(f"{name} must hold at least two increasing values, got {values}")


PAPER = Config()
DEFAULT = dataclasses.replace(PAPER, siren_omega0s=(10.0, 30.0, 100.0, 200.0, 400.0),
                              ffn_sigmas=(1.0, 3.0, 10.0, 30.0, 100.0, 150.0), n_seeds=3)  # fmt: skip
"""2-CPU preset: 5 ω0 and 6 σ values, 3 seeds each, same training as the paper preset (12 ω0 and σ, 5 seeds)."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


@eqx.filter_jit
def _fit_batch(models, r_train, targets, steps: int, learning_rate: float):
    """Train a batch of models (arrays with a leading model axis) on their targets (m, n, 1) together; returns the
    trained batch and each model's loss before every update (m, steps)."""
    optimizer = adam(learning_rate)

    def one(model, target):
        state, frozen = init_state(model, optimizer)
        state, losses = fit_steps(state, frozen, encode_inputs(model, r_train), target, steps, optimizer)
        return eqx.combine(state.params, frozen), losses

    return eqx.filter_vmap(one)(models, targets)


@eqx.filter_jit
def _predict_batch(models, r):
    return eqx.filter_vmap(lambda model: jax.vmap(model)(r)[:, 0])(models)  # (m, n)


def _train(models, tones: list[_tones.Tone], config: Config, label: str) -> np.ndarray:
    """Fit the batch; the full-grid predictions (m, n). Raises `DivergenceError` if a loss is not finite."""
    r_train = jnp.asarray(tones[0].r_train)[:, None]
    targets = jnp.asarray(np.stack([t.target_train for t in tones]))[:, :, None]
    trained, losses = _fit_batch(models, r_train, targets, config.steps, float(config.learning_rate))
    if not np.all(np.isfinite(np.asarray(losses))):
        raise DivergenceError(f"aliasing {label}: the loss became non-finite: lower the learning rate")
    return np.asarray(_predict_batch(trained, jnp.asarray(tones[0].r)[:, None]))


def crossover(knobs, alias_below_db, threshold_db: float, fitted=None) -> float | None:
    """First knob where `alias_below_db` < threshold, interpolated linearly in log(knob) from the previous knob,
    among the knobs marked `fitted` (all by default); None when the first of them already aliases or none does."""
    points = [(k, a) for k, a, ok in zip(knobs, alias_below_db, fitted or [True] * len(knobs)) if ok]
    below = [i for i, (_, level) in enumerate(points) if level < threshold_db]
    if not below or below[0] == 0:
        return None
    (k0, a0), (k1, a1) = points[below[0] - 1], points[below[0]]
    t = (a0 - threshold_db) / (a0 - a1)
    return float(math.exp(math.log(k0) + t * (math.log(k1) - math.log(k0))))


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    seed_keys = [jax.random.split(jax.random.fold_in(jax.random.key(config.seed), s), 3) for s in range(config.n_seeds)]
    tones = [_tones.tone(config, keys[0]) for keys in seed_keys]
    init_keys = jnp.stack([keys[2] for keys in seed_keys])
    levels = {family: np.zeros((len(knobs), config.n_seeds)) for family, knobs in
              (("siren", config.siren_omega0s), ("ffn", config.ffn_sigmas))}  # fmt: skip
    train_psnr = {family: np.zeros_like(level) for family, level in levels.items()}
    seconds = {}

    def record(family: str, index: int, predictions: np.ndarray, seed_tones: list[_tones.Tone]) -> None:
        for seed, (full, problem) in enumerate(zip(predictions, seed_tones)):
            entry = _tones.alias_numbers(full, problem, config)
            levels[family][index, seed] = entry["alias_below_signal_db"]
            train_psnr[family][index, seed] = entry["train_psnr_db"]

    start = time.perf_counter()
    for index, omega0 in enumerate(config.siren_omega0s):
        models = eqx.filter_vmap(lambda key, omega0=omega0: Siren(
            1, config.siren_hidden, 1, first_omega0=omega0, hidden_omega0=config.hidden_omega0, convention="fit", key=key,
        ))(init_keys)  # fmt: skip
        record("siren", index, _train(models, tones, config, f"SIREN ω0={omega0:g}"), tones)
        if progress:
            print(f"  aliasing: SIREN ω0 = {omega0:g} done ({time.perf_counter() - start:.0f} s)", flush=True)
    seconds["siren"] = time.perf_counter() - start

    start = time.perf_counter()
    grid = [(i, s) for i in range(len(config.ffn_sigmas)) for s in range(config.n_seeds)]  # every (σ, seed) at once
    sigmas = jnp.asarray([config.ffn_sigmas[i] for i, _ in grid], jnp.float32)
    frequency_keys = jnp.stack([seed_keys[s][1] for _, s in grid])
    models = eqx.filter_vmap(lambda sigma, fkey, ikey: _tones.ffn(config, sigma, fkey, ikey))(
        sigmas, frequency_keys, init_keys[jnp.asarray([s for _, s in grid])]
    )
    predictions = _train(models, [tones[s] for _, s in grid], config, "FFN")
    for index in range(len(config.ffn_sigmas)):
        rows = [row for row, (i, _) in enumerate(grid) if i == index]
        record("ffn", index, predictions[rows], [tones[grid[row][1]] for row in rows])
    seconds["ffn"] = time.perf_counter() - start

    return _summary(config, tones, levels, train_psnr, seconds)


def _summary(config: Config, tones: list[_tones.Tone], levels: dict, train_psnr: dict, seconds: dict) -> tuple:
    """(numbers, arrays): per family and knob the alias level (mean and spread over seeds), whether the training
    samples were fitted, the crossover knob (of the mean and per seed) and the fit time."""
    numbers: dict = {"alias_hz": _tones.alias_hz(config), "threshold_db": config.threshold_db,
                     "phases_rad": [t.phase for t in tones], "families": {}}  # fmt: skip
    arrays: dict[str, np.ndarray] = {}
    for family, knobs in (("siren", config.siren_omega0s), ("ffn", config.ffn_sigmas)):
        mean = levels[family].mean(axis=1)
        fitted = (train_psnr[family].min(axis=1) >= config.fit_psnr_db).tolist()
        numbers["families"][family] = {
            "knob": KNOB[family],
            "knobs": list(knobs),
            "alias_below_signal_db_mean": mean.tolist(),
            "alias_below_signal_db_std": levels[family].std(axis=1).tolist(),
            "train_psnr_db_min": train_psnr[family].min(axis=1).tolist(),
            "fits_training_samples": fitted,
            "crossover": crossover(knobs, mean.tolist(), config.threshold_db, fitted),
            "crossover_per_seed": [
                crossover(knobs, column.tolist(), config.threshold_db, fitted) for column in levels[family].T
            ],
            "fit_seconds": seconds[family],
        }
        arrays[f"{family}_knobs"] = np.asarray(knobs)
        arrays[f"{family}_alias_below_signal_db"] = levels[family]  # (knobs, seeds)
        arrays[f"{family}_train_psnr_db"] = train_psnr[family]
    return numbers, arrays


FIGURE_BOUNDS = {"siren": (30.0, 300.0), "ffn": (3.0, 100.0)}
"""Figs. 3 and 9: no alias at ω0 = 30 / σ = 3, an alias at ω0 = 300 / σ = 100, so the crossover lies between."""


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """Per seed (thresholds in the ledger): whether aliasing sets in inside each swept range (1 where the seed's
    curve crosses `threshold_db` at a fitted knob, else 0); how far inside the interval between the values of
    Figs. 3 and 9 its crossover lies (min(log10(c/low), log10(high/c)); 0 where no crossover is found)."""
    out = {}
    for family, n in numbers["families"].items():
        per_seed = n["crossover_per_seed"]
        out[f"{family}_aliasing_sets_in_inside_the_sweep"] = [float(c is not None) for c in per_seed]
        low, high = FIGURE_BOUNDS[family]
        out[f"{family}_crossover_between_{low:g}_and_{high:g}"] = [
            0.0 if c is None else float(min(np.log10(c / low), np.log10(high / c))) for c in per_seed
        ]
    return out


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """A crossover, when found, is interpolated between two swept knobs: it lies inside the range by construction."""
    return {f"{family}_crossover_inside_range": n["crossover"] is None or n["knobs"][0] <= n["crossover"] <= n["knobs"][-1]
            for family, n in numbers["families"].items()}  # fmt: skip


def versus_paper(numbers: dict, config: Config) -> list[dict]:
    """No such curve in the paper; Figs. 3 and 9 say the crossover lies between ω0 = 30 and 300, σ = 3 and 100."""
    expected = {family: f"between {low:g} and {high:g} (Fig. {3 if family == 'siren' else 9})"
                for family, (low, high) in FIGURE_BOUNDS.items()}  # fmt: skip
    return [{"quantity": f"crossover {n['knob']} (alias within {numbers['threshold_db']:g} dB of the peak)",
             "ours": n["crossover"], "paper": expected[family], "unit": ""}
            for family, n in numbers["families"].items()]  # fmt: skip


def summary(numbers: dict) -> list[tuple[str, str]]:
    rows = []
    for family, n in numbers["families"].items():
        curve = "  ".join(f"{k:g}: {a:5.1f}" for k, a in zip(n["knobs"], n["alias_below_signal_db_mean"]))
        where = "none in range" if n["crossover"] is None else f"{n['crossover']:.3g}"
        rows.append((f"{family.upper()} {n['knob']}", f"crossover {where}   alias below peak (dB, seed mean): {curve}"))
    return rows


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """Alias level below the peak against each knob (log axis): seeds as dots, the mean as a line, the threshold
    and the crossover marked."""
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    threshold = numbers["threshold_db"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (family, n) in zip(axes, numbers["families"].items()):
        knobs, levels = arrays[f"{family}_knobs"], arrays[f"{family}_alias_below_signal_db"]
        fitted = np.asarray(n["fits_training_samples"], bool)
        for seed in range(levels.shape[1]):
            ax.semilogx(knobs, levels[:, seed], "o", color="grey", alpha=0.5, label="seeds" if seed == 0 else None)
        ax.semilogx(knobs, levels.mean(axis=1), "-", color="darkred", linewidth=2, label="mean over seeds")
        if not fitted.all():
            ax.semilogx(
                knobs[~fitted],
                levels.mean(axis=1)[~fitted],
                "o",
                markerfacecolor="none",
                markersize=10,
                color="darkred",
                label=f"does not fit the samples (train PSNR < {results['config']['fit_psnr_db']:g} dB)",
            )
        ax.axhline(threshold, color="black", linestyle=":", label=f"{threshold:g} dB below the peak")
        if n["crossover"] is not None:
            ax.axvline(
                n["crossover"], color="steelblue", linestyle="--", label=f"crossover {n['knob']} ≈ {n['crossover']:.3g}"
            )
        ax.set_xlabel(f"{'SIREN' if family == 'siren' else 'FFN'} {n['knob']}")
        ax.set_ylabel(f"{numbers['alias_hz']:g} Hz alias below the {results['config']['freq_hz']:g} Hz peak (dB)")
        ax.legend(fontsize=8)
    config = results["config"]
    n_train = -(-config["n_samples"] // config["train_stride"])
    fig.suptitle(
        f"Where aliasing sets in: a {config['freq_hz']:g} Hz tone trained on {n_train} of {config['n_samples']} "
        f"samples (stride {config['train_stride']}), evaluated on all (lower = more aliasing)"
    )
    fig.tight_layout()
    save(fig, out_dir, "overview")

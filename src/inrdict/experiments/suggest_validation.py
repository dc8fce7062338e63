"""How good is `inrdict suggest`? Its choice of the frequency knob against a trained grid search, on images that
played no part in designing it: the regret in dB and the compute saved.

For each family (SIREN ω0, FFN σ, Gauss s by default) and each image — scikit-image's bundled images other than the
five the tool was designed on (`inrdict.io.data.BUNDLED_IMAGES[5:]`) and held-out LFW faces, each centre-cropped
and resized to size² grayscale:

* **grid search**: every knob value of the family's grid (`inrdict.analysis.suggest.default_values`) trained from
  its initialisation with Adam at the family's authors' learning rate (`LEARNING_RATES`, the same for every knob)
  for `train_steps` full-batch steps on a seeded half of the pixels; score = PSNR on the other half;
* **suggestion**: `suggest(family, image)` (NTK at initialisation on four 32² windows, linearised GD, the same
  grid searched coarse to fine: 9 of its 13 values scored), timed per image;
* regret = best trained PSNR − trained PSNR at the suggested value; compute ratio = grid-search seconds per image
  (all knob values) / suggestion seconds (median over images; the first image also pays compilation).

Claims (recorded whatever they show; the goal set in the issue): the median regret is at most 1 dB, and the
suggestion costs at least 10x less than the grid search — per family.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from inrdict._keys import model_key
from inrdict.analysis import suggest as knob_suggest
from inrdict.analysis.learnability import pixel_mask
from inrdict.errors import InrdictError
from inrdict.experiments._run import validate_config
from inrdict.io import data
from inrdict.io.datasets import held_out_faces
from inrdict.models import make_model, on_reference_domain
from inrdict.train.finetune import finetune

NAME = "suggest_validation"
TITLE = "`inrdict suggest` against a trained grid search on unseen images: regret (dB) and compute ratio"
DEFAULT_SECONDS = 2910  # measured 2907 s (2026-12-04) on the 2-core machine, shared with the test suite
IN_REPRODUCE = False  # a validation sweep: `inrdict figure regret`
VALIDATION_IMAGES = tuple(n for n in data.BUNDLED_IMAGES[5:] if n != "retina")  # retina: 1411² RGB, slow to load
LEARNING_RATES = {  # the authors' Adam learning rates for image fitting
    "siren": 1e-4,  # Sitzmann et al. 2020, image fitting (explore_siren.ipynb: lr=1e-4)
    "ffn": 1e-3,  # Tancik et al. 2020, 2-D image regression (their notebook: Adam 1e-3)
    "gauss": 5e-3,  # liuzhen0212/FINER run_gauss.sh (lr 5e-3)
    "wire": 5e-3,  # vishwa91/wire wire_image_denoise.py (5e-3)
    "finer": 5e-4,  # liuzhen0212/FINER run_finer.sh
}
_SHARED = (
    "(2026-12-04 run, 13-value grid, the suggestion's coarse-to-fine search scoring 9; the machine was shared "
    "with the test suite and other jobs for the whole run, unevenly, so the timings are rough)"
)
REGRET_GOAL_DB = 1.0
COMPUTE_GOAL = 10.0


@dataclasses.dataclass(frozen=True)
class Config:
    """Validation settings."""

    families: tuple[str, ...] = ("siren", "ffn", "gauss")
    images: tuple[str, ...] = VALIDATION_IMAGES
    n_faces: int = 3  # held-out LFW faces added to the images
    size: int = 64
    hidden: tuple[int, ...] = (64, 64, 64)
    train_steps: int = 300
    window: int = 32
    windows: int = 4
    suggest_steps: int = knob_suggest.DEFAULT_STEPS
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        for family in self.families:
            knob_suggest.knob_of(family)
            if family not in LEARNING_RATES:
                raise InrdictError(f"no reference learning rate for {family}: choose from {', '.join(LEARNING_RATES)}")
        unknown = [n for n in self.images if n not in data.BUNDLED_IMAGES]
        if unknown:
            raise InrdictError(f"unknown bundled images {unknown}: choose from {', '.join(data.BUNDLED_IMAGES)}")
        designed = set(self.images) & set(data.BUNDLED_IMAGES[:5])
        if designed:
            raise InrdictError(f"{sorted(designed)} were used to design the tool: validate on other images")
        if len(self.images) + self.n_faces < 2:
            raise InrdictError("validate on at least two images")


DEFAULT = Config()
"""14 bundled images (`VALIDATION_IMAGES`: the 15 after the design five, less retina) + 3 faces at 64², SIREN / FFN / Gauss
2 → 64 ×3 → 1, 300 Adam steps per knob value."""
PRESETS = {"paper": DEFAULT, "default": DEFAULT}


def _images(config: Config) -> tuple[list[str], np.ndarray]:
    names = list(config.images)
    images = [data.resize(data.center_crop(data.bundled_image(n)), config.size) for n in names]
    if config.n_faces:
        _, faces = held_out_faces("lfw", config.size, None, config.seed, config.n_faces)
        images += list(faces.reshape(-1, config.size, config.size))
        names += [f"lfw face {i}" for i in range(len(faces))]
    return names, np.stack(images).astype(np.float32)


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    names, images = _images(config)
    points = data.ntk_grid(config.size)
    mask = pixel_mask(config.size**2, config.seed)
    flat = images.reshape(len(images), -1)
    families, arrays = {}, {}
    for family in config.families:
        knob, values = knob_suggest.knob_of(family), knob_suggest.default_values(family)
        if progress:
            print(f"  {family}: grid search over {knob} ∈ {values.tolist()} on {len(names)} images", flush=True)
        start = time.perf_counter()
        trained = np.empty((len(names), values.size))
        for j, value in enumerate(values):
            model = on_reference_domain(family, make_model(family, 2, config.hidden, 1, key=model_key(family, config.seed),
                                                           **{knob: float(value)}))  # fmt: skip
            result = finetune(model, points, flat, mask, iterations=config.train_steps, optimizer="adam",
                              learning_rate=LEARNING_RATES[family])  # fmt: skip
            trained[:, j] = result.test_psnr_db[:, -1]
        grid_seconds = time.perf_counter() - start
        suggested, seconds, scores = [], [], np.full((len(names), values.size), np.nan)  # NaN: not scored
        for i, image in enumerate(images):
            found = knob_suggest.suggest(family, image, size=config.size, window=config.window, windows=config.windows,
                                         steps=config.suggest_steps, hidden=config.hidden, seed=config.seed)  # fmt: skip
            assert np.array_equal(found.candidates, values)  # the suggestion searches the grid trained here
            suggested.append(int(np.searchsorted(values, found.value)))
            seconds.append(found.seconds)
            scores[i, np.searchsorted(values, found.values)] = found.mean_scores
        chosen = np.asarray(suggested)
        regret = trained.max(axis=1) - trained[np.arange(len(names)), chosen]
        per_image_grid = grid_seconds / len(names)
        families[family] = {
            "knob": knob, "values": values.tolist(), "learning_rate": LEARNING_RATES[family],
            "trained_held_out_psnr_db": trained.tolist(), "best_value": values[trained.argmax(axis=1)].tolist(),
            "suggested_value": values[chosen].tolist(), "regret_db": regret.tolist(),
            "median_regret_db": float(np.median(regret)), "mean_regret_db": float(regret.mean()),
            "max_regret_db": float(regret.max()), "regret_within_1db": int(np.sum(regret <= REGRET_GOAL_DB)),
            "values_scored_per_image": int(np.isfinite(scores).sum(axis=1).max()),
            "spearman_predicted_vs_trained": [_spearman(p[np.isfinite(p)], t[np.isfinite(p)])
                                              for p, t in zip(scores, trained)],  # over the values scored
            "grid_seconds_per_image": per_image_grid, "suggest_seconds": seconds,
            "suggest_seconds_median": float(np.median(seconds)),
            "compute_ratio": float(per_image_grid / np.median(seconds)),
        }  # fmt: skip
        arrays[f"{family}_trained"], arrays[f"{family}_predicted"] = trained, scores
    numbers = {"images": names, "families": families, "protocol": {
        "train": "Adam at the family's reference lr, full batch on a seeded 50 % of the pixels",
        "score": f"PSNR on the held-out 50 % after {config.train_steps} steps", "hidden": list(config.hidden),
        "designed_on": list(data.BUNDLED_IMAGES[:5])}}  # fmt: skip
    return numbers, arrays


def _spearman(x, y) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1]) if np.std(rx) and np.std(ry) else float("nan")


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """Per family (thresholds in the ledger): the median regret (dB) and the compute ratio of the grid search to
    the suggestion."""
    result = {}
    for family, f in numbers["families"].items():
        result[f"{family}_median_regret_at_most_{REGRET_GOAL_DB:g}db"] = f["median_regret_db"]
        result[f"{family}_suggestion_at_least_{COMPUTE_GOAL:g}x_cheaper"] = f["compute_ratio"]
    return result


def summary(numbers: dict) -> list[tuple[str, str]]:
    return [(family, (f"median regret {f['median_regret_db']:.2f} dB (mean {f['mean_regret_db']:.2f}, max "
                     f"{f['max_regret_db']:.2f}; {f['regret_within_1db']}/{len(f['regret_db'])} within 1 dB), "
                     f"compute ratio {f['compute_ratio']:.1f}x"))
            for family, f in numbers["families"].items()]  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    families = list(numbers["families"])
    fig, axes = plt.subplots(2, len(families), figsize=(4.6 * len(families), 7.5), squeeze=False)
    for column, family in enumerate(families):
        f = numbers["families"][family]
        values, trained = np.asarray(f["values"]), arrays[f"{family}_trained"]
        ax = axes[0, column]
        for row in trained:
            ax.semilogx(values, row, color="grey", alpha=0.35, linewidth=0.8)
        ax.semilogx(values, trained.mean(axis=0), marker="o", color="k", label="trained, mean over images")
        for value in f["suggested_value"]:
            ax.axvline(value, color="darkred", alpha=0.15)
        ax.xaxis.set_minor_formatter(plt.NullFormatter())  # log axis: label the grid values only
        ax.set_xticks(values, [f"{v:g}" for v in values], fontsize=7)
        ax.set(xlabel=f"{family} {f['knob']}", ylabel="held-out PSNR after training (dB)",
               title=f"{family}: grid search (lr {f['learning_rate']:g}); red: suggestions")  # fmt: skip
        ax.legend(fontsize=8)
        ax = axes[1, column]
        regret = np.asarray(f["regret_db"])
        ax.bar(np.arange(regret.size), regret, color="darkred")
        ax.axhline(f["median_regret_db"], color="k", linestyle=":", label=f"median {f['median_regret_db']:.2f} dB")
        ax.set_xticks(np.arange(regret.size), numbers["images"], rotation=70, fontsize=7)
        ax.set(ylabel="regret (dB)", title=f"compute ratio {f['compute_ratio']:.1f}x")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out_dir, "overview")

"""Figure 10 — learning curves: mean held-out and training PSNR over fine-tuning iterations 0–10.

The rows of Fig. 4 (ReLU, SIREN ω0 = 5…100, the meta-learned SIREN), fine-tuned on the held-out faces with the
protocol of `studies.learnability` (one shared 50 % pixel mask; Adam lr 1e-4 for random initialisations, GD lr 1e-2 for
the meta-learned one). The curves are the same computation as Fig. 4's legend (shared through the cache): here
the whole trajectory is drawn, mean over images and seeds with the spread over seeds shaded.

Claims (recorded): the meta-learned SIREN leads at every iteration ≥ 1 on held-out pixels; among random SIRENs the
ordering at iteration 10 agrees with the ordering at iteration 3 (Spearman ≥ 0.7), i.e. PSNR@3 ranks the rows as
the longer curve does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.stats

from inrdict.experiments.studies import learnability as study

NAME = "figure_10"
TITLE = "Fine-tuning curves (held-out and training PSNR, iterations 0–10) of Fig. 4's rows"
DEFAULT_SECONDS = 5
REQUIRES = ("meta",)


Config = study.SirenSweep
PRESETS = study.sweep_presets(Config)  # default: seconds once Fig. 4 has run (the curves come from the cache)
PAPER, DEFAULT = PRESETS["paper"], PRESETS["default"]


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    numbers, arrays = study.run_study(study.siren_sweep_rows(config, progress=progress), config, progress=progress)
    sirens = [m for label, m in numbers["models"].items() if label.startswith("SIREN")]
    at_k = [m["test_psnr_curve"][config.psnr_iteration] for m in sirens]
    at_end = [m["test_psnr_curve"][-1] for m in sirens]
    defined = len(sirens) > 2 and config.iterations > config.psnr_iteration  # else a list against itself: +1
    numbers["spearman_psnr_at_k_vs_at_end_sirens"] = (
        float(scipy.stats.spearmanr(at_k, at_end).statistic) if defined else float("nan")
    )
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """The metrics (thresholds in the ledger), on the seed-mean curves: Spearman of PSNR@k with the last
    iteration's PSNR across the SIRENs (only when the curve runs past k: at `iterations == psnr_iteration` it would
    be a list's Spearman with itself, so it is not measured); the meta SIREN's smallest lead over the best other row
    across iterations 1 … end (dB)."""
    models = numbers["models"]
    result = {}
    if config.iterations > config.psnr_iteration:
        result["psnr_at_k_ranks_sirens_as_at_the_end"] = numbers["spearman_psnr_at_k_vs_at_end_sirens"]
    if "Meta SIREN" in models:
        meta = np.asarray(models["Meta SIREN"]["test_psnr_curve"])[1:]
        others = np.max(
            [np.asarray(m["test_psnr_curve"])[1:] for label, m in models.items() if label != "Meta SIREN"], axis=0
        )
        result["meta_leads_at_every_iteration"] = float(np.min(meta - others))
    return result


sanity = study.sanity


def summary(numbers: dict) -> list[tuple[str, str]]:
    k = numbers["psnr_iteration"]
    rows = [(label, "held-out PSNR by iteration: " + " ".join(f"{v:5.2f}" for v in m["test_psnr_curve"][:: max(1, k)]))
            for label, m in numbers["models"].items()]  # fmt: skip
    rows.append(
        (
            "Spearman",
            f"SIRENs' PSNR@{k} vs PSNR at the last iteration: {numbers['spearman_psnr_at_k_vs_at_end_sirens']:.3f}",
        )
    )
    return rows


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    from inrdict.plotting import plt, psnr_curves, save

    numbers = results["numbers"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    psnr_curves(axes[0], numbers, "test", f"held-out pixels ({numbers['n_test_images']} faces)")
    psnr_curves(axes[1], numbers, "train", "training pixels")
    axes[1].legend(loc=(1.01, 0.0), fontsize=7)
    fig.suptitle(
        "Fig. 10 — PSNR over fine-tuning iterations (mean over images and seeds; shaded: ± std over seeds)", fontsize=10
    )
    fig.tight_layout()
    save(fig, out_dir, "overview")

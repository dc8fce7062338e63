"""Figure 14 — fine-tuning curves of the pretrained, random and meta-learned SIRENs (iterations 0–10).

The rows and protocol of Fig. 13 (the same computation, shared through the cache): mean held-out and training
PSNR over fine-tuning iterations 0 … 10 on the held-out faces; shaded, the spread (± std) over the 3 pretraining
images of each pretrained row (and over seeds for the random SIREN-30).

Claims (recorded): the meta SIREN leads every pretrained initialisation at every iteration ≥ 1 on held-out pixels;
the held-out PSNR after the last iteration falls as pretraining grows (random → 5 → 50 → long).

Measured (default preset, held-out PSNR after 10 iterations): random 24.67, 5 it 24.54, 50 it 24.92, 500 it 25.03,
meta 25.37 dB — the meta SIREN leads throughout, the pretrained rows catch up with the random one by iteration 10;
with the 5000-step run (preset "long") that row stays behind: 23.68 dB.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from inrdict.experiments._run import claim_slug
from inrdict.experiments.studies import learnability as study
from inrdict.experiments.studies import pretrained as pre

NAME = "figure_14"
TITLE = (
    "Fine-tuning curves (held-out and training PSNR, iterations 0–10) of Fig. 13's pretrained, random and meta SIRENs"
)
DEFAULT_SECONDS = 5
REQUIRES = ("meta", "pretrain")


@dataclasses.dataclass(frozen=True)
class Config(pre.PretrainStudy):
    """Figure 14 settings; defaults are the paper's (100 CelebA test faces at 64², pretraining 5 / 50 / 5000 steps)."""


PAPER = Config()
DEFAULT = dataclasses.replace(
    PAPER, dataset="lfw", grid_size=32, meta_preset="default", pretrain_preset="default", n_seeds=3
)
"""2-CPU preset (seconds once Fig. 13 has run: the curves come from the cache): Fig. 13's default rows and faces."""
LONG = dataclasses.replace(DEFAULT, pretrain_preset="long")
"""The default with the 5000-step pretraining (its artefact takes ≈ 8 min to learn, once)."""
GD = dataclasses.replace(DEFAULT, pretrained_protocol="gd")
"""The default with the pretrained rows fine-tuned like the meta-learned one (GD lr 1e-2): Appendix E.4's "the same
pipeline ... instead of MAML" read as the same fine-tuning too."""
LONG_GD = dataclasses.replace(LONG, pretrained_protocol="gd")
"""The 5000-step pretraining, fine-tuned with GD lr 1e-2."""
PRESETS = {"paper": PAPER, "default": DEFAULT, "long": LONG, "gd": GD, "long_gd": LONG_GD}


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    numbers, arrays = pre.run_pretrain_study(config, progress=progress)
    sequence = pre.duration_sequence(numbers)
    numbers["held_out_psnr_at_last_iteration_by_pretraining"] = [float(m["test_psnr_curve"][-1]) for m in sequence]
    numbers["held_out_psnr_at_start_by_pretraining"] = [float(m["test_psnr_curve"][0]) for m in sequence]
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """On the seed- and face-mean curves (thresholds in the ledger; per-seed curves are not kept, so n = 1): the
    largest step of the held-out PSNR at the last iteration along random → 5 → 50 → long; each meta row's smallest
    lead over the best pretrained row across iterations 1 … end (dB)."""
    result = {"held_out_psnr_at_last_iteration_falls_as_pretraining_grows":
              pre.largest_step(numbers["held_out_psnr_at_last_iteration_by_pretraining"])}  # fmt: skip
    pretrained = [
        np.asarray(numbers["models"][label]["test_psnr_curve"])[1:] for label in numbers["pretraining"]["labels"]
    ]
    for label in pre.meta_labels(numbers):
        meta = np.asarray(numbers["models"][label]["test_psnr_curve"])[1:]
        slug = claim_slug(label, short_meta=True)
        result[f"{slug}_leads_every_pretrained_at_every_iteration"] = float(np.min(meta - np.max(pretrained, axis=0)))
    return result


sanity = study.sanity


def summary(numbers: dict) -> list[tuple[str, str]]:
    k = numbers["psnr_iteration"]
    rows = []
    for label, m in numbers["models"].items():
        curve, last = np.asarray(m["test_psnr_curve"]), len(m["test_psnr_curve"]) - 1
        spread = f"  (± {np.mean(m['test_psnr_curve_seed_std']):.2f} over {m['n_seeds']})" if m["n_seeds"] > 1 else ""
        rows.append(
            (
                label,
                f"held-out PSNR after 0 / {k} / {last} iterations: {curve[0]:5.2f} / {curve[k]:5.2f} / {curve[-1]:5.2f} dB{spread}",
            )
        )
    return [*rows, ("spread", numbers["pretraining"]["spread"])]


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    from inrdict.plotting import plt, psnr_curves, save

    numbers = results["numbers"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, (which, pixels) in zip(
        axes, (("test", f"held-out pixels ({numbers['n_test_images']} faces)"), ("train", "training pixels"))
    ):
        psnr_curves(ax, numbers, which, pixels)
    axes[1].legend(loc=(1.01, 0.0), fontsize=7)
    fig.suptitle("Fig. 14 — PSNR over fine-tuning iterations (mean over images; shaded: ± std over the 3 pretraining "
                 "images, or over seeds)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    save(fig, out_dir, "overview")

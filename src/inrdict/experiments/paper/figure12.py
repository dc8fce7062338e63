"""Figure 12 — Fig. 4 with a Reptile-meta-learned SIREN: first-order meta-learning reshapes the NTK too.

The rows and protocol of Fig. 4 (`_learnability`), with the meta-learned row learned by Reptile (Nichol et al.
2018: the meta-learning experiment with `studies.rows.REPTILE` — the interpolation step ε = 1 and 10 inner steps,
chosen by `inrdict figure reptile` since the paper gives no settings — otherwise the same settings) instead of MAML. The paper
reports PSNR@3 = 22.81 dB for it on CelebA 64² (Fig. 12's legend; MAML: 23.06 dB in Fig. 4's).

Claims (recorded; thresholds and history in the ledger): the Reptile SIREN has the highest E(0.1) and PSNR@3 of all
rows; Spearman(E(0.1), PSNR@3) across rows ≥ 0.7. The Reptile setting was chosen (2026-12-04) by a sweep scored on
the same held-out faces these claims are judged on, so the ledger marks them post hoc: at best "reproduces only under
a named deviation" until the setting is chosen on a separate split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inrdict.experiments.studies import learnability as study
from inrdict.experiments.studies.rows import REPTILE

NAME = "figure_12"
TITLE = "Fig. 4 with a Reptile-meta-learned SIREN: E(λ) of held-out faces and PSNR@3"
DEFAULT_SECONDS = 25
REQUIRES = ("meta",)
OVERVIEW = "energy_concentration"
LABEL = "Meta SIREN (Reptile)"
# Fig. 12's own legend (CelebA 64²), not Fig. 4's: its random rows were re-run and differ in the second decimal.
PAPER_PSNR_AT_3 = {"ReLU": 9.11, "SIREN ω0=5": 13.57, "SIREN ω0=10": 15.73, "SIREN ω0=20": 17.90, "SIREN ω0=40": 18.51,
                   "SIREN ω0=60": 16.93, "SIREN ω0=80": 15.53, "SIREN ω0=100": 13.96, LABEL: 22.81}  # fmt: skip
Config = study.SirenSweep
PRESETS = study.sweep_presets(Config)  # default: ≈ 30 s (Reptile meta-learning at 32²; random rows from Fig. 4's cache)
PAPER, DEFAULT = PRESETS["paper"], PRESETS["default"]


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    rows = study.siren_sweep_rows(config, progress=progress, meta_label=LABEL, **REPTILE)
    numbers, arrays = study.run_study(rows, config, progress=progress)
    study.add_sweep_numbers(numbers, study.siren_labels(config.siren_omegas))
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """Per seed (thresholds in the ledger): Spearman(E(0.1), PSNR@k) across rows; the meta row's lead over the rest."""
    result = {"energy_predicts_learnability_spearman_ge_0.7": study.spearman_per_seed(numbers)}
    return result | study.best_row_claims(numbers, LABEL, f"psnr_at_{config.psnr_iteration}")


sanity = study.sanity
summary = study.summary


def versus_paper(numbers: dict, config: Config) -> list[dict]:
    return study.versus_paper_psnr(numbers, PAPER_PSNR_AT_3)


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    study.plot_study(results, arrays, out_dir, "Fig. 12 — NTK energy concentration, Reptile meta-learning")

"""Figure 4 — energy concentration predicts learnability: ReLU, SIREN ω0 = 5…100 and the meta-learned SIREN.

For each row the empirical NTK on the grid is fully eigendecomposed and every held-out face g (grayscale,
mean-subtracted) is projected on the eigenvectors (SPEC §4):

    E(t) = mean_g  sum_{i : λ_i / λ_0 >= t} <v_i, g>² / ||g||²,

drawn against λ_i / λ_0 on a log axis from 1 to 1e-10, with PSNR@3 in the legend: the held-out PSNR after 3
fine-tuning updates (`studies.learnability`, SPEC §7). The SIREN rows of a seed share one initialisation and differ only
in ω0 (SPEC §10); with `n_seeds` > 1 every number is a mean ± std over seeds.

Claims (recorded whatever the outcome): the meta-learned SIREN has the highest E(0.1) and the highest PSNR@3;
across all rows the Spearman rank correlation between E(0.1) and PSNR@3 is ≥ 0.7 (the paper's central claim);
E(0.1) and PSNR@3 peak at an intermediate ω0, near 40 (the paper's ω0 grid neighbours: 20 … 60).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inrdict.experiments.studies import learnability as study

NAME = "figure_4"
TITLE = "Energy concentration E(λ) of held-out faces and PSNR@3 after fine-tuning: ReLU, SIREN ω0 = 5…100, meta SIREN"
DEFAULT_SECONDS = 60
REQUIRES = ("meta",)
OVERVIEW = "energy_concentration"
# The paper's PSNR@3 (dB) on CelebA 64² (Fig. 4 legend), by row label.
PAPER_PSNR_AT_3 = {**study.PAPER_PSNR_AT_3_SWEEP, "Meta SIREN": 23.06}
Config = study.SirenSweep
PRESETS = study.sweep_presets(Config)
PAPER, DEFAULT = PRESETS["paper"], PRESETS["default"]


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    numbers, arrays = study.run_study(study.siren_sweep_rows(config, progress=progress), config, progress=progress)
    study.add_sweep_numbers(numbers, study.siren_labels(config.siren_omegas))
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """SPEC §5/§7 Fig. 4 claims as booleans (recorded whatever the outcome)."""
    return study.sweep_claims(numbers, config, "Meta SIREN")


sanity = study.sanity


def versus_paper(numbers: dict, config: Config) -> list[dict]:
    rows = study.versus_paper_psnr(numbers, PAPER_PSNR_AT_3)
    rows.append(
        {
            "quantity": "ω0 of the E(0.1) peak",
            "ours": numbers["siren_energy_at_0.1_peak_omega0"],
            "paper": 40.0,
            "unit": "",
        }
    )
    rows.append(
        {"quantity": "ω0 of the PSNR@3 peak", "ours": numbers["siren_psnr_at_k_peak_omega0"], "paper": 40.0, "unit": ""}
    )
    return rows


def summary(numbers: dict) -> list[tuple[str, str]]:
    return [
        *study.summary(numbers),
        ("SIREN peaks", (f"E(0.1) at ω0 = {numbers['siren_energy_at_0.1_peak_omega0']:g} (per seed "
                        f"{numbers['siren_energy_at_0.1_peak_omega0_per_seed']}), PSNR@{numbers['psnr_iteration']} at "
                        f"ω0 = {numbers['siren_psnr_at_k_peak_omega0']:g} (per seed {numbers['siren_psnr_at_k_peak_omega0_per_seed']}); paper: ~40")),
        ("Spearman", f"E(0.1) vs PSNR@{numbers['psnr_iteration']} across rows: {numbers['spearman_energy_at_0.1_vs_psnr_at_k']:.3f}"),
    ]  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """E(λ) curves with E(0.1) and PSNR@3 in the legend, and the E(0.1) / PSNR@3 bars with their seed spread."""
    study.plot_study(results, arrays, out_dir, "Fig. 4 — NTK energy concentration")

"""Figure 4 — NTK energy concentration of face images: omega_0 and meta-learning align the dictionary with faces.

For each model (ReLU MLP, SIREN first omega_0 ∈ {5, 10, 20, 40, 60, 80, 100}, the meta-learned SIREN, and
optionally extra weights such as the authors'), the empirical NTK on the grid is fully eigendecomposed and every
held-out face g (grayscale, mean-subtracted) is projected on the eigenvectors (SPEC §4):

    E(t) = mean_g  sum_{i : λ_i / λ_0 >= t} <v_i, g>² / ||g||².

Curves of E against λ_i / λ_0 on a log axis from 1 to 1e-10, and the E(0.1) table with its per-image spread.
NTK + eigendecomposition are cached on disk (shared with Fig. 5), in float64 by default (SPEC §4: float32 is
noise below ~1e-7 of the largest eigenvalue). The SIREN rows share one initialisation and differ only in ω0
(SPEC §10).

Claims: the meta-learned SIREN has a higher E(0.1) than every random initialisation; E(0.1) peaks at an
intermediate omega_0 (the paper: rises up to ~40, then falls) — recorded whatever the outcome.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import numpy as np

from inrdict import data
from inrdict.alignment import center_signals, cumulative_energy, energy_concentration
from inrdict.datasets import load_faces
from inrdict.experiments._rows import eigensystems, meta_rows, relu_row, siren_row
from inrdict.experiments._run import validate_config

NAME = "figure_4"
TITLE = "NTK energy concentration E(λ) of held-out faces: ReLU, SIREN ω0 = 5…100, meta-learned SIREN"
DEFAULT_SECONDS = 30
REQUIRES = ("meta",)
OVERVIEW = "energy_concentration"
THRESHOLDS = np.logspace(0, -10, 101)


@dataclasses.dataclass(frozen=True)
class Config:
    """Figure 4 settings; defaults are the paper's (CelebA test faces at 64², float64: a few minutes per model on 2 CPUs)."""

    dataset: Literal["celeba", "lfw", "folder"] = "celeba"
    data_dir: str | None = None
    grid_size: int = 64
    siren_omegas: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0)
    n_test: int = 100
    precision: Literal["float32", "float64"] = "float64"
    learned_meta: bool = True  # include the meta-learned SIREN (meta-learned first if not learned yet)
    meta_preset: Literal["paper", "default"] = "paper"  # which meta-learning preset's artefact to use
    meta_checkpoint: str | None = None  # use this checkpoint for the "Meta SIREN" row instead of the artefact
    meta_weights: str | None = None  # optional extra row, e.g. the authors' weights (checkpoint or Haiku pickle)
    seed: int = 0

    def __post_init__(self):
        validate_config(self)


PAPER = Config()
DEFAULT = dataclasses.replace(PAPER, dataset="lfw", grid_size=32, n_test=100, meta_preset="default")
"""2-CPU preset (≈ 15 s once the meta-learned SIREN exists): the 35 held-out embedded LFW faces at 32² (all that
exist) instead of 100 CelebA faces at 64²; same models, float64."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def build_models(config: Config, *, progress: bool = True) -> dict[str, object]:
    """Label → model, in figure order (the random rows from `_rows`, shared with Fig. 5, then the meta rows)."""
    models: dict[str, object] = {"ReLU": relu_row(config.seed)}
    for omega in config.siren_omegas:
        models[f"SIREN ω0={omega:g}"] = siren_row(omega, config.seed)
    return models | meta_rows(config, progress=progress)


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    faces = load_faces(config.dataset, config.grid_size, config.data_dir, config.seed)
    test = faces.test.load(range(min(config.n_test, len(faces.test))))
    signals = center_signals(test)  # (m, n*n)
    points = data.ntk_grid(config.grid_size)
    numbers: dict = {"n_test_images": len(test), "dataset": faces.name, "models": {}}
    arrays: dict[str, np.ndarray] = {"thresholds": THRESHOLDS}
    models = build_models(config, progress=progress)
    for index, name, eigvals, eigvecs, timings in eigensystems(models, points, config.precision, progress=progress):
        curves = cumulative_energy(eigvecs, signals)  # (m, n)
        e_mean, e_std = energy_concentration(eigvals, eigvecs, signals, np.append(THRESHOLDS, 0.1))
        within = int(np.sum(eigvals / eigvals[0] >= 0.1))
        per_image = curves[:, within - 1]
        tag = f"model_{index}"
        arrays[f"{tag}_normalised_eigenvalues"] = eigvals / eigvals[0]
        arrays[f"{tag}_energy_curve_mean"] = curves.mean(axis=0)
        arrays[f"{tag}_energy_curve_std"] = curves.std(axis=0)
        arrays[f"{tag}_energy_at_thresholds"] = e_mean[:-1]
        numbers["models"][name] = {
            "array_prefix": tag,
            "energy_at_0.1": float(e_mean[-1]),
            "energy_at_0.1_std": float(e_std[-1]),
            "energy_at_0.1_min": float(per_image.min()),
            "energy_at_0.1_max": float(per_image.max()),
            "eigenvalues_within_10pct": within,
            "total_energy_full_basis": float(curves[:, -1].mean()),
            **timings,
        }
    sirens = [numbers["models"][f"SIREN ω0={w:g}"]["energy_at_0.1"] for w in config.siren_omegas]
    best = int(np.argmax(sirens))
    numbers["siren_peak_omega0"] = config.siren_omegas[best]
    numbers["siren_peak_is_intermediate"] = 0 < best < len(sirens) - 1
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, bool]:
    """SPEC §5 Fig. 4: E(0.1) peaks at an intermediate ω0; the meta-learned SIREN has the highest E(0.1)."""
    models = numbers["models"]
    result = {"energy_peaks_at_intermediate_omega0": bool(numbers["siren_peak_is_intermediate"])}
    if "Meta SIREN" in models:
        random = [m["energy_at_0.1"] for name, m in models.items() if not name.startswith("Meta")]
        result["meta_has_highest_energy_at_0.1"] = models["Meta SIREN"]["energy_at_0.1"] > max(random)
    return result


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """True by construction for an orthonormal eigenbasis: the full basis holds all of every image's energy."""
    return {"full_basis_captures_all_energy": all(abs(m["total_energy_full_basis"] - 1) < 1e-6 for m in numbers["models"].values())}


def summary(numbers: dict) -> list[tuple[str, str]]:
    rows = [
        (name, f"E(0.1) = {m['energy_at_0.1']:.3f} ± {m['energy_at_0.1_std']:.3f}   "
               f"({m['eigenvalues_within_10pct']} eigenvalues within 10 %)")
        for name, m in numbers["models"].items()
    ]  # fmt: skip
    peak = "at an intermediate" if numbers["siren_peak_is_intermediate"] else "at an extreme"
    rows.append(("SIREN E(0.1) peak", f"ω0 = {numbers['siren_peak_omega0']:g} ({peak} ω0; paper: ~40)"))
    return rows


def curve_style(name: str, siren_color) -> dict:
    if name.startswith("SIREN"):
        return {"color": siren_color}
    if name.startswith("Meta"):
        return {"color": "darkred" if name == "Meta SIREN" else "black", "linewidth": 2.5}
    return {"color": "slategrey", "linestyle": "--"}


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """E(λ) curves against λ_i / λ_0 (log axis, 1 → 1e-10) for every model, and the E(0.1) table as a bar chart."""
    from inrdict.plotting import energy_curves, plt, save

    numbers = results["numbers"]
    models = list(numbers["models"].items())
    colors = iter(plt.cm.viridis(np.linspace(0, 0.9, max(1, sum(name.startswith("SIREN") for name, _ in models)))))
    curves = [
        (f"{name}  E(0.1)={m['energy_at_0.1']:.2f}", arrays[f"{m['array_prefix']}_normalised_eigenvalues"],
         arrays[f"{m['array_prefix']}_energy_curve_mean"], curve_style(name, next(colors) if name.startswith("SIREN") else None))
        for name, m in models
    ]  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 4.5))
    grid = results["config"]["grid_size"]
    energy_curves(ax, curves, f"Fig. 4 — NTK energy concentration ({numbers['n_test_images']} held-out faces, "
                              f"{grid}×{grid} grid, {results['precision']})")  # fmt: skip
    save(fig, out_dir, "energy_concentration")

    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = [name for name, _ in models]
    values = [m["energy_at_0.1"] for _, m in models]
    spread = [m["energy_at_0.1_std"] for _, m in models]
    ax.bar(range(len(names)), values, yerr=spread, color=["darkred" if n.startswith("Meta") else "steelblue" for n in names])
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("E(0.1)  (mean ± std over images)")
    ax.set_title("Energy on eigenvectors within 10 % of the top eigenvalue", fontsize=9)
    save(fig, out_dir, "energy_at_0.1")

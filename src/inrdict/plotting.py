"""Plotting helpers shared by the experiments' `plot` functions (matplotlib only; nothing is computed here).

Experiments draw their own figures (each module's `plot(results, arrays, out_dir)`, from what it saved); this
module holds the pieces several of them use. It never imports an experiment. Every figure is written as PDF and
as a PNG copy (`save`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from inrdict._io import os_error_in
from inrdict.errors import InrdictError

__all__ = [
    "eigenvector_grid",
    "energy_curves",
    "image_panel",
    "learnability_bars",
    "plt",
    "psnr_curves",
    "row_style",
    "save",
    "tone_panel",
]

PNG_DPI = 150


def save(fig, out_dir: Path, stem: str) -> None:
    """Write `stem`.pdf and `stem`.png and close the figure.

    Raises:
        InrdictError: the file cannot be written (a full disk, no permission), in one line naming it and the cause.
    """
    path = out_dir / f"{stem}.pdf"
    try:
        fig.savefig(path, bbox_inches="tight")
        path = out_dir / f"{stem}.png"
        fig.savefig(path, bbox_inches="tight", dpi=PNG_DPI)
    except Exception as error:
        cause = os_error_in(error)
        if cause is None:
            raise
        raise InrdictError(f"cannot write figure {path}: {cause.strerror or cause}") from None
    finally:
        plt.close(fig)


def image_panel(image: np.ndarray, out_dir: Path, stem: str, title: str | None = None, cmap=None) -> None:
    """One image alone in a figure (RGB images are clipped to [0, 1])."""
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(np.clip(image, 0, 1) if cmap is None else image, cmap=cmap)
    ax.axis("off")
    if title:
        ax.set_title(title)
    save(fig, out_dir, stem)


def tone_panel(ax, freqs, reconstruction_db, target_db, mark_hz, title: str) -> None:
    """Magnitude spectra (dB) of a reconstruction and its target, with vertical marks at `mark_hz`."""
    ax.plot(freqs, reconstruction_db, label=r"$f_\theta(r)$", linewidth=2)
    ax.plot(freqs, target_db, label="$g(r)$", linestyle="--", linewidth=2)
    top = max(float(np.max(reconstruction_db)), float(np.max(target_db))) + 10
    ax.set_ylim(max(float(np.min(reconstruction_db)) - 5, top - 100), top)  # hide float round-off floors
    for f in mark_hz:
        if abs(f) <= freqs.max() + 0.5:
            ax.axvline(f, color="yellowgreen", linestyle=":", linewidth=1.5)
            ax.annotate(f"{f:g}", (f, top), textcoords="offset points", xytext=(2, -12), fontsize=8, color="darkgreen")
    ax.set_xlabel("f (Hz)")
    ax.set_ylabel("magnitude spectrum (dB)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)


def eigenvector_grid(rows: list[tuple[str, np.ndarray]], title: str):
    """A grid of eigenvector images: one row per (label, (k, n, n) array), one column per index. Returns the figure."""
    n_vectors = max(vectors.shape[0] for _, vectors in rows)
    fig, axes = plt.subplots(len(rows), n_vectors, figsize=(1.3 * n_vectors + 1.5, 1.3 * len(rows)), squeeze=False)
    for row, (label, vectors) in enumerate(rows):
        for col in range(n_vectors):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < vectors.shape[0]:
                ax.imshow(vectors[col], cmap="viridis")
            else:
                ax.axis("off")
            if row == 0:
                ax.set_title(f"v{col}", fontsize=9)
        axes[row, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    return fig


def energy_curves(ax, curves: list[tuple[str, np.ndarray, np.ndarray, dict]], title: str) -> None:
    """E(λ) curves: for each (label, λ_i/λ_0 (k,), cumulative energy (k,), line style), energy against the
    normalised eigenvalue on a log axis running from 1 down to 1e-10 (large eigenvalues on the left, SPEC §4)."""
    for label, ratio, curve, style in curves:
        keep = ratio > 0
        ax.semilogx(ratio[keep], curve[keep], label=label, **style)
    ax.set_xlim(1, 1e-10)
    ax.set_ylim(0, 1.02)
    ax.axvline(0.1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel(r"$\lambda_i / \lambda_0$")
    ax.set_ylabel("energy of test images on eigenvectors with larger eigenvalue")
    ax.set_title(title, fontsize=9)
    ax.legend(loc=(1.01, 0.0), fontsize=7)


def row_style(labels: list[str]) -> dict[str, dict]:
    """Line styles for the rows of a learnability figure: sweeps (SIREN ω0, FFN σ, pretraining) in graded colours,
    meta-learned rows thick dark red / black, baselines grey dashed."""
    styles, sweeps = {}, {"SIREN": plt.cm.viridis, "FFN": plt.cm.plasma, "Pretrained": plt.cm.cividis}
    for prefix, colormap in sweeps.items():
        members = [label for label in labels if label.startswith(prefix)]
        for label, color in zip(members, colormap(np.linspace(0, 0.85, max(1, len(members))))):
            styles[label] = {"color": color}
    meta_colors = iter(["darkred", "black", "saddlebrown", "darkmagenta"])
    for label in labels:
        if label.startswith("Meta"):
            styles[label] = {"color": next(meta_colors, "black"), "linewidth": 2.5}
        styles.setdefault(label, {"color": "slategrey", "linestyle": "--"})
    return styles


def learnability_bars(numbers: dict, title: str):
    """Two bar charts side by side: E(0.1) and PSNR@k per row, error bars = std over seeds. Returns the figure."""
    models = list(numbers["models"].items())
    labels = [label for label, _ in models]
    colors = ["darkred" if label.startswith("Meta") else "steelblue" for label in labels]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, key, ylabel in (
        (axes[0], "energy_at_0.1", "E(0.1)"),
        (axes[1], "psnr_at_k", f"PSNR@{numbers['psnr_iteration']} (dB, held-out pixels)"),
    ):
        values = [m[key] for _, m in models]
        spread = [m.get(f"{key}_seed_std", 0.0) for _, m in models]
        ax.bar(range(len(labels)), values, yerr=spread, color=colors)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def psnr_curves(ax, numbers: dict, which: str, title: str) -> None:
    """Mean PSNR over fine-tuning iterations 0 … T per row (`which`: "test" or "train"), shaded ± std over seeds."""
    styles = row_style(list(numbers["models"]))
    for label, m in numbers["models"].items():
        curve = np.asarray(m[f"{which}_psnr_curve"])
        spread = np.asarray(m[f"{which}_psnr_curve_seed_std"])
        steps = np.arange(curve.size)
        ax.plot(steps, curve, label=label, **styles[label])
        if m["n_seeds"] > 1:
            ax.fill_between(steps, curve - spread, curve + spread, color=styles[label]["color"], alpha=0.15)
    ax.set_xlabel("fine-tuning iteration")
    ax.set_ylabel(f"{which} PSNR (dB)")
    ax.set_title(title, fontsize=9)

"""Figures, drawn only from what an experiment saved (arrays.npz + results.json); nothing is computed here.

Every figure is written as PDF and as a PNG copy. `redraw(out_dir)` rebuilds the figures of a finished run.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PNG_DPI = 150


def save(fig, out_dir: Path, stem: str) -> None:
    """Write `stem`.pdf and `stem`.png and close the figure."""
    fig.savefig(out_dir / f"{stem}.pdf", bbox_inches="tight")
    fig.savefig(out_dir / f"{stem}.png", bbox_inches="tight", dpi=PNG_DPI)
    plt.close(fig)


def _image_panel(image: np.ndarray, out_dir: Path, stem: str, title: str | None = None, cmap=None) -> None:
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(np.clip(image, 0, 1) if cmap is None else image, cmap=cmap)
    ax.axis("off")
    if title:
        ax.set_title(title)
    save(fig, out_dir, stem)


def figure2(arrays: dict, results: dict, out_dir: Path) -> None:
    """Ground truth, three reconstructions and their DFT log-magnitudes (one PDF each), plus an overview."""
    from inrdict.experiments.figure2 import LABELS, MAPPINGS

    numbers = results["numbers"]
    _image_panel(arrays["ground_truth"], out_dir, "gt")
    _image_panel(arrays["gt_dft_db"], out_dir, "gt_ft", cmap="viridis")
    for name in MAPPINGS:
        _image_panel(arrays[f"{name}_reconstruction"], out_dir, f"rec_{name}")
        _image_panel(arrays[f"{name}_dft_db"], out_dir, f"rec_ft_{name}", cmap="viridis")

    columns = [("ground truth", "ground_truth", "gt_dft_db", None)] + [
        (LABELS[n], f"{n}_reconstruction", f"{n}_dft_db", numbers[n]) for n in MAPPINGS
    ]
    vmin, vmax = np.percentile(arrays["gt_dft_db"], [1, 99.9])
    fig, axes = plt.subplots(2, len(columns), figsize=(3.2 * len(columns), 6.6))
    for col, (label, image_key, dft_key, n) in enumerate(columns):
        axes[0, col].imshow(np.clip(arrays[image_key], 0, 1))
        title = label if n is None else f"{label}\nPSNR {n['psnr_db']:.2f} dB"
        axes[0, col].set_title(title, fontsize=10)
        axes[1, col].imshow(arrays[dft_key], cmap="viridis", vmin=vmin, vmax=vmax)
        if n is not None:
            axes[1, col].set_title(f"odd-bin energy {n['odd_bin_energy_fraction']:.1e}", fontsize=9)
        for row in range(2):
            axes[row, col].axis("off")
    fig.suptitle("Fig. 2 — imperfect recovery (top: reconstructions, bottom: DFT log-magnitude, dB)")
    save(fig, out_dir, "overview")


def _tone_panel(ax, freqs, reconstruction_db, target_db, mark_hz, title):
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


def figure3(arrays: dict, results: dict, out_dir: Path) -> None:
    """Spectra of reconstruction vs target on the training grid and the full grid, ±23 / ±105 Hz marked."""
    numbers = results["numbers"]
    config = results["config"]
    marks = [-numbers["alias_hz"], -config["freq_hz"], config["freq_hz"], numbers["alias_hz"]]
    models = list(numbers["models"].items())
    overview, axes = plt.subplots(2, len(models), figsize=(6 * len(models), 8), squeeze=False)
    for col, (tag, m) in enumerate(models):
        grids = [
            ("train", arrays["freqs_train_hz"], arrays[f"{tag}_train_db"], arrays["target_train_db"], "training grid, fs = 128 Hz"),
            ("full", arrays["freqs_full_hz"], arrays[f"{tag}_full_db"], arrays["target_full_db"], "full grid, fs = 256 Hz"),
        ]  # fmt: skip
        for row, (grid, freqs, rec_db, target_db, grid_label) in enumerate(grids):
            title = f"SIREN ω0 = {m['first_omega0']:g} — {grid_label}"
            if grid == "full":
                title += f"\n{numbers['alias_hz']:g} Hz alias {m['alias_below_signal_db']:.1f} dB below the peak"
            fig, ax = plt.subplots(figsize=(6, 4))
            _tone_panel(ax, freqs, rec_db, target_db, marks, title)
            save(fig, out_dir, f"{grid}_grid_{tag}")
            _tone_panel(axes[row, col], freqs, rec_db, target_db, marks, title)
    overview.suptitle("Fig. 3 — aliasing of a 23 Hz tone")
    overview.tight_layout()
    save(overview, out_dir, "overview")


def figure5(arrays: dict, results: dict, out_dir: Path) -> None:
    """Eigenvector strips and eigenvalue curves per model; all-model eigenvalue plots; one overview grid."""
    models = list(results["numbers"]["models"].items())
    for name, m in models:
        vectors = arrays[f"{m['array_prefix']}_eigenvectors"]
        fig, axes = plt.subplots(1, len(vectors), figsize=(1.6 * len(vectors), 1.9), squeeze=False)
        for i, (ax, v) in enumerate(zip(axes[0], vectors)):
            ax.imshow(v, cmap="viridis")
            ax.set_title(f"v{i}", fontsize=8)
            ax.axis("off")
        fig.suptitle(name, fontsize=10)
        save(fig, out_dir, f"eigenvectors_{m['array_prefix']}")

    for normalised in (False, True):
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, m in models:
            values = arrays[f"{m['array_prefix']}_eigenvalues"]
            values = values / values[0] if normalised else values
            ax.semilogy(np.arange(values.size), np.where(values > 0, values, np.nan), label=name, linewidth=1.5)
        ax.set_xlabel("eigenvalue index i")
        ax.set_ylabel(r"$\lambda_i / \lambda_0$" if normalised else r"$\lambda_i$")
        ax.set_title(f"NTK eigenvalues ({results['precision']}; non-positive values not drawn)", fontsize=9)
        ax.legend(fontsize=7)
        save(fig, out_dir, "eigenvalues_normalised" if normalised else "eigenvalues")

    n_vectors = arrays[f"{models[0][1]['array_prefix']}_eigenvectors"].shape[0]
    fig, axes = plt.subplots(len(models), n_vectors, figsize=(1.3 * n_vectors + 1.5, 1.3 * len(models)), squeeze=False)
    for row, (name, m) in enumerate(models):
        for col, v in enumerate(arrays[f"{m['array_prefix']}_eigenvectors"]):
            ax = axes[row, col]
            ax.imshow(v, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"v{col}", fontsize=9)
        axes[row, 0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle("Fig. 5 — top NTK eigenvectors on the 64 x 64 grid (rows: models)", fontsize=10)
    save(fig, out_dir, "overview")


def figure4(arrays: dict, results: dict, out_dir: Path) -> None:
    """E(λ) curves against λ_i / λ_0 (log axis, 1 → 1e-10) for every model, and the E(0.1) table as a bar chart."""
    models = list(results["numbers"]["models"].items())
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(1, sum(name.startswith("SIREN") for name, _ in models))))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    siren_index = 0
    for name, m in models:
        ratio = arrays[f"{m['array_prefix']}_normalised_eigenvalues"]
        curve = arrays[f"{m['array_prefix']}_energy_curve_mean"]
        keep = ratio > 0
        if name.startswith("SIREN"):
            style = {"color": colors[siren_index]}
            siren_index += 1
        elif name.startswith("Meta"):
            style = {"color": "darkred" if name == "Meta SIREN" else "black", "linewidth": 2.5}
        else:
            style = {"color": "slategrey", "linestyle": "--"}
        ax.semilogx(ratio[keep], curve[keep], label=f"{name}  E(0.1)={m['energy_at_0.1']:.2f}", **style)
    ax.set_xlim(1, 1e-10)
    ax.set_ylim(0, 1.02)
    ax.axvline(0.1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel(r"$\lambda_i / \lambda_0$")
    ax.set_ylabel("energy of test faces on eigenvectors with larger eigenvalue")
    ax.set_title(f"Fig. 4 — NTK energy concentration ({results['numbers']['n_test_images']} held-out faces, "
                 f"{results['precision']})", fontsize=9)  # fmt: skip
    ax.legend(loc=(1.01, 0.0), fontsize=7)
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


def meta_learning(arrays: dict, results: dict, out_dir: Path) -> None:
    """Validation PSNR after the inner loop (and the training batches') against outer steps."""
    fig, ax = plt.subplots(figsize=(6, 4))
    train = arrays["train_psnr_db"]
    ax.plot(np.arange(1, train.size + 1), train, color="lightsteelblue", linewidth=0.8, label="training batch")
    ax.plot(arrays["eval_steps"], arrays["val_psnr_db"], "o-", color="darkred", label="validation (step 0 = random init)")
    ax.set_xlabel("outer step")
    ax.set_ylabel("PSNR after the inner loop (dB, all pixels)")
    config = results["config"]
    ax.set_title(f"Meta-learning ({config['method']}, {config['dataset']} {config['grid_size']}², "
                 f"{config['inner_steps']} inner steps)", fontsize=9)  # fmt: skip
    ax.legend(fontsize=8)
    save(fig, out_dir, "validation_psnr")


def redraw(out_dir: str | Path) -> None:
    """Rebuild the figures of a finished run from its arrays.npz and results.json."""
    out_dir = Path(out_dir)
    results = json.loads((out_dir / "results.json").read_text())
    with np.load(out_dir / "arrays.npz") as loaded:
        arrays = dict(loaded)
    plots = {"figure_2": figure2, "figure_3": figure3, "figure_4": figure4, "figure_5": figure5, "meta_learning": meta_learning}
    plots[results["experiment"]](arrays, results, out_dir)

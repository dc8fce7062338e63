"""Figure 5 — NTK eigenvectors: the atoms of the dictionary, and how omega_0 and meta-learning shape them.

For each model (all 2 → … → 1) the empirical NTK on the 64 x 64 grid `linspace(0, 1, 65)[:-1]` (SPEC §2) is
computed exactly (structured method, SPEC §4) and fully eigendecomposed; the first eigenvectors are shown as
images and the eigenvalues as raw and normalised curves. Models: ReLU MLP 2 → 256 ×4 → 1, FFN σ = 1 and
σ = 10 (T = 256, hidden [256, 256, 256]; the original code built "σ = 10" with σ = 1), SIREN first omega_0
∈ {5, 30, 100} ("ntk" convention), the meta-learned SIREN, and optional extra weights (`meta_weights`: an inrdict
checkpoint or the authors' Haiku pickle, read safely).

Claim: the dominant spatial frequency of the top eigenvectors grows with omega_0. Also recorded: how many
eigenvalues lie within 10 % of the largest (flatness), and how much of the (unit, mean-subtracted) mean embedded
LFW face lies on the top eigenvectors and their largest correlation with it — to compare random and meta-learned
initialisations (what the default preset shows is reported in the README).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import numpy as np

from inrdict import data
from inrdict.errors import InrdictError
from inrdict.experiments._rows import eigensystems, ffn_row, meta_rows, relu_row, siren_row
from inrdict.experiments._run import validate_config

NAME = "figure_5"
TITLE = "NTK eigenvectors (the dictionary atoms) of ReLU, FFN σ=1/10, SIREN ω0=5/30/100 and the meta-learned SIREN"
DEFAULT_SECONDS = 60
REQUIRES = ("meta",)


@dataclasses.dataclass(frozen=True)
class Config:
    """Figure 5 settings (the paper preset computes in float64, shared with Fig. 4 through the cache)."""

    grid_size: int = 64
    siren_omegas: tuple[float, ...] = (5.0, 30.0, 100.0)
    ffn_sigmas: tuple[float, ...] = (1.0, 10.0)
    ffn_features: int = 256
    n_eigenvectors: int = 10
    precision: Literal["float32", "float64"] = "float32"  # "float64" for eigenvalues below ~1e-7 of the largest
    learned_meta: bool = True  # include the meta-learned SIREN (meta-learned first if not learned yet)
    meta_preset: Literal["paper", "default"] = "paper"  # which meta-learning preset's artefact to use
    meta_checkpoint: str | None = None  # use this checkpoint for the "Meta SIREN" row instead of the artefact
    meta_weights: str | None = None  # optional extra row: inrdict checkpoint (.npz) or the authors' Haiku pickle
    data_dir: str | None = None  # CelebA folder, needed only to meta-learn the paper preset's SIREN
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if self.n_eigenvectors > self.grid_size**2:
            raise InrdictError(f"n_eigenvectors ({self.n_eigenvectors}) exceeds the {self.grid_size**2} grid points")


PAPER = Config(precision="float64")
DEFAULT = dataclasses.replace(PAPER, precision="float32", meta_preset="default")
"""2-CPU preset (≈ 1 min): as the paper but in float32 (eigenvalues below ~1e-7 of the largest are noise) and with
the default (LFW, 32²) meta-learned SIREN."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def build_models(config: Config, *, progress: bool = True) -> dict[str, object]:
    """Label → model, in figure order (random rows from `_rows`, shared with Fig. 4, then the meta rows)."""
    models: dict[str, object] = {"ReLU": relu_row(config.seed)}
    for sigma in config.ffn_sigmas:
        models[f"FFN σ={sigma:g}"] = ffn_row(sigma, config.seed, config.ffn_features)
    for omega in config.siren_omegas:
        models[f"SIREN ω0={omega:g}"] = siren_row(omega, config.seed)
    return models | meta_rows(config, progress=progress)


def dominant_frequency(image: np.ndarray) -> tuple[float, float]:
    """(peak, centroid) radial frequency of an image on the [0, 1)² grid, in cycles per unit length.

    The image is mean-subtracted and Hann-windowed before |FFT2|² (eigenvectors are not periodic on the grid, and
    the jump at the border would otherwise smear energy over all frequencies); DFT bin k is k cycles per unit,
    radial frequency sqrt(k_y² + k_x²). Peak = argmax of the power, centroid = power-weighted mean.
    """
    n = image.shape[0]
    window = np.hanning(n)
    power = np.abs(np.fft.fft2((image - image.mean()) * window[:, None] * window[None, :])) ** 2
    k = np.fft.fftfreq(n, d=1.0 / n)
    radius = np.sqrt(k[:, None] ** 2 + k[None, :] ** 2)
    return float(radius.flat[np.argmax(power)]), float(np.sum(radius * power) / np.sum(power))


def mean_face(grid_size: int) -> np.ndarray:
    """Mean of the embedded LFW faces, resized to the grid, mean-subtracted and unit-norm (flattened)."""
    import skimage.data

    faces = skimage.data.lfw_subset()[:100]
    face = data.resize(faces.mean(axis=0).astype(np.float32), grid_size).astype(np.float64).ravel()
    face -= face.mean()
    return face / np.linalg.norm(face)


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    points = data.ntk_grid(config.grid_size)
    n, k = config.grid_size, config.n_eigenvectors
    face = mean_face(config.grid_size)
    numbers: dict = {"grid_points": n * n, "models": {}}
    arrays: dict[str, np.ndarray] = {}
    models = build_models(config, progress=progress)
    for index, name, eigvals, eigvecs, timings in eigensystems(models, points, config.precision, progress=progress):
        top = eigvecs[:, :k].T.astype(np.float64)  # (k, n*n)
        top *= np.where(top.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)  # sign convention: non-negative sum
        frequencies = [dominant_frequency(v.reshape(n, n)) for v in top]
        tag = f"model_{index}"
        arrays[f"{tag}_eigenvalues"] = eigvals
        arrays[f"{tag}_eigenvectors"] = top.reshape(k, n, n).astype(np.float32)
        numbers["models"][name] = {
            "array_prefix": tag,
            **timings,
            "largest_eigenvalue": float(eigvals[0]),
            "trace": float(np.sum(eigvals)),
            "eigenvalues_within_10pct_of_largest": int(np.sum(eigvals >= 0.1 * eigvals[0])),
            "negative_eigenvalues": int(np.sum(eigvals < 0)),
            "dominant_frequency": [f[0] for f in frequencies],
            "spectral_centroid": [f[1] for f in frequencies],
            "mean_dominant_frequency": float(np.mean([f[0] for f in frequencies])),
            "mean_spectral_centroid": float(np.mean([f[1] for f in frequencies])),
            "max_abs_correlation_with_mean_face": float(np.max(np.abs(top @ face))),
            "mean_face_energy_on_top_eigenvectors": float(np.sum((top @ face) ** 2)),
        }
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, bool]:
    """The dominant frequency (argmax and centroid) of the top eigenvectors grows with omega_0."""
    models = numbers["models"]
    sirens = [models[f"SIREN ω0={omega:g}"] for omega in sorted(config.siren_omegas)]
    return {
        "dominant_frequency_grows_with_omega0": all(
            a["mean_dominant_frequency"] < b["mean_dominant_frequency"] for a, b in zip(sirens, sirens[1:])
        ),
        "spectral_centroid_grows_with_omega0": all(
            a["mean_spectral_centroid"] < b["mean_spectral_centroid"] for a, b in zip(sirens, sirens[1:])
        ),
    }


def summary(numbers: dict) -> list[tuple[str, str]]:
    return [
        (name, f"top-{len(m['dominant_frequency'])} dominant freq {m['mean_dominant_frequency']:5.2f}  "
               f"centroid {m['mean_spectral_centroid']:5.2f} cyc/unit   λ within 10 %: "
               f"{m['eigenvalues_within_10pct_of_largest']:4d}   mean-face energy {m['mean_face_energy_on_top_eigenvectors']:.2f}   "
               f"NTK {m['ntk_seconds']:.2f} s, eigh {m['eigh_seconds']:.1f} s")
        for name, m in numbers["models"].items()
    ]  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """Eigenvector strips and eigenvalue curves per model; all-model eigenvalue plots; one overview grid."""
    from inrdict.plotting import eigenvector_grid, plt, save

    models = list(results["numbers"]["models"].items())
    for name, m in models:
        fig = eigenvector_grid([(name, arrays[f"{m['array_prefix']}_eigenvectors"])], name)
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
    grid = results["config"]["grid_size"]
    rows = [(name, arrays[f"{m['array_prefix']}_eigenvectors"]) for name, m in models]
    save(eigenvector_grid(rows, f"Fig. 5 — top NTK eigenvectors on the {grid} x {grid} grid (rows: models)"), out_dir, "overview")

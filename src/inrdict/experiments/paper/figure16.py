"""Figure 16 — top NTK eigenvectors of random, single-image-pretrained and meta-learned SIRENs.

One row each (the top `n_eigenvectors` eigenvectors of the empirical NTK on the grid, fully eigendecomposed through
the cache Figs. 13 and 15 fill, signed to a non-negative sum): the random SIREN-30 ("ntk" convention) of
`n_seeds` seeds, the 9 pretrained SIRENs of the "pretrain" artefact (3 faces × 3 durations, started from the
seed-`seed` SIREN-30), the MAML-meta-learned SIREN and the Reptile-meta-learned one.

Numbers per row: eigenvalues within 10 % of the largest; the share of the held-out faces' energy (mean-subtracted)
on the top `n_eigenvectors` eigenvectors and on those within 10 % of λ0 (E(0.1), as in Figs. 4 and 13); for
pretrained rows, the share of *their own pretraining face's* energy on the top eigenvectors (and of the same faces
on the random SIREN-30 they started from).

Claims (recorded): every pretrained row's top eigenvectors hold more of its pretraining face than the random start
did, and (mean over faces) more the longer the pretraining (pretraining bends the dictionary towards one image);
each meta-learned SIREN holds more held-out-face energy within 10 % of λ0 than every random SIREN-30 (dictionary
learning; a meta spectrum is flat, so its top 10 alone can hold little).

Measured (default preset): the pretraining faces hold 0.33 of their energy on the random start's top 10, 0.73 / 0.90 /
0.91 after 5 / 50 / 500 steps (0.94 after 5000), and their outlines show in the top eigenvectors; the MAML SIREN
holds 0.986 of the held-out faces within 10 % of λ0 (random 0.77–0.79); the default Reptile SIREN only 0.55 (6
eigenvalues within 10 %), though its top 10 hold 0.61 (random 0.25–0.42).
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import numpy as np

from inrdict.analysis import lens
from inrdict.analysis.alignment import center_signals, cumulative_energy
from inrdict.errors import InrdictError
from inrdict.experiments._run import claim_slug, validate_config
from inrdict.experiments.studies import pretrained as pre
from inrdict.experiments.studies.rows import REPTILE as REPTILE_SETTINGS
from inrdict.experiments.studies.rows import MetaRowFields, eigensystems, meta_rows, siren_row
from inrdict.io import data
from inrdict.io.datasets import held_out_faces

NAME = "figure_16"
TITLE = "Top NTK eigenvectors of random, single-image-pretrained (5 / 50 / long) and MAML / Reptile meta SIRENs"
DEFAULT_SECONDS = 5
REQUIRES = ("meta", "pretrain")
REPTILE = "Meta SIREN (Reptile)"


@dataclasses.dataclass(frozen=True)
class Config(MetaRowFields):
    """Figure 16 settings; the defaults are the paper's (64² grid, CelebA; float64 like Fig. 13 to share its cache)."""

    dataset: Literal["celeba", "lfw", "folder"] = "celeba"  # held-out faces of the energy numbers
    data_dir: str | None = None
    grid_size: int = 64
    n_test: int = 100
    n_eigenvectors: int = 10
    n_seeds: int = 3  # random SIREN-30 rows: seeds seed, seed + 1, …
    precision: Literal["float32", "float64"] = "float64"
    pretrain_preset: Literal["paper", "default", "long"] = "paper"
    reptile: bool = True
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if self.n_eigenvectors > self.grid_size**2:
            raise InrdictError(f"n_eigenvectors ({self.n_eigenvectors}) exceeds the {self.grid_size**2} grid points")


PAPER = Config()
DEFAULT = dataclasses.replace(PAPER, dataset="lfw", grid_size=32, meta_preset="default", pretrain_preset="default")
"""2-CPU preset (≈ 20 s once Figs. 12 and 13 have filled the cache): 32² grid, LFW faces, the default meta-learned
and pretrained SIRENs."""
LONG = dataclasses.replace(DEFAULT, pretrain_preset="long")
"""The default with the 5000-step pretraining (its artefact takes ≈ 8 min to learn, once)."""
PRESETS = {"paper": PAPER, "default": DEFAULT, "long": LONG}


def build_rows(config: Config, *, progress: bool = True) -> tuple[dict[str, eqx.Module], dict[str, int], Any]:
    """(label → model in figure order, label → pretraining face index of the pretrained rows, pretraining config:
    the producer's `Config`, typed Any because an experiment imports no other experiment)."""
    producer, _, pretrained = pre.pretrained_sirens(config, progress=progress)
    omega = producer.first_omega0
    models: dict[str, eqx.Module] = {
        f"{pre.random_label(omega)} (seed {s})": siren_row(omega, s)
        for s in range(config.seed, config.seed + config.n_seeds)
    }
    faces = {}
    for p in pretrained:
        label = f"{pre.pretrained_label(p.steps)} (face {p.face_index})"
        models[label], faces[label] = p.model, p.face_index
    meta = meta_rows(config, progress=progress)
    if config.learned_meta and config.reptile:
        meta |= meta_rows(
            dataclasses.replace(config, meta_weights=None), progress=progress, label=REPTILE, **REPTILE_SETTINGS
        )
    return models | {label: row.model for label, row in meta.items()}, faces, producer


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    k, grid = config.n_eigenvectors, config.grid_size
    models, face_of, producer = build_rows(config, progress=progress)
    dataset, held_out = held_out_faces(config.dataset, grid, config.data_dir, config.seed, config.n_test)
    own = pre.pretraining_faces(producer.dataset, grid, config.data_dir, config.seed, producer.face_indices)
    own_signals = dict(zip(producer.face_indices, center_signals(own)))
    held_out_signals, start = (
        center_signals(held_out),
        f"{pre.random_label(producer.first_omega0)} (seed {config.seed})",
    )
    numbers: dict = {"dataset": dataset, "n_test_images": int(held_out.shape[0]), "n_eigenvectors": k, "models": {},
                     "pretraining": {"face_indices": list(producer.face_indices), "durations": list(producer.steps),
                                     "start": start}}  # fmt: skip
    arrays: dict[str, np.ndarray] = {}
    for index, label, spectrum, cached in eigensystems(
        models, data.ntk_grid(grid), lens.SpectrumOptions(precision=config.precision), progress=progress
    ):
        eigvals, eigvecs, info = spectrum.eigvals, spectrum.eigvecs, spectrum.record(cached=cached)
        tag, within = f"model_{index}", int(np.sum(eigvals >= 0.1 * eigvals[0]))
        entry = {"array_prefix": tag, "eigenvalues_within_10pct": within,
                 "held_out_energy_top_k": float(cumulative_energy(eigvecs[:, :k], held_out_signals)[:, -1].mean()),
                 "held_out_energy_within_10pct": float(cumulative_energy(eigvecs[:, :within], held_out_signals)[:, -1].mean()),
                 "spectrum": info}  # fmt: skip
        if label in face_of:
            entry["face_index"] = face_of[label]
            entry["own_face_energy_top_k"] = float(
                cumulative_energy(eigvecs[:, :k], own_signals[face_of[label]][None])[0, -1]
            )
        if label == start:  # the pretraining faces on the random SIREN-30 every pretrained row started from
            energy = cumulative_energy(eigvecs[:, :k], np.stack(list(own_signals.values())))[:, -1]
            entry["pretraining_faces_energy_top_k"] = {str(i): float(e) for i, e in zip(own_signals, energy)}
        numbers["models"][label] = entry
        arrays[f"{tag}_eigenvectors"] = pre.signed_rows(eigvecs[:, :k]).reshape(k, grid, grid).astype(np.float32)
        arrays[f"{tag}_normalised_eigenvalues"] = eigvals / eigvals[0]
    numbers["own_face_energy_by_duration"] = own_face_energy_by_duration(numbers, producer.steps)
    return numbers, arrays


def own_face_energy_by_duration(numbers: dict, durations) -> list[float]:
    """Mean over the pretraining faces of their energy on the top eigenvectors: at the random start, then per duration."""
    models = numbers["models"]
    by_duration = [[m["own_face_energy_top_k"] for label, m in models.items() if label.startswith(f"{pre.pretrained_label(s)} (")]
                   for s in durations]  # fmt: skip
    start = models[numbers["pretraining"]["start"]]["pretraining_faces_energy_top_k"]
    return [float(np.mean(list(start.values())))] + [float(np.mean(v)) for v in by_duration]


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """Per replicate (thresholds in the ledger): each pretrained row's gain in its own face's energy on the top
    eigenvectors over its random start; per pretraining face, the smallest step of that energy from the start through
    the durations; each meta-learned row's lead in held-out-face energy within 10 % of λ0 (E(0.1): a flat meta
    spectrum's "top" is hundreds of atoms wide) over each random SIREN-30 seed."""
    models = numbers["models"]
    start = models[numbers["pretraining"]["start"]]["pretraining_faces_energy_top_k"]
    pretrained = [(label, m) for label, m in models.items() if "face_index" in m]
    steps = []
    for face, energy in start.items():
        sequence = [energy] + [m["own_face_energy_top_k"] for s in numbers["pretraining"]["durations"]
                               for label, m in pretrained
                               if str(m["face_index"]) == face and label.startswith(f"{pre.pretrained_label(s)} (")]  # fmt: skip
        steps.append(min(b - a for a, b in itertools.pairwise(sequence)))
    result = {
        "pretrained_top_eigenvectors_hold_their_face_more_than_the_random_start":
            [m["own_face_energy_top_k"] - start[str(m["face_index"])] for _, m in pretrained],
        "pretraining_face_energy_on_top_eigenvectors_grows_with_duration": steps,
    }  # fmt: skip
    random = [m["held_out_energy_within_10pct"] for label, m in models.items() if label.startswith("SIREN")]
    for label, m in models.items():
        if label.startswith("Meta"):
            slug = claim_slug(label, short_meta=True)
            result[f"{slug}_holds_more_held_out_face_energy_within_10pct_than_random"] = [
                m["held_out_energy_within_10pct"] - r for r in random
            ]
    return result


def summary(numbers: dict) -> list[tuple[str, str]]:
    k = numbers["n_eigenvectors"]
    rows = [(label, f"λ within 10 %: {m['eigenvalues_within_10pct']:4d}   held-out face energy on top {k}: {m['held_out_energy_top_k']:.3f}, "
                    f"within 10 %: {m['held_out_energy_within_10pct']:.3f}"
                    + (f"   own pretraining face: {m['own_face_energy_top_k']:.3f}" if "own_face_energy_top_k" in m else ""))
            for label, m in numbers["models"].items()]  # fmt: skip
    energy = numbers["own_face_energy_by_duration"]
    rows.append(("pretraining faces", f"energy on the top {k} (mean over faces): random start {energy[0]:.3f} → " + " → ".join(
        f"{e:.3f} ({s} it)" for s, e in zip(numbers["pretraining"]["durations"], energy[1:]))))  # fmt: skip
    return rows


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """The eigenvector grid (overview) and the normalised eigenvalue curves of every row."""
    from inrdict.plotting import eigenvector_grid, plt, row_style, save

    models = results["numbers"]["models"]
    rows = [(label, arrays[f"{m['array_prefix']}_eigenvectors"]) for label, m in models.items()]
    grid = results["config"]["grid_size"]
    save(eigenvector_grid(rows, f"Fig. 16 — top NTK eigenvectors ({grid}×{grid} grid): random, pretrained on one face, meta-learned"),
         out_dir, "overview")  # fmt: skip
    styles = row_style(list(models))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, m in models.items():
        ratios = arrays[f"{m['array_prefix']}_normalised_eigenvalues"]
        ax.semilogy(np.arange(ratios.size), np.where(ratios > 0, ratios, np.nan), label=label, **styles[label])
    ax.set_xlabel("eigenvalue index i")
    ax.set_ylabel(r"$\lambda_i / \lambda_0$")
    ax.set_title(f"NTK eigenvalues ({results['precision']}; non-positive values not drawn)", fontsize=9)
    ax.legend(loc=(1.01, 0.0), fontsize=6)
    save(fig, out_dir, "eigenvalues")

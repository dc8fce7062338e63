"""Single-image-pretrained SIRENs (the "pretrain" artefact) and the rows Figs. 13–16 build from them.

The artefact folder (`_artefacts`) holds one inrdict checkpoint per (pretraining face, duration), named by
`checkpoint_name`, and the manifest `ARTEFACT` listing them; the producer (`pretraining.learn`) writes it, the
figures read it through `pretrained_sirens`. Durations of one face are checkpoints of one Adam run (prefixes).

Row conventions shared by the figures: the random SIREN the pretraining starts from is labelled "SIREN ω0=30";
a pretrained row is labelled "Pretrained <steps> it" and carries the *index of its pretraining face* (in the
training split) where random rows carry their seed, so `_learnability.run_study`'s mean ± std "over seeds" of a
pretrained label is the mean ± std over its pretraining images.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import equinox as eqx
import numpy as np

from inrdict.errors import InrdictError
from inrdict.experiments import _artefacts
from inrdict.experiments.studies import learnability as study
from inrdict.experiments.studies.rows import meta_rows, siren_row
from inrdict.io.checkpoints import load_weights
from inrdict.io.datasets import load_faces

ARTEFACT = "pretrained_sirens.json"
PRODUCER = "pretrain"
PREFIX = "Pretrained"


def checkpoint_name(face_index: int, steps: int) -> str:
    return f"siren_face{face_index}_{steps}steps.npz"


def pretrained_label(steps: int) -> str:
    return f"{PREFIX} {steps} it"


def random_label(first_omega0: float) -> str:
    return f"SIREN ω0={first_omega0:g}"


def pretraining_faces(dataset: str, grid_size: int, data_dir: str | None, seed: int, indices) -> np.ndarray:
    """The pretraining faces `indices` of the training split, (k, grid, grid), refusing indices past its end."""
    faces = load_faces(dataset, grid_size, data_dir, seed)
    if max(indices) >= len(faces.train):
        raise InrdictError(
            f"face index {max(indices)} is past the {len(faces.train)} faces of the {faces.name} training split"
        )
    return faces.train.load(list(indices))


@runtime_checkable  # the test suite's runtime type checks need isinstance
class PretrainingRun(Protocol):
    """What the figures read of the "pretrain" producer's config (`inrdict.experiments.paper.pretraining.Config`)."""

    first_omega0: float
    face_indices: tuple[int, ...]
    steps: tuple[int, ...]
    dataset: str
    grid_size: int
    learning_rate: float


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """One pretrained initialisation: its pretraining face (index in the training split), duration and model."""

    face_index: int
    steps: int
    model: eqx.Module


def pretrain_config(config) -> PretrainingRun:
    """The "pretrain" producer config of a figure config (fields pretrain_preset, seed, data_dir, pretrain_lr): the
    preset's, started from the figure's seed (so the random SIREN-30 row of that seed *is* the pretraining's start)."""
    return _artefacts.producer_config(PRODUCER, config.pretrain_preset, seed=config.seed, data_dir=config.data_dir,
                                      learning_rate=getattr(config, "pretrain_lr", None))  # fmt: skip


def pretrained_sirens(config, *, progress: bool = True) -> tuple[PretrainingRun, Path, list[Pretrained]]:
    """(producer config, artefact folder, the pretrained SIRENs ordered by duration then face) for a figure config;
    pretrained first (saying so) if they are not in the cache yet."""
    producer = pretrain_config(config)
    location = _artefacts.resolve(PRODUCER, producer, progress=progress)
    try:
        manifest = json.loads((location / ARTEFACT).read_text())
        entries = sorted(
            manifest["checkpoints"], key=lambda e: (e["steps"], manifest["face_indices"].index(e["face_index"]))
        )
    except (OSError, ValueError, KeyError) as error:
        raise InrdictError(
            f"the pretrained SIRENs in {location} are damaged ({error}): delete that folder to learn them again"
        ) from None
    return (
        producer,
        location,
        [Pretrained(e["face_index"], e["steps"], load_weights(location / e["file"])) for e in entries],
    )


@dataclasses.dataclass(frozen=True)
class PretrainStudy(study.FaceStudy):
    """Figs. 13–14: the face-learnability study (`_learnability.FaceStudy`) plus which pretraining preset to use."""

    pretrain_preset: Literal["paper", "default", "long"] = (
        "paper"  # the "pretrain" artefact's preset (seed, data_dir: ours)
    )
    # How pretrained rows are fine-tuned: "adam" as random initialisations (Adam lr `random_lr`, SPEC §7's reading),
    # "gd" as meta-learned ones (GD lr `meta_lr`: Appendix E.4's "the same pipeline ... instead of MAML" reading).
    pretrained_protocol: Literal["adam", "gd"] = "adam"
    pretrain_lr: float | None = None  # the pretraining's Adam lr (None: the pretrain preset's, 1e-4): for a sweep


def study_rows(config: PretrainStudy, *, progress: bool = True) -> tuple[list[study.Row], dict]:
    """Rows of Figs. 13–14 — the random SIREN-30 of every seed, the pretrained SIRENs (one row per pretraining face,
    labelled by duration), the meta-learned SIREN(s) — and what the pretraining was (for the results)."""
    producer, location, pretrained = pretrained_sirens(config, progress=progress)
    omega = producer.first_omega0
    rows = [study.Row(random_label(omega), siren_row(omega, seed), "random", seed) for seed in study.seeds(config)]
    kind: Literal["pretrained_gd", "random"] = "pretrained_gd" if config.pretrained_protocol == "gd" else "random"
    rows += [study.Row(pretrained_label(p.steps), p.model, kind, p.face_index) for p in pretrained]
    rows += study.meta_as_rows(meta_rows(config, progress=progress))
    about = {"artefact": str(location), "face_indices": list(producer.face_indices), "durations": list(producer.steps),
             "dataset": producer.dataset, "grid_size": producer.grid_size, "learning_rate": producer.learning_rate,
             "random_label": random_label(omega), "labels": [pretrained_label(s) for s in producer.steps],
             "spread": f"pretrained rows: mean ± std over the {len(producer.face_indices)} pretraining images (their "
                       f"'seeds' are the images' indices in the training split); random rows: over seeds"}  # fmt: skip
    return rows, about


def run_pretrain_study(config: PretrainStudy, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """`_learnability.run_study` on `study_rows`, with the pretraining description under numbers["pretraining"]."""
    rows, about = study_rows(config, progress=progress)
    numbers, arrays = study.run_study(rows, config, progress=progress)
    numbers["pretraining"] = about
    return numbers, arrays


def duration_sequence(numbers: dict) -> list[dict]:
    """The rows in order of growing pretraining: the random SIREN (0 iterations), then each duration."""
    about = numbers["pretraining"]
    return [numbers["models"][label] for label in [about["random_label"], *about["labels"]]]


def per_face_sequences(numbers: dict, quantity: str) -> list[list[float]]:
    """Per pretraining face: `quantity` ("energy_at_0.1" or "psnr_at_k") of the random SIREN every pretrained row
    started from (seed `seed`, the first of its seeds), then of the face's pretrained rows in order of duration."""
    about, models = numbers["pretraining"], numbers["models"]
    start = models[about["random_label"]][f"{quantity}_per_seed"][0]
    rows = [models[label][f"{quantity}_per_seed"] for label in about["labels"]]  # each: one value per face
    return [[start, *(row[face] for row in rows)] for face in range(len(rows[0]))]


def largest_step(sequence) -> float:
    """max_i (x_{i+1} − x_i): below 0 exactly when the sequence strictly falls."""
    return float(max(b - a for a, b in itertools.pairwise(sequence)))


def meta_lead_per_face(numbers: dict, label: str, quantity: str) -> list[float]:
    """Per pretraining face: meta row `label`'s `quantity` minus the largest of that face's pretrained rows."""
    meta = numbers["models"][label][f"{quantity}_per_seed"][0]
    return [meta - max(sequence[1:]) for sequence in per_face_sequences(numbers, quantity)]


def signed_rows(vectors) -> np.ndarray:
    """Eigenvectors in columns (n, k) as rows (k, n), float64, each signed to a non-negative sum (eigh's sign is arbitrary)."""
    rows = np.asarray(vectors, np.float64).T
    return rows * np.where(rows.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)


def meta_labels(numbers: dict) -> list[str]:
    return [label for label, m in numbers["models"].items() if m["kind"] == "meta"]

"""Single-image pretraining — SIRENs fitted to one face, the initialisations of Figs. 13, 14 and 16 (SPEC §7).

A SIREN 2 → 256 ×4 → 1 (first ω0 `first_omega0` = 30, "ntk" convention: `studies.rows.siren_row`, i.e. the random
SIREN-30 of seed `seed`) is trained on *one* training face with full-batch Adam (lr 1e-4, plain MSE on all pixels
of the NTK grid; the jitted steps of `inrdict.fit`), once for each face of `face_indices` (indices into the
training split). The weights are saved after each of `steps` updates (the paper: 5, 50 and 5000): the shorter
initialisations are *prefixes* of the longest run — one Adam run per face, its optimiser state carried on — so the
3 faces × 3 durations = 9 initialisations cost 3 runs.

The 9 SIRENs are an artefact (`_artefacts`): learned once per resolved config in the cache, reused by every figure
that needs them; an interrupted run resumes at the first face whose longest checkpoint is missing. This
experiment's report shows the training curves (PSNR on all pixels of the pretraining face after t updates) and the
reconstructions at every checkpoint.

Claim (recorded): each face's PSNR rises from checkpoint to checkpoint. Sanity: every saved checkpoint, evaluated
again, gives the PSNR the training curve recorded at its step (prefixes of one run, weights saved intact).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from pathlib import Path
from typing import Literal

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from inrdict.errors import DivergenceError, InrdictError
from inrdict.experiments import _artefacts
from inrdict.experiments._run import to_jsonable, validate_config, write_json
from inrdict.experiments.studies.pretrained import ARTEFACT, checkpoint_name, pretraining_faces
from inrdict.experiments.studies.rows import siren_row
from inrdict.io import checkpoints, data
from inrdict.train.fit import encode_inputs, fit_steps, init_state, predict
from inrdict.train.losses import psnr_db
from inrdict.train.optim import adam

NAME = "pretraining"
TITLE = "Single-image pretraining of SIREN-30 on 3 faces (5 / 50 / long Adam runs): the initialisations of Figs. 13–16"
DEFAULT_SECONDS = 15
OVERVIEW = "training_curves"
ARTEFACT_DESCRIPTION = "single-image-pretrained SIRENs"
SEGMENT = 500  # updates per jitted call (progress and divergence checks in between)
# ARTEFACT (imported from `studies.pretrained`, where the figures read it): the manifest of the saved checkpoints.


@dataclasses.dataclass(frozen=True)
class Config:
    """Pretraining settings; the defaults are the paper's (CelebA 64², 5000 Adam steps: a GPU job)."""

    dataset: Literal["celeba", "lfw", "folder"] = "celeba"
    data_dir: str | None = None  # required for celeba and folder
    grid_size: int = 64
    face_indices: tuple[int, ...] = (1, 2, 3)  # 0-based, in the training split (the generic check refuses 0)
    steps: tuple[int, ...] = (5, 50, 5000)  # increasing: checkpoints of one run per face
    learning_rate: float = 1e-4
    first_omega0: float = 30.0
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if not self.face_indices or len(set(self.face_indices)) != len(self.face_indices):
            raise InrdictError(f"face_indices must name distinct faces, got {self.face_indices}")
        if not self.steps or any(a >= b for a, b in zip(self.steps, self.steps[1:])):
            raise InrdictError(f"steps must be increasing (checkpoints of one run), got {self.steps}")


PAPER = Config()
DEFAULT = dataclasses.replace(PAPER, dataset="lfw", grid_size=32, steps=(5, 50, 500))
"""2-CPU preset (≈ 45 s): embedded LFW training faces at 32² instead of CelebA at 64², and 500 updates instead of
5000 for the longest run (5000 take ≈ 8 min on 2 cores). Same network, optimiser, learning rate and short durations.
The small LFW faces are fitted to 62–74 dB by step 500 already, yet the NTK keeps moving: the negative transfer of
Fig. 13 shows after 5000 steps (preset "long"), hardly after 500."""
LONG = dataclasses.replace(DEFAULT, steps=(5, 50, 5000))
"""The default with the paper's 5000-step long run (≈ 8 min on 2 cores): Figs. 13, 14 and 16's preset "long"."""
PRESETS = {"paper": PAPER, "default": DEFAULT, "long": LONG}


def artefact_label(config: Config) -> str:
    return f"siren{config.first_omega0:g}-{config.dataset}{config.grid_size}-{len(config.face_indices)}faces-{config.steps[-1]}steps"


def _face_done(folder: Path, face_index: int, config: Config) -> bool:
    return (folder / f"face{face_index}.json").is_file() and all(
        (folder / checkpoint_name(face_index, s)).is_file() for s in config.steps)  # fmt: skip


def _pretrain_face(config: Config, face_index: int, image: np.ndarray, folder: Path, progress: bool) -> dict:
    """One Adam run on one face; saves a checkpoint at every duration; returns its record (PSNR after t updates)."""
    from tqdm.auto import tqdm

    coords = data.ntk_grid(config.grid_size)
    model, optimizer = siren_row(config.first_omega0, config.seed), adam(float(config.learning_rate))
    state, frozen = init_state(model, optimizer)
    inputs, targets = encode_inputs(model, jnp.asarray(coords)), jnp.asarray(image.reshape(-1, 1), jnp.float32)
    losses, done, start = [], 0, time.perf_counter()
    with tqdm(
        total=config.steps[-1], desc=f"pretrain face {face_index}", disable=None if progress else True, leave=False
    ) as bar:
        for stop in config.steps:
            while done < stop:
                n = min(SEGMENT, stop - done)
                state, segment = fit_steps(state, frozen, inputs, targets, n, optimizer)
                segment = np.asarray(segment)
                if not np.all(np.isfinite(segment)):
                    raise DivergenceError(
                        f"pretraining on face {face_index} diverged by step {done + n}: lower the learning rate"
                    )
                losses.append(segment)
                done += n
                bar.update(n)
            trained = eqx.combine(state.params, frozen)
            checkpoints.save_model(folder / checkpoint_name(face_index, stop), trained, metadata={
                "experiment": NAME, "config": to_jsonable(config), "face_index": face_index, "steps": stop})  # fmt: skip
    final = float(np.mean((predict(trained, coords)[:, 0] - image.reshape(-1)) ** 2))
    curve = psnr_db(np.append(np.concatenate(losses), final))  # entry t: after t updates
    record = {"face_index": face_index, "train_psnr_db": curve.tolist(), "seconds": time.perf_counter() - start,
              "checkpoint_psnr_db": {str(s): float(curve[s]) for s in config.steps}}  # fmt: skip
    write_json(folder / f"face{face_index}.json", record)
    return record


def learn(config: Config, folder: Path, *, progress: bool = True) -> None:
    """Pretrain on every face in `folder` (skipping faces already done), then write the manifest and training.json."""
    folder.mkdir(parents=True, exist_ok=True)
    images = pretraining_faces(config.dataset, config.grid_size, config.data_dir, config.seed, config.face_indices)
    records = []
    for face_index, image in zip(config.face_indices, images):
        if _face_done(folder, face_index, config):
            records.append(json.loads((folder / f"face{face_index}.json").read_text()))
        else:
            records.append(_pretrain_face(config, face_index, image, folder, progress))
    entries = [
        {"face_index": i, "steps": s, "file": checkpoint_name(i, s)} for i in config.face_indices for s in config.steps
    ]
    write_json(folder / ARTEFACT, {"face_indices": config.face_indices, "steps": config.steps, "checkpoints": entries})
    write_json(folder / _artefacts.COMPLETE_MARK, {"config": config, "faces": records,
                                                   "training_seconds": sum(r["seconds"] for r in records)})  # fmt: skip


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """Resolve (learn if missing) the pretrained SIRENs; their training curves and reconstructions."""
    location = _artefacts.resolve("pretrain", config, progress=progress)
    record = _artefacts.training_record(location)
    images = pretraining_faces(config.dataset, config.grid_size, config.data_dir, config.seed, config.face_indices)
    coords, n = data.ntk_grid(config.grid_size), config.grid_size
    reconstructions = np.zeros((len(config.face_indices), len(config.steps), n, n), np.float32)
    faces = {}
    for f, (face, image) in enumerate(zip(record["faces"], images)):
        evaluated = {}
        for d, steps in enumerate(config.steps):
            model = checkpoints.load_weights(location / checkpoint_name(face["face_index"], steps))
            reconstructions[f, d] = predict(model, coords)[:, 0].reshape(n, n)
            evaluated[str(steps)] = float(psnr_db(np.mean((reconstructions[f, d] - image) ** 2)))
        faces[str(face["face_index"])] = {"checkpoint_psnr_db": face["checkpoint_psnr_db"], "evaluated_psnr_db": evaluated,
                                          "initial_psnr_db": face["train_psnr_db"][0], "seconds": face["seconds"]}  # fmt: skip
    numbers = {"faces": faces, "durations": list(config.steps), "psnr_protocol": "all pixels of the pretraining face",
               "artefact": str(location / ARTEFACT), "training_seconds": record["training_seconds"]}  # fmt: skip
    arrays = {"train_psnr_db": np.array([face["train_psnr_db"] for face in record["faces"]]), "faces": images,
              "reconstructions": reconstructions}  # fmt: skip
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """Per pretraining face (the replicates): the smallest rise of its training PSNR from one checkpoint to the next."""
    psnr = [list(f["checkpoint_psnr_db"].values()) for f in numbers["faces"].values()]
    return {
        "training_psnr_rises_with_duration_for_every_face": [min(b - a for a, b in itertools.pairwise(p)) for p in psnr]
    }


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """Saved checkpoints reproduce the recorded curve at their step (to 0.05 dB: float32 evaluation order)."""
    gaps = [
        abs(f["evaluated_psnr_db"][s] - f["checkpoint_psnr_db"][s])
        for f in numbers["faces"].values()
        for s in f["evaluated_psnr_db"]
    ]
    return {"checkpoints_reproduce_the_training_curve": max(gaps) < 0.05}


def summary(numbers: dict) -> list[tuple[str, str]]:
    rows = [(f"face {index}", f"PSNR {f['initial_psnr_db']:.2f} dB at init → " + ", ".join(
        f"{psnr:.2f} dB after {steps}" for steps, psnr in f["checkpoint_psnr_db"].items()) + f"  ({f['seconds']:.1f} s)")
        for index, f in numbers["faces"].items()]  # fmt: skip
    return [*rows, ("artefact", numbers["artefact"])]


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """Training curves (PSNR against updates, checkpoints marked) and each face with its reconstructions."""
    from inrdict.plotting import plt, save

    numbers, curves = results["numbers"], arrays["train_psnr_db"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for (index, _), curve in zip(numbers["faces"].items(), curves):
        ax.semilogx(np.arange(1, curve.size + 1), curve, label=f"face {index}")
    for steps in numbers["durations"]:
        ax.axvline(steps + 1, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel("updates + 1 (dotted: saved initialisations)")
    ax.set_ylabel("PSNR on the pretraining face (dB, all pixels)")
    config = results["config"]
    ax.set_title(
        f"Single-image pretraining (Adam lr {config['learning_rate']:g}, {config['dataset']} {config['grid_size']}²)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    save(fig, out_dir, "training_curves")
    faces, recon = arrays["faces"], arrays["reconstructions"]
    fig, axes = plt.subplots(
        faces.shape[0], recon.shape[1] + 1, figsize=(1.6 * (recon.shape[1] + 1), 1.6 * faces.shape[0]), squeeze=False
    )
    for f, index in enumerate(numbers["faces"]):
        panels = [("face", faces[f])] + [(f"{s} it", recon[f, d]) for d, s in enumerate(numbers["durations"])]
        for ax, (title, image) in zip(axes[f], panels):
            ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(title if f == 0 else "", fontsize=8)
        axes[f, 0].set_ylabel(f"face {index}", fontsize=8)
    save(fig, out_dir, "reconstructions")

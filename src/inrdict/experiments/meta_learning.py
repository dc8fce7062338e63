"""Meta-learning — MAML turns SIREN's initialisation into a dictionary of faces (SPEC §5 Meta).

SIREN 2 → 256 ×4 → 1 (first omega_0 30, "ntk" convention) is meta-trained on grayscale faces: per image two
SGD steps (lr 0.01) from the shared initialisation, differentiated through (second-order MAML; first-order
MAML and Reptile as options), outer Adam on batches of 3 images. Validation: PSNR (all pixels) after the inner
loop on 5 validation faces, every `eval_every` steps; step 0 is the random initialisation.

Claims: validation PSNR rises during meta-training and ends several dB above the random initialisation.

The run folder holds `checkpoint.npz` (training state, written atomically every `checkpoint_every` steps;
`--resume` continues from it and reaches the same weights as an uninterrupted run), `log.jsonl` (one line per
step) and, when finished, `meta_siren.npz` (the initialisation Figs. 4 and 5 use), `results.json`,
`arrays.npz` and the figures. `results.json` is written last: its presence marks a finished run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import jax
import numpy as np

from inrdict import cache, checkpoints, data
from inrdict.datasets import load_faces
from inrdict.errors import InrdictError
from inrdict.experiments._run import metadata_block, to_jsonable, validate_config, write_json
from inrdict.meta import METHODS, adapted_psnr_db, meta_train
from inrdict.models import Siren

NAME = "meta_learning"
CHECKPOINT = "meta_siren.npz"


@dataclasses.dataclass(frozen=True)
class Config:
    """Meta-learning settings; the defaults are the paper's (CelebA 64², 5000 MAML steps: a GPU job, ~4 h on 2 CPUs)."""

    dataset: str = "celeba"  # "celeba" | "lfw" | "folder"
    data_dir: str | None = None  # required for celeba and folder
    grid_size: int = 64
    method: str = "maml"  # "maml" | "fomaml" | "reptile"
    steps: int = 5000
    batch_size: int = 3
    inner_steps: int = 2
    inner_lr: float = 0.01
    outer_lr: float = 1e-5
    n_validation: int = 5
    eval_every: int = 200
    checkpoint_every: int = 200
    first_omega0: float = 30.0
    hidden_omega0: float = 30.0
    hidden: tuple[int, ...] = (256, 256, 256, 256)
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if self.method not in METHODS:
            raise InrdictError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.dataset not in ("celeba", "lfw", "folder"):
            raise InrdictError(f"dataset must be celeba, lfw or folder, got {self.dataset!r}")


PAPER = Config()
DEFAULT = dataclasses.replace(
    PAPER, dataset="lfw", grid_size=32, steps=200, outer_lr=1e-4, eval_every=50, checkpoint_every=50
)
"""2-CPU preset (≈ 2 min): the 60 embedded LFW training faces at 32² instead of CelebA at 64², 200 MAML steps at
outer lr 1e-4 instead of 5000 at 1e-5. Same network, inner loop and batch size. Trades away: data (60 small faces,
upsampled from 25², instead of 160k CelebA crops), resolution, and convergence. Expected: validation PSNR after
the inner loop rises from ≈ 18 dB (random init) to ≈ 32 dB."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def initial_model(config: Config) -> Siren:
    return Siren(
        2, config.hidden, 1, first_omega0=config.first_omega0, hidden_omega0=config.hidden_omega0, convention="ntk",
        key=jax.random.key(config.seed),
    )  # fmt: skip


def claims(numbers: dict) -> dict[str, bool]:
    curve = numbers["val_psnr_db"]
    return {
        "validation_psnr_rises": curve[-1] > curve[0] and max(curve[1:] or [curve[0]]) > curve[0],
        "beats_random_init_by_3db": curve[-1] - curve[0] >= 3.0,
    }


def summary_rows(numbers: dict) -> list[tuple[str, str]]:
    return [
        ("validation PSNR", f"random init {numbers['val_psnr_db'][0]:.2f} dB → meta-learned {numbers['val_psnr_db'][-1]:.2f} dB "
                            f"after {numbers['inner_steps']} inner steps ({numbers['steps_done']} outer steps)"),
        ("checkpoint", numbers["checkpoint"]),
    ]  # fmt: skip


def run(config: Config, out_dir: str | Path, progress: bool = True, resume: bool = False) -> dict:
    """Meta-train (resuming if asked), then publish the checkpoint, results, arrays and figures in `out_dir`."""
    from inrdict import plotting

    out_dir = Path(out_dir)
    start = time.perf_counter()
    faces = load_faces(config.dataset, config.grid_size, config.data_dir, config.seed)
    if len(faces.validation) < 1:
        raise InrdictError("the validation split is empty")
    val_images = faces.validation.load(range(min(config.n_validation, len(faces.validation))))
    coords = data.ntk_grid(config.grid_size)
    (out_dir / "results.json").unlink(missing_ok=True)  # whatever is here is about to change
    result = meta_train(
        initial_model(config), faces.train, val_images, coords, steps=config.steps, method=config.method,
        batch_size=config.batch_size, inner_steps=config.inner_steps, inner_lr=config.inner_lr,
        outer_lr=config.outer_lr, eval_every=config.eval_every, checkpoint_every=config.checkpoint_every,
        work_dir=out_dir, resume=resume, key=jax.random.key(config.seed + 1), progress=progress,
    )  # fmt: skip
    checkpoint = out_dir / CHECKPOINT
    checkpoints.save_model(
        checkpoint, result.model,
        metadata={"experiment": NAME, "config": to_jsonable(config), "dataset_sizes": faces.sizes()},
    )  # fmt: skip
    per_image = {
        "random_init": adapted_psnr_db(initial_model(config), coords, val_images, inner_steps=config.inner_steps, inner_lr=config.inner_lr),
        "meta_learned": adapted_psnr_db(result.model, coords, val_images, inner_steps=config.inner_steps, inner_lr=config.inner_lr),
    }  # fmt: skip
    numbers = {
        "dataset_sizes": faces.sizes(),
        "steps_done": int(config.steps),
        "resumed_from": result.resumed_from,
        "inner_steps": config.inner_steps,
        "eval_steps": result.eval_steps,
        "val_psnr_db": result.val_psnr_db,
        "val_psnr_protocol": f"all pixels of {len(val_images)} validation images after {config.inner_steps} inner SGD steps",
        "val_psnr_db_per_image": per_image,
        "checkpoint": str(checkpoint),
        "training_seconds_this_call": result.seconds,
    }
    arrays = {
        "train_psnr_db": result.train_psnr_db, "eval_steps": result.eval_steps, "val_psnr_db": result.val_psnr_db,
        "val_images": val_images,
    }  # fmt: skip
    results = to_jsonable(
        {"experiment": NAME, "numbers": numbers, "claims": claims(to_jsonable(numbers)),
         **metadata_block(config, time.perf_counter() - start)}
    )  # fmt: skip
    np.savez_compressed(out_dir / "arrays.npz", **arrays)
    plotting.meta_learning(arrays, results, out_dir)
    temp = out_dir / ".results.json.partial"
    write_json(temp, results)
    os.replace(temp, out_dir / "results.json")
    return results


def cached_checkpoint(preset: str, progress: bool = True, data_dir: str | None = None, seed: int = 0) -> Path:
    """The meta-learned SIREN of a preset (with `data_dir` and `seed`) from the cache; meta-learned first if missing."""
    from inrdict import __version__

    config = dataclasses.replace(PRESETS[preset], seed=seed, **({"data_dir": data_dir} if data_dir else {}))
    folder = cache.cache_dir() / "meta" / f"{preset}-{cache.fingerprint(to_jsonable(config), __version__)}"
    if (folder / "results.json").is_file() and (folder / CHECKPOINT).is_file():
        return folder / CHECKPOINT
    if config.dataset != "lfw" and config.data_dir is None:
        raise InrdictError(
            f"no meta-learned SIREN is cached for the {preset} preset and learning one needs {config.dataset} images: "
            "pass --data-dir DIR, or --set meta_checkpoint=PATH, or --set learned_meta=false"
        )
    print(f"No meta-learned SIREN cached for the {preset} preset: meta-learning one first (cached in {folder}).", flush=True)
    run(config, folder, progress=progress, resume=True)
    return folder / CHECKPOINT


def load_meta_model(path: str):
    """A SIREN from an inrdict checkpoint, or from the authors' Haiku pickle (read with the safe unpickler)."""
    if Path(path).suffix.lower() in (".pickle", ".pkl"):
        return checkpoints.import_haiku_siren(path)
    model, _ = checkpoints.load_model(path)
    return model


def check_meta_fields(config) -> None:
    """Validate the meta-row fields a figure config shares (learned_meta, meta_preset, meta_checkpoint, meta_weights)."""
    if config.meta_preset not in PRESETS:
        raise InrdictError(f"meta_preset must be one of {', '.join(PRESETS)}, got {config.meta_preset!r}")


def meta_rows(config, progress: bool = True) -> dict[str, object]:
    """The meta-learned rows of a figure config with fields learned_meta, meta_preset, meta_checkpoint, meta_weights."""
    rows = {}
    if config.learned_meta:
        path = config.meta_checkpoint or cached_checkpoint(config.meta_preset, progress, config.data_dir, config.seed)
        rows["Meta SIREN"] = load_meta_model(str(path))
    if config.meta_weights is not None:
        rows[f"Meta ({Path(config.meta_weights).stem})"] = load_meta_model(config.meta_weights)
    return rows

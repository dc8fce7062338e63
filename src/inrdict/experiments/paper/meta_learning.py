"""Meta-learning — MAML turns SIREN's initialisation into a dictionary of faces (SPEC §5 Meta).

SIREN 2 → 256 ×4 → 1 (first omega_0 30, "ntk" convention; or, with `model="ffn"`, an FFN with random Fourier
features σ = `ffn_sigma`, T = 256, hidden [256, 256, 256] as in the paper's Fig. 11) is meta-trained on grayscale faces: per image two
SGD steps (lr 0.01) from the shared initialisation, differentiated through (second-order MAML; first-order
MAML and Reptile as options), outer Adam on batches of 3 images. Validation: PSNR (all pixels) after the inner
loop on 5 validation faces, every `eval_every` steps; step 0 is the random initialisation.

Claims: validation PSNR rises during meta-training and ends several dB above the random initialisation.

The learned SIREN is an artefact (`_artefacts`): it is trained once per resolved config, in the cache, with a
checkpoint every `checkpoint_every` steps (an interrupted run resumes from it on the next request and reaches the
same weights as an uninterrupted one), and reused by every figure that needs it. The run folder of this
experiment gets the report (results.json, arrays.npz, validation_psnr.pdf/png) and copies of `meta_siren.npz`
and `log.jsonl`.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Literal

import jax
import numpy as np

from inrdict.errors import InrdictError
from inrdict.experiments import _artefacts
from inrdict.experiments._run import to_jsonable, validate_config, write_json
from inrdict.io import checkpoints, data
from inrdict.io.datasets import load_faces
from inrdict.io.runs import resumable_meta_train
from inrdict.models import FFN, Siren, gaussian_frequencies
from inrdict.train.meta import InnerLoop, MetaLoop, MetaOptions, adapted_psnr_db

NAME = "meta_learning"
TITLE = "MAML pre-training of SIREN (or an FFN) on faces: validation PSNR after the inner loop"
DEFAULT_SECONDS = 45
OVERVIEW = "validation_psnr"
ARTEFACT = "meta_siren.npz"
ARTEFACT_DESCRIPTION = "meta-learned initialisation"


@dataclasses.dataclass(frozen=True)
class Config:
    """Meta-learning settings; the defaults are the paper's (CelebA 64², 5000 MAML steps: a GPU job, ~2.3 h on 2 CPUs)."""

    dataset: Literal["celeba", "lfw", "folder"] = "celeba"
    data_dir: str | None = None  # required for celeba and folder
    model: Literal["siren", "ffn"] = "siren"  # the FFN's hidden layers are `hidden[:3]`
    grid_size: int = 64
    method: Literal["maml", "fomaml", "reptile"] = "maml"
    steps: int = 5000
    batch_size: int = 3
    inner_steps: int = 2
    inner_lr: float = 0.01
    outer_lr: float = 1e-5
    # "adam" (the paper's); "gd": plain steps, for Reptile the interpolation θ ← θ + outer_lr (W̄ − θ) (Nichol et al.)
    outer_optimizer: Literal["adam", "gd"] = "adam"
    n_validation: int = 5
    eval_every: int = 200
    checkpoint_every: int = 200
    first_omega0: float = 30.0
    hidden_omega0: float = 30.0
    hidden: tuple[int, ...] = (256, 256, 256, 256)
    ffn_sigma: float = 1.0
    ffn_features: int = 256
    seed: int = 0

    def __post_init__(self):
        validate_config(self)


PAPER = Config()
DEFAULT = dataclasses.replace(
    PAPER, dataset="lfw", grid_size=32, steps=200, outer_lr=1e-4, eval_every=50, checkpoint_every=50
)
"""2-CPU preset (≈ 2 min): the 60 embedded LFW training faces at 32² instead of CelebA at 64², 200 MAML steps at
outer lr 1e-4 instead of 5000 at 1e-5. Same network, inner loop and batch size. Trades away: data (60 small faces,
upsampled from 25², instead of 160k CelebA crops), resolution, and convergence. Expected: validation PSNR after
the inner loop rises from ≈ 18 dB (random init) to ≈ 32 dB."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def initial_model(config: Config):
    """The random initialisation meta-learning starts from (key `config.seed`)."""
    key = jax.random.key(config.seed)
    if config.model == "ffn":
        frequencies_key, key = jax.random.split(key)
        B = gaussian_frequencies(frequencies_key, config.ffn_features, 2, config.ffn_sigma)
        return FFN(B, config.hidden[:3], 1, key=key)
    return Siren(
        2, config.hidden, 1, first_omega0=config.first_omega0, hidden_omega0=config.hidden_omega0, convention="ntk",
        key=key,
    )  # fmt: skip


def _faces_and_validation(config: Config):
    faces = load_faces(config.dataset, config.grid_size, config.data_dir, config.seed)
    if len(faces.validation) < 1:
        raise InrdictError("the validation split is empty")
    return faces, faces.validation.load(range(min(config.n_validation, len(faces.validation))))


def artefact_label(config: Config) -> str:
    model = "siren" if config.model == "siren" else f"ffn{config.ffn_sigma:g}"
    return f"{config.method}-{model}-{config.dataset}{config.grid_size}-{config.steps}steps"


def learn(config: Config, folder: Path, *, progress: bool = True) -> None:
    """Meta-train in `folder` (resuming from its checkpoint), then write `meta_siren.npz` and `training.json`."""
    faces, val_images = _faces_and_validation(config)
    options = MetaOptions(
        method=config.method, batch_size=config.batch_size, inner_steps=config.inner_steps, inner_lr=config.inner_lr,
        outer_lr=config.outer_lr, outer_optimizer=config.outer_optimizer, eval_every=config.eval_every,
    )  # fmt: skip
    result = resumable_meta_train(
        initial_model(config), faces.train, val_images, data.ntk_grid(config.grid_size), steps=config.steps,
        key=jax.random.key(config.seed + 1), options=options, loop=MetaLoop(progress=progress),
        checkpoint_every=config.checkpoint_every, work_dir=folder, resume=True,
    )  # fmt: skip
    checkpoints.save_model(
        folder / ARTEFACT, result.model,
        metadata={"experiment": NAME, "config": to_jsonable(config), "dataset_sizes": faces.sizes()},
    )  # fmt: skip
    write_json(folder / _artefacts.COMPLETE_MARK, {
        "config": config, "dataset_sizes": faces.sizes(), "train_psnr_db": result.train_psnr_db,
        "eval_steps": result.eval_steps, "val_psnr_db": result.val_psnr_db, "training_seconds": result.seconds,
    })  # fmt: skip


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """Resolve (learn if missing) the meta-learned SIREN of `config`; report its validation curve."""
    location = _artefacts.resolve("meta", config, progress=progress)
    record = _artefacts.training_record(location)
    _, val_images = _faces_and_validation(config)
    coords = data.ntk_grid(config.grid_size)
    inner = InnerLoop(config.inner_steps, config.inner_lr)
    per_image = {
        "random_init": adapted_psnr_db(initial_model(config), coords, val_images, inner),
        "meta_learned": adapted_psnr_db(checkpoints.load_weights(location / ARTEFACT), coords, val_images, inner),
    }
    numbers = {
        "dataset_sizes": record["dataset_sizes"],
        "steps_done": int(config.steps),
        "inner_steps": config.inner_steps,
        "eval_steps": record["eval_steps"],
        "val_psnr_db": record["val_psnr_db"],
        "val_psnr_protocol": f"all pixels of {len(val_images)} validation images after {config.inner_steps} inner SGD steps",
        "val_psnr_db_per_image": per_image,
        "artefact": str(location / ARTEFACT),
        "training_seconds": record["training_seconds"],
    }
    arrays = {
        "train_psnr_db": np.asarray(record["train_psnr_db"]), "eval_steps": np.asarray(record["eval_steps"]),
        "val_psnr_db": np.asarray(record["val_psnr_db"]), "val_images": val_images,
    }  # fmt: skip
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """The metrics (thresholds in the ledger): the smaller of the validation PSNR's rise by the end and at its best
    (dB); its gain over the random initialisation at step 0 (dB)."""
    curve = numbers["val_psnr_db"]
    return {
        "validation_psnr_rises": min(curve[-1] - curve[0], max(curve[1:] or [curve[0]]) - curve[0]),
        "beats_random_init_by_3db": curve[-1] - curve[0],
    }


def summary(numbers: dict) -> list[tuple[str, str]]:
    return [
        ("validation PSNR", (f"random init {numbers['val_psnr_db'][0]:.2f} dB → meta-learned {numbers['val_psnr_db'][-1]:.2f} dB "
                            f"after {numbers['inner_steps']} inner steps ({numbers['steps_done']} outer steps)")),
        ("artefact", numbers["artefact"]),
    ]  # fmt: skip


def publish(results: dict, config: Config, folder: Path) -> None:
    """Copy the learned SIREN and its training log into the run folder."""
    location = Path(results["numbers"]["artefact"]).parent
    for name in (ARTEFACT, "log.jsonl"):
        if (location / name).exists():
            shutil.copyfile(location / name, folder / name)


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """Validation PSNR after the inner loop (and the training batches') against outer steps."""
    from inrdict.plotting import plt, save

    fig, ax = plt.subplots(figsize=(6, 4))
    train = arrays["train_psnr_db"]
    ax.plot(np.arange(1, train.size + 1), train, color="lightsteelblue", linewidth=0.8, label="training batch")
    ax.plot(
        arrays["eval_steps"], arrays["val_psnr_db"], "o-", color="darkred", label="validation (step 0 = random init)"
    )
    ax.set_xlabel("outer step")
    ax.set_ylabel("PSNR after the inner loop (dB, all pixels)")
    config = results["config"]
    ax.set_title(f"Meta-learning ({config['method']}, {config['dataset']} {config['grid_size']}², "
                 f"{config['inner_steps']} inner steps)", fontsize=9)  # fmt: skip
    ax.legend(fontsize=8)
    save(fig, out_dir, "validation_psnr")

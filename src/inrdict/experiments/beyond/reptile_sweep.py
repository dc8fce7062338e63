"""Fig. 12's Reptile, settled: which Reptile setting gives the paper's gain over random initialisation?

The paper's Fig. 12 reports PSNR@3 = 22.81 dB for a Reptile-meta-learned SIREN against 18.51 dB for the best random
SIREN (ω0 = 40), +4.3 dB (CelebA 64²); it does not give Reptile's settings. Our Fig. 12 uses the meta experiment's
settings with `method="reptile"` (2 inner steps, Adam on the Reptile direction θ − W̄), which barely moves the
initialisation. Here, from the same SIREN-30 start, on the same faces, meta-learning runs with

* Reptile with k inner SGD steps (k ∈ `inner_steps`) and the interpolation outer step of Nichol et al. (2018),
  θ ← θ + ε (W̄ − θ) (W̄ the mean of the adapted weights over the batch), ε ∈ `epsilons` (plain steps:
  `MetaOptions(outer_optimizer="gd", outer_lr=ε)`);
* Reptile with Adam on θ − W̄ at the meta experiment's outer lr (our Fig. 12's setting), k = 2;
* FOMAML (first-order MAML, Adam) and MAML (Adam) at k = 2, controls;

each for `steps` outer steps, then fine-tuned as Fig. 12's meta row (GD lr 1e-2, 3 updates, one seeded 50 % pixel
mask; `lens.META_INIT`'s protocol) on the validation faces — where the best Reptile setting is chosen — and on the
held-out faces, where it is scored (the held-out faces are those Figs. 12 and 16 judge: choosing on them would make
their claims post hoc). The random SIREN ω0 = 30 (the start) and ω0 = 40 with Fig. 4's protocol (Adam 1e-4) are the
baselines. Recorded: PSNR@3 of each on both sets, and its held-out gain over the best random row.

Claims (recorded whatever they show): the Reptile setting chosen on the validation faces gains at least 3 dB over
the best random SIREN on the held-out ones (the paper: +4.3 dB); it comes within 1 dB of MAML.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Literal

import jax
import numpy as np

from inrdict.analysis import lens
from inrdict.errors import InrdictError
from inrdict.experiments._run import validate_config
from inrdict.experiments.studies.rows import siren_row
from inrdict.io import data
from inrdict.io.datasets import held_out_faces, load_faces
from inrdict.train.meta import MetaLoop, MetaOptions, meta_train

NAME = "reptile_sweep"
TITLE = "Fig. 12's Reptile settled: inner steps k and the interpolation step ε, with FOMAML and MAML as controls"
DEFAULT_SECONDS = 1200
IN_REPRODUCE = False  # a sweep of meta-learning runs: `inrdict figure reptile`
PAPER_GAIN_DB = 22.81 - 18.51  # Fig. 12's legend: Reptile vs the best random SIREN (ω0 = 40)


@dataclasses.dataclass(frozen=True)
class Config:
    """Reptile sweep settings (the meta experiment's default data and network)."""

    dataset: Literal["lfw", "celeba", "folder"] = "lfw"
    data_dir: str | None = None
    grid_size: int = 32
    steps: int = 100  # outer steps of every run (the meta experiment runs 200: k = 32 makes each step ~16x dearer)
    batch_size: int = 3
    inner_lr: float = 0.01
    inner_steps: tuple[int, ...] = (2, 5, 10, 32)
    epsilons: tuple[float, ...] = (0.1, 1.0)
    adam_outer_lr: float = 1e-4  # Reptile-Adam, FOMAML and MAML (the meta experiment's default outer lr)
    controls: bool = True  # Reptile-Adam, FOMAML and MAML at k = 2
    n_test: int = 35
    n_validation: int = 5
    first_omega0: float = 30.0
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if not self.inner_steps or min(self.inner_steps) < 1 or not self.epsilons or min(self.epsilons) <= 0:
            raise InrdictError(f"inner_steps must be ≥ 1 and epsilons > 0, got {self.inner_steps}, {self.epsilons}")


DEFAULT = Config()
"""2-CPU preset (~20 min): LFW 32², 100 outer steps per run, k ∈ {2, 5, 10, 32} × ε ∈ {0.1, 1} plus the controls."""
PAPER = dataclasses.replace(DEFAULT, dataset="celeba", grid_size=64, steps=5000, adam_outer_lr=1e-5, n_test=100)
"""CelebA 64² (`--data-dir`), 5000 outer steps: a GPU job."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def settings(config: Config) -> dict[str, dict]:
    """Label → `MetaOptions` fields of every run (with the config's batch size, inner lr and validation interval)."""
    runs = {f"Reptile k={k} ε={eps:g}": dict(method="reptile", inner_steps=k, outer_optimizer="gd", outer_lr=eps)
            for k in config.inner_steps for eps in config.epsilons}  # fmt: skip
    if config.controls:
        adam = dict(inner_steps=2, outer_optimizer="adam", outer_lr=config.adam_outer_lr)
        runs |= {"Reptile k=2 Adam": dict(method="reptile", **adam), "FOMAML k=2": dict(method="fomaml", **adam),
                 "MAML k=2": dict(method="maml", **adam)}  # fmt: skip
    return runs


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    start_time = time.perf_counter()
    faces = load_faces(config.dataset, config.grid_size, config.data_dir, config.seed)
    val = faces.validation.load(range(min(config.n_validation, len(faces.validation))))
    dataset, test = held_out_faces(config.dataset, config.grid_size, config.data_dir, config.seed, config.n_test)
    points = data.ntk_grid(config.grid_size)
    mask = lens.pixel_mask(points.shape[0], config.seed, 0.5)
    start = siren_row(config.first_omega0, config.seed)  # the meta experiment's start (SIREN-30, "ntk" convention)
    meta_protocol = lens.Protocol("gd", 1e-2, 3, 3)
    random_protocol = lens.Protocol("adam", 1e-4, 3, 3)
    rows: dict[str, dict[str, Any]] = {}
    for omega in sorted({config.first_omega0, 40.0}):
        learned = lens.learnability(siren_row(omega, config.seed), points, test, mask, protocol=random_protocol)
        rows[f"random SIREN ω0={omega:g}"] = {"kind": "random", "psnr_at_3": float(learned.psnr_at_k.mean()),
                                             "psnr_at_3_image_std": float(learned.psnr_at_k.std())}  # fmt: skip
    best_random = max(r["psnr_at_3"] for r in rows.values())
    arrays: dict[str, np.ndarray] = {}
    for index, (label, run) in enumerate(settings(config).items()):
        if progress:
            print(f"  {label}: meta-learning {config.steps} steps", flush=True)
        options = MetaOptions(batch_size=config.batch_size, inner_lr=config.inner_lr,
                              eval_every=max(1, config.steps // 4), **run)  # fmt: skip
        result = meta_train(start, faces.train, val, points, steps=config.steps, key=jax.random.key(config.seed + 1),
                            options=options, loop=MetaLoop(progress=progress))  # fmt: skip
        learned = lens.learnability(result.model, points, test, mask, protocol=meta_protocol)
        chosen_on = lens.learnability(result.model, points, val.reshape(val.shape[0], -1), mask, protocol=meta_protocol)
        psnr = float(learned.psnr_at_k.mean())
        rows[label] = {"kind": "meta", **run, "psnr_at_3": psnr, "psnr_at_3_image_std": float(learned.psnr_at_k.std()),
                       "validation_psnr_at_3": float(chosen_on.psnr_at_k.mean()),
                       "gain_over_best_random_db": psnr - best_random, "val_psnr_db": result.val_psnr_db.tolist(),
                       "seconds": result.seconds}  # fmt: skip
        arrays[f"run_{index}_val_psnr_db"] = result.val_psnr_db
    reptile = {label: r for label, r in rows.items() if r.get("method") == "reptile"}
    best = max(reptile, key=lambda label: reptile[label]["validation_psnr_at_3"])  # chosen on the validation faces
    best_on_test = max(reptile, key=lambda label: reptile[label]["psnr_at_3"])  # recorded: what choosing there gives
    numbers = {"dataset": dataset, "n_test_images": int(test.shape[0]), "steps": config.steps,
               "protocol": "meta rows: GD lr 1e-2, random rows: Adam lr 1e-4; " + lens.protocol_text(mask, 3),
               "rows": rows, "best_random_psnr_at_3": best_random, "best_reptile": best, "chosen_on": "validation faces",
               "n_validation_images": int(val.shape[0]), "best_reptile_on_held_out_faces": best_on_test,
               "best_reptile_gain_db": reptile[best]["gain_over_best_random_db"], "paper_gain_db": PAPER_GAIN_DB,
               "seconds": time.perf_counter() - start_time}  # fmt: skip
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """The metrics (thresholds in the ledger): the held-out gain over the best random SIREN of the Reptile setting
    chosen on the validation faces (dB; the paper's Reptile: +4.3 dB); its held-out PSNR@3 minus MAML's (when MAML
    ran)."""
    rows = numbers["rows"]
    result = {"some_reptile_setting_gains_3db_over_the_best_random_siren": numbers["best_reptile_gain_db"]}
    if "MAML k=2" in rows:
        result["best_reptile_within_1db_of_maml"] = (
            rows[numbers["best_reptile"]]["psnr_at_3"] - rows["MAML k=2"]["psnr_at_3"]
        )
    return result


def versus_paper(numbers: dict, config: Config) -> list[dict]:
    return [
        {
            "quantity": f"PSNR@3 gain of the best Reptile ({numbers['best_reptile']}) over the best random SIREN",
            "ours": numbers["best_reptile_gain_db"],
            "paper": PAPER_GAIN_DB,
            "unit": "dB",
        }
    ]


def summary(numbers: dict) -> list[tuple[str, str]]:
    return [(label, f"PSNR@3 {r['psnr_at_3']:6.2f} dB" + (f"  gain {r['gain_over_best_random_db']:+.2f} dB"
                                                          if "gain_over_best_random_db" in r else ""))
            for label, r in numbers["rows"].items()]  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """PSNR@3 of every run against the best random SIREN (dashed) and the paper's Reptile gain (dotted)."""
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    labels = list(numbers["rows"])
    values = [numbers["rows"][label]["psnr_at_3"] for label in labels]
    colors = ["grey" if numbers["rows"][label]["kind"] == "random" else
              "tab:blue" if numbers["rows"][label].get("method") == "reptile" else "tab:orange" for label in labels]  # fmt: skip
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.bar(range(len(labels)), values, color=colors)
    ax.axhline(numbers["best_random_psnr_at_3"], color="black", linestyle="--", linewidth=0.8, label="best random")
    ax.axhline(numbers["best_random_psnr_at_3"] + PAPER_GAIN_DB, color="black", linestyle=":", linewidth=0.8,
               label=f"best random + the paper's Reptile gain ({PAPER_GAIN_DB:.1f} dB)")  # fmt: skip
    ax.set_xticks(range(len(labels)), labels, rotation=50, ha="right", fontsize=8)
    ax.set_ylim(min(values) - 2, max([*values, numbers["best_random_psnr_at_3"] + PAPER_GAIN_DB]) + 1)
    ax.set_ylabel("PSNR@3 on held-out pixels (dB)")
    ax.set_title(f"Reptile settings vs random initialisation ({numbers['n_test_images']} {numbers['dataset']} faces, "
                 f"{numbers['steps']} outer steps)", fontsize=10)  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out_dir, "overview")

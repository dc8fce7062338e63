"""Figure 15 — how learnable each NTK eigenfunction is: PSNR of fitting the i-th eigenvector from the initialisation.

For the meta-learned SIREN (the paper's curve) and, as a second curve not in the paper, the random SIREN-30 of
seed `seed`: the empirical NTK at initialisation on the grid is fully eigendecomposed (`studies.rows.eigensystems`, the
cache Figs. 4 and 13 fill), and the i-th eigenvector (i = 0, `index_stride`, … ≤ `max_index`), as an image on the
grid, is fitted from that initialisation (plain MSE on all pixels, full batch; optimiser below) for `steps`
updates; the final PSNR (all pixels, peak 1) is plotted against i. The paper (meta SIREN, CelebA 64², 2000 steps)
reports ~40 dB at low i falling to ~36.5 dB near i = 800.

Targets: eigenvectors have unit norm and an arbitrary sign; we fix the sign (non-negative sum) and scale each one
(`target_scaling`): "minmax" maps it to [0, 1] (the images' range; the default), "rms" to 0.5 + `target_rms` · √n · v
(every target the same energy about 0.5), "unit" leaves it as it is (values ~ ±1/√n; predicting 0 scores
10 log10(n) dB, 36.1 dB at 64²: the paper's 36.5–40 dB sit just above that, which suggests it fitted unit vectors).
All targets of a model are fitted in one jitted computation (`fit_targets`: `vmap` over the targets of a chunk,
`lax.map` over chunks; the update is `inrdict.fit`'s full-batch step).

Optimiser: the paper names none (Appendix F: "2000 iterations"). The claim was fixed (2026-11-27) under Adam at lr
1e-4, the fine-tuning optimiser of random initialisations (SPEC §7): that is the protocol it is judged under
(presets "default" and "paper"). Plain gradient descent at lr 1e-2 (SPEC §7's protocol for meta-learned
initialisations) became the default on 2026-12-04 after Adam failed; it is now the labelled deviation "gd" (and
"paper_gd": unit-norm eigenvectors, the candidate for the paper's 36.5–40 dB scale). In the lazy regime GD learns
eigenvector i at a rate ∝ λ_i, so under GD the claim is close to true by construction (the ledger says so).

Measured (32², i = 0 … 240, 100 steps, min-max targets): with plain GD (the default) the paper's trend appears:
meta 55.9 → 52.9 dB (Spearman −0.89), random 48.7 → 28.8 dB (−0.83). With Adam (preset "adam") every eigenvector
of the default meta SIREN is fitted to ≈ 65 dB whatever i (Spearman −0.20: the claim fails) and the random SIREN's
PSNR even rises with i (58 → 67 dB; +0.97): Adam's per-parameter steps do not follow the NTK's eigenvalues. With
the authors' CelebA weights on the 64² grid (i = 0 / 400 / 800, 100 Adam steps, min-max) PSNR falls: 55.3 / 53.8 /
52.3 dB.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats
from jaxtyping import Float

from inrdict._typing import AnyArray
from inrdict.analysis import lens
from inrdict.errors import InrdictError
from inrdict.experiments._evidence import spearman_estimate
from inrdict.experiments._run import claim_slug, validate_config
from inrdict.experiments.studies import pretrained as pre
from inrdict.experiments.studies.rows import MetaRowFields, eigensystems, meta_rows, siren_row
from inrdict.io import data
from inrdict.train.fit import encode_inputs, fit_steps, init_state, mse_value_and_grad
from inrdict.train.losses import psnr_db
from inrdict.train.optim import Optimizer, make_optimizer

NAME = "figure_15"
TITLE = "Learnability of individual NTK eigenfunctions: PSNR of fitting the i-th eigenvector (meta and random SIREN)"
DEFAULT_SECONDS = 20
REQUIRES = ("meta",)
PAPER_PSNR_DB = {"first": 40.0, "near_800": 36.5}  # meta SIREN, CelebA 64², 2000 iterations (read off Fig. 15)


@dataclasses.dataclass(frozen=True)
class Config(MetaRowFields):
    """Figure 15 settings; the defaults are the paper's (64² grid, i = 0 … 800, 2000 iterations: a GPU job) with
    our reading of its unstated optimiser (GD lr 1e-2 on unit-norm eigenvectors: module docstring)."""

    grid_size: int = 64
    max_index: int = 800  # largest eigenvector index fitted (capped at the grid's last)
    index_stride: int = 4  # fit i = 0, stride, 2 stride, …
    steps: int = 2000
    optimizer: Literal["adam", "gd"] = "adam"  # the paper names none (Appendix F); the claim was fixed under Adam
    learning_rate: float = 1e-4
    target_scaling: Literal["minmax", "rms", "unit"] = "minmax"  # "unit": the paper's 36.5–40 dB scale (docstring)
    target_rms: float = 0.25  # "rms" scaling: the targets' standard deviation about 0.5
    random_row: bool = True  # the random SIREN-30 curve (not in the paper)
    random_omega0: float = 30.0
    precision: Literal["float32", "float64"] = "float64"  # of the NTK and its eigendecomposition
    targets_per_chunk: int = (
        8  # targets fitted together (vmapped; for a GPU), chunks one after another (1: a CPU's best)
    )
    data_dir: str | None = None  # CelebA folder, needed only to meta-learn the paper preset's SIREN
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if not (self.learned_meta or self.meta_weights or self.random_row):
            raise InrdictError("nothing to fit: enable learned_meta, random_row or give meta_weights")


PAPER = Config()
"""The paper's grid and steps under the protocol the claim was fixed with: Adam lr 1e-4 on min-max targets."""
DEFAULT = dataclasses.replace(PAPER, grid_size=32, max_index=240, index_stride=20, steps=100, meta_preset="default",
                              targets_per_chunk=1)  # fmt: skip
"""2-CPU preset (≈ 75 s once Fig. 13 has filled the NTK cache): the 32² grid (the default meta SIREN's), i = 0, 20, …,
240 (13 targets) and 100 Adam steps, instead of i = 0 … 800 every 4th (201 targets) and 2000 steps at 64²: 2 × 13 ×
100 target-steps at ≈ 35 per second on 2 cores, against 2 × 201 × 2000 at 4× the cost each (≈ 1 day on 2 cores)."""
GD = dataclasses.replace(DEFAULT, optimizer="gd", learning_rate=1e-2)
"""Labelled deviation (2026-12-04, after Adam failed): plain GD at lr 1e-2, SPEC §7's meta-learned protocol."""
PAPER_GD = dataclasses.replace(PAPER, optimizer="gd", learning_rate=1e-2, target_scaling="unit")
"""The paper's grid and steps with GD on unit-norm eigenvectors (the paper preset of 2026-12-04 to -06; GPU job)."""
PRESETS = {"paper": PAPER, "default": DEFAULT, "gd": GD, "paper_gd": PAPER_GD}


@eqx.filter_jit
def _fit_chunks(state, frozen, inputs, targets, steps: int, optimizer):
    """MSE after t = 0 … steps updates for targets (chunks, chunk, n, 1): (chunks, chunk, steps + 1)."""

    def one(y):
        fitted, losses = fit_steps(state, frozen, inputs, y, steps, optimizer)
        final, _ = mse_value_and_grad(fitted.params, frozen, inputs, y, encoded=True)  # gradients: dead code
        return jnp.append(losses, final)

    def chunk(ys):  # one target: no vmap, so the matmuls stay unbatched (XLA:CPU's batched dot is slower)
        return jax.vmap(one)(ys) if ys.shape[0] > 1 else one(ys[0])[None]

    return jax.lax.map(chunk, targets)


def fit_targets(
    model: eqx.Module,
    coords: Float[AnyArray, "n d"],
    targets: Float[AnyArray, "m n"],
    *,
    steps: int,
    optimizer: Optimizer = "adam",
    learning_rate: float = 1e-4,
    targets_per_chunk: int = 4,
) -> Float[np.ndarray, "m s"]:
    """PSNR (all pixels) of `model` fitted to each row of `targets` from the same initialisation, after t = 0 …
    `steps` full-batch updates (`inrdict.fit`'s step, plain MSE; "adam" or plain gradient descent "gd"), as an
    (m, steps + 1) array.

    Targets are fitted `targets_per_chunk` at a time (`vmap`), chunks one after another (`lax.map`); one compile.
    On a CPU one target per chunk is fastest (benchmarks/eigenfunction_fit.py), on a GPU many.
    """
    targets = np.asarray(targets, np.float32)
    transform = make_optimizer(optimizer, float(learning_rate))
    state, frozen = init_state(model, transform)
    inputs = encode_inputs(model, jnp.asarray(coords, jnp.float32))
    chunk = min(targets_per_chunk, targets.shape[0])
    n_chunks = -(-targets.shape[0] // chunk)
    padded = np.concatenate([targets, np.repeat(targets[-1:], n_chunks * chunk - targets.shape[0], axis=0)])
    mse = _fit_chunks(state, frozen, inputs, jnp.asarray(padded).reshape(n_chunks, chunk, -1, 1), steps, transform)
    return psnr_db(np.asarray(mse).reshape(n_chunks * chunk, -1)[: targets.shape[0]])


def eigenvector_targets(vectors: Float[np.ndarray, "n k"], scaling: str, rms: float) -> Float[np.ndarray, "k n"]:
    """Unit eigenvectors (columns) as targets (rows): sign with a non-negative sum, scaled ("minmax" | "rms" | "unit")."""
    vectors = pre.signed_rows(vectors)
    if scaling == "unit":
        return vectors
    if scaling == "rms":
        return 0.5 + rms * np.sqrt(vectors.shape[1]) * vectors
    low, high = vectors.min(axis=1, keepdims=True), vectors.max(axis=1, keepdims=True)
    return (vectors - low) / (high - low)


def _rows(config: Config, *, progress: bool) -> dict[str, eqx.Module]:
    models = {label: row.model for label, row in meta_rows(config, progress=progress).items()}
    if config.random_row:
        models[pre.random_label(config.random_omega0)] = siren_row(config.random_omega0, config.seed)
    return models


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    points = data.ntk_grid(config.grid_size)
    indices = np.arange(0, min(config.max_index, points.shape[0] - 1) + 1, config.index_stride)
    models, prepared = _rows(config, progress=progress), {}
    for _, label, spectrum, cached in eigensystems(
        models, points, lens.SpectrumOptions(precision=config.precision), progress=progress
    ):
        eigvals, eigvecs, info = spectrum.eigvals, spectrum.eigvecs, spectrum.record(cached=cached)
        if eigvecs.shape[1] <= indices[-1]:
            raise InrdictError(f"{label}: only {eigvecs.shape[1]} eigenvectors were computed; lower max_index")
        targets = eigenvector_targets(eigvecs[:, indices], config.target_scaling, config.target_rms)
        prepared[label] = (targets, eigvals[indices] / eigvals[0], info)
    numbers = {"indices": indices.tolist(), "grid_size": config.grid_size, "steps": config.steps, "models": {},
               "psnr_protocol": f"all {points.shape[0]} pixels after {config.steps} full-batch {config.optimizer} updates "
                                f"(lr {config.learning_rate:g}); targets scaled '{config.target_scaling}'"}  # fmt: skip
    arrays: dict[str, np.ndarray] = {"indices": indices}
    for index, (label, (targets, ratios, info)) in enumerate(prepared.items()):
        if progress:
            print(f"  fitting {len(indices)} eigenvectors of {label} for {config.steps} steps", flush=True)
        start = time.perf_counter()
        curves = fit_targets(models[label], points, targets, steps=config.steps, optimizer=config.optimizer,
                             learning_rate=config.learning_rate, targets_per_chunk=config.targets_per_chunk)  # fmt: skip
        seconds = time.perf_counter() - start
        final, tag = curves[:, -1], f"model_{index}"
        tenth = max(1, len(final) // 10)
        numbers["models"][label] = {
            "array_prefix": tag, "final_psnr_db": final.tolist(), "initial_psnr_db": curves[:, 0].tolist(),
            "spearman_index_vs_psnr": float(scipy.stats.spearmanr(indices, final).statistic) if len(indices) > 2 else float("nan"),
            "psnr_first_tenth_db": float(final[:tenth].mean()), "psnr_last_tenth_db": float(final[-tenth:].mean()),
            "fit_seconds": seconds, "target_steps_per_second": len(indices) * config.steps / seconds,
            "spectrum": info,
        }  # fmt: skip
        arrays[f"{tag}_psnr_curves"] = curves
        arrays[f"{tag}_normalised_eigenvalues"] = ratios
        arrays[f"{tag}_targets"] = targets[[0, len(indices) // 2, -1]].reshape(3, config.grid_size, config.grid_size)
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, dict]:
    """Per model (threshold in the ledger): Spearman(i, PSNR) across the fitted indices with its 95 % interval
    (Fisher z, standard error 1.06/√(n − 3): Fieller, Hartley & Pearson 1957); the paper's curve is the meta SIREN's."""
    return {f"{claim_slug(label, short_meta=True)}_psnr_falls_with_index_spearman_le_-0.5":
            spearman_estimate(m["spearman_index_vs_psnr"], len(m["final_psnr_db"])) for label, m in numbers["models"].items()}  # fmt: skip


def versus_paper(numbers: dict, config: Config) -> list[dict]:
    """The meta SIREN's PSNR at the first index (paper ~40 dB) and at the last (paper ~36.5 dB near i = 800)."""
    meta = numbers["models"].get("Meta SIREN")
    if meta is None:
        return []
    last = numbers["indices"][-1]
    return [{"quantity": "PSNR fitting eigenvector 0, Meta SIREN", "ours": meta["final_psnr_db"][0], "paper": PAPER_PSNR_DB["first"], "unit": "dB"},
            {"quantity": f"PSNR fitting eigenvector {last}, Meta SIREN", "ours": meta["final_psnr_db"][-1],
             "paper": PAPER_PSNR_DB["near_800"] if last >= 760 else None, "unit": "dB"}]  # fmt: skip


def summary(numbers: dict) -> list[tuple[str, str]]:
    return [(label, (f"PSNR {m['psnr_first_tenth_db']:.2f} dB (first tenth of i) → {m['psnr_last_tenth_db']:.2f} dB (last "
                     f"tenth); Spearman(i, PSNR) = {m['spearman_index_vs_psnr']:.3f}; {m['target_steps_per_second']:.0f} target-steps/s"))
            for label, m in numbers["models"].items()]  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """PSNR against the eigenvector index (overview), and the PSNR over fitting steps of the first / middle / last."""
    from inrdict.plotting import plt, row_style, save

    numbers, indices = results["numbers"], arrays["indices"]
    styles = row_style(list(numbers["models"]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for label, m in numbers["models"].items():
        axes[0].plot(
            indices,
            m["final_psnr_db"],
            "o-",
            markersize=3,
            label=f"{label} (Spearman {m['spearman_index_vs_psnr']:.2f})",
            **styles[label],
        )
        curves = arrays[f"{m['array_prefix']}_psnr_curves"]
        for row, linestyle in zip((0, len(indices) // 2, -1), ("-", "--", ":")):
            axes[1].plot(
                curves[row], color=styles[label]["color"], linestyle=linestyle, label=f"{label}, i = {indices[row]}"
            )
    axes[0].set_xlabel("eigenvector index i")
    axes[0].set_ylabel(f"PSNR after {numbers['steps']} steps (dB, all pixels)")
    axes[1].set_xlabel(f"{results['config']['optimizer']} step")
    axes[1].set_ylabel("PSNR (dB, all pixels)")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(f"Fig. 15 — learnability of NTK eigenfunctions ({results['config']['grid_size']}² grid, targets scaled "
                 f"'{results['config']['target_scaling']}')", fontsize=10)  # fmt: skip
    fig.tight_layout()
    save(fig, out_dir, "overview")

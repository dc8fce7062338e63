"""Grid encodings' point spread after training, against the NTK's at initialisation (issue 33; Dai & Fan, ICLR 2026,
arXiv 2602.10495: the PSF's width is set by N_avg and "is broadened further by optimisation", paraphrased).

`grid_psf` measures the idealised PSF, the NTK's normalised row Θ(·, r₀) / Θ(r₀, r₀) (`lens.point_spread`). Here the
model is trained instead, from the same initialisation, on the single-point loss ½ (f(r₀) − 1)², and the *empirical*
PSF is its change Δf = f_K − f_0 after K steps, normalised by Δf(r₀) (`lens.spread_of_map`), with its FWHM measured as
the NTK's (mean over both axes and both diagonals, coordinate units; the grid_size² grid `data.unit_grid`, points
i / grid_size, as `point_spread`'s). Two models (`levels` levels of F = 2 features from N_min to N_max, the ReLU head
(64, 64), as `grid_psf`'s anisotropy study): the dense multigrid (`grid`) and the hash grid (`hashgrid`, whose finer
levels are hashed into T = 2^log2_table rows and collide), at `n_centers` seeded centres in the middle half of the
grid, for `n_seeds` initialisations. Two optimisers:

* **GD** (`optax.sgd`, one step at `gd_lr`, in float64): a sanity check, not a claim. One linearised step changes f
  by −η (f(r₀) − 1) Θ(·, r₀), so its normalised change must be the NTK's PSF: within `GD_MAP_TOLERANCE` of the
  NTK's row wherever the row exceeds `SUPPORT` of its peak, and each seed's mean FWHM within `GD_TOLERANCE` of the
  NTK's. (The FWHM of one centre is no test: where a profile hovers near one half, as a hash grid's can, a small
  change in a map moves its first crossing by many samples. It is recorded, not judged.) The tables start at
  U(±1e-4) and the head is a bias-free ReLU network, so the linear regime is narrow: a step that flips a ReLU
  pattern anywhere in the window changes f there by far more than the linear prediction. The first runs used
  lr 1e-7 in float32 and compared the maps by their RMS over the whole window, mostly zeros: the maps agreed to
  about 1e-3 RMS yet differed by up to 0.16 of the peak at single points (a review found it, 2026-12-07). In float64
  at lr 1e-10 they agree to about 1e-6 of the peak everywhere on the support (the float32 NTK row's precision), so
  those differences were ReLU flips, not the kernel: the check now takes the largest difference on the support.
* **Adam** as tiny-cuda-nn trains Instant-NGP (`data/config_hash.json`, "optimizer": lr 1e-2, β₁ 0.9, β₂ 0.99,
  ε 1e-15; its L2 regularisation of 1e-6 is left out: it shifts a gradient of order 1e-5 or more by at most 1e-6),
  for K = `adam_steps` (the map is read after each). Adam divides each parameter's step by its own gradient's scale,
  so every vertex of r₀'s cells moves by about the learning rate however small its interpolation weight at r₀ (and
  the features leave the linear regime at the first step): a reason to expect a broader change than the NTK's.
  So the claims test what Adam's per-parameter normalisation (the optimiser Instant-NGP trains with) does to the
  point spread, not optimisation in general: GD in its linear regime does not broaden it (the sanity check above),
  and a broadening is what the mechanism predicts; how much (the ratio) is the measurement.

The trained change is evaluated in a window of ± `window` around r₀ (a sub-grid of the same grid: the same widths
where the profile falls to one half inside it); a width that does not fall to one half inside the window is counted
and replaced by the window's full width in that direction, a lower bound (it can only lower a broadening).

Claims (ledger, fixed before the first run; the quote paraphrases the abstract, thresholds ours): after the last
Adam step the mean empirical FWHM exceeds the NTK's at initialisation by 10 % or more, for the dense multigrid and
for the hash grid.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from inrdict.analysis import lens
from inrdict.errors import InrdictError
from inrdict.experiments._run import validate_config
from inrdict.io import data
from inrdict.models import make_model, model_key, partition_trainable
from inrdict.models.grid import level_resolutions

NAME = "grid_psf_training"
TITLE = "Grid encodings' PSF after training: the empirical PSF after GD and Adam steps on one point vs the NTK's"
DEFAULT_SECONDS = 60
IN_REPRODUCE = False  # beyond the paper: `inrdict figure grid_psf_training`
DIRECTIONS = ("axis0", "axis1", "diagonal", "antidiagonal")
MODELS = ("grid", "hashgrid")
LABELS = {"grid": "dense multigrid", "hashgrid": "hash grid"}
ADAM = {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.99, "eps": 1e-15}  # tiny-cuda-nn data/config_hash.json "optimizer"
GD_TOLERANCE = 0.03  # each seed's mean FWHM after the GD step within 3 % of the NTK's (ours: a few %)
GD_MAP_TOLERANCE = 1e-3  # largest |normalised change − NTK row| on the row's support (ours: 0.1 % of the peak)
SUPPORT = 0.05  # the NTK row's support for that comparison: where it exceeds 5 % of its peak (ours)


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings (module docstring); resolutions in cells per unit, `window` in coordinate units."""

    grid_size: int = 256  # grid_psf's: the finest cells (N_max = 64) are sampled 4 times
    levels: int = 8
    features: int = 2
    n_min: int = 8  # grid_psf's anisotropy study: levels 8 … 64
    n_max: float = 64.0
    log2_table: int = 10  # ours: the three finest levels (36² … 65² vertices) hashed into 1024 rows, they collide
    adam_steps: tuple[int, ...] = (1, 10, 100)  # ours; the claims read the last
    gd_lr: float = 1e-10  # ours: no ReLU pattern flips in the window (module docstring); float64 resolves it
    window: float = 0.25  # grid_psf's `far`: every width seen at initialisation is far below it
    n_centers: int = 16  # grid_psf's: where a centre falls inside its cells moves its widths, average many
    n_seeds: int = 5
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if any(a >= b for a, b in itertools.pairwise(self.adam_steps)) or any(int(k) != k for k in self.adam_steps):
            raise InrdictError(f"adam_steps must be whole numbers in increasing order, got {self.adam_steps}")
        if not 0.0 < self.window <= 0.25:
            raise InrdictError(f"window must lie in (0, 0.25] (centres lie in the middle half), got {self.window}")
        if self.grid_size < 8 or round(self.window * self.grid_size) < 2:
            raise InrdictError(f"grid_size {self.grid_size} is too coarse: the window needs at least 2 samples a side")
        if self.grid_size < 2 * self.n_max:
            raise InrdictError(f"grid_size {self.grid_size} undersamples the finest level (N_max = {self.n_max:g}): "
                               f"use at least 2 N_max = {2 * self.n_max:g}")  # fmt: skip
        level_resolutions(self.levels, self.n_min, self.n_max)  # raises on impossible levels


PAPER = Config(grid_size=512, levels=16, n_max=128.0, log2_table=12, adam_steps=(1, 10, 100, 1000), n_centers=32)
DEFAULT = Config()
"""2-CPU preset (≈ 1 min): 256² grid, 8 levels from 8 to 64, T = 2^10, 16 centres, 5 seeds, Adam up to 100 steps. The
paper's settings were not retrievable; its preset doubles the grid, the levels, the resolutions and the centres, and
adds 1000 Adam steps."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def _centers(config: Config) -> list[tuple[int, ...]]:
    """`n_centers` seeded grid points in the middle half of the grid (grid_psf's rule: every window fits inside)."""
    rng = np.random.default_rng(config.seed)
    low, high = config.grid_size // 4, 3 * config.grid_size // 4
    return [(int(a), int(b)) for a, b in (rng.integers(low, high, 2) for _ in range(config.n_centers))]


def _half(config: Config) -> int:
    return round(config.window * config.grid_size)


def build(name: str, config: Config, seed: int) -> eqx.Module:
    """The model `name` ("grid" or "hashgrid") of `config`'s levels, initialised for `seed`."""
    knobs = {"log2_table": config.log2_table} if name == "hashgrid" else {}
    return make_model(name, 2, (64, 64), 1, key=model_key(name, seed), levels=config.levels, features=config.features,
                      n_min=config.n_min, n_max=config.n_max, **knobs)  # fmt: skip


@eqx.filter_jit
def _changes(model, optimizer, segments: tuple[int, ...], points, centers, windows):
    """Δf = f_K − f_0 on each centre's window after K = cumsum(segments) steps of `optimizer` on ½ (f(r₀) − 1)².

    points (n, 2); centers (m,) indices of r₀ into points; windows (m, w) indices of each window's points.
    Returns (m, len(segments), w); the centres train independently (vmap), the steps in `lax.scan`.
    """
    params, frozen = partition_trainable(model)

    def outputs(p, at):
        network = eqx.combine(p, frozen)
        return jax.vmap(lambda r: network(r)[0])(at)

    def one(center, window):
        r0, at = points[center], points[window]
        loss = lambda p: 0.5 * (eqx.combine(p, frozen)(r0)[0] - 1.0) ** 2  # noqa: E731

        def step(carry, _):
            p, state = carry
            updates, state = optimizer.update(jax.grad(loss)(p), state, p)
            return (optax.apply_updates(p, updates), state), None

        before = outputs(params, at)
        carry, changes = (params, optimizer.init(params)), []
        for length in segments:
            carry, _ = jax.lax.scan(step, carry, None, length=length)
            changes.append(outputs(carry[0], at) - before)
        return jnp.stack(changes)

    return jax.vmap(one)(centers, windows)


def _window_indices(config: Config, centers: list[tuple[int, ...]]) -> np.ndarray:
    """(centres, (2h + 1)²) flat grid indices of the window of half-width h = window · grid_size around each centre."""
    n, h = config.grid_size, _half(config)
    offsets = np.arange(-h, h + 1)
    return np.stack([((c0 + offsets)[:, None] * n + (c1 + offsets)[None, :]).ravel() for c0, c1 in centers])


def _widths(window_map: np.ndarray, center: tuple[int, ...], config: Config) -> tuple[dict[str, float], int, float]:
    """(FWHM per direction, how many were bounded by the window, Δf(r₀)) of one trained change on its window."""
    n, h = config.grid_size, _half(config)
    full = np.full((n, n), np.nan)
    full[center[0] - h : center[0] + h + 1, center[1] - h : center[1] + h + 1] = window_map
    peak = float(full[center])
    if not peak > 0:  # a first step may lower f(r₀): no PSF to measure
        return {d: math.nan for d in DIRECTIONS}, 0, peak
    widths = lens.spread_of_map(full, center).fwhm
    bound = {"axis0": 2 * h / n, "axis1": 2 * h / n, "diagonal": 2 * h * math.sqrt(2) / n}
    bound["antidiagonal"] = bound["diagonal"]
    bounded = sum(not math.isfinite(widths[d]) for d in DIRECTIONS)
    return {d: widths[d] if math.isfinite(widths[d]) else bound[d] for d in DIRECTIONS}, bounded, peak


def _record(per_center: list[dict[str, float]]) -> dict:
    """Direction means over the centres, their mean, and each centre's mean over the directions."""
    widths = np.array([[w[d] for d in DIRECTIONS] for w in per_center])  # (centres, directions)
    return {"fwhm": dict(zip(DIRECTIONS, np.nanmean(widths, axis=0).tolist())),
            "mean_fwhm": float(np.nanmean(widths)), "per_center": np.mean(widths, axis=1).tolist()}  # fmt: skip


def _study(name: str, config: Config, seed: int, optimizers: dict, arrays: dict) -> dict:
    """One initialisation of `name`: the NTK's PSF, the GD step's and Adam's after each K, at every centre."""
    model = build(name, config, seed)
    n, centers = config.grid_size, _centers(config)
    spreads = lens.point_spreads(model, (n, n), centers)
    ntk = [spread.fwhm for spread in spreads]
    if not all(math.isfinite(w) for widths in ntk for w in widths.values()):
        raise InrdictError(f"an NTK PSF of {name} never falls to half its peak inside the {n}² grid: raise grid_size")
    points = jnp.asarray(data.unit_grid((n, n)))
    flat = jnp.asarray([c0 * n + c1 for c0, c1 in centers])
    windows = _window_indices(config, centers)
    adam_segments = tuple(int(b - a) for a, b in itertools.pairwise((0, *config.adam_steps)))  # steps between reads
    runs: dict[str, tuple[optax.GradientTransformation, tuple[int, ...]]] = {
        "gd": (optimizers["gd"], (1,)), "adam": (optimizers["adam"], adam_segments)}  # fmt: skip
    record: dict = {"seed": seed, "ntk": _record(ntk)}
    h, side = _half(config), 2 * _half(config) + 1
    ntk_windows = [s.values[c0 - h : c0 + h + 1, c1 - h : c1 + h + 1] for s, (c0, c1) in zip(spreads, centers)]
    for label, (optimizer, segments) in runs.items():
        if label == "gd":  # in float64: Δf(r₀) ≈ 1e-8 beside f ≈ 1e-4, below float32's resolution of f
            with jax.enable_x64(True):
                wide = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x, model)
                changes = np.asarray(_changes(wide, optimizer, segments, points.astype(jnp.float64), flat,
                                              jnp.asarray(windows)))  # fmt: skip
            # the normalised change against the NTK's row on each window, where the row is above 5 % of its peak
            gaps = [(changes[c, 0].reshape(side, side) / changes[c, 0, side**2 // 2] - ntk_windows[c])[
                ntk_windows[c] > SUPPORT] for c in range(len(centers))]  # fmt: skip
            record["gd_map_max_difference"] = float(max(np.max(np.abs(gap)) for gap in gaps))
            record["gd_map_rms_difference"] = float(max(np.sqrt(np.mean(gap**2)) for gap in gaps))
        else:
            changes = np.asarray(_changes(model, optimizer, segments, points, flat, jnp.asarray(windows)), np.float64)
        rows = []
        for k in range(len(segments)):
            measured = [_widths(changes[c, k].reshape(side, side), center, config) for c, center in enumerate(centers)]
            row = _record([m[0] for m in measured])
            rows.append(row | {"steps": sum(segments[: k + 1]), "bounded": sum(m[1] for m in measured),
                               "unmeasured": sum(not m[2] > 0 for m in measured),
                               "peak_change": float(np.mean([m[2] for m in measured])),
                               "fwhm_ratio": row["mean_fwhm"] / record["ntk"]["mean_fwhm"]})  # fmt: skip
            if seed == config.seed:  # the first centre's map, normalised at r₀ (at its largest if Δf(r₀) ≤ 0)
                example = changes[0, k].reshape(side, side)
                scale = example[side // 2, side // 2] if example[side // 2, side // 2] > 0 else np.abs(example).max()
                arrays[f"{name}_{label}_{rows[-1]['steps']}"] = example / scale
        record[label] = rows
    if seed == config.seed:
        arrays[f"{name}_ntk"] = ntk_windows[0]
    gd = np.array(record["gd"][0]["per_center"]) / np.array(record["ntk"]["per_center"])
    record["gd_worst_relative_error"] = float(np.max(np.abs(gd - 1.0)))  # per centre: ill-conditioned (docstring)
    return record


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    seeds = [config.seed + i for i in range(config.n_seeds)]
    optimizers = {"gd": optax.sgd(config.gd_lr), "adam": optax.adam(**ADAM)}  # built once: one compilation each
    arrays: dict[str, np.ndarray] = {}
    models: dict[str, dict] = {}
    for name in MODELS:
        if progress:
            print(f"  {LABELS[name]}: {config.n_seeds} seeds × {config.n_centers} centres", flush=True)
        runs = [_study(name, config, seed, optimizers, arrays) for seed in seeds]
        models[name] = {"label": LABELS[name], "per_seed": runs,
                        "ntk_mean_fwhm": float(np.mean([r["ntk"]["mean_fwhm"] for r in runs])),
                        "gd_fwhm_ratio": float(np.mean([r["gd"][0]["fwhm_ratio"] for r in runs])),
                        "adam_fwhm_ratio": {str(k): float(np.mean([r["adam"][i]["fwhm_ratio"] for r in runs]))
                                            for i, k in enumerate(config.adam_steps)}}  # fmt: skip
    resolutions = level_resolutions(config.levels, config.n_min, config.n_max)
    numbers = {"centers": _centers(config), "seeds": seeds, "resolutions": list(resolutions),
               "n_avg": float(np.mean(resolutions)), "adam": ADAM, "gd_lr": config.gd_lr, "window": config.window,
               "adam_steps": list(config.adam_steps), "models": models}  # fmt: skip
    return numbers, arrays


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """One small GD step (float64) reproduces the NTK's PSF (the linearised prediction), for every seed and model:
    the normalised map within `GD_MAP_TOLERANCE` of the NTK's row wherever the row exceeds `SUPPORT`, the mean FWHM
    within `GD_TOLERANCE`; and the claims' ratios compare the same centres: after the last Adam step every centre's
    change is measured (Δf(r₀) > 0)."""
    runs = [r for m in numbers["models"].values() for r in m["per_seed"]]
    return {"gd_step_change_is_the_ntk_row": all(r["gd_map_max_difference"] <= GD_MAP_TOLERANCE for r in runs),
            "gd_step_mean_fwhm_is_the_ntk_s": all(abs(r["gd"][0]["fwhm_ratio"] - 1.0) <= GD_TOLERANCE for r in runs),
            "last_adam_step_measured_at_every_centre": all(r["adam"][-1]["unmeasured"] == 0 for r in runs)}  # fmt: skip


def _broadening(numbers: dict, name: str) -> list[float]:
    """Per seed: mean FWHM after the last Adam step over the NTK's at initialisation (means over centres and
    directions)."""
    return [r["adam"][-1]["mean_fwhm"] / r["ntk"]["mean_fwhm"] for r in numbers["models"][name]["per_seed"]]


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """The metrics (thresholds in the ledger), one value per seed."""
    return {"adam_broadens_the_multigrid_psf": _broadening(numbers, "grid"),
            "adam_broadens_the_hash_grid_psf": _broadening(numbers, "hashgrid")}  # fmt: skip


def summary(numbers: dict) -> list[tuple[str, str]]:
    lines = [("NTK mean FWHM", ", ".join(f"{m['label']} {m['ntk_mean_fwhm']:.4g}" for m in numbers["models"].values()))]
    for m in numbers["models"].values():
        adam = ", ".join(f"{k}: {v:.3g}" for k, v in m["adam_fwhm_ratio"].items())
        lines.append((f"{m['label']}: FWHM / NTK's", f"GD step {m['gd_fwhm_ratio']:.4f}; Adam after K steps {adam}"))
    return lines


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """FWHM over the NTK's against the Adam steps (each seed), and the first centre's maps of the first seed."""
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    last = numbers["adam_steps"][-1]
    fig, axes = plt.subplots(1, 5, figsize=(19, 3.8))
    for name, record in numbers["models"].items():
        steps = numbers["adam_steps"]
        for i, run in enumerate(record["per_seed"]):
            axes[0].plot(steps, [row["fwhm_ratio"] for row in run["adam"]], marker="o", alpha=0.5,
                         color="C0" if name == "grid" else "C1", label=f"{record['label']} (Adam)" if i == 0 else None)  # fmt: skip
        axes[0].scatter([0.5], [record["gd_fwhm_ratio"]], marker="x", color="C0" if name == "grid" else "C1",
                        label=f"{record['label']} (GD step)")  # fmt: skip
    axes[0].axhline(1.0, color="gray", lw=0.8)
    axes[0].set(xscale="log", xlabel="Adam steps K (GD step at 0.5)", ylabel="mean FWHM / NTK's",
                title="broadening by training")  # fmt: skip
    axes[0].legend(fontsize=7)
    panels = [("grid", "ntk", "multigrid: NTK PSF"), ("grid", f"adam_{last}", f"multigrid: Adam, {last} steps"),
              ("hashgrid", "ntk", "hash grid: NTK PSF"), ("hashgrid", f"adam_{last}", f"hash grid: Adam, {last} steps")]  # fmt: skip
    for ax, (name, kind, title) in zip(axes[1:], panels):
        ax.imshow(arrays[f"{name}_{kind}"], cmap="RdBu_r", vmin=-1, vmax=1)
        ax.contour(arrays[f"{name}_{kind}"], levels=[0.5], colors="k", linewidths=0.6)
        ax.set(title=title, xticks=[], yticks=[])
    fig.suptitle("Grid encodings: the empirical PSF after training on one point vs the NTK's at initialisation "
                 "(window ± {:g}; half-maximum contour)".format(numbers["window"]), fontsize=10)  # fmt: skip
    fig.tight_layout()
    save(fig, out_dir, "overview")

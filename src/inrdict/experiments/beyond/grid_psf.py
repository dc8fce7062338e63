"""Grid encodings' point spread function at initialisation (issue 33; Dai & Fan, ICLR 2026, arXiv 2602.10495).

The PSF of a model is its NTK's normalised row at a point (`inrdict.analysis.lens.point_spread`): the shape of the
change one gradient step on that point makes to the linearised model. Each model is built from its family's
initialisation (`grid`: dense levels, no collisions; `hashgrid`: fine levels hashed into T rows), with L levels of
F features and the paper's ReLU head (64, 64), and its PSF is measured at `n_centers` seeded interior points of the
grid_size² grid, for `n_seeds` initialisations. Four studies:

* **N_avg and N_max** (dense levels): the mean FWHM while N_max grows at a fixed average resolution
  N_avg = mean_l N_l, and while N_avg grows at a fixed N_max (N_min is the integer whose levels' mean is nearest to
  the N_avg asked, `n_min_for_average`; an N_avg the levels cannot reach, below about N_max / 4 with N_min = 1, is
  refused). The paper's N_avg was not retrievable here: the arithmetic mean is ours.
* **Anisotropy**: the contrast between directions, |log10(mean diagonal FWHM / mean axis FWHM)| (means over both
  axes, both diagonals and the centres; 0 for an isotropic PSF), for the axis-aligned multigrid and with each level's
  coordinates turned (R-MHE; inrdict's angles, `inrdict.models.grid`). A d-linear cell alone gives diagonals
  narrower than axes (a tent's diagonal profile is (1 − t)²).
* **Collisions**: the PSF's SNR, −20 log10 of the RMS of the normalised PSFs farther than `far` from their centres
  (pooled over the centres, floored at 1e-6: float32 round-off, so at most 120 dB), as the table size T grows (hash
  grid).
* Not measured here: the broadening of the PSF by training (the paper's "empirical" FWHM): `grid_psf_training`.

Claims (ledger, fixed before the first run; the quotes paraphrase the abstract, the thresholds are ours): the FWHM
falls as N_avg grows; it stays nearly constant as N_max grows at fixed N_avg; the axis-aligned grid is anisotropic;
rotated levels reduce the anisotropy; collisions lower the SNR.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np

from inrdict.analysis import lens
from inrdict.errors import InrdictError
from inrdict.experiments._run import validate_config
from inrdict.models import make_model, model_key
from inrdict.models.grid import level_resolutions

NAME = "grid_psf"
TITLE = "Grid encodings' NTK point spread: FWHM against N_avg and N_max, anisotropy and rotated levels, collisions"
DEFAULT_SECONDS = 120
IN_REPRODUCE = False  # beyond the paper: `inrdict figure grid_psf`
DIRECTIONS = ("axis0", "axis1", "diagonal", "antidiagonal")


def n_min_for_average(levels: int, n_avg: float, n_max: float) -> int:
    """The integer N_min whose levels (`level_resolutions(levels, N_min, n_max)`) have the mean nearest `n_avg`."""
    candidates = range(1, int(n_max) + 1)
    return min(candidates, key=lambda n: (abs(np.mean(level_resolutions(levels, n, n_max)) - n_avg), n))


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings (module docstring); resolutions in cells per unit, `far` in coordinate units."""

    grid_size: int = 256  # ≥ 3.5 N_max of every model below: the finest cells are sampled 3.5 times or more
    levels: int = 8
    features: int = 2
    n_avg_fixed: float = 20.0
    n_max_sweep: tuple[float, ...] = (24.0, 48.0, 72.0)
    n_max_fixed: float = 64.0
    n_avg_sweep: tuple[float, ...] = (18.0, 36.0, 54.0)
    anisotropy_n_min: int = 8
    anisotropy_n_max: float = 64.0
    table_n_min: int = 16
    table_n_max: float = 256.0
    log2_tables: tuple[int, ...] = (8, 10, 12, 14, 16)
    far: float = 0.25
    n_centers: int = 16  # where a centre falls inside its cells moves its widths by up to ×1.7: average many
    n_seeds: int = 5
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if min(self.n_max_sweep) < self.n_avg_fixed or max(self.n_avg_sweep) > self.n_max_fixed:
            raise InrdictError("every swept N_max must be at least n_avg_fixed, every swept N_avg at most n_max_fixed")
        if not 0.0 < self.far < 0.5:
            raise InrdictError(f"far must lie in (0, 0.5), got {self.far}")
        for name in ("n_max_sweep", "n_avg_sweep", "log2_tables"):
            values = getattr(self, name)
            if len(values) < 2 or any(a >= b for a, b in itertools.pairwise(values)):
                raise InrdictError(f"{name} must hold at least two values in increasing order, got {values}")
        asked = [(self.n_avg_fixed, n_max) for n_max in self.n_max_sweep]
        asked += [(n_avg, self.n_max_fixed) for n_avg in self.n_avg_sweep]
        for n_avg, n_max in asked:
            reached = np.mean(level_resolutions(self.levels, n_min_for_average(self.levels, n_avg, n_max), n_max))
            if abs(reached - n_avg) > 0.1 * n_avg:
                low = np.mean(level_resolutions(self.levels, 1, n_max))
                raise InrdictError(f"N_avg = {n_avg:g} is out of reach of {self.levels} levels up to N_max = {n_max:g} "
                                   f"(their mean runs from {low:.1f} to {n_max:g}): choose N_avg in that range")  # fmt: skip


PAPER = Config(grid_size=512, levels=16, n_centers=32)
DEFAULT = Config()
"""2-CPU preset (≈ 2 min): 256² grid, 8 levels, 16 centres, 5 seeds. The paper's settings were not retrievable; its
preset doubles the grid, the levels and the centres."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def _centers(config: Config) -> list[tuple[int, ...]]:
    """`n_centers` seeded grid points in the middle half of the grid (every PSF fits inside)."""
    rng = np.random.default_rng(config.seed)
    low, high = config.grid_size // 4, 3 * config.grid_size // 4
    return [tuple(int(i) for i in rng.integers(low, high, 2)) for _ in range(config.n_centers)]


def _spread(name: str, knobs: dict, config: Config, seed: int) -> dict:
    """One model's PSF at every centre: mean FWHM per direction, their mean, anisotropy and SNR (dB)."""
    model = make_model(name, 2, (64, 64), 1, key=model_key(name, seed), levels=config.levels,
                       features=config.features, **knobs)  # fmt: skip
    shape = (config.grid_size, config.grid_size)
    axis = np.arange(config.grid_size) / config.grid_size
    widths, far = [], []
    for spread in lens.point_spreads(model, shape, _centers(config)):
        center = spread.center
        widths.append([spread.fwhm[d] for d in DIRECTIONS])
        distance = np.hypot(axis[:, None] - axis[center[0]], axis[None, :] - axis[center[1]])
        far.append(spread.values[distance > config.far])
    widths_array = np.asarray(widths)  # (centres, directions)
    if not np.all(np.isfinite(widths_array)):
        raise InrdictError(f"a PSF of {name} {knobs} never falls to half its peak inside the {shape[0]}² grid: raise "
                           "grid_size or the resolutions")  # fmt: skip
    per_direction = widths_array.mean(axis=0)
    contrast = per_direction[2:].mean() / per_direction[:2].mean()  # diagonals over axes
    noise = max(float(np.sqrt(np.mean(np.concatenate(far) ** 2))), 1e-6)
    return {"fwhm": dict(zip(DIRECTIONS, per_direction.tolist())), "mean_fwhm": float(np.mean(per_direction)),
            "diagonal_over_axis": float(contrast), "anisotropy": float(abs(np.log10(contrast))),
            "snr_db": float(-20.0 * np.log10(noise))}  # fmt: skip


def _dense(n_min: int, n_max: float) -> dict:
    return {"n_min": n_min, "n_max": n_max}


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    seeds = [config.seed + i for i in range(config.n_seeds)]
    sweeps: dict[str, list[tuple[float | bool | int, dict]]] = {
        "n_max_sweep": [(n_max, _dense(n_min_for_average(config.levels, config.n_avg_fixed, n_max), n_max))
                        for n_max in config.n_max_sweep],
        "n_avg_sweep": [(n_avg, _dense(n_min_for_average(config.levels, n_avg, config.n_max_fixed),
                                       config.n_max_fixed)) for n_avg in config.n_avg_sweep],
        "anisotropy": [(rotate, {**_dense(config.anisotropy_n_min, config.anisotropy_n_max), "rotate": rotate})
                       for rotate in (False, True)],
        "collisions": [(log2, {**_dense(config.table_n_min, config.table_n_max), "log2_table": log2})
                       for log2 in config.log2_tables],
    }  # fmt: skip
    numbers: dict = {"centers": _centers(config), "seeds": seeds, "studies": {}}
    arrays: dict[str, np.ndarray] = {}
    for study, settings in sweeps.items():
        family = "hashgrid" if study == "collisions" else "grid"
        rows = []
        for value, knobs in settings:
            if progress:
                print(f"  {study}: {value} ({family}, {knobs})", flush=True)
            runs = [_spread(family, knobs, config, seed) for seed in seeds]
            resolutions = level_resolutions(config.levels, knobs["n_min"], knobs["n_max"])
            rows.append({"value": value, "family": family, "knobs": knobs, "n_avg": float(np.mean(resolutions)),
                         "resolutions": list(resolutions), "per_seed": runs,
                         **{q: float(np.mean([r[q] for r in runs])) for q in ("mean_fwhm", "diagonal_over_axis", "anisotropy", "snr_db")}})  # fmt: skip
        numbers["studies"][study] = rows
    arrays["example_psf"] = lens.point_spread(
        make_model("grid", 2, (64, 64), 1, key=model_key("grid", config.seed), levels=config.levels,
                   features=config.features, **_dense(config.anisotropy_n_min, config.anisotropy_n_max)),
        (config.grid_size, config.grid_size), _centers(config)[0],
    ).values  # fmt: skip
    return numbers, arrays


def _per_seed(row: dict, quantity: str) -> np.ndarray:
    return np.array([run[quantity] for run in row["per_seed"]])


def claims(numbers: dict, config: Config) -> dict[str, list[float]]:
    """The metrics (thresholds in the ledger), one value per seed."""
    s = numbers["studies"]
    n_avg, n_max = s["n_avg_sweep"], s["n_max_sweep"]
    fwhm_over_n_max = np.stack([_per_seed(row, "mean_fwhm") for row in n_max])  # (sweep, seeds)
    axis_aligned, rotated = s["anisotropy"]
    tables = s["collisions"]
    return {
        "fwhm_falls_as_n_avg_grows": (_per_seed(n_avg[0], "mean_fwhm") / _per_seed(n_avg[-1], "mean_fwhm")).tolist(),
        "fwhm_nearly_constant_in_n_max_at_fixed_n_avg": (fwhm_over_n_max.max(0) / fwhm_over_n_max.min(0)).tolist(),
        "axis_aligned_grid_is_anisotropic": _per_seed(axis_aligned, "anisotropy").tolist(),
        "rotated_levels_reduce_anisotropy": (_per_seed(axis_aligned, "anisotropy")
                                             - _per_seed(rotated, "anisotropy")).tolist(),
        "collisions_lower_snr": (_per_seed(tables[-1], "snr_db") - _per_seed(tables[0], "snr_db")).tolist(),
    }  # fmt: skip


def summary(numbers: dict) -> list[tuple[str, str]]:
    s = numbers["studies"]
    line = lambda rows, key: ", ".join(f"{r['value']:g}: {r[key]:.4g}" for r in rows)  # noqa: E731
    return [
        ("FWHM vs N_max", f"at N_avg ≈ {s['n_max_sweep'][0]['n_avg']:.1f}: {line(s['n_max_sweep'], 'mean_fwhm')}"),
        ("FWHM vs N_avg", f"at N_max = {s['n_avg_sweep'][0]['knobs']['n_max']:g}: {line(s['n_avg_sweep'], 'mean_fwhm')}"),
        ("diagonal / axis FWHM", f"axis-aligned {s['anisotropy'][0]['diagonal_over_axis']:.3f}, rotated {s['anisotropy'][1]['diagonal_over_axis']:.3f}"),
        ("SNR (dB) vs log2 T", line(s["collisions"], "snr_db")),
    ]  # fmt: skip


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """FWHM against N_max and N_avg, the directions' FWHM with and without rotation, SNR against T, and one PSF."""
    from inrdict.plotting import plt, save

    s = results["numbers"]["studies"]
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for study, label in (("n_max_sweep", "N_max (N_avg fixed)"), ("n_avg_sweep", "N_avg (N_max fixed)")):
        x = [row["n_avg"] if study == "n_avg_sweep" else row["value"] for row in s[study]]
        spread = [np.std([run["mean_fwhm"] for run in row["per_seed"]]) for row in s[study]]
        axes[0].errorbar(x, [row["mean_fwhm"] for row in s[study]], yerr=spread, marker="o", label=label)
    axes[0].set(xscale="log", yscale="log", xlabel="resolution (cells per unit)", ylabel="mean FWHM",
                title="PSF width (dense levels)")  # fmt: skip
    axes[0].legend(fontsize=8)
    for offset, row in zip((-0.2, 0.2), s["anisotropy"]):
        values = [np.mean([run["fwhm"][d] for run in row["per_seed"]]) for d in DIRECTIONS]
        axes[1].bar(np.arange(4) + offset, values, width=0.4,
                    label=f"{'rotated' if row['value'] else 'axis-aligned'} ({row['anisotropy']:.3f})")  # fmt: skip
    axes[1].set_xticks(range(4), ["axis 0", "axis 1", "diagonal", "anti-diag."])
    axes[1].set(ylabel="FWHM", title="FWHM by direction (anisotropy)")
    axes[1].legend(fontsize=8)
    tables = s["collisions"]
    axes[2].plot([row["value"] for row in tables], [row["snr_db"] for row in tables], marker="o")
    axes[2].set(xlabel="log2 T", ylabel="SNR (dB)", title="hash collisions: PSF SNR")
    psf = arrays["example_psf"]
    axes[3].imshow(psf, cmap="RdBu_r", vmin=-1, vmax=1)
    axes[3].set(title="a PSF (axis-aligned multigrid)", xticks=[], yticks=[])
    fig.suptitle("Grid encodings: the NTK's point spread function at initialisation", fontsize=10)
    fig.tight_layout()
    save(fig, out_dir, "overview")

"""Which predictor of learnability holds across INR families (beyond the paper)? Each family at a shared learning
rate and at its own best one, three predictors, Spearman with bootstrap intervals over seeds and faces.

Every model of `inrdict.models.MODEL_NAMES` at its reference settings and about the paper's SIREN's size
(`matched_hidden`), each on its authors' coordinate domain (`Family.domain`), `n_seeds` initialisations each.
Per family and seed, on the 32² NTK grid (dense float64 spectrum):

* predictors, from the NTK at initialisation and the held-out faces only (no training):
  - E(0.1) (SPEC §4), and E at 1e-2 / 1e-3 (recorded beside it);
  - `energy_area`: the area under E(λ/λ₀) per decade of λ/λ₀ over [10^-area_decades, 1] (`lens.Energy.area`, in
    [0, 1]; a face whose energy sits on eigenvalues within one decade of λ₀ scores about 1 − 1/area_decades);
  - `initial_psnr`: the held-out PSNR of the initialisation itself (PSNR@0), a baseline: a predictor that only
    beats it says something about learning;
  - `linearised_psnr_at_k`: held-out PSNR after k steps of GD on the linearised network (`linearised_gd_psnr_db`)
    at η = n_train / (2 λ_max(Θ_train)), the largest step at which no mode overshoots. It uses the eigenvalue
    spread, the eigenvectors and the cross-kernel to the held-out pixels, not only energy ratios;
* targets: held-out PSNR@k after k Adam updates (Figs. 4/10's protocol, one seeded 50 % pixel mask), (a) at the
  shared lr 1e-4 of Figs. 4/10 and (b) at each family's best lr of `learning_rates`, chosen on `n_select` faces
  of the training split (mean held-out-pixel PSNR@k over seeds) and reported on the held-out faces.

The reference implementations train at their own rates (WIRE: 5e-3–2e-2, `wire_image_denoise.py`; MFN: 1e-2,
`image_rep.py`; FINER / SIREN 5e-4, Gauss 5e-3, FINER's `run_*.sh`): a shared 1e-4 starves some families.

Targets are PSNR@k and the gain PSNR@k − PSNR@0 (PSNR@k also carries the initial output: PSNR@0 is recorded as a
baseline predictor). Spearman across families of (mean over seeds and faces) predictor vs target, with a percentile
bootstrap interval (`n_bootstrap` resamples of seeds and faces, with replacement). Claims recorded whatever they
show: each predictor ranks the families as the target does (Spearman ≥ 0.7 with the interval's lower end above 0),
per protocol and target, and the best predictor beats the PSNR@0 baseline.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from inrdict.analysis import lens
from inrdict.errors import DivergenceError, InrdictError
from inrdict.experiments._evidence import holm
from inrdict.experiments._run import validate_config
from inrdict.experiments.studies import memo
from inrdict.experiments.studies.family_stats import (
    bootstrap_spearman,
    bootstrap_values,
    faces_for_tuning,
    resamples,
    spearman_of_means,
)
from inrdict.io import data
from inrdict.models import MODEL_NAMES, make_model, matched_hidden, model_key, model_knobs, on_reference_domain
from inrdict.models import family as _family
from inrdict.train.finetune import finetune, linearised_gd_psnr_db

NAME = "family_predictors"
TITLE = "Which predictor of learnability holds across INR families: E(0.1), area under E(λ), linearised GD (shared and per-family lr)"
DEFAULT_SECONDS = 450
IN_REPRODUCE = False  # a sweep (~7 min on 2 cores): `inrdict figure predictors`
PREDICTORS = (
    "energy_at_0.1",
    "energy_at_0.01",
    "energy_area",
    "linearised_psnr_at_k",
    "linearised_gain_at_k",
    "initial_psnr",
)
BASELINES = ("initial_psnr",)  # not a claim: what a predictor has to beat
PROTOCOLS = ("shared_lr", "tuned_lr")
TARGETS = ("shared_lr_psnr", "shared_lr_gain", "tuned_lr_psnr", "tuned_lr_gain")  # PSNR@k and PSNR@k − PSNR@0


@dataclasses.dataclass(frozen=True)
class Config:
    """Predictor comparison settings."""

    models: tuple[str, ...] = MODEL_NAMES
    parameters: int = 198_401  # the paper's SIREN's trained-parameter count
    n_seeds: int = 3
    grid_size: int = 32
    dataset: Literal["lfw", "celeba", "folder"] = "lfw"
    data_dir: str | None = None
    n_test: int = 20  # held-out faces the numbers are reported on
    n_select: int = 10  # training-split faces the learning rate is chosen on
    shared_lr: float = 1e-4  # Figs. 4/10 (SPEC §7: Adam 1e-4 for random initialisations)
    learning_rates: tuple[float, ...] = (3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
    iterations: int = 3
    psnr_iteration: int = 3
    area_decades: int = 4
    n_bootstrap: int = 2000
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        unknown = [name for name in self.models if name not in _family.names()]
        if unknown or len(self.models) < 3:
            raise InrdictError(f"models must name at least 3 of {', '.join(_family.names())} (a rank correlation), "
                               f"got {', '.join(self.models)}")  # fmt: skip
        if self.psnr_iteration > self.iterations or self.psnr_iteration < 1:
            raise InrdictError(
                f"psnr_iteration must be in 1..iterations ({self.iterations}), got {self.psnr_iteration}"
            )
        if not self.learning_rates or min(self.learning_rates) <= 0:
            raise InrdictError(f"learning_rates must be positive, got {self.learning_rates}")
        if self.grid_size**2 > lens.DENSE_MAX_POINTS:
            raise InrdictError(f"the linearised predictor needs the whole NTK: grid_size at most "
                               f"{int(lens.DENSE_MAX_POINTS ** 0.5)}, got {self.grid_size}")  # fmt: skip


DEFAULT = Config()
"""2-CPU preset (~7 min): 9 families × 3 seeds at 32², 20 held-out LFW faces, lr chosen on 10 training faces."""
PAPER = dataclasses.replace(DEFAULT, dataset="celeba", n_test=100, n_select=20, n_seeds=5)
"""CelebA (`--data-dir`), 100 held-out faces, 5 seeds."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def _finetune_psnr(model, points, images, mask, learning_rate: float, config: Config) -> np.ndarray:
    """(m,) held-out-pixel PSNR@k after k Adam updates at `learning_rate`; -inf where it diverged."""
    try:
        result = finetune(model, points, images, mask, iterations=config.iterations, optimizer="adam",
                          learning_rate=learning_rate)  # fmt: skip
    except DivergenceError:
        return np.full(len(images), -np.inf)
    return result.test_psnr_db[:, config.psnr_iteration]


def measure_seed(model, points, test, select, mask, config: Config) -> dict[str, np.ndarray]:
    """One initialisation: the predictors on the held-out faces, the lr sweep on the selection faces, PSNR@k at the
    shared lr on the held-out faces. (m,) arrays per quantity; `sweep` (n_lrs,) means."""
    spectrum, _ = memo.cached_ntk_spectrum(model, points, lens.SpectrumOptions("dense", precision="float64"))
    energy = lens.energy_concentration(spectrum, test)
    kernel = (spectrum.eigvecs * spectrum.eigvals[None, :]) @ spectrum.eigvecs.T
    initial = np.asarray(jax.vmap(model)(jnp.asarray(points, jnp.float32))[:, 0], np.float64)
    top = float(np.linalg.eigvalsh(kernel[np.ix_(mask, mask)])[-1])
    step = mask.sum() / (2.0 * top)
    _, predicted = linearised_gd_psnr_db(kernel, initial, test, mask, iterations=config.psnr_iteration,
                                         learning_rate=step)  # fmt: skip
    sweep = np.array([np.mean(_finetune_psnr(model, points, select, mask, lr, config)) for lr in config.learning_rates])
    return {
        "energy_at_0.1": energy.at_01, "energy_at_0.01": energy.at(1e-2),
        "energy_at_0.001": energy.at(1e-3), "energy_area": energy.area(config.area_decades),
        "linearised_psnr_at_k": predicted[:, config.psnr_iteration], "initial_psnr": predicted[:, 0],
        "linearised_gain_at_k": predicted[:, config.psnr_iteration] - predicted[:, 0],
        "linearised_step": np.array(step),
        "within_10pct": np.array(energy.within_10pct),
        "shared_lr": _finetune_psnr(model, points, test, mask, config.shared_lr, config), "sweep": sweep,
    }  # fmt: skip


def baseline_margins(arrays: dict, target: str, draws: list[tuple[np.ndarray, ...]]) -> dict:
    """Each predictor's Spearman minus the PSNR@0 baseline's on `target`, paired over the same resamples, with a
    simultaneous 95 % interval (Bonferroni over the predictors compared: the best of several is not chosen free)."""
    y = arrays[target]
    base = bootstrap_values(arrays[BASELINES[0]], y, draws)
    candidates = [p for p in PREDICTORS if p not in BASELINES and not _mismatched(p, target)]
    alpha = 0.05 / len(candidates)
    out = {}
    for predictor in candidates:
        delta = bootstrap_values(arrays[predictor], y, draws) - base
        delta = delta[np.isfinite(delta)]
        point = spearman_of_means(arrays[predictor], y) - spearman_of_means(arrays[BASELINES[0]], y)
        low, high = np.percentile(delta, [100 * alpha / 2, 100 * (1 - alpha / 2)]) if delta.size else (np.nan, np.nan)
        out[predictor] = {"margin": float(point), "simultaneous_low": float(low), "simultaneous_high": float(high)}
    return out


def _mismatched(predictor: str, target: str) -> bool:
    """The linearised PSNR@k predicts PSNR@k, its gain the gain: not the other target."""
    linearised = {"linearised_psnr_at_k": "psnr", "linearised_gain_at_k": "gain"}.get(predictor)
    return linearised is not None and not target.endswith(linearised)


class _Faces(NamedTuple):
    """The grid, its seeded training mask and the held-out (test) and selection faces (m, N)."""

    points: np.ndarray
    mask: np.ndarray
    test: np.ndarray
    select: np.ndarray


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    start = time.perf_counter()
    dataset, test, select = faces_for_tuning(config, "the learning rate")
    points = data.ntk_grid(config.grid_size)
    faces = _Faces(points, lens.pixel_mask(points.shape[0], config.seed, 0.5), test, select)
    families = {name: _measure_family(name, config, faces, progress) for name in config.models}
    arrays: dict[str, np.ndarray] = {}
    stacked = lambda q: np.stack([[r[q] for r in families[n]["records"]] for n in config.models])  # (F, S, m)  # noqa: E731
    for predictor in PREDICTORS:
        arrays[predictor] = stacked(predictor)
    for protocol in PROTOCOLS:
        arrays[f"{protocol}_psnr"] = stacked(protocol)
        arrays[f"{protocol}_gain"] = arrays[f"{protocol}_psnr"] - arrays["initial_psnr"]  # PSNR@0 is the initial one
    correlations, margins = _statistics(arrays, config)
    for f in families.values():
        f.pop("records")
    numbers = {"dataset": dataset, "n_test_images": int(test.shape[0]), "n_select_images": int(select.shape[0]),
               "n_seeds": config.n_seeds, "psnr_iteration": config.psnr_iteration,
               "protocol": lens.protocol_text(faces.mask, config.psnr_iteration) + " (Adam)",
               "families": families, "correlations": correlations, "baseline_margins": margins,
               "n_families": len(config.models), "statistics": "Spearman across families of means over seeds and faces; "
               "95 % percentile intervals over resamples of families, seeds and faces; exact permutation p-values over "
               "the families' orders, Holm-adjusted over every predictor × target; margins over PSNR@0 paired, with "
               "simultaneous (Bonferroni) intervals",
               "best_predictor": {t: max((q for q in PREDICTORS if q not in BASELINES and not _mismatched(q, t)),
                                         key=lambda q: _score(correlations[f"{q}_vs_{t}"])) for t in TARGETS},
               "seconds": time.perf_counter() - start}  # fmt: skip
    return numbers, arrays


def _measure_family(name: str, config: Config, faces: _Faces, progress: bool) -> dict[str, Any]:
    """One family at the matched budget, one model per seed: its predictors and PSNR@k per seed (`records`), the
    selection faces' lr sweep (mean over seeds), the tuned lr and the means and seed spreads."""
    points, mask, test, select = faces
    seeds = [config.seed + i for i in range(config.n_seeds)]
    hidden = matched_hidden(name, config.parameters)
    models = [on_reference_domain(name, make_model(name, 2, hidden, 1, key=model_key(name, s))) for s in seeds]
    records = []
    for s, model in zip(seeds, models):
        if progress:
            print(f"  {name} seed {s}: spectrum, predictors, lr sweep", flush=True)
        records.append(measure_seed(model, points, test, select, mask, config))
    sweep = np.mean([r["sweep"] for r in records], axis=0)  # (n_lrs,) over seeds
    best = int(np.argmax(np.where(np.isfinite(sweep), sweep, -np.inf)))
    tuned_lr = float(config.learning_rates[best])
    for r, model in zip(records, models):
        r["tuned_lr"] = (r["shared_lr"] if tuned_lr == config.shared_lr
                         else _finetune_psnr(model, points, test, mask, tuned_lr, config))  # fmt: skip
    return {
        "knobs": {k: v for k, v in model_knobs(name).items() if k != "domain"},
        "coordinate_domain": list(_family.get(name).domain), "hidden": list(hidden),
        "selection_psnr_by_lr": dict(zip(map(str, config.learning_rates), sweep.tolist())),
        "tuned_lr": tuned_lr,
        **{q: float(np.mean([np.mean(r[q]) for r in records])) for q in (*PREDICTORS, "energy_at_0.001")},
        **{f"psnr_at_k_{p}": float(np.mean([np.mean(r[p]) for r in records])) for p in PROTOCOLS},
        **{f"{q}_seed_std": float(np.std([np.mean(r[q]) for r in records])) for q in (*PREDICTORS, *PROTOCOLS)},
        "linearised_step": float(np.mean([r["linearised_step"] for r in records])),
        "eigenvalues_within_10pct": float(np.mean([r["within_10pct"] for r in records])),
        "records": records,
    }  # fmt: skip


def _statistics(arrays: dict[str, np.ndarray], config: Config) -> tuple[dict, dict]:
    """(Spearman correlations of every predictor with every target, with bootstrap intervals and Holm-adjusted
    permutation p-values; each target's margins over the baselines)."""
    correlations, margins = {}, {}
    draws = resamples(arrays[PREDICTORS[0]].shape, config.n_bootstrap, config.seed)
    for target in TARGETS:
        y = arrays[target]
        for predictor in PREDICTORS:
            correlations[f"{predictor}_vs_{target}"] = (
                bootstrap_spearman(arrays[predictor], y, draws) if np.isfinite(y).all()
                else {"spearman": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "resamples": 0,
                      "permutation_p": float("nan")})  # fmt: skip
        margins[target] = baseline_margins(arrays, target, draws) if np.isfinite(y).all() else {}
    tested = {k: c["permutation_p"] for k, c in correlations.items()
              if not k.startswith(BASELINES[0]) and np.isfinite(c["permutation_p"])}  # fmt: skip
    for key, p in holm(tested).items():  # family-wise over every predictor × target test
        correlations[key]["permutation_p_holm"] = p
    return correlations, margins


def _score(c: dict) -> float:
    return c["spearman"] if np.isfinite(c["spearman"]) else -np.inf


def claims(numbers: dict, config: Config) -> dict[str, object]:
    """Recorded whatever the outcome (thresholds in the ledger): each predictor's (not the PSNR@0 baseline's)
    Spearman across families with PSNR@k and with the gain PSNR@k − PSNR@0, with its 95 % interval over resamples
    of families, seeds and faces, at the shared and at the tuned learning rate; and, per target, the largest margin
    of a predictor over the PSNR@0 baseline with its simultaneous interval (the predictor whose interval's lower end
    is highest: a paired bootstrap, Bonferroni over the predictors, so choosing the best is paid for)."""
    c = {k: {q: (float(v) if isinstance(v, (int, float)) else float("nan")) for q, v in d.items()}
         for k, d in numbers["correlations"].items()}  # fmt: skip
    result: dict[str, object] = {}
    for target in TARGETS:
        for predictor in PREDICTORS:
            if predictor in BASELINES or _mismatched(predictor, target):
                continue
            here = c[f"{predictor}_vs_{target}"]
            result[f"{predictor}_predicts_{target}"] = {"estimate": here["spearman"], "n": numbers.get("n_families"),
                                                        "interval": [here["ci_low"], here["ci_high"]]}  # fmt: skip
        margins = numbers.get("baseline_margins", {}).get(target, {})
        if margins:
            best = max(
                margins.values(), key=lambda m: m["simultaneous_low"] if np.isfinite(m["simultaneous_low"]) else -np.inf
            )
            result[f"some_predictor_beats_the_psnr0_baseline_on_{target}"] = {
                "estimate": best["margin"],
                "interval": [best["simultaneous_low"], best["simultaneous_high"]],
            }
        else:
            result[f"some_predictor_beats_the_psnr0_baseline_on_{target}"] = None
    return result


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """The tuned lr is the sweep's best on the selection faces (no worse there than the shared lr when the shared lr
    is in the sweep): true by construction."""
    ok = True
    for f in numbers["families"].values():
        sweep = {float(k): v for k, v in f["selection_psnr_by_lr"].items()}
        finite = {k: v for k, v in sweep.items() if isinstance(v, float) and np.isfinite(v)}
        ok &= not finite or sweep[f["tuned_lr"]] == max(finite.values())
    return {"tuned_lr_is_the_sweeps_best_on_selection_faces": bool(ok)}


def summary(numbers: dict) -> list[tuple[str, str]]:
    k = numbers["psnr_iteration"]
    rows = [(name, (f"E(0.1) {f['energy_at_0.1']:.3f}  area {f['energy_area']:.3f}  linearised PSNR@{k} "
                   f"{f['linearised_psnr_at_k']:6.2f}  |  PSNR@{k}: lr 1e-4 {f['psnr_at_k_shared_lr']:6.2f}, "
                   f"own lr {f['tuned_lr']:g} {f['psnr_at_k_tuned_lr']:6.2f}"))
            for name, f in numbers["families"].items()]  # fmt: skip
    for key, c in numbers["correlations"].items():
        rows.append((key, (f"Spearman {lens.format_number(c['spearman'], '+.2f')} "
                          f"[{lens.format_number(c['ci_low'], '+.2f')}, {lens.format_number(c['ci_high'], '+.2f')}]")))  # fmt: skip
    return rows


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """One row per target (protocol × PSNR@k or gain), one panel per predictor: family means (± std over seeds)."""
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    families = list(numbers["families"])
    colors = dict(zip(families, plt.cm.tab10(np.linspace(0, 1, 10))))
    fig, axes = plt.subplots(len(TARGETS), len(PREDICTORS), figsize=(3.3 * len(PREDICTORS), 3.0 * len(TARGETS)),
                             squeeze=False)  # fmt: skip
    for i, target in enumerate(TARGETS):
        y = np.asarray(arrays[target], float).mean(axis=2)  # (F, S)
        for j, predictor in enumerate(PREDICTORS):
            ax = axes[i, j]
            x = np.asarray(arrays[predictor], float).mean(axis=2)
            for index, name in enumerate(families):
                ax.errorbar(x[index].mean(), y[index].mean(), xerr=x[index].std(), yerr=y[index].std(), fmt="o",
                            color=colors[name], label=name, capsize=2)  # fmt: skip
            c = numbers["correlations"][f"{predictor}_vs_{target}"]
            ax.set_title(f"ρ {lens.format_number(c['spearman'], '+.2f')} "
                         f"[{lens.format_number(c['ci_low'], '+.2f')}, {lens.format_number(c['ci_high'], '+.2f')}]",
                         fontsize=8)  # fmt: skip
            ax.tick_params(labelsize=7)
            if i == len(TARGETS) - 1:
                ax.set_xlabel(predictor, fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{target.replace('_', ' ')} (dB)", fontsize=8)
    axes[0, -1].legend(fontsize=7, loc=(1.02, 0.0))
    fig.suptitle(f"Predictors of learnability across INR families ({numbers['n_test_images']} held-out "
                 f"{numbers['dataset']} faces, {numbers['n_seeds']} seeds; 95 % bootstrap intervals)")  # fmt: skip
    fig.tight_layout()
    save(fig, out_dir, "overview")

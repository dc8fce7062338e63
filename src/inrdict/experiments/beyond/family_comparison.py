"""INR families compared on a grid every family can resolve, each trained as its authors train it and tuned on
training faces (beyond the paper): does E(0.1) rank the families as their learning does?

The 32² comparison (`inrdict figure families`) put the reference settings of Gauss, WIRE, sinc and FINER above the
grid's Nyquist rate and ran every family at one lr, so its ranking mostly reflected mis-set knobs. Here, per family
(`inrdict.models.MODEL_NAMES`, each at about the paper's SIREN's size, `matched_hidden`):

1. **Training as its authors run it** (each family's first `Recipe`, sources there): Adam with the run's
   schedule (the first k steps of `LambdaLR(factor ** min(t / T, 1))`), lr scaled as the run scales it (WIRE:
   × min(1, 256² / HW)), pixels mapped to the run's target range ([-1, 1] for SIREN, FINER, Gauss, MFN), the run's
   coordinate domain and depth. PSNR is always reported for pixels in [0, 1] (PSNR_[0,1] = PSNR_target +
   20 log10(high − low)).
2. **Knob, then lr, chosen on training faces** (`n_select` faces of the training split, never the test faces):
   the frequency knob (`Family.knob`) over the run's value × `knob_factors` at the run's lr, then the lr over
   the run's lr × `lr_factors` at the chosen knob; each sweep is extended past an edge (knob ×2, lr ×10) until its
   best is inside (at most `max_extensions` times; `knob_optimum_inside` and `lr_optimum_inside` record whether
   it is). The criterion: mean held-out-pixel PSNR@k,
   k = `select_iteration`, over the selection faces.
3. **Measured on the held-out faces**, per seed: E(0.1) on the NTK eigenvectors of the tuned model on the
   `grid_size`² grid (dense spectrum); held-out-pixel PSNR after each k of `iterations` (one seeded 50 % mask);
   PSNR@0; and the **control with the initial output subtracted**: the same training on targets y + f₀(r), so that
   f − f₀ fits y and every family starts from a zero output (its PSNR@0 is the same for all families).

The predictor study (`inrdict figure predictors`) under the same settings: besides E(0.1), E(0.01), the area under
E(λ) per decade and the linearised network's PSNR@k (GD at η = n_train / (2 λ_max), dense route only) are recorded,
and the PSNR@0 baseline beside them. Spearman across families of each predictor against PSNR@k and against the
control's PSNR@k, with a 95 % percentile interval over resamples of families, seeds and faces
(`studies.family_stats.bootstrap_spearman`). The lr is chosen at one k (`select_iteration`) and used for every k.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Literal, cast

import jax
import jax.numpy as jnp
import numpy as np

from inrdict.analysis import lens
from inrdict.errors import DivergenceError, InrdictError
from inrdict.experiments._run import validate_config
from inrdict.experiments.studies.family_stats import bootstrap_spearman, faces_for_tuning, resamples
from inrdict.io import data
from inrdict.models import MODEL_NAMES, INRModel, OnDomain, make_model, matched_hidden, model_key, model_knobs
from inrdict.models import family as _family
from inrdict.train import recipes
from inrdict.train.finetune import finetune, linearised_gd
from inrdict.train.recipes import Recipe, recipe

NAME = "family_comparison"
TITLE = "INR families at a resolvable grid, trained as their authors train them, knob and lr tuned on training faces"
DEFAULT_SECONDS = 3240  # measured: 3244 s for the committed default run (2 cores)
IN_REPRODUCE = False  # a sweep (~55 min on 2 cores): `inrdict figure family_comparison`
PREDICTORS = ("energy_at_0.1", "energy_at_0.01", "energy_area", "psnr_at_0")  # and the linearised PSNR@k per k


@dataclasses.dataclass(frozen=True)
class Config:
    """Family comparison at a resolvable grid (default: about 55 minutes on 2 CPU cores)."""

    models: tuple[str, ...] = MODEL_NAMES
    parameters: int = 198_401  # the paper's SIREN's trained-parameter count
    grid_size: int = 64  # 64² dense; 128² needs the top-k route (`spectrum`)
    spectrum: Literal["dense", "stored", "matrix_free"] = "dense"
    top_k: int = 256
    dataset: Literal["lfw", "celeba", "folder"] = "lfw"
    data_dir: str | None = None
    n_test: int = 6
    n_select: int = 2
    n_seeds: int = 1
    knob_factors: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    lr_factors: tuple[float, ...] = (0.1, 1.0, 10.0)
    max_extensions: int = 3
    select_iteration: int = 30
    iterations: tuple[int, ...] = (3, 30, 300)
    n_bootstrap: int = 2000
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        unknown = [name for name in self.models if name not in _family.names() or name not in _family.with_recipes()]
        if unknown or len(self.models) < 3:
            raise InrdictError(
                f"models must name at least 3 of {', '.join(_family.names())}, got {', '.join(self.models)}"
            )
        if not self.iterations or min(self.iterations) < 1 or self.select_iteration > max(self.iterations):
            raise InrdictError(f"iterations must be positive and include a step ≥ select_iteration "
                               f"({self.select_iteration}), got {self.iterations}")  # fmt: skip
        if self.spectrum == "dense" and self.grid_size**2 > lens.DENSE_MAX_POINTS:
            raise InrdictError(f"a dense spectrum takes at most {lens.DENSE_MAX_POINTS} points; grid_size "
                               f"{self.grid_size} needs --set spectrum=stored (top-k)")  # fmt: skip


DEFAULT = Config()
"""2-CPU preset (~55 min): 9 families, one seed, 64² dense, lr and knob chosen on 2 training faces, 6 held-out LFW
faces, PSNR@3/30/300."""
PAPER = dataclasses.replace(DEFAULT, grid_size=128, spectrum="stored", dataset="celeba", n_test=50, n_select=10,
                            n_seeds=3)  # fmt: skip
"""128² (top-k spectrum), CelebA (`--data-dir`), 50 held-out faces, 10 selection faces, 3 seeds."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


def build(name: str, run: Recipe, config: Config, factor: float, seed: int):
    """Family `name` at the run's knobs with its frequency knob × `factor`, on the run's domain."""
    knob = _family.get(name).knob
    knobs = dict(run.knobs)
    if knob is not None:
        knobs[knob] = float(knobs.get(knob, model_knobs(name)[knob])) * factor
    hidden = _family.get(name).hidden or matched_hidden(name, config.parameters, depth=run.depth, **knobs)  # grids: own
    model = make_model(name, 2, hidden, 1, key=model_key(name, seed), **knobs)
    low, high = run.domain
    return (model if (low, high) == (0.0, 1.0) else OnDomain(cast(INRModel, model), low, high)), knobs


def train_psnr(model, run: Recipe, points, images, mask, lr: float, iterations: int, control: bool = False):
    """(m, iterations + 1) held-out-pixel PSNR in [0, 1] units over the run's first `iterations` steps at base rate
    `lr`; with `control`, of f − f₀ against the targets (training on y + f₀). -inf rows where training diverged."""
    targets = run.to_target(images)
    if control:
        targets = targets + np.asarray(jax.vmap(model)(jnp.asarray(points, jnp.float32))[:, 0])[None, :]
    optimizer = recipes.optimizer(run, len(points), learning_rate=lr)
    try:
        result = finetune(model, points, targets, mask, iterations=iterations, optimizer=optimizer,
                          learning_rate=run.initial_lr(len(points), lr))  # fmt: skip
    except DivergenceError:
        return np.full((len(images), iterations + 1), -np.inf)
    low, high = run.target_range
    return result.test_psnr_db + 20 * np.log10(high - low)


def _score(curve: np.ndarray, k: int) -> float:
    values = curve[:, k]
    return float(np.mean(values)) if np.all(np.isfinite(values)) else -np.inf


def sweep(values, score, step: float, extensions: int) -> tuple[float, dict[float, float], bool]:
    """Score `values`; while the best is at an edge, try one more value `step`× beyond it (at most `extensions`
    times). Returns (best, {value: score}, whether the best is inside the values tried)."""
    tried: dict[float, float] = {}
    todo = sorted(values)
    for extension in range(extensions + 1):
        tried.update({v: score(v) for v in todo if v not in tried})
        ordered = sorted(tried)
        best = max(ordered, key=lambda v: tried[v])
        inside = ordered[0] < best < ordered[-1]
        if inside or extension == extensions:
            break
        todo = [best / step] if best == ordered[0] else [best * step]
    return best, tried, inside


def select(name: str, run: Recipe, config: Config, points, faces, mask, progress: bool) -> dict:
    """The knob factor (at the run's lr), then the lr, with the best mean PSNR@select_iteration on the selection
    faces; each sweep extended past an edge (knob ×2, lr ×10) until its best is inside."""
    k = config.select_iteration

    def knob_score(factor: float) -> float:
        model, _ = build(name, run, config, factor, config.seed)
        return _score(train_psnr(model, run, points, faces, mask, run.learning_rate, k), k)

    if _family.get(name).knob is None:
        factor, by_knob, knob_inside = 1.0, {1.0: knob_score(1.0)}, True
    else:
        factor, by_knob, knob_inside = sweep(config.knob_factors, knob_score, 2.0, config.max_extensions)
    model, knobs = build(name, run, config, factor, config.seed)
    best, by_lr, inside = sweep(
        [run.learning_rate * f for f in config.lr_factors],
        lambda lr: _score(train_psnr(model, run, points, faces, mask, lr, k), k),
        10.0,
        config.max_extensions,
    )
    if progress:
        edges = ("" if knob_inside else " knob at the sweep edge") + ("" if inside else " lr at the sweep edge")
        print(f"  {name}: knob ×{factor:g} ({knobs}), lr {best:g}{edges}", flush=True)
    return {"knob_factor": factor, "knobs": knobs, "learning_rate": best, "lr_optimum_inside": bool(inside),
            "knob_optimum_inside": bool(knob_inside),
            "selection_psnr_by_knob_factor": {f"{f:g}": by_knob[f] for f in sorted(by_knob)},
            "selection_psnr_by_lr": {f"{lr:.3g}": by_lr[lr] for lr in sorted(by_lr)}}  # fmt: skip


def linearised_psnr(spectrum: lens.Spectrum, initial: np.ndarray, run: Recipe, test, mask, ks) -> dict[int, np.ndarray]:
    """k → (m,) held-out PSNR (in [0, 1] units) of the linearised network after k GD steps on the run's targets at
    η = n_train / (2 λ_max(Θ_train)) (`family_predictors`' predictor), from the dense spectrum's kernel."""
    kernel = (spectrum.eigvecs * spectrum.eigvals[None, :]) @ spectrum.eigvecs.T
    step = mask.sum() / (2.0 * float(np.linalg.eigvalsh(kernel[np.ix_(mask, mask)])[-1]))
    steps = linearised_gd(kernel, initial, run.to_target(test), mask, step)
    low, high = run.target_range
    return {k: np.asarray(steps(k)[1]) + 20 * np.log10(high - low) for k in ks}


def measure(name: str, run: Recipe, chosen: dict, config: Config, points, test, mask, seed: int) -> dict:
    """One seed of the tuned family on the held-out faces: the predictors (E(0.1), E(0.01), the area under E(λ),
    the linearised PSNR@k on the dense route), PSNR curves and the control's."""
    model, _ = build(name, run, config, chosen["knob_factor"], seed)
    spectrum = lens.ntk_spectrum(model, points, lens.SpectrumOptions(config.spectrum, config.top_k))
    energy = lens.energy_concentration(spectrum, test)
    steps = max(config.iterations)
    curve = train_psnr(model, run, points, test, mask, chosen["learning_rate"], steps)
    control = train_psnr(model, run, points, test, mask, chosen["learning_rate"], steps, control=True)
    initial = np.asarray(jax.vmap(model)(jnp.asarray(points, jnp.float32))[:, 0], np.float64)
    linear = (linearised_psnr(spectrum, initial, run, test, mask, config.iterations) if spectrum.route == "dense"
              else {k: np.full(len(test), np.nan) for k in config.iterations})  # fmt: skip
    return {"energy_at_0.1": energy.at_01, "energy_at_0.01": energy.at(1e-2), "energy_area": energy.area(4),
            "linearised": linear, "psnr_curve": curve, "control_curve": control,
            "within_10pct": energy.within_10pct}  # fmt: skip


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    start = time.perf_counter()
    dataset, test, chosen_faces = faces_for_tuning(config, "the knob and lr")
    points = np.asarray(data.ntk_grid(config.grid_size))
    mask = lens.pixel_mask(points.shape[0], config.seed, 0.5)
    seeds = [config.seed + i for i in range(config.n_seeds)]
    families, records = {}, {}
    for name in config.models:
        run = recipe(name)
        chosen = select(name, run, config, points, chosen_faces, mask, progress)
        records[name] = [measure(name, run, chosen, config, points, test, mask, s) for s in seeds]
        curves = np.stack([r["psnr_curve"] for r in records[name]])  # (S, m, steps + 1)
        controls = np.stack([r["control_curve"] for r in records[name]])
        families[name] = {
            "recipe": {"name": run.name, "source": run.source, "learning_rate": run.learning_rate,
                       "final_lr_factor": run.final_lr_factor, "steps": run.steps,
                       "target_range": list(run.target_range), "domain": list(run.domain), "depth": run.depth},
            **chosen, "energy_at_0.1": float(np.mean([r["energy_at_0.1"] for r in records[name]])),
            "eigenvalues_within_10pct": float(np.mean([r["within_10pct"] for r in records[name]])),
            "psnr_at_0": float(curves[..., 0].mean()), "control_psnr_at_0": float(controls[..., 0].mean()),
            **{f"psnr_at_{k}": float(curves[..., k].mean()) for k in config.iterations},
            **{f"control_psnr_at_{k}": float(controls[..., k].mean()) for k in config.iterations},
        }  # fmt: skip
    stacked = lambda f: np.stack([[f(r) for r in records[n]] for n in config.models])  # (F, S, m)  # noqa: E731
    arrays = {q: stacked(lambda r, q=q: r[q]) for q in ("energy_at_0.1", "energy_at_0.01", "energy_area")}
    arrays["psnr_at_0"] = stacked(lambda r: r["psnr_curve"][:, 0])
    for k in config.iterations:
        arrays[f"psnr_at_{k}"] = stacked(lambda r, k=k: r["psnr_curve"][:, k])
        arrays[f"control_psnr_at_{k}"] = stacked(lambda r, k=k: r["control_curve"][:, k])
        arrays[f"linearised_psnr_at_{k}"] = stacked(lambda r, k=k: r["linearised"][k])
    draws = resamples(arrays["energy_at_0.1"].shape, config.n_bootstrap, config.seed)
    correlations = {}
    for k in config.iterations:
        for predictor in (*PREDICTORS, f"linearised_psnr_at_{k}"):
            for target in (f"psnr_at_{k}", f"control_psnr_at_{k}"):
                x, y = arrays[predictor], arrays[target]
                name = predictor.replace(f"_at_{k}", "") if predictor.startswith("linearised") else predictor
                correlations[f"{name}_vs_{target}"] = (
                    bootstrap_spearman(x, y, draws) if np.isfinite(x).all() and np.isfinite(y).all() else None
                )
    numbers = {"dataset": dataset, "n_test_images": int(test.shape[0]), "n_select_images": int(chosen_faces.shape[0]),
               "n_seeds": config.n_seeds, "n_families": len(config.models), "iterations": list(config.iterations),
               "protocol": lens.protocol_text(mask, config.select_iteration) + " (Adam, each family's schedule)",
               "families": families, "correlations": correlations,
               "statistics": "Spearman across families of means over seeds and faces; 95 % percentile intervals over "
                             "resamples of families, seeds and faces", "seconds": time.perf_counter() - start}  # fmt: skip
    return numbers, arrays


def claims(numbers: dict, config: Config) -> dict[str, object]:
    """Recorded whatever the outcome (thresholds in the ledger): Spearman across families of E(0.1) and held-out
    PSNR@k at the tuned settings, of E(0.1) and the control's PSNR@k, of the other predictors of `family_predictors`
    (the area under E(λ), the linearised PSNR@k) and PSNR@k, and, beside them, of the trivial baseline PSNR@0 and
    PSNR@k, each with its 95 % interval."""
    result: dict[str, object] = {}
    for k in config.iterations:
        for predictor, target, claim in (
            ("energy_at_0.1", f"psnr_at_{k}", f"energy_predicts_tuned_psnr_at_{k}"),
            ("energy_at_0.1", f"control_psnr_at_{k}", f"energy_predicts_control_psnr_at_{k}"),
            ("psnr_at_0", f"psnr_at_{k}", f"psnr0_baseline_predicts_tuned_psnr_at_{k}"),
            ("energy_area", f"psnr_at_{k}", f"energy_area_predicts_tuned_psnr_at_{k}"),
            ("linearised_psnr", f"psnr_at_{k}", f"linearised_psnr_predicts_tuned_psnr_at_{k}"),
        ):
            c = numbers["correlations"].get(f"{predictor}_vs_{target}")
            result[claim] = None if c is None else {"estimate": c["spearman"], "n": numbers["n_families"],
                                                    "interval": [c["ci_low"], c["ci_high"]]}  # fmt: skip
    return result


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """Every family's chosen lr is the best it tried on the selection faces (true by construction)."""
    best = all(
        f["selection_psnr_by_lr"][f"{f['learning_rate']:.3g}"] == max(f["selection_psnr_by_lr"].values())
        for f in numbers["families"].values()
    )
    return {"chosen_lr_is_the_best_tried": bool(best)}


def summary(numbers: dict) -> list[tuple[str, str]]:
    ks = numbers["iterations"]
    rows = [(name, (f"knob ×{f['knob_factor']:g}  lr {f['learning_rate']:.3g}{'' if f['lr_optimum_inside'] else '*'}  "
                    f"E(0.1) {f['energy_at_0.1']:.3f}  PSNR@0 {f['psnr_at_0']:5.2f}  "
                    + "  ".join(f"@{k} {f[f'psnr_at_{k}']:5.2f} (ctrl {f[f'control_psnr_at_{k}']:5.2f})" for k in ks)))
            for name, f in numbers["families"].items()]  # fmt: skip
    for key, c in numbers["correlations"].items():
        if c is not None:
            interval = f"[{lens.format_number(c['ci_low'], '+.2f')}, {lens.format_number(c['ci_high'], '+.2f')}]"
            rows.append((key, f"Spearman {lens.format_number(c['spearman'], '+.2f')} {interval}"))
    return rows


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """E(0.1) against PSNR@k (top) and against the control's PSNR@k (bottom), one panel per k: family means ± std
    over seeds and faces, Spearman with its interval in each title."""
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    families, ks = list(numbers["families"]), numbers["iterations"]
    colors = dict(zip(families, plt.cm.tab10(np.linspace(0, 1, 10))))
    fig, axes = plt.subplots(2, len(ks), figsize=(4.2 * len(ks), 7.0), squeeze=False)
    x = np.asarray(arrays["energy_at_0.1"], float)
    for row, prefix in enumerate(("psnr_at_", "control_psnr_at_")):
        for col, k in enumerate(ks):
            ax, y = axes[row, col], np.asarray(arrays[f"{prefix}{k}"], float)
            for index, name in enumerate(families):
                ax.errorbar(x[index].mean(), y[index].mean(), xerr=x[index].std(), yerr=y[index].std(), fmt="o",
                            color=colors[name], label=name, capsize=2)  # fmt: skip
            c = numbers["correlations"].get(f"energy_at_0.1_vs_{prefix}{k}")
            title = "" if c is None else (f"ρ {lens.format_number(c['spearman'], '+.2f')} [{lens.format_number(c['ci_low'], '+.2f')}, "
                                          f"{lens.format_number(c['ci_high'], '+.2f')}]")  # fmt: skip
            ax.set(xlabel="E(0.1) (held-out faces)", ylabel=f"{'control ' if row else ''}PSNR@{k} (dB)", title=title)
    axes[0, -1].legend(fontsize=7, loc=(1.02, 0.0))
    fig.suptitle(f"INR families, tuned on training faces ({numbers['n_test_images']} held-out {numbers['dataset']} "
                 f"faces, {results['config']['grid_size']}² grid; bottom: initial output subtracted)")  # fmt: skip
    fig.tight_layout()
    save(fig, out_dir, "overview")

"""Analyse any INR through the dictionary lens: `inrdict analyse MODEL` (beyond the paper).

MODEL (the `model` field) is a model name with knob fields (relu, ffn, siren, gauss, wire, wire_real, finer, sinc,
mfn; e.g. ``analyse wire --set omega0=20``), ``package.module:factory`` returning your own single-output Equinox
module (called with ``key=``), or an inrdict checkpoint file (see `studies.specs` for the grammar). One run measures:

* the empirical NTK on the grid_size² grid `linspace(0, 1, N+1)[:-1]` (SPEC §2, §4): its spectrum and decay
  (eigenvalues within 10 % of λ₀, where λ_i/λ₀ drops below 10^-p), all eigenpairs up to 64² and the `top_k`
  largest (matrix-free, `inrdict.ntk`) above — E(t) is then exact only for t ≥ λ_k/λ₀ and the curve
  stops there;
* the top `n_eigenvectors` eigenvectors (the dictionary's first atoms), their dominant spatial frequencies, and the
  radial power spectrum of their span;
* E(λ) and E(0.1) of held-out faces and PSNR@k after the fine-tuning protocol (`inrdict.analysis.lens.analyse`, one row:
  one seeded 50 % pixel mask, Adam at `random_lr`, held-out PSNR after `psnr_iteration` updates);
* an aliasing score (Fig. 3's test on a 1-D version built with the same knobs, in_features = 1, widths
  `alias_hidden`): how far below the 23 Hz peak the 105 Hz alias sits on the 256-sample grid, in dB;
* a fit of the grayscale astronaut at fit_size² (full-batch Adam, all-pixel PSNR), `fit_steps` steps. Two
  protocols (`fit_protocol`): "figure2", the paper's Fig. 2 fit (coordinates `linspace(-1, 1, n)`, Adam at `fit_lr`,
  targets in [0, 1]); "recipe", the family's reference run (`inrdict.train.recipes`: its Adam (lr, β1, β2, ε), its
  schedule over `fit_steps`, its target range) on the model's own [0, 1)² grid, which the model maps to its
  authors' coordinates (the run's domain, e.g. [0, 1]² for the grid encodings). "auto": "figure2" for the paper's
  models (relu, ffn, siren) and anything not a family name, "recipe" for every other family. The Fig. 2 grid is
  [-1, 1)² in the model's own inputs, so for a family on its reference domain it is the wrong range: a grid
  encoding would see three quarters of the image outside its tables, and a family on [-1, 1] would see [-3, 1).

Writes `overview.png/pdf`, `results.json` and `arrays.npz` into the run folder (`figures/analyse_<name>` by default).
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import equinox as eqx
import numpy as np

from inrdict._keys import init_key
from inrdict.adapters import adapt
from inrdict.analysis import lens
from inrdict.analysis.fitting import unit_psnr
from inrdict.errors import InrdictError
from inrdict.experiments._run import validate_config
from inrdict.experiments.studies import learnability, memo
from inrdict.experiments.studies.specs import resolve_model
from inrdict.io import data
from inrdict.io.datasets import held_out_faces
from inrdict.models import OnDomain, count_parameters, model_key
from inrdict.models import family as _family
from inrdict.train import recipes
from inrdict.train.fit import Monitor
from inrdict.train.fit import fit as fit_points

if TYPE_CHECKING:  # PyTorch is optional: its INR wrapper imports torch
    from inrdict.pytorch.model import TorchINR

NAME = "analyse"
TITLE = "Any INR through the dictionary lens: NTK spectrum and atoms, E(0.1) and PSNR@3 on faces, aliasing, a fit"
DEFAULT_SECONDS = 40
IN_REPRODUCE = False  # a tool for any model, not a figure of the paper
STRONG_ALIAS_DB = 30.0  # Fig. 3: the ω0 = 300 SIREN's alias is within 30 dB of the peak, the ω0 = 30 one's far below


@dataclasses.dataclass(frozen=True)
class Config:
    """`analyse` settings. Knob fields left None keep the model's recommended settings (`families.model_knobs`)."""

    model: str = "siren"  # model name, package.module:factory, torch:package.module:factory, or checkpoint path
    family: str | None = None  # the family of a PyTorch state dict (.pt/.pth): `inrdict.models.family.importable()`
    # knobs (model names only; each family's `knob_fields` says which it takes)
    omega0: float | None = None  # SIREN / FINER first ω0, WIRE ω0, sinc ω
    hidden_omega0: float | None = None
    sigma: float | None = None  # FFN σ
    scale: float | None = None  # Gauss s of exp(-(s u)²)
    s0: float | None = None
    n_max: float | None = None  # a grid encoding's finest resolution N_max (grid, hashgrid)
    first_bias_scale: float | None = None
    scale_gradient: bool | None = None  # FINER: differentiate through |u| + 1 (the official code does not)
    input_scale: float | None = None
    weight_scale: float | None = None  # MFN hidden linears U(±sqrt(weight_scale/h))
    mfn_filter: Literal["gabor", "fourier"] | None = None
    n_features: int | None = None
    convention: Literal["ntk", "fit"] | None = None
    hidden: tuple[int, ...] | None = None  # None: matched to the paper's SIREN (~198k parameters)
    # a signal of your own instead of the faces: an image, a .wav, or a .npy of shape (n,), (h, w) or (d, h, w)
    signal: str | None = None
    signal_size: int | None = None  # samples per axis it is resampled to (default: 1-D 4096, 2-D grid_size, 3-D 16)
    # NTK and faces
    grid_size: int = 64
    precision: Literal["float32", "float64"] = "float32"
    spectrum: lens.SpectrumRoute = "auto"  # auto: all eigenpairs up to 64², the top_k above
    top_k: int = 128  # eigenpairs on the matrix-free route (at most the grid points)
    n_eigenvectors: int = 10
    dataset: Literal["auto", "lfw", "celeba", "folder"] = "auto"  # auto: embedded LFW faces, a folder with data_dir
    data_dir: str | None = None
    n_test: int = 35
    iterations: int = 10
    psnr_iteration: int = 3
    random_lr: float = 1e-4
    # aliasing (Fig. 3's test) and the test-image fit
    alias_hidden: tuple[int, ...] = (128, 128)
    alias_steps: int = 2000
    alias_lr: float = 1e-3  # Fig. 3 uses 1e-4; at 1e-4 most families do not fit the tone in 2000 steps
    fit_size: int = 64  # the astronaut's side; 128² took 48 s (SIREN) to 161 s (complex WIRE) of a 73–222 s run
    fit_steps: int = 200
    fit_lr: float = 1e-4  # the "figure2" fit's Adam (the "recipe" fit takes the family's)
    fit_protocol: Literal["auto", "figure2", "recipe"] = "auto"  # module docstring
    seed: int = 0

    def __post_init__(self):
        validate_config(self)
        if not self.model.strip():
            raise InrdictError("model is empty: give a model name, package.module:factory or a checkpoint path")
        if self.family is not None and self.family not in _family.importable():
            raise InrdictError(f"family {self.family!r} has no PyTorch import: choose one of "
                               f"{', '.join(_family.importable())}")  # fmt: skip
        if self.n_eigenvectors > self.grid_size**2:
            raise InrdictError(f"n_eigenvectors ({self.n_eigenvectors}) exceeds the {self.grid_size**2} grid points")
        if self.n_eigenvectors > self.top_k and self.spectrum != "dense":
            raise InrdictError(f"n_eigenvectors ({self.n_eigenvectors}) exceeds top_k ({self.top_k})")
        if self.signal_size is not None and self.signal_size < 4:
            raise InrdictError(f"signal_size must be at least 4 samples per axis, got {self.signal_size}")
        if self.psnr_iteration > self.iterations:
            raise InrdictError(f"psnr_iteration ({self.psnr_iteration}) exceeds iterations ({self.iterations})")
        if self.fit_protocol == "recipe" and self.model.strip() not in _family.with_recipes():
            raise InrdictError(f"fit_protocol recipe needs a family name with a training recipe "
                               f"({', '.join(_family.with_recipes())}), got {self.model!r}: use figure2")  # fmt: skip

    @property
    def face_dataset(self) -> str:
        if self.dataset != "auto":
            return self.dataset
        return "lfw" if self.data_dir is None else "folder"


DEFAULT = Config()
"""2-CPU preset (≤ 60 s for one ~198k-parameter model): 64² NTK grid in float32 (all 4096 eigenpairs), 35 embedded
LFW faces, 10 Adam fine-tuning updates, Fig. 3's aliasing test, 200 steps on the 64² astronaut. Measured on 2 cores
(cold cache): SIREN 38 s; complex WIRE 106 s (its complex layers cost ~3x a SIREN's per step)."""
PAPER = dataclasses.replace(DEFAULT, precision="float64", dataset="celeba", n_test=100, fit_size=512, fit_steps=2000)
"""Fig. 4's setting (64², float64, 100 CelebA test faces: `--data-dir`) and Fig. 2's fit (512², 2000 steps)."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


# The paper's models: their astronaut fit is the paper's Fig. 2 fit ("auto" fit protocol).
FIGURE2_FAMILIES = ("relu", "ffn", "siren")


def fit_protocol(config: Config) -> Literal["figure2", "recipe"]:
    """The astronaut fit's protocol (module docstring): "recipe" for a family name with a recipe outside the
    paper's models under "auto"."""
    if config.fit_protocol != "auto":
        return config.fit_protocol
    name = config.model.strip()
    return "recipe" if name in _family.with_recipes() and name not in FIGURE2_FAMILIES else "figure2"


def recipe_fit(model, family: str, size: int, steps: int, progress: bool) -> tuple[dict, np.ndarray]:
    """The astronaut at size² fitted as `family`'s reference run (its Adam, schedule over `steps`, target range) on
    the model's [0, 1)² grid, mapped so that the model's wrapper (`Family.domain`) yields the run's domain:
    (numbers, reconstruction in [0, 1]); PSNR on all pixels, peak 1."""
    run = recipes.recipe(family)
    image = data.to_grayscale(data.square_image(data.astronaut(), size))
    (low, high), (run_low, run_high) = _family.get(family).domain, run.domain
    coords = ((run_low + (run_high - run_low) * data.ntk_grid(size) - low) / (high - low)).astype(np.float32)
    targets = run.to_target(image.reshape(-1, 1)).astype(np.float32)
    start = time.perf_counter()
    monitor = Monitor(every=max(1, steps // 10), progress=progress, description="fit of the astronaut")
    result = fit_points(model, coords, targets, steps=steps, optimizer=recipes.optimizer(run, coords.shape[0], steps),
                        learning_rate=run.initial_lr(coords.shape[0]), monitor=monitor)  # fmt: skip
    psnr = unit_psnr(run, np.asarray(result.eval_psnr_db))
    numbers = {"image": f"astronaut, grayscale, {size}x{size}", "steps": steps, "protocol": "recipe",
               "recipe": {"name": run.name, "source": run.source, "learning_rate": run.initial_lr(coords.shape[0]),
                          "final_lr_factor": run.final_lr_factor, "adam_b1_b2_eps": list(run.adam),
                          "target_range": list(run.target_range), "domain": list(run.domain)},
               "learning_rate": run.initial_lr(coords.shape[0]), "psnr_db": float(psnr[-1]),
               "psnr_protocol": "all pixels, [0, 1] values", "psnr_curve_db": psnr,
               "seconds": time.perf_counter() - start}  # fmt: skip
    reconstruction = run.from_target(np.asarray(result.predictions)).astype(np.float32).reshape(size, size)
    return numbers, reconstruction


def out_name(config: Config) -> str:
    """Folder name of a run: analyse_<model name, file stem or module_factory>."""
    spec = config.model.strip()
    stem = Path(spec).stem if ("/" in spec or spec.endswith((".npz", ".pickle", ".pkl", ".pt", ".pth"))) else spec
    return "analyse_" + re.sub(r"[^\w.-]+", "_", stem).strip("_")


SIGNAL_SIZE = {1: 4096, 3: 16}  # default samples per axis of a 1-D signal / a volume: 4096 points (as 64²) each


def load_signal(config: Config) -> tuple[str, np.ndarray, dict]:
    """(name, the signal on its analysis grid in [0, 1], what was done to it) for `config.signal`."""
    assert config.signal is not None  # compute calls this only with a signal
    name, raw = data.load_signal(config.signal, volumes=True)
    if not np.all(np.isfinite(raw)):
        raise InrdictError(f"the signal {name} holds NaN or infinite values: clean it first")
    low, high = float(raw.min()), float(raw.max())
    if high - low < 1e-12:
        raise InrdictError(f"the signal {name} is constant: its energy on the atoms is undefined")
    size = config.signal_size or (config.grid_size if raw.ndim == 2 else min(SIGNAL_SIZE[raw.ndim], min(raw.shape)))
    shape = (size,) * raw.ndim
    if raw.ndim == 2 and raw.shape[0] != raw.shape[1]:
        raw = data.center_crop(raw)
    signal = data.resample((raw - low) / (high - low), shape)  # min-max to [0, 1], the range PSNR assumes
    return name, signal, {"original_shape": list(np.shape(raw)), "original_range": [low, high],
                          "scaled_to": "[0, 1] (min-max)", "resampled_to": list(shape)}  # fmt: skip


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """Resolve the model spec, then `inrdict.analysis.lens.analyse` with the config's settings."""
    start = time.perf_counter()
    signal = None
    if config.signal is not None:
        signal_name, signal, signal_record = load_signal(config)
    in_features = 2 if signal is None else signal.ndim
    resolved = resolve_model(config.model, config, hidden_1d=config.alias_hidden, in_features=in_features)
    model, label = resolved.model, resolved.label
    n_points = config.grid_size**2 if signal is None else signal.size
    spectrum = lens.SpectrumOptions(config.spectrum, config.top_k, config.precision)
    plan = spectrum.plan(n_points)  # once: the memory check, the cache key and the computation read it
    lens.require_spectrum_memory(model, plan)  # before any data
    takes = getattr(getattr(model, "model", model), "in_features", in_features)
    if takes != in_features:
        raise InrdictError(f"{config.model} takes {takes}-D coordinates, the signal is {in_features}-D: "
                           f"give a model with in_features={in_features}")  # fmt: skip
    one_d = None
    if resolved.one_d is not None:
        one_d = resolved.one_d(
            model_key(resolved.family, config.seed) if resolved.family else init_key(config.seed, "factory")
        )
    build_seconds = time.perf_counter() - start
    if progress:
        if resolved.kind == "torch":
            n_parameters = cast("TorchINR", model).n_parameters
        else:
            n_parameters = count_parameters(cast(eqx.Module, model))  # kinds other than "torch" are Equinox modules
        print(f"  analysing {label}: {n_parameters:,} trained parameters", flush=True)
    protocol = lens.Protocol("adam", config.random_lr, config.iterations, config.psnr_iteration)
    by_recipe = fit_protocol(config) == "recipe" and in_features == 2 and config.fit_steps > 0
    options = lens.AnalyseOptions(
        grid=config.grid_size, spectrum=spectrum,
        n_eigenvectors=config.n_eigenvectors, protocol=protocol, seed=config.seed, alias_steps=config.alias_steps,
        alias_lr=config.alias_lr, fit_size=config.fit_size, fit_steps=0 if by_recipe else config.fit_steps,
        fit_lr=config.fit_lr, label=label, signals_name=signal_name if signal is not None else "signal",
    )  # fmt: skip
    report, cached = _measure(model, signal, options, plan, config, one_d, progress)
    numbers = report.numbers
    if by_recipe:  # the astronaut fit as the family's authors train it (module docstring)
        assert resolved.family is not None  # a family name (fit_protocol)
        numbers["fit"], fitted = recipe_fit(model, resolved.family, config.fit_size, config.fit_steps, progress)
        numbers["seconds"]["fit"] = numbers["fit"]["seconds"]
        report.arrays["fit_reconstruction"] = fitted
    elif isinstance(numbers.get("fit"), dict):  # results of either protocol say which they followed
        numbers["fit"]["protocol"] = "figure2"
    numbers["spectrum"]["cached"] = cached
    on_domain = resolved.model if isinstance(resolved.model, OnDomain) else None
    numbers["model"] = {"spec": config.model, "label": label, "kind": resolved.kind, "family": resolved.family,
                        "knobs": resolved.knobs, **{k: v for k, v in numbers["model"].items() if k != "label"},
                        "coordinate_domain": [on_domain.low, on_domain.high] if on_domain is not None else [0.0, 1.0]}  # fmt: skip
    if on_domain is not None:  # the family's class, evaluated on its authors' coordinate range
        numbers["model"]["class"] = type(on_domain.model).__name__
    if one_d is None:
        numbers["aliasing"] = {"skipped": resolved.one_d_missing}
    else:
        numbers["aliasing"]["one_d_model"] = (
            f"{config.model}(in_features=1)" if resolved.kind == "factory" else
            f"a fresh 1-D {resolved.family} (hidden {list(config.alias_hidden)}) with the same knobs: "
            f"{resolved.knobs or 'the recommended settings'}")  # fmt: skip
    numbers["seconds"] = {"build": build_seconds, **numbers["seconds"]}
    arrays = report.arrays
    if signal is not None:
        numbers["signal"] |= signal_record
        arrays = {**arrays, "signal": np.asarray(signal, np.float32)}
    return numbers, arrays


def _measure(
    model, signal, options: lens.AnalyseOptions, plan: lens.SpectrumPlan, config: Config, one_d, progress: bool
) -> tuple[lens.Report, bool]:
    """(`lens.analyse`'s report, whether the spectrum came from the cache): the faces loaded and the spectrum (as
    planned) and fine-tuning curves read from (or written to) the cache here, at the edge."""
    faces = None
    if signal is None:
        name, faces = held_out_faces(config.face_dataset, config.grid_size, config.data_dir, config.seed, config.n_test)
        options = dataclasses.replace(options, signals_name=name)
    _, points = lens.analysis_grid(options, signal)
    model = adapt(model, in_features=points.shape[1], label=options.label)  # a PyTorch model wrapped (and checked) once
    images = faces if signal is None else np.asarray(signal, np.float32).reshape(1, -1)
    if progress:
        print(f"  NTK of {options.label} ({points.shape[0]} points, {options.precision})", flush=True)
    spectrum, cached = memo.cached_ntk_spectrum(model, points, plan)
    mask = lens.pixel_mask(points.shape[0], options.seed, options.protocol.train_fraction)
    learned = memo.cached_learnability(model, points, images, mask, protocol=options.protocol)
    report = lens.analyse(model, faces, signal=signal, options=options, one_d=one_d, spectrum=spectrum, learned=learned,
                          progress=progress)  # fmt: skip
    return report, cached


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """What this model shows, recorded whatever it is (thresholds in the ledger): the aliasing test's training PSNR
    (dB) and its 105 Hz alias level below the 23 Hz peak (dB)."""
    result = {}
    aliasing = numbers["aliasing"]
    if "skipped" not in aliasing:
        result["aliasing_test_fits_training_samples"] = aliasing["train_psnr_db"]
        result[f"alias_more_than_{STRONG_ALIAS_DB:g}db_below_signal"] = aliasing["alias_below_signal_db"]
    return result


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """The energy of every face on all computed eigenvectors: 1 with the full basis, at most 1 with the top k; E(0.1)
    is exact (the eigenpairs computed reach below 0.1 λ0: true of the dense route by construction)."""
    row = {"total_energy_full_basis": numbers["faces"].get("total_energy_full_basis", 1.0),
           "spectrum_route": numbers["spectrum"]["route"]}  # fmt: skip
    return learnability.sanity({"models": {"model": row}}, config) | {
        "energy_at_0.1_exact": numbers["spectrum"]["energy_curve_stops_at"] < 0.1
    }


def summary(numbers: dict) -> list[tuple[str, str]]:
    return lens.Report(numbers, {}).summary()


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """One overview: eigenvalue decay, E(λ), radial power of the top eigenvectors' span, the eigenvectors, the
    aliasing spectrum, the fine-tuning PSNR curve and the astronaut fit."""
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    fig = plt.figure(figsize=(15, 11))
    outer = fig.add_gridspec(3, 1, height_ratios=[1.0, 0.55, 1.0], hspace=0.45)
    top_row, bottom_row = (outer[i].subgridspec(1, 3, wspace=0.3) for i in (0, 2))
    _spectrum_panels(fig, top_row, numbers, arrays)
    _atom_strip(fig, outer[1], numbers, arrays["eigenvectors"])
    _probe_panels(fig, bottom_row, numbers, arrays)
    grid = "×".join(map(str, numbers["spectrum"].get("grid_shape", [numbers["spectrum"]["grid_size"]] * 2)))
    fig.suptitle(f"{numbers['model']['label']} through the dictionary lens ({numbers['model']['parameters']:,} "
                 f"parameters; NTK on the {grid} grid, {numbers['spectrum']['precision']})")  # fmt: skip
    save(fig, out_dir, "overview")


def _spectrum_panels(fig, row, numbers: dict, arrays: dict) -> None:
    """Eigenvalue decay, E(λ) and the radial power of the top eigenvectors' span."""
    from inrdict.plotting import energy_curves

    ratio = arrays["normalised_eigenvalues"]
    ax = fig.add_subplot(row[0])
    ax.semilogy(np.arange(ratio.size), np.where(ratio > 0, ratio, np.nan))
    ax.axhline(0.1, color="grey", linestyle=":", linewidth=0.8)
    ax.set(xlabel="eigenvalue index i", ylabel=r"$\lambda_i/\lambda_0$",
           title=f"NTK spectrum: {numbers['spectrum']['eigenvalues_within_10pct']} within 10 % of λ0")  # fmt: skip
    faces = numbers["faces"]
    ax = fig.add_subplot(row[1])
    what = (f"the signal {numbers['signal']['name']}" if "signal" in numbers
            else f"{faces['n_test_images']} held-out {faces['dataset']} faces")  # fmt: skip
    energy_curves(
        ax,
        [("E", ratio[: arrays["energy_curve_mean"].size], arrays["energy_curve_mean"], {"color": "darkred"})],
        f"E(λ) of {what}: E(0.1) = {lens.format_number(faces['energy_at_0.1'], '.3f')}",
    )
    legend = ax.get_legend()
    assert legend is not None  # energy_curves draws one
    legend.remove()
    ax.set_ylabel("energy on eigenvectors with larger eigenvalue")
    radial = arrays["subspace_radial_power"]
    ax = fig.add_subplot(row[2])
    ax.bar(np.arange(radial.size), radial, width=1.0)
    ax.set(xlabel="radial frequency (cycles per unit)", ylabel="share of power",
           title=f"power of the top-{numbers['eigenvectors']['count']} eigenvectors' span")  # fmt: skip


def _atom_strip(fig, cell, numbers: dict, vectors: np.ndarray) -> None:
    """The top eigenvectors (the dictionary's first atoms), each titled by its dominant frequency."""
    strip = cell.subgridspec(1, vectors.shape[0], wspace=0.05)
    for i, vector in enumerate(vectors):
        ax = fig.add_subplot(strip[i])
        _draw_signal(ax, vector, cmap="viridis")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"v{i}: {numbers['eigenvectors']['dominant_frequency'][i]:.0f}", fontsize=8)


def _probe_panels(fig, row, numbers: dict, arrays: dict) -> None:
    """The aliasing spectrum, the fine-tuning PSNR curve, and the astronaut fit (or the signal)."""
    from inrdict.plotting import tone_panel

    ax = fig.add_subplot(row[0])
    aliasing = numbers["aliasing"]
    if "skipped" in aliasing:
        ax.text(0.5, 0.5, f"aliasing test skipped:\n{aliasing['skipped']}", ha="center", va="center", fontsize=9)
        ax.axis("off")
    else:
        marks = [-aliasing["alias_hz"], -aliasing["tone_hz"], aliasing["tone_hz"], aliasing["alias_hz"]]
        tone_panel(ax, arrays["tone_freqs_hz"], arrays["tone_level_db"], arrays["tone_target_db"], marks,
                   f"1-D aliasing test: alias {aliasing['alias_below_signal_db']:.1f} dB below the peak")  # fmt: skip
    ax = fig.add_subplot(row[1])
    faces = numbers["faces"]
    curve = np.asarray(faces["test_psnr_curve"])
    ax.plot(np.arange(curve.size), curve, marker="o")
    ax.set(xlabel="fine-tuning update", ylabel="held-out PSNR (dB)",
           title=f"PSNR@{faces['psnr_iteration']} = {faces['psnr_at_k']:.2f} dB ({faces['finetune']})")  # fmt: skip
    ax = fig.add_subplot(row[2])
    if "skipped" in numbers["fit"] and "signal" in arrays:
        _draw_signal(ax, arrays["signal"], cmap="gray")
        ax.set_title(f"the signal {numbers['signal']['name']} on the {'×'.join(map(str, arrays['signal'].shape))} grid"
                     + (" (mid-slices: z | y | x)" if arrays["signal"].ndim == 3 else ""), fontsize=9)  # fmt: skip
    elif "skipped" in numbers["fit"]:
        ax.text(0.5, 0.5, f"fit skipped: {numbers['fit']['skipped']}", ha="center", va="center", fontsize=9)
        ax.axis("off")
    else:
        ax.imshow(np.clip(arrays["fit_reconstruction"], 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.axis("off")
        ax.set_title(f"{numbers['fit']['image']}: {numbers['fit']['psnr_db']:.2f} dB, {numbers['fit']['steps']} steps",
                     fontsize=9)  # fmt: skip


def _draw_signal(ax, values: np.ndarray, cmap: str) -> None:
    """A 1-D curve, an image, or a volume's three orthogonal mid-slices side by side (z | y | x)."""
    if values.ndim == 1:
        ax.plot(np.arange(values.size) / values.size, values, linewidth=0.8)
        ax.set_xlim(0, 1)
    elif values.ndim == 2:
        ax.imshow(values, cmap=cmap)
    else:
        d, h, w = values.shape
        slices = [values[d // 2], values[:, h // 2], values[:, :, w // 2]]
        gap = np.full((slices[0].shape[0], 1), np.nan)
        ax.imshow(np.concatenate([slices[0], gap, slices[1], gap, slices[2]], axis=1), cmap=cmap)

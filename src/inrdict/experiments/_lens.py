"""Any INR through the dictionary lens: model specs and the measurements shared by `analyse` and `families`.

A model spec (the `model` config field, `inrdict analyse MODEL`) is one of

* a model name, `inrdict.families.MODEL_NAMES` (relu, ffn, siren, gauss, wire, wire_real, finer, sinc, mfn), built
  with the knob fields of the config (`KNOB_FIELDS`) over the name's recommended settings, at the widths given or
  matched to the paper's SIREN (~198k parameters, `matched_hidden`); a name wins over a file of that name
  (write ``./siren`` for the file);
* ``package.module:factory``, a callable returning an Equinox module that maps a point (2,) to one value, called
  with ``key=`` (and ``in_features=1`` for the aliasing test when it takes that argument); the current directory
  is searched too, as ``python -m`` does;
* a path to an inrdict checkpoint (`inrdict.checkpoints.load_weights`: ``.npz``, or the authors' ``.pickle``).

Measurements of one model (each a function of this module): its NTK eigensystem and E(λ), PSNR@k on faces
(`_learnability.run_study` with one row, or the same protocol uncached for models the checkpoint format cannot
describe), the top eigenvectors' dominant frequencies and the radial power spectrum of their span, the aliasing
score of a 1-D version (Fig. 3's 23 Hz test), and a fit of the astronaut.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import re
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict import data, spectrum
from inrdict.alignment import center_signals, cumulative_energy, energy_concentration
from inrdict.errors import InrdictError
from inrdict.experiments._learnability import THRESHOLDS, FaceStudy, Row, run_study, test_faces
from inrdict.experiments._rows import eigensystems, init_key
from inrdict.families import FREQUENCY_KNOB, MODEL_NAMES, MODELS, make_model, model_knobs
from inrdict.fitting import fit, predict, psnr_db
from inrdict.models import FFN, partition_trainable

# Config field → the knob it sets, per model name: `--set omega0=20` is WIRE's omega0, SIREN's and FINER's
# first_omega0 and sinc's omega.
KNOB_FIELDS: dict[str, dict[str, str]] = {
    "omega0": {"siren": "first_omega0", "finer": "first_omega0", "wire": "omega0", "wire_real": "omega0",
               "sinc": "omega"},
    "hidden_omega0": {"siren": "hidden_omega0", "finer": "hidden_omega0"},
    "sigma": {"gauss": "sigma", "ffn": "sigma"},
    "s0": {"wire": "s0", "wire_real": "s0"},
    "first_bias_scale": {"finer": "first_bias_scale"},
    "input_scale": {"mfn": "input_scale"},
    "mfn_filter": {"mfn": "filter"},
    "n_features": {"ffn": "n_features"},
    "convention": {"siren": "convention"},
}  # fmt: skip
# Stable ids folded into the seed's key for the models `_rows.MODEL_IDS` does not name (never renumber).
LENS_IDS = {"ffn": 101, "gauss": 102, "wire": 103, "wire_real": 104, "finer": 105, "sinc": 106, "mfn": 107,
            "factory": 108, "tone_phase": 109}  # fmt: skip
STUDY_FIELDS = ("dataset", "data_dir", "grid_size", "n_test", "precision", "spectrum", "top_k", "iterations",
                "psnr_iteration", "random_lr", "seed")  # fmt: skip
_FACTORY = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


def number(value, spec: str) -> str:
    """`format(value, spec)`, or "n/a" for a value JSON could not hold as a number (NaN is saved as "nan")."""
    return format(value, spec) if isinstance(value, (int, float)) else "n/a"


def model_key(name: str, seed: int):
    """The key of model `name` for `seed`: ReLU and SIREN as Figs. 4/5's rows (`_rows.init_key`), others from
    `LENS_IDS`; every knob value of a model shares it (SPEC §10: sweep rows differ only in the knob)."""
    if name in ("relu", "siren"):
        return init_key(seed, name)
    return jax.random.fold_in(jax.random.key(seed), LENS_IDS[name])


def knobs_of(name: str, config) -> dict:
    """The model knobs the config's knob fields set (fields left None keep the recommended values).

    Raises:
        InrdictError: a knob field set that model `name` does not have.
    """
    knobs = {}
    for field, targets in KNOB_FIELDS.items():
        value = getattr(config, field, None)
        if value is None:
            continue
        if name not in targets:
            takers = [f for f, t in KNOB_FIELDS.items() if name in t]
            raise InrdictError(f"{field} does not apply to {name}; its settings: {', '.join(takers) or 'none'}")
        knobs[targets[name]] = value
    return knobs


def describe_knobs(name: str, knobs: dict) -> str:
    """"omega0=20, s0=10": the model's main settings after `knobs` (frequency knob first)."""
    settings = model_knobs(name) | knobs
    keys = [k for k in (FREQUENCY_KNOB[name], *settings) if k is not None and k != "domain"]
    return ", ".join(f"{k}={settings[k]:g}" if isinstance(settings[k], float) else f"{k}={settings[k]}"
                     for k in dict.fromkeys(keys))  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A model spec resolved: the 2-D model, what it is, and how to build its 1-D version (or why not)."""

    model: eqx.Module
    kind: str  # "family", "factory" or "checkpoint"
    label: str
    family: str | None  # model name when known
    knobs: dict
    one_d: object  # callable (key) -> 1-D model, or None
    one_d_missing: str | None = None  # why there is no 1-D version


def check_single_output(model, what: str) -> None:
    """Refuse anything but an Equinox module mapping a point (2,) to one value, with something to train."""
    if not isinstance(model, eqx.Module):
        raise InrdictError(f"{what} is a {type(model).__name__}, not an Equinox module (eqx.Module)")
    try:
        shape = jax.eval_shape(model, jax.ShapeDtypeStruct((2,), jnp.float32)).shape
    except Exception as error:  # the user's module failing on a point is their bug, told in one line
        raise InrdictError(f"{what} cannot map a point of shape (2,): {type(error).__name__}: {error}") from None
    if shape != (1,):
        raise InrdictError(f"{what} must map a point (2,) to one value (output shape (1,)), it gives shape {shape}")
    if not jax.tree_util.tree_leaves(partition_trainable(model)[0]):
        raise InrdictError(f"{what} has no trainable arrays: its NTK is zero")


def resolve_model(spec: str, config, *, hidden_1d: tuple[int, ...]) -> Resolved:
    """The model of a spec (module docstring) with the config's knob fields, hidden widths and seed.

    Raises:
        InrdictError: unknown name, missing or bad file, unimportable module, missing factory, a factory that does
            not return a single-output Equinox module, or knob fields set for a spec that is not a model name.
    """
    spec = spec.strip()
    if spec in MODEL_NAMES:
        knobs = knobs_of(spec, config)
        model = make_model(spec, 2, config.hidden, 1, key=model_key(spec, config.seed), **knobs)
        label = f"{spec} ({describe_knobs(spec, knobs)})" if model_knobs(spec) else spec
        return Resolved(model, "family", label, spec, knobs,
                        lambda key: make_model(spec, 1, hidden_1d, 1, key=key, **knobs))  # fmt: skip
    set_fields = [f for f in (*KNOB_FIELDS, "hidden") if getattr(config, f, None) is not None]
    if set_fields:
        raise InrdictError(f"{', '.join(set_fields)} set the knobs of a model name ({', '.join(MODEL_NAMES)}); "
                           f"{spec!r} is not one")  # fmt: skip
    if _FACTORY.fullmatch(spec) and not Path(spec).exists():
        return _from_factory(spec, config.seed)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise InrdictError(f"model {spec!r} is neither a model name ({', '.join(MODEL_NAMES)}), "
                           f"package.module:factory, nor an existing checkpoint file")  # fmt: skip
    from inrdict.checkpoints import load_weights

    model = load_weights(path)
    check_single_output(model, f"the model in {path}")
    family = {FFN: "ffn", **{cls: name for name, cls in MODELS.items() if isinstance(cls, type)}}.get(type(model))
    if family is None:
        return Resolved(model, "checkpoint", path.stem, None, {}, None, f"a {type(model).__name__} has no 1-D version")
    knobs = _checkpoint_knobs(model, family)
    return Resolved(model, "checkpoint", f"{path.stem} ({family})", family, knobs,
                    lambda key: make_model(family, 1, hidden_1d, 1, key=key, **knobs))  # fmt: skip


def _checkpoint_knobs(model, family: str) -> dict:
    """A checkpoint's knobs (from its hyperparameters); an FFN's σ is estimated as the RMS of its B."""
    if family == "ffn":
        return {"sigma": float(np.sqrt(np.mean(np.asarray(model.B, np.float64) ** 2))), "n_features": int(model.B.shape[0])}
    settings = model.hyperparameters()
    return {k: tuple(settings[k]) if isinstance(settings[k], list) else settings[k]
            for k in model_knobs(family) if k in settings}  # fmt: skip


def _from_factory(spec: str, seed: int) -> Resolved:
    module_name, attribute = spec.split(":")
    added = os.getcwd() not in sys.path  # like `python -m`: modules in the current directory are importable
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any failure to import the user's module is bad input here
        raise InrdictError(f"cannot import {module_name!r} for model {spec!r}: {type(error).__name__}: {error}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise InrdictError(f"{module_name} has no callable {attribute!r} (model {spec!r})")
    key = jax.random.fold_in(jax.random.key(seed), LENS_IDS["factory"])
    model = _call_factory(factory, spec, key=key)
    check_single_output(model, f"{spec}(key=...)")
    takes_in_features = "in_features" in inspect.signature(factory).parameters
    one_d = (lambda k: _call_factory(factory, spec, key=k, in_features=1)) if takes_in_features else None
    return Resolved(model, "factory", spec, None, {}, one_d, None if one_d else f"{spec} takes no in_features argument")


def _call_factory(factory, spec: str, **kwargs):
    try:
        return factory(**kwargs)
    except Exception as error:  # the user's factory failing is bad input for inrdict, reported in one line
        arguments = ", ".join(f"{k}=..." for k in kwargs)
        raise InrdictError(f"{spec}({arguments}) failed: {type(error).__name__}: {error}") from None


# ------------------------------------------------------------------------------------------------ faces and NTK


def study_of(config, **overrides) -> FaceStudy:
    """The `FaceStudy` settings of a config that carries `STUDY_FIELDS` (one seed, no meta-learned rows)."""
    fields = {name: getattr(config, name) for name in STUDY_FIELDS} | overrides
    return FaceStudy(**fields, n_seeds=1, learned_meta=False)


def describable(model) -> bool:
    """Whether inrdict's checkpoint format (and so its caches) can describe the model."""
    from inrdict.checkpoints import model_config

    try:
        model_config(model)
    except InrdictError:
        return False
    return True


def face_study(rows: dict[str, eqx.Module], study: FaceStudy, *, progress: bool = True) -> tuple[dict, dict]:
    """E(λ) and PSNR@k of random-initialisation rows on the held-out faces: (numbers, arrays) as `run_study`'s.

    Rows the checkpoint format cannot describe (a user's own module) go through `uncached_study` instead: the same
    protocol, not cached on disk.
    """
    cached = {label: m for label, m in rows.items() if describable(m)}
    if cached:
        numbers, arrays = run_study([Row(label, model, "random", study.seed) for label, model in cached.items()],
                                    study, progress=progress)  # fmt: skip
    else:
        dataset, images = test_faces(study.dataset, study.grid_size, study.data_dir, study.seed, study.n_test)
        numbers, arrays = {"dataset": dataset, "n_test_images": int(images.shape[0]), "models": {},
                           "psnr_iteration": study.psnr_iteration}, {"thresholds": THRESHOLDS}  # fmt: skip
    for label, model in rows.items():
        if label not in cached:
            record, extra = uncached_study(model, study, prefix=f"model_{len(numbers['models'])}")
            numbers["models"][label] = record
            arrays |= extra
    numbers["models"] = {label: numbers["models"][label] for label in rows}  # row order
    return numbers, arrays


def uncached_study(model, study: FaceStudy, *, prefix: str) -> tuple[dict, dict]:
    """`run_study`'s protocol for one model, computed directly: (record, arrays under `prefix`)."""
    from inrdict.cache import spectrum_route
    from inrdict.finetune import finetune, split_mask

    _, images = test_faces(study.dataset, study.grid_size, study.data_dir, study.seed, study.n_test)
    points = data.ntk_grid(study.grid_size)
    mask = split_mask(points.shape[0], key=init_key(study.seed, "pixel_mask"), train_fraction=study.train_fraction)
    route = spectrum_route(points.shape[0], study.spectrum)
    eigvals, eigvecs = direct_eigensystem(model, points, study.precision, route, study.top_k)
    signals = center_signals(images)
    curves = cumulative_energy(eigvecs, signals)  # (m, k)
    ratio = eigvals / eigvals[0]
    within = int(np.sum(ratio >= 0.1))
    stops_at = 0.0 if route == "dense" else float(ratio[-1])
    exact = stops_at < 0.1 or route == "dense"
    energy, _ = energy_concentration(eigvals, eigvecs, signals, THRESHOLDS)
    tuned = finetune(model, points, images, mask, iterations=study.iterations, optimizer="adam",
                     learning_rate=study.random_lr)  # fmt: skip
    test_curve = tuned.test_psnr_db.mean(axis=0)
    record = {
        "kind": "random", "array_prefix": prefix, "n_seeds": 1, "spectrum_route": route, "eigenpairs": int(eigvals.size),
        "energy_curve_stops_at": stops_at, "energy_at_0.1": float(curves[:, within - 1].mean()) if exact else float("nan"),
        "eigenvalues_within_10pct": within, "total_energy_full_basis": float(curves[:, -1].mean()),
        "psnr_at_k": float(test_curve[study.psnr_iteration]), "test_psnr_curve": test_curve,
        "train_psnr_curve": tuned.train_psnr_db.mean(axis=0), "finetune_optimizer": "adam",
        "finetune_learning_rate": study.random_lr, "cached": False,
    }  # fmt: skip
    arrays = {f"{prefix}_normalised_eigenvalues": ratio, f"{prefix}_energy_curve_mean": curves.mean(axis=0),
              f"{prefix}_energy_at_thresholds": np.where(THRESHOLDS >= stops_at, energy, np.nan),
              f"{prefix}_test_psnr_db": tuned.test_psnr_db, f"{prefix}_train_psnr_db": tuned.train_psnr_db}  # fmt: skip
    return record, arrays


def direct_eigensystem(model, points, precision: str, route: str, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """(eigvals descending, eigvecs) of the NTK, uncached: all of them ("dense") or the top k ("matrix_free")."""
    from inrdict.ntk import eigh_descending, eigh_memory_bytes, empirical_ntk
    from inrdict.ntk_operator import top_eigenpairs

    dtype = np.dtype(precision)
    with jax.enable_x64(dtype == np.float64):
        if route == "dense":
            kernel = empirical_ntk(model, points, dtype=dtype, reserve_bytes=eigh_memory_bytes(len(points), dtype.itemsize))
            return eigh_descending(kernel)
        result = top_eigenpairs(model, points, min(top_k, len(points)), dtype=dtype,
                                tol=1e-4 if dtype == np.float32 else 1e-8)  # fmt: skip
        return result.eigvals, result.eigvecs


def top_eigenvectors(model, label: str, study: FaceStudy, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(eigvals, top k eigenvectors (n, k)) of the model's NTK on the study's grid: from the on-disk cache that
    `run_study` filled when the model is describable, computed directly otherwise."""
    points = data.ntk_grid(study.grid_size)
    if describable(model):
        ((_, _, eigvals, eigvecs, _),) = eigensystems({label: model}, points, study.precision, progress=False,
                                                     route=study.spectrum, top_k=study.top_k)  # fmt: skip
    else:
        from inrdict.cache import spectrum_route

        route = spectrum_route(points.shape[0], study.spectrum)
        eigvals, eigvecs = direct_eigensystem(model, points, study.precision, route, study.top_k)
    return np.asarray(eigvals), np.asarray(eigvecs[:, :k])


def spectrum_decay(eigvals: np.ndarray) -> dict:
    """How fast λ_i/λ_0 falls: eigenvalues within 10 % of λ_0, the index where the ratio first drops below
    10^-1 … 10^-6 (None past the eigenvalues known), and λ_i/λ_0 at i = 1, 10, 100, 1000."""
    ratio = np.asarray(eigvals, np.float64) / float(eigvals[0])
    below = {f"1e-{p}": (int(np.argmax(ratio < 10.0**-p)) if np.any(ratio < 10.0**-p) else None) for p in range(1, 7)}
    return {"largest_eigenvalue": float(eigvals[0]), "eigenvalues_within_10pct": int(np.sum(ratio >= 0.1)),
            "first_index_below": below, "ratio_at": {str(i): float(ratio[i]) for i in (1, 10, 100, 1000) if i < ratio.size},
            "negative_eigenvalues": int(np.sum(ratio < 0))}  # fmt: skip


def eigenvector_frequencies(eigvecs: np.ndarray, grid: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """Dominant frequencies of the top eigenvectors and the radial power spectrum of their span.

    Each eigenvector (sign: non-negative sum) is reshaped to the grid, mean-subtracted and Hann-windowed, and
    |FFT2|² taken (DFT bin k = k cycles per unit on [0, 1)², radius sqrt(k_y² + k_x²)). Per vector: the radius of
    the largest power (peak) and the power-weighted mean radius (centroid). The span's radial power spectrum is the
    summed power of all k vectors binned by rounded radius, normalised to sum 1 (projector-invariant: it does not
    depend on the basis chosen inside the span).

    Returns:
        (numbers, vectors (k, grid, grid) float32, radial power (grid // 2 * 1.5 bins,)).
    """
    vectors = eigvecs.T.astype(np.float64).reshape(-1, grid, grid)  # (k, n, n)
    vectors *= np.where(vectors.sum(axis=(1, 2), keepdims=True) < 0, -1.0, 1.0)
    window = np.outer(np.hanning(grid), np.hanning(grid))
    centred = vectors - vectors.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(centred * window, axes=(1, 2))) ** 2  # (k, n, n)
    bins = np.fft.fftfreq(grid, d=1.0 / grid)
    radius = np.hypot(bins[:, None], bins[None, :])  # (n, n) cycles per unit
    flat = power.reshape(power.shape[0], -1)
    peaks = radius.ravel()[np.argmax(flat, axis=1)]
    centroids = flat @ radius.ravel() / flat.sum(axis=1)
    rounded = np.rint(radius).astype(int).ravel()
    radial = np.bincount(rounded, weights=flat.sum(axis=0), minlength=rounded.max() + 1)
    radial = radial / radial.sum()
    numbers = {"dominant_frequency": peaks.tolist(), "spectral_centroid": centroids.tolist(),
               "mean_dominant_frequency": float(peaks.mean()), "mean_spectral_centroid": float(centroids.mean()),
               "subspace_radial_centroid": float(np.arange(radial.size) @ radial),
               "subspace_radial_power_peak": int(np.argmax(radial))}  # fmt: skip
    return numbers, vectors.astype(np.float32), radial


# ------------------------------------------------------------------------------------------------ aliasing, fit

TONE_HZ, TONE_SAMPLES, TRAIN_STRIDE = 23.0, 256, 2  # Fig. 3's test (SPEC §5)
FITS_PSNR_DB = 30.0  # below this training PSNR the tone was not fitted and the aliasing score means nothing
ALIAS_HZ = TONE_SAMPLES / TRAIN_STRIDE - TONE_HZ  # 105 Hz: the tone's mirror on the 128-sample training grid


def aliasing_score(model_1d, seed: int, *, steps: int, learning_rate: float, progress: bool, label: str) -> tuple[dict, dict]:
    """Fig. 3's aliasing test for a 1-D model: fit a 23 Hz tone (seeded phase) on the 128 even samples of
    linspace(0, 1, 256, endpoint=False) with full-batch Adam, then read the 256-sample reconstruction's spectrum.

    Returns:
        (numbers: train / full-grid PSNR, levels (dB) at 23 and 105 Hz, `alias_below_signal_db` = level(23 Hz) -
        level(105 Hz), the aliasing score, meaningful only when `fits_training_samples` (train PSNR ≥ 30 dB);
        arrays: the reconstruction's spectrum and the target's).
    """
    phase_key = jax.random.fold_in(jax.random.key(seed), LENS_IDS["tone_phase"])
    phase = float(jax.random.uniform(phase_key, (), minval=0.0, maxval=2 * np.pi))
    r, target = data.tone(TONE_HZ, TONE_SAMPLES, phase)
    result = fit(model_1d, r[::TRAIN_STRIDE], target[::TRAIN_STRIDE], steps=steps, learning_rate=learning_rate,
                 eval_every=max(1, steps // 10), progress=progress, description=f"aliasing test {label}")  # fmt: skip
    full = predict(result.model, r).ravel()
    levels = spectrum.tone_levels_db(full, (TONE_HZ, ALIAS_HZ))
    freqs, level = spectrum.magnitude_spectrum_db(full)
    numbers = {
        "tone_hz": TONE_HZ, "alias_hz": ALIAS_HZ, "phase_rad": phase, "steps": steps, "learning_rate": learning_rate,
        "train_psnr_db": float(result.final_eval_psnr_db),
        "fits_training_samples": bool(result.final_eval_psnr_db >= FITS_PSNR_DB),
        "full_grid_psnr_db": float(psnr_db(np.mean((full - target) ** 2))),
        "level_signal_db": levels[TONE_HZ], "level_alias_db": levels[ALIAS_HZ],
        "alias_below_signal_db": levels[TONE_HZ] - levels[ALIAS_HZ], "seconds": result.seconds,
        "hidden": list(getattr(model_1d, "hidden", ())),
        "protocol": "train on the 128 even-indexed of 256 samples (fs = 128 Hz), read the 256-sample spectrum",
    }  # fmt: skip
    return numbers, {"tone_freqs_hz": freqs, "tone_level_db": level, "tone_target_db": spectrum.magnitude_spectrum_db(target)[1]}


def fit_test_image(model, size: int, *, steps: int, learning_rate: float, progress: bool) -> tuple[dict, np.ndarray]:
    """Fit the grayscale astronaut at size² on the Fig. 2 grid (full-batch Adam): (numbers, reconstruction)."""
    image = data.to_grayscale(data.square_image(data.astronaut(), size))
    coords, targets = data.image_dataset(image)
    start = time.perf_counter()
    result = fit(model, coords, targets, steps=steps, learning_rate=learning_rate, eval_every=max(1, steps // 10),
                 progress=progress, description="fit of the astronaut")  # fmt: skip
    numbers = {"image": f"astronaut, grayscale, {size}x{size}", "steps": steps, "learning_rate": learning_rate,
               "psnr_db": float(result.final_eval_psnr_db), "psnr_protocol": "all pixels",
               "psnr_curve_db": result.eval_psnr_db, "seconds": time.perf_counter() - start}  # fmt: skip
    return numbers, np.asarray(result.predictions, np.float32).reshape(size, size)

"""`analyse`: one model through the whole lens — spectrum, atoms, energy, learnability, aliasing and a fit — as one
`Report`; and the records the figures share (`row_record`, `protocol_text`)."""

from __future__ import annotations

import dataclasses
import time

import equinox as eqx
import numpy as np
from jaxtyping import Float

from inrdict._typing import AnyArray
from inrdict.adapters import ForeignINR, adapt
from inrdict.analysis import probes
from inrdict.analysis.eigenpairs import Spectrum, SpectrumOptions, ntk_spectrum
from inrdict.analysis.energy import Energy, energy_concentration
from inrdict.analysis.learnability import RANDOM_INIT, Learnability, Protocol, learnability, pixel_mask
from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.models import count_parameters


def row_record(spectrum: Spectrum, energy: Energy, learned: Learnability) -> dict:
    """One model's numbers on one set of images: spectrum route and size, E(0.1) and its spread over images,
    eigenvalues within 10 %, the energy on all computed eigenvectors, PSNR@k and its spread, mean curves."""
    psnr = learned.psnr_at_k
    return {
        "spectrum_route": spectrum.route, "eigenpairs": spectrum.k,
        "energy_curve_stops_at": spectrum.exact_from,
        "energy_at_0.1": float(energy.at_01.mean()), "energy_at_0.1_image_std": float(energy.at_01.std()),
        "energy_at_0.01": float(energy.at(1e-2).mean()), "energy_at_0.001": float(energy.at(1e-3).mean()),
        "energy_area": float(energy.area().mean()),
        "eigenvalues_within_10pct": energy.within_10pct, "total_energy_full_basis": float(energy.total.mean()),
        "psnr_at_k": float(psnr.mean()), "psnr_at_k_image_std": float(psnr.std()),
        "test_psnr_curve": learned.test_psnr_db.mean(axis=0), "train_psnr_curve": learned.train_psnr_db.mean(axis=0),
        "optimizer": learned.protocol.optimizer, "learning_rate": learned.protocol.learning_rate,
    }  # fmt: skip


def protocol_text(mask: np.ndarray, psnr_iteration: int) -> str:
    """How PSNR@k was measured, in words."""
    return (f"held-out pixels ({int((~mask).sum())} of {mask.size}, one seeded mask shared by all images) after "
            f"{psnr_iteration} full-batch updates on the other half")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Report:
    """What `analyse` measured: `numbers` (JSON-able, every number behind the overview) and `arrays` (curves,
    atoms, spectra); `summary()` gives the lines `inrdict analyse` prints."""

    numbers: dict
    arrays: dict[str, np.ndarray]

    def summary(self) -> list[tuple[str, str]]:
        s, f, e, a = (self.numbers[k] for k in ("spectrum", "faces", "eigenvectors", "aliasing"))
        alias = a.get("skipped") or (f"105 Hz alias {a['alias_below_signal_db']:.1f} dB below the 23 Hz peak "
                                     f"(train PSNR {a['train_psnr_db']:.1f} dB)")  # fmt: skip
        m, fit = self.numbers["model"], self.numbers["fit"]
        lines = [
            ("model", f"{m['label']}: {m['class']}, {m['parameters']:,} parameters"),
            ("NTK", (f"{s['eigenpairs']} eigenpairs ({s['route']}, {s['precision']}), {s['eigenvalues_within_10pct']} "
                    f"within 10 % of λ0; top-{e['count']} dominant freq {e['mean_dominant_frequency']:.2f} cyc/unit")),
            ("signal" if f["dataset"].startswith("signal:") else "faces",
             (f"E(0.1) = {format_number(f['energy_at_0.1'], '.3f')}   PSNR@{f['psnr_iteration']} = "
              f"{f['psnr_at_k']:.2f} dB ({f['n_test_images']} {_signal_words(f['dataset'])})")),
            ("aliasing", alias),
        ]  # fmt: skip
        if "skipped" not in fit:
            lines.append(("fit", f"{fit['image']}: {fit['psnr_db']:.2f} dB after {fit['steps']} steps"))
        return lines


def _signal_words(dataset: str) -> str:
    if dataset.startswith("signal:"):
        return f"signal {dataset.split(':', 1)[1]}"
    return "given signals" if dataset == "signals" else f"{dataset} faces"


def format_number(value, spec: str) -> str:
    """`format(value, spec)`, or "n/a" for a value JSON could not hold as a number (NaN is saved as "nan")."""
    return format(value, spec) if isinstance(value, (int, float)) else "n/a"


def _model_record(model) -> dict:
    """Class and trained-parameter count of an inrdict model or another framework's (`inrdict.adapters`)."""
    if isinstance(model, ForeignINR):
        return {"class": model.class_name, "parameters": model.n_parameters, "framework": model.framework}
    return {"class": type(model).__name__, "parameters": count_parameters(model)}


@dataclasses.dataclass(frozen=True)
class AnalyseOptions:
    """What `analyse` measures and how (defaults: `inrdict analyse`'s).

    Attributes:
        grid: points per axis of the [0, 1)² grid (`linspace(0, 1, N+1)[:-1]`) when no `signal` is given.
        spectrum: how the eigenpairs are computed (`SpectrumOptions`: route, top_k, precision); all of them up
            to 64², the top 128 above.
        n_eigenvectors: the leading eigenvectors (the dictionary's first atoms) whose frequencies are reported.
        protocol: how PSNR@k is measured (one seeded mask of `protocol.train_fraction`).
        seed: the mask's and the aliasing tone's.
        alias_steps, alias_lr: Fig. 3's aliasing test on the 1-D version of the model.
        fit_size, fit_steps, fit_lr: the fit of the grayscale astronaut (fit_steps 0: skipped).
        label: the model's name in reports.
        signals_name: what the signals are ("lfw" for faces, "signals" for arrays; "signal:<name>" with `signal`).
    """

    grid: int = 64
    spectrum: SpectrumOptions = SpectrumOptions(top_k=128)
    n_eigenvectors: int = 10
    protocol: Protocol = RANDOM_INIT
    seed: int = 0
    alias_steps: int = 2000
    alias_lr: float = 1e-3
    fit_size: int = 64
    fit_steps: int = 200
    fit_lr: float = 1e-4
    label: str = "model"
    signals_name: str = "signals"

    @property
    def precision(self) -> str:
        return self.spectrum.precision


def _report_numbers(model, spectrum: Spectrum, row: dict, options: AnalyseOptions, frequencies: dict,
                    signals: tuple[str, int], mask: np.ndarray) -> dict:  # fmt: skip
    """The model, spectrum, eigenvector and face sections of `analyse`'s numbers (`signals`: name and count)."""
    stops_at, (dataset, n_images) = row["energy_curve_stops_at"], signals
    label, precision, grid, protocol = options.label, options.precision, options.grid, options.protocol
    n_vectors = len(frequencies["dominant_frequency"])
    return {
        "model": {"label": label, **_model_record(model),
                  "hidden": list(getattr(model, "hidden", ()))},
        "spectrum": {"route": row["spectrum_route"], "precision": precision, "eigenpairs": row["eigenpairs"],
                     "grid_size": grid, **probes.spectrum_decay(spectrum.eigvals), "energy_curve_stops_at": stops_at,
                     "note": "all eigenpairs (E(t) exact for every t)" if row["spectrum_route"] == "dense" else
                             f"top {row['eigenpairs']} eigenpairs only: E(t) exact for t ≥ λ_k/λ₀ = {stops_at:.3g}, "
                             f"the curve stops there"},
        "eigenvectors": {"count": int(n_vectors), **frequencies},
        "faces": {"dataset": dataset, "n_test_images": int(n_images), "energy_at_0.1": row["energy_at_0.1"],
                  "eigenvalues_within_10pct": row["eigenvalues_within_10pct"],
                  "total_energy_full_basis": row["total_energy_full_basis"], "psnr_iteration": protocol.psnr_iteration,
                  "psnr_at_k": row["psnr_at_k"], "psnr_protocol": protocol_text(mask, protocol.psnr_iteration),
                  "test_psnr_curve": row["test_psnr_curve"], "train_psnr_curve": row["train_psnr_curve"],
                  "finetune": protocol.describe()},
    }  # fmt: skip


def analysis_grid(options: AnalyseOptions, signal=None) -> tuple[tuple[int, ...], np.ndarray]:
    """(shape, points (N, d)) of the grid `analyse` works on: grid² points, or the signal's own grid."""
    shape = (options.grid, options.grid) if signal is None else tuple(np.shape(signal))
    if signal is not None and not (1 <= len(shape) <= 3 and np.all(np.isfinite(signal))):
        raise InrdictError(f"the signal must be finite with 1 to 3 axes, got shape {shape}")
    return shape, (data.ntk_grid(options.grid) if signal is None else data.unit_grid(shape))


def _images(signals, signal, shape: tuple[int, ...]) -> np.ndarray:
    """The signals as rows (m, N) on the grid of `shape`, checked."""
    if signal is not None:
        return np.asarray(signal, np.float32).reshape(1, -1)
    if signals is None:
        raise InrdictError("analyse needs signals on the grid (e.g. `inrdict.io.datasets.held_out_faces`) or a signal")
    images = np.asarray(signals, np.float32).reshape(len(signals), -1)
    n = int(np.prod(shape))
    if images.shape[1] != n or not np.all(np.isfinite(images)):
        raise InrdictError(f"signals must be finite, of shape (m, {shape[0]}, {shape[1]}) or (m, {n}); "
                           f"got {np.shape(signals)}")  # fmt: skip
    return images


def _probes(model, one_d, shape: tuple[int, ...], options: AnalyseOptions, progress: bool) -> tuple[dict, dict]:
    """(numbers, arrays) of the aliasing test and the astronaut fit, with their seconds."""
    start = time.perf_counter()
    arrays: dict[str, np.ndarray]
    if one_d is None:
        aliasing, arrays = {"skipped": "no 1-D version of the model was given"}, {}
    else:
        aliasing, arrays = probes.aliasing_score(one_d, options.seed, steps=options.alias_steps,
                                                 learning_rate=options.alias_lr, progress=progress, label=options.label)  # fmt: skip
    alias_seconds, start = time.perf_counter() - start, time.perf_counter()
    if len(shape) != 2:
        fitted, reconstruction = {"skipped": f"the astronaut fit is 2-D, the signal {len(shape)}-D"}, np.zeros((0, 0))
    elif options.fit_steps > 0:
        fitted, reconstruction = probes.fit_test_image(model, options.fit_size, steps=options.fit_steps,
                                                       learning_rate=options.fit_lr, progress=progress)  # fmt: skip
    else:
        fitted, reconstruction = {"skipped": "fit_steps is 0"}, np.zeros((0, 0), np.float32)
    seconds = {"aliasing": alias_seconds, "fit": time.perf_counter() - start}
    return {"aliasing": aliasing, "fit": fitted, "seconds": seconds}, {"fit_reconstruction": reconstruction, **arrays}


def analyse(
    model: eqx.Module | object,  # an inrdict model, or another framework's (`inrdict.adapters`: PyTorch)
    signals: Float[AnyArray, " m *pixels"] | None = None,
    *,
    signal: Float[AnyArray, " *shape"] | None = None,
    options: AnalyseOptions = AnalyseOptions(),
    one_d: eqx.Module | object | None = None,
    spectrum: Spectrum | None = None,
    learned: Learnability | None = None,
    progress: bool = False,
) -> Report:
    """`model` (a single-output INR) through the lens, on the `options.grid`² grid or `signal`'s own grid:

    * its NTK spectrum and decay (`ntk_spectrum`, or the `spectrum` given);
    * the top `n_eigenvectors` eigenvectors (the dictionary's first atoms), their dominant frequencies and the
      radial power of their span (`probes.eigenvector_frequencies`);
    * E(λ) and E(0.1) of `signals` ((m, grid, grid) or (m, grid²), e.g. held-out faces) and PSNR@k under
      `options.protocol` (one seeded mask; or the `learned` curves given);
    * Fig. 3's aliasing test on `one_d`, a 1-D version of the model (skipped when None);
    * a fit of the grayscale astronaut at fit_size² (skipped when `fit_steps` is 0, or for a 1-D or 3-D signal).

    With `signal` (a 1-D signal (n,), an image (h, w) or a volume (d, h, w), values in [0, 1]; the model takes
    that many coordinates) the NTK lives on that signal's own grid (`data.unit_grid`) and E(λ) and PSNR@k are the
    signal's. Pure: nothing is read or cached (`inrdict analyse` loads the faces and caches the spectrum and curves).
    """
    start = time.perf_counter()
    shape, points = analysis_grid(options, signal)
    images = _images(signals, signal, shape)
    model = adapt(model, in_features=points.shape[1], label=options.label)
    one_d = None if one_d is None else adapt(one_d, in_features=1, label=options.label)
    if spectrum is None:
        if progress:
            print(f"  NTK of {options.label} ({points.shape[0]} points, {options.precision})", flush=True)
        spectrum = ntk_spectrum(model, points, options.spectrum)
    energy = energy_concentration(spectrum, images)
    mask = pixel_mask(points.shape[0], options.seed, options.protocol.train_fraction)
    if learned is None:
        learned = learnability(model, points, images, mask, protocol=options.protocol)
    row = row_record(spectrum, energy, learned)
    top = np.asarray(spectrum.eigvecs[:, : options.n_eigenvectors])
    frequencies, vectors, radial = probes.eigenvector_frequencies(top, options.grid, shape=shape)
    lens_seconds = time.perf_counter() - start
    probe_numbers, probe_arrays = _probes(model, one_d, shape, options, progress)
    name = options.signals_name if signal is None else f"signal:{options.signals_name}"
    numbers = _report_numbers(model, spectrum, row, options, frequencies, (name, images.shape[0]), mask)
    numbers |= probe_numbers
    numbers["seconds"] = {"ntk_and_faces": lens_seconds, **probe_numbers["seconds"]}
    if signal is not None:
        numbers["signal"] = {"name": options.signals_name, "shape": list(shape), "dimensions": len(shape)}
        numbers["spectrum"]["grid_shape"] = list(shape)
    if isinstance(model, ForeignINR):  # its NTK as its framework computed it, against a float64 oracle
        numbers["parity"] = model.parity(points)
        numbers["model"] |= model.describe()
    arrays = {
        "normalised_eigenvalues": spectrum.normalised, "energy_thresholds": energy.thresholds,
        "energy_at_thresholds": energy.mean, "energy_curve_mean": energy.curves.mean(axis=0),
        "test_psnr_db": learned.test_psnr_db, "eigenvectors": vectors, "subspace_radial_power": radial,
        **probe_arrays,
    }  # fmt: skip
    return Report(numbers, arrays)

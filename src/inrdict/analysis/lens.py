"""The dictionary lens: a model's NTK spectrum → the energy of signals on its eigenvectors → how fast and how well
those signals are learned (SPEC §4, §7). Pure functions over models and arrays; `analyse` puts them in one report.

    spectrum = lens.ntk_spectrum(model, points)                 # eigenpairs of the empirical NTK Θ on the grid
    energy = lens.energy_concentration(spectrum, images)        # E(t), E(0.1) per image
    learned = lens.learnability(model, points, images, mask, protocol=lens.RANDOM_INIT)   # PSNR@k
    report = lens.analyse(model)                                 # all of it, plus atoms, aliasing and a fit
    choice = lens.suggest("siren", image)                        # the frequency knob to fit `image` with
    fitted = lens.fit("siren", image, lens.FitOptions(knob=choice.value))   # trained as SIREN's authors train it

**Routes.** `ntk_spectrum` is the one place that checks memory up front and chooses how eigenpairs are computed:
"dense" forms Θ (N x N) and computes all N eigenpairs with `eigh` (E(t) exact for every t); "stored" keeps Θ's
upper triangle and computes the top k with a Krylov solver; "matrix_free" computes the top k from products Θ V
without forming Θ (`inrdict.ntk.top_eigenpairs`). "auto" is dense up to `DENSE_MAX_POINTS` points and the top k
above, storing the triangle where that is cheaper (`inrdict.ntk.storing_pays`); the route taken is recorded. With
the top k only, E(t) is exact for t ≥ λ_k / λ₀ (`Spectrum.exact_from`) and reported as NaN below.

**Learnability** (`inrdict.analysis.learnability`, re-exported here): `Protocol`s of fine-tuning (`RANDOM_INIT`: Adam
at lr 1e-4 for random initialisations; `META_INIT`: plain GD at lr 1e-2 for meta-learned ones, SPEC §7), PSNR@k, and
the linearised-GD prediction from the NTK at initialisation.

Caching: `cached_ntk_spectrum` and `learnability(use_cache=True)` memoise on disk (`inrdict.io.cache`) for models
the checkpoint format describes, and compute directly for any other module.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import Literal

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Float

from inrdict._memory import require_memory
from inrdict._typing import AnyArray
from inrdict.analysis import alignment, probes
from inrdict.analysis.fitting import FitOptions, Fitted, fit
from inrdict.analysis.learnability import (
    META_INIT,
    PROTOCOLS,
    RANDOM_INIT,
    Learnability,
    Protocol,
    learnability,
    pixel_mask,
)  # fmt: skip
from inrdict.analysis.suggest import Suggestion, SuggestOptions, suggest
from inrdict.errors import InrdictError
from inrdict.io import cache, data
from inrdict.io.checkpoints import describable, model_config
from inrdict.io.datasets import held_out_faces
from inrdict.models import count_parameters
from inrdict.ntk import eigh_descending, eigh_memory_bytes, empirical_ntk, top_eigenpairs, top_eigenpairs_of
from inrdict.ntk.solvers import solver_memory_bytes
from inrdict.pytorch import is_torch_model

THRESHOLDS = np.logspace(0, -10, 101)
"""λ / λ₀ values at which E(t) is reported (SPEC §4's energy curve), 1 down to 1e-10."""
# Above this many points "auto" computes the top k only: a full `eigh` at 128² (16,384 points) takes ~10 min and
# 4.7 GB on 2 cores, the top k of the operator ~20 s (benchmarks/ntk_topk.py).
DENSE_MAX_POINTS = 4096
DEFAULT_TOP_K = 64
SpectrumRoute = Literal["auto", "dense", "stored", "matrix_free"]
_STORE = {"auto": None, "stored": True, "matrix_free": False}  # top_eigenpairs' store_kernel per top-k route


# --------------------------------------------------------------------------------------------------------- spectrum


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """Eigenpairs of the empirical NTK on N points, eigenvalues descending.

    Attributes:
        eigvals: (k,) descending; k = N on the dense route.
        eigvecs: (N, k) unit eigenvectors in columns.
        route: "dense", "stored" or "matrix_free" (the route taken).
        info: timings and solver record (dense: ntk_seconds, eigh_seconds; top k: solve_seconds, products,
            max_residual, converged, solver, stored_kernel).
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    route: str
    info: dict

    @property
    def k(self) -> int:
        return int(self.eigvals.size)

    @property
    def normalised(self) -> np.ndarray:
        """λ_i / λ₀, (k,)."""
        return self.eigvals / self.eigvals[0]

    @property
    def exact_from(self) -> float:
        """Smallest t for which E(t) is exact: 0 with all eigenpairs (dense), λ_k / λ₀ with the top k."""
        return 0.0 if self.route == "dense" else float(self.eigvals[-1] / self.eigvals[0])

    def record(self, *, cached: bool = False) -> dict:
        """What results files hold about the spectrum: route, k, the timings and solver info, `cached`."""
        return {"route": self.route, "k": self.k, **self.info, "cached": cached}


def planned_route(n_points: int, route: SpectrumRoute = "auto") -> str:
    """ "dense" where `route` is dense or "auto" on at most `DENSE_MAX_POINTS` points; else the top-k route asked for
    ("auto" there: stored or matrix-free, decided when the operator is built). Across several processes
    (`inrdict.distributed`) only the matrix-free route splits its work, so "auto" is "matrix_free"."""
    if jax.distributed.is_initialized() and jax.process_count() > 1:  # (never starts a backend before that)
        if route in ("dense", "stored"):
            raise InrdictError(f"across {jax.process_count()} processes the NTK spectrum is matrix-free, not {route}: "
                               "use --set spectrum=matrix_free (or auto)")  # fmt: skip
        return "matrix_free"
    if route == "auto":
        return "dense" if n_points <= DENSE_MAX_POINTS else "auto"
    return route


def spectrum_memory_bytes(
    model, n_points: int, dtype, *, route: SpectrumRoute = "auto", top_k: int = DEFAULT_TOP_K
) -> int:
    """Rough peak bytes of `ntk_spectrum` before anything is computed: the kernel and its eigendecomposition (about
    6 n² values) on the dense route; n · (Σ_l (in_l + out_l) + 8 k) values of layer features and Krylov vectors on a
    top-k route, plus the triangle (n² / 2 values) when "stored" (a model without `layers` is counted as 4 layers of
    256; "auto" stores only where the triangle fits, so it is counted matrix-free)."""
    itemsize = np.dtype(dtype).itemsize
    chosen = planned_route(n_points, route)
    if chosen == "dense":
        return n_points**2 * itemsize + eigh_memory_bytes(n_points, itemsize)
    layers = getattr(model, "layers", None)
    widths = sum(layer.in_features + layer.out_features for layer in layers) if layers else 4 * 512
    triangle = n_points * (n_points + 1) // 2 if chosen == "stored" else 0
    return (n_points * (widths + 8 * min(top_k, n_points)) + triangle) * itemsize


def require_spectrum_memory(
    model, n_points: int, dtype, *, route: SpectrumRoute = "auto", top_k: int = DEFAULT_TOP_K
) -> None:
    """Refuse in one line, before any data is prepared, an NTK spectrum that would not fit in memory."""
    chosen = planned_route(n_points, route)
    name = {"dense": "dense", "stored": "stored-triangle"}.get(chosen, "matrix-free")
    require_memory(spectrum_memory_bytes(model, n_points, dtype, route=route, top_k=top_k),
                   f"the {name} NTK spectrum of {n_points} points",
                   "choose a smaller --set grid_size"
                   + (" or --set spectrum=matrix_free" if chosen in ("dense", "stored") else ""))  # fmt: skip


def _announce(line: str) -> None:
    """Where a long spectrum tells its estimated time and memory before it starts: stderr (process 0 only)."""
    if jax.process_index() == 0:
        print(f"inrdict: {line}", file=sys.stderr, flush=True)


def ntk_spectrum(
    model: eqx.Module | object,  # an inrdict model, or a torch.nn.Module (`inrdict.pytorch`)
    points: Float[AnyArray, "n d"],
    *,
    route: SpectrumRoute = "auto",
    top_k: int | None = None,
    dtype=None,
) -> Spectrum:
    """The eigenpairs of `model`'s empirical NTK on `points` (module docstring, "Routes").

    Args:
        route: "auto", "dense", "stored" or "matrix_free".
        top_k: eigenpairs on a top-k route (default `DEFAULT_TOP_K`; at most N); ignored on the dense route.
        dtype: float32 (default) or float64 (JAX's x64 mode is enabled for the computation); the solver's residual
            tolerance is 1e-4 λ₀ in float32, 1e-8 λ₀ in float64.

    Raises:
        InrdictError: a spectrum that would not fit in memory (before anything is computed), or bad arguments.
    """
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype not in (np.float32, np.float64):
        raise InrdictError(f"the NTK spectrum is computed in float32 or float64, not {dtype}")
    if route not in ("auto", "dense", "stored", "matrix_free"):
        raise InrdictError(f"unknown spectrum route {route!r}: choose auto, dense, stored or matrix_free")
    n = len(points)
    k = min(int(DEFAULT_TOP_K if top_k is None else top_k), n)
    chosen = planned_route(n, route)
    if is_torch_model(model):
        return _torch_spectrum(model, points, chosen, k, dtype)
    with jax.enable_x64(dtype == np.float64):
        require_spectrum_memory(model, n, dtype, route=route, top_k=k)
        if chosen == "dense":
            start = time.perf_counter()
            kernel = empirical_ntk(model, points, dtype=dtype, reserve_bytes=eigh_memory_bytes(n, dtype.itemsize))
            ntk_seconds = time.perf_counter() - start
            start = time.perf_counter()
            eigvals, eigvecs = eigh_descending(kernel)
            info: dict[str, object] = {"ntk_seconds": ntk_seconds, "eigh_seconds": time.perf_counter() - start}
            return Spectrum(eigvals, eigvecs, "dense", info)
        result = top_eigenpairs(model, points, k, dtype=dtype, tol=1e-4 if dtype == np.float32 else 1e-8,
                                store_kernel=_STORE[chosen], announce=_announce)  # fmt: skip
    info = {"solve_seconds": result.seconds, "products": result.matvecs,
            "max_residual": float(np.max(result.residuals)), "converged": bool(result.converged),
            "solver": result.method, "stored_kernel": bool(result.stored_kernel),
            "krylov_route": result.route}  # fmt: skip
    return Spectrum(result.eigvals, result.eigvecs, "stored" if result.stored_kernel else "matrix_free", info)


def _torch_spectrum(model, points, chosen: str, k: int, dtype: np.dtype) -> Spectrum:
    """`ntk_spectrum` of a PyTorch INR (`inrdict.pytorch.ntk`): the Jacobian-Gram kernel and `eigh` on the dense
    route, `top_eigenpairs_of` over the torch.func products otherwise."""
    from inrdict.pytorch import model as torch_model
    from inrdict.pytorch import ntk as torch_ntk

    inr, n = torch_model.as_torch_inr(model), len(points)
    if chosen == "dense":
        start = time.perf_counter()
        kernel = torch_ntk.empirical_ntk(inr, points, dtype=dtype, reserve_bytes=eigh_memory_bytes(n, dtype.itemsize))
        ntk_seconds = time.perf_counter() - start
        start = time.perf_counter()
        eigvals, eigvecs = eigh_descending(kernel)
        info = {"ntk_seconds": ntk_seconds, "eigh_seconds": time.perf_counter() - start, "ntk_route": "jacobian_gram"}
        return Spectrum(eigvals, eigvecs, "dense", info)
    if chosen == "stored":
        raise InrdictError("the stored-triangle route is for inrdict's own models: use route dense or matrix_free "
                           "for a PyTorch model")  # fmt: skip
    operator = torch_ntk.TorchNTKOperator(inr, points, dtype=dtype,
                                          extra_bytes=solver_memory_bytes(n, k, "block", 8, min(n, 4 * k), dtype.itemsize))  # fmt: skip
    result = top_eigenpairs_of(operator, k, tol=1e-4 if dtype == np.float32 else 1e-8)
    info = {"solve_seconds": result.seconds, "products": result.matvecs, "max_residual": float(np.max(result.residuals)),
            "converged": bool(result.converged), "solver": result.method, "stored_kernel": False,
            "ntk_route": "torch.func products"}  # fmt: skip
    return Spectrum(result.eigvals, result.eigvecs, "matrix_free", info)


def cached_ntk_spectrum(model, points, *, route: SpectrumRoute = "auto", top_k: int | None = None, dtype=None,
                        use_cache: bool = True) -> tuple[Spectrum, bool]:  # fmt: skip
    """(`ntk_spectrum(...)`, whether it was read from the cache): memoised on disk, keyed by the model's family,
    settings and every weight, the grid, the precision (and k and the route on a top-k route); computed directly
    for a model the checkpoint format cannot describe."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if not (use_cache and describable(model)):
        return ntk_spectrum(model, points, route=route, top_k=top_k, dtype=dtype), False
    parts: tuple[object, ...] = (model_config(model), str(dtype), np.asarray(points), model)
    if planned_route(len(points), route) == "dense":
        namespace = "ntk"
    else:
        namespace, k = "ntk_topk", min(int(DEFAULT_TOP_K if top_k is None else top_k), len(points))
        parts = (*parts, k) if route == "auto" else (*parts, k, route)

    def compute() -> dict[str, np.ndarray]:
        spectrum = ntk_spectrum(model, points, route=route, top_k=top_k, dtype=dtype)
        info = {"route": spectrum.route, **spectrum.info}
        return {"eigvals": spectrum.eigvals, "eigvecs": spectrum.eigvecs,
                "timings": np.frombuffer(json.dumps(info).encode(), np.uint8)}  # fmt: skip

    stored, cached = cache.memoize(namespace, parts, compute)
    info = json.loads(bytes(stored["timings"]).decode())
    taken = info.pop("route", None) or ("dense" if namespace == "ntk" else
                                        "stored" if info.get("stored_kernel") else "matrix_free")  # fmt: skip
    return Spectrum(stored["eigvals"], stored["eigvecs"], taken, info), cached


# ----------------------------------------------------------------------------------------------------------- energy


@dataclasses.dataclass(frozen=True)
class Energy:
    """Energy concentration of m signals on a spectrum's eigenvectors (SPEC §4, `inrdict.analysis.alignment`).

    Attributes:
        thresholds: (t,) values of λ / λ₀.
        mean, std: (t,) E(t) over signals; NaN below `exact_from` (top-k spectra).
        curves: (m, k) each signal's energy on the top-(i+1) eigenvectors.
        at_01: (m,) each signal's E(0.1); NaN when the top k do not reach λ / λ₀ = 0.1.
        within_10pct: eigenvalues within 10 % of λ₀.
        exact_from: the spectrum's `exact_from`.
    """

    thresholds: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    curves: np.ndarray
    at_01: np.ndarray
    within_10pct: int
    exact_from: float
    counts: np.ndarray | None = None  # (t,) eigenvalues ≥ t·λ₀ at each threshold

    @property
    def total(self) -> np.ndarray:
        """(m,) each signal's energy on all computed eigenvectors: 1 with a full basis, at most 1 with the top k."""
        return self.curves[:, -1]

    def per_signal(self) -> np.ndarray:
        """(m, t) each signal's E(t) at every threshold; NaN below `exact_from` (top-k spectra)."""
        counts = np.asarray(self.counts)
        values = np.where(counts[None, :] > 0, self.curves[:, np.maximum(counts, 1) - 1], 0.0)
        return np.where(self.thresholds[None, :] >= self.exact_from, values, np.nan)

    def at(self, threshold: float) -> np.ndarray:
        """(m,) each signal's E(threshold), for a threshold of `thresholds` (e.g. 1e-2, 1e-3)."""
        index = np.flatnonzero(np.isclose(self.thresholds, threshold, rtol=1e-9))
        if not index.size:
            raise InrdictError(f"E(t) is computed at the thresholds only; {threshold:g} is not one of them")
        return self.per_signal()[:, index[0]]

    def area(self, decades: int = 4) -> np.ndarray:
        """(m,) the area under each signal's E(t) per decade of t = λ/λ₀ over [10^-decades, 1]:
        ∫ E d log10 t / decades, in [0, 1] (trapezoids on the thresholds; NaN where E is not exact there)."""
        inside = self.thresholds >= 10.0**-decades * (1 - 1e-9)
        return np.trapezoid(self.per_signal()[:, inside], -np.log10(self.thresholds[inside]), axis=1) / decades


def energy_concentration(spectrum: Spectrum, signals: Float[AnyArray, " m *pixels"],
                         thresholds: Float[AnyArray, " t"] = THRESHOLDS) -> Energy:  # fmt: skip
    """E(t) of `signals` (m images on the spectrum's grid, or rows (m, N)) on `spectrum`'s eigenvectors, after
    subtracting each signal's mean.

    Raises:
        InrdictError: a constant signal (no energy once its mean is removed).
    """
    signals = alignment.center_signals(signals)  # (m, N)
    eigvals, eigvecs = spectrum.eigvals, spectrum.eigvecs
    if signals.shape[1] != eigvecs.shape[0]:
        raise InrdictError(f"signals have {signals.shape[1]} samples, the spectrum's grid {eigvecs.shape[0]} points")
    curves = alignment.cumulative_energy(eigvecs, signals)  # (m, k)
    within = int(np.sum(eigvals / eigvals[0] >= 0.1))
    stops_at = float(eigvals[-1] / eigvals[0])  # with the top k only, E(t) is known for t ≥ λ_k / λ₀
    dense = spectrum.route == "dense"
    mean, std = alignment.energy_concentration(eigvals, eigvecs, signals, thresholds)
    if not dense:
        mean = np.where(thresholds >= stops_at, mean, np.nan)
        std = np.where(thresholds >= stops_at, std, np.nan)
    at_01 = curves[:, within - 1] if (dense or stops_at < 0.1) else np.full(len(curves), np.nan)
    counts = np.sum(eigvals[None, :] / eigvals[0] >= np.asarray(thresholds)[:, None], axis=1)
    return Energy(np.asarray(thresholds), mean, std, curves, at_01, within, spectrum.exact_from, counts)


# ----------------------------------------------------------------------------------------------------- records


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


# ----------------------------------------------------------------------------------------------------------- report


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


def _signals_on_grid(
    signals, grid: int, faces: str, data_dir: str | None, seed: int, n_test: int
) -> tuple[str, np.ndarray]:
    """(name, images (m, grid²)): the given signals, checked, or the held-out faces."""
    if signals is None:
        return held_out_faces(faces, grid, data_dir, seed, n_test)
    images = np.asarray(signals, np.float32).reshape(len(signals), -1)
    if images.shape[1] != grid * grid or not np.all(np.isfinite(images)):
        raise InrdictError(f"signals must be finite, of shape (m, {grid}, {grid}) or (m, {grid * grid}); "
                           f"got {np.shape(signals)}")  # fmt: skip
    return "signals", images


def _model_record(model) -> dict:
    """Class and trained-parameter count of an inrdict or PyTorch model."""
    if is_torch_model(model):
        return {"class": model.class_name, "parameters": model.n_parameters, "framework": "pytorch"}
    return {"class": type(model).__name__, "parameters": count_parameters(model)}


def _report_numbers(model, label: str, spectrum: Spectrum, row: dict, precision: str, grid: int, frequencies: dict,
                    n_vectors: int, dataset: str, n_images: int, protocol: Protocol, mask: np.ndarray,
                    cached: bool) -> dict:  # fmt: skip
    """The model, spectrum, eigenvector and face sections of `analyse`'s numbers."""
    stops_at = row["energy_curve_stops_at"]
    return {
        "model": {"label": label, **_model_record(model),
                  "hidden": list(getattr(model, "hidden", ()))},
        "spectrum": {"route": row["spectrum_route"], "precision": precision, "eigenpairs": row["eigenpairs"],
                     "grid_size": grid, **probes.spectrum_decay(spectrum.eigvals), "energy_curve_stops_at": stops_at,
                     "cached": cached,
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


def analyse(
    model: eqx.Module | object,  # an inrdict model, or a torch.nn.Module (`inrdict.pytorch`)
    *,
    signals: Float[AnyArray, " m *pixels"] | None = None,
    grid: int = 64,
    precision: Literal["float32", "float64"] = "float32",
    route: SpectrumRoute = "auto",
    top_k: int = 128,
    n_eigenvectors: int = 10,
    protocol: Protocol = RANDOM_INIT,
    faces: str = "lfw",
    data_dir: str | None = None,
    n_test: int = 35,
    seed: int = 0,
    one_d: eqx.Module | object | None = None,
    alias_steps: int = 2000,
    alias_lr: float = 1e-3,
    fit_size: int = 64,
    fit_steps: int = 200,
    fit_lr: float = 1e-4,
    label: str = "model",
    use_cache: bool = True,
    progress: bool = False,
    signal: Float[AnyArray, " *shape"] | None = None,
    signal_name: str = "signal",
) -> Report:
    """`model` (a single-output INR on 2-D points) through the lens, on the grid² grid `linspace(0, 1, N+1)[:-1]`:

    * its NTK spectrum and decay (`ntk_spectrum`; all eigenpairs up to 64², the `top_k` above);
    * the top `n_eigenvectors` eigenvectors (the dictionary's first atoms), their dominant frequencies and the
      radial power of their span (`probes.eigenvector_frequencies`);
    * E(λ) and E(0.1) of `signals` ((m, grid, grid) or (m, grid²); default: the held-out `faces`) and PSNR@k under
      `protocol` (one seeded 50 % mask);
    * Fig. 3's aliasing test on `one_d`, a 1-D version of the model (skipped when None);
    * a fit of the grayscale astronaut at fit_size² (skipped when `fit_steps` is 0).

    With `signal` (a 1-D signal (n,), an image (h, w) or a volume (d, h, w), values in [0, 1]; the model takes
    that many coordinates) the NTK lives on that signal's own grid (`data.unit_grid`, `linspace(0, 1, n+1)[:-1]` per
    axis), E(λ) and PSNR@k are the signal's, the atoms are reshaped to its grid, and the astronaut fit is skipped
    for 1-D and 3-D signals.

    Returns a `Report`; `inrdict analyse` is this with a model spec, a results folder and a picture.
    """
    seconds = {}
    start = time.perf_counter()
    shape = (grid, grid) if signal is None else tuple(np.shape(signal))
    if signal is not None and not (1 <= len(shape) <= 3 and np.all(np.isfinite(signal))):
        raise InrdictError(f"the signal must be finite with 1 to 3 axes, got shape {shape}")
    points = data.ntk_grid(grid) if signal is None else data.unit_grid(shape)
    torch_model = is_torch_model(model)
    if torch_model:
        from inrdict.pytorch import model as torch_inr
        from inrdict.pytorch import ntk as torch_ntk

        model = torch_inr.as_torch_inr(model, label=label)
        one_d = None if one_d is None else torch_inr.as_torch_inr(one_d, in_features=1, label=label)
    if signal is None:
        dataset, images = _signals_on_grid(signals, grid, faces, data_dir, seed, n_test)
    else:
        dataset, images = f"signal:{signal_name}", np.asarray(signal, np.float32).reshape(1, -1)
    dtype = np.float64 if precision == "float64" else np.float32
    if progress:
        print(f"  NTK of {label} ({points.shape[0]} points, {precision})", flush=True)
    spectrum, cached = cached_ntk_spectrum(model, points, route=route, top_k=top_k, dtype=dtype, use_cache=use_cache)
    energy = energy_concentration(spectrum, images)
    mask = pixel_mask(points.shape[0], seed, protocol.train_fraction)
    learned = learnability(model, points, images, mask, protocol=protocol, use_cache=use_cache)
    row = row_record(spectrum, energy, learned)
    top = np.asarray(spectrum.eigvecs[:, :n_eigenvectors])
    frequencies, vectors, radial = probes.eigenvector_frequencies(top, grid, shape=shape)
    seconds["ntk_and_faces"] = time.perf_counter() - start

    start = time.perf_counter()
    alias_arrays: dict[str, np.ndarray]
    if one_d is None:
        aliasing, alias_arrays = {"skipped": "no 1-D version of the model was given"}, {}
    else:
        aliasing, alias_arrays = probes.aliasing_score(one_d, seed, steps=alias_steps, learning_rate=alias_lr,
                                                       progress=progress, label=label)  # fmt: skip
    seconds["aliasing"] = time.perf_counter() - start
    start = time.perf_counter()
    if len(shape) != 2:
        fitted, reconstruction = {"skipped": f"the astronaut fit is 2-D, the signal {len(shape)}-D"}, np.zeros((0, 0))
    elif fit_steps > 0:
        fitted, reconstruction = probes.fit_test_image(model, fit_size, steps=fit_steps, learning_rate=fit_lr,
                                                       progress=progress)  # fmt: skip
    else:
        fitted, reconstruction = {"skipped": "fit_steps is 0"}, np.zeros((0, 0), np.float32)
    seconds["fit"] = time.perf_counter() - start

    numbers = _report_numbers(model, label, spectrum, row, precision, grid, frequencies, top.shape[1], dataset,
                              images.shape[0], protocol, mask, cached)  # fmt: skip
    numbers |= {"aliasing": aliasing, "fit": fitted, "seconds": seconds}
    if signal is not None:
        numbers["signal"] = {"name": signal_name, "shape": list(shape), "dimensions": len(shape)}
        numbers["spectrum"]["grid_shape"] = list(shape)
    if torch_model:  # the NTK as PyTorch computed it, checked against a float64 jacrev oracle (`parity_certificate`)
        assert isinstance(model, torch_inr.TorchINR)  # made above
        numbers["parity"] = torch_ntk.parity_certificate(model, points)
        numbers["model"] |= model.describe()
    arrays = {
        "normalised_eigenvalues": spectrum.normalised, "energy_thresholds": energy.thresholds,
        "energy_at_thresholds": energy.mean, "energy_curve_mean": energy.curves.mean(axis=0),
        "test_psnr_db": learned.test_psnr_db, "eigenvectors": vectors, "subspace_radial_power": radial,
        "fit_reconstruction": reconstruction, **alias_arrays,
    }  # fmt: skip
    return Report(numbers, arrays)


__all__ = [
    "DEFAULT_TOP_K",
    "DENSE_MAX_POINTS",
    "META_INIT",
    "PROTOCOLS",
    "RANDOM_INIT",
    "THRESHOLDS",
    "Energy",
    "FitOptions",
    "Fitted",
    "Learnability",
    "Protocol",
    "Report",
    "Spectrum",
    "SpectrumRoute",
    "SuggestOptions",
    "Suggestion",
    "analyse",
    "cached_ntk_spectrum",
    "energy_concentration",
    "fit",
    "format_number",
    "learnability",
    "ntk_spectrum",
    "pixel_mask",
    "planned_route",
    "protocol_text",
    "require_spectrum_memory",
    "row_record",
    "spectrum_memory_bytes",
    "suggest",
]  # fmt: skip

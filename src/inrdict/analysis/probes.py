"""Probes of one model beside its spectrum: how fast the eigenvalues decay, the dominant frequencies of the top
eigenvectors (the dictionary's first atoms), Fig. 3's aliasing test on a 1-D version, and a fit of the astronaut.

Each returns (numbers, arrays) or numbers; `inrdict.analysis.lens.analyse` puts them into one report.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from inrdict._keys import init_key
from inrdict.adapters import ForeignINR, adapt
from inrdict.analysis import spectrum
from inrdict.io import data
from inrdict.train.fit import Monitor
from inrdict.train.fit import fit as jax_fit
from inrdict.train.fit import predict as jax_predict
from inrdict.train.losses import psnr_db


def spectrum_decay(eigvals: np.ndarray) -> dict:
    """How fast λ_i/λ_0 falls: eigenvalues within 10 % of λ_0, the index where the ratio first drops below
    10^-1 … 10^-6 (None past the eigenvalues known), and λ_i/λ_0 at i = 1, 10, 100, 1000."""
    ratio = np.asarray(eigvals, np.float64) / float(eigvals[0])
    below = {f"1e-{p}": (int(np.argmax(ratio < 10.0**-p)) if np.any(ratio < 10.0**-p) else None) for p in range(1, 7)}
    return {"largest_eigenvalue": float(eigvals[0]), "eigenvalues_within_10pct": int(np.sum(ratio >= 0.1)),
            "first_index_below": below,
            "ratio_at": {str(i): float(ratio[i]) for i in (1, 10, 100, 1000) if i < ratio.size},
            "negative_eigenvalues": int(np.sum(ratio < 0))}  # fmt: skip


def eigenvector_frequencies(eigvecs: np.ndarray, grid: int, shape: tuple[int, ...] | None = None
                            ) -> tuple[dict, np.ndarray, np.ndarray]:  # fmt: skip
    """Dominant frequencies of the top eigenvectors and the radial power spectrum of their span.

    Each eigenvector (sign: non-negative sum) is reshaped to the grid, mean-subtracted and Hann-windowed, and
    |FFT2|² taken (DFT bin k = k cycles per unit on [0, 1)², radius sqrt(k_y² + k_x²)). Per vector: the radius of
    the largest power (peak) and the power-weighted mean radius (centroid). The span's radial power spectrum is the
    summed power of all k vectors binned by rounded radius, normalised to sum 1 (projector-invariant: it does not
    depend on the basis chosen inside the span).

    `shape` (default (grid, grid)) is the grid of a 1-D signal (n,) or a volume (d, h, w): the same with the FFT
    over its axes and the radius sqrt(Σ k_a²).

    Returns:
        (numbers, vectors (k, *shape) float32, radial power (grid // 2 * 1.5 bins,)).
    """
    shape = (grid, grid) if shape is None else tuple(shape)
    axes = tuple(range(1, len(shape) + 1))
    vectors = eigvecs.T.astype(np.float64).reshape(-1, *shape)  # (k, *shape)
    vectors *= np.where(vectors.sum(axis=axes, keepdims=True) < 0, -1.0, 1.0)
    window = np.ones(shape)
    for axis, n in enumerate(shape):  # the separable Hann window
        window = window * np.hanning(n).reshape([n if a == axis else 1 for a in range(len(shape))])
    centred = vectors - vectors.mean(axis=axes, keepdims=True)
    power = np.abs(np.fft.fftn(centred * window, axes=axes)) ** 2  # (k, *shape)
    bins = np.meshgrid(*[np.fft.fftfreq(n, d=1.0 / n) for n in shape], indexing="ij")
    radius = np.abs(bins[0])
    for other in bins[1:]:
        radius = np.hypot(radius, other)  # (*shape) cycles per unit
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


def _trainer(model):
    """(fit, predict) of the model's framework, both called as `inrdict.train.fit`'s: those, or the model's own
    (`inrdict.adapters`)."""
    if isinstance(model, ForeignINR):

        def foreign_fit(m, coords, targets, *, steps: int, learning_rate: float, monitor: Monitor):
            return m.fit(coords, targets, steps=steps, learning_rate=learning_rate, eval_every=monitor.every,
                         progress=monitor.progress, description=monitor.description)  # fmt: skip

        return foreign_fit, (lambda m, coords: m.predict(coords))
    return jax_fit, jax_predict


TONE_HZ, TONE_SAMPLES, TRAIN_STRIDE = 23.0, 256, 2  # Fig. 3's test (SPEC §5)
FITS_PSNR_DB = 30.0  # below this training PSNR the tone was not fitted and the aliasing score means nothing
ALIAS_HZ = TONE_SAMPLES / TRAIN_STRIDE - TONE_HZ  # 105 Hz: the tone's mirror on the 128-sample training grid


def aliasing_score(
    model_1d, seed: int, *, steps: int, learning_rate: float, progress: bool, label: str
) -> tuple[dict, dict]:
    """Fig. 3's aliasing test for a 1-D model: fit a 23 Hz tone (seeded phase) on the 128 even samples of
    linspace(0, 1, 256, endpoint=False) with full-batch Adam, then read the 256-sample reconstruction's spectrum.

    Returns:
        (numbers: train / full-grid PSNR, levels (dB) at 23 and 105 Hz, `alias_below_signal_db` = level(23 Hz) -
        level(105 Hz), the aliasing score, meaningful only when `fits_training_samples` (train PSNR ≥ 30 dB);
        arrays: the reconstruction's spectrum and the target's).
    """
    phase = float(jax.random.uniform(init_key(seed, "tone_phase"), (), minval=0.0, maxval=2 * np.pi))
    r, target = data.tone(TONE_HZ, TONE_SAMPLES, phase)
    model_1d = adapt(model_1d, in_features=1, label=label)
    fit, predict = _trainer(model_1d)
    monitor = Monitor(every=max(1, steps // 10), progress=progress, description=f"aliasing test {label}")
    result = fit(model_1d, r[::TRAIN_STRIDE], target[::TRAIN_STRIDE], steps=steps, learning_rate=learning_rate,
                 monitor=monitor)  # fmt: skip
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
    return numbers, {
        "tone_freqs_hz": freqs,
        "tone_level_db": level,
        "tone_target_db": spectrum.magnitude_spectrum_db(target)[1],
    }


def fit_test_image(model, size: int, *, steps: int, learning_rate: float, progress: bool) -> tuple[dict, np.ndarray]:
    """Fit the grayscale astronaut at size² on the Fig. 2 grid (full-batch Adam): (numbers, reconstruction)."""
    image = data.to_grayscale(data.square_image(data.astronaut(), size))
    coords, targets = data.image_dataset(image)
    model = adapt(model)
    start = time.perf_counter()
    monitor = Monitor(every=max(1, steps // 10), progress=progress, description="fit of the astronaut")
    result = _trainer(model)[0](model, coords, targets, steps=steps, learning_rate=learning_rate, monitor=monitor)
    numbers = {"image": f"astronaut, grayscale, {size}x{size}", "steps": steps, "learning_rate": learning_rate,
               "psnr_db": float(result.final_eval_psnr_db), "psnr_protocol": "all pixels",
               "psnr_curve_db": result.eval_psnr_db, "seconds": time.perf_counter() - start}  # fmt: skip
    return numbers, np.asarray(result.predictions, np.float32).reshape(size, size)

"""Frequency-support analysis: DFT magnitudes, odd-bin energy, tone levels (SPEC §2, §5).

All functions take and return NumPy arrays; nothing here trains or plots.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from inrdict._typing import AnyArray
from inrdict.io.data import to_grayscale

LOG_FLOOR = 1e-12


def dft_log_magnitude(image: Float[AnyArray, "h w *c"], floor: float = LOG_FLOOR) -> Float[np.ndarray, "h w"]:
    """Centred DFT log-magnitude of the grayscale image: 20 log10 max(|fftshift(fft2(gray))|, floor). (H, W)."""
    spectrum = np.fft.fftshift(np.fft.fft2(to_grayscale(np.asarray(image, np.float64))))
    return 20.0 * np.log10(np.maximum(np.abs(spectrum), floor))


def odd_bin_energy_fraction(image: Float[AnyArray, "h w *c"]) -> float:
    """Share of DFT energy in bins (k_y, k_x) with k_y odd or k_x odd, summed over channels.

    An image on an even grid whose content repeats after half the grid in both axes (a 1-periodic function
    sampled on a domain of length 2, SPEC §1 Fig. 2) has exactly zero energy there.
    """
    image = np.asarray(image, np.float64)
    spectrum = np.abs(np.fft.fft2(image, axes=(0, 1))) ** 2
    if spectrum.ndim == 3:
        spectrum = spectrum.sum(axis=-1)
    ky = np.arange(image.shape[0])[:, None] % 2
    kx = np.arange(image.shape[1])[None, :] % 2
    odd = (ky + kx) > 0
    return float(spectrum[odd].sum() / max(spectrum.sum(), 1e-300))


def four_shift_average(image: Float[np.ndarray, "h w *c"]) -> Float[np.ndarray, "h w *c"]:
    """Mean of the image and its three circular half-period shifts (rows, columns, both).

    This is the best (least-squares) approximation of the image by a function that is periodic with half
    the grid in both axes: what an FFN with B = I must converge to on the Fig. 2 grid.
    """
    h, w = image.shape[0] // 2, image.shape[1] // 2
    shifted = [image, np.roll(image, h, 0), np.roll(image, w, 1), np.roll(image, (h, w), (0, 1))]
    return np.mean(shifted, axis=0).astype(image.dtype)


def magnitude_spectrum_db(
    signal: Float[AnyArray, "*shape"], floor: float = LOG_FLOOR
) -> tuple[Float[np.ndarray, " n"], Float[np.ndarray, " n"]]:
    """Centred magnitude spectrum of a 1-D signal on [0, 1): frequencies in Hz and 20 log10 |fft|.

    With n samples on [0, 1) the sampling rate is n Hz, so the bins are the integers -n/2 .. n/2 - 1.
    Returns (freqs_hz, level_db), both (n,).
    """
    signal = np.asarray(signal, np.float64).ravel()
    n = signal.size
    freqs = np.fft.fftshift(np.fft.fftfreq(n, d=1.0 / n))
    level = 20.0 * np.log10(np.maximum(np.abs(np.fft.fftshift(np.fft.fft(signal))), floor))
    return freqs, level


def level_at_db(freqs_hz: Float[np.ndarray, " n"], level_db: Float[np.ndarray, " n"], freq_hz: float) -> float:
    """Spectrum level at the bin nearest `freq_hz`."""
    return float(level_db[int(np.argmin(np.abs(freqs_hz - freq_hz)))])


def tone_levels_db(signal: Float[AnyArray, "*shape"], freqs_hz: tuple[float, ...]) -> dict[float, float]:
    """Level (dB) at each ±f pair, taking the larger of +f and -f."""
    freqs, level = magnitude_spectrum_db(signal)
    return {f: max(level_at_db(freqs, level, f), level_at_db(freqs, level, -f)) for f in freqs_hz}

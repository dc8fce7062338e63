"""Energy concentration of signals on a spectrum's eigenvectors, E(t) (SPEC §4; `inrdict.analysis.alignment`)."""

from __future__ import annotations

import dataclasses

import numpy as np
from jaxtyping import Float

from inrdict._typing import AnyArray
from inrdict.analysis import alignment
from inrdict.analysis.eigenpairs import Spectrum
from inrdict.errors import InrdictError

THRESHOLDS = np.logspace(0, -10, 101)
"""λ / λ₀ values at which E(t) is reported (SPEC §4's energy curve), 1 down to 1e-10."""


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
    mean, std = alignment.energy_at_thresholds(eigvals, eigvecs, signals, thresholds)
    if not dense:
        mean = np.where(thresholds >= stops_at, mean, np.nan)
        std = np.where(thresholds >= stops_at, std, np.nan)
    at_01 = curves[:, within - 1] if (dense or stops_at < 0.1) else np.full(len(curves), np.nan)
    counts = np.sum(eigvals[None, :] / eigvals[0] >= np.asarray(thresholds)[:, None], axis=1)
    return Energy(np.asarray(thresholds), mean, std, curves, at_01, within, spectrum.exact_from, counts)

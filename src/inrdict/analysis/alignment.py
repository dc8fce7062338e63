"""How well a kernel's eigenbasis suits a set of signals: energy concentration E(λ) (SPEC §4, Fig. 4).

For signals g_m (mean-subtracted, flattened like the grid) and unit eigenvectors v_i with eigenvalues sorted
descending,

    E(t) = mean_m  sum_{i : λ_i / λ_0 >= t}  <v_i, g_m>² / ||g_m||²,

the share of a signal's energy on the eigenvectors whose eigenvalue is within a factor t of the largest. Energy
on large-eigenvalue eigenvectors is learned fast and generalises (small kernel norm); E(0.1) is the scalar
summary. With a full eigenbasis E(t) reaches 1 as t → 0 (the original code's eigsh(k=2000) could not).
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from inrdict._typing import AnyArray
from inrdict.errors import InrdictError


def center_signals(images: Float[AnyArray, " m *pixels"]) -> Float[np.ndarray, "m n"]:
    """(m, h, w) or (m, n) images to mean-subtracted rows (m, n), float64."""
    signals = np.asarray(images, np.float64).reshape(images.shape[0], -1)
    return signals - signals.mean(axis=1, keepdims=True)


def energy_shares(eigvecs: Float[AnyArray, "n k"], signals: Float[AnyArray, "m n"]) -> Float[np.ndarray, "m k"]:
    """<v_i, g_m>² / ||g_m||² for each signal m and eigenvector i: shape (m, k) for k eigenvectors."""
    signals = np.asarray(signals, np.float64)
    energy = np.sum(signals**2, axis=1, keepdims=True)  # (m, 1)
    if np.any(energy == 0):
        raise InrdictError(
            f"signal {int(np.argmin(energy))} is constant (zero energy once its mean is removed): drop it"
        )
    coefficients = signals @ np.asarray(eigvecs, np.float64)  # (m, k)
    return coefficients**2 / energy


def cumulative_energy(eigvecs: Float[AnyArray, "n k"], signals: Float[AnyArray, "m n"]) -> Float[np.ndarray, "m k"]:
    """Per-signal energy on the top-(i+1) eigenvectors, (m, k): the E curve of each signal against i."""
    return np.cumsum(energy_shares(eigvecs, signals), axis=1)


def energy_at_thresholds(
    eigvals: Float[AnyArray, " k"],
    eigvecs: Float[AnyArray, "n k"],
    signals: Float[AnyArray, "m n"],
    thresholds: Float[AnyArray, " t"],
) -> tuple[Float[np.ndarray, " t"], Float[np.ndarray, " t"]]:
    """E(t) per threshold, mean and standard deviation over signals: two arrays of shape (len(thresholds),), from
    raw eigenpairs (the lens's `energy_concentration` takes a `Spectrum` and returns an `Energy`).

    Args:
        eigvals: (k,) descending; eigvals[0] the largest.
        eigvecs: (n, k) unit eigenvectors in columns.
        signals: (m, n) mean-subtracted signals (see `center_signals`).
        thresholds: (t,) values of λ / λ_0.
    """
    shares = energy_shares(eigvecs, signals)  # (m, k)
    ratios = np.asarray(eigvals, np.float64) / float(eigvals[0])
    keep = ratios[None, :] >= np.asarray(thresholds, np.float64)[:, None]  # (t, k)
    per_signal = shares @ keep.T.astype(np.float64)  # (m, t)
    return per_signal.mean(axis=0), per_signal.std(axis=0)

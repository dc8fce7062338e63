"""The point spread function (PSF) of a model's NTK: how far one point constraint spreads.

A gradient step on the single-point loss ½ (f(r₀) − y₀)² changes the linearised model by

    Δf(r) = −η (f(r₀) − y₀) Θ(r, r₀),

so the NTK's row at r₀ is the shape of that change, its impulse response (Dai & Fan, ICLR 2026, arXiv 2602.10495,
study it for hash encodings). `point_spread` returns it on the model's grid, normalised by Θ(r₀, r₀), with its full
width at half maximum (FWHM) along each axis and, on 2-D grids, along both diagonals, in coordinate units (the grid
spans [0, 1) per axis), so that any two models compare on one scale. One product Θ e₀ of the matrix-free operator
gives the row (`inrdict.ntk.NTKOperator`; a model of another framework brings its own operator).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from inrdict.adapters import ForeignINR, adapt
from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.ntk import NTKOperator


@dataclasses.dataclass(frozen=True)
class PointSpread:
    """A model's NTK row at one grid point, Θ(r, r₀) / Θ(r₀, r₀), and its widths.

    Attributes:
        center: the grid index of r₀.
        values: the normalised row on the grid, shape `shape` (1 at r₀).
        fwhm: full width at half maximum through r₀ per direction ("axis0", "axis1", …; "diagonal" and
            "antidiagonal" on 2-D grids), in coordinate units; NaN where the profile stays above one half up to
            the grid's edge on a side (the width is then at least the distance to that edge).
    """

    center: tuple[int, ...]
    values: np.ndarray
    fwhm: dict[str, float]

    @property
    def anisotropy(self) -> float:
        """Largest over smallest FWHM of the directions measured (1: isotropic; NaN if any width is unknown)."""
        widths = np.array(list(self.fwhm.values()))
        return float(widths.max() / widths.min()) if np.all(np.isfinite(widths)) else float("nan")


def half_width_crossing(profile: np.ndarray, start: int) -> float:
    """Distance in samples from index `start` (the peak, value 1) to the first point where `profile` falls to ½,
    linearly interpolated; NaN if it never does."""
    for step in range(1, profile.size - start):
        below, above = profile[start + step], profile[start + step - 1]
        if below <= 0.5:
            return step - 1 + (above - 0.5) / (above - below)
    return float("nan")


def fwhm(profile: np.ndarray, center: int, spacing: float) -> float:
    """The full width at half maximum of `profile` (normalised to 1 at `center`) in units of `spacing` per sample:
    the half-maximum crossings on both sides, interpolated linearly."""
    right = half_width_crossing(profile, center)
    left = half_width_crossing(profile[::-1], profile.size - 1 - center)
    return float((left + right) * spacing)


def _profiles(values: np.ndarray, center: tuple[int, ...]) -> dict[str, tuple[np.ndarray, int, float]]:
    """(profile, index of the centre in it, spacing in coordinate units) along each axis and, in 2-D, diagonal."""
    profiles = {}
    for axis, n in enumerate(values.shape):
        index = tuple(slice(None) if a == axis else c for a, c in enumerate(center))
        profiles[f"axis{axis}"] = (values[index], center[axis], 1.0 / n)
    if values.ndim == 2:
        (n0, n1), (c0, c1) = values.shape, center
        spacing = math.hypot(1.0 / n0, 1.0 / n1)
        offset = c1 - c0
        profiles["diagonal"] = (np.diagonal(values, offset=offset), min(c0, c1), spacing)
        flipped = values[:, ::-1]
        profiles["antidiagonal"] = (np.diagonal(flipped, offset=(n1 - 1 - c1) - c0), min(c0, n1 - 1 - c1), spacing)
    return profiles


def point_spread(model, shape: tuple[int, ...], center: tuple[int, ...] | None = None, *, dtype=np.float32
                 ) -> PointSpread:  # fmt: skip
    """The NTK's point spread function of `model` at grid index `center` (default: the middle) of the
    `data.unit_grid(shape)` grid (1 to 3 axes): the row Θ(·, r₀) / Θ(r₀, r₀) and its FWHM per direction.

    Raises:
        InrdictError: a centre outside the grid, or a row whose diagonal entry Θ(r₀, r₀) is not positive.
    """
    shape = tuple(int(n) for n in shape)
    return point_spreads(model, shape, [tuple(n // 2 for n in shape) if center is None else center], dtype=dtype)[0]


def point_spreads(model, shape: tuple[int, ...], centers: list[tuple[int, ...]], *, dtype=np.float32
                  ) -> list[PointSpread]:  # fmt: skip
    """`point_spread` at each of `centers`, from one product Θ [e₀ … e_m] of the matrix-free operator."""
    shape = tuple(int(n) for n in shape)
    if not all(isinstance(center, (tuple, list)) for center in centers):
        raise InrdictError(f"each centre is a grid index, one integer per axis of {shape}, got {centers}")
    centers = [tuple(int(c) for c in center) for center in centers]
    takes = getattr(model, "in_features", len(shape))
    if takes != len(shape):
        raise InrdictError(f"the model takes {takes}-D coordinates, the grid {shape} is {len(shape)}-D")
    for center in centers:
        if len(center) != len(shape) or any(not 0 <= c < n for c, n in zip(center, shape)):
            raise InrdictError(f"the centre {center} is not a point of the {'×'.join(map(str, shape))} grid")
    points = data.unit_grid(shape)
    indices = [int(np.ravel_multi_index(center, shape)) for center in centers]
    units = np.zeros((points.shape[0], len(centers)), dtype)
    units[indices, np.arange(len(centers))] = 1.0
    adapted = adapt(model, in_features=len(shape))
    if isinstance(adapted, ForeignINR):
        rows = adapted.kernel_operator(points, dtype=np.dtype(dtype)).matmat(units)
    else:
        rows = NTKOperator(adapted, points, dtype=dtype).matmat(units)
    rows = np.asarray(rows, np.float64)
    spreads = []
    for column, (center, index) in enumerate(zip(centers, indices)):
        row = rows[:, column]
        if not row[index] > 0:
            raise InrdictError(f"Θ(r₀, r₀) = {row[index]:g} at {center}: the model's NTK has no response there")
        spreads.append(spread_of_map(row.reshape(shape), center))
    return spreads


def spread_of_map(values: np.ndarray, center: tuple[int, ...]) -> PointSpread:
    """Any response map on a `data.unit_grid` grid (1 to 3 axes), e.g. a trained model's change Δf after steps on
    the point r₀ (the "empirical" PSF), as a `PointSpread`: normalised by its value at `center`, with the FWHM per
    direction measured as `point_spread` measures the NTK's row.

    Raises:
        InrdictError: a centre outside the map, or a value at the centre that is not positive.
    """
    values = np.asarray(values, np.float64)
    center = tuple(int(c) for c in center)
    if len(center) != values.ndim or any(not 0 <= c < n for c, n in zip(center, values.shape)):
        raise InrdictError(f"the centre {center} is not a point of the {'×'.join(map(str, values.shape))} map")
    peak = values[center]
    if not peak > 0:
        raise InrdictError(f"the map's value at its centre {center} is {peak:g}: a PSF needs a positive peak")
    values = values / peak
    widths = {name: fwhm(profile, at, spacing) for name, (profile, at, spacing) in _profiles(values, center).items()}
    return PointSpread(center, values, widths)

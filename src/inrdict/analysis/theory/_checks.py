"""Input conventions and checks shared by the theory modules (see `inrdict.analysis.theory`)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import SupportsIndex, cast

import numpy as np
from jaxtyping import Float
from numpy.typing import ArrayLike

from inrdict.errors import InrdictError

#: Largest lattice / coefficient set this module enumerates (keeps every call to a few seconds at most).
MAX_ENUMERATED = 2_000_000

#: Default relative per-bin energy threshold of ``measured_support_size``: float64 rounding noise of the
#: networks here sits near 1e-33 of the total energy per bin, genuine harmonics at 1e-16 or above.
DEFAULT_SUPPORT_THRESHOLD = 1e-24

ArrayInput = ArrayLike | tuple | int | float
"""What the functions convert with ``np.asarray``: NumPy's ``ArrayLike`` (arrays, nested lists, JAX arrays) plus what
runtime checkers such as beartype refuse from it although NumPy takes it: tuples (a tuple lacks ``__reversed__``,
so it fails the ``_NestedSequence`` protocol) and plain Python numbers (``ArrayLike`` names only ``complex``,
relying on the PEP 484 numeric tower int < float < complex, which beartype does not apply by default)."""

Count = int | float | np.integer | np.floating
"""A whole number as callers pass it: an int, a NumPy integer, or an integral float (2.0). Checked by
``_as_count``, which refuses 2.5 (and booleans) with an ``InrdictError`` naming the argument."""

Scalar = int | float | np.integer | np.floating
"""A real number (weights' scales, thresholds, shifts)."""

Activation = ArrayInput | str | Callable[[np.ndarray], np.ndarray]
"""Polynomial coefficients alpha_0..alpha_K (increasing powers), a name ('tanh', 'sin', 'relu') or a callable."""


# ----------------------------------------------------------------------------------------------------------------
# Input checking
# ----------------------------------------------------------------------------------------------------------------


def _as_count(value: object, name: str, minimum: int = 0) -> int:
    """A non-negative integer from an int (or an integral float); InrdictError otherwise."""
    if isinstance(value, bool):
        raise InrdictError(f"{name} must be an integer, got the boolean {value}; pass an int")
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    try:
        value = operator.index(cast(SupportsIndex, value))  # a TypeError when it is not
    except TypeError:
        raise InrdictError(f"{name} must be an integer, got {value!r}; pass a whole number") from None
    if value < minimum:
        raise InrdictError(f"{name} must be at least {minimum}, got {value}")
    return value


def _as_omega(Omega: ArrayInput) -> Float[np.ndarray, "T D"]:
    """Omega as a float64 (T, D) array; a 1-D array is T frequencies of a 1-D input."""
    Omega = np.asarray(Omega, np.float64)
    if Omega.ndim == 1:
        Omega = Omega[:, None]
    if Omega.ndim != 2 or Omega.shape[0] < 1 or Omega.shape[1] < 1:
        raise InrdictError(f"Omega must have shape (T, D) with T, D >= 1, got shape {Omega.shape}")
    if not np.all(np.isfinite(Omega)):
        raise InrdictError("Omega contains non-finite values; pass finite frequencies (cycles per unit)")
    return Omega


def _is_integer_valued(array: np.ndarray) -> bool:
    return bool(np.all(array == np.round(array)))

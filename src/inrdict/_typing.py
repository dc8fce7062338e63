"""Array type aliases for jaxtyping annotations (public functions accept JAX and NumPy arrays alike) and the one
shape check of point sets they share."""

import jax
import numpy as np

from inrdict.errors import InrdictError

AnyArray = jax.Array | np.ndarray
"""A JAX or NumPy array: use as `Float[AnyArray, "n d"]`."""


def as_rows(array: AnyArray, name: str = "points") -> AnyArray:
    """`array` as (n, d) rows with n > 0 (a 1-D array is n rows of dimension 1), of the same kind (NumPy or JAX);
    `InrdictError` naming `name` otherwise."""
    if np.ndim(array) == 1:
        array = array[:, None]
    if np.ndim(array) != 2 or array.shape[0] < 1:
        raise InrdictError(f"{name} must have shape (n, d) with n > 0, got {tuple(np.shape(array))}")
    return array

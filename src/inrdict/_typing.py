"""Array type aliases for jaxtyping annotations: public functions accept JAX and NumPy arrays alike."""

from typing import Union

import jax
import numpy as np

AnyArray = Union[jax.Array, np.ndarray]
"""A JAX or NumPy array: use as `Float[AnyArray, "n d"]`."""

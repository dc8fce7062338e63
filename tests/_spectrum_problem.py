"""The model and grid of the two-process spectrum test, shared by the test and its worker processes."""

import jax
import jax.numpy as jnp

from inrdict.io.data import grid_2d
from inrdict.models import make_model


def problem():
    """A SIREN 2→32×2→1 (1,185 parameters) on a 40² grid (1,600 points), float64; k = 16."""
    model = make_model("siren", hidden=(32, 32), key=jax.random.key(3), dtype=jnp.float64)
    return model, grid_2d(40, -1.0, 1.0), 16

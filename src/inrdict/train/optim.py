"""The one optimiser factory: Adam or plain gradient descent by name, one object per setting (so jitted steps that
take the optimiser as a static argument compile once per setting)."""

from __future__ import annotations

import functools
from typing import Literal

import optax

from inrdict.errors import InrdictError

Optimizer = Literal["adam", "gd"]


@functools.cache
def make_optimizer(name: Optimizer, learning_rate: float) -> optax.GradientTransformation:
    """`optax.adam(learning_rate)` ("adam") or `optax.sgd(learning_rate)` ("gd", plain gradient descent)."""
    if name == "adam":
        return optax.adam(learning_rate)
    if name == "gd":
        return optax.sgd(learning_rate)
    raise InrdictError(f"unknown optimiser {name!r}: use 'adam' or 'gd'")


def adam(learning_rate: float) -> optax.GradientTransformation:
    """`make_optimizer("adam", learning_rate)`."""
    return make_optimizer("adam", learning_rate)

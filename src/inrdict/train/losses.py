"""The one home of the training loss and its score: MSE over points and PSNR (peak 1), shared by `fit`,
`finetune` and `meta`."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict.models import DenseINR


def psnr_db(mse_value):
    """PSNR in dB of a mean squared error, for signals with peak 1: -10 log10(MSE) (NumPy, float64)."""
    return -10.0 * np.log10(np.maximum(np.asarray(mse_value, np.float64), 1e-30))


def head(model: eqx.Module):
    """The part of `model` after its fixed input mapping: `model.head` for dense INRs, the whole model otherwise."""
    return model.head if isinstance(model, DenseINR) else model


def mse(params, frozen, x, y, *, encoded: bool = False):
    """mean over points and outputs of (f(x) − y)² for f = `combine(params, frozen)`; with `encoded`, x holds the
    fixed input mappings `model.encode(r)` and only `head(model)` runs."""
    model = eqx.combine(params, frozen)
    return jnp.mean((jax.vmap(head(model) if encoded else model)(x) - y) ** 2)

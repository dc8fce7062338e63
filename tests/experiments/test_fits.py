"""Image fits memoised on disk (`studies.fits.cached_fit`): the second call reads back exactly what the first
computed, the trained weights included, and any change of model, data or schedule is a new entry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inrdict.experiments.studies.fits import cached_fit
from inrdict.models import Siren
from inrdict.train.fit import Monitor, fit

pytestmark = pytest.mark.standard_promotion  # Optax's Adam


def test_a_fit_is_computed_once_and_read_back_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv("INRDICT_CACHE_DIR", str(tmp_path))
    model = Siren(2, (16,), 1, key=jax.random.key(0))
    coords = jnp.stack(jnp.meshgrid(jnp.linspace(-1, 1, 6), jnp.linspace(-1, 1, 6)), -1).reshape(-1, 2)
    targets = jnp.sin(3 * coords[:, :1])
    settings = dict(steps=6, learning_rate=1e-3, monitor=Monitor(every=3, progress=False))
    first = cached_fit(model, coords, targets, **settings)
    second = cached_fit(model, coords, targets, **settings)
    plain = fit(model, coords, targets, **settings)
    assert len(list((tmp_path / "fit").iterdir())) == 1
    for result in (second, plain):
        for name in ("train_psnr_db", "eval_steps", "eval_psnr_db", "predictions"):
            np.testing.assert_array_equal(getattr(result, name), getattr(first, name))
        for a, b in zip(jax.tree_util.tree_leaves(result.model), jax.tree_util.tree_leaves(first.model), strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.model.layers[0].weight, model.layers[0].weight)  # trained, not the start
    cached_fit(model, coords, targets, **{**settings, "learning_rate": 2e-3})
    cached_fit(Siren(2, (16,), 1, key=jax.random.key(1)), coords, targets, **settings)
    assert len(list((tmp_path / "fit").iterdir())) == 3

"""`inrdict.train.fit`, memoised on disk (`inrdict.io.cache`, namespace `fit/`) for the figures that fit images:
a fit is computed once per model (family, settings and every initial weight), data and schedule, and a second
`reproduce` reads it back, as it reads NTK spectra and fine-tuning curves. The trained weights are stored with the
curves, so `FitResult.model` is the trained model either way; `seconds` is the first run's."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from inrdict.errors import InrdictError
from inrdict.io import cache
from inrdict.io.checkpoints import describable, model_config
from inrdict.train.fit import FitResult, Monitor, fit

_CURVES = ("train_psnr_db", "eval_steps", "eval_psnr_db", "predictions")


def cached_fit(model: eqx.Module, coords, targets, *, steps: int, learning_rate: float,
               monitor: Monitor | None = None) -> FitResult:  # fmt: skip
    """`fit(model, coords, targets, steps=, learning_rate=, monitor=)` (full batch, Adam, evaluated on the training
    data), read from the cache when this exact fit was made before: the key holds the model, the data, `steps`,
    `learning_rate` and `monitor.every`; the monitor's progress bar and label only show."""
    monitor = Monitor() if monitor is None else monitor
    if monitor.coords is not None:
        raise InrdictError("cached_fit evaluates on the training data: leave Monitor's coords and targets out")
    if not describable(model):
        return fit(model, coords, targets, steps=steps, learning_rate=learning_rate, monitor=monitor)
    dynamic, static = eqx.partition(model, eqx.is_array)
    leaves, treedef = jax.tree_util.tree_flatten(dynamic)

    def compute() -> dict[str, np.ndarray]:
        result = fit(model, coords, targets, steps=steps, learning_rate=learning_rate, monitor=monitor)
        trained = jax.tree_util.tree_leaves(eqx.filter(result.model, eqx.is_array))
        return {**{name: np.asarray(getattr(result, name)) for name in _CURVES}, "seconds": np.asarray(result.seconds),
                **{f"weight_{i}": np.asarray(leaf) for i, leaf in enumerate(trained)}}  # fmt: skip

    # The key's settings, named as `fit`'s keyword arguments were when the cache began (entries stay valid).
    settings = {"steps": steps, "learning_rate": learning_rate, "eval_every": monitor.every}
    parts = (model_config(model), model, np.asarray(coords), np.asarray(targets), sorted(settings.items()))
    stored, _ = cache.memoize("fit", parts, compute)
    weights = [jax.numpy.asarray(stored[f"weight_{i}"]) for i in range(len(leaves))]
    trained_model = eqx.combine(jax.tree_util.tree_unflatten(treedef, weights), static)
    return FitResult(trained_model, stored["train_psnr_db"], stored["eval_steps"], stored["eval_psnr_db"],
                     stored["predictions"], float(stored["seconds"]))  # fmt: skip

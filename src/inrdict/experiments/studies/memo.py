"""Results kept on disk between runs (`inrdict.io.cache`): the lens's spectra and fine-tuning curves, memoised for
models the checkpoint format describes (keyed by family, settings and every weight), computed directly for any
other. The lens itself is pure (`inrdict.analysis.lens`); caching happens here, at the edge."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from inrdict.analysis.eigenpairs import Spectrum, SpectrumInfo, SpectrumOptions, SpectrumPlan, ntk_spectrum
from inrdict.analysis.learnability import RANDOM_INIT, Learnability, Protocol, finetune_curves, learnability
from inrdict.io import cache
from inrdict.io.checkpoints import describable, model_config


def cached_ntk_spectrum(model, points, options: SpectrumOptions | SpectrumPlan = SpectrumOptions(), *,
                        use_cache: bool = True) -> tuple[Spectrum, bool]:  # fmt: skip
    """(`ntk_spectrum(...)`, whether it was read from the cache): memoised on disk, keyed by the model's family,
    settings and every weight, the grid, the precision (and k and the route on a top-k route); computed directly
    for a model the checkpoint format cannot describe. The route is planned once, here."""
    plan = options.plan(len(points)) if isinstance(options, SpectrumOptions) else options
    if not (use_cache and describable(model)):
        return ntk_spectrum(model, points, plan), False
    parts: tuple[object, ...] = (model_config(model), str(plan.dtype), np.asarray(points), model)
    if plan.route == "dense":
        namespace = "ntk"
    else:
        asked = plan.options.route
        namespace, parts = "ntk_topk", (*parts, plan.k) if asked == "auto" else (*parts, plan.k, asked)

    def compute() -> dict[str, np.ndarray]:
        spectrum = ntk_spectrum(model, points, plan)
        record = {"route": spectrum.route, **spectrum.info.record()}
        # the entry format every inrdict version reads: the record as JSON bytes in a uint8 array
        return {"eigvals": spectrum.eigvals, "eigvecs": spectrum.eigvecs,
                "timings": np.frombuffer(json.dumps(record).encode(), np.uint8)}  # fmt: skip

    stored, cached = cache.memoize(namespace, parts, compute)
    record = json.loads(bytes(stored["timings"]).decode())
    taken = record.pop("route", None) or ("dense" if namespace == "ntk" else
                                          "stored" if record.get("stored_kernel") else "matrix_free")  # fmt: skip
    known = {field.name for field in dataclasses.fields(SpectrumInfo)}
    info = SpectrumInfo(**{key: value for key, value in record.items() if key in known})
    return Spectrum(stored["eigvals"], stored["eigvecs"], taken, info, plan), cached


def cached_learnability(model, points, images, mask, *, protocol: Protocol = RANDOM_INIT, linearised: bool = False,
                        kernel_dtype=np.float64, use_cache: bool = True) -> Learnability:  # fmt: skip
    """`learnability(...)` with its fine-tuning curves memoised on disk (models the checkpoint format describes)."""
    images, mask = np.asarray(images), np.asarray(mask, bool)
    curves = None
    if use_cache and describable(model):
        parts = (model_config(model), model, images, mask, protocol.iterations, protocol.optimizer,
                 protocol.learning_rate)  # fmt: skip

        def compute() -> dict[str, np.ndarray]:
            train, test = finetune_curves(model, points, images, mask, protocol)
            return {"train_psnr_db": train, "test_psnr_db": test}

        stored = cache.memoize("finetune", parts, compute)[0]
        curves = (stored["train_psnr_db"], stored["test_psnr_db"])
    return learnability(model, points, images, mask, protocol=protocol, linearised=linearised,
                        kernel_dtype=kernel_dtype, curves=curves)  # fmt: skip

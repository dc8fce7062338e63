"""inrdict: implicit neural representations as structured dictionaries.

The public API is the names re-exported here; nothing runs at import time but registering the PyTorch adapter
(`inrdict.adapters`; torch is not imported). The lens, in five lines:

    import inrdict
    from inrdict.io.datasets import held_out_faces
    _, faces = held_out_faces("lfw", 64, None, 0, 35)   # the 35 embedded held-out LFW faces
    report = inrdict.lens.analyse(inrdict.Siren(2, (256,) * 4, 1, key=jax.random.key(0)), faces)
    print(report.summary())

Layers, lowest first. A module may import from its own package and from lower layers only (never up, never
sideways between packages of one layer); `tests/test_layers.py` parses every import and enforces this table.

    layer  package                     what lives there
    0      errors, _typing, _io,       errors, shape checks, atomic writes, memory budget, PRNG ids, version,
           _memory, _keys, _version,   joining processes (jax.distributed), the persistent compilation cache and
           distributed, _compilation,  its meter, what the lens needs of a model of another framework and the
           adapters                    adapters that wrap one
    1      models                      INRs as Equinox modules: dense INRs, the other families, the name registry
    2      ntk | train                 empirical NTK (kernel, operator, stored triangle, solvers) | fit, finetune,
                                       meta, one loss, one optimiser factory (no files)
    3      io | pytorch                data, datasets, checkpoints (and PyTorch state dicts, read without PyTorch),
                                       the fingerprint store, resumable runs | PyTorch INRs: their NTK by
                                       torch.func, training (optional extra; torch imported on use only)
    4      analysis                    the lens (spectrum → energy → learnability → report), alignment,
                                       probes, frequency spectra, Theorem 1
    5      plotting                    matplotlib helpers (nothing below imports it)
    6      experiments                 one module per figure; `experiments.studies` holds what figures share
    7      cli, __init__, __main__     faces: the command line and this public namespace
"""

from inrdict import pytorch as _pytorch
from inrdict._compilation import CompileMeter, enable_compilation_cache
from inrdict._version import __version__
from inrdict.analysis import lens
from inrdict.analysis.energy import energy_concentration
from inrdict.errors import DivergenceError, InrdictError
from inrdict.io.checkpoints import load_model, save_model
from inrdict.models import (
    FFN,
    DenseINR,
    Linear,
    ReluMLP,
    Siren,
    count_parameters,
    gaussian_frequencies,
    make_model,
    partition_trainable,
    positional_encoding_frequencies,
    single_frequency,
)
from inrdict.ntk import eigh_descending, empirical_ntk, top_eigenpairs
from inrdict.train.fit import Batching, FitResult, Monitor, fit, predict
from inrdict.train.losses import psnr_db
from inrdict.train.meta import MetaLoop, MetaOptions, MetaResult, meta_train

__all__ = [
    "FFN", "Batching", "CompileMeter", "DenseINR", "DivergenceError", "FitResult", "InrdictError", "Linear",
    "MetaLoop", "MetaOptions", "MetaResult", "Monitor", "ReluMLP", "Siren", "__version__", "count_parameters",
    "eigh_descending", "empirical_ntk", "enable_compilation_cache", "energy_concentration", "fit",
    "gaussian_frequencies", "lens", "load_model", "make_model", "meta_train", "partition_trainable",
    "positional_encoding_frequencies", "predict", "psnr_db", "save_model", "single_frequency", "top_eigenpairs",
]  # fmt: skip

"""inrdict: implicit neural representations as structured dictionaries.

The public API is the names re-exported here; nothing runs at import time. Modules: `models`, `data`,
`datasets`, `fitting`, `meta`, `spectrum`, `ntk`, `alignment`, `checkpoints`, `experiments`.
"""

from inrdict.alignment import energy_concentration
from inrdict.checkpoints import load_model, save_model
from inrdict.errors import DivergenceError, InrdictError
from inrdict.fitting import FitResult, fit, predict, psnr_db
from inrdict.meta import MetaResult, meta_train
from inrdict.models import (
    FFN,
    DenseINR,
    Linear,
    ReluMLP,
    Siren,
    count_parameters,
    gaussian_frequencies,
    partition_trainable,
    positional_encoding_frequencies,
    single_frequency,
)
from inrdict.ntk import eigh_descending, empirical_ntk

__version__ = "0.1.0"

__all__ = [
    "FFN", "DenseINR", "DivergenceError", "FitResult", "InrdictError", "Linear", "MetaResult", "ReluMLP", "Siren",
    "count_parameters", "eigh_descending", "empirical_ntk", "energy_concentration", "fit", "gaussian_frequencies",
    "load_model", "meta_train", "partition_trainable", "positional_encoding_frequencies", "predict", "psnr_db",
    "save_model", "single_frequency",
]  # fmt: skip

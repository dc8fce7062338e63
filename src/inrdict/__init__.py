"""inrdict: implicit neural representations as structured dictionaries.

The public API re-exports the names below; nothing runs at import time.
"""

from inrdict.errors import DivergenceError, InrdictError
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

__version__ = "0.1.0"
from inrdict.fitting import FitResult, fit, predict, psnr_db

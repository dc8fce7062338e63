"""The base of the dense INRs with an elementwise activation on raw coordinates (Gauss, sinc)."""

from __future__ import annotations

import math

from inrdict.models._common import _uniform_layers
from inrdict.models.dense import DenseINR, Linear, _check_sizes


class _ElementwiseINR(DenseINR):
    """A `DenseINR` on raw coordinates with the linear-layer default initialisation (Gauss, sinc)."""

    @staticmethod
    def _default_layers(in_features, hidden, out_features, key, dtype) -> tuple[Linear, ...]:
        """W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) in every layer (the usual linear-layer default)."""
        sizes = (in_features, *_check_sizes(in_features, hidden, out_features), out_features)
        bounds = tuple(1.0 / math.sqrt(n) for n in sizes[:-1])
        return _uniform_layers(key, sizes, bounds, bounds, dtype)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

"""Models from other frameworks, for the lens: what the lens needs of such a model (`ForeignINR`) and the adapters
that wrap one (`register`, `adapt`).

The analysis layer knows no framework but JAX. A package that adapts another one registers a test and a wrapper
here (`inrdict.pytorch` registers PyTorch's when `inrdict` is imported, without importing torch); `adapt(model)`
returns the wrapper for a model an adapter accepts and the model itself otherwise. The wrapper computes its own NTK
(the dense kernel, and an operator for `inrdict.ntk.top_eigenpairs_of`), trains itself and evaluates on points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ForeignINR(Protocol):
    """A single-output INR of another framework as the lens uses it (`inrdict.pytorch.adapter.LensINR`)."""

    in_features: int
    n_parameters: int
    label: str
    framework: str  # e.g. "pytorch"
    dense_route: str  # how `ntk` forms the kernel, for the results
    product_route: str  # how the kernel operator's products are computed, for the results

    @property
    def class_name(self) -> str: ...

    def __call__(self, points, dtype=np.float32) -> np.ndarray: ...

    def ntk(self, points, *, dtype, reserve_bytes: int = 0) -> np.ndarray:
        """The dense empirical NTK (N, N) on `points` (N, in_features)."""
        ...

    def kernel_operator(self, points, *, dtype, extra_bytes: int = 0) -> Any:
        """Θ as an `inrdict.ntk.protocol.KernelOperator` (products Θ V without forming Θ)."""
        ...

    def finetune(self, points, images, mask, *, iterations: int, optimizer: str,
                 learning_rate: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """(train, test) PSNR curves (m, iterations + 1) of fine-tuning on each image (SPEC §7)."""
        ...

    def fit(self, coords, targets, *, steps: int, learning_rate: float, eval_every: int = 100, **options) -> Any:
        """A full-batch Adam fit: an `inrdict.train.fit.FitResult` whose `model` is again a `ForeignINR` (options
        such as `progress` may be ignored)."""
        ...

    def predict(self, coords) -> np.ndarray:
        """Outputs (n, 1) at `coords`."""
        ...

    def describe(self) -> dict:
        """What results files record of the model."""
        ...

    def parity(self, points) -> dict:
        """Its NTK on `points` by its own routes against a float64 oracle (a parity certificate)."""
        ...


_ADAPTERS: list[tuple[Callable[[object], bool], Callable[..., ForeignINR]]] = []


def register(accepts: Callable[[object], bool], wrap: Callable[..., ForeignINR]) -> None:
    """Models for which `accepts(model)` holds are given to the lens as `wrap(model, in_features=, label=)`."""
    _ADAPTERS.append((accepts, wrap))


def adapt(model: Any, *, in_features: int = 2, label: str | None = None) -> Any:
    """`model` as the lens takes it: an adapter's wrapper (`ForeignINR`) for a model of another framework, the model
    itself otherwise (an Equinox module, or an already wrapped one)."""
    if isinstance(model, ForeignINR):
        return model
    for accepts, wrap in _ADAPTERS:
        if accepts(model):
            return wrap(model, in_features=in_features, label=label)
    return model

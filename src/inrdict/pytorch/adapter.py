"""A PyTorch INR as the lens takes it (`inrdict.adapters.ForeignINR`): a `TorchINR` that computes its own NTK with
`torch.func` (`inrdict.pytorch.ntk`) and trains itself (`inrdict.pytorch.train`). `inrdict.pytorch` registers
`wrap` with `inrdict.adapters`, so every analysis takes a `torch.nn.Module` as it is."""

from __future__ import annotations

import dataclasses

import numpy as np

from inrdict.pytorch import ntk as torch_ntk
from inrdict.pytorch import train as torch_train
from inrdict.pytorch.model import TorchINR
from inrdict.train.fit import FitResult


class LensINR(TorchINR):
    """`TorchINR` with what the lens needs of a model of another framework."""

    framework = "pytorch"
    dense_route = "jacobian_gram"  # the dense kernel J Jᵀ from per-point Jacobian blocks
    product_route = "torch.func products"  # Θ V = J (Jᵀ V): a vmapped vjp, then a vmapped jvp

    def ntk(self, points, *, dtype, reserve_bytes: int = 0) -> np.ndarray:
        return torch_ntk.empirical_ntk(self, points, dtype=dtype, reserve_bytes=reserve_bytes)

    def kernel_operator(self, points, *, dtype, extra_bytes: int = 0) -> torch_ntk.TorchNTKOperator:
        return torch_ntk.TorchNTKOperator(self, points, dtype=dtype, extra_bytes=extra_bytes)

    def finetune(self, points, images, mask, *, iterations: int, optimizer: str,
                 learning_rate: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        return torch_train.finetune(self, points, images, mask, iterations=iterations, optimizer=optimizer,
                                    learning_rate=learning_rate)  # fmt: skip

    def fit(self, coords, targets, *, steps: int, learning_rate: float, eval_every: int = 100, **_) -> FitResult:
        result = torch_train.fit(self, coords, targets, steps=steps, learning_rate=learning_rate, eval_every=eval_every)
        return dataclasses.replace(result, model=wrap(result.model))

    def predict(self, coords) -> np.ndarray:
        return torch_train.predict(self, coords)

    def parity(self, points) -> dict:
        return torch_ntk.parity_certificate(self, points)


def wrap(model, *, in_features: int = 2, label: str | None = None) -> LensINR:
    """`model` (a `torch.nn.Module` or a `TorchINR`) as a `LensINR`."""
    if isinstance(model, LensINR):
        return model
    if isinstance(model, TorchINR):
        return LensINR(model.module, in_features=model.in_features, label=model.label)
    return LensINR(model, in_features=in_features, label=label)

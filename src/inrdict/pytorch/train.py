"""Full-batch training of PyTorch INRs for the lens: the fine-tuning protocol (SPEC §7) and the fits of `probes`.

Same losses, optimisers and records as `inrdict.train.finetune` / `inrdict.train.fit`: MSE on the training points,
PSNR = −10 log10(MSE); Adam (β = 0.9, 0.999, ε = 1e-8, torch's and optax's defaults, the same update) or plain
gradient descent, on the real parameter tensors of `TorchINR.parameters` (complex parameters as real pairs).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from inrdict.errors import DivergenceError, InrdictError
from inrdict.pytorch.model import TorchINR
from inrdict.train.fit import FitResult


def _optimizer(name: str, params: list[torch.Tensor], learning_rate: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=learning_rate)
    if name == "gd":
        return torch.optim.SGD(params, lr=learning_rate)
    raise InrdictError(f"unknown optimiser {name!r}: use 'adam' or 'gd'")


def _psnr(mse: float) -> float:
    return -10.0 * math.log10(mse) if mse > 0 else math.inf


def finetune(model: TorchINR, points, images, mask, *, iterations: int, optimizer: str,
             learning_rate: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Fine-tune `model` on each image (m, n) from its initialisation, full batch on the `mask` (n,) pixels.

    Returns:
        (train PSNR, held-out PSNR), each (m, iterations + 1): entry t after t updates (0: the initialisation).
    """
    x = torch.from_numpy(np.ascontiguousarray(points, np.float32))
    mask_t = torch.from_numpy(np.asarray(mask, bool))
    f = model.function(torch.float32)
    train = np.empty((len(images), iterations + 1))
    test = np.empty_like(train)
    for i, image in enumerate(np.asarray(images, np.float32)):
        y = torch.from_numpy(np.ascontiguousarray(image))
        params = {n: p.requires_grad_(True) for n, p in model.parameters(torch.float32).items()}
        opt = _optimizer(optimizer, list(params.values()), learning_rate)
        for t in range(iterations + 1):
            error = (f(params, x) - y) ** 2
            loss = error[mask_t].mean()
            value = loss.item()
            train[i, t], test[i, t] = _psnr(value), _psnr(error[~mask_t].mean().item())
            if not math.isfinite(value):
                raise DivergenceError(f"fine-tuning {model.label} diverged (non-finite loss at update {t}): lower the "
                                      "learning rate")  # fmt: skip
            if t < iterations:
                opt.zero_grad()
                loss.backward()
                opt.step()
    return train, test


def fit(model: TorchINR, coords, targets, *, steps: int, learning_rate: float, eval_every: int = 100,
        optimizer: str = "adam", **_) -> FitResult:  # fmt: skip
    """Full-batch fit of `model` to `targets` (n,) or (n, 1) at `coords` (n, d); the PSNR on the same points every
    `eval_every` steps and after the last. Returns a `FitResult` whose `model` is a `TorchINR` of the trained weights."""
    coords = np.asarray(coords, np.float32)
    x = torch.from_numpy(np.ascontiguousarray(coords[:, None] if coords.ndim == 1 else coords))
    y = torch.from_numpy(np.ascontiguousarray(np.asarray(targets, np.float32).reshape(-1)))
    f = model.function(torch.float32)
    params = {n: p.requires_grad_(True) for n, p in model.parameters(torch.float32).items()}
    opt = _optimizer(optimizer, list(params.values()), learning_rate)
    start = time.perf_counter()
    train, eval_steps, eval_psnr = [], [], []
    for step in range(steps):
        loss = ((f(params, x) - y) ** 2).mean()
        value = loss.item()
        if not math.isfinite(value):
            raise DivergenceError(f"fitting {model.label} diverged (non-finite loss at step {step}): lower the "
                                  "learning rate")  # fmt: skip
        train.append(_psnr(value))
        if step % eval_every == 0:
            eval_steps.append(step)
            eval_psnr.append(train[-1])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = f(params, x)
    eval_steps.append(steps)
    eval_psnr.append(_psnr(float(((out - y) ** 2).mean())))
    trained = _with_parameters(model, params)
    return FitResult(trained, np.asarray(train), np.asarray(eval_steps), np.asarray(eval_psnr),
                    out.numpy()[:, None], time.perf_counter() - start)  # fmt: skip


def _with_parameters(model: TorchINR, params: dict[str, torch.Tensor]) -> TorchINR:
    """A `TorchINR` of a copy of the module holding `params` (real tensors, complex ones as pairs)."""
    import copy

    module = copy.deepcopy(model.module)
    named = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in params.items():
            value = torch.view_as_complex(value.detach()) if name in model.complex_names else value.detach()
            named[name].data = value.to(named[name].dtype).reshape(named[name].shape).clone()
    return TorchINR(module, in_features=model.in_features, label=model.label)


def predict(model: TorchINR, coords) -> np.ndarray:
    """Outputs (n, 1) at coords (n,) or (n, d)."""
    return model(coords)[:, None]

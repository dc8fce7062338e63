"""PyTorch INRs through the lens (the optional extra ``pip install 'inrdict[torch]'``).

Any single-output `torch.nn.Module` gets the same analyses as an inrdict model: its empirical NTK (dense up to 64²
points, the top k from products Θ V above), E(λ) of signals on its eigenvectors, PSNR@k of the fine-tuning
protocol, Fig. 3's aliasing test and a fit. Everything is computed by PyTorch itself with `torch.func`
(`functional_call`, `vjp`, `jvp`, `vmap`, `jacrev`):

* `model.TorchINR` — the module as the lens sees it (checked once: one real output, floating parameters), its
  parameters as real tensors (a complex parameter as its `view_as_real` pair, so Θ sums over real and imaginary
  parts like inrdict's complex families);
* `ntk` — the products Θ V = J (Jᵀ V) (`TorchNTKOperator`, for `inrdict.ntk.top_eigenpairs_of`), the dense kernel
  J Jᵀ from per-point Jacobians, and the parity certificate against a float64 `jacrev` oracle;
* `train` — full-batch Adam / GD (the fine-tuning protocol and the fits), with the optimiser applied to the real
  parameter tensors.

* `adapter` — `LensINR`, the `inrdict.adapters.ForeignINR` the lens takes: importing this package registers it
  with `inrdict.adapters` (as `inrdict` does on import), so every analysis accepts a `torch.nn.Module` as it is.

`is_torch_model` needs no PyTorch: nothing here imports torch until a torch model is given. Why torch.func and not a
JAX bridge (torchax): see `benchmarks/torch_ntk.py` and the README.
"""

from __future__ import annotations

import sys

from inrdict import adapters
from inrdict.errors import InrdictError

INSTALL_HINT = "install PyTorch with `pip install 'inrdict[torch]'` (or `make setup-torch`)"


def is_torch_model(obj) -> bool:
    """Whether `obj` is a `torch.nn.Module` or a `TorchINR` (never imports torch)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    from inrdict.pytorch.model import TorchINR

    return isinstance(obj, (torch.nn.Module, TorchINR))


def require_torch():
    """The `torch` module, or a one-line error saying how to install it."""
    try:
        import torch
    except ImportError as error:
        raise InrdictError(f"this needs PyTorch, which is not installed: {INSTALL_HINT}") from error
    return torch


def _wrap(model, *, in_features: int = 2, label: str | None = None):
    """`inrdict.pytorch.adapter.wrap`, imported (and torch with it) only when a PyTorch model is given."""
    from inrdict.pytorch.adapter import wrap

    return wrap(model, in_features=in_features, label=label)


adapters.register(is_torch_model, _wrap)

__all__ = ["INSTALL_HINT", "is_torch_model", "require_torch"]

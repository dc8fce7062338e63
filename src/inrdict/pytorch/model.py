"""A single-output PyTorch INR as the lens sees it: checked once, parameters as real tensors, a pure function.

inr = TorchINR(module)                        # checks: one real output per point, floating parameters
params = inr.parameters(torch.float64)        # {name: real tensor}; a complex parameter as (..., 2)
f = inr.function(torch.float64)               # f(params, x (n, d)) -> (n,): functional_call on a copy
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from torch.func import functional_call

from inrdict.errors import InrdictError

# PyTorch ≥ 2.10 warns about its own internal use of `torch.jit.script` when torch.func first runs; not ours to fix.
# Set here, where a PyTorch model is handled, not on `import inrdict`.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)

_REAL = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}


def torch_dtype(dtype) -> torch.dtype:
    """float32 / float64 (NumPy or torch) → the torch real dtype."""
    if isinstance(dtype, torch.dtype):
        if dtype not in _COMPLEX:
            raise InrdictError(f"PyTorch models are analysed in float32 or float64, not {dtype}")
        return dtype
    try:
        return _REAL[np.dtype(dtype)]
    except (KeyError, TypeError) as error:
        raise InrdictError(f"PyTorch models are analysed in float32 or float64, not {dtype}") from error


class TorchINR:
    """A `torch.nn.Module` mapping points (n, in_features) to one real value each, for the lens.

    Trained parameters are those with `requires_grad`; buffers and other parameters stay fixed. A complex parameter
    counts as two real ones (its real and imaginary parts), as in inrdict's complex families.

    Attributes:
        module: the module (left untouched; float32/float64 copies are made per dtype).
        in_features: the input dimension it was checked with.
        names: names of the trained parameters; complex_names: those that are complex.
        n_parameters: trained real parameters.
        label: a name for reports.

    Raises:
        InrdictError: not a module, no trained parameters, a parameter that is not floating point, an output that is
            complex, not one value per point, or not finite, or a forward pass that raises.
    """

    def __init__(self, module, *, in_features: int = 2, label: str | None = None):
        if not isinstance(module, torch.nn.Module):
            raise InrdictError(f"expected a torch.nn.Module, got {type(module).__name__}")
        for name, p in module.named_parameters():
            if not (p.is_floating_point() or p.is_complex()):
                raise InrdictError(f"parameter {name!r} of {type(module).__name__} is {p.dtype}, not floating point: "
                                   "the NTK needs real or complex floating-point parameters")  # fmt: skip
        trained = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not trained:
            raise InrdictError(f"{type(module).__name__} has no trainable parameters, so its NTK is zero")
        self.module = module
        self.in_features = int(in_features)
        self.names = [n for n, _ in trained]
        self.complex_names = frozenset(n for n, p in trained if p.is_complex())
        self.n_parameters = sum(p.numel() * (2 if p.is_complex() else 1) for _, p in trained)
        self.label = label or type(module).__name__
        self._copies: dict[torch.dtype, torch.nn.Module] = {}
        probe = torch.linspace(0, 1, 3 * self.in_features, dtype=torch.float64).reshape(3, self.in_features)
        try:
            with torch.no_grad():
                self.function(torch.float64)(self.parameters(torch.float64), probe, check=True)
        except InrdictError:
            raise
        except Exception as error:  # the user's forward failing is bad input, said in one line
            raise InrdictError(f"{self.label}'s forward pass on points of shape (3, {self.in_features}) raised "
                               f"{type(error).__name__}: {error}") from error  # fmt: skip

    @property
    def class_name(self) -> str:
        return type(self.module).__name__

    def _copy(self, dtype: torch.dtype) -> torch.nn.Module:
        """The module with floating parameters and buffers in `dtype` (complex ones in its complex counterpart)."""
        if dtype not in self._copies:
            clone = copy.deepcopy(self.module)
            with torch.no_grad():
                for tensor in [*clone.parameters(), *clone.buffers()]:
                    if tensor.is_complex():
                        tensor.data = tensor.data.to(_COMPLEX[dtype])
                    elif tensor.is_floating_point():
                        tensor.data = tensor.data.to(dtype)
            clone.eval()
            self._copies[dtype] = clone
        return self._copies[dtype]

    def parameters(self, dtype=torch.float32) -> dict[str, torch.Tensor]:
        """{name: detached real tensor in `dtype`}: a complex parameter as `view_as_real` (shape (..., 2))."""
        dtype = torch_dtype(dtype)
        named = dict(self._copy(dtype).named_parameters())
        return {n: (torch.view_as_real(named[n].detach()) if n in self.complex_names else named[n].detach()).clone()
                for n in self.names}  # fmt: skip

    def function(self, dtype=torch.float32):
        """f(params, x) → (n,): the module's output on points x (n, in_features) with `params` (real tensors, as
        `parameters` returns them) in place of its trained parameters."""
        dtype = torch_dtype(dtype)
        module, complex_names, label = self._copy(dtype), self.complex_names, self.label

        def f(params: dict[str, torch.Tensor], x: torch.Tensor, *, check: bool = False) -> torch.Tensor:
            full = {n: (torch.view_as_complex(p) if n in complex_names else p) for n, p in params.items()}
            out = functional_call(module, full, (x,), strict=False)
            if check:
                _check_output(out, x.shape[0], label)
            return out.reshape(-1)

        return f

    def __call__(self, points, dtype=np.float32) -> np.ndarray:
        """Outputs (n,) on points (n, in_features) as NumPy."""
        points = np.asarray(points)
        points = points[:, None] if points.ndim == 1 else points
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(points, np.dtype(dtype)))
            return self.function(dtype)(self.parameters(dtype), x, check=False).numpy()

    def describe(self) -> dict:
        return {"class": self.class_name, "parameters": self.n_parameters, "complex_parameters": sorted(self.complex_names),
                "in_features": self.in_features, "torch": torch.__version__}  # fmt: skip


def _check_output(out, n: int, label: str) -> None:
    if not isinstance(out, torch.Tensor):
        raise InrdictError(
            f"{label} returned {type(out).__name__}, not a tensor: analyse needs one real output per point"
        )
    if out.is_complex():
        raise InrdictError(f"{label} returns complex values: analyse needs a real output (return e.g. `out.real`)")
    if out.numel() != n:
        raise InrdictError(f"{label} returns output of shape {tuple(out.shape)} for {n} points: analyse needs "
                           f"a single-output model (shape ({n},) or ({n}, 1))")  # fmt: skip
    if not bool(torch.isfinite(out).all()):
        raise InrdictError(f"{label} returns non-finite values at initialisation: check its weights and inputs")


def as_torch_inr(model, *, in_features: int = 2, label: str | None = None) -> TorchINR:
    """`model` if it is a `TorchINR`, else `TorchINR(model)`."""
    return model if isinstance(model, TorchINR) else TorchINR(model, in_features=in_features, label=label)

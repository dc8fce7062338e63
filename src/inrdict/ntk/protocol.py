"""What the eigensolvers need of a kernel operator (`KernelOperator`), and the products every operator derives from
its `matmat` (`LinearOperatorMixin`): shared by `NTKOperator` and `inrdict.pytorch.ntk.TorchNTKOperator`."""

from __future__ import annotations

import typing

import numpy as np
from jaxtyping import Float

from inrdict._typing import AnyArray


@typing.runtime_checkable
class KernelOperator(typing.Protocol):
    """What the eigensolvers (`top_eigenpairs_of`) need of an operator: `NTKOperator`, or another framework's
    (`inrdict.pytorch.ntk.TorchNTKOperator`) — shape (N, N), dtype, a `products` counter, `matmat` / `matvec`,
    `dense`, `as_linear_operator`, and `stored` / `store` / `method` / `n_devices` for `storing_pays`."""

    shape: tuple[int, int]
    dtype: np.dtype
    products: int
    stored: bool
    method: str
    n_devices: int

    def matmat(self, vectors): ...

    def matvec(self, vector): ...

    def dense(self) -> np.ndarray: ...

    def store(self) -> None: ...

    def as_linear_operator(self): ...


class LinearOperatorMixin:
    """matvec, `@`, `dense` and a SciPy view from a class's `matmat`, `shape` and `dtype` (`NTKOperator`,
    `inrdict.pytorch.ntk.TorchNTKOperator`)."""

    if typing.TYPE_CHECKING:  # what the class provides (declared for the type checker only)
        shape: tuple[int, int]
        dtype: np.dtype

        def matmat(self, vectors: AnyArray) -> np.ndarray: ...

    def matvec(self, vector: Float[AnyArray, " n *one"]) -> Float[np.ndarray, " n *one"]:
        """Θ v for v of shape (N,) (or (N, 1)): a NumPy array of the same shape."""
        vector = np.asarray(vector)
        return self.matmat(vector.reshape(self.shape[0], 1)).reshape(vector.shape)

    def __matmul__(self, other):
        other = np.asarray(other)
        return self.matvec(other) if other.ndim == 1 else self.matmat(other)

    def dense(self) -> np.ndarray:
        """The full kernel Θ (N, N) from N products (for small N and tests): symmetrised, of the operator's dtype."""
        kernel = self.matmat(np.eye(self.shape[0], dtype=self.dtype))
        return 0.5 * (kernel + kernel.T)

    def as_linear_operator(self):
        """A `scipy.sparse.linalg.LinearOperator` view (matvec and matmat) of this operator."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=self.matvec, matmat=self.matmat, rmatvec=self.matvec,
                              rmatmat=self.matmat, dtype=self.dtype)  # fmt: skip

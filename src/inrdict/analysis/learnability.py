"""Learnability of signals from an initialisation (SPEC §7): fine-tuning protocols, PSNR@k, and the linearised-GD
prediction from the NTK at initialisation. Part of the lens (`inrdict.analysis.lens` re-exports it).

**Protocols** (the paper's Fig. 4 legend): one seeded 50 % pixel mask shared by all images; each image fitted from
the same initialisation, full batch on its training pixels; PSNR@k = held-out PSNR after k updates. `RANDOM_INIT`
(Adam, lr 1e-4) for random initialisations, `META_INIT` (plain GD, lr 1e-2) for meta-learned ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from inrdict._keys import init_key
from inrdict._typing import AnyArray
from inrdict.adapters import ForeignINR, adapt
from inrdict.errors import InrdictError
from inrdict.ntk import empirical_ntk
from inrdict.train.finetune import finetune, linearised_gd_psnr_db, split_mask
from inrdict.train.optim import Optimizer


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How an initialisation is fine-tuned on each image (SPEC §7): `optimizer` at `learning_rate` for `iterations`
    full-batch updates on the training pixels; PSNR@k is the held-out PSNR after `psnr_iteration` of them."""

    optimizer: Optimizer
    learning_rate: float
    iterations: int = 10
    psnr_iteration: int = 3
    train_fraction: float = 0.5

    def __post_init__(self):
        if self.optimizer not in ("adam", "gd"):
            raise InrdictError(f"unknown fine-tuning optimiser {self.optimizer!r}: use 'adam' or 'gd'")
        if not 0 <= self.psnr_iteration <= self.iterations:
            raise InrdictError(f"psnr_iteration ({self.psnr_iteration}) must lie in 0 … iterations ({self.iterations})")
        if not 0.0 < self.train_fraction < 1.0:
            raise InrdictError(f"train_fraction must lie in (0, 1), got {self.train_fraction}")

    def describe(self) -> str:
        return f"{self.optimizer}, lr {self.learning_rate:g}"


RANDOM_INIT = Protocol("adam", 1e-4)
"""Random initialisations: Adam at lr 1e-4 (the paper's Fig. 4 legend, SPEC §7)."""
META_INIT = Protocol("gd", 1e-2)
"""Meta-learned initialisations: plain gradient descent at lr 1e-2 (the paper's Fig. 4 legend, SPEC §7)."""
PROTOCOLS = {"random": RANDOM_INIT, "meta": META_INIT}


def pixel_mask(n_points: int, seed: int, train_fraction: float = 0.5) -> Bool[np.ndarray, " n"]:
    """The seeded training-pixel mask of the protocol (True = training pixel), shared by all images and rows."""
    return split_mask(n_points, key=init_key(seed, "pixel_mask"), train_fraction=train_fraction)


@dataclasses.dataclass(frozen=True)
class Learnability:
    """Fine-tuning curves of one initialisation on m images.

    Attributes:
        protocol: how it was fine-tuned.
        train_psnr_db, test_psnr_db: (m, iterations + 1) PSNR on the training / held-out pixels after t updates.
        predicted_train_psnr_db, predicted_test_psnr_db: the linearised-GD prediction (`linearised=True`), or None.
        largest_mode_rate: 2 η λ_max(Θ_train) / n_train of that prediction: above 2 its fastest mode oscillates and
            grows (GD on the linearised model is unstable), or None.
    """

    protocol: Protocol
    train_psnr_db: np.ndarray
    test_psnr_db: np.ndarray
    predicted_train_psnr_db: np.ndarray | None = None
    predicted_test_psnr_db: np.ndarray | None = None
    largest_mode_rate: float | None = None

    @property
    def psnr_at_k(self) -> np.ndarray:
        """(m,) held-out PSNR after `protocol.psnr_iteration` updates."""
        return self.test_psnr_db[:, self.protocol.psnr_iteration]


def finetune_curves(model, points: Float[AnyArray, "n d"], images: Float[AnyArray, "m n"],
                    mask: Bool[AnyArray, " n"], protocol: Protocol) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(train, test) PSNR curves (m, iterations + 1) of fine-tuning `model` on each image under `protocol`
    (`inrdict.train.finetune`; a model of another framework trains itself, `inrdict.adapters`)."""
    model = adapt(model)
    images, mask = np.asarray(images), np.asarray(mask, bool)
    if isinstance(model, ForeignINR):
        return model.finetune(points, images, mask, iterations=protocol.iterations, optimizer=protocol.optimizer,
                              learning_rate=protocol.learning_rate)  # fmt: skip
    result = finetune(model, points, images, mask, iterations=protocol.iterations, optimizer=protocol.optimizer,
                      learning_rate=protocol.learning_rate)  # fmt: skip
    return result.train_psnr_db, result.test_psnr_db


def learnability(
    model: eqx.Module | object,  # an inrdict model, or another framework's (`inrdict.adapters`: PyTorch)
    points: Float[AnyArray, "n d"],
    images: Float[AnyArray, "m n"],
    mask: Bool[AnyArray, " n"],
    *,
    protocol: Protocol = RANDOM_INIT,
    linearised: bool = False,
    kernel_dtype=np.float64,
    curves: tuple[np.ndarray, np.ndarray] | None = None,
) -> Learnability:
    """Fine-tune `model` on each image from the same initialisation under `protocol` (`finetune_curves`).

    Args:
        images: (m, n) targets flattened like `points`; mask: (n,) True on the training pixels (`pixel_mask`).
        linearised: also predict the curves of plain GD from the NTK at initialisation (in `kernel_dtype`;
            `inrdict.train.finetune.linearised_gd_psnr_db`); needs `protocol.optimizer == "gd"`.
        curves: the (train, test) curves of `finetune_curves`, when already known (e.g. read from a cache).
    """
    model = adapt(model)
    images, mask = np.asarray(images), np.asarray(mask, bool)
    train, test = finetune_curves(model, points, images, mask, protocol) if curves is None else curves
    if not linearised:
        return Learnability(protocol, train, test)
    if protocol.optimizer != "gd":
        raise InrdictError("the linearised prediction is of plain gradient descent: use a protocol with optimizer 'gd'")
    dtype = np.dtype(kernel_dtype)
    if isinstance(model, ForeignINR):
        kernel, initial = model.ntk(points, dtype=dtype), model(points, dtype)
    else:
        with jax.enable_x64(dtype == np.float64):
            kernel = empirical_ntk(model, points, dtype=dtype)
            point_model = cast(Callable[[Array], Array], model)  # an INR maps one point to its outputs
            initial = np.asarray(jax.vmap(point_model)(jnp.asarray(points, dtype))[:, 0])
    predicted = linearised_gd_psnr_db(kernel, initial, images, mask, iterations=protocol.iterations,
                                      learning_rate=protocol.learning_rate)  # fmt: skip
    top = np.linalg.eigvalsh(kernel[np.ix_(mask, mask)])[-1]
    rate = float(2 * protocol.learning_rate * top / mask.sum())
    return Learnability(protocol, train, test, *predicted, rate)

"""Learnability: fine-tune one initialisation on many images at once, and the linearised prediction of it.

The protocol (SPEC §7, the paper's Fig. 4 legend and Figs. 10–14): one random pixel mask, shared by all images,
splits the grid into training pixels (`train_fraction`, 50 %) and held-out pixels (the rest). Every image is
fitted independently from the same initialisation, full batch on its training pixels, with the MSE

    L_g(θ) = (1 / n_train) Σ_{r ∈ train} (f(r; θ) − g(r))²,

for `iterations` updates: Adam (lr 1e-4) for random initialisations, plain gradient descent (lr 1e-2) for
meta-learned ones. PSNR = −10 log10(MSE) is recorded on the training and on the held-out pixels before every
update and after the last (so entry t is "after t iterations", entry 0 the initialisation). All images of a
model run in one jitted computation: `vmap` over images, `lax.map` over chunks of images to bound memory.

`linearised_gd_psnr_db` predicts the gradient-descent curves from the NTK at initialisation (not in the paper):
linearising f around θ₀, one GD step with rate η on L_g changes the outputs by −(2η / n_train) Θ(·, train) r,
r = f_train − g_train, so with Θ_tt = V diag(λ) Vᵀ (training pixels) and Θ_st (held-out × training):

    r(k)   = V diag((1 − 2ηλ/n_train)^k) Vᵀ r(0),
    f_s(k) = f_s(0) − (2η / n_train) Θ_st Σ_{j<k} r(j),   Σ_{j<k} (1 − a)^j = (1 − (1 − a)^k) / a.

(The continuous-time form in SPEC §7, residual_i(t) = exp(−ηλ_i t) residual_i(0), is the small-step limit of
the same formula with our MSE's factor 2/n_train folded into η.)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from inrdict._memory import require_memory
from inrdict._typing import AnyArray
from inrdict.errors import DivergenceError, InrdictError
from inrdict.models import activation_width, count_parameters, partition_trainable
from inrdict.train.fit import encode_inputs
from inrdict.train.losses import mse, psnr_db
from inrdict.train.optim import Optimizer, make_optimizer

# Images fine-tuned together (vmapped) in one chunk; chunks run one after another (`lax.map`). Four balances
# batching against cache locality on a CPU (measured: 1 → 4.7 s, 4 → 3.6 s, 35 → 4.0 s for 35 faces at 32²).
IMAGES_PER_CHUNK = 4


def split_mask(n_pixels: int, *, key: PRNGKeyArray, train_fraction: float = 0.5) -> Bool[np.ndarray, " n"]:
    """A random mask of `n_pixels` with exactly round(train_fraction · n) True (training) entries."""
    if not 0.0 < train_fraction < 1.0:
        raise InrdictError(f"the training fraction of the pixel mask must lie in (0, 1), got {train_fraction}")
    n_train = round(train_fraction * n_pixels)
    if not 0 < n_train < n_pixels:
        raise InrdictError(
            f"a mask of {n_pixels} pixels with fraction {train_fraction} leaves no training or test pixel"
        )
    order = np.asarray(jax.random.permutation(key, n_pixels))
    mask = np.zeros(n_pixels, bool)
    mask[order[:n_train]] = True
    return mask


@dataclasses.dataclass(frozen=True)
class FinetuneResult:
    """What `finetune` returns.

    Attributes:
        train_psnr_db: (images, iterations + 1) PSNR on the training pixels after t updates (t = 0: the init).
        test_psnr_db: (images, iterations + 1) PSNR on the held-out pixels after t updates.
        seconds: wall time, compile included.
    """

    train_psnr_db: np.ndarray
    test_psnr_db: np.ndarray
    seconds: float

    def mean_test_psnr_db(self, iteration: int) -> float:
        return float(np.mean(self.test_psnr_db[:, iteration]))


@eqx.filter_jit
def _finetune_chunks(params, frozen, x_train, x_test, y_train, y_test, iterations: int, optimizer):
    """(train MSE, test MSE), each (chunks, chunk, iterations + 1), for targets (chunks, chunk, n, 1)."""

    def one_image(y_tr, y_te):
        def step(carry, _):
            p, state = carry
            loss, grads = jax.value_and_grad(functools.partial(mse, encoded=True))(p, frozen, x_train, y_tr)
            test = mse(p, frozen, x_test, y_te, encoded=True)
            updates, state = optimizer.update(grads, state, p)
            return (optax.apply_updates(p, updates), state), (loss, test)

        (final, _), (train, test) = jax.lax.scan(step, (params, optimizer.init(params)), None, length=iterations)
        last_train, last_test = (
            mse(final, frozen, x_train, y_tr, encoded=True),
            mse(final, frozen, x_test, y_te, encoded=True),
        )
        return jnp.append(train, last_train), jnp.append(test, last_test)

    return jax.lax.map(lambda ys: jax.vmap(one_image)(*ys), (y_train, y_test))


def _checked_finetune_arguments(
    n: int, images, train_mask, iterations: int, learning_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """(images (m, n), mask (n,)) as NumPy arrays, or one `InrdictError` naming what is wrong."""
    images, mask = np.asarray(images), np.asarray(train_mask, bool)
    if iterations < 1:
        raise InrdictError(f"fine-tuning needs at least one iteration, got {iterations}")
    if images.ndim != 2 or images.shape[0] < 1 or images.shape[1] != n or mask.shape != (n,):
        raise InrdictError(f"images must be (m, {n}) and the mask ({n},), got {images.shape}, {mask.shape}")
    if not (mask.any() and (~mask).any()):
        raise InrdictError("the pixel mask must leave both training and held-out pixels")
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise InrdictError(f"the fine-tuning learning rate must be a positive number, got {learning_rate}")
    return images, mask


def _image_chunks(model: eqx.Module, images: np.ndarray, per_chunk: int, dtype) -> Float[Array, "chunks chunk n 1"]:
    """`images` (m, n) as targets (chunks, chunk, n, 1) of `dtype`, the last chunk padded with copies of the last
    image, once the memory of fine-tuning a chunk at once is checked (`require_memory`)."""
    m, n = images.shape
    widest = activation_width(partition_trainable(model)[0])  # trained arrays, or the model's own width
    per_image = 12 * n * widest * 8 * dtype.itemsize + 4 * count_parameters(model) * dtype.itemsize
    chunk = min(m, per_chunk)
    require_memory(chunk * per_image, f"fine-tuning {chunk} images of {n} pixels at once", "lower images_per_chunk")
    n_chunks = -(-m // chunk)
    padded = np.concatenate([images, np.repeat(images[-1:], n_chunks * chunk - m, axis=0)])
    return jnp.asarray(padded, dtype).reshape(n_chunks, chunk, -1, 1)


def finetune(
    model: eqx.Module,
    coords: Float[AnyArray, "n d"],
    images: Float[AnyArray, "m n"],
    train_mask: Bool[AnyArray, " n"],
    *,
    iterations: int = 10,
    optimizer: Optimizer | optax.GradientTransformation = "adam",
    learning_rate: float = 1e-4,
    images_per_chunk: int | None = None,
) -> FinetuneResult:
    """Fine-tune `model` on each of `images` (flattened like `coords`) from the same initialisation.

    Args:
        model: a single-output INR; its frozen fields are not trained.
        coords: (n, d) grid.
        images: (m, n) targets, one row per image.
        train_mask: (n,) True on the training pixels (shared by all images; see `split_mask`).
        iterations: number of full-batch updates per image.
        optimizer: "adam" or "gd" (plain gradient descent), or an Optax transformation (a schedule: a training
            recipe's, `inrdict.train.recipes.Recipe.optimizer`; pass the same object again to reuse the compiled
            steps); `learning_rate` is then only checked and reported.
        learning_rate: the step size (with an Optax transformation: its initial rate).
        images_per_chunk: images processed together (default `IMAGES_PER_CHUNK`); memory is checked up front.

    Returns:
        A `FinetuneResult` with PSNR curves of every image (see the module docstring for the protocol).

    Raises:
        InrdictError: bad settings or shapes; DivergenceError if a loss becomes NaN or infinite.
    """
    images, mask = _checked_finetune_arguments(len(coords), images, train_mask, iterations, learning_rate)
    opt = make_optimizer(optimizer, float(learning_rate)) if isinstance(optimizer, str) else optimizer
    params, frozen = partition_trainable(model)
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    inputs = encode_inputs(model, jnp.asarray(coords, dtype))  # (n, e): frozen mappings, computed once
    y = _image_chunks(model, images, images_per_chunk or IMAGES_PER_CHUNK, dtype)  # (chunks, chunk, n, 1)
    start = time.perf_counter()
    train, test = _finetune_chunks(params, frozen, inputs[mask], inputs[~mask], y[:, :, mask], y[:, :, ~mask],
                                   iterations, opt)  # fmt: skip
    train = np.asarray(train).reshape(y.shape[0] * y.shape[1], -1)[: images.shape[0]]
    test = np.asarray(test).reshape(y.shape[0] * y.shape[1], -1)[: images.shape[0]]
    if not (np.all(np.isfinite(train)) and np.all(np.isfinite(test))):
        bad = int(np.argmax(~np.isfinite(train).all(axis=0)))
        raise DivergenceError(f"fine-tuning diverged (non-finite loss by iteration {bad}): lower the learning rate "
                              f"(now {learning_rate:g} with {optimizer if isinstance(optimizer, str) else 'a schedule'})")  # fmt: skip
    return FinetuneResult(psnr_db(train), psnr_db(test), time.perf_counter() - start)


def linearised_gd(kernel: Float[AnyArray, "n n"], initial_outputs: Float[AnyArray, " n"], images: Float[AnyArray, "m n"],
                  train_mask: Bool[AnyArray, " n"], learning_rate: float | None = None):  # fmt: skip
    """k ↦ (train PSNR (m,), held-out PSNR (m,)) after k GD steps on the linearised network (module docstring), in
    closed form: one eigendecomposition of Θ_tt, then O(m n) work per k whatever k. `learning_rate` None takes
    η = n_train / (2 λ_max(Θ_tt)), the largest step at which no mode overshoots."""
    K = np.asarray(kernel, np.float64)
    f0 = np.asarray(initial_outputs, np.float64)
    g = np.asarray(images, np.float64)
    mask = np.asarray(train_mask, bool)
    n_train = int(mask.sum())
    eigvals, V = np.linalg.eigh(K[np.ix_(mask, mask)])  # Θ_tt = V diag(λ) Vᵀ
    if learning_rate is None:
        learning_rate = n_train / (2.0 * eigvals[-1]) if eigvals[-1] > 0 else 0.0
    a = 2.0 * learning_rate * np.maximum(eigvals, 0.0) / n_train  # per-mode contraction rate
    r0 = (f0[mask][None, :] - g[:, mask]) @ V  # (m, n_train) residual in the eigenbasis
    cross = K[np.ix_(~mask, mask)] @ V  # Θ_st V: (n_test, n_train)

    def at(k: int) -> tuple[np.ndarray, np.ndarray]:
        decay = (1.0 - a) ** k
        geometric = np.where(a > 1e-300, (1.0 - decay) / np.where(a > 1e-300, a, 1.0), float(k))  # Σ_{j<k} (1−a)^j
        f_test = f0[~mask][None, :] - (2.0 * learning_rate / n_train) * (r0 * geometric) @ cross.T  # (m, n_test)
        return psnr_db(np.mean((r0 * decay) ** 2, axis=1)), psnr_db(np.mean((f_test - g[:, ~mask]) ** 2, axis=1))

    return at


def linearised_gd_psnr_db(
    kernel: Float[AnyArray, "n n"],
    initial_outputs: Float[AnyArray, " n"],
    images: Float[AnyArray, "m n"],
    train_mask: Bool[AnyArray, " n"],
    *,
    iterations: int,
    learning_rate: float,
) -> tuple[Float[np.ndarray, "m t"], Float[np.ndarray, "m t"]]:
    """PSNR of the linearised network after t = 0 … `iterations` GD steps on each image (module docstring).

    Args:
        kernel: (n, n) NTK at initialisation on the whole grid (only its training rows are used).
        initial_outputs: (n,) the network's outputs at initialisation.
        images: (m, n) targets.
        train_mask: (n,) as in `finetune`.
        iterations: GD steps of the run to predict.
        learning_rate: its step size η.

    Returns:
        (train PSNR, held-out PSNR), each (m, iterations + 1), float64.
    """
    steps = linearised_gd(kernel, initial_outputs, images, train_mask, learning_rate)
    train_psnr, test_psnr = zip(*(steps(k) for k in range(iterations + 1)))
    return np.stack(train_psnr, axis=1), np.stack(test_psnr, axis=1)

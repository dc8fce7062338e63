"""Fit an INR to samples of a signal with Optax (full batch or minibatch).

Loss: mean squared error over points and channels, `L = mean((f(r) - y)^2)`.

Warning: the original code minimised 0.5 * MSE. With Adam this only changes the effective epsilon
(the update is scale-invariant up to eps), so learning rates carry over.

PSNR = -10 log10(MSE) for signals in [0, 1] (peak 1). `FitResult.train_psnr_db[t]` is the PSNR on the
training batch *before* update t (so entry 0 is the initial model); `eval_psnr_db` is measured on the
evaluation points every `eval_every` steps and after the last one.

Example::

    import jax, inrdict
    from inrdict.io.data import load_image, square_image, image_dataset
    coords, pixels = image_dataset(square_image(load_image("cat.png"), 128))
    model = inrdict.Siren(2, (256, 256, 256), 3, first_omega0=30, convention="fit", key=jax.random.key(0))
    result = inrdict.fit(model, coords, pixels, steps=500, learning_rate=1e-4, key=jax.random.key(1))
    print(result.final_eval_psnr_db)
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Generic, NamedTuple, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

from inrdict._memory import require_memory
from inrdict._typing import AnyArray, as_rows
from inrdict.errors import DivergenceError, InrdictError
from inrdict.models import DenseINR, partition_trainable
from inrdict.train.losses import head, psnr_db
from inrdict.train.optim import adam

_Model = TypeVar("_Model")


@dataclasses.dataclass(frozen=True)
class FitResult(Generic[_Model]):
    """What `fit` returns.

    Attributes:
        model: the trained model.
        train_psnr_db: (steps,) PSNR on the training batch before each update.
        eval_steps: (k,) the steps (number of updates done) at which `eval_psnr_db` was measured.
        eval_psnr_db: (k,) PSNR on the evaluation points.
        predictions: model output on the evaluation points after training, (n_eval, out) NumPy.
        seconds: wall time of the training loop, compile included.
    """

    model: _Model  # an Equinox module from `fit`; a `TorchINR` from `inrdict.pytorch.train.fit`
    train_psnr_db: np.ndarray
    eval_steps: np.ndarray
    eval_psnr_db: np.ndarray
    predictions: np.ndarray
    seconds: float

    @property
    def final_eval_psnr_db(self) -> float:
        return float(self.eval_psnr_db[-1])


def predict(model: eqx.Module, coords: Float[AnyArray, " n *d"], batch_size: int = 65536) -> np.ndarray:
    """`vmap(model)` over `coords` in chunks of `batch_size` points; returns NumPy (n, out)."""
    coords = jnp.asarray(coords)
    if coords.ndim == 1:
        coords = coords[:, None]
    outputs = [_predict(model, coords[i : i + batch_size]) for i in range(0, coords.shape[0], batch_size)]
    return np.concatenate([np.asarray(o) for o in outputs], axis=0)


@eqx.filter_jit
def _predict(model, coords):
    return jax.vmap(model)(coords)


@eqx.filter_jit
def encode_inputs(model: eqx.Module, coords: Float[AnyArray, "n d"]) -> Float[AnyArray, "n e"]:
    """Input mappings `model.encode(r)` of many points (identity for models without a fixed mapping).

    A `DenseINR`'s `encode` uses frozen arrays only (an FFN's B), so the encodings of fixed training points never
    change: `fit` computes them once instead of every step (an FFN's 256 sin/cos cost as much as its hidden layers).
    """
    return jax.vmap(model.encode)(jnp.asarray(coords)) if isinstance(model, DenseINR) else coords


DEFAULT_CHUNK_SIZE = 4096
"""Points per gradient chunk on a CPU (measured fastest there; `benchmarks/fit.py`)."""
ACCELERATOR_CHUNK_SIZE = 1 << 20
"""On a GPU one big batch is faster (512² Fig. 2 step on an H100: 5.2 ms one batch, 10.2 ms in chunks of 4096)."""


def default_chunk_size() -> int:
    """`DEFAULT_CHUNK_SIZE` on a CPU, `ACCELERATOR_CHUNK_SIZE` (in effect one batch) on a GPU or TPU."""
    return DEFAULT_CHUNK_SIZE if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK_SIZE


def mse_value_and_grad(params, frozen, x: AnyArray, y: AnyArray, chunk_size: int | None = None, encoded: bool = False):
    """MSE of `combine(params, frozen)` on (x, y) and its gradient w.r.t. `params`, in chunks of points.

    With `encoded=True`, x holds input mappings `model.encode(r)` computed beforehand and only `model.head` runs.

    The batch is cut into chunks of `chunk_size` points (the last one padded with zero-weight points); each
    chunk's forward and backward pass runs while its activations are still in cache and the gradients are
    summed in a `lax.scan`. Same value as one big `value_and_grad` up to float summation order, ~1.6x faster
    on a CPU at 512² pixels, and activation memory bounded by the chunk, not the batch. None: `default_chunk_size()`.
    """
    chunk_size = default_chunk_size() if chunk_size is None else chunk_size

    def weighted_sum(p, x, y, w):
        model = eqx.combine(p, frozen)
        residual = jax.vmap(head(model) if encoded else model)(x) - y  # (chunk, c)
        return jnp.sum(w[:, None] * residual**2)

    n, scale = x.shape[0], 1.0 / y.size
    if n <= chunk_size:
        loss, grads = jax.value_and_grad(weighted_sum)(params, x, y, jnp.ones((n,), y.dtype))
    else:
        n_chunks = -(-n // chunk_size)
        pad = n_chunks * chunk_size - n
        xs = jnp.pad(x, ((0, pad), (0, 0))).reshape(n_chunks, chunk_size, x.shape[1])
        ys = jnp.pad(y, ((0, pad), (0, 0))).reshape(n_chunks, chunk_size, y.shape[1])
        ws = (jnp.arange(n_chunks * chunk_size) < n).astype(y.dtype).reshape(n_chunks, chunk_size)

        def body(total, chunk):
            value, grads = jax.value_and_grad(weighted_sum)(params, *chunk)
            return jax.tree_util.tree_map(jnp.add, total, (value, grads)), None

        zero = (jnp.zeros((), y.dtype), jax.tree_util.tree_map(jnp.zeros_like, params))
        (loss, grads), _ = jax.lax.scan(body, zero, (xs, ys, ws))
    return loss * scale, jax.tree_util.tree_map(lambda g: g * scale, grads)


class TrainState(NamedTuple):
    """Everything that changes while training (fitting, meta-learning): a pytree the pure steps take and return."""

    params: eqx.Module  # the trainable arrays of the model (`partition_trainable`)
    opt_state: optax.OptState
    step: Int[Array, ""]  # updates done so far


def init_state(model: eqx.Module, optimizer: optax.GradientTransformation) -> tuple[TrainState, eqx.Module]:
    """Split `model` into (initial `TrainState`, frozen part); `eqx.combine(state.params, frozen)` rebuilds it."""
    params, frozen = partition_trainable(model)
    return TrainState(params, optimizer.init(params), jnp.zeros((), jnp.int32)), frozen


@eqx.filter_jit
def fit_steps(
    state: TrainState,
    frozen: eqx.Module,
    inputs: Float[AnyArray, "n e"],
    targets: Float[AnyArray, "n c"],
    n_steps: int,
    optimizer: optax.GradientTransformation,
    *,
    batch_size: int | None = None,
    key: PRNGKeyArray | None = None,
    chunk_size: int | None = None,
    encoded: bool = True,
) -> tuple[TrainState, Float[AnyArray, " n_steps"]]:
    """`n_steps` optimiser updates in one `lax.scan`; returns the new state and the MSE before each update.

    Full batch when `batch_size` is None; otherwise update t draws `batch_size` points uniformly with
    replacement using `fold_in(key, t)` (t counted from the start of the fit, so results do not depend on how
    the steps are grouped into calls). `inputs` are input mappings (`encode_inputs`) when `encoded`, raw
    coordinates otherwise. Compiled once per shapes, optimiser, `n_steps` and settings (module-level jit).
    """

    def one_step(state: TrainState, _):
        x, y = inputs, targets
        if batch_size is not None:
            assert key is not None, "minibatches are drawn with a key"
            index = jax.random.randint(jax.random.fold_in(key, state.step), (batch_size,), 0, inputs.shape[0])
            x, y = inputs[index], targets[index]
        loss, grads = mse_value_and_grad(state.params, frozen, x, y, chunk_size, encoded)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state, state.step + 1), loss

    return jax.lax.scan(one_step, state, None, length=n_steps)


def fit_memory_bytes(model: eqx.Module, n_train: int, n_eval: int, chunk: int, itemsize: int = 4) -> int:
    """Rough peak memory of `fit`: the data (with padded copies), one chunk's activations, the predictions."""
    if isinstance(model, DenseINR):
        widths = [2 * model.layers[0].in_features] + [2 * layer.out_features for layer in model.layers]
        n_in, n_out, n_encoded = model.in_features, model.out_features, model.layers[0].in_features
    else:  # generic module: size the activations by its largest array dimension
        largest = max(max(leaf.shape, default=1) for leaf in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array)))
        widths, n_in, n_out, n_encoded = [2 * largest] * 8, 2, 3, 2
    data = (n_train + n_eval) * (n_in + n_out) * 3 + n_train * n_encoded
    return int((chunk * sum(widths) * 2 + data + n_eval * max(widths)) * itemsize)


def _checked_fit_arguments(coords, targets, eval_coords, eval_targets, steps, eval_every, batch_size, key,
                           learning_rate, chunk_size) -> tuple[Array, Array, Array, Array, int]:  # fmt: skip
    """`fit`'s arguments as rows (evaluation on the training data by default) and its chunk size, or one
    `InrdictError` naming what is wrong."""
    coords, targets = as_rows(jnp.asarray(coords), "coords"), as_rows(jnp.asarray(targets), "targets")
    if coords.shape[0] != targets.shape[0]:
        raise InrdictError(f"coords has {coords.shape[0]} points but targets has {targets.shape[0]}")
    if eval_coords is None:
        eval_coords, eval_targets = coords, targets
    eval_coords = as_rows(jnp.asarray(eval_coords), "eval_coords")
    eval_targets = as_rows(jnp.asarray(eval_targets), "eval_targets")
    if steps < 1 or eval_every < 1:
        raise InrdictError(f"steps and eval_every must be positive, got steps={steps}, eval_every={eval_every}")
    if batch_size is not None:
        if batch_size < 1:
            raise InrdictError(f"batch_size must be positive or None (full batch), got {batch_size}")
        if key is None:
            raise InrdictError("minibatch fitting needs a PRNG key: pass key=jax.random.key(seed)")
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise InrdictError(f"learning_rate must be a positive number, got {learning_rate}")
    chunk_size = default_chunk_size() if chunk_size is None else chunk_size
    if chunk_size < 1:
        raise InrdictError(f"chunk_size must be positive, got {chunk_size}")
    return coords, targets, eval_coords, eval_targets, chunk_size


def fit(
    model: eqx.Module,
    coords: Float[AnyArray, " n *d"],
    targets: Float[AnyArray, " n *c"],
    *,
    steps: int,
    learning_rate: float = 1e-4,
    optimizer: optax.GradientTransformation | None = None,
    batch_size: int | None = None,
    eval_coords: Float[AnyArray, " m *d"] | None = None,
    eval_targets: Float[AnyArray, " m *c"] | None = None,
    eval_every: int = 100,
    key: PRNGKeyArray | None = None,
    progress: bool = True,
    description: str = "fit",
    chunk_size: int | None = None,
) -> FitResult[eqx.Module]:
    """Train `model` to map `coords` to `targets` by minimising the MSE.

    A thin host loop over `fit_steps` (progress bar, evaluation, divergence check); the jitted steps are
    compiled once per shape and settings and reused across calls.

    Args:
        model: any INR (`DenseINR` or another Equinox module); its frozen fields (an FFN's B) are not trained.
        coords: (n, d) training coordinates (a 1-D array is taken as d = 1).
        targets: (n, c) training values (a 1-D array is taken as c = 1).
        steps: number of optimiser updates.
        learning_rate: Adam step size, used when `optimizer` is None.
        optimizer: any Optax transformation (overrides `learning_rate`).
        batch_size: None for full-batch; otherwise points drawn uniformly with replacement each step.
        eval_coords: where to measure the evaluation PSNR and the final predictions (default: the training data).
        eval_targets: the values there.
        eval_every: evaluate every this many steps (also the length of each jitted `lax.scan` chunk).
        key: PRNG key for minibatch sampling (required when `batch_size` is set; full-batch fitting draws
            nothing at random and takes none).
        progress: show a tqdm progress bar (on a terminal; never in a log file).
        description: label of the progress bar and of error messages.
        chunk_size: points per gradient chunk (see `mse_value_and_grad`; None: 4096 on a CPU, one batch on a GPU);
            the result does not depend on it.

    Returns:
        A `FitResult`.

    Raises:
        InrdictError: for non-positive `steps`/`eval_every`/`batch_size`, mismatched shapes, or a full batch
            too large for the memory available. `DivergenceError` if the loss becomes NaN or infinite.
    """
    coords, targets, eval_coords, eval_targets, chunk_size = _checked_fit_arguments(
        coords, targets, eval_coords, eval_targets, steps, eval_every, batch_size, key, learning_rate, chunk_size
    )
    needed = fit_memory_bytes(model, coords.shape[0], eval_coords.shape[0], min(coords.shape[0], chunk_size))
    require_memory(needed, f"fitting {coords.shape[0]} points", "use a smaller image or fewer points")

    optimizer = optimizer if optimizer is not None else adam(float(learning_rate))
    state, frozen = init_state(model, optimizer)
    inputs = encode_inputs(model, coords)  # (n, e)
    settings: dict[str, Any] = dict(batch_size=batch_size, key=key, chunk_size=chunk_size, encoded=True)

    from tqdm.auto import tqdm

    start = time.perf_counter()
    train_losses, eval_steps, eval_losses = [], [], []
    with tqdm(total=steps, desc=description, disable=None if progress else True, leave=False, unit="step") as bar:
        while (done := int(state.step)) < steps:
            n = min(eval_every, steps - done)
            state, losses = fit_steps(state, frozen, inputs, targets, n, optimizer, **settings)
            losses = np.asarray(losses)
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:
                raise DivergenceError(
                    f"{description}: the loss became {losses[bad[0]]} at step {done + int(bad[0])}: "
                    f"lower the learning rate (now {learning_rate:g})"
                )
            train_losses.append(losses)
            eval_steps.append(done + n)
            eval_losses.append(float(_eval_mse(state.params, frozen, eval_coords, eval_targets)))
            bar.update(n)
            bar.set_postfix(train_psnr=f"{psnr_db(losses[-1]):.2f}", eval_psnr=f"{psnr_db(eval_losses[-1]):.2f}")
    model = eqx.combine(state.params, frozen)
    predictions = predict(model, eval_coords)
    if not np.all(np.isfinite(eval_losses)):
        raise DivergenceError(f"{description}: the evaluation loss is not finite: lower the learning rate")
    return FitResult(
        model=model,
        train_psnr_db=psnr_db(np.concatenate(train_losses)),
        eval_steps=np.asarray(eval_steps),
        eval_psnr_db=psnr_db(np.asarray(eval_losses)),
        predictions=predictions,
        seconds=time.perf_counter() - start,
    )


@eqx.filter_jit
def _eval_mse(params, frozen, coords, targets, chunk: int = 65536):
    model = eqx.combine(params, frozen)
    total = jnp.zeros((), targets.dtype)
    for i in range(0, coords.shape[0], chunk):
        prediction = jax.vmap(model)(coords[i : i + chunk])
        total = total + jnp.sum((prediction - targets[i : i + chunk]) ** 2)
    return total / targets.size

"""Fit an INR to samples of a signal with Optax (full batch or minibatch).

Loss: mean squared error over points and channels, `L = mean((f(r) - y)^2)`.

Warning: the original code minimised 0.5 * MSE. With Adam this only changes the effective epsilon
(the update is scale-invariant up to eps), so learning rates carry over.

PSNR = -10 log10(MSE) for signals in [0, 1] (peak 1). `FitResult.train_psnr_db[t]` is the PSNR on the
training batch *before* update t (so entry 0 is the initial model); `eval_psnr_db` is measured on the
evaluation points every `Monitor.every` steps and after the last one.

Example::

    import jax, inrdict
    from inrdict.io.data import load_image, square_image, image_dataset
    coords, pixels = image_dataset(square_image(load_image("cat.png"), 128))
    model = inrdict.Siren(2, (256, 256, 256), 3, first_omega0=30, convention="fit", key=jax.random.key(0))
    result = inrdict.fit(model, coords, pixels, steps=500, learning_rate=1e-4)
    print(result.final_eval_psnr_db)

Options beside the schedule come as small frozen records, in the manner of Diffrax's `SaveAt`: `Batching` (full batch
or minibatches, and how the gradient is chunked) and `Monitor` (where and how often to evaluate, the progress bar).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Generic, NamedTuple, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

from inrdict._memory import require_memory
from inrdict._typing import AnyArray, as_rows
from inrdict.errors import DivergenceError, InrdictError
from inrdict.models import DenseINR, activation_width, partition_trainable
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


@functools.partial(jax.tree_util.register_dataclass, data_fields=["key"], meta_fields=["size", "chunk_size"])
@dataclasses.dataclass(frozen=True)
class Batching:
    """Which points each update of `fit` sees, and how their gradient is summed (a pytree: under `fit_steps`'s jit
    the key is traced, the sizes are static).

    Attributes:
        size: points drawn uniformly with replacement per update (None: the full batch).
        key: PRNG key of the draws (required with `size`); update t draws with `fold_in(key, t)`.
        chunk_size: points per gradient chunk (`mse_value_and_grad`; None: `default_chunk_size()`); the result
            does not depend on it.
    """

    size: int | None = None
    key: PRNGKeyArray | None = None
    chunk_size: int | None = None

    def chunk(self) -> int:
        """Points per gradient chunk, the default resolved."""
        return default_chunk_size() if self.chunk_size is None else self.chunk_size


@dataclasses.dataclass(frozen=True)
class Monitor:
    """What `fit` measures and shows while it trains; nothing here changes the trained model.

    Attributes:
        coords, targets: (m, d) and (m, c) points where the evaluation PSNR and the final predictions are measured
            (None: the training data).
        every: evaluate every this many steps (also the length of each jitted `lax.scan` chunk).
        progress: show a tqdm progress bar (on a terminal; never in a log file).
        description: label of the progress bar and of error messages.
    """

    coords: Float[AnyArray, " m *d"] | None = None
    targets: Float[AnyArray, " m *c"] | None = None
    every: int = 100
    progress: bool = True
    description: str = "fit"


@eqx.filter_jit
def fit_steps(
    state: TrainState,
    frozen: eqx.Module,
    inputs: Float[AnyArray, "n e"],
    targets: Float[AnyArray, "n c"],
    n_steps: int,
    optimizer: optax.GradientTransformation,
    *,
    batching: Batching = Batching(),
    encoded: bool = True,
) -> tuple[TrainState, Float[AnyArray, " n_steps"]]:
    """`n_steps` optimiser updates in one `lax.scan`; returns the new state and the MSE before each update.

    Full batch by default; with `batching.size`, update t draws that many points uniformly with replacement
    using `fold_in(batching.key, t)` (t counted from the start of the fit, so results do not depend on how the
    steps are grouped into calls). `inputs` are input mappings (`encode_inputs`) when `encoded`, raw
    coordinates otherwise. Compiled once per shapes, optimiser, `n_steps` and settings (module-level jit).
    """
    batch_size, key = batching.size, batching.key

    def one_step(state: TrainState, _):
        x, y = inputs, targets
        if batch_size is not None:
            assert key is not None, "minibatches are drawn with a key"
            index = jax.random.randint(jax.random.fold_in(key, state.step), (batch_size,), 0, inputs.shape[0])
            x, y = inputs[index], targets[index]
        loss, grads = mse_value_and_grad(state.params, frozen, x, y, batching.chunk_size, encoded)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state, state.step + 1), loss

    return jax.lax.scan(one_step, state, None, length=n_steps)


def fit_memory_bytes(model: eqx.Module, n_train: int, n_eval: int, chunk: int, itemsize: int = 4) -> int:
    """Rough peak memory of `fit`: the data (with padded copies), one chunk's activations, the predictions."""
    if isinstance(model, DenseINR):
        widths = [2 * model.layers[0].in_features] + [2 * layer.out_features for layer in model.layers]
        n_in, n_out, n_encoded = model.in_features, model.out_features, model.layers[0].in_features
    else:  # generic module: size the activations by its largest array dimension
        largest = activation_width(eqx.filter(model, eqx.is_array))
        widths, n_in, n_out, n_encoded = [2 * largest] * 8, 2, 3, 2
    data = (n_train + n_eval) * (n_in + n_out) * 3 + n_train * n_encoded
    return int((chunk * sum(widths) * 2 + data + n_eval * max(widths)) * itemsize)


def _checked_fit_arguments(
    coords, targets, steps: int, learning_rate: float, batching: Batching, monitor: Monitor
) -> tuple[Array, Array, tuple[Array, Array], Batching]:
    """`fit`'s data as rows, (evaluation coords, targets) (the training data by default) and `batching` with its
    chunk size resolved, or one `InrdictError` naming what is wrong."""
    coords, targets = as_rows(jnp.asarray(coords), "coords"), as_rows(jnp.asarray(targets), "targets")
    if coords.shape[0] != targets.shape[0]:
        raise InrdictError(f"coords has {coords.shape[0]} points but targets has {targets.shape[0]}")
    if (monitor.coords is None) != (monitor.targets is None):
        raise InrdictError("Monitor takes evaluation coords and targets together (or neither: the training data)")
    evaluation = (coords, targets)
    if monitor.coords is not None:
        evaluation = (
            as_rows(jnp.asarray(monitor.coords), "eval coords"),
            as_rows(jnp.asarray(monitor.targets), "eval targets"),
        )
    if steps < 1 or monitor.every < 1:
        raise InrdictError(f"steps and monitor.every must be positive, got steps={steps}, every={monitor.every}")
    if batching.size is not None:
        if batching.size < 1:
            raise InrdictError(f"the batch size must be positive or None (full batch), got {batching.size}")
        if batching.key is None:
            raise InrdictError("minibatch fitting needs a PRNG key: pass Batching(size, key=jax.random.key(seed))")
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise InrdictError(f"learning_rate must be a positive number, got {learning_rate}")
    if batching.chunk() < 1:
        raise InrdictError(f"chunk_size must be positive, got {batching.chunk()}")
    return coords, targets, evaluation, dataclasses.replace(batching, chunk_size=batching.chunk())


def _finite(losses: np.ndarray, done: int, monitor: Monitor, learning_rate: float) -> np.ndarray:
    """`losses` of the steps after `done`, or a `DivergenceError` naming the first step whose loss is not finite."""
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        raise DivergenceError(
            f"{monitor.description}: the loss became {losses[bad[0]]} at step {done + int(bad[0])}: "
            f"lower the learning rate (now {learning_rate:g})"
        )
    return losses


def fit(
    model: eqx.Module,
    coords: Float[AnyArray, " n *d"],
    targets: Float[AnyArray, " n *c"],
    *,
    steps: int,
    learning_rate: float = 1e-4,
    optimizer: optax.GradientTransformation | None = None,
    batching: Batching = Batching(),
    monitor: Monitor = Monitor(),
) -> FitResult[eqx.Module]:
    """Train `model` to map `coords` (n, d) to `targets` (n, c) by minimising the MSE (1-D arrays: d = 1, c = 1).

    A thin host loop over `fit_steps` (progress bar, evaluation, divergence check); the jitted steps are
    compiled once per shape and settings and reused across calls.

    Args:
        model: any INR (`DenseINR` or another Equinox module); its frozen fields (an FFN's B) are not trained.
        steps: number of optimiser updates.
        learning_rate: Adam's step size, used when `optimizer` is None (and named when the loss diverges).
        optimizer: any Optax transformation (overrides `learning_rate`).
        batching: full batch (default) or minibatches, and the gradient's chunks (`Batching`).
        monitor: where and how often to evaluate, and the progress bar (`Monitor`; default: every 100 steps on
            the training data).

    Raises:
        InrdictError: non-positive settings, mismatched shapes, minibatches without a key, or a full batch too
            large for the memory available. `DivergenceError` if the loss becomes NaN or infinite.
    """
    coords, targets, evaluation, batching = _checked_fit_arguments(
        coords, targets, steps, learning_rate, batching, monitor
    )
    needed = fit_memory_bytes(model, coords.shape[0], evaluation[0].shape[0], min(coords.shape[0], batching.chunk()))
    require_memory(needed, f"fitting {coords.shape[0]} points", "use a smaller image or fewer points")
    optimizer = optimizer if optimizer is not None else adam(float(learning_rate))
    state, frozen = init_state(model, optimizer)
    inputs = encode_inputs(model, coords)  # (n, e)
    from tqdm.auto import tqdm

    start = time.perf_counter()
    train_losses, eval_steps, eval_losses = [], [], []
    disable = None if monitor.progress else True  # None: shown on a terminal, not in a log file
    with tqdm(total=steps, desc=monitor.description, disable=disable, leave=False, unit="step") as bar:
        while (done := int(state.step)) < steps:
            n = min(monitor.every, steps - done)
            state, losses = fit_steps(state, frozen, inputs, targets, n, optimizer, batching=batching, encoded=True)
            losses = _finite(np.asarray(losses), done, monitor, learning_rate)
            train_losses.append(losses)
            eval_steps.append(done + n)
            eval_losses.append(float(_eval_mse(state.params, frozen, *evaluation)))
            bar.update(n)
            bar.set_postfix(train_psnr=f"{psnr_db(losses[-1]):.2f}", eval_psnr=f"{psnr_db(eval_losses[-1]):.2f}")
    model = eqx.combine(state.params, frozen)
    predictions = predict(model, evaluation[0])
    if not np.all(np.isfinite(eval_losses)):
        raise DivergenceError(f"{monitor.description}: the evaluation loss is not finite: lower the learning rate")
    train_psnr, eval_psnr = psnr_db(np.concatenate(train_losses)), psnr_db(np.asarray(eval_losses))
    return FitResult(model, train_psnr, np.asarray(eval_steps), eval_psnr, predictions, time.perf_counter() - start)


@eqx.filter_jit
def _eval_mse(params, frozen, coords, targets, chunk: int = 65536):
    model = eqx.combine(params, frozen)
    total = jnp.zeros((), targets.dtype)
    for i in range(0, coords.shape[0], chunk):
        prediction = jax.vmap(model)(coords[i : i + chunk])
        total = total + jnp.sum((prediction - targets[i : i + chunk]) ** 2)
    return total / targets.size

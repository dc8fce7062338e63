"""Meta-learning an INR initialisation from a set of signals: MAML, first-order MAML and Reptile (SPEC §5 Meta).

A task is one image g on the grid. The inner loop adapts the shared initialisation theta by `inner_steps`
plain SGD steps on the task's MSE,

    theta_0 = theta,   theta_{k+1} = theta_k - inner_lr * grad L_g(theta_k),   L_g(theta) = mean_r (f(r) - g(r))^2,

and the outer loop updates theta with Adam on a batch of tasks:

* ``"maml"``: gradient of mean_g L_g(theta_K(theta)), differentiated through the inner loop (second order);
* ``"fomaml"``: the same with d theta_K / d theta taken as the identity (inner gradients under stop_gradient);
* ``"reptile"``: the direction theta - mean_g theta_K(g) (Nichol et al. 2018) fed to Adam as the gradient.

Tasks of a step are processed inside one jitted outer step (unrolled on a CPU, `vmap`-ed on accelerators).
Randomness (the optional pixel subsampling of the inner loop) uses one key per task, split from the step's key —
the original Reptile path reused one key for every task and crashed.

Settings come as frozen records: `MetaOptions` (the hyperparameters a run is identified by), `InnerLoop` (one task's
adaptation, a static argument of the jitted steps) and `MetaLoop` (progress bar, continuation, per-step hook).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from inrdict._typing import AnyArray
from inrdict.errors import DivergenceError, InrdictError
from inrdict.models import partition_trainable
from inrdict.train.fit import TrainState, init_state
from inrdict.train.losses import mse, psnr_db
from inrdict.train.optim import Optimizer, make_optimizer

MetaMethod = Literal["maml", "fomaml", "reptile"]
METHODS = ("maml", "fomaml", "reptile")


@dataclasses.dataclass(frozen=True)
class InnerLoop:
    """One task's adaptation: `steps` plain SGD steps of size `lr` on its MSE (module docstring), each on `batch`
    pixels drawn at random (None: all). Hashable: the jitted steps take it as a static argument."""

    steps: int
    lr: float
    batch: int | None = None


@dataclasses.dataclass(frozen=True)
class MetaOptions:
    """The meta-learning hyperparameters. A checkpointed run records them by these names and refuses to resume
    with others (`inrdict.io.runs`): renaming a field would orphan existing checkpoints.

    Attributes:
        method: "maml", "fomaml" or "reptile" (module docstring).
        batch_size: tasks per outer step.
        inner_steps, inner_lr, inner_batch: the inner loop (`inner`; inner_batch: pixels per inner step, None: all).
        outer_lr: the outer step size.
        outer_optimizer: "adam" (the paper's) or "gd": plain steps, for Reptile θ ← θ + outer_lr (W̄ − θ), the
            interpolation of Nichol et al. (2018) with ε = outer_lr.
        eval_every: validate every this many outer steps (and after the last).
    """

    # Defaults: the paper's MAML run (SPEC §5 Meta; `inrdict.experiments.paper.meta_learning.PAPER`).
    method: MetaMethod = "maml"
    batch_size: int = 3
    inner_steps: int = 2
    inner_lr: float = 0.01
    outer_lr: float = 1e-5
    outer_optimizer: Optimizer = "adam"
    inner_batch: int | None = None
    eval_every: int = 200

    @property
    def inner(self) -> InnerLoop:
        """The inner loop these options set."""
        return InnerLoop(self.inner_steps, self.inner_lr, self.inner_batch)


def adapt(
    params,
    frozen,
    coords: Float[AnyArray, "n d"],
    target: Float[AnyArray, "n c"],
    inner: InnerLoop,
    *,
    key: PRNGKeyArray,
    first_order: bool = False,
):
    """Run the inner loop on one task; returns the adapted trainable parameters (same tree as `params`).

    With `inner.batch`, each step draws that many pixels with `key`; `first_order` stops gradients through the
    inner gradients (FOMAML / Reptile need no second-order terms).
    """

    def step(p, step_key):
        x, y = coords, target
        if inner.batch is not None:
            index = jax.random.randint(step_key, (inner.batch,), 0, coords.shape[0])
            x, y = coords[index], target[index]
        grads = jax.grad(mse)(p, frozen, x, y)
        if first_order:
            grads = jax.lax.stop_gradient(grads)
        return jax.tree_util.tree_map(lambda a, g: a - inner.lr * g, p, grads), None

    adapted, _ = jax.lax.scan(step, params, jax.random.split(key, inner.steps), unroll=True)
    return adapted


# Tasks of a step run as separate unrolled computations on a CPU, batched with `vmap` elsewhere: on 2 CPU cores the
# MAML step (3 tasks, 32², SIREN 256×4) took 0.43 s unrolled, 0.52 s with `lax.map` and 0.64 s vmapped (batched
# matmuls with per-task weights); on a GPU the batch fills the device. Larger batches use `lax.map` on a CPU.
UNROLL_TASKS_UP_TO = 8


def _over_tasks(fn, targets: Array, keys: Array):
    """`fn(target, key)` for every task, results stacked along a leading axis (see `UNROLL_TASKS_UP_TO`)."""
    if jax.default_backend() != "cpu":
        return jax.vmap(fn)(targets, keys)
    if targets.shape[0] > UNROLL_TASKS_UP_TO:
        return jax.lax.map(lambda pair: fn(*pair), (targets, keys))
    results = [fn(targets[i], keys[i]) for i in range(targets.shape[0])]
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *results)


def make_outer_step(
    frozen, coords: AnyArray, optimizer: optax.GradientTransformation, *, method: MetaMethod, inner: InnerLoop
):
    """`step(params, opt_state, targets (tasks, n, c), key) -> (params, opt_state, post-adaptation MSE per task)`.

    Pure and jittable; `meta_train` jits it once.
    """
    if method not in METHODS:
        raise InrdictError(f"unknown meta-learning method {method!r}: choose maml, fomaml or reptile")

    def task_loss(params, target, key, first_order):
        adapted = adapt(params, frozen, coords, target, inner, key=key, first_order=first_order)
        return mse(adapted, frozen, coords, target), adapted

    def step(params, opt_state, targets, key):
        task_keys = jax.random.split(key, targets.shape[0])
        if method == "reptile":
            losses, adapted = _over_tasks(lambda t, k: task_loss(params, t, k, True), targets, task_keys)
            mean_adapted = jax.tree_util.tree_map(lambda a: jnp.mean(a, axis=0), adapted)
            direction = jax.tree_util.tree_map(jnp.subtract, params, mean_adapted)
        else:

            def outer_loss(p):
                losses, _ = _over_tasks(lambda t, k: task_loss(p, t, k, method == "fomaml"), targets, task_keys)
                return jnp.mean(losses), losses

            (_, losses), direction = jax.value_and_grad(outer_loss, has_aux=True)(params)
        updates, opt_state = optimizer.update(direction, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, losses

    return step


@eqx.filter_jit
def meta_step(
    state: TrainState,
    frozen: eqx.Module,
    coords: Float[AnyArray, "n d"],
    targets: Float[AnyArray, "tasks n c"],
    key: PRNGKeyArray,
    optimizer: optax.GradientTransformation,
    method: MetaMethod,
    inner: InnerLoop,
) -> tuple[TrainState, Float[AnyArray, " tasks"]]:
    """One outer update (`make_outer_step`) on a batch of tasks; returns the new state and each task's
    post-adaptation MSE. Compiled once per shapes and settings (module-level jit)."""
    step = make_outer_step(frozen, coords, optimizer, method=method, inner=inner)
    params, opt_state, losses = step(state.params, state.opt_state, targets, key)
    return TrainState(params, opt_state, state.step + 1), losses


def adapted_psnr_db(model: eqx.Module, coords, images: np.ndarray, inner: InnerLoop) -> np.ndarray:
    """PSNR (dB, all pixels) of each image after the inner loop from `model`: the meta-learning validation metric
    (the inner loop sees all pixels whatever `inner.batch`)."""
    params, frozen = partition_trainable(model)
    full = dataclasses.replace(inner, batch=None)
    return np.asarray(_adapted_psnr_db(params, frozen, jnp.asarray(coords), jnp.asarray(images), full))


@eqx.filter_jit
def _adapted_psnr_db(params, frozen, coords, images, inner: InnerLoop):
    def one(image):
        target = image.reshape(-1, 1)
        adapted = adapt(params, frozen, coords, target, inner, key=jax.random.key(0))
        return -10.0 * jnp.log10(mse(adapted, frozen, coords, target))

    return jax.lax.map(one, images)


@dataclasses.dataclass(frozen=True)
class MetaResult:
    """What `meta_train` returns.

    Attributes:
        model: the meta-learned initialisation.
        train_psnr_db: (steps,) post-adaptation PSNR of each step's training images, averaged over the batch.
        eval_steps: (k,) steps (number of outer updates done) at which validation ran; 0 = the initial model.
        val_psnr_db: (k,) mean validation PSNR after the inner loop.
        seconds: wall time of this call (a resumed run counts only its own part).
        resumed_from: step the run resumed from (0 for a fresh run).
    """

    model: eqx.Module
    train_psnr_db: np.ndarray
    eval_steps: np.ndarray
    val_psnr_db: np.ndarray
    seconds: float
    resumed_from: int


@dataclasses.dataclass
class MetaHistory:
    """What a run has recorded so far besides its state (plain lists, JSON-able: a checkpoint carries it)."""

    train_psnr_db: list[float] = dataclasses.field(default_factory=list)
    eval_steps: list[int] = dataclasses.field(default_factory=list)
    val_psnr_db: list[float] = dataclasses.field(default_factory=list)


def _task_batch(source, key: PRNGKeyArray, step: int, batch_size: int) -> tuple[Array, PRNGKeyArray]:
    """(targets (tasks, n, 1), task key) of outer step `step`: images picked with `fold_in(key, step)`."""
    data_key, task_key = jax.random.split(jax.random.fold_in(key, step))
    picks = np.asarray(jax.random.choice(data_key, len(source), (batch_size,), replace=batch_size > len(source)))
    return jnp.asarray(source.load(picks).reshape(batch_size, -1, 1)), task_key


@dataclasses.dataclass(frozen=True)
class MetaLoop:
    """The host loop around `meta_step`; nothing here changes what is learned.

    Attributes:
        progress: show a tqdm progress bar (on a terminal; never in a log file).
        start: (state, history) to continue from, the state as `init_state(model, make_optimizer(
            options.outer_optimizer, options.outer_lr))` makes it (None: a fresh run).
        on_step: called after every step with (state, history, record of the step: step, train / val PSNR).
    """

    progress: bool = True
    start: tuple[TrainState, MetaHistory] | None = None
    on_step: Callable[[TrainState, MetaHistory, dict], None] | None = None


def check_settings(options: MetaOptions, *, steps: int, n_train: int) -> None:
    """Refuse impossible meta-learning settings in one line (`InrdictError`)."""
    if steps < 1 or options.batch_size < 1 or options.inner_steps < 1 or options.eval_every < 1:
        raise InrdictError("steps, batch_size, inner_steps and eval_every must be positive")
    if options.method not in METHODS:
        raise InrdictError(f"unknown meta-learning method {options.method!r}: choose maml, fomaml or reptile")
    if n_train < 1:
        raise InrdictError("the meta-training set is empty")


def _record_step(history: MetaHistory, step: int, losses: np.ndarray, outer_lr: float) -> dict:
    """Append step `step`'s mean post-adaptation PSNR to `history` and return the step's record; `DivergenceError`
    on a non-finite loss."""
    if not np.all(np.isfinite(losses)):
        raise DivergenceError(
            f"meta-learning loss became {float(np.mean(losses))} at step {step}: lower outer_lr (now {outer_lr:g})"
        )
    history.train_psnr_db.append(float(np.mean(psnr_db(losses))))  # mean over tasks of per-image PSNR
    return {"step": step + 1, "train_psnr_db": history.train_psnr_db[-1]}


def meta_train(
    model: eqx.Module,
    train_source,
    val_images: np.ndarray,
    coords: AnyArray,
    *,
    steps: int,
    key: PRNGKeyArray,
    options: MetaOptions = MetaOptions(),
    loop: MetaLoop = MetaLoop(),
) -> MetaResult:
    """Meta-learn an initialisation of `model` on the images of `train_source`: a host loop over `meta_step` for
    progress and validation, in memory (`inrdict.io.runs.resumable_meta_train` adds checkpoints and a log). Raises
    `InrdictError` on bad settings, `DivergenceError` on a non-finite loss.

    Args:
        model: the initial model (single output).
        train_source: an `inrdict.io.datasets.ImageSource` of (size, size) images matching `coords`.
        val_images: (m, size, size) validation images, scored after the inner loop every `options.eval_every` steps.
        coords: (size*size, d) grid, row-major like the images.
        steps: total outer steps (a run continued from `loop.start` goes on up to this number).
        key: PRNG key; step t uses `fold_in(key, t)`, so a continued run equals an uninterrupted one.
        options: the hyperparameters (`MetaOptions`: method, batch, inner loop, outer step, validation interval).
        loop: progress bar, continuation and per-step hook (`MetaLoop`).
    """
    from tqdm.auto import tqdm

    check_settings(options, steps=steps, n_train=len(train_source))
    optimizer = make_optimizer(options.outer_optimizer, float(options.outer_lr))
    state, frozen = init_state(model, optimizer)
    state, history = loop.start if loop.start is not None else (state, MetaHistory())
    coords, images = jnp.asarray(coords), jnp.asarray(np.asarray(val_images))
    start_step, inner = int(state.step), options.inner

    def validate(state: TrainState, done: int) -> float:  # the inner loop on all pixels, whatever inner.batch
        psnr = _adapted_psnr_db(state.params, frozen, coords, images, dataclasses.replace(inner, batch=None))
        history.eval_steps.append(done)
        history.val_psnr_db.append(float(np.mean(np.asarray(psnr))))
        return history.val_psnr_db[-1]

    if start_step == 0:
        validate(state, 0)
    begin = time.perf_counter()
    with tqdm(total=steps, initial=start_step, desc=f"meta-learn ({options.method})", unit="step",
              disable=None if loop.progress else True) as bar:  # None: shown on a terminal, not in a log  # fmt: skip
        for step in range(start_step, steps):
            targets, task_key = _task_batch(train_source, key, step, options.batch_size)
            state, losses = meta_step(state, frozen, coords, targets, task_key, optimizer, options.method, inner)
            record = _record_step(history, step, np.asarray(losses), options.outer_lr)
            if record["step"] % options.eval_every == 0 or record["step"] == steps:
                record["val_psnr_db"] = validate(state, record["step"])
            if loop.on_step is not None:
                loop.on_step(state, history, record)
            bar.update(1)
            bar.set_postfix(train_psnr=f"{history.train_psnr_db[-1]:.2f}", val_psnr=f"{history.val_psnr_db[-1]:.2f}")
    if history.eval_steps[-1] != steps:  # resumed at the end of a run whose final validation was off the eval grid
        validate(state, steps)
    arrays = (np.asarray(history.train_psnr_db), np.asarray(history.eval_steps), np.asarray(history.val_psnr_db))
    return MetaResult(eqx.combine(state.params, frozen), *arrays, time.perf_counter() - begin, start_step)

"""Checkpointed, resumable training runs: the files around the pure loops of `inrdict.train`.

`resumable_meta_train` runs `inrdict.train.meta.meta_train` and writes `work_dir/checkpoint.npz` (atomically, every
`checkpoint_every` steps and at the end) and `work_dir/log.jsonl` (a line per step); with `resume` it continues from
the checkpoint, and the result equals an uninterrupted run. A checkpoint of a run with other settings, data, seed
or initial model is refused.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict._io import atomic_write_text
from inrdict.errors import InrdictError
from inrdict.io import checkpoints
from inrdict.io.cache import fingerprint
from inrdict.models import partition_trainable
from inrdict.train.fit import TrainState, init_state
from inrdict.train.meta import MetaHistory, MetaOptions, MetaResult, check_settings, meta_train
from inrdict.train.optim import make_optimizer


def _truncate_log(log_path: Path, step: int) -> None:
    """Keep the log lines of steps <= `step` (a crash may have left later or half-written ones), atomically."""
    if not log_path.exists():
        return
    kept = []
    for line in log_path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= step:
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    atomic_write_text(log_path, "".join(f"{line}\n" for line in kept), "log")


def _load_checkpoint(
    path: Path, like: TrainState, run_id: dict, steps: int, eval_every: int
) -> tuple[TrainState, MetaHistory]:
    state, meta = checkpoints.load_pytree(path, like)
    if meta.get("run") != run_id:
        raise InrdictError(
            f"{path} comes from a run with other settings, data, seed or initial model: "
            "remove it, or drop --resume to start afresh"
        )
    if int(state.step) > steps:
        raise InrdictError(f"{path} is at step {int(state.step)}, beyond the requested {steps} steps")
    # A finished run validated at its last step even off the eval grid; a longer run would not have.
    on_grid = [i for i, s in enumerate(meta["eval_steps"]) if s % eval_every == 0]
    history = MetaHistory(
        list(meta["train_psnr_db"]), [meta["eval_steps"][i] for i in on_grid], [meta["val_psnr_db"][i] for i in on_grid]
    )
    return state, history


def resumable_meta_train(
    model: eqx.Module,
    train_source,
    val_images: np.ndarray,
    coords: np.ndarray,
    *,
    work_dir: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 200,
    **settings,
) -> MetaResult:
    """`inrdict.train.meta.meta_train(model, train_source, val_images, coords, **settings)` with checkpoints and a
    log in `work_dir` (None: none, the plain loop) — module docstring.

    Args:
        work_dir: where `checkpoint.npz` and `log.jsonl` go.
        resume: continue from `work_dir/checkpoint.npz` if present; the result then equals an uninterrupted run.
        checkpoint_every: write the checkpoint (atomically) every this many steps and at the end.
        settings: `meta_train`'s keyword arguments (steps, key, options, loop; the loop's `start` and `on_step`
            are this function's).

    Raises:
        InrdictError: bad settings or a checkpoint from a different run; DivergenceError on a non-finite loss.
    """
    bound = inspect.signature(meta_train).bind(model, train_source, val_images, coords, **settings)
    bound.apply_defaults()
    given = bound.arguments
    options: MetaOptions = given["options"]
    check_settings(options, steps=given["steps"], n_train=len(train_source))
    if checkpoint_every < 1:
        raise InrdictError("checkpoint_every must be positive")
    if work_dir is None:
        return meta_train(*bound.args, **bound.kwargs)
    work_dir, steps, key = Path(work_dir), given["steps"], given["key"]
    state_path, log_path = work_dir / "checkpoint.npz", work_dir / "log.jsonl"
    # Everything that shapes the trajectory: a checkpoint of any other run is refused on resume. The options are
    # stored by their field names (method, batch_size, inner_steps, ...: the checkpoint format).
    run_id = {
        **dataclasses.asdict(options), "n_train": len(train_source),
        "data": fingerprint(np.asarray(jnp.asarray(coords)), np.asarray(val_images)),  # the grid as the loop holds it
        "start": fingerprint(partition_trainable(model)[0], jax.random.key_data(key)),
    }  # fmt: skip
    start = None
    if resume and state_path.exists():
        like = init_state(model, make_optimizer(options.outer_optimizer, float(options.outer_lr)))[0]
        start = _load_checkpoint(state_path, like, run_id, steps, options.eval_every)
        _truncate_log(log_path, int(start[0].step))
    else:
        work_dir.mkdir(parents=True, exist_ok=True)
        state_path.unlink(missing_ok=True)  # a fresh run must never be resumed from an older one's state
        log_path.unlink(missing_ok=True)

    def on_step(state: TrainState, history: MetaHistory, record: dict) -> None:
        with log_path.open("a") as log:
            log.write(json.dumps(record) + "\n")
        if record["step"] % checkpoint_every == 0 or record["step"] == steps:
            checkpoints.save_pytree(state_path, state, metadata={"run": run_id, **dataclasses.asdict(history)})

    given["loop"] = dataclasses.replace(given["loop"], start=start, on_step=on_step)
    return meta_train(*bound.args, **bound.kwargs)

import dataclasses
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from inrdict.errors import InrdictError
from inrdict.io.datasets import ArraySource
from inrdict.io.runs import resumable_meta_train
from inrdict.models import Siren, partition_trainable
from inrdict.train.meta import InnerLoop, MetaLoop, MetaOptions, _task_batch, adapt, make_outer_step, meta_train
from tests._claims import all_seeds_hold, satisfied_claims, seeds_hold
from tests.conftest import rel_error

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam
QUIET = MetaLoop(progress=False)


@pytest.fixture
def tiny():
    """A float64 problem; the tests using it run inside `jax.enable_x64(True)`."""
    with jax.enable_x64(True):
        model = Siren(2, (8, 8), 1, first_omega0=5.0, convention="ntk", key=jax.random.key(0), dtype=jnp.float64)
        grid = np.stack(np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5), indexing="ij"), -1).reshape(-1, 2)
        targets = jax.random.uniform(jax.random.key(1), (3, 25, 1), jnp.float64)
        yield model, jnp.asarray(grid), targets


def _flat(tree):
    return np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(tree)])


def _loss(params, frozen, coords, target):
    import equinox as eqx

    return jnp.mean((jax.vmap(eqx.combine(params, frozen))(coords) - target) ** 2)


def hand_unrolled_maml(params, frozen, coords, targets, inner_lr, inner_steps, first_order):
    def outer(p):
        total = 0.0
        for target in targets:
            q = p
            for _ in range(inner_steps):
                g = jax.grad(_loss)(q, frozen, coords, target)
                if first_order:
                    g = jax.lax.stop_gradient(g)
                q = jax.tree_util.tree_map(lambda a, b: a - inner_lr * b, q, g)
            total = total + _loss(q, frozen, coords, target)
        return total / len(targets)

    return jax.grad(outer)(params)


@pytest.mark.parametrize("method", ["maml", "fomaml"])
def test_maml_gradient_matches_a_hand_unrolled_inner_loop(method, tiny):
    with jax.enable_x64(True):
        model, coords, targets = tiny
        params, frozen = partition_trainable(model)
        step = make_outer_step(frozen, coords, optax.sgd(1.0), method=method, inner=InnerLoop(2, 0.1))
        new_params, _, _ = step(params, optax.sgd(1.0).init(params), targets, jax.random.key(0))
        got = jax.tree_util.tree_map(jnp.subtract, params, new_params)
        want = hand_unrolled_maml(params, frozen, coords, targets, 0.1, 2, method == "fomaml")
        assert rel_error(_flat(got), _flat(want)) < 1e-10


def test_second_order_terms_matter(tiny):
    with jax.enable_x64(True):
        model, coords, targets = tiny
        params, frozen = partition_trainable(model)
        second = hand_unrolled_maml(params, frozen, coords, targets, 0.1, 2, False)
        first = hand_unrolled_maml(params, frozen, coords, targets, 0.1, 2, True)
        assert rel_error(_flat(first), _flat(second)) > 1e-3


def test_reptile_direction_and_per_task_keys(tiny):
    with jax.enable_x64(True):
        model, coords, targets = tiny
        params, frozen = partition_trainable(model)
        step = make_outer_step(frozen, coords, optax.sgd(1.0), method="reptile", inner=InnerLoop(3, 0.1))
        new_params, _, _ = step(params, optax.sgd(1.0).init(params), targets, jax.random.key(0))
        adapted = [adapt(params, frozen, coords, t, InnerLoop(3, 0.1), key=jax.random.key(0)) for t in targets]
        mean = jax.tree_util.tree_map(lambda *a: sum(a) / len(a), *adapted)
        # SGD(1) applies -direction = mean(adapted) - params: Reptile moves the init to the mean adapted weights.
        assert rel_error(_flat(new_params), _flat(mean)) < 1e-12
        # With pixel subsampling, identical tasks must draw different pixels: one key per task.
        same = jnp.stack([targets[0]] * 2)
        step = make_outer_step(frozen, coords, optax.sgd(1.0), method="reptile", inner=InnerLoop(1, 0.1, batch=4))
        keys = jax.random.split(jax.random.key(3), 2)
        a = adapt(params, frozen, coords, same[0], InnerLoop(1, 0.1, batch=4), key=keys[0])
        b = adapt(params, frozen, coords, same[1], InnerLoop(1, 0.1, batch=4), key=keys[1])
        assert rel_error(_flat(a), _flat(b)) > 1e-6
        new_params, _, losses = step(params, optax.sgd(1.0).init(params), same, jax.random.key(3))
        assert abs(float(losses[0] - losses[1])) > 0  # the two copies adapted differently
        want = jax.tree_util.tree_map(lambda x, y: (x + y) / 2, a, b)
        assert rel_error(_flat(new_params), _flat(want)) < 1e-12


def test_reptile_interpolation_step_is_plain_gd_on_the_reptile_direction():
    """MetaOptions(outer_optimizer="gd", outer_lr=ε) is Nichol et al.'s θ ← θ + ε (W̄ − θ): with ε = 1 one step
    lands on the mean adapted weights."""
    images = np.asarray(jax.random.uniform(jax.random.key(2), (4, 5, 5)), np.float32)
    coords = np.stack(np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5), indexing="ij"), -1).reshape(-1, 2)
    model = Siren(2, (6,), 1, key=jax.random.key(0))
    reptile = MetaOptions(method="reptile", batch_size=2, inner_steps=2, inner_lr=0.05, outer_lr=1.0,
                          outer_optimizer="gd", eval_every=1)  # fmt: skip
    result = meta_train(model, ArraySource(images[:2]), images[2:], coords, steps=1, key=jax.random.key(5),
                        options=reptile, loop=QUIET)  # fmt: skip
    params, frozen = partition_trainable(model)
    targets, task_key = _task_batch(ArraySource(images[:2]), jax.random.key(5), 0, 2)  # the batch step 0 drew
    adapted = [adapt(params, frozen, jnp.asarray(coords, jnp.float32), t, InnerLoop(2, 0.05), key=k)
               for t, k in zip(targets, jax.random.split(task_key, 2))]  # fmt: skip
    mean = jax.tree_util.tree_map(lambda a, b: (a + b) / 2, *adapted)
    assert rel_error(_flat(partition_trainable(result.model)[0]), _flat(mean)) < 1e-5
    adam_result = meta_train(model, ArraySource(images[:2]), images[2:], coords, steps=1, key=jax.random.key(5),
                             options=dataclasses.replace(reptile, outer_optimizer="adam"), loop=QUIET)  # fmt: skip
    assert rel_error(_flat(partition_trainable(adam_result.model)[0]), _flat(mean)) > 0.1  # Adam: ±lr per coordinate


def test_resume_reaches_the_same_weights(tmp_path):
    images = np.asarray(jax.random.uniform(jax.random.key(2), (6, 6, 6)), np.float32)
    coords = np.stack(np.meshgrid(np.linspace(0, 1, 6), np.linspace(0, 1, 6), indexing="ij"), -1).reshape(-1, 2)
    model = Siren(2, (8, 8), 1, key=jax.random.key(0))
    options = MetaOptions(method="maml", batch_size=2, outer_lr=1e-3, eval_every=2)
    common = dict(options=options, checkpoint_every=2, key=jax.random.key(5), loop=QUIET)
    full = resumable_meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=6, work_dir=tmp_path / "a", **common)
    resumable_meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=4, work_dir=tmp_path / "b", **common)
    resumed = resumable_meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=6, work_dir=tmp_path / "b", resume=True, **common)
    assert resumed.resumed_from == 4
    for x, y in zip(jax.tree_util.tree_leaves(full.model), jax.tree_util.tree_leaves(resumed.model)):
        assert np.array_equal(x, y)
    assert np.array_equal(full.val_psnr_db, resumed.val_psnr_db) and list(full.eval_steps) == [0, 2, 4, 6]
    assert len((tmp_path / "b" / "log.jsonl").read_text().splitlines()) == 6
    # The run record keeps its names (the checkpoint format): checkpoints of earlier versions still resume.
    with np.load(tmp_path / "b" / "checkpoint.npz") as stored:
        run = json.loads(bytes(stored["__meta__"]).decode())["metadata"]["run"]
    assert list(run) == ["method", "batch_size", "inner_steps", "inner_lr", "outer_lr", "outer_optimizer", "inner_batch",
                         "eval_every", "n_train", "data", "start"]  # fmt: skip
    with pytest.raises(InrdictError, match="other settings"):
        resumable_meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=6, work_dir=tmp_path / "b", resume=True,
                   **{**common, "options": dataclasses.replace(options, outer_lr=1e-2)})


def test_the_pure_loop_knows_no_files_and_equals_the_checkpointed_run(tmp_path):
    """`train.meta.meta_train` runs in memory (its hook sees every step); the resumable runner around it, which
    writes the checkpoints and the log, reaches the same weights."""
    images = np.asarray(jax.random.uniform(jax.random.key(2), (6, 6, 6)), np.float32)
    coords = np.stack(np.meshgrid(np.linspace(0, 1, 6), np.linspace(0, 1, 6), indexing="ij"), -1).reshape(-1, 2)
    model = Siren(2, (8,), 1, key=jax.random.key(0))
    options = MetaOptions(method="fomaml", batch_size=2, outer_lr=1e-3, eval_every=2)
    common = dict(options=options, key=jax.random.key(5), loop=QUIET)
    records = []
    hook = MetaLoop(progress=False, on_step=lambda state, history, record: records.append(record))
    pure = meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=4, **{**common, "loop": hook})
    filed = resumable_meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=4, work_dir=tmp_path / "run",
                                 checkpoint_every=2, **common)  # fmt: skip
    assert [r["step"] for r in records] == [1, 2, 3, 4] and "val_psnr_db" in records[1] and "val_psnr_db" not in records[0]
    for x, y in zip(jax.tree_util.tree_leaves(pure.model), jax.tree_util.tree_leaves(filed.model)):
        assert np.array_equal(x, y)
    assert np.array_equal(pure.val_psnr_db, filed.val_psnr_db)
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["checkpoint.npz", "log.jsonl"]


def test_resume_after_a_crash_and_past_an_off_grid_end(tmp_path):
    images = np.asarray(jax.random.uniform(jax.random.key(2), (6, 6, 6)), np.float32)
    coords = np.stack(np.meshgrid(np.linspace(0, 1, 6), np.linspace(0, 1, 6), indexing="ij"), -1).reshape(-1, 2)
    model = Siren(2, (8,), 1, key=jax.random.key(0))
    common = dict(options=MetaOptions(batch_size=2, outer_lr=1e-3, eval_every=4), checkpoint_every=2,
                  key=jax.random.key(5), loop=QUIET)  # fmt: skip
    run = lambda folder, steps, **kw: resumable_meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=steps,  # noqa: E731
                                                 work_dir=tmp_path / folder, **common, **kw)
    full = run("a", 6)
    run("b", 5)  # finished off the eval grid (validated at 5), then extended
    extended = run("b", 6, resume=True)
    assert list(extended.eval_steps) == list(full.eval_steps) == [0, 4, 6]
    assert np.array_equal(extended.val_psnr_db, full.val_psnr_db)
    # A crash after the step-4 checkpoint leaves log lines 5.. and a torn line; resuming keeps a clean log.
    run("c", 4)
    log = tmp_path / "c" / "log.jsonl"
    log.write_text(log.read_text() + '{"step": 5, "train_psnr_db": 1.0}\n{"step": 6, "tr')
    crashed = run("c", 6, resume=True)
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]
    for x, y in zip(jax.tree_util.tree_leaves(full.model), jax.tree_util.tree_leaves(crashed.model)):
        assert np.array_equal(x, y)
    # Another seed is another run: refused on resume.
    with pytest.raises(InrdictError, match="other settings, data, seed"):
        resumable_meta_train(model, ArraySource(images[:4]), images[4:], coords, steps=6, work_dir=tmp_path / "c", resume=True,
                   **{**common, "key": jax.random.key(6)})  # fmt: skip
    # A fresh run deletes an older run's state first: crashing before its own first checkpoint leaves none.
    from inrdict.errors import DivergenceError

    assert (tmp_path / "c" / "checkpoint.npz").exists()
    with pytest.raises(DivergenceError):
        resumable_meta_train(model, ArraySource(np.full_like(images[:4], np.nan)), images[4:], coords, steps=6,
                   work_dir=tmp_path / "c", **common)  # fmt: skip
    assert not (tmp_path / "c" / "checkpoint.npz").exists()


def test_divergence_is_reported(tmp_path):
    images = np.full((3, 4, 4), np.nan, np.float32)
    coords = np.stack(np.meshgrid(np.linspace(0, 1, 4), np.linspace(0, 1, 4), indexing="ij"), -1).reshape(-1, 2)
    from inrdict.errors import DivergenceError

    with pytest.raises(DivergenceError, match="at step 0"):
        resumable_meta_train(Siren(2, (4,), 1, key=jax.random.key(0)), ArraySource(images), images[:1], coords, steps=2,
                   key=jax.random.key(0), loop=QUIET)


def test_default_preset_meta_learning_beats_random_init(short_meta_run):
    results, out = short_meta_run
    curve = results["numbers"]["val_psnr_db"]
    assert all(all_seeds_hold(results).values()), curve
    assert curve[-1] > curve[0] + 3.0  # several dB over the random initialisation after 30 steps
    per_image = results["numbers"]["val_psnr_db_per_image"]
    assert min(m - r for m, r in zip(per_image["meta_learned"], per_image["random_init"])) > 0
    for name in ("meta_siren.npz", "log.jsonl", "results.json", "arrays.npz", "validation_psnr.png"):
        assert (out / name).exists()
    # Training ran once, in the artefact folder (checkpoints there); the run folder holds the report and copies.
    artefact = Path(results["numbers"]["artefact"])
    assert (artefact.parent / "checkpoint.npz").exists() and (artefact.parent / "training.json").exists()


def test_meta_learning_accepts_an_ffn(tmp_path):
    """Fig. 11's FFN-meta: the same MAML on an FFN (its frozen B untouched), learned as an artefact of its own."""

    from inrdict.experiments.paper import meta_learning
    from inrdict.models import FFN

    config = dataclasses.replace(meta_learning.DEFAULT, model="ffn", hidden=(16, 16, 16), ffn_features=8, grid_size=8,
                                 steps=3, eval_every=1, checkpoint_every=1)  # fmt: skip
    model = meta_learning.initial_model(config)
    assert isinstance(model, FFN) and model.hidden == (16, 16, 16) and model.B.shape == (8, 2)
    meta_learning.learn(config, tmp_path, progress=False)
    from inrdict.io.checkpoints import load_model

    learned, _ = load_model(tmp_path / meta_learning.ARTEFACT)
    assert np.array_equal(learned.B, model.B)  # the Fourier features are frozen
    assert not np.array_equal(learned.layers[0].weight, model.layers[0].weight)
    assert meta_learning.artefact_label(config).startswith("maml-ffn1-lfw8")


@pytest.mark.parametrize("method", ["maml", "reptile"])
@pytest.mark.parametrize("n_tasks", [3, 10])  # unrolled (≤ UNROLL_TASKS_UP_TO) and lax.map on a CPU
def test_outer_step_is_the_same_unrolled_mapped_or_vmapped(method, n_tasks, monkeypatch):
    from inrdict.train import meta

    with jax.enable_x64(True):
        model = Siren(2, (8, 8), 1, first_omega0=5.0, convention="ntk", key=jax.random.key(0), dtype=jnp.float64)
        params, frozen = partition_trainable(model)
        grid = jnp.asarray(np.stack(np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5), indexing="ij"), -1).reshape(-1, 2))
        targets = jax.random.uniform(jax.random.key(1), (n_tasks, 25, 1), jnp.float64)
        optimizer = optax.sgd(0.1)

        def run():
            step = make_outer_step(frozen, grid, optimizer, method=method, inner=InnerLoop(2, 0.1))
            new, _, losses = jax.jit(step)(params, optimizer.init(params), targets, jax.random.key(2))
            return _flat(new), np.asarray(losses)

        here = run()
        monkeypatch.setattr(meta.jax, "default_backend", lambda: "gpu")  # the accelerator path: one vmap
        batched = run()
    assert rel_error(here[0], batched[0]) < 1e-12 and rel_error(here[1], batched[1]) < 1e-12

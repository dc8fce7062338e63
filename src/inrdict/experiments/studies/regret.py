"""The pieces of `inrdict figure regret` (`experiments.beyond.suggest_validation`): the declared signal sets, the signed
distance fields, the seed-batched reference training with its two held-out halves, and the statistics.

Sets (`validation_sets/sets.toml`, committed before any validation run): each signal has a split (`design`: may
shape the method; `held_out`: never), a kind (image, series, volume), its origin and licence, and a loader:
`bundled:NAME` (`inrdict.io.data.bundled_image`), `file:PATH` (a PNG, or an `.npz` whose `signal` array is in the
source's units) or `sdf:SHAPE` (`sdf`, generated here).

Splits of the samples: a quarter (`score`), the same for every seed, on which every choice is scored; the other
three quarters split per seed into half of the samples for training and a quarter (`select`) on which the
reference and the baselines choose their knob — so no choice is scored on samples it was made on, whichever seed
made it. (`suggest` sees the whole signal in its windows, score samples included: it takes a signal, not a mask.)
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from inrdict._keys import init_key
from inrdict.analysis import fitting
from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.models import partition_trainable
from inrdict.train import recipes
from inrdict.train.fit import encode_inputs
from inrdict.train.losses import mse, psnr_db
from inrdict.train.recipes import Recipe

SETS_DIR = Path(__file__).resolve().parent.parent / "validation_sets"
SETS_FILE = SETS_DIR / "sets.toml"
KINDS = ("image", "series", "volume")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One declared signal (a row of `sets.toml`)."""

    name: str
    split: str
    kind: str
    category: str
    loader: str
    origin: str
    licence: str


def declared_sets(path: Path = SETS_FILE) -> list[Entry]:
    """Every declared signal, in the file's order."""
    if not path.is_file():
        raise InrdictError(f"the validation sets file {path} is missing: restore it from the repository")
    rows = tomllib.loads(path.read_text(encoding="utf-8")).get("signal", [])
    fields = [f.name for f in dataclasses.fields(Entry)]
    return [Entry(**{k: str(row[k]) for k in fields}) for row in rows]


def entries(split: str, kind: str, limit: int = 0) -> list[Entry]:
    """The declared signals of `split` and `kind`, the first `limit` of them (0: all)."""
    chosen = [e for e in declared_sets() if e.split == split and e.kind == kind]
    return chosen[:limit] if limit else chosen


def sdf(shape: str, n: int) -> np.ndarray:
    """Signed distance (negative inside) of a named solid on the n³ grid `linspace(-1, 1, n)` (Quílez's distance
    functions: exact, except the octahedron's, a bound that is exact on the normals of its faces); (n, n, n)
    float64."""
    axis = np.linspace(-1.0, 1.0, n)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")

    def box(px, py, pz, half):
        q = [np.abs(p) - h for p, h in zip((px, py, pz), half)]
        outside = np.sqrt(sum(np.maximum(c, 0.0) ** 2 for c in q))
        return outside + np.minimum(np.maximum(np.maximum(q[0], q[1]), q[2]), 0.0)

    def capsule(a, b, radius):
        p, a, b = np.stack([x, y, z], -1), np.asarray(a), np.asarray(b)
        t = np.clip(((p - a) @ (b - a)) / ((b - a) @ (b - a)), 0.0, 1.0)
        return np.linalg.norm(p - a - t[..., None] * (b - a), axis=-1) - radius

    if shape == "sphere":
        return np.sqrt(x**2 + y**2 + z**2) - 0.6
    if shape == "box":
        return box(x, y, z, (0.5, 0.4, 0.3))
    if shape == "torus":
        return np.sqrt((np.sqrt(x**2 + z**2) - 0.55) ** 2 + y**2) - 0.2
    if shape == "octahedron":
        return (np.abs(x) + np.abs(y) + np.abs(z) - 0.7) / math.sqrt(3.0)
    if shape == "capped_cylinder":
        d = np.stack([np.sqrt(x**2 + z**2) - 0.35, np.abs(y) - 0.6], -1)
        return np.minimum(d.max(-1), 0.0) + np.linalg.norm(np.maximum(d, 0.0), axis=-1)
    if shape == "capsule_pair":
        return np.minimum(capsule((-0.5, -0.4, 0.0), (0.5, 0.3, 0.1), 0.18),
                          capsule((0.0, 0.5, -0.5), (0.1, -0.5, 0.5), 0.12))  # fmt: skip
    if shape == "box_frame":  # a box's twelve edges, 0.12 thick
        b, e = np.array([0.55, 0.45, 0.5]), 0.12
        p = np.abs(np.stack([x, y, z], -1)) - b
        q = np.abs(p + e) - e
        px, py, pz, qx, qy, qz = p[..., 0], p[..., 1], p[..., 2], q[..., 0], q[..., 1], q[..., 2]

        def edge(a, b_, c):  # the distance to one family of edges: a box's formula on (a, b_, c) already offset
            return np.sqrt(sum(np.maximum(v, 0.0) ** 2 for v in (a, b_, c))) + np.minimum(
                np.maximum(a, np.maximum(b_, c)), 0.0
            )

        return np.minimum(np.minimum(edge(px, qy, qz), edge(qx, py, qz)), edge(qx, qy, pz))
    raise InrdictError(f"unknown SDF shape {shape!r}")


def load(entry: Entry, volume_size: int) -> np.ndarray:
    """The entry's signal as stored (its own units; gray images in [0, 1]; an SDF at volume_size³)."""
    how, _, what = entry.loader.partition(":")
    if how == "bundled":
        return data.bundled_image(what)
    if how == "sdf":
        return sdf(what, volume_size)
    if how != "file":
        raise InrdictError(f"{entry.name}: unknown loader {entry.loader!r}")
    path = SETS_DIR / what
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as stored:
            return np.asarray(stored["signal"], np.float64)
    return data.to_grayscale(np.asarray(data.load_image(path), np.float64))


def at_validation_size(entry: Entry, signal: np.ndarray, sizes: dict[str, int]) -> np.ndarray:
    """The signal as validated, in [0, 1] (`fitting.prepare`): an image's centred largest square at size²; a
    series' centred `size` samples at its own spacing (all of it when shorter); a volume with its longest axis at
    `size` (aspect kept)."""
    size = sizes[entry.kind]
    if entry.kind == "series":
        start = max(0, (signal.size - size) // 2)
        return fitting.prepare(signal[start : start + size]).values
    return fitting.prepare(data.center_crop(signal) if entry.kind == "image" else signal, size).values


def sample_splits(n: int, seed: int, score_seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, select, score) sample indices: the score quarter drawn by `score_seed` (the same for every seed of a
    run), the other three quarters split by `seed` into a half of n (train) and the rest (select)."""
    score = np.sort(np.asarray(jax.random.permutation(init_key(score_seed, "pixel_mask"), n))[(3 * n) // 4 :])
    rest = np.setdiff1d(np.arange(n), score)
    order = rest[np.asarray(jax.random.permutation(jax.random.fold_in(init_key(seed, "pixel_mask"), 1), rest.size))]
    return np.sort(order[: n // 2]), np.sort(order[n // 2 :]), score


def _stack(trees):
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *trees)


@eqx.filter_jit
def _train(params, frozen_parts: tuple, inputs, targets, splits: tuple, optimizer, steps: int, every: int):
    """Per seed (vmapped over `params`, the frozen arrays, `inputs` and the splits): `steps` updates on the training
    samples, MSE on the select and score samples every `every` steps. `frozen_parts`: (arrays, static) of the
    frozen parts (static shared by the seeds); `splits`: (train, select, score) sample indices, each (seeds, k)."""
    (arrays, static), (train, select, score) = frozen_parts, splits

    def one(p, frozen_arrays, x, tr, a, b):
        frozen = eqx.combine(frozen_arrays, static)
        x_tr, y_tr = x[tr], targets[tr]

        def errors(q):
            return mse(q, frozen, x[a], targets[a], encoded=True), mse(q, frozen, x[b], targets[b], encoded=True)

        def block(carry, _):
            def step(c, _):
                q, state = c
                grads = jax.grad(mse)(q, frozen, x_tr, y_tr, encoded=True)
                updates, state = optimizer.update(grads, state, q)
                return (optax.apply_updates(q, updates), state), None

            carry, _ = jax.lax.scan(step, carry, None, length=every)
            return carry, errors(carry[0])

        _, (sel, sco) = jax.lax.scan(block, (p, optimizer.init(p)), None, length=steps // every)
        first = errors(p)
        return jnp.concatenate([first[0][None], sel]), jnp.concatenate([first[1][None], sco])

    return jax.vmap(one)(params, arrays, inputs, train, select, score)


def train_seeds(models: list[eqx.Module], points: np.ndarray, targets: np.ndarray, splits: list[tuple], run: Recipe,
                steps: int, every: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(select, score) PSNR in [0, 1] units, each (seeds, steps // every + 1): model s trained on splits[s]'s
    training samples with `run`'s optimiser (its schedule over `steps`), full batch; -inf where it diverged."""
    if steps % every:
        raise InrdictError(f"train_steps ({steps}) must be a multiple of eval_every ({every})")
    parts = [partition_trainable(m) for m in models]
    frozen = [eqx.partition(f, eqx.is_array) for _, f in parts]
    static = frozen[0][1]
    inputs = jnp.stack([encode_inputs(m, jnp.asarray(points, jnp.float32)) for m in models])
    optimizer = recipes.optimizer(run, len(points), steps)
    y = jnp.asarray(run.to_target(targets.reshape(-1, 1)), jnp.float32)
    train, select, score = (jnp.asarray(np.stack([s[i] for s in splits])) for i in range(3))
    params, arrays = _stack([p for p, _ in parts]), _stack([a for a, _ in frozen])
    sel, sco = _train(params, (arrays, static), inputs, y, (train, select, score), optimizer, steps, every)
    low, high = run.target_range
    offset = 20.0 * math.log10(high - low)

    def to_psnr(values):
        values = np.asarray(values, np.float64)
        return np.where(np.isfinite(values), psnr_db(np.where(np.isfinite(values), values, 1.0)) + offset, -np.inf)

    return to_psnr(sel), to_psnr(sco)


def bootstrap_interval(values: np.ndarray, statistic, draws: int, seed: int) -> tuple[float, float]:
    """95 % percentile interval of `statistic(sample, axis=1)` (np.median, np.mean) over `draws` resamples of the
    signals' `values`."""
    picks = np.random.default_rng(seed).integers(0, values.size, (draws, values.size))
    low, high = np.percentile(statistic(values[picks], axis=1), [2.5, 97.5])
    return float(low), float(high)


def spearman(x, y) -> float:
    """Spearman's rank correlation (NaN when either is constant)."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1]) if np.std(rx) and np.std(ry) else float("nan")

"""What the family studies (`family_predictors`, `family_comparison`) share: their faces (held-out faces to report
on, training-split faces to tune on) and their statistics (Spearman across families of per-family means, with
intervals over resamples of families, seeds and faces)."""

from __future__ import annotations

import numpy as np
import scipy.stats

from inrdict.errors import InrdictError
from inrdict.experiments._evidence import spearman_permutation_p
from inrdict.io.datasets import held_out_faces, load_faces


def faces_for_tuning(config, what: str) -> tuple[str, np.ndarray, np.ndarray]:
    """(dataset name, held-out faces (m, n), training-split faces to tune `what` on (n_select, n)) at the config's
    grid size; the test faces are never used for tuning."""
    dataset, test = held_out_faces(config.dataset, config.grid_size, config.data_dir, config.seed, config.n_test)
    train_split = load_faces(config.dataset, config.grid_size, config.data_dir, config.seed).train
    if len(train_split) < 1:
        raise InrdictError(f"the {dataset} training split is empty: no faces to tune {what} on")
    chosen = train_split.load(range(min(config.n_select, len(train_split))))
    return dataset, test, chosen.reshape(chosen.shape[0], -1)


def resamples(shape: tuple[int, int, int], n_bootstrap: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    """`n_bootstrap` resamples (with replacement) of families, seeds and faces of (families, seeds, faces) arrays,
    shared by every predictor and target so that differences between predictors are paired."""
    rng = np.random.default_rng(seed)
    return [tuple(rng.integers(0, n, n) for n in shape) for _ in range(n_bootstrap)]


def spearman_of_means(x: np.ndarray, y: np.ndarray) -> float:
    xs, ys = x.mean(axis=(1, 2)), y.mean(axis=(1, 2))
    return float(scipy.stats.spearmanr(xs, ys).statistic) if np.ptp(xs) > 0 and np.ptp(ys) > 0 else float("nan")


def bootstrap_values(x: np.ndarray, y: np.ndarray, draws: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    """Spearman across families of the means of x and y (each (families, seeds, faces)) on every resample."""
    return np.array([spearman_of_means(x[f][:, s][:, :, m], y[f][:, s][:, :, m]) for f, s, m in draws])


def bootstrap_spearman(x: np.ndarray, y: np.ndarray, draws: list[tuple[np.ndarray, ...]]) -> dict:
    """Spearman across families of the means of x and y, with: a 95 % percentile interval over resamples of
    families, seeds and faces (`draws`); the range leaving one family out; the exact one-sided permutation p-value
    over the families' orders (≤ 10 families)."""
    point = spearman_of_means(x, y)
    values = bootstrap_values(x, y, draws)
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [2.5, 97.5]) if finite.size else (float("nan"), float("nan"))
    keep = [np.delete(np.arange(x.shape[0]), i) for i in range(x.shape[0])]
    lofo = [spearman_of_means(x[k], y[k]) for k in keep]
    p = (spearman_permutation_p(x.mean(axis=(1, 2)), y.mean(axis=(1, 2)))[1]
         if 3 <= x.shape[0] <= 10 and np.isfinite(point) else float("nan"))  # fmt: skip
    return {"spearman": point, "ci_low": float(low), "ci_high": float(high), "resamples": int(finite.size),
            "leave_one_family_out_min": float(np.nanmin(lofo)), "leave_one_family_out_max": float(np.nanmax(lofo)),
            "permutation_p": float(p)}  # fmt: skip

"""Model rows shared by the NTK figures: how each random initialisation is built, and the meta-learned rows.

Initialisation keys come from `(seed, stable model id)` (`inrdict._keys`) — never from display text, so relabelling
a row cannot change its weights or its NTK cache entry. Rows that differ only in a frequency knob share one key (SPEC §10):
under the "ntk" convention a SIREN's weights do not depend on first_omega0, so every ω0 of a sweep gets the same
weights (as the original code, which used PRNGKey(0) for every ω0) and the rows differ *only* in ω0; every FFN σ
of a sweep scales the same normal draw B₀ (B = σ B₀) and shares the MLP weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

import equinox as eqx
import numpy as np

from inrdict._keys import init_key
from inrdict.analysis import lens
from inrdict.experiments import _artefacts
from inrdict.experiments.studies import memo
from inrdict.io.checkpoints import load_model, load_weights
from inrdict.models import FFN, ReluMLP, Siren, gaussian_frequencies

NTK_WIDTH = 256


def relu_row(seed: int) -> ReluMLP:
    """ReLU MLP 2 → 256 ×4 → 1 (SPEC §3)."""
    return ReluMLP(2, (NTK_WIDTH,) * 4, 1, key=init_key(seed, "relu"))


def siren_row(first_omega0: float, seed: int) -> Siren:
    """SIREN 2 → 256 ×4 → 1, "ntk" convention; the same weights for every `first_omega0` of a seed."""
    return Siren(2, (NTK_WIDTH,) * 4, 1, first_omega0=first_omega0, convention="ntk", key=init_key(seed, "siren"))


def ffn_row(sigma: float, seed: int, n_features: int = 256) -> FFN:
    """FFN with random Fourier features B = σ B₀ (T = `n_features`), hidden [256, 256, 256] → 1; B₀ and the MLP
    weights are shared by every σ of a seed."""
    B = gaussian_frequencies(init_key(seed, "ffn_frequencies"), n_features, 2, sigma)
    return FFN(B, (NTK_WIDTH,) * 3, 1, key=init_key(seed, "ffn"))


@dataclasses.dataclass(frozen=True)
class MetaRowFields:
    """The config fields of a figure's meta-learned rows (`meta_rows`), declared once: figures' configs extend it."""

    learned_meta: bool = True  # include the meta-learned row(s) (meta-learned first if not learned yet)
    meta_preset: Literal["paper", "default"] = "paper"  # which meta-learning preset's artefact to use
    meta_checkpoint: str | None = None  # use this checkpoint for the learned meta row(s) instead of the artefact
    meta_weights: str | None = None  # optional extra row: an inrdict checkpoint (.npz) or the authors' Haiku pickle


@dataclasses.dataclass(frozen=True)
class MetaRow:
    """A meta-learned initialisation and what it was learned on (its grid and face set), when known."""

    model: eqx.Module
    grid_size: int | None
    dataset: str | None
    source: str  # the artefact or file it came from


def load_meta_row(path: str | Path) -> MetaRow:
    """A meta-learned model from a checkpoint (its metadata says what it was learned on) or the authors' pickle
    (CelebA at 64², SPEC §8)."""
    path = Path(path)
    if path.suffix.lower() in (".pickle", ".pkl"):
        return MetaRow(load_weights(path), 64, "celeba", str(path))
    _, metadata = load_model(path)  # the metadata; the model on the unit grid comes from `load_weights`
    trained = metadata.get("config", {}) if isinstance(metadata, dict) else {}
    return MetaRow(load_weights(path), trained.get("grid_size"), trained.get("dataset"), str(path))


# The Reptile of Figs. 12 and 16: Nichol et al.'s (2018) interpolation θ ← θ + ε (W̄ − θ) with ε = 1 and k = 10 inner
# SGD steps. The paper gives no Reptile settings; `inrdict figure reptile` (the Reptile sweep) measured k ∈ {2, 5, 10,
# 32} × ε ∈ {0.1, 1}: the gain over random initialisation grows with k (+0.9 dB at k = 2, ε = 0.1, +2.2 at k = 10,
# ε = 1, +2.6 at k = 32, ε = 1; 100 outer steps), while Adam on θ − W̄ with k = 2 (used until 2026-12) lost 1.9 dB.
# k = 10 with 100 outer steps (the sweep's length; MAML's default runs 200) keeps the default `reproduce` within its
# budget: each Reptile step with k = 10 costs ~3x a MAML step with k = 2 on 2 CPU cores.
REPTILE = {"method": "reptile", "inner_steps": 10, "outer_optimizer": "gd", "outer_lr": 1.0, "steps": 100}


def meta_rows(config, *, progress: bool = True, label: str = "Meta SIREN", **overrides) -> dict[str, MetaRow]:
    """The meta-learned rows of a figure config with fields learned_meta, meta_preset, meta_checkpoint, meta_weights:
    `label` (this preset's artefact with `overrides`, or `meta_checkpoint` when given) and "Meta (<file stem>)" for
    `meta_weights` (an inrdict checkpoint or the authors' Haiku pickle)."""
    rows = {}
    if config.learned_meta:
        if config.meta_checkpoint:
            rows[label] = load_meta_row(config.meta_checkpoint)
        else:
            meta_config = _artefacts.producer_config("meta", config.meta_preset, seed=config.seed,
                                                     data_dir=config.data_dir, **overrides)  # fmt: skip
            location = _artefacts.resolve("meta", meta_config, progress=progress)
            rows[label] = MetaRow(load_weights(location / _artefacts.producer("meta").ARTEFACT), meta_config.grid_size,
                                  meta_config.dataset, str(location))  # fmt: skip
    if config.meta_weights is not None:
        rows[f"Meta ({Path(config.meta_weights).stem})"] = load_meta_row(config.meta_weights)
    return rows


def require_grid_fits(grid_size: int, options: lens.SpectrumOptions) -> None:
    """Refuse up front (one line) a grid whose NTK spectrum of the paper's SIREN 2 → 256 ×4 → 1 (the widest row)
    would not fit in memory, before faces are loaded or models learned (configs call it; grids up to 64² always fit)."""
    if grid_size <= 64:
        return
    lens.require_spectrum_memory(siren_row(30.0, 0), options.plan(grid_size**2))


def eigensystems(
    models: Mapping[str, object],
    points: np.ndarray,
    options: lens.SpectrumOptions,
    *,
    progress: bool = True,
) -> Iterator:
    """For each (label, model): `(index, label, spectrum, cached)`, its NTK `lens.Spectrum` on `points` as `options`
    say, through the on-disk cache (`memo.cached_ntk_spectrum`; `cached`: read from it): all eigenpairs on the
    dense route, the top k on the others. The route is planned once for all the models."""
    plan = options.plan(len(points))
    for index, (label, model) in enumerate(models.items()):
        if progress:
            print(f"  NTK of {label} ({index + 1}/{len(models)})", flush=True)
        spectrum, cached = memo.cached_ntk_spectrum(model, points, plan)
        yield index, label, spectrum, cached

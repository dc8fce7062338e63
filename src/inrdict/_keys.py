"""PRNG ids outside the model families: a key is `fold_in(key(seed), id)` (`init_key`). Each family's own id is in
its record (`inrdict.models.family.Family.prng_id`); the registry refuses an id that is taken here.

Keys come from `(seed, stable id)`, never from display text, so relabelling a row cannot change its weights or its
cache entries. Never renumber: results and cache entries depend on these values.
"""

from __future__ import annotations

import jax

PRNG_IDS: dict[str, int] = {
    # the paper's NTK rows (Figs. 4, 5, 10–16: ReLU and SIREN are their families' ids) and the fine-tuning mask
    "relu": 1, "siren": 2, "ffn": 3, "ffn_frequencies": 4, "pixel_mask": 5,
    # models built by a user's factory, the tones' phases, and where `inrdict suggest` puts its windows
    "factory": 108, "tone_phase": 109, "suggest_windows": 110,
}  # fmt: skip
ROW_FAMILIES = ("relu", "siren")  # the paper's rows whose ids are their families' (`inrdict.models.family`)


def fold_id(seed: int, prng_id: int):
    """`fold_in(key(seed), prng_id)`."""
    return jax.random.fold_in(jax.random.key(seed), prng_id)


def init_key(seed: int, name: str):
    """`fold_in(key(seed), PRNG_IDS[name])`: the key of `name` (a paper row, "pixel_mask", "tone_phase", ...)."""
    return fold_id(seed, PRNG_IDS[name])

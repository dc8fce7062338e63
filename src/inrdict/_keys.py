"""The one table of PRNG ids: a model's (or a mask's) initialisation key is `fold_in(key(seed), PRNG_IDS[name])`.

Keys come from `(seed, stable id)`, never from display text, so relabelling a row cannot change its weights or its
cache entries. Never renumber: results and cache entries depend on these values.
"""

from __future__ import annotations

import jax

PRNG_IDS: dict[str, int] = {
    # the paper's NTK rows (Figs. 4, 5, 10–16) and the fine-tuning mask
    "relu": 1, "siren": 2, "ffn": 3, "ffn_frequencies": 4, "pixel_mask": 5,
    # the other families of `analyse` and `families` (relu and siren share the rows' ids above)
    "family_ffn": 101, "gauss": 102, "wire": 103, "wire_real": 104, "finer": 105, "sinc": 106, "mfn": 107,
    "factory": 108, "tone_phase": 109,
    # `inrdict suggest`: where its windows lie
    "suggest_windows": 110,
}  # fmt: skip


def init_key(seed: int, name: str):
    """`fold_in(key(seed), PRNG_IDS[name])`: the key of `name` (a model row, "pixel_mask", "tone_phase", ...)."""
    return jax.random.fold_in(jax.random.key(seed), PRNG_IDS[name])


def model_key(name: str, seed: int):
    """The initialisation key of model `name` (a `inrdict.models.MODEL_NAMES` entry) for `seed`: ReLU and SIREN as
    the paper's rows, the FFN and the other families their own ids; every knob value of a model shares it (SPEC §10:
    sweep rows differ only in the knob)."""
    return init_key(seed, "family_ffn" if name == "ffn" else name)

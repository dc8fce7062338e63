"""The multiresolution hash encoding (Müller et al., SIGGRAPH 2022, "Instant-NGP") with its small MLP head, and its
registry record `hashgrid`: `inrdict.models.grid`'s levels, each fine level hashed into a table of T rows.

Defaults for images, from tiny-cuda-nn's image sample `data/config_hash.json` ("HashGrid": `n_levels` 16,
`n_features_per_level` 2, `log2_hashmap_size` 15, `base_resolution` 16, `per_level_scale` 1.5; "FullyFusedMLP": 64
neurons, 2 hidden layers, ReLU, no output activation; inputs in [0, 1]²): N_max = 16 · 1.5^15 ≈ 7006.4, so that the
levels' growth b of the paper's eq. 3 is the sample's 1.5 (finest level ⌊N_max⌋ = 7006). The paper's Table 1 gives the same L, F, N_min and the
ranges T ∈ [2^14, 2^24], N_max ∈ [512, 524288].
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models.family import SOURCE_TCNN_IMAGE, Family, Recipe, register
from inrdict.models.grid import MultigridINR

N_MAX_IMAGE = 16 * 1.5**15  # tiny-cuda-nn data/config_hash.json: base_resolution 16, per_level_scale 1.5, 16 levels


class HashGridINR(MultigridINR):
    """`MultigridINR` whose levels with more than T = 2^log2_table vertices are hashed (`inrdict.models.grid`).

    Args:
        in_features, hidden, out_features: sizes (coordinates in [0, 1]^d, d ≤ 3; head widths (64, 64)).
        levels, features, n_min, n_max: L, F, N_min, N_max, keyword-only.
        log2_table: log2 T, the rows of each hashed level's table, keyword-only.
        rotate: turn each level's coordinates (R-MHE), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    log2_table: int = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (64, 64), out_features: int = 1, *,
                 levels: int = 16, features: int = 2, n_min: int = 16, n_max: float = N_MAX_IMAGE,
                 log2_table: int = 15, rotate: bool = False, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        if (
            isinstance(log2_table, bool) or int(log2_table) != log2_table or not 1 <= int(log2_table) <= 30
        ):  # uint32 rows
            raise InrdictError(f"log2_table must lie in 1 … 30 (T = 2^log2_table rows), got {log2_table}")
        self.log2_table = int(log2_table)
        grid = (levels, features, n_min, n_max, 2**self.log2_table, rotate)
        self._build(in_features, hidden, out_features, grid, key, dtype)

    @property
    def hashed_levels(self) -> int:
        """How many levels are hashed (the finer ones)."""
        return sum(level.hashed for level in self.plan)

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"log2_table": self.log2_table}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> HashGridINR:
        h = hyperparameters
        return cls(int(h["in_features"]), tuple(h["hidden"]), int(h["out_features"]), levels=int(h["levels"]),
                   features=int(h["features"]), n_min=int(h["n_min"]), n_max=float(h["n_max"]),
                   log2_table=int(h["log2_table"]), rotate=bool(h["rotate"]), key=jax.random.key(0), dtype=dtype)  # fmt: skip


HASHGRID = register(Family(
    name="hashgrid", build=HashGridINR, classes=(HashGridINR,), prng_id=112, domain=(0.0, 1.0),
    domain_source="tiny-cuda-nn samples/mlp_learning_an_image.cu and instant-ngp image mode: coordinates in [0, 1]^2",
    reference="Müller, Evans, Schied & Keller, SIGGRAPH 2022 (code: NVlabs/tiny-cuda-nn, NVlabs/instant-ngp)",
    # the knob: the finest resolution (paper Sec. 3: N_max is set by the finest detail; `inrdict.analysis.suggest`)
    knob="n_max", knob_fields={"n_max": "n_max"},
    depth=2, hidden=(64, 64),  # paper Sec. 4: two hidden layers of 64
    recipes=(Recipe("hashgrid", "tcnn_image", 1e-2, 2000, SOURCE_TCNN_IMAGE, target_range=(0.0, 1.0),
                    domain=(0.0, 1.0), adam_b1=0.9, adam_b2=0.99, adam_eps=1e-15),),
))  # fmt: skip

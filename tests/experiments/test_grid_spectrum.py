"""The grid spectrum study (`experiments.beyond.grid_spectrum`) on a tiny setting: equal parameter counts, the
floored λ_min, one value per seed per claim."""

import numpy as np
import pytest

from inrdict.errors import InrdictError
from inrdict.experiments.beyond import grid_spectrum
from inrdict.io import data
from inrdict.models import count_parameters

pytestmark = pytest.mark.standard_promotion  # Optax's Adam


def test_the_three_models_have_about_the_multigrids_parameter_count():
    config = grid_spectrum.Config(levels=3, n_min=4, n_max=16.0)
    counts = {name: count_parameters(grid_spectrum.build(name, config, 0)) for name in grid_spectrum.MODELS}
    assert all(abs(count / counts["grid"] - 1.0) < 0.05 for count in counts.values()), counts


def test_the_floor_applies_to_the_relu_mlp_and_never_to_the_multigrid():
    """On 8²: the ReLU MLP's NTK is singular to round-off (its λ_min is the floor, a bound), the multigrid's is not."""
    config = grid_spectrum.Config(levels=3, n_min=4, n_max=16.0)
    points = data.ntk_grid(8)
    low, high, floored = grid_spectrum.spectrum_ends(grid_spectrum.build("relu", config, 0), points)
    assert floored and low == grid_spectrum.FLOOR * high
    low, high, floored = grid_spectrum.spectrum_ends(grid_spectrum.build("grid", config, 0), points)
    assert not floored and low > 1e-3 * high


def test_a_tiny_run_measures_every_claim_per_seed_and_bad_images_are_refused():
    config = grid_spectrum.Config(ntk_grid=8, levels=3, n_min=4, n_max=16.0, images=("camera",), image_size=16,
                                  steps=4, n_seeds=2)  # fmt: skip
    numbers, _ = grid_spectrum.compute(config, progress=False)
    values = grid_spectrum.claims(numbers, config)
    assert len(values) == 4 and all(len(v) == 2 and np.all(np.isfinite(v)) for v in values.values())
    rows = grid_spectrum.versus_paper(numbers, config)
    assert rows[0]["quantity"] == "λ_min, multigrid over MLP" and rows[0]["unit"].startswith("decades (≥")
    assert grid_spectrum.sanity(numbers, config) == {"grid_lambda_min_above_the_floor": True}
    with pytest.raises(InrdictError, match="unknown sample image 'lena'"):
        grid_spectrum.Config(images=("lena",))

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


def test_the_smallest_eigenvalue_is_floored_at_round_off():
    model = grid_spectrum.build("relu", grid_spectrum.Config(levels=3, n_min=4, n_max=16.0), 0)
    low, high = grid_spectrum.spectrum_ends(model, data.ntk_grid(8))
    assert high > 0 and grid_spectrum.FLOOR * high <= low <= high


def test_a_tiny_run_measures_every_claim_per_seed_and_bad_images_are_refused():
    config = grid_spectrum.Config(ntk_grid=8, levels=3, n_min=4, n_max=16.0, images=("camera",), image_size=16,
                                  steps=4, n_seeds=2)  # fmt: skip
    numbers, _ = grid_spectrum.compute(config, progress=False)
    values = grid_spectrum.claims(numbers, config)
    assert len(values) == 4 and all(len(v) == 2 and np.all(np.isfinite(v)) for v in values.values())
    assert [row["quantity"] for row in grid_spectrum.versus_paper(numbers, config)][0] == "λ_min, multigrid over MLP"
    with pytest.raises(InrdictError, match="unknown sample image 'lena'"):
        grid_spectrum.Config(images=("lena",))

import dataclasses
import math

import numpy as np
import pytest

from inrdict.errors import InrdictError
from inrdict.experiments.beyond import aliasing
from inrdict.experiments._run import run_experiment
from tests._claims import all_seeds_hold, satisfied_claims, seeds_hold

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam

# The paper's training (2000 steps, lr 1e-4), a few knob values around the crossovers, two seeds.
SMALL = dataclasses.replace(aliasing.DEFAULT, siren_omega0s=(30.0, 100.0, 400.0), ffn_sigmas=(10.0, 30.0, 100.0), n_seeds=2)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "aliasing"
    return out, run_experiment(aliasing, SMALL, out, progress=False)


def test_aliasing_sets_in_inside_both_ranges(finished):
    _, results = finished
    assert all(all_seeds_hold(results).values()), results["evidence"]
    families = results["numbers"]["families"]
    for n in families.values():
        assert n["knobs"][0] < n["crossover"] < n["knobs"][-1]
        assert n["alias_below_signal_db_mean"][0] > SMALL.threshold_db > n["alias_below_signal_db_mean"][-1]
        assert all(n["fits_training_samples"]), n
    assert 100.0 < families["siren"]["crossover"] < 400.0
    assert 10.0 < families["ffn"]["crossover"] < 100.0


def test_seeds_share_one_initialisation_across_knobs_and_outputs_are_complete(finished):
    out, results = finished
    with np.load(out / "arrays.npz") as arrays:
        levels = arrays["siren_alias_below_signal_db"]
        assert levels.shape == (3, 2) and np.all(np.isfinite(levels))
        mean = results["numbers"]["families"]["siren"]["alias_below_signal_db_mean"]
        np.testing.assert_allclose(levels.mean(axis=1), mean, rtol=1e-12)
    assert len(set(results["numbers"]["phases_rad"])) == 2  # each seed its own tone phase
    assert (out / "overview.pdf").stat().st_size > 0 and (out / "overview.png").stat().st_size > 0


def test_crossover_interpolates_on_a_log_axis_among_fitted_knobs():
    knobs = [10.0, 100.0, 1000.0]
    # 40 dB at 10, 20 dB at 100: the 30 dB crossing is halfway in log(knob), at sqrt(10 * 100).
    assert aliasing.crossover(knobs, [40.0, 20.0, 10.0], 30.0) == pytest.approx(math.sqrt(1000.0))
    assert aliasing.crossover(knobs, [20.0, 10.0, 5.0], 30.0) is None  # aliasing from the first knob on
    assert aliasing.crossover(knobs, [50.0, 40.0, 35.0], 30.0) is None  # no aliasing in range
    # A knob whose networks do not fit the samples is skipped: the crossing is then between 100 and 1000.
    assert aliasing.crossover(knobs, [20.0, 40.0, 20.0], 30.0, [False, True, True]) == pytest.approx(10**2.5)


def test_knob_values_must_increase():
    with pytest.raises(InrdictError, match="increasing"):
        dataclasses.replace(aliasing.DEFAULT, siren_omega0s=(100.0, 30.0))
    with pytest.raises(InrdictError, match="at least two"):
        dataclasses.replace(aliasing.DEFAULT, ffn_sigmas=(3.0,))

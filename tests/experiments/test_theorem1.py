"""Theorem 1 experiment: the claims hold on the default preset, fail on violating numbers, and the run folder is complete."""

import copy
import dataclasses

import numpy as np
import pytest

from inrdict.errors import InrdictError
from inrdict.experiments import check_contract
from inrdict.experiments.paper import theorem1
from inrdict.experiments._run import run_experiment
from tests._claims import all_seeds_hold, satisfied_claims, seeds_hold

pytestmark = pytest.mark.standard_promotion  # the SIREN of panel (d) is trained with Optax's Adam


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "theorem1"
    return out, run_experiment(theorem1, theorem1.DEFAULT, out, progress=False, preset="default")


def test_follows_the_experiment_contract():
    check_contract(theorem1)
    assert theorem1.PRESETS["default"] == theorem1.DEFAULT


def test_claims_and_sanity_hold_on_the_default_preset(finished):
    _, results = finished
    assert all(results["claims"].values()), results["evidence"]  # deterministic claims: they hold outright
    assert all(results["sanity"].values()), results["sanity"]
    numbers = results["numbers"]
    polynomial = [s for case in numbers["cases"] for s in case["shares"]["polynomial"]]
    assert len(polynomial) == len(theorem1.STANDARD_CASES) * theorem1.DEFAULT.seeds
    assert max(polynomial) <= 1e-20  # float64 rounding: ≈ 1e-30
    for control in ("one_extra_layer", "non_integer_omega"):
        assert min(s for case in numbers["cases"] for s in case["shares"][control]) > 1e-7
    # Ω = (1, 17): every lattice point is its own frequency, and generic weights fill them all.
    sparse = numbers["support_growth"][0]["rows"]
    assert [row["measured_support"] for row in sparse] == [5, 13, 41, 145]
    assert [row["highest_order"] for row in sparse] == [row["order"] for row in sparse] == [1, 2, 4, 8]
    for net in numbers["jacobi_anger"]:
        assert net["first_error"] > 1e-2 and net["min_error"] <= 1e-12
    siren = numbers["siren"]
    assert siren["bessel_relative_error"] < 1e-12 and siren["bessel_relative_error_model"] < 1e-10
    assert siren["train_psnr_db"] > 25.0


def test_run_folder_holds_results_arrays_and_figures(finished):
    out, results = finished
    for name in ("results.json", "arrays.npz", "overview.png", "overview.pdf"):
        assert (out / name).is_file(), name
    for stem in ("energy_outside", "support_growth", "jacobi_anger", "harmonics", "siren_fit"):
        assert (out / f"{stem}.png").is_file() and (out / f"{stem}.pdf").is_file(), stem
    with np.load(out / "arrays.npz") as arrays:
        predicted, measured = arrays["harmonics_predicted"], arrays["harmonics_measured"]
        assert predicted.shape == (theorem1.DEFAULT.max_harmonic + 1,)
        np.testing.assert_allclose(measured, predicted, rtol=0, atol=1e-12 * predicted.max())
        errors = arrays["ja_errors_0"]
        np.testing.assert_allclose(errors, results["numbers"]["jacobi_anger"][0]["errors"])
    rows = results["versus_paper"]
    assert rows and all(set(row) == {"quantity", "ours", "paper", "unit"} for row in rows)
    assert all(isinstance(label, str) and isinstance(text, str) for label, text in theorem1.summary(results["numbers"]))


@pytest.mark.parametrize(
    "claim, violate",
    [
        ("energy_outside_H_at_rounding_level", lambda n: n["cases"][0]["shares"]["polynomial"].__setitem__(0, 1e-10)),
        (
            "energy_outside_H_at_rounding_level",
            lambda n: n["support_growth"][1]["rows"][2].__setitem__("energy_outside", 1e-18),
        ),
        (
            "one_extra_layer_leaves_energy_outside",
            lambda n: n["cases"][3]["shares"]["one_extra_layer"].__setitem__(1, 1e-25),
        ),
        (
            "non_integer_omega_leaves_energy_outside",
            lambda n: n["cases"][1]["shares"]["non_integer_omega"].__setitem__(2, 0.0),
        ),
        ("tanh_leaves_energy_outside", lambda n: n["cases"][1]["shares"]["tanh"].__setitem__(0, 1e-30)),
        (
            "measured_support_within_lattice_count",
            lambda n: n["support_growth"][2]["rows"][1].__setitem__("measured_support", 26),
        ),
        (
            "measured_support_grows_with_depth",
            lambda n: n["support_growth"][0]["rows"][3].__setitem__("measured_support", 41),
        ),
        ("jacobi_anger_error_falls_to_1e-12", lambda n: n["jacobi_anger"][1]["errors"].__setitem__(-1, 1e-9)),
        (
            "bessel_prediction_matches_trained_siren_dft",
            lambda n: n["siren"].__setitem__("bessel_relative_error", 1e-6),
        ),
        (
            "bessel_prediction_matches_trained_siren_dft",
            lambda n: n["siren"].__setitem__("bessel_relative_error_model", 1e-6),
        ),
    ],
)
def test_claims_fail_on_violating_numbers(finished, claim, violate):
    _, results = finished
    numbers = copy.deepcopy(results["numbers"])
    violate(numbers)
    verdicts = satisfied_claims(theorem1, numbers, theorem1.DEFAULT)
    assert verdicts[claim] is False
    assert all(ok for name, ok in verdicts.items() if name != claim)


def test_tanh_control_is_only_claimed_for_small_orders(finished):
    _, results = finished
    numbers = copy.deepcopy(results["numbers"])
    unclaimed = [case for case in numbers["cases"] if not case["tanh_claimed"]]
    assert unclaimed and all(case["order"] > theorem1.TANH_MAX_ORDER for case in unclaimed)
    unclaimed[0]["shares"]["tanh"][0] = 1e-30  # a high-order tanh network may leak little: not a failure
    assert satisfied_claims(theorem1, numbers, theorem1.DEFAULT)["tanh_leaves_energy_outside"] is True


def test_lattice_sanity_check_catches_a_wrong_count(finished):
    _, results = finished
    numbers = copy.deepcopy(results["numbers"])
    numbers["lattice_checks"][5]["formula"] += 1
    assert not theorem1.sanity(numbers, theorem1.DEFAULT)["lattice_count_formula_equals_enumeration"]


def test_highest_order_present_reads_the_order_off_the_spectrum():
    Omega = np.array([[1.0], [9.0]])
    r = np.arange(64) / 64
    signal = 1.0 + np.sin(2 * np.pi * 1 * r) + 0.1 * np.cos(2 * np.pi * 7 * r)  # 7 = -2·1 + 1·9: ||s||₁ = 3
    assert theorem1.highest_order_present(signal, Omega, 3) == (3, 5)
    assert theorem1.highest_order_present(signal, Omega, 2)[0] == 3  # unreachable within order 2: order + 1


def test_config_is_validated():
    with pytest.raises(InrdictError, match="max_depth"):
        theorem1.Config(max_depth=1)
    with pytest.raises(InrdictError, match="seeds"):
        dataclasses.replace(theorem1.DEFAULT, seeds=0)
    assert theorem1.PAPER.cases == "extended" and theorem1.PAPER.max_depth > theorem1.DEFAULT.max_depth

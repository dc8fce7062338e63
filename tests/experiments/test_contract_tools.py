"""The tools and studies outside `reproduce` on tiny presets (analyse, families, predictors, the Reptile sweep,
suggest, the suggest validation, fit, the three grid studies): each runs from the command line, every claim it makes can fail, and the
findings page lists them. Apart from `test_contract.py`'s tiny reproduce, so that two test workers run both at once."""

import pytest

from inrdict import cli
from tests.experiments.test_contract import check_every_claim_can_fail, check_findings_page, tiny_presets  # noqa: F401

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam

TOOLS = {
    "analyse": (["analyse", "siren"], "analyse"),
    "families": (["figure", "families"], "families"),
    "predictors": (["figure", "predictors"], "family_predictors"),
    "reptile": (["figure", "reptile"], "reptile_sweep"),
    "suggest": (["suggest", "camera"], "suggest"),
    "regret": (["figure", "regret"], "suggest_validation"),
    "fit": (["fit", "camera"], "fit"),
    "grid_psf": (["figure", "grid_psf"], "grid_psf"),
    "grid_psf_training": (["figure", "grid_psf_training"], "grid_psf_training"),
    "grid_spectrum": (["figure", "grid_spectrum"], "grid_spectrum"),
}


def test_tools_outside_reproduce_run_and_every_claim_can_fail(tiny_presets, tmp_path):  # noqa: F811
    out = tmp_path / "figures"
    for command, folder in TOOLS.values():
        assert cli.main([*command, "--out", str(out / folder), "--no-progress"]) == 0, command
    check_every_claim_can_fail(out, list(TOOLS))
    check_findings_page(
        out,
        ["families", "predictors", "reptile", "regret", "grid_psf", "grid_psf_training", "grid_spectrum"],
        tmp_path / "findings.md",
    )

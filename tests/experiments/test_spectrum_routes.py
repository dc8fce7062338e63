"""Figures choose the dense or a top-k spectrum by grid size, record which, and agree where both apply."""

import dataclasses

import numpy as np
import pytest

from inrdict.analysis import eigenpairs, lens
from inrdict.experiments.paper import figure4, figure5

pytestmark = pytest.mark.standard_promotion  # Fig. 4 fine-tunes with Optax's Adam


def test_figure5_switches_to_the_matrix_free_route_above_the_threshold(monkeypatch):
    config = dataclasses.replace(figure5.DEFAULT, grid_size=12, siren_omegas=(5.0, 30.0), ffn_sigmas=(1.0,),
                                 n_eigenvectors=4, top_k=8, learned_meta=False)  # fmt: skip
    dense, _ = figure5.compute(config, progress=False)
    monkeypatch.setattr(eigenpairs, "DENSE_MAX_POINTS", 100)  # 144 points: above it
    free, _ = figure5.compute(config, progress=False)
    for label in dense["models"]:
        a, b = dense["models"][label], free["models"][label]
        assert a["route"] == "dense" and a["k"] == 144 and b["route"] in ("stored", "matrix_free") and b["k"] == 8
        assert b["max_residual"] <= 1e-4 and b["converged"]
        assert b["largest_eigenvalue"] == pytest.approx(a["largest_eigenvalue"], rel=1e-4)
        assert np.allclose(b["dominant_frequency"], a["dominant_frequency"])


def test_energy_curves_stop_at_the_last_known_eigenvalue(monkeypatch):
    monkeypatch.setattr(eigenpairs, "DENSE_MAX_POINTS", 10)
    config = dataclasses.replace(figure4.DEFAULT, grid_size=8, siren_omegas=(5.0, 40.0, 100.0), n_seeds=1,
                                 iterations=3, learned_meta=False, top_k=6)  # fmt: skip
    numbers, arrays = figure4.compute(config, progress=False)
    for label, m in numbers["models"].items():
        assert m["spectrum_route"] in ("stored", "matrix_free") and m["eigenpairs"] == 6
        ratios = arrays[f"{m['array_prefix']}_normalised_eigenvalues"]
        assert ratios.size == 6 and m["energy_curve_stops_at"] == pytest.approx(ratios[-1])
        known = np.isfinite(arrays[f"{m['array_prefix']}_energy_at_thresholds"])
        assert np.array_equal(known, lens.THRESHOLDS >= ratios[-1])  # E(t) only where it is exact
        # E(0.1) is reported only when the top k reach below 0.1 λ₀; otherwise it is unknown (NaN), not a guess.
        assert np.isnan(m["energy_at_0.1"]) == (ratios[-1] >= 0.1)

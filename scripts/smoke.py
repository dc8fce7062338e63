"""A smoke test for an install (the lowest supported versions in `.ci/run`): every module imports, the structured
NTK equals the `jacrev` oracle, a short fit lowers the loss, and the lens gives a spectrum and E(λ)."""

import importlib
import pkgutil

import jax
import numpy as np

import inrdict
from inrdict import lens
from inrdict.io.data import fit_grid, ntk_grid

for module in pkgutil.walk_packages(inrdict.__path__, "inrdict."):
    if "pytorch" not in module.name and not module.name.endswith("__main__"):
        importlib.import_module(module.name)

siren = inrdict.Siren(2, (32, 32), 1, first_omega0=30.0, convention="ntk", key=jax.random.key(0))
points = ntk_grid(8)
structured = np.asarray(inrdict.empirical_ntk(siren, points))
oracle = np.asarray(inrdict.empirical_ntk(siren, points, method="jacobian"))
error = np.abs(structured - oracle).max() / np.abs(oracle).max()
assert error < 1e-5, error

coords = fit_grid(16)
targets = np.sin(3 * coords[:, :1]) * np.cos(2 * coords[:, 1:])
result = inrdict.fit(siren, coords, targets, steps=50, learning_rate=1e-3, monitor=inrdict.Monitor(every=50))
assert result.final_eval_psnr_db > 10.0, result.final_eval_psnr_db

spectrum = lens.ntk_spectrum(siren, points)
energy = lens.energy_concentration(spectrum, np.random.default_rng(0).uniform(size=(3, 8, 8)))
assert 0.0 <= float(np.mean(energy.at_01)) <= 1.0
print(f"smoke test passed: jax {jax.__version__}, NTK vs oracle {error:.1e}, fit {result.final_eval_psnr_db:.1f} dB")

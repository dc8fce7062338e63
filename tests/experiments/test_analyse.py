"""`inrdict analyse MODEL`: model names with knobs, a user's own module (package.module:factory), checkpoints, the
matrix-free route, and one-line errors for bad specs. Runs are shrunk to seconds (`SMALL`)."""

import dataclasses
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from inrdict import cli
from inrdict.analysis import lens
from inrdict.io.datasets import held_out_faces
from inrdict.errors import InrdictError
from inrdict.experiments import analyse
from inrdict.experiments._run import run_experiment
from inrdict.experiments.studies.specs import face_study, resolve_model, study_of
from inrdict.io.checkpoints import save_model
from inrdict.models import make_model
from tests.conftest import load_npz

pytestmark = pytest.mark.standard_promotion  # fitting and fine-tuning run Optax's Adam

SMALL = dict(grid_size=10, n_test=4, iterations=3, n_eigenvectors=4, alias_hidden=(32, 32), alias_steps=500,
             fit_size=12, fit_steps=5)  # fmt: skip
REPO = Path(__file__).resolve().parents[2]


def _sets(**changes) -> list[str]:
    return [item for name, value in (SMALL | changes).items()
            for item in ("--set", f"{name}={','.join(map(str, value)) if isinstance(value, tuple) else value}")]  # fmt: skip


def _run_cli(tmp_path, model, *extra) -> dict:
    out = tmp_path / "run"
    assert cli.main(["analyse", model, "--out", str(out), "--no-progress", *extra]) == 0
    assert (out / "overview.png").is_file() and (out / "overview.pdf").is_file()
    return json.loads((out / "results.json").read_text())


def _check_numbers(results: dict) -> None:
    numbers, grid = results["numbers"], results["config"]["grid_size"]
    spectrum, faces = numbers["spectrum"], numbers["faces"]
    assert spectrum["eigenpairs"] == grid**2 and spectrum["route"] == "dense"
    assert 1 <= spectrum["eigenvalues_within_10pct"] <= grid**2
    assert 0.0 <= faces["energy_at_0.1"] <= 1.0 and np.isfinite(faces["psnr_at_k"])
    assert len(numbers["eigenvectors"]["dominant_frequency"]) == results["config"]["n_eigenvectors"]
    assert np.isfinite(numbers["fit"]["psnr_db"]) and results["sanity"]["full_basis_captures_all_energy"]
    assert numbers["fit"]["protocol"] in ("figure2", "recipe")  # which astronaut fit the numbers come from


def test_analyse_siren_through_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default folder is figures/analyse_siren under the current directory
    assert cli.main(["analyse", "siren", "--no-progress", "--seed", "1", *_sets(hidden=(16, 16))]) == 0
    results = json.loads((tmp_path / "figures" / "analyse_siren" / "results.json").read_text())
    _check_numbers(results)
    model = results["numbers"]["model"]
    assert model["family"] == "siren" and model["knobs"] == {} and model["hidden"] == [16, 16]
    assert results["seed"] == 1 and results["experiment"] == "analyse"
    # The 1-D SIREN-30 fits the tone and does not alias (Fig. 3's ω0 = 30 case).
    aliasing = results["numbers"]["aliasing"]
    assert aliasing["fits_training_samples"] and aliasing["alias_below_signal_db"] > 30.0
    arrays = load_npz(tmp_path / "figures" / "analyse_siren" / "arrays.npz")
    assert arrays["eigenvectors"].shape == (4, 10, 10) and np.isclose(arrays["subspace_radial_power"].sum(), 1.0)
    assert np.all(np.diff(arrays["normalised_eigenvalues"]) <= 1e-12)


def test_analyse_wire_with_omega0(tmp_path):
    results = _run_cli(tmp_path, "wire", *_sets(omega0=20, hidden=(12, 12)))
    _check_numbers(results)
    model = results["numbers"]["model"]
    assert model["class"] == "ComplexWire" and model["knobs"] == {"omega0": 20.0}
    assert model["label"].startswith("wire (omega0=20")


def test_analyse_a_user_module_in_process_and_through_the_cli(tmp_path):
    spec = "tests.user_model:build"
    config = dataclasses.replace(analyse.DEFAULT, model=spec, **SMALL)
    results = run_experiment(analyse, config, tmp_path / "in_process", progress=False)
    _check_numbers(results)
    assert results["numbers"]["model"]["kind"] == "factory" and "skipped" not in results["numbers"]["aliasing"]
    # The console script runs with its own folder first on sys.path: the current directory must be searched too.
    script = Path(sys.executable).with_name("inrdict")
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([str(script), "analyse", spec, "--out", str(tmp_path / "cli"), "--no-progress", *_sets()],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    by_cli = json.loads((tmp_path / "cli" / "results.json").read_text())["numbers"]
    assert by_cli["faces"]["energy_at_0.1"] == pytest.approx(results["numbers"]["faces"]["energy_at_0.1"], abs=1e-6)


def test_the_library_lens_equals_the_figures_cached_study():
    """`lens.analyse` from Python, uncached (as for a user's module), gives the numbers of the figures' cached study."""
    config = dataclasses.replace(analyse.DEFAULT, **SMALL)
    study = study_of(config, dataset="lfw")
    model = make_model("siren", 2, (16, 16), 1, key=jax.random.key(3))
    cached, _ = face_study({"m": model}, study, progress=False)
    protocol = lens.Protocol("adam", config.random_lr, config.iterations, config.psnr_iteration)
    _, faces = held_out_faces("lfw", config.grid_size, None, config.seed, config.n_test)
    options = lens.AnalyseOptions(grid=config.grid_size, protocol=protocol, fit_steps=0, signals_name="lfw")
    report = lens.analyse(model, faces, options=options)
    direct = report.numbers["faces"]
    for quantity in ("energy_at_0.1", "psnr_at_k", "eigenvalues_within_10pct"):
        assert direct[quantity] == pytest.approx(cached["models"]["m"][quantity], rel=1e-5), quantity
    assert report.numbers["aliasing"]["skipped"] and report.numbers["fit"]["skipped"]


def test_checkpoint_and_matrix_free_route(tmp_path):
    model = make_model("gauss", 2, (16, 16), 1, key=jax.random.key(4), scale=5.0)
    path = save_model(tmp_path / "gauss.npz", model)
    dense = run_experiment(analyse, dataclasses.replace(analyse.DEFAULT, model=str(path), **SMALL), tmp_path / "dense",
                           progress=False)  # fmt: skip
    assert dense["numbers"]["model"]["kind"] == "checkpoint" and dense["numbers"]["model"]["knobs"]["scale"] == 5.0
    assert analyse.out_name(dataclasses.replace(analyse.DEFAULT, model=str(path))) == "analyse_gauss"
    topk = run_experiment(analyse, dataclasses.replace(analyse.DEFAULT, model=str(path), spectrum="matrix_free",
                                                      top_k=12, **SMALL), tmp_path / "topk", progress=False)  # fmt: skip
    spectrum = topk["numbers"]["spectrum"]
    assert spectrum["route"] == "matrix_free" and spectrum["eigenpairs"] == 12
    assert spectrum["energy_curve_stops_at"] > 0 and "curve stops there" in spectrum["note"]
    a, b = (load_npz(tmp_path / name / "arrays.npz")["normalised_eigenvalues"] for name in ("dense", "topk"))
    assert np.allclose(a[:12], b, rtol=1e-3, atol=1e-4)
    thresholds, energy = (load_npz(tmp_path / "topk" / "arrays.npz")[k] for k in ("energy_thresholds", "energy_at_thresholds"))
    assert np.all(np.isnan(energy[thresholds < spectrum["energy_curve_stops_at"]]))


BAD_SPECS = {
    "sirne": "neither a model name",
    "missing_weights.npz": "neither a model name",
    "no_such_package.module:build": "cannot import 'no_such_package.module'",
    "tests.user_model:nothing": "has no callable 'nothing'",
    "tests.user_model:build_two_outputs": "output shape (1,)",
    "tests.user_model:build_not_a_module": "not an Equinox module",
    "tests.user_model:build_failing": "build_failing() failed: ",
}


@pytest.mark.parametrize("spec", list(BAD_SPECS))
def test_bad_specs_give_one_line(spec, tmp_path, capsys):
    assert cli.main(["analyse", spec, "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("inrdict: error: ") and BAD_SPECS[spec] in err, err
    assert not (tmp_path / "x").exists()


def test_knobs_that_do_not_apply_are_refused_and_factories_without_in_features_skip_aliasing(capsys):
    assert cli.main(["analyse", "gauss", "--set", "omega0=3", "--no-progress"]) == 2
    assert "omega0 does not apply to gauss; its settings: scale" in capsys.readouterr().err
    with pytest.raises(InrdictError, match="set the knobs of a model name"):
        analyse.compute(dataclasses.replace(analyse.DEFAULT, model="tests.user_model:build", scale=1.0), progress=False)
    resolved = resolve_model("tests.user_model:build_without_in_features", analyse.DEFAULT, hidden_1d=(8,))
    assert resolved.one_d is None and "takes no in_features" in resolved.one_d_missing
    assert analyse.out_name(dataclasses.replace(analyse.DEFAULT, model="tests.user_model:build")) == "analyse_tests.user_model_build"


def test_a_factory_without_a_key_is_called_without_one(tmp_path):
    """`def build(): ...` (no `key` parameter) is called as `build()`, not `build(key=...)`."""
    resolved = resolve_model("tests.user_model:build_without_key", analyse.DEFAULT, hidden_1d=(8,))
    assert resolved.kind == "factory" and resolved.one_d is None
    results = run_experiment(analyse, dataclasses.replace(analyse.DEFAULT, model="tests.user_model:build_without_key",
                                                          **SMALL), tmp_path / "run", progress=False)  # fmt: skip
    assert results["numbers"]["model"]["class"] == "TanhINR" and "skipped" in results["numbers"]["aliasing"]


def test_analyse_1d_signals_and_volumes(tmp_path):
    """`analyse --signal`: a .npy of shape (n,), a .wav and a (d, h, w) volume get a model with 1 / 3 input
    coordinates, the NTK on the signal's own grid and atoms of its shape. The science: a smooth signal (a 3-cycle
    tone; a sphere's distance field) has more energy on the top atoms (E(0.1)) than white noise on the same grid."""
    import scipy.io.wavfile

    rng = np.random.default_rng(0)
    r = np.arange(512) / 512
    np.save(tmp_path / "tone.npy", np.sin(2 * np.pi * 3 * r))
    np.save(tmp_path / "noise.npy", rng.standard_normal(512))
    axis = np.linspace(-1, 1, 24)
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij")
    np.save(tmp_path / "sphere.npy", np.sqrt(x**2 + y**2 + z**2) - 0.5)
    np.save(tmp_path / "noise3d.npy", rng.standard_normal((24, 24, 24)))
    scipy.io.wavfile.write(tmp_path / "tone.wav", 8000, (8000 * np.sin(2 * np.pi * 3 * r)).astype(np.int16))
    energy, runs = {}, {}
    for name, size in (("tone.npy", 512), ("noise.npy", 512), ("tone.wav", 512), ("sphere.npy", 8),
                       ("noise3d.npy", 8)):  # fmt: skip
        out = tmp_path / name.replace(".", "_")
        assert cli.main(["analyse", "siren", "--signal", str(tmp_path / name), "--out", str(out), "--no-progress",
                         *_sets(hidden=(16, 16), signal_size=size, fit_steps=1)]) == 0  # fmt: skip
        numbers = json.loads((out / "results.json").read_text())["numbers"]
        arrays = load_npz(out / "arrays.npz")
        dims = 3 if "3d" in name or "sphere" in name else 1
        assert numbers["signal"]["dimensions"] == dims and numbers["spectrum"]["grid_shape"] == [size] * dims
        assert arrays["eigenvectors"].shape == (4, *[size] * dims) and arrays["signal"].shape == (size,) * dims
        assert numbers["spectrum"]["route"] == "dense" and "skipped" in numbers["fit"]  # the astronaut is 2-D
        assert 0.0 <= arrays["signal"].min() and arrays["signal"].max() <= 1.0  # min-max scaled, as PSNR assumes
        energy[name], runs[name] = numbers["faces"]["energy_at_0.1"], numbers
    assert energy["tone.npy"] > energy["noise.npy"] + 0.3, energy
    assert energy["sphere.npy"] > energy["noise3d.npy"] + 0.3, energy
    assert abs(energy["tone.wav"] - energy["tone.npy"]) < 1e-3  # the same tone, read from a WAV
    assert runs["sphere.npy"]["model"]["class"] == "Siren"
    assert runs["sphere.npy"]["signal"]["original_shape"] == [24] * 3


def test_a_signal_of_the_wrong_dimension_is_refused(tmp_path):
    np.save(tmp_path / "tone.npy", np.sin(np.arange(64) / 3))
    path = save_model(tmp_path / "siren2d.npz", make_model("siren", 2, (8,), 1, key=jax.random.key(0)))
    assert cli.main(["analyse", str(path), "--signal", str(tmp_path / "tone.npy"), "--no-progress",
                     "--out", str(tmp_path / "x")]) == 2  # fmt: skip
    np.save(tmp_path / "flat.npy", np.zeros(64))
    assert cli.main(["analyse", "siren", "--signal", str(tmp_path / "flat.npy"), "--no-progress",
                     "--out", str(tmp_path / "y")]) == 2  # fmt: skip
    np.save(tmp_path / "4d.npy", np.zeros((4, 4, 4, 4)))
    assert cli.main(["analyse", "siren", "--signal", str(tmp_path / "4d.npy"), "--no-progress",
                     "--out", str(tmp_path / "z")]) == 2  # fmt: skip
    assert not any((tmp_path / name).exists() for name in "xyz")


def test_a_grid_too_large_for_memory_is_refused_before_any_data(tmp_path, capsys, monkeypatch):
    """A 2048² grid needs ~48 GiB of layer features and Krylov vectors: one line, before faces are loaded."""
    monkeypatch.setattr(analyse, "held_out_faces", lambda *a, **k: pytest.fail("faces loaded before the check"))
    assert cli.main(["analyse", "siren", "--set", "grid_size=2048", "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    error = capsys.readouterr().err.strip()
    assert re.fullmatch(r"inrdict: error: the matrix-free NTK spectrum of 4194304 points needs about [\d.]+ GiB but "
                        r"[\d.]+ GiB are available: choose a smaller --set grid_size", error), error  # fmt: skip
    assert not (tmp_path / "x").exists()

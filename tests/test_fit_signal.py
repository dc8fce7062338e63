"""`inrdict fit` / `lens.fit`: a family trained on a signal at its own resolution as its authors train it — units do
not matter, the held-out PSNR is measured on samples never trained on, the checkpoint reproduces the
reconstruction, and bad requests are refused in one line."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from inrdict.analysis import fitting
from inrdict.analysis.suggest import SHIFT_OCTAVES
from inrdict.cli import main
from inrdict.errors import InrdictError
from inrdict.io.checkpoints import load_model
from inrdict.train.fit import predict
from inrdict.train.recipes import recipe

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam
SMALL = fitting.FitOptions(steps=150, learning_rate=1e-3, hidden=(24, 24), progress=False)


def _smooth(shape=(24, 40)) -> np.ndarray:
    rows, cols = np.meshgrid(*(np.arange(n) / max(shape) for n in shape), indexing="ij")
    return 0.5 + 0.3 * np.sin(2 * np.pi * 1.5 * rows) * np.cos(2 * np.pi * 1.0 * cols)


def test_fit_learns_the_held_out_samples_at_the_signals_own_shape():
    fitted = fitting.fit("siren", _smooth(), SMALL)
    assert fitted.signal.shape == (24, 40) and fitted.reconstruction.shape == (24, 40)
    assert fitted.train_mask.sum() == 480 and fitted.run == recipe("siren")  # half of 960 samples held out
    assert (
        fitted.steps[0] == 0
        and fitted.steps[-1] == 150
        and fitted.held_out_psnr_db[0] == fitted.initial_held_out_psnr_db
    )
    assert fitted.final_held_out_psnr_db > fitted.initial_held_out_psnr_db + 10.0, fitted.held_out_psnr_db
    held_out = ~fitted.train_mask.reshape(24, 40)
    error = np.mean((fitted.reconstruction[held_out] - _smooth()[held_out]) ** 2) / np.ptp(_smooth()) ** 2
    np.testing.assert_allclose(-10 * np.log10(error), fitted.final_held_out_psnr_db, atol=0.05)  # the same PSNR


def test_fit_does_not_depend_on_the_signals_units():
    """a·x + b is the same signal to fit: the reconstruction is a·r + b, the PSNR (peak = the range) the same."""
    base = fitting.fit("ffn", _smooth(), SMALL)
    scaled = fitting.fit("ffn", 1000.0 * _smooth() + 236.0, SMALL)
    np.testing.assert_allclose(scaled.reconstruction, 1000.0 * base.reconstruction + 236.0, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(scaled.held_out_psnr_db, base.held_out_psnr_db, atol=1e-3)


def test_fit_from_the_command_line_writes_a_checkpoint_that_reproduces_the_reconstruction(tmp_path, capsys):
    r = np.arange(200) / 200
    np.save(tmp_path / "wave.npy", 3.0 + 2.0 * np.sin(2 * np.pi * 4 * r))  # a 1-D signal in its own units
    out = tmp_path / "run"
    args = ["fit", str(tmp_path / "wave.npy"), "--family", "ffn", "--knob", "3", "--out", str(out), "--no-progress",
            "--set", "steps=60", "--set", "hidden=16,16"]  # fmt: skip
    assert main(args) == 0
    assert "held-out PSNR" in capsys.readouterr().out
    numbers = json.loads((out / "results.json").read_text())["numbers"]
    assert numbers["value"] == 3.0 and numbers["fitted_shape"] == [200] and numbers["n_train"] == 100
    model, meta = load_model(out / "model.npz")
    output = predict(model, fitting.grid((200,)))[:, 0]
    low, high = numbers["value_range"]
    t0, t1 = recipe("ffn").target_range
    np.testing.assert_allclose(low + (high - low) * (output - t0) / (t1 - t0), np.load(out / "reconstruction.npy"),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    assert meta["fitted_shape"] == [200] and (out / "overview.png").exists()


def test_fit_with_the_suggested_knob(tmp_path, monkeypatch):
    """fit trains at the suggestion: the argmax calibrated (here by a shift of one octave down)."""
    monkeypatch.setitem(SHIFT_OCTAVES, ("siren", 2), -1.0)
    image = tmp_path / "smooth.npy"
    np.save(image, _smooth((32, 32)))
    out = tmp_path / "run"
    assert main(["fit", str(image), "--family", "siren", "--suggest", "--out", str(out), "--no-progress",
                 "--set", "steps=20", "--set", "hidden=8,8"]) == 0  # fmt: skip
    numbers = json.loads((out / "results.json").read_text())["numbers"]
    suggestion = numbers["suggestion"]
    assert suggestion["argmax"] == suggestion["values"][int(np.argmax(suggestion["predicted_held_out_psnr_db"]))]
    assert numbers["suggested"] and numbers["value"] == suggestion["value"]
    assert suggestion["value"] == pytest.approx(suggestion["argmax"] / 2, rel=0.01)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--family", "relu", "--knob", "3"], "relu has no frequency knob: leave out --knob and --suggest"),
        (["--set", "held_out=1.5"], r"held_out must lie in \(0, 1\)"),
        (["--set", "recipe=nonsense"], "siren has no recipe 'nonsense': choose one of vsitzmann, finer_baseline"),
        (["--knob", "-2"], "config field knob must be a positive number, got -2.0"),
    ],
)
def test_bad_fit_requests_are_refused_in_one_line(tmp_path, capsys, extra, message):
    np.save(tmp_path / "s.npy", _smooth())
    assert main(["fit", str(tmp_path / "s.npy"), "--out", str(tmp_path / "run"), "--no-progress",
                 "--set", "steps=2", "--set", "hidden=4,4", *extra]) == 2  # fmt: skip
    error = capsys.readouterr().err.strip()
    assert error.startswith("inrdict: error:") and "\n" not in error
    assert re.search(message, error), error
    assert not (tmp_path / "run").exists()


def test_knob_and_suggest_are_exclusive(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "camera", "--knob", "3", "--suggest"])
    assert exit_.value.code == 2


def test_a_constant_signal_has_nothing_to_fit():
    with pytest.raises(InrdictError, match="the signal is constant"):
        fitting.fit("siren", np.full((8, 8), 4.0), SMALL)


@pytest.mark.parametrize("family", ["siren", "ffn", "gauss", "wire", "wire_real", "finer", "sinc", "mfn", "relu"])
def test_every_family_fits_with_its_recipe(family):
    """Each family's reference run on a volume of its own shape: the recipe's steps and schedule run, the
    held-out PSNR is finite, the reconstruction has the volume's shape."""
    rng = np.random.default_rng(0)
    volume = 5.0 + rng.standard_normal((6, 8, 7))
    fitted = fitting.fit(family, volume, fitting.FitOptions(steps=3, hidden=(8, 8), progress=False))
    assert fitted.reconstruction.shape == (6, 8, 7) and np.all(np.isfinite(fitted.held_out_psnr_db))
    assert fitted.run == recipe(family) and fitted.steps[-1] == 3

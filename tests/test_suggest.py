"""`inrdict suggest`: the knob predicted from the NTK at initialisation follows the signal's scale, the closed-form
linearised prediction matches the stepwise one, and bad signals are refused in one line."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from inrdict.analysis import fitting
from inrdict.analysis import suggest as suggest_module
from inrdict.analysis.suggest import (
    REFERENCE_SIZE,
    SuggestOptions,
    calibrated,
    coarse_indices,
    default_values,
    knob_of,
    lattice_centre,
    suggest,
    windows_of,
)
from inrdict.analysis.learnability import pixel_mask
from inrdict.cli import main
from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.train.finetune import linearised_gd, linearised_gd_psnr_db
from inrdict.train.recipes import recipe

SMALL = SuggestOptions(size=32, window=16, windows=2, hidden=(16, 16), steps=300)


def _options(**changes) -> SuggestOptions:
    return dataclasses.replace(SMALL, **changes)


def _pattern(cycles: float, size: int = 32) -> np.ndarray:
    r = np.arange(size) / size
    return 0.5 + 0.25 * np.sin(2 * np.pi * cycles * r)[:, None] * np.cos(2 * np.pi * cycles * r)[None, :]


def test_finer_signals_get_higher_frequency_knobs():
    values = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
    smooth = suggest("siren", _pattern(1.0), _options(values=values))
    fine = suggest("siren", _pattern(7.0), _options(values=values))
    assert smooth.knob == "first_omega0" and smooth.scores.shape == (7, 2)
    assert fine.argmax > smooth.argmax, (smooth.mean_scores, fine.mean_scores)


def test_the_closed_form_prediction_is_the_stepwise_one():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 40))
    kernel = a @ a.T
    initial, images, mask = rng.standard_normal(40), rng.standard_normal((3, 40)), pixel_mask(40, 0)
    train, test = linearised_gd_psnr_db(kernel, initial, images, mask, iterations=7, learning_rate=0.01)
    train_at, test_at = linearised_gd(kernel, initial, images, mask, 0.01)(7)
    np.testing.assert_allclose(train_at, train[:, -1])
    np.testing.assert_allclose(test_at, test[:, -1])
    top = np.linalg.eigvalsh(kernel[np.ix_(mask, mask)])[-1]
    default = linearised_gd(kernel, initial, images, mask)(5)  # η = n_train / 2λ_max
    np.testing.assert_allclose(default[1], linearised_gd(kernel, initial, images, mask, mask.sum() / (2 * top))(5)[1])


def test_1d_signals_with_finer_oscillations_get_higher_frequency_knobs():
    r = np.arange(256) / 256
    small = _options(size=256, window=64, values=(4.0, 16.0, 64.0, 256.0, 1024.0))
    smooth = suggest("siren", 0.5 + 0.3 * np.sin(2 * np.pi * 2 * r), small)
    fine = suggest("siren", 0.5 + 0.3 * np.sin(2 * np.pi * 30 * r), small)
    assert smooth.scores.shape == (5, 2) and fine.argmax > smooth.argmax, (smooth.mean_scores, fine.mean_scores)


def test_volumes_with_finer_oscillations_get_higher_frequency_knobs():
    """A (d, h, w) volume: the NTK on 10³ windows of a 16³ grid; a 1-cycle pattern gets a higher ω0 than a
    half-cycle one (measured with SIREN's reference network on [-1, 1]³: 16 vs 8, each ≥ 4 dB ahead of the other's
    choice; finer patterns are predicted within a few dB by every ω0, too fine to score at 16³)."""
    r = np.arange(16) / 16

    def volume(cycles: float) -> np.ndarray:
        wave = np.sin(2 * np.pi * cycles * r)
        return 0.5 + 0.25 * wave[:, None, None] * wave[None, :, None] * np.cos(2 * np.pi * cycles * r)[None, None, :]

    small = _options(size=16, window=10, values=(4.0, 8.0, 16.0, 32.0, 64.0))
    smooth, fine = (suggest("siren", volume(c), small) for c in (0.5, 1.0))
    assert smooth.scores.shape == (5, 2) and fine.argmax > smooth.argmax, (smooth.mean_scores, fine.mean_scores)


def test_the_coarse_to_fine_search_scores_every_octave_and_the_best_ones_neighbours():
    found = suggest("siren", _pattern(3.0), SMALL)
    candidates = default_values("siren", 32)
    assert np.array_equal(found.candidates, candidates) and np.all(np.isin(found.values, candidates))
    assert set(candidates[coarse_indices(17)]) <= set(found.values) and len(found.values) in (10, 11)
    best = int(np.searchsorted(candidates, found.argmax))
    assert {candidates[i] for i in (best - 1, best + 1) if 0 <= i < 17} <= set(found.values)
    assert found.argmax == found.values[np.argmax(found.mean_scores)]


def test_the_suggestion_is_the_argmax_calibrated_by_family_and_dimension(monkeypatch):
    """suggestion = argmax × 2^c with c = SHIFT_OCTAVES[(family, dim)]: only that family, only that dimension."""
    monkeypatch.setattr(suggest_module, "SHIFT_OCTAVES", {})
    plain = suggest("siren", _pattern(3.0), SMALL)
    assert plain.value == plain.argmax  # no calibration: the argmax
    monkeypatch.setattr(suggest_module, "SHIFT_OCTAVES", {("siren", 2): -1.5})
    shifted = suggest("siren", _pattern(3.0), SMALL)
    index = int(np.searchsorted(plain.candidates, plain.argmax))
    assert shifted.argmax == plain.argmax and shifted.value == pytest.approx(plain.argmax * 2**-1.5, rel=0.01)
    assert index < 3 or shifted.value == plain.candidates[index - 3]  # three half-octaves down the lattice
    assert calibrated("siren", 1, 30.0) == 30.0 and calibrated("ffn", 2, 30.0) == 30.0
    assert calibrated("siren", 2, 30.0) == 10.6  # 3 significant digits, as the lattice


def test_grid_windows_and_knobs():
    assert knob_of("ffn") == "sigma" and knob_of("gauss") == "scale"
    values = default_values("siren")  # at 128 samples: the reference ω0 = 30 × 2^(-4 … 4)
    assert values.size == 17 and values[8] == 30.0 and values[0] == 1.88 and values[-1] == 480.0
    assert default_values("siren", 512)[8] == 120.0 and default_values("ffn", 64)[8] == 5.0  # × n / 128 for images
    assert REFERENCE_SIZE == {1: 1024, 2: 128, 3: 128}  # 1-D: from the design series (the module docstring)
    for dim in (1, 2, 3):
        centre = 30.0 * 512 / REFERENCE_SIZE[dim]
        assert lattice_centre("siren", 512, dim) == pytest.approx(centre)
        assert default_values("siren", 512, dim=dim)[8] == float(f"{centre:.3g}") and default_values("siren", dim=dim)[8] == 30.0
    assert default_values("wire")[8] == 4.0 and default_values("wire", run="sisr")[8] == 8.0  # the recipe's knob
    assert coarse_indices(17) == [0, 2, 4, 6, 8, 10, 12, 14, 16] and coarse_indices(4) == [0, 2, 3]
    assert windows_of((64, 64), 32, 3, 0) == windows_of((64, 64), 32, 3, 0) and windows_of((64, 64), 32, 3, 0)[0] == (16, 16)
    assert all(0 <= r <= 32 and 0 <= c <= 32 for r, c in windows_of((64, 64), 32, 8, 1))
    assert all(0 <= r <= 8 and 0 <= c <= 68 for r, c in windows_of((40, 100), 32, 8, 1))  # aspect ratio kept
    assert windows_of((1024,), 256, 2, 0)[0] == (384,) and len(windows_of((1024,), 256, 2, 0)[1]) == 1


def test_1d_signals_load_from_npy_and_wav(tmp_path):
    import scipy.io.wavfile

    samples = (np.sin(np.linspace(0, 20, 500)) * 32767).astype(np.int16)
    scipy.io.wavfile.write(tmp_path / "tone.wav", 8000, np.stack([samples, samples], axis=1))  # stereo
    name, signal = data.load_signal(str(tmp_path / "tone.wav"))
    assert name == "tone" and signal.shape == (500,)
    np.testing.assert_allclose(signal, (samples / 32768 + 1) / 2)
    np.save(tmp_path / "ramp.npy", np.linspace(-3, 3, 100))
    assert data.load_signal(str(tmp_path / "ramp.npy"))[1].shape == (100,)
    (tmp_path / "bad.wav").write_bytes(b"RIFF....not a wav")
    with pytest.raises(InrdictError, match="cannot read .*bad.wav as a WAV file"):
        data.load_signal(str(tmp_path / "bad.wav"))


@pytest.mark.parametrize(
    ("signal", "family", "message"),
    [
        (np.full((32, 32), 0.3), "siren", "the signal is constant"),
        (np.where(np.eye(32) > 0, np.nan, 0.5), "siren", "NaN or infinite"),
        (np.random.default_rng(0).uniform(size=(8, 8)), "siren", r"smaller than the 16x16 window"),
        (np.random.default_rng(0).uniform(size=(32, 32)), "relu", "relu has no frequency knob to choose"),
        (np.random.default_rng(0).uniform(size=(4, 8, 8, 8)), "siren", r"expected a 1-D signal \(n,\), an image"),
        (np.random.default_rng(0).uniform(size=10), "siren", r"signal \(10\) is smaller than the 16 window"),
        (np.full(64, 0.5), "ffn", "the signal is constant"),
    ],
)
def test_bad_signals_are_refused(signal, family, message):
    with pytest.raises(InrdictError, match=message):
        suggest(family, signal, _options(size=None))


def test_suggest_from_the_command_line(tmp_path, capsys):
    image = tmp_path / "fine.npy"
    np.save(image, _pattern(7.0, 48))
    out = tmp_path / "run"
    args = ["suggest", str(image), "--family", "siren", "--out", str(out), "--no-progress", "--size", "32",
            "--set", "window=16", "--set", "windows=1", "--set", "hidden=16,16"]  # fmt: skip
    assert main(args) == 0
    numbers = json.loads((out / "results.json").read_text())["numbers"]
    assert numbers["signal"] == "fine" and numbers["knob"] == "first_omega0" and len(numbers["candidates"]) == 17
    assert numbers["fitted_shape"] == [32, 32] and numbers["shape"] == [48, 48]  # --size: the longest axis
    assert numbers["suggestion"] in numbers["values"] and (out / "overview.png").exists()
    assert "suggestion" in capsys.readouterr().out
    np.save(image, np.full((48, 48), 0.2))
    assert main([*args[:5], str(tmp_path / "flat"), *args[7:]]) == 2
    error = capsys.readouterr().err.strip()
    assert error == "inrdict: error: the signal is constant: every knob fits it, there is nothing to choose"
    assert not (tmp_path / "flat").exists()
    assert main(["suggest", "camera", "--family", "relu", "--out", str(tmp_path / "relu"), "--no-progress"]) == 2
    assert "relu has no frequency knob" in capsys.readouterr().err


def test_suggest_a_1d_signal_from_the_command_line(tmp_path, capsys):
    signal = tmp_path / "chirp.npy"
    r = np.arange(300) / 300
    np.save(signal, 0.5 + 0.3 * np.sin(2 * np.pi * (3 + 20 * r) * r))
    out = tmp_path / "run"
    args = ["suggest", str(signal), "--family", "ffn", "--out", str(out), "--no-progress", "--set", "window=64",
            "--set", "windows=2", "--set", "hidden=16,16"]  # fmt: skip
    assert main(args) == 0
    numbers = json.loads((out / "results.json").read_text())["numbers"]
    assert numbers["dimensions"] == 1 and numbers["fitted_shape"] == [300] and numbers["windows"][0] == [118]
    assert numbers["candidates"][8] == 2.93  # σ = 10 × 300 / 1024 (the 1-D lattice) to 3 significant digits
    assert numbers["argmax"] in numbers["values"] and numbers["suggestion"] > 0
    assert (out / "overview.png").exists() and "suggestion" in capsys.readouterr().out


def test_suggest_a_volume_from_the_command_line(tmp_path, capsys):
    axis = np.linspace(-1, 1, 20)
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij")
    np.save(tmp_path / "sphere.npy", np.sqrt(x**2 + y**2 + z**2) - 0.5)
    out = tmp_path / "run"
    args = ["suggest", str(tmp_path / "sphere.npy"), "--family", "siren", "--out", str(out), "--no-progress",
            "--set", "window=8", "--set", "windows=1", "--set", "hidden=8,8"]  # fmt: skip
    assert main(args) == 0
    numbers = json.loads((out / "results.json").read_text())["numbers"]
    assert numbers["dimensions"] == 3 and numbers["fitted_shape"] == [20] * 3 and len(numbers["windows"][0]) == 3
    assert numbers["candidates"][8] == 4.69  # ω0 = 30 × 20 / 128 to 3 significant digits
    assert numbers["suggestion"] in numbers["values"] and (out / "overview.png").exists()


def test_the_suggestion_does_not_depend_on_the_signals_units():
    """Metres or millimetres, an offset or not: min-max scaling (`fitting.prepare`) makes a·x + b (a > 0) the same
    signal, so the same scores and the same suggestion (the terrain case of the suggest issue: 5.3 vs 60 before)."""
    base = _pattern(5.0)
    options = _options(values=(4.0, 16.0, 64.0))
    found = suggest("siren", base, options)
    for a, b in ((1000.0, 236.0), (1e-3, -7.0), (3.0, 0.0)):
        scaled = suggest("siren", a * base + b, options)
        assert scaled.value == found.value
        np.testing.assert_allclose(scaled.scores, found.scores, atol=1e-6)


def test_suggest_scores_at_the_signals_own_resolution_and_shape():
    """No thumbnail: a 40 × 100 signal is scored as 40 × 100 (windows inside it, at its own spacing); only `size`
    or the cap resamples it, keeping the aspect ratio; the window, and so the cost, does not grow with the signal."""
    rng = np.random.default_rng(0)
    wide = 0.5 + 0.1 * rng.standard_normal((40, 100))
    found = suggest("siren", wide, _options(size=None, values=(30.0,)))
    assert found.shape == (40, 100) and found.window == 16 and all(r <= 24 and c <= 84 for r, c in found.corners)
    assert fitting.fitting_shape((40, 100), 50) == (20, 50) and fitting.fitting_shape((1411, 1411)) == (1024, 1024)
    assert fitting.fitting_shape((300, 451)) == (300, 451) and fitting.fitting_shape((70000,)) == (65536,)
    assert fitting.fitting_shape((200, 150, 100)) == (128, 96, 64)
    large = suggest("siren", np.kron(wide, np.ones((4, 4))), _options(size=None, values=(30.0,)))
    assert large.shape == (160, 400) and large.kernels == found.kernels == 2  # windows × values, whatever the size
    points = fitting.grid((2, 4))
    np.testing.assert_allclose(points[:5], [[0, 0], [0, 0.25], [0, 0.5], [0, 0.75], [0.25, 0]])  # square pixels


@pytest.mark.parametrize("family", ["siren", "ffn", "gauss", "wire", "finer"])
def test_suggest_works_for_every_family_the_issue_names(family):
    """Each family's reference network (its recipe's depth, knobs and coordinates) scored on an image at its own
    shape: finite predictions, and a suggestion among the values."""
    found = suggest(family, _pattern(3.0, 24), _options(size=None, window=12, windows=1, hidden=(8, 8),
                                                         values=(1.0, 8.0, 64.0)))  # fmt: skip
    assert found.shape == (24, 24) and found.recipe == recipe(family).name
    assert np.all(np.isfinite(found.scores)) and found.argmax in (1.0, 8.0, 64.0)


def test_bad_settings_are_refused_before_anything_runs(tmp_path, capsys):
    for extra, message in ((["--set", "recipe=nonsense"], "siren has no recipe 'nonsense'"),
                           (["--set", "window=64", "--size", "32"], r"window \(64\) exceeds size \(32\)")):  # fmt: skip
        assert main(["suggest", "camera", "--out", str(tmp_path / "run"), "--no-progress", *extra]) == 2
        assert re.search(message, capsys.readouterr().err)
        assert not (tmp_path / "run").exists()

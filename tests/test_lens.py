"""The lens as a library: spectrum routes agree and are recorded, E(t) is the alignment code's and stops where the
top k stop, protocols are the paper's, the linearised prediction tracks small-step GD, `analyse` runs from Python."""

import errno

import jax
import numpy as np
import pytest
from jaxtyping import TypeCheckError

import inrdict
from inrdict.analysis import eigenpairs
from inrdict import lens
from inrdict.analysis import alignment
from inrdict.errors import InrdictError
from inrdict.io.data import ntk_grid
from inrdict.models import Siren

pytestmark = pytest.mark.standard_promotion  # fine-tuning runs Optax's Adam


@pytest.fixture(scope="module")
def siren():
    return Siren(2, (24, 24), 1, first_omega0=10.0, convention="ntk", key=jax.random.key(0))


@pytest.fixture(scope="module")
def faces():
    rng = np.random.default_rng(0)
    base = np.linspace(0, 1, 12 * 12).reshape(12, 12)
    return np.stack([np.roll(base, i, axis=i % 2) + 0.05 * rng.standard_normal((12, 12)) for i in range(5)]).astype(
        np.float32
    )


def test_the_three_routes_agree_and_are_recorded(siren):
    points = ntk_grid(12)
    dense = lens.ntk_spectrum(siren, points)  # 144 points ≤ DENSE_MAX_POINTS: all eigenpairs
    stored = lens.ntk_spectrum(siren, points, lens.SpectrumOptions("stored", top_k=8))
    free = lens.ntk_spectrum(siren, points, lens.SpectrumOptions("matrix_free", top_k=8))
    assert (dense.route, stored.route, free.route) == ("dense", "stored", "matrix_free")
    assert dense.k == 144 and stored.k == free.k == 8
    assert stored.info.stored_kernel and not free.info.stored_kernel
    for top in (stored, free):
        assert np.allclose(top.eigvals, dense.eigvals[:8], rtol=1e-4)
        overlap = np.abs(np.sum(top.eigvecs[:, :4] * dense.eigvecs[:, :4], axis=0))  # the same vectors up to sign
        assert np.all(overlap > 0.999), overlap
        assert top.exact_from == pytest.approx(top.eigvals[-1] / top.eigvals[0]) and top.info.max_residual <= 1e-4
    assert dense.exact_from == 0.0 and np.all(np.diff(dense.eigvals) <= 0)


def test_auto_switches_to_the_top_k_above_the_threshold(siren, monkeypatch):
    monkeypatch.setattr(eigenpairs, "DENSE_MAX_POINTS", 100)
    spectrum = lens.ntk_spectrum(siren, ntk_grid(12), lens.SpectrumOptions(top_k=6))
    assert spectrum.route in ("stored", "matrix_free") and spectrum.k == 6


def test_a_spectrum_too_large_is_refused_before_anything_runs(siren, monkeypatch):
    monkeypatch.setattr(inrdict._memory, "available_memory_bytes", lambda: 10_000_000)
    with pytest.raises(InrdictError, match="the dense NTK spectrum of 4096 points .* choose a smaller"):
        lens.ntk_spectrum(siren, ntk_grid(64), lens.SpectrumOptions("dense"))
    with pytest.raises((InrdictError, TypeCheckError)):  # the tests' runtime type checks see it first
        lens.ntk_spectrum(siren, ntk_grid(4), lens.SpectrumOptions("eigh"))


def test_energy_is_the_alignment_code_and_stops_where_the_top_k_stop(siren, faces):
    points = ntk_grid(12)
    dense = lens.ntk_spectrum(siren, points)
    energy = lens.energy_concentration(dense, faces)
    signals = alignment.center_signals(faces)
    mean, std = alignment.energy_at_thresholds(dense.eigvals, dense.eigvecs, signals, lens.THRESHOLDS)
    assert np.array_equal(energy.mean, mean) and np.array_equal(energy.std, std)
    assert np.allclose(energy.total, 1.0)  # a full eigenbasis holds all of every signal's energy
    within = int(np.sum(dense.normalised >= 0.1))
    assert energy.within_10pct == within
    assert np.allclose(energy.at_01, alignment.cumulative_energy(dense.eigvecs[:, :within], signals)[:, -1])
    top = lens.ntk_spectrum(siren, points, lens.SpectrumOptions("matrix_free", top_k=3))
    partial = lens.energy_concentration(top, faces)
    assert np.array_equal(np.isnan(partial.mean), lens.THRESHOLDS < top.exact_from)
    # 5 eigenvalues lie within 10 % of λ₀ (0.34 λ₀ is the third): the top 3 do not reach 0.1 λ₀, so E(0.1) is
    # unknown, not a guess
    assert within == 5 and top.exact_from > 0.1 and np.all(np.isnan(partial.at_01))
    with pytest.raises(InrdictError, match="signals have 100 samples"):
        lens.energy_concentration(dense, np.ones((2, 10, 10)))
    # E at other thresholds and the area under E(λ) per decade: the per-signal curves read at the thresholds.
    assert np.allclose(energy.at(0.1), energy.at_01) and np.allclose(energy.per_signal().mean(axis=0), energy.mean)
    assert np.all(energy.at(1e-3) >= energy.at(1e-2) - 1e-12) and np.all((0 <= energy.area()) & (energy.area() <= 1))
    with pytest.raises(InrdictError, match="thresholds only"):
        energy.at(0.37)


def test_area_under_the_energy_curve_on_a_known_spectrum():
    """Eigenvalues 1, 10^-1.5, 10^-5 and a signal split evenly over the first two eigenvectors: E(t) = 1/2 for
    t ∈ (10^-1.5, 1] and 1 below, so the area per decade over [1e-4, 1] is (1.5 · 1/2 + 2.5 · 1) / 4."""
    basis = np.eye(3)
    spectrum = lens.Spectrum(np.array([1.0, 10**-1.5, 1e-5]), basis, "dense")
    energy = lens.energy_concentration(spectrum, np.array([[1.0, 1.0, 0.0]]))
    centred = np.array([1.0, 1.0, 0.0]) - 2 / 3  # the mean is removed: energy on e3 too
    shares = centred**2 / np.sum(centred**2)
    expected = (1.5 * shares[0] + 2.5 * (shares[0] + shares[1])) / 4
    assert energy.area()[0] == pytest.approx(expected, abs=0.02)  # trapezoids at 10 points a decade
    assert energy.at(1e-2)[0] == pytest.approx(shares[0] + shares[1])


def test_protocols_are_the_papers_and_bad_ones_are_refused():
    assert (lens.RANDOM_INIT.optimizer, lens.RANDOM_INIT.learning_rate) == ("adam", 1e-4)
    assert (lens.META_INIT.optimizer, lens.META_INIT.learning_rate) == ("gd", 1e-2)
    assert lens.RANDOM_INIT.psnr_iteration == 3 and lens.RANDOM_INIT.iterations == 10
    with pytest.raises(InrdictError, match="psnr_iteration"):
        lens.Protocol("adam", 1e-4, iterations=2, psnr_iteration=3)
    with pytest.raises((InrdictError, TypeCheckError)):
        lens.Protocol("sgd", 1e-2)


def test_learnability_and_its_linearised_prediction(siren, faces):
    points, images = ntk_grid(12), faces.reshape(len(faces), -1)
    mask = lens.pixel_mask(points.shape[0], seed=0)
    assert mask.sum() == 72 and np.array_equal(mask, lens.pixel_mask(points.shape[0], seed=0))
    protocol = lens.Protocol("gd", 1e-3, iterations=4, psnr_iteration=2)
    learned = lens.learnability(siren, points, images, mask, protocol=protocol, linearised=True)
    assert learned.test_psnr_db.shape == (5, 5) and np.array_equal(learned.psnr_at_k, learned.test_psnr_db[:, 2])
    assert learned.largest_mode_rate < 2  # a small step: the linearised model is stable
    gap = np.abs(learned.predicted_test_psnr_db - learned.test_psnr_db)
    assert gap.max() < 0.05, gap.max()  # near initialisation the network is its linearisation
    assert learned.train_psnr_db[:, -1].mean() > learned.train_psnr_db[:, 0].mean()  # it learns
    with pytest.raises(InrdictError, match="plain gradient descent"):
        lens.learnability(siren, points, images, mask, protocol=lens.RANDOM_INIT, linearised=True)


def test_analyse_from_python_on_given_signals(siren, faces):
    options = lens.AnalyseOptions(grid=12, n_eigenvectors=3, fit_steps=0, protocol=lens.Protocol("adam", 1e-4, iterations=3))
    report = inrdict.lens.analyse(siren, faces, options=options)
    numbers = report.numbers
    assert numbers["faces"]["dataset"] == "signals" and numbers["faces"]["n_test_images"] == 5
    assert numbers["spectrum"]["route"] == "dense" and numbers["spectrum"]["eigenpairs"] == 144
    assert numbers["eigenvectors"]["count"] == 3 and report.arrays["eigenvectors"].shape == (3, 12, 12)
    assert 0 <= numbers["faces"]["energy_at_0.1"] <= 1
    assert [label for label, _ in report.summary()] == ["model", "NTK", "faces", "aliasing"]
    with pytest.raises(InrdictError, match="signals must be finite"):
        lens.analyse(siren, faces[:, :10], options=options)
    with pytest.raises(InrdictError, match="needs signals on the grid"):  # the lens loads nothing itself
        lens.analyse(siren, options=options)


def test_a_full_disk_while_plotting_is_one_line(tmp_path, monkeypatch):
    """matplotlib's PDF writer meets ENOSPC and then fails on its own cleanup (an AttributeError): the user sees
    one line naming the file and the cause, and nothing half-written is left."""
    import matplotlib.figure

    from inrdict._io import atomic_directory
    from inrdict.plotting import plt, save

    def full_disk(self, path, **kwargs):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise AttributeError("'NoneType' object has no attribute 'write'")  # noqa: B904 (as matplotlib does)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full_disk)
    fig, _ = plt.subplots()
    with pytest.raises(InrdictError) as raised:
        save(fig, tmp_path, "overview")
    assert str(raised.value) == f"cannot write figure {tmp_path / 'overview.pdf'}: No space left on device"
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / "figure_3"  # inside a run folder the message names the folder asked for, not the staging one
    with pytest.raises(InrdictError) as raised, atomic_directory(out) as staging:
        save(plt.subplots()[0], staging, "overview")
    assert str(raised.value) == f"cannot write figure {out / 'overview.pdf'}: No space left on device"
    assert list(tmp_path.iterdir()) == []

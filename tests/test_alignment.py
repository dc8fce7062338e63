import numpy as np
import pytest

from inrdict.analysis.alignment import center_signals, cumulative_energy, energy_at_thresholds


@pytest.fixture
def eigensystem():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    eigvals = np.sort(rng.uniform(1e-6, 1, 20))[::-1]
    signals = center_signals(rng.normal(size=(7, 4, 5)))
    return eigvals, q, signals


def test_energy_at_thresholds_matches_a_loop(eigensystem):
    eigvals, eigvecs, signals = eigensystem
    thresholds = np.array([1.0, 0.5, 0.1, 1e-3, 1e-10])
    mean, std = energy_at_thresholds(eigvals, eigvecs, signals, thresholds)
    for t_index, t in enumerate(thresholds):
        per_signal = []
        for g in signals:
            total = sum(np.dot(eigvecs[:, i], g) ** 2 for i in range(20) if eigvals[i] / eigvals[0] >= t)
            per_signal.append(total / np.dot(g, g))
        assert mean[t_index] == pytest.approx(np.mean(per_signal), abs=1e-12)
        assert std[t_index] == pytest.approx(np.std(per_signal), abs=1e-12)
    assert mean[-1] == pytest.approx(1.0, abs=1e-12)  # full orthonormal basis: all the energy


def test_energy_on_an_aligned_basis():
    """A signal that is an eigenvector has all its energy at that eigenvalue's threshold."""
    eigvecs = np.eye(4)
    eigvals = np.array([1.0, 0.5, 0.01, 0.001])
    signal = np.array([[0.0, 1.0, 0.0, 0.0]])
    mean, _ = energy_at_thresholds(eigvals, eigvecs, signal, np.array([1.0, 0.5, 0.1]))
    assert np.allclose(mean, [0.0, 1.0, 1.0])
    assert np.allclose(cumulative_energy(eigvecs, signal), [[0.0, 1.0, 1.0, 1.0]])


def test_center_signals_removes_the_mean():
    images = np.arange(24.0).reshape(2, 3, 4)
    centred = center_signals(images)
    assert centred.shape == (2, 12) and np.allclose(centred.mean(axis=1), 0)


def test_constant_signal_is_refused():
    from inrdict.errors import InrdictError

    with pytest.raises(InrdictError, match="signal 1 is constant"):
        energy_at_thresholds(np.ones(3), np.eye(3), center_signals(np.array([[1.0, 2, 3], [5, 5, 5]])), np.array([0.1]))

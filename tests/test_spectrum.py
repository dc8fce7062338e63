import numpy as np

from inrdict.analysis import spectrum


def test_odd_bin_energy_is_zero_exactly_for_half_period_images():
    rng = np.random.default_rng(0)
    tile = rng.random((8, 8, 3))
    periodic = np.tile(tile, (2, 2, 1))  # repeats after half the grid in both axes
    assert spectrum.odd_bin_energy_fraction(periodic) < 1e-28
    noise = rng.normal(size=(64, 64, 3))
    fraction = spectrum.odd_bin_energy_fraction(noise)
    assert 0.7 < fraction < 0.8  # white noise: 3/4 of the bins have k_y or k_x odd
    # Half-periodic along rows only: k_y is always even, so only the bins with k_x odd carry energy (half of them).
    rows_only = np.tile(rng.normal(size=(32, 64)), (2, 1))
    assert 0.45 < spectrum.odd_bin_energy_fraction(rows_only) < 0.55


def test_four_shift_average_is_the_projection_onto_half_periodic_images():
    rng = np.random.default_rng(1)
    image = rng.random((16, 16))
    average = spectrum.four_shift_average(image)
    assert spectrum.odd_bin_energy_fraction(average) < 1e-28
    assert np.allclose(spectrum.four_shift_average(average), average)  # idempotent
    # Orthogonal projection: the residual is orthogonal to every half-periodic image.
    other = np.tile(rng.random((8, 8)), (2, 2))
    assert abs(np.sum((image - average) * other)) < 1e-10


def test_magnitude_spectrum_and_tone_levels():
    n = 256
    r = np.arange(n) / n
    signal = np.sin(2 * np.pi * 23 * r + 0.4) + 0.01 * np.sin(2 * np.pi * 105 * r)
    freqs, level = spectrum.magnitude_spectrum_db(signal)
    assert freqs[0] == -128 and freqs[-1] == 127
    assert np.isclose(spectrum.level_at_db(freqs, level, 23), 20 * np.log10(n / 2))
    levels = spectrum.tone_levels_db(signal, (23.0, 105.0))
    assert np.isclose(levels[23.0] - levels[105.0], 40.0, atol=1e-6)


def test_dft_log_magnitude_peaks_at_dc_for_constant_image():
    image = np.full((8, 8), 0.5)
    db = spectrum.dft_log_magnitude(image)
    assert db.shape == (8, 8) and np.unravel_index(np.argmax(db), db.shape) == (4, 4)
    assert np.isclose(db[4, 4], 20 * np.log10(0.5 * 64))

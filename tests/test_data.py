import numpy as np
import pytest
import skimage.io

from inrdict.errors import InrdictError
from inrdict.io import data


@pytest.fixture
def pattern():
    rng = np.random.default_rng(0)
    return rng.random((20, 30, 3))


def _roundtrip(tmp_path, array, name):
    path = tmp_path / name
    skimage.io.imsave(path, array, check_contrast=False)
    return data.load_image(path)


def test_load_rgb_8bit(tmp_path, pattern):
    image = _roundtrip(tmp_path, (pattern * 255).round().astype(np.uint8), "rgb.png")
    assert image.shape == (20, 30, 3) and image.dtype == np.float32
    assert np.allclose(image, (pattern * 255).round() / 255, atol=1e-6)


def test_load_gray_16bit(tmp_path, pattern):
    raw = (pattern[..., 0] * 65535).round().astype(np.uint16)
    image = _roundtrip(tmp_path, raw, "gray16.png")
    assert image.shape == (20, 30)
    assert np.allclose(image, raw / 65535, atol=1e-6) and image.max() <= 1.0


def test_load_rgba_composites_over_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red, alpha 0 on the left half, 255 on the right
    rgba[:, 2:, 3] = 255
    image = _roundtrip(tmp_path, rgba, "rgba.png")
    assert image.shape == (4, 4, 3)
    assert np.allclose(image[:, :2], 1.0) and np.allclose(image[:, 2:], [1.0, 0.0, 0.0])


def test_missing_and_unreadable_images_raise_one_clear_error(tmp_path):
    with pytest.raises(InrdictError, match="not found"):
        data.load_image(tmp_path / "nope.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a png")
    with pytest.raises(InrdictError, match="could not read image .*broken.png"):
        data.load_image(broken)


def test_grayscale_weights():
    rgb = np.zeros((1, 3, 3), np.float32)
    rgb[0, 0, 0] = rgb[0, 1, 1] = rgb[0, 2, 2] = 1.0
    assert np.allclose(data.to_grayscale(rgb), [[0.299, 0.587, 0.114]])


def test_center_crop_and_resize(pattern):
    crop = data.center_crop(pattern)
    assert crop.shape == (20, 20, 3) and np.array_equal(crop, pattern[:, 5:25])
    assert data.square_image(pattern, 8).shape == (8, 8, 3)
    # Anti-aliasing: a 1-pixel checkerboard averages to grey instead of aliasing to a solid colour.
    checker = (np.indices((64, 64)).sum(0) % 2).astype(np.float32)
    assert np.abs(data.resize(checker, 8) - 0.5).max() < 0.1
    with pytest.raises(InrdictError, match="crop size"):
        data.center_crop(pattern, 25)


def test_grids_follow_spec_conventions():
    fit = data.fit_grid(4)
    assert fit.shape == (16, 2)
    assert np.allclose(np.unique(fit[:, 0]), [-1.0, -0.5, 0.0, 0.5])
    ntk = data.ntk_grid(4)
    assert np.allclose(np.unique(ntk[:, 0]), [0.0, 0.25, 0.5, 0.75])
    # Row-major "ij" order: point i*n + j is (x_i, x_j).
    assert np.allclose(ntk[1 * 4 + 3], [0.25, 0.75])
    image = np.arange(16.0).reshape(4, 4)
    coords, targets = data.image_dataset(image)
    assert np.allclose(coords, fit) and targets[1 * 4 + 3, 0] == image[1, 3]


def test_tone():
    r, signal = data.tone(23.0, 256, phase=0.3)
    assert r.shape == signal.shape == (256,) and r[0] == 0 and r[-1] < 1
    spectrum = np.abs(np.fft.rfft(signal))
    assert int(np.argmax(spectrum)) == 23


def test_load_rgb_16bit_tiff(tmp_path, pattern):
    import tifffile

    raw = (pattern * 65535).round().astype(np.uint16)
    tifffile.imwrite(tmp_path / "rgb16.tif", raw)
    image = data.load_image(tmp_path / "rgb16.tif")
    assert image.shape == (20, 30, 3) and np.allclose(image, raw / 65535, atol=1e-6)

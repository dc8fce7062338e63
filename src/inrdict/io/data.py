"""Images, coordinate grids and test signals (SPEC §2, §6).

Images are float32 NumPy arrays in [0, 1], shape (H, W) for grayscale or (H, W, 3) for RGB.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from jaxtyping import Float, Shaped

from inrdict.errors import InrdictError

Image = Float[np.ndarray, "h w *c"]  # (H, W) grayscale or (H, W, 3) RGB, float32 in [0, 1]

GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114])


def load_image(path: str | os.PathLike) -> Image:
    """Read any image file to float32 in [0, 1]: (H, W) grayscale or (H, W, 3) RGB.

    8- and 16-bit integers are scaled by their full range; palette images are expanded; RGBA (and gray +
    alpha) is composited over white; a single channel stays 2-D. Raises `InrdictError` naming the file if
    it is missing or cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise InrdictError(f"image file not found: {path} (give the path of a readable PNG/JPEG/TIFF file)")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InrdictError(f"could not read image {path}: {error.strerror}") from None
    return decode_image(raw, str(path))


def decode_image(raw: bytes, name: str) -> Image:
    """`load_image` for bytes already read (a file, a zip member); `name` is used in error messages."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        if raw[:4] in (b"II*\x00", b"MM\x00*"):  # TIFF: tifffile keeps 16-bit RGB, which PIL cannot
            import tifffile

            return _finish(tifffile.imread(io.BytesIO(raw)), name)
        opened: Image.Image  # `convert` gives a plain Image
        with Image.open(io.BytesIO(raw)) as opened:
            opened.load()
            if opened.mode in ("P", "PA", "LA", "1", "CMYK", "YCbCr", "LAB", "HSV"):
                has_alpha = opened.mode in ("PA", "LA") or "transparency" in opened.info
                opened = opened.convert("RGBA" if has_alpha else "RGB")
            image = np.asarray(opened)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InrdictError(f"could not read image {name}: {error}") from None
    return _finish(image, name)


def _finish(image: np.ndarray, path: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise InrdictError(f"image {path} has unsupported shape {image.shape}: expected (H, W) or (H, W, 3|4)")
    if image.ndim == 3 and image.shape[-1] not in (3, 4):
        raise InrdictError(f"image {path} has {image.shape[-1]} channels: expected 1, 3 (RGB) or 4 (RGBA)")
    image = _to_unit_range(image)
    if image.ndim == 3 and image.shape[-1] == 4:
        alpha = image[..., 3:]
        image = image[..., :3] * alpha + (1.0 - alpha)
    return image.astype(np.float32)


def _to_unit_range(image: np.ndarray) -> np.ndarray:
    if image.dtype == bool:
        return image.astype(np.float64)
    if image.dtype.kind == "f":
        return np.clip(image.astype(np.float64), 0.0, 1.0)
    if image.dtype.kind in "ui":
        # 32-bit integer images (PIL mode "I") usually hold 16-bit data.
        peak = 65535 if image.dtype.itemsize >= 4 and image.max() <= 65535 else np.iinfo(image.dtype).max
        return np.clip(image.astype(np.float64) / peak, 0.0, 1.0)
    raise InrdictError(f"unsupported image data type {image.dtype}")


def astronaut() -> Float[np.ndarray, "512 512 3"]:
    """scikit-image's bundled 512 x 512 RGB test image, float32 in [0, 1] (the Fig. 2 default)."""
    import skimage.data

    return (skimage.data.astronaut() / 255.0).astype(np.float32)


# scikit-image's bundled sample images (no download): `bundled_image(name)`. The suggest tool was designed on the
# first five (`inrdict.analysis.suggest`); its validation (`inrdict figure regret`) uses the others.
BUNDLED_IMAGES = ("astronaut", "camera", "coffee", "brick", "text", "chelsea", "grass", "gravel", "moon", "page", "coins",
                  "rocket", "clock", "hubble_deep_field", "immunohistochemistry", "horse", "cell", "microaneurysms",
                  "shepp_logan_phantom", "retina")  # fmt: skip


def bundled_image(name: str) -> Float[np.ndarray, "h w"]:
    """A scikit-image bundled sample image as grayscale float64 in [0, 1]."""
    import skimage.data

    if name not in BUNDLED_IMAGES:
        raise InrdictError(f"unknown sample image {name!r}: choose one of {', '.join(BUNDLED_IMAGES)}, or give a file")
    return to_grayscale(_to_unit_range(np.asarray(getattr(skimage.data, name)())))


def load_signal(spec: str, *, volumes: bool = False) -> tuple[str, Float[np.ndarray, "*shape"]]:
    """(name, float64 signal) from a bundled image name, an image file (grayscale (h, w)), a `.npy` array of shape
    (n,) (a 1-D signal on a grid of n points), (h, w) or (h, w, 3) (values as stored), or a `.wav` (`load_wav`).
    With `volumes`, a `.npy` of shape (d, h, w) (last axis not 3 or 4) is a 3-D volume (e.g. an SDF or a CT scan)."""
    if spec in BUNDLED_IMAGES:
        return spec, bundled_image(spec)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise InrdictError(
            f"signal {spec!r} is neither a bundled image ({', '.join(BUNDLED_IMAGES[:5])}, …) nor a file"
        )
    if path.suffix.lower() == ".wav":
        return path.stem, load_wav(path)
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise InrdictError(f"cannot read {path} as a NumPy array: {error}") from None
        if array.ndim == 3 and array.shape[-1] in (3, 4):
            array = to_grayscale(np.asarray(array, np.float64)[..., :3])
        dims = (1, 2, 3) if volumes else (1, 2)
        if array.ndim not in dims or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise InrdictError(f"{path} holds an array of shape {array.shape} and type {array.dtype}: expected a "
                               "real 1-D signal (n,) or an image (h, w) or (h, w, 3)"
                               + (" or a volume (d, h, w)" if volumes else ""))  # fmt: skip
        return path.stem, np.asarray(array, np.float64)
    return path.stem, to_grayscale(np.asarray(load_image(path), np.float64))


def load_wav(path: str | os.PathLike) -> Float[np.ndarray, " n"]:
    """A `.wav` file as a 1-D float64 signal in [0, 1]: channels averaged, integer PCM scaled by its full range to
    [-1, 1] (float PCM taken as it is), then mapped by (x + 1) / 2 onto the unit range images use."""
    import warnings

    import scipy.io.wavfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)  # unknown chunks (metadata) are skipped
            _, samples = scipy.io.wavfile.read(path)
    except (OSError, ValueError) as error:
        raise InrdictError(f"cannot read {path} as a WAV file: {error}") from None
    samples = np.asarray(samples)
    if samples.dtype == np.uint8:  # 8-bit PCM is unsigned, centred on 128
        x = (samples.astype(np.float64) - 128.0) / 128.0
    elif samples.dtype.kind == "i":
        x = samples.astype(np.float64) / -float(np.iinfo(samples.dtype).min)
    else:
        x = np.clip(samples.astype(np.float64), -1.0, 1.0)
    x = x.mean(axis=1) if x.ndim == 2 else x
    return (x + 1.0) / 2.0


def to_grayscale(image: Float[np.ndarray, "h w *c"]) -> Float[np.ndarray, "h w"]:
    """0.299 R + 0.587 G + 0.114 B for RGB; grayscale input is returned unchanged. Shape (H, W)."""
    if image.ndim == 2:
        return image
    return (image[..., :3] @ GRAY_WEIGHTS).astype(image.dtype)


def center_crop(image: Shaped[np.ndarray, "h w *c"], size: int | None = None) -> Shaped[np.ndarray, "s s *c"]:
    """Central `size` x `size` crop (default: the largest square)."""
    height, width = image.shape[:2]
    size = min(height, width) if size is None else int(size)
    if not 1 <= size <= min(height, width):
        raise InrdictError(f"crop size {size} does not fit in an image of {height} x {width}")
    top, left = (height - size) // 2, (width - size) // 2
    return image[top : top + size, left : left + size]


def resize(image: Float[np.ndarray, "h w *c"], size: int | tuple[int, int]) -> Float[np.ndarray, "h2 w2 *c"]:
    """Anti-aliased resize to (height, width) (an int means square), float32 in [0, 1]."""
    import skimage.transform

    shape = (size, size) if isinstance(size, int) else tuple(size)
    if min(shape) < 1:
        raise InrdictError(f"image size must be positive, got {shape}")
    if tuple(image.shape[:2]) == shape:
        return image.astype(np.float32)
    out = skimage.transform.resize(image, shape + image.shape[2:], anti_aliasing=True, order=1)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def square_image(image: Float[np.ndarray, "h w *c"], size: int) -> Float[np.ndarray, "s s *c"]:
    """Centre-crop to the largest square, then anti-aliased resize to `size` x `size`."""
    return resize(center_crop(image), size)


def axis_grid(n: int, low: float, high: float) -> Float[np.ndarray, " n"]:
    """`linspace(low, high, n, endpoint=False)`: n samples with spacing (high - low) / n."""
    if n < 1:
        raise InrdictError(f"grid size must be positive, got {n}")
    return np.linspace(low, high, n, endpoint=False, dtype=np.float64).astype(np.float32)


def grid_2d(n: int, low: float, high: float) -> Float[np.ndarray, "points 2"]:
    """Points of the n x n grid, shape (n*n, 2), `meshgrid(indexing="ij")` flattened row-major.

    Point `i*n + j` is `(x_i, x_j)`, so a vector over the grid reshapes to (n, n) image layout directly.
    """
    axis = axis_grid(n, low, high)
    rows, cols = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=-1)


def fit_grid(n: int) -> Float[np.ndarray, "points 2"]:
    """Fig. 2 fitting grid: `linspace(-1, 1, n, endpoint=False)` per axis, shape (n*n, 2)."""
    return grid_2d(n, -1.0, 1.0)


def unit_grid(shape: tuple[int, ...]) -> Float[np.ndarray, "points d"]:
    """The grid `linspace(0, 1, n+1)[:-1]` on every axis of `shape` (1, 2 or 3 axes), C order: (prod(shape), d)
    float32; for (n, n) it is `ntk_grid(n)`."""
    if len(shape) == 2 and shape[0] == shape[1]:
        return ntk_grid(shape[0])
    axes = [np.linspace(0.0, 1.0, n + 1, dtype=np.float32)[:-1] for n in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(shape))


def resample(signal: Float[np.ndarray, "*shape"], shape: tuple[int, ...]) -> Float[np.ndarray, "*new"]:
    """`signal` (1, 2 or 3 axes) linearly resampled to `shape`, anti-aliased where it shrinks."""
    if signal.shape == tuple(shape):
        return signal
    import skimage.transform

    shrinks = any(new < old for new, old in zip(shape, signal.shape, strict=True))
    return skimage.transform.resize(signal, tuple(shape), order=1, anti_aliasing=shrinks, preserve_range=True)


def ntk_grid(n: int) -> Float[np.ndarray, "points 2"]:
    """NTK / meta-learning grid: `linspace(0, 1, n+1)[:-1]` per axis, shape (n*n, 2)."""
    return grid_2d(n, 0.0, 1.0)


def image_dataset(image: Float[np.ndarray, "h w *c"]) -> tuple[Float[np.ndarray, "n 2"], Float[np.ndarray, "n c"]]:
    """An (n, n[, c]) image on the Fig. 2 grid: coordinates (n*n, 2) and targets (n*n, c)."""
    height, width = image.shape[:2]
    if height != width:
        raise InrdictError(f"expected a square image, got {height} x {width}: crop it first (center_crop)")
    targets = image.reshape(height * width, -1)
    return fit_grid(height), targets


def tone(freq_hz: float, n_samples: int, phase: float = 0.0) -> tuple[Float[np.ndarray, " n"], Float[np.ndarray, " n"]]:
    """A unit sine `sin(2π f r + phase)` on `linspace(0, 1, n_samples, endpoint=False)`.

    Returns (r, signal), both of shape (n_samples,) float32.
    """
    r = np.linspace(0.0, 1.0, n_samples, endpoint=False)
    return r.astype(np.float32), np.sin(2 * np.pi * freq_hz * r + phase).astype(np.float32)

"""Face datasets for meta-learning and Fig. 4: CelebA from a local folder or zip, the embedded LFW faces, any folder.

Every dataset is three `ImageSource`s (train / validation / test) of square grayscale float32 images in [0, 1]
on the experiment's grid. Sources load lazily by index, so a 200k-image CelebA folder costs a file list, not
a copy of the data; small sets (LFW) live in memory.

CelebA preprocessing (SPEC §6): centre crop 178 x 178, grayscale 0.299 R + 0.587 G + 0.114 B, anti-aliased
resize to the grid. Splits from `list_eval_partition.txt` (`<file> <0|1|2>` = train / validation / test).
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from inrdict.errors import InrdictError
from inrdict.io import data

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
CELEBA_CROP = 178
PARTITION_FILE = "list_eval_partition.txt"


@runtime_checkable
class ImageSource(Protocol):
    def __len__(self) -> int: ...

    def load(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Images at `indices`, shape (len(indices), size, size) float32 in [0, 1]."""
        ...


@dataclasses.dataclass(frozen=True)
class ArraySource:
    """Images held in memory, (n, size, size)."""

    images: np.ndarray

    def __len__(self) -> int:
        return self.images.shape[0]

    def load(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.images[np.asarray(indices, dtype=np.int64)]


@dataclasses.dataclass(frozen=True)
class FileSource:
    """Images read on demand from files (or members of one zip), each passed through `preprocess`."""

    names: tuple[str, ...]
    read_bytes: Callable[[str], bytes]
    preprocess: Callable[[np.ndarray], np.ndarray]

    def __len__(self) -> int:
        return len(self.names)

    def load(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        images = []
        for i in indices:
            try:
                images.append(self.preprocess(_decode(self.names[i], self.read_bytes)))
            except InrdictError as error:
                raise InrdictError(f"image {self.names[i]}: {error}") from None
        return np.stack(images)


@dataclasses.dataclass(frozen=True)
class FaceDataset:
    name: str
    grid_size: int
    train: ImageSource
    validation: ImageSource
    test: ImageSource

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


def _decode(name: str, read_bytes: Callable[[str], bytes]) -> np.ndarray:
    try:
        raw = read_bytes(name)
    except (OSError, KeyError) as error:
        raise InrdictError(f"could not read image {name}: {error}") from None
    return data.decode_image(raw, name)


def preprocess_face(image: np.ndarray, grid_size: int, crop: int | None = None) -> np.ndarray:
    """Centre crop (`crop` pixels, default the largest square), grayscale, anti-aliased resize to the grid.

    An image smaller than `crop` is refused: cropping it differently would silently change the framing.
    """
    gray = data.to_grayscale(image.astype(np.float32))  # (H, W)
    if crop is not None and crop > min(gray.shape):
        raise InrdictError(
            f"it is {gray.shape[0]} x {gray.shape[1]} pixels, smaller than the {crop}-pixel CelebA crop "
            "(aligned CelebA images are 178 x 218): use --dataset folder for other images"
        )
    return data.resize(data.center_crop(gray, crop), grid_size)


def _split_indices(n: int, fractions: tuple[float, float], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded permutation cut into train / validation / test (each at least one item)."""
    if n < 3:
        raise InrdictError(f"need at least 3 images to make train / validation / test splits, found {n}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(fractions[0] * n))
    n_test = max(1, round(fractions[1] * n))
    return order[: n - n_val - n_test], order[n - n_val - n_test : n - n_test], order[n - n_test :]


def lfw_faces(grid_size: int, n_validation: int = 5, n_test: int = 35, seed: int = 0) -> FaceDataset:
    """The 100 real faces of `skimage.data.lfw_subset()` (25 x 25), resized to the grid, split by a fixed seed.

    Default split: 60 meta-train / 5 validation / 35 held-out test faces.
    """
    import skimage.data

    faces = skimage.data.lfw_subset()[:100].astype(np.float32)  # images 100..199 are non-face patches
    images = np.stack([data.resize(face, grid_size) for face in faces])
    order = np.random.default_rng(seed).permutation(len(images))
    n_train = len(images) - n_validation - n_test
    if n_train < 1:
        raise InrdictError(f"LFW has 100 faces: cannot hold out {n_validation} + {n_test} of them")
    parts = np.split(order, [n_train, n_train + n_validation])
    return FaceDataset("lfw", grid_size, *(ArraySource(images[p]) for p in parts))


def _read_partition(text: str, source: str) -> dict[str, int]:
    partition = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise InrdictError(f"{source} line {number} is malformed: expected '<file> <0|1|2>', got {line.strip()!r}")
        partition[fields[0]] = int(fields[1])
    if not partition:
        raise InrdictError(f"{source} lists no images")
    return partition


def celeba(data_dir: str | os.PathLike, grid_size: int) -> FaceDataset:
    """CelebA from `data_dir`: `img_align_celeba/*.jpg` + `list_eval_partition.txt`, or a zip holding them.

    Accepted layouts: the folder with both; the folder with `img_align_celeba.zip` (partition file inside the zip or
    beside it); or `data_dir` itself a zip. Every listed image must be present (checked up front).
    """
    path = Path(data_dir)
    if not path.exists():
        raise InrdictError(
            f"CelebA folder not found: {path} (pass --data-dir with img_align_celeba/ and {PARTITION_FILE})"
        )
    archive = path if path.is_file() else path / "img_align_celeba.zip"
    if path.is_dir() and (path / "img_align_celeba").is_dir():
        image_dir = path / "img_align_celeba"
        available = {name: str(image_dir / name) for name in os.listdir(image_dir)}
        read_bytes = lambda name: Path(name).read_bytes()  # noqa: E731
        partition_text = _partition_text(path / PARTITION_FILE, None)
    elif archive.is_file():
        if not zipfile.is_zipfile(archive):
            raise InrdictError(f"{archive} is not a readable zip file")
        zip_file = zipfile.ZipFile(archive)
        members = zip_file.namelist()
        available = {Path(m).name: m for m in members if Path(m).suffix.lower() in IMAGE_SUFFIXES}
        inside = next((m for m in members if Path(m).name == PARTITION_FILE), None)
        partition_text = _partition_text(
            archive.parent / PARTITION_FILE, zip_file.read(inside).decode() if inside else None
        )
        read_bytes = zip_file.read
    else:
        raise InrdictError(f"no CelebA images in {path}: expected img_align_celeba/ or img_align_celeba.zip there")
    partition = _read_partition(partition_text, PARTITION_FILE)
    missing = sorted(name for name in partition if name not in available)
    if missing:  # found now, not hours into a run when one of them is drawn
        raise InrdictError(
            f"{PARTITION_FILE} lists {len(missing)} image(s) missing from {path}, e.g. {', '.join(missing[:3])}: "
            "complete the image folder or remove those lines"
        )
    splits: list[list[str]] = [[], [], []]
    for name in sorted(partition):
        splits[partition[name]].append(available[name])
    for label, names in zip(("train", "validation", "test"), splits):
        if not names:
            raise InrdictError(
                f"the CelebA {label} split has no images in {path}: check {PARTITION_FILE} and the images"
            )
    preprocess = lambda image: preprocess_face(image, grid_size, CELEBA_CROP)  # noqa: E731
    return FaceDataset("celeba", grid_size, *(FileSource(tuple(names), read_bytes, preprocess) for names in splits))


def _partition_text(beside: Path, inside: str | None) -> str:
    if inside is not None:
        return inside
    if not beside.is_file():
        raise InrdictError(f"CelebA partition file missing: {beside} (lines '<file> <0|1|2>')")
    return beside.read_text()


def image_folder(folder: str | os.PathLike, grid_size: int, seed: int = 0) -> FaceDataset:
    """Every image in `folder` (sorted), centre-cropped, gray, resized; seeded 80 / 10 / 10 % split."""
    path = Path(folder)
    if not path.is_dir():
        raise InrdictError(f"image folder not found: {path}")
    files = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InrdictError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {path}")
    parts = _split_indices(len(files), (0.1, 0.1), seed)
    read_bytes = lambda name: Path(name).read_bytes()  # noqa: E731
    preprocess = lambda image: preprocess_face(image, grid_size)  # noqa: E731
    return FaceDataset(
        "folder", grid_size, *(FileSource(tuple(files[i] for i in p), read_bytes, preprocess) for p in parts)
    )


def load_faces(name: str, grid_size: int, data_dir: str | None = None, seed: int = 0) -> FaceDataset:
    """Dispatch: "lfw" (embedded), "celeba" (needs `data_dir`), "folder" (needs `data_dir`)."""
    if name == "lfw":
        if data_dir is not None:
            raise InrdictError(
                f"--data-dir {data_dir} is not used by the embedded lfw faces: use --preset paper (CelebA) or --dataset folder"
            )
        return lfw_faces(grid_size, seed=seed)
    if name in ("celeba", "folder") and data_dir is None:
        raise InrdictError(f"the {name} dataset needs --data-dir")
    if name == "celeba":
        assert data_dir is not None  # checked above
        return celeba(data_dir, grid_size)
    if name == "folder":
        assert data_dir is not None
        return image_folder(data_dir, grid_size, seed)
    raise InrdictError(f"unknown dataset {name!r}: choose lfw, celeba or folder")


def held_out_faces(
    dataset: str, grid_size: int, data_dir: str | None, seed: int, n_test: int
) -> tuple[str, np.ndarray]:
    """(dataset name, held-out faces (m, grid_size²)): the first `n_test` of the test split (all when fewer),
    refusing an empty split."""
    faces = load_faces(dataset, grid_size, data_dir, seed)
    if len(faces.test) < 1:
        raise InrdictError(f"the {faces.name} test split is empty: nothing to measure")
    test = faces.test.load(range(min(n_test, len(faces.test))))
    return faces.name, test.reshape(test.shape[0], -1)

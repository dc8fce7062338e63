import zipfile

import numpy as np
import pytest
from PIL import Image

from inrdict.errors import InrdictError
from inrdict.io import data
from inrdict.io.datasets import celeba, image_folder, lfw_faces, load_faces, preprocess_face

SPLITS = {"000001.jpg": 0, "000002.jpg": 0, "000003.jpg": 0, "000004.jpg": 1, "000005.jpg": 2, "000006.jpg": 2}


def make_celeba(root):
    rng = np.random.default_rng(0)
    (root / "img_align_celeba").mkdir(parents=True)
    for name in SPLITS:
        pixels = (rng.random((218, 178, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / "img_align_celeba" / name, quality=95)
    (root / "list_eval_partition.txt").write_text("".join(f"{k} {v}\n" for k, v in SPLITS.items()))
    return root


def test_celeba_folder_splits_and_preprocessing(tmp_path):
    root = make_celeba(tmp_path / "celeba")
    faces = celeba(root, 16)
    assert faces.sizes() == {"train": 3, "validation": 1, "test": 2}
    images = faces.train.load([0, 2])
    assert images.shape == (2, 16, 16) and images.dtype == np.float32 and 0 <= images.min() <= images.max() <= 1
    raw = np.asarray(Image.open(root / "img_align_celeba" / "000003.jpg"), np.float32) / 255
    expected = data.resize(data.center_crop(data.to_grayscale(raw), 178), 16)
    assert np.allclose(images[1], expected, atol=1e-6)
    assert np.allclose(faces.test.load([1])[0], preprocess_face(
        np.asarray(Image.open(root / "img_align_celeba" / "000006.jpg"), np.float32) / 255, 16, 178), atol=1e-6)


@pytest.mark.parametrize("partition_inside", [True, False])
def test_celeba_zip(tmp_path, partition_inside):
    root = make_celeba(tmp_path / "src")
    out = tmp_path / "zipped"
    out.mkdir()
    with zipfile.ZipFile(out / "img_align_celeba.zip", "w") as archive:
        for name in SPLITS:
            archive.write(root / "img_align_celeba" / name, f"img_align_celeba/{name}")
        if partition_inside:
            archive.write(root / "list_eval_partition.txt", "list_eval_partition.txt")
    if not partition_inside:
        (out / "list_eval_partition.txt").write_text((root / "list_eval_partition.txt").read_text())
    from_zip, from_folder = celeba(out, 8), celeba(root, 8)
    assert from_zip.sizes() == from_folder.sizes()
    assert np.array_equal(from_zip.test.load([0, 1]), from_folder.test.load([0, 1]))


def test_celeba_errors(tmp_path):
    with pytest.raises(InrdictError, match="CelebA folder not found"):
        celeba(tmp_path / "nowhere", 8)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InrdictError, match="no CelebA images"):
        celeba(empty, 8)
    root = make_celeba(tmp_path / "c")
    (root / "list_eval_partition.txt").unlink()
    with pytest.raises(InrdictError, match="partition file missing"):
        celeba(root, 8)
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg train\n")
    with pytest.raises(InrdictError, match="line 2 is malformed"):
        celeba(root, 8)
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n000004.jpg 1\n")
    with pytest.raises(InrdictError, match="test split has no images"):
        celeba(root, 8)
    (root / "list_eval_partition.txt").write_text("".join(f"{k} {v}\n" for k, v in SPLITS.items()))
    (root / "img_align_celeba" / "000005.jpg").write_bytes(b"broken")
    with pytest.raises(InrdictError, match="could not read image .*000005.jpg"):
        celeba(root, 8).test.load([0])


def test_lfw_split_is_deterministic_and_disjoint():
    a, b = lfw_faces(12), lfw_faces(12)
    assert a.sizes() == {"train": 60, "validation": 5, "test": 35}
    train, val, test = (s.load(range(len(s))) for s in (a.train, a.validation, a.test))
    assert np.array_equal(test, b.test.load(range(35)))
    assert train.shape == (60, 12, 12)
    flat = {img.tobytes() for img in np.concatenate([train, val, test])}
    assert len(flat) == 100  # no face in two splits


def test_any_image_folder(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(10):
        shape = (30 + i, 40, 3) if i % 2 else (25, 25)
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(tmp_path / f"img{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    faces = image_folder(tmp_path, 8)
    assert sum(faces.sizes().values()) == 10 and faces.test.load([0]).shape == (1, 8, 8)
    with pytest.raises(InrdictError, match="no images"):
        image_folder(tmp_path / "sub" if (tmp_path / "sub").mkdir() is None else None, 8)
    with pytest.raises(InrdictError, match="needs --data-dir"):
        load_faces("celeba", 8)


def test_folder_images_decode_like_load_image(tmp_path):
    """16-bit grayscale is scaled by 65535 and RGBA is composited over white, as `data.load_image` does."""
    ramp = (np.linspace(0, 65535, 16 * 16).reshape(16, 16)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "a16.png")
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent: white after compositing
    Image.fromarray(rgba).save(tmp_path / "b_rgba.png")
    Image.fromarray((ramp // 257).astype(np.uint8)).save(tmp_path / "c8.png")
    faces = image_folder(tmp_path, 16)
    loaded = {}
    for source in (faces.train, faces.validation, faces.test):
        for i, name in enumerate(source.names):
            loaded[name.rsplit("/", 1)[-1]] = source.load([i])[0]
    assert np.allclose(loaded["a16.png"], data.load_image(tmp_path / "a16.png"), atol=1e-6)
    assert 0.45 < loaded["a16.png"].mean() < 0.55
    assert np.allclose(loaded["b_rgba.png"], 1.0)


def test_data_dir_with_embedded_faces_is_an_error():
    with pytest.raises(InrdictError, match="not used by the embedded lfw"):
        load_faces("lfw", 8, data_dir="/some/where")


def test_celeba_listing_missing_images_is_refused_up_front(tmp_path):
    root = make_celeba(tmp_path / "c")
    (root / "img_align_celeba" / "000002.jpg").unlink()
    (root / "img_align_celeba" / "000005.jpg").unlink()
    with pytest.raises(InrdictError, match=r"lists 2 image\(s\) missing .* e\.g\. 000002\.jpg, 000005\.jpg"):
        celeba(root, 8)


def test_celeba_crop_refuses_small_images(tmp_path):
    root = make_celeba(tmp_path / "c")
    Image.fromarray(np.zeros((100, 90, 3), np.uint8)).save(root / "img_align_celeba" / "000005.jpg")
    faces = celeba(root, 8)
    with pytest.raises(InrdictError, match="000005.jpg: it is 100 x 90 pixels, smaller than the 178-pixel CelebA crop"):
        faces.test.load([0])


def test_seed_reaches_the_lfw_split():
    a, b = load_faces("lfw", 8, seed=0), load_faces("lfw", 8, seed=1)
    assert a.sizes() == b.sizes()
    assert not np.array_equal(a.test.load(range(35)), b.test.load(range(35)))

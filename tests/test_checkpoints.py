import errno
import json
import os
import pickle
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inrdict.errors import InrdictError
from inrdict.io.checkpoints import (
    import_haiku_siren,
    load_model,
    load_numpy_pickle,
    model_config,
    model_from_config,
    save_model,
)
from inrdict.io.data import ntk_grid
from inrdict.models import FFN, ReluMLP, Siren, count_parameters, gaussian_frequencies

REFERENCE = (
    Path(os.environ.get("INRDICT_REFERENCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "reference"))
    / "seed_maml_celebA_5000.pickle"
)
HAIKU_NAMES = ["siren/siren_layer/linear"] + [f"siren/siren_layer_{k}/linear" for k in range(1, 5)]

FAMILIES = {
    "relu": lambda key: ReluMLP(2, (16, 8), 1, key=key),
    "ffn": lambda key: FFN(gaussian_frequencies(jax.random.fold_in(key, 1), 12, 2, 10.0), (16, 16), 3, key=key),
    "siren-ntk": lambda key: Siren(2, (16, 16, 16), 1, convention="ntk", key=key),
    "siren-fit": lambda key: Siren(1, (8,), 2, first_omega0=20.0, hidden_omega0=25.0, convention="fit", key=key),
}


def assert_same_model(model, loaded, x):
    assert type(loaded) is type(model)
    assert bool(eqx.tree_equal(model, loaded))
    for a, b in zip(jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(loaded)):
        assert a.dtype == b.dtype
    np.testing.assert_array_equal(np.asarray(jax.vmap(loaded)(x)), np.asarray(jax.vmap(model)(x)))


def points(key, n, d, dtype=jnp.float32):
    return jax.random.uniform(key, (n, d), dtype)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_round_trip(family, getkey, tmp_path):
    model = FAMILIES[family](getkey())
    metadata = {"note": "après 5 steps", "steps": 5, "psnr": [31.5, 32.25], "nested": {"ok": True, "none": None}}
    path = save_model(tmp_path / "model.npz", model, metadata=metadata)
    assert path == tmp_path / "model.npz" and os.listdir(tmp_path) == ["model.npz"]
    loaded, loaded_metadata = load_model(path)
    assert loaded_metadata == metadata
    assert_same_model(model, loaded, points(getkey(), 50, model.in_features))
    # Plain arrays only: the file loads without pickle and its header is readable JSON.
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(npz["__meta__"].tobytes().decode())
        assert all(npz[name].dtype != object for name in npz.files)
    assert meta["format"] == "inrdict-checkpoint" and meta["format_version"] == 1
    assert meta["model"] == model_config(model)


def test_model_config_describes_the_model(getkey):
    siren = Siren(3, (32, 16), 2, first_omega0=10.0, hidden_omega0=20.0, convention="fit", key=getkey())
    assert model_config(siren) == {
        "family": "Siren", "in_features": 3, "hidden": [32, 16], "out_features": 2, "dtype": "float32",
        "first_omega0": 10.0, "hidden_omega0": 20.0, "convention": "lucidrains",  # "fit" is its SPEC name
    }  # fmt: skip
    ffn = FFN(jnp.ones((7, 2)), (16,), 3, key=getkey())
    config = model_config(ffn)
    assert config["family"] == "FFN" and config["n_frequencies"] == 7 and config["in_features"] == 2
    skeleton = model_from_config(json.loads(json.dumps(config)))
    assert jax.tree_util.tree_structure(skeleton) == jax.tree_util.tree_structure(ffn)
    assert [leaf.shape for leaf in jax.tree_util.tree_leaves(skeleton)] == [
        leaf.shape for leaf in jax.tree_util.tree_leaves(ffn)
    ]
    with pytest.raises(InrdictError, match="unknown model family"):
        model_from_config({**config, "family": "Transformer"})
    with pytest.raises(InrdictError, match="invalid FFN"):
        model_from_config({k: v for k, v in config.items() if k != "n_frequencies"})
    with pytest.raises(InrdictError, match="cannot describe a Linear"):
        model_config(eqx.nn.Linear(2, 3, key=getkey()))


def test_round_trip_float64(getkey, tmp_path):
    with jax.enable_x64(True):
        model = Siren(2, (16, 16), 1, convention="fit", key=getkey(), dtype=jnp.float64)
        save_model(tmp_path / "model64.npz", model)
        loaded, metadata = load_model(tmp_path / "model64.npz")
        assert metadata == {}
        assert loaded.layers[0].weight.dtype == jnp.float64
        assert_same_model(model, loaded, points(getkey(), 20, 2, jnp.float64))
    with pytest.raises(InrdictError, match="jax_enable_x64"):
        load_model(tmp_path / "model64.npz")


def failing_savez(file, **arrays):
    file.write(b"PK\x03\x04 half a zip")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_failed_save_keeps_previous_checkpoint(getkey, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = Siren(2, (8,), 1, key=getkey())
    save_model(path, old, metadata={"version": "old"})
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(InrdictError, match="No space left"):
        save_model(path, Siren(2, (8,), 1, key=getkey()), metadata={"version": "new"})
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]

    def crash(file, **arrays):
        file.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, Siren(2, (8,), 1, key=getkey()))
    with pytest.raises(KeyboardInterrupt):
        save_model(tmp_path / "fresh.npz", old)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]
    monkeypatch.undo()
    loaded, metadata = load_model(path)
    assert metadata == {"version": "old"} and bool(eqx.tree_equal(loaded, old))
    # A successful save replaces the file.
    new = ReluMLP(2, (4,), 1, key=getkey())
    save_model(path, new)
    assert bool(eqx.tree_equal(load_model(path)[0], new)) and os.listdir(tmp_path) == ["model.npz"]


def rewrite(path, out, *, meta=None, drop=(), replace=None):
    """Copy a checkpoint with its __meta__ JSON edited by `meta(dict)` and arrays dropped or replaced."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files if name not in drop}
    if meta is not None:
        header = json.loads(arrays["__meta__"].tobytes())
        meta(header)
        arrays["__meta__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    arrays.update(replace or {})
    np.savez(out, **arrays)
    return out


def load_error(path) -> str:
    with pytest.raises(InrdictError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_bad_checkpoints_raise_inrdict_error(getkey, tmp_path):
    good = save_model(tmp_path / "good.npz", Siren(2, (8, 8), 1, key=getkey()))
    data = good.read_bytes()
    assert "no such file" in load_error(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello, I am not a zip file")
    assert "not a zip archive" in load_error(tmp_path / "text.npz")
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    load_error(tmp_path / "truncated.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    load_error(tmp_path / "empty.npz")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # inside leaf data: the zip CRC catches it
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    load_error(tmp_path / "flipped.npz")
    np.save(tmp_path / "array.npy", np.ones(3))
    assert "single .npy" in load_error(tmp_path / "array.npy")
    np.savez(tmp_path / "plain.npz", leaf_000=np.ones(3))
    assert "no __meta__" in load_error(tmp_path / "plain.npz")
    bad = tmp_path / "bad.npz"
    assert "format" in load_error(rewrite(good, bad, meta=lambda m: m.update(format="other-format")))
    assert "version 2" in load_error(rewrite(good, bad, meta=lambda m: m.update(format_version=2)))
    assert "Mamba" in load_error(rewrite(good, bad, meta=lambda m: m["model"].update(family="Mamba")))
    assert "found 5" in load_error(rewrite(good, bad, drop=("leaf_005",)))
    extra = {"leaf_006": np.ones(2, np.float32)}
    assert "found 7" in load_error(rewrite(good, bad, replace=extra))
    wrong_shape = {"leaf_002": np.ones((8, 3), np.float32)}
    assert "leaf_002" in load_error(rewrite(good, bad, replace=wrong_shape))
    wrong_dtype = {"leaf_000": np.ones(8, np.int32)}
    assert "leaf_000" in load_error(rewrite(good, bad, replace=wrong_dtype))
    assert "hidden" in str(model_config(load_model(good)[0]))  # the original still loads


class Pwn:
    def __init__(self, call, argument):
        self.call, self.argument = call, argument

    def __reduce__(self):
        return self.call, (self.argument,)


def test_object_arrays_in_npz_are_never_unpickled(getkey, tmp_path):
    good = save_model(tmp_path / "good.npz", ReluMLP(2, (4,), 1, key=getkey()))
    marker = tmp_path / "pwned"
    evil = np.array([Pwn(os.system, f"echo pwned > {marker}")], dtype=object)
    load_error(rewrite(good, tmp_path / "evil.npz", replace={"leaf_000": evil}))
    assert not marker.exists()


def haiku_params(rng, sizes, dtype=np.float32):
    """Random Haiku-style SIREN params: w (in, out), b (out,), with SIREN-like scales."""
    params = {}
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / n_in if index == 0 else np.sqrt(6.0 / n_in) / 30.0
        name = "siren/siren_layer/linear" if index == 0 else f"siren/siren_layer_{index}/linear"
        params[name] = {
            "w": rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype),
            "b": rng.uniform(-bound, bound, (n_out,)).astype(dtype),
        }
    return params


def haiku_forward(params, r):
    """The authors' forward pass, in NumPy float64: sin(30(r w + b)) per hidden layer, linear output + 0.5."""
    names = ["siren/siren_layer/linear"] + [f"siren/siren_layer_{k}/linear" for k in range(1, len(params))]
    layers = [params[name] for name in names]
    h = np.asarray(r, np.float64)
    for layer in layers[:-1]:
        h = np.sin(30.0 * (h @ layer["w"].astype(np.float64) + layer["b"]))
    return h @ layers[-1]["w"].astype(np.float64) + layers[-1]["b"] + 0.5


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_import_haiku_siren(protocol, tmp_path):
    rng = np.random.default_rng(protocol)
    params = haiku_params(rng, (2, 16, 16, 1))
    path = tmp_path / "params.pickle"
    with path.open("wb") as file:
        pickle.dump(params, file, protocol=protocol)
    model = import_haiku_siren(path)
    assert isinstance(model, Siren) and model.convention == "ntk"
    assert (model.first_omega0, model.hidden_omega0) == (30.0, 30.0)
    assert (model.in_features, model.hidden, model.out_features) == (2, (16, 16), 1)
    assert count_parameters(model) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    r = rng.uniform(0, 1, (100, 2)).astype(np.float32)
    with jax.default_matmul_precision("highest"):
        out = np.asarray(jax.vmap(model)(jnp.asarray(r)))
    np.testing.assert_allclose(out, haiku_forward(params, r), rtol=0, atol=1e-5)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_load_numpy_pickle_reads_arrays_and_scalars(protocol, tmp_path):
    data = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": [np.float64(2.5), np.int64(3)], "c": (1, "x")}
    data["f"] = np.asfortranarray(np.ones((3, 2)))
    path = tmp_path / "data.pickle"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    loaded = load_numpy_pickle(path)
    assert loaded.keys() == data.keys() and loaded["c"] == (1, "x")
    np.testing.assert_array_equal(loaded["a"], data["a"])
    np.testing.assert_array_equal(loaded["f"], data["f"])
    assert loaded["a"].dtype == np.float32 and loaded["b"] == [2.5, 3] and type(loaded["b"][0]) is np.float64


@pytest.mark.parametrize(
    "make",
    [
        lambda marker: Pwn(os.system, f"echo pwned > {marker}"),
        lambda marker: Pwn(eval, f"open({str(marker)!r}, 'w').write('pwned')"),
        lambda marker: {"siren/siren_layer/linear": {"w": np.ones((2, 2)), "b": Pwn(os.system, f"touch {marker}")}},
    ],
    ids=["os.system", "eval", "nested"],
)
def test_malicious_pickle_is_refused(make, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps(make(marker), protocol=4))
    for load in (load_numpy_pickle, import_haiku_siren):
        with pytest.raises(InrdictError, match=r"refusing to load .*asks for (posix|builtins)\.(system|eval)"):
            load(path)
    assert not marker.exists()


def test_persistent_ids_and_codecs_abuse_are_refused(tmp_path):
    class WithPersistentIds(pickle.Pickler):
        def persistent_id(self, obj):
            return "some-id" if obj == "external" else None

    path = tmp_path / "persistent.pickle"
    with path.open("wb") as file:
        WithPersistentIds(file, protocol=2).dump({"x": "external"})
    with pytest.raises(InrdictError, match="persistent ids"):
        load_numpy_pickle(path)
    # _codecs.encode is allowed only as protocol 2's latin1 bytes trick, not for other codecs.
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x06\x00\x00\x00rot_13\x86R.")
    with pytest.raises(InrdictError, match="corrupt or unsupported"):
        load_numpy_pickle(path)


def test_corrupt_pickles_raise_inrdict_error(tmp_path):
    good = pickle.dumps(haiku_params(np.random.default_rng(0), (2, 4, 1)), protocol=4)
    for name, data in {"truncated": good[: len(good) // 2], "garbage": b"\x80\x04garbage", "empty": b""}.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InrdictError) as info:
            load_numpy_pickle(tmp_path / name)
        assert "\n" not in str(info.value) and name in str(info.value)
    with pytest.raises(InrdictError, match="cannot read"):
        load_numpy_pickle(tmp_path / "missing.pickle")


def bad_structures():
    rng = np.random.default_rng(0)
    ok = haiku_params(rng, (2, 8, 8, 1))
    yield "not a dict", [1, 2]
    yield "empty", {}
    yield "one layer", {"siren/siren_layer/linear": ok["siren/siren_layer/linear"]}
    yield "bad name", {**ok, "mlp/linear": ok["siren/siren_layer/linear"]}
    yield "gap", {k: v for k, v in ok.items() if k != "siren/siren_layer_1/linear"}
    yield "missing b", {**ok, "siren/siren_layer_1/linear": {"w": np.ones((8, 8), np.float32)}}
    yield "extra key", {**ok, "siren/siren_layer_1/linear": {**ok["siren/siren_layer_1/linear"], "v": np.ones(3)}}
    yield "3-D w", {**ok, "siren/siren_layer_2/linear": {"w": np.ones((8, 1, 1)), "b": np.ones(1)}}
    yield "chain", {**ok, "siren/siren_layer_2/linear": {"w": np.ones((7, 1)), "b": np.ones(1)}}
    yield "bias size", {**ok, "siren/siren_layer_2/linear": {"w": np.ones((8, 1)), "b": np.ones(2)}}
    yield "ints", {**ok, "siren/siren_layer_2/linear": {"w": np.ones((8, 1), int), "b": np.ones(1, int)}}
    yield "list", {**ok, "siren/siren_layer_2/linear": {"w": [[1.0]] * 8, "b": np.ones(1)}}
    yield "nan", {**ok, "siren/siren_layer_2/linear": {"w": np.full((8, 1), np.nan), "b": np.ones(1)}}


@pytest.mark.parametrize("case", list(bad_structures()), ids=lambda case: case[0])
def test_import_haiku_siren_validates_structure(case, tmp_path):
    path = tmp_path / "params.pickle"
    path.write_bytes(pickle.dumps(case[1], protocol=4))
    with pytest.raises(InrdictError, match="not a Haiku SIREN parameter dict"):
        import_haiku_siren(path)


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference pickle not found at {REFERENCE}")
def test_reference_meta_siren(tmp_path):
    raw = load_numpy_pickle(REFERENCE)
    assert sorted(raw) == sorted(HAIKU_NAMES)
    assert raw[HAIKU_NAMES[0]]["w"].shape == (2, 256) and raw[HAIKU_NAMES[-1]]["w"].shape == (256, 1)
    assert all(a.dtype == np.float32 for layer in raw.values() for a in layer.values())
    model = import_haiku_siren(REFERENCE)
    assert isinstance(model, Siren) and model.convention == "ntk"
    assert (model.in_features, model.hidden, model.out_features) == (2, (256,) * 4, 1)
    assert count_parameters(model) == 198_401
    grid = ntk_grid(64)
    with jax.default_matmul_precision("highest"):
        out = np.asarray(jax.vmap(model)(jnp.asarray(grid)))
    assert out.shape == (64 * 64, 1)
    np.testing.assert_allclose(out, haiku_forward(raw, grid), rtol=0, atol=1e-5)
    path = save_model(tmp_path / "meta_siren.npz", model, metadata={"source": REFERENCE.name})
    loaded, metadata = load_model(path)
    assert metadata == {"source": REFERENCE.name}
    assert_same_model(model, loaded, jnp.asarray(grid))

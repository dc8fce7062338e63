"""Reading PyTorch checkpoints without PyTorch: the reference implementations' state dicts import into inrdict's
families and give the outputs PyTorch gave (fixtures from `scripts/make_torch_fixtures.py`), and a pickle that asks
for anything but tensors is refused before it runs."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import jax
import numpy as np
import pytest

from inrdict.cli import main
from inrdict.errors import InrdictError
from inrdict.io.checkpoints import load_model, load_weights, save_model
from inrdict.io.reference_weights import (
    UNIT_GRID,
    GridConvention,
    grid_of,
    import_reference,
    import_torch_weights,
    layout_of,
    model_from_state_dict,
    on_unit_grid,
)
from inrdict.io.torch_checkpoint import load_torch_checkpoint, state_dict_of
from inrdict.models import MFN, ComplexWire, Finer, GaussINR, OnDomain, Siren
from tests.conftest import load_npz

FIXTURES = Path(__file__).parent / "fixtures" / "torch"
OUTPUTS = load_npz(FIXTURES / "outputs.npz")
LUCIDRAINS = {"hidden_omega0": 1.0, "final_activation": "identity"}  # SirenNet(w0 = 1.), final_activation=nn.Identity()
CASES = {  # fixture: (family, inrdict class, layout, the settings the references disagree on)
    "siren": ("siren", Siren, "sequential", {}),
    "siren_modules": ("siren", Siren, "siren_modules", {}),
    "siren_lucidrains": ("siren", Siren, "lucidrains", LUCIDRAINS),
    "siren_lucidrains_net": ("siren", Siren, "lucidrains", LUCIDRAINS | {"hidden_omega0": 30.0}),  # early: self.net
    "siren_legacy": ("siren", Siren, "sequential", {}),
    "finer": ("finer", Finer, "sequential", {}),
    "finer_wrapped": ("finer", Finer, "sequential", {}),
    "gauss": ("gauss", GaussINR, "sequential", {"scale": 30.0}),  # liuzhen0212/FINER Gauss(scale=30.0)
    "gauss_wire": ("gauss", GaussINR, "sequential", {"scale": 10.0}),  # vishwa91/wire gauss.py INR(scale=10.0)
    "wire": ("wire", ComplexWire, "sequential", {}),
    "mfn_gabor": ("mfn", MFN, "mfn", {}),
    "mfn_fourier": ("mfn", MFN, "mfn", {}),
    "mfn_wire": ("mfn", MFN, "mfn", {}),
}
GRIDS = {  # fixture: the indexing its reference's script builds, and whether the import must be told it
    "siren": ("ij", True),  # explore_siren.ipynb get_mgrid; vishwa91/wire's siren.py INR would be xy
    "siren_modules": ("ij", False),  # dataio.py get_mgrid
    "siren_lucidrains": ("ij", False),  # SirenWrapper
    "siren_lucidrains_net": ("ij", False),
    "finer": ("ij", False),  # train_image.py
    "gauss": ("ij", True),  # FINER's train_image.py; vishwa91's scripts are xy
    "gauss_wire": ("xy", True),
    "wire": ("xy", True),  # wire_image_denoise.py; FINER's train_image.py would be ij
    "mfn_gabor": ("ij", False),  # boschresearch mfn/data.py
    "mfn_fourier": ("ij", False),
    "mfn_wire": ("xy", False),  # vishwa91/wire: its gabon_filters keys name the source
}


def _close(got, want, scale=None):
    """Equal to float32 rounding: within 1e-5 of the output's scale."""
    scale = np.abs(want).max() if scale is None else scale
    assert scale > 0.1  # a fixture whose output vanishes would test nothing
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_state_dicts_give_the_outputs_pytorch_gave(name):
    family, cls, layout, knobs = CASES[name]
    state = state_dict_of(load_torch_checkpoint(FIXTURES / f"{name}.pt"), name)
    assert layout_of(state) == layout
    model = model_from_state_dict(state, family, knobs)  # on the reference's own coordinates
    assert isinstance(model, cls)
    _close(np.asarray(jax.vmap(model)(OUTPUTS["points"]))[:, 0], OUTPUTS[name])
    on_unit = import_torch_weights(FIXTURES / f"{name}.pt", family, knobs)  # on inrdict's [0, 1)² for the lens
    assert isinstance(on_unit.model, cls) and (on_unit.low, on_unit.high) == (-1.0, 1.0)
    r = (OUTPUTS["points"] + 1) / 2  # (row, column); a model whose source is known to train on xy is swapped
    _close(np.asarray(jax.vmap(on_unit)(r[:, ::-1] if GRIDS.get(name) == ("xy", False) else r))[:, 0], OUTPUTS[name])


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_each_layout_matches_pytorch_on_its_references_own_grid(name):
    family, cls, _, knobs = CASES[name]
    indexing, told = GRIDS[name]
    imported = import_reference(FIXTURES / f"{name}.pt", family, knobs | ({"indexing": indexing} if told else {}))
    assert isinstance(imported.model, cls) and imported.grid.indexing == indexing and imported.grid.endpoint
    shape = tuple(int(n) for n in OUTPUTS[f"{name}@shape"])
    points = imported.grid.points(shape)  # the script's own points, in the same order (pixel order)
    np.testing.assert_allclose(points, OUTPUTS[f"{name}@points"], rtol=0, atol=1e-6)
    got = np.asarray(jax.vmap(imported.model)(points))[:, 0]
    _close(got, OUTPUTS[f"{name}@grid"])
    if indexing == "xy":  # the other axis order is another image: transposed, not a rounding difference
        other = np.asarray(jax.vmap(imported.model)(dataclasses.replace(imported.grid, indexing="ij").points(shape)))
        assert np.abs(other[:, 0] - OUTPUTS[f"{name}@grid"]).max() > 1e-2 * np.abs(OUTPUTS[f"{name}@grid"]).max()


def test_grid_conventions():
    xy = GridConvention(-1.0, 1.0, True, "xy", "test")
    points = xy.points((2, 3))  # pixel (i, j) → (x_j, y_i), row-major
    np.testing.assert_array_equal(points, [[-1, -1], [0, -1], [1, -1], [-1, 1], [0, 1], [1, 1]])
    volume = xy.points((2, 3, 2)).reshape(2, 3, 2, 3)  # only the first two coordinates swap, as meshgrid's "xy"
    np.testing.assert_array_equal(volume[1, 2, 0], [1, 1, -1])
    np.testing.assert_array_equal(UNIT_GRID.points((4,))[:, 0], [0, 0.25, 0.5, 0.75])
    assert GridConvention.from_json(json.loads(json.dumps(xy.to_json()))) == xy
    for bad, message in [({"indexing": "yx"}, "indexing is 'ij' or 'xy'"), ({"low": 1.0}, "low < high"),
                         ({"width": 3}, "a grid convention is a dict with keys")]:  # fmt: skip
        with pytest.raises(InrdictError, match=message):
            GridConvention.from_json(bad)
    with pytest.raises(InrdictError, match="positive sizes"):
        xy.points((0, 3))


@pytest.mark.parametrize("name", ["wire", "mfn_wire", "gauss"])
def test_the_unit_grid_view_swaps_an_xy_models_inputs(name):
    family, _, _, knobs = CASES[name]
    imported = import_reference(FIXTURES / f"{name}.pt", family, knobs | {"indexing": GRIDS[name][0]})
    grid = imported.grid
    wrapped = on_unit_grid(imported.model, grid)  # a function of inrdict's (row, column) in [0, 1)²
    r = UNIT_GRID.points((5, 4))
    mapped = grid.low + (grid.high - grid.low) * (r[:, ::-1] if grid.indexing == "xy" else r)
    np.testing.assert_allclose(jax.vmap(wrapped)(r), jax.vmap(imported.model)(mapped), rtol=0, atol=1e-6)


def test_settings_the_file_holds_or_the_reference_defaults():
    wire = import_torch_weights(FIXTURES / "wire.pt", "wire").model
    assert (wire.omega0, wire.s0) == (20.0, 30.0)  # read from the saved omega_0 / scale_0 parameters
    lucid = import_reference(FIXTURES / "siren_lucidrains.pt", "siren", LUCIDRAINS)
    assert (lucid.model.first_omega0, lucid.model.hidden_omega0) == (30.0, 1.0)
    assert lucid.assumed == ("first_omega0",)  # w0_initial = 30 in every version; the others were set
    changed = import_torch_weights(FIXTURES / "siren.pt", "siren", {"first_omega0": 10.0}).model
    assert changed.first_omega0 == 10.0
    with pytest.raises(InrdictError, match="scale do not apply to an imported siren"):
        import_torch_weights(FIXTURES / "siren.pt", "siren", {"scale": 3.0})
    with pytest.raises(InrdictError, match="scale=ten: a number is needed"):
        import_torch_weights(FIXTURES / "gauss.pt", "gauss", {"scale": "ten"})


REFUSALS = [  # (fixture, family, settings given, what the one-line error says)
    ("siren_outermost_sine", "siren", {},
     r"\(net\.1\.linear\.weight\) is a sine / Gauss / Gabor layer, so the model was built with outermost_linear=False"),
    ("gauss_outermost", "gauss", {"scale": 10.0}, r"outermost_linear=False"),
    ("fcblock", "siren", {}, r"bare vsitzmann/siren modules\.py FCBlock.*outermost_linear"),
    ("gauss", "gauss", {"indexing": "ij"},
     r"does not hold scale .*FINER models\.py, train_image\.py: 30, vishwa91/wire modules/gauss\.py.*: 10\): pass --set"),
    ("siren_lucidrains", "siren", {"hidden_omega0": 1.0},
     r"final_activation \(SirenNet's last activation, only identity imports; .*: identity, .*: sine\): pass --set final_activation=identity"),
    ("siren_lucidrains", "siren", {"final_activation": "identity"}, r"hidden_omega0 \(.*w0 = 1\.\): 1, .*: 30\)"),
    ("siren_lucidrains", "siren", LUCIDRAINS | {"final_activation": "Sigmoid"},
     r"only a SirenNet whose final_activation is nn\.Identity\(\) imports"),
    ("wire", "wire", {}, r"indexing \(the training grid's axis order; .*: pass --set indexing=ij\|xy"),
    ("wire", "wire", {"indexing": "yx"}, r"indexing=yx: use indexing=ij or indexing=xy"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "family", "knobs", "message"), REFUSALS)
def test_what_would_change_the_function_is_refused_in_one_line(name, family, knobs, message, tmp_path, capsys):
    with pytest.raises(InrdictError, match=message) as caught:
        import_reference(FIXTURES / f"{name}.pt", family, knobs)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(FIXTURES / f"{name}.pt"))
    flags = [f"--set={k}={v}" for k, v in knobs.items()]
    assert main(["import-weights", str(FIXTURES / f"{name}.pt"), str(tmp_path / "out.npz"), "--family", family,
                 *flags]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("inrdict: error: ") and not (tmp_path / "out.npz").exists()


def test_a_state_dict_that_does_not_match_the_family_names_the_problem():
    state = state_dict_of(load_torch_checkpoint(FIXTURES / "siren.pt"), "siren")
    missing = {k: v for k, v in state.items() if k != "net.1.linear.weight"}
    with pytest.raises(InrdictError, match="missing key: layer 1's weight"):
        model_from_state_dict(missing, "siren")
    bad = dict(state) | {"net.1.linear.weight": np.zeros((16, 5), np.float32)}
    with pytest.raises(InrdictError, match=r"layer 1's weight is \(16, 5\), but the previous layer has 16 outputs"):
        model_from_state_dict(bad, "siren")
    with pytest.raises(InrdictError, match=r"unrecognised state dict key 'encoder\.weight'"):
        model_from_state_dict(dict(state) | {"encoder.weight": np.zeros((2, 2))}, "siren")
    plain = {k.replace("linear.", ""): v for k, v in state.items()}  # nn.Sequential(nn.Linear, …): no activations
    with pytest.raises(InrdictError, match=r"net\.0\.weight is a bare nn\.Linear"):
        model_from_state_dict(plain, "siren")
    with pytest.raises(InrdictError, match="real first layer and complex later layers"):
        model_from_state_dict(state, "wire")
    wire = state_dict_of(load_torch_checkpoint(FIXTURES / "wire.pt"), "wire")
    with pytest.raises(InrdictError, match="layer 1 is complex"):
        model_from_state_dict(wire, "siren")
    without = {k: v for k, v in wire.items() if not k.endswith("omega_0")}
    with pytest.raises(InrdictError, match=r"omega0 .*save it as net\.<i>\.omega_0; this file does not\): pass --set"):
        model_from_state_dict(without, "wire")
    with pytest.raises(InrdictError, match="choose one of siren, gauss, wire, finer, mfn"):
        model_from_state_dict(state, "relu")
    with pytest.raises(InrdictError, match="has the sequential layout, not that of a reference mfn"):
        model_from_state_dict(state, "mfn")
    mfn = state_dict_of(load_torch_checkpoint(FIXTURES / "mfn_gabor.pt"), "mfn")
    with pytest.raises(InrdictError, match=r"missing key: filters\.1\.gamma"):
        model_from_state_dict({k: v for k, v in mfn.items() if k != "filters.1.gamma"}, "mfn")
    modules = state_dict_of(load_torch_checkpoint(FIXTURES / "siren_modules.pt"), "siren")
    nerf = modules | {"net.net.0.0.weight": np.zeros((16, 26), np.float32)}  # a positional encoding's 26 inputs
    with pytest.raises(InrdictError, match="takes 26 inputs: a SingleBVPNet with mode='nerf'"):
        model_from_state_dict(nerf, "siren")


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _zip_checkpoint(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/byteorder", "little")
    return path


def test_a_malicious_checkpoint_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"net.0.linear.weight": _Exploit(marker)}, protocol=2)
    for path in (_zip_checkpoint(tmp_path / "evil.pt", payload), tmp_path / "evil_legacy.pt"):
        if path.suffix and not path.exists():  # the legacy stream: the magic number first, then the payload
            buffer = io.BytesIO()
            pickle.dump(0x1950A86A20F9469CFC6C, buffer, protocol=2)
            path.write_bytes(buffer.getvalue() + payload)
        with pytest.raises(InrdictError, match=r"refusing to load .*asks for (posix|os)\.system"):
            load_torch_checkpoint(path)
        assert not marker.exists()
    with pytest.raises(InrdictError, match="persistent id that is not a tensor storage"):
        load_torch_checkpoint(_zip_checkpoint(tmp_path / "pid.pt", b"\x80\x02U\x03abcQ."))  # BINPERSID of a string
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InrdictError, match="corrupt or unsupported PyTorch checkpoint"):
        load_torch_checkpoint(tmp_path / "junk.pt")
    assert main(["import-weights", str(tmp_path / "evil.pt"), str(tmp_path / "out.npz"), "--family", "siren"]) == 2
    assert not marker.exists() and not (tmp_path / "out.npz").exists()


def test_import_weights_writes_a_checkpoint_on_its_training_coordinates(tmp_path, capsys):
    out = tmp_path / "wire.npz"
    assert (
        main(["import-weights", str(FIXTURES / "wire.pt"), str(out), "--family", "wire", "--set", "indexing=xy"]) == 0
    )
    said = capsys.readouterr().out
    assert "ComplexWire 2 → [11, 11] → 1" in said and "(x, y) = (column, row) in [-1, 1]" in said
    assert "linspace(-1, 1, n) per axis (both ends), indexing 'xy' (vishwa91/wire" in said
    model, meta = load_model(out)  # no wrapper: the model takes the coordinates it was trained on
    assert (
        isinstance(model, ComplexWire) and meta["family"] == "wire" and meta["settings"] == {"omega0": 20.0, "s0": 30.0}
    )
    grid = grid_of(meta)
    assert (grid.low, grid.high, grid.endpoint, grid.indexing) == (-1.0, 1.0, True, "xy")
    _close(np.asarray(jax.vmap(model)(OUTPUTS["points"]))[:, 0], OUTPUTS["wire"])
    shape = tuple(int(n) for n in OUTPUTS["wire@shape"])
    image = np.asarray(jax.vmap(model)(grid.points(shape)))[:, 0].reshape(shape)  # pixel order: reshapes directly
    _close(image, OUTPUTS["wire@grid"].reshape(shape))
    on_unit = load_weights(out)  # the experiments' view: inrdict's [0, 1)² grid, (row, column) order
    assert isinstance(on_unit, OnDomain) and isinstance(on_unit.model, ComplexWire)
    # Given the grid's size, the unit grid's (row, column) = (k/n, l/n) lands exactly on the source's pixel (k, l):
    # the image the lens sees is the one the source renders (rows along y for an xy source), with no edge drift.
    n = 6
    exact = load_weights(out, grid_size=n)
    on_lens_grid = np.asarray(jax.vmap(exact)(UNIT_GRID.points((n, n))))[:, 0]
    _close(on_lens_grid, np.asarray(jax.vmap(model)(grid.points((n, n))))[:, 0])
    assert not np.allclose(np.asarray(jax.vmap(on_unit)(UNIT_GRID.points((n, n))))[:, 0], on_lens_grid, atol=1e-4)
    assert main(["import-weights", str(FIXTURES / "wire.pt"), str(out)]) == 2  # a .pt needs --family
    assert "name its family with --family" in capsys.readouterr().err


def test_checkpoints_imported_before_the_grid_was_recorded_still_load(tmp_path):
    legacy = import_torch_weights(FIXTURES / "siren.pt", "siren")  # what import-weights wrote then: an OnDomain
    path = save_model(tmp_path / "old.npz", legacy, metadata={"imported_from": "siren.pt", "family": "siren",
                                                              "coordinate_domain": [-1.0, 1.0]})  # fmt: skip
    model, meta = load_model(path)
    assert isinstance(model, OnDomain) and grid_of(meta) == UNIT_GRID and isinstance(load_weights(path), OnDomain)
    r = (OUTPUTS["points"] + 1) / 2  # it takes [0, 1)² and maps it to [-1, 1)²
    _close(np.asarray(jax.vmap(model)(r))[:, 0], OUTPUTS["siren"])


def test_reading_a_checkpoint_never_imports_torch():
    code = ("import sys; from inrdict.io.reference_weights import import_torch_weights; "
            f"import_torch_weights({str(FIXTURES / 'wire.pt')!r}, 'wire'); assert 'torch' not in sys.modules")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)

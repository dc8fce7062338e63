"""Reading PyTorch checkpoints without PyTorch: the reference implementations' state dicts import into inrdict's
families and give the outputs PyTorch gave (fixtures from `scripts/make_torch_fixtures.py`), and a pickle that asks
for anything but tensors is refused before it runs."""

from __future__ import annotations

import io
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
from inrdict.io.checkpoints import load_model
from inrdict.io.reference_weights import import_torch_weights, layout_of, model_from_state_dict
from inrdict.io.torch_checkpoint import load_torch_checkpoint, state_dict_of
from inrdict.models import MFN, ComplexWire, Finer, GaussINR, Siren

FIXTURES = Path(__file__).parent / "fixtures" / "torch"
OUTPUTS = np.load(FIXTURES / "outputs.npz")
CASES = {  # fixture: (family, inrdict class, layout)
    "siren": ("siren", Siren, "sequential"),
    "siren_modules": ("siren", Siren, "siren_modules"),
    "siren_lucidrains": ("siren", Siren, "lucidrains"),
    "siren_legacy": ("siren", Siren, "sequential"),
    "finer": ("finer", Finer, "sequential"),
    "finer_wrapped": ("finer", Finer, "sequential"),
    "gauss": ("gauss", GaussINR, "sequential"),
    "wire": ("wire", ComplexWire, "sequential"),
    "mfn_gabor": ("mfn", MFN, "mfn"),
    "mfn_fourier": ("mfn", MFN, "mfn"),
    "mfn_wire": ("mfn", MFN, "mfn"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_state_dicts_give_the_outputs_pytorch_gave(name):
    family, cls, layout = CASES[name]
    model = import_torch_weights(FIXTURES / f"{name}.pt", family)
    assert isinstance(model.model, cls) and (model.low, model.high) == (-1.0, 1.0)
    assert layout_of(state_dict_of(load_torch_checkpoint(FIXTURES / f"{name}.pt"), name)) == layout
    got = np.asarray(jax.vmap(model.model)(OUTPUTS["points"]))[:, 0]
    want = OUTPUTS[name]
    assert np.abs(want).max() > 0.1  # a fixture whose output vanishes would test nothing
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * np.abs(want).max() + 1e-7)


def test_settings_the_file_holds_or_the_reference_defaults():
    wire = import_torch_weights(FIXTURES / "wire.pt", "wire").model
    assert (wire.omega0, wire.s0) == (20.0, 30.0)  # read from the saved omega_0 / scale_0 parameters
    lucid = import_torch_weights(FIXTURES / "siren_lucidrains.pt", "siren").model
    assert (lucid.first_omega0, lucid.hidden_omega0, lucid.convention) == (30.0, 1.0, "fit")  # SirenNet(w0=1.)
    changed = import_torch_weights(FIXTURES / "siren.pt", "siren", {"first_omega0": 10.0}).model
    assert changed.first_omega0 == 10.0
    with pytest.raises(InrdictError, match="scale do not apply to an imported siren"):
        import_torch_weights(FIXTURES / "siren.pt", "siren", {"scale": 3.0})


def test_a_state_dict_that_does_not_match_the_family_names_the_problem():
    state = state_dict_of(load_torch_checkpoint(FIXTURES / "siren.pt"), "siren")
    missing = {k: v for k, v in state.items() if k != "net.1.linear.weight"}
    with pytest.raises(InrdictError, match="missing key: layer 1's weight"):
        model_from_state_dict(missing, "siren")
    bad = dict(state) | {"net.1.linear.weight": np.zeros((16, 5), np.float32)}
    with pytest.raises(InrdictError, match=r"layer 1's weight is \(16, 5\), but the previous layer has 16 outputs"):
        model_from_state_dict(bad, "siren")
    with pytest.raises(InrdictError, match="unrecognised state dict key 'encoder.weight'"):
        model_from_state_dict(dict(state) | {"encoder.weight": np.zeros((2, 2))}, "siren")
    with pytest.raises(InrdictError, match="real first layer and complex later layers"):
        model_from_state_dict(state, "wire")
    wire = state_dict_of(load_torch_checkpoint(FIXTURES / "wire.pt"), "wire")
    with pytest.raises(InrdictError, match="layer 1 is complex"):
        model_from_state_dict(wire, "siren")
    with pytest.raises(InrdictError, match="choose one of siren, finer, gauss, wire, mfn"):
        model_from_state_dict(state, "relu")
    with pytest.raises(InrdictError, match="has the sequential layout, not that of a reference mfn"):
        model_from_state_dict(state, "mfn")
    mfn = state_dict_of(load_torch_checkpoint(FIXTURES / "mfn_gabor.pt"), "mfn")
    with pytest.raises(InrdictError, match="missing key: filters.1.gamma"):
        model_from_state_dict({k: v for k, v in mfn.items() if k != "filters.1.gamma"}, "mfn")


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


def test_import_weights_writes_a_checkpoint_that_reloads(tmp_path, capsys):
    out = tmp_path / "wire.npz"
    assert main(["import-weights", str(FIXTURES / "wire.pt"), str(out), "--family", "wire"]) == 0
    assert "ComplexWire 2 → [11, 11] → 1" in capsys.readouterr().out
    model, meta = load_model(out)
    assert meta["family"] == "wire" and meta["coordinate_domain"] == [-1.0, 1.0]
    got = np.asarray(jax.vmap(model.model)(OUTPUTS["points"]))[:, 0]
    np.testing.assert_allclose(got, OUTPUTS["wire"], atol=1e-6)
    assert main(["import-weights", str(FIXTURES / "wire.pt"), str(out)]) == 2  # a .pt needs --family
    assert "name its family with --family" in capsys.readouterr().err


def test_reading_a_checkpoint_never_imports_torch():
    code = ("import sys; from inrdict.io.reference_weights import import_torch_weights; "
            f"import_torch_weights({str(FIXTURES / 'wire.pt')!r}, 'wire'); assert 'torch' not in sys.modules")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)

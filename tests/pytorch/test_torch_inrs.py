"""PyTorch INRs through the lens (`inrdict.pytorch`; run where `inrdict[torch]` is installed, skipped elsewhere).

The NTK PyTorch computes (products and Jacobian Gram) equals a float64 jacrev oracle and inrdict's own structured
NTK of the same weights; fine-tuning in PyTorch gives the PSNR curves inrdict's JAX fine-tuning gives; `analyse`
runs from the command line on a PyTorch SIREN and a complex WIRE; bad modules are refused in one line."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inrdict.analysis import lens  # noqa: E402
from inrdict.cli import main  # noqa: E402
from inrdict.errors import InrdictError  # noqa: E402
from inrdict.io import data  # noqa: E402
from inrdict.io.reference_weights import model_from_state_dict  # noqa: E402
from inrdict.ntk import SolverOptions, empirical_ntk, top_eigenpairs_of  # noqa: E402
from inrdict.pytorch import is_torch_model  # noqa: E402
from inrdict.pytorch.model import TorchINR  # noqa: E402
from inrdict.pytorch.ntk import TorchNTKOperator, oracle_kernel, parity_certificate  # noqa: E402
from inrdict.pytorch.ntk import empirical_ntk as torch_ntk  # noqa: E402
from inrdict.train.finetune import finetune  # noqa: E402
from tests.pytorch import torch_inrs  # noqa: E402

SMALL = ["--set", "grid_size=12", "--set", "n_test=4", "--set", "iterations=3", "--set", "alias_steps=100",
         "--set", "alias_hidden=16,16", "--set", "fit_steps=10", "--set", "fit_size=12", "--no-progress"]  # fmt: skip


def _seeded(factory, seed: int = 0):
    torch.manual_seed(seed)
    return TorchINR(factory())


@pytest.mark.parametrize("factory", [torch_inrs.siren, torch_inrs.complex_wire])
def test_parity_certificate_float64(factory):
    inr = _seeded(factory)
    certificate = parity_certificate(inr, data.ntk_grid(16))
    assert certificate["points"] == 64
    assert certificate["products_max_relative_error"] <= 1e-10
    assert certificate["jacobian_gram_max_relative_error"] <= 1e-10


def test_complex_parameters_count_as_real_pairs():
    inr = _seeded(torch_inrs.complex_wire)
    assert inr.complex_names == {"net.1.linear.weight", "net.1.linear.bias", "net.2.linear.weight",
                                 "net.2.linear.bias", "net.3.weight", "net.3.bias"}  # fmt: skip
    assert inr.n_parameters == sum(p.numel() * (2 if p.is_complex() else 1) for p in inr.module.parameters())
    points = data.ntk_grid(4)
    kernel = oracle_kernel(inr, points)
    real_only = TorchINR(inr.module)  # the same module; the kernel sums over real and imaginary parts
    assert np.allclose(kernel, torch_ntk(real_only, points, dtype=np.float64), rtol=1e-12, atol=0)


def _state_dict(module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize(("factory", "family"), [(torch_inrs.siren, "siren"), (torch_inrs.complex_wire, "wire")])
def test_the_pytorch_ntk_equals_inrdicts_structured_ntk_of_the_same_weights(factory, family):
    inr = _seeded(factory)
    state = _state_dict(inr.module)
    knobs = {"first_omega0": 30.0, "hidden_omega0": 30.0} if family == "siren" else {"omega0": 20.0, "s0": 10.0}
    model = model_from_state_dict({k: v for k, v in state.items() if not k.endswith(("omega_0", "scale_0"))}, family,
                                  knobs)  # fmt: skip
    points = data.ntk_grid(8)
    with jax.enable_x64(True):
        ours = empirical_ntk(jax.tree_util.tree_map(lambda x: x.astype(np.float64) if hasattr(x, "astype") else x, model),
                             points, dtype=np.float64)  # fmt: skip
    theirs = torch_ntk(inr, points, dtype=np.float64)
    # inrdict's WIRE has no imaginary output bias (it never reaches Re f): PyTorch's has a zero-gradient one
    assert np.abs(ours - theirs).max() <= 1e-10 * np.abs(theirs).max()


def test_top_k_on_the_torch_operator_matches_the_dense_spectrum():
    inr = _seeded(torch_inrs.siren)
    points = data.ntk_grid(24)
    dense = lens.ntk_spectrum(inr.module, points, lens.SpectrumOptions("dense", precision="float64"))
    top = lens.ntk_spectrum(inr.module, points, lens.SpectrumOptions("matrix_free", 6, "float64"))
    assert top.route == "matrix_free" and top.info.converged and top.info.ntk_route == "torch.func products"
    np.testing.assert_allclose(top.eigvals, dense.eigvals[:6], rtol=1e-6)
    operator = TorchNTKOperator(inr, points[:100], dtype=np.float64, block_size=37, max_columns=5)
    result = top_eigenpairs_of(operator, 4, SolverOptions(tol=1e-9))
    assert np.allclose(result.eigvals, np.linalg.eigvalsh(oracle_kernel(inr, points[:100]))[::-1][:4], rtol=1e-8)
    with pytest.raises(InrdictError, match="stored-triangle route is for inrdict's own models"):
        lens.ntk_spectrum(inr.module, points, lens.SpectrumOptions("stored"))


@pytest.mark.standard_promotion
def test_fine_tuning_in_pytorch_matches_inrdicts_for_the_same_weights():
    inr = _seeded(torch_inrs.siren)
    model = model_from_state_dict(_state_dict(inr.module), "siren")
    points = data.ntk_grid(16)
    images = np.random.default_rng(0).uniform(size=(2, 256)).astype(np.float32)
    mask = lens.pixel_mask(256, seed=0)
    for protocol in (lens.RANDOM_INIT, lens.Protocol("gd", 1e-2, 4, 3)):
        theirs = lens.learnability(inr.module, points, images, mask, protocol=protocol)
        ours = finetune(model, points, images, mask, iterations=protocol.iterations, optimizer=protocol.optimizer,
                        learning_rate=protocol.learning_rate)  # fmt: skip
        np.testing.assert_allclose(theirs.test_psnr_db, ours.test_psnr_db, atol=2e-3)
        assert theirs.test_psnr_db[:, -1].mean() > theirs.test_psnr_db[:, 0].mean()  # it learned something


@pytest.mark.parametrize(("name", "complex_model"), [("siren", False), ("complex_wire", True)])
def test_analyse_a_pytorch_inr_from_the_command_line(tmp_path, name, complex_model):
    out = tmp_path / name
    assert main(["analyse", f"torch:tests.pytorch.torch_inrs:{name}", "--out", str(out), *SMALL]) == 0
    numbers = json.loads((out / "results.json").read_text())["numbers"]
    assert numbers["model"]["framework"] == "pytorch" and numbers["model"]["kind"] == "torch"
    assert bool(numbers["model"]["complex_parameters"]) == complex_model
    assert numbers["parity"]["products_max_relative_error"] <= 1e-10
    assert numbers["spectrum"]["route"] == "dense" and numbers["spectrum"]["eigenpairs"] == 144
    assert numbers["faces"]["total_energy_full_basis"] == pytest.approx(1.0, abs=1e-5)
    assert "skipped" not in numbers["aliasing"] and numbers["fit"]["steps"] == 10
    assert (out / "overview.png").exists()


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        ("two_outputs", r"output of shape \(3, 2\) for 3 points: analyse needs a single-output model"),
        ("complex_output", "returns complex values: analyse needs a real output"),
        ("raises", r"torch:tests.pytorch.torch_inrs:raises\(\) failed: RuntimeError: weights file not found"),
        ("not_a_module", "expected a torch.nn.Module, got function"),
        ("integer_parameter", "parameter 'table' of IntegerParameter is torch.int64, not floating point"),
        ("missing", "has no callable 'missing'"),
    ],
)
def test_bad_pytorch_models_are_refused_in_one_line(tmp_path, capsys, factory, message):
    out = tmp_path / "run"
    assert main(["analyse", f"torch:tests.pytorch.torch_inrs:{factory}", "--out", str(out), *SMALL]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and error.startswith("inrdict: error:")
    assert __import__("re").search(message, error), error
    assert not (out / "results.json").exists()


def test_is_torch_model():
    assert is_torch_model(torch.nn.Linear(2, 1)) and is_torch_model(_seeded(torch_inrs.siren))
    assert not is_torch_model(np.zeros(2))

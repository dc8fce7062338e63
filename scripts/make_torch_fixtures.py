"""Write the PyTorch checkpoint fixtures of `tests/test_torch_checkpoints.py` (run where PyTorch is installed:
`.venv-torch/bin/python scripts/make_torch_fixtures.py`). The tests that read them need no PyTorch.

Each fixture is a small model with the module structure (and so the state-dict keys) of a reference
implementation, initialised as that implementation does, saved with `torch.save(model.state_dict())`, together with
the outputs PyTorch gave on fixed points in [−1, 1]² (`outputs.npz`: ``<name>``) and on the grid its reference's
training script builds (``<name>@points`` in the script's order, ``<name>@shape``, ``<name>@grid``). A few more are
saved only to be refused: a last layer that is not linear (`outermost_linear=False`) and a bare `FCBlock`. The
classes and grids below are written from the reference formulas (named per class); no reference code is copied.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "torch"


class SineLayer(nn.Module):  # vsitzmann/siren explore_siren.ipynb; FINER models.py SineLayer
    def __init__(self, n_in, n_out, is_first, omega):
        super().__init__()
        self.omega, self.linear = omega, nn.Linear(n_in, n_out)
        bound = 1 / n_in if is_first else math.sqrt(6 / n_in) / omega
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound)

    def forward(self, x):
        return torch.sin(self.omega * self.linear(x))


class FinerLayer(SineLayer):  # liuzhen0212/FINER models.py FinerLayer (scale under no_grad)
    def forward(self, x):
        u = self.linear(x)
        with torch.no_grad():
            scale = u.abs() + 1
        return torch.sin(self.omega * scale * u)


class GaussLayer(nn.Module):  # vishwa91/wire modules/gauss.py, FINER models.py GaussLayer
    def __init__(self, n_in, n_out, scale):
        super().__init__()
        self.scale, self.linear = scale, nn.Linear(n_in, n_out)

    def forward(self, x):
        return torch.exp(-((self.scale * self.linear(x)) ** 2))


class ComplexGaborLayer(nn.Module):  # vishwa91/wire modules/wire.py ComplexGaborLayer (omega_0, scale_0 saved)
    def __init__(self, n_in, n_out, is_first, omega0, sigma0):
        super().__init__()
        self.omega_0 = nn.Parameter(omega0 * torch.ones(1), False)
        self.scale_0 = nn.Parameter(sigma0 * torch.ones(1), False)
        self.linear = nn.Linear(n_in, n_out, dtype=torch.float if is_first else torch.cfloat)

    def forward(self, x):
        lin = self.linear(x)
        return torch.exp(1j * (self.omega_0 * lin) - (self.scale_0 * lin).abs().square())


class Sequential(nn.Module):
    """net.{i} activation layers then a final nn.Linear (explore_siren, FINER, WIRE/Gauss INR)."""

    def __init__(self, layers, final, real_part=False):
        super().__init__()
        self.net, self.real_part = nn.Sequential(*layers, final), real_part

    def forward(self, x):
        out = self.net(x)
        return out.real if self.real_part else out


class Sine(nn.Module):  # vsitzmann/siren modules.py Sine: sin(30 x)
    def forward(self, x):
        return torch.sin(30 * x)


class FCBlock(nn.Module):  # vsitzmann/siren modules.py: net = MetaSequential(MetaSequential(BatchLinear, Sine), ...)
    def __init__(self, sizes, outermost_linear=True):  # SingleBVPNet passes True; FCBlock's own default is False
        super().__init__()
        blocks = []
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            linear = nn.Linear(a, b)
            with torch.no_grad():  # sine_init / first_layer_sine_init
                bound = 1 / a if i == 0 else math.sqrt(6 / a) / 30
                linear.weight.uniform_(-bound, bound)
            last = i == len(sizes) - 2
            blocks.append(nn.Sequential(linear) if last and outermost_linear else nn.Sequential(linear, Sine()))
        self.net = nn.Sequential(*blocks)

    def forward(self, x):
        return self.net(x)


class SingleBVPNet(nn.Module):  # vsitzmann/siren modules.py SingleBVPNet(type='sine'): keys net.net.{i}.0.*
    def __init__(self, sizes):
        super().__init__()
        self.net = FCBlock(sizes)

    def forward(self, x):
        return self.net(x)


class LucidrainsLayer(nn.Module):  # lucidrains/siren-pytorch Siren: weight, bias; sin(w0 (x Wᵀ + b))
    def __init__(self, n_in, n_out, w0, is_first, activation=True):
        super().__init__()
        bound = 1 / n_in if is_first else math.sqrt(6 / n_in) / w0
        self.weight = nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_out).uniform_(-bound, bound))
        self.w0, self.activation = w0, activation

    def forward(self, x):
        out = nn.functional.linear(x, self.weight, self.bias)
        return torch.sin(self.w0 * out) if self.activation else out


class SirenNet(nn.Module):  # lucidrains/siren-pytorch SirenNet(w0=1., w0_initial=30.)
    def __init__(self, n_in, hidden, n_out, layers, w0=1.0, w0_initial=30.0):
        super().__init__()
        self.layers = nn.ModuleList(
            [LucidrainsLayer(n_in if i == 0 else hidden, hidden, w0_initial if i == 0 else w0, i == 0) for i in range(layers)]
        )
        self.last_layer = LucidrainsLayer(hidden, n_out, w0, False, activation=False)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.last_layer(x)


class FourierLayer(nn.Module):  # boschresearch/multiplicative-filter-networks mfn/mfn.py
    def __init__(self, n_in, n_out, weight_scale):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        with torch.no_grad():
            self.linear.weight.mul_(weight_scale)
            self.linear.bias.uniform_(-math.pi, math.pi)

    def forward(self, x):
        return torch.sin(self.linear(x))


class GaborLayer(FourierLayer):  # mfn.py GaborLayer: sin(W x + b) exp(-γ/2 ‖x − μ‖²)
    def __init__(self, n_in, n_out, weight_scale, alpha, beta):
        super().__init__(n_in, n_out, weight_scale)
        self.mu = nn.Parameter(2 * torch.rand(n_out, n_in) - 1)
        self.gamma = nn.Parameter(torch.distributions.gamma.Gamma(alpha, beta).sample((n_out,)))
        with torch.no_grad():
            self.linear.weight.mul_(torch.sqrt(self.gamma[:, None]))

    def forward(self, x):
        d = (x**2).sum(-1)[..., None] + (self.mu**2).sum(-1)[None, :] - 2 * x @ self.mu.T
        return torch.sin(self.linear(x)) * torch.exp(-0.5 * d * self.gamma[None, :])


class MFNNet(nn.Module):  # mfn.py MFNBase + FourierNet / GaborNet
    def __init__(self, n_in, hidden, n_out, n_layers, gabor, input_scale=256.0, alpha=6.0, beta=1.0):
        super().__init__()
        self.linear = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(n_layers)])
        for lin in self.linear:
            with torch.no_grad():
                lin.weight.uniform_(-math.sqrt(1.0 / hidden), math.sqrt(1.0 / hidden))
        self.output_linear = nn.Linear(hidden, n_out)
        scale = input_scale / math.sqrt(n_layers + 1)
        self.filters = nn.ModuleList([
            GaborLayer(n_in, hidden, scale, alpha / (n_layers + 1), beta) if gabor else FourierLayer(n_in, hidden, scale)
            for _ in range(n_layers + 1)
        ])  # fmt: skip

    def forward(self, x):
        out = self.filters[0](x)
        for i in range(1, len(self.filters)):
            out = self.filters[i](x) * self.linear[i - 1](out)
        return self.output_linear(out)


class WireMFN(nn.Module):  # vishwa91/wire modules/mfn.py INR: gabon_filters, linear (the last is the output)
    def __init__(self, n_in, hidden, n_out, hidden_layers):
        super().__init__()
        k = hidden_layers + 1
        self.gabon_filters = nn.ModuleList([GaborLayer(n_in, hidden, 8.0, 6.0 / k, 1.0) for _ in range(k)])
        self.linear = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(k - 1)] + [nn.Linear(hidden, n_out)])

    def forward(self, x):
        z = self.gabon_filters[0](x)
        for i in range(len(self.linear) - 1):
            z = self.linear[i](z) * self.gabon_filters[i + 1](x)
        return self.linear[-1](z)


class SirenNetEarly(nn.Module):  # lucidrains/siren-pytorch SirenNet in versions that hold self.net = nn.Sequential
    def __init__(self, n_in, hidden, n_out, layers, w0=30.0, w0_initial=30.0):
        super().__init__()
        self.net = nn.Sequential(
            *[LucidrainsLayer(n_in if i == 0 else hidden, hidden, w0_initial if i == 0 else w0, i == 0) for i in range(layers)]
        )
        self.last_layer = LucidrainsLayer(hidden, n_out, w0, False, activation=False)  # final_activation=nn.Identity()

    def forward(self, x):
        return self.last_layer(self.net(x))


# The grids each reference's training script builds, flattened in that script's order (square where it only
# builds square grids). Every one spans torch.linspace(-1, 1, n): both ends included.
def grid_explore_siren(n):  # vsitzmann/siren explore_siren.ipynb get_mgrid: torch.meshgrid default ('ij')
    axes = [torch.linspace(-1, 1, steps=n)] * 2
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 2)


def grid_dataio(h, w):  # vsitzmann/siren dataio.py get_mgrid: np.mgrid scaled to [0, 1], then to [-1, 1]
    pixels = np.stack(np.mgrid[:h, :w], axis=-1).astype(np.float32)
    pixels[..., 0] /= h - 1
    pixels[..., 1] /= w - 1
    return torch.tensor((pixels - 0.5) * 2.0).view(-1, 2)


def grid_ij(h, w):  # liuzhen0212/FINER train_image.py, lucidrains SirenWrapper, boschresearch mfn/data.py: 'ij'
    rows, cols = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    return torch.stack([rows, cols], dim=-1).reshape(-1, 2)


def grid_wire(h, w):  # vishwa91/wire wire_image_denoise.py: x along the width, meshgrid(x, y, indexing='xy')
    x, y = torch.meshgrid(torch.linspace(-1, 1, w), torch.linspace(-1, 1, h), indexing="xy")
    return torch.hstack((x.reshape(-1, 1), y.reshape(-1, 1)))


def main() -> None:
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    points = torch.rand(32, 2, dtype=torch.float32) * 2 - 1
    h = 16
    models = {
        "siren": Sequential([SineLayer(2, h, True, 30.0), SineLayer(h, h, False, 30.0)], nn.Linear(h, 1)),
        "siren_modules": SingleBVPNet((2, h, h, 1)),
        "siren_lucidrains": SirenNet(2, h, 1, 2),
        "finer": Sequential([FinerLayer(2, h, True, 30.0), FinerLayer(h, h, False, 30.0)], nn.Linear(h, 1)),
        "gauss": Sequential([GaussLayer(2, h, 30.0), GaussLayer(h, h, 30.0)], nn.Linear(h, 1)),
        "wire": Sequential([ComplexGaborLayer(2, 11, True, 20.0, 30.0), ComplexGaborLayer(11, 11, False, 20.0, 30.0)],
                           nn.Linear(11, 1, dtype=torch.cfloat), real_part=True),
        "mfn_gabor": MFNNet(2, h, 1, 2, gabor=True, input_scale=16.0),
        "mfn_fourier": MFNNet(2, h, 1, 2, gabor=False, input_scale=16.0),
        "mfn_wire": WireMFN(2, h, 1, 2),
    }
    with torch.no_grad():  # FINER's first-layer bias stays PyTorch's default; WIRE small weights keep |u| moderate
        models["wire"].net[1].linear.weight.mul_(0.1)
        models["mfn_wire"].linear[-1].weight.mul_(10.0)  # outputs of order 1, so that the comparison means something
    outputs = {"points": points.numpy()}
    for name, model in models.items():
        torch.save(model.state_dict(), OUT / f"{name}.pt")
        with torch.no_grad():
            outputs[name] = model(points).reshape(-1).numpy()
    torch.save(models["siren"].state_dict(), OUT / "siren_legacy.pt", _use_new_zipfile_serialization=False)
    outputs["siren_legacy"] = outputs["siren"]
    torch.save({"epoch": 3, "model_state_dict": models["finer"].state_dict()}, OUT / "finer_wrapped.pt")
    outputs["finer_wrapped"] = outputs["finer"]
    more = {  # drawn after the fixtures above, so that theirs stay as they were
        "gauss_wire": Sequential([GaussLayer(2, h, 10.0), GaussLayer(h, h, 10.0)], nn.Linear(h, 1)),  # INR(scale=10.)
        "siren_lucidrains_net": SirenNetEarly(2, h, 1, 2),
    }
    with torch.no_grad():  # w0 = 30 in every layer keeps the output layer's weights (and outputs) small
        more["siren_lucidrains_net"].last_layer.weight.mul_(10.0)
    for name, model in more.items():
        torch.save(model.state_dict(), OUT / f"{name}.pt")
        with torch.no_grad():
            outputs[name] = model(points).reshape(-1).numpy()
    models |= more
    grids = {  # fixture: (its reference's grid, shape)
        "siren": (grid_explore_siren(7), (7, 7)), "siren_modules": (grid_dataio(6, 9), (6, 9)),
        "siren_lucidrains": (grid_ij(6, 9), (6, 9)), "siren_lucidrains_net": (grid_ij(6, 9), (6, 9)),
        "finer": (grid_ij(6, 9), (6, 9)), "gauss": (grid_ij(6, 9), (6, 9)), "gauss_wire": (grid_wire(6, 9), (6, 9)),
        "wire": (grid_wire(6, 9), (6, 9)), "mfn_gabor": (grid_ij(7, 7), (7, 7)), "mfn_fourier": (grid_ij(7, 7), (7, 7)),
        "mfn_wire": (grid_wire(6, 9), (6, 9)),
    }  # fmt: skip
    for name, (grid, shape) in grids.items():
        with torch.no_grad():
            outputs[f"{name}@grid"] = models[name](grid).reshape(-1).numpy()
        outputs[f"{name}@points"], outputs[f"{name}@shape"] = grid.numpy(), np.array(shape)
    refused = {  # outermost_linear=False: the last layer is an activation layer (explore_siren's default)
        "siren_outermost_sine": Sequential([SineLayer(2, h, True, 30.0)], SineLayer(h, 1, False, 30.0)),
        "gauss_outermost": Sequential([GaussLayer(2, h, 10.0)], GaussLayer(h, 1, 10.0)),  # vishwa91 gauss.py INR
        "fcblock": FCBlock((2, h, 1), outermost_linear=False),  # a bare modules.py FCBlock (keys net.<i>.0.*)
    }
    for name, model in refused.items():
        torch.save(model.state_dict(), OUT / f"{name}.pt")
    np.savez(OUT / "outputs.npz", torch_version=np.array(torch.__version__), **outputs)
    print(f"wrote {len(outputs) - 1} fixtures to {OUT}")


if __name__ == "__main__":
    main()

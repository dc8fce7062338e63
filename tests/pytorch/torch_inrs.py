"""PyTorch INRs written for the tests (factories for `inrdict analyse torch:tests.pytorch.torch_inrs:NAME`).

`Siren` follows vsitzmann/siren's `SineLayer` (explore_siren.ipynb / modules.py): sin(ω0 (W x + b)), first layer
W ~ U(±1/in), later U(±√(6/in)/ω0), a linear output layer. `ComplexWire` follows vishwa91/wire's `modules/wire.py`
`ComplexGaborLayer`: ψ(u) = exp(i ω0 u − |s0 u|²), the first layer real, later layers and the output complex
(torch.cfloat), and the real part of the output.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class SineLayer(nn.Module):
    def __init__(self, in_features, out_features, bias=True, is_first=False, omega_0=30.0):
        super().__init__()
        self.omega_0, self.is_first = omega_0, is_first
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        with torch.no_grad():
            bound = 1 / in_features if is_first else math.sqrt(6 / in_features) / omega_0
            self.linear.weight.uniform_(-bound, bound)

    def forward(self, x):
        return torch.sin(self.omega_0 * self.linear(x))


class Siren(nn.Module):
    def __init__(self, in_features=2, hidden_features=256, hidden_layers=3, out_features=1, first_omega_0=30.0,
                 hidden_omega_0=30.0):  # fmt: skip
        super().__init__()
        layers = [SineLayer(in_features, hidden_features, is_first=True, omega_0=first_omega_0)]
        layers += [SineLayer(hidden_features, hidden_features, omega_0=hidden_omega_0) for _ in range(hidden_layers)]
        final = nn.Linear(hidden_features, out_features)
        with torch.no_grad():
            bound = math.sqrt(6 / hidden_features) / hidden_omega_0
            final.weight.uniform_(-bound, bound)
        self.net = nn.Sequential(*layers, final)

    def forward(self, coords):
        return self.net(coords)


class ComplexGaborLayer(nn.Module):
    def __init__(self, in_features, out_features, bias=True, is_first=False, omega0=10.0, sigma0=40.0):
        super().__init__()
        self.omega_0, self.scale_0, self.is_first = omega0, sigma0, is_first
        dtype = torch.float if is_first else torch.cfloat
        self.linear = nn.Linear(in_features, out_features, bias=bias, dtype=dtype)

    def forward(self, x):
        lin = self.linear(x)
        omega, scale = self.omega_0 * lin, self.scale_0 * lin
        return torch.exp(1j * omega - scale.abs().square())


class ComplexWire(nn.Module):
    def __init__(self, in_features=2, hidden_features=32, hidden_layers=2, out_features=1, first_omega_0=20.0,
                 hidden_omega_0=20.0, scale=10.0):  # fmt: skip
        super().__init__()
        hidden_features = int(hidden_features / math.sqrt(2))  # wire.py: fewer complex features, same parameters
        layers = [ComplexGaborLayer(in_features, hidden_features, omega0=first_omega_0, sigma0=scale, is_first=True)]
        layers += [ComplexGaborLayer(hidden_features, hidden_features, omega0=hidden_omega_0, sigma0=scale)
                   for _ in range(hidden_layers)]  # fmt: skip
        layers.append(nn.Linear(hidden_features, out_features, dtype=torch.cfloat))
        self.net = nn.Sequential(*layers)

    def forward(self, coords):
        return self.net(coords).real


def siren(in_features: int = 2):
    """A small SIREN 2→64×3→1 (ω0 = 30)."""
    return Siren(in_features, hidden_features=64, hidden_layers=2)


def siren_paper(in_features: int = 2):
    """The paper's SIREN 2→256×4→1 (ω0 = 30): 198,657 parameters."""
    return Siren(in_features, hidden_features=256, hidden_layers=3)


def complex_wire(in_features: int = 2):
    """A small complex WIRE (vishwa91/wire layer, ω0 = 20, s0 = 10, 45 complex features per hidden layer)."""
    return ComplexWire(in_features, hidden_features=64, hidden_layers=2)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)

    def forward(self, x):
        return self.linear(x)


class ComplexOutput(ComplexWire):
    def forward(self, coords):
        return self.net(coords)


class IntegerParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.table = nn.Parameter(torch.zeros(3, dtype=torch.int64), requires_grad=False)
        self.count = nn.Parameter(torch.ones(2, dtype=torch.float32))

    def forward(self, x):
        return self.linear(x)


def two_outputs():
    return TwoOutputs()


def complex_output():
    return ComplexOutput(hidden_features=16, hidden_layers=1)


def raises():
    raise RuntimeError("weights file not found")


def not_a_module():
    return lambda x: x


def integer_parameter():
    return IntegerParameter()

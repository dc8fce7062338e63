"""PyTorch state dicts of the reference INR implementations → inrdict models (and so the structured NTK).

Layouts recognised from the keys (`layout_of`):

* ``net.{i}.linear.weight`` … ``net.{L}.weight`` — one `nn.Sequential` of activation layers that each hold
  `self.linear`, then a final `nn.Linear`: vsitzmann/siren's `explore_siren.ipynb` `Siren`, liuzhen0212/FINER's
  `models.py` (`Siren`, `Finer`, `Gauss`, `Wire`), vishwa91/wire's `modules/{siren,wire,gauss}.py` `INR`
  (WIRE's layers also save their `omega_0` and `scale_0` as parameters: ``net.{i}.omega_0``, ``net.{i}.scale_0``);
* ``net.net.{i}.0.weight`` — vsitzmann/siren's `modules.py` `SingleBVPNet` (an `FCBlock` of
  `MetaSequential(BatchLinear, Sine)`; sin(30 u) in every layer);
* ``layers.{i}.weight``, ``last_layer.weight`` — lucidrains/siren-pytorch's `SirenNet` (ω0 = `w0_initial` = 30 in the
  first layer, `w0` = 1 by default in the others).

Each family's forward pass is the reference layer's (see the classes' docstrings): SIREN sin(ω0 (W z + b)) as
`Siren(convention="fit")`; FINER sin(ω0 (|u| + 1) u); Gauss exp(−(s u)²); complex WIRE exp(i ω0 u − |s0 u|²)
with a real first layer and `output.real`. PyTorch's `nn.Linear` stores W as (out, in) and computes x Wᵀ + b,
as inrdict does. What a state dict does not hold — ω0 (except WIRE's), the Gauss scale — comes from `knobs`, or
the reference class's default (`KNOB_DEFAULTS`). The reference scripts all train on coordinates in [−1, 1]
(`torch.linspace(-1, 1, ·)`), so imported models are wrapped in `OnDomain(model, -1, 1)`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict.errors import InrdictError
from inrdict.io.torch_checkpoint import load_torch_checkpoint, state_dict_of
from inrdict.models import ComplexLinear, ComplexWire, Finer, GaussINR, Linear, OnDomain, Siren
from inrdict.models.wire import RealPartLinear

IMPORTABLE = ("siren", "finer", "gauss", "wire")
REFERENCE_DOMAIN = (-1.0, 1.0)  # every reference script's torch.linspace(-1, 1, ·)
KNOB_DEFAULTS = {
    # vsitzmann/siren explore_siren.ipynb Siren(first_omega_0=30, hidden_omega_0=30.); modules.py Sine: sin(30 x)
    "siren": {"first_omega0": 30.0, "hidden_omega0": 30.0},
    # liuzhen0212/FINER models.py Finer(first_omega_0=30, hidden_omega_0=30.0), run_finer.sh
    "finer": {"first_omega0": 30.0, "hidden_omega0": 30.0},
    # liuzhen0212/FINER models.py Gauss(scale=30.0); vishwa91/wire's GaussLayer defaults to 10
    "gauss": {"scale": 30.0},
    # vishwa91/wire: the file's omega_0 / scale_0 when saved; else wire_image_denoise.py's 20 / 30 for images
    "wire": {"omega0": 20.0, "s0": 30.0},
}
LUCIDRAINS_HIDDEN_OMEGA0 = 1.0  # lucidrains/siren-pytorch SirenNet(w0=1., w0_initial=30.)

_SEQUENTIAL = re.compile(r"net\.(\d+)\.(?:linear\.)?(weight|bias|omega_0|scale_0)")
_MODULES = re.compile(r"net\.net\.(\d+)\.0\.(weight|bias)")
_LUCIDRAINS = re.compile(r"(?:layers\.(\d+)|(last_layer))\.(weight|bias)")


def layout_of(state: dict[str, np.ndarray]) -> str:
    """ "sequential", "siren_modules" or "lucidrains" (module docstring), from the state dict's keys."""
    keys = list(state)
    for name, pattern in (("sequential", _SEQUENTIAL), ("siren_modules", _MODULES), ("lucidrains", _LUCIDRAINS)):
        if all(pattern.fullmatch(k) for k in keys):
            return name
    odd = next((k for k in keys if not any(p.fullmatch(k) for p in (_SEQUENTIAL, _MODULES, _LUCIDRAINS))), keys[0])
    raise InrdictError(f"unrecognised state dict key {odd!r}: expected the layout of a reference implementation "
                       "(net.<i>.linear.weight …, net.net.<i>.0.weight …, or layers.<i>.weight … last_layer.weight)")  # fmt: skip


def _layers(state: dict[str, np.ndarray], layout: str) -> tuple[list[tuple[np.ndarray, np.ndarray | None]], dict]:
    """[(weight (out, in), bias (out,) or None)] in order, and the per-layer extras (WIRE's omega_0 / scale_0)."""
    table: dict[int, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        if layout == "sequential":
            index, field = _SEQUENTIAL.fullmatch(key).groups()
        elif layout == "siren_modules":
            index, field = _MODULES.fullmatch(key).groups()
        else:
            index, last, field = _LUCIDRAINS.fullmatch(key).groups()
            index = 10**6 if last else index
        table.setdefault(int(index), {})[field] = value
    order = sorted(table)
    if layout != "lucidrains" and order != list(range(len(order))):
        raise InrdictError(f"layers must be numbered 0, 1, …; the state dict has {order}")
    layers, extras = [], {}
    for position, index in enumerate(order):
        entry = table[index]
        name = "last_layer" if index == 10**6 else f"layer {index}"
        if "weight" not in entry:
            raise InrdictError(f"missing key: {name}'s weight")
        weight, bias = entry["weight"], entry.get("bias")
        if weight.ndim != 2 or (bias is not None and bias.shape != (weight.shape[0],)):
            shape = None if bias is None else bias.shape
            raise InrdictError(f"{name} has weight {weight.shape} and bias {shape}: expected (out, in) and (out,)")
        if layers and weight.shape[1] != layers[-1][0].shape[0]:
            raise InrdictError(f"{name}'s weight is {weight.shape}, but the previous layer has "
                               f"{layers[-1][0].shape[0]} outputs")  # fmt: skip
        if not (np.all(np.isfinite(weight)) and (bias is None or np.all(np.isfinite(bias)))):
            raise InrdictError(f"{name} holds non-finite values")
        layers.append((weight, bias))
        extras[position] = {k: float(np.asarray(v).ravel()[0]) for k, v in entry.items() if k in ("omega_0", "scale_0")}
    if len(layers) < 2:
        raise InrdictError(f"a reference INR has at least 2 linear layers; the state dict has {len(layers)}")
    return layers, extras


def _real(name: str, array: np.ndarray) -> jnp.ndarray:
    if np.iscomplexobj(array):
        raise InrdictError(f"{name} is complex; this family has real weights (is it a WIRE? use --family wire)")
    return jnp.asarray(array, jnp.float32)


def _linear(weight, bias, name: str) -> Linear:
    bias = np.zeros(weight.shape[0], np.float32) if bias is None else bias
    return Linear(_real(f"{name}'s weight", weight), _real(f"{name}'s bias", bias))


def _knobs(family: str, layout: str, extras: dict, knobs: dict) -> dict:
    settings = dict(KNOB_DEFAULTS[family])
    if layout == "lucidrains":
        settings["hidden_omega0"] = LUCIDRAINS_HIDDEN_OMEGA0
    if family == "wire":
        omegas = sorted({v["omega_0"] for v in extras.values() if "omega_0" in v})
        scales = sorted({v["scale_0"] for v in extras.values() if "scale_0" in v})
        if len(omegas) > 1 or len(scales) > 1:
            raise InrdictError(f"the WIRE layers save different omega_0 {omegas} or scale_0 {scales}; inrdict's WIRE "
                               "has one of each")  # fmt: skip
        settings |= ({"omega0": omegas[0]} if omegas else {}) | ({"s0": scales[0]} if scales else {})
    unknown = set(knobs) - set(settings)
    if unknown:
        raise InrdictError(f"{', '.join(sorted(unknown))} do not apply to an imported {family}; its settings: "
                           f"{', '.join(settings)}")  # fmt: skip
    return settings | {k: float(v) for k, v in knobs.items()}


def model_from_state_dict(state: dict[str, np.ndarray], family: str, knobs: dict | None = None) -> eqx.Module:
    """The inrdict model (`Siren`, `Finer`, `GaussINR` or `ComplexWire`, float32, not yet on a domain) holding a
    reference implementation's weights (module docstring).

    Raises:
        InrdictError: an unknown family, a state dict of another layout, or weights that do not fit the family
            (the first missing or mis-shaped key is named).
    """
    if family not in IMPORTABLE:
        raise InrdictError(f"cannot import weights of family {family!r}: choose one of {', '.join(IMPORTABLE)}")
    if not state:
        raise InrdictError("the state dict is empty")
    layout = layout_of(state)
    layers, extras = _layers(state, layout)
    settings = _knobs(family, layout, extras, dict(knobs or {}))
    sizes = (layers[0][0].shape[1], *(w.shape[0] for w, _ in layers))
    has_complex = [np.iscomplexobj(w) or (b is not None and np.iscomplexobj(b)) for w, b in layers]
    key = jax.random.key(0)
    if family == "wire":
        if has_complex[0] or not all(has_complex[1:]):
            raise InrdictError("a complex WIRE has a real first layer and complex later layers (vishwa91/wire "
                               f"`ComplexGaborLayer`); this state dict's layers are "
                               f"{', '.join('complex' if c else 'real' for c in has_complex)}")  # fmt: skip
        skeleton = ComplexWire(sizes[0], sizes[1:-1], sizes[-1], omega0=settings["omega0"], s0=settings["s0"], key=key)
        first = _linear(*layers[0], "layer 0")
        hidden = []
        for index, (weight, bias) in enumerate(layers[1:-1], start=1):
            bias = np.zeros(weight.shape[0], np.complex64) if bias is None else bias
            hidden.append(ComplexLinear(*(jnp.asarray(x, jnp.float32) for x in (weight.real, weight.imag, bias.real, bias.imag))))
        weight, bias = layers[-1]
        bias = np.zeros(weight.shape[0], np.complex64) if bias is None else bias
        output = RealPartLinear(jnp.asarray(weight.real, jnp.float32), jnp.asarray(weight.imag, jnp.float32),
                                jnp.asarray(bias.real, jnp.float32))  # fmt: skip
        return eqx.tree_at(lambda m: (m.first, m.layers, m.output), skeleton, (first, tuple(hidden), output))
    if any(has_complex):
        raise InrdictError(f"layer {has_complex.index(True)} is complex: a {family} has real weights (a WIRE? use "
                           "--family wire)")  # fmt: skip
    hidden_sizes = sizes[1:-1]
    if family == "siren":
        skeleton = Siren(sizes[0], hidden_sizes, sizes[-1], first_omega0=settings["first_omega0"],
                         hidden_omega0=settings["hidden_omega0"], convention="fit", key=key)  # fmt: skip
    elif family == "finer":
        skeleton = Finer(sizes[0], hidden_sizes, sizes[-1], first_omega0=settings["first_omega0"],
                         hidden_omega0=settings["hidden_omega0"], key=key)  # fmt: skip
    else:
        skeleton = GaussINR(sizes[0], hidden_sizes, sizes[-1], scale=settings["scale"], key=key)
    linears = tuple(_linear(w, b, f"layer {i}") for i, (w, b) in enumerate(layers))
    return eqx.tree_at(lambda m: m.layers, skeleton, linears)


def import_torch_weights(path: str | os.PathLike, family: str, knobs: dict | None = None) -> OnDomain:
    """A reference implementation's `.pt` / `.pth` state dict (read by `load_torch_checkpoint`, no PyTorch needed) as
    an inrdict model on the reference coordinate domain [−1, 1] (`OnDomain`)."""
    state = state_dict_of(load_torch_checkpoint(path), Path(path))
    try:
        model = model_from_state_dict(state, family, knobs)
    except InrdictError as error:
        raise InrdictError(f"{path}: {error}") from None
    return OnDomain(model, *REFERENCE_DOMAIN)

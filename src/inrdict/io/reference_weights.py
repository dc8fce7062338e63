"""PyTorch state dicts of the reference INR implementations → inrdict models (and so the structured NTK).

Layouts recognised from the keys (`layout_of`):

* ``net.{i}.linear.weight`` … ``net.{L}.weight`` — one `nn.Sequential` of activation layers that each hold
  `self.linear`, then a final `nn.Linear`: vsitzmann/siren's `explore_siren.ipynb` `Siren`, liuzhen0212/FINER's
  `models.py` (`Siren`, `Finer`, `Gauss`, `Wire`), vishwa91/wire's `modules/{siren,wire,gauss}.py` `INR`
  (WIRE's layers also save their `omega_0` and `scale_0` as parameters: ``net.{i}.omega_0``, ``net.{i}.scale_0``);
* ``net.net.{i}.0.weight`` — vsitzmann/siren's `modules.py` `SingleBVPNet` (an `FCBlock` of
  `MetaSequential(BatchLinear, Sine)`; sin(30 u) in every layer);
* ``layers.{i}.weight``, ``last_layer.weight`` — lucidrains/siren-pytorch's `SirenNet` (ω0 = `w0_initial` = 30 in the
  first layer, `w0` = 1 by default in the others);
* ``filters.{i}.linear.weight`` (+ ``filters.{i}.mu``, ``.gamma`` for Gabor filters), ``linear.{i}.weight``,
  ``output_linear.weight`` — boschresearch/multiplicative-filter-networks' `FourierNet` / `GaborNet` (`mfn/mfn.py`):
  g(r) = sin(W r + b) · exp(−γ/2 ‖r − μ‖²), z_{i+1} = (W_i z_i + b_i) ⊙ g_{i+1}(r); and vishwa91/wire's
  `modules/mfn.py` (the same GaborNet, filters named ``gabon_filters``, the output layer the last ``linear.{k-1}``).

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
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict.errors import InrdictError
from inrdict.io.torch_checkpoint import load_torch_checkpoint, state_dict_of
from inrdict.models import (
    MFN,
    ComplexLinear,
    ComplexWire,
    Finer,
    FourierFilter,
    GaborFilter,
    GaussINR,
    Linear,
    OnDomain,
    Siren,
)
from inrdict.models.wire import RealPartLinear

IMPORTABLE = ("siren", "finer", "gauss", "wire", "mfn")
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
    "mfn": {},  # every MFN setting (input_scale, α, β, weight_scale) shapes the initialisation only
}
LUCIDRAINS_HIDDEN_OMEGA0 = 1.0  # lucidrains/siren-pytorch SirenNet(w0=1., w0_initial=30.)

_SEQUENTIAL = re.compile(r"net\.(\d+)\.(?:linear\.)?(weight|bias|omega_0|scale_0)")
_MODULES = re.compile(r"net\.net\.(\d+)\.0\.(weight|bias)")
_LUCIDRAINS = re.compile(r"(?:layers\.(\d+)|(last_layer))\.(weight|bias)")
_MFN = re.compile(
    r"(?:gabon_)?filters\.(\d+)\.(?:linear\.)?(weight|bias|mu|gamma)|linear\.(\d+)\.(weight|bias)|"
    r"output_linear\.(weight|bias)"
)


def _groups(pattern: re.Pattern[str], key: str) -> tuple[Any, ...]:
    """The groups of `pattern` matching all of `key`, a key of the state dict's layout (`layout_of`)."""
    match = pattern.fullmatch(key)
    assert match is not None, key  # the layout was detected from these keys
    return match.groups()


def layout_of(state: dict[str, np.ndarray]) -> str:
    """ "sequential", "siren_modules" or "lucidrains" (module docstring), from the state dict's keys."""
    keys = list(state)
    patterns = (("sequential", _SEQUENTIAL), ("siren_modules", _MODULES), ("lucidrains", _LUCIDRAINS), ("mfn", _MFN))
    for name, pattern in patterns:
        if all(pattern.fullmatch(k) for k in keys):
            return name
    odd = next((k for k in keys if not any(p.fullmatch(k) for _, p in patterns)), keys[0])
    raise InrdictError(f"unrecognised state dict key {odd!r}: expected the layout of a reference implementation "
                       "(net.<i>.linear.weight …, net.net.<i>.0.weight …, layers.<i>.weight … last_layer.weight, or "
                       "filters.<i>.linear.weight … output_linear.weight)")  # fmt: skip


def _layers(state: dict[str, np.ndarray], layout: str) -> tuple[list[tuple[np.ndarray, np.ndarray | None]], dict]:
    """[(weight (out, in), bias (out,) or None)] in order, and the per-layer extras (WIRE's omega_0 / scale_0)."""
    table: dict[int, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        if layout == "sequential":
            index, field = _groups(_SEQUENTIAL, key)
        elif layout == "siren_modules":
            index, field = _groups(_MODULES, key)
        else:
            index, last, field = _groups(_LUCIDRAINS, key)
            index = 10**6 if last else index
        table.setdefault(int(index), {})[field] = value
    order = sorted(table)
    if layout != "lucidrains" and order != list(range(len(order))):
        raise InrdictError(f"layers must be numbered 0, 1, …; the state dict has {order}")
    layers: list[tuple[np.ndarray, np.ndarray | None]]
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


def _mfn(state: dict[str, np.ndarray], knobs: dict) -> MFN:
    """boschresearch's `FourierNet` / `GaborNet` state dict as an `MFN` (the settings only matter for a fresh init)."""
    if knobs:
        raise InrdictError(f"{', '.join(sorted(knobs))} do not apply to an imported mfn: its weights are all saved")
    filters: dict[int, dict[str, np.ndarray]]
    linears: dict[int, dict[str, np.ndarray]]
    filters, linears = {}, {}
    for key, value in state.items():
        f_index, f_field, l_index, l_field, o_field = _groups(_MFN, key)
        if f_index is not None:
            filters.setdefault(int(f_index), {})[f_field] = value
        else:
            linears.setdefault(int(l_index) if l_index is not None else 10**6, {})[l_field or o_field] = value
    k = len(filters)
    if 10**6 not in linears and k - 1 in linears:  # vishwa91/wire: the output layer is linear.{k-1}
        linears[10**6] = linears.pop(k - 1)
    if sorted(filters) != list(range(k)) or sorted(linears) != [*range(k - 1), 10**6]:
        raise InrdictError(f"an MFN has filters 0 … k−1, linear 0 … k−2 and output_linear; this one has filters "
                           f"{sorted(filters)} and linear {sorted(i for i in linears if i < 10**6)}")  # fmt: skip
    gabor = "mu" in filters[0]
    need = ("weight", "bias", "mu", "gamma") if gabor else ("weight", "bias")
    built = []
    for index in range(k):
        missing = [f for f in need if f not in filters[index]]
        if missing:
            field = missing[0] if missing[0] in ("mu", "gamma") else f"linear.{missing[0]}"
            raise InrdictError(f"missing key: filters.{index}.{field}")
        g = {f: jnp.asarray(_real(f"filters.{index}.{f}", filters[index][f]), jnp.float32) for f in need}
        if gabor and (g["mu"].shape != g["weight"].shape or g["gamma"].shape != g["bias"].shape):
            raise InrdictError(f"filters.{index}: mu {g['mu'].shape} and gamma {g['gamma'].shape} do not match its "
                               f"linear.weight {g['weight'].shape}")  # fmt: skip
        built.append(
            GaborFilter(g["weight"], g["bias"], g["gamma"], g["mu"]) if gabor else FourierFilter(g["weight"], g["bias"])
        )
    layers = []
    for index in [*range(k - 1), 10**6]:
        name = "output_linear" if index == 10**6 else f"linear.{index}"
        if "weight" not in linears[index]:
            raise InrdictError(f"missing key: {name}.weight")
        layers.append(_linear(linears[index]["weight"], linears[index].get("bias"), name))
    hidden = tuple(int(g.phi.shape[0]) for g in built)
    for index, layer in enumerate(layers):
        want_in = hidden[index] if index < k else hidden[-1]
        if layer.weight.shape[1] != want_in or (index < k - 1 and layer.weight.shape[0] != hidden[index + 1]):
            name = "output_linear" if index == len(layers) - 1 else f"linear.{index}"
            raise InrdictError(f"{name}.weight is {tuple(layer.weight.shape)}, which does not chain with the filters' "
                               f"widths {list(hidden)}")  # fmt: skip
    skeleton = MFN(int(built[0].omega.shape[1]), hidden, int(layers[-1].weight.shape[0]),
                   filter="gabor" if gabor else "fourier", key=jax.random.key(0))  # fmt: skip
    return eqx.tree_at(lambda m: (m.filters, m.layers), skeleton, (tuple(built), tuple(layers)))


def model_from_state_dict(
    state: dict[str, np.ndarray], family: str, knobs: dict | None = None
) -> Siren | Finer | GaussINR | ComplexWire | MFN:
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
    if (layout == "mfn") != (family == "mfn"):
        raise InrdictError(f"this state dict has the {layout} layout, not that of a reference {family}")
    if family == "mfn":
        return _mfn(state, dict(knobs or {}))
    layers, extras = _layers(state, layout)
    settings = _knobs(family, layout, extras, dict(knobs or {}))
    sizes = (layers[0][0].shape[1], *(w.shape[0] for w, _ in layers))
    has_complex = [np.iscomplexobj(w) or (b is not None and np.iscomplexobj(b)) for w, b in layers]
    key = jax.random.key(0)
    skeleton: ComplexWire | Siren | Finer | GaussINR
    if family == "wire":
        if has_complex[0] or not all(has_complex[1:]):
            raise InrdictError("a complex WIRE has a real first layer and complex later layers (vishwa91/wire "
                               f"`ComplexGaborLayer`); this state dict's layers are "
                               f"{', '.join('complex' if c else 'real' for c in has_complex)}")  # fmt: skip
        skeleton = ComplexWire(sizes[0], sizes[1:-1], sizes[-1], omega0=settings["omega0"], s0=settings["s0"], key=key)
        first = _linear(*layers[0], "layer 0")
        hidden = []
        for weight, bias in layers[1:-1]:
            bias = np.zeros(weight.shape[0], np.complex64) if bias is None else bias
            hidden.append(
                ComplexLinear(*(jnp.asarray(x, jnp.float32) for x in (weight.real, weight.imag, bias.real, bias.imag)))
            )
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

"""PyTorch state dicts of the reference INR implementations → inrdict models that compute the same function, on the
grid their sources trained on.

Layouts recognised from the keys (`layout_of`):

* ``net.{i}.linear.weight`` … ``net.{L}.weight`` — one `nn.Sequential` of activation layers that each hold
  `self.linear`, then a final `nn.Linear`: vsitzmann/siren's `explore_siren.ipynb` `Siren`, liuzhen0212/FINER's
  `models.py` (`Siren`, `Finer`, `Gauss`, `Wire`), vishwa91/wire's `modules/{siren,wire,gauss}.py` `INR`
  (WIRE's layers also save their `omega_0` and `scale_0` as parameters: ``net.{i}.omega_0``, ``net.{i}.scale_0``).
  A last layer keyed ``net.{L}.linear.weight`` is a sine / Gauss / Gabor layer (built with
  ``outermost_linear=False``, explore_siren's default): inrdict's families end in a linear layer, so it is refused;
* ``net.net.{i}.0.weight`` — vsitzmann/siren's `modules.py` `SingleBVPNet(type='sine', mode='mlp')` (an `FCBlock` of
  `MetaSequential(BatchLinear, Sine)`, sin(30 u) in every layer, built with ``outermost_linear=True``). A bare
  `FCBlock` (``net.{i}.0.weight``) is refused: its nonlinearities hold no parameters, so its state dict cannot show
  whether the last block has one (`FCBlock`'s ``outermost_linear`` defaults to False);
* ``layers.{i}.weight`` (``net.{i}.weight`` in early versions), ``last_layer.weight`` — lucidrains/siren-pytorch's
  `SirenNet` (ω0 = `w0_initial` in the first layer, `w0` in the others);
* ``filters.{i}.linear.weight`` (+ ``filters.{i}.mu``, ``.gamma`` for Gabor filters), ``linear.{i}.weight``,
  ``output_linear.weight`` — boschresearch/multiplicative-filter-networks' `FourierNet` / `GaborNet` (`mfn/mfn.py`):
  g(r) = sin(W r + b) · exp(−γ/2 ‖r − μ‖²), z_{i+1} = (W_i z_i + b_i) ⊙ g_{i+1}(r); and vishwa91/wire's
  `modules/mfn.py` (the same GaborNet, filters named ``gabon_filters``, the output layer the last ``linear.{k-1}``).

Each family's forward pass is the reference layer's (see the classes' docstrings): SIREN sin(ω0 (W z + b)) as
`Siren(convention="fit")` (the convention only shapes a fresh init); FINER sin(ω0 (|u| + 1) u); Gauss exp(−(s u)²);
complex WIRE exp(i ω0 u − |s0 u|²) with a real first layer and `output.real`. PyTorch's `nn.Linear` stores W as
(out, in) and computes x Wᵀ + b, as inrdict does.

What a state dict does not hold — ω0 (except WIRE's), the Gauss scale, lucidrains' `final_activation`, and the grid
the model was trained on — comes from the knobs (``inrdict import-weights … --set scale=10``), or from the
references' defaults (`Family.import_sources`) where every reference that writes the layout agrees; where they disagree the import
is refused in one line naming each source's value. The imported model takes the coordinates its source trained on
(no affine wrapper); `GridConvention.points` gives that grid in inrdict's row-major pixel order.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

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
from inrdict.models import family as _family
from inrdict.models.wire import RealPartLinear

GRID_KEY = "reference_grid"  # the checkpoint metadata entry of an imported model's `GridConvention`
ImportedModel = Siren | Finer | GaussINR | ComplexWire | MFN


@dataclasses.dataclass(frozen=True)
class GridConvention:
    """The grid a model was trained on: per axis ``linspace(low, high, n, endpoint=endpoint)``; with ``indexing="ij"``
    pixel (i, j) has the point (a_i, b_j), with ``"xy"`` the first two coordinates swap, (b_j, a_i) — what
    ``meshgrid(..., indexing="xy")`` flattened gives. `source` names the code that builds it."""

    low: float = -1.0
    high: float = 1.0
    endpoint: bool = True
    indexing: Literal["ij", "xy"] = "ij"
    source: str = ""

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise InrdictError(f"a grid spans an interval low < high, got ({self.low}, {self.high})")
        if self.indexing not in ("ij", "xy"):
            raise InrdictError(f"grid indexing is 'ij' or 'xy', got {self.indexing!r}")

    def points(self, shape: tuple[int, ...]) -> np.ndarray:
        """The (prod(shape), d) float32 points of the grid of `shape` (axis 0 the rows), in row-major (C) pixel order:
        values at these points reshape to `shape` as an image does."""
        if not shape or any(int(n) < 1 for n in shape):
            raise InrdictError(f"a grid shape is one or more positive sizes, got {tuple(shape)}")
        axes = [np.linspace(self.low, self.high, int(n), endpoint=self.endpoint) for n in shape]
        points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(shape))
        if self.indexing == "xy" and len(shape) >= 2:
            points[:, [0, 1]] = points[:, [1, 0]]
        return points.astype(np.float32)

    def describe(self) -> str:
        """ "linspace(-1, 1, n) per axis (both ends), indexing 'xy' (vishwa91/wire …)"."""
        ends = "both ends" if self.endpoint else "without the upper end"
        return f"linspace({self.low:g}, {self.high:g}, n) per axis ({ends}), indexing {self.indexing!r} ({self.source})"

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: object) -> GridConvention:
        fields = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or not set(data) <= fields:
            raise InrdictError(f"a grid convention is a dict with keys {', '.join(sorted(fields))}, got {data!r}")
        indexing = data.get("indexing", "ij")
        if indexing not in ("ij", "xy"):
            raise InrdictError(f"grid indexing is 'ij' or 'xy', got {indexing!r}")
        try:
            low, high = float(data.get("low", -1.0)), float(data.get("high", 1.0))
        except (TypeError, ValueError):
            raise InrdictError(f"a grid's low and high are numbers, got {data!r}") from None
        return cls(low, high, bool(data.get("endpoint", True)), indexing, str(data.get("source", "")))


# inrdict's own grid (io.data.unit_grid: linspace(0, 1, n + 1)[:-1], ij): what its models and old imports take
UNIT_GRID = GridConvention(0.0, 1.0, False, "ij", "inrdict io/data.py unit_grid")


def grid_of(metadata: dict) -> GridConvention:
    """The grid a checkpoint's model (`load_model`) takes: an imported reference model's recorded grid
    (``metadata["reference_grid"]``), else inrdict's unit grid [0, 1)^d (an inrdict-trained model, or a model
    imported before the grid was recorded, which holds an `OnDomain` that maps the unit grid)."""
    return GridConvention.from_json(metadata[GRID_KEY]) if GRID_KEY in metadata else UNIT_GRID


def swap_first_inputs(model: ImportedModel) -> ImportedModel:
    """The same model with its first two input coordinates exchanged, g(r0, r1, …) = model(r1, r0, …): the first
    layer's input columns (and an MFN's filter columns and Gabor centres) swapped."""

    def swap(w):
        return w[:, jnp.array([1, 0, *range(2, w.shape[1])])]

    if isinstance(model, MFN):
        filters = tuple(eqx.tree_at(lambda g: g.omega, g, swap(g.omega)) for g in model.filters)
        filters = tuple(eqx.tree_at(lambda g: g.mu, g, swap(g.mu)) if isinstance(g, GaborFilter) else g
                        for g in filters)  # fmt: skip
        return eqx.tree_at(lambda m: m.filters, model, filters)
    if isinstance(model, ComplexWire):
        return eqx.tree_at(lambda m: m.first.weight, model, swap(model.first.weight))
    return eqx.tree_at(lambda m: m.layers[0].weight, model, swap(model.layers[0].weight))


def on_unit_grid(model: ImportedModel, grid: GridConvention, size: int | None = None) -> OnDomain:
    """`model` (taking `grid`'s coordinates) as a function of inrdict's unit grid [0, 1)^d in ij order, for code that
    evaluates every model there: `OnDomain`, the first two inputs swapped for an "xy" grid.

    A source grid with both ends has point k of n at low + (high − low) k / (n − 1), and the unit grid's point k / n.
    With the grid's `size` n the map is exact there: OnDomain(model, low, low + (high − low) n / (n − 1)) sends k / n
    to the source's point k. Without it (or at another n) the map is OnDomain(model, low, high), up to one pixel
    spacing off at the far edge."""
    if grid.indexing == "xy" and model.in_features >= 2:
        model = swap_first_inputs(model)
    high = grid.high
    if grid.endpoint and size is not None and size > 1:
        high = grid.low + (grid.high - grid.low) * size / (size - 1)
    return OnDomain(model, grid.low, high)


# What a state dict does not hold, per (family, layout), as each reference that writes that layout sets it by
# default, and the grid its training scripts build: per axis torch.linspace(-1, 1, n) (both ends), then
#   ij: vsitzmann/siren explore_siren.ipynb get_mgrid (torch.meshgrid, 'ij' by default) and dataio.py get_mgrid
#       (np.mgrid); liuzhen0212/FINER train_image.py get_train_data (indexing='ij'); lucidrains/siren-pytorch
#       siren_pytorch.py SirenWrapper (indexing='ij'); boschresearch mfn/data.py CameraDataset (torch.meshgrid);
#   xy: vishwa91/wire wire_image_denoise.py (torch.meshgrid(x, y, indexing='xy'), x along the width) and
#       modules/utils.py get_coords (np.meshgrid, 'xy' by default).
# A setting is assumed only where every source agrees; otherwise the import asks for it (`_settings`). The
# sources of each family are in its record (`Family.import_sources`, keyed by layout; MFN's by "mfn" / "mfn_wire").
WIRE_SAVED = {"omega0": "omega_0", "s0": "scale_0"}  # inrdict knob → the ComplexGaborLayer parameter saved for it
TEXT_SETTINGS = {"indexing": ("ij", "xy"), "final_activation": ("identity",)}  # the values that import
SETTING_NOTES = {"indexing": "the training grid's axis order",
                 "final_activation": "SirenNet's last activation, only identity imports"}  # fmt: skip

_SEQUENTIAL = re.compile(r"net\.(\d+)\.(linear\.)?(weight|bias|omega_0|scale_0)")
_MODULES = re.compile(r"net\.net\.(\d+)\.0\.(weight|bias)")
_FCBLOCK = re.compile(r"net\.(\d+)\.0\.(weight|bias)")
_LUCIDRAINS = re.compile(r"(?:(?:layers|net)\.(\d+)|(last_layer))\.(weight|bias)")
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
    """ "sequential", "siren_modules", "fcblock", "lucidrains" or "mfn" (module docstring), from the state dict's
    keys."""
    keys = list(state)
    patterns = (("sequential", _SEQUENTIAL), ("siren_modules", _MODULES), ("fcblock", _FCBLOCK),
                ("lucidrains", _LUCIDRAINS), ("mfn", _MFN))  # fmt: skip
    for name, pattern in patterns:
        if all(pattern.fullmatch(k) for k in keys):
            return name
    odd = next((k for k in keys if not any(p.fullmatch(k) for _, p in patterns)), keys[0])
    raise InrdictError(f"unrecognised state dict key {odd!r}: expected the layout of a reference implementation "
                       "(net.<i>.linear.weight …, net.net.<i>.0.weight …, layers.<i>.weight … last_layer.weight, or "
                       "filters.<i>.linear.weight … output_linear.weight)")  # fmt: skip


def _layers(state: dict[str, np.ndarray], layout: str) -> tuple[list[tuple[np.ndarray, np.ndarray | None]], dict]:
    """[(weight (out, in), bias (out,) or None)] in order, and the per-layer extras (WIRE's omega_0 / scale_0).

    Raises:
        InrdictError: a sequential layout whose last layer is an activation layer (``outermost_linear=False``) or
            whose hidden layer is a bare `nn.Linear`, or layers that are missing, mis-numbered or do not chain.
    """
    table: dict[int, dict[str, np.ndarray]] = {}
    wrapped: dict[int, bool] = {}  # sequential: whether the layer holds `self.linear` (an activation layer)
    for key, value in state.items():
        if layout == "sequential":
            index, linear, field = _groups(_SEQUENTIAL, key)
            if field in ("weight", "bias"):
                wrapped[int(index)] = linear is not None
        elif layout == "siren_modules":
            index, field = _groups(_MODULES, key)
        else:
            index, last, field = _groups(_LUCIDRAINS, key)
            index = 10**6 if last else index
        table.setdefault(int(index), {})[field] = value
    order = sorted(table)
    if layout != "lucidrains" and order != list(range(len(order))):
        raise InrdictError(f"layers must be numbered 0, 1, …; the state dict has {order}")
    if layout == "sequential" and order:
        last = order[-1]
        if wrapped.get(last):
            raise InrdictError(f"the last layer (net.{last}.linear.weight) is a sine / Gauss / Gabor layer, so the "
                               "model was built with outermost_linear=False; inrdict's families end in a linear layer "
                               "(outermost_linear=True) and cannot hold it as the same function")  # fmt: skip
        bare = [i for i in order[:-1] if not wrapped.get(i, True)]
        if bare:
            raise InrdictError(f"net.{bare[0]}.weight is a bare nn.Linear, not an activation layer holding .linear "
                               "(SineLayer, FinerLayer, GaussLayer, ComplexGaborLayer): not a reference INR")  # fmt: skip
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


def _value(name: str, value: object) -> float | str:
    """A knob's value checked: text for `TEXT_SETTINGS` (one of the values that import), else a finite number."""
    if name in TEXT_SETTINGS:
        text = str(value).strip().lower()
        if name == "final_activation" and text not in TEXT_SETTINGS[name]:
            raise InrdictError(f"final_activation={value}: inrdict's SIREN ends in a linear layer, so only a SirenNet "
                               "whose final_activation is nn.Identity() imports (--set final_activation=identity)")  # fmt: skip
        if text not in TEXT_SETTINGS[name]:
            raise InrdictError(f"{name}={value}: use {' or '.join(f'{name}={v}' for v in TEXT_SETTINGS[name])}")
        return text
    try:
        number = float(cast(Any, value))
    except (TypeError, ValueError):
        raise InrdictError(f"{name}={value}: a number is needed") from None
    if not math.isfinite(number):
        raise InrdictError(f"{name}={value}: a finite number is needed")
    return number


def _settings(family: str, source: str, in_features: int, extras: dict, knobs: dict, *,
              need_grid: bool) -> tuple[dict[str, float | str], tuple[str, ...], GridConvention | None]:  # fmt: skip
    """(settings, the names of those assumed from the sources' shared default, the grid or None) for what the state
    dict does not hold: a knob, else WIRE's saved omega_0 / scale_0, else the value every source in `Family.import_sources` agrees
    on. The grid is the sources' linspace(-1, 1, n) with the indexing the knob or every source gives.

    Raises:
        InrdictError: a knob the family does not have, or settings the sources disagree on that no knob gives (each
            named with every source's value; the indexing only when `need_grid` and the input has ≥ 2 axes).
    """
    sources = _family.get(family).import_sources[source]
    names = list(dict.fromkeys([*(WIRE_SAVED if family == "wire" else ()), *(k for _, d in sources for k in d)]))
    unknown = sorted(set(knobs) - set(names))
    if unknown:
        raise InrdictError(f"{', '.join(unknown)} do not apply to an imported {family}; its settings: "
                           f"{', '.join(names)}")  # fmt: skip
    saved: dict[str, float] = {}
    for knob, parameter in WIRE_SAVED.items() if family == "wire" else ():
        values = sorted({v[parameter] for v in extras.values() if parameter in v})
        if len(values) > 1:
            raise InrdictError(f"the WIRE layers save different {parameter} {values}; inrdict's WIRE has one")
        saved |= {knob: values[0]} if values else {}
    settings: dict[str, float | str] = {}
    assumed: list[str] = []
    missing: list[str] = []
    for name in names:
        defaults = [d.get(name) for _, d in sources]
        if name in knobs:
            settings[name] = _value(name, knobs[name])
        elif name in saved:
            settings[name] = saved[name]
        elif len(set(defaults)) == 1 and defaults[0] is not None:
            settings[name], assumed = defaults[0], [*assumed, name]
        elif name == "indexing" and in_features < 2:
            settings[name] = "ij"  # one axis: no order to choose
        elif name == "indexing" and not need_grid:
            continue
        else:
            missing.append(name)
    if missing:
        flags = " ".join(f"--set {n}={'|'.join(TEXT_SETTINGS.get(n, ('…',)))}" for n in missing)
        raise InrdictError(f"the state dict does not hold {', '.join(missing)} and the references differ: "
                           + "; ".join(_disagreement(name, sources) for name in missing) + f": pass {flags}")  # fmt: skip
    indexing = settings.pop("indexing", None)
    assumed = [a for a in assumed if a != "indexing"]
    if indexing is None:
        return settings, tuple(assumed), None
    named = "; ".join(s for s, d in sources if d.get("indexing") == indexing)
    chosen = f"indexing={indexing} set on import" if "indexing" in knobs else ""
    grid = GridConvention(-1.0, 1.0, True, cast(Literal["ij", "xy"], indexing),
                          ", ".join(x for x in (named, chosen) if x))  # fmt: skip
    return settings, tuple(assumed), grid


def _disagreement(name: str, sources: tuple[tuple[str, Mapping[str, float | str]], ...]) -> str:
    """ "scale (liuzhen0212/FINER models.py, train_image.py: 30, vishwa91/wire modules/gauss.py, …: 10)"."""
    if name in WIRE_SAVED:
        return (f"{name} (vishwa91/wire modules/wire.py and liuzhen0212/FINER models.py save it as "
                f"net.<i>.{WIRE_SAVED[name]}; this file does not)")  # fmt: skip
    values = [f"{s}: {d[name]:g}" if isinstance(d.get(name), float) else f"{s}: {d.get(name)}" for s, d in sources]
    note = f"{SETTING_NOTES[name]}; " if name in SETTING_NOTES else ""
    return f"{name} ({note}{', '.join(values)})"


def _mfn(state: dict[str, np.ndarray]) -> MFN:
    """boschresearch's `FourierNet` / `GaborNet` state dict as an `MFN` (input_scale, α, β and weight_scale only shape
    a fresh init, so none is needed)."""
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


@dataclasses.dataclass(frozen=True)
class Imported:
    """A reference state dict imported: `model` takes the coordinates its source trained on, `grid.points(shape)`
    gives them in pixel order; `settings` holds what the state dict does not (ω0, the Gauss scale, …), `assumed`
    names those taken from the references' shared default (`Family.import_sources`), `layout` is `layout_of`'s."""

    model: ImportedModel
    grid: GridConvention
    settings: dict[str, float | str]
    assumed: tuple[str, ...]
    layout: str


def _import(state: dict[str, np.ndarray], family: str, knobs: dict, *,
            need_grid: bool) -> tuple[ImportedModel, dict[str, float | str], tuple[str, ...], GridConvention | None, str]:  # fmt: skip
    """(model, settings, assumed, grid or None, layout) of a state dict (`model_from_state_dict`)."""
    layout = _checked_layout(state, family)
    if family == "mfn":
        model = _mfn(state)
        source = "mfn_wire" if any(k.startswith("gabon_") for k in state) else "mfn"
        settings, assumed, grid = _settings(family, source, model.in_features, {}, knobs, need_grid=need_grid)
        return model, settings, assumed, grid, layout
    layers, extras = _layers(state, layout)
    sizes = (layers[0][0].shape[1], *(w.shape[0] for w, _ in layers))
    _check_layers(layers, family, layout, sizes[0])
    settings, assumed, grid = _settings(family, layout, sizes[0], extras, knobs, need_grid=need_grid)
    key = jax.random.key(0)
    skeleton: Siren | Finer | GaussINR
    if family == "wire":
        return _wire(layers, sizes, settings), settings, assumed, grid, layout
    hidden_sizes = sizes[1:-1]
    if family == "siren":
        skeleton = Siren(sizes[0], hidden_sizes, sizes[-1], first_omega0=float(settings["first_omega0"]),
                         hidden_omega0=float(settings["hidden_omega0"]), convention="fit", key=key)  # fmt: skip
    elif family == "finer":
        skeleton = Finer(sizes[0], hidden_sizes, sizes[-1], first_omega0=float(settings["first_omega0"]),
                         hidden_omega0=float(settings["hidden_omega0"]), key=key)  # fmt: skip
    else:
        skeleton = GaussINR(sizes[0], hidden_sizes, sizes[-1], scale=float(settings["scale"]), key=key)
    linears = tuple(_linear(w, b, f"layer {i}") for i, (w, b) in enumerate(layers))
    return eqx.tree_at(lambda m: m.layers, skeleton, linears), settings, assumed, grid, layout


def _checked_layout(state: dict[str, np.ndarray], family: str) -> str:
    """`layout_of(state)`, refused in one line when the family cannot be imported or the layout is not its own."""
    if family not in _family.importable():
        raise InrdictError(
            f"cannot import weights of family {family!r}: choose one of {', '.join(_family.importable())}"
        )
    if not state:
        raise InrdictError("the state dict is empty")
    layout = layout_of(state)
    if layout == "fcblock":
        raise InrdictError("keys net.<i>.0.weight are a bare vsitzmann/siren modules.py FCBlock, whose state dict "
                           "cannot show whether its last block has the nonlinearity (FCBlock's outermost_linear "
                           "defaults to False): import the SingleBVPNet that holds it (net.net.<i>.0.weight, always "
                           "outermost_linear=True)")  # fmt: skip
    if (layout == "mfn") != (family == "mfn"):
        raise InrdictError(f"this state dict has the {layout} layout, not that of a reference {family}")
    return layout


def _check_layers(
    layers: list[tuple[np.ndarray, np.ndarray | None]], family: str, layout: str, in_features: int
) -> None:
    """Refuse a positional-encoding SingleBVPNet, and complex layers where the family has none (or real ones where a
    complex WIRE has complex ones)."""
    if layout == "siren_modules" and in_features > 3:
        raise InrdictError(f"the first layer takes {in_features} inputs: a SingleBVPNet with mode='nerf' (a positional "
                           "encoding, which inrdict does not import) rather than mode='mlp' on 1 to 3 coordinates")  # fmt: skip
    has_complex = [np.iscomplexobj(w) or (b is not None and np.iscomplexobj(b)) for w, b in layers]
    if family == "wire" and (has_complex[0] or not all(has_complex[1:])):
        raise InrdictError("a complex WIRE has a real first layer and complex later layers (vishwa91/wire "
                           f"`ComplexGaborLayer`); this state dict's layers are "
                           f"{', '.join('complex' if c else 'real' for c in has_complex)}")  # fmt: skip
    if family != "wire" and any(has_complex):
        raise InrdictError(f"layer {has_complex.index(True)} is complex: a {family} has real weights (a WIRE? use "
                           "--family wire)")  # fmt: skip


def _wire(layers: list[tuple[np.ndarray, np.ndarray | None]], sizes: tuple[int, ...], settings: dict) -> ComplexWire:
    """A `ComplexWire` holding the layers: a real first layer, complex hidden layers, the output's real part."""
    skeleton = ComplexWire(sizes[0], sizes[1:-1], sizes[-1], omega0=float(settings["omega0"]),
                           s0=float(settings["s0"]), key=jax.random.key(0))  # fmt: skip
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


def model_from_state_dict(state: dict[str, np.ndarray], family: str, knobs: dict | None = None) -> ImportedModel:
    """The inrdict model (`Siren`, `Finer`, `GaussINR`, `ComplexWire` or `MFN`, float32) holding a reference
    implementation's weights (module docstring); it takes the coordinates its source trained on.

    Raises:
        InrdictError: an unknown family, a state dict of another layout, weights that do not fit the family (the
            first missing or mis-shaped key is named), a last layer that is not linear, or a setting the references
            disagree on and `knobs` does not give.
    """
    return _import(state, family, dict(knobs or {}), need_grid=False)[0]


def reference_from_state_dict(state: dict[str, np.ndarray], family: str, knobs: dict | None = None) -> Imported:
    """`model_from_state_dict`'s model with the grid its source trained on (`Imported`); where the references that
    write this layout build their grids differently (ij or xy), `knobs` must give ``indexing``."""
    model, settings, assumed, grid, layout = _import(state, family, dict(knobs or {}), need_grid=True)
    assert grid is not None  # need_grid: refused above when no grid is known
    return Imported(model, grid, settings, assumed, layout)


def _read(path: str | os.PathLike) -> dict[str, np.ndarray]:
    return state_dict_of(load_torch_checkpoint(path), Path(path))


def import_reference(path: str | os.PathLike, family: str, knobs: dict | None = None) -> Imported:
    """A reference implementation's `.pt` / `.pth` state dict (read by `load_torch_checkpoint`, no PyTorch needed)
    as an `Imported`: the model on its source's own coordinates, and their grid."""
    state = _read(path)
    try:
        return reference_from_state_dict(state, family, knobs)
    except InrdictError as error:
        raise InrdictError(f"{path}: {error}") from None


def import_torch_weights(path: str | os.PathLike, family: str, knobs: dict | None = None) -> OnDomain:
    """The state dict's model as a function of inrdict's unit grid [0, 1)^d (`on_unit_grid`: ``OnDomain(model, -1,
    1)``), for code that evaluates every model there; approximate at the far edge, and for a model trained on an
    "xy" grid exact in orientation only when `knobs` gives ``indexing``. `import_reference` gives the model on its
    own coordinates and their grid."""
    state = _read(path)
    try:
        model, _, _, grid, _ = _import(state, family, dict(knobs or {}), need_grid=False)
    except InrdictError as error:
        raise InrdictError(f"{path}: {error}") from None
    return on_unit_grid(model, grid) if grid is not None else OnDomain(model, -1.0, 1.0)

"""One record per INR family, registered once by the module that defines the family; everything else that names
families (`make_model`, matched widths, checkpoints, PRNG keys, the coordinate domain, frequency sweeps, `suggest`,
reference training runs, PyTorch imports, the command line) reads this registry.

A new family is one module: its class(es), then

    register(Family(name="mine", build=Mine, classes=(Mine,), prng_id=201, domain=(-1.0, 1.0), domain_source="…",
                    reference="…", knob="omega0", knob_fields={"omega0": "omega0"}))

and an import of that module (`tests/_tanh_family.py` is such a module; `tests/test_families.py` uses it).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from jaxtyping import Array

from inrdict._keys import PRNG_IDS, ROW_FAMILIES, fold_id
from inrdict.errors import InrdictError


@runtime_checkable  # the test suite's runtime type checks need isinstance
class INRModel(Protocol):
    """What every inrdict model has (a class of a registered family): its sizes, its checkpoint settings
    (`hyperparameters()` / `from_hyperparameters(h, dtype=)`) and the forward pass of one point (in_features,) →
    (out_features,). A user's own Equinox module need not have more than `__call__`: annotate with this only where
    an inrdict model is required."""

    @property
    def in_features(self) -> int: ...

    @property
    def out_features(self) -> int: ...

    @property
    def hidden(self) -> tuple[int, ...]: ...

    def hyperparameters(self) -> dict: ...

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> INRModel: ...

    def __call__(self, r: Array, /) -> Array: ...


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One reference training run of a family on an image (the optimiser it implies: `inrdict.train.recipes`).

    Attributes:
        family: the family's name.
        name: the run's name (`Family.recipes`).
        learning_rate: Adam's initial step size.
        steps: the run's length T (the schedule decays over it).
        final_lr_factor: lr at step T over the initial lr (1: constant).
        target_range: (low, high) the [0, 1] pixels are mapped to.
        reference_pixels: lr × min(1, reference_pixels / pixels) when set (WIRE's `maxpoints = 256*256`).
        depth: hidden layers of the source's architecture (None: the family's default).
        knobs: model settings of the run (`make_model` keywords).
        domain: the coordinate range per axis the run trains on (`torch.linspace(-1, 1, ·)` in every PyTorch
            reference; [0, 1) for the FFN demo).
        source: the file (and commit) the numbers come from.
        adam_b1, adam_b2, adam_eps: Adam's β1, β2 and ε. Defaults: PyTorch's `torch.optim.Adam` (betas (0.9, 0.999),
            eps 1e-8; also `optax.adam`'s), kept by every recipe whose source names no others;
            tiny-cuda-nn's runs set their own (`data/config_hash.json`: 0.9, 0.99, 1e-15).
    """

    family: str
    name: str
    learning_rate: float
    steps: int
    source: str
    final_lr_factor: float = 1.0
    target_range: tuple[float, float] = (0.0, 1.0)
    reference_pixels: int | None = None
    depth: int | None = None
    knobs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    domain: tuple[float, float] = (-1.0, 1.0)
    adam_b1: float = 0.9  # torch.optim.Adam's default betas[0]
    adam_b2: float = 0.999  # torch.optim.Adam's default betas[1]
    adam_eps: float = 1e-8  # torch.optim.Adam's default eps

    def __post_init__(self):
        if not (self.learning_rate > 0 and self.steps > 0 and 0 < self.final_lr_factor <= 1):
            raise InrdictError(f"recipe {self.family}/{self.name}: learning_rate and steps must be positive and "
                               f"final_lr_factor in (0, 1], got {self.learning_rate}, {self.steps}, "
                               f"{self.final_lr_factor}")  # fmt: skip
        low, high = self.target_range
        if not low < high:
            raise InrdictError(f"recipe {self.family}/{self.name}: target_range must have low < high")
        if not (0 <= self.adam_b1 < 1 and 0 <= self.adam_b2 < 1 and self.adam_eps > 0):
            raise InrdictError(f"recipe {self.family}/{self.name}: Adam needs 0 <= adam_b1, adam_b2 < 1 and "
                               f"adam_eps > 0, got {self.adam_b1}, {self.adam_b2}, {self.adam_eps}")  # fmt: skip

    @property
    def adam(self) -> tuple[float, float, float]:
        """(β1, β2, ε) of the run's Adam."""
        return (float(self.adam_b1), float(self.adam_b2), float(self.adam_eps))

    def initial_lr(self, pixels: int, learning_rate: float | None = None) -> float:
        """The first step's lr for an image of `pixels` points (WIRE: × min(1, reference_pixels / pixels))."""
        base = self.learning_rate if learning_rate is None else float(learning_rate)
        return base * (1.0 if self.reference_pixels is None else min(1.0, self.reference_pixels / pixels))

    def to_target(self, pixels: np.ndarray) -> np.ndarray:
        """[0, 1] pixel values → the run's target range."""
        low, high = self.target_range
        return low + (high - low) * np.asarray(pixels)

    def from_target(self, values: np.ndarray) -> np.ndarray:
        """The run's target range → [0, 1] pixel values (inverse of `to_target`)."""
        low, high = self.target_range
        return (np.asarray(values) - low) / (high - low)


# Reference code named by several families' records.
SOURCE_FINER = "liuzhen0212/FINER@07a9a92 train_image.py (LambdaLR 0.1 ** min(t / num_epochs, 1), (img - 0.5) / 0.5)"
SOURCE_WIRE = "vishwa91/wire@0ac8cba wire_image_denoise.py"
# The grid encodings' image run (families grid and hashgrid; Instant-NGP paper Sec. 4 names the same Adam).
SOURCE_TCNN_IMAGE = (
    "NVlabs/tiny-cuda-nn@1317f3b data/config_hash.json (optimizer: Adam, learning_rate 1e-2, beta1 0.9, beta2 "
    "0.99, epsilon 1e-15) run by samples/mlp_learning_an_image.cu (coordinates (x + 0.5) / width in [0, 1], the "
    "image's values in [0, 1] as targets). Followed: Adam's settings and a constant lr (config_hash.json wraps Adam in "
    "no schedule and no EMA; instant-ngp's configs/image/base.json wraps it in an ExponentialDecay that starts at "
    "step 20000, after this run ends, and leaves its Ema commented out). Not followed: the sample's 2^16 random "
    "texture samples per step over an open-ended run (10^7 steps by default), replaced by 2000 full-batch steps on "
    "the pixels (at 256^2 a full batch is the sample's 2^16 samples; 2000 as the tancik runs); its RelativeL2 loss "
    "(plain MSE, as every recipe) and l2_reg 1e-6 (negligible beside lr 1e-2)"
)

# A reference code's saved weights (`inrdict.io.reference_weights`): state-dict layout → the sources that write it,
# each (file names, the settings its saved weights leave out, e.g. {"first_omega0": 30.0, "indexing": "ij"}).
ImportSources = Mapping[str, tuple[tuple[str, Mapping[str, float | str]], ...]]


@dataclasses.dataclass(frozen=True)
class Family:
    """An INR family: what inrdict knows of it, in one place.

    Attributes:
        name: the command-line name (`inrdict analyse NAME`, `make_model(NAME, …)`).
        build: the constructor `(in_features, hidden, out_features, *, key, dtype, **knobs) -> model`; its
            keyword-only defaults are the recommended settings (`knobs()`).
        classes: every class its models have, by which checkpoints name them (the first is the family's own).
        prng_id: its initialisation key is `fold_in(key(seed), prng_id)` (`key(seed)`); never renumber: results
            and cache entries depend on it.
        domain: the coordinate range per axis its authors train on; inrdict's grids are [0, 1)^d and
            `on_reference_domain` maps them there.
        domain_source: where `domain` comes from.
        reference: the paper and the reference code the class follows.
        knob: the frequency knob a sweep (and `suggest`) varies; None: it has none.
        knob_fields: config field → constructor keyword, for the experiments' shared knob fields
            (`inrdict analyse --set omega0=20` is SIREN's `first_omega0` and WIRE's `omega0`).
        depth: default number of hidden layers (`matched_hidden`).
        hidden: default hidden widths where the widths do not set the parameter budget (a grid encoding's head);
            None: `matched_hidden`'s widths.
        recipes: its reference training runs on an image, the default first.
        import_sources: the PyTorch state-dict layouts of its reference code that `inrdict import` reads.
    """

    name: str
    build: Callable[..., Any]
    classes: tuple[type, ...]
    prng_id: int
    domain: tuple[float, float]
    domain_source: str
    reference: str
    knob: str | None = None
    knob_fields: Mapping[str, str] = dataclasses.field(default_factory=dict)
    depth: int = 4
    hidden: tuple[int, ...] | None = None
    recipes: tuple[Recipe, ...] = ()
    import_sources: ImportSources = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        low, high = self.domain
        if not low < high:
            raise InrdictError(f"family {self.name}: domain must have low < high, got {self.domain}")
        if self.depth < 1 or not self.classes:
            raise InrdictError(f"family {self.name}: needs a positive depth and at least one class")
        settings = self.knobs()
        missing = [k for k in (self.knob, *self.knob_fields.values()) if k is not None and k not in settings]
        if missing:
            raise InrdictError(f"family {self.name}: {', '.join(missing)} is not a keyword of its constructor")
        for run in self.recipes:
            if run.family != self.name:
                raise InrdictError(f"family {self.name}: recipe {run.name!r} is for {run.family!r}")

    def knobs(self) -> dict[str, Any]:
        """Its settings and their recommended values: the constructor's keyword-only defaults."""
        parameters = inspect.signature(self.build).parameters.values()
        return {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY and p.name not in ("key", "dtype")}

    def key(self, seed: int):
        """Its initialisation key for `seed`; every knob value shares it (SPEC §10: sweep rows differ only in
        the knob)."""
        return fold_id(seed, self.prng_id)

    def recipe(self, name: str | None = None) -> Recipe:
        """The named reference run (default: the first)."""
        if not self.recipes:
            raise InrdictError(f"no training recipe for {self.name!r}: known for {', '.join(with_recipes())}")
        if name is None:
            return self.recipes[0]
        for run in self.recipes:
            if run.name == name:
                return run
        raise InrdictError(
            f"{self.name} has no recipe {name!r}: choose one of {', '.join(r.name for r in self.recipes)}"
        )


_FAMILIES: dict[str, Family] = {}
_CLASSES: dict[str, Any] = {}


def register(family: Family) -> Family:
    """Add `family` (and its classes) to the registry; returns it. A taken name, PRNG id or class name is an error,
    raised before anything is registered. Only the paper's ReLU and SIREN rows share their families' ids
    (`inrdict._keys.PRNG_IDS`, `ROW_FAMILIES`)."""
    if family.name in _FAMILIES:
        raise InrdictError(f"a family named {family.name!r} is already registered")
    taken = {f.prng_id: f.name for f in _FAMILIES.values()}
    shared = family.name in ROW_FAMILIES and PRNG_IDS.get(family.name) == family.prng_id
    taken.update({i: name for name, i in PRNG_IDS.items() if not (shared and name == family.name)})
    if family.prng_id in taken:
        raise InrdictError(f"family {family.name}: PRNG id {family.prng_id} is {taken[family.prng_id]!r}'s")
    clash = [cls.__name__ for cls in family.classes if _CLASSES.get(cls.__name__, cls) is not cls]
    if clash:
        raise InrdictError(f"family {family.name}: another model class is named {', '.join(clash)}")
    _FAMILIES[family.name] = family
    for cls in family.classes:
        register_class(cls)
    return family


def register_class(cls: Any) -> Any:
    """Make `cls` known to checkpoints by its name (a model class outside any family's own, e.g. `OnDomain`)."""
    known = _CLASSES.setdefault(cls.__name__, cls)
    if known is not cls:
        raise InrdictError(f"two model classes are named {cls.__name__}")
    return cls


def unregister(name: str) -> None:
    """Remove family `name` and the classes only it had (tests that register one of their own)."""
    family = _FAMILIES.pop(name)
    shared = {cls for f in _FAMILIES.values() for cls in f.classes}
    for cls in family.classes:
        if cls not in shared:
            _CLASSES.pop(cls.__name__, None)


def get(name: str) -> Family:
    """The family named `name`.

    Raises:
        InrdictError: no such family, naming the known ones.
    """
    if name not in _FAMILIES:
        raise InrdictError(f"unknown INR family {name!r}: choose one of {', '.join(_FAMILIES)}")
    return _FAMILIES[name]


def names() -> tuple[str, ...]:
    """Every registered family's name, in registration order."""
    return tuple(_FAMILIES)


def with_knob() -> tuple[str, ...]:
    """The families that have a frequency knob."""
    return tuple(f.name for f in _FAMILIES.values() if f.knob is not None)


def with_recipes() -> tuple[str, ...]:
    """The families with a reference training run."""
    return tuple(f.name for f in _FAMILIES.values() if f.recipes)


def importable() -> tuple[str, ...]:
    """The families whose reference code's PyTorch weights `inrdict import` reads."""
    return tuple(f.name for f in _FAMILIES.values() if f.import_sources)


def knob_fields() -> dict[str, dict[str, str]]:
    """Config field → {family: constructor keyword}, over every family."""
    fields: dict[str, dict[str, str]] = {}
    for f in _FAMILIES.values():
        for field, keyword in f.knob_fields.items():
            fields.setdefault(field, {})[f.name] = keyword
    return fields


def model_class(name: str) -> Any:  # an INRModel class: typing cannot say "a class of a protocol"
    """The model class named `name` (what a checkpoint records).

    Raises:
        InrdictError: no such class, naming the known ones.
    """
    if name not in _CLASSES:
        raise InrdictError(f"unknown model family {name!r}: expected one of {', '.join(_CLASSES)}")
    return _CLASSES[name]


def model_classes() -> tuple[str, ...]:
    """The names of every model class a checkpoint can describe."""
    return tuple(_CLASSES)


def family_of(model: object) -> str | None:
    """The name of the family whose own class `model` is (None: none)."""
    return next((f.name for f in _FAMILIES.values() if type(model) is f.classes[0]), None)

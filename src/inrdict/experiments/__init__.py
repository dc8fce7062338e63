"""The experiments: one module per figure, all following one contract, registered once in `REGISTRY`.

The contract (checked for every registered module by `check_contract`, and by the tests):

* `NAME` — results' `experiment` field and the default folder name (`figures/<NAME>`);
  `TITLE` — one line saying what it shows; `DEFAULT_SECONDS` — about how long the default preset takes on 2 cores;
  `OVERVIEW` (optional, default "overview") — the stem of its main picture.
* `Config` — a frozen dataclass with typed fields (`Literal[...]` for choices), validated in `__post_init__`
  (`_run.validate_config`); `PRESETS = {"paper": ..., "default": ...}` (more presets allowed).
* `compute(config, *, progress) -> (numbers, arrays)` — every number behind the plots, and the arrays.
* `claims(numbers, config) -> dict[str, values]` — each claim's metric, measured whatever the outcome: one value
  per seed (a list), one number, an estimate with its interval, or None where it cannot be measured. Every claim is
  declared in the ledger (`ledger.toml`: quote, metric, threshold and its source, protocol), which turns the values
  into an outcome and a verdict (`_evidence`): no threshold and no verdict lives in an experiment module.
  `sanity(numbers, config)` (optional) — checks true by construction, reported apart. `versus_paper(numbers, config)` (optional) — rows
  `{"quantity", "ours", "paper", "unit"}` of our numbers beside the paper's.
* `summary(numbers) -> list[(label, text)]` — the lines the CLI prints; `plot(results, arrays, out_dir)` — the
  figures, drawn from what was saved (computes nothing).
* `REQUIRES` (optional) — registry names of the experiments whose artefacts `compute` may ask for
  (`_artefacts.resolve`); `reproduce` runs those first. A producer also exports `ARTEFACT`,
  `ARTEFACT_DESCRIPTION`, `artefact_label(config)` and `learn(config, folder, *, progress)`.
* `IN_REPRODUCE` (optional, default True) — False for a tool that is no figure of the paper (`analyse`):
  `reproduce` skips it, `figure NAME` and `list` still know it.
* `publish(results, config, folder)` (optional) — files besides the figures written into the run folder before it
  is committed (the meta-learned checkpoint and its log); `out_name(config)` (`analyse`) — the run folder's name
  under `figures/` when no `--out` is given (`analyse_<model>`; figures use `NAME`).

The runner (`_run.run_experiment`) calls, in order: `compute`, `claims` (judged against the ledger), `sanity`, `versus_paper`, writes
results.json and arrays.npz, then `plot` and `publish`, all into a staging folder renamed into place at the end.

**Folders.** `paper/`: the paper's figures and the experiments that produce what they need (meta-learning,
pretraining); `beyond/`: the studies beyond the paper (families compared, predictors of learnability, `suggest`
validated, sweeps); here: the tools behind `inrdict analyse`, `suggest` and `fit`, the runner, the ledger and
the verdicts; `studies/`: what several experiments share.

No experiment imports another: what figures share lives in `studies/` (model rows, the face-learnability study,
model specs, mappings, tones, pretrained rows); artefacts are resolved by registry name (`_artefacts`). The
measurements themselves are the library's (`inrdict.analysis.lens`): experiments choose rows, aggregate over
seeds, state claims and plot.
"""

from __future__ import annotations

import dataclasses
import inspect
import types

from inrdict.errors import InrdictError
from inrdict.experiments import _artefacts, analyse, fit_signal, suggest_knob
from inrdict.experiments._evidence import claims_of
from inrdict.experiments.beyond import (
    aliasing,
    families_compare,
    family_comparison,
    family_predictors,
    grid_psf,
    grid_psf_training,
    grid_spectrum,
    linearised,
    reptile_sweep,
    suggest_validation,
)
from inrdict.experiments.paper import (
    figure2,
    figure3,
    figure4,
    figure5,
    figure6,
    figure7,
    figure8,
    figure9,
    figure10,
    figure11,
    figure12,
    figure13,
    figure14,
    figure15,
    figure16,
    meta_learning,
    pretraining,
    theorem1,
)

REGISTRY: dict[str, types.ModuleType] = {
    "meta": meta_learning,
    "2": figure2,
    "3": figure3,
    "4": figure4,
    "5": figure5,
    "6": figure6,
    "7": figure7,
    "8": figure8,
    "9": figure9,
    "10": figure10,
    "11": figure11,
    "12": figure12,
    "pretrain": pretraining,
    "13": figure13,
    "14": figure14,
    "15": figure15,
    "16": figure16,
    "linearised": linearised,
    "theorem1": theorem1,
    "aliasing": aliasing,
    "families": families_compare,
    "predictors": family_predictors,
    "family_comparison": family_comparison,
    "reptile": reptile_sweep,
    "regret": suggest_validation,
    "grid_psf": grid_psf,
    "grid_psf_training": grid_psf_training,
    "grid_spectrum": grid_spectrum,
    "analyse": analyse,
    "suggest": suggest_knob,
    "fit": fit_signal,
}
"""CLI name → experiment module, in the order `inrdict list` shows them."""
for _name, _module in REGISTRY.items():
    if hasattr(_module, "learn"):  # an artefact producer (`_artefacts`), found there by its registry name
        _artefacts.register_producer(_name, _module)

REQUIRED = ("NAME", "TITLE", "DEFAULT_SECONDS", "Config", "PRESETS", "compute", "claims", "summary", "plot")
PRODUCER = ("ARTEFACT", "ARTEFACT_DESCRIPTION", "artefact_label", "learn")


def get(name: str) -> types.ModuleType:
    """The experiment registered as `name`; an `InrdictError` listing the choices otherwise."""
    if name not in REGISTRY:
        raise InrdictError(f"unknown experiment {name!r}: choose one of {', '.join(REGISTRY)} (see `inrdict list`)")
    return REGISTRY[name]


def overview_stem(module: types.ModuleType) -> str:
    return getattr(module, "OVERVIEW", "overview")


def reproduce_order() -> list[str]:
    """Registry names that `reproduce` runs (all but `IN_REPRODUCE = False`), each after the experiments it
    `REQUIRES` (stable: registry order otherwise)."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise RuntimeError(f"experiments require each other in a cycle: {' → '.join((*path, name))}")
        for required in getattr(REGISTRY[name], "REQUIRES", ()):
            visit(required, (*path, name))
        order.append(name)

    for name in REGISTRY:
        if getattr(REGISTRY[name], "IN_REPRODUCE", True):
            visit(name, ())
    return order


class ContractError(AssertionError):
    """An experiment module breaks the contract (raised whatever Python's -O says)."""


def check_contract(module: types.ModuleType) -> None:
    """Raise `ContractError` naming what `module` lacks of the experiment contract."""
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise ContractError(f"{module.__name__} lacks {missing}")

    def require(condition: bool, message: str) -> None:
        if not condition:
            raise ContractError(f"{module.__name__}: {message}")

    config_class: type = module.Config
    frozen = dataclasses.is_dataclass(config_class) and config_class.__dataclass_params__.frozen  # type: ignore[attr-defined]  # not in typeshed's DataclassInstance
    require(frozen, "Config must be frozen")
    require({"paper", "default"} <= set(module.PRESETS), "PRESETS needs 'paper' and 'default'")
    require(all(isinstance(config, config_class) for config in module.PRESETS.values()), "a preset is not a Config")
    require("progress" in inspect.signature(module.compute).parameters, "compute needs a `progress` keyword")
    for required in getattr(module, "REQUIRES", ()):
        require(required in REGISTRY, f"requires unknown experiment {required!r}")
        producer = REGISTRY[required]
        require(all(hasattr(producer, attr) for attr in PRODUCER), f"{producer.__name__} is not an artefact producer")
    require(not hasattr(module, "VERDICTS"), "verdicts are computed (`_evidence`), never typed: remove VERDICTS")
    claims = claims_of(module.NAME)
    require(bool(claims), "no claim in the ledger (ledger.toml)")
    for claim in claims.values():
        unknown = [p for p in (claim.protocol, *claim.variants) if p not in module.PRESETS]
        require(not unknown, f"ledger claim {claim.name!r} names presets {unknown} that PRESETS lacks")

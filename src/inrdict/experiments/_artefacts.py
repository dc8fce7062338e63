"""Declared artefacts: what one experiment learns and others reuse, learned once and found in one place.

An artefact is identified by its *producer* (a registered experiment that can `learn` it, e.g. "meta" for a
meta-learned SIREN) and the producer's fully resolved `Config`. It lives in one folder of the cache,

    $INRDICT_CACHE_DIR/artefacts/<producer>/<label>-<fingerprint of the config and inrdict version>/

whoever asks for it: `inrdict reproduce`, the producer's own command (`inrdict meta-learn`), or a figure that
needs it (`inrdict figure 4`). A missing artefact is learned there on first request (saying so); an interrupted
learning run resumes from its checkpoint on the next request; a finished one is reused as is.

A producer module exports, besides the experiment contract, `ARTEFACT` (the file name it writes),
`ARTEFACT_DESCRIPTION` (e.g. "meta-learned SIREN"), `artefact_label(config) -> str` (readable folder prefix) and `learn(config, folder, *, progress)`, which writes `ARTEFACT` and,
last, `training.json` (the completion mark, holding the training record).
"""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path

from inrdict._version import __version__
from inrdict.errors import InrdictError
from inrdict.experiments._run import to_jsonable
from inrdict.io import cache

COMPLETE_MARK = "training.json"
_PRODUCERS: dict[str, types.ModuleType] = {}


def register_producer(name: str, module: types.ModuleType) -> None:
    """Make experiment `module` (registered as `name`, `inrdict.experiments.REGISTRY`) the producer of its artefact."""
    _PRODUCERS[name] = module


def producer(name: str) -> types.ModuleType:
    """The producer module registered as `name`."""
    if name not in _PRODUCERS:
        raise InrdictError(f"no artefact producer {name!r}: the producers are {', '.join(_PRODUCERS)}")
    return _PRODUCERS[name]


def producer_config(producer_name: str, preset: str, **overrides):
    """The producer's `PRESETS[preset]` with `overrides` (only fields whose value is not None are replaced)."""
    module = producer(producer_name)
    return dataclasses.replace(module.PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})


def folder(producer_name: str, config) -> Path:
    """Where the artefact of `producer` learned with `config` lives (whether or not it exists yet)."""
    key = cache.fingerprint(producer_name, to_jsonable(config), __version__)
    return cache.cache_dir() / "artefacts" / producer_name / f"{producer(producer_name).artefact_label(config)}-{key}"


def is_complete(location: Path) -> bool:
    return (location / COMPLETE_MARK).is_file()


def resolve(producer_name: str, config, *, progress: bool = True) -> Path:
    """The folder of the artefact `producer_name` learns with `config`: learned there first if it is not complete."""
    module = producer(producer_name)
    location = folder(producer_name, config)
    if not is_complete(location):
        verb = "resuming" if (location / "checkpoint.npz").exists() else "learning"
        print(f"No finished {module.artefact_label(config)} {module.ARTEFACT_DESCRIPTION} for these settings: "
              f"{verb} it now (≈ {module.DEFAULT_SECONDS} s on the default preset) in {location}", flush=True)  # fmt: skip
        module.learn(config, location, progress=progress)
        if not is_complete(location):  # pragma: no cover - a producer bug
            raise RuntimeError(f"{producer_name}.learn did not write {COMPLETE_MARK} in {location}")
    return location


def training_record(location: Path) -> dict:
    """The training record (`training.json`) of a complete artefact folder."""
    try:
        return json.loads((location / COMPLETE_MARK).read_text())
    except (OSError, ValueError) as error:
        raise InrdictError(
            f"the artefact in {location} is damaged ({error}): delete that folder to learn it again"
        ) from None

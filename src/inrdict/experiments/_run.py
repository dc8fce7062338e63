"""Running an experiment: validated configs, `--set` overrides, and the run folder every experiment writes.

`run_experiment(module, config, out_dir)` is the one runner behind `inrdict figure`, `inrdict meta-learn` and
`inrdict reproduce`: `module.compute` → `claims`/`sanity`/`versus_paper` → results.json + arrays.npz + the
module's `plot`, all written into a staging folder that replaces `out_dir` in one rename, so a run that fails
leaves no folder that looks complete and the previous results untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import re
import time
import types
import typing
from importlib import metadata
from pathlib import Path

import numpy as np

from inrdict._compilation import CompileMeter
from inrdict._io import atomic_directory, atomic_write_text
from inrdict.errors import InrdictError
from inrdict.experiments._evidence import evaluate, outcomes

PACKAGES = ("inrdict", "jax", "jaxlib", "equinox", "optax", "numpy", "scipy", "matplotlib", "scikit-image", "tqdm")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def device_info() -> dict[str, typing.Any]:
    import jax

    device = jax.devices()[0]
    return {
        "platform": device.platform,
        "device_kind": getattr(device, "device_kind", "unknown"),
        "device_count": jax.device_count(),
        "process_count": jax.process_count(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "machine": platform.machine(),
        "x64_enabled": bool(jax.config.read("jax_enable_x64")),
    }


def to_jsonable(value):
    """Dataclasses, tuples, NumPy scalars and arrays to plain JSON types (NaN/inf become strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, payload: dict) -> None:
    """Write `payload` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(to_jsonable(payload), indent=2) + "\n", "results file")


def metadata_block(config, seconds: float, precision: str = "float32") -> dict:
    """The fields every results.json carries besides its numbers."""
    return {
        "config": config,
        "seed": getattr(config, "seed", None),
        "precision": precision,
        "versions": package_versions(),
        "device": device_info(),
        "wall_seconds": seconds,
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _literal_choices(hint) -> tuple | None:
    """The allowed values of a `Literal[...]` (or `Literal[...] | None`) type hint, else None."""
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if typing.get_origin(option) is typing.Literal:
                return typing.get_args(option)
    return None


def signal_folder(tool: str, signal: str, family: str) -> str:
    """Folder name of a tool's run on a signal: <tool>_<bundled name or file stem>_<family>."""
    stem = Path(signal).stem if ("/" in signal or "." in signal) else signal
    return f"{tool}_" + re.sub(r"[^\w.-]+", "_", f"{stem}_{family}").strip("_")


def validate_config(config) -> None:
    """Generic checks of an experiment config, called from each `Config.__post_init__`.

    * `Literal` fields hold one of their choices;
    * fields named `seed` or `*_seed` are integers in [0, 2**31);
    * every other int/float field (and every number in a tuple field) is finite and positive.
    Experiments check anything else (ranges such as a fraction in (0, 1), relations between fields) themselves.
    """
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        choices = _literal_choices(hints[field.name])
        if choices is not None:
            if value not in choices and not (value is None and type(None) in typing.get_args(hints[field.name])):
                raise InrdictError(
                    f"config field {field.name} must be one of {', '.join(map(str, choices))}, got {value!r}"
                )
            continue
        if field.name == "seed" or field.name.endswith("_seed"):
            if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31):
                raise InrdictError(f"{field.name} must be an integer in [0, 2**31), got {value}")
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and (not math.isfinite(value) or value <= 0):
            raise InrdictError(f"config field {field.name} must be a positive number, got {value}")
        numbers = isinstance(value, tuple) and value and all(isinstance(v, (int, float)) for v in value)
        if numbers and any(not math.isfinite(v) or v <= 0 for v in value):
            raise InrdictError(f"config field {field.name} must hold positive numbers, got {value}")


def apply_overrides(config, overrides: dict[str, str]):
    """Return `config` with fields replaced from strings (`--set FIELD=VALUE`), parsed with each field's type.

    Unknown names and unparsable values raise `InrdictError` naming the field.
    """
    fields = {f.name for f in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    changes = {}
    for name, text in overrides.items():
        if name not in fields:
            raise InrdictError(f"unknown config field {name!r}; known fields: {', '.join(sorted(fields))}")
        changes[name] = _parse(hints[name], text, name)
    return dataclasses.replace(config, **changes)


def _parse(hint, text: str, name: str):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    try:
        if hint is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        if hint in (int, float, str):
            return hint(text)
        if origin is typing.Literal:
            if text not in [str(a) for a in args]:
                raise ValueError
            return next(a for a in args if str(a) == text)
        if origin is tuple:
            parts = [part.strip() for part in text.replace("(", "").replace(")", "").split(",") if part.strip()]
            return tuple(_parse(args[0], part, name) for part in parts)
        if origin in (typing.Union, types.UnionType):
            if text.lower() == "none" and type(None) in args:
                return None
            for option in args:
                if option is type(None):
                    continue
                with contextlib.suppress(ValueError, InrdictError):
                    return _parse(option, text, name)
            raise ValueError
    except ValueError:
        pass
    raise InrdictError(f"cannot parse {text!r} for config field {name} (type {hint})")


def claim_slug(label: str, *, short_meta: bool = False) -> str:
    """A row label as the prefix of a claim's name: "Meta (seed_maml)" → "meta_seed_maml"; with `short_meta`, the
    paper's "Meta SIREN" row is plain "meta"."""
    if short_meta and label == "Meta SIREN":
        return "meta"
    return label.lower().replace(" ", "_").replace("(", "").replace(")", "")


def run_experiment(
    module, config, out_dir: str | os.PathLike, *, progress: bool = True, preset: str | None = None
) -> dict:
    """Compute one experiment and write its run folder atomically; returns the results as written.

    results.json holds: `experiment`, `title`, `preset`, `numbers` (every number behind the plots), `evidence` (per
    claim: what `module.claims` measured, per seed, with its interval and the outcome the ledger's threshold gives,
    `_evidence.judge`), `claims` (those outcomes: true holds, false fails, null inconclusive), `sanity` (checks
    true by construction, from
    `module.sanity`), `versus_paper` (our numbers beside the paper's), and the metadata of `metadata_block`.
    An experiment may also define `publish(results, config, folder)` to add files (e.g. a learned checkpoint).
    """
    start = time.perf_counter()
    with CompileMeter() as meter:
        numbers, arrays = module.compute(config, progress=progress)
    numbers = to_jsonable(numbers)
    evidence = to_jsonable(evaluate(module, numbers, config))
    sanity = getattr(module, "sanity", None)
    versus = getattr(module, "versus_paper", None)
    results = to_jsonable({
        "experiment": module.NAME,
        "title": module.TITLE,
        "preset": preset,
        "numbers": numbers,
        "claims": outcomes(evidence),
        "evidence": evidence,
        "sanity": sanity(numbers, config) if sanity is not None else {},
        "versus_paper": versus(numbers, config) if versus is not None else [],
        **metadata_block(config, time.perf_counter() - start, getattr(config, "precision", "float32")),
        "compilation": meter.as_dict(),
    })  # fmt: skip
    import jax

    if jax.process_index() != 0:  # several processes (`inrdict.distributed`): process 0 writes the run folder
        return results
    with atomic_directory(out_dir) as staging:
        np.savez_compressed(staging / "arrays.npz", **arrays)
        write_json(staging / "results.json", results)
        module.plot(results, arrays, staging)
        if hasattr(module, "publish"):  # files besides the figures, e.g. a copy of a learned artefact
            module.publish(results, config, staging)
    return results

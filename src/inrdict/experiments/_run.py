"""Run directories: write everything into a temporary folder, then swap it in whole.

A run that fails leaves no folder that looks complete: the previous results (if any) stay untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import shutil
import tempfile
import time
import typing
from importlib import metadata
from pathlib import Path

import numpy as np

from inrdict.errors import InrdictError

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
        "cpu_count": os.cpu_count(),
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
    path.write_text(json.dumps(to_jsonable(payload), indent=2) + "\n")


@contextlib.contextmanager
def run_directory(out_dir: str | os.PathLike):
    """Yield a fresh temporary folder beside `out_dir`; on success it replaces `out_dir` in one rename.

    On any exception the temporary folder is deleted and `out_dir` keeps whatever it held before.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InrdictError(f"cannot create output folder {out_dir.parent}: {error.strerror}") from None
    if out_dir.exists() and not out_dir.is_dir():
        raise InrdictError(f"output path {out_dir} exists and is not a folder: choose another --out")
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}-{time.time_ns()}")
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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


def validate_config(config) -> None:
    """Check every int/float field of a config dataclass: positive where the name says a size or count."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name == "seed" and not (isinstance(value, int) and 0 <= value < 2**31):
            raise InrdictError(f"seed must be an integer in [0, 2**31), got {value}")
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and field.name != "seed":
            if not math.isfinite(value) or value <= 0:
                raise InrdictError(f"config field {field.name} must be a positive number, got {value}")
        if isinstance(value, tuple) and value and all(isinstance(v, (int, float)) for v in value):
            if any(v <= 0 for v in value):
                raise InrdictError(f"config field {field.name} must hold positive numbers, got {value}")


def apply_overrides(config, overrides: dict[str, str]):
    """Return `config` with fields replaced from strings, parsed with each field's type.

    Unknown names and unparsable values raise `InrdictError` naming the field.
    """
    fields = {f.name: f for f in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    changes = {}
    for name, text in overrides.items():
        if name not in fields:
            raise InrdictError(f"unknown config field {name!r}; known fields: {', '.join(fields)}")
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
        if origin is tuple:
            item = args[0]
            return tuple(item(part) for part in text.replace("(", "").replace(")", "").split(",") if part.strip())
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
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


def named_key(seed: int, name: str):
    """A PRNG key determined by (seed, name): the same model name gets the same initialisation in every figure,
    so Figs. 4 and 5 share NTK cache entries for the models they have in common."""
    import zlib

    import jax

    return jax.random.fold_in(jax.random.key(seed), zlib.crc32(name.encode()))


def write_run(
    out_dir: str | os.PathLike,
    *,
    experiment: str,
    config,
    numbers: dict,
    arrays: dict[str, np.ndarray],
    claims: dict[str, bool],
    plot,
    seconds: float,
    precision: str = "float32",
) -> dict:
    """Write results.json, arrays.npz and the figures (`plot(arrays, results, folder)`) into `out_dir` atomically.

    Returns the results as written (plain JSON types).
    """
    results = to_jsonable(
        {"experiment": experiment, "numbers": numbers, "claims": claims, **metadata_block(config, seconds, precision)}
    )
    with run_directory(out_dir) as staging:
        np.savez_compressed(staging / "arrays.npz", **arrays)
        write_json(staging / "results.json", results)
        plot(arrays, results, staging)
    return results


def run_figure(module, config, out_dir: str | os.PathLike, progress: bool = True) -> dict:
    """The shared `run` of the figure modules: `module.compute`, then `write_run` with its claims and plot."""
    from inrdict import plotting

    start = time.perf_counter()
    numbers, arrays = module.compute(config, progress=progress)
    return write_run(
        out_dir, experiment=module.NAME, config=config, numbers=numbers, arrays=arrays,
        claims=module.claims(numbers, config), plot=getattr(plotting, module.NAME.replace("_", "")),
        seconds=time.perf_counter() - start, precision=getattr(config, "precision", "float32"),
    )  # fmt: skip

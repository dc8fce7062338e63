"""Atomic writes: a file or a folder appears whole or not at all (the one implementation every writer uses); and
where inrdict keeps what it caches (`cache_root`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from inrdict.errors import InrdictError


def cache_root() -> Path:
    """inrdict's cache folder: `$INRDICT_CACHE_DIR`, else `~/.cache/inrdict` (artefacts, spectra, compiled programs)."""
    return Path(os.environ.get("INRDICT_CACHE_DIR") or Path.home() / ".cache" / "inrdict")


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, what: str = "file") -> Iterator[IO[bytes]]:
    """Yield a binary file beside `path`; on success it is synced and renamed over `path` in one step.

    On any exception the temporary file is removed and `path` keeps what it held before. An `OSError`
    (no space, no permission) becomes an `InrdictError` naming `what` and `path`.
    """
    path = Path(path)
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o644)  # mkstemp makes 0600 files
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException as error:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise InrdictError(f"cannot write {what} {path}: {error.strerror or error}") from None
        raise


def atomic_write_text(path: str | os.PathLike, text: str, what: str = "file") -> None:
    """Write UTF-8 `text` to `path` atomically (see `atomic_file`)."""
    with atomic_file(path, what) as file:
        file.write(text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(out_dir: str | os.PathLike) -> Iterator[Path]:
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
    except InrdictError as error:  # name the folder the user asked for, not the staging one
        shutil.rmtree(staging, ignore_errors=True)
        raise InrdictError(str(error).replace(str(staging), str(out_dir))) from None
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


def os_error_in(error: BaseException | None) -> OSError | None:
    """The `OSError` behind `error` (itself, or one it was raised while handling), or None: a library may fail on
    a full disk with a follow-up error of its own (matplotlib's PDF writer ends in an AttributeError)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OSError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None

"""The memory budget: the one bound every up-front size check (fitting, NTK, eigh, image sizes) compares against."""

from __future__ import annotations

import os
from pathlib import Path

from inrdict.errors import InrdictError

# Leave this share of the available memory for the interpreter, XLA's buffers and the operating system.
USABLE_FRACTION = 0.8


def _cgroup_headroom() -> int | None:
    """Bytes this process's cgroup may still allocate (limit minus usage), or None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),  # v1
    ):
        try:
            limit_text = Path(limit_file).read_text().strip()
            if limit_text == "max":
                return None
            limit, usage = int(limit_text), int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 1 << 60:  # v1 reports "no limit" as a huge number
            return None
        return max(limit - usage, 0)
    return None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_memory_bytes() -> int:
    """Memory this process can still use: the smallest of free RAM (MemAvailable), its cgroup's headroom and
    physical RAM. Falls back to physical RAM where /proc is missing."""
    try:
        candidates = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        candidates = [1 << 62]
    candidates += [value for value in (_meminfo_available(), _cgroup_headroom()) if value is not None]
    return min(candidates)


def require_memory(needed_bytes: int, what: str, advice: str, *, limit_bytes: int | None = None) -> None:
    """Raise `InrdictError` when `needed_bytes` exceed the budget (default: 80 % of `available_memory_bytes()`).

    The message reads "{what} needs about X GiB but Y GiB are available: {advice}".
    """
    limit = int(USABLE_FRACTION * available_memory_bytes()) if limit_bytes is None else int(limit_bytes)
    if needed_bytes > limit:
        raise InrdictError(
            f"{what} needs about {needed_bytes / 2**30:.2f} GiB but {limit / 2**30:.2f} GiB are available: {advice}"
        )

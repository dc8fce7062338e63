"""How much memory this machine has: the bound every up-front size check (fit, NTK, Fig. 2) compares against."""

import os


def available_memory_bytes() -> int:
    """Physical memory of this machine (an upper bound for the CPU backend)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 62

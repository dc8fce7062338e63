"""XLA compilation, paid once: JAX's persistent compilation cache in inrdict's cache folder, and a meter of where
compile time goes.

`enable_compilation_cache()` points JAX at `$INRDICT_CACHE_DIR/xla` (else `~/.cache/inrdict/xla`), so a program
compiled by one process (a `reproduce`, a test module, a worker) is read back by the next instead of compiled
again; tracing and lowering to StableHLO are still paid per process, the XLA compile is not. Every entry is keyed by
JAX of the program's StableHLO, the compile options, the backend and the jax/jaxlib versions, so a stale hit is
impossible; delete the folder to reclaim space. The command line turns it on (`INRDICT_COMPILATION_CACHE=0` turns
it off); importing `inrdict` does not touch JAX's configuration.

`CompileMeter` counts, between its start and its end, the programs JAX compiled (`compilations`), those read back
from the persistent cache (`cache_hits`), and the seconds spent tracing, lowering and compiling, from JAX's own
monitoring events (`jax._src.dispatch`: `jaxpr_trace_duration`, `jaxpr_to_mlir_module_duration`,
`backend_compile_duration`, the last including a cache read), with the process's CPU seconds beside the wall time.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import jax
from jax import monitoring

from inrdict._io import cache_root

_TRACE = "/jax/core/compile/jaxpr_trace_duration"
_LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
_COMPILE = "/jax/core/compile/backend_compile_duration"
_HIT = "/jax/compilation_cache/cache_hits"

# Running totals since the first meter was made: {event: [count, seconds]}, fed by one listener per event kind.
_TOTALS: dict[str, list[float]] = {name: [0, 0.0] for name in (_TRACE, _LOWER, _COMPILE, _HIT)}
_LOCK = threading.Lock()
_LISTENING = [False]


def _on_duration(event: str, duration_secs: float, **_: str | int) -> None:
    if event in _TOTALS:
        with _LOCK:
            _TOTALS[event][0] += 1
            _TOTALS[event][1] += duration_secs


def _on_event(event: str, **_: str | int) -> None:
    if event in _TOTALS:
        with _LOCK:
            _TOTALS[event][0] += 1


def _listen() -> None:
    if not _LISTENING[0]:
        monitoring.register_event_duration_secs_listener(_on_duration)
        monitoring.register_event_listener(_on_event)
        _LISTENING[0] = True


def cache_folder() -> Path:
    """Where compiled programs are kept: `$INRDICT_CACHE_DIR/xla`, else `~/.cache/inrdict/xla`."""
    return cache_root() / "xla"


def enable_compilation_cache(folder: str | os.PathLike | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache in `folder` (default `cache_folder()`), for programs of any
    compile time and size (JAX's defaults keep only those over 1 s: most of ours compile in 0.05–0.5 s, and many of
    them add up). Returns the folder, or None when `INRDICT_COMPILATION_CACHE=0`. A folder the user gave JAX
    (`JAX_COMPILATION_CACHE_DIR`) is kept, and so are thresholds set through JAX's own environment variables."""
    if os.environ.get("INRDICT_COMPILATION_CACHE", "1") == "0":
        return None
    path = Path(getattr(jax.config, "jax_compilation_cache_dir", None) or folder or cache_folder())
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES" not in os.environ:
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


@dataclass
class CompileMeter:
    """Compilation counted between `start()` (or entering a `with`) and `stop()` / leaving it; `as_dict()` is what
    results files and the time profile record."""

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    compilations: int = 0
    cache_hits: int = 0
    trace_seconds: float = 0.0
    lower_seconds: float = 0.0
    compile_seconds: float = 0.0
    _at_start: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    _clocks: tuple[float, float] = (0.0, 0.0)  # perf_counter and process_time at the start

    def start(self) -> CompileMeter:
        _listen()
        with _LOCK:
            self._at_start = {name: (value[0], value[1]) for name, value in _TOTALS.items()}
        self._clocks = (time.perf_counter(), time.process_time())
        return self

    def stop(self) -> CompileMeter:
        with _LOCK:
            count, seconds = (
                {name: value[i] - self._at_start[name][i] for name, value in _TOTALS.items()} for i in (0, 1)
            )
        self.wall_seconds = time.perf_counter() - self._clocks[0]
        self.cpu_seconds = time.process_time() - self._clocks[1]
        self.cache_hits = int(count[_HIT])
        self.compilations = int(count[_COMPILE]) - self.cache_hits  # a cache read is a compile event too
        self.trace_seconds, self.lower_seconds, self.compile_seconds = (
            seconds[_TRACE],
            seconds[_LOWER],
            seconds[_COMPILE],
        )
        return self

    def __enter__(self) -> CompileMeter:
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()

    def as_dict(self) -> dict[str, float | int]:
        """Counts and seconds; `jit_seconds` is tracing + lowering + compiling (or reading back) the programs."""
        jit = self.trace_seconds + self.lower_seconds + self.compile_seconds
        return {
            "wall_seconds": round(self.wall_seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3),
            "compilations": self.compilations, "cache_hits": self.cache_hits,
            "trace_seconds": round(self.trace_seconds, 3), "lower_seconds": round(self.lower_seconds, 3),
            "compile_seconds": round(self.compile_seconds, 3), "jit_seconds": round(jit, 3),
        }  # fmt: skip

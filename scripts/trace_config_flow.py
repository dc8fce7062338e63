"""Follow Fig. 4's config through the code: which inrdict functions its values reach, and how the flow climbs.

Usage, from the repository root (the quick form below takes about 1 min on 2 CPU cores):

    .venv/bin/python scripts/trace_config_flow.py --set n_seeds=1 --meta-set steps=4 --meta-set eval_every=2 \\
        --meta-set checkpoint_every=2 --json /tmp/config_flow.json

Method
------
1. Build Fig. 4's config (`inrdict.experiments.paper.figure4`) from a preset and `--set FIELD=VALUE` overrides, the
   way `inrdict figure 4 --set` builds it (`inrdict.cli.resolve_config` and `_parse_set`).
2. *Taint* it. Each field value is replaced by an equal object of a marked subclass (`int`, `float`, `str`, `tuple`,
   and the elements of a tuple field too) through `dataclasses.replace`, so the config is validated as before. A
   tainted value keeps its identity while it is passed along unchanged. Anything computed from it
   (`config.seed + 1`, `float(config.random_lr)`, a slice) is a new, untainted object. Booleans (`bool` cannot be
   subclassed) and `None` (a singleton) look like every other boolean and None, so they are not followed.
3. Call `figure4.compute(config, progress=False)` as the runner does (`inrdict.experiments._run.run_experiment`).
   `INRDICT_CACHE_DIR` is a fresh temporary folder, as in the tests, so that everything is computed. The call runs
   under `sys.settrace`, with call events only and no line tracing. On entry to every Python function whose code
   lies in a file of the imported `inrdict` package, the tracer compares values by identity (`is`) with the config,
   with any other instance of the config's class (a `dataclasses.replace`d copy), and with the tainted values. The
   values compared are:
   * **arguments**: positional, keyword-only, `*args` and `**kwargs` (for the last two, their items), and also one
     level inside a tuple, list or dict argument (its items, and a dict's keys and values);
   * **closures**: the free variables of a nested function, compared the same way. A callback such as the
     `compute()` that `experiments.studies.memo` passes to `io.cache.memoize` takes no arguments but carries the
     config's values into the function it closes over.
   Code outside the package is not inspected: dataclass-generated `__init__`, the taint classes' own methods, JAX,
   NumPy. Calls that go through such code are still seen. The *caller* of an inrdict function is the nearest inrdict
   frame below it on the stack. Comprehensions and generator expressions belong to the function around them: they
   are separate functions on Python 3.11 only (PEP 709 inlines them from 3.12), so they are neither stops nor callers.

Definitions of the counts (a *stop* is one recorded call: an inrdict function entered with the config, or one of
its values, among its arguments or closure)
---------------------------------------------------------------------------------------------------------------
* **functions**: distinct inrdict functions (`module:qualname`) with at least one stop, `figure4.compute` included
  (where "the config stops"). **modules**: the modules of those functions.
* **handed whole**: those functions that received the config object itself, or a copy of it (a method of the
  config receives it as `self`).
* On the call stack:
  * **climbs to a higher layer**: stops whose callee is in a higher layer than its caller, i.e. a callback from a
    lower layer up into a higher one. Layers come from the table in `inrdict/__init__.py` (`LAYERS` in
    `tests/test_layers.py`; the copy below is used when that is not importable).
  * **module re-entries**: stops whose callee's module differs from its caller's and already appears deeper on
    the stack of inrdict frames. The flow left that module (A → B → … ) and comes back into it (… → A).
  Both are counted as distinct (caller, callee) pairs, and as calls. The import rules of `tests/test_layers.py`
  (nothing imported upward, no import cycles) mean that neither can happen without a callback.
* Along the *trail*, the sequence of stops in the order they happen:
  * **trail climbs**: consecutive stops P → N in different modules where N's layer is higher than P's. The config
    went down to a lower layer and is next used in a higher one again.
  * **trail re-entries**: consecutive stops P → N in different modules where N's module already held an earlier
    stop: the config left that module and comes back to it.
  Both are counted as distinct (P, N) pairs, and as transitions. The trail follows the loops of the run (rows,
  seeds), so its counts change with `n_seeds`; the function lists and the stack counts do not.

Every count is given for four ways of following the config:
* *args*: arguments only (what a function is handed), tuple elements included;
* *args, fields*: arguments, fields only. A function reached only through one element of a tuple field, such as
  one ω0 of `siren_omegas`, is left out;
* *+closures*: arguments and closures;
* *+closures, fields*: arguments and closures, fields only.

What a dynamic trace cannot see:
* code that this run does not execute: another branch of an `if`, a cache hit, or a jit-compiled function already
  traced in this process with equal static arguments;
* values that travel inside other objects. For example, `lens.Protocol` is a dataclass built from config fields.
  The function that reads the field back out and passes it on is seen.

`--meta-set` shortens the meta-learning run that Fig. 4 needs when its meta-learned SIREN is missing from the
cache. It changes that producer's preset in this process only: fewer steps, the same functions.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The layer table of `inrdict/__init__.py`, by top-level part of the module name. `tests/test_layers.py` holds the
# same table and is used when importable, so that the two cannot drift apart.
FALLBACK_LAYERS: dict[str, int] = {
    **dict.fromkeys(("errors", "_typing", "_io", "_memory", "_compilation", "_keys", "_version", "distributed", "adapters"), 0),
    "models": 1,
    "ntk": 2,
    "train": 2,
    "pytorch": 3,
    "io": 3,
    "analysis": 4,
    "plotting": 5,
    "experiments": 6,
    **dict.fromkeys(("cli", "__init__", "__main__"), 7),
}  # fmt: skip

# name → (follow tuple elements, follow closures)
VARIANTS = {"args": (True, False), "args, fields": (False, False),
            "+closures": (True, True), "+closures, fields": (False, True)}  # fmt: skip


def source_state(package_dir: Path) -> str:
    """The commit of the checkout the traced package lies in, and whether its sources differ from that commit."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=package_dir, capture_output=True, text=True, check=True).stdout

    try:
        commit, changed = git("rev-parse", "--short", "HEAD").strip(), git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{commit}" + (f" + uncommitted changes in {len(changed.splitlines())} files" if changed else "")


def layer_table() -> tuple[dict[str, int], str]:
    """{top-level part of a module name: layer}, and where the table came from."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.test_layers import LAYERS
    except Exception:  # pytest missing, or the test module moved
        return FALLBACK_LAYERS, "scripts/trace_config_flow.py (a copy of the table in inrdict/__init__.py)"
    finally:
        sys.path.remove(str(ROOT))
    return {name: layer for name, (layer, _) in LAYERS.items()}, "tests/test_layers.py:LAYERS"


# ---------------------------------------------------------------------------------------------------- tainting


class TaintedInt(int):
    __slots__ = ()


class TaintedFloat(float):
    __slots__ = ()


class TaintedStr(str):
    __slots__ = ()


class TaintedTuple(tuple):
    __slots__ = ()


def taint(value, label: str, labels: dict[int, tuple[str, str]], elements: bool):
    """An equal, marked copy of `value`, recorded in `labels` as id → (label, "field" | "element"). Returns `value`
    itself for a bool or None (not followed) and for other types (followed by identity)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        marked = TaintedInt(value)
    elif isinstance(value, float):
        marked = TaintedFloat(value)
    elif isinstance(value, str):
        marked = TaintedStr(value)
    elif isinstance(value, tuple):
        marked = TaintedTuple(
            taint(v, f"{label}[{i}]", labels, elements) if elements else v for i, v in enumerate(value)
        )
    else:
        marked = value
    labels[id(marked)] = (label, "element" if "[" in label else "field")
    return marked


def tainted_config(config, labels: dict[int, tuple[str, str]], elements: bool):
    """`config` with every field tainted (`taint`); refuses a config whose `__post_init__` replaced a value."""
    values = {f.name: taint(getattr(config, f.name), f.name, labels, elements) for f in dataclasses.fields(config)}
    tainted = dataclasses.replace(config, **values)
    for field in dataclasses.fields(tainted):
        value = getattr(tainted, field.name)
        if value is not None and not isinstance(value, bool) and id(value) not in labels:
            raise RuntimeError(f"config field {field.name} was not kept as given: cannot follow it")
    return tainted


# ---------------------------------------------------------------------------------------------------- tracing


@dataclasses.dataclass(frozen=True)
class CodeInfo:
    function: str  # module:qualname
    module: str  # e.g. inrdict.experiments.studies.learnability
    params: tuple[str, ...]  # positional and keyword-only parameters
    star: tuple[str, ...]  # the *args / **kwargs parameters
    free: tuple[str, ...]  # free variables (a closure)
    comprehension: bool  # a list/set/dict comprehension or generator expression: part of the function around it


@dataclasses.dataclass
class Tracer:
    """The `sys.settrace` function: records every stop (module docstring)."""

    config: object
    labels: dict[int, tuple[str, str]]
    package_dir: Path  # the folder of the imported inrdict (src/inrdict, or another checkout on PYTHONPATH)
    codes: dict = dataclasses.field(default_factory=dict)
    # (caller function or None, callee function, tags, module chain) → number of calls; a tag is (kind, channel),
    # kind "whole" | "field" | "element", channel "argument" | "closure"
    events: Counter = dataclasses.field(default_factory=Counter)
    trail: list = dataclasses.field(default_factory=list)  # (callee function, tags) in call order
    # callee function → {parameter or "(closure) name": {(label, kind, channel)}}
    arrivals: dict = dataclasses.field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    callers: dict = dataclasses.field(default_factory=lambda: defaultdict(set))  # callee → {caller}

    def info(self, code) -> CodeInfo | None:
        try:
            return self.codes[code]
        except KeyError:
            pass
        info = None
        if code.co_filename.startswith(str(self.package_dir) + os.sep):
            parts = list(Path(code.co_filename).relative_to(self.package_dir).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            module = ".".join(["inrdict", *parts])
            n = code.co_argcount + code.co_kwonlyargcount
            star = []
            if code.co_flags & 0x04:  # CO_VARARGS
                star.append(code.co_varnames[n])
            if code.co_flags & 0x08:  # CO_VARKEYWORDS
                star.append(code.co_varnames[n + len(star)])
            comprehension = code.co_name in ("<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>")
            info = CodeInfo(
                f"{module}:{code.co_qualname}",
                module,
                code.co_varnames[:n],
                tuple(star),
                code.co_freevars,
                comprehension,
            )
        self.codes[code] = info
        return info

    def match(self, value) -> tuple[str, str] | None:
        if value is self.config:
            return "<config>", "whole"
        if type(value) is type(self.config):
            return "<copy of config>", "whole"
        return self.labels.get(id(value))

    def matches(self, value) -> set[tuple[str, str]]:
        """What of the config `value` is or holds (itself, or one level inside a tuple, list or dict)."""
        found = self.match(value)
        if found is not None:
            return {found}
        if isinstance(value, (tuple, list)):
            items = value
        elif isinstance(value, dict):
            items = [*value.keys(), *value.values()]
        else:
            return set()
        return {m for item in items if (m := self.match(item)) is not None}

    def __call__(self, frame, event, arg):
        if event != "call":
            return None
        info = self.info(frame.f_code)
        if info is None or info.comprehension:
            return None
        local = frame.f_locals
        found: dict[str, set[tuple[str, str, str]]] = {}
        for name in (*info.params, *info.free):
            channel = "closure" if name in info.free else "argument"
            if name in local and (ms := self.matches(local[name])):
                found[f"(closure) {name}" if channel == "closure" else name] = {(*m, channel) for m in ms}
        for name in info.star:
            value = local.get(name)
            items = value.items() if isinstance(value, dict) else enumerate(value or ())
            for key, item in items:
                if ms := self.matches(item):
                    found[f"{name}[{key!r}]"] = {(*m, "argument") for m in ms}
        if not found:
            return None
        chain: list[str] = []  # modules of the inrdict frames, outermost first, consecutive repeats collapsed
        caller = None
        back = frame.f_back
        while back is not None:
            outer = self.info(back.f_code)
            if outer is not None and not outer.comprehension:
                caller = caller or outer.function
                if not chain or chain[-1] != outer.module:
                    chain.append(outer.module)
            back = back.f_back
        chain.reverse()
        if not chain or chain[-1] != info.module:
            chain.append(info.module)
        tags = frozenset((kind, channel) for ms in found.values() for _, kind, channel in ms)
        self.events[caller, info.function, tags, tuple(chain)] += 1
        self.callers[info.function].add(caller)
        if not self.trail or self.trail[-1] != (info.function, tags):
            self.trail.append((info.function, tags))
        for name, ms in found.items():
            self.arrivals[info.function][name].update(ms)
        return None


@contextlib.contextmanager
def tracing(tracer: Tracer):
    previous = sys.gettrace()
    threading.settrace(tracer)
    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous)
        threading.settrace(previous)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------- counting


def module_of(function: str) -> str:
    return function.partition(":")[0]


def layer_of(module: str, layers: dict[str, int]) -> int:
    parts = module.split(".")
    return layers["__init__" if parts == ["inrdict"] else parts[1]]


def kept(tags: frozenset, elements: bool, closures: bool) -> bool:
    """Whether a stop with these tags counts when following (or not) tuple elements and closures."""
    return any((elements or kind != "element") and (closures or channel != "closure") for kind, channel in tags)


def summarise(tracer: Tracer, layers: dict[str, int], *, elements: bool, closures: bool) -> dict:
    """The counts of the module docstring, from the stops that `kept` keeps."""
    events = {key: n for key, n in tracer.events.items() if kept(key[2], elements, closures)}
    functions = sorted({callee for _, callee, _, _ in events})
    whole = sorted({callee for _, callee, tags, _ in events
                    if any(kind == "whole" and (closures or ch != "closure") for kind, ch in tags)})  # fmt: skip
    climbs: Counter = Counter()
    reentries: dict[tuple[str, str], dict] = {}
    for (caller, callee, _, chain), n in events.items():
        if caller is None:
            continue
        caller_module, callee_module = module_of(caller), module_of(callee)
        if layer_of(callee_module, layers) > layer_of(caller_module, layers):
            climbs[caller, callee] += n
        if callee_module != caller_module and callee_module in chain[:-2]:
            last = len(chain) - 3 - chain[-3::-1].index(callee_module)  # its last visit below the caller
            entry = reentries.setdefault((caller, callee), {"calls": 0, "chains": set()})
            entry["calls"] += n
            entry["chains"].add(" → ".join(m.removeprefix("inrdict.") for m in chain[last:]))
    trail = [fn for fn, tags in tracer.trail if kept(tags, elements, closures)]
    trail_climbs: Counter = Counter()
    trail_reentries: Counter = Counter()
    visited: set[str] = set()
    for before, after in zip([None, *trail], trail):
        module = module_of(after)
        if before is not None and module_of(before) != module:
            if layer_of(module, layers) > layer_of(module_of(before), layers):
                trail_climbs[before, after] += 1
            if module in visited:
                trail_reentries[before, after] += 1
        visited.add(module)

    def pairs(counter: Counter, what: str) -> list[dict]:
        return [{"from": a, "to": b, "layers": [layer_of(module_of(a), layers), layer_of(module_of(b), layers)], what: n}
                for (a, b), n in sorted(counter.items())]  # fmt: skip

    return {
        "functions": functions,
        "modules": sorted({module_of(f) for f in functions}),
        "handed_whole": whole,
        "stack_climbs": pairs(climbs, "calls"),
        "stack_reentries": [{"from": a, "to": b, "calls": e["calls"], "chains": sorted(e["chains"])}
                            for (a, b), e in sorted(reentries.items())],
        "trail_climbs": pairs(trail_climbs, "transitions"),
        "trail_reentries": pairs(trail_reentries, "transitions"),
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------- running


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] + " (see the module docstring)")
    parser.add_argument("--preset", default="default", help="Fig. 4 preset (default: %(default)s, the cheaper one)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a Fig. 4 config field (repeatable), as `inrdict figure 4 --set`, e.g. n_seeds=1",
    )
    parser.add_argument(
        "--meta-set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a field of every meta-learning preset, in this process only, e.g. steps=4",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="INRDICT_CACHE_DIR to use (and keep) instead of a fresh, empty temporary folder; "
        "a warm run when it is filled",
    )
    parser.add_argument(
        "--warm-too",
        action="store_true",
        help="after the run, run again in a new process on the cache it filled, and report both",
    )
    parser.add_argument("--no-elements", action="store_true", help="do not taint the elements of tuple fields at all")
    parser.add_argument(
        "--progress", action="store_true", help="compute(config, progress=True); default False, as the tests"
    )
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quiet", action="store_true", help="print the table of counts only")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, cache_dir: str) -> dict:
    """Run `figure4.compute` once under the tracer; the counts of every variant, and what arrived where."""
    os.environ["INRDICT_CACHE_DIR"] = cache_dir
    # As tests/conftest.py: compiled programs persist in the user's inrdict folder. This skips XLA compilations,
    # never the tracing of Python functions, so it changes no count.
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path.home() / ".cache" / "inrdict" / "xla"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

    import inrdict
    from inrdict.cli import _parse_set, resolve_config
    from inrdict.experiments import _artefacts
    from inrdict.experiments._run import apply_overrides, to_jsonable
    from inrdict.experiments.paper import figure4

    meta_overrides = _parse_set(args.meta_set)
    if meta_overrides:
        meta = _artefacts.producer("meta")
        meta.PRESETS = {name: apply_overrides(c, meta_overrides) for name, c in meta.PRESETS.items()}

    plain = resolve_config(figure4, "4", args.preset, overrides=_parse_set(args.set))
    labels: dict[int, tuple[str, str]] = {}
    config = tainted_config(plain, labels, elements=not args.no_elements)
    tracer = Tracer(config, labels, Path(inrdict.__file__).resolve().parent)
    layers, layers_from = layer_table()
    start = time.perf_counter()
    with tracing(tracer):
        figure4.compute(config, progress=args.progress)
    seconds = time.perf_counter() - start
    modules = {module_of(key[1]) for key in tracer.events} | {m for key in tracer.events for m in key[3]}
    return {
        "package": str(tracer.package_dir),
        "source": source_state(tracer.package_dir),
        "preset": args.preset,
        "config": to_jsonable(plain),
        "meta_overrides": meta_overrides,
        "cache_dir": cache_dir,
        "seconds": round(seconds, 1),
        "layers_from": layers_from,
        "not_followed": [f.name for f in dataclasses.fields(plain) if id(getattr(config, f.name)) not in labels],
        "arrivals": {fn: {name: sorted(f"{label} ({channel})" if channel == "closure" else label
                                       for label, _, channel in got) for name, got in params.items()}
                     for fn, params in sorted(tracer.arrivals.items())},
        "callers": {fn: sorted(c or "<the script>" for c in callers) for fn, callers in sorted(tracer.callers.items())},
        "trail": [fn for fn, _ in tracer.trail],
        "variants": {name: summarise(tracer, layers, elements=e, closures=c) for name, (e, c) in VARIANTS.items()},
        "layers": {m: layer_of(m, layers) for m in sorted(modules)},
    }  # fmt: skip


def report(result: dict, *, quiet: bool = False) -> str:
    """The table of counts, then (unless `quiet`) the lists behind them for the widest variant (+closures)."""
    variants = result["variants"]
    counts = [
        ("functions the config (or a field) stops in", lambda v: len(v["functions"])),
        ("modules", lambda v: len(v["modules"])),
        ("functions handed the whole config", lambda v: len(v["handed_whole"])),
        ("stack: climbs to a higher layer (pairs)", lambda v: len(v["stack_climbs"])),
        ("        … calls", lambda v: sum(c["calls"] for c in v["stack_climbs"])),
        ("stack: module re-entries (pairs)", lambda v: len(v["stack_reentries"])),
        ("        … calls", lambda v: sum(c["calls"] for c in v["stack_reentries"])),
        ("trail: climbs to a higher layer (pairs)", lambda v: len(v["trail_climbs"])),
        ("        … transitions", lambda v: sum(c["transitions"] for c in v["trail_climbs"])),
        ("trail: module re-entries (pairs)", lambda v: len(v["trail_reentries"])),
        ("        … transitions", lambda v: sum(c["transitions"] for c in v["trail_reentries"])),
    ]  # fmt: skip
    cache = "empty (everything computed)" if result["cache_was_empty"] else "filled (warm)"
    lines = [
        f"Fig. 4 config flow: {result['package']} ({result['source']}), preset {result['preset']!r}",
        f"config {result['config']}",
        f"meta-learning overrides: {result['meta_overrides'] or 'none'}; cache {cache}; {result['seconds']} s traced",
        f"layers from {result['layers_from']}; not followed (bool or None): {', '.join(result['not_followed']) or 'none'}",
        "",
        f"{'':44}" + "".join(f"{name:>19}" for name in variants),
        *(f"{name:44}" + "".join(f"{count(v):>19}" for v in variants.values()) for name, count in counts),
    ]  # fmt: skip
    if quiet:
        return "\n".join(lines)
    wide, args_only, fields = variants["+closures"], variants["args"], variants["+closures, fields"]

    def mark(item, key: str) -> str:
        """[c]: counted only with closures followed; [e]: only with tuple elements followed."""
        return (" [c]" if item not in args_only[key] else "") + (" [e]" if item not in fields[key] else "")

    layers, arrivals = result["layers"], result["arrivals"]
    lines += ["", "Lists for +closures; [c] not counted under args (needs closures), [e] only through tuple elements.",
              "", "Functions (parameter ← what of the config arrived):"]  # fmt: skip
    for module in wide["modules"]:
        lines.append(f"  {module} (layer {layers[module]})")
        for fn in wide["functions"]:
            if module_of(fn) == module:
                got = "; ".join(f"{p} ← {', '.join(ls)}" for p, ls in arrivals[fn].items())
                lines.append(f"    {fn.partition(':')[2]}{mark(fn, 'functions')}: {got}")
    lines += ["", "Handed the whole config:", *(f"  {fn}{mark(fn, 'handed_whole')}" for fn in wide["handed_whole"])]
    for key, title, what in (("stack_climbs", "Stack: climbs to a higher layer (caller → callee)", "calls"),
                             ("stack_reentries", "Stack: module re-entries (caller → callee; module chain)", "calls"),
                             ("trail_climbs", "Trail: climbs to a higher layer (stop → next stop)", "transitions"),
                             ("trail_reentries", "Trail: module re-entries (stop → next stop)", "transitions")):  # fmt: skip
        lines += ["", f"{title}:"]
        in_args = {(i["from"], i["to"]) for i in args_only[key]}
        in_fields = {(i["from"], i["to"]) for i in fields[key]}
        for item in wide[key]:
            pair = item["from"], item["to"]
            flag = (" [c]" if pair not in in_args else "") + (" [e]" if pair not in in_fields else "")
            span = f", layer {item['layers'][0]} → {item['layers'][1]}" if "layers" in item else ""
            lines.append(f"  {item['from']} → {item['to']}  ({item[what]} {what}{span}){flag}")
            lines += [f"      {chain}" for chain in item.get("chains", ())]
        if not wide[key]:
            lines.append("  none")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="inrdict-trace-cache-")
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    was_empty = not any(Path(cache_dir).iterdir())
    result = {"command": " ".join(["python", *sys.argv]), "cache_was_empty": was_empty, **measure(args, cache_dir)}
    print(report(result, quiet=args.quiet), flush=True)
    results = {"cold" if was_empty else "warm": result}
    if args.warm_too:
        warm_json = Path(cache_dir) / "trace-warm.json"
        again = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--warm-too"]
        again = [
            *_without(_without(again, "--json"), "--cache-dir"),
            "--cache-dir",
            cache_dir,
            "--json",
            str(warm_json),
        ]
        print("\n" + "=" * 120 + "\nAgain, in a new process, on the cache the first run filled:\n", flush=True)
        subprocess.run([sys.executable, __file__, *again], check=True)
        results["warm"] = json.loads(warm_json.read_text())["warm"]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if args.cache_dir is None:  # our temporary cache: nothing in it is wanted after the runs
        shutil.rmtree(cache_dir, ignore_errors=True)
    return 0


def _without(argv: list[str], option: str) -> list[str]:
    """`argv` without `option VALUE` and `option=VALUE`."""
    kept_args, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == option:
            skip = True
        elif not item.startswith(option + "="):
            kept_args.append(item)
    return kept_args


if __name__ == "__main__":
    sys.exit(main())

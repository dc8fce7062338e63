"""Where the time of `inrdict reproduce` and `make test` goes: per experiment and per test module, the wall time,
the seconds spent tracing, lowering and compiling XLA programs, the number of programs compiled and read back from
the persistent compilation cache, and how busy the cores were (CPU seconds / (wall × cores)), beside this machine's
float32 matmul rate.

    python benchmarks/profile_reproduce.py [--what reproduce tests] [--json benchmarks/cpu_2core/profile_reproduce.json]

Each pass runs in fresh processes with its own cache folder (`INRDICT_CACHE_DIR`), in this order:
- reproduce `cold`: empty caches, as a fresh clone (no learned artefact, no compiled program);
- reproduce `compiled`: a new artefact cache, the compiled programs of the cold pass (what a second `reproduce`
  pays when its artefacts are gone, and what the cache saves on compilation alone);
- reproduce `second`: the cold pass's caches, all of them (a second `reproduce` as a user runs it);
- tests `cold` and `second`: `pytest` with an empty, then the same, compilation cache
  (`INRDICT_TEST_PROFILE` makes `tests/conftest.py` record each module's meter).
Experiments record their meter in results.json (`compilation`). Run it on an otherwise idle machine: passes are
compared with each other, within one run. `--xla-flags` sets XLA_FLAGS for every pass (recorded in the JSON), e.g.
`--xla-flags=--xla_backend_optimization_level=0` to weigh cheaper compilation against slower programs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import matmul_gflops

from inrdict.experiments._run import device_info, package_versions

ROOT = Path(__file__).resolve().parents[1]
CORES = os.cpu_count() or 1


def _run(command: list[str], env: dict[str, str], log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: a failing test or claim is still a timing; anything else is a crash
        sys.exit(f"{' '.join(command)} exited with {done.returncode}: see {log}")
    return seconds


def _busy(row: dict) -> float:
    return row["cpu_seconds"] / max(row["wall_seconds"], 1e-9) / CORES


def reproduce_pass(name: str, cache: Path, xla: Path, work: Path) -> dict:
    env = {**os.environ, "INRDICT_CACHE_DIR": str(cache), "JAX_COMPILATION_CACHE_DIR": str(xla)}
    out = work / f"figures-{name}"
    seconds = _run([sys.executable, "-m", "inrdict.cli", "reproduce", "--out", str(out), "--no-progress"], env,
                   work / f"reproduce-{name}.log")  # fmt: skip
    rows = {}
    for path in sorted(out.glob("*/results.json")):
        results = json.loads(path.read_text())
        meter = results.get("compilation", {})
        rows[results["experiment"]] = {**meter, "wall_seconds": results["wall_seconds"]}
    return {"seconds": seconds, "experiments": rows}


def tests_pass(name: str, xla: Path, work: Path, pytest_args: list[str]) -> dict:
    profile = work / f"tests-{name}.json"
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(xla), "INRDICT_TEST_PROFILE": str(profile)}
    seconds = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args], env,
                   work / f"tests-{name}.log")  # fmt: skip
    modules: dict = {}
    for path in sorted(work.glob(f"tests-{name}*.json")):  # one file per xdist worker
        modules |= json.loads(path.read_text())
    return {"seconds": seconds, "modules": modules}


def _table(title: str, rows: dict, top: int | None = None) -> list[str]:
    lines = [title, f"{'':<36} {'wall s':>8} {'jit s':>7} {'compile s':>9} {'programs':>8} {'read back':>9} {'busy':>5}"]
    ordered = sorted(rows.items(), key=lambda item: -item[1]["wall_seconds"])
    for name, row in ordered[:top]:
        lines.append(f"{name[-36:]:<36} {row['wall_seconds']:>8.1f} {row.get('jit_seconds', 0):>7.1f} "
                     f"{row.get('compile_seconds', 0):>9.1f} {row.get('compilations', 0):>8} "
                     f"{row.get('cache_hits', 0):>9} {_busy(row) if 'cpu_seconds' in row else 0:>5.0%}")  # fmt: skip
    total = {key: sum(row.get(key, 0) for row in rows.values()) for key in ("wall_seconds", "jit_seconds", "compilations")}
    lines.append(f"{'all ' + str(len(rows)):<36} {total['wall_seconds']:>8.1f} {total['jit_seconds']:>7.1f} "
                 f"{'':>9} {total['compilations']:>8}")  # fmt: skip
    return lines


def _cell(row: dict, key: str) -> str:
    value = row.get(key)
    return "—" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def markdown(report: dict) -> str:
    """The tables of docs/performance.md, from a report this script wrote (`--render`)."""
    lines = []
    if "reproduce" in report:
        passes = report["reproduce"]
        lines += [f"`inrdict reproduce` (default preset), {report['cores']} cores; whole command: "
                  + ", ".join(f"{name} {result['seconds']:.1f} s" for name, result in passes.items()), "",
                  "| experiment | cold: wall s | jit s | programs compiled | busy | second: wall s | programs read back |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        cold, second = passes["cold"]["experiments"], passes.get("second", {}).get("experiments", {})
        for name, row in sorted(cold.items(), key=lambda item: -item[1]["wall_seconds"]):
            again = second.get(name, {})
            lines.append(f"| {name} | {row['wall_seconds']:.1f} | {row['jit_seconds']:.1f} | {row['compilations']} | "
                         f"{100 * _busy(row):.0f} % | {_cell(again, 'wall_seconds')} | {_cell(again, 'cache_hits')} |")
    if "tests" in report:
        passes = report["tests"]
        lines += ["", f"`{' '.join(['pytest', *passes.get('pytest_args', [])])}`: "
                  + ", ".join(f"{name} {result['seconds']:.1f} s" for name, result in passes.items() if name != "pytest_args"),
                  "", "| test module (15 slowest) | cold: wall s | jit s | programs compiled | second: wall s | jit s |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        cold, second = passes["cold"]["modules"], passes["second"]["modules"]
        for name, row in sorted(cold.items(), key=lambda item: -item[1]["wall_seconds"])[:15]:
            again = second.get(name, {})
            lines.append(f"| {name.removeprefix('tests.')} | {row['wall_seconds']:.1f} | {row['jit_seconds']:.1f} | "
                         f"{row['compilations']} | {_cell(again, 'wall_seconds')} | {_cell(again, 'jit_seconds')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", nargs="+", choices=("reproduce", "tests"), default=["reproduce", "tests"])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "cpu_2core" / "profile_reproduce.json")
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. '-n 2'")
    parser.add_argument("--passes", nargs="+", default=["cold", "compiled", "second"],
                        help="reproduce passes (cold and second always run)")
    parser.add_argument("--render", action="store_true", help="only print the markdown tables of --json")
    parser.add_argument("--xla-flags", default=None, help="XLA_FLAGS for every pass (default: this shell's)")
    args = parser.parse_args()
    if args.xla_flags is not None:
        os.environ["XLA_FLAGS"] = args.xla_flags  # inherited by every pass's processes
    if args.render:
        print(markdown(json.loads(args.json.read_text())), end="")
        return
    report: dict = json.loads(args.json.read_text()) if args.json.is_file() else {}
    for what in args.what:
        report.pop(what, None)
    report.update(matmul_gflops_float32=matmul_gflops(1024, 1024, 1024), cores=CORES, versions=package_versions(),
                  device=device_info(), xla_flags=os.environ.get("XLA_FLAGS", ""))  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="inrdict-profile-") as folder:
        work = Path(folder)
        if "reproduce" in args.what:
            first, second = work / "cache-cold", work / "cache-compiled"
            passes = {"cold": reproduce_pass("cold", first, first / "xla", work)}
            if "compiled" in args.passes:
                passes["compiled"] = reproduce_pass("compiled", second, first / "xla", work)
            passes["second"] = reproduce_pass("second", first, first / "xla", work)
            report["reproduce"] = passes
            for name, result in passes.items():
                print("\n".join(_table(f"\nreproduce, {name} pass: {result['seconds']:.0f} s", result["experiments"])))
        if "tests" in args.what:
            xla = work / "tests-xla"
            extra = args.pytest_args.split()
            passes = {"cold": tests_pass("cold", xla, work, extra), "second": tests_pass("second", xla, work, extra)}
            report["tests"] = {**passes, "pytest_args": extra}
            for name, result in passes.items():
                print("\n".join(_table(f"\ntests, {name} pass: {result['seconds']:.0f} s (top 25 modules)",
                                       result["modules"], 25)))  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nmatmul float32: {report['matmul_gflops_float32']:.0f} GFLOP/s on {CORES} cores; wrote {args.json}")


if __name__ == "__main__":
    main()

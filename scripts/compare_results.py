"""Compare two `inrdict reproduce` folders: every results.json (numbers, claims, sanity, versus_paper, config,
seed) and every arrays.npz (bitwise), ignoring timings, compilation counts, cache flags and the cache folder in
artefact paths. Used to show that a refactor moved no number:

    python scripts/compare_results.py OLD/figures NEW/figures [--all] [--rtol 1e-3]

With --rtol, numbers within that relative tolerance (or 1e-6 absolute, for values near zero) count as equal, and the
largest relative difference seen is printed: for a change that moves float rounding (program order, a vectorised
sin). Claims' outcomes (`claims`) are always compared exactly. Prints each difference (the first 40 per file
unless --all) and a summary line; exits 1 when any result differs."""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

PARSER = argparse.ArgumentParser(description="Compare the results.json and arrays.npz of two results folders.")
PARSER.add_argument("before", type=Path)
PARSER.add_argument("after", type=Path)
PARSER.add_argument("--all", action="store_true", help="print every difference, not the first 40 per file")
PARSER.add_argument("--rtol", type=float, default=0.0, help="numbers within this relative tolerance count as equal")
ARGS = PARSER.parse_args()
IGNORED = {"seconds", "cached", "all_cached", "ntk_seconds", "eigh_seconds", "solve_seconds", "wall_seconds",
           "seconds_per_step", "time", "compilation"}
RTOL = ARGS.rtol
ATOL = 1e-6 if RTOL else 0.0
LARGEST = [0.0, ""]


def _close(a, b, path) -> bool:
    if not RTOL or isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        diff = abs(a - b)
        relative = diff / max(abs(a), abs(b), 1e-300)
        if diff > ATOL and relative > LARGEST[0]:
            LARGEST[:] = [relative, path]
        return diff <= ATOL or relative <= RTOL
    return False


def _artefact(value):
    """An artefact path without the cache folder it was made in."""
    return value.split("/artefacts/", 1)[1] if isinstance(value, str) and "/artefacts/" in value else value

def walk(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in IGNORED or k.endswith("_seconds") or k.endswith("_per_second"):
                continue
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'after' if k in b else 'before'}")
                continue
            walk(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]", out)
    elif _artefact(a) != _artefact(b) and not (isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b)):
        if not (path.split(".")[0] != "claims" and _close(a, b, path)):
            out.append(f"{path}: {a!r} vs {b!r}")

before, after = ARGS.before, ARGS.after
for folder in (before, after):
    if not folder.is_dir() or not any(folder.rglob("results.json")):
        sys.exit(f"compare_results: no results.json under {folder}: name two results folders (e.g. results/variants/X)")
total, differing = 0, 0
for results in sorted(before.rglob("results.json")):
    rel = results.relative_to(before)
    other = after / rel
    if not other.exists():
        print(f"{rel}: missing after"); differing += 1; continue
    a, b = json.loads(results.read_text()), json.loads(other.read_text())
    out = []
    for key in ("numbers", "claims", "sanity", "versus_paper", "config", "seed"):
        walk(a.get(key), b.get(key), key, out)
    arrays_a, arrays_b = results.parent / "arrays.npz", other.parent / "arrays.npz"
    if arrays_a.exists():
        with np.load(arrays_a) as x, np.load(arrays_b) as y:
            if set(x.files) != set(y.files):
                out.append(f"arrays: keys {sorted(set(x.files) ^ set(y.files))}")
            for k in sorted(set(x.files) & set(y.files)):
                if not np.array_equal(x[k], y[k], equal_nan=x[k].dtype.kind == "f"):
                    if x[k].shape != y[k].shape:
                        out.append(f"arrays.{k}: shapes {x[k].shape} vs {y[k].shape}")
                        continue
                    u, v = x[k].astype(float), y[k].astype(float)
                    if RTOL and x[k].dtype.kind == "f" and np.allclose(u, v, rtol=RTOL, atol=ATOL, equal_nan=True):
                        scale = np.maximum(np.maximum(np.abs(u), np.abs(v)), 1e-300)
                        worst = float(np.nanmax(np.where(np.abs(u - v) > ATOL, np.abs(u - v) / scale, 0.0)))
                        if worst > LARGEST[0]:
                            LARGEST[:] = [worst, f"arrays.{k}"]
                        continue
                    out.append(f"arrays.{k}: differ (max abs {np.nanmax(np.abs(u - v))})")
    total += 1
    differing += bool(out)
    print(f"{rel}: {'identical' if not out else f'{len(out)} differences'}")
    for line in (out if ARGS.all else out[:40]):
        print("   ", line)
for results in sorted(after.rglob("results.json")):
    if not (before / results.relative_to(after)).exists():
        print(f"{results.relative_to(after)}: only after")
print(f"{total} results compared, {differing} with differences"
      + (f"; within rtol {RTOL:g}: largest relative difference {LARGEST[0]:.2e} at {LARGEST[1]}" if RTOL else ""))
sys.exit(1 if differing else 0)

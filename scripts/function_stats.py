"""Functions of the package over 60 lines or over 8 parameters (the one-home issue's limits).

    python scripts/function_stats.py [--lines 60] [--params 8]

Counts every `def` under src/inrdict: lines from `def` to the end of the body, the docstring excluded (its length
with the docstring is shown beside); parameters are the positional, keyword-only, *args and **kwargs ones, without
self / cls. Model constructors, which hold hyperparameters, are listed too: the limit sets them aside.
"""

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "inrdict"


def stats(path: Path):
    """(name, lines with docstring, lines without, parameters) of every function in `path`."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            total = node.end_lineno - node.lineno + 1
            first = node.body[0]
            docstring = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
            code = total - (first.end_lineno - first.lineno + 1 if docstring else 0)
            a = node.args
            params = (
                len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + (a.vararg is not None) + (a.kwarg is not None)
            )
            params -= bool(a.args and a.args[0].arg in ("self", "cls"))
            yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", total, code, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--params", type=int, default=8)
    args = parser.parse_args()
    rows = [row for path in sorted(ROOT.rglob("*.py")) for row in stats(path)]
    long = sorted((r for r in rows if r[2] > args.lines), key=lambda r: -r[2])
    many = sorted((r for r in rows if r[3] > args.params), key=lambda r: -r[3])
    print(f"over {args.lines} lines of code (docstring excluded): {len(long)}")
    for name, total, code, _ in long:
        print(f"  {code:4d} ({total} with its docstring)  {name}")
    print(f"over {args.params} parameters: {len(many)}")
    for name, _, _, params in many:
        print(f"  {params:4d}  {name}")


if __name__ == "__main__":
    main()

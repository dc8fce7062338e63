"""The `inrdict` command line: reproduce the paper's figures.

Bad input (an `InrdictError`) prints one line on stderr and exits with status 2; any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from inrdict.errors import InrdictError

DESCRIPTION = """\
inrdict — implicit neural representations as structured dictionaries.
Reproduces the figures of Yüce et al., "A Structured Dictionary Perspective on Implicit Neural
Representations" (CVPR 2022). Each run writes PDF + PNG figures, results.json (every number, the claims,
the resolved config, seed, versions and device) and arrays.npz (the arrays behind every plot)."""

EPILOG = """\
examples:
  inrdict reproduce                       every figure, default (2-CPU) preset, into figures/
  inrdict figure 2 --image cat.jpg        Fig. 2 on your own image
  inrdict figure 3 --preset paper --out runs/fig3
  inrdict figure 2 --set steps=500 --set learning_rate=3e-4
"""


def _parse_set(items: list[str]) -> dict[str, str]:
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InrdictError(f"--set expects FIELD=VALUE, got {item!r}")
        overrides[name.strip()] = value.strip()
    return overrides


def build_parser() -> argparse.ArgumentParser:
    from inrdict.experiments import FIGURES

    parser = argparse.ArgumentParser(
        prog="inrdict", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--preset", default="default", choices=["default", "paper"],
            help="'default' is sized for a 2-core CPU (minutes); 'paper' uses the paper's exact settings (GPU or patience)",
        )  # fmt: skip
        p.add_argument("--seed", type=int, default=None, help="seed for every random draw (default: the preset's, 0)")
        p.add_argument("--no-progress", action="store_true", help="hide progress bars")

    figure = commands.add_parser(
        "figure", help="run one figure", description="Run one figure's experiment and write its outputs."
    )
    figure.add_argument("number", help=f"figure number: one of {', '.join(FIGURES)}")
    common(figure)
    figure.add_argument("--out", type=Path, default=None, help="output folder (default: figures/figure_N)")
    figure.add_argument("--image", default=None, help="Fig. 2 only: any image file to fit instead of the astronaut")
    figure.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="override one config field (repeatable), e.g. --set steps=500 --set hidden=128,128",
    )  # fmt: skip

    reproduce = commands.add_parser(
        "reproduce", help="run every figure", description="Run every figure into OUT/figure_N."
    )
    common(reproduce)
    reproduce.add_argument("--out", type=Path, default=Path("figures"), help="output root (default: figures)")
    return parser


def resolve_config(module, preset: str, seed: int | None, overrides: dict[str, str]):
    from inrdict.experiments._run import apply_overrides

    config = module.PRESETS[preset]
    if seed is not None:
        overrides = {"seed": str(seed), **overrides}
    return apply_overrides(config, overrides)


def run_figure(number: str, config, out_dir: Path, progress: bool) -> dict:
    from inrdict.experiments import FIGURES

    module = FIGURES[number]
    print(module.__doc__.strip().splitlines()[0], flush=True)
    start = time.perf_counter()
    results = module.run(config, out_dir, progress=progress)
    print_summary(number, module, results, time.perf_counter() - start, out_dir)
    return results


def print_summary(number: str, module, results: dict, seconds: float, out_dir: Path) -> None:
    rows = module.summary_rows(results["numbers"])
    width = max(len(label) for label, _ in rows)
    print(f"\n  Figure {number} ({seconds:.1f} s) → {out_dir}")
    for label, text in rows:
        print(f"    {label:<{width}}  {text}")
    for claim, holds in results["claims"].items():
        print(f"    claim {claim:<40} {'holds' if holds else 'DOES NOT HOLD'}")
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from inrdict.experiments import FIGURES

    try:
        progress = not args.no_progress
        if args.command == "figure":
            if args.number not in FIGURES:
                raise InrdictError(f"unknown figure {args.number!r}: choose one of {', '.join(FIGURES)}")
            overrides = _parse_set(args.set)
            if args.image is not None:
                if args.number != "2":
                    raise InrdictError("--image applies to figure 2 only")
                overrides["image"] = args.image
            config = resolve_config(FIGURES[args.number], args.preset, args.seed, overrides)
            out = args.out if args.out is not None else Path("figures") / f"figure_{args.number}"
            run_figure(args.number, config, out, progress)
        elif args.command == "reproduce":
            start = time.perf_counter()
            for number, module in FIGURES.items():
                config = resolve_config(module, args.preset, args.seed, {})
                run_figure(number, config, args.out / f"figure_{number}", progress)
            print(f"All figures done in {time.perf_counter() - start:.1f} s → {args.out}")
    except InrdictError as error:
        print(f"inrdict: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("inrdict: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

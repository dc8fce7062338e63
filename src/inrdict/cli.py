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
  inrdict meta-learn --preset paper --data-dir ~/data/celeba --out runs/maml [--resume]
  inrdict import-weights seed_maml_celebA_5000.pickle meta_siren.npz
  inrdict figure 5 --meta-weights meta_siren.npz      Fig. 5 with an extra meta-learned row
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
        "--meta-weights", default=None, metavar="PATH",
        help="Figs. 4 and 5: add a row for these meta-learned SIREN weights (inrdict checkpoint or the authors' pickle)",
    )  # fmt: skip
    figure.add_argument(
        "--data-dir", default=None, metavar="DIR",
        help="Figs. 4 and 5, paper preset: the CelebA folder (test faces, and meta-learning if no checkpoint is cached)",
    )  # fmt: skip
    figure.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="override one config field (repeatable), e.g. --set steps=500 --set hidden=128,128",
    )  # fmt: skip

    reproduce = commands.add_parser(
        "reproduce", help="meta-learn, then run every figure",
        description="Meta-learn the SIREN initialisation into OUT/meta_learning (resuming an interrupted run), "
        "then run every figure into OUT/figure_N.",
    )  # fmt: skip
    common(reproduce)
    reproduce.add_argument("--out", type=Path, default=Path("figures"), help="output root (default: figures)")
    reproduce.add_argument("--data-dir", default=None, metavar="DIR", help="paper preset: the CelebA folder")

    meta = commands.add_parser(
        "meta-learn", help="meta-learn a SIREN initialisation on faces (MAML, first-order MAML or Reptile)",
        description="Meta-learn SIREN's initialisation on a face dataset; writes a checkpoint every few steps, "
        "log.jsonl, and when done meta_siren.npz, results.json and figures.",
    )  # fmt: skip
    common(meta)
    meta.add_argument("--dataset", choices=["celeba", "lfw", "folder"], default=None,
                      help="celeba (needs --data-dir), lfw (embedded faces) or folder (any images in --data-dir)")  # fmt: skip
    meta.add_argument("--data-dir", default=None, metavar="DIR", help="dataset folder (CelebA layout, or images)")
    meta.add_argument("--method", choices=["maml", "fomaml", "reptile"], default=None, help="default: maml")
    meta.add_argument("--steps", type=int, default=None, help="outer steps (default: the preset's)")
    meta.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    meta.add_argument("--out", type=Path, default=Path("figures") / "meta_learning", help="run folder")
    meta.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a config field")

    importer = commands.add_parser(
        "import-weights", help="convert the authors' Haiku SIREN pickle into an inrdict checkpoint",
        description="Read the authors' published meta-learned SIREN (a Haiku pickle) with an unpickler that only "
        "rebuilds NumPy arrays (anything else is refused), and write an inrdict checkpoint (.npz, no pickle).",
    )  # fmt: skip
    importer.add_argument("source", type=Path, help="the .pickle file, e.g. seed_maml_celebA_5000.pickle")
    importer.add_argument("destination", type=Path, help="checkpoint to write, e.g. meta_siren.npz")
    return parser


def resolve_config(module, preset: str, seed: int | None, overrides: dict[str, str]):
    from inrdict.experiments._run import apply_overrides

    config = module.PRESETS[preset]
    if seed is not None:
        overrides = {"seed": str(seed), **overrides}
    return apply_overrides(config, overrides)


def run_experiment(title: str, module, config, out_dir: Path, progress: bool, **kwargs) -> dict:
    print(module.__doc__.strip().splitlines()[0], flush=True)
    start = time.perf_counter()
    results = module.run(config, out_dir, progress=progress, **kwargs)
    print_summary(title, module, results, time.perf_counter() - start, out_dir)
    return results


def print_summary(title: str, module, results: dict, seconds: float, out_dir: Path) -> None:
    rows = module.summary_rows(results["numbers"])
    width = max(len(label) for label, _ in rows)
    print(f"\n  {title} ({seconds:.1f} s) → {out_dir}")
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
        progress = not getattr(args, "no_progress", False)
        if args.command == "figure":
            if args.number not in FIGURES:
                raise InrdictError(f"unknown figure {args.number!r}: choose one of {', '.join(FIGURES)}")
            overrides = _parse_set(args.set)
            if args.image is not None:
                if args.number != "2":
                    raise InrdictError("--image applies to figure 2 only")
                overrides["image"] = args.image
            for flag, field, value in (("--meta-weights", "meta_weights", args.meta_weights), ("--data-dir", "data_dir", args.data_dir)):
                if value is None:
                    continue
                if args.number not in ("4", "5"):
                    raise InrdictError(f"{flag} applies to figures 4 and 5 only")
                if not Path(value).exists():
                    raise InrdictError(f"{flag} path not found: {value}")
                overrides[field] = value
            config = resolve_config(FIGURES[args.number], args.preset, args.seed, overrides)
            out = args.out if args.out is not None else Path("figures") / f"figure_{args.number}"
            run_experiment(f"Figure {args.number}", FIGURES[args.number], config, out, progress)
        elif args.command == "meta-learn":
            from inrdict.experiments import meta_learning

            overrides = _parse_set(args.set)
            for field in ("dataset", "data_dir", "method", "steps"):
                if getattr(args, field) is not None:
                    overrides[field] = str(getattr(args, field))
            config = resolve_config(meta_learning, args.preset, args.seed, overrides)
            run_experiment("Meta-learning", meta_learning, config, args.out, progress, resume=args.resume)
        elif args.command == "reproduce":
            from inrdict.experiments import meta_learning

            start = time.perf_counter()
            extra = {"data_dir": args.data_dir} if args.data_dir else {}
            config = resolve_config(meta_learning, args.preset, args.seed, extra)
            meta_out = args.out / "meta_learning"
            run_experiment("Meta-learning", meta_learning, config, meta_out, progress, resume=True)
            for number, module in FIGURES.items():
                overrides = dict(extra) if "data_dir" in module.Config.__dataclass_fields__ else {}
                if "meta_checkpoint" in module.Config.__dataclass_fields__:
                    overrides["meta_checkpoint"] = str(meta_out / meta_learning.CHECKPOINT)
                config = resolve_config(module, args.preset, args.seed, overrides)
                run_experiment(f"Figure {number}", module, config, args.out / f"figure_{number}", progress)
            print(f"Meta-learning and all figures done in {time.perf_counter() - start:.1f} s → {args.out}")
        elif args.command == "import-weights":
            from inrdict.checkpoints import import_haiku_siren, save_model
            from inrdict.models import count_parameters

            model = import_haiku_siren(args.source)
            save_model(args.destination, model, metadata={"imported_from": args.source.name})
            print(f"wrote {args.destination}: SIREN {model.in_features} → {list(model.hidden)} → "
                  f"{model.out_features}, {count_parameters(model):,} parameters, first ω0 {model.first_omega0:g}")  # fmt: skip
    except InrdictError as error:
        print(f"inrdict: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("inrdict: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `inrdict` command line: run, list and index the experiments of the registry.

Bad input (an `InrdictError`) prints one line on stderr and exits with status 2; any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from inrdict._compilation import enable_compilation_cache
from inrdict.errors import InrdictError

if TYPE_CHECKING:  # the command line imports what a command needs when it runs
    import equinox as eqx

DESCRIPTION = """\
inrdict — implicit neural representations as structured dictionaries.
Reproduces the figures of Yüce et al., "A Structured Dictionary Perspective on Implicit Neural
Representations" (CVPR 2022). Each run writes PDF + PNG figures, results.json (every number, the claims,
the resolved config, seed, versions and device) and arrays.npz (the arrays behind every plot)."""

EPILOG = """\
examples:
  inrdict reproduce                       every experiment, default (2-CPU) preset, into figures/ (+ index.html)
  inrdict list                            what each experiment shows and how long its default preset takes
  inrdict figure 2 --image cat.jpg        Fig. 2 on your own image
  inrdict figure 3 --preset paper --out runs/fig3
  inrdict figure 2 --set steps=500 --set learning_rate=3e-4
  inrdict meta-learn --preset paper --data-dir ~/data/celeba --out runs/maml   (resumes if interrupted)
  inrdict import-weights seed_maml_celebA_5000.pickle meta_siren.npz
  inrdict figure 5 --meta-weights meta_siren.npz      Fig. 5 with an extra meta-learned row
  inrdict analyse wire --set omega0=20    any INR (model name, checkpoint, package.module:factory) through the lens
  inrdict analyse torch:my_pkg.nets:siren a PyTorch INR (pip install 'inrdict[torch]')
  inrdict import-weights model.pth --family wire --set indexing=xy wire.npz   a reference state dict, no PyTorch needed
  inrdict suggest camera --family siren   the ω0 (σ, s) to fit an image with, from the NTK before training
  inrdict fit camera --family siren --suggest   then fit it at its resolution, as SIREN's authors train it
  inrdict index figures                   (re)write figures/index.html from the run folders there
  inrdict findings figures runs/extra --out docs/findings.md   every claim, where it holds, and its verdict
"""

# Flags that set a config field, for the experiments whose Config has that field.
FIELD_FLAGS = {"image": "--image", "meta_weights": "--meta-weights", "data_dir": "--data-dir", "dataset": "--dataset",
               "method": "--method", "steps": "--steps", "family": "--family", "signal": "--signal"}  # fmt: skip
PATH_FIELDS = ("meta_weights",)  # images and datasets give their own, more specific, messages


def _parse_set(items: list[str]) -> dict[str, str]:
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InrdictError(f"--set expects FIELD=VALUE, got {item!r}")
        overrides[name.strip()] = value.strip()
    return overrides


def _preset_names() -> list[str]:
    from inrdict.experiments import REGISTRY

    names = {name for module in REGISTRY.values() for name in module.PRESETS}
    return ["default", "paper", *sorted(names - {"default", "paper"})]


@dataclasses.dataclass(frozen=True)
class Arg:
    """One argument of a command: argparse's flags and keywords. A keyword whose value is a function (a `Lazy`) is
    called when the parser is built (choices and help that read the registries); `group` names a mutually exclusive
    group of the command."""

    flags: tuple[str, ...]
    options: dict
    group: str | None = None


@dataclasses.dataclass(frozen=True)
class Lazy:
    """A keyword value computed when the parser is built."""

    compute: Callable[[], object]


@dataclasses.dataclass(frozen=True)
class Command:
    """One command of the command line: its name, one-line help, description and arguments, in order."""

    name: str
    help: str
    description: str | Lazy
    args: tuple[Arg, ...] = ()


def _arg(*flags: str, group: str | None = None, **options) -> Arg:
    return Arg(flags, options, group)


def _registry_names() -> str:
    from inrdict.experiments import REGISTRY

    return ", ".join(REGISTRY)


def _family_names() -> tuple[str, ...]:
    from inrdict.models import family as families

    return families.names()


def _importable() -> tuple[str, ...]:
    from inrdict.models import family as families

    return families.importable()


COMMON = (
    _arg("--preset", default="default", choices=Lazy(_preset_names),
         help="'default' is sized for a 2-core CPU (minutes); 'paper' uses the paper's exact settings (GPU or patience)"),
    _arg("--seed", type=int, default=None, help="seed for every random draw (default: the preset's, 0)"),
    _arg("--no-progress", action="store_true", help="hide progress bars"),
)  # fmt: skip
"""The options of every command that runs experiments."""
SET = (_arg("--set", action="append", default=[], metavar="FIELD=VALUE",
            help="override one config field (repeatable), e.g. --set steps=500 --set hidden=128,128"),)  # fmt: skip
"""Config fields by name (last, after a command's own options)."""


def _tool(name: str, positional: str, what: str, *args: Arg) -> tuple[Arg, ...]:
    """The arguments of a command over one experiment that takes its main input as a positional argument."""
    return (_arg(positional.lower(), metavar=positional, help=what), *COMMON,
            _arg("--out", type=Path, default=None, help=f"output folder (default: figures/{name}_<...>)"), *args, *SET)  # fmt: skip


COMMANDS = (
    Command("figure", "run one experiment", "Run one experiment and write its outputs.", (
        _arg("number", metavar="NAME", help=Lazy(lambda: f"experiment: one of {_registry_names()} (see `inrdict list`)")),
        *COMMON,
        _arg("--out", type=Path, default=None,
             help="output folder (default: figures/<experiment>, figures/<experiment>-<preset> for other presets)"),
        _arg("--image", default=None, help="Fig. 2: any image file to fit instead of the astronaut"),
        _arg("--meta-weights", default=None, metavar="PATH",
             help="Figs. 4 and 5: add a row for these meta-learned SIREN weights (inrdict checkpoint or the authors' pickle)"),
        _arg("--data-dir", default=None, metavar="DIR",
             help="face experiments, paper preset: the CelebA folder (test faces, and meta-learning if not learned yet)"),
        *SET)),
    Command("reproduce", "run every experiment (producers first), then write index.html",
            "Run every experiment of the preset into OUT/<experiment> (artefacts such as the meta-learned SIREN are "
            "learned once, first, and reused), then write OUT/index.html.", (
        *COMMON,
        _arg("--out", type=Path, default=Path("figures"), help="output root (default: figures)"),
        _arg("--data-dir", default=None, metavar="DIR", help="paper preset: the CelebA folder"))),
    Command("meta-learn", "meta-learn a SIREN initialisation on faces (MAML, first-order MAML or Reptile)",
            "Meta-learn SIREN's initialisation on a face dataset (`inrdict figure meta` with shortcuts). Training runs "
            "once per setting in the artefact cache, with checkpoints: an interrupted run resumes when the same command "
            "is given again. OUT gets meta_siren.npz, log.jsonl, results.json and figures.", (
        *COMMON,
        _arg("--dataset", choices=["celeba", "lfw", "folder"], default=None,
             help="celeba (needs --data-dir), lfw (embedded faces) or folder (any images in --data-dir)"),
        _arg("--data-dir", default=None, metavar="DIR", help="dataset folder (CelebA layout, or images)"),
        _arg("--method", choices=["maml", "fomaml", "reptile"], default=None, help="default: maml"),
        _arg("--steps", type=int, default=None, help="outer steps (default: the preset's)"),
        _arg("--out", type=Path, default=Path("figures") / "meta_learning", help="run folder"),
        *SET)),
    Command("analyse", "any INR through the dictionary lens: NTK spectrum and atoms, E(0.1), PSNR@3, aliasing, a fit",
            Lazy(lambda: "Analyse one model (`inrdict figure analyse --set model=MODEL` with shortcuts). MODEL is a model "
                 f"name ({', '.join(_family_names())}; knobs with --set, e.g. --set omega0=20), "
                 "an inrdict checkpoint file, package.module:factory returning your own single-output Equinox module "
                 "(called with key=), torch:package.module:factory returning a torch.nn.Module (the inrdict[torch] "
                 "extra), or a reference implementation's PyTorch state dict (.pt/.pth) with --family."),
            _tool("analyse", "MODEL", "model name, checkpoint path, package.module:factory or torch:package.module:factory",
        _arg("--data-dir", default=None, metavar="DIR", help="a folder of images instead of the embedded faces"),
        _arg("--family", default=None, choices=Lazy(_importable),
             help="MODEL is a reference PyTorch state dict (.pt/.pth) of this family"),
        _arg("--signal", default=None, metavar="FILE",
             help="analyse on this signal instead of the faces: an image, a .wav, or a .npy of shape (n,), (h, w) or "
             "(d, h, w) (a volume); the model gets 1, 2 or 3 input coordinates to match"),
        _arg("--distributed", action="store_true",
             help="one of several processes (jax.distributed): JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and "
             "JAX_PROCESS_ID, or Slurm; the NTK spectrum is split across them, process 0 writes"))),
    Command("suggest", "choose an INR's frequency knob (ω0, σ, s) for a signal before training, from its NTK",
            "Score every value of the family's frequency knob by the held-out PSNR that linearised gradient descent "
            "predicts from the NTK at initialisation, on windows of the signal at its own resolution (up to 1024² for "
            "an image; --size N for the longest axis), values min-max scaled (any units), for the network `inrdict fit` "
            "trains; suggest the best (`inrdict figure suggest --set signal=SIGNAL`). SIGNAL is a bundled image name "
            "(astronaut, camera, …), an image file, a .wav, or a .npy array (n,), (h, w) or (d, h, w) (a volume). "
            "`inrdict figure regret` validates it on held-out images, 1-D series and volumes.",
            _tool("suggest", "SIGNAL", "bundled image name, image file or .npy array",
        _arg("--family", default="siren", help="a family with a frequency knob (default siren)"),
        _arg("--size", type=int, default=None, metavar="N",
             help="samples on the longest axis, as you will fit it (default: the signal's own, capped at 1024 for an "
             "image, 65536 for a 1-D signal, 128 for a volume)"))),
    Command("fit", "fit an INR to a signal at its own resolution, as the family's authors train it",
            "Train one family on a signal (`inrdict figure fit --set signal=SIGNAL`): its own resolution (up to 1024² "
            "for an image; --size N for the longest axis), values min-max scaled (any units), the family's reference "
            "run (lr, schedule, steps, target range; `inrdict.train.recipes`, --set recipe=NAME), half of the samples "
            "held out to measure PSNR on. Writes model.npz (a checkpoint), reconstruction.npy, a plot and "
            "results.json. SIGNAL is a bundled image name, an image file, a .wav, or a .npy (n,), (h, w) or (d, h, w).",
            _tool("fit", "SIGNAL", "bundled image name, image file, .wav or .npy array",
        _arg("--family", default="siren", help="the family to fit (default siren)"),
        _arg("--knob", group="knob", type=float, default=None, metavar="V",
             help="the frequency knob (ω0, σ, s) to fit with (default: the recipe's)"),
        _arg("--suggest", group="knob", action="store_true", help="choose the knob with `inrdict suggest` first"),
        _arg("--size", type=int, default=None, metavar="N",
             help="samples on the longest axis (default: the signal's own, capped as for suggest)"))),
    Command("list", "list the experiments", "Each experiment: what it shows, its presets and about how long its default "
            "preset takes on 2 CPU cores."),
    Command("index", "write DIR/index.html over the run folders in DIR",
            "Write a static index.html (pictures, claims, numbers beside the paper's) from the results.json files of "
            "the run folders in DIR.", (
        _arg("folder", type=Path, help="folder holding run folders, e.g. figures"),)),
    Command("findings", "write the findings page: every claim, where it holds, its verdict",
            "Write a Markdown table of every claim of every experiment found in the FOLDERs (run folders, or folders "
            "holding them: a reproduce output and runs of other presets), whether it holds on each, and its verdict.", (
        _arg("folders", type=Path, nargs="+", metavar="FOLDER", help="run folders or folders of them"),
        _arg("--out", type=Path, default=Path("docs/findings.md"), help="output file (docs/findings.md)"),
        _arg("--readme", type=Path, help="also refresh the verdict table and the suggest table in this file's generated blocks"),
        _arg("--measured", type=Path, help="also refresh the measured numbers in this file's generated block"))),
    Command("ledger", "check the claims ledger against its lock, or lock it",
            "The claims ledger (src/inrdict/experiments/ledger.toml) fixes every claim before the run that judges it. "
            "Without options: list every claim whose definition changed without a ledger entry (exit 2 if any). "
            "--lock: record the current definitions (refused while a change lacks its entry).", (
        _arg("--lock", action="store_true", help="write ledger.lock.json from the ledger"),)),
    Command("import-weights", "convert the authors' Haiku SIREN pickle, or a reference PyTorch state dict, into an "
            "inrdict checkpoint",
            "Read published weights without running their pickle and write an inrdict checkpoint (.npz, no pickle): "
            "the authors' meta-learned SIREN (a Haiku .pickle, NumPy arrays only), or the state dict (.pt/.pth) of a "
            "reference PyTorch implementation — SIREN (vsitzmann/siren, lucidrains/siren-pytorch), FINER, Gauss, "
            "complex WIRE (vishwa91/wire, liuzhen0212/FINER) or MFN (boschresearch, vishwa91/wire) — with --family; "
            "PyTorch is not needed. Settings the state dict does not hold (ω0, the Gauss scale, lucidrains' "
            "final_activation, the grid's axis order) come from --set, or from the references' default where they all "
            "agree; where they differ the import names each value and asks for --set. The checkpoint's model takes "
            "the coordinates it was trained on (its grid is recorded in the checkpoint).", (
        _arg("source", type=Path, help="the .pickle, .pt or .pth file"),
        _arg("destination", type=Path, help="checkpoint to write, e.g. meta_siren.npz"),
        _arg("--family", default=None, choices=Lazy(_importable),
             help="the family of a PyTorch state dict (required for .pt/.pth)"),
        _arg("--set", action="append", default=[], metavar="KNOB=VALUE",
             help="a setting the state dict does not hold, e.g. --set scale=10, --set indexing=xy (the grid's axis "
             "order), --set hidden_omega0=1 --set final_activation=identity"))),
)  # fmt: skip
"""Every command, in the order `inrdict --help` lists them."""


def _resolved(value):
    return value.compute() if isinstance(value, Lazy) else value


def build_parser() -> argparse.ArgumentParser:
    """The command line, built from `COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="inrdict", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=_resolved(command.description))
        groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
        for arg in command.args:
            if arg.group is not None and arg.group not in groups:
                groups[arg.group] = sub.add_mutually_exclusive_group()
            target = sub if arg.group is None else groups[arg.group]
            target.add_argument(*arg.flags, **{key: _resolved(value) for key, value in arg.options.items()})
    return parser


def _has_field(module, name: str) -> bool:
    return name in {field.name for field in dataclasses.fields(module.Config)}


def _display(name: str) -> str:
    return f"figure {name}" if name.isdigit() else name


def _flag_values(args: argparse.Namespace, module, name: str) -> dict:
    """Typed config values from the flags that name a config field; refuses a flag the experiment has no field for."""
    from inrdict.experiments import REGISTRY

    values = {}
    for field, flag in FIELD_FLAGS.items():
        value = getattr(args, field, None)
        if value is None:
            continue
        if not _has_field(module, field):
            takers = [_display(n) for n, m in REGISTRY.items() if _has_field(m, field)]
            raise InrdictError(f"{flag} applies to {', '.join(takers)} only")
        if field in PATH_FIELDS and not Path(value).exists():
            raise InrdictError(f"{flag} path not found: {value}")
        values[field] = value
    return values


def resolve_config(module, name: str, preset: str, *, seed: int | None = None, values: dict | None = None,
                   overrides: dict[str, str] | None = None):  # fmt: skip
    """The preset's config with typed `values` (flags, seed) and then `--set` string overrides applied."""
    from inrdict.experiments._run import apply_overrides

    if preset not in module.PRESETS:
        raise InrdictError(f"{_display(name)} has no {preset!r} preset: choose one of {', '.join(module.PRESETS)}")
    values = dict(values or {})
    if seed is not None:
        values["seed"] = seed
    return apply_overrides(dataclasses.replace(module.PRESETS[preset], **values), overrides or {})


def run_one(name: str, module, config, out_dir: Path, *, progress: bool, preset: str) -> dict:
    from inrdict.distributed import is_main_process
    from inrdict.experiments._run import run_experiment

    main_process = is_main_process()
    if main_process:
        print(f"{_display(name).capitalize()}: {module.TITLE}", flush=True)
    start = time.perf_counter()
    results = run_experiment(module, config, out_dir, progress=progress and main_process, preset=preset)
    if main_process:
        print_summary(module, results, time.perf_counter() - start, out_dir)
    return results


def print_summary(module, results: dict, seconds: float, out_dir: Path) -> None:
    rows = module.summary(results["numbers"])
    width = max((len(label) for label, _ in rows), default=0)
    print(f"\n  {module.NAME} ({seconds:.1f} s) → {out_dir}")
    for label, text in rows:
        print(f"    {label:<{width}}  {text}")
    for check, e in results.get("evidence", {}).items():
        interval = f" [{e['interval'][0]:.4g}, {e['interval'][1]:.4g}]" if e.get("interval") else ""
        measured = f"{e['mean']:.4g}{interval} (n = {e['n']})" if e.get("mean") is not None else "not measured"
        print(
            f"    claim {check:<44} {e['outcome'].upper() if e['outcome'] != 'holds' else 'holds'}: {measured} "
            f"{e['op']} {e['threshold']:g}{'; ' + e['reason'] if e.get('reason') else ''}"
        )
    for check, holds in results["sanity"].items():
        print(f"    sanity {check:<43} {'holds' if holds else 'DOES NOT HOLD'}")
    print(flush=True)


def list_experiments() -> None:
    from inrdict.experiments import REGISTRY

    width = max(len(name) for name in REGISTRY)
    for name, module in REGISTRY.items():
        print(f"  {name:<{width}}  {module.TITLE}  [presets: {', '.join(module.PRESETS)}; "
              f"default ≈ {module.DEFAULT_SECONDS} s on 2 CPU cores]")  # fmt: skip


def reproduce(args: argparse.Namespace, progress: bool) -> None:
    from inrdict.experiments import REGISTRY, reproduce_order
    from inrdict.experiments._index import write_index

    start = time.perf_counter()
    if args.data_dir is not None and not Path(args.data_dir).exists():
        raise InrdictError(f"--data-dir path not found: {args.data_dir}")
    names = [name for name in reproduce_order() if args.preset in REGISTRY[name].PRESETS]
    failed: list[str] = []
    unsure: list[str] = []
    for name in names:
        module = REGISTRY[name]
        values = {"data_dir": args.data_dir} if args.data_dir is not None and _has_field(module, "data_dir") else {}
        config = resolve_config(module, name, args.preset, seed=args.seed, values=values)
        results = run_one(name, module, config, args.out / module.NAME, progress=progress, preset=args.preset)
        failed += [f"{module.NAME}: {claim}" for claim, holds in results["claims"].items() if holds is False]
        unsure += [f"{module.NAME}: {claim}" for claim, holds in results["claims"].items() if holds is None]
    index = write_index(args.out)
    print(f"{len(names)} experiments done in {time.perf_counter() - start:.1f} s → {args.out} (open {index})")
    if failed:
        print(f"claims that fail on this run: {'; '.join(failed)}")
    if unsure:
        print(
            f"claims inconclusive on this run (seeds disagree, the interval covers the threshold, or one seed): "
            f"{'; '.join(unsure)}"
        )


def run_tool(name: str, args: argparse.Namespace, values: dict, progress: bool) -> None:
    """`inrdict analyse` / `inrdict suggest`: the experiment's config from the positional input, flags and --set,
    run into --out or figures/<module.out_name(config)>."""
    from inrdict.experiments import get

    module = get(name)
    config = resolve_config(module, name, args.preset, seed=args.seed, values=values, overrides=_parse_set(args.set))
    out = args.out if args.out is not None else Path("figures") / module.out_name(config)
    run_one(name, module, config, out, progress=progress, preset=args.preset)


def import_weights(args: argparse.Namespace) -> None:
    """`inrdict import-weights`: a Haiku SIREN pickle, or a PyTorch state dict with --family, → an inrdict .npz."""
    from inrdict.io.checkpoints import import_haiku_siren, save_model
    from inrdict.models import count_parameters

    if args.source.suffix.lower() in (".pt", ".pth") or args.family is not None:
        from inrdict.io.reference_weights import GRID_KEY, import_reference
        from inrdict.models import family as families

        if args.family is None:
            raise InrdictError(
                f"{args.source} is a PyTorch file: name its family with --family ({', '.join(families.importable())})"
            )
        knobs: dict[str, float | str] = {}
        for key, value in _parse_set(args.set).items():
            try:
                knobs[key] = float(value)
            except ValueError:
                knobs[key] = value  # a named setting (indexing=xy, final_activation=identity), checked on import
        imported = import_reference(args.source, args.family, knobs)
        inner, grid = imported.model, imported.grid
        save_model(args.destination, inner, metadata={
            "imported_from": args.source.name, "family": args.family, "layout": imported.layout,
            "settings": imported.settings, "assumed": list(imported.assumed), GRID_KEY: grid.to_json(),
            "coordinate_domain": [grid.low, grid.high]})  # fmt: skip
        settings = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in imported.settings.items())
        assumed = f" ({', '.join(imported.assumed)}: the references' shared default)" if imported.assumed else ""
        n_parameters = count_parameters(cast("eqx.Module", inner))  # an inrdict model is an eqx.Module too
        axes = "(x, y) = (column, row)" if grid.indexing == "xy" and inner.in_features >= 2 else "(row, column, …)"
        print(f"wrote {args.destination}: {type(inner).__name__} {inner.in_features} → {list(inner.hidden)} → "
              f"{inner.out_features}, {n_parameters:,} parameters{', ' + settings if settings else ''}{assumed}. "
              f"load_model returns it on its training coordinates, {axes} in [{grid.low:g}, {grid.high:g}]: the "
              f"grid {grid.describe()}; grid_of(metadata).points(shape) lists it in pixel order")  # fmt: skip
        return
    siren = import_haiku_siren(args.source)
    save_model(args.destination, siren, metadata={"imported_from": args.source.name})
    print(f"wrote {args.destination}: SIREN {siren.in_features} → {list(siren.hidden)} → "
          f"{siren.out_features}, {count_parameters(siren):,} parameters, first ω0 {siren.first_omega0:g}")  # fmt: skip


def _run_figure(args, progress: bool) -> None:
    from inrdict.experiments import get

    name = args.number if args.command == "figure" else "meta"
    module = get(name)
    values = _flag_values(args, module, name)
    config = resolve_config(module, name, args.preset, seed=args.seed, values=values, overrides=_parse_set(args.set))
    folder = module.NAME if args.preset == "default" else f"{module.NAME}-{args.preset}"  # presets never overwrite
    out = args.out if args.out is not None else Path("figures") / folder
    run_one(name, module, config, out, progress=progress, preset=args.preset)


def _run_analyse(args, progress: bool) -> None:
    from inrdict.experiments import get

    run_tool("analyse", args, {**_flag_values(args, get("analyse"), "analyse"), "model": args.model}, progress)


def _run_suggest(args, progress: bool) -> None:
    sized = {} if args.size is None else {"size": args.size}
    run_tool("suggest", args, {"signal": args.signal, "family": args.family, **sized}, progress)


def _run_fit(args, progress: bool) -> None:
    values = {"signal": args.signal, "family": args.family, "knob": args.knob, "suggest": args.suggest}
    values |= {} if args.size is None else {"size": args.size}
    run_tool("fit", args, values, progress)


def _run_index(args, progress: bool) -> None:
    from inrdict.experiments._index import write_index

    print(f"wrote {write_index(args.folder)}")


def _run_findings(args, progress: bool) -> None:
    from inrdict._io import atomic_write_text
    from inrdict.experiments._findings import (
        findings_markdown,
        measured_markdown,
        replace_block,
        suggest_table_markdown,
        verdict_table_markdown,
    )

    atomic_write_text(args.out, findings_markdown(args.folders), "findings page")
    print(f"wrote {args.out}")
    blocks = ((args.readme, verdict_table_markdown, ""), (args.readme, suggest_table_markdown, "suggest"),
              (args.measured, measured_markdown, ""))  # fmt: skip
    for path, make, name in blocks:
        if path is not None:
            if not path.is_file():
                raise InrdictError(f"{path} not found: give the file that holds the generated block")
            text = replace_block(path.read_text(), make(args.folders), str(path), name)
            atomic_write_text(path, text, "generated block")
            print(f"refreshed {path}{f' ({name})' if name else ''}")


def _run_ledger(args, progress: bool) -> None:
    from inrdict.experiments import _evidence

    if args.lock:
        _evidence.write_lock()
        print(f"locked {len(_evidence.ledger())} claims in {_evidence.LOCK}")
        return
    problems = _evidence.check_lock()
    if problems:
        raise InrdictError("; ".join(problems))
    print(f"{len(_evidence.ledger())} claims, every definition as locked or changed with a ledger entry")


RUNS = {
    "figure": _run_figure, "meta-learn": _run_figure, "analyse": _run_analyse, "suggest": _run_suggest,
    "fit": _run_fit, "reproduce": reproduce, "list": lambda args, progress: list_experiments(),
    "index": _run_index, "findings": _run_findings, "ledger": _run_ledger,
    "import-weights": lambda args, progress: import_weights(args),
}  # fmt: skip
"""What each command of `COMMANDS` runs, given the parsed arguments and whether to show progress."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--distributed" in argv:  # before anything (the parser's experiment modules included) touches a device
        from inrdict.distributed import initialize

        try:
            initialize()
        except InrdictError as error:
            print(f"inrdict: error: {error}", file=sys.stderr)
            return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    enable_compilation_cache()  # compiled programs are read back by the next command (INRDICT_COMPILATION_CACHE=0: off)
    try:
        RUNS[args.command](args, not getattr(args, "no_progress", False))
    except InrdictError as error:
        print(f"inrdict: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("inrdict: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where do the trained optima of 1-D signals lie? A design-split study behind `suggest.REFERENCE_SIZE[1]` (never
run on the held-out split).

For every design series of `inrdict figure regret` (validation_sets/sets.toml), SIREN, FFN and Gauss: the
reference knob × 2^(-4 … 8) in octaves (covering the old lattice, centred at knob × n / 128, and a lattice centred
at the knob itself), each trained as the validation trains it (the recipe, widths 64, 400 steps, 3 seeds, choice on
the select quarter), and scored by `suggest` (linearised prediction, 256-sample windows). Then the first 4 EEG
channels cropped to 200 and 400 samples (octaves 2^(-6 … 6)): does the optimum move with n?

    .venv/bin/python scripts/design/series_lattice.py     # ~40 min on 2 cores; writes results/design/series_lattice.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from inrdict.analysis import fitting
from inrdict.analysis import suggest as knob_suggest
from inrdict.experiments.studies import regret
from inrdict.models import family as families
from inrdict.train.recipes import recipe

OUT = Path(__file__).resolve().parents[2] / "results" / "design" / "series_lattice.json"
FAMILIES = ("siren", "ffn", "gauss")
STEPS, EVERY, SEEDS, WIDTH = 400, 20, 3, 64


def study(signal: np.ndarray, family: str, octaves: range) -> dict:
    run = recipe(family)
    hidden = (WIDTH,) * (run.depth or families.get(family).depth)
    base = fitting.knob_default(family, run)
    values = base * 2.0 ** np.asarray(octaves, float)
    points = fitting.grid(signal.shape)
    splits = [regret.sample_splits(points.shape[0], s, 0) for s in range(SEEDS)]
    trained = []
    for value in values:
        models = [fitting.build(family, 1, run, float(value), hidden, s)[0] for s in range(SEEDS)]
        select, _ = regret.train_seeds(models, points, signal, splits, run, STEPS, EVERY)
        trained.append(float(select[:, -1].mean()))
    found = knob_suggest.suggest(family, signal, knob_suggest.SuggestOptions(hidden=hidden, values=tuple(values)))
    return {"family": family, "n": int(signal.size), "knob": base, "values": values.tolist(), "trained": trained,
            "predicted": found.mean_scores.tolist(), "best_trained": float(values[int(np.argmax(trained))]),
            "best_predicted": float(found.argmax)}  # fmt: skip


def main() -> None:
    rows = []
    series = regret.entries("design", "series")
    todo = [(e, 0, range(-4, 9)) for e in series]
    todo += [(e, crop, range(-6, 7)) for crop in (200, 400) for e in series if e.name.startswith("eeg")]
    for entry, crop, octaves in todo:
        signal = regret.at_validation_size(entry, regret.load(entry, 24), {"series": crop or 2048})
        for family in FAMILIES:
            start = time.perf_counter()
            row = {"signal": entry.name, "crop": crop, **study(signal, family, octaves)}
            rows.append(row)
            print(f"{entry.name} n={row['n']} {family}: trained best {row['best_trained']:g}, predicted "
                  f"{row['best_predicted']:g} ({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"study": __doc__.split("\n\n")[0], "steps": STEPS, "seeds": SEEDS, "width": WIDTH,
                               "rows": rows}, indent=1))  # fmt: skip
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""One module per paper figure; each has `Config`, `PRESETS`, `compute`, `claims`, `summary_rows` and `run`."""

from inrdict.experiments import figure2, figure3

FIGURES = {"2": figure2, "3": figure3}

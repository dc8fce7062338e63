"""One module per paper figure; each has `Config`, `PRESETS`, `compute`, `claims`, `summary_rows` and `run`."""

from inrdict.experiments import figure2, figure3, figure4, figure5

FIGURES = {"2": figure2, "3": figure3, "4": figure4, "5": figure5}

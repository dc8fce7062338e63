"""The dictionary lens: a model's NTK spectrum → the energy of signals on its eigenvectors → how fast and how well
those signals are learned (SPEC §4, §7). Pure functions over models and arrays; `analyse` puts them in one report.

    spectrum = lens.ntk_spectrum(model, points)                 # eigenpairs of the empirical NTK Θ on the grid
    energy = lens.energy_concentration(spectrum, images)        # E(t), E(0.1) per image
    learned = lens.learnability(model, points, images, mask, protocol=lens.RANDOM_INIT)   # PSNR@k
    report = lens.analyse(model, images)                        # all of it, plus atoms, aliasing and a fit
    choice = lens.suggest("siren", image)                        # the frequency knob to fit `image` with
    fitted = lens.fit("siren", image, lens.FitOptions(knob=choice.value))   # trained as SIREN's authors train it

**Where each concept lives.** `eigenpairs` (the spectrum by route: dense, stored, matrix-free; `ntk_spectrum`),
`energy` (E(t), `energy_concentration`), `psf` (the NTK's point spread function, `point_spread`), `learnability` (protocols, PSNR@k, the linearised prediction), `report`
(`analyse` and the records the figures share), `suggest` and `fitting`. This module is their public namespace.

**Learnability** (`inrdict.analysis.learnability`, re-exported here): `Protocol`s of fine-tuning (`RANDOM_INIT`: Adam
at lr 1e-4 for random initialisations; `META_INIT`: plain GD at lr 1e-2 for meta-learned ones, SPEC §7), PSNR@k, and
the linearised-GD prediction from the NTK at initialisation.

Everything here is a function of models and arrays: nothing reads datasets or caches results (the experiments do:
`inrdict.experiments.studies.memo`). A model of another framework goes through its adapter (`inrdict.adapters`).
"""

from __future__ import annotations

from inrdict.analysis.eigenpairs import (
    DEFAULT_TOP_K,
    DENSE_MAX_POINTS,
    Spectrum,
    SpectrumInfo,
    SpectrumOptions,
    SpectrumPlan,
    SpectrumRoute,
    ntk_spectrum,
    planned_route,
    require_spectrum_memory,
    spectrum_memory_bytes,
)
from inrdict.analysis.energy import THRESHOLDS, Energy, energy_concentration
from inrdict.analysis.fitting import FitOptions, Fitted, fit
from inrdict.analysis.learnability import (
    META_INIT,
    PROTOCOLS,
    RANDOM_INIT,
    Learnability,
    Protocol,
    finetune_curves,
    learnability,
    pixel_mask,
)
from inrdict.analysis.psf import PointSpread, point_spread, point_spreads, spread_of_map
from inrdict.analysis.report import (
    AnalyseOptions,
    Report,
    analyse,
    analysis_grid,
    format_number,
    protocol_text,
    row_record,
)
from inrdict.analysis.suggest import Suggestion, SuggestOptions, suggest

__all__ = [
    "DEFAULT_TOP_K",
    "DENSE_MAX_POINTS",
    "META_INIT",
    "PROTOCOLS",
    "RANDOM_INIT",
    "THRESHOLDS",
    "AnalyseOptions",
    "Energy",
    "FitOptions",
    "Fitted",
    "Learnability",
    "PointSpread",
    "Protocol",
    "Report",
    "Spectrum",
    "SpectrumInfo",
    "SpectrumOptions",
    "SpectrumPlan",
    "SpectrumRoute",
    "SuggestOptions",
    "Suggestion",
    "analyse",
    "analysis_grid",
    "energy_concentration",
    "finetune_curves",
    "fit",
    "format_number",
    "learnability",
    "ntk_spectrum",
    "pixel_mask",
    "planned_route",
    "point_spread",
    "point_spreads",
    "protocol_text",
    "require_spectrum_memory",
    "row_record",
    "spectrum_memory_bytes",
    "spread_of_map",
    "suggest",
]  # fmt: skip

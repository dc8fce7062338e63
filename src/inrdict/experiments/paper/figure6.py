"""Figure 6 — SIREN with a frozen first layer: a fixed mapping limits the frequency support (paper App., SPEC §7).

Three SIRENs (first layer, then hidden [256, 256, 256] with ω0 = 30, → RGB) fit one image as in Fig. 2, with
their first layer *frozen* (weight and bias, `models.SirenFrozenFirst`):

* (a) ω0 = 1, W0 = I: with W0 in cycles per unit (stored weight 2π I, see `studies.mappings`), sin(2π r + b0) is
  1-periodic, so on [-1, 1) the whole network is: every odd DFT bin is empty (to float round-off) and the fit is
  the average of the image with its three half-period shifts, exactly like Fig. 2's FFN with B = I;
* (b) ω0 = 1, W0 = 0.5 I: 2-periodic, reaches every bin;
* (c) ω0 = 30 with the usual random 256 x 2 first layer.

Claims: (a) odd-bin energy ≤ 1e-10 and (a) is closer (by ≥ 3 dB, Fig. 2's margin) to the four-shift average than to
the image; (b) has odd-bin energy (≥ 1000 x (a)'s). PSNR protocol: all pixels (= training pixels).

(a) is more constrained than Fig. 2's FFN with B = I: its two first-layer units give sin(2π x + b1) and
sin(2π y + b2) only (no cosines), and sin θ = sin(π − θ), so besides being 1-periodic it is mirror-symmetric in each
coordinate about an axis set by the frozen bias. Its fit therefore tends to the mirror-symmetrised four-shift
average, not the four-shift average itself: it is 17.8 dB closer to the four-shift average than to the image at
the default preset's 64² and only 7 dB at 128² (Fig. 2's FFN with B = I: ~17 dB), and (b) shows the mirrored
quadrants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inrdict.experiments.studies import mappings as _mappings

NAME = "figure_6"
TITLE = "SIREN with a frozen first layer: ω0 = 1 with W0 = I is 1-periodic (odd DFT bins empty), W0 = 0.5 I, ω0 = 30"
DEFAULT_SECONDS = 20
Config = _mappings.SirenStudy
PRESETS = _mappings.presets(Config)


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    return _mappings.fit_image(
        config, _mappings.siren_models(config, trainable=False), progress=progress, figure="Fig. 6"
    )


def claims(numbers: dict, config: Config) -> dict[str, float]:
    """The metrics (thresholds in the ledger): (a)'s odd-bin energy share; its PSNR against the four-shift average
    minus that against the image (dB); (b)'s odd-bin share over (a)'s."""
    a, b = numbers["models"]["a"], numbers["models"]["b"]
    return {
        "a_odd_bins_empty": a["odd_bin_energy_fraction"],
        "a_is_four_shift_average": a["psnr_db_vs_four_shift_average"] - a["psnr_db"],
        "b_has_odd_bins": b["odd_bin_energy_fraction"] / max(a["odd_bin_energy_fraction"], 1e-13),
    }


# Sanity: A frozen first layer stays as initialised, so (a) is 1-periodic before and after training.
sanity = _mappings.a_periodic_at_init


def versus_paper(numbers: dict, config: Config) -> list[dict]:
    """The paper gives no numbers for Fig. 6; the SPEC's claim for (a) is zero odd-bin energy."""
    return [{"quantity": "odd-bin energy share, frozen SIREN ω0 = 1, W0 = I",
             "ours": numbers["models"]["a"]["odd_bin_energy_fraction"], "paper": 0.0, "unit": "share of DFT energy"}]  # fmt: skip


summary = _mappings.summary_rows


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    title = _mappings.siren_title("Fig. 6", trainable=False, size=results["config"]["image_size"])
    _mappings.plot_grid(results, arrays, out_dir, title)

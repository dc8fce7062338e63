"""Shared pieces of Figs. 6–8: one image fitted, as in Fig. 2, by INRs whose input mapping is frozen or trained.

Protocol (Fig. 2's, SPEC §5): the image (the astronaut by default) on the grid `linspace(-1, 1, N, endpoint=False)`
per axis, full-batch Adam on the plain MSE over all pixels; paper preset 512², 2000 steps, lr 1e-4; default preset
64², 300 steps, lr 1e-3. Each model gives a reconstruction, its DFT log-magnitude and that spectrum's centre crop,
where the missing odd bins of a 1-periodic fit show as a checkerboard. PSNR protocol: all pixels (= training pixels).

Fig. 6/7 convention for "W0 = I" (SPEC §10). A SIREN first layer is sin(ω0 (W0 r + b0)). The paper's panels (a)
"ω0 = 1, W0 = I" and (b) "ω0 = 1, W0 = 0.5 I" give W0 in *cycles per unit*, like an FFN's B (Omega = 2π B): the
stored weight is 2π f0 I with ω0 = 1, so (a) is sin(2π r + b0), exactly 1-periodic, and on [-1, 1) it sees two
periods (its odd DFT bins are empty); read literally as sin(r + b0) the period would be 2π and nothing would show.
Panel (c) is the standard SIREN first layer, ω0 = 30 and W0 ~ U(-1/2, 1/2) (256 x 2), in SIREN's own units.
The frozen variant (Fig. 6) freezes the whole first layer, weight *and* bias (`models.SirenFrozenFirst`): it is
then the fixed mapping sin(Omega r + phi) of the paper, and a fixed phase does not change the period.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from inrdict._memory import require_memory
from inrdict.analysis import spectrum
from inrdict.errors import InrdictError
from inrdict.experiments._run import validate_config
from inrdict.experiments.studies.fits import cached_fit
from inrdict.io import data
from inrdict.models import FFNStar, Siren, SirenConvention, SirenFrozenFirst, gaussian_frequencies, single_frequency
from inrdict.train.fit import Monitor, predict
from inrdict.train.losses import psnr_db

MACHINE_ZERO = 1e-10
"""Odd-bin energy share at or below which a fit counts as exactly 1-periodic (float32 round-off gives ~1e-14)."""


@dataclasses.dataclass(frozen=True)
class ImageFit:
    """Settings shared by Figs. 6–8; the defaults are the paper's (Fig. 2's protocol: a GPU job at 512²)."""

    image: str | None = None  # path of any image; None = scikit-image's astronaut
    image_size: int = 512  # centre-cropped and resized to image_size x image_size
    hidden: tuple[int, ...] = (256, 256, 256)  # hidden layers after the input mapping, then 3 outputs (RGB)
    crop: int = 32  # side of the centre crop of the DFT shown in the third row
    steps: int = 2000
    learning_rate: float = 1e-4
    eval_every: int = 25
    seed: int = 0  # initialisation of the networks

    def __post_init__(self):
        validate_config(self)
        if self.image_size % 2:
            raise InrdictError(f"image_size must be even (the half-period shifts need N/2), got {self.image_size}")
        if self.crop > self.image_size:
            raise InrdictError(f"crop ({self.crop}) cannot exceed image_size ({self.image_size})")


@dataclasses.dataclass(frozen=True)
class SirenStudy(ImageFit):
    """Figs. 6/7: SIRENs (a) ω0 = 1, W0 = f0_a I; (b) ω0 = 1, W0 = f0_b I (W0 in cycles per unit, see the module);
    (c) ω0 = random_omega0 with a random (random_features x 2) W0; hidden layers `hidden` with `hidden_omega0`."""

    f0_a: float = 1.0
    f0_b: float = 0.5
    random_features: int = 256
    random_omega0: float = 30.0
    hidden_omega0: float = 30.0
    convention: SirenConvention = "fit"  # SIREN biases: "fit" drawn like the weights, "ntk" zero (+0.5 output offset)


@dataclasses.dataclass(frozen=True)
class MappingStudy(ImageFit):
    """Fig. 8: FFNs with trained frequencies: SFM* from B = f0 I for each f0, FFN* from RFF sigma (T frequencies)."""

    sfm_f0s: tuple[float, ...] = (1.0, 0.5)
    rff_sigma: float = 10.0
    rff_features: int = 256
    rff_seed: int = 7  # the initial B = sigma * N(0, 1) is drawn from this seed, as in Fig. 2


def presets(config_class: type) -> dict[str, ImageFit]:
    """{"paper": the paper's settings (the class defaults: 512², 2000 Adam steps at lr 1e-4, a GPU job),
    "default": Fig. 2's 2-CPU steps at 64² (300 Adam steps at lr 1e-3; the same networks): Fig. 2's 128² takes
    150 s per figure for these SIRENs on 2 cores, 64² about 40 s, and every claim holds at both (measured)}."""
    paper = config_class()
    return {"paper": paper, "default": dataclasses.replace(paper, image_size=64, steps=300, learning_rate=1e-3)}


def load_target(config: ImageFit) -> np.ndarray:
    """The RGB target image, square, image_size² (a grayscale image is repeated into three channels)."""
    image = data.astronaut() if config.image is None else data.load_image(config.image)
    rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=-1)
    return data.square_image(rgb, config.image_size)


def centre_crop(array: np.ndarray, size: int) -> np.ndarray:
    """The central size x size block of an fftshifted spectrum (DC at index N/2)."""
    top, left = array.shape[0] // 2 - size // 2, array.shape[1] // 2 - size // 2
    return array[top : top + size, left : left + size]


def siren_models(config: SirenStudy, *, trainable: bool) -> dict[str, tuple[str, eqx.Module]]:
    """(label, model) of columns a, b, c; `trainable=False` freezes each first layer (`SirenFrozenFirst`)."""
    keys = jax.random.split(jax.random.key(config.seed), 3)
    settings: dict[str, Any] = {"hidden_omega0": config.hidden_omega0, "convention": config.convention}

    def periodic(f0: float, key) -> Siren:  # W0 = f0 I in cycles per unit: stored weight 2π f0 I, ω0 = 1
        model = Siren(2, (2, *config.hidden), 3, first_omega0=1.0, key=key, **settings)
        return eqx.tree_at(lambda m: m.layers[0].weight, model, 2 * jnp.pi * f0 * jnp.eye(2))

    def w0(f0: float) -> str:
        return "I" if f0 == 1 else f"{f0:g} I"

    models = {
        "a": (f"ω0 = 1, W0 = {w0(config.f0_a)}", periodic(config.f0_a, keys[0])),
        "b": (f"ω0 = 1, W0 = {w0(config.f0_b)}", periodic(config.f0_b, keys[1])),
        "c": (f"ω0 = {config.random_omega0:g}, random W0 ({config.random_features}×2)",
              Siren(2, (config.random_features, *config.hidden), 3, first_omega0=config.random_omega0, key=keys[2],
                    **settings)),
    }  # fmt: skip
    star = "*" if trainable else ""
    return {key: (f"SIREN{star} {label}", model if trainable else SirenFrozenFirst(model))
            for key, (label, model) in models.items()}  # fmt: skip


def mapping_models(config: MappingStudy) -> dict[str, tuple[str, eqx.Module]]:
    """(label, model) of Fig. 8's columns: SFM* per f0, then FFN* (all `FFNStar`: B trained)."""
    keys = jax.random.split(jax.random.key(config.seed), len(config.sfm_f0s) + 1)
    models: dict[str, tuple[str, eqx.Module]]
    models = {f"sfm_{f0:g}": (f"SFM* f0 = {f0:g}", FFNStar(single_frequency(f0), config.hidden, 3, key=key))
              for f0, key in zip(config.sfm_f0s, keys)}  # fmt: skip
    B = gaussian_frequencies(jax.random.key(config.rff_seed), config.rff_features, 2, config.rff_sigma)
    models["ffn"] = (f"FFN* σ = {config.rff_sigma:g}", FFNStar(B, config.hidden, 3, key=keys[-1]))
    return models


def frequencies_hz(model: eqx.Module) -> np.ndarray:
    """The input-mapping frequencies in cycles per unit: an FFN's B, or a SIREN's first layer ω0 W0 / 2π."""
    if isinstance(model, FFNStar):
        return np.asarray(model.B, np.float64)
    assert isinstance(model, Siren | SirenFrozenFirst)  # the other mappings of the studies
    first = model.first if isinstance(model, SirenFrozenFirst) else model.layers[0]
    return model.first_omega0 * np.asarray(first.weight, np.float64) / (2 * np.pi)


def frequency_change(before: np.ndarray, after: np.ndarray) -> dict:
    """How far trained mapping frequencies moved: mean/max |Δ| (cycles per unit) and relative (Frobenius) change;
    for a diagonal start (SFM, W0 = f0 I) also |f − f0| / f0 of the diagonal frequencies."""
    change = np.abs(after - before)
    moved = {"mean_abs_change_hz": float(change.mean()), "max_abs_change_hz": float(change.max()),
             "relative_change": float(np.linalg.norm(after - before) / max(float(np.linalg.norm(before)), 1e-300))}  # fmt: skip
    if before.shape[0] == before.shape[1] and np.count_nonzero(before - np.diag(np.diag(before))) == 0:
        f0, f = np.diag(before), np.diag(after)
        moved |= {"diagonal_initial_hz": f0.tolist(), "diagonal_trained_hz": f.tolist(),
                  "max_relative_diagonal_change": float(np.max(np.abs(f - f0) / np.abs(f0)))}  # fmt: skip
    return moved


def fit_image(config: ImageFit, models: dict[str, tuple[str, eqx.Module]], *, progress: bool, figure: str):
    """Fit each model to the image; returns (numbers, arrays).

    numbers["models"][key]: label, PSNR (all pixels), odd-bin energy share after training and at initialisation,
    PSNR against the four-shift average, the movement of trained mapping frequencies, fit seconds.
    """
    require_memory(
        40 * 8 * config.image_size**2, f"image_size {config.image_size}", "choose a smaller --set image_size"
    )
    image = load_target(config)
    coords, targets = data.image_dataset(image)
    average = spectrum.four_shift_average(image)
    gt_dft = spectrum.dft_log_magnitude(image)
    arrays = {"ground_truth": image, "four_shift_average": average, "gt_dft_db": gt_dft,
              "gt_dft_crop_db": centre_crop(gt_dft, config.crop)}  # fmt: skip
    numbers: dict = {
        "ground_truth": {"odd_bin_energy_fraction": spectrum.odd_bin_energy_fraction(image)},
        "four_shift_average": {"psnr_db_vs_image": float(psnr_db(np.mean((average - image) ** 2)))},
        "models": {},
    }
    for key, (label, model) in models.items():
        initial = predict(model, coords).reshape(image.shape)
        monitor = Monitor(every=config.eval_every, progress=progress, description=f"{figure} {key}")
        result = cached_fit(model, coords, targets, steps=config.steps, learning_rate=config.learning_rate,
                            monitor=monitor)  # fmt: skip
        reconstruction = result.predictions.reshape(image.shape)
        dft = spectrum.dft_log_magnitude(reconstruction)
        arrays |= {f"{key}_reconstruction": reconstruction, f"{key}_dft_db": dft,
                   f"{key}_dft_crop_db": centre_crop(dft, config.crop), f"{key}_psnr_curve_db": result.eval_psnr_db,
                   "psnr_curve_steps": result.eval_steps}  # fmt: skip
        entry = {
            "label": label,
            "trained_mapping": isinstance(model, (Siren, FFNStar)),
            "psnr_db": result.final_eval_psnr_db,
            "psnr_protocol": "all pixels (= training pixels)",
            "odd_bin_energy_fraction": spectrum.odd_bin_energy_fraction(reconstruction),
            "odd_bin_energy_fraction_at_init": spectrum.odd_bin_energy_fraction(initial),
            "psnr_db_vs_four_shift_average": float(psnr_db(np.mean((reconstruction - average) ** 2))),
            "fit_seconds": result.seconds,
        }
        if entry["trained_mapping"]:
            entry["frequency_change"] = frequency_change(frequencies_hz(model), frequencies_hz(result.model))
        numbers["models"][key] = entry
    return numbers, arrays


def a_periodic_at_init(numbers: dict, config: SirenStudy) -> dict[str, bool]:
    """Sanity of Figs. 6/7: column (a) is 1-periodic at initialisation (odd-bin energy ≤ `MACHINE_ZERO`)."""
    return {"a_periodic_at_init": numbers["models"]["a"]["odd_bin_energy_fraction_at_init"] <= MACHINE_ZERO}


def siren_title(figure: str, *, trainable: bool, size: int) -> str:
    state = "trained (SIREN*)" if trainable else "frozen"
    return (
        f"{figure} — SIREN, first layer sin(ω0 (W0 r + b0)) {state}, at {size}²; W0 = f0 I means frequency f0 "
        f"cycles per unit (stored weight 2π f0 I)\nrows: reconstruction, DFT log-magnitude (dB), its centre"
    )


def summary_rows(numbers: dict) -> list[tuple[str, str]]:
    rows = []
    for m in numbers["models"].values():
        text = (f"PSNR {m['psnr_db']:6.2f} dB   odd-bin energy {m['odd_bin_energy_fraction']:.2e}   "
                f"PSNR vs 4-shift avg {m['psnr_db_vs_four_shift_average']:6.2f} dB")  # fmt: skip
        if "frequency_change" in m:
            moved = m["frequency_change"]
            text += (
                f"   frequencies moved: max {moved['max_abs_change_hz']:.3g} cyc/unit ({moved['relative_change']:.1%})"
            )
        rows.append((m["label"], text))
    return rows


def plot_grid(results: dict, arrays: dict, out_dir: Path, title: str) -> None:
    """Columns: each model, then the ground truth; rows: reconstruction, DFT log-magnitude, its centre crop.
    One PDF/PNG per panel too: <p>, <p>_ft, <p>_ft_crop with p = rec_<key> or gt."""
    from inrdict.plotting import image_panel, plt, save

    numbers, crop = results["numbers"], results["config"]["crop"]
    columns = [(f"rec_{key}", m["label"], f"{key}_reconstruction", f"{key}_dft_db", f"{key}_dft_crop_db", m)
               for key, m in numbers["models"].items()]  # fmt: skip
    columns.append(("gt", "ground truth", "ground_truth", "gt_dft_db", "gt_dft_crop_db", None))
    for stem, _, image_key, dft_key, crop_key, _ in columns:
        image_panel(arrays[image_key], out_dir, stem)
        image_panel(arrays[dft_key], out_dir, f"{stem}_ft", cmap="viridis")
        image_panel(arrays[crop_key], out_dir, f"{stem}_ft_crop", cmap="viridis")
    vmin, vmax = np.percentile(arrays["gt_dft_db"], [1, 99.9])
    fig, axes = plt.subplots(3, len(columns), figsize=(3.2 * len(columns), 10), squeeze=False)
    for col, (_, label, image_key, dft_key, crop_key, m) in enumerate(columns):
        axes[0, col].imshow(np.clip(arrays[image_key], 0, 1))
        axes[0, col].set_title(label if m is None else f"{label}\nPSNR {m['psnr_db']:.2f} dB", fontsize=9)
        axes[1, col].imshow(arrays[dft_key], cmap="viridis", vmin=vmin, vmax=vmax)
        if m is not None:
            axes[1, col].set_title(f"odd-bin energy {m['odd_bin_energy_fraction']:.1e}", fontsize=9)
        axes[2, col].imshow(arrays[crop_key], cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest")
        axes[2, col].set_title(f"centre {crop}×{crop} of the DFT", fontsize=8)
        for row in range(3):
            axes[row, col].axis("off")
    fig.suptitle(title, fontsize=10)
    save(fig, out_dir, "overview")

"""Theorem 1 — a polynomial INR only has the frequencies H(Ω); SIREN's harmonics are Bessel functions (SPEC §1, §7).

Everything numerical lives in `inrdict.analysis.theory` (float64 NumPy/SciPy; conventions in its docstring: frequencies in
cycles per unit, depth L counts weight matrices, ``H(Ω) = {Ωᵀs : s ∈ Z^T, ||s||₁ ≤ K^(L-1)}``). This experiment
runs those checks over a set of configurations and draws them:

(a) **Energy outside H(Ω).** For each configuration (integer Ω with T = 1..3 rows in D = 1..2 (3 in the
    extended set), polynomial ρ of degree K = 2..4, L = 2..4) and each seeded random network, the share of the
    DFT energy on the periodic grid outside the bins of H(Ω) — Theorem 1: zero up to float64 rounding
    (≲ 1e-30; claimed ≤ 1e-20). Three negative controls that each break one assumption and must leave energy
    outside (claimed > 1e-10, ten decades above the theorem's threshold): the same network against the support
    of one layer less (K^(L-2)); the same weights with Ω + 0.37 (non-integer: off the DFT bins); ρ = tanh (not a
    polynomial) — the tanh control is only claimed where K^(L-1) ≤ 4, since a tanh network's harmonics decay
    geometrically and beyond a high order their energy is itself tiny (recorded for every configuration).
(b) **Support size against depth.** The number of DFT bins above 1e-24 of the energy for L = 1..max_depth, next
    to |H(Ω)| and the lattice count ``#{s : ||s||₁ ≤ R} = Σ_i 2^i C(T, i) C(R, i)``, R = K^(L-1). Ω = (1, 2^Lmax + 1)
    in 1-D makes every lattice point a distinct frequency (the bound is attained); the 2-D T = 3 rows collide.
    Also the highest harmonic order ||s||₁ actually present, against the paper's K^(L-1).
(c) **Jacobi–Anger.** Max error of the series of a two-layer sine network truncated to |s_t| ≤ n, against n,
    for random networks and the trained SIREN below: it falls like J_{n+1}(max|W1|) down to float64 rounding.
(d) **Trained SIREN.** A SIREN 1 → 1 → M → 1 (one mapping frequency ν) fitted with Adam to a 1-D target is
    exactly the sine network ``b2 + Σ_m w2_m sin(W1_m sin(2πνr + φ) + b1_m)``; its harmonic k (frequency k|ν|)
    has the amplitude predicted by ``Σ_m w2_m J_k(W1_m) ...`` (`theory.bessel_harmonic_coefficients`), compared
    with the DFT over one period of the network, and of the trained model's own forward pass.

The paper states Theorem 1 without an experiment: the "paper" preset is a larger version of "default" (more
configurations and seeds, one layer deeper, longer training), not a reproduction of a figure.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import jax
import jax.numpy as jnp
import numpy as np

from inrdict.analysis import theory
from inrdict.errors import InrdictError
from inrdict.experiments._run import validate_config
from inrdict.models import Siren
from inrdict.train.fit import Monitor, fit, predict

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn
    from matplotlib.typing import LineStyleType

NAME = "theorem1"
TITLE = "Theorem 1: polynomial INRs keep their energy in H(Ω), SIREN harmonics follow Bessel's J_k"
DEFAULT_SECONDS = 5

ROUNDING_LEVEL = 1e-20
"""Theorem 1 claim: energy share outside H(Ω) at most this (float64 rounding gives ≈ 1e-31)."""
CONTROL_FLOOR = 1e-10
"""Negative controls claim: energy share outside the assumed support above this (ten decades above the theorem)."""
TANH_MAX_ORDER = 4
"""The tanh control is claimed for configurations with K^(L-1) at most this (its leakage shrinks with the order)."""
JACOBI_ANGER_TARGET = 1e-12
JACOBI_ANGER_FLOOR = 1e-13
"""Below this the series error is float64 rounding, no longer expected to decrease."""
BESSEL_TOLERANCE = {"float64": 1e-10, "float32": 1e-4}
"""Bessel prediction vs DFT of the trained model's own forward pass, relative to the largest coefficient."""

ACTIVATIONS: dict[str, tuple[float, ...]] = {
    "quadratic": (0.1, 1.0, 0.5),  # rho(x) = 0.1 + x + 0.5 x^2
    "cubic": (0.0, 1.0, 0.3, -0.2),  # x + 0.3 x^2 - 0.2 x^3
    "quartic": (0.05, 1.0, 0.2, -0.1, 0.05),
}
"""Polynomial activations, coefficients alpha_0..alpha_K in increasing powers."""

STANDARD_CASES: tuple[tuple[tuple[tuple[int, ...], ...], str, int], ...] = (
    (((1,), (3,)), "quadratic", 4),
    (((1,), (2,)), "quadratic", 2),
    (((2,),), "cubic", 3),
    (((1, 0), (0, 1)), "cubic", 3),
    (((1, 0), (0, 1), (1, 2)), "quadratic", 3),
    (((1, 0), (1, 1)), "quadratic", 4),
    (((1, 2),), "cubic", 2),
)
"""(Ω rows in cycles per unit, activation, depth L): T = 1..3, D = 1..2, K = 2..3, L = 2..4."""
EXTENDED_CASES = (
    *STANDARD_CASES,
    (((1,), (2,), (5,)), "quadratic", 3),
    (((2, 1), (1, -1)), "cubic", 3),
    (((1, 0, 0), (0, 1, 0), (0, 0, 1)), "quadratic", 3),
    (((1,), (4,)), "quartic", 2),
    (((3,),), "quadratic", 4),
)
CASES = {"standard": STANDARD_CASES, "extended": EXTENDED_CASES}

JACOBI_ANGER_NETWORKS: tuple[tuple[int, int, float], ...] = ((1, 1, 4.0), (2, 1, 2.0), (3, 2, 1.0))
"""Random two-layer sine networks (T mapping frequencies, input dimension D, modulation std of W1)."""
LATTICE_CHECKS: tuple[tuple[int, int], ...] = tuple((T, R) for T in (1, 2, 3, 4) for R in range(7 if T < 4 else 5))


@dataclasses.dataclass(frozen=True)
class Config:
    """Theorem 1 settings (the paper has no such experiment: both presets are ours)."""

    cases: Literal["standard", "extended"] = "standard"  # configurations of panel (a): CASES
    seeds: int = 3  # random networks per configuration
    width: int = 16  # hidden width of the polynomial INRs
    max_depth: int = 4  # panel (b): depths L = 1..max_depth (cubic: at most 3)
    ja_max_order: int = 40  # panel (c): truncation orders n = 0..ja_max_order
    siren_target: Literal["bump", "tones"] = "bump"  # bump: exp(-((r-0.5)/0.1)^2); tones: two sines
    siren_width: int = 64  # M
    siren_first_omega0: float = 10.0
    siren_hidden_omega0: float = 30.0
    siren_points: int = 256  # training grid j / n on [0, 1)
    siren_steps: int = 1000
    siren_learning_rate: float = 1e-3
    max_harmonic: int = 20  # panel (d): harmonics k = 0..max_harmonic
    precision: Literal["float64", "float32"] = "float64"  # SIREN training; the theory checks are always float64
    seed: int = 0  # networks use seed, seed + 1, ...; the SIREN jax.random.key(seed)

    def __post_init__(self):
        validate_config(self)
        if self.max_depth < 2:
            raise InrdictError(f"max_depth must be at least 2 to show growth with depth, got {self.max_depth}")
        if self.max_depth > 6:
            raise InrdictError(f"max_depth {self.max_depth} enumerates 2^{self.max_depth - 1}-order lattices; use <= 6")


PAPER = Config(cases="extended", seeds=5, max_depth=5, ja_max_order=50, siren_steps=3000)
DEFAULT = Config()
"""2-CPU preset (≈ 12 s: ≈ 6 s of computing — the float64 checks take about 2 s, the rest is JIT compilation and
1000 float64 Adam steps — and ≈ 6 s of drawing): the 7 standard configurations × 3 seeds, depths 1..4.
PAPER (≈ 16 s) is larger, since the paper states Theorem 1 without an experiment: 12 configurations (adds T = 3
in 1-D, D = 3, K = 4) × 5 seeds, depths 1..5, orders up to 50, 3000 Adam steps."""
PRESETS = {"paper": PAPER, "default": DEFAULT}


# ---------------------------------------------------------------------------------------------------- helpers


def _omega_label(omega: tuple[tuple[int, ...], ...]) -> str:
    if all(len(row) == 1 for row in omega):
        return "Ω=(" + ", ".join(str(row[0]) for row in omega) + ")"
    return "Ω=(" + ", ".join("(" + ",".join(map(str, row)) + ")" for row in omega) + ")"


def _case_label(omega: tuple[tuple[int, ...], ...], activation: str, depth: int) -> str:
    return f"{_omega_label(omega)} K={len(ACTIVATIONS[activation]) - 1} L={depth}"


def support_series(max_depth: int) -> list[tuple[tuple[tuple[int, ...], ...], str, tuple[int, ...]]]:
    """Panel (b): (Ω, activation, depths). The 1-D Ω = (1, 2^max_depth + 1) separates every lattice point."""
    sparse = ((1,), (2**max_depth + 1,))
    return [
        (sparse, "quadratic", tuple(range(1, max_depth + 1))),
        (((1, 0), (0, 1), (1, 2)), "quadratic", tuple(range(1, max_depth + 1))),
        (((1, 0), (0, 1)), "cubic", tuple(range(1, min(max_depth, 3) + 1))),
    ]


def highest_order_present(signal: np.ndarray, Omega: np.ndarray, order: int) -> tuple[int, int]:
    """(highest ||s||₁ among the DFT bins above the support threshold, number of such bins).

    Each bin above ``theory.DEFAULT_SUPPORT_THRESHOLD`` of the energy is given the smallest ||s||₁ of a lattice
    point s (||s||₁ <= order) with Ωᵀs in that bin; a bin no such s reaches counts as order + 1 (it would
    contradict Theorem 1).
    """
    energy = theory.dft_energy(signal)
    present = energy > theory.DEFAULT_SUPPORT_THRESHOLD * energy.sum()
    points = theory.lattice_points(Omega.shape[0], order)
    bins = np.mod(points @ Omega.astype(np.int64), np.asarray(signal.shape))  # (count, D)
    lowest = np.full(signal.shape, order + 1, np.int64)
    np.minimum.at(lowest, tuple(bins.T), np.abs(points).sum(axis=1))
    return int(lowest[present].max()), int(present.sum())


def siren_target(kind: str, r: np.ndarray) -> np.ndarray:
    if kind == "bump":
        return np.exp(-(((r - 0.5) / 0.1) ** 2))
    return 0.5 * np.sin(2 * np.pi * 2 * r) + 0.25 * np.sin(2 * np.pi * 5 * r + 1.0)


def _decreasing_to_target(errors: np.ndarray, start: int) -> bool:
    """Strictly decreasing from order `start` until the rounding floor, and reaching JACOBI_ANGER_TARGET."""
    tail = errors[start:]
    above = tail[tail > JACOBI_ANGER_FLOOR]
    return bool(np.all(np.diff(above) < 0) and errors.min() <= JACOBI_ANGER_TARGET)


# ---------------------------------------------------------------------------------------------------- compute


def _theorem_cases(config: Config) -> list[dict]:
    rows = []
    for omega, activation, depth in CASES[config.cases]:
        alpha = ACTIVATIONS[activation]
        Omega = np.array(omega, np.float64)
        K = len(alpha) - 1
        order = theory.theorem1_order(K, depth)
        shares = [
            theory.theorem1_check(Omega, alpha, depth, width=config.width, seed=config.seed + s)
            for s in range(config.seeds)
        ]
        keys = ("polynomial", "one_extra_layer", "non_integer_omega", "tanh")
        rows.append({
            "label": _case_label(omega, activation, depth),
            "Omega": [list(row) for row in omega],
            "activation": activation,
            "alpha": list(alpha),
            "T": Omega.shape[0], "D": Omega.shape[1], "degree": K, "depth": depth, "order": order,
            "support_size": int(theory.harmonic_support(Omega, order).shape[0]),
            "lattice_count": theory.lattice_point_count(Omega.shape[0], order),
            "tanh_claimed": order <= TANH_MAX_ORDER,
            "shares": {key: [float(share[key]) for share in shares] for key in keys},
        })  # fmt: skip
    return rows


def _support_growth(config: Config) -> list[dict]:
    series = []
    for omega, activation, depths in support_series(config.max_depth):
        alpha = ACTIVATIONS[activation]
        Omega = np.array(omega, np.float64)
        rows = theory.support_growth(Omega, alpha, depths, width=config.width, seed=config.seed)
        for row in rows:
            signal = theory.polynomial_inr(
                Omega, alpha, row["depth"], row["grid"], width=config.width, seed=config.seed
            )
            row["highest_order"], row["recounted_support"] = highest_order_present(signal, Omega, int(row["order"]))
        series.append({
            "label": f"{_omega_label(omega)} K={len(alpha) - 1}", "Omega": [list(row) for row in omega],
            "activation": activation, "T": Omega.shape[0], "D": Omega.shape[1], "degree": len(alpha) - 1,
            "rows": rows,
        })  # fmt: skip
    return series


def _train_siren(config: Config, *, progress: bool) -> tuple[dict, dict[str, np.ndarray], theory.SineNetwork]:
    dtype = np.float64 if config.precision == "float64" else np.float32
    r = np.arange(config.siren_points, dtype=np.float64) / config.siren_points
    target = siren_target(config.siren_target, r)
    with jax.enable_x64(dtype == np.float64):
        model = Siren(
            1, (1, config.siren_width), 1, first_omega0=config.siren_first_omega0,
            hidden_omega0=config.siren_hidden_omega0, convention="fit", key=jax.random.key(config.seed),
            dtype=dtype,
        )  # fmt: skip
        result = fit(
            model, jnp.asarray(r[:, None], dtype), jnp.asarray(target[:, None], dtype), steps=config.siren_steps,
            learning_rate=config.siren_learning_rate,
            monitor=Monitor(every=min(100, config.siren_steps), progress=progress, description="Theorem 1 SIREN"),
        )  # fmt: skip
        trained = result.model

        def evaluate(points: np.ndarray) -> np.ndarray:
            return np.asarray(predict(trained, jnp.asarray(points, dtype)), np.float64)

        net = theory.sine_network_from_siren(trained)
        prediction = evaluate(r[:, None])[:, 0]
        own = theory.compare_harmonics(net, config.max_harmonic)
        model_dft = theory.compare_harmonics(net, config.max_harmonic, n_samples=own.n_samples, evaluate=evaluate)
    numbers = {
        "target": config.siren_target,
        "hidden": [1, config.siren_width],
        "precision": config.precision,
        "train_psnr_db": result.final_eval_psnr_db,
        "fit_seconds": result.seconds,
        "nu_cycles_per_unit": float(net.Omega[0, 0]),
        "phase_rad": float(net.phase[0]),
        "max_abs_W1": float(np.abs(net.W1).max()),
        "conversion_max_abs_error": float(np.max(np.abs(net(r[:, None]) - prediction))),
        "n_samples_per_period": own.n_samples,
        "bessel_relative_error": own.relative_error,
        "bessel_relative_error_model": model_dft.relative_error,
        "max_harmonic": config.max_harmonic,
    }
    arrays = {
        "siren_r": r, "siren_target": target, "siren_prediction": prediction,
        "harmonics": own.harmonics, "harmonic_frequencies": own.frequencies,
        "harmonics_predicted": own.predicted, "harmonics_measured": own.measured,
        "harmonics_measured_model": model_dft.measured,
    }  # fmt: skip
    return numbers, arrays, net


def compute(config: Config, *, progress: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """All four panels' numbers: energy shares, support sizes, Jacobi–Anger errors, trained-SIREN harmonics."""
    numbers: dict = {
        "rounding_level": ROUNDING_LEVEL, "control_floor": CONTROL_FLOOR, "tanh_max_order": TANH_MAX_ORDER,
        "support_threshold": theory.DEFAULT_SUPPORT_THRESHOLD,
    }  # fmt: skip
    if progress:
        print("  Theorem 1: energy outside H(Ω) and controls", flush=True)
    numbers["cases"] = _theorem_cases(config)
    numbers["support_growth"] = _support_growth(config)
    numbers["lattice_checks"] = [
        {"T": T, "R": R, "formula": theory.lattice_point_count(T, R),
         "enumerated": len(theory.lattice_points_brute_force(T, R)), "fast": len(theory.lattice_points(T, R))}
        for T, R in LATTICE_CHECKS
    ]  # fmt: skip
    siren, arrays, siren_net = _train_siren(config, progress=progress)
    numbers["siren"] = siren

    if progress:
        print("  Jacobi–Anger truncation errors", flush=True)
    orders = np.arange(config.ja_max_order + 1)
    arrays["ja_orders"] = orders
    nets = [
        (f"random T={T} D={D} W1~N(0,{modulation:g}²)",
         theory.random_sine_network(T, D, 16, seed=config.seed + i, modulation=modulation))
        for i, (T, D, modulation) in enumerate(JACOBI_ANGER_NETWORKS)
    ] + [("trained SIREN (T=1)", siren_net)]  # fmt: skip
    numbers["jacobi_anger"] = []
    for index, (label, net) in enumerate(nets):
        errors = theory.jacobi_anger_errors(net, orders)
        arrays[f"ja_errors_{index}"] = errors
        reached = np.flatnonzero(errors <= JACOBI_ANGER_TARGET)
        numbers["jacobi_anger"].append({
            "label": label, "T": net.n_frequencies, "D": int(net.Omega.shape[1]), "width": net.width,
            "max_abs_W1": float(np.abs(net.W1).max()), "first_error": float(errors[0]),
            "min_error": float(errors.min()), "last_error": float(errors[-1]),
            "order_reaching_target": int(reached[0]) if reached.size else None,
            "decreasing_from": int(np.ceil(np.abs(net.W1).max())),
            "errors": errors,
        })  # fmt: skip
    return numbers, arrays


# ---------------------------------------------------------------------------------------------------- verdicts


def _all_shares(numbers: dict, key: str, only_claimed_tanh: bool = False) -> list[float]:
    return [
        share
        for case in numbers["cases"]
        if not (only_claimed_tanh and not case["tanh_claimed"])
        for share in case["shares"][key]
    ]


def claims(numbers: dict, config: Config) -> dict[str, float | None]:
    """Theorem 1, its negative controls, the support bound, and the Jacobi–Anger / Bessel identities, as metrics
    (thresholds in the ledger, which names ROUNDING_LEVEL, CONTROL_FLOOR and BESSEL_TOLERANCE's sources)."""
    theorem = _all_shares(numbers, "polynomial") + [
        row["energy_outside"] for series in numbers["support_growth"] for row in series["rows"]
    ]
    tanh = _all_shares(numbers, "tanh", only_claimed_tanh=True)
    rows = [row for series in numbers["support_growth"] for row in series["rows"]]
    steps = [b["measured_support"] - a["measured_support"] for series in numbers["support_growth"]
             for a, b in itertools.pairwise(series["rows"])]  # fmt: skip
    siren = numbers["siren"]
    return {
        "energy_outside_H_at_rounding_level": float(max(theorem)),
        "one_extra_layer_leaves_energy_outside": float(min(_all_shares(numbers, "one_extra_layer"))),
        "non_integer_omega_leaves_energy_outside": float(min(_all_shares(numbers, "non_integer_omega"))),
        "tanh_leaves_energy_outside": float(min(tanh)) if tanh else None,
        "measured_support_within_lattice_count": float(min(row["lattice_count"] - row["measured_support"] for row in rows)),
        "measured_support_grows_with_depth": float(min(steps)) if steps else None,
        "jacobi_anger_error_falls_to_1e-12": float(all(
            _decreasing_to_target(np.asarray(net["errors"], np.float64), net["decreasing_from"])
            for net in numbers["jacobi_anger"]
        )),
        "bessel_prediction_matches_trained_siren_dft": float(max(
            siren["bessel_relative_error"] / BESSEL_TOLERANCE["float64"],
            siren["bessel_relative_error_model"] / BESSEL_TOLERANCE[config.precision],
        )),
    }  # fmt: skip


def sanity(numbers: dict, config: Config) -> dict[str, bool]:
    """Checks true by construction: counting formulas, the SIREN → sine-network rewrite, recounts."""
    rows = [row for series in numbers["support_growth"] for row in series["rows"]]
    cases = numbers["cases"]
    return {
        "lattice_count_formula_equals_enumeration": all(
            c["formula"] == c["enumerated"] == c["fast"] for c in numbers["lattice_checks"]
        ),
        "harmonic_support_at_most_lattice_count": all(r["support_size"] <= r["lattice_count"] for r in rows + cases),
        "sparse_omega_support_equals_lattice_count": all(
            r["support_size"] == r["lattice_count"] for r in numbers["support_growth"][0]["rows"]
        ),
        "support_recount_agrees": all(r["recounted_support"] == r["measured_support"] for r in rows),
        "siren_is_the_sine_network": numbers["siren"]["conversion_max_abs_error"]
        <= (1e-10 if config.precision == "float64" else 1e-4),
    }


def versus_paper(numbers: dict, config: Config) -> list[dict]:
    """Theorem 1 as numbers: no energy outside H(Ω); harmonic order at most K^(L-1); support at most the lattice count."""
    out = [{
        "quantity": "energy share outside H(Ω), integer Ω, polynomial ρ (largest over all networks)",
        "ours": max(_all_shares(numbers, "polynomial")), "paper": 0.0, "unit": "share of DFT energy",
    }]  # fmt: skip
    for series in numbers["support_growth"]:
        for row in series["rows"]:
            out.append({
                "quantity": f"highest harmonic order ||s||₁ present, {series['label']} L={row['depth']}",
                "ours": row["highest_order"], "paper": row["order"], "unit": "order (paper: K^(L-1), an upper bound)",
            })  # fmt: skip
        last = series["rows"][-1]
        out.append({
            "quantity": f"support size, {series['label']} L={last['depth']}",
            "ours": last["measured_support"], "paper": last["lattice_count"],
            "unit": "DFT bins (paper: at most #{s : ||s||₁ ≤ K^(L-1)})",
        })  # fmt: skip
    out.append({
        "quantity": "Bessel prediction vs DFT of the trained SIREN, max |ΔC_k| / max |C_k|",
        "ours": numbers["siren"]["bessel_relative_error"], "paper": 0.0, "unit": "relative (Jacobi–Anger is exact)",
    })  # fmt: skip
    for net in numbers["jacobi_anger"]:
        out.append({
            "quantity": f"Jacobi–Anger order reaching 1e-12, {net['label']}",
            "ours": net["order_reaching_target"], "paper": None, "unit": "order n",
        })  # fmt: skip
    return out


def summary(numbers: dict) -> list[tuple[str, str]]:
    def extreme(key: str, fn=min, claimed_tanh: bool = False) -> float:
        return fn(_all_shares(numbers, key, claimed_tanh))

    siren = numbers["siren"]
    controls = (
        f"one extra layer {extreme('one_extra_layer'):.1e}   non-integer Ω {extreme('non_integer_omega'):.1e}   "
        f"tanh (K^(L-1) ≤ {TANH_MAX_ORDER}) {extreme('tanh', min, True):.1e}"
    )
    theorem = f"max {extreme('polynomial', max):.1e} over {len(numbers['cases'])} configurations"
    lines = [
        ("energy outside H(Ω)", f"{theorem} (claim ≤ {ROUNDING_LEVEL:.0e})"),
        ("controls (min share)", controls),
    ]
    for series in numbers["support_growth"]:
        sizes = " ".join(f"{r['measured_support']}/{r['lattice_count']}" for r in series["rows"])
        lines.append((f"support {series['label']}", f"measured/lattice by depth: {sizes}"))
    for net in numbers["jacobi_anger"]:
        errors = f"error {net['first_error']:.1e} (n=0) → {net['min_error']:.1e}"
        lines.append((f"Jacobi–Anger {net['label']}", f"{errors}, ≤ 1e-12 from n = {net['order_reaching_target']}"))
    quality = f"PSNR {siren['train_psnr_db']:.1f} dB, ν = {siren['nu_cycles_per_unit']:.3f}"
    bessel = (
        f"Bessel vs DFT {siren['bessel_relative_error']:.1e} (network) "
        f"{siren['bessel_relative_error_model']:.1e} (model)"
    )
    lines.append(("trained SIREN", f"{quality}, {bessel}"))
    return lines


# ---------------------------------------------------------------------------------------------------- plot

_SHOWN_FLOOR = 1e-40  # exact zeros drawn here on log axes


def _panel_energy(ax, numbers: dict) -> None:
    cases = numbers["cases"]
    styles = [
        ("polynomial", "Theorem 1 (polynomial ρ, integer Ω)", "o", "tab:blue"),
        ("one_extra_layer", "support of one layer less", "v", "tab:orange"),
        ("non_integer_omega", "Ω + 0.37 (non-integer)", "s", "tab:green"),
        ("tanh", "ρ = tanh", "D", "tab:red"),
    ]
    width = 0.18
    for offset, (key, label, marker, color) in enumerate(styles):
        for index, case in enumerate(cases):
            x = index + (offset - 1.5) * width
            values = np.maximum(np.asarray(case["shares"][key], np.float64), _SHOWN_FLOOR)
            hollow = key == "tanh" and not case["tanh_claimed"]
            ax.scatter(
                np.full(values.shape, x), values, marker=marker, s=22, label=label if index == 0 else None,
                facecolors="none" if hollow else color, edgecolors=color, linewidths=1.0,
            )  # fmt: skip
    ax.axhline(numbers["rounding_level"], color="k", linestyle="--", linewidth=1)
    ax.axhline(numbers["control_floor"], color="gray", linestyle=":", linewidth=1)
    ax.annotate("claim ≤ 1e-20", (len(cases) - 0.5, numbers["rounding_level"]), fontsize=7, ha="right", va="bottom")
    ax.annotate("controls > 1e-10", (len(cases) - 0.5, numbers["control_floor"]), fontsize=7, ha="right", va="bottom")
    ax.set_yscale("log")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([case["label"] for case in cases], rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("DFT energy share outside the support")
    ax.set_title("(a) energy outside H(Ω) (hollow: tanh where K^(L-1) > 4, not claimed)", fontsize=9)
    ax.legend(fontsize=7, loc="center left")


def _panel_support(ax, numbers: dict) -> None:
    from matplotlib.lines import Line2D

    colors = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    quantities: list[tuple[str, LineStyleType, str, str]] = [
        ("lattice_count", "--", "x", "lattice count Σ 2^i C(T,i) C(R,i)"),
        ("support_size", ":", "+", "|H(Ω)| (distinct frequencies)"),
        ("measured_support", "-", "o", "measured: DFT bins > 1e-24 of the energy"),
    ]
    handles = []
    for series, color in zip(numbers["support_growth"], colors):
        depths = [row["depth"] for row in series["rows"]]
        for key, linestyle, marker, _ in quantities:
            ax.plot(depths, [row[key] for row in series["rows"]], color=color, linestyle=linestyle, marker=marker,
                    markerfacecolor="none", markersize=7)  # fmt: skip
        handles.append(Line2D([], [], color=color, label=f"{series['label']} (T={series['T']}, D={series['D']})"))
    for _, linestyle, marker, label in quantities:
        handles.append(
            Line2D([], [], color="gray", linestyle=linestyle, marker=marker, markerfacecolor="none", label=label)
        )
    depths = sorted({row["depth"] for series in numbers["support_growth"] for row in series["rows"]})
    ax.set_xticks(depths)
    ax.set_yscale("log")
    ax.set_xlabel("depth L (weight matrices); R = K^(L-1)")
    ax.set_ylabel("number of frequencies (± counted apart)")
    ax.set_title("(b) support size vs depth against the lattice count", fontsize=9)
    ax.legend(handles=handles, fontsize=7)


def _panel_jacobi_anger(ax, numbers: dict, arrays: dict) -> None:
    orders = arrays["ja_orders"]
    for index, net in enumerate(numbers["jacobi_anger"]):
        errors = np.maximum(arrays[f"ja_errors_{index}"], 1e-18)
        ax.semilogy(orders, errors, marker=".", label=f"{net['label']} (max|W1| = {net['max_abs_W1']:.1f})")
    ax.axhline(JACOBI_ANGER_TARGET, color="k", linestyle="--", linewidth=1)
    ax.set_xlabel("truncation order n (|s_t| ≤ n)")
    ax.set_ylabel("max |f_n(r) − f(r)|")
    ax.set_title("(c) Jacobi–Anger series error vs order", fontsize=9)
    ax.legend(fontsize=7)


def _panel_harmonics(ax, numbers: dict, arrays: dict) -> None:
    siren = numbers["siren"]
    k = arrays["harmonics"]
    floor = 1e-18
    ax.semilogy(k, np.maximum(arrays["harmonics_predicted"], floor), "o", markerfacecolor="none", markersize=8,
                label="Bessel prediction")  # fmt: skip
    ax.semilogy(k, np.maximum(arrays["harmonics_measured"], floor), "x", label="DFT of the sine network (float64)")
    ax.semilogy(k, np.maximum(arrays["harmonics_measured_model"], floor), "+", markersize=9,
                label=f"DFT of the trained model ({siren['precision']})")  # fmt: skip
    ax.set_xlabel(f"harmonic k (frequency k·|ν|, |ν| = {abs(siren['nu_cycles_per_unit']):.3f} cycles/unit)")
    ax.set_ylabel("amplitude")
    ax.set_xticks(k[:: max(1, len(k) // 10)])
    ax.set_title(
        f"(d) trained SIREN 1→1→{siren['hidden'][1]}→1 ({siren['train_psnr_db']:.1f} dB): "
        f"rel. error {siren['bessel_relative_error']:.0e}", fontsize=9,
    )  # fmt: skip
    ax.legend(fontsize=7)


def plot(results: dict, arrays: dict, out_dir: Path) -> None:
    """Panels (a)–(d) one by one and together (overview), plus the SIREN fit; drawn from the saved numbers only."""
    from inrdict.plotting import plt, save

    numbers = results["numbers"]
    panels = [
        ("energy_outside", lambda ax: _panel_energy(ax, numbers), (9, 4.5)),
        ("support_growth", lambda ax: _panel_support(ax, numbers), (6, 4.5)),
        ("jacobi_anger", lambda ax: _panel_jacobi_anger(ax, numbers, arrays), (6, 4.5)),
        ("harmonics", lambda ax: _panel_harmonics(ax, numbers, arrays), (6, 4.5)),
    ]
    for stem, draw, size in panels:
        fig, ax = plt.subplots(figsize=size)
        draw(ax)
        fig.tight_layout()
        save(fig, out_dir, stem)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(arrays["siren_r"], arrays["siren_target"], "k--", label="target")
    ax.plot(arrays["siren_r"], arrays["siren_prediction"], label="trained SIREN")
    ax.set_xlabel("r")
    ax.set_title(f"SIREN fit for panel (d): PSNR {numbers['siren']['train_psnr_db']:.1f} dB", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out_dir, "siren_fit")

    overview, axes = plt.subplots(2, 2, figsize=(15, 10.5))
    for ax, (_, draw, _) in zip(axes.ravel(), panels):
        draw(ax)
    overview.suptitle("Theorem 1 (Yüce et al., CVPR 2022) and the Jacobi–Anger expansion of SIREN, checked numerically")
    overview.tight_layout()
    save(overview, out_dir, "overview")

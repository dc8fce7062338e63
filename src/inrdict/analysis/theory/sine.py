"""The two-layer sine network, its Jacobi–Anger expansion and Bessel harmonic amplitudes."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable

import numpy as np
from jaxtyping import Complex, Float, Int
from scipy.special import jv

from inrdict.analysis.theory._checks import MAX_ENUMERATED, ArrayInput, Count, Scalar, _as_count, _as_omega
from inrdict.analysis.theory.polynomial import periodic_grid
from inrdict.errors import InrdictError

# ----------------------------------------------------------------------------------------------------------------
# Two-layer sine network and its Jacobi–Anger expansion
# ----------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, init=False)
class SineNetwork:
    """``f(r) = b2 + sum_m w2_m sin( sum_t W1_{m,t} sin(2 pi <Omega_t, r> + phi_t) + b1_m )`` in float64.

    Any weights work (random or trained): the constructor takes array-likes (lists, NumPy or JAX arrays),
    converts them to float64 and checks their shapes; the attributes are those float64 arrays.

    Attributes:
        Omega: (T, D) mapping frequencies, cycles per unit (a (T,) argument means D = 1).
        W1: (M, T) inner weights = modulation indices (radians) (an (M,) argument means T = 1).
        w2: (M,) output weights.
        phase: (T,) mapping phases phi (radians); the argument defaults to zeros.
        b1: (M,) inner biases (radians); the argument defaults to zeros.
        b2: output offset; the argument defaults to 0.
    """

    Omega: Float[np.ndarray, "T D"]
    W1: Float[np.ndarray, "M T"]
    w2: Float[np.ndarray, " M"]
    phase: Float[np.ndarray, " T"]
    b1: Float[np.ndarray, " M"]
    b2: float

    def __init__(
        self,
        Omega: ArrayInput,
        W1: ArrayInput,
        w2: ArrayInput,
        phase: ArrayInput | None = None,
        b1: ArrayInput | None = None,
        b2: ArrayInput = 0.0,
    ) -> None:
        Omega = _as_omega(Omega)
        T = Omega.shape[0]
        W1 = np.asarray(W1, np.float64)
        if W1.ndim == 1 and T == 1:
            W1 = W1[:, None]
        if W1.ndim != 2 or W1.shape[1] != T:
            raise InrdictError(f"W1 must have shape (M, {T}) to match Omega's {T} rows, got {W1.shape}")
        M = W1.shape[0]
        w2 = np.asarray(w2, np.float64).reshape(-1)
        phase = np.zeros(T) if phase is None else np.asarray(phase, np.float64).reshape(-1)
        b1 = np.zeros(M) if b1 is None else np.asarray(b1, np.float64).reshape(-1)
        for name, array, size in (("w2", w2, M), ("phase", phase, T), ("b1", b1, M)):
            if array.shape != (size,):
                raise InrdictError(f"{name} must have {size} entries to match W1 of shape {W1.shape}, got {array.size}")
        b2 = np.asarray(b2, np.float64)
        if b2.size != 1:
            raise InrdictError(f"b2 must be a scalar (one output), got shape {b2.shape}")
        for name, array in (("W1", W1), ("w2", w2), ("phase", phase), ("b1", b1), ("b2", b2)):
            if not np.all(np.isfinite(array)):
                raise InrdictError(f"{name} contains non-finite values; pass finite weights")
        for name, value in (("Omega", Omega), ("W1", W1), ("w2", w2), ("phase", phase), ("b1", b1)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "b2", float(b2.reshape(())))

    @property
    def n_frequencies(self) -> int:
        """T."""
        return self.Omega.shape[0]

    @property
    def width(self) -> int:
        """M."""
        return self.W1.shape[0]

    def angles(self, coords: ArrayInput) -> Float[np.ndarray, "N T"]:
        """theta_t(r) = 2 pi <Omega_t, r> + phi_t at every point, (N, T)."""
        coords = np.asarray(coords, np.float64)
        if coords.ndim == 1 and self.Omega.shape[1] == 1:
            coords = coords[:, None]
        if coords.ndim != 2 or coords.shape[1] != self.Omega.shape[1]:
            raise InrdictError(f"coords must have shape (N, {self.Omega.shape[1]}), got {coords.shape}")
        return 2.0 * np.pi * coords @ self.Omega.T + self.phase

    def __call__(self, coords: ArrayInput) -> Float[np.ndarray, " N"]:
        """Direct evaluation, (N,)."""
        return np.sin(np.sin(self.angles(coords)) @ self.W1.T + self.b1) @ self.w2 + self.b2


def random_sine_network(
    T: Count,
    D: Count = 1,
    width: Count = 16,
    *,
    seed: Count | np.random.Generator = 0,
    modulation: Scalar = 1.0,
    max_frequency: Count = 4,
    biases: bool = True,
) -> SineNetwork:
    """A random ``SineNetwork``: integer Omega in [-max_frequency, max_frequency] (non-zero rows),
    W1 ~ N(0, modulation^2), w2 ~ N(0, 1/M); with ``biases`` phi ~ U(0, 2 pi), b1 ~ U(-pi, pi), b2 ~ N(0, 1).
    """
    T = _as_count(T, "T", minimum=1)
    D = _as_count(D, "D", minimum=1)
    width = _as_count(width, "width", minimum=1)
    max_frequency = _as_count(max_frequency, "max_frequency", minimum=1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_as_count(seed, "seed"))
    Omega = rng.integers(-max_frequency, max_frequency + 1, (T, D)).astype(np.float64)
    Omega[np.all(Omega == 0, axis=1), 0] = 1.0
    W1 = rng.normal(0.0, modulation, (width, T))
    w2 = rng.normal(0.0, 1.0 / math.sqrt(width), width)
    if not biases:
        return SineNetwork(Omega, W1, w2)
    return SineNetwork(
        Omega, W1, w2, rng.uniform(0, 2 * np.pi, T), rng.uniform(-np.pi, np.pi, width), float(rng.normal())
    )


def sine_network_from_siren(model) -> SineNetwork:
    """The ``SineNetwork`` equal to a SIREN ``D -> T -> M -> 1`` (``inrdict.Siren`` with two hidden layers).

    SIREN: ``f(r) = W_2 sin(w_h (W_1 sin(w_0 (W_0 r + b_0)) + b_1)) + b_2 + offset`` (``w_0 = first_omega0``,
    ``w_h = hidden_omega0``), so ``Omega = w_0 W_0 / (2 pi)`` (cycles per unit), ``phi = w_0 b_0``,
    ``W1 = w_h W_1``, ``b1 = w_h b_1``, ``w2 = W_2[0]``, ``b2 = b_2[0] + offset``. Weights are copied to float64.

    Raises:
        InrdictError: if the model does not have exactly two sine layers and one scalar output.
    """
    layers = getattr(model, "layers", None)
    if layers is None or len(layers) != 3 or not hasattr(model, "first_omega0"):
        raise InrdictError("expected an inrdict.Siren with exactly two hidden layers, e.g. hidden=(1, M) for T = 1")
    W0, b0, W1, b1, W2, b2 = (np.asarray(a, np.float64) for layer in layers for a in (layer.weight, layer.bias))
    if W2.shape[0] != 1:
        raise InrdictError(f"the SIREN must have one output, got {W2.shape[0]}; fit one channel at a time")
    w0, wh = float(model.first_omega0), float(model.hidden_omega0)
    return SineNetwork(
        Omega=w0 * W0 / (2.0 * np.pi),
        W1=wh * W1,
        w2=W2[0],
        phase=w0 * b0,
        b1=wh * b1,
        b2=float(b2[0]) + float(getattr(model, "output_offset", 0.0)),
    )


def _bessel_table(W1: Float[np.ndarray, "M T"], order: int) -> Float[np.ndarray, "M T orders"]:
    """J_k(W1_{m,t}) for k = -order..order, (M, T, 2 order + 1)."""
    ks = np.arange(-order, order + 1, dtype=np.float64)
    return jv(ks, W1[:, :, None])


def jacobi_anger_series(net: SineNetwork, coords: ArrayInput, order: Count) -> Float[np.ndarray, " N"]:
    """Jacobi–Anger series of ``net`` truncated to the box ``|s_t| <= order``, evaluated at ``coords`` (N, D).

    ``f_n(r) = b2 + sum_m w2_m Im( e^{i b1_m} sum_{|s_t| <= n} prod_t J_{s_t}(W1_{m,t}) e^{i s_t theta_t(r)} )``.
    The box sum factorises, ``sum_{s in box} prod_t c_{t,s_t} = prod_t sum_{|k| <= n} c_{t,k}``, so the
    (2n+1)^T terms cost O(N M T n) (identical to summing ``jacobi_anger_coefficients`` term by term).

    Returns:
        (N,) float64.
    """
    order = _as_count(order, "the truncation order n")
    theta = net.angles(coords)  # (N, T)
    ks = np.arange(-order, order + 1)
    phasors = np.exp(1j * theta[:, :, None] * ks)  # (N, T, 2n+1)
    partial = np.einsum("mtk,ntk->nmt", _bessel_table(net.W1, order), phasors)  # (N, M, T)
    inner = np.prod(partial, axis=2) * np.exp(1j * net.b1)  # (N, M)
    return inner.imag @ net.w2 + net.b2


def jacobi_anger_coefficients(
    net: SineNetwork, order: Count
) -> tuple[Int[np.ndarray, "S T"], Float[np.ndarray, "S D"], Complex[np.ndarray, " S"]]:
    """The dictionary atoms of ``net``: ``f(r) = b2 + sum_s Im(A_s e^{2 pi i <nu_s, r>})`` over ``|s_t| <= order``.

    ``nu_s = Omega^T s`` (cycles per unit) and ``A_s = e^{i <s, phi>} sum_m w2_m e^{i b1_m} prod_t J_{s_t}(W1_{m,t})``;
    atom s is the sinusoid ``|A_s| sin(2 pi <nu_s, r> + arg A_s)``. Pairs s, -s share the frequency line.

    Returns:
        ``(s, nu, A)``: (S, T) int64 harmonic orders, (S, D) frequencies, (S,) complex amplitudes,
        S = (2 order + 1)^T.

    Raises:
        InrdictError: if S exceeds ``MAX_ENUMERATED``.
    """
    order = _as_count(order, "the truncation order n")
    T = net.n_frequencies
    if (2 * order + 1) ** T * net.width * T > MAX_ENUMERATED * 4:  # the (M, S, T) table of Bessel factors
        raise InrdictError(f"(2*{order}+1)^{T} terms are too many to list; use jacobi_anger_series or a lower order")
    s = np.array(list(itertools.product(range(-order, order + 1), repeat=T)), np.int64).reshape(-1, T)
    table = _bessel_table(net.W1, order)  # (M, T, 2n+1)
    products = np.prod(table[:, np.arange(T), s + order], axis=-1)  # (M, S): prod_t J_{s_t}(W1_{m,t})
    amplitudes = np.exp(1j * (s @ net.phase)) * ((net.w2 * np.exp(1j * net.b1)) @ products)
    return s, s.astype(np.float64) @ net.Omega, amplitudes


def evaluate_sinusoids(
    freqs: ArrayInput, amplitudes: ArrayInput, coords: ArrayInput, offset: Scalar = 0.0
) -> Float[np.ndarray, " N"]:
    """``offset + sum_s Im(A_s e^{2 pi i <nu_s, r>})`` at every point, (N,).

    ``freqs`` (S, D) (or (S,) for D = 1) in cycles per unit, ``amplitudes`` (S,) complex, ``coords`` (N, D).
    """
    coords = np.asarray(coords, np.float64)
    if coords.ndim == 1:
        coords = coords[:, None]
    freqs = np.asarray(freqs, np.float64)
    if freqs.ndim == 1:
        freqs = freqs[:, None]
    amplitudes = np.asarray(amplitudes, np.complex128).reshape(-1)
    if freqs.ndim != 2 or freqs.shape[1] != coords.shape[1] or amplitudes.shape != (freqs.shape[0],):
        raise InrdictError(
            f"freqs {freqs.shape}, amplitudes {amplitudes.shape} and coords {coords.shape} do not match: "
            "pass (S, D), (S,) and (N, D)"
        )
    return (np.exp(2j * np.pi * coords @ freqs.T) @ amplitudes).imag + float(offset)


def jacobi_anger_errors(
    net: SineNetwork, orders: Iterable[Count], coords: ArrayInput | None = None
) -> Float[np.ndarray, " orders"]:
    """Max absolute error ``max_r |f_n(r) - f(r)|`` of the truncated series for each order n in ``orders``.

    ``coords=None`` uses the periodic grid (256 points for D = 1, 32^D otherwise). The error falls roughly like
    ``J_{n+1}(max |W1|)`` until float64 rounding (~1e-15 times the size of f).
    """
    if coords is None:
        D = net.Omega.shape[1]
        coords = periodic_grid(256 if D == 1 else 32, D)
    direct = net(coords)
    return np.array([float(np.max(np.abs(jacobi_anger_series(net, coords, n) - direct))) for n in orders])


# ----------------------------------------------------------------------------------------------------------------
# Harmonic amplitudes of a 1-D, one-frequency sine network
# ----------------------------------------------------------------------------------------------------------------


def bessel_harmonic_coefficients(net: SineNetwork, max_harmonic: Count) -> Complex[np.ndarray, " harmonics"]:
    """Complex Fourier coefficients C_k (k = 0..max_harmonic) of a one-frequency net in the angle theta.

    For T = 1, ``f = b2 + sum_m w2_m sin(W1_m sin theta + b1_m) = sum_{k in Z} C_k e^{i k theta}`` with
    ``theta = 2 pi nu r + phi`` and, from ``sin(a sin theta + b) = cos b sin(a sin theta) + sin b cos(a sin theta)``,

        C_0 = b2 + sum_m w2_m J_0(W1_m) sin b1_m,
        C_k = sum_m w2_m J_k(W1_m) sin b1_m          (k even >= 2:  f has 2 C_k cos(k theta)),
        C_k = -i sum_m w2_m J_k(W1_m) cos b1_m       (k odd:       f has 2 |C_k| sin(k theta) up to sign),

    and C_{-k} = conj(C_k). The amplitude of harmonic k (frequency k |nu|) is |C_0| for k = 0, 2 |C_k| otherwise.

    Raises:
        InrdictError: if the net has more than one mapping frequency.
    """
    if net.n_frequencies != 1:
        raise InrdictError(
            f"harmonic amplitudes need one mapping frequency (T = 1), got T = {net.n_frequencies}; "
            "use jacobi_anger_coefficients for several frequencies"
        )
    K = _as_count(max_harmonic, "max_harmonic")
    ks = np.arange(K + 1)
    bessel = jv(ks[None, :], net.W1[:, 0:1])  # (M, K+1)
    even = (net.w2 * np.sin(net.b1)) @ bessel
    odd = (net.w2 * np.cos(net.b1)) @ bessel
    coefficients = np.where(ks % 2 == 0, even + 0j, -1j * odd)
    coefficients[0] += net.b2
    return coefficients


def harmonic_amplitudes(coefficients: ArrayInput) -> Float[np.ndarray, " harmonics"]:
    """One-sided amplitudes of a real signal from C_0..C_K (1-D, complex or real): |C_0|, 2|C_1|, ..., 2|C_K|."""
    coefficients = np.asarray(coefficients, np.complex128)
    if coefficients.ndim != 1 or coefficients.size < 1:
        raise InrdictError(f"coefficients must be a non-empty 1-D array C_0..C_K, got shape {coefficients.shape}")
    amplitudes = 2.0 * np.abs(coefficients)
    amplitudes[0] /= 2.0
    return amplitudes


def alias_free_samples(net: SineNetwork, max_harmonic: Count, tolerance: Scalar = 1e-18) -> int:
    """Samples per period so that harmonics above Nyquist carry < ``tolerance`` of the weights' scale.

    The smallest power of two N >= 64 with N > 2 max_harmonic and
    ``sum_m |w2_m| |J_k(W1_m)| <= tolerance (sum_m |w2_m| + |b2|)`` for every k >= N / 2.
    """
    K = _as_count(max_harmonic, "max_harmonic")
    a = np.abs(net.W1[:, 0])
    scale = float(np.abs(net.w2).sum() + abs(net.b2)) or 1.0
    limit = math.ceil(a.max() + 10.0 * a.max() ** (1.0 / 3.0) + 40.0)
    while True:
        ks = np.arange(limit + 1)
        bound = np.abs(jv(ks[:, None], a[None, :])) @ np.abs(net.w2)  # (limit+1,)
        above = np.flatnonzero(bound > tolerance * scale)
        k_tail = int(above[-1]) + 1 if above.size else 0
        if k_tail < limit:
            break
        limit *= 2
    n = 64
    while n <= 2 * max(k_tail, K):
        n *= 2
    return n


@dataclasses.dataclass(frozen=True)
class HarmonicComparison:
    """Bessel prediction vs DFT of the sampled network, harmonics k = 0..K of the mapping frequency nu.

    Attributes:
        harmonics: (K+1,) k.
        frequencies: (K+1,) k |nu|, cycles per unit.
        predicted: (K+1,) amplitudes from ``bessel_harmonic_coefficients``.
        measured: (K+1,) amplitudes from the DFT over one period.
        predicted_coefficients, measured_coefficients: (K+1,) complex C_k (phase of theta removed).
        relative_error: ``max_k |C_k^pred - C_k^meas| / max_k |C_k^pred|``.
        amplitude_relative_error: (K+1,) ``|amp_pred - amp_meas| / max(amp_pred)``.
        n_samples: samples per period used.
    """

    harmonics: Int[np.ndarray, " harmonics"]
    frequencies: Float[np.ndarray, " harmonics"]
    predicted: Float[np.ndarray, " harmonics"]
    measured: Float[np.ndarray, " harmonics"]
    predicted_coefficients: Complex[np.ndarray, " harmonics"]
    measured_coefficients: Complex[np.ndarray, " harmonics"]
    relative_error: float
    amplitude_relative_error: Float[np.ndarray, " harmonics"]
    n_samples: int


def compare_harmonics(
    net: SineNetwork,
    max_harmonic: Count = 10,
    n_samples: Count | None = None,
    evaluate: Callable[[np.ndarray], ArrayInput] | None = None,
) -> HarmonicComparison:
    """Predict each harmonic's amplitude by Jacobi–Anger and measure it from the DFT of the sampled network.

    The network (one mapping frequency nu != 0, D = 1) is exactly periodic with period 1/|nu| whatever nu is,
    so it is sampled over one period, ``r_j = j / (N nu)``, j = 0..N-1 (then ``theta_j = 2 pi j / N + phi``) and
    ``C_k^meas = e^{-i k phi} fft(f)_k / N``. This works for trained weights with arbitrary (non-integer)
    frequencies. Aliasing from harmonics above N/2 is below 1e-18 with the automatic N.

    Args:
        net: a one-frequency, 1-D ``SineNetwork`` (e.g. ``sine_network_from_siren`` of a SIREN 1 -> 1 -> M -> 1).
        max_harmonic: K, the highest harmonic reported.
        n_samples: samples per period; None picks ``alias_free_samples(net, K)``.
        evaluate: optional callable mapping r of shape (N, 1) to f of shape (N,) or (N, 1), sampled instead of
            ``net(r)``, e.g. ``lambda r: np.asarray(inrdict.predict(model, r))`` for the trained model itself
            (float32 then limits the agreement to ~1e-7).

    Returns:
        A ``HarmonicComparison``.
    """
    coefficients = bessel_harmonic_coefficients(net, max_harmonic)
    if net.Omega.shape[1] != 1:
        raise InrdictError(f"compare_harmonics needs a 1-D input (D = 1), got D = {net.Omega.shape[1]}")
    nu = float(net.Omega[0, 0])
    if nu == 0.0:
        raise InrdictError("the mapping frequency is zero, so the network is constant; use a non-zero frequency")
    K = coefficients.size - 1
    n = alias_free_samples(net, K) if n_samples is None else _as_count(n_samples, "n_samples", minimum=1)
    if n <= 2 * K:
        raise InrdictError(f"{n} samples per period cannot resolve harmonic {K}; use n_samples > {2 * K}")
    r = (np.arange(n, dtype=np.float64) / (n * nu))[:, None]
    samples = net(r) if evaluate is None else np.asarray(evaluate(r), np.float64).reshape(-1)
    if samples.shape != (n,):
        raise InrdictError(f"evaluate must return {n} values for {n} points, got shape {samples.shape}")
    ks = np.arange(K + 1)
    measured = np.fft.fft(samples)[: K + 1] / n * np.exp(-1j * ks * float(net.phase[0]))
    predicted_amp, measured_amp = harmonic_amplitudes(coefficients), harmonic_amplitudes(measured)
    scale = max(float(np.abs(coefficients).max()), 1e-300)
    return HarmonicComparison(
        harmonics=ks,
        frequencies=ks * abs(nu),
        predicted=predicted_amp,
        measured=measured_amp,
        predicted_coefficients=coefficients,
        measured_coefficients=measured,
        relative_error=float(np.abs(coefficients - measured).max() / scale),
        amplitude_relative_error=np.abs(predicted_amp - measured_amp) / max(float(predicted_amp.max()), 1e-300),
        n_samples=n,
    )

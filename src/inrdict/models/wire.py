"""WIRE (Saragadam et al., CVPR 2023), as vishwa91/wire ships it: complex Gabor wavelet layers with a real output
(`ComplexWire`), and the real Gabor variant with its two linear maps per layer (`RealWire`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from inrdict.models import sine
from inrdict.models._common import _positive, _require_single_output, _sizes, _symmetric_uniforms
from inrdict.models.dense import Linear, _check_sizes
from inrdict.models.family import SOURCE_FINER, SOURCE_WIRE, Family, Recipe, register

# ----------------------------------------------------------------------------------------------------------------
# Complex WIRE
# ----------------------------------------------------------------------------------------------------------------


class ComplexLinear(eqx.Module):
    """u = W a + b with complex W = weight_real + j weight_imag (out, in) and b = bias_real + j bias_imag (out,),
    on complex a given as (real, imaginary) parts: returns (Re u, Im u)."""

    weight_real: Float[Array, "out in"]
    weight_imag: Float[Array, "out in"]
    bias_real: Float[Array, " out"]
    bias_imag: Float[Array, " out"]

    def __call__(self, a_real: Float[Array, " in"], a_imag: Float[Array, " in"]) -> tuple[Array, Array]:
        u_real = self.weight_real @ a_real - self.weight_imag @ a_imag + self.bias_real
        u_imag = self.weight_real @ a_imag + self.weight_imag @ a_real + self.bias_imag
        return u_real, u_imag

    @property
    def in_features(self) -> int:
        return self.weight_real.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight_real.shape[0]


class RealPartLinear(eqx.Module):
    """f = Re(W a + b) = weight_real @ Re a - weight_imag @ Im a + bias for complex W and a.

    The imaginary part of a complex output bias never reaches Re(·) (zero gradient, never trained), so only the
    real bias is stored."""

    weight_real: Float[Array, "out in"]
    weight_imag: Float[Array, "out in"]
    bias: Float[Array, " out"]

    def __call__(self, a_real: Float[Array, " in"], a_imag: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.weight_real @ a_real - self.weight_imag @ a_imag + self.bias


def complex_gabor(omega0: float, s0: float, u_real: Array, u_imag: Array) -> tuple[Array, Array]:
    """psi(u) = exp(j omega0 u) exp(-|s0 u|²) for u = u_real + j u_imag, as (Re psi, Im psi).

    exp(j omega0 u) = exp(-omega0 u_imag) exp(j omega0 u_real), so psi = M (cos, sin)(omega0 u_real) with
    M = exp(-omega0 u_imag - s0² (u_real² + u_imag²)) (bounded by exp(omega0² / (4 s0²))).
    """
    magnitude = jnp.exp(-omega0 * u_imag - s0**2 * (u_real**2 + u_imag**2))
    phase = omega0 * u_real
    return magnitude * sine.cos(phase), magnitude * sine.sin(phase)


def _complex_wire_arrays(key: PRNGKeyArray, in_features: int, hidden: tuple[int, ...], out_features: int, dtype):
    """(first, complex layers, output) of `ComplexWire`: every real array U(-1/sqrt(fan_in), +1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(in_features)
    spec = [((hidden[0], in_features), bound), ((hidden[0],), bound)]
    for n_in, n_out in itertools.pairwise(hidden):
        bound = 1.0 / math.sqrt(n_in)
        spec += [((n_out, n_in), bound), ((n_out, n_in), bound), ((n_out,), bound), ((n_out,), bound)]
    bound = 1.0 / math.sqrt(hidden[-1])
    spec += [((out_features, hidden[-1]), bound), ((out_features, hidden[-1]), bound), ((out_features,), bound)]
    arrays = _symmetric_uniforms(key, tuple(spec), jnp.dtype(dtype))
    first = Linear(*arrays[:2])
    layers = tuple(ComplexLinear(*arrays[i : i + 4]) for i in range(2, len(arrays) - 3, 4))
    return first, layers, RealPartLinear(*arrays[-3:])


def _wavelet(omega0: float, s0: float) -> tuple[float, float]:
    return _positive("the WIRE frequency omega0", omega0), _positive("the WIRE scale s0", s0, allow_zero=True)


class _Wire(eqx.Module):
    """What both WIRE variants share: the checkpoint description of their sizes and wavelet (omega0, s0)."""

    if TYPE_CHECKING:  # each variant defines these (declared here for the type checker only: no fields added)
        omega0: float
        s0: float

        @property
        def in_features(self) -> int: ...

        @property
        def out_features(self) -> int: ...

        @property
        def hidden(self) -> tuple[int, ...]: ...

    def hyperparameters(self) -> dict:
        return {"in_features": int(self.in_features), "hidden": [int(h) for h in self.hidden],
                "out_features": int(self.out_features), "omega0": self.omega0, "s0": self.s0}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype):
        h = hyperparameters
        constructor: Callable[..., _Wire] = cls  # the variants' constructor (sizes, *, omega0, s0, key, dtype)
        return constructor(*_sizes(h), omega0=float(h["omega0"]), s0=float(h["s0"]), key=jax.random.key(0), dtype=dtype)


class ComplexWire(_Wire):
    """WIRE with the complex Gabor wavelet (Saragadam et al., "WIRE: Wavelet Implicit Neural Representations",
    CVPR 2023).

    z_1 = psi(W_1 r + b_1)            real first layer (real coordinates in, complex activations out),
    z_l = psi(W_l z_{l-1} + b_l)      complex W_l, b_l (l = 2 .. L),
    f(r) = Re(W_out z_L) + b_out      complex W_out, real output,
    psi(u) = exp(j omega0 u) exp(-|s0 u|²),

    as the reference code (vishwa91/wire `modules/wire.py`: `ComplexGaborLayer.forward` computes
    `torch.exp(1j*omega - scale.abs().square())` with `omega = omega_0 * lin`, `scale = scale_0 * lin`; the first
    layer real, the later ones `torch.cfloat`; the `INR` class returns `output.real` of a complex final linear and
    narrows the width to `int(hidden_features/np.sqrt(2))`, 256 → 181). Defaults from one named run, vishwa91/wire
    `wire_image_denoise.py` at commit 0ac8cba run with `nonlin='wire'`: `hidden_layers = 2` (a first Gabor layer and
    2 more: 3 Gabor layers, `hidden=(181,) * 3`), omega0 = sigma0 = 4 (that script's values, "omega0 = 4 and
    sigma0 = 4 for denoising"), the same omega0 in the first and later layers, as that script passes it. Its
    training (Adam 1e-3 × min(1, 256²/HW), decayed to 0.1×, pixels in [0, 1]) is `inrdict.train.recipes`'
    "denoise". The other settings found in the sources are named recipes there: "sisr" (`wire_SISR.py`: 8 / 6),
    "finer_baseline" (liuzhen0212/FINER `run_wire.sh`: 20 / 10, 4 layers), "representation_advice" (the
    denoising script's comment "omega0=20, sigma0=30 for image representation", which no script runs; inrdict's
    default before). `INR`'s own defaults are 30 / 30 / 10. Coordinates in [-1, 1]² (`torch.linspace(-1, 1, ·)`,
    `indexing='xy'`).

    Complex numbers are stored as separate real arrays (`weight_real`, `weight_imag`, ...), so Optax, checkpoints,
    `count_parameters` and the NTK see ordinary real parameters: a complex weight counts as two real parameters
    and its gradient as the pair (d/dRe, d/dIm). The imaginary part of the output bias is not stored (it never
    reaches Re(·)). Initialisation: PyTorch's `nn.Linear` default, which for a `cfloat` layer draws the real and
    the imaginary part of each weight and bias independently from U(-1/sqrt(fan_in), +1/sqrt(fan_in)) (no
    re-initialisation in the repository). Width 181 ≈ 256/sqrt(2) matches the parameter count of a real 256-wide
    network (`matched_hidden` gives the width that matches the paper's SIREN at 3 layers).

    NTK: a complex layer's kernel term is Re[(D Dᴴ) ⊙ (conj(A Aᴴ) + 1)], which is not a sum of real
    (D Dᵀ) ⊙ (A Aᵀ + 1) terms but is one plus a "rotated" term (D' Dᵀ) ⊙ (A' Aᵀ): `structured_ntk_features` returns
    those groups, and the structured kernel (`inrdict.ntk`) and the matrix-free operator (`inrdict.ntk`)
    accept them, so `empirical_ntk` and `top_eigenpairs` take the structured path (see `kernel_from_features`).

    Args:
        in_features, hidden, out_features: sizes; hidden[0] is the width of the real first layer's output.
        omega0: wavelet frequency (> 0), keyword-only.
        s0: wavelet scale (>= 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: real dtype of the stored arrays (float32 or float64).
    """

    first: Linear
    layers: tuple[ComplexLinear, ...]
    output: RealPartLinear
    frozen_fields: ClassVar[tuple[str, ...]] = ()  # every array is trained
    omega0: float = eqx.field(static=True)
    s0: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (181,) * 3, out_features: int = 1, *,
                 omega0: float = 4.0, s0: float = 4.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        self.omega0, self.s0 = _wavelet(omega0, s0)
        self.first, self.layers, self.output = _complex_wire_arrays(key, in_features, hidden, out_features, dtype)

    def activate(self, u_real: Array, u_imag: Array) -> tuple[Array, Array]:
        return complex_gabor(self.omega0, self.s0, u_real, u_imag)

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " out"]:
        u = self.first(r)
        z = self.activate(u, jnp.zeros_like(u))
        for layer in self.layers:
            z = self.activate(*layer(*z))
        return self.output(*z)

    @property
    def in_features(self) -> int:
        return self.first.in_features

    @property
    def out_features(self) -> int:
        return self.output.weight_real.shape[0]

    @property
    def hidden(self) -> tuple[int, ...]:
        return (self.first.out_features, *(layer.out_features for layer in self.layers))

    def structured_ntk_features(self, points: Float[Array, "n d"]) -> list[tuple[Array, ...]]:
        """Factors of the exact NTK: Theta = sum over the returned groups (see `kernel_from_features`).

        * real groups (A, D): Theta += (D Dᵀ) ⊙ (A Aᵀ + 1) (the first layer; the output layer, whose inputs are
          A = [Re z_L, Im z_L] with D = 1);
        * complex layers (A, D, rot A, rot D) with A = [Re a, Im a] (n, 2 in), D = [df/dRe u, df/dIm u] (n, 2 out),
          rot [X_re, X_im] = [X_im, -X_re]: Theta += (D Dᵀ) ⊙ (A Aᵀ + 1) + (rot D · Dᵀ) ⊙ (rot A · Aᵀ), which is
          Re[(D_c D_cᴴ) ⊙ (conj(A_c A_cᴴ) + 1)] for the complex D_c = df/dRe u + j df/dIm u, A_c = a.
        """
        _require_single_output(self)
        points = jnp.asarray(points, self.first.weight.dtype)
        n = points.shape[0]
        u = points @ self.first.weight.T + self.first.bias[None, :]  # (n, h1)
        zeros = jnp.zeros_like(u)
        z = self.activate(u, zeros)
        # First layer: real u, so only d psi / d u_real matters.
        slopes = [jax.jvp(self.activate, (u, zeros), (jnp.ones_like(u), zeros))[1]]
        inputs = [z]
        for layer in self.layers:
            ur = z[0] @ layer.weight_real.T - z[1] @ layer.weight_imag.T + layer.bias_real[None, :]  # (n, out)
            ui = z[0] @ layer.weight_imag.T + z[1] @ layer.weight_real.T + layer.bias_imag[None, :]
            ones, none = jnp.ones_like(ur), jnp.zeros_like(ur)
            z, by_real = jax.jvp(self.activate, (ur, ui), (ones, none))  # d psi / d Re u
            by_imag = jax.jvp(self.activate, (ur, ui), (none, ones))[1]  # d psi / d Im u
            slopes.append((by_real, by_imag))
            inputs.append(z)
        # Backward sweep: delta = (df/dRe z, df/dIm z), starting at the output f = Wr Re z - Wi Im z + b.
        groups: list[tuple[Array, ...]] = [(jnp.concatenate(z, axis=1), jnp.ones((n, 1), u.dtype))]
        delta = (jnp.broadcast_to(self.output.weight_real[0], z[0].shape),
                 jnp.broadcast_to(-self.output.weight_imag[0], z[1].shape))  # fmt: skip
        for index in reversed(range(len(self.layers))):
            layer, (by_real, by_imag), a = self.layers[index], slopes[index + 1], inputs[index]
            d_real = delta[0] * by_real[0] + delta[1] * by_real[1]  # df/dRe u (n, out)
            d_imag = delta[0] * by_imag[0] + delta[1] * by_imag[1]  # df/dIm u
            a_cat, d_cat = jnp.concatenate(a, axis=1), jnp.concatenate([d_real, d_imag], axis=1)
            a_rot, d_rot = jnp.concatenate([a[1], -a[0]], axis=1), jnp.concatenate([d_imag, -d_real], axis=1)
            groups.append((a_cat, d_cat, a_rot, d_rot))
            delta = (d_real @ layer.weight_real + d_imag @ layer.weight_imag,
                     -d_real @ layer.weight_imag + d_imag @ layer.weight_real)  # fmt: skip
        first_slope = slopes[0]
        groups.append((points, delta[0] * first_slope[0] + delta[1] * first_slope[1]))
        return groups[::-1]


# ----------------------------------------------------------------------------------------------------------------
# Real WIRE
# ----------------------------------------------------------------------------------------------------------------


class RealWire(_Wire):
    """WIRE with the real Gabor wavelet, as the reference code's `RealGaborLayer` (vishwa91/wire `modules/wire.py`):
    every layer has two linear maps of its input, a frequency map F and a scale map S,

        z_l = cos(omega0 (F_l z_{l-1} + c_l)) exp(-(s0 (S_l z_{l-1} + d_l))²)   (l = 1 .. L, z_0 = r),
        f(r) = W_out z_L + b_out.

    (`RealGaborLayer.forward`: `omega = self.omega_0 * self.freqs(input)`, `scale = self.scale(input) *
    self.scale_0`, `return torch.cos(omega)*torch.exp(-(scale**2))`.) Not one shared pre-activation: the envelope's
    argument is its own linear map. Initialisation: PyTorch's `nn.Linear` default U(±1/sqrt(fan_in)) for every
    weight and bias. The source defines the layer but no network of it: at vishwa91/wire commit 0ac8cba,
    `modules/wire.py` has `RealGaborLayer` (omega0 and sigma0 plain floats, defaults 10 / 10), an empty `Wire`
    stub, and an `INR` that always builds `ComplexGaborLayer` ("All results in the paper were with the default
    complex 'gabor' nonlinearity"). inrdict stacks the real layer as `INR` stacks the complex one (a first layer,
    hidden layers, a linear output; the same omega0 and s0 in every layer), the width not reduced, with
    `ComplexWire`'s defaults (`wire_image_denoise.py`: omega0 = s0 = 4, 3 Gabor layers); the layer's own are
    10 / 10. Two maps per layer: (181,) * 3 is about the size of a complex WIRE of the same width.

    Args:
        in_features, hidden, out_features: sizes.
        omega0: wavelet frequency (> 0), keyword-only.
        s0: wavelet scale (>= 0; 0 gives a cosine of the frequency map), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    frequency_maps: tuple[Linear, ...]
    scale_maps: tuple[Linear, ...]
    output: Linear
    frozen_fields: ClassVar[tuple[str, ...]] = ()  # every array is trained
    omega0: float = eqx.field(static=True)
    s0: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (181,) * 3, out_features: int = 1, *,
                 omega0: float = 4.0, s0: float = 4.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        self.omega0, self.s0 = _wavelet(omega0, s0)
        spec = []
        for n_in, n_out in zip((in_features, *hidden[:-1]), hidden):  # per layer: F, c, S, d
            bound = 1.0 / math.sqrt(n_in)
            spec += [((n_out, n_in), bound), ((n_out,), bound), ((n_out, n_in), bound), ((n_out,), bound)]
        bound = 1.0 / math.sqrt(hidden[-1])
        spec += [((out_features, hidden[-1]), bound), ((out_features,), bound)]
        arrays = _symmetric_uniforms(key, tuple(spec), jnp.dtype(dtype))
        self.frequency_maps = tuple(Linear(arrays[i], arrays[i + 1]) for i in range(0, 4 * len(hidden), 4))
        self.scale_maps = tuple(Linear(arrays[i + 2], arrays[i + 3]) for i in range(0, 4 * len(hidden), 4))
        self.output = Linear(arrays[-2], arrays[-1])

    def activate(self, u: Array, v: Array) -> Array:
        """cos(omega0 u) exp(-(s0 v)²) for the frequency pre-activation u and the scale pre-activation v."""
        return sine.cos(self.omega0 * u) * jnp.exp(-((self.s0 * v) ** 2))

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " out"]:
        z = r
        for frequency, scale in zip(self.frequency_maps, self.scale_maps):
            z = self.activate(frequency(z), scale(z))
        return self.output(z)

    @property
    def in_features(self) -> int:
        return self.frequency_maps[0].in_features

    @property
    def out_features(self) -> int:
        return self.output.out_features

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(layer.out_features for layer in self.frequency_maps)

    def structured_ntk_features(self, points: Float[Array, "n d"]) -> list[tuple[Array, Array]]:
        """Pairs (A, D) with Theta = sum (D Dᵀ) ⊙ (A Aᵀ + 1): per layer (z_{l-1}, delta_l ⊙ da/du) for F_l, c_l and
        (z_{l-1}, delta_l ⊙ da/dv) for S_l, d_l; (z_L, 1) for the output layer. delta_l = df/dz_l."""
        _require_single_output(self)
        z = jnp.asarray(points, self.output.weight.dtype)
        inputs, slopes = [], []
        for frequency, scale in zip(self.frequency_maps, self.scale_maps):
            inputs.append(z)
            u, v = z @ frequency.weight.T + frequency.bias[None, :], z @ scale.weight.T + scale.bias[None, :]
            ones, zeros = jnp.ones_like(u), jnp.zeros_like(u)
            z, by_u = jax.jvp(self.activate, (u, v), (ones, zeros))
            by_v = jax.jvp(self.activate, (u, v), (zeros, ones))[1]
            slopes.append((by_u, by_v))
        pairs = [(z, jnp.ones((z.shape[0], 1), z.dtype))]
        delta = jnp.broadcast_to(self.output.weight[0], z.shape)  # df/dz_L
        for index in reversed(range(len(self.frequency_maps))):
            by_u, by_v = slopes[index]
            d_u, d_v = delta * by_u, delta * by_v
            pairs += [(inputs[index], d_u), (inputs[index], d_v)]
            delta = d_u @ self.frequency_maps[index].weight + d_v @ self.scale_maps[index].weight
        return pairs[::-1]


def kernel_from_features(features: list[tuple[Array, ...]]) -> Float[Array, "n n"]:
    """Theta = sum over groups of (D Dᵀ) ⊙ (A Aᵀ + 1), plus (rot D · Dᵀ) ⊙ (rot A · Aᵀ) for 4-tuples
    (A, D, rot A, rot D) (complex layers, see `ComplexWire.structured_ntk_features`). Dense (n, n): a reference for
    small n; `inrdict.ntk.empirical_ntk` does the blocked, sharded version."""
    kernel = None
    for group in features:
        a, d = group[0], group[1]
        term = (d @ d.T) * (a @ a.T + 1.0)
        if len(group) == 4:
            a_rot, d_rot = group[2], group[3]
            term = term + (d_rot @ d.T) * (a_rot @ a.T)
        kernel = term if kernel is None else kernel + term
    assert kernel is not None, "no feature groups"
    return 0.5 * (kernel + kernel.T)


_WIRE_DOMAIN = "vishwa91/wire wire_image_denoise.py: torch.linspace(-1, 1, W)"
WIRE = register(Family(
    name="wire", build=ComplexWire, classes=(ComplexWire,), prng_id=103, domain=(-1.0, 1.0),
    domain_source=_WIRE_DOMAIN, reference="Saragadam et al., CVPR 2023 (vishwa91/wire)", knob="omega0",
    knob_fields={"omega0": "omega0", "s0": "s0"}, depth=3,  # the default run: hidden_layers = 2 after the first
    recipes=(
        # wire_image_denoise.py run with nonlin='wire': hidden_layers = 2 (3 Gabor layers), omega0 = sigma0 = 4,
        # learning_rate = 1e-3 × min(1, maxpoints / (H W)), maxpoints = 256², LambdaLR 0.1 ** min(t / niters, 1),
        # niters = 2000, utils.normalize(im, True) → [0, 1]. (Its comment advises 5e-3–2e-2 for WIRE: the families
        # study sweeps the lr.)
        Recipe("wire", "denoise", 1e-3, 2000, SOURCE_WIRE, 0.1, (0.0, 1.0), 256 * 256, depth=3,
               knobs={"omega0": 4.0, "s0": 4.0}),
        # vishwa91/wire@2eb758b wire_SISR.py: nonlin='wire', omega0 = 8, sigma0 = 6, lr 1e-2, LambdaLR 0.2 ** (t/2000)
        Recipe("wire", "sisr", 1e-2, 2000, "vishwa91/wire@2eb758b wire_SISR.py", 0.2, (0.0, 1.0), depth=3,
               knobs={"omega0": 8.0, "s0": 6.0}),
        # liuzhen0212/FINER run_wire.sh: FIRSTOMEGA = HIDDENOMEGA = 20, SCALE = 10, HIDDENLAYERS = 3, train_image.py
        Recipe("wire", "finer_baseline", 5e-3, 5000, f"{SOURCE_FINER}, run_wire.sh", 0.1, (-1.0, 1.0), depth=4,
               knobs={"omega0": 20.0, "s0": 10.0}),
        # the comment of wire_image_denoise.py ("omega0=20, sigma0=30 for image representation"); no script runs it
        Recipe("wire", "representation_advice", 5e-3, 2000, f"{SOURCE_WIRE} (comment only)", 0.1, (0.0, 1.0),
               256 * 256, depth=3, knobs={"omega0": 20.0, "s0": 30.0}),
    ),
    # ω0 and s0: every ComplexGaborLayer saves its omega_0 / scale_0 (nn.Parameter, trainable=False)
    import_sources={"sequential": (
        ("vishwa91/wire modules/wire.py, wire_image_denoise.py", {"indexing": "xy"}),
        ("liuzhen0212/FINER models.py, train_image.py", {"indexing": "ij"}),
    )},
))  # fmt: skip
WIRE_REAL = register(Family(
    name="wire_real", build=RealWire, classes=(RealWire,), prng_id=104, domain=(-1.0, 1.0),
    domain_source=_WIRE_DOMAIN, reference="Saragadam et al., CVPR 2023 (vishwa91/wire RealGaborLayer)",
    knob="omega0", knob_fields={"omega0": "omega0", "s0": "s0"}, depth=3,
    recipes=(Recipe("wire_real", "denoise", 1e-3, 2000, f"{SOURCE_WIRE} (no script trains RealGaborLayer: "
                    "ComplexWire's run)", 0.1, (0.0, 1.0), 256 * 256, depth=3, knobs={"omega0": 4.0, "s0": 4.0}),),
))  # fmt: skip

"""Other INR families, implemented from their papers' equations (SPEC §10 "Other INR families").

Each class plugs into `fit`, meta-learning, checkpoints and the empirical NTK like the models of
`inrdict.models`. Coordinates are points r of shape (in_features,); batch with `jax.vmap`.

Dense INRs with an elementwise activation (subclasses of `DenseINR`, so the structured NTK works through
`ntk.layer_features`):

* `GaussINR`  rho(u) = exp(-u² / (2 sigma²))                      Ramasinghe & Lucey, ECCV 2022.
* `RealWire`  rho(u) = cos(omega0 u) exp(-(s0 u)²)                 Saragadam et al., CVPR 2023 (real Gabor).
* `Finer`     rho(u) = sin(omega0 (|u| + 1) u)                     Liu et al., CVPR 2024.
* `SincINR`   rho(u) = sinc(omega u) = sin(pi omega u)/(pi omega u)  Saratchandran et al., CVPR 2024.

Other shapes (plain `eqx.Module`s):

* `ComplexWire`  complex Gabor wavelet psi(u) = exp(j omega0 u) exp(-|s0 u|²), complex hidden layers, real output
  (Saragadam et al., CVPR 2023). Complex numbers are stored as pairs of real arrays (see the class); gives its own
  `structured_ntk_features`, with "rotated" groups for the complex layers.
* `MFN`  multiplicative filter networks, Fourier or Gabor filters (Fathony et al., ICLR 2021); gives its own
  `structured_ntk_features`.

Every model has `hyperparameters()` / `from_hyperparameters(h, dtype=)` (checkpoints), `in_features`,
`out_features`, `hidden`. `FAMILIES` maps the command-line names to constructors with each paper's defaults for
images (2 → … → 1). `MODELS` adds the paper's own models ("relu", "ffn", "siren") under one constructor,
`make_model(name, ..., key=, **knobs)`, whose keyword defaults (`model_knobs`) are the recommended settings and
whose `FREQUENCY_KNOB` is the one a frequency sweep varies. `matched_hidden` gives widths with about as many
trained parameters as the paper's SIREN 2 → 256 ×4 → 1 (198,401):

    family        matched hidden    trained parameters
    relu, siren, gauss, finer, sinc, wire_real   (256,) * 4   198,401
    wire (complex)                  (181,) * 4   198,558  (a complex weight counts as two real ones)
    mfn, Gabor filters              (253,) * 4   199,112
    mfn, Fourier filters            (255,) * 4   199,156
    ffn (T = 256 frozen features)   (211,) * 3   197,919  (3 hidden layers, as the paper's FFN)

Every family works with `fit`, `finetune`, `meta_train`, checkpoints and the structured NTK (`empirical_ntk`'s
"auto" and the matrix-free `ntk_operator`), each tested against the Jacobian oracle in float64.

Clean-room: written from the papers only (MFN's reference code is AGPL; FINER's and BACON's have no licence),
without their code. Where a paper prescribes no initialisation, the standard linear-layer default
W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) is used and the docstring says so. The papers' text was not at hand
when this module was written: equations and defaults follow our reading of them, and every value marked
"(to check)" below should be confirmed against the paper before it is quoted as the paper's.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from inrdict.errors import InrdictError
from inrdict.models import FFN, DenseINR, Linear, ReluMLP, Siren, _check_sizes, gaussian_frequencies

MFNFilter = Literal["fourier", "gabor"]
SIREN_PARAMETERS = 198_401  # SIREN 2 → 256 ×4 → 1, the paper's NTK / meta-learning network


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise InrdictError(f"{name} must be a finite {bound} number, got {value}")
    return value


def _require_single_output(model) -> None:
    if model.out_features != 1:
        raise InrdictError(f"the NTK needs a single-output model, this one has {model.out_features} outputs")


def _sizes(h: dict) -> tuple[int, tuple[int, ...], int]:
    return int(h["in_features"]), tuple(int(w) for w in h["hidden"]), int(h["out_features"])


@functools.partial(jax.jit, static_argnums=(1, 2))  # dtype: pass jnp.dtype(...) so equal dtypes share a compile
def _symmetric_uniforms(key: PRNGKeyArray, spec: tuple[tuple[tuple[int, ...], float], ...], dtype) -> list[Array]:
    """Arrays of the shapes in `spec` = ((shape, bound), ...) with independent entries U(-bound, bound).

    One `jax.random.uniform` call for all of them, cut and scaled: every call is a threefry hash that XLA
    compiles anew, so a model drawn array by array takes seconds to initialise, this takes a fraction.
    """
    sizes = [math.prod(shape) for shape, _ in spec]
    flat = jax.random.uniform(key, (sum(sizes),), dtype, -1.0, 1.0)  # (total,)
    arrays, start = [], 0
    for (shape, bound), size in zip(spec, sizes):
        arrays.append(bound * flat[start : start + size].reshape(shape))
        start += size
    return arrays


def _uniform_layers(key: PRNGKeyArray, sizes: tuple[int, ...], weight_bounds: tuple[float, ...],
                    bias_bounds: tuple[float, ...], dtype) -> tuple[Linear, ...]:  # fmt: skip
    """Dense layers sizes[i] → sizes[i+1] with W ~ U(±weight_bounds[i]) and b ~ U(±bias_bounds[i])."""
    spec = []
    for n_in, n_out, weight_bound, bias_bound in zip(sizes[:-1], sizes[1:], weight_bounds, bias_bounds):
        spec += [((n_out, n_in), float(weight_bound)), ((n_out,), float(bias_bound))]
    arrays = _symmetric_uniforms(key, tuple(spec), jnp.dtype(dtype))
    return tuple(Linear(w, b) for w, b in zip(arrays[::2], arrays[1::2]))


class _ElementwiseINR(DenseINR):
    """A `DenseINR` on raw coordinates with the linear-layer default initialisation (shared by Gauss, sinc, WIRE)."""

    @staticmethod
    def _default_layers(in_features, hidden, out_features, key, dtype) -> tuple[Linear, ...]:
        """W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) in every layer (the usual linear-layer default)."""
        sizes = (in_features, *_check_sizes(in_features, hidden, out_features), out_features)
        bounds = tuple(1.0 / math.sqrt(n) for n in sizes[:-1])
        return _uniform_layers(key, sizes, bounds, bounds, dtype)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features


class GaussINR(_ElementwiseINR):
    """Coordinate-MLP with Gaussian activations (Ramasinghe & Lucey, "Beyond Periodicity", ECCV 2022).

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = exp(-u² / (2 sigma²))   (the paper's Gaussian activation),
    f(r) = W_L z_{L-1} + b_L (linear output).

    The paper's point is that such activations need no special initialisation; it prescribes none, so the
    linear-layer default W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) is used. sigma sets the bandwidth: the
    activation's Fourier transform is sigma sqrt(2 pi) exp(-sigma² xi² / 2), so smaller sigma passes higher
    frequencies. Default sigma = 0.1 for images on [-1, 1]² (to check: the paper's experiments' sigma).

    Args:
        in_features, hidden, out_features: sizes (2, (256,) * 4, 1 by default).
        sigma: Gaussian width (> 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    sigma: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 sigma: float = 0.1, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.sigma = _positive("the Gaussian width sigma", sigma)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.exp(-(u**2) / (2.0 * self.sigma**2))

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"sigma": self.sigma}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "GaussINR":
        return cls(*_sizes(hyperparameters), sigma=float(hyperparameters["sigma"]), key=jax.random.key(0), dtype=dtype)


class SincINR(_ElementwiseINR):
    """Coordinate-MLP with sinc activations (Saratchandran et al., "A sampling theory perspective on activations
    for implicit neural representations", CVPR 2024).

    z_l = rho(W_l z_{l-1} + b_l),  rho(u) = sinc(omega u) = sin(pi omega u) / (pi omega u),  rho(0) = 1,
    f(r) = W_L z_{L-1} + b_L.

    Normalisation: the paper's optimality result (its Riesz-basis and partition-of-unity conditions on the
    integer translates of the activation) holds for the *normalised* sinc sin(pi x)/(pi x), whose translates are
    orthonormal and sum to 1; omega scales the bandwidth (the activation's spectrum is flat up to pi omega
    radians per unit of u and zero beyond). Default omega = 10 for images on [-1, 1]² (to check: chosen to give
    about the Gaussian sigma = 0.1's bandwidth, not taken from the paper). Initialisation: no special scheme
    (to check); W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)).

    Args:
        in_features, hidden, out_features: sizes.
        omega: bandwidth (> 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    omega: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 omega: float = 10.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.omega = _positive("the sinc bandwidth omega", omega)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.sinc(self.omega * u)  # numpy convention: sin(pi x)/(pi x), exact derivatives at 0

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"omega": self.omega}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "SincINR":
        return cls(*_sizes(hyperparameters), omega=float(hyperparameters["omega"]), key=jax.random.key(0), dtype=dtype)


class RealWire(_ElementwiseINR):
    """WIRE with the real Gabor wavelet (Saragadam et al., "WIRE: Wavelet Implicit Neural Representations",
    CVPR 2023, the real-valued variant of its Gabor nonlinearity).

    z_l = psi(W_l z_{l-1} + b_l),  psi(u) = Re[exp(j omega0 u) exp(-|s0 u|²)] = cos(omega0 u) exp(-(s0 u)²),
    f(r) = W_L z_{L-1} + b_L, real weights throughout. omega0 is the wavelet's frequency, s0 its inverse width;
    the paper recommends omega0 = 20, s0 = 10 for images. Initialisation: no special scheme in the paper as we
    read it (to check); W, b ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)).

    Args:
        in_features, hidden, out_features: sizes.
        omega0: wavelet frequency (> 0), keyword-only.
        s0: wavelet scale (>= 0; 0 gives a cosine), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    omega0: float = eqx.field(static=True)
    s0: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 omega0: float = 20.0, s0: float = 10.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        self.omega0 = _positive("the WIRE frequency omega0", omega0)
        self.s0 = _positive("the WIRE scale s0", s0, allow_zero=True)
        self.layers = self._default_layers(in_features, hidden, out_features, key, dtype)

    def activate(self, index: int, u: Array) -> Array:
        return jnp.cos(self.omega0 * u) * jnp.exp(-((self.s0 * u) ** 2))

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"omega0": self.omega0, "s0": self.s0}

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "RealWire":
        h = hyperparameters
        return cls(*_sizes(h), omega0=float(h["omega0"]), s0=float(h["s0"]), key=jax.random.key(0), dtype=dtype)


class Finer(DenseINR):
    """FINER: variable-periodic activations (Liu et al., "FINER: Flexible spectral-bias tuning in Implicit NEural
    Representation by Variable-periodic Activation Functions", CVPR 2024).

    z_l = sin(omega_l (|u_l| + 1) u_l),  u_l = W_l z_{l-1} + b_l   (the paper's variable-periodic activation),
    f(r) = W_L z_{L-1} + b_L.

    The local frequency omega (2|u| + 1) grows with |u|, so the range of the first layer's bias decides which
    frequencies the network starts with. Initialisation (SIREN's for the weights, as in the paper):
    first layer W ~ U(-1/fan_in, 1/fan_in); later layers and the output layer
    W ~ U(-sqrt(6/fan_in)/hidden_omega0, +sqrt(6/fan_in)/hidden_omega0); first-layer bias b ~ U(-k, k) with the
    paper's larger k (`first_bias_scale`, default 20, to check); other biases the linear-layer default
    U(-1/sqrt(fan_in), +1/sqrt(fan_in)) (as SIREN's PyTorch implementation leaves them). omega0 = 30 as in SIREN.

    Warning: the scale (|u| + 1) is differentiated through, following the paper's math (rho'(u) =
    omega (2|u| + 1) cos(omega (|u| + 1) u)); an implementation that treats it as a constant in the backward pass
    computes a different gradient (omega (|u| + 1) cos(...)) and a different NTK.

    Args:
        in_features, hidden, out_features: sizes.
        first_omega0, hidden_omega0: omega of the first / later layers (> 0), keyword-only.
        first_bias_scale: k of the first layer's bias U(-k, k) (>= 0), keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    first_omega0: float = eqx.field(static=True)
    hidden_omega0: float = eqx.field(static=True)
    first_bias_scale: float = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 first_omega0: float = 30.0, hidden_omega0: float = 30.0, first_bias_scale: float = 20.0,
                 key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        self.first_omega0 = _positive("FINER's first_omega0", first_omega0)
        self.hidden_omega0 = _positive("FINER's hidden_omega0", hidden_omega0)
        self.first_bias_scale = _positive("FINER's first_bias_scale", first_bias_scale, allow_zero=True)
        sizes = (in_features, *hidden, out_features)
        weight_bounds = (1.0 / in_features, *(math.sqrt(6.0 / n) / self.hidden_omega0 for n in sizes[1:-1]))
        bias_bounds = (self.first_bias_scale, *(1.0 / math.sqrt(n) for n in sizes[1:-1]))
        self.layers = _uniform_layers(key, sizes, weight_bounds, bias_bounds, dtype)

    def omega(self, index: int) -> float:
        return self.first_omega0 if index == 0 else self.hidden_omega0

    def activate(self, index: int, u: Array) -> Array:
        return jnp.sin(self.omega(index) * (jnp.abs(u) + 1.0) * u)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    def hyperparameters(self) -> dict:
        return super().hyperparameters() | {"first_omega0": self.first_omega0, "hidden_omega0": self.hidden_omega0,
                                            "first_bias_scale": self.first_bias_scale}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "Finer":
        h = hyperparameters
        return cls(*_sizes(h), first_omega0=float(h["first_omega0"]), hidden_omega0=float(h["hidden_omega0"]),
                   first_bias_scale=float(h["first_bias_scale"]), key=jax.random.key(0), dtype=dtype)  # fmt: skip


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
    return magnitude * jnp.cos(phase), magnitude * jnp.sin(phase)


def _complex_wire_arrays(key: PRNGKeyArray, in_features: int, hidden: tuple[int, ...], out_features: int, dtype):
    """(first, complex layers, output) of `ComplexWire`: every real array U(-1/sqrt(fan_in), +1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(in_features)
    spec = [((hidden[0], in_features), bound), ((hidden[0],), bound)]
    for n_in, n_out in zip(hidden[:-1], hidden[1:]):
        bound = 1.0 / math.sqrt(n_in)
        spec += [((n_out, n_in), bound), ((n_out, n_in), bound), ((n_out,), bound), ((n_out,), bound)]
    bound = 1.0 / math.sqrt(hidden[-1])
    spec += [((out_features, hidden[-1]), bound), ((out_features, hidden[-1]), bound), ((out_features,), bound)]
    arrays = _symmetric_uniforms(key, tuple(spec), jnp.dtype(dtype))
    first = Linear(*arrays[:2])
    layers = tuple(ComplexLinear(*arrays[i : i + 4]) for i in range(2, len(arrays) - 3, 4))
    return first, layers, RealPartLinear(*arrays[-3:])


class ComplexWire(eqx.Module):
    """WIRE with the complex Gabor wavelet (Saragadam et al., "WIRE: Wavelet Implicit Neural Representations",
    CVPR 2023).

    z_1 = psi(W_1 r + b_1)            real first layer (real coordinates in, complex activations out),
    z_l = psi(W_l z_{l-1} + b_l)      complex W_l, b_l (l = 2 .. L),
    f(r) = Re(W_out z_L) + b_out      complex W_out, real output (the paper takes the real part),
    psi(u) = exp(j omega0 u) exp(-|s0 u|²)   (the paper's complex Gabor wavelet), omega0 = 20, s0 = 10.

    Complex numbers are stored as separate real arrays (`weight_real`, `weight_imag`, ...), so Optax, checkpoints,
    `count_parameters` and the NTK see ordinary real parameters: a complex weight counts as two real parameters
    and its gradient as the pair (d/dRe, d/dIm). The imaginary part of the output bias is not stored (it never
    reaches Re(·)). Initialisation: no special scheme in the paper as we read it (to check); every real array (the
    real and the imaginary part of each complex one) is drawn from U(-1/sqrt(fan_in), +1/sqrt(fan_in)). Because a
    complex weight is two parameters, width 181 ≈ 256/sqrt(2) matches the parameter count of a real 256-wide
    network (198,558 for (181,) * 4).

    NTK: a complex layer's kernel term is Re[(D Dᴴ) ⊙ (conj(A Aᴴ) + 1)], which is not a sum of real
    (D Dᵀ) ⊙ (A Aᵀ + 1) terms but is one plus a "rotated" term (D' Dᵀ) ⊙ (A' Aᵀ): `structured_ntk_features` returns
    those groups, and the structured kernel (`inrdict.ntk`) and the matrix-free operator (`inrdict.ntk_operator`)
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

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (181,) * 4, out_features: int = 1, *,
                 omega0: float = 20.0, s0: float = 10.0, key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        self.omega0 = _positive("the WIRE frequency omega0", omega0)
        self.s0 = _positive("the WIRE scale s0", s0, allow_zero=True)
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

    def hyperparameters(self) -> dict:
        return {"in_features": int(self.in_features), "hidden": [int(h) for h in self.hidden],
                "out_features": int(self.out_features), "omega0": self.omega0, "s0": self.s0}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "ComplexWire":
        h = hyperparameters
        return cls(*_sizes(h), omega0=float(h["omega0"]), s0=float(h["s0"]), key=jax.random.key(0), dtype=dtype)

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
        groups = [(jnp.concatenate(z, axis=1), jnp.ones((n, 1), u.dtype))]
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
    return 0.5 * (kernel + kernel.T)


# ----------------------------------------------------------------------------------------------------------------
# Multiplicative filter networks
# ----------------------------------------------------------------------------------------------------------------


class FourierFilter(eqx.Module):
    """g(r) = sin(omega r + phi): omega (h, d), phi (h,) (MFN paper, FourierNet filter)."""

    omega: Float[Array, "h d"]
    phi: Float[Array, " h"]

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " h"]:
        return jnp.sin(self.omega @ r + self.phi)


class GaborFilter(eqx.Module):
    """g_j(r) = exp(-gamma_j / 2 ||r - mu_j||²) sin(omega_j r + phi_j) (MFN paper, GaborNet filter).

    omega (h, d), phi (h,), gamma (h,), mu (h, d)."""

    omega: Float[Array, "h d"]
    phi: Float[Array, " h"]
    gamma: Float[Array, " h"]
    mu: Float[Array, "h d"]

    def envelope(self, r: Float[Array, " d"]) -> Float[Array, " h"]:
        return jnp.exp(-0.5 * self.gamma * jnp.sum((r[None, :] - self.mu) ** 2, axis=1))

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " h"]:
        return self.envelope(r) * jnp.sin(self.omega @ r + self.phi)


_GAMMA_CHUNK = 256


@functools.partial(jax.jit, static_argnums=(2,))
def _gamma_chunk(key: PRNGKeyArray, shape_parameter: Array, dtype) -> Array:
    return jax.random.gamma(key, shape_parameter, (_GAMMA_CHUNK,), dtype)


def _gamma(key: PRNGKeyArray, shape_parameter: float, n: int, dtype) -> Float[Array, " n"]:
    """n draws from Gamma(shape_parameter, 1), in fixed-size chunks: `jax.random.gamma` (a rejection-sampling
    loop) takes seconds to compile, so it is compiled once per dtype rather than once per width."""
    keys = jax.random.split(key, -(-n // _GAMMA_CHUNK))
    shape_parameter = jnp.asarray(shape_parameter, dtype)
    return jnp.concatenate([_gamma_chunk(k, shape_parameter, dtype) for k in keys])[:n]


@functools.partial(jax.jit, static_argnums=tuple(range(2, 10)))
def _mfn_arrays(key, gammas, in_features, hidden, out_features, filter, input_scale, beta, domain, dtype):
    """(filters, layers) of `MFN`, drawn as its docstring says, given the Gabor precisions' Gamma(alpha/k, 1)
    draws `gammas` (jitted: one compile per configuration)."""
    k = len(hidden)
    bound = input_scale / math.sqrt(k * in_features)
    spec = []
    for width in hidden:  # per filter: omega, phi, and (Gabor) U(-1, 1) for the centres
        spec += [((width, in_features), bound), ((width,), math.pi), ((width, in_features), 1.0)]
    for n_in, n_out in zip(hidden, (*hidden[1:], out_features)):
        spec += [((n_out, n_in), math.sqrt(6.0 / n_in)), ((n_out,), 1.0 / math.sqrt(n_in))]
    arrays = _symmetric_uniforms(key, tuple(spec), dtype)
    filters = []
    for index in range(k):
        omega, phi, unit = arrays[3 * index : 3 * index + 3]
        if filter == "fourier":
            filters.append(FourierFilter(omega, phi))
        else:
            gamma = gammas[index] / beta
            mu = domain[0] + (unit + 1.0) * (0.5 * (domain[1] - domain[0]))  # U(low, high)
            filters.append(GaborFilter(omega * jnp.sqrt(gamma)[:, None], phi, gamma, mu))
    layers = tuple(Linear(w, b) for w, b in zip(arrays[3 * k :: 2], arrays[3 * k + 1 :: 2]))
    return tuple(filters), layers


class MFN(eqx.Module):
    """Multiplicative filter network (Fathony, Sahu, Willmott & Kolter, ICLR 2021), FourierNet or GaborNet.

    The paper's recursion (§3, its first equation; numbering to check), with k = len(hidden) filters:

        z_1 = g_1(r),   z_{i+1} = (W_i z_i + b_i) ⊙ g_{i+1}(r)  (i = 1 .. k-1),   f(r) = W_out z_k + b_out,

    FourierNet: g_i(r) = sin(omega_i r + phi_i); GaborNet:
    g_ij(r) = exp(-gamma_ij / 2 ||r - mu_ij||²) sin(omega_ij r + phi_ij). Products of sinusoids are sums of
    sinusoids, so f is a linear combination of Fourier (Gabor) atoms whose frequencies are sums ±omega_1 ± … ±
    omega_k (and whose envelope precisions are sums of gammas). Every filter parameter is trained.

    Initialisation (the paper's scheme as we read it; the details below are to check against it):

    * W_i, W_out ~ U(-sqrt(6/h), +sqrt(6/h)) with h the fan-in, so W z keeps unit variance when the filter outputs
      have variance 1/2 (a sine of uniform phase); biases, which the paper does not fix, the linear-layer
      default U(-1/sqrt(h), +1/sqrt(h));
    * phases phi ~ U(-pi, pi);
    * frequencies: the default linear init U(-1/sqrt(d), 1/sqrt(d)) scaled by input_scale / sqrt(k), i.e.
      omega ~ U(-a, a) with a = input_scale / sqrt(k d): the k-fold sums of frequencies then have the spread of a
      single layer scaled by input_scale. GaborNet multiplies each filter's frequency by sqrt(gamma_ij), so a
      narrow envelope carries a proportionally higher frequency;
    * GaborNet envelopes: gamma ~ Gamma(alpha / k, rate beta), so the product of the k envelopes has precision
      ~ Gamma(alpha, beta); centres mu ~ U(domain)^d over the input domain.

    Defaults for images: GaborNet (the paper's better image model), input_scale = 256, alpha = 6, beta = 1 (to
    check), domain = [-1, 1] (inrdict's fitting grid; the NTK grid is [0, 1): pass domain=(0.0, 1.0) there).

    Args:
        in_features, hidden, out_features: sizes; hidden[i] is the width of filter i + 1 (k = len(hidden)).
        filter: "fourier" or "gabor" (anything else raises `InrdictError`), keyword-only.
        input_scale: frequency scale (> 0), keyword-only.
        alpha, beta: Gamma shape (total over the k filters) and rate of the Gabor precisions (> 0), keyword-only.
        domain: (low, high) of the input coordinates, for the Gabor centres, keyword-only.
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
    """

    filters: tuple[FourierFilter, ...] | tuple[GaborFilter, ...]
    layers: tuple[Linear, ...]  # k - 1 hidden linear layers, then the output layer
    frozen_fields: ClassVar[tuple[str, ...]] = ()  # every filter parameter is trained
    filter: MFNFilter = eqx.field(static=True)
    input_scale: float = eqx.field(static=True)
    alpha: float = eqx.field(static=True)
    beta: float = eqx.field(static=True)
    domain: tuple[float, float] = eqx.field(static=True)

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (256,) * 4, out_features: int = 1, *,
                 filter: str = "gabor", input_scale: float = 256.0, alpha: float = 6.0, beta: float = 1.0,
                 domain: tuple[float, float] = (-1.0, 1.0), key: PRNGKeyArray, dtype=jnp.float32):  # fmt: skip
        hidden = _check_sizes(in_features, hidden, out_features)
        if filter not in ("fourier", "gabor"):
            raise InrdictError(f"unknown MFN filter {filter!r}: use 'fourier' or 'gabor'")
        self.filter = filter
        self.input_scale = _positive("the MFN input_scale", input_scale)
        self.alpha = _positive("the MFN Gamma shape alpha", alpha)
        self.beta = _positive("the MFN Gamma rate beta", beta)
        low, high = (float(x) for x in domain)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise InrdictError(f"the MFN input domain must be an interval (low, high) with low < high, got {domain}")
        self.domain = (low, high)
        dtype = jnp.dtype(dtype)  # one jit cache entry for jnp.float32 and np.dtype("float32") alike
        uniform_key, gamma_key = jax.random.split(key)
        gammas = []
        if filter == "gabor":
            gamma_keys = jax.random.split(gamma_key, len(hidden))
            gammas = [_gamma(k, self.alpha / len(hidden), width, dtype) for k, width in zip(gamma_keys, hidden)]
        self.filters, self.layers = _mfn_arrays(uniform_key, gammas, in_features, hidden, out_features, filter,
                                                self.input_scale, self.beta, self.domain, dtype)  # fmt: skip

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " out"]:
        z = self.filters[0](r)
        for layer, g in zip(self.layers[:-1], self.filters[1:]):
            z = layer(z) * g(r)
        return self.layers[-1](z)

    @property
    def in_features(self) -> int:
        return self.filters[0].omega.shape[1]

    @property
    def out_features(self) -> int:
        return self.layers[-1].out_features

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(g.phi.shape[0] for g in self.filters)

    def hyperparameters(self) -> dict:
        return {"in_features": int(self.in_features), "hidden": [int(h) for h in self.hidden],
                "out_features": int(self.out_features), "filter": self.filter, "input_scale": self.input_scale,
                "alpha": self.alpha, "beta": self.beta, "domain": list(self.domain)}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "MFN":
        h = hyperparameters
        return cls(*_sizes(h), filter=h["filter"], input_scale=float(h["input_scale"]), alpha=float(h["alpha"]),
                   beta=float(h["beta"]), domain=tuple(float(x) for x in h["domain"]), key=jax.random.key(0),
                   dtype=dtype)  # fmt: skip

    def structured_ntk_features(self, points: Float[Array, "n d"]) -> list[tuple[Array, Array]]:
        """Pairs (A, D) with Theta = sum (D Dᵀ) ⊙ (A Aᵀ + 1) (see `inrdict.ntk.layer_features`).

        With u_i = W_i z_i + b_i, delta_i = df/dz_i and e_i = df/dg_i (e_1 = delta_1, e_{i+1} = delta_{i+1} ⊙ u_i):

        * linear layer i: (z_i, delta_{i+1} ⊙ g_{i+1}); output layer: (z_k, 1);
        * sin(omega r + phi) (its phi acts as the bias): (r, e ⊙ cos(omega r + phi)), times the envelope for Gabor;
        * Gabor gamma_j (a per-unit vector): (no columns, e ⊙ g ⊙ (-||r - mu_j||² / 2));
        * Gabor mu_{:, l}, one per input coordinate l: (no columns, e ⊙ g ⊙ gamma ⊙ (r_l - mu_{:, l})).
        """
        _require_single_output(self)
        dtype = self.layers[-1].weight.dtype
        points = jnp.asarray(points, dtype)  # (n, d)
        n = points.shape[0]
        filters = [jax.vmap(g)(points) for g in self.filters]  # each (n, h_i)
        zs, us = [filters[0]], []
        for layer, g in zip(self.layers[:-1], filters[1:]):
            us.append(zs[-1] @ layer.weight.T + layer.bias[None, :])  # (n, h_{i+1})
            zs.append(us[-1] * g)
        out = self.layers[-1]
        pairs = [(zs[-1], jnp.ones((n, 1), dtype))]
        delta = jnp.ones((n, 1), dtype) @ out.weight  # (n, h_k): df/dz_k
        for i in reversed(range(len(self.layers) - 1)):  # layer i maps z_i to u_i, filter i + 1 multiplies it
            pairs += self._filter_pairs(self.filters[i + 1], points, delta * us[i])
            d_u = delta * filters[i + 1]  # (n, h_{i+1}): df/du_i
            pairs.append((zs[i], d_u))
            delta = d_u @ self.layers[i].weight  # (n, h_i)
        pairs += self._filter_pairs(self.filters[0], points, delta)
        return pairs

    @staticmethod
    def _filter_pairs(g, points: Array, e: Array) -> list[tuple[Array, Array]]:
        """NTK pairs of one filter's parameters, given e = df/dg (n, h)."""
        phase = points @ g.omega.T + g.phi[None, :]  # (n, h)
        if isinstance(g, FourierFilter):
            return [(points, e * jnp.cos(phase))]
        offsets = points[:, None, :] - g.mu[None, :, :]  # (n, h, d)
        envelope = jnp.exp(-0.5 * g.gamma[None, :] * jnp.sum(offsets**2, axis=2))  # (n, h)
        e_g = e * envelope * jnp.sin(phase)  # e ⊙ g
        no_columns = jnp.zeros((points.shape[0], 0), points.dtype)
        pairs = [(points, e * envelope * jnp.cos(phase)),
                 (no_columns, e_g * (-0.5 * jnp.sum(offsets**2, axis=2)))]  # fmt: skip
        pairs += [(no_columns, e_g * g.gamma[None, :] * offsets[:, :, l]) for l in range(points.shape[1])]
        return pairs


# ----------------------------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------------------------

FAMILY_CLASSES = (GaussINR, SincINR, RealWire, Finer, ComplexWire, MFN)

# Command-line names → constructors `(in_features, hidden, out_features, *, key, **knobs) -> model`; the classes'
# keyword defaults are each paper's recommended settings for images (2 → … → 1).
FAMILIES: dict[str, type] = {
    "gauss": GaussINR,
    "wire": ComplexWire,
    "wire_real": RealWire,
    "finer": Finer,
    "sinc": SincINR,
    "mfn": MFN,
}


# ----------------------------------------------------------------------------------------------------------------
# Every INR by name: the paper's models and the families above, through one constructor
# ----------------------------------------------------------------------------------------------------------------


def _ffn(in_features: int = 2, hidden: tuple[int, ...] = (256,) * 3, out_features: int = 1, *, sigma: float = 10.0,
         n_features: int = 256, key: PRNGKeyArray, dtype=jnp.float32) -> FFN:  # fmt: skip
    """FFN with random Fourier features B = sigma N(0, 1) of shape (n_features, in_features) (SPEC §3; sigma = 10,
    T = 256 as the paper's Fig. 2). One key, split into B's and the MLP's."""
    b_key, mlp_key = jax.random.split(key)
    B = gaussian_frequencies(b_key, int(n_features), in_features, _positive("the FFN sigma", sigma))
    return FFN(B, hidden, out_features, key=mlp_key, dtype=dtype)


# Name → constructor `(in_features, hidden, out_features, *, key, dtype, **knobs)`; keyword defaults = recommended.
MODELS: dict[str, object] = {"relu": ReluMLP, "ffn": _ffn, "siren": Siren, **FAMILIES}
MODEL_NAMES = tuple(MODELS)
# Each model's main frequency knob (None: it has none), the one a frequency sweep varies.
FREQUENCY_KNOB: dict[str, str | None] = {
    "relu": None, "ffn": "sigma", "siren": "first_omega0", "gauss": "sigma", "wire": "omega0", "wire_real": "omega0",
    "finer": "first_omega0", "sinc": "omega", "mfn": "input_scale",
}  # fmt: skip
DEFAULT_DEPTH = {"ffn": 3}  # hidden layers: the paper's FFN has 3, every other model 4


def model_knobs(name: str) -> dict[str, object]:
    """The knobs of model `name` and their recommended values (the constructor's keyword-only defaults)."""
    _check_name(name)
    parameters = inspect.signature(MODELS[name]).parameters.values()
    return {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY and p.name not in ("key", "dtype")}


def _check_name(name: str) -> None:
    if name not in MODELS:
        raise InrdictError(f"unknown INR family {name!r}: choose one of {', '.join(MODELS)}")


def make_model(name: str, in_features: int = 2, hidden: tuple[int, ...] | None = None, out_features: int = 1, *,
               key: PRNGKeyArray, dtype=jnp.float32, **knobs) -> eqx.Module:  # fmt: skip
    """Model `name` (one of `MODEL_NAMES`) with `knobs` overriding its recommended settings (`model_knobs`).

    Args:
        name: "relu", "ffn", "siren" (`inrdict.models`; SIREN in the "ntk" convention unless `convention="fit"`) or
            a family of this module ("gauss", "wire", "wire_real", "finer", "sinc", "mfn").
        in_features, out_features: sizes.
        hidden: widths (default: `matched_hidden(name, ...)`, about the paper's SIREN's 198,401 parameters).
        key: PRNG key, keyword-only.
        dtype: parameter dtype.
        knobs: the model's keyword settings, e.g. `omega0=20.0` for "wire".

    Raises:
        InrdictError: unknown name, a knob the model does not have, or a bad value.
    """
    allowed = model_knobs(name)
    unknown = sorted(set(knobs) - set(allowed))
    if unknown:
        have = ", ".join(allowed) if allowed else "none"
        raise InrdictError(f"{name} has no setting {', '.join(map(repr, unknown))}: its settings are {have}")
    if hidden is None:
        hidden = matched_hidden(name, in_features=in_features, out_features=out_features, **knobs)
    return MODELS[name](in_features, tuple(hidden), out_features, key=key, dtype=dtype, **knobs)


def _trained_size(shapes) -> int:
    """Trained scalars of a model of `jax.ShapeDtypeStruct` leaves (from `jax.eval_shape`): all inexact leaves
    except those under the class's `frozen_fields`."""

    def size(tree) -> int:
        leaves = jax.tree_util.tree_leaves(tree)
        return sum(math.prod(leaf.shape) for leaf in leaves if jnp.issubdtype(leaf.dtype, jnp.inexact))

    return size(shapes) - sum(size(getattr(shapes, name)) for name in getattr(type(shapes), "frozen_fields", ()))


def matched_hidden(
    family: str, target_parameters: int = SIREN_PARAMETERS, depth: int | None = None, *, in_features: int = 2,
    out_features: int = 1, **knobs,
) -> tuple[int, ...]:  # fmt: skip
    """Equal widths (h,) * depth whose trained-parameter count is closest to `target_parameters`.

    `family` is any of `MODEL_NAMES`; depth defaults to 4 hidden layers (3 for "ffn", as the paper's FFN). Counts
    come from `jax.eval_shape` of the constructor (nothing is allocated). For 2 → … → 1: relu / siren / gauss /
    finer / sinc / wire_real (256,)*4 = 198,401; wire (181,)*4 = 198,558; mfn (253,)*4 = 199,112 (Gabor),
    (255,)*4 = 199,156 (Fourier, `filter="fourier"`); ffn (T = 256) (211,)*3 = 197,919.

    Raises:
        InrdictError: unknown family, non-positive depth or target.
    """
    _check_name(family)
    depth = DEFAULT_DEPTH.get(family, 4) if depth is None else depth
    if depth < 1 or target_parameters < 1:
        raise InrdictError(f"depth and target_parameters must be positive, got {depth=}, {target_parameters=}")
    constructor = MODELS[family]

    def count(width: int) -> int:
        shapes = jax.eval_shape(
            lambda: constructor(in_features, (width,) * depth, out_features, key=jax.random.key(0), **knobs)
        )
        return _trained_size(shapes)

    # With equal widths every family's count is a quadratic a w² + b w + c (dense layers w², filters and
    # biases w): read it off three tiny widths, solve for the target, check the neighbouring integers.
    c1, c2, c3 = count(1), count(2), count(3)
    a2 = c3 - 2 * c2 + c1  # 2a
    b = c2 - c1 - 1.5 * a2
    c = c1 - a2 / 2 - b
    if a2 == 0:
        root = (target_parameters - c) / b
    else:
        root = (-b + math.sqrt(b * b - 2 * a2 * (c - target_parameters))) / a2
    candidates = {max(1, math.floor(root) + offset) for offset in (-1, 0, 1, 2)}
    best = min(candidates, key=lambda w: (abs(count(w) - target_parameters), w))
    return (best,) * depth

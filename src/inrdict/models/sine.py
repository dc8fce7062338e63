"""sin and cos for the sinusoidal INRs, vectorised on the CPU.

XLA's CPU backend evaluates `jnp.sin` / `jnp.cos` one element at a time: 4–6 ns per float32 element on the 2-core
development machine, against 0.35 ns for `jnp.exp` or `jnp.tanh`, so a SIREN spent more time in its activations than
in its matrix products (`benchmarks/sine.py`). Here, for float32 on a CPU, the same functions are written as
elementwise arithmetic that XLA fuses and vectorises (0.35–0.4 ns per element):

    x = j π/2 + r,  j = round(2x/π),  |r| ≤ π/4,
    r computed as ((x − j c₁) − j c₂) − j c₃ with c₁ + c₂ + c₃ = π/2 (Cody–Waite: j c₁ and j c₂ are exact),
    sin x = ±sin r or ±cos r by j mod 4, with the degree-7 and degree-8 minimax polynomials of Cephes'
    `sinf.c` / `cosf.c` on [−π/4, π/4] (S. L. Moshier, Cephes Math Library; constants only).

Absolute error ≤ 1e-7 for |x| ≤ 1e5 (tested; `jnp.sin` is within 3e-8), far below the rounding of the argument
itself (ω0 u in float32 is off by |ω0 u| · 6e-8). Derivatives are the pair's own (custom JVP: d sin = cos, d cos =
−sin), so every order of differentiation (the NTK, second-order MAML) sees the same functions. Other dtypes
(float64 spectra) and other backends (a GPU's sin is already vectorised) use `jnp.sin` / `jnp.cos` unchanged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

_TWO_OVER_PI = np.float32(2 / np.pi)
_C1, _C2, _C3 = np.float32(1.5703125), np.float32(4.837512969970703125e-4), np.float32(7.54978995489188216e-8)
_SIN = (np.float32(-1.9515295891e-4), np.float32(8.3321608736e-3), np.float32(-1.6666654611e-1))
_COS = (np.float32(2.443315711809948e-5), np.float32(-1.388731625493765e-3), np.float32(4.166664568298827e-2))


def _vectorised(x: Array, quarter_turns: int) -> Array:
    """sin(x + quarter_turns · π/2) for float32 x, by the reduction of the module docstring."""
    j = jnp.round(x * _TWO_OVER_PI)
    r = ((x - j * _C1) - j * _C2) - j * _C3
    z = r * r
    s = r + r * z * ((_SIN[0] * z + _SIN[1]) * z + _SIN[2])
    c = np.float32(1) - np.float32(0.5) * z + z * z * ((_COS[0] * z + _COS[1]) * z + _COS[2])
    q = (j.astype(jnp.int32) + quarter_turns) & 3
    value = jnp.where((q & 1) == 0, s, c)
    return jnp.where(q >= 2, -value, value)


def _fast(x: Array) -> bool:
    return x.dtype == jnp.float32 and jax.default_backend() == "cpu"


@jax.custom_jvp
def sin(x: ArrayLike) -> Array:
    """Elementwise sine (module docstring): vectorised for float32 on a CPU, `jnp.sin` otherwise."""
    x = jnp.asarray(x)
    return _vectorised(x, 0) if _fast(x) else jnp.sin(x)


@jax.custom_jvp
def cos(x: ArrayLike) -> Array:
    """Elementwise cosine (module docstring): vectorised for float32 on a CPU, `jnp.cos` otherwise."""
    x = jnp.asarray(x)
    return _vectorised(x, 1) if _fast(x) else jnp.cos(x)


@sin.defjvp
def _sin_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return sin(x), cos(x) * dx


@cos.defjvp
def _cos_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return cos(x), -sin(x) * dx

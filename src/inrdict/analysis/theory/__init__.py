"""Theorem 1 of Yüce et al. (CVPR 2022) and the Jacobi–Anger view of SIREN, checked numerically (SPEC §1, §7).

Everything here is float64 NumPy/SciPy: no JAX, no training, no plotting. Functions return numbers and arrays
that an experiment module can tabulate.

Conventions (one place, used by every function below)
-----------------------------------------------------

* **Frequencies are in cycles per unit.** The input mapping is

      gamma(r) = sin(2 pi Omega r + phi),   Omega in R^{T x D} (rows Omega_t = mapping frequencies), phi in R^T,

  so the paper's angular matrix is ``2 pi Omega``. An integer row is exactly periodic on [0, 1)^D, and a
  frequency vector nu in Z^D is DFT bin ``nu mod n`` of the periodic grid (negative frequencies wrap to the top
  half of the axis).
* **Periodic grid.** ``periodic_grid(n, D)``: points ``j / n``, j = 0..n-1 per axis (``linspace(0, 1, n+1)[:-1]``,
  the SPEC §2 NTK grid), ``meshgrid(indexing="ij")`` flattened row-major, so a signal reshapes to ``(n,) * D``.
* **Depth L counts weight matrices (the paper's Eq. 1).** ``f(r) = W_L z_{L-1} + b_L``,
  ``z_l = rho(W_l z_{l-1} + b_l)`` for l = 1..L-1, ``z_0 = gamma(r)``: L-1 nonlinear layers after the mapping and
  one linear read-out. L = 1 is a linear combination of the mapping itself. With ``rho`` a polynomial of degree K
  each ``z_l`` is a polynomial of degree K^l in the entries of ``z_0``, which is why the bound reads K^(L-1).
* **Theorem 1.** With ``rho(x) = sum_{k=0}^K alpha_k x^k`` the network is a finite sum of sinusoids whose
  frequencies lie in ``H(Omega) = { sum_t s_t Omega_t : s in Z^T, ||s||_1 <= K^(L-1) }``. Proof sketch: write
  ``sin(theta_t) = (e^{i theta_t} - e^{-i theta_t}) / 2i``; a monomial of total degree <= R in the ``z_0`` entries
  expands into exponentials ``e^{i <s, theta>}`` with ``||s||_1 <= R``.
* **Jacobi–Anger.** ``e^{i a sin theta} = sum_{k in Z} J_k(a) e^{i k theta}`` (J_k: Bessel function of the first kind,
  ``scipy.special.jv``; ``J_{-k} = (-1)^k J_k``). For the two-layer sine network (``SineNetwork``)

      f(r) = b2 + sum_m w2_m sin( sum_t W1_{m,t} sin(theta_t(r)) + b1_m ),   theta_t(r) = 2 pi <Omega_t, r> + phi_t,

  taking the imaginary part of ``e^{i b1_m} prod_t e^{i W1_{m,t} sin theta_t}`` gives

      f(r) = b2 + sum_m w2_m sum_{s in Z^T} [prod_t J_{s_t}(W1_{m,t})] sin( <s, theta(r)> + b1_m )
           = b2 + sum_{s in Z^T} Im( A_s e^{2 pi i <Omega^T s, r>} ),
      A_s = e^{i <s, phi>} sum_m w2_m e^{i b1_m} prod_t J_{s_t}(W1_{m,t}).

  With phi = 0 and b1 = 0 this is SPEC §1's formula ``sum_m sum_s w2_m prod_t J_{s_t}(W1_{m,t}) sin(<s, omega> r)``.
  The inner weights W1 are modulation indices: J_k(a) is negligible once |k| exceeds |a| by a few units.

SIREN mapping (see ``sine_network_from_siren``): a SIREN ``D -> T -> M -> 1`` is a ``SineNetwork`` with
``Omega = first_omega0 W_0 / (2 pi)``, ``phi = first_omega0 b_0``, ``W1 = hidden_omega0 W_1``,
``b1 = hidden_omega0 b_1``, ``w2 = W_2[0]``, ``b2 = b_2[0] + output_offset``.
"""

from inrdict.analysis.theory._checks import (
    DEFAULT_SUPPORT_THRESHOLD,
    MAX_ENUMERATED,
    Activation,
    ArrayInput,
    Count,
    Scalar,
)  # fmt: skip
from inrdict.analysis.theory.energy import (
    dft_energy,
    energy_outside_support,
    measured_support_size,
    support_growth,
    support_mask,
    theorem1_check,
)  # fmt: skip
from inrdict.analysis.theory.polynomial import (
    DenseINRParams,
    evaluate_inr,
    init_inr,
    periodic_grid,
    polynomial_activation,
    polynomial_degree,
    polynomial_inr,
    sample_inr,
)  # fmt: skip
from inrdict.analysis.theory.sine import (
    HarmonicComparison,
    SineNetwork,
    alias_free_samples,
    bessel_harmonic_coefficients,
    compare_harmonics,
    evaluate_sinusoids,
    harmonic_amplitudes,
    jacobi_anger_coefficients,
    jacobi_anger_errors,
    jacobi_anger_series,
    random_sine_network,
    sine_network_from_siren,
)  # fmt: skip
from inrdict.analysis.theory.support import (
    harmonic_support,
    lattice_point_count,
    lattice_points,
    lattice_points_brute_force,
    min_grid_size,
    theorem1_order,
)  # fmt: skip

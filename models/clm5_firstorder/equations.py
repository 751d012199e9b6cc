"""Equations of the CLM5 CENTURY-based first-order cascade, single layer.

Pure, vectorised numpy functions without harness imports. Every array argument is broadcast
along a leading batch axis of length ``n_sets``. Units: pools [g C m-2], fluxes
[g C m-2 yr-1], rate constants [yr-1], temperature [degC], water potential [MPa] unless stated.
Pool order is ``POOL_NAMES``; transfer matrices are indexed ``a[:, receiver, donor]``.

The model is linear, ``dX/dt = B I + A xi K X`` (spec ``docs/models/clm5_firstorder.md``,
sections (c) and (g)).

References
----------
Parton, W.J. et al. (1988) Biogeochemistry 5, 109-131. https://doi.org/10.1007/BF02180320
Koven, C.D. et al. (2013) Biogeosciences 10, 7109-7131. https://doi.org/10.5194/bg-10-7109-2013
Lawrence, D.M. et al. (2019) J. Adv. Model. Earth Syst. 11, 4245-4287.
https://doi.org/10.1029/2018MS001583
Cosby, B.J. et al. (1984) Water Resour. Res. 20, 682-690. https://doi.org/10.1029/WR020i006p00682
"""

from __future__ import annotations

import numpy as np

from ..soil_water import MPA_PER_MM, cosby_parameters, moisture_scalar, soil_water_potential  # noqa: F401

POOL_NAMES = ("cwd", "l1", "l2", "l3", "s1", "s2", "s3")
CWD, L1, L2, L3, S1, S2, S3 = range(len(POOL_NAMES))

#: reference temperature of the CENTURY normalisation and of catanf's denominator [degC]
T_NORMALISATION = 15.0
T_CATANF_REF = 30.0
#: CLM's Q10 reference temperature [degC]
T_Q10_REF = 25.0
#: water potential per mm of water head [MPa mm-1]


def catanf(temperature):
    """CENTURY arctangent temperature function.

    Parameters
    ----------
    temperature : array_like
        Soil temperature. [degC]

    Returns
    -------
    ndarray
        ``11.75 + (29.7/pi) atan(pi 0.031 (T - 15.4))``. [1]
    """
    t = np.asarray(temperature, dtype=float)
    return 11.75 + (29.7 / np.pi) * np.arctan(np.pi * 0.031 * (t - 15.4))


def q10_normalisation(q10):
    """CENTURY normalisation N of CLM's Q10 function (``normalize_q10_to_century_tfunc``).

    Parameters
    ----------
    q10 : array_like
        Temperature sensitivity above 0 degC. [1]

    Returns
    -------
    ndarray
        ``N = [catanf(15)/catanf(30)] / Q10**((15 - 25)/10)``; 0.820595 at Q10 = 1.5. [1]
    """
    q10 = np.asarray(q10, dtype=float)
    century = catanf(T_NORMALISATION) / catanf(T_CATANF_REF)
    return century * np.exp(-np.log(q10) * (T_NORMALISATION - T_Q10_REF) / 10.0)


def temperature_scalar(temperature, q10, q10_froz, normalize_q10=True, use_century_tfunc=False):
    """Temperature rate scalar r_T.

    Parameters
    ----------
    temperature : array_like
        Soil temperature. [degC]
    q10, q10_froz : array_like
        Q10 above and below 0 degC (reference 25 degC). [1]
    normalize_q10 : bool
        Multiply by the CENTURY normalisation ``q10_normalisation(q10)`` (CLM5 default).
    use_century_tfunc : bool
        Use ``max(catanf(T)/catanf(30), 0.01)`` instead of the Q10 function (no N).

    Returns
    -------
    ndarray
        r_T. [1]

    Notes
    -----
    ``r_T = N Q10**((T - 25)/10)`` for T >= 0 and ``N Q10**(-2.5) Q10_froz**(T/10)`` for T < 0,
    with N = 1 when ``normalize_q10`` is off.
    """
    t = np.asarray(temperature, dtype=float)
    if use_century_tfunc:
        return np.maximum(catanf(t) / catanf(T_CATANF_REF), 0.01)
    q10 = np.asarray(q10, dtype=float)
    ln_q10 = np.log(q10)
    # one exp of the branch's exponent (a power per branch costs 4x more on large batches)
    exponent = np.where(t >= 0.0, ln_q10 * (t - T_Q10_REF) / 10.0,
                        ln_q10 * (-T_Q10_REF / 10.0) + np.log(np.asarray(q10_froz, dtype=float)) * (t / 10.0))
    r_t = np.exp(exponent)
    return r_t * q10_normalisation(q10) if normalize_q10 else r_t


def s1_respired_fraction(sand):
    """Respired fraction t of active SOM decomposition, the only texture effect on the cascade.

    Parameters
    ----------
    sand : array_like
        Sand content. [%]

    Returns
    -------
    ndarray
        ``t = 0.85 - 0.0068 (100 - sand)``: S1 retains ``1 - t``, 0.15 at 100 % and 0.83 at
        0 % sand. [1]
    """
    return 0.85 - 0.0068 * (100.0 - np.asarray(sand, dtype=float))


def s1_to_s2_fraction(sand, f_s1s3):
    """CLM's S1 -> S2 transfer coefficient ``A[S2, S1] = 1 - t - A[S3, S1]``.

    Parameters
    ----------
    sand : array_like
        Sand content. [%]
    f_s1s3 : array_like
        S1 -> S3 transfer coefficient (0.004 in CLM, independent of sand). [1]

    Returns
    -------
    ndarray
        ``1 - t(sand) - f_s1s3``, so S1 retains ``1 - t`` in all. [1]
    """
    return 1.0 - s1_respired_fraction(sand) - np.asarray(f_s1s3, dtype=float)


def transfer_matrix(f_l1s1, f_l2s1, f_l3s2, f_s1s2, f_s1s3, f_s2s1, f_s2s3, f_s3s1, cwd_fcel, cue_scale):
    """Transfer matrix A (-1 on the diagonal) with ``cue_scale`` on every litter/SOM step.

    Parameters
    ----------
    f_l1s1, f_l2s1, f_l3s2, f_s1s2, f_s1s3, f_s2s1, f_s2s3, f_s3s1 : array_like, shape (n_sets,)
        Unscaled fractions of the donor's outflux reaching the receiver, ``(1 - rf) pathfrac``. [1]
    cwd_fcel : array_like, shape (n_sets,)
        Fraction of CWD fragmentation entering L2 (the rest enters L3); not scaled. [1]
    cue_scale : array_like, shape (n_sets,)
        Multiplier on every step out of L1-L3 and S1-S3 (spec's dagger steps). [1]

    Returns
    -------
    ndarray, shape (n_sets, 7, 7)
        ``a[:, receiver, donor]``. [1]
    """
    s = np.atleast_1d(np.asarray(cue_scale, dtype=float))
    cwd_fcel = np.asarray(cwd_fcel, dtype=float)
    steps = {
        (L2, CWD): cwd_fcel,
        (L3, CWD): 1.0 - cwd_fcel,
        (S1, L1): s * f_l1s1,
        (S1, L2): s * f_l2s1,
        (S2, L3): s * f_l3s2,
        (S2, S1): s * f_s1s2,
        (S3, S1): s * f_s1s3,
        (S1, S2): s * f_s2s1,
        (S3, S2): s * f_s2s3,
        (S1, S3): s * f_s3s1,
    }
    n_pools = len(POOL_NAMES)
    a = np.zeros((s.shape[0], n_pools, n_pools))
    a[:, np.arange(n_pools), np.arange(n_pools)] = -1.0
    for (receiver, donor), value in steps.items():
        a[:, receiver, donor] = value
    return a


def input_vector(c_input, f_wood, f_lab, f_cel, f_lig):
    """Carbon input by pool, ``B I``.

    Parameters
    ----------
    c_input : array_like, shape (n_sets,)
        Total plant carbon input I. [g C m-2 yr-1]
    f_wood : array_like, shape (n_sets,)
        Woody fraction, entering CWD. [1]
    f_lab, f_cel, f_lig : array_like, shape (n_sets,)
        Split of the non-woody input between L1, L2 and L3 (sum 1). [1]

    Returns
    -------
    ndarray, shape (n_sets, 7)
        ``I (f_w, (1-f_w) f_lab, (1-f_w) f_cel, (1-f_w) f_lig, 0, 0, 0)``. [g C m-2 yr-1]
    """
    c_input = np.atleast_1d(np.asarray(c_input, dtype=float))
    litter = (1.0 - np.asarray(f_wood, dtype=float)) * c_input
    inputs = np.zeros((c_input.shape[0], len(POOL_NAMES)))
    inputs[:, CWD] = f_wood * c_input
    inputs[:, L1] = f_lab * litter
    inputs[:, L2] = f_cel * litter
    inputs[:, L3] = f_lig * litter
    return inputs


def retained_fractions(a):
    """Fraction of each donor's outflux that stays in the system, ``sum_{r != d} A[r, d]``.

    Parameters
    ----------
    a : ndarray, shape (n_sets, 7, 7)
        Transfer matrix. [1]

    Returns
    -------
    ndarray, shape (n_sets, 7)
        Retained fraction per donor (1 for CWD); the rest is respired. [1]
    """
    return np.einsum("nrd->nd", a) + 1.0  # einsum: 3x faster than sum(axis=-2) here


def loop_determinant(a):
    """Determinant Delta of the S1-S2-S3 recycling loops.

    Parameters
    ----------
    a : ndarray, shape (n_sets, 7, 7)
        Transfer matrix. [1]

    Returns
    -------
    ndarray, shape (n_sets,)
        ``1 - a12 a21 - a13 a31 - a13 a32 a21`` with ``a21 = A[S2, S1]``, ``a31 = A[S3, S1]``,
        ``a12 = A[S1, S2]``, ``a32 = A[S3, S2]``, ``a13 = A[S1, S3]``; positive whenever every
        retained fraction is below 1. [1]
    """
    a21, a31, a12, a32, a13 = a[:, S2, S1], a[:, S3, S1], a[:, S1, S2], a[:, S3, S2], a[:, S1, S3]
    return 1.0 - a12 * a21 - a13 * a31 - a13 * a32 * a21


def steady_state(inputs, a, k, xi):
    """Explicit steady state ``X* = -(A xi K)^-1 B I`` of the cascade.

    Parameters
    ----------
    inputs : ndarray, shape (n_sets, 7)
        ``B I``. [g C m-2 yr-1]
    a : ndarray, shape (n_sets, 7, 7)
        Transfer matrix with the cascade's structure (CWD -> L2/L3, L1/L2 -> S1, L3 -> S2,
        S1 <-> S2 -> S3 -> S1). [1]
    k : ndarray, shape (n_sets, 7)
        Base decay rates ``1/tau``. [yr-1]
    xi : ndarray, shape (n_sets,)
        Environmental rate scalar, > 0. [1]

    Returns
    -------
    ndarray, shape (n_sets, 7)
        Steady-state pools. [g C m-2]

    Notes
    -----
    Spec section (g): litter outfluxes equal their inputs ``F_i`` (CWD passes all its carbon on);
    ``u_1 = A[S1,L1] F_1 + A[S1,L2] F_2``, ``u_2 = A[S2,L3] F_3``;
    ``Phi_1 = [u_1 + (a12 + a13 a32) u_2]/Delta``, ``Phi_2 = u_2 + a21 Phi_1``,
    ``Phi_3 = a31 Phi_1 + a32 Phi_2``; every pool is ``Phi_i / (xi k_i)``.
    """
    phi = np.empty_like(inputs)
    phi[:, CWD] = inputs[:, CWD]
    for litter in (L1, L2, L3):
        phi[:, litter] = inputs[:, litter] + a[:, litter, CWD] * phi[:, CWD]
    u1 = a[:, S1, L1] * phi[:, L1] + a[:, S1, L2] * phi[:, L2]
    u2 = a[:, S2, L3] * phi[:, L3]
    a21, a31, a12, a32, a13 = a[:, S2, S1], a[:, S3, S1], a[:, S1, S2], a[:, S3, S2], a[:, S1, S3]
    phi[:, S1] = (u1 + (a12 + a13 * a32) * u2) / loop_determinant(a)
    phi[:, S2] = u2 + a21 * phi[:, S1]
    phi[:, S3] = a31 * phi[:, S1] + a32 * phi[:, S2]
    return phi / (xi[:, None] * k)


def tendencies(pools, inputs, a, k, xi):
    """Right-hand side ``dX/dt = B I + A xi K X`` and the carbon fluxes.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 7)
        Pool sizes X. [g C m-2]
    inputs : ndarray, shape (n_sets, 7)
        ``B I``. [g C m-2 yr-1]
    a : ndarray, shape (n_sets, 7, 7)
        Transfer matrix. [1]
    k : ndarray, shape (n_sets, 7)
        Base decay rates. [yr-1]
    xi : ndarray, shape (n_sets,)
        Environmental rate scalar. [1]

    Returns
    -------
    dpools_dt : ndarray, shape (n_sets, 7)
        [g C m-2 yr-1]
    fluxes : dict of ndarray, shape (n_sets,)
        ``respiration`` R_h = sum_d (1 - e_d) Phi_d; ``uptake`` = sum_{d != CWD} Phi_d;
        ``growth`` = sum_{d != CWD} e_d Phi_d (so growth/uptake is cue_bulk); ``leaching`` = 0.
        ``e_d`` is the retained fraction and ``Phi_d = xi k_d X_d`` the decomposition flux.
        [g C m-2 yr-1]
    """
    phi = xi[:, None] * k * pools
    dpools_dt = inputs + np.matmul(a, phi[:, :, None])[:, :, 0]
    retained = retained_fractions(a)
    fluxes = {
        "uptake": phi[:, CWD + 1 :].sum(axis=1),
        "growth": (retained * phi)[:, CWD + 1 :].sum(axis=1),
        "respiration": ((1.0 - retained) * phi).sum(axis=1),
        "leaching": np.zeros(pools.shape[0]),
    }
    return dpools_dt, fluxes

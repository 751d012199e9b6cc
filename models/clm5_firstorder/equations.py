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

from typing import NamedTuple

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


class Transfers(NamedTuple):
    """The transfer coefficients of the cascade (the off-diagonal entries of A), each of shape (n_sets,).

    ``donor_receiver``: the fraction of the donor's outflux reaching the receiver, ``A[receiver,
    donor]`` [1]. A's diagonal is -1 and its other entries are 0; :meth:`matrix` makes the dense A.
    """

    cwd_l2: np.ndarray
    cwd_l3: np.ndarray
    l1_s1: np.ndarray
    l2_s1: np.ndarray
    l3_s2: np.ndarray
    s1_s2: np.ndarray
    s1_s3: np.ndarray
    s2_s1: np.ndarray
    s2_s3: np.ndarray
    s3_s1: np.ndarray

    def matrix(self) -> np.ndarray:
        """The dense transfer matrix A, shape (n_sets, 7, 7), ``a[:, receiver, donor]`` [1]."""
        n_pools = len(POOL_NAMES)
        a = np.zeros((self.cwd_l2.shape[0], n_pools, n_pools))
        a[:, np.arange(n_pools), np.arange(n_pools)] = -1.0
        for (donor, receiver), value in zip(_STEPS, self):
            a[:, receiver, donor] = value
        return a


#: (donor, receiver) of each field of ``Transfers``
_STEPS = ((CWD, L2), (CWD, L3), (L1, S1), (L2, S1), (L3, S2), (S1, S2), (S1, S3), (S2, S1), (S2, S3), (S3, S1))


def transfers(f_l1s1, f_l2s1, f_l3s2, f_s1s2, f_s1s3, f_s2s1, f_s2s3, f_s3s1, cwd_fcel, cue_scale):
    """Transfer coefficients with ``cue_scale`` on every litter/SOM step.

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
    Transfers
        The entries of A off its diagonal. [1]
    """
    s = np.atleast_1d(np.asarray(cue_scale, dtype=float))
    cwd_fcel = np.broadcast_to(np.asarray(cwd_fcel, dtype=float), s.shape)
    return Transfers(cwd_fcel, 1.0 - cwd_fcel, s * f_l1s1, s * f_l2s1, s * f_l3s2, s * f_s1s2, s * f_s1s3,
                     s * f_s2s1, s * f_s2s3, s * f_s3s1)


def transfer_matrix(f_l1s1, f_l2s1, f_l3s2, f_s1s2, f_s1s3, f_s2s1, f_s2s3, f_s3s1, cwd_fcel, cue_scale):
    """Transfer matrix A (-1 on the diagonal) with ``cue_scale`` on every litter/SOM step.

    Parameters
    ----------
    f_l1s1, f_l2s1, f_l3s2, f_s1s2, f_s1s3, f_s2s1, f_s2s3, f_s3s1, cwd_fcel, cue_scale : array_like
        As :func:`transfers`. [1]

    Returns
    -------
    ndarray, shape (n_sets, 7, 7)
        ``a[:, receiver, donor]``. [1]
    """
    return transfers(f_l1s1, f_l2s1, f_l3s2, f_s1s2, f_s1s3, f_s2s1, f_s2s3, f_s3s1, cwd_fcel, cue_scale).matrix()


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
    inputs = np.zeros((len(POOL_NAMES), c_input.shape[0])).T  # column-major: its columns are read one by one
    inputs[:, CWD] = f_wood * c_input
    inputs[:, L1] = f_lab * litter
    inputs[:, L2] = f_cel * litter
    inputs[:, L3] = f_lig * litter
    return inputs


def retained_fractions(t):
    """Fraction of each donor's outflux that stays in the system, ``sum_{r != d} A[r, d]``.

    Parameters
    ----------
    t : Transfers
        Transfer coefficients. [1]

    Returns
    -------
    ndarray, shape (n_sets, 7)
        Retained fraction per donor (1 up to rounding for CWD); the rest is respired. [1]

    Notes
    -----
    Each is the sum of the donor's column of A, diagonal -1 included, plus 1, added in the order
    of the receivers (as the dense column sum): ``(-1 + A[r1, d] + A[r2, d]) + 1`` for a donor
    before its receivers, ``(A[S1, S2] - 1 + A[S3, S2]) + 1`` for S2.
    """
    retained = (
        ((-1.0 + t.cwd_l2) + t.cwd_l3) + 1.0,
        (-1.0 + t.l1_s1) + 1.0,
        (-1.0 + t.l2_s1) + 1.0,
        (-1.0 + t.l3_s2) + 1.0,
        ((-1.0 + t.s1_s2) + t.s1_s3) + 1.0,
        ((t.s2_s1 + -1.0) + t.s2_s3) + 1.0,
        (t.s3_s1 + -1.0) + 1.0,
    )
    return np.stack(retained).T


def loop_determinant(t):
    """Determinant Delta of the S1-S2-S3 recycling loops.

    Parameters
    ----------
    t : Transfers
        Transfer coefficients. [1]

    Returns
    -------
    ndarray, shape (n_sets,)
        ``1 - a12 a21 - a13 a31 - a13 a32 a21`` with ``a21 = A[S2, S1]``, ``a31 = A[S3, S1]``,
        ``a12 = A[S1, S2]``, ``a32 = A[S3, S2]``, ``a13 = A[S1, S3]``; positive whenever every
        retained fraction is below 1. [1]
    """
    a21, a31, a12, a32, a13 = t.s1_s2, t.s1_s3, t.s2_s1, t.s2_s3, t.s3_s1
    return 1.0 - a12 * a21 - a13 * a31 - a13 * a32 * a21


def steady_state(inputs, t, k, xi, delta=None):
    """Explicit steady state ``X* = -(A xi K)^-1 B I`` of the cascade.

    Parameters
    ----------
    inputs : ndarray, shape (n_sets, 7)
        ``B I``. [g C m-2 yr-1]
    t : Transfers
        Transfer coefficients of the cascade (CWD -> L2/L3, L1/L2 -> S1, L3 -> S2,
        S1 <-> S2 -> S3 -> S1). [1]
    k : ndarray, shape (n_sets, 7)
        Base decay rates ``1/tau``. [yr-1]
    xi : ndarray, shape (n_sets,)
        Environmental rate scalar, > 0. [1]
    delta : ndarray, shape (n_sets,), optional
        ``loop_determinant(t)``, if at hand. [1]

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
    phi = np.empty(inputs.shape[::-1]).T  # column-major, like inputs
    phi[:, CWD] = inputs[:, CWD]
    phi[:, L1] = inputs[:, L1]  # no CWD carbon reaches L1
    phi[:, L2] = inputs[:, L2] + t.cwd_l2 * phi[:, CWD]
    phi[:, L3] = inputs[:, L3] + t.cwd_l3 * phi[:, CWD]
    u1 = t.l1_s1 * phi[:, L1] + t.l2_s1 * phi[:, L2]
    u2 = t.l3_s2 * phi[:, L3]
    a21, a31, a12, a32, a13 = t.s1_s2, t.s1_s3, t.s2_s1, t.s2_s3, t.s3_s1
    phi[:, S1] = (u1 + (a12 + a13 * a32) * u2) / (loop_determinant(t) if delta is None else delta)
    phi[:, S2] = u2 + a21 * phi[:, S1]
    phi[:, S3] = a31 * phi[:, S1] + a32 * phi[:, S2]
    return phi / (xi[:, None] * k)


def tendencies(pools, inputs, t, k, xi, retained=None):
    """Right-hand side ``dX/dt = B I + A xi K X`` and the carbon fluxes.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 7)
        Pool sizes X. [g C m-2]
    inputs : ndarray, shape (n_sets, 7)
        ``B I``. [g C m-2 yr-1]
    t : Transfers
        Transfer coefficients. [1]
    k : ndarray, shape (n_sets, 7)
        Base decay rates. [yr-1]
    xi : ndarray, shape (n_sets,)
        Environmental rate scalar. [1]
    retained : ndarray, shape (n_sets, 7), optional
        ``retained_fractions(t)``, if at hand. [1]

    Returns
    -------
    dpools_dt : ndarray, shape (n_sets, 7)
        [g C m-2 yr-1]
    fluxes : dict of ndarray, shape (n_sets,)
        ``respiration`` R_h = sum_d (1 - e_d) Phi_d; ``uptake`` = sum_{d != CWD} Phi_d;
        ``growth`` = sum_{d != CWD} e_d Phi_d (so growth/uptake is cue_bulk); ``leaching`` = 0.
        ``e_d`` is the retained fraction and ``Phi_d = xi k_d X_d`` the decomposition flux.
        [g C m-2 yr-1]

    Notes
    -----
    Sums over donors run in pool order from 0. Each ``dX_r/dt`` is ``B I_r`` plus the inflows
    from its donors minus ``Phi_r``; only A's non-zero entries are multiplied.
    """
    phi = np.asfortranarray(xi[:, None] * k * pools)  # column-major: read column by column below
    if retained is None:
        retained = retained_fractions(t)
    f = [phi[:, j] for j in range(len(POOL_NAMES))]
    dpools = np.stack([
        inputs[:, CWD] - f[CWD],
        inputs[:, L1] - f[L1],
        inputs[:, L2] + (t.cwd_l2 * f[CWD] - f[L2]),
        inputs[:, L3] + (t.cwd_l3 * f[CWD] - f[L3]),
        inputs[:, S1] + ((((t.l1_s1 * f[L1] + t.l2_s1 * f[L2]) - f[S1]) + t.s2_s1 * f[S2]) + t.s3_s1 * f[S3]),
        inputs[:, S2] + ((t.l3_s2 * f[L3] + t.s1_s2 * f[S1]) - f[S2]),
        inputs[:, S3] + ((t.s1_s3 * f[S1] + t.s2_s3 * f[S2]) - f[S3]),
    ]).T
    fluxes = {
        "uptake": _summed(f[CWD + 1 :]),
        "growth": _summed([retained[:, j] * f[j] for j in range(CWD + 1, len(POOL_NAMES))]),
        "respiration": _summed([(1.0 - retained[:, j]) * f[j] for j in range(len(POOL_NAMES))]),
        "leaching": np.zeros(pools.shape[0]),
    }
    return dpools, fluxes


def _summed(terms):
    """``sum(terms)`` added one after another from 0.0, as numpy sums fewer than 8 values along a row."""
    total = np.zeros(terms[0].shape)
    for term in terms:
        total += term
    return total


def pool_fluxes(pools, inputs, t, k, xi, retained=None):
    """The flows of :func:`tendencies` pool by pool: inputs, transfers and respiration.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 7)
        Pool sizes X. [g C m-2]
    inputs : ndarray, shape (n_sets, 7)
        ``B I``. [g C m-2 yr-1]
    t : Transfers
        Transfer coefficients. [1]
    k : ndarray, shape (n_sets, 7)
        Base decay rates. [yr-1]
    xi : ndarray, shape (n_sets,)
        Environmental rate scalar. [1]
    retained : ndarray, shape (n_sets, 7), optional
        ``retained_fractions(t)``, if at hand. [1]

    Returns
    -------
    inputs : ndarray, shape (n_sets, 7)
        ``B I``. [g C m-2 yr-1]
    transfers : ndarray, shape (n_sets, 7, 7)
        ``transfers[:, d, r] = A[r, d] Phi_d``, donor first (A's transpose). [g C m-2 yr-1]
    outflux : ndarray, shape (n_sets, 7)
        Respiration of each donor, ``(1 - e_d) Phi_d`` (``e_d`` the retained fraction; 0 up to
        rounding for CWD); they sum to ``respiration``. [g C m-2 yr-1]
    """
    phi = xi[:, None] * k * pools
    if retained is None:
        retained = retained_fractions(t)
    transfers = np.zeros(pools.shape + pools.shape[1:])
    for (donor, receiver), value in zip(_STEPS, t):
        transfers[:, donor, receiver] = value * phi[:, donor]
    return np.array(inputs, dtype=float), transfers, (1.0 - retained) * phi

"""Equations of MIMICS (carbon only, one 0-30 cm layer), in native units.

Pure, vectorised numpy functions without harness imports. Every array argument is broadcast
along one batch axis of length ``n``. Native units: pools [mgC cm-3], fluxes [mgC cm-3 h-1],
rate constants [h-1], half-saturation constants [mgC cm-3], temperature [degC], clay as a
fraction. Pool order is ``POOL_NAMES``; a state is held pool-major, ``pools[i]`` being pool ``i``
of every row (shape ``(7, n)``), so that every pool is a contiguous array.

Spec: ``docs/models/mimics.md`` sections 3-5.

References
----------
Wieder, W.R. et al. (2014) Biogeosciences 11, 3899-3917. https://doi.org/10.5194/bg-11-3899-2014
Wieder, W.R. et al. (2015) Geosci. Model Dev. 8, 1789-1808. https://doi.org/10.5194/gmd-8-1789-2015
Georgiou, K. et al. (2017) Nat. Commun. 8, 1223. https://doi.org/10.1038/s41467-017-01116-z
German, D.P. et al. (2012) Glob. Change Biol. 18, 1468-1479.
https://doi.org/10.1111/j.1365-2486.2011.02615.x
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

POOL_NAMES = ("lit_m", "lit_s", "mic_r", "mic_k", "som_p", "som_c", "som_a")
LIT_M, LIT_S, MIC_R, MIC_K, SOM_P, SOM_C, SOM_A = range(len(POOL_NAMES))
N_POOLS = len(POOL_NAMES)

HOURS_PER_YEAR = 8760.0
#: cm2 per m2 times g per mg: one mgC cm-3 over ``depth`` cm is ``10 depth`` g C m-2
G_M2_PER_MG_CM2 = 1e4 * 1e-3


def reporting_factor(depth):
    """``g C m-2`` per mgC cm-3 of a layer ``depth`` cm deep (300 for 30 cm).

    Parameters
    ----------
    depth : array_like
        Layer depth. [cm]

    Returns
    -------
    ndarray
        ``depth * 1e4 cm2 m-2 * 1e-3 g mg-1``. [g C m-2 (mgC cm-3)-1]
    """
    return np.asarray(depth, dtype=float) * G_M2_PER_MG_CM2


# -- site- and parameter-dependent constants ---------------------------------------------------
def metabolic_fraction(lignin_n, p1, p2, p3):
    """Metabolic share of litter input (DAYCENT), ``fMET = p1 (p2 - p3 L)``.

    Parameters
    ----------
    lignin_n : array_like
        Litter lignin:N, L. [1]
    p1, p2, p3 : array_like
        ``fmet_p`` (1, 0.85, 0.013). [1]

    Returns
    -------
    ndarray
        fMET; 0.59 at L = 20. [1]
    """
    return np.asarray(p1, dtype=float) * (p2 - p3 * np.asarray(lignin_n, dtype=float))


def input_rates(c_input, fmet, depth):
    """Litter input split into metabolic and structural, ``I = c_input / (8760 * 10 depth)``.

    Parameters
    ----------
    c_input : array_like
        Plant carbon input. [g C m-2 yr-1]
    fmet : array_like
        Metabolic fraction. [1]
    depth : array_like
        Layer depth. [cm]

    Returns
    -------
    i_m, i_s : ndarray
        ``fMET I`` and ``(1 - fMET) I``. [mgC cm-3 h-1]
    """
    i_tot = np.asarray(c_input, dtype=float) / (HOURS_PER_YEAR * reporting_factor(depth))
    return fmet * i_tot, (1.0 - fmet) * i_tot


def vmax(temperature, v_slope, v_int, a_v, v_mod):
    """Maximum specific uptake rates ``V_j = exp(Vslope T + Vint) aV vMOD_j``.

    Parameters
    ----------
    temperature : array_like, shape (n,)
        Soil temperature T. [degC]
    v_slope, v_int, a_v : array_like, shape (n,)
        [degC-1], [ln h-1], [1]
    v_mod : sequence of 6 array_like
        vMOD_1..6. [1]

    Returns
    -------
    list of 6 ndarray
        V_1..V_6. [h-1]
    """
    base = np.exp(np.asarray(v_slope) * temperature + v_int) * a_v
    return [base * m for m in v_mod]


def p_scalar(clay_fraction, a, b):
    """Clay protection of available SOM, ``P = a exp(-b sqrt(fc))``; divides K_3 and K_6.

    Parameters
    ----------
    clay_fraction : array_like
        fc = clay / 100. [1]
    a, b : array_like
        ``p_scalar`` (2, 2). [1]

    Returns
    -------
    ndarray
        P; the paper's Pscalar is 1/P. [1]
    """
    return np.asarray(a, dtype=float) * np.exp(-np.asarray(b) * np.sqrt(clay_fraction))


def half_saturation(temperature, k_slope, k_int, a_k, k_mod, p):
    """Half-saturation constants ``K_j = exp(Kslope_j T + Kint) aK / kMOD_j``.

    Parameters
    ----------
    temperature : array_like, shape (n,)
        Soil temperature T. [degC]
    k_slope : sequence of 6 array_like
        Kslope_1..6. [degC-1]
    k_int, a_k : array_like, shape (n,)
        [ln(mgC cm-3)], [1]
    k_mod : sequence of 6 array_like
        Divisors before clay protection (8, 2, 4, 2, 4, 6). [1]
    p : array_like, shape (n,)
        Clay scalar P, multiplying the divisors of K_3 and K_6. [1]

    Returns
    -------
    list of 6 ndarray
        K_1..K_6. [mgC cm-3]
    """
    divisors = [k_mod[0], k_mod[1], k_mod[2] * p, k_mod[3], k_mod[4], k_mod[5] * p]
    return [np.exp(s * np.asarray(temperature) + k_int) * a_k / d for s, d in zip(k_slope, divisors)]


def turnover_base(fmet, tau0, c):
    """Microbial turnover constant before the variant modifier, ``tau0 exp(c fMET)``.

    Parameters
    ----------
    fmet : array_like
        Metabolic fraction. [1]
    tau0, c : array_like
        ``tau_r`` (5.2e-4, 0.3) or ``tau_k`` (2.4e-4, 0.1). [h-1], [1]

    Returns
    -------
    ndarray
        [h-1 at beta = 1]
    """
    return np.asarray(tau0, dtype=float) * np.exp(np.asarray(c) * fmet)


def tau_modifier(c_input, method):
    """Variant modifier M of the turnover constants.

    Parameters
    ----------
    c_input : array_like
        Plant carbon input. [g C m-2 yr-1]
    method : {"npp", "npp_clamped", "constant"}
        ``npp``: sqrt(c_input/100), unbounded (2015 script); ``npp_clamped``:
        2 clamp(sqrt(c_input/100), 0.8, 1.2) (MIMICS_STODE ``tauMethod='NPP'``); ``constant``: 2
        (MIMICS_STODE ``tauMethod='beta'``).

    Returns
    -------
    ndarray
        M. [1]
    """
    c_input = np.asarray(c_input, dtype=float)
    if method == "npp":
        return np.sqrt(c_input / 100.0)
    if method == "npp_clamped":
        return 2.0 * np.clip(np.sqrt(c_input / 100.0), 0.8, 1.2)
    if method == "constant":
        return np.full_like(c_input, 2.0)
    raise ValueError(f"unknown tau modifier method {method!r}; use 'npp', 'npp_clamped' or 'constant'")


def exp_share(a, b, x):
    """``a exp(b x)``: fPHYS (x = fc), fCHEM (x = fMET) and the desorption rate (x = fc).

    Parameters
    ----------
    a, b, x : array_like
        Coefficient, exponent and clay fraction or fMET. [1] (a in h-1 for desorption)

    Returns
    -------
    ndarray
        [units of a]
    """
    return np.asarray(a, dtype=float) * np.exp(np.asarray(b) * x)


# -- the kinetic system of a batch ----------------------------------------------------------------
@dataclass(frozen=True)
class Kinetics:
    """Every rate constant of a batch, one array of shape (n,) each, plus the kinetics form.

    ``forward``: forward Michaelis-Menten ``B V S/(K + S)`` (2015), else reverse ``B V S/(K + B)``.
    Inputs are split already: ``in_lm = (1 - FI_1) I_m``, ``in_sp = FI_1 I_m``, and so on.
    ``ko_r``, ``ko_k`` are the half-saturation constants of oxidation, ``KO_r K_2`` and
    ``KO_K K_5``. ``tau_r``, ``tau_k`` include M, mic_turnover_scale and the beta rescaling.
    """

    forward: bool
    i_tot: np.ndarray  # [mgC cm-3 h-1]
    in_lm: np.ndarray
    in_ls: np.ndarray
    in_sp: np.ndarray
    in_sc: np.ndarray
    v1: np.ndarray  # [h-1]
    v2: np.ndarray
    v3: np.ndarray
    v4: np.ndarray
    v5: np.ndarray
    v6: np.ndarray
    k1: np.ndarray  # [mgC cm-3]
    k2: np.ndarray
    k3: np.ndarray
    k4: np.ndarray
    k5: np.ndarray
    k6: np.ndarray
    ko_r: np.ndarray
    ko_k: np.ndarray
    e1: np.ndarray  # [1]
    e2: np.ndarray
    e3: np.ndarray
    e4: np.ndarray
    tau_r: np.ndarray  # [(mgC cm-3)^(1-beta) h-1]
    tau_k: np.ndarray
    beta: np.ndarray  # [1]
    fp_r: np.ndarray  # [1]
    fp_k: np.ndarray
    fc_r: np.ndarray
    fc_k: np.ndarray
    fa_r: np.ndarray
    fa_k: np.ndarray
    desorb: np.ndarray  # [h-1]

    def take(self, rows) -> Kinetics:
        """The kinetics of ``rows`` only (an index array or a boolean mask; an int gives scalars)."""
        return Kinetics(self.forward, *(getattr(self, f.name)[rows] for f in fields(self)[1:]))

    @property
    def size(self) -> int:
        """Number of rows in the batch."""
        return self.i_tot.shape[0]


class Partials(NamedTuple):
    """Fluxes [mgC cm-3 h-1] and their derivatives along the state, for a batch.

    ``u1..u6`` are the uptakes, ``ox_r``, ``ox_k`` the oxidation by r and K, ``t_r``, ``t_k``
    the turnover and ``des`` the desorption. ``b_j`` = dU_j/d(its microbe), ``s_j`` =
    dU_j/d(its substrate) [h-1], likewise ``bo_*``, ``so_*`` for oxidation and ``dt_r`` =
    dT_r/dMIC_r = beta T_r / MIC_r.
    """

    u1: np.ndarray
    u2: np.ndarray
    u3: np.ndarray
    u4: np.ndarray
    u5: np.ndarray
    u6: np.ndarray
    ox_r: np.ndarray
    ox_k: np.ndarray
    t_r: np.ndarray
    t_k: np.ndarray
    des: np.ndarray
    b1: np.ndarray
    b2: np.ndarray
    b3: np.ndarray
    b4: np.ndarray
    b5: np.ndarray
    b6: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    s3: np.ndarray
    s4: np.ndarray
    s5: np.ndarray
    s6: np.ndarray
    bo_r: np.ndarray
    bo_k: np.ndarray
    so_r: np.ndarray
    so_k: np.ndarray
    dt_r: np.ndarray
    dt_k: np.ndarray


def michaelis_menten(b, v, s, k, forward):
    """Uptake ``g`` by biomass ``b`` of substrate ``s`` and its derivatives.

    Parameters
    ----------
    b, s : ndarray
        Microbial biomass and substrate. [mgC cm-3]
    v : ndarray
        Maximum specific rate. [h-1]
    k : ndarray
        Half-saturation constant. [mgC cm-3]
    forward : bool
        ``g = b v s/(k + s)`` if True, else reverse ``g = b v s/(k + b)``.

    Returns
    -------
    g, dg_db, dg_ds : ndarray
        [mgC cm-3 h-1], [h-1], [h-1]
    """
    if forward:
        inv = 1.0 / (k + s)
        per_b = v * s * inv
        return b * per_b, per_b, b * v * k * inv * inv
    inv = 1.0 / (k + b)
    per_s = b * v * inv
    return per_s * s, v * s * k * inv * inv, per_s


def partials(pools, kin):
    """Every flux of the model and its derivatives at ``pools``.

    Parameters
    ----------
    pools : ndarray, shape (7, n)
        Pools in ``POOL_NAMES`` order, pool-major. [mgC cm-3]
    kin : Kinetics
        Rate constants of the ``n`` rows.

    Returns
    -------
    Partials
        Fluxes [mgC cm-3 h-1] and derivatives [h-1] (spec section 3).
    """
    lm, ls, mr, mk, sp, sc, sa = pools
    fw = kin.forward
    u1, b1, s1 = michaelis_menten(mr, kin.v1, lm, kin.k1, fw)
    u2, b2, s2 = michaelis_menten(mr, kin.v2, ls, kin.k2, fw)
    u3, b3, s3 = michaelis_menten(mr, kin.v3, sa, kin.k3, fw)
    u4, b4, s4 = michaelis_menten(mk, kin.v4, lm, kin.k4, fw)
    u5, b5, s5 = michaelis_menten(mk, kin.v5, ls, kin.k5, fw)
    u6, b6, s6 = michaelis_menten(mk, kin.v6, sa, kin.k6, fw)
    ox_r, bo_r, so_r = michaelis_menten(mr, kin.v2, sc, kin.ko_r, fw)
    ox_k, bo_k, so_k = michaelis_menten(mk, kin.v5, sc, kin.ko_k, fw)
    t_r = kin.tau_r * mr**kin.beta
    t_k = kin.tau_k * mk**kin.beta
    return Partials(
        u1, u2, u3, u4, u5, u6, ox_r, ox_k, t_r, t_k, kin.desorb * sp,
        b1, b2, b3, b4, b5, b6, s1, s2, s3, s4, s5, s6, bo_r, bo_k, so_r, so_k,
        kin.beta * t_r / mr, kin.beta * t_k / mk,
    )


def tendencies(pools, kin, p=None):
    """Right-hand side of the seven ODEs and the respiration.

    Parameters
    ----------
    pools : ndarray, shape (7, n)
        Pools, pool-major. [mgC cm-3]
    kin : Kinetics
        Rate constants.
    p : Partials, optional
        ``partials(pools, kin)`` if already computed.

    Returns
    -------
    dpools_dt : ndarray, shape (7, n)
        [mgC cm-3 h-1]
    co2 : ndarray, shape (n,)
        Respiration ``sum_j (1 - e_j) U_j``. [mgC cm-3 h-1]

    Notes
    -----
    dLITm = (1-FI1) I_m - U1 - U4; dLITs = (1-FI2) I_s - U2 - U5;
    dMICr = e1 (U1+U3) + e2 U2 - T_r; dMICK = e3 (U4+U6) + e4 U5 - T_K;
    dSOMp = FI1 I_m + fPHYS_r T_r + fPHYS_K T_K - D SOMp;
    dSOMc = FI2 I_s + fCHEM_r T_r + fCHEM_K T_K - Ox;
    dSOMa = fAVAI_r T_r + fAVAI_K T_K + D SOMp + Ox - U3 - U6.
    """
    p = partials(pools, kin) if p is None else p
    ox = p.ox_r + p.ox_k
    upr = p.u1 + p.u3
    upk = p.u4 + p.u6
    d = np.empty((N_POOLS,) + p.u1.shape)
    d[LIT_M] = kin.in_lm - p.u1 - p.u4
    d[LIT_S] = kin.in_ls - p.u2 - p.u5
    d[MIC_R] = kin.e1 * upr + kin.e2 * p.u2 - p.t_r
    d[MIC_K] = kin.e3 * upk + kin.e4 * p.u5 - p.t_k
    d[SOM_P] = kin.in_sp + kin.fp_r * p.t_r + kin.fp_k * p.t_k - p.des
    d[SOM_C] = kin.in_sc + kin.fc_r * p.t_r + kin.fc_k * p.t_k - ox
    d[SOM_A] = kin.fa_r * p.t_r + kin.fa_k * p.t_k + p.des + ox - p.u3 - p.u6
    co2 = (1.0 - kin.e1) * upr + (1.0 - kin.e2) * p.u2 + (1.0 - kin.e3) * upk + (1.0 - kin.e4) * p.u5
    return d, co2


def uptake_and_growth(pools, kin, p=None):
    """Total microbial uptake ``U1 + ... + U6`` and growth ``e1(U1+U3) + e2 U2 + e3(U4+U6) + e4 U5``.

    Oxidation of SOMc is no uptake (no growth, no CO2).

    Parameters
    ----------
    pools : ndarray, shape (7, n)
        Pools, pool-major. [mgC cm-3]
    kin : Kinetics
        Rate constants.
    p : Partials, optional
        ``partials(pools, kin)`` if already computed.

    Returns
    -------
    uptake, growth : ndarray, shape (n,)
        [mgC cm-3 h-1]
    """
    p = partials(pools, kin) if p is None else p
    uptake = p.u1 + p.u2 + p.u3 + p.u4 + p.u5 + p.u6
    growth = kin.e1 * (p.u1 + p.u3) + kin.e2 * p.u2 + kin.e3 * (p.u4 + p.u6) + kin.e4 * p.u5
    return uptake, growth


def jacobian(pools, kin, p=None):
    """Jacobian ``J[i, j] = d(dX_i/dt)/dX_j`` of the ODEs, analytic.

    Parameters
    ----------
    pools : ndarray, shape (7, n)
        Pools, pool-major. [mgC cm-3]
    kin : Kinetics
        Rate constants.
    p : Partials, optional
        ``partials(pools, kin)`` if already computed.

    Returns
    -------
    ndarray, shape (n, 7, 7)
        [h-1]; shape (7, 7) for a single row given as scalars (``Kinetics.take(i)``). A view of
        an array of shape (7, 7, n), so that each entry is contiguous over rows (what
        ``models.stability`` reads fastest).
    """
    p = partials(pools, kin) if p is None else p
    j = np.zeros((N_POOLS, N_POOLS) + np.shape(p.u1))  # entry-major: each entry contiguous over rows
    j[LIT_M, LIT_M] = -(p.s1 + p.s4)
    j[LIT_M, MIC_R] = -p.b1
    j[LIT_M, MIC_K] = -p.b4
    j[LIT_S, LIT_S] = -(p.s2 + p.s5)
    j[LIT_S, MIC_R] = -p.b2
    j[LIT_S, MIC_K] = -p.b5
    j[MIC_R, LIT_M] = kin.e1 * p.s1
    j[MIC_R, LIT_S] = kin.e2 * p.s2
    j[MIC_R, SOM_A] = kin.e1 * p.s3
    j[MIC_R, MIC_R] = kin.e1 * (p.b1 + p.b3) + kin.e2 * p.b2 - p.dt_r
    j[MIC_K, LIT_M] = kin.e3 * p.s4
    j[MIC_K, LIT_S] = kin.e4 * p.s5
    j[MIC_K, SOM_A] = kin.e3 * p.s6
    j[MIC_K, MIC_K] = kin.e3 * (p.b4 + p.b6) + kin.e4 * p.b5 - p.dt_k
    j[SOM_P, MIC_R] = kin.fp_r * p.dt_r
    j[SOM_P, MIC_K] = kin.fp_k * p.dt_k
    j[SOM_P, SOM_P] = -kin.desorb
    j[SOM_C, MIC_R] = kin.fc_r * p.dt_r - p.bo_r
    j[SOM_C, MIC_K] = kin.fc_k * p.dt_k - p.bo_k
    j[SOM_C, SOM_C] = -(p.so_r + p.so_k)
    j[SOM_A, MIC_R] = kin.fa_r * p.dt_r + p.bo_r - p.b3
    j[SOM_A, MIC_K] = kin.fa_k * p.dt_k + p.bo_k - p.b6
    j[SOM_A, SOM_P] = kin.desorb
    j[SOM_A, SOM_C] = p.so_r + p.so_k
    j[SOM_A, SOM_A] = -(p.s3 + p.s6)
    return np.moveaxis(j, (0, 1), (-2, -1))


def substrate_at_balance(inflow, mic_r, mic_k, v_r, v_k, k_r, k_k, forward):
    """Substrate S at which two microbes take up exactly ``inflow``: g(r, S) + g(K, S) = inflow.

    Parameters
    ----------
    inflow : ndarray
        Carbon entering the substrate pool. [mgC cm-3 h-1]
    mic_r, mic_k : ndarray
        Biomass of the two consumers. [mgC cm-3]
    v_r, v_k : ndarray
        Their maximum specific rates. [h-1]
    k_r, k_k : ndarray
        Their half-saturation constants. [mgC cm-3]
    forward : bool
        Forward (``S/(K + S)``) or reverse (``S/(K + B)``) Michaelis-Menten.

    Returns
    -------
    ndarray
        S [mgC cm-3]; NaN where forward uptake saturates below ``inflow``
        (``mic_r v_r + mic_k v_k <= inflow``).

    Notes
    -----
    Reverse kinetics are linear in S. Forward kinetics give the quadratic
    ``(a + c - q) S^2 + (a k_k + c k_r - q (k_r + k_k)) S - q k_r k_k = 0`` with
    ``a = mic_r v_r``, ``c = mic_k v_k``, ``q = inflow``, whose positive root is taken in the
    cancellation-free form.
    """
    if not forward:
        return inflow / (v_r * mic_r / (k_r + mic_r) + v_k * mic_k / (k_k + mic_k))
    a = mic_r * v_r
    c = mic_k * v_k
    quad = a + c - inflow
    lin = a * k_k + c * k_r - inflow * (k_r + k_k)
    const = inflow * k_r * k_k
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(lin * lin + 4.0 * quad * const)
        s = np.where(lin >= 0.0, 2.0 * const / (lin + root), (root - lin) / (2.0 * quad))
    return np.where(quad > 0.0, s, np.nan)


def slaved_pools(mic_r, mic_k, kin):
    """The five non-microbial pools at balance for given microbial biomass.

    LITm and LITs balance their input, SOMp its input (FI_1 I_m + fPHYS T) against
    desorption, SOMc its input against oxidation, and SOMa its input against uptake; only the
    two microbial equations are then left unbalanced.

    Parameters
    ----------
    mic_r, mic_k : ndarray, shape (n,)
        Microbial biomass. [mgC cm-3]
    kin : Kinetics
        Rate constants.

    Returns
    -------
    ndarray, shape (7, n)
        Pools with the given microbes; NaN where a forward-kinetics balance has no solution.
        [mgC cm-3]
    """
    fw = kin.forward
    lm = substrate_at_balance(kin.in_lm, mic_r, mic_k, kin.v1, kin.v4, kin.k1, kin.k4, fw)
    ls = substrate_at_balance(kin.in_ls, mic_r, mic_k, kin.v2, kin.v5, kin.k2, kin.k5, fw)
    t_r = kin.tau_r * mic_r**kin.beta
    t_k = kin.tau_k * mic_k**kin.beta
    sp = (kin.in_sp + kin.fp_r * t_r + kin.fp_k * t_k) / kin.desorb
    to_c = kin.in_sc + kin.fc_r * t_r + kin.fc_k * t_k
    sc = substrate_at_balance(to_c, mic_r, mic_k, kin.v2, kin.v5, kin.ko_r, kin.ko_k, fw)
    to_a = kin.fa_r * t_r + kin.fa_k * t_k + kin.desorb * sp + to_c
    sa = substrate_at_balance(to_a, mic_r, mic_k, kin.v3, kin.v6, kin.k3, kin.k6, fw)
    return np.array([lm, ls, mic_r, mic_k, sp, sc, sa])


def pool_fluxes(pools, kin, p=None):
    """The flows of :func:`tendencies` pool by pool: inputs, transfers and respiration.

    Parameters
    ----------
    pools : ndarray, shape (7, n)
        Pools, pool-major. [mgC cm-3]
    kin : Kinetics
        Rate constants.
    p : Partials, optional
        ``partials(pools, kin)`` if already computed.

    Returns
    -------
    inputs : ndarray, shape (n, 7)
        ``(1-FI1) I_m, (1-FI2) I_s`` to LITm, LITs and ``FI1 I_m, FI2 I_s`` to SOMp, SOMc. [mgC cm-3 h-1]
    transfers : ndarray, shape (n, 7, 7)
        ``transfers[:, i, j]``: flux from pool i to pool j. Uptake U_j moves only its growth
        ``e U_j`` from the substrate to the microbe; necromass T_x goes to SOMp, SOMc, SOMa by
        fPHYS_x, fCHEM_x, fAVAI_x; Des SOMp -> SOMa; Ox SOMc -> SOMa. [mgC cm-3 h-1]
    outflux : ndarray, shape (n, 7)
        The respired part ``(1 - e) U_j`` of each uptake, leaving from its substrate (LITm, LITs,
        SOMa); they sum to CO2. [mgC cm-3 h-1]
    """
    p = partials(pools, kin) if p is None else p
    n = kin.size
    inputs = np.zeros((n, N_POOLS))
    inputs[:, LIT_M], inputs[:, LIT_S], inputs[:, SOM_P], inputs[:, SOM_C] = kin.in_lm, kin.in_ls, kin.in_sp, kin.in_sc
    transfers = np.zeros((n, N_POOLS, N_POOLS))
    outflux = np.zeros((n, N_POOLS))
    uptakes = ((LIT_M, MIC_R, p.u1, kin.e1), (LIT_S, MIC_R, p.u2, kin.e2), (SOM_A, MIC_R, p.u3, kin.e1),
               (LIT_M, MIC_K, p.u4, kin.e3), (LIT_S, MIC_K, p.u5, kin.e4), (SOM_A, MIC_K, p.u6, kin.e3))
    for substrate, microbe, u, e in uptakes:
        transfers[:, substrate, microbe] = e * u
        outflux[:, substrate] += (1.0 - e) * u
    for microbe, t, shares in ((MIC_R, p.t_r, (kin.fp_r, kin.fc_r, kin.fa_r)),
                               (MIC_K, p.t_k, (kin.fp_k, kin.fc_k, kin.fa_k))):
        for som, share in zip((SOM_P, SOM_C, SOM_A), shares):
            transfers[:, microbe, som] = share * t
    transfers[:, SOM_P, SOM_A] = p.des
    transfers[:, SOM_C, SOM_A] = p.ox_r + p.ox_k
    return inputs, transfers, outflux

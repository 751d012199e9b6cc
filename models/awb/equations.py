"""Equations of the Allison, Wallenstein & Bradford (2010) microbial-enzyme model (AWB).

Pure, vectorised numpy functions without harness imports. Every array argument is broadcast
along a leading batch axis of length ``n_sets``. Units are NATIVE: pools [mg C cm-3] (AWB-2010,
``he2024_fit``) or [mg C g-1] (Li-2014), time [h], temperature [degC], activation energies
[kJ mol-1]. Pool order is ``POOL_NAMES`` = (SOC, DOC, MIC, ENZ).

Spec: ``docs/models/awb.md`` sections (c) (equations), (g) (steady state, elasticities).

References
----------
Allison, S.D., Wallenstein, M.D. & Bradford, M.A. (2010) Nat. Geosci. 3, 336-340.
https://doi.org/10.1038/ngeo846
Georgiou, K. et al. (2017) Nat. Commun. 8, 1223. https://doi.org/10.1038/s41467-017-01116-z
He, X. et al. (2024) Nature. https://doi.org/10.1038/s41586-023-06999-1
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

POOL_NAMES = ("soc_pool", "doc", "mic", "enz")
SOC, DOC, MIC, ENZ = range(len(POOL_NAMES))

#: gas constant of the AWB code [kJ mol-1 K-1]
R_GAS = 0.008314
#: degC -> K offset of the AWB code: 273, not 273.15 (spec (i); only 273 gives the SoilR state)
KELVIN_OFFSET = 273.0
HOURS_PER_YEAR = 8760.0
#: relative tolerance on MIC* of the root solve (spec (g)), applied to ln MIC* as an absolute one
MIC_RTOL = 1e-14
#: safeguarded-Newton iterations before a row is declared not converged: the bracket is at most
#: ln 2 / min(beta, beta_enz) wide, so even bisection alone reaches 1e-14 in < 100 steps for any
#: exponent above 1e-6; Newton typically needs 4-8
MAX_ITERATIONS = 200
_LN2 = float(np.log(2.0))


class Kinetics(NamedTuple):
    """Rates and constants of a batch in native units, every field of shape (n_sets,).

    ``k_d`` and ``k_e`` are the effective k_d* and k_e* of spec (e) (after ``mic_turnover_scale``
    and ``beta_rescale``), in [(native pool)^(1-beta) h-1] and [(native pool)^(1-beta_enz) h-1].
    """

    i_soc: np.ndarray  # I_S [pool h-1]
    i_doc: np.ndarray  # I_D [pool h-1]
    cue: np.ndarray  # CUE, after cue_scale [1]
    vmax: np.ndarray  # V_max [h-1]
    vup: np.ndarray  # V_up [h-1]
    km: np.ndarray  # K_m [pool]
    kup: np.ndarray  # K_up [pool]
    k_d: np.ndarray  # k_d*
    k_e: np.ndarray  # k_e*
    k_l: np.ndarray  # k_l [h-1]
    a: np.ndarray  # necromass share to SOC [1]
    beta: np.ndarray  # [1]
    beta_enz: np.ndarray  # [1]


class SteadyState(NamedTuple):
    """Steady state of a batch (spec (g)) with the quantities behind its existence conditions.

    Rows without a steady state hold NaN in the missing pool; ``exists`` says which rows have one.
    """

    pools: np.ndarray  # (n, 4) [pool]
    death: np.ndarray  # DEATH* [pool h-1]
    eprod: np.ndarray  # EPROD* [pool h-1]
    supply: np.ndarray  # F = I_S + a DEATH*, supply to SOC [pool h-1]
    capacity: np.ndarray  # V_max ENZ*, largest possible DECOMP [pool h-1]
    uptake: np.ndarray  # UPT* = I/(1 - CUE) [pool h-1]
    uptake_capacity: np.ndarray  # V_up MIC*, largest possible UPT [pool h-1]
    converged: np.ndarray  # bool: MIC* found to MIC_RTOL
    soc_exists: np.ndarray  # bool: capacity > supply
    doc_exists: np.ndarray  # bool: uptake_capacity > uptake

    @property
    def exists(self) -> np.ndarray:
        """Rows with a steady state: MIC* converged and both uptake capacities exceed their supply."""
        return self.converged & self.soc_exists & self.doc_exists


def arrhenius(v0, ea, temperature):
    """Arrhenius rate of the AWB code.

    Parameters
    ----------
    v0 : array_like
        Pre-exponential factor. [h-1]
    ea : array_like
        Activation energy. [kJ mol-1]
    temperature : array_like
        Soil temperature. [degC]

    Returns
    -------
    ndarray
        ``v0 exp(-ea / (R (T + 273)))``; V_max(20) = 0.417601 at the AWB values. [h-1]
    """
    t = np.asarray(temperature, dtype=float)
    return np.asarray(v0, dtype=float) * np.exp(-np.asarray(ea, dtype=float) / (R_GAS * (t + KELVIN_OFFSET)))


def linear_in_temperature(value0, slope, temperature):
    """``value0 + slope T``: K_m(T), K_up(T) and CUE(T) of AWB-2010 [units of value0]."""
    return np.asarray(value0, dtype=float) + np.asarray(slope, dtype=float) * np.asarray(temperature, dtype=float)


def split_input(total, soc_fraction):
    """External input to SOC and DOC.

    Parameters
    ----------
    total : array_like
        I = I_S + I_D. [pool h-1]
    soc_fraction : array_like
        s = I_S / I. [1]

    Returns
    -------
    i_soc, i_doc : ndarray
        ``s I`` and ``(1 - s) I``. [pool h-1]
    """
    total = np.asarray(total, dtype=float)
    soc_fraction = np.asarray(soc_fraction, dtype=float)
    return soc_fraction * total, (1.0 - soc_fraction) * total


def microbial_growth(total_input, cue):
    """G = CUE I/(1 - CUE): microbial production at steady state, DEATH* + EPROD* [pool h-1]."""
    cue = np.asarray(cue, dtype=float)
    return cue * np.asarray(total_input, dtype=float) / (1.0 - cue)


def reference_biomass(total_input, cue, k_d, k_e):
    """M_ref = CUE I/((1 - CUE)(k_d + k_e)): MIC* at beta = beta_enz = 1 (spec (e)) [pool]."""
    return microbial_growth(total_input, cue) / (np.asarray(k_d, dtype=float) + np.asarray(k_e, dtype=float))


def rescaled_rate(k, m_ref, exponent):
    """``k M_ref**(1 - exponent)`` (``beta_rescale = reference``): k* equal to k at MIC = M_ref.

    Parameters
    ----------
    k : array_like
        Rate constant of the linear form. [h-1]
    m_ref : array_like
        Frozen reference biomass. [pool]
    exponent : array_like
        beta or beta_enz. [1]

    Returns
    -------
    ndarray
        k*; exactly ``k`` where ``exponent == 1``. [pool^(1-exponent) h-1]
    """
    return np.asarray(k, dtype=float) * _power(m_ref, 1.0 - np.asarray(exponent, dtype=float), skip=0.0)


def _power(x, exponent, skip=1.0):
    """``x**exponent`` elementwise, returning ``x**skip`` exactly (x or 1) where exponent == skip.

    Skipping ``pow`` keeps the common linear case exact and fast; every element depends on its
    own row only.
    """
    x = np.asarray(x, dtype=float)
    exponent = np.broadcast_to(np.asarray(exponent, dtype=float), x.shape)
    general = exponent != skip
    if general.all():
        return x**exponent
    out = x.copy() if skip == 1.0 else np.ones_like(x)
    if general.any():
        out[general] = x[general] ** exponent[general]
    return out


def mic_steady_state(growth, k_d, k_e, beta, beta_enz):
    """MIC* solving ``k_d M**beta + k_e M**beta_enz = G`` (spec (g)).

    Parameters
    ----------
    growth : array_like, shape (n_sets,)
        G = CUE I/(1 - CUE), > 0. [pool h-1]
    k_d, k_e : array_like, shape (n_sets,)
        k_d*, k_e* > 0. [pool^(1-beta) h-1], [pool^(1-beta_enz) h-1]
    beta, beta_enz : array_like, shape (n_sets,)
        Exponents > 0. [1]

    Returns
    -------
    mic : ndarray, shape (n_sets,)
        MIC*, NaN where not converged. [pool]
    converged : ndarray of bool, shape (n_sets,)

    Notes
    -----
    Closed form where ``beta == beta_enz``: ``(G/(k_d + k_e))**(1/beta)``, i.e. ``G/(k_d + k_e)``
    at beta = beta_enz = 1. Otherwise the left side increases monotonically, and
    ``f(y) = exp(beta y + ln(k_d/G)) + exp(beta_enz y + ln(k_e/G)) - 1`` in ``y = ln M`` is convex
    and increasing: its root is bracketed by ``hi = min_i y_i`` and
    ``lo = min_i (y_i - ln 2/beta_i)``, where ``y_i`` zeroes term i alone; a safeguarded Newton
    iteration (bisection whenever Newton leaves the bracket or does not halve the step) runs
    on all rows at once to ``|dy| <= MIC_RTOL``.
    """
    growth, k_d, k_e, beta, beta_enz = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (growth, k_d, k_e, beta, beta_enz)))
    mic = np.empty(growth.shape)
    converged = np.ones(growth.shape, dtype=bool)
    linear = (beta == 1.0) & (beta_enz == 1.0)
    equal = (beta == beta_enz) & ~linear
    general = ~(linear | equal)
    if linear.all():
        return growth / (k_d + k_e), converged
    mic[linear] = growth[linear] / (k_d[linear] + k_e[linear])
    mic[equal] = (growth[equal] / (k_d[equal] + k_e[equal])) ** (1.0 / beta[equal])
    if general.any():
        log_g = np.log(growth[general])
        y, ok = _log_mic_root(np.log(k_d[general]) - log_g, np.log(k_e[general]) - log_g,
                              beta[general], beta_enz[general])
        mic[general] = np.where(ok, np.exp(y), np.nan)
        converged[general] = ok
    return mic, converged


def _log_mic_root(log_kd, log_ke, beta, beta_enz):
    """Root y of ``exp(beta y + log_kd) + exp(beta_enz y + log_ke) = 1`` per row (see caller)."""
    y_d, y_e = -log_kd / beta, -log_ke / beta_enz
    hi = np.minimum(y_d, y_e)
    lo = np.minimum(y_d - _LN2 / beta, y_e - _LN2 / beta_enz)
    y = hi.copy()
    ok = np.zeros(y.shape, dtype=bool)
    # the active rows' values, compacted whenever some rows finish (not gathered at every step)
    active = np.arange(y.size)
    ya, lo_a, hi_a, step_before, kd, ke, b, be = y, lo, hi, hi - lo, log_kd, log_ke, beta, beta_enz
    for _ in range(MAX_ITERATIONS):
        if active.size == 0:
            break
        t_d, t_e = np.exp(b * ya + kd), np.exp(be * ya + ke)
        f, df = t_d + t_e - 1.0, b * t_d + be * t_e
        lo_a = np.where(f < 0.0, ya, lo_a)
        hi_a = np.where(f > 0.0, ya, hi_a)
        newton = f / df
        y_newton = ya - newton
        tolerance = MIC_RTOL + 4.0 * np.finfo(float).eps * np.abs(ya)
        small = np.abs(newton) <= tolerance
        in_bracket = (y_newton >= lo_a) & (y_newton <= hi_a) & (np.abs(2.0 * newton) <= np.abs(step_before))
        y_next = np.where(f == 0.0, ya, np.where(small | in_bracket, y_newton, 0.5 * (lo_a + hi_a)))
        done = (f == 0.0) | small | (hi_a - lo_a <= tolerance)
        step_before = y_next - ya
        ya = y_next
        if done.any():
            y[active[done]] = ya[done]
            ok[active[done]] = True
            going = ~done
            active, ya, lo_a, hi_a, step_before, kd, ke, b, be = (
                v[going] for v in (active, ya, lo_a, hi_a, step_before, kd, ke, b, be))
    y[active] = ya  # rows not converged keep their last iterate
    return y, ok


def steady_state(kin: Kinetics) -> SteadyState:
    """Steady state of the AWB model (spec (g)).

    Parameters
    ----------
    kin : Kinetics
        Rates and inputs of the batch, native units, every domain condition met.

    Returns
    -------
    SteadyState
        Pools (SOC, DOC, MIC, ENZ) [pool] and the quantities behind the existence conditions.

    Notes
    -----
    ``UPT* = I/(1 - CUE)``; MIC* from :func:`mic_steady_state`; ``ENZ* = EPROD*/k_l``;
    ``F = I_S + a DEATH*``; ``SOC* = K_m F/(V_max ENZ* - F)``, which exists iff
    ``V_max ENZ* > F``; ``DOC* = K_up UPT*/(V_up MIC* - UPT*)``, which exists iff
    ``V_up MIC* > UPT*``. A missing pool is NaN; nothing is clipped.
    """
    total = kin.i_soc + kin.i_doc
    mic, converged = mic_steady_state(microbial_growth(total, kin.cue), kin.k_d, kin.k_e, kin.beta, kin.beta_enz)
    death = kin.k_d * _power(mic, kin.beta)
    eprod = kin.k_e * _power(mic, kin.beta_enz)
    enz = eprod / kin.k_l
    supply = kin.i_soc + kin.a * death
    capacity = kin.vmax * enz
    uptake = total / (1.0 - kin.cue)
    uptake_capacity = kin.vup * mic
    soc_exists = capacity > supply
    doc_exists = uptake_capacity > uptake
    with np.errstate(divide="ignore", invalid="ignore"):
        soc = np.where(soc_exists, kin.km * supply / (capacity - supply), np.nan)
        doc = np.where(doc_exists, kin.kup * uptake / (uptake_capacity - uptake), np.nan)
    pools = np.stack([soc, doc, mic, enz]).T  # column-major (n_sets, 4): read column by column
    return SteadyState(pools, death, eprod, supply, capacity, uptake, uptake_capacity, converged,
                       soc_exists, doc_exists)


def fluxes(pools, kin: Kinetics) -> dict[str, np.ndarray]:
    """The model's fluxes at ``pools`` (spec (c)).

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 4)
        SOC, DOC, MIC, ENZ >= 0. [pool]
    kin : Kinetics

    Returns
    -------
    dict of ndarray, shape (n_sets,)
        ``decomp`` V_max ENZ SOC/(K_m + SOC), ``uptake`` V_up MIC DOC/(K_up + DOC),
        ``death`` k_d* MIC^beta, ``eprod`` k_e* MIC^beta_enz, ``eloss`` k_l ENZ,
        ``growth`` CUE UPT, ``respiration`` (1 - CUE) UPT. [pool h-1]
    """
    soc, doc, mic, enz = (pools[:, j] for j in range(len(POOL_NAMES)))
    uptake = kin.vup * mic * doc / (kin.kup + doc)
    return {
        "decomp": kin.vmax * enz * soc / (kin.km + soc),
        "uptake": uptake,
        "death": kin.k_d * _power(mic, kin.beta),
        "eprod": kin.k_e * _power(mic, kin.beta_enz),
        "eloss": kin.k_l * enz,
        "growth": kin.cue * uptake,
        "respiration": (1.0 - kin.cue) * uptake,
    }


def tendencies(pools, kin: Kinetics):
    """Right-hand side of the AWB ODEs (spec (c)).

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 4)
        SOC, DOC, MIC, ENZ. [pool]
    kin : Kinetics

    Returns
    -------
    dpools_dt : ndarray, shape (n_sets, 4)
        [pool h-1]
    fluxes : dict of ndarray
        As :func:`fluxes`. [pool h-1]

    Notes
    -----
    ``dSOC = I_S + a DEATH - DECOMP``; ``dDOC = I_D + (1 - a) DEATH + DECOMP + ELOSS - UPT``;
    ``dMIC = CUE UPT - DEATH - EPROD``; ``dENZ = EPROD - ELOSS``. Their sum is
    ``I - (1 - CUE) UPT``.
    """
    fl = fluxes(pools, kin)
    dpools = np.stack([  # column-major (n_sets, 4)
        kin.i_soc + kin.a * fl["death"] - fl["decomp"],
        kin.i_doc + (1.0 - kin.a) * fl["death"] + fl["decomp"] + fl["eloss"] - fl["uptake"],
        fl["growth"] - fl["death"] - fl["eprod"],
        fl["eprod"] - fl["eloss"],
    ]).T
    return dpools, fl


def pool_fluxes(pools, kin: Kinetics):
    """The flows of :func:`tendencies` pool by pool: inputs, transfers and respiration.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 4)
        SOC, DOC, MIC, ENZ >= 0. [pool]
    kin : Kinetics

    Returns
    -------
    inputs : ndarray, shape (n_sets, 4)
        ``I_S`` to SOC, ``I_D`` to DOC. [pool h-1]
    transfers : ndarray, shape (n_sets, 4, 4)
        ``transfers[:, i, j]``: flux from pool i to pool j: DECOMP SOC -> DOC, the growth ``CUE UPT``
        DOC -> MIC, DEATH MIC -> SOC, DOC by ``a``, ``1 - a``, EPROD MIC -> ENZ, ELOSS ENZ -> DOC. [pool h-1]
    outflux : ndarray, shape (n_sets, 4)
        ``(1 - CUE) UPT`` from DOC, respired as it is taken up. [pool h-1]
    """
    fl = fluxes(pools, kin)
    n = np.shape(pools)[0]
    inputs = np.zeros((n, len(POOL_NAMES)))
    inputs[:, SOC], inputs[:, DOC] = kin.i_soc, kin.i_doc
    transfers = np.zeros((n, len(POOL_NAMES), len(POOL_NAMES)))
    for donor, receiver, flux in ((SOC, DOC, fl["decomp"]), (DOC, MIC, fl["growth"]), (MIC, SOC, kin.a * fl["death"]),
                                  (MIC, DOC, (1.0 - kin.a) * fl["death"]), (MIC, ENZ, fl["eprod"]),
                                  (ENZ, DOC, fl["eloss"])):
        transfers[:, donor, receiver] = flux
    outflux = np.zeros((n, len(POOL_NAMES)))
    outflux[:, DOC] = fl["respiration"]
    return inputs, transfers, outflux


def _jacobian_terms(pools, kin: Kinetics):
    """Partial derivatives p, q, u, w, d, e of DECOMP, UPT, DEATH and EPROD at ``pools`` [h-1]."""
    soc, doc, mic, enz = (pools[:, j] for j in range(len(POOL_NAMES)))
    p = kin.vmax * enz * kin.km / (kin.km + soc) ** 2  # dDECOMP/dSOC
    q = kin.vmax * soc / (kin.km + soc)  # dDECOMP/dENZ
    u = kin.vup * mic * kin.kup / (kin.kup + doc) ** 2  # dUPT/dDOC
    w = kin.vup * doc / (kin.kup + doc)  # dUPT/dMIC
    d = kin.beta * kin.k_d * _power(mic, kin.beta - 1.0, skip=0.0)  # dDEATH/dMIC
    e = kin.beta_enz * kin.k_e * _power(mic, kin.beta_enz - 1.0, skip=0.0)  # dEPROD/dMIC
    return p, q, u, w, d, e


def jacobian(pools, kin: Kinetics):
    """Jacobian of :func:`tendencies` with respect to the pools.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 4)
        SOC, DOC, MIC, ENZ > 0. [pool]
    kin : Kinetics

    Returns
    -------
    ndarray, shape (n_sets, 4, 4)
        ``J[:, i, j] = d(dX_i/dt)/dX_j``. [h-1]
    """
    p, q, u, w, d, e = _jacobian_terms(pools, kin)
    a, c, k_l = kin.a, kin.cue, kin.k_l
    jac = np.zeros((pools.shape[0], 4, 4))
    jac[:, SOC, SOC], jac[:, SOC, MIC], jac[:, SOC, ENZ] = -p, a * d, -q
    jac[:, DOC, SOC], jac[:, DOC, DOC], jac[:, DOC, MIC], jac[:, DOC, ENZ] = p, -u, (1.0 - a) * d - w, q + k_l
    jac[:, MIC, DOC], jac[:, MIC, MIC] = c * u, c * w - d - e
    jac[:, ENZ, MIC], jac[:, ENZ, ENZ] = e, -k_l
    return jac


def characteristic_coefficients(state: SteadyState, kin: Kinetics):
    """Coefficients c1..c4 of ``det(lambda I - J) = lambda^4 + c1 lambda^3 + ... + c4`` at a steady state.

    Parameters
    ----------
    state : SteadyState
    kin : Kinetics

    Returns
    -------
    c1, c2, c3, c4 : ndarray, shape (n_sets,)
        [h-1], [h-2], [h-3], [h-4]

    Notes
    -----
    With ``J_MIC,MIC = m = CUE w - d - e`` the terms in ``w`` cancel symbolically, and at the
    steady state ``m = ((1 - beta) DEATH* + (1 - beta_enz) EPROD*)/MIC*`` without cancellation
    (0 at beta = beta_enz = 1):
    ``c1 = l + p + u - m``;
    ``c2 = u d (1 - (1-a) c) + u e - m (l + p) + l p + l u + p u``;
    ``c3 = l u d (1 - (1-a) c) + l u e (1 - c) + p u d (1 - c) + e u (p - c q) - l p m + l p u``;
    ``c4 = l p u (1 - c)(d + e)``, with c = CUE, l = k_l and p, q, u, d, e the partial
    derivatives of DECOMP (SOC, ENZ), UPT (DOC), DEATH and EPROD (MIC).
    """
    p, q, u, _, d, e = _jacobian_terms(state.pools, kin)
    a, c, k_l = kin.a, kin.cue, kin.k_l
    m = ((1.0 - kin.beta) * state.death + (1.0 - kin.beta_enz) * state.eprod) / state.pools[:, MIC]
    kept = 1.0 - (1.0 - a) * c
    c1 = k_l + p + u - m
    c2 = u * d * kept + u * e - m * (k_l + p) + k_l * p + k_l * u + p * u
    c3 = (k_l * u * d * kept + k_l * u * e * (1.0 - c) + p * u * d * (1.0 - c) + e * u * (p - c * q)
          - k_l * p * m + k_l * p * u)
    c4 = k_l * p * u * (1.0 - c) * (d + e)
    return c1, c2, c3, c4


def is_stable(state: SteadyState, kin: Kinetics):
    """Local asymptotic stability of a steady state by the Routh-Hurwitz criterion.

    Parameters
    ----------
    state : SteadyState
    kin : Kinetics

    Returns
    -------
    stable : ndarray of bool, shape (n_sets,)
        Every eigenvalue of the Jacobian has a negative real part.
    hurwitz : ndarray, shape (n_sets, 4)
        ``c1``, ``c1 c2 - c3``, ``c3 (c1 c2 - c3) - c1^2 c4`` and ``c4``: all > 0 iff stable.

    Notes
    -----
    For a quartic the criterion is c1 > 0, c3 > 0, c4 > 0, ``c1 c2 - c3 > 0`` and
    ``c3 (c1 c2 - c3) - c1^2 c4 > 0`` (then c2 > 0 follows).
    """
    c1, c2, c3, c4 = characteristic_coefficients(state, kin)
    delta2 = c1 * c2 - c3
    delta3 = c3 * delta2 - c1 * c1 * c4
    hurwitz = np.stack([c1, delta2, delta3, c4]).T  # column-major (n_sets, 4)
    return (hurwitz > 0.0).all(axis=1) & (c3 > 0.0), hurwitz


def soc_elasticities(state: SteadyState, kin: Kinetics):
    """Exact elasticities of SOC* (spec (g)).

    Parameters
    ----------
    state : SteadyState
    kin : Kinetics

    Returns
    -------
    e_cue : ndarray, shape (n_sets,)
        ``d ln SOC*/d ln CUE = (psi beta - beta_enz)/[(1 - x) Bbar (1 - CUE)]``. [1]
    e_input : ndarray, shape (n_sets,)
        ``d ln SOC*/d ln I`` with I_S and I_D scaled together,
        ``[(1 - psi) + (psi beta - beta_enz)/Bbar]/(1 - x)``; 0 at beta = beta_enz = 1. [1]
    e_input_soc : ndarray, shape (n_sets,)
        I_S scaled alone, ``[(1 - psi) + s (psi beta - beta_enz)/Bbar]/(1 - x)``. [1]

    Notes
    -----
    ``delta = DEATH/(DEATH + EPROD)``, ``psi = a DEATH/F``, ``x = F/(V_max ENZ*)``,
    ``Bbar = beta delta + beta_enz (1 - delta)``, ``s = I_S/I``.
    """
    delta = state.death / (state.death + state.eprod)
    psi = kin.a * state.death / state.supply
    x = state.supply / state.capacity
    b_bar = kin.beta * delta + kin.beta_enz * (1.0 - delta)
    s = kin.i_soc / (kin.i_soc + kin.i_doc)
    lever = (psi * kin.beta - kin.beta_enz) / b_bar
    e_cue = lever / ((1.0 - x) * (1.0 - kin.cue))
    e_input = ((1.0 - psi) + lever) / (1.0 - x)
    e_input_soc = ((1.0 - psi) + s * lever) / (1.0 - x)
    return e_cue, e_input, e_input_soc

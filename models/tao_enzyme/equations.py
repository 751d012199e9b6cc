"""Equations of the Tao et al. (2023) microbial-enzyme model, single-layer form.

Pure, vectorised numpy functions without harness imports. Every array argument is broadcast
along a leading batch axis of length ``n_sets``. Internal units: concentrations [g C m-3] in one
layer of thickness h, fluxes [g C m-3 yr-1], rate constants [yr-1], temperature [degC], water
potential [MPa]; ``K_a``, ``K_d`` and the power laws ``MIC**beta`` are defined on this scale.
Pool order is ``POOL_NAMES``. Spec: ``docs/models/tao_enzyme.md`` sections (c) and (g).

The litter cascade (CWD, L1-L3) is linear and does not depend on the soil pools; it feeds DOC,
MIC and SOC. Microbes take up DOC with Michaelis-Menten kinetics, die (``D = xi k_d* MIC**beta``)
and make enzymes (``P = xi k_e* MIC**beta_enz``); enzymes decay to DOC and depolymerise SOC to
DOC at ``S = xi k_s ENZ SOC / (xi_K K_d + SOC)``.

References
----------
Tao, F. et al. (2023) Nature 618, 981-985. https://doi.org/10.1038/s41586-023-06042-3
He, X. et al. (2024) Nature (Matters Arising). https://doi.org/10.1038/s41586-023-06999-1
Tao, F. et al. (2024) Nature (Reply). https://doi.org/10.1038/s41586-023-07000-9
Schwarz, E. et al. (2024) Biogeosciences 21, 3441. https://doi.org/10.5194/bg-21-3441-2024
Cosby, B.J. et al. (1984) Water Resour. Res. 20, 682-690. https://doi.org/10.1029/WR020i006p00682
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..soil_water import cosby_parameters, moisture_scalar, soil_water_potential  # noqa: F401
from ..stability import max_real_eigenvalue as max_real_eigenvalues
from ..stability import routh_hurwitz

POOL_NAMES = ("cwd", "l1", "l2", "l3", "doc", "mic", "enz", "soc_pool")
CWD, L1, L2, L3, DOC, MIC, ENZ, SOC = range(len(POOL_NAMES))

#: reference temperature of the Q10 function [degC]
T_REF = 25.0
#: water potential per mm of water head [MPa mm-1]
#: v22's map of one normalised parameter u onto K_a = 300 + 2700 u [g C m-3] and
#: tau_enz = 10**(3 u - 3) [yr]; so tau_enz = 10**((K_a - 3000)/900)
KA_COUPLING_RANGE = (300.0, 3000.0)

#: codes of ``steady_state``'s ``failure`` array
EXISTS, NO_SOC, NO_DOC, NO_ROOT = 0, 1, 2, 3

#: convergence of the MIC root, |step| in ln MIC, i.e. relative in MIC [1]
ROOT_RTOL = 1e-14
ROOT_MAX_ITER = 100
#: relative size below which a Hurwitz quantity's sign is not trusted (see ``hurwitz_stable``)
HURWITZ_RTOL = 1e-9


class Kinetics(NamedTuple):
    """Per-row constants of the model in internal units; every field has shape (n_sets,).

    ``k_d`` and ``k_e`` are the rescaled ``k_d*`` and ``k_e*`` [(g C m-3)**(1 - beta) yr-1];
    ``km_doc`` and ``km_soc`` already include ``xi_K`` [g C m-3]; efficiencies include
    ``cue_scale``.
    """

    xi: np.ndarray  # [1]
    k_cwd: np.ndarray  # [yr-1]
    k_l1: np.ndarray  # [yr-1]
    k_l23: np.ndarray  # [yr-1]
    k_u: np.ndarray  # [yr-1]
    k_d: np.ndarray
    k_e: np.ndarray
    k_z: np.ndarray  # [yr-1]
    k_s: np.ndarray  # [yr-1]
    km_doc: np.ndarray  # xi_K K_a [g C m-3]
    km_soc: np.ndarray  # xi_K K_d [g C m-3]
    f_cwdl2: np.ndarray  # [1]
    p_l1: np.ndarray  # [1]
    p_l2: np.ndarray  # [1]
    p_l3: np.ndarray  # [1]
    p_d: np.ndarray  # [1]
    eps_l1: np.ndarray  # [1]
    eps_l23: np.ndarray  # [1]
    cue: np.ndarray  # [1]
    beta: np.ndarray  # [1]
    beta_enz: np.ndarray  # [1]


# -- environment -------------------------------------------------------------------------------
def temperature_scalar(temperature, q10):
    """Temperature scalar ``xi_T = Q10**((T - 25)/10)`` for all T (no frozen branch, no N).

    Parameters
    ----------
    temperature : array_like
        Soil temperature. [degC]
    q10 : array_like
        Temperature sensitivity. [1]

    Returns
    -------
    ndarray
        xi_T, 1 at 25 degC. [1]
    """
    return np.asarray(q10, dtype=float) ** ((np.asarray(temperature, dtype=float) - T_REF) / 10.0)


def rate_scalar(temperature, q10, psi, psi_min, psi_max, w_scaling, xi_depth, xi_fixed):
    """Environmental rate scalar ``xi = xi_T xi_W xi_depth`` (``xi_O = xi_N = 1``), or ``xi_fixed``.

    Parameters
    ----------
    temperature : array_like, shape (n_sets,) or scalar
        Soil temperature. [degC]
    q10 : array_like, shape (n_sets,)
        Temperature sensitivity (reference 25 degC). [1]
    psi : array_like, shape (n_sets,)
        Soil water potential; NaN means water is not represented, ``xi_W = 1``. [MPa]
    psi_min, psi_max, w_scaling : array_like, shape (n_sets,)
        Arguments of :func:`moisture_scalar`. [MPa], [MPa], [1]
    xi_depth : array_like, shape (n_sets,)
        Depth scalar (the layered code uses ``exp(-z/0.5 m)``). [1]
    xi_fixed : array_like, shape (n_sets,)
        Override of xi; NaN means unset. [1]

    Returns
    -------
    ndarray, shape (n_sets,)
        xi, 0 when ``psi <= psi_min``. [1]

    Notes
    -----
    Each factor is evaluated only on the rows that need it (xi unset; water potential given),
    which leaves every row's value unchanged.
    """
    xi = np.array(xi_fixed, dtype=float, copy=True)
    n = xi.shape[0]
    unset = np.flatnonzero(np.isnan(xi))
    if unset.size:
        row = lambda v: _rows(_full(v, n), unset)  # noqa: E731
        psi_unset = row(psi)
        xi_w = np.ones(unset.size)
        wet = np.flatnonzero(~np.isnan(psi_unset))
        if wet.size:
            xi_w[wet] = moisture_scalar(_rows(psi_unset, wet), _rows(row(psi_min), wet), _rows(row(psi_max), wet),
                                        _rows(row(w_scaling), wet))
        xi[unset] = temperature_scalar(row(temperature), row(q10)) * xi_w * row(xi_depth)
    return xi


def _full(values, n_rows):
    """``values`` as a float array of shape (n_rows,): itself if it is one, else broadcast (no copy)."""
    if isinstance(values, np.ndarray) and values.shape == (n_rows,) and values.dtype == np.float64:
        return values
    return np.broadcast_to(np.asarray(values, dtype=float), (n_rows,))


def _by_column(*columns):
    """Arrays of shape (n_sets,) (or broadcastable to it) as the columns of a column-major (n_sets, k) array."""
    columns = np.broadcast_arrays(*columns)
    out = np.empty((len(columns), columns[0].shape[0]))
    for j, column in enumerate(columns):
        out[j] = column
    return out.T


def _rows(values, rows):
    """``values[rows]`` for an index array ``rows``, without the copy when it holds every row."""
    return np.ascontiguousarray(values) if rows.size == values.shape[0] else values[rows]


def water_potential(moisture, sand, clay, psi_mpa):
    """Water potential behind xi_W: ``psi_mpa`` if set, else from moisture if given, else NaN.

    Parameters
    ----------
    moisture : array_like, shape (n_sets,)
        Volumetric soil water; NaN means absent. [m3 m-3]
    sand, clay : array_like, shape (n_sets,)
        Texture. [%]
    psi_mpa : array_like, shape (n_sets,)
        Override; NaN means unset. [MPa]

    Returns
    -------
    ndarray, shape (n_sets,)
        [MPa]
    """
    psi = np.array(psi_mpa, dtype=float, copy=True)
    moisture = _full(moisture, psi.shape[0])
    rows = np.flatnonzero(np.isnan(psi) & ~np.isnan(moisture))
    if rows.size:
        at = lambda v: _rows(_full(v, psi.shape[0]), rows)  # noqa: E731
        psi[rows] = soil_water_potential(at(moisture), at(sand), at(clay))
    return psi


def coupled_tau_enz(km_doc):
    """Enzyme lifetime tied to K_a as in v22 (``couple_tau_enz_to_ka``).

    Parameters
    ----------
    km_doc : array_like
        Half-saturation of DOC uptake K_a, in [300, 3000]. [g C m-3]

    Returns
    -------
    ndarray
        ``tau_enz = 10**((K_a - 3000)/900)``: 1.29e-3 yr at K_a = 400, 0.031623 yr at 1650. [yr]
    """
    return 10.0 ** ((np.asarray(km_doc, dtype=float) - KA_COUPLING_RANGE[1]) / 900.0)


# -- litter and supply to the soil -----------------------------------------------------------
def litter_inputs(c_input, f_cwd, f_l1, f_l2, f_l3):
    """Input to CWD, L1, L2, L3, ``I_j = f_j c_input``.

    Parameters
    ----------
    c_input : array_like, shape (n_sets,)
        Total litter input (volumetric). [g C m-3 yr-1]
    f_cwd, f_l1, f_l2, f_l3 : array_like, shape (n_sets,)
        Input fractions, summing to 1. [1]

    Returns
    -------
    ndarray, shape (n_sets, 4)
        [g C m-3 yr-1]
    """
    c_input = np.asarray(c_input, dtype=float)
    # column-major (n_sets, 4): its columns are read one by one
    return _by_column(*(np.asarray(f, dtype=float) * c_input for f in (f_cwd, f_l1, f_l2, f_l3)))


def litter_outfluxes(inputs, f_cwdl2):
    """Decomposition fluxes ``F_1, F_2, F_3`` of L1-L3 at steady state (= their inputs).

    Parameters
    ----------
    inputs : ndarray, shape (n_sets, 4)
        Input to CWD, L1, L2, L3. [g C m-3 yr-1]
    f_cwdl2 : array_like, shape (n_sets,)
        Fraction of CWD fragmentation entering L2 (the rest enters L3). [1]

    Returns
    -------
    ndarray, shape (n_sets, 3)
        ``F_1 = I_l1``, ``F_2 = I_l2 + f_cwdl2 I_cwd``, ``F_3 = I_l3 + (1 - f_cwdl2) I_cwd``.
        [g C m-3 yr-1]
    """
    cwd = inputs[:, 0]
    flows = (inputs[:, 1], inputs[:, 2] + f_cwdl2 * cwd, inputs[:, 3] + (1.0 - f_cwdl2) * cwd)
    return _by_column(*flows)  # column-major, like inputs


def soil_supply(f, kin):
    """Carbon reaching DOC, SOC and MIC directly from litter decomposition.

    Parameters
    ----------
    f : ndarray, shape (n_sets, 3)
        Litter decomposition fluxes F_1, F_2, F_3. [g C m-3 yr-1]
    kin : Kinetics
        Routing ``p_l1, p_l2, p_l3`` and efficiencies ``eps_l1, eps_l23``.

    Returns
    -------
    i_doc, i_soc, i_mic : ndarray, shape (n_sets,)
        ``p_1 F_1 + p_2 F_2``, ``p_3 F_3`` and
        ``(1-p_1) eps_1 F_1 + (1-p_2) eps_23 F_2 + (1-p_3) eps_23 F_3``. [g C m-3 yr-1]
    """
    f1, f2, f3 = f[:, 0], f[:, 1], f[:, 2]
    i_doc = kin.p_l1 * f1 + kin.p_l2 * f2
    i_soc = kin.p_l3 * f3
    i_mic = (1.0 - kin.p_l1) * kin.eps_l1 * f1 + kin.eps_l23 * ((1.0 - kin.p_l2) * f2 + (1.0 - kin.p_l3) * f3)
    return i_doc, i_soc, i_mic


def reference_mic(c_input, inputs_share, f_cwdl2, kin):
    """MIC* of the linear model (beta = beta_enz = 1), ``J/[(1 - CUE)(k_d + k_e) xi]``.

    Parameters
    ----------
    c_input : array_like, shape (n_sets,)
        Total litter input (volumetric). [g C m-3 yr-1]
    inputs_share : tuple of 4 array_like, shape (n_sets,)
        Input fractions f_cwd, f_l1, f_l2, f_l3. [1]
    f_cwdl2 : array_like, shape (n_sets,)
        CWD -> L2 fraction. [1]
    kin : Kinetics
        Linear-model constants (``k_d``, ``k_e`` per yr, unscaled or scaled efficiencies as the
        caller wants them).

    Returns
    -------
    ndarray, shape (n_sets,)
        MIC*. [g C m-3]
    """
    f = litter_outfluxes(litter_inputs(c_input, *inputs_share), f_cwdl2)
    i_doc, i_soc, i_mic = soil_supply(f, kin)
    j = i_mic + kin.cue * (i_doc + i_soc)
    return j / ((1.0 - kin.cue) * (kin.k_d + kin.k_e) * kin.xi)


# -- microbial biomass -----------------------------------------------------------------------
def mic_root(q, k_d, k_e, beta, beta_enz):
    """Solve ``k_d m**beta + k_e m**beta_enz = q`` for m > 0 (vectorised safeguarded Newton).

    Parameters
    ----------
    q : ndarray, shape (n_sets,)
        Required microbial loss ``J/[(1 - CUE) xi]``, > 0. [g C m-3 yr-1]
    k_d, k_e : ndarray, shape (n_sets,)
        Death and enzyme-production constants, > 0. [(g C m-3)**(1-beta) yr-1]
    beta, beta_enz : ndarray, shape (n_sets,)
        Exponents, > 0. [1]

    Returns
    -------
    m : ndarray, shape (n_sets,)
        The root. [g C m-3]
    converged : ndarray of bool, shape (n_sets,)

    Notes
    -----
    In ``x = ln m`` the equation is ``h(x) = logaddexp(ln k_d + beta x, ln k_e + beta_enz x) -
    ln q = 0``. h is convex and increasing with slope between ``b_lo = min(beta, beta_enz)`` and
    ``max(beta, beta_enz)``, so the root is unique and, from the start ``x_0`` (the root of the
    linear model), lies in ``[x_0 - h_0/b_lo, x_0]`` if ``h_0 > 0`` and in
    ``[x_0, x_0 - h_0/b_lo]`` otherwise. Newton from the bracket's right end decreases
    monotonically to the root (a convex increasing function lies above its tangents); a step that
    leaves the bracket is replaced by bisection. Each row iterates until its own step is below
    ``ROOT_RTOL`` (relative in m) and is then frozen, so a row's result does not depend on the
    other rows of the batch.
    """
    log_q, log_kd, log_ke = np.log(q), np.log(k_d), np.log(k_e)
    b_lo = np.minimum(beta, beta_enz)
    x0 = log_q - np.logaddexp(log_kd, log_ke)
    h0 = np.logaddexp(log_kd + beta * x0, log_ke + beta_enz * x0) - log_q
    above, far = h0 > 0.0, x0 - h0 / b_lo
    lo = np.where(above, far, x0)
    hi = np.where(above, x0, far)
    x = hi.copy()
    converged = h0 == 0.0
    active = np.flatnonzero(~converged)
    # the active rows' values, compacted whenever some rows finish (not gathered at every step)
    xa, la, ha, kd, ke, b, be, lq = (_rows(v, active) for v in (x, lo, hi, log_kd, log_ke, beta, beta_enz, log_q))
    for _ in range(ROOT_MAX_ITER):
        if active.size == 0:
            break
        big_d = kd + b * xa
        big_e = ke + be * xa
        log_loss = np.logaddexp(big_d, big_e)
        h = log_loss - lq
        share_d = np.exp(big_d - log_loss)
        slope = b * share_d + be * (1.0 - share_d)
        la = np.where(h < 0.0, xa, la)
        ha = np.where(h > 0.0, xa, ha)
        step = xa - h / slope
        step = np.where((step >= la) & (step <= ha), step, 0.5 * (la + ha))
        at_root = h == 0.0
        done = (np.abs(step - xa) <= ROOT_RTOL) | at_root
        xa = np.where(at_root, xa, step)
        if done.any():
            x[active[done]] = xa[done]
            converged[active[done]] = True
            going = ~done
            active, xa, la, ha, kd, ke, b, be, lq = (v[going] for v in (active, xa, la, ha, kd, ke, b, be, lq))
    x[active] = xa  # rows not converged keep their last iterate
    return np.exp(x), converged


# -- steady state ------------------------------------------------------------------------------
def steady_state(inputs, kin):
    """Steady state of all eight pools (spec section (g)).

    Parameters
    ----------
    inputs : ndarray, shape (n_sets, 4)
        Input to CWD, L1, L2, L3. [g C m-3 yr-1]
    kin : Kinetics
        Per-row constants.

    Returns
    -------
    pools : ndarray, shape (n_sets, 8)
        Steady-state pools, NaN where none exists. [g C m-3]
    failure : ndarray of int8, shape (n_sets,)
        ``EXISTS``, ``NO_SOC`` (c <= a), ``NO_DOC`` (V <= U*) or ``NO_ROOT``.
    diagnostics : dict of ndarray, shape (n_sets,)
        ``a``, ``c``, ``u``, ``v`` of the existence conditions. [g C m-3 yr-1]

    Notes
    -----
    Litter: ``CWD* = I_cwd/(xi k_cwd)``, ``L_i* = F_i/(xi k_i)``. MIC* solves
    ``D + P = J/(1 - CUE)``, ``J = I_mic + CUE (I_doc + I_soc)``: in closed form
    ``J/[(1 - CUE)(k_d + k_e) xi]`` where beta = beta_enz = 1, else :func:`mic_root`.
    ``ENZ* = P*/(xi k_z)``; with ``a = I_soc + p_d D*`` and ``c = xi k_s ENZ*``,
    ``SOC* = xi_K K_d a/(c - a)`` (exists iff c > a); with ``U* = (I_doc + I_soc + I_mic)/(1 - CUE)``
    and ``V = xi k_u MIC*``, ``DOC* = xi_K K_a U*/(V - U*)`` (exists iff V > U*).
    """
    xi = kin.xi
    f = litter_outfluxes(inputs, kin.f_cwdl2)
    i_doc, i_soc, i_mic = soil_supply(f, kin)
    j = i_mic + kin.cue * (i_doc + i_soc)
    loss = j / ((1.0 - kin.cue) * xi)
    mic = loss / (kin.k_d + kin.k_e)
    failure = np.zeros(inputs.shape[0], dtype=np.int8)
    nonlinear = np.flatnonzero((kin.beta != 1.0) | (kin.beta_enz != 1.0))
    if nonlinear.size:
        columns = (loss, kin.k_d, kin.k_e, kin.beta, kin.beta_enz)
        root, converged = mic_root(*(_rows(v, nonlinear) for v in columns))
        if nonlinear.size == mic.size:
            mic = root
        else:
            mic[nonlinear] = root
        failure[nonlinear[~converged]] = NO_ROOT
    death = xi * kin.k_d * mic**kin.beta
    enz = kin.k_e * mic**kin.beta_enz / kin.k_z
    a = i_soc + kin.p_d * death
    c = xi * kin.k_s * enz
    u = (i_doc + i_soc + i_mic) / (1.0 - kin.cue)
    v = xi * kin.k_u * mic
    with np.errstate(divide="ignore", invalid="ignore"):
        soc = kin.km_soc * a / (c - a)
        doc = kin.km_doc * u / (v - u)
    failure[(failure == EXISTS) & ~(c > a)] = NO_SOC
    failure[(failure == EXISTS) & ~(v > u)] = NO_DOC
    pools = _by_column(  # column-major (n_sets, 8): read column by column downstream
        inputs[:, 0] / (xi * kin.k_cwd), f[:, 0] / (xi * kin.k_l1), f[:, 1] / (xi * kin.k_l23),
        f[:, 2] / (xi * kin.k_l23), doc, mic, enz, soc,
    )
    pools[failure != EXISTS] = np.nan
    return pools, failure, {"a": a, "c": c, "u": u, "v": v}


def tendencies(pools, inputs, kin):
    """Right-hand side of the ODEs (spec section (c)) and the carbon fluxes.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 8)
        Pools, >= 0. [g C m-3]
    inputs : ndarray, shape (n_sets, 4)
        Input to CWD, L1, L2, L3. [g C m-3 yr-1]
    kin : Kinetics
        Per-row constants.

    Returns
    -------
    dpools_dt : ndarray, shape (n_sets, 8)
        [g C m-3 yr-1]
    fluxes : dict of ndarray, shape (n_sets,)
        ``uptake = sum_i (1-p_i) F_i + U``, ``growth = sum_i (1-p_i) eps_i F_i + CUE U``
        (growth/uptake is cue_bulk), ``respiration`` R_h = uptake - growth, ``leaching`` = 0.
        [g C m-3 yr-1]
    """
    xi = kin.xi
    cwd, l1, l2, l3, doc, mic, enz, soc = pools.T
    f_cwd = xi * kin.k_cwd * cwd
    xi_k23 = xi * kin.k_l23
    f1, f2, f3 = xi * kin.k_l1 * l1, xi_k23 * l2, xi_k23 * l3
    uptake_doc = xi * kin.k_u * mic * doc / (kin.km_doc + doc)
    death = xi * kin.k_d * mic**kin.beta
    production = xi * kin.k_e * mic**kin.beta_enz
    decay = xi * kin.k_z * enz
    depolymerisation = xi * kin.k_s * enz * soc / (kin.km_soc + soc)
    into_2, into_3 = (1.0 - kin.p_l2) * f2, (1.0 - kin.p_l3) * f3  # litter carbon taken up by microbes
    litter_uptake = (1.0 - kin.p_l1) * f1 + into_2 + into_3
    litter_growth = (1.0 - kin.p_l1) * kin.eps_l1 * f1 + kin.eps_l23 * (into_2 + into_3)
    growth = litter_growth + kin.cue * uptake_doc
    dpools = _by_column(  # column-major (n_sets, 8)
        inputs[:, 0] - f_cwd,
        inputs[:, 1] - f1,
        inputs[:, 2] + kin.f_cwdl2 * f_cwd - f2,
        inputs[:, 3] + (1.0 - kin.f_cwdl2) * f_cwd - f3,
        kin.p_l1 * f1 + kin.p_l2 * f2 + (1.0 - kin.p_d) * death + decay + depolymerisation - uptake_doc,
        growth - death - production,
        production - decay,
        kin.p_l3 * f3 + kin.p_d * death - depolymerisation,
    )
    uptake = litter_uptake + uptake_doc
    respiration = (litter_uptake - litter_growth) + (1.0 - kin.cue) * uptake_doc
    fluxes = {"uptake": uptake, "growth": growth, "respiration": respiration,
              "leaching": np.zeros(pools.shape[0])}
    return dpools, fluxes


def pool_fluxes(pools, inputs, kin):
    """The flows of :func:`tendencies` pool by pool: inputs, transfers and respiration.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 8)
        Pools, >= 0. [g C m-3]
    inputs : ndarray, shape (n_sets, 4)
        Input to CWD, L1, L2, L3. [g C m-3 yr-1]
    kin : Kinetics
        Per-row constants.

    Returns
    -------
    inputs : ndarray, shape (n_sets, 8)
        ``I_j`` to CWD, L1, L2, L3. [g C m-3 yr-1]
    transfers : ndarray, shape (n_sets, 8, 8)
        ``transfers[:, i, j]``: flux from pool i to pool j (spec section (c)): CWD -> L2, L3; litter
        ``p_i F_i`` -> DOC (SOC for L3) and its growth ``(1 - p_i) eps_i F_i`` -> MIC; DOC growth
        ``CUE U`` -> MIC; death D -> DOC, SOC by ``1 - p_d``, ``p_d``; P MIC -> ENZ; Z ENZ -> DOC;
        S SOC -> DOC. [g C m-3 yr-1]
    outflux : ndarray, shape (n_sets, 8)
        The respired part of each uptake, leaving from its substrate: ``(1 - p_i)(1 - eps_i) F_i``
        from L1-L3, ``(1 - CUE) U`` from DOC; they sum to R_h. [g C m-3 yr-1]
    """
    xi = kin.xi
    cwd, l1, l2, l3, doc, mic, enz, soc = pools.T
    f_cwd = xi * kin.k_cwd * cwd
    xi_k23 = xi * kin.k_l23
    f1, f2, f3 = xi * kin.k_l1 * l1, xi_k23 * l2, xi_k23 * l3
    uptake_doc = xi * kin.k_u * mic * doc / (kin.km_doc + doc)
    death = xi * kin.k_d * mic**kin.beta
    n = pools.shape[0]
    flows = np.zeros((n, len(POOL_NAMES), len(POOL_NAMES)))
    outflux = np.zeros((n, len(POOL_NAMES)))
    flows[:, CWD, L2] = kin.f_cwdl2 * f_cwd
    flows[:, CWD, L3] = (1.0 - kin.f_cwdl2) * f_cwd
    for litter, f, p, eps, target in ((L1, f1, kin.p_l1, kin.eps_l1, DOC), (L2, f2, kin.p_l2, kin.eps_l23, DOC),
                                      (L3, f3, kin.p_l3, kin.eps_l23, SOC)):
        flows[:, litter, target] = p * f
        flows[:, litter, MIC] = eps * ((1.0 - p) * f)
        outflux[:, litter] = (1.0 - eps) * ((1.0 - p) * f)
    flows[:, DOC, MIC] = kin.cue * uptake_doc
    outflux[:, DOC] = (1.0 - kin.cue) * uptake_doc
    flows[:, MIC, DOC] = (1.0 - kin.p_d) * death
    flows[:, MIC, SOC] = kin.p_d * death
    flows[:, MIC, ENZ] = xi * kin.k_e * mic**kin.beta_enz
    flows[:, ENZ, DOC] = xi * kin.k_z * enz
    flows[:, SOC, DOC] = xi * kin.k_s * enz * soc / (kin.km_soc + soc)
    external = np.zeros((n, len(POOL_NAMES)))
    external[:, CWD : L3 + 1] = inputs
    return external, flows, outflux


def published_bulk_cue(pools, kin):
    """The published bulk CUE diagnostic ``bulk_A`` of v22 ``fun_bulk_process.m``.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 8)
        Pools. [g C m-3]
    kin : Kinetics
        Per-row constants.

    Returns
    -------
    ndarray, shape (n_sets,)
        ``[sum_i (1-p_i)**2 eps_i F_i + CUE U] / [sum_i (1-p_i) F_i + U]``: the code weights the
        transfer coefficients ``(1-p_i) eps_i`` by the flows ``(1-p_i) F_i``, so each litter
        efficiency carries an extra factor (1 - p_i) compared with ``cue_bulk``. [1]
    """
    xi = kin.xi
    f = xi[:, None] * np.column_stack([kin.k_l1, kin.k_l23, kin.k_l23]) * pools[:, L1 : L3 + 1]
    p = np.column_stack([kin.p_l1, kin.p_l2, kin.p_l3])
    eps = np.column_stack([kin.eps_l1, kin.eps_l23, kin.eps_l23])
    u = xi * kin.k_u * pools[:, MIC] * pools[:, DOC] / (kin.km_doc + pools[:, DOC])
    return (((1.0 - p) ** 2 * eps * f).sum(axis=1) + kin.cue * u) / (((1.0 - p) * f).sum(axis=1) + u)


# -- local stability -----------------------------------------------------------------------------
class SoilJacobian(NamedTuple):
    """Entries of the soil-block Jacobian, each of shape (n_sets,) [yr-1].

    In the order (DOC, MIC, ENZ, SOC) the block has the zero pattern
    ``J = [[-a, x, y, w], [b, m, 0, 0], [0, p, -z, 0], [0, q, -s, -ww]]``.
    """

    a: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    b: np.ndarray
    m: np.ndarray
    p: np.ndarray
    z: np.ndarray
    q: np.ndarray
    s: np.ndarray
    ww: np.ndarray

    def matrix(self) -> np.ndarray:
        """The dense block, shape (n_sets, 4, 4) [yr-1]."""
        jac = np.zeros((self.a.shape[0], 4, 4))
        jac[:, 0] = np.column_stack([-self.a, self.x, self.y, self.w])
        jac[:, 1, :2] = np.column_stack([self.b, self.m])
        jac[:, 2, 1:3] = np.column_stack([self.p, -self.z])
        jac[:, 3, 1:] = np.column_stack([self.q, -self.s, -self.ww])
        return jac


def soil_jacobian(pools, kin):
    """Jacobian of the soil block (DOC, MIC, ENZ, SOC) of the right-hand side.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 8)
        Pools with MIC > 0. [g C m-3]
    kin : Kinetics
        Per-row constants.

    Returns
    -------
    SoilJacobian
        ``d(dX_r/dt)/dX_c`` for r, c in (DOC, MIC, ENZ, SOC). [yr-1]

    Notes
    -----
    The full 8 x 8 Jacobian is block lower-triangular: litter does not depend on the soil pools,
    and its own block is lower-triangular with diagonal ``-xi k_i < 0``. Its eigenvalues are
    those of the litter block (all negative) and of this soil block, so the equilibrium is
    locally stable iff every eigenvalue of this block has a negative real part. Entries:
    ``a = dU/dDOC``, ``x = (1 - p_d) dD/dMIC - dU/dMIC``, ``y = xi k_z + dS/dENZ``,
    ``w = ww = dS/dSOC``, ``b = CUE dU/dDOC``, ``m = CUE dU/dMIC - dD/dMIC - dP/dMIC``,
    ``p = dP/dMIC``, ``z = xi k_z``, ``q = p_d dD/dMIC``, ``s = dS/dENZ``.
    """
    xi = kin.xi
    doc, mic, enz, soc = pools[:, DOC], pools[:, MIC], pools[:, ENZ], pools[:, SOC]
    u_doc = xi * kin.k_u * mic * kin.km_doc / (kin.km_doc + doc) ** 2
    u_mic = xi * kin.k_u * doc / (kin.km_doc + doc)
    d_mic = kin.beta * xi * kin.k_d * mic ** (kin.beta - 1.0)
    p_mic = kin.beta_enz * xi * kin.k_e * mic ** (kin.beta_enz - 1.0)
    z_enz = xi * kin.k_z
    s_enz = xi * kin.k_s * soc / (kin.km_soc + soc)
    s_soc = xi * kin.k_s * enz * kin.km_soc / (kin.km_soc + soc) ** 2
    return SoilJacobian(
        a=u_doc, x=(1.0 - kin.p_d) * d_mic - u_mic, y=z_enz + s_enz, w=s_soc, b=kin.cue * u_doc,
        m=kin.cue * u_mic - d_mic - p_mic, p=p_mic, z=z_enz, q=kin.p_d * d_mic, s=s_enz, ww=s_soc,
    )


def characteristic_coefficients(jac):
    """Coefficients of ``det(lambda I - J) = lambda**4 + c1 lambda**3 + c2 lambda**2 + c3 lambda + c4``.

    Parameters
    ----------
    jac : SoilJacobian
        Entries of the soil block. [yr-1]

    Returns
    -------
    coefficients : tuple of 4 ndarray, shape (n_sets,)
        c1 .. c4. [yr-1 .. yr-4]
    magnitudes : tuple of 4 ndarray, shape (n_sets,)
        The same expressions evaluated on the absolute values of the entries with every sign
        positive: the rounding error of ``c_k`` is below a small multiple of eps times this.

    Notes
    -----
    Expanding the principal minors of the pattern of :class:`SoilJacobian`, with
    ``t = z + ww``::

        c1 = a - m + t
        c2 = a (t - m) - b x - m t + z ww
        c3 = z ww (a - m) - a m t - b (p y + q w + x t)
        c4 = -z ww (a m + b x) + b (p (s w - y ww) - q w z)
    """
    a, x, y, w, b, m, p, z, q, s, ww = jac
    t, zw, am = z + ww, z * ww, a * m
    c1 = a - m + t
    c2 = a * (t - m) - b * x - m * t + zw
    c3 = zw * (a - m) - am * t - b * (p * y + q * w + x * t)
    c4 = -zw * (am + b * x) + b * (p * (s * w - y * ww) - q * w * z)
    a, x, y, w, b, m, p, z, q, s, ww = (np.abs(v) for v in jac)
    t, zw, am, bx = z + ww, z * ww, a * m, b * x
    m1 = a + m + t
    m2 = a * (t + m) + bx + m * t + zw
    m3 = zw * (a + m) + am * t + b * (p * y + q * w + x * t)
    m4 = zw * (am + bx) + b * (p * (s * w + y * ww) + q * w * z)
    return (c1, c2, c3, c4), (m1, m2, m3, m4)


def hurwitz_stable(jac):
    """Local stability of the soil block by the Routh-Hurwitz criterion (``models.stability``).

    Parameters
    ----------
    jac : SoilJacobian
        Entries of the soil block. [yr-1]

    Returns
    -------
    stable : ndarray of bool, shape (n_sets,)
        Every eigenvalue has a negative real part (trusted where ``decided``).
    decided : ndarray of bool, shape (n_sets,)
        False where a Routh quantity is within ``HURWITZ_RTOL`` of its rounding scale; the
        caller decides those rows with eigenvalues.

    Notes
    -----
    The shared Routh array of MIMICS and Millennial, fed with this model's closed-form
    coefficients and their magnitudes (:func:`characteristic_coefficients`). Unlike eigenvalues,
    whose absolute error is ~eps ||J|| (||J|| is often 1e2-1e4 yr-1, set by
    ``y = xi (k_z + k_s SOC/(xi_K K_d + SOC))``), the coefficients keep their relative accuracy
    when one eigenvalue is tiny (e.g. ``-dS/dSOC`` at a large SOC*), because every term of c4
    carries the factor ``ww``.
    """
    coefficients, magnitudes = characteristic_coefficients(jac)
    return routh_hurwitz(np.array(coefficients), np.array(magnitudes), HURWITZ_RTOL)


def max_real_eigenvalue(jac):
    """Largest real part of the eigenvalues of the soil block.

    Parameters
    ----------
    jac : SoilJacobian
        Entries of the soil block. [yr-1]

    Returns
    -------
    ndarray, shape (n_sets,)
        [yr-1]; NaN for a row with a non-finite entry (an overflow), which has no eigenvalues.
    """
    return max_real_eigenvalues(jac.matrix())

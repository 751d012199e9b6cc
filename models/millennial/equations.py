"""Millennial v2 (Abramoff et al. 2022): right-hand side, Jacobian and semi-analytic steady state.

Pure vectorised numpy in the model's native units: pools in g C m-2, time in days. Every function
takes arrays of shape ``(n_sets,)`` (or broadcastable scalars) and works on all rows at once; no
function loops over rows in Python. Spec: ``docs/models/millennial.md``; equation numbers follow
Abramoff et al. (2022). Published reference code: ``rabramoff/Millennial`` @ ``859f977``,
``R/models/derivs_V2_MM.R``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .. import stability as stab

#: universal gas constant of the published code [J mol-1 K-1]
GAS_CONSTANT = 8.31446
#: 0 degC [K]
ZERO_CELSIUS = 273.15
#: days per year: c_input [g C m-2 yr-1] / 365 = I [g C m-2 d-1]
DAYS_PER_YEAR = 365.0
#: turnover exponent of the published code; rate_bd is calibrated for it
BETA_PUBLISHED = 2.0

POOL_NAMES = ("pom", "lmwc", "agg", "mic", "maom")
POM, LMWC, AGG, MIC, MAOM = range(len(POOL_NAMES))

#: relative tolerance of the LMWC root (spec section 7, step 1)
ROOT_RTOL = 1e-15
#: iterations allowed after bracketing: Newton needs < 10; a root within rounding of I/c (MIC ->
#: 0) is found by bisection, ~50 halvings of a factor-2 bracket, at most every other step
ROOT_MAXITER = 200
_EPS = float(np.finfo(float).eps)


class Rates(NamedTuple):
    """Rate constants of each row at its site (one array of shape (n_sets,) per field)."""

    inputs: np.ndarray  # I, plant carbon input [g C m-2 d-1]
    p_i: np.ndarray  # share of I to POM [1]
    p_a: np.ndarray  # share of AGG breakdown to POM [1]
    p_b: np.ndarray  # share of microbial turnover to MAOM [1]
    w_d: np.ndarray  # moisture scalar of Eq 4 [1]
    v_pl: np.ndarray  # maximum depolymerisation rate, Eq 3 [d-1]
    k_pl: np.ndarray  # half-saturation of depolymerisation in MIC [g C m-2]
    v_up: np.ndarray  # V_lb w_b, maximum uptake rate incl. moisture, Eqs 14-15 [d-1]
    k_lb: np.ndarray  # half-saturation of uptake in LMWC [g C m-2]
    k_pa: np.ndarray  # POM -> AGG [d-1]
    k_break: np.ndarray  # AGG breakdown [d-1]
    k_leach: np.ndarray  # LMWC leaching [d-1]
    k_ma: np.ndarray  # MAOM -> AGG [d-1]
    k_des: np.ndarray  # desorption [g C m-2 d-1]
    k_lm: np.ndarray  # sorption affinity, Eq 10 [d-1]
    q_max: np.ndarray  # sorption capacity, Eq 11 [g C m-2]
    cue: np.ndarray  # carbon-use efficiency incl. cue_scale, Eq 21 [1]
    k_b: np.ndarray  # turnover coefficient incl. scale and R_beta [(g C m-2)^(1-beta) d-1]
    beta: np.ndarray  # turnover exponent [1]


class SteadyState(NamedTuple):
    """Steady states of a batch and everything step 4 of spec section 7 verifies.

    Rows that could not be solved hold NaN pools; the diagnostics say why.
    """

    pools: np.ndarray  # (n, 5) [g C m-2]
    root_converged: np.ndarray  # (n,) bool: the LMWC root met its tolerance (True for beta = 1)
    uptake_margin: np.ndarray  # (n,) CUE V_up - k_b [d-1]; beta = 1 needs > 0 (NaN otherwise)
    input_margin: np.ndarray  # (n,) I - k_leach w_d L* [g C m-2 d-1]; beta = 1 needs > 0
    residual: np.ndarray  # (n,) max|dX/dt| / I [1]
    balance: np.ndarray  # (n,) |F_r + F_le - I| / I [1]
    stable: np.ndarray  # (n,) bool: every eigenvalue of the Jacobian has Re < 0 (False where not tested)
    max_real_eigenvalue: np.ndarray  # (n,) of the Jacobian where tested and not stable, NaN elsewhere [d-1]
    dpools: np.ndarray  # (n, 5) tendencies at ``pools`` [g C m-2 d-1]
    fluxes: dict  # the fluxes of :func:`fluxes` at ``pools`` [g C m-2 d-1]


# -- environmental terms ---------------------------------------------------------------------------
def moisture_scalars(moisture, porosity, matpot, lambda_, kamin):
    """Moisture scalars w_d (Eq 4) and w_b (Eq 15).

    Parameters
    ----------
    moisture : array_like
        Volumetric water content theta, ``0 < theta < porosity``. [m3 m-3]
    porosity : array_like
        Porosity phi. [m3 m-3]
    matpot : array_like
        Matric potential psi (magnitude). [kPa]
    lambda_ : array_like
        Uptake sensitivity to psi. [kPa-1]
    kamin : array_like
        Relative uptake at saturation. [1]

    Returns
    -------
    w_d, w_b : ndarray
        ``w_d = (theta/phi)^0.5``;
        ``w_b = exp(-lambda psi) [kamin + (1 - kamin) ((phi - theta)/phi)^0.5] w_d``. [1]
    """
    moisture = np.asarray(moisture, dtype=float)
    w_d = np.sqrt(moisture / porosity)
    air_filled = (porosity - moisture) / porosity
    w_b = np.exp(lambda_ * -np.asarray(matpot)) * (kamin + (1.0 - kamin) * np.sqrt(air_filled)) * w_d
    return w_d, w_b


def arrhenius(alpha, eact, temperature):
    """Maximum rate ``alpha exp(-E / (R (T + 273.15)))`` (Eqs 3, 14).

    Parameters
    ----------
    alpha : array_like
        Pre-exponential factor. [d-1]
    eact : array_like
        Activation energy. [J mol-1]
    temperature : array_like
        Soil temperature. [degC]

    Returns
    -------
    ndarray
        [d-1]
    """
    return alpha * np.exp(-np.asarray(eact) / (GAS_CONSTANT * (np.asarray(temperature) + ZERO_CELSIUS)))


def carbon_use_efficiency(temperature, cue_ref, cue_t, tae_ref, cue_scale=1.0):
    """CUE of Eq 21 times ``cue_scale``: ``cue_scale [cue_ref - cue_t (T - tae_ref)]``, not clamped.

    Parameters
    ----------
    temperature : array_like
        Soil temperature. [degC]
    cue_ref : array_like
        CUE at ``tae_ref``. [1]
    cue_t : array_like
        Slope of CUE with temperature. [degC-1]
    tae_ref : array_like
        Reference temperature. [degC]
    cue_scale : array_like
        Multiplier (the shared driver). [1]

    Returns
    -------
    ndarray
        [1]; valid only inside (0, 1).
    """
    return cue_scale * (cue_ref - cue_t * (np.asarray(temperature, dtype=float) - tae_ref))


def sorption_affinity(ph, kaff_des, param_p1, param_p2):
    """Binding affinity ``K_lm = k_des exp(-p1 pH - p2)`` (Eq 10, natural exp).

    Parameters
    ----------
    ph : array_like
        Soil pH. [1]
    kaff_des : array_like
        Desorption rate k_des (same number as in Eq 12). [g C m-2 d-1]
    param_p1, param_p2 : array_like
        pH terms. [1]

    Returns
    -------
    ndarray
        [d-1] as used in Eq 9 (see the unit note in the spec).
    """
    return np.exp(-np.asarray(param_p1) * ph - param_p2) * kaff_des


def sorption_capacity(bulk_density, param_pc, clay_silt):
    """Langmuir capacity ``Q_max = rho_b f_cs p_c`` (Eq 11), without a depth factor.

    Parameters
    ----------
    bulk_density : array_like
        Bulk density. [kg m-3]
    param_pc : array_like
        Slope of mineral-associated C with clay + silt. [g C kg-1 %-1]
    clay_silt : array_like
        Clay + silt content. [%]

    Returns
    -------
    ndarray
        Capacity of a 1 m column. [g C m-2]
    """
    return bulk_density * np.asarray(clay_silt, dtype=float) * param_pc


def site_rates(params: Mapping[str, np.ndarray], *, c_input, temperature, moisture, clay_silt, ph,
               cue_scale, turnover_scale, beta) -> Rates:
    """All rate constants of a batch.

    Parameters
    ----------
    params : mapping of str to ndarray
        The parameters by their published names (``param_pi`` ... ``param_pc``, ``lambda_``).
    c_input : array_like
        Plant carbon input. [g C m-2 yr-1]
    temperature : array_like
        [degC]
    moisture : array_like
        [m3 m-3]
    clay_silt : array_like
        Clay + silt. [%]
    ph : array_like
        [1]
    cue_scale : array_like
        Multiplier on CUE. [1]
    turnover_scale : array_like
        Multiplier on ``rate_bd``: ``mic_turnover_scale R_beta``. [1]
    beta : array_like
        Turnover exponent. [1]

    Returns
    -------
    Rates
    """
    p = params
    w_d, w_b = moisture_scalars(moisture, p["porosity"], p["matpot"], p["lambda_"], p["kamin"])
    n = w_d.shape
    return Rates(
        inputs=np.asarray(c_input, dtype=float) / DAYS_PER_YEAR, p_i=p["param_pi"], p_a=p["param_pa"],
        p_b=p["param_pb"], w_d=w_d, v_pl=arrhenius(p["alpha_pl"], p["eact_pl"], temperature),
        k_pl=p["kaff_pl"], v_up=arrhenius(p["alpha_lb"], p["eact_lb"], temperature) * w_b,
        k_lb=p["kaff_lb"], k_pa=p["rate_pa"], k_break=p["rate_break"], k_leach=p["rate_leach"],
        k_ma=p["rate_ma"], k_des=p["kaff_des"],
        k_lm=sorption_affinity(ph, p["kaff_des"], p["param_p1"], p["param_p2"]),
        q_max=sorption_capacity(p["param_bulkd"], p["param_pc"], clay_silt),
        cue=carbon_use_efficiency(temperature, p["cue_ref"], p["cue_t"], p["tae_ref"], cue_scale),
        k_b=turnover_scale * p["rate_bd"], beta=np.broadcast_to(np.asarray(beta, dtype=float), n),
    )


def beta_rescaling(mic_ref, beta, beta0=BETA_PUBLISHED):
    """R_beta = MIC_ref^(beta0 - beta): keeps the turnover flux at MIC_ref when beta changes.

    Parameters
    ----------
    mic_ref : array_like
        Steady-state MIC at the reference site with beta0. [g C m-2]
    beta : array_like
        Turnover exponent. [1]
    beta0 : float
        Exponent ``rate_bd`` was calibrated for. [1]

    Returns
    -------
    ndarray
        [(g C m-2)^(beta0 - beta)], exactly 1 where ``beta == beta0``.
    """
    beta = np.asarray(beta, dtype=float)
    return np.where(beta == beta0, 1.0, np.power(mic_ref, beta0 - beta))


# -- right-hand side -------------------------------------------------------------------------------
def fluxes(pools, r: Rates):
    """The fluxes of spec section 3, each 0 unless every pool it uses is > 0 (as the R code).

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 5)
        POM, LMWC, AGG, MIC, MAOM. [g C m-2]
    r : Rates

    Returns
    -------
    dict of ndarray, shape (n_sets,)
        ``f_pl, f_pa, f_ab, f_le, f_lm, f_ml, f_lb, f_bt, f_ma, f_r``. [g C m-2 d-1]
    """
    pom, lmwc, agg, mic, maom = (pools[:, j] for j in range(len(POOL_NAMES)))
    has_pom, has_lmwc, has_mic, has_maom = pom > 0, lmwc > 0, mic > 0, maom > 0
    zero = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        f_lb = np.where(has_lmwc & has_mic, r.v_up * mic * lmwc / (r.k_lb + lmwc), zero)
        return {
            "f_pl": np.where(has_pom & has_mic, r.v_pl * r.w_d * pom * mic / (r.k_pl + mic), zero),  # Eq 2
            "f_pa": np.where(has_pom, r.k_pa * r.w_d * pom, zero),  # Eq 5
            "f_ab": np.where(agg > 0, r.k_break * r.w_d * agg, zero),  # Eq 6
            "f_le": np.where(has_lmwc, r.k_leach * r.w_d * lmwc, zero),  # Eq 8
            "f_lm": np.where(has_lmwc & has_maom, r.w_d * r.k_lm * lmwc * (1.0 - maom / r.q_max), zero),  # Eq 9
            "f_ml": np.where(has_maom, r.k_des * maom / r.q_max, zero),  # Eq 12
            "f_lb": f_lb,  # Eq 13
            "f_bt": np.where(has_mic, r.k_b * np.power(mic, r.beta), zero),  # Eq 16
            "f_ma": np.where(has_maom, r.k_ma * r.w_d * maom, zero),  # Eq 18
            "f_r": f_lb * (1.0 - r.cue),  # Eq 21
        }


def tendencies(pools, r: Rates):
    """Right-hand side dX/dt (Eqs 1, 7, 17, 20, 19) and the fluxes behind it.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 5)
        [g C m-2]
    r : Rates

    Returns
    -------
    dpools_dt : ndarray, shape (n_sets, 5)
        [g C m-2 d-1]
    fluxes : dict of ndarray
        As :func:`fluxes`. [g C m-2 d-1]

    Notes
    -----
    The pools sum to ``d(SOC)/dt = I - F_le - F_r``.
    """
    f = fluxes(pools, r)
    dpools = np.empty(np.shape(pools))
    dpools[:, POM] = r.inputs * r.p_i + f["f_ab"] * r.p_a - f["f_pa"] - f["f_pl"]
    dpools[:, LMWC] = (r.inputs * (1.0 - r.p_i) - f["f_le"] + f["f_pl"] - f["f_lm"] - f["f_lb"]
                       + f["f_bt"] * (1.0 - r.p_b) + f["f_ml"])
    dpools[:, AGG] = f["f_ma"] + f["f_pa"] - f["f_ab"]
    dpools[:, MIC] = f["f_lb"] - f["f_bt"] - f["f_r"]
    dpools[:, MAOM] = f["f_lm"] - f["f_ml"] + f["f_bt"] * r.p_b - f["f_ma"] + f["f_ab"] * (1.0 - r.p_a)
    return dpools, f


def pool_fluxes(pools, r: Rates):
    """The flows of :func:`tendencies` pool by pool: inputs, transfers, respiration and leaching.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 5)
        [g C m-2]
    r : Rates

    Returns
    -------
    inputs : ndarray, shape (n_sets, 5)
        ``p_i I`` to POM and ``(1 - p_i) I`` to LMWC. [g C m-2 d-1]
    transfers : ndarray, shape (n_sets, 5, 5)
        ``transfers[:, i, j]``: flux from pool i to pool j, the "from -> to" of spec section 3;
        of the uptake F_lb only the growth ``F_lb - F_r`` (= CUE F_lb) moves LMWC -> MIC. [g C m-2 d-1]
    outflux : ndarray, shape (n_sets, 5)
        LMWC loses F_le (leaching) and F_r: respiration, which Eq 20 books on MIC, is the part of the
        uptake respired as it is taken up, so it leaves from the substrate. [g C m-2 d-1]
    """
    f = fluxes(pools, r)
    n = np.shape(pools)[0]
    inputs = np.zeros((n, len(POOL_NAMES)))
    inputs[:, POM] = r.inputs * r.p_i
    inputs[:, LMWC] = r.inputs * (1.0 - r.p_i)
    transfers = np.zeros((n, len(POOL_NAMES), len(POOL_NAMES)))
    for donor, receiver, flux in ((POM, LMWC, f["f_pl"]), (POM, AGG, f["f_pa"]), (AGG, POM, f["f_ab"] * r.p_a),
                                  (AGG, MAOM, f["f_ab"] * (1.0 - r.p_a)), (LMWC, MAOM, f["f_lm"]),
                                  (MAOM, LMWC, f["f_ml"]), (LMWC, MIC, f["f_lb"] - f["f_r"]),
                                  (MIC, MAOM, f["f_bt"] * r.p_b), (MIC, LMWC, f["f_bt"] * (1.0 - r.p_b)),
                                  (MAOM, AGG, f["f_ma"])):
        transfers[:, donor, receiver] = flux
    outflux = np.zeros((n, len(POOL_NAMES)))
    outflux[:, LMWC] = f["f_le"] + f["f_r"]
    return inputs, transfers, outflux


def jacobian(pools, r: Rates):
    """Analytic Jacobian ``d(dX_i/dt)/dX_j`` at pools that are all > 0.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 5)
        [g C m-2], every entry > 0 (the flux guards are inactive there).
    r : Rates

    Returns
    -------
    ndarray, shape (n_sets, 5, 5)
        [d-1]; a view of an array of shape (5, 5, n_sets), so that each entry is contiguous over
        rows (what ``models.stability`` reads fastest).
    """
    pom, lmwc, _, mic, maom = (pools[:, j] for j in range(len(POOL_NAMES)))
    a, b, m, c = r.k_pa * r.w_d, r.k_break * r.w_d, r.k_ma * r.w_d, r.k_leach * r.w_d
    pl_pom = r.v_pl * r.w_d * mic / (r.k_pl + mic)
    pl_mic = r.v_pl * r.w_d * pom * r.k_pl / (r.k_pl + mic) ** 2
    lm_lmwc = r.w_d * r.k_lm * (1.0 - maom / r.q_max)
    lm_maom = -r.w_d * r.k_lm * lmwc / r.q_max
    ml_maom = r.k_des / r.q_max
    lb_lmwc = r.v_up * mic * r.k_lb / (r.k_lb + lmwc) ** 2
    lb_mic = r.v_up * lmwc / (r.k_lb + lmwc)
    bt_mic = r.k_b * r.beta * np.power(mic, r.beta - 1.0)
    jac = np.zeros((5, 5, pools.shape[0]))  # entry-major: each entry contiguous over rows
    jac[POM, POM] = -a - pl_pom
    jac[POM, AGG] = r.p_a * b
    jac[POM, MIC] = -pl_mic
    jac[LMWC, POM] = pl_pom
    jac[LMWC, LMWC] = -c - lm_lmwc - lb_lmwc
    jac[LMWC, MIC] = pl_mic - lb_mic + (1.0 - r.p_b) * bt_mic
    jac[LMWC, MAOM] = -lm_maom + ml_maom
    jac[AGG, POM] = a
    jac[AGG, AGG] = -b
    jac[AGG, MAOM] = m
    jac[MIC, LMWC] = r.cue * lb_lmwc
    jac[MIC, MIC] = r.cue * lb_mic - bt_mic
    jac[MAOM, LMWC] = lm_lmwc
    jac[MAOM, AGG] = (1.0 - r.p_a) * b
    jac[MAOM, MIC] = r.p_b * bt_mic
    jac[MAOM, MAOM] = lm_maom - ml_maom - m
    return np.moveaxis(jac, -1, 0)


# -- steady state ----------------------------------------------------------------------------------
def system_balance(lmwc, r: Rates):
    """h(L) = k_leach w_d L + (1 - CUE) u(L) B(L) - I of spec section 7 (beta > 1).

    Parameters
    ----------
    lmwc : array_like
        LMWC. [g C m-2]
    r : Rates

    Returns
    -------
    ndarray
        Leaching plus respiration minus input at the MIC that balances growth and turnover
        [g C m-2 d-1]; increasing in L, ``-I`` at 0.
    """
    uptake = r.v_up * lmwc / (r.k_lb + lmwc)
    with np.errstate(over="ignore", invalid="ignore"):  # B overflows to inf far above the root
        mic = np.power(r.cue * uptake / r.k_b, 1.0 / (r.beta - 1.0))
        return r.k_leach * r.w_d * lmwc + (1.0 - r.cue) * uptake * mic - r.inputs


def _log_balance(lmwc, coef):
    """phi(L) = log((1-CUE) u B) - log(I - c L) in log form, d phi/d ln L, and phi's rounding level.

    ``coef`` rows: I, V_up, K_lb, c = k_leach w_d, 1 - CUE, CUE/k_b, e = 1/(beta - 1). phi has
    the sign of h on (0, I/c) and is +inf beyond; ``log B = e log(CUE u / k_b)`` never overflows.
    """
    inputs, v_up, k_lb, c, resp, growth, e = coef
    uptake = v_up * lmwc / (k_lb + lmwc)
    rest = inputs - c * lmwc
    log_resp, log_growth, log_rest = np.log(resp * uptake), np.log(growth * uptake), np.log(rest)
    phi = np.where(rest > 0, log_resp + e * log_growth - log_rest, np.inf)
    slope = (1.0 + e) * k_lb / (k_lb + lmwc) + c * lmwc / rest
    noise = 8.0 * _EPS * (3.0 + np.abs(log_resp) + e * (3.0 + np.abs(log_growth)) + np.abs(log_rest) + inputs / rest)
    return phi, slope, noise


def _bracket(coef):
    """Bracket (lo, hi) of the root, hi doubled from 1 g C m-2 while phi(hi) < 0 (spec step 1)."""
    n = coef.shape[1]
    lo, hi = np.zeros(n), np.ones(n)
    active = np.arange(n)
    while active.size:
        phi = _log_balance(hi[active], coef[:, active])[0]
        below = phi < 0  # NaN (not expected) stops the doubling; the row then fails verification
        lo[active[below]] = hi[active[below]]
        hi[active[below]] *= 2.0
        active = active[below]
    return lo, hi


def lmwc_root(r: Rates, rtol=ROOT_RTOL, maxiter=ROOT_MAXITER):
    """L* > 0 with h(L*) = 0 for beta > 1, every row at once.

    Parameters
    ----------
    r : Rates
        Rows with ``beta > 1``.
    rtol : float
        Relative tolerance on L*. [1]
    maxiter : int
        Iterations allowed after bracketing.

    Returns
    -------
    lmwc : ndarray, shape (n_sets,)
        L*. [g C m-2]
    converged : ndarray of bool, shape (n_sets,)

    Notes
    -----
    h is monotone with h(0) = -I, so the root is unique. It is bracketed by doubling from
    1 g C m-2, then found by safeguarded Newton on ``phi(L) = log[(1-CUE) u B] - log(I - c L)``
    in ``ln L`` (phi = 0 exactly where h = 0; nearly linear in ``ln L`` while L << K_lb and
    leaching is small, so 2-4 steps suffice). A step leaving the bracket, or one that fails to
    halve |phi|, is replaced by bisection. A row stops when the step is below ``rtol``, |phi|
    is at its rounding level or the bracket is narrower than ``rtol`` (a root within rounding of
    I/c, where MIC is vanishingly small and phi jumps to +inf), after taking that last step. Each
    row depends on its own inputs only, so a batch gives the bits of a loop over rows.
    """
    n = r.inputs.shape[0]
    converged = np.zeros(n, dtype=bool)
    active = np.arange(n)
    last = np.full(n, np.inf)  # |phi| at the previous iterate
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        coef = np.stack(np.broadcast_arrays(r.inputs, r.v_up, r.k_lb, r.k_leach * r.w_d, 1.0 - r.cue,
                                            r.cue / r.k_b, 1.0 / (r.beta - 1.0))).astype(float)
        lo, hi = _bracket(coef)
        lmwc = 0.5 * (lo + hi)
        for _ in range(maxiter):
            if not active.size:
                break
            x, c = lmwc[active], coef[:, active]
            phi, slope, noise = _log_balance(x, c)
            lo[active] = np.where(phi < 0, x, lo[active])
            hi[active] = np.where(phi > 0, x, hi[active])
            step = phi / slope
            trial = x * np.exp(-step)
            inside = (trial > lo[active]) & (trial < hi[active])
            collapsed = hi[active] - lo[active] <= rtol * hi[active]
            done = (np.isfinite(phi) & ((np.abs(step) <= rtol) | (np.abs(phi) <= noise))) | collapsed
            bisect = ~inside | ~(np.abs(phi) <= 0.5 * last[active])
            bisect &= ~done
            # a finished row keeps its last step if it stays inside, else x (or lo where phi(x) = inf)
            stay = np.where(np.isfinite(phi), x, lo[active])
            new = np.where(bisect, 0.5 * (lo[active] + hi[active]), np.where(inside, trial, stay))
            lmwc[active] = new
            last[active] = np.where(bisect, np.inf, np.abs(phi))
            converged[active[done]] = True
            active = active[~done]
    return lmwc, converged


def lmwc_mic_linear_turnover(r: Rates):
    """Closed-form L* and B* for beta = 1 (spec section 7, step 2).

    Parameters
    ----------
    r : Rates
        Rows with ``beta == 1``.

    Returns
    -------
    lmwc, mic : ndarray
        ``L* = K_lb k_b / (CUE V_up - k_b)``, ``B* = CUE (I - c L*) / ((1 - CUE) k_b)``. [g C m-2]
    uptake_margin : ndarray
        ``CUE V_up - k_b``; a positive solution needs > 0. [d-1]
    input_margin : ndarray
        ``I - k_leach w_d L*``; a positive solution needs > 0. [g C m-2 d-1]
    """
    uptake_margin = r.cue * r.v_up - r.k_b
    with np.errstate(divide="ignore", invalid="ignore"):
        lmwc = r.k_lb * r.k_b / uptake_margin
        input_margin = r.inputs - r.k_leach * r.w_d * lmwc
        mic = r.cue * input_margin / ((1.0 - r.cue) * r.k_b)
    return lmwc, mic, uptake_margin, input_margin


def mic_at_root(lmwc, r: Rates):
    """B* at the root L* of h (beta > 1), from whichever balance rounds less.

    Parameters
    ----------
    lmwc : array_like
        L*, the root of h. [g C m-2]
    r : Rates

    Returns
    -------
    ndarray
        [g C m-2]

    Notes
    -----
    At the root the MIC balance ``B = (CUE u / k_b)^e`` with ``e = 1/(beta - 1)`` and the system
    balance ``B = (I - c L) / ((1 - CUE) u)`` give the same B* (spec step 1's ``B(L*)``). The
    first amplifies the rounding of L* and u by e, the second by ``(I + c L)/(I - c L)`` (the
    cancellation in ``I - c L``), so the second is used where e is larger: beta close to 1, where
    the first would lose ~e ulps (1e-10 relative at beta = 1 + 1e-6). At beta = 2, e = 1 always
    selects the MIC balance.
    """
    uptake = r.v_up * lmwc / (r.k_lb + lmwc)
    leaching = r.k_leach * r.w_d * lmwc
    exponent = 1.0 / (r.beta - 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        from_growth = np.power(r.cue * uptake / r.k_b, exponent)
        from_budget = (r.inputs - leaching) / ((1.0 - r.cue) * uptake)
        return np.where(exponent * (r.inputs - leaching) > r.inputs + leaching, from_budget, from_growth)


def mineral_pools(lmwc, mic, r: Rates):
    """POM, AGG and MAOM given L* and B* (spec section 7, step 3), by Cramer's rule.

    Parameters
    ----------
    lmwc, mic : ndarray
        Steady-state LMWC and MIC. [g C m-2]
    r : Rates

    Returns
    -------
    pom, agg, maom : ndarray
        [g C m-2]

    Notes
    -----
    With a = k_pa w_d, b = k_break w_d, m = k_ma w_d, D = V_pl w_d B/(K_pl + B),
    S = w_d K_lm L (sorption at empty MAOM), s = (S + k_des)/Q_max and T_b = k_b B^beta, the
    2x2 system of the spec has determinant ``-[a (1-p_a) s + D (s + p_a m)]``, so
    ``POM = [p_i I (s + p_a m) + p_a m (S + p_b T_b)] / den``,
    ``MAOM = [(a (1-p_a) + D)(S + p_b T_b) + (1-p_a) a p_i I] / den`` (all terms positive), and
    ``AGG = (m MAOM + a POM) / b``.
    """
    a, b, m = r.k_pa * r.w_d, r.k_break * r.w_d, r.k_ma * r.w_d
    depol = r.v_pl * r.w_d * mic / (r.k_pl + mic)
    sorption = r.w_d * r.k_lm * lmwc
    s = (sorption + r.k_des) / r.q_max
    to_maom = sorption + r.p_b * r.k_b * np.power(mic, r.beta)
    den = a * (1.0 - r.p_a) * s + depol * (s + r.p_a * m)
    pom = (r.p_i * r.inputs * (s + r.p_a * m) + r.p_a * m * to_maom) / den
    maom = ((a * (1.0 - r.p_a) + depol) * to_maom + (1.0 - r.p_a) * a * r.p_i * r.inputs) / den
    return pom, (m * maom + a * pom) / b, maom


def _take(r: Rates, rows: np.ndarray) -> Rates:
    """The rows ``rows`` (sorted, unique) of every field."""
    if rows.size == r.inputs.shape[0]:
        return r
    return Rates(*(np.broadcast_to(field, r.inputs.shape)[rows] for field in r))


def lmwc_mic(r: Rates):
    """L* and B* of every row: the root for beta > 1, the closed form for beta = 1.

    Parameters
    ----------
    r : Rates

    Returns
    -------
    lmwc, mic : ndarray
        [g C m-2]
    root_converged : ndarray of bool
    uptake_margin, input_margin : ndarray
        As :func:`lmwc_mic_linear_turnover` for beta = 1 rows, NaN elsewhere.
    """
    n = r.inputs.shape[0]
    lmwc, mic = np.full(n, np.nan), np.full(n, np.nan)
    converged = np.ones(n, dtype=bool)
    uptake_margin, input_margin = np.full(n, np.nan), np.full(n, np.nan)
    linear = np.broadcast_to(r.beta, (n,)) == 1.0
    rows = np.flatnonzero(~linear)
    if rows.size:
        sub = _take(r, rows)
        lmwc[rows], converged[rows] = lmwc_root(sub)
        mic[rows] = mic_at_root(lmwc[rows], sub)
    rows = np.flatnonzero(linear)
    if rows.size:
        lmwc[rows], mic[rows], uptake_margin[rows], input_margin[rows] = lmwc_mic_linear_turnover(_take(r, rows))
    return lmwc, mic, converged, uptake_margin, input_margin


def local_stability(pools, r: Rates):
    """Whether every eigenvalue of the Jacobian has a negative real part, without eigenvalues.

    Parameters
    ----------
    pools : ndarray, shape (n_sets, 5)
        Pools, all > 0 and finite. [g C m-2]
    r : Rates

    Returns
    -------
    stable : ndarray of bool, shape (n_sets,)
        A locally stable fixed point.
    max_real_eigenvalue : ndarray, shape (n_sets,)
        Largest real part of the eigenvalues where not stable (``numpy.linalg.eigvals``), NaN
        where stable. [d-1]

    Notes
    -----
    ``models.stability.unstable_rows``: the Routh-Hurwitz criterion on the characteristic
    polynomial decides most rows; the rows it does not find stable get eigenvalues.
    """
    stable = np.ones(pools.shape[0], dtype=bool)
    growth = np.full(pools.shape[0], np.nan)
    rows, values = stab.unstable_rows(jacobian(pools, r))
    stable[rows], growth[rows] = False, values
    return stable, growth


def steady_state(r: Rates) -> SteadyState:
    """Semi-analytic steady state of spec section 7 (steps 1-3) and its verification (step 4).

    Parameters
    ----------
    r : Rates

    Returns
    -------
    SteadyState
        Pools of every row, as computed, and the verification diagnostics; deciding which rows
        pass is left to the caller (an infeasible or unconverged row may hold any number).
    """
    n = r.inputs.shape[0]
    lmwc, mic, converged, uptake_margin, input_margin = lmwc_mic(r)
    pools = np.empty((n, len(POOL_NAMES)))
    pools[:, LMWC], pools[:, MIC] = lmwc, mic
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pools[:, POM], pools[:, AGG], pools[:, MAOM] = mineral_pools(pools[:, LMWC], pools[:, MIC], r)
        dpools, f = tendencies(pools, r)
        residual = np.abs(dpools).max(axis=1) / r.inputs
        balance = np.abs(f["f_r"] + f["f_le"] - r.inputs) / r.inputs
    stable, growth = np.zeros(n, dtype=bool), np.full(n, np.nan)
    rows = np.flatnonzero(np.isfinite(pools).all(axis=1) & (pools > 0).all(axis=1))
    if rows.size:
        stable[rows], growth[rows] = local_stability(pools[rows], _take(r, rows))
    return SteadyState(pools, converged, uptake_margin, input_margin, residual, balance, stable, growth, dpools, f)

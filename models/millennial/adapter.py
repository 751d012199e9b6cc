"""Adapter of Millennial v2 (``millennial``).

Glue only: maps ``theta`` and ``forcing`` columns onto ``equations.py``, turns the verification of
the steady state into statuses and messages, and declares the metadata.
Spec: ``docs/models/millennial.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np

from harness.adapter import (
    EXPONENT_MAX,
    PH_RANGE,
    BaseAdapter,
    BetaRescale,
    Driver,
    Interval,
    Option,
    Parameter,
    Pool,
    PoolFluxes,
    Status,
    SteadyStateParts,
    anchor_violations,
    violation,
)

from . import equations as eq
from .parameters import FAILING_CASE, PARAMETERS, REFERENCE_CASES, REFERENCE_SITE

_INF = float("inf")


class ParameterSet(StrEnum):
    """Published parameter files (spec section 4); ``default`` is the file's name, not ours."""

    FIT = "fit"
    DEFAULT = "default"


_POOL_TEXT = {
    "pom": ("particulate organic matter", "pom"),
    "lmwc": ("low-molecular-weight carbon (dissolved, labile)", "doc"),
    "agg": ("aggregate carbon", "agg"),
    "mic": ("microbial biomass", "mic"),
    "maom": ("mineral-associated organic matter", "maom"),
}
#: format keys of the pools in messages, in pool order
_KEYS = ("p", "lmwc", "a", "mic", "m")
#: how a failed MIC_ref is named in messages, by beta_rescale
_UNDEFINED_AT = {BetaRescale.REFERENCE.value: " at the reference site",
                 BetaRescale.SITE.value: " (here MIC_site) at the anchor site"}
#: spec section 7, step 4
_RESIDUAL_RTOL = 1e-10  # max|dX/dt| / I
_BALANCE_RTOL = 1e-9  # |respiration + leaching - c_input| / c_input
#: rows per block of the solve: blocks of a few thousand rows keep the temporaries in cache; rows
#: are independent, so results do not depend on it
BLOCK_ROWS = 2**13


class MillennialAdapter(BaseAdapter):
    """Millennial v2: POM, LMWC, aggregate C, microbial biomass and MAOM, Michaelis-Menten kinetics.

    POM is depolymerised to LMWC at a rate saturating in MIC; microbes take up LMWC (Michaelis-
    Menten), respire ``1 - CUE(T)`` of it and die at ``k_b MIC**beta``; LMWC sorbs to minerals
    (Langmuir, capacity from clay + silt) and leaches; aggregates form from POM and MAOM and break
    down. ``cue_scale`` multiplies CUE(T). The steady state is the spec's semi-analytic reduction:
    a 1-D monotone root for LMWC (closed form at beta = 1), MIC from it, then a 2x2 linear solve,
    verified on the full right-hand side and its Jacobian.

    Parameters
    ----------
    parameter_set : {"fit", "default"}, default "fit"
        The calibrated (``fit``) or pre-calibration (``default``) parameter file of the published code.
    beta_rescale : {"none", "reference", "site"}, default "none"
        ``none`` keeps rate_bd for every beta (as the published tutorial does); ``reference``
        multiplies it by ``MIC_ref**(2 - beta)``, MIC_ref being the steady-state MIC of the same
        parameter row at the reference site with beta = 2, so that steady state is the same for
        every beta. ``site``: the same with MIC_site, the steady-state MIC at beta = 2 at the
        ``anchor`` site, whose steady state is then the same for every beta.
    anchor : dict of str to float, default {}
        The anchor site of ``beta_rescale = 'site'``: driver name -> value [shared units], e.g. a
        scenario's baseline (``build_member`` passes the member's drivers); missing drivers take
        their defaults, and beta is 2 there whatever is given. Required with ``site``, ignored
        otherwise.

    References
    ----------
    Abramoff, R.Z. et al. (2022) Soil Biol. Biochem. 164, 108466.
    https://doi.org/10.1016/j.soilbio.2021.108466
    """

    name = "millennial"
    description = "Millennial v2: five measurable pools (POM, LMWC, AGG, MIC, MAOM), MM kinetics, Langmuir sorption"
    reference = (
        "Abramoff et al. (2022) Soil Biol. Biochem. 164:108466, doi:10.1016/j.soilbio.2021.108466; "
        "code rabramoff/Millennial@859f977 (R/models/derivs_V2_MM.R)"
    )
    steady_state_method = (
        "semi-analytic: monotone 1-D root for LMWC (bracket by doubling, safeguarded Newton, "
        "rtol 1e-15; closed form at beta = 1), MIC from the MIC balance, POM/MAOM by a 2x2 linear "
        "solve, AGG explicit; verified by residual, mass balance, positivity and Jacobian eigenvalues "
        "(all Re < 0: Routh-Hurwitz, eigenvalues where undecided)"
    )
    options = (
        Option("parameter_set", ParameterSet.FIT.value, "published parameter file: 'fit' (calibrated) or "
               "'default' (pre-calibration)", choices=tuple(s.value for s in ParameterSet)),
        Option("beta_rescale", BetaRescale.NONE.value, "'none': rate_bd for every beta; 'reference': rate_bd "
               "MIC_ref**(2 - beta), same reference steady state for every beta; 'site': the same at the "
               "anchor site", choices=tuple(s.value for s in BetaRescale)),
        Option("anchor", {}, "beta_rescale 'site': driver name -> value [shared units] of the anchor site "
               "(a scenario's baseline); missing drivers take their defaults, beta is 2 there"),
    )
    drivers = (
        Driver("c_input", "g C m-2 yr-1", "I = c_input/365; p_i to POM, the rest to LMWC",
               Interval(0.0, _INF, (True, True)), default=REFERENCE_SITE["c_input"]),
        Driver("cue_scale", "1", "multiplies CUE(T); CUE(T) cue_scale must lie in (0, 1)",
               Interval(0.0, _INF, (True, True)), default=1.0),
        Driver("temperature", "degC", "Arrhenius V_pl, V_lb and the linear CUE(T)", Interval(-50.0, 60.0),
               default=REFERENCE_SITE["temperature"]),
        Driver("moisture", "m3 m-3", "w_d and w_b; must be below the parameter porosity",
               Interval(0.0, 1.0, (True, True)), default=REFERENCE_SITE["moisture"]),
        Driver("clay", "%", "with silt, Q_max = rho_b p_c (clay + silt); only the sum enters", Interval(0.0, 100.0),
               default=REFERENCE_SITE["clay"]),
        Driver("silt", "%", "with clay, Q_max = rho_b p_c (clay + silt); only the sum enters", Interval(0.0, 100.0),
               default=REFERENCE_SITE["silt"]),
        Driver("ph", "1", "binding affinity K_lm = k_des exp(-p1 pH - p2); the pH scale bounds it",
               Interval(*PH_RANGE), default=REFERENCE_SITE["ph"]),
        Driver("beta", "1", "exponent of turnover k_b MIC**beta (published: 2)", Interval(1.0, EXPONENT_MAX),
               default=REFERENCE_SITE["beta"]),
        Driver("mic_turnover_scale", "1", "multiplies rate_bd", Interval(0.0, _INF, (True, True)), default=1.0),
    )
    pools = tuple(Pool(n, "g C m-2", _POOL_TEXT[n][0], _POOL_TEXT[n][1]) for n in eq.POOL_NAMES)
    outputs = ("soc", "soc_total", "litter", "mic", "maom", "pom", "respiration", "cue_bulk")
    reference_cases = REFERENCE_CASES
    failing_case = FAILING_CASE
    residual_rtol = _RESIDUAL_RTOL

    @property
    def parameters(self) -> tuple[Parameter, ...]:  # type: ignore[override]
        """The parameters of the chosen parameter set."""
        return PARAMETERS[self._options["parameter_set"]]

    # -- glue ---------------------------------------------------------------------------------
    def _columns(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        # contiguous columns: every row subset the solver takes is then a cheap gather
        columns = (np.ascontiguousarray(theta.T), np.ascontiguousarray(forcing.T))
        return dict(zip(self.parameter_names, columns[0])), dict(zip(self.driver_names, columns[1]))

    def _rates(self, theta: np.ndarray, forcing: np.ndarray, r_beta: Any = None) -> eq.Rates:
        """Rates of each row; ``r_beta`` defaults to the option's rescaling."""
        p, d = self._columns(theta, forcing)
        if r_beta is None:
            r_beta = self._r_beta(theta, d["beta"])
        return eq.site_rates(
            p, c_input=d["c_input"], temperature=d["temperature"], moisture=d["moisture"],
            clay_silt=d["clay"] + d["silt"], ph=d["ph"], cue_scale=d["cue_scale"],
            turnover_scale=d["mic_turnover_scale"] * r_beta, beta=d["beta"],
        )

    def _r_beta(self, theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """R_beta of each row: 1 for 'none' and wherever beta = 2, else MIC_ref**(2 - beta)."""
        r_beta = np.ones(theta.shape[0])
        rows = np.flatnonzero(beta != eq.BETA_PUBLISHED)
        if self._options["beta_rescale"] == BetaRescale.NONE or not rows.size:
            return r_beta
        # MIC_ref depends on the parameter row only: solve each distinct row once
        unique, inverse = _unique_rows(theta[rows])
        mic_ref = self._reference_mic(unique)[inverse]
        r_beta[rows] = eq.beta_rescaling(mic_ref, beta[rows])
        return r_beta

    def _rescaling_site(self, n_sets: int) -> np.ndarray:
        """Forcing (n_sets rows) of the site MIC_ref is solved at.

        The reference site or, with ``site``, the anchor; beta = 2 at both.
        """
        site = REFERENCE_SITE if self._options["beta_rescale"] == BetaRescale.REFERENCE else self._options["anchor"]
        return self.make_forcing(n_sets, **{**site, "beta": eq.BETA_PUBLISHED})

    def _reference_mic(self, theta: np.ndarray) -> np.ndarray:
        """Steady-state MIC of each parameter row at beta = 2 [g C m-2].

        At the reference site (MIC_ref) or, with ``site``, at the anchor site (MIC_site); NaN where
        it failed.
        """
        rates = self._rates(theta, self._rescaling_site(theta.shape[0]), r_beta=1.0)
        _, mic, converged, _, _ = eq.lmwc_mic(rates)
        return np.where(converged & (mic > 0), mic, np.nan)

    def _steady_state(self, theta, forcing):
        rates = self._rates(theta, forcing)  # MIC_ref once per distinct parameter row
        n = theta.shape[0]
        if n <= BLOCK_ROWS:
            return self._solve_block(rates)
        shape = rates.inputs.shape
        return _stacked([self._solve_block(eq.Rates(*(np.broadcast_to(v, shape)[i : i + BLOCK_ROWS] for v in rates)))
                         for i in range(0, n, BLOCK_ROWS)])

    def _solve_block(self, rates: eq.Rates) -> SteadyStateParts:
        """Steady states of some rows, verdicts, and the tendencies and fluxes at the pools."""
        solution = eq.steady_state(rates)
        # what _tendencies gives at these pools (BaseAdapter then need not evaluate it again)
        dpools, fluxes = _per_year(solution.dpools, solution.fluxes, rates)
        return SteadyStateParts(solution.pools, *self._verdicts(solution, rates), dpools, fluxes)

    def _tendencies(self, theta, forcing, pools):
        rates = self._rates(theta, forcing)
        return _per_year(*eq.tendencies(pools, rates), rates)

    def _pool_fluxes(self, theta, forcing, pools):
        inputs, transfers, outflux = eq.pool_fluxes(pools, self._rates(theta, forcing))
        return PoolFluxes(inputs * eq.DAYS_PER_YEAR, transfers * eq.DAYS_PER_YEAR, outflux * eq.DAYS_PER_YEAR)

    def _verdicts(self, s: eq.SteadyState, r: eq.Rates) -> tuple[np.ndarray, np.ndarray]:
        """Status and message of each row from spec section 7, step 4; the first failure decides."""
        n = s.pools.shape[0]
        status, message = np.zeros(n, dtype=np.int8), np.full(n, "", dtype=object)
        pools = s.pools
        linear = r.beta == 1.0
        with np.errstate(invalid="ignore"):
            checks = [
                (~((r.k_b > 0) & (r.k_b < _INF)), Status.SOLVER_FAILED, "turnover coefficient k_b = rate_bd "
                 "x mic_turnover_scale x R_beta = {k:g} must be positive and finite (R_beta = MIC_ref^(2 - "
                 "beta) under- or overflows at beta={b:g}, or MIC_ref is undefined"
                 + _UNDEFINED_AT.get(self._options["beta_rescale"], "") + ")", {"k": r.k_b, "b": r.beta}),
                (linear & ~(s.uptake_margin > 0), Status.SOLVER_FAILED, "beta = 1 has no positive steady "
                 "state: CUE V_lb w_b = {g:.6g} d-1 must exceed k_b = {k:.6g} d-1",
                 {"g": r.cue * r.v_up, "k": r.k_b}),
                (linear & (s.uptake_margin > 0) & ~(s.input_margin > 0), Status.SOLVER_FAILED,
                 "beta = 1 has no positive steady state: leaching k_leach w_d L* = {q:.6g} g C m-2 d-1 "
                 "at L* = {lmwc:.6g} g C m-2 must stay below I = {i:.6g} g C m-2 d-1",
                 {"q": r.inputs - s.input_margin, "lmwc": r.k_lb * r.k_b / s.uptake_margin, "i": r.inputs}),
                (~linear & ~s.root_converged, Status.SOLVER_FAILED, "LMWC root of h(L) not converged to rtol "
                 f"{eq.ROOT_RTOL:g} in {eq.ROOT_MAXITER} iterations (last L = {{lmwc:.6g}} g C m-2)",
                 {"lmwc": pools[:, eq.LMWC]}),
                (~np.isfinite(pools).all(axis=1), Status.NON_FINITE, "non-finite steady state: POM {p:.6g}, "
                 "LMWC {lmwc:.6g}, AGG {a:.6g}, MIC {mic:.6g}, MAOM {m:.6g} g C m-2", dict(zip(_KEYS, pools.T))),
                (~(pools > 0).all(axis=1), Status.NEGATIVE_POOL, "pools must be > 0; got POM {p:.6g}, LMWC "
                 "{lmwc:.6g}, AGG {a:.6g}, MIC {mic:.6g}, MAOM {m:.6g} g C m-2", dict(zip(_KEYS, pools.T))),
                (~(pools[:, eq.MAOM] < r.q_max), Status.SOLVER_FAILED, "MAOM = {m:.6g} g C m-2 must stay below "
                 "Q_max = {q:.6g} g C m-2", {"m": pools[:, eq.MAOM], "q": r.q_max}),
                (~(s.residual <= _RESIDUAL_RTOL), Status.NOT_CONVERGED, "max|dX/dt|/I = {x:.3g} exceeds "
                 f"{_RESIDUAL_RTOL:g}", {"x": s.residual}),
                (~(s.balance <= _BALANCE_RTOL), Status.NOT_CONVERGED, "|respiration + leaching - c_input| "
                 f"/ c_input = {{x:.3g}} exceeds {_BALANCE_RTOL:g}", {"x": s.balance}),
                (~s.stable, Status.SOLVER_FAILED, "not a stable fixed point: the "
                 "Jacobian has an eigenvalue with real part {x:.3g} d-1 (must be < 0)", {"x": s.max_real_eigenvalue}),
            ]
        for mask, code, template, columns in checks:
            rows, texts = violation(mask & (status == Status.OK), template, **columns)
            status[rows] = code
            for i, text in texts.items():
                message[i] = text
        return status, message

    def _domain_violations(self, theta, forcing):
        found = self._row_violations(theta, forcing)
        rescaled = forcing[:, self.driver_names.index("beta")] != eq.BETA_PUBLISHED
        if self._options["beta_rescale"] == BetaRescale.SITE:
            found += anchor_violations(self, self._row_violations, theta, self._rescaling_site(theta.shape[0]),
                                        rescaled)
        elif self._options["beta_rescale"] == BetaRescale.REFERENCE:
            found += self._reference_violations(theta, forcing, rescaled)
        return found

    def _row_violations(self, theta, forcing):
        """Cross-constraints of the rows' own drivers: moisture below porosity, clay + silt, CUE."""
        p, d = self._columns(theta, forcing)
        cue0 = eq.carbon_use_efficiency(d["temperature"], p["cue_ref"], p["cue_t"], p["tae_ref"])
        cue = d["cue_scale"] * cue0
        clay_silt = d["clay"] + d["silt"]
        return [
            violation(~(d["moisture"] < p["porosity"]), "moisture={m:g} m3 m-3 must lie in (0, porosity) = "
                      "(0, {p:g}): w_b is undefined at moisture >= porosity", m=d["moisture"], p=p["porosity"]),
            violation(~((clay_silt > 0) & (clay_silt <= 100)), "clay + silt = {s:g} % (clay={c:g}, silt={t:g}) "
                      "must lie in (0, 100]", s=clay_silt, c=d["clay"], t=d["silt"]),
            violation(~((cue > 0) & (cue < 1)), "CUE = cue_scale={s:g} x CUE(temperature={t:g} degC)={c0:.6g} "
                      "= {c:.6g}; it must lie in (0, 1)", s=d["cue_scale"], t=d["temperature"], c0=cue0, c=cue),
        ]

    def _reference_violations(self, theta, forcing, rescaled):
        """beta_rescale 'reference': CUE and moisture at the reference site, for the rescaled rows."""
        (p, d), site = self._columns(theta, forcing), REFERENCE_SITE
        cue_ref = eq.carbon_use_efficiency(site["temperature"], p["cue_ref"], p["cue_t"], p["tae_ref"])
        return [
            violation(rescaled & ~((cue_ref > 0) & (cue_ref < 1)), "beta_rescale 'reference' with beta={b:g} "
                      "needs CUE at the reference site (temperature={t:g} degC) in (0, 1); got {c:.6g}",
                      b=d["beta"], t=np.full_like(cue_ref, site["temperature"]), c=cue_ref),
            violation(rescaled & ~(site["moisture"] < p["porosity"]), "beta_rescale 'reference' with "
                      "beta={b:g} needs porosity={p:g} above the reference moisture {m:g} m3 m-3",
                      b=d["beta"], p=p["porosity"], m=np.full_like(cue_ref, site["moisture"])),
        ]



def _per_year(dpools: np.ndarray, f: dict, rates: eq.Rates) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Tendencies and the contract's fluxes in g C m-2 yr-1, from ``equations.tendencies`` [per day]."""
    per_year = eq.DAYS_PER_YEAR
    return dpools * per_year, {
        "uptake": f["f_lb"] * per_year,
        "growth": rates.cue * f["f_lb"] * per_year,
        "respiration": f["f_r"] * per_year,
        "leaching": f["f_le"] * per_year,
    }


def _stacked(parts: list[SteadyStateParts]) -> SteadyStateParts:
    """The blocks' parts in order, as one."""
    fluxes = {name: np.concatenate([p.fluxes[name] for p in parts]) for name in parts[0].fluxes}
    return SteadyStateParts(np.concatenate([p.pools for p in parts]), np.concatenate([p.status for p in parts]),
                            np.concatenate([p.message for p in parts]), np.concatenate([p.dpools for p in parts]),
                            fluxes)


def _unique_rows(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(theta, axis=0, return_inverse=True)``, fast.

    One row if all are equal, else ``np.unique`` of rows viewed as bytes (``axis=0`` is ~10x slower
    at 1e5 rows).
    """
    if (theta == theta[0]).all():
        return theta[:1], np.zeros(theta.shape[0], dtype=np.intp)
    rows = np.ascontiguousarray(theta)
    as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(as_bytes, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1)

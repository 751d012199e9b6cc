"""Adapter of the Allison, Wallenstein & Bradford (2010) microbial-enzyme model (``awb``).

Glue only: maps ``theta`` and ``forcing`` columns onto ``equations.py`` (native units) and
declares the metadata. Spec: ``docs/models/awb.md``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import reduce

import numpy as np

from harness.adapter import (
    EXPONENT_MAX,
    BaseAdapter,
    BetaRescale,
    Driver,
    Interval,
    Option,
    Parameter,
    Pool,
    Status,
    SteadyStateParts,
    anchor_violations,
    violation,
)

from . import equations as eq
from .parameters import DEFAULT_C_INPUT, FAILING_CASE, PARAMETER_SETS, REFERENCE_CASES, T_REFERENCE

_INF = float("inf")
_POSITIVE = Interval(0.0, _INF, (True, True))
_EXPONENT = Interval(0.0, EXPONENT_MAX, (True, False))
_TEMPERATURE = Interval(-10.0, 50.0, (True, False))
#: largest max|dX/dt| / I at a returned steady state, native units (spec (g))
RESIDUAL_RTOL_NATIVE = 1e-12


class ParameterSet(StrEnum):
    """The parameter sets of option ``parameter_set``."""

    AWB2010 = "awb2010"
    LI2014 = "li2014"
    HE2024_FIT = "he2024_fit"


_POOL_TEXT = {
    "soc_pool": ("the model's SOC (He et al.'s 'SOC'; not the harmonised soc)", "som"),
    "doc": ("dissolved organic carbon", "doc"),
    "mic": ("microbial biomass", "mic"),
    "enz": ("enzymes", "enz"),
}


class AwbAdapter(BaseAdapter):
    """AWB microbial-enzyme model: SOC, DOC, microbes and enzymes, Michaelis-Menten kinetics.

    Enzymes decompose SOC into DOC; microbes take up DOC with efficiency CUE, die (necromass split
    between SOC and DOC, ``k_d* MIC^beta``) and produce enzymes (``k_e* MIC^beta_enz``); enzyme
    loss returns to DOC. The model runs in native units (mg C cm-3 or mg C g-1, hours); pools are
    reported in g C m-2 through ``layer_depth_m`` (and ``bulk_density``). The steady state is
    explicit at ``beta == beta_enz`` and a vectorised safeguarded Newton root for MIC* otherwise
    (spec (g)); its residual and Routh-Hurwitz stability are verified row by row.
    Soil water and texture are not represented: no moisture driver, so no porosity to respect.

    Parameters
    ----------
    parameter_set : {"awb2010", "li2014", "he2024_fit"}, default "awb2010"
        Allison et al. (2010) with temperature functions; Li et al. (2014) constants; the spec's
        fit to He et al. (2024). Only ``awb2010`` represents ``temperature``.
    beta_rescale : {"none", "reference", "site"}, default "none"
        ``none``: k* = k in native units. ``reference``: ``k_d* = k_d M_ref^(1-beta)``,
        ``k_e* = k_e M_ref^(1-beta_enz)`` with M_ref the beta = 1 MIC* at the reference scenario
        (the set's default c_input and temperature, cue_scale 1, mic_turnover_scale 1), per row.
        ``site``: the same with M_site, the beta = beta_enz = 1 MIC* at the ``anchor`` site (its
        c_input, temperature, cue_scale and mic_turnover_scale), whose pools then do not depend
        on beta, beta_enz.
    anchor : dict of str to float, default {}
        The anchor site of ``beta_rescale = 'site'``: driver name -> value [shared units], e.g. a
        scenario's baseline (``build_member`` passes the member's drivers); missing drivers take
        their defaults, and beta = beta_enz = 1 there whatever is given. Required with ``site``,
        ignored otherwise.

    References
    ----------
    Allison, S.D., Wallenstein, M.D. & Bradford, M.A. (2010) Nat. Geosci. 3, 336-340.
    https://doi.org/10.1038/ngeo846
    """

    name = "awb"
    description = "Allison et al. (2010) microbial-enzyme model (SOC, DOC, MIC, ENZ), density-dependent turnover"
    reference = (
        "Allison, Wallenstein & Bradford (2010) Nat. Geosci. 3, 336-340, doi:10.1038/ngeo846; "
        "He et al. (2024) Nature, doi:10.1038/s41586-023-06999-1"
    )
    steady_state_method = (
        "closed form at beta == beta_enz, else vectorised safeguarded Newton for ln MIC* (rtol 1e-14); "
        "residual <= 1e-12 I and Routh-Hurwitz stability checked"
    )
    options = (
        Option("parameter_set", ParameterSet.AWB2010.value, "published parameter set (spec (d), (h))",
               tuple(s.value for s in ParameterSet)),
        Option("beta_rescale", BetaRescale.NONE.value, "k_d*, k_e* as given (none) or equal to k_d, k_e at "
               "the reference MIC* (reference) or at the anchor site's MIC* (site)",
               tuple(s.value for s in BetaRescale)),
        Option("anchor", {}, "beta_rescale 'site': driver name -> value [shared units] of the anchor site "
               "(a scenario's baseline); missing drivers take their defaults, beta = beta_enz = 1 there"),
    )
    pools = tuple(Pool(n, "g C m-2", *_POOL_TEXT[n]) for n in eq.POOL_NAMES)
    outputs = ("soc", "soc_total", "litter", "mic", "respiration", "cue_bulk")
    reference_cases = REFERENCE_CASES
    failing_case = FAILING_CASE

    # -- metadata that depends on the parameter set -------------------------------------------
    @property
    def _set(self) -> str:
        return self._options["parameter_set"]

    @property
    def parameters(self) -> tuple[Parameter, ...]:  # type: ignore[override]
        """The parameters of the chosen parameter set."""
        return PARAMETER_SETS[self._set]

    @property
    def drivers(self) -> tuple[Driver, ...]:  # type: ignore[override]
        """The drivers of the chosen parameter set (``temperature`` only with ``awb2010``)."""
        drivers = [
            Driver("c_input", "g C m-2 yr-1", "I = c_input/(1000 h [rho_b] 8760), split I_S = s I, I_D = (1-s) I",
                   _POSITIVE, default=DEFAULT_C_INPUT[self._set]),
            Driver("cue_scale", "1", "multiplies CUE, the only efficiency; CUE cue_scale must lie in (0, 1)",
                   _POSITIVE, default=1.0),
            Driver("beta", "1", "DEATH = k_d* MIC^beta", _EXPONENT, default=1.0),
            Driver("beta_enz", "1", "EPROD = k_e* MIC^beta_enz", _EXPONENT, default=1.0),
            Driver("mic_turnover_scale", "1", "multiplies k_d", _POSITIVE, default=1.0),
        ]
        if self._set == ParameterSet.AWB2010:
            drivers.insert(2, Driver(
                "temperature", "degC", "V_max, V_up (Arrhenius, offset 273), K_m, K_up, CUE (linear); "
                "K_up = 0.1 + 0.01 T <= 0 at T <= -10 degC", _TEMPERATURE, default=T_REFERENCE))
        return tuple(drivers)

    # -- glue ---------------------------------------------------------------------------------
    def _columns(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        p = dict(zip(self.parameter_names, np.ascontiguousarray(theta.T)))
        d = dict(zip(self.driver_names, np.ascontiguousarray(forcing.T)))
        return p, d

    def _native_factor(self, p: dict[str, np.ndarray]) -> np.ndarray:
        """``g C m-2`` per native pool unit: 1000 h (mg C cm-3) or 1000 h rho_b (mg C g-1)."""
        factor = 1000.0 * p["layer_depth_m"]
        return factor * p["bulk_density"] if "bulk_density" in p else factor

    def _rates(self, p, d) -> tuple[np.ndarray, ...]:
        """V_max, V_up, K_m, K_up and the unscaled CUE of each row (native units)."""
        if self._set != ParameterSet.AWB2010:
            return p["vmax"], p["vup"], p["km"], p["kup"], p["cue"]
        t = d["temperature"]
        return (
            eq.arrhenius(p["vmax0"], p["ea"], t), eq.arrhenius(p["vup0"], p["ea_up"], t),
            eq.linear_in_temperature(p["km0"], p["km_slope"], t),
            eq.linear_in_temperature(p["kup0"], p["kup_slope"], t),
            eq.linear_in_temperature(p["cue0"], p["cue_slope"], t),
        )

    def _reference_cue(self, p) -> np.ndarray:
        if self._set != ParameterSet.AWB2010:
            return p["cue"]
        return eq.linear_in_temperature(p["cue0"], p["cue_slope"], T_REFERENCE)

    def _anchor_forcing(self, n_sets: int) -> np.ndarray:
        """Forcing (n_sets rows) of the anchor site of ``site``, with beta = beta_enz = 1."""
        return self.make_forcing(n_sets, **{**self._options["anchor"], "beta": 1.0, "beta_enz": 1.0})

    def _anchor_biomass(self, p, factor) -> np.ndarray:
        """M_site: MIC* at beta = beta_enz = 1 at the anchor site, per parameter row [native pool].

        NaN where it is not positive (the rows then fail in ``_steady_state``).
        """
        d = dict(zip(self.driver_names, self._anchor_forcing(factor.shape[0]).T))
        cue = self._rates(p, d)[4] * d["cue_scale"]
        total_input = d["c_input"] / (factor * eq.HOURS_PER_YEAR)
        m_site = eq.reference_biomass(total_input, cue, p["k_death"] * d["mic_turnover_scale"], p["k_enzprod"])
        return np.where(m_site > 0.0, m_site, np.nan)

    def _kinetics(self, theta, forcing) -> tuple[eq.Kinetics, np.ndarray]:
        """The batch's ``Kinetics`` and its g C m-2 per native unit factor."""
        p, d = self._columns(theta, forcing)
        factor = self._native_factor(p)
        vmax, vup, km, kup, cue = self._rates(p, d)
        i_soc, i_doc = eq.split_input(d["c_input"] / (factor * eq.HOURS_PER_YEAR), p["input_soc_fraction"])
        k_d, k_e = p["k_death"] * d["mic_turnover_scale"], p["k_enzprod"]
        if self._options["beta_rescale"] == BetaRescale.REFERENCE:
            input_ref = DEFAULT_C_INPUT[self._set] / (factor * eq.HOURS_PER_YEAR)
            m_ref = eq.reference_biomass(input_ref, self._reference_cue(p), p["k_death"], p["k_enzprod"])
            k_d, k_e = eq.rescaled_rate(k_d, m_ref, d["beta"]), eq.rescaled_rate(k_e, m_ref, d["beta_enz"])
        elif self._options["beta_rescale"] == BetaRescale.SITE:
            m_site = self._anchor_biomass(p, factor)
            k_d, k_e = eq.rescaled_rate(k_d, m_site, d["beta"]), eq.rescaled_rate(k_e, m_site, d["beta_enz"])
        kin = eq.Kinetics(i_soc, i_doc, cue * d["cue_scale"], vmax, vup, km, kup, k_d, k_e, p["k_enzloss"],
                          p["mic_to_soc"], d["beta"], d["beta_enz"])
        return kin, factor

    def _steady_state(self, theta, forcing):
        kin, factor = self._kinetics(theta, forcing)
        state = eq.steady_state(kin)
        status = np.where(state.exists, Status.OK, Status.SOLVER_FAILED).astype(np.int8)
        status[~state.converged] = Status.NOT_CONVERGED
        no_anchor = ~(np.isfinite(kin.k_d) & np.isfinite(kin.k_e) & (kin.k_d > 0.0) & (kin.k_e > 0.0))
        if self._options["beta_rescale"] == BetaRescale.SITE and no_anchor.any():
            status[no_anchor] = Status.SOLVER_FAILED
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            dpools, _ = eq.tendencies(state.pools, kin)
            residual = reduce(np.maximum, np.abs(dpools).T) / (kin.i_soc + kin.i_doc)  # max over pools
            stable, hurwitz = eq.is_stable(state, kin)
        unconverged = (status == Status.OK) & ~(residual <= RESIDUAL_RTOL_NATIVE)
        unstable = (status == Status.OK) & ~unconverged & ~stable
        status[unconverged] = Status.NOT_CONVERGED
        status[unstable] = Status.SOLVER_FAILED
        message = np.full(status.shape, "", dtype=object)
        units = "mg C g-1 h-1" if self._set == ParameterSet.LI2014 else "mg C cm-3 h-1"
        for i in np.flatnonzero(status != Status.OK):
            message[i] = self._failure_text(state, kin, i, units, residual[i], hurwitz[i])
        if self._options["beta_rescale"] == BetaRescale.SITE:
            message[no_anchor] = ("beta_rescale 'site': MIC* at beta = beta_enz = 1 at the anchor site is not "
                                  "positive and finite, so k_d*, k_e* cannot be rescaled")
        return SteadyStateParts(state.pools * factor[:, None], status, message)

    @staticmethod
    def _failure_text(state, kin, i, units, residual, hurwitz) -> str:
        """Why row ``i`` has no (stable, verified) steady state: the condition and its values."""
        problems = []
        if not state.converged[i]:
            problems.append(f"the MIC* root (beta={kin.beta[i]:g}, beta_enz={kin.beta_enz[i]:g}) did not "
                            f"converge to rtol {eq.MIC_RTOL:g} in {eq.MAX_ITERATIONS} iterations")
        elif not state.soc_exists[i]:
            problems.append(f"no SOC steady state: needs V_max ENZ* > F = I_S + a DEATH*, got V_max ENZ* = "
                            f"{state.capacity[i]:.6g} <= F = {state.supply[i]:.6g} {units} (MIC* = "
                            f"{state.pools[i, eq.MIC]:.6g}, CUE = {kin.cue[i]:.6g}); raise CUE, V_max or k_e")
        if state.converged[i] and not state.doc_exists[i]:
            problems.append(f"no DOC steady state: needs V_up MIC* > UPT* = I/(1-CUE), got V_up MIC* = "
                            f"{state.uptake_capacity[i]:.6g} <= UPT* = {state.uptake[i]:.6g} {units}")
        if not problems and not residual <= RESIDUAL_RTOL_NATIVE:
            problems.append(f"max|dX/dt|/I = {residual:.3g} at the steady state exceeds {RESIDUAL_RTOL_NATIVE:g}")
        if not problems:
            problems.append(f"steady state is unstable (beta={kin.beta[i]:g}, beta_enz={kin.beta_enz[i]:g}): "
                            "Routh-Hurwitz terms c1, c1 c2 - c3, c3 (c1 c2 - c3) - c1^2 c4, c4 = "
                            f"{', '.join(f'{h:.3g}' for h in hurwitz)} must all be > 0")
        return "; ".join(problems)

    def _tendencies(self, theta, forcing, pools):
        kin, factor = self._kinetics(theta, forcing)
        dnative, fl = eq.tendencies(pools / factor[:, None], kin)
        per_year = factor * eq.HOURS_PER_YEAR
        fluxes = {name: fl[name] * per_year for name in ("uptake", "growth", "respiration")}
        fluxes["leaching"] = np.zeros(pools.shape[0])
        return dnative * per_year[:, None], fluxes

    def _domain_violations(self, theta, forcing):
        found = self._row_violations(theta, forcing)
        if self._options["beta_rescale"] == BetaRescale.REFERENCE:
            ref = self._reference_cue(dict(zip(self.parameter_names, theta.T)))
            where = "20 degC, cue_scale 1" if self._set == ParameterSet.AWB2010 else "cue_scale 1"
            found.append(violation(~((ref > 0.0) & (ref < 1.0)), "beta_rescale 'reference' needs CUE in (0, 1) "
                                   f"at the reference scenario ({where}); got {{c:.6g}}", c=ref))
        elif self._options["beta_rescale"] == BetaRescale.SITE:
            d = dict(zip(self.driver_names, forcing.T))
            found += anchor_violations(self, self._row_violations, theta, self._anchor_forcing(theta.shape[0]),
                                        (d["beta"] != 1.0) | (d["beta_enz"] != 1.0))
        return found

    def _row_violations(self, theta, forcing):
        """Cross-constraints of the rows' own drivers: CUE in (0, 1), K_m > 0 and K_up > 0."""
        p, d = self._columns(theta, forcing)
        _, _, km, kup, cue = self._rates(p, d)
        scale = d["cue_scale"]
        found = [violation(
            ~((cue * scale > 0.0) & (cue * scale < 1.0)),
            "CUE = {c:.6g} x cue_scale {s:g} = {e:.6g}; it must lie in (0, 1)", c=cue, s=scale, e=cue * scale,
        )]
        if self._set == ParameterSet.AWB2010:
            t = d["temperature"]
            found.append(violation(~(km > 0.0), "K_m = km0 + km_slope T = {k:.6g} mg C cm-3 at temperature "
                                   "{t:g} degC; it must be > 0", k=km, t=t))
            found.append(violation(~(kup > 0.0), "K_up = kup0 + kup_slope T = {k:.6g} mg C cm-3 at temperature "
                                   "{t:g} degC; it must be > 0", k=kup, t=t))
        return found

"""Adapter of the Allison, Wallenstein & Bradford (2010) microbial-enzyme model (``awb``).

Glue only: maps ``theta`` and ``forcing`` columns onto ``equations.py`` (native units) and
declares the metadata. Spec: ``docs/models/awb.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from typing import NamedTuple

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
    PoolFluxes,
    Status,
    SteadyStateParts,
    anchor_violations,
    column_major,
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


class _Site(NamedTuple):
    """Drivers of a batch's rows at one site (their own, or the anchor of ``site``) and their rates there."""

    d: dict[str, np.ndarray]  # driver columns [shared units]
    rates: tuple[np.ndarray, ...]  # V_max, V_up, K_m, K_up and the unscaled CUE (native units)

    def take(self, rows: np.ndarray) -> _Site:
        """The same of the given rows."""
        return _Site({k: v[rows] for k, v in self.d.items()}, tuple(v[rows] for v in self.rates))


@dataclass(frozen=True)
class _Batch:
    """What the domain checks and the solver read of a batch, computed once per call."""

    p: dict[str, np.ndarray]  # parameter columns [units of each]
    own: _Site  # the rows' drivers and rates
    anchor: _Site | None  # the anchor site of 'site', for every row
    reference_cue: np.ndarray | None  # CUE at the reference scenario of 'reference' [1]
    kin: eq.Kinetics  # native units, k_d*, k_e* rescaled
    factor: np.ndarray  # (n,) g C m-2 per native pool unit

    def take(self, rows: np.ndarray) -> _Batch:
        """The same of the given rows (an index array)."""
        return _Batch({k: v[rows] for k, v in self.p.items()}, self.own.take(rows),
                      None if self.anchor is None else self.anchor.take(rows),
                      None if self.reference_cue is None else self.reference_cue[rows],
                      eq.Kinetics(*(v[rows] for v in self.kin)), self.factor[rows])


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
    block_rows = 2**14  # rows per block of steady_state (see BaseAdapter.block_rows)

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
        """Parameter and driver columns by name (contiguous copies)."""
        return (dict(zip(self.parameter_names, column_major(theta))),
                dict(zip(self.driver_names, column_major(forcing))))

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

    def _anchor_site(self, p) -> _Site:
        """The anchor site of ``site`` for rows with parameters ``p``: its drivers and the rows' rates there."""
        n = p["k_death"].shape[0]
        d = {k: np.full(n, v) for k, v in zip(self.driver_names, self._anchor_forcing(1)[0])}
        return _Site(d, self._rates(p, d))

    def _anchor_biomass(self, p, factor, site: _Site) -> np.ndarray:
        """M_site: MIC* at beta = beta_enz = 1 at the anchor ``site``, per parameter row [native pool].

        NaN where it is not positive (the rows then fail in ``_steady_state``).
        """
        d = site.d
        cue = site.rates[4] * d["cue_scale"]
        total_input = d["c_input"] / (factor * eq.HOURS_PER_YEAR)
        m_site = eq.reference_biomass(total_input, cue, p["k_death"] * d["mic_turnover_scale"], p["k_enzprod"])
        return np.where(m_site > 0.0, m_site, np.nan)

    def _prepare(self, p, d) -> _Batch:
        factor = self._native_factor(p)
        own = _Site(d, self._rates(p, d))
        vmax, vup, km, kup, cue = own.rates
        i_soc, i_doc = eq.split_input(d["c_input"] / (factor * eq.HOURS_PER_YEAR), p["input_soc_fraction"])
        k_d, k_e = p["k_death"] * d["mic_turnover_scale"], p["k_enzprod"]
        reference_cue = anchor = None
        if self._options["beta_rescale"] == BetaRescale.REFERENCE:
            input_ref = DEFAULT_C_INPUT[self._set] / (factor * eq.HOURS_PER_YEAR)
            reference_cue = self._reference_cue(p)
            m_ref = eq.reference_biomass(input_ref, reference_cue, p["k_death"], p["k_enzprod"])
            k_d, k_e = eq.rescaled_rate(k_d, m_ref, d["beta"]), eq.rescaled_rate(k_e, m_ref, d["beta_enz"])
        elif self._options["beta_rescale"] == BetaRescale.SITE:
            anchor = self._anchor_site(p)
            m_site = self._anchor_biomass(p, factor, anchor)
            k_d, k_e = eq.rescaled_rate(k_d, m_site, d["beta"]), eq.rescaled_rate(k_e, m_site, d["beta_enz"])
        kin = eq.Kinetics(i_soc, i_doc, cue * d["cue_scale"], vmax, vup, km, kup, k_d, k_e, p["k_enzloss"],
                          p["mic_to_soc"], d["beta"], d["beta_enz"])
        return _Batch(p, own, anchor, reference_cue, kin, factor)

    def _batch(self, theta: np.ndarray, forcing: np.ndarray) -> _Batch:
        """Everything the domain checks and the solver read, of a batch given as ``theta`` and ``forcing``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._prepare(*self._columns(theta, forcing))

    def _kinetics(self, theta, forcing) -> tuple[eq.Kinetics, np.ndarray]:
        """The batch's ``Kinetics`` and its g C m-2 per native unit factor."""
        batch = self._batch(theta, forcing)
        return batch.kin, batch.factor

    def _steady_state(self, theta, forcing, prepared=None):
        batch = self._batch(theta, forcing) if prepared is None else prepared
        kin, factor = batch.kin, batch.factor
        state = eq.steady_state(kin)
        status = np.where(state.exists, Status.OK, Status.SOLVER_FAILED).astype(np.int8)
        status[~state.converged] = Status.NOT_CONVERGED
        no_anchor = ~(np.isfinite(kin.k_d) & np.isfinite(kin.k_e) & (kin.k_d > 0.0) & (kin.k_e > 0.0))
        site = self._options["beta_rescale"] == BetaRescale.SITE
        if site and no_anchor.any():
            status[no_anchor] = Status.SOLVER_FAILED
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            dpools, _ = eq.tendencies(state.pools, kin)
            residual = reduce(np.maximum, np.abs(dpools).T) / (kin.i_soc + kin.i_doc)  # max over pools
            stable, hurwitz = eq.is_stable(state, kin)
        unconverged = (status == Status.OK) & ~(residual <= RESIDUAL_RTOL_NATIVE)
        unstable = (status == Status.OK) & ~unconverged & ~stable
        status[unconverged] = Status.NOT_CONVERGED
        status[unstable] = Status.SOLVER_FAILED
        message = None
        failed = np.flatnonzero(status != Status.OK)
        if failed.size:
            message = np.full(status.shape, "", dtype=object)
            units = "mg C g-1 h-1" if self._set == ParameterSet.LI2014 else "mg C cm-3 h-1"
            for i in failed:
                message[i] = self._failure_text(state, kin, i, units, residual[i], hurwitz[i])
            if site:
                message[no_anchor] = ("beta_rescale 'site': MIC* at beta = beta_enz = 1 at the anchor site is not "
                                      "positive and finite, so k_d*, k_e* cannot be rescaled")
        returned = state.pools * factor[:, None]
        # BaseAdapter's checks: the tendencies at the pools returned (g C m-2), as _tendencies evaluates them
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            dpools, fluxes = self._reported(returned, kin, factor)
        return SteadyStateParts(returned, status, message, dpools, fluxes)

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
        return self._reported(pools, kin, factor)

    def _pool_fluxes(self, theta, forcing, pools):
        kin, factor = self._kinetics(theta, forcing)
        per_year = (factor * eq.HOURS_PER_YEAR)[:, None]
        inputs, transfers, outflux = eq.pool_fluxes(pools / factor[:, None], kin)
        return PoolFluxes(inputs * per_year, transfers * per_year[:, :, None], outflux * per_year)

    @staticmethod
    def _reported(pools, kin, factor) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Tendencies and fluxes at ``pools`` [g C m-2], in g C m-2 yr-1."""
        dnative, fl = eq.tendencies(pools / factor[:, None], kin)
        per_year = factor * eq.HOURS_PER_YEAR
        fluxes = {name: fl[name] * per_year for name in ("uptake", "growth", "respiration")}
        fluxes["leaching"] = np.zeros(pools.shape[0])
        return dnative * per_year[:, None], fluxes

    def _domain_violations(self, theta, forcing, prepared=None):
        batch = self._batch(theta, forcing) if prepared is None else prepared
        found = self._row_violations(batch.own)
        if self._options["beta_rescale"] == BetaRescale.REFERENCE:
            ref = batch.reference_cue
            where = "20 degC, cue_scale 1" if self._set == ParameterSet.AWB2010 else "cue_scale 1"
            found.append(violation(~((ref > 0.0) & (ref < 1.0)), "beta_rescale 'reference' needs CUE in (0, 1) "
                                   f"at the reference scenario ({where}); got {{c:.6g}}", c=ref))
        elif self._options["beta_rescale"] == BetaRescale.SITE:
            d = batch.own.d
            found += anchor_violations(self, lambda *_: self._row_violations(batch.anchor), theta,
                                       self._anchor_forcing(1), (d["beta"] != 1.0) | (d["beta_enz"] != 1.0))
        return found

    def _row_violations(self, site: _Site):
        """Cross-constraints at a ``site`` (the rows' own or the anchor): CUE in (0, 1), K_m > 0 and K_up > 0."""
        d = site.d
        _, _, km, kup, cue = site.rates
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

"""Adapter of MIMICS, carbon only, at steady state (``mimics``).

Glue only: maps ``theta`` and ``forcing`` onto ``equations.py`` (native mgC cm-3 and hours),
solves with ``solver.py`` and converts at the boundary (pools x 10 depth, fluxes x 8760 x 10
depth). Spec: ``docs/models/mimics.md``.
"""

from __future__ import annotations

import numpy as np

from harness.adapter import (
    EXPONENT_MAX,
    BaseAdapter,
    BetaRescale,
    Driver,
    Interval,
    Option,
    Pool,
    PoolFluxes,
    SteadyStateParts,
    anchor_violations,
    violation,
)

from . import equations as eq
from . import solver
from .parameters import (
    FAILING_CASE,
    PARAMETERS,
    REFERENCE_CASES,
    REFERENCE_SITE,
    VARIANTS,
    ParameterSet,
)

_INF = float("inf")
#: reference states by (parameter row, rescaling site) bytes -> ((MICr, MICK) [mgC cm-3], stability checked)
_REFERENCES: dict[tuple[bytes, bytes], tuple[np.ndarray, bool]] = {}
_REFERENCES_KEPT = 4096  # entries, oldest dropped first
_POOL_TEXT = {
    "lit_m": ("metabolic litter (LIT_1)", "litter"),
    "lit_s": ("structural litter (LIT_2)", "litter"),
    "mic_r": ("r-strategist microbial biomass (MIC_1)", "mic"),
    "mic_k": ("K-strategist microbial biomass (MIC_2)", "mic"),
    "som_p": ("physically protected, mineral-associated SOM (SOM_1)", "maom"),
    "som_c": ("chemically protected SOM (SOM_2); counted as pom by convention", "pom"),
    "som_a": ("available SOM (SOM_3)", "som"),
}


def _drivers(beta_default: float) -> tuple[Driver, ...]:
    return (
        Driver("c_input", "g C m-2 yr-1", "I_tot = c_input/(8760 x 10 depth) mgC cm-3 h-1, split by fMET; "
               "also sets the turnover modifier M in gmd2015_fwd and stode_rev_npp",
               Interval(0.0, _INF, (True, True)), default=500.0),
        Driver("cue_scale", "1", "multiplies the four growth efficiencies mge_1..4 (public CUE_x); "
               "each product must stay below 1", Interval(0.0, 4.0 / 3.0, (True, True)), default=1.0),
        Driver("temperature", "degC", "T in V_j and K_j only", Interval(-20.0, 50.0), default=15.0),
        Driver("clay", "%", "fc = clay/100 in P, fPHYS and D; fAVAI = 1 - fPHYS - fCHEM must stay >= 0",
               Interval(0.0, 100.0), default=20.0),
        Driver("lignin_n", "1", "L in fMET = 0.85 - 0.013 L (input split, tau, fCHEM); fMET > 0",
               Interval(0.0, 65.38, (False, True)), default=20.0),
        Driver("beta", "1", "exponent of microbial turnover tau MIC^beta, MIC in mgC cm-3",
               Interval(1.0, EXPONENT_MAX), default=beta_default),
        Driver("mic_turnover_scale", "1", "s, multiplies tau_r and tau_K (public tau_MULT)",
               Interval(0.0, _INF, (True, True)), default=1.0),
    )


_DRIVERS = {name: _drivers(v.beta_default) for name, v in VARIANTS.items()}
#: rows per block of the solve: blocks of a few thousand rows keep Newton's temporaries in cache
#: (1e5 rows in one block ran ~1.6x slower per row than 8192); rows are independent, so results
#: do not depend on it
BLOCK_ROWS = 2**13
#: message of rows whose MICx_ref (MICx_site) failed, by beta_rescale
_NO_RESCALING = {
    BetaRescale.REFERENCE.value: "beta_rescale='reference': the reference-site steady state of this parameter row "
                                 "(beta = 1) failed, so tau cannot be rescaled",
    BetaRescale.SITE.value: "beta_rescale='site': the steady state of this parameter row at the anchor site "
                            "(beta = 1) failed, so tau cannot be rescaled",
}
#: the parameters behind fMET, fPHYS and fCHEM
_SHARE_PARAMETERS = ("fmet_p_1", "fmet_p_2", "fmet_p_3", "f_phys_r_1", "f_phys_r_2", "f_phys_k_1", "f_phys_k_2",
                     "f_chem_r_1", "f_chem_r_2", "f_chem_k_1", "f_chem_k_2")


def _stacked(parts: list[SteadyStateParts]) -> SteadyStateParts:
    """The blocks' parts in order, as one."""
    fluxes = {name: np.concatenate([p.fluxes[name] for p in parts]) for name in parts[0].fluxes}
    return SteadyStateParts(np.concatenate([p.pools for p in parts]), np.concatenate([p.status for p in parts]),
                            np.concatenate([p.message for p in parts]), np.concatenate([p.dpools for p in parts]),
                            fluxes)


class MimicsAdapter(BaseAdapter):
    """MIMICS: litter, r- and K-strategist microbes, and three SOM pools in one layer.

    Microbes take up metabolic and structural litter and available SOM by temperature-sensitive
    Michaelis-Menten kinetics, grow with efficiency ``cue_scale x mge`` and turn over as
    ``tau MIC^beta`` into protected and available SOM. The steady state comes from a batched
    Newton solve in log space, verified row by row (``solver.py``).
    Soil water is not represented: no moisture driver, so no porosity to respect.

    Parameters
    ----------
    parameter_set : {"gmd2015_fwd", "stode_rev_npp", "stode_rev_beta"}, default "gmd2015_fwd"
        Kinetics, parameter column and turnover modifier M: forward MM with the 2015 set and
        M = sqrt(c_input/100); reverse MM with the sandbox set and M = 2 clamp(sqrt(c_input/100),
        0.8, 1.2) and beta = 1; or reverse MM with the sandbox set, M = 2 and beta (default 1.5).
    beta_rescale : {"none", "reference", "site"}, default "none"
        ``reference`` multiplies tau_x by MICx_ref^(1 - beta), MICx_ref being the steady state of
        the same variant and parameters at the reference site with beta = 1, so that the
        reference site's pools do not depend on beta. ``site``: the same with MICx_site, the
        steady state at beta = 1 at the ``anchor`` site, whose pools then do not depend on beta.
    anchor : dict of str to float, default {}
        The anchor site of ``beta_rescale = 'site'``: driver name -> value [shared units], e.g. a
        scenario's baseline (``build_member`` passes the member's drivers); missing drivers take
        their defaults, and beta is 1 there whatever is given. Required with ``site``, ignored
        otherwise.

    References
    ----------
    Wieder, W.R. et al. (2015) Geosci. Model Dev. 8, 1789-1808. https://doi.org/10.5194/gmd-8-1789-2015
    """

    name = "mimics"
    description = "MIMICS: microbially explicit litter/SOM model (r/K microbes, MM kinetics), carbon only"
    reference = (
        "Wieder et al. (2015) Geosci. Model Dev. 8, 1789-1808, doi:10.5194/gmd-8-1789-2015; "
        "Wieder et al. (2014) Biogeosciences 11, 3899-3917, doi:10.5194/bg-11-3899-2014; "
        "Georgiou et al. (2017) Nat. Commun. 8, 1223, doi:10.1038/s41467-017-01116-z"
    )
    steady_state_method = (
        "batched Newton in log space from an analytic guess (exact analytic Jacobian, 2x2 Schur "
        "complement); per-row LSODA fall-back to 1e8 h; verified: residual, CO2 = input, MIC > 1e-9, "
        "all Jacobian eigenvalues Re < 0 (Routh-Hurwitz, eigenvalues where undecided)"
    )
    options = (
        Option("parameter_set", ParameterSet.GMD2015_FWD.value,
               "kinetics, parameter column and turnover modifier (spec section 4)",
               choices=tuple(p.value for p in ParameterSet)),
        Option("beta_rescale", BetaRescale.NONE.value,
               "'reference': tau_x times MICx_ref^(1 - beta) from the reference site at beta = 1; "
               "'site': the same from the anchor site",
               choices=tuple(b.value for b in BetaRescale)),
        Option("anchor", {}, "beta_rescale 'site': driver name -> value [shared units] of the anchor site "
               "(a scenario's baseline); missing drivers take their defaults, beta is 1 there"),
    )
    pools = tuple(Pool(n, "g C m-2", *_POOL_TEXT[n]) for n in eq.POOL_NAMES)
    outputs = ("soc", "soc_total", "litter", "mic", "maom", "pom", "respiration", "cue_bulk")
    reference_cases = REFERENCE_CASES
    failing_case = FAILING_CASE

    # -- metadata that depends on the parameter set ----------------------------------------------
    @property
    def parameters(self):
        """The parameters of the chosen parameter set."""
        return PARAMETERS[self._options["parameter_set"]]

    @property
    def drivers(self):
        """The drivers of the chosen parameter set (the default of ``beta`` differs between sets)."""
        return _DRIVERS[self._options["parameter_set"]]

    @property
    def _variant(self):
        return VARIANTS[self._options["parameter_set"]]

    # -- glue ----------------------------------------------------------------------------------
    def _columns(self, theta: np.ndarray, forcing: np.ndarray, only: tuple[str, ...] = ()) -> tuple[dict, dict]:
        """Parameter and driver columns by name, contiguous (all of them, or the parameters ``only``)."""
        d = dict(zip(self.driver_names, np.ascontiguousarray(forcing.T)))
        if only:
            names = self.parameter_names
            return {n: np.ascontiguousarray(theta[:, names.index(n)]) for n in only}, d
        return dict(zip(self.parameter_names, np.ascontiguousarray(theta.T))), d

    @staticmethod
    def _shares(p: dict, d: dict) -> tuple[np.ndarray, ...]:
        """fMET, the clay fraction fc, and the necromass shares fPHYS_r, fPHYS_K, fCHEM_r, fCHEM_K."""
        fc = d["clay"] / 100.0
        fmet = eq.metabolic_fraction(d["lignin_n"], p["fmet_p_1"], p["fmet_p_2"], p["fmet_p_3"])
        return (fmet, fc, eq.exp_share(p["f_phys_r_1"], p["f_phys_r_2"], fc),
                eq.exp_share(p["f_phys_k_1"], p["f_phys_k_2"], fc),
                eq.exp_share(p["f_chem_r_1"], p["f_chem_r_2"], fmet),
                eq.exp_share(p["f_chem_k_1"], p["f_chem_k_2"], fmet))

    def _kinetics(self, p: dict, d: dict, rescale: tuple = (1.0, 1.0)) -> eq.Kinetics:
        """Rate constants of a batch; ``rescale`` = (R_r, R_K), the beta rescaling of tau."""
        fmet, fc, fp_r, fp_k, fc_r, fc_k = self._shares(p, d)
        i_m, i_s = eq.input_rates(d["c_input"], fmet, p["depth"])
        i_tot = d["c_input"] / (eq.HOURS_PER_YEAR * eq.reporting_factor(p["depth"]))
        v = eq.vmax(d["temperature"], p["v_slope"], p["v_int"], p["a_v"], [p[f"v_mod_{j}"] for j in range(1, 7)])
        k = eq.half_saturation(
            d["temperature"], [p[f"k_slope_{j}"] for j in range(1, 7)], p["k_int"], p["a_k"],
            [p[f"k_mod_{j}"] for j in range(1, 7)], eq.p_scalar(fc, p["p_scalar_1"], p["p_scalar_2"]),
        )
        m = eq.tau_modifier(d["c_input"], self._variant.tau_modifier) * d["mic_turnover_scale"]
        return eq.Kinetics(
            self._variant.forward, i_tot, (1.0 - p["fi_1"]) * i_m, (1.0 - p["fi_2"]) * i_s,
            p["fi_1"] * i_m, p["fi_2"] * i_s, *v, *k, p["ko_1"] * k[1], p["ko_2"] * k[4],
            *(d["cue_scale"] * p[f"mge_{j}"] for j in range(1, 5)),
            eq.turnover_base(fmet, p["tau_r_1"], p["tau_r_2"]) * m * rescale[0],
            eq.turnover_base(fmet, p["tau_k_1"], p["tau_k_2"]) * m * rescale[1],
            d["beta"], fp_r, fp_k, fc_r, fc_k, 1.0 - (fp_r + fc_r), 1.0 - (fp_k + fc_k),
            eq.exp_share(p["desorb_1"], p["desorb_2"], fc),
        )

    def _rescaling_site(self, n_sets: int) -> np.ndarray:
        """Forcing (n_sets rows) of the site MICx_ref is solved at.

        The reference site or, with ``site``, the anchor; beta = 1 at both.
        """
        site = REFERENCE_SITE if self._options["beta_rescale"] == BetaRescale.REFERENCE else self._options["anchor"]
        return self.make_forcing(n_sets, **{**site, "beta": 1.0})

    def _rescaling(self, theta: np.ndarray, forcing: np.ndarray, stability: bool = True) -> tuple[np.ndarray, ...]:
        """(R_r, R_K) = MICx_ref^(1 - beta) per row; 1 where beta = 1 or beta_rescale is 'none'.

        MICx_ref (MICx_site with ``site``) is solved once per distinct parameter row among rows
        with beta != 1 (only the columns that vary are compared). NaN marks rows whose
        reference (or anchor) steady state failed.
        ``stability=False`` skips the eigenvalue check of the reference states: for rows whose
        reference passed it already (``_tendencies`` sees OK rows only), Newton returns the same bits.
        """
        beta = forcing[:, self.driver_names.index("beta")]
        r = np.ones((2, beta.size))
        rows = np.flatnonzero(beta != 1.0)
        if self._options["beta_rescale"] == BetaRescale.NONE.value or rows.size == 0:
            return r[0], r[1]
        sub = theta[rows]
        varying = np.flatnonzero((sub != sub[0]).any(axis=0))
        if varying.size == 0:
            unique, inverse = sub[:1], np.zeros(rows.size, dtype=int)
        else:
            _, first, inverse = np.unique(sub[:, varying], axis=0, return_index=True, return_inverse=True)
            unique = sub[first]
        mic_ref = self._reference_mic(unique, stability)[:, inverse.ravel()]
        r[:, rows] = mic_ref ** (1.0 - beta[rows])
        return r[0], r[1]

    def _reference_mic(self, unique: np.ndarray, stability: bool) -> np.ndarray:
        """(MICr_ref, MICK_ref) at the rescaling site of each parameter row, (2, m) [mgC cm-3]; NaN: failed.

        Each row's reference state depends on its parameters only, and Newton solves every row on
        its own, so a row solved before is taken from ``_REFERENCES`` (the same bits): a
        calibration asks for the same parameters at every likelihood call.
        """
        site = self._rescaling_site(1)
        keys = [(row.tobytes(), site.tobytes()) for row in unique]
        found = [_REFERENCES.get(key) for key in keys]
        # an unchecked entry does not answer a checked request; a failed checked one is solved unchecked again
        missing = [i for i, hit in enumerate(found)
                   if hit is None or (stability and not hit[1]) or (not stability and np.isnan(hit[0]).any())]
        if missing:
            kin = self._kinetics(*self._columns(unique[missing], self._rescaling_site(len(missing))))
            pools, status, _ = solver.steady_state(kin, stability=stability)
            mic = np.where(status == solver.OK, pools[[eq.MIC_R, eq.MIC_K]], np.nan)
            for j, i in enumerate(missing):
                found[i] = (mic[:, j], stability)
                if len(_REFERENCES) >= _REFERENCES_KEPT:
                    _REFERENCES.pop(next(iter(_REFERENCES)))
                _REFERENCES[keys[i]] = found[i]
        return np.column_stack([hit[0] for hit in found])

    def _system(self, theta: np.ndarray, forcing: np.ndarray, stability: bool = True) -> tuple[eq.Kinetics, np.ndarray]:
        """Kinetics of the rows and their reporting factor (g C m-2 per mgC cm-3)."""
        p, d = self._columns(theta, forcing)
        return self._kinetics(p, d, self._rescaling(theta, forcing, stability)), eq.reporting_factor(p["depth"])

    def _steady_state(self, theta, forcing):
        rescale = self._rescaling(theta, forcing)  # one reference solve per distinct parameter row
        n = theta.shape[0]
        if n <= BLOCK_ROWS:
            return self._solve_block(theta, forcing, rescale)
        return _stacked([self._solve_block(theta[i : i + BLOCK_ROWS], forcing[i : i + BLOCK_ROWS],
                                           (rescale[0][i : i + BLOCK_ROWS], rescale[1][i : i + BLOCK_ROWS]))
                         for i in range(0, n, BLOCK_ROWS)])

    def _solve_block(self, theta: np.ndarray, forcing: np.ndarray, rescale: tuple) -> SteadyStateParts:
        """Steady states of some rows, with the tendencies and fluxes at the reported pools."""
        p, d = self._columns(theta, forcing)
        kin, factor = self._kinetics(p, d, rescale), eq.reporting_factor(p["depth"])
        status = np.zeros(kin.size, dtype=np.int8)
        message = np.full(kin.size, "", dtype=object)
        pools = np.full((eq.N_POOLS, kin.size), np.nan)
        no_reference = ~(np.isfinite(kin.tau_r) & np.isfinite(kin.tau_k))
        status[no_reference] = solver.SOLVER_FAILED
        message[no_reference] = _NO_RESCALING.get(self._options["beta_rescale"], "")
        rows = np.flatnonzero(~no_reference)
        if rows.size:
            pools[:, rows], status[rows], message[rows] = solver.steady_state(
                kin if rows.size == kin.size else kin.take(rows))
        reported = (pools * factor).T
        # what _tendencies gives at the reported pools (BaseAdapter then need not evaluate it again)
        dpools, fluxes = self._rates_at(reported, kin, factor)
        return SteadyStateParts(reported, status, message, dpools, fluxes)

    def _tendencies(self, theta, forcing, pools):
        kin, factor = self._system(theta, forcing, stability=False)
        return self._rates_at(pools, kin, factor)

    def _pool_fluxes(self, theta, forcing, pools):
        kin, factor = self._system(theta, forcing, stability=False)
        per_year = (eq.HOURS_PER_YEAR * factor)[:, None]
        inputs, transfers, outflux = eq.pool_fluxes(pools.T / factor, kin)
        return PoolFluxes(inputs * per_year, transfers * per_year[:, :, None], outflux * per_year)

    @staticmethod
    def _rates_at(pools: np.ndarray, kin: eq.Kinetics, factor: np.ndarray) -> tuple[np.ndarray, dict]:
        """``dpools_dt`` and the fluxes at ``pools`` (n, 7) [g C m-2], in g C m-2 yr-1."""
        native = pools.T / factor
        p = eq.partials(native, kin)
        dpools, co2 = eq.tendencies(native, kin, p)
        uptake, growth = eq.uptake_and_growth(native, kin, p)
        per_year = eq.HOURS_PER_YEAR * factor
        fluxes = {"uptake": uptake * per_year, "growth": growth * per_year, "respiration": co2 * per_year,
                  "leaching": np.zeros(kin.size)}
        return (dpools * per_year).T, fluxes

    def _domain_violations(self, theta, forcing):
        found = self._row_violations(theta, forcing)
        if self._options["beta_rescale"] == BetaRescale.SITE:
            found += anchor_violations(self, self._row_violations, theta, self._rescaling_site(theta.shape[0]),
                                        forcing[:, self.driver_names.index("beta")] != 1.0)
        return found

    def _row_violations(self, theta, forcing):
        """Cross-constraints of the rows' own drivers: fMET, fAVAI_x and every efficiency."""
        p, d = self._columns(theta, forcing, _SHARE_PARAMETERS + tuple(f"mge_{j}" for j in range(1, 5)))
        fmet, _, fp_r, fp_k, fc_r, fc_k = self._shares(p, d)
        found = [violation(
            ~((fmet > 0.0) & (fmet < 1.0)),
            "lignin_n={x:g} gives fMET = fmet_p_1 (fmet_p_2 - fmet_p_3 lignin_n) = {f:.6g}; fMET must lie "
            "in (0, 1) (lignin_n < {top:.6g} at these fmet_p)", x=d["lignin_n"], f=fmet,
            top=p["fmet_p_2"] / p["fmet_p_3"],
        )]
        for x, fp, fcm, a, b in (("r", fp_r, fc_r, p["f_phys_r_1"], p["f_phys_r_2"]),
                                 ("K", fp_k, fc_k, p["f_phys_k_1"], p["f_phys_k_2"])):
            with np.errstate(all="ignore"):
                clay_max = 100.0 * np.log((1.0 - fcm) / a) / b  # where fPHYS = 1 - fCHEM
            found.append(violation(
                ~(1.0 - (fp + fcm) >= 0.0),
                f"clay={{c:g}} % with lignin_n={{x:g}} gives fAVAI_{x} = 1 - fPHYS_{x} - fCHEM_{x} = "
                "{f:.6g} < 0; fAVAI must be >= 0 (clay <= {cmax:.4g} % at this lignin_n)",
                c=d["clay"], x=d["lignin_n"], f=1.0 - (fp + fcm), cmax=clay_max,
            ))
        for j in range(1, 5):
            e = d["cue_scale"] * p[f"mge_{j}"]
            found.append(violation(
                ~(e < 1.0),
                f"cue_scale={{s:g}} takes e{j} = cue_scale x mge_{j} to {{e:g}}; it must be < 1 "
                f"(cue_scale < {{top:.6g}})", s=d["cue_scale"], e=e, top=1.0 / p[f"mge_{j}"],
            ))
        if self._variant.beta_must_be_one:
            found.append(violation(
                d["beta"] != 1.0,
                "beta={b:g}: parameter_set 'stode_rev_npp' fixes beta = 1 (MIMICS_STODE tauMethod='NPP'); "
                "use parameter_set 'stode_rev_beta' for beta != 1", b=d["beta"],
            ))
        return found

"""Adapter of the Tao et al. (2023) microbial-enzyme model (``tao_enzyme``).

Glue only: maps ``theta`` and ``forcing`` columns onto ``equations.py`` (volumetric g C m-3,
years) and declares the metadata. Spec: ``docs/models/tao_enzyme.md``.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from harness.adapter import (
    EXPONENT_MAX,
    BaseAdapter,
    BetaRescale,
    Driver,
    Interval,
    Option,
    Pool,
    Status,
    SteadyStateParts,
    anchor_violations,
    violation,
)

from . import equations as eq
from .parameters import FAILING_CASE, PARAMETERS, REFERENCE_CASES

_INF = float("inf")
#: c_input of the reference scenario that fixes M_ref (spec (h)) [g C m-2 yr-1]
REFERENCE_C_INPUT = 300.0
_POOL_TEXT = {
    "cwd": ("coarse woody debris", "litter"),
    "l1": ("metabolic litter", "litter"),
    "l2": ("cellulose litter", "litter"),
    "l3": ("lignin litter", "litter"),
    "doc": ("dissolved organic carbon", "doc"),
    "mic": ("microbial biomass", "mic"),
    "enz": ("enzymes", "enz"),
    "soc_pool": ("enzyme-degraded soil organic carbon (the model's SOC pool)", "som"),
}
#: rows per block of the vectorised solve: blocks of ~1e4-1e5 rows keep the temporaries in cache,
#: twice as fast as one block at 1e6 rows; rows are independent, so results do not depend on it
BLOCK_ROWS = 2**15
_FRACTIONS = ("f_cwd", "f_l1", "f_l2", "f_l3")
#: ``failure`` code of rows whose M_site (beta_rescale 'site') is not positive and finite
_NO_ANCHOR = 99
_EFFICIENCIES = ("eps_l1", "eps_l23", "cue")


def _take(columns: tuple, rows: np.ndarray) -> tuple:
    """The given rows of every field of a NamedTuple of (n_sets,) arrays."""
    return type(columns)(*(v[rows] for v in columns))


class TaoEnzymeAdapter(BaseAdapter):
    """Tao et al. (2023) CLM5 litter cascade feeding DOC, microbes, enzymes and SOC, single layer.

    Microbes take up DOC (Michaelis-Menten), die (``xi k_d* MIC**beta``) and make enzymes
    (``xi k_e* MIC**beta_enz``); enzymes depolymerise SOC. The steady state is the spec's closed
    form at beta = beta_enz = 1 and a vectorised monotone 1-D root for MIC otherwise; rows where
    no steady state exists (c <= a or V <= U*) or where it is locally unstable are flagged.

    Parameters
    ----------
    beta_rescale : {"reference", "none", "site"}, default "reference"
        ``none``: ``k* = k`` with MIC in g C m-3. ``reference``: ``k_d* = k_d M_ref**(1-beta)``,
        ``k_e* = k_e M_ref**(1-beta_enz)``, with M_ref the MIC* of the linear model (beta =
        beta_enz = 1) in the reference scenario: the row's own parameters (including
        layer_depth_m, xi_fixed, psi_mpa, xi_depth, q10, w_scaling) with the drivers frozen at
        c_input 300 g C m-2 yr-1, cue_scale 1, mic_turnover_scale 1, temperature 25 degC
        (xi_T = 1) and moisture absent (xi_W = 1 unless psi_mpa is set). M_ref never follows the
        row's drivers: recomputing it per run would cancel the beta effect. At that scenario the
        pools are the same for every beta, beta_enz; with xi_fixed 0.3 it is spec R1 (M_ref =
        356.693 g C m-3). ``site``: the same with M_site, the MIC* of the linear model at the
        ``anchor`` site (its c_input, cue_scale, mic_turnover_scale, temperature, moisture, sand
        and clay), frozen likewise; the anchor's pools are then the same for every beta, beta_enz.
    anchor : dict of str to float, default {}
        The anchor site of ``beta_rescale = 'site'``: driver name -> value [shared units], e.g. a
        scenario's baseline (``build_member`` passes the member's drivers); missing drivers take
        their defaults (moisture: absent), and beta = beta_enz = 1 there whatever is given.
        Required with ``site``, ignored otherwise.
    couple_tau_enz_to_ka : bool, default False
        v22's coupling ``tau_enz = 10**((K_a - 3000)/900)`` yr; ``tau_enz`` is then ignored.
        ``km_doc``'s bounds are the coupling's range [300, 3000] g C m-3, so any other K_a is
        rejected by its column bound. At the default K_a no steady state exists (spec R7).
    km_scale_with_xi : bool, default True
        Multiply K_a and K_d by xi, as published.

    References
    ----------
    Tao, F. et al. (2023) Nature 618, 981-985. https://doi.org/10.1038/s41586-023-06042-3
    """

    name = "tao_enzyme"
    description = "Tao et al. (2023) microbial-enzyme model (CLM5 litter, DOC, MIC, ENZ, SOC), single layer"
    reference = (
        "Tao et al. (2023) Nature 618, 981-985, doi:10.1038/s41586-023-06042-3; "
        "Tao et al. (2024) Nature Reply, doi:10.1038/s41586-023-07000-9"
    )
    steady_state_method = (
        "closed form at beta = beta_enz = 1, else vectorised safeguarded Newton for MIC (rtol 1e-14) "
        "then closed forms; existence (c > a, V > U*) and local stability (Routh-Hurwitz on the "
        "soil Jacobian, eigenvalues where undecided) checked per row"
    )
    options = (
        Option("beta_rescale", BetaRescale.REFERENCE.value, "k_d*, k_e* rescaled to keep the reference scenario's "
               "pools for every beta, beta_enz ('reference'), the anchor site's ('site'), or used as published "
               "('none')", choices=tuple(b.value for b in BetaRescale)),
        Option("anchor", {}, "beta_rescale 'site': driver name -> value [shared units] of the anchor site "
               "(a scenario's baseline); missing drivers take their defaults, beta = beta_enz = 1 there"),
        Option("couple_tau_enz_to_ka", False, "tau_enz = 10**((K_a - 3000)/900) yr as in the v22 code"),
        Option("km_scale_with_xi", True, "multiply K_a and K_d by xi, as published"),
    )
    parameters = PARAMETERS
    drivers = (
        Driver("c_input", "g C m-2 yr-1", "litter input, split by f_cwd, f_l1, f_l2, f_l3, / h",
               Interval(0.0, _INF, (True, True)), default=300.0),
        Driver("cue_scale", "1", "multiplies cue, eps_l1, eps_l23 (routing fractions unscaled)",
               Interval(0.0, _INF, (True, True)), default=1.0),
        Driver("temperature", "degC", "xi_T = q10**((T - 25)/10); default 25 gives xi_T = 1",
               Interval(-50.0, 60.0), default=25.0),
        Driver("moisture", "m3 m-3", "xi_W via theta -> psi (needs sand, clay); NaN: absent, xi_W = 1; at most "
               "the porosity theta_sat = 0.489 - 0.00126 sand", Interval(0.0, 1.0), default=float("nan"),
               optional=True),
        Driver("clay", "%", "theta -> psi only; clay + sand <= 100", Interval(0.0, 100.0), default=20.0),
        Driver("sand", "%", "theta -> psi only; clay + sand <= 100", Interval(0.0, 100.0), default=40.0),
        Driver("beta", "1", "D = xi k_d* MIC**beta (MIC in g C m-3)", Interval(0.0, EXPONENT_MAX, (True, False)),
               default=1.0),
        Driver("beta_enz", "1", "P = xi k_e* MIC**beta_enz (MIC in g C m-3)",
               Interval(0.0, EXPONENT_MAX, (True, False)), default=1.0),
        Driver("mic_turnover_scale", "1", "multiplies k_d = 1/tau_mic only", Interval(0.0, _INF, (True, True)),
               default=1.0),
    )
    pools = tuple(Pool(n, "g C m-2", _POOL_TEXT[n][0], _POOL_TEXT[n][1]) for n in eq.POOL_NAMES)
    outputs = ("soc", "soc_total", "litter", "mic", "respiration", "cue_bulk")
    reference_cases = REFERENCE_CASES
    failing_case = FAILING_CASE

    # -- glue ---------------------------------------------------------------------------------
    def _columns(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[dict, dict]:
        # column-major copies: every column is read, and contiguous columns are several times faster
        theta, forcing = np.asfortranarray(theta), np.asfortranarray(forcing)
        return dict(zip(self.parameter_names, theta.T)), dict(zip(self.driver_names, forcing.T))

    @staticmethod
    def _xi(p: dict, temperature: Any, moisture: Any, sand: Any, clay: Any) -> tuple[np.ndarray, np.ndarray]:
        """``xi`` and the water potential behind it (NaN when water is not represented)."""
        psi = eq.water_potential(moisture, sand, clay, p["psi_mpa"])
        xi = eq.rate_scalar(temperature, p["q10"], psi, p["psi_min"], p["psi_max"], p["w_scaling"],
                            p["xi_depth"], p["xi_fixed"])
        return xi, psi

    def _kinetics(self, p: dict, xi: np.ndarray, scale: Any, k_d: np.ndarray, beta: Any, beta_enz: Any) -> eq.Kinetics:
        n = xi.shape[0]
        tau_enz = eq.coupled_tau_enz(p["km_doc"]) if self._options["couple_tau_enz_to_ka"] else p["tau_enz"]
        xi_k = xi if self._options["km_scale_with_xi"] else 1.0
        values = dict(
            xi=xi, k_cwd=1.0 / p["tau_cwd"], k_l1=1.0 / p["tau_l1"], k_l23=1.0 / p["tau_l2"],
            k_u=1.0 / p["tau_doc"], k_d=k_d, k_e=1.0 / p["tau_enzprod"], k_z=1.0 / tau_enz,
            k_s=1.0 / p["tau_soc"], km_doc=xi_k * p["km_doc"], km_soc=xi_k * p["km_soc"],
            f_cwdl2=p["f_cwdl2"], p_l1=p["p_l1"], p_l2=p["p_l2"], p_l3=p["p_l3"], p_d=p["p_death_soc"],
            eps_l1=scale * p["eps_l1"], eps_l23=scale * p["eps_l23"], cue=scale * p["cue"],
            beta=beta, beta_enz=beta_enz,
        )
        return eq.Kinetics(**{k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in values.items()})

    def _anchor_forcing(self, n_sets: int) -> np.ndarray:
        """Forcing (n_sets rows) of the anchor site of ``site``, with beta = beta_enz = 1."""
        return self.make_forcing(n_sets, **{**self._options["anchor"], "beta": 1.0, "beta_enz": 1.0})

    def _reference_mic(self, p: dict, rows: np.ndarray) -> np.ndarray:
        """M_ref [g C m-3] of the given rows (see the class docstring); M_site with ``site``."""
        sub = {k: v[rows] for k, v in p.items()}
        if self._options["beta_rescale"] == BetaRescale.SITE:
            return self._anchor_mic(sub)
        xi, _ = self._xi(sub, eq.T_REF, np.nan, 0.0, 0.0)
        kin = self._kinetics(sub, xi, 1.0, 1.0 / sub["tau_mic"], 1.0, 1.0)
        c_input = REFERENCE_C_INPUT / sub["layer_depth_m"]
        return eq.reference_mic(c_input, [sub[f] for f in _FRACTIONS], sub["f_cwdl2"], kin)

    def _anchor_mic(self, p: dict) -> np.ndarray:
        """M_site [g C m-3]: MIC* of the linear model at the anchor site, for parameter columns ``p``.

        NaN where it is not positive (the rows then fail in ``_solve_block``).
        """
        d = dict(zip(self.driver_names, self._anchor_forcing(p["tau_mic"].shape[0]).T))
        xi, _ = self._xi(p, d["temperature"], d["moisture"], d["sand"], d["clay"])
        kin = self._kinetics(p, xi, d["cue_scale"], d["mic_turnover_scale"] / p["tau_mic"], 1.0, 1.0)
        m_site = eq.reference_mic(d["c_input"] / p["layer_depth_m"], [p[f] for f in _FRACTIONS], p["f_cwdl2"], kin)
        return np.where(m_site > 0.0, m_site, np.nan)

    def _model(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[eq.Kinetics, np.ndarray, np.ndarray]:
        """Kinetics, volumetric litter inputs [g C m-3 yr-1] and layer depth h [m] of a batch."""
        p, d = self._columns(theta, forcing)
        xi, _ = self._xi(p, d["temperature"], d["moisture"], d["sand"], d["clay"])
        kin = self._kinetics(p, xi, d["cue_scale"], d["mic_turnover_scale"] / p["tau_mic"], d["beta"], d["beta_enz"])
        nonlinear = np.flatnonzero((d["beta"] != 1.0) | (d["beta_enz"] != 1.0))
        if self._options["beta_rescale"] != BetaRescale.NONE and nonlinear.size:
            m_ref = self._reference_mic(p, nonlinear)
            k_d, k_e = kin.k_d.copy(), kin.k_e.copy()
            k_d[nonlinear] *= m_ref ** (1.0 - d["beta"][nonlinear])
            k_e[nonlinear] *= m_ref ** (1.0 - d["beta_enz"][nonlinear])
            kin = kin._replace(k_d=k_d, k_e=k_e)
        h = p["layer_depth_m"]
        inputs = eq.litter_inputs(d["c_input"] / h, *(p[f] for f in _FRACTIONS))
        return kin, inputs, h

    def _steady_state(self, theta, forcing):
        if theta.shape[0] <= BLOCK_ROWS:
            return self._solve_block(theta, forcing)
        parts = [self._solve_block(theta[i : i + BLOCK_ROWS], forcing[i : i + BLOCK_ROWS])
                 for i in range(0, theta.shape[0], BLOCK_ROWS)]
        return SteadyStateParts(np.concatenate([p.pools for p in parts]), np.concatenate([p.status for p in parts]),
                                np.concatenate([p.message for p in parts]))

    def _solve_block(self, theta, forcing):
        kin, inputs, h = self._model(theta, forcing)
        # beta_rescale 'site' with M_site undefined: no k_d*, k_e* (the solver just carries the NaN)
        no_anchor = (self._options["beta_rescale"] == BetaRescale.SITE) & ~(np.isfinite(kin.k_d) & np.isfinite(kin.k_e))
        with np.errstate(invalid="ignore") if no_anchor.any() else nullcontext():
            pools, failure, found = eq.steady_state(inputs, kin)
        failure[no_anchor] = _NO_ANCHOR
        n = theta.shape[0]
        status = np.zeros(n, dtype=np.int8)
        message = np.full(n, "", dtype=object)
        texts = {
            eq.NO_SOC: (Status.SOLVER_FAILED, "no steady state: c <= a (c = xi k_s ENZ* = {c:.6g}, "
                        "a = I_soc + p_d D* = {a:.6g} g C m-3 yr-1)"),
            eq.NO_DOC: (Status.SOLVER_FAILED, "no steady state: V <= U* (V = xi k_u MIC* = {v:.6g}, "
                        "U* = {u:.6g} g C m-3 yr-1)"),
            eq.NO_ROOT: (Status.NOT_CONVERGED, f"MIC root not converged in {eq.ROOT_MAX_ITER} Newton steps"),
            _NO_ANCHOR: (Status.SOLVER_FAILED, "beta_rescale 'site': MIC* of the linear model (beta = beta_enz = 1) "
                         "at the anchor site is not positive and finite, so k_d*, k_e* cannot be rescaled"),
        }
        for code, (flag, text) in texts.items():
            for i in np.flatnonzero(failure == code):
                status[i], message[i] = flag, text.format(**{k: v[i] for k, v in found.items()})
        exists = failure == eq.EXISTS
        # c_input far beyond any site (a plug-in's wider bound): the closed forms overflow float64
        overflow = np.flatnonzero(exists & ~np.isfinite(pools).all(axis=1))
        for i in overflow:
            status[i] = Status.NON_FINITE
            message[i] = "steady state overflows float64: " + ", ".join(
                f"{name}={pools[i, j]:.6g}" for j, name in enumerate(eq.POOL_NAMES) if not np.isfinite(pools[i, j]))
        if overflow.size:
            exists[overflow] = False
        exists = np.flatnonzero(exists)
        unstable, max_re = self._unstable(pools[exists], kin if exists.size == n else _take(kin, exists))
        for k, value in zip(exists[unstable], max_re):
            if np.isnan(value):  # a Jacobian entry overflowed: no eigenvalues (eq.max_real_eigenvalue)
                status[k] = Status.SOLVER_FAILED
                message[k] = ("local stability undecidable: the soil Jacobian at the steady state is not finite "
                              "(float64 overflow)")
                continue
            status[k] = Status.NOT_CONVERGED
            message[k] = f"unstable equilibrium, max Re(lambda) = {value:.6g} yr-1"
        pools[status != Status.OK] = np.nan
        return SteadyStateParts(pools * h[:, None], status, message)

    @staticmethod
    def _unstable(pools: np.ndarray, kin: eq.Kinetics) -> tuple[np.ndarray, np.ndarray]:
        """Rows (of ``pools``) with an eigenvalue of non-negative real part, and that real part."""
        jac = eq.soil_jacobian(pools, kin)
        stable, decided = eq.hurwitz_stable(jac)
        unsure = np.flatnonzero(~decided)
        if unsure.size:
            stable[unsure] = eq.max_real_eigenvalue(_take(jac, unsure)) < 0.0
        unstable = np.flatnonzero(~stable)
        return unstable, eq.max_real_eigenvalue(_take(jac, unstable))

    def _tendencies(self, theta, forcing, pools):
        if theta.shape[0] <= BLOCK_ROWS:
            return self._tendencies_block(theta, forcing, pools)
        parts = [self._tendencies_block(theta[i : i + BLOCK_ROWS], forcing[i : i + BLOCK_ROWS],
                                        pools[i : i + BLOCK_ROWS])
                 for i in range(0, theta.shape[0], BLOCK_ROWS)]
        fluxes = {name: np.concatenate([part[1][name] for part in parts]) for name in parts[0][1]}
        return np.concatenate([part[0] for part in parts]), fluxes

    def _tendencies_block(self, theta, forcing, pools):
        kin, inputs, h = self._model(theta, forcing)
        dpools, fluxes = eq.tendencies(pools / h[:, None], inputs, kin)
        return dpools * h[:, None], {name: flux * h for name, flux in fluxes.items()}

    def _domain_violations(self, theta, forcing):
        found = self._row_violations(theta, forcing)
        if self._options["beta_rescale"] == BetaRescale.SITE:
            d = dict(zip(self.driver_names, forcing.T))
            found += anchor_violations(self, self._row_violations, theta, self._anchor_forcing(theta.shape[0]),
                                        (d["beta"] != 1.0) | (d["beta_enz"] != 1.0))
        return found

    def _row_violations(self, theta, forcing):
        """Cross-constraints of the rows' own drivers: efficiencies, input fractions, texture, porosity, xi > 0."""
        p, d = self._columns(theta, forcing)
        scale = d["cue_scale"]
        found = []
        for name in _EFFICIENCIES:
            e = scale * p[name]
            found.append(violation(
                (e >= 1.0) | ((e <= 0.0) & (p[name] != 0.0)),
                f"{name} x cue_scale = {{e0:.6g}} x {{s:g}} = {{e:.6g}}; it must lie in (0, 1)",
                e0=p[name], s=scale, e=e,
            ))
        total = sum(p[f] for f in _FRACTIONS)
        found.append(violation(
            np.abs(total - 1.0) > 1e-9,
            "f_cwd + f_l1 + f_l2 + f_l3 = {x:.12g}; the input fractions must sum to 1 (within 1e-9)",
            x=total,
        ))
        texture, porosity = d["clay"] + d["sand"], eq.cosby_parameters(d["sand"], d["clay"])[0]
        found.append(violation(~(texture <= 100.0), "clay + sand = {x:g} % (clay={c:g}, sand={s:g}); it must be <= 100",
                               x=texture, c=d["clay"], s=d["sand"]))
        # NaN moisture (absent) is not compared; CLM caps theta at theta_sat, here such a row is rejected
        found.append(violation(d["moisture"] > porosity, "moisture={m:g} m3 m-3 exceeds the porosity theta_sat = "
                               "0.489 - 0.00126 sand = {p:.6g} m3 m-3 (sand={s:g} %); moisture must be <= porosity",
                               m=d["moisture"], p=porosity, s=d["sand"]))
        xi, psi = self._xi(p, d["temperature"], d["moisture"], d["sand"], d["clay"])
        found.append(violation(
            ~(xi > 0.0),
            "xi = {xi:g} at psi = {psi:.6g} MPa; xi must be > 0, i.e. psi (psi_mpa or from moisture) "
            "must be > psi_min = {pmin:g} MPa",
            xi=xi, psi=psi, pmin=p["psi_min"],
        ))
        return found

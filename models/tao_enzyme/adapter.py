"""Adapter of the Tao et al. (2023) microbial-enzyme model (``tao_enzyme``).

Glue only: maps ``theta`` and ``forcing`` columns onto ``equations.py`` (volumetric g C m-3,
years) and declares the metadata. Spec: ``docs/models/tao_enzyme.md``.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, NamedTuple

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
    Status,
    SteadyStateParts,
    anchor_violations,
    column_major,
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
#: rows per block of the vectorised solve (and of ``steady_state``, ``block_rows``): blocks of ~1e4
#: rows keep the temporaries in cache and reused by the allocator, 1.3-1.5x as fast as one block of
#: 1e5 rows; rows are independent, so results do not depend on it
BLOCK_ROWS = 2**14
_FRACTIONS = ("f_cwd", "f_l1", "f_l2", "f_l3")
#: ``failure`` code of rows whose M_site (beta_rescale 'site') is not positive and finite
_NO_ANCHOR = 99
_EFFICIENCIES = ("eps_l1", "eps_l23", "cue")


def _take(columns: tuple, rows: np.ndarray | slice) -> tuple:
    """The given rows of every field of a NamedTuple of (n_sets,) arrays."""
    return type(columns)(*(v[rows] for v in columns))


class _Site(NamedTuple):
    """Drivers of a batch's rows at one site (their own, or the anchor of ``site``), and xi there."""

    d: dict[str, np.ndarray]  # driver columns [shared units]
    xi: np.ndarray  # (n,) [1]
    psi: np.ndarray  # (n,) [MPa], NaN when water is not represented

    def take(self, rows: np.ndarray | slice) -> _Site:
        """The same of the given rows (itself if it holds one row for all: see ``_shared``)."""
        if self.xi.shape[0] == 1:
            return self
        return _Site({k: v[rows] for k, v in self.d.items()}, self.xi[rows], self.psi[rows])


@dataclass(frozen=True)
class _Batch:
    """What the domain checks and the solver read of a batch, computed once per call."""

    p: dict[str, np.ndarray]  # parameter columns [units of each]
    own: _Site  # the rows' drivers, xi and water potential
    shared: dict[str, np.ndarray]  # ``_shared(p)``: p, or its one row if every row has the same
    anchor: _Site | None  # the anchor site of 'site' for the rows of ``shared``, when some row is rescaled
    kin: eq.Kinetics  # k_d*, k_e* rescaled
    inputs: np.ndarray  # (n, 4) litter inputs [g C m-3 yr-1]
    h: np.ndarray  # (n,) layer depth [m]

    def take(self, rows: np.ndarray | slice) -> _Batch:
        """The same of the given rows (an index array or a slice)."""
        p = {k: v[rows] for k, v in self.p.items()}
        return _Batch(p, self.own.take(rows), self.shared if self.shared is not self.p else p,
                      None if self.anchor is None else self.anchor.take(rows), _take(self.kin, rows),
                      self.inputs[rows], self.h[rows])


class _Messages:
    """Messages of a block's rows, made an array only when a row fails."""

    def __init__(self, n_rows: int):
        self.n_rows, self.array = n_rows, None

    def __setitem__(self, row: int | np.integer, text: str) -> None:
        if self.array is None:
            self.array = np.full(self.n_rows, "", dtype=object)
        self.array[row] = text


def _column(value: Any, n_rows: int) -> np.ndarray:
    """``value`` as a float array of shape (n_rows,): itself if it is one, else broadcast (no copy)."""
    if isinstance(value, np.ndarray) and value.shape == (n_rows,) and value.dtype == np.float64:
        return value
    return np.broadcast_to(np.asarray(value, dtype=float), (n_rows,))


def _porosity(sand: np.ndarray) -> np.ndarray:
    """Cosby porosity ``theta_sat = 0.489 - 0.00126 sand`` [m3 m-3], as ``eq.cosby_parameters(sand, clay)[0]``.

    Alone: the domain check needs no Clapp-Hornberger exponent or suction (a power per row).
    """
    return 0.489 - 0.00126 * np.asarray(sand, dtype=float)


def _shared(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``p`` itself, or its first row when every row has the same parameters, bit for bit.

    What depends on the parameters only (M_site, M_ref, the anchor's cross-constraints) is then
    computed once for the batch, as in a design that samples drivers only; elementwise numpy
    gives a row the same bits in a batch of one.
    """
    if all(v.shape[0] > 1 and (v.view(np.int64) == v[:1].view(np.int64)).all() for v in p.values()):
        return {k: v[:1] for k, v in p.items()}
    return p


def _spread(found: list, n_rows: int) -> list:
    """Violations found on one row that stands for ``n_rows`` identical rows, for all of them."""
    spread = []
    for mask, texts in found:
        if mask.shape[0] == n_rows:
            spread.append((mask, texts))
        else:
            texts = dict.fromkeys(range(n_rows), texts[0]) if mask[0] else {}
            spread.append((np.broadcast_to(mask, (n_rows,)), texts))
    return spread


def _rescaled(k: np.ndarray, rows: np.ndarray, m_ref: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """``k`` with ``k[rows] * m_ref**(1 - exponent[rows])``: k* of the rescaled rows."""
    if rows.size == k.shape[0]:
        return k * m_ref ** (1.0 - exponent)
    k = k.copy()
    k[rows] *= m_ref ** (1.0 - exponent[rows])
    return k


def _stacked(parts: list[SteadyStateParts]) -> SteadyStateParts:
    """The blocks' parts in order, as one."""
    messages = None
    if any(p.message is not None for p in parts):
        messages = np.concatenate([np.full(p.status.shape[0], "", dtype=object) if p.message is None
                                   else np.asarray(p.message, dtype=object) for p in parts])
    fluxes = {name: np.concatenate([(p.fluxes or {})[name] for p in parts]) for name in parts[0].fluxes or {}}
    return SteadyStateParts(np.concatenate([p.pools for p in parts]), np.concatenate([p.status for p in parts]),
                            messages, np.concatenate([np.asarray(p.dpools) for p in parts]), fluxes)


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
    block_rows = BLOCK_ROWS

    # -- glue ---------------------------------------------------------------------------------
    def _columns(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[dict, dict]:
        """Parameter and driver columns by name (contiguous copies: every column is read)."""
        return (dict(zip(self.parameter_names, column_major(theta))),
                dict(zip(self.driver_names, column_major(forcing))))

    @staticmethod
    def _xi(p: dict, temperature: Any, moisture: Any, sand: Any, clay: Any) -> tuple[np.ndarray, np.ndarray]:
        """``xi`` and the water potential behind it (NaN when water is not represented)."""
        psi = eq.water_potential(moisture, sand, clay, p["psi_mpa"])
        xi = eq.rate_scalar(temperature, p["q10"], psi, p["psi_min"], p["psi_max"], p["w_scaling"],
                            p["xi_depth"], p["xi_fixed"])
        return xi, psi

    def _site(self, p: dict, d: dict) -> _Site:
        """Drivers ``d`` of the rows with parameters ``p``, and the ``xi`` and water potential there."""
        return _Site(d, *self._xi(p, d["temperature"], d["moisture"], d["sand"], d["clay"]))

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
        return eq.Kinetics(**{k: _column(v, n) for k, v in values.items()})

    def _anchor_forcing(self, n_sets: int) -> np.ndarray:
        """Forcing (n_sets rows) of the anchor site of ``site``, with beta = beta_enz = 1."""
        return self.make_forcing(n_sets, **{**self._options["anchor"], "beta": 1.0, "beta_enz": 1.0})

    def _anchor_site(self, p: dict) -> _Site:
        """The anchor site of ``site`` for rows with parameters ``p``: its drivers, ``xi`` and water potential."""
        n = p["tau_mic"].shape[0]
        return self._site(p, {k: np.full(n, v) for k, v in zip(self.driver_names, self._anchor_forcing(1)[0])})

    def _reference_mic(self, p: dict, rows: np.ndarray, anchor: _Site | None = None) -> np.ndarray:
        """M_ref [g C m-3] of the given rows (see the class docstring); M_site with ``site``.

        ``anchor``: the anchor site of every row of ``p`` (``_anchor_site``), if at hand.
        """
        every = rows.size == p["tau_mic"].shape[0]
        sub = p if every else {k: v[rows] for k, v in p.items()}
        if self._options["beta_rescale"] == BetaRescale.SITE:
            site = self._anchor_site(sub) if anchor is None else anchor if every else anchor.take(rows)
            return self._anchor_mic(sub, site)
        xi, _ = self._xi(sub, eq.T_REF, np.nan, 0.0, 0.0)
        kin = self._kinetics(sub, xi, 1.0, 1.0 / sub["tau_mic"], 1.0, 1.0)
        c_input = REFERENCE_C_INPUT / sub["layer_depth_m"]
        return eq.reference_mic(c_input, [sub[f] for f in _FRACTIONS], sub["f_cwdl2"], kin)

    def _anchor_mic(self, p: dict, site: _Site) -> np.ndarray:
        """M_site [g C m-3]: MIC* of the linear model at the anchor ``site``, for parameter columns ``p``.

        NaN where it is not positive (the rows then fail in ``_solve_block``).
        """
        d = site.d
        kin = self._kinetics(p, site.xi, d["cue_scale"], d["mic_turnover_scale"] / p["tau_mic"], 1.0, 1.0)
        m_site = eq.reference_mic(d["c_input"] / p["layer_depth_m"], [p[f] for f in _FRACTIONS], p["f_cwdl2"], kin)
        return np.where(m_site > 0.0, m_site, np.nan)

    def _prepare(self, p, d) -> _Batch:
        own = self._site(p, d)
        kin = self._kinetics(p, own.xi, d["cue_scale"], d["mic_turnover_scale"] / p["tau_mic"], d["beta"],
                             d["beta_enz"])
        nonlinear = np.flatnonzero((d["beta"] != 1.0) | (d["beta_enz"] != 1.0))
        rescale = self._options["beta_rescale"]
        shared = _shared(p) if rescale != BetaRescale.NONE and nonlinear.size else p
        anchor = self._anchor_site(shared) if rescale == BetaRescale.SITE and nonlinear.size else None
        if rescale != BetaRescale.NONE and nonlinear.size:
            m_ref = self._reference_mic(shared, nonlinear if shared is p else np.array([0]), anchor)
            kin = kin._replace(k_d=_rescaled(kin.k_d, nonlinear, m_ref, d["beta"]),
                               k_e=_rescaled(kin.k_e, nonlinear, m_ref, d["beta_enz"]))
        h = p["layer_depth_m"]
        inputs = eq.litter_inputs(d["c_input"] / h, *(p[f] for f in _FRACTIONS))
        return _Batch(p, own, shared, anchor, kin, inputs, h)

    def _batch(self, theta: np.ndarray, forcing: np.ndarray) -> _Batch:
        """Everything the domain checks and the solver read, of a batch given as ``theta`` and ``forcing``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._prepare(*self._columns(theta, forcing))

    def _model(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[eq.Kinetics, np.ndarray, np.ndarray]:
        """Kinetics, volumetric litter inputs [g C m-3 yr-1] and layer depth h [m] of a batch."""
        batch = self._batch(theta, forcing)
        return batch.kin, batch.inputs, batch.h

    def _steady_state(self, theta, forcing, prepared=None):
        batch = self._batch(theta, forcing) if prepared is None else prepared
        n = theta.shape[0]
        if n <= BLOCK_ROWS:
            return self._solve_block(batch)
        return _stacked([self._solve_block(batch.take(slice(i, i + BLOCK_ROWS))) for i in range(0, n, BLOCK_ROWS)])

    def _solve_block(self, batch: _Batch) -> SteadyStateParts:
        """The rows of ``batch``: steady state, existence, stability, and the tendencies at the returned pools."""
        kin, inputs, h = batch.kin, batch.inputs, batch.h
        # beta_rescale 'site' with M_site undefined: no k_d*, k_e* (the solver just carries the NaN)
        no_anchor = (self._options["beta_rescale"] == BetaRescale.SITE) & ~(np.isfinite(kin.k_d) & np.isfinite(kin.k_e))
        with np.errstate(invalid="ignore") if no_anchor.any() else nullcontext():
            pools, failure, found = eq.steady_state(inputs, kin)
        failure[no_anchor] = _NO_ANCHOR
        n = h.shape[0]
        status = np.zeros(n, dtype=np.int8)
        message = _Messages(n)
        texts = {
            eq.NO_SOC: (Status.SOLVER_FAILED, "no steady state: c <= a (c = xi k_s ENZ* = {c:.6g}, "
                        "a = I_soc + p_d D* = {a:.6g} g C m-3 yr-1)"),
            eq.NO_DOC: (Status.SOLVER_FAILED, "no steady state: V <= U* (V = xi k_u MIC* = {v:.6g}, "
                        "U* = {u:.6g} g C m-3 yr-1)"),
            eq.NO_ROOT: (Status.NOT_CONVERGED, f"MIC root not converged in {eq.ROOT_MAX_ITER} Newton steps"),
            _NO_ANCHOR: (Status.SOLVER_FAILED, "beta_rescale 'site': MIC* of the linear model (beta = beta_enz = 1) "
                         "at the anchor site is not positive and finite, so k_d*, k_e* cannot be rescaled"),
        }
        exists = failure == eq.EXISTS
        if not exists.all():
            for code, (flag, text) in texts.items():
                for i in np.flatnonzero(failure == code):
                    status[i], message[i] = flag, text.format(**{k: v[i] for k, v in found.items()})
        # c_input far beyond any site (a plug-in's wider bound): the closed forms overflow float64
        if not np.isfinite(pools if exists.all() else pools[exists]).all():
            overflow = np.flatnonzero(exists & ~np.isfinite(pools).all(axis=1))
            for i in overflow:
                status[i] = Status.NON_FINITE
                message[i] = "steady state overflows float64: " + ", ".join(
                    f"{name}={pools[i, j]:.6g}" for j, name in enumerate(eq.POOL_NAMES) if not np.isfinite(pools[i, j]))
            exists[overflow] = False
        rows = np.flatnonzero(exists)
        every = rows.size == n
        unstable, max_re = self._unstable(pools if every else pools[rows], kin if every else _take(kin, rows))
        for k, value in zip(rows[unstable], max_re):
            if np.isnan(value):  # a Jacobian entry overflowed: no eigenvalues (eq.max_real_eigenvalue)
                status[k] = Status.SOLVER_FAILED
                message[k] = ("local stability undecidable: the soil Jacobian at the steady state is not finite "
                              "(float64 overflow)")
                continue
            status[k] = Status.NOT_CONVERGED
            message[k] = f"unstable equilibrium, max Re(lambda) = {value:.6g} yr-1"
        failed = status != Status.OK
        if failed.any():
            pools[failed] = np.nan
        returned = pools * h[:, None]
        # BaseAdapter's checks: the tendencies at the pools returned (g C m-2), as _tendencies evaluates them
        dpools, fluxes = eq.tendencies(returned / h[:, None], inputs, kin)
        return SteadyStateParts(returned, status, message.array, dpools * h[:, None],
                                {name: flux * h for name, flux in fluxes.items()})

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

    def _pool_fluxes(self, theta, forcing, pools):
        kin, inputs, h = self._model(theta, forcing)
        external, transfers, outflux = eq.pool_fluxes(pools / h[:, None], inputs, kin)
        return PoolFluxes(external * h[:, None], transfers * h[:, None, None], outflux * h[:, None])

    def _domain_violations(self, theta, forcing, prepared=None):
        batch = self._batch(theta, forcing) if prepared is None else prepared
        found = self._row_violations(batch.p, batch.own)
        if batch.anchor is not None:  # beta_rescale 'site' with rescaled rows
            d = batch.own.d
            found += anchor_violations(self, lambda *_: self._anchor_violations(batch), theta, self._anchor_forcing(1),
                                       (d["beta"] != 1.0) | (d["beta_enz"] != 1.0))
        return found

    def _anchor_violations(self, batch: _Batch) -> list:
        """The rows' cross-constraints at the anchor site, for every row of the batch."""
        return _spread(self._row_violations(batch.shared, batch.anchor), batch.h.shape[0])

    def _row_violations(self, p: dict, site: _Site) -> list:
        """Cross-constraints at a ``site`` (the rows' own or the anchor): efficiencies, fractions, soil, xi > 0."""
        d = site.d
        scale = d["cue_scale"]
        found = []
        for name in _EFFICIENCIES:
            e = scale * p[name]
            bad = e >= 1.0
            if not e.min(initial=np.inf) > 0.0:  # some e <= 0 (or NaN): allowed only for an efficiency of 0
                bad |= (e <= 0.0) & (p[name] != 0.0)
            found.append(violation(
                bad,
                f"{name} x cue_scale = {{e0:.6g}} x {{s:g}} = {{e:.6g}}; it must lie in (0, 1)",
                e0=p[name], s=scale, e=e,
            ))
        total = sum(p[f] for f in _FRACTIONS)
        found.append(violation(
            np.abs(total - 1.0) > 1e-9,
            "f_cwd + f_l1 + f_l2 + f_l3 = {x:.12g}; the input fractions must sum to 1 (within 1e-9)",
            x=total,
        ))
        texture, porosity = d["clay"] + d["sand"], _porosity(d["sand"])
        found.append(violation(~(texture <= 100.0), "clay + sand = {x:g} % (clay={c:g}, sand={s:g}); it must be <= 100",
                               x=texture, c=d["clay"], s=d["sand"]))
        # NaN moisture (absent) is not compared; CLM caps theta at theta_sat, here such a row is rejected
        found.append(violation(d["moisture"] > porosity, "moisture={m:g} m3 m-3 exceeds the porosity theta_sat = "
                               "0.489 - 0.00126 sand = {p:.6g} m3 m-3 (sand={s:g} %); moisture must be <= porosity",
                               m=d["moisture"], p=porosity, s=d["sand"]))
        found.append(violation(
            ~(site.xi > 0.0),
            "xi = {xi:g} at psi = {psi:.6g} MPa; xi must be > 0, i.e. psi (psi_mpa or from moisture) "
            "must be > psi_min = {pmin:g} MPa",
            xi=site.xi, psi=site.psi, pmin=p["psi_min"],
        ))
        return found

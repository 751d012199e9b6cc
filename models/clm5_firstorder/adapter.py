"""Adapter of the CLM5 CENTURY-based first-order cascade (``clm5_firstorder``).

Glue only: maps ``theta`` and ``forcing`` columns onto ``equations.py`` and declares the metadata.
Spec: ``docs/models/clm5_firstorder.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.adapter import (
    BaseAdapter,
    Driver,
    Interval,
    Option,
    ParameterError,
    Pool,
    PoolFluxes,
    SteadyStateParts,
    column_major,
    violation,
)

from . import equations as eq
from .parameters import FAILING_CASE, PARAMETERS, REFERENCE_CASES

_INF = float("inf")
#: turnover-time parameter of each pool, in pool order (L2 and L3 share one)
_TAU_OF_POOL = ("tau_cwd", "tau_l1", "tau_l2_l3", "tau_l2_l3", "tau_s1", "tau_s2", "tau_s3")
_POOL_TEXT = {
    "cwd": ("coarse woody debris", "litter"),
    "l1": ("metabolic litter", "litter"),
    "l2": ("cellulose litter", "litter"),
    "l3": ("lignin litter", "litter"),
    "s1": ("active SOM", "som"),
    "s2": ("slow SOM", "som"),
    "s3": ("passive SOM", "som"),
}


@dataclass(frozen=True)
class _System:
    """A batch's columns and its linear system ``dX/dt = B I + A xi K X``, built once per call.

    What the domain checks and the solver both read: the scalars behind ``xi``, the retained
    fractions and the loop determinant. Every array has the batch's rows along its first axis.
    """

    p: dict[str, np.ndarray]  # parameter columns [units of each]
    d: dict[str, np.ndarray]  # driver columns [shared units]
    inputs: np.ndarray  # (n, 7) B I [g C m-2 yr-1]
    transfers: eq.Transfers  # [1]
    k: np.ndarray  # (n, 7) [yr-1]
    xi: np.ndarray  # (n,) [1]
    r_t: np.ndarray  # (n,) [1]
    r_w: np.ndarray  # (n,) [1]
    psi: np.ndarray  # (n,) [MPa], NaN when neither psi_mpa nor moisture is given
    retained: np.ndarray  # (n, 7) retained fraction of each donor [1]
    delta: np.ndarray  # (n,) loop determinant [1]

    def take(self, rows: np.ndarray) -> _System:
        """The same quantities of the given rows (an index array)."""
        return _System(
            {k: v[rows] for k, v in self.p.items()}, {k: v[rows] for k, v in self.d.items()}, self.inputs[rows],
            eq.Transfers(*(v[rows] for v in self.transfers)), self.k[rows], self.xi[rows], self.r_t[rows],
            self.r_w[rows], self.psi[rows], self.retained[rows], self.delta[rows],
        )


class Clm5FirstOrderAdapter(BaseAdapter):
    """CLM5/CTSM CENTURY soil carbon cascade (CWD, 3 litter, 3 SOM pools), single layer.

    Every pool decays at first order scaled by ``xi = r_T r_W``; a fixed fraction of each flux is
    respired and the rest moves downstream. ``cue_scale`` multiplies every litter -> SOM and
    SOM -> SOM transfer coefficient. The steady state is the explicit solution of the linear
    system (spec section (g)).

    Parameters
    ----------
    normalize_q10 : bool, default True
        Multiply the Q10 function by the CENTURY normalisation N (CLM5 default).
    use_century_tfunc : bool, default False
        Use CENTURY's arctangent temperature function instead; requires ``normalize_q10=False``.

    References
    ----------
    Koven, C.D. et al. (2013) Biogeosciences 10, 7109-7131. https://doi.org/10.5194/bg-10-7109-2013
    """

    name = "clm5_firstorder"
    description = "CLM5 CENTURY-based first-order litter/SOM cascade, single layer, linear in c_input"
    reference = (
        "Koven et al. (2013) Biogeosciences 10, 7109-7131, doi:10.5194/bg-10-7109-2013; "
        "Lawrence et al. (2019) JAMES 11, 4245-4287, doi:10.1029/2018MS001583"
    )
    steady_state_method = "closed form (linear solve of dX/dt = B I + A xi K X = 0)"
    options = (
        Option("normalize_q10", True, "multiply the Q10 temperature function by the CENTURY normalisation N"),
        Option("use_century_tfunc", False, "use CENTURY's catanf(T)/catanf(30) instead of Q10 (without N)"),
    )
    parameters = PARAMETERS
    drivers = (
        Driver("c_input", "g C m-2 yr-1", "I, split between CWD and L1-L3 by f_wood, f_lab, f_cel, f_lig",
               Interval(0.0, _INF, (True, True)), default=500.0),
        Driver("cue_scale", "1", "multiplies every litter -> SOM and SOM -> SOM transfer coefficient",
               Interval(0.0, _INF, (True, True)), default=1.0),
        Driver("temperature", "degC", "r_T", Interval(-50.0, 60.0), default=15.0),
        Driver("moisture", "m3 m-3", "r_W via theta -> psi (needs sand, clay); NaN: absent, r_W = 1; at most the "
               "porosity theta_sat = 0.489 - 0.00126 sand", Interval(0.0, 1.0), default=float("nan"), optional=True),
        Driver("sand", "%", "S1 respired fraction t = 0.85 - 0.0068 (100 - sand) and theta -> psi; clay + sand <= 100",
               Interval(0.0, 100.0), default=40.0),
        Driver("clay", "%", "theta -> psi only; clay + sand <= 100", Interval(0.0, 100.0), default=20.0),
    )
    pools = tuple(Pool(n, "g C m-2", _POOL_TEXT[n][0], _POOL_TEXT[n][1]) for n in eq.POOL_NAMES)
    outputs = ("soc", "soc_total", "litter", "respiration", "cue_bulk")
    reference_cases = REFERENCE_CASES
    failing_case = FAILING_CASE
    block_rows = 2**14  # rows per block of steady_state (see BaseAdapter.block_rows)

    def __init__(self, **options: Any):
        super().__init__(**options)
        if self._options["normalize_q10"] and self._options["use_century_tfunc"]:
            raise ParameterError(
                "options normalize_q10=True and use_century_tfunc=True cannot be combined: the "
                "CENTURY function is not normalised; pass normalize_q10=False with use_century_tfunc=True"
            )

    # -- glue ---------------------------------------------------------------------------------
    def _system(self, theta: np.ndarray, forcing: np.ndarray) -> _System:
        """The columns and linear system of a batch."""
        return self._prepare(dict(zip(self.parameter_names, column_major(theta))),
                             dict(zip(self.driver_names, column_major(forcing))))

    def _prepare(self, p, d):
        texture_rule = eq.s1_to_s2_fraction(d["sand"], p["f_s1s3"])
        f_s1s2 = np.where(np.isnan(p["f_s1s2"]), texture_rule, p["f_s1s2"])
        transfers = eq.transfers(
            p["f_l1s1"], p["f_l2s1"], p["f_l3s2"], f_s1s2, p["f_s1s3"], p["f_s2s1"], p["f_s2s3"],
            p["f_s3s1"], p["cwd_fcel"], d["cue_scale"],
        )
        options = self._options
        r_t = eq.temperature_scalar(
            d["temperature"], p["q10"], p["q10_froz"],
            normalize_q10=options["normalize_q10"], use_century_tfunc=options["use_century_tfunc"],
        )
        from_theta = eq.soil_water_potential(d["moisture"], d["sand"], d["clay"])
        psi = np.where(np.isnan(p["psi_mpa"]), from_theta, p["psi_mpa"])
        # no water potential at all (moisture absent, psi_mpa unset): moisture not represented
        r_w = eq.moisture_scalar(psi, p["psi_min"], p["psi_max"], p["w_scaling"])
        r_w = np.where(np.isnan(psi), 1.0, r_w)
        xi = np.where(np.isnan(p["xi_fixed"]), r_t * r_w, p["xi_fixed"])
        inputs = eq.input_vector(d["c_input"], p["f_wood"], p["f_lab"], p["f_cel"], p["f_lig"])
        k = 1.0 / np.stack([p[name] for name in _TAU_OF_POOL]).T  # column-major (n, 7)
        return _System(p, d, inputs, transfers, k, xi, r_t, r_w, psi, eq.retained_fractions(transfers),
                       eq.loop_determinant(transfers))

    def _steady_state(self, theta, forcing, prepared=None):
        system = self._system(theta, forcing) if prepared is None else prepared
        pools = eq.steady_state(system.inputs, system.transfers, system.k, system.xi, system.delta)
        dpools, fluxes = eq.tendencies(pools, system.inputs, system.transfers, system.k, system.xi, system.retained)
        return SteadyStateParts(pools, np.zeros(theta.shape[0], dtype=np.int8), dpools=dpools, fluxes=fluxes)

    def _tendencies(self, theta, forcing, pools):
        system = self._system(theta, forcing)
        return eq.tendencies(pools, system.inputs, system.transfers, system.k, system.xi, system.retained)

    def _pool_fluxes(self, theta, forcing, pools):
        system = self._system(theta, forcing)
        return PoolFluxes(*eq.pool_fluxes(pools, system.inputs, system.transfers, system.k, system.xi,
                                          system.retained))

    def _domain_violations(self, theta, forcing, prepared=None):
        system = self._system(theta, forcing) if prepared is None else prepared
        p, d, retained = system.p, system.d, system.retained
        scale = d["cue_scale"]
        found = [
            violation(
                ~((retained[:, j] > 0.0) & (retained[:, j] < 1.0)),
                f"retained fraction of {name} = cue_scale {{s:g}} x {{e0:.6g}} (unscaled) = {{e:.6g}}; "
                "it must lie in (0, 1)",
                s=scale, e=retained[:, j], e0=retained[:, j] / scale,
            )
            for j, name in enumerate(eq.POOL_NAMES)
            if j != eq.CWD
        ]
        found += _soil_violations(d["moisture"], d["sand"], d["clay"])
        split = p["f_lab"] + p["f_cel"] + p["f_lig"]
        found.append(violation(
            np.abs(split - 1.0) > 1e-9,
            "f_lab + f_cel + f_lig = {x:.12g}; the non-woody input split must sum to 1 (within 1e-9)",
            x=split,
        ))
        found.append(violation(
            ~(system.xi > 0.0),
            "xi = {xi:g} (r_T = {rt:g}, r_W = {rw:g} at psi = {psi:.6g} MPa); xi must be > 0, i.e. "
            "psi (psi_mpa or from moisture) must be > psi_min = {pmin:g} MPa",
            xi=system.xi, rt=system.r_t, rw=system.r_w, psi=system.psi, pmin=p["psi_min"],
        ))
        found.append(violation(
            ~(system.delta > 0.0),
            "Delta = {d:g} <= 0: the S1-S2-S3 loops retain >= 1 of their carbon; lower the SOM "
            "transfer coefficients or cue_scale",
            d=system.delta,
        ))
        return found


def _soil_violations(moisture: np.ndarray, sand: np.ndarray, clay: np.ndarray) -> list:
    """Texture and water of a physical soil: clay + sand <= 100 %, moisture <= the Cosby porosity.

    Moisture NaN (absent) is not compared. Above the porosity theta -> psi has no meaning (CLM
    itself caps theta at theta_sat; here such a row is rejected rather than silently capped).
    """
    texture = clay + sand
    porosity = eq.cosby_parameters(sand, clay)[0]
    return [
        violation(~(texture <= 100.0), "clay + sand = {x:g} % (clay={c:g}, sand={s:g}); it must be <= 100",
                  x=texture, c=clay, s=sand),
        violation(moisture > porosity, "moisture={m:g} m3 m-3 exceeds the porosity theta_sat = 0.489 - 0.00126 "
                  "sand = {p:.6g} m3 m-3 (sand={s:g} %); moisture must be <= porosity",
                  m=moisture, p=porosity, s=sand),
    ]

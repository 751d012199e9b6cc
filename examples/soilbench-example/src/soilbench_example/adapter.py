"""Adapter of the two-pool example model (``twopool``): metadata and glue, no numerics.

Declares what the model computes (parameters, drivers, pools, outputs) and maps the columns of
``theta`` and ``forcing`` onto ``equations.py``. ``harness.adapter.BaseAdapter`` validates every
call, solves only valid rows, checks the returned state and derives the harmonised outputs.
"""

from __future__ import annotations

import numpy as np

from harness.adapter import (
    BaseAdapter,
    Driver,
    FailingCase,
    Interval,
    Parameter,
    Pool,
    ReferenceCase,
    SteadyStateParts,
    violation,
)

from . import equations as eq

_INF = float("inf")
_OPEN_LOW = (True, False)
#: where the numbers come from: this example has no publication
SOURCE = "soilbench worked example (docs/adapters.md), not a published model"
_CASES = "closed form of equations.steady_state"


class TwoPoolAdapter(BaseAdapter):
    """Plant litter and soil organic matter, first-order decay, a microbial efficiency.

    Litter receives ``c_input`` and decomposes with turnover time ``tau_litter / xi``; a share
    ``efficiency x cue_scale`` of it becomes SOM, the rest is respired; SOM decomposes with
    turnover time ``tau_som / xi`` and is respired. ``xi = q10**((T - 15)/10)``. The steady state
    is closed-form (``equations.steady_state``), linear in ``c_input`` and in the efficiency.

    References
    ----------
    None: a worked example for ``docs/adapters.md``.
    """

    name = "twopool"
    description = "worked example: two-pool litter/SOM model, first-order decay with a microbial efficiency"
    reference = SOURCE
    steady_state_method = "closed form: litter = c_input tau_litter / xi, som = e c_input tau_som / xi"
    parameters = (
        Parameter("tau_litter", "yr", 1.0, Interval(0.0, 100.0, _OPEN_LOW), "litter turnover time at 15 degC",
                  SOURCE),
        Parameter("tau_som", "yr", 20.0, Interval(0.0, 1000.0, _OPEN_LOW), "SOM turnover time at 15 degC", SOURCE),
        Parameter("efficiency", "1", 0.3, Interval(0.0, 1.0, (True, True)),
                  "share of decomposed litter that becomes SOM, before cue_scale", SOURCE),
        Parameter("q10", "1", 2.0, Interval(1.0, 5.0), "rate increase per 10 degC, reference 15 degC", SOURCE),
    )
    drivers = (
        Driver("c_input", "g C m-2 yr-1", "carbon input to litter", Interval(0.0, _INF, (True, True)), default=300.0),
        Driver("cue_scale", "1", "multiplies efficiency; the product must stay below 1",
               Interval(0.0, _INF, (True, True)), default=1.0),
        Driver("temperature", "degC", "xi = q10**((T - 15)/10)", Interval(-30.0, 45.0), default=15.0),
    )
    pools = (
        Pool("litter", "g C m-2", "plant litter", "litter"),
        Pool("som", "g C m-2", "soil organic matter", "som"),
    )
    outputs = ("soc", "soc_total", "litter", "respiration", "cue_bulk")
    #: the closed form at three sites, printed to 6 digits (docs/adapters.md, "The worked example")
    reference_cases = (
        ReferenceCase("defaults", {"c_input": 300.0}, {
            "pool.litter": "300", "pool.som": "1800", "soc": "1800", "soc_total": "2100",
            "respiration": "300", "cue_bulk": "0.230769",
        }, _CASES, rtol=1e-12),
        ReferenceCase("25 degC: xi = 2 halves both pools", {"c_input": 300.0, "temperature": 25.0},
                      {"pool.litter": "150", "pool.som": "900"}, _CASES, rtol=1e-12),
        ReferenceCase("cue_scale 2 doubles SOM", {"c_input": 300.0, "cue_scale": 2.0},
                      {"pool.som": "3600", "cue_bulk": "0.375"}, _CASES, rtol=1e-12),
    )
    #: within every column's bounds, but the efficiency times cue_scale reaches 1.2
    failing_case = FailingCase("cue_scale 4: efficiency 1.2", {"c_input": 300.0, "cue_scale": 4.0},
                               "efficiency x cue_scale must lie in (0, 1)")

    @staticmethod
    def _columns(theta: np.ndarray, forcing: np.ndarray) -> tuple[np.ndarray, ...]:
        """``tau_litter, tau_som, efficiency x cue_scale, xi, c_input`` of each row."""
        tau_litter, tau_som, efficiency, q10 = theta.T
        c_input, cue_scale, temperature = forcing.T
        return tau_litter, tau_som, efficiency * cue_scale, eq.rate_scalar(temperature, q10), c_input

    def _steady_state(self, theta, forcing):
        tau_litter, tau_som, efficiency, xi, c_input = self._columns(theta, forcing)
        litter, som = eq.steady_state(c_input, tau_litter, tau_som, efficiency, xi)
        return SteadyStateParts(np.column_stack([litter, som]), np.zeros(theta.shape[0], dtype=np.int8))

    def _tendencies(self, theta, forcing, pools):
        tau_litter, tau_som, efficiency, xi, c_input = self._columns(theta, forcing)
        dlitter, dsom, flux = eq.fluxes(pools[:, 0], pools[:, 1], c_input, tau_litter, tau_som, efficiency, xi)
        return np.column_stack([dlitter, dsom]), flux

    def _domain_violations(self, theta, forcing):
        efficiency = self._columns(theta, forcing)[2]
        return [violation(~(efficiency < 1.0), "efficiency x cue_scale = {e:g}; it must lie in (0, 1)",
                          e=efficiency)]

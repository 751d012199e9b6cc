"""A third-party plug-in for the registry tests: a minimal valid adapter and two broken ones.

Imported by the registry through fake entry points as ``tests.registry.fake_plugin:<Class>``.
"""

from __future__ import annotations

import numpy as np

from harness.adapter import BaseAdapter, Driver, Interval, Option, Parameter, Pool, SteadyStateParts

_INF = float("inf")


class ToyAdapter(BaseAdapter):
    """One soil pool with first-order decay: ``dX/dt = c_input - X / tau``, so ``X* = c_input tau``."""

    name = "toy"
    description = "one-pool first-order toy model for registry tests"
    reference = "none: a test fixture (doi:10.0000/none)"
    steady_state_method = "closed form X = c_input * tau"
    options = (Option("label", "plain", "a free-text option, echoed in provenance"),)
    parameters = (
        Parameter("tau", "yr", 10.0, Interval(0.0, 100.0, (True, False)), "turnover time of the pool", "test fixture"),
    )
    drivers = (
        Driver("c_input", "g C m-2 yr-1", "carbon input", Interval(0.0, _INF, (True, True)), default=100.0),
        Driver("ph", "1", "soil pH (read but unused)", Interval(3.0, 10.0), default=6.5),
    )
    pools = (Pool("som", "g C m-2", "soil organic matter", "som"),)
    outputs = ("soc", "respiration")

    def _steady_state(self, theta, forcing):
        pools = (forcing[:, 0] * theta[:, 0])[:, None]
        return SteadyStateParts(pools, np.zeros(theta.shape[0], dtype=np.int8))

    def _tendencies(self, theta, forcing, pools):
        decay = pools[:, 0] / theta[:, 0]
        zero = np.zeros_like(decay)
        dpools = (forcing[:, 0] - decay)[:, None]
        return dpools, {"uptake": decay, "growth": zero, "respiration": decay, "leaching": zero}


class BrokenAdapter(ToyAdapter):
    """Breaks the metadata contract twice: a default outside its bounds, an unknown pool kind."""

    name = "broken"
    parameters = (
        Parameter("tau", "yr", 500.0, Interval(0.0, 100.0, (True, False)), "turnover time of the pool", "test fixture"),
    )
    pools = (Pool("som", "g C m-2", "soil organic matter", "soup"),)


class NotAnAdapter:
    """Registered by mistake: not a ``BaseAdapter`` subclass."""

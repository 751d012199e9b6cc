"""A transient response seen as a steady state, so that sobol, local and sweep analyse it unchanged.

With a ``response`` section (``harness.spec.transient.ResponseSettings``) every member's adapter is
wrapped in a :class:`ResponseAdapter`: its ``steady_state`` solves the wrapped model's steady
state, runs the experiment from it (``harness.transient``) and returns, for each output, its
``ratio`` y(at)/y(0) [1] or its ``change`` y(at) - y(0) [output units], and the pools at ``at``.
Every design, index, interval and verdict of those kinds then applies to the response: e.g. the
Sobol indices of ln(SOC(50 yr) / SOC(0)) under inputs x 1.2, over the scenario's box.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .adapter import BaseAdapter, Output, SteadyStateResult
from .forcing_schedule import Perturbation, TableForcing, table_from_csv, table_from_netcdf
from .members import Member
from .sensitivity import Sensitivities
from .spec.transient import Change, ResponseSettings
from .transient import run_perturbation

__all__ = ["ResponseAdapter", "perturbation", "with_response", "NO_SENSITIVITIES"]

NO_SENSITIVITIES = "not defined for a transient response (the implicit derivatives are of steady states)"


def perturbation(change: Change, path: Path | None) -> Perturbation | TableForcing:
    """The forcing change a scenario's ``Change`` describes; a table is read from ``path`` (located by the checks)."""
    if path is None:
        return Perturbation(change.driver, change.scale, change.shift, change.start, change.ramp)
    if path.suffix == ".nc":
        return table_from_netcdf(path, change.column, change.driver, mode=change.mode)
    return table_from_csv(path, change.driver, change.units, value_column=change.column, mode=change.mode)


class ResponseAdapter(BaseAdapter):
    """The response of ``inner`` to an experiment, in the shape of a steady state (see the module)."""

    def __init__(self, inner: BaseAdapter, response: ResponseSettings, changes: Sequence[Perturbation | TableForcing]):
        self.inner = inner
        self.response = response
        self.changes = tuple(changes)
        self._options = inner.get_options()
        for name in ("name", "description", "reference", "parameters", "drivers", "pools", "outputs"):
            setattr(self, name, getattr(inner, name))

    def get_options(self) -> dict[str, Any]:
        """The wrapped adapter's options and the response (so stored chunks of a steady-state run are not reused)."""
        return {**self.inner.get_options(), "response": self.response.text}

    @property
    def output_metadata(self) -> tuple[Output, ...]:
        """Units [1] for ratios; the output's own units for changes."""
        if self.response.measure == "change":
            return self.inner.output_metadata
        return tuple(dataclasses.replace(o, units="1") for o in self.inner.output_metadata)

    def steady_state(self, theta: np.ndarray, forcing: np.ndarray) -> SteadyStateResult:
        """The response of each row: outputs as ratio or change at ``at`` [yr], pools at ``at`` [g C m-2]."""
        result, run = run_perturbation(self.inner, theta, forcing, self.changes, [0.0, self.response.at])
        with np.errstate(divide="ignore", invalid="ignore"):
            start, end = run.outputs[:, 0], run.outputs[:, -1]
            values = end / start if self.response.measure == "ratio" else end - start
        return SteadyStateResult(run.pools[:, -1], values, run.status, run.message, result.pool_names,
                                 result.output_names)

    def check_domain(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The wrapped model's domain."""
        return self.inner.check_domain(theta, forcing)

    def steady_state_sensitivities(self, theta: np.ndarray, forcing: np.ndarray, wrt: Sequence[str]) -> Sensitivities:
        """Not defined: the implicit derivatives are those of steady states, not of a transient response."""
        raise NotImplementedError(NO_SENSITIVITIES)

    def _tendencies(self, theta, forcing, pools):
        return self.inner._tendencies(theta, forcing, pools)


def with_response(members: Sequence[Member], response: ResponseSettings | None,
                  changes: Mapping[str, Perturbation | TableForcing]) -> list[Member]:
    """``members`` with adapters answering the transient ``response`` (unchanged when there is none).

    ``changes``: each change's forcing by its scenario path (``checks.check_changes``).
    """
    if response is None:
        return list(members)
    forcing = [changes[c.path] for c in response.experiment.changes]
    return [dataclasses.replace(m, adapter=ResponseAdapter(m.adapter, response, forcing)) for m in members]

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .adapter import BaseAdapter, Output, SteadyStateResult
from .forcing_schedule import Perturbation, TableForcing, table_from_csv, table_from_netcdf
from .members import Member
from .sensitivity import Sensitivities
from .spec.transient import Change, ResponseSettings
from .transient import run_perturbation

__all__ = ["ResponseAdapter", "perturbation", "with_response"]


def perturbation(change: Change, base: Path) -> Perturbation | TableForcing:
    """The forcing change a scenario's ``Change`` describes (a table is read relative to ``base``)."""
    if not change.table:
        return Perturbation(change.driver, change.scale, change.shift, change.start, change.ramp)
    path = base / change.table
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
        """Not available for a transient response: NaN derivatives (the local kind notes it)."""
        result = self.steady_state(theta, forcing)
        n = result.status.size
        values = np.full((n, len(wrt)), np.nan)
        return Sensitivities(result, tuple(wrt), values, np.full((n, len(self.outputs), len(wrt)), np.nan),
                             np.full((n, len(self.pools), len(wrt)), np.nan))

    def _tendencies(self, theta, forcing, pools):
        return self.inner._tendencies(theta, forcing, pools)


def with_response(members: Sequence[Member], response: ResponseSettings | None, base: Path) -> list[Member]:
    """``members`` with adapters answering the transient ``response`` (unchanged when there is none)."""
    if response is None:
        return list(members)
    changes = [perturbation(c, base) for c in response.experiment.changes]
    return [dataclasses.replace(m, adapter=ResponseAdapter(m.adapter, response, changes)) for m in members]

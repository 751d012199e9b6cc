"""Transient runs of any adapter: batched stiff integration of ``_tendencies`` over time.

:func:`integrate` advances the pools of many rows (parameter sets) at once under a time-varying
forcing (``harness.forcing_schedule``), with ONE stiff integrator per block of rows:
``scipy.integrate.solve_ivp(method="BDF")`` on the flattened state of the block, i.e. every row's
pools [g C m-2] followed by two quadrature states, the cumulative input (integral of
``c_input``) and the cumulative losses (integral of the sum of ``adapter.loss_fluxes``)
[g C m-2]. The right-hand side of the block is one vectorised call of the adapter's
``_tendencies``; its Jacobian is block diagonal (rows do not interact), supplied as a
``scipy.sparse`` matrix built from one stacked ``_tendencies`` call of central differences in
every pool (``harness.sensitivity``'s steps and differences; a pool whose lower step would be
negative gets a one-sided difference). A single row gets a dense Jacobian (a 10 x 10 LU is
cheaper dense than sparse).

Tolerances and their caveat
---------------------------
scipy's error norm is the root mean square over ALL components of the block of
``error / (atol + rtol |y|)``. A step is accepted when that RMS is at most 1, so one row's error
may exceed the tolerance by up to ``sqrt(block rows x (n_pools + 2))`` (about 190 for 4096 rows
of 7 pools) when the other rows are more accurate; hence the tight default ``rtol = 1e-10``,
which keeps every row's local error below ~2e-8 relative even then. ``atol`` defaults, per
component, to ``rtol x max(1 g C m-2, scale)``, where the scale of a pool is its largest
``|pools0|`` over the valid rows of the batch and the scale of both quadratures the largest
total stock ``sum(pools0)`` [g C m-2]: a pool small or emptied during the run is held to an
absolute error of ``rtol`` times the size that pool has in the batch, not to a relative error of a
vanishing value, and the quadratures to the accuracy of the stock they are compared with. The
scale is taken at the start (the run is not known in advance); pass ``atol`` to set it yourself.
A pool that collapses far below its scale and regrows from there (microbes driven near extinction)
is followed only absolutely while it is tiny, and the time of its regrowth may then be far off;
such a trajectory is ill-conditioned whatever the tolerance (Millennial at beta = 1 from 0.9 x its
steady state: tests/test_transient.py).
Rows are integrated together only within a block, so a row's result depends (within the
tolerance) on the other rows of its block, never on other blocks.

Mass balance
------------
For a conserving model ``sum(dX/dt) = c_input - losses`` at any state, so
``stock + cumulative losses - cumulative input`` is a linear invariant of the flattened system,
which BDF preserves up to rounding (its steps are linear combinations of states and tendencies,
and its Newton corrections keep it too: in each column of the Jacobian the pool rows sum to minus
the loss row). :meth:`Trajectory.mass_balance_error` measures it.

Breakpoints and failures
------------------------
The forcing may jump or kink at ``breakpoints``: the run is split there and each piece
integrated by a fresh ``solve_ivp`` call from the state reached, so no step crosses a
breakpoint, and inside a piece ``[a, b]`` the forcing is evaluated at times clipped to the open
interval (the left value at a jump stays left of it). Outputs at a time ``t`` use
``forcing_at(t)`` (right-continuous: a step at ``t`` counts at ``t``).

A block whose integration fails (the solver gives up, a state is not finite, a pool falls below
``-rtol x scale``, or ``_tendencies`` raises one of ``NUMERIC_ERRORS``) is integrated again as two
halves, recursively down to single rows; a single row that still fails gets ``SOLVER_FAILED``,
``NON_FINITE`` or ``NEGATIVE_POOL`` and a message saying when and why; it keeps its values up to
the last output time before the failure and NaN after. Rows whose inputs are not valid (outside
the adapter's domain, non-finite or negative ``pools0``) get their status and NaN throughout,
without being integrated, and change nothing for the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp
from scipy.sparse import csc_matrix

from .adapter import NUMERIC_ERRORS, BaseAdapter, Status, SteadyStateResult
from .errors import HarnessError, ParameterError
from .forcing_schedule import (
    Perturbation,
    Schedule,
    TableForcing,
    schedule,
    table_from_csv,
    table_from_netcdf,
)
from .sensitivity import _differences, _non_negative, _steps
from .vocabulary import POOL_PREFIX

__all__ = [
    "Perturbation",
    "Schedule",
    "TableForcing",
    "Trajectory",
    "integrate",
    "run_perturbation",
    "schedule",
    "table_from_csv",
    "table_from_netcdf",
]

#: most rows of one stacked ``_tendencies`` call when the outputs are evaluated
_STACKED_ROWS = 65536
#: floor of the scale of a component in the default ``atol`` [g C m-2]
_SCALE_FLOOR = 1.0
#: exceptions of a block's integration that fail its rows, not the call: the model's numeric
#: errors and SuperLU's "singular matrix" (a RuntimeError)
_FAILURES: tuple[type[Exception], ...] = (*NUMERIC_ERRORS, RuntimeError)


@dataclass(frozen=True)
class Trajectory:
    """Pools, outputs and carbon budgets of a batch of rows over time.

    Attributes
    ----------
    times : ndarray, shape (m,)
        Output times [yr].
    pools : ndarray, shape (n, m, n_pools)
        Pools [g C m-2] in ``pool_names`` order.
    outputs : ndarray, shape (n, m, n_outputs)
        Harmonised outputs [units of each output] in ``output_names`` order.
    output_names, pool_names : tuple of str
    cumulative_input, cumulative_losses : ndarray, shape (n, m)
        Integrals of ``c_input`` and of the loss fluxes since ``times[0]`` [g C m-2].
    status : ndarray, shape (n,)
        int8 codes of ``harness.adapter.Status``.
    message : ndarray, shape (n,)
        Why a row failed ("" for OK rows), object.

    A failed row holds NaN from its failure on (throughout if its inputs were not valid).
    """

    times: np.ndarray
    pools: np.ndarray
    outputs: np.ndarray
    output_names: tuple[str, ...]
    pool_names: tuple[str, ...]
    cumulative_input: np.ndarray
    cumulative_losses: np.ndarray
    status: np.ndarray
    message: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Mask of the rows integrated to the end (``status == Status.OK``), shape (n,)."""
        return self.status == Status.OK

    def get(self, name: str) -> np.ndarray:
        """A harmonised output by name, or a native pool as ``pool.NAME``, shape (n, m)."""
        if name.startswith(POOL_PREFIX):
            return self.pools[:, :, self.pool_names.index(name.removeprefix(POOL_PREFIX))]
        return self.outputs[:, :, self.output_names.index(name)]

    def stock(self) -> np.ndarray:
        """Total carbon of all pools, shape (n, m) [g C m-2]."""
        return self.pools.sum(axis=2)

    def mass_balance_error(self) -> np.ndarray:
        """``|cum_input - (stock(t) - stock(0)) - cum_losses| / max(cum_input, stock(0))``, shape (n, m) [1]."""
        stock = self.stock()
        gap = self.cumulative_input - (stock - stock[:, :1]) - self.cumulative_losses
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.abs(gap) / np.maximum(self.cumulative_input, stock[:, :1])


def integrate(adapter: BaseAdapter, theta: np.ndarray, forcing_at: Callable[[float], np.ndarray],
              pools0: np.ndarray, times: Sequence[float] | np.ndarray, *, breakpoints: Sequence[float] = (),
              rtol: float = 1e-10, atol: float | Sequence[float] | np.ndarray | None = None,
              max_block: int = 4096) -> Trajectory:
    """Pools of every row over time, from ``pools0`` at ``times[0]`` under ``forcing_at``.

    Parameters
    ----------
    adapter : BaseAdapter
        The model.
    theta : ndarray, shape (n, n_params)
        Parameters [units of each parameter].
    forcing_at : callable
        ``forcing_at(t)`` -> (n, n_drivers), the drivers at time ``t`` [shared units]; piecewise
        smooth between ``breakpoints``. A :class:`~harness.forcing_schedule.Schedule` (from
        :func:`~harness.forcing_schedule.schedule`) is evaluated for each block's rows only, and
        its ``base`` is the forcing whose domain is checked (a change may take a driver outside
        its declared interval, e.g. ``c_input`` to 0); any other callable is evaluated for all
        rows, and its value at ``times[0]`` is checked.
    pools0 : ndarray, shape (n, n_pools)
        Pools at ``times[0]`` [g C m-2].
    times : array_like, shape (m,)
        Strictly increasing output times [yr]; ``times[0]`` (usually 0) is the start.
    breakpoints : sequence of float
        Times where the forcing jumps or kinks [yr]; the integration stops and restarts there.
    rtol : float
        Relative tolerance of BDF [1] (see the module's docstring for the caveat of blocks).
    atol : float, array_like of shape (n_pools + 2,), or None
        Absolute tolerance of each component (pools, then cumulative input and losses) [g C m-2];
        None: ``rtol x max(1, scale)`` (module docstring).
    max_block : int
        Most rows integrated together.

    Returns
    -------
    Trajectory
        Every row's pools, outputs and cumulative input and losses at ``times``, with status and
        message.
    """
    times = _checked_times(times)
    rtol, max_block = float(rtol), int(max_block)
    if not (np.isfinite(rtol) and rtol > 0) or max_block < 1:
        raise ParameterError(f"rtol must be a positive number and max_block >= 1; got rtol={rtol!r}, "
                             f"max_block={max_block!r}")
    start = forcing_at(float(times[0]))
    theta, start = adapter._checked_inputs(theta, start)
    n, n_pools = theta.shape[0], len(adapter.pools)
    pools0 = np.asarray(pools0, dtype=float)
    if pools0.shape != (n, n_pools):
        raise ParameterError(f"{adapter.name}: pools0 must have shape {(n, n_pools)} with columns "
                             f"{list(adapter.pool_names)}; got {pools0.shape}")
    status, message = _checked_rows(adapter, theta, forcing_at, start, pools0)
    valid = np.flatnonzero(status == Status.OK)
    scale = _scale(pools0[valid])
    run = _Run(adapter, theta, forcing_at, times, _segments(times, breakpoints), rtol,
               _atol(atol, rtol, scale), rtol * scale[:n_pools], status, message)
    states = np.full((n, times.size, n_pools + 2), np.nan)
    if valid.size:
        states[valid, 0, :n_pools] = pools0[valid]
        states[valid, 0, n_pools:] = 0.0
    run.states = states
    with _one_blas_thread():
        for first in range(0, valid.size, max_block):
            run.solve(valid[first:first + max_block])
    pools = states[:, :, :n_pools]
    outputs = _outputs(adapter, theta, forcing_at, pools, times, valid)
    return Trajectory(times, pools, outputs, tuple(adapter.outputs), adapter.pool_names,
                      states[:, :, n_pools], states[:, :, n_pools + 1], status, message)


def run_perturbation(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray,
                     perturbations: Sequence[Perturbation | TableForcing], times: Sequence[float] | np.ndarray,
                     **kw: Any) -> tuple[SteadyStateResult, Trajectory]:
    """The steady state of ``(theta, forcing)`` and the run from it under the perturbed forcing.

    Parameters
    ----------
    adapter : BaseAdapter
        The model.
    theta : ndarray, shape (n, n_params)
        Parameters [units of each parameter].
    forcing : ndarray, shape (n, n_drivers)
        The forcing of the steady state, the base of the schedule [shared units].
    perturbations : sequence of Perturbation or TableForcing
        Changes of the forcing (:func:`~harness.forcing_schedule.schedule`).
    times : array_like, shape (m,)
        Output times [yr], from the steady state at ``times[0]``.
    **kw
        Passed to :func:`integrate` (``rtol``, ``atol``, ``max_block``).

    Returns
    -------
    SteadyStateResult
        ``adapter.steady_state(theta, forcing)``.
    Trajectory
        The run; a row not OK at the steady state keeps its status and message there, with NaN.
    """
    result = adapter.steady_state(theta, forcing)
    forcing_at, breakpoints = schedule(adapter, forcing, perturbations)
    trajectory = integrate(adapter, theta, forcing_at, result.pools, times, breakpoints=breakpoints, **kw)
    failed = ~result.ok
    status, message = trajectory.status.copy(), trajectory.message.copy()
    status[failed] = result.status[failed]
    message[failed] = [f"steady state: {text}" for text in result.message[failed]]
    return result, Trajectory(trajectory.times, trajectory.pools, trajectory.outputs, trajectory.output_names,
                              trajectory.pool_names, trajectory.cumulative_input, trajectory.cumulative_losses,
                              status, message)


# -- inputs ----------------------------------------------------------------------------------
def _checked_times(times: Sequence[float] | np.ndarray) -> np.ndarray:
    """``times`` as a read-only float array: 1-D, finite, strictly increasing."""
    out = np.array(times, dtype=float)
    if out.ndim != 1 or not out.size or not np.isfinite(out).all() or not (np.diff(out) > 0).all():
        raise ParameterError(f"times must be a 1-D array of finite, strictly increasing times [yr]; got {times!r}")
    out.setflags(write=False)
    return out


def _checked_rows(adapter: BaseAdapter, theta: np.ndarray, forcing_at: Any, start: np.ndarray,
                  pools0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Status and message of every row's inputs: the adapter's domain, then finite, non-negative ``pools0``."""
    base = forcing_at.base if isinstance(forcing_at, Schedule) else start
    status, message = adapter.check_domain(theta, base)
    status, message = status.copy(), message.copy()
    ok = status == Status.OK
    for i in np.flatnonzero(ok & ~np.isfinite(pools0).all(axis=1)):
        bad = [f"{name}={v!r}" for name, v in zip(adapter.pool_names, pools0[i]) if not np.isfinite(v)]
        status[i], message[i] = Status.NON_FINITE, f"non-finite pools0: {', '.join(bad)}"
    with np.errstate(invalid="ignore"):
        negative = (status == Status.OK) & (pools0 < 0).any(axis=1)
    for i in np.flatnonzero(negative):
        bad = [f"{name}={v:.6g}" for name, v in zip(adapter.pool_names, pools0[i]) if v < 0]
        status[i], message[i] = Status.NEGATIVE_POOL, f"negative pools0: {', '.join(bad)} g C m-2"
    return status, message


def _scale(pools0: np.ndarray) -> np.ndarray:
    """Scale of each component (pools, then both quadratures) over the valid rows [g C m-2], at least 1."""
    if not pools0.shape[0]:
        return np.full(pools0.shape[1] + 2, _SCALE_FLOOR)
    stock = pools0.sum(axis=1).max()
    return np.maximum(np.concatenate([np.abs(pools0).max(axis=0), [stock, stock]]), _SCALE_FLOOR)


def _atol(atol: Any, rtol: float, scale: np.ndarray) -> np.ndarray:
    """Absolute tolerance of each component of a row, shape (n_pools + 2,) [g C m-2]."""
    if atol is None:
        return rtol * scale
    out = np.broadcast_to(np.asarray(atol, dtype=float), scale.shape).copy() if np.ndim(atol) == 0 else \
        np.asarray(atol, dtype=float)
    if out.shape != scale.shape or not (np.isfinite(out) & (out >= 0)).all():
        raise ParameterError(f"atol must be a non-negative number or one per component (n_pools + 2 = "
                             f"{scale.size}: pools, cumulative input, cumulative losses) [g C m-2]; got {atol!r}")
    return out


def _segments(times: np.ndarray, breakpoints: Sequence[float]) -> list[tuple[float, float]]:
    """The pieces ``(a, b)`` of the run between its start, the breakpoints inside it and its end [yr]."""
    inner = {float(t) for t in breakpoints if times[0] < t < times[-1]}
    points = sorted(inner | {float(times[0]), float(times[-1])})
    return list(zip(points[:-1], points[1:]))


# -- the integration of blocks ------------------------------------------------------------------
@dataclass(frozen=True)
class _Failure:
    """Why and when a row (or a block) failed."""

    status: Status
    time: float  # [yr]
    text: str


class _Stop(Exception):
    """Raised by a block's step observer to abandon it at its first bad state."""

    def __init__(self, failure: _Failure):
        super().__init__(failure.text)
        self.failure = failure


class _Run:
    """One call of ``integrate``: its inputs, and the states and statuses it fills block by block."""

    def __init__(self, adapter, theta, forcing_at, times, segments, rtol, atol, floor, status, message):
        self.adapter, self.theta, self.forcing_at, self.times = adapter, theta, forcing_at, times
        self.segments, self.rtol, self.atol, self.floor = segments, rtol, atol, floor
        self.status, self.message = status, message
        self.states = np.empty(0)

    def solve(self, rows: np.ndarray) -> None:
        """Integrate ``rows`` together; on a failure, each half again, down to single rows."""
        forcing = self.forcing_at.take(rows) if isinstance(self.forcing_at, Schedule) else \
            partial(_rows_of, self.forcing_at, rows)
        system = _System(self.adapter, _frozen(self.theta[rows]), forcing, self.floor)
        reached, failure = self._integrate(system, self.states[rows, 0])
        if failure is None or rows.size == 1:
            self.states[rows, 1:reached] = system.kept[:, : reached - 1]
            if failure is not None:
                self.status[rows[0]], self.message[rows[0]] = failure.status, failure.text
            return
        half = rows.size // 2
        self.solve(rows[:half])
        self.solve(rows[half:])

    def _integrate(self, system: _System, y0: np.ndarray) -> tuple[int, _Failure | None]:
        """States of ``system`` at the output times after the first (into ``system.kept``).

        Returns how many output times (the first included) hold states, and the failure if any.
        """
        times, m, width = self.times, system.m, system.width
        kept = np.full((m, times.size - 1, width), np.nan)
        system.kept = kept
        y = np.ascontiguousarray(y0).ravel()
        atol = np.tile(self.atol, m)
        reached = 1
        for a, b in self.segments:
            inside = np.flatnonzero((times > a) & (times <= b))
            t_eval = np.union1d(times[inside], [b])
            system.window = (float(np.nextafter(a, b)), float(np.nextafter(b, a)))
            system.t_last, system.failure = a, None
            system.nonfinite_at = None
            try:
                sol = solve_ivp(system.fun, (a, b), y, method="BDF", t_eval=t_eval, rtol=self.rtol, atol=atol,
                                jac=system.jac, events=system.observe)
            except _Stop as stop:
                return reached, stop.failure
            except HarnessError:
                raise
            except _FAILURES as exc:
                return reached, _Failure(Status.SOLVER_FAILED, system.t_last,
                                   f"at t = {system.t_last:.9g} yr the tendencies or the solver raised "
                                   f"{type(exc).__name__}: {exc}")
            got = sol.y.reshape(m, width, -1).transpose(0, 2, 1)  # (m, reached times, width)
            where = np.searchsorted(t_eval, times[inside])
            done = where[where < got.shape[1]]
            kept[:, inside[:done.size] - 1] = got[:, done]
            failure = system.failure or (None if sol.status >= 0 else system.solver_failure(sol.message))
            if failure is not None:  # a single row (a block raises): keep what precedes the failure
                good = times[inside[:done.size]] <= system.t_last
                kept[:, inside[:done.size][~good] - 1] = np.nan
                return int(np.searchsorted(times, system.t_last, side="right")), failure
            y = got[:, -1].ravel()
            reached = int(inside[-1]) + 1 if inside.size else reached
        return times.size, None


def _rows_of(forcing_at: Callable[[float], np.ndarray], rows: np.ndarray, t: float) -> np.ndarray:
    """``forcing_at(t)`` of some rows only (a callable that gives every row's)."""
    return np.asarray(forcing_at(t), dtype=float)[rows]


class _System:
    """The flattened ODE system of a block of rows: right-hand side, Jacobian and step observer.

    The state of row ``i`` is ``y[i*width : (i+1)*width]``: its pools, cumulative input and
    cumulative losses (``width = n_pools + 2``).
    """

    def __init__(self, adapter: BaseAdapter, theta: np.ndarray, forcing: Callable[[float], np.ndarray],
                 floor: np.ndarray):
        self.adapter, self.theta, self.forcing_rows, self.floor = adapter, theta, forcing, floor
        self.m, self.n_pools = theta.shape[0], len(adapter.pools)
        self.width = self.n_pools + 2
        self.c_input = adapter.driver_names.index("c_input")
        self.window = (-np.inf, np.inf)
        self.kept = np.empty(0)
        self.t_last = 0.0  # the last accepted time with a valid state [yr]
        self.failure: _Failure | None = None
        #: the first time ``fun`` gave a non-finite value, and that value (at a trial state, maybe)
        self.nonfinite_at: tuple[float, np.ndarray] | None = None
        self._stacked_theta: np.ndarray | None = None
        self._pattern = _block_pattern(self.m, self.n_pools) if self.m > 1 else None

    def forcing(self, t: float) -> np.ndarray:
        """The block's forcing at ``t`` clipped inside the current piece (the side of a jump it integrates)."""
        lo, hi = self.window
        return self.forcing_rows(min(max(t, lo), hi))

    def rates(self, theta: np.ndarray, forcing: np.ndarray, pools: np.ndarray) -> np.ndarray:
        """Tendencies of the pools and the total loss, side by side, shape (rows, n_pools + 1) [g C m-2 yr-1]."""
        pools = np.array(pools, dtype=float)
        pools.setflags(write=False)
        adapter = self.adapter
        with np.errstate(all="ignore"):
            dpools, fluxes = adapter._tendencies(theta, forcing, pools)
            fluxes = adapter._checked_fluxes(fluxes, theta.shape[0])
            losses = [fluxes[name] for name in adapter.loss_fluxes]
            out = np.empty((theta.shape[0], self.n_pools + 1))
            out[:, : self.n_pools] = dpools
            out[:, self.n_pools] = losses[0] if len(losses) == 1 else np.add.reduce(losses)
        return out

    def fun(self, t: float, y: np.ndarray) -> np.ndarray:
        """``dy/dt`` of the flattened state: one ``_tendencies`` call for every row of the block."""
        state = y.reshape(self.m, self.width)
        forcing = self.forcing(t)
        rates = self.rates(self.theta, forcing, state[:, : self.n_pools])
        out = np.empty((self.m, self.width))
        out[:, : self.n_pools] = rates[:, : self.n_pools]
        out[:, self.n_pools] = forcing[:, self.c_input]
        out[:, self.n_pools + 1] = rates[:, self.n_pools]
        if self.nonfinite_at is None and not np.isfinite(out).all():
            self.nonfinite_at = (t, out.copy())
        return out.ravel()

    def jac(self, t: float, y: np.ndarray) -> Any:
        """Block-diagonal Jacobian ``d(dy/dt)/dy``: central differences in every pool, one stacked call."""
        x = np.ascontiguousarray(y.reshape(self.m, self.width)[:, : self.n_pools])
        forcing = self.forcing(t)
        copies = 1 + 2 * self.n_pools
        if self._stacked_theta is None:
            self._stacked_theta = np.concatenate([self.theta] * copies)
        steps = [_steps(x[:, j]) for j in range(self.n_pools)]
        pools = np.concatenate([x] * copies)
        m = self.m
        for j, (_, plus, minus, _, _) in enumerate(steps):
            pools[(1 + 2 * j) * m:(2 + 2 * j) * m, j] = plus
            pools[(2 + 2 * j) * m:(3 + 2 * j) * m, j] = minus
        values = self.rates(self._stacked_theta, np.concatenate([forcing] * copies), pools).reshape(copies, m, -1)

        def at(j: int, column: np.ndarray) -> np.ndarray:
            moved = x.copy()
            moved[:, j] = column
            return self.rates(self.theta, forcing, moved)

        columns = _differences([partial(at, j) for j in range(self.n_pools)], steps, values[0], values[1::2],
                               values[2::2], [_non_negative] * self.n_pools)
        blocks = np.moveaxis(columns, 0, -1)  # (m, n_pools + 1, n_pools): pools and the loss, by pool
        blocks[~np.isfinite(blocks)] = 0.0  # an approximate Jacobian only slows Newton's iteration
        if self._pattern is None:
            dense = np.zeros((self.width, self.width))
            dense[: self.n_pools, : self.n_pools] = blocks[0, : self.n_pools]
            dense[self.n_pools + 1, : self.n_pools] = blocks[0, self.n_pools]
            return dense
        indices, indptr = self._pattern
        size = m * self.width
        return csc_matrix((blocks.transpose(0, 2, 1).ravel(), indices, indptr), shape=(size, size))

    def observe(self, t: float, y: np.ndarray) -> float:
        """Step observer (an event that never fires): flag a non-finite state or a negative pool.

        A block is abandoned at once (``_Stop``); a single row is recorded and run on, so that
        the output times before its failure keep their states.
        """
        state = y.reshape(self.m, self.width)
        pools = state[:, : self.n_pools]
        finite = bool(np.isfinite(state).all())
        if finite and (pools >= -self.floor).all():
            if self.failure is None:
                self.t_last = t
            return 1.0
        if self.failure is None:
            self.failure = self._bad_state(t, state, finite)
            if self.m > 1:
                raise _Stop(self.failure)
        return 1.0

    def _bad_state(self, t: float, state: np.ndarray, finite: bool) -> _Failure:
        """The failure of an accepted state that is not finite or has a negative pool."""
        names = self.adapter.pool_names + ("cumulative input", "cumulative losses")
        row = state[0]
        if not finite:
            bad = [name for name, v in zip(names, row) if not np.isfinite(v)]
            return _Failure(Status.NON_FINITE, t, f"non-finite {', '.join(bad)} at t = {t:.9g} yr (the step "
                                                  f"from t = {self.t_last:.9g} yr)")
        bad = [f"{name} = {v:.6g}" for name, v, f in zip(names, row, self.floor) if v < -f]
        return _Failure(Status.NEGATIVE_POOL, t, f"negative pool {', '.join(bad)} g C m-2 at t = {t:.9g} yr "
                                                 f"(below -rtol x scale)")

    def solver_failure(self, reason: str) -> _Failure:
        """The failure of a row the solver gave up on after its last accepted state.

        ``NON_FINITE`` when a tendency came out non-finite since that state (the step was then cut
        until it was too small), else ``SOLVER_FAILED``.
        """
        t = self.t_last
        if self.nonfinite_at is not None and self.nonfinite_at[0] >= t:
            when, rates = self.nonfinite_at
            names = self.adapter.pool_names + ("c_input", "loss fluxes")
            bad = [name for name, v in zip(names, rates[0]) if not np.isfinite(v)]
            return _Failure(Status.NON_FINITE, t, f"non-finite dX/dt of {', '.join(bad)} at t = {when:.9g} yr: "
                                                  f"BDF could not step past t = {t:.9g} yr ({reason})")
        return _Failure(Status.SOLVER_FAILED, t, f"BDF could not step past t = {t:.9g} yr: {reason}")


def _block_pattern(m: int, n_pools: int) -> tuple[np.ndarray, np.ndarray]:
    """CSC ``indices`` and ``indptr`` of ``m`` diagonal blocks: each pool column has the pools' rows and the loss row.

    The quadratures feed back into nothing: their columns are empty, and the cumulative input's
    row too (``c_input`` does not depend on the state).
    """
    width = n_pools + 2
    local = np.r_[np.arange(n_pools), n_pools + 1]
    indices = (np.arange(m) * width)[:, None, None] + np.broadcast_to(local, (n_pools, n_pools + 1))[None]
    counts = np.tile(np.r_[np.full(n_pools, n_pools + 1), 0, 0], m)
    return indices.ravel().astype(np.int32), np.r_[0, np.cumsum(counts)].astype(np.int32)


# -- outputs ---------------------------------------------------------------------------------------
def _outputs(adapter: BaseAdapter, theta: np.ndarray, forcing_at: Callable[[float], np.ndarray], pools: np.ndarray,
             times: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Harmonised outputs of ``rows`` at every time, shape (n, m, n_outputs); NaN elsewhere.

    Stacked calls of ``_tendencies`` (at most ``_STACKED_ROWS`` rows each) at ``forcing_at(t)``.
    """
    n, m = pools.shape[:2]
    out = np.full((n, m, len(adapter.outputs)), np.nan)
    if not rows.size or not adapter.outputs:
        return out
    sub = forcing_at.take(rows) if isinstance(forcing_at, Schedule) else partial(_rows_of, forcing_at, rows)
    per_call = max(1, _STACKED_ROWS // rows.size)
    for start in range(0, m, per_call):
        chunk = range(start, min(start + per_call, m))
        k = len(chunk)
        x = pools[rows][:, chunk].transpose(1, 0, 2).reshape(k * rows.size, -1)
        th = np.concatenate([theta[rows]] * k)
        fo = np.concatenate([sub(float(times[j])) for j in chunk])
        with np.errstate(all="ignore"):
            x = np.ascontiguousarray(x)
            x.setflags(write=False)
            _, fluxes = adapter._tendencies(th, fo, x)
            fluxes = adapter._checked_fluxes(fluxes, th.shape[0])
            named = adapter._harmonised_outputs(x, fluxes)
        values = np.stack([named[name] for name in adapter.outputs], axis=-1).reshape(k, rows.size, -1)
        out[rows, start:start + k] = values.transpose(1, 0, 2)
    return out


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """BLAS limited to one thread while blocks are integrated (when ``threadpoolctl`` is installed).

    BDF's error norms are BLAS dot products of the block's state (~4e4 values): memory-bound, and
    on a busy machine OpenBLAS's threads wait for each other (a 2-thread dot measured 1,700x
    slower than a 1-thread one on this project's 2-core machine under load).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array

"""Steady-state sensitivities by the implicit function theorem, for every adapter.

At a steady state ``x*`` of ``dx/dt = f(x; theta, forcing) = 0`` the pools move with an input ``p``
(a column of ``theta`` or of ``forcing``) as ``dx*/dp = -(df/dx)^-1 df/dp``, and every harmonised
output ``y = g(x, p)`` as ``dy/dp = dg/dp + dg/dx dx*/dp``. The Jacobians ``df/dx``, ``df/dp``,
``dg/dx`` and ``dg/dp`` are central finite differences of the adapter's own ``_tendencies`` (and
``_harmonised_outputs`` of its fluxes) at the solved pools, so whatever the adapter makes of its
inputs there (e.g. the turnover rescaling of ``beta_rescale``, solved from ``theta``) is
differentiated too. No steady state is solved again.

Scheme and accuracy
-------------------
Each column (a pool, a parameter or a driver) is perturbed for all rows of the batch at once, by
``h = eps^(1/3) max(|v|, 1e-3 max_rows |v|)`` (``eps`` the double-precision epsilon, so
``eps^(1/3) ~ 6.1e-6``; the floor keeps a zero entry from getting a zero step, and an all-zero
column gets ``h = eps^(1/3)`` in its own units), rounded so that ``v + h`` and ``v - h`` are exact
floats. This balances the O(h^2) truncation error against the O(eps/h) rounding error of a
central difference: each Jacobian entry is good to about ``eps^(2/3) ~ 4e-11`` relative to the
scale of the function (more where the function is badly scaled or the solve of the adapter's
internals, such as a rescaling reference state, is looser). Where one side of a column leaves
the declared interval of a parameter or driver, or gives a non-finite tendency, that row uses the
second-order one-sided difference ``(-3 f(v) + 4 f(v +- h) - f(v +- 2h)) / (+-2h)`` on the other
side (error O(h^2) too, a few times larger); where neither side is usable the row's derivatives
are NaN. The ``(n, n_pools, n_pools)`` systems are solved with one batched ``np.linalg.solve``;
a row whose ``df/dx`` is singular or not finite gets NaN.

Naming of inputs
----------------
``wrt`` names drivers by their name (``c_input``, ``temperature``) and parameters with the prefix
``param.`` (``param.tau_r_1``), the convention of scenarios (``vocabulary.PARAM_PREFIX``); a
driver and a parameter may thus share a name without ambiguity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from .adapter import BaseAdapter, Driver, Parameter, SteadyStateResult
from .errors import DriverError, ParameterError, unknown_message
from .vocabulary import PARAM_PREFIX, POOL_PREFIX

__all__ = ["Sensitivities", "steady_state_sensitivities", "solve_rows", "STEP_FACTOR"]

#: relative step of the central differences: eps^(1/3), optimal for a central difference in doubles
STEP_FACTOR = float(np.finfo(float).eps ** (1.0 / 3.0))
#: floor of |v| in the step, relative to the column's largest |v| over the batch
_FLOOR = 1e-3
#: most rows of one stacked call of the model (the base rows and their perturbed copies)
_STACKED_ROWS = 65536


@dataclass(frozen=True)
class Sensitivities:
    """Steady-state derivatives of a batch with respect to some inputs.

    Attributes
    ----------
    result : SteadyStateResult
        The steady states themselves (status and message of every row).
    wrt : tuple of str
        The inputs, in the order of the last axis: driver names and ``param.NAME``.
    values : ndarray, shape (n, n_wrt)
        The inputs' values of each row [units of each input].
    outputs : ndarray, shape (n, n_outputs, n_wrt)
        ``d output / d input`` [output units per input unit], in ``result.output_names`` order;
        NaN for rows not OK (or whose derivatives could not be formed).
    pools : ndarray, shape (n, n_pools, n_wrt)
        ``d pool / d input`` [g C m-2 per input unit], in ``result.pool_names`` order; NaN likewise.
    """

    result: SteadyStateResult
    wrt: tuple[str, ...]
    values: np.ndarray
    outputs: np.ndarray
    pools: np.ndarray

    def derivative(self, name: str, wrt: str) -> np.ndarray:
        """``d name / d wrt`` of every row, shape (n,): an output by name, a pool as ``pool.NAME``."""
        k = self.wrt.index(wrt)
        if name.startswith(POOL_PREFIX):
            return self.pools[:, self.result.pool_names.index(name.removeprefix(POOL_PREFIX)), k]
        return self.outputs[:, self.result.output_names.index(name), k]

    def elasticity(self, name: str, wrt: str) -> np.ndarray:
        """``d ln name / d ln wrt = (d name / d wrt) wrt / name`` of every row, shape (n,) [1]."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.derivative(name, wrt) * self.values[:, self.wrt.index(wrt)] / self.result.get(name)


def steady_state_sensitivities(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray,
                               wrt: Sequence[str]) -> Sensitivities:
    """Derivatives of the steady-state outputs and pools with respect to drivers and parameters.

    Parameters
    ----------
    adapter : BaseAdapter
        The model.
    theta : ndarray, shape (n, n_params)
        Parameters [units of each parameter].
    forcing : ndarray, shape (n, n_drivers)
        Drivers [shared units].
    wrt : sequence of str
        The inputs: driver names and parameters as ``param.NAME``.

    Returns
    -------
    Sensitivities
        ``outputs`` (n, n_outputs, n_wrt) [output units per input unit], ``pools``
        (n, n_pools, n_wrt) [g C m-2 per input unit] and the steady state; NaN for rows not OK.
        See the module's docstring for the scheme and its accuracy.
    """
    wrt = tuple(wrt)
    columns = [_column(adapter, name) for name in wrt]
    result = adapter.steady_state(theta, forcing)
    theta, forcing = adapter._checked_inputs(theta, forcing)
    n, n_pools, n_out, n_wrt = theta.shape[0], len(adapter.pools), len(adapter.outputs), len(wrt)
    values = np.column_stack([(theta if is_param else forcing)[:, j] for is_param, j, _ in columns]) \
        if wrt else np.empty((n, 0))
    d_out = np.full((n, n_out, n_wrt), np.nan)
    d_pools = np.full((n, n_pools, n_wrt), np.nan)
    rows = np.flatnonzero(result.ok)
    if rows.size and n_wrt:
        # every perturbed copy of a block of rows goes through one call of the model: for a small
        # batch the cost of a call (e.g. a rescaling solve inside _tendencies) outweighs its rows
        per_row = 1 + 2 * (n_pools + n_wrt)
        step = max(1, _STACKED_ROWS // per_row)
        for start in range(0, rows.size, step):
            block = rows[start:start + step]
            dx, dy = _block_sensitivities(adapter, theta[block], forcing[block], result.pools[block], columns)
            d_pools[block], d_out[block] = dx, dy
    return Sensitivities(result, wrt, values, d_out, d_pools)


def _block_sensitivities(adapter: BaseAdapter, th: np.ndarray, fo: np.ndarray, x: np.ndarray,
                         columns: list[tuple[bool, int, Parameter | Driver]]) -> tuple[np.ndarray, np.ndarray]:
    """``d pools / d wrt`` (m, n_pools, n_wrt) and ``d outputs / d wrt`` (m, n_outputs, n_wrt) of OK rows."""
    n_pools = x.shape[1]

    def evaluate(th_: np.ndarray, fo_: np.ndarray, x_: np.ndarray) -> np.ndarray:
        """Tendencies and outputs side by side, shape (m, n_pools + n_outputs)."""
        with np.errstate(all="ignore"):
            dpools, fluxes = adapter._tendencies(th_, fo_, x_)
            fluxes = adapter._checked_fluxes(fluxes, th_.shape[0])
            outs = adapter._harmonised_outputs(x_, fluxes)
        return np.column_stack([np.asarray(dpools, dtype=float)] + [outs[o] for o in adapter.outputs])

    def at(which: int, j: int, v: np.ndarray) -> np.ndarray:
        """``evaluate`` with column ``j`` of theta (0), forcing (1) or the pools (2) set to ``v``."""
        args = [th, fo, x]
        args[which] = _replaced(args[which], j, v)
        return evaluate(*args)

    # (which matrix, column, admissible values): pools may not go negative
    perturbed = [(2, j, _non_negative) for j in range(n_pools)] + \
        [(0 if is_param else 1, j, meta.contains) for is_param, j, meta in columns]
    matrices = (th, fo, x)
    steps = [_steps(matrices[which][:, j]) for which, j, _ in perturbed]
    # one call: the base rows, then for each perturbed column its rows at v + h and at v - h
    stacked = [np.concatenate([m] * (1 + 2 * len(perturbed))) for m in matrices]
    m = th.shape[0]
    for k, ((which, j, _), (_, plus, minus, _, _)) in enumerate(zip(perturbed, steps)):
        stacked[which][(1 + 2 * k) * m:(2 + 2 * k) * m, j] = plus
        stacked[which][(2 + 2 * k) * m:(3 + 2 * k) * m, j] = minus
    values = evaluate(*stacked).reshape(1 + 2 * len(perturbed), m, -1)
    jac = _differences([partial(at, which, j) for which, j, _ in perturbed], steps, values[0], values[1::2],
                       values[2::2], [admissible for _, _, admissible in perturbed])
    jac = np.moveaxis(jac, 0, -1)  # (m, n_pools + n_out, n_pools + n_wrt)
    jx, jp = jac[:, :, :n_pools], jac[:, :, n_pools:]
    dx = solve_rows(jx[:, :n_pools], -jp[:, :n_pools])  # (m, n_pools, n_wrt)
    return dx, jp[:, n_pools:] + jx[:, n_pools:] @ dx


def _column(adapter: BaseAdapter, name: str) -> tuple[bool, int, Parameter | Driver]:
    """(is a parameter, column index, metadata) of an input named as in ``wrt``."""
    if name.startswith(PARAM_PREFIX):
        bare = name.removeprefix(PARAM_PREFIX)
        if bare not in adapter.parameter_names:
            raise ParameterError(unknown_message(f"{adapter.name} parameter", bare, adapter.parameter_names))
        j = adapter.parameter_names.index(bare)
        return True, j, adapter.parameters[j]
    if name not in adapter.driver_names:
        hint = " (name parameters as param.NAME)" if name in adapter.parameter_names else ""
        raise DriverError(unknown_message(f"driver of {adapter.name}", name, adapter.driver_names) + hint)
    j = adapter.driver_names.index(name)
    return False, j, adapter.drivers[j]


def _non_negative(values: np.ndarray) -> np.ndarray:
    return np.asarray(values) >= 0.0


def _replaced(matrix: np.ndarray, j: int, column: np.ndarray) -> np.ndarray:
    """A copy of ``matrix`` with column ``j`` replaced by ``column``."""
    out = np.array(matrix, dtype=float)
    out[:, j] = column
    return out


def _steps(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(v, v + h, v - h, h+, h-) of a column: the step of the module's docstring, made exact in floats."""
    v = np.asarray(v, dtype=float)
    scale = np.abs(v).max(initial=0.0)
    h = STEP_FACTOR * np.maximum(np.abs(v), _FLOOR * scale if scale > 0 else 1.0)
    plus, minus = v + h, v - h
    return v, plus, minus, plus - v, v - minus


def _differences(fns: Sequence[Callable[[np.ndarray], np.ndarray]],
                 steps: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                 base: np.ndarray, f_plus: np.ndarray, f_minus: np.ndarray,
                 admissible: Sequence[Callable[[np.ndarray], np.ndarray]]) -> np.ndarray:
    """Derivatives by each of k perturbed columns, shape (k, m, q): central, else second-order one-sided, else NaN.

    ``steps[c]`` is ``_steps(v)`` of column ``c``; ``base`` (m, q) is the function at the base rows,
    ``f_plus`` and ``f_minus`` (k, m, q) at v + h and v - h of each column; ``fns[c](column)``
    evaluates every row with column ``c`` replaced (only for the one-sided fall-back, where one
    side is unusable); ``admissible[c]`` masks the values column ``c`` may take (e.g. the declared
    interval). Every column's central difference is formed in one array operation.
    """
    ok_plus = np.stack([ok(step[1]) for ok, step in zip(admissible, steps)]) & np.isfinite(f_plus).all(axis=2)
    ok_minus = np.stack([ok(step[2]) for ok, step in zip(admissible, steps)]) & np.isfinite(f_minus).all(axis=2)
    h_sum = np.stack([step[3] + step[4] for step in steps])
    with np.errstate(all="ignore"):
        out = (f_plus - f_minus) / h_sum[:, :, None]
    out[~(ok_plus & ok_minus)] = np.nan
    for c in np.flatnonzero((ok_plus != ok_minus).any(axis=1)).tolist():
        v, _, _, h_plus, h_minus = steps[c]
        for side, ok_side, f1, h in ((1.0, ok_plus[c] & ~ok_minus[c], f_plus[c], h_plus),
                                     (-1.0, ok_minus[c] & ~ok_plus[c], f_minus[c], h_minus)):
            if not ok_side.any():
                continue
            far = v + side * 2.0 * h
            f2 = fns[c](far)
            usable = ok_side & admissible[c](far) & np.isfinite(f2).all(axis=1)
            with np.errstate(all="ignore"):
                one_sided = side * (-3.0 * base + 4.0 * f1 - f2) / (2.0 * h)[:, None]
            out[c][usable] = one_sided[usable]
    return out


def solve_rows(a: np.ndarray, b: np.ndarray, good: np.ndarray | None = None) -> np.ndarray:
    """``a^-1 b`` of every row (a (m, k, k), b (m, k, w)), real or complex.

    NaN for rows outside ``good`` (default: the rows whose ``a`` is finite; a NaN column of ``b``
    spoils only that column of the solution) and for rows whose ``a`` is singular.
    """
    out = np.full(b.shape, np.nan, dtype=np.result_type(a, b))
    rows = np.flatnonzero(np.isfinite(a).all(axis=(1, 2)) if good is None else good)
    if not rows.size:
        return out
    try:
        out[rows] = np.linalg.solve(a[rows], b[rows])
    except np.linalg.LinAlgError:  # a singular row: the others one by one
        for i in rows:
            try:
                out[i] = np.linalg.solve(a[i], b[i])
            except np.linalg.LinAlgError:
                pass
    return out

"""The public contract suite: checks every model adapter must pass.

In the style of scikit-learn's ``estimator_checks``: each ``check_*`` function takes an adapter
instance, tests one rule of the adapter contract (``docs/adapters.md``, "The contract suite"), states
that rule in its docstring and raises ``AssertionError`` whose message states the rule, what was
found and how to fix it. Adapter authors run the suite themselves::

    from harness.testing import check_adapter
    check_adapter(MyAdapter())

or, in pytest, one test per adapter and check::

    @parametrize_with_adapter_checks([MyAdapter()], expected_failures=KNOWN_FAILURES)
    def test_contract(adapter, check):
        check(adapter)

Every check is deterministic. Sample batches have ``_N_ROWS`` rows built from the adapter's own
metadata: row 0 at the defaults (a driver without a default is centred in its valid range), the
other rows drawn with ``numpy.random.default_rng(_SEED)`` within ±10 % of each parameter's
default and ±20 % of each driver's, clipped into the declared bounds and kept inside the
adapter's cross-constraints, so that rows are physically sensible. Rows are compared bit for
bit (NaN matches NaN).
"""

from __future__ import annotations

import pickle
import textwrap
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .adapter import (
    REQUIRED_FLUXES,
    BaseAdapter,
    Driver,
    FailingCase,
    Interval,
    Parameter,
    ReferenceCase,
    Status,
    SteadyStateResult,
    metadata_problems,
)
from .errors import DriverError, ParameterError, unknown_message
from .vocabulary import PARAM_PREFIX, POOL_PREFIX

__all__ = [
    "ALL_CHECKS",
    "check_adapter",
    "check_bad_row_isolated",
    "check_batch_equals_loop",
    "check_deterministic",
    "check_mass_balance",
    "check_metadata_complete",
    "check_no_input_mutation",
    "check_out_of_domain_rejected",
    "check_pickle_roundtrip",
    "check_pool_fluxes",
    "check_positivity",
    "check_reference_values",
    "check_row_order_invariance",
    "check_steady_state_fixed_point",
    "check_steady_state_sensitivities",
    "parametrize_with_adapter_checks",
]

#: seed of every sample batch, so that the suite is deterministic
_SEED = 20240611
#: rows per sample batch: enough to mix rows, few enough that row-by-row solves stay cheap (<= 8)
_N_ROWS = 6
#: the row replaced by an out-of-domain or failing row; valid rows remain on both sides of it
_BAD_ROW = 2
#: half-width of parameter samples relative to the default: a spread, inside published ranges
_PARAMETER_SPREAD = 0.1
#: half-width of driver samples relative to the default: a spread of sites, still sensible
_DRIVER_SPREAD = 0.2
#: largest max|dX/dt| / c_input at a steady state [1]; BaseAdapter's default ``residual_rtol``
_FIXED_POINT_RTOL = 1e-8
#: largest carbon imbalance / c_input [1]: adding a handful of fluxes of order c_input in
#: float64 loses ~1e-15, so anything above 1e-9 is a missing or double-counted flux
_MASS_BALANCE_RTOL = 1e-9
#: factors on the steady pools where the balance is also checked away from the steady state
_POOL_FACTORS = (0.5, 1.5)
#: distance beyond a closed bound, relative to max(|bound|, 1): "just outside", and still
#: visible when the rejection message prints the value to 6 significant digits
_OUTSIDE_STEP = 1e-3
#: problems listed in one failure message before "... and N more"
_MAX_LISTED = 10
#: largest error of a pool-flux identity relative to the row's largest flow [1]: each side adds a
#: handful of flows, so rounding leaves a few eps (the built-in models: 6e-16 at worst)
_POOL_FLUX_RTOL = 1e-12
#: OK sample rows whose sensitivities are checked (row 0, at the defaults, first): 4 solves of
#: each per input, 12 row solves per input in all, as ``check_out_of_domain_rejected`` spends on
#: an input with two finite bounds
_SENSITIVITY_ROWS = 3
#: relative step h of the reference differences of the full steady state: the five-point stencil
#: at v (1 ± h), v (1 ± 2h) errs by O(h^4) (~1e-12 even for an Arrhenius energy, whose elasticity
#: is ~20) plus ~1.5 eps_solve / h (~1e-9 for solves good to 1e-13) relative
_SENSITIVITY_STEP = 1e-4
#: largest |IFT - full differences| / scale of a steady-state derivative [1] (issue 20)
_SENSITIVITY_RTOL = 1e-5
#: floor of that scale as an elasticity, relative to the input's strongest effect on any output
#: (see ``check_steady_state_sensitivities``)
_SENSITIVITY_FLOOR = 1e-2

Check = Callable[[BaseAdapter], None]


# -- sample inputs -------------------------------------------------------------------------------
def _centre(default: float | None, interval: Interval) -> float:
    """Where a column is sampled: its default, else the middle (or a finite side) of its range."""
    lo, hi = interval.lower, interval.upper
    if default is not None:
        return float(default)
    if np.isfinite(lo) and np.isfinite(hi):
        return 0.5 * (lo + hi)
    if np.isfinite(lo):
        return lo + max(abs(lo), 1.0)
    if np.isfinite(hi):
        return hi - max(abs(hi), 1.0)
    return 0.0


def _spread(rng: np.random.Generator, meta: Parameter | Driver, centre: float, spread: float) -> np.ndarray:
    """``_N_ROWS`` values: ``centre`` first, then ``centre`` ± ``spread`` (relative), in bounds."""
    interval = meta.interval
    values = np.clip(centre * (1.0 + spread * rng.uniform(-1.0, 1.0, _N_ROWS)), interval.lower, interval.upper)
    values[0] = centre
    return np.where(meta.contains(values), values, centre)  # a value clipped onto an open bound


def _sample_inputs(adapter: BaseAdapter) -> tuple[np.ndarray, np.ndarray]:
    """``theta`` (n, n_params) and ``forcing`` (n, n_drivers) around the declared defaults."""
    rng = np.random.default_rng(_SEED)
    theta = adapter.default_theta(_N_ROWS)
    for j, par in enumerate(adapter.parameters):
        theta[:, j] = _spread(rng, par, theta[0, j], _PARAMETER_SPREAD)
    unset = {d.name: _centre(d.default, d.interval) for d in adapter.drivers if d.default is None}
    forcing = adapter.make_forcing(_N_ROWS, **unset)
    for j, drv in enumerate(adapter.drivers):
        forcing[:, j] = _spread(rng, drv, forcing[0, j], _DRIVER_SPREAD)
    _respect_cross_constraints(adapter, theta, forcing)
    return theta, forcing


def _in_domain(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray) -> np.ndarray:
    return adapter.check_domain(theta, forcing)[0] == Status.OK


def _respect_cross_constraints(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray) -> None:
    """Keep sample rows inside the adapter's cross-constraints, in place.

    A column whose spread alone breaks a constraint (e.g. fractions that must sum to 1) stays
    at its centre (row 0); a row that still breaks one (two spreads combined) becomes row 0.
    """
    for which, inputs in enumerate((theta, forcing)):
        for j in range(inputs.shape[1]):
            trial = [np.repeat(theta[:1], _N_ROWS, axis=0), np.repeat(forcing[:1], _N_ROWS, axis=0)]
            trial[which][:, j] = inputs[:, j]
            if not _in_domain(adapter, *trial).all():
                inputs[:, j] = inputs[0, j]
    outside = ~_in_domain(adapter, theta, forcing)
    theta[outside], forcing[outside] = theta[0], forcing[0]


def _case_inputs(adapter: BaseAdapter, case: ReferenceCase | FailingCase) -> tuple[np.ndarray, np.ndarray]:
    """The single row (``theta``, ``forcing``) a declared case describes."""
    try:
        return adapter.default_theta(1, **case.parameters), adapter.make_forcing(1, **case.drivers)
    except (ParameterError, DriverError) as exc:
        raise _failure(
            adapter, f"case {case.name!r} must name declared inputs and every driver without a default",
            [str(exc)], "correct the case's parameters and drivers",
        ) from exc


# -- solving and comparing -----------------------------------------------------------------------
def _solve(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray) -> SteadyStateResult:
    """``adapter.steady_state`` on copies, so an adapter that mutates cannot corrupt the check."""
    return adapter.steady_state(theta.copy(), forcing.copy())


def _solve_alone(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray) -> SteadyStateResult:
    """Every row solved in a batch of its own, stacked back into one result."""
    return SteadyStateResult.concatenate([_solve(adapter, theta[[i]], forcing[[i]]) for i in range(theta.shape[0])])


def _take(result: SteadyStateResult, rows: Sequence[int] | np.ndarray) -> SteadyStateResult:
    rows = np.asarray(rows, dtype=int)
    return SteadyStateResult(
        result.pools[rows], result.outputs[rows], result.status[rows], result.message[rows],
        result.pool_names, result.output_names,
    )


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise bit identity of float arrays (NaN matches NaN; 0.0 does not match -0.0)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


def _status_text(result: SteadyStateResult, row: int) -> str:
    code = int(result.status[row])
    try:
        name = Status(code).name
    except ValueError:
        name = f"undeclared status {code}"
    return f"{name} ({result.message[row]})" if result.message[row] else name


def _mismatches(got: SteadyStateResult, want: SteadyStateResult, labels: Sequence[str]) -> list[str]:
    """Rows of ``got`` that differ from ``want`` in status, message or any bit of a value."""
    names = [POOL_PREFIX + n for n in got.pool_names] + list(got.output_names)
    ours, theirs = np.hstack([got.pools, got.outputs]), np.hstack([want.pools, want.outputs])
    same = _same(ours, theirs)
    problems = []
    for k, label in enumerate(labels):
        if got.status[k] != want.status[k] or got.message[k] != want.message[k]:
            problems.append(f"{label}: status {_status_text(got, k)} vs {_status_text(want, k)}")
        problems += [
            f"{label}: {names[c]} = {float(ours[k, c])!r} vs {float(theirs[k, c])!r}"
            for c in np.flatnonzero(~same[k])
        ]
    return problems


def _assert_identical(
    adapter: BaseAdapter, got: SteadyStateResult, want: SteadyStateResult, labels: Sequence[str],
    rule: str, fix: str,
) -> None:
    """Raise unless ``got`` and ``want`` (aligned row by row) are bit-identical."""
    problems = _mismatches(got, want, labels)
    if problems:
        raise _failure(adapter, rule, problems, fix)


def _rows(rows: Iterable[int]) -> list[str]:
    return [f"row {i}" for i in rows]


def _failure(
    adapter: BaseAdapter, rule: str, problems: Sequence[str], fix: str, limit: int | None = _MAX_LISTED
) -> AssertionError:
    """One failure message: the rule, what broke it (one line per problem), and the fix."""
    shown = list(problems if limit is None else problems[:limit])
    if len(shown) < len(problems):
        shown.append(f"... and {len(problems) - len(shown)} more")
    lines = [f"{_label(adapter)}: {rule}. Found:", *(f"  {p}" for p in shown), f"Fix: {fix}."]
    return AssertionError("\n".join(lines))


def _label(adapter: BaseAdapter) -> str:
    """``name`` plus the options that differ from their defaults, e.g. ``m[beta=2.0]``."""
    name = adapter.name or type(adapter).__name__
    changed = [f"{o.name}={adapter.get_options()[o.name]}" for o in adapter.options
               if adapter.get_options()[o.name] != o.default]
    return f"{name}[{','.join(changed)}]" if changed else name


def _rebuild(adapter: BaseAdapter, options: Mapping[str, Any]) -> BaseAdapter:
    """A fresh instance of the adapter's class built with ``options``."""
    try:
        return type(adapter)(**options)
    except Exception as exc:
        raise _failure(
            adapter, "an adapter must rebuild from its options", [f"{type(exc).__name__}: {exc}"],
            "accept every option get_options() returns as a keyword argument of __init__",
        ) from exc


def _instance_for(adapter: BaseAdapter, options: Mapping[str, Any]) -> BaseAdapter:
    """The instance a declared case runs on.

    ``adapter`` if built with the defaults updated by ``options``, else a fresh
    ``type(adapter)(**options)``.
    """
    model = _rebuild(adapter, options)
    return adapter if model.get_options() == adapter.get_options() else model


class _Solved(NamedTuple):
    """The OK rows of the sample batch: their inputs, pools and result."""

    rows: np.ndarray
    theta: np.ndarray
    forcing: np.ndarray
    pools: np.ndarray
    result: SteadyStateResult


def _solved_sample(adapter: BaseAdapter, flagged: AssertionError | None = None) -> _Solved:
    """Solve the sample batch; raise unless at least one row reaches an OK steady state.

    ``flagged``: the failure a check found already in rows ``BaseAdapter`` flagged (e.g.
    ``MASS_BALANCE``), raised instead when no row is OK.
    """
    theta, forcing = _sample_inputs(adapter)
    result = _solve(adapter, theta, forcing)
    rows = np.flatnonzero(result.ok)
    if rows.size == 0:
        if flagged is not None:
            raise flagged
        raise _failure(
            adapter, "sample rows around the declared defaults must reach a steady state",
            [f"row {i}: {_status_text(result, i)}" for i in range(_N_ROWS)],
            "make the defaults (parameters ±10 %, drivers ±20 %) a solvable point of the model",
        )
    return _Solved(rows, theta[rows], forcing[rows], result.pools[rows], _take(result, rows))


def _c_input(adapter: BaseAdapter, forcing: np.ndarray) -> np.ndarray:
    if "c_input" not in adapter.driver_names:
        raise _failure(
            adapter, "every adapter must represent the driver c_input", ["no driver 'c_input'"],
            "declare Driver('c_input', 'g C m-2 yr-1', ...)",
        )
    return forcing[:, adapter.driver_names.index("c_input")]


def _tendencies(
    adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray, pools: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``adapter.tendencies`` with the required and loss fluxes checked and broadcast to (n,)."""
    dpools, fluxes = adapter.tendencies(theta, forcing, pools)
    names = list(dict.fromkeys((*REQUIRED_FLUXES, *adapter.loss_fluxes)))
    missing = [name for name in names if name not in fluxes]
    if missing:
        raise _failure(
            adapter, f"tendencies must return the fluxes {', '.join(names)}",
            [f"missing {', '.join(missing)}"],
            "add each missing flux [g C m-2 yr-1] to the dict _tendencies returns (zeros if absent)",
        )
    n_sets = theta.shape[0]
    return np.asarray(dpools, dtype=float), {
        name: np.broadcast_to(np.asarray(fluxes[name], dtype=float), (n_sets,)) for name in names
    }


def _excess(
    values: np.ndarray, scale: np.ndarray, rows: np.ndarray, what: str, rtol: float
) -> list[str]:
    """One line per row where ``|values| > rtol * scale``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(values) / scale
    return [
        f"row {rows[k]}: {what} = {values[k]:.3g} g C m-2 yr-1 = {relative[k]:.3g} c_input"
        for k in np.flatnonzero(~(relative <= rtol))
    ]


# -- the checks ----------------------------------------------------------------------------------
def check_metadata_complete(adapter: BaseAdapter) -> None:
    """Declared metadata is complete and consistent.

    Names, description, reference and steady-state method are set; parameter, driver and pool
    names are unique snake_case; every parameter has units, description, reference and a default
    inside its bounds; drivers, pool kinds and outputs come from the shared vocabulary in its
    units (:func:`harness.adapter.metadata_problems`).
    """
    problems = metadata_problems(adapter)
    if problems:
        raise _failure(
            adapter, "declared metadata must be complete and use the shared vocabulary", problems,
            "declare each item named above on the adapter class", limit=None,
        )


def check_batch_equals_loop(adapter: BaseAdapter) -> None:
    """A batched call is bit-identical to solving each row on its own."""
    theta, forcing = _sample_inputs(adapter)
    batch, alone = _solve(adapter, theta, forcing), _solve_alone(adapter, theta, forcing)
    _assert_identical(
        adapter, batch, alone, _rows(range(_N_ROWS)),
        "each row of a batch must be bit-identical to the same row solved alone (batch vs alone)",
        "compute every row from its own inputs only: no batch statistics, shared convergence "
        "tests or warm starts across rows",
    )


def check_row_order_invariance(adapter: BaseAdapter) -> None:
    """Reversing the rows of a batch reverses the results, bit for bit."""
    theta, forcing = _sample_inputs(adapter)
    order = np.arange(_N_ROWS)[::-1]
    backwards = _solve(adapter, theta[order], forcing[order])
    _assert_identical(
        adapter, backwards, _take(_solve(adapter, theta, forcing), order),
        [f"row {k} (row {i} before reversal)" for k, i in enumerate(order)],
        "reordering the rows of a batch must reorder the results identically (reversed vs original)",
        "never let a row's result depend on its position or on the rows before it",
    )


def check_deterministic(adapter: BaseAdapter) -> None:
    """Repeated calls, and a fresh instance built from ``get_options()``, are bit-identical."""
    theta, forcing = _sample_inputs(adapter)
    first = _solve(adapter, theta, forcing)
    fix = "keep no state that changes between calls (counters, caches, unseeded random numbers)"
    _assert_identical(
        adapter, _solve(adapter, theta, forcing), first, _rows(range(_N_ROWS)),
        "the same inputs must give bit-identical results on a second call (second vs first)", fix,
    )
    fresh = _solve(_rebuild(adapter, adapter.get_options()), theta, forcing)
    _assert_identical(
        adapter, fresh, first, _rows(range(_N_ROWS)),
        "a fresh instance with the same options must give bit-identical results (fresh vs first)", fix,
    )


def _changed(
    method: str, names: Sequence[str], arrays: Sequence[np.ndarray], saved: Sequence[np.ndarray]
) -> list[str]:
    """One line per argument of ``method`` that differs from its saved copy."""
    return [
        f"{method} changed {np.count_nonzero(~_same(array, copy))} entries of its argument {name}"
        for name, array, copy in zip(names, arrays, saved, strict=True)
        if not _same(array, copy).all()
    ]


def check_no_input_mutation(adapter: BaseAdapter) -> None:
    """``steady_state`` and ``tendencies`` leave their input arrays unchanged."""
    theta, forcing = _sample_inputs(adapter)
    saved = (theta.copy(), forcing.copy())
    result = adapter.steady_state(theta, forcing)
    problems = _changed("steady_state", ("theta", "forcing"), (theta, forcing), saved)
    ok = result.ok
    if ok.any():
        inputs = (saved[0][ok], saved[1][ok], result.pools[ok].copy())
        kept = [array.copy() for array in inputs]
        adapter.tendencies(*inputs)
        problems += _changed("tendencies", ("theta", "forcing", "pools"), inputs, kept)
    if problems:
        raise _failure(
            adapter, "a call must not modify its input arrays", problems,
            "work on copies (np.array(x, copy=True)) instead of writing into the caller's arrays",
        )


def check_steady_state_fixed_point(adapter: BaseAdapter) -> None:
    """At every returned OK steady state the tendencies vanish: max|dX/dt| <= 1e-8 * c_input."""
    solved = _solved_sample(adapter)
    dpools, _ = _tendencies(adapter, solved.theta, solved.forcing, solved.pools)
    residual = np.abs(dpools).max(axis=1) / _c_input(adapter, solved.forcing)
    worst = np.abs(dpools).argmax(axis=1)
    problems = [
        f"row {row}: max|dX/dt|/c_input = {residual[k]:.3g} (pool {adapter.pool_names[worst[k]]})"
        for k, row in enumerate(solved.rows)
        if not residual[k] <= _FIXED_POINT_RTOL
    ]
    if problems:
        fix = "solve to that tolerance, with _steady_state and _tendencies using the same equations and units"
        if adapter.residual_rtol > _FIXED_POINT_RTOL:
            fix += (f"; residual_rtol = {adapter.residual_rtol:g} lets BaseAdapter accept these rows, "
                    f"lower it to {_FIXED_POINT_RTOL:g}")
        raise _failure(
            adapter, f"tendencies must vanish at a returned steady state (max|dX/dt| <= "
            f"{_FIXED_POINT_RTOL:g} c_input)", problems, fix,
        )


def check_mass_balance(adapter: BaseAdapter) -> None:
    """Carbon is conserved: sum(dX/dt) = c_input - losses, within 1e-9 c_input.

    The losses are the fluxes named in ``adapter.loss_fluxes`` (respiration and leaching, plus
    any further loss the adapter declares), as returned by ``tendencies``. Checked at the OK
    steady states and at pools scaled by factors in [0.5, 1.5]; at the steady state the losses
    sum to c_input. Sample rows that ``BaseAdapter`` itself rejects with ``MASS_BALANCE`` (losses
    off c_input by more than ``adapter.mass_balance_rtol``) are reported with its message.
    """
    theta, forcing = _sample_inputs(adapter)
    result = _solve(adapter, theta, forcing)
    problems = _flagged_rows(result, Status.MASS_BALANCE)
    solved = _solved_sample(adapter, _mass_balance_failure(adapter, problems) if problems else None)
    c_input = _c_input(adapter, solved.forcing)
    factors = np.random.default_rng(_SEED).uniform(*_POOL_FACTORS, solved.pools.shape)
    losses = " - ".join(adapter.loss_fluxes)
    for state, pools in (("steady state", solved.pools), ("perturbed pools", solved.pools * factors)):
        dpools, fluxes = _tendencies(adapter, solved.theta, solved.forcing, pools)
        outflow = np.add.reduce([fluxes[name] for name in adapter.loss_fluxes])
        error = dpools.sum(axis=1) - (c_input - outflow)
        what = f"sum(dX/dt) - (c_input - {losses}) at the {state}"
        problems += _excess(error, c_input, solved.rows, what, _MASS_BALANCE_RTOL)
        if state == "steady state":
            what = f"{' + '.join(adapter.loss_fluxes)} - c_input at the steady state"
            problems += _excess(outflow - c_input, c_input, solved.rows, what, _MASS_BALANCE_RTOL)
    if problems:
        raise _mass_balance_failure(adapter, problems)


def _mass_balance_failure(adapter: BaseAdapter, problems: Sequence[str]) -> AssertionError:
    return _failure(
        adapter, f"carbon must be conserved to {_MASS_BALANCE_RTOL:g} c_input", problems,
        f"report every carbon loss in the fluxes {', '.join(adapter.loss_fluxes)} (or declare it in "
        "loss_fluxes), each exactly once, and return a steady state where they sum to c_input",
    )


def _flagged_rows(result: SteadyStateResult, status: Status) -> list[str]:
    """``row i: <message>`` for each row of ``result`` with ``status``."""
    return [f"row {i}: {_status_text(result, int(i))}" for i in np.flatnonzero(result.status == status)]


def check_positivity(adapter: BaseAdapter) -> None:
    """OK rows have pools >= 0, respiration >= 0 and, if output, 0 < cue_bulk < 1.

    Sample rows that ``BaseAdapter`` itself rejects as ``IMPLAUSIBLE`` (an output outside
    ``adapter.plausible_outputs``, e.g. cue_bulk > 1) are reported with its message.
    """
    theta, forcing = _sample_inputs(adapter)
    problems = _flagged_rows(_solve(adapter, theta, forcing), Status.IMPLAUSIBLE)
    solved = _solved_sample(adapter, _positivity_failure(adapter, problems) if problems else None)
    _, fluxes = _tendencies(adapter, solved.theta, solved.forcing, solved.pools)
    values = {POOL_PREFIX + n: solved.pools[:, j] for j, n in enumerate(adapter.pool_names)}
    values["respiration"] = fluxes["respiration"]
    admissible = {name: column >= 0 for name, column in values.items()}
    if "cue_bulk" in adapter.outputs:
        values["cue_bulk"] = cue = solved.result.output("cue_bulk")
        admissible["cue_bulk"] = (cue > 0) & (cue < 1)
    problems += [
        f"row {solved.rows[k]}: {name} = {float(values[name][k])!r}"
        for name, ok in admissible.items()
        for k in np.flatnonzero(~ok)
    ]
    if problems:
        raise _positivity_failure(adapter, problems)


def _positivity_failure(adapter: BaseAdapter, problems: Sequence[str]) -> AssertionError:
    return _failure(
        adapter, "OK rows need pools >= 0, respiration >= 0 and 0 < cue_bulk < 1", problems,
        "reject the inputs that cause this (bounds or _domain_violations) or fix the equations",
    )


def _just_outside(interval: Interval) -> list[float]:
    """Values just beyond each finite bound: the bound itself if open, else a step past it."""
    return [
        float(bound) if is_open else float(bound) + sign * _OUTSIDE_STEP * max(abs(bound), 1.0)
        for bound, is_open, sign in zip((interval.lower, interval.upper), interval.open_bounds, (-1.0, 1.0),
                                        strict=True)
        if np.isfinite(bound)
    ]


def _rejection_problems(result: SteadyStateResult, name: str, value: float) -> list[str]:
    """Why row ``_BAD_ROW`` of ``result`` is not a proper rejection of ``name=value``."""
    label = f"{name}={value!r} in row {_BAD_ROW}"
    if result.status[_BAD_ROW] != Status.OUT_OF_DOMAIN:
        return [f"{label}: status {_status_text(result, _BAD_ROW)}, expected OUT_OF_DOMAIN"]
    text = str(result.message[_BAD_ROW])
    if name not in text or not any(v in text for v in (repr(value), f"{value:g}")):
        return [f"{label}: message {text!r} does not name the input and its value"]
    return []


def check_out_of_domain_rejected(adapter: BaseAdapter) -> None:
    """A row just outside a declared bound is rejected; the other rows are untouched.

    For each finite bound of each parameter and driver, one sample row gets a value just
    outside it. That row must get ``OUT_OF_DOMAIN`` and a message naming the input and the
    value; every other row must be bit-identical to solving it alone.
    """
    theta, forcing = _sample_inputs(adapter)
    alone = _solve_alone(adapter, theta, forcing)
    others = [i for i in range(_N_ROWS) if i != _BAD_ROW]
    columns: list[tuple[int, int, Parameter | Driver]] = [(0, j, p) for j, p in enumerate(adapter.parameters)]
    columns += [(1, j, d) for j, d in enumerate(adapter.drivers)]
    problems: list[str] = []
    for which, j, meta in columns:
        name = meta.name
        for value in _just_outside(meta.interval):
            inputs = [theta.copy(), forcing.copy()]
            inputs[which][_BAD_ROW, j] = value
            result = _solve(adapter, *inputs)
            problems += _rejection_problems(result, name, value)
            labels = [f"with {name}={value!r} in row {_BAD_ROW}, row {i}" for i in others]
            problems += _mismatches(_take(result, others), _take(alone, others), labels)
    if problems:
        raise _failure(
            adapter, "a row outside a declared bound must get OUT_OF_DOMAIN with a message naming "
            "the input and its value, other rows unchanged (in batch vs alone)", problems,
            "declare the true bounds and let BaseAdapter reject rows outside them; never clamp "
            "inputs or let one row's rejection change the others",
        )


def check_bad_row_isolated(adapter: BaseAdapter) -> None:
    """The declared ``failing_case`` fails on its own row only.

    The case (a row within the per-column bounds that the model cannot solve or that breaks a
    cross-constraint) replaces one sample row: that row must get a non-zero status and a
    message, and every other row must be bit-identical to solving it alone. Adapters without a
    ``failing_case`` pass trivially.
    """
    case = adapter.failing_case
    if case is None:
        return
    model = _instance_for(adapter, case.options)
    theta, forcing = _sample_inputs(model)
    alone = _solve_alone(model, theta, forcing)
    case_theta, case_forcing = _case_inputs(model, case)
    theta[_BAD_ROW], forcing[_BAD_ROW] = case_theta[0], case_forcing[0]
    result = _solve(model, theta, forcing)
    status = _status_text(result, _BAD_ROW)
    if result.status[_BAD_ROW] == Status.OK or not result.message[_BAD_ROW]:
        raise _failure(
            model, f"failing_case {case.name!r} must fail with a non-zero status and a message",
            [f"row {_BAD_ROW}: status {status}"],
            "declare as failing_case a row the model cannot solve, and return a non-zero status "
            "and a message for it from _steady_state",
        )
    others = [i for i in range(_N_ROWS) if i != _BAD_ROW]
    _assert_identical(
        model, _take(result, others), _take(alone, others), _rows(others),
        f"a failing row ({case.name!r} in row {_BAD_ROW}) must leave the other rows unchanged "
        "(in batch vs alone)",
        "give each row its own status: never abort, restart or re-solve the batch because one "
        "row failed",
    )


def check_pickle_roundtrip(adapter: BaseAdapter) -> None:
    """An unpickled copy, and an instance rebuilt from ``get_options()``, give identical results."""
    theta, forcing = _sample_inputs(adapter)
    first = _solve(adapter, theta, forcing)
    try:
        clone = pickle.loads(pickle.dumps(adapter))
    except Exception as exc:
        raise _failure(
            adapter, "adapters must pickle (the process-pool executor sends them to workers)",
            [f"{type(exc).__name__}: {exc}"],
            "hold only options and plain data on self: no lambdas, closures, open files or locks",
        ) from exc
    fix = "derive everything on self from the options in __init__; hold no hidden state"
    _assert_identical(
        adapter, _solve(clone, theta, forcing), first, _rows(range(_N_ROWS)),
        "an unpickled adapter must give bit-identical results (unpickled vs original)", fix,
    )
    rebuilt = _solve(_rebuild(adapter, adapter.get_options()), theta, forcing)
    _assert_identical(
        adapter, rebuilt, first, _rows(range(_N_ROWS)),
        "an adapter rebuilt from get_options() must give bit-identical results (rebuilt vs original)",
        fix,
    )


def _reference_problems(case: ReferenceCase, result: SteadyStateResult) -> list[str]:
    """Every expected value of ``case`` that ``result`` (one row) misses."""
    where = f"case {case.name!r} ({case.source})"
    if not result.ok[0]:
        return [f"{where}: status {_status_text(result, 0)}"]
    known = {POOL_PREFIX + n for n in result.pool_names} | set(result.output_names)
    problems = []
    for key, expected, tolerance in case.checks():
        if key not in known:
            problems.append(f"{where}: {key!r} is neither a declared output nor pool.NAME")
            continue
        value = float(result.get(key)[0])
        if not abs(value - expected) <= tolerance:
            problems.append(f"{where}: {key} = {value!r}, expected {expected!r} ± {tolerance:.3g}")
    return problems


def check_reference_values(adapter: BaseAdapter) -> None:
    """Each declared ``ReferenceCase`` is reproduced within its tolerance.

    A case holds for the default options updated by ``case.options``. It runs on ``adapter``
    when that is how ``adapter`` was built, else on a fresh ``type(adapter)(**case.options)``,
    so every case is checked whatever the options of the instance under test. Each expected
    key (a harmonised output or ``pool.NAME``) must lie within its tolerance (``case.checks()``);
    every mismatch is reported.
    """
    problems = []
    for case in adapter.reference_cases:
        model = _instance_for(adapter, case.options)
        problems += _reference_problems(case, _solve(model, *_case_inputs(model, case)))
    if problems:
        raise _failure(
            adapter, "declared reference cases must be reproduced within their tolerance", problems,
            "fix the model, or the case's inputs, expected values or source", limit=None,
        )


def _pool_flux_problems(adapter: BaseAdapter, solved: _Solved, state: str, pools: np.ndarray) -> list[str]:
    """Every pool-flux identity ``PoolFluxes`` breaks against ``tendencies`` at ``pools`` of the sample rows."""
    flows = adapter.pool_fluxes(solved.theta.copy(), solved.forcing.copy(), pools)
    dpools, fluxes = _tendencies(adapter, solved.theta, solved.forcing, pools)
    scale = flows.scale()
    c_input = _c_input(adapter, solved.forcing)
    losses = np.add.reduce([fluxes[name] for name in adapter.loss_fluxes])
    diagonal = np.diagonal(flows.transfers, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = {
            "inputs + inflows - outflows - outflux - dX/dt": np.abs(flows.net() - dpools) / scale[:, None],
            "sum(inputs) - c_input": (np.abs(flows.inputs.sum(axis=1) - c_input) / c_input)[:, None],
            f"sum(outflux) - ({' + '.join(adapter.loss_fluxes)})": (np.abs(flows.outflux.sum(axis=1) - losses)
                                                                    / scale)[:, None],
            "transfers[:, i, i]": np.abs(diagonal) / scale[:, None],
        }
    problems = []
    for what, error in gaps.items():
        for k, j in np.argwhere(~(error <= _POOL_FLUX_RTOL)):
            where = f" (pool {adapter.pool_names[j]})" if error.shape[1] > 1 else ""
            problems.append(f"row {solved.rows[k]}, {state}: {what}{where} = {float(error[k, j]):.3g} of the largest flow")
    if state == "steady state":  # a compartmental system: no negative flow (beyond rounding)
        for what, flow in (("inputs", flows.inputs), ("outflux", flows.outflux),
                           ("transfers", flows.transfers.reshape(len(scale), -1))):
            for k, j in np.argwhere(~(flow >= -_POOL_FLUX_RTOL * scale[:, None])):
                problems.append(f"row {solved.rows[k]}, {state}: {what} entry {j} = {float(flow[k, j]):.6g} "
                                "g C m-2 yr-1 is negative")
    return problems


def check_pool_fluxes(adapter: BaseAdapter) -> None:
    """The pool fluxes (``_pool_fluxes``) add up to the tendencies, the input and the losses.

    At the OK sample steady states and at pools scaled by factors in [0.5, 1.5]: for every pool
    ``inputs_i + sum_j transfers[j, i] - sum_j transfers[i, j] - outflux_i = dX_i/dt`` of
    ``tendencies``, the outfluxes sum to the ``loss_fluxes`` (each within 1e-12 of the row's
    largest flow), the inputs to ``c_input`` (1e-12 relative) and no pool transfers to itself; at the
    steady state no flow is negative. An adapter without ``_pool_fluxes`` (ages and transit times
    unavailable) passes with a warning; ``parametrize_with_adapter_checks`` skips it.
    """
    if not adapter.has_pool_fluxes:
        warnings.warn(f"{_label(adapter)}: check_pool_fluxes skipped: no _pool_fluxes (ages and transit times "
                      "unavailable)", stacklevel=2)
        return
    solved = _solved_sample(adapter)
    factors = np.random.default_rng(_SEED).uniform(*_POOL_FACTORS, solved.pools.shape)
    problems = [problem for state, pools in (("steady state", solved.pools), ("perturbed pools", solved.pools * factors))
                for problem in _pool_flux_problems(adapter, solved, state, pools)]
    if problems:
        raise _failure(
            adapter, f"pool fluxes must add up to the tendencies, c_input and the loss fluxes to "
            f"{_POOL_FLUX_RTOL:g} of the largest flow", problems,
            "derive _pool_fluxes from the very fluxes of _tendencies, in the same units: every flux once, as a "
            "transfer (donor -> receiver) or an outflux of the pool it leaves (respiration of an uptake from the "
            "substrate)",
        )


class _SensitivityGaps(NamedTuple):
    """Steady-state derivatives of some OK sample rows, by the IFT and by full differences."""

    rows: np.ndarray  # (k,) sample rows
    wrt: tuple[str, ...]  # (m,) drivers, then param.NAME
    ift: np.ndarray  # (k, n_outputs, m) adapter.steady_state_sensitivities
    full: np.ndarray  # (k, n_outputs, m) five-point differences of steady_state; NaN where skipped
    error: np.ndarray  # (k, n_outputs, m) |ift - full| / scale; NaN where skipped


def _sensitivity_gaps(adapter: BaseAdapter) -> _SensitivityGaps:
    """IFT and full-difference derivatives of every output with respect to every input.

    Inputs are every driver and every parameter; a (row, input) pair is skipped where the value is
    0 or NaN (no relative step) or a perturbed value leaves its interval, or a perturbed solve is
    not OK. All perturbed rows are solved in one batch (rows are independent by contract).
    """
    solved = _solved_sample(adapter)
    k = min(_SENSITIVITY_ROWS, solved.rows.size)
    theta, forcing, base = solved.theta[:k], solved.forcing[:k], solved.result.outputs[:k]
    columns: list[tuple[str, int, int, Parameter | Driver]] = [
        (d.name, 1, j, d) for j, d in enumerate(adapter.drivers)
    ]
    columns += [(PARAM_PREFIX + p.name, 0, j, p) for j, p in enumerate(adapter.parameters)]
    wrt = tuple(name for name, *_ in columns)
    ift = adapter.steady_state_sensitivities(theta.copy(), forcing.copy(), wrt).outputs
    h = _SENSITIVITY_STEP
    factors = np.array([1.0 + h, 1.0 - h, 1.0 + 2.0 * h, 1.0 - 2.0 * h])
    m, n_factors = len(columns), factors.size
    # every perturbed row: (input, factor, row) flattened
    thetas = np.tile(theta, (m, n_factors, 1, 1))
    forcings = np.tile(forcing, (m, n_factors, 1, 1))
    values = np.empty((m, k))
    usable = np.empty((m, n_factors, k), dtype=bool)
    for c, (_, which, j, meta) in enumerate(columns):
        inputs = forcings if which else thetas
        v = (forcing if which else theta)[:, j]
        values[c] = v
        inputs[c, :, :, j] = factors[:, None] * v
        usable[c] = meta.contains(inputs[c, :, :, j]) & np.isfinite(v) & (v != 0.0)
    flat = np.flatnonzero(usable.ravel())
    outputs = np.full((m * n_factors * k, len(adapter.outputs)), np.nan)
    if flat.size:
        perturbed = _solve(adapter, thetas.reshape(-1, theta.shape[1])[flat], forcings.reshape(-1, forcing.shape[1])[flat])
        outputs[flat] = np.where(perturbed.ok[:, None], perturbed.outputs, np.nan)
    y = outputs.reshape(m, n_factors, k, -1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        full = (8.0 * (y[:, 0] - y[:, 1]) - (y[:, 2] - y[:, 3])) / (12.0 * h * values)[:, :, None]  # (m, k, n_out)
        full = full.transpose(1, 2, 0)  # (k, n_out, m)
        full[~np.isfinite(full)] = np.nan
        # the floor: _SENSITIVITY_FLOOR of the input's strongest effect on any output as an
        # elasticity (at least 1), in this output's units per input unit
        per_unit = np.abs(base)[:, :, None] / np.abs(values.T)[:, None, :]  # |y / v|
        elasticity = np.where(base[:, :, None] != 0.0, np.abs(full) / per_unit, np.nan)
        strongest = np.fmax(np.where(np.isfinite(elasticity), elasticity, 0.0).max(axis=1, initial=0.0), 1.0)
        scale = np.fmax(np.fmax(np.abs(ift), np.abs(full)), _SENSITIVITY_FLOOR * strongest[:, None, :] * per_unit)
        gap = np.abs(ift - full)
        error = np.where(gap == 0.0, 0.0, gap / scale)
    error[~np.isfinite(ift)] = np.inf  # no IFT derivative where the full steady state has one
    error[np.isnan(full)] = np.nan  # skipped
    return _SensitivityGaps(solved.rows[:k], wrt, ift, full, error)


def check_steady_state_sensitivities(adapter: BaseAdapter) -> None:
    """Steady-state sensitivities agree with differences of the full steady state to 1e-5.

    For the first three OK sample rows and every driver and parameter (as ``param.NAME``), each
    harmonised output's ``adapter.steady_state_sensitivities`` (the implicit function theorem on
    ``_tendencies``) is compared with the five-point central difference of ``steady_state`` at
    the input times ``1 ± 1e-4`` and ``1 ± 2e-4``. A (row, input) pair is skipped where the input
    is 0 or NaN, a perturbed value leaves the declared interval or a perturbed solve is not OK.

    The relative error is ``|IFT - full| / scale`` with ``scale`` the larger of the two
    derivatives, floored at ``1e-2 S |y / v|`` (``y`` the output, ``v`` the input, ``S`` the
    largest ``|d ln y' / d ln v|`` over the outputs ``y'``, at least 1): an output the input barely
    moves (respiration equals c_input at every steady state) is compared absolutely, at 1e-7 of
    the input's strongest relative effect.
    """
    gaps = _sensitivity_gaps(adapter)
    if np.isnan(gaps.error).all():
        raise _failure(
            adapter, "the steady state must be differentiable around the sample rows",
            [f"rows {', '.join(map(str, gaps.rows))}: no input could be moved by ±{_SENSITIVITY_STEP:g} and "
             f"±{2 * _SENSITIVITY_STEP:g} relative to an OK steady state"],
            "make the defaults an interior point of the declared intervals where the model solves",
        )
    found = np.argwhere(gaps.error > _SENSITIVITY_RTOL)  # NaN (skipped) is not
    found = found[np.argsort(-gaps.error[tuple(found.T)], kind="stable")]
    problems = [
        f"row {gaps.rows[r]}: d {adapter.outputs[o]} / d {gaps.wrt[c]} = {float(gaps.ift[r, o, c])!r} "
        f"(steady_state_sensitivities) vs {float(gaps.full[r, o, c])!r} (differences of the full steady "
        f"state): relative error {float(gaps.error[r, o, c]):.3g}"
        for r, o, c in found
    ]
    if problems:
        raise _failure(
            adapter, f"steady_state_sensitivities must agree with differences of the full steady state to "
            f"{_SENSITIVITY_RTOL:g} relative", problems,
            "make _tendencies (and any dpools and fluxes _steady_state returns) the very equations whose "
            "steady state _steady_state solves, with every dependence on theta and forcing; an override of "
            "steady_state_sensitivities must give the derivatives of steady_state",
        )


#: Every check, in the order ``check_adapter`` runs them (cheap and structural first).
ALL_CHECKS: tuple[Check, ...] = (
    check_metadata_complete,
    check_batch_equals_loop,
    check_row_order_invariance,
    check_deterministic,
    check_no_input_mutation,
    check_steady_state_fixed_point,
    check_mass_balance,
    check_positivity,
    check_out_of_domain_rejected,
    check_bad_row_isolated,
    check_pickle_roundtrip,
    check_reference_values,
    check_steady_state_sensitivities,
    check_pool_fluxes,
)


# -- runners -------------------------------------------------------------------------------------
def _checked_reasons(reasons: Mapping[str, str] | None) -> dict[str, str]:
    """``{check name: reason}``, raising ``ValueError`` for a name that is not a check."""
    names = [check.__name__ for check in ALL_CHECKS]
    for name in reasons or {}:
        if name not in names:
            raise ValueError(unknown_message("check in expected_failures", name, names))
    return dict(reasons or {})


def check_adapter(adapter: BaseAdapter, expected_failures: Mapping[str, str] | None = None) -> None:
    """Run every contract check on ``adapter`` and report all failures at once.

    Parameters
    ----------
    adapter : BaseAdapter
        The adapter instance to check.
    expected_failures : dict of str to str, optional
        Checks known to fail, as ``{check name: reason (and issue link)}``. Strict: a listed
        check that passes is itself reported, so the entry is removed once fixed.

    Raises
    ------
    AssertionError
        Listing each check that failed unexpectedly (with its message) or passed unexpectedly.
        An exception other than ``AssertionError`` inside a check counts as a failure; the
        first such exception is chained.
    ValueError
        If ``expected_failures`` names something that is not a check.
    """
    expected = _checked_reasons(expected_failures)
    failures: list[str] = []
    crash: Exception | None = None
    for check in ALL_CHECKS:
        name = check.__name__
        try:
            check(adapter)
        except Exception as exc:  # a crashing check fails as surely as a failing one
            if name in expected:
                continue
            if isinstance(exc, AssertionError):
                failures.append(f"{name}: {exc}")
            else:
                failures.append(f"{name}: raised {type(exc).__name__}: {exc}")
                crash = crash or exc
        else:
            if name in expected:
                failures.append(
                    f"{name}: passed but is listed in expected_failures ({expected[name]}); remove the entry"
                )
    if failures:
        header = f"{_label(adapter)}: {len(failures)} of {len(ALL_CHECKS)} contract checks went wrong"
        body = ["  - " + textwrap.indent(text, "    ")[4:] for text in failures]
        raise AssertionError("\n".join([header, *body])) from crash


def parametrize_with_adapter_checks(
    adapters: Iterable[BaseAdapter], expected_failures: Mapping[str, Mapping[str, str]] | None = None
) -> Any:
    """A ``pytest.mark.parametrize("adapter, check", ...)`` over every adapter and check.

    Parameters
    ----------
    adapters : iterable of BaseAdapter
        Adapter instances; test ids are ``<adapter name>-<check name>``, e.g.
        ``clm5_firstorder-check_batch_equals_loop``.
    expected_failures : dict of str to dict of str to str, optional
        ``{adapter name: {check name: reason}}``. Those tests are marked
        ``pytest.mark.xfail(strict=True, reason=...)``, so a check that starts passing fails
        the build until its entry is removed. Entries for adapters not given are ignored.

    Returns
    -------
    pytest.MarkDecorator
        To decorate ``def test_contract(adapter, check): check(adapter)``.

    Raises
    ------
    ValueError
        If ``expected_failures`` names something that is not a check.
    """
    import pytest  # only the test suite needs pytest

    reasons = {name: _checked_reasons(checks) for name, checks in (expected_failures or {}).items()}
    params = []
    for adapter in adapters:
        known = reasons.get(_label(adapter), {})
        for check in ALL_CHECKS:
            name = check.__name__
            marks = [pytest.mark.xfail(strict=True, reason=known[name])] if name in known else []
            if check is check_pool_fluxes and not adapter.has_pool_fluxes:
                marks.append(pytest.mark.skip(reason=f"{_label(adapter)} has no _pool_fluxes: ages and transit "
                                                     "times unavailable"))
            params.append(pytest.param(adapter, check, id=f"{_label(adapter)}-{name}", marks=marks))
    return pytest.mark.parametrize("adapter, check", params)

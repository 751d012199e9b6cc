"""The adapter contract: declared metadata, row statuses and the validating ``BaseAdapter``.

A model adapter declares what it computes (parameters, drivers, pools, outputs, options) and
implements pure numerics in ``_steady_state`` and ``_tendencies``. ``BaseAdapter`` validates every
call at the boundary (shapes, finiteness, bounds, cross-constraints), runs the model on the valid
rows only, checks what comes back (finite, non-negative, a verified fixed point) and derives the
harmonised outputs from pool kinds and fluxes, so ``soc``, ``respiration`` and ``cue_bulk`` mean
the same in every model. Adapters never re-validate.

A returned row stays ``OK`` only if its pools, tendencies, fluxes and outputs are finite, its pools
are not negative, its tendencies vanish and its carbon balances (losses = ``c_input``); a batch
whose numerics raise (``NUMERIC_ERRORS``) is solved again row by row, so one bad row fails alone.

Units at the boundary are the shared ones (``g C m-2``, ``g C m-2 yr-1``, ``degC``, ``m3 m-3``,
``%``, ``1``); native units stay inside each model's ``equations.py``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from numbers import Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .errors import AdapterValidationError, DriverError, HarnessError, ParameterError, unknown_message
from .vocabulary import (
    DRIVERS,
    EXPONENT_MAX,
    KIND_OUTPUTS,
    LOSS_FLUXES,
    OUTPUTS,
    PH_RANGE,
    PLAUSIBLE_OUTPUTS,
    POOL_KINDS,
    POOL_PREFIX,
    REQUIRED_FLUXES,
    BetaRescale,
)

if TYPE_CHECKING:  # the module imports this one
    from .sensitivity import Sensitivities

__all__ = [
    "BaseAdapter",
    "BetaRescale",
    "Driver",
    "FailingCase",
    "Interval",
    "Option",
    "Output",
    "Parameter",
    "Pool",
    "PoolFluxes",
    "ReferenceCase",
    "Status",
    "SteadyStateParts",
    "SteadyStateResult",
    "violation",
    "metadata_problems",
    "anchor_violations",
    "column_major",
    "EXPONENT_MAX",
    "LOSS_FLUXES",
    "MASS_BALANCE_RTOL",
    "NUMERIC_ERRORS",
    "PH_RANGE",
    "POOL_PREFIX",
    "REQUIRED_FLUXES",
]

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class Status(IntEnum):
    """Outcome of one row of a batched steady-state call."""

    OK = 0
    NOT_CONVERGED = 1
    NON_FINITE = 2
    NEGATIVE_POOL = 3
    SOLVER_FAILED = 4
    OUT_OF_DOMAIN = 5
    MASS_BALANCE = 6
    IMPLAUSIBLE = 7

    @property
    def flag(self) -> str:
        """The status as one word (``not_converged``): a CF ``flag_meanings`` entry in netCDF files."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """The status as text (``not converged``): tables, summaries and messages."""
        return self.flag.replace("_", " ")


_STATUS_CODES = np.array([s.value for s in Status], dtype=np.int8)
_LABEL_OF_CODE = {s.value: s.label for s in Status}


def status_labels(status: np.ndarray) -> np.ndarray:
    """``Status.label`` of every code in ``status``, as an object array (one lookup per distinct code)."""
    codes, inverse = np.unique(np.asarray(status), return_inverse=True)
    return np.array([_LABEL_OF_CODE[int(c)] for c in codes], dtype=object)[inverse.reshape(-1)]
#: whether the codes are every integer between the least and the greatest (then a range check is exact)
_STATUS_CONTIGUOUS = _STATUS_CODES.size == int(_STATUS_CODES.max()) - int(_STATUS_CODES.min()) + 1

#: largest accepted |c_input - losses| / c_input at a returned steady state [1] (``MASS_BALANCE``
#: beyond it). A conserving model has sum(dX/dt) = c_input - losses, and an accepted state has
#: max|dX/dt| <= residual_rtol c_input, so its gap is at most n_pools x residual_rtol (8e-9 at the
#: default 1e-9) plus rounding (~1e-15: the built-in models' largest gap is 2e-15); a gap above
#: 1e-6 is a missing, extra or double-counted flux. An adapter with a laxer ``residual_rtol`` is
#: held to n_pools x residual_rtol instead, the gap its accepted states may have.
MASS_BALANCE_RTOL = 1e-6

#: exceptions of a model's numerics that fail rows, not the run: a batch whose ``_steady_state``
#: raises one (other than a ``HarnessError``) is solved again row by row, and each row that raises
#: gets ``SOLVER_FAILED`` with the exception's text
NUMERIC_ERRORS: tuple[type[Exception], ...] = (ArithmeticError, np.linalg.LinAlgError, ValueError)


@dataclass(frozen=True)
class Interval:
    """The admissible values of a parameter or driver: finite numbers between two bounds.

    Parameters
    ----------
    lower, upper : float
        The bounds [units of the parameter or driver]; either may be infinite.
    open_bounds : tuple of bool
        Whether the lower and the upper bound itself are excluded. An infinite bound admits
        only finite values, whether open or closed.
    """

    lower: float
    upper: float
    open_bounds: tuple[bool, bool] = (False, False)

    def __str__(self) -> str:
        """The interval as written in messages, e.g. ``(0, 1]``."""
        left = "(" if self.open_bounds[0] else "["
        right = ")" if self.open_bounds[1] else "]"
        return f"{left}{self.lower:g}, {self.upper:g}{right}"

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Mask of the finite ``values`` inside the interval (NaN and infinities outside).

        Parameters
        ----------
        values : array_like
            Values to test [units of the parameter or driver].

        Returns
        -------
        ndarray of bool
            Same shape as ``values``.
        """
        values = np.asarray(values, dtype=float)
        below = values <= self.lower if self.open_bounds[0] else values < self.lower
        above = values >= self.upper if self.open_bounds[1] else values > self.upper
        return np.isfinite(values) & ~(below | above)


@dataclass(frozen=True)
class Parameter:
    """One column of ``theta``: a native model parameter that can be sampled or calibrated.

    ``interval`` holds the admissible values [``units``]; ``optional`` parameters also accept
    NaN, meaning "unset" (e.g. an override such as ``xi_fixed``).
    """

    name: str
    units: str
    default: float
    interval: Interval
    description: str
    reference: str
    optional: bool = False

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Mask of admissible values (NaN admissible only when ``optional``)."""
        ok = self.interval.contains(values)
        return ok | np.isnan(np.asarray(values, dtype=float)) if self.optional else ok


@dataclass(frozen=True)
class Driver:
    """A shared driver (``vocabulary.DRIVERS``) the model represents; one column of ``forcing``.

    ``interval`` holds the values the model admits [``units``]. ``default`` fills the column
    when a scenario's baseline does not set the driver; a driver without a default must be
    given. ``optional`` drivers accept NaN, meaning "absent".
    """

    name: str
    units: str
    description: str
    interval: Interval
    default: float | None = None
    optional: bool = False

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Mask of admissible values (NaN admissible only when ``optional``)."""
        ok = self.interval.contains(values)
        return ok | np.isnan(np.asarray(values, dtype=float)) if self.optional else ok


@dataclass(frozen=True)
class Pool:
    """A native state variable, reported in ``units`` (g C m-2 at the boundary)."""

    name: str
    units: str
    description: str
    kind: str


@dataclass(frozen=True)
class Output:
    """A harmonised output (``vocabulary.OUTPUTS``) the model produces."""

    name: str
    units: str
    description: str


@dataclass(frozen=True)
class Option:
    """A structural or numerical choice made at construction (not sampled)."""

    name: str
    default: Any
    description: str
    choices: tuple[Any, ...] | None = None

    def check(self, value: Any) -> Any:
        """Return ``value`` normalised to the option's type; raise ``ParameterError`` if invalid."""
        if self.choices is not None:
            if value not in self.choices:
                allowed = ", ".join(repr(c) for c in self.choices)
                raise ParameterError(f"option {self.name!r} must be one of {allowed}; got {value!r}")
            return value
        kind = type(self.default)
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kind):
            raise ParameterError(
                f"option {self.name!r} must be of type {kind.__name__}; got {value!r}"
            )
        return value


@dataclass(frozen=True)
class ReferenceCase:
    """A published steady state the adapter must reproduce.

    ``options`` are applied on top of the adapter's defaults. ``expected`` maps harmonised
    outputs or ``pool.NAME`` to values in boundary units, either as numbers or, better, as the
    text printed in the source (``"27.573"``): a printed value ``v`` is met when
    ``|x - v| <= rtol*|v| + atol + half a unit of its last printed digit``, since the source's
    rounding is no error of the model. Use :meth:`checks` to iterate.
    """

    name: str
    drivers: Mapping[str, float]
    expected: Mapping[str, float | str]
    source: str
    rtol: float
    parameters: Mapping[str, float] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    atol: float = 0.0

    def checks(self) -> list[tuple[str, float, float]]:
        """``(key, expected value, tolerance)`` for every expected entry."""
        values = {k: float(v.replace(" ", "")) if isinstance(v, str) else float(v) for k, v in self.expected.items()}
        return [(key, values[key], self.rtol * abs(values[key]) + self.atol + _rounding(v))
                for key, v in self.expected.items()]


@dataclass(frozen=True)
class FailingCase:
    """A row within the per-column bounds that the model must fail on, for the contract suite.

    The row fails either in the solver (a non-zero status from ``_steady_state``) or by breaking
    a cross-constraint (``OUT_OF_DOMAIN``); either way with a message.

    Parameters
    ----------
    name : str
        Short description of the case.
    drivers : Mapping[str, float]
        Driver values [shared units]; drivers without a default must be given.
    source : str
        Why the row must fail: the condition and where it is stated.
    parameters : Mapping[str, float]
        Parameter overrides of the defaults [units of each parameter].
    options : Mapping[str, Any]
        Options applied on top of the adapter's defaults.
    """

    name: str
    drivers: Mapping[str, float]
    source: str
    parameters: Mapping[str, float] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


def _rounding(value: float | str) -> float:
    """Half a unit of the last digit of a printed number (0 for a float, or a printed 0)."""
    if not isinstance(value, str):
        return 0.0
    exponent = Decimal(value.replace(" ", "")).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent) if float(value.replace(" ", "")) != 0 else 0.0


def violation(mask: np.ndarray, template: str, **columns: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """A cross-constraint violation: the offending rows and one message per row.

    ``template`` is formatted with each row's values of ``columns``, e.g.
    ``violation(bad, "cue_scale={s:g} takes e3 to {e:g}; must be < 1", s=scale, e=e3)``.
    """
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask)
    return mask, {int(i): template.format(**{k: v[i] for k, v in columns.items()}) for i in rows}


@dataclass(frozen=True)
class SteadyStateParts:
    """What an adapter's ``_steady_state`` returns for the rows it was given.

    Parameters
    ----------
    pools : ndarray, shape (n, n_pools)
        Steady-state pools [g C m-2]; failed rows may hold anything (BaseAdapter sets NaN).
    status : ndarray, shape (n,)
        ``Status`` code of each row (``Status.OK`` = 0 for a solved row).
    message : sequence of str, shape (n,), or None
        Why each failed row failed ("" for solved rows); None when no row failed.
    dpools : ndarray, shape (n, n_pools), or None
        ``_tendencies`` at ``pools`` for every row [g C m-2 yr-1], when the solver has it at hand
        (saves BaseAdapter a second evaluation); given together with ``fluxes``.
    fluxes : Mapping[str, ndarray] or None
        The fluxes of that same evaluation [g C m-2 yr-1], each of shape (n,).
    """

    pools: np.ndarray
    status: np.ndarray
    message: Sequence[str] | np.ndarray | None = None
    dpools: np.ndarray | None = None
    fluxes: Mapping[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        """Check that ``dpools`` and ``fluxes`` come together."""
        if (self.dpools is None) != (self.fluxes is None):
            raise TypeError("SteadyStateParts: give dpools and fluxes together, or neither")


@dataclass(frozen=True)
class PoolFluxes:
    """Every carbon flow of each pool at given pools: the compartmental form of a model.

    What ``_pool_fluxes`` returns and ``harness.ages`` builds ages and transit times from. The
    flows add up to the tendencies: ``inputs_i + sum_j transfers[:, j, i] - sum_j transfers[:, i, j]
    - outflux_i = dX_i/dt``. Carbon respired as a microbe takes it up leaves from the substrate
    pool (``outflux``); only the part that becomes biomass is a transfer to the microbes.

    Parameters
    ----------
    inputs : ndarray, shape (n, n_pools)
        External input to each pool; they sum to ``c_input``. [g C m-2 yr-1]
    transfers : ndarray, shape (n, n_pools, n_pools)
        ``transfers[:, i, j]``: flux from pool i to pool j; the diagonal is 0. [g C m-2 yr-1]
    outflux : ndarray, shape (n, n_pools)
        Flux from each pool out of the soil (respiration, leaching, any other loss); they sum to
        the ``loss_fluxes``. [g C m-2 yr-1]
    """

    inputs: np.ndarray
    transfers: np.ndarray
    outflux: np.ndarray

    def net(self) -> np.ndarray:
        """The tendencies these flows make, ``inputs + inflows - outflows - outflux``, shape (n, n_pools) [g C m-2 yr-1]."""
        return self.inputs + self.transfers.sum(axis=1) - self.transfers.sum(axis=2) - self.outflux

    def scale(self) -> np.ndarray:
        """The largest absolute flow of each row, shape (n,) [g C m-2 yr-1]: what rounding is relative to."""
        flows = (np.abs(self.inputs).max(axis=1, initial=0.0), np.abs(self.transfers).max(axis=(1, 2), initial=0.0),
                 np.abs(self.outflux).max(axis=1, initial=0.0))
        return np.maximum.reduce(flows)


@dataclass(frozen=True)
class SteadyStateResult:
    """Steady states of a batch: one row per parameter set.

    Failed rows hold NaN in ``pools`` and ``outputs``, a non-zero ``status`` and a message.
    """

    pools: np.ndarray  # (n_sets, n_pools) [g C m-2]
    outputs: np.ndarray  # (n_sets, n_outputs) [units of each output]
    status: np.ndarray  # (n_sets,) int8, values of Status
    message: np.ndarray  # (n_sets,) object, "" for OK rows
    pool_names: tuple[str, ...]
    output_names: tuple[str, ...]

    @property
    def ok(self) -> np.ndarray:
        """Mask of the solved rows (``status == Status.OK``), shape (n_sets,)."""
        return self.status == Status.OK

    def take(self, rows: np.ndarray | slice) -> SteadyStateResult:
        """The result of a subset of rows (index array or slice)."""
        return SteadyStateResult(self.pools[rows], self.outputs[rows], self.status[rows], self.message[rows],
                                 self.pool_names, self.output_names)

    def select(self, names: Sequence[str]) -> SteadyStateResult:
        """Only the named outputs and ``pool.NAME`` pools (others dropped to save memory)."""
        prefixed = [n.removeprefix(POOL_PREFIX) for n in names if n.startswith(POOL_PREFIX)]
        pools = [n for n in prefixed if n in self.pool_names]
        outputs = [n for n in names if n in self.output_names]
        return SteadyStateResult(
            self.pools[:, [self.pool_names.index(n) for n in pools]],
            self.outputs[:, [self.output_names.index(n) for n in outputs]],
            self.status, self.message, tuple(pools), tuple(outputs),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[SteadyStateResult]) -> SteadyStateResult:
        """Stack the rows of several results (at least one) in order."""
        return cls(
            np.concatenate([p.pools for p in parts]),
            np.concatenate([p.outputs for p in parts]),
            np.concatenate([p.status for p in parts]),
            np.concatenate([p.message for p in parts]),
            parts[0].pool_names,
            parts[0].output_names,
        )

    def pool(self, name: str) -> np.ndarray:
        """The native pool ``name`` of every row, shape (n_sets,) [g C m-2]."""
        return self.pools[:, self.pool_names.index(name)]

    def output(self, name: str) -> np.ndarray:
        """The harmonised output ``name`` of every row, shape (n_sets,) [units of the output]."""
        return self.outputs[:, self.output_names.index(name)]

    def get(self, name: str) -> np.ndarray:
        """A harmonised output by name, or a native pool as ``pool.NAME``."""
        if name.startswith(POOL_PREFIX):
            return self.pool(name.removeprefix(POOL_PREFIX))
        return self.output(name)

    def columns(self) -> dict[str, np.ndarray]:
        """Every pool as ``pool.NAME`` and every output by name, plus status and message."""
        cols = {POOL_PREFIX + n: self.pools[:, i] for i, n in enumerate(self.pool_names)}
        cols.update({n: self.outputs[:, i] for i, n in enumerate(self.output_names)})
        cols["status"] = status_labels(self.status)
        cols["message"] = self.message
        return cols


class BaseAdapter:
    """Validating base of every model adapter (template method).

    Subclasses declare the class attributes below and implement ``_steady_state`` and
    ``_tendencies`` (and optionally ``_domain_violations``). Metadata that depends on options
    (e.g. a parameter set) may be provided as properties instead of class attributes.
    Instances are immutable after ``__init__`` and picklable.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""  # one line
    reference: ClassVar[str] = ""  # citation + DOI of the model
    steady_state_method: ClassVar[str] = ""
    options: ClassVar[tuple[Option, ...]] = ()
    parameters: tuple[Parameter, ...] = ()
    drivers: tuple[Driver, ...] = ()
    pools: tuple[Pool, ...] = ()
    outputs: tuple[str, ...] = ()
    reference_cases: tuple[ReferenceCase, ...] = ()
    #: a row within the per-column bounds that must fail (in the solver or by breaking a
    #: cross-constraint), for the contract suite; or None
    failing_case: FailingCase | None = None
    #: largest accepted max|dX/dt| / c_input at a returned steady state [1]
    residual_rtol: ClassVar[float] = 1e-9
    #: fluxes of ``_tendencies`` that carry carbon out of the soil: at a steady state they sum to
    #: ``c_input`` (``MASS_BALANCE_RTOL``); a model with a further loss (e.g. erosion) adds its flux
    loss_fluxes: ClassVar[tuple[str, ...]] = LOSS_FLUXES
    #: output -> (lower, upper) plausible values [output units]; a finite output outside them is
    #: flagged ``IMPLAUSIBLE`` (an adapter with a wider physical range may declare its own)
    plausible_outputs: ClassVar[Mapping[str, tuple[float, float]]] = PLAUSIBLE_OUTPUTS
    #: ``steady_state`` solves a larger batch in blocks of this many rows (None: in one piece). For
    #: an adapter whose rows are solved independently (``check_batch_equals_loop``) the results are
    #: the same bit for bit; blocks of a few 10^4 rows keep numpy's temporaries small enough to be
    #: reused by the allocator rather than mapped and faulted in afresh at every operation.
    block_rows: ClassVar[int | None] = None

    def __init__(self, **options: Any):
        declared = {o.name: o for o in self.options}
        unknown = sorted(set(options) - set(declared))
        if unknown:
            raise ParameterError(unknown_message(f"{self.name} option", unknown[0], declared))
        self._options = {
            name: opt.check(options[name]) if name in options else opt.default
            for name, opt in declared.items()
        }
        if "anchor" in self._options:  # the anchor site of beta_rescale 'site'
            self._options["anchor"] = _checked_anchor(self)

    # -- metadata --------------------------------------------------------------------------
    def get_options(self) -> dict[str, Any]:
        """The options this instance was built with (for provenance and rebuilding; copies)."""
        return {name: dict(value) if isinstance(value, dict) else value for name, value in self._options.items()}

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the columns of ``theta``, in order."""
        return tuple(p.name for p in self.parameters)

    @property
    def driver_names(self) -> tuple[str, ...]:
        """Names of the columns of ``forcing``, in order."""
        return tuple(d.name for d in self.drivers)

    @property
    def pool_names(self) -> tuple[str, ...]:
        """Names of the native pools, in the order of ``pools``."""
        return tuple(p.name for p in self.pools)

    @property
    def output_metadata(self) -> tuple[Output, ...]:
        """Units and description of each harmonised output the model produces."""
        return tuple(Output(n, *OUTPUTS[n]) for n in self.outputs)

    @property
    def mass_balance_rtol(self) -> float:
        """Largest accepted |c_input - losses| / c_input at a steady state [1].

        ``MASS_BALANCE_RTOL``, or ``n_pools x residual_rtol`` if larger: the gap an accepted
        state of a conserving model may have (see ``MASS_BALANCE_RTOL``).
        """
        return max(MASS_BALANCE_RTOL, len(self.pools) * self.residual_rtol)

    def default_theta(self, n_sets: int = 1, **overrides: float | np.ndarray) -> np.ndarray:
        """``theta`` of shape (n_sets, n_params) at the defaults, with named overrides (a value or one per row)."""
        names = self.parameter_names
        row = np.array([p.default for p in self.parameters], dtype=float)
        theta = np.tile(row, (n_sets, 1))
        for key, value in overrides.items():
            if key not in names:
                raise ParameterError(unknown_message(f"{self.name} parameter", key, names))
            theta[:, names.index(key)] = value
        return theta

    def make_forcing(self, n_sets: int = 1, **values: Any) -> np.ndarray:
        """``forcing`` of shape (n_sets, n_drivers) from named values and driver defaults."""
        names = self.driver_names
        for key in values:
            if key not in names:
                raise DriverError(unknown_message(f"driver of {self.name}", key, names))
        forcing = np.empty((n_sets, len(names)))
        for j, drv in enumerate(self.drivers):
            if drv.name in values:
                forcing[:, j] = values[drv.name]
            elif drv.default is not None:
                forcing[:, j] = drv.default
            else:
                raise DriverError(f"{self.name} needs driver {drv.name!r} [{drv.units}]: it has no default")
        return forcing

    def evaluate(self, parameters: Mapping[str, Any] | None = None, **drivers: Any) -> SteadyStateResult:
        """Steady state from named drivers (scalars or arrays) and parameter overrides."""
        arrays = [np.atleast_1d(v) for v in list(drivers.values()) + list((parameters or {}).values())]
        n_sets = max((a.shape[0] for a in arrays), default=1)
        theta = self.default_theta(n_sets, **(parameters or {}))
        return self.steady_state(theta, self.make_forcing(n_sets, **drivers))

    # -- public entry points -----------------------------------------------------------------
    def steady_state(self, theta: np.ndarray, forcing: np.ndarray) -> SteadyStateResult:
        """Steady states of a batch of parameter sets.

        Parameters
        ----------
        theta : ndarray, shape (n_sets, n_params)
            Parameters in ``parameters`` order. [units of each parameter]
        forcing : ndarray, shape (n_sets, n_drivers)
            Drivers in ``drivers`` order. [shared units]

        Returns
        -------
        SteadyStateResult
            Pools [g C m-2], harmonised outputs, per-row status and message. Rows outside the
            declared domain get ``OUT_OF_DOMAIN``; the others are solved regardless. A solved row
            stays ``OK`` only if its pools, tendencies, fluxes and outputs are finite
            (``NON_FINITE``), its pools are not negative (``NEGATIVE_POOL``), its tendencies vanish
            (``NOT_CONVERGED``, ``residual_rtol``) and its losses (``loss_fluxes``) balance its
            ``c_input`` (``MASS_BALANCE``, ``MASS_BALANCE_RTOL``) and its outputs lie within
            ``plausible_outputs`` (``IMPLAUSIBLE``); the message names the quantity.

        Notes
        -----
        If ``_steady_state`` raises one of ``NUMERIC_ERRORS`` for the batch (a ``HarnessError``
        is raised on), every row is solved again in a batch of its own: a row that raises gets
        ``SOLVER_FAILED`` with the exception's text, the others their own results. These are bit
        for bit the rows of a batch without the failing row whenever the adapter solves each row
        from its own inputs only, as the contract requires (``check_batch_equals_loop``); an
        adapter whose rows share work (a batch statistic, a warm start, a blocked routine whose
        rounding depends on the batch) may differ in the last bit.

        Every check runs on every row; each is first made on the whole batch at once (one
        reduction) and row by row only where that finds something to report.
        """
        theta, forcing = self._checked_inputs(theta, forcing)
        n_sets = theta.shape[0]
        pools = np.empty((n_sets, len(self.pools)))
        outputs = np.empty((n_sets, len(self.outputs)))
        status = np.zeros(n_sets, dtype=np.int8)
        messages: dict[int, str] = {}  # of failed rows only
        block = max(min(self.block_rows or n_sets, n_sets), 1)
        # the columns of a block, in memory reused from block to block (a fresh copy of a large theta
        # costs more in page faults than its transposition)
        scratch = (np.empty((theta.shape[1], block)), np.empty((forcing.shape[1], block)))
        for start in range(0, n_sets, block):
            part = slice(start, start + block)
            columns = tuple(_readonly(column_major(matrix[part], out=buffer[:, : matrix[part].shape[0]]))
                            for matrix, buffer in zip((theta, forcing), scratch))
            found = self._steady_state_rows(theta[part], forcing[part], columns, pools[part], outputs[part],
                                            status[part])
            messages.update((start + row, text) for row, text in found.items())
        return SteadyStateResult(pools, outputs, status, _message_array(n_sets, messages), self.pool_names,
                                 self.outputs)

    def steady_state_sensitivities(self, theta: np.ndarray, forcing: np.ndarray, wrt: Sequence[str]) -> Sensitivities:
        """Derivatives of the steady state with respect to inputs (``harness.sensitivity.Sensitivities``).

        By the implicit function theorem at the solved pools, from finite differences of
        ``_tendencies``: ``outputs`` (n, n_outputs, n_wrt) [output units per input unit] and ``pools``
        (n, n_pools, n_wrt) [g C m-2 per input unit], NaN for rows not OK. ``wrt`` names drivers by
        name and parameters as ``param.NAME``. See :func:`harness.sensitivity.steady_state_sensitivities`.
        """
        from .sensitivity import steady_state_sensitivities

        return steady_state_sensitivities(self, theta, forcing, wrt)

    def _steady_state_rows(self, theta, forcing, columns, pools, outputs, status) -> dict[int, str]:
        """``steady_state`` of checked inputs in one piece, into ``pools``, ``outputs`` and ``status``.

        ``columns`` are ``theta`` and ``forcing`` column by column; ``status`` comes in zeros (OK).
        Returns the message of each failed row.
        """
        n_sets = theta.shape[0]
        messages: dict[int, str] = {}
        valid, prepared = self._flag_domain(theta, forcing, columns, status, messages)
        rows = np.flatnonzero(status == Status.OK)
        ok_rows = rows[:0]
        if rows.size:
            if prepared is not None and rows.size < valid.size:
                prepared = prepared.take(np.searchsorted(valid, rows))
            # floating-point overflow is not an error here: non-finite results are flagged row by row
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                solved = self._solve(_take(theta, rows), _take(forcing, rows), prepared)
            sub_status = np.asarray(solved.status)
            if rows.size == n_sets:
                pools[...] = solved.pools
            else:
                pools[...] = np.nan
                pools[rows] = solved.pools
            status[rows] = sub_status
            for k in np.flatnonzero(sub_status != Status.OK):
                messages[int(rows[k])] = str(solved.message[int(k)]) if solved.message is not None else ""
            self._flag_pools(pools, status, messages)
            ok_rows = np.flatnonzero(status == Status.OK)
        if ok_rows.size:  # ok rows are among the solved ones
            ok_outputs = self._verified_outputs(theta, forcing, pools, rows, ok_rows, solved, status, messages)
            if ok_rows.size < n_sets:
                outputs[...] = np.nan
            for j, name in enumerate(self.outputs):
                if ok_rows.size == n_sets:
                    outputs[:, j] = ok_outputs[name]
                else:
                    outputs[ok_rows, j] = ok_outputs[name]
        else:
            outputs[...] = np.nan
        if not rows.size:
            pools[...] = np.nan
        failed = status != Status.OK
        if failed.any():
            pools[failed] = np.nan
            outputs[failed] = np.nan
        return messages

    def _verified_outputs(self, theta, forcing, pools, rows, ok_rows, solved, status,
                          messages) -> dict[str, np.ndarray]:
        """Harmonised outputs of the ``ok_rows`` (of the solved ``rows``) by name, once every check ran on them.

        The tendencies and fluxes are the solver's (``solved.dpools``, ``solved.fluxes``) when it gave
        them, else ``_tendencies`` at the returned pools.
        """
        every = ok_rows.size == pools.shape[0]
        ok_pools = pools if every else pools[ok_rows]
        ok_forcing = _take(forcing, ok_rows)
        if solved.dpools is None or solved.fluxes is None:  # given together (SteadyStateParts checks)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                at = _readonly(pools.copy() if ok_pools is pools else ok_pools)  # the result's pools stay writable
                dpools, fluxes = self._tendencies(_take(theta, ok_rows), ok_forcing, at)
        else:  # evaluated by _steady_state at its rows: keep the ones still OK
            keep = None if ok_rows.size == rows.size else np.searchsorted(rows, ok_rows)
            dpools = np.asarray(solved.dpools) if keep is None else np.asarray(solved.dpools)[keep]
            fluxes = {k: np.asarray(v) if keep is None else np.asarray(v)[keep] for k, v in solved.fluxes.items()}
        fluxes = self._checked_fluxes(fluxes, ok_rows.size)
        # the solver's own array when every row is still OK: the same numbers, maybe column-major already
        outputs = self._harmonised_outputs(np.asarray(solved.pools, dtype=float) if every else ok_pools, fluxes)
        c_input = np.ascontiguousarray(ok_forcing[:, self.driver_names.index("c_input")])
        self._flag_non_finite(ok_rows, dpools, fluxes, outputs, status, messages)
        self._flag_residual(ok_rows, c_input, dpools, status, messages)
        self._flag_mass_balance(ok_rows, c_input, fluxes, status, messages)
        self._flag_implausible(ok_rows, outputs, status, messages)
        return outputs

    def _solve(self, theta: np.ndarray, forcing: np.ndarray, prepared: Any = None) -> SteadyStateParts:
        """``_steady_state`` of valid rows, checked; row by row if the batch raises (see ``steady_state``)."""
        try:
            return self._checked_parts(self._steady_state(theta, forcing, **_given(prepared)), theta.shape[0])
        except HarnessError:
            raise
        except NUMERIC_ERRORS as exc:
            if theta.shape[0] == 1:
                return self._raised_parts(exc)
        return _stack_parts([self._solve_row(theta, forcing, i, prepared) for i in range(theta.shape[0])],
                            self._raised_parts)

    def _solve_row(self, theta: np.ndarray, forcing: np.ndarray, row: int,
                   prepared: Any = None) -> SteadyStateParts | Exception:
        """Row ``row`` solved in a batch of its own, or the numeric exception it raised."""
        one = np.array([row])
        given = _given(None if prepared is None else prepared.take(one))
        try:
            return self._checked_parts(self._steady_state(_take(theta, one), _take(forcing, one), **given), 1)
        except HarnessError:
            raise
        except NUMERIC_ERRORS as exc:
            return exc

    def _raised_parts(self, exc: Exception, fluxes: Sequence[str] = ()) -> SteadyStateParts:
        """One row that raised ``exc``: ``SOLVER_FAILED``, NaN pools (and NaN ``fluxes`` if named)."""
        nan = np.full((1, len(self.pools)), np.nan)
        text = f"the solver raised {type(exc).__name__}: {exc}"
        status = np.array([Status.SOLVER_FAILED], dtype=np.int8)
        if not fluxes:
            return SteadyStateParts(nan, status, [text])
        return SteadyStateParts(nan, status, [text], nan.copy(), {name: np.full(1, np.nan) for name in fluxes})

    def _checked_parts(self, solved: Any, n_rows: int) -> SteadyStateParts:
        """``solved`` with its pools as floats, once its type, shape and status codes are checked."""
        if not isinstance(solved, SteadyStateParts):
            raise AdapterValidationError(
                f"{self.name}._steady_state must return SteadyStateParts(pools, status, message, "
                f"[dpools, fluxes]); got {type(solved).__name__}"
            )
        sub_pools = np.asarray(solved.pools, dtype=float)
        if sub_pools.shape != (n_rows, len(self.pools)):
            raise AdapterValidationError(
                f"{self.name}._steady_state returned pools of shape {sub_pools.shape}; "
                f"expected {(n_rows, len(self.pools))}"
            )
        sub_status = np.asarray(solved.status)
        in_range = not sub_status.size or (_STATUS_CODES.min() <= sub_status.min()
                                           and sub_status.max() <= _STATUS_CODES.max())
        if not (in_range and _STATUS_CONTIGUOUS) and not np.isin(sub_status, _STATUS_CODES).all():
            raise AdapterValidationError(
                f"{self.name}._steady_state returned status codes outside Status: "
                f"{sorted(set(sub_status.tolist()) - set(_STATUS_CODES.tolist()))}"
            )
        return SteadyStateParts(sub_pools, sub_status, solved.message, solved.dpools, solved.fluxes)

    def check_domain(self, theta: np.ndarray, forcing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Status (``OK`` or ``OUT_OF_DOMAIN``) and message of each row, without solving."""
        theta, forcing = self._checked_inputs(theta, forcing)
        status = np.zeros(theta.shape[0], dtype=np.int8)
        messages: dict[int, str] = {}
        self._flag_domain(theta, forcing, (_readonly(column_major(theta)), _readonly(column_major(forcing))),
                          status, messages)
        return status, _message_array(theta.shape[0], messages)

    def tendencies(
        self, theta: np.ndarray, forcing: np.ndarray, pools: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Right-hand side of the model's ODEs at ``pools``.

        Returns ``dpools_dt`` (n_sets, n_pools) [g C m-2 yr-1] and fluxes [g C m-2 yr-1] holding
        at least ``uptake``, ``growth``, ``respiration`` and ``leaching``. Inputs are trusted to
        lie in the domain; only shapes are checked.
        """
        theta, forcing = self._checked_inputs(theta, forcing)
        pools = np.asarray(pools, dtype=float)
        if pools.shape != (theta.shape[0], len(self.pools)):
            raise ParameterError(
                f"pools must have shape {(theta.shape[0], len(self.pools))}; got {pools.shape}"
            )
        return self._tendencies(theta, forcing, _readonly(pools.copy()))

    @property
    def has_pool_fluxes(self) -> bool:
        """Whether the adapter implements ``_pool_fluxes``: ages and transit times (``harness.ages``) need it."""
        return type(self)._pool_fluxes is not BaseAdapter._pool_fluxes

    def pool_fluxes(self, theta: np.ndarray, forcing: np.ndarray, pools: np.ndarray) -> PoolFluxes:
        """Inputs, transfers and outfluxes of every pool at ``pools`` (``PoolFluxes``) [g C m-2 yr-1].

        Inputs are trusted to lie in the domain, as in ``tendencies``; only shapes are checked.
        Raises ``NotImplementedError`` for an adapter without ``_pool_fluxes`` (``has_pool_fluxes``)
        and ``AdapterValidationError`` when what it returns has the wrong type or shapes.
        """
        theta, forcing = self._checked_inputs(theta, forcing)
        pools = np.asarray(pools, dtype=float)
        n, n_pools = theta.shape[0], len(self.pools)
        if pools.shape != (n, n_pools):
            raise ParameterError(f"pools must have shape {(n, n_pools)}; got {pools.shape}")
        flows = self._pool_fluxes(theta, forcing, _readonly(pools.copy()))
        if not isinstance(flows, PoolFluxes):
            raise AdapterValidationError(f"{self.name}._pool_fluxes must return PoolFluxes(inputs, transfers, "
                                         f"outflux); got {type(flows).__name__}")
        arrays = [np.asarray(a, dtype=float) for a in (flows.inputs, flows.transfers, flows.outflux)]
        shapes = ((n, n_pools), (n, n_pools, n_pools), (n, n_pools))
        if any(a.shape != shape for a, shape in zip(arrays, shapes)):
            raise AdapterValidationError(
                f"{self.name}._pool_fluxes returned inputs, transfers and outflux of shapes "
                f"{', '.join(str(a.shape) for a in arrays)}; expected {', '.join(map(str, shapes))}")
        return PoolFluxes(*arrays)

    # -- hooks for model authors ------------------------------------------------------------
    def _prepare(self, parameters: dict[str, np.ndarray], drivers: dict[str, np.ndarray]) -> Any:
        """What both the domain checks and the solver compute from a batch, computed once (optional).

        ``parameters`` and ``drivers`` are the batch's columns by name, read-only contiguous arrays
        of shape (n,) (the columns of ``theta`` and ``forcing``). Returns None (the default) when
        nothing is shared, else any object with a method ``take(rows)`` giving the same for a
        subset of the rows (an index array): ``steady_state`` passes it, as the keyword
        ``prepared``, to ``_domain_violations`` for the rows within every column's interval and to
        ``_steady_state`` for those of them that meet every cross-constraint (after ``take`` if
        some do not). Called under ``np.errstate`` ignoring overflow and invalid operations, like
        the solver; the hooks must not change what it returns.
        """
        return None

    def _steady_state(self, theta: np.ndarray, forcing: np.ndarray, prepared: Any = None) -> SteadyStateParts:
        """Pools [g C m-2] (n, n_pools), status (n,) and messages (or None) of the valid rows.

        May also return ``dpools`` and ``fluxes``: ``_tendencies`` evaluated at the returned
        pools of every row, when the solver has them at hand (saves a second evaluation).
        ``prepared`` is what ``_prepare`` returned for these rows (an adapter without ``_prepare``
        may leave the argument out); None when called without it.
        """
        raise NotImplementedError

    def _tendencies(
        self, theta: np.ndarray, forcing: np.ndarray, pools: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _pool_fluxes(self, theta: np.ndarray, forcing: np.ndarray, pools: np.ndarray) -> PoolFluxes:
        """Inputs, transfers and outfluxes of every pool at ``pools`` [g C m-2 yr-1] (optional).

        The flows behind ``_tendencies``, pool by pool (``PoolFluxes``), at the same rows and
        pools, in the same units; they add up to its ``dpools_dt`` and its ``loss_fluxes``
        (``harness.testing.check_pool_fluxes``). Without it, ages and transit times are unavailable.
        """
        raise NotImplementedError(f"{self.name} does not implement _pool_fluxes")

    def _domain_violations(
        self, theta: np.ndarray, forcing: np.ndarray, prepared: Any = None
    ) -> list[tuple[np.ndarray, dict[int, str]]]:
        """Cross-constraints beyond per-column bounds, each built with :func:`violation`.

        ``prepared`` as in ``_steady_state``.
        """
        return []

    def _harmonised_outputs(self, pools: np.ndarray, fluxes: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Outputs from pool kinds and fluxes, identical in meaning across models: those in ``outputs``, by name."""
        kinds = [p.kind for p in self.pools]
        needed = set(self.outputs) | ({"soc", "litter"} if "soc_total" in self.outputs else set())
        columns = column_major(pools)
        # a non-finite output (an overflow, or 0/0 for cue_bulk) is flagged NON_FINITE by steady_state
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            derived = {k: _row_sum(pools, columns, [j for j, kind in enumerate(kinds) if kind == k])
                       for k in KIND_OUTPUTS if k in needed}
            if "soc" in needed:
                derived["soc"] = _row_sum(pools, columns, [j for j, kind in enumerate(kinds) if kind != "litter"])
            if "soc_total" in needed:
                derived["soc_total"] = derived["soc"] + derived["litter"]
            derived["respiration"] = np.asarray(fluxes["respiration"], dtype=float)
            if "cue_bulk" in needed:
                derived["cue_bulk"] = np.asarray(fluxes["growth"]) / np.asarray(fluxes["uptake"])
        return {name: derived[name] for name in self.outputs}

    # -- boundary checks ---------------------------------------------------------------------
    def _checked_inputs(self, theta: Any, forcing: Any) -> tuple[np.ndarray, np.ndarray]:
        """``theta`` and ``forcing`` as float arrays of the declared shapes, read-only views of the caller's."""
        theta = np.asarray(theta, dtype=float).view()
        forcing = np.asarray(forcing, dtype=float).view()
        if theta.ndim != 2 or theta.shape[1] != len(self.parameters):
            raise ParameterError(
                f"{self.name}: theta must have shape (n_sets, {len(self.parameters)}) with columns "
                f"{list(self.parameter_names)}; got shape {theta.shape}"
            )
        if forcing.ndim != 2 or forcing.shape != (theta.shape[0], len(self.drivers)):
            raise DriverError(
                f"{self.name}: forcing must have shape ({theta.shape[0]}, {len(self.drivers)}) with "
                f"columns {list(self.driver_names)}; got shape {forcing.shape}"
            )
        return _readonly(theta), _readonly(forcing)

    def _flag_domain(self, theta, forcing, columns, status, messages) -> tuple[np.ndarray, Any]:
        """``OUT_OF_DOMAIN`` for rows outside a column's interval or breaking a cross-constraint.

        ``columns`` are ``theta`` and ``forcing`` column by column (``column_major``). Returns the
        rows within every column's interval and what ``_prepare`` made of them (the
        cross-constraints are checked on those rows, with it).
        """
        for what, metas, matrix, by_column in (("parameter", self.parameters, theta, columns[0]),
                                               ("driver", self.drivers, forcing, columns[1])):
            outside = _outside_columns(by_column, metas)
            if outside is None:
                continue
            for j, i in np.argwhere(outside):  # a row's columns in order
                meta = metas[j]
                _add_failure(
                    status, messages, i, Status.OUT_OF_DOMAIN,
                    f"{what} {meta.name}={float(matrix[i, j])!r} [{meta.units}] outside {meta.interval}",
                )
        valid = np.flatnonzero(status == Status.OK)
        if not valid.size:
            return valid, None
        every = valid.size == status.size
        sub = (theta, forcing) if every else (_readonly(theta[valid]), _readonly(forcing[valid]))
        prepared = None
        if type(self)._prepare is not BaseAdapter._prepare:
            named = [dict(zip(names, c if every else _readonly(c[:, valid])))
                     for names, c in zip((self.parameter_names, self.driver_names), columns)]
            # what the solver will use too: overflow is flagged row by row there, not warned about here
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                prepared = self._prepare(*named)
        for mask, texts in self._domain_violations(*sub, **_given(prepared)):
            for k in np.flatnonzero(mask):
                text = texts.get(int(k), Status.OUT_OF_DOMAIN.label)
                _add_failure(status, messages, valid[k], Status.OUT_OF_DOMAIN, text)
        return valid, prepared

    def _flag_pools(self, pools, status, messages) -> None:
        """``NON_FINITE`` and ``NEGATIVE_POOL`` for rows still OK."""
        ok = status == Status.OK
        checked = pools if ok.all() else pools[ok]
        if not checked.size or (checked.min() >= 0.0 and checked.max() < np.inf):  # NaN fails both
            return
        nonfinite = ok & ~np.isfinite(pools).all(axis=1)
        for i in np.flatnonzero(nonfinite):
            bad = [n for n, v in zip(self.pool_names, pools[i]) if not np.isfinite(v)]
            _add_failure(status, messages, i, Status.NON_FINITE, f"non-finite pools: {', '.join(bad)}")
        negative = (status == Status.OK) & (pools < 0).any(axis=1)
        for i in np.flatnonzero(negative):
            bad = [f"{n}={v:.6g}" for n, v in zip(self.pool_names, pools[i]) if v < 0]
            _add_failure(status, messages, i, Status.NEGATIVE_POOL, f"negative pools: {', '.join(bad)} g C m-2")

    def _checked_fluxes(self, fluxes: Mapping[str, Any], n_rows: int) -> dict[str, np.ndarray]:
        """Every flux as a float array of shape (n_rows,); raise if a loss flux is missing."""
        missing = [name for name in self.loss_fluxes if name not in fluxes]
        if missing:
            raise AdapterValidationError(
                f"{self.name}._tendencies must return every loss flux ({', '.join(self.loss_fluxes)}) "
                f"[g C m-2 yr-1]; missing {', '.join(missing)} (zeros if the model has no such loss)"
            )
        return {name: np.broadcast_to(np.asarray(v, dtype=float), (n_rows,)) for name, v in fluxes.items()}

    def _flag_non_finite(self, rows, dpools, fluxes, outputs, status, messages) -> None:
        """``NON_FINITE`` for rows with a non-finite tendency, flux or harmonised output."""
        dpools = np.asarray(dpools, dtype=float)
        if all(np.isfinite(values).all() for values in (dpools, *outputs.values(), *fluxes.values())):
            return
        groups = (("dX/dt of pools", self.pool_names, dpools),
                  ("fluxes", tuple(fluxes), np.column_stack(list(fluxes.values()))),  # the loss fluxes at least
                  ("outputs", self.outputs, np.column_stack([outputs[n] for n in self.outputs])
                   if self.outputs else dpools[:, :0]))
        finite = [np.isfinite(values) for _, _, values in groups]
        bad = ~np.logical_and.reduce([f.all(axis=1) for f in finite])
        for k in np.flatnonzero(bad):
            texts = [f"{what}: " + ", ".join(f"{n}={float(v)!r}" for n, v, f in zip(names, values[k], ok[k]) if not f)
                     for (what, names, values), ok in zip(groups, finite) if not ok[k].all()]
            _add_failure(status, messages, rows[k], Status.NON_FINITE, "non-finite " + "; ".join(texts))

    def _flag_implausible(self, rows, outputs, status, messages) -> None:
        """``IMPLAUSIBLE`` for rows still OK with an output outside ``plausible_outputs``."""
        for name in self.outputs:
            if name not in self.plausible_outputs:
                continue
            lower, upper = self.plausible_outputs[name]
            values = outputs[name]
            if values.size and values.min() >= lower and values.max() <= upper:  # NaN fails: checked row by row
                continue
            bad = ((values < lower) | (values > upper)) & _still_ok(status, rows)
            for k in np.flatnonzero(bad):
                _add_failure(status, messages, rows[k], Status.IMPLAUSIBLE,
                             f"{name} = {float(values[k]):.6g} [{OUTPUTS[name][0]}] outside the plausible "
                             f"[{lower:g}, {upper:g}] (adapter.plausible_outputs)")

    def _flag_residual(self, rows, c_input, dpools, status, messages) -> None:
        """``NOT_CONVERGED`` for rows still OK whose max|dX/dt| / c_input exceeds ``residual_rtol``."""
        dpools = np.asarray(dpools, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            # the largest |dX/dt| / c_input of the batch: x -> x / c is monotone, so it is at most
            # residual_rtol exactly when every row's max|dX/dt| / c_input is (NaN fails the test)
            if not dpools.size or (np.abs(dpools) / c_input[:, None]).max() <= self.residual_rtol:
                return
            residual = np.abs(dpools).max(axis=1, initial=0.0) / c_input
        bad = ~(residual <= self.residual_rtol) & _still_ok(status, rows)
        for k in np.flatnonzero(bad):
            _add_failure(
                status, messages, rows[k], Status.NOT_CONVERGED,
                f"max|dX/dt|/c_input = {residual[k]:.3g} at the returned state exceeds "
                f"{self.residual_rtol:g}",
            )

    def _flag_mass_balance(self, rows, c_input, fluxes, status, messages) -> None:
        """``MASS_BALANCE`` for rows still OK whose losses miss ``c_input`` by more than the tolerance."""
        losses = [fluxes[name] for name in self.loss_fluxes]
        total = losses[0] if len(losses) == 1 else np.add.reduce(losses)
        gap = c_input - total
        tolerance = self.mass_balance_rtol
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.abs(gap) / c_input
        bad = ~(relative <= tolerance) & _still_ok(status, rows)
        expression = " - ".join(("c_input", *self.loss_fluxes))
        for k in np.flatnonzero(bad):
            parts = ", ".join(f"{n} {float(v[k]):.6g}" for n, v in zip(self.loss_fluxes, losses))
            _add_failure(
                status, messages, rows[k], Status.MASS_BALANCE,
                f"carbon input c_input = {float(c_input[k]):.6g} g C m-2 yr-1 but losses = "
                f"{float(total[k]):.6g} ({parts}): the gap ({expression}) at the steady state is "
                f"{float(gap[k]):.6g} g C m-2 yr-1, {float(relative[k]):.3g} of c_input (tolerance {tolerance:g})",
            )


def _stack_parts(parts: Sequence[SteadyStateParts | Exception],
                 raised: Callable[[Exception, Sequence[str]], SteadyStateParts]) -> SteadyStateParts:
    """Rows solved alone (or the exceptions they raised, made parts by ``raised``) stacked in order.

    ``dpools`` and ``fluxes`` are kept when every solved row gave them with the same flux names.
    """
    solved = [p for p in parts if isinstance(p, SteadyStateParts)]
    names = tuple(solved[0].fluxes or ()) if solved else ()
    kept = bool(names) and all(tuple(p.fluxes or ()) == names for p in solved)
    rows = [p if isinstance(p, SteadyStateParts) else raised(p, names if kept else ()) for p in parts]
    messages = np.array([str(p.message[0]) if p.message is not None else "" for p in rows], dtype=object)
    pools = np.concatenate([p.pools for p in rows])
    status = np.concatenate([np.asarray(p.status) for p in rows])
    if not kept:
        return SteadyStateParts(pools, status, messages)
    dpools = np.concatenate([np.asarray(p.dpools, dtype=float).reshape(1, -1) for p in rows])
    fluxes = {n: np.concatenate([np.broadcast_to(np.asarray((p.fluxes or {})[n], dtype=float), (1,)) for p in rows])
              for n in names}
    return SteadyStateParts(pools, status, messages, dpools, fluxes)


def _outside_columns(columns: np.ndarray, metas: Sequence[Parameter | Driver]) -> np.ndarray | None:
    """Mask of entries outside their column's declared interval (NaN allowed where optional); None if none is.

    ``columns`` holds one column per row, shape (n_cols, n_rows) (``column_major``); so does the mask.
    A column whose least and greatest values lie within its bounds is inside everywhere (NaN fails
    both comparisons): only the others are compared entry by entry.
    """
    if not metas or not columns.shape[1]:
        return None
    lower, upper = _closed_bounds(metas)
    with np.errstate(invalid="ignore"):
        within = (columns.min(axis=1) >= lower) & (columns.max(axis=1) <= upper)
    suspects = np.flatnonzero(~within)
    if not suspects.size:
        return None
    values = columns[suspects]
    inside = values >= lower[suspects, None]  # NaN compares False
    inside &= values <= upper[suspects, None]
    for k, j in enumerate(suspects.tolist()):
        if metas[j].optional:
            inside[k] |= np.isnan(values[k])
    if inside.all():
        return None
    outside = np.zeros(columns.shape, dtype=bool)
    outside[suspects] = ~inside
    return outside


def _closed_bounds(metas: Sequence[Parameter | Driver]) -> tuple[np.ndarray, np.ndarray]:
    """The closed bounds ``lower <= x <= upper`` that admit exactly the floats each column's interval admits.

    An open bound moves to the next float inwards, and so does an infinite one (an interval admits
    only finite values): ``Interval.contains`` for every column in two comparisons.
    """
    lower = np.array([m.interval.lower for m in metas], dtype=float)
    upper = np.array([m.interval.upper for m in metas], dtype=float)
    open_lower = np.array([m.interval.open_bounds[0] for m in metas], dtype=bool) | np.isinf(lower)
    open_upper = np.array([m.interval.open_bounds[1] for m in metas], dtype=bool) | np.isinf(upper)
    return (np.where(open_lower, np.nextafter(lower, np.inf), lower),
            np.where(open_upper, np.nextafter(upper, -np.inf), upper))


#: rows per block of ``column_major``: a block of a few dozen columns (~100 kB) stays in the caches
_TRANSPOSE_ROWS = 512


def column_major(matrix: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The columns of a 2-D array as the rows of a copy, shape (n_cols, n_rows), each row contiguous.

    Copied in blocks of ``_TRANSPOSE_ROWS`` rows: for a tall ``theta`` 4-5x faster than
    ``np.ascontiguousarray(matrix.T)``, whose column-by-column reads miss the cache. An adapter
    reads its parameter and driver columns from it (operations on contiguous columns are several
    times faster than on the strided columns of ``theta``). ``out``: where to copy (by default a
    new C-contiguous array; an F-ordered ``matrix`` is then returned transposed, not copied).
    """
    matrix = np.asarray(matrix)
    if out is None and matrix.flags.f_contiguous:
        return np.ascontiguousarray(matrix.T)
    if out is None:
        out = np.empty(matrix.shape[::-1], dtype=matrix.dtype)
    for start in range(0, matrix.shape[0], _TRANSPOSE_ROWS):
        out[:, start : start + _TRANSPOSE_ROWS] = matrix[start : start + _TRANSPOSE_ROWS].T
    return out


def _row_sum(matrix: np.ndarray, columns: np.ndarray, picked: Sequence[int]) -> np.ndarray:
    """``matrix[:, picked].sum(axis=1)`` bit for bit, from ``columns = column_major(matrix)``.

    numpy sums fewer than 8 values per row one after another from 0.0 (its pairwise summation
    starts at 8 values), which contiguous column additions reproduce without gathering the columns;
    8 or more are left to numpy.
    """
    if len(picked) >= 8:
        return matrix[:, list(picked)].sum(axis=1)
    total = np.zeros(matrix.shape[0])
    for j in picked:
        total += columns[j]
    return total


def _given(prepared: Any) -> dict[str, Any]:
    """The keyword argument passing ``prepared`` to a hook; none for an adapter that prepares nothing."""
    return {} if prepared is None else {"prepared": prepared}


def _still_ok(status: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mask over ``rows`` (sorted, distinct) of the rows whose status is still ``OK``."""
    return status == Status.OK if rows.size == status.size else status[rows] == Status.OK


def _take(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Read-only rows of ``array``: the array itself when ``rows`` are all of them (no copy)."""
    return array if rows.size == array.shape[0] else _readonly(array[rows])


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _add_failure(status: np.ndarray, messages: dict[int, str], row: int | np.integer, code: Status,
                 text: str) -> None:
    """Fail ``row`` with ``code`` unless it failed already, and append ``text`` to its message."""
    row = int(row)
    if status[row] == Status.OK:
        status[row] = code
    earlier = messages.get(row)
    messages[row] = f"{earlier}; {text}" if earlier else text


def _message_array(n_rows: int, messages: Mapping[int, str]) -> np.ndarray:
    """The message of every row, shape (n_rows,) object: ``messages`` of the failed rows, "" elsewhere."""
    message = np.full(n_rows, "", dtype=object)
    for row, text in messages.items():
        message[row] = text
    return message


def _checked_anchor(model: BaseAdapter) -> dict[str, float]:
    """The option ``anchor`` of an adapter with ``beta_rescale`` as floats in driver order [shared units].

    Raises ``ParameterError`` for a name that is not a driver of ``model``, a value that is not a
    finite real number (NaN is accepted for an optional driver: absent), or an empty anchor under
    ``beta_rescale = 'site'``.
    """
    anchor, drivers = model._options["anchor"], {d.name: d for d in model.drivers}
    for name, value in anchor.items():
        if name not in drivers:
            raise ParameterError(f"option 'anchor': {name!r} is not a driver of {model.name}; "
                                 f"its drivers are {', '.join(drivers)}")
        real = isinstance(value, Real) and not isinstance(value, bool)
        if not (real and (math.isfinite(value) or (math.isnan(value) and drivers[name].optional))):
            raise ParameterError(f"option 'anchor': {name}={value!r} must be a finite number "
                                 f"[{drivers[name].units}]")
    if model._options.get("beta_rescale") == BetaRescale.SITE and not anchor:
        raise ParameterError(f"{model.name}: beta_rescale 'site' needs an anchor site: pass anchor={{driver: "
                             "value} (harness.members.build_member passes the scenario's baseline drivers), or use "
                             "'reference'")
    return {name: float(anchor[name]) for name in drivers if name in anchor}


def anchor_violations(model: BaseAdapter, checks, theta: np.ndarray, anchor: np.ndarray,
                       rescaled: np.ndarray) -> list[tuple[np.ndarray, dict[int, str]]]:
    """Domain violations of the ``rescaled`` rows at the anchor forcing ``anchor`` (beta_rescale 'site').

    Its driver ranges, then ``checks(theta, anchor)``, the model's cross-constraints.
    """
    prefix = "beta_rescale 'site': at the anchor site, "
    found = [violation(rescaled, f"{prefix}driver {d.name}={float(value)!r} [{d.units}] is outside {d.interval}")
             for d, value in zip(model.drivers, anchor[0]) if not d.contains(np.array([value]))[0]]
    if found or not rescaled.any():
        return found
    return [(mask & rescaled, {i: prefix + text for i, text in texts.items() if rescaled[i]})
            for mask, texts in checks(theta, anchor)]


def metadata_problems(adapter: BaseAdapter) -> list[str]:
    """Everything wrong with an adapter's declared metadata (empty when complete)."""
    problems: list[str] = []
    for attr in ("name", "description", "reference", "steady_state_method"):
        if not getattr(adapter, attr, ""):
            problems.append(f"class attribute {attr!r} is empty")
    problems += _name_problems("parameter", adapter.parameters)
    problems += _name_problems("driver", adapter.drivers)
    problems += _name_problems("pool", adapter.pools)
    for p in adapter.parameters:
        if not (p.units and p.description and p.reference):
            problems.append(f"parameter {p.name!r} needs units, description and reference")
        if not isinstance(p.interval, Interval):
            problems.append(f"parameter {p.name!r} must declare Interval(lower, upper, open_bounds); "
                            f"got {p.interval!r}")
            continue
        lo, hi = p.interval.lower, p.interval.upper
        if not lo <= hi:
            problems.append(f"parameter {p.name!r} has bounds {(lo, hi)} with lower > upper")
        elif not p.contains(np.array([p.default]))[0]:
            problems.append(f"parameter {p.name!r} default {p.default!r} is outside {p.interval}")
    for d in adapter.drivers:
        if d.name not in DRIVERS:
            problems.append(unknown_message("driver", d.name, DRIVERS) + " (use the shared vocabulary)")
        elif d.units != DRIVERS[d.name][0]:
            problems.append(f"driver {d.name!r} must be in {DRIVERS[d.name][0]!r}; declared {d.units!r}")
        if not isinstance(d.interval, Interval):
            problems.append(f"driver {d.name!r} must declare Interval(lower, upper, open_bounds); got {d.interval!r}")
            continue
        if d.default is not None and not d.contains(np.array([d.default]))[0]:
            problems.append(f"driver {d.name!r} default {d.default!r} is outside {d.interval}")
    c_input = [d for d in adapter.drivers if d.name == "c_input"]
    if not c_input:
        problems.append("every adapter must represent the driver 'c_input'")
    elif isinstance(c_input[0].interval, Interval) and c_input[0].contains(np.array([0.0]))[0]:
        problems.append("driver 'c_input' must exclude 0 (open lower bound at 0): steady-state "
                        "residuals are measured relative to it")
    losses = tuple(adapter.loss_fluxes)
    missing = [name for name in LOSS_FLUXES if name not in losses]
    if missing or len(set(losses)) != len(losses) or not all(_SNAKE.match(n) for n in losses):
        problems.append(f"loss_fluxes {losses!r} must name distinct snake_case fluxes of _tendencies, "
                        f"including {', '.join(LOSS_FLUXES)}")
    for pool in adapter.pools:
        if pool.kind not in POOL_KINDS:
            problems.append(f"pool {pool.name!r} has kind {pool.kind!r}; use one of {sorted(POOL_KINDS)}")
        if pool.units != "g C m-2":
            problems.append(f"pool {pool.name!r} must be reported in 'g C m-2'; declared {pool.units!r}")
    for out in adapter.outputs:
        if out not in OUTPUTS:
            problems.append(unknown_message("output", out, OUTPUTS))
    for opt in adapter.options:
        if not _SNAKE.match(opt.name) or not opt.description:
            problems.append(f"option {opt.name!r} needs a snake_case name and a description")
    return problems


def _name_problems(what: str, items: Sequence[Any]) -> list[str]:
    names = [item.name for item in items]
    problems = [f"{what} name {n!r} is not snake_case" for n in names if not _SNAKE.match(n)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    problems += [f"{what} name {n!r} is declared twice" for n in dupes]
    return problems


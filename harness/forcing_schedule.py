"""Time-varying forcing for transient runs: declarative changes of drivers, vectorised over rows.

A schedule is a base forcing (n, n_drivers) [shared units] and an ordered list of changes, each of
one driver (column):

- :class:`Perturbation`: a step or a linear ramp of a factor (``scale``: ``c_input`` x 1.2, or 0
  for litter removal) or of an offset (``shift``: warming by +2 degC);
- :class:`TableForcing`: a table of times [yr] and values, linearly interpolated and constant
  beyond its ends, taken as the driver itself (``absolute``), as a factor on it (``scale``) or as
  an offset (``shift``); read from CSV (:func:`table_from_csv`) or CF netCDF
  (:func:`table_from_netcdf`), with units converted by :mod:`harness.units`.

Changes are applied in the order given, each to the column left by the previous ones. Every
change is piecewise linear in time; its kinks and jumps are its ``breakpoints`` [yr], where an
integrator must stop and restart (:func:`harness.transient.integrate`). A step at ``start`` takes
effect at ``start`` itself: the forcing is right-continuous.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .csv_table import read_csv
from .errors import DriverError, InputFileError, unknown_message
from .units import conversion
from .vocabulary import DRIVERS

if TYPE_CHECKING:
    from .adapter import BaseAdapter

__all__ = ["MODES", "Perturbation", "Schedule", "TableForcing", "schedule", "table_from_csv", "table_from_netcdf"]

#: how a table's values act on its driver: the driver itself, a factor on it, an offset added to it
MODES = ("absolute", "scale", "shift")
#: days per year of the CF calendars ("days since ..." -> years); the standard ones use the
#: Julian year of ``harness.units`` (365.25 d)
_DAYS_PER_YEAR = {"standard": 365.25, "gregorian": 365.25, "proleptic_gregorian": 365.25, "julian": 365.25,
                  "noleap": 365.0, "365_day": 365.0, "all_leap": 366.0, "366_day": 366.0, "360_day": 360.0}
#: seconds of the time units CF allows before "since"
_SECONDS = {"second": 1.0, "seconds": 1.0, "sec": 1.0, "secs": 1.0, "s": 1.0,
            "minute": 60.0, "minutes": 60.0, "min": 60.0, "mins": 60.0,
            "hour": 3600.0, "hours": 3600.0, "hr": 3600.0, "hrs": 3600.0, "h": 3600.0,
            "day": 86400.0, "days": 86400.0, "d": 86400.0}
_YEARS = {"year": 1.0, "years": 1.0, "yr": 1.0, "yrs": 1.0, "a": 1.0, "month": 1.0 / 12.0, "months": 1.0 / 12.0}


@dataclass(frozen=True)
class Perturbation:
    """A step or ramp change of one driver, the same for every row.

    The driver becomes ``base (1 + (scale - 1) w(t))`` (``scale``) or ``base + shift w(t)``
    (``shift``), where ``w`` is 0 before ``start`` [yr], rises linearly to 1 over ``ramp`` [yr]
    and is 1 after (``ramp`` 0: a step at ``start``). Exactly one of ``scale`` [1] and ``shift``
    [driver units] is given.
    """

    driver: str
    scale: float | None = None
    shift: float | None = None
    start: float = 0.0
    ramp: float = 0.0

    def __post_init__(self) -> None:
        """Check that exactly one of scale and shift is given and that every number is finite."""
        if (self.scale is None) == (self.shift is None):
            raise DriverError(f"Perturbation of {self.driver!r}: give exactly one of scale (a factor, e.g. 1.2) "
                              f"and shift (an offset in the driver's units, e.g. 2.0); got scale={self.scale!r}, "
                              f"shift={self.shift!r}")
        amount = self.scale if self.scale is not None else self.shift
        for name, value in (("scale" if self.scale is not None else "shift", amount), ("start", self.start),
                            ("ramp", self.ramp)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise DriverError(f"Perturbation of {self.driver!r}: {name} must be a finite number; got {value!r}")
        if self.ramp < 0:
            raise DriverError(f"Perturbation of {self.driver!r}: ramp must be >= 0 [yr]; got {self.ramp!r}")

    @property
    def breakpoints(self) -> tuple[float, ...]:
        """Times where the change jumps or kinks [yr]: ``start`` (and ``start + ramp`` for a ramp)."""
        return (float(self.start),) if self.ramp == 0 else (float(self.start), float(self.start + self.ramp))

    def weight(self, t: float) -> float:
        """``w(t)`` in [0, 1] [1]."""
        if self.ramp == 0:
            return 1.0 if t >= self.start else 0.0
        return min(max((t - self.start) / self.ramp, 0.0), 1.0)

    def apply(self, column: np.ndarray, t: float) -> np.ndarray:
        """The driver's values at ``t`` from its values ``column`` (n,) before this change [driver units]."""
        w = self.weight(t)
        if self.scale is not None:
            return column * (1.0 + (self.scale - 1.0) * w)
        return column + float(self.shift or 0.0) * w

    def take(self, rows: np.ndarray) -> Perturbation:
        """The same change for a subset of rows (it is the same for every row)."""
        return self


@dataclass(frozen=True, eq=False)
class TableForcing:
    """A driver given by a table of times and values, linearly interpolated and constant beyond its ends.

    Parameters
    ----------
    driver : str
        The driver (a name of ``vocabulary.DRIVERS``).
    times : array_like, shape (k,)
        Strictly increasing times [yr] (run time: 0 is the start of the run).
    values : array_like, shape (k,) or (n, k)
        One value per time, the same for every row or one series per row: the driver [driver units]
        (``absolute``), a factor on its base value [1] (``scale``) or an offset added to it
        [driver units] (``shift``).
    mode : str
        One of ``MODES``.
    source : str
        Where the table comes from (a file and column), for messages.
    """

    driver: str
    times: np.ndarray
    values: np.ndarray
    mode: str = "absolute"
    source: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        """Check and freeze the table: floats, finite, increasing times, one value per time."""
        where = self.source or f"table of {self.driver!r}"
        if self.mode not in MODES:
            raise DriverError(f"{where}: mode must be one of {', '.join(MODES)}; got {self.mode!r}")
        times = np.array(self.times, dtype=float)
        values = np.array(self.values, dtype=float)
        if times.ndim != 1 or times.size < 1:
            raise DriverError(f"{where}: times must be a 1-D array of at least one time [yr]; got shape {times.shape}")
        if values.ndim not in (1, 2) or values.shape[-1] != times.size:
            raise DriverError(f"{where}: values must have shape ({times.size},) or (n_rows, {times.size}), one per "
                              f"time; got shape {values.shape}")
        if not np.isfinite(times).all() or not (np.diff(times) > 0).all():
            raise DriverError(f"{where}: times must be finite and strictly increasing [yr]")
        bad = np.flatnonzero(~np.isfinite(values).all(axis=0) if values.ndim == 2 else ~np.isfinite(values))
        if bad.size:
            raise DriverError(f"{where}: missing or non-finite values at time {times[bad[0]]:g} yr "
                              f"({bad.size} of {times.size} times); fill or drop them")
        times.setflags(write=False)
        values.setflags(write=False)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "values", values)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        """The table's times [yr]: the linear interpolation kinks there."""
        return tuple(float(t) for t in self.times)

    def at(self, t: float) -> float | np.ndarray:
        """The table at ``t``: a number, or one per row (n,) for a table of one series per row."""
        times = self.times
        if times.size == 1 or t <= times[0]:
            return self.values[..., 0]
        if t >= times[-1]:
            return self.values[..., -1]
        i = int(np.searchsorted(times, t, side="right")) - 1
        w = (t - times[i]) / (times[i + 1] - times[i])
        return self.values[..., i] * (1.0 - w) + self.values[..., i + 1] * w

    def apply(self, column: np.ndarray, t: float) -> np.ndarray:
        """The driver's values at ``t`` from its values ``column`` (n,) before this change [driver units]."""
        value = self.at(t)
        if self.mode == "absolute":
            return np.broadcast_to(value, column.shape).astype(float)
        return column * value if self.mode == "scale" else column + value

    def take(self, rows: np.ndarray) -> TableForcing:
        """The table for a subset of rows (its own rows of a table of one series per row)."""
        if self.values.ndim == 1:
            return self
        return TableForcing(self.driver, self.times, self.values[rows], self.mode, self.source)


Change = Perturbation | TableForcing


@dataclass(frozen=True, eq=False)
class Schedule:
    """The forcing of every row at any time: ``schedule(t)`` -> (n, n_drivers) [shared units].

    ``base`` is the forcing without changes (read-only), ``changes`` the (column, change) pairs in
    the order they apply and ``breakpoints`` every change's times where it jumps or kinks [yr],
    sorted and distinct. Built by :func:`schedule`.
    """

    base: np.ndarray
    changes: tuple[tuple[int, Change], ...]
    breakpoints: tuple[float, ...]

    def __call__(self, t: float) -> np.ndarray:
        """The forcing at time ``t`` [yr], shape (n, n_drivers) (a new array)."""
        forcing = self.base.copy()
        for j, change in self.changes:
            forcing[:, j] = change.apply(forcing[:, j], float(t))
        return forcing

    def take(self, rows: np.ndarray) -> Schedule:
        """The schedule of a subset of rows (an index array)."""
        return Schedule(_frozen(self.base[rows]), tuple((j, c.take(rows)) for j, c in self.changes), self.breakpoints)


def schedule(adapter: BaseAdapter, forcing_base: np.ndarray,
             perturbations: Sequence[Change]) -> tuple[Schedule, tuple[float, ...]]:
    """The forcing of a transient run and its breakpoints.

    Parameters
    ----------
    adapter : BaseAdapter
        The model: every change must name one of its drivers.
    forcing_base : ndarray, shape (n, n_drivers)
        The forcing without changes [shared units].
    perturbations : sequence of Perturbation or TableForcing
        The changes, applied in this order (each to the column the previous ones left).

    Returns
    -------
    forcing_at : Schedule
        ``forcing_at(t)`` -> (n, n_drivers) [shared units] at time ``t`` [yr].
    breakpoints : tuple of float
        Times where the forcing jumps or kinks [yr], sorted and distinct.

    Raises
    ------
    DriverError
        A driver the adapter does not have, a base forcing of the wrong shape, or a table of one
        series per row with another number of rows.
    """
    base = np.array(forcing_base, dtype=float)
    names = adapter.driver_names
    if base.ndim != 2 or base.shape[1] != len(names):
        raise DriverError(f"{adapter.name}: forcing_base must have shape (n_sets, {len(names)}) with columns "
                          f"{list(names)}; got shape {base.shape}")
    changes = []
    for change in perturbations:
        if not isinstance(change, Perturbation | TableForcing):
            raise DriverError(f"a change of the forcing must be a Perturbation or a TableForcing; got {change!r}")
        if change.driver not in names:
            raise DriverError(unknown_message(f"driver of {adapter.name}", change.driver, names))
        if isinstance(change, TableForcing) and change.values.ndim == 2 and change.values.shape[0] != base.shape[0]:
            raise DriverError(f"{change.source or 'table of ' + repr(change.driver)}: one series per row needs "
                              f"{base.shape[0]} rows (the forcing's); got {change.values.shape[0]}")
        changes.append((names.index(change.driver), change))
    breakpoints = tuple(sorted({t for _, change in changes for t in change.breakpoints}))
    return Schedule(_frozen(base), tuple(changes), breakpoints), breakpoints


def table_from_csv(path: str | Path, driver: str, units: str, *, time_column: str = "time",
                   value_column: str | None = None, time_units: str = "yr", mode: str = "absolute") -> TableForcing:
    """A table read from two columns of a CSV file with a header line.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    driver : str
        The driver (``vocabulary.DRIVERS``); its values are converted to the driver's units.
    units : str
        Units of the value column, e.g. ``"K"``, ``"kg C m-2 s-1"``; ``"1"`` for factors.
    time_column : str
        The column of times, strictly increasing.
    value_column : str or None
        The column of values (default: the driver's name).
    time_units : str
        Units of the times (``yr``, ``d``, ``s``, ...); converted to years (365.25 d).
    mode : str
        ``absolute``, ``scale`` or ``shift`` (see :class:`TableForcing`).

    Returns
    -------
    TableForcing

    Raises
    ------
    DriverError
        A file that is not a clean CSV table (``csv_table.read_csv``), an unknown driver or mode,
        a missing column, a cell that is not a number, or units that cannot be converted (the
        message names the file, the line or column, and how to fix it).
    """
    path = Path(path)
    column = value_column or driver
    target = _target_units(driver, mode, f"{path.name}")
    try:
        table = read_csv(path, str(path))
    except InputFileError as exc:
        raise DriverError(f"{exc.message}. Fix: {exc.hint}" if exc.hint else exc.message) from exc
    header = [name.strip() for name in table.header]
    for name in (time_column, column):
        if name not in header:
            raise DriverError(f"{path}: no column {name!r}; the header has {', '.join(map(repr, header))}. Fix: name "
                              f"the columns in the header, or pass time_column= / value_column=")
    j_time, j_value = header.index(time_column), header.index(column)
    times, values = [], []
    for line, cells in table.rows:
        try:
            times.append(float(cells[j_time]))
            values.append(float(cells[j_value]))
        except ValueError as exc:
            raise DriverError(f"{path}:{line}: columns {time_column!r} and {column!r} must hold numbers "
                              f"({exc})") from exc
    where = f"{path}: column {column!r}"
    years = np.asarray(times) * _time_factor(time_units, f"{path}: column {time_column!r}")
    converted = _converted(np.asarray(values), units, target, mode, where, "pass units= with the column's units")
    return TableForcing(driver, years, converted, mode, where)


def table_from_netcdf(path: str | Path, variable: str, driver: str | None = None, *, mode: str = "absolute",
                      origin: float = 0.0) -> TableForcing:
    """A table read from a CF netCDF variable over time.

    The variable has dimensions ``(time,)`` (the same series for every row) or ``(time, row)``
    (one series per row), a ``units`` attribute (converted to the driver's units) and a time
    coordinate variable with ``units`` in years, days, ... or CF's ``"<unit> since <date>"``
    (its ``calendar`` fixes the days per year: 365.25 for the standard calendars, 365 ``noleap``,
    366 ``all_leap``, 360 ``360_day``).

    Parameters
    ----------
    path : str or Path
        The netCDF file.
    variable : str
        The variable to read.
    driver : str or None
        The driver it gives (default: the variable's name).
    mode : str
        ``absolute``, ``scale`` or ``shift`` (see :class:`TableForcing`).
    origin : float
        The time of the file (in years, after conversion) that is time 0 of the run: the run's
        times are the file's minus ``origin`` [yr]. For ``"days since 2000-01-01"``, 0 makes that
        date the start.

    Returns
    -------
    TableForcing

    Raises
    ------
    DriverError
        An unreadable file, a missing variable or time coordinate, a missing ``units`` attribute or
        units that cannot be converted (the message names the file, the variable and how to fix it).
    """
    import netCDF4  # lazily: netCDF4 is slow to import and only the readers need it

    path = Path(path)
    driver = driver or variable
    target = _target_units(driver, mode, f"{path.name}: variable {variable!r}")
    try:
        ds = netCDF4.Dataset(path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise DriverError(f"cannot read {path} as netCDF: {exc}; check the file with `ncdump -h`") from exc
    with ds:
        if variable not in ds.variables:
            raise DriverError(f"{path}: no variable {variable!r}; the file has {', '.join(sorted(ds.variables))}")
        var = ds.variables[variable]
        where = f"{path}: variable {variable!r}"
        if var.ndim not in (1, 2):
            raise DriverError(f"{where} has dimensions {var.dimensions}; expected (time,) or (time, row)")
        time_dim = var.dimensions[0]
        if time_dim not in ds.variables:
            raise DriverError(f"{where}: its first dimension {time_dim!r} has no coordinate variable; add one with "
                              f"the times and units such as 'days since 2000-01-01'")
        time_var = ds.variables[time_dim]
        time_units = getattr(time_var, "units", None)
        if time_units is None:
            raise DriverError(f"{path}: the time coordinate {time_dim!r} has no units attribute; add it, e.g. "
                              f"`ncatted -a units,{time_dim},c,c,'days since 2000-01-01' FILE`")
        years = _cf_years(_read(time_var, path), str(time_units), str(getattr(time_var, "calendar", "standard")),
                          f"{path}: time coordinate {time_dim!r}") - origin
        units = getattr(var, "units", None)
        if units is None:
            raise DriverError(f"{where} has no units attribute; add it, e.g. "
                              f"`ncatted -a units,{variable},c,c,'{target}' FILE`")
        values = _read(var, path)
    converted = _converted(values.T if values.ndim == 2 else values, str(units), target, mode, where,
                           f"fix the variable's units attribute (`ncatted -a units,{variable},o,c,'{target}' FILE`) "
                           f"if it is wrong")
    return TableForcing(driver, years, converted, mode, where)


def _read(var: Any, path: Path) -> np.ndarray:
    """The values of a netCDF variable as floats, missing ones NaN."""
    try:
        return np.ma.filled(np.ma.asarray(var[:], dtype=float), np.nan)
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        raise DriverError(f"{path}: variable {var.name!r} cannot be read as numbers ({exc})") from exc


def _target_units(driver: str, mode: str, where: str) -> str:
    """The units a table's values must be converted to: the driver's, or ``1`` for factors."""
    if driver not in DRIVERS:
        raise DriverError(f"{where}: " + unknown_message("driver", driver, DRIVERS))
    if mode not in MODES:
        raise DriverError(f"{where}: mode must be one of {', '.join(MODES)}; got {mode!r}")
    return "1" if mode == "scale" else DRIVERS[driver][0]


def _converted(values: np.ndarray, units: str, target: str, mode: str, where: str, fix: str) -> np.ndarray:
    """``values`` in ``units`` converted to ``target`` (offsets, e.g. K -> degC, only for absolute values)."""
    found = conversion(units, target)
    if found is None:
        what = "factors" if mode == "scale" else f"{'differences' if mode == 'shift' else 'values'} in {target!r}"
        raise DriverError(f"{where} is in {units!r}, which cannot be converted to {target!r}: mode {mode!r} needs "
                          f"{what}. Fix: convert the data to {target!r} (or a convertible unit) or {fix}")
    scale, offset = found
    return values * scale + (offset if mode == "absolute" else 0.0)


def _time_factor(units: str, where: str) -> float:
    """Years per time unit of plain time units (``yr``, ``d``, ``s``)."""
    found = conversion(units, "yr")
    if found is None:
        raise DriverError(f"{where}: time units {units!r} cannot be converted to 'yr'. Fix: give times in yr, d or "
                          "s (time_units=)")
    return found[0]


def _cf_years(values: np.ndarray, units: str, calendar: str, where: str) -> np.ndarray:
    """CF times (``"days since 2000-01-01"`` or plain ``yr``, ``d``) in years after the reference date."""
    if " since " not in units:
        return values * _time_factor(units, where)
    unit = units.split(" since ", 1)[0].strip().lower()
    if unit in _YEARS:
        return values * _YEARS[unit]
    days_per_year = _DAYS_PER_YEAR.get(calendar.strip().lower())
    if unit not in _SECONDS or days_per_year is None:
        raise DriverError(f"{where}: cannot convert {units!r} (calendar {calendar!r}) to years. Fix: use seconds, "
                          f"minutes, hours, days or years since a date, in one of the calendars "
                          f"{', '.join(_DAYS_PER_YEAR)}")
    return values * _SECONDS[unit] / (86400.0 * days_per_year)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array

"""The ``transient`` section (kind ``transient``) and the ``response`` section (kinds sobol, local, sweep).

A perturbation experiment changes drivers from the steady state on: ``scale`` multiplies a driver
(``c_input: {scale: 1.2}``: inputs +20 %; ``scale: 0``: litter removal), ``shift`` adds to it
(``temperature: {shift: 2}``: warming by 2 degC), ``table`` reads it from a CSV or CF netCDF file
over time. A change starts at ``start`` [yr] as a step, or rises linearly over ``ramp`` [yr].

    transient:
      experiments:
        input_plus_20: {years: 50, change: {c_input: {scale: 1.2}}}
        warming:       {years: 100, change: {temperature: {shift: 2.0, ramp: 20}}}
      at: [10, 25, 50]

    response:          # sobol, local or sweep analyse this instead of the steady state
      experiment: {years: 50, change: {c_input: {scale: 1.2}}}
      measure: ratio   # output(50 yr) / output(0): [1]; `change`: output(50 yr) - output(0) [output units]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .positions import join, shown
from .schema import Context, check_keys, did_you_mean, read_mapping, read_number

EXPERIMENT_KEYS = ("years", "change")
CHANGE_KEYS = ("scale", "shift", "table", "start", "ramp", "column", "units", "mode")
TABLE_MODES = ("absolute", "scale", "shift")
TRANSIENT_KEYS = ("experiments", "at", "every")
RESPONSE_KEYS = ("experiment", "at", "measure")
#: what a ``response`` reports of each output: ``ratio`` y(at)/y(0) [1] or ``change`` y(at) - y(0) [output units]
MEASURES = ("ratio", "change")
#: longest experiment [yr] (a guard against a typo such as 5e6; the slowest pools turn over in ~1e3 yr)
MAX_YEARS = 100_000.0
#: most output times of one experiment (``years / every``)
MAX_TIMES = 100_000


@dataclass(frozen=True)
class Change:
    """How one driver changes in an experiment: ``scale``, ``shift`` or a ``table`` over time.

    ``start`` [yr] and ``ramp`` [yr] shape a scale or shift (a step at ``start``, or a linear rise
    over ``ramp`` years from it); a table gives the driver (``mode: absolute``, in ``units``), its
    factor (``scale``) or its offset (``shift``) at each year, from column ``column`` of a CSV file
    (with a ``year`` column) or the variable ``column`` of a CF netCDF file.
    """

    driver: str
    path: str  # position in the scenario, for messages
    scale: float | None = None
    shift: float | None = None
    table: str = ""
    column: str = ""
    units: str = ""
    mode: str = "absolute"
    start: float = 0.0
    ramp: float = 0.0

    @property
    def text(self) -> str:
        """The change in words, e.g. ``c_input x 1.2`` or ``temperature + 2 over 20 yr``."""
        if self.table:
            return f"{self.driver} from {self.table}"
        what = f"{self.driver} x {self.scale:g}" if self.scale is not None else f"{self.driver} {self.shift:+g}"
        when = f" from year {self.start:g}" if self.start else ""
        return what + (f" over {self.ramp:g} yr" if self.ramp else "") + when


@dataclass(frozen=True)
class Experiment:
    """A perturbation experiment: driver changes, run for ``years`` [yr] from the steady state."""

    name: str
    changes: tuple[Change, ...]
    years: float
    path: str

    @property
    def text(self) -> str:
        """The experiment in words, e.g. ``c_input x 1.2 for 50 yr``."""
        return ", ".join(c.text for c in self.changes) + f" for {self.years:g} yr"


@dataclass(frozen=True)
class TransientSettings:
    """Kind ``transient``: experiments, the years reported in tables (``at``) and the trajectory spacing."""

    experiments: tuple[Experiment, ...] = ()
    at: tuple[float, ...] = ()  # [yr]; empty: each experiment's end
    every: float = 1.0  # spacing of the stored trajectories [yr]


@dataclass(frozen=True)
class ResponseSettings:
    """Section ``response``: the transient response a sobol, local or sweep run analyses instead of the steady state."""

    experiment: Experiment
    at: float  # [yr]
    measure: str = "ratio"

    @property
    def text(self) -> str:
        """E.g. ``ratio at 50 yr of c_input x 1.2 for 50 yr``."""
        return f"{self.measure} at {self.at:g} yr of {self.experiment.text}"


def build_transient(value: Any, ctx: Context) -> TransientSettings:
    """The ``transient`` section."""
    data = read_mapping(value, "transient", ctx)
    if data is None:
        return TransientSettings()
    check_keys(data, TRANSIENT_KEYS, "transient", ctx)
    raw = read_mapping(data.get("experiments"), "transient.experiments", ctx, "a mapping of named experiments")
    experiments = tuple(e for name, entry in (raw or {}).items()
                        if (e := build_experiment(entry, join("transient.experiments", name), ctx, str(name))))
    if raw is not None and not raw:
        ctx.add("transient.experiments", "needs at least one experiment",
                "add e.g. `input_plus_20: {years: 50, change: {c_input: {scale: 1.2}}}`")
    at = _years_list(data.get("at", []), "transient.at", ctx)
    longest = max((e.years for e in experiments), default=MAX_YEARS)
    for i, year in enumerate(at):
        if year > longest:
            ctx.add(join("transient.at", i), f"{year:g} yr is after the end of every experiment (the longest runs "
                    f"{longest:g} yr)", "report years within the experiments' durations")
    every = _positive(data.get("every", 1.0), "transient.every", ctx, "use e.g. 1 for yearly output") or 1.0
    for e in experiments:
        if e.years / every > MAX_TIMES:
            ctx.add("transient.every", f"{e.name} would store {e.years / every:.0f} times per row, more than "
                    f"{MAX_TIMES} (a limit of soilbench)", f"use every >= {e.years / MAX_TIMES:g}")
    return TransientSettings(experiments, at, every)


def build_response(value: Any, ctx: Context) -> ResponseSettings | None:
    """The ``response`` section (None when absent: the steady state is analysed)."""
    if value is None:
        return None
    data = read_mapping(value, "response", ctx)
    if data is None:
        return None
    check_keys(data, RESPONSE_KEYS, "response", ctx)
    if "experiment" not in data:
        ctx.add("response", "needs an `experiment`", "add `experiment: {years: 50, change: {c_input: {scale: 1.2}}}`")
        return None
    experiment = build_experiment(data["experiment"], "response.experiment", ctx, "response")
    measure = data.get("measure", "ratio")
    if measure not in MEASURES:
        ctx.add("response.measure", f"must be one of {', '.join(MEASURES)}; got {shown(measure)}",
                did_you_mean(str(measure), MEASURES))
        measure = "ratio"
    if experiment is None:
        return None
    at = _positive(data.get("at", experiment.years), "response.at", ctx, "use a year within the experiment")
    if at is not None and at > experiment.years:
        ctx.add("response.at", f"{at:g} yr is after the experiment's end ({experiment.years:g} yr)",
                f"use a year in (0, {experiment.years:g}]")
        at = None
    return ResponseSettings(experiment, at or experiment.years, measure)


def build_experiment(value: Any, path: str, ctx: Context, name: str) -> Experiment | None:
    """One experiment: ``years`` and ``change`` (driver -> its change)."""
    data = read_mapping(value, path, ctx, "a mapping with `years` and `change`")
    if data is None:
        return None
    check_keys(data, EXPERIMENT_KEYS, path, ctx)
    years = _positive(data.get("years"), join(path, "years"), ctx, "write e.g. `years: 50`")
    if years is not None and years > MAX_YEARS:
        ctx.add(join(path, "years"), f"must be at most {MAX_YEARS:g} (a limit of soilbench); got {years:g}",
                "a run of more than 1e5 years is past the turnover of every pool")
        years = None
    raw = read_mapping(data.get("change"), join(path, "change"), ctx, "a mapping of driver -> change")
    changes = tuple(c for driver, entry in (raw or {}).items()
                    if (c := _change(str(driver), entry, join(join(path, "change"), driver), ctx)))
    if raw is not None and not raw:
        ctx.add(join(path, "change"), "needs at least one driver", "write e.g. `change: {c_input: {scale: 1.2}}`")
    if years is None or not changes or (raw is not None and len(changes) < len(raw)):
        return None
    for c in changes:
        if c.start + c.ramp > years:
            ctx.add(c.path, f"the change is not complete before the experiment ends (start {c.start:g} + ramp "
                    f"{c.ramp:g} > {years:g} yr)", "shorten the ramp or run longer")
    return Experiment(name, changes, years, path)


def _change(driver: str, value: Any, path: str, ctx: Context) -> Change | None:
    data = read_mapping(value, path, ctx, "a mapping with `scale`, `shift` or `table`")
    if data is None:
        return None
    check_keys(data, CHANGE_KEYS, path, ctx)
    given = [k for k in ("scale", "shift", "table") if k in data]
    if len(given) != 1:
        ctx.add(path, "needs exactly one of `scale`, `shift` or `table`",
                "write e.g. `{scale: 1.2}` (x 1.2), `{shift: 2.0}` (+2) or `{table: forcing.csv, column: c_input}`")
        return None
    start = _non_negative(data.get("start", 0.0), join(path, "start"), ctx)
    ramp = _non_negative(data.get("ramp", 0.0), join(path, "ramp"), ctx)
    if start is None or ramp is None:
        return None
    if given[0] == "table":
        return _table_change(driver, data, path, ctx)
    for key in ("column", "units", "mode"):
        if key in data:
            ctx.add(join(path, key), "is used only with `table`", "remove it", at_key=True)
    number = read_number(data[given[0]], join(path, given[0]), ctx)
    if number is None:
        return None
    if given[0] == "scale" and number < 0:
        ctx.add(join(path, "scale"), f"must be >= 0 (a factor on the driver); got {number:g}",
                "use 0 for removal, 1.2 for +20 %")
        return None
    if given[0] == "scale":
        return Change(driver, path, scale=number, start=start, ramp=ramp)
    return Change(driver, path, shift=number, start=start, ramp=ramp)


def _table_change(driver: str, data: dict, path: str, ctx: Context) -> Change | None:
    table = data["table"]
    if not isinstance(table, str) or not table:
        ctx.add(join(path, "table"), f"must be a file name; got {shown(table)}", "write e.g. `table: forcing.csv`")
        return None
    for key in ("start", "ramp"):
        if key in data:
            ctx.add(join(path, key), "is not used with `table` (the table gives the driver at each year)", "remove it",
                    at_key=True)
    mode = data.get("mode", "absolute")
    if mode not in TABLE_MODES:
        ctx.add(join(path, "mode"), f"must be one of {', '.join(TABLE_MODES)}; got {shown(mode)}",
                did_you_mean(str(mode), TABLE_MODES))
        return None
    column, units = data.get("column", driver), data.get("units", "")
    if not isinstance(column, str) or not column:
        ctx.add(join(path, "column"), f"must be a column name; got {shown(column)}", f"write e.g. `column: {driver}`")
        return None
    if mode != "scale" and not (isinstance(units, str) and units):
        ctx.add(join(path, "units"), f"a table of {mode} values needs the units of its column",
                "write e.g. `units: g C m-2 yr-1` (or degC); a `mode: scale` table is a factor [1]")
        return None
    return Change(driver, path, table=table, column=column, units=units if mode != "scale" else "1", mode=mode)


def _years_list(value: Any, path: str, ctx: Context) -> tuple[float, ...]:
    if not isinstance(value, list):
        ctx.add(path, f"must be a list of years; got {shown(value)}", "write e.g. `[10, 25, 50]`")
        return ()
    years = [y for i, v in enumerate(value) if (y := _positive(v, join(path, i), ctx, "years after the change"))]
    return tuple(sorted(set(years)))


def _positive(value: Any, path: str, ctx: Context, hint: str) -> float | None:
    number = read_number(value, path, ctx)
    if number is not None and number <= 0:
        ctx.add(path, f"must be > 0; got {number:g}", hint)
        return None
    return number


def _non_negative(value: Any, path: str, ctx: Context) -> float | None:
    number = read_number(value, path, ctx)
    if number is not None and number < 0:
        ctx.add(path, f"must be >= 0 [yr]; got {number:g}", "years after the start of the experiment")
        return None
    return number

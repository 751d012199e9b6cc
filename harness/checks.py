"""What a scenario means: checks against the registry, each adapter's domain and the input files.

One function per rule; each appends ``SpecIssue``s to the context. The plan (``harness.plan``)
runs the checks every kind shares, each kind runs its own; a check that reads an input file
returns what it read, so the plan keeps it and nothing is read twice.

Input files are named relative to the scenario's folder and must lie inside the data root (the
scenario's folder, unless ``--data-root`` widens it; ``FileContext``); ``harness.grids`` locates
and reads them, and a message quotes a cell of a file only in a column the scenario names.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import designs
from .adapter import Driver, Parameter, Status
from .csv_table import MAX_CSV_BYTES, MAX_NAME, CsvTable, plausible_names, read_csv
from .errors import DriverError, HarnessError, InputFileError
from .grids import MAX_NETCDF_BYTES, Forcing, load_forcing, locate, read_table, resolve_data_path
from .members import Member, build_member, unanchored_options, variant_role
from .posterior import FILE as POSTERIOR_FILE
from .posterior import load_posterior, split_calibrated
from .registry import available_adapters, get_adapter_class
from .response import perturbation
from .spec.positions import join, parse_yaml, shown
from .spec.schema import GRID_COLUMNS, VIRTUAL_COLUMNS, Context, DriverRange, ModelSpec, Scenario, did_you_mean, finite
from .spec.transient import Change, ResponseSettings
from .vocabulary import DRIVERS, MULTIPLIER_SUFFIX, OUTPUTS, PARAM_PREFIX, POOL_PREFIX, SIGMA

if TYPE_CHECKING:  # plan imports this module
    from .plan import Plan

MAX_CORNER_DRIVERS = 12  # 2**12 corner rows per member at most
MAX_CELL_ISSUES = 10  # bad cells reported one by one per file; the rest are counted in one more line
MAX_LISTED = 30  # the most column names a hint lists
MAX_SHOWN = 24  # [characters] the most of a cell a message quotes


class FileContext(Context):
    """The context of a scenario being planned, with the folder its data files must lie in.

    ``data_root`` (resolved) is the scenario's folder unless ``--data-root`` (``data_root=`` in
    the API) widens it; the positions and issues are those of ``ctx``.
    """

    def __init__(self, ctx: Context, data_root: Path):
        super().__init__(ctx.positions, ctx.overridden)
        self.issues = ctx.issues
        self.data_root = data_root


def data_root(scenario: Scenario, ctx: Context) -> Path:
    """The folder every data file of ``scenario`` must lie in (resolved, symlinks followed)."""
    if isinstance(ctx, FileContext):
        return ctx.data_root
    return _base(scenario).resolve()


def _base(scenario: Scenario) -> Path:
    """The folder the scenario's relative paths start from."""
    return Path(scenario.path).parent


def read_csv_file(scenario: Scenario, value: str, where: str, ctx: Context) -> CsvTable | None:
    """The CSV table ``value`` names (relative to the scenario), or None after reporting at ``where``."""
    try:
        return read_csv(locate(_base(scenario), value, data_root(scenario, ctx), MAX_CSV_BYTES), value)
    except InputFileError as exc:
        ctx.add(where, exc.message, exc.hint)
        return None


def _number(raw: Any) -> float | None:
    """``raw`` (a cell's text or a YAML number) as a finite float, else None."""
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            return None
    return finite(raw)


def _numbers(table: CsvTable, name: str, bad: list[tuple[str, str]], *, empty_ok: bool) -> np.ndarray:
    """Column ``name`` of ``table`` as floats; each cell that is not a finite number goes to ``bad``.

    An empty cell is NaN (a missing value) when ``empty_ok``, else bad too.
    """
    values = np.full(len(table.rows), np.nan)
    expected = "a finite number or an empty cell" if empty_ok else "a finite number"
    for i, (line, raw) in enumerate(table.cells(name)):
        value = _number(raw)
        if value is not None:
            values[i] = value
        elif not (empty_ok and not raw.strip()):
            bad.append((f"{table.name}:{line}: column {name!r}: expected {expected}; got {shown(str(raw), MAX_SHOWN)}",
                        "fill the cell or drop the row"))
    return values


def _report_cells(bad: list[tuple[str, str]], where: str, ctx: Context) -> None:
    """The first ``MAX_CELL_ISSUES`` bad cells as issues at ``where``, then how many more there are."""
    for message, hint in bad[:MAX_CELL_ISSUES]:
        ctx.add(where, message, hint)
    if len(bad) > MAX_CELL_ISSUES:
        ctx.add(where, f"... and {len(bad) - MAX_CELL_ISSUES} more cells like these", "fix the cells named above "
                "and validate again")


def _column_hint(name: str, columns: Any) -> str:
    """Did-you-mean among a file's columns: names only when they all look like names."""
    columns = sorted(columns)
    count = f"{len(columns)} column{'' if len(columns) == 1 else 's'}"
    if not plausible_names(columns):
        return f"the file has {count} (their names are not shown: they do not look like names)"
    hint = did_you_mean(name, columns)
    return hint if hint.startswith("did you mean") or len(columns) <= MAX_LISTED else (
        f"the file has {count}, none like {name!r}")


def check_models(models: tuple[ModelSpec, ...], ctx: Context) -> list[ModelSpec]:
    """Models exist; variant keys and parameter overrides are known and admissible."""
    known = available_adapters()
    good = []
    for spec in models:
        if spec.model not in known:
            ctx.add(join(spec.path, "model"), f"unknown model {spec.model!r}", did_you_mean(spec.model, known))
            continue
        try:
            cls = get_adapter_class(spec.model)
        except HarnessError as exc:
            ctx.add(join(spec.path, "model"), f"model {spec.model!r} cannot be loaded: {exc}")
            continue
        probes = _option_probes(spec, cls, ctx)
        if probes is not None and _check_variants(spec, cls, ctx, probes) & _check_parameters(spec, ctx, probes):
            good.append(spec)
    return good


def _option_probes(spec: ModelSpec, cls: Any, ctx: Context) -> list[tuple[dict, Any]] | None:
    """One adapter per combination of the option values the variants list (None if any fails).

    Metadata may depend on options (a parameter set brings its own parameters), so every other
    variant key and parameter override is checked against each combination.
    """
    names = {o.name for o in cls.options}
    options = {k: v for k, v in spec.variants.items() if k in names}
    ok = True
    for key, values in options.items():
        for i, value in enumerate(values):
            try:
                cls(**unanchored_options({key: value}))
            except HarnessError as exc:
                path = join(join(join(spec.path, "variants"), key), i)
                ctx.add(path, str(exc), f"run `python -m harness describe {spec.model}`")
                ok = False
    if not ok:
        return None
    probes = []
    for combo in itertools.product(*options.values()):
        chosen = dict(zip(options, combo))
        try:
            probes.append((chosen, cls(**unanchored_options(chosen))))
        except HarnessError as exc:
            ctx.add(join(spec.path, "variants"), f"options {chosen} cannot be combined: {exc}")
            ok = False
    return probes if ok else None


def _under(chosen: dict) -> str:
    return f" with {', '.join(f'{k}={v!r}' for k, v in chosen.items())}" if chosen else ""


def _check_variants(spec: ModelSpec, cls: Any, ctx: Context, probes: list[tuple[dict, Any]]) -> bool:
    """Each non-option variant key once (known under every option combination?), then each value."""
    ok = True
    for key, values in spec.variants.items():
        if key in {o.name for o in cls.options}:
            continue
        key_path = join(join(spec.path, "variants"), key)
        for chosen, probe in probes:
            role = variant_role(probe, key)
            if role is None:
                known = [o.name for o in probe.options] + list(probe.driver_names) + list(probe.parameter_names)
                what = (f"{spec.model}{_under(chosen)} does not represent driver {key!r}" if key in DRIVERS
                        else f"{key!r} is not an option, driver or parameter of {spec.model}{_under(chosen)}")
                ctx.add(key_path, what, did_you_mean(key, known) if key not in DRIVERS else
                        "remove it from this model's variants", at_key=True)
                ok = False
                break
            for i, value in enumerate(values):
                try:
                    _check_fixed_value(probe, role, key, value)
                except HarnessError as exc:
                    ctx.add(join(key_path, i), f"{exc}{_under(chosen)}", f"run `python -m harness describe {spec.model}`")
                    ok = False
    return ok


def _check_fixed_value(adapter: Any, role: str, key: str, value: Any) -> None:
    """A variant value fixing a driver or parameter: a number inside its declared range."""
    meta = next(m for m in (adapter.drivers if role == "driver" else adapter.parameters) if m.name == key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HarnessError(f"{role} {key} must be a number; got {value!r}")
    if not meta.contains(np.array([float(value)]))[0]:
        raise HarnessError(f"{role} {key}={value:g} [{meta.units}] is outside {meta.interval}")


def _check_parameters(spec: ModelSpec, ctx: Context, probes: list[tuple[dict, Any]]) -> bool:
    """Parameter overrides exist, and lie in bounds, under every option combination."""
    ok = True
    for name, value in spec.parameters.items():
        path = join(join(spec.path, "parameters"), name)
        for chosen, probe in probes:
            declared = {p.name: p for p in probe.parameters}
            if name not in declared:
                ctx.add(path, f"{spec.model}{_under(chosen)} has no parameter {name!r}",
                        did_you_mean(name, declared), at_key=True)
                ok = False
                break
            p = declared[name]
            if not p.contains(np.array([value]))[0]:
                ctx.add(path, f"{value:g} [{p.units}] is outside the bounds {p.interval} of {spec.model}.{name}"
                        f"{_under(chosen)}", f"use a value in {p.interval}")
                ok = False
                break
    return ok


def check_driver_names(scenario_baseline: dict, drivers: tuple[DriverRange, ...], ctx: Context,
                       models: tuple[ModelSpec, ...] = ()) -> None:
    """Baseline (shared and per model) and sampled drivers use the shared vocabulary."""
    baselines = [("baseline", scenario_baseline)] + [(join(m.path, "baseline"), m.baseline) for m in models]
    for where, baseline in baselines:
        for name in baseline:
            if name not in DRIVERS:
                ctx.add(join(where, name), f"unknown driver {name!r}", did_you_mean(name, DRIVERS), at_key=True)
    for d in drivers:
        if d.name not in DRIVERS:
            ctx.add(d.path, f"unknown driver {d.name!r}", did_you_mean(d.name, DRIVERS), at_key=True)


def build_members(scenario: Scenario, specs: list[ModelSpec], ctx: Context) -> list[Member]:
    """Members of the valid model specs; a missing required baseline driver is an issue."""
    members = []
    baseline = {k: v for k, v in scenario.baseline.items() if k in DRIVERS}
    owner: dict[str, str] = {}
    for spec in specs:
        for variant in spec.variant_list():
            try:
                member = build_member(spec.model, variant, {**baseline, **spec.baseline}, spec.parameters, spec.label)
            except HarnessError as exc:
                ctx.add(spec.path, str(exc), "add the driver under `baseline:`")
                break
            if member.label in owner:
                ctx.add(spec.path, f"gives the member {member.label!r} that {owner[member.label]} already gives; "
                        "results are keyed by that label", "add e.g. `label: " + spec.model + "_2` to this entry")
                break
            owner[member.label] = spec.path
            members.append(member)
    return members


def check_baseline_domain(members: list[Member], ctx: Context) -> list[Member]:
    """Each member's baseline row lies in its model's domain; returns the members whose does.

    One message per distinct problem, naming every member it concerns; none about a baseline
    value already reported (e.g. a temperature in kelvin).
    """
    good: list[Member] = []
    found: dict[str, list[Member]] = {}
    reported = [i.path.removeprefix("baseline.") for i in ctx.issues if i.path.startswith("baseline.")]
    for m in members:
        status, message = m.adapter.check_domain(m.theta(1), m.forcing(1))
        if status[0] != Status.OK:
            found.setdefault(str(message[0]), []).append(m)
        else:
            good.append(m)
    for text, bad in found.items():
        if not any(f"driver {name}=" in text for name in reported):
            ctx.add("baseline", f"out of domain for {members_text(bad, members)}: {text}", "change baseline values")
    return good


def members_text(some: list[Member], members: list[Member]) -> str:
    """``some`` of ``members`` in few words: whole models by name, else their labels."""
    if len(some) == len(members) > 1:
        return f"every model x variant ({len(members)})"
    parts = []
    for model in dict.fromkeys(m.model for m in some):
        mine, total = [m for m in some if m.model == model], sum(m.model == model for m in members)
        if len(mine) == total:
            parts.append(model if total == 1 else f"{model} (all {total} variants)")
        else:
            parts += [m.label for m in mine]
    return ", ".join(parts)


def check_sampled_ranges(members: list[Member], drivers: tuple[DriverRange, ...], ctx: Context, *,
                         every_model_valid: bool, corners_for: list[Member]) -> None:
    """Sampled ranges fit every member's declared domain, corners of the box included.

    "Represented by none" is judged only when every model was accepted, and relative ranges and
    box corners only for members in ``corners_for`` (their baseline is valid), so one error does
    not cascade; a range that leaves several models' domain the same way is one message.
    """
    known = [d for d in drivers if d.name in DRIVERS]
    for d in known:
        if every_model_valid and not any(d.name in m.drivers for m in members):
            ctx.add(d.path, f"driver {d.name!r} is represented by none of the models",
                    "remove it or add a model that represents it", at_key=True)
    outside: dict[tuple[str, str, str], list[str]] = {}
    for m in members:
        fixed = [k for k in m.variant if any(d.name == k for d in known)]
        for name in fixed:
            path = next(d.path for d in known if d.name == name)
            ctx.add(path, f"{name!r} is both sampled and fixed by a variant of {m.model}",
                    "sample it or list it under variants, not both", at_key=True)
        valid_baseline = m in corners_for
        mine = [d for d in known if d.name in m.drivers and d.name not in fixed]
        problems = [_range_problem(m, d) for d in mine if valid_baseline or d.mode == "range"]
        for problem in filter(None, problems):
            models = outside.setdefault(problem, [])
            if m.model not in models:
                models.append(m.model)
        if any(problems) or not valid_baseline:
            continue  # a per-driver or baseline error already explains the problem
        _check_corners(m, mine, ctx)
    for (where, message, hint), models in outside.items():
        ctx.add(where, message.format(models=", ".join(models)), hint)


def _range_problem(m: Member, d: DriverRange) -> tuple[str, str, str] | None:
    """Where, what ({models} to fill in) and how to fix a sampled range that leaves ``m``'s domain; None if it does not."""
    lo, hi = m.sampled_bounds(d)
    meta = next(x for x in m.adapter.drivers if x.name == d.name)
    bad = ~meta.contains(np.array([lo, hi]))
    if not bad.any():
        return None
    absolute = "" if d.mode == "range" else f" (= [{lo:g}, {hi:g}] around baseline {m.drivers[d.name]:g})"
    return (join(d.path, d.mode), f"[{d.lower:g}, {d.upper:g}]{absolute} leaves the valid range {meta.interval} "
            f"[{meta.units}] of {d.name} in {{models}}", f"keep {d.name} within {meta.interval}")


def _check_corners(m: Member, drivers: list[DriverRange], ctx: Context) -> None:
    if not drivers or len(drivers) > MAX_CORNER_DRIVERS:
        return
    bounds = [m.sampled_bounds(d) for d in drivers]
    corners = np.array(list(itertools.product(*bounds)))
    sampled = {d.name: corners[:, j] for j, d in enumerate(drivers)}
    n = corners.shape[0]
    status, message = m.adapter.check_domain(m.theta(n), m.forcing(n, sampled))
    bad = np.flatnonzero(status != Status.OK)
    if bad.size:
        corner = ", ".join(f"{d.name}={corners[bad[0], j]:g}" for j, d in enumerate(drivers))
        ctx.add("drivers", f"{m.label}: {bad.size} of {n} corners of the sampled box leave the model's "
                f"domain, e.g. {corner}: {message[bad[0]]}", "narrow the ranges named in the message")


def check_outputs(outputs: tuple[str, ...], members: list[Member], ctx: Context) -> None:
    """Outputs are harmonised names or ``pool.NAME`` of at least one model."""
    pools = {p for m in members for p in m.adapter.pool_names}
    for i, name in enumerate(outputs):
        path = join("outputs", i)
        if name.startswith(POOL_PREFIX):
            if members and name[len(POOL_PREFIX):] not in pools:
                ctx.add(path, f"no model of this scenario has pool {name[len(POOL_PREFIX):]!r}",
                        did_you_mean(name[len(POOL_PREFIX):], pools))
        elif name not in OUTPUTS:
            ctx.add(path, f"unknown output {name!r}", did_you_mean(name, list(OUTPUTS) + ["pool.NAME"]))


def check_cases(cases: tuple[dict, ...], members: list[Member], ctx: Context) -> None:
    """Case columns are drivers, ``case_id``, ``param.NAME`` of at least one model, or variant keys.

    A variant key restricts a case to the members with that variant value.
    """
    params = {p for m in members for p in m.adapter.parameter_names}
    variant_keys = {k for m in members for k in m.variant}
    columns = sorted({k for case in cases for k in case})
    for col in columns:
        if col == "case_id" or col in DRIVERS or col in variant_keys:
            continue
        if col.startswith(PARAM_PREFIX):
            if members and col[len(PARAM_PREFIX):] not in params:
                ctx.add("cases", f"column {col!r}: no model of this scenario has parameter "
                        f"{col[len(PARAM_PREFIX):]!r}", did_you_mean(col[len(PARAM_PREFIX):], params))
            continue
        ctx.add("cases", f"unknown column {col!r}", "columns are drivers, case_id or param.NAME; "
                + did_you_mean(col, list(DRIVERS) + ["case_id"]))


def check_varied_drivers(scenario: Scenario, members: list[Member], ctx: Context, *,
                         every_model_valid: bool) -> None:
    """Drivers a ``local`` or ``sweep`` scenario varies.

    They are known, represented, not fixed twice, and every row of the design lies inside each
    model's domain.
    """
    for name, path in scenario.varied:
        if name not in DRIVERS:
            ctx.add(path, f"unknown driver {name!r}", did_you_mean(name, DRIVERS))
        elif every_model_valid and not any(name in m.drivers for m in members):
            ctx.add(path, f"driver {name!r} is represented by none of the models",
                    "remove it or add a model that represents it")
        for m in members:
            if name in m.variant:
                ctx.add(path, f"{name!r} is both varied and fixed by a variant of {m.model}",
                        "vary it here or list it under variants, not both")
            elif name in m.drivers and m.drivers[name] == 0 and _is_relative(scenario, name):
                ctx.add(path, f"{m.label}: a relative change of {name} is meaningless at baseline 0",
                        f"set a non-zero baseline.{name} or use absolute values")
    for m in members:
        columns, n = _design_columns(scenario, m)
        if not n:
            continue
        status, message = m.adapter.check_domain(m.theta(n), m.forcing(n, columns))
        bad = np.flatnonzero(status != Status.OK)
        if bad.size:
            row = ", ".join(f"{k}={v[bad[0]]:g}" for k, v in columns.items())
            ctx.add(scenario.kind, f"{m.label}: {bad.size} of {n} rows of the {scenario.kind} design leave "
                    f"the model's domain, e.g. {row}: {message[bad[0]]}", "narrow the values named in the message")


def _is_relative(scenario: Scenario, name: str) -> bool:
    if scenario.kind == "local":
        return True
    return any(a.name == name and a.relative for a in scenario.sweep.axes)


def _design_columns(scenario: Scenario, m: Member) -> tuple[dict[str, np.ndarray], int]:
    if scenario.kind == "local":
        s = scenario.local
        rows = designs.local_design(m, s.drivers, s.h, s.definition)
        return designs.local_forcing(m, rows), len(rows)
    columns, swept = designs.sweep_design(m, scenario.sweep.axes, scenario.sweep.mode)
    return columns, len(swept)


def check_published(published: tuple, members: list[Member], scenario: Scenario, ctx: Context) -> None:
    """Each published value names a varied driver and an analysed output, and matches a member."""
    varied = {name for name, _ in scenario.varied}
    for p in published:
        if p.driver not in varied:
            ctx.add(join(p.path, "driver"), f"{p.driver!r} is not a driver this scenario varies",
                    did_you_mean(p.driver, varied))
        if p.output not in scenario.outputs:
            ctx.add(join(p.path, "output"), f"{p.output!r} is not among the scenario's outputs",
                    did_you_mean(p.output, scenario.outputs))
        if members and not any(p.matches(m.model, m.variant) for m in members):
            ctx.add(join(p.path, "where"), f"no model x variant matches {p.where}",
                    "use `model:` and variant keys with values listed under `variants`")


def check_regression(scenario: Scenario, members: list[Member], in_domain: list[Member], ctx: Context, *,
                     every_model_valid: bool) -> pd.DataFrame | None:
    """Kind ``regression``: the columns it names exist (in the data, or among the virtual observations).

    Virtual drivers are known and their box lies in every model's domain; returns the data table
    when the regression reads one.
    """
    r = scenario.regression
    data = None
    if r.virtual is not None:
        if not scenario.models:
            ctx.add("regression.virtual", "virtual observations need `models` to generate them",
                    "add `models: [{model: mimics}]` or use `data:`")
        for d in r.virtual.drivers:
            if d.name not in DRIVERS:
                ctx.add(d.path, f"unknown driver {d.name!r}", did_you_mean(d.name, DRIVERS), at_key=True)
        check_sampled_ranges(members, r.virtual.drivers, ctx, every_model_valid=every_model_valid,
                             corners_for=in_domain)
        columns = set(VIRTUAL_COLUMNS) | {d.name for d in r.virtual.drivers}
        where = "the virtual observations"
    elif scenario.kind == "grid":
        columns = set(GRID_COLUMNS) | {name for name, _, _ in scenario.grid.drivers}
        where = "the gridded outputs"
    elif r.data:
        if scenario.models:
            ctx.add("models", "is used only with `regression.virtual`; a `regression.data` scenario runs no model",
                    "remove `models`", at_key=True)
        data = read_data(scenario, r.data, ctx, _numeric_columns(r))
        if data is None:
            return None
        columns = set(data.columns)
        where = repr(r.data)
    else:
        return None
    for name, _, source in r.transform:
        if source not in columns:
            ctx.add(join("regression.transform", name), f"column {source!r} is not in {where}",
                    _column_hint(source, columns))
    columns |= {name for name, _, _ in r.transform}
    named = [("regression.response", r.response), ("regression.group", r.group)]
    named += [(join("regression.predictors", i), p) for i, p in enumerate(r.predictors)]
    for path, name in named:
        if name not in columns:
            ctx.add(path, f"column {name!r} is not in {where}", _column_hint(name, columns))
    return data


def _numeric_columns(r: Any) -> set[str]:
    """The columns of a regression's data that must hold numbers: response, predictors, transformed ones."""
    made = {name for name, _, _ in r.transform}
    return {source for _, _, source in r.transform} | ({r.response, *r.predictors} - made)


def read_data(scenario: Scenario, value: str, ctx: Context, numeric: set[str] | frozenset[str] = frozenset()
              ) -> pd.DataFrame | None:
    """The table a ``regression.data`` scenario fits (CSV or netCDF, relative to the scenario file).

    The ``numeric`` columns hold finite numbers or missing values (an empty cell, a fill value).
    """
    where = "regression.data"
    if Path(value).suffix == ".nc":
        try:
            data = read_table(locate(_base(scenario), value, data_root(scenario, ctx), MAX_NETCDF_BYTES))
        except InputFileError as exc:
            ctx.add(where, exc.message, exc.hint)
            return None
        _check_table_numbers(data, numeric, value, ctx)
        return data
    table = read_csv_file(scenario, value, where, ctx)
    if table is None:
        return None
    bad: list[tuple[str, str]] = []
    columns = {name: _numbers(table, name, bad, empty_ok=True) if name in numeric else _inferred(table, name)
               for name in table.header}
    _report_cells(bad, where, ctx)
    return pd.DataFrame(columns)


def _inferred(table: CsvTable, name: str) -> Any:
    """A column the data does not need as numbers: floats if every filled cell is one, else text.

    Empty cells are missing (NaN).
    """
    cells = [raw for _, raw in table.cells(name)]
    numbers = [_number(raw) if raw.strip() else math.nan for raw in cells]
    if all(v is not None for v in numbers):
        return np.array(numbers, dtype=float)
    return [raw if raw.strip() else math.nan for raw in cells]


def _check_table_numbers(data: pd.DataFrame, numeric: set[str] | frozenset[str], value: str, ctx: Context) -> None:
    """The ``numeric`` variables of a netCDF table are numbers and finite where not missing."""
    for name in sorted(numeric & set(data.columns)):
        if not pd.api.types.is_numeric_dtype(data[name]):
            ctx.add("regression.data", f"{value}: variable {name!r} holds strings; expected numbers",
                    "name a numeric variable")
        elif infinite := int(np.isinf(data[name].to_numpy(dtype=float)).sum()):
            ctx.add("regression.data", f"{value}: variable {name!r} has {infinite} infinite "
                    "values", "set them to the variable's _FillValue (missing)")


def read_observations(scenario: Scenario, ctx: Context) -> pd.DataFrame | None:
    """The observation table of a calibration, read once.

    Cells as written, the numeric columns it uses as floats; every unreadable cell is an issue
    (file:line).
    """
    c = scenario.calibrate
    where = "calibrate.observations.file"
    table = read_csv_file(scenario, c.file, where, ctx)
    if table is None:
        return None
    numeric = [c.column] + [d.column for d in c.drivers]
    missing = [name for name in dict.fromkeys([c.id_column] + numeric) if name not in table.header]
    for name in missing:
        ctx.add(where, f"{c.file}: no column {name!r}", _column_hint(name, table.header))
    frame = pd.DataFrame([cells for _, cells in table.rows], columns=table.header, dtype=str)
    bad: list[tuple[str, str]] = []
    for name in dict.fromkeys(n for n in numeric if n not in missing):
        frame[name] = _numbers(table, name, bad, empty_ok=False)
    _report_cells(bad, where, ctx)
    if missing:
        return None
    if frame[c.id_column].duplicated().any():
        ctx.add(where, f"{c.file}: column {c.id_column!r} has repeated values", "use one row per observation")
    return frame


def check_grid(scenario: Scenario, members: list[Member], ctx: Context) -> Forcing | None:
    """Kind ``grid``: mapped drivers and observation layers.

    Mapped drivers are known, readable in convertible units, represented by a model and not fixed by
    a variant; observation layers lie on the forcing grid.
    """
    g = scenario.grid
    for name, _, where in g.drivers:
        if name not in DRIVERS:
            ctx.add(where, f"unknown driver {name!r}", did_you_mean(name, DRIVERS), at_key=True)
        elif members and not any(name in m.drivers for m in members):
            ctx.add(where, f"no model of the scenario represents {name!r}", "remove it", at_key=True)
        for m in members:
            if name in m.variant:
                ctx.add(where, f"{name!r} is both read from the grid and fixed by a variant of {m.model}",
                        "remove one of them", at_key=True)
    if not g.forcing:
        return None
    forcing, problems = load_forcing(_base(scenario), g, data_root(scenario, ctx))
    for where, exc in problems:
        ctx.add(where, exc.message, exc.hint)
    return forcing


def check_calibration(scenario: Scenario, members: list[Member], ctx: Context) -> pd.DataFrame | None:
    """Kind ``calibrate``: observation table, units, and every prior inside the declared bounds.

    Returns the observation table.
    """
    c = scenario.calibrate
    table = read_observations(scenario, ctx) if c.file and c.column and c.id_column else None
    observed = {d.name for d in c.drivers}
    if c.error_model == "lognormal" and table is not None and (table[c.column] <= 0).any():
        ctx.add("calibrate.observations.error.model", f"lognormal errors need positive observations; "
                f"{c.column!r} has {int((table[c.column] <= 0).sum())} values <= 0", "use `model: normal`")
    for d in c.drivers:
        if d.name not in DRIVERS:
            ctx.add(d.path, f"unknown driver {d.name!r}", did_you_mean(d.name, DRIVERS), at_key=True)
    for d in c.drivers:  # each model reads the columns of the drivers it represents
        if d.name in DRIVERS and members and not any(d.name in m.adapter.driver_names for m in members):
            ctx.add(d.path, f"no model of the scenario represents driver {d.name!r}", "remove the driver",
                    at_key=True)
    for prior in c.priors:  # each model calibrates the quantities it has (beta where the model has it)
        if members and not any(calibrates(m, prior.name) for m in members):
            _check_prior(prior, members[0], observed, table, c, ctx)
    for m in members:
        units = {x.name: x for x in m.adapter.drivers}
        for d in c.drivers:
            if d.name not in units:
                continue
            elif d.units != units[d.name].units:
                ctx.add(join(d.path, "units"), f"{d.column!r} is in {d.units!r} but {m.model} reads {d.name} in "
                        f"{units[d.name].units!r}", f"convert the column to {units[d.name].units}")
            elif d.name in m.variant:
                ctx.add(d.path, f"{d.name!r} is both read from the table and fixed by a variant of {m.model}",
                        "remove one of them", at_key=True)
            elif table is not None and not _any_multiplier(c, d.name):
                bad = ~units[d.name].contains(table[d.column])
                if bad.any():
                    ctx.add(d.path, f"{bad.sum()} values of {d.column!r} leave {m.model}'s valid range "
                            f"{units[d.name].interval} for {d.name}", "check the table")
        if c.output not in m.adapter.outputs:
            ctx.add("calibrate.observations.output", f"{m.label} does not produce {c.output!r}",
                    did_you_mean(c.output, m.adapter.outputs))
        else:
            out_units = next(o.units for o in m.adapter.output_metadata if o.name == c.output)
            if c.units != out_units:
                ctx.add("calibrate.observations.units", f"observations are in {c.units!r} but {m.model} reports "
                        f"{c.output} in {out_units!r}", f"convert {c.column!r} to {out_units}")
        for prior in c.priors:
            if calibrates(m, prior.name):
                _check_prior(prior, m, observed, table, c, ctx)
    if not isinstance(c.sigma, float) and c.sigma.support[0] < 0:
        ctx.add(c.sigma.path, f"sigma must be positive; {c.sigma} allows negative values",
                "use halfnormal, lognormal or a uniform prior with lower >= 0")
    return table


def calibrates(member: Member, name: str) -> bool:
    """Whether ``member`` has the calibrated quantity ``name``.

    That is its driver, ``param.NAME``, or the driver a ``<driver>_multiplier`` scales; ``sigma``
    belongs to every member.
    """
    if name == SIGMA:
        return True
    if name.startswith(PARAM_PREFIX):
        return name[len(PARAM_PREFIX):] in member.adapter.parameter_names
    return name.removesuffix(MULTIPLIER_SUFFIX) in member.adapter.driver_names


def _any_multiplier(c: Any, driver: str) -> bool:
    return any(p.name == driver + MULTIPLIER_SUFFIX for p in c.priors)


def _check_prior(prior: Any, m: Member, observed: set[str], table: dict | None, c: Any, ctx: Context) -> None:
    name, (lo, hi) = prior.name, prior.support
    if name == SIGMA:
        ctx.add(prior.path, "'sigma' is the observation error; give its prior under observations.error.sigma",
                "move it", at_key=True)
        return
    if name.endswith(MULTIPLIER_SUFFIX):
        driver = name[: -len(MULTIPLIER_SUFFIX)]
        if driver not in observed:
            ctx.add(prior.path, f"{name!r} multiplies a driver read from the table, but {driver!r} is not under "
                    "observations.drivers", f"map {driver} to a column, or calibrate {driver} itself", at_key=True)
            return
        multiplied = next((x for x in m.adapter.drivers if x.name == driver), None)
        if multiplied is None or table is None:
            return
        column = table[next(d.column for d in c.drivers if d.name == driver)]
        if lo < 0:
            ctx.add(prior.path, f"a multiplier must be positive; {prior} allows negative values",
                    "use lognormal or uniform with lower >= 0")
            return
        reach = (lo * column.min(), hi * column.max())
        d_lo, d_hi = multiplied.interval.lower, multiplied.interval.upper
        if reach[0] < d_lo or reach[1] > d_hi:
            ctx.add(prior.path, f"{prior} times {driver} in the table reaches [{reach[0]:g}, {reach[1]:g}], outside "
                    f"{m.model}'s valid range {multiplied.interval} [{multiplied.units}]", "narrow the prior")
        return
    meta: Parameter | Driver | None
    if name.startswith(PARAM_PREFIX):
        meta = next((p for p in m.adapter.parameters if p.name == name[len(PARAM_PREFIX):]), None)
        what = "parameter"
    else:
        meta = next((d for d in m.adapter.drivers if d.name == name), None)
        what = "driver"
        if name in observed:
            ctx.add(prior.path, f"{name!r} is read from the table; calibrate `{name}{MULTIPLIER_SUFFIX}` instead",
                    "rename the prior", at_key=True)
            return
    if meta is None:
        known = [d.name for d in m.adapter.drivers] + [PARAM_PREFIX + p for p in m.adapter.parameter_names]
        ctx.add(prior.path, f"{name!r} is not a {what} of {m.label}", did_you_mean(name, known), at_key=True)
        return
    if name in m.variant:
        ctx.add(prior.path, f"{name!r} is both calibrated and fixed by a variant of {m.model}",
                "calibrate it or list it under variants, not both", at_key=True)
        return
    d_lo, d_hi = meta.interval.lower, meta.interval.upper
    if lo < d_lo or hi > d_hi:
        ctx.add(prior.path, f"the support [{lo:g}, {hi:g}] of {prior} leaves {m.model}'s bounds {meta.interval} "
                f"[{meta.units}] for {what} {name}", f"use a prior inside {meta.interval}, e.g. uniform or "
                "truncated_normal")


def check_drivers_from(scenario: Scenario, members: list[Member], ctx: Context) -> dict[str, Any] | None:
    """A posterior-informed Sobol run: its calibration's posterior and the drivers it samples.

    The calibration's posterior exists, some member was calibrated, and every driver calibrated for
    it is sampled here (else its box would silently stand in for its posterior); returns the
    posterior draws per member.
    """
    posterior = _read_posterior(scenario, ctx)
    if posterior is None:
        return None
    sampled = {d.name for d in scenario.drivers}
    matched = [m for m in members if m.label in posterior]
    if members and not matched:
        ctx.add("drivers_from", f"no model x variant of this scenario was calibrated in {scenario.drivers_from!r}; "
                f"it calibrated {', '.join(posterior)}", "use the same model and variants as the calibration")
    for m in matched:
        _, unsampled, _ = split_calibrated(posterior[m.label], sampled)
        for name in unsampled:
            ctx.add("drivers", f"{m.label}: {name!r} was calibrated in {scenario.drivers_from!r} but is not sampled "
                    "here", f"add `{name}: {{range: [lower, upper]}}` (the prior box) under drivers")
    return posterior


def _read_posterior(scenario: Scenario, ctx: Context) -> dict[str, Any] | None:
    """The posterior in the ``drivers_from`` directory (inside the data root), or None after reporting."""
    value, root = scenario.drivers_from, data_root(scenario, ctx)
    try:
        directory = resolve_data_path(_base(scenario), value, root)
        if directory.exists() and not directory.is_dir():
            raise InputFileError(f"{value!r} is not a directory (resolved to {directory})",
                                 "name the --out directory of a calibration run")
        if not (directory / POSTERIOR_FILE).exists():
            raise InputFileError(f"{value!r} has no {POSTERIOR_FILE} (resolved to {directory})", "run the calibration "
                                 "first, e.g. `python -m harness run scenarios/calibrate_lter.yaml --data-root .`")
        locate(_base(scenario), f"{value}/{POSTERIOR_FILE}", root, MAX_NETCDF_BYTES)
    except InputFileError as exc:
        ctx.add("drivers_from", exc.message, exc.hint)
        return None
    except OSError as exc:  # e.g. a path component longer than the file system allows
        ctx.add("drivers_from", f"{value!r} cannot be read: {exc.strerror}", "name the --out directory of a "
                "calibration run")
        return None
    try:
        return load_posterior(directory)
    except HarnessError as exc:
        ctx.add("drivers_from", str(exc))
    except (OSError, RuntimeError, ValueError, TypeError, IndexError) as exc:  # a corrupt file
        ctx.add("drivers_from", f"{value}/{POSTERIOR_FILE}: not a soilbench calibration posterior "
                f"({exc.__class__.__name__})", "run a `calibrate` scenario to make one")
    return None


def read_cases(scenario: Scenario, members: list[Member], ctx: Context) -> tuple[dict[str, Any], ...]:
    """Kind ``points``: the cases (CSV rows or inline), cells as numbers.

    A variant key (e.g. ``parameter_set``) keeps its value and restricts the case to the members
    with that value. The cells of a column that is not a driver, ``case_id``, ``param.NAME`` or a
    variant key are kept as written (``check_cases`` names the column) and never quoted.
    """
    cases = scenario.cases
    variant_keys = {k for spec in scenario.models for k in spec.variants}
    bad: list[tuple[str, str]] = []
    if cases.source == "inline":
        rows = tuple(_case_row(r, f"cases[{i}]", variant_keys, bad, text=False) for i, r in enumerate(cases.rows))
    elif cases.source:
        table = read_csv_file(scenario, cases.source, "cases", ctx)
        if table is None:
            return ()
        if not table.plausible:
            first = next(i for i, name in enumerate(table.header) if not plausible_names([name]))
            ctx.add("cases", f"{cases.source}:1: column number {first + 1} of the header is not a column name",
                    f"name the columns (drivers, case_id, param.NAME or variant keys; letters, digits, '_', '.' "
                    f"and '-', at most {MAX_NAME} characters) in the first line, separated by commas")
            return ()
        rows = tuple(_case_row(dict(zip(table.header, cells)), f"{cases.source}:{line}", variant_keys, bad, text=True)
                     for line, cells in table.rows)
    else:
        return ()
    _report_cells(bad, "cases", ctx)
    return rows


def _case_row(row: dict, where: str, variant_keys: set[str], bad: list[tuple[str, str]], *,
              text: bool) -> dict[str, Any]:
    """One case: numbers for drivers and parameters, values for variant keys; bad cells go to ``bad``.

    ``text``: the cells are a CSV row's text (a variant cell is then read as a YAML value).
    """
    out: dict[str, Any] = {}
    for key, raw in row.items():
        if key == "case_id":
            out[key] = str(raw)
        elif key in variant_keys:
            if raw in (None, ""):
                continue
            value = _variant_value(raw) if text else raw
            if isinstance(value, str | int | float | bool):
                out[key] = value
            else:
                bad.append((f"{where}: column {key!r}: expected one value (a name or a number); got {shown(str(raw), MAX_SHOWN)}",
                            f"write one of the values listed under variants.{key}"))
        elif key in DRIVERS or key.startswith(PARAM_PREFIX):
            if raw is None or raw == "":
                continue  # an empty cell takes the baseline (driver) or the default (parameter)
            number = _number(raw)
            if number is None:
                bad.append((f"{where}: column {key!r}: expected a number; got {shown(str(raw), MAX_SHOWN)}", "fix the value"))
            out[key] = math.nan if number is None else number
        else:
            out[key] = raw  # an unknown column: check_cases names it; its cells are not read
    return out


def _variant_value(raw: str) -> Any:
    """A CSV cell of a variant column read as YAML (``1.5`` a number, ``reference`` a name), or None."""
    if len(raw) > MAX_NAME:
        return None
    value, _, issues = parse_yaml(raw)
    return None if issues else value


def check_changes(changes: Sequence[Change], plan: Plan, ctx: Context, every_member: bool) -> None:
    """Experiment changes name drivers the members have (every member, or at least one) and readable tables.

    Each change's forcing (a step, a ramp or a table read once, inside the data root) goes to
    ``plan.inputs["changes"]`` under the change's scenario path.
    """
    for change in changes:
        lacking = [m.label for m in plan.members if change.driver not in m.adapter.driver_names]
        if plan.members and (lacking if every_member else len(lacking) == len(plan.members)):
            who = f"{lacking[0]}{f' and {len(lacking) - 1} more' if len(lacking) > 1 else ''}"
            ctx.add(change.path, f"{who} does not represent {change.driver!r}",
                    "remove those models or change a driver every model has, e.g. c_input" if every_member
                    else "change a driver the models have, e.g. c_input or temperature", at_key=True)
        try:
            path = locate(plan.base, change.table, data_root(plan.scenario, ctx), MAX_NETCDF_BYTES) \
                if change.table else None
            plan.inputs.setdefault("changes", {})[change.path] = perturbation(change, path)
        except InputFileError as exc:
            ctx.add(f"{change.path}.table", exc.message, exc.hint)
        except DriverError as exc:
            ctx.add(f"{change.path}.table" if change.table else change.path, str(exc),
                    "fix the table or the change (see docs/scenarios.md, transient)")


def check_response(response: ResponseSettings, plan: Plan, ctx: Context) -> None:
    """A ``response`` section: every member must have every changed driver (its rows are all analysed)."""
    check_changes(response.experiment.changes, plan, ctx, every_member=True)

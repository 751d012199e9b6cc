"""Scenario files: parse with positions, check structure, then meaning; report all at once.

>>> scenario = load_scenario("scenarios/beta_sweep.yaml", overrides=["sobol.n=256"])
"""

from __future__ import annotations

import csv
import hashlib
import math
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError, SpecIssue
from . import checks
from .positions import YamlLoader, parse_yaml
from .schema import (
    KINDS,
    ON_FAILURE,
    SCHEMA_VERSION,
    TOP_KEYS,
    CalibrationSettings,
    Context,
    DriverRange,
    ExecutorSettings,
    GridSettings,
    LocalSettings,
    ModelSpec,
    Prior,
    Published,
    RegressionSettings,
    Scenario,
    SobolSettings,
    SweepAxis,
    SweepSettings,
    VirtualSettings,
    build_baseline,
    build_calibrate,
    build_drivers,
    build_executor,
    build_grid,
    build_local,
    build_models,
    build_outputs,
    build_published,
    build_regression,
    build_sobol,
    build_sweep,
    check_keys,
    read_choice,
    read_int,
)

__all__ = [
    "DriverRange", "LocalSettings", "ModelSpec", "Published", "Scenario", "SobolSettings", "SweepAxis",
    "SweepSettings", "RegressionSettings", "VirtualSettings", "CalibrationSettings", "Prior", "GridSettings",
    "load_scenario",
]


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, check and return a scenario; raise ``ScenarioError`` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [SpecIssue("", f"cannot read scenario file: {exc.strerror}",
                                                   "check the path")]) from exc
    data, positions, issues = parse_yaml(text)
    ctx = Context(positions)
    ctx.issues.extend(issues)
    if data is not None and not isinstance(data, dict):
        ctx.add("", f"a scenario must be a mapping of keys; got {type(data).__name__}", "start with `name: ...`")
    if ctx.issues or data is None or not isinstance(data, dict):
        raise ScenarioError(str(path), ctx.issues)
    _apply_overrides(data, overrides, ctx)
    scenario = _build(data, path, text, tuple(overrides), ctx)
    if ctx.issues:
        raise ScenarioError(str(path), ctx.issues)
    return scenario


def _apply_overrides(data: dict, overrides: tuple[str, ...] | list[str], ctx: Context) -> None:
    """``--set key.path=value`` (value parsed as YAML) onto the parsed data."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            ctx.issues.append(SpecIssue("--set", f"{item!r}: expected KEY.PATH=VALUE", "e.g. --set sobol.n=256"))
            continue
        parts = key.split(".")
        target: Any = data
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(target, dict):
                if last:
                    target[part] = _yaml_value(raw)
                else:
                    target = target.setdefault(part, {})
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                if last:
                    target[int(part)] = _yaml_value(raw)
                else:
                    target = target[int(part)]
            else:
                where = _yaml_path(parts[:depth]) or "the file"
                what = f"a list of {len(target)} items" if isinstance(target, list) else f"the value {target!r}"
                ctx.issues.append(SpecIssue("--set", f"{item!r}: {where} is {what}, which has no entry "
                                            f"{part!r}", "check the key path; list items are numbered from 0"))
                break
        else:
            ctx.overridden.add(_yaml_path(parts))


def _yaml_value(raw: str) -> Any:
    """A ``--set`` value read as the scenario file is (``1e5`` is a number)."""
    try:
        return yaml.load(raw, Loader=YamlLoader)
    except yaml.YAMLError:
        return raw


def _yaml_path(parts: list[str]) -> str:
    """``["models", "0", "beta"]`` -> ``models[0].beta`` (the path style of positions)."""
    out = ""
    for part in parts:
        out = f"{out}[{part}]" if part.isdigit() else (f"{out}.{part}" if out else part)
    return out


def _build(data: dict, path: Path, text: str, overrides: tuple[str, ...], ctx: Context) -> Scenario:
    check_keys(data, TOP_KEYS, "", ctx)
    version = data.get("schema_version")
    if "schema_version" not in data:
        ctx.add("", "missing required key 'schema_version'", f"add `schema_version: {SCHEMA_VERSION}`")
    elif version != SCHEMA_VERSION:
        ctx.add("schema_version", f"must be {SCHEMA_VERSION}; got {version!r}",
                f"write `schema_version: {SCHEMA_VERSION}`")
    name = data.get("name")
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        ctx.add("name", f"must be a name of letters, digits, '_' or '-'; got {name!r}", "e.g. `name: beta_sweep`")
        name = path.stem
    kind = read_choice(data, "kind", KINDS, None, ctx) or "sobol"
    seed_hint = "set `seed:` to a positive integer, e.g. 20240611"
    if "seed" not in data:
        ctx.add("", "missing required key 'seed'", seed_hint)
    seed = (read_int(data["seed"], "seed", ctx, 1, seed_hint) if "seed" in data else None) or 1
    data_only = kind == "regression" and "models" not in data  # a regression on a CSV needs no model
    models = () if data_only else build_models(data.get("models"), ctx)
    baseline = build_baseline(data.get("baseline", {}), ctx)
    drivers = build_drivers(data.get("drivers", {}), ctx) if "drivers" in data else ()
    sobol = build_sobol(data.get("sobol"), ctx)
    outputs = build_outputs(data.get("outputs"), ctx)
    on_failure = read_choice(data, "on_failure", ON_FAILURE, "error", ctx) or "error"
    _check_kind_sections(kind, data, ctx)
    variant_keys = {k for m in models for k in m.variants}
    cases, source = _read_cases(data.get("cases"), path, variant_keys, ctx) if "cases" in data else ((), "")
    local = build_local(data.get("local"), ctx) if "local" in data else LocalSettings()
    sweep = build_sweep(data.get("sweep"), ctx) if "sweep" in data else SweepSettings()
    published = build_published(data.get("published"), ctx) if "published" in data else ()
    executor = build_executor(data.get("executor"), ctx) if "executor" in data else ExecutorSettings()
    regression = build_regression(data.get("regression"), ctx, gridded=kind == "grid") \
        if "regression" in data else RegressionSettings()
    grid = build_grid(data.get("grid"), ctx) if "grid" in data else GridSettings()
    calibrate = build_calibrate(data.get("calibrate"), ctx) if "calibrate" in data else CalibrationSettings()
    drivers_from = _drivers_from(data.get("drivers_from"), path, ctx) if "drivers_from" in data else ""

    scenario = Scenario(
        path=str(path), name=name, description=str(data.get("description", "")), kind=kind, seed=seed,
        models=models, baseline=baseline, drivers=drivers, sobol=sobol, outputs=outputs,
        on_failure=on_failure, cases=cases, cases_source=source, local=local, sweep=sweep,
        published=published, executor=executor, regression=regression, calibrate=calibrate,
        drivers_from=drivers_from, grid=grid, sha256=hashlib.sha256(text.encode()).hexdigest(), overrides=overrides,
    )
    specs = checks.check_models(models, ctx)
    checks.check_driver_names(baseline, drivers, ctx, models)
    members = checks.build_members(scenario, specs, ctx)
    in_domain = checks.check_baseline_domain(members, ctx)
    every_model_valid = len(specs) == len(models) and len(members) == sum(len(s.variant_list()) for s in models)
    checks.check_sampled_ranges(members, drivers, ctx, every_model_valid=every_model_valid, corners_for=in_domain)
    if kind in ("local", "sweep"):
        checks.check_varied_drivers(scenario, in_domain, ctx, every_model_valid=every_model_valid)
    if kind in ("regression", "grid") and "regression" in data:
        checks.check_regression(scenario, members, in_domain, ctx, every_model_valid=every_model_valid)
    if kind == "calibrate" and "calibrate" in data:
        checks.check_calibration(scenario, members, ctx)
    if kind == "grid" and "grid" in data:
        checks.check_grid(scenario, members, ctx)
    if drivers_from:
        checks.check_drivers_from(scenario, members, ctx)
    checks.check_published(published, members, scenario, ctx)
    checks.check_outputs(outputs, members, ctx)
    checks.check_cases(cases, members, ctx)
    return scenario


#: the section each kind requires, with a hint
REQUIRED_SECTION = {
    "sobol": ("drivers", "a sobol scenario needs sampled drivers", "add `drivers: {c_input: {relative: [0.5, 1.5]}}`"),
    "points": ("cases", "a points scenario needs `cases` (a CSV path or a list)", "add `cases: cases.csv`"),
    "local": ("local", "a local scenario needs a `local` section", "add `local: {drivers: [c_input, cue_scale]}`"),
    "sweep": ("sweep", "a sweep scenario needs a `sweep` section",
              "add `sweep: {drivers: {c_input: {relative: [0.5, 1.5], num: 11}}}`"),
    "regression": ("regression", "a regression scenario needs a `regression` section",
                   "add `regression: {data: observations.csv, response: log10_soc, predictors: [npp], group: source}`"),
    "calibrate": ("calibrate", "a calibrate scenario needs a `calibrate` section",
                  "add `calibrate: {observations: {...}, priors: {...}}` (see docs/scenarios.md)"),
    "grid": ("grid", "a grid scenario needs a `grid` section",
             "add `grid: {forcing: forcing.nc, drivers: {c_input: npp}}` (see docs/scenarios.md)"),
}
#: sections used only by some kinds
SECTION_KINDS = {
    "drivers": ("sobol",), "sobol": ("sobol",), "on_failure": ("sobol",), "cases": ("points",),
    "local": ("local",), "sweep": ("sweep",), "published": ("local", "sweep"),
    "regression": ("regression", "grid"), "calibrate": ("calibrate",), "drivers_from": ("sobol",),
    "grid": ("grid",),
}


def _check_kind_sections(kind: str, data: dict, ctx: Context) -> None:
    key, message, hint = REQUIRED_SECTION[kind]
    if not data.get(key):
        ctx.add(key, message, hint)
    for key, kinds in SECTION_KINDS.items():
        if key in data and kind not in kinds:
            ctx.add(key, f"is used only by kind {' or '.join(map(repr, kinds))}; this scenario is {kind!r}",
                    "remove it", at_key=True)


def _drivers_from(value: Any, scenario_path: Path, ctx: Context) -> str:
    """A calibration result directory (relative to the scenario file) holding ``posterior.nc``."""
    if not isinstance(value, str) or not value:
        ctx.add("drivers_from", f"must be a calibration result directory; got {value!r}",
                "e.g. `drivers_from: ../results/calibrate_lter`")
        return ""
    if not (scenario_path.parent / value / "posterior.nc").is_file():
        ctx.add("drivers_from", f"{value!r} has no posterior.nc (resolved to "
                f"{(scenario_path.parent / value).resolve()})",
                "run the calibration first, e.g. `python -m harness run scenarios/calibrate_lter.yaml`")
        return ""
    return value


def _read_cases(value: Any, scenario_path: Path, variant_keys: set[str],
                ctx: Context) -> tuple[tuple[dict, ...], str]:
    if isinstance(value, str):
        csv_path = (scenario_path.parent / value).resolve()
        try:
            with csv_path.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            ctx.add("cases", f"cannot read {value!r}: {exc.strerror}", "the path is relative to the scenario file")
            return (), value
        return tuple(_case_row(r, f"{value}:{i + 2}", variant_keys, ctx) for i, r in enumerate(rows)), value
    if isinstance(value, list) and all(isinstance(r, dict) for r in value):
        return tuple(_case_row(r, f"cases[{i}]", variant_keys, ctx) for i, r in enumerate(value)), "inline"
    ctx.add("cases", f"must be a CSV path or a list of mappings; got {value!r}", "e.g. `cases: cases.csv`")
    return (), ""


def _case_row(row: dict, where: str, variant_keys: set[str], ctx: Context) -> dict[str, Any]:
    """Numbers for drivers and parameters; a variant key (e.g. ``parameter_set``) keeps its value
    and restricts the case to the members with that variant value."""
    out: dict[str, Any] = {}
    for key, raw in row.items():
        if key == "case_id":
            out[key] = str(raw)
            continue
        if key in variant_keys:
            if raw not in (None, ""):
                out[key] = yaml.safe_load(raw) if isinstance(raw, str) else raw
            continue
        if raw is None or raw == "":
            continue  # an empty cell takes the baseline (driver) or the default (parameter)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(raw, bool) or math.isnan(value):
            ctx.add("cases", f"{where}: column {key!r}: expected a number; got {raw!r}", "fix the value")
        out[key] = value
    return out

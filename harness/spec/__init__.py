"""What a scenario file says: parse with positions, check its structure, report every problem at once.

Pure data: nothing here reads files (beyond the text it is given), builds adapters or knows the
registry; meaning is checked by the plan (``harness.plan``). The kinds are passed in, so the
scenario model asks each kind which sections it reads instead of keeping a list.

>>> scenario, ctx = parse_scenario(text, "beta_sweep.yaml", kinds=harness.kinds.kinds())
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import yaml

from ..errors import ScenarioError, SpecIssue
from .positions import YamlLoader, parse_yaml
from .schema import (
    COMMON_KEYS,
    ON_FAILURE,
    SCHEMA_VERSION,
    CalibrationSettings,
    Cases,
    Context,
    DriverRange,
    ExecutorSettings,
    GridSettings,
    KindSchema,
    LocalSettings,
    ModelSpec,
    Prior,
    Published,
    RegressionSettings,
    Scenario,
    Section,
    SobolSettings,
    SweepAxis,
    SweepSettings,
    VirtualSettings,
    build_baseline,
    build_executor,
    build_models,
    build_outputs,
    check_keys,
    read_choice,
    read_int,
)

__all__ = [
    "Cases", "DriverRange", "KindSchema", "LocalSettings", "ModelSpec", "ON_FAILURE", "Published", "Scenario",
    "Section", "SobolSettings", "SweepAxis", "SweepSettings", "RegressionSettings", "VirtualSettings",
    "CalibrationSettings", "Prior", "GridSettings", "parse_scenario",
]


def parse_scenario(text: str, path: str, overrides: list[str] | tuple[str, ...] = (), *,
                   kinds: Mapping[str, KindSchema]) -> tuple[Scenario, Context]:
    """The scenario ``text`` (read from ``path``) with ``--set`` overrides, and the context of its positions and issues.

    Raise ``ScenarioError`` when it cannot be read as a mapping.
    """
    data, positions, issues = parse_yaml(text)
    ctx = Context(positions)
    ctx.issues.extend(issues)
    if data is not None and not isinstance(data, dict):
        ctx.add("", f"a scenario must be a mapping of keys; got {type(data).__name__}", "start with `name: ...`")
    if ctx.issues or data is None or not isinstance(data, dict):
        raise ScenarioError(path, ctx.issues)
    _apply_overrides(data, overrides, ctx)
    return _build(data, path, text, tuple(overrides), kinds, ctx), ctx


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


def _build(data: dict, path: str, text: str, overrides: tuple[str, ...], kinds: Mapping[str, KindSchema],
           ctx: Context) -> Scenario:
    sections = {key for k in kinds.values() for key in k.sections}
    check_keys(data, COMMON_KEYS + tuple(sorted(sections - set(COMMON_KEYS))), "", ctx)
    version = data.get("schema_version")
    if "schema_version" not in data:
        ctx.add("", "missing required key 'schema_version'", f"add `schema_version: {SCHEMA_VERSION}`")
    elif version != SCHEMA_VERSION:
        ctx.add("schema_version", f"must be {SCHEMA_VERSION}; got {version!r}",
                f"write `schema_version: {SCHEMA_VERSION}`")
    name = data.get("name")
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        ctx.add("name", f"must be a name of letters, digits, '_' or '-'; got {name!r}", "e.g. `name: beta_sweep`")
        name = PurePath(path).stem
    kind = _kind(data, kinds, ctx)
    seed_hint = "set `seed:` to a positive integer, e.g. 20240611"
    if "seed" not in data:
        ctx.add("", "missing required key 'seed'", seed_hint)
    seed = (read_int(data["seed"], "seed", ctx, 1, seed_hint) if "seed" in data else None) or 1
    data_only = kind.name == "regression" and "models" not in data  # a regression on a CSV needs no model
    scenario = Scenario(
        path=path, name=name, description=str(data.get("description", "")), kind=kind.name, seed=seed,
        models=() if data_only else build_models(data.get("models"), ctx),
        baseline=build_baseline(data.get("baseline", {}), ctx), outputs=build_outputs(data.get("outputs"), ctx),
        executor=build_executor(data.get("executor"), ctx) if "executor" in data else ExecutorSettings(),
        sections=_sections(data, kind, kinds, ctx), given=frozenset(k for k in kind.sections if k in data),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        overrides=overrides,
    )
    return _with_varied(scenario, kind)


def _with_varied(scenario: Scenario, kind: KindSchema) -> Scenario:
    return dataclasses.replace(scenario, varied=kind.varied(scenario))


def _kind(data: dict, kinds: Mapping[str, KindSchema], ctx: Context) -> KindSchema:
    return kinds[read_choice(data, "kind", tuple(kinds), None, ctx) or "sobol"]


def _sections(data: dict, kind: KindSchema, kinds: Mapping[str, KindSchema], ctx: Context) -> dict[str, Any]:
    """The kind's sections (built, or their defaults), and the issues of its sections.

    An issue for a section it needs and lacks or one only other kinds read.
    """
    out = {}
    for key, section in kind.sections.items():
        if key in data:
            out[key] = section.build(data[key], ctx)
        else:
            out[key] = section.default
        if section.required and not data.get(key):
            ctx.add(key, *section.required)
    for key in data:
        if key in COMMON_KEYS or key in kind.sections:
            continue
        users = [k.name for k in kinds.values() if key in k.sections]
        if users:
            ctx.add(key, f"is used only by kind {' or '.join(map(repr, users))}; this scenario is {kind.name!r}",
                    "remove it", at_key=True)
    return out

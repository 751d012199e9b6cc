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

from ..errors import ScenarioError, SpecIssue
from .positions import MAX_DEPTH, MAX_SCENARIO_BYTES, decode, parse_yaml, shown
from .schema import (
    COMMON_KEYS,
    MAX_NAME_LENGTH,
    MAX_SEED,
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
    "CalibrationSettings", "Prior", "GridSettings", "parse_scenario", "decode_scenario", "MAX_SCENARIO_BYTES",
]


def decode_scenario(raw: bytes, path: str) -> str:
    """The text of the scenario file ``path`` from its bytes (UTF-8, at most ``MAX_SCENARIO_BYTES``).

    Raise ``ScenarioError`` at the first byte that is not UTF-8 text, or when the file is too large.
    """
    text, issue = decode(raw)
    if issue is not None:
        raise ScenarioError(path, [issue])
    return text


def parse_scenario(text: str, path: str, overrides: list[str] | tuple[str, ...] = (), *,
                   kinds: Mapping[str, KindSchema]) -> tuple[Scenario, Context]:
    """The scenario ``text`` (read from ``path``) with ``--set`` overrides, and the context of its positions and issues.

    Raise ``ScenarioError`` when it cannot be read as a mapping.
    """
    data, positions, issues = parse_yaml(text)
    ctx = Context(positions)
    ctx.issues.extend(issues)
    if not issues and not isinstance(data, dict):
        got = "an empty document" if data is None else type(data).__name__
        ctx.add("", f"a scenario must be a mapping of keys; got {got}", "start with `schema_version: 1`")
    if ctx.issues or not isinstance(data, dict):
        raise ScenarioError(path, ctx.issues)
    _apply_overrides(data, overrides, ctx)
    return _build(data, path, text, tuple(overrides), kinds, ctx), ctx


def _apply_overrides(data: dict, overrides: tuple[str, ...] | list[str], ctx: Context) -> None:
    """``--set key.path=value`` (value parsed as the scenario file is) onto the parsed data."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        parts = key.split(".")
        if not sep or not key:
            ctx.issues.append(SpecIssue("--set", f"{item!r}: expected KEY.PATH=VALUE", "e.g. --set sobol.n=256"))
            continue
        if len(parts) > MAX_DEPTH:
            ctx.issues.append(SpecIssue("--set", f"{item!r}: the key path is deeper than {MAX_DEPTH} levels",
                                        "check the key path"))
            continue
        value, _, issues = parse_yaml(raw)  # the value is read as the scenario file is (``1e5`` is a number)
        if issues:
            ctx.issues.extend(SpecIssue("--set", f"{item!r}: {i.message}", i.hint) for i in issues)
            continue
        target: Any = data
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(target, dict):
                if last:
                    target[part] = value
                else:
                    target = target.setdefault(part, {})
            elif isinstance(target, list) and 0 <= _index(part) < len(target):
                if last:
                    target[_index(part)] = value
                else:
                    target = target[_index(part)]
            else:
                where = _yaml_path(parts[:depth]) or "the file"
                what = f"a list of {len(target)} items" if isinstance(target, list) else f"the value {shown(target)}"
                ctx.issues.append(SpecIssue("--set", f"{item!r}: {where} is {what}, which has no entry "
                                            f"{part!r}", "check the key path; list items are numbered from 0"))
                break
        else:
            ctx.overridden.add(_yaml_path(parts))


def _index(part: str) -> int:
    """``part`` of a key path as a list index; -1 when it is not one."""
    return int(part) if part.isascii() and part.isdigit() else -1


def _yaml_path(parts: list[str]) -> str:
    """``["models", "0", "beta"]`` -> ``models[0].beta`` (the path style of positions)."""
    out = ""
    for part in parts:
        out = f"{out}[{part}]" if _index(part) >= 0 else (f"{out}.{part}" if out else part)
    return out


def _build(data: dict, path: str, text: str, overrides: tuple[str, ...], kinds: Mapping[str, KindSchema],
           ctx: Context) -> Scenario:
    sections = {key for k in kinds.values() for key in k.sections}
    check_keys(data, COMMON_KEYS + tuple(sorted(sections - set(COMMON_KEYS))), "", ctx)
    version = data.get("schema_version")
    if "schema_version" not in data:
        ctx.add("", "missing required key 'schema_version'", f"add `schema_version: {SCHEMA_VERSION}`")
    elif version != SCHEMA_VERSION:
        ctx.add("schema_version", f"must be {SCHEMA_VERSION}; got {shown(version)}",
                f"write `schema_version: {SCHEMA_VERSION}`")
    name = data.get("name")
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        ctx.add("name", f"must be a name of letters, digits, '_' or '-'; got {shown(name)}", "e.g. `name: beta_sweep`")
        name = PurePath(path).stem
    elif len(name) > MAX_NAME_LENGTH:
        ctx.add("name", f"must be at most {MAX_NAME_LENGTH} characters long (it names the result directory); got "
                f"{len(name)}", "write a shorter name")
        name = PurePath(path).stem
    kind = _kind(data, kinds, ctx)
    seed_hint = "set `seed:` to a positive integer, e.g. 20240611"
    if "seed" not in data:
        ctx.add("", "missing required key 'seed'", seed_hint)
    seed = (read_int(data["seed"], "seed", ctx, 1, seed_hint, MAX_SEED) if "seed" in data else None) or 1
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

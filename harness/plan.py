"""What a scenario means, resolved once: its members, their domains and the inputs it reads.

``plan_scenario`` runs every check a scenario needs (the shared ones here, the kind's own through
``kind.check``), collects every problem with its position and raises them together. What a check
builds or reads (members, a forcing grid, a posterior, an observation table, the cases) is kept
on the ``Plan``; validation, the runner and the kinds all use that one plan, so nothing is read
or built twice.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from . import checks
from .errors import HarnessError, ScenarioError, SpecIssue
from .members import Member
from .response import with_response
from .spec import MAX_SCENARIO_BYTES, KindSchema, Scenario, decode_scenario, parse_scenario
from .spec.schema import Context


class PlannedKind(KindSchema, Protocol):
    """A kind as the plan sees it: its schema and its own checks."""

    @property
    def check(self) -> Callable[[Plan, Context], None]:
        """Adds the kind's issues to ``ctx`` and keeps the inputs it reads in ``plan.inputs``."""
        ...


@dataclass
class Plan:
    """A checked scenario: its members (valid ones), and the inputs its kind read."""

    scenario: Scenario
    members: list[Member]
    text: str  # the scenario file as read (copied into the result directory)
    #: members whose baseline row lies in the model's domain
    in_domain: list[Member] = field(default_factory=list)
    #: every model entry was accepted (so "represented by none" can be judged)
    every_model_valid: bool = True
    #: inputs the kind's checks read, by name (e.g. ``forcing``, ``posterior``, ``observations``)
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> Path:
        """The folder relative paths of the scenario are resolved against."""
        return Path(self.scenario.path).parent


def read_plan(path: str | Path, overrides: list[str] | tuple[str, ...] = (), *,
              kinds: Mapping[str, PlannedKind], data_root: str | Path | None = None) -> Plan:
    """Read, check and plan the scenario file at ``path``; raise ``ScenarioError`` listing every problem.

    The data files it names must lie inside ``data_root`` (default: the scenario's folder).
    """
    path = Path(path)
    return plan_text(decode_scenario(_read_bytes(path), str(path)), str(path), overrides, kinds=kinds,
                     data_root=data_root)


def _read_bytes(path: Path) -> bytes:
    """The scenario file's bytes, no more than one past ``MAX_SCENARIO_BYTES`` (so a larger file is refused)."""
    if "\0" in str(path):
        raise ScenarioError(str(path), [SpecIssue("", "cannot read scenario file: the path holds a NUL byte",
                                                   "check the path")])
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):  # a fifo or device may block or never end: refused unopened
            what = "a directory" if stat.S_ISDIR(mode) else "a device, fifo or socket"
            raise ScenarioError(str(path), [SpecIssue("", f"cannot read scenario file: it is {what}, not a file",
                                                       "pass the path of a scenario .yaml file")])
        with path.open("rb") as file:
            return file.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(str(path), [SpecIssue("", f"cannot read scenario file: {exc.strerror}",
                                                   "check the path")]) from exc


def plan_from_dict(data: Mapping[str, Any], base: str | Path = ".", overrides: list[str] | tuple[str, ...] = (), *,
                   kinds: Mapping[str, PlannedKind], data_root: str | Path | None = None) -> Plan:
    """Plan a scenario given as a mapping (as its YAML would read).

    Relative paths in it are resolved against ``base`` and must lie inside ``data_root`` (default:
    ``base``). Problems are reported against the mapping written as YAML.
    """
    text = yaml.safe_dump(dict(data), sort_keys=False)
    return plan_text(text, str(Path(base) / f"{data.get('name', 'scenario')}.yaml"), overrides, kinds=kinds,
                     data_root=data_root)


def plan_text(text: str, path: str, overrides: list[str] | tuple[str, ...] = (), *,
              kinds: Mapping[str, PlannedKind], data_root: str | Path | None = None) -> Plan:
    """Parse, check and plan scenario ``text`` (read from ``path``; its data files inside ``data_root``)."""
    root = resolve_data_root(data_root, path)
    scenario, ctx = parse_scenario(text, path, overrides, kinds=kinds)
    ctx = checks.FileContext(ctx, root)
    plan = plan_scenario(scenario, text, ctx, kinds[scenario.kind])
    if ctx.issues:
        raise ScenarioError(path, ctx.issues)
    return plan


def resolve_data_root(data_root: str | Path | None, path: str | Path) -> Path:
    """The data root, resolved: ``data_root`` (a directory) or the folder of the scenario at ``path``."""
    if data_root is None:
        return Path(path).parent.resolve()
    root = Path(data_root).resolve()
    if not root.is_dir():
        raise HarnessError(f"the data root {data_root} is not a directory; pass an existing folder to "
                           "--data-root (CLI) or data_root= (API)")
    return root


def plan_scenario(scenario: Scenario, text: str, ctx: Context, kind: PlannedKind) -> Plan:
    """Resolve the members and run every check; the issues are left in ``ctx``."""
    sampled = scenario.sections.get("drivers", ())
    specs = checks.check_models(scenario.models, ctx)
    checks.check_driver_names(scenario.baseline, sampled, ctx, scenario.models)
    members = checks.build_members(scenario, specs, ctx)
    in_domain = checks.check_baseline_domain(members, ctx)
    every_model_valid = len(specs) == len(scenario.models) and len(members) == sum(
        len(s.variant_list()) for s in scenario.models)
    plan = Plan(scenario, members, text, in_domain, every_model_valid)
    checks.check_sampled_ranges(members, sampled, ctx, every_model_valid=every_model_valid, corners_for=in_domain)
    kind.check(plan, ctx)
    checks.check_outputs(scenario.outputs, members, ctx)
    response = scenario.sections.get("response")
    if response is not None:
        checks.check_response(response, plan, ctx)
        if not ctx.issues:  # the members answer the response from here on (harness.response)
            plan.members = with_response(plan.members, response, plan.inputs["changes"])
            plan.in_domain = with_response(plan.in_domain, response, plan.inputs["changes"])
    return plan

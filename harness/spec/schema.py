"""Scenario structure: frozen dataclasses built from parsed YAML, with type and key checks.

Nothing here knows the registry; meaning (models exist, ranges inside domains) is checked in
``checks.py``. Every builder appends ``SpecIssue``s to a shared ``Context`` instead of raising,
so all problems of a file are reported together.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecIssue
from .positions import Positions, join

SCHEMA_VERSION = 1
KINDS = ("sobol", "points")
ON_FAILURE = ("error", "drop_blocks")
TOP_KEYS = (
    "schema_version", "name", "description", "kind", "seed", "models", "baseline",
    "drivers", "sobol", "outputs", "cases", "on_failure",
)
MODEL_KEYS = ("model", "variants", "parameters")
DRIVER_KEYS = ("range", "relative", "group")
SOBOL_KEYS = ("n", "second_order", "bootstrap", "confidence")


@dataclass(frozen=True)
class ModelSpec:
    """One ``models`` entry; its variants are the Cartesian product of the option lists."""

    model: str
    variants: dict[str, tuple[Any, ...]]
    parameters: dict[str, float]
    path: str  # e.g. "models[0]"

    def variant_list(self) -> list[dict[str, Any]]:
        keys = list(self.variants)
        return [dict(zip(keys, combo)) for combo in itertools.product(*self.variants.values())]


@dataclass(frozen=True)
class DriverRange:
    """A sampled driver: absolute ``range`` or ``relative`` multipliers on each model's baseline."""

    name: str
    mode: str  # "range" | "relative"
    lower: float
    upper: float
    group: str | None
    path: str


@dataclass(frozen=True)
class SobolSettings:
    n: int = 1024
    second_order: bool = False
    bootstrap: int = 1000
    confidence: float = 0.95


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file."""

    path: str
    name: str
    description: str
    kind: str
    seed: int
    models: tuple[ModelSpec, ...]
    baseline: dict[str, float]
    drivers: tuple[DriverRange, ...]
    sobol: SobolSettings
    outputs: tuple[str, ...]
    on_failure: str
    cases: tuple[dict[str, Any], ...] = ()
    cases_source: str = ""
    sha256: str = ""
    overrides: tuple[str, ...] = field(default=())

    @property
    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for d in self.drivers:
            if d.group:
                out.setdefault(d.group, []).append(d.name)
        return out


def parent(path: str) -> str:
    """``models[1].model`` -> ``models[1]`` -> ``models`` -> ``""``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path[: path.rindex(".")] if "." in path else ""


class Context:
    """Positions of the parsed file and the issues found so far."""

    def __init__(self, positions: Positions, overridden: set[str] | None = None):
        self.positions = positions
        self.overridden = overridden or set()
        self.issues: list[SpecIssue] = []

    def where(self, path: str, at_key: bool = False) -> tuple[int, int]:
        """Position of ``path`` (its key if ``at_key``), else of its nearest located parent."""
        if at_key and path + "#key" in self.positions:
            return self.positions[path + "#key"]
        while path not in self.positions:
            if not path:
                return (0, 0)
            path = parent(path)
        return self.positions[path]

    def add(self, path: str, message: str, hint: str = "", at_key: bool = False) -> None:
        if any(path == o or path.startswith(o + ".") or path.startswith(o + "[") for o in self.overridden):
            message += " (set with --set)"
        issue = SpecIssue(path, message, hint, *self.where(path, at_key))
        if issue not in self.issues:  # e.g. the same rule failing for each variant of a model
            self.issues.append(issue)


# -- small typed readers -----------------------------------------------------------------------
def did_you_mean(name: str, known: Any) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known))}"


def check_keys(data: dict, allowed: tuple[str, ...], path: str, ctx: Context) -> None:
    for key in data:
        if key not in allowed:
            ctx.add(join(path, key), f"unknown key {key!r}", did_you_mean(key, allowed), at_key=True)


def read_number(value: Any, path: str, ctx: Context) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        ctx.add(path, f"must be a finite number; got {value!r}", "write e.g. 1.5 or 2e-3")
        return None
    return float(value)


def read_int(value: Any, path: str, ctx: Context, minimum: int, hint: str = "") -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        ctx.add(path, f"must be an integer >= {minimum}; got {value!r}", hint)
        return None
    return value


def read_mapping(value: Any, path: str, ctx: Context, what: str = "a mapping") -> dict | None:
    if not isinstance(value, dict):
        ctx.add(path, f"must be {what}; got {type(value).__name__} {value!r}", "write `key: value` pairs")
        return None
    return value


def read_pair(value: Any, path: str, ctx: Context) -> tuple[float, float] | None:
    if not (isinstance(value, list) and len(value) == 2):
        ctx.add(path, f"must be a list [lower, upper]; got {value!r}", "write e.g. [0.5, 1.5]")
        return None
    lo, hi = (read_number(v, join(path, i), ctx) for i, v in enumerate(value))
    if lo is None or hi is None:
        return None
    if not lo < hi:
        ctx.add(path, f"lower must be < upper; got [{lo:g}, {hi:g}]", "swap or widen the bounds")
        return None
    return lo, hi


# -- section builders ----------------------------------------------------------------------------
def build_models(value: Any, ctx: Context) -> tuple[ModelSpec, ...]:
    if not isinstance(value, list) or not value:
        ctx.add("models", f"must be a non-empty list of models; got {value!r}", "write `- model: clm5_firstorder`")
        return ()
    specs = []
    for i, item in enumerate(value):
        path = join("models", i)
        if isinstance(item, str):
            item = {"model": item}
        entry = read_mapping(item, path, ctx, "a mapping with key 'model'")
        if entry is None:
            continue
        check_keys(entry, MODEL_KEYS, path, ctx)
        name = entry.get("model")
        if not isinstance(name, str):
            ctx.add(join(path, "model"), f"must name a model; got {name!r}", "run `python -m harness models`")
            continue
        variants = _build_variants(entry.get("variants", {}), join(path, "variants"), ctx)
        params = _build_numbers(entry.get("parameters", {}), join(path, "parameters"), ctx)
        specs.append(ModelSpec(name, variants, params, path))
    return tuple(specs)


def _build_variants(value: Any, path: str, ctx: Context) -> dict[str, tuple[Any, ...]]:
    data = read_mapping(value, path, ctx)
    out: dict[str, tuple[Any, ...]] = {}
    for key, values in (data or {}).items():
        values = values if isinstance(values, list) else [values]
        if not values:
            ctx.add(join(path, key), "needs at least one value", "write e.g. [1.0, 1.5]")
            continue
        out[key] = tuple(float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values)
    return out


def _build_numbers(value: Any, path: str, ctx: Context) -> dict[str, float]:
    data = read_mapping(value, path, ctx)
    out = {}
    for key, v in (data or {}).items():
        number = read_number(v, join(path, key), ctx)
        if number is not None:
            out[key] = number
    return out


def build_baseline(value: Any, ctx: Context) -> dict[str, float]:
    return _build_numbers(value, "baseline", ctx)


def build_drivers(value: Any, ctx: Context) -> tuple[DriverRange, ...]:
    data = read_mapping(value, "drivers", ctx)
    out = []
    for name, entry in (data or {}).items():
        path = join("drivers", name)
        entry = read_mapping(entry, path, ctx, "a mapping with `range` or `relative`")
        if entry is None:
            continue
        check_keys(entry, DRIVER_KEYS, path, ctx)
        modes = [m for m in ("range", "relative") if m in entry]
        if len(modes) != 1:
            ctx.add(path, "needs exactly one of `range` (absolute) or `relative` (multiplier)",
                    "write e.g. `relative: [0.5, 1.5]`")
            continue
        pair = read_pair(entry[modes[0]], join(path, modes[0]), ctx)
        group = entry.get("group")
        if group is not None and not isinstance(group, str):
            ctx.add(join(path, "group"), f"must be a group name; got {group!r}", "write e.g. `group: microbial`")
            group = None
        if pair is not None:
            out.append(DriverRange(name, modes[0], pair[0], pair[1], group, path))
    return tuple(out)


def build_sobol(value: Any, ctx: Context) -> SobolSettings:
    data = read_mapping(value, "sobol", ctx) if value is not None else {}
    if data is None:
        return SobolSettings()
    check_keys(data, SOBOL_KEYS, "sobol", ctx)
    default = SobolSettings()
    n = read_int(data.get("n", default.n), "sobol.n", ctx, 2, "use a power of 2, e.g. 1024")
    if n is not None and n & (n - 1):
        ctx.add("sobol.n", f"must be a power of 2 (Sobol sequence balance); got {n}",
                f"use {1 << (n - 1).bit_length()} or {1 << (n.bit_length() - 1)}")
    boot = read_int(data.get("bootstrap", default.bootstrap), "sobol.bootstrap", ctx, 10, "use e.g. 1000")
    second = data.get("second_order", default.second_order)
    if not isinstance(second, bool):
        ctx.add("sobol.second_order", f"must be true or false; got {second!r}")
    conf = read_number(data.get("confidence", default.confidence), "sobol.confidence", ctx)
    if conf is not None and not 0 < conf < 1:
        ctx.add("sobol.confidence", f"must lie in (0, 1); got {conf:g}", "use e.g. 0.95")
    return SobolSettings(n or default.n, bool(second), boot or default.bootstrap, conf or default.confidence)


def build_outputs(value: Any, ctx: Context) -> tuple[str, ...]:
    if value is None:
        return ("soc",)
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        ctx.add("outputs", f"must be a list of output names; got {value!r}", "write e.g. [soc, soc_total]")
        return ("soc",)
    return tuple(value)


def read_choice(data: dict, key: str, choices: tuple[str, ...], default: str | None, ctx: Context) -> str | None:
    value = data.get(key, default)
    if value is None:
        ctx.add("", f"missing required key {key!r}", f"add `{key}: {choices[0]}`")
        return None
    if value not in choices:
        ctx.add(key, f"must be one of {', '.join(choices)}; got {value!r}", did_you_mean(value, choices))
        return None
    return value

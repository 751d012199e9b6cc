"""Parse YAML keeping the position of every key and value.

``parse_yaml`` returns plain Python data plus a side table ``{path: (line, col)}`` (1-based),
where a path reads ``models[1].variants.beta``. Keys are recorded under ``path + "#key"`` so an
unknown key can be pointed at precisely.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import SpecIssue

Positions = dict[str, tuple[int, int]]


def join(path: str, key: str | int) -> str:
    """Child path: ``join("models", 1) == "models[1]"``, ``join("sobol", "n") == "sobol.n"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading exponent floats as YAML 1.2 does.

    ``1e5``, ``1.0e5`` and ``2e-3`` are numbers (YAML 1.1 wants a dot and a signed exponent, else
    they are strings).
    """


YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def parse_yaml(text: str) -> tuple[Any, Positions, list[SpecIssue]]:
    """Data, positions and issues (malformed YAML, duplicate or non-string keys)."""
    try:
        node = yaml.compose(text, Loader=YamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = f"{exc.context + '; ' if exc.context else ''}{exc.problem or 'malformed YAML'}"
        return None, {}, [SpecIssue("", f"malformed YAML: {what}", "check indentation, colons and quotes", line, col)]
    positions: Positions = {}
    issues: list[SpecIssue] = []
    if node is None:
        return {}, positions, issues
    data = _convert(node, "", positions, issues, yaml.constructor.SafeConstructor())
    return data, positions, issues


def _convert(node: yaml.Node, path: str, positions: Positions, issues: list[SpecIssue], ctor: Any) -> Any:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key, str):
                issues.append(SpecIssue(path, f"keys must be strings; got {key!r}", "quote the key", *where))
                continue
            child = join(path, key)
            if key in out:
                issues.append(SpecIssue(child, "duplicate key", "remove one of the two entries", *where))
                continue
            positions[child + "#key"] = where
            out[key] = _convert(value_node, child, positions, issues, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, join(path, i), positions, issues, ctor) for i, item in enumerate(node.value)]
    try:
        return ctor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        issues.append(SpecIssue(path, f"cannot read value: {exc}", "", *positions[path]))
        return None

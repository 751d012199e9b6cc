"""Decode and parse a scenario file keeping the position of every key and value, within declared limits.

``parse_yaml`` returns plain Python data plus a side table ``{path: (line, col)}`` (1-based),
where a path reads ``models[1].variants.beta``. Keys are recorded under ``path + "#key"`` so an
unknown key can be pointed at precisely.

Only plain YAML is read: the standard scalar tags, sequences and mappings, anchors, aliases and
merge keys (``<<``). A file that is too large, nests too deeply or whose aliases expand to too
many values is refused while it is read, never after (see Limits in docs/scenarios.md).
"""

from __future__ import annotations

import base64
import codecs
import math
import re
from typing import Any

import yaml

from ..errors import SpecIssue

Positions = dict[str, tuple[int, int]]

#: largest scenario file [bytes]; a larger one is refused without being read to its end
MAX_SCENARIO_BYTES = 1 << 20
#: deepest nesting of sequences and mappings, counting what aliases repeat [levels]
MAX_DEPTH = 64
#: most values (keys, items and scalars) of a file, each alias counted as often as it is used
MAX_NODES = 20_000

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML + t for t in ("null", "bool", "int", "float", "str", "binary", "timestamp"))
_MERGE = _YAML + "merge"
#: implicit tags of a plain ``<<`` or ``=`` outside a key: read as the text they are
_AS_TEXT = frozenset((_MERGE, _YAML + "value"))
#: what is not text: control characters but tab, newline and carriage return; DEL, C1 controls but
#: NEL; surrogates, U+FFFE, U+FFFF, and a byte order mark after the start (PyYAML's set, and U+FEFF)
_NOT_TEXT = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # line breaks as PyYAML counts them
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
         (codecs.BOM_UTF16_BE, "UTF-16"))
_SAVE_AS_UTF8 = "save the file as UTF-8"
_FAILED = object()  # a scalar that could not be read (and was reported)


def join(path: str, key: str | int) -> str:
    """Child path: ``join("models", 1) == "models[1]"``, ``join("sobol", "n") == "sobol.n"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading exponent floats as YAML 1.2 does, failing only with ``yaml.YAMLError``.

    ``1e5``, ``1.0e5`` and ``2e-3`` are numbers (YAML 1.1 wants a dot and a signed exponent, else
    they are strings). For ``yaml.load`` of a short text; a scenario is read by ``parse_yaml``.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's, with a value its tag refuses (``!!int abc``) raising ``ConstructorError``, not ``ValueError``."""
        try:
            return super().construct_object(node, deep)
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read {shown(node.value)} as "
                                                    f"{_short(node.tag)}", node.start_mark) from exc


YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


class _Limit(Exception):
    """A limit was passed: reading stops with this one issue."""

    def __init__(self, issue: SpecIssue):
        super().__init__(issue.message)
        self.issue = issue


class _Loader(YamlLoader):
    """``YamlLoader`` that stops composing past ``MAX_DEPTH`` or ``MAX_NODES`` and locates aliases.

    An alias is composed as a shallow copy of its anchor's node placed at the alias (sharing the
    anchor's value, so nothing is expanded here); ``aliases`` holds the ids of these copies.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0
        self.aliases: set[int] = set()

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """The next node (PyYAML's ``Composer.compose_node``), counted and with its depth checked."""
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if node is None:
                return None
            copy = type(node)(node.tag, node.value, mark, mark)
            self.aliases.add(id(copy))
            return copy
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH:
            raise _Limit(SpecIssue("", f"nests deeper than {MAX_DEPTH} levels",
                                   "a scenario needs a few levels; look for unclosed brackets", *_where(mark)))
        if self.nodes > MAX_NODES:
            raise _Limit(SpecIssue("", f"holds more than {MAX_NODES} values", "put large tables in a CSV file "
                                   "(e.g. `cases: cases.csv`)", *_where(mark)))
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def decode(raw: bytes) -> tuple[str, SpecIssue | None]:
    """The text of a scenario file's bytes: UTF-8, with or without a byte order mark.

    Else the issue that stops reading it, located at the first byte that is not text.
    """
    if len(raw) > MAX_SCENARIO_BYTES:  # located at the first byte past the limit
        line = raw.count(b"\n", 0, MAX_SCENARIO_BYTES)
        col = MAX_SCENARIO_BYTES - raw.rfind(b"\n", 0, MAX_SCENARIO_BYTES)
        return "", SpecIssue("", f"the file is larger than {MAX_SCENARIO_BYTES} bytes ({MAX_SCENARIO_BYTES >> 20} "
                             "MiB), the limit of a scenario file", "put large tables in a CSV file (e.g. `cases: "
                             "cases.csv`)", line + 1, col)
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return "", SpecIssue("", f"the file is {name} (it starts with the byte order mark "
                                 f"{bom.hex(' ').upper()}); a scenario file is UTF-8", _SAVE_AS_UTF8, 1, 1)
    raw = raw.removeprefix(codecs.BOM_UTF8)
    if _utf16(raw):
        return "", SpecIssue("", "the file looks like UTF-16 (every other byte is NUL); a scenario file is UTF-8",
                             _SAVE_AS_UTF8, 1, 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = " ".join(f"0x{b:02X}" for b in raw[exc.start:exc.end])
        return "", SpecIssue("", f"not UTF-8: the byte {bad} cannot be decoded ({exc.reason})", _SAVE_AS_UTF8,
                             *_line_col(raw[:exc.start].decode("utf-8")))
    match = _NOT_TEXT.search(text)
    if match:
        char = match[0]
        what = "a NUL byte" if char == "\0" else f"the character U+{ord(char):04X}"
        return "", SpecIssue("", f"{what} is not allowed in a scenario file (it is not text)",
                             "remove it; a character that must be in a value goes in double quotes as an escape, "
                             'e.g. "\\t"', *_line_col(text[:match.start()]))
    return text, None


def _utf16(raw: bytes) -> bool:
    """Whether ``raw`` starts like UTF-16 text without a byte order mark (two ASCII characters, NUL-padded)."""
    nul = [b == 0 for b in raw[:4]]
    return nul in ([False, True, False, True], [True, False, True, False])


def parse_yaml(text: str) -> tuple[Any, Positions, list[SpecIssue]]:
    """Data, positions and issues (malformed YAML, tags, keys, aliases, limits); data None when empty."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except _Limit as exc:
        return None, {}, [exc.issue]
    except yaml.MarkedYAMLError as exc:
        return None, {}, [_malformed(text, exc)]
    except (yaml.YAMLError, RecursionError) as exc:  # reader errors are caught by ``decode``; this is a fallback
        return None, {}, [SpecIssue("", f"cannot read YAML: {exc}", "check the line", loader.line + 1,
                                    loader.column + 1)]
    finally:
        loader.dispose()
    if node is None:
        return None, {"": (1, 1)}, []
    reader = _Reader(loader.aliases)
    try:
        data = reader.convert(node, "")
    except _Limit as exc:
        return None, {}, [exc.issue]
    except RecursionError:  # only when called from deep down a stack: the depth is limited
        line, col = next(reversed(reader.positions.values()))
        return None, {}, [SpecIssue("", "nests too deeply to be read", "use fewer levels", line, col)]
    return data, reader.positions, reader.issues


def _malformed(text: str, exc: yaml.MarkedYAMLError) -> SpecIssue:
    """The issue of YAML PyYAML cannot parse: at the line of an indentation mistake when there is one.

    PyYAML reports where it noticed the problem, often the line after the mistake.
    """
    mark = exc.problem_mark or exc.context_mark
    if isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)) and mark is not None:
        issue = _Indents(_BREAK.split(text)).first_mistake(mark.line)
        if issue is not None:
            return issue
        start = exc.context_mark
        if exc.problem == "could not find expected ':'" and start is not None and start.line < mark.line:
            return SpecIssue("", "this line is neither `key: value` nor a list item (`- value`)", _NO_COLON,
                             *_where(start))
    line, col = _where(mark) if mark else (0, 0)
    what = f"{exc.context + '; ' if exc.context else ''}{exc.problem or 'malformed YAML'}"
    return SpecIssue("", f"malformed YAML: {what}", "check indentation, colons and quotes", line, col)


#: the start of a line that is a key: a plain one (not starting with an indicator but `-`, `?` or `:` before
#: a non-space) or a quoted one, then a colon before a space or the end of the line
_KEY = re.compile(r"""(?:[^\s#'"\[\]{},&*!|>%@`?:-]|[?:-]\S)[^#]*?[ \t]*:(?:[ \t]|$)|"[^"]*"[ \t]*:(?:[ \t]|$)|'[^']*'[ \t]*:(?:[ \t]|$)""")
_OPENS = re.compile(r"[ \t]*(?:[&!]\S*[ \t]*)*(?:#.*)?$")  # no value after `key:` or `-` (an anchor, a tag)
_NO_COLON = "add the colon after the key; a value on its own line goes deeper than its key"
_QUOTED = re.compile(r""""(?:[^"\\]|\\.)*"?|'[^']*'?""")


class _Level:
    """Where the entries of one block start (column) and what they are, for a message."""

    def __init__(self, col: int, what: str, path: str, inline: bool = False):
        self.col, self.what, self.path, self.items, self.lines = col, what, path, 0, 0
        self.inline = inline  # the keys of an item, starting after its `- `


class _Indents:
    """Follows the indentation of block mappings and sequences, line by line, to name the first line that breaks it.

    Comments, blank lines, block scalars (``|``, ``>``), flow collections over several lines and
    continued plain scalars are passed over; only a line that starts a key or an item is checked.
    """

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.levels = [_Level(0, "top-level keys", "")]
        self.opened = ""  # path of the key (or item) on the previous line that has no value: a block may start
        self.previous = -1  # index of the previous line checked

    def first_mistake(self, last: int) -> SpecIssue | None:
        """The issue of the first line up to line ``last`` (0-based) that breaks the indentation, if any."""
        skip_deeper = -1  # lines deeper than this column belong to a block scalar
        depth = 0  # open brackets of a flow collection
        for number, line in enumerate(self.lines[:last + 1]):
            body = line.lstrip(" ")
            col = len(line) - len(body)
            if not body.strip() or body.startswith("#") or (skip_deeper >= 0 and col > skip_deeper):
                continue
            skip_deeper = -1
            if depth > 0:
                depth = max(depth + _brackets(body), 0)
                continue
            if body[0] == "\t":
                return SpecIssue("", "this line is indented with a tab; YAML indents with spaces only",
                                 "replace the tab with spaces, like the lines around it", number + 1, col + 1)
            if col == 0 and body.startswith(("---", "...", "%")):
                self.levels[1:], self.opened = [], ""
                continue
            issue = self.check(number, col, body)
            if issue is not None:
                return issue
            depth = max(_brackets(body), 0)
            if re.search(r"(?:^|:|-)[ \t]+[|>][-+0-9]*[ \t]*(?:#.*)?$", body):
                skip_deeper = col
        return None

    def check(self, number: int, col: int, body: str) -> SpecIssue | None:
        """The issue of a line indented ``col``, or None after taking its keys and items in."""
        top = self.levels[-1]
        is_entry = body.startswith("-") and body[1:2] in ("", " ") or _KEY.match(body) is not None
        if col > top.col:
            if self.opened:
                top = self.push(col, body, self.opened)
            elif is_entry:
                return _indent_issue(number, col, f"the {top.what} are indented {top.col}")
            else:  # a plain scalar continued
                return None
        elif self.opened and body.startswith("-") and body[1:2] in ("", " "):  # items as deep as their key
            top = self.push(col, body, self.opened)
        elif not is_entry and self.previous >= 0:
            return SpecIssue("", "this line is neither `key: value` nor a list item (`- value`)", _NO_COLON,
                             number + 1, col + 1)
        elif col < top.col:
            deeper = self.levels.pop()
            while self.levels[-1].col > col:
                deeper = self.levels.pop()
            top = self.levels[-1]
            if top.col != col:
                first = self.lines[self.previous]
                if deeper.lines == 1 and not deeper.inline and top.col < col and self.follows(number, col):
                    return _indent_issue(self.previous, len(first) - len(first.lstrip(" ")),
                                         f"the other {deeper.what} are indented {col}")
                return _indent_issue(number, col, f"the {deeper.what} are indented {deeper.col}, "
                                     f"the {top.what} {top.col}")
        self.previous = number
        top.lines += 1
        self.opened = ""
        while body.startswith("-") and body[1:2] in ("", " "):  # items: `- `, `- - `, `- key: value`
            top.items += 1
            item = f"{top.path}[{top.items - 1}]"
            rest = body[1:].lstrip(" ")
            if _OPENS.match(rest):
                self.opened = item
                return None
            col += len(body) - len(rest)
            body = rest
            top = self.push(col, body, item, inline=True)
            top.lines += 1
        key = _KEY.match(body)
        if key and _OPENS.match(body, key.end()):
            self.opened = join(top.path, key[0].rstrip(" \t:").strip("'\""))
        return None

    def push(self, col: int, body: str, path: str, inline: bool = False) -> _Level:
        what = f"items of `{path}`" if body.startswith("-") else f"keys of `{path}`"
        self.levels.append(_Level(col, what, path, inline))
        return self.levels[-1]

    def follows(self, number: int, col: int) -> bool:
        """Whether the line after line ``number`` that holds something is indented ``col`` too."""
        for line in self.lines[number + 1:]:
            body = line.lstrip(" ")
            if body.strip() and not body.startswith("#"):
                return len(line) - len(body) == col
        return False


def _indent_issue(number: int, col: int, expected: str) -> SpecIssue:
    spaces = "1 space" if col == 1 else f"{col} spaces"
    return SpecIssue("", f"this line is indented {spaces}; {expected}", "indent it like its siblings", number + 1,
                     col + 1)


def _brackets(body: str) -> int:
    """Brackets a line opens minus those it closes, outside quotes and comments."""
    bare = _QUOTED.sub("", body.split(" #")[0])
    return sum(bare.count(c) for c in "[{") - sum(bare.count(c) for c in "]}")


class _Reader:
    """Turns composed nodes into plain data, recording positions and issues.

    Checks the tags, keys and merge keys, and, while aliases are expanded, ``MAX_NODES`` and
    ``MAX_DEPTH`` and recursion (``active``: the value lists of the collections being read).
    """

    def __init__(self, aliases: set[int]):
        self.positions: Positions = {}
        self.issues: list[SpecIssue] = []
        self.aliases = aliases
        self.active: set[int] = set()
        self.nodes = 0
        self.depth = 0
        self.ctor = yaml.constructor.SafeConstructor()

    def issue(self, path: str, node: yaml.Node, message: str, hint: str) -> None:
        self.issues.append(SpecIssue(path, message, hint, *_where(node.start_mark)))

    def convert(self, node: yaml.Node, path: str) -> Any:
        """The value of ``node`` (None after reporting an issue)."""
        self.positions[path] = _where(node.start_mark)
        try:
            if isinstance(node, yaml.ScalarNode):
                value = self.scalar(node, path)
                return None if value is _FAILED else value
            return self.collection(node, path)
        except _Limit as exc:
            if id(node) in self.aliases:  # the outermost alias that leads past the limit is reported
                exc.issue = SpecIssue(path, exc.issue.message, exc.issue.hint, *_where(node.start_mark))
            raise

    def count(self, node: yaml.Node, path: str) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Limit(SpecIssue(path, f"aliases expand to more than {MAX_NODES} values",
                                   "an alias repeats all its anchor holds: use fewer aliases", *_where(node.start_mark)))

    def collection(self, node: yaml.Node, path: str) -> Any:
        if id(node.value) in self.active:
            self.issue(path, node, "recursive alias: it refers to a sequence or mapping that holds it",
                       "refer only to an anchor that is complete before the alias")
            return None
        self.count(node, path)
        if self.depth >= MAX_DEPTH:
            raise _Limit(SpecIssue(path, f"aliases nest deeper than {MAX_DEPTH} levels",
                                   "an alias repeats all its anchor holds: use fewer aliases", *_where(node.start_mark)))
        self.active.add(id(node.value))
        self.depth += 1
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == _YAML + "map":
                return self.mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == _YAML + "seq":
                return [self.convert(item, join(path, i)) for i, item in enumerate(node.value)]
            what = "mapping" if isinstance(node, yaml.MappingNode) else "sequence"
            self.issue(path, node, f"unsupported tag {_short(node.tag)} on a {what}",
                       "remove the tag: a scenario holds plain lists and mappings")
            return None
        finally:
            self.active.discard(id(node.value))
            self.depth -= 1

    def scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        """The value of a scalar; ``_FAILED`` after reporting a tag it may not have or a value its tag refuses."""
        self.count(node, path)
        if node.tag in _AS_TEXT:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.issue(path, node, f"unsupported tag {_short(node.tag)}",
                       "remove the tag: a scenario holds plain text, numbers, true/false and null")
            return _FAILED
        try:
            if node.tag == _YAML + "binary":  # strictly: PyYAML would skip what is not base64
                return base64.b64decode("".join(node.value.split()), validate=True)
            return self.ctor.yaml_constructors[node.tag](self.ctor, node)
        except (yaml.YAMLError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError):
            self.issue(path, node, f"cannot read {shown(node.value)} as {_short(node.tag)}",
                       "fix the value, or quote it (without a tag) to keep it text")
            return _FAILED

    def mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        """The mapping's entries: merged ones (``<<``) first, then its own, which override them."""
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                self.merge(value_node, path, out)
        self.positions[path] = _where(node.start_mark)  # merged mappings recorded theirs
        own: set[str] = set()
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            child = join(path, key)
            if key in own:
                self.issue(child, key_node, "duplicate key", "remove one of the two entries")
                continue
            own.add(key)
            self.positions[child + "#key"] = _where(key_node.start_mark)
            out[key] = self.convert(value_node, child)
        return out

    def merge(self, value: yaml.Node, path: str, out: dict[str, Any]) -> None:
        """Entries of the mapping(s) of a merge key not already in ``out`` (the first mapping wins)."""
        sources = value.value if isinstance(value, yaml.SequenceNode) and value.tag == _YAML + "seq" else [value]
        for source in sources:
            if not (isinstance(source, yaml.MappingNode) and source.tag == _YAML + "map"):
                got = shown(source.value) if isinstance(source, yaml.ScalarNode) else "a sequence"
                self.issue(path, source, f"a merge key `<<` takes a mapping or a list of mappings; got {got}",
                           "write e.g. `<<: *defaults` with `defaults: &defaults {key: value}`")
                return
            merged = self.convert(source, path)
            for key, item in (merged or {}).items():
                out.setdefault(key, item)

    def key(self, node: yaml.Node, path: str) -> str | None:
        """A mapping key, or None after reporting one that is not a string (never expanded)."""
        if not isinstance(node, yaml.ScalarNode):
            what = "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
            self.issue(path, node, f"keys must be strings; got {what}", "write a name before the colon")
            return None
        key = self.scalar(node, path)
        if key is _FAILED:
            return None
        if not isinstance(key, str):
            self.issue(path, node, f"keys must be strings; got {key!r}", "quote the key")
            return None
        return key


def _is_merge(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _MERGE


def _where(mark: Any) -> tuple[int, int]:
    """1-based (line, column) of a PyYAML mark."""
    return mark.line + 1, mark.column + 1


def _line_col(before: str) -> tuple[int, int]:
    """1-based (line, column) of the character after ``before`` (line breaks as PyYAML counts them)."""
    breaks = list(_BREAK.finditer(before))
    return len(breaks) + 1, len(before) - (breaks[-1].end() if breaks else 0) + 1


def _short(tag: str) -> str:
    """``tag:yaml.org,2002:int`` -> ``!!int``; a local tag as written; another in ``!<...>``."""
    if tag.startswith(_YAML):
        return "!!" + tag[len(_YAML):]
    return tag if tag.startswith("!") else f"!<{tag}>"


def shown(value: Any, size: int = 60) -> str:
    """``repr(value)`` for a message, cut to about ``size`` characters (a 400-digit number, a long text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3.33 * size:
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    if isinstance(value, str) and len(value) > size:
        return repr(value[:size]) + "..."
    text = repr(value)
    return text if len(text) <= size else text[:size] + "..."

"""Every citation of a document resolves: the file exists, and so does the section it names.

A citation names a document of the repository and, optionally, where in it:

- a path: ``docs/models/mimics.md``, ``docs/scenarios.md#the-output-directory`` (a heading's
  anchor, GitHub style);
- a bare file name of ``docs/`` or ``docs/models/``, when a place follows it: ``mimics.md section
  8``, ``awb.md (h) H3``, ``tao_enzyme.md R3``;
- the word "spec" followed by a place (``spec section 7``, ``spec (g)``, ``(spec g)``): the model
  document of the folder (``models/<name>/`` cites ``docs/models/<name>.md``), else the model
  documents the same file cites by name (a baseline inherits those of its scenario).

A place is a section — ``section 4``, ``sections 3-5``, ``sections (d) and (h)``, ``(h)``,
``section h``, ``§6`` — optionally followed by an item of it (``(h) H3``), an item alone
(``R3``), a quoted heading after the path (``docs/verdict.md, "Intervals"``) or a heading before
it (``see Limits in docs/scenarios.md``).

Heading convention of the documents (``docs/adapters.md``, "Writing a model document"): a section
is a level-2 heading that starts with its label, a number and a full stop (``## 4. Parameters``)
or a lower-case letter in parentheses (``## (h) Reference results``); an item is a bold label at
the start of a paragraph or a table row (``**H3.**``, ``| M1 |``) inside its section.

Scanned: ``harness/``, ``models/``, ``scenarios/``, ``baselines/``, ``README.md``, ``docs/``, the
output of ``python -m harness describe`` for every built-in model and the metadata strings of every
built-in adapter under every parameter set (parameter references, reference cases, options).
The model documents are also checked against the code: every parameter with its default, every
driver with its default and valid range, every reference value.
"""

from __future__ import annotations

import bisect
import fnmatch
import math
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from harness.adapter import BaseAdapter
from harness.cli import main
from harness.registry import BUILTIN_ADAPTERS, get_adapter, get_adapter_class
from harness.vocabulary import DRIVERS

ROOT = Path(__file__).resolve().parents[1]
#: what is scanned for citations, relative to the repository root
SCANNED = ("harness", "models", "scenarios", "baselines", "examples", "README.md", "docs")
#: files read as text; others (netCDF, images) cannot cite
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".csv", ".json", ".txt", ".toml", ".cfg"}
#: folders searched for a bare file name (``mimics.md``)
BARE_FOLDERS = ("docs", "docs/models")

# -- the grammar of a citation -------------------------------------------------------------------
_PATH = r"(?<![\w/.-])(?P<path>docs/[\w/.-]+?\.md)(?:#(?P<anchor>[\w-]+))?(?![\w/-])"
_BARE = r"(?<![\w/.-])(?P<bare>[a-z0-9_]+\.md)(?![\w/-])"
_SPEC = r"(?<![\w.])(?P<spec>[Ss]pec)(?![\w'])"
#: one section label: "(h)", or after "section(s)"/"§" a number or a bare letter, or a letter closing a parenthesis
_REF = r"(?:\(\s*[a-z]\s*\)|(?<=\s)[a-z](?=\))|(?:(?<=section )|(?<=sections )|(?<=§)|(?<=§ ))(?:\d+|[a-z]\b))"
_LIST_REF = r"(?:\(\s*[a-z]\s*\)|\d+|[a-z]\b)"
#: a gloss in parentheses between two labels: "(c) (equations), (g)"
_GLOSS = r"(?:\s*\((?![a-z]\))[^()]{2,60}\))?"
_TAIL = re.compile(
    r"[`'\"]*\s*,?\s*(?:\((?!\s*[a-z]\s*\)))?\s*"
    rf"(?:(?P<kw>sections?|§)\s*)?(?P<refs>{_REF}(?:{_GLOSS}\s*(?:,|and|-|–|to)\s*{_LIST_REF})*)?"
    r"(?:\)?\s*(?P<item>\b[A-Z]\d{1,2}\b))?"
)
_TITLE_AFTER = re.compile(r"[`]*,\s*\"(?P<title>[^\"]{2,60})\"")
_TITLE_BEFORE = re.compile(r"\bsee\s+(?P<title>[A-Z][\w -]{1,40}?)\s+in\s+[`]*$")
_CITATION = re.compile("|".join((_PATH, _BARE, _SPEC)))


@dataclass(frozen=True)
class Citation:
    """One citation: where it is, the document it names and the place in it (if any)."""

    where: str  # "path:line", or "describe mimics", "metadata of mimics[...]"
    text: str  # the citation as written (for messages)
    docs: tuple[str, ...]  # repository paths of the documents meant ("spec" may mean several)
    sections: tuple[str, ...] = ()  # "4", "h"
    item: str | None = None  # "H3"
    title: str | None = None  # a heading's text
    anchor: str | None = None  # a heading's slug
    problem: str | None = None  # why it cannot be resolved before looking at any document


def _labels(refs: str) -> tuple[str, ...]:
    """The section labels of ``refs``: "4 and 8" -> (4, 8); "3-5" -> (3, 4, 5); "(d), (e)" -> (d, e)."""
    refs = re.sub(r"\((?![a-z]\))[^()]{2,60}\)", " ", refs or "")  # drop glosses: "(c) (equations)"
    tokens = re.findall(r"\d+|(?<![\w])[a-z](?![\w])|[-–]|\bto\b", refs)
    labels: list[str] = []
    for i, token in enumerate(tokens):
        if token in ("-", "–", "to") and labels and i + 1 < len(tokens):
            first, last = labels[-1], tokens[i + 1]
            if first.isdigit() and last.isdigit():
                labels += [str(n) for n in range(int(first) + 1, int(last))]
            elif first.isalpha() and last.isalpha():
                labels += [chr(c) for c in range(ord(first) + 1, ord(last))]
        elif token not in ("-", "–", "to"):
            labels.append(token)
    return tuple(dict.fromkeys(labels))


def _resolve_bare(name: str) -> str | None:
    """The repository path of a bare document name, or None if no scanned folder holds it."""
    for folder in BARE_FOLDERS:
        if (ROOT / folder / name).is_file():
            return f"{folder}/{name}"
    return None


def _model_docs_named(text: str) -> tuple[str, ...]:
    """The model documents a text names (``docs/models/X.md`` or ``X.md`` for a model X)."""
    names = re.findall(r"(?<![\w.-])(?:docs/models/)?([a-z0-9_]+)\.md\b", text)
    return tuple(dict.fromkeys(f"docs/models/{n}.md" for n in names if n in BUILTIN_ADAPTERS))


def parse_citations(text: str, where: str, context: tuple[str, ...] = (), numbered: bool = True) -> list[Citation]:
    """Every citation in ``text``; ``context`` = the documents a bare "spec" means there.

    ``where`` names the text in messages, followed by ":LINE" when ``numbered``. Comment markers
    at the start of continuation lines (``#``, ``#:``) are dropped, so a citation may span lines.
    """
    lines = text.split("\n")
    starts, parts, offset = [], [], 0
    for line in lines:
        content = re.sub(r"^\s*(?:#:?|//)?\s?", " ", line)
        starts.append(offset)
        parts.append(content)
        offset += len(content) + 1
    joined = " ".join(parts)
    found = []
    for m in _CITATION.finditer(joined):
        line = bisect.bisect_right(starts, m.start())
        at = f"{where}:{line}" if numbered else where
        tail = _TAIL.match(joined, m.end())
        sections = _labels(tail["refs"]) if tail and tail["refs"] else ()
        item = tail["item"] if tail else None
        title = None
        after = _TITLE_AFTER.match(joined, m.end())
        if after:
            title = after["title"]
        before = _TITLE_BEFORE.search(joined[max(0, m.start() - 60) : m.start()])
        if before:
            title = before["title"]
        written = joined[m.start() : tail.end() if tail and (sections or item) else m.end()].strip()
        if m["path"]:
            found.append(Citation(at, written, (m["path"],), sections, item, title, m["anchor"]))
        elif m["bare"]:
            if not (sections or item):
                continue  # a file name without a place: an output file (verdict.md) as often as a document
            doc = _resolve_bare(m["bare"])
            problem = None if doc else f"no document {m['bare']} in {' or '.join(BARE_FOLDERS)}"
            found.append(Citation(at, written, (doc,) if doc else (), sections, item, None, None, problem))
        elif sections or item:  # "spec" followed by a section or an item
            problem = None if context else "'spec' without a model document to refer to (name the document)"
            found.append(Citation(at, written, context, sections, item, None, None, problem))
    return found


_LINK = re.compile(r"\]\((?!https?://|mailto:)(?P<target>[^)\s#]*)(?:#(?P<anchor>[^)\s]+))?\)")


def link_citations(text: str, path: Path) -> list[Citation]:
    """Relative Markdown links of a document (``[x](../adapters.md#anchor)``), resolved from its folder."""
    found = []
    for m in _LINK.finditer(text):
        at = f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
        resolved = (path.parent / m["target"]).resolve() if m["target"] else path
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            found.append(Citation(at, m[0], (), problem=f"link target {m['target']} does not exist"))
        elif resolved.suffix == ".md":
            found.append(Citation(at, m[0], (resolved.relative_to(ROOT).as_posix(),), anchor=m["anchor"]))
    return found


# -- the documents -------------------------------------------------------------------------------
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
_SECTION = re.compile(r"^##\s+(?:(?P<number>\d+)\.|\((?P<letter>[a-z])\))\s+\S", re.M)


@dataclass
class Document:
    """A document's headings, sections (label -> body) and anchors."""

    path: str
    text: str
    headings: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    anchors: set[str] = field(default_factory=set)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def load_document(path: str) -> Document | None:
    """The document at repository path ``path``, or None if there is no such file."""
    file = ROOT / path
    if not file.is_file():
        return None
    text = file.read_text(encoding="utf-8")
    doc = Document(path, text)
    doc.headings = [m[2] for m in _HEADING.finditer(text)]
    doc.anchors = {slug(h) for h in doc.headings}
    marks = list(_SECTION.finditer(text))
    level2 = [m.start() for m in re.finditer(r"^## ", text, re.M)] + [len(text)]
    for m in marks:
        end = next(s for s in level2 if s > m.start())
        doc.sections[m["number"] or m["letter"]] = text[m.start() : end]
    return doc


def _has_item(body: str, item: str) -> bool:
    """Whether ``item`` (e.g. "H3") labels a paragraph, heading or table cell in ``body``."""
    return re.search(rf"(?:\*\*|^#+\s+|\|\s*){re.escape(item)}\b", body, re.M) is not None


def problems_of(citation: Citation) -> list[str]:
    """What is wrong with a citation (empty when it resolves)."""
    if citation.problem:
        return [f"{citation.where}: {citation.text!r}: {citation.problem}"]
    out = []
    for path in citation.docs:
        doc = load_document(path)
        if doc is None:
            out.append(f"{citation.where}: {citation.text!r}: {path} does not exist")
            continue
        for label in citation.sections:
            if label not in doc.sections:
                form = f"## {label}." if label.isdigit() else f"## ({label})"
                out.append(f"{citation.where}: {citation.text!r}: {path} has no section {label} "
                           f"(a heading starting {form!r}); its sections: {', '.join(doc.sections) or 'none'}")
        bodies = [doc.sections[s] for s in citation.sections if s in doc.sections] or [doc.text]
        if citation.item and not any(_has_item(body, citation.item) for body in bodies):
            where = f"section {', '.join(citation.sections)}" if citation.sections else "it"
            out.append(f"{citation.where}: {citation.text!r}: no item {citation.item} in {where} of {path}")
        if citation.title and not any(citation.title.lower() in h.lower() for h in doc.headings):
            out.append(f"{citation.where}: {citation.text!r}: no heading of {path} contains {citation.title!r}")
        if citation.anchor and citation.anchor not in doc.anchors:
            out.append(f"{citation.where}: {citation.text!r}: no heading of {path} has the anchor "
                       f"#{citation.anchor}")
    return out


# -- what is scanned -----------------------------------------------------------------------------
def _files() -> list[Path]:
    out = []
    for entry in SCANNED:
        path = ROOT / entry
        if path.is_file():
            out.append(path)
        else:
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
                          and "__pycache__" not in p.parts)
    return out


def _context(path: Path, text: str) -> tuple[str, ...]:
    """The documents a bare "spec" in ``path`` refers to."""
    parts = path.relative_to(ROOT).parts
    if parts[0] == "models" and len(parts) > 2 and parts[1] in BUILTIN_ADAPTERS:
        return (f"docs/models/{parts[1]}.md",)
    named = _model_docs_named(text)
    if not named and parts[0] == "baselines" and len(parts) > 2:
        scenario = ROOT / "scenarios" / f"{parts[1]}.yaml"
        if scenario.is_file():
            named = _model_docs_named(scenario.read_text(encoding="utf-8"))
    return named


@cache
def file_citations() -> tuple[Citation, ...]:
    """Every citation in the scanned files."""
    out: list[Citation] = []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        out += parse_citations(text, str(path.relative_to(ROOT)), _context(path, text))
        if path.suffix == ".md":
            out += link_citations(text, path)
    return tuple(dict.fromkeys(out))


def _option_sets(name: str) -> list[dict[str, str]]:
    """One options mapping per parameter set of a model (one empty mapping without sets)."""
    for option in get_adapter_class(name).options:
        if option.name == "parameter_set" and option.choices:
            return [{"parameter_set": choice} for choice in option.choices]
    return [{}]


def _metadata_texts(adapter: BaseAdapter) -> list[str]:
    """Every string an adapter declares that may cite a document."""
    texts = [adapter.reference, adapter.steady_state_method, adapter.description]
    texts += [o.description for o in adapter.options]
    texts += [f"{p.description} | {p.reference}" for p in adapter.parameters]
    texts += [d.description for d in adapter.drivers]
    texts += [case.source for case in adapter.reference_cases]
    if adapter.failing_case is not None:
        texts.append(adapter.failing_case.source)
    return texts


@cache
def runtime_citations() -> tuple[Citation, ...]:
    """Citations in ``describe`` output and in the metadata of every built-in adapter."""
    out: list[Citation] = []
    for name in sorted(BUILTIN_ADAPTERS):
        context = (f"docs/models/{name}.md",)
        for options in _option_sets(name):
            label = f"metadata of {name}{options or ''}"
            for text in _metadata_texts(get_adapter(name, **options)):
                out += parse_citations(text, label, context, numbered=False)
    return tuple(out)


def _describe(name: str, capsys) -> str:
    assert main(["describe", name]) == 0
    return capsys.readouterr().out


# -- the tests -----------------------------------------------------------------------------------
def test_every_citation_in_the_repository_resolves():
    citations = file_citations()
    problems = [p for c in citations for p in problems_of(c)]
    assert not problems, f"{len(problems)} of {len(citations)} citations do not resolve:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(BUILTIN_ADAPTERS))
def test_describe_output_cites_what_exists(name, capsys):
    citations = parse_citations(_describe(name, capsys), f"describe {name}", (f"docs/models/{name}.md",), numbered=False)
    problems = [p for c in citations for p in problems_of(c)]
    assert not problems, "\n".join(problems)


def test_adapter_metadata_cites_what_exists():
    citations = runtime_citations()
    problems = [p for c in citations for p in problems_of(c)]
    assert not problems, "\n".join(problems)


def test_the_scan_finds_the_citations_it_must():
    """A scanner that finds nothing would pass the tests above: pin a few known citations."""
    found = {(c.where.split(":")[0], c.docs, c.sections, c.item) for c in file_citations()}
    expected = {
        ("models/mimics/parameters.py", ("docs/models/mimics.md",), ("8",), None),
        ("models/mimics/solver.py", ("docs/models/mimics.md",), ("7",), None),
        ("models/awb/equations.py", ("docs/models/awb.md",), ("c", "g"), None),
        ("models/tao_enzyme/parameters.py", ("docs/models/tao_enzyme.md",), ("d", "h"), None),
        ("scenarios/he2024_awb_sensitivity.yaml", ("docs/models/awb.md",), ("h",), "H3"),
        ("scenarios/tao2024_reply_turnover.yaml", ("docs/models/tao_enzyme.md",), ("g",), None),
        ("harness/vocabulary.py", ("docs/science.md",), (), None),
    }
    assert expected <= found, expected - found
    assert len(file_citations()) >= 100
    assert len(runtime_citations()) >= 100


@pytest.mark.parametrize("text, docs, sections, item", [
    ("``docs/models/tao_enzyme.md`` (sections (d)\nand (h)). Bounds", ("docs/models/tao_enzyme.md",), ("d", "h"), None),
    ("Spec: ``docs/models/mimics.md`` sections 3-5.", ("docs/models/mimics.md",), ("3", "4", "5"), None),
    ("``docs/models/awb.md`` sections (c) (equations), (g) (steady state)", ("docs/models/awb.md",), ("c", "g"), None),
    ('fit of docs/models/awb.md (h) H3 to He', ("docs/models/awb.md",), ("h",), "H3"),
    ("# the spec (docs: clm5_firstorder.md, section h),", ("docs/models/clm5_firstorder.md",), ("h",), None),
    ("source: tao_enzyme.md R3}", ("docs/models/tao_enzyme.md",), (), "R3"),
    ("boundaries (style.md §6), on purpose", (), ("6",), None),
    ("(docs/models/mimics.md section 8 (steady states", ("docs/models/mimics.md",), ("8",), None),
    ("see docs/verdict.md.", ("docs/verdict.md",), (), None),
])
def test_parser_reads_each_form(text, docs, sections, item):
    (citation,) = parse_citations(text, "example")
    assert (citation.docs, citation.sections, citation.item) == (docs, sections, item)


def test_spec_means_the_model_document_of_its_context():
    (citation,) = parse_citations("#: fAVAI_r < 0 (spec section 7: reject)", "x", ("docs/models/mimics.md",))
    assert (citation.docs, citation.sections) == (("docs/models/mimics.md",), ("7",))
    (citation,) = parse_citations("exact at beta = beta_enz = 1 (spec g)", "x", ("docs/models/tao_enzyme.md",))
    assert citation.sections == ("g",)
    assert parse_citations("the spec's starting state; harness.spec.schema", "x", ("docs/models/mimics.md",)) == []
    (orphan,) = parse_citations("as the spec section 3 says", "x")
    assert problems_of(orphan) == ["x:1: 'spec section 3': 'spec' without a model document to refer to "
                                   "(name the document)"]


@pytest.mark.parametrize("text, fragment", [
    ("see docs/models/mimics.md section 99", "has no section 99"),
    ("see docs/models/awb.md (z)", "has no section z"),
    ("see docs/models/awb.md section 4", "has no section 4"),
    ("see docs/models/no_such_model.md", "docs/models/no_such_model.md does not exist"),
    ("source: no_such_model.md (h)", "no document no_such_model.md"),
    ("see docs/models/awb.md (h) H9", "no item H9 in section h"),
    ("source: tao_enzyme.md R99", "no item R99 in it"),
    ('(docs/verdict.md, "No such heading")', "contains 'No such heading'"),
    ("see Nowhere in docs/scenarios.md", "contains 'Nowhere'"),
    ("[x](docs/scenarios.md#no-such-anchor)", "#no-such-anchor"),
])
def test_a_made_up_citation_fails(text, fragment):
    """The matcher can fail: each made-up citation gives exactly one problem, naming what is missing."""
    citations = parse_citations(text, "made-up")
    problems = [p for c in citations for p in problems_of(c)]
    assert len(problems) == 1 and fragment in problems[0], problems


def test_markdown_links_are_followed(tmp_path):
    doc = ROOT / "docs" / "models" / "mimics.md"
    good = link_citations("[x](../adapters.md#writing-a-model-document) [y](../verdict.md) [z](#7-steady-state)", doc)
    assert [(c.docs, c.anchor) for c in good] == [(("docs/adapters.md",), "writing-a-model-document"),
                                                 (("docs/verdict.md",), None),
                                                 (("docs/models/mimics.md",), "7-steady-state")]
    assert not [p for c in good for p in problems_of(c)]
    bad = link_citations("[x](../no_such.md) [y](../adapters.md#no-such-heading)", doc)
    assert [len(problems_of(c)) for c in bad] == [1, 1]


@pytest.mark.parametrize("text", [
    "docs/models/mimics.md section 8", "docs/models/awb.md (h) H3", "tao_enzyme.md R3",
    '(docs/verdict.md, "Intervals")', "see Limits in docs/scenarios.md", "docs/scenarios.md#the-output-directory",
    "``clm5_firstorder.md`` section (c); ``tao_enzyme.md`` (e)",
])
def test_a_real_citation_passes(text):
    citations = parse_citations(text, "real")
    assert citations and not [p for c in citations for p in problems_of(c)]


# -- the model documents against the code --------------------------------------------------------
MODEL_DOCS = sorted(f"docs/models/{name}.md" for name in BUILTIN_ADAPTERS)


def _section_titled(doc: Document, word: str) -> str:
    """The body of the one section whose heading names ``word`` (e.g. "Parameters")."""
    bodies = [body for body in doc.sections.values() if word.lower() in body.split("\n", 1)[0].lower()]
    assert len(bodies) == 1, f"{doc.path}: expected one section titled with {word!r}, found {len(bodies)}"
    return bodies[0]


def _rows(body: str) -> dict[str, str]:
    """Table rows of a section by their first cell's name (``| `tau_s1` | ... |`` -> "tau_s1")."""
    rows = {}
    for line in body.split("\n"):
        m = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|(.*)$", line)
        if m:
            rows[m[1]] = m[2]
    return rows


def _set_cell(body: str, row: str, parameter_set: str | None) -> str:
    """The cell of ``row`` under the column headed by ``parameter_set`` (`` `stode_rev_*` `` matches
    ``stode_rev_beta``), or the whole row when no column is headed by it."""
    header = next((line for line in body.split("\n") if line.startswith("| name |")), "")
    names = [cell.strip().strip("`") for cell in header.strip("|").split("|")][1:]  # after "name"
    columns = [i for i, n in enumerate(names) if parameter_set and fnmatch.fnmatchcase(parameter_set, n)]
    cells = row.strip().strip("|").split("|")
    return cells[columns[0]] if len(columns) == 1 and columns[0] < len(cells) else row


_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+−]?\d+)?(?!\w|\.\d)", re.I)


def _numbers(text: str) -> list[float]:
    return [float(n.replace("−", "-")) for n in _NUMBER.findall(text)]


def _shows(text: str, value: float, rtol: float = 1e-5) -> bool:
    """Whether ``text`` shows ``value`` as a number (rtol), or as "unset" when it is NaN."""
    if math.isnan(value):
        return "unset" in text
    return any(math.isclose(x, value, rel_tol=rtol, abs_tol=1e-300) for x in _numbers(text))


def test_model_documents_follow_the_heading_convention():
    for path in MODEL_DOCS:
        doc = load_document(path)
        assert doc is not None, f"{path} does not exist"
        level2 = re.findall(r"^## (.*)$", doc.text, re.M)
        labels = list(doc.sections)
        assert len(level2) == len(labels), f"{path}: a level-2 heading without a label: {level2}"
        numbered = all(label.isdigit() for label in labels)
        expected = [str(i) for i in range(1, len(labels) + 1)] if numbered else [chr(ord("a") + i) for i in
                                                                                range(len(labels))]
        assert labels == expected, f"{path}: sections {labels}, expected {expected} in order"


@pytest.mark.parametrize("name", sorted(BUILTIN_ADAPTERS))
def test_model_document_lists_every_parameter_with_its_default(name):
    doc = load_document(f"docs/models/{name}.md")
    assert doc is not None
    body = _section_titled(doc, "parameters")
    rows = _rows(body)
    problems = []
    for options in _option_sets(name):
        for p in get_adapter(name, **options).parameters:
            if p.name not in rows:
                problems.append(f"{p.name}: no table row | `{p.name}` | ...")
            elif not _shows(_set_cell(body, rows[p.name], options.get("parameter_set")), p.default):
                problems.append(f"{p.name}{options or ''}: default {p.default!r} not shown in | {rows[p.name]}")
            elif p.units not in rows[p.name].replace("`", ""):
                problems.append(f"{p.name}{options or ''}: units {p.units!r} not shown in | {rows[p.name]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(BUILTIN_ADAPTERS))
def test_model_document_maps_every_driver(name):
    doc = load_document(f"docs/models/{name}.md")
    assert doc is not None
    rows = _rows(_section_titled(doc, "drivers"))
    problems = []
    for options in _option_sets(name):
        adapter = get_adapter(name, **options)
        for d in adapter.drivers:
            row = rows.get(d.name)
            if row is None:
                problems.append(f"{d.name}: no table row | `{d.name}` | ...")
                continue
            if d.default is not None and not _shows(row, d.default):
                problems.append(f"{d.name}{options or ''}: default {d.default!r} not shown in | {row}")
            if str(d.interval) not in row.replace("`", ""):
                problems.append(f"{d.name}{options or ''}: valid range {d.interval} not shown in | {row}")
        for missing in set(DRIVERS) - set(adapter.driver_names):
            if missing not in rows or "not represented" not in rows[missing]:
                problems.append(f"{missing}{options or ''}: not represented, but no row saying so")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(BUILTIN_ADAPTERS))
def test_model_document_prints_every_reference_value(name):
    doc = load_document(f"docs/models/{name}.md")
    assert doc is not None
    body = _section_titled(doc, "reference values")
    problems = []
    for options in _option_sets(name)[:1]:
        for case in get_adapter(name, **options).reference_cases:
            for key, value, tolerance in case.checks():
                if not any(abs(x - value) <= max(tolerance, 1e-12 * abs(value)) for x in _numbers(body)):
                    problems.append(f"{case.name}: {key} = {value!r} not printed in the reference section")
    assert not problems, "\n".join(problems)

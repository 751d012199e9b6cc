"""File-level mutants of the shipped scenarios, for the fuzz test and ``benchmarks/fuzz_scenarios.py``.

A mutant is the bytes of a scenario file plus the files it reads (cases or observation CSV,
netCDF), made from one of ``scenarios/*.yaml`` and mutated *as bytes*: byte flips, encodings,
NUL and control characters, YAML tags, anchors, aliases and merge keys, deep nesting, odd keys,
huge values, repeats, paths, sizes, malformed CSVs and corrupted netCDF files, with sizes,
depths and counts just under, at and over the harness's limits (docs/scenarios.md, Limits).
Everything derives from a fixed seed, so the list is the same on every machine with the same
scenarios.

>>> from tests.spec.mutants import mutants
>>> for i, m in enumerate(mutants()):
...     path = m.write(tmp / str(i))          # tmp/<i>/<scenario>.yaml and the files it reads
...     main(["validate", str(path)])

``python tests/spec/mutants.py`` prints the number of mutants per category and the time taken.

Each category lists its mutations for every shipped scenario (*candidates*, built lazily); a
fixed quota per category is drawn from them, every mutation label at least once, on a random
scenario. A mutant is self-contained in its own folder: the files a scenario reads (the cases CSV
of a ``points`` scenario, the observation table of ``calibrate_lter``, the netCDF files of
``global_grid``) are copied next to it and the paths rewritten (``../data/x/y.nc`` -> ``y.nc``);
the CSVs are mutated in the ``csv`` category. ``drivers_from`` of ``beta_sweep_posterior`` is
left as it is: it names a calibration that a fresh folder does not have, so that base is invalid
on purpose. The draws of one category on one scenario depend only on the seed, the category and
that scenario's text, so editing one scenario leaves the other scenarios' mutants as they were.
"""

from __future__ import annotations

import codecs
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
DATA = ROOT / "data"
SEED = 17
#: scenarios of kind ``points`` (small, fast to run)
POINTS = ("clm5_reference", "millennial_reference", "mimics_reference")


@dataclass(frozen=True)
class Mutant:
    """One mutated scenario: its file's bytes and the extra files next to it."""

    name: str  # "<category>/<base>/<label>", unique
    category: str
    base: str  # the shipped scenario it was made from (file stem)
    text: bytes  # the scenario file
    files: Mapping[str, bytes] = field(default_factory=dict)  # relative name -> bytes, next to the scenario
    #: asks for unbounded work on purpose (huge sizes, alias bombs, endless files): a run that
    #: does not end is a hang, never "slow but valid"
    hostile: bool = False
    #: top-level sections the mutation set on purpose (a benchmark must not override them)
    touches: frozenset[str] = frozenset()

    @property
    def filename(self) -> str:
        """The scenario's file name inside the mutant's folder."""
        return f"{self.base}.yaml"

    def write(self, folder: Path) -> Path:
        """Write the scenario and its files into ``folder`` (created); the scenario's path."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        path = folder / self.filename
        path.write_bytes(self.text)
        return path


@dataclass(frozen=True)
class Base:
    """A shipped scenario made self-contained: its text (paths rewritten) and the files it reads."""

    name: str
    kind: str
    text: str
    files: Mapping[str, bytes]
    csvs: tuple[str, ...]  # names in ``files`` that are CSV tables

    def mutant(self, category: str, label: str, text: str | bytes | None, files: Mapping[str, bytes] | None = None,
               *, hostile: bool = False, touches: tuple[str, ...] = ()) -> Mutant | None:
        """A mutant of this base (``None`` when the mutation does not apply to it)."""
        if text is None:
            return None
        data = text.encode("utf-8") if isinstance(text, str) else text
        merged = dict(self.files)
        merged.update(files or {})
        return Mutant(f"{category}/{self.name}/{label}", category, self.name, data, merged, hostile,
                      frozenset(touches))


@dataclass(frozen=True)
class Candidate:
    """A mutation of one base, built only if drawn."""

    base: Base
    label: str
    make: Callable[[], str | bytes | None]
    group: str = ""  # mutations of one group are one "label" for the quota (default: the label)
    files: Callable[[], Mapping[str, bytes]] | None = None
    hostile: bool = False
    touches: tuple[str, ...] = ()

    def build(self, category: str) -> Mutant | None:
        """The mutant (``None`` when the mutation does not apply)."""
        return self.base.mutant(category, self.label, self.make(), self.files() if self.files else None,
                                hostile=self.hostile, touches=self.touches)


def bases() -> list[Base]:
    """The shipped scenarios, made self-contained (see the module docstring)."""
    out = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        kind = re.search(r"^kind:\s*(\w+)", text, re.M)
        files: dict[str, bytes] = {}
        csvs = []
        cases = re.search(r"^cases:\s*(\S+\.csv)\s*$", text, re.M)
        if cases and (SCENARIOS / cases[1]).is_file():
            files[cases[1]] = (SCENARIOS / cases[1]).read_bytes()
            csvs.append(cases[1])
        pattern = r"^([ \t]*[\w-]+:[ \t]*)\.\./data/((?:[\w.-]+/)*([\w.-]+))[ \t]*$"
        for match in re.finditer(pattern, text, re.M):
            files[match[3]] = (DATA / match[2]).read_bytes()
            if match[3].endswith(".csv"):
                csvs.append(match[3])
        text = re.sub(pattern, r"\1\3", text, flags=re.M)
        out.append(Base(path.stem, kind[1] if kind else "", text, files, tuple(csvs)))
    return out


# -- text helpers --------------------------------------------------------------------------------
def _sub(text: str | None, pattern: str, repl: str | Callable[[re.Match[str]], str], count: int = 1) -> str | None:
    """``text`` with the first ``count`` matches of ``pattern`` (multiline) replaced; ``None`` if none."""
    if text is None:
        return None
    func = repl if callable(repl) else (lambda m: m.expand(repl))
    new, n = re.subn(pattern, func, text, count=count, flags=re.M)
    return new if n else None


def _set(text: str | None, key: str, value: str, indent: str = "") -> str | None:
    """Replace the value of the first line ``<indent><key>: ...`` (its comment kept); ``None`` if none."""
    return _sub(text, rf"^({indent}{key}:)[ \t]*[^\n#]*?([ \t]*(?:#[^\n]*)?)$", lambda m: f"{m[1]} {value}{m[2]}")


def _set_top(text: str, key: str, block: str) -> str:
    """Replace the whole top-level section ``key`` (its line and indented lines), or append it."""
    pattern = rf"^{key}:[^\n]*\n(?:(?:[ \t]+[^\n]*|[ \t]*)\n)*"
    new, n = re.subn(pattern, lambda m: block.rstrip("\n") + "\n", text, count=1, flags=re.M)
    return new if n else text.rstrip("\n") + "\n" + block.rstrip("\n") + "\n"


def _first_baseline_key(text: str) -> str | None:
    match = re.search(r"^baseline:\s*\n\s+(\w+):", text, re.M)
    return match[1] if match else None


def _before_key(text: str, key: str, lines: str) -> str:
    """``lines`` inserted before the top-level line ``key:`` (at the top if there is none)."""
    match = re.search(rf"^{key}:", text, re.M)
    at = match.start() if match else 0
    return text[:at] + lines + text[at:]


def _offset(data: bytes, key: bytes) -> int:
    """Offset just after the first ``key`` at the start of a line (0 if none)."""
    i = data.find(b"\n" + key)
    return i + 1 + len(key) if i >= 0 else 0


def _padded(text: str, size: int) -> str:
    """``text`` with comment lines appended to make exactly ``size`` bytes of UTF-8."""
    text = text if text.endswith("\n") else text + "\n"
    missing = size - len(text.encode())
    lines, rest = divmod(missing, 100)
    if rest and rest < 3:  # a comment line needs "#", a character and a newline: take from a full line
        lines, rest = lines - 1, rest + 100
    return text + ("#" + "c" * 98 + "\n") * lines + ("#" + "c" * (rest - 2) + "\n" if rest else "")


def _insert(data: bytes, at: int, piece: bytes) -> bytes:
    return data[:at] + piece + data[at:]


def _model_block(text: str) -> re.Match[str] | None:
    """The first entry of ``models`` written as ``  - model: x`` with its indented lines."""
    return re.search(r"^  - model: (\w+)[^\n]*\n(?:    [^\n]*\n)*", text, re.M)


Cases = Iterator[Candidate]


# -- categories ----------------------------------------------------------------------------------
INTERESTING = [b":", b"[", b"{", b"]", b"}", b"-", b"&", b"*", b"!", b"|", b">", b"%", b"@", b"`", b"'", b'"',
               b"#", b"\t", b"\n", b"\r", b"\x00", b"\xff", b" ", b",", b"?", b"<<: ", b"\\", b"0", b"9"]
BYTE_OPS = ("flip", "insert", "insert_random", "delete", "truncate", "duplicate", "swap_lines")


def _bytes(base: Base, rng: random.Random) -> Cases:
    """Random byte flips, insertions, deletions, duplications, truncations and swapped lines."""
    data = base.text.encode()
    for i in range(2 * len(BYTE_OPS)):
        op = BYTE_OPS[i % len(BYTE_OPS)]
        at, other = rng.randrange(len(data)), rng.randrange(len(data))
        size, bit = rng.randrange(1, 80), rng.randrange(8)
        piece = rng.choice(INTERESTING) if op == "insert" else bytes(rng.randrange(256) for _ in range(size % 8 + 1))

        def make(op=op, at=at, other=other, size=size, bit=bit, piece=piece) -> bytes:
            if op == "flip":
                out = bytearray(data)
                out[at] ^= 1 << bit
                return bytes(out)
            if op in ("insert", "insert_random"):
                return _insert(data, at, piece)
            if op == "delete":
                return data[:at] + data[at + size % 24 + 1:]
            if op == "truncate":
                return data[:at]
            if op == "duplicate":
                return _insert(data, other, data[at:at + size])
            lines = data.splitlines(keepends=True)
            a, b = at % len(lines), other % len(lines)
            lines[a], lines[b] = lines[b], lines[a]
            return b"".join(lines)

        yield Candidate(base, f"{op}@{at}", make, group=f"{op}")


def _encoding(base: Base, rng: random.Random) -> Cases:
    """Non-UTF-8 bytes, other encodings, BOMs (UTF-8's is valid), NUL and control characters."""
    text = base.text
    data = text.encode()
    comment = data.find(b"# ") + 2 if b"# " in data else 0
    name_at = _offset(data, b"name: ")
    desc_at = _offset(data, b"description: ") or name_at
    rand_at = rng.randrange(len(data))
    table: list[tuple[str, Callable[[], bytes]]] = [
        ("utf16le_bom", lambda: codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
        ("utf16be_bom", lambda: codecs.BOM_UTF16_BE + text.encode("utf-16-be")),
        ("utf16_no_bom", lambda: text.encode("utf-16-le")),
        ("utf32_bom", lambda: text.encode("utf-32")),
        ("utf8_bom_valid", lambda: codecs.BOM_UTF8 + data),
        ("utf8_bom_twice", lambda: codecs.BOM_UTF8 * 2 + data),
        ("utf8_bom_mid", lambda: _insert(data, name_at, codecs.BOM_UTF8)),
        ("latin1_e_comment", lambda: _insert(data, comment, "café ".encode("latin-1"))),
        ("latin1_e_name", lambda: _insert(data, name_at, "é".encode("latin-1"))),
        ("latin1_whole_file", lambda: (text + "# résumé °C\n").encode("latin-1", "replace")),
        ("lone_ff_random", lambda: _insert(data, rand_at, b"\xff")),
        ("lone_ff_name", lambda: _insert(data, name_at, b"\xff")),
        ("invalid_continuation", lambda: _insert(data, desc_at, b"\xc3\x28")),
        ("truncated_multibyte_eof", lambda: data + b"# \xe2\x82"),
        ("overlong_slash", lambda: _insert(data, comment, b"\xc0\xaf")),
        ("utf8_surrogate", lambda: _insert(data, desc_at, b"\xed\xa0\x80")),
        ("cp1252_quotes", lambda: _insert(data, desc_at, b"\x93quoted\x94 ")),
        ("utf8_valid_accents", lambda: _insert(data, desc_at, "bétä µmol m⁻² ".encode())),
        ("rtl_override_name", lambda: _insert(data, name_at, "\u202e".encode())),
        ("zero_width_space_key", lambda: data.replace(b"\nseed:", "\nse\u200bed:".encode(), 1)),
        ("nbsp_indent", lambda: data.replace(b"\n  ", "\n\u00a0 ".encode(), 1)),
        ("nul_random", lambda: _insert(data, rand_at, b"\x00")),
        ("nul_name", lambda: _insert(data, name_at + 2, b"\x00")),
        ("nul_end", lambda: data + b"\x00"),
        ("nul_only", lambda: b"\x00" * 64),
        ("nul_escape_quoted", lambda: data.replace(b"\nname: ", b'\nname: "fuzz\\0x"\nx_', 1)),
        ("ctrl_soh", lambda: _insert(data, name_at, b"\x01")),
        ("ctrl_esc_ansi", lambda: _insert(data, desc_at, b"\x1b[31mred\x1b[0m ")),
        ("ctrl_del", lambda: _insert(data, comment, b"\x7f")),
        ("ctrl_backspace_name", lambda: _insert(data, name_at, b"\x08")),
        ("ctrl_formfeed_line", lambda: _insert(data, max(0, name_at - 6), b"\x0c\n")),
        ("ctrl_vertical_tab", lambda: _insert(data, rand_at, b"\x0b")),
        ("nel_line_breaks", lambda: data.replace(b"\n", "\u0085".encode(), 3)),
        ("line_separators", lambda: data.replace(b"\n", "\u2028".encode(), 3)),
        ("cr_only_newlines", lambda: data.replace(b"\n", b"\r")),
        ("crlf_valid", lambda: data.replace(b"\n", b"\r\n")),
        ("tab_indent", lambda: data.replace(b"\n  ", b"\n\t", 2)),
        ("escaped_ctrl_in_string", lambda: data.replace(b"\nname: ", b'\nx_text: "\\x07\\e\\x00\\u202e"\nname: ', 1)),
    ]
    for label, make in table:
        yield Candidate(base, label, make)


TAGS = [
    ("python_name", "seed", "!!python/name:os.system"),
    ("python_apply", "seed", '!!python/object/apply:os.system ["ls"]'),
    ("python_object_new", "name", "!!python/object/new:builtins.dict {}"),
    ("local_tag_scalar", "name", "!foo bar"),
    ("verbatim_tag", "name", "!<tag:example.com,2024:thing> x"),
    ("int_abc", "seed", "!!int abc"),
    ("int_huge_hex", "seed", "!!int 0xffffffffffffffffffffffffffff"),
    ("float_x", "seed", "!!float x"),
    ("float_on_version", "schema_version", "!!float 1"),
    ("timestamp_bad", "seed", "!!timestamp 2024-13-45"),
    ("timestamp_valid", "seed", "!!timestamp 2024-06-11"),
    ("binary_bad", "name", "!!binary %%"),
    ("binary_valid", "name", "!!binary aGVsbG8="),
    ("bool_maybe", "seed", "!!bool maybe"),
    ("null_tag_value", "kind", "!!null x"),
    ("str_on_version", "schema_version", "!!str 1"),
    ("set_value", "outputs", "!!set {soc: null}"),
    ("omap_value", "outputs", "!!omap [{soc: 1}]"),
    ("pairs_value", "outputs", "!!pairs [[soc, 1]]"),
    ("seq_tag_on_map", "outputs", "!!seq {a: 1}"),
    ("map_tag_on_seq", "outputs", "!!map [soc]"),
    ("python_tuple", "outputs", "!!python/tuple [soc]"),
    ("merge_tag_value", "seed", "!!merge 3"),
]
BLOCK_TAGS = [("str_on_block_map", "!!str"), ("foo_on_block_map", "!foo"),
              ("python_on_block_map", "!!python/object:os.system"), ("int_on_block_map", "!!int")]
DIRECTIVES = [("yaml_1_1_directive", "%YAML 1.1\n---\n"), ("yaml_2_0_directive", "%YAML 2.0\n---\n"),
              ("tag_directive", "%TAG !py! tag:yaml.org,2002:python/name:\n---\n"),
              ("directive_without_start", "%YAML 1.2\n"), ("unknown_directive", "%FOO bar\n---\n")]


def _tags(base: Base, rng: random.Random) -> Cases:
    """YAML tags (unknown, Python-specific, mismatched with their value) and directives."""
    text = base.text
    for label, key, value in TAGS:
        yield Candidate(base, label, lambda key=key, value=value: _set(text, key, value))
    section = "baseline" if "\nbaseline:" in text else "models"
    for label, tag in BLOCK_TAGS:
        yield Candidate(base, label, lambda tag=tag: _sub(text, rf"^({section}:)[ \t]*$", rf"\1 {tag}"))
    for label, head in DIRECTIVES:
        yield Candidate(base, label, lambda head=head: head + text)
    yield Candidate(base, "tag_directive_used", lambda: _set("%TAG !py! tag:yaml.org,2002:python/\n---\n" + text,
                                                             "seed", "!py!name:os.system"))


def _bomb(levels: int, width: int = 9) -> str:
    """A billion-laughs bomb: ``width ** levels`` leaves from ``levels + 1`` anchored lines."""
    lines = ["lol0: &l0 [lol]\n"]
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]\n")
    return "".join(lines)


def _aliases(base: Base, rng: random.Random) -> Cases:
    """Anchors and aliases (recursive, undefined, bombs, as keys) and merge keys."""
    text = base.text
    baseline = "\nbaseline:" in text
    first = _first_baseline_key(text)
    model = _model_block(text)
    defaults = "\nx_defaults: &a {cue_scale: 1.0}\nbaseline:\n"
    table: list[tuple[str, Callable[[], str | None]]] = [
        ("recursive_seq", lambda: _set(text, "seed", "&a [*a]")),
        ("recursive_map", lambda: _set(text, "seed", "&a {x: *a}")),
        ("recursive_extra_key", lambda: text + "x_extra: &r [1, *r]\n"),
        ("undefined_alias", lambda: _set(text, "seed", "*nope")),
        ("undefined_alias_key", lambda: text + "*nope : 1\n"),
        ("alias_before_anchor", lambda: _set(_set(text, "seed", "*late"), "name", "&late fuzz")),
        ("duplicate_anchor", lambda: _set(_set(text, "seed", "&d 5"), "name", "&d fuzz")),
        ("valid_anchor_alias", lambda: _set(_set(text, "schema_version", "&one 1"), "seed", "*one")),
        ("alias_of_map_as_key", lambda: text.replace("\nbaseline:", "\nbaseline: &k", 1) + "*k : 1\n"
         if baseline else None),
        ("alias_of_scalar_as_key", lambda: (_set(text, "name", "&n seed") or "") + "*n : 2\n"),
        ("recursive_alias_as_key", lambda: text + "? &rk [*rk]\n: 1\n"),
        ("merge_inline_map", lambda: _sub(text, r"^baseline:[ \t]*$", "baseline:\n  <<: {cue_scale: 1.0}")),
        ("merge_alias", lambda: text.replace("\nbaseline:\n", defaults + "  <<: *a\n", 1) if baseline else None),
        ("merge_list_of_aliases", lambda: text.replace("\nbaseline:\n", defaults + "  <<: [*a]\n", 1)
         if baseline else None),
        ("merge_int", lambda: _sub(text, r"^baseline:[ \t]*$", "baseline:\n  <<: 3")),
        ("merge_list_of_scalars", lambda: _sub(text, r"^baseline:[ \t]*$", "baseline:\n  <<: [1, 2]")),
        ("merge_of_sequence", lambda: (_sub(text, r"^outputs:[ \t]*", "outputs: &o ") or "")
         + "x_more:\n  <<: *o\n"),
        ("merge_top_level", lambda: "<<: {seed: 3}\n" + text.replace("\nseed:", "\n# seed:", 1)),
        ("merge_recursive", lambda: _sub(text, r"^baseline:[ \t]*$", "baseline: &rb\n  <<: *rb")),
        ("merge_undefined", lambda: _sub(text, r"^baseline:[ \t]*$", "baseline:\n  <<: *nothing")),
        ("merge_twice", lambda: _sub(text, r"^baseline:[ \t]*$", "baseline:\n  <<: {a: 1}\n  <<: {b: 2}")),
        ("same_model_by_alias", lambda: text.replace(model[0], "  - &m\n    " + model[0][4:] + "  - *m\n", 1)
         if model else None),
        ("alias_in_baseline_value", lambda: _sub(text, rf"^(  {first}:)[ \t]*([^\s#]+)", r"\1 &bv \2\n  x_copy: *bv")
         if first else None),
    ]
    for label, make in table:
        yield Candidate(base, label, make)
    yield Candidate(base, "billion_laughs_4_under_limits", lambda: _bomb(4) + text)
    for levels in (5, 6, 7, 8, 9):
        yield Candidate(base, f"billion_laughs_{levels}", lambda levels=levels: _bomb(levels) + text, hostile=True)
        yield Candidate(base, f"billion_laughs_{levels}_as_seed",
                        lambda levels=levels: _set(_bomb(levels) + text, "seed", f"*l{levels}"), hostile=True)
    yield Candidate(base, "bomb_in_baseline", lambda: _set(_bomb(8) + text, first, "*l8", "  ") if first else None,
                    hostile=True)
    yield Candidate(base, "bomb_as_key", lambda: _bomb(7) + text + "? *l7\n: 1\n", hostile=True)


def _nesting(base: Base, rng: random.Random) -> Cases:
    """Deep flow and block nesting of sequences and mappings."""
    text = base.text
    for depth in (100, 1000, 100_000):
        hostile = depth > 1000
        yield Candidate(base, f"seq_{depth}_seed", lambda d=depth: _set(text, "seed", "[" * d + "1" + "]" * d),
                        hostile=hostile)
        yield Candidate(base, f"map_{depth}_extra_key",
                        lambda d=depth: text + "x_deep: " + "{a: " * d + "1" + "}" * d + "\n", hostile=hostile)
        yield Candidate(base, f"seq_{depth}_unclosed", lambda d=depth: _set(text, "seed", "[" * d), hostile=hostile)
        yield Candidate(base, f"seq_{depth}_document", lambda d=depth: "[" * d + "]" * d + "\n", hostile=hostile)
        yield Candidate(base, f"seq_{depth}_in_models", lambda d=depth: _sub(text, r"^models:[ \t]*$", "models:\n  - "
                                                                             + "[" * d + "]" * d), hostile=hostile)
    for depth in (63, 64, 65):
        yield Candidate(base, f"seq_{depth}_near_limit", lambda d=depth: _set(text, "seed", "[" * d + "1" + "]" * d))
    for depth in (50, 500):
        yield Candidate(base, f"block_map_{depth}", lambda d=depth: text + "x_block:\n" + "".join(
            "  " * (i + 1) + "a:\n" for i in range(d)) + "  " * (d + 1) + "b: 1\n")
        yield Candidate(base, f"block_seq_{depth}", lambda d=depth: text + "x_list:\n" + "".join(
            "  " * (i + 1) + "-\n" for i in range(d)) + "  " * (d + 1) + "- 1\n")


def _keys(base: Base, rng: random.Random) -> Cases:
    """Keys that are not strings, duplicate, empty, long, unknown by the hundred thousand."""
    text = base.text
    first = _first_baseline_key(text)
    before_seed: list[tuple[str, str]] = [
        ("list_key", "? [a, b]\n: 1\n"), ("map_key", "? {a: 1}\n: 1\n"), ("null_key", "~: 1\n"),
        ("empty_string_key", '"": 1\n'), ("implicit_null_key", "? \n: 1\n"), ("int_key", "1: 2\n"),
        ("float_key", "1.5: 2\n"), ("nan_key", ".nan: 2\n"), ("bool_key_yes", "yes: 2\n"),
        ("date_key", "2024-01-01: x\n"),
        ("binary_key", "? !!binary aGVsbG8=\n: 1\n"), ("python_tag_key", "? !!python/name:os.system\n: 1\n"),
        ("bad_int_tag_key", "!!int x: 1\n"), ("long_key_2000", "k" * 2000 + ": 1\n"),
        ("nul_escaped_key", '"se\\0ed": 1\n'), ("unicode_key", "sééd: 1\n"), ("duplicate_seed", "seed: 3\n"),
    ]
    for label, lines in before_seed:
        yield Candidate(base, label, lambda lines=lines: _before_key(text, "seed", lines))
    yield Candidate(base, "long_explicit_key_100k", lambda: _before_key(text, "seed", "? " + "k" * 100_000 + "\n: 1\n"))
    yield Candidate(base, "duplicate_name_at_end", lambda: text + "name: other\n")
    yield Candidate(base, "duplicate_kind_at_end", lambda: text + "kind: sobol\n")
    yield Candidate(base, "duplicate_flow_key", lambda: _set(text, "outputs", "{a: 1, a: 2}"))
    yield Candidate(base, "unknown_keys_2000", lambda: text + "".join(f"x{i:05d}: {i}\n" for i in range(2000)))
    yield Candidate(base, "unknown_keys_9000", lambda: text + "".join(f"x{i:05d}: {i}\n" for i in range(9000)))
    yield Candidate(base, "unknown_keys_250000", lambda: text + "".join(f"x{i:06d}: {i}\n" for i in range(250_000)),
                    hostile=True)
    yield Candidate(base, "unknown_flow_keys_250000", lambda: text + "x_many: {" + ", ".join(
        f"k{i}: {i}" for i in range(250_000)) + "}\n", hostile=True)
    if first:
        section: list[tuple[str, str]] = [
            ("int_key_in_baseline", "baseline:\n  1: 2.0"),
            ("list_key_in_baseline", "baseline:\n  ? [c_input]\n  : 2.0"),
            ("null_key_in_baseline", "baseline:\n  null: 2.0"),
            ("unknown_baseline_keys_2000", "baseline:\n" + "".join(f"  x{i:05d}: 1.0\n" for i in range(2000)).rstrip()),
        ]
        for label, block in section:
            yield Candidate(base, label, lambda block=block: _sub(text, r"^baseline:[ \t]*$", block))
        yield Candidate(base, "duplicate_baseline_key", lambda: _sub(text, rf"^(  {first}:[^\n]*)$", r"\1\n\1"))
    if _model_block(text):
        yield Candidate(base, "int_key_in_model", lambda: _sub(text, r"^  - model: (\w+)$", r"  - model: \1\n    7: 8"))
        yield Candidate(base, "duplicate_model_key", lambda: _sub(text, r"^  - model: (\w+)[^\n]*$",
                                                                  r"  - model: \1\n    model: \1"))


def _section_sizes(base: Base) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """(label, key, indent, value, touches): huge or negative sizes in the kind's own section."""
    if base.kind == "sobol":
        return [("sobol_n_2_40", "n", "  ", "1099511627776", ("sobol",)),
                ("sobol_n_2_21", "n", "  ", str(2 ** 21), ("sobol",)),
                ("sobol_n_negative", "n", "  ", "-2048", ("sobol",)),
                ("sobol_n_fraction", "n", "  ", "2048.5", ("sobol",)),
                ("sobol_n_1e400", "n", "  ", "1e400", ("sobol",)),
                ("sobol_replicates_2_30", "replicates", "  ", str(2 ** 30), ("sobol",)),
                ("sobol_bootstrap_1e12", "replicates", "  ", f"8\n  intervals: bootstrap\n  bootstrap: {10 ** 12}",
                 ("sobol",)),
                ("sobol_confidence_nan", "confidence", "  ", ".nan", ("sobol",)),
                ("sobol_confidence_1", "confidence", "  ", "1.0", ("sobol",))]
    if base.kind == "sweep":
        return [("sweep_num_1e9", "c_input", "    ", "{relative: [0.5, 1.5], num: 1000000000}", ("sweep",)),
                ("sweep_num_negative", "c_input", "    ", "{relative: [0.5, 1.5], num: -5}", ("sweep",)),
                ("sweep_num_1e5", "cue_scale", "    ", "{relative: [0.8, 1.2], num: 100000}", ("sweep",))]
    if base.kind == "regression":
        return [("virtual_sites_1e9", "sites", "    ", "1000000000", ("regression",)),
                ("virtual_sites_negative", "sites", "    ", "-120", ("regression",)),
                ("virtual_sobol_n_2_40", "sobol_n", "    ", "1099511627776", ("regression",)),
                ("virtual_noise_inf", "noise_sd", "    ", ".inf", ("regression",))]
    if base.kind == "calibrate":
        return [("draws_1e12", "draws", "    ", str(10 ** 12), ("calibrate",)),
                ("draws_negative", "draws", "    ", "-6000", ("calibrate",)),
                ("chains_1e6", "chains", "    ", "1000000", ("calibrate",)),
                ("tune_nan", "tune", "    ", ".nan", ("calibrate",))]
    if base.kind == "local":
        return [("local_h_1e400", "h", "  ", "1e400", ("local",)), ("local_h_negative", "h", "  ", "-0.1", ("local",)),
                ("local_h_nan", "h", "  ", ".nan", ("local",))]
    return []


def _values(base: Base, rng: random.Random) -> Cases:
    """Huge, negative, infinite and NaN values; huge sizes of the kind's own section."""
    text = base.text
    first = _first_baseline_key(text)
    for label, value in [("seed_30_digits", "123456789012345678901234567890"), ("seed_10_400", "1" + "0" * 400),
                         ("seed_negative", "-1"), ("seed_nan", ".nan"), ("seed_inf", ".inf"), ("seed_1e400", "1e400"),
                         ("seed_2_64", str(2 ** 64))]:
        yield Candidate(base, label, lambda value=value: _set(text, "seed", value))
    yield Candidate(base, "schema_version_10_100", lambda: _set(text, "schema_version", "1" + "0" * 100))
    yield Candidate(base, "seed_2_63_minus_1", lambda: _set(text, "seed", str(2 ** 63 - 1)))
    yield Candidate(base, "seed_2_63", lambda: _set(text, "seed", str(2 ** 63)))
    yield Candidate(base, "executor_jobs_1024", touches=("executor",),
                    make=lambda: _set_top(text, "executor", "executor: {type: processes, jobs: 1024}"))
    for label, block, hostile in [("executor_jobs_1e6", "executor: {type: processes, jobs: 1000000}", True),
                                  ("executor_chunk_rows_1e15", f"executor: {{chunk_rows: {10 ** 15}}}", True),
                                  ("executor_jobs_negative", "executor: {type: processes, jobs: -4}", False)]:
        yield Candidate(base, label, lambda block=block: _set_top(text, "executor", block), hostile=hostile,
                        touches=("executor",))
    if first:
        for label, value in [("nan", ".nan"), ("inf", ".inf"), ("minus_inf", "-.inf"), ("1e400", "1e400"),
                             ("int_10_400", "1" + "0" * 400), ("negative", "-400.0"), ("tiny", "1e-400"),
                             ("max_float", "1.7976931348623157e308"), ("quoted", "'400'"), ("hex", "0x190"),
                             ("sexagesimal", "1:30"), ("bool", "yes")]:
            yield Candidate(base, f"baseline_{label}", lambda value=value: _set(text, first, value, "  "),
                            touches=("baseline",))
    for label, key, indent, value, touches in _section_sizes(base):
        yield Candidate(base, label, lambda key=key, indent=indent, value=value: _set(text, key, value, indent),
                        hostile=True, touches=touches)


def _repeats(base: Base, rng: random.Random) -> Cases:
    """The same model twice, repeated variant values, outputs and drivers; empty lists."""
    text = base.text
    model = _model_block(text)
    if model:
        block = model[0]
        yield Candidate(base, "same_model_twice", lambda: text.replace(block, block * 2, 1))
        yield Candidate(base, "same_model_three_times", lambda: text.replace(block, block * 3, 1))
        yield Candidate(base, "same_model_flow_style",
                        lambda: text.replace(block, block + f"  - {{model: {model[1]}}}\n", 1))
    beta = re.search(r"beta: \[[^\]]*\]", text)
    if beta:
        for label, value in [("beta_repeated", "[1.5, 1.5]"), ("beta_repeated_spelled", "[1.5, 1.50, 15e-1]"),
                             ("beta_empty", "[]"), ("beta_nested", "[[1.5]]"), ("beta_scalar", "1.5"),
                             ("beta_nan", "[.nan]")]:
            yield Candidate(base, label, lambda value=value: text.replace(beta[0], f"beta: {value}", 1))
    else:
        yield Candidate(base, "variant_repeated_added", lambda: _sub(
            text, r"^(  - model: clm5_firstorder)$", r"\1\n    variants: {normalize_q10: [true, true]}"))
        yield Candidate(base, "variant_empty_added", lambda: _sub(text, r"^(  - model: \w+)$", r"\1\n    variants: {}"))
    models = r"^models:[ \t]*\n(?:  [^\n]*\n)*"
    for label, make in [("outputs_repeated", lambda: _set(text, "outputs", "[soc, soc, soc]")),
                        ("outputs_empty", lambda: _set(text, "outputs", "[]")),
                        ("models_empty", lambda: _sub(text, models, "models: []\n")),
                        ("models_null", lambda: _sub(text, models, "models:\n")),
                        ("models_strings_repeated",
                         lambda: _sub(text, models, "models: [clm5_firstorder, clm5_firstorder]\n")),
                        ("local_drivers_repeated", lambda: _sub(text, r"^(  drivers: \[)(\w+)", r"\1\2, \2")),
                        ("predictors_repeated", lambda: _set(text, "predictors", "[cue, cue]", "  ")),
                        ("driver_twice_in_flow", lambda: _sub(text, r"^  (c_input: +\{[^\n]*)$", r"  \1\n  \1"))]:
        yield Candidate(base, label, make)


PATH_VALUES = [
    ("etc_passwd", "/etc/passwd", False), ("dotdot_etc_passwd", "../../../../etc/passwd", False),
    ("dev_zero", "/dev/zero", True), ("dev_urandom", "/dev/urandom", True), ("dev_null", "/dev/null", False),
    ("directory_here", ".", False), ("directory_root", "/", False), ("missing", "nope/missing.csv", False),
    ("nul_in_path", '"a\\0b.csv"', False), ("long_path_5000", "x" * 5000 + ".csv", False),
    ("long_components", "/".join(["y" * 255] * 20) + ".csv", False), ("home_tilde", "~/cases.csv", False),
    ("empty_string", '""', False), ("number", "42", False), ("mapping", "{a: 1}", False), ("list", "[a.csv]", False),
    ("file_url", "file:///etc/passwd", False), ("proc_self_dir", "/proc/self", False),
]


def _paths(base: Base, rng: random.Random) -> Cases:
    """Paths the scenario reads pointed at system files, devices, directories and nowhere."""
    text = base.text
    slots: list[tuple[str, str]] = []  # (slot label, the line's key with its indentation)
    if base.kind == "points":
        slots.append(("cases", "cases"))
    if base.kind == "calibrate":
        slots.append(("observations", "    file"))
    if base.kind == "grid":
        slots += [("forcing", "  forcing"), ("observation_layer", "      file")]
    if "drivers_from:" in text:
        slots.append(("drivers_from", "drivers_from"))
    for slot, key in slots:
        for label, value, hostile in PATH_VALUES:
            yield Candidate(base, f"{slot}_{label}", lambda key=key, value=value: _set(text, key, value),
                            group=label, hostile=hostile)
        yield Candidate(base, f"{slot}_scenario_itself", lambda key=key: _set(text, key, f"{base.name}.yaml"),
                        group="scenario_itself")
        if slot in ("cases", "observations"):
            name = base.csvs[0]
            outside = (SCENARIOS if slot == "cases" else DATA) / name
            yield Candidate(base, f"{slot}_absolute_outside",
                            lambda key=key, outside=outside: _set(text, key, outside.as_posix()),
                            group="absolute_outside")
            yield Candidate(base, f"{slot}_subdir", lambda key=key, name=name: _set(text, key, f"sub/{name}"),
                            group="subdir", files=lambda name=name: {f"sub/{name}": base.files[name]})
        if slot == "forcing":
            yield Candidate(base, f"{slot}_csv_as_netcdf", lambda key=key: _set(text, key, "table.csv"),
                            group="csv_as_netcdf", files=lambda: {"table.csv": (SCENARIOS / "clm5_reference_cases.csv")
                                                                  .read_bytes()})
    if not slots:
        yield Candidate(base, "cases_on_other_kind", lambda: text + "cases: /etc/passwd\n")


def _sizes(base: Base, rng: random.Random) -> Cases:
    """Empty and huge files, very long lines, several documents."""
    text = base.text
    comments = "# " + "c" * 97 + "\n"  # 100 bytes
    table: list[tuple[str, Callable[[], str | bytes | None], bool]] = [
        ("empty", lambda: b"", False),
        ("only_document_start", lambda: "---\n", False),
        ("only_document_end", lambda: "...\n", False),
        ("start_and_end", lambda: "---\n...\n", False),
        ("only_whitespace", lambda: " \n\t\n  \n", False),
        ("only_comment", lambda: "# nothing here\n", False),
        ("only_null", lambda: "null\n", False),
        ("scalar_document", lambda: "42\n", False),
        ("string_document", lambda: f"{base.name}\n", False),
        ("list_document", lambda: "- name: x\n- seed: 1\n", False),
        ("two_documents", lambda: text + "---\n" + text, False),
        ("empty_second_document", lambda: text + "---\n", False),
        ("document_end_then_garbage", lambda: text + "...\nnot: yaml: at: all\n", False),
        ("explicit_start", lambda: "--- \n" + text, False),
        ("blank_lines_10000", lambda: "\n" * 10_000 + text, False),
        ("long_description_1mb", lambda: _set_top(text, "description", 'description: "' + "d" * 1_000_000 + '"'),
         True),
        ("long_plain_name_1mb", lambda: _set(text, "name", "n" * 1_000_000), True),
        ("long_comment_line_1mb", lambda: "#" + "c" * 1_000_000 + "\n" + text, True),
        ("long_flow_list_100000", lambda: _set(text, "outputs", "[" + ", ".join(["soc"] * 100_000) + "]"), True),
        ("comments_5mb_before", lambda: comments * 50_000 + text, True),
        ("file_1mib_minus_1", lambda: _padded(text, 2**20 - 1), False),
        ("file_1mib", lambda: _padded(text, 2**20), False),
        ("file_1mib_plus_1", lambda: _padded(text, 2**20 + 1), False),
        ("comments_5mb_after", lambda: text + comments * 50_000, True),
        ("long_line_5mb", lambda: text + "#" + "x" * 5_000_000 + "\n", True),
    ]
    for label, make, hostile in table:
        yield Candidate(base, label, make, hostile=hostile)


def _csv_mutations(data: bytes) -> list[tuple[str, Callable[[], bytes], bool]]:
    text = data.decode("utf-8")
    lines = text.splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    row = lines[1].rstrip("\r\n").split(",")
    numeric = next((i for i in range(1, len(row)) if re.fullmatch(r"-?[\d.]+", row[i].strip())), 1)
    variant_col = next((i for i, h in enumerate(header) if h in ("parameter_set", "beta")), None)

    def cell(value: str, col: int = numeric, encoding: str = "utf-8") -> bytes:
        out = list(lines)
        cells = list(row)
        cells[col] = value
        out[1] = ",".join(cells) + "\n"
        return "".join(out).encode(encoding, "surrogateescape")

    def variant(value: str) -> bytes:
        if variant_col is not None:
            return cell(value, variant_col)
        out = [lines[0].rstrip("\r\n") + ",beta\n"] + [line.rstrip("\r\n") + ",\n" for line in lines[1:]]
        out[1] = out[1].rstrip("\n") + value + "\n"
        return "".join(out).encode()

    def wide(columns: int = 100_000) -> bytes:
        extra = columns - len(header)
        names = ",".join(header + [f"x{i}" for i in range(extra)])
        return (names + "\n" + ",".join(row + ["1"] * extra) + "\n").encode()

    def extra_column(name: str, value: str) -> bytes:
        return "".join([lines[0].rstrip("\r\n") + f",{name}\n"] + [line.rstrip("\r\n") + f",{value}\n"
                                                                    for line in lines[1:]]).encode()

    return [
        ("latin1_e_in_id", lambda: cell("café".encode("latin-1").decode("utf-8", "surrogateescape"), 0), False),
        ("lone_ff_in_cell", lambda: cell("1\udcff", numeric), False),
        ("invalid_continuation_header", lambda: b"\xc3\x28" + data, False),
        ("latin1_row", lambda: data + "é,1\n".encode("latin-1"), False),
        ("utf16_bom", lambda: text.encode("utf-16"), False),
        ("utf8_bom_valid", lambda: codecs.BOM_UTF8 + data, False),
        ("nul_in_cell", lambda: cell("1\x002"), False),
        ("nul_in_header", lambda: b"\x00" + data, False),
        ("nul_only", lambda: b"\x00" * 100, False),
        ("ctrl_chars_in_id", lambda: cell("\x1b[2Jid\x07", 0), False),
        ("ragged_extra_cells",
         lambda: "".join(lines[:2] + [lines[2].rstrip("\r\n") + ",99,100\n"] + lines[3:]).encode(), False),
        ("ragged_short_row", lambda: "".join(lines[:2] + [lines[2].split(",")[0] + "\n"] + lines[3:]).encode(), False),
        ("ragged_short_header", lambda: "".join([",".join(header[:2]) + "\n"] + lines[1:]).encode(), False),
        ("blank_and_empty_rows", lambda: "".join(lines[:2] + ["\n", ",,,\n"] + lines[2:]).encode(), False),
        ("header_only", lambda: lines[0].encode(), False),
        ("empty", lambda: b"", False),
        ("only_newline", lambda: b"\n", False),
        ("duplicate_column", lambda: extra_column(header[numeric], "7"), False),
        ("empty_column_name", lambda: "".join([",".join(["", *header[1:]]) + "\n"] + lines[1:]).encode(), False),
        ("unknown_column", lambda: extra_column("not_a_driver", "1"), False),
        ("variant_unclosed_bracket", lambda: variant("[unclosed"), False),
        ("variant_unclosed_brace", lambda: variant("{a: 1"), False),
        ("variant_undefined_alias", lambda: variant("*nope"), False),
        ("variant_python_tag", lambda: variant("!!python/name:os.system"), False),
        ("variant_recursive_alias", lambda: variant("&a [*a]"), False),
        ("variant_mapping", lambda: variant('"{a: 1}"'), False),
        ("variant_tab", lambda: variant("\tx"), False),
        ("non_numeric", lambda: cell("abc"), False),
        ("nan_lower", lambda: cell("nan"), False),
        ("nan_mixed_case", lambda: cell("NaN"), False),
        ("inf", lambda: cell("inf"), False),
        ("minus_infinity", lambda: cell("-Infinity"), False),
        ("overflow_1e400", lambda: cell("1e400"), False),
        ("underscore_number", lambda: cell("1_000"), False),
        ("hex_number", lambda: cell("0x10"), False),
        ("true_value", lambda: cell("true"), False),
        ("spaces_around", lambda: cell("  5  "), False),
        ("unterminated_quote", lambda: (text.rstrip("\n") + ',"abc\n').encode(), False),
        ("quoted_newline", lambda: cell('"1\n2"'), False),
        ("cr_only_newlines", lambda: data.replace(b"\n", b"\r"), False),
        ("crlf_valid", lambda: data.replace(b"\n", b"\r\n"), False),
        ("duplicate_ids", lambda: (text + lines[1]).encode(), False),
        ("semicolon_separated", lambda: data.replace(b",", b";"), False),
        ("huge_field_200k", lambda: cell("9" * 200_000), True),
        ("columns_100000", wide, True),
        ("columns_1000", lambda: wide(1000), False),
        ("columns_1001", lambda: wide(1001), False),
        ("rows_20000", lambda: (text + "".join(lines[1:]) * (20_000 // max(1, len(lines) - 1))).encode(), True),
    ]


def _csv(base: Base, rng: random.Random) -> Cases:
    """Malformed CSV tables next to the scenario (cases of ``points``, observations of ``calibrate``)."""
    for name in base.csvs:
        for label, make, hostile in _csv_mutations(base.files[name]):
            yield Candidate(base, f"{name}:{label}", lambda: base.text, group=label, hostile=hostile,
                            files=lambda name=name, make=make: {name: make()})


def _netcdf_mutations(data: bytes, rng: random.Random) -> list[tuple[str, Callable[[], bytes]]]:
    header = [rng.randrange(8, min(len(data), 512)) for _ in range(6)]
    body = [rng.randrange(len(data) // 2, len(data)) for _ in range(64)]

    def flipped(offsets: list[int]) -> bytes:
        out = bytearray(data)
        for at in offsets:
            out[at] ^= 0xFF
        return bytes(out)

    return [
        ("truncated_half", lambda: data[:len(data) // 2]),
        ("truncated_header", lambda: data[:64]),
        ("signature_only", lambda: data[:8]),
        ("empty", lambda: b""),
        ("zeros", lambda: bytes(len(data))),
        ("header_bytes_flipped", lambda: flipped(header)),
        ("data_bytes_flipped", lambda: flipped(body)),
        ("doubled", lambda: data + data),
        ("cdl_text", lambda: b"netcdf forcing {\ndimensions:\n  lat = 2 ;\n}\n"),
        ("csv_bytes", lambda: (SCENARIOS / "clm5_reference_cases.csv").read_bytes()),
    ]


def _netcdf(base: Base, rng: random.Random) -> Cases:
    """Corrupted netCDF files next to the scenario (the forcing and observation layers of ``grid``)."""
    for name in sorted(n for n in base.files if n.endswith(".nc")):
        for label, make in _netcdf_mutations(base.files[name], rng):
            yield Candidate(base, f"{name}:{label}", lambda: base.text, group=f"{name}:{label}",
                            files=lambda name=name, make=make: {name: make()})


# -- judging what the harness printed -----------------------------------------------------------
FOOTER = re.compile(r"^\d+ errors? in .*; nothing was run\.$")
PY_WARNING = re.compile(r"^\S.*:\d+: [A-Za-z]*Warning: ")


def unlocated(stderr: str, scenario: Path) -> list[str]:
    """The lines of an exit-2 ``stderr`` that do not point at a place in a file of the mutant.

    Every line must read ``SCENARIO:LINE:COL: ...`` or, for a file next to it (a CSV),
    ``FILE:LINE: ...`` / ``FILE:LINE:COL: ...`` (absolute, or relative to the scenario's folder);
    the footer ``N errors in FILE; nothing was run.``, ``warning: ...`` lines and Python warnings
    (with their indented source line) are not messages. An exit 2 with no message at all is
    reported as ``(no message)``.
    """
    scenario_re = re.compile(rf"^{re.escape(str(scenario))}:\d+:\d+: ")
    folder = str(scenario.parent)
    other_re = re.compile(rf"^(?:{re.escape(folder)}/)?(?P<file>[^:\s][^:]*):\d+(?::\d+)?: ")
    bad, messages, skip_next = [], 0, False
    for line in stderr.splitlines():
        if skip_next and line.startswith((" ", "\t")):
            continue
        skip_next = False
        if not line.strip() or FOOTER.match(line) or line.startswith("warning: "):
            continue
        if PY_WARNING.match(line):
            skip_next = True
            continue
        messages += 1
        if scenario_re.match(line):
            continue
        other = other_re.match(line)
        if other and (scenario.parent / other["file"]).is_file() and (scenario.parent / other["file"]) != scenario:
            continue
        bad.append(line)
    return bad if messages else ["(no message)"]


def traceback_line(text: str) -> str:
    """``ExcType: message (at file:line in function)`` of the last traceback in ``text``, else ``""``."""
    if "Traceback (most recent call last)" not in text:
        return ""
    tail = text[text.rindex("Traceback (most recent call last)"):].splitlines()
    frames = [line.strip() for line in tail if line.strip().startswith("File ")]
    ours = [f for f in frames if f"{ROOT}/harness/" in f or f"{ROOT}/models/" in f] or frames
    where = ""
    if ours:
        match = re.match(r'File "([^"]+)", line (\d+), in (\S+)', ours[-1])
        if match:
            where = f" (at {Path(match[1]).relative_to(ROOT) if match[1].startswith(str(ROOT)) else match[1]}:" \
                    f"{match[2]} in {match[3]})"
    last = next((line for line in reversed(tail) if line.strip() and not line.startswith((" ", "\t"))), "")
    return f"{last[:200]}{where}"


# -- the list ------------------------------------------------------------------------------------
#: category -> (candidates of one base, how many mutants to draw)
CATEGORIES: dict[str, tuple[Callable[[Base, random.Random], Cases], int]] = {
    "bytes": (_bytes, 60), "encoding": (_encoding, 55), "tags": (_tags, 40), "aliases": (_aliases, 45),
    "nesting": (_nesting, 25), "keys": (_keys, 40), "values": (_values, 60), "repeats": (_repeats, 30),
    "paths": (_paths, 50), "sizes": (_sizes, 30), "csv": (_csv, 60), "netcdf": (_netcdf, 20),
}


def _draw(category: str, candidates: list[Candidate], quota: int, rng: random.Random) -> list[Mutant]:
    """Every group once (on a random base where it applies), then random others up to ``quota``.

    In candidate order.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(candidates):
        groups[c.group or c.label].append(i)
    built: dict[int, Mutant] = {}
    for members in groups.values():
        for i in rng.sample(members, len(members)):
            mutant = candidates[i].build(category)
            if mutant is not None:
                built[i] = mutant
                break
    rest = [i for i in range(len(candidates)) if i not in built]
    for i in rng.sample(rest, len(rest)):
        if len(built) >= quota:
            break
        mutant = candidates[i].build(category)
        if mutant is not None:
            built[i] = mutant
    return [built[i] for i in sorted(built)]


def mutants(seed: int = SEED) -> list[Mutant]:
    """Every mutant, in a fixed order (same ``seed`` and scenarios, same list)."""
    every = bases()
    out: list[Mutant] = []
    for category, (generate, quota) in CATEGORIES.items():
        candidates = [c for base in every for c in generate(base, random.Random(f"{seed}/{category}/{base.name}"))]
        out += _draw(category, candidates, quota, random.Random(f"{seed}/{category}"))
    seen: Counter[str] = Counter()
    for i, m in enumerate(out):  # a label drawn twice on one base (e.g. the same offset) gets a suffix
        seen[m.name] += 1
        if seen[m.name] > 1:
            out[i] = Mutant(f"{m.name}~{seen[m.name]}", m.category, m.base, m.text, m.files, m.hostile, m.touches)
    return out


def main() -> int:
    """Print the number of mutants per category and the time it took."""
    start = time.perf_counter()
    items = mutants()
    took = time.perf_counter() - start
    by_category = Counter(m.category for m in items)
    hostile = Counter(m.category for m in items if m.hostile)
    bases_of = defaultdict(set)
    for m in items:
        bases_of[m.category].add(m.base)
    print(f"{'category':10s} {'mutants':>7s} {'hostile':>7s} {'bases':>5s}")
    for category in CATEGORIES:
        print(f"{category:10s} {by_category[category]:7d} {hostile[category]:7d} {len(bases_of[category]):5d}")
    size = sum(len(m.text) + sum(map(len, m.files.values())) for m in items) / 1e6
    print(f"{'total':10s} {len(items):7d} {sum(hostile.values()):7d}  ({size:.1f} MB) in {took:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

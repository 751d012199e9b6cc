"""Reading a CSV table whole, as clean UTF-8 text with one value per column on every row.

Shared by the scenario checks (observation and data tables, ``harness.checks``) and the forcing
tables of transient runs (``harness.forcing_schedule.table_from_csv``). Problems raise
``InputFileError`` with a hint. A message never quotes a file's bytes: it names what the harness
expects, and a file's column names only when they all look like names (``plausible_names``).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import InputFileError

MAX_CSV_BYTES = 100 * 2**20  # [bytes] the largest CSV table a scenario may name (it is read whole)
MAX_CSV_COLUMNS = 1000  # the most columns a CSV table may have
MAX_NAME = 64  # [characters] the longest column or variable name a message may quote
#: a name a message may quote: letters, digits, "_", "." and "-", starting with a letter or "_"
_PLAUSIBLE = re.compile(rf"[A-Za-z_][A-Za-z0-9_.\-]{{0,{MAX_NAME - 1}}}")

def plausible_names(names: Iterable[str]) -> bool:
    """Whether every one of ``names`` looks like a column name, so a message may quote them.

    Identifier-like (letters, digits, ``_``, ``.``, ``-``) and at most ``MAX_NAME`` characters:
    the header of a data table, not a line of some other file.
    """
    return all(isinstance(n, str) and _PLAUSIBLE.fullmatch(n) for n in names)


def quoted(name: str) -> str:
    """``name`` quoted for a message if it looks like a name, else a stand-in."""
    return repr(name) if plausible_names([name]) else "(a name not shown)"


def listed(names: Iterable[str]) -> str:
    """``names`` joined for a hint, or only their count when they do not all look like names."""
    names = list(names)
    if not names:
        return "none"
    return ", ".join(names) if plausible_names(names) else f"{len(names)} (not shown: they do not look like names)"


@dataclass(frozen=True)
class CsvTable:
    """A CSV table as read: its header and its rows of text cells, with the line each starts on.

    Attributes
    ----------
    name : str
        The file as the scenario names it, for messages.
    header : list of str
        Column names, distinct and non-empty.
    rows : list of (int, list of str)
        (1-based line, cells): one cell per column on every row; blank lines are skipped.
    """

    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]]

    @property
    def plausible(self) -> bool:
        """Whether the column names look like names (a message may quote them)."""
        return plausible_names(self.header)

    def cells(self, name: str) -> list[tuple[int, str]]:
        """(line, cell) of column ``name`` on every row."""
        j = self.header.index(name)
        return [(line, cells[j]) for line, cells in self.rows]


def read_csv(path: Path, name: str) -> CsvTable:
    """The CSV table at ``path`` (``name`` in messages); ``InputFileError`` unless it is a clean table.

    Refused: an empty file, NUL bytes, text that is not UTF-8, malformed quoting, a header with an
    empty or repeated name or more than ``MAX_CSV_COLUMNS`` columns, a row with more or fewer
    values than the header, and a header without rows. At most ``MAX_CSV_BYTES`` are read.
    """
    data = _read_regular(Path(path), name, MAX_CSV_BYTES)
    records = _records(_csv_text(data, name), name)
    if not records:
        raise InputFileError(f"{name} is empty", "write a header line of column names, then one row per line")
    (_, header), rows = records[0], records[1:]
    _check_header(header, name)
    for line, cells in rows:
        if len(cells) != len(header):
            raise InputFileError(f"{name}:{line}: the row has {_count(len(cells), 'value')}; the header has "
                                 f"{_count(len(header), 'column')}", "give every row one value per column (an empty value is written as "
                                 "nothing between two commas)")
    if not rows:
        raise InputFileError(f"{name}: the header has no rows below it", "add one row per line below the header")
    return CsvTable(name, header, rows)


def _read_regular(path: Path, name: str, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` [bytes]; ``InputFileError`` otherwise.

    Opened without blocking and checked again once open, so a file swapped for a fifo or device
    after ``locate`` is refused too.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputFileError(f"cannot read {name!r}: {exc.strerror}", "check the file's permissions") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputFileError(f"{name!r} is not a regular file", "name a data file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputFileError(f"{name} has more than {limit / 2**20:.0f} MiB",
                             "split the data or reduce it to what the scenario uses")
    return data


def _count(n: int, noun: str) -> str:
    """``1 value``, ``3 values``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _csv_text(data: bytes, name: str) -> str:
    """``data`` decoded as UTF-8 (a byte-order mark is dropped); ``InputFileError`` naming the bad line."""
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputFileError(f"{name}:{_line_of(data, nul)}: the line holds a NUL byte; the file is not a text "
                             "table", "save it as CSV text (UTF-8)")
    try:
        return codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{name}:{_line_of(data, exc.start)}: the line is not UTF-8 text",
                             "save the file as CSV in UTF-8") from exc


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset`` of ``data`` (lines end at LF, CR LF or a lone CR)."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _records(text: str, name: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of every non-blank record of ``text``; ``InputFileError`` on malformed quoting."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out, line = [], 1
    try:
        for cells in reader:
            if cells:
                out.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputFileError(f"{name}:{line}: cannot read the row as CSV ({exc})",
                             "check the quotes: a quoted value must end with a quote before the next comma") from exc
    return out


def _check_header(header: list[str], name: str) -> None:
    """Column names are non-empty and distinct, and at most ``MAX_CSV_COLUMNS``."""
    if len(header) > MAX_CSV_COLUMNS:
        raise InputFileError(f"{name}:1: the header has {len(header)} columns; at most {MAX_CSV_COLUMNS} are read",
                             "keep the columns the scenario uses")
    for i, column in enumerate(header):
        if not column.strip():
            raise InputFileError(f"{name}:1: column number {i + 1} of the header has no name",
                                 "name every column in the first line")
        first = header.index(column)
        if first < i:
            which = repr(column) if plausible_names(header) else f"number {i + 1}"
            raise InputFileError(f"{name}:1: column {which} repeats the name of column number {first + 1}",
                                 "give every column its own name")

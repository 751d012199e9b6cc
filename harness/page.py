"""HTML blocks of ``report.html``: headings, paragraphs, tables and embedded figures.

Each kind adds its section to a ``Page`` (``Kind.report``); ``harness.html_report`` assembles
the page from a finished run's files.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .executors import ProcessExecutor
from .store import ResultDir

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1150px;margin:1em auto 3em;padding:0 1em;
color:#1d2733;line-height:1.45}
h1{font-size:1.5em;margin:.3em 0 .2em}h2{border-bottom:2px solid #1f5f9e;padding-bottom:.15em;margin:.9em 0 .5em;
font-size:1.35em}h3{margin-top:1.4em}h4{margin:1.2em 0 .3em}
.table-wrap{overflow-x:auto;max-width:100%;margin:.6em 0}table{border-collapse:collapse;font-size:.88em}
th,td{border:1px solid #cfd8e3;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#eef3f8}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.muted{color:#5b6b7c;font-size:.9em}.lead{margin:.2em 0 .4em}.lead em{color:#5b6b7c;font-style:normal;font-size:.9em}.verdict{background:#f5f9fd;border-left:4px solid #1f5f9e;padding:.3em 1em}
ul.verdict{padding-left:2em}ul.verdict li{margin:.2em 0}
.headline{font-size:1.08em;background:#f5f9fd;border-left:5px solid #1f5f9e;padding:.5em 1em;margin:.4em 0 .6em}
img{max-width:100%;height:auto;display:block;margin:.5em 0}pre{background:#f4f6f8;padding:1em;overflow-x:auto;
font-size:.85em}figure{margin:0}figcaption{font-size:.88em;color:#5b6b7c}
code,pre{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace}code{font-size:.92em}
details{border:1px solid #cfd8e3;border-radius:4px;margin:.5em 0;padding:0 1em}
details[open]{padding-bottom:.6em}details>summary{cursor:pointer;padding:.45em 0;font-weight:600;color:#1f5f9e}
details details{border-color:#e3e9f0}details>summary .muted{font-weight:normal}
"""
# Records, once the page has loaded, where the marked blocks and the figures are with every
# <details> section closed (data-top, data-bottom [px from the top of the page]; the page's
# data-height), then whether each figure is decoded and visible once its section is opened
# (data-width, data-visible); read by the browser test. Every section is closed again after.
SCRIPT = """
window.addEventListener('load', function () {
  const body = document.body;
  const place = function (el) {
    const r = el.getBoundingClientRect();
    el.dataset.top = Math.round(r.top + window.scrollY);
    el.dataset.bottom = Math.round(r.bottom + window.scrollY);
  };
  document.querySelectorAll('[data-measure], img').forEach(place);
  body.dataset.height = document.documentElement.scrollHeight;
  body.dataset.viewport = window.innerWidth + 'x' + window.innerHeight;
  const closed = Array.from(document.querySelectorAll('details:not([open])'));
  closed.forEach(function (d) { d.open = true; });
  for (const img of document.images) {
    img.dataset.width = img.naturalWidth;
    img.dataset.visible = (img.naturalWidth > 0 && img.getBoundingClientRect().width > 0) ? 'yes' : 'no';
  }
  closed.forEach(function (d) { d.open = false; });
  body.dataset.ready = 'yes';
});
"""


#: tables longer than this [rows] are summarised in report.html (``Page.long_table``)
LONG_TABLE_ROWS = 200
EDGE_ROWS = 10  # rows shown from each end of a long table
FAILED_ROWS = 50  # failed rows shown of a long table


#: worker processes that draw a report's figures
DRAWING_WORKERS = 2


def drawing_workers() -> ProcessExecutor | None:
    """Worker processes for a report's figures, started now with matplotlib imported in them.

    Importing matplotlib is most of what a figure costs; a run starts these before its models run
    (``api.run``), so the import happens while a core is free, not on the report's critical path.
    None on a one-core machine (figures are then drawn in this process).
    """
    workers = min(DRAWING_WORKERS, os.cpu_count() or 1)
    if workers < 2:
        return None
    from .plots import import_pyplot

    executor = ProcessExecutor(workers, prepare=import_pyplot)
    executor.start()
    return executor


class Page:
    """Accumulates HTML blocks and figures.

    ``drawing``: worker processes for the figures ``plot`` defers (see ``drawing_workers``); None
    starts a pool when the page is written.
    """

    def __init__(self, out_dir: Path, drawing: ProcessExecutor | None = None):
        self.out_dir = out_dir
        self.drawing = drawing
        self.blocks: list[str] = []
        self.figures: dict[str, bytes] = {}
        self.pending: list[tuple[int, str, str, Any]] = []  # place, name, caption, future or (draw, args)
        self._list: tuple[int, str, list[str]] | None = None  # the list ``text`` adds items to

    def heading(self, text: str, level: int = 2) -> None:
        """Add a heading of ``level`` (markdown rendered)."""
        self.blocks.append(f"<h{level}>{inline(text)}</h{level}>")

    def text(self, markdownish: str, cls: str = "") -> None:
        """Paragraphs and lists of markdown: **bold**, *emphasis* and `code` rendered.

        Lines starting with "- " are list items; items in a row, here or from calls in a row
        (with the same ``cls``), make one list. Other lines make paragraphs (a blank line ends one).
        """
        attr = f' class="{cls}"' if cls else ""
        for item, body in _paragraphs(markdownish):
            if not item:
                self.blocks.append(f"<p{attr}>{inline(body)}</p>")
            elif self._list is not None and self._list[0] == len(self.blocks) - 1 and self._list[1] == cls:
                self._list[2].append(inline(body))
                self.blocks[-1] = _list_html(self._list[2], attr)
            else:
                self._list = (len(self.blocks), cls, [inline(body)])
                self.blocks.append(_list_html(self._list[2], attr))

    def headline(self, markdownish: str, anchor: str = "headline") -> None:
        """The sentence that answers the run's question, first on the page (``id`` and ``data-measure`` ``anchor``)."""
        self.blocks.append(f'<p class="headline" id="{html.escape(anchor)}" data-measure="{html.escape(anchor)}">'
                           f"{inline(markdownish)}</p>")

    @contextmanager
    def details(self, summary: str, note: str = "", open_: bool = False) -> Iterator[None]:
        """A collapsible section (closed unless ``open_``) holding what is added inside the ``with``.

        ``note``: a muted remark beside the summary line (e.g. how many rows or warnings it holds).
        """
        extra = f' <span class="muted">{inline(note)}</span>' if note else ""
        self.blocks.append(f"<details{' open' if open_ else ''}><summary>{inline(summary)}{extra}</summary>")
        try:
            yield
        finally:
            self.blocks.append("</details>")

    def table(self, rows: list[tuple] | pd.DataFrame, headers: list[str] | str = "keys") -> None:
        """Add a table of ``rows`` (a data frame, or tuples under ``headers``).

        Text cells render markdown (**bold**, *emphasis*, `code`); numbers are right-aligned, floats
        to 4 significant digits (whole numbers from 10^4 up without decimals); NaN and None are
        empty. A table wider than the page scrolls sideways instead of overflowing it.
        """
        if isinstance(rows, pd.DataFrame):
            names = [str(c) for c in rows.columns] if isinstance(headers, str) else list(headers)
            body: Iterable[tuple] = rows.itertuples(index=False, name=None)
        else:
            names, body = list(headers), rows
        head = "".join(f"<th>{inline(str(h))}</th>" for h in names)
        lines = ["<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in body]
        self.blocks.append(f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>'
                           + "\n".join(lines) + "</tbody></table></div>")

    def long_table(self, table: pd.DataFrame, file: str, status: str = "status") -> None:
        """Add ``table`` (stored as ``file``) whole if short; else its head, tail, failures and a summary.

        Above ``LONG_TABLE_ROWS`` rows the page shows the first and last ``EDGE_ROWS`` rows, up to
        ``FAILED_ROWS`` rows whose ``status`` is not ok, and count/min/median/max of each numeric
        column, and links the CSV that holds every row (rendering 1e5 rows took a minute).
        """
        if len(table) <= LONG_TABLE_ROWS:
            self.table(blank(table))
            return
        failed = table[table[status] != "ok"] if status in table else table.iloc[:0]
        self.blocks.append(f'<p class="muted">{len(table):,} rows, {len(failed):,} not ok; every row is in '
                           f'<a href="{html.escape(file)}">{html.escape(file)}</a>. The first and last {EDGE_ROWS}:</p>')
        self.table(blank(pd.concat([table.head(EDGE_ROWS), table.tail(EDGE_ROWS)])))
        if len(failed):
            shown = f"the first {FAILED_ROWS} of {len(failed):,}" if len(failed) > FAILED_ROWS else "all"
            self.text(f"Rows not ok ({shown}):", "muted")
            self.table(blank(failed.head(FAILED_ROWS)))
        numeric = table.select_dtypes("number")
        if not numeric.empty:
            self.text("Each numeric column over every row (NaN cells of failed rows left out):", "muted")
            stats = numeric.agg(["count", "min", "median", "max"]).T.reset_index(names="column")
            self.table(stats)

    def figure(self, name: str, png: bytes, caption: str) -> None:
        """Add the PNG ``png`` as figure ``name`` with its caption."""
        self.figures[name] = png
        self.blocks.append(_figure_html(name, png, caption))

    def plot(self, name: str, caption: str, draw: Callable[..., bytes], *args: Any) -> None:
        """Add figure ``name``, the PNG ``draw(*args)`` returns, in its place when the page is written.

        Figures drawn so are made side by side in worker processes (one per core): drawing is most
        of a report's time. With the run's ``drawing`` workers a figure starts at once, while the
        rest of the page is assembled. ``draw`` must be a module-level function (it is pickled).
        """
        job = self.drawing.submit(_draw, draw, *args) if self.drawing is not None else (draw, args)
        self.pending.append((len(self.blocks), name, caption, job))
        self.blocks.append("")

    def _draw_pending(self) -> None:
        """Draw (or wait for) the figures ``plot`` deferred and put them in their places."""
        jobs, self.pending = self.pending, []
        later = [job for *_, job in jobs if isinstance(job, tuple)]
        pool = drawing_workers() if len(later) > 1 else None
        if pool is not None:
            try:
                drawn = iter(list(pool.map(_draw, [(draw, *args) for draw, args in later])))
            finally:
                pool.close()
        else:
            drawn = iter([draw(*args) for draw, args in later])
        for where, name, caption, job in jobs:
            png = next(drawn) if isinstance(job, tuple) else job.result()
            self.figures[name] = png
            self.blocks[where] = _figure_html(name, png, caption)

    def pre(self, text: str) -> None:
        """Add preformatted text."""
        self.blocks.append(f"<pre>{html.escape(text)}</pre>")

    def write(self, title: str, files: ResultDir) -> Path:
        """Write ``report.html`` and ``figures/*.png`` through ``files`` (so the manifest lists them)."""
        if self.pending:
            self._draw_pending()
        (self.out_dir / "figures").mkdir(exist_ok=True)
        for name, png in self.figures.items():
            files.produce(f"figures/{name}.png", Path.write_bytes, png)
        page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>" + "\n".join(self.blocks)
                + "</body></html>\n")
        files.produce("report.html", _write_text, page)  # produce writes it atomically
        return files.path("report.html")




def inline(markdown: str) -> str:
    """HTML of one line of markdown: escaped, with **bold**, *emphasis* and `code`."""
    parts = re.split(r"(`[^`]+`)", html.escape(markdown, quote=False))
    out = []
    for part in parts:
        if len(part) > 1 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{part[1:-1]}</code>")
            continue
        part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part)
        out.append(re.sub(r"(?<![\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])", r"<em>\1</em>", part))
    return "".join(out)


def _paragraphs(markdown: str) -> list[tuple[bool, str]]:
    """``(is a list item, text)`` per paragraph or "- " item of ``markdown``."""
    out: list[tuple[bool, str]] = []
    joined = False  # the previous line continues into this one
    for line in markdown.strip().splitlines():
        line = line.strip()
        if not line:
            joined = False
        elif line.startswith("- "):
            out.append((True, line[2:].strip()))
            joined = True
        elif joined:
            out[-1] = (out[-1][0], f"{out[-1][1]} {line}")
        else:
            out.append((False, line))
            joined = True
    return out


def _list_html(items: list[str], attr: str) -> str:
    return f"<ul{attr}>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _cell(value: Any) -> str:
    """One table cell: numbers right-aligned and formatted (``number``), text as markdown, NaN empty."""
    if value is None or (isinstance(value, float) and value != value):
        return "<td></td>"
    if isinstance(value, (bool, np.bool_)):
        return f"<td>{bool(value)}</td>"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f'<td class="n">{number(value)}</td>'
    text = str(value)
    if len(text) <= 40 and NUMERIC.fullmatch(text):  # "0.394 ± 0.002", "1 → 1.5": kept on one line
        return f'<td class="n">{html.escape(text)}</td>'
    return f"<td>{inline(text)}</td>"


#: a text cell that holds only numbers (with ±, intervals, arrows, units of 1)
NUMERIC = re.compile(r"[-+−–]?[\d.]+(e[-+]?\d+)?%?([\s±→/;,\[\]<>×–-]+[-+−–]?[\d.]+(e[-+]?\d+)?%?)*\]?(; –)?")


def number(value: float | np.integer | np.floating) -> str:
    """A number for a table: integers whole, floats to 4 significant digits (from 10^4 up: no decimals)."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if value != value:
        return ""
    if 1e4 <= abs(value) < 1e15:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="")


def _draw(draw: Callable[..., bytes], *args: Any) -> bytes:
    return draw(*args)


def _figure_html(name: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode()
    return (f'<figure><img id="fig-{html.escape(name)}" alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>')


def stored_table(out_dir: Path, name: str) -> pd.DataFrame | None:
    """A CSV table of a finished run, or None when the run did not write it (or wrote it empty)."""
    path = out_dir / name
    return pd.read_csv(path, keep_default_na=True) if path.exists() and path.stat().st_size > 1 else None


def stored_section(out_dir: Path, summary: dict, name: str, key: str) -> tuple[pd.DataFrame, dict] | None:
    """A kind's stored table ``name`` and its settings ``summary["settings"][key]``.

    None when the run wrote either not (then the kind has no section to show).
    """
    table = stored_table(out_dir, name)
    settings = summary.get("settings", {}).get(key)
    return (table, settings) if table is not None and settings else None


def blank(table: pd.DataFrame) -> pd.DataFrame:
    """Empty cells instead of NaN, for display."""
    return table.astype(object).where(table.notna(), "")


def signed_number(value: float) -> str:
    """``+0.123`` (3 significant digits), or a dash for NaN."""
    return "–" if value != value else f"{value:+.3g}"

"""HTML blocks of ``report.html``: headings, paragraphs, tables and embedded figures.

Each kind adds its section to a ``Page`` (``Kind.report``); ``harness.html_report`` assembles
the page from a finished run's files.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from .executors import ProcessExecutor
from .store import ResultDir

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#1d2733;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f5f9e;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em}table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #cfd8e3;padding:.25em .6em;text-align:left}th{background:#eef3f8}
.muted{color:#5b6b7c;font-size:.9em}.verdict{background:#f5f9fd;border-left:4px solid #1f5f9e;padding:.3em 1em}
img{max-width:100%;height:auto;display:block;margin:.5em 0}pre{background:#f4f6f8;padding:1em;overflow-x:auto;
font-size:.85em}figure{margin:0}figcaption{font-size:.85em;color:#5b6b7c}
"""
# Marks every figure once it has loaded (read by the browser test).
SCRIPT = """
window.addEventListener('load', function () {
  for (const img of document.images) {
    img.dataset.width = img.naturalWidth;
    img.dataset.visible = (img.naturalWidth > 0 && img.getBoundingClientRect().width > 0) ? 'yes' : 'no';
  }
  document.body.dataset.ready = 'yes';
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
        self.pending: list[tuple[int, str, str, Callable[..., bytes], tuple]] = []  # see ``plot``

    def heading(self, text: str, level: int = 2) -> None:
        """Add a heading of ``level``."""
        self.blocks.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def text(self, markdownish: str, cls: str = "") -> None:
        """A paragraph (a list item when it starts with "- "); **bold** and *emphasis* rendered."""
        item = markdownish.startswith("- ")
        body = html.escape(markdownish[2:] if item else markdownish)
        body = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", body)
        body = re.sub(r"\*(\S.*?)\*", r"<em>\1</em>", body)
        attr = f' class="{cls}"' if cls else ""
        self.blocks.append(f"<ul{attr}><li>{body}</li></ul>" if item else f"<p{attr}>{body}</p>")

    def table(self, rows: list[tuple] | pd.DataFrame, headers: list[str] | str = "keys") -> None:
        """Add a table of ``rows`` (a data frame, or tuples under ``headers``)."""
        self.blocks.append(tabulate(rows, headers=headers, tablefmt="html", showindex=False,
                                    floatfmt=".4g"))

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
        """Add figure ``name``, the PNG ``draw(*args)`` returns, drawn when the page is written.

        Figures drawn so are made side by side in worker processes (one per core): drawing is most
        of a report's time. ``draw`` must be a module-level function (it is pickled).
        """
        self.pending.append((len(self.blocks), name, caption, draw, args))
        self.blocks.append("")

    def _draw_pending(self) -> None:
        """Draw the figures ``plot`` deferred and put them in their places."""
        jobs, self.pending = self.pending, []
        tasks = [(draw, *args) for *_, draw, args in jobs]
        if self.drawing is not None:
            pngs = list(self.drawing.map(_draw, tasks))
        elif len(jobs) > 1 and (os.cpu_count() or 1) > 1:
            pool = ProcessExecutor(min(len(jobs), DRAWING_WORKERS, os.cpu_count() or 1))
            try:
                pngs = list(pool.map(_draw, tasks))
            finally:
                pool.close()
        else:
            pngs = [draw(*args) for draw, *args in tasks]
        for (where, name, caption, _, _), png in zip(jobs, pngs):
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

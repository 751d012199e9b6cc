"""report.html's page: markdown, tables and collapsible sections render as HTML; figures drawn later (in
worker processes) land where they were asked for, and the workers a run starts early have matplotlib
loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.executors import ProcessExecutor
from harness.page import Page, drawing_workers, inline, number
from harness.store import ResultDir

ROOT = Path(__file__).resolve().parents[1]


def _png(label: str) -> bytes:
    return b"\x89PNG fake " + label.encode()


def test_deferred_figures_are_drawn_in_place_and_equal_direct_ones(tmp_path):
    direct, deferred = Page(tmp_path / "a"), Page(tmp_path / "b")
    for page in (direct, deferred):
        page.heading("top")
    for k in range(3):
        direct.figure(f"f{k}", _png(str(k)), f"caption {k}")
        deferred.plot(f"f{k}", f"caption {k}", _png, str(k))
        for page in (direct, deferred):
            page.text(f"after {k}")
    paths = [page.write("t", ResultDir(page.out_dir)) for page in (direct, deferred)]
    assert paths[0].read_text() == paths[1].read_text()
    assert (tmp_path / "b" / "figures" / "f2.png").read_bytes() == _png("2")
    assert deferred.pending == []


def test_figures_drawn_by_a_run_s_started_workers_equal_direct_ones(tmp_path):
    """A run starts its drawing workers before its models run; the page they draw is the same."""
    direct, drawn = Page(tmp_path / "a"), Page(tmp_path / "b", drawing=drawing_workers())
    try:
        for k in range(3):
            direct.figure(f"f{k}", _png(str(k)), f"caption {k}")
            drawn.plot(f"f{k}", f"caption {k}", _png, str(k))
        paths = [page.write("t", ResultDir(page.out_dir)) for page in (direct, drawn)]
    finally:
        if drawn.drawing is not None:
            drawn.drawing.close()
    assert paths[0].read_text() == paths[1].read_text()


def test_drawing_workers_import_matplotlib_as_they_start():
    """In a fresh interpreter (this one may have matplotlib already, which forked workers inherit)."""
    code = ("import sys\nfrom harness.page import drawing_workers\nw = drawing_workers()\n"
            "print('one core' if w is None else sorted(set(w.map(_loaded, [()] * 4))), "
            "'matplotlib.pyplot' in sys.modules)\nw and w.close()\n")
    code = "import sys\ndef _loaded():\n    return 'matplotlib.pyplot' in sys.modules\n" + code
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    if done.stdout.startswith("one core"):
        pytest.skip("one core: figures are drawn in the run's own process")
    assert done.stdout.split() == ["[True]", "False"]  # loaded in every worker, not in the run's process


def test_prepare_runs_once_in_each_worker_as_it_starts():
    workers = ProcessExecutor(2, prepare=_mark)
    try:
        workers.start()
        assert set(workers.map(_marked, [()] * 6)) == {"prepared"}
    finally:
        workers.close()


def _mark() -> None:
    os.environ["SOILBENCH_TEST_PREPARED"] = "prepared"


def _marked() -> str:
    return os.environ.get("SOILBENCH_TEST_PREPARED", "")


def _body(page: Page) -> str:
    return "\n".join(page.blocks)


def test_markdown_is_rendered_and_items_in_a_row_make_one_list(tmp_path):
    page = Page(tmp_path)
    page.text("**Bold** and *emphasis*, `code`; a*b*c and 2 * 3 * 4 stay as they are")
    for model in ("mimics", "awb"):
        page.text(f"- {model}: holds", "verdict")
    page.text("between")
    page.text("- one\n- two\nstill two\n\nafter", "muted")
    html = _body(page)
    assert "<strong>Bold</strong> and <em>emphasis</em>, <code>code</code>; a*b*c and 2 * 3 * 4" in html
    assert '<ul class="verdict"><li>mimics: holds</li><li>awb: holds</li></ul>' in html
    assert '<ul class="muted"><li>one</li><li>two still two</li></ul>\n<p class="muted">after</p>' in html
    assert "- " not in html


def test_tables_render_markdown_cells_and_format_numbers(tmp_path):
    page = Page(tmp_path)
    page.table([("**Random effects**", "", ""), ("σ²", 0.04651234, 12734.2), ("N", 7, float("nan"))],
               ["Predictors", "Estimates", "stock"])
    page.table(pd.DataFrame({"member": ["c0"], "ST": ["0.394 ± 0.002"]}))
    html = _body(page)
    assert "<td><strong>Random effects</strong></td>" in html and "**" not in html
    assert '<td class="n">0.04651</td><td class="n">12734</td>' in html
    assert '<td class="n">7</td><td></td>' in html
    assert '<td>c0</td><td class="n">0.394 ± 0.002</td>' in html  # numbers with ± stay on one line
    assert html.count('<div class="table-wrap">') == 2  # wide tables scroll inside the page
    assert [number(v) for v in (3, 0.5, 1e-5, 2.5e6)] == ["3", "0.5", "1e-05", "2500000"]
    assert inline("<b> & *x*") == "&lt;b&gt; &amp; <em>x</em>"


def test_details_are_collapsed_sections_around_what_is_added_inside(tmp_path):
    page = Page(tmp_path)
    page.text("- outside")
    with page.details("Rows solved", "3 warnings"):
        page.text("- inside")
    html = _body(page)
    assert html.startswith("<ul><li>outside</li></ul>\n<details><summary>Rows solved <span class=\"muted\">")
    assert html.endswith("<ul><li>inside</li></ul>\n</details>")  # a new list: not merged across the boundary

"""report.html's page: figures drawn later (in worker processes) land where they were asked for, and
the workers a run starts early have matplotlib loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.executors import ProcessExecutor
from harness.page import Page, drawing_workers
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

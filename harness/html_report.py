"""``report.html``: a self-contained report rendered from a run's stored result files.

Everything comes from the output directory: the files its manifest lists (its CSV and JSON
files and the scenario copy), so ``python -m harness report DIR`` re-renders a report without
re-running any model, and a file an earlier run or a user left beside them never shows. The
kind of the run adds its own section (``Kind.report``); figures are embedded as base64 PNG and
also written to ``DIR/figures/``; the manifest lists every file written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import HarnessError
from .executors import ProcessExecutor
from .kinds import kinds
from .lock import DirectoryLock
from .page import Page
from .store import ResultDir, owned_files, read_manifest, writing


def render_report(out_dir: Path, files: ResultDir | None = None, drawing: ProcessExecutor | None = None) -> Path:
    """Write ``report.html`` (and ``figures/*.png``) from the files of a finished run.

    Files are written through ``files`` (a run being written: the report reads the files it
    wrote) or else recorded in the directory's manifest (the report reads the files it lists;
    the directory is locked meanwhile, like a run). ``drawing``: worker processes that draw the
    figures (``page.drawing_workers``), for a run that started them.
    """
    out_dir = Path(out_dir)
    if files is not None:
        return _render(out_dir, files, files.files, drawing)
    if not out_dir.is_dir():
        raise HarnessError(f"{out_dir}: not a soilbench result directory (no such directory); "
                           "pass the --out directory of a run")
    with DirectoryLock(out_dir, ("python", "-m", "harness", "report", str(out_dir))), writing(out_dir):
        manifest = read_manifest(out_dir)
        if manifest is None:  # a run of an older soilbench: every file in the directory is its own
            return _render(out_dir, ResultDir(out_dir), None)
        listed = dict(manifest.pop("files"))
        files = ResultDir(out_dir, owned=owned_files(out_dir))
        files.files = dict(listed)
        path = _render(out_dir, files, listed)
        files.finish(manifest)
        return path


def _render(out_dir: Path, files: ResultDir, listed: Iterable[str] | None,
            drawing: ProcessExecutor | None = None) -> Path:
    """Render the report of the run in ``out_dir`` from the files ``listed`` (None: all), writing through ``files``."""
    with _view(out_dir, listed) as view:
        try:
            summary = json.loads((view / "summary.json").read_text())
        except (OSError, ValueError) as exc:
            raise HarnessError(f"{out_dir}: not a soilbench result directory (summary.json: {exc}); "
                               "pass the --out directory of a run") from exc
        page = Page(out_dir, drawing)
        page.heading(f"soilbench: {summary['scenario']}", 1)
        if summary.get("description"):
            page.text(summary["description"].strip())
        page.text(f"kind {summary['kind']}, seed {summary['seed']}, wall time {summary['wall_time_s']:.1f} s",
                  "muted")
        kind = kinds().get(summary["kind"])
        if kind is not None and kind.report is not None:
            kind.report(page, view, summary)
        _status(page, view, summary)
        _scenario_and_provenance(page, view, summary)
    return page.write(f"soilbench: {summary['scenario']}", files)


@contextmanager
def _view(out_dir: Path, listed: Iterable[str] | None) -> Iterator[Path]:
    """A directory showing only the files ``listed`` of ``out_dir`` (symbolic links); ``out_dir`` itself for None."""
    if listed is None:
        yield out_dir
        return
    with tempfile.TemporaryDirectory(prefix="soilbench-report-") as tmp:
        for name in listed:
            source = out_dir / name
            if os.path.isabs(name) or ".." in Path(name).parts or not source.is_file():
                continue  # pruned from a stored baseline, or not a name inside the directory
            link = Path(tmp) / name
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source.resolve())
        yield Path(tmp)


def _status(page: Page, out_dir: Path, summary: dict) -> None:
    page.heading("Rows solved")
    page.table([(m["member"], m.get("design", ""), m["rows"], m["status"].get("ok", 0),
                   m["rows"] - m["status"].get("ok", 0), f"{m['seconds']:.2f}") for m in summary["members"]],
               ["model x variant", "design", "rows", "ok", "failed", "seconds"])
    for text in summary.get("problems", []) + summary.get("warnings", []):
        page.text(text, "muted")


def _scenario_and_provenance(page: Page, out_dir: Path, summary: dict) -> None:
    scenario = out_dir / "scenario.yaml"
    if scenario.exists():
        page.heading("Scenario")
        page.pre(scenario.read_text())
    provenance = out_dir / "provenance.json"
    if provenance.exists():
        page.heading("Provenance")
        page.pre(provenance.read_text())

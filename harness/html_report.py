"""``report.html``: a self-contained report rendered from a run's stored result files.

Everything comes from the output directory (its manifest, CSV and JSON files and the scenario
copy), so ``python -m harness report DIR`` re-renders a report without re-running any model.
The kind of the run adds its own section (``Kind.report``); figures are embedded as base64 PNG
and also written to ``DIR/figures/``; the manifest lists every file written.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import HarnessError
from .kinds import kinds
from .page import Page
from .store import ResultDir, read_manifest


def render_report(out_dir: Path, files: ResultDir | None = None) -> Path:
    """Write ``report.html`` (and ``figures/*.png``) from the files of a finished run.

    Files are written through ``files`` (a run being written) or else recorded in the directory's
    manifest.
    """
    out_dir = Path(out_dir)
    try:
        summary = json.loads((out_dir / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        raise HarnessError(f"{out_dir}: not a soilbench result directory (summary.json: {exc}); "
                           "pass the --out directory of a run") from exc
    about = None
    if files is None:  # re-rendering: keep the manifest (if the run has one) in step
        manifest = read_manifest(out_dir)
        files = ResultDir(out_dir)
        if manifest is not None:
            files.files = dict(manifest.pop("files"))
            about = manifest
    page = Page(out_dir)
    page.heading(f"soilbench: {summary['scenario']}", 1)
    if summary.get("description"):
        page.text(summary["description"].strip())
    page.text(f"kind {summary['kind']}, seed {summary['seed']}, wall time {summary['wall_time_s']:.1f} s",
              "muted")
    kind = kinds().get(summary["kind"])
    if kind is not None and kind.report is not None:
        kind.report(page, out_dir, summary)
    _status(page, out_dir, summary)
    _scenario_and_provenance(page, out_dir, summary)
    path = page.write(f"soilbench: {summary['scenario']}", files)
    if about is not None:
        files.write_manifest(about)
    return path


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

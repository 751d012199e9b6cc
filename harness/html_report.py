"""``report.html``: a self-contained report rendered from a run's stored result files.

Everything comes from the output directory: the files its manifest lists (its CSV and JSON
files and the scenario copy), so ``python -m harness report DIR`` re-renders a report without
re-running any model, and a file an earlier run or a user left beside them never shows. The
kind of the run adds its own section (``Kind.report``; a Sobol run's starts with the answer in
one sentence and one figure); the rows solved, the scenario and the provenance (each adapter once)
follow in collapsed sections. Figures are embedded as base64 PNG and also written to
``DIR/figures/``; the manifest lists every file written.
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
from .verdict_report import summary_labels


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
        if manifest is None and not (out_dir / "summary.json").exists() and (out_dir / "chunks").is_dir():
            raise HarnessError(f"{out_dir}: its run did not finish (no summary.json; the chunks it solved are in "
                               f"{out_dir / 'chunks'}); finish it with `run SCENARIO --out {out_dir} --resume`, "
                               "which writes the report")
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
        run = f"kind {summary['kind']}, seed {summary['seed']}, wall time {summary['wall_time_s']:.1f} s"
        description = " ".join(str(summary.get("description") or "").split())
        page.text(f"{description} *({run})*" if description else run, "lead")
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
    members = summary["members"]
    labels = summary_labels(summary)
    failed = sum(m["rows"] - m["status"].get("ok", 0) for m in members)
    notes = summary.get("warnings", [])
    note = (f"{sum(m['rows'] for m in members):,} rows, {failed:,} failed"
            + (f"; {len(notes)} warning{'s' if len(notes) != 1 else ''}" if notes else ""))
    for text in summary.get("problems", []):  # what kept a result from being made: shown open
        page.text(f"- {text}", "verdict")
    with page.details("Rows solved", note):
        page.table([(labels.get(m["member"], m["member"]), m.get("design", ""), m["rows"], m["status"].get("ok", 0),
                     m["rows"] - m["status"].get("ok", 0), f"{m['seconds']:.2f}") for m in members],
                   ["model × variant", "design", "rows", "ok", "failed", "seconds"])
        for text in notes:
            page.text(f"- {text}", "muted")


def _scenario_and_provenance(page: Page, out_dir: Path, summary: dict) -> None:
    scenario = out_dir / "scenario.yaml"
    if scenario.exists():
        with page.details("Scenario", "scenario.yaml as run"):
            page.pre(scenario.read_text())
    path = out_dir / "provenance.json"
    if not path.exists():
        return
    try:
        provenance = json.loads(path.read_text())
    except ValueError:
        provenance = None
    with page.details("Provenance", "software, scenario, command, adapters"):
        if not isinstance(provenance, dict):
            page.pre(path.read_text())
            return
        _provenance(page, provenance, summary)


def _provenance(page: Page, provenance: dict, summary: dict) -> None:
    """The run's software and command, then each distinct adapter once (with the members that use it)."""
    scenario = provenance.get("scenario", {})
    overrides = scenario.get("overrides") or []
    for line in (f"**soilbench** {provenance.get('soilbench', '')}; Python {provenance.get('python', '')} on "
                 f"{provenance.get('platform', '')}",
                 "**dependencies:** " + ", ".join(f"{k} {v}" for k, v in provenance.get("dependencies", {}).items()),
                 f"**scenario:** `{scenario.get('path', '')}` (sha256 `{scenario.get('sha256', '')}`)"
                 + (f", overrides: {', '.join(f'`{o}`' for o in overrides)}" if overrides else ""),
                 f"**command:** `{' '.join(map(str, provenance.get('command', [])))}`",
                 f"**created:** {provenance.get('created_utc', '')} (UTC)"):
        page.text(f"- {line}", "muted")
    adapters = provenance.get("adapters", [])
    if not adapters:
        return
    members = summary.get("members", [])
    names = list(dict.fromkeys(m["member"] for m in members))
    labels = summary_labels(summary)
    users: dict[str, list[str]] = {}
    entries: dict[str, dict] = {}
    for i, adapter in enumerate(adapters):  # provenance lists one adapter per member, in the members' order
        key = json.dumps(adapter, sort_keys=True)
        entries.setdefault(key, adapter)
        users.setdefault(key, []).append(labels.get(names[i], names[i]) if len(names) == len(adapters) else "")
    page.table([(a.get("name", ""), ", ".join(filter(None, users[key])) or f"{len(users[key])} members",
                 _options(a.get("options", {}))) for key, a in entries.items()],
               ["adapter", "members", "options"])
    for a in {a.get("name", ""): a for a in entries.values()}.values():
        page.text(f"- **{a.get('name', '')}**: `{a.get('target', '')}` from {a.get('distribution', '')} "
                  f"{a.get('version', '')} ({a.get('source', '')}). Steady state: {a.get('steady_state_method', '–')}. "
                  f"Reference: {a.get('reference', '–')}.", "muted")


def _options(options: dict) -> str:
    """``key=value`` pairs, nested mappings in braces."""
    def text(value: object) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}={text(v)}" for k, v in value.items()) + "}"
        return f"{value:g}" if isinstance(value, float) else str(value)
    return ", ".join(f"{k}={text(v)}" for k, v in options.items()) or "–"

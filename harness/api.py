"""The Python API: validate a scenario, run it and get its results back as pandas tables.

>>> import harness
>>> plan = harness.load("scenarios/beta_sweep.yaml", overrides=["sobol.n=256"])
>>> result = harness.run(plan)  # no ``out``: nothing is left on disk
>>> result.table("verdict")  # the verdict as a DataFrame

The command line is a thin shell over these functions; a run writes the same files either way,
listed with their sha256 in ``manifest.json``.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import HarnessError
from .executors import make_executor
from .html_report import render_report
from .kinds import RunContext, RunOutcome, kinds
from .lock import DirectoryLock
from .page import drawing_workers
from .plan import Plan, plan_from_dict, read_plan
from .registry import provenance as adapter_provenance
from .runner import clear_chunks
from .spec import Scenario
from .store import (
    MANIFEST,
    ResultDir,
    owned_files,
    read_manifest,
    refuse_overwrite,
    soilbench_version,
    writing,
)
from .store import provenance as run_provenance

#: what a run writes besides its kind's files
RUN_FILES = ("report.html", "figures/", "scenario.yaml", "chunks/", "summary.json", "provenance.json")


def load(path: str | Path, overrides: Sequence[str] = (), *, data_root: str | Path | None = None) -> Plan:
    """Read, check and plan a scenario file.

    ``overrides`` are ``KEY.PATH=VALUE`` strings (as ``--set``). The data files the scenario names
    must lie inside ``data_root`` (as ``--data-root``; default: the scenario's folder). Raises
    ``ScenarioError`` listing every problem with its file:line:col.
    """
    return read_plan(path, tuple(overrides), kinds=kinds(), data_root=data_root)


def from_dict(data: Mapping[str, Any], base: str | Path = ".", overrides: Sequence[str] = (), *,
              data_root: str | Path | None = None) -> Plan:
    """Check and plan a scenario given as a mapping (keys as in a scenario file).

    Relative paths in it are resolved against ``base`` and must lie inside ``data_root`` (default:
    ``base``).
    """
    return plan_from_dict(data, base, tuple(overrides), kinds=kinds(), data_root=data_root)


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """The checked scenario of a file (see :func:`load`)."""
    return load(path, overrides).scenario


@dataclass
class Result:
    """A finished run: its tables and texts by file name, its summary and manifest."""

    summary: dict[str, Any]
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    directory: Path | None = None  # None when the run kept nothing on disk
    outcome: RunOutcome | None = None  # warnings, problems and console tables of the run
    chunks: dict[str, int] = field(default_factory=dict)  # {"reused": n, "solved": n} chunks of this run

    @property
    def ok(self) -> bool:
        """Whether the run and its analysis succeeded (the CLI exits 1 otherwise)."""
        return not self.summary["problems"]

    def table(self, name: str) -> pd.DataFrame:
        """A result table by file name, with or without ``.csv`` (e.g. ``"indices"``)."""
        key = name if name.endswith(".csv") else f"{name}.csv"
        if key not in self.tables:
            raise KeyError(f"this {self.summary['kind']} run wrote no {key}; it wrote "
                           f"{', '.join(sorted(self.tables)) or 'no tables'}")
        return self.tables[key]


def run(scenario: Plan | str | Path | Mapping[str, Any], out: str | Path | None = None, *,
        overrides: Sequence[str] = (), jobs: int | None = None, dask: str | None = None, resume: bool = False,
        command: Sequence[str] = (), data_root: str | Path | None = None) -> Result:
    """Run a scenario (a plan, a file or a mapping) and return its results.

    ``out``: the result directory (with ``report.html`` and ``manifest.json``); None runs in a
    temporary directory that is removed afterwards. The run locks ``out`` while it runs
    (``lock.DirectoryBusy`` if another run holds it), removes the files an earlier run there wrote
    that it does not write, and refuses to overwrite a file no manifest there lists
    (``store.OutputConflict``); both are raised before any model runs. ``jobs`` local worker processes, or ``dask``
    a scheduler address ("" for a LocalCluster), override the scenario's ``executor``.
    ``resume`` reuses the chunks an interrupted run left in ``out``. ``command`` is recorded in
    ``provenance.json``. ``data_root``: the folder the scenario's data files must lie in (see
    :func:`load`).
    """
    start = time.perf_counter()
    if isinstance(scenario, Plan) and (overrides or data_root is not None):
        raise HarnessError("a plan is already checked: pass the overrides to harness.load() instead (data_root too)")
    plan = scenario if isinstance(scenario, Plan) else (
        from_dict(scenario, overrides=overrides, data_root=data_root) if isinstance(scenario, Mapping)
        else load(scenario, overrides, data_root=data_root))
    if out is None:
        with tempfile.TemporaryDirectory(prefix="soilbench-") as tmp:
            result = _run(plan, Path(tmp), jobs, dask, False, command, start, report=False)
        result.directory = None
        return result
    return _run(plan, Path(out), jobs, dask, resume, command, start, report=True)


STATUS = logging.getLogger("soilbench")  # progress lines: the command line shows them (see cli)

#: the files every run writes besides its kind's (``failures.csv`` only when rows failed): a run is
#: refused before any model runs when a file of one of these names (or of ``Kind.kept``) is in the
#: output directory and no earlier run there wrote it
OWN_FILES = ("scenario.yaml", "summary.json", "provenance.json", "report.html", "failures.csv", MANIFEST)


def _run(plan: Plan, out_dir: Path, jobs: int | None, dask: str | None, resume: bool, command: Sequence[str],
         start: float, *, report: bool) -> Result:
    """Run ``plan`` into ``out_dir``, locked for the whole run (a second run into it is refused)."""
    with DirectoryLock(out_dir, command), writing(out_dir):
        return _run_locked(plan, out_dir, jobs, dask, resume, command, start, report=report)


def _run_locked(plan: Plan, out_dir: Path, jobs: int | None, dask: str | None, resume: bool,
                command: Sequence[str], start: float, *, report: bool) -> Result:
    """The run itself: outputs checked, models run, tables, summary, report and manifest written.

    Nothing in ``out_dir`` changes before the outputs are known not to overwrite a file the run
    does not own and the executor is up; files an earlier run wrote that this one does not are
    removed at the end (``ResultDir.finish``).
    """
    scenario = plan.scenario
    kind = kinds()[scenario.kind]
    owned = owned_files(out_dir)
    refuse_overwrite(out_dir, (*OWN_FILES, *kind.kept), owned)
    settings = scenario.executor
    use_dask = dask is not None or (settings.type == "dask" and jobs is None)
    STATUS.info("running %d model x variant members (%s)", len(plan.members), scenario.kind)
    drawing = drawing_workers() if report else None  # matplotlib loads in them while the models run
    try:
        executor = make_executor(jobs or settings.jobs, dask or settings.address, use_dask=use_dask)
        try:
            files = ResultDir.begin(out_dir, owned)
            clear_chunks(out_dir / "chunks", keep=resume)
            files.text("scenario.yaml", plan.text)
            ctx = RunContext(plan, files, executor, chunk_rows=settings.chunk_rows)
            outcome = kind.run(ctx)
        finally:
            executor.close()
        ctx.write_failures()
        summary = _summary(plan, outcome, files, time.perf_counter() - start)
        files.json("summary.json", summary)
        adapters = [adapter_provenance(m.model, m.adapter) for m in plan.members]
        files.json("provenance.json", run_provenance(scenario, adapters, list(command)))
        if report:  # from the files just written, exactly as `harness report DIR` would
            STATUS.info("drawing the figures and writing report.html")
            render_report(out_dir, files, drawing)
    finally:
        if drawing is not None:
            drawing.close()
    manifest = files.finish(about(plan))
    return Result(summary, manifest, dict(files.tables), dict(files.texts), out_dir, outcome, dict(ctx.chunks))


def _summary(plan: Plan, outcome: RunOutcome, files: ResultDir, wall: float) -> dict[str, Any]:
    """``summary.json``: what ran, rows per member, problems, warnings, files, wall time [s]."""
    scenario = plan.scenario
    written = [name for name in files.files if name != "scenario.yaml"]
    return {
        "scenario": scenario.name, "kind": scenario.kind, "seed": scenario.seed,
        "description": scenario.description, "outputs": list(scenario.outputs), "settings": outcome.settings,
        "response": response.text if (response := scenario.sections.get("response")) else "",
        "members": outcome.members, "problems": outcome.problems, "warnings": outcome.warnings,
        "files": written + list(RUN_FILES), "wall_time_s": round(wall, 3),
    }


def about(plan: Plan) -> dict[str, Any]:
    """What a manifest says of the run besides its files.

    Enough for ``compare`` to tell whether two runs answer the same question.
    """
    scenario = plan.scenario
    return {
        "soilbench": soilbench_version(),
        "kind": scenario.kind,
        "n": kinds()[scenario.kind].size(scenario),
        "seed": scenario.seed,
        "scenario": {"name": scenario.name, "sha256": scenario.sha256, "overrides": list(scenario.overrides)},
        "members": [m.label for m in plan.members],
    }


def read_result(directory: str | Path) -> Result:
    """The tables and texts of a finished run's directory, as its manifest lists them.

    Files a stored baseline pruned are left out.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise HarnessError(f"{directory}: no manifest.json; pass the --out directory of a run")
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    present = [n for n in manifest["files"] if (directory / n).is_file()]
    tables = {n: pd.read_csv(directory / n) for n in present if n.endswith(".csv")}
    texts = {n: (directory / n).read_text(encoding="utf-8") for n in present if n.endswith(".md")}
    return Result(summary, manifest, tables, texts, directory)

"""A suite of scenario runs (the nightly comparison and the stored baseline use the same one).

A suite file lists runs: a scenario path (relative to the suite file), ``--set`` overrides, e.g.
a CI-sized N, and the ``data_root`` its data files must lie in (relative to the suite file, as
``--data-root``; default: the scenario's folder). ``run_suite`` runs each through the Python API into ``OUT/<scenario name>/``;
with ``prune`` it keeps only the small tables ``compare`` reads (the form stored in
``baselines/``), as each run's kind names them.
"""

from __future__ import annotations

import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from . import api
from .errors import HarnessError
from .kinds import kinds
from .runner import clear_chunks
from .store import MANIFEST

#: what a stored baseline keeps of every run, besides the files its kind keeps (``Kind.kept``)
KEEP = ("summary.json", MANIFEST)


def read_suite(path: Path) -> list[dict[str, Any]]:
    """The runs of a suite file: ``[{scenario: Path, set: [KEY=VALUE, ...], data_root: Path | None}, ...]``."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise HarnessError(f"{path}: cannot read the suite file: {exc}") from exc
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list) or not all(isinstance(r, dict) and "scenario" in r for r in runs):
        raise HarnessError(f"{path}: expected `runs:` as a list of `{{scenario: PATH, set: [KEY=VALUE], data_root: DIR}}`")
    return [{"scenario": Path(path).parent / r["scenario"], "set": [str(s) for s in r.get("set", [])],
             "data_root": Path(path).parent / str(r["data_root"]) if r.get("data_root") else None} for r in runs]


def run_suite(path: Path, out_dir: Path, prune: bool = False) -> list[tuple[str, int]]:
    """Run every scenario of the suite into ``OUT/<scenario file stem>/``.

    Returns (name, exit code) per run: 0 done, 1 the run or its analysis failed, 2 bad input (the
    error is printed).
    """
    codes = []
    for item in read_suite(path):
        name = Path(item["scenario"]).stem
        target = Path(out_dir) / name
        try:
            result = api.run(item["scenario"], target, overrides=item["set"], data_root=item["data_root"],
                             command=["python", "-m", "harness", "suite", str(path)])
        except HarnessError as exc:
            print(f"{item['scenario']}: {exc}", file=sys.stderr)
            codes.append((name, exc.exit_code))
            continue
        for text in result.summary["problems"]:
            print(f"{name}: error: {text}", file=sys.stderr)
        codes.append((name, 0 if result.ok else 1))
        if prune:
            _prune(target, result.manifest)
    return codes


def _prune(directory: Path, manifest: dict) -> None:
    """Keep only the small tables ``compare`` reads (and the run's summary and manifest).

    Only the run's own files go (those its manifest lists, and its chunks): a user's files stay.
    """
    keep = set(KEEP) | set(kinds()[manifest["kind"]].kept)
    for name in manifest["files"]:
        if name not in keep:
            (directory / name).unlink(missing_ok=True)
    clear_chunks(directory / "chunks")
    for folder in ("figures", "chunks"):
        with suppress(OSError):  # not empty: a file of the user's
            (directory / folder).rmdir()

"""A suite of scenario runs (the nightly comparison and the stored baseline use the same one).

A suite file lists runs: a scenario path (relative to the suite file) and ``--set`` overrides,
e.g. a CI-sized N. ``run_suite`` runs each into ``OUT/<scenario name>/``; with ``prune`` it keeps
only the small tables ``compare`` reads (the form stored in ``baselines/``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from .errors import HarnessError

#: what a stored baseline keeps of each run: small tables, no samples, figures or netCDF
KEEP = ("summary.json", "indices.csv", "verdict.csv", "verdict.md", "votes.csv", "crossover.csv", "beta_effects.csv",
        "convergence.csv", "elasticities.csv", "published.csv", "points.csv", "sweep.csv", "sweep_shares.csv",
        "regression.csv", "grid_summary.csv", "sobol_ranking.csv")


def read_suite(path: Path) -> list[dict[str, Any]]:
    """The runs of a suite file: ``[{scenario: Path, set: [KEY=VALUE, ...]}, ...]``."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise HarnessError(f"{path}: cannot read the suite file: {exc}") from exc
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list) or not all(isinstance(r, dict) and "scenario" in r for r in runs):
        raise HarnessError(f"{path}: expected `runs:` as a list of `{{scenario: PATH, set: [KEY=VALUE]}}`")
    return [{"scenario": Path(path).parent / r["scenario"], "set": [str(s) for s in r.get("set", [])]} for r in runs]


def run_suite(path: Path, out_dir: Path, run, prune: bool = False) -> list[tuple[str, int]]:
    """Run every scenario of the suite with ``run(argv) -> exit code``; returns (name, code)."""
    codes = []
    for item in read_suite(path):
        name = Path(item["scenario"]).stem
        target = Path(out_dir) / name
        argv = ["run", str(item["scenario"]), "--out", str(target)]
        for override in item["set"]:
            argv += ["--set", override]
        codes.append((name, run(argv)))
        if prune:
            for child in target.iterdir():
                if child.name not in KEEP:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
    return codes

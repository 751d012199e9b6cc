"""Kind ``points``: steady states at listed cases, one row per case x model x variant."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..store import write_csv
from ..vocabulary import PARAM_PREFIX
from .common import RunContext, RunOutcome, member_columns, variant_columns


def run_points(ctx: RunContext) -> RunOutcome:
    """Write ``points.csv``; failed rows stay in the table with their status and message."""
    outcome = RunOutcome()
    cases = pd.DataFrame(list(ctx.scenario.cases))
    if "case_id" not in cases:
        cases.insert(0, "case_id", [str(i + 1) for i in range(len(cases))])
    inputs = [c for c in cases.columns if c != "case_id"]
    columns = variant_columns(ctx.members)
    frames = []
    for member in ctx.members:
        drivers = {c: _filled(cases[c], member.drivers[c]) for c in inputs if c in member.drivers}
        defaults = dict(zip(member.adapter.parameter_names, member.theta(1)[0]))
        params = {
            name: _filled(cases[c], defaults[name])
            for c in inputs
            if c.startswith(PARAM_PREFIX) and (name := c[len(PARAM_PREFIX):]) in defaults
        }
        start = time.perf_counter()
        result = ctx.evaluate(member, len(cases), drivers, params, what="points")
        entry = outcome.record(member, result, time.perf_counter() - start)
        failed = entry["rows"] - entry["status"]["ok"]
        if failed:
            outcome.warnings.append(f"{member.label}: {failed} of {entry['rows']} cases failed (see points.csv)")
        frame = pd.DataFrame({**member_columns(member, columns), "case_id": cases["case_id"]})
        frame = pd.concat([frame, cases[inputs].reset_index(drop=True), pd.DataFrame(result.columns())], axis=1)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    ordered = [c for c in table.columns if c not in ("status", "message")] + ["status", "message"]
    write_csv(ctx.out_dir / "points.csv", table[ordered])
    outcome.files.append("points.csv")
    return outcome


def _filled(column: pd.Series, fallback: float) -> np.ndarray:
    """Case values with empty cells replaced by the member's own value."""
    return column.fillna(fallback).to_numpy(float)

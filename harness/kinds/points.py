"""Kind ``points``: steady states at listed cases, one row per case x model x variant."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import checks
from ..page import Page, stored_table
from ..plan import Plan
from ..spec import Cases, Section
from ..spec.schema import Context, build_cases
from ..verdict_report import summary_labels
from ..vocabulary import OUTPUTS, PARAM_PREFIX
from .base import Compared, Kind
from .common import RunContext, RunOutcome, member_columns, variant_columns


def run_points(ctx: RunContext) -> RunOutcome:
    """Write ``points.csv``; failed rows stay in the table with their status and message."""
    outcome = RunOutcome()
    cases = pd.DataFrame(list(ctx.plan.inputs["cases"]))
    if "case_id" not in cases:
        cases.insert(0, "case_id", [str(i + 1) for i in range(len(cases))])
    columns = variant_columns(ctx.members)
    inputs = [c for c in cases.columns if c != "case_id" and c not in columns]
    frames = []
    for member in ctx.members:
        mine = _matching(cases, member, columns)
        if mine.empty:
            continue
        frames.append(_solve_cases(ctx, member, mine, inputs, columns, outcome))
    table = pd.concat(frames, ignore_index=True)
    ordered = [c for c in table.columns if c not in ("status", "message")] + ["status", "message"]
    ctx.files.csv("points.csv", table[ordered])
    outcome.tables.append(values_text(table, list(ctx.scenario.outputs)))
    return outcome


#: rows of points.csv the console shows (the first ones; every row is in the file)
SHOWN_ROWS = 20


def values_text(table: pd.DataFrame, outputs: list[str]) -> str:
    """The console's view of points.csv: case, member, the scenario's outputs and status, first rows only."""
    from tabulate import tabulate

    shown = table.head(SHOWN_ROWS)
    columns = ["case_id", "member", *[o for o in outputs if o in table], "status"]
    rows = [[r[c] for c in columns] for _, r in shown.iterrows()]
    headers = [f"{c} [{OUTPUTS[c][0]}]" if c in OUTPUTS else c for c in columns]
    more = f"\n... {len(table) - SHOWN_ROWS:,} more rows in points.csv" if len(table) > SHOWN_ROWS else ""
    return "steady states:\n" + tabulate(rows, headers=headers, tablefmt="simple", floatfmt=".5g",
                                         missingval="") + more


def _matching(cases: pd.DataFrame, member, columns: list[str]) -> pd.DataFrame:
    """The cases meant for this member: a variant-key column must be empty or equal its value."""
    keep = np.ones(len(cases), dtype=bool)
    for key in columns:
        if key in cases and key in member.variant:
            keep &= cases[key].isna().to_numpy() | (cases[key] == member.variant[key]).to_numpy()
    return cases[keep].reset_index(drop=True)


def _solve_cases(ctx: RunContext, member, cases: pd.DataFrame, inputs: list[str], columns: list[str],
                 outcome: RunOutcome) -> pd.DataFrame:
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
    frame = pd.DataFrame({**member_columns(member, columns), "member": member.label, "case_id": cases["case_id"]})
    return pd.concat([frame, cases[inputs], pd.DataFrame(result.columns())], axis=1)


def _filled(column: pd.Series, fallback: float) -> np.ndarray:
    """Case values with empty cells replaced by the member's own value."""
    return column.fillna(fallback).to_numpy(float)


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The ``report.html`` section of a points run (nothing if its files are missing)."""
    table = stored_table(out_dir, "points.csv")
    if table is not None:
        page.heading("Steady states at the listed cases")
        labels = summary_labels(summary)
        page.long_table(table.assign(member=table["member"].map(lambda m: labels.get(m, m))), "points.csv")


def _check(plan: Plan, ctx: Context) -> None:
    plan.inputs["cases"] = checks.read_cases(plan.scenario, plan.members, ctx)
    checks.check_cases(plan.inputs["cases"], plan.members, ctx)


KIND = Kind(
    name="points",
    description="steady states at listed cases, one row per case x model x variant",
    sections={"cases": Section(build_cases, Cases(), ("a points scenario needs `cases` (a CSV path or a list)",
                                                      "add `cases: cases.csv`"))},
    run=run_points,
    report=report_section,
    check=_check,
    compared=(Compared("points.csv", ("member", "case_id")),),
)

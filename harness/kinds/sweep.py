"""Kind ``sweep``: steady states over one-at-a-time sweeps or full grids of drivers.

With ``zscore: true`` each output is also z-scored per panel (one model x variant x output,
and one swept driver in ``oat`` mode), as in He et al. (2024) Fig. 1: z = (y - mean) / sd over
the panel's converged rows (population sd).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..designs import sweep_design
from ..netcdf import write_table
from ..store import write_csv
from .common import RunContext, RunOutcome, member_columns, represents, variant_columns


def run_sweep(ctx: RunContext) -> RunOutcome:
    """Write ``sweep.csv`` and ``sweep.nc``; failed rows stay in both with status and message."""
    s = ctx.scenario.sweep
    outcome = RunOutcome(settings={"sweep": {"axes": [a.name for a in s.axes], "mode": s.mode, "zscore": s.zscore}})
    columns = variant_columns(ctx.members)
    frames = []
    for member in ctx.members:
        design, swept = sweep_design(member, s.axes, s.mode)
        if not swept:
            outcome.warnings.append(f"{member.label}: represents none of the swept drivers; skipped")
            continue
        start = time.perf_counter()
        result = ctx.evaluate(member, len(swept), design, what="sweep", keep=list(ctx.scenario.outputs))
        entry = outcome.record(member, result, time.perf_counter() - start)
        if entry["rows"] != entry["status"]["ok"]:
            outcome.warnings.append(f"{member.label}: {entry['rows'] - entry['status']['ok']} of "
                                    f"{entry['rows']} sweep points failed (see sweep.csv)")
        frame = pd.DataFrame({**member_columns(member, columns), "member": member.label, "swept": swept})
        for axis in s.axes:
            frame[axis.name] = design.get(axis.name, np.nan)
        for output in ctx.scenario.outputs:
            frame[output] = np.where(result.ok, result.get(output), np.nan) if represents(member, output) else np.nan
        frame["status"] = result.columns()["status"]
        frame["message"] = result.message
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    if s.zscore:
        for output in ctx.scenario.outputs:
            table[f"{output}_z"] = table.groupby(["member", "swept"], sort=False)[output].transform(_zscore)
    write_csv(ctx.out_dir / "sweep.csv", table)
    write_table(ctx.out_dir / "sweep.nc", table, ctx.scenario, "soilbench sweep")
    outcome.files += ["sweep.csv", "sweep.nc"]
    return outcome


def _zscore(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=0)
    return (values - values.mean()) / sd if sd > 0 else values * np.nan

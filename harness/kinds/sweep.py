"""Kind ``sweep``: steady states over one-at-a-time sweeps or full grids of drivers.

With ``zscore: true`` each output is also z-scored per panel (one model x variant x output,
and one swept driver in ``oat`` mode), as in He et al. (2024) Fig. 1: z = (y - mean) / sd over
the panel's converged rows (population sd).

In ``grid`` mode with two axes, ``sweep_shares.csv`` splits each panel's variance of the output
(raw and ln) into the two main effects and their interaction, exactly, over the full factorial.
z-scoring is an affine map, so the raw shares are also those of the z-scores.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plots
from ..designs import sweep_design
from ..members import Member
from ..netcdf import write_table
from ..page import Page, blank, stored_section, stored_table
from ..spec import Section, SweepSettings
from ..spec.schema import build_sweep
from ..verdict_report import summary_labels
from .base import RESPONSE, Compared, Kind
from .common import RunContext, RunOutcome, member_columns, on_scale, represents, variant_columns
from .local import COMPARED_PUBLISHED, PUBLISHED, check_varied


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
    ctx.files.csv("sweep.csv", table)
    ctx.files.produce("sweep.nc", write_table, table, ctx.scenario, "soilbench sweep")
    if s.mode == "grid" and len(s.axes) == 2:
        shares = _shares_table(ctx, table, columns)
        ctx.files.csv("sweep_shares.csv", shares)
        outcome.tables.append(_shares_markdown(shares))
    return outcome


def grid_shares(y: np.ndarray) -> tuple[float, float, float]:
    """Two-way decomposition of the variance of a full factorial grid ``y[i, j]`` [any units].

    i: levels of the first axis, j: of the second.

    Returns the shares [1] of the first axis' main effect (population variance of the row means
    over the total population variance), of the second axis' main effect (of the column means)
    and of their interaction (the rest); they sum to 1. All NaN if any point is not finite or the
    grid is constant.
    """
    total = np.var(y)
    if not total > 0:  # NaN where a point is not finite; 0 on a constant grid
        return np.nan, np.nan, np.nan
    first, second = np.var(y.mean(axis=1)) / total, np.var(y.mean(axis=0)) / total
    return first, second, 1.0 - first - second


def _shares_table(ctx: RunContext, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``sweep_shares.csv``: one record per swept member x output x scale (raw, then ln)."""
    swept = set(table["member"])
    return pd.DataFrame([_panel_shares(table, member, output, scale, ctx.scenario.sweep.axes, columns)
                         for member in ctx.members if member.label in swept
                         for output in ctx.scenario.outputs for scale in ("raw", "ln")])


def _panel_shares(table: pd.DataFrame, member: Member, output: str, scale: str, axes: tuple,
                  columns: list[str]) -> dict:
    """One ``sweep_shares.csv`` record: the grid shares [1] of one member x output on ``scale``.

    ``scale`` is ``raw`` or ``ln``; ``ratio`` = share_axis_1 / share_axis_2 [1]; NaN with a note
    where a point failed, the output is missing or not positive (ln), or an axis is not swept.
    """
    first, second = (a.name for a in axes)
    panel = table[table["member"] == member.label]
    failed = int((panel["status"] != "ok").sum())
    record = {**member_columns(member, columns), "member": member.label, "output": output, "scale": scale,
              "axis_1": first, "axis_2": second, "units": "1", "points": len(panel), "failed": failed}
    y = on_scale(panel[output].to_numpy(), "log" if scale == "ln" else "raw")
    note = ("output not represented" if not represents(member, output)
            else f"{first} or {second} not swept" if panel[[first, second]].isna().to_numpy().any()
            else f"{failed} of {len(panel)} points failed" if failed
            else "output not positive" if not np.isfinite(y).all() else "")
    shares = (np.nan,) * 3 if note else grid_shares(
        panel.assign(y=y).pivot(index=first, columns=second, values="y").to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.divide(shares[0], shares[1])
    return {**record, "share_axis_1": shares[0], "share_axis_2": shares[1], "share_interaction": shares[2],
            "ratio": ratio, "note": note}


def _shares_markdown(shares: pd.DataFrame) -> str:
    """The printed table: shares [1] per member x output x scale, headed by the axis names."""
    first, second = shares["axis_1"].iloc[0], shares["axis_2"].iloc[0]
    shown = shares[["member", "output", "scale", "share_axis_1", "share_axis_2", "share_interaction", "ratio", "note"]]
    return shown.rename(columns={"share_axis_1": f"share {first}", "share_axis_2": f"share {second}",
                                 "share_interaction": "interaction", "ratio": f"{first}/{second}"}
                        ).to_markdown(index=False, floatfmt=".4g")


def _zscore(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=0)
    return (values - values.mean()) / sd if sd > 0 else values * np.nan


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The ``report.html`` section of a sweep run (nothing if its files are missing)."""
    found = stored_section(out_dir, summary, "sweep.csv", "sweep")
    if found is None:
        return
    table, settings = found
    page.heading("Sweep")
    axes = settings["axes"]
    labels = summary_labels(summary)
    if settings["mode"] == "grid" and len(axes) == 2:
        for output in summary.get("outputs", []):
            value = f"{output}_z" if f"{output}_z" in table else output
            if table[value].notna().any():
                page.plot(f"heatmap_{output}".replace(".", "_"), f"{value} per model x variant over {axes[0]} x {axes[1]}",
                          plots.heatmaps, table, axes[0], axes[1], value, f"{value} over {axes[0]} x {axes[1]}", labels)
    shares = stored_table(out_dir, "sweep_shares.csv")
    if shares is not None:
        page.heading("Variance shares over the grid", 3)
        page.text(f"Each panel's variance over the full {axes[0]} x {axes[1]} grid, split exactly into the main "
                  f"effect of {axes[0]} (variance of its row means), that of {axes[1]} and their interaction (the "
                  f"rest), in shares of 1 (raw shares are also those of the z-scores); a share can move only "
                  f"because another does, so the ratio {axes[0]}/{axes[1]} is what says whether {axes[0]} gains "
                  f"weight relative to {axes[1]}.")
        shown = shares.assign(member=shares["member"].map(lambda m: labels.get(m, m)))
        page.table(blank(shown[["member", "output", "scale", "share_axis_1", "share_axis_2", "share_interaction",
                                "ratio", "note"]]),
                   ["model x variant", "output", "scale", f"share {axes[0]}", f"share {axes[1]}", "interaction",
                      f"{axes[0]}/{axes[1]}", "note"])
    page.text(f"{len(table)} points; every point with its status is in sweep.csv and sweep.nc.", "muted")


KIND = Kind(
    name="sweep",
    description="outputs along one-at-a-time sweeps or a factorial grid of drivers",
    sections={"sweep": Section(build_sweep, SweepSettings(), (
        "a sweep scenario needs a `sweep` section", "add `sweep: {drivers: {c_input: {relative: [0.5, 1.5], num: 11}}}`")),
        "published": PUBLISHED, "response": RESPONSE},
    run=run_sweep,
    report=report_section,
    check=check_varied,
    varied=lambda s: tuple((a.name, a.path) for a in s.sweep.axes),
    compared=(Compared("sweep.csv", ("member", "swept")), Compared("sweep_shares.csv", ("member", "output", "scale")),
              COMPARED_PUBLISHED),
)

"""The range-aware verdict (at which ratio of relative ranges does the dominant driver flip?).

Sobol indices depend on how widely each driver is sampled. For every cell of a grid of relative
half-widths (c_input ±h_in against cue_scale ±h_cue, the other drivers over their declared box)
the total indices of c_input and cue_scale are estimated on a prefix of each replicate of the
main design (common random numbers across cells), from the rows A, AB_c_input, AB_cue_scale and
B of each block: enough for both total indices (Jansen). Along each row of fixed h_cue, the
paired difference ST(c_input) - ST(cue_scale) is interpolated linearly in ln(h_in / h_cue); where
it crosses zero lies the crossover ratio k: "input dominates once its relative half-width exceeds
k times that of CUE". The interval on k is where the difference's confidence band crosses zero.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from ..members import Member
from ..replicated import replicate_estimates, t_interval
from ..sampling import Design
from .common import RunContext, RunOutcome, kept_outputs, member_columns, on_scale, represents, screen

INPUT, CUE = "c_input", "cue_scale"


def crossover_rows(ctx: RunContext, member: Member, design: Design, columns: list[str],
                   outcome: RunOutcome) -> list[dict[str, Any]]:
    """One row per grid cell x output.

    Both total indices, their paired difference, the share of the cell's design dropped, and whether
    the cell is estimable (the dropped-blocks gate). The rows solved are recorded in ``outcome``
    (design ``crossover``).
    """
    s = ctx.scenario.sobol
    names = [d.name for d in design.drivers]
    moving = [n for n in (INPUT, CUE) if n in names and n in member.drivers and n not in member.variant]
    if len(moving) < 2 or any(d.mode == "grid" for d in design.drivers if d.name in (INPUT, CUE)):
        return []  # a driver drawn from a grid's land cells has no relative half-width to vary
    unit = _cell_unit(design, s.crossover.n, names.index(INPUT), names.index(CUE))
    cells = [(h_in, h_cue) for h_cue in s.crossover.cue_scale for h_in in s.crossover.c_input]
    values = {d.name: np.tile(member.from_unit(d, unit[:, j]), len(cells)) for j, d in enumerate(design.drivers)
              if d.name in member.drivers and d.name not in member.variant and d.name not in (INPUT, CUE)}
    for name, j in ((INPUT, names.index(INPUT)), (CUE, names.index(CUE))):  # over each cell's half-widths
        base, u = member.drivers[name], np.tile(unit[:, j], len(cells))
        h = np.repeat([c[0] if name == INPUT else c[1] for c in cells], unit.shape[0])
        values[name] = base * (1.0 - h + 2.0 * h * u)
    start = time.perf_counter()
    result = ctx.evaluate(member, unit.shape[0] * len(cells), values, what="(crossover)",
                          keep=kept_outputs(ctx.scenario, member))
    outcome.record(member, result, time.perf_counter() - start, "crossover")
    usable, _ = screen(ctx.scenario, member, result)
    head = {**member_columns(member, columns), "member": member.label}
    rows = []
    for output in [o for o in ctx.scenario.outputs if represents(member, o)]:
        y = on_scale(result.get(output), s.scale).reshape(len(cells), -1)
        ok = usable.reshape(len(cells), -1)
        for c, (h_in, h_cue) in enumerate(cells):
            rows.append({**head, "output": output, "h_input": h_in, "h_cue": h_cue, "ratio": h_in / h_cue,
                         **_cell(y[c], ok[c], unit, design.replicates, s, ctx.scenario.on_failure)})
    return rows


def _cell_unit(design: Design, n: int, j_input: int, j_cue: int) -> np.ndarray:
    """Rows A, AB_c_input, AB_cue_scale, B of the first ``n / R`` blocks of each replicate."""
    b, per = design.block_size, design.blocks // design.replicates
    blocks = (np.arange(design.replicates)[:, None] * per + np.arange(n // design.replicates)).ravel()
    rows = blocks[:, None] * b + np.array([0, 1 + j_input, 1 + j_cue, b - 1])
    return design.unit[rows.ravel()]


def _cell(y: np.ndarray, ok: np.ndarray, unit: np.ndarray, replicates: int, s, on_failure: str) -> dict[str, Any]:
    """Both total indices of one cell, unless its failed rows make it not estimable.

    Not estimable means any failed row with ``on_failure: error``, more rows than the dropped-blocks
    gate allows otherwise.
    """
    keep = ok.reshape(-1, 4).all(axis=1)
    total, dropped = keep.size, int((~keep).sum())
    allowed = 0 if on_failure == "error" else s.gates.dropped * total
    estimable = dropped <= allowed and (keep.reshape(replicates, -1).sum(axis=1) >= 2).all()
    out: dict[str, Any] = {"blocks_dropped": dropped, "blocks_total": total, "estimable": bool(estimable)}
    if not estimable:
        return out | dict.fromkeys(("ST_input", "ST_input_conf", "ST_cue", "ST_cue_conf", "difference",
                                    "difference_conf"), np.nan) | {"dominant": "not estimable"}
    est = replicate_estimates(y, ok, unit, 4, 2, replicates, slopes=False)
    (st_in, st_cue), (c_in, c_cue) = t_interval(est.ST, s.confidence)
    diff, diff_c = t_interval(est.ST[:, 0] - est.ST[:, 1], s.confidence)
    dominant = "inconclusive" if not abs(diff) > diff_c else (INPUT if diff > 0 else CUE)
    return out | {"ST_input": st_in, "ST_input_conf": c_in, "ST_cue": st_cue, "ST_cue_conf": c_cue,
                  "difference": float(diff), "difference_conf": float(diff_c), "dominant": dominant}


def crossover_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Per member x output x h_cue: the crossover ratio k with its interval, and what happens."""
    rows = []
    for (member, output, h_cue), row in cells.groupby(["member", "output", "h_cue"], sort=False):
        row = row.sort_values("ratio")
        rows.append({"member": member, "output": output, "h_cue": h_cue, **crossover(row)})
    return pd.DataFrame(rows)


def crossover(row: pd.DataFrame) -> dict[str, Any]:
    """The ratio k at which ST(c_input) - ST(cue_scale) turns positive along one row of cells.

    ``state``: ``crosses`` (k inside the grid; ``crosses more than once``: the first upward
    crossing), ``input throughout`` (k below the smallest ratio), ``CUE throughout`` (k above
    the largest), ``non-monotone`` (input first, then CUE), ``not estimable`` (fewer than two
    estimable cells). ``k_low``/``k_high``: where the upper/lower confidence bound of the
    difference crosses zero (NaN where it does not inside the grid).
    """
    ok = row[row["estimable"]]
    lo_ratio, hi_ratio = float(row["ratio"].min()), float(row["ratio"].max())
    base = {"k": np.nan, "k_low": np.nan, "k_high": np.nan, "ratio_min": lo_ratio, "ratio_max": hi_ratio,
            "cells": len(row), "cells_estimable": len(ok)}
    if len(ok) < 2:
        return base | {"state": "not estimable", "crossings": 0}
    x = np.log(ok["ratio"].to_numpy())
    d, half = ok["difference"].to_numpy(), ok["difference_conf"].to_numpy()
    k, crossings = _first_crossing(x, d)
    if np.isfinite(k):
        state = "crosses" if crossings == 1 else "crosses more than once"
    else:
        state = "non-monotone" if crossings else ("input throughout" if d[0] > 0 else "CUE throughout")
    return base | {"k": k, "k_low": _first_crossing(x, d + half)[0], "k_high": _first_crossing(x, d - half)[0],
                   "state": state, "crossings": crossings}


def _first_crossing(x: np.ndarray, d: np.ndarray) -> tuple[float, int]:
    """``exp`` of the first x where ``d`` changes sign from <= 0 to > 0, and how many sign changes there are.

    The crossing is found by linear interpolation.
    """
    sign = d > 0
    changes = np.flatnonzero(sign[1:] != sign[:-1])
    ups = [i for i in changes if not sign[i]]
    if not ups:
        return np.nan, int(changes.size)
    i = ups[0]
    t = -d[i] / (d[i + 1] - d[i]) if d[i + 1] != d[i] else 0.0
    return float(np.exp(x[i] + t * (x[i + 1] - x[i]))), int(changes.size)

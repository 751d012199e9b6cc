"""Both sides of the debate from one Sobol run.

* Component control (PRODA-style, Tao et al. 2023): fix one driver group at the member's
  baseline, re-solve the base sample, and report the share of output variance that disappears,
  ``1 - Var(fixed) / Var(free)``.
* Input x residence time (He et al. 2024): ``soc = c_input x tau`` at steady state, so
  ``Var(ln soc)`` splits exactly into input, residence time and their covariance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..adapter import SteadyStateResult
from ..analysis import input_residence_decomposition, variance_reduction
from ..members import Member
from ..sampling import Design, member_values
from .common import RunContext, RunOutcome, member_columns, represents, variant_columns


def factor_groups(design: Design) -> dict[str, list[str]]:
    """Declared groups (drivers without one stand alone), or every driver alone."""
    groups: dict[str, list[str]] = {}
    for d in design.drivers:
        groups.setdefault(d.group or d.name, []).append(d.name)
    return groups


def attribute(ctx: RunContext, member: Member, design: Design, result: SteadyStateResult,
              outcome: RunOutcome) -> list[dict[str, Any]]:
    """Component-control and input x residence-time rows for one member (long format)."""
    base_rows = np.arange(0, design.unit.shape[0], design.block_size)  # the A matrix of the design
    values = {k: v[base_rows] for k, v in member_values(member, design).items()}
    free = result.take(base_rows)
    head = {**member_columns(member, variant_columns(ctx.members)), "member": member.label}
    rows = []
    outputs = [o for o in ctx.scenario.outputs if represents(member, o)]
    for group, drivers in factor_groups(design).items():
        moving = [d for d in drivers if d in values]
        if not moving:
            continue
        fixed_values = {k: v for k, v in values.items() if k not in moving}
        fixed = ctx.evaluate(member, base_rows.size, fixed_values, what=f"(fix {group})",
                             keep=list(ctx.scenario.outputs))
        ok = free.ok & fixed.ok
        if not ok.all():
            outcome.warnings.append(f"{member.label}: component control of {group}: {int((~ok).sum())} of "
                                    f"{ok.size} rows failed and were left out of both variances")
        for output in outputs:
            rows.append({**head, "output": output, "analysis": "component_control", "factor": group,
                         "value": variance_reduction(free.get(output)[ok], fixed.get(output)[ok]),
                         "units": "1", "n": int(ok.sum())})
    if "soc" in outputs:
        c_input = values.get("c_input", np.full(base_rows.size, member.drivers["c_input"]))
        ok = free.ok
        shares = input_residence_decomposition(free.get("soc")[ok], c_input[ok])
        units = {"mean_residence_time": "yr"}
        rows += [{**head, "output": "soc", "analysis": "input_x_residence_time", "factor": key, "value": value,
                  "units": units.get(key, "1"), "n": int(ok.sum())} for key, value in shares.items()]
    return rows


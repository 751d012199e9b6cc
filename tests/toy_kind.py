"""A toy kind in one module: each member's steady state at its baseline, repeated ``toy.repeat`` times.

It is what a third-party kind looks like: settings (one section), a check, a run, a report
section and the tables ``compare`` reads; one ``register(TOY)`` (or an entry point in the group
``soilbench.kinds``) makes it a kind of every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.kinds import Compared, Kind, RunContext, RunOutcome
from harness.plan import Plan
from harness.spec import Section
from harness.spec.schema import Context, check_keys, read_int, read_mapping


@dataclass(frozen=True)
class ToySettings:
    """How many identical rows to solve per member."""

    repeat: int = 1


def build_toy(value: Any, ctx: Context) -> ToySettings:
    data = read_mapping(value, "toy", ctx)
    if data is None:
        return ToySettings()
    check_keys(data, ("repeat",), "toy", ctx)
    return ToySettings(read_int(data.get("repeat", 1), "toy.repeat", ctx, 1, "e.g. `repeat: 3`") or 1)


def check_toy(plan: Plan, ctx: Context) -> None:
    if plan.scenario.toy.repeat > 100:
        ctx.add("toy.repeat", f"at most 100 rows; got {plan.scenario.toy.repeat}", "use a smaller repeat")


def run_toy(ctx: RunContext) -> RunOutcome:
    outcome = RunOutcome(settings={"toy": {"repeat": ctx.scenario.toy.repeat}})
    rows = []
    for member in ctx.members:
        result = ctx.evaluate(member, ctx.scenario.toy.repeat, what="toy")
        outcome.record(member, result, 0.0, "toy")
        rows += [{"member": member.label, "row": i, "soc": soc} for i, soc in enumerate(result.get("soc"))]
    ctx.files.csv("toy.csv", pd.DataFrame(rows))
    return outcome


def report_toy(page: Any, out_dir: Path, summary: dict) -> None:
    page.heading("Toy: SOC at the baseline")
    page.table(pd.read_csv(out_dir / "toy.csv"))


TOY = Kind(name="toy", description="each member's steady state at its baseline, repeated",
           sections={"toy": Section(build_toy, ToySettings(), ("a toy scenario needs a `toy` section",
                                                               "add `toy: {repeat: 2}`"))},
           run=run_toy, check=check_toy, report=report_toy, compared=(Compared("toy.csv", ("member", "row")),))

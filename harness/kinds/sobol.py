"""Kind ``sobol``: Sobol first-order and total indices per model x variant x output.

Besides the indices at the scenario's N, every run repeats the driver-level analysis on the
first N/2 base samples (a balanced Sobol design in its own right: SALib's rows come in blocks,
one per point of the Sobol sequence) to show whether the ranking has converged, attributes SOC
variance to driver groups (``attribution``) and rolls everything up into the verdict.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..adapter import SteadyStateResult
from ..analysis import guard_failures, rank_by_total, sobol_indices
from ..calibration.posterior import largest_correlation, load_posterior, split_calibrated
from ..errors import AnalysisError
from ..members import Member
from ..netcdf import write_sobol_results
from ..report import ranking_markdown, verdict_markdown
from ..sampling import Design, child_seed, member_values, sobol_designs
from ..store import atomic_write_text, write_csv
from .attribution import attribute
from .common import RunContext, RunOutcome, member_columns, output_units, represents, variant_columns
from .verdict import beta_effects, convergence_table, verdict_table

NOT_REPRESENTED = "not represented"


def run_sobol(ctx: RunContext) -> RunOutcome:
    """Write ``indices.csv``, ``ranking.md``, ``results.nc`` (and ``failures.csv`` if needed)."""
    scenario = ctx.scenario
    outcome = RunOutcome(settings={"sobol": asdict(scenario.sobol), "on_failure": scenario.on_failure})
    designs = sobol_designs(scenario)
    conditioned: dict[str, str] = {}
    if scenario.drivers_from:
        ctx.members, conditioned = with_posterior_twins(ctx)
    columns = variant_columns(ctx.members)
    rows: list[dict[str, Any]] = []
    half: list[dict[str, Any]] = []
    attribution: list[dict[str, Any]] = []
    failures: list[pd.DataFrame] = []
    results: dict[tuple[str, str], SteadyStateResult] = {}
    for member in ctx.members:
        for design in designs:
            values = member_values(member, design)
            start = time.perf_counter()
            result = ctx.evaluate(member, design.unit.shape[0], values, what=f"({design.level}s)",
                                  keep=list(dict.fromkeys([*scenario.outputs, "soc"])))
            entry = outcome.record(member, result, time.perf_counter() - start, design.level)
            results[(member.label, design.level)] = result
            if entry["rows"] != entry["status"]["ok"]:
                failures.append(_failure_table(member, design, values, result))
            for output in scenario.outputs:
                rows += _index_rows(ctx, member, design, result, output, columns, outcome)
                if design.level == "driver":
                    half += _index_rows(ctx, member, design, result, output, columns, RunOutcome(),
                                        n_blocks=scenario.sobol.n // 2)
        attribution += attribute(ctx, member, designs[0], results[(member.label, "driver")], outcome)
    indices = pd.DataFrame(rows)
    convergence = convergence_table(indices, pd.DataFrame(half))
    verdict = verdict_table(indices, convergence, ctx.members, conditioned)
    effects = beta_effects(verdict)
    write_csv(ctx.out_dir / "indices.csv", indices)
    write_csv(ctx.out_dir / "convergence.csv", convergence)
    write_csv(ctx.out_dir / "verdict.csv", verdict)
    write_csv(ctx.out_dir / "attribution.csv", pd.DataFrame(attribution))
    write_csv(ctx.out_dir / "beta_effects.csv", effects)
    atomic_write_text(ctx.out_dir / "verdict.md", verdict_markdown(verdict, effects, scenario))
    atomic_write_text(ctx.out_dir / "ranking.md", ranking_markdown(indices, scenario, _ranges(ctx)))
    write_sobol_results(ctx.out_dir / "results.nc", scenario, designs, ctx.members, results, indices)
    outcome.files += ["indices.csv", "convergence.csv", "verdict.csv", "beta_effects.csv", "verdict.md", "attribution.csv",
                      "ranking.md", "results.nc"]
    outcome.tables.append(verdict_markdown(verdict, effects, scenario, brief=True))
    if failures:
        write_csv(ctx.out_dir / "failures.csv", pd.concat(failures, ignore_index=True))
        outcome.files.append("failures.csv")
    return outcome


def with_posterior_twins(ctx: RunContext) -> tuple[list[Member], dict[str, str]]:
    """Each calibrated member followed by its twin that samples the calibrated drivers from
    their posterior marginals; and, per twin, a sentence saying what it is conditioned on."""
    scenario = ctx.scenario
    source = Path(scenario.path).parent / scenario.drivers_from
    posterior = load_posterior(source)
    sampled = {d.name for d in scenario.drivers}
    members, conditioned = [], {}
    for m in ctx.members:
        members.append(m)
        if m.label not in posterior:
            continue
        draws, _, other = split_calibrated(posterior[m.label], sampled)
        twin = replace(m, posterior=draws)
        r, pair = largest_correlation(draws)
        conditioned[twin.label] = (
            f"{', '.join(sorted(draws))} sampled from their posterior marginals ({next(iter(draws.values())).size} "
            f"draws) in {scenario.drivers_from}, i.e. conditioned on the calibration data"
            + (f"; the posterior correlation the design leaves out reaches r = {r:+.2f} ({pair})" if pair else "")
            + (f"; not transferred: {', '.join(other)}" if other else ""))
        members.append(twin)
    return members, conditioned


def _index_rows(ctx: RunContext, member: Member, design: Design, result: SteadyStateResult,
                output: str, columns: list[str], outcome: RunOutcome,
                n_blocks: int | None = None) -> list[dict[str, Any]]:
    """Index rows of one member x output x design level, from the first ``n_blocks`` blocks."""
    scenario = ctx.scenario
    if n_blocks is not None:
        result = result.take(slice(0, n_blocks * design.block_size))
    head = {**member_columns(member, columns), "member": member.label, "output": output,
            "level": design.level}
    factors = design.factors
    blank = {"S1": np.nan, "S1_conf": np.nan, "ST": np.nan, "ST_conf": np.nan, "rank": 0, "n_base": 0}
    if not represents(member, output):
        return [{**head, "units": "", "driver": f, **blank, "note": f"output {NOT_REPRESENTED}"} for f in factors]
    head["units"] = output_units(member, output)
    try:
        guarded = guard_failures(result.get(output), result.ok, design.block_size, scenario.on_failure)
        idx = sobol_indices(design.problem, guarded.y, design.second_order, scenario.sobol.bootstrap,
                            scenario.sobol.confidence, child_seed(scenario.seed, f"bootstrap_{design.level}s"))
    except AnalysisError as exc:
        outcome.problems.append(f"{member.label}, output {output}, {design.level}s: {exc}")
        return [{**head, "driver": f, **blank, "note": f"no indices: {exc}"} for f in factors]
    sampled = represented_factors(member, design)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        idx[key] = np.where(sampled, idx[key], np.nan)
    ranks = rank_by_total(idx["ST"])
    note = f"{guarded.blocks_dropped} of {guarded.blocks_total} blocks dropped" if guarded.blocks_dropped else ""
    return [
        {**head, "driver": f, **{k: idx[k][j] for k in ("S1", "S1_conf", "ST", "ST_conf")},
         "rank": int(ranks[j]), "n_base": guarded.blocks_total - guarded.blocks_dropped,
         "note": note if sampled[j] else NOT_REPRESENTED}
        for j, f in enumerate(factors)
    ]


def represented_factors(member: Member, design: Design) -> np.ndarray:
    """Whether each factor (driver or group) moves any input of the member."""
    moving = {d.name for d in design.drivers if d.name in member.drivers and d.name not in member.variant}
    owners = [(d.group or d.name) if design.level == "group" else d.name for d in design.drivers]
    return np.array([any(o == f and d.name in moving for o, d in zip(owners, design.drivers))
                     for f in design.factors])


def _failure_table(member: Member, design: Design, values: dict[str, np.ndarray],
                   result: SteadyStateResult) -> pd.DataFrame:
    bad = np.flatnonzero(~result.ok)
    table = pd.DataFrame({"member": member.label, "design": design.level, "row": bad})
    for name, col in values.items():
        table[name] = col[bad]
    table["status"] = result.columns()["status"][bad]
    table["message"] = result.message[bad]
    return table


def _ranges(ctx: RunContext) -> dict[str, list[tuple[str, float, float, str]]]:
    """Absolute sampled ranges per member: (driver, lower, upper, units)."""
    out = {}
    for m in ctx.members:
        units = {d.name: d.units for d in m.adapter.drivers}
        out[m.label] = [(d.name, *m.sampled_bounds(d), units[d.name])
                        for d in ctx.scenario.drivers if d.name in m.drivers and d.name not in m.variant]
    return out

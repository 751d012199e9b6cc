"""Kind ``sobol``: Sobol first-order and total indices per model x variant x output.

Indices are computed on the declared scale (ln of the output by default: stocks are positive
and heavy-tailed near the edges of a model's existence domain) from R independent scrambles of
the design, with Student-t intervals. Beside every index stand the signed effects (the slope of
the output over the driver's box and the elasticity at the baseline), and every member passes
integrity gates before it is ranked (``gates``). Every run also repeats the driver-level
analysis on the first half of the replicates (N/2) to show whether the ranking has converged,
sweeps the ranges of c_input and cue_scale (``crossover``), attributes SOC variance to driver
groups (``attribution``), bounds every total index from the exact steady-state derivatives
(derivative-based global sensitivity measures, ``dgsm.csv``) and rolls everything up into the
verdict (``verdict``).
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import checks, dgsm
from ..adapter import SteadyStateResult
from ..analysis import Analysis, analyse, rank_by_total
from ..designs import local_design, local_forcing
from ..errors import AnalysisError, HarnessError, TruncatedDesign
from ..grids import GridError, land_sample
from ..members import Member
from ..netcdf import write_sobol_results
from ..plan import Plan
from ..posterior import largest_correlation, split_calibrated
from ..report import ranking_markdown
from ..sampling import Design, child_seed, member_values, sobol_designs
from ..spec import GridSettings, Section, SobolSettings
from ..spec.schema import Context, build_drivers, build_drivers_from, build_grid, build_on_failure, build_sobol
from ..verdict_report import headline, verdict_markdown
from ..vocabulary import DRIVERS
from .attribution import attribute, factor_groups
from .base import RESPONSE, Compared, Kind
from .common import (
    RunContext,
    RunOutcome,
    failure_table,
    kept_outputs,
    member_columns,
    on_scale,
    output_units,
    represents,
    screen,
    variant_columns,
)
from .crossover import crossover_rows, crossover_table
from .gates import Fit, gate_reasons
from .reconciliation import answers, reconciliation_markdown, reconciliation_table
from .sobol_page import report_section
from .verdict import beta_effects, convergence_table, model_votes, verdict_table

NOT_REPRESENTED = "not represented"
STATUS = logging.getLogger("soilbench")  # progress lines: the command line shows them, a library user may
#: relative step of the baseline elasticities d ln output / d ln driver [1]
ELASTICITY_STEP = 0.01
#: most base samples (rows of the design's matrix A) the DGSM differentiates: whole scrambles of the
#: flagship (4 of 8), 0.4 s or 6 % of its run; all of A took 0.8 s, 12 % (docs/verdict.md section 11)
DGSM_ROWS = 1024
#: the columns of dgsm.csv after the member's (model, variant keys, member, output, scale)
DGSM_COLUMNS = ("level", "factor", "drivers", "nu", "nu_units", "width", "width_units", "nu_box", "bound", "bound_note",
                "ST", "ST_conf", "ST_low", "ST_estimable", "holds", "variance", "rows_used", "rows_evaluated",
                "base_samples", "failed", "screened", "no_derivative", "note")
#: why a driver sampled from posterior draws gets no bound
NOT_UNIFORM = "sampled from posterior draws, not uniform: no Poincaré constant computed"


def run_sobol(ctx: RunContext) -> RunOutcome:
    """Write ``indices.csv``, ``verdict.*``, ``crossover.csv``, ``dgsm.csv``, ``ranking.md`` and ``results.nc``.

    Rows that failed or were screened out go to ``failures.csv`` (written by the run for every kind).
    """
    scenario = ctx.scenario
    outcome = RunOutcome(settings={"sobol": asdict(scenario.sobol), "on_failure": scenario.on_failure,
                                   "box": box_text(scenario)})
    sample = ctx.plan.inputs.get("land_sample")
    if sample is not None:
        outcome.settings["land_sample"] = {
            "forcing": scenario.grid.forcing, "cells": sample.cells, "land_cells": sample.land_cells,
            "excluded_area_share": sample.excluded_area_share, "excluded_by": sample.excluded_by}
        if sample.cells < sample.land_cells:
            outcome.warnings.append(
                f"the grid drivers are drawn from {sample.cells} of {sample.land_cells} land cells: "
                f"{sample.excluded_area_share:.1%} of the land area lies outside some model's valid interval "
                f"({', '.join(f'{k}: {v} cells' for k, v in sample.excluded_by.items() if v)})")
    designs = sobol_designs(scenario)
    conditioned: dict[str, str] = {}
    if scenario.drivers_from:
        ctx.members, conditioned = with_posterior_twins(ctx)
    columns = variant_columns(ctx.members)
    rows: list[dict[str, Any]] = []
    half: list[dict[str, Any]] = []
    attribution: list[dict[str, Any]] = []
    cross: list[dict[str, Any]] = []
    bounds: list[dict[str, Any]] = []
    fits: dict[tuple[str, str], Fit] = {}
    results: dict[tuple[str, str], SteadyStateResult] = {}
    for member in ctx.members:
        elasticity = baseline_elasticities(ctx, member, designs[0])
        for design in designs:
            values = member_values(member, design)
            start = time.perf_counter()
            result = ctx.evaluate(member, design.unit.shape[0], values, what=f"({design.level}s)",
                                  keep=kept_outputs(ctx.scenario, member), design=design.level)
            outcome.record(member, result, time.perf_counter() - start, design.level)
            results[(member.label, design.level)] = result
            usable, reason = screen(ctx.scenario, member, result)
            screened = result.ok & (reason != "")
            if screened.any():
                ctx.failures.append(failure_table(member, design.level, values, screened,
                                                  np.full(screened.size, "screened"), reason))
            for output in scenario.outputs:
                fit, index_rows = _index_rows(ctx, member, design, result, usable, output, columns, outcome,
                                              elasticity.get(output, {}))
                rows += index_rows
                if design.level == "driver":
                    fits[(member.label, output)] = fit
                    if design.replicates > 1 or design.blocks > 2:
                        half += _index_rows(ctx, member, design, result, usable, output, columns, RunOutcome(),
                                            {}, halve=True)[1]
        attribution += attribute(ctx, member, designs[0], results[(member.label, "driver")], outcome)
        bounds += dgsm_rows(ctx, member, designs[0], columns, outcome)
        if scenario.sobol.crossover and not member.posterior:
            cross += crossover_rows(ctx, member, designs[0], columns, outcome)
        STATUS.info("solved and analysed %s (%d of %d)", member.label, ctx.members.index(member) + 1,
                    len(ctx.members))
    STATUS.info("writing the tables, verdict and results.nc")
    indices = pd.DataFrame(rows)
    convergence = convergence_table(indices, pd.DataFrame(half))
    verdict = verdict_table(indices, convergence, ctx.members, fits, scenario.sobol, conditioned)
    votes = model_votes(verdict)
    effects = beta_effects(verdict, fits, scenario.sobol.confidence)
    crossover = pd.DataFrame(cross)
    crossovers = crossover_table(crossover) if not crossover.empty else pd.DataFrame()
    ctx.files.csv("indices.csv", indices)
    ctx.files.csv("convergence.csv", convergence)
    ctx.files.csv("verdict.csv", verdict)
    ctx.files.csv("votes.csv", votes)
    ctx.files.csv("beta_effects.csv", effects)
    if conditioned:  # posterior twins: did assimilation bring the structures together?
        reconciliation = reconciliation_table(verdict, fits, conditioned, scenario.sobol.confidence)
        ctx.files.csv("reconciliation.csv", reconciliation)
        outcome.tables.append(reconciliation_markdown(reconciliation))
        outcome.headline += [f"Reconciliation, {answer}." for answer in answers(reconciliation)]
    if not crossover.empty:
        ctx.files.csv("crossover.csv", crossovers)
        ctx.files.csv("crossover_cells.csv", crossover)
    texts = (verdict, votes, effects, crossovers, outcome.settings["sobol"], outcome.settings["box"], scenario.on_failure)
    ctx.files.text("verdict.md", verdict_markdown(*texts, title=scenario.name))
    ctx.files.csv("attribution.csv", pd.DataFrame(attribution))
    ctx.files.csv("dgsm.csv", dgsm_table(bounds, indices))
    ctx.files.text("ranking.md", ranking_markdown(indices, scenario, _ranges(ctx)))
    ctx.files.produce("results.nc", write_sobol_results, scenario, designs, ctx.members, results, indices)
    outcome.tables.append(verdict_markdown(*texts, brief=True))
    stored = [read_back(frame) for frame in (verdict, votes, crossovers)]  # as the report reads them
    outcome.headline.append(headline(stored[0], stored[1], stored[2], outcome.settings["sobol"]).replace("**", ""))
    first = verdict[verdict["output"] == verdict["output"].iloc[0]] if not verdict.empty else verdict
    if not first.empty:
        counts = first["answer"].value_counts()
        outcome.headline.append(f"Tally of the {len(first)} model x variant answers for {first['output'].iloc[0]}: "
                                + "; ".join(f"{state}: {n}" for state, n in counts.items()) + ".")
    return outcome


def read_back(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` as written to CSV and read again (empty cells NaN, types as a reader sees them)."""
    return pd.read_csv(io.StringIO(table.to_csv(index=False))) if not table.empty else table


def with_posterior_twins(ctx: RunContext) -> tuple[list[Member], dict[str, str]]:
    """Each calibrated member followed by its twin that samples the calibrated drivers from their posterior marginals.

    Also, per twin, a sentence saying what it is conditioned on.
    """
    scenario = ctx.scenario
    posterior = ctx.plan.inputs["posterior"]
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


def _index_rows(ctx: RunContext, member: Member, design: Design, result: SteadyStateResult, usable: np.ndarray,
                output: str, columns: list[str], outcome: RunOutcome, elasticity: dict[str, float],
                halve: bool = False) -> tuple[Fit, list[dict[str, Any]]]:
    """The analysis of one member x output x design level (its first half with ``halve``) and its index rows.

    The index rows are gated.
    """
    scenario, s = ctx.scenario, ctx.scenario.sobol
    head = {**member_columns(member, columns), "member": member.label, "output": output, "level": design.level,
            "scale": "ln" if s.scale == "log" else "raw"}
    factors = design.factors
    blank = {"S1": np.nan, "S1_conf": np.nan, "ST": np.nan, "ST_conf": np.nan, "slope": np.nan, "slope_conf": np.nan,
             "elasticity": np.nan, "rank": 0, "n_base": 0, "blocks_total": design.blocks,
             "replicates": design.replicates, "estimable": False, "gate": ""}
    if not represents(member, output):
        return Fit(factors, None), [{**head, "units": "", "driver": f, **blank, "note": f"output {NOT_REPRESENTED}"}
                                    for f in factors]
    head["units"] = output_units(member, output)
    if halve:  # the first half of the replicates, or of the blocks of one scramble: a design of N/2
        rows = design.unit.shape[0] // 2
        design = replace(design, unit=design.unit[:rows], replicates=max(design.replicates // 2, 1))
        result, usable = result.take(slice(0, rows)), usable[:rows]
    y = on_scale(result.get(output), s.scale)
    try:
        analysis = analyse(design, y, usable, scenario.on_failure, s,
                           child_seed(scenario.seed, f"bootstrap_{design.level}s"))
    except TruncatedDesign as exc:  # drop_blocks left too little: not estimable, the run goes on
        outcome.warnings.append(f"{member.label}, output {output}, {design.level}s: not estimable: {exc}")
        return Fit(factors, None, reasons=(str(exc),)), [
            {**head, "driver": f, **blank, "gate": str(exc), "note": f"not estimable: {exc}"} for f in factors]
    except AnalysisError as exc:
        outcome.problems.append(f"{member.label}, output {output}, {design.level}s: {exc}")
        return Fit(factors, None, error=str(exc)), [{**head, "driver": f, **blank, "note": f"failed: {exc}"}
                                                    for f in factors]
    sampled = represented_factors(member, design)
    analysis = _only_sampled(analysis, sampled)
    screened = int((result.ok & ~usable).sum())
    reasons = gate_reasons(analysis, factors, s.gates, screened)
    fit = Fit(factors, analysis, reasons=reasons)
    ranks = rank_by_total(analysis.ST) if fit.estimable else np.zeros(len(factors), dtype=int)
    dropped = analysis.blocks_dropped
    note = f"{dropped} of {analysis.blocks_total} blocks dropped" if dropped else ""
    gate = "; ".join(reasons)
    return fit, [
        {**head, "driver": f, **{k: getattr(analysis, k)[j] for k in ("S1", "S1_conf", "ST", "ST_conf", "slope",
                                                                     "slope_conf")},
         "elasticity": elasticity.get(f, np.nan), "rank": int(ranks[j]),
         "n_base": analysis.blocks_total - dropped, "blocks_total": analysis.blocks_total,
         "replicates": analysis.estimates.replicates, "estimable": fit.estimable, "gate": gate,
         "note": note if sampled[j] else NOT_REPRESENTED}
        for j, f in enumerate(factors)
    ]


def _only_sampled(analysis: Analysis, sampled: np.ndarray) -> Analysis:
    """NaN for factors that move no input of the member (they are 'not represented', not 0)."""
    blank = {k: np.where(sampled, getattr(analysis, k), np.nan)
             for k in ("S1", "S1_conf", "ST", "ST_conf", "slope", "slope_conf")}
    est = analysis.estimates
    est = replace(est, S1=np.where(sampled, est.S1, np.nan), ST=np.where(sampled, est.ST, np.nan),
                  slope=np.where(sampled, est.slope, np.nan))
    return replace(analysis, **blank, estimates=est)


def baseline_elasticities(ctx: RunContext, member: Member, design: Design) -> dict[str, dict[str, float]]:
    """``d ln output / d ln driver`` at the member's baseline, per output and sampled driver [1].

    A central difference of ln output over ln(1 +- h), h = ``ELASTICITY_STEP``.
    """
    drivers = tuple(d.name for d in design.drivers)
    rows = local_design(member, drivers, ELASTICITY_STEP, "central")
    result = ctx.evaluate(member, len(rows), local_forcing(member, rows), what="(baseline elasticities)",
                          keep=list(ctx.scenario.outputs))
    span = np.log1p(ELASTICITY_STEP) - np.log1p(-ELASTICITY_STEP)
    out: dict[str, dict[str, float]] = {}
    for output in ctx.scenario.outputs:
        if not represents(member, output):
            continue
        y = on_scale(np.where(result.ok, result.get(output), np.nan), "log")
        side = {(name, s): y[i] for i, (name, s, _) in enumerate(rows)}
        out[output] = {name: float((side[(name, "plus")] - side[(name, "minus")]) / span)
                       for name, s, _ in rows[1::2] if member.drivers[name] != 0}
    return out


def dgsm_rows(ctx: RunContext, member: Member, design: Design, columns: list[str],
              outcome: RunOutcome | None = None) -> list[dict[str, Any]]:
    """DGSM and Poincaré bounds of one member, per analysed output and driver (and group), without ST yet.

    The exact steady-state derivatives (one ``steady_state_sensitivities`` call) of the first
    ``DGSM_ROWS`` rows of the driver design's matrix A, on the scale of the analysis; rows the
    analysis screens out are left out. Per driver: ``nu`` [1/(driver units)^2 on the log scale,
    (output units per driver unit)^2 on the raw one], the box width ``b - a`` [driver units],
    ``nu_box = (b - a)^2 nu`` [f units^2: the DGSM of the driver's unit coordinate, additive over a
    group] and the bound ``nu_box / (pi^2 Var f)`` [1]; per group the sum of its drivers' bounds.
    A driver drawn from a posterior has ``nu`` but no bound (``bound_note`` says why). An adapter
    that cannot be differentiated (a ``HarnessError`` or no ``_tendencies``) gets rows saying so and
    a warning in ``outcome``; the run goes on.
    """
    scenario, scale = ctx.scenario, ctx.scenario.sobol.scale
    rows = dgsm.base_rows(design.unit.shape[0], design.block_size, DGSM_ROWS)
    values = {k: v[rows] for k, v in member_values(member, design).items()}
    wrt = list(values)
    head = {**member_columns(member, columns), "member": member.label, "scale": "ln" if scale == "log" else "raw"}
    groups = {g: [d for d in names if d in wrt] for g, names in factor_groups(design).items()} if scenario.groups else {}
    factors = [("driver", d.name, [d.name] if d.name in wrt else []) for d in design.drivers] + \
        [("group", g, names) for g, names in groups.items()]
    sens, why = None, f"output {NOT_REPRESENTED}" if wrt else NOT_REPRESENTED
    try:
        if wrt:
            sens = member.adapter.steady_state_sensitivities(member.theta(rows.size),
                                                             member.forcing(rows.size, values), wrt)
    except (HarnessError, NotImplementedError) as exc:
        why = f"no derivatives: {str(exc) or type(exc).__name__}"
        if outcome is not None:
            outcome.warnings.append(f"{member.label}: DGSM skipped, {why}")
    usable = screen(scenario, member, sens.result)[0] if sens is not None else None
    units = {d.name: d.units for d in member.adapter.drivers}
    out: list[dict[str, Any]] = []
    for output in scenario.outputs:
        if sens is None or usable is None or not represents(member, output):
            note = why if sens is None and represents(member, output) else f"output {NOT_REPRESENTED}"
            out += [{**head, "output": output, "level": level, "factor": name, "drivers": "", "note": note}
                    for level, name, _ in factors]
            continue
        y = sens.result.get(output)
        f, df = dgsm.on_scale(y, np.column_stack([sens.derivative(output, w) for w in wrt]), scale)
        est = dgsm.estimate(df, f, sens.result.ok, usable)
        posterior = member.posterior or {}
        # the Poincare constant is the uniform distribution's: no bound for posterior or grid drivers
        box = {d.name: member.sampled_bounds(d) for d in design.drivers
               if d.name in wrt and d.name not in posterior and d.mode != "grid"}
        # numpy floats: a box too wide for a double gives inf (an empty bound), not an OverflowError
        width = {w: np.float64(box[w][1]) - box[w][0] if w in box else np.nan for w in wrt}
        constant = np.array([dgsm.uniform_constant(*box[w]) if w in box else np.nan for w in wrt])
        bound = dgsm.total_bound(est.nu, constant, est.variance)
        nu = dict(zip(wrt, est.nu))
        of = dict(zip(wrt, bound))
        counts = {"variance": est.variance, "rows_used": est.used, "rows_evaluated": est.evaluated,
                  "base_samples": design.blocks, "failed": est.failed, "screened": est.screened,
                  "no_derivative": est.no_derivative}
        for level, name, drivers in factors:
            row = {**head, "output": output, "level": level, "factor": name, "drivers": " + ".join(drivers)}
            if not drivers:
                out.append({**row, **counts, "note": NOT_REPRESENTED})
                continue
            drawn = [d for d in drivers if d in posterior]
            one = drivers[0] if len(drivers) == 1 else ""
            out.append({**row, "nu": nu[one] if one else np.nan,
                        "nu_units": _nu_units(units[one], output_units(member, output), scale) if one else "",
                        "width": width[one] if one else np.nan, "width_units": units[one] if one else "",
                        "nu_box": _nu_box(width, nu, drivers) if not drawn else np.nan,
                        "bound": dgsm.group_bound(np.array([of[d] for d in drivers])),
                        "bound_note": f"{', '.join(drawn)} {NOT_UNIFORM}" if drawn else "", **counts, "note": ""})
    return out


def _nu_box(width: dict[str, float], nu: dict[str, float], drivers: list[str] | tuple[str, ...]) -> float:
    """Sum over ``drivers`` of width^2 nu [f units^2]; inf for a box too wide for a double."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(sum(np.square(width[d]) * nu[d] for d in drivers))


def _nu_units(driver: str, output: str, scale: str) -> str:
    """Units of ``nu`` of a driver in ``driver`` units: ``1/(driver)^2`` on the log scale, else ``(output per driver)^2``."""
    if scale == "log":
        return "1" if driver == "1" else f"1/({driver})^2"
    return f"({output})^2" if driver == "1" else f"({output} per {driver})^2"


def dgsm_table(rows: list[dict[str, Any]], indices: pd.DataFrame) -> pd.DataFrame:
    """``dgsm.csv``: the rows of ``dgsm_rows`` beside the Sobol ST of the same factor and whether the bound holds.

    ``ST_low`` is the lower end of ST's interval; ``holds`` is ``yes`` when ``ST_low <= bound``,
    ``no`` when not, empty when either is missing (not represented, not estimable or no bound).
    """
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    head = list(table.columns[:table.columns.get_loc("level")])  # model, variant keys, member, output, scale
    table = table.reindex(columns=[*head, *DGSM_COLUMNS[:DGSM_COLUMNS.index("ST")],
                                   *DGSM_COLUMNS[DGSM_COLUMNS.index("variance"):]])
    sobol = indices.reindex(columns=["member", "output", "level", "driver", "ST", "ST_conf", "estimable"]).rename(
        columns={"driver": "factor", "estimable": "ST_estimable"})
    table = table.merge(sobol, on=["member", "output", "level", "factor"], how="left")
    table["ST_low"] = table["ST"] - table["ST_conf"].fillna(0.0)
    known = table["ST_low"].notna() & table["bound"].notna()
    table["holds"] = np.where(known, np.where(table["ST_low"] <= table["bound"], "yes", "no"), "")
    counts = ["rows_used", "rows_evaluated", "base_samples", "failed", "screened", "no_derivative"]
    table[counts] = table[counts].astype("Int64")  # whole numbers, blank where the output is not represented
    return table[[*head, *DGSM_COLUMNS]]


def represented_factors(member: Member, design: Design) -> np.ndarray:
    """Whether each factor (driver or group) moves any input of the member."""
    moving = {d.name for d in design.drivers if d.name in member.drivers and d.name not in member.variant}
    owners = [(d.group or d.name) if design.level == "group" else d.name for d in design.drivers]
    return np.array([any(o == f and d.name in moving for o, d in zip(owners, design.drivers))
                     for f in design.factors])


def box_text(scenario) -> str:
    """The sampled box in words, e.g. ``c_input ×[0.5, 1.5] of the baseline, temperature [10, 20] degC``."""
    parts = [f"{d.name} ×[{d.lower:g}, {d.upper:g}]" if d.mode == "relative"
             else f"{d.name} ~ land cells [{d.lower:g}, {d.upper:g}] {DRIVERS[d.name][0]}" if d.mode == "grid"
             else f"{d.name} [{d.lower:g}, {d.upper:g}] {DRIVERS[d.name][0]}" for d in scenario.drivers]
    text = ", ".join(parts) + " (× = multiplier on each model's baseline"
    if any(d.mode == "grid" for d in scenario.drivers):
        text += f"; ~ land cells = the area-weighted distribution of {scenario.grid.forcing}'s land cells, " \
                "each driver independently"
    return text + ")"


def _ranges(ctx: RunContext) -> dict[str, list[tuple[str, float, float, str]]]:
    """Absolute sampled ranges per member: (driver, lower, upper, units)."""
    out = {}
    for m in ctx.members:
        units = {d.name: d.units for d in m.adapter.drivers}
        out[m.label] = [(d.name, *m.sampled_bounds(d), units[d.name])
                        for d in ctx.scenario.drivers if d.name in m.drivers and d.name not in m.variant]
    return out


def _check(plan: Plan, ctx: Context) -> None:
    if plan.scenario.drivers_from:
        plan.inputs["posterior"] = checks.check_drivers_from(plan.scenario, plan.members, ctx)
    if "grid" in plan.scenario.given:
        _sample_from_grid(plan, ctx)


def _sample_from_grid(plan: Plan, ctx: Context) -> None:
    """Add the ``grid`` section's drivers to the design, each from its land cells' distribution."""
    s = plan.scenario
    boxed = {d.name for d in s.drivers}
    for obs in s.grid.observations:
        ctx.add(obs.path, "is not used by a sobol run", "remove it (observations go with kind grid)")
    for name, _, where in s.grid.drivers:
        if name in boxed:
            ctx.add(where, f"{name!r} is sampled both from its box in `drivers` and from the grid",
                    "keep one of them", at_key=True)
    forcing = checks.check_grid(s, plan.members, ctx)
    if forcing is None or ctx.issues:
        return
    try:
        sample = land_sample(forcing, s.grid.drivers, plan.members)
    except GridError as exc:
        ctx.add("grid.drivers", exc.message, exc.hint)
        return
    plan.inputs["land_sample"] = sample
    plan.scenario = s.replace(drivers=s.drivers + sample.drivers,
                              varied=s.varied + tuple((d.name, d.path) for d in sample.drivers))


KIND = Kind(
    name="sobol",
    description="Sobol indices of every output to sampled drivers, per model x variant, and the verdict",
    sections={
        "drivers": Section(build_drivers, (), ("a sobol scenario needs sampled drivers",
                                               "add `drivers: {c_input: {relative: [0.5, 1.5]}}`")),
        "sobol": Section(build_sobol, SobolSettings()),
        "on_failure": Section(build_on_failure, "error"),
        "drivers_from": Section(build_drivers_from, ""),
        "grid": Section(build_grid, GridSettings()),  # drivers sampled from a forcing's land cells
        "response": RESPONSE,
    },
    run=run_sobol,
    report=report_section,
    check=_check,
    varied=lambda s: tuple((d.name, d.path) for d in s.drivers),
    size=lambda s: s.sobol.n,
    compared=(
        Compared("indices.csv", ("member", "output", "level", "driver"), "intervals"),
        Compared("verdict.csv", ("member", "output"), "states", column="answer", category="verdicts changed"),
        Compared("votes.csv", ("model", "output"), "states", column="vote", category="votes changed"),
        Compared("crossover.csv", ("member", "output", "h_cue"), "states", column="state",
                 category="crossovers changed", interval="k"),
    ),
    keeps=("verdict.md", "beta_effects.csv", "convergence.csv"),
)

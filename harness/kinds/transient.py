"""Kind ``transient``: perturbation experiments from the steady state, with ages and transit times.

Each member starts at its steady state under its baseline drivers and runs through each
experiment (``harness.spec.transient``): inputs x k (k = 0: litter removal), warming by dT, as a
step, a ramp or a table, for a number of years, by the batched stiff integrator of
``harness.transient``. Written:

- ``trajectories.csv``: every output at every stored year, per member x experiment;
- ``response.csv``: per member x experiment x output x reported year: the value at the steady
  state (y0), at that year (y), ``change = y - y0`` [output units], ``ratio = y / y0`` [1], the new
  steady state under the changed drivers (``final``; 0 for stocks when the inputs stop), the share
  of the final change reached [1], the e-folding response time [yr] (first time the change reaches
  (1 - 1/e) of the final change) and the run's largest mass-balance gap [1];
- ``ages.csv``: mean transit time, mean system age and pool ages [yr] at the baseline steady state
  (``harness.ages``), where the model declares its pool-to-pool fluxes;
- ``beta_dependence.md``: how the response at the last reported year moves with beta, per model.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import checks, plots
from ..adapter import Status
from ..ages import ages
from ..members import Member
from ..page import Page, blank, stored_table
from ..plan import Plan
from ..spec import Section
from ..spec.schema import Context
from ..spec.transient import Experiment, TransientSettings, build_transient
from ..transient import run_perturbation
from ..verdict_report import summary_labels
from .base import Compared, Kind
from .common import RunContext, RunOutcome, member_columns, output_units, represents, variant_columns

#: a change of less than this share of y0 has no e-folding time worth stating [1]
_NO_CHANGE = 1e-9
#: responses (ratios [1]) of the beta variants closer than this are called the same
_SAME = 1e-3


def run_transient(ctx: RunContext) -> RunOutcome:
    """Write ``trajectories.csv``, ``response.csv``, ``ages.csv`` and ``beta_dependence.md``."""
    s: TransientSettings = ctx.scenario.transient
    outcome = RunOutcome(settings={"transient": {"experiments": {e.name: e.text for e in s.experiments},
                                                 "at": list(s.at), "every": s.every}})
    columns = variant_columns(ctx.members)
    paths, responses, age_rows = [], [], []
    for member in ctx.members:
        head = {**member_columns(member, columns), "member": member.label}
        age_rows += _ages(member, head, outcome)
        for experiment in s.experiments:
            missing = [c.driver for c in experiment.changes if c.driver not in member.adapter.driver_names]
            if missing:
                outcome.warnings.append(f"{member.label}: does not represent {', '.join(missing)}; "
                                        f"experiment {experiment.name} skipped")
                continue
            start = time.perf_counter()
            times = _times(experiment, s)
            changes = [ctx.plan.inputs["changes"][c.path] for c in experiment.changes]
            result, run = run_perturbation(member.adapter, member.theta(1), member.forcing(1), changes, times)
            outcome.record(member, result, time.perf_counter() - start, experiment.name)
            if not run.ok[0]:  # kept in every table as NaN with its reason
                outcome.warnings.append(f"{member.label}, {experiment.name}: {Status(int(run.status[0])).label}: "
                                        f"{run.message[0]}")
            final = _final(member, experiment, changes)
            record = {**head, "experiment": experiment.name}
            paths.append(pd.DataFrame({**record, "year": times, **{o: run.get(o)[0] for o in _outputs(ctx, member)}}))
            reported = s.at or (experiment.years,)
            mass_gap = _largest(run.mass_balance_error())
            for output in _outputs(ctx, member):
                responses += [_response(record, output, output_units(member, output), times, run.get(output)[0],
                                        final.get(output, np.nan), year, mass_gap,
                                        "" if run.ok[0] else str(run.message[0]))
                              for year in reported if year <= experiment.years]
    trajectories, table = pd.concat(paths, ignore_index=True), pd.DataFrame(responses)
    ctx.files.csv("trajectories.csv", trajectories)
    ctx.files.csv("response.csv", table)
    if age_rows:
        ctx.files.csv("ages.csv", pd.DataFrame(age_rows))
    dependence = beta_dependence(table)
    ctx.files.text("beta_dependence.md", dependence_markdown(dependence))
    outcome.tables.append(table[["member", "experiment", "output", "year", "units", "y0", "y", "change", "ratio",
                                 "efold_years", "note"]].to_markdown(index=False, floatfmt=".4g"))
    first = ctx.scenario.outputs[0]
    outcome.headline += dependence_lines(dependence[dependence["output"] == first] if len(dependence) else dependence)
    return outcome


def _outputs(ctx: RunContext, member: Member) -> list[str]:
    return [o for o in ctx.scenario.outputs if represents(member, o)]


def _times(experiment: Experiment, s: TransientSettings) -> np.ndarray:
    """Stored years [yr]: 0, every ``every`` years, each reported year and the end."""
    grid = np.arange(0.0, experiment.years, s.every)
    return np.unique(np.concatenate([grid, [y for y in s.at if y <= experiment.years], [experiment.years]]))


def _final(member: Member, experiment: Experiment, changes: list[Any]) -> dict[str, float]:
    """Outputs at the steady state under the drivers at the experiment's end (stocks 0 without input)."""
    forcing = member.forcing(1)
    for change in changes:
        j = member.adapter.driver_names.index(change.driver)
        forcing[:, j] = change.apply(forcing[:, j], experiment.years)
    if forcing[0, member.adapter.driver_names.index("c_input")] == 0.0:
        # no input: every pool empties, and so does every flux out of it
        return {o: 0.0 for o in member.adapter.outputs if o != "cue_bulk"} | \
            {f"pool.{p}": 0.0 for p in member.adapter.pool_names}
    result = member.adapter.steady_state(member.theta(1), forcing)
    if not result.ok[0]:
        return {}
    return {**{o: float(result.get(o)[0]) for o in result.output_names},
            **{f"pool.{p}": float(result.pool(p)[0]) for p in result.pool_names}}


def _response(record: dict, output: str, units: str, times: np.ndarray, y: np.ndarray, final: float,
              year: float, mass_gap: float, failure: str) -> dict[str, Any]:
    """One ``response.csv`` record: the change by ``year`` and the e-folding time [yr] (``failure``: why the run failed)."""
    y0, value = y[0], float(np.interp(year, times, y))
    total = final - y0
    notes = [failure] if failure else []
    if not np.isfinite(final) and not failure:
        notes.append("no steady state under the changed drivers")
    efold = efolding_time(times, y, final)
    if np.isfinite(total) and abs(total) > _NO_CHANGE * abs(y0) and not np.isfinite(efold):
        notes.append(f"(1 - 1/e) of the final change not reached in {times[-1]:g} yr")
    with np.errstate(divide="ignore", invalid="ignore"):
        return {**record, "output": output, "units": units, "year": year, "y0": y0, "y": value,
                "change": value - y0, "ratio": value / y0, "final": final,
                "share_of_final": (value - y0) / total if abs(total) > _NO_CHANGE * abs(y0) else np.nan,
                "efold_years": efold, "mass_balance_gap": mass_gap, "note": "; ".join(notes)}


def _largest(values: np.ndarray) -> float:
    """Largest finite value (NaN when there is none)."""
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else np.nan


def efolding_time(times: np.ndarray, y: np.ndarray, final: float) -> float:
    """First time [yr] the change y - y0 reaches (1 - 1/e) of ``final - y0`` (linear between stored years).

    NaN when it is not reached within ``times`` or there is no change.
    """
    total = final - y[0]
    if not np.isfinite(total) or abs(total) <= _NO_CHANGE * abs(y[0]):
        return np.nan
    reached = (y - y[0]) / total  # 0 at the start, 1 at the new steady state
    target = 1.0 - np.exp(-1.0)
    above = np.flatnonzero(reached >= target)
    if not above.size:
        return np.nan
    i = above[0]
    if i == 0:
        return float(times[0])
    return float(np.interp(target, [reached[i - 1], reached[i]], [times[i - 1], times[i]]))


def _ages(member: Member, head: dict[str, Any], outcome: RunOutcome) -> list[dict[str, Any]]:
    """``ages.csv`` records of one member at its baseline, or a warning when the model has no pool fluxes."""
    found = ages(member.adapter, member.theta(1), member.forcing(1))
    if not found.ok[0]:
        outcome.warnings.append(f"{member.label}: ages not available: {found.message[0]}")
        return []
    rows = [{**head, "quantity": "mean transit time", "pool": "", "years": found.mean_transit_time[0]},
            {**head, "quantity": "mean system age", "pool": "", "years": found.mean_system_age[0]},
            {**head, "quantity": "median transit time", "pool": "", "years": found.median_transit_time[0]},
            {**head, "quantity": "median system age", "pool": "", "years": found.median_system_age[0]}]
    return rows + [{**head, "quantity": "mean pool age", "pool": p, "years": found.pool_ages[0, j]}
                   for j, p in enumerate(member.adapter.pool_names)]


def beta_dependence(table: pd.DataFrame) -> pd.DataFrame:
    """Per model x experiment x output, the response (ratio [1]) at the last reported year for each beta variant."""
    if table.empty or "beta" not in table or not pd.to_numeric(table["beta"], errors="coerce").notna().any():
        return pd.DataFrame()
    last = table[table["year"] == table.groupby(["member", "experiment", "output"])["year"].transform("max")]
    last = last.assign(beta=pd.to_numeric(last["beta"], errors="coerce")).dropna(subset=["beta"])
    rows = []
    for (model, experiment, output), block in last.groupby(["model", "experiment", "output"], sort=False):
        block = block.sort_values("beta")
        ratios = block["ratio"].to_numpy()
        steps = np.diff(ratios[np.isfinite(ratios)])
        spread = np.ptp(ratios[np.isfinite(ratios)]) if len(steps) else np.nan
        direction = ("the same at every beta (within 0.1 percentage point)" if spread < _SAME
                     else "rises with beta" if (steps > 0).all() else "falls with beta" if (steps < 0).all()
                     else "not monotonic in beta") if len(steps) else "fewer than two betas with a response"
        failed = block["beta"][~np.isfinite(ratios)]
        if len(failed):
            direction += "; no response at beta = " + ", ".join(f"{b:g}" for b in failed) + " (see response.csv)"
        rows.append({"model": model, "experiment": experiment, "output": output, "year": block["year"].iloc[0],
                     "beta": ", ".join(f"{b:g}" for b in block["beta"]),
                     "ratio": ", ".join(f"{r:.4g}" for r in ratios),
                     "change [%]": ", ".join(f"{100 * (r - 1):+.2f}" if np.isfinite(r) else "n/a" for r in ratios),
                     "direction": direction})
    return pd.DataFrame(rows)


def dependence_markdown(dependence: pd.DataFrame) -> str:
    """``beta_dependence.md``: the table, or why there is none."""
    if dependence.empty:
        return "No member varies beta: no beta dependence to state.\n"
    return ("# Response to each experiment against beta\n\nratio = output at the year / output at the steady "
            "state [1], one value per beta variant in the order of `beta`.\n\n"
            + dependence.to_markdown(index=False) + "\n")


def dependence_lines(dependence: pd.DataFrame) -> list[str]:
    """One sentence per model x experiment x output: the response at each beta and its direction."""
    return [f"{r.model}, {r.experiment}, {r.output} after {r.year:g} yr: {r['change [%]'].replace(', ', ' / ')} % "
            f"at beta = {r.beta.replace(', ', ' / ')} ({r.direction})" for _, r in dependence.iterrows()]


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The ``report.html`` section of a transient run (nothing if its files are missing)."""
    paths = stored_table(out_dir, "trajectories.csv")
    table = stored_table(out_dir, "response.csv")
    if paths is None or table is None:
        return
    labels = summary_labels(summary)
    settings = summary.get("settings", {}).get("transient", {})
    page.heading("Perturbation experiments")
    for name, text in settings.get("experiments", {}).items():
        for output in summary.get("outputs", []):
            block = paths[paths["experiment"] == name]
            if output in block and block[output].notna().any():
                page.plot(f"trajectory_{name}_{output}".replace(".", "_"), f"{output} relative to its steady state: "
                          f"{text}", plots.trajectories, block, output, f"{name}: {text}", labels)
    shown = table.assign(member=table["member"].map(lambda m: labels.get(m, m)))
    page.table(blank(shown[["member", "experiment", "output", "year", "units", "y0", "y", "change", "ratio", "final",
                            "efold_years", "mass_balance_gap", "note"]]))
    dependence = beta_dependence(table)
    if not dependence.empty:
        page.heading("Against beta", 3)
        page.table(blank(dependence))
    found = stored_table(out_dir, "ages.csv")
    if found is not None:
        page.heading("Ages and transit times at the steady state [yr]", 3)
        page.table(blank(found[found["pool"].fillna("") == ""].assign(
            member=lambda t: t["member"].map(lambda m: labels.get(m, m)))))


def check_transient(plan: Plan, ctx: Context) -> None:
    """Every changed driver is represented by some member (the others skip it); every table file exists."""
    for experiment in plan.scenario.transient.experiments:
        checks.check_changes(experiment.changes, plan, ctx, every_member=False)


KIND = Kind(
    name="transient",
    description="perturbation experiments from the steady state (inputs x k, warming), ages and transit times",
    sections={"transient": Section(build_transient, TransientSettings(), (
        "a transient scenario needs a `transient` section",
        "add `transient: {experiments: {input_plus_20: {years: 50, change: {c_input: {scale: 1.2}}}}}`"))},
    run=run_transient,
    report=report_section,
    check=check_transient,
    compared=(Compared("response.csv", ("member", "experiment", "output", "year")),),
    keeps=("beta_dependence.md", "ages.csv"),
)

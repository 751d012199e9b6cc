"""Kind ``regression``: a random-intercept mixed model on observations or virtual observations.

With ``data`` the regression runs once on a CSV. With ``virtual`` every model x variant
generates its own "measurements" at the same sites and the regression runs on each, so the
statistical ranking of predictors can be set beside a structure whose true sensitivities are
known (Tao et al. 2023; He et al. 2024). Virtual observations, for site i in source s:

* drivers drawn uniformly from the ``virtual.drivers`` box (one unit design for all members,
  mapped onto each member's bounds, as in ``sobol``);
* ``log10_soc = log10(soc_i) + u_s + e_i`` with u_s ~ N(0, source_sd), e_i ~ N(0, noise_sd)
  [log10(g C m-2)], and ``soc = 10**log10_soc`` [g C m-2];
* ``cue = cue_bulk_i + c_i`` with c_i ~ N(0, cue_noise_sd) [1]; ``npp = c_input_i``
  [g C m-2 yr-1].

All draws come from ``numpy.random.default_rng(seed)`` and are shared by the members.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import checks
from ..analysis import guard_failures, rank_by_total, sobol_indices
from ..errors import RunError
from ..members import Member
from ..mixed import MixedFit, fit_mixed
from ..page import Page, stored_section, stored_table
from ..plan import Plan
from ..report import (
    comparison_markdown,
    regression_comparison,
    regression_markdown,
    regression_rows,
    with_sobol_ranking,
)
from ..sampling import child_seed, member_values, unit_design
from ..spec import RegressionSettings, Section, VirtualSettings
from ..spec.schema import TRANSFORMS, Context, build_regression
from ..verdict_report import summary_labels
from ..vocabulary import PREDICTOR_DRIVERS
from .base import Compared, Kind
from .common import RunContext, RunOutcome, member_columns, variant_columns
from .sobol import represented_factors

#: the numpy function of each transform the schema allows (``regression.transform``): named alike
FUNCTIONS = {name: getattr(np, name) for name in TRANSFORMS}


def run_regression(ctx: RunContext) -> RunOutcome:
    """Write ``regression.csv`` and ``regression.md`` (and ``observations.csv`` when virtual)."""
    r = ctx.scenario.regression
    outcome = RunOutcome(settings={"regression": regression_settings(r)})
    ranking = None
    if r.virtual is None:
        table = fit_all(ctx.plan.inputs["data"], r, [{"member": "data"}], [None])
    else:
        data = _virtual_observations(ctx, r.virtual, outcome)
        columns = variant_columns(ctx.members)
        heads = [{**member_columns(m, columns), "member": m.label} for m in ctx.members]
        table = fit_all(data, r, heads, [data["member"] == m.label for m in ctx.members])
        ctx.files.csv("observations.csv", data)
        if r.virtual.sobol_n:
            ranking = sobol_ranking(ctx, r.virtual, outcome)
            ctx.files.csv("sobol_ranking.csv", ranking)
    write_regression(ctx, table, outcome, ranking)
    return outcome


def regression_settings(r: RegressionSettings) -> dict[str, Any]:
    """What the report needs to know of the fit (``summary.json``)."""
    return {"response": r.response, "predictors": list(r.predictors), "group": r.group, "data": r.data,
            "virtual": r.virtual is not None, "separately": r.separately}


def fit_all(data: pd.DataFrame, r: RegressionSettings, heads: list[dict[str, Any]],
            subsets: list[Any]) -> pd.DataFrame:
    """Every formula of ``r`` fitted to each subset of ``data`` (None: all rows).

    One block of rows per (head, formula) in :func:`regression_table`'s layout.
    """
    data = transformed(data, r)
    fits = []
    for head, subset in zip(heads, subsets):
        rows = data if subset is None else data[subset]
        for predictors in r.formulas():
            fit = fit_mixed(rows, r.response, list(predictors), r.group)
            fits.append(({**head, "formula": " + ".join(predictors)}, fit))
    return regression_table(fits)


def write_regression(ctx: RunContext, table: pd.DataFrame, outcome: RunOutcome,
                     ranking: pd.DataFrame | None = None) -> None:
    """``regression.csv``, ``regression.md`` and the printed comparison of predictors.

    The predictors are set beside each member's Sobol ranking of the drivers, when given.
    """
    r = ctx.scenario.regression
    unconverged = table.loc[~table["converged"], ["member", "formula"]].drop_duplicates()
    outcome.warnings += [f"{m} ({f}): the REML fit did not converge" for m, f in unconverged.itertuples(index=False)]
    comparison = regression_comparison(table, list(r.predictors), r.separately)
    if ranking is not None:
        comparison = with_sobol_ranking(comparison, ranking, list(r.predictors), PREDICTOR_DRIVERS)
    ctx.files.csv("regression.csv", table)
    ctx.files.text("regression.md", regression_markdown(table, ctx.scenario, comparison))
    outcome.tables.append(comparison_markdown(comparison))


def transformed(data: pd.DataFrame, r: RegressionSettings) -> pd.DataFrame:
    """``data`` with the ``transform`` columns added.

    Missing values stay missing (the fit drops their rows and reports how many it used); a present
    value outside the function's domain (e.g. log10 of 0, or text) raises ``RunError`` naming column
    and row.
    """
    out = data.copy()
    for name, func, source in r.transform:
        values = pd.to_numeric(out[source], errors="coerce").to_numpy(dtype=float)
        present = out[source].notna().to_numpy()
        with np.errstate(invalid="ignore"):
            bad = present & (~np.isfinite(values) | (values < 0 if func == "sqrt" else values <= 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise RunError(f"regression.transform.{name}: {func}({source}) is undefined at row {row + 2} "
                           f"({source} = {out[source].iloc[row]!r}); {int(bad.sum())} such rows")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(present, FUNCTIONS[func](np.where(present, values, 1.0)), np.nan)
    return out


def regression_table(fits: list[tuple[dict[str, Any], MixedFit]]) -> pd.DataFrame:
    """One row per fit x fixed effect, with the fit's variance summaries repeated."""
    frames = []
    for head, fit in fits:
        frame = fit.coefficients.copy()
        for key, value in reversed(head.items()):
            frame.insert(0, key, value)
        frame["rank"] = _ranks(frame)
        frame = frame.assign(sigma2=fit.sigma2, tau00=fit.tau00, icc=fit.icc, n_groups=fit.n_groups,
                             n_obs=fit.n_obs, r2_marginal=fit.r2_marginal, r2_conditional=fit.r2_conditional,
                             converged=fit.converged)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _ranks(frame: pd.DataFrame) -> np.ndarray:
    """Rank 1 = largest |standardised estimate|; 0 for the intercept."""
    magnitude = frame["estimate"].abs().where(frame["term"] != "(Intercept)")
    return magnitude.rank(ascending=False, method="min").fillna(0).astype(int).to_numpy()


def _virtual_observations(ctx: RunContext, v: VirtualSettings, outcome: RunOutcome) -> pd.DataFrame:
    draws = virtual_draws(v, ctx.scenario.seed)
    frames = []
    for member in ctx.members:
        sampled = _site_drivers(member, v, draws["unit"])
        mine = {k: x for k, x in sampled.items() if k in member.drivers and k not in member.variant}
        start = time.perf_counter()
        result = ctx.evaluate(member, v.sites, mine, what="virtual", keep=["soc", "cue_bulk"])
        entry = outcome.record(member, result, time.perf_counter() - start, "virtual")
        if entry["rows"] != entry["status"]["ok"]:
            outcome.warnings.append(f"{member.label}: {entry['rows'] - entry['status']['ok']} of {entry['rows']} "
                                    "virtual sites failed; the regression uses the others (see observations.csv)")
        soc = np.where(result.ok, result.get("soc"), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            log10_soc = np.log10(soc) + draws["offset"][draws["source"]] + draws["noise"]
        frame = pd.DataFrame({"member": member.label, "site": np.arange(1, v.sites + 1),
                              "source": [f"source{s + 1:02d}" for s in draws["source"]], **sampled})
        frame["npp"] = sampled.get("c_input", np.full(v.sites, member.drivers.get("c_input", np.nan)))
        frame["cue"] = np.where(result.ok, result.get("cue_bulk"), np.nan) + draws["cue_noise"]
        frame["log10_soc"] = log10_soc
        frame["soc"] = 10.0 ** log10_soc
        frame["status"] = result.columns()["status"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def sobol_ranking(ctx: RunContext, v: VirtualSettings, outcome: RunOutcome) -> pd.DataFrame:
    """Each member's own Sobol indices of log10 SOC over the virtual drivers' box.

    They are the truth the regression's ranking is set beside. Blocks with a failed row are dropped
    and counted (``blocks_dropped``), as a regression drops failed sites.
    """
    design = unit_design(v.drivers, v.sobol_n, child_seed(ctx.scenario.seed, "drivers"))
    rows = []
    for member in ctx.members:
        start = time.perf_counter()
        result = ctx.evaluate(member, design.unit.shape[0], member_values(member, design), what="virtual sobol",
                              keep=["soc"])
        outcome.record(member, result, time.perf_counter() - start, "virtual sobol")
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.log10(np.where(result.ok, result.get("soc"), np.nan))
        guarded = guard_failures(y, result.ok, design.block_size, "drop_blocks")
        if guarded.blocks_dropped:
            outcome.warnings.append(f"{member.label}: {guarded.blocks_dropped} of {guarded.blocks_total} Sobol blocks "
                                    "had a failed steady state and were dropped; its Sobol ranking describes the "
                                    "part of the box where it has one (see sobol_ranking.csv)")
        idx = sobol_indices(design.problem, guarded.y, False, 200, 0.95,
                            child_seed(ctx.scenario.seed, "bootstrap_drivers"))
        st = np.where(represented_factors(member, design), idx["ST"], np.nan)
        for j, (name, rank) in enumerate(zip(design.factors, rank_by_total(st))):
            rows.append({"member": member.label, "driver": name, "ST": st[j], "ST_conf": idx["ST_conf"][j],
                         "S1": idx["S1"][j], "S1_conf": idx["S1_conf"][j], "rank": int(rank),
                         "n_base": guarded.blocks_total - guarded.blocks_dropped,
                         "blocks_dropped": guarded.blocks_dropped})
    return pd.DataFrame(rows)


def virtual_draws(v: VirtualSettings, seed: int) -> dict[str, np.ndarray]:
    """The random parts of the virtual observations, shared by every member.

    Returns
    -------
    dict
        ``unit`` (sites, n_drivers) uniform in [0, 1); ``source`` (sites,) source index, each
        source used ``sites // sources`` or one more times; ``offset`` (sources,) [log10(g C m-2)];
        ``noise`` (sites,) [log10(g C m-2)]; ``cue_noise`` (sites,) [1].
    """
    rng = np.random.default_rng(seed)
    return {
        "unit": rng.random((v.sites, len(v.drivers))),
        "source": rng.permutation(np.arange(v.sites) % v.sources),
        "offset": rng.normal(0.0, v.source_sd, v.sources),
        "noise": rng.normal(0.0, v.noise_sd, v.sites),
        "cue_noise": rng.normal(0.0, v.cue_noise_sd, v.sites),
    }


def _site_drivers(member: Member, v: VirtualSettings, unit: np.ndarray) -> dict[str, np.ndarray]:
    """Absolute driver values at each site for ``member`` [driver units].

    A relative driver the member does not represent has no baseline to scale and is NaN.
    """
    out = {}
    for j, d in enumerate(v.drivers):
        if d.mode == "range" or d.name in member.drivers:
            out[d.name] = member.from_unit(d, unit[:, j])
        else:
            out[d.name] = np.full(unit.shape[0], np.nan)
    return out



def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The ``report.html`` section of a regression run (nothing if its files are missing)."""
    found = stored_section(out_dir, summary, "regression.csv", "regression")
    if found is None:
        return
    table, settings = found
    page.heading("Mixed-effects regression")
    joiner = " or " if settings.get("separately") else " + "
    if "formula" not in table:  # written before fits per formula existed
        table["formula"] = " + ".join(settings["predictors"])
    page.text(f"{settings['response']} ~ {joiner.join(settings['predictors'])} + (1 | {settings['group']}), REML; "
              "predictors z-scored; 95 % Wald CI, two-sided Wald p (not Satterthwaite); R² after Nakagawa & "
              "Schielzeth (2013). Full tables: regression.md.", "muted")
    comparison = regression_comparison(table, settings["predictors"], settings.get("separately", False))
    sobol = stored_table(out_dir, "sobol_ranking.csv")
    if sobol is not None:
        comparison = with_sobol_ranking(comparison, sobol, settings["predictors"], PREDICTOR_DRIVERS)
        page.text("Each model's own Sobol total indices of log10 SOC over the same box (the truth the regression "
                  "is set beside): sobol_ranking.csv.", "muted")
    labels = summary_labels(summary)
    page.table(comparison.assign(member=comparison["member"].map(lambda m: labels.get(m, m))))
    for (member, formula), block in table.groupby(["member", "formula"], sort=False):
        page.heading(f"{labels.get(member, member)}: {settings['response']} ~ {formula}", 3)
        page.table(regression_rows(block, settings["group"]), ["Predictors", "Estimates", "CI", "p"])


def _check(plan: Plan, ctx: Context) -> None:
    if "regression" in plan.scenario.given:
        plan.inputs["data"] = checks.check_regression(plan.scenario, plan.members, plan.in_domain, ctx,
                                                      every_model_valid=plan.every_model_valid)


REGRESSION_TABLE = Compared("regression.csv", ("member", "formula", "term"))

KIND = Kind(
    name="regression",
    description="mixed-effects regression of SOC on its drivers, on data or on virtual observations",
    sections={"regression": Section(build_regression, RegressionSettings(), (
        "a regression scenario needs a `regression` section",
        "add `regression: {data: observations.csv, response: log10_soc, predictors: [npp], group: source}`"))},
    run=run_regression,
    report=report_section,
    check=_check,
    varied=lambda s: tuple((d.name, d.path) for d in s.regression.virtual.drivers) if s.regression.virtual else (),
    compared=(REGRESSION_TABLE, Compared("sobol_ranking.csv", ("member", "driver"))),
)

"""Human-readable reports: ranked driver tables in Markdown (tabulate)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from tabulate import tabulate

CAVEATS = (
    "Sobol indices depend on the ranges sampled; each table states its ranges. "
    "Which driver dominates is a statement about a model under this prior box, not about the world. "
    "Drivers a model does not represent are shown as 'not represented', never as importance 0."
)


def pm(value: float, conf: float, signed: bool = False) -> str:
    """``value ± conf`` to 3 decimals (``+value`` when ``signed``), or a dash for NaN (not represented)."""
    if math.isnan(value):
        return "–"
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    return f"{text} ± {conf:.3f}" if not math.isnan(conf) else text


def ranking_markdown(indices: pd.DataFrame, scenario, ranges: dict[str, list[tuple]]) -> str:
    """One ranked table per member x output x level, drivers ordered by total index.

    A member that fails an integrity gate is listed unranked, with the reason.
    """
    s = scenario.sobol
    intervals = (f"{s.replicates} independent scrambles of {s.n // s.replicates}, ± = {s.confidence:.0%} Student-t "
                 "half-width over the replicates" if s.intervals == "replicates" else
                 f"one scramble, ± = {s.confidence:.0%} bootstrap half-width ({s.bootstrap} resamples)")
    scale = "ln of the output" if s.scale == "log" else "the raw output"
    lines = [
        f"# Sobol ranking: {scenario.name}",
        "",
        *([scenario.description.strip(), ""] if scenario.description.strip() else []),
        f"Indices of {scale}. N = {s.n} base samples ({intervals}), seed {scenario.seed}, "
        f"on_failure = {scenario.on_failure}. slope: least-squares change of the analysed output over the driver's "
        "box (its sign is the sign of the main effect); elasticity: d ln output / d ln driver at the baseline.",
        "",
        f"> {CAVEATS}",
        "",
    ]
    for member, block in indices.groupby("member", sort=False):
        lines += [f"## {member}", "", "Sampled ranges:", ""]
        lines.append(tabulate([(n, f"{lo:.4g}", f"{hi:.4g}", u) for n, lo, hi, u in ranges.get(member, [])],
                              headers=["driver", "lower", "upper", "units"], tablefmt="github"))
        lines.append("")
        for (output, level), table in block.groupby(["output", "level"], sort=False):
            units = table["units"].iloc[0]
            analysed = f"ln({output})" if table["scale"].iloc[0] == "ln" else output
            lines += [f"### {analysed}" + (f", {output} in [{units}]" if units else "") + f", by {level}", ""]
            gate = table["gate"].iloc[0]
            if isinstance(gate, str) and gate:
                lines += [f"**Not estimable, not ranked:** {gate}.", ""]
            lines += _ranked_table(table)
    return "\n".join(lines).rstrip() + "\n"


def by_rank(table: pd.DataFrame) -> pd.DataFrame:
    """Rows by rank (1 first), unranked rows (rank 0) last, ties by driver."""
    return table.assign(_r=table["rank"].where(table["rank"] > 0, 10**6)).sort_values(["_r", "driver"])


def _ranked_table(table: pd.DataFrame) -> list[str]:
    notes = set(table["note"].dropna()) - {""}
    if table["ST"].isna().all() and notes:
        return [f"_{'; '.join(sorted(notes))}_", ""]
    ordered = by_rank(table)
    body = [
        (r["rank"] or "", r["driver"], pm(r["ST"], r["ST_conf"]), pm(r["S1"], r["S1_conf"]),
         pm(r["slope"], r["slope_conf"], signed=True), _num(r["elasticity"]), r["note"] or "")
        for _, r in ordered.iterrows()
    ]
    return [tabulate(body, headers=["rank", "driver", "ST", "S1", "slope over box", "elasticity", "note"],
                     tablefmt="github"), ""]


def published_table(comparison: pd.DataFrame) -> str:
    """Published values beside ours, with the verdict of each comparison."""
    body = [(r.member, r.driver, r.output, r.quantity, f"{r.published:g}", f"{r.ours:.6g}", r.compared,
             r.tolerance, "yes" if r.holds else "NO") for r in comparison.itertuples()]
    return tabulate(body, headers=["model x variant", "driver", "output", "quantity", "published", "ours",
                                   "compared", "tolerance", "within"], tablefmt="github")


#: what the ``exact`` column of a local run is (printed above its tables)
EXACT = "exact: d ln S / d ln x at the baseline by the implicit function theorem"


def local_markdown(table: pd.DataFrame, scenario, comparison: pd.DataFrame | None) -> str:
    """Drivers ranked by |elasticity| per member x output, the exact elasticity beside, then the published comparison.

    Beside the ranked definition stands the exact elasticity (or, when ``exact`` is ranked, the
    central difference), so a finite difference that the step size spoils shows as the gap.
    """
    s = scenario.local
    lines = [f"# Local sensitivities: {scenario.name}", ""]
    if scenario.description.strip():
        lines += [scenario.description.strip(), ""]
    differences = f"difference of each output for relative perturbations of ±{s.h:g} of each driver"
    beside = "central" if s.definition == "exact" else "exact"
    lines += [
        (f"Elasticity = exact; central = central {differences}" if s.definition == "exact" else
         f"Elasticity = {s.definition} {differences}") + " around the member's baseline (signed; ranks by "
        "magnitude). Drivers a model does not represent are shown as 'not represented', never as 0.", "",
        f"{EXACT}.", "",
    ]
    for (member, output), block in table.groupby(["member", "output"], sort=False):
        units = block["units"].iloc[0]
        lines += [f"## {member}: {output}" + (f" [{units}]" if units else ""), ""]
        ordered = by_rank(block)
        body = [(r["rank"] or "", r["driver"], _num(r["elasticity"]), _num(r.get(beside, math.nan)), _num(r["S0"]),
                 _num(r["ratio_plus"]), _num(r["ratio_minus"]), r["note"] or "") for _, r in ordered.iterrows()]
        lines += [tabulate(body, headers=["rank", "driver", f"elasticity ({s.definition})", beside, "S0", "S+/S0",
                                          "S-/S0", "note"], tablefmt="github"), ""]
    if comparison is not None:
        lines += ["## Published values", "", published_table(comparison), ""]
    return "\n".join(lines).rstrip() + "\n"


def _num(value: float) -> str:
    return "–" if value != value else f"{value:.4g}"


def _p_value(p: float) -> str:
    """``p`` as the papers print it: ``<0.001`` below one in a thousand, else 3 decimals."""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def regression_comparison(table: pd.DataFrame, predictors: list[str], separately: bool = False) -> pd.DataFrame:
    """Per member: the predictor ranked first and every standardised estimate.

    With one fit of all predictors the rank is by |estimate|, with R² of that fit; fitted
    ``separately`` (the Reply's "SOC ~ CUE or NPP") the rank is by each fit's marginal R².
    """
    rows = []
    for member, block in table.groupby("member", sort=False):
        terms = block[block["term"] != "(Intercept)"].set_index("term")
        row = {"member": member}
        if separately:
            r2m = terms["r2_marginal"]
            row["ranked first"] = str(r2m.idxmax()) if r2m.notna().any() else ""
            row |= {p: float(terms["estimate"].get(p, math.nan)) for p in predictors}
            row |= {f"R²m {p}": float(r2m.get(p, math.nan)) for p in predictors}
            row |= {f"N {p}": int(terms["n_obs"].get(p, 0)) for p in predictors}
        else:
            first = block.loc[block["rank"] == 1, "term"]
            row["ranked first"] = first.iloc[0] if len(first) else ""
            row |= {p: float(terms["estimate"].get(p, math.nan)) for p in predictors}
            row |= {"R²m": float(block["r2_marginal"].iloc[0]), "R²c": float(block["r2_conditional"].iloc[0])}
        rows.append(row)
    return pd.DataFrame(rows)


def with_sobol_ranking(comparison: pd.DataFrame, sobol: pd.DataFrame, predictors: list[str],
                       drivers: Mapping[str, str]) -> pd.DataFrame:
    """``comparison`` with each member's own Sobol ranking of the drivers behind the predictors.

    ``drivers`` maps predictor -> driver (e.g. cue -> cue_scale). Added: their total indices, the
    one ranked first, whether the regression ranked the same predictor first, and the driver with
    the largest total index of all sampled (a predictor may stand in for it).
    """
    out = comparison.copy()
    behind = {p: drivers.get(p, p) for p in predictors}
    table = sobol.set_index(["member", "driver"])
    firsts, agree, tops = [], [], []
    for i, row in out.iterrows():
        st = {p: table["ST"].get((row["member"], d), math.nan) for p, d in behind.items()}
        for p, d in behind.items():
            conf = table["ST_conf"].get((row["member"], d), math.nan)
            out.loc[i, f"Sobol ST {d}"] = pm(st[p], conf) if st[p] == st[p] else "–"
        known = {p: v for p, v in st.items() if v == v}
        first = max(known, key=known.__getitem__) if known else ""
        firsts.append(first)
        agree.append("yes" if first and first == row["ranked first"] else "NO")
        mine = sobol[(sobol["member"] == row["member"]) & (sobol["rank"] == 1)]
        tops.append(f"{mine['driver'].iloc[0]} ({mine['ST'].iloc[0]:.3f})" if len(mine) else "")
    out["Sobol ranks first"] = firsts
    out["same first"] = agree
    out["Sobol top driver (ST)"] = tops
    return out


def comparison_markdown(comparison: pd.DataFrame) -> str:
    """The comparison table of :func:`regression_comparison` in GitHub Markdown."""
    return tabulate(comparison, headers="keys", tablefmt="github", showindex=False, floatfmt=".3f")


def regression_markdown(table: pd.DataFrame, scenario, comparison: pd.DataFrame) -> str:
    """One table per fit laid out like the papers' (sjPlot ``tab_model``) tables.

    Predictors are z-scored, so estimates are per standard deviation of the predictor; CI is
    the 95 % Wald interval, p the two-sided Wald test.
    """
    r = scenario.regression
    if r.virtual:
        source = f"virtual observations ({r.virtual.sites} sites, {r.virtual.sources} sources, seed {scenario.seed})"
    elif scenario.kind == "grid":
        source = f"the land cells of `{scenario.grid.forcing}`, one group per model x variant and observation layer"
    else:
        source = f"`{r.data}`"
    formulas = " or ".join(r.predictors) if r.separately else " + ".join(r.predictors)
    lines = [f"# Mixed-effects regression: {scenario.name}", "",
             *([scenario.description.strip(), ""] if scenario.description.strip() else []),
             f"{r.response} ~ {formulas} + (1 | {r.group}), REML, on {source}. "
             "Predictors are z-scored; CI = 95 % Wald interval, p = two-sided Wald test (not Satterthwaite); "
             "R² after Nakagawa & Schielzeth (2013).", ""]
    if len(comparison) > 1 or r.separately:
        lines += ["## Which predictor the regression ranks first", "", comparison_markdown(comparison), ""]
    for (member, formula), block in table.groupby(["member", "formula"], sort=False):
        lines += [f"## {member}: {r.response} ~ {formula}", "",
                  tabulate(regression_rows(block, r.group), headers=["Predictors", "Estimates", "CI", "p"],
                           tablefmt="github"), ""]
    return "\n".join(lines).rstrip() + "\n"


def regression_rows(block: pd.DataFrame, group: str) -> list[tuple[str, str, str, str]]:
    """One fit's rows of ``regression.csv`` as the papers print them (sjPlot ``tab_model``)."""
    first = block.iloc[0]
    body = [(t.term, f"{t.estimate:.3f}", f"{t.ci_low:.3f} – {t.ci_high:.3f}", _p_value(t.p))
            for t in block.itertuples()]
    return body + [("**Random effects**", "", "", ""), ("σ²", f"{first['sigma2']:.4f}", "", ""),
                   (f"τ00 {group}", f"{first['tau00']:.4f}", "", ""), ("ICC", f"{first['icc']:.3f}", "", ""),
                   (f"N {group}", str(first["n_groups"]), "", ""), ("Observations", str(first["n_obs"]), "", ""),
                   ("Marginal R² / Conditional R²", f"{first['r2_marginal']:.3f} / {first['r2_conditional']:.3f}",
                    "", "")]


def _g(value: float, digits: int = 3) -> str:
    return "–" if value != value else f"{value:.{digits}g}"


def calibration_markdown(scenario, summary: pd.DataFrame, predictions: pd.DataFrame, fit: pd.DataFrame,
                         comparison: pd.DataFrame, sampling: pd.DataFrame, rhat_max: float, brief: bool = False) -> str:
    """``calibration.md``: posteriors with R-hat and ESS, the fit per member, LOO/WAIC, failures."""
    c = scenario.calibrate
    worst = summary["r_hat"].max()
    lines = [] if brief else [
        f"# Calibration: {scenario.name}", "",
        f"Observations: {predictions['observed'].groupby(predictions['member']).size().iloc[0]} rows of "
        f"`{c.file}`, column `{c.column}` [{c.units}] against output `{c.output}`; error model {c.error_model} "
        f"(sigma {'calibrated' if not isinstance(c.sigma, float) else f'= {c.sigma:g}'}"
        f"{' [1, on log scale]' if c.error_model == 'lognormal' else f' [{c.units}]'}). Drivers from the table: "
        + ", ".join(f"{d.name} ← `{d.column}` [{d.units}]" for d in c.drivers) + ".",
        f"Sampler: {c.sampler}, {c.chains} chains × {c.draws} draws"
        + (f" after {c.tune} tuning steps" if c.sampler != "SMC" else "")
        + (f" (target acceptance {c.target_accept:g}, {c.mass_matrix} mass matrix)" if c.sampler == "NUTS" else "")
        + f", seed {scenario.seed}. "
        "Intervals are central 90 % posterior intervals.", ""]
    lines += [f"## Posterior (largest R-hat {worst:.4f}: {'all ≤' if worst <= rhat_max else 'NOT all ≤'} {rhat_max})", ""]
    body: list[tuple[Any, ...]]  # one table after another, each with its own columns
    body = [(r["member"], r["quantity"], r["prior"], _g(r["mean"], 4), _g(r["sd"]), f"[{_g(r['q05'], 4)}, {_g(r['q95'], 4)}]",
             f"{r['r_hat']:.4f}", f"{r['ess_bulk']:.0f}", f"{r['ess_tail']:.0f}") for _, r in summary.iterrows()]
    lines += [tabulate(body, headers=["model x variant", "quantity", "prior", "mean", "sd", "90 % interval", "R-hat",
                                      "ESS bulk", "ESS tail"], tablefmt="github"), ""]
    lines += ["## Fit to the observations (posterior median prediction)", ""]
    body = [(r["member"], r["n"], _g(r["rmse"], 4), _g(r["r2"]), _g(r["rmse_log"]), f"{r['inside_90']} of {r['n']}")
            for _, r in fit.iterrows()]
    lines += [tabulate(body, headers=["model x variant", "n", f"RMSE [{c.units}]", "R²", "RMSE of ln",
                                      "observed inside 90 % predictive interval"], tablefmt="github"), ""]
    lines += ["## Model comparison (PSIS-LOO; WAIC beside it)", ""]
    body = [(r["rank"], r["member"], f"{r['elpd_loo']:.2f} ± {r['elpd_loo_se']:.2f}",
             f"{r['delta_elpd_loo']:.2f} ± {r.get('delta_elpd_loo_se', float('nan')):.2f}",
             f"{r['p_loo']:.2f}", r["pareto_k_over_0.7"], f"{r['elpd_waic']:.2f} ± {r['elpd_waic_se']:.2f}")
            for _, r in comparison.iterrows()]
    lines += [tabulate(body, headers=["rank", "model x variant", "elpd_loo", "Δ elpd_loo", "p_loo", "Pareto k > 0.7",
                                      "elpd_waic"], tablefmt="github"), "",
              "Higher elpd is better; Δ is the difference to the first, ± the standard error of that "
              "difference (from the pointwise differences); a Δ smaller than about twice it does not separate two "
              "members. Pareto k > 0.7 marks observations for which the LOO estimate is unreliable.", ""]
    if brief:
        return "\n".join(lines).rstrip() + "\n"
    lines += ["## Observed and predicted", ""]
    body = [(r["member"], r[c.id_column], _g(r["observed"], 4), _g(r["predicted_median"], 4),
             f"[{_g(r['predicted_q05'], 4)}, {_g(r['predicted_q95'], 4)}]",
             f"[{_g(r['predictive_q05'], 4)}, {_g(r['predictive_q95'], 4)}]") for _, r in predictions.iterrows()]
    lines += [tabulate(body, headers=["model x variant", c.id_column, f"observed [{c.units}]", "steady state, median",
                                      "steady state, 90 %", "predictive 90 % (with error)"], tablefmt="github"), ""]
    calls, failed = int(sampling["likelihood_calls"].sum()), int(sampling["failed_calls"].sum())
    lines += ["## Sampling and failed steady states", "",
              f"{failed} of {calls} likelihood calls had a failed steady state at some site; each got zero "
              "likelihood (the proposal was rejected).", ""]
    if c.sampler == "NUTS":
        lines += [divergence_text(sampling), ""]
    body = [(r["member"], r["chain"], r["draws"], _g(r["acceptance"]),
             "–" if pd.isna(r["divergent"]) else f"{r['divergent']:.0f} ({r['divergent_at_failure']:.0f})",
             r["likelihood_calls"], r["failed_calls"], r["failed_sites"] or "–") for _, r in sampling.iterrows()]
    lines += [tabulate(body, headers=["model x variant", "chain", "draws", "acceptance",
                                      "divergent after tuning (at a failed steady state)", "likelihood calls",
                                      "failed calls", "failed sites by status"], tablefmt="github"), ""]
    return "\n".join(lines).rstrip() + "\n"


def divergence_text(sampling: pd.DataFrame) -> str:
    """What NUTS's divergences after tuning (``sampling.csv``) mean for the draws, in one paragraph."""
    total, at_failure = int(sampling["divergent"].sum()), int(sampling["divergent_at_failure"].sum())
    text = f"{total} of {int(sampling['draws'].sum())} NUTS transitions after tuning diverged."
    if at_failure:
        text += (f" {at_failure} of them stopped at a proposal without a steady state (zero likelihood): NUTS "
                 "ends the trajectory there from whichever of its points it started, so the draws stay exact and "
                 "only the ESS per likelihood call drops.")
    if total > at_failure:
        text += (f" {total - at_failure} diverged at a finite energy error (steps too large for the posterior's "
                 "curvature): the draws may be biased there; raise calibrate.sampler.target_accept.")
    return text

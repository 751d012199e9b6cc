"""Human-readable reports: ranked driver tables in Markdown (tabulate)."""

from __future__ import annotations

import math

import pandas as pd
from tabulate import tabulate

CAVEATS = (
    "Sobol indices depend on the ranges sampled; each table states its ranges. "
    "Which driver dominates is a statement about a model under this prior box, not about the world. "
    "Drivers a model does not represent are shown as 'not represented', never as importance 0."
)


def _pm(value: float, conf: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.3f} ± {conf:.3f}"


def ranking_markdown(indices: pd.DataFrame, scenario, ranges: dict[str, list[tuple]]) -> str:
    """One ranked table per member x output x level, drivers ordered by total index."""
    s = scenario.sobol
    lines = [
        f"# Sobol ranking: {scenario.name}",
        "",
        *([scenario.description.strip(), ""] if scenario.description.strip() else []),
        f"N = {s.n} base samples, {s.bootstrap} bootstrap resamples, ± = {s.confidence:.0%} "
        f"confidence half-width, seed {scenario.seed}, on_failure = {scenario.on_failure}.",
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
            lines += [f"### {output}" + (f" [{units}]" if units else "") + f", by {level}", ""]
            lines += _ranked_table(table)
    return "\n".join(lines).rstrip() + "\n"


def _ranked_table(table: pd.DataFrame) -> list[str]:
    notes = set(table["note"].dropna()) - {""}
    if table["rank"].eq(0).all() and notes:
        return [f"_{'; '.join(sorted(notes))}_", ""]
    ordered = table.assign(_r=table["rank"].where(table["rank"] > 0, 10**6)).sort_values(["_r", "driver"])
    body = [
        (r["rank"] or "", r["driver"], _pm(r["ST"], r["ST_conf"]), _pm(r["S1"], r["S1_conf"]), r["note"] or "")
        for _, r in ordered.iterrows()
    ]
    return [tabulate(body, headers=["rank", "driver", "ST", "S1", "note"], tablefmt="github"), ""]


def published_table(comparison: pd.DataFrame) -> str:
    """Published values beside ours, with the verdict of each comparison."""
    body = [(r.member, r.driver, r.output, r.quantity, f"{r.published:g}", f"{r.ours:.6g}", r.compared,
             r.tolerance, "yes" if r.holds else "NO") for r in comparison.itertuples()]
    return tabulate(body, headers=["model x variant", "driver", "output", "quantity", "published", "ours",
                                   "compared", "tolerance", "within"], tablefmt="github")


def local_markdown(table: pd.DataFrame, scenario, comparison: pd.DataFrame | None) -> str:
    """Drivers ranked by |elasticity| per member x output, then the published comparison."""
    s = scenario.local
    lines = [f"# Local sensitivities: {scenario.name}", ""]
    if scenario.description.strip():
        lines += [scenario.description.strip(), ""]
    lines += [
        f"Elasticity = {s.definition} difference of each output for relative perturbations of ±{s.h:g} "
        "of each driver around the member's baseline (signed; ranks by magnitude). Drivers a model "
        "does not represent are shown as 'not represented', never as 0.", "",
    ]
    for (member, output), block in table.groupby(["member", "output"], sort=False):
        units = block["units"].iloc[0]
        lines += [f"## {member}: {output}" + (f" [{units}]" if units else ""), ""]
        ordered = block.assign(_r=block["rank"].where(block["rank"] > 0, 10**6)).sort_values(["_r", "driver"])
        body = [(r["rank"] or "", r["driver"], _num(r["elasticity"]), _num(r["S0"]), _num(r["ratio_plus"]),
                 _num(r["ratio_minus"]), r["note"] or "") for _, r in ordered.iterrows()]
        lines += [tabulate(body, headers=["rank", "driver", "elasticity", "S0", "S+/S0", "S-/S0", "note"],
                           tablefmt="github"), ""]
    if comparison is not None:
        lines += ["## Published values", "", published_table(comparison), ""]
    return "\n".join(lines).rstrip() + "\n"


def _num(value: float) -> str:
    return "–" if value != value else f"{value:.4g}"

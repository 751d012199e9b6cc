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

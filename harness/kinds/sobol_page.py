"""Kind ``sobol``'s section of ``report.html``: the verdict, then every model x variant's indices."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import plots
from ..page import Page, signed_number, stored_table
from ..report import by_rank, pm
from ..verdict_report import settings_text, verdict_sections


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The verdict and the per-member tables and figures."""
    verdict_section(page, out_dir, summary)
    members_section(page, out_dir, summary)


def verdict_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The verdict part of a Sobol run's ``report.html`` section."""
    verdict = stored_table(out_dir, "verdict.csv")
    settings = summary.get("settings", {})
    if verdict is None or "sobol" not in settings:
        return
    frames = [stored_table(out_dir, name) for name in ("votes.csv", "beta_effects.csv", "crossover.csv")]
    votes, effects, crossovers = (f if f is not None else pd.DataFrame() for f in frames)
    page.heading("Verdict: CUE or carbon input?")
    page.text(settings_text(settings["sobol"], settings["box"], settings["on_failure"]), "muted")
    for output, sections in verdict_sections(verdict, votes, effects, crossovers, settings["sobol"], settings["box"]):
        page.heading(f"{output}", 3)
        for section in sections:
            page.heading(section.title, 4)
            for block in section.blocks:
                if block[0] == "table":
                    page.table(block[2], block[1])
                else:
                    page.text(block[1], "verdict")


def members_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The per model x variant part of a Sobol run's ``report.html`` section.

    One figure per model (every variant side by side), then each variant's tables.
    """
    indices = stored_table(out_dir, "indices.csv")
    if indices is None:
        return
    convergence = stored_table(out_dir, "convergence.csv")
    attribution = stored_table(out_dir, "attribution.csv")
    page.heading("Per model x variant")
    for model, of_model in indices.groupby("model", sort=False):
        page.heading(model, 3)
        _variants_figure(page, model, of_model[of_model["level"] == "driver"])
        for member, block in of_model.groupby("member", sort=False):
            page.heading(member, 4)
            _member_tables(page, block, convergence)
            if attribution is not None:
                mine = attribution[attribution["member"] == member]
                if not mine.empty:
                    page.table([(r["analysis"].replace("_", " "), r["output"], r["factor"], f"{r['value']:.4g}",
                                 r["units"]) for _, r in mine.iterrows()],
                               ["attribution", "output", "factor", "value", "units"])


def _variants_figure(page: Page, model: str, drivers: pd.DataFrame) -> None:
    """ST and S1 of the first output for every variant of ``model`` in one figure."""
    if drivers.empty or not drivers["ST"].notna().any():
        return
    output = drivers["output"].iloc[0]
    first = drivers[drivers["output"] == output]
    scale = f"ln({output})" if first["scale"].iloc[0] == "ln" else output
    page.plot(f"sobol_{model}", f"Sobol indices of {scale} for every variant of {model}: ST (bars, with confidence "
              "half-widths) and S1 (black ticks); hatched: not estimable, not ranked (the reason is under its table)",
              plots.sobol_variants, first, f"{model}: {scale}")


def _member_tables(page: Page, block: pd.DataFrame, convergence: pd.DataFrame | None) -> None:
    """One member's ranked driver table per output, with its convergence, and its group table."""
    member = block["member"].iloc[0]
    drivers = block[block["level"] == "driver"]
    for output, table in drivers.groupby("output", sort=False):
        gate = table["gate"].iloc[0] if "gate" in table else ""
        if isinstance(gate, str) and gate:
            page.text(f"**{output}: not estimable, not ranked.** {gate}.", "verdict")
        scale = f"ln({output})" if table["scale"].iloc[0] == "ln" else output
        ranked = by_rank(table)
        page.table([(r["rank"] or "", r["driver"], pm(r["ST"], r["ST_conf"]), pm(r["S1"], r["S1_conf"]),
                     pm(r["slope"], r["slope_conf"], signed=True), signed_number(r["elasticity"]),
                     r["note"] if isinstance(r["note"], str) else "") for _, r in ranked.iterrows()],
                   [f"rank ({scale})", "driver", "ST", "S1", "slope over box", "elasticity at baseline", "note"])
        mine = None if convergence is None else convergence[(convergence["member"] == member)
                                                            & (convergence["output"] == output)]
        if mine is not None and not mine.empty:
            same = "the same" if mine["top_stable"].iloc[0] else "NOT the same"
            page.text(f"Top-3 drivers by ST of {scale}: {same} order at N/2 = {int(mine['n_base_half'].max())} and "
                      f"N = {int(mine['n_base'].max())} base samples (convergence.csv).", "muted")
    groups = block[block["level"] == "group"]
    if not groups.empty:
        page.table([(r["output"], r["driver"], pm(r["ST"], r["ST_conf"]), pm(r["S1"], r["S1_conf"]))
                    for _, r in groups.iterrows()], ["output", "group", "ST", "S1"])

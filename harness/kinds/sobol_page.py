"""Kind ``sobol``'s section of ``report.html``.

First the scorecard, which answers the question at a glance: one sentence (``headline``), one
overview figure (per model x variant, ST(c_input)/ST(cue_scale) with the sign of the CUE effect,
and the crossover ratio k) and the votes, one row per model. Everything else is in collapsible
sections, closed: how to read the numbers, the full verdict per output, every model x variant's
indices and convergence, the derivative-based bounds on the total indices (``dgsm.csv``) and the
attribution of SOC variance.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from .. import plots
from ..page import Page, signed_number, stored_table
from ..report import by_rank, pm
from ..verdict_report import display_labels, greek, headline, settings_text, verdict_sections
from .reconciliation import HEADERS, NOTE, answers, printed_rows

#: answers with no value to draw (verdict.csv ``answer``)
NO_VALUE = ("not estimable", "failed", "not represented")


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The scorecard, then the details: method, full verdict, per-member indices, DGSM bounds, attribution."""
    verdict_section(page, out_dir, summary)
    reconciliation_section(page, out_dir)
    members_section(page, out_dir, summary)
    dgsm_section(page, out_dir, summary)
    attribution_section(page, out_dir, summary)


def reconciliation_section(page: Page, out_dir: Path) -> None:
    """Prior box against posterior across structures (``reconciliation.csv``), when the run has posterior twins."""
    table, verdict = stored_table(out_dir, "reconciliation.csv"), stored_table(out_dir, "verdict.csv")
    if table is None or verdict is None or table.empty:
        return
    page.heading("Reconciliation: did assimilation bring the structures together?")
    for answer in answers(table):
        page.text(answer + ".", "verdict")
    page.table(printed_rows(table), HEADERS)
    page.text(NOTE, "muted")
    for output in table["output"]:
        page.plot(f"reconciliation_{output}", f"{output}: ln(ST(c_input)/ST(cue_scale)) of every structure over the "
                  "prior box (open) and its posterior (filled), with intervals; the marker is the sign of the CUE "
                  "effect. Right: the spread across structures (sd of ln ratio) under each, with its interval "
                  "(docs/verdict.md section 12).", plots.reconciliation, verdict, table, output)


def verdict_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The scorecard (sentence, overview figure, votes) and, collapsed, the full verdict per output."""
    verdict = stored_table(out_dir, "verdict.csv")
    settings = summary.get("settings", {})
    if verdict is None or "sobol" not in settings:
        return
    frames = [stored_table(out_dir, name) for name in ("votes.csv", "beta_effects.csv", "crossover.csv")]
    votes, effects, crossovers = (f if f is not None else pd.DataFrame() for f in frames)
    sobol, box = settings["sobol"], settings["box"]
    outputs = list(dict.fromkeys(verdict["output"]))
    scale = "ln " if sobol["scale"] == "log" else ""
    page.heading("Verdict: CUE or carbon input?")
    page.headline(headline(verdict, votes, crossovers, sobol))
    h_cue, box_ratio = _crossover_width(crossovers, box)
    marks = " and ".join(f"{scale}{o} ({'filled' if i == 0 else 'open' if i == 1 else f'fill {i + 1}'})"
                         for i, o in enumerate(outputs))
    page.plot("overview", f"Per model × variant: left, the importance of input relative to CUE, "
              f"ST(c_input)/ST(cue_scale) of {marks} over the scenario's box, with its "
              f"{sobol['confidence']:.0%} interval (> 1: input outranks CUE); the marker is the sign of the CUE effect "
              "over the box. "
              + (f"Right, the crossover ratio k at cue_scale ±{h_cue:.0%}: input outranks CUE once its relative "
                 "half-width exceeds k times that of CUE (dashed: this box's ratio). " if h_cue is not None else "")
              + "Members that are not estimable are named, not drawn.",
              plots.overview, _overview_rows(verdict, crossovers, h_cue), outputs, scale, box_ratio, h_cue,
              sobol["confidence"])
    if not votes.empty:
        _votes_table(page, votes, outputs)
    page.text(f"Sobol total indices of {scale}output over the box {box}; N = {sobol['n']} base samples"
              + (f" in {sobol['replicates']} independent scrambles" if sobol["intervals"] == "replicates" else "")
              + ". How every number is computed: the first section below and docs/verdict.md.", "muted")
    with page.details("How to read these numbers", "scale, box, design, gates, sign"):
        page.text(settings_text(sobol, box, settings["on_failure"]), "muted")
    for output, sections in verdict_sections(verdict, votes, effects, crossovers, sobol, box):
        with page.details(f"Full verdict for {output}", "crossover, votes, every model × variant"
                          + (", He et al.'s β claim" if any(s.title.startswith("He et al.") for s in sections) else "")):
            for section in sections:
                page.heading(section.title, 4)
                for block in section.blocks:
                    if block[0] == "table":
                        page.table([tuple(greek(c) if isinstance(c, str) else c for c in row) for row in block[2]],
                                   [greek(h) for h in block[1]])
                    else:
                        page.text(greek(block[1]), "verdict")


def _crossover_width(crossovers: pd.DataFrame, box: str) -> tuple[float | None, float | None]:
    """The cue_scale half-width of crossover.csv nearest the box's, and the box's c_input/cue_scale ratio.

    The box's relative half-widths are read from its text (``c_input ×[0.5, 1.5]``); None where
    crossover.csv is empty, or the box does not sample both drivers as multipliers.
    """
    widths = {m[1]: (float(m[3]) - float(m[2])) / 2 for m in re.finditer(r"(\w+) ×\[([^,\]]+), ([^\]]+)\]", box)}
    ratio = widths["c_input"] / widths["cue_scale"] if widths.get("cue_scale") and "c_input" in widths else None
    if crossovers.empty:
        return None, ratio
    grid = sorted(crossovers["h_cue"].unique())
    if "cue_scale" not in widths:
        return float(grid[len(grid) // 2]), ratio
    return float(min(grid, key=lambda h: abs(math.log(h / widths["cue_scale"])))), ratio


def _overview_rows(verdict: pd.DataFrame, crossovers: pd.DataFrame, h_cue: float | None) -> pd.DataFrame:
    """The rows of ``plots.overview``: verdict.csv's ratio and sign, crossover.csv's k at ``h_cue``."""
    labels = display_labels(verdict)
    rows = pd.DataFrame({
        "label": verdict["member"].map(lambda m: greek(labels.get(m, str(m)))), "member": verdict["member"],
        "model": verdict["model"], "output": verdict["output"], "ratio": verdict["ratio"],
        "ratio_low": verdict["ratio_low"], "ratio_high": verdict["ratio_high"],
        "cue_effect": verdict["cue_effect"].map(lambda v: v if isinstance(v, str) and v else "unclear"),
        "status": verdict["answer"].where(verdict["answer"].isin(NO_VALUE), "")})
    drawable = rows["ratio"].map(lambda v: math.isfinite(v) and v > 0)
    rows.loc[~drawable & (rows["status"] == ""), "status"] = "no ratio"  # never drawn as a value
    if h_cue is None or crossovers.empty:
        return rows
    at = crossovers[(crossovers["h_cue"] - h_cue).abs() < 1e-9]
    keep = ["member", "output", "k", "k_low", "k_high", "ratio_min", "ratio_max", "state"]
    return rows.merge(at[keep], on=["member", "output"], how="left")


def _votes_table(page: Page, votes: pd.DataFrame, outputs: list[str]) -> None:
    """One row per model (and inputs): its vote for every output, and the answers behind the first."""
    keys = ["model", "inputs"] if "inputs" in votes else ["model"]
    by = votes.set_index([*keys, "output"])
    first = votes[votes["output"] == outputs[0]]
    rows = []
    for _, r in first.iterrows():
        key = tuple(r[k] for k in keys)
        shown = [greek(str(by.at[(*key, o), "vote"])) if (*key, o) in by.index else "–" for o in outputs]
        rows.append((*key, f"{r['variants']} ({r['distinct']})", *shown, greek(str(r["answers"]))))
    page.table(rows, [*keys, "variants (distinct)", *(f"vote: {o}" for o in outputs),
                      f"answers of the distinct variants ({outputs[0]})"])


def members_section(page: Page, out_dir: Path, summary: dict) -> None:
    """Every model x variant's indices, collapsed: one figure per model (every variant and output), its tables."""
    indices = stored_table(out_dir, "indices.csv")
    if indices is None:
        return
    convergence = stored_table(out_dir, "convergence.csv")
    labels = display_labels(indices) if {"model", "member"} <= set(indices.columns) else {}
    note = ""
    if convergence is not None and not convergence.empty:
        stable = convergence.drop_duplicates(["member", "output"])["top_stable"].astype(bool)
        note = f"top-3 drivers the same at N/2 and N in {int(stable.sum())} of {len(stable)} model × variant × output"
    with page.details("Sobol indices of every model × variant", note or "figures and ranked tables"):
        page.text("ST: total index; S1: first order (both with their confidence half-widths); slope: change of the "
                  "analysed output from the lower to the upper end of the driver's box (best additive linear fit); "
                  "elasticity: d ln output / d ln driver at the member's baseline.", "muted")
        for model, of_model in indices.groupby("model", sort=False):
            members = list(dict.fromkeys(of_model["member"]))
            with page.details(model, f"{len(members)} variant{'s' if len(members) > 1 else ''}"):
                _variants_figure(page, model, of_model[of_model["level"] == "driver"], labels)
                for member, block in of_model.groupby("member", sort=False):
                    page.heading(greek(labels.get(member, member)), 4)
                    _member_tables(page, block, convergence)


def _variants_figure(page: Page, model: str, drivers: pd.DataFrame, labels: dict[str, str]) -> None:
    """ST and S1 of every output for every variant of ``model`` in one figure (one panel per output)."""
    if drivers.empty or not drivers["ST"].notna().any():
        return
    outputs = list(dict.fromkeys(drivers["output"]))
    scales = [f"ln({o})" if drivers.loc[drivers["output"] == o, "scale"].iloc[0] == "ln" else o for o in outputs]
    shown = {m: greek(labels.get(m, m)) for m in drivers["member"].unique()}
    page.plot(f"sobol_{model}", f"Sobol indices of {' and '.join(scales)} for every variant of {model}: ST (bars, with "
              "confidence half-widths) and S1 (black ticks); hatched: not estimable, not ranked (the reason is under "
              "its table)", plots.sobol_variants, drivers, model, shown)


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
            page.text(f"Convergence: top-3 drivers by ST of {scale} {same} at N/2 = {int(mine['n_base_half'].max())} "
                      f"and N = {int(mine['n_base'].max())} base samples (convergence.csv).", "muted")
    groups = block[block["level"] == "group"]
    if not groups.empty:
        page.table([(r["output"], r["driver"], pm(r["ST"], r["ST_conf"]), pm(r["S1"], r["S1_conf"]))
                    for _, r in groups.iterrows()], ["output", "group", "ST", "S1"])


#: what the DGSM table shows (dgsm.csv)
DGSM = ("ν_i = E[(∂f/∂x_i)²] of f = {scale}output (the scale of the indices), from the exact steady-state "
        "derivatives (implicit function theorem) at the first base samples of the design (rows used: of those "
        "evaluated, N = all base samples). For a driver uniform on [a, b] the Poincaré inequality bounds its total "
        "index, ST_i ≤ (b − a)² ν_i / (π² Var f); a group's ST is bounded by the sum over its drivers (total effects "
        "are subadditive). Each cell: Sobol ST ± its interval ≤ the bound; **bold** where the lower end of the "
        "interval exceeds the bound. A bound about 1.2 × ST (12/π², a linear response) says the output responds "
        "smoothly and almost linearly over the box; far above ST, curvature or interactions; a small bound rules the "
        "factor out. ν per driver with its units, and every count: dgsm.csv; method: docs/verdict.md section 11.")


def dgsm_section(page: Page, out_dir: Path, summary: dict) -> None:
    """dgsm.csv's Poincaré bounds beside the Sobol ST, one table per output (every member a row), collapsed."""
    table = stored_table(out_dir, "dgsm.csv")
    if table is None or "bound" not in table:
        return
    labels = display_labels(table) if {"model", "member"} <= set(table.columns) else {}
    judged = table[table["holds"].isin(["yes", "no"])]
    failing = int((judged["holds"] == "no").sum())
    note = (f"ST within its bound for {len(judged) - failing} of {len(judged)} drivers and groups"
            + (f"; **{failing} exceed it**" if failing else ""))
    level = "group" if (table["level"] == "group").any() else "driver"
    with page.details("Derivative-based bounds on the total indices (DGSM)", note):
        scale = "ln " if (table["scale"] == "ln").all() else ""
        page.text(DGSM.format(scale=scale), "muted")
        for output, block in table[table["level"] == level].groupby("output", sort=False):
            factors = list(dict.fromkeys(block["factor"]))
            page.heading(f"Bounds on ST of {scale}{output} by {level}", 4)
            rows = []
            for member, mine in block.groupby("member", sort=False):
                by, first = mine.set_index("factor"), mine.iloc[0]
                rows.append((greek(labels.get(member, member)), *(_bound_cell(by.loc[f]) for f in factors),
                             _rows_used(first), _dgsm_note(first)))
            page.table(rows, ["model × variant", *factors, "rows used", "note"])


def _bound_cell(row: pd.Series) -> str:
    """``ST ± half-width ≤ bound`` (bold ``>`` when it fails), ``ν only`` without a bound, a dash if not represented."""
    if not isinstance(row["drivers"], str) or not row["drivers"]:
        return "–"
    if math.isnan(row["bound"]):
        return "ν only: " + ("posterior draws" if isinstance(row["bound_note"], str) and row["bound_note"] else "no bound")
    bound = f"{row['bound']:.3f}" if row["bound"] >= 0.01 else f"{row['bound']:.2g}"  # 3 decimals, or 2 digits
    if math.isnan(row["ST"]):
        return f"≤ {bound}"
    st = pm(row["ST"], row["ST_conf"])
    return f"**{st} > {bound}**" if row["holds"] == "no" else f"{st} ≤ {bound}"


def _rows_used(row: pd.Series) -> str:
    """``used of evaluated (N = base samples)``, or a dash where the output is not represented."""
    if pd.isna(row["rows_used"]):
        return "–"
    return f"{int(row['rows_used'])} of {int(row['rows_evaluated'])} (N = {int(row['base_samples'])})"


def _dgsm_note(row: pd.Series) -> str:
    """Why rows are missing, and whether the Sobol ST beside the bound is estimable."""
    if pd.isna(row["rows_used"]):
        return row["note"] if isinstance(row["note"], str) else ""
    parts = [f"{int(row[k])} {k.replace('_', ' ')}" for k in ("failed", "screened", "no_derivative") if row[k]]
    if str(row["ST_estimable"]) == "False":
        parts.append("ST not estimable")
    return "; ".join(parts)


#: what each attribution quantity is (attribution.csv ``analysis``/``factor``)
ATTRIBUTION = (
    "**Component control** (Tao et al. 2023, PRODA-style), per driver group: the share of the variance of the "
    "output (raw scale) that disappears when the group is held at the member's baseline, 1 − Var(fixed)/Var(free); "
    "shares need not sum to 1 (interactions), and a negative share means fixing the group widens the spread.",
    "**Input × residence time** (He et al. 2024): at steady state ln SOC = ln input + ln τ (τ = SOC/input), so "
    "Var(ln SOC) splits exactly into the share of input, the share of τ and twice their covariance (the three sum to "
    "1); corr: the correlation of ln input and ln τ; mean τ [yr]: the mean residence time over the base sample.",
)
RESIDENCE = (("share_input", "share of input"), ("share_residence_time", "share of τ"),
             ("share_covariance", "share of 2 cov"), ("corr_input_residence_time", "corr(ln input, ln τ)"),
             ("mean_residence_time", "mean τ [yr]"))


def attribution_section(page: Page, out_dir: Path, summary: dict) -> None:
    """attribution.csv as one table per output and analysis, every member a row, collapsed."""
    attribution = stored_table(out_dir, "attribution.csv")
    if attribution is None or attribution.empty:
        return
    labels = display_labels(attribution) if {"model", "member"} <= set(attribution.columns) else {}
    with page.details("Attribution of SOC variance", "component control; input × residence time"):
        for text in ATTRIBUTION:
            page.text(f"- {text}", "muted")
        control = attribution[attribution["analysis"] == "component_control"]
        for output, block in control.groupby("output", sort=False):
            groups = list(dict.fromkeys(block["factor"]))
            page.heading(f"Component control of {output}: share of Var({output}) removed by fixing each group", 4)
            rows = []
            for member, mine in block.groupby("member", sort=False):
                value = mine.set_index("factor")["value"]
                rows.append((greek(labels.get(member, member)), *(_share(value.get(g, math.nan)) for g in groups),
                             f"{int(mine['n'].min())}"))
            page.table(rows, ["model × variant", *groups, "rows used"])
        residence = attribution[attribution["analysis"] == "input_x_residence_time"]
        for output, block in residence.groupby("output", sort=False):
            page.heading(f"Input × residence time: shares of Var(ln {output})", 4)
            rows = []
            for member, mine in block.groupby("member", sort=False):
                value = mine.set_index("factor")["value"]
                cells = [_share(value.get(k, math.nan)) for k, _ in RESIDENCE[:3]]
                corr, tau = value.get(RESIDENCE[3][0], math.nan), value.get(RESIDENCE[4][0], math.nan)
                rows.append((greek(labels.get(member, member)), *cells, f"{corr:+.3f}" if corr == corr else "–",
                             f"{tau:.1f}" if tau == tau else "–", f"{int(mine['n'].min())}"))
            page.table(rows, ["model × variant", *(name for _, name in RESIDENCE), "rows used"])


def _share(value: float) -> str:
    """A share of variance to 3 decimals (a dash when missing)."""
    return "–" if value != value else f"{value:.3f}"

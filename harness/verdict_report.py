"""The verdict of a Sobol run as sections of tables and sentences.

The same sections serve verdict.md, the console and report.html alike.

Order: the range-aware answer (crossover ratios: the headline, as it rests on no single box), the
answer by structure at the scenario's box (one vote per model), every model x variant, then He et
al.'s beta effect on a scale-free quantity. Every table says on what scale, over which box, with
what sign, from how much of the design and how sure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from tabulate import tabulate

from .report import pm

#: the answer Tao et al. (2023) claim: CUE is the primary control and promotes SOC storage
TAO_CLAIM = "CUE, raises"
STATES = ("CUE, raises", "CUE, lowers", "CUE, sign unclear", "input, raises", "input, lowers", "input, sign unclear",
          "inconclusive", "not estimable", "failed", "not represented")


@dataclass
class Section:
    """A heading and its blocks: ``("table", headers, rows)`` or ``("text", markdown)``."""

    title: str
    blocks: list[tuple] = field(default_factory=list)

    def table(self, headers: list[str], rows: list[tuple]) -> None:
        """Add a table of ``rows`` under ``headers``."""
        self.blocks.append(("table", headers, rows))

    def text(self, markdown: str) -> None:
        """Add a paragraph of markdown."""
        self.blocks.append(("text", markdown))


def settings_text(sobol: dict[str, Any], box: str, on_failure: str) -> str:
    """What every number of the verdict is: scale, box, design, intervals, gates."""
    scale = "ln of each output (natural log)" if sobol["scale"] == "log" else "the raw output"
    if sobol["intervals"] == "replicates":
        design = (f"N = {sobol['n']} base samples as {sobol['replicates']} independent scrambles of "
                  f"{sobol['n'] // sobol['replicates']}; ± = {sobol['confidence']:.0%} Student-t half-width over the "
                  "replicates; 'resolved' = the paired interval of ST(cue_scale) − ST(c_input) excludes 0")
    else:
        design = (f"N = {sobol['n']} base samples, one scramble; ± = {sobol['confidence']:.0%} bootstrap half-width "
                  f"({sobol['bootstrap']} resamples; treats quasi-random points as independent, too wide); "
                  "'resolved' = the two intervals do not overlap")
    gates = sobol["gates"]
    bounds = ", ".join(f"{k} ≤ {v:g}" for k, v in sobol["plausible"]) or "none"
    return (f"**Scale:** Sobol indices of {scale}. **Box:** {box}. **Design:** {design}. **Gates:** a member is "
            f"*not estimable* when more than {gates['dropped']:.0%} of its Saltelli blocks are dropped (failed rows, "
            f"on_failure = {on_failure}, or rows above a plausibility bound: {bounds} [g C m-2]), when an index "
            f"leaves [0, 1] beyond its interval, or when a half-width exceeds ± {gates['halfwidth']:g}; such members "
            "are shown with the reason and never counted. **Sign:** the slope of each output over a driver's box "
            "(least squares over the design; its interval decides raises/lowers) and the elasticity "
            "d ln output / d ln driver at the baseline. **CUE** is cue_scale, a multiplier on different things in "
            "different structures (growth efficiencies in MIMICS, a temperature-dependent CUE in Millennial and AWB, "
            "transfer efficiencies in CLM5, which has no microbes). These are statements about the models under this "
            "box, not about the world. Method: docs/verdict.md.")


def verdict_sections(verdict: pd.DataFrame, votes: pd.DataFrame, effects: pd.DataFrame,
                     crossovers: pd.DataFrame, sobol: dict[str, Any], box: str) -> list[tuple[str, list[Section]]]:
    """Per output, the sections of the verdict."""
    out = []
    for output, table in verdict.groupby("output", sort=False):
        scale = "ln " if sobol["scale"] == "log" else ""
        sections = []
        mine = crossovers[crossovers["output"] == output] if not crossovers.empty else crossovers
        if not mine.empty:
            sections.append(_crossover(mine, table, sobol, box))
        sections.append(_votes(votes[votes["output"] == output], table, output))
        sections.append(_members(table, output, scale))
        if "inputs" in table and (table["inputs"] == "posterior").any():
            sections.append(_conditioned(table))
        if not effects.empty and (effects["output"] == output).any():
            sections.append(_beta(effects[effects["output"] == output], output, scale))
        out.append((output, sections))
    return out


def _votes(votes: pd.DataFrame, table: pd.DataFrame, output: str) -> Section:
    section = Section("The answer by structure (one vote per model)")
    posterior = "inputs" in votes
    section.table(["model", *(["inputs"] if posterior else []), "vote", "variants (distinct)",
                   "answers of the distinct variants"],
                  [(r["model"], *([r["inputs"]] if posterior else []), r["vote"], f"{r['variants']} ({r['distinct']})",
                    r["answers"]) for _, r in votes.iterrows()])
    claim = votes["vote"].str.startswith(TAO_CLAIM)
    lowers = votes["vote"].str.startswith("CUE, lowers")
    inputs = votes["vote"].str.startswith("input")
    depends = votes["vote"].str.startswith("depends")
    section.text(
        f"**Across {len(votes)} model structures{' and inputs' if posterior else ''}:** CUE outranks input and raises {output} in {int(claim.sum())} "
        f"({_names(votes, claim)}), CUE outranks input but *lowers* {output} in {int(lowers.sum())} "
        f"({_names(votes, lowers)}), input outranks CUE in {int(inputs.sum())} ({_names(votes, inputs)}), the answer "
        f"depends on the structural variant in {int(depends.sum())} ({_names(votes, depends)}), and "
        f"{len(votes) - int(claim.sum() + lowers.sum() + inputs.sum() + depends.sum())} give no answer. "
        f"Tao et al.'s claim (CUE is the primary control and *promotes* storage) needs 'CUE, raises {output}'.")
    return section


def _names(votes: pd.DataFrame, mask: pd.Series) -> str:
    names = votes.loc[mask, "model"] + (" (" + votes.loc[mask, "inputs"] + ")" if "inputs" in votes else "")
    return ", ".join(names) or "none"


def _crossover(crossovers: pd.DataFrame, table: pd.DataFrame, sobol: dict[str, Any], box: str) -> Section:
    section = Section("When does input dominate? Crossover of relative ranges")
    widths = sorted(crossovers["h_cue"].unique())
    rows = []
    labels = display_labels(table)
    for member, block in crossovers.groupby("member", sort=False):
        by = block.set_index("h_cue")
        rows.append((labels.get(member, member), *(crossover_text(by.loc[w]) for w in widths)))
    for w in widths:
        section.text(f"- {_crossover_summary(crossovers[crossovers['h_cue'] == w], w)}")
    section.table(["model x variant", *(f"k at cue_scale ±{w:.0%}" for w in widths)], rows)
    grid = sobol["crossover"]
    section.text(
        "**Input dominates once its relative half-width exceeds k × that of CUE** (k with its "
        f"{sobol['confidence']:.0%} interval, from the paired difference ST(c_input) − ST(cue_scale) over a grid of "
        f"c_input ±{', ±'.join(f'{h:.0%}' for h in grid['c_input'])} against cue_scale "
        f"±{', ±'.join(f'{h:.0%}' for h in grid['cue_scale'])}, {grid['n']} base samples per cell, the other drivers "
        f"over their box). '< k': input at every ratio of the grid; '> k': CUE at every ratio. "
        f"The box of the per-variant table below: {box}.")
    return section


def _crossover_summary(column: pd.DataFrame, width: float) -> str:
    """One sentence per cue_scale width: where the dominant driver flips, and where it does not."""
    flips = column[column["state"].str.startswith("crosses")]
    parts = []
    if len(flips):
        parts.append(f"the dominant driver flips inside the grid in {len(flips)} "
                     f"(k = {flips['k'].min():.2f} to {flips['k'].max():.2f})")
    for state, what in (("input throughout", "input dominates at every ratio"),
                        ("CUE throughout", "CUE at every ratio"), ("non-monotone", "non-monotone"),
                        ("not estimable", "not estimable")):
        if (count := int((column["state"] == state).sum())):
            parts.append(f"{what} in {count}")
    return f"**cue_scale ±{width:.0%}** (c_input ±{column['ratio_min'].iloc[0] * width:.0%} to " \
           f"±{column['ratio_max'].iloc[0] * width:.0%}): " + ", ".join(parts) + f" of {len(column)} members."


def crossover_text(row: pd.Series) -> str:
    """A crossover ratio as a table cell: ``1.32 [1.25, 1.41]``, ``< 0.33``, ``> 5`` ..."""
    state = row["state"]
    if state in ("crosses", "crosses more than once"):
        low = f"{row['k_low']:.2f}" if math.isfinite(row["k_low"]) else f"< {row['ratio_min']:.2f}"
        high = f"{row['k_high']:.2f}" if math.isfinite(row["k_high"]) else f"> {row['ratio_max']:.2f}"
        return f"{row['k']:.2f} [{low}, {high}]" + (" (crosses more than once)" if state != "crosses" else "")
    if state == "input throughout":
        return f"< {row['ratio_min']:.2f} (input everywhere)"
    if state == "CUE throughout":
        return f"> {row['ratio_max']:.2f} (CUE everywhere)"
    return state


def _members(table: pd.DataFrame, output: str, scale: str) -> Section:
    section = Section("Per model x variant (the scenario's box)")
    labels = display_labels(table)
    rows = []
    for _, r in table.iterrows():
        answer = r["answer"]
        note = r["reason"] if isinstance(r["reason"], str) and r["reason"] else ""
        if isinstance(r.get("equivalent_to"), str) and r["equivalent_to"]:
            note = f"≡ {labels.get(r['equivalent_to'], r['equivalent_to'])}" + (f"; {note}" if note else "")
        rows.append((labels[r["member"]], pm(r["ST_cue"], r["ST_cue_conf"]), pm(r["ST_input"], r["ST_input_conf"]),
                     pm(r["difference"], r["difference_conf"]), _effect(r, "cue"), answer, _text(r["first"]),
                     "yes" if r["top_stable"] else "no", f"{r['n_base']}/{r['blocks_total']}", note))
    section.table(["model x variant", f"ST(cue_scale) [{scale}{output}]", "ST(c_input)", "ST(cue) − ST(input)",
                   "CUE effect: slope over box; elasticity", "answer", "first driver", "top-3 stable N/2→N",
                   "blocks used", "note"], rows)
    counts = table["answer"].value_counts()
    listed = [f"{state}: {int(counts.get(state, 0))}" for state in STATES if counts.get(state, 0)]
    equivalent = int(table["equivalent_to"].map(lambda v: isinstance(v, str) and v != "").sum())
    section.text(f"**Tally over {len(table)} model x variant combinations:** " + "; ".join(listed)
                 + f" (sum {int(counts.sum())})."
                 + (f" {equivalent} variant(s) are equivalent to an earlier one of the same model (≡; same answer, every "
                    "total index within the equivalence margin) and count once in the votes." if equivalent else "")
                 + " 'first driver' is the driver with the largest total index: where it is neither cue_scale nor "
                 "c_input, neither dominates the model, whichever of the two outranks the other.")
    return section


def _conditioned(table: pd.DataFrame) -> Section:
    """Posterior-informed rows beside their prior-box rows (``inputs`` column of the verdict)."""
    section = Section("Conditioned on data")
    section.text("Rows marked '| posterior' sample the calibrated drivers from the posterior, not the box; their "
                 "verdict is about the models as constrained by the observations.")
    by_label = table.set_index("member")
    for _, r in table[table["inputs"] == "posterior"].iterrows():
        base = r["member"].removesuffix(" | posterior")
        before = by_label.at[base, "answer"] if base in by_label.index else "–"
        section.text(f"- {base}: prior box → {before}; posterior → {r['answer']} ({r['conditioned_on']}).")
    return section


def _text(value: Any) -> str:
    """A text cell: a dash for empty or missing (NaN when read back from CSV)."""
    return value if isinstance(value, str) and value else "–"


def _effect(r: pd.Series, which: str) -> str:
    slope, half, elasticity = r[f"{which}_slope"], r[f"{which}_slope_conf"], r[f"{which}_elasticity"]
    if not math.isfinite(slope):
        return "–"
    text = f"{slope:+.3f} ± {half:.3f}" if math.isfinite(half) else f"{slope:+.3f}"
    return text + (f"; {elasticity:+.2f}" if math.isfinite(elasticity) else "; –")


def _beta(effects: pd.DataFrame, output: str, scale: str) -> Section:
    section = Section("He et al. (2024): does input gain importance *relative to CUE* as β rises from 1?")
    keys = list(effects.columns[2:effects.columns.get_loc("beta")])
    rows, sentences = [], []
    for model, block in effects.groupby("model", sort=False):
        others = [k for k in keys if block[k].astype(str).nunique() > 1]
        rows += [(model, keys_text(r, others) or "–", f"{r['beta_ref']:g} → {r['beta']:g}",
                  _ratio(r["ratio_beta1"], r["ratio_beta1_low"], r["ratio_beta1_high"]),
                  _ratio(r["ratio"], r["ratio_low"], r["ratio_high"]),
                  _ratio(r["change"], r["change_low"], r["change_high"]) if r["state"] != "not estimable" else "–",
                  f"{r['VT_input_beta1']:.3g} → {r['VT_input']:.3g}", f"{r['VT_cue_beta1']:.3g} → {r['VT_cue']:.3g}",
                  r["state"]) for _, r in block.iterrows()]
        confirmed = block["rises"] & block["resolved"]
        holds = "holds" if confirmed.all() else "not reproduced" if not confirmed.any() else "holds only in part"
        failed = [f"β = {r['beta_ref']:g} → {r['beta']:g}{_with(r, others)}: {r['state']}" for _, r in block.iterrows()
                  if not (r["rises"] and r["resolved"])]
        start = sorted({f"{b:g}" for b in block["beta_ref"] if b > 1})
        where = f" from β = {', '.join(start)} (β = 1 is not estimable)" if start else ""
        sentences.append(f"- {model}: {holds}{where}"
                         + (f" — {'; '.join(failed)}" if failed else " at every β compared"))
    section.table(["model", "variant", "β from → to", "ST(input)/ST(cue) at from", "at to", "change ×",
                   f"V_T(input) [({scale}{output})²]", "V_T(cue)", "relative importance of input"], rows)
    for sentence in sentences:
        section.text(sentence)
    section.text("The ratio of total indices is scale-free: normalised ST(c_input) alone can rise only because a "
                 "third driver loses share. V_T = ST × Var: the unnormalised total-effect variance. 'change ×' is the "
                 "factor by which the ratio moves from the first β to the second, with its paired interval over the "
                 "replicates.")
    return section


def variant_keys(table: pd.DataFrame) -> list[str]:
    """The variant columns of a verdict-like table: those between ``model`` and ``member``."""
    return list(table.columns[table.columns.get_loc("model") + 1:table.columns.get_loc("member")])


def keys_text(row: pd.Series, keys: list[str]) -> str:
    """``k=v`` for the keys this row sets (empty values left out), floats as ``%g``."""
    shown = [f"{k}={row[k]:g}" if isinstance(row[k], float) else f"{k}={row[k]}" for k in keys
             if row[k] == row[k] and row[k] != ""]
    return ", ".join(shown)


def _with(row: pd.Series, keys: list[str]) -> str:
    text = keys_text(row, keys)
    return f" ({text})" if text else ""


def _ratio(value: float, low: float, high: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.3g} [{low:.3g}, {high:.3g}]" if math.isfinite(low) and math.isfinite(high) else f"{value:.3g}"


def display_labels(table: pd.DataFrame) -> dict[str, str]:
    """Member labels with only the variant keys that vary within each model, e.g. ``mimics[beta=1.5]``."""
    keys = variant_keys(table)
    members = {r["member"]: (r["model"], {k: r[k] for k in keys if r[k] == r[k] and r[k] != ""})
               for _, r in table.iterrows()}
    return short_labels((member, model, variant) for member, (model, variant) in members.items())


def short_labels(members: Iterable[tuple[str, str, Mapping[str, Any]]]) -> dict[str, str]:
    """``{member: label}`` keeping only the variant keys whose values differ within each model.

    ``members``: (member label, model, variant) as in ``summary.json``'s members, e.g.
    ``("mimics[parameter_set=stode_rev_beta, beta=1.0]", "mimics", {"parameter_set": ..., "beta": 1.0})``
    → ``mimics[beta=1]`` when every MIMICS member runs stode_rev_beta. Floats as ``%g``; a
    posterior-informed member keeps its `` | posterior``.
    """
    by_model: dict[str, dict[str, Mapping[str, Any]]] = {}
    for member, model, variant in members:
        by_model.setdefault(model, {})[member] = variant
    out = {}
    for entries in by_model.values():
        keys = list(dict.fromkeys(k for variant in entries.values() for k in variant))
        varying = [k for k in keys if len({_value(v.get(k)) for v in entries.values()}) > 1]
        for member, variant in entries.items():
            inner = ", ".join(f"{k}={_value(variant[k])}" for k in varying if _value(variant.get(k)))
            suffix = " | posterior" if member.endswith(" | posterior") else ""
            name = member.split("[")[0].removesuffix(" | posterior")  # the entry's label or the model
            out[member] = (f"{name}[{inner}]" if inner else name) + suffix
    return out


def summary_labels(summary: Mapping[str, Any]) -> dict[str, str]:
    """``{member: label}`` for the members of a run's ``summary.json``: ``short_labels``, β for beta."""
    members = summary.get("members", [])
    labels = short_labels((m["member"], m.get("model", m["member"]), m.get("variant", {})) for m in members)
    return {member: greek(label) for member, label in labels.items()}


def _value(value: Any) -> str:
    """A variant value as text: floats as ``%g``, missing as empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def greek(text: str) -> str:
    """``beta`` and ``beta_enz`` as ``β`` and ``β_enz`` (in labels and votes shown to readers)."""
    return re.sub(r"\bbeta(_enz)?\b", lambda m: "β" + (m[1] or ""), text)


def headline(verdict: pd.DataFrame, votes: pd.DataFrame, crossovers: pd.DataFrame, sobol: dict[str, Any]) -> str:
    """The answer in one sentence, for report.html's first screen.

    The votes of the first output (with the sign of the CUE effect), what they depend on (a
    structural variant; the range box, from crossover.csv) and whether the other outputs vote the
    same.
    """
    outputs = list(dict.fromkeys(verdict["output"]))
    first = outputs[0]
    mine = votes[votes["output"] == first] if not votes.empty else votes
    table = verdict[verdict["output"] == first]
    posterior = "inputs" in votes
    models = mine["model"].nunique() if posterior else len(mine)
    structures = f"{models} model structure{'s' if models != 1 else ''}" + (
        f" × {mine['inputs'].nunique()} inputs ({', '.join(dict.fromkeys(mine['inputs']))})" if posterior else "")
    scale = "ln " if sobol["scale"] == "log" else ""
    lead = f"**Of {structures}** ({len(table)} model × variant combinations, Sobol total indices of {scale}{first}), "
    if mine.empty:
        return lead + "no model casts a vote."
    vote = mine["vote"].astype(str)
    parts = []
    for mask, what in ((vote.str.startswith(TAO_CLAIM), f"CUE outranks input and raises {first}"),
                       (vote.str.startswith("CUE, lowers"), f"CUE outranks input but *lowers* {first}"),
                       (vote.str.startswith("CUE, sign"), "CUE outranks input, sign unclear,"),
                       (vote.str.startswith("input"), "input outranks CUE")):
        if mask.any():
            parts.append(f"{what} in {int(mask.sum())} ({_names(mine, mask)})")
    depends = vote.str.startswith("depends on ")
    if depends.any():
        on = [f"on {greek(_and(key.removeprefix('depends on ').split(', ')))} in {int((vote == key).sum())} "
              f"({_names(mine, vote == key)})" for key in dict.fromkeys(vote[depends])]
        text = f"the answer depends {_and(on)}"
        cue = table[table["model"].isin(mine.loc[depends, "model"]) & table["answer"].str.startswith("CUE")]
        signs = set(cue["answer"].str.removeprefix("CUE, "))
        if signs == {"lowers"} or signs == {"raises"}:
            text += f", and where CUE outranks input in them it {signs.pop()} {first}"
        parts.append(text)
    rest = ~(vote.str.startswith(("CUE", "input")) | depends)
    if rest.any():
        names = _names(mine, rest).split(", ")
        parts.append(f"{int(rest.sum())} give no answer ({', '.join(f'{n}: {v}' for n, v in zip(names, vote[rest]))})")
    sentence = lead + "; ".join(parts)
    box = _box_dependence(crossovers[crossovers["output"] == first] if not crossovers.empty else crossovers,
                          sobol.get("crossover"))
    if box:
        sentence += f"; {box}"
    for other in outputs[1:]:
        theirs = votes[votes["output"] == other]
        keys = ["model", "inputs"] if posterior else ["model"]
        joined = mine.merge(theirs, on=keys, how="outer", suffixes=("", "_other"))
        differ = joined["vote"].astype(str) != joined["vote_other"].astype(str)
        sentence += (f"; {other} gives the same votes" if not differ.any() else
                     f"; for {other} the vote differs in {int(differ.sum())} ({', '.join(joined.loc[differ, 'model'])})")
    return sentence + "."


def _box_dependence(crossovers: pd.DataFrame, grid: dict[str, Any] | None) -> str:
    """Whether the dominant driver of each member changes over the crossover grid of relative ranges."""
    if crossovers.empty or not grid:
        return ""
    states = crossovers.groupby("member", sort=False)["state"].agg(lambda s: frozenset(s))
    estimable = states[states.map(lambda s: s != {"not estimable"})]
    fixed = estimable.map(lambda s: s in ({"input throughout"}, {"CUE throughout"}))
    extent = f"c_input ±{_span(grid['c_input'])} against cue_scale ±{_span(grid['cue_scale'])}"
    if fixed.all():
        return f"no estimable variant's answer depends on the range box ({extent})"
    return (f"in {int((~fixed).sum())} of {len(estimable)} estimable variants which driver dominates also depends on "
            f"the range box ({extent})")


def _span(widths: list[float]) -> str:
    """``10–50 %`` of relative half-widths [1]."""
    return f"{min(widths):.0%}".removesuffix("%") + f"–{max(widths):.0%}".replace("%", " %")


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def verdict_markdown(verdict: pd.DataFrame, votes: pd.DataFrame, effects: pd.DataFrame, crossovers: pd.DataFrame,
                     sobol: dict[str, Any], box: str, on_failure: str, title: str = "", brief: bool = False) -> str:
    """``verdict.md`` (or, ``brief``, what the run prints: the votes and the crossover table)."""
    lines = [] if brief else [f"# Verdict: {title}", "", settings_text(sobol, box, on_failure), ""]
    for output, sections in verdict_sections(verdict, votes, effects, crossovers, sobol, box):
        lines += [f"## {output}: CUE (cue_scale) or carbon input (c_input)?", ""]
        for section in sections[:2] if brief else sections:
            lines += [f"### {section.title}", ""]
            for block in section.blocks:
                if block[0] == "table":
                    lines += [tabulate(block[2], headers=block[1], tablefmt="github"), ""]
                else:
                    lines += [block[1], ""]
    return "\n".join(lines).rstrip() + "\n"

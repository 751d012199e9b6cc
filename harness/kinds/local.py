"""Kind ``local``: elasticities of each output to each listed driver, from +-h perturbations and exact.

For a driver x with baseline x0 and output S (S0 at the baseline, S+ and S- at x0 (1 +- h)):
``central = (S+ - S-) / (2 h S0)``, ``plus = (S+ - S0) / (h S0)``, ``minus = (S0 - S-) / (h S0)``;
``ratio_plus = S+ / S0`` and ``ratio_minus = S- / S0``. ``exact = d ln S / d ln x`` at the
baseline, by the implicit function theorem (``BaseAdapter.steady_state_sensitivities``: no
perturbation size; its accuracy is stated there); it is computed whatever the definition, and
``definition: exact`` ranks by it (solving both sides too, for ``central`` beside it). Signs are
kept; ranks use magnitudes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import checks
from ..designs import local_design, local_forcing, perturbed
from ..members import Member
from ..page import Page, blank, stored_table
from ..plan import Plan
from ..report import local_markdown, published_table
from ..sensitivity import Sensitivities
from ..spec import LocalSettings, Section
from ..spec.schema import QUANTITIES, Context, build_local, build_published
from ..verdict_report import summary_labels
from .base import RESPONSE, Compared, Kind
from .common import (
    RunContext,
    RunOutcome,
    compare_published,
    member_columns,
    output_units,
    represents,
    variant_columns,
)


def run_local(ctx: RunContext) -> RunOutcome:
    """Write ``elasticities.csv`` and ``ranking.md`` (and ``published.csv`` when asked)."""
    s = ctx.scenario.local
    outcome = RunOutcome(settings={"local": {"drivers": list(s.drivers), "h": s.h, "definition": s.definition}})
    columns = variant_columns(ctx.members)
    records: list[dict[str, Any]] = []
    for member in ctx.members:
        rows = local_design(member, s.drivers, s.h, s.definition)
        start = time.perf_counter()
        result = ctx.evaluate(member, len(rows), local_forcing(member, rows), what="local")
        entry = outcome.record(member, result, time.perf_counter() - start)
        if entry["rows"] != entry["status"]["ok"]:
            failed = [f"{name or 'baseline'} {side}: {msg}" for (name, side, _), ok, msg
                      in zip(rows, result.ok, result.message) if not ok]
            outcome.problems.append(f"{member.label}: {len(failed)} of {len(rows)} rows failed: " + "; ".join(failed))
        head = {**member_columns(member, columns), "member": member.label}
        exact, no_exact = _exact(member, s.drivers)
        for output in ctx.scenario.outputs:
            records += _elasticities(member, rows, result, exact, no_exact, output, s.drivers, s.h, head)
    table = pd.DataFrame(records)
    table["elasticity"] = table[s.definition]
    table["rank"] = _ranks(table)
    ctx.files.csv("elasticities.csv", table)
    comparison = compare_published(ctx.scenario, ctx.members, table, lambda p: p.quantity or s.definition)
    if comparison is not None:
        ctx.files.csv("published.csv", comparison)
        outcome.tables.append(published_table(comparison))
        outcome.warnings += [f"{r.member}: {r.driver} -> {r.output} {r.quantity} = {r.ours:.4g}, published "
                             f"{r.published:g}: outside tolerance" for r in comparison.itertuples() if not r.holds]
    ctx.files.text("ranking.md", local_markdown(table, ctx.scenario, comparison))
    return outcome


def _exact(member: Member, drivers: tuple[str, ...]) -> tuple[Sensitivities | None, str]:
    """Derivatives of every output at the member's baseline by the implicit function theorem.

    None when no driver moves, or with the reason when the adapter has none.
    """
    moving = perturbed(member, drivers)
    if not moving:
        return None, ""
    try:
        return member.adapter.steady_state_sensitivities(member.theta(1), member.forcing(1), moving), ""
    except NotImplementedError as exc:
        return None, str(exc)


def _elasticities(member: Member, rows: list[tuple[str, str, float]], result, exact: Sensitivities | None,
                  no_exact: str, output: str, drivers: tuple[str, ...], h: float,
                  head: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per listed driver: S0, S+, S-, every definition, the exact elasticity and a note.

    ``no_exact``: why the adapter has no exact derivatives (empty when it has them).
    """
    units = output_units(member, output) if represents(member, output) else ""
    values = np.where(result.ok, result.get(output), np.nan) if units else np.full(len(rows), np.nan)
    base = values[0]
    moving = perturbed(member, drivers)
    out = []
    for driver in drivers:
        record = {**head, "output": output, "units": units, "driver": driver}
        if not units or driver not in moving:
            note = "output not represented" if not units else "not represented"
            out.append({**record, **dict.fromkeys(("S0", "S_plus", "S_minus", *QUANTITIES), np.nan), "note": note})
            continue
        side = {sd: values[i] for i, (name, sd, _) in enumerate(rows) if name == driver}
        s_plus, s_minus = side.get("plus", np.nan), side.get("minus", np.nan)
        base_ok = bool(np.isfinite(base))
        point = float(exact.elasticity(output, driver)[0]) if exact is not None and base_ok else np.nan
        notes = ["baseline not OK: every elasticity NaN (see summary.json)" if not base_ok else
                 "failed rows (see summary.json)" if not all(np.isfinite(v) for v in side.values()) else ""]
        if base_ok and no_exact:
            notes.append(f"exact: {no_exact}")
        elif base_ok and not np.isfinite(point):
            notes.append("exact: not available (singular Jacobian, or no admissible step, at the baseline)")
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append({
                **record, "driver_baseline": member.drivers[driver], "h": h, "S0": base, "S_plus": s_plus,
                "S_minus": s_minus, "central": (s_plus - s_minus) / (2 * h * base),
                "plus": (s_plus - base) / (h * base), "minus": (base - s_minus) / (h * base),
                "ratio_plus": s_plus / base, "ratio_minus": s_minus / base, "exact": point,
                "note": "; ".join(n for n in notes if n),
            })
    return out


def _ranks(table: pd.DataFrame) -> np.ndarray:
    """Rank 1 = largest |elasticity| within each member x output; 0 where there is none."""
    magnitude = table["elasticity"].abs()
    ranks = magnitude.groupby([table["member"], table["output"]], sort=False).rank(ascending=False, method="min")
    return ranks.fillna(0).astype(int).to_numpy()


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The ``report.html`` section of a local run (nothing if its files are missing)."""
    table = stored_table(out_dir, "elasticities.csv")
    if table is None:
        return
    page.heading("Local sensitivities (elasticities)")
    keep = ["member", "output", "driver", "elasticity", "exact", "S0", "ratio_plus", "ratio_minus", "rank", "note"]
    labels = summary_labels(summary)
    shown = table.assign(member=table["member"].map(lambda m: labels.get(m, m)))
    page.table(blank(shown[[c for c in keep if c in shown]]))
    published = stored_table(out_dir, "published.csv")
    if published is not None:
        page.heading("Published values beside ours", 3)
        page.table(blank(published.assign(member=published["member"].map(lambda m: labels.get(m, m)))))


def check_varied(plan: Plan, ctx: Context) -> None:
    """The varied drivers (kinds local and sweep) and the published values beside them."""
    checks.check_varied_drivers(plan.scenario, plan.in_domain, ctx, every_model_valid=plan.every_model_valid)
    checks.check_published(plan.scenario.published, plan.members, plan.scenario, ctx)


#: the published values a local or sweep scenario prints beside its own
PUBLISHED = Section(build_published, ())
COMPARED_PUBLISHED = Compared("published.csv", ("member", "driver", "output", "quantity"), "holds")

KIND = Kind(
    name="local",
    description="elasticities of every output to listed drivers, from +-h perturbations and exact (IFT)",
    sections={"local": Section(build_local, LocalSettings(), ("a local scenario needs a `local` section",
                                                             "add `local: {drivers: [c_input, cue_scale]}`")),
              "published": PUBLISHED, "response": RESPONSE},
    run=run_local,
    report=report_section,
    check=check_varied,
    varied=lambda s: tuple((d, f"local.drivers[{i}]") for i, d in enumerate(s.local.drivers)),
    compared=(Compared("elasticities.csv", ("member", "output", "driver"), ranked_by="elasticity"),
              COMPARED_PUBLISHED),
)

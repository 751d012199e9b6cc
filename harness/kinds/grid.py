"""Kind ``grid``: every model x variant at every land cell of a CF netCDF forcing grid.

Drivers come from the forcing file (converted to the vocabulary's units); drivers it does not
map take each model's baseline. Cells are solved in chunks like any other design, so a big grid
streams and resumes. Outputs: ``grid.nc`` (CF-1.10, one field per output with a ``member``
dimension, the drivers, the observation layers and every cell's status), ``grid_summary.csv``
(per product: cells solved, global stock, agreement with each observation layer) and, with a
``regression`` section, the Reply-style mixed model on the pooled cells (one group per product).
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import pandas as pd

from .. import checks, plots
from ..adapter import status_labels
from ..grids import Forcing
from ..netcdf import write_grid
from ..page import Page, blank, stored_section
from ..plan import Plan
from ..spec import GridSettings, RegressionSettings, Section
from ..spec.schema import Context, build_grid, build_regression
from ..verdict_report import summary_labels
from .base import Compared, Kind
from .common import RunContext, RunOutcome, represents
from .regression import REGRESSION_TABLE, fit_all, regression_settings, write_regression
from .regression import report_section as regression_section

#: outputs every grid run writes: the regression's response and its CUE predictor
GRID_OUTPUTS = ("soc", "cue_bulk")
PG_PER_G = 1e-15


def run_grid(ctx: RunContext) -> RunOutcome:
    """Write ``grid.nc``, ``grid_summary.csv`` and (with ``regression``) the regression tables."""
    s = ctx.scenario
    forcing = ctx.plan.inputs["forcing"]
    outputs = list(dict.fromkeys([*GRID_OUTPUTS, *s.outputs]))
    outcome = RunOutcome(settings={"grid": {
        "forcing": s.grid.forcing, "cells": forcing.n_cells, "shape": list(forcing.grid.shape),
        "drivers": {name: variable for name, variable, _ in s.grid.drivers},
        "observations": [o.name for o in s.grid.observations], "outputs": outputs}})
    fields = {o: np.full((len(ctx.members), forcing.n_cells), np.nan) for o in outputs}
    status = np.zeros((len(ctx.members), forcing.n_cells), dtype=np.int8)
    for i, member in enumerate(ctx.members):
        drivers = {k: v for k, v in forcing.drivers.items() if k in member.drivers}
        start = time.perf_counter()
        result = ctx.evaluate(member, forcing.n_cells, drivers, what="grid", keep=outputs)
        entry = outcome.record(member, result, time.perf_counter() - start, "grid")
        status[i] = result.status
        for o in outputs:
            if represents(member, o):
                fields[o][i] = np.where(result.ok, result.get(o), np.nan)
        if entry["rows"] != entry["status"]["ok"]:
            outcome.warnings.append(_failure_note(member.label, result))
    labels = [m.label for m in ctx.members]
    ctx.files.produce("grid.nc", write_grid, s, forcing, labels, fields, status, _provenance(s, forcing))
    summary = grid_summary(forcing, labels, fields["soc"], fields["cue_bulk"])
    ctx.files.csv("grid_summary.csv", summary)
    ctx.files.json("grid_inputs.json", forcing.files)
    outcome.tables.append(summary.to_markdown(index=False, floatfmt=".4g", missingval="–"))
    if s.regression.predictors:
        outcome.settings["regression"] = regression_settings(s.regression)
        cells = cell_table(forcing, ctx.members, fields["soc"], fields["cue_bulk"])
        table = fit_all(cells, s.regression, [{"member": "pooled products"}], [None])
        write_regression(ctx, table, outcome)
    return outcome


def _failure_note(label: str, result) -> str:
    counts = pd.Series(status_labels(result.status[~result.ok])).value_counts()
    first = next(m for m, ok in zip(result.message, result.ok) if not ok)
    return (f"{label}: {int((~result.ok).sum())} of {result.status.size} land cells failed "
            f"({', '.join(f'{n} {k}' for k, n in counts.items())}; e.g. {first}); they are NaN in grid.nc "
            "with their status")


def _provenance(scenario, forcing: Forcing) -> dict[str, str]:
    forcing_info = forcing.files[scenario.grid.forcing]
    out = {"forcing_file": scenario.grid.forcing, "forcing_sha256": forcing_info["sha256"],
           "forcing_title": forcing_info["title"], "forcing_synthetic": forcing_info["synthetic"],
           "history": f"python -m harness run {Path(scenario.path).name} (soilbench)"}
    for obs in scenario.grid.observations:
        info = forcing.files[obs.file]
        out[f"observation_{obs.name}"] = f"{obs.file} variable {obs.variable}, sha256 {info['sha256']}"
    return out


def grid_summary(forcing: Forcing, labels: list[str], soc: np.ndarray, cue: np.ndarray) -> pd.DataFrame:
    """One summary row per product (model x variant or observation layer).

    Cells solved, global stock over the solved cells and over the cells every product has, median
    SOC and CUE, the share of the spatial variance of log10 SOC that CUE and that NPP explain alone
    within the product (squared Pearson correlation over its solved cells; NaN where the layer is
    constant, e.g. a model whose CUE does not vary across cells), and the spatial
    correlation of log10 SOC with each observation layer on the common cells.
    """
    products = {**dict(zip(labels, soc)), **forcing.observations}
    cues = dict(zip(labels, cue))
    common = np.logical_and.reduce([np.isfinite(v) & (v > 0) for v in products.values()])
    area = forcing.land_area()
    npp = forcing.drivers.get("c_input", np.full(forcing.n_cells, np.nan))
    rows = []
    for name, values in products.items():
        solved = np.isfinite(values) & (values > 0)
        row: dict[str, Any] = {
            "product": name, "kind": "observed" if name in forcing.observations else "model",
            "cells with SOC > 0": int(solved.sum()), "cells": forcing.n_cells,
            "stock over them [Pg C]": float(np.sum(values[solved] * area[solved]) * PG_PER_G),
            "stock, common cells [Pg C]": float(np.sum(values[common] * area[common]) * PG_PER_G),
            "median SOC [g C m-2]": float(np.nanmedian(values)) if solved.any() else np.nan,
            "median CUE [1]": float(np.nanmedian(cues[name])) if name in cues and solved.any() else np.nan,
            "R² CUE [1]": _correlation(np.log10(values[solved]), cues[name][solved]) ** 2 if name in cues else np.nan,
            "R² NPP [1]": _correlation(np.log10(values[solved]), npp[solved]) ** 2,
        }
        for obs, observed in forcing.observations.items():
            row[f"r log10 SOC vs {obs} [1]"] = _correlation(np.log10(values[common]), np.log10(observed[common]))
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(4, "common cells", int(common.sum()))
    return out


#: relative spread below which a layer counts as constant across cells (round-off, not a pattern) [1]
CONSTANT = 1e-9


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation [1]; NaN with fewer than 3 cells or where either layer is constant.

    A model with a fixed CUE (Tao et al.) still varies by round-off (relative 1e-16) across cells;
    a correlation with that noise would be a number without meaning, and not reproducible.
    """
    varies = all(np.ptp(x) > CONSTANT * np.abs(x).max() for x in (a, b)) if a.size > 2 else False
    return float(np.corrcoef(a, b)[0, 1]) if varies else np.nan


def cell_table(forcing: Forcing, members, soc: np.ndarray, cue: np.ndarray) -> pd.DataFrame:
    """One row per product x land cell.

    Columns ``product``, ``model``, ``lat``, ``lon``, ``soc`` [g C m-2], ``log10_soc``, ``cue`` [1]
    (NaN for observation layers: no CUE is observed), ``npp`` (= c_input) [g C m-2 yr-1] and every
    mapped driver. Unsolved cells are NaN.
    """
    lat, lon = np.meshgrid(forcing.grid.lat, forcing.grid.lon, indexing="ij")
    where = {"lat": lat[forcing.land], "lon": lon[forcing.land]}
    rows = [(m.label, m.model, soc[i], cue[i]) for i, m in enumerate(members)]
    rows += [(name, "observed", values, np.full(forcing.n_cells, np.nan)) for name, values in forcing.observations.items()]
    frames = []
    for product, model, values, cue_values in rows:
        with np.errstate(divide="ignore", invalid="ignore"):
            log10 = np.where(values > 0, np.log10(values), np.nan)
        frame = pd.DataFrame({"product": product, "model": model, **where, "soc": values, "log10_soc": log10,
                              "cue": cue_values, "npp": forcing.drivers.get("c_input", np.nan), **forcing.drivers})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The ``report.html`` section of a grid run (nothing if its files are missing)."""
    found = stored_section(out_dir, summary, "grid_summary.csv", "grid")
    if found is None:
        return
    table, settings = found
    labels = summary_labels(summary)
    page.heading("Gridded run")
    page.text(f"{settings['cells']} land cells of a {settings['shape'][0]} x {settings['shape'][1]} grid from "
              f"{settings['forcing']}; every field, driver and cell status is in grid.nc (CF-1.10).", "muted")
    inputs = json.loads((out_dir / "grid_inputs.json").read_text()) if (out_dir / "grid_inputs.json").exists() else {}
    for name, info in inputs.items():
        if info.get("synthetic", "no") != "no":
            page.text(f"**{name} is SYNTHETIC** ({info['synthetic']}): the maps exercise the gridded path and are "
                      "not predictions of real soils.", "verdict")
    page.table(blank(table.assign(product=table["product"].map(lambda p: labels.get(p, p)))))
    with netCDF4.Dataset(out_dir / "grid.nc") as ds:
        lat, lon = ds["lat"][:].filled(), ds["lon"][:].filled()
        members = list(ds["member_label"][:])
        modelled = {labels.get(m, m): ds["soc"][i].filled(np.nan) for i, m in enumerate(members)}
        observed = {v[4:]: ds[v][:].filled(np.nan) for v in ds.variables if v.startswith("obs_")}
        cue = {labels.get(m, m): ds["cue_bulk"][i].filled(np.nan) for i, m in enumerate(members)}
        status = ds["status"][:].filled(-1)
    page.plot("maps_soc", "Steady-state SOC per model x variant and the observed layer(s), log10 scale; blank: not "
              "land or not solved (see the status in grid.nc).", plots.maps, lat, lon, modelled | observed,
              "SOC [g C m-2]", True)
    for name, layer in observed.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            bias = {label: np.where((field > 0) & (layer > 0), np.log10(field / layer), np.nan)
                    for label, field in modelled.items()}
        page.plot(f"maps_bias_{name}", f"Bias against {name}: log10(model / observed) per cell [1]; +1 is ten times "
                  "the observed stock, blue is too little; blank: not land, not solved or not observed.",
                  plots.maps, lat, lon, bias, f"log10(model / {name}) [1]", False, True)
    failed = {labels.get(m, m): np.where(status[i] < 0, np.nan, (status[i] != 0).astype(float))
              for i, m in enumerate(members) if (status[i] > 0).any()}
    if failed:
        page.plot("maps_failed", "Land cells with no steady state (1) per model x variant, among those that have any; "
                  "the reasons are the status codes in grid.nc and the counts in the warnings.",
                  plots.maps, lat, lon, failed, "no steady state (1) / solved (0)")
    page.plot("maps_cue", "Flux-weighted microbial carbon-use efficiency (cue_bulk) per model x variant.",
              plots.maps, lat, lon, cue, "bulk CUE [1]")


def _report(page: Page, out_dir: Path, summary: dict) -> None:
    report_section(page, out_dir, summary)
    regression_section(page, out_dir, summary)


def _check(plan: Plan, ctx: Context) -> None:
    s = plan.scenario
    if "grid" in s.given:
        plan.inputs["forcing"] = checks.check_grid(s, plan.members, ctx)
    if "regression" in s.given:
        checks.check_regression(s, plan.members, plan.in_domain, ctx, every_model_valid=plan.every_model_valid)


KIND = Kind(
    name="grid",
    description="one steady state per land cell of a CF lat/lon forcing grid, and a regression over the cells",
    sections={"grid": Section(build_grid, GridSettings(), ("a grid scenario needs a `grid` section",
                                                          "add `grid: {forcing: forcing.nc, drivers: {c_input: npp}}` "
                                                          "(see docs/scenarios.md)")),
              "regression": Section(partial(build_regression, gridded=True), RegressionSettings())},
    run=run_grid,
    report=_report,
    check=_check,
    varied=lambda s: tuple((name, path) for name, _, path in s.grid.drivers),
    compared=(Compared("grid_summary.csv", ("product",)), REGRESSION_TABLE),
)

"""``report.html``: a self-contained report rendered from a run's stored result files.

Everything comes from the output directory (CSV, JSON and the scenario copy), so
``python -m harness report DIR`` re-renders a report without re-running any model. Figures are
embedded as base64 PNG and also written to ``DIR/figures/``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
from tabulate import tabulate

from . import plots
from .calibration.posterior import load_posterior
from .calibration.priors import scipy_prior
from .errors import HarnessError
from .report import by_rank, pm, regression_comparison, regression_rows, with_sobol_ranking
from .store import atomic_write_text
from .verdict_report import settings_text, verdict_sections
from .vocabulary import PREDICTOR_DRIVERS

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#1d2733;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f5f9e;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em}table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #cfd8e3;padding:.25em .6em;text-align:left}th{background:#eef3f8}
.muted{color:#5b6b7c;font-size:.9em}.verdict{background:#f5f9fd;border-left:4px solid #1f5f9e;padding:.3em 1em}
img{max-width:100%;height:auto;display:block;margin:.5em 0}pre{background:#f4f6f8;padding:1em;overflow-x:auto;
font-size:.85em}figure{margin:0}figcaption{font-size:.85em;color:#5b6b7c}
"""
# Marks every figure once it has loaded (read by the browser test).
SCRIPT = """
window.addEventListener('load', function () {
  for (const img of document.images) {
    img.dataset.width = img.naturalWidth;
    img.dataset.visible = (img.naturalWidth > 0 && img.getBoundingClientRect().width > 0) ? 'yes' : 'no';
  }
  document.body.dataset.ready = 'yes';
});
"""


class Report:
    """Accumulates HTML blocks and figures."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.blocks: list[str] = []
        self.figures: dict[str, bytes] = {}

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def text(self, markdownish: str, cls: str = "") -> None:
        """A paragraph (a list item when it starts with "- "); **bold** and *emphasis* rendered."""
        item = markdownish.startswith("- ")
        body = html.escape(markdownish[2:] if item else markdownish)
        body = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", body)
        body = re.sub(r"\*(\S.*?)\*", r"<em>\1</em>", body)
        attr = f' class="{cls}"' if cls else ""
        self.blocks.append(f"<ul{attr}><li>{body}</li></ul>" if item else f"<p{attr}>{body}</p>")

    def table(self, rows: list[tuple] | pd.DataFrame, headers: list[str] | str = "keys") -> None:
        self.blocks.append(tabulate(rows, headers=headers, tablefmt="html", showindex=False,
                                    floatfmt=".4g"))

    def figure(self, name: str, png: bytes, caption: str) -> None:
        self.figures[name] = png
        data = base64.b64encode(png).decode()
        self.blocks.append(f'<figure><img id="fig-{html.escape(name)}" alt="{html.escape(caption)}" '
                           f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}'
                           "</figcaption></figure>")

    def pre(self, text: str) -> None:
        self.blocks.append(f"<pre>{html.escape(text)}</pre>")

    def write(self, title: str) -> Path:
        figures = self.out_dir / "figures"
        figures.mkdir(exist_ok=True)
        for name, png in self.figures.items():
            (figures / f"{name}.png").write_bytes(png)
        page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>" + "\n".join(self.blocks)
                + "</body></html>\n")
        path = self.out_dir / "report.html"
        atomic_write_text(path, page)
        return path


def render_report(out_dir: Path) -> Path:
    """Write ``report.html`` (and ``figures/*.png``) from the files of a finished run."""
    out_dir = Path(out_dir)
    try:
        summary = json.loads((out_dir / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        raise HarnessError(f"{out_dir}: not a soilbench result directory (summary.json: {exc}); "
                           "pass the --out directory of a run") from exc
    report = Report(out_dir)
    report.heading(f"soilbench: {summary['scenario']}", 1)
    if summary.get("description"):
        report.text(summary["description"].strip())
    report.text(f"kind {summary['kind']}, seed {summary['seed']}, wall time {summary['wall_time_s']:.1f} s",
                "muted")
    for section in (_verdict, _calibration, _grid, _regression, _sobol_members, _sweep, _local, _points, _status,
                    _scenario_and_provenance):
        section(report, out_dir, summary)
    return report.write(f"soilbench: {summary['scenario']}")


def _read(out_dir: Path, name: str) -> pd.DataFrame | None:
    path = out_dir / name
    return pd.read_csv(path, keep_default_na=True) if path.exists() and path.stat().st_size > 1 else None


def _verdict(report: Report, out_dir: Path, summary: dict) -> None:
    verdict = _read(out_dir, "verdict.csv")
    settings = summary.get("settings", {})
    if verdict is None or "sobol" not in settings:
        return
    frames = [_read(out_dir, name) for name in ("votes.csv", "beta_effects.csv", "crossover.csv")]
    votes, effects, crossovers = (f if f is not None else pd.DataFrame() for f in frames)
    report.heading("Verdict: CUE or carbon input?")
    report.text(settings_text(settings["sobol"], settings["box"], settings["on_failure"]), "muted")
    for output, sections in verdict_sections(verdict, votes, effects, crossovers, settings["sobol"], settings["box"]):
        report.heading(f"{output}", 3)
        for section in sections:
            report.heading(section.title, 4)
            for block in section.blocks:
                if block[0] == "table":
                    report.table(block[2], block[1])
                else:
                    report.text(block[1], "verdict")


def _calibration(report: Report, out_dir: Path, summary: dict) -> None:
    posterior = _read(out_dir, "posterior_summary.csv")
    if posterior is None:
        return
    settings = summary["settings"]["calibrate"]
    fit, comparison = _read(out_dir, "fit.csv"), _read(out_dir, "model_comparison.csv")
    predictions, sampling = _read(out_dir, "predictions.csv"), _read(out_dir, "sampling.csv")
    report.heading("Calibration")
    report.text(f"{settings['sampler']}, {settings['chains']} chains x {settings['draws']} draws; output "
                f"{settings['output']} [{settings['units']}] against column {settings['column']} of "
                f"{settings['file']}; {settings['error_model']} error. Full tables: calibration.md.", "muted")
    worst = posterior["r_hat"].max()
    report.text(f"**Largest R-hat {worst:.4f}** ({'all' if worst <= 1.01 else 'NOT all'} ≤ 1.01).", "verdict")
    report.table(posterior[["member", "quantity", "prior", "mean", "sd", "q05", "median", "q95", "r_hat",
                            "ess_bulk", "ess_tail"]])
    draws = load_posterior(out_dir)
    priors = {name: scipy_prior(p["dist"], {k: v for k, v in p.items() if k != "dist"})
              for name, p in settings["priors"].items()}
    report.figure("posterior", plots.posterior_densities(draws, priors, "posterior densities (prior dashed)"),
                  "Posterior densities of the calibrated quantities per model x variant; prior dashed.")
    if predictions is not None:
        report.figure("observed_vs_predicted", plots.observed_vs_predicted(predictions, settings["id"], settings["units"]),
                      "Observed against predicted (posterior median and 90 % interval of the steady state).")
    if fit is not None:
        report.heading("Fit", 3)
        report.table(fit)
    if comparison is not None:
        report.heading("Model comparison (PSIS-LOO, WAIC)", 3)
        report.table(comparison)
    if sampling is not None:
        report.text(f"{int(sampling['failed_calls'].sum())} of {int(sampling['likelihood_calls'].sum())} likelihood "
                    "calls hit a failed steady state and got zero likelihood.", "muted")


def _grid(report: Report, out_dir: Path, summary: dict) -> None:
    table = _read(out_dir, "grid_summary.csv")
    settings = summary.get("settings", {}).get("grid")
    if table is None or not settings:
        return
    report.heading("Gridded run")
    report.text(f"{settings['cells']} land cells of a {settings['shape'][0]} x {settings['shape'][1]} grid from "
                f"{settings['forcing']}; every field, driver and cell status is in grid.nc (CF-1.10).", "muted")
    inputs = json.loads((out_dir / "grid_inputs.json").read_text()) if (out_dir / "grid_inputs.json").exists() else {}
    for name, info in inputs.items():
        if info.get("synthetic", "no") != "no":
            report.text(f"**{name} is SYNTHETIC** ({info['synthetic']}): the maps exercise the gridded path and are "
                        "not predictions of real soils.", "verdict")
    report.table(_blank(table))
    with netCDF4.Dataset(out_dir / "grid.nc") as ds:
        lat, lon = ds["lat"][:].filled(), ds["lon"][:].filled()
        members = list(ds["member_label"][:])
        soc = {m: ds["soc"][i].filled(np.nan) for i, m in enumerate(members)}
        soc |= {v[4:]: ds[v][:].filled(np.nan) for v in ds.variables if v.startswith("obs_")}
        cue = {m: ds["cue_bulk"][i].filled(np.nan) for i, m in enumerate(members)}
    report.figure("maps_soc", plots.maps(lat, lon, soc, "SOC [g C m-2]", log=True),
                  "Steady-state SOC per model x variant and the observed layer(s), log10 scale; blank: not land "
                  "or not solved (see the status in grid.nc).")
    report.figure("maps_cue", plots.maps(lat, lon, cue, "bulk CUE [1]"),
                  "Flux-weighted microbial carbon-use efficiency (cue_bulk) per model x variant.")


def _regression(report: Report, out_dir: Path, summary: dict) -> None:
    table = _read(out_dir, "regression.csv")
    settings = summary.get("settings", {}).get("regression")
    if table is None or not settings:
        return
    report.heading("Mixed-effects regression")
    joiner = " or " if settings.get("separately") else " + "
    if "formula" not in table:  # written before fits per formula existed
        table["formula"] = " + ".join(settings["predictors"])
    report.text(f"{settings['response']} ~ {joiner.join(settings['predictors'])} + (1 | {settings['group']}), REML; "
                "predictors z-scored; 95 % Wald CI, two-sided Wald p (not Satterthwaite); R² after Nakagawa & "
                "Schielzeth (2013). Full tables: regression.md.", "muted")
    comparison = regression_comparison(table, settings["predictors"], settings.get("separately", False))
    sobol = _read(out_dir, "sobol_ranking.csv")
    if sobol is not None:
        comparison = with_sobol_ranking(comparison, sobol, settings["predictors"], PREDICTOR_DRIVERS)
        report.text("Each model's own Sobol total indices of log10 SOC over the same box (the truth the regression "
                    "is set beside): sobol_ranking.csv.", "muted")
    report.table(comparison)
    for (member, formula), block in table.groupby(["member", "formula"], sort=False):
        report.heading(f"{member}: {settings['response']} ~ {formula}", 3)
        report.table(regression_rows(block, settings["group"]), ["Predictors", "Estimates", "CI", "p"])


def _sobol_members(report: Report, out_dir: Path, summary: dict) -> None:
    indices = _read(out_dir, "indices.csv")
    if indices is None:
        return
    convergence = _read(out_dir, "convergence.csv")
    attribution = _read(out_dir, "attribution.csv")
    report.heading("Per model x variant")
    for k, (member, block) in enumerate(indices.groupby("member", sort=False)):
        report.heading(member, 3)
        drivers = block[block["level"] == "driver"]
        for output, table in drivers.groupby("output", sort=False):
            gate = table["gate"].iloc[0] if "gate" in table else ""
            if isinstance(gate, str) and gate:
                report.text(f"**{output}: not estimable, not ranked.** {gate}.", "verdict")
            scale = f"ln({output})" if table["scale"].iloc[0] == "ln" else output
            ranked = by_rank(table)
            report.table([(r["rank"] or "", r["driver"], pm(r["ST"], r["ST_conf"]), pm(r["S1"], r["S1_conf"]),
                           pm(r["slope"], r["slope_conf"], signed=True), _number(r["elasticity"]),
                           r["note"] if isinstance(r["note"], str) else "") for _, r in ranked.iterrows()],
                         [f"rank ({scale})", "driver", "ST", "S1", "slope over box", "elasticity at baseline", "note"])
        groups = block[block["level"] == "group"]
        if not groups.empty:
            report.table([(r["output"], r["driver"], pm(r["ST"], r["ST_conf"]), pm(r["S1"], r["S1_conf"]))
                          for _, r in groups.iterrows()], ["output", "group", "ST", "S1"])
        first = drivers[drivers["output"] == drivers["output"].iloc[0]] if not drivers.empty else drivers
        if first["ST"].notna().any():
            output = first["output"].iloc[0]
            mine = None
            if convergence is not None:
                mine = convergence[(convergence["member"] == member) & (convergence["output"] == output)]
            stable = "" if mine is None or mine.empty else (
                ", top-3 order stable from N/2 to N" if mine["top_stable"].iloc[0] else ", top-3 order NOT stable")
            gated = isinstance(first["gate"].iloc[0], str) and first["gate"].iloc[0] != ""
            scale = f"ln({output})" if first["scale"].iloc[0] == "ln" else output
            report.figure(f"sobol_{k}", plots.sobol_panels(first, mine, f"{member}: {scale}"
                                                           + (" (NOT ESTIMABLE)" if gated else "")),
                          f"Sobol indices of {scale} with confidence half-widths (left) and ST at N/2 vs N "
                          f"(right){stable}, {member}" + ("; not estimable, see the reason above" if gated else ""))
        if attribution is not None:
            mine = attribution[attribution["member"] == member]
            if not mine.empty:
                report.table([(r["analysis"].replace("_", " "), r["output"], r["factor"], f"{r['value']:.4g}",
                               r["units"]) for _, r in mine.iterrows()],
                             ["attribution", "output", "factor", "value", "units"])


def _number(value: float) -> str:
    return "–" if value != value else f"{value:+.3g}"


def _sweep(report: Report, out_dir: Path, summary: dict) -> None:
    table = _read(out_dir, "sweep.csv")
    settings = summary.get("settings", {}).get("sweep")
    if table is None or not settings:
        return
    report.heading("Sweep")
    axes = settings["axes"]
    if settings["mode"] == "grid" and len(axes) == 2:
        for output in summary.get("outputs", []):
            value = f"{output}_z" if f"{output}_z" in table else output
            if table[value].notna().any():
                report.figure(f"heatmap_{output}".replace(".", "_"),
                              plots.heatmaps(table, axes[0], axes[1], value, f"{value} over {axes[0]} x {axes[1]}"),
                              f"{value} per model x variant over {axes[0]} x {axes[1]}")
    shares = _read(out_dir, "sweep_shares.csv")
    if shares is not None:
        report.heading("Variance shares over the grid", 3)
        report.text(f"Each panel's variance over the full {axes[0]} x {axes[1]} grid, split exactly into the main "
                    f"effect of {axes[0]} (variance of its row means), that of {axes[1]} and their interaction (the "
                    f"rest), in shares of 1 (raw shares are also those of the z-scores); a share can move only "
                    f"because another does, so the ratio {axes[0]}/{axes[1]} is what says whether {axes[0]} gains "
                    f"weight relative to {axes[1]}.")
        report.table(_blank(shares[["member", "output", "scale", "share_axis_1", "share_axis_2", "share_interaction",
                                    "ratio", "note"]]),
                     ["model x variant", "output", "scale", f"share {axes[0]}", f"share {axes[1]}", "interaction",
                      f"{axes[0]}/{axes[1]}", "note"])
    report.text(f"{len(table)} points; every point with its status is in sweep.csv and sweep.nc.", "muted")


def _local(report: Report, out_dir: Path, summary: dict) -> None:
    table = _read(out_dir, "elasticities.csv")
    if table is None:
        return
    report.heading("Local sensitivities (elasticities)")
    keep = ["member", "output", "driver", "elasticity", "S0", "ratio_plus", "ratio_minus", "rank", "note"]
    report.table(_blank(table[[c for c in keep if c in table]]))
    published = _read(out_dir, "published.csv")
    if published is not None:
        report.heading("Published values beside ours", 3)
        report.table(_blank(published))


def _points(report: Report, out_dir: Path, summary: dict) -> None:
    table = _read(out_dir, "points.csv")
    if table is not None:
        report.heading("Steady states at the listed cases")
        report.table(_blank(table))


def _status(report: Report, out_dir: Path, summary: dict) -> None:
    report.heading("Rows solved")
    report.table([(m["member"], m.get("design", ""), m["rows"], m["status"].get("ok", 0),
                   m["rows"] - m["status"].get("ok", 0), f"{m['seconds']:.2f}") for m in summary["members"]],
                 ["model x variant", "design", "rows", "ok", "failed", "seconds"])
    for text in summary.get("problems", []) + summary.get("warnings", []):
        report.text(text, "muted")


def _scenario_and_provenance(report: Report, out_dir: Path, summary: dict) -> None:
    scenario = out_dir / "scenario.yaml"
    if scenario.exists():
        report.heading("Scenario")
        report.pre(scenario.read_text())
    provenance = out_dir / "provenance.json"
    if provenance.exists():
        report.heading("Provenance")
        report.pre(provenance.read_text())


def _blank(table: pd.DataFrame) -> pd.DataFrame:
    """Empty cells instead of NaN, for display."""
    return table.astype(object).where(table.notna(), "")

"""Figures of a run (matplotlib, Agg backend): PNG bytes, written to files and embedded in HTML."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping
from typing import Protocol

import numpy as np
import pandas as pd


class Density(Protocol):
    """A distribution with a density, such as a frozen SciPy distribution."""

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Probability density at ``x`` [1 / units of x]."""
        ...


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def import_pyplot() -> None:
    """Import matplotlib (Agg) now, e.g. as a figure-drawing worker starts (it takes most of a second)."""
    _pyplot()


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


#: font sizes [pt] of the figures: at 100 dpi shown at 100 %, 10 pt is about 14 px
TICK, LABEL, TITLE, LEGEND = 10, 10.5, 11.5, 9.5

#: marker and colour of the sign of the CUE effect (``cue_effect`` of verdict.csv)
EFFECT_STYLE = {"raises": ("^", "#2166ac"), "lowers": ("v", "#c0392b"), "unclear": ("o", "#7f8c8d")}
#: how the markers of the first, second, ... output are filled
FILLS = ("full", "none", "left", "bottom")


def sobol_variants(table: pd.DataFrame, title: str, labels: Mapping[str, str] | None = None) -> bytes:
    """ST (bars, with confidence half-widths) and S1 (black ticks) of every variant of one model.

    ``table`` holds the driver rows of each output (column ``output``; one panel per output) for
    each of the model's members (column ``member``), with ``ST``, ``ST_conf``, ``S1``, ``S1_conf``
    and ``gate`` (non-empty: not estimable, drawn hatched and so labelled). Drivers are ordered by
    their largest ST. ``labels``: the legend's name of each member (default: its variant keys).
    """
    plt = _pyplot()
    members = list(dict.fromkeys(table["member"]))
    outputs = list(dict.fromkeys(table["output"])) if "output" in table else [""]
    order = (table.groupby("driver", sort=False)["ST"].max().sort_values(ascending=False, kind="stable").index)
    x = np.arange(len(order))
    width = 0.8 / len(members)
    fig, axes = plt.subplots(len(outputs), 1, squeeze=False, sharex=True,
                             figsize=(min(11.0, max(6.5, 0.3 * len(order) * len(members) + 3.0)),
                                      0.4 + 3.0 * len(outputs)))
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.85, len(members)))
    for ax, output in zip(axes[:, 0], outputs):
        mine = table[table["output"] == output] if output else table
        for j, (member, colour) in enumerate(zip(members, colours)):
            rows = mine[mine["member"] == member].set_index("driver").reindex(order)
            gated = (_texts(rows["gate"]) != "").any()
            label = (labels or {}).get(member) or _variant(member)
            offset = x - 0.4 + width * (j + 0.5)
            ax.bar(offset, rows["ST"], width, yerr=rows["ST_conf"], capsize=2, color=colour,
                   label=label + (" (NOT ESTIMABLE)" if gated else ""), hatch="//" if gated else None,
                   alpha=0.5 if gated else 1.0, error_kw={"elinewidth": 0.8})
            ax.errorbar(offset, rows["S1"], yerr=rows["S1_conf"], fmt="_", color="black", ms=7, elinewidth=0.6,
                        capsize=0)
        scale = mine["scale"].iloc[0] if "scale" in mine and len(mine) else ""
        shown = f"ln({output})" if scale == "ln" and output else output
        ax.set_ylabel(f"ST, S1 of {shown} [1]" if shown else "ST (bars), S1 (ticks) [1]", fontsize=LABEL)
        ax.set_title(f"{title}: {shown}" if shown else title, fontsize=TITLE, loc="left")
        ax.tick_params(labelsize=TICK)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xticks(x, list(order), rotation=25, ha="right", fontsize=TICK)
    axes[0, 0].plot([], [], "_", color="black", ms=7, label="S1 (first order)")
    axes[0, 0].legend(fontsize=LEGEND, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return _png(fig)


def _texts(column: pd.Series) -> pd.Series:
    """A text column with missing cells (NaN when read back from CSV) as empty strings."""
    return column.map(lambda v: v if isinstance(v, str) else "")


def _variant(member: str) -> str:
    """``beta=1.0, beta_enz=0.5`` of ``tao_enzyme[beta=1.0, beta_enz=0.5, beta_rescale=site]``."""
    inside = member[member.find("[") + 1:-1] if "[" in member else member
    shown = [part for part in inside.split(", ") if not part.startswith(("beta_rescale=", "parameter_set="))]
    return ", ".join(shown) or member


def overview(rows: pd.DataFrame, outputs: list[str], scale: str, box_ratio: float | None,
             h_cue: float | None, confidence: float = 0.95) -> bytes:
    """The verdict at a glance: per model x variant, ST(c_input)/ST(cue_scale) and the crossover k.

    ``rows``: one row per member x output, in display order, with ``label``, ``model``, ``output``,
    ``ratio``, ``ratio_low``, ``ratio_high``, ``cue_effect`` (raises/lowers/unclear), ``status``
    (empty, or why there is no value: "not estimable", "failed", ...) and, for the crossover panel
    (drawn when any row has a ``state``), ``k``, ``k_low``, ``k_high``, ``ratio_min``,
    ``ratio_max`` and ``state`` (crossover.csv at cue_scale ±``h_cue``). Left: the ratio with its
    interval on a log axis, a line at 1; right: k, arrows where input (←) or CUE (→) dominates at
    every ratio of the grid, a dashed line at the ratio of the scenario's box (``box_ratio``).
    Marker: the sign of the CUE effect; fill: the output. ``confidence``: of the intervals [1].
    """
    plt = _pyplot()
    labels = list(dict.fromkeys(rows["label"]))
    models = rows.drop_duplicates("label").set_index("label")["model"]
    y = {label: i for i, label in enumerate(labels)}
    crossover = "state" in rows and _texts(rows["state"]).ne("").any()
    fig, axes = plt.subplots(1, 2 if crossover else 1, squeeze=False, sharey=True,
                             figsize=(11.0, 1.5 + 0.17 * len(labels)),
                             gridspec_kw={"width_ratios": [3, 2.1] if crossover else [1]})
    left = axes[0, 0]
    offsets = {o: (i - (len(outputs) - 1) / 2) * (0.34 / max(1, len(outputs) - 1)) for i, o in enumerate(outputs)}
    fills = {o: FILLS[i % len(FILLS)] for i, o in enumerate(outputs)}
    values = rows[_texts(rows["status"]) == ""]
    finite = pd.concat([values["ratio_low"], values["ratio_high"], values["ratio"]]).replace([np.inf, -np.inf], np.nan)
    finite = finite[finite > 0].dropna()
    lo = min(0.5, float(finite.min()) / 2.5) if len(finite) else 0.1
    hi = max(2.0, float(finite.max()) * 2.5) if len(finite) else 10.0
    for ax in axes[0]:
        for i, label in enumerate(labels):  # a band behind every other model
            if list(dict.fromkeys(models)).index(models[label]) % 2:
                ax.axhspan(i - 0.5, i + 0.5, color="#eef3f8", zorder=0, lw=0)
    for _, r in rows.iterrows():
        row_y = y[r["label"]] + offsets[r["output"]]
        marker, colour = EFFECT_STYLE.get(str(r["cue_effect"]), EFFECT_STYLE["unclear"])
        if isinstance(r["status"], str) and r["status"]:
            _missing(left, rows, r, y, offsets, np.sqrt(lo * hi) if lo < 1 < hi else 1.0)
            continue
        err = [[max(r["ratio"] - r["ratio_low"], 0.0)], [max(r["ratio_high"] - r["ratio"], 0.0)]]
        left.errorbar([r["ratio"]], [row_y], xerr=err if np.all(np.isfinite(err)) else None, fmt=marker,
                      color=colour, ms=6.5, mew=1.3, fillstyle=fills[r["output"]], elinewidth=1.2, capsize=0,
                      zorder=3)
    left.axvline(1.0, color="black", lw=1.0, zorder=1)
    left.set_xscale("log")
    left.set_xlim(lo, hi)
    _log_ticks(left, lo, hi)
    left.set_title("Importance of input relative to CUE at this box", fontsize=TITLE, loc="left")
    left.set_xlabel(f"ST(c_input) / ST(cue_scale), {confidence:.0%} interval\n"
                    "← CUE outranks input  |  input outranks CUE →", fontsize=LABEL)
    left.set_yticks(range(len(labels)), labels, fontsize=TICK)
    left.set_ylim(len(labels) - 0.5, -0.5)
    if crossover:
        _crossover_panel(axes[0, 1], rows, y, offsets, fills, box_ratio, h_cue)
    for ax in axes[0]:
        ax.tick_params(axis="x", labelsize=TICK)
        ax.tick_params(axis="y", length=0)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", which="major", color="#dde3ea", lw=0.6, zorder=0)
    handles = [plt.Line2D([], [], ls="", marker=m, color=c, ms=7, label=f"CUE {effect} {scale}SOC" if effect != "unclear"
                          else "sign of the CUE effect unclear") for effect, (m, c) in EFFECT_STYLE.items()]
    handles += [plt.Line2D([], [], ls="", marker="s", color="#444444", fillstyle=fills[o], ms=7, label=o)
                for o in outputs]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=LEGEND, frameon=False,
               bbox_to_anchor=(0.5, 1.0), handletextpad=0.3, columnspacing=1.2)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.42 / fig.get_figheight()))
    return _png(fig)


def _missing(ax, rows: pd.DataFrame, r: pd.Series, y: dict[str, int], offsets: dict[str, float], x: float) -> None:
    """Why a member x output has no value, as text in its row (once when every output says the same)."""
    mine = rows[rows["label"] == r["label"]]
    same = mine["status"].nunique() == 1 and len(mine) == len(offsets)
    if same and r["output"] != mine["output"].iloc[0]:
        return
    text = r["status"] if same else f"{r['output']}: {r['status']}"
    ax.text(x, y[r["label"]] + (0 if same else offsets[r["output"]]), text, ha="center", va="center",
            fontsize=LEGEND, style="italic", color="#5b6b7c", zorder=3)


def _crossover_panel(ax, rows: pd.DataFrame, y: dict[str, int], offsets: dict[str, float], fills: dict[str, str],
                     box_ratio: float | None, h_cue: float | None) -> None:
    """The crossover ratio k per member x output (see ``overview``)."""
    grid = rows[_texts(rows["state"]) != ""]
    lo, hi = float(grid["ratio_min"].min()) / 2.2, float(grid["ratio_max"].max()) * 2.2
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.axvspan(lo, float(grid["ratio_min"].min()), color="#f4f6f8", zorder=0, lw=0)
    ax.axvspan(float(grid["ratio_max"].max()), hi, color="#f4f6f8", zorder=0, lw=0)
    shown = grid.assign(status=grid["state"])
    for index, r in grid.iterrows():
        row_y = y[r["label"]] + offsets[r["output"]]
        marker, colour = EFFECT_STYLE.get(str(r["cue_effect"]), EFFECT_STYLE["unclear"])
        state = r["state"]
        if state.startswith("crosses"):
            low = r["k_low"] if np.isfinite(r["k_low"]) else r["ratio_min"]
            high = r["k_high"] if np.isfinite(r["k_high"]) else r["ratio_max"]
            ax.errorbar([r["k"]], [row_y], xerr=[[max(r["k"] - low, 0.0)], [max(high - r["k"], 0.0)]], fmt=marker,
                        color=colour, ms=6.5, mew=1.3, fillstyle=fills[r["output"]], elinewidth=1.2, zorder=3)
        elif state in ("input throughout", "CUE throughout"):
            start = r["ratio_min"] if state == "input throughout" else r["ratio_max"]
            end = start / 1.9 if state == "input throughout" else start * 1.9
            ax.annotate("", xy=(end, row_y), xytext=(start, row_y), zorder=3,
                        arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.3, "shrinkA": 0, "shrinkB": 0,
                                    "mutation_scale": 9, "ls": "-" if fills[r["output"]] == "full" else ":"})
        else:  # non-monotone, not estimable
            _missing(ax, shown, shown.loc[index], y, offsets, float(np.sqrt(lo * hi)))
    _log_ticks(ax, lo, hi)
    box = ""
    if box_ratio is not None and lo < box_ratio < hi:
        ax.axvline(box_ratio, color="#1f5f9e", ls="--", lw=1.2, zorder=1)
        box = f"; dashed: this box ({box_ratio:.3g})"
    ax.set_title("Crossover k" + (f" at cue_scale ±{h_cue:.0%}" if h_cue is not None else ""), fontsize=TITLE,
                 loc="left")
    ax.set_xlabel("input outranks CUE beyond k × CUE's half-width\n"
                  f"← input, → CUE throughout the grid{box}", fontsize=LABEL)


def _log_ticks(ax, lo: float, hi: float) -> None:
    """Plain tick labels on a log axis: 1-2-5 steps over about two decades, else powers of ten."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    decades = np.log10(hi / lo)
    steps = (1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)
    ticks = [m * 10.0 ** e for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1) for m in steps]
    ticks = [t for t in ticks if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])


def heatmaps(table: pd.DataFrame, x: str, y: str, value: str, title: str,
             labels: Mapping[str, str] | None = None) -> bytes:
    """One heatmap panel per model x variant of ``value`` over the grid ``x`` x ``y`` (``labels``: panel titles)."""
    plt = _pyplot()
    members = list(dict.fromkeys(table["member"]))
    cols = min(4, len(members))
    rows = int(np.ceil(len(members) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.1 * rows), squeeze=False,
                             constrained_layout=True)
    limit = float(np.nanmax(np.abs(table[value]))) if table[value].notna().any() else 1.0
    image = None
    for ax, member in zip(axes.flat, members):
        grid = table[table["member"] == member].pivot_table(index=y, columns=x, values=value, dropna=False)
        image = ax.pcolormesh(grid.columns, grid.index, grid.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit,
                              shading="nearest")
        ax.set_title(textwrap.fill((labels or {}).get(member, member).replace("[", " [", 1), 34), fontsize=LEGEND)
        ax.set_xlabel(x, fontsize=LABEL - 1)
        ax.set_ylabel(y, fontsize=LABEL - 1)
        ax.tick_params(labelsize=TICK - 1)
    for ax in axes.flat[len(members):]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=value)
    fig.suptitle(title, fontsize=TITLE)
    return _png(fig)


def _short(label: str, width: int = 48) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def posterior_densities(draws: dict[str, dict[str, np.ndarray]], priors: Mapping[str, Density | None],
                        title: str) -> bytes:
    """One panel per calibrated quantity: posterior histograms per member, prior density dashed.

    ``draws`` is {member: {quantity: draws}}; ``priors`` maps a quantity to a frozen SciPy
    distribution (or None).
    """
    plt = _pyplot()
    names = list(dict.fromkeys(q for d in draws.values() for q in d))
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        values = [d[name] for d in draws.values() if name in d]
        lo, hi = min(v.min() for v in values), max(v.max() for v in values)
        bins = np.linspace(lo, hi, 40)
        for member, d in draws.items():
            if name in d:
                ax.hist(d[name], bins=bins, density=True, histtype="step", label=_short(member))
        prior = priors.get(name)
        if prior is not None:
            x = np.linspace(lo, hi, 200)
            ax.plot(x, prior.pdf(x), "k--", lw=1, label="prior")
        ax.set_xlabel(name, fontsize=LABEL)
        ax.set_ylabel("density", fontsize=LABEL)
        ax.tick_params(labelsize=TICK - 1)
        ax.spines[["top", "right"]].set_visible(False)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(names)),
               fontsize=LEGEND, frameon=False)
    fig.suptitle(title, fontsize=TITLE)
    fig.tight_layout()
    return _png(fig)


def observed_vs_predicted(predictions: pd.DataFrame, id_column: str, units: str) -> bytes:
    """Observed (x) against the posterior median steady state (y) with its 90 % interval, log axes."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 4.2))
    for member, block in predictions.groupby("member", sort=False):
        mid = block["predicted_median"].to_numpy()
        err = np.vstack([mid - block["predicted_q05"], block["predicted_q95"] - mid])
        ax.errorbar(block["observed"], mid, yerr=err, fmt="o", ms=4, capsize=2, label=_short(member))
    for _, r in predictions.drop_duplicates(id_column).iterrows():
        ax.annotate(str(r[id_column]), (r["observed"], r["predicted_median"]), fontsize=LEGEND - 2, xytext=(3, 3),
                    textcoords="offset points")
    values = np.concatenate([predictions["observed"], predictions["predicted_q05"], predictions["predicted_q95"]])
    values = values[values > 0]
    lims = (values.min() / 1.3, values.max() * 1.3)
    ax.plot(lims, lims, "k:", lw=1, label="1:1")
    ax.set(xscale="log", yscale="log", xlim=lims, ylim=lims, xlabel=f"observed [{units}]",
           ylabel=f"predicted (posterior median, 90 %) [{units}]")
    ax.legend(fontsize=LEGEND - 1, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def maps(lat: np.ndarray, lon: np.ndarray, fields: dict[str, np.ndarray], label: str, log: bool = False,
         diverging: bool = False) -> bytes:
    """One lat/lon map per field (NaN blank) on a shared colour scale.

    ``log``: log10 of the values; ``diverging``: a red-blue scale symmetric about 0 (for biases).

    Parameters
    ----------
    lat, lon : ndarray
        Cell centres in any order. [degrees_north], [degrees_east]
    fields : dict
        Panel title -> (lat, lon) values.
    label : str
        Colour-bar label, with units.
    """
    plt = _pyplot()
    with np.errstate(divide="ignore", invalid="ignore"):
        shown = {k: np.where(v > 0, np.log10(v), np.nan) if log else v for k, v in fields.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in shown.values()] or [np.zeros(1)])
    lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
    if diverging:
        hi = max(abs(lo), abs(hi), 1e-12)
        lo = -hi
    columns = min(3, len(shown))
    rows = -(-len(shown) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns + 0.8, 1.9 * rows + 0.3), squeeze=False,
                             constrained_layout=True)
    lat_order, lon_order = np.argsort(lat), np.argsort(lon)
    image = None
    for ax, (title, values) in zip(axes.flat, shown.items()):
        image = ax.pcolormesh(lon[lon_order], lat[lat_order], values[np.ix_(lat_order, lon_order)],
                              vmin=lo, vmax=hi, cmap="RdBu_r" if diverging else "viridis", shading="nearest")
        ax.set_title(textwrap.fill(title, 34), fontsize=LEGEND)
        ax.set_xlim(-180, 180)
        ax.set_ylim(-60, 90)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=TICK - 2)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8)
        bar.set_label(f"log10 {label}" if log else label, fontsize=LABEL)
        bar.ax.tick_params(labelsize=TICK - 1)
    return _png(fig)


def reconciliation(verdict: pd.DataFrame, table: pd.DataFrame, output: str) -> bytes:
    """Did assimilation bring the structures together: per structure and as a spread, prior box against posterior.

    Left: ln(ST(input)/ST(CUE)) of each structure over the prior box (open) and the posterior
    (filled), with its interval; right: the spread across structures (standard deviation) under
    each, with its interval.

    ``verdict`` holds the rows of ``verdict.csv`` with ``inputs`` ("prior box"/"posterior"), ``ratio``,
    ``ratio_low``, ``ratio_high`` and ``cue_effect``; ``table`` the rows of ``reconciliation.csv``.
    """
    plt = _pyplot()
    rows = verdict[verdict["output"] == output]
    structures = list(dict.fromkeys(m.removesuffix(" | posterior") for m in rows["member"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 0.5 * len(structures) + 1.8),
                                      gridspec_kw={"width_ratios": [3, 1.3]})
    for side, offset, fill in (("prior box", -0.12, "none"), ("posterior", 0.12, "full")):
        for y, structure in enumerate(structures):
            label = structure if side == "prior box" else f"{structure} | posterior"
            r = rows[rows["member"] == label]
            if r.empty or not np.isfinite(r["ratio"].iloc[0]) or r["ratio"].iloc[0] <= 0:
                continue
            r = r.iloc[0]
            if not bool(r.get("estimable", True)):  # shown as such, never placed
                left.annotate(f"{side}: not estimable", (0.01, y + offset), xycoords=("axes fraction", "data"),
                              fontsize=LEGEND - 2, color="#7f8c8d", va="center")
                continue
            marker, colour = EFFECT_STYLE.get(r.get("cue_effect", ""), ("o", "#7f8c8d"))
            mid = np.log(r["ratio"])
            if np.isfinite(r["ratio_low"]) and r["ratio_low"] > 0:
                left.plot([np.log(r["ratio_low"]), np.log(r["ratio_high"])], [y + offset] * 2, color=colour, lw=1.2)
            left.plot(mid, y + offset, marker=marker, color=colour, fillstyle=fill, ms=7, ls="none",
                      label=side if y == 0 else None)
    left.axvline(0.0, color="k", lw=0.8, ls=":")
    left.set_yticks(range(len(structures)), [_short(s, 40) for s in structures], fontsize=TICK - 1)
    left.invert_yaxis()
    left.set_xlabel("ln(ST(input) / ST(CUE))  (> 0: input matters more)", fontsize=LABEL)
    left.legend(fontsize=LEGEND - 1, frameon=False, loc="best")
    block = table[table["output"] == output]
    if not block.empty and "prior_sd" in block and np.isfinite(block["prior_sd"].iloc[0]):
        b = block.iloc[0]
        for x, side in enumerate(("prior", "posterior")):
            right.errorbar(x, b[f"{side}_sd"], yerr=b[f"{side}_sd_conf"], fmt="o", color="k", capsize=3,
                           fillstyle="none" if side == "prior" else "full")
        right.set_xticks([0, 1], ["prior box", "posterior"], fontsize=TICK - 1)
        right.set_xlim(-0.6, 1.6)
        right.set_ylim(bottom=0)
    structures_used = int(block["structures"].iloc[0]) if not block.empty else 0
    right.set_ylabel("sd of ln ratio across structures", fontsize=LABEL)
    right.set_title(f"{structures_used} structures estimable in both", fontsize=LABEL - 1)
    for ax in (left, right):
        ax.tick_params(labelsize=TICK - 1)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(f"Did assimilation bring the structures together? ({output}, ln scale)", fontsize=TITLE)
    fig.tight_layout()
    return _png(fig)


def trajectories(paths: pd.DataFrame, output: str, title: str, labels: Mapping[str, str] | None = None) -> bytes:
    """``output`` of each member over the years of one experiment, relative to its steady state [1].

    ``paths`` holds the rows of ``trajectories.csv`` of one experiment (``member``, ``year``, ``output``).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for member, block in paths.groupby("member", sort=False):
        y = block[output].to_numpy()
        if not np.isfinite(y).any() or not y[0] > 0:
            continue
        ax.plot(block["year"], y / y[0], lw=1.4, label=_short((labels or {}).get(member, member), 44))
    ax.axhline(1.0, color="k", lw=0.8, ls=":")
    ax.set_xlabel("years after the change [yr]", fontsize=LABEL)
    ax.set_ylabel(f"{output} / {output} at the steady state [1]", fontsize=LABEL)
    ax.set_title(_short(title, 80), fontsize=TITLE)
    ax.tick_params(labelsize=TICK)
    ax.legend(fontsize=LEGEND - 2, frameon=False, loc="best")
    return _png(fig)

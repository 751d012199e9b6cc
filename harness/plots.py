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


def sobol_variants(table: pd.DataFrame, title: str) -> bytes:
    """ST (bars, with confidence half-widths) and S1 (black ticks) of every variant of one model.

    ``table`` holds the driver rows of one output for each of the model's members (column
    ``member``), with ``ST``, ``ST_conf``, ``S1``, ``S1_conf`` and ``gate`` (non-empty: not
    estimable, drawn hatched and so labelled). Drivers are ordered by their largest ST.
    """
    plt = _pyplot()
    members = list(dict.fromkeys(table["member"]))
    order = (table.groupby("driver", sort=False)["ST"].max().sort_values(ascending=False, kind="stable").index)
    x = np.arange(len(order))
    width = 0.8 / len(members)
    fig, ax = plt.subplots(figsize=(min(11.0, max(5.0, 0.25 * len(order) * len(members) + 2.0)), 3.2))
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.85, len(members)))
    for j, (member, colour) in enumerate(zip(members, colours)):
        rows = table[table["member"] == member].set_index("driver").reindex(order)
        gated = (rows["gate"].fillna("").astype(str) != "").any()
        label = _variant(member) + (" (NOT ESTIMABLE)" if gated else "")
        offset = x - 0.4 + width * (j + 0.5)
        ax.bar(offset, rows["ST"], width, yerr=rows["ST_conf"], capsize=2, color=colour, label=label,
               hatch="//" if gated else None, alpha=0.5 if gated else 1.0, error_kw={"elinewidth": 0.8})
        ax.errorbar(offset, rows["S1"], yerr=rows["S1_conf"], fmt="_", color="black", ms=6, elinewidth=0.6,
                    capsize=0)
    ax.plot([], [], "_", color="black", ms=6, label="S1 (first order)")
    _style(ax, x, list(order), "ST (bars), S1 (ticks) [1]", title)
    return _png(fig)


def _variant(member: str) -> str:
    """``beta=1.0, beta_enz=0.5`` of ``tao_enzyme[beta=1.0, beta_enz=0.5, beta_rescale=site]``."""
    inside = member[member.find("[") + 1:-1] if "[" in member else member
    shown = [part for part in inside.split(", ") if not part.startswith(("beta_rescale=", "parameter_set="))]
    return ", ".join(shown) or member


def _style(ax, x, labels, ylabel: str, title: str) -> None:
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def heatmaps(table: pd.DataFrame, x: str, y: str, value: str, title: str) -> bytes:
    """One heatmap panel per model x variant of ``value`` over the grid ``x`` x ``y``."""
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
        ax.set_title(textwrap.fill(member.replace("[", " [", 1), 38), fontsize=7)
        ax.set_xlabel(x, fontsize=8)
        ax.set_ylabel(y, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(members):]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=value)
    fig.suptitle(title, fontsize=10)
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
        ax.set_xlabel(name)
        ax.set_ylabel("density")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0, 0].legend(fontsize=6, frameon=False)
    fig.suptitle(title, fontsize=9)
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
        ax.annotate(str(r[id_column]), (r["observed"], r["predicted_median"]), fontsize=6, xytext=(3, 3),
                    textcoords="offset points")
    values = np.concatenate([predictions["observed"], predictions["predicted_q05"], predictions["predicted_q95"]])
    values = values[values > 0]
    lims = (values.min() / 1.3, values.max() * 1.3)
    ax.plot(lims, lims, "k:", lw=1, label="1:1")
    ax.set(xscale="log", yscale="log", xlim=lims, ylim=lims, xlabel=f"observed [{units}]",
           ylabel=f"predicted (posterior median, 90 %) [{units}]")
    ax.legend(fontsize=6, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def maps(lat: np.ndarray, lon: np.ndarray, fields: dict[str, np.ndarray], label: str, log: bool = False) -> bytes:
    """One lat/lon map per field (NaN blank) on a shared colour scale; ``log``: log10 of the values.

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
    columns = min(3, len(shown))
    rows = -(-len(shown) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 1.9 * rows + 0.3), squeeze=False)
    lat_order, lon_order = np.argsort(lat), np.argsort(lon)
    image = None
    for ax, (title, values) in zip(axes.flat, shown.items()):
        image = ax.pcolormesh(lon[lon_order], lat[lat_order], values[np.ix_(lat_order, lon_order)],
                              vmin=lo, vmax=hi, cmap="viridis", shading="nearest")
        ax.set_title(_short(title), fontsize=7)
        ax.set_xlim(-180, 180)
        ax.set_ylim(-60, 90)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=f"log10 {label}" if log else label)
    return _png(fig)

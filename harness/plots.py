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


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def sobol_panels(block: pd.DataFrame, convergence: pd.DataFrame | None, title: str) -> bytes:
    """Left: S1 and ST with confidence half-widths, by ST. Right: ST at N/2 and at N."""
    plt = _pyplot()
    block = block[block["ST"].notna()].sort_values("ST", ascending=False, kind="stable")
    x = np.arange(len(block))
    panels = 2 if convergence is not None and not convergence.empty else 1
    width = max(3.5, 0.55 * len(block) + 1.5)
    fig, axes = plt.subplots(1, panels, figsize=(width * panels, 3.0), squeeze=False)
    ax = axes[0, 0]
    ax.bar(x - 0.2, block["S1"], 0.4, yerr=block["S1_conf"], capsize=3, label="S1 (first order)", color="#8fb8de")
    ax.bar(x + 0.2, block["ST"], 0.4, yerr=block["ST_conf"], capsize=3, label="ST (total)", color="#1f5f9e")
    _style(ax, x, block["driver"], "Sobol index [1]", title)
    if convergence is not None and panels == 2:
        conv = convergence.set_index("driver").loc[block["driver"]]
        ax = axes[0, 1]
        ax.errorbar(x - 0.1, conv["ST_half"], yerr=conv["ST_conf_half"], fmt="o", capsize=3, color="#c77c2e",
                    label=f"N = {int(conv['n_base_half'].max())}")
        ax.errorbar(x + 0.1, conv["ST"], yerr=conv["ST_conf"], fmt="s", capsize=3, color="#1f5f9e",
                    label=f"N = {int(conv['n_base'].max())}")
        _style(ax, x, block["driver"], "ST [1]", "convergence")
    return _png(fig)


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

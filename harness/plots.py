"""Figures of a run (matplotlib, Agg backend): PNG bytes, written to files and embedded in HTML."""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def sobol_bars(block: pd.DataFrame, title: str) -> bytes:
    """S1 and ST with confidence half-widths per driver, ordered by ST."""
    plt = _pyplot()
    block = block[block["rank"] > 0].sort_values("rank")
    x = np.arange(len(block))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(block) + 2), 3.2))
    ax.bar(x - 0.2, block["S1"], 0.4, yerr=block["S1_conf"], capsize=3, label="S1 (first order)", color="#8fb8de")
    ax.bar(x + 0.2, block["ST"], 0.4, yerr=block["ST_conf"], capsize=3, label="ST (total)", color="#1f5f9e")
    ax.set_xticks(x, block["driver"], rotation=30, ha="right")
    ax.set_ylabel("Sobol index [1]")
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(block["S1"] - block["S1_conf"])) if len(block) else 0.0))
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def convergence_panel(block: pd.DataFrame, title: str) -> bytes:
    """ST at N/2 and at N per driver, with confidence half-widths."""
    plt = _pyplot()
    block = block.sort_values("rank")
    x = np.arange(len(block))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(block) + 2), 3.0))
    n_half, n_full = int(block["n_base_half"].max()), int(block["n_base"].max())
    ax.errorbar(x - 0.1, block["ST_half"], yerr=block["ST_conf_half"], fmt="o", capsize=3, label=f"N = {n_half}",
                color="#c77c2e")
    ax.errorbar(x + 0.1, block["ST"], yerr=block["ST_conf"], fmt="s", capsize=3, label=f"N = {n_full}",
                color="#1f5f9e")
    ax.set_xticks(x, block["driver"], rotation=30, ha="right")
    ax.set_ylabel("ST [1]")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


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

"""The roll-up of a Sobol run: convergence of the rankings and the CUE-versus-input verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analysis import compare_two, top_ranking_stable
from ..members import Member

CUE, INPUT = "cue_scale", "c_input"
TOP = 3  # drivers whose order must hold between N/2 and N


def convergence_table(indices: pd.DataFrame, half: pd.DataFrame) -> pd.DataFrame:
    """Driver-level ST at N/2 beside ST at N, and whether the top drivers keep their order."""
    keys = ["member", "output", "driver"]
    full = indices[indices["level"] == "driver"]
    table = full[keys + ["ST", "ST_conf", "rank", "n_base"]].merge(
        half[keys + ["ST", "ST_conf", "rank", "n_base"]], on=keys, suffixes=("", "_half"))
    stable = {
        key: top_ranking_stable(block["ST_half"].to_numpy(), block["ST"].to_numpy(), TOP)
        for key, block in table.groupby(["member", "output"], sort=False)
    }
    table["top_stable"] = [stable[(m, o)] for m, o in zip(table["member"], table["output"])]
    return table


def verdict_table(indices: pd.DataFrame, convergence: pd.DataFrame, members: list[Member],
                  conditioned: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per model x variant x output: ST(cue_scale) vs ST(c_input), which dominates,
    whether that is resolved (confidence intervals apart) and whether the ranking is stable.

    ``conditioned`` maps posterior-informed members to what they are conditioned on; with it the
    table gains the columns ``inputs`` ("prior box" or "posterior") and ``conditioned_on``.
    """
    full = indices[indices["level"] == "driver"]
    rows = []
    for member in members:
        for output, block in full[full["member"] == member.label].groupby("output", sort=False):
            by = block.set_index("driver")
            rows.append({"model": member.model, **member.variant, "member": member.label, "output": output,
                         **_cue_vs_input(by), "top_stable": _stable(convergence, member.label, output),
                         "top_drivers": _top(by), "n_base": int(by["n_base"].max()),
                         **(_inputs(member.label, conditioned) if conditioned else {})})
    return pd.DataFrame(rows)


def _inputs(label: str, conditioned: dict[str, str]) -> dict[str, str]:
    return {"inputs": "posterior" if label in conditioned else "prior box", "conditioned_on": conditioned.get(label, "")}


def _cue_vs_input(by: pd.DataFrame) -> dict[str, Any]:
    get = lambda d, k: float(by.at[d, k]) if d in by.index else np.nan  # noqa: E731
    st_c, conf_c, st_i, conf_i = get(CUE, "ST"), get(CUE, "ST_conf"), get(INPUT, "ST"), get(INPUT, "ST_conf")
    sign, resolved = compare_two(st_c, conf_c, st_i, conf_i)
    if sign == 0:
        verdict = "not represented" if np.isnan(st_c) or np.isnan(st_i) else "inconclusive"
    else:
        verdict = ("CUE" if sign > 0 else "input") if resolved else "inconclusive"
    return {"ST_cue": st_c, "ST_cue_conf": conf_c, "ST_input": st_i, "ST_input_conf": conf_i,
            "dominant": {1: CUE, -1: INPUT}.get(sign, ""), "resolved": resolved, "verdict": verdict}


def _stable(convergence: pd.DataFrame, member: str, output: str) -> bool:
    hit = convergence[(convergence["member"] == member) & (convergence["output"] == output)]
    return bool(hit["top_stable"].iloc[0]) if len(hit) else False


def _top(by: pd.DataFrame) -> str:
    ranked = by[by["rank"] > 0].sort_values("rank")
    return " > ".join(ranked.index[:TOP])


def beta_effects(verdict: pd.DataFrame) -> pd.DataFrame:
    """He et al.'s claim, per model: does ST(c_input) rise when beta moves from 1 to above 1?

    Compares each variant with beta > 1 against the variant with beta = 1 that agrees on every
    other variant key. ``resolved``: the rise exceeds the sum of the two confidence half-widths.
    """
    if "beta" not in verdict:
        return pd.DataFrame()
    others = [c for c in verdict.columns if c not in {
        "model", "beta", "member", "output", "ST_cue", "ST_cue_conf", "ST_input", "ST_input_conf", "dominant",
        "resolved", "verdict", "top_stable", "top_drivers", "n_base", "conditioned_on"}]
    rows = []
    table = verdict[verdict["beta"].notna() & (verdict["beta"].astype(str) != "")]
    for keys, block in table.groupby(["model", "output", *others], sort=False, dropna=False):
        block = block.assign(beta=block["beta"].astype(float))
        base = block[block["beta"] == 1.0]
        if base.empty:
            continue
        b = base.iloc[0]
        for _, r in block[block["beta"] > 1.0].iterrows():
            rise = r["ST_input"] - b["ST_input"]
            rows.append({
                "model": keys[0], "output": keys[1], **dict(zip(others, keys[2:])), "beta": r["beta"],
                "ST_input_beta1": b["ST_input"], "ST_input_beta1_conf": b["ST_input_conf"],
                "ST_input": r["ST_input"], "ST_input_conf": r["ST_input_conf"], "rise": rise,
                "rises": bool(rise > 0), "resolved": bool(rise > b["ST_input_conf"] + r["ST_input_conf"]),
                "verdict_beta1": b["verdict"], "verdict": r["verdict"],
            })
    return pd.DataFrame(rows)

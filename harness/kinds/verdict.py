"""The roll-up of a Sobol run: convergence, the CUE-versus-input verdict and votes by structure.

It also gives He et al.'s beta effect on a scale-free quantity.

Every verdict row says on which scale (``scale``), from how much of the design (``n_base`` of
``blocks_total``), with what sign (``cue_effect``, ``effect``) and how sure (paired intervals)
it is; a member that fails a gate or whose analysis failed is shown with the reason and never
counted as CUE or input. See docs/verdict.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analysis import top_ranking_stable
from ..members import Member
from ..replicated import log_ratio, t_interval
from ..verdict_report import keys_text, variant_keys
from .common import member_columns, variant_columns
from .gates import Fit

CUE, INPUT = "cue_scale", "c_input"
TOP = 3  # drivers whose order must hold between N/2 and N
#: verdict states that are not a comparison of CUE and input
UNCOUNTED = ("not estimable", "failed", "not represented")
NAMES = {CUE: "CUE", INPUT: "input"}


def convergence_table(indices: pd.DataFrame, half: pd.DataFrame) -> pd.DataFrame:
    """Driver-level ST at N/2 beside ST at N, and whether the top drivers keep their order."""
    keys = ["member", "output", "driver"]
    full = indices[indices["level"] == "driver"]
    if half.empty:
        return pd.DataFrame(columns=[*keys, "ST", "ST_conf", "rank", "n_base", "ST_half", "top_stable"])
    table = full[keys + ["ST", "ST_conf", "rank", "n_base"]].merge(
        half[keys + ["ST", "ST_conf", "rank", "n_base"]], on=keys, suffixes=("", "_half"))
    stable = {
        key: top_ranking_stable(block["ST_half"].to_numpy(), block["ST"].to_numpy(), TOP)
        for key, block in table.groupby(["member", "output"], sort=False)
    }
    table["top_stable"] = [stable[(m, o)] for m, o in zip(table["member"], table["output"])]
    return table


def verdict_table(indices: pd.DataFrame, convergence: pd.DataFrame, members: list[Member],
                  fits: dict[tuple[str, str], Fit], settings, conditioned: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per model x variant x output: CUE against input.

    Each row holds the paired difference of their total indices, the ratio
    ST(c_input)/ST(cue_scale), the partial variances, the signs of both effects, the driver that
    actually comes first, and the state of the comparison.

    ``conditioned`` maps posterior-informed members to what they are conditioned on; with it the
    table gains the columns ``inputs`` ("prior box" or "posterior") and ``conditioned_on``.
    """
    full = indices[indices["level"] == "driver"]
    columns = variant_columns(members)
    rows = []
    for member in members:
        for output, block in full[full["member"] == member.label].groupby("output", sort=False):
            by = block.set_index("driver")
            fit = fits[(member.label, output)]
            rows.append({**member_columns(member, columns), "member": member.label, "output": output,
                         "scale": block["scale"].iloc[0], **_comparison(by, fit, settings.confidence),
                         "top_stable": _stable(convergence, member.label, output), "top_drivers": _top(by),
                         "n_base": int(by["n_base"].max()), "blocks_total": int(by["blocks_total"].max()),
                         **(_inputs(member.label, conditioned) if conditioned else {})})
    table = pd.DataFrame(rows)
    table["answer"] = [answer(r) for _, r in table.iterrows()]
    table["equivalent_to"] = equivalents(table, fits, settings.equivalence, settings.confidence)
    return table


def _comparison(by: pd.DataFrame, fit: Fit, confidence: float) -> dict[str, Any]:
    get = lambda d, k: float(by.at[d, k]) if d in by.index else np.nan  # noqa: E731
    out: dict[str, Any] = {
        "ST_cue": get(CUE, "ST"), "ST_cue_conf": get(CUE, "ST_conf"),
        "ST_input": get(INPUT, "ST"), "ST_input_conf": get(INPUT, "ST_conf"),
        "difference": np.nan, "difference_conf": np.nan, "ratio": np.nan, "ratio_low": np.nan, "ratio_high": np.nan,
        "VT_cue": np.nan, "VT_cue_conf": np.nan, "VT_input": np.nan, "VT_input_conf": np.nan,
        "cue_slope": get(CUE, "slope"), "cue_slope_conf": get(CUE, "slope_conf"),
        "cue_elasticity": get(CUE, "elasticity"), "cue_effect": "",
        "input_slope": get(INPUT, "slope"), "input_slope_conf": get(INPUT, "slope_conf"),
        "input_elasticity": get(INPUT, "elasticity"), "input_effect": "",
        "dominant": "", "resolved": False, "effect": "", "first": "", "estimable": fit.estimable, "reason": "",
    }
    ranked = by[by["rank"] > 0].sort_values("rank")
    out["first"] = str(ranked.index[0]) if len(ranked) else ""
    if fit.analysis is None:
        state = "not estimable" if fit.reasons else "failed" if fit.error else "not represented"
        return out | {"verdict": state, "reason": "; ".join(fit.reasons) or fit.error}
    if not np.isfinite([out["ST_cue"], out["ST_input"]]).all():
        missing = [d for d in (CUE, INPUT) if not np.isfinite(out[f"ST_{NAMES[d].lower()}"])]
        return out | {"verdict": "not represented", "reason": f"{', '.join(missing)} not represented"}
    out["cue_effect"] = effect_sign(out["cue_slope"], out["cue_slope_conf"])
    out["input_effect"] = effect_sign(out["input_slope"], out["input_slope_conf"])
    out |= _paired(fit, confidence)
    if not fit.estimable:
        return out | {"verdict": "not estimable", "reason": "; ".join(fit.reasons)}
    diff, half = out["difference"], out["difference_conf"]
    out["dominant"] = CUE if diff > 0 else INPUT if diff < 0 else ""
    out["resolved"] = bool(abs(diff) > half) if np.isfinite(half) else _apart(out)
    out["effect"] = out["cue_effect"] if out["dominant"] == CUE else out["input_effect"]
    verdict = NAMES.get(out["dominant"], "inconclusive") if out["resolved"] else "inconclusive"
    return out | {"verdict": verdict}


def _paired(fit: Fit, confidence: float) -> dict[str, float]:
    """Paired (per-replicate) difference ST(cue) - ST(input), ratio ST(input)/ST(cue), partial variances.

    The partial variances are ST x Var(y); with one scramble only the point values.
    """
    analysis = fit.analysis
    assert analysis is not None  # _comparison returns before pairing a fit without an analysis
    st_cue, st_in = fit.per_replicate(CUE), fit.per_replicate(INPUT)
    variance = analysis.estimates.variance
    diff, diff_c = t_interval(st_cue - st_in, confidence)
    ratio = log_ratio(st_in, st_cue, confidence)
    if analysis.estimates.replicates == 1:
        ratio = (float(st_in[0] / st_cue[0]) if st_cue[0] > 0 else np.nan, np.nan, np.nan)
    vt_cue, vt_cue_c = t_interval(st_cue * variance, confidence)
    vt_in, vt_in_c = t_interval(st_in * variance, confidence)
    return {"difference": float(diff), "difference_conf": float(diff_c), "ratio": ratio[0], "ratio_low": ratio[1],
            "ratio_high": ratio[2], "VT_cue": float(vt_cue), "VT_cue_conf": float(vt_cue_c),
            "VT_input": float(vt_in), "VT_input_conf": float(vt_in_c)}


def _apart(row: dict[str, Any]) -> bool:
    """Without replicates (bootstrap intervals): the two intervals do not overlap (conservative)."""
    return bool(abs(row["ST_cue"] - row["ST_input"]) > row["ST_cue_conf"] + row["ST_input_conf"])


def effect_sign(slope: float, half: float) -> str:
    """``raises``/``lowers`` when the slope's interval excludes 0, else ``unclear``."""
    if not np.isfinite(slope):
        return ""
    if np.isfinite(half) and abs(slope) <= half:
        return "unclear"
    return "raises" if slope > 0 else "lowers"


def answer(row: pd.Series | dict) -> str:
    """The verdict of one row as a phrase.

    ``CUE, raises`` (the output), ``input, lowers``, ``CUE, sign unclear``, or the state
    (``inconclusive``, ``not estimable``, ...).
    """
    if row["verdict"] in ("CUE", "input"):
        return f"{row['verdict']}, {row['effect'] if row['effect'] != 'unclear' else 'sign unclear'}"
    return row["verdict"]


def equivalents(table: pd.DataFrame, fits: dict[tuple[str, str], Fit], margin: float, confidence: float) -> list[str]:
    """Per row, the first earlier variant of the same model it is equivalent to ("" if none).

    Two estimable variants are equivalent when they give the same answer and, for every driver,
    the paired difference of their total indices lies within ±``margin`` with its interval.
    ``table`` has a default (positional) index, as ``verdict_table`` builds it.
    """
    out = [""] * len(table)
    fit = lambda i: fits[(table.at[i, "member"], table.at[i, "output"])]  # noqa: E731
    for _, block in table[table["estimable"]].groupby(_structure_keys(table), sort=False):
        rows = list(block.index)
        for n, i in enumerate(rows):
            for j in rows[n + 1:]:
                if not out[j] and table.at[i, "answer"] == table.at[j, "answer"] and \
                        _close(fit(i), fit(j), margin, confidence):
                    out[j] = out[i] or table.at[i, "member"]
    return out


def _close(a: Fit, b: Fit, margin: float, confidence: float) -> bool:
    assert a.analysis is not None and b.analysis is not None  # only estimable rows are compared
    diff = a.analysis.estimates.ST - b.analysis.estimates.ST
    if not np.isfinite(diff).any():
        return False
    mean, half = t_interval(diff, confidence)
    bound = np.abs(mean) + np.nan_to_num(half)
    return bool(np.nanmax(bound) < margin)


def model_votes(verdict: pd.DataFrame) -> pd.DataFrame:
    """One vote per model and output, from its variants (equivalent ones collapsed).

    The answer every resolved variant gives, ``depends on <keys>`` when resolved variants disagree,
    else inconclusive, not estimable or failed.
    """
    rows = []
    keys, variant = _structure_keys(verdict), variant_keys(verdict)
    for group, block in verdict.groupby(keys, sort=False):
        distinct = block[block["equivalent_to"].fillna("") == ""]
        answers = list(distinct["answer"])
        resolved = distinct[distinct["verdict"].isin(("CUE", "input"))]
        if resolved["answer"].nunique() == 1:
            vote = resolved["answer"].iloc[0]
        elif len(resolved):
            vote = "depends on " + ", ".join(_differing_keys(resolved))
        else:
            vote = next((s for s in ("inconclusive", "not estimable", "failed", "not represented")
                         if s in set(answers)), "")
        counts = pd.Series(answers).value_counts()
        rows.append({**dict(zip(keys, group)), "vote": vote, "variants": len(block),
                     "distinct": len(distinct), "answers": "; ".join(f"{k}: {v}" for k, v in counts.items()),
                     "detail": "; ".join(f"{keys_text(r, variant) or 'default'} → {r['answer']}"
                                         for _, r in distinct.iterrows())})
    return pd.DataFrame(rows)


def _structure_keys(table: pd.DataFrame) -> list[str]:
    """What one vote is cast per: model and output, and prior box or posterior where both occur."""
    return ["model", "output", *(["inputs"] if "inputs" in table else [])]


def _differing_keys(block: pd.DataFrame) -> list[str]:
    """The variant keys whose values differ among ``block``'s rows (``variant`` if none does)."""
    keys = [c for c in variant_keys(block) if block[c].astype(str).nunique() > 1]
    return keys or ["variant"]


def _inputs(label: str, conditioned: dict[str, str]) -> dict[str, str]:
    return {"inputs": "posterior" if label in conditioned else "prior box", "conditioned_on": conditioned.get(label, "")}


def _stable(convergence: pd.DataFrame, member: str, output: str) -> bool:
    hit = convergence[(convergence["member"] == member) & (convergence["output"] == output)]
    return bool(hit["top_stable"].iloc[0]) if len(hit) else False


def _top(by: pd.DataFrame) -> str:
    ranked = by[by["rank"] > 0].sort_values("rank")
    return " > ".join(ranked.index[:TOP])


def beta_effects(verdict: pd.DataFrame, fits: dict[tuple[str, str], Fit], confidence: float) -> pd.DataFrame:
    """He et al.'s claim on a scale-free quantity, per model.

    Does the importance of c_input *relative to* cue_scale, ST(c_input)/ST(cue_scale), rise as beta
    rises from 1?

    Compares each variant with beta > 1 against the reference variant that agrees on every other
    variant key: beta = 1, or, where beta = 1 is not estimable, the smallest estimable beta
    (``beta_ref``). Both share the unit design, so the change of ln ratio is paired across
    replicates; ``resolved``: its interval excludes 0. The partial variances ST x Var(ln soc) of
    both drivers are shown beside (unnormalised: a driver can gain share only because another
    loses it).
    """
    if "beta" not in verdict:
        return pd.DataFrame()
    others = [k for k in variant_keys(verdict) if k != "beta"]
    rows = []
    table = verdict[verdict["beta"].notna() & (verdict["beta"].astype(str) != "")]
    for keys, block in table.groupby(["model", "output", *others], sort=False, dropna=False):
        block = block.assign(beta=block["beta"].astype(float)).sort_values("beta", kind="stable")
        if not (block["beta"] == 1.0).any():
            continue
        estimable = block[block["estimable"]]
        base = block[block["beta"] == 1.0].iloc[0]
        if not base["estimable"] and len(estimable):
            base = estimable.iloc[0]
        for _, r in block[block["beta"] > max(1.0, base["beta"])].iterrows():
            rows.append({"model": keys[0], "output": keys[1], **dict(zip(others, keys[2:])), "beta": r["beta"],
                         "beta_ref": base["beta"], **_beta_change(base, r, fits, confidence)})
    return pd.DataFrame(rows)


def _beta_change(base: pd.Series, row: pd.Series, fits: dict[tuple[str, str], Fit], confidence: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ratio_beta1": base["ratio"], "ratio_beta1_low": base["ratio_low"], "ratio_beta1_high": base["ratio_high"],
        "ratio": row["ratio"], "ratio_low": row["ratio_low"], "ratio_high": row["ratio_high"],
        "VT_input_beta1": base["VT_input"], "VT_input": row["VT_input"],
        "VT_cue_beta1": base["VT_cue"], "VT_cue": row["VT_cue"],
        "ST_input_beta1": base["ST_input"], "ST_input": row["ST_input"],
        "verdict_beta1": base["answer"], "verdict": row["answer"], "change": "", "change_low": np.nan,
        "change_high": np.nan, "rises": False, "resolved": False, "state": "",
    }
    if not (base["estimable"] and row["estimable"]):
        return out | {"state": "not estimable"}
    a, b = fits[(base["member"], base["output"])], fits[(row["member"], row["output"])]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (np.log(b.per_replicate(INPUT)) - np.log(b.per_replicate(CUE))
                  - np.log(a.per_replicate(INPUT)) + np.log(a.per_replicate(CUE)))
    if np.isfinite(change).all() and change.size > 1:
        mean, half = t_interval(change, confidence)
        factor, low, high = float(np.exp(mean)), float(np.exp(mean - half)), float(np.exp(mean + half))
        rises, resolved = factor > 1, bool(low > 1 or high < 1)
    else:  # a ratio of 0 (an index exactly 0) or one scramble: compare the ratios' intervals
        factor, low, high = row["ratio"] / base["ratio"] if base["ratio"] else np.inf, np.nan, np.nan
        rises = bool(row["ratio"] > base["ratio"])
        resolved = bool(row["ratio_low"] > base["ratio_high"] or row["ratio_high"] < base["ratio_low"])
    return out | {"change": factor, "change_low": low, "change_high": high, "rises": bool(rises),
                  "resolved": bool(resolved),
                  "state": ("rises" if rises else "falls") + ("" if resolved else " (not resolved)")}

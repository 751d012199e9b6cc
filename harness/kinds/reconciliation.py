"""Did assimilation bring the structures together? The spread across structures, prior box against posterior.

Tao et al.'s Reply claims that "diverging simulations by structurally different models could
largely be reconciled by applying data assimilation with the same datasets". A posterior-informed
Sobol run (``drivers_from``) holds each calibrated structure twice: over the prior box and with
its calibrated drivers drawn from their posterior. For every output this module measures how far
the structures disagree in each case, on the verdict's own quantity L = ln(ST(c_input) /
ST(cue_scale)) (ST on the run's output scale), and whether the disagreement shrank.

How it is estimated (docs/verdict.md section 12, "Reconciliation across structures")
---------------------------------------------------------------------------------------
The replicated estimator gives R independent estimates of every ST (one per scramble). For each
replicate r the spread across the S structures is their standard deviation ``sd_r = sd_m(L_{m,r})``
(ddof 1) and their range ``max_m - min_m``. Replicates are independent and identically
distributed, so the mean spread gets a Student-t interval over r. A structure's prior and posterior
twins share the unit design, so the change ``sd_r(posterior) - sd_r(prior)`` is paired by
replicate and gets its own t-interval; its sign, where the interval excludes 0, is the answer.
Only structures estimable under both prior and posterior enter (the same set on both sides), and
the table says how many.

The signed CUE effect is compared by its direction: the sign of the CUE slope over the box where
its interval excludes 0 (``cue_effect`` of the verdict), counted per side. Its size is not: the
posterior twin maps the design through the posterior's quantile function, so a slope per unit of
the design is not a slope per unit of cue_scale, and the baseline elasticity is the same point for
both twins.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..replicated import t_interval
from .gates import Fit

CUE, INPUT = "cue_scale", "c_input"
#: suffix of a posterior-informed twin's label (``Member.label``)
TWIN = " | posterior"


def per_replicate_log_ratio(fit: Fit) -> np.ndarray:
    """ln(ST(c_input) / ST(cue_scale)) of each replicate [1]; NaN where either index is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log(fit.per_replicate(INPUT)) - np.log(fit.per_replicate(CUE))
    return np.where(np.isfinite(values), values, np.nan)


def reconciliation_table(verdict: pd.DataFrame, fits: Mapping[tuple[str, str], Fit],
                         conditioned: Mapping[str, str], confidence: float) -> pd.DataFrame:
    """One row per output: the spread across structures of L under the prior box and the posterior, and the change.

    Parameters
    ----------
    verdict : DataFrame
        ``verdict.csv`` of the run (``member``, ``output``, ``estimable``, ``cue_effect``).
    fits : mapping
        (member label, output) -> the driver-level analysis.
    conditioned : mapping
        Labels of the posterior-informed twins (ends with `` | posterior``).
    confidence : float
        Level of the t-intervals [1].

    Returns
    -------
    DataFrame
        Columns: output, structures (estimable under both), left_out, then for ``prior`` and
        ``posterior``: sd (mean over replicates of the standard deviation of L across structures),
        sd_conf (half-width), range and range_conf [ln units]; change (posterior - prior sd) and
        change_conf; cue_raises / cue_lowers / cue_unclear per side (counts of structures); answer
        (a sentence).
    """
    rows = []
    twins = [label for label in conditioned if label.endswith(TWIN)]
    for output in dict.fromkeys(verdict["output"]):
        block = verdict[verdict["output"] == output].set_index("member")
        pairs, left_out = [], []
        for twin in twins:
            prior = twin[: -len(TWIN)]
            usable = all(label in block.index and bool(block.at[label, "estimable"]) for label in (prior, twin))
            logs = [per_replicate_log_ratio(fits[(label, output)]) for label in (prior, twin)] if usable else []
            if usable and all(np.isfinite(v).all() and v.size > 1 for v in logs) and logs[0].size == logs[1].size:
                pairs.append((prior, twin, logs[0], logs[1]))
            else:
                left_out.append(prior)
        row: dict[str, object] = {"output": output, "structures": len(pairs), "left_out": "; ".join(left_out)}
        if any(fit.analysis is not None and fit.per_replicate(CUE).size == 1 for (_, o), fit in fits.items()
               if o == output):
            rows.append(row | {"structures": 0, "answer": "not estimable: the spread's interval needs replicated "
                                                       "scrambles (sobol.intervals: replicates)"})
            continue
        if len(pairs) < 2:
            rows.append(row | {"answer": f"not estimable: {len(pairs)} structure(s) estimable under both the prior "
                                         "box and the posterior; a spread needs 2"})
            continue
        sd = {}
        for side, k in (("prior", 2), ("posterior", 3)):
            values = np.stack([p[k] for p in pairs], axis=1)  # (R, S)
            sd[side] = values.std(axis=1, ddof=1)
            row[f"{side}_sd"], row[f"{side}_sd_conf"] = (float(v) for v in t_interval(sd[side], confidence))
            spread = values.max(axis=1) - values.min(axis=1)
            row[f"{side}_range"], row[f"{side}_range_conf"] = (float(v) for v in t_interval(spread, confidence))
            labels = [p[k - 2] for p in pairs]
            effects = block.loc[labels, "cue_effect"].fillna("")
            for sign in ("raises", "lowers", "unclear"):
                row[f"{side}_cue_{sign}"] = int((effects == sign).sum())
        change, change_conf = (float(v) for v in t_interval(sd["posterior"] - sd["prior"], confidence))
        row |= {"change": change, "change_conf": change_conf}
        rows.append(row | {"answer": _answer(row, confidence)})
    return pd.DataFrame(rows)


def _answer(row: Mapping[str, object], confidence: float) -> str:
    """The sentence the numbers give."""
    change, half = float(row["change"]), float(row["change_conf"])  # type: ignore[arg-type]
    prior, post = float(row["prior_sd"]), float(row["posterior_sd"])  # type: ignore[arg-type]
    n = row["structures"]
    where = (f"the spread across {n} structures of ln(ST(input)/ST(CUE)) went from {prior:.2f} to {post:.2f} "
             f"(change {change:+.2f} ± {half:.2f}, {confidence:.0%} interval)")
    if not np.isfinite(half):
        return f"not estimable: one scramble gives no interval; {where}"
    if change + half < 0:
        return f"yes, assimilation brought the structures together: {where}"
    if change - half > 0:
        return f"no, the structures moved apart after assimilation: {where}"
    return f"the data do not settle it: {where}"


#: headers of the printed table (``printed_rows``)
HEADERS = ["output", "structures", "sd of L, prior box", "sd of L, posterior", "change (paired)", "range of L",
           "CUE raises/lowers/unclear"]
#: what the printed table's numbers are
NOTE = ("L = ln(ST(c_input)/ST(cue_scale)) of each structure on the run's output scale; sd and range are across "
        "structures, per replicate, then averaged, ± the half-width of the t-interval over replicates.")


def printed_rows(table: pd.DataFrame) -> list[tuple]:
    """One printed row per output of ``reconciliation.csv`` (columns ``HEADERS``)."""
    body: list[tuple] = []
    for _, r in table.iterrows():
        if not np.isfinite(r.get("prior_sd", np.nan)):
            body.append((r["output"], r["structures"], "–", "–", "–", "–", "–"))
            continue
        body.append((r["output"], r["structures"],
                     f"{r['prior_sd']:.2f} ± {r['prior_sd_conf']:.2f}", f"{r['posterior_sd']:.2f} ± {r['posterior_sd_conf']:.2f}",
                     f"{r['change']:+.2f} ± {r['change_conf']:.2f}",
                     f"{r['prior_range']:.2f} → {r['posterior_range']:.2f}",
                     f"{r['prior_cue_raises']}/{r['prior_cue_lowers']}/{r['prior_cue_unclear']} → "
                     f"{r['posterior_cue_raises']}/{r['posterior_cue_lowers']}/{r['posterior_cue_unclear']}"))
    return body


def answers(table: pd.DataFrame) -> list[str]:
    """The answer of each output, with the structures left out."""
    return [f"{r['output']}: {r['answer']}" + (f" (left out: {r['left_out']})" if isinstance(r.get("left_out"), str)
                                               and r["left_out"] else "") for _, r in table.iterrows()]


def reconciliation_markdown(table: pd.DataFrame) -> str:
    """The reconciliation table as printed: one row per output, then its answer."""
    from tabulate import tabulate

    if table.empty:
        return ""
    lines = ["## Reconciliation across structures (prior box against posterior)", "",
             tabulate(printed_rows(table), headers=HEADERS, tablefmt="github"), "", NOTE, ""]
    return "\n".join(lines + [f"- {a}" for a in answers(table)]) + "\n"

"""Sensitivity analysis of model outputs: finiteness guard and Sobol indices (SALib's estimators).

Knows nothing of models, adapters or the registry: it receives arrays and a SALib problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from .errors import AnalysisError, TruncatedDesign
from .replicated import Estimates, replicate_estimates, t_interval


@dataclass(frozen=True)
class Guarded:
    """Model output ready for the Sobol estimator."""

    y: np.ndarray  # (n_blocks_kept * block_size,)
    blocks_total: int
    blocks_dropped: int


def screen_rows(outputs: dict[str, np.ndarray], ok: np.ndarray, bounds: dict[str, float],
                log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Which solved rows an analysis may use, and why each other solved row may not.

    ``outputs`` are the analysed outputs by name; a solved (``ok``) row is screened out when one
    of them is not finite, exceeds its plausibility bound in ``bounds`` [output units], or, on
    the log scale, is not positive. Returns the usable mask and a reason per row ("" if usable
    or already failed).
    """
    usable = ok.copy()
    reason = np.full(ok.size, "", dtype=object)
    for name, y in outputs.items():
        tests = [(~np.isfinite(y), f"{name} is not finite")]
        if name in bounds:
            tests.append((y > bounds[name], f"{name} above its plausibility bound {bounds[name]:g}"))
        if log:
            tests.append((y <= 0, f"{name} <= 0 has no logarithm"))
        for bad, why in tests:
            hit = usable & bad
            reason[hit] = why
            usable &= ~bad
    return usable, reason


def guard_failures(y: np.ndarray, ok: np.ndarray, block_size: int, policy: str) -> Guarded:
    """Apply the ``on_failure`` policy to output ``y`` with row mask ``ok``.

    ``policy`` is one of ``spec.schema.ON_FAILURE``: ``error`` refuses to compute indices when
    any row failed (the default); ``drop_blocks`` drops every Saltelli block (a base row and its
    k+2 or 2k+2 companions) that holds a failed row and keeps the remaining blocks, counting the
    dropped ones.
    """
    if y.size % block_size:
        raise AnalysisError(f"{y.size} rows are not a whole number of Saltelli blocks of {block_size}")
    blocks = y.size // block_size
    usable = ok & np.isfinite(y)
    good = usable.reshape(blocks, block_size).all(axis=1)
    dropped = int(blocks - good.sum())
    if dropped and policy == "error":
        raise AnalysisError(
            f"{int((~usable).sum())} rows failed (in {dropped} of {blocks} Saltelli blocks); "
            "Sobol indices need every row. Set `on_failure: drop_blocks` to estimate from the "
            "complete blocks, or narrow the sampled ranges"
        )
    if good.sum() < 2:
        raise TruncatedDesign(f"only {int(good.sum())} of {blocks} Saltelli blocks are complete")
    kept = y.reshape(blocks, block_size)[good].ravel()
    return Guarded(kept, blocks, dropped)


def sobol_indices(
    problem: dict, y: np.ndarray, second_order: bool, bootstrap: int, confidence: float, seed: int
) -> dict[str, np.ndarray]:
    """First-order and total Sobol indices with bootstrap confidence half-widths.

    Returns arrays ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` over the problem's factors (groups
    when the problem has ``groups``, in order of first appearance). A constant output gives NaN
    indices, not an error.

    The estimators and the resamples are SALib's (``SALib.analyze.sobol.analyze``: Saltelli 2010
    first order, Jansen total order, ``bootstrap`` resamples of the base samples drawn from
    ``numpy.random.default_rng(seed)``, half-width ``z * sd``), and the results are bit-for-bit
    SALib's (a test checks it); second-order indices are not computed. SALib gathers the
    resampled A and B, concatenates them and takes their variance twice per factor; here they
    are gathered once per analysis (7-9 times faster at D = 8, N = 2^11-2^12, 100-200 resamples).
    """
    factors = len(dict.fromkeys(problem.get("groups") or problem["names"]))
    if np.ptp(y) == 0:
        nan = np.full(factors, np.nan)
        return {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    step = 2 * factors + 2 if second_order else factors + 2
    if y.size % step:
        raise AnalysisError(f"{y.size} outputs are not a whole number of Saltelli blocks of {step}")
    base = y.size // step
    y = (y - y.mean()) / y.std()
    a, b = y[0::step], y[step - 1::step]
    resample = np.random.default_rng(seed).integers(base, size=(base, bootstrap))
    a_r, b_r = a[resample], b[resample]  # (base, bootstrap) each
    both, both_r = np.r_[a, b], np.r_[a_r, b_r]
    spread, spread_r = np.ptp(both), np.ptp(both_r)
    var, var_r = np.var(both, axis=0), np.var(both_r, axis=0)
    z = ndtri(0.5 + confidence / 2)
    out = {key: np.zeros(factors) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    for j in range(factors):
        ab = y[j + 1::step]
        ab_r = ab[resample]
        out["S1"][j] = _normalised(np.mean(b * (ab - a), axis=0), var, spread)
        out["ST"][j] = _normalised(0.5 * np.mean((a - ab) ** 2, axis=0), var, spread)
        if spread_r != 0.0:
            out["S1_conf"][j] = z * _normalised(np.mean(b_r * (ab_r - a_r), axis=0), var_r, spread_r).std(ddof=1)
            out["ST_conf"][j] = z * _normalised(0.5 * np.mean((a_r - ab_r) ** 2, axis=0), var_r, spread_r).std(ddof=1)
    return out


def _normalised(numerator: np.ndarray, var: np.ndarray, spread: float) -> np.ndarray:
    """``numerator / var`` where the variance exceeds machine epsilon, else 0, as SALib divides."""
    eps = np.finfo(float).eps
    if spread <= eps:
        return np.zeros(np.shape(var))
    return np.divide(numerator, var, out=np.zeros_like(var, dtype=np.float64), where=var > eps)


@dataclass(frozen=True)
class Analysis:
    """Sobol indices of one output over one design, on the analysis scale.

    Point values are the means of the replicates' estimates, ``*_conf`` the half-widths of their
    t-intervals (with one scramble and bootstrap intervals: SALib's bootstrap half-widths, and a
    normal-theory interval for the slope). ``slope`` is the joint least-squares change of the
    output over each driver's box [output scale per box width]; NaN for groups.
    """

    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray
    slope: np.ndarray
    slope_conf: np.ndarray
    estimates: Estimates  # per replicate: with more than one, differences carry paired t-intervals

    @property
    def blocks_dropped(self) -> int:
        """Base samples (Saltelli blocks) dropped because a row in them failed."""
        return self.estimates.dropped

    @property
    def blocks_total(self) -> int:
        """Base samples (Saltelli blocks) in the design."""
        return self.estimates.total


def analyse(design, y: np.ndarray, usable: np.ndarray, policy: str, settings, seed: int) -> Analysis:
    """Indices of ``y`` (already on its analysis scale) over ``design`` (see ``sampling.Design``).

    ``usable`` marks rows that may enter; ``policy`` is the scenario's ``on_failure``; ``settings``
    its ``sobol`` section; ``seed`` that of the bootstrap (one scramble only).
    """
    replicates, unit = design.replicates, design.unit
    guarded = guard_failures(y, usable, design.block_size, policy)
    k = len(design.factors)
    est = replicate_estimates(y, usable, unit, design.block_size, k, replicates, slopes=design.level == "driver")
    if replicates > 1:
        intervals = [t_interval(getattr(est, name), settings.confidence) for name in ("S1", "ST", "slope")]
        (s1, s1c), (st, stc), (slope, slope_c) = intervals
        return Analysis(s1, s1c, st, stc, slope, slope_c, est)
    boot = sobol_indices(design.problem, guarded.y, design.second_order, settings.bootstrap, settings.confidence, seed)
    slope_c = (_slope_halfwidth(design, y, usable, settings.confidence) if design.level == "driver"
               else np.full(k, np.nan))
    return Analysis(est.S1[0], boot["S1_conf"], est.ST[0], boot["ST_conf"], est.slope[0], slope_c, est)


def _slope_halfwidth(design, y: np.ndarray, usable: np.ndarray, confidence: float) -> np.ndarray:
    """Normal-theory half-width of each joint least-squares slope over the kept A and B rows."""
    b = design.block_size
    keep = usable.reshape(-1, b).all(axis=1)
    x = np.concatenate([design.unit[0::b][keep], design.unit[b - 1::b][keep]])
    x = np.column_stack([np.ones(x.shape[0]), x])
    ys = np.concatenate([y[0::b][keep], y[b - 1::b][keep]])
    coef, *_ = np.linalg.lstsq(x, ys, rcond=None)
    sigma2 = np.sum((ys - x @ coef) ** 2) / max(ys.size - x.shape[1], 1)
    return ndtri(0.5 + confidence / 2) * np.sqrt(sigma2 * np.diag(np.linalg.inv(x.T @ x))[1:])


def rank_by_total(st: np.ndarray) -> np.ndarray:
    """Rank 1 = largest total index; NaN (not represented) gets rank 0."""
    order = np.argsort(-np.nan_to_num(st, nan=-np.inf), kind="stable")
    ranks = np.zeros(st.size, dtype=int)
    ranks[order] = np.arange(1, st.size + 1)
    ranks[np.isnan(st)] = 0
    return ranks


def top_ranking_stable(st_half: np.ndarray, st_full: np.ndarray, top: int = 3) -> bool:
    """Whether the ``top`` drivers by total index come in the same order at N/2 and at N."""
    k = min(top, int(np.isfinite(st_full).sum()))
    order = lambda st: list(np.argsort(-np.nan_to_num(st, nan=-np.inf), kind="stable")[:k])  # noqa: E731
    return order(st_half) == order(st_full)


def variance_reduction(y_free: np.ndarray, y_fixed: np.ndarray) -> float:
    """Share of output variance removed by fixing a factor group: 1 - Var(fixed)/Var(free) [1]."""
    if min(y_free.size, y_fixed.size) < 2:  # every row failed: nothing to compare
        return float("nan")
    free = np.var(y_free)
    return float(1.0 - np.var(y_fixed) / free) if free > 0 else float("nan")


def input_residence_decomposition(soc: np.ndarray, c_input: np.ndarray) -> dict[str, float]:
    """Split Var(ln soc) into carbon input and residence time (tau = soc / c_input).

    ``ln soc = ln c_input + ln tau`` exactly, so
    ``Var(ln soc) = Var(ln c_input) + Var(ln tau) + 2 Cov(ln c_input, ln tau)``; returns the three
    shares of Var(ln soc) (they sum to 1), the correlation of ln c_input and ln tau, and the mean
    residence time [yr] (when soc is in g C m-2 and c_input in g C m-2 yr-1).
    """
    keys = ("share_input", "share_residence_time", "share_covariance", "corr_input_residence_time",
            "mean_residence_time")
    if soc.size < 2:  # every row failed: nothing to decompose
        return dict.fromkeys(keys, float("nan"))
    ln_i, ln_tau = np.log(c_input), np.log(soc / c_input)
    total = np.var(ln_i + ln_tau)
    cov = np.cov(ln_i, ln_tau, bias=True)[0, 1]
    nan = float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.sqrt(np.var(ln_i) * np.var(ln_tau)) if np.var(ln_i) * np.var(ln_tau) > 0 else nan
    return {
        "share_input": float(np.var(ln_i) / total) if total > 0 else nan,
        "share_residence_time": float(np.var(ln_tau) / total) if total > 0 else nan,
        "share_covariance": float(2 * cov / total) if total > 0 else nan,
        "corr_input_residence_time": float(corr),
        "mean_residence_time": float(np.mean(soc / c_input)),
    }

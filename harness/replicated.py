"""Sobol indices from R independent scrambles of a Saltelli design, with Student-t intervals.

A replicated design stacks R independently scrambled Saltelli samples of n/R base samples each,
in SALib's row layout: per base sample the rows A, AB_1 .. AB_k (BA_1 .. BA_k with second order)
and B. Every replicate gives one estimate of each index (Saltelli et al. 2010 first order, Jansen
total order, as SALib computes them); the R estimates are independent and identically
distributed, so their mean carries a t-interval, and a difference between two factors, or
between two members evaluated on the same unit design, carries a *paired* t-interval. A
bootstrap over the points of one scramble treats quasi-random points as independent draws and
overstates the spread (docs/verdict.md, "Intervals").

Knows nothing of models: it receives outputs, row masks and the unit design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit

from .errors import AnalysisError, TruncatedDesign


@dataclass(frozen=True)
class Estimates:
    """Per-replicate estimates of one output over one design (R replicates, k factors)."""

    S1: np.ndarray  # (R, k) first-order index [1]
    ST: np.ndarray  # (R, k) total index [1]
    variance: np.ndarray  # (R,) Var(y) [output scale squared]
    slope: np.ndarray  # (R, k) least-squares slope of y on the factor over the box [output scale per box width]
    kept: np.ndarray  # (R,) base samples (blocks) used per replicate
    total: int  # base samples in the design

    @property
    def replicates(self) -> int:
        """Number of replicates R."""
        return int(self.ST.shape[0])

    @property
    def dropped(self) -> int:
        """Base samples (blocks) dropped over all replicates."""
        return int(self.total - self.kept.sum())


def replicate_estimates(y: np.ndarray, usable: np.ndarray, unit: np.ndarray, block_size: int, n_factors: int,
                        replicates: int, slopes: bool = True) -> Estimates:
    """Per-replicate S1, ST, Var(y) and main-effect slopes from a stacked replicated design.

    ``y`` (n_rows,) is the output on its analysis scale, ``usable`` (n_rows,) marks rows that may
    enter the estimate; a block with any unusable row is dropped from its replicate. ``unit``
    (n_rows, n_drivers) is the unit design; with ``slopes`` (one factor per driver) ``y`` is
    regressed on all unit coordinates over the A and B rows, which are independent uniform
    draws: each slope is the factor's linear main effect over its box, and its sign the sign
    of that effect.
    """
    blocks = y.size // block_size
    if y.size % block_size or blocks % replicates:
        raise AnalysisError(f"{y.size} rows are not {replicates} replicates of whole Saltelli blocks of {block_size}")
    shape = (replicates, blocks // replicates, block_size)
    keep: np.ndarray = np.all(usable.reshape(shape), axis=2)  # (R, n_r)
    kept = keep.sum(axis=1)
    if (kept < 2).any():
        raise TruncatedDesign(f"{1 - kept.sum() / blocks:.0%} of the design dropped, and replicate "
                              f"{int(np.argmin(kept)) + 1} of {replicates} keeps {int(kept.min())} complete Saltelli "
                              "blocks; at least 2 are needed")
    w = keep / kept[:, None]
    values = np.where(keep[..., None], y.reshape(shape), 0.0)
    values = values - (values * w[..., None]).sum(axis=(1, 2))[:, None, None] / block_size  # centred, as SALib
    f_a, f_b, f_ab = values[..., 0], values[..., -1], values[..., 1:1 + n_factors]
    mean_ab = ((f_a + f_b) * w).sum(axis=1) / 2
    variance = (((f_a - mean_ab[:, None]) ** 2 + (f_b - mean_ab[:, None]) ** 2) * w).sum(axis=1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = (w[..., None] * f_b[..., None] * (f_ab - f_a[..., None])).sum(axis=1) / variance[:, None]
        st = 0.5 * (w[..., None] * (f_a[..., None] - f_ab) ** 2).sum(axis=1) / variance[:, None]
    constant = ~(variance > 0)
    s1[constant], st[constant] = np.nan, np.nan
    slope = (_slopes(f_a, f_b, unit, shape, keep) if slopes else np.full_like(st, np.nan))
    return Estimates(s1, st, variance, slope, kept, blocks)


def _slopes(f_a: np.ndarray, f_b: np.ndarray, unit: np.ndarray, shape: tuple[int, int, int],
            keep: np.ndarray) -> np.ndarray:
    """Least-squares slopes of y on all unit coordinates jointly (with an intercept), per replicate.

    Fitted over the kept A and B rows: the best additive linear approximation of the output. The
    columns are centred first, so the normal equations are those of near-orthogonal uniform
    columns (condition number about 1) and solve to rounding error, for all replicates at once.
    NaN for a replicate with no more kept rows than coefficients.
    """
    x = unit.reshape(*shape, unit.shape[1])
    xs = np.concatenate([x[:, :, 0], x[:, :, -1]], axis=1)  # (R, 2 n_r, d)
    ys = np.concatenate([f_a, f_b], axis=1)  # (R, 2 n_r)
    w = np.concatenate([keep, keep], axis=1).astype(float)  # (R, 2 n_r)
    count = w.sum(axis=1)
    enough = count > unit.shape[1] + 1
    out = np.full((shape[0], unit.shape[1]), np.nan)
    if not enough.any():
        return out
    xs, ys, w, count = xs[enough], ys[enough], w[enough], count[enough]
    xc = xs - np.einsum("rn,rnd->rd", w, xs)[:, None, :] / count[:, None, None]
    yc = ys - (w * ys).sum(axis=1, keepdims=True) / count[:, None]
    gram = np.einsum("rn,rnd,rne->rde", w, xc, xc)
    moment = np.einsum("rn,rnd,rn->rd", w, xc, yc)
    out[enough] = np.linalg.solve(gram, moment[..., None])[..., 0]
    return out


def t_interval(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean over axis 0 and the half-width of its Student-t ``confidence`` interval."""
    values = np.asarray(values, dtype=float)
    r = values.shape[0]
    mean = values.mean(axis=0)
    if r < 2:
        return mean, np.full_like(mean, np.nan)
    return mean, stdtrit(r - 1, 0.5 + confidence / 2) * values.std(axis=0, ddof=1) / np.sqrt(r)


def log_ratio(numerator: np.ndarray, denominator: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Ratio of two positive per-replicate quantities, from the t-interval of the mean log ratio.

    Returns (ratio, lower, upper); NaN where a replicate is not positive.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(numerator) - np.log(denominator)
    if not np.isfinite(logs).all():
        return np.nan, np.nan, np.nan
    mean, half = t_interval(logs, confidence)
    return float(np.exp(mean)), float(np.exp(mean - half)), float(np.exp(mean + half))

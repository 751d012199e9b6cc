"""Derivative-based global sensitivity measures (DGSM) and their Poincaré bound on total Sobol indices.

For an output ``f(x)`` of independent inputs ``x_i`` the DGSM of input ``i`` is
``nu_i = E[(d f / d x_i)^2]`` (Sobol' & Kucherenko 2009). When ``x_i`` is uniform on
``[a_i, b_i]`` the Poincaré inequality of that distribution, whose optimal constant is
``C_i = (b_i - a_i)^2 / pi^2``, bounds the total-effect variance of ``x_i``:
``D_i^tot <= C_i nu_i`` (Lamboni et al. 2013), so with ``V = Var f``

    ST_i <= (b_i - a_i)^2 nu_i / (pi^2 V).

The bound is exact for ``f = cos(pi (x_i - a_i) / (b_i - a_i))`` and 12/pi^2 ~ 1.216 times ST_i
for an output linear in ``x_i``: a bound within a small factor of ST says the response to the
input is smooth and nearly monotone, a bound far above it says it is curved or interacts. A small
bound is a cheap screen: the input cannot matter more than that. See docs/verdict.md, section 11.

The derivatives are those of the function Sobol analyses, on its scale: on the log scale
``f = ln y`` and ``d f / d x = (d y / d x) / y``. This module knows nothing of models: it receives
outputs, derivatives and row masks; ``harness/kinds/sobol.py`` feeds it the exact steady-state
derivatives of ``harness/sensitivity.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "base_rows", "estimate", "group_bound", "on_scale", "total_bound", "uniform_constant"]


@dataclass(frozen=True)
class Estimate:
    """DGSM of one output over one set of rows.

    Attributes
    ----------
    nu : ndarray, shape (k,)
        ``E[(d f / d x_i)^2]`` over the rows used [(f units per input unit)^2; on the log scale
        1/(input units)^2].
    variance : float
        ``Var f`` over the same rows (population variance, divisor n) [f units^2].
    used : int
        Rows that entered both: OK, not screened, f and every derivative finite.
    evaluated : int
        Rows given (all of them, whatever their status).
    failed : int
        Rows whose steady state was not OK.
    screened : int
        OK rows the analysis screens out (implausible, not finite, <= 0 on the log scale).
    no_derivative : int
        Usable rows with a derivative (or f) that is not finite.
    """

    nu: np.ndarray
    variance: float
    used: int
    evaluated: int
    failed: int
    screened: int
    no_derivative: int


def on_scale(y: np.ndarray, dy: np.ndarray, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """The output and its derivatives on the analysis scale: ``(ln y, dy / y)`` for ``log``, ``(y, dy)`` for ``raw``.

    ``y`` (n,) [output units], ``dy`` (n, k) [output units per input unit]; on the log scale a row
    with ``y <= 0`` gets NaN (such rows are screened by the analysis too).
    """
    y, dy = np.asarray(y, dtype=float), np.asarray(dy, dtype=float)
    if scale == "raw":
        return y, dy
    positive = y > 0
    safe = np.where(positive, y, 1.0)
    return np.where(positive, np.log(safe), np.nan), np.where(positive[:, None], dy / safe[:, None], np.nan)


def estimate(df: np.ndarray, f: np.ndarray, ok: np.ndarray, usable: np.ndarray) -> Estimate:
    """``nu_i = mean over rows of (d f / d x_i)^2`` and ``Var f`` over the same rows.

    Parameters
    ----------
    df : ndarray, shape (n, k)
        ``d f / d x_i`` of every row [f units per input unit]; NaN where not available.
    f : ndarray, shape (n,)
        The output on its analysis scale [f units].
    ok : ndarray of bool, shape (n,)
        Rows whose steady state was solved.
    usable : ndarray of bool, shape (n,)
        Rows the Sobol analysis may use (OK and not screened).

    Returns
    -------
    Estimate
        One common set of rows serves every input and the variance, so that per-group sums and
        the ratio ``nu / V`` are over the same sample. With fewer than 2 rows used, ``nu`` and
        ``variance`` are NaN.
    """
    df, f = np.asarray(df, dtype=float), np.asarray(f, dtype=float)
    ok, usable = np.asarray(ok, dtype=bool), np.asarray(usable, dtype=bool) & np.asarray(ok, dtype=bool)
    finite = np.isfinite(f) & np.isfinite(df).all(axis=1)
    rows = usable & finite
    used = int(rows.sum())
    if used < 2:
        nu, variance = np.full(df.shape[1], np.nan), float("nan")
    else:
        nu, variance = np.mean(df[rows] ** 2, axis=0), float(np.var(f[rows]))
    return Estimate(nu, variance, used, int(f.size), int((~ok).sum()), int((ok & ~usable).sum()),
                    int((usable & ~finite).sum()))


def uniform_constant(lower: float, upper: float) -> float:
    """The optimal Poincaré constant of the uniform distribution on ``[lower, upper]``: ``(upper - lower)^2 / pi^2``.

    [input units^2]. ``Var_x g <= C E[(g')^2]`` for every differentiable ``g`` of such an ``x``;
    equality for ``g = cos(pi (x - lower) / (upper - lower))``.
    """
    with np.errstate(over="ignore"):  # an astronomically wide box: an infinite constant, an empty bound
        return float(np.square(np.float64(upper) - np.float64(lower)) / np.pi**2)


def total_bound(nu: np.ndarray | float, constant: np.ndarray | float, variance: float) -> np.ndarray:
    """The Poincaré upper bound on the total Sobol index: ``constant nu / variance`` [1].

    ``nu`` [(f units per input unit)^2], ``constant`` [input units^2] (``uniform_constant``),
    ``variance`` [f units^2]; NaN where the constant is NaN (no known Poincaré constant) or the
    variance is not positive.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(constant, dtype=float) * np.asarray(nu, dtype=float) / variance
    return np.where(variance > 0, out, np.nan)


def group_bound(bounds: np.ndarray) -> float:
    """The bound on a group's total index: the sum of its inputs' bounds [1] (NaN if any is NaN).

    Total effects are subadditive. The total-effect variance of a group ``u`` is the sum of the
    variances ``D_v`` of every subset ``v`` of inputs that meets ``u``; the sum of its inputs'
    total effects counts each such ``D_v`` ``|v & u| >= 1`` times, so
    ``D_u^tot <= sum_{i in u} D_i^tot <= sum_{i in u} C_i nu_i``, and dividing by ``V``
    ``ST_u <= sum_{i in u} bound_i``. (The tensorised Poincaré inequality of the product
    measure gives the same sum directly.) The bound is loose when the group's inputs interact
    strongly with one another.
    """
    bounds = np.asarray(bounds, dtype=float)
    return float(bounds.sum()) if bounds.size and np.isfinite(bounds).all() else float("nan")


def base_rows(n_rows: int, block_size: int, limit: int) -> np.ndarray:
    """Indices of the first ``min(N, limit)`` rows of the design's matrix A (N = ``n_rows / block_size``).

    In SALib's row layout the A row of each base sample opens its Saltelli block of
    ``block_size`` rows. Replicated designs stack whole scrambles, so with N / R base samples per
    replicate a ``limit`` that is a multiple of N / R takes whole scrambles; with one scramble the
    prefix of a scrambled Sobol sequence (a power of two long) is itself balanced.
    """
    return np.arange(0, n_rows, block_size)[:limit]

"""Ages and transit times of carbon at the steady state of any adapter with ``_pool_fluxes``.

At a fixed point ``x*`` a model is written as a compartmental system ``dx/dt = B x + u``: ``u`` the
external input to each pool and ``B`` the compartmental matrix of the quasi-linear form,
``B[j, i] = F(i -> j) / x*_i`` for the internal flux from pool i to pool j and ``B[i, i] = -(total
outflux of pool i, to other pools and out of the soil) / x*_i``, from the adapter's ``PoolFluxes``
at ``x*``. Carbon then moves as a continuous-time Markov chain through the pools (Metzler & Sierra
2018), and with ``x* = -B^-1 u``:

- mean transit time ``1' x* / 1' u`` [yr] (stock over input): the mean age of the carbon leaving;
- mean pool ages ``(-B^-1 x*) / x*`` elementwise [yr], mean system age ``1' (-B^-1 x*) / 1' x*`` [yr]
  (the stock-weighted mean of the pool ages);
- the transit time and the system age are phase-type distributed, ``PH(beta, B)`` with
  ``beta = u / 1' u`` and ``PH(eta, B)`` with ``eta = x* / 1' x*``: survival ``S(t) = 1' exp(t B) alpha``;
  their medians solve ``S(t) = 1/2`` (bisection on ``[0, 2 mean]``, where ``S <= 1/2`` by Markov's
  inequality), ``S`` a sum of exponentials from the eigenvalues of B.

For one pool, ``dx/dt = -k x + u``: age = transit time = ``1/k``, median ``ln 2 / k``. For a
nonlinear model these are the ages of the linear system that carries the same fluxes at the fixed
point (Metzler, Müller & Sierra 2018), i.e. of carbon moving through the steady state, not the
response to a perturbation. See ``docs/ages.md``.

References
----------
Metzler, H. & Sierra, C.A. (2018) Math. Geosci. 50, 1-34. https://doi.org/10.1007/s11004-017-9690-1
Metzler, H., Müller, M. & Sierra, C.A. (2018) PNAS 115, 1150-1155. https://doi.org/10.1073/pnas.1705296115
Sierra, C.A., Müller, M., Metzler, H., Manzoni, S. & Trumbore, S.E. (2017) Glob. Change Biol. 23,
1763-1773. https://doi.org/10.1111/gcb.13556
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .adapter import BaseAdapter, PoolFluxes, SteadyStateResult, status_labels
from .sensitivity import solve_rows

__all__ = ["Ages", "ages", "compartmental_matrix", "median_of_phase_type"]

#: rows per block of the pool fluxes and solves: (n, n_pools, n_pools) arrays of a few MB
_BLOCK_ROWS = 4096
#: bisection steps of a median on [0, 2 mean]: the bracket shrinks to 2 mean 2^-60, below rounding
_BISECTIONS = 60
#: largest relative error of S(0) = 1 and of the mean from the eigenvalues of B before the medians
#: fall back on matrix exponentials (eigenvectors too ill-conditioned: B nearly defective)
_EIGEN_RTOL = 1e-9


@dataclass(frozen=True)
class Ages:
    """Ages and transit times of a batch at its steady states.

    Attributes
    ----------
    result : SteadyStateResult
        The steady states (status and message of every row).
    mean_transit_time : ndarray, shape (n,)
        Mean age of the carbon leaving the soil, ``1' x* / 1' u`` with ``x* = -B^-1 u``. [yr]
    mean_system_age : ndarray, shape (n,)
        Mean age of the carbon in the soil, ``1' (-B^-1 x*) / 1' x*``. [yr]
    pool_ages : ndarray, shape (n, n_pools)
        Mean age of the carbon in each pool, ``(-B^-1 x*) / x*``; NaN for an empty pool. [yr]
    median_transit_time, median_system_age : ndarray, shape (n,)
        Medians of the phase-type distributions; NaN when not asked for (``medians=False``). [yr]
    message : ndarray, shape (n,), object
        Why a row has no ages ("" where it has them): its steady state failed, the adapter has no
        ``_pool_fluxes``, or B is singular or not finite there.
    """

    result: SteadyStateResult
    mean_transit_time: np.ndarray
    mean_system_age: np.ndarray
    pool_ages: np.ndarray
    median_transit_time: np.ndarray
    median_system_age: np.ndarray
    message: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Mask of the rows with ages, shape (n,)."""
        return self.message == ""

    def pool_age(self, name: str) -> np.ndarray:
        """Mean age of the carbon in the native pool ``name`` of every row, shape (n,) [yr]."""
        return self.pool_ages[:, self.result.pool_names.index(name)]


def compartmental_matrix(flows: PoolFluxes, pools: np.ndarray) -> np.ndarray:
    """The compartmental matrix B of the quasi-linear form at ``pools``, shape (n, n_pools, n_pools) [yr-1].

    ``B[:, j, i] = transfers[:, i, j] / x_i`` off the diagonal and ``B[:, i, i] = -(sum_j transfers[:, i, j]
    + outflux[:, i]) / x_i``, so that ``B x + inputs`` are the tendencies of ``flows``. The column of
    an empty pool (``x_i = 0``, no carbon to move) is ``-e_i``: it keeps B invertible and holds no stock.
    """
    pools = np.asarray(pools, dtype=float)
    empty = pools == 0.0
    x = np.where(empty, 1.0, pools)
    n_pools = pools.shape[1]
    diagonal = np.arange(n_pools)
    # a pool's transfer to itself (if any) moves no carbon: not an outflow
    outflow = flows.transfers.sum(axis=2) - np.diagonal(flows.transfers, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        b = np.swapaxes(flows.transfers, 1, 2) / x[:, None, :]
        b[:, diagonal, diagonal] = -(outflow + flows.outflux) / x
    if empty.any():
        rows, cols = np.nonzero(empty)
        b[rows, :, cols] = 0.0
        b[rows, cols, cols] = -1.0
    return b


def ages(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray, medians: bool = True) -> Ages:
    """Mean (and median) transit times and ages of carbon at the steady states of a batch.

    Parameters
    ----------
    adapter : BaseAdapter
        The model; without ``_pool_fluxes`` every row's ages are NaN with a message saying so.
    theta : ndarray, shape (n, n_params)
        Parameters [units of each parameter].
    forcing : ndarray, shape (n, n_drivers)
        Drivers [shared units].
    medians : bool
        Also the medians of the transit time and the system age (``median_of_phase_type``).

    Returns
    -------
    Ages
        [yr]; NaN with a message for rows whose steady state is not OK.
    """
    result = adapter.steady_state(theta, forcing)
    theta, forcing = adapter._checked_inputs(theta, forcing)
    n, n_pools = theta.shape[0], len(adapter.pools)
    out = {name: np.full(n, np.nan) for name in ("transit", "age", "median_transit", "median_age")}
    pool_ages = np.full((n, n_pools), np.nan)
    message = np.full(n, "", dtype=object)
    failed = np.flatnonzero(~result.ok)
    if failed.size:
        labels = status_labels(result.status[failed])
        for i, label in zip(failed, labels):
            message[i] = f"steady state {label}: {result.message[i]}" if result.message[i] else f"steady state {label}"
    rows = np.flatnonzero(result.ok)
    if not adapter.has_pool_fluxes:
        message[rows] = f"{adapter.name} does not implement _pool_fluxes: ages and transit times unavailable"
        rows = rows[:0]
    for start in range(0, rows.size, _BLOCK_ROWS):
        block = rows[start : start + _BLOCK_ROWS]
        x = result.pools[block]
        with np.errstate(all="ignore"):
            flows = adapter.pool_fluxes(theta[block], forcing[block], x)
        b = compartmental_matrix(flows, x)
        good = np.isfinite(b).all(axis=(1, 2)) & np.isfinite(flows.inputs).all(axis=1)
        solved = solve_rows(-b, np.stack([flows.inputs, x], axis=2), good)  # (m, n_pools, 2)
        found = np.isfinite(solved).all(axis=(1, 2))
        for k in np.flatnonzero(~found):
            message[block[k]] = ("the compartmental matrix B at the steady state is singular" if good[k]
                                 else "the pool fluxes at the steady state are not finite")
        with np.errstate(divide="ignore", invalid="ignore"):
            transit = solved[:, :, 0].sum(axis=1) / flows.inputs.sum(axis=1)
            age = solved[:, :, 1].sum(axis=1) / x.sum(axis=1)
            per_pool = np.where(x > 0.0, solved[:, :, 1] / x, np.nan)
        keep = block[found]
        out["transit"][keep], out["age"][keep], pool_ages[keep] = transit[found], age[found], per_pool[found]
        if medians and found.any():
            u, xs = flows.inputs[found], x[found]
            out["median_transit"][keep] = median_of_phase_type(b[found], u / u.sum(axis=1)[:, None], transit[found])
            out["median_age"][keep] = median_of_phase_type(b[found], xs / xs.sum(axis=1)[:, None], age[found])
    return Ages(result, out["transit"], out["age"], pool_ages, out["median_transit"], out["median_age"], message)


def median_of_phase_type(b: np.ndarray, alpha: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Median of the phase-type distribution ``PH(alpha, B)`` of every row, shape (m,) [yr].

    The ``t`` with survival ``S(t) = 1' exp(t B) alpha = 1/2``, by bisection on ``[0, 2 mean]`` (``mean``
    the distribution's mean [yr], so that ``S <= 1/2`` there); ``b`` (m, k, k) [yr-1], ``alpha`` (m, k) a
    distribution over the pools [1]. ``S(t) = sum_k c_k exp(lambda_k t)`` from the eigenvalues
    ``lambda_k`` of B, where they reproduce ``S(0) = 1`` and the mean to ``_EIGEN_RTOL``; a row whose B
    is (nearly) defective uses ``scipy.linalg.expm`` at every step instead (some ms per step).
    """
    lam, vectors = np.linalg.eig(b)
    coef = solve_rows(vectors, alpha[:, :, None].astype(complex), np.isfinite(vectors).all(axis=(1, 2)))[:, :, 0]
    coef = coef * vectors.sum(axis=1)  # c_k = (1' V)_k (V^-1 alpha)_k
    with np.errstate(all="ignore"):
        total, implied = coef.sum(axis=1).real, (-coef / lam).sum(axis=1).real
        trusted = (np.abs(total - 1.0) <= _EIGEN_RTOL) & (np.abs(implied - mean) <= _EIGEN_RTOL * np.abs(mean))
    median = np.full(mean.shape, np.nan)
    if trusted.any():
        c, lt = coef[trusted], lam[trusted]
        median[trusted] = _bisection(lambda t: (c * np.exp(lt * t[:, None])).sum(axis=1).real, mean[trusted])
    if not trusted.all():
        from scipy.linalg import expm  # here: only a defective B needs it

        bt, at = b[~trusted], alpha[~trusted]
        median[~trusted] = _bisection(lambda t: (expm(t[:, None, None] * bt) @ at[:, :, None]).sum(axis=(1, 2)),
                                      mean[~trusted])
    return median


def _bisection(survival: Callable[[np.ndarray], np.ndarray], mean: np.ndarray) -> np.ndarray:
    """The ``t`` in ``[0, 2 mean]`` of every row where the decreasing ``survival(t)`` crosses 1/2 [yr]."""
    low, high = np.zeros(mean.shape), 2.0 * mean
    for _ in range(_BISECTIONS):
        middle = 0.5 * (low + high)
        with np.errstate(all="ignore"):
            above = survival(middle) > 0.5
        low, high = np.where(above, middle, low), np.where(above, high, middle)
    return 0.5 * (low + high)

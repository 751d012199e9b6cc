"""The likelihood of observations given a member's steady states, batched over parameter draws.

A draw is one value per calibrated quantity: a driver applied at every site (``cue_scale``), a
native parameter (``param.NAME``), a multiplier on a driver read from the table
(``c_input_multiplier``), and the error's ``sigma`` when it is calibrated. A draw whose steady
state fails at any site gets zero likelihood (log-likelihood -inf) and is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..adapter import Status
from ..members import Member
from ..vocabulary import MULTIPLIER_SUFFIX, PARAM_PREFIX, SIGMA


@dataclass(frozen=True)
class Target:
    """Observations of one output at ``n_obs`` sites and the member that should reproduce them."""

    member: Member
    names: tuple[str, ...]  # calibrated quantities in draw-column order
    table: dict[str, np.ndarray]  # driver -> value per site [driver units]
    observed: np.ndarray  # (n_obs,) [output units]
    output: str
    error_model: str  # "lognormal" | "normal"
    sigma: float | None  # fixed sigma, or None when it is the last calibrated quantity

    @property
    def n_obs(self) -> int:
        """Number of observations (sites)."""
        return self.observed.size

    def _inputs(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``theta`` and ``forcing`` of every (draw, site) row, draw-major [units of each column]."""
        n_draws, n_obs = draws.shape[0], self.n_obs
        drivers = {name: np.tile(col, n_draws) for name, col in self.table.items()}
        parameters = {}
        for j, name in enumerate(self.names):
            value = np.repeat(draws[:, j], n_obs)
            if name == SIGMA:
                continue
            if name.endswith(MULTIPLIER_SUFFIX):
                base = name[: -len(MULTIPLIER_SUFFIX)]
                drivers[base] = drivers[base] * value
            elif name.startswith(PARAM_PREFIX):
                parameters[name[len(PARAM_PREFIX):]] = value
            else:
                drivers[name] = value
        rows = n_draws * n_obs
        return self.member.theta(rows, parameters), self.member.forcing(rows, drivers)

    def predict(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Steady-state predictions (n_draws, n_obs) [output units] and their status codes."""
        draws = np.atleast_2d(draws)
        result = self.member.adapter.steady_state(*self._inputs(draws))
        shape = (draws.shape[0], self.n_obs)
        return result.get(self.output).reshape(shape), result.status.reshape(shape)

    def pointwise(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-likelihood per draw and site (n_draws, n_obs), with the predictions and status.

        The density is of the observation on its own scale (the lognormal includes -log y), so
        members fitted to the same observations can be compared by LOO or WAIC.
        """
        from scipy import stats  # here, not at import: validating a scenario never needs it (0.5 s)

        draws = np.atleast_2d(draws)
        prediction, status = self.predict(draws)
        sigma = draws[:, [-1]] if self.sigma is None else self.sigma
        ok = status == Status.OK
        safe = np.where(ok, prediction, 1.0)
        y = self.observed[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.error_model == "lognormal":
                loglik = stats.norm.logpdf(np.log(y), np.log(np.where(safe > 0, safe, np.nan)), sigma) - np.log(y)
            else:
                loglik = stats.norm.logpdf(y, safe, sigma)
        loglik = np.where(ok & np.isfinite(loglik), loglik, -np.inf)
        return loglik, prediction, status

    def loglike(self, draw: np.ndarray) -> tuple[float, np.ndarray]:
        """Total log-likelihood of one draw and the status of each site."""
        loglik, _, status = self.pointwise(draw[None, :])
        return float(loglik.sum()), status[0]

    def loglike_and_gradient(self, draw: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Total log-likelihood of one draw, its gradient with respect to the draw, and the sites' status.

        The steady state's derivatives come from the implicit function theorem
        (``BaseAdapter.steady_state_sensitivities``); a multiplier's is the base column times the
        driver's, and sigma's is analytic. Where a site fails (or a derivative cannot be formed) the
        log-likelihood is -inf and the gradient zero.
        """
        draw = np.asarray(draw, dtype=float)
        theta, forcing = self._inputs(draw[None, :])
        wrt = [self._input_name(name) for name in self.names if name != SIGMA]
        sens = self.member.adapter.steady_state_sensitivities(theta, forcing, wrt)
        status = sens.result.status
        mu = sens.result.get(self.output)
        d_mu = np.stack([sens.derivative(self.output, name) for name in wrt], axis=-1)  # (n_obs, n_wrt)
        sigma = draw[-1] if self.sigma is None else self.sigma
        y = self.observed
        gradient = np.zeros(draw.size)
        if (status != Status.OK).any() or not (np.isfinite(d_mu).all() and np.isfinite(mu).all()) \
                or (self.error_model == "lognormal" and (mu <= 0).any()):
            return -np.inf, gradient, status
        if self.error_model == "lognormal":
            residual = np.log(y) - np.log(mu)
            d_loglik_d_mu = residual / (sigma**2 * mu)
            loglik = -0.5 * (residual / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi) - np.log(y)
        else:
            residual = y - mu
            d_loglik_d_mu = residual / sigma**2
            loglik = -0.5 * (residual / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)
        k = 0
        for j, name in enumerate(self.names):
            if name == SIGMA:
                gradient[j] = float(np.sum(residual**2 / sigma**3 - 1.0 / sigma))
                continue
            d_input = d_mu[:, k]
            if name.endswith(MULTIPLIER_SUFFIX):  # input = column * multiplier
                d_input = d_input * self.table[name[: -len(MULTIPLIER_SUFFIX)]]
            gradient[j] = float(d_loglik_d_mu @ d_input)
            k += 1
        return float(loglik.sum()), gradient, status

    @staticmethod
    def _input_name(name: str) -> str:
        """The adapter input a calibrated quantity moves: a driver, ``param.NAME``, or a multiplier's driver."""
        return name[: -len(MULTIPLIER_SUFFIX)] if name.endswith(MULTIPLIER_SUFFIX) else name

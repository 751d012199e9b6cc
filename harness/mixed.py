"""Linear mixed-effects regression with random intercepts, as in the CUE-versus-NPP papers.

Pure statistics on a table: no models, no scenario. The estimator is statsmodels' ``MixedLM``
(REML); this module z-scores the predictors, collects the fixed effects with their 95 %
confidence intervals and p-values, and derives the variance summaries the papers report
(sigma², tau00, ICC, marginal and conditional R² after Nakagawa & Schielzeth 2013).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

INTERCEPT = "(Intercept)"


@dataclass(frozen=True)
class MixedFit:
    """One fitted random-intercept model.

    Attributes
    ----------
    coefficients : DataFrame
        One row per fixed effect (``(Intercept)`` first, then the predictors in the order given):
        ``term``, ``estimate``, ``ci_low``, ``ci_high`` (95 % Wald interval), ``p`` (two-sided
        Wald test). Predictors are z-scored, so their estimates are in response units per
        standard deviation of the predictor. [response units]
    sigma2 : float
        Residual variance. [response units²]
    tau00 : float
        Random-intercept variance between groups. [response units²]
    var_fixed : float
        Variance of the fixed-effect predictions ``X @ beta`` (sample variance, ddof = 1, as R's
        ``var`` in MuMIn and performance). [response units²]
    n_groups, n_obs : int
        Number of groups and of observations used.
    converged : bool
        Whether statsmodels reports convergence of the REML optimisation.
    """

    coefficients: pd.DataFrame
    sigma2: float
    tau00: float
    var_fixed: float
    n_groups: int
    n_obs: int
    converged: bool

    @property
    def icc(self) -> float:
        """Intraclass correlation ``tau00 / (tau00 + sigma2)`` [1]."""
        return icc(self.tau00, self.sigma2)

    @property
    def r2_marginal(self) -> float:
        """Variance explained by the fixed effects alone (Nakagawa & Schielzeth 2013) [1]."""
        return r_squared(self.var_fixed, self.tau00, self.sigma2)[0]

    @property
    def r2_conditional(self) -> float:
        """Variance explained by fixed and random effects (Nakagawa & Schielzeth 2013) [1]."""
        return r_squared(self.var_fixed, self.tau00, self.sigma2)[1]

    def first_predictor(self) -> str:
        """The predictor with the largest |standardised estimate| (the intercept excluded)."""
        terms = self.coefficients[self.coefficients["term"] != INTERCEPT]
        return str(terms.loc[terms["estimate"].abs().idxmax(), "term"])


def icc(tau00: float, sigma2: float) -> float:
    """Intraclass correlation ``tau00 / (tau00 + sigma2)`` [1].

    Parameters
    ----------
    tau00 : float
        Random-intercept variance. [response units²]
    sigma2 : float
        Residual variance. [response units²]
    """
    return tau00 / (tau00 + sigma2)


def r_squared(var_fixed: float, tau00: float, sigma2: float) -> tuple[float, float]:
    """Marginal and conditional R² of a random-intercept model.

    Parameters
    ----------
    var_fixed : float
        Variance of the fixed-effect predictions ``X @ beta``. [response units²]
    tau00 : float
        Random-intercept variance. [response units²]
    sigma2 : float
        Residual variance. [response units²]

    Returns
    -------
    r2m, r2c : float
        ``var_fixed / total`` and ``(var_fixed + tau00) / total`` with
        ``total = var_fixed + tau00 + sigma2``. [1]

    References
    ----------
    Nakagawa S, Schielzeth H (2013) A general and simple method for obtaining R² from
    generalized linear mixed-effects models. Methods Ecol Evol 4:133-142,
    doi:10.1111/j.2041-210x.2012.00261.x
    """
    total = var_fixed + tau00 + sigma2
    return var_fixed / total, (var_fixed + tau00) / total


def zscore(values: pd.DataFrame) -> pd.DataFrame:
    """Columns minus their mean, divided by their sample standard deviation (ddof = 1) [1]."""
    return (values - values.mean()) / values.std(ddof=1)


def fit_mixed(data: pd.DataFrame, response: str, predictors: list[str], group: str) -> MixedFit:
    """Fit ``response ~ z(predictors) + (1 | group)`` by REML with statsmodels ``MixedLM``.

    Parameters
    ----------
    data : DataFrame
        One row per observation; rows with a missing value in any used column are dropped.
    response : str
        Column of the response (e.g. ``log10_soc``). [its own units]
    predictors : list of str
        Columns of the fixed-effect predictors, z-scored before fitting.
    group : str
        Column naming each observation's group (e.g. the data source).

    Returns
    -------
    MixedFit
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    used = data[[response, *predictors, group]].dropna()
    exog = zscore(used[predictors].astype(float))
    exog.insert(0, INTERCEPT, 1.0)
    model = MixedLM(used[response].astype(float).to_numpy(), exog, groups=used[group].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes are reported through ``converged``
        result = model.fit(reml=True)
    beta = result.fe_params
    ci = result.conf_int(alpha=0.05).loc[beta.index]
    coefficients = pd.DataFrame({
        "term": list(beta.index), "estimate": beta.to_numpy(), "ci_low": ci[0].to_numpy(),
        "ci_high": ci[1].to_numpy(), "p": result.pvalues.loc[beta.index].to_numpy(),
    })
    fitted = exog.to_numpy() @ beta.to_numpy()
    return MixedFit(coefficients, float(result.scale), float(result.cov_re.iloc[0, 0]),
                    float(np.var(fitted, ddof=1)), int(used[group].nunique()), len(used), bool(result.converged))

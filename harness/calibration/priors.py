"""Prior distributions as SciPy objects (starting points, densities in figures) and as PyMC variables.

The distributions and their parameters are ``vocabulary.PRIOR_PARAMETERS`` (names as in PyMC);
``DISTRIBUTIONS`` maps each onto SciPy and PyMC and is checked against it at import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import numpy as np

from ..vocabulary import PRIOR_PARAMETERS


def _stats() -> ModuleType:
    """``scipy.stats``, imported on first use (0.5 s: commands that never build a prior skip it)."""
    return importlib.import_module("scipy.stats")


def _truncated_normal(a: Mapping[str, float]) -> Any:
    lo, hi = ((a[k] - a["mu"]) / a["sigma"] for k in ("lower", "upper"))
    return _stats().truncnorm(lo, hi, a["mu"], a["sigma"])


#: prior distribution -> (its PyMC class, the frozen SciPy distribution of its parameters)
DISTRIBUTIONS: dict[str, tuple[str, Callable[[Mapping[str, float]], Any]]] = {
    "uniform": ("Uniform", lambda a: _stats().uniform(a["lower"], a["upper"] - a["lower"])),
    "normal": ("Normal", lambda a: _stats().norm(a["mu"], a["sigma"])),
    "truncated_normal": ("TruncatedNormal", _truncated_normal),
    "lognormal": ("LogNormal", lambda a: _stats().lognorm(a["sigma"], scale=np.exp(a["mu"]))),
    "halfnormal": ("HalfNormal", lambda a: _stats().halfnorm(scale=a["sigma"])),
}
if DISTRIBUTIONS.keys() != PRIOR_PARAMETERS.keys():
    raise RuntimeError(f"harness.calibration.priors maps {sorted(DISTRIBUTIONS)}; the vocabulary's priors are "
                      f"{sorted(PRIOR_PARAMETERS)}")


def scipy_prior(dist: str, args: Mapping[str, float]) -> Any:
    """The frozen SciPy distribution of a prior.

    Parameters
    ----------
    dist : str
        A key of ``vocabulary.PRIOR_PARAMETERS``.
    args : Mapping[str, float]
        Its parameters, named as in PyMC [units of the calibrated quantity].

    Returns
    -------
    scipy.stats frozen distribution
    """
    if dist not in DISTRIBUTIONS:
        raise ValueError(f"unknown prior distribution {dist!r}")
    return DISTRIBUTIONS[dist][1](args)


def pymc_prior(pm: Any, prior: Any) -> Any:
    """The PyMC random variable of ``prior`` (a ``spec.Prior``), in the current model context.

    Parameters
    ----------
    pm : module
        The ``pymc`` module.
    prior : Prior
        ``name``, ``dist`` (a key of ``vocabulary.PRIOR_PARAMETERS``) and ``args`` [units of the
        calibrated quantity].
    """
    pymc_class = getattr(pm, DISTRIBUTIONS[prior.dist][0])
    return pymc_class(prior.name, **{key: prior.args[key] for key in PRIOR_PARAMETERS[prior.dist]})

"""Prior distributions as SciPy objects (starting points, densities in figures)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import stats


def scipy_prior(dist: str, args: Mapping[str, float]):
    """The frozen SciPy distribution of a prior named as in PyMC (``spec.schema.PRIOR_PARAMETERS``)."""
    if dist == "uniform":
        return stats.uniform(args["lower"], args["upper"] - args["lower"])
    if dist == "normal":
        return stats.norm(args["mu"], args["sigma"])
    if dist == "truncated_normal":
        lo, hi = ((args[k] - args["mu"]) / args["sigma"] for k in ("lower", "upper"))
        return stats.truncnorm(lo, hi, args["mu"], args["sigma"])
    if dist == "lognormal":
        return stats.lognorm(args["sigma"], scale=np.exp(args["mu"]))
    if dist == "halfnormal":
        return stats.halfnorm(scale=args["sigma"])
    raise ValueError(f"unknown prior distribution {dist!r}")

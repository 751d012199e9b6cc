"""Read a calibration's ``posterior.nc`` (ArviZ InferenceData) with netCDF4 alone."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np

from .errors import HarnessError
from .vocabulary import DRIVERS

FILE = "posterior.nc"


def load_posterior(directory: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Posterior draws per member label: {member: {quantity: draws (chains x draws flattened)}}.

    Only the quantities a member calibrated appear (NaN columns are left out).
    """
    path = Path(directory) / FILE
    try:
        with netCDF4.Dataset(path) as ds:
            group = ds.groups["posterior"]
            members = [str(m) for m in group.variables["member"][:]]
            out: dict[str, dict[str, np.ndarray]] = {m: {} for m in members}
            for name, var in group.variables.items():
                if var.dimensions != ("chain", "draw", "member"):
                    continue
                values = np.asarray(var[:], dtype=float)
                for k, member in enumerate(members):
                    column = values[:, :, k].ravel()
                    if np.isfinite(column).all():
                        out[member][name] = column
            return out
    except (OSError, KeyError) as exc:
        raise HarnessError(f"{path}: not a soilbench calibration posterior ({exc}); "
                           "run a `calibrate` scenario to make one") from exc


def split_calibrated(draws: dict[str, np.ndarray], sampled: set[str]) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """A member's calibrated quantities for a Sobol design that samples ``sampled`` drivers.

    Returns (driver draws to sample from, calibrated drivers the design does not sample, quantities
    that are not drivers: multipliers of table columns, native parameters and the error's sigma).
    """
    drivers = {k: v for k, v in draws.items() if k in DRIVERS}
    return ({k: v for k, v in drivers.items() if k in sampled}, sorted(set(drivers) - sampled),
            sorted(set(draws) - set(drivers)))


def largest_correlation(draws: dict[str, np.ndarray]) -> tuple[float, str]:
    """The largest |Pearson r| between two posterior marginals, and the pair.

    A Sobol design samples marginals independently, so this is what it leaves out.
    """
    names = sorted(draws)
    best, pair = 0.0, ""
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r = float(np.corrcoef(draws[a], draws[b])[0, 1])
            if abs(r) > abs(best):
                best, pair = r, f"{a}-{b}"
    return best, pair

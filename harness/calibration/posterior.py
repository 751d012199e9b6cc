"""Read a calibration's ``posterior.nc`` (ArviZ InferenceData) with netCDF4 alone."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np

from ..errors import HarnessError

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

"""One module per scenario kind; each turns a validated scenario into result files."""

from __future__ import annotations

from .calibrate import run_calibrate
from .common import RunContext, RunOutcome
from .grid import run_grid
from .local import run_local
from .points import run_points
from .regression import run_regression
from .sobol import run_sobol
from .sweep import run_sweep

KIND_RUNNERS = {"sobol": run_sobol, "points": run_points, "local": run_local, "sweep": run_sweep,
                "regression": run_regression, "calibrate": run_calibrate, "grid": run_grid}

__all__ = ["KIND_RUNNERS", "RunContext", "RunOutcome"]

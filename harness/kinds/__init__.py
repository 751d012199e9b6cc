"""One module per scenario kind; each turns a validated scenario into result files."""

from __future__ import annotations

from .common import RunContext, RunOutcome
from .points import run_points
from .sobol import run_sobol

KIND_RUNNERS = {"sobol": run_sobol, "points": run_points}

__all__ = ["KIND_RUNNERS", "RunContext", "RunOutcome"]

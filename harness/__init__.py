"""soilbench: put soil organic carbon models side by side.

The Python API (``harness.api``, also reachable here): ``load`` or ``from_dict`` checks a
scenario, ``run`` runs it and returns its tables, ``read_result`` reads a finished run.
The engine: scenario files (``harness.spec``), the plan (``harness.plan``), the adapter contract
(``harness.adapter``), discovery (``harness.registry``), the kinds (``harness.kinds``), results
and reports. Model adapters live in the ``models`` package or in third-party packages registered
under ``soilbench.models``.
"""

from typing import Any

__version__ = "0.1.0"
API = ("load", "from_dict", "run", "read_result", "load_scenario", "Result")


def __getattr__(name: str) -> Any:
    """The API's names, imported on first use (so ``import harness.adapter`` stays light)."""
    if name in API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")

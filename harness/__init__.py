"""soilbench: put soil organic carbon models side by side.

The engine: scenario files (``harness.spec``), the adapter contract (``harness.adapter``),
discovery (``harness.registry``), sampling, runners, analysis and reports. Model adapters live
in the ``models`` package or in third-party packages registered under ``soilbench.models``.
"""

__version__ = "0.1.0"

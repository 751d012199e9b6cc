"""A worked example of a soilbench model adapter: a two-pool litter/SOM model (``twopool``).

Registered through the entry point ``twopool = "soilbench_example:TwoPoolAdapter"`` in the group
``soilbench.models`` (``pyproject.toml``); see ``docs/adapters.md`` of soilbench.
"""

from .adapter import TwoPoolAdapter

__all__ = ["TwoPoolAdapter"]

"""What a kind is: one object holding its settings, checks, run, report section and files.

The scenario model asks a kind which sections it reads (``sections``), the plan runs its
``check``, the API its ``run``, ``report.html`` its ``report`` section, ``compare`` the tables
it lists in ``compared`` and a stored baseline keeps the files in ``keeps``. Adding a kind is
one module defining a ``Kind`` and one registration line (or an entry point in the group
``soilbench.kinds``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..plan import Plan
from ..spec import Scenario, Section
from ..spec.schema import Context
from ..spec.transient import build_response
from .common import RunContext, RunOutcome


@dataclass(frozen=True)
class Compared:
    """A table ``compare`` reads of a kind's runs, and how.

    ``how``: ``values`` (every numeric column within tolerance; ``ranked_by`` a column whose order
    by magnitude per member x output is a ranking), ``intervals`` (indices whose confidence
    intervals no longer overlap, and rankings by ST), ``states`` (a conclusion column, ``column``,
    reported under ``category``; ``interval`` names a value whose ``_low``/``_high`` bounds must
    overlap) or ``holds`` (a published comparison that held and no longer does).
    """

    file: str
    keys: tuple[str, ...]
    how: str = "values"
    column: str = ""
    category: str = ""
    interval: str = ""
    ranked_by: str = ""


def _no_checks(plan: Plan, ctx: Context) -> None:
    return None


def _nothing_varied(scenario: Scenario) -> tuple[tuple[str, str], ...]:
    return ()


def _no_size(scenario: Scenario) -> int | None:
    return None


#: section ``response``: a kind that reads it (sobol, local, sweep) analyses a transient response instead
#: of the steady state (``harness.response``)
RESPONSE = Section(build_response, None)


@dataclass(frozen=True)
class Kind:
    """A scenario kind: its sections, checks, run, report section and the files it writes."""

    name: str
    description: str
    sections: Mapping[str, Section]
    run: Callable[[RunContext], RunOutcome]
    check: Callable[[Plan, Context], None] = _no_checks
    varied: Callable[[Scenario], tuple[tuple[str, str], ...]] = _nothing_varied
    #: the design size ``compare`` requires to be equal (e.g. Sobol's N), None when there is none
    size: Callable[[Scenario], int | None] = _no_size
    #: ``report(page, directory, summary)`` adds the kind's section to ``report.html``
    report: Callable[[Any, Path, dict[str, Any]], None] | None = None
    compared: tuple[Compared, ...] = ()
    #: small files a stored baseline keeps besides the compared tables and the run's own records
    keeps: tuple[str, ...] = field(default=())

    @property
    def kept(self) -> tuple[str, ...]:
        """Every file of this kind a stored baseline keeps."""
        return tuple(dict.fromkeys([*(c.file for c in self.compared), *self.keeps]))

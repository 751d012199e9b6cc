"""Integrity gates: when the indices of a member are *not estimable*.

A Sobol decomposition is defined over the sampled box. It is undefined when much of the design
had to be dropped (what remains is not an independent box), and untrustworthy when an index
leaves [0, 1] beyond its interval or the replicates disagree widely (heavy tails). A member that
fails a gate is reported with the reasons, never ranked and never counted in the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import Analysis
from ..spec.schema import Gates


@dataclass(frozen=True)
class Fit:
    """The driver-level analysis of one member x output, or why there is none."""

    factors: tuple[str, ...]
    analysis: Analysis | None  # None: failed (``error``), truncated (``reasons``) or output not represented
    error: str = ""
    reasons: tuple[str, ...] = ()  # gates failed; empty when estimable

    @property
    def estimable(self) -> bool:
        """Whether the analysis exists and passed every gate."""
        return self.analysis is not None and not self.reasons

    def per_replicate(self, factor: str) -> np.ndarray:
        """ST of ``factor`` in each replicate (NaN when the factor is absent)."""
        if self.analysis is None or factor not in self.factors:
            return np.full(1, np.nan)
        return self.analysis.estimates.ST[:, self.factors.index(factor)]


def gate_reasons(analysis: Analysis, factors: tuple[str, ...], gates: Gates, screened: int) -> tuple[str, ...]:
    """Every gate the analysis fails, as sentences (empty: estimable).

    ``screened``: solved rows left out for being implausible, non-finite or not positive on the
    log scale; they count towards the dropped blocks like failed rows.
    """
    reasons = []
    dropped, total = analysis.blocks_dropped, analysis.blocks_total
    if dropped > gates.dropped * total:
        why = f", {screened} of its rows screened as implausible" if screened else ""
        reasons.append(f"{dropped / total:.0%} of the design dropped ({dropped} of {total} Saltelli blocks hold a "
                       f"failed row{why}; gate {gates.dropped:.0%}): what remains is not the sampled box")
    for name in ("S1", "ST"):
        value, half = getattr(analysis, name), getattr(analysis, f"{name}_conf")
        with np.errstate(invalid="ignore"):
            outside = (value - half > 1) | (value + half < 0)
        reasons += [f"{name}({factors[j]}) = {value[j]:.3g} ± {half[j]:.2g} lies outside [0, 1]"
                    for j in np.flatnonzero(outside)]
    spread = np.where(np.isfinite(analysis.ST_conf), analysis.ST_conf, -np.inf)
    if spread.size and spread.max() > gates.halfwidth:
        j = int(np.argmax(spread))
        reasons.append(f"the replicates disagree: ST({factors[j]}) = {analysis.ST[j]:.3g} ± {spread[j]:.2g}, wider "
                       f"than the ± {gates.halfwidth:g} gate")
    return tuple(reasons)

"""Sobol designs in the unit box (SALib), their mapping onto each member, and seeds.

All members share one unit sample (common random numbers); each maps it onto its own absolute
ranges, so relative ranges compare models on the same footing. The scenario's single ``seed`` is
split with ``numpy.random.SeedSequence`` into independent streams by purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .members import Member
from .spec import DriverRange, Scenario

#: purposes of the scenario seed's child streams (order fixed: changing it changes results)
SEED_PURPOSES = ("drivers", "groups", "bootstrap_drivers", "bootstrap_groups")


def child_seed(seed: int, purpose: str) -> int:
    """A 32-bit seed for one purpose, derived from the scenario seed."""
    children = np.random.SeedSequence(seed).spawn(len(SEED_PURPOSES))
    return int(children[SEED_PURPOSES.index(purpose)].generate_state(1)[0])


@dataclass(frozen=True)
class Design:
    """A Saltelli/Sobol design over the unit box: one column per driver."""

    level: str  # "driver" or "group"
    drivers: tuple[DriverRange, ...]
    factors: tuple[str, ...]  # the names indices are reported for (drivers or groups)
    unit: np.ndarray  # (n_rows, n_drivers) in [0, 1]: the replicates' Saltelli samples, stacked
    second_order: bool
    replicates: int = 1  # independent scrambles, each a whole Saltelli design of n / replicates base samples

    @property
    def problem(self) -> dict:
        """The SALib problem of the design's unit box."""
        problem = {
            "num_vars": len(self.drivers),
            "names": [d.name for d in self.drivers],
            "bounds": [[0.0, 1.0]] * len(self.drivers),
        }
        if self.level == "group":
            problem["groups"] = [d.group or d.name for d in self.drivers]
        return problem

    @property
    def block_size(self) -> int:
        """Rows per base sample: k + 2 (or 2k + 2 with second order), k = number of factors."""
        k = len(self.factors)
        return 2 * k + 2 if self.second_order else k + 2

    @property
    def blocks(self) -> int:
        """Base samples in all replicates."""
        return self.unit.shape[0] // self.block_size


def sobol_designs(scenario: Scenario) -> list[Design]:
    """The driver-level design, plus a group-level one when the scenario declares groups."""
    designs = [_design(scenario, "driver")]
    if scenario.groups:
        designs.append(_design(scenario, "group"))
    return designs


def _design(scenario: Scenario, level: str) -> Design:
    seed = child_seed(scenario.seed, "drivers" if level == "driver" else "groups")
    s = scenario.sobol
    return unit_design(scenario.drivers, s.n, seed, level, s.second_order, s.replicates)


def unit_design(drivers: tuple[DriverRange, ...], n: int, seed: int, level: str = "driver",
                second_order: bool = False, replicates: int = 1) -> Design:
    """A Saltelli design of ``n`` base samples over ``drivers`` (or their groups).

    One scramble of the Sobol sequence, or ``replicates`` independent scrambles of ``n /
    replicates`` each.
    """
    factors = tuple(dict.fromkeys((d.group or d.name) if level == "group" else d.name for d in drivers))
    design = Design(level, drivers, factors, np.empty((0, len(drivers))), second_order, replicates)
    seeds = [seed] if replicates == 1 else [
        int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(replicates)]
    from SALib.sample import sobol as sobol_sample  # here: it loads scipy.stats (0.6 s), which validate never needs

    unit = np.vstack([sobol_sample.sample(design.problem, n // replicates, calc_second_order=second_order,
                                          scramble=True, seed=s) for s in seeds])
    return Design(level, drivers, factors, np.ascontiguousarray(unit), second_order, replicates)


def member_values(member: Member, design: Design) -> dict[str, np.ndarray]:
    """Absolute driver values of the design for one member (represented drivers only) [units].

    A driver drawn from a posterior maps each replicate of the design through its own block of
    the posterior draws (``Member.from_unit``).
    """
    out = {}
    for j, drv in enumerate(design.drivers):
        if drv.name in member.drivers and drv.name not in member.variant:
            out[drv.name] = member.from_unit(drv, design.unit[:, j], design.replicates)
    return out

"""Deterministic designs of the ``local`` and ``sweep`` kinds: which driver values each member runs.

Pure functions of a member and the scenario's settings, shared by validation (is every row
inside the model's domain?) and by the runners, so both see exactly the same rows.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .members import Member

#: the perturbed sides each definition needs
SIDES = {"central": ("plus", "minus"), "plus": ("plus",), "minus": ("minus",),
         "exact": ("plus", "minus")}  # exact (IFT) solves both sides too, for central beside it


def local_design(member: Member, drivers: tuple[str, ...], h: float, definition: str) -> list[tuple[str, str, float]]:
    """Rows of a local analysis: ``("", "base", value)`` then ``(driver, side, value)``.

    Only drivers the member represents (and does not fix by variant) are perturbed, each by
    ``1 +- h`` times the member's baseline value [driver units].
    """
    rows = [("", "base", np.nan)]
    for name in perturbed(member, drivers):
        base = member.drivers[name]
        rows += [(name, side, base * (1 + h if side == "plus" else 1 - h)) for side in SIDES[definition]]
    return rows


def perturbed(member: Member, drivers: tuple[str, ...]) -> list[str]:
    """The listed drivers this member represents and does not fix by variant."""
    return [d for d in drivers if d in member.drivers and d not in member.variant]


def local_forcing(member: Member, rows: list[tuple[str, str, float]]) -> dict[str, np.ndarray]:
    """Driver columns of the local design (the baseline wherever a row perturbs nothing)."""
    names = sorted({name for name, _, _ in rows if name})
    columns = {name: np.full(len(rows), member.drivers[name]) for name in names}
    for i, (name, _, value) in enumerate(rows):
        if name:
            columns[name][i] = value
    return columns


def sweep_design(member: Member, axes: tuple[Any, ...], mode: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Driver columns of a sweep and, per row, the swept driver ("grid" in grid mode) [units].

    ``grid`` is the full factorial of the axes; ``oat`` sweeps one axis at a time with the
    other swept drivers at the member's baseline. Axes the member does not represent (or fixes
    by variant) are left out of its design.
    """
    mine = [a for a in axes if a.name in member.drivers and a.name not in member.variant]
    values = {a.name: np.array(a.absolute(member.drivers[a.name])) for a in mine}
    if not mine:
        return {}, []
    if mode == "grid":
        grid = np.array(list(itertools.product(*values.values())))
        return {name: grid[:, j] for j, name in enumerate(values)}, ["grid"] * grid.shape[0]
    columns: dict[str, list[float]] = {a.name: [] for a in mine}
    swept: list[str] = []
    for axis in mine:
        for value in values[axis.name]:
            swept.append(axis.name)
            for other in mine:
                columns[other.name].append(value if other is axis else member.drivers[other.name])
    return {name: np.array(col) for name, col in columns.items()}, swept

"""Evaluate a member's steady states over many rows, in chunks, with progress and statuses."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from tqdm.auto import tqdm

from .adapter import BaseAdapter, Status, SteadyStateResult
from .executors import SerialExecutor
from .members import Member

CHUNK_ROWS = 8192


def solve_chunk(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray) -> SteadyStateResult:
    """One chunk of steady states (top-level so worker processes can run it)."""
    return adapter.steady_state(theta, forcing)


def evaluate_member(
    member: Member,
    n_rows: int,
    drivers: Mapping[str, np.ndarray] | None = None,
    parameters: Mapping[str, np.ndarray] | None = None,
    executor=None,
    chunk_rows: int = CHUNK_ROWS,
    desc: str = "",
) -> SteadyStateResult:
    """Steady states of ``member`` for ``n_rows`` rows of sampled drivers/parameters.

    ``drivers`` and ``parameters`` map names to arrays of length ``n_rows``; anything not given
    comes from the member's fixed values. Failed rows keep their status and message.
    """
    executor = executor or SerialExecutor()
    starts = range(0, n_rows, chunk_rows)

    def task(start: int) -> tuple:
        rows = slice(start, min(start + chunk_rows, n_rows))
        n = rows.stop - rows.start
        forcing = member.forcing(n, {k: v[rows] for k, v in (drivers or {}).items()})
        theta = member.theta(n, {k: v[rows] for k, v in (parameters or {}).items()})
        return member.adapter, theta, forcing

    if n_rows == 0:
        return solve_chunk(*task(0))
    parts = []
    with tqdm(total=n_rows, desc=desc or member.label, unit="rows", leave=False, disable=None) as bar:
        for part in executor.map(solve_chunk, (task(s) for s in starts)):
            parts.append(part)
            bar.update(part.status.size)
    return SteadyStateResult.concatenate(parts)


def status_counts(result: SteadyStateResult) -> dict[str, int]:
    """Number of rows per status label (only labels that occur, plus ``ok``)."""
    counts = {"ok": int(np.sum(result.status == Status.OK))}
    for code in Status:
        if code != Status.OK and (n := int(np.sum(result.status == code))):
            counts[code.label] = n
    return counts

"""Where chunks of model evaluations run: in this process or in a pool of local processes.

An executor maps a picklable function over tasks and yields results in task order, so every
executor gives bit-identical results to the serial one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any


class SerialExecutor:
    """Run every task in the calling process."""

    jobs = 1

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        for task in tasks:
            yield fn(*task)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """Run tasks in ``jobs`` local worker processes (results in task order)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._pool = ProcessPoolExecutor(max_workers=jobs)

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        futures = [self._pool.submit(fn, *task) for task in tasks]
        for future in futures:
            yield future.result()

    def close(self) -> None:
        self._pool.shutdown()


def make_executor(jobs: int) -> SerialExecutor | ProcessExecutor:
    """A serial executor for ``jobs <= 1``, else a local process pool."""
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)

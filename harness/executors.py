"""Where chunks of model evaluations run: this process, local worker processes, or Dask.

Every executor maps a picklable function over tasks and yields the results in task order, so
all of them give bit-identical results to the serial one. At most a few chunks per worker are
in flight at once, so memory does not grow with the number of chunks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .errors import HarnessError

IN_FLIGHT_PER_WORKER = 2


class SerialExecutor:
    """Run every task in the calling process."""

    jobs = 1
    description = "serial"

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*task)`` for each task, in order."""
        for task in tasks:
            yield fn(*task)

    def close(self) -> None:
        """Release the workers (nothing to release here)."""
        pass


def _bounded(submit: Callable[[tuple], Any], result: Callable[[Any], Any], tasks: Iterable[tuple],
             window: int) -> Iterator[Any]:
    """Submit tasks keeping at most ``window`` in flight; yield results in order."""
    pending: deque = deque()
    for task in tasks:
        pending.append(submit(task))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


class ProcessExecutor:
    """Run tasks in ``jobs`` local worker processes."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.description = f"{jobs} local processes"
        self._pool = ProcessPoolExecutor(max_workers=jobs)

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*task)`` for each task, in order, at most a few tasks per worker in flight."""
        return _bounded(lambda t: self._pool.submit(fn, *t), lambda f: f.result(), tasks,
                        IN_FLIGHT_PER_WORKER * self.jobs)

    def close(self) -> None:
        """Shut the worker processes down."""
        self._pool.shutdown()


class DaskExecutor:
    """Run tasks on a Dask distributed cluster (a ``LocalCluster`` when no address is given).

    Needs the optional extra ``dask``: ``pip install "soilbench[dask]"``.
    """

    def __init__(self, address: str | None = None, jobs: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise HarnessError('the Dask executor needs dask.distributed: pip install "soilbench[dask]"') from exc
        self._cluster = None
        if address:
            self._client = Client(address)
        else:
            self._cluster = LocalCluster(n_workers=jobs or 2, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        self.jobs = max(1, len(self._client.scheduler_info().get("workers", {})))
        self.description = f"dask at {address or 'a LocalCluster'} ({self.jobs} workers)"

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*task)`` for each task, in order, at most a few tasks per worker in flight."""
        return _bounded(lambda t: self._client.submit(fn, *t, pure=False), lambda f: f.result(), tasks,
                        IN_FLIGHT_PER_WORKER * self.jobs)

    def close(self) -> None:
        """Close the client (and the local cluster it started)."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(jobs: int = 1, dask: str | None = None, use_dask: bool = False):
    """Serial for ``jobs <= 1``, a local process pool for more, or Dask (``dask`` = address)."""
    if use_dask or dask:
        return DaskExecutor(dask or None, jobs if jobs > 1 else None)
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)

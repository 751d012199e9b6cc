"""Where chunks of model evaluations run: this process, local worker processes, or Dask.

Every executor maps a picklable function over tasks and yields the results in task order, so
all of them give bit-identical results to the serial one. At most a few chunks per worker are
in flight at once, so memory does not grow with the number of chunks. Local worker processes die
with the process that started them, even when it is killed with SIGKILL.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from .errors import HarnessError

IN_FLIGHT_PER_WORKER = 2
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): signal this process when its parent dies
PARENT_POLL_SECONDS = 0.5  # how often a worker checks that its parent is alive (the portable fallback)
DASK_CONNECT_SECONDS = 5.0  # how long to try to reach a Dask scheduler before giving up [s]


def _die_with_parent(parent: int | None = None) -> None:
    """Make this worker process exit when the process that started the pool dies (an initializer).

    When that process is the worker's parent (``fork`` and ``spawn``), on Linux the kernel sends
    SIGKILL on its death (``prctl(PR_SET_PDEATHSIG)``), and everywhere a daemon thread also exits
    the worker once ``os.getppid()`` changes (the orphan was adopted by init or a subreaper). A
    fork server's worker instead waits on multiprocessing's sentinel of the pool's process: its
    parent, the fork server, lives as long as any of its workers does.

    Parameters
    ----------
    parent : int or None
        Process id of the pool's process when it is the worker's parent; None under a fork server.
    """
    if parent is None:
        pool = multiprocessing.parent_process()
        if pool is None:
            return  # not started by multiprocessing: nothing to watch

        def watch() -> None:
            multiprocessing.connection.wait([pool.sentinel])  # ready (EOF) once the pool's process is gone
            os._exit(1)
    else:
        if sys.platform.startswith("linux"):
            try:
                ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            except (OSError, AttributeError):
                pass  # no prctl in this libc: the thread below still ends the orphan
        if os.getppid() != parent:  # the parent died before the death signal was armed
            os._exit(1)

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(PARENT_POLL_SECONDS)
            os._exit(1)

    threading.Thread(target=watch, name="soilbench-parent-watch", daemon=True).start()


class SerialExecutor:
    """Run every task in the calling process."""

    jobs = 1
    description = "serial"
    local_files = True  # tasks run on this machine and may write its files

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


def _start_worker(parent: int | None, prepare: Callable[[], Any] | None) -> None:
    """Initializer of a local worker: die with the pool's process, then run ``prepare`` (if any)."""
    _die_with_parent(parent)
    if prepare is not None:
        prepare()


class ProcessExecutor:
    """Run tasks in ``jobs`` local worker processes, which die with this process.

    On Linux the death signal is tied to the thread that starts the workers (the first ``map``,
    or ``start``), so use the executor from a thread that outlives it (as ``api.run`` does).
    ``prepare`` (module-level, picklable) runs once in each worker as it starts, e.g. to import
    what its tasks need.
    """

    def __init__(self, jobs: int, prepare: Callable[[], Any] | None = None):
        self.jobs = jobs
        self.description = f"{jobs} local processes"
        self.local_files = True
        context = multiprocessing.get_context()
        # with fork or spawn this process is the workers' parent; under a fork server it is not
        parent = os.getpid() if context.get_start_method() in ("fork", "spawn") else None
        self._pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                                         initargs=(parent, prepare))

    def start(self) -> None:
        """Start the workers now (and run ``prepare`` in them) instead of at the first ``map``."""
        for _ in range(self.jobs):
            self._pool.submit(int)

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*task)`` for each task, in order, at most a few tasks per worker in flight."""
        return _bounded(lambda t: self._pool.submit(fn, *t), lambda f: f.result(), tasks,
                        IN_FLIGHT_PER_WORKER * self.jobs)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Start ``fn(*args)`` now; its future."""
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Shut the worker processes down (tasks not started yet, after an error or Ctrl-C, are dropped)."""
        self._pool.shutdown(cancel_futures=True)


class DaskExecutor:
    """Run tasks on a Dask distributed cluster (a ``LocalCluster`` when no address is given).

    Needs the optional extra ``dask`` (``pip install -e ".[dask]"``). A scheduler that cannot
    be reached within ``DASK_CONNECT_SECONDS`` is a :class:`~harness.errors.HarnessError` (exit 2).
    """

    def __init__(self, address: str | None = None, jobs: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise HarnessError('the Dask executor needs dask.distributed: pip install -e ".[dask]" in the soilbench folder') from exc
        self._cluster = None
        if address:
            self._client = _connect(Client, address)
        else:
            self._cluster = LocalCluster(n_workers=jobs or 2, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        self.jobs = max(1, len(self._client.scheduler_info().get("workers", {})))
        self.description = f"dask at {address or 'a LocalCluster'} ({self.jobs} workers)"
        self.local_files = False  # workers may be on other machines: results come back to be stored here

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*task)`` for each task, in order, at most a few tasks per worker in flight."""
        return _bounded(lambda t: self._client.submit(fn, *t, pure=False), lambda f: f.result(), tasks,
                        IN_FLIGHT_PER_WORKER * self.jobs)

    def close(self) -> None:
        """Close the client (and the local cluster it started)."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _connect(client: Callable[..., Any], address: str) -> Any:
    """A Dask client of the scheduler at ``address``, or a one-line error once it cannot be reached in time."""
    try:
        return client(address, timeout=DASK_CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise HarnessError(f"cannot reach the Dask scheduler at {address} within {DASK_CONNECT_SECONDS:g} s "
                           f"({type(exc).__name__}: {exc}); check the address and that the scheduler is "
                           "running") from exc


def make_executor(jobs: int = 1, dask: str | None = None, use_dask: bool = False):
    """Serial for ``jobs <= 1``, a local process pool for more, or Dask (``dask`` = address)."""
    if use_dask or dask:
        return DaskExecutor(dask or None, jobs if jobs > 1 else None)
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)

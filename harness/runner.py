"""Evaluate a member's steady states over many rows: in chunks, with progress, resumable.

Rows are cut into chunks of ``chunk_rows``; each chunk is solved by the executor and, when a
``ChunkStore`` is given, written to disk as soon as it finishes (atomically). A resumed run
loads every stored chunk whose inputs are unchanged instead of solving it again, so its final
tables are byte-identical to those of an uninterrupted run. Every stored chunk carries a sha256
over its contents; a chunk that cannot be read, or whose contents no longer match that checksum
(truncated, bit-flipped, or rewritten), is solved again with a :class:`~harness.errors.ChunkWarning`,
and so is a chunk written before chunks carried a checksum.
Only the outputs a run needs are kept (``keep``), so memory grows with rows x kept outputs, not
rows x pools. :func:`clear_chunks` removes only files named like the store's own, so whatever else
a user keeps under ``chunks/`` survives.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .adapter import BaseAdapter, Status, SteadyStateResult
from .errors import ChunkWarning
from .executors import SerialExecutor
from .members import Member
from .vocabulary import CHUNK_ROWS  # re-exported: the default of evaluate_member and of a run

CHUNK_FILE = re.compile(r"\d{6}\.npz")  # a stored chunk: <index>.npz
#: a chunk being written (``.tmp-XXXXXXXX-<index>.npz``; older soilbench: ``.tmp-XXXXXXXX.npz``)
CHUNK_TEMPORARY = re.compile(r"\.tmp-[a-z0-9_]{8}(-\d{6})?\.npz")
CHUNK_DIRECTORY = re.compile(r"[0-9a-f]{16}")  # one member x design's chunks (``RunContext.evaluate``)
_UMASK_LOCK = threading.Lock()


def umask() -> int:
    """The process's file mode creation mask, read without changing it where the system allows.

    Linux reports it in ``/proc/self/status``; elsewhere it is read by setting and restoring it
    (under a lock, so this module's threads never see a changed mask).
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets under the user's umask (``0o666 & ~umask``, e.g. 0o644 for 022).

    Files made with ``tempfile.mkstemp`` are 0o600 whatever the umask; they get this mode before
    they are renamed into place.
    """
    return 0o666 & ~umask()


def clear_chunks(directory: Path, keep: bool = False) -> int:
    """Remove the chunk files the harness wrote under ``directory`` (a run's ``chunks/``), nothing else.

    Parameters
    ----------
    directory : Path
        The run's ``chunks/`` folder (it may not exist).
    keep : bool
        Keep the stored chunks (``--resume``); leftover temporaries of a killed run always go.

    Returns
    -------
    int
        The number of files removed. Only files named like the store's own (``CHUNK_FILE``,
        ``CHUNK_TEMPORARY``) in folders named like its own (``CHUNK_DIRECTORY``) are removed, and a
        folder only when that leaves it empty; nothing is removed recursively.
    """
    if not directory.is_dir():
        return 0
    removed = 0
    for folder in sorted(directory.iterdir()):
        if folder.is_symlink() or not folder.is_dir() or not CHUNK_DIRECTORY.fullmatch(folder.name):
            continue
        for path in sorted(folder.iterdir()):
            ours = CHUNK_TEMPORARY.fullmatch(path.name) or (not keep and CHUNK_FILE.fullmatch(path.name))
            if ours and (path.is_symlink() or path.is_file()):
                path.unlink()
                removed += 1
        with suppress(OSError):  # not empty: a file of the user's, or the chunks kept for --resume
            folder.rmdir()
    return removed




CONTENTS = ("pools", "outputs", "status", "message", "pool_names", "output_names")  # the arrays of a chunk


def _checksum(digest: str, arrays: Mapping[str, np.ndarray]) -> str:
    """Sha256 over a chunk's input ``digest`` and its content arrays (names, dtypes, shapes, bytes)."""
    h = hashlib.sha256(digest.encode())
    for name in CONTENTS:
        array = np.ascontiguousarray(arrays[name])
        h.update(f"|{name}|{array.dtype.str}|{array.shape}|".encode())
        h.update(array.data if array.size else b"")
    return h.hexdigest()


class ChunkStore:
    """Finished chunks of one member x design on disk: ``DIR/<index>.npz``.

    Each file holds the chunk's arrays (``CONTENTS``), the digest of the inputs it answers and a
    sha256 over both (``checksum``), so a chunk changed after it was written is never used.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.mode = file_mode()
        self.reused = 0  # chunks ``load`` returned

    def has(self, index: int) -> bool:
        """Whether a file for chunk ``index`` is stored (intact or not)."""
        return (self.directory / f"{index:06d}.npz").exists()

    def load(self, index: int, digest: str) -> SteadyStateResult | None:
        """Chunk ``index`` if it is stored, intact, with input ``digest``; else None (solve it).

        A chunk stored for other inputs (the scenario changed) is ignored silently; one that cannot
        be read or fails its checksum is ignored with a :class:`~harness.errors.ChunkWarning`.
        """
        path = self.directory / f"{index:06d}.npz"
        if not path.exists():
            return None
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:  # closed even if np.load fails
                if set(data.files) == {"digest", *CONTENTS}:  # one warning per run (it names no file), not per chunk
                    warnings.warn("stored chunks without a checksum (written by an older soilbench) are solved again",
                                  ChunkWarning, stacklevel=2)
                    return None
                arrays = {name: data[name] for name in CONTENTS}
                stored, checksum = str(data["digest"]), str(data["checksum"])
        except Exception as exc:  # whatever a damaged file raises (zip, npy header, missing key): solve again
            return self._reject(path, f"it cannot be read ({type(exc).__name__}: {exc})")
        if _checksum(stored, arrays) != checksum:
            return self._reject(path, "its contents do not match their checksum (changed after it was written)")
        if stored != digest:
            return None  # the scenario changed since this chunk was written: solve again
        self.reused += 1
        return SteadyStateResult(arrays["pools"], arrays["outputs"], arrays["status"],
                                 arrays["message"].astype(object), tuple(arrays["pool_names"].tolist()),
                                 tuple(arrays["output_names"].tolist()))

    @staticmethod
    def _reject(path: Path, why: str) -> None:
        warnings.warn(f"stored chunk {path} is not used: {why}; solving it again", ChunkWarning, stacklevel=3)

    def save(self, index: int, digest: str, result: SteadyStateResult) -> None:
        """Store chunk ``index`` with its input ``digest`` and checksum (atomically, with the umask's mode).

        An ``OSError`` (a full disk) names the chunk file and leaves no temporary file behind.
        """
        arrays: dict[str, Any] = {
            "pools": result.pools, "outputs": result.outputs, "status": result.status,
            "message": result.message.astype(str), "pool_names": np.array(result.pool_names, dtype=str),
            "output_names": np.array(result.output_names, dtype=str),
        }
        path = self.directory / f"{index:06d}.npz"
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=f"-{path.name}")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, digest=digest, checksum=_checksum(digest, arrays), **arrays)
            os.chmod(tmp, self.mode)
            os.replace(tmp, path)
        except BaseException as exc:
            if tmp is not None:
                with suppress(OSError):
                    os.unlink(tmp)
            if isinstance(exc, OSError):
                exc.filename = str(path)
            raise


def _digest(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray, keep: Sequence[str] | None) -> str:
    h = hashlib.sha256()
    h.update(repr((type(adapter).__qualname__, sorted(adapter.get_options().items()), keep)).encode())
    h.update(np.ascontiguousarray(theta).tobytes())
    h.update(np.ascontiguousarray(forcing).tobytes())
    return h.hexdigest()


def solve_chunk(adapter: BaseAdapter, theta: np.ndarray, forcing: np.ndarray, keep: Sequence[str] | None = None,
                store: ChunkStore | None = None, index: int = 0) -> SteadyStateResult:
    """One chunk of steady states, stored as chunk ``index`` of ``store`` if given.

    Top-level so worker processes can run it; a local worker stores its own chunk (hashing and
    writing it is most of what a run does besides the solves).
    """
    result = adapter.steady_state(theta, forcing)
    result = result if keep is None else result.select(keep)
    if store is not None:
        store.save(index, _digest(adapter, theta, forcing, keep), result)
    return result


def solve_rows(member: Member, n: int, drivers: Mapping[str, np.ndarray], parameters: Mapping[str, np.ndarray],
               keep: Sequence[str] | None, store: ChunkStore | None, index: int) -> SteadyStateResult:
    """:func:`solve_chunk` of ``n`` rows of ``member`` built where it runs, from the values that vary.

    A worker receives the sampled columns only, not the full parameter and forcing matrices (most
    of whose columns are constant): a tenth of the bytes through the pipe.
    """
    return solve_chunk(member.adapter, member.theta(n, parameters), member.forcing(n, drivers), keep, store, index)


def evaluate_member(
    member: Member,
    n_rows: int,
    drivers: Mapping[str, np.ndarray] | None = None,
    parameters: Mapping[str, np.ndarray] | None = None,
    executor=None,
    chunk_rows: int = CHUNK_ROWS,
    desc: str = "",
    keep: Sequence[str] | None = None,
    store: ChunkStore | None = None,
) -> SteadyStateResult:
    """Steady states of ``member`` for ``n_rows`` rows of sampled drivers/parameters.

    ``drivers`` and ``parameters`` map names to arrays of length ``n_rows``; anything not given
    comes from the member's fixed values. ``keep`` lists the outputs (and ``pool.NAME``) to
    return (default: all). Failed rows keep their status and message.
    """
    executor = executor or SerialExecutor()

    def varying(start: int) -> tuple[int, dict[str, np.ndarray], dict[str, np.ndarray]]:
        rows = slice(start, min(start + chunk_rows, n_rows))
        return (rows.stop - rows.start, {k: v[rows] for k, v in (drivers or {}).items()},
                {k: v[rows] for k, v in (parameters or {}).items()})

    def inputs(start: int) -> tuple[np.ndarray, np.ndarray]:
        n, sampled, params = varying(start)
        return member.theta(n, params), member.forcing(n, sampled)

    if n_rows == 0:
        return solve_chunk(member.adapter, *inputs(0), keep)
    starts = list(range(0, n_rows, chunk_rows))
    parts: dict[int, SteadyStateResult] = {}
    for index, start in enumerate(starts):
        if store is not None and store.has(index):  # left by an interrupted run: used if it answers these inputs
            stored = store.load(index, _digest(member.adapter, *inputs(start), keep))
            if stored is not None:
                parts[index] = stored
    todo = [index for index in range(len(starts)) if index not in parts]
    local = store if executor.local_files else None  # workers on this machine store their own chunks
    with tqdm(total=n_rows, desc=desc or member.label, unit="rows", leave=False, disable=None) as bar:
        bar.update(sum(p.status.size for p in parts.values()))
        tasks = ((member, *varying(starts[index]), keep, local, index) for index in todo)
        for index, part in zip(todo, executor.map(solve_rows, tasks)):
            if store is not None and local is None:
                store.save(index, _digest(member.adapter, *inputs(starts[index]), keep), part)
            parts[index] = part
            bar.update(part.status.size)
    return SteadyStateResult.concatenate([parts[i] for i in range(len(starts))])


def status_counts(result: SteadyStateResult) -> dict[str, int]:
    """Number of rows per status label (only labels that occur, plus ``ok``)."""
    counts = {Status.OK.label: int(np.sum(result.status == Status.OK))}
    for code in Status:
        if code != Status.OK and (n := int(np.sum(result.status == code))):
            counts[code.label] = n
    return counts

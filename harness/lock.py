"""The lock of an output directory: one run at a time writes it, and a refused run is told who holds it."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from .store import DENIED, OutputError, make_directory, output_error

LOCK = ".soilbench.lock"  # locked (flock) by the run writing the directory; says who that is
LOCK_READ_SECONDS = 0.5  # how long a refused run waits for the holder to have written who it is [s]


class DirectoryBusy(OutputError):
    """Another run holds the lock of the output directory (exit 2)."""


_HELD: set[int] = set()  # descriptors of the directory locks this process holds


def _close_inherited_locks() -> None:
    """In a forked child (a worker process): close the lock descriptors inherited from the parent.

    A lock stays with the descriptors that share it; closed here, it is the parent's alone and
    ends with the parent even while a worker outlives it for a moment.
    """
    for fd in _HELD:
        with suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_close_inherited_locks)


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (a released lock file is removed)."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _open_lock(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise output_error(exc, path.parent if exc.errno in DENIED else path) from exc


def _holder(fd: int) -> str:
    """Who holds the lock open as ``fd``, as its holder wrote it (it may still be writing it)."""
    deadline = time.monotonic() + LOCK_READ_SECONDS
    while True:
        try:
            about = json.loads(os.pread(fd, 1 << 16, 0).decode("utf-8"))
            return f"pid {about['pid']} on {about['host']}, since {about['since']}: {about['command']}"
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() > deadline:
                return "its holder did not say who it is"
            time.sleep(0.02)


class DirectoryLock:
    """An exclusive lock on an output directory for the length of a ``with`` block.

    A non-blocking ``flock`` on ``DIR/.soilbench.lock``, whose contents say who holds it (pid,
    host, command, since when); a second lock on the directory is refused at once with
    :class:`DirectoryBusy` naming the holder. The kernel releases the lock when its process ends,
    however it ends, so a lock file a killed run left never blocks; the file is removed on release.
    Worker processes forked while it is held do not keep it.
    """

    def __init__(self, root: Path, command: Sequence[str] = ()):
        self.root = Path(root)
        self.path = self.root / LOCK
        self.command = " ".join(command or sys.argv)
        self.fd: int | None = None

    def __enter__(self) -> DirectoryLock:
        """Take the lock (creating the directory); raise :class:`DirectoryBusy` if another run holds it."""
        make_directory(self.root)
        for _ in range(100):  # retried only when its holder released and removed the file as we opened it
            fd = _open_lock(self.path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise DirectoryBusy(f"{self.root} is in use by another soilbench run ({holder}); wait for it to "
                                    "finish or choose another --out", 2) from None
            except OSError as exc:
                os.close(fd)
                raise output_error(exc, self.path) from exc
            if _same_file(fd, self.path):
                break
            os.close(fd)
        else:
            raise OutputError(f"cannot lock {self.path}: it keeps being replaced", 1)
        self.fd = fd
        _HELD.add(fd)
        try:
            self._say_who()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _say_who(self) -> None:
        assert self.fd is not None
        about = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                 "since": datetime.now().astimezone().isoformat(timespec="seconds")}
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, (json.dumps(about) + "\n").encode("utf-8"), 0)
        except OSError as exc:
            raise output_error(exc, self.path) from exc

    def __exit__(self, *exc_info: object) -> None:
        """Release the lock and remove its file."""
        fd, self.fd = self.fd, None
        if fd is None:
            return
        if _same_file(fd, self.path):
            with suppress(OSError):
                self.path.unlink()
        _HELD.discard(fd)
        os.close(fd)

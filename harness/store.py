"""The result directory a run owns: atomic files, ownership, manifest, provenance.

A run into a directory holds its lock (``harness.lock.DirectoryLock``) from its first file to its
manifest, so a second run into the same directory is refused at once. Every file is written to a unique temporary name beside it (``.tmp-XXXXXXXX-NAME``) and renamed
into place with the mode the user's umask gives. The files a run owns are those its manifest
lists (and, while it runs or after it was killed, those it journalled in ``.soilbench.owned``
before writing them): a run overwrites and removes only those, and refuses to overwrite anything
else (:func:`refuse_overwrite`, :meth:`ResultDir.claim`).
"""

from __future__ import annotations

import errno
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from .errors import HarnessError, HarnessWarning
from .runner import file_mode


def _core_requirements(dist: str) -> tuple[str, ...]:
    """Names of the installed distribution ``dist``'s requirements outside its extras.

    In declared order (``pyproject.toml``'s ``dependencies``); empty when ``dist`` is not installed.
    """
    try:
        requirements = importlib.metadata.requires(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return ()
    names = []
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker:  # an optional extra's, e.g. 'pymc>=5.16; extra == "calibration"'
            continue
        name = spec.strip()
        for stop in "[(<>=!~@ ":
            name = name.partition(stop)[0]
        names.append(name)
    return tuple(dict.fromkeys(names))


#: the run-time dependencies whose versions provenance records: soilbench's own, as installed
DEPENDENCIES = _core_requirements("soilbench")


#: what a run's files are written to before the rename: ``.tmp-XXXXXXXX-NAME`` beside ``NAME``
TEMPORARY = re.compile(r"\.tmp-[a-z0-9_]{8}-.+")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


class OutputError(HarnessError, OSError):
    """An output that cannot be written: a full disk (exit 1), no permission (exit 2), a file in the way."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def __str__(self) -> str:
        """The message alone (not OSError's ``[Errno ...]`` form)."""
        return str(self.args[0])


class OutputConflict(OutputError):
    """Files in the output directory that a run would overwrite but does not own (exit 2)."""

    def __init__(self, root: Path, names: Sequence[str]):
        listed = ", ".join(str(root / n) for n in names)
        super().__init__(
            f"{listed} {'is' if len(names) == 1 else 'are'} not from a soilbench run here (no manifest.json lists "
            f"{'it' if len(names) == 1 else 'them'}) and would be overwritten; nothing was run. Choose another "
            "--out or move them away (after a run was stopped, rerun with --resume to reuse its chunks)", 2)
        self.names = tuple(names)


def output_error(exc: OSError, path: Path) -> OutputError:
    """One line for an ``OSError`` writing ``path``: a full disk, a denied permission or else its reason.

    A temporary file is named by the file it was to become.
    """
    if TEMPORARY.fullmatch(path.name):
        path = path.with_name(path.name[len(".tmp-XXXXXXXX-"):])
    if exc.errno in DISK_FULL:
        return OutputError(f"disk full while writing {path}; free space and rerun with --resume", 1)
    if exc.errno in DENIED:
        return OutputError(f"cannot write to {path}: permission denied", 2)
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return OutputError(f"cannot write {path}: a file or folder of that name is in the way "
                           f"({exc.strerror or exc}); choose another --out", 2)
    return OutputError(f"cannot write {path}: {exc.strerror or exc}", 1)


def _inside(path: Path, root: Path) -> bool:
    try:
        return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root))
    except (TypeError, ValueError):
        return False


@contextmanager
def writing(root: Path) -> Iterator[None]:
    """Turn an ``OSError`` writing into ``root`` (or any full disk) into an :class:`OutputError` naming the file.

    Any other ``OSError``, and a file missing in ``root`` (a bug reading it, more likely than a
    write), propagates unchanged, with its traceback.
    """
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        where = Path(os.fsdecode(exc.filename)) if isinstance(exc.filename, (str, bytes, os.PathLike)) else None
        if exc.errno in DISK_FULL or (where is not None and _inside(where, root) and exc.errno != errno.ENOENT):
            raise output_error(exc, where if where is not None else Path(root)) from exc
        raise


def make_directory(root: Path) -> None:
    """Create the output directory ``root`` (and its parents) unless it exists; refuse a file."""
    if root.exists() and not root.is_dir():
        raise OutputError(f"cannot use {root} as the output directory: it is a file; choose another --out", 2)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, root) from exc


@contextmanager
def atomic_path(path: Path, mode: int | None = None) -> Iterator[Path]:
    """A unique temporary file beside ``path`` to write; it replaces ``path`` when the block ends.

    The file gets ``mode`` (default: what the umask gives, :func:`~harness.runner.file_mode`); it is
    removed if the block raises, and an ``OSError`` becomes an :class:`OutputError` naming ``path``.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=f"-{path.name}")
        os.close(fd)
    except OSError as exc:
        raise output_error(exc, path) from exc
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise output_error(exc, path) from exc
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a unique temporary file and rename (never a half-written file)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as CSV without its index (atomically)."""
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON (atomically)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def provenance(scenario: Any, adapters: list[dict[str, Any]], argv: list[str]) -> dict[str, Any]:
    """What produced a run: versions, scenario hash, seed, adapter origins, command line."""
    return {
        "soilbench": _version("soilbench"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": {d: _version(d) for d in DEPENDENCIES},
        "scenario": {
            "path": scenario.path,
            "sha256": scenario.sha256,
            "name": scenario.name,
            "kind": scenario.kind,
            "seed": scenario.seed,
            "overrides": list(scenario.overrides),
        },
        "adapters": adapters,
        "command": argv,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


MANIFEST = "manifest.json"
JOURNAL = ".soilbench.owned"  # the files a run in progress (or one that was killed) owns, one a line


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe_name(name: str) -> bool:
    """Whether ``name`` (from a manifest or journal) is a relative path that stays inside the directory."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def owned_files(root: Path) -> dict[str, str | None]:
    """The files earlier runs left in ``root`` that a new run may overwrite or remove: name -> sha256.

    Those its manifest lists (and the manifest itself), and those the journal of a run that did
    not finish names (sha256 None). A ``manifest.json`` that is not a soilbench manifest owns
    nothing (:func:`refuse_overwrite` then names it).
    """
    owned: dict[str, str | None] = {}
    journal = root / JOURNAL
    if journal.is_file():
        owned.update(dict.fromkeys(n for n in journal.read_text(encoding="utf-8").splitlines() if _safe_name(n)))
    try:
        manifest = read_manifest(root)
    except HarnessError:
        manifest = None
    if manifest is not None:
        owned.update({name: str(digest) for name, digest in manifest["files"].items() if _safe_name(name)})
        owned[MANIFEST] = None
    return owned


def refuse_overwrite(root: Path, names: Iterable[str], owned: Mapping[str, str | None]) -> None:
    """Raise :class:`OutputConflict` naming every file of ``names`` that exists in ``root`` and is not ``owned``."""
    in_the_way = [name for name in dict.fromkeys(names) if name not in owned and os.path.lexists(root / name)]
    if in_the_way:
        raise OutputConflict(root, in_the_way)


#: the fixed temporary names older soilbench versions wrote netCDF files to
OLDER_TEMPORARIES = frozenset({".results.nc.tmp", ".sweep.nc.tmp", ".grid.nc.tmp"})


def _older_temporary(name: str, targets: set[str]) -> bool:
    """A temporary name of an older soilbench: a fixed netCDF one, or ``.NAME.XXXXXXXX`` beside one of ``targets``."""
    if name in OLDER_TEMPORARIES:
        return True
    return name.startswith(".") and re.fullmatch(r"\.[a-z0-9_]{8}", name[-9:]) is not None and name[1:-9] in targets


def remove_temporaries(root: Path, names: Iterable[str]) -> int:
    """Remove the temporary files a killed run left beside the run's files ``names`` (and in ``root``).

    Only the harness's own patterns: ``.tmp-XXXXXXXX-NAME``, and those of older versions (the fixed
    ``.results.nc.tmp``, ``.sweep.nc.tmp``, ``.grid.nc.tmp``, and ``.NAME.XXXXXXXX`` beside a file of
    ``names``). Returns how many were removed.
    """
    names = [n for n in names if _safe_name(n)]
    targets = {PurePosixPath(n).name for n in names}
    folders = {root, *(root / PurePosixPath(n).parent for n in names)}
    removed = 0
    for folder in sorted(folders):
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            ours = TEMPORARY.fullmatch(path.name) or _older_temporary(path.name, targets)
            if ours and not path.is_symlink() and path.is_file():
                path.unlink()
                removed += 1
    return removed


class ResultDir:
    """A run's output directory.

    Every file written through it is recorded (name -> sha256) for ``manifest.json``, and every
    table and text is also kept in memory for the Python API. Given ``owned`` (the files earlier
    runs left, :func:`owned_files`) it guards the directory: before it first writes a file it does
    not own, it refuses one of that name that exists (:class:`OutputConflict`) and journals the
    name (``.soilbench.owned``), so whatever a killed run left is known to be the harness's.
    """

    def __init__(self, root: Path, owned: Mapping[str, str | None] | None = None):
        self.root = Path(root)
        make_directory(self.root)
        self.files: dict[str, str] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.texts: dict[str, str] = {}
        self.owned = None if owned is None else dict(owned)

    @classmethod
    def begin(cls, root: Path, owned: Mapping[str, str | None]) -> ResultDir:
        """Start a run in ``root`` that owns ``owned``: journal them, drop the old manifest and leftover temporaries.

        Until the new manifest is written the directory is no finished run (``report`` and
        ``compare`` refuse it), and the journal keeps every file of the old and new run known.
        """
        files = cls(root, owned)
        files._journal()
        if MANIFEST in owned:
            (files.root / MANIFEST).unlink(missing_ok=True)
        remove_temporaries(files.root, owned)
        return files

    def path(self, name: str) -> Path:
        """Where file ``name`` goes."""
        return self.root / name

    def claim(self, name: str) -> None:
        """Make ``name`` this run's to write: refuse a file of that name it does not own, journal the name."""
        if self.owned is None or name in self.owned:
            return
        refuse_overwrite(self.root, [name], self.owned)
        self.owned[name] = None
        self._journal()

    def _journal(self) -> None:
        if self.owned is not None:
            atomic_write_text(self.root / JOURNAL, "".join(f"{name}\n" for name in sorted(self.owned)))

    @contextmanager
    def _writing(self, name: str) -> Iterator[Path]:
        """Claim ``name``, give its path to write, record it; an ``OSError`` names the file."""
        self.claim(name)
        path = self.path(name)
        try:
            yield path
        except OutputError:
            raise
        except OSError as exc:
            raise output_error(exc, path) from exc
        self.record(name)

    def csv(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table as CSV (and keep it)."""
        with self._writing(name) as path:
            write_csv(path, frame)
        self.tables[name] = frame

    def text(self, name: str, text: str) -> None:
        """Write a text file (and keep it)."""
        with self._writing(name) as path:
            atomic_write_text(path, text)
        self.texts[name] = text

    def json(self, name: str, data: Mapping[str, Any]) -> None:
        """Write a JSON file."""
        with self._writing(name) as path:
            write_json(path, data)

    def produce(self, name: str, writer: Callable[..., Any], *args: Any) -> None:
        """Write file ``name`` with ``writer(path, *args)`` (netCDF files, figures) and record it.

        ``writer`` writes a unique temporary file (named ``.tmp-XXXXXXXX-NAME``, so it keeps the
        suffix), which then replaces ``name``.
        """
        with self._writing(name) as path, atomic_path(path) as tmp:
            writer(tmp, *args)

    def record(self, name: str) -> None:
        """Record a file written into the directory (its current sha256)."""
        self.files[name] = sha256_of(self.path(name))

    def write_manifest(self, about: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``manifest.json``: what the run was (``about``) and every file it wrote, with its sha256.

        Returns it.
        """
        self.claim(MANIFEST)
        manifest = {**about, "files": dict(sorted(self.files.items()))}
        write_json(self.path(MANIFEST), manifest)
        return manifest

    def finish(self, about: Mapping[str, Any]) -> dict[str, Any]:
        """End a run: write the manifest, remove the files earlier runs left that this one did not write.

        A file whose contents changed since the manifest that listed it was written is left in
        place with a warning (someone edited it). Returns the manifest.
        """
        manifest = self.write_manifest(about)
        if self.owned is not None:
            for name, digest in sorted(self.owned.items()):
                if name not in self.files and name != MANIFEST:
                    self._remove_stale(name, digest)
            (self.root / JOURNAL).unlink(missing_ok=True)
        return manifest

    def _remove_stale(self, name: str, digest: str | None) -> None:
        path = self.path(name)
        if path.is_symlink() or not path.is_file():
            return  # gone, or no longer the file the harness wrote
        if digest is not None and sha256_of(path) != digest:
            warnings.warn(f"{path} was changed since the run that wrote it; this run did not write it and left it "
                          "in place", HarnessWarning, stacklevel=3)
            return
        path.unlink()


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest of a result directory, or None when it has none (a run of an older soilbench)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise HarnessError(f"{path}: not a soilbench manifest ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise HarnessError(f"{path}: not a soilbench manifest (no `files` mapping)")
    return manifest


def soilbench_version() -> str:
    """The installed soilbench version ("not installed" in a bare checkout)."""
    return _version("soilbench")

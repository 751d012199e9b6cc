"""Writing run outputs: atomic CSV/JSON/text files, provenance and the netCDF results file."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import HarnessError


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


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


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


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ResultDir:
    """A run's output directory.

    Every file written through it is recorded (name -> sha256) for ``manifest.json``, and every
    table and text is also kept in memory for the Python API.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, str] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.texts: dict[str, str] = {}

    def path(self, name: str) -> Path:
        """Where file ``name`` goes."""
        return self.root / name

    def csv(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table as CSV (and keep it)."""
        write_csv(self.path(name), frame)
        self.tables[name] = frame
        self.record(name)

    def text(self, name: str, text: str) -> None:
        """Write a text file (and keep it)."""
        atomic_write_text(self.path(name), text)
        self.texts[name] = text
        self.record(name)

    def json(self, name: str, data: Mapping[str, Any]) -> None:
        """Write a JSON file."""
        write_json(self.path(name), data)
        self.record(name)

    def produce(self, name: str, writer: Callable[..., Any], *args: Any) -> None:
        """Write file ``name`` with ``writer(path, *args)`` (netCDF files, figures) and record it."""
        writer(self.path(name), *args)
        self.record(name)

    def record(self, name: str) -> None:
        """Record a file written into the directory (its current sha256)."""
        self.files[name] = sha256_of(self.path(name))

    def write_manifest(self, about: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``manifest.json``: what the run was (``about``) and every file it wrote, with its sha256.

        Returns it.
        """
        manifest = {**about, "files": dict(sorted(self.files.items()))}
        write_json(self.path(MANIFEST), manifest)
        return manifest


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest of a result directory, or None when it has none (a run of an older soilbench)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise HarnessError(f"{path}: not a soilbench manifest ({exc})") from exc


def soilbench_version() -> str:
    """The installed soilbench version ("not installed" in a bare checkout)."""
    return _version("soilbench")

"""Writing run outputs: atomic CSV/JSON/text files, provenance and the netCDF results file."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEPENDENCIES = ("numpy", "scipy", "pandas", "SALib", "netCDF4", "tabulate", "PyYAML", "tqdm", "statsmodels")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def write_json(path: Path, data: Mapping[str, Any]) -> None:
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

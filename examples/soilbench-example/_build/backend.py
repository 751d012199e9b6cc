"""A minimal PEP 517 build backend for this example, standard library only.

It builds a pure-Python wheel from ``pyproject.toml`` (the ``[project]`` table: name, version,
description, requires-python, dependencies, entry points) and every package under ``src/``, and
an sdist of the project folder. It exists so that the example installs offline with nothing but
pip; a package of your own would use setuptools, hatchling or flit instead (see
``pyproject.toml``).

References
----------
PEP 517 (build backend hooks), PEP 427 (wheel format), PEP 621 (``[project]``), the core
metadata specification 2.1 and the entry-points specification (packaging.python.org).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import tomllib
import zipfile
from pathlib import Path

#: the project folder (this file lives in ``_build/``)
PROJECT = Path(__file__).resolve().parent.parent
#: files of a package that go into the wheel
PACKAGE_SUFFIXES = (".py", ".typed")


def _project() -> dict:
    """The ``[project]`` table of ``pyproject.toml``."""
    with open(PROJECT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def _normalised(name: str) -> str:
    """A distribution name as wheel file names spell it (PEP 427): runs of ``-_.`` become ``_``."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata(project: dict) -> str:
    """The core metadata file (``METADATA``, version 2.1)."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", ())]
    return "\n".join(lines) + "\n"


def _entry_points(project: dict) -> str:
    """``entry_points.txt``: one INI section per entry-point group."""
    groups = dict(project.get("entry-points", {}))
    if "scripts" in project:
        groups["console_scripts"] = project["scripts"]
    return "".join(f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in entries.items()) + "\n"
                   for group, entries in groups.items())


def _package_files() -> list[tuple[str, bytes]]:
    """``(path in the wheel, content)`` of every package file under ``src/``."""
    source = PROJECT / "src"
    return [(path.relative_to(source).as_posix(), path.read_bytes())
            for path in sorted(source.rglob("*"))
            if path.is_file() and path.suffix in PACKAGE_SUFFIXES and "__pycache__" not in path.parts]


def _record_line(path: str, content: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(content)}"


def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    """Nothing beyond the standard library is needed to build (PEP 517 hook)."""
    return []


def get_requires_for_build_sdist(config_settings=None) -> list[str]:
    """Nothing beyond the standard library is needed to build (PEP 517 hook)."""
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """Write ``NAME-VERSION-py3-none-any.whl`` into ``wheel_directory``; return its file name."""
    project = _project()
    name, version = _normalised(project["name"]), project["version"]
    dist_info = f"{name}-{version}.dist-info"
    files = _package_files() + [
        (f"{dist_info}/METADATA", _metadata(project).encode()),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: soilbench-example backend\n"
                               b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{dist_info}/entry_points.txt", _entry_points(project).encode()),
    ]
    record = "\n".join([_record_line(path, content) for path, content in files] + [f"{dist_info}/RECORD,,"]) + "\n"
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, content in files:
            wheel.writestr(path, content)
        wheel.writestr(f"{dist_info}/RECORD", record)
    return filename


def build_sdist(sdist_directory, config_settings=None) -> str:
    """Write ``NAME-VERSION.tar.gz`` of the project folder into ``sdist_directory``; return its name."""
    project = _project()
    base = f"{_normalised(project['name'])}-{project['version']}"
    with tarfile.open(Path(sdist_directory) / f"{base}.tar.gz", "w:gz") as sdist:
        for path in sorted(PROJECT.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                sdist.add(path, f"{base}/{path.relative_to(PROJECT).as_posix()}")
        metadata = _metadata(project).encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(metadata)
        sdist.addfile(info, io.BytesIO(metadata))
    return f"{base}.tar.gz"

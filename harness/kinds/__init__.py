"""The scenario kinds: one object per kind (``Kind``), registered here by name.

Third-party packages add kinds through the entry-point group ``soilbench.kinds`` (each entry
point names a ``Kind`` object); a script or test may call :func:`register`.
"""

from __future__ import annotations

import functools
import importlib.metadata

from ..errors import RegistryError
from . import calibrate, grid, local, points, regression, sobol, sweep, transient
from .base import Compared, Kind
from .common import RunContext, RunOutcome

ENTRY_POINT_GROUP = "soilbench.kinds"
BUILTIN: dict[str, Kind] = {k.name: k for k in (sobol.KIND, points.KIND, local.KIND, sweep.KIND, regression.KIND,
                                                   calibrate.KIND, grid.KIND, transient.KIND)}
_REGISTERED: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` to the registry (replacing any kind of the same name); returns it."""
    _REGISTERED[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind added with :func:`register`."""
    _REGISTERED.pop(name, None)


@functools.cache
def installed() -> dict[str, Kind]:
    """The kinds installed packages offer in the entry-point group ``soilbench.kinds``."""
    found: dict[str, Kind] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            kind = entry.load()
        except Exception as exc:  # a broken plug-in must name itself, not break every command
            raise RegistryError(f"kind {entry.name!r} ({entry.value}) cannot be loaded: {exc}") from exc
        if not isinstance(kind, Kind):
            raise RegistryError(f"entry point {entry.name!r} ({entry.value}) is not a soilbench Kind")
        if kind.name in BUILTIN:
            raise RegistryError(f"entry point {entry.name!r} ({entry.value}) offers kind {kind.name!r}, a built-in kind")
        found[kind.name] = kind
    return found


def kinds() -> dict[str, Kind]:
    """Every kind by name: the built-in ones, those of installed packages, those registered."""
    return {**BUILTIN, **installed(), **_REGISTERED}


__all__ = ["Compared", "Kind", "RunContext", "RunOutcome", "installed", "kinds", "register", "unregister"]

"""Discovery of model adapters: built-ins plus the ``soilbench.models`` entry-point group.

The harness never imports ``models.*`` by name: built-ins are ``module:Class`` strings loaded
lazily, exactly like third-party entry points. Every load checks that the adapter's ``name`` is
the name it is registered under, runs the static metadata checks and records where the adapter
came from, for provenance. How to write and register an adapter: ``docs/adapters.md``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from .adapter import BaseAdapter, metadata_problems
from .errors import AdapterValidationError, RegistryError, unknown_message

ENTRY_POINT_GROUP = "soilbench.models"

#: registry name -> "module:Class" of the adapters shipped with soilbench
BUILTIN_ADAPTERS = {
    "awb": "models.awb:AwbAdapter",
    "clm5_firstorder": "models.clm5_firstorder:Clm5FirstOrderAdapter",
    "millennial": "models.millennial:MillennialAdapter",
    "mimics": "models.mimics:MimicsAdapter",
    "tao_enzyme": "models.tao_enzyme:TaoEnzymeAdapter",
}


@dataclass(frozen=True)
class AdapterInfo:
    """Where an adapter comes from."""

    name: str
    target: str  # "module:Class"
    source: str  # "builtin" or "entry point"
    distribution: str
    version: str

    def as_dict(self) -> dict[str, str]:
        """The fields as a dict, for provenance."""
        return asdict(self)


def _soilbench_version() -> str:
    try:
        return importlib.metadata.version("soilbench")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def available_adapters() -> dict[str, AdapterInfo]:
    """All adapters by registry name. A name offered twice is an error naming both sources."""
    found = {
        name: AdapterInfo(name, target, "builtin", "soilbench", _soilbench_version())
        for name, target in BUILTIN_ADAPTERS.items()
    }
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        info = AdapterInfo(
            ep.name,
            ep.value,
            "entry point",
            dist.metadata["Name"] if dist is not None else "unknown",
            dist.version if dist is not None else "unknown",
        )
        if ep.name in found and found[ep.name].target != info.target:
            other = found[ep.name]
            raise RegistryError(
                f"model name {ep.name!r} is offered twice: by {other.distribution} ({other.target}) "
                f"and by {info.distribution} ({info.target}); uninstall one of them"
            )
        found[ep.name] = info
    return found


def adapter_info(name: str) -> AdapterInfo:
    """The ``AdapterInfo`` of ``name``; unknown names raise with a did-you-mean."""
    known = available_adapters()
    if name not in known:
        raise RegistryError(unknown_message("model", name, list(known)))
    return known[name]


def get_adapter_class(name: str) -> type[BaseAdapter]:
    """Import and check the adapter class registered as ``name``."""
    info = adapter_info(name)
    return _load(info)


@cache
def _load(info: AdapterInfo) -> type[BaseAdapter]:
    module_name, _, class_name = info.target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise RegistryError(
            f"cannot load model {info.name!r} from {info.target} ({info.source}, distribution "
            f"{info.distribution}): {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseAdapter)):
        raise AdapterValidationError(f"{info.target} ({info.distribution}) is not a BaseAdapter subclass")
    if cls.name and cls.name != info.name:
        raise AdapterValidationError(_name_mismatch(info, cls))
    problems = metadata_problems(cls())
    if problems:
        raise AdapterValidationError(
            f"model {info.name!r} ({info.target}, {info.distribution}) breaks the adapter contract:\n  "
            + "\n  ".join(problems)
        )
    return cls


def _name_mismatch(info: AdapterInfo, cls: type[BaseAdapter]) -> str:
    """Why an adapter registered under another name than its ``name`` is refused, and how to fix it.

    Scenarios, results and provenance name a model by its registry name, while the adapter's
    messages and ``harness.testing`` use ``name``: the two must be one name.
    """
    class_name = info.target.partition(":")[2] or info.target
    if info.source == "builtin":
        where = f"BUILTIN_ADAPTERS in harness/registry.py lists as {info.name!r} an adapter named {cls.name!r}"
        fix = f"use the key {cls.name!r} there, or set name = {info.name!r} on {class_name}"
    else:
        where = f"entry point {info.name!r} of distribution {info.distribution} loads an adapter named {cls.name!r}"
        fix = (f"rename the entry point to {cls.name!r} in [project.entry-points.\"{ENTRY_POINT_GROUP}\"] of "
               f"{info.distribution}'s pyproject.toml (then reinstall it), or set name = {info.name!r} on {class_name}")
    return (f"model {info.name!r} ({info.target}): {where}; the registry name and the adapter's `name` "
            f"attribute must be the same. Fix: {fix}")


def get_adapter(name: str, **options: Any) -> BaseAdapter:
    """An adapter instance built with ``options`` (validated by the adapter)."""
    return get_adapter_class(name)(**options)


def provenance(name: str, adapter: BaseAdapter) -> dict[str, Any]:
    """What a run records about the adapter it used."""
    return {
        **adapter_info(name).as_dict(),
        "options": adapter.get_options(),
        "reference": adapter.reference,
        "steady_state_method": adapter.steady_state_method,
    }

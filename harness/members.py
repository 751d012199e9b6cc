"""The model x variant members a scenario runs, resolved against the registry.

A variant key is, for each model, one of: an adapter option (``parameter_set``), a driver the
model represents (``beta``), or a native parameter. Options build the adapter; drivers and
parameters are fixed values for every row of that member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .adapter import BaseAdapter
from .errors import HarnessError
from .registry import get_adapter, get_adapter_class
from .vocabulary import BetaRescale


@dataclass(frozen=True)
class Member:
    """One model under one structural variant, with its fixed drivers and parameters."""

    model: str
    variant: dict[str, Any]  # as written in the scenario
    adapter: BaseAdapter
    drivers: dict[str, float]  # every driver the model represents: baseline, defaults, variant
    parameters: dict[str, float]  # overrides of parameter defaults
    #: posterior draws of sampled drivers (a posterior-informed Sobol run), instead of their box
    posterior: Mapping[str, np.ndarray] | None = None
    name: str = ""  # the entry's ``label:`` (default: the model's name)

    @property
    def label(self) -> str:
        """The member's name in tables: ``model[key=value, ...]``, marked when posterior-informed."""
        inner = ", ".join(f"{k}={v}" for k, v in self.variant.items())
        name = self.name or self.model
        base = f"{name}[{inner}]" if inner else name
        return f"{base} | posterior" if self.posterior else base

    def from_unit(self, driver: Any, unit: np.ndarray, replicates: int = 1) -> np.ndarray:
        """Map unit-interval samples onto a sampled driver [driver units].

        Uniformly over its box, or through the empirical quantile function of its posterior draws
        or (mode ``grid``) of the land cells of a forcing. ``replicates``: ``unit`` holds that many
        consecutive replicates of a design, and the r-th maps through the r-th of as many
        consecutive blocks of the posterior draws (chains in order), so the spread over replicates
        holds the posterior's Monte Carlo error (docs/verdict.md, "Reconciliation across structures").
        """
        if driver.quantiles is not None:
            return np.interp(unit, driver.quantiles[1], driver.quantiles[0])
        if self.posterior and driver.name in self.posterior:
            blocks = zip(np.array_split(unit, replicates), np.array_split(self.posterior[driver.name], replicates))
            return np.concatenate([np.interp(u, (np.arange(d.size) + 0.5) / d.size, np.sort(d)) for u, d in blocks])
        lo, hi = self.sampled_bounds(driver)
        return lo + unit * (hi - lo)

    def theta(self, n_sets: int, overrides: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """``theta`` of shape (n_sets, n_params) with the member's and then ``overrides``'s values."""
        values: dict[str, float | np.ndarray] = {**self.parameters, **(overrides or {})}
        return self.adapter.default_theta(n_sets, **values)

    def random_forcing(self, drivers: Iterable[Any], n: int, rng: np.random.Generator) -> np.ndarray:
        """Forcing of ``n`` rows, each sampled driver of this member uniform within its bounds [driver units].

        Drivers the member does not have, or fixes in its variant, keep their baseline. For
        benchmarks and tests; a run samples its drivers from a Sobol design instead.
        """
        values = {d.name: rng.uniform(*self.sampled_bounds(d), n) for d in drivers
                  if d.name in self.drivers and d.name not in self.variant}
        return self.forcing(n, values)

    def sampled_bounds(self, driver: Any) -> tuple[float, float]:
        """Absolute bounds of a sampled driver for this member [driver units].

        From its ``range``, or ``relative`` to this member's baseline.
        """
        if self.posterior and driver.name in self.posterior:
            draws = self.posterior[driver.name]
            return float(draws.min()), float(draws.max())
        if driver.mode in ("range", "grid"):
            return driver.lower, driver.upper
        base = self.drivers[driver.name]
        return driver.lower * base, driver.upper * base

    def forcing(self, n_sets: int, sampled: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Forcing with the member's fixed drivers and ``sampled`` columns (represented ones)."""
        values = {**self.drivers, **{k: v for k, v in (sampled or {}).items() if k in self.drivers}}
        return self.adapter.make_forcing(n_sets, **values)


def variant_role(adapter: BaseAdapter, key: str) -> str | None:
    """What a variant key is for this model: "option", "driver", "parameter" or None."""
    if key in {o.name for o in adapter.options}:
        return "option"
    if key in adapter.driver_names:
        return "driver"
    return "parameter" if key in adapter.parameter_names else None


def resolve_variant(adapter_cls: type[BaseAdapter], variant: Mapping[str, Any]) -> tuple[dict, dict, dict, list[str]]:
    """Split a variant into (options, drivers, parameters, problems) for one model.

    Options are applied first: the other keys are resolved against the adapter they build.
    """
    option_names = {o.name for o in adapter_cls.options}
    probe = adapter_cls(**unanchored_options({k: v for k, v in variant.items() if k in option_names}))
    split: dict[str | None, dict] = {"option": {}, "driver": {}, "parameter": {}}
    problems = []
    for key, value in variant.items():
        role = variant_role(probe, key)
        if role is None:
            problems.append(f"{key}: not an option, driver or parameter of {probe.name}")
        elif role != "option" and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{key}: must be a number; got {value!r}")
        else:
            split[role][key] = value if role == "option" else float(value)
    return split["option"], split["driver"], split["parameter"], problems


def build_member(
    model: str,
    variant: Mapping[str, Any],
    baseline: Mapping[str, float],
    parameters: Mapping[str, float],
    label: str = "",
) -> Member:
    """Build one member; raises ``HarnessError`` on the first problem (validation found all)."""
    options, fixed_drivers, fixed_params, problems = resolve_variant(get_adapter_class(model), variant)
    if problems:
        raise HarnessError(f"{model}: {problems[0]}")
    adapter = get_adapter(model, **unanchored_options(options))
    drivers = {}
    for drv in adapter.drivers:
        if drv.name in fixed_drivers:
            drivers[drv.name] = fixed_drivers[drv.name]
        elif drv.name in baseline:
            drivers[drv.name] = float(baseline[drv.name])
        elif drv.default is not None:
            drivers[drv.name] = float(drv.default)
        else:
            raise HarnessError(f"{model} needs driver {drv.name!r} [{drv.units}]: set baseline.{drv.name}")
    adapter = _anchored(model, options, adapter, drivers)
    return Member(model, dict(variant), adapter, drivers, {**parameters, **fixed_params}, name=label)


#: drivers that are structure, not site: the anchor solve sets them to their reference values
_NOT_ANCHOR = ("beta", "beta_enz")


def _site_rescaled(options: Mapping[str, Any]) -> bool:
    """Whether ``options`` ask for ``beta_rescale: site`` without an explicit ``anchor``."""
    return options.get("beta_rescale") == BetaRescale.SITE and not options.get("anchor")


def unanchored_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options to build a probe adapter before a member's drivers are known (metadata, roles of variant keys).

    ``beta_rescale: site`` needs an anchor, so it is replaced by ``none``, on which no driver,
    parameter or pool depends.
    """
    return {**options, "beta_rescale": BetaRescale.NONE.value} if _site_rescaled(options) else dict(options)


def _anchored(model: str, options: Mapping[str, Any], adapter: BaseAdapter,
              drivers: Mapping[str, float]) -> BaseAdapter:
    """The member's adapter, with ``beta_rescale: site`` rebuilt anchored at the member's drivers.

    The anchor excludes beta and beta_enz, so every beta variant shares the pools of its baseline
    row.
    """
    if not _site_rescaled(options):
        return adapter
    anchor = {k: v for k, v in drivers.items() if k not in _NOT_ANCHOR}
    return get_adapter(model, **options, anchor=anchor)

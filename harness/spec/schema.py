"""Scenario structure: frozen dataclasses built from parsed YAML, with type and key checks.

Nothing here knows the registry; meaning (models exist, ranges inside domains) is checked in
``checks.py``. Every builder appends ``SpecIssue``s to a shared ``Context`` instead of raising,
so all problems of a file are reported together.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import SpecIssue, closest
from ..vocabulary import CHUNK_ROWS, DRIVERS, MASS_MATRICES, OUTPUTS, POOL_PREFIX, PRIOR_PARAMETERS, SAMPLERS, SIGMA
from .positions import Positions, join, shown

SCHEMA_VERSION = 1
#: what a failed row does to a Sobol analysis (``on_failure``; ``harness.analysis.guard_failures``):
#: ``error`` refuses to compute indices when any row failed (default); ``drop_blocks`` drops every
#: Saltelli block that holds a failed row and estimates from the rest, reporting the count
ON_FAILURE = ("error", "drop_blocks")
#: keys every scenario may have, whatever its kind (a kind adds its own sections)
COMMON_KEYS = ("schema_version", "name", "description", "kind", "seed", "models", "baseline", "outputs", "executor")
MODEL_KEYS = ("model", "label", "variants", "parameters", "baseline")
DRIVER_KEYS = ("range", "relative", "group")
SOBOL_KEYS = ("n", "replicates", "intervals", "second_order", "bootstrap", "confidence", "scale", "gates",
              "plausible", "crossover", "equivalence")
INTERVALS = ("replicates", "bootstrap")
SCALES = ("log", "raw")
GATE_KEYS = ("dropped", "halfwidth")
CROSSOVER_KEYS = ("c_input", "cue_scale", "n")
LOCAL_KEYS = ("drivers", "h", "definition")
#: local: the ranked elasticity, three finite differences over +-h or ``exact`` (d ln S / d ln x at the baseline
#: by the implicit function theorem, ``harness.sensitivity``)
DEFINITIONS = ("central", "plus", "minus", "exact")
SWEEP_KEYS = ("drivers", "mode", "zscore")
SWEEP_DRIVER_KEYS = ("range", "relative", "num", "values", "relative_values")
SWEEP_MODES = ("grid", "oat")
PUBLISHED_KEYS = ("where", "driver", "output", "quantity", "value", "rtol", "atol", "magnitude", "source")
QUANTITIES = ("central", "plus", "minus", "ratio_plus", "ratio_minus", "exact")
REGRESSION_KEYS = ("data", "virtual", "response", "predictors", "group", "transform", "separately")
VIRTUAL_KEYS = ("sites", "sources", "source_sd", "noise_sd", "cue_noise_sd", "drivers", "sobol_n")
#: columns of virtual observations besides the sampled drivers (``npp`` is the papers' name for c_input)
VIRTUAL_COLUMNS = ("soc", "log10_soc", "cue", "npp", "source")

TRANSFORMS = ("log10", "log", "sqrt")
GRID_KEYS = ("forcing", "drivers", "land_fraction", "observations")
GRID_OBSERVATION_KEYS = ("file", "variable")
#: columns of the gridded regression table besides the mapped drivers (one row per product x cell)
GRID_COLUMNS = ("product", "model", "lat", "lon", "soc", "log10_soc", "cue", "npp")
EXECUTOR_KEYS = ("type", "jobs", "address", "chunk_rows")
CALIBRATE_KEYS = ("observations", "priors", "sampler")
OBSERVATION_KEYS = ("file", "id", "drivers", "output", "column", "units", "error")
OBSERVED_DRIVER_KEYS = ("column", "units")
ERROR_KEYS = ("model", "sigma")
ERROR_MODELS = ("lognormal", "normal")
SAMPLER_KEYS = ("name", "draws", "tune", "chains", "target_accept", "mass_matrix")
#: samplers and prior distributions (names as in PyMC) live in the vocabulary: harness.calibration dispatches on them

PRIOR_KEYS = ("dist", "lower", "upper", "mu", "sigma")

EXECUTOR_TYPES = ("serial", "processes", "dask")

# -- limits: the largest value of each size a scenario sets (docs/scenarios.md, "Limits") --------
#: largest ``seed`` (numpy seeds and the stored seed are signed 64-bit integers)
MAX_SEED = 2**63 - 1
#: longest ``name`` and model ``label`` [characters] (a name is a result directory's name)
MAX_NAME_LENGTH = 100
#: most model x variant members of a scenario, all ``models`` entries together
MAX_MEMBERS = 1000
#: largest ``sobol.n`` (and so of ``replicates`` and ``crossover.n``) [base samples]
MAX_SOBOL_N = 2**20
#: largest ``sobol.bootstrap`` [resamples]
MAX_BOOTSTRAP = 100_000
#: largest ``sobol.n`` x ``sobol.bootstrap`` with bootstrap intervals (SALib holds an index array of this size)
MAX_BOOTSTRAP_DRAWS = 2**26
#: largest ``regression.virtual.sobol_n`` (each member's own Sobol analysis takes 200 bootstrap resamples)
MAX_VIRTUAL_SOBOL_N = 2**16
#: most relative half-widths of each ``sobol.crossover`` axis
MAX_CROSSOVER_WIDTHS = 50
#: most values of one ``sweep`` axis (``num``, or a list of ``values``)
MAX_SWEEP_VALUES = 10_000
#: most rows of one member's sweep (the product of the axes' values with ``mode: grid``)
MAX_SWEEP_ROWS = 100_000
#: most ``regression.virtual.sites``
MAX_SITES = 1_000_000
#: largest ``calibrate.sampler.draws`` and ``tune`` [draws per chain]
MAX_DRAWS = 1_000_000
#: most ``calibrate.sampler.chains``
MAX_CHAINS = 256
#: most ``executor.jobs`` [worker processes]
MAX_JOBS = 1024
#: largest ``executor.chunk_rows`` [rows]
MAX_CHUNK_ROWS = 2**20


@dataclass(frozen=True)
class ModelSpec:
    """One ``models`` entry; its variants are the Cartesian product of the option lists."""

    model: str
    variants: dict[str, tuple[Any, ...]]
    parameters: dict[str, float]
    path: str  # e.g. "models[0]"
    baseline: dict[str, float] = field(default_factory=dict)  # overrides the shared baseline
    label: str = ""  # names the entry's members instead of the model (two entries of one model)

    def variant_list(self) -> list[dict[str, Any]]:
        """Every variant of the entry as an option mapping."""
        keys = list(self.variants)
        return [dict(zip(keys, combo)) for combo in itertools.product(*self.variants.values())]


@dataclass(frozen=True)
class DriverRange:
    """A sampled driver: ``range``, ``relative`` (multipliers on each model's baseline) or ``grid``.

    ``grid``: the distribution of a forcing's land cells.

    ``quantiles`` (mode ``grid`` only) is the area-weighted empirical distribution as (sorted values
    [driver units], cumulative probability at each value's mid-weight [1]); ``lower`` and ``upper``
    are then its smallest and largest value.
    """

    name: str
    mode: str  # "range" | "relative" | "grid"
    lower: float
    upper: float
    group: str | None
    path: str
    quantiles: tuple[Any, Any] | None = field(default=None, compare=False, repr=False)  # two ndarrays


@dataclass(frozen=True)
class LocalSettings:
    """Kind ``local``: elasticities from relative perturbations +-h of each listed driver, and exact ones.

    ``definition`` is the ranked elasticity: ``central``, ``plus``, ``minus`` or ``exact`` (which
    solves both sides, as ``central`` does, for the differences shown beside it).
    """

    drivers: tuple[str, ...] = ()
    h: float = 0.10
    definition: str = "central"


@dataclass(frozen=True)
class SweepAxis:
    """One swept driver: explicit values, or ``num`` points spanning a range."""

    name: str
    relative: bool  # values are multipliers on each model's baseline
    values: tuple[float, ...]
    path: str

    def absolute(self, baseline: float) -> tuple[float, ...]:
        """The swept values for a model whose baseline is ``baseline`` [driver units]."""
        return tuple(v * baseline for v in self.values) if self.relative else self.values


@dataclass(frozen=True)
class SweepSettings:
    """Kind ``sweep``: one-at-a-time sweeps (``oat``) or a full factorial ``grid``."""

    axes: tuple[SweepAxis, ...] = ()
    mode: str = "grid"
    zscore: bool = False


@dataclass(frozen=True)
class VirtualSettings:
    """Virtual observations drawn from each model x variant (kind ``regression``).

    ``sites`` sites are drawn uniformly from the driver ranges; each belongs to one of
    ``sources`` sources with a random offset N(0, source_sd) on log10 SOC; measurement noise
    N(0, noise_sd) is added to log10 SOC and N(0, cue_noise_sd) to the model's ``cue_bulk``.
    """

    sites: int = 120
    sources: int = 15
    source_sd: float = 0.1  # [log10(g C m-2)]
    noise_sd: float = 0.05  # [log10(g C m-2)]
    cue_noise_sd: float = 0.02  # [1]
    drivers: tuple[DriverRange, ...] = ()
    sobol_n: int = 512  # base samples of each member's own Sobol analysis of log10 SOC over the box; 0: none


@dataclass(frozen=True)
class RegressionSettings:
    """Kind ``regression``: ``response ~ predictors + (1 | group)`` on a CSV or on virtual data.

    ``transform`` maps a new column to ``FUNC(column)`` with FUNC in log10, log, sqrt.
    """

    data: str = ""  # CSV or netCDF path relative to the scenario file; "" with virtual or gridded data
    virtual: VirtualSettings | None = None
    response: str = "log10_soc"
    predictors: tuple[str, ...] = ()
    group: str = "source"
    transform: tuple[tuple[str, str, str], ...] = ()  # (new column, function, source column)
    separately: bool = False  # one fit per predictor (the Reply's "SOC ~ CUE or NPP") instead of one with all

    def formulas(self) -> list[tuple[str, ...]]:
        """The predictor sets fitted: all together, or each alone when ``separately``."""
        return [(p,) for p in self.predictors] if self.separately else [self.predictors]


@dataclass(frozen=True)
class GridObservation:
    """An observed SOC layer on the forcing grid (kind ``grid``), e.g. a SOC stock product."""

    name: str
    file: str  # netCDF path relative to the scenario file
    variable: str
    path: str


@dataclass(frozen=True)
class GridSettings:
    """Kind ``grid``: drivers read from a CF netCDF lat/lon grid, one steady state per land cell.

    ``drivers`` maps a vocabulary driver to a variable of ``forcing`` (its ``units`` attribute is
    converted to the driver's units); land cells are those where every mapped variable is valid
    (and ``land_fraction`` > 0 when given).
    """

    forcing: str = ""
    drivers: tuple[tuple[str, str, str], ...] = ()  # (driver, variable, path)
    land_fraction: str = ""
    observations: tuple[GridObservation, ...] = ()


@dataclass(frozen=True)
class Published:
    """A published number to print beside ours (and to test against)."""

    where: dict[str, Any]  # model and/or variant values the member must match
    driver: str
    output: str
    quantity: str
    value: float
    rtol: float
    atol: float
    magnitude: bool  # compare |ours| with value
    source: str
    path: str

    def matches(self, model: str, variant: dict[str, Any]) -> bool:
        """Whether a member of ``model`` with ``variant`` is the one the number was published for."""
        return all((model if k == "model" else variant.get(k, object())) == v for k, v in self.where.items())

    def holds(self, ours: float) -> bool:
        """Whether ``ours`` equals the published value within ``atol + rtol |value|``."""
        ours = abs(ours) if self.magnitude else ours
        return abs(ours - self.value) <= self.atol + self.rtol * abs(self.value)


@dataclass(frozen=True)
class ExecutorSettings:
    """Where model evaluations run; ``--jobs`` and ``--dask`` on the command line override it."""

    type: str = "serial"
    jobs: int = 1
    address: str | None = None  # dask scheduler, e.g. tcp://10.0.0.5:8786; None: a LocalCluster
    chunk_rows: int = CHUNK_ROWS


@dataclass(frozen=True)
class Prior:
    """A prior distribution by PyMC name, e.g. ``uniform(lower=1, upper=3)``."""

    name: str  # the calibrated quantity: a driver, ``param.NAME``, ``DRIVER_multiplier`` or ``sigma``
    dist: str
    args: dict[str, float]
    path: str

    @property
    def support(self) -> tuple[float, float]:
        """Interval with non-zero density [units of the quantity]."""
        lo = self.args.get("lower", 0.0 if self.dist in ("lognormal", "halfnormal") else -math.inf)
        return lo, self.args.get("upper", math.inf)

    def __str__(self) -> str:
        """The prior as written in tables, e.g. ``uniform(lower=1, upper=3)``."""
        return f"{self.dist}({', '.join(f'{k}={v:g}' for k, v in self.args.items())})"


@dataclass(frozen=True)
class ObservedDriver:
    """A driver of a calibration read from a column of the observation table, in ``units``."""

    name: str
    column: str
    units: str
    path: str


@dataclass(frozen=True)
class CalibrationSettings:
    """Kind ``calibrate``: priors, an observation table and the sampler.

    Observation error: ``lognormal`` (log y ~ N(log prediction, sigma), sigma [1]) or ``normal``
    (y ~ N(prediction, sigma), sigma in the output's units); ``sigma`` is a number or has a prior.
    """

    file: str = ""  # CSV path relative to the scenario file
    id_column: str = ""
    drivers: tuple[ObservedDriver, ...] = ()
    output: str = "soc"
    column: str = ""
    units: str = ""
    error_model: str = "lognormal"
    sigma: float | Prior = 0.3
    priors: tuple[Prior, ...] = ()
    sampler: str = SAMPLERS[0]
    draws: int = 2000
    tune: int = 2000
    chains: int = 4
    target_accept: float = 0.8  # NUTS's target acceptance rate [1]
    mass_matrix: str = MASS_MATRICES[0]  # NUTS's mass matrix, adapted during tuning

    @property
    def calibrated(self) -> tuple[Prior, ...]:
        """Every sampled quantity, the error's sigma last when it has a prior."""
        return self.priors + ((self.sigma,) if isinstance(self.sigma, Prior) else ())


@dataclass(frozen=True)
class Gates:
    """When a member's indices are *not estimable* (never ranked, never counted)."""

    dropped: float = 0.10  # largest share of Saltelli blocks dropped for failed or implausible rows [1]
    halfwidth: float = 0.20  # largest confidence half-width of any total index [1]


@dataclass(frozen=True)
class CrossoverSettings:
    """The range-aware verdict: relative half-widths of c_input and cue_scale swept as a grid."""

    c_input: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5)  # relative half-widths [1]
    cue_scale: tuple[float, ...] = (0.1, 0.2, 0.3)  # relative half-widths [1]
    n: int = 512  # base samples per grid cell (a prefix of each replicate of the main design)


@dataclass(frozen=True)
class SobolSettings:
    """Kind ``sobol``: the design, intervals, scale, gates and crossover of the indices."""

    n: int = 1024  # base samples in all (the cost budget), split over the replicates
    second_order: bool = False
    bootstrap: int = 1000  # resamples, with intervals: bootstrap
    confidence: float = 0.95
    replicates: int = 8  # independent scrambles; 1 with intervals: bootstrap
    intervals: str = "replicates"
    scale: str = "log"  # indices of ln(output) or of the raw output
    gates: Gates = Gates()
    #: declared upper plausibility bounds per output [output units]; a row above one is screened, never OK
    plausible: tuple[tuple[str, float], ...] = ()
    crossover: CrossoverSettings | None = CrossoverSettings()
    equivalence: float = 0.02  # largest |difference| of any total index for two variants to be equivalent [1]


@dataclass(frozen=True)
class Section:
    """A top-level section a kind reads: how it is built, its value when absent, whether it is needed.

    ``build(value, ctx)`` turns the parsed YAML value into settings, adding issues to ``ctx``.
    """

    build: Callable[[Any, Context], Any]
    default: Any = None
    required: tuple[str, str] | None = None  # (message, hint) when the kind cannot run without it


class KindSchema(Protocol):
    """What the scenario model needs to know of a kind (the kind objects in ``harness.kinds``)."""

    @property
    def name(self) -> str:
        """The value of ``kind:`` that selects it."""
        ...

    @property
    def sections(self) -> Mapping[str, Section]:
        """The top-level sections it reads, by key."""
        ...

    @property
    def varied(self) -> Callable[[Scenario], tuple[tuple[str, str], ...]]:
        """(driver, path) of every driver the kind's experiment varies."""
        ...


@dataclass(frozen=True)
class Scenario:
    """What a scenario file says: the settings every kind shares, and its kind's sections.

    A kind's sections are read as attributes (``scenario.sobol``, ``scenario.drivers``); a
    section the kind does not read raises ``AttributeError``.
    """

    path: str
    name: str
    description: str
    kind: str
    seed: int
    models: tuple[ModelSpec, ...]
    baseline: dict[str, float]
    outputs: tuple[str, ...]
    executor: ExecutorSettings = ExecutorSettings()
    sections: Mapping[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()  # the kind's sections the file gives (the others hold defaults)
    #: (driver, path) of every driver the experiment varies, whatever the kind
    varied: tuple[tuple[str, str], ...] = ()
    sha256: str = ""
    overrides: tuple[str, ...] = field(default=())

    def __getattr__(self, name: str) -> Any:
        """The kind's section ``name``; ``AttributeError`` when the kind does not read it."""
        if name.startswith("__") or name == "sections":
            raise AttributeError(name)
        try:
            return self.sections[name]
        except KeyError:
            raise AttributeError(f"a {self.kind} scenario has no section {name!r}") from None

    def replace(self, **changes: Any) -> Scenario:
        """A copy with ``changes`` to fields or to the kind's sections (e.g. ``sobol=...``)."""
        sections = {k: changes.pop(k) for k in list(changes) if k in self.sections}
        return dataclasses.replace(self, **changes, sections={**self.sections, **sections})

    @property
    def groups(self) -> dict[str, list[str]]:
        """Sampled drivers by ``group`` (kind sobol)."""
        out: dict[str, list[str]] = {}
        for d in self.sections.get("drivers", ()):
            if d.group:
                out.setdefault(d.group, []).append(d.name)
        return out


def parent(path: str) -> str:
    """``models[1].model`` -> ``models[1]`` -> ``models`` -> ``""``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path[: path.rindex(".")] if "." in path else ""


class Context:
    """Positions of the parsed file and the issues found so far."""

    def __init__(self, positions: Positions, overridden: set[str] | None = None):
        self.positions = positions
        self.overridden = overridden or set()
        self.issues: list[SpecIssue] = []
        #: ``issues[:_known]`` as a set, so that adding stays linear in the number of issues
        self._seen: set[SpecIssue] = set()
        self._known = 0

    def where(self, path: str, at_key: bool = False) -> tuple[int, int]:
        """Position of ``path`` (its key if ``at_key``), else of its nearest located parent."""
        if at_key and path + "#key" in self.positions:
            return self.positions[path + "#key"]
        while path not in self.positions:
            if not path:
                return (0, 0)
            path = parent(path)
        return self.positions[path]

    def add(self, path: str, message: str, hint: str = "", at_key: bool = False) -> None:
        """Record an issue at ``path`` (once; marked when the value came from ``--set``)."""
        if any(path == o or path.startswith(o + ".") or path.startswith(o + "[") for o in self.overridden):
            message += " (set with --set)"
        issue = SpecIssue(path, message, hint, *self.where(path, at_key))
        if len(self.issues) < self._known:  # some were removed: start again
            self._seen, self._known = set(), 0
        self._seen.update(self.issues[self._known:])  # those appended to ``issues`` directly
        if issue not in self._seen:  # e.g. the same rule failing for each variant of a model
            self._seen.add(issue)
            self.issues.append(issue)
        self._known = len(self.issues)


# -- small typed readers -----------------------------------------------------------------------
def did_you_mean(name: str, known: Any) -> str:
    """A hint naming the closest of ``known`` to ``name``, else listing them all."""
    close = closest(str(name), known)
    return f"did you mean {close!r}?" if close else f"known: {', '.join(sorted(known))}"


def check_keys(data: dict, allowed: tuple[str, ...], path: str, ctx: Context) -> None:
    """Report every key of ``data`` not in ``allowed``."""
    for key in data:
        if key not in allowed:
            ctx.add(join(path, key), f"unknown key {shown(key)}", did_you_mean(key, allowed), at_key=True)


def read_number(value: Any, path: str, ctx: Context) -> float | None:
    """``value`` as a finite float, or None after reporting (NaN, infinity, an integer beyond floats)."""
    number = finite(value)
    if number is None:
        ctx.add(path, f"must be a finite number; got {shown(value)}", "write e.g. 1.5 or 2e-3")
    return number


def finite(value: Any) -> float | None:
    """``value`` as a finite float; None when it is not a number, or NaN, infinite or too large for a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def read_int(value: Any, path: str, ctx: Context, minimum: int, hint: str = "",
             maximum: int | None = None) -> int | None:
    """``value`` as an integer >= ``minimum`` (and <= ``maximum``, a declared limit), or None after reporting."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        ctx.add(path, f"must be an integer >= {minimum}; got {shown(value)}", hint)
        return None
    if maximum is not None and value > maximum:
        ctx.add(path, f"must be at most {maximum} (a limit of soilbench); got {shown(value)}",
                f"use a value in [{minimum}, {maximum}]; see Limits in docs/scenarios.md")
        return None
    return value


def read_mapping(value: Any, path: str, ctx: Context, what: str = "a mapping") -> dict | None:
    """``value`` if it is a mapping, or None after reporting."""
    if not isinstance(value, dict):
        ctx.add(path, f"must be {what}; got {type(value).__name__} {shown(value)}", "write `key: value` pairs")
        return None
    return value


def read_pair(value: Any, path: str, ctx: Context) -> tuple[float, float] | None:
    """``value`` as ``(lower, upper)`` with lower < upper, or None after reporting."""
    if not (isinstance(value, list) and len(value) == 2):
        ctx.add(path, f"must be a list [lower, upper]; got {shown(value)}", "write e.g. [0.5, 1.5]")
        return None
    lo, hi = (read_number(v, join(path, i), ctx) for i, v in enumerate(value))
    if lo is None or hi is None:
        return None
    if not lo < hi:
        ctx.add(path, f"lower must be < upper; got [{lo:g}, {hi:g}]", "swap or widen the bounds")
        return None
    return lo, hi


# -- section builders ----------------------------------------------------------------------------
def build_models(value: Any, ctx: Context) -> tuple[ModelSpec, ...]:
    """The ``models`` section: one ``ModelSpec`` per entry."""
    if not isinstance(value, list) or not value:
        ctx.add("models", f"must be a non-empty list of models; got {shown(value)}", "write `- model: clm5_firstorder`")
        return ()
    specs = []
    for i, item in enumerate(value):
        path = join("models", i)
        if isinstance(item, str):
            item = {"model": item}
        entry = read_mapping(item, path, ctx, "a mapping with key 'model'")
        if entry is None:
            continue
        check_keys(entry, MODEL_KEYS, path, ctx)
        name = entry.get("model")
        if not isinstance(name, str):
            ctx.add(join(path, "model"), f"must name a model; got {shown(name)}", "run `python -m harness models`")
            continue
        variants = _build_variants(entry.get("variants", {}), join(path, "variants"), ctx)
        params = _build_numbers(entry.get("parameters", {}), join(path, "parameters"), ctx)
        baseline = _build_numbers(entry.get("baseline", {}), join(path, "baseline"), ctx)
        label = entry.get("label", "")
        if not isinstance(label, str) or (label and not re.fullmatch(r"[A-Za-z0-9_.\-]+", label)):
            ctx.add(join(path, "label"), f"must be a name of letters, digits, '_', '-' or '.'; got {shown(label)}",
                    "write e.g. `label: mimics_fast`")
            label = ""
        elif len(label) > MAX_NAME_LENGTH:
            ctx.add(join(path, "label"), f"must be at most {MAX_NAME_LENGTH} characters long; got {len(label)}",
                    "write a shorter label")
            label = ""
        specs.append(ModelSpec(name, variants, params, path, baseline, label))
    members = sum(math.prod(len(v) for v in spec.variants.values()) for spec in specs)
    if members > MAX_MEMBERS:
        ctx.add("models", f"give {members} model x variant members, more than {MAX_MEMBERS} (a limit of soilbench)",
                "list fewer variant values, or split the scenario")
        # the first value of each variant is still checked (the others would repeat its messages)
        specs = [dataclasses.replace(s, variants={k: v[:1] for k, v in s.variants.items()}) for s in specs]
    return tuple(specs)


def _build_variants(value: Any, path: str, ctx: Context) -> dict[str, tuple[Any, ...]]:
    data = read_mapping(value, path, ctx)
    out: dict[str, tuple[Any, ...]] = {}
    for key, values in (data or {}).items():
        values = values if isinstance(values, list) else [values]
        if not values:
            ctx.add(join(path, key), "needs at least one value", "write e.g. [1.0, 1.5]")
            continue
        path_key = join(path, key)
        numbers = [_variant_value(v, join(path_key, i), ctx) for i, v in enumerate(values)]
        if all(n is not _REPORTED for n in numbers) and distinct(
                numbers, path_key, ctx, "remove the repeat: equal values give the same member"):
            out[key] = tuple(numbers)
    return out


_REPORTED = object()  # a value whose issue was added


def _variant_value(value: Any, path: str, ctx: Context) -> Any:
    """A variant value as written, numbers as floats (1 reads 1.0); ``_REPORTED`` for a number that is not finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    number = finite(value)
    if number is None:
        ctx.add(path, f"must be a finite number; got {shown(value)}", "write e.g. 1.5 or 2e-3")
        return _REPORTED
    return number


def distinct(values: list[Any], path: str, ctx: Context, hint: str = "remove the repeat") -> bool:
    """Whether no two items of the list at ``path`` read alike (as labels and tables print them).

    The first repeat is reported.
    """
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if str(value) in seen:
            ctx.add(join(path, i), f"repeats {shown(value)}, given already as {join(path, seen[str(value)])}", hint)
            return False
        seen[str(value)] = i
    return True


def _build_numbers(value: Any, path: str, ctx: Context) -> dict[str, float]:
    data = read_mapping(value, path, ctx)
    out = {}
    for key, v in (data or {}).items():
        number = read_number(v, join(path, key), ctx)
        if number is not None:
            out[key] = number
    return out


def build_baseline(value: Any, ctx: Context) -> dict[str, float]:
    """The ``baseline`` section: driver values shared by every model [driver units]."""
    out = _build_numbers(value, "baseline", ctx)
    for name, number in out.items():
        check_units(name, (number,), join("baseline", name), ctx)
    return out


#: below this every value of a % driver reads as a fraction; above this a degC value reads as kelvin
FRACTION_MAX, KELVIN_MIN = 1.0, 150.0


def check_units(name: str, values: tuple[float, ...], path: str, ctx: Context) -> None:
    """Values of driver ``name`` written in another unit than its own: fractions for %, kelvin for degC."""
    units = DRIVERS.get(name, ("",))[0]
    if units == "%" and 0 < max(values) <= FRACTION_MAX and min(values) >= 0:
        percent = ", ".join(f"{100 * v:g}" for v in values)
        ctx.add(path, f"{name} is in % (0-100); {', '.join(f'{v:g}' for v in values)} reads as a fraction",
                f"write {percent} (per cent)")
    elif units == "degC" and min(values) > KELVIN_MIN:
        celsius = ", ".join(f"{v - 273.15:g}" for v in values)
        ctx.add(path, f"{name} is in degC; {', '.join(f'{v:g}' for v in values)} reads as kelvin",
                f"write {celsius} (degC = K - 273.15)")


def build_drivers(value: Any, ctx: Context, where: str = "drivers") -> tuple[DriverRange, ...]:
    """The sampled drivers of section ``where``, each with its range or relative multipliers."""
    data = read_mapping(value, where, ctx)
    out = []
    for name, entry in (data or {}).items():
        path = join(where, name)
        entry = read_mapping(entry, path, ctx, "a mapping with `range` or `relative`")
        if entry is None:
            continue
        check_keys(entry, DRIVER_KEYS, path, ctx)
        modes = [m for m in ("range", "relative") if m in entry]
        if len(modes) != 1:
            ctx.add(path, "needs exactly one of `range` (absolute) or `relative` (multiplier)",
                    "write e.g. `relative: [0.5, 1.5]`")
            continue
        pair = read_pair(entry[modes[0]], join(path, modes[0]), ctx)
        group = entry.get("group")
        if group is not None and not isinstance(group, str):
            ctx.add(join(path, "group"), f"must be a group name; got {shown(group)}", "write e.g. `group: microbial`")
            group = None
        if pair is not None:
            if modes[0] == "range":
                check_units(name, pair, join(path, "range"), ctx)
            out.append(DriverRange(name, modes[0], pair[0], pair[1], group, path))
    _check_groups(out, ctx)
    return tuple(out)


def _check_groups(drivers: list[DriverRange], ctx: Context) -> None:
    """A group of one driver whose name resembles another group's is a typo, not a new group."""
    members: dict[str, list[DriverRange]] = {}
    for d in drivers:
        if d.group:
            members.setdefault(d.group, []).append(d)
    order = list(members)
    for name, alone in members.items():
        # the other group is larger, or as small and named first: flag only the later of two typos' halves
        others = [g for g in order if g != name and (len(members[g]) > 1 or order.index(g) < order.index(name))]
        close = difflib.get_close_matches(name, others, n=1, cutoff=0.75)
        if len(alone) == 1 and close:
            ctx.add(join(alone[0].path, "group"), f"group {name!r} has only this driver and resembles group "
                    f"{close[0]!r}", f"did you mean `group: {close[0]}`? Else give this group a name unlike the others")


def build_sobol(value: Any, ctx: Context) -> SobolSettings:
    """The ``sobol`` section (defaults where absent)."""
    data = read_mapping(value, "sobol", ctx) if value is not None else {}
    if data is None:
        return SobolSettings()
    check_keys(data, SOBOL_KEYS, "sobol", ctx)
    default = SobolSettings()
    n = _power_of_two(data.get("n", default.n), "sobol.n", ctx, 2, MAX_SOBOL_N) or default.n
    intervals = _choice(data.get("intervals", default.intervals), INTERVALS, "sobol.intervals", ctx) or default.intervals
    replicates = _replicates(data, intervals, n, ctx)
    boot = read_int(data.get("bootstrap", default.bootstrap), "sobol.bootstrap", ctx, 10, "use e.g. 1000",
                    MAX_BOOTSTRAP)
    if boot and intervals == "bootstrap" and n * boot > MAX_BOOTSTRAP_DRAWS:
        ctx.add("sobol.bootstrap", f"{boot} resamples of sobol.n = {n} base samples exceed {MAX_BOOTSTRAP_DRAWS} "
                "(a limit of soilbench: the resamples are held in memory)",
                f"use at most {MAX_BOOTSTRAP_DRAWS // n} resamples, or `intervals: replicates`")
    second = data.get("second_order", default.second_order)
    if not isinstance(second, bool):
        ctx.add("sobol.second_order", f"must be true or false; got {shown(second)}")
    conf = read_number(data.get("confidence", default.confidence), "sobol.confidence", ctx)
    if conf is not None and not 0 < conf < 1:
        ctx.add("sobol.confidence", f"must lie in (0, 1); got {conf:g}", "use e.g. 0.95")
    scale = _choice(data.get("scale", default.scale), SCALES, "sobol.scale", ctx) or default.scale
    equivalence = _fraction(data.get("equivalence", default.equivalence), "sobol.equivalence", ctx, "use e.g. 0.02")
    return SobolSettings(
        n, bool(second), boot or default.bootstrap, conf or default.confidence, replicates, intervals, scale,
        _gates(data.get("gates"), ctx), _plausible(data.get("plausible", dict(default.plausible)), ctx),
        _crossover(data.get("crossover", {}), n, replicates, ctx),
        default.equivalence if equivalence is None else equivalence,
    )


def _power_of_two(value: Any, path: str, ctx: Context, minimum: int, maximum: int = MAX_SOBOL_N) -> int | None:
    number = read_int(value, path, ctx, minimum, f"use a power of 2, e.g. {max(minimum, 1024)}", maximum)
    if number is not None and number & (number - 1):
        ctx.add(path, f"must be a power of 2 (Sobol sequence balance); got {number}",
                f"use {1 << (number - 1).bit_length()} or {1 << (number.bit_length() - 1)}")
        return None
    return number


def _choice(value: Any, choices: tuple[str, ...], path: str, ctx: Context) -> str | None:
    if value not in choices:
        ctx.add(path, f"must be one of {', '.join(choices)}; got {shown(value)}", did_you_mean(value, choices))
        return None
    return value


def _fraction(value: Any, path: str, ctx: Context, hint: str, upper: float = 1.0) -> float | None:
    """A number in [0, upper) (or None after reporting)."""
    number = read_number(value, path, ctx)
    if number is not None and not 0 <= number < upper:
        ctx.add(path, f"must lie in [0, {upper:g}); got {number:g}", hint)
        return None
    return number


def _replicates(data: dict, intervals: str, n: int, ctx: Context) -> int:
    """Independent scrambles: 1 with bootstrap intervals, else a power of 2 >= 4 leaving >= 2 base samples each."""
    if intervals == "bootstrap":
        if "replicates" in data:
            ctx.add("sobol.replicates", "is used only with `intervals: replicates`", "remove it", at_key=True)
        return 1
    replicates = _power_of_two(data.get("replicates", SobolSettings.replicates), "sobol.replicates", ctx, 4)
    if replicates is None:
        return SobolSettings.replicates
    if n // replicates < 2:
        ctx.add("sobol.replicates", f"{replicates} replicates of sobol.n = {n} leave {n // replicates} base samples "
                "each; at least 2 are needed", f"raise sobol.n to {2 * replicates} or lower the replicates")
    return replicates


def _gates(value: Any, ctx: Context) -> Gates:
    data = read_mapping(value, "sobol.gates", ctx) if value is not None else {}
    if not data:
        return Gates()
    check_keys(data, GATE_KEYS, "sobol.gates", ctx)
    dropped = _fraction(data.get("dropped", Gates.dropped), "sobol.gates.dropped", ctx, "use e.g. 0.10 for 10 %")
    half = read_number(data.get("halfwidth", Gates.halfwidth), "sobol.gates.halfwidth", ctx)
    if half is not None and not half > 0:
        ctx.add("sobol.gates.halfwidth", f"must be > 0; got {half:g}", "use e.g. 0.20")
        half = None
    return Gates(Gates.dropped if dropped is None else dropped, half or Gates.halfwidth)


def _plausible(value: Any, ctx: Context) -> tuple[tuple[str, float], ...]:
    """Upper bounds per output; ``{}`` switches them off."""
    data = read_mapping(value, "sobol.plausible", ctx, "a mapping of output name to upper bound") if value else {}
    bounds = []
    for name, bound in (data or {}).items():
        path = join("sobol.plausible", name)
        if not (name in OUTPUTS or str(name).startswith(POOL_PREFIX)):
            ctx.add(path, f"unknown output {shown(name)}", did_you_mean(name, OUTPUTS), at_key=True)
        number = read_number(bound, path, ctx)
        if number is not None and not number > 0:
            ctx.add(path, f"must be a positive upper bound [output units]; got {number:g}", "write e.g. 1.0e5")
        elif number is not None:
            bounds.append((str(name), number))
    return tuple(bounds)


def _crossover(value: Any, n: int, replicates: int, ctx: Context) -> CrossoverSettings | None:
    """The crossover grid; ``false`` switches it off."""
    if value is False:
        return None
    data = read_mapping(value, "sobol.crossover", ctx, "a mapping (or false)") if value is not None else {}
    if data is None:
        return None
    check_keys(data, CROSSOVER_KEYS, "sobol.crossover", ctx)
    default = CrossoverSettings()
    widths: dict[str, tuple[float, ...]] = {}
    for key in ("c_input", "cue_scale"):
        path = join("sobol.crossover", key)
        raw = data.get(key, list(getattr(default, key)))
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CROSSOVER_WIDTHS:
            ctx.add(path, f"must be a list of 2 to {MAX_CROSSOVER_WIDTHS} relative half-widths; got {shown(raw)}",
                    "write e.g. [0.1, 0.3, 0.5]")
            continue
        values = [_fraction(v, join(path, i), ctx, "a relative half-width lies in (0, 1), e.g. 0.2") for i, v in enumerate(raw)]
        numbers = [v for v in values if v is not None]
        if len(numbers) < len(values):  # reported
            continue
        if all(v > 0 for v in numbers) and numbers == sorted(set(numbers)):
            widths[key] = tuple(numbers)
        else:
            ctx.add(path, f"must be distinct, increasing and > 0; got {shown(raw)}", "write e.g. [0.1, 0.2, 0.3]")
    cells = _power_of_two(data.get("n", min(default.n, n)), "sobol.crossover.n", ctx, 2) or min(default.n, n)
    if n // replicates >= 2 and (not replicates <= cells <= n or cells // replicates < 2):  # else reported
        ctx.add("sobol.crossover.n", f"must lie between {2 * replicates} (2 base samples per replicate) and sobol.n "
                f"= {n}; got {cells}", f"use e.g. {min(n, max(2 * replicates, 512))}")
    return CrossoverSettings(widths.get("c_input", default.c_input), widths.get("cue_scale", default.cue_scale), cells)


def build_local(value: Any, ctx: Context) -> LocalSettings:
    """The ``local`` section."""
    data = read_mapping(value, "local", ctx)
    if data is None:
        return LocalSettings()
    check_keys(data, LOCAL_KEYS, "local", ctx)
    names = data.get("drivers")
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        ctx.add("local.drivers", f"must be a non-empty list of driver names; got {shown(names)}",
                "write e.g. `drivers: [cue_scale, c_input]`")
        names = []
    elif not distinct(names, "local.drivers", ctx):
        names = list(dict.fromkeys(names))
    h = read_number(data.get("h", 0.10), "local.h", ctx)
    if h is not None and not 0 < h <= 1:
        ctx.add("local.h", f"must lie in (0, 1] (a relative perturbation); got {h:g}", "use e.g. 0.10 for +-10 %")
        h = None
    definition = data.get("definition", "central")
    if definition not in DEFINITIONS:
        ctx.add("local.definition", f"must be one of {', '.join(DEFINITIONS)}; got {shown(definition)}",
                did_you_mean(definition, DEFINITIONS))
        definition = "central"
    return LocalSettings(tuple(names), h or 0.10, definition)


def build_sweep(value: Any, ctx: Context) -> SweepSettings:
    """The ``sweep`` section."""
    data = read_mapping(value, "sweep", ctx)
    if data is None:
        return SweepSettings()
    check_keys(data, SWEEP_KEYS, "sweep", ctx)
    drivers = read_mapping(data.get("drivers"), "sweep.drivers", ctx, "a mapping of swept drivers")
    axes = tuple(a for name, entry in (drivers or {}).items() if (a := _sweep_axis(name, entry, ctx)))
    if drivers is not None and not drivers:
        ctx.add("sweep.drivers", "needs at least one swept driver", "add e.g. `c_input: {relative: [0.5, 1.5], num: 11}`")
    mode = data.get("mode", "grid")
    if mode not in SWEEP_MODES:
        ctx.add("sweep.mode", f"must be one of {', '.join(SWEEP_MODES)}; got {shown(mode)}", did_you_mean(mode, SWEEP_MODES))
        mode = "grid"
    zscore = data.get("zscore", False)
    if not isinstance(zscore, bool):
        ctx.add("sweep.zscore", f"must be true or false; got {shown(zscore)}")
        zscore = False
    rows = math.prod(len(a.values) for a in axes) if mode == "grid" else sum(len(a.values) for a in axes)
    if rows > MAX_SWEEP_ROWS:
        ctx.add("sweep.drivers", f"the {mode} of these axes has {rows} rows per member, more than {MAX_SWEEP_ROWS} "
                "(a limit of soilbench)", "use fewer values per axis, or `mode: oat`")
        # the ends of each axis are still checked against the models' domains (cheaply)
        axes = tuple(dataclasses.replace(a, values=tuple(dict.fromkeys((a.values[0], a.values[-1])))) for a in axes)
    return SweepSettings(axes, mode, zscore)


def _sweep_axis(name: str, entry: Any, ctx: Context) -> SweepAxis | None:
    path = join("sweep.drivers", name)
    entry = read_mapping(entry, path, ctx, "a mapping with `values`, `relative_values`, `range` or `relative`")
    if entry is None:
        return None
    check_keys(entry, SWEEP_DRIVER_KEYS, path, ctx)
    modes = [m for m in ("values", "relative_values", "range", "relative") if m in entry]
    if len(modes) != 1:
        ctx.add(path, "needs exactly one of `values`, `relative_values`, `range` or `relative`",
                "write e.g. `relative: [0.5, 1.5], num: 11` or `values: [300, 600]`")
        return None
    mode = modes[0]
    if mode in ("values", "relative_values"):
        raw = entry[mode]
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_SWEEP_VALUES:
            ctx.add(join(path, mode), f"must be a list of 1 to {MAX_SWEEP_VALUES} numbers; got {shown(raw)}",
                    "write e.g. [300, 600]")
            return None
        values = [read_number(v, join(join(path, mode), i), ctx) for i, v in enumerate(raw)]
        numbers = [v for v in values if v is not None]
        if len(numbers) < len(values) or not distinct(numbers, join(path, mode), ctx):
            return None
        if "num" in entry:
            ctx.add(join(path, "num"), "is used only with `range` or `relative`", "remove it", at_key=True)
        return SweepAxis(name, mode == "relative_values", tuple(numbers), path)
    pair = read_pair(entry[mode], join(path, mode), ctx)
    num = read_int(entry.get("num", 11), join(path, "num"), ctx, 2, "use e.g. 11", MAX_SWEEP_VALUES)
    if pair is None or num is None:
        return None
    return SweepAxis(name, mode == "relative", tuple(float(v) for v in _linspace(*pair, num)), path)


def _linspace(lo: float, hi: float, num: int) -> list[float]:
    return [lo + (hi - lo) * i / (num - 1) for i in range(num)]


def build_published(value: Any, ctx: Context) -> tuple[Published, ...]:
    """The ``published`` section: numbers to print beside ours."""
    if not isinstance(value, list):
        ctx.add("published", f"must be a list of published values; got {shown(value)}",
                "write `- {driver: c_input, output: soc, value: 1.0, atol: 1e-9}`")
        return ()
    out = []
    for i, entry in enumerate(value):
        path = join("published", i)
        entry = read_mapping(entry, path, ctx)
        if entry is None:
            continue
        check_keys(entry, PUBLISHED_KEYS, path, ctx)
        where = read_mapping(entry.get("where", {}), join(path, "where"), ctx) or {}
        driver, output = entry.get("driver"), entry.get("output", "soc")
        if not isinstance(driver, str) or not isinstance(output, str):
            ctx.add(path, f"needs `driver` and `output` names; got driver={shown(driver)}, output={shown(output)}")
            continue
        quantity = entry.get("quantity", "")
        if quantity and quantity not in QUANTITIES:
            ctx.add(join(path, "quantity"), f"must be one of {', '.join(QUANTITIES)}; got {shown(quantity)}",
                    did_you_mean(quantity, QUANTITIES))
            continue
        number = read_number(entry.get("value"), join(path, "value"), ctx)
        rtol = read_number(entry.get("rtol", 0.0), join(path, "rtol"), ctx)
        atol = read_number(entry.get("atol", 0.0), join(path, "atol"), ctx)
        magnitude = entry.get("magnitude", False)
        if number is None or rtol is None or atol is None or not isinstance(magnitude, bool):
            continue
        where = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in where.items()}
        out.append(Published(where, driver, output, quantity, number, rtol, atol, magnitude,
                             str(entry.get("source", "")), path))
    return tuple(out)


def build_executor(value: Any, ctx: Context) -> ExecutorSettings:
    """The ``executor`` section (serial when absent)."""
    data = read_mapping(value, "executor", ctx)
    if data is None:
        return ExecutorSettings()
    check_keys(data, EXECUTOR_KEYS, "executor", ctx)
    kind = data.get("type", "serial")
    if kind not in EXECUTOR_TYPES:
        ctx.add("executor.type", f"must be one of {', '.join(EXECUTOR_TYPES)}; got {shown(kind)}",
                did_you_mean(kind, EXECUTOR_TYPES))
        kind = "serial"
    jobs = read_int(data.get("jobs", 1), "executor.jobs", ctx, 1, "use e.g. 2", MAX_JOBS) or 1
    chunk = read_int(data.get("chunk_rows", CHUNK_ROWS), "executor.chunk_rows", ctx, 1,
                     f"use e.g. {CHUNK_ROWS}", MAX_CHUNK_ROWS) or CHUNK_ROWS
    address = data.get("address")
    if address is not None and not isinstance(address, str):
        ctx.add("executor.address", f"must be a scheduler address; got {shown(address)}", "e.g. tcp://host:8786")
        address = None
    if address and kind != "dask":
        ctx.add("executor.address", "is used only with `type: dask`", "add `type: dask` or remove the address")
    return ExecutorSettings(kind, jobs, address, chunk)


def build_outputs(value: Any, ctx: Context) -> tuple[str, ...]:
    """The ``outputs`` section (``soc`` when absent)."""
    if value is None:
        return ("soc",)
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        ctx.add("outputs", f"must be a list of output names; got {shown(value)}", "write e.g. [soc, soc_total]")
        return ("soc",)
    if not distinct(value, "outputs", ctx):
        return tuple(dict.fromkeys(value))
    return tuple(value)


def read_choice(data: dict, key: str, choices: tuple[str, ...], default: str | None, ctx: Context) -> str | None:
    """``data[key]`` (or ``default``) if it is one of ``choices``, or None after reporting."""
    value = data.get(key, default)
    if value is None:
        ctx.add("", f"missing required key {key!r}", f"add `{key}: {choices[0]}`")
        return None
    return _choice(value, choices, key, ctx)


def build_regression(value: Any, ctx: Context, gridded: bool = False) -> RegressionSettings:
    """``gridded``: the data are the outputs of a ``grid`` run, so neither ``data`` nor ``virtual``."""
    data = read_mapping(value, "regression", ctx)
    if data is None:
        return RegressionSettings()
    check_keys(data, REGRESSION_KEYS, "regression", ctx)
    sources = [k for k in ("data", "virtual") if k in data]
    if gridded:
        for key in sources:
            ctx.add(f"regression.{key}", "a grid scenario fits the regression to its own gridded outputs",
                    "remove it", at_key=True)
    elif len(sources) != 1:
        ctx.add("regression", "needs exactly one of `data` (a CSV or netCDF path) or `virtual` (observations "
                "from the models)", "add e.g. `data: observations.csv`")
    path = data.get("data", "")
    if not isinstance(path, str):
        ctx.add("regression.data", f"must be a CSV or netCDF path; got {shown(path)}", "e.g. `data: observations.csv`")
        path = ""
    virtual = _build_virtual(data["virtual"], ctx) if "virtual" in data else None
    default = RegressionSettings()
    names = {}
    for key in ("response", "group"):
        names[key] = data.get(key, getattr(default, key))
        if not isinstance(names[key], str) or not names[key]:
            ctx.add(f"regression.{key}", f"must be a column name; got {shown(names[key])}",
                    f"e.g. `{key}: {getattr(default, key)}`")
    predictors = data.get("predictors")
    if not (isinstance(predictors, list) and predictors and all(isinstance(p, str) for p in predictors)
            and len(set(predictors)) == len(predictors)):
        ctx.add("regression.predictors", f"must be a non-empty list of distinct column names; got {shown(predictors)}",
                "write e.g. `predictors: [cue, npp]`")
        predictors = []
    transform = _build_transform(data.get("transform", {}), ctx)
    separately = data.get("separately", False)
    if not isinstance(separately, bool):
        ctx.add("regression.separately", f"must be true or false; got {shown(separately)}",
                "`separately: true` fits one model per predictor")
        separately = False
    return RegressionSettings(path, virtual, str(names["response"]), tuple(predictors), str(names["group"]),
                              transform, separately)


def build_grid(value: Any, ctx: Context) -> GridSettings:
    """The ``grid`` section: forcing file, mapped drivers and observation layers."""
    data = read_mapping(value, "grid", ctx)
    if data is None:
        return GridSettings()
    check_keys(data, GRID_KEYS, "grid", ctx)
    forcing = _read_name(data, "forcing", "grid", ctx, "../data/global_forcing/forcing_2deg.nc")
    land_fraction = data.get("land_fraction", "")
    if not isinstance(land_fraction, str):
        ctx.add("grid.land_fraction", f"must be a variable name; got {shown(land_fraction)}",
                "e.g. `land_fraction: land_fraction`, or remove it")
        land_fraction = ""
    drivers = []
    mapping = read_mapping(data.get("drivers"), "grid.drivers", ctx, "a mapping of driver: netCDF variable") or {}
    if not mapping:
        ctx.add("grid.drivers", "needs at least one driver read from the forcing", "add e.g. `drivers: {c_input: npp}`")
    for name, variable in mapping.items():
        if not isinstance(variable, str) or not variable:
            ctx.add(join("grid.drivers", name), f"must be a netCDF variable name; got {shown(variable)}",
                    f"write e.g. `{name}: {name}`")
            continue
        drivers.append((str(name), variable, join("grid.drivers", name)))
    observations = []
    for name, entry in (read_mapping(data.get("observations", {}), "grid.observations", ctx) or {}).items():
        where = join("grid.observations", name)
        entry = read_mapping(entry, where, ctx, "a mapping with file and variable") or {}
        check_keys(entry, GRID_OBSERVATION_KEYS, where, ctx)
        file = _read_name(entry, "file", where, ctx, "../data/soc_stock_global_coarse/soc_stock_sanderman2017_2deg.nc")
        variable = _read_name(entry, "variable", where, ctx, "socs_0_30cm_2010")
        observations.append(GridObservation(str(name), file, variable, where))
    return GridSettings(forcing, tuple(drivers), land_fraction, tuple(observations))


def _build_virtual(value: Any, ctx: Context) -> VirtualSettings | None:
    data = read_mapping(value, "regression.virtual", ctx)
    if data is None:
        return None
    check_keys(data, VIRTUAL_KEYS, "regression.virtual", ctx)
    default = VirtualSettings()
    sites = read_int(data.get("sites", default.sites), "regression.virtual.sites", ctx, 3, "use e.g. 120", MAX_SITES)
    sources = read_int(data.get("sources", default.sources), "regression.virtual.sources", ctx, 2, "use e.g. 15")
    if sites and sources and sources > sites:
        ctx.add("regression.virtual.sources", f"must not exceed sites ({sites}); got {sources}",
                "use fewer sources than sites")
    sds = {}
    for key in ("source_sd", "noise_sd", "cue_noise_sd"):
        sds[key] = sd = read_number(data.get(key, getattr(default, key)), f"regression.virtual.{key}", ctx)
        if sd is not None and sd < 0:
            ctx.add(f"regression.virtual.{key}", f"must be >= 0 (a standard deviation); got {sd:g}",
                    "use e.g. 0.05")
    sobol_n = read_int(data.get("sobol_n", default.sobol_n), "regression.virtual.sobol_n", ctx, 0,
                       "use e.g. 512 (a power of 2), or 0 for no Sobol comparison", MAX_VIRTUAL_SOBOL_N)
    if sobol_n and (sobol_n < 2 or sobol_n & (sobol_n - 1)):
        ctx.add("regression.virtual.sobol_n", f"must be a power of 2 (Sobol sequence); got {sobol_n}",
                f"use {max(2, 1 << sobol_n.bit_length())}")
    if not data.get("drivers"):
        ctx.add("regression.virtual.drivers", "needs at least one sampled driver",
                "add `drivers: {c_input: {relative: [0.5, 1.5]}}`")
        drivers: tuple[DriverRange, ...] = ()
    else:
        drivers = build_drivers(data["drivers"], ctx, "regression.virtual.drivers")
    return VirtualSettings(sites or default.sites, sources or default.sources, sds["source_sd"] or 0.0,
                           sds["noise_sd"] or 0.0, sds["cue_noise_sd"] or 0.0, drivers,
                           default.sobol_n if sobol_n is None else sobol_n)


def _build_transform(value: Any, ctx: Context) -> tuple[tuple[str, str, str], ...]:
    data = read_mapping(value, "regression.transform", ctx)
    out = []
    for name, expression in (data or {}).items():
        func, _, rest = str(expression).partition("(")
        column = rest[:-1].strip() if rest.endswith(")") else ""
        if func.strip() not in TRANSFORMS or not column:
            ctx.add(join("regression.transform", name), f"must read FUNC(column) with FUNC one of "
                    f"{', '.join(TRANSFORMS)}; got {shown(expression)}", "write e.g. `log10_soc: log10(soc)`")
            continue
        out.append((str(name), func.strip(), column))
    return tuple(out)


def _read_name(data: dict, key: str, path: str, ctx: Context, example: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        ctx.add(join(path, key), f"must be a name; got {shown(value)}", f"write e.g. `{key}: {example}`")
        return ""
    return value


def build_calibrate(value: Any, ctx: Context) -> CalibrationSettings:
    """The ``calibrate`` section: observations, priors and sampler."""
    data = read_mapping(value, "calibrate", ctx)
    if data is None:
        return CalibrationSettings()
    check_keys(data, CALIBRATE_KEYS, "calibrate", ctx)
    default = CalibrationSettings()
    obs = read_mapping(data.get("observations"), "calibrate.observations", ctx,
                       "a mapping with file, id, drivers, output, column, units and error") or {}
    where = "calibrate.observations"
    check_keys(obs, OBSERVATION_KEYS, where, ctx)
    file = _read_name(obs, "file", where, ctx, "../data/lter_sites.csv")
    id_column = _read_name(obs, "id", where, ctx, "site")
    output = _read_name(obs, "output", where, ctx, "soc_total")
    column = _read_name(obs, "column", where, ctx, "soc")
    units = _read_name(obs, "units", where, ctx, "g C m-2")
    drivers = []
    for name, entry in (read_mapping(obs.get("drivers"), join(where, "drivers"), ctx,
                                     "a mapping of driver: {column, units}") or {}).items():
        path = join(join(where, "drivers"), name)
        entry = read_mapping(entry, path, ctx, "a mapping {column: NAME, units: UNITS}")
        if entry is None:
            continue
        check_keys(entry, OBSERVED_DRIVER_KEYS, path, ctx)
        col, unit = _read_name(entry, "column", path, ctx, name), _read_name(entry, "units", path, ctx, "degC")
        if col and unit:
            drivers.append(ObservedDriver(str(name), col, unit, path))
    error = read_mapping(obs.get("error", {}), join(where, "error"), ctx) or {}
    check_keys(error, ERROR_KEYS, join(where, "error"), ctx)
    model = error.get("model", default.error_model)
    if model not in ERROR_MODELS:
        ctx.add(join(where, "error.model"), f"must be one of {', '.join(ERROR_MODELS)}; got {shown(model)}",
                did_you_mean(model, ERROR_MODELS))
        model = default.error_model
    sigma: float | Prior | None = default.sigma
    if isinstance(error.get("sigma"), dict):
        sigma = _build_prior(SIGMA, error["sigma"], join(where, "error.sigma"), ctx)
    elif "sigma" in error:
        sigma = read_number(error["sigma"], join(where, "error.sigma"), ctx)
        if sigma is not None and sigma <= 0:
            ctx.add(join(where, "error.sigma"), f"must be > 0 (a standard deviation); got {sigma:g}",
                    "use e.g. 0.3, or a prior {dist: halfnormal, sigma: 0.5}")
    priors = tuple(p for name, entry in (read_mapping(data.get("priors"), "calibrate.priors", ctx) or {}).items()
                   if (p := _build_prior(str(name), entry, join("calibrate.priors", name), ctx)))
    if not priors and isinstance(data.get("priors"), dict):
        ctx.add("calibrate.priors", "needs at least one calibrated quantity",
                "add e.g. `cue_scale: {dist: uniform, lower: 0.5, upper: 1.3}`")
    sampler = read_mapping(data.get("sampler", {}), "calibrate.sampler", ctx) or {}
    check_keys(sampler, SAMPLER_KEYS, "calibrate.sampler", ctx)
    name = sampler.get("name", default.sampler)
    if name not in SAMPLERS:
        hint = did_you_mean(name, SAMPLERS)
        ctx.add("calibrate.sampler.name", f"must be one of {', '.join(SAMPLERS)}; got {shown(name)}", hint)
        name = default.sampler
    counts = {key: read_int(sampler.get(key, getattr(default, key)), f"calibrate.sampler.{key}", ctx,
                            minimum, hint, MAX_CHAINS if key == "chains" else MAX_DRAWS) for key, minimum, hint in (
        ("draws", 10, "use e.g. 2000"), ("tune", 0, "use e.g. 2000"),
        ("chains", 2, "use at least 2 chains so R-hat can be computed"))}
    target_accept = read_number(sampler.get("target_accept", default.target_accept), "calibrate.sampler.target_accept",
                                ctx)
    if target_accept is not None and not 0.5 <= target_accept < 1.0:
        ctx.add("calibrate.sampler.target_accept", f"must be in [0.5, 1); got {target_accept:g}",
                "use e.g. 0.9 (higher: smaller steps, fewer divergences near a region without a steady state)")
        target_accept = None
    mass_matrix = _choice(sampler.get("mass_matrix", default.mass_matrix), MASS_MATRICES, "calibrate.sampler.mass_matrix",
                          ctx) or default.mass_matrix
    for key in ("target_accept", "mass_matrix"):
        if key in sampler and name != "NUTS":
            ctx.add(f"calibrate.sampler.{key}", f"is a setting of NUTS; {name} does not use it",
                    "remove it (from the command line, replace the whole mapping: "
                    f"--set 'calibrate.sampler={{name: {name}, draws: N, tune: N}}')")
    return CalibrationSettings(file, id_column, tuple(drivers), output, column, units, model,
                               sigma if sigma is not None else default.sigma, priors, name,
                               **{k: v if v is not None else getattr(default, k) for k, v in counts.items()},
                               target_accept=target_accept if target_accept is not None else default.target_accept,
                               mass_matrix=mass_matrix)


def _build_prior(name: str, value: Any, path: str, ctx: Context) -> Prior | None:
    entry = read_mapping(value, path, ctx, "a mapping {dist: NAME, ...parameters}")
    if entry is None:
        return None
    check_keys(entry, PRIOR_KEYS, path, ctx)
    dist = entry.get("dist")
    if not isinstance(dist, str) or dist not in PRIOR_PARAMETERS:
        ctx.add(join(path, "dist"), f"must be one of {', '.join(PRIOR_PARAMETERS)}; got {shown(dist)}",
                did_you_mean(str(dist), PRIOR_PARAMETERS))
        return None
    args = {}
    for key in PRIOR_PARAMETERS[dist]:
        if key not in entry:
            ctx.add(path, f"a {dist} prior needs {key!r}", f"write {dist} with {', '.join(PRIOR_PARAMETERS[dist])}")
            return None
        number = read_number(entry[key], join(path, key), ctx)
        if number is None:
            return None
        args[key] = number
    for key in entry:
        if key != "dist" and key not in PRIOR_PARAMETERS[dist] and key in PRIOR_KEYS:
            ctx.add(join(path, key), f"is not a parameter of a {dist} prior", "remove it", at_key=True)
    if args.get("sigma", 1.0) <= 0:
        ctx.add(join(path, "sigma"), f"must be > 0; got {args['sigma']:g}", "use e.g. 0.5")
        return None
    if "lower" in args and "upper" in args and not args["lower"] < args["upper"]:
        ctx.add(path, f"lower must be < upper; got [{args['lower']:g}, {args['upper']:g}]", "swap or widen the bounds")
        return None
    return Prior(name, dist, args, path)


def build_on_failure(value: Any, ctx: Context) -> str:
    """``on_failure`` (kind sobol): what a failed row does to the analysis."""
    return _choice(value, ON_FAILURE, "on_failure", ctx) or "error"


@dataclass(frozen=True)
class Cases:
    """Kind ``points``: the cases as written, a CSV path (read by the plan) or inline rows."""

    source: str = ""  # CSV path relative to the scenario file, or "inline"
    rows: tuple[dict[str, Any], ...] = ()  # inline rows, cells as written


def build_cases(value: Any, ctx: Context) -> Cases:
    """The ``cases`` section: a CSV path or inline rows."""
    if isinstance(value, str):
        return Cases(value)
    if isinstance(value, list) and all(isinstance(r, dict) for r in value):
        return Cases("inline", tuple(value))
    ctx.add("cases", f"must be a CSV path or a list of mappings; got {shown(value)}", "e.g. `cases: cases.csv`")
    return Cases()


def build_drivers_from(value: Any, ctx: Context) -> str:
    """A calibration result directory, relative to the scenario file (its posterior is read by the plan)."""
    if not isinstance(value, str) or not value:
        ctx.add("drivers_from", f"must be a calibration result directory; got {shown(value)}",
                "e.g. `drivers_from: ../results/calibrate_lter`")
        return ""
    return value

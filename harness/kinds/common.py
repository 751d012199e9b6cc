"""What every kind shares: the run context, the outcome and per-member bookkeeping."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import screen_rows
from ..members import Member
from ..plan import Plan
from ..runner import ChunkStore, evaluate_member, status_counts
from ..spec import Scenario
from ..store import ResultDir
from ..vocabulary import CHUNK_ROWS, POOL_PREFIX


@dataclass
class RunContext:
    """What a kind's runner needs: the plan (scenario, members, inputs), where to write and where to compute.

    Where to write is ``files``: every file goes through it.
    """

    plan: Plan
    files: ResultDir
    executor: Any
    chunk_rows: int = CHUNK_ROWS
    members: list[Member] = field(init=False)  # the plan's; a kind may add members (posterior twins)
    #: rows that are not OK, one table per evaluation (and rows a kind screened out): failures.csv
    failures: list[pd.DataFrame] = field(init=False, default_factory=list)
    #: chunks loaded from an interrupted run (``--resume``) and chunks solved
    chunks: dict[str, int] = field(init=False, default_factory=lambda: {"reused": 0, "solved": 0})

    def __post_init__(self) -> None:
        """Start with the plan's members."""
        self.members = list(self.plan.members)

    @property
    def scenario(self) -> Scenario:
        """The scenario being run."""
        return self.plan.scenario

    @property
    def out_dir(self) -> Path:
        """The run's output directory."""
        return self.files.root

    def evaluate(self, member: Member, n_rows: int, drivers=None, parameters=None, *, what: str = "",
                 keep: list[str] | None = None, design: str = ""):
        """Steady states of ``member`` over ``n_rows`` rows, stored chunk by chunk under ``chunks/``.

        An interrupted run can resume; ``what`` names the design (``design``: its name in
        failures.csv, default ``what``). Rows that are not OK are kept for failures.csv.
        """
        key = hashlib.sha1(f"{member.label}|{what}".encode()).hexdigest()[:16]
        store = ChunkStore(self.out_dir / "chunks" / key)
        result = evaluate_member(member, n_rows, drivers, parameters, executor=self.executor,
                                 chunk_rows=self.chunk_rows, keep=keep, store=store,
                                 desc=f"{member.label} {what}".strip())
        self.chunks["reused"] += store.reused
        self.chunks["solved"] += -(-n_rows // self.chunk_rows) - store.reused
        failed = ~result.ok
        if failed.any():
            inputs = {**(drivers or {}), **{f"param.{k}": v for k, v in (parameters or {}).items()}}
            self.failures.append(failure_table(member, design or what.strip("() "), inputs, failed,
                                               result.columns()["status"], result.message))
        return result

    def write_failures(self) -> None:
        """``failures.csv``: every row that was not OK (and every row a kind screened out), if any."""
        if self.failures:
            self.files.csv("failures.csv", pd.concat(self.failures, ignore_index=True))


@dataclass
class RunOutcome:
    """Per-member row counts, problems, warnings and what the console shows.

    ``problems`` make the run exit 1 (e.g. indices refused because rows failed); ``warnings``
    are printed but the run succeeds (e.g. a points case outside a model's domain).
    """

    members: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # printed after the run summary with --verbose
    headline: list[str] = field(default_factory=list)  # the answer in a sentence or two, always printed
    settings: dict[str, Any] = field(default_factory=dict)  # kind settings the report needs

    def record(self, member: Member, result: Any, seconds: float, what: str = "") -> dict[str, Any]:
        """Record the rows solved for ``member`` (status counts, seconds [s]); returns the entry."""
        entry = {
            "member": member.label,
            "model": member.model,
            "variant": member.variant,
            "design": what,
            "rows": int(result.status.size),
            "status": status_counts(result),
            "seconds": round(seconds, 3),
        }
        self.members.append(entry)
        return entry


def failure_table(member: Member, design: str, inputs: dict[str, np.ndarray], rows: np.ndarray,
                  status: np.ndarray, message: np.ndarray) -> pd.DataFrame:
    """The rows ``rows`` (a mask) of one evaluation of ``member``: inputs, status and why."""
    bad = np.flatnonzero(rows)
    table = pd.DataFrame({"member": member.label, "design": design, "row": bad})
    for name, column in inputs.items():
        table[name] = np.asarray(column)[bad]
    table["status"] = np.asarray(status)[bad]
    table["message"] = np.asarray(message)[bad]
    return table


def variant_columns(members: list[Member]) -> list[str]:
    """Union of variant keys over members, in first-seen order."""
    return list(dict.fromkeys(k for m in members for k in m.variant))


def member_columns(member: Member, columns: list[str]) -> dict[str, Any]:
    """``model`` and one column per variant key ("" where the member has none)."""
    return {"model": member.model, **{c: member.variant.get(c, "") for c in columns}}


def represents(member: Member, output: str) -> bool:
    """Whether the member produces ``output`` (harmonised name or ``pool.NAME``)."""
    if output.startswith(POOL_PREFIX):
        return output.removeprefix(POOL_PREFIX) in member.adapter.pool_names
    return output in member.adapter.outputs


def on_scale(y: np.ndarray, scale: str) -> np.ndarray:
    """An output on the analysis scale ``log`` (ln; NaN where undefined, such rows are screened out) or ``raw``."""
    if scale == "raw":
        return y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), np.nan)


def kept_outputs(scenario: Scenario, member: Member) -> list[str]:
    """Outputs a Sobol evaluation keeps: the analysed ones and those with a plausibility bound."""
    bounded = [name for name, _ in scenario.sobol.plausible if represents(member, name)]
    return list(dict.fromkeys([*scenario.outputs, *bounded, "soc"]))


def screen(scenario: Scenario, member: Member, result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``result`` usable by every analysed output of the member, and why the others are not.

    The others are implausible, not finite, or not positive on the log scale; see
    ``analysis.screen_rows``.
    """
    s = scenario.sobol
    bounds = {name: b for name, b in s.plausible if represents(member, name)}
    analysed = {o for o in scenario.outputs if represents(member, o)} | set(bounds)
    return screen_rows({o: result.get(o) for o in sorted(analysed)}, result.ok, bounds, s.scale == "log")


def output_units(member: Member, output: str) -> str:
    """Units of ``output`` (a harmonised output or ``pool.NAME``) for ``member``."""
    if output.startswith(POOL_PREFIX):
        return next(p.units for p in member.adapter.pools if p.name == output.removeprefix(POOL_PREFIX))
    return next(o.units for o in member.adapter.output_metadata if o.name == output)


def compare_published(scenario: Scenario, members: list[Member], table: pd.DataFrame,
                      quantity_of: Callable[[Any], str]) -> pd.DataFrame | None:
    """Our value beside each published one (``published:`` entries x matching members)."""
    if not scenario.published:
        return None
    rows = []
    for p in scenario.published:
        quantity = quantity_of(p)
        for m in members:
            if not p.matches(m.model, m.variant):
                continue
            hit = table[(table["member"] == m.label) & (table["driver"] == p.driver) & (table["output"] == p.output)]
            ours = float(hit[quantity].iloc[0]) if len(hit) else float("nan")
            rows.append({
                "member": m.label, "driver": p.driver, "output": p.output, "quantity": quantity,
                "published": p.value, "ours": ours, "compared": "|ours|" if p.magnitude else "ours",
                "tolerance": f"rtol {p.rtol:g}" + (f", atol {p.atol:g}" if p.atol else ""),
                "holds": bool(p.holds(ours)), "source": p.source,
            })
    return pd.DataFrame(rows)

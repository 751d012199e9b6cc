"""Compare two result directories (did any index, ranking, verdict or reference value move?).

``BASELINE`` and ``NEW`` are run directories (with ``summary.json``) or directories of run
directories (matched by name). Two runs are compared only when their manifests say they answer
the same question: the same kind, N and scenario; otherwise they are listed as *not comparable*
(exit 2), never as moved. A different seed or scenario file is noted beside the comparison. Each
kind names the tables compared and how (``Kind.compared``):

* sobol: an index (S1 or ST) *moved* when the two confidence intervals do not overlap,
  ``|new - base| > conf_new + conf_base``; a *ranking changed* when the drivers' order by ST
  differs; a *verdict*, *vote* or *crossover* changed when ``verdict.csv`` (its ``answer``),
  ``votes.csv`` or ``crossover.csv`` (its ``state``) says otherwise, and a crossover ratio
  *moved* when the two intervals on it do not overlap.
* local, points, sweep: a value *drifted* when ``|new - base| > atol + rtol |base|``; a published
  comparison that held and no longer holds (or the reverse) is a changed conclusion.

Members, outputs or drivers present on one side only are reported too. Exit code: 0 if nothing
moved, 3 if something did, 2 if some runs are not comparable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from .errors import HarnessError
from .kinds import Compared, kinds
from .store import atomic_write_text, read_manifest, write_json

MOVED_EXIT_CODE = 3
#: ``compare`` exits with this when two runs do not answer the same question (kind, N or scenario)
NOT_COMPARABLE_EXIT_CODE = 2


@dataclass
class Comparison:
    """Everything that moved, by category, plus what was compared."""

    moved: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    compared: list[str] = field(default_factory=list)
    #: runs that cannot be compared (another kind, N or scenario), with the reason
    not_comparable: list[dict[str, Any]] = field(default_factory=list)
    #: what differs between compared runs without making them incomparable (seed, scenario file)
    notes: list[dict[str, Any]] = field(default_factory=list)

    def add(self, category: str, **item: Any) -> None:
        """Record ``item`` as moved under ``category``."""
        self.moved.setdefault(category, []).append(item)

    @property
    def anything_moved(self) -> bool:
        """Whether any category holds a moved item."""
        return any(self.moved.values())

    @property
    def exit_code(self) -> int:
        """2 if some runs are not comparable, else 3 if anything moved, else 0."""
        return NOT_COMPARABLE_EXIT_CODE if self.not_comparable else MOVED_EXIT_CODE if self.anything_moved else 0


def run_dirs(root: Path) -> dict[str, Path]:
    """Run directories under ``root`` by name (``root`` itself if it is one)."""
    root = Path(root)
    if (root / "summary.json").exists():
        return {root.name: root}
    found = {p.parent.name: p.parent for p in sorted(root.glob("*/summary.json"))}
    if not found:
        raise HarnessError(f"{root}: no result directory (no summary.json in it or its subdirectories)")
    return found


def compare_roots(baseline: Path, new: Path, rtol: float = 1e-6, atol: float = 1e-12) -> Comparison:
    """Compare the runs under ``baseline`` with those under ``new``, matched by name."""
    base_runs, new_runs = run_dirs(baseline), run_dirs(new)
    if len(base_runs) == 1 and len(new_runs) == 1:  # two single runs: compare them whatever their names
        base_runs = {next(iter(new_runs)): next(iter(base_runs.values()))}
    result = Comparison()
    for name in sorted(set(base_runs) | set(new_runs)):
        if name not in new_runs or name not in base_runs:
            result.add("runs missing", run=name, side="new" if name not in new_runs else "baseline")
            continue
        _compare_run(name, base_runs[name], new_runs[name], result, rtol, atol)
    return result


def run_identity(directory: Path) -> dict[str, Any]:
    """What a run answers: its manifest, or for a run without one, what its summary says."""
    manifest = read_manifest(directory)
    if manifest is not None:
        return manifest
    summary = json.loads((directory / "summary.json").read_text())
    sobol = summary.get("settings", {}).get("sobol") or {}
    return {"kind": summary["kind"], "n": sobol.get("n"), "seed": summary.get("seed"),
            "scenario": {"name": summary["scenario"]}, "no_manifest": True}


def _comparable(name: str, base: dict[str, Any], new: dict[str, Any], result: Comparison) -> bool:
    """Whether two runs answer the same question; the reason is recorded when they do not."""
    reasons = [f"{what} {base_value!r} -> {new_value!r}" for what, base_value, new_value in (
        ("kind", base["kind"], new["kind"]), ("N", base.get("n"), new.get("n")),
        ("scenario", base["scenario"]["name"], new["scenario"]["name"])) if base_value != new_value]
    if reasons:
        result.not_comparable.append({"run": name, "reason": "; ".join(reasons)})
        return False
    notes = [f"{what} {b!r} -> {n!r}" for what, b, n in (
        ("seed", base.get("seed"), new.get("seed")),
        ("scenario sha256", base["scenario"].get("sha256"), new["scenario"].get("sha256")),
        ("overrides", base["scenario"].get("overrides"), new["scenario"].get("overrides"))) if b is not None
        and n is not None and b != n]
    notes += [f"{side} has no manifest.json (a run of an older soilbench)"
              for side, about in (("baseline", base), ("new", new)) if about.get("no_manifest")]
    if notes:
        result.notes.append({"run": name, "note": "; ".join(notes)})
    return True


def _compare_run(name: str, base: Path, new: Path, result: Comparison, rtol: float, atol: float) -> None:
    base_about, new_about = run_identity(base), run_identity(new)
    if not _comparable(name, base_about, new_about, result):
        return
    result.compared.append(name)
    kind = kinds().get(new_about["kind"])
    for table in kind.compared if kind else ():
        present = ((base / table.file).exists(), (new / table.file).exists())
        if not all(present):
            if any(present):
                result.add("values missing", run=name, file=table.file, side="new" if present[0] else "baseline")
            continue
        b, n = pd.read_csv(base / table.file), pd.read_csv(new / table.file)
        keys = list(table.keys)
        if table.how == "intervals":
            _compare_indices(name, b, n, keys, result)
        elif table.how == "states":
            _compare_states(name, table, b, n, result)
        elif table.how == "holds":
            _compare_published(name, b, n, keys, result)
        else:
            _compare_values(name, b, n, keys, result, rtol, atol)
            if table.ranked_by:
                _compare_rankings(name, b, n, ["member", "output"], table.ranked_by, result, magnitude=True)


def _compare_indices(name: str, b: pd.DataFrame, n: pd.DataFrame, keys: list[str], result: Comparison) -> None:
    merged = b.merge(n, on=keys, how="outer", suffixes=("_base", "_new"), indicator=True)
    for _, row in merged[merged["_merge"] != "both"].iterrows():
        result.add("indices missing", run=name, **{k: row[k] for k in keys},
                   side="new" if row["_merge"] == "left_only" else "baseline")
    both = merged[merged["_merge"] == "both"]
    for index in ("S1", "ST"):
        gap = (both[f"{index}_new"] - both[f"{index}_base"]).abs()
        allowed = both[f"{index}_conf_new"] + both[f"{index}_conf_base"]
        moved = both[(gap > allowed) & gap.notna()]
        for _, row in moved.iterrows():
            result.add("indices moved", run=name, **{k: row[k] for k in keys}, index=index,
                       baseline=f"{row[f'{index}_base']:.4f} ± {row[f'{index}_conf_base']:.4f}",
                       new=f"{row[f'{index}_new']:.4f} ± {row[f'{index}_conf_new']:.4f}")
    _compare_rankings(name, b[b["rank"] > 0], n[n["rank"] > 0], ["member", "output", "level"], "ST", result)


def _compare_rankings(name: str, b: pd.DataFrame, n: pd.DataFrame, group: list[str], value: str,
                      result: Comparison, magnitude: bool = False) -> None:
    def order(frame: pd.DataFrame) -> dict[tuple, list[str]]:
        score = frame[value].abs() if magnitude else frame[value]
        frame = frame.assign(_score=score).dropna(subset=["_score"])
        return {key: list(block.sort_values("_score", ascending=False, kind="stable")["driver"])
                for key, block in frame.groupby(group, sort=False)}

    before, after = order(b), order(n)
    for key in before.keys() & after.keys():
        if before[key] != after[key]:
            result.add("rankings changed", run=name, **dict(zip(group, key)),
                       baseline=" > ".join(before[key]), new=" > ".join(after[key]))


def _compare_states(name: str, table: Compared, b: pd.DataFrame, n: pd.DataFrame, result: Comparison) -> None:
    """Conclusions (a verdict's answer, a vote, a crossover's state) that changed, and values that moved.

    A value moved when its intervals (``table.interval``: ``_low`` and ``_high`` columns) no longer
    overlap.
    """
    keys, column = list(table.keys), table.column
    if column not in b or column not in n:
        result.add("values missing", run=name, file=table.file, column=column)
        return
    merged = b.merge(n, on=keys, suffixes=("_base", "_new"))
    for _, row in merged[merged[f"{column}_base"] != merged[f"{column}_new"]].iterrows():
        result.add(table.category, run=name, **{k: row[k] for k in keys}, baseline=row[f"{column}_base"],
                   new=row[f"{column}_new"])
    if table.interval:
        v = table.interval
        apart = (merged[f"{v}_low_new"] > merged[f"{v}_high_base"]) | (merged[f"{v}_high_new"] < merged[f"{v}_low_base"])
        for _, row in merged[apart].iterrows():
            result.add(table.category.replace("changed", "moved"), run=name, **{k: row[k] for k in keys},
                       baseline=f"{row[f'{v}_base']:.3f} [{row[f'{v}_low_base']:.3f}, {row[f'{v}_high_base']:.3f}]",
                       new=f"{row[f'{v}_new']:.3f} [{row[f'{v}_low_new']:.3f}, {row[f'{v}_high_new']:.3f}]")


def _compare_values(name: str, b: pd.DataFrame, n: pd.DataFrame, keys: list[str], result: Comparison,
                    rtol: float, atol: float) -> None:
    keys = [k for k in keys if k in b.columns and k in n.columns]  # e.g. no member in a data regression
    b, n = b.assign(_row=b.groupby(keys, sort=False).cumcount()), n.assign(_row=n.groupby(keys, sort=False).cumcount())
    merged = b.merge(n, on=[*keys, "_row"], how="outer", suffixes=("_base", "_new"), indicator=True)
    missing = merged[merged["_merge"] != "both"]
    for _, row in missing.iterrows():
        result.add("values missing", run=name, **{k: row[k] for k in keys},
                   side="new" if row["_merge"] == "left_only" else "baseline")
    both = merged[merged["_merge"] == "both"]
    numeric = [c for c in b.columns if c not in (*keys, "_row") and f"{c}_new" in both
               and pd.api.types.is_numeric_dtype(b[c]) and c not in ("rank",)]
    for column in numeric:
        old, cur = both[f"{column}_base"].to_numpy(float), both[f"{column}_new"].to_numpy(float)
        with np.errstate(invalid="ignore"):
            drift = (np.abs(cur - old) > atol + rtol * np.abs(old)) | (np.isnan(cur) != np.isnan(old))
        for i in np.flatnonzero(drift):
            row = both.iloc[i]
            result.add("values drifted", run=name, **{k: row[k] for k in keys}, column=column,
                       baseline=f"{old[i]:.10g}", new=f"{cur[i]:.10g}")
    if "status" in b.columns:
        changed = both[both["status_base"] != both["status_new"]]
        for _, row in changed.iterrows():
            result.add("statuses changed", run=name, **{k: row[k] for k in keys},
                       baseline=row["status_base"], new=row["status_new"])


def _compare_published(name: str, b: pd.DataFrame, n: pd.DataFrame, keys: list[str], result: Comparison) -> None:
    merged = b.merge(n, on=keys, suffixes=("_base", "_new"))
    for _, row in merged[merged["holds_base"] != merged["holds_new"]].iterrows():
        result.add("published comparisons changed", run=name, **{k: row[k] for k in keys},
                   published=row["published_new"], baseline=f"{row['ours_base']:.6g}", new=f"{row['ours_new']:.6g}",
                   holds="yes -> no" if row["holds_base"] else "no -> yes")


def write_comparison(result: Comparison, out_dir: Path, baseline: Path, new: Path) -> None:
    """``comparison.md`` and ``comparison.json`` in ``out_dir``."""
    lines = [f"# Comparison: {new} against {baseline}", "",
             f"Compared runs: {', '.join(result.compared) or '(none)'}.", ""]
    if result.not_comparable:
        lines += [f"## not comparable ({len(result.not_comparable)})", "", "These runs answer different questions "
                  "(kind, N or scenario differ); their values were not compared.", "",
                  tabulate(result.not_comparable, headers="keys", tablefmt="github"), ""]
    if result.notes:
        lines += ["## notes", "", tabulate(result.notes, headers="keys", tablefmt="github"), ""]
    if not result.anything_moved:
        lines += ["**Nothing moved.** Every index lies within the confidence intervals, every ranking, verdict "
                  "and published comparison is unchanged, and every value is within tolerance.", ""]
    for category, items in result.moved.items():
        if not items:
            continue
        lines += [f"## {category} ({len(items)})", "", tabulate(items, headers="keys", tablefmt="github"), ""]
    lines.append(f"Exit code {result.exit_code}: " + ("some runs are not comparable." if result.not_comparable else
                 "something moved." if result.anything_moved else "nothing moved."))
    atomic_write_text(out_dir / "comparison.md", "\n".join(lines) + "\n")
    write_json(out_dir / "comparison.json", {"baseline": str(baseline), "new": str(new),
                                             "compared": result.compared, "moved": result.moved,
                                             "anything_moved": result.anything_moved,
                                             "not_comparable": result.not_comparable, "notes": result.notes})

"""Compare two result directories: did any index, ranking, verdict or reference value move?

``BASELINE`` and ``NEW`` are run directories (with ``summary.json``) or directories of run
directories (matched by name). Per kind:

* sobol: an index (S1 or ST) *moved* when the two confidence intervals do not overlap,
  ``|new - base| > conf_new + conf_base``; a *ranking changed* when the drivers' order by ST
  differs; a *verdict*, *vote* or *crossover* changed when ``verdict.csv`` (its ``answer``),
  ``votes.csv`` or ``crossover.csv`` (its ``state``) says otherwise, and a crossover ratio
  *moved* when the two intervals on it do not overlap.
* local, points, sweep: a value *drifted* when ``|new - base| > atol + rtol |base|``; a published
  comparison that held and no longer holds (or the reverse) is a changed conclusion.

Members, outputs or drivers present on one side only are reported too. Exit code: 0 if nothing
moved, 3 if something did.
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
from .store import atomic_write_text, write_json

MOVED_EXIT_CODE = 3
REGRESSION_FILE = ("regression.csv", ["member", "formula", "term"])
#: per kind: the value tables compared row by row, with their key columns
VALUE_FILES = {"points": [("points.csv", ["member", "case_id"])],
               "sweep": [("sweep.csv", ["member", "swept"]), ("sweep_shares.csv", ["member", "output", "scale"])],
               "local": [("elasticities.csv", ["member", "output", "driver"])],
               "regression": [REGRESSION_FILE, ("sobol_ranking.csv", ["member", "driver"])],
               "grid": [("grid_summary.csv", ["product"]), REGRESSION_FILE]}


@dataclass
class Comparison:
    """Everything that moved, by category, plus what was compared."""

    moved: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    compared: list[str] = field(default_factory=list)

    def add(self, category: str, **item: Any) -> None:
        self.moved.setdefault(category, []).append(item)

    @property
    def anything_moved(self) -> bool:
        return any(self.moved.values())


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
    base_runs, new_runs = run_dirs(baseline), run_dirs(new)
    if len(base_runs) == 1 and len(new_runs) == 1:  # two single runs: compare them whatever their names
        base_runs = {next(iter(new_runs)): next(iter(base_runs.values()))}
    result = Comparison()
    for name in sorted(set(base_runs) | set(new_runs)):
        if name not in new_runs or name not in base_runs:
            result.add("runs missing", run=name, side="new" if name not in new_runs else "baseline")
            continue
        result.compared.append(name)
        _compare_run(name, base_runs[name], new_runs[name], result, rtol, atol)
    return result


def _compare_run(name: str, base: Path, new: Path, result: Comparison, rtol: float, atol: float) -> None:
    kind = json.loads((new / "summary.json").read_text())["kind"]
    if kind == "sobol":
        _compare_indices(name, base, new, result)
        _compare_verdicts(name, base, new, result)
    elif kind in VALUE_FILES:
        for filename, keys in VALUE_FILES[kind]:
            present = ((base / filename).exists(), (new / filename).exists())
            if all(present):
                _compare_values(name, base / filename, new / filename, keys, result, rtol, atol)
            elif any(present):
                result.add("values missing", run=name, file=filename, side="new" if present[0] else "baseline")
        if kind == "local":
            filename = VALUE_FILES[kind][0][0]
            _compare_rankings(name, pd.read_csv(base / filename), pd.read_csv(new / filename),
                              ["member", "output"], "elasticity", result, magnitude=True)
    if (new / "published.csv").exists() and (base / "published.csv").exists():
        _compare_published(name, base, new, result)


def _compare_indices(name: str, base: Path, new: Path, result: Comparison) -> None:
    keys = ["member", "output", "level", "driver"]
    b, n = pd.read_csv(base / "indices.csv"), pd.read_csv(new / "indices.csv")
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


#: the conclusions of a sobol run: file, key columns, the column compared, the category reported
CONCLUSIONS = (("verdict.csv", ["member", "output"], "answer", "verdicts changed"),
               ("votes.csv", ["model", "output"], "vote", "votes changed"),
               ("crossover.csv", ["member", "output", "h_cue"], "state", "crossovers changed"))


def _compare_verdicts(name: str, base: Path, new: Path, result: Comparison) -> None:
    """Verdicts, votes and crossover states that changed, and crossover ratios whose intervals no
    longer overlap."""
    for filename, keys, column, category in CONCLUSIONS:
        if not (base / filename).exists() or not (new / filename).exists():
            continue
        b, n = pd.read_csv(base / filename), pd.read_csv(new / filename)
        if column not in b or column not in n:
            result.add("values missing", run=name, file=filename, column=column)
            continue
        merged = b.merge(n, on=keys, suffixes=("_base", "_new"))
        for _, row in merged[merged[f"{column}_base"] != merged[f"{column}_new"]].iterrows():
            result.add(category, run=name, **{k: row[k] for k in keys}, baseline=row[f"{column}_base"],
                       new=row[f"{column}_new"])
        if filename == "crossover.csv":
            apart = (merged["k_low_new"] > merged["k_high_base"]) | (merged["k_high_new"] < merged["k_low_base"])
            for _, row in merged[apart].iterrows():
                result.add("crossovers moved", run=name, **{k: row[k] for k in keys},
                           baseline=f"{row['k_base']:.3f} [{row['k_low_base']:.3f}, {row['k_high_base']:.3f}]",
                           new=f"{row['k_new']:.3f} [{row['k_low_new']:.3f}, {row['k_high_new']:.3f}]")


def _compare_values(name: str, base: Path, new: Path, keys: list[str], result: Comparison,
                    rtol: float, atol: float) -> None:
    b, n = pd.read_csv(base), pd.read_csv(new)
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


def _compare_published(name: str, base: Path, new: Path, result: Comparison) -> None:
    keys = ["member", "driver", "output", "quantity"]
    merged = pd.read_csv(base / "published.csv").merge(pd.read_csv(new / "published.csv"), on=keys,
                                                       suffixes=("_base", "_new"))
    for _, row in merged[merged["holds_base"] != merged["holds_new"]].iterrows():
        result.add("published comparisons changed", run=name, **{k: row[k] for k in keys},
                   published=row["published_new"], baseline=f"{row['ours_base']:.6g}", new=f"{row['ours_new']:.6g}",
                   holds="yes -> no" if row["holds_base"] else "no -> yes")


def write_comparison(result: Comparison, out_dir: Path, baseline: Path, new: Path) -> None:
    """``comparison.md`` and ``comparison.json`` in ``out_dir``."""
    lines = [f"# Comparison: {new} against {baseline}", "",
             f"Compared runs: {', '.join(result.compared) or '(none)'}.", ""]
    if not result.anything_moved:
        lines += ["**Nothing moved.** Every index lies within the confidence intervals, every ranking, verdict "
                  "and published comparison is unchanged, and every value is within tolerance.", ""]
    for category, items in result.moved.items():
        if not items:
            continue
        lines += [f"## {category} ({len(items)})", "", tabulate(items, headers="keys", tablefmt="github"), ""]
    lines.append("Exit code 3: something moved." if result.anything_moved else "Exit code 0: nothing moved.")
    atomic_write_text(out_dir / "comparison.md", "\n".join(lines) + "\n")
    write_json(out_dir / "comparison.json", {"baseline": str(baseline), "new": str(new),
                                             "compared": result.compared, "moved": result.moved,
                                             "anything_moved": result.anything_moved})

"""File-level fuzzing of the shipped scenarios through the command line, in fresh processes.

Every mutant of ``tests/spec/mutants.py`` (about 500, fixed seed: encodings, NUL, tags,
aliases and merge keys, nesting, keys, huge values, repeats, paths, sizes, CSV and netCDF
faults) is written to its own folder and checked with ``python -m harness validate MUTANT``; a
mutant that validates (exit 0) is then run with ``python -m harness run MUTANT --out DIR --jobs
1``. Each command has a 30 s timeout (its process group is killed), a memory cap (``RLIMIT_AS``,
default 4 GiB) and no stdin. The contract (the one the fuzz test asserts): exit 0 or 2 (never 1
for ``validate``), no traceback, no hang, and every exit-2 message located (``FILE:LINE:COL:``,
or ``CSV:LINE:``).

Fairness of the run step: the shipped scenarios are sized for minutes of work, so a run gets
the same reductions as the tests (``sobol.n=64``; ``calibrate.sampler.draws=60`` and
``tune=60``; ``regression.virtual.sobol_n=64``) unless the mutation set that section on purpose
(then it runs as it is). ``--jobs 1`` always: a mutant may ask for a million worker processes
(``executor.jobs``), and ``run`` must not fork them on a shared machine; whether ``validate``
accepts such a value is counted in the ``hostile ok`` column. A run that exceeds the timeout is
a *hang* if the mutant is hostile (huge sizes, alias bombs, endless files) and *slow-valid*
otherwise (reported apart). The unmutated scenarios are checked first (row ``(base)``).

    python benchmarks/fuzz_scenarios.py                      # everything, 2 at a time (~10 min)
    python benchmarks/fuzz_scenarios.py --jobs 1 --category csv --category paths
    python benchmarks/fuzz_scenarios.py --name keys/clm5_reference --no-run
    python benchmarks/fuzz_scenarios.py --write /tmp/fuzz --name aliases/clm5_elasticity/merge_alias   # write, print commands

Prints one table per step (mutants by category: exit 0 / exit 1 / exit 2 / traceback / hang /
exit 2 not located / other), then every failure with its first line of stderr (for a traceback,
its exception and innermost harness frame), then the failures grouped by cause, each with one
mutant and the command that reproduces it. ``--json FILE`` keeps every result.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.spec.mutants import CATEGORIES, Mutant, bases, mutants, traceback_line, unlocated  # noqa: E402

#: the run step's reductions by kind: (override, the section a mutation must not have set)
REDUCTIONS = {
    "sobol": [("sobol.n=64", "sobol")],
    "calibrate": [("calibrate.sampler.draws=60", "calibrate"), ("calibrate.sampler.tune=60", "calibrate")],
    "regression": [("regression.virtual.sobol_n=64", "regression")],
}
COLUMNS = ("exit 0", "exit 1", "exit 2", "traceback", "hang", "not located", "other")
RUN_COLUMNS = ("ran", "exit 0", "exit 1", "exit 2", "traceback", "hang", "slow-valid", "other")


@dataclass
class Step:
    """One command's outcome."""

    command: list[str]
    code: int | None  # None: killed at the timeout
    seconds: float
    outcome: str  # one of COLUMNS / RUN_COLUMNS
    first_line: str = ""
    detail: list[str] = field(default_factory=list)  # unlocated lines, or the traceback's last line


@dataclass
class Result:
    """A mutant's outcome: its validate and (when it validated) its run."""

    index: int
    name: str
    category: str
    base: str
    hostile: bool
    validate: Step | None = None
    run: Step | None = None


def _limits(memory_mb: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _execute(command: list[str], cwd: Path, timeout: float, memory_mb: int) -> tuple[int | None, str, str, float]:
    """(exit code or None on timeout, stdout, stderr, seconds) of ``command`` in its own process group."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1", MPLBACKEND="Agg")
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_limits(memory_mb))
    try:
        out, err = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this Popen created (the command and its workers)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        code = None
    seconds = time.perf_counter() - start
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), seconds


def _first_line(err: str, out: str) -> str:
    return next((line for line in (err or out).splitlines() if line.strip()), "")[:300]


def _validate(mutant: Mutant, path: Path, args: argparse.Namespace) -> Step:
    command = [sys.executable, "-m", "harness", "validate", str(path)]
    code, out, err, seconds = _execute(command, path.parent, args.timeout, args.memory_mb)
    step = Step(command, code, seconds, "other", _first_line(err, out))
    trace = traceback_line(err + out)
    if code is None:
        step.outcome = "hang"
    elif trace:
        step.outcome, step.first_line = "traceback", trace
    elif code == 2:
        bad = unlocated(err, path)
        step.outcome, step.detail = ("not located", bad[:5]) if bad else ("exit 2", [])
        if bad:
            step.first_line = bad[0][:300]
    elif code in (0, 1):
        step.outcome = f"exit {code}"
    else:
        step.first_line = f"exit {code}: {step.first_line}"
    return step


def _run(mutant: Mutant, path: Path, kind: str, args: argparse.Namespace) -> Step:
    sets = [o for o, section in REDUCTIONS.get(kind, ()) if section not in mutant.touches]
    command = [sys.executable, "-m", "harness", "run", str(path), "--out", str(path.parent / "out"), "--jobs", "1"]
    for override in sets:
        command += ["--set", override]
    code, out, err, seconds = _execute(command, path.parent, args.timeout, args.memory_mb)
    step = Step(command, code, seconds, "other", _first_line(err, out))
    trace = traceback_line(err + out)
    if code is None:
        step.outcome = "hang" if mutant.hostile else "slow-valid"
    elif trace:
        step.outcome, step.first_line = "traceback", trace
    elif code in (0, 1, 2):
        step.outcome = f"exit {code}"
        if code == 2:
            bad = unlocated(err, path)
            step.detail = bad[:5]
    else:
        step.first_line = f"exit {code}: {step.first_line}"
    return step


def _check(index: int, mutant: Mutant, kind: str, folder: Path, args: argparse.Namespace) -> Result:
    path = mutant.write(folder)
    result = Result(index, mutant.name, mutant.category, mutant.base, mutant.hostile)
    result.validate = _validate(mutant, path, args)
    if result.validate.outcome == "exit 0" and not args.no_run:
        result.run = _run(mutant, path, kind, args)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _failure(result: Result) -> tuple[str, Step] | None:
    """(step, its step) when the mutant broke the contract; ``None`` when it kept it."""
    v = result.validate
    if v and v.outcome not in ("exit 0", "exit 2"):
        return "validate", v
    r = result.run
    if r and r.outcome in ("traceback", "hang", "other"):
        return "run", r
    return None


def _cause(step_name: str, step: Step) -> str:
    """A key that groups failures of one cause."""
    if step.outcome == "traceback":
        where = re.search(r" \(at [^()]*\)$", step.first_line)
        return f"{step_name} traceback: {step.first_line.split(':')[0]}{where[0] if where else ''}"
    if step.outcome == "not located":
        line = step.first_line.split(": ", 1)[-1] if ": " in step.first_line else step.first_line
        line = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "…", line)[:90]
        return f"{step_name} not located: {line}"
    return f"{step_name} {step.outcome}"


def _table(results: list[Result], columns: tuple[str, ...], step: str) -> str:
    rows, totals = [], Counter()
    for category in ["(base)", *CATEGORIES]:
        mine = [r for r in results if r.category == category]
        if not mine:
            continue
        counts = Counter()
        for r in mine:
            s = getattr(r, step)
            if s is None:
                continue
            counts["ran"] += 1
            counts[s.outcome] += 1
        if step == "validate":
            counts["hostile ok"] = sum(r.hostile and r.validate.outcome == "exit 0" for r in mine)
        totals.update(counts)
        totals["mutants"] += len(mine) if category != "(base)" else 0
        rows.append([category, len(mine), *[counts[c] for c in columns]]
                    + ([counts["hostile ok"]] if step == "validate" else []))
    rows.append(["total (mutants)", totals["mutants"], *[sum(r[2 + i] for r in rows if r[0] != "(base)")
                                                         for i in range(len(columns))]]
                + ([sum(r[-1] for r in rows if r[0] != "(base)")] if step == "validate" else []))
    head = ["category", "mutants", *columns] + (["hostile ok"] if step == "validate" else [])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(row, widths)))
             for row in [head, *rows]]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def _reproduce(result: Result, step: str) -> str:
    return (f"python benchmarks/fuzz_scenarios.py --write /tmp/fuzz --name '{result.name}'"
            f"{' --no-run' if step == 'validate' else ''}  # then the printed {step} command")


def _write(selected: list[tuple[int, Mutant, str]], root: Path) -> None:
    for index, mutant, kind in selected:
        path = mutant.write(root / str(index))
        print(f"{mutant.name}\n  {sys.executable} -m harness validate {path}")
        sets = "".join(f" --set {o}" for o, s in REDUCTIONS.get(kind, ()) if s not in mutant.touches)
        print(f"  {sys.executable} -m harness run {path} --out {path.parent / 'out'} --jobs 1{sets}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants checked at once (default 2)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per command (default 30)")
    parser.add_argument("--memory-mb", type=int, default=4096, help="address-space cap per command (default 4096)")
    parser.add_argument("--category", action="append", choices=list(CATEGORIES), help="only these categories")
    parser.add_argument("--name", action="append", help="only mutants whose name contains this (repeatable)")
    parser.add_argument("--no-run", action="store_true", help="validate only")
    parser.add_argument("--no-bases", action="store_true", help="skip the unmutated scenarios")
    parser.add_argument("--keep", type=Path, help="write the mutants here and keep them (default: a temporary folder)")
    parser.add_argument("--write", type=Path, help="only write the selected mutants here and print their commands")
    parser.add_argument("--json", type=Path, help="write every result here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    kinds = {b.name: b.kind for b in bases()}
    everything = [(i, m, kinds[m.base]) for i, m in enumerate(mutants())]
    controls = [] if args.no_bases else [
        (-1 - j, Mutant(f"(base)/{b.name}", "(base)", b.name, b.text.encode(), dict(b.files)), b.kind)
        for j, b in enumerate(bases())]
    selected = [(i, m, k) for i, m, k in controls + everything
                if (not args.category or m.category in args.category)
                and (not args.name or any(n in m.name for n in args.name))]
    if args.write:
        _write(selected, args.write)
        return 0
    print(f"{len(selected)} mutants and bases ({len(everything)} mutants in all; generated in "
          f"{time.perf_counter() - start:.2f} s), {args.jobs} at a time, {args.timeout:g} s timeout", file=sys.stderr)
    root = args.keep or Path(tempfile.mkdtemp(prefix="fuzz_scenarios_"))
    results: list[Result] = []
    lock = threading.Lock()

    def one(item: tuple[int, Mutant, str]) -> Result:
        index, mutant, kind = item
        result = _check(index, mutant, kind, root / (str(index) if index >= 0 else f"base{-index}"), args)
        with lock:
            results.append(result)
            if len(results) % 25 == 0 or len(results) == len(selected):
                print(f"  {len(results)}/{len(selected)} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(one, selected))
    if not args.keep:
        try:
            root.rmdir()
        except OSError:
            pass
    results.sort(key=lambda r: r.index)
    wall = time.perf_counter() - start

    print("validate\n")
    print(_table(results, COLUMNS, "validate"))
    if not args.no_run:
        print("\nrun (mutants that validated; --jobs 1 and the reductions above)\n")
        print(_table(results, RUN_COLUMNS, "run"))
    failures = [(r, *f) for r in results if (f := _failure(r))]
    slow = [r for r in results if r.run and r.run.outcome == "slow-valid"]
    print(f"\n{len(failures)} failing mutants (of {sum(r.category != '(base)' for r in results)}):")
    for r, step_name, step in failures:
        print(f"  {r.name} [{step_name} {step.outcome}{', hostile' if r.hostile else ''}, {step.seconds:.1f} s]: "
              f"{step.first_line}")
    if slow:
        print(f"\n{len(slow)} slow-valid runs (valid, not hostile, over {args.timeout:g} s):")
        for r in slow:
            print(f"  {r.name}")
    causes: dict[str, list[tuple[Result, str]]] = defaultdict(list)
    for r, step_name, step in failures:
        causes[_cause(step_name, step)].append((r, step_name))
    if causes:
        print(f"\n{len(causes)} causes:")
        for cause, items in sorted(causes.items(), key=lambda kv: -len(kv[1])):
            r, step_name = items[0]
            print(f"  [{len(items)}] {cause}\n      e.g. {r.name}\n      {_reproduce(r, step_name)}")
    print(f"\n{wall:.0f} s wall")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

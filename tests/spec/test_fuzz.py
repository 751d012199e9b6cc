"""Mutated scenario files end in exit 0 or 2 with located messages: never a traceback, never a hang.

Issue 17. The mutants are files, mutated as bytes (``tests/spec/mutants.py``, fixed seed, about
500 of them): byte flips, encodings, NUL and control characters, YAML tags, anchors, aliases and
merge keys, deep nesting, odd keys, huge values, repeats, paths, sizes, malformed CSVs, each made
from one of the shipped scenarios with the files it reads. Each is written to its own folder and
given to ``validate`` in this process; the contract:

- the exit code is 0 (the mutant happens to be valid) or 2 (bad input), never 1 and never an
  exception escaping ``main``;
- no ``Traceback`` in the output;
- with exit 2, every message line names the file and a position: ``SCENARIO:LINE:COL: ...``, or
  ``FILE:LINE: ...`` for a file next to it (a CSV) -- see ``mutants.unlocated``;
- at most 30 s per mutant (a mutant still running then is interrupted and counted as a hang;
  memory is capped at 3 GiB above what the process holds, so an alias bomb fails instead of
  swapping the machine).

Mutants of the small ``points`` scenarios that validate are also run (``--jobs 1``: a mutant may
ask for a million worker processes) and must exit 0, 1 or 2 without a traceback. Failures are
collected per category and reported together: mutant name, what broke, the start of the output.
``benchmarks/fuzz_scenarios.py`` runs the same mutants through the command line in fresh
processes, with ``run`` for every kind.
"""

from __future__ import annotations

import faulthandler
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.cli import main
from tests.spec.mutants import CATEGORIES, POINTS, SEED, Mutant, mutants, traceback_line, unlocated

LIMIT_S = 30.0  # per command
MAX_HANGS = 2  # per category: after these, its remaining hostile mutants are listed as not tried
MEMORY_HEADROOM = 3 * 2**30  # bytes of address space a command may add
MUTANTS = mutants(SEED)


class _Hang(BaseException):
    """Raised in the main thread when a command outlives ``LIMIT_S`` (not an ``Exception``: nothing may catch it)."""


def _address_space() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@contextmanager
def _guard(seconds: float) -> Iterator[None]:
    """Interrupt after ``seconds`` (SIGALRM), cap the address space; a watchdog ends the process if both fail."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGALRM) if main_thread else None

    def alarm(signum, frame):
        raise _Hang

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + MEMORY_HEADROOM
    limit_memory = soft == resource.RLIM_INFINITY and _address_space() > 0
    # stuck in C code the alarm cannot interrupt: dump every thread and end the process
    faulthandler.dump_traceback_later(seconds + 60, exit=True, file=sys.__stderr__)
    try:
        if limit_memory:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        if main_thread:
            signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        if main_thread:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if limit_memory:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        faulthandler.cancel_dump_traceback_later()


def _call(argv: list[str], capsys) -> tuple[int | str, str, float]:
    """(exit code, or what went wrong instead; stdout + stderr; seconds) of ``main(argv)`` in this process."""
    start = time.perf_counter()
    try:
        with _guard(LIMIT_S):
            code: int | str = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else f"SystemExit({exc.code!r})"
    except _Hang:
        code = f"hang (interrupted after {LIMIT_S:g} s)"
    except Exception:  # anything escaping main is a bug: report it, keep fuzzing
        code = "uncaught " + traceback_line(traceback.format_exc())
    seconds = time.perf_counter() - start
    captured = capsys.readouterr()
    return code, captured.out + captured.err, seconds


def _check(index: int, mutant: Mutant, folder: Path, capsys) -> tuple[list[str], bool]:
    """What ``mutant`` broke (empty when it kept the contract), and whether a command hung."""
    path = mutant.write(folder / str(index))
    code, output, seconds = _call(["validate", str(path)], capsys)
    hung = seconds > LIMIT_S
    problems = []
    if not isinstance(code, int):
        problems.append(f"validate: {code}")
    elif code not in (0, 2):
        problems.append(f"validate: exit {code}")
    if "Traceback" in output:
        problems.append("validate: traceback in the output")
    if code == 2:
        problems += [f"validate: not located: {line[:160]!r}" for line in unlocated(output, path)[:3]]
    if seconds > LIMIT_S:
        problems.append(f"validate: took {seconds:.1f} s")
    if code == 0 and mutant.base in POINTS and not problems:
        run_code, run_output, run_seconds = _call(["run", str(path), "--out", str(path.parent / "out"), "--jobs", "1"],
                                                  capsys)
        if not isinstance(run_code, int) or run_code not in (0, 1, 2):
            problems.append(f"run: {run_code if not isinstance(run_code, int) else f'exit {run_code}'}")
        if "Traceback" in run_output:
            problems.append("run: traceback in the output")
        if run_seconds > LIMIT_S:
            problems.append(f"run: took {run_seconds:.1f} s")
            hung = True
        output = run_output if problems else output
    return [f"{mutant.name}: {problem} | {output[:200]!r}" for problem in problems], hung


def test_generator_gives_enough_mutants_of_every_category_deterministically():
    start = time.perf_counter()
    again = mutants(SEED)
    took = time.perf_counter() - start
    assert len(MUTANTS) >= 400 and took < 2.0, (len(MUTANTS), took)
    assert [(m.name, m.text, dict(m.files)) for m in again] == [(m.name, m.text, dict(m.files)) for m in MUTANTS]
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    counts = {category: sum(m.category == category for m in MUTANTS) for category in CATEGORIES}
    assert min(counts.values()) >= 20, counts
    assert {m.base for m in MUTANTS if m.category == "csv"} >= set(POINTS)


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_mutants_exit_0_or_2_with_located_messages_and_no_traceback(category, tmp_path, capsys):
    failures: list[str] = []
    hangs, not_tried = 0, []
    start = time.perf_counter()
    for index, mutant in enumerate(MUTANTS):
        if mutant.category != category:
            continue
        if hangs >= MAX_HANGS and mutant.hostile:
            not_tried.append(mutant.name)  # each would cost LIMIT_S more; the category fails already
            continue
        problems, hung = _check(index, mutant, tmp_path, capsys)
        failures += problems
        hangs += hung
    if not_tried:
        failures.append(f"not tried after {hangs} hangs: {len(not_tried)} hostile mutants: {', '.join(not_tried)}")
    count = sum(m.category == category for m in MUTANTS)
    took = time.perf_counter() - start
    head = f"{len(failures)} problems in {count} {category} mutants ({took:.0f} s):\n"
    assert not failures, head + "\n".join(failures)

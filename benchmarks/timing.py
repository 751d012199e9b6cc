"""Wall time, CPU time and peak memory of a command in a fresh process (shared by the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs the command as a child of a small probe, so that getrusage(RUSAGE_CHILDREN) covers the
# command and every worker process it starts, and nothing of the benchmark itself.
_PROBE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "w = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(p.returncode, w, u.ru_utime + u.ru_stime, u.ru_maxrss)\n"
    "sys.stderr.write(p.stderr[-2000:] if p.returncode else '')\n"
)


@dataclass(frozen=True)
class Timing:
    """One run of a command."""

    wall: float  # [s]
    cpu: float  # user + system time of the command and its children [s]
    peak_mib: float  # largest resident set of any of its processes [MiB]


def timed(cmd: list[str]) -> Timing:
    """Run ``cmd`` (from the project root) in a fresh process; exit with its error if it fails."""
    probe = subprocess.run([sys.executable, "-c", _PROBE, *cmd], cwd=ROOT, capture_output=True, text=True)
    status, wall, cpu, maxrss_kib = probe.stdout.split()
    if status != "0":
        raise SystemExit(f"failed ({status}): {' '.join(cmd)}\n{probe.stderr}")
    return Timing(float(wall), float(cpu), int(maxrss_kib) / 1024)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, e.g. ``0.12 / 0.30 / 0.25``."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())

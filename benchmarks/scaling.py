"""Wall time and peak memory of the flagship run by sample size and executor.

Runs ``python -m harness run scenarios/beta_sweep.yaml --set sobol.n=N`` for N = 2^10 ... 2^14
serially, with ``--jobs 2`` and on a Dask LocalCluster (``--dask --jobs 2``), each in a fresh
process, and prints a Markdown table (paste it into benchmarks/README.md). Peak memory is the
largest resident set of any process of the run (``getrusage(RUSAGE_CHILDREN)``: the run and,
for Dask and --jobs, its workers).

    python benchmarks/scaling.py                 # the full table (about 15 minutes here)
    python benchmarks/scaling.py --exponents 10 11
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTORS = {"serial": [], "--jobs 2": ["--jobs", "2"], "dask LocalCluster (2 workers)": ["--dask", "--jobs", "2"]}


def run_once(n: int, extra: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, rows solved) of one run in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "harness", "run", "scenarios/beta_sweep.yaml", "--set", f"sobol.n={n}",
               "--out", out, *extra]
        code = (
            "import resource, subprocess, sys, time\n"
            "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "w = time.perf_counter() - t\n"
            "print(p.returncode, w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        probe = subprocess.run([sys.executable, "-c", code, *cmd], cwd=ROOT, capture_output=True, text=True)
        status, wall, maxrss_kib = probe.stdout.split()
        if status != "0":
            raise SystemExit(f"run failed: {' '.join(cmd)}")
        summary = json.loads((Path(out) / "summary.json").read_text())
        rows = sum(m["rows"] for m in summary["members"])
        return float(wall), int(maxrss_kib) / 1024, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exponents", nargs="*", type=int, default=[10, 11, 12, 13, 14])
    parser.add_argument("--executors", nargs="*", default=list(EXECUTORS), choices=list(EXECUTORS))
    args = parser.parse_args(argv)
    print("| N | rows solved | " + " | ".join(f"{e}: wall s / peak MiB" for e in args.executors) + " |")
    print("|---|---|" + "---|" * len(args.executors))
    for k in args.exponents:
        cells, rows = [], 0
        for name in args.executors:
            wall, mib, rows = run_once(2**k, EXECUTORS[name])
            cells.append(f"{wall:.1f} / {mib:.0f}")
        print(f"| 2^{k} | {rows:,} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Wall time and peak memory of the flagship run by sample size and executor.

Runs ``python -m harness run scenarios/beta_sweep.yaml --set sobol.n=N`` for N = 2^10 ... 2^14
serially, with ``--jobs 2`` and on a Dask LocalCluster (``--dask --jobs 2``), each in a fresh
process, and prints a Markdown table (paste it into benchmarks/README.md): wall and CPU seconds
(the run and all its worker processes), peak memory (the largest resident set of any process of
the run) and the ratio of serial to ``--jobs 2`` wall time, measured in the same run, with the
load average before and after.

    python benchmarks/scaling.py                 # the full table (about 15 minutes here)
    python benchmarks/scaling.py --exponents 10 11
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import Timing, load_average, timed  # noqa: E402

EXECUTORS = {"serial": [], "--jobs 2": ["--jobs", "2"], "dask LocalCluster (2 workers)": ["--dask", "--jobs", "2"]}


def run_once(n: int, extra: list[str]) -> tuple[Timing, int]:
    """Timing and rows solved of one flagship run at ``sobol.n = n`` in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "harness", "run", "scenarios/beta_sweep.yaml", "--set", f"sobol.n={n}",
               "--out", out, *extra]
        timing = timed(cmd)
        summary = json.loads((Path(out) / "summary.json").read_text())
        return timing, sum(m["rows"] for m in summary["members"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exponents", nargs="*", type=int, default=[10, 11, 12, 13, 14])
    parser.add_argument("--executors", nargs="*", default=list(EXECUTORS), choices=list(EXECUTORS))
    args = parser.parse_args(argv)
    print(f"load average before: {load_average()}\n")
    print("| N | rows solved | " + " | ".join(f"{e}: wall s / CPU s / peak MiB" for e in args.executors)
          + (" | serial / --jobs 2 (wall) |" if {"serial", "--jobs 2"} <= set(args.executors) else " |"))
    print("|---|---|" + "---|" * len(args.executors) + ("---|" if {"serial", "--jobs 2"} <= set(args.executors) else ""))
    for k in args.exponents:
        cells, walls, rows = [], {}, 0
        for name in args.executors:
            timing, rows = run_once(2**k, EXECUTORS[name])
            walls[name] = timing.wall
            cells.append(f"{timing.wall:.1f} / {timing.cpu:.1f} / {timing.peak_mib:.0f}")
        if "serial" in walls and "--jobs 2" in walls:
            cells.append(f"{walls['serial'] / walls['--jobs 2']:.2f}x")
        print(f"| 2^{k} | {rows:,} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nload average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

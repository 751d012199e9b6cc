"""End-to-end throughput of a ``points`` run: cases from a CSV, solved, written, reported.

Writes ``--rows`` random MIMICS cases (``stode_rev_beta`` at beta = 1; drivers uniform inside
the Sobol ranges of ``scenarios/beta_sweep.yaml``) to a CSV beside a one-model ``points``
scenario, then times ``python -m harness run`` on it in a fresh process (CLI, CSV in,
``points.csv`` out, ``report.html``), ``--repeats`` times, and prints the median wall and CPU
seconds, rows per second and the load average.

    python benchmarks/points.py
    python benchmarks/points.py --rows 1000000 --repeats 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import load_average, timed  # noqa: E402

RANGES = {"c_input": (200.0, 600.0), "cue_scale": (0.8, 1.2), "mic_turnover_scale": (0.8, 1.2),  # beta_sweep's box
          "temperature": (10.0, 20.0), "clay": (10.0, 40.0), "lignin_n": (10.0, 30.0)}
SCENARIO = """schema_version: 1
name: points_benchmark
description: random MIMICS cases inside the flagship's box
kind: points
seed: 1
models:
  - model: mimics
    variants: {parameter_set: [stode_rev_beta], beta: [1.0], beta_rescale: [none]}
baseline: {mic_turnover_scale: 1.0}
cases: cases.csv
outputs: [soc, soc_total, mic, respiration, cue_bulk]
"""


def write_cases(folder: Path, rows: int, seed: int) -> Path:
    """The scenario and its ``rows`` random cases in ``folder``."""
    rng = np.random.default_rng(seed)
    columns = {name: rng.uniform(lo, hi, rows) for name, (lo, hi) in RANGES.items()}
    lines = [",".join(["case_id", *columns])]
    lines += [",".join([f"c{i}", *(f"{columns[n][i]:.6g}" for n in columns)]) for i in range(rows)]
    (folder / "cases.csv").write_text("\n".join(lines) + "\n")
    scenario = folder / "points.yaml"
    scenario.write_text(SCENARIO)
    return scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"load average before: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        scenario = write_cases(Path(tmp), args.rows, args.seed)
        runs = [timed([sys.executable, "-m", "harness", "run", str(scenario), "--out", str(Path(tmp) / f"out{k}")])
                for k in range(args.repeats)]
    wall, cpu = statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs)
    print(f"points run of {args.rows:,} MIMICS cases (CLI, CSV in and out, report), median of {args.repeats}: "
          f"{wall:.2f} s wall, {cpu:.2f} s CPU, {args.rows / wall:,.0f} rows/s end to end, "
          f"peak {max(r.peak_mib for r in runs):.0f} MiB")
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput of each adapter's batched steady-state solver.

For every model x variant of ``scenarios/beta_sweep.yaml`` (or the models named with
``--models``), draws random parameter sets uniformly inside the scenario's Sobol ranges and
times ``adapter.steady_state`` on batches of 10^3, 10^4 and 10^5 rows. Prints steady states per
second, the fraction converged (status OK) and the fraction flagged (any other status), the
peak memory of the call (tracemalloc), and, measured in the same run on the first
``--naive-rows`` rows of the batch, the rate of a naive per-row ``scipy.optimize.root`` solve of
the same rows (started from 0.7 x the batched solution, a generous start) and the speed-up.
Checks that no OK row carries a non-finite number.

    python benchmarks/steady_state.py
    python benchmarks/steady_state.py --models mimics --sizes 1000 100000
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.optimize import root
from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.api import load  # noqa: E402


def random_rows(member, drivers, n: int, rng: np.random.Generator) -> np.ndarray:
    """Forcing of ``n`` rows uniform inside the member's sampled ranges."""
    values = {}
    for drv in drivers:
        if drv.name in member.drivers and drv.name not in member.variant:
            lo, hi = member.sampled_bounds(drv)
            values[drv.name] = rng.uniform(lo, hi, n)
    return member.forcing(n, values)


def naive_rate(adapter, theta, forcing, pools, rows: int) -> float:
    """Steady states per second of per-row ``scipy.optimize.root`` on the first ``rows`` OK rows."""
    ok = np.flatnonzero(np.isfinite(pools).all(axis=1))[:rows]
    start = time.perf_counter()
    for i in ok:
        th, fo = theta[i : i + 1], forcing[i : i + 1]
        scale = np.maximum(pools[i], 1e-12)
        root(lambda z: adapter.tendencies(th, fo, z[None, :] * scale)[0][0] / fo[0, 0],  # noqa: B023
             0.7 * np.ones_like(scale), method="hybr")
    return ok.size / (time.perf_counter() - start) if ok.size else float("nan")


def measure(member, drivers, n: int, seed: int, repeats: int, naive_rows: int) -> dict:
    rng = np.random.default_rng(seed)
    forcing = random_rows(member, drivers, n, rng)
    theta = member.theta(n)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = member.adapter.steady_state(theta, forcing)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    member.adapter.steady_state(theta, forcing)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    naive = naive_rate(member.adapter, theta, forcing, result.pools, naive_rows)
    ok = result.ok
    return {
        "member": member.label,
        "rows": n,
        "seconds": best,
        "per_s": n / best,
        "ok": ok.mean(),
        "flagged": (~ok).mean(),
        "ok_nonfinite": int((~np.isfinite(result.outputs[ok])).any(axis=1).sum()) if ok.any() else 0,
        "peak_mib": peak / 2**20,
        "naive_per_s": naive,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "beta_sweep.yaml")
    parser.add_argument("--models", nargs="*", help="only these models (default: all in the scenario)")
    parser.add_argument("--sizes", nargs="*", type=int, default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings per batch")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--naive-rows", type=int, default=100, help="rows solved one by one with scipy root")
    args = parser.parse_args(argv)

    plan = load(args.scenario)
    scenario = plan.scenario
    members = [m for m in plan.members if not args.models or m.model in args.models]
    rows = []
    for member in members:
        member.adapter.steady_state(member.theta(8), random_rows(member, scenario.drivers, 8,
                                                                 np.random.default_rng(0)))  # warm-up
        for n in args.sizes:
            rows.append(measure(member, scenario.drivers, n, args.seed, args.repeats, args.naive_rows))
    print(f"steady states per second, random rows inside the Sobol ranges of {args.scenario.name} "
          f"(best of {args.repeats}, one process)")
    print(tabulate(
        [(r["member"], r["rows"], f"{r['seconds']:.4f}", f"{r['per_s']:,.0f}", f"{r['ok']:.2%}",
          f"{r['flagged']:.2%}", r["ok_nonfinite"], f"{r['peak_mib']:.1f}", f"{r['naive_per_s']:,.0f}",
          f"{r['per_s'] / r['naive_per_s']:,.0f}x") for r in rows],
        headers=["model x variant", "rows", "seconds", "steady states/s", "converged", "flagged",
                 "OK but non-finite", "peak MiB", "naive root/s", "speed-up"],
        tablefmt="github",
    ))
    return 1 if any(r["ok_nonfinite"] or abs(r["ok"] + r["flagged"] - 1) > 1e-12 for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())

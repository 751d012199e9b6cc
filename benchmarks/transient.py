"""Row-years per second of transient runs: ``harness.transient.integrate`` against per-row ``solve_ivp``.

For each built-in model in its default variant (default options, the site of
``scenarios/beta_sweep.yaml``, beta at the adapter's default), draws ``--rows`` random rows uniformly
inside the scenario's Sobol ranges, solves their steady states (not timed), and from them runs a
step of ``c_input`` x 1.2 at t = 0 for ``--years`` years, with yearly outputs:

- batched: ``integrate`` on the rows with an OK steady state (blocks of 4096 rows, one BDF per
  block, sparse block-diagonal Jacobian), outputs and checks included;
- per row: ``scipy.integrate.solve_ivp(method="BDF")`` row by row on the first ``--sample`` of
  those rows, with the same tolerances (rtol 1e-10, the same atol per component as the batch), its
  right-hand side one ``_tendencies`` call of the row and its Jacobian dense, from one stacked call
  of central differences (``harness.transient``'s own one-row system: the fastest fair per-row
  solve, without the batch's outputs or checks);
- the ratio of the two rates in row-years per CPU second, from the same run, and the worst
  relative difference of the pools between them on the sampled rows (per pool, floored at 1e-6
  of the row's stock, over every yearly output).

One BLAS thread (pinned before numpy loads, as ``benchmarks/stability.py`` does): the rates are
per core. Times are wall (``time.perf_counter``) beside CPU (``time.process_time``); the load
average is printed before and after.

    python benchmarks/transient.py
    python benchmarks/transient.py --rows 2000 --years 50 --sample 10 --models clm5_firstorder awb
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402
from tabulate import tabulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from timing import load_average  # noqa: E402

from harness.api import load  # noqa: E402
from harness.members import build_member  # noqa: E402
from harness.registry import BUILTIN_ADAPTERS  # noqa: E402
from harness.transient import Perturbation, _atol, _scale, _System, integrate, schedule  # noqa: E402
from harness.vocabulary import DRIVERS  # noqa: E402

RTOL = 1e-10
#: a pool below this fraction of its row's stock is compared absolutely (as in tests/test_transient.py)
POOL_FLOOR = 1e-6


def per_row(adapter, theta, forcing_at, pools0, times, atol) -> np.ndarray:
    """Pools, cumulative input and losses of each row at ``times`` (n, m, n_pools + 2), one ``solve_ivp`` per row."""
    n_pools = len(adapter.pools)
    out = np.empty((theta.shape[0], times.size, n_pools + 2))
    floor = RTOL * _scale(pools0)[:n_pools]
    for i in range(theta.shape[0]):
        system = _System(adapter, theta[i:i + 1], forcing_at.take([i]), floor)
        system.window = (float(np.nextafter(times[0], times[-1])), float(np.nextafter(times[-1], times[0])))
        y0 = np.r_[pools0[i], 0.0, 0.0]
        sol = solve_ivp(system.fun, (times[0], times[-1]), y0, method="BDF", t_eval=times[1:], rtol=RTOL, atol=atol,
                        jac=system.jac)
        if not sol.success:
            raise SystemExit(f"{adapter.name}, sampled row {i}: solve_ivp failed: {sol.message}")
        out[i, 0], out[i, 1:] = y0, sol.y.T
    return out


def relative(x: np.ndarray, reference: np.ndarray) -> float:
    """Largest |x - reference| / max(|reference|, POOL_FLOOR x stock) over rows, times and pools."""
    stock = np.abs(reference).sum(axis=-1, keepdims=True)
    return float(np.max(np.abs(x - reference) / np.maximum(np.abs(reference), POOL_FLOOR * stock)))


def measure(member, drivers, rows: int, years: float, sample: int, seed: int) -> dict:
    """One model: the batched run, the per-row runs and their difference."""
    adapter = member.adapter
    theta, forcing = member.theta(rows), member.random_forcing(drivers, rows, np.random.default_rng(seed))
    steady = adapter.steady_state(theta, forcing)
    ok = np.flatnonzero(steady.ok)
    theta, forcing, pools0 = theta[ok], forcing[ok], steady.pools[ok]
    forcing_at, breakpoints = schedule(adapter, forcing, [Perturbation("c_input", scale=1.2)])
    times = np.linspace(0.0, years, int(round(years)) + 1)
    start, start_cpu = time.perf_counter(), time.process_time()
    traj = integrate(adapter, theta, forcing_at, pools0, times, breakpoints=breakpoints, rtol=RTOL)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    k = min(sample, ok.size)
    atol = _atol(None, RTOL, _scale(pools0))  # the batch's atol per component
    start, start_cpu = time.perf_counter(), time.process_time()
    one = per_row(adapter, theta[:k], forcing_at.take(np.arange(k)), pools0[:k], times, atol)
    row_wall, row_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    n_pools = len(adapter.pools)
    return {
        "member": member.label, "rows": ok.size, "flagged": rows - ok.size, "failed": int((~traj.ok).sum()),
        "wall": wall, "cpu": cpu, "row_years": ok.size * years, "sample": k, "row_wall": row_wall,
        "row_cpu": row_cpu, "diff": relative(traj.pools[:k], one[:, :, :n_pools]),
        "mass": float(np.nanmax(traj.mass_balance_error())),
    }


def table(results: list[dict], years: float, fmt: str) -> str:
    """The results as a table (``github`` for the README)."""
    out = []
    for r in results:
        batched = r["row_years"] / r["cpu"]
        single = r["sample"] * years / r["row_cpu"]
        out.append((r["member"], f"{r['rows']:,}", f"{r['failed']}", f"{r['wall']:.1f}", f"{r['cpu']:.1f}",
                    f"{r['row_years'] / r['wall']:,.0f}", f"{batched:,.0f}", f"{r['sample']}", f"{r['row_cpu']:.1f}",
                    f"{single:,.0f}", f"{batched / single:,.0f}x", f"{r['diff']:.1e}", f"{r['mass']:.1e}"))
    headers = ["model (default variant)", "rows", "failed", "wall s", "CPU s", "row-yr/s (wall)", "row-yr/s (CPU)",
               "per-row: rows", "per-row CPU s", "per-row row-yr/s (CPU)", "batched/per-row (CPU)",
               "max rel. diff", "max mass-balance gap"]
    return tabulate(out, headers=headers, tablefmt=fmt, disable_numparse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "beta_sweep.yaml",
                        help="the site (baseline) and the Sobol ranges the rows are drawn in")
    parser.add_argument("--models", nargs="*", help="only these models (default: every built-in model)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows drawn per model (those with a steady state run)")
    parser.add_argument("--years", type=float, default=100.0, help="length of the run [yr]")
    parser.add_argument("--sample", type=int, default=20, help="rows also integrated one by one")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--markdown", action="store_true", help="print the table of benchmarks/README.md")
    args = parser.parse_args(argv)

    load_before = load_average()
    plan = load(args.scenario)
    baseline = {k: v for k, v in plan.scenario.baseline.items() if k in DRIVERS}
    models = args.models or list(BUILTIN_ADAPTERS)
    results = [measure(build_member(model, {}, baseline, {}), plan.scenario.drivers, args.rows, args.years,
                       args.sample, args.seed) for model in models]
    print(f"{args.scenario.name}: {args.rows:,} random rows per model inside its Sobol ranges (those with a steady "
          f"state run), c_input x 1.2 at t = 0 for {args.years:g} yr, yearly outputs, BDF rtol {RTOL:g}; one "
          f"process, one BLAS thread; per row: solve_ivp BDF, same tolerances, dense Jacobian")
    print(f"load average before: {load_before}; after: {load_average()}\n")
    print(table(results, args.years, "github" if args.markdown else "simple"))
    return 1 if any(r["failed"] or r["mass"] > 1e-9 for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())

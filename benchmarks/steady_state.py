"""Converged steady states per second: each adapter's batched solver against a fair per-row root.

For every model x variant of ``scenarios/beta_sweep.yaml`` (or the models named with ``--models``),
draws ``--rows`` random rows uniformly inside the scenario's Sobol ranges (parameters at the
member's values) and measures, in one process:

- batched: the public ``member.adapter.steady_state(theta, forcing)`` on all rows, every check
  included. Its rate counts converged (status OK) rows only; the fraction flagged is printed.
- naive: ``scipy.optimize.root`` (``hybr``, ``xtol=1e-12``) row by row on the first
  ``--naive-rows`` converged rows. Each row's rates are computed once, with the adapter's own
  rate object, and its tendencies function (the one ``_tendencies`` wraps) is called directly; the
  unknowns are the native pools over the batched ones (1 where a pool is 0), the residual
  dX/dt / c_input, the start 0.7 x the batched pools. A row counts only if ``root`` reports
  success, max|dX/dt| / c_input at its root is within the adapter's ``residual_rtol`` and its
  pools match the batched ones to 1e-6 of the row's largest pool.
- the ratio of the two rates (converged rows per CPU second), from the same run.

Times are the median of ``--repeats`` runs, wall (``time.perf_counter``) beside CPU
(``time.process_time``; less disturbed by other processes on a shared machine). The load
average is printed before and after. ``--markdown`` prints the table of
``benchmarks/README.md``. Exits 1 if an OK row carries a non-finite output.

    python benchmarks/steady_state.py
    python benchmarks/steady_state.py --models clm5_firstorder tao_enzyme awb --markdown
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.optimize import root
from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from timing import load_average  # noqa: E402

from harness.api import load  # noqa: E402

#: (rhs of the native pools, boundary pools -> native, native dX/dt -> g C m-2 yr-1) of one row
RowModel = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray],
                 Callable[[np.ndarray], np.ndarray]]


# -- one row's rates, computed once, and the model's own tendencies function --------------------
def _clm5(adapter, theta, forcing) -> RowModel:
    from models.clm5_firstorder import equations as eq

    s = adapter._system(theta, forcing)
    return (lambda x: eq.tendencies(x[None], s.inputs, s.transfers, s.k, s.xi, s.retained)[0][0],
            lambda pools: pools, lambda d: d)


def _tao(adapter, theta, forcing) -> RowModel:
    from models.tao_enzyme import equations as eq

    kin, inputs, h = adapter._model(theta, forcing)  # g C m-3, yr
    return (lambda x: eq.tendencies(x[None], inputs, kin)[0][0], lambda pools: pools / h[0], lambda d: d * h[0])


def _awb(adapter, theta, forcing) -> RowModel:
    from models.awb import equations as eq

    kin, factor = adapter._kinetics(theta, forcing)  # mg C cm-3 (or g-1), h
    return (lambda x: eq.tendencies(x[None], kin)[0][0], lambda pools: pools / factor[0],
            lambda d: d * factor[0] * eq.HOURS_PER_YEAR)


def _mimics(adapter, theta, forcing) -> RowModel:
    from models.mimics import equations as eq

    kin, factor = adapter._system(theta, forcing, stability=False)  # mg C cm-3, h; pools along the first axis

    def rhs(x):
        native = x[:, None]
        return eq.tendencies(native, kin, eq.partials(native, kin))[0][:, 0]

    return rhs, lambda pools: pools / factor[0], lambda d: d * eq.HOURS_PER_YEAR * factor[0]


def _millennial(adapter, theta, forcing) -> RowModel:
    from models.millennial import equations as eq

    rates = adapter._rates(theta, forcing)  # g C m-2, d
    return (lambda x: eq.tendencies(x[None], rates)[0][0], lambda pools: pools, lambda d: d * eq.DAYS_PER_YEAR)


ROW_MODELS: dict[str, Callable[..., RowModel]] = {
    "clm5_firstorder": _clm5, "tao_enzyme": _tao, "awb": _awb, "mimics": _mimics, "millennial": _millennial,
}


def naive_solve(member, theta, forcing, pools, rows) -> int:
    """Rows of ``rows`` that a per-row ``scipy.optimize.root`` solves (see the module docstring)."""
    adapter = member.adapter
    c_column = adapter.driver_names.index("c_input")
    solved = 0
    for i in rows:
        rhs, to_native, per_year = ROW_MODELS[member.model](adapter, theta[i : i + 1], forcing[i : i + 1])
        batched = to_native(pools[i])
        unit = np.where(batched > 0.0, batched, 1.0)  # unknowns x / unit: the batched pools are 1 (or 0)
        c_input = forcing[i, c_column]

        def residual(z, rhs=rhs, unit=unit, per_year=per_year, c_input=c_input):
            return per_year(rhs(z * unit)) / c_input

        with np.errstate(all="ignore"):
            sol = root(residual, 0.7 * batched / unit, method="hybr", options={"xtol": 1e-12})
            converged = sol.success and np.abs(residual(sol.x)).max() <= adapter.residual_rtol
        solved += bool(converged and np.abs(sol.x * unit - batched).max() <= 1e-6 * np.abs(batched).max())
    return solved


def timed(function, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``repeats`` calls, and the last result."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return float(np.median(wall)), float(np.median(cpu)), result


def measure(member, drivers, n: int, seed: int, repeats: int, naive_rows: int) -> dict:
    """One member: batched and naive timings and counts."""
    forcing = member.random_forcing(drivers, n, np.random.default_rng(seed))
    theta = member.theta(n)
    member.adapter.steady_state(theta[:64], forcing[:64])  # warm-up
    wall, cpu, result = timed(lambda: member.adapter.steady_state(theta, forcing), repeats)
    ok = result.ok
    rows = np.flatnonzero(ok)[:naive_rows]
    naive_wall = naive_cpu = float("nan")
    naive_ok = 0
    if rows.size:
        naive_wall, naive_cpu, naive_ok = timed(lambda: naive_solve(member, theta, forcing, result.pools, rows),
                                                repeats)
    return {
        "member": member.label, "rows": n, "wall": wall, "cpu": cpu, "ok": int(ok.sum()),
        "flagged": float((~ok).mean()), "ok_nonfinite": int((~np.isfinite(result.outputs[ok])).any(axis=1).sum()),
        "naive_tried": int(rows.size), "naive_ok": int(naive_ok), "naive_wall": naive_wall, "naive_cpu": naive_cpu,
    }


def table(results: list[dict], fmt: str) -> str:
    """The results as a table (``github`` for the README)."""
    rows = []
    for r in results:
        batched = r["ok"] / r["cpu"]
        naive = r["naive_ok"] / r["naive_cpu"] if r["naive_ok"] else float("nan")
        ran = r["naive_tried"] > 0  # --naive-rows 0: the batched solver alone
        rows.append((
            r["member"], f"{r['rows']:,}", f"{r['wall']:.3f}", f"{r['cpu']:.3f}", f"{r['ok'] / r['wall']:,.0f}",
            f"{batched:,.0f}", f"{r['flagged']:.2%}", f"{r['naive_ok']}/{r['naive_tried']}" if ran else "-",
            f"{r['naive_wall']:.3f}" if ran else "-", f"{r['naive_cpu']:.3f}" if ran else "-",
            f"{naive:,.0f}" if ran else "-", f"{batched / naive:,.0f}x" if ran else "-",
        ))
    headers = ["model x variant", "rows", "wall s", "CPU s", "converged/s (wall)", "converged/s (CPU)", "flagged",
               "naive: solved/tried", "naive wall s", "naive CPU s", "naive solved/s (CPU)", "batched/naive (CPU)"]
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "beta_sweep.yaml")
    parser.add_argument("--models", nargs="*", help="only these models (default: all in the scenario)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the batched call")
    parser.add_argument("--naive-rows", type=int, default=100,
                        help="converged rows solved one by one (0: time the batched solver only)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per measurement (median)")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--markdown", action="store_true", help="print the table of benchmarks/README.md")
    args = parser.parse_args(argv)

    load_before = load_average()
    plan = load(args.scenario)
    members = [m for m in plan.members if not args.models or m.model in args.models]
    results = [measure(m, plan.scenario.drivers, args.rows, args.seed, args.repeats, args.naive_rows)
               for m in members]
    print(f"{args.scenario.name}: {args.rows:,} random rows per member inside its Sobol ranges, one process; "
          f"median of {args.repeats}; naive: scipy root (hybr, xtol 1e-12) per row from 0.7 x the batched "
          f"pools, rates computed once per row")
    print(f"load average before: {load_before}; after: {load_average()}\n")
    print(table(results, "github" if args.markdown else "simple"))
    return 1 if any(r["ok_nonfinite"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())

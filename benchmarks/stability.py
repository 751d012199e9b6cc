"""Steady states per second of MIMICS and Millennial: Routh-Hurwitz stability test against eigenvalues.

For every MIMICS and Millennial member of ``scenarios/beta_sweep.yaml``, draws random rows
uniformly inside the scenario's Sobol ranges and times the public
``member.adapter.steady_state(theta, forcing)`` two ways in the same process, alternating:

- ``new``: the code as it is (``models/stability.py``: Routh-Hurwitz decides, eigenvalues only for
  the rows it does not find stable);
- ``old``: every row judged by ``numpy.linalg.eigvals``, as before the Routh-Hurwitz test
  (``models.stability.hurwitz_stable`` patched to decide no row). For MIMICS this path also
  builds the unscaled Jacobian the test would have used, ~1 ms per 8192 rows the old code did not
  spend, which favours ``new`` by ~2 %.

With ``--baseline REV``, ``old`` is instead the whole ``models/`` tree of git revision REV (e.g.
the commit before the Routh-Hurwitz test), imported under another package name: the code as it
was, with everything else that changed since.

Prints steady states per second (median of ``--repeats``), new/old, the rows each batch sent to
eigenvalues, whether statuses, messages, pools and outputs are identical between the two, and the
load average (``os.getloadavg``) before and after. One thread (OpenBLAS is pinned to 1 before numpy
loads), so the rates are per core.

    python benchmarks/stability.py
    python benchmarks/stability.py --sizes 8192 --repeats 7 --models millennial
    python benchmarks/stability.py --baseline 54d689e
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from tabulate import tabulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.api import load  # noqa: E402
from models import stability  # noqa: E402

MODELS = ("mimics", "millennial")


@contextlib.contextmanager
def eigenvalues_only():
    """Every row to ``numpy.linalg.eigvals``: the Routh-Hurwitz test decides nothing."""
    original = stability.hurwitz_stable
    stability.hurwitz_stable = lambda matrix, rtol=stability.HURWITZ_RTOL: (
        np.zeros(len(matrix), dtype=bool), np.zeros(len(matrix), dtype=bool))
    try:
        yield
    finally:
        stability.hurwitz_stable = original


@contextlib.contextmanager
def counting():
    """Count the rows that reach ``numpy.linalg.eigvals`` through ``max_real_eigenvalue``."""
    original, seen = stability.max_real_eigenvalue, []

    def counted(matrix):
        seen.append(len(matrix))
        return original(matrix)

    stability.max_real_eigenvalue = counted
    try:
        yield seen
    finally:
        stability.max_real_eigenvalue = original


def baseline_adapters(revision: str, folder: Path) -> str:
    """Extract ``models/`` at git ``revision`` into ``folder`` as package ``baseline_models``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "models"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "models").rename(folder / "baseline_models")
    sys.path.insert(0, str(folder))
    return "baseline_models"


def baseline_of(adapter, package: str):
    """The same adapter class and options from the baseline package."""
    cls = type(adapter)
    module = importlib.import_module(package + cls.__module__.removeprefix("models"))
    return getattr(module, cls.__name__)(**adapter.get_options())


def identical(a, b) -> bool:
    """Same statuses, messages and pools (NaN where NaN), bit for bit."""
    return (np.array_equal(a.status, b.status) and list(a.message) == list(b.message)
            and np.array_equal(a.pools, b.pools, equal_nan=True)
            and np.array_equal(a.outputs, b.outputs, equal_nan=True))


def measure(member, drivers, n: int, seed: int, repeats: int, baseline=None) -> dict:
    forcing = member.random_forcing(drivers, n, np.random.default_rng(seed))
    theta = member.theta(n)
    calls = {"new": member.adapter.steady_state,
             "old": member.adapter.steady_state if baseline is None else baseline.steady_state}
    patch = eigenvalues_only if baseline is None else contextlib.nullcontext
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(repeats):
        for mode in ("old", "new"):
            with patch() if mode == "old" else contextlib.nullcontext():
                start = time.perf_counter()
                calls[mode](theta, forcing)
                times[mode].append(time.perf_counter() - start)
    with counting() as seen:
        new = calls["new"](theta, forcing)
    with patch():
        old = calls["old"](theta, forcing)
    old_s, new_s = float(np.median(times["old"])), float(np.median(times["new"]))
    return {"member": member.label, "rows": n, "old": n / old_s, "new": n / new_s, "ratio": old_s / new_s,
            "eigvals_rows": sum(seen), "ok": int(new.ok.sum()), "identical": identical(new, old)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "beta_sweep.yaml")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--sizes", nargs="*", type=int, default=[8192, 100_000])
    parser.add_argument("--repeats", type=int, default=5, help="median of this many timings per mode")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--baseline", metavar="REV", help="old = models/ at this git revision, not the eigvals path")
    args = parser.parse_args(argv)

    plan = load(args.scenario)
    members = [m for m in plan.members if m.model in args.models]
    with tempfile.TemporaryDirectory() as folder:
        package = baseline_adapters(args.baseline, Path(folder)) if args.baseline else None
        load_before = os.getloadavg()
        rows = []
        for member in members:
            baseline = baseline_of(member.adapter, package) if package else None
            warm = member.random_forcing(plan.scenario.drivers, 64, np.random.default_rng(0))
            for adapter in (member.adapter, baseline or member.adapter):
                adapter.steady_state(member.theta(64), warm)
            for n in args.sizes:
                rows.append(measure(member, plan.scenario.drivers, n, args.seed, args.repeats, baseline))
        load_after = os.getloadavg()
    old = f"old (models @ {args.baseline})/s" if args.baseline else "old (eigvals)/s"
    print(f"steady states per second through member.adapter.steady_state, random rows inside the Sobol ranges "
          f"of {args.scenario.name}; median of {args.repeats}, old and new alternating in one process, one thread")
    print(tabulate(
        [(r["member"], r["rows"], f"{r['old']:,.0f}", f"{r['new']:,.0f}", f"{r['ratio']:.2f}x", r["ok"],
          r["eigvals_rows"], "yes" if r["identical"] else "NO") for r in rows],
        headers=["model x variant", "rows", old, "new (Routh-Hurwitz)/s", "new/old", "OK rows",
                 "rows to eigvals (new)", "identical"],
        tablefmt="github",
    ))
    print(f"load average (1, 5, 15 min): before {', '.join(f'{x:.2f}' for x in load_before)}; "
          f"after {', '.join(f'{x:.2f}' for x in load_after)}")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

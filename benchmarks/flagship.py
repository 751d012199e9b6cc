"""The flagship with SALib's per-factor Sobol analysis against the harness's own estimators, in one run.

Three ways to run ``scenarios/beta_sweep.yaml``, each in a fresh process, taken in turn
``--repeats`` times (medians printed):

- ``salib``: one scramble with 200 bootstrap resamples (``intervals: bootstrap``), every
  analysis through ``SALib.analyze.sobol.analyze``, which rebuilds the resampled matrices and
  their variance for every factor: the flagship's analysis path before issues 15 and 18;
- ``bootstrap``: the same scenario through the harness's vectorised estimator
  (``harness.analysis.sobol_indices``, bit-for-bit SALib's numbers);
- ``default``: the scenario as shipped (8 replicated scrambles with t-intervals).

Prints wall and CPU seconds (the run and all its worker processes) and peak memory, the ratios
``salib / bootstrap`` and ``salib / default``, whether ``indices.csv``, ``verdict.csv``,
``convergence.csv`` and ``attribution.csv`` of ``salib`` and ``bootstrap`` are byte-identical,
and the load average before and after.

    python benchmarks/flagship.py
    python benchmarks/flagship.py --n 16384 --repeats 1 --jobs 2
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import ROOT, Timing, load_average, timed  # noqa: E402

SCENARIO = ROOT / "scenarios" / "beta_sweep.yaml"
COMPARED = ("indices.csv", "verdict.csv", "convergence.csv", "attribution.csv")
BOOTSTRAP = 200  # resamples of the bootstrap runs (the flagship's before issue 15)


def salib_sobol_indices(problem, y, second_order, bootstrap, confidence, seed):
    """The harness's analysis as it was: one ``SALib.analyze.sobol.analyze`` call per analysis."""
    import warnings

    import numpy as np
    from SALib.analyze import sobol as sobol_analyze

    if np.ptp(y) == 0:
        nan = np.full(len(set(problem.get("groups", problem["names"]))), np.nan)
        return {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol_analyze.analyze(problem, y, calc_second_order=second_order, num_resamples=bootstrap,
                                    conf_level=confidence, print_to_console=False, seed=seed)
    return {key: np.asarray(res[key], dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")}


def worker(argv: list[str]) -> int:
    """``python flagship.py --salib ARGS``: the command line with SALib's analysis patched in."""
    import harness.analysis
    from harness.cli import main

    harness.analysis.sobol_indices = salib_sobol_indices
    return main(argv)


def scenarios(folder: Path) -> dict[str, Path]:
    """The shipped scenario and its bootstrap form, written to ``folder``."""
    data = yaml.safe_load(SCENARIO.read_text())
    sobol = {k: v for k, v in data["sobol"].items() if k != "replicates"}
    data["sobol"] = {**sobol, "intervals": "bootstrap", "bootstrap": BOOTSTRAP}
    boot = folder / "beta_sweep_bootstrap.yaml"
    boot.write_text(yaml.safe_dump(data, sort_keys=False))
    return {"default": SCENARIO, "bootstrap": boot}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--salib"]:
        return worker(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each way (median printed)")
    parser.add_argument("--n", type=int, help="sobol.n (default: the scenario's)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes of every run")
    parser.add_argument("--ways", nargs="*", default=["salib", "bootstrap", "default"],
                        choices=["salib", "bootstrap", "default"])
    args = parser.parse_args(argv)

    print(f"load average before: {load_average()}", flush=True)
    times: dict[str, list[Timing]] = {way: [] for way in args.ways}
    identical = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = scenarios(folder)
        extra = ["--jobs", str(args.jobs)] + (["--set", f"sobol.n={args.n}"] if args.n else [])
        for repeat in range(args.repeats):
            for way in args.ways:
                out = folder / f"{way}-{repeat}"
                run = ["run", str(files["default" if way == "default" else "bootstrap"]), "--out", str(out), *extra]
                prefix = [sys.executable, __file__, "--salib"] if way == "salib" else [sys.executable, "-m", "harness"]
                times[way].append(timed(prefix + run))
                print(f"  {way} run {repeat + 1}: {times[way][-1].wall:.1f} s wall", flush=True)
        if {"salib", "bootstrap"} <= set(args.ways):
            identical = all(filecmp.cmp(folder / f"salib-0/{name}", folder / f"bootstrap-0/{name}", shallow=False)
                            for name in COMPARED)

    median = {way: Timing(*(statistics.median(getattr(t, f) for t in runs) for f in ("wall", "cpu", "peak_mib")))
              for way, runs in times.items()}
    n = f"N = {args.n}" if args.n else "the scenario's N"
    print(f"\nscenarios/beta_sweep.yaml at {n}, --jobs {args.jobs}, median of {args.repeats} runs each")
    print(tabulate([(way, f"{t.wall:.1f}", f"{t.cpu:.1f}", f"{t.peak_mib:.0f}") for way, t in median.items()],
                   headers=["way", "wall s", "CPU s", "peak MiB"], tablefmt="github"))
    for slow, fast in (("salib", "bootstrap"), ("salib", "default")):
        if slow in median and fast in median:
            print(f"{slow} / {fast}: {median[slow].wall / median[fast].wall:.2f}x wall, "
                  f"{median[slow].cpu / median[fast].cpu:.2f}x CPU")
    if identical is not None:
        print(f"{', '.join(COMPARED)} of salib and bootstrap: {'byte-identical' if identical else 'DIFFERENT'}")
    print(f"load average after: {load_average()}")
    return 0 if identical in (None, True) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""NUTS against DEMetropolisZ on the MIMICS LTER calibration, in one run of this script.

Runs ``scenarios/calibrate_lter.yaml`` (2 MIMICS structures x 4 chains, 14 sites) twice, each in a
fresh process with the same executor (``--jobs``), once per sampler:

- ``DEMetropolisZ``: 6000 draws after 4000 tuning steps per chain (what R-hat <= 1.01 needed
  when it was the scenario's sampler);
- ``NUTS``: gradients by the implicit function theorem (``harness.sensitivity``), ``--nuts-draws``
  draws after ``--nuts-tune`` tuning steps per chain (default: the scenario as shipped).

For each member it prints the sampling time (all chains, tuning included: the member's
``seconds`` in summary.json), the largest R-hat, the smallest bulk ESS over the calibrated
quantities (ArviZ, all chains), bulk ESS per second of sampling, and the NUTS / DEMetropolisZ
ratio of the two; the command's wall time and the load average before and after.

It also prints bulk ESS per 1000 likelihood calls (a NUTS call solves the steady state and its
sensitivities, a DEMetropolisZ call the steady state only) and the ratio of the two samplers'
mean call costs: ESS/s ratio = (ESS per call ratio) / (cost per call ratio), so the first ratio
bounds what a faster gradient could give.

    python benchmarks/calibration.py
    python benchmarks/calibration.py --jobs 1 --nuts-draws 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import ROOT, load_average, timed  # noqa: E402

SCENARIO = ROOT / "scenarios" / "calibrate_lter.yaml"


def _run(sampler: str, settings: list[str], jobs: int, out: Path) -> tuple[float, pd.DataFrame]:
    """Wall time [s] and one row per member: sampling seconds, largest R-hat, smallest bulk ESS."""
    cmd = [sys.executable, "-m", "harness", "run", str(SCENARIO), "--data-root", str(ROOT), "--out", str(out),
           "--jobs", str(jobs), "--set", f"calibrate.sampler.name={sampler}", *settings]
    wall = timed(cmd).wall
    seconds = {m["member"]: m["seconds"] for m in json.loads((out / "summary.json").read_text())["members"]}
    posterior = pd.read_csv(out / "posterior_summary.csv")
    rows = posterior.groupby("member", sort=False).agg(r_hat=("r_hat", "max"), ess_bulk=("ess_bulk", "min"),
                                                     weakest=("ess_bulk", lambda s: posterior.loc[s.idxmin(), "quantity"]))
    calls = pd.read_csv(out / "sampling.csv").groupby("member", sort=False)["likelihood_calls"].sum()
    rows["seconds"] = rows.index.map(seconds)
    rows["calls"] = rows.index.map(calls)
    rows["ess_per_s"] = rows["ess_bulk"] / rows["seconds"]
    rows["ess_per_kcall"] = 1000 * rows["ess_bulk"] / rows["calls"]
    rows["ms_per_call"] = 1000 * rows["seconds"] / rows["calls"]
    return wall, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of both runs (default 2)")
    parser.add_argument("--nuts-draws", type=int, default=1000, help="NUTS draws per chain (default 1000)")
    parser.add_argument("--nuts-tune", type=int, default=500, help="NUTS tuning steps per chain (default 500)")
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        dez_wall, dez = _run("DEMetropolisZ", ["--set=calibrate.sampler.draws=6000", "--set=calibrate.sampler.tune=4000"],
                             args.jobs, Path(tmp) / "dez")
        nuts_wall, nuts = _run("NUTS", [f"--set=calibrate.sampler.draws={args.nuts_draws}",
                                        f"--set=calibrate.sampler.tune={args.nuts_tune}"], args.jobs, Path(tmp) / "nuts")
    rows = []
    for member in dez.index:
        d, n = dez.loc[member], nuts.loc[member]
        rows.append([member, f"{d.seconds:.1f}", f"{n.seconds:.1f}", f"{d.r_hat:.4f}", f"{n.r_hat:.4f}",
                     f"{d.ess_bulk:.0f} ({d.weakest})", f"{n.ess_bulk:.0f} ({n.weakest})",
                     f"{d.ess_per_s:.2f}", f"{n.ess_per_s:.2f}", f"{n.ess_per_s / d.ess_per_s:.2f}",
                     f"{d.ess_per_kcall:.1f}", f"{n.ess_per_kcall:.1f}", f"{n.ess_per_kcall / d.ess_per_kcall:.2f}",
                     f"{d.ms_per_call:.2f}", f"{n.ms_per_call:.2f}", f"{n.ms_per_call / d.ms_per_call:.2f}"])
    print(tabulate(rows, headers=["member", "DEMZ s", "NUTS s", "DEMZ max R-hat", "NUTS max R-hat",
                                  "DEMZ min ESS bulk", "NUTS min ESS bulk", "DEMZ ESS/s", "NUTS ESS/s",
                                  "NUTS / DEMZ", "DEMZ ESS/kcall", "NUTS ESS/kcall", "ratio",
                                  "DEMZ ms/call", "NUTS ms/call", "ratio"], tablefmt="github"))
    print(f"wall of the whole run [s]: DEMetropolisZ {dez_wall:.1f}, NUTS {nuts_wall:.1f} "
          f"(--jobs {args.jobs}; NUTS {args.nuts_draws} draws after {args.nuts_tune} tuning steps per chain)")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()

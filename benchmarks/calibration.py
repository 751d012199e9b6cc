"""NUTS against DEMetropolisZ on the MIMICS LTER calibration, in one run of this script.

Runs ``scenarios/calibrate_lter.yaml`` (2 MIMICS structures x 4 chains, 14 sites) in a fresh
process per sampler setting, all with the same executor (``--jobs``):

- ``DEMetropolisZ``: 6000 draws after 4000 tuning steps per chain (what R-hat <= 1.01 needed
  when it was the scenario's sampler);
- ``NUTS``: gradients by the implicit function theorem (``harness.sensitivity``), draws and
  tuning steps as the scenario ships them (or ``--nuts-draws``, ``--nuts-tune``), once with each
  mass matrix of ``--mass-matrix`` (default: diagonal and full).

For each member it prints the sampling time (all chains, tuning included: the member's
``seconds`` in summary.json), the largest R-hat, the smallest bulk ESS over the calibrated
quantities (ArviZ, all chains), bulk ESS per second of sampling, and the NUTS / DEMetropolisZ
ratio of the two; the command's wall time and the load average before and after.

It also prints bulk ESS per 1000 likelihood calls (a NUTS call solves the steady state and its
sensitivities, a DEMetropolisZ call the steady state only) and the ratio of the two samplers'
mean call costs: ESS/s ratio = (ESS per call ratio) / (cost per call ratio), so the first ratio
bounds what a faster gradient could give.

    python benchmarks/calibration.py
    python benchmarks/calibration.py --jobs 1 --nuts-draws 2000 --mass-matrix full
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

import harness  # noqa: E402
from harness.vocabulary import MASS_MATRICES  # noqa: E402

SCENARIO = ROOT / "scenarios" / "calibrate_lter.yaml"


def _run(sampler: str, jobs: int, out: Path) -> tuple[float, pd.DataFrame]:
    """Wall time [s] and one row per member: sampling seconds, largest R-hat, smallest bulk ESS.

    ``sampler``: the scenario's whole ``calibrate.sampler`` mapping, as YAML.
    """
    cmd = [sys.executable, "-m", "harness", "run", str(SCENARIO), "--data-root", str(ROOT), "--out", str(out),
           "--jobs", str(jobs), "--set", f"calibrate.sampler={sampler}"]
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
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of every run (default 2)")
    parser.add_argument("--nuts-draws", type=int, help="NUTS draws per chain (default: the scenario's)")
    parser.add_argument("--nuts-tune", type=int, help="NUTS tuning steps per chain (default: the scenario's)")
    parser.add_argument("--mass-matrix", nargs="+", choices=MASS_MATRICES, default=list(MASS_MATRICES),
                        help="NUTS mass matrices to run (default: all)")
    args = parser.parse_args()
    shipped = harness.load(SCENARIO, data_root=ROOT).scenario.calibrate  # with the schema's defaults
    draws, tune, chains = args.nuts_draws or shipped.draws, args.nuts_tune or shipped.tune, shipped.chains
    print(f"load average before: {load_average()}")
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        walls["DEMetropolisZ"], dez = _run(f"{{name: DEMetropolisZ, draws: 6000, tune: 4000, chains: {chains}}}",
                                           args.jobs, Path(tmp) / "dez")
        nuts = {}
        for matrix in args.mass_matrix:
            walls[f"NUTS {matrix}"], nuts[matrix] = _run(
                f"{{name: NUTS, draws: {draws}, tune: {tune}, chains: {chains}, mass_matrix: {matrix}}}",
                args.jobs, Path(tmp) / f"nuts_{matrix}")
    rows = []
    for member in dez.index:
        d = dez.loc[member]
        for matrix, table in nuts.items():
            n = table.loc[member]
            rows.append([member, matrix, f"{d.seconds:.1f}", f"{n.seconds:.1f}", f"{d.r_hat:.4f}", f"{n.r_hat:.4f}",
                         f"{d.ess_bulk:.0f} ({d.weakest})", f"{n.ess_bulk:.0f} ({n.weakest})",
                         f"{d.ess_per_s:.2f}", f"{n.ess_per_s:.2f}", f"{n.ess_per_s / d.ess_per_s:.2f}",
                         f"{d.ess_per_kcall:.1f}", f"{n.ess_per_kcall:.1f}", f"{n.ess_per_kcall / d.ess_per_kcall:.2f}",
                         f"{d.ms_per_call:.2f}", f"{n.ms_per_call:.2f}", f"{n.ms_per_call / d.ms_per_call:.2f}"])
    print(tabulate(rows, headers=["member", "NUTS mass matrix", "DEMZ s", "NUTS s", "DEMZ max R-hat", "NUTS max R-hat",
                                  "DEMZ min ESS bulk", "NUTS min ESS bulk", "DEMZ ESS/s", "NUTS ESS/s",
                                  "NUTS / DEMZ", "DEMZ ESS/kcall", "NUTS ESS/kcall", "ratio",
                                  "DEMZ ms/call", "NUTS ms/call", "ratio"], tablefmt="github"))
    print("wall of each run [s]: " + ", ".join(f"{k} {v:.1f}" for k, v in walls.items())
          + f" (--jobs {args.jobs}; NUTS {draws} draws after {tune} tuning steps per chain)")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()

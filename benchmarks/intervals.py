"""Are the printed intervals as wide as the real seed-to-seed spread?

Runs one flagship member (default MIMICS at beta = 1) at the flagship's N over several scenario
seeds, once with replicated scrambles (t-intervals, the default) and once with one scramble and
SALib's bootstrap, and prints, per driver, the mean printed half-width beside the standard
deviation of ST across seeds. A calibrated 95 % interval is about 2 standard deviations wide
(2.3 for a t-interval over 8 replicates); the bootstrap treats quasi-random points as independent
draws and is much wider.

    python benchmarks/intervals.py
    python benchmarks/intervals.py --model awb --seeds 12 --n 2048
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from harness.registry import get_adapter

ROOT = Path(__file__).resolve().parents[1]
#: the ``sobol`` settings of each way of computing intervals
MODES = {"replicates (t-interval)": {"intervals": "replicates", "replicates": 8},
         "bootstrap (one scramble)": {"intervals": "bootstrap", "bootstrap": 200}}


def indices(scenario: Path, seed: int) -> pd.DataFrame:
    """Driver-level ST and ST_conf of ln SOC from one run in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "harness", "run", str(scenario), "--out", out, "--set", f"seed={seed}"]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"run failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
        table = pd.read_csv(Path(out) / "indices.csv")
    return table[(table["level"] == "driver") & (table["output"] == "soc")].set_index("driver")[["ST", "ST_conf"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mimics", help="a model of scenarios/beta_sweep.yaml")
    parser.add_argument("--beta", type=float, default=1.0, help="its beta variant (ignored for clm5_firstorder)")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--n", type=int, default=2048)
    args = parser.parse_args(argv)
    flagship = yaml.safe_load((ROOT / "scenarios" / "beta_sweep.yaml").read_text())
    entry = next(m for m in flagship["models"] if m["model"] == args.model)
    if "variants" in entry:
        entry = {**entry, "variants": {**entry["variants"], "beta": [args.beta]}}
        entry["variants"] = {k: v[:1] if k == "beta_enz" else v for k, v in entry["variants"].items()}
    represented = get_adapter(args.model).driver_names
    drivers = {k: v for k, v in flagship["drivers"].items() if k in represented}
    sobol = {k: v for k, v in flagship["sobol"].items() if k not in ("replicates", "intervals", "bootstrap")}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.model} (beta = {args.beta:g}), ln SOC, N = {args.n}, {args.seeds} seeds\n")
        print("| intervals | driver | mean ST | sd of ST across seeds | mean printed ± | ± / sd |")
        print("|---|---|---|---|---|---|")
        for mode, settings in MODES.items():
            path = Path(tmp) / "member.yaml"
            path.write_text(yaml.safe_dump({**flagship, "models": [entry], "drivers": drivers,
                                            "sobol": {**sobol, **settings, "n": args.n, "crossover": False}}))
            runs = [indices(path, seed) for seed in range(1, args.seeds + 1)]
            st = pd.concat([r["ST"] for r in runs], axis=1)
            half = pd.concat([r["ST_conf"] for r in runs], axis=1)
            for driver in st.index:
                if not np.isfinite(st.loc[driver]).all():
                    continue
                sd = st.loc[driver].std(ddof=1)
                print(f"| {mode} | {driver} | {st.loc[driver].mean():.4f} | {sd:.4f} | {half.loc[driver].mean():.4f} "
                      f"| {half.loc[driver].mean() / sd:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

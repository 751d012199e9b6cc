"""The crossover ratio of CLM5 against its closed form.

CLM5 is first order: SOC is proportional to c_input, so ln SOC = ln c_input + g(cue_scale) when
only these two drivers vary. The two terms are independent and additive, hence
ST(c_input) = Var(ln c_input) / V and ST(cue_scale) = Var(g) / V, and input dominates exactly when
Var(ln U(1 - h_in, 1 + h_in)) > Var(g(U(1 - h_cue, 1 + h_cue))). Both variances are computed here
by 64-point Gauss-Legendre quadrature (g from the adapter itself), and the crossover half-width by
root finding: the harness must find the same k = h_in / h_cue.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from harness.cli import main
from harness.members import build_member

SITE = {"c_input": 400.0, "temperature": 15.0, "moisture": 0.3, "clay": 20.0, "sand": 40.0}
SCENARIO = """
schema_version: 1
name: clm5_crossover
kind: sobol
seed: 7
models: [clm5_firstorder]
baseline: {c_input: 400.0, temperature: 15.0, moisture: 0.3, clay: 20.0, sand: 40.0}
drivers:
  c_input: {relative: [0.5, 1.5]}
  cue_scale: {relative: [0.8, 1.2]}
sobol:
  n: 2048
  crossover: {c_input: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], cue_scale: [0.1, 0.2, 0.3], n: 1024}
"""


def _variance(f, half_width: float) -> float:
    """Var f(U) for U uniform on [1 - h, 1 + h], by Gauss-Legendre quadrature."""
    x, w = np.polynomial.legendre.leggauss(64)
    values = f(1.0 + half_width * x)
    mean = (w * values).sum() / 2
    return float((w * (values - mean) ** 2).sum() / 2)


def analytic_crossover(h_cue: float) -> float:
    """k at which Var(ln c_input) equals Var(ln SOC | c_input fixed) over cue_scale ±h_cue."""
    member = build_member("clm5_firstorder", {}, SITE, {})

    def g(scale: np.ndarray) -> np.ndarray:
        site = {k: np.full(scale.size, v) for k, v in SITE.items()}
        return np.log(member.adapter.evaluate(**site, cue_scale=scale).output("soc"))

    target = _variance(g, h_cue)
    return brentq(lambda h: _variance(np.log, h) - target, 1e-4, 0.99, xtol=1e-12) / h_cue


@pytest.fixture(scope="module")
def crossovers(tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("crossover") / "s.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    assert main(["run", str(path), "--out", str(path.parent / "out")]) == 0
    return pd.read_csv(path.parent / "out" / "crossover.csv").set_index("h_cue")


@pytest.mark.parametrize("h_cue", [0.1, 0.2, 0.3])
def test_clm5_crossover_matches_its_closed_form(crossovers, h_cue):
    """Analytic k = 2.770, 2.637, 2.439. Tolerance 1 %: linear interpolation between grid cells
    0.1 apart in h_in is the largest error (0.1-0.35 % seen); the sampling interval alone is
    ±0.1 %. A crossover off by one grid cell would be 4-30 % away."""
    row = crossovers.loc[h_cue]
    assert row["state"] == "crosses"
    assert row["k"] == pytest.approx(analytic_crossover(h_cue), rel=0.01)
    assert row["k_low"] <= row["k"] <= row["k_high"]

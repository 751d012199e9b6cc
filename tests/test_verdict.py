"""The verdict roll-up, convergence and attribution: pure functions on known inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.analysis import compare_two, input_residence_decomposition, top_ranking_stable, variance_reduction
from harness.kinds.verdict import beta_effects, convergence_table


@pytest.mark.parametrize("a, ca, b, cb, expected", [
    (0.6, 0.05, 0.3, 0.05, (1, True)),     # apart by 0.3 > 0.1
    (0.6, 0.2, 0.3, 0.15, (1, False)),     # intervals overlap
    (0.2, 0.01, 0.5, 0.02, (-1, True)),
    (np.nan, 0.1, 0.5, 0.1, (0, False)),   # not represented
])
def test_compare_two(a, ca, b, cb, expected):
    assert compare_two(a, ca, b, cb) == expected


def test_top_ranking_stable_compares_the_order_of_the_top_three():
    full = np.array([0.5, 0.3, 0.2, 0.01])
    assert top_ranking_stable(np.array([0.45, 0.35, 0.1, 0.02]), full)
    assert not top_ranking_stable(np.array([0.3, 0.45, 0.1, 0.02]), full)
    assert top_ranking_stable(np.array([0.5, 0.3, 0.2, 0.25]), full, top=2)


def test_variance_reduction():
    rng = np.random.default_rng(1)
    x, z = rng.normal(size=100_000), rng.normal(size=100_000)
    y = 2 * x + z  # Var = 5; fixing x at 0 leaves Var(z) = 1
    assert variance_reduction(y, z) == pytest.approx(0.8, abs=0.01)  # sampling error ~ 1/sqrt(n)


def test_input_residence_decomposition_is_exact():
    rng = np.random.default_rng(2)
    c_input = rng.uniform(250, 750, 1000)
    tau = rng.uniform(10, 30, 1000)
    shares = input_residence_decomposition(c_input * tau, c_input)
    total = shares["share_input"] + shares["share_residence_time"] + shares["share_covariance"]
    assert total == pytest.approx(1.0, rel=1e-12)
    linear = input_residence_decomposition(c_input * 20.0, c_input)  # first-order model: tau fixed
    assert linear["share_input"] == pytest.approx(1.0, rel=1e-12)
    assert linear["mean_residence_time"] == pytest.approx(20.0, rel=1e-12)


def _indices(member, st, conf, rank):
    drivers = ["c_input", "cue_scale", "temperature"]
    return pd.DataFrame({"member": member, "output": "soc", "level": "driver", "driver": drivers,
                         "ST": st, "ST_conf": conf, "rank": rank, "n_base": 64})


def test_convergence_table_flags_an_unstable_top_order():
    full = _indices("m", [0.5, 0.3, 0.2], [0.05] * 3, [1, 2, 3])
    half = _indices("m", [0.3, 0.5, 0.2], [0.08] * 3, [2, 1, 3])
    table = convergence_table(full, half)
    assert not table["top_stable"].any()
    assert table.set_index("driver").at["c_input", "ST_half"] == 0.3


def test_beta_effects_compare_each_beta_with_beta_one_of_the_same_structure():
    verdict = pd.DataFrame({
        "model": "m", "beta": [1.0, 2.0, 1.0, 2.0], "beta_rescale": ["reference"] * 2 + ["none"] * 2,
        "member": ["a", "b", "c", "d"], "output": "soc", "ST_cue": 0.5, "ST_cue_conf": 0.02,
        "ST_input": [0.1, 0.6, 0.3, 0.32], "ST_input_conf": [0.02, 0.02, 0.02, 0.02], "dominant": "",
        "resolved": True, "verdict": "CUE", "top_stable": True, "top_drivers": "", "n_base": 64,
    })
    effects = beta_effects(verdict).set_index("beta_rescale")
    assert effects.at["reference", "rises"] and effects.at["reference", "resolved"]
    assert effects.at["none", "rises"] and not effects.at["none", "resolved"]  # 0.02 < 0.04
    assert effects.at["reference", "rise"] == pytest.approx(0.5)

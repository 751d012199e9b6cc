"""Replicated Sobol estimates: identical to SALib's point estimates, slopes of the main effects,
and honest t-intervals (coverage and width on the Ishigami function over 40 seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

from harness.errors import TruncatedDesign
from harness.replicated import log_ratio, replicate_estimates, t_interval
from harness.sampling import unit_design
from harness.spec.schema import DriverRange

THREE = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3}
#: Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: closed-form indices (Ishigami and Homma 1990)
A, B = 7.0, 0.1
VAR = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
V1, V2, V13 = 0.5 * (1 + B * np.pi**4 / 5) ** 2, A**2 / 8, B**2 * np.pi**8 * (1 / 18 - 1 / 50)
S1_TRUE = np.array([V1, V2, 0.0]) / VAR  # 0.3139, 0.4424, 0
ST_TRUE = np.array([V1 + V13, V2, V13]) / VAR  # 0.5576, 0.4424, 0.2437


def _ishigami(unit: np.ndarray) -> np.ndarray:
    return Ishigami.evaluate(-np.pi + 2 * np.pi * unit, A=A, B=B)


@pytest.mark.parametrize("groups, second_order", [(None, False), (["g", "g", "h"], True)])
def test_one_replicate_equals_salib(groups, second_order):
    """Saltelli S1 and Jansen ST exactly as SALib computes them, with and without groups."""
    problem = {**THREE, **({"groups": groups} if groups else {})}
    unit = sobol_sample.sample(problem, 256, calc_second_order=second_order, scramble=True, seed=3)
    y = _ishigami(unit)
    k = 2 if groups else 3
    est = replicate_estimates(y, np.ones(y.size, bool), unit, unit.shape[0] // 256, k, 1, slopes=not groups)
    ref = sobol_analyze.analyze(problem, y, calc_second_order=second_order, num_resamples=10, seed=1)
    np.testing.assert_allclose(est.S1[0], ref["S1"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.ST[0], ref["ST"], rtol=0, atol=1e-12)


def test_dropped_blocks_equal_salib_on_the_kept_blocks():
    unit = sobol_sample.sample(THREE, 128, calc_second_order=False, scramble=True, seed=5)
    y = _ishigami(unit)
    usable = np.ones(y.size, bool)
    usable[[7, 40, 41, 300]] = False  # rows of blocks 1, 8 and 60 (5 rows per block)
    y_bad = np.where(usable, y, np.nan)
    est = replicate_estimates(y_bad, usable, unit, 5, 3, 1)
    keep = usable.reshape(-1, 5).all(axis=1)
    ref = sobol_analyze.analyze(THREE, y.reshape(-1, 5)[keep].ravel(), calc_second_order=False, num_resamples=10)
    assert (est.dropped, int(est.kept[0])) == (3, 125)
    np.testing.assert_allclose(est.ST[0], ref["ST"], atol=1e-12)
    np.testing.assert_allclose(est.S1[0], ref["S1"], atol=1e-12)


def test_slopes_are_the_main_effects_over_the_box():
    """y = 2 u1 - 3 u2 + u3^2: the joint least-squares slopes over the box are 2, -3 and 1 (for
    u^2 on U(0, 1): cov(u, u^2)/var(u) = (1/12)/(1/12) = 1). The linear terms are fitted exactly;
    the non-linear residual of u3^2 (variance 1/180) projects onto the other columns by chance,
    about 0.075/sqrt(128) = 0.007 per replicate (largest seen: 0.023), hence atol 0.05 against
    slopes 1 to 3 apart."""
    unit = np.vstack([sobol_sample.sample(THREE, 64, calc_second_order=False, scramble=True, seed=s) for s in range(4)])
    y = 2 * unit[:, 0] - 3 * unit[:, 1] + unit[:, 2] ** 2
    est = replicate_estimates(y, np.ones(y.size, bool), unit, 5, 3, 4)
    np.testing.assert_allclose(est.slope, np.tile([2.0, -3.0, 1.0], (4, 1)), atol=0.05)


def test_too_few_blocks_in_a_replicate_is_a_truncated_design():
    unit = np.vstack([sobol_sample.sample(THREE, 4, calc_second_order=False, scramble=True, seed=s) for s in range(2)])
    usable = np.ones(unit.shape[0], bool)
    usable[:15] = False  # three of the first replicate's four blocks
    with pytest.raises(TruncatedDesign, match="38% of the design dropped, and replicate 1 of 2 keeps 1 complete"):
        replicate_estimates(_ishigami(unit), usable, unit, 5, 3, 2)


def test_t_interval_and_log_ratio():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, half = t_interval(values, 0.95)
    assert mean == 2.5
    assert half == pytest.approx(3.182446305 * np.std(values, ddof=1) / 2, rel=1e-9)  # t(0.975, 3)
    ratio, low, high = log_ratio(np.array([2.0, 2.0]), np.array([1.0, 1.0]), 0.95)
    assert (ratio, low, high) == (2.0, 2.0, 2.0)
    assert np.isnan(log_ratio(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 0.95)[0])


def test_ishigami_intervals_are_honest_over_40_seeds():
    """The 95 % t-intervals of R = 8 scrambles of 256 (the flagship's budget, N = 2048) cover the
    analytic S1 and ST of every factor in at least 90 % of 40 seeds, and are at most 3 times
    the empirical spread (the sd of the point estimates across seeds).

    A calibrated interval is t(0.975, 7) = 2.36 standard errors wide, i.e. about 2.3 sd; over 300
    seeds the ratio was 1.8-2.5 and the coverage 96-97 %. A bootstrap over the points of one
    scramble gave 4-18 times the spread.
    """
    drivers = tuple(DriverRange(f"x{i}", "range", 0.0, 1.0, None, "") for i in (1, 2, 3))
    means, halves = {"S1": [], "ST": []}, {"S1": [], "ST": []}
    for seed in range(1, 41):
        design = unit_design(drivers, 2048, seed, replicates=8)
        y = _ishigami(design.unit)
        est = replicate_estimates(y, np.ones(y.size, bool), design.unit, design.block_size, 3, 8)
        for key in means:
            mean, half = t_interval(getattr(est, key), 0.95)
            means[key].append(mean)
            halves[key].append(half)
    for key, truth in (("S1", S1_TRUE), ("ST", ST_TRUE)):
        mean, half = np.array(means[key]), np.array(halves[key])
        coverage = (np.abs(mean - truth) <= half).mean(axis=0)
        width = half.mean(axis=0) / mean.std(axis=0, ddof=1)
        assert (coverage >= 0.90).all(), (key, coverage)
        assert (width <= 3.0).all(), (key, width)
        assert (width >= 1.0).all(), (key, width)  # not too narrow either

"""Sensitivity analysis: the failed-row guard, Sobol indices on analytic functions, ranking."""

from __future__ import annotations

import numpy as np
import pytest
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

from harness.analysis import Guarded, guard_failures, rank_by_total, sobol_indices
from harness.errors import AnalysisError
from harness.spec.schema import ON_FAILURE

N = 1024  # base samples for the accuracy tests
SEED = 20240611


def _sample(problem: dict, n: int = N) -> np.ndarray:
    return sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=SEED)


# -- guard_failures ------------------------------------------------------------------------------------
BLOCK = 4  # k = 2 factors: a base row and its k + 2 companions -> 4 rows per Saltelli block


def _rows(blocks: int = 5) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(blocks * BLOCK, dtype=float)
    return y, np.ones(y.size, dtype=bool)


@pytest.mark.parametrize("policy", ON_FAILURE)
def test_guard_passes_complete_output_through(policy):
    y, ok = _rows()
    guarded = guard_failures(y, ok, BLOCK, policy)
    assert (guarded.blocks_total, guarded.blocks_dropped) == (5, 0)
    np.testing.assert_array_equal(guarded.y, y)


def test_guard_error_policy_refuses_and_names_counts():
    y, ok = _rows()
    ok[[5, 6]] = False  # two rows of block 1
    ok[17] = False  # one row of block 4
    with pytest.raises(AnalysisError) as info:
        guard_failures(y, ok, BLOCK, "error")
    assert str(info.value) == (
        "3 rows failed (in 2 of 5 Saltelli blocks); Sobol indices need every row. Set "
        "`on_failure: drop_blocks` to estimate from the complete blocks, or narrow the sampled ranges")
    assert isinstance(info.value, RuntimeError) and info.value.exit_code == 1


def test_guard_drop_blocks_drops_whole_blocks_and_counts_them():
    y, ok = _rows()
    ok[[5, 6]] = False
    y[17] = np.nan  # an OK row with a non-finite output is as unusable as a failed one
    guarded = guard_failures(y, ok, BLOCK, "drop_blocks")
    assert guarded == Guarded(guarded.y, blocks_total=5, blocks_dropped=2)
    np.testing.assert_array_equal(guarded.y, np.r_[0:4, 8:16].astype(float))  # blocks 0, 2, 3 intact


def test_guard_needs_two_complete_blocks():
    y, ok = _rows(3)
    ok[[0, 5]] = False
    with pytest.raises(AnalysisError, match=r"^only 1 of 3 Saltelli blocks are complete$"):
        guard_failures(y, ok, BLOCK, "drop_blocks")


def test_guard_rejects_partial_blocks():
    y, ok = _rows()
    with pytest.raises(AnalysisError, match=r"^19 rows are not a whole number of Saltelli blocks of 4$"):
        guard_failures(y[:-1], ok[:-1], BLOCK, "drop_blocks")


def test_guard_error_message_counts_non_finite_outputs():
    y, ok = _rows()
    y[17] = np.nan
    with pytest.raises(AnalysisError, match=r"^1 rows failed \(in 1 of 5 Saltelli blocks\)"):
        guard_failures(y, ok, BLOCK, "error")


# -- sobol_indices on analytic functions ---------------------------------------------------------------
LINEAR = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0]] * 2}


def test_linear_additive_model():
    """y = 2 x1 + x2 on the unit square: Var = 4/12 + 1/12, so S1 = ST = (0.8, 0.2).

    Tolerance 0.01: the worst absolute error over seeds 1..50 at N = 1024 was 0.0023 (scrambled
    Sobol points integrate this smooth additive function with error ~1/N); the two factors'
    true values differ by 0.6, so swapped labels or S1/ST cannot pass.
    """
    x = _sample(LINEAR)
    idx = sobol_indices(LINEAR, 2 * x[:, 0] + x[:, 1], False, 100, 0.95, SEED)
    np.testing.assert_allclose(idx["S1"], [0.8, 0.2], atol=0.01)
    np.testing.assert_allclose(idx["ST"], [0.8, 0.2], atol=0.01)
    assert ((idx["S1_conf"] > 0) & (idx["ST_conf"] > 0)).all()


def test_ishigami():
    """Ishigami (a = 7, b = 0.1) on [-pi, pi]^3 with its analytic indices.

    S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437), from the closed-form partial
    variances computed below (Ishigami and Homma 1990). Tolerance 0.05: the worst absolute error
    over seeds 1..50 at N = 1024 was 0.027; the smallest gap between distinct true values is 0.11,
    so the interaction of x1 and x3 (ST > S1) and the inert x3 in S1 are both resolved.
    """
    a, b = 7.0, 0.1
    var = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1, v2 = 0.5 * (1 + b * np.pi**4 / 5) ** 2, a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = _sample(problem)
    idx = sobol_indices(problem, Ishigami.evaluate(x, A=a, B=b), False, 100, 0.95, SEED)
    np.testing.assert_allclose(idx["S1"], np.array([v1, v2, 0.0]) / var, atol=0.05)
    np.testing.assert_allclose(idx["ST"], np.array([v1 + v13, v2, v13]) / var, atol=0.05)


def test_groups_come_back_in_first_appearance_order():
    """Groups (g2, g1, g2): g2 = {x1, x3} holds (4 + 1)/6 of the variance of 2 x1 + x2 + x3.

    Results follow SALib's first-appearance order (g2, g1), not sorted (g1, g2).
    Tolerance 0.02: the worst absolute error over seeds 1..50 at N = 1024 was 0.0065; the two
    groups' true values differ by 2/3, so swapped group labels cannot pass.
    """
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3,
               "groups": ["g2", "g1", "g2"]}
    x = _sample(problem)
    idx = sobol_indices(problem, 2 * x[:, 0] + x[:, 1] + x[:, 2], False, 100, 0.95, SEED)
    assert idx["S1"].shape == (2,)
    np.testing.assert_allclose(idx["S1"], [5 / 6, 1 / 6], atol=0.02)
    np.testing.assert_allclose(idx["ST"], [5 / 6, 1 / 6], atol=0.02)


def test_bootstrap_is_reproducible_from_its_seed():
    x = _sample(LINEAR, 64)
    y = 2 * x[:, 0] + x[:, 1] ** 2
    first, again = (sobol_indices(LINEAR, y, False, 50, 0.95, 7) for _ in range(2))
    other = sobol_indices(LINEAR, y, False, 50, 0.95, 8)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_array_equal(first[key], again[key])
    np.testing.assert_array_equal(first["S1"], other["S1"])  # point estimates do not resample
    assert not np.array_equal(first["S1_conf"], other["S1_conf"])


@pytest.mark.parametrize("factors, base, resamples, second_order, groups, confidence", [
    (3, 256, 100, False, None, 0.95),
    (3, 256, 57, True, None, 0.9),
    (8, 2048, 200, False, None, 0.95),
    (5, 512, 300, True, ["a", "b", "a", "c", "b"], 0.99),
    (2, 2, 40, False, None, 0.95),  # the smallest design
])
def test_bit_for_bit_salib(factors, base, resamples, second_order, groups, confidence):
    """The vectorised estimator returns SALib's S1, ST and bootstrap half-widths to the last bit."""
    import warnings

    from SALib.analyze import sobol as sobol_analyze

    names = [f"x{i}" for i in range(factors)]
    problem = {"num_vars": factors, "names": names, "bounds": [[0.0, 1.0]] * factors,
               **({"groups": groups} if groups else {})}
    x = sobol_sample.sample(problem, base, calc_second_order=second_order, scramble=True, seed=factors)
    y = Ishigami.evaluate(-np.pi + 2 * np.pi * x[:, :3]) if factors >= 3 else x[:, 0] - x[:, 1] ** 3
    y = y + np.sum(x[:, 3:], axis=1) ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns about constant resamples
        ref = sobol_analyze.analyze(problem, y, calc_second_order=second_order, num_resamples=resamples,
                                    conf_level=confidence, seed=11)
    mine = sobol_indices(problem, y, second_order, resamples, confidence, 11)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_array_equal(mine[key], np.asarray(ref[key]), err_msg=key)


@pytest.mark.parametrize("problem, k", [
    (LINEAR, 2),
    ({**LINEAR, "num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3, "groups": ["g", "h", "g"]}, 2),
])
def test_constant_output_gives_nan_not_an_error(problem, k):
    x = _sample(problem, 16)
    idx = sobol_indices(problem, np.full(x.shape[0], 3.0), False, 20, 0.95, SEED)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        assert idx[key].shape == (k,) and np.isnan(idx[key]).all()


# -- rank_by_total -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("st, ranks", [
    ([0.1, 0.5, 0.3], [3, 1, 2]),
    ([0.1, np.nan, 0.5, 0.3], [3, 0, 1, 2]),  # NaN = not represented: rank 0, others 1..3
    ([np.nan, np.nan], [0, 0]),
    ([0.2, 0.2, 0.1], [1, 2, 3]),  # ties: first listed ranks first (stable)
    ([-0.01, np.nan, 0.4], [2, 0, 1]),  # a slightly negative estimate still ranks, after positives
    ([], []),
])
def test_rank_by_total(st, ranks):
    result = rank_by_total(np.array(st, dtype=float))
    assert result.tolist() == ranks
    assert result.dtype.kind == "i"

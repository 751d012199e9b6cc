"""The verdict roll-up on known inputs: gates, signs, paired differences, votes, equivalent
variants, He et al.'s ratio and the crossover ratio; plus convergence and attribution helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.analysis import (
    Analysis,
    input_residence_decomposition,
    rank_by_total,
    top_ranking_stable,
    variance_reduction,
)
from harness.kinds.crossover import crossover
from harness.kinds.gates import Fit, gate_reasons
from harness.kinds.verdict import beta_effects, convergence_table, model_votes, verdict_table
from harness.members import Member
from harness.replicated import Estimates, t_interval
from harness.spec.schema import Gates, SobolSettings

FACTORS = ("c_input", "cue_scale", "temperature")
SETTINGS = SobolSettings(n=64, replicates=8)


def _fit(st: tuple[float, float, float], slope: tuple[float, float, float] = (1.0, 0.5, -0.2), seed: int = 0,
         noise: float = 0.005, dropped: int = 0) -> Fit:
    """A driver-level fit whose 8 replicates scatter by ``noise`` around ``st``."""
    rng = np.random.default_rng(seed)
    per = np.array(st) + noise * rng.standard_normal((8, 3))
    est = Estimates(S1=0.9 * per, ST=per, variance=np.full(8, 2.0),
                    slope=np.array(slope) + 0.01 * rng.standard_normal((8, 3)), kept=np.full(8, 8 - dropped // 8),
                    total=64)
    (s1, s1c), (stm, stc), (sl, slc) = (t_interval(getattr(est, k), 0.95) for k in ("S1", "ST", "slope"))
    analysis = Analysis(s1, s1c, stm, stc, sl, slc, est)
    return Fit(FACTORS, analysis, reasons=gate_reasons(analysis, FACTORS, Gates(), 0))


def _indices(label: str, fit: Fit) -> pd.DataFrame:
    a = fit.analysis
    if a is None:  # a failed analysis: rows without indices, as the sobol kind writes them
        return pd.DataFrame({"member": label, "output": "soc", "level": "driver", "scale": "ln", "driver": FACTORS,
                             "ST": np.nan, "ST_conf": np.nan, "slope": np.nan, "slope_conf": np.nan,
                             "elasticity": np.nan, "rank": 0, "n_base": 0, "blocks_total": 64})
    return pd.DataFrame({"member": label, "output": "soc", "level": "driver", "scale": "ln", "driver": FACTORS,
                         "ST": a.ST, "ST_conf": a.ST_conf, "slope": a.slope, "slope_conf": a.slope_conf,
                         "elasticity": a.slope / 2, "rank": rank_by_total(a.ST) if fit.estimable else 0,
                         "n_base": a.blocks_total - a.blocks_dropped, "blocks_total": a.blocks_total})


def _verdict(fits: dict[str, Fit], model: str = "m", key: str = "beta") -> pd.DataFrame:
    members = [Member(model, {key: float(i + 1)} if key else {}, None, {}, {}) for i in range(len(fits))]
    by_label = {m.label: fit for m, fit in zip(members, fits.values())}
    indices = pd.concat([_indices(label, fit) for label, fit in by_label.items()], ignore_index=True)
    return verdict_table(indices, pd.DataFrame(columns=["member", "output", "top_stable"]), members,
                         {(label, "soc"): fit for label, fit in by_label.items()}, SETTINGS)


# -- gates -------------------------------------------------------------------------------------------------
def test_gates_pass_a_clean_fit():
    assert _fit((0.3, 0.5, 0.2)).estimable


def test_gate_on_dropped_blocks():
    fit = _fit((0.3, 0.5, 0.2), dropped=16)  # 2 of 8 blocks per replicate: 25 %
    assert not fit.estimable
    assert fit.reasons[0].startswith("25% of the design dropped (16 of 64 Saltelli blocks")


def test_gate_on_indices_outside_the_unit_interval_and_on_spread():
    outside = _fit((0.3, 1.4, 0.2))
    assert any(r.startswith("ST(cue_scale) = 1.4") and "outside [0, 1]" in r for r in outside.reasons)
    wide = _fit((0.3, 0.5, 0.2), noise=0.3, seed=3)
    assert any("the replicates disagree" in r for r in wide.reasons)


# -- the verdict of one member ----------------------------------------------------------------------------
def test_cue_that_lowers_soc_is_not_cue_that_raises_it():
    verdict = _verdict({"a": _fit((0.1, 0.6, 0.2), slope=(0.8, -0.9, 0.1)),
                        "b": _fit((0.1, 0.6, 0.2), slope=(0.8, 0.9, 0.1), seed=1)})
    assert list(verdict["answer"]) == ["CUE, lowers", "CUE, raises"]
    assert (verdict["cue_effect"] == ["lowers", "raises"]).all()
    assert (verdict["dominant"] == "cue_scale").all() and verdict["resolved"].all()


def test_the_paired_difference_decides_resolved():
    """ST(cue) - ST(input) = 0.05 with replicate noise 0.005: resolved (paired), although two
    unpaired intervals of this width would already be apart too; at 0.004 apart it is not."""
    resolved = _verdict({"a": _fit((0.30, 0.35, 0.2))}).iloc[0]
    assert resolved["resolved"] and resolved["answer"] == "CUE, raises"
    assert resolved["difference"] == pytest.approx(0.05, abs=0.01)
    close = _verdict({"a": _fit((0.300, 0.302, 0.2), seed=5)}).iloc[0]
    assert not close["resolved"] and close["answer"] == "inconclusive"


def test_first_driver_is_named_when_neither_cue_nor_input_dominates():
    row = _verdict({"a": _fit((0.1, 0.3, 0.7))}).iloc[0]
    assert row["answer"] == "CUE, raises" and row["first"] == "temperature"


def test_not_estimable_and_failed_members_are_never_counted():
    failed = Fit(FACTORS, None, error="3 rows failed")
    verdict = _verdict({"a": _fit((0.3, 0.5, 0.2)), "b": _fit((0.3, 0.5, 0.2), dropped=16), "c": failed})
    assert list(verdict["verdict"]) == ["CUE", "not estimable", "failed"]
    assert verdict.loc[1, "reason"].startswith("25% of the design dropped")
    assert verdict.loc[2, "reason"] == "3 rows failed"
    assert verdict["answer"].value_counts().sum() == len(verdict)  # the tally adds up


# -- votes and equivalent variants ------------------------------------------------------------------------
def test_one_vote_per_model_and_depends_on_beta():
    verdict = _verdict({"a": _fit((0.1, 0.6, 0.2)), "b": _fit((0.6, 0.1, 0.2), seed=1),
                        "c": _fit((0.3, 0.302, 0.2), seed=2)})
    votes = model_votes(verdict)
    assert len(votes) == 1 and votes.iloc[0]["vote"] == "depends on beta"
    same = model_votes(_verdict({"a": _fit((0.6, 0.1, 0.2)), "b": _fit((0.3, 0.302, 0.2), seed=2)}))
    assert same.iloc[0]["vote"] == "input, raises"  # an inconclusive variant does not overturn it


def test_near_duplicate_variants_are_collapsed():
    verdict = _verdict({"a": _fit((0.8, 0.01, 0.1)), "b": _fit((0.5, 0.3, 0.1), seed=1),
                        "c": _fit((0.801, 0.011, 0.1), seed=0)})
    assert list(verdict["equivalent_to"]) == ["", "", "m[beta=1.0]"]
    votes = model_votes(verdict)
    assert votes.iloc[0]["distinct"] == 2


# -- He et al. on a scale-free quantity -------------------------------------------------------------------
def test_beta_effect_is_the_paired_change_of_the_ratio():
    """beta = 1: ST(in)/ST(cue) = 0.2/0.4 = 0.5; beta = 2: 0.4/0.4 = 1 (a factor 2, resolved);
    normalised ST(input) also rises here, but the ratio is what is judged."""
    verdict = _verdict({"a": _fit((0.2, 0.4, 0.3)), "b": _fit((0.4, 0.4, 0.1), seed=1)})
    effects = beta_effects(verdict, {(m, "soc"): f for m, f in zip(verdict["member"], [
        _fit((0.2, 0.4, 0.3)), _fit((0.4, 0.4, 0.1), seed=1)])}, 0.95)
    row = effects.iloc[0]
    assert row["beta"] == 2.0 and row["change"] == pytest.approx(2.0, rel=0.05)
    assert row["rises"] and row["resolved"] and row["state"] == "rises"


def test_beta_effect_can_fall_while_normalised_input_rises():
    """ST(input) 0.36 -> 0.45 while ST(cue) 0.21 -> 0.30: the ratio falls 1.71 -> 1.5."""
    fits = [_fit((0.36, 0.21, 0.3)), _fit((0.45, 0.30, 0.1), seed=1)]
    verdict = _verdict(dict(zip("ab", fits)))
    effects = beta_effects(verdict, {(m, "soc"): f for m, f in zip(verdict["member"], fits)}, 0.95)
    assert effects.iloc[0]["state"] == "falls"
    assert effects.iloc[0]["ST_input"] > effects.iloc[0]["ST_input_beta1"]


# -- crossover ---------------------------------------------------------------------------------------------
def _row(differences, halfwidth=0.02, estimable=True):
    ratios = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    return pd.DataFrame({"ratio": ratios, "difference": differences, "difference_conf": halfwidth,
                         "estimable": estimable})


def test_crossover_interpolates_in_log_ratio():
    """d = ln(ratio / 1.2) crosses 0 at 1.2 exactly (linear in ln ratio)."""
    d = np.log(np.array([0.5, 1.0, 1.5, 2.0, 2.5]) / 1.2)
    out = crossover(_row(d))
    assert out["state"] == "crosses" and out["k"] == pytest.approx(1.2, rel=1e-12)
    assert out["k_low"] < 1.2 < out["k_high"]


@pytest.mark.parametrize("d, state", [([0.1] * 5, "input throughout"), ([-0.1] * 5, "CUE throughout"),
                                      ([0.1, -0.1, -0.1, -0.1, -0.1], "non-monotone")])
def test_crossover_states(d, state):
    out = crossover(_row(np.array(d)))
    assert out["state"] == state and np.isnan(out["k"])


def test_crossover_needs_two_estimable_cells():
    assert crossover(_row(np.zeros(5), estimable=[True, False, False, False, False]))["state"] == "not estimable"


# -- convergence and attribution ---------------------------------------------------------------------------
def test_top_ranking_stable_compares_the_order_of_the_top_three():
    full = np.array([0.5, 0.3, 0.2, 0.01])
    assert top_ranking_stable(np.array([0.45, 0.35, 0.1, 0.02]), full)
    assert not top_ranking_stable(np.array([0.3, 0.45, 0.1, 0.02]), full)
    assert top_ranking_stable(np.array([0.5, 0.3, 0.2, 0.25]), full, top=2)


def _convergence_indices(member, st, conf, rank):
    drivers = ["c_input", "cue_scale", "temperature"]
    return pd.DataFrame({"member": member, "output": "soc", "level": "driver", "driver": drivers,
                         "ST": st, "ST_conf": conf, "rank": rank, "n_base": 64})


def test_convergence_table_flags_an_unstable_top_order():
    full = _convergence_indices("m", [0.5, 0.3, 0.2], [0.05] * 3, [1, 2, 3])
    half = _convergence_indices("m", [0.3, 0.5, 0.2], [0.08] * 3, [2, 1, 3])
    table = convergence_table(full, half)
    assert not table["top_stable"].any()
    assert table.set_index("driver").at["c_input", "ST_half"] == 0.3


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

"""Derivative-based global sensitivity measures and their Poincaré bound on total Sobol indices (harness.dgsm).

Checked on functions whose nu, Var and ST are known in closed form (a linear function, a product,
the Ishigami function), then on real members of the flagship: the bound holds for every group,
a group's bound is the sum of its drivers', and nu from the exact IFT derivatives agrees with nu
from central differences of the full steady state on the same rows.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import qmc

from harness import dgsm
from harness.api import load
from harness.cli import main
from harness.kinds.common import RunOutcome
from harness.kinds.sobol import DGSM_ROWS, NOT_UNIFORM, dgsm_rows
from harness.sampling import member_values, sobol_designs

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = yaml.safe_load((ROOT / "scenarios/beta_sweep.yaml").read_text())


def _uniform(lower: np.ndarray, upper: np.ndarray, m: int, seed: int = 3) -> np.ndarray:
    """2^m scrambled Sobol points on the box [lower, upper]."""
    unit = qmc.Sobol(len(lower), scramble=True, seed=seed).random_base2(m)
    return lower + unit * (upper - lower)


def _bounds(est: dgsm.Estimate, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    constants = np.array([dgsm.uniform_constant(a, b) for a, b in zip(lower, upper)])
    return dgsm.total_bound(est.nu, constants, est.variance)


# -- closed forms ----------------------------------------------------------------------------------
def test_linear_function_nu_is_exact_and_its_bound_is_12_over_pi2_times_st():
    """f = sum c_i x_i: nu_i = c_i^2 exactly, ST_i = c_i^2 (b - a)^2 / 12 / V, bound_i = 12/pi^2 ST_i."""
    c, lower, upper = np.array([2.0, -0.5, 0.0, 3.0]), np.array([0.0, 10.0, -1.0, 1.0]), np.array([1.0, 30.0, 1.0, 1.5])
    x = _uniform(lower, upper, 12)
    f, df = x @ c, np.tile(c, (x.shape[0], 1))
    est = dgsm.estimate(df, f, np.ones(f.size, bool), np.ones(f.size, bool))
    np.testing.assert_array_equal(est.nu, c**2)
    partial = c**2 * (upper - lower) ** 2 / 12
    variance = partial.sum()
    assert est.variance == pytest.approx(variance, rel=1e-4)  # quasi-random estimate of Var f
    st = partial / variance
    constants = np.array([dgsm.uniform_constant(a, b) for a, b in zip(lower, upper)])
    np.testing.assert_allclose(dgsm.total_bound(est.nu, constants, variance), 12 / math.pi**2 * st, rtol=1e-14)
    np.testing.assert_allclose(_bounds(est, lower, upper), 12 / math.pi**2 * st, rtol=1e-4)
    assert est.used == est.evaluated == 4096 and est.failed == est.screened == est.no_derivative == 0


def test_the_bound_is_attained_by_the_cosine():
    """Equality of the Poincaré inequality of the uniform on [a, b]: g = cos(pi (x - a) / (b - a))."""
    a, b = 2.0, 5.0
    x = _uniform(np.array([a]), np.array([b]), 14)[:, 0]
    f = np.cos(np.pi * (x - a) / (b - a))
    df = (-np.pi / (b - a) * np.sin(np.pi * (x - a) / (b - a)))[:, None]
    est = dgsm.estimate(df, f, np.ones(f.size, bool), np.ones(f.size, bool))
    assert est.nu[0] == pytest.approx(np.pi**2 / (2 * (b - a) ** 2), rel=1e-6)
    assert est.variance == pytest.approx(0.5, rel=1e-6)
    assert _bounds(est, np.array([a]), np.array([b]))[0] == pytest.approx(1.0, rel=1e-6)  # ST = 1


def test_ishigami_nu_and_bounds_match_their_closed_forms():
    """Ishigami (a = 7, b = 0.1, x_i uniform on [-pi, pi]); nu_i in closed form (Sobol' & Kucherenko 2009)."""
    a, b, pi = 7.0, 0.1, np.pi
    lower, upper = np.full(3, -pi), np.full(3, pi)
    x = _uniform(lower, upper, 16)
    x1, x2, x3 = x.T
    f = np.sin(x1) + a * np.sin(x2) ** 2 + b * x3**4 * np.sin(x1)
    df = np.column_stack([np.cos(x1) * (1 + b * x3**4), 2 * a * np.sin(x2) * np.cos(x2), 4 * b * x3**3 * np.sin(x1)])
    est = dgsm.estimate(df, f, np.ones(f.size, bool), np.ones(f.size, bool))
    nu = np.array([0.5 * (1 + 2 * b * pi**4 / 5 + b**2 * pi**8 / 9), a**2 / 2, 8 * b**2 * pi**6 / 7])
    variance = a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5
    np.testing.assert_allclose(est.nu, nu, rtol=1e-4)
    assert est.variance == pytest.approx(variance, rel=1e-4)
    expected = 4 * nu / variance  # (2 pi)^2 nu / (pi^2 V)
    np.testing.assert_allclose(_bounds(est, lower, upper), expected, rtol=2e-4)
    # the closed-form total indices
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)  # Var of b sin(x1) (x3^4 - pi^4 / 5)
    st = np.array([v1 + v13, a**2 / 8, v13]) / variance
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)
    assert (expected >= st).all()


def test_a_group_is_bounded_by_the_sum_of_its_inputs_bounds():
    """f = x1 x2 on [0, 1]^2: ST_1 = ST_2 = 4/7, ST of the pair = 1; each bound is 48 / (7 pi^2) ~ 0.695 < 1,
    so the pair needs the sum (1.39); total effects are subadditive (4/7 + 4/7 > 1)."""
    lower, upper = np.zeros(2), np.ones(2)
    x = _uniform(lower, upper, 14)
    f, df = x[:, 0] * x[:, 1], x[:, ::-1].copy()
    est = dgsm.estimate(df, f, np.ones(f.size, bool), np.ones(f.size, bool))
    np.testing.assert_allclose(est.nu, 1 / 3, rtol=1e-5)
    assert est.variance == pytest.approx(7 / 144, rel=1e-5)
    bounds = _bounds(est, lower, upper)
    np.testing.assert_allclose(bounds, 48 / (7 * math.pi**2), rtol=1e-5)
    assert (bounds >= 4 / 7).all() and (bounds < 1).all()
    assert dgsm.group_bound(bounds) == pytest.approx(bounds.sum(), rel=1e-15) and dgsm.group_bound(bounds) >= 1
    assert math.isnan(dgsm.group_bound(np.array([0.1, np.nan]))) and math.isnan(dgsm.group_bound(np.array([])))


def test_rows_are_counted_and_left_out_and_the_log_scale_divides_by_y():
    y = np.array([1.0, 2.0, np.e, 4.0, -1.0, 5.0])
    dy = np.array([[1.0, 0.0], [2.0, 2.0], [np.e, 0.0], [4.0, np.nan], [1.0, 1.0], [1.0, 1.0]])
    f, df = dgsm.on_scale(y, dy, "log")
    np.testing.assert_allclose(f[:4], np.log(y[:4]))
    np.testing.assert_allclose(df[:3], [[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    assert np.isnan(f[4]) and np.isnan(df[4]).all()  # y <= 0 has no logarithm
    raw_f, raw_df = dgsm.on_scale(y, dy, "raw")
    assert raw_f is not None and np.array_equal(raw_df, dy, equal_nan=True)
    ok = np.array([True, True, True, True, True, False])
    usable = np.array([True, True, True, True, False, False])
    est = dgsm.estimate(df, f, ok, usable)
    assert (est.used, est.evaluated, est.failed, est.screened, est.no_derivative) == (3, 6, 1, 1, 1)
    np.testing.assert_allclose(est.nu, [1.0, 1 / 3])
    assert est.variance == pytest.approx(np.var(np.log([1.0, 2.0, np.e])))
    assert np.isnan(dgsm.estimate(df[:1], f[:1], ok[:1], usable[:1]).nu).all()  # one row is no estimate
    np.testing.assert_array_equal(dgsm.base_rows(18, 9, 1024), [0, 9])
    np.testing.assert_array_equal(dgsm.base_rows(90, 9, 3), [0, 9, 18])


# -- real members ------------------------------------------------------------------------------------
SMALL = {**FLAGSHIP, "sobol": {**FLAGSHIP["sobol"], "n": 512},
         "models": [{"model": "mimics", "variants": {"parameter_set": ["stode_rev_beta"], "beta": [2.0],
                                                     "beta_rescale": ["site"]}},
                    {"model": "millennial", "variants": {"beta": [1.5], "beta_rescale": ["site"]}},
                    {"model": "clm5_firstorder"}]}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, Path]:
    """Three flagship members at N = 512 (8 scrambles of 64): the scenario file and the run directory."""
    folder = tmp_path_factory.mktemp("dgsm")
    path, out = folder / "s.yaml", folder / "out"
    path.write_text(yaml.safe_dump(SMALL))
    assert main(["run", str(path), "--out", str(out)]) == 0
    return path, out


def test_the_bound_holds_for_every_group_and_is_the_sum_over_its_drivers(small_run):
    table = pd.read_csv(small_run[1] / "dgsm.csv")
    assert set(table["scale"]) == {"ln"} and set(table["output"]) == {"soc", "soc_total"}
    groups = table[(table["level"] == "group") & table["drivers"].notna()]
    assert len(groups) == 2 * (4 + 3 + 3)  # mimics has every group, millennial and clm5 no litter quality
    assert (groups["holds"] == "yes").all(), groups[groups["holds"] != "yes"]
    assert (groups["ST_low"] <= groups["bound"]).all()
    drivers = table[table["level"] == "driver"].set_index(["member", "output", "factor"])
    for _, row in groups.iterrows():
        names = row["drivers"].split(" + ")
        mine = drivers.loc[[(row["member"], row["output"], d) for d in names]]
        assert row["bound"] == pytest.approx(mine["bound"].sum(), rel=1e-12)
        assert row["nu_box"] == pytest.approx((mine["width"] ** 2 * mine["nu"]).sum(), rel=1e-12)
        np.testing.assert_allclose(mine["bound"], mine["width"] ** 2 * mine["nu"] / (math.pi**2 * row["variance"]),
                                   rtol=1e-12)
    judged = table[table["holds"].isin(["yes", "no"])]
    assert (judged["holds"] == "yes").all() and len(judged) == len(groups) + len(drivers.dropna(subset=["bound"]))
    assert (table["rows_used"].dropna() == 64 * 8).all() and (table["base_samples"].dropna() == 512).all()
    assert set(table.loc[(table["level"] == "driver") & table["nu"].notna(), "nu_units"]) == {
        "1/(g C m-2 yr-1)^2", "1", "1/(degC)^2", "1/(m3 m-3)^2", "1/(%)^2"}
    page = (small_run[1] / "report.html").read_text()
    assert "Derivative-based bounds on the total indices (DGSM)" in page and "Bounds on ST of ln soc by group" in page


def test_nu_matches_central_differences_of_the_full_steady_state(small_run):
    """nu from the IFT derivatives against nu from a new solve at x (1 +- 1e-5) of every driver, same rows (7e-10 apart)."""
    plan = load(small_run[0])
    design = sobol_designs(plan.scenario)[0]
    rows = dgsm.base_rows(design.unit.shape[0], design.block_size, DGSM_ROWS)
    table = pd.read_csv(small_run[1] / "dgsm.csv").set_index(["member", "output", "level", "factor"])
    worst = 0.0
    for member in plan.members:
        values = {k: v[rows] for k, v in member_values(member, design).items()}
        theta = member.theta(rows.size)
        base = member.adapter.steady_state(theta, member.forcing(rows.size, values))
        assert base.ok.all()
        for name, column in values.items():
            step = 1e-5 * column
            up = member.adapter.steady_state(theta, member.forcing(rows.size, {**values, name: column + step}))
            down = member.adapter.steady_state(theta, member.forcing(rows.size, {**values, name: column - step}))
            for output in ("soc", "soc_total"):
                slope = (np.log(up.get(output)) - np.log(down.get(output))) / (2 * step)
                ours = table.loc[(member.label, output, "driver", name), "nu"]
                worst = max(worst, abs(ours / np.mean(slope**2) - 1))
                assert ours == pytest.approx(np.mean(slope**2), rel=1e-6), (member.label, output, name)
    print(f"largest relative difference of nu: {worst:.1e}")


def test_a_driver_drawn_from_a_posterior_has_nu_but_no_bound():
    plan = load(ROOT / "scenarios/beta_sweep.yaml", ["sobol.n=64"])
    member = next(m for m in plan.members if m.model == "mimics" and m.variant.get("beta") == 2.0)
    draws = np.random.default_rng(1).normal(1.0, 0.05, 400)
    twin = member.__class__(**{**member.__dict__, "posterior": {"cue_scale": draws}})
    ctx = SimpleNamespace(scenario=plan.scenario)
    rows = pd.DataFrame(dgsm_rows(ctx, twin, sobol_designs(plan.scenario)[0], ["parameter_set", "beta"]))
    mine = rows[rows["output"] == "soc"].set_index("factor")
    assert np.isfinite(mine.loc["cue_scale", "nu"]) and np.isnan(mine.loc["cue_scale", "bound"])
    assert mine.loc["cue_scale", "bound_note"] == f"cue_scale {NOT_UNIFORM}"
    assert np.isnan(mine.loc["microbial", "bound"]) and np.isnan(mine.loc["microbial", "nu_box"])
    assert np.isfinite(mine.loc["mic_turnover_scale", "bound"]) and np.isfinite(mine.loc["input", "bound"])
    assert mine.loc["input", "rows_used"] == 64


def test_an_adapter_that_cannot_be_differentiated_leaves_a_note_and_the_run_goes_on(monkeypatch):
    plan = load(ROOT / "scenarios/beta_sweep.yaml", ["sobol.n=64"])
    member = next(m for m in plan.members if m.model == "clm5_firstorder")

    def refuse(*args, **kwargs):
        raise NotImplementedError

    monkeypatch.setattr(member.adapter, "steady_state_sensitivities", refuse)
    outcome = RunOutcome()
    rows = pd.DataFrame(dgsm_rows(SimpleNamespace(scenario=plan.scenario), member, sobol_designs(plan.scenario)[0],
                                  [], outcome))
    assert (rows["note"] == "no derivatives: NotImplementedError").all() and "bound" not in rows
    assert outcome.warnings == ["clm5_firstorder: DGSM skipped, no derivatives: NotImplementedError"]

"""Tests of MIMICS against ``docs/models/mimics.md`` (sections 3-8).

Tolerances: the spec's rtol 1e-6 for its printed numbers, plus half a unit in the last printed
digit (``ReferenceCase.checks``, see ``assert_printed``); 1e-10 for the fixed-point residual and
1e-8 for CO2 = input (the solver's own checks, spec section 7); 1e-12 for identities that hold up
to round-off (mass balance, the beta rescaling at the reference site, exact scaling laws); 1e-13
for restarts from distant states (Newton stops after a step below 1e-13, so the root is met to
round-off: measured 5.6e-15); bit identity for batch against row loop.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from harness.adapter import ParameterError, ReferenceCase, Status, metadata_problems
from harness.members import build_member
from models.mimics import MimicsAdapter, solver
from models.mimics import equations as eq
from models.mimics.parameters import PARAMETERS, REFERENCE_CASES, REFERENCE_SITE

RTOL = 1e-6  # spec section 8
#: the flagship scenario's shared site (scenarios/beta_sweep.yaml), as a site-rescaling anchor
FLAGSHIP = {"c_input": 400.0, "cue_scale": 1.0, "mic_turnover_scale": 1.0, "temperature": 15.0, "moisture": 0.30,
            "clay": 20.0, "silt": 40.0, "sand": 40.0, "lignin_n": 20.0, "ph": 6.5}
#: an anchor off every default: MIMICS' drivers only
ANCHOR = {"c_input": 400.0, "cue_scale": 0.9, "temperature": 12.0, "clay": 25.0, "lignin_n": 15.0,
          "mic_turnover_scale": 1.2}
SETS = ("gmd2015_fwd", "stode_rev_npp", "stode_rev_beta")
M2 = {"c_input": 500.0, "temperature": 15.0, "clay": 20.0, "lignin_n": 20.0}
V_MOD = (10.0, 2.0, 10.0, 3.0, 3.0, 2.0)
K_MOD = (8.0, 2.0, 4.0, 2.0, 4.0, 6.0)
K_SLOPE = {"2015": (0.017, 0.027, 0.017, 0.017, 0.027, 0.017), "sandbox": (0.025, 0.035, 0.025, 0.025, 0.035, 0.025)}


def assert_printed(actual, text: str) -> None:
    """``actual`` matches the spec's printed ``text`` to RTOL plus half a unit in its last digit."""
    ((_, value, tolerance),) = ReferenceCase("printed", {}, {"x": text}, "spec section 8", RTOL).checks()
    assert abs(float(actual) - value) <= tolerance, f"{actual!r} != {text} (printed)"


def random_forcing(adapter, n: int, seed: int = 20240611, betas=(1.0, 1.25, 1.5, 2.0)) -> np.ndarray:
    """``n`` rows in the benchmark ranges (c_input 250-750, cue_scale 0.75-1.25, 5-25 degC, ...)."""
    rng = np.random.default_rng(seed)
    beta = 1.0 if adapter.get_options()["parameter_set"] == "stode_rev_npp" else rng.choice(betas, n)
    return adapter.make_forcing(
        n, c_input=rng.uniform(250.0, 750.0, n), cue_scale=rng.uniform(0.75, 1.25, n),
        temperature=rng.uniform(5.0, 25.0, n), clay=rng.uniform(10.0, 40.0, n), lignin_n=rng.uniform(10.0, 30.0, n),
        mic_turnover_scale=rng.uniform(0.5, 1.5, n), beta=beta,
    )


def native_system(adapter, **drivers):
    """Kinetics and reporting factor of one row at ``drivers`` (defaults elsewhere)."""
    return adapter._system(adapter.default_theta(1), adapter.make_forcing(1, **drivers))


# -- metadata -------------------------------------------------------------------------------------
@pytest.mark.parametrize("parameter_set", SETS)
def test_metadata_complete(parameter_set):
    adapter = MimicsAdapter(parameter_set=parameter_set)
    assert metadata_problems(adapter) == []
    assert adapter.outputs == ("soc", "soc_total", "litter", "mic", "maom", "pom", "respiration", "cue_bulk")
    assert [p.kind for p in adapter.pools] == ["litter", "litter", "mic", "mic", "maom", "pom", "som"]
    assert adapter.parameters is PARAMETERS[parameter_set]
    beta = adapter.drivers[adapter.driver_names.index("beta")]
    assert beta.default == (1.5 if parameter_set == "stode_rev_beta" else 1.0)
    for name in ("moisture", "silt", "sand", "ph", "beta_enz"):
        assert name not in adapter.driver_names  # not represented (spec section 5)


def test_parameter_columns_differ_only_in_kslope_and_ko():
    """Spec section 4: the sandbox column changes Kslope and KO only."""
    old, new = (dict(zip(MimicsAdapter(parameter_set=s).parameter_names,
                         MimicsAdapter(parameter_set=s).default_theta(1)[0])) for s in ("gmd2015_fwd", "stode_rev_beta"))
    changed = {name for name in old if old[name] != new[name]}
    assert changed == {f"k_slope_{j}" for j in range(1, 7)} | {"ko_1", "ko_2"}
    assert [new[f"k_slope_{j}"] for j in range(1, 7)] == list(K_SLOPE["sandbox"])
    assert (new["ko_1"], new["ko_2"]) == (6.0, 6.0)


# -- section 8: published steady states -----------------------------------------------------------
@pytest.mark.parametrize("case", REFERENCE_CASES, ids=lambda c: c.name)
def test_reference_case(case):
    adapter = MimicsAdapter(**case.options)
    result = adapter.evaluate(dict(case.parameters), **case.drivers)
    assert result.ok.all(), result.message
    assert set(case.expected) >= {f"pool.{n}" for n in eq.POOL_NAMES} | {"litter", "mic", "soc", "soc_total",
                                                                         "respiration"}
    for key, value, tolerance in case.checks():
        actual = result.get(key)[0]
        assert abs(actual - value) <= tolerance, f"{key}: {actual!r} vs {value!r} ± {tolerance:.3g}"


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=lambda c: c.name)
def test_reference_case_rounds_to_the_printed_digits(case):
    """Stricter than rtol 1e-6: every printed value is the model's value rounded as printed."""
    result = MimicsAdapter(**case.options).evaluate(**case.drivers)
    for key, text in case.expected.items():
        if isinstance(text, str):
            digits = len(text.replace(".", "").lstrip("0"))
            assert f"{result.get(key)[0]:#.{digits}g}".rstrip(".") == text, key


def test_m2_intermediate_values():
    """Spec section 8, intermediate values at the M2 inputs, from equations.py alone."""
    fmet = eq.metabolic_fraction(20.0, 1.0, 0.85, 0.013)
    assert_printed(fmet, "0.59")
    p = eq.p_scalar(0.2, 2.0, 2.0)
    assert_printed(p, "0.81768")
    for value, text in zip(eq.input_rates(500.0, fmet, 30.0), ("1.1225e-4", "7.8006e-5")):
        assert_printed(value, text)
    v = eq.vmax(15.0, 0.063, 5.47, 8e-6, V_MOD)
    for value, text in zip(v, ("0.048875", "0.0097751", "0.048875", "0.014663", "0.014663", "0.0097751")):
        assert_printed(value, text)
    k_printed = {"2015": ("39.179", "182.08", "95.830", "156.72", "91.039", "63.886"),
                 "sandbox": ("44.174", "205.29", "108.05", "176.70", "102.65", "72.032")}
    for column, texts in k_printed.items():
        for value, text in zip(eq.half_saturation(15.0, K_SLOPE[column], 3.19, 10.0, K_MOD, p), texts):
            assert_printed(value, text)
    tau_r, tau_k = eq.turnover_base(fmet, 5.2e-4, 0.3), eq.turnover_base(fmet, 2.4e-4, 0.1)
    for method, texts in (("npp", ("1.3879e-3", "5.6927e-4")), ("constant", ("1.2414e-3", "5.0917e-4"))):
        m = eq.tau_modifier(500.0, method)
        assert_printed(tau_r * m, texts[0])
        assert_printed(tau_k * m, texts[1])
    assert_printed(eq.exp_share(0.3, 1.3, 0.2), "0.38908")
    assert_printed(eq.exp_share(0.2, 0.8, 0.2), "0.23470")
    assert_printed(eq.exp_share(0.1, -3.0, fmet), "0.017033")
    assert_printed(eq.exp_share(0.3, -3.0, fmet), "0.051100")
    assert_printed(eq.exp_share(1.5e-5, -1.5, 0.2), "1.1112e-5")


@pytest.mark.parametrize(("parameter_set", "tau_texts", "k3_text"), [
    ("gmd2015_fwd", ("1.3879e-3", "5.6927e-4"), "95.830"),
    ("stode_rev_beta", ("1.2414e-3", "5.0917e-4"), "108.05"),
])
def test_adapter_glue_reaches_the_intermediate_values(parameter_set, tau_texts, k3_text):
    """The adapter maps theta and forcing onto the same M2 values (cue_scale 0.6 as in M2)."""
    kin, factor = native_system(MimicsAdapter(parameter_set=parameter_set), **M2, cue_scale=0.6, beta=1.0)
    assert factor[0] == 300.0
    assert_printed(kin.in_lm[0] + kin.in_sp[0], "1.1225e-4")
    assert_printed(kin.in_ls[0] + kin.in_sc[0], "7.8006e-5")
    np.testing.assert_allclose(kin.in_sp / (kin.in_lm + kin.in_sp), 0.05, rtol=1e-13)
    assert_printed(kin.v5[0], "0.014663")
    assert_printed(kin.k3[0], k3_text)
    assert_printed(kin.tau_r[0], tau_texts[0])
    assert_printed(kin.tau_k[0], tau_texts[1])
    assert_printed(kin.fp_r[0], "0.38908")
    assert_printed(kin.fc_k[0], "0.051100")
    np.testing.assert_array_equal(kin.fa_r, 1.0 - (kin.fp_r + kin.fc_r))
    assert_printed(kin.desorb[0], "1.1112e-5")
    np.testing.assert_allclose([kin.e1[0], kin.e2[0], kin.e3[0], kin.e4[0]], [0.33, 0.15, 0.45, 0.21], rtol=1e-15)
    ko = 4.0 if parameter_set == "gmd2015_fwd" else 6.0
    np.testing.assert_allclose([kin.ko_r[0], kin.ko_k[0]], [ko * kin.k2[0], ko * kin.k5[0]], rtol=1e-15)


def test_tau_modifiers():
    c_input = np.array([30.0, 100.0, 300.0, 1000.0])
    np.testing.assert_allclose(eq.tau_modifier(c_input, "npp"), np.sqrt(c_input / 100.0), rtol=1e-15)
    np.testing.assert_allclose(eq.tau_modifier(c_input, "npp_clamped"), [1.6, 2.0, 2.4, 2.4], rtol=1e-15)
    np.testing.assert_array_equal(eq.tau_modifier(c_input, "constant"), 2.0)
    with pytest.raises(ValueError, match="unknown tau modifier"):
        eq.tau_modifier(c_input, "beta")


# -- equations and the Newton step ------------------------------------------------------------------
def _random_states(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.exp(rng.uniform(np.log(0.01), np.log(20.0), (eq.N_POOLS, n)))


@pytest.mark.parametrize("parameter_set", SETS)
def test_jacobian_matches_central_differences(parameter_set):
    adapter = MimicsAdapter(parameter_set=parameter_set)
    forcing = random_forcing(adapter, 8)
    kin, _ = adapter._system(adapter.default_theta(8), forcing)
    pools = _random_states(8)
    jac = eq.jacobian(pools, kin)
    for j in range(eq.N_POOLS):
        h = 1e-6 * pools[j]
        up, down = pools.copy(), pools.copy()
        up[j] += h
        down[j] -= h
        column = (eq.tendencies(up, kin)[0] - eq.tendencies(down, kin)[0]) / (2.0 * h)
        scale = np.abs(jac).max(axis=(1, 2))[:, None]
        np.testing.assert_allclose(jac[:, :, j], column.T, rtol=0, atol=1e-7 * scale.max())


@pytest.mark.parametrize("parameter_set", SETS)
def test_block_newton_step_equals_a_dense_solve(parameter_set):
    """The Schur-complement step solves (J - diag(shift)) dy = -f exactly."""
    adapter = MimicsAdapter(parameter_set=parameter_set)
    kin, _ = adapter._system(adapter.default_theta(16), random_forcing(adapter, 16))
    pools = _random_states(16, seed=2)
    p = eq.partials(pools, kin)
    f, _ = eq.tendencies(pools, kin, p)
    shift = f / pools
    step = solver.newton_step(p, kin, f, shift)
    matrix = eq.jacobian(pools, kin, p) - shift.T[:, :, None] * np.eye(eq.N_POOLS)
    dense = np.linalg.solve(matrix, -f.T[..., None])[..., 0]
    np.testing.assert_allclose(step.T, dense, rtol=1e-9, atol=1e-12 * np.abs(dense).max())


@pytest.mark.parametrize("forward", [True, False])
def test_slaved_pools_balance_every_non_microbial_pool(forward):
    adapter = MimicsAdapter(parameter_set="gmd2015_fwd" if forward else "stode_rev_beta")
    kin, _ = adapter._system(adapter.default_theta(16), random_forcing(adapter, 16))
    rng = np.random.default_rng(3)
    pools = eq.slaved_pools(rng.uniform(0.02, 0.3, 16), rng.uniform(0.02, 0.3, 16), kin)
    assert np.isfinite(pools).all() and (pools > 0).all()
    f, _ = eq.tendencies(pools, kin)
    for j in (eq.LIT_M, eq.LIT_S, eq.SOM_P, eq.SOM_C, eq.SOM_A):
        np.testing.assert_allclose(f[j], 0.0, atol=1e-12 * kin.i_tot.max())


def test_forward_substrate_balance_without_solution_is_nan():
    """Forward uptake saturates at mic_r v_r + mic_k v_k: a larger inflow has no balance."""
    s = eq.substrate_at_balance(np.array([1.0, 3.0]), 1.0, 1.0, 1.0, 1.0, 2.0, 5.0, forward=True)
    assert np.isfinite(s[0]) and np.isnan(s[1])
    u = 1.0 * s[0] / (2.0 + s[0]) + 1.0 * s[0] / (5.0 + s[0])
    np.testing.assert_allclose(u, 1.0, rtol=1e-14)


# -- steady state: residual, mass balance, stability, restarts ----------------------------------------
@pytest.fixture(scope="module", params=[(s, r) for s in SETS for r in ("none", "reference")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def solved(request):
    parameter_set, rescale = request.param
    adapter = MimicsAdapter(parameter_set=parameter_set, beta_rescale=rescale)
    theta, forcing = adapter.default_theta(64), random_forcing(adapter, 64)
    result = adapter.steady_state(theta, forcing)
    assert result.ok.all(), result.message[~result.ok]
    return adapter, theta, forcing, result


def test_fixed_point_residual(solved):
    adapter, theta, forcing, result = solved
    dpools, _ = adapter.tendencies(theta, forcing, result.pools)
    c_input = forcing[:, adapter.driver_names.index("c_input")]
    assert (np.abs(dpools).max(axis=1) <= solver.CHECK_RESIDUAL * c_input).all()


def test_mass_balance(solved):
    adapter, theta, forcing, result = solved
    c_input = forcing[:, adapter.driver_names.index("c_input")]
    np.testing.assert_allclose(result.get("respiration"), c_input, rtol=1e-10)
    pools = result.pools * np.random.default_rng(4).uniform(0.5, 1.5, result.pools.shape)
    dpools, fluxes = adapter.tendencies(theta, forcing, pools)
    budget = c_input - fluxes["respiration"] - fluxes["leaching"]
    np.testing.assert_allclose(dpools.sum(axis=1), budget, rtol=0, atol=1e-12 * np.abs(dpools).sum())
    np.testing.assert_array_equal(fluxes["leaching"], 0.0)


def test_cue_bulk_is_growth_over_uptake(solved):
    adapter, theta, forcing, result = solved
    _, fluxes = adapter.tendencies(theta, forcing, result.pools)
    np.testing.assert_allclose(result.get("cue_bulk"), fluxes["growth"] / fluxes["uptake"], rtol=1e-15)
    # at steady state growth = turnover and uptake - growth = CO2 = c_input
    np.testing.assert_allclose(fluxes["uptake"] - fluxes["growth"], fluxes["respiration"], rtol=1e-12)
    assert ((result.get("cue_bulk") > 0) & (result.get("cue_bulk") < 1)).all()


def test_steady_states_are_stable(solved):
    adapter, theta, forcing, result = solved
    kin, factor = adapter._system(theta, forcing)
    native = result.pools.T / factor
    assert (np.linalg.eigvals(eq.jacobian(native, kin)).real.max(axis=1) < 0).all()
    assert (native[[eq.MIC_R, eq.MIC_K]] > solver.MIC_MIN).all()


@pytest.mark.parametrize("parameter_set", SETS)
def test_restarts_from_distant_states_agree(parameter_set):
    """Spec section 7: restarts from distant states return the same state (~1e-15)."""
    adapter = MimicsAdapter(parameter_set=parameter_set)
    kin, _ = adapter._system(adapter.default_theta(64), random_forcing(adapter, 64, betas=(1.0, 1.5)))
    base, status, _ = solver.steady_state(kin)
    assert (status == solver.OK).all()
    rng = np.random.default_rng(5)
    starts = [solver.spec_guess(64), 100.0 * solver.spec_guess(64), 0.01 * solver.spec_guess(64),
              np.exp(rng.uniform(np.log(1e-4), np.log(100.0), (eq.N_POOLS, 64)))]
    for y0 in starts:
        pools, status, _ = solver.steady_state(kin, y0)
        assert (status == solver.OK).all()
        np.testing.assert_allclose(pools, base, rtol=1e-13)


def test_fallback_integration_reaches_the_newton_state():
    """LSODA to t = 1e8 h from the spec's start lands next to the root; Newton then meets it."""
    adapter = MimicsAdapter()
    kin, _ = native_system(adapter, **M2, cue_scale=0.6)
    direct, status, _ = solver.steady_state(kin)
    end, failure = solver.integrate(kin.take(0), solver.DEFAULT_GUESS)
    assert failure == ""
    # the slowest mode (~1e-7 h-1) has decayed by e^-10 or more at 1e8 h
    np.testing.assert_allclose(end, direct[:, 0], rtol=1e-3)
    again, converged = solver.newton(kin, end[:, None])
    assert converged.all()
    np.testing.assert_allclose(again, direct, rtol=1e-13)


def test_spec_jacobian_would_drive_microbes_to_zero():
    """Why the exact Jacobian of f/y: the spec's diag(1/y) J diag(y) has MIC = 0 as an attractor.

    An ordinary warm site, which the solver handles from the spec's start; with the shift f/y
    removed, the same Newton iteration (step scaled to max|dz| <= 2) takes a microbial pool
    towards 0, as it did for about 30 % of random rows in the benchmark ranges.
    """
    adapter = MimicsAdapter()
    kin, _ = native_system(adapter, c_input=724.0, cue_scale=0.89, temperature=23.0, clay=33.0, lignin_n=27.0)
    pools, status, _ = solver.steady_state(kin, solver.spec_guess(1))
    assert status[0] == solver.OK and pools[eq.MIC_K, 0] > 1e-3
    y = solver.spec_guess(1)
    with np.errstate(all="ignore"):
        for _ in range(60):
            p = eq.partials(y, kin)
            f, _ = eq.tendencies(y, kin, p)
            dz = solver.newton_step(p, kin, f, np.zeros_like(f)) / y
            y = y * np.exp(dz * np.minimum(1.0, solver.MAX_STEP / np.abs(dz).max(axis=0)))
    assert min(y[eq.MIC_R, 0], y[eq.MIC_K, 0]) < solver.MIC_MIN


# -- beta and its rescaling ---------------------------------------------------------------------------
@pytest.mark.parametrize("parameter_set", ["gmd2015_fwd", "stode_rev_beta"])
def test_reference_rescaling_makes_the_reference_site_independent_of_beta(parameter_set):
    adapter = MimicsAdapter(parameter_set=parameter_set, beta_rescale="reference")
    result = adapter.evaluate(**REFERENCE_SITE, beta=np.array([1.0, 1.25, 1.5, 2.0]))
    assert result.ok.all(), result.message
    np.testing.assert_allclose(result.pools[1:], np.repeat(result.pools[:1], 3, axis=0), rtol=1e-12)
    plain = MimicsAdapter(parameter_set=parameter_set).evaluate(**REFERENCE_SITE, beta=1.0)
    np.testing.assert_array_equal(result.pools[0], plain.pools[0])  # R = 1 exactly at beta = 1


def test_stode_rev_beta_reference_biomass_is_case_m4():
    """Spec section 5: for stode_rev_beta, MICx_ref = check M4 / 300."""
    adapter = MimicsAdapter(parameter_set="stode_rev_beta", beta_rescale="reference")
    forcing = adapter.make_forcing(1, **REFERENCE_SITE, beta=1.5)
    r_r, r_k = adapter._rescaling(adapter.default_theta(1), forcing)
    assert_printed(r_r[0] ** (1.0 / (1.0 - 1.5)) * 300.0, "37.7954")
    assert_printed(r_k[0] ** (1.0 / (1.0 - 1.5)) * 300.0, "39.8783")


def test_rescaling_follows_the_parameter_row():
    """MICx_ref is solved per parameter row; rows at beta = 1 keep R = 1 exactly."""
    adapter = MimicsAdapter(beta_rescale="reference")
    theta = adapter.default_theta(3, v_slope=0.063)
    theta[2, adapter.parameter_names.index("v_slope")] = 0.07
    forcing = adapter.make_forcing(3, beta=np.array([1.0, 2.0, 2.0]))
    r_r, r_k = adapter._rescaling(theta, forcing)
    assert r_r[0] == 1.0 and r_k[0] == 1.0
    assert r_r[1] != r_r[2] and r_k[1] != r_k[2]
    alone = adapter._rescaling(theta[2:], forcing[2:])
    assert (r_r[2], r_k[2]) == (alone[0][0], alone[1][0])


@pytest.mark.parametrize("parameter_set", ["gmd2015_fwd", "stode_rev_beta"])
def test_site_rescaling_makes_the_anchor_independent_of_beta(parameter_set):
    """``site``: at the anchor every beta has the beta = 1 pools; elsewhere beta matters again,
    and ``reference`` (anchored at REFERENCE_SITE) is another rescaling."""
    site = MimicsAdapter(parameter_set=parameter_set, beta_rescale="site", anchor=ANCHOR)
    betas = np.array([1.0, 1.25, 1.5, 2.0])
    result = site.evaluate(**ANCHOR, beta=betas)
    assert result.ok.all(), result.message
    np.testing.assert_allclose(result.pools[1:], np.repeat(result.pools[:1], 3, axis=0), rtol=1e-12)
    plain = MimicsAdapter(parameter_set=parameter_set).evaluate(**ANCHOR, beta=1.0)
    np.testing.assert_array_equal(result.pools[0], plain.pools[0])  # R = 1 exactly at beta = 1
    away = site.evaluate(**{**ANCHOR, "c_input": 700.0, "temperature": 20.0}, beta=betas).get("soc")
    assert np.abs(away[1:] / away[0] - 1.0).min() > 1e-3
    reference = MimicsAdapter(parameter_set=parameter_set, beta_rescale="reference")
    assert abs(reference.evaluate(**ANCHOR, beta=2.0).get("soc")[0] / result.get("soc")[0] - 1.0) > 1e-3


def test_site_rescaling_follows_the_parameter_row():
    """MICx_site is solved per parameter row at the anchor: each row keeps its own beta = 1 state there."""
    site = MimicsAdapter(beta_rescale="site", anchor=ANCHOR)
    theta = site.default_theta(3, v_slope=np.array([0.063, 0.07, 0.063]))
    beta2 = site.steady_state(theta, site.make_forcing(3, **ANCHOR, beta=2.0))
    beta1 = site.steady_state(theta, site.make_forcing(3, **ANCHOR, beta=1.0))
    assert beta2.ok.all() and beta1.ok.all()
    np.testing.assert_allclose(beta2.pools, beta1.pools, rtol=1e-12)
    assert beta2.get("soc")[0] == beta2.get("soc")[2] != beta2.get("soc")[1]


def test_site_needs_a_valid_anchor():
    with pytest.raises(ParameterError, match="beta_rescale 'site' needs an anchor"):
        MimicsAdapter(beta_rescale="site")
    for anchor, text in (({"moisture": 0.3}, "'moisture' is not a driver of mimics"),
                         ({"c_input": "400"}, "c_input='400' must be a finite number"),
                         ({"c_input": np.nan}, "c_input=nan must be a finite number"),
                         ({"clay": True}, "clay=True must be a finite number"),
                         ([("c_input", 400.0)], "option 'anchor' must be of type dict")):
        with pytest.raises(ParameterError, match=text):
            MimicsAdapter(beta_rescale="site", anchor=anchor)
    # ignored by the other modes, reported and rebuilt from get_options(), picklable
    reference = MimicsAdapter(beta_rescale="reference", anchor={"c_input": 400})
    np.testing.assert_array_equal(reference.evaluate(beta=2.0).pools, MimicsAdapter(beta_rescale="reference")
                                  .evaluate(beta=2.0).pools)
    site = MimicsAdapter(beta_rescale="site", anchor={"temperature": 12, "beta": 3.0, "c_input": 400})
    options = site.get_options()
    assert options["anchor"] == {"c_input": 400.0, "temperature": 12.0, "beta": 3.0}
    assert list(options["anchor"]) == ["c_input", "temperature", "beta"]  # driver order
    options["anchor"]["c_input"] = 1.0  # a copy: the adapter keeps its anchor
    assert site.get_options()["anchor"]["c_input"] == 400.0
    result = site.evaluate(c_input=400.0, temperature=12.0, beta=np.array([1.0, 2.0]))  # beta = 1 at the anchor
    np.testing.assert_allclose(result.pools[1], result.pools[0], rtol=1e-12)
    for copy in (pickle.loads(pickle.dumps(site)), MimicsAdapter(**site.get_options())):
        np.testing.assert_array_equal(copy.evaluate(beta=2.0).pools, site.evaluate(beta=2.0).pools)


def test_site_rows_fail_where_the_anchor_does():
    """Rows with beta != 1 fail (and only they) when the anchor breaks a cross-constraint, lies
    outside a driver's range or has no beta = 1 steady state; the message says so."""
    beta = np.array([1.0, 2.0])
    cases = [
        ({"clay": 95.0}, Status.OUT_OF_DOMAIN, "beta_rescale 'site': at the anchor site, clay=95 % with lignin_n=20 "
         "gives fAVAI_r"),
        ({"temperature": 60.0}, Status.OUT_OF_DOMAIN,
         "beta_rescale 'site': at the anchor site, driver temperature=60.0 [degC] is outside [-20, 50]"),
        ({"temperature": -20.0, "cue_scale": 0.2}, Status.SOLVER_FAILED,
         "beta_rescale='site': the steady state of this parameter row at the anchor site (beta = 1) failed"),
    ]
    for anchor, status, text in cases:
        result = MimicsAdapter(beta_rescale="site", anchor=anchor).evaluate(beta=beta)
        assert result.status[0] == Status.OK and result.status[1] == status, (anchor, result.message)
        assert text in result.message[1], result.message[1]
        assert np.isnan(result.pools[1]).all()


def test_build_member_anchors_site_at_the_baseline():
    """A scenario's ``beta_rescale: site`` member is anchored at its baseline: there its SOC is
    the beta = 1 member's; ``reference`` members are built as before."""
    site = build_member("mimics", {"beta": 2.0, "beta_rescale": "site"}, FLAGSHIP, {})
    linear = build_member("mimics", {"beta": 1.0}, FLAGSHIP, {})
    anchor = site.adapter.get_options()["anchor"]
    assert anchor == {k: v for k, v in site.drivers.items() if k != "beta"}
    assert anchor == {k: FLAGSHIP[k] for k in ("c_input", "cue_scale", "temperature", "clay", "lignin_n",
                                                "mic_turnover_scale")}
    soc = [m.adapter.steady_state(m.theta(1), m.forcing(1)).get("soc")[0] for m in (site, linear)]
    np.testing.assert_allclose(soc[0], soc[1], rtol=1e-12)
    assert site.label == "mimics[beta=2.0, beta_rescale=site]" and site.drivers["beta"] == 2.0
    reference = build_member("mimics", {"beta": 2.0, "beta_rescale": "reference"}, FLAGSHIP, {})
    assert reference.adapter.get_options()["anchor"] == {}
    assert abs(reference.adapter.steady_state(reference.theta(1), reference.forcing(1)).get("soc")[0] / soc[1]
               - 1.0) > 1e-3
    explicit = build_member("mimics", {"beta_rescale": "site", "anchor": {"c_input": 500.0}}, FLAGSHIP, {})
    assert explicit.adapter.get_options()["anchor"] == {"c_input": 500.0}  # an explicit anchor is kept


# -- behaviour in c_input, variants --------------------------------------------------------------------
def _elasticity(result, key: str) -> float:
    values = result.get(key)
    return float(np.log(values[1] / values[0]) / np.log(1.01))


def test_forward_beta_one_responds_to_c_input_only_through_m():
    """gmd2015_fwd at beta = 1 is homogeneous in (input, microbes): with M held fixed (s ~ 1/M),
    every substrate pool is independent of c_input and MIC and SOMp scale with it, exactly. So
    the litter and SOMa responses come from M = sqrt(c_input/100) alone (spec sections 4-5)."""
    adapter = MimicsAdapter()
    c_input = np.array([250.0, 500.0, 1000.0])
    held = adapter.evaluate(c_input=c_input, mic_turnover_scale=np.sqrt(500.0 / c_input))
    for pool in ("lit_m", "lit_s", "som_c", "som_a"):
        np.testing.assert_allclose(held.pool(pool), held.pool(pool)[1], rtol=1e-10)
    for key in ("mic", "maom"):
        np.testing.assert_allclose(held.get(key) / c_input, held.get(key)[1] / 500.0, rtol=1e-10)
    free = adapter.evaluate(c_input=np.array([500.0, 505.0]))
    assert 0.5 < _elasticity(free, "soc") < 1.0
    assert 0.4 < _elasticity(free, "litter") < 0.6  # ~ sqrt: the substrates follow M


@pytest.mark.parametrize("parameter_set", ["gmd2015_fwd", "stode_rev_beta"])
def test_soc_responds_to_c_input_at_beta_two(parameter_set):
    adapter = MimicsAdapter(parameter_set=parameter_set, beta_rescale="reference")
    result = adapter.evaluate(c_input=np.array([500.0, 505.0]), beta=2.0)
    assert _elasticity(result, "soc") > 0.5
    assert _elasticity(result, "litter") > 0.3
    # density dependence breaks the beta = 1 homogeneity: with M held fixed litter still responds
    if parameter_set == "gmd2015_fwd":
        c_input = np.array([500.0, 505.0])
        held = adapter.evaluate(c_input=c_input, mic_turnover_scale=np.sqrt(500.0 / c_input), beta=2.0)
        assert _elasticity(held, "litter") > 0.1


SITES = {"c_input": np.array([150.0, 500.0, 900.0]), "temperature": np.array([5.0, 15.0, 25.0]),
         "clay": np.array([10.0, 20.0, 45.0]), "lignin_n": np.array([10.0, 20.0, 35.0])}


def test_variants_give_different_steady_states():
    results = [MimicsAdapter(parameter_set=s).evaluate(**SITES, beta=1.0) for s in SETS]
    for i in range(len(SETS)):
        assert results[i].ok.all()
        for j in range(i):
            ratio = results[i].get("soc") / results[j].get("soc")
            assert (np.abs(np.log(ratio)) > 0.005).any(), (SETS[i], SETS[j], ratio)


def test_mixing_kinetics_and_parameter_column_shifts_soc():
    """Pitfall 5: forward MM with the sandbox column (Kslope, KO 6) moves SOC, by less than 2x."""
    adapter = MimicsAdapter()
    sandbox = {f"k_slope_{j}": v for j, v in enumerate(K_SLOPE["sandbox"], start=1)} | {"ko_1": 6.0, "ko_2": 6.0}
    ratio = adapter.evaluate(sandbox, **SITES).get("soc") / adapter.evaluate(**SITES).get("soc")
    assert ((np.abs(np.log(ratio)) > 0.01) & (np.abs(np.log(ratio)) < np.log(2.0))).all(), ratio


def test_depth_sets_units_only_through_the_input_and_the_report():
    """Pools are reported x 10 depth g C m-2 per mgC cm-3; I = c_input / (8760 x 10 depth)."""
    adapter = MimicsAdapter()
    result = adapter.evaluate({"depth": 15.0}, **M2)
    kin, factor = native_system(adapter, **M2)
    assert factor[0] == 300.0
    kin15, factor15 = adapter._system(adapter.default_theta(1, depth=15.0), adapter.make_forcing(1, **M2))
    np.testing.assert_allclose(kin15.i_tot, 2.0 * kin.i_tot, rtol=1e-15)
    pools, status, _ = solver.steady_state(kin15)
    np.testing.assert_allclose(result.pools[0], 150.0 * pools[:, 0], rtol=1e-15)
    np.testing.assert_allclose(result.get("respiration"), 500.0, rtol=1e-10)


# -- batches and the domain ------------------------------------------------------------------------------
@pytest.mark.parametrize("rescale", ["none", "reference", "site"])
def test_random_batch_in_benchmark_ranges_is_solved(rescale):
    adapter = MimicsAdapter(beta_rescale=rescale, anchor=ANCHOR)
    forcing = random_forcing(adapter, 1000, seed=7)
    result = adapter.steady_state(adapter.default_theta(1000), forcing)
    assert np.isfinite(result.pools[result.ok]).all() and np.isfinite(result.outputs[result.ok]).all()
    assert np.isnan(result.pools[~result.ok]).all() and all(result.message[~result.ok])
    assert result.ok.all()  # measured: 100 % of 1e5 such rows converge


@pytest.mark.parametrize("rescale", ["none", "reference", "site"])
def test_batch_equals_row_loop(rescale):
    adapter = MimicsAdapter(beta_rescale=rescale, anchor=ANCHOR)
    rng = np.random.default_rng(8)
    theta = adapter.default_theta(12)
    theta[6:, adapter.parameter_names.index("v_slope")] = rng.uniform(0.055, 0.07, 6)
    forcing = random_forcing(adapter, 12, seed=8)
    batch = adapter.steady_state(theta, forcing)
    for i in range(12):
        row = adapter.steady_state(theta[i : i + 1], forcing[i : i + 1])
        np.testing.assert_array_equal(row.pools[0], batch.pools[i])
        np.testing.assert_array_equal(row.outputs[0], batch.outputs[i])


def test_out_of_domain_rows_are_isolated():
    adapter = MimicsAdapter()
    rows = [
        ({}, {}, None),
        ({}, {"c_input": 0.0}, "c_input=0.0"),
        ({}, {"lignin_n": 65.38}, "lignin_n=65.38"),
        ({}, {"clay": 95.0}, "fAVAI_r = 1 - fPHYS_r - fCHEM_r = -0.0485"),
        ({}, {"cue_scale": 4.0 / 3.0}, "cue_scale=1.33333"),
        ({"mge_3": 0.9}, {"cue_scale": 1.2}, "e3 = cue_scale x mge_3 to 1.08; it must be < 1"),
        ({"fmet_p_3": 0.05}, {"lignin_n": 20.0}, "fMET must lie in (0, 1)"),
        ({}, {"beta": 0.9}, "beta=0.9"),
        ({}, {"mic_turnover_scale": 0.0}, "mic_turnover_scale=0.0"),
        ({}, {"temperature": 25.0, "clay": 40.0}, None),
    ]
    theta = np.vstack([adapter.default_theta(1, **p) for p, _, _ in rows])
    forcing = np.vstack([adapter.make_forcing(1, **d) for _, d, _ in rows])
    result = adapter.steady_state(theta, forcing)
    for i, (_, _, text) in enumerate(rows):
        if text is None:
            alone = adapter.steady_state(theta[i : i + 1], forcing[i : i + 1])
            assert result.status[i] == Status.OK
            np.testing.assert_array_equal(result.outputs[i], alone.outputs[0])
        else:
            assert result.status[i] == Status.OUT_OF_DOMAIN
            assert text in result.message[i], result.message[i]
            assert np.isnan(result.pools[i]).all()


def test_stode_rev_npp_rejects_beta_other_than_one():
    adapter = MimicsAdapter(parameter_set="stode_rev_npp")
    result = adapter.evaluate(beta=np.array([1.0, 1.5]))
    assert list(result.status) == [Status.OK, Status.OUT_OF_DOMAIN]
    assert "parameter_set 'stode_rev_npp' fixes beta = 1" in result.message[1]


def test_failing_case_is_rejected():
    case = MimicsAdapter.failing_case
    result = MimicsAdapter().evaluate(dict(case.parameters), **case.drivers)
    assert result.status[0] == Status.OUT_OF_DOMAIN
    assert "clay <= 91.29 %" in result.message[0]


@pytest.mark.parametrize(("drivers", "text"), [
    # a Hopf point: the fixed point exists but a complex pair has Re > 0; the trajectory cycles
    ({"c_input": 1161.0, "cue_scale": 0.5841, "temperature": 0.2109, "clay": 8.838, "lignin_n": 17.61,
      "mic_turnover_scale": 1.471}, ("unstable steady state",)),
    # too cold for the r-strategists at this CUE: they die out. Which check reports it depends on
    # how far the LSODA fall-back gets (scipy 1.11 stops on its step limit with MIC ~ 1e-320)
    ({"temperature": -20.0, "cue_scale": 0.2}, ("microbial collapse", "min(mic_r, mic_k) = ")),
])
def test_rows_without_a_stable_steady_state_are_flagged(drivers, text):
    adapter = MimicsAdapter()
    forcing = np.vstack([adapter.make_forcing(1, **drivers), adapter.make_forcing(1)])
    result = adapter.steady_state(adapter.default_theta(2), forcing)
    assert result.status[0] in (Status.NOT_CONVERGED, Status.SOLVER_FAILED)
    assert any(t in result.message[0] for t in text), result.message[0]
    assert np.isnan(result.pools[0]).all() and np.isnan(result.outputs[0]).all()
    assert result.status[1] == Status.OK

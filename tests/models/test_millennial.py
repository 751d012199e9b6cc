"""Tests of Millennial v2 against ``docs/models/millennial.md`` (sections 4, 5, 7 and 8).

Tolerances: the spec's rtol 1e-6 for its printed numbers plus half a unit of the last printed
digit (``ReferenceCase.checks``, which is the spec's formula ``1e-6 |v| + 0.5 10^(floor(log10|v|)-5)``
for 6 significant digits); 1e-13 between the vectorised root and scipy's ``brentq`` (both solve to
~1e-15, the rest is the conditioning of h); 1e-12 for identities that hold up to round-off (N3
against its printed cue_scale, beta invariance of the rescaled reference state, mass balance);
spec section 7 step 4 (1e-10 residual, 1e-9 balance) for verified steady states; bit identity
where the spec says a quantity does not depend on an input at all.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq, root

from harness.adapter import Interval, ParameterError, ReferenceCase, Status, metadata_problems
from models.millennial import MillennialAdapter
from models.millennial import equations as eq
from models.millennial.parameters import LEACHING, PARAMETERS, REFERENCE_SITE

RTOL = 1e-6  # spec section 8
N1 = dict(REFERENCE_SITE)
#: an anchor off the reference site (the flagship scenario's shared site, Millennial's drivers)
FLAGSHIP = {"c_input": 400.0, "cue_scale": 1.0, "temperature": 15.0, "moisture": 0.30, "clay": 20.0, "silt": 40.0,
            "ph": 6.5, "mic_turnover_scale": 1.0}


@pytest.fixture(scope="module")
def adapter():
    return MillennialAdapter()


@pytest.fixture(scope="module")
def rescaled():
    return MillennialAdapter(beta_rescale="reference")


def assert_printed(actual, text: str, rtol: float = RTOL) -> None:
    """``actual`` matches the spec's printed ``text`` to rtol plus half a unit in its last digit."""
    ((_, value, tolerance),) = ReferenceCase("printed", {}, {"x": text}, "spec", rtol).checks()
    assert abs(float(actual) - value) <= tolerance, f"{actual!r} != {text} (printed)"


def rates_at(adapter, parameters=None, **drivers) -> eq.Rates:
    theta = adapter.default_theta(1, **(parameters or {}))
    return adapter._rates(theta, adapter.make_forcing(1, **{**N1, **drivers}))


def random_inputs(adapter, n: int, seed: int = 20240611, betas=(1.0, 1.5, 2.0)):
    """The benchmark's random sites around N1 (spec section 7's valid ranges)."""
    rng = np.random.default_rng(seed)
    forcing = adapter.make_forcing(
        n, c_input=rng.uniform(0.5, 1.5, n) * N1["c_input"], cue_scale=rng.uniform(0.75, 1.25, n),
        temperature=rng.uniform(5.0, 25.0, n), moisture=rng.uniform(0.15, 0.45, n),
        clay=rng.uniform(10.0, 40.0, n), silt=rng.uniform(20.0, 50.0, n),
        mic_turnover_scale=rng.uniform(0.5, 1.5, n), beta=rng.choice(betas, n),
    )
    return adapter.default_theta(n), forcing


def column(adapter, name: str) -> int:
    return adapter.driver_names.index(name)


# -- metadata and options ----------------------------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"parameter_set": "default"}, {"beta_rescale": "reference"}])
def test_metadata_complete(options):
    model = MillennialAdapter(**options)
    assert metadata_problems(model) == []
    assert model.outputs == ("soc", "soc_total", "litter", "mic", "maom", "pom", "respiration", "cue_bulk")
    assert {p.kind for p in model.pools} == {"pom", "doc", "agg", "mic", "maom"}
    assert not {"sand", "lignin_n", "beta_enz"} & set(model.driver_names)
    assert all("doi:" in p.reference for p in model.parameters)


def test_parameter_sets():
    fit, default = (MillennialAdapter(parameter_set=s).parameters for s in ("fit", "default"))
    assert fit is PARAMETERS["fit"] and default is PARAMETERS["default"]
    assert [p.name for p in fit] == [p.name for p in default] and len(fit) == 26
    differ = {p.name for p, q in zip(fit, default) if p.default != q.default}
    assert differ == {"kaff_pl", "alpha_pl", "eact_pl", "rate_pa", "rate_break", "param_p1", "kaff_lb",
                      "alpha_lb", "eact_lb", "rate_bd", "rate_ma", "cue_ref"}
    values = dict(zip([p.name for p in default], [p.default for p in default]))
    assert (values["kaff_lb"], values["rate_bd"], values["cue_ref"]) == (290.0, 0.0036, 0.6)
    with pytest.raises(ParameterError, match="parameter_set"):
        MillennialAdapter(parameter_set="calibrated")
    with pytest.raises(ParameterError, match="beta_rescale"):
        MillennialAdapter(beta_rescale="yes")


# -- section 8: published steady states ----------------------------------------------------------
@pytest.mark.parametrize("case", MillennialAdapter.reference_cases, ids=lambda c: c.name)
def test_reference_case(case):
    model = MillennialAdapter(**case.options)
    theta = model.default_theta(1, **case.parameters)
    forcing = model.make_forcing(1, **case.drivers)
    result = model.steady_state(theta, forcing)
    assert result.ok.all(), result.message
    for key, value, tolerance in case.checks():
        actual = result.get(key)[0]
        assert abs(actual - value) <= tolerance, f"{key}: {actual!r} vs {value!r} ± {tolerance:.3g}"
    _, fluxes = model.tendencies(theta, forcing, result.pools)
    assert_printed(fluxes["leaching"][0], LEACHING[case.name.split()[0]])


def test_n3_is_cue_scale_on_the_fit_set(adapter):
    """N3 (cue_ref 0.30) equals cue_ref 0.19 with cue_scale 1.46735983105282: only CUE matters."""
    n3 = adapter.evaluate({"cue_ref": 0.30}, **N1)
    scaled = adapter.evaluate(**{**N1, "cue_scale": 1.46735983105282})
    assert n3.ok.all() and scaled.ok.all()
    # the printed cue_scale carries 15 digits: CUE agrees to ~1e-15, the pools to ~1e-14
    np.testing.assert_allclose(scaled.pools, n3.pools, rtol=1e-12)
    np.testing.assert_allclose(scaled.outputs, n3.outputs, rtol=1e-12)


def test_derived_values_of_section_4(adapter):
    p = dict(zip(adapter.parameter_names, adapter.default_theta(1)[0]))
    w_d, w_b = eq.moisture_scalars(N1["moisture"], p["porosity"], p["matpot"], p["lambda_"], p["kamin"])
    assert_printed(w_d, "0.635353")
    assert_printed(w_b, "0.517943")
    assert_printed(np.exp(-p["lambda_"] * p["matpot"]), "0.99686")
    assert_printed(eq.arrhenius(p["alpha_pl"], p["eact_pl"], N1["temperature"]), "3.28342")
    assert_printed(eq.arrhenius(p["alpha_lb"], p["eact_lb"], N1["temperature"]), "54.0701")
    assert_printed(eq.carbon_use_efficiency(N1["temperature"], p["cue_ref"], p["cue_t"], p["tae_ref"]), "0.235365")
    assert_printed(eq.sorption_affinity(N1["ph"], p["kaff_des"], p["param_p1"], p["param_p2"]), "0.347844")
    assert_printed(eq.sorption_capacity(p["param_bulkd"], p["param_pc"], N1["clay"] + N1["silt"]), "68800")
    assert N1["c_input"] == pytest.approx(365 * 0.473692575342466, rel=1e-15)


def test_eigenvalues_at_n1(adapter):
    result = adapter.evaluate(**N1)
    values = np.linalg.eigvals(eq.jacobian(result.pools, rates_at(adapter)))[0]
    values = values[np.argsort(values.real)]
    for value, text in zip(values.real, ("-0.42", "-0.016", "-0.016", "-0.012", "-1.6e-4")):
        assert_printed(value, text, rtol=0.0)
    assert values[1].imag == -values[2].imag != 0.0  # the complex pair
    assert (values[[0, 3, 4]].imag == 0.0).all()


def test_jacobian_matches_finite_differences(adapter):
    theta, forcing = random_inputs(adapter, 8, betas=(1.0, 1.5, 2.0, 3.0))
    rates = adapter._rates(theta, forcing)
    pools = eq.steady_state(rates).pools * 1.1  # away from the fixed point, all pools > 0
    jac = eq.jacobian(pools, rates)
    for j in range(5):
        step = np.zeros_like(pools)
        step[:, j] = 1e-6 * pools[:, j]
        diff = (eq.tendencies(pools + step, rates)[0] - eq.tendencies(pools - step, rates)[0]) / (2 * step[:, [j]])
        # central differences: truncation ~1e-12 relative, cancellation ~1e-10 of the largest entry
        np.testing.assert_allclose(diff, jac[:, :, j], rtol=1e-6, atol=1e-8 * np.abs(jac).max())


# -- section 7: the semi-analytic steady state ---------------------------------------------------
def _balance(lmwc: float, rates: eq.Rates) -> float:
    return float(eq.system_balance(np.array([lmwc]), rates)[0])


def test_root_matches_brentq_per_row(adapter):
    theta, forcing = random_inputs(adapter, 200, betas=(1.05, 1.5, 2.0, 3.0, 10.0))
    rates = adapter._rates(theta, forcing)
    lmwc, converged = eq.lmwc_root(rates)
    assert converged.all()
    eps = np.finfo(float).eps
    for i in range(theta.shape[0]):
        row = eq.Rates(*(np.atleast_1d(np.broadcast_to(f, rates.inputs.shape)[i]) for f in rates))
        upper = row.inputs[0] / (row.k_leach[0] * row.w_d[0])  # h(upper) > 0
        expected = brentq(_balance, 0.0, upper, args=(row,), xtol=1e-300, rtol=4 * eps, maxiter=500)
        assert abs(lmwc[i] - expected) <= 1e-13 * expected, (i, lmwc[i], expected)
    # and h vanishes there, relative to the input it balances
    assert (np.abs(eq.system_balance(lmwc, rates)) <= 1e-13 * rates.inputs).all()


def test_full_newton_agrees_with_the_reduction(adapter):
    """An independent 5-D solve of dX/dt = 0 from a 1 % perturbation lands on the same state."""
    rates = rates_at(adapter)
    pools = adapter.evaluate(**N1).pools

    def residual(pools_1d):
        return eq.tendencies(pools_1d[None], rates)[0][0] / rates.inputs[0]

    solution = root(residual, pools[0] * 1.01, method="hybr", options={"xtol": 1e-13})
    assert np.abs(residual(solution.x)).max() <= 1e-12
    np.testing.assert_allclose(solution.x, pools[0], rtol=1e-9)


def test_verified_steady_states(adapter):
    """Every OK row meets spec section 7, step 4."""
    theta, forcing = random_inputs(adapter, 500)
    result = adapter.steady_state(theta, forcing)
    ok = result.ok
    rates = adapter._rates(theta[ok], forcing[ok])
    dpools, fluxes = eq.tendencies(result.pools[ok], rates)
    assert (np.abs(dpools).max(axis=1) <= 1e-10 * rates.inputs).all()
    assert (result.pools[ok] > 0).all() and (result.pool("maom")[ok] < rates.q_max).all()
    assert (np.linalg.eigvals(eq.jacobian(result.pools[ok], rates)).real < 0).all()
    np.testing.assert_allclose(fluxes["f_r"] + fluxes["f_le"], rates.inputs, rtol=1e-9)


def test_mass_balance(adapter):
    theta, forcing = random_inputs(adapter, 64)
    result = adapter.steady_state(theta, forcing)
    ok = result.ok
    c_input = forcing[ok, column(adapter, "c_input")]
    _, fluxes = adapter.tendencies(theta[ok], forcing[ok], result.pools[ok])
    np.testing.assert_allclose(fluxes["respiration"] + fluxes["leaching"], c_input, rtol=1e-12)
    pools = result.pools[ok] * np.random.default_rng(1).uniform(0.5, 1.5, result.pools[ok].shape)
    dpools, fluxes = adapter.tendencies(theta[ok], forcing[ok], pools)
    budget = c_input - fluxes["respiration"] - fluxes["leaching"]
    # round-off of a sum of fluxes of order c_input
    np.testing.assert_allclose(dpools.sum(axis=1), budget, rtol=0, atol=1e-12 * c_input.max())
    np.testing.assert_allclose(fluxes["growth"] / fluxes["uptake"], result.get("cue_bulk")[ok], rtol=1e-15)


def test_microbe_free_state_is_invariant_but_never_returned(adapter):
    """MIC = 0 stays 0 (flux guards) and leaches all input at LMWC = I/(k_leach w_d) (spec 7)."""
    rates = rates_at(adapter)
    lmwc = rates.inputs / (rates.k_leach * rates.w_d)
    pom, agg, maom = eq.mineral_pools(lmwc, np.zeros(1), rates)  # no depolymerisation, no turnover
    state = np.column_stack([pom, lmwc, agg, np.zeros(1), maom])
    dpools, fluxes = eq.tendencies(state, rates)
    np.testing.assert_allclose(dpools, 0.0, atol=1e-12 * rates.inputs[0])
    assert fluxes["f_lb"][0] == 0.0 and fluxes["f_bt"][0] == 0.0 and fluxes["f_le"][0] == rates.inputs[0]
    assert adapter.evaluate(**N1).pool("mic")[0] > 1.0


# -- documented behaviour ------------------------------------------------------------------------
def test_soc_falls_as_cue_rises_with_the_fit_set(adapter):
    soc = adapter.evaluate(**{**N1, "cue_scale": np.array([0.8, 1.0, 1.2, 1.4])}).get("soc")
    assert (np.diff(soc) < 0).all(), soc


def test_linear_turnover_lmwc_does_not_depend_on_c_input(adapter):
    result = adapter.evaluate(**{**N1, "beta": 1.0, "c_input": np.array([100.0, 172.89779, 400.0])})
    assert result.ok.all(), result.message
    lmwc = result.pool("lmwc")
    assert lmwc[0] == lmwc[1] == lmwc[2]
    assert (np.diff(result.pool("mic")) > 0).all()


@pytest.mark.parametrize("beta", [1.0, 1.5, 2.0, 3.0])
def test_texture_and_ph_leave_mic_and_lmwc_unchanged(adapter, beta):
    sites = {"clay": np.array([5.0, 20.0, 40.0, 20.0]), "silt": np.array([60.0, 60.0, 50.0, 10.0]),
             "ph": np.array([7.0, 4.5, 7.0, 8.0])}
    result = adapter.evaluate(**{**N1, **sites, "beta": beta})
    assert result.ok.all(), result.message
    for name in ("lmwc", "mic"):
        assert (result.pool(name) == result.pool(name)[0]).all()
    assert np.unique(result.pool("maom")).size == 4


# -- beta_rescale --------------------------------------------------------------------------------
def test_reference_mic_of_the_fit_set(rescaled):
    assert_printed(rescaled._reference_mic(rescaled.default_theta(1))[0], "5.67499")
    assert rescaled._r_beta(rescaled.default_theta(1), np.array([2.0]))[0] == 1.0


def test_rescaled_reference_state_is_the_same_for_every_beta(adapter, rescaled):
    betas = np.array([1.0, 1.5, 2.0, 3.0])
    theta, forcing = rescaled.default_theta(4), rescaled.make_forcing(4, **{**N1, "beta": betas})
    pools = eq.steady_state(rescaled._rates(theta, forcing)).pools
    np.testing.assert_allclose(pools, np.repeat(pools[[2]], 4, axis=0), rtol=1e-12)
    result = rescaled.steady_state(theta, forcing)
    np.testing.assert_allclose(result.pools[1:], np.repeat(pools[[2]], 3, axis=0), rtol=1e-12)
    # at beta = beta0 the option changes nothing
    np.testing.assert_array_equal(result.pools[2], adapter.evaluate(**N1).pools[0])
    # with linear turnover the same state is a saddle (2 eigenvalues > 0): flagged, not returned
    assert result.status[0] == Status.SOLVER_FAILED and "not a stable fixed point" in result.message[0]


def test_reference_mic_is_per_parameter_row(rescaled):
    theta = rescaled.default_theta(3, rate_bd=np.array([0.0045, 0.009, 0.0045]))
    forcing = rescaled.make_forcing(3, **{**N1, "beta": 1.5})
    result = rescaled.steady_state(theta, forcing)
    assert result.ok.all(), result.message
    # each row's own MIC_ref makes N1 its steady state: MIC stays at that row's beta = 2 value
    beta2 = rescaled.steady_state(theta, rescaled.make_forcing(3, **N1))
    np.testing.assert_allclose(result.pool("mic"), beta2.pool("mic"), rtol=1e-12)
    assert result.pool("mic")[0] == result.pool("mic")[2] != result.pool("mic")[1]


@pytest.mark.parametrize("anchor", [FLAGSHIP, {**FLAGSHIP, "cue_scale": 0.9, "mic_turnover_scale": 1.3}])
def test_site_rescaling_makes_the_anchor_state_the_same_for_every_beta(adapter, rescaled, anchor):
    """``site``: MIC_site from the anchor (not the reference site) makes the anchor's beta = 2
    state that of every beta; away from it, and under ``reference``, beta matters."""
    site = MillennialAdapter(beta_rescale="site", anchor=anchor)
    betas = np.array([1.5, 2.0, 2.5, 3.0])
    result = site.evaluate(**anchor, beta=betas)
    assert result.ok.all(), result.message
    np.testing.assert_allclose(result.pools, np.repeat(result.pools[[1]], 4, axis=0), rtol=1e-12)
    np.testing.assert_array_equal(result.pools[1], adapter.evaluate(**anchor).pools[0])  # R = 1 at beta = 2
    mic_site = site._reference_mic(site.default_theta(1))[0]
    np.testing.assert_allclose(mic_site, result.pool("mic")[1], rtol=1e-12)
    away = site.evaluate(**{**anchor, "c_input": 250.0, "temperature": 20.0}, beta=betas).get("soc")
    assert np.abs(np.delete(away, 1) / away[1] - 1.0).min() > 1e-3
    reference = rescaled.evaluate(**anchor, beta=betas).get("soc")
    assert np.abs(np.delete(reference, 1) / reference[1] - 1.0).min() > 1e-3
    # beta = 1 at the anchor: the same fixed point, a saddle under linear turnover (as at N1)
    linear = site.evaluate(**anchor, beta=1.0)
    assert linear.status[0] == Status.SOLVER_FAILED and "not a stable fixed point" in linear.message[0]


def test_site_needs_an_anchor_with_valid_cue_and_moisture():
    with pytest.raises(ParameterError, match="beta_rescale 'site' needs an anchor"):
        MillennialAdapter(beta_rescale="site")
    with pytest.raises(ParameterError, match="'sand' is not a driver of millennial"):
        MillennialAdapter(beta_rescale="site", anchor={**FLAGSHIP, "sand": 40.0})
    # CUE(31 degC) < 0 and moisture above porosity at the anchor: only rows with beta != 2 fail
    beta = np.array([2.0, 1.5])
    for anchor, text in (({"temperature": 31.0}, "beta_rescale 'site': at the anchor site, CUE = cue_scale=1 x "
                          "CUE(temperature=31 degC)=-0.002 = -0.002; it must lie in (0, 1)"),
                         ({"moisture": 0.65}, "beta_rescale 'site': at the anchor site, moisture=0.65 m3 m-3 must "
                          "lie in (0, porosity)")):
        status, message = MillennialAdapter(beta_rescale="site", anchor={**FLAGSHIP, **anchor}).check_domain(
            MillennialAdapter().default_theta(2), MillennialAdapter().make_forcing(2, **FLAGSHIP, beta=beta))
        assert list(status) == [Status.OK, Status.OUT_OF_DOMAIN], message
        assert text in message[1], message[1]


def test_failed_anchor_state_is_flagged(monkeypatch):
    """Rows whose MIC_site is undefined fail with a message naming the anchor."""
    site = MillennialAdapter(beta_rescale="site", anchor=FLAGSHIP)
    monkeypatch.setattr(MillennialAdapter, "_reference_mic", lambda self, theta: np.full(theta.shape[0], np.nan))
    result = site.evaluate(**FLAGSHIP, beta=np.array([2.0, 1.5]))
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED]
    assert "MIC_ref is undefined (here MIC_site) at the anchor site" in result.message[1]


# -- domain and failures -------------------------------------------------------------------------
def test_out_of_domain_rows_are_isolated(adapter):
    # (parameters, drivers on top of N1, text the message must hold or None)
    rows = [
        ({}, {}, None),
        ({}, {"c_input": 0.0}, "c_input=0.0"),
        ({}, {"moisture": 0.6}, "moisture=0.6 m3 m-3 must lie in (0, porosity) = (0, 0.6)"),
        ({"porosity": 0.3}, {"moisture": 0.35}, "moisture=0.35"),
        ({}, {"clay": 60.0, "silt": 50.0}, "clay + silt = 110 % (clay=60, silt=50) must lie in (0, 100]"),
        ({}, {"clay": 0.0, "silt": 0.0}, "clay + silt = 0 %"),
        ({}, {"temperature": 31.0}, "CUE = cue_scale=1 x CUE(temperature=31 degC)=-0.002 = -0.002"),
        ({}, {"cue_scale": 4.5}, "cue_scale=4.5 x CUE(temperature=11.2196 degC)=0.235365 = 1.05914"),
        ({}, {"beta": 0.9}, "beta=0.9"),
        ({}, {"mic_turnover_scale": 0.0}, "mic_turnover_scale=0.0"),
        ({}, {"temperature": np.nan}, "temperature=nan"),
        ({}, {"ph": 3.0, "beta": 1.5}, None),
    ]
    theta = np.vstack([adapter.default_theta(1, **p) for p, _, _ in rows])
    forcing = np.vstack([adapter.make_forcing(1, **{**N1, **d}) for _, d, _ in rows])
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


@pytest.mark.parametrize(("parameter_set", "cold", "warm"), [("fit", 30.82, 30.84), ("default", -18.32, -18.34)])
def test_cue_bounds_in_temperature(parameter_set, cold, warm):
    """fit: CUE <= 0 from T >= 30.83 degC; default: CUE >= 1 from T <= -18.33 degC (spec 7)."""
    model = MillennialAdapter(parameter_set=parameter_set)
    status, message = model.check_domain(model.default_theta(2), model.make_forcing(2, temperature=[cold, warm]))
    assert status[0] == Status.OK and status[1] == Status.OUT_OF_DOMAIN
    assert "must lie in (0, 1)" in message[1]


def test_rescaling_needs_a_valid_reference_site(rescaled):
    # row 1: CUE = 0.98 - 0.012 (25 - 15) = 0.86 at its site, 1.02536 at the reference site
    theta = rescaled.default_theta(3, cue_ref=np.array([0.19, 0.98, 0.98]), porosity=np.array([0.2, 0.6, 0.6]))
    forcing = rescaled.make_forcing(3, **{**N1, "moisture": 0.1, "temperature": 25.0,
                                          "beta": np.array([1.5, 1.5, 2.0])})
    status, message = rescaled.check_domain(theta, forcing)
    assert "porosity=0.2 above the reference moisture 0.242204" in message[0]
    assert "needs CUE at the reference site (temperature=11.2196 degC) in (0, 1); got 1.02536" in message[1]
    assert list(status) == [Status.OUT_OF_DOMAIN, Status.OUT_OF_DOMAIN, Status.OK]  # beta = 2: no R_beta


def test_linear_turnover_infeasible_rows_are_flagged(adapter):
    rates = rates_at(adapter, beta=1.0)
    growth = (rates.cue * rates.v_up / rates.k_b)[0]  # CUE V_up / k_b at mic_turnover_scale 1
    # 0.2 growth: L* = K_lb/4, leaching below I; 0.99 growth: L* = 99 K_lb, leaching > I
    scales = np.array([1.0, 2000.0, 0.99 * growth, 0.2 * growth])
    result = adapter.evaluate(**{**N1, "beta": 1.0, "mic_turnover_scale": scales})
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED, Status.SOLVER_FAILED, Status.OK]
    assert "CUE V_lb w_b = 6.59145 d-1 must exceed k_b = 9 d-1" in result.message[1]
    assert "leaching k_leach w_d L*" in result.message[2] and "must stay below I = 0.473693" in result.message[2]
    assert np.isnan(result.pools[1:3]).all()


def test_failing_case_is_flagged(adapter):
    case = adapter.failing_case
    result = adapter.evaluate(dict(case.parameters), **case.drivers)
    assert result.status[0] == Status.SOLVER_FAILED
    assert "beta = 1 has no positive steady state" in result.message[0]


# -- batches ------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"beta_rescale": "reference"}, {"beta_rescale": "site", "anchor": FLAGSHIP}])
def test_batch_equals_row_loop(options):
    model = MillennialAdapter(**options)
    theta, forcing = random_inputs(model, 24, betas=(1.0, 1.5, 2.0, 3.0))
    theta[::3, model.parameter_names.index("rate_bd")] = 0.006  # two parameter rows
    forcing[5, column(model, "mic_turnover_scale")] = 2000.0  # a failing beta = 1 row or a valid one
    forcing[7, column(model, "moisture")] = 0.7  # out of domain
    batch = model.steady_state(theta, forcing)
    for i in range(theta.shape[0]):
        row = model.steady_state(theta[i : i + 1], forcing[i : i + 1])
        np.testing.assert_array_equal(row.pools[0], batch.pools[i])
        np.testing.assert_array_equal(row.outputs[0], batch.outputs[i])
        assert (row.status[0], row.message[0]) == (batch.status[i], batch.message[i])


@pytest.mark.parametrize("options", [{}, {"beta_rescale": "reference"}, {"parameter_set": "default"}])
def test_random_rows_ok_or_flagged(options):
    model = MillennialAdapter(**options)
    theta, forcing = random_inputs(model, 1000)
    result = model.steady_state(theta, forcing)
    assert np.isin(result.status, [s.value for s in Status]).all()
    ok = result.ok
    assert np.isfinite(result.pools[ok]).all() and np.isfinite(result.outputs[ok]).all()
    assert (result.message[~ok] != "").all() and np.isnan(result.pools[~ok]).all()
    # at these sites the published beta = 2 always solves; rows flagged are unstable fixed points
    # (linear turnover, some beta = 1.5 with R_beta): MIC feeds depolymerisation, turnover damps it
    beta = forcing[:, column(model, "beta")]
    assert ok[beta == 2.0].all(), result.message[~ok & (beta == 2.0)][:3]
    assert all(m.startswith("not a stable fixed point") for m in result.message[~ok])


def test_beta_near_one_joins_the_closed_form(adapter):
    """beta -> 1 from above meets the beta = 1 closed form; B* stays exact (spec 7, steps 1-2)."""
    betas = np.array([1.0, 1.0 + 1e-12, 1.0 + 1e-9, 1.0 + 1e-6])
    result = adapter.evaluate(**{**N1, "beta": betas, "mic_turnover_scale": 0.001})
    assert result.ok.all(), result.message
    # the pools move by ~(beta - 1) ln(MIC) relative: 1e-6 x ln(3e4) ~ 1e-5 at the last row
    np.testing.assert_allclose(result.pools[1:3], np.repeat(result.pools[:1], 2, axis=0), rtol=1e-7)
    np.testing.assert_allclose(result.pools[3], result.pools[0], rtol=1e-4)


class _UnboundedBeta(MillennialAdapter):
    """Millennial with beta unbounded above, as before beta <= EXPONENT_MAX: reaches the R_beta guard."""

    drivers = tuple(replace(d, interval=Interval(1.0, np.inf, (False, True))) if d.name == "beta" else d
                    for d in MillennialAdapter.drivers)


def test_rescaling_that_underflows_is_flagged(rescaled):
    assert rescaled.evaluate(**{**N1, "beta": 1000.0}).status[0] == Status.OUT_OF_DOMAIN  # beta <= 10 now
    rescaled = _UnboundedBeta(beta_rescale="reference")
    result = rescaled.evaluate(**{**N1, "beta": np.array([3.0, 1000.0])})
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED]
    assert "R_beta = MIC_ref^(2 - beta) under- or overflows at beta=1000" in result.message[1]


def test_microbe_free_limit_converges_and_never_returns_mic_zero(adapter):
    """beta -> 1 where linear turnover has no positive state: L* -> I/(k_leach w_d), MIC -> 0.

    The root converges (bracket narrower than rtol) within rounding of I/c; a MIC that still
    is a float is returned, one that underflows to 0 is flagged, never reported as a state.
    """
    betas = np.array([1.01, 1.001])
    drivers = {**N1, "beta": betas, "mic_turnover_scale": 2000.0}
    rates = adapter._rates(adapter.default_theta(2), adapter.make_forcing(2, **drivers))
    lmwc, converged = eq.lmwc_root(rates)
    assert converged.all()
    np.testing.assert_allclose(lmwc, rates.inputs / (rates.k_leach * rates.w_d), rtol=1e-15)
    assert (np.abs(eq.system_balance(lmwc, rates)) <= 1e-15 * rates.inputs).all()
    result = adapter.evaluate(**drivers)
    assert list(result.status) == [Status.OK, Status.NEGATIVE_POOL]
    assert 0.0 < result.pool("mic")[0] < 1e-50
    assert "MIC 0," in result.message[1]

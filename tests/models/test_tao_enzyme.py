"""Tests of the Tao et al. (2023) microbial-enzyme model against ``docs/models/tao_enzyme.md`` (h).

Tolerances: the spec's rtol 1e-4 for its printed numbers, plus half a unit in the last printed
digit (``ReferenceCase.checks``, see ``assert_printed``); 1e-12 for identities that hold up to
round-off (input independence of soc_pool and doc, scaling of MIC, ENZ and litter with c_input,
the closed form against the 1-D root, the Newton root against brentq, mass balance); 1e-9 for
the fixed-point residual (spec (g)); 1e-6 for an LSODA integration run at rtol 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from harness.adapter import ParameterError, ReferenceCase, Status, metadata_problems
from models.tao_enzyme import TaoEnzymeAdapter
from models.tao_enzyme import equations as eq
from models.tao_enzyme.parameters import MID_PRIOR

RTOL = 1e-4  # spec (h)
EXACT = 1e-12  # identities up to round-off
XI = {"xi_fixed": 0.3}  # spec (h): h = 0.3 m, xi_fixed 0.3, c_input 300
R1 = {"c_input": 300.0}
#: an anchor of beta_rescale 'site' off the reference scenario (the flagship site, cue_scale and
#: mic_turnover_scale moved): every driver of the model but beta, beta_enz
ANCHOR = {"c_input": 400.0, "cue_scale": 0.9, "temperature": 15.0, "moisture": 0.30, "clay": 20.0, "sand": 40.0,
          "mic_turnover_scale": 1.1}
EXPONENTS = {"beta": np.array([1.0, 1.0, 1.5, 1.5, 2.0, 2.0]), "beta_enz": np.array([1.0, 0.5, 1.0, 0.5, 1.0, 0.5])}


@pytest.fixture(scope="module")
def adapter():
    return TaoEnzymeAdapter()


def assert_printed(actual, text: str) -> None:
    """``actual`` matches the spec's printed ``text`` to RTOL plus half a unit in its last digit."""
    ((_, value, tolerance),) = ReferenceCase("printed", {}, {"x": text}, "spec (h)", RTOL).checks()
    assert abs(float(actual) - value) <= tolerance, f"{actual!r} != {text} (printed)"


def solve(model, parameters=None, **drivers):
    """One or more rows on top of the spec's R1 inputs; every row must be OK."""
    result = model.evaluate({**XI, **(parameters or {})}, **{**R1, **drivers})
    assert result.ok.all(), result.message
    return result


def ratio(model, output: str, factor: float = 2.0, parameters=None, **drivers) -> float:
    """``output`` at ``factor`` x c_input over its value at 300 g C m-2 yr-1."""
    base = solve(model, parameters, **drivers).get(output)[0]
    return solve(model, parameters, **{**drivers, "c_input": 300.0 * factor}).get(output)[0] / base


def random_inputs(adapter, n: int, seed: int = 20240611, nonlinear: bool = False):
    """``n`` random rows: parameters uniform in their bounds (tau_enz log-uniform), xi_fixed or
    temperature and moisture, random c_input and cue_scale; beta, beta_enz random if asked."""
    rng = np.random.default_rng(seed)
    theta = adapter.default_theta(n)
    names = adapter.parameter_names
    for j, p in enumerate(adapter.parameters):
        if p.optional or p.name.startswith("f_") and p.name != "f_cwdl2":
            continue
        lo, hi = p.interval.lower, p.interval.upper
        theta[:, j] = rng.uniform(lo + 1e-3 * (hi - lo) if p.interval.open_bounds[0] else lo, hi, n)
    theta[:, names.index("tau_enz")] = 10.0 ** rng.uniform(-3.0, 0.0, n)
    theta[:, names.index("psi_min")] = -2.5  # keeps psi(moisture >= 0.3) above psi_min
    theta[:, names.index("xi_fixed")] = np.where(rng.uniform(size=n) < 0.5, np.nan, rng.uniform(0.05, 1.0, n))
    split = rng.dirichlet([1.0, 2.0, 2.0, 2.0], n)
    for j, name in enumerate(("f_cwd", "f_l1", "f_l2", "f_l3")):
        theta[:, names.index(name)] = split[:, j]
    theta[:, names.index("f_l3")] = 1.0 - theta[:, [names.index(f) for f in ("f_cwd", "f_l1", "f_l2")]].sum(axis=1)
    # clay + sand <= 100 % and moisture <= the porosity 0.489 - 0.00126 sand (>= 0.363): a physical soil
    clay = rng.uniform(0.0, 40.0, n)
    sand = rng.uniform(0.0, 1.0, n) * (100.0 - clay)
    wet = rng.uniform(0.3, np.minimum(0.45, 0.489 - 0.00126 * sand))
    drivers = {
        "c_input": rng.uniform(50.0, 1500.0, n), "cue_scale": rng.uniform(0.7, 1.1, n),
        "temperature": rng.uniform(-10.0, 35.0, n),
        "moisture": np.where(rng.uniform(size=n) < 0.5, np.nan, wet),
        "sand": sand, "clay": clay,
        "mic_turnover_scale": rng.uniform(0.5, 2.0, n),
    }
    if nonlinear:
        drivers.update(beta=rng.uniform(0.5, 2.5, n), beta_enz=rng.uniform(0.5, 2.0, n))
    forcing = adapter.make_forcing(n, **drivers)
    assert (adapter.check_domain(theta, forcing)[0] == Status.OK).all()
    return theta, forcing


def solved_rows(adapter, n: int, nonlinear: bool = False):
    """The OK rows of ``random_inputs`` with their result."""
    theta, forcing = random_inputs(adapter, n, nonlinear=nonlinear)
    result = adapter.steady_state(theta, forcing)
    ok = result.ok
    assert ok.sum() > n // 2
    return theta[ok], forcing[ok], result.pools[ok]


def with_c_input(adapter, forcing, factor):
    scaled = forcing.copy()
    scaled[:, adapter.driver_names.index("c_input")] *= factor
    return scaled


# -- metadata and options ----------------------------------------------------------------------
def test_metadata_complete(adapter):
    assert metadata_problems(adapter) == []
    assert adapter.outputs == ("soc", "soc_total", "litter", "mic", "respiration", "cue_bulk")
    assert adapter.get_options() == {
        "beta_rescale": "reference", "anchor": {}, "couple_tau_enz_to_ka": False, "km_scale_with_xi": True,
    }


def test_bad_option_value_is_rejected():
    with pytest.raises(ValueError, match="beta_rescale"):
        TaoEnzymeAdapter(beta_rescale="per_run")


# -- section (h): published numbers -------------------------------------------------------------
@pytest.mark.parametrize("case", TaoEnzymeAdapter.reference_cases, ids=lambda c: c.name)
def test_reference_case(case):
    result = TaoEnzymeAdapter(**case.options).evaluate(dict(case.parameters), **case.drivers)
    assert result.ok.all(), result.message
    for key, value, tolerance in case.checks():
        actual = result.get(key)[0]
        assert abs(actual - value) <= tolerance, f"{key}: {actual!r} vs {value!r} ± {tolerance:.3g}"


def test_r1_reference_mic_and_published_bulk_cue(adapter):
    theta, forcing = adapter.default_theta(1, **XI), adapter.make_forcing(1, **R1)
    kin, _, h = adapter._model(theta, forcing)
    pools = adapter.steady_state(theta, forcing).pools / h[:, None]
    assert_printed(eq.published_bulk_cue(pools, kin)[0], "0.330559")
    p, _ = adapter._columns(theta, forcing)
    assert_printed(adapter._reference_mic(p, np.array([0]))[0], "356.693")
    np.testing.assert_allclose(pools[0, eq.MIC], adapter._reference_mic(p, np.array([0]))[0], rtol=EXACT)


@pytest.mark.parametrize("factor", [0.5, 2.0, 10.0])
def test_r2_input_independence(adapter, factor):
    base, scaled = solve(adapter), solve(adapter, c_input=300.0 * factor)
    for pool in ("soc_pool", "doc"):
        np.testing.assert_allclose(scaled.pool(pool), base.pool(pool), rtol=EXACT)
    for pool in ("mic", "enz", "cwd", "l1", "l2", "l3"):
        np.testing.assert_allclose(scaled.pool(pool), factor * base.pool(pool), rtol=EXACT)
    # soc(lambda) = DOC* + SOC* + lambda (MIC* + ENZ*) exactly
    fast = base.pool("mic") + base.pool("enz")
    np.testing.assert_allclose(scaled.get("soc"), base.get("soc") + (factor - 1.0) * fast, rtol=EXACT)


def test_r2_soc_ratio_at_doubled_input(adapter):
    assert_printed(ratio(adapter, "soc"), "1.010077")


@pytest.mark.parametrize(
    ("tau_enz", "tau_mic", "soc_pool", "mic", "soc", "doubled", "per_mic", "doubled_fast_soc"),
    [
        (0.05, 0.2, "10532.7", "107.01", "10643.3", "1.0101", "99.5", "1.0089"),
        (0.5, 0.2, "870.0", "107.01", "982.8", "1.1114", "9.18", "1.1669"),
        (0.05, 1.5, "1197.0", "758.16", "1957.3", "1.3882", "2.58", "1.5003"),
        (0.5, 1.5, "116.9", "758.16", "892.7", "1.8686", "1.18", "1.9162"),
    ],
)
def test_r3_reply_reconstruction(adapter, tau_enz, tau_mic, soc_pool, mic, soc, doubled, per_mic, doubled_fast_soc):
    taus = {"tau_enz": tau_enz, "tau_mic": tau_mic}
    result = solve(adapter, taus)
    assert_printed(result.pool("soc_pool")[0], soc_pool)
    assert_printed(result.get("mic")[0], mic)
    assert_printed(result.get("soc")[0], soc)
    assert_printed(result.get("soc")[0] / result.get("mic")[0], per_mic)
    assert_printed(ratio(adapter, "soc", parameters=taus), doubled)
    assert ratio(adapter, "pool.soc_pool", parameters=taus) == pytest.approx(1.0, rel=EXACT)
    fast_soc = {**taus, "tau_soc": 3e-4, "km_soc": 1e5}
    assert_printed(ratio(adapter, "soc", parameters=fast_soc), doubled_fast_soc)


R4_ROWS = [
    (1.0, 1.0, "1.0000", "2.0000", "1.0101"),
    (1.5, 1.0, "1.3413", "1.5894", "1.3437"),
    (2.0, 1.0, "1.5665", "1.4161", "1.5650"),
    (1.0, 0.5, "1.5665", "2.0053", "1.5707"),
    (1.0, 1.5, "0.6644", "1.9926", "0.6779"),
    (1.5, 0.5, "1.8426", "1.5910", "1.8399"),
]


@pytest.mark.parametrize(("beta", "beta_enz", "soc_pool", "mic", "soc"), R4_ROWS)
def test_r4_exponents_with_reference_rescaling(adapter, beta, beta_enz, soc_pool, mic, soc):
    exponents = {"beta": beta, "beta_enz": beta_enz}
    # the baseline (the reference scenario, M_ref from R1) equals R1 in every row
    np.testing.assert_allclose(solve(adapter, **exponents).pools, solve(adapter).pools, rtol=EXACT)
    assert_printed(ratio(adapter, "pool.soc_pool", **exponents), soc_pool)
    assert_printed(ratio(adapter, "mic", **exponents), mic)
    assert_printed(ratio(adapter, "soc", **exponents), soc)


@pytest.mark.parametrize(("beta", "beta_enz"), [(1.5, 1.0), (2.0, 1.0), (1.0, 0.5)])
def test_r4_no_steady_state_without_rescaling(beta, beta_enz):
    model = TaoEnzymeAdapter(beta_rescale="none")
    result = model.evaluate(XI, c_input=[300.0, 600.0], beta=beta, beta_enz=beta_enz)
    assert (result.status == Status.SOLVER_FAILED).all()
    assert all(m.startswith("no steady state: c <= a") for m in result.message), result.message
    assert np.isnan(result.pools).all()


def test_r4_beta_enz_without_rescaling():
    model = TaoEnzymeAdapter(beta_rescale="none")
    assert_printed(solve(model, beta_enz=1.5).pool("soc_pool")[0], "520.98")
    assert_printed(ratio(model, "pool.soc_pool", beta_enz=1.5), "0.7404")


@pytest.mark.parametrize(("scale", "soc_pool", "mic", "soc"), [(1.1, "0.9285", "1.1626", "0.9309"),
                                                                (0.9, "1.0901", "0.8540", "1.0877")])
def test_r5_cue_scale(adapter, scale, soc_pool, mic, soc):
    base, scaled = solve(adapter), solve(adapter, cue_scale=scale)
    assert_printed(scaled.pool("soc_pool")[0] / base.pool("soc_pool")[0], soc_pool)
    assert_printed(scaled.get("mic")[0] / base.get("mic")[0], mic)
    assert_printed(scaled.get("soc")[0] / base.get("soc")[0], soc)


@pytest.mark.parametrize("xi", [0.15, 0.6])
def test_r6_xi_scaling(adapter, xi):
    """MIC, ENZ and litter scale with 1/xi; SOC*, DOC* with xi_K = xi (spec (g))."""
    base, scaled = solve(adapter), solve(adapter, {"xi_fixed": xi})
    factor = xi / 0.3
    for pool in ("soc_pool", "doc"):
        np.testing.assert_allclose(scaled.pool(pool), factor * base.pool(pool), rtol=EXACT)
    for pool in ("mic", "enz", "l1", "l2", "l3"):
        np.testing.assert_allclose(scaled.pool(pool), base.pool(pool) / factor, rtol=EXACT)


def test_r7_coupled_variant():
    coupled, free = TaoEnzymeAdapter(couple_tau_enz_to_ka=True), TaoEnzymeAdapter()
    assert_printed(eq.coupled_tau_enz(1650.0), "0.031623")
    assert_printed(eq.coupled_tau_enz(1515.0), "0.022387")
    assert_printed(eq.coupled_tau_enz(400.0), "1.29e-3")
    base = solve(coupled, MID_PRIOR).get("soc")[0]
    assert_printed(base, "5596.70")
    cue_up = {**MID_PRIOR, "eps_l1": 0.675, "eps_l23": 0.22, "cue": 0.3895}
    assert_printed(solve(coupled, cue_up).get("soc")[0] / base, "0.9628")
    published = {**cue_up, "tau_doc": 0.01405, "km_doc": 1515.0}
    assert_printed(solve(coupled, published).get("soc")[0] / base, "1.3662")
    # without the coupling tau_enz keeps the mid-prior 10**-1.5 yr
    fixed = {"tau_enz": 10.0**-1.5}
    assert solve(free, {**MID_PRIOR, **fixed}).get("soc")[0] == pytest.approx(base, rel=EXACT)
    assert_printed(solve(free, {**published, **fixed}).get("soc")[0] / base, "0.9627")


def test_coupled_variant_at_default_ka_has_no_steady_state():
    result = TaoEnzymeAdapter(couple_tau_enz_to_ka=True).evaluate(XI, **R1)
    assert result.status[0] == Status.SOLVER_FAILED
    assert result.message[0].startswith("no steady state: c <= a")


def test_coupled_variant_ignores_tau_enz_and_rejects_ka_outside_its_range():
    coupled = TaoEnzymeAdapter(couple_tau_enz_to_ka=True)
    a, b = (solve(coupled, {**MID_PRIOR, "tau_enz": t}).pools for t in (0.001, 1.0))
    np.testing.assert_array_equal(a, b)
    result = coupled.evaluate({**MID_PRIOR, "km_doc": 3001.0}, **R1)
    assert result.status[0] == Status.OUT_OF_DOMAIN and "km_doc=3001.0" in result.message[0]


# -- reference scenario of beta_rescale ---------------------------------------------------------
def test_reference_scenario_is_frozen_at_fixed_drivers(adapter):
    """M_ref depends on the row's parameters only, never on its drivers."""
    theta = adapter.default_theta(1)
    p, _ = adapter._columns(theta, adapter.make_forcing(1))
    m_ref = adapter._reference_mic(p, np.array([0]))[0]
    for drivers in ({"c_input": 900.0}, {"cue_scale": 0.8}, {"mic_turnover_scale": 2.0},
                    {"temperature": 5.0}, {"moisture": 0.3}):
        forcing = adapter.make_forcing(1, beta=2.0, **drivers)
        kin, _, _ = adapter._model(theta, forcing)
        scale = forcing[0, adapter.driver_names.index("mic_turnover_scale")]
        np.testing.assert_allclose(kin.k_d[0], scale / 0.2 * m_ref ** (1.0 - 2.0), rtol=EXACT)
    # at the reference scenario (T 25 degC, moisture absent, c_input 300) pools do not depend on beta
    linear = adapter.evaluate(beta=1.0).pools
    np.testing.assert_allclose(adapter.evaluate(beta=[0.7, 1.6], beta_enz=[1.3, 0.8]).pools,
                               np.vstack([linear, linear]), rtol=EXACT)
    # a parameter of the row (here xi_fixed) moves M_ref: M_ref is proportional to 1/xi
    p_fixed, _ = adapter._columns(adapter.default_theta(1, xi_fixed=0.5), adapter.make_forcing(1))
    np.testing.assert_allclose(adapter._reference_mic(p_fixed, np.array([0]))[0], m_ref / 0.5, rtol=EXACT)


@pytest.mark.parametrize("parameters", [{}, XI])
def test_site_rescaling_keeps_the_anchor_pools(adapter, parameters):
    """``site``: M_site is the linear model's MIC* at the anchor (its own temperature, moisture,
    cue_scale, mic_turnover_scale and c_input), so every (beta, beta_enz) has the linear pools
    there; away from the anchor, and under ``reference``, the exponents matter."""
    site = TaoEnzymeAdapter(beta_rescale="site", anchor=ANCHOR)
    result = site.evaluate(parameters, **ANCHOR, **EXPONENTS)
    assert result.ok.all(), result.message
    np.testing.assert_allclose(result.pools, np.repeat(result.pools[:1], 6, axis=0), rtol=EXACT)
    np.testing.assert_array_equal(result.pools[0], adapter.evaluate(parameters, **ANCHOR).pools[0])
    p, _ = site._columns(site.default_theta(1, **parameters), site.make_forcing(1))
    m_site = site._reference_mic(p, np.array([0]))[0]
    np.testing.assert_allclose(m_site * 0.3, result.pool("mic")[0], rtol=EXACT)  # h = 0.3 m
    away = site.evaluate(parameters, **{**ANCHOR, "c_input": 700.0, "temperature": 25.0}, **EXPONENTS).get("soc")
    assert np.abs(away[1:] / away[0] - 1.0).min() > 1e-3
    reference = adapter.evaluate(parameters, **ANCHOR, **EXPONENTS).get("soc")
    assert np.abs(reference[1:] / reference[0] - 1.0).min() > 1e-3


def test_site_needs_a_valid_anchor():
    with pytest.raises(ParameterError, match="beta_rescale 'site' needs an anchor"):
        TaoEnzymeAdapter(beta_rescale="site")
    with pytest.raises(ParameterError, match="'silt' is not a driver of tao_enzyme"):
        TaoEnzymeAdapter(beta_rescale="site", anchor={**ANCHOR, "silt": 40.0})
    with pytest.raises(ParameterError, match="temperature=nan must be a finite number"):
        TaoEnzymeAdapter(beta_rescale="site", anchor={**ANCHOR, "temperature": np.nan})
    # moisture is optional: NaN is "absent" (xi_W = 1) at the anchor too
    dry = TaoEnzymeAdapter(beta_rescale="site", anchor={**ANCHOR, "moisture": np.nan})
    result = dry.evaluate(**{**ANCHOR, "moisture": np.nan}, **EXPONENTS)
    np.testing.assert_allclose(result.pools, np.repeat(result.pools[:1], 6, axis=0), rtol=EXACT)
    # the rows' cross-constraints at the anchor: only the rows that are rescaled fail
    rows = {"beta": np.array([1.0, 2.0]), "beta_enz": np.array([1.0, 1.0])}
    for anchor, text in (({"cue_scale": 1.6}, "beta_rescale 'site': at the anchor site, eps_l1 x cue_scale = "
                          "0.65 x 1.6 = 1.04; it must lie in (0, 1)"),
                         ({"moisture": 0.01}, "beta_rescale 'site': at the anchor site, xi = 0 at psi = "),
                         ({"temperature": 70.0}, "driver temperature=70.0 [degC] is outside [-50, 60]")):
        result = TaoEnzymeAdapter(beta_rescale="site", anchor={**ANCHOR, **anchor}).evaluate(**ANCHOR, **rows)
        assert list(result.status) == [Status.OK, Status.OUT_OF_DOMAIN], result.message
        assert text in result.message[1], result.message[1]


def test_failed_anchor_state_is_flagged(monkeypatch):
    site = TaoEnzymeAdapter(beta_rescale="site", anchor=ANCHOR)
    monkeypatch.setattr(eq, "reference_mic", lambda c_input, *args: np.full(c_input.shape, -1.0))
    result = site.evaluate(**ANCHOR, beta=np.array([1.0, 2.0]))
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED]
    assert "at the anchor site is not positive and finite" in result.message[1]


def test_rescaling_is_identity_at_linear_exponents():
    theta, forcing = random_inputs(TaoEnzymeAdapter(), 32)
    reference = TaoEnzymeAdapter().steady_state(theta, forcing)
    none = TaoEnzymeAdapter(beta_rescale="none").steady_state(theta, forcing)
    np.testing.assert_array_equal(reference.pools, none.pools)


# -- environment --------------------------------------------------------------------------------
def test_temperature_and_moisture_scalars(adapter):
    assert eq.temperature_scalar(25.0, 2.0) == 1.0
    np.testing.assert_allclose(eq.temperature_scalar([5.0, 35.0], 2.0), [0.25, 2.0], rtol=EXACT)
    # moisture absent, 25 degC, xi_depth 1: xi = 1, the same as xi_fixed = 1
    np.testing.assert_allclose(adapter.evaluate().pools, adapter.evaluate({"xi_fixed": 1.0}).pools, rtol=EXACT)
    # the moisture driver equals the psi_mpa override at the same water potential
    theta_w = brentq(lambda t: eq.soil_water_potential(t, 40.0, 20.0) + 0.05, 0.2, 0.4, xtol=1e-15)
    from_moisture = adapter.evaluate(temperature=10.0, moisture=theta_w)
    from_psi = adapter.evaluate({"psi_mpa": -0.05}, temperature=10.0)
    np.testing.assert_allclose(from_moisture.pools, from_psi.pools, rtol=1e-9)
    xi = eq.temperature_scalar(10.0, 1.5) * eq.moisture_scalar(-0.05, -2.5, -0.002)
    np.testing.assert_allclose(from_psi.pools, adapter.evaluate({"xi_fixed": xi}).pools, rtol=EXACT)


def test_km_scale_with_xi_off_makes_soc_pool_and_doc_independent_of_xi():
    model = TaoEnzymeAdapter(km_scale_with_xi=False)
    low, high = solve(model, {"xi_fixed": 0.15}), solve(model, {"xi_fixed": 0.6})
    for pool in ("soc_pool", "doc"):
        np.testing.assert_allclose(low.pool(pool), high.pool(pool), rtol=EXACT)
    np.testing.assert_allclose(low.get("mic"), 4.0 * high.get("mic"), rtol=EXACT)
    # at xi = 1 the option changes nothing
    np.testing.assert_allclose(solve(model, {"xi_fixed": 1.0}).pools, solve(TaoEnzymeAdapter(), {"xi_fixed": 1.0}).pools,
                               rtol=EXACT)


def test_mic_turnover_scale_multiplies_k_d_only(adapter):
    np.testing.assert_allclose(solve(adapter, mic_turnover_scale=2.0).pools,
                               solve(adapter, {"tau_mic": 0.1}).pools, rtol=EXACT)


# -- section (g): steady state, root, stability ---------------------------------------------------
def test_closed_form_equals_root_at_linear_exponents():
    rng = np.random.default_rng(3)
    q, k_d, k_e = rng.uniform(10.0, 1e4, 500), rng.uniform(0.5, 50.0, 500), rng.uniform(0.03, 0.07, 500)
    one = np.ones(500)
    root, converged = eq.mic_root(q, k_d, k_e, one, one)
    assert converged.all()
    np.testing.assert_allclose(root, q / (k_d + k_e), rtol=EXACT)


def test_vectorised_root_equals_brentq_per_row():
    rng = np.random.default_rng(4)
    n = 200
    q, k_d, k_e = 10.0 ** rng.uniform(0, 4, n), 10.0 ** rng.uniform(-4, 2, n), 10.0 ** rng.uniform(-4, 1, n)
    beta, beta_enz = rng.uniform(0.05, 4.0, n), rng.uniform(0.05, 4.0, n)
    root, converged = eq.mic_root(q, k_d, k_e, beta, beta_enz)
    assert converged.all()
    for i in range(n):
        def log_residual(x, i=i):  # in x = ln m, to bracket roots over hundreds of decades
            return np.logaddexp(np.log(k_d[i]) + beta[i] * x, np.log(k_e[i]) + beta_enz[i] * x) - np.log(q[i])
        expected = np.exp(brentq(log_residual, -800.0, 800.0, xtol=1e-15, rtol=1e-15))
        assert root[i] == pytest.approx(expected, rel=EXACT)


def test_fixed_point_residual():
    adapter = TaoEnzymeAdapter()
    for nonlinear in (False, True):
        theta, forcing, pools = solved_rows(adapter, 256, nonlinear)
        dpools, _ = adapter.tendencies(theta, forcing, pools)
        c_input = forcing[:, adapter.driver_names.index("c_input")]
        assert (np.abs(dpools).max(axis=1) <= 1e-9 * c_input).all()


@pytest.mark.parametrize("nonlinear", [False, True])
def test_mass_balance(adapter, nonlinear):
    theta, forcing, pools = solved_rows(adapter, 128, nonlinear)
    c_input = forcing[:, adapter.driver_names.index("c_input")]
    _, fluxes = adapter.tendencies(theta, forcing, pools)
    np.testing.assert_allclose(fluxes["respiration"], c_input, rtol=1e-10)
    perturbed = pools * np.random.default_rng(1).uniform(0.2, 3.0, pools.shape)
    dpools, fluxes = adapter.tendencies(theta, forcing, perturbed)
    budget = c_input - fluxes["respiration"] - fluxes["leaching"]
    # round-off of a sum of terms of size ~|dX/dt|: absolute tolerance relative to their magnitude
    scale = np.abs(dpools).sum(axis=1) + c_input
    np.testing.assert_array_less(np.abs(dpools.sum(axis=1) - budget), EXACT * scale)
    np.testing.assert_array_equal(fluxes["leaching"], 0.0)


def test_cue_bulk_definition(adapter):
    """cue_bulk = [sum (1-p_i) eps_i F_i + CUE U] / [sum (1-p_i) F_i + U] (spec (f))."""
    theta, forcing, pools = solved_rows(adapter, 64)
    kin, inputs, h = adapter._model(theta, forcing)
    f = eq.litter_outfluxes(inputs, kin.f_cwdl2)
    u = (eq.soil_supply(f, kin)[0] + eq.soil_supply(f, kin)[1] + eq.soil_supply(f, kin)[2]) / (1.0 - kin.cue)
    p, e = np.column_stack([kin.p_l1, kin.p_l2, kin.p_l3]), np.column_stack([kin.eps_l1, kin.eps_l23, kin.eps_l23])
    expected = (((1 - p) * e * f).sum(axis=1) + kin.cue * u) / (((1 - p) * f).sum(axis=1) + u)
    np.testing.assert_allclose(adapter.steady_state(theta, forcing).get("cue_bulk"), expected, rtol=1e-10)


def test_hurwitz_criterion_agrees_with_eigenvalues():
    """On matrices of the soil block's pattern with random signed entries, and on model rows."""
    rng = np.random.default_rng(5)
    n = 20000
    values = [10.0 ** rng.uniform(-3, 3, n) for _ in eq.SoilJacobian._fields]
    for signed in ("x", "m"):  # the entries whose sign the model does not fix
        values[eq.SoilJacobian._fields.index(signed)] *= rng.choice([-1.0, 1.0], n)
    for mixed in (False, True):
        if mixed:  # any sign anywhere
            values = [v * rng.choice([-1.0, 1.0], n) for v in values]
        entries = eq.SoilJacobian(*values)
        stable, decided = eq.hurwitz_stable(entries)
        max_re = eq.max_real_eigenvalue(entries)
        # eigenvalues decide only where max Re(lambda) is clear of their error ~ eps ||J||
        clear = decided & (np.abs(max_re) > 1e-6 * np.abs(entries.matrix()).max(axis=(1, 2)))
        assert clear.mean() > 0.99 and 0.02 < stable[clear].mean() < 0.98
        np.testing.assert_array_equal(stable[clear], max_re[clear] < 0.0)
    coefficients = np.column_stack(eq.characteristic_coefficients(entries)[0])
    dense = np.array([np.poly(m)[1:] for m in entries.matrix()[:200]])
    np.testing.assert_allclose(coefficients[:200], dense, rtol=1e-8, atol=1e-8 * np.abs(dense).max())
    adapter = TaoEnzymeAdapter()
    theta, forcing = random_inputs(adapter, 4000, nonlinear=True)
    kin, inputs, _ = adapter._model(theta, forcing)
    pools, failure, _ = eq.steady_state(inputs, kin)
    rows = np.flatnonzero(failure == eq.EXISTS)
    jac = eq.soil_jacobian(pools[rows], eq.Kinetics(*(v[rows] for v in kin)))
    stable, decided = eq.hurwitz_stable(jac)
    assert decided.all()
    np.testing.assert_array_equal(stable, eq.max_real_eigenvalue(jac) < 0.0)
    assert 0 < (~stable).sum() < rows.size // 10


def test_lsoda_from_perturbed_r1_returns_to_steady_state(adapter):
    theta, forcing = adapter.default_theta(1, **XI), adapter.make_forcing(1, **R1)
    steady = adapter.steady_state(theta, forcing).pools[0]
    start = steady * np.array([1.0, 1.3, 0.7, 1.2, 1.5, 0.6, 1.4, 0.8])
    start[0] = 0.0  # no CWD input

    def rhs(_, pools):
        return adapter.tendencies(theta, forcing, pools[None, :])[0][0]

    run = solve_ivp(rhs, (0.0, 2000.0), start, method="LSODA", rtol=1e-10, atol=1e-10)
    assert run.success
    np.testing.assert_allclose(run.y[:, -1], steady, rtol=1e-6, atol=1e-9)


def test_unstable_equilibrium_is_flagged_and_departed_by_lsoda(adapter):
    """beta = 0.25 keeps R1's equilibrium (reference rescaling) but makes it unstable."""
    result = adapter.evaluate(XI, **R1, beta=0.25)
    assert result.status[0] == Status.NOT_CONVERGED
    assert result.message[0] == "unstable equilibrium, max Re(lambda) = 0.0866699 yr-1"
    theta, forcing = adapter.default_theta(1, **XI), adapter.make_forcing(1, **R1, beta=0.25)
    steady = solve(adapter).pools[0]
    np.testing.assert_allclose(np.abs(adapter.tendencies(theta, forcing, steady[None])[0]).max(), 0.0, atol=1e-9)

    def rhs(_, pools):
        return adapter.tendencies(theta, forcing, np.maximum(pools, 0.0)[None, :])[0][0]

    run = solve_ivp(rhs, (0.0, 300.0), steady * (1.0 + 1e-3), method="LSODA", rtol=1e-10, atol=1e-10)
    assert abs(run.y[eq.MIC, -1] / steady[eq.MIC] - 1.0) > 0.1


# -- batches and the domain -----------------------------------------------------------------------
def test_batch_equals_row_loop():
    adapter = TaoEnzymeAdapter()
    theta, forcing = random_inputs(adapter, 24, nonlinear=True)
    batch = adapter.steady_state(theta, forcing)
    assert batch.ok.any() and not batch.ok.all()
    for i in range(theta.shape[0]):
        row = adapter.steady_state(theta[i : i + 1], forcing[i : i + 1])
        np.testing.assert_array_equal(row.pools[0], batch.pools[i])
        np.testing.assert_array_equal(row.outputs[0], batch.outputs[i])
        assert (row.status[0], row.message[0]) == (batch.status[i], batch.message[i])


@pytest.mark.parametrize("anchor", [ANCHOR, {**ANCHOR, "cue_scale": 1.6}, {**ANCHOR, "moisture": 0.01}])
def test_rows_sharing_their_parameters_equal_row_by_row(anchor):
    """A design over drivers only (every row the same parameters): M_site and the anchor's checks,
    computed once for the batch, give each row what it gets alone, bit for bit, messages included."""
    site = TaoEnzymeAdapter(beta_rescale="site", anchor=anchor)
    rng = np.random.default_rng(7)
    n = 24
    forcing = site.make_forcing(n, c_input=rng.uniform(200.0, 600.0, n), temperature=rng.uniform(10.0, 20.0, n),
                                moisture=rng.uniform(0.25, 0.4, n), cue_scale=rng.uniform(0.8, 1.6, n),
                                beta=rng.choice([1.0, 1.5, 2.0], n), beta_enz=rng.choice([0.5, 1.0], n))
    theta = site.default_theta(n)
    batch = site.steady_state(theta, forcing)
    assert len(set(batch.status.tolist())) > 1
    for i in range(n):
        row = site.steady_state(theta[i : i + 1], forcing[i : i + 1])
        np.testing.assert_array_equal(row.pools[0], batch.pools[i])
        np.testing.assert_array_equal(row.outputs[0], batch.outputs[i])
        assert (row.status[0], row.message[0]) == (batch.status[i], batch.message[i])


def test_porosity_is_the_cosby_porosity():
    from models.tao_enzyme.adapter import _porosity

    sand = np.random.default_rng(0).uniform(0.0, 100.0, 1000)
    np.testing.assert_array_equal(_porosity(sand), eq.cosby_parameters(sand, 20.0)[0])


def test_blocks_do_not_change_results(monkeypatch):
    adapter = TaoEnzymeAdapter()
    theta, forcing = random_inputs(adapter, 50, nonlinear=True)
    whole = adapter.steady_state(theta, forcing)
    monkeypatch.setattr("models.tao_enzyme.adapter.BLOCK_ROWS", 7)
    blocks = adapter.steady_state(theta, forcing)
    np.testing.assert_array_equal(blocks.pools, whole.pools)
    np.testing.assert_array_equal(blocks.outputs, whole.outputs)
    np.testing.assert_array_equal(blocks.status, whole.status)


def test_failing_rows_are_isolated(adapter):
    # (parameters on top of XI, drivers on top of R1, status, text the message starts with or holds)
    rows = [
        ({}, {}, Status.OK, ""),
        ({"tau_enz": 0.001}, {}, Status.SOLVER_FAILED, "no steady state: c <= a (c = xi k_s ENZ* = 48.64,"),
        ({"tau_mic": 0.05, "cue": 0.01, "tau_doc": 0.03, "p_death_soc": 0.0, "tau_soc": 1e-5}, {},
         Status.SOLVER_FAILED, "no steady state: V <= U*"),
        ({}, {"beta": 0.25}, Status.NOT_CONVERGED, "unstable equilibrium, max Re(lambda) = 0.0866699 yr-1"),
        ({}, {"cue_scale": 1.6}, Status.OUT_OF_DOMAIN, "eps_l1 x cue_scale = 0.65 x 1.6 = 1.04; it must lie in (0, 1)"),
        ({"f_l1": 0.3}, {}, Status.OUT_OF_DOMAIN, "f_cwd + f_l1 + f_l2 + f_l3 = 1.05"),
        ({"xi_fixed": np.nan, "psi_mpa": -3.0}, {}, Status.OUT_OF_DOMAIN, "xi = 0 at psi = -3 MPa; xi must be > 0"),
        ({"xi_fixed": np.nan}, {"moisture": 0.01}, Status.OUT_OF_DOMAIN, "must be > psi_min = -2.5 MPa"),
        ({"eps_l23": 0.0}, {"cue_scale": 1.5}, Status.OK, ""),  # an efficiency of 0 stays 0
        ({}, {"beta": 1.7, "beta_enz": 0.9, "c_input": 450.0}, Status.OK, ""),
    ]
    theta = np.vstack([adapter.default_theta(1, **{**XI, **p}) for p, _, _, _ in rows])
    forcing = np.vstack([adapter.make_forcing(1, **{**R1, **d}) for _, d, _, _ in rows])
    result = adapter.steady_state(theta, forcing)
    for i, (_, _, status, text) in enumerate(rows):
        assert result.status[i] == status, (i, result.message[i])
        assert text in result.message[i], result.message[i]
        alone = adapter.steady_state(theta[i : i + 1], forcing[i : i + 1])
        np.testing.assert_array_equal(result.outputs[i], alone.outputs[0])
        assert np.isfinite(result.pools[i]).all() == (status == Status.OK)


def test_failing_case_is_rejected(adapter):
    case = adapter.failing_case
    result = adapter.evaluate(dict(case.parameters), **case.drivers)
    assert result.status[0] == Status.SOLVER_FAILED
    assert result.message[0].startswith("no steady state: c <= a")

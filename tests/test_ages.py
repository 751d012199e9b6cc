"""Ages and transit times at the steady state (harness.ages) and the pool fluxes behind them.

CLM5 is linear, dX/dt = B I + A xi K X, so its ages have closed forms (Metzler & Sierra 2018):
they are computed here from the model's own transfer matrix, rates and inputs, independently of
``_pool_fluxes`` and ``compartmental_matrix``. Toy linear models check one pool (age = transit
time = 1/k) and a cascade. Every flagship member (model x variant) is checked on random rows of
its box: the mean transit time is the stock over the input, and the pool fluxes add up to the
tendencies, the input and the losses.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from harness.adapter import BaseAdapter, Driver, Interval, Parameter, Pool, PoolFluxes, Status, SteadyStateParts
from harness.ages import Ages, ages, compartmental_matrix
from harness.api import load
from harness.registry import get_adapter
from models.clm5_firstorder import equations as clm5

PLAN = load("scenarios/beta_sweep.yaml")
N_ROWS = 8
#: agreement with closed forms and identities: the solves are exact to ~1e-13 (condition of B)
RTOL = 1e-9
#: the pool-flux identities hold to rounding, relative to a row's largest flow (harness.testing)
FLUX_RTOL = 1e-12
REFERENCE = "toy model for the tests of harness.ages; no publication"
C_INPUT = Driver("c_input", "g C m-2 yr-1", "plant carbon input", Interval(0.0, 5000.0, (True, False)), 300.0)


class OnePool(BaseAdapter):
    """dX/dt = I - k X: age = transit time = 1/k, median ln 2 / k."""

    name = "one_pool"
    description = "one linear pool"
    reference = REFERENCE
    steady_state_method = "closed form X* = I/k"
    parameters = (Parameter("k", "yr-1", 0.02, Interval(0.0, 10.0, (True, False)), "decay rate", REFERENCE),)
    drivers = (C_INPUT,)
    pools = (Pool("som", "g C m-2", "soil organic matter", "som"),)
    outputs = ("soc", "respiration")

    def _steady_state(self, theta, forcing):
        return SteadyStateParts((forcing[:, 0] / theta[:, 0])[:, None], np.zeros(theta.shape[0], dtype=np.int8))

    def _tendencies(self, theta, forcing, pools):
        decay = theta[:, 0] * pools[:, 0]
        zero = np.zeros(theta.shape[0])
        return (forcing[:, 0] - decay)[:, None], {"uptake": decay, "growth": zero, "respiration": decay,
                                                  "leaching": zero}

    def _pool_fluxes(self, theta, forcing, pools):
        return PoolFluxes(forcing[:, :1].copy(), np.zeros((theta.shape[0], 1, 1)), theta[:, :1] * pools)


class Cascade(BaseAdapter):
    """Litter -> som: dL/dt = I - k_l L, dS/dt = e k_l L - k_s S.

    Pool ages 1/k_l and 1/k_l + 1/k_s (carbon reaches som after its time in litter); transit time
    (L* + S*)/I = 1/k_l + e/k_s.
    """

    name = "cascade"
    description = "two linear pools in series"
    reference = REFERENCE
    steady_state_method = "closed form"
    parameters = (
        Parameter("k_litter", "yr-1", 0.5, Interval(0.0, 10.0, (True, False)), "litter decay", REFERENCE),
        Parameter("k_som", "yr-1", 0.02, Interval(0.0, 1.0, (True, False)), "som decay", REFERENCE),
        Parameter("e", "1", 0.3, Interval(0.0, 1.0, (True, True)), "retained fraction of litter decay", REFERENCE),
    )
    drivers = (C_INPUT,)
    pools = (Pool("litter", "g C m-2", "litter", "litter"), Pool("som", "g C m-2", "soil organic matter", "som"))
    outputs = ("soc", "respiration")

    def _steady_state(self, theta, forcing):
        k_l, k_s, e = theta.T
        pools = np.column_stack([forcing[:, 0] / k_l, e * forcing[:, 0] / k_s])
        return SteadyStateParts(pools, np.zeros(theta.shape[0], dtype=np.int8))

    def _tendencies(self, theta, forcing, pools):
        k_l, k_s, e = theta.T
        uptake, decay = k_l * pools[:, 0], k_s * pools[:, 1]
        fluxes = {"uptake": uptake, "growth": e * uptake, "respiration": (1 - e) * uptake + decay,
                  "leaching": np.zeros(theta.shape[0])}
        return np.column_stack([forcing[:, 0] - uptake, e * uptake - decay]), fluxes

    def _pool_fluxes(self, theta, forcing, pools):
        k_l, k_s, e = theta.T
        uptake = k_l * pools[:, 0]
        transfers = np.zeros((theta.shape[0], 2, 2))
        transfers[:, 0, 1] = e * uptake
        inputs = np.column_stack([forcing[:, 0], np.zeros(theta.shape[0])])
        return PoolFluxes(inputs, transfers, np.column_stack([(1 - e) * uptake, k_s * pools[:, 1]]))


class CascadeWithoutHook(Cascade):
    _pool_fluxes = BaseAdapter._pool_fluxes


def _close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0.0)


def _survival(b: np.ndarray, alpha: np.ndarray, t: float) -> float:
    """1' exp(t B) alpha of one row, by the matrix exponential."""
    return float(expm(t * b).dot(alpha).sum())


# -- (a) CLM5 against its closed forms -----------------------------------------------------------
def _clm5_rows(adapter, n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Rows around the defaults: input, cue_scale, temperature, moisture, sand and the woody share vary."""
    rng = np.random.default_rng(seed)
    theta = adapter.default_theta(n, f_wood=rng.choice([0.0, 0.3], n), f_s3s1=rng.uniform(0.3, 0.6, n))
    forcing = adapter.make_forcing(n, c_input=rng.uniform(200, 800, n), cue_scale=rng.uniform(0.8, 1.2, n),
                                   temperature=rng.uniform(-5, 25, n), moisture=rng.uniform(0.15, 0.4, n),
                                   sand=rng.uniform(20, 60, n), clay=20.0)
    return theta, forcing


def _clm5_closed_form(adapter, theta, forcing) -> dict[str, np.ndarray]:
    """x* = -M^-1 BI, ages and transit time of M = A xi K, from the model's own equations."""
    p = {name: theta[:, j] for j, name in enumerate(adapter.parameter_names)}
    d = {name: forcing[:, j] for j, name in enumerate(adapter.driver_names)}
    f_s1s2 = clm5.s1_to_s2_fraction(d["sand"], p["f_s1s3"])  # f_s1s2 is unset (NaN): CLM's texture rule
    a = clm5.transfer_matrix(p["f_l1s1"], p["f_l2s1"], p["f_l3s2"], f_s1s2, p["f_s1s3"], p["f_s2s1"], p["f_s2s3"],
                             p["f_s3s1"], p["cwd_fcel"], d["cue_scale"])
    options = adapter.get_options()
    r_t = clm5.temperature_scalar(d["temperature"], p["q10"], p["q10_froz"], options["normalize_q10"],
                                  options["use_century_tfunc"])
    r_w = clm5.moisture_scalar(clm5.soil_water_potential(d["moisture"], d["sand"], d["clay"]), p["psi_min"],
                               p["psi_max"], p["w_scaling"])
    taus = ("tau_cwd", "tau_l1", "tau_l2_l3", "tau_l2_l3", "tau_s1", "tau_s2", "tau_s3")
    k = np.stack([1.0 / p[name] for name in taus], axis=1)
    m = a * (r_t * r_w)[:, None, None] * k[:, None, :]  # A xi K: column d scaled by k_d
    u = clm5.input_vector(d["c_input"], p["f_wood"], p["f_lab"], p["f_cel"], p["f_lig"])
    x = np.linalg.solve(-m, u[:, :, None])[:, :, 0]
    y = np.linalg.solve(-m, x[:, :, None])[:, :, 0]  # -M^-1 x*
    with np.errstate(invalid="ignore"):
        pool_ages = np.where(x > 0, y / x, np.nan)
    return {"m": m, "u": u, "x": x, "transit": x.sum(axis=1) / u.sum(axis=1), "age": y.sum(axis=1) / x.sum(axis=1),
            "pool_ages": pool_ages}


@pytest.mark.parametrize("options", [{}, {"normalize_q10": False, "use_century_tfunc": True}])
def test_clm5_ages_equal_the_closed_forms(options):
    adapter = get_adapter("clm5_firstorder", **options)
    theta, forcing = _clm5_rows(adapter, 12)
    found = ages(adapter, theta, forcing)
    assert found.ok.all(), found.message
    expected = _clm5_closed_form(adapter, theta, forcing)
    _close(found.result.pools, expected["x"])
    _close(found.mean_transit_time, expected["transit"])
    _close(found.mean_system_age, expected["age"])
    empty = expected["x"] == 0.0  # CWD without woody input
    assert empty[:, clm5.CWD].any() and not empty[:, clm5.CWD].all() and not empty[:, clm5.CWD + 1:].any()
    assert np.isnan(found.pool_ages[empty]).all()
    _close(found.pool_ages[~empty], expected["pool_ages"][~empty])
    # the medians: survival 1/2 there, by the matrix exponential of the closed-form M
    for i in range(theta.shape[0]):
        m, u, x = expected["m"][i], expected["u"][i], expected["x"][i]
        assert abs(_survival(m, u / u.sum(), found.median_transit_time[i]) - 0.5) < RTOL
        assert abs(_survival(m, x / x.sum(), found.median_system_age[i]) - 0.5) < RTOL


def test_clm5_compartmental_matrix_is_a_xi_k():
    adapter = get_adapter("clm5_firstorder")
    theta, forcing = _clm5_rows(adapter, 6)
    pools = adapter.steady_state(theta, forcing).pools
    b = compartmental_matrix(adapter.pool_fluxes(theta, forcing, pools), pools)
    m = _clm5_closed_form(adapter, theta, forcing)["m"]
    live = pools[:, clm5.CWD] > 0
    np.testing.assert_allclose(b[live], m[live], rtol=RTOL, atol=RTOL * np.abs(m).max())
    # an empty CWD: its column is -e_CWD (no stock, no flow)
    np.testing.assert_array_equal(b[~live][:, :, clm5.CWD], -np.eye(7)[clm5.CWD][None].repeat((~live).sum(), 0))


# -- (b) toy linear models -------------------------------------------------------------------------
def test_one_pool_age_and_transit_time_are_one_over_k():
    adapter = OnePool()
    k = np.array([0.001, 0.02, 0.5, 7.0])
    found = ages(adapter, k[:, None], adapter.make_forcing(4, c_input=[10.0, 300.0, 300.0, 4000.0]))
    assert found.ok.all()
    _close(found.mean_transit_time, 1.0 / k, 1e-14)
    _close(found.mean_system_age, 1.0 / k, 1e-14)
    _close(found.pool_age("som"), 1.0 / k, 1e-14)
    _close(found.median_transit_time, np.log(2.0) / k, 1e-12)
    _close(found.median_system_age, np.log(2.0) / k, 1e-12)


def test_cascade_pool_ages_add_the_residence_times_upstream():
    adapter = Cascade()
    theta = adapter.default_theta(3, k_litter=[0.5, 2.0, 0.5], k_som=[0.02, 0.1, 0.5], e=[0.3, 0.6, 0.9])
    found = ages(adapter, theta, adapter.make_forcing(3))
    k_l, k_s, e = theta.T
    _close(found.pool_age("litter"), 1.0 / k_l, 1e-14)
    _close(found.pool_age("som"), 1.0 / k_l + 1.0 / k_s, 1e-14)
    _close(found.mean_transit_time, 1.0 / k_l + e / k_s, 1e-14)
    stock = np.column_stack([1.0 / k_l, e / k_s])  # per unit input
    _close(found.mean_system_age, (stock * found.pool_ages).sum(axis=1) / stock.sum(axis=1), 1e-14)


def test_medians_of_a_cascade_with_equal_rates():
    """k_l = k_s = k: B is a Jordan block (no eigenvector basis), so the medians come from expm.

    The transit time leaves litter after Exp(k) (1 - e) or som after two: S(t) = exp(-k t) (1 + e k t);
    the age of litter carbon is Exp(k), of som carbon Gamma(2, k).
    """
    from scipy.optimize import brentq

    adapter = Cascade()
    k, e = 0.5, 0.3
    found = ages(adapter, adapter.default_theta(1, k_litter=k, k_som=k, e=e), adapter.make_forcing(1))
    transit = brentq(lambda t: np.exp(-k * t) * (1.0 + e * k * t) - 0.5, 0.0, 100.0, xtol=1e-15)
    share = 1.0 / (1.0 + e)  # of the stock in litter: L* = I/k, S* = e I/k
    age = brentq(lambda t: np.exp(-k * t) * (share + (1 - share) * (1.0 + k * t)) - 0.5, 0.0, 100.0, xtol=1e-15)
    _close(found.median_transit_time, [transit], 1e-12)
    _close(found.median_system_age, [age], 1e-12)


def test_rows_without_ages_are_nan_with_a_message():
    adapter = Cascade()
    theta = adapter.default_theta(3, k_som=[0.02, 0.0, 0.02])  # row 1 outside (0, 1]
    found = ages(adapter, theta, adapter.make_forcing(3))
    assert found.result.status.tolist() == [Status.OK, Status.OUT_OF_DOMAIN, Status.OK]
    assert found.ok.tolist() == [True, False, True]
    assert found.message[1].startswith("steady state out of domain: parameter k_som=0.0")
    values = (found.mean_transit_time, found.mean_system_age, found.median_transit_time, found.median_system_age)
    assert all(np.isnan(v[1]) and np.isfinite(v[[0, 2]]).all() for v in values)
    assert np.isnan(found.pool_ages[1]).all()


def test_an_adapter_without_pool_fluxes_has_no_ages_and_no_error():
    adapter = CascadeWithoutHook()
    found = ages(adapter, adapter.default_theta(2), adapter.make_forcing(2))
    assert isinstance(found, Ages) and found.result.ok.all() and not found.ok.any()
    assert set(found.message) == {"cascade does not implement _pool_fluxes: ages and transit times unavailable"}
    assert np.isnan(found.mean_transit_time).all() and np.isnan(found.pool_ages).all()


def test_medians_can_be_left_out():
    adapter = Cascade()
    found = ages(adapter, adapter.default_theta(2), adapter.make_forcing(2), medians=False)
    assert np.isfinite(found.mean_transit_time).all() and np.isnan(found.median_transit_time).all()


# -- (c), (d) every flagship member --------------------------------------------------------------
def _batch(member, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return member.theta(N_ROWS), member.random_forcing(PLAN.scenario.drivers, N_ROWS, rng)


@pytest.mark.parametrize("member", PLAN.members, ids=[m.label for m in PLAN.members])
def test_flagship_transit_time_is_stock_over_input_and_fluxes_add_up(member):
    adapter = member.adapter
    theta, forcing = _batch(member)
    found = ages(adapter, theta, forcing)
    ok = found.result.ok
    assert ok.any(), f"{member.label}: no row solved: {set(found.result.message)}"
    assert (found.ok == ok).all(), found.message[ok]
    pools, th, fo = found.result.pools[ok], theta[ok], forcing[ok]
    c_input = fo[:, adapter.driver_names.index("c_input")]
    # (c) 1' x* / 1' u with x* = -B^-1 u: the stock over the input
    _close(found.mean_transit_time[ok], pools.sum(axis=1) / c_input)
    # (c) the pool fluxes add up to the tendencies, the input and the losses
    flows = adapter.pool_fluxes(th, fo, pools)
    dpools, fluxes = adapter.tendencies(th, fo, pools)
    scale = flows.scale()[:, None]
    assert (np.abs(flows.net() - dpools) <= FLUX_RTOL * scale).all()
    _close(flows.inputs.sum(axis=1), c_input, FLUX_RTOL)
    losses = np.add.reduce([fluxes[name] for name in adapter.loss_fluxes])
    assert (np.abs(flows.outflux.sum(axis=1) - losses) <= FLUX_RTOL * scale[:, 0]).all()
    # (d) ages: the system's at least 0, each non-empty pool's finite and positive, an empty pool's NaN
    assert (found.mean_system_age[ok] >= 0).all()
    filled = pools > 0
    assert np.isfinite(found.pool_ages[ok][filled]).all() and (found.pool_ages[ok][filled] > 0).all()
    assert np.isnan(found.pool_ages[ok][~filled]).all()
    assert (found.median_transit_time[ok] > 0).all() and (found.median_system_age[ok] > 0).all()
    # the system age is the stock-weighted mean of the pool ages
    weighted = np.where(filled, pools * np.nan_to_num(found.pool_ages[ok]), 0.0).sum(axis=1) / pools.sum(axis=1)
    _close(found.mean_system_age[ok], weighted)

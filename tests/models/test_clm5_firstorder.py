"""Tests of the CLM5 first-order cascade against ``docs/models/clm5_firstorder.md`` section (h).

Tolerances: the spec's rtol 1e-5 for its printed numbers, plus half a unit in the last printed
digit where the spec rounds to fewer digits than rtol resolves (``ReferenceCase.checks``, see
``assert_printed``); 1e-9 for the explicit form against a dense solve and for the fixed-point residual
(spec (g)); 1e-12 for identities that hold up to round-off (mass balance, linearity in c_input).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from harness.adapter import ParameterError, ReferenceCase, Status, metadata_problems
from models.clm5_firstorder import Clm5FirstOrderAdapter
from models.clm5_firstorder import equations as eq

RTOL = 1e-5  # spec (h)
EXAMPLE = {"c_input": 500.0, "sand": 40.0, "temperature": 10.0}
PSI = {"psi_mpa": -0.05}


@pytest.fixture(scope="module")
def adapter():
    return Clm5FirstOrderAdapter()


def assert_printed(actual, text: str) -> None:
    """``actual`` matches the spec's printed ``text`` to RTOL plus half a unit in its last digit."""
    ((_, value, tolerance),) = ReferenceCase("printed", {}, {"x": text}, "spec (h)", RTOL).checks()
    assert abs(float(actual) - value) <= tolerance, f"{actual!r} != {text} (printed)"


def random_inputs(adapter, n: int, seed: int = 20240611) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random in-domain rows: parameters uniform in their bounds, optional ones unset."""
    rng = np.random.default_rng(seed)
    theta = adapter.default_theta(n)
    for j, p in enumerate(adapter.parameters):
        if not p.optional:
            lo, hi = p.interval.lower, p.interval.upper
            lo = lo + 1e-3 * (hi - lo) if p.interval.open_bounds[0] else lo
            theta[:, j] = rng.uniform(lo, hi, n)
    theta[:, adapter.parameter_names.index("f_wood")] = rng.uniform(0.0, 0.5, n)
    split = rng.dirichlet([2.0, 2.0, 2.0], n)
    for j, name in enumerate(("f_lab", "f_cel", "f_lig")):
        theta[:, adapter.parameter_names.index(name)] = split[:, j]
    # cue_scale <= 1.1 keeps every retained fraction below 1 (largest unscaled one: S3's 0.9);
    # moisture >= 0.35 with clay <= 30 keeps psi above psi_min's upper bound -0.5 MPa; clay + sand
    # <= 100 % and moisture <= the porosity 0.489 - 0.00126 sand (>= 0.363) keep the soil physical
    clay = rng.uniform(0.0, 30.0, n)
    sand = rng.uniform(0.0, 1.0, n) * (100.0 - clay)
    wet = rng.uniform(0.35, np.minimum(0.45, 0.489 - 0.00126 * sand))
    moisture = np.where(rng.uniform(size=n) < 0.5, np.nan, wet)
    forcing = adapter.make_forcing(
        n, c_input=rng.uniform(50.0, 1500.0, n), cue_scale=rng.uniform(0.5, 1.1, n),
        temperature=rng.uniform(-20.0, 40.0, n), moisture=moisture, sand=sand, clay=clay,
    )
    assert adapter.steady_state(theta, forcing).ok.all()
    return theta, forcing


def with_c_input(adapter, forcing: np.ndarray, factor: float) -> np.ndarray:
    scaled = forcing.copy()
    scaled[:, adapter.driver_names.index("c_input")] *= factor
    return scaled


# -- metadata and options ----------------------------------------------------------------------
def test_metadata_complete(adapter):
    assert metadata_problems(adapter) == []
    assert adapter.outputs == ("soc", "soc_total", "litter", "respiration", "cue_bulk")


def test_normalised_q10_and_century_tfunc_cannot_be_combined():
    with pytest.raises(ParameterError, match="normalize_q10=False"):
        Clm5FirstOrderAdapter(use_century_tfunc=True)
    century = Clm5FirstOrderAdapter(normalize_q10=False, use_century_tfunc=True)
    assert century.get_options() == {"normalize_q10": False, "use_century_tfunc": True}


@pytest.mark.parametrize(
    ("options", "temperature"),
    [({"normalize_q10": False}, 25.0), ({"normalize_q10": False, "use_century_tfunc": True}, 30.0)],
)
def test_options_reach_xi_one_at_their_reference_temperature(options, temperature):
    """Without N, r_T = 1 at 25 degC (Q10) or 30 degC (catanf); moisture absent gives r_W = 1."""
    adapter = Clm5FirstOrderAdapter(**options)
    result = adapter.evaluate(**{**EXAMPLE, "temperature": temperature})
    np.testing.assert_allclose(result.pools, adapter.evaluate({"xi_fixed": 1.0}, **EXAMPLE).pools, rtol=1e-15)


# -- section (h): published numbers -------------------------------------------------------------
@pytest.mark.parametrize("case", Clm5FirstOrderAdapter.reference_cases, ids=lambda c: c.name)
def test_reference_case(adapter, case):
    result = adapter.evaluate(dict(case.parameters), **case.drivers)
    assert result.ok.all(), result.message
    for key, value, tolerance in case.checks():
        actual = result.get(key)[0]
        assert abs(actual - value) <= tolerance, f"{key}: {actual!r} vs {value!r} ± {tolerance:.3g}"


def test_example_scalars():
    r_t = eq.temperature_scalar(10.0, 1.5, 1.5)
    r_w = eq.moisture_scalar(-0.05, -2.5, -0.002)
    assert_printed(eq.q10_normalisation(1.5), "0.820595")
    assert_printed(r_t, "0.446675")
    assert_printed(r_w, "0.548602")
    assert_printed(r_t * r_w, "0.245047")


def test_example_fluxes_and_turnover(adapter):
    theta = adapter.default_theta(1, **PSI)
    forcing = adapter.make_forcing(1, **EXAMPLE)
    system = adapter._system(theta, forcing)
    result = adapter.steady_state(theta, forcing)
    phi = system.xi[:, None] * system.k * result.pools
    assert_printed(eq.loop_determinant(system.transfers)[0], "0.758041")
    for pool, text in zip((eq.S1, eq.S2, eq.S3), ("274.845", "214.764", "7.5423")):
        assert_printed(phi[0, pool], text)
    assert_printed(result.get("soc")[0] / EXAMPLE["c_input"], "22.75")


def test_xi_equals_normalisation_at_25_degc_and_wet_soil():
    r_t = eq.temperature_scalar(25.0, 1.5, 1.5)
    np.testing.assert_allclose(r_t, eq.q10_normalisation(1.5), rtol=1e-15)
    np.testing.assert_array_equal(eq.moisture_scalar([-0.002, -0.001, -1e-6], -2.5, -0.002), 1.0)


def test_sand_rule():
    retained = 1.0 - eq.s1_respired_fraction(np.array([100.0, 40.0, 0.0]))
    np.testing.assert_allclose(retained[[0, 2]], [0.15, 0.83], rtol=1e-12)
    assert_printed(retained[1], "0.56")
    np.testing.assert_allclose(eq.s1_to_s2_fraction(40.0, 0.004), 1.0 - 0.442 - 0.004, rtol=1e-12)


@pytest.mark.parametrize(
    ("scale", "all_steps", "s1_unscaled"), [(0.9, "0.7516", "0.826"), (1.1, "1.3223", "1.197")]
)
def test_cue_scale_ratios(adapter, scale, all_steps, s1_unscaled):
    base = adapter.evaluate(PSI, **EXAMPLE).get("soc")[0]
    scaled = adapter.evaluate(PSI, **EXAMPLE, cue_scale=scale).get("soc")[0]
    assert_printed(scaled / base, all_steps)
    # counterfactual of spec (h): the S1 -> S2/S3 step left unscaled
    forcing = adapter.make_forcing(1, **EXAMPLE, cue_scale=scale)
    system = adapter._system(adapter.default_theta(1, **PSI), forcing)
    t = system.transfers
    unscaled = t._replace(s1_s2=t.s1_s2 / scale, s1_s3=t.s1_s3 / scale)
    pools = eq.steady_state(system.inputs, unscaled, system.k, system.xi)
    assert_printed(pools[0, eq.S1:].sum() / base, s1_unscaled)


def test_theta_to_psi_example():
    theta_sat, b, psi_sat = eq.cosby_parameters(40.0, 20.0)
    assert_printed(theta_sat, "0.4386")
    assert_printed(b, "6.09")
    assert_printed(psi_sat, "226.986")
    psi = eq.soil_water_potential(0.25, 40.0, 20.0)
    assert_printed(psi, "-0.068275")
    assert_printed(eq.moisture_scalar(psi, -2.5, -0.002), "0.504915")
    # the spec's theta = 0.26312 is the water content of psi = -0.05 MPa rounded to 5 digits
    theta = brentq(lambda t: eq.soil_water_potential(t, 40.0, 20.0) + 0.05, 0.2, 0.4, xtol=1e-14)
    assert round(theta, 5) == 0.26312


def test_moisture_driver_matches_psi_override(adapter):
    theta_w = brentq(lambda t: eq.soil_water_potential(t, 40.0, 20.0) + 0.05, 0.2, 0.4, xtol=1e-15)
    from_moisture = adapter.evaluate(**EXAMPLE, moisture=theta_w, clay=20.0)
    from_psi = adapter.evaluate(PSI, **EXAMPLE)
    # theta_w is exact to ~1e-15, so psi and the pools agree far below 1e-9
    np.testing.assert_allclose(from_moisture.pools, from_psi.pools, rtol=1e-9)


# -- temperature and moisture scalars ----------------------------------------------------------
def test_temperature_scalar_variants():
    t = np.array([-10.0, 0.0, 10.0, 30.0])
    raw = eq.temperature_scalar(t, 2.0, 3.0, normalize_q10=False)
    np.testing.assert_allclose(raw, [2.0**-2.5 * 3.0**-1.0, 2.0**-2.5, 2.0**-1.5, 2.0**0.5], rtol=1e-15)
    normalised = eq.temperature_scalar(t, 2.0, 3.0)
    np.testing.assert_allclose(normalised, raw * eq.q10_normalisation(2.0), rtol=1e-15)
    century = eq.temperature_scalar(np.array([-60.0, 30.0]), 2.0, 3.0, False, use_century_tfunc=True)
    np.testing.assert_allclose(century, [0.01, 1.0], rtol=1e-15)


def test_moisture_scalar_limits_and_scaling():
    psi = np.array([-3.0, -2.5, -0.05, -0.002, -0.001])
    np.testing.assert_allclose(eq.moisture_scalar(psi, -2.5, -0.002), [0, 0, 0.548602, 1, 1], rtol=RTOL)
    np.testing.assert_allclose(eq.moisture_scalar(-0.05, -2.5, -0.002, 2.0), 1.0, rtol=1e-15)


def test_overrides(adapter):
    fixed = adapter.evaluate({"xi_fixed": 0.245047, "f_s1s2": 0.554}, **EXAMPLE)
    np.testing.assert_allclose(fixed.get("soc"), adapter.evaluate(PSI, **EXAMPLE).get("soc"), rtol=RTOL)
    # an explicit f_s1s2 replaces the texture rule: sand no longer matters without moisture
    # (clay 0: clay + sand <= 100 %; clay enters only theta -> psi, unused without moisture)
    set_s1 = [adapter.evaluate({"f_s1s2": 0.3}, **{**EXAMPLE, "sand": s, "clay": 0.0}).pools for s in (0.0, 100.0)]
    np.testing.assert_array_equal(*set_s1)


# -- section (g): steady state, mass balance, linearity -------------------------------------------
def test_explicit_form_equals_dense_solve(adapter):
    theta, forcing = random_inputs(adapter, 64)
    system = adapter._system(theta, forcing)
    matrix = system.transfers.matrix() * (system.xi[:, None] * system.k)[:, None, :]
    dense = -np.linalg.solve(matrix, system.inputs[..., None])[..., 0]
    np.testing.assert_allclose(adapter.steady_state(theta, forcing).pools, dense, rtol=1e-9, atol=0)


def test_sparse_tendencies_equal_dense_matrix_product(adapter):
    """dX/dt from A's non-zero entries equals B I + A (xi K X) with the dense A, at arbitrary pools."""
    theta, forcing = random_inputs(adapter, 64)
    system = adapter._system(theta, forcing)
    pools = np.random.default_rng(2).uniform(0.0, 5000.0, (64, 7))
    dpools, _ = eq.tendencies(pools, system.inputs, system.transfers, system.k, system.xi)
    phi = system.xi[:, None] * system.k * pools
    dense = system.inputs + np.matmul(system.transfers.matrix(), phi[:, :, None])[:, :, 0]
    # the same terms summed in another order (BLAS may fuse multiply-adds): each differs from the exact
    # sum by a few eps x the sum of the terms' magnitudes; 1e-14 is ~50 eps of that sum
    magnitude = (np.abs(system.inputs) + np.abs(phi)).sum(axis=1, keepdims=True)
    assert (np.abs(dpools - dense) <= 1e-14 * magnitude).all()


def test_retained_fractions_are_the_dense_column_sums_bit_for_bit(adapter):
    """The structured sums add the dense column's entries (diagonal -1 included) in its order."""
    theta, forcing = random_inputs(adapter, 256)
    t = adapter._system(theta, forcing).transfers
    dense = np.einsum("nrd->nd", t.matrix()) + 1.0
    np.testing.assert_array_equal(eq.retained_fractions(t), dense)
    a = t.matrix()
    np.testing.assert_array_equal(eq.loop_determinant(t), 1.0 - a[:, eq.S1, eq.S2] * a[:, eq.S2, eq.S1]
                                  - a[:, eq.S1, eq.S3] * a[:, eq.S3, eq.S1]
                                  - a[:, eq.S1, eq.S3] * a[:, eq.S3, eq.S2] * a[:, eq.S2, eq.S1])


def test_system_take_equals_system_of_the_rows(adapter):
    """The system built once for a batch, taken at some rows, is the system of those rows bit for bit."""
    theta, forcing = random_inputs(adapter, 32)
    rows = np.array([3, 7, 8, 30])
    taken, alone = adapter._system(theta, forcing).take(rows), adapter._system(theta[rows], forcing[rows])
    for name in ("inputs", "k", "xi", "r_t", "r_w", "psi", "retained", "delta"):
        np.testing.assert_array_equal(getattr(taken, name), getattr(alone, name))
    for mine, theirs in zip(taken.transfers, alone.transfers):
        np.testing.assert_array_equal(mine, theirs)


def test_fixed_point_residual(adapter):
    theta, forcing = random_inputs(adapter, 64)
    result = adapter.steady_state(theta, forcing)
    dpools, _ = adapter.tendencies(theta, forcing, result.pools)
    c_input = forcing[:, adapter.driver_names.index("c_input")]
    assert (np.abs(dpools).max(axis=1) <= 1e-9 * c_input).all()


def test_mass_balance(adapter):
    theta, forcing = random_inputs(adapter, 64)
    c_input = forcing[:, adapter.driver_names.index("c_input")]
    result = adapter.steady_state(theta, forcing)
    np.testing.assert_allclose(result.get("respiration"), c_input, rtol=1e-12)
    pools = np.random.default_rng(1).uniform(0.0, 5000.0, result.pools.shape)
    dpools, fluxes = adapter.tendencies(theta, forcing, pools)
    budget = c_input - fluxes["respiration"] - fluxes["leaching"]
    # round-off of a sum of terms of size ~|dX/dt|: absolute tolerance relative to their magnitude
    np.testing.assert_allclose(dpools.sum(axis=1), budget, rtol=0, atol=1e-12 * np.abs(dpools).sum())
    np.testing.assert_array_equal(fluxes["leaching"], 0.0)


def test_cue_bulk_is_one_minus_respired_share(adapter):
    theta, forcing = random_inputs(adapter, 16)
    result = adapter.steady_state(theta, forcing)
    _, fluxes = adapter.tendencies(theta, forcing, result.pools)
    expected = 1.0 - fluxes["respiration"] / fluxes["uptake"]
    np.testing.assert_allclose(result.get("cue_bulk"), expected, rtol=1e-12)
    assert ((result.get("cue_bulk") > 0) & (result.get("cue_bulk") < 1)).all()


@pytest.mark.parametrize("factor", [2.0, 3.7])
def test_pools_scale_linearly_with_c_input(adapter, factor):
    """d ln X*/d ln c_input = 1 exactly, as a finite ratio."""
    theta, forcing = random_inputs(adapter, 64)
    base = adapter.steady_state(theta, forcing)
    scaled = adapter.steady_state(theta, with_c_input(adapter, forcing, factor))
    # rows whose scaled stock passes the plausible 1e7 g C m-2 (cold and wet: -20 degC) are flagged instead
    implausible = factor * base.get("soc") > adapter.plausible_outputs["soc"][1]
    np.testing.assert_array_equal(scaled.status, np.where(implausible, Status.IMPLAUSIBLE, Status.OK))
    kept = ~implausible
    assert kept.sum() >= 48
    np.testing.assert_allclose(scaled.get("soc")[kept] / base.get("soc")[kept], factor, rtol=1e-12)
    np.testing.assert_allclose(scaled.pools[kept], factor * base.pools[kept], rtol=1e-12)


# -- batches and the domain -----------------------------------------------------------------------
def test_batch_equals_row_loop(adapter):
    theta, forcing = random_inputs(adapter, 16)
    batch = adapter.steady_state(theta, forcing)
    for i in range(theta.shape[0]):
        row = adapter.steady_state(theta[i : i + 1], forcing[i : i + 1])
        np.testing.assert_array_equal(row.pools[0], batch.pools[i])
        np.testing.assert_array_equal(row.outputs[0], batch.outputs[i])


def test_out_of_domain_rows_are_isolated(adapter):
    # (parameters on top of PSI, drivers on top of EXAMPLE, text the message must hold or None)
    rows = [
        ({}, {}, None),
        ({}, {"c_input": 0.0}, "outside (0, inf)"),
        ({}, {"c_input": -1.0}, "outside (0, inf)"),
        ({}, {"cue_scale": 1.3, "sand": 0.0}, "s1 = cue_scale 1.3 x 0.83 (unscaled) = 1.079; it must lie in"),
        ({"psi_mpa": -3.0}, {}, "psi = -3 MPa); xi must be > 0"),
        ({"psi_mpa": np.nan}, {"moisture": 0.05}, "must be > psi_min = -2.5 MPa"),
        ({"f_lab": 0.3}, {}, "f_lab + f_cel + f_lig = 1.05"),
        ({}, {"sand": 100.0, "clay": 0.0}, None),
    ]
    theta = np.vstack([adapter.default_theta(1, **{**PSI, **p}) for p, _, _ in rows])
    forcing = np.vstack([adapter.make_forcing(1, **{**EXAMPLE, **d}) for _, d, _ in rows])
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


def test_failing_case_is_rejected(adapter):
    case = adapter.failing_case
    result = adapter.evaluate(dict(case.parameters), **case.drivers)
    assert result.status[0] == Status.OUT_OF_DOMAIN
    assert "cue_scale 1.3" in result.message[0]

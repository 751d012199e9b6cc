"""Non-finite numbers, numeric exceptions, mass balance and physical domains (issue 17).

``BaseAdapter.steady_state`` keeps a solved row ``OK`` only if its pools, tendencies, fluxes and
harmonised outputs are finite and its losses balance its carbon input; a batch whose solver raises
a numeric exception is solved again row by row. Rows that pass keep their values bit for bit
(compared as int64 views: NaN matches NaN, 0.0 does not match -0.0).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from harness.adapter import (
    EXPONENT_MAX,
    MASS_BALANCE_RTOL,
    PH_RANGE,
    BaseAdapter,
    Driver,
    Interval,
    Parameter,
    Pool,
    Status,
    SteadyStateParts,
    SteadyStateResult,
    metadata_problems,
)
from harness.errors import AdapterValidationError
from harness.registry import get_adapter, get_adapter_class
from harness.testing import check_adapter, check_mass_balance
from models.clm5_firstorder import Clm5FirstOrderAdapter
from models.millennial import MillennialAdapter
from models.mimics import MimicsAdapter
from models.soil_water import cosby_parameters
from models.tao_enzyme import TaoEnzymeAdapter
from models.tao_enzyme import equations as tao_eq

#: float64 overflow at c_input 1e302-1e307 warns inside the models before the row is flagged
OVERFLOW_WARNINGS = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                                               "ignore:invalid value encountered:RuntimeWarning")
BUILTINS = ("awb", "clm5_firstorder", "millennial", "mimics", "tao_enzyme")
#: option sets whose rows are checked beyond the defaults (beta variants exercise the nonlinear solvers)
OPTION_SETS = {
    "awb": [{}, {"parameter_set": "li2014"}, {"parameter_set": "he2024_fit", "beta_rescale": "reference"}],
    "clm5_firstorder": [{}, {"normalize_q10": False, "use_century_tfunc": True}],
    "millennial": [{}, {"parameter_set": "default", "beta_rescale": "reference"}],
    "mimics": [{}, {"parameter_set": "stode_rev_npp"}, {"parameter_set": "stode_rev_beta", "beta_rescale": "reference"}],
    "tao_enzyme": [{}, {"beta_rescale": "none"}],
}


def same_bits(a, b) -> np.ndarray:
    """Elementwise bit identity (NaN matches NaN)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


def assert_rows_identical(result: SteadyStateResult, rows, clean: SteadyStateResult) -> None:
    """Rows ``rows`` of ``result`` equal the rows of ``clean`` bit for bit, with the same status."""
    part = result.take(np.asarray(rows))
    assert same_bits(part.pools, clean.pools).all() and same_bits(part.outputs, clean.outputs).all()
    assert list(part.status) == list(clean.status) and list(part.message) == list(clean.message)


# -- a small plug-in: litter -> som, respired or not -------------------------------------------
class TwoPool(BaseAdapter):
    """dL/dt = I - k_l L, dS/dt = e k_l L - k_s S; respiration (1 - e) k_l L + k_s S, no leaching.

    ``respired`` scales the reported respiration (1: correct; 0.9: 10 % of the input unaccounted).
    """

    name = "two_pool"
    description = "linear two-pool plug-in for the numerics tests"
    reference = "no publication: a test model"
    steady_state_method = "closed form"
    parameters = (
        Parameter("k_l", "yr-1", 0.5, Interval(0.0, 10.0, (True, False)), "litter decay", "test"),
        Parameter("k_s", "yr-1", 0.02, Interval(0.0, 1.0, (True, False)), "som decay", "test"),
        Parameter("e", "1", 0.4, Interval(0.0, 1.0, (True, True)), "efficiency", "test"),
    )
    drivers = (Driver("c_input", "g C m-2 yr-1", "input", Interval(0.0, np.inf, (True, True)), 300.0),)
    pools = (Pool("litter", "g C m-2", "litter", "litter"), Pool("som", "g C m-2", "som", "som"))
    outputs = ("soc", "soc_total", "respiration", "cue_bulk")
    respired = 1.0

    def _steady_state(self, theta, forcing):
        k_l, k_s, e = theta.T
        c_input = forcing[:, 0]
        pools = np.column_stack([c_input / k_l, e * c_input / k_s])
        return SteadyStateParts(pools, np.zeros(len(theta), dtype=np.int8))

    def _tendencies(self, theta, forcing, pools):
        k_l, k_s, e = theta.T
        uptake = k_l * pools[:, 0]
        growth = e * uptake
        decay = k_s * pools[:, 1]
        fluxes = {"uptake": uptake, "growth": growth, "respiration": self.respired * (uptake - growth + decay),
                  "leaching": np.zeros(len(theta))}
        return np.column_stack([forcing[:, 0] - uptake, growth - decay]), fluxes


class ShortRespiration(TwoPool):
    """Reports respiration 10 % short of the input it loses at the steady state."""

    respired = 0.9


class Eroding(TwoPool):
    """Loses 5 % of som decay to erosion, declared as a further loss flux."""

    loss_fluxes = ("respiration", "leaching", "erosion")

    def _tendencies(self, theta, forcing, pools):
        dpools, fluxes = super()._tendencies(theta, forcing, pools)
        decay = theta[:, 1] * pools[:, 1]
        return dpools, {**fluxes, "respiration": fluxes["respiration"] - 0.05 * decay, "erosion": 0.05 * decay}


class UndeclaredErosion(Eroding):
    """Reports erosion but does not declare it a loss: its respiration alone misses the input."""

    loss_fluxes = ("respiration", "leaching")


# -- non-finite outputs and fluxes ---------------------------------------------------------------
@OVERFLOW_WARNINGS
def test_overflowing_output_is_flagged_and_named():
    """CLM5 at c_input near 1e307: every pool is finite but soc (a sum) overflows to inf."""
    model = Clm5FirstOrderAdapter()
    c_input = np.array([500.0, 1.8e307, 1.74e307, 400.0])
    result = model.evaluate(c_input=c_input)
    assert list(result.status) == [Status.OK, Status.NON_FINITE, Status.NON_FINITE, Status.OK]
    assert "outputs: soc=inf, soc_total=inf" in result.message[1]
    assert "outputs: soc_total=inf" in result.message[2] and "soc=" not in result.message[2]
    assert np.isnan(result.pools[1:3]).all() and np.isnan(result.outputs[1:3]).all()
    assert_rows_identical(result, [0, 3], model.evaluate(c_input=c_input[[0, 3]]))


def test_non_finite_flux_is_flagged_and_named():
    class NanRespiration(TwoPool):
        def _tendencies(self, theta, forcing, pools):
            dpools, fluxes = super()._tendencies(theta, forcing, pools)
            return dpools, {**fluxes, "respiration": np.where(forcing[:, 0] > 1e3, np.nan, fluxes["respiration"])}

    result = NanRespiration().evaluate(c_input=np.array([300.0, 2e3]))
    assert list(result.status) == [Status.OK, Status.NON_FINITE]
    assert "fluxes: respiration=nan" in result.message[1] and "outputs: respiration=nan" in result.message[1]


def test_output_beyond_its_plausible_bound_is_flagged_and_named():
    """CLM5 at c_input 1e6 g C m-2 yr-1: soc 1.02e7 g C m-2 is finite but no soil holds it."""
    model = Clm5FirstOrderAdapter()
    c_input = np.array([500.0, 1e6, 1e307, 400.0])
    result = model.evaluate(c_input=c_input)
    assert list(result.status) == [Status.OK, Status.IMPLAUSIBLE, Status.IMPLAUSIBLE, Status.OK]
    assert "soc = 1.01909e+07 [g C m-2]" in result.message[1] and "outside the plausible [0, 1e+07]" in result.message[1]
    assert np.isnan(result.outputs[1:3]).all()
    assert Status.IMPLAUSIBLE.flag == "implausible"


def test_an_adapter_may_declare_a_wider_plausible_range():
    class Peatland(Clm5FirstOrderAdapter):
        plausible_outputs = {**Clm5FirstOrderAdapter.plausible_outputs, "soc": (0.0, 1e9), "soc_total": (0.0, 1e9)}

    result = Peatland().evaluate(c_input=np.array([1e6]))
    assert list(result.status) == [Status.OK]
    np.testing.assert_allclose(result.get("soc"), 1e6 / 500.0 * Clm5FirstOrderAdapter().evaluate().get("soc"),
                               rtol=1e-12)


# -- a solver that raises ------------------------------------------------------------------------
@OVERFLOW_WARNINGS
def test_tao_row_beyond_float64_fails_alone():
    """c_input 1e302 overflowed the soil Jacobian and raised LinAlgError for the whole batch."""
    model = TaoEnzymeAdapter()
    c_input = np.array([300.0, 1e302, 500.0, 1e307, 2000.0])
    result = model.evaluate(c_input=c_input)
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED, Status.OK, Status.NON_FINITE, Status.OK]
    assert "soil Jacobian at the steady state is not finite" in result.message[1]
    assert "steady state overflows float64: doc=nan, soc_pool=inf" in result.message[3]
    assert_rows_identical(result, [0, 2, 4], model.evaluate(c_input=c_input[[0, 2, 4]]))


def test_tao_eigenvalues_of_a_non_finite_jacobian_are_nan():
    good, bad = np.full(11, 1.0), np.full(11, 1.0)
    bad[3] = np.inf
    jac = tao_eq.SoilJacobian(*np.column_stack([good, bad]))
    value = tao_eq.max_real_eigenvalue(jac)
    assert np.isnan(value[1]) and value[0] == tao_eq.max_real_eigenvalue(tao_eq.SoilJacobian(*good[:, None]))[0]


def _raw_max_real_eigenvalue(jac):
    """The eigenvalue routine before the guard: raises LinAlgError on a non-finite matrix."""
    return np.linalg.eigvals(jac.matrix()).real.max(axis=1)


@OVERFLOW_WARNINGS
def test_batch_that_raises_is_solved_row_by_row(monkeypatch):
    """The issue's case: tao_enzyme raising LinAlgError for one row among good rows (guard removed)."""
    monkeypatch.setattr(tao_eq, "max_real_eigenvalue", _raw_max_real_eigenvalue)
    model = TaoEnzymeAdapter()
    c_input = np.array([300.0, 1e302, 500.0, 2000.0])
    with pytest.raises(np.linalg.LinAlgError):
        model._steady_state(*(np.ascontiguousarray(a) for a in (model.default_theta(4),
                                                                 model.make_forcing(4, c_input=c_input))))
    result = model.evaluate(c_input=c_input)
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED, Status.OK, Status.OK]
    assert result.message[1].startswith("the solver raised LinAlgError: ")  # numpy: "Array must not contain infs or NaNs"
    assert_rows_identical(result, [0, 2, 3], model.evaluate(c_input=c_input[[0, 2, 3]]))


class Fragile(TwoPool):
    """Raises for the whole batch when any row has c_input above 1e4; ``error`` picks the exception."""

    error: type[Exception] = FloatingPointError

    def _steady_state(self, theta, forcing):
        if (forcing[:, 0] > 1e4).any():
            raise self.error(f"c_input {forcing[:, 0].max():g} overflows")
        return super()._steady_state(theta, forcing)


@pytest.mark.parametrize("error", [FloatingPointError, ZeroDivisionError, OverflowError, ValueError,
                                   np.linalg.LinAlgError])
def test_numeric_exceptions_fail_their_rows_only(error):
    model = type("F", (Fragile,), {"error": error})()
    c_input = np.array([300.0, 2e4, 250.0, 5e4, 400.0])
    result = model.evaluate(c_input=c_input)
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED, Status.OK, Status.SOLVER_FAILED, Status.OK]
    assert result.message[3] == f"the solver raised {error.__name__}: c_input 50000 overflows"
    assert_rows_identical(result, [0, 2, 4], model.evaluate(c_input=c_input[[0, 2, 4]]))
    alone = model.evaluate(c_input=c_input[[1]])
    assert alone.status[0] == Status.SOLVER_FAILED and "c_input 20000 overflows" in alone.message[0]


@pytest.mark.parametrize("error", [RuntimeError, AdapterValidationError, KeyError])
def test_other_exceptions_are_raised_on(error):
    """A harness error (a broken contract) or a non-numeric bug stops the call, as before."""
    model = type("F", (Fragile,), {"error": error})()
    with pytest.raises(error):
        model.evaluate(c_input=np.array([300.0, 2e4]))


def test_row_by_row_keeps_fluxes_the_solver_returned():
    class WithFluxes(Fragile):
        def _steady_state(self, theta, forcing):
            parts = super()._steady_state(theta, forcing)
            dpools, fluxes = self._tendencies(theta, forcing, parts.pools)
            return replace(parts, dpools=dpools, fluxes={**fluxes, "respiration": fluxes["respiration"] * 1.0})

    model = WithFluxes()
    c_input = np.array([300.0, 2e4, 250.0])
    result = model.evaluate(c_input=c_input)
    assert list(result.status) == [Status.OK, Status.SOLVER_FAILED, Status.OK]
    assert_rows_identical(result, [0, 2], model.evaluate(c_input=c_input[[0, 2]]))


# -- mass balance ----------------------------------------------------------------------------------
def test_plugin_with_respiration_ten_percent_short_is_flagged_on_every_row():
    rng = np.random.default_rng(17)
    n = 50
    theta = np.column_stack([rng.uniform(0.1, 5.0, n), rng.uniform(0.001, 0.5, n), rng.uniform(0.05, 0.9, n)])
    forcing = rng.uniform(10.0, 3000.0, (n, 1))
    assert TwoPool().steady_state(theta, forcing).ok.all()
    result = ShortRespiration().steady_state(theta, forcing)
    assert (result.status == Status.MASS_BALANCE).all()
    assert np.isnan(result.pools).all() and np.isnan(result.outputs).all()
    text = result.message[0]
    c_input = forcing[0, 0]
    assert f"c_input = {c_input:.6g} g C m-2 yr-1 but losses = {0.9 * c_input:.6g}" in text
    assert "(c_input - respiration - leaching)" in text and "0.1 of c_input (tolerance 1e-06)" in text
    with pytest.raises(AssertionError, match="MASS_BALANCE"):
        check_mass_balance(ShortRespiration())


def test_declared_extra_loss_counts_and_an_undeclared_one_is_flagged():
    c_input = np.array([300.0, 1000.0])
    assert Eroding().evaluate(c_input=c_input).ok.all()
    result = UndeclaredErosion().evaluate(c_input=c_input)
    assert (result.status == Status.MASS_BALANCE).all()
    check_adapter(Eroding())  # the contract suite sums the declared losses too
    assert metadata_problems(Eroding()) == []

    class LossWithoutRespiration(TwoPool):
        loss_fluxes = ("leaching",)

    assert any("loss_fluxes ('leaching',) must name" in p for p in metadata_problems(LossWithoutRespiration()))


def test_a_missing_loss_flux_is_a_contract_error():
    class NoLeaching(TwoPool):
        def _tendencies(self, theta, forcing, pools):
            dpools, fluxes = super()._tendencies(theta, forcing, pools)
            return dpools, {k: v for k, v in fluxes.items() if k != "leaching"}

    with pytest.raises(AdapterValidationError, match="missing leaching"):
        NoLeaching().evaluate(c_input=300.0)


def test_lax_residual_tolerance_widens_the_mass_balance_tolerance():
    class Lax(TwoPool):
        residual_rtol = 1e-3

    assert TwoPool().mass_balance_rtol == MASS_BALANCE_RTOL == 1e-6
    assert Lax().mass_balance_rtol == 2e-3  # n_pools x residual_rtol: the gap an accepted state may have


def _balance_gap(model, theta, forcing, pools) -> np.ndarray:
    """|c_input - respiration - leaching| / c_input at the given pools."""
    _, fluxes = model.tendencies(theta, forcing, pools)
    c_input = forcing[:, model.driver_names.index("c_input")]
    return np.abs(c_input - (fluxes["respiration"] + fluxes["leaching"])) / c_input


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_reference_cases_balance_to_round_off(name):
    cls = get_adapter_class(name)
    for case in cls.reference_cases:
        model = cls(**case.options)
        theta, forcing = model.default_theta(1, **case.parameters), model.make_forcing(1, **case.drivers)
        result = model.steady_state(theta, forcing)
        assert result.ok[0], (case.name, result.message[0])
        assert _balance_gap(model, theta, forcing, result.pools)[0] <= 1e-14, case.name


@pytest.mark.parametrize(("name", "options"), [(n, o) for n, sets in OPTION_SETS.items() for o in sets])
def test_builtin_random_rows_balance_to_round_off(name, options):
    """In-domain rows spread around the defaults: no OK row is lost to the balance check (gap ~1e-15)."""
    model = get_adapter(name, **options)
    rng = np.random.default_rng(20240611)
    n = 200
    values = {"c_input": rng.uniform(50.0, 2000.0, n), "cue_scale": rng.uniform(0.8, 1.1, n),
              "temperature": rng.uniform(0.0, 30.0, n), "mic_turnover_scale": rng.uniform(0.7, 1.5, n)}
    # beta_rescale 'none' keeps Tao's constants in the units of beta = 1: most other betas have no steady state
    fixed_beta = options.get("parameter_set") == "stode_rev_npp" or (name, options.get("beta_rescale")) == (
        "tao_enzyme", "none")
    if "beta" in model.driver_names and not fixed_beta:
        values["beta"] = rng.uniform(1.0, 2.5, n)
    forcing = model.make_forcing(n, **{k: v for k, v in values.items() if k in model.driver_names})
    theta = model.default_theta(n)
    result = model.steady_state(theta, forcing)
    assert not (result.status == Status.MASS_BALANCE).any()
    ok = result.ok
    assert ok.sum() > n // 2
    assert _balance_gap(model, theta[ok], forcing[ok], result.pools[ok]).max() <= 1e-14


# -- physical domains ------------------------------------------------------------------------------
def _rejected(model, row: dict, text: str, parameters: dict | None = None, good: dict | None = None) -> None:
    """``row`` between two valid rows (``good``, else the defaults) is OUT_OF_DOMAIN with ``text``.

    The valid rows stay OK and equal a batch without the rejected row, bit for bit.
    """
    base = {d.name: d.default for d in model.drivers if d.name in row}
    base.update(good or {})
    drivers = {k: np.array([base[k], v, base[k]]) for k, v in row.items()}
    result = model.evaluate(parameters, **drivers)
    assert result.status[1] == Status.OUT_OF_DOMAIN and text in result.message[1], result.message[1]
    assert result.ok[[0, 2]].all(), result.message
    assert_rows_identical(result, [0, 2], model.evaluate(parameters, **{k: v[[0, 2]] for k, v in drivers.items()}))


@pytest.mark.parametrize("cls", [Clm5FirstOrderAdapter, TaoEnzymeAdapter])
def test_moisture_above_the_cosby_porosity_is_rejected(cls):
    model = cls()
    porosity = float(cosby_parameters(40.0, 20.0)[0])  # 0.4386 at 40 % sand
    _rejected(model, {"moisture": porosity + 1e-3, "sand": 40.0, "clay": 20.0},
              "moisture=0.4396 m3 m-3 exceeds the porosity theta_sat = 0.489 - 0.00126 sand = 0.4386 m3 m-3",
              good={"moisture": 0.3})
    at_porosity = model.evaluate(moisture=porosity, sand=40.0, clay=20.0)  # saturated soil is admissible
    assert at_porosity.ok[0], at_porosity.message[0]
    assert model.evaluate(moisture=0.37, sand=100.0, clay=0.0).status[0] == Status.OUT_OF_DOMAIN  # porosity 0.363


def test_moisture_at_or_above_millennial_porosity_is_rejected():
    _rejected(MillennialAdapter(), {"moisture": 0.65}, "moisture=0.65 m3 m-3 must lie in (0, porosity) = (0, 0.6)")
    _rejected(MillennialAdapter(), {"moisture": 0.35}, "moisture=0.35", parameters={"porosity": 0.3})


@pytest.mark.parametrize("name", ["awb", "mimics"])
def test_models_without_water_have_no_porosity(name):
    """AWB and MIMICS do not represent soil water: no moisture driver, nothing to compare."""
    assert "moisture" not in get_adapter(name).driver_names


@pytest.mark.parametrize("cls", [Clm5FirstOrderAdapter, TaoEnzymeAdapter])
def test_clay_plus_sand_above_100_is_rejected(cls):
    _rejected(cls(), {"clay": 30.0, "sand": 75.0}, "clay + sand = 105 % (clay=30, sand=75); it must be <= 100")
    assert cls().evaluate(clay=25.0, sand=75.0).ok[0]


def test_every_model_with_clay_and_sand_closes_their_sum():
    for name in BUILTINS:
        model = get_adapter(name)
        if {"clay", "sand"} <= set(model.driver_names):
            result = model.evaluate(clay=60.0, sand=60.0)
            assert result.status[0] == Status.OUT_OF_DOMAIN and "clay + sand = 120 %" in result.message[0], name


def test_ph_outside_its_scale_is_rejected():
    assert PH_RANGE == (0.0, 14.0)
    _rejected(MillennialAdapter(), {"ph": 15.0}, "driver ph=15.0 [1] outside [0, 14]")
    _rejected(MillennialAdapter(), {"ph": -0.5}, "driver ph=-0.5 [1] outside [0, 14]")
    assert MillennialAdapter().evaluate(ph=np.array([0.0, 14.0])).ok.all()


@pytest.mark.parametrize(("cls", "driver"), [(TaoEnzymeAdapter, "beta"), (TaoEnzymeAdapter, "beta_enz"),
                                             (MillennialAdapter, "beta"), (MimicsAdapter, "beta")])
def test_exponents_beyond_their_bound_are_rejected(cls, driver):
    _rejected(cls(), {driver: 10.5}, f"driver {driver}=10.5 [1] outside")
    _rejected(cls(), {driver: np.inf}, f"driver {driver}=inf [1] outside")


#: drivers of the built-ins still open above, and why (everything else is closed)
OPEN_ABOVE = {
    "c_input": "no bound on the input itself (calibrate's lognormal c_input_multiplier prior reaches any "
               "value); the stocks it makes are bounded by BaseAdapter.plausible_outputs instead",
    "cue_scale": "closed by each model's cross-constraint: every efficiency x cue_scale < 1",
    "mic_turnover_scale": "a multiplier on a rate constant: no physical upper bound (Millennial's failing "
                          "case uses 2000)",
}


@pytest.mark.parametrize("name", BUILTINS)
def test_driver_bounds_are_closed_where_physics_closes_them(name):
    for options in OPTION_SETS[name]:
        model = get_adapter(name, **options)
        for d in model.drivers:
            if np.isinf(d.interval.upper):
                assert d.name in OPEN_ABOVE or f"{name}.{d.name}" in OPEN_ABOVE, (name, d.name)
            assert np.isfinite(d.interval.lower), (name, d.name)
            if d.name in ("beta", "beta_enz") and np.isfinite(d.interval.upper):
                assert d.interval.upper == EXPONENT_MAX == 10.0
                assert d.interval.lower >= 0.0
            if d.name == "ph":
                assert (d.interval.lower, d.interval.upper) == PH_RANGE


def test_mass_balance_status_has_a_flag_and_a_label():
    assert Status.MASS_BALANCE.flag == "mass_balance" and Status.MASS_BALANCE.label == "mass balance"
    assert len({s.value for s in Status}) == len(Status)

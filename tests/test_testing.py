"""Tests of the contract suite (``harness.testing``) with deliberately broken toy adapters.

``ToyAdapter`` is a correct linear two-pool model with a closed-form steady state. Each subclass
below breaks exactly one rule of the contract; its check must catch it. Because some rules imply
others (a row-order dependence is also a batch dependence), ``VIOLATIONS`` pins the full set of
checks each broken adapter fails, so a check that starts misfiring on a correct aspect fails
these tests too.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from harness.adapter import (
    BaseAdapter,
    Driver,
    FailingCase,
    Interval,
    Option,
    Parameter,
    Pool,
    PoolFluxes,
    ReferenceCase,
    Status,
    SteadyStateParts,
    metadata_problems,
    violation,
)
from harness.errors import AdapterValidationError
from harness.testing import (
    ALL_CHECKS,
    _sample_inputs,
    check_adapter,
    check_bad_row_isolated,
    check_batch_equals_loop,
    check_deterministic,
    check_mass_balance,
    check_metadata_complete,
    check_no_input_mutation,
    check_out_of_domain_rejected,
    check_pickle_roundtrip,
    check_pool_fluxes,
    check_positivity,
    check_reference_values,
    check_row_order_invariance,
    check_steady_state_fixed_point,
    check_steady_state_sensitivities,
    parametrize_with_adapter_checks,
)

TOY_REFERENCE = "toy model for the contract suite; no publication"
C_INPUT = Driver("c_input", "g C m-2 yr-1", "plant carbon input", Interval(0.0, 5000.0, (True, False)), 300.0)
CUE_SCALE = Driver("cue_scale", "1", "multiplier on cue", Interval(0.0, 3.0, (True, False)), 1.0)


class ToyAdapter(BaseAdapter):
    """Litter decays into som with efficiency ``e = cue * cue_scale``; som decays and leaches.

    dL/dt = I - k_l L,  dS/dt = e k_l L - k_s S;  steady state L* = I / k_l, S* = e I / k_s.
    Uptake k_l L; growth e k_l L; respiration (1 - e) k_l L + (1 - f) k_s S; leaching f k_s S,
    with f = 0 when the option ``leaching`` is "off".
    """

    name = "toy"
    description = "linear two-pool toy model"
    reference = TOY_REFERENCE
    steady_state_method = "closed form"
    options = (Option("leaching", "on", "whether som decay leaches a fraction f_leach", ("on", "off")),)
    parameters = (
        Parameter("k_litter", "yr-1", 0.5, Interval(0.0, 10.0, (True, False)), "litter decay", TOY_REFERENCE),
        Parameter("k_som", "yr-1", 0.02, Interval(0.0, 1.0, (True, False)), "som decay", TOY_REFERENCE),
        Parameter("cue", "1", 0.4, Interval(0.0, 1.0, (True, True)), "carbon-use efficiency", TOY_REFERENCE),
        Parameter("f_leach", "1", 0.1, Interval(0.0, 1.0), "leached fraction of som decay", TOY_REFERENCE),
    )
    drivers = (C_INPUT, CUE_SCALE)
    pools = (
        Pool("litter", "g C m-2", "plant litter", "litter"),
        Pool("som", "g C m-2", "soil organic matter", "som"),
    )
    outputs = ("soc", "soc_total", "litter", "respiration", "cue_bulk")
    reference_cases = (  # closed_form holds for leaching "on", so ToyAdapter(leaching="off") rebuilds
        ReferenceCase(
            "closed_form", {"c_input": 200.0, "cue_scale": 1.0},
            {"pool.litter": 400.0, "pool.som": 4000.0, "soc": 4000.0, "cue_bulk": 0.4, "respiration": 192.0},
            "L* = I/k_l, S* = e I/k_s at the defaults", rtol=1e-12,
        ),
        ReferenceCase(
            "no_leaching", {"c_input": 200.0, "cue_scale": 1.0}, {"respiration": 200.0},
            "without leaching all carbon is respired", rtol=1e-12, options={"leaching": "off"},
        ),
    )
    # k_som = 5e-324 is inside (0, 1] but S* = e I / k_som overflows to inf
    failing_case = FailingCase("subnormal_k_som", {}, "overflow of S*", parameters={"k_som": 5e-324})

    def _domain_violations(self, theta, forcing):
        scale = forcing[:, 1]
        e = theta[:, 2] * scale
        return [violation(e >= 1.0, "cue_scale={s:g} takes cue to {e:g}; must be < 1", s=scale, e=e)]

    def _efficiency(self, theta, forcing):
        return theta[:, 2] * forcing[:, 1]

    def _steady_state(self, theta, forcing):
        k_litter, k_som = theta[:, 0], theta[:, 1]
        c_input = forcing[:, 0]
        with np.errstate(over="ignore"):
            som = self._efficiency(theta, forcing) * c_input / k_som
        return SteadyStateParts(np.column_stack([c_input / k_litter, som]), np.zeros(len(theta), dtype=np.int8))

    def _tendencies(self, theta, forcing, pools):
        k_litter, k_som = theta[:, 0], theta[:, 1]
        f_leach = theta[:, 3] if self.get_options()["leaching"] == "on" else np.zeros(len(theta))
        uptake = k_litter * pools[:, 0]
        growth = self._efficiency(theta, forcing) * uptake
        decay = k_som * pools[:, 1]
        fluxes = {
            "uptake": uptake,
            "growth": growth,
            "respiration": uptake - growth + (1.0 - f_leach) * decay,
            "leaching": f_leach * decay,
        }
        return np.column_stack([forcing[:, 0] - uptake, growth - decay]), fluxes

    def _pool_fluxes(self, theta, forcing, pools):
        """Input to litter; growth litter -> som; litter respires (1 - e) k_l L, som loses all its decay."""
        _, fluxes = self._tendencies(theta, forcing, pools)
        n = theta.shape[0]
        transfers = np.zeros((n, 2, 2))
        transfers[:, 0, 1] = fluxes["growth"]
        inputs = np.column_stack([forcing[:, 0], np.zeros(n)])
        outflux = np.column_stack([fluxes["uptake"] - fluxes["growth"], theta[:, 1] * pools[:, 1]])
        return PoolFluxes(inputs, transfers, outflux)


# -- adapters that break one rule each ------------------------------------------------------
class BatchStatisticAdapter(ToyAdapter):
    """Uses the batch's largest cue_scale for every row: rows depend on their companions."""

    def _efficiency(self, theta, forcing):
        return theta[:, 2] * forcing[:, 1].max()


class RowPositionAdapter(ToyAdapter):
    """Slows som decay with the row's position in the batch."""

    def _steady_state(self, theta, forcing):
        return super()._steady_state(self._shifted(theta), forcing)

    def _tendencies(self, theta, forcing, pools):
        return super()._tendencies(self._shifted(theta), forcing, pools)

    @staticmethod
    def _shifted(theta):
        shifted = theta.copy()
        shifted[:, 1] *= 1.0 + 1e-3 * np.arange(len(theta))
        return shifted


_CALLS = itertools.count()  # module-level state: exactly what the contract forbids


class NondeterministicAdapter(ToyAdapter):
    """Scales pools by a call counter: far below every tolerance, yet new bits on every call.

    A counter rather than unseeded noise, so that consecutive calls always differ and the
    test cannot flake.
    """

    def _steady_state(self, theta, forcing):
        parts = super()._steady_state(theta, forcing)
        return replace(parts, pools=parts.pools * (1.0 + 1e-14 * (next(_CALLS) % 8)))


class MutatingAdapter(ToyAdapter):
    """Writes the defaults back into the caller's ``theta`` after solving.

    ``BaseAdapter`` hands ``_steady_state`` read-only copies, so only an override of the public
    method can mutate; doing it after ``super()`` keeps the results themselves correct.
    """

    def steady_state(self, theta, forcing):
        result = super().steady_state(theta, forcing)
        theta[:] = self.default_theta(len(theta))
        return result


class OffFixedPointAdapter(ToyAdapter):
    """Returns pools 1 % off the steady state; a lax residual_rtol lets BaseAdapter accept them."""

    residual_rtol = 0.1

    def _steady_state(self, theta, forcing):
        parts = super()._steady_state(theta, forcing)
        return replace(parts, pools=parts.pools * 1.01)


class LeakyAdapter(ToyAdapter):
    """Reports only half of the leached carbon: the pools lose carbon no flux accounts for."""

    def _tendencies(self, theta, forcing, pools):
        dpools, fluxes = super()._tendencies(theta, forcing, pools)
        return dpools, {**fluxes, "leaching": 0.5 * fluxes["leaching"]}


class SuperEfficientAdapter(ToyAdapter):
    """Drops the cross-constraint cue * cue_scale < 1 and defaults cue_scale to 2.8: cue_bulk > 1."""

    drivers = (C_INPUT, Driver("cue_scale", "1", "multiplier on cue", Interval(0.0, 3.0, (True, False)), 2.8))

    def _domain_violations(self, theta, forcing):
        return []


class UncheckedDomainAdapter(ToyAdapter):
    """Disables BaseAdapter's domain check, so rows outside the bounds are solved."""

    def _flag_domain(self, theta, forcing, columns, status, messages):
        return np.arange(status.size), None  # every row valid, nothing prepared

    def _steady_state(self, theta, forcing):
        with np.errstate(divide="ignore"):  # k_litter = 0 now reaches the solver
            return super()._steady_state(theta, forcing)


class BatchAbortAdapter(ToyAdapter):
    """Fails the whole batch when one row overflows."""

    def _steady_state(self, theta, forcing):
        parts = super()._steady_state(theta, forcing)
        if np.isfinite(parts.pools).all():
            return parts
        failed = np.full(len(theta), Status.SOLVER_FAILED, dtype=np.int8)
        return SteadyStateParts(parts.pools, failed, ["batch aborted"] * len(theta))


class UnpicklableAdapter(ToyAdapter):
    """Holds a lambda."""

    def __init__(self, **options):
        super().__init__(**options)
        self._rate = lambda k: k


class WrongReferenceAdapter(ToyAdapter):
    """Declares a som value 1 % too high."""

    reference_cases = (  # closed_form holds for leaching "on", so ToyAdapter(leaching="off") rebuilds
        ReferenceCase(
            "closed_form", {"c_input": 200.0, "cue_scale": 1.0}, {"pool.som": 4040.0, "soc": 4000.0},
            "typo", rtol=1e-12,
        ),
    )


class StaleFluxesAdapter(ToyAdapter):
    """Hands BaseAdapter the fluxes at its steady state, from a copy of the growth formula without cue_scale.

    The pools and the losses are right (so are the fixed point and the mass balance), and at
    cue_scale = 1 (row 0, the reference cases) so is everything else; but the reported cue_bulk
    is cue whatever cue_scale, while ``_tendencies``, which the implicit function theorem
    differentiates, says cue * cue_scale.
    """

    def _steady_state(self, theta, forcing):
        parts = super()._steady_state(theta, forcing)
        dpools, fluxes = self._tendencies(theta, forcing, parts.pools)
        return replace(parts, dpools=dpools, fluxes={**fluxes, "growth": theta[:, 2] * fluxes["uptake"]})


class MisroutedFluxesAdapter(ToyAdapter):
    """Books the litter's respiration on som: the totals balance, but neither pool's flows add up to its dX/dt."""

    def _pool_fluxes(self, theta, forcing, pools):
        flows = super()._pool_fluxes(theta, forcing, pools)
        outflux = np.column_stack([np.zeros(theta.shape[0]), flows.outflux.sum(axis=1)])
        return PoolFluxes(flows.inputs, flows.transfers, outflux)


class IncompleteMetadataAdapter(ToyAdapter):
    """A parameter without a reference."""

    parameters = (*ToyAdapter.parameters[:3], Parameter("f_leach", "1", 0.1, Interval(0.0, 1.0), "leaching", ""))


class NoDefaultDriverAdapter(ToyAdapter):
    """Correct, with a c_input that has no default (sampled around the middle of its range)."""

    drivers = (Driver("c_input", "g C m-2 yr-1", "input", Interval(0.0, 5e3, (True, False))), CUE_SCALE)
    failing_case = FailingCase("subnormal_k_som", {"c_input": 300.0}, "overflow of S*", parameters={"k_som": 5e-324})


class CoupledFractionsAdapter(ToyAdapter):
    """Correct, with an equality cross-constraint: cue + f_leach must stay 0.5."""

    def _domain_violations(self, theta, forcing):
        total = theta[:, 2] + theta[:, 3]
        coupled = violation(np.abs(total - 0.5) > 1e-12, "cue + f_leach = {t!r}; must be 0.5", t=total)
        return [*super()._domain_violations(theta, forcing), coupled]


#: broken adapter -> (the check of the rule it breaks, message fragment, every check it fails)
VIOLATIONS = {
    BatchStatisticAdapter: (
        check_batch_equals_loop, "pool.som",
        {check_batch_equals_loop, check_out_of_domain_rejected, check_bad_row_isolated,
         check_steady_state_sensitivities},
    ),
    # its _pool_fluxes (ToyAdapter's) has the unshifted som decay: no longer the flows of _tendencies
    RowPositionAdapter: (
        check_row_order_invariance, "before reversal",
        {check_batch_equals_loop, check_row_order_invariance, check_out_of_domain_rejected,
         check_bad_row_isolated, check_steady_state_sensitivities, check_pool_fluxes},
    ),
    NondeterministicAdapter: (
        check_deterministic, "second vs first",
        {check_batch_equals_loop, check_row_order_invariance, check_deterministic,
         check_out_of_domain_rejected, check_bad_row_isolated, check_pickle_roundtrip},
    ),
    # BaseAdapter.steady_state_sensitivities reads theta after steady_state has overwritten it
    MutatingAdapter: (
        check_no_input_mutation, "steady_state changed", {check_no_input_mutation, check_steady_state_sensitivities}
    ),
    OffFixedPointAdapter: (
        check_steady_state_fixed_point, "residual_rtol = 0.1",
        {check_steady_state_fixed_point, check_mass_balance, check_reference_values,
         check_steady_state_sensitivities},
    ),
    # BaseAdapter rejects steady states whose losses miss c_input (Status.MASS_BALANCE), so the
    # checks that need OK sample rows or reference cases fail with it
    LeakyAdapter: (
        check_mass_balance, "(c_input - respiration - leaching) at the",
        {check_mass_balance, check_steady_state_fixed_point, check_positivity, check_reference_values,
         check_steady_state_sensitivities, check_pool_fluxes},
    ),
    SuperEfficientAdapter: (check_positivity, "cue_bulk", {check_positivity}),
    UncheckedDomainAdapter: (
        check_out_of_domain_rejected, "expected OUT_OF_DOMAIN", {check_out_of_domain_rejected}
    ),
    BatchAbortAdapter: (check_bad_row_isolated, "batch aborted", {check_bad_row_isolated}),
    UnpicklableAdapter: (check_pickle_roundtrip, "lambda", {check_pickle_roundtrip}),
    WrongReferenceAdapter: (check_reference_values, "pool.som = 4000.0", {check_reference_values}),
    StaleFluxesAdapter: (
        check_steady_state_sensitivities, "row 1: d cue_bulk / d cue_scale = 0.42", {check_steady_state_sensitivities}
    ),
    IncompleteMetadataAdapter: (check_metadata_complete, "f_leach", {check_metadata_complete}),
    MisroutedFluxesAdapter: (
        check_pool_fluxes, "steady state: inputs + inflows - outflows - outflux - dX/dt (pool litter)",
        {check_pool_fluxes},
    ),
}


# -- the suite on a correct adapter --------------------------------------------------------
@pytest.mark.parametrize("leaching", ["on", "off"])
def test_correct_adapter_passes_every_check(leaching):
    check_adapter(ToyAdapter(leaching=leaching))


@parametrize_with_adapter_checks([ToyAdapter()])
def test_toy_contract(adapter, check):
    check(adapter)


@parametrize_with_adapter_checks(
    [SuperEfficientAdapter()], expected_failures={"toy": {"check_positivity": "cue_bulk > 1 on purpose"}}
)
def test_known_failures_xfail(adapter, check):
    check(adapter)


# -- each broken rule is caught -------------------------------------------------------------
@pytest.mark.parametrize("broken", list(VIOLATIONS), ids=lambda cls: cls.__name__)
def test_check_catches_its_violation(broken):
    check, fragment, _ = VIOLATIONS[broken]
    with pytest.raises(AssertionError, match="Fix: ") as info:
        check(broken())
    assert fragment in str(info.value)


@pytest.mark.parametrize("broken", list(VIOLATIONS), ids=lambda cls: cls.__name__)
def test_exactly_the_pinned_checks_fail(broken):
    failing = VIOLATIONS[broken][2]
    check_adapter(broken(), expected_failures={c.__name__: "broken on purpose" for c in failing})


def test_every_check_is_exercised():
    assert {v[0] for v in VIOLATIONS.values()} == set(ALL_CHECKS)


def test_out_of_domain_check_names_each_accepted_value():
    with pytest.raises(AssertionError, match=r"k_litter=10\.01 in row 2: status OK"):
        check_out_of_domain_rejected(UncheckedDomainAdapter())


def test_bad_row_check_skips_without_failing_case():
    class NoFailingCase(BatchAbortAdapter):
        failing_case = None

    check_bad_row_isolated(NoFailingCase())


def test_failing_case_must_fail():
    class SolvableFailingCase(ToyAdapter):
        failing_case = FailingCase("solvable", {"c_input": 100.0}, "not a failure")

    with pytest.raises(AssertionError, match="'solvable' must fail with a non-zero status") as info:
        check_bad_row_isolated(SolvableFailingCase())
    assert "row 2: status OK" in str(info.value)


def test_failing_case_may_break_a_cross_constraint():
    class CrossConstraintFailingCase(ToyAdapter):
        failing_case = FailingCase("e_above_one", {"cue_scale": 2.9}, "cue * cue_scale > 1")

    check_bad_row_isolated(CrossConstraintFailingCase())


def test_reference_mismatches_are_all_reported():
    class TwoWrong(ToyAdapter):
        reference_cases = (
            ReferenceCase("a", {"c_input": 200.0}, {"soc": 1.0, "pool.litter": 2.0}, "typo", rtol=1e-3),
            ReferenceCase("b", {"c_input": 200.0}, {"mic": 0.0}, "not an output", rtol=1e-3),
        )

    with pytest.raises(AssertionError) as info:
        check_reference_values(TwoWrong())
    text = str(info.value)
    assert "soc = 4000.0" in text and "expected 1.0" in text and "pool.litter = 400.0" in text
    assert "'mic' is neither a declared output" in text


def test_sensitivity_check_names_row_output_input_values_and_error():
    with pytest.raises(AssertionError) as info:
        check_steady_state_sensitivities(StaleFluxesAdapter())
    first = str(info.value).splitlines()[1]  # the largest error first
    assert first.startswith("  row ") and "d cue_bulk / d cue_scale = 0.4" in first
    assert "(steady_state_sensitivities) vs 0.0 (differences of the full steady state): relative error 1" in first


def test_sensitivity_check_uses_the_adapters_own_method():
    """An adapter that overrides steady_state_sensitivities (e.g. with a closed form) is held to it."""

    class SloppyClosedForm(ToyAdapter):
        def steady_state_sensitivities(self, theta, forcing, wrt):
            sens = super().steady_state_sensitivities(theta, forcing, wrt)
            return replace(sens, outputs=sens.outputs * (1.0 + 1e-4))

    with pytest.raises(AssertionError, match=r"row 0: d respiration / d c_input = 0\.96009.* relative error 0\.0001"):
        check_steady_state_sensitivities(SloppyClosedForm())


def test_sensitivity_check_needs_some_input_it_can_move():
    class OnlyTheDefaults(ToyAdapter):
        def _domain_violations(self, theta, forcing):
            moved = (theta != self.default_theta(len(theta))).any(axis=1)
            moved |= (forcing != self.make_forcing(len(theta))).any(axis=1)
            return [violation(moved, "only the defaults are solved")]

    with pytest.raises(AssertionError, match="no input could be moved"):
        check_steady_state_sensitivities(OnlyTheDefaults())


def test_sample_rows_are_deterministic_sensible_and_in_the_domain():
    adapter = ToyAdapter()
    theta, forcing = _sample_inputs(adapter)
    np.testing.assert_array_equal(theta, _sample_inputs(adapter)[0])
    np.testing.assert_array_equal(theta[0], adapter.default_theta()[0])
    np.testing.assert_array_equal(forcing[0], adapter.make_forcing()[0])
    assert np.all(np.abs(theta / theta[0] - 1.0) <= 0.1) and np.all(np.abs(forcing / forcing[0] - 1.0) <= 0.2)
    assert len(np.unique(theta[:, 0])) == len(theta)  # the rows differ
    status, message = adapter.check_domain(theta, forcing)
    assert (status == Status.OK).all(), message


def test_sample_rows_respect_cross_constraints():
    adapter = CoupledFractionsAdapter()
    theta, forcing = _sample_inputs(adapter)
    assert (adapter.check_domain(theta, forcing)[0] == Status.OK).all()
    varied = [len(np.unique(column)) > 1 for column in theta.T]
    assert varied == [True, True, False, False]  # the coupled pair stays at its defaults
    check_adapter(adapter)


def test_driver_without_default_is_sampled_in_its_range():
    check_adapter(NoDefaultDriverAdapter())


# -- check_adapter and parametrize_with_adapter_checks ----------------------------------------
def test_check_adapter_lists_every_failed_check():
    with pytest.raises(AssertionError) as info:
        check_adapter(OffFixedPointAdapter())
    text = str(info.value)
    assert text.startswith("toy: 4 of 14 contract checks went wrong")
    for name in ("check_steady_state_fixed_point", "check_mass_balance", "check_reference_values",
                 "check_steady_state_sensitivities"):
        assert f"  - {name}: toy:" in text


def test_check_adapter_is_strict_about_expected_failures():
    with pytest.raises(AssertionError, match="check_positivity: passed but is listed in expected_fail"):
        check_adapter(ToyAdapter(), expected_failures={"check_positivity": "once broken"})


def test_check_adapter_rejects_unknown_check_names():
    with pytest.raises(ValueError, match="did you mean 'check_positivity'"):
        check_adapter(ToyAdapter(), expected_failures={"check_positivty": "typo"})


def test_check_adapter_reports_a_crashing_check():
    class Crashing(ToyAdapter):
        def _tendencies(self, theta, forcing, pools):
            raise RuntimeError("boom")

    with pytest.raises(AssertionError, match="check_mass_balance: raised RuntimeError: boom") as info:
        check_adapter(Crashing())
    assert isinstance(info.value.__cause__, RuntimeError)


def test_parametrize_ids_and_xfail_marks():
    decorator = parametrize_with_adapter_checks(
        [ToyAdapter()], expected_failures={"toy": {"check_positivity": "known, issue #1"}, "absent": {}}
    )
    argnames, params = decorator.mark.args
    assert argnames == "adapter, check"
    assert [p.id for p in params] == [f"toy-{c.__name__}" for c in ALL_CHECKS]
    assert [p.values[1] for p in params] == list(ALL_CHECKS)
    marked = {p.id: p.marks for p in params if p.marks}
    assert list(marked) == ["toy-check_positivity"]
    (mark,) = marked["toy-check_positivity"]
    assert mark.name == "xfail" and mark.kwargs == {"strict": True, "reason": "known, issue #1"}


class NoPoolFluxesAdapter(ToyAdapter):
    """Correct, without the optional hook _pool_fluxes: ages and transit times unavailable."""

    _pool_fluxes = BaseAdapter._pool_fluxes


def test_pool_flux_check_passes_with_a_warning_without_the_hook():
    assert not NoPoolFluxesAdapter().has_pool_fluxes and ToyAdapter().has_pool_fluxes
    with pytest.warns(UserWarning, match=r"toy: check_pool_fluxes skipped: no _pool_fluxes \(ages and transit"):
        check_pool_fluxes(NoPoolFluxesAdapter())
    with pytest.warns(UserWarning, match="check_pool_fluxes skipped"):
        check_adapter(NoPoolFluxesAdapter())


def test_parametrize_skips_the_pool_flux_check_without_the_hook():
    _, params = parametrize_with_adapter_checks([NoPoolFluxesAdapter()]).mark.args
    marked = {p.id: p.marks for p in params if p.marks}
    assert list(marked) == ["toy-check_pool_fluxes"]
    (mark,) = marked["toy-check_pool_fluxes"]
    assert mark.name == "skip" and "toy has no _pool_fluxes: ages and transit times unavailable" in mark.kwargs["reason"]


def test_pool_flux_check_names_row_pool_and_error():
    with pytest.raises(AssertionError) as info:
        check_pool_fluxes(MisroutedFluxesAdapter())
    text = str(info.value)
    # row 0 at the defaults: som respires nothing of its own, so it misses (1 - cue) k_l L = 180 of 300
    assert "row 0, steady state: inputs + inflows - outflows - outflux - dX/dt (pool som) = 0.6 of the largest" in text
    assert "row 0, steady state: inputs + inflows - outflows - outflux - dX/dt (pool litter) = 0.6" in text
    assert "sum(outflux)" not in text  # the totals balance


def test_pool_fluxes_boundary_checks_shapes_and_type():
    class WrongShape(ToyAdapter):
        def _pool_fluxes(self, theta, forcing, pools):
            flows = super()._pool_fluxes(theta, forcing, pools)
            return PoolFluxes(flows.inputs, flows.transfers[:, 0], flows.outflux)

    class Tuple(ToyAdapter):
        def _pool_fluxes(self, theta, forcing, pools):
            return tuple(vars(super()._pool_fluxes(theta, forcing, pools)).values())

    adapter = ToyAdapter()
    theta, forcing = adapter.default_theta(2), adapter.make_forcing(2)
    pools = adapter.steady_state(theta, forcing).pools
    flows = adapter.pool_fluxes(theta, forcing, pools)
    np.testing.assert_allclose(flows.net(), adapter.tendencies(theta, forcing, pools)[0], atol=1e-12)
    with pytest.raises(AdapterValidationError, match=r"shapes \(2, 2\), \(2, 2\), \(2, 2\); expected"):
        WrongShape().pool_fluxes(theta, forcing, pools)
    with pytest.raises(AdapterValidationError, match="must return PoolFluxes"):
        Tuple().pool_fluxes(theta, forcing, pools)
    with pytest.raises(NotImplementedError, match="toy does not implement _pool_fluxes"):
        NoPoolFluxesAdapter().pool_fluxes(theta, forcing, pools)


def test_parametrize_rejects_unknown_check_names():
    with pytest.raises(ValueError, match="unknown check"):
        parametrize_with_adapter_checks([ToyAdapter()], {"toy": {"check_nothing": "?"}})


# -- the adapter boundary's types ---------------------------------------------------------------
def test_steady_state_must_return_named_parts():
    class PositionalTuple(ToyAdapter):
        def _steady_state(self, theta, forcing):
            parts = super()._steady_state(theta, forcing)
            return parts.pools, parts.status, parts.message

    with pytest.raises(AdapterValidationError, match="must return SteadyStateParts"):
        PositionalTuple().evaluate(c_input=200.0)
    with pytest.raises(TypeError, match="dpools and fluxes together"):
        SteadyStateParts(np.zeros((1, 2)), np.zeros(1, dtype=np.int8), dpools=np.zeros((1, 2)))


def test_interval_text_and_membership():
    interval = Interval(0.0, 1.0, (True, False))
    assert str(interval) == "(0, 1]"
    np.testing.assert_array_equal(interval.contains([0.0, 0.5, 1.0, np.nan, np.inf]),
                                  [False, True, True, False, False])
    assert str(Interval(-np.inf, np.inf)) == "[-inf, inf]" and not Interval(-np.inf, np.inf).contains(np.inf)


def test_a_bounds_pair_is_reported_by_the_metadata_check():
    """One way to write an admissible interval: a plain (lower, upper) pair is named as a problem."""

    class PairAdapter(ToyAdapter):
        parameters = (Parameter("k", "yr-1", 0.5, (0.0, 10.0), "decay", TOY_REFERENCE),)

    assert any("parameter 'k' must declare Interval(lower, upper, open_bounds); got (0.0, 10.0)" in problem
               for problem in metadata_problems(PairAdapter))


def test_status_flag_and_label_spell_one_name():
    assert Status.NOT_CONVERGED.flag == "not_converged" and Status.NOT_CONVERGED.label == "not converged"
    assert [s.flag.replace("_", " ") for s in Status] == [s.label for s in Status]

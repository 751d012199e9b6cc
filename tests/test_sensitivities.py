"""Steady-state sensitivities by the implicit function theorem (harness.sensitivity).

Checked against central differences of the FULL steady state (a new solve at each perturbed
input) for every member of the flagship scenario, so a dependence that ``_tendencies`` misses (e.g.
the beta_rescale anchoring of a parameter) shows as a disagreement.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.adapter import Status
from harness.api import load
from harness.registry import get_adapter
from harness.sensitivity import Sensitivities, steady_state_sensitivities
from harness.vocabulary import PARAM_PREFIX

PLAN = load("scenarios/beta_sweep.yaml")
N_ROWS = 20
#: relative step of the reference differences of the full steady state
REFERENCE_STEP = 1e-5
#: agreement required, relative to the larger of the two derivatives (max over the rows)
RTOL = 1e-5
#: floor of that scale, as an elasticity |d ln y / d ln p| [1], i.e. ELASTICITY_FLOOR max|y / p|
#: [output units per input unit]: a derivative whose elasticity is below 1e-3 is compared absolutely
#: at an elasticity of 1e-8. The reference is a difference of two solves, each good to ~1e-13
#: relative, over a relative step of 2e-5: ~5e-9 of elasticity whatever the derivative, so
#: differences of outputs that barely move are no more exact than that.
ELASTICITY_FLOOR = 1e-3
#: parameters differentiated besides the sampled drivers, per model (turnover and efficiency)
PARAMETERS = {
    "awb": ("vmax0", "k_death"),
    "clm5_firstorder": ("tau_s1", "q10"),
    "millennial": ("rate_bd", "cue_ref"),
    "mimics": ("tau_r_1", "ko_1"),
    "tao_enzyme": ("tau_mic", "cue"),
}


def _inputs(member) -> list[str]:
    sampled = [d.name for d in PLAN.scenario.drivers if d.name in member.drivers and d.name not in member.variant]
    return sampled + [PARAM_PREFIX + p for p in PARAMETERS[member.model]]


def _batch(member, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return member.theta(N_ROWS), member.random_forcing(PLAN.scenario.drivers, N_ROWS, rng)


def _reference(adapter, theta, forcing, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Central difference of the full steady-state outputs in ``name`` (n, n_outputs), and its rows' OK mask."""
    param = name.startswith(PARAM_PREFIX)
    matrix = theta if param else forcing
    j = (adapter.parameter_names.index(name.removeprefix(PARAM_PREFIX)) if param
         else adapter.driver_names.index(name))
    v = matrix[:, j]
    h = REFERENCE_STEP * np.abs(v)
    up, down = matrix.copy(), matrix.copy()
    up[:, j], down[:, j] = v + h, v - h
    step = up[:, j] - down[:, j]
    hi = adapter.steady_state(up, forcing) if param else adapter.steady_state(theta, up)
    lo = adapter.steady_state(down, forcing) if param else adapter.steady_state(theta, down)
    return (hi.outputs - lo.outputs) / step[:, None], hi.ok & lo.ok


@pytest.mark.parametrize("member", PLAN.members, ids=[m.label for m in PLAN.members])
def test_ift_derivatives_match_differences_of_the_full_steady_state(member):
    adapter = member.adapter
    theta, forcing = _batch(member)
    wrt = _inputs(member)
    sens = steady_state_sensitivities(adapter, theta, forcing, wrt)
    ok = sens.result.ok
    assert ok.sum() >= 5, f"{member.label}: only {ok.sum()} rows solved"
    worst = 0.0
    for k, name in enumerate(wrt):
        reference, ref_ok = _reference(adapter, theta, forcing, name)
        rows = ok & ref_ok
        x = sens.values[rows, k]
        for o, output in enumerate(adapter.outputs):
            y = sens.result.outputs[rows, o]
            a, b = sens.outputs[rows, o, k], reference[rows, o]
            usable = np.isfinite(a) & np.isfinite(b)
            assert usable.sum() >= 5, f"{member.label}: d {output}/d {name} usable on {usable.sum()} rows"
            # per output/input pair, over the rows: the larger derivative, floored at an elasticity of
            # ELASTICITY_FLOOR of the output's size (an output identically 0, like the litter of a
            # model without litter pools, then needs both derivatives 0)
            floor = ELASTICITY_FLOOR * np.max(np.abs(y[usable] / x[usable]), initial=0.0)
            scale = max(np.abs(a[usable]).max(), np.abs(b[usable]).max(), floor)
            gap = np.abs(a - b)[usable].max()
            error = gap / scale if gap else 0.0
            worst = max(worst, error)
            assert error <= RTOL, (f"{member.label}: d {output} / d {name}: relative error {error:.3g} "
                                   f"(IFT {a[usable][:3]}, full differences {b[usable][:3]})")
    print(f"{member.label}: max relative error {worst:.2e}")


def test_rows_not_ok_get_nan_derivatives():
    member = next(m for m in PLAN.members if m.model == "millennial" and m.variant.get("beta") == 1.0)
    theta, forcing = _batch(member)
    sens = member.adapter.steady_state_sensitivities(theta, forcing, ["c_input", "param.rate_bd"])
    assert isinstance(sens, Sensitivities)
    bad = ~sens.result.ok
    assert bad.any() and sens.result.ok.any()
    assert np.isnan(sens.outputs[bad]).all() and np.isnan(sens.pools[bad]).all()
    assert np.isfinite(sens.outputs[~bad]).all() and np.isfinite(sens.pools[~bad]).all()
    # an out-of-domain row too
    forcing[0, member.adapter.driver_names.index("c_input")] = -1.0
    sens = member.adapter.steady_state_sensitivities(theta, forcing, ["c_input"])
    assert sens.result.status[0] == Status.OUT_OF_DOMAIN and np.isnan(sens.outputs[0]).all()


def test_clm5_soc_is_proportional_to_input():
    """CLM5 is linear in its input: d ln soc / d ln c_input = 1 exactly (to the differences' accuracy)."""
    member = next(m for m in PLAN.members if m.model == "clm5_firstorder")
    theta, forcing = _batch(member)
    sens = steady_state_sensitivities(member.adapter, theta, forcing, ["c_input"])
    assert sens.result.ok.all()
    for output in ("soc", "soc_total", "litter", "respiration"):
        np.testing.assert_allclose(sens.elasticity(output, "c_input"), 1.0, rtol=0, atol=1e-8)
    c_input = forcing[:, [member.adapter.driver_names.index("c_input")]]
    filled = sens.result.pools > 0  # pools without input (e.g. CWD) stay 0
    assert filled.any(axis=1).all()
    np.testing.assert_allclose((sens.pools[:, :, 0] * c_input)[filled] / sens.result.pools[filled], 1.0, rtol=0,
                               atol=1e-8)


def test_names_and_shapes():
    adapter = get_adapter("clm5_firstorder")
    theta, forcing = adapter.default_theta(3), adapter.make_forcing(3, c_input=400.0)
    sens = steady_state_sensitivities(adapter, theta, forcing, ["c_input", "param.q10"])
    assert sens.outputs.shape == (3, len(adapter.outputs), 2)
    assert sens.pools.shape == (3, len(adapter.pools), 2)
    assert sens.wrt == ("c_input", "param.q10")
    np.testing.assert_array_equal(sens.derivative("soc", "c_input"), sens.outputs[:, 0, 0])
    with pytest.raises(Exception, match="param.NAME"):
        steady_state_sensitivities(adapter, theta, forcing, ["q10"])
    with pytest.raises(Exception, match="nope"):
        steady_state_sensitivities(adapter, theta, forcing, ["param.nope"])


def test_an_input_at_its_bound_gets_a_one_sided_difference():
    """temperature at its closed upper bound (60 degC): the step above leaves the domain, so the
    derivative is the second-order one-sided difference from below, matching the full steady state's."""
    adapter = get_adapter("clm5_firstorder")
    theta, forcing = adapter.default_theta(2), adapter.make_forcing(2, c_input=400.0, moisture=0.3)
    j = adapter.driver_names.index("temperature")
    forcing[:, j] = [60.0, 30.0]
    sens = steady_state_sensitivities(adapter, theta, forcing, ["temperature"])
    assert np.isfinite(sens.outputs).all()
    h = 60.0 * REFERENCE_STEP
    full = []
    for shift in (0.0, -h, -2 * h):
        shifted = forcing.copy()
        shifted[:, j] += shift
        full.append(adapter.steady_state(theta, shifted).outputs[0])
    backward = (3 * full[0] - 4 * full[1] + full[2]) / (2 * h)
    # respiration = c_input does not move: both are rounding noise there (ELASTICITY_FLOOR as above)
    floor = RTOL * ELASTICITY_FLOOR * np.abs(full[0]) / 60.0
    assert (np.abs(sens.outputs[0, :, 0] - backward) <= np.maximum(RTOL * np.abs(backward), floor)).all()

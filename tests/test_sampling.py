"""Sobol designs: reproducible from the seed, mapped onto each member, grouped as SALib groups."""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np
import pytest
from SALib.util import extract_group_names

from harness.analysis import sobol_indices
from harness.api import load_scenario
from harness.members import build_member
from harness.sampling import SEED_PURPOSES, child_seed, member_values, sobol_designs
from harness.spec import DriverRange

SCENARIO = textwrap.dedent("""\
    schema_version: 1
    name: design
    kind: sobol
    seed: 20240611
    models: [clm5_firstorder]
    baseline: {c_input: 500.0}
    drivers:
      c_input: {relative: [0.5, 1.5], group: input}
      temperature: {range: [5.0, 25.0], group: environment}
      cue_scale: {relative: [0.8, 1.1], group: microbial}
      moisture: {range: [0.2, 0.4], group: environment}
      sand: {range: [30.0, 50.0]}
    sobol: {n: 16, bootstrap: 20}
    """)


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "design.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return load_scenario(path)


def test_design_shapes_and_unit_box(scenario):
    driver, group = sobol_designs(scenario)
    assert (driver.level, group.level) == ("driver", "group")
    assert driver.factors == ("c_input", "temperature", "cue_scale", "moisture", "sand")
    assert driver.block_size == 5 + 2
    assert driver.unit.shape == (16 * 7, 5)
    assert group.block_size == 4 + 2  # groups: input, environment, microbial, sand
    assert group.unit.shape == (16 * 6, 5)  # one column per driver, blocks per group
    for design in (driver, group):
        assert ((design.unit >= 0) & (design.unit <= 1)).all()


def test_second_order_blocks(scenario):
    scenario = scenario.replace(sobol=dataclasses.replace(scenario.sobol, second_order=True))
    driver = sobol_designs(scenario)[0]
    assert driver.block_size == 2 * 5 + 2
    assert driver.unit.shape == (16 * 12, 5)


def test_design_is_reproducible_from_the_seed(scenario):
    first, again = sobol_designs(scenario), sobol_designs(scenario)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.unit, b.unit)
    other = sobol_designs(dataclasses.replace(scenario, seed=scenario.seed + 1))
    assert not np.array_equal(first[0].unit, other[0].unit)
    assert not np.array_equal(first[1].unit, other[1].unit)


def test_child_seeds_are_fixed_and_distinct_per_purpose():
    seeds = [child_seed(20240611, p) for p in SEED_PURPOSES]
    assert len(set(seeds)) == len(SEED_PURPOSES)
    assert seeds == [child_seed(20240611, p) for p in SEED_PURPOSES]
    assert all(0 <= s < 2**32 for s in seeds)
    assert child_seed(1, "drivers") != child_seed(2, "drivers")
    with pytest.raises(ValueError):
        child_seed(1, "calibration")


def test_group_factor_order_is_salibs_first_appearance(scenario):
    """Reported group names must be in SALib's order, or indices would be mislabelled.

    SALib orders groups by first appearance (``pd.unique``), not alphabetically; 'environment'
    appears twice, non-contiguously.
    """
    group = sobol_designs(scenario)[1]
    assert group.factors == ("input", "environment", "microbial", "sand")
    assert list(group.factors) == extract_group_names(group.problem)[0]
    assert group.problem["groups"] == ["input", "environment", "microbial", "environment", "sand"]


def test_relative_ranges_map_onto_each_members_baseline(scenario):
    """Common random numbers: the same unit rows, scaled by each member's own baseline."""
    design = sobol_designs(scenario)[0]
    low = build_member("clm5_firstorder", {}, {"c_input": 300.0}, {})
    high = build_member("clm5_firstorder", {}, {"c_input": 600.0, "cue_scale": 0.9}, {})
    v_low, v_high = member_values(low, design), member_values(high, design)
    assert list(v_low) == ["c_input", "temperature", "cue_scale", "moisture", "sand"]
    unit = design.unit
    np.testing.assert_allclose(v_low["c_input"], 300.0 * (0.5 + unit[:, 0]), rtol=1e-15)
    np.testing.assert_allclose(v_high["c_input"], 600.0 * (0.5 + unit[:, 0]), rtol=1e-15)
    np.testing.assert_allclose(v_high["cue_scale"], 0.9 * (0.8 + 0.3 * unit[:, 2]), rtol=1e-15)
    np.testing.assert_allclose(v_low["c_input"] / 300.0, v_high["c_input"] / 600.0, rtol=1e-15)
    # absolute ranges are the same for every member
    np.testing.assert_array_equal(v_low["temperature"], v_high["temperature"])
    np.testing.assert_allclose(v_low["temperature"], 5.0 + 20.0 * unit[:, 1], rtol=1e-15)


def test_unrepresented_driver_is_not_mapped(scenario):
    """A sampled driver a member does not represent gets no column (reported 'not represented')."""
    silt = DriverRange("silt", "range", 10.0, 30.0, None, "drivers.silt")
    design = sobol_designs(scenario.replace(drivers=scenario.drivers + (silt,)))[0]
    member = build_member("clm5_firstorder", {}, {}, {})
    assert "silt" in design.factors
    assert "silt" not in member_values(member, design)


def test_group_indices_are_labelled_by_the_designs_factors(scenario):
    """End to end through SALib: a known additive function of the unit columns.

    y = 2 u_c_input + u_temperature + u_moisture gives group variances 4/12 (input), 2/12
    (environment: temperature + moisture) and 0, so S1 = ST = (2/3, 1/3, 0, 0) in
    ``factors`` order. Tolerance 0.02: the worst absolute error over seeds 1..50 at N = 1024 was
    0.0098; the true values differ by >= 1/3, so a mislabelled group cannot pass.
    """
    scenario = scenario.replace(sobol=dataclasses.replace(scenario.sobol, n=1024))
    group = sobol_designs(scenario)[1]
    u = group.unit
    y = 2 * u[:, 0] + u[:, 1] + u[:, 3]
    idx = sobol_indices(group.problem, y, False, 100, 0.95, child_seed(scenario.seed, "bootstrap_groups"))
    assert group.factors == ("input", "environment", "microbial", "sand")
    np.testing.assert_allclose(idx["S1"], [2 / 3, 1 / 3, 0.0, 0.0], atol=0.02)
    np.testing.assert_allclose(idx["ST"], [2 / 3, 1 / 3, 0.0, 0.0], atol=0.02)

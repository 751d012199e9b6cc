"""Sobol drivers drawn from the land cells of a forcing grid (``grid`` section of kind sobol)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import api
from harness.errors import ScenarioError
from harness.grids import GridError, land_sample, load_forcing
from harness.members import build_member
from harness.spec import GridSettings

ROOT = Path(__file__).resolve().parents[1]
FORCING = "data/global_forcing/forcing_2deg.nc"
SCENARIO = {
    "schema_version": 1, "name": "g", "kind": "sobol", "seed": 5,
    "models": [{"model": "clm5_firstorder"}],
    "baseline": {"c_input": 400.0, "temperature": 15.0, "moisture": 0.3, "sand": 40.0, "clay": 20.0},
    "drivers": {"cue_scale": {"relative": [0.8, 1.2]}},
    "grid": {"forcing": FORCING, "land_fraction": "land_fraction", "drivers": {"c_input": "npp", "temperature": "temperature"}},
    "sobol": {"n": 64, "replicates": 4},
    "outputs": ["soc"],
}
MAPPED = (("c_input", "npp", "grid.drivers.c_input"), ("temperature", "temperature", "grid.drivers.temperature"))


def _forcing():
    settings = GridSettings(FORCING, MAPPED, "land_fraction", ())
    forcing, problems = load_forcing(ROOT, settings)
    assert not problems
    return forcing


def test_land_sample_is_the_area_weighted_distribution_of_the_kept_cells():
    forcing = _forcing()
    member = build_member("clm5_firstorder", {}, {}, {})
    sample = land_sample(forcing, MAPPED, [member])
    inside = {name: member.adapter.drivers[member.adapter.driver_names.index(name)].contains(forcing.drivers[name])
              for name in ("c_input", "temperature")}
    kept = inside["c_input"] & inside["temperature"]
    assert sample.cells == int(kept.sum()) and sample.land_cells == forcing.n_cells
    assert sample.excluded_by == {name: int((~ok).sum()) for name, ok in inside.items()}
    area = forcing.land_area()
    assert sample.excluded_area_share == pytest.approx(area[~kept].sum() / area.sum(), rel=1e-12)
    npp = next(d for d in sample.drivers if d.name == "c_input")
    assert npp.mode == "grid" and npp.lower == forcing.drivers["c_input"][kept].min()
    # the median of the design equals the area-weighted median of the kept cells
    values, weights = forcing.drivers["c_input"][kept], area[kept]
    order = np.argsort(values)
    weighted_median = values[order][np.searchsorted(np.cumsum(weights[order]) / weights.sum(), 0.5)]
    drawn = member.from_unit(npp, np.random.default_rng(1).uniform(size=200_000))
    assert np.median(drawn) == pytest.approx(weighted_median, rel=0.02)
    assert drawn.min() >= npp.lower and drawn.max() <= npp.upper
    # an unweighted median would differ: high-latitude cells are small
    assert abs(np.median(values) - weighted_median) / weighted_median > 0.02


def test_sobol_over_the_land_cells(tmp_path):
    result = api.run(api.from_dict(SCENARIO, base=ROOT), tmp_path / "out")
    summary = result.summary
    sample = summary["settings"]["land_sample"]
    assert sample["forcing"] == FORCING and 0 < sample["cells"] <= sample["land_cells"]
    assert "~ land cells" in summary["settings"]["box"]
    indices = pd.read_csv(result.directory / "indices.csv")
    st = indices[(indices["output"] == "soc") & (indices["level"] == "driver")].set_index("driver")["ST"]
    assert set(st.index) == {"cue_scale", "c_input", "temperature"}
    dgsm = pd.read_csv(result.directory / "dgsm.csv")
    bound = dgsm[(dgsm["output"] == "soc") & (dgsm["level"] == "driver")].set_index("factor")["bound"]
    assert np.isnan(bound["c_input"]) and np.isnan(bound["temperature"]) and np.isfinite(bound["cue_scale"])
    assert not (result.directory / "crossover.csv").exists() or pd.read_csv(result.directory / "crossover.csv").empty


def test_a_driver_sampled_from_the_box_and_the_grid_is_refused():
    data = {**SCENARIO, "drivers": {"c_input": {"relative": [0.5, 1.5]}}}
    with pytest.raises(ScenarioError, match="sampled both from its box"):
        api.from_dict(data, base=ROOT)


def test_no_land_cell_inside_every_models_interval_is_reported():
    """AWB's temperature interval is (-10, 50] degC; a forcing whose land is all colder leaves no cell."""
    forcing = _forcing()
    cold = forcing.drivers["temperature"] - 100.0
    frozen = type(forcing)(forcing.grid, forcing.land, {**forcing.drivers, "temperature": cold},
                           forcing.land_fraction, forcing.observations, forcing.files)
    with pytest.raises(GridError, match="no land cell has every mapped driver"):
        land_sample(frozen, MAPPED, [build_member("awb", {}, {}, {})])

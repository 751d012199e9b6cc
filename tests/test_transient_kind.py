"""Kind ``transient`` and the ``response`` section, end to end on the linear CLM5 cascade (closed forms)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import api
from harness.errors import ScenarioError

BASE = {"schema_version": 1, "name": "t", "seed": 1, "models": [{"model": "clm5_firstorder"}], "outputs": ["soc"]}


def test_transient_clm5_new_steady_state_and_efolding(tmp_path):
    """CLM5 is linear in its inputs: inputs x 1.2 give SOC x 1.2 at the new steady state, approached from below."""
    data = {**BASE, "kind": "transient",
            "transient": {"experiments": {"up": {"years": 2000, "change": {"c_input": {"scale": 1.2}}}},
                          "at": [10, 2000], "every": 10}}
    result = api.run(api.from_dict(data), tmp_path / "out")
    table = pd.read_csv(result.directory / "response.csv")
    row = table[table["year"] == 2000].iloc[0]
    assert row["final"] / row["y0"] == pytest.approx(1.2, rel=1e-9)
    assert 1.0 < row["ratio"] < 1.2
    assert 0 < row["efold_years"] < 2000
    assert row["mass_balance_gap"] < 1e-9
    early = table[table["year"] == 10].iloc[0]
    assert early["change"] < row["change"]  # the gain grows towards the new steady state
    ages = pd.read_csv(result.directory / "ages.csv")
    transit = ages.loc[ages["quantity"] == "mean transit time", "years"].iloc[0]
    assert transit > 0


def test_response_section_makes_sobol_analyse_the_ratio(tmp_path):
    """With ``response`` every row's soc is its 50-year ratio under inputs x 1.2: in (1, 1.2) for CLM5."""
    data = {**BASE, "kind": "sweep",
            "sweep": {"drivers": {"temperature": {"values": [5.0, 15.0]}}},
            "response": {"experiment": {"years": 50, "change": {"c_input": {"scale": 1.2}}}, "measure": "ratio"}}
    result = api.run(api.from_dict(data), tmp_path / "out")
    table = pd.read_csv(result.directory / "sweep.csv")
    assert np.all((table["soc"] > 1.0) & (table["soc"] < 1.2))
    # warmer soils turn over faster, so more of the final gain is reached in 50 years
    assert table.sort_values("temperature")["soc"].is_monotonic_increasing


def test_response_driver_every_model_must_have(tmp_path):
    data = {**BASE, "kind": "sweep", "models": [{"model": "awb"}],
            "sweep": {"drivers": {"c_input": {"values": [500.0, 600.0]}}},
            "response": {"experiment": {"years": 50, "change": {"moisture": {"shift": 0.05}}}}}
    with pytest.raises(ScenarioError, match="does not represent 'moisture'"):
        api.from_dict(data)


@pytest.mark.parametrize("change, message", [({"scale": -1}, "must be >= 0"), ({}, "exactly one of"),
                                            ({"scale": 1.2, "shift": 1}, "exactly one of")])
def test_bad_change_is_reported(change, message):
    data = {**BASE, "kind": "transient", "transient": {"experiments": {"e": {"years": 5, "change": {"c_input": change}}}}}
    with pytest.raises(ScenarioError, match=message):
        api.from_dict(data)


SOBOL = {**BASE, "kind": "sobol", "baseline": {"c_input": 500.0, "temperature": 15.0, "sand": 40.0, "clay": 20.0},
         "drivers": {"c_input": {"relative": [0.5, 1.5]}, "temperature": {"range": [5.0, 25.0]}},
         "sobol": {"n": 64}}
INPUT_UP = {"years": 50, "change": {"c_input": {"scale": 1.2}}}


@pytest.mark.parametrize("measure", ["ratio", "change"])
def test_sobol_analyses_a_transient_response_as_a_steady_state(tmp_path, measure):
    """CLM5 is linear in its inputs, so its 50-year response ratio to inputs x 1.2 does not depend on
    the input level (ST(c_input) = 0: only temperature moves it), while the change in SOC is
    proportional to the input (ST(c_input) > 0)."""
    data = {**SOBOL, "response": {"experiment": INPUT_UP, "measure": measure}}
    result = api.run(api.from_dict(data), tmp_path / "out")
    indices = pd.read_csv(result.directory / "indices.csv")
    soc = indices[(indices["output"] == "soc") & (indices["level"] == "driver")].set_index("driver")
    st = soc["ST"]
    assert set(soc["units"].astype(str)) == ({"1"} if measure == "ratio" else {"g C m-2"})
    if measure == "ratio":
        assert abs(st["c_input"]) < 1e-6 and st["temperature"] > 0.9
    else:
        assert st["c_input"] > 0.2 and st["temperature"] > 0.2


def test_local_elasticities_of_a_transient_response(tmp_path):
    """CLM5's 50-year change in SOC under inputs x 1.2 is proportional to the input: elasticity 1;
    its ratio does not depend on the input: elasticity 0. The exact (IFT) column is NaN, with a note."""
    rows = {}
    for measure in ("change", "ratio"):
        data = {**BASE, "kind": "local", "baseline": SOBOL["baseline"],
                "local": {"drivers": ["c_input", "temperature"], "h": 0.1, "definition": "central"},
                "response": {"experiment": INPUT_UP, "measure": measure}}
        result = api.run(api.from_dict(data), tmp_path / measure)
        table = pd.read_csv(result.directory / "elasticities.csv")
        rows[measure] = table[(table["output"] == "soc")].set_index("driver")
    assert rows["change"].loc["c_input", "elasticity"] == pytest.approx(1.0, abs=1e-8)
    assert rows["ratio"].loc["c_input", "elasticity"] == pytest.approx(0.0, abs=1e-8)
    assert rows["ratio"].loc["temperature", "elasticity"] > 0  # faster turnover: more of the gain reached
    assert rows["change"]["exact"].isna().all()
    assert rows["change"]["note"].str.contains("not defined for a transient response").all()


def test_a_csv_table_in_a_scenario_gives_the_run_of_the_equivalent_ramp(tmp_path):
    """temperature read from a CSV (in K, converted) rising 15 -> 17 degC over 10 years gives the
    run of `shift: 2, ramp: 10`: the table goes through the scenario, its units and the schedule."""
    (tmp_path / "warming.csv").write_text("time,t_soil\n0,288.15\n10,290.15\n40,290.15\n")
    base = {**BASE, "kind": "transient", "baseline": {"temperature": 15.0}}
    runs = {}
    for name, change in (("table", {"table": "warming.csv", "column": "t_soil", "units": "K"}),
                         ("ramp", {"shift": 2.0, "ramp": 10.0})):
        data = {**base, "transient": {"experiments": {"w": {"years": 40, "change": {"temperature": change}}},
                                      "at": [5, 10, 40], "every": 5}}
        result = api.run(api.from_dict(data, base=tmp_path), tmp_path / name)
        runs[name] = pd.read_csv(result.directory / "response.csv").set_index("year")["y"]
    np.testing.assert_allclose(runs["table"], runs["ramp"], rtol=1e-9)
    assert runs["table"].loc[40.0] < runs["table"].loc[5.0]  # warmer soils lose carbon


@pytest.mark.parametrize("table, units, message", [
    ("warming.csv", "W m-2", "cannot be converted"),  # read at check time: a wrong unit is a scenario error
    ("../outside.csv", "K", "outside the data root"),  # tables lie inside the data root like every data file
    ("missing.csv", "K", "cannot read"),
])
def test_a_bad_table_is_a_scenario_error_at_its_change(tmp_path, table, units, message):
    folder = tmp_path / "scenario"
    folder.mkdir()
    for where in (folder / "warming.csv", tmp_path / "outside.csv"):
        where.write_text("time,t_soil\n0,288.15\n10,290.15\n")
    data = {**BASE, "kind": "transient", "transient": {"experiments": {"w": {"years": 10, "change": {
        "temperature": {"table": table, "column": "t_soil", "units": units}}}}}}
    with pytest.raises(ScenarioError, match=message) as info:
        api.from_dict(data, base=folder)
    assert "transient.experiments.w.change.temperature.table" in str(info.value)

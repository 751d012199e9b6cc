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

"""Every shipped scenario validates; every published figure a scenario names is reproduced."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.api import load_scenario
from harness.cli import main

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
WITH_PUBLISHED = [p for p in SCENARIOS if "published:" in p.read_text() and load_scenario(p).published]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_validates(path, capsys, request):
    """A posterior-informed scenario validates against a short run of its calibration."""
    needs_posterior = "drivers_from:" in path.read_text()
    posterior = request.getfixturevalue("lter_calibration") if needs_posterior else None
    # the shipped scenarios read ../data (or a calibration's directory): a wider data root
    extra = ["--set", f"drivers_from={posterior}", "--data-root", str(posterior)] if posterior else [
        "--data-root", str(path.parents[1])]
    assert main(["validate", str(path), *extra]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("path", WITH_PUBLISHED, ids=lambda p: p.stem)
def test_published_figures_are_reproduced(path, tmp_path, capsys):
    assert main(["run", str(path), "--out", str(tmp_path)]) == 0, capsys.readouterr().err
    comparison = pd.read_csv(tmp_path / "published.csv")
    scenario = load_scenario(path)
    assert len(comparison) >= len(scenario.published), "every published entry must match a member"
    missed = comparison[~comparison["holds"]]
    assert missed.empty, missed.to_string()


def test_clm5_reference_points_reproduce_the_spec(tmp_path, capsys):
    """clm5_firstorder.md (h): the points scenario gives the worked example from the command line."""
    assert main(["run", "scenarios/clm5_reference.yaml", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "points.csv").set_index("case_id")
    # printed values: rtol 1e-5 (spec) plus half a unit of the last printed digit
    for case, column, printed, half_unit in [
        ("example", "soc", 11375.53, 0.005), ("example", "litter", 339.883, 0.0005),
        ("example", "soc_total", 11715.41, 0.005), ("example", "cue_bulk", 0.498572, 5e-7),
        ("xi_max", "soc", 3396.97, 0.005), ("sand_0", "soc", 17137.62, 0.005),
        ("sand_100", "soc", 5457.60, 0.005),
    ]:
        assert abs(table.loc[case, column] - printed) <= 1e-5 * printed + half_unit, (case, column)
    assert (table["status"] == "ok").all()
    ratio = table.loc["example_double_input", "soc"] / table.loc["example", "soc"]
    assert ratio == pytest.approx(2.0, rel=1e-12)  # linear in c_input


def _printed_ok(value: float, text: str, rtol: float) -> bool:
    """Within rtol plus half a unit of the last printed digit (the specs' stated tolerance)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(value - float(text)) <= rtol * abs(float(text)) + 0.5 * 10.0 ** -decimals


@pytest.mark.parametrize("scenario, expected, rtol", [
    ("mimics_reference", {  # mimics.md section 8, relative 1e-6
        "M1": {"soc": "1225.65", "soc_total": "2194.87", "mic": "22.4345", "pool.som_p": "323.915"},
        "M2": {"soc": "2780.36", "soc_total": "5930.58", "mic": "25.9801", "pool.som_p": "930.532"},
        "M3": {"soc": "3696.33", "soc_total": "5263.97", "mic": "35.3548", "pool.som_p": "1372.39"},
        "M4": {"soc": "3958.24", "soc_total": "5062.24", "mic": "77.6737", "pool.som_p": "2223.16"},
        "M5": {"soc": "3210.58", "soc_total": "3776.88", "mic": "152.336", "pool.som_p": "2219.25"},
    }, 1e-6),
    ("millennial_reference", {  # millennial.md section 8, relative 1e-6
        "N1": {"soc": "6598.00", "pool.lmwc": "3.01273", "mic": "5.67499", "respiration": "171.850"},
        "N2": {"soc": "8097.49", "pool.lmwc": "4.38925", "mic": "8.25329", "respiration": "363.473"},
        "N3": {"soc": "5258.94", "pool.lmwc": "2.68770", "mic": "7.43197", "cue_bulk": "0.345365"},
    }, 1e-6),
])
def test_reference_points_scenarios_reproduce_the_spec(tmp_path, capsys, scenario, expected, rtol):
    assert main(["run", f"scenarios/{scenario}.yaml", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "points.csv").set_index("case_id")
    assert sorted(table.index) == sorted(expected), "one row per case, under its own variant"
    assert (table["status"] == "ok").all()
    for case, values in expected.items():
        for column, text in values.items():
            assert _printed_ok(table.loc[case, column], text, rtol), (case, column, table.loc[case, column], text)

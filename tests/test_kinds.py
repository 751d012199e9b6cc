"""The ``local`` and ``sweep`` kinds on the CLM5 model, whose answers are known in closed form."""

from __future__ import annotations

import textwrap
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from harness.cli import main

HEAD = "schema_version: 1\nname: t\nseed: 1\n"


def _run(tmp_path, body: str, *extra: str) -> tuple[int, pd.DataFrame | None]:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + textwrap.dedent(body))
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out), *extra])
    return code, out


LOCAL = """
kind: local
models:
  - model: clm5_firstorder
    variants: {sand: [20.0, 60.0]}
baseline: {c_input: 500.0, temperature: 15.0}
local: {drivers: [c_input, cue_scale, temperature], h: 0.1, definition: DEF}
outputs: [soc, pool.s3, mic]
"""


@pytest.mark.parametrize("definition", ["central", "plus", "minus"])
def test_local_elasticity_of_a_linear_model_is_one(tmp_path, definition):
    code, out = _run(tmp_path, LOCAL.replace("DEF", definition))
    assert code == 0
    table = pd.read_csv(out / "elasticities.csv")
    hits = table[(table["driver"] == "c_input") & (table["output"] != "mic")]
    np.testing.assert_allclose(hits["elasticity"], 1.0, rtol=1e-12)  # round-off of 3 solves
    assert set(hits[definition]) == set(hits["elasticity"])


def test_local_definitions_agree_with_their_formulas(tmp_path):
    code, out = _run(tmp_path, LOCAL.replace("DEF", "central"))
    t = pd.read_csv(out / "elasticities.csv").dropna(subset=["S0"])
    np.testing.assert_allclose(t["central"], (t["S_plus"] - t["S_minus"]) / (0.2 * t["S0"]), rtol=1e-12)
    np.testing.assert_allclose(t["ratio_plus"], t["S_plus"] / t["S0"], rtol=1e-15)
    np.testing.assert_allclose(t["plus"], (t["S_plus"] - t["S0"]) / (0.1 * t["S0"]), rtol=1e-12)


def test_local_marks_unrepresented_outputs_and_ranks_by_magnitude(tmp_path):
    code, out = _run(tmp_path, LOCAL.replace("DEF", "central"))
    t = pd.read_csv(out / "elasticities.csv")
    mic = t[t["output"] == "mic"]
    assert (mic["note"] == "output not represented").all() and (mic["rank"] == 0).all()
    soc = t[(t["output"] == "soc") & (t["member"] == "clm5_firstorder[sand=20.0]")].set_index("driver")
    # temperature lowers SOC (negative elasticity) yet ranks by magnitude
    assert soc.loc["temperature", "elasticity"] < 0
    order = soc["elasticity"].abs().sort_values(ascending=False).index.tolist()
    assert soc.loc[order, "rank"].tolist() == [1, 2, 3]
    assert "## clm5_firstorder[sand=20.0]: soc [g C m-2]" in (out / "ranking.md").read_text()


def test_local_perturbation_leaving_the_domain_is_a_scenario_error(tmp_path, capsys):
    body = LOCAL.replace("DEF", "central").replace("h: 0.1", "h: 1.0")  # c_input x 0 = 0
    code, _ = _run(tmp_path, body)
    assert code == 2
    assert "rows of the local design leave the model's domain" in capsys.readouterr().err


def test_local_published_mismatch_is_reported(tmp_path, capsys):
    body = LOCAL.replace("DEF", "central") + (
        "published:\n  - {where: {sand: 20.0}, driver: c_input, output: soc, value: 2.0, rtol: 0.1}\n")
    code, out = _run(tmp_path, body)
    assert code == 0
    comparison = pd.read_csv(out / "published.csv")
    assert comparison["holds"].tolist() == [False]
    assert "outside tolerance" in capsys.readouterr().err


# Exact point elasticities (column ``exact``, ``definition: exact``): d ln S / d ln x at the baseline by
# the implicit function theorem (harness.sensitivity), computed whatever the ranked definition.
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

MIMICS_LOCAL = """
kind: local
models:
  - model: mimics
    variants: {parameter_set: [gmd2015_fwd, stode_rev_beta], beta: [1.0, 1.5]}
baseline: {c_input: 500.0, temperature: 15.0, clay: 20.0}
local: {drivers: [c_input, cue_scale, temperature, clay], h: 1.0e-4, definition: exact}
outputs: [soc, mic, maom, pom]
"""


def test_local_exact_elasticity_of_clm5_soc_to_c_input_is_one(tmp_path):
    """The shipped clm5_elasticity scenario: CLM5's steady state is linear in c_input, so exactly 1."""
    out = tmp_path / "out"
    assert main(["run", str(SCENARIOS / "clm5_elasticity.yaml"), "--out", str(out)]) == 0
    t = pd.read_csv(out / "elasticities.csv")
    hits = t[t["driver"] == "c_input"].set_index("output")
    assert abs(hits.loc["soc", "exact"] - 1.0) <= 1e-8
    assert abs(hits.loc["soc_total", "exact"] - 1.0) <= 1e-8
    # the default definition is untouched: the ranked elasticity is still the central difference
    np.testing.assert_array_equal(t["elasticity"], t["central"])
    # the other drivers are nonlinear: at h = 0.1 the central difference is off by O(h^2), no more
    others = t[t["driver"] != "c_input"]
    assert np.isfinite(others["exact"]).all()
    np.testing.assert_allclose(others["central"], others["exact"], rtol=0.05)
    text = (out / "ranking.md").read_text()
    assert "exact: d ln S / d ln x at the baseline by the implicit function theorem" in text
    assert "elasticity (central) |   exact |" in text


def test_local_exact_matches_a_small_central_difference_for_mimics(tmp_path):
    """MIMICS is nonlinear; with h = 1e-4 the central difference is the derivative to ~h^2."""
    code, out = _run(tmp_path, MIMICS_LOCAL)
    assert code == 0
    t = pd.read_csv(out / "elasticities.csv")
    assert len(t) == 4 * 4 * 4 and t["exact"].notna().all()
    # elasticities ~1e-11 (mic to clay) are zero up to round-off on either side: the atol
    np.testing.assert_allclose(t["central"], t["exact"], rtol=1e-6, atol=1e-9)
    soc = t[t["output"] == "soc"]
    assert (soc["exact"].abs() > 0.1).all()  # the ones that matter are far from zero
    np.testing.assert_allclose(soc["central"], soc["exact"], rtol=1e-6)
    # definition: exact ranks by it and shows the central difference beside it
    np.testing.assert_array_equal(t["elasticity"], t["exact"])
    first = soc[soc["rank"] == 1]
    assert set(first["driver"]) == {"cue_scale"}
    assert "elasticity (exact) |   central |" in (out / "ranking.md").read_text()


def test_local_exact_is_nan_with_a_note_where_the_baseline_is_not_ok(tmp_path, monkeypatch):
    """A baseline row that did not solve gives no elasticity, the exact one included, and says why."""
    from harness.adapter import Status
    from harness.kinds.common import RunContext

    solve = RunContext.evaluate

    def baseline_fails(self, member, n_rows, *args, **kwargs):
        result = solve(self, member, n_rows, *args, **kwargs)
        result.status[0], result.message[0] = Status.NOT_CONVERGED, "made to fail"
        result.pools[0], result.outputs[0] = np.nan, np.nan
        return result

    monkeypatch.setattr(RunContext, "evaluate", baseline_fails)
    code, out = _run(tmp_path, LOCAL.replace("DEF", "exact"))
    assert code == 1  # failed rows are a problem of the run
    t = pd.read_csv(out / "elasticities.csv")
    solved = t[t["output"] != "mic"]
    assert solved[["exact", "central", "elasticity"]].isna().all().all()
    assert (solved["note"] == "baseline not OK: every elasticity NaN (see summary.json)").all()
    assert (solved["rank"] == 0).all()


def test_local_unknown_definition_names_the_choices(tmp_path, capsys):
    code, _ = _run(tmp_path, LOCAL.replace("DEF", "exakt"))
    assert code == 2
    err = capsys.readouterr().err
    assert "s.yaml:10:" in err  # the line of `definition: exakt`
    assert "local.definition: must be one of central, plus, minus, exact; got 'exakt'" in err
    assert "did you mean 'exact'?" in err


SWEEP = """
kind: sweep
models:
  - model: clm5_firstorder
baseline: {c_input: 500.0, temperature: 15.0}
sweep:
  drivers:
    c_input: {relative: [0.5, 1.5], num: 3}
    cue_scale: {values: [0.8, 1.0, 1.2]}
  mode: MODE
  zscore: true
outputs: [soc, pool.s1]
"""


def test_sweep_grid_is_the_full_factorial_with_zscores(tmp_path):
    code, out = _run(tmp_path, SWEEP.replace("MODE", "grid"))
    assert code == 0
    t = pd.read_csv(out / "sweep.csv")
    assert len(t) == 9 and set(t["c_input"]) == {250.0, 500.0, 750.0}
    assert t["soc_z"].mean() == pytest.approx(0.0, abs=1e-12)
    assert t["soc_z"].std(ddof=0) == pytest.approx(1.0, rel=1e-12)
    at = t.set_index(["c_input", "cue_scale"])["soc"]
    assert at[(750.0, 1.0)] / at[(250.0, 1.0)] == pytest.approx(3.0, rel=1e-12)  # linear in c_input
    with netCDF4.Dataset(out / "sweep.nc") as ds:
        assert ds["soc"].units == "g C m-2" and ds["pool__s1"].units == "g C m-2"
        assert ds["soc_z"].units == "1" and ds["c_input"].units == "g C m-2 yr-1"
        np.testing.assert_array_equal(ds["soc"][:], t["soc"].to_numpy())


def test_sweep_one_at_a_time_holds_the_others_at_baseline(tmp_path):
    code, out = _run(tmp_path, SWEEP.replace("MODE", "oat"))
    assert code == 0
    t = pd.read_csv(out / "sweep.csv")
    assert t["swept"].tolist() == ["c_input"] * 3 + ["cue_scale"] * 3
    assert (t.loc[t["swept"] == "c_input", "cue_scale"] == 1.0).all()
    assert (t.loc[t["swept"] == "cue_scale", "c_input"] == 500.0).all()
    # z-scores per panel: each swept driver separately
    for _, panel in t.groupby("swept"):
        assert panel["soc_z"].mean() == pytest.approx(0.0, abs=1e-12)

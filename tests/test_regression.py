"""Kind ``regression``: the mixed model against statsmodels, R² and ICC by hand, and the CLI."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.mixed_linear_model import MixedLM

from harness.cli import main
from harness.mixed import fit_mixed, icc, r_squared


def _synthetic(n_groups: int = 8, per_group: int = 12, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_groups * per_group
    group = np.repeat([f"g{i}" for i in range(n_groups)], per_group)
    x1, x2 = rng.normal(5.0, 2.0, n), rng.uniform(0.2, 0.6, n)
    offset = np.repeat(rng.normal(0.0, 0.3, n_groups), per_group)
    soc = 10 ** (2.0 + 0.05 * x1 - 1.0 * x2 + offset + rng.normal(0.0, 0.1, n))
    return pd.DataFrame({"source": group, "npp": x1, "cue": x2, "soc": soc, "log10_soc": np.log10(soc)})


def test_estimates_equal_statsmodels_own_fit():
    data = _synthetic()
    fit = fit_mixed(data, "log10_soc", ["cue", "npp"], "source")
    z = data[["cue", "npp"]]
    exog = np.column_stack([np.ones(len(data)), (z - z.mean()) / z.std(ddof=1)])
    ref = MixedLM(data["log10_soc"].to_numpy(), exog, groups=data["source"].to_numpy()).fit(reml=True)
    c = fit.coefficients
    assert c["term"].tolist() == ["(Intercept)", "cue", "npp"]
    np.testing.assert_allclose(c["estimate"], ref.fe_params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(c[["ci_low", "ci_high"]], ref.conf_int()[:3], rtol=0, atol=1e-8)
    np.testing.assert_allclose(c["p"], ref.pvalues[:3], rtol=0, atol=1e-8)
    assert fit.sigma2 == pytest.approx(ref.scale, abs=1e-8)
    assert fit.tau00 == pytest.approx(ref.cov_re[0, 0], abs=1e-8)
    assert (fit.n_groups, fit.n_obs) == (8, 96)
    assert fit.first_predictor() == c.loc[c["estimate"].iloc[1:].abs().idxmax(), "term"]


def test_r_squared_and_icc_by_hand():
    # var_fixed 2, tau00 1, sigma2 1: total 4
    assert r_squared(2.0, 1.0, 1.0) == (0.5, 0.75)
    assert icc(1.0, 3.0) == 0.25
    # and the fit's summaries obey the formulas, with var_fixed = var(X beta) (ddof 1)
    data = _synthetic()
    fit = fit_mixed(data, "log10_soc", ["cue", "npp"], "source")
    z = data[["cue", "npp"]]
    z = (z - z.mean()) / z.std(ddof=1)
    beta = fit.coefficients["estimate"].to_numpy()
    var_fixed = np.var(beta[0] + z.to_numpy() @ beta[1:], ddof=1)
    total = var_fixed + fit.tau00 + fit.sigma2
    assert fit.r2_marginal == pytest.approx(var_fixed / total, rel=1e-12)
    assert fit.r2_conditional == pytest.approx((var_fixed + fit.tau00) / total, rel=1e-12)
    assert fit.icc == pytest.approx(fit.tau00 / (fit.tau00 + fit.sigma2), rel=1e-12)


HEAD = "schema_version: 1\nname: t\nseed: 7\nkind: regression\n"


def _write(tmp_path, body: str):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + textwrap.dedent(body))
    return path


def test_data_regression_with_transform_from_the_command_line(tmp_path):
    _synthetic().drop(columns="log10_soc").to_csv(tmp_path / "obs.csv", index=False)
    path = _write(tmp_path, """
        regression:
          data: obs.csv
          response: log10_soc
          predictors: [npp, cue]
          group: source
          transform: {log10_soc: log10(soc)}
        """)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "regression.csv")
    fit = fit_mixed(_synthetic(), "log10_soc", ["npp", "cue"], "source")
    np.testing.assert_allclose(table["estimate"], fit.coefficients["estimate"], rtol=0, atol=1e-12)
    assert "Marginal R² / Conditional R²" in (tmp_path / "out" / "regression.md").read_text()


def test_virtual_meta_analysis_runs_and_writes_the_tables(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "scenarios/virtual_meta_analysis.yaml", "--out", str(out),
                 "--set", "regression.virtual.sites=60"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out / "regression.csv")
    assert table["member"].nunique() == 4
    assert set(table["term"]) == {"(Intercept)", "cue", "npp"}
    assert (table.loc[table["term"] != "(Intercept)", "rank"].isin([1, 2])).all()
    assert ((table["r2_marginal"] <= table["r2_conditional"]) & (table["r2_conditional"] < 1)).all()
    observations = pd.read_csv(out / "observations.csv")
    assert (observations["npp"] == observations["c_input"]).all()
    assert observations.groupby("member")["source"].nunique().eq(15).all()
    text = (out / "regression.md").read_text()
    assert "## Which predictor the regression ranks first" in text and "τ00 source" in text
    printed = capsys.readouterr()
    assert "ranked first" in printed.out and "Sobol ranks first" in printed.out and "same first" in printed.out
    sobol = pd.read_csv(out / "sobol_ranking.csv")
    assert len(sobol) == 4 * 3 and set(sobol["driver"]) == {"c_input", "cue_scale", "temperature"}
    assert all(sorted(block["rank"]) == [1, 2, 3] for _, block in sobol.groupby("member"))
    # a model with failed rows: blocks dropped, counted and warned about
    dropped = sobol.set_index("member")["blocks_dropped"]
    assert dropped["millennial[beta=1.0, beta_rescale=reference]"].iloc[0] > 0
    assert "Sobol blocks had a failed steady state" in printed.err
    # the comparison's Sobol column follows the indices
    for member, block in sobol.groupby("member"):
        st = block.set_index("driver")["ST"]
        first = "cue" if st["cue_scale"] > st["c_input"] else "npp"
        assert f"| {first}" in next(line for line in text.splitlines() if line.startswith(f"| {member}"))


def test_virtual_observations_are_reproducible(tmp_path):
    args = ["run", "scenarios/virtual_meta_analysis.yaml", "--set", "regression.virtual.sites=30"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "regression.csv").read_bytes() == (tmp_path / "b" / "regression.csv").read_bytes()


@pytest.mark.parametrize("body, message", [
    ("regression: {data: obs.csv, predictors: [npp, mat]}",
     "s.yaml:5:47: regression.predictors[1]: column 'mat' is not in 'obs.csv'. Hint: known: cue, log10_soc"),
    ("models: [mimics]\nregression: {virtual: {sobol_n: 100, drivers: {c_input: {relative: [0.5, 1.5]}}},"
     " predictors: [cue]}", "regression.virtual.sobol_n: must be a power of 2 (Sobol sequence); got 100. Hint: use 128"),
    ("regression: {data: missing.csv, predictors: [npp]}",
     "s.yaml:5:20: regression.data: cannot read 'missing.csv': No such file or directory"),
    ("regression: {data: obs.csv, predictors: []}",
     "s.yaml:5:41: regression.predictors: must be a non-empty list of distinct column names; got []"),
    ("regression: {data: obs.csv, predictors: [npp], transform: {y: exp(soc)}}",
     "s.yaml:5:63: regression.transform.y: must read FUNC(column) with FUNC one of log10, log, sqrt"),
    ("models: [mimics]\nregression: {virtual: {sites: 10, sources: 20, drivers: {c_input: {relative: [0.5, 1.5]}}},"
     " predictors: [cue]}", "regression.virtual.sources: must not exceed sites (10); got 20"),
    ("models: [mimics]\nregression: {virtual: {drivers: {temperature: {range: [5, 90]}}}, predictors: [cue]}",
     "regression.virtual.drivers.temperature.range: [5, 90] leaves the valid range [-20, 50] [degC] of temperature in mimics"),
    ("regression: {virtual: {drivers: {c_input: {relative: [0.5, 1.5]}}}, predictors: [cue]}",
     "regression.virtual: virtual observations need `models` to generate them"),
    ("regression: {predictors: [cue]}", "regression: needs exactly one of `data` (a CSV or netCDF path) or `virtual`"),
    ("sweep: {}\nregression: {data: obs.csv, predictors: [npp]}", "sweep: is used only by kind 'sweep'"),
])
def test_bad_sections_exit_2_with_positions(tmp_path, capsys, body, message):
    _synthetic().to_csv(tmp_path / "obs.csv", index=False)
    path = _write(tmp_path, body + "\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "nothing was run" in err

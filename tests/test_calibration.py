"""Kind ``calibrate``: recovery of known parameters, failed draws, scenario errors, posterior-informed Sobol."""

from __future__ import annotations

import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.adapter import Status
from harness.calibration.priors import pymc_prior, scipy_prior
from harness.calibration.sampler import require_pymc, run_chain
from harness.calibration.target import Target
from harness.cli import main
from harness.errors import HarnessError
from harness.kinds.calibrate import _divergence_warnings
from harness.members import build_member
from harness.posterior import load_posterior, split_calibrated
from harness.report import divergence_text
from harness.sampling import member_values, unit_design
from harness.spec import DriverRange, Prior
from harness.vocabulary import PRIOR_PARAMETERS

ROOT = Path(__file__).resolve().parents[1]


def _synthetic_sites(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"site": [f"s{i:02d}" for i in range(n)], "c_input": rng.uniform(100, 800, n),
                         "temperature": rng.uniform(0, 25, n), "clay": rng.uniform(10, 40, n),
                         "lignin_n": rng.uniform(10, 30, n)})


def _write_scenario(tmp_path: Path, data: pd.DataFrame, priors: str, sampler: str, extra: str = "",
                    error: str = "{model: lognormal, sigma: 0.05}") -> Path:
    data.to_csv(tmp_path / "obs.csv", index=False)
    path = tmp_path / "calibrate.yaml"
    path.write_text(textwrap.dedent(f"""\
        schema_version: 1
        name: recovery
        kind: calibrate
        seed: 7
        models:
          - model: mimics
            variants: {{parameter_set: stode_rev_beta}}
        calibrate:
          observations:
            file: obs.csv
            id: site
            drivers:
              c_input: {{column: c_input, units: g C m-2 yr-1}}
              temperature: {{column: temperature, units: degC}}
              clay: {{column: clay, units: "%"}}
              lignin_n: {{column: lignin_n, units: "1"}}
            output: soc
            column: soc
            units: g C m-2
            error: {error}
          priors:
        """) + textwrap.indent(textwrap.dedent(priors), "    ") + f"  sampler: {sampler}\n" + extra)
    return path


TRUTH = {"c_input_multiplier": 1.3, "sigma": 0.05}
PRIORS = """\
c_input_multiplier: {dist: lognormal, mu: 0.0, sigma: 0.5}
"""
ERROR = "{model: lognormal, sigma: {dist: halfnormal, sigma: 0.5}}"


def _observations(n: int = 24, seed: int = 11) -> pd.DataFrame:
    """Observations from MIMICS (stode_rev_beta, beta 1.5) at a known input multiplier, 5 % lognormal noise."""
    sites = _synthetic_sites(n, seed)
    member = build_member("mimics", {"parameter_set": "stode_rev_beta"}, {}, {})
    forcing = member.forcing(n, {**{k: sites[k].to_numpy() for k in ("temperature", "clay", "lignin_n")},
                                 "c_input": sites["c_input"].to_numpy() * TRUTH["c_input_multiplier"],
                                 })
    result = member.adapter.steady_state(member.theta(n), forcing)
    assert result.ok.all()
    noise = np.random.default_rng(seed + 1).normal(0.0, TRUTH["sigma"], n)
    return sites.assign(soc=result.get("soc") * np.exp(noise))


@pytest.mark.parametrize("sampler", ["{name: DEMetropolisZ, draws: 800, tune: 800, chains: 2}",
                                     "{name: NUTS, draws: 200, tune: 200, chains: 2}",
                                     "{name: NUTS, draws: 200, tune: 200, chains: 2, mass_matrix: full}"])
def test_synthetic_observations_recover_the_true_parameters(tmp_path, capsys, sampler):
    """The true values lie in the posterior 90 % intervals, which are far narrower than the prior's."""
    path = _write_scenario(tmp_path, _observations(), PRIORS, sampler, error=ERROR)
    start = time.perf_counter()
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0, capsys.readouterr().err
    print(f"recovery run: {time.perf_counter() - start:.1f} s")
    summary = pd.read_csv(tmp_path / "out" / "posterior_summary.csv").set_index("quantity")
    prior_width = {"c_input_multiplier": np.exp(1.645 * 0.5) - np.exp(-1.645 * 0.5), "sigma": 0.5 * 1.645}
    for name, truth in TRUTH.items():
        row = summary.loc[name]
        assert row["q05"] <= truth <= row["q95"], (name, truth, row["q05"], row["q95"])
        assert row["q95"] - row["q05"] < 0.25 * prior_width[name], (name, row["q05"], row["q95"])
        assert row["r_hat"] < 1.05, (name, row["r_hat"])
    fit = pd.read_csv(tmp_path / "out" / "fit.csv")
    assert fit["r2"].iloc[0] > 0.95
    text = (tmp_path / "out" / "calibration.md").read_text()
    for heading in ("## Posterior", "## Fit to the observations", "## Model comparison", "## Observed and predicted",
                    "## Sampling and failed steady states"):
        assert heading in text
    if "NUTS" in sampler:  # the sampler's settings and divergences are stated with the results
        assert f"{'full' if 'full' in sampler else 'diagonal'} mass matrix" in text
        assert "NUTS transitions after tuning diverged" in text
    sampling = pd.read_csv(tmp_path / "out" / "sampling.csv")
    assert sampling["divergent"].notna().all() == ("NUTS" in sampler)
    assert (tmp_path / "out" / "figures" / "posterior.png").stat().st_size > 0


def test_posterior_nc_is_arviz_inference_data(tmp_path, capsys):
    """posterior.nc reads back with ArviZ, with a member dimension and units, and gives the same
    draws with --jobs 2 as serially (chains are seeded by scenario, member and chain)."""
    az = pytest.importorskip("arviz")
    path = _write_scenario(tmp_path, _observations(8), PRIORS, "{draws: 40, tune: 40, chains: 2}")
    assert main(["run", str(path), "--out", str(tmp_path / "a")]) == 0, capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "b"), "--jobs", "2"]) == 0, capsys.readouterr().err
    idata = az.from_netcdf(tmp_path / "a" / "posterior.nc")
    assert {"posterior", "log_likelihood", "observed_data", "constant_data"} <= set(idata.groups())
    assert idata.posterior["c_input_multiplier"].dims == ("chain", "draw", "member")
    assert idata.log_likelihood["soc"].shape == (2, 40, 1, 8)
    assert idata.observed_data["soc"].attrs["units"] == "g C m-2"
    other = az.from_netcdf(tmp_path / "b" / "posterior.nc")
    for name in ("c_input_multiplier", "prediction"):
        np.testing.assert_array_equal(idata.posterior[name].values, other.posterior[name].values)


def test_failed_steady_states_get_zero_likelihood_and_are_counted():
    """Millennial has no stable steady state at beta < 1.25 here: proposals there are rejected
    and counted, the chain finishes, and no kept draw lies in the failing region."""
    member = build_member("millennial", {"beta_rescale": "reference"}, {}, {})
    n = 6
    c_input = np.linspace(120.0, 260.0, n)
    truth = member.adapter.steady_state(member.theta(n), member.forcing(n, {"c_input": c_input, "beta": np.full(n, 1.8)}))
    assert truth.ok.all()
    target = Target(member, ("beta",), {"c_input": c_input}, truth.get("soc"), "soc", "lognormal", 0.1)
    value, status = target.loglike(np.array([1.1]))
    assert value == -np.inf and (status == Status.SOLVER_FAILED).sum() >= 5
    prior = Prior("beta", "uniform", {"lower": 1.0, "upper": 2.5}, "calibrate.priors.beta")
    chain = run_chain(target, (prior,), "DEMetropolisZ", 150, 150, seed=3)
    assert chain.failed > 0 and chain.statuses.get("solver failed", 0) >= chain.failed
    assert chain.divergent is None  # a Metropolis sampler has no divergences to count
    assert chain.evaluations > chain.failed
    kept, _, _ = target.pointwise(chain.draws["beta"][:, None])
    assert np.isfinite(kept.sum(axis=1)).all()


def test_nuts_divergences_at_a_failing_region_are_told_apart_from_curvature_ones():
    """Millennial fails at beta < 1.32 for the first site: with the truth at 1.45, NUTS trajectories
    run into the failing region and diverge there (infinite energy error). Those are counted and
    explained, not warned of; divergences at a finite energy error are warned of, per chain."""
    member = build_member("millennial", {"beta_rescale": "reference"}, {}, {})
    n = 6
    c_input = np.linspace(120.0, 260.0, n)
    truth = member.adapter.steady_state(member.theta(n), member.forcing(n, {"c_input": c_input, "beta": np.full(n, 1.45)}))
    target = Target(member, ("beta",), {"c_input": c_input}, truth.get("soc"), "soc", "lognormal", 0.3)
    prior = Prior("beta", "uniform", {"lower": 1.0, "upper": 2.5}, "calibrate.priors.beta")
    chain = run_chain(target, (prior,), "NUTS", 100, 100, seed=3)
    assert 0 < chain.divergent == chain.divergent_at_failure <= 100 and chain.failed > 0
    sampling = pd.DataFrame({"member": ["m", "m", "other"], "chain": [0, 1, 0], "draws": [100, 100, 100],
                             "divergent": [chain.divergent, 0, 5], "divergent_at_failure": [chain.divergent, 0, 2]})
    (warning,) = _divergence_warnings(sampling)  # the wall divergences of member m are no warning
    assert warning.startswith("other: 3 divergent NUTS transitions after tuning (3 in chain 0) of 100 draws")
    assert "target_accept" in warning
    text = divergence_text(sampling)
    assert text.startswith(f"{chain.divergent + 5} of 300 NUTS transitions after tuning diverged.")
    assert f"{chain.divergent + 2} of them stopped at a proposal without a steady state" in text
    assert "3 diverged at a finite energy error" in text


def test_missing_pymc_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymc", None)
    with pytest.raises(HarnessError, match=r'pip install -e "\.\[calibration\]"'):
        require_pymc()


@pytest.mark.parametrize("priors, sampler, extra, message", [
    ("beta: {dist: normal, mu: 1.5, sigma: 0.5}\n", "{}", "",
     "calibrate.priors.beta: the support [-inf, inf] of normal(mu=1.5, sigma=0.5) leaves mimics's bounds [1, 10]"),
    ("c_input: {dist: uniform, lower: 100, upper: 200}\n", "{}", "",
     "'c_input' is read from the table; calibrate `c_input_multiplier` instead"),
    ("cue_scale: {dist: uniform, lower: 0.5, upper: 1.2}\n", "{name: nuts}", "",
     "calibrate.sampler.name: must be one of NUTS, DEMetropolisZ, SMC; got 'nuts'. Hint: did you mean 'NUTS'?"),
    ("cue_scale: {dist: uniform, lower: 0.5, upper: 1.2}\n", "{mass_matrix: dense}", "",
     "calibrate.sampler.mass_matrix: must be one of diagonal, full; got 'dense'"),
    ("cue_scale: {dist: uniform, lower: 0.5, upper: 1.2}\n", "{name: SMC, mass_matrix: full}", "",
     "calibrate.sampler.mass_matrix: is a setting of NUTS; SMC does not use it"),
    ("beta_enz: {dist: uniform, lower: 0.5, upper: 1.2}\n", "{}", "",
     "calibrate.priors.beta_enz: 'beta_enz' is not a driver of mimics"),
    ("clay_multiplier: {dist: lognormal, mu: 0, sigma: 2}\n", "{}", "",
     "times clay in the table reaches"),
])
def test_bad_priors_are_reported(tmp_path, capsys, priors, sampler, extra, message):
    path = _write_scenario(tmp_path, _synthetic_sites(4, 1).assign(soc=1000.0), priors, sampler, extra)
    assert main(["validate", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_bad_observation_table_names_file_line_and_column(tmp_path, capsys):
    data = _synthetic_sites(4, 1).assign(soc=1000.0).astype({"soc": object})
    data.loc[2, "soc"] = "n/a"
    path = _write_scenario(tmp_path, data, PRIORS, "{}")
    text = path.read_text().replace("units: g C m-2\n", "units: kg C m-2\n").replace("column: clay,", "column: klay,")
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "obs.csv:4: column 'soc': expected a finite number; got 'n/a'" in err
    assert "obs.csv: no column 'klay'. Hint: did you mean 'clay'?" in err
    assert "observations are in 'kg C m-2' but mimics reports soc in 'g C m-2'" in err


def test_a_table_driver_no_model_reads_is_reported(tmp_path, capsys):
    """Each model reads the drivers it has (MIMICS has no moisture), but a driver no model has is a mistake."""
    data = _synthetic_sites(4, 1).assign(soc=1000.0, moisture=0.3)
    path = _write_scenario(tmp_path, data, PRIORS, "{}")
    path.write_text(path.read_text().replace("      lignin_n: {column: lignin_n, units: \"1\"}\n",
                                             "      lignin_n: {column: lignin_n, units: \"1\"}\n"
                                             "      moisture: {column: moisture, units: m3 m-3}\n"))
    assert main(["validate", str(path)]) == 2
    assert "calibrate.observations.drivers.moisture: no model of the scenario represents driver 'moisture'" \
        in capsys.readouterr().err
    path.write_text(path.read_text().replace("    variants: {parameter_set: stode_rev_beta}\n",
                                             "    variants: {parameter_set: stode_rev_beta}\n"
                                             "  - model: clm5_firstorder\n"))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_member_samples_posterior_marginals_through_their_quantiles():
    member = build_member("mimics", {}, {}, {})
    draws = np.random.default_rng(0).lognormal(0.0, 0.2, 4000)
    twin = member.__class__(**{**member.__dict__, "posterior": {"cue_scale": draws}})
    driver = DriverRange("cue_scale", "range", 0.5, 1.3, "microbial", "drivers.cue_scale")
    unit = (np.arange(1000) + 0.5) / 1000
    mapped = twin.from_unit(driver, unit)
    np.testing.assert_allclose(np.quantile(mapped, [0.1, 0.5, 0.9]), np.quantile(draws, [0.1, 0.5, 0.9]), rtol=0.01)
    assert twin.label == "mimics | posterior"
    assert member.from_unit(driver, np.array([0.0, 1.0])).tolist() == [0.5, 1.3]
    assert split_calibrated({"beta": draws, "cue_scale": draws, "sigma": draws}, {"cue_scale"}) == (
        {"cue_scale": draws}, ["beta"], ["sigma"])


def test_each_replicate_of_a_posterior_informed_design_reads_its_own_block_of_draws():
    """Replicate r of the design maps through block r of the draws (chains in order), so the spread
    over replicates holds the posterior's Monte Carlo error; one replicate reads them all."""
    member = build_member("mimics", {}, {}, {})
    draws = np.arange(800.0) / 1000 + 0.5  # block r of 8 holds [0.5 + 0.1 r, 0.6 + 0.1 r)
    twin = member.__class__(**{**member.__dict__, "posterior": {"cue_scale": draws}})
    cue = DriverRange("cue_scale", "range", 0.5, 1.3, "microbial", "drivers.cue_scale")
    clay = DriverRange("clay", "range", 5.0, 40.0, "environment", "drivers.clay")
    design = unit_design((cue, clay), 256, seed=3, level="driver", replicates=8)
    values = member_values(twin, design)
    for r, rows in enumerate(np.array_split(values["cue_scale"], 8)):
        assert 0.5 + 0.1 * r - 1e-12 <= rows.min() and rows.max() <= 0.5999 + 0.1 * r, r
    np.testing.assert_array_equal(values["clay"], member_values(member, design)["clay"])  # a box driver as before
    single = member_values(twin, unit_design((cue, clay), 256, seed=3, level="driver"))["cue_scale"]
    assert single.min() < 0.55 and single.max() > 1.25


def test_posterior_informed_sobol_sits_beside_the_prior_box(lter_calibration, tmp_path, capsys):
    path = ROOT / "scenarios" / "beta_sweep_posterior.yaml"
    assert main(["run", str(path), "--out", str(tmp_path), "--set", f"drivers_from={lter_calibration}",
                 "--data-root", str(lter_calibration),
                 "--set", "sobol.n=64", "--set", "sobol.bootstrap=20"]) == 0, capsys.readouterr().err
    verdict = pd.read_csv(tmp_path / "verdict.csv")
    assert sorted(verdict["inputs"].unique()) == ["posterior", "prior box"]
    assert (verdict.groupby("inputs").size() == 4).all()  # 2 members x 2 outputs each
    posterior = load_posterior(lter_calibration)
    assert verdict.loc[verdict["inputs"] == "posterior", "conditioned_on"].str.contains("conditioned on").all()
    ranking = (tmp_path / "ranking.md").read_text()
    label = next(iter(posterior))
    lo, hi = posterior[label]["cue_scale"].min(), posterior[label]["cue_scale"].max()
    section = ranking.split(f"## {label} | posterior")[1]
    assert section.split("###")[0].count(f"{lo:.4g}") == 1 and f"{hi:.4g}" in section.split("###")[0]
    text = (tmp_path / "verdict.md").read_text()
    assert "Conditioned on data" in text and "prior box →" in text
    assert "Conditioned on data" in (tmp_path / "report.html").read_text()
    reconciliation = pd.read_csv(tmp_path / "reconciliation.csv")  # N = 64 fails the gates: nothing to compare
    assert list(reconciliation["output"]) == ["soc", "soc_total"]
    assert reconciliation["answer"].str.startswith("not estimable: 0 structure(s) estimable under both").all()
    assert (reconciliation["left_out"].str.count("mimics") == 2).all()
    assert "Reconciliation: did assimilation bring the structures together?" in (tmp_path / "report.html").read_text()


def test_drivers_from_must_hold_a_posterior_and_cover_the_calibrated_drivers(lter_calibration, tmp_path, capsys):
    path = ROOT / "scenarios" / "beta_sweep_posterior.yaml"
    assert main(["validate", str(path), "--set", f"drivers_from={tmp_path}", "--data-root", str(tmp_path)]) == 2
    assert "has no posterior.nc" in capsys.readouterr().err
    scenario = tmp_path / "no_beta.yaml"
    scenario.write_text(path.read_text().replace("  beta:               {range: [1.0, 3.0], group: microbial}", ""))
    assert main(["validate", str(scenario), "--set", f"drivers_from={lter_calibration}",
                 "--data-root", str(lter_calibration)]) == 2
    assert "'beta' was calibrated in" in capsys.readouterr().err


def test_smc_sampler_runs_and_lands_near_the_truth():
    """SMC (no tuning, no start point) on the same failing-region target as above."""
    member = build_member("millennial", {"beta_rescale": "reference"}, {}, {})
    n = 6
    c_input = np.linspace(120.0, 260.0, n)
    truth = member.adapter.steady_state(member.theta(n), member.forcing(n, {"c_input": c_input * 1.2}))
    target = Target(member, ("c_input_multiplier",), {"c_input": c_input}, truth.get("soc"), "soc", "lognormal", 0.02)
    prior = Prior("c_input_multiplier", "lognormal", {"mu": 0.0, "sigma": 0.5}, "calibrate.priors.c_input_multiplier")
    chain = run_chain(target, (prior,), "SMC", 200, 0, seed=5)
    draws = chain.draws["c_input_multiplier"]
    assert draws.shape == (200,) and np.isnan(chain.accepted)
    assert np.quantile(draws, 0.05) <= 1.2 <= np.quantile(draws, 0.95)
    assert np.quantile(draws, 0.95) - np.quantile(draws, 0.05) < 0.2


def test_full_mass_matrix_reaches_nuts_and_lands_near_the_truth():
    """``mass_matrix: full`` changes the chain (a dense adaptation, not the diagonal one) and still recovers the truth."""
    member = build_member("clm5_firstorder", {}, {}, {})
    n = 6
    c_input = np.linspace(120.0, 260.0, n)
    truth = member.adapter.steady_state(member.theta(n), member.forcing(n, {"c_input": c_input * 1.2}))
    observed = truth.get("soc") * np.exp(np.random.default_rng(1).normal(0.0, 0.05, n))
    target = Target(member, ("c_input_multiplier", "sigma"), {"c_input": c_input}, observed, "soc", "lognormal", None)
    priors = (Prior("c_input_multiplier", "lognormal", {"mu": 0.0, "sigma": 0.5}, "calibrate.priors.c_input_multiplier"),
              Prior("sigma", "halfnormal", {"sigma": 0.1}, "calibrate.observations.error.sigma"))
    chains = {m: run_chain(target, priors, "NUTS", 100, 100, seed=7, mass_matrix=m) for m in ("diagonal", "full")}
    assert not np.array_equal(chains["diagonal"].draws["c_input_multiplier"], chains["full"].draws["c_input_multiplier"])
    draws = chains["full"].draws["c_input_multiplier"]
    assert np.quantile(draws, 0.05) <= 1.2 <= np.quantile(draws, 0.95)
    assert np.quantile(draws, 0.95) - np.quantile(draws, 0.05) < 0.2


def test_every_prior_distribution_builds_in_scipy_and_pymc():
    """Each prior the schema allows (``vocabulary.PRIOR_PARAMETERS``) maps onto SciPy and PyMC."""
    pm = pytest.importorskip("pymc")
    values = {"lower": 0.1, "upper": 2.0, "mu": 0.5, "sigma": 0.3}
    with pm.Model() as model:
        for dist, keys in PRIOR_PARAMETERS.items():
            args = {key: values[key] for key in keys}
            assert np.isfinite(scipy_prior(dist, args).logpdf(0.5))
            pymc_prior(pm, Prior(f"x_{dist}", dist, args, f"calibrate.priors.x_{dist}"))
    assert [v.name for v in model.free_RVs] == [f"x_{dist}" for dist in PRIOR_PARAMETERS]


def _lter_targets(error_model: str = "lognormal") -> list[Target]:
    """The members of scenarios/calibrate_structures.yaml against the shipped LTER table."""
    from harness.api import load
    from harness.kinds.calibrate import target_for

    plan = load(ROOT / "scenarios" / "calibrate_structures.yaml", data_root=ROOT)
    c = plan.scenario.calibrate
    return [replace(target_for(m, c, plan.inputs["observations"]), error_model=error_model) for m in plan.members]


@pytest.mark.parametrize("error_model", ["lognormal", "normal"])
def test_likelihood_gradient_matches_central_differences(error_model):
    """The gradient NUTS uses (implicit function theorem) against central differences of the
    log-likelihood itself, for every structure of calibrate_structures.yaml at random draws inside
    the priors: relative 1e-5 of each component (floor: 1e-3 of the gradient's largest component)."""
    rng = np.random.default_rng(5)
    for target in _lter_targets(error_model):
        tested = 0
        while tested < 3:  # draws with a steady state at every site (Millennial has none at some)
            draw = np.array([{"beta": rng.uniform(1.2, 2.8), "cue_scale": rng.uniform(0.6, 1.2),
                              "c_input_multiplier": rng.uniform(1.0, 2.5),
                              "sigma": rng.uniform(0.3, 1.0) if error_model == "lognormal" else rng.uniform(2e3, 5e3)
                              }[name] for name in target.names])
            value, gradient, status = target.loglike_and_gradient(draw)
            if not (status == Status.OK).all():
                assert value == -np.inf and not gradient.any()
                continue
            tested += 1
            assert value == pytest.approx(target.loglike(draw)[0], rel=1e-12)
            reference = np.empty(draw.size)
            for j in range(draw.size):
                h = 1e-5 * draw[j]
                up, down = draw.copy(), draw.copy()
                up[j] += h
                down[j] -= h
                reference[j] = (target.loglike(up)[0] - target.loglike(down)[0]) / (2 * h)
            scale = np.maximum(np.abs(reference), 1e-3 * np.abs(reference).max())
            assert (np.abs(gradient - reference) / scale).max() < 1e-5, (target.member.label, gradient, reference)


def test_each_structure_calibrates_the_quantities_it_has():
    """beta where the model has it (not CLM5), the table's drivers each model reads, sigma for all."""
    targets = {t.member.model: t for t in _lter_targets()}
    assert targets["clm5_firstorder"].names == ("cue_scale", "c_input_multiplier", "sigma")
    for model in ("mimics", "millennial", "tao_enzyme"):
        assert targets[model].names == ("beta", "cue_scale", "c_input_multiplier", "sigma")
    assert "ph" in targets["millennial"].table and "ph" not in targets["mimics"].table
    assert "moisture" in targets["clm5_firstorder"].table and "moisture" not in targets["mimics"].table


def test_loo_of_a_member_does_not_depend_on_what_other_members_calibrate():
    """PSIS-LOO's relative efficiency comes from the member's own quantities: a member without beta
    gets the same LOO beside a member with beta (whose draws leave NaN in its beta column) as alone."""
    az = pytest.importorskip("arviz")
    from types import SimpleNamespace

    from harness.kinds.calibrate import _comparison

    rng = np.random.default_rng(5)
    chains, draws, sites = 2, 400, 8
    x = rng.normal(size=(chains, draws, 2))  # r_eff near 1: PSIS's tail holds 3 sqrt(S / r_eff) < S / 5 draws
    beta = np.stack([rng.normal(size=(chains, draws)), np.full((chains, draws), np.nan)], axis=-1)
    loglik = rng.normal(-1.0, 0.3, size=(chains, draws, 2, sites)) + x[..., None]

    def target(label, names):
        return SimpleNamespace(member=SimpleNamespace(label=label, model=label), names=names)

    both = az.from_dict(posterior={"x": x, "beta": beta}, log_likelihood={"soc": loglik},
                        dims={"x": ["member"], "beta": ["member"], "soc": ["member", "site"]},
                        coords={"member": ["with_beta", "without"]})
    alone = az.from_dict(posterior={"x": x[..., 1:]}, log_likelihood={"soc": loglik[:, :, 1:]},
                         dims={"x": ["member"], "soc": ["member", "site"]}, coords={"member": ["without"]})
    together = _comparison(az, both, [target("with_beta", ("x", "beta")), target("without", ("x",))], "soc")
    single = _comparison(az, alone, [target("without", ("x",))], "soc")
    row = together.set_index("member").loc["without"]
    assert np.isfinite(together["elpd_loo"]).all()
    assert row["elpd_loo"] == single["elpd_loo"].iloc[0] and row["p_loo"] == single["p_loo"].iloc[0]

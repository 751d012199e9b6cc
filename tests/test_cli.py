"""The command line end to end: ``run`` (sobol and points), ``validate``, ``models``, ``describe``.

Runs in-process through ``harness.cli.main`` (fast, capsys), except one subprocess test that
proves the real exit code and that a bad scenario prints no traceback. Sobol runs use
n = 8 base samples (``--set sobol.n=8``) in 4 replicates, with the half-width gate relaxed:
enough to exercise every file, far too few for meaningful indices, so no index value is asserted
here (see ``test_replicated.py`` and ``test_analysis.py`` for accuracy).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from harness.adapter import Status
from harness.cli import main
from harness.errors import ScenarioError

REPO = Path(__file__).resolve().parents[1]

SOBOL = textwrap.dedent("""\
    schema_version: 1
    name: tiny
    description: a tiny Sobol run for the CLI tests
    kind: sobol
    seed: 42
    models:
      - model: clm5_firstorder
    baseline:
      c_input: 500.0
    drivers:
      c_input: {relative: [0.5, 1.5], group: input}
      temperature: {range: [5.0, 25.0], group: environment}
      moisture: {range: [0.2, 0.4], group: environment}
    sobol:
      n: 1024
      replicates: 4
      gates: {halfwidth: 5.0}
    outputs: [soc, pool.s3]
    """)

POINTS = textwrap.dedent("""\
    schema_version: 1
    name: pts
    kind: points
    seed: 1
    models:
      - model: clm5_firstorder
        variants: {normalize_q10: [true, false]}
    cases:
      - {case_id: a, c_input: 400.0, temperature: 10.0}
      - {case_id: bad, c_input: -1.0, temperature: 10.0}
      - {case_id: c, c_input: 600.0, temperature: 15.0}
    outputs: [soc]
    """)

INDEX_COLUMNS = {"model", "output", "driver", "S1", "S1_conf", "ST", "ST_conf", "rank"}


def _write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _run_sobol(capsys, scenario: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return _run(capsys, "run", scenario, "--out", out, "--set", "sobol.n=8", *extra)


@pytest.fixture
def sobol_run(tmp_path, capsys):
    """One tiny Sobol run: (scenario path, output directory, exit code, stdout, stderr)."""
    scenario = _write(tmp_path, SOBOL)
    out = tmp_path / "out"
    code, stdout, stderr = _run_sobol(capsys, scenario, out)
    return scenario, out, code, stdout, stderr


# -- run, kind sobol ---------------------------------------------------------------------------------
def test_run_sobol_succeeds_and_lists_files(sobol_run):
    _, out, code, stdout, stderr = sobol_run
    assert code == 0, stderr
    assert "error" not in stderr
    lines = stdout.splitlines()
    assert len(lines) <= 25, stdout  # the short summary: what ran, the answer, the tally, where the report is
    assert lines[0].startswith("tiny (sobol, seed 42): ")
    assert any(line.startswith("Of ") and "model structure" in line for line in lines)  # the verdict sentence
    assert any(line.startswith("Tally of the ") for line in lines)
    assert f"report: {out / 'report.html'}" in lines
    assert re.fullmatch(rf"wrote 17 files to {re.escape(str(out))}/ in \d+\.\d s \(wall time of the command\); "
                        r"--verbose for the full tables", lines[-1])
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "indices.csv", "convergence.csv", "verdict.csv", "votes.csv", "beta_effects.csv", "verdict.md", "attribution.csv",
        "dgsm.csv", "provenance.json", "ranking.md", "results.nc", "summary.json", "report.html", "figures", "scenario.yaml", "chunks",
        "manifest.json"])


def test_indices_csv(sobol_run):
    out = sobol_run[1]
    indices = pd.read_csv(out / "indices.csv")
    assert INDEX_COLUMNS <= set(indices.columns)
    drivers = indices[indices["level"] == "driver"]
    groups = indices[indices["level"] == "group"]
    # one row per member x output x factor
    assert sorted(drivers["output"].unique()) == ["pool.s3", "soc"]
    for _, table in drivers.groupby("output"):
        assert list(table["driver"]) == ["c_input", "temperature", "moisture"]
        assert sorted(table["rank"]) == [1, 2, 3]
    for _, table in groups.groupby("output"):
        assert list(table["driver"]) == ["input", "environment"]  # first appearance, as SALib
        assert sorted(table["rank"]) == [1, 2]
    assert (indices["model"] == "clm5_firstorder").all()
    assert (indices["n_base"] == 8).all()
    assert np.isfinite(indices[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    assert set(indices.loc[indices["output"] == "soc", "units"]) == {"g C m-2"}


def test_ranking_md(sobol_run):
    text = (sobol_run[1] / "ranking.md").read_text(encoding="utf-8")
    assert text.startswith("# Sobol ranking: tiny\n")
    assert "Indices of ln of the output. N = 8 base samples (4 independent scrambles of 2" in text
    assert "seed 42" in text
    for heading in ("## clm5_firstorder", "### ln(soc), soc in [g C m-2], by driver",
                    "### ln(pool.s3), pool.s3 in [g C m-2], by group"):
        assert heading in text
    # relative range made absolute around the baseline 500
    assert re.search(r"\| c_input +\| +250 +\| +750 +\| g C m-2 yr-1 +\|", text)


def test_results_nc(sobol_run):
    scenario, out = sobol_run[0], sobol_run[1]
    indices = pd.read_csv(out / "indices.csv")
    with netCDF4.Dataset(out / "results.nc") as ds:
        assert ds.Conventions == "CF-1.10"
        assert ds.scenario_sha256 == hashlib.sha256(scenario.read_bytes()).hexdigest()
        assert int(ds.seed) == 42 and int(ds.sobol_n) == 8
        assert ds.confidence == pytest.approx(0.95)
        assert set(ds.groups) == {"driver", "group"}
        grp = ds["driver"]
        assert set(grp.variables) >= {"member", "output", "factor", "driver", "unit_sample",
                                      "S1", "S1_conf", "ST", "ST_conf", "status", "y_0", "y_1"}
        assert list(grp["factor"][:]) == ["c_input", "temperature", "moisture"]
        assert list(grp["output"][:]) == ["soc", "pool.s3"]
        assert grp["unit_sample"].shape == (8 * (3 + 2), 3)  # N (k + 2) rows, first order only
        unit = grp["unit_sample"][:]
        assert ((unit >= 0) & (unit <= 1)).all()
        assert grp["S1"].shape == (1, 2, 3)
        assert grp["S1"].units == "1" and grp["ST"].long_name == "total Sobol index"
        expected = indices[(indices["level"] == "driver") & (indices["output"] == "soc")]["S1"].to_numpy()
        # the CSV's decimal text round-trips exactly with current pandas; older ones lose the last bit
        np.testing.assert_allclose(np.asarray(grp["S1"][0, 0, :]), expected, rtol=1e-15, atol=1e-16)
        assert (grp["status"][:] == Status.OK).all()
        assert "out_of_domain" in grp["status"].flag_meanings
        assert grp["y_1"].output_name == "pool.s3"
        assert np.isfinite(grp["y_0"][:]).all()
        assert list(ds["group"]["factor"][:]) == ["input", "environment"]
        assert ds["group"]["unit_sample"].shape == (8 * (2 + 2), 3)


def test_summary_json(sobol_run):
    summary = json.loads((sobol_run[1] / "summary.json").read_text())
    assert summary["scenario"] == "tiny" and summary["kind"] == "sobol" and summary["seed"] == 42
    assert summary["problems"] == [] and summary["warnings"] == []
    assert [(m["member"], m["design"], m["rows"], m["status"]) for m in summary["members"]] == [
        ("clm5_firstorder", "driver", 40, {"ok": 40}), ("clm5_firstorder", "group", 32, {"ok": 32})]
    assert summary["files"] == ["indices.csv", "convergence.csv", "verdict.csv", "votes.csv", "beta_effects.csv", "verdict.md", "attribution.csv", "dgsm.csv", "ranking.md", "results.nc", "report.html", "figures/", "scenario.yaml", "chunks/", "summary.json", "provenance.json"]


def test_provenance_json(sobol_run):
    scenario, out = sobol_run[0], sobol_run[1]
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["scenario"]["sha256"] == hashlib.sha256(scenario.read_bytes()).hexdigest()
    assert prov["scenario"]["seed"] == 42
    assert prov["scenario"]["overrides"] == ["sobol.n=8"]
    [adapter] = prov["adapters"]
    assert adapter["name"] == "clm5_firstorder"
    assert adapter["target"] == "models.clm5_firstorder:Clm5FirstOrderAdapter"  # module:Class
    assert adapter["source"] == "builtin" and adapter["distribution"] == "soilbench"
    assert "version" in adapter
    assert adapter["options"] == {"normalize_q10": True, "use_century_tfunc": False}
    assert "doi:" in adapter["reference"]
    assert {"numpy", "SALib", "netCDF4"} <= set(prov["dependencies"])
    assert prov["command"][:4] == ["python", "-m", "harness", "run"]


def test_verbose_lists_every_file_and_the_rows_per_member(tmp_path, capsys):
    scenario = _write(tmp_path, SOBOL)
    code, stdout, _ = _run_sobol(capsys, scenario, tmp_path / "out", "--verbose")
    assert code == 0
    assert ("wrote indices.csv, convergence.csv, verdict.csv, votes.csv, beta_effects.csv, verdict.md, attribution.csv, "
            "dgsm.csv, ranking.md, results.nc, report.html, figures/, scenario.yaml, chunks/, summary.json, provenance.json, "
            "manifest.json to") in stdout
    assert "seconds [s]" in stdout and "### The answer by structure" in stdout


def test_same_seed_is_byte_identical_and_another_seed_differs(sobol_run, tmp_path, capsys):
    scenario, first = sobol_run[0], sobol_run[1]
    again, other = tmp_path / "again", tmp_path / "other"
    assert _run_sobol(capsys, scenario, again)[0] == 0
    assert _run_sobol(capsys, scenario, other, "--set", "seed=7")[0] == 0
    assert (again / "indices.csv").read_bytes() == (first / "indices.csv").read_bytes()
    assert (other / "indices.csv").read_bytes() != (first / "indices.csv").read_bytes()


def test_jobs_2_gives_the_serial_indices(sobol_run, tmp_path, capsys):
    parallel = tmp_path / "parallel"
    code, _, stderr = _run_sobol(capsys, sobol_run[0], parallel, "--jobs", "2")
    assert code == 0, stderr
    assert (parallel / "indices.csv").read_bytes() == (sobol_run[1] / "indices.csv").read_bytes()


def test_default_output_directory_is_results_name(tmp_path, capsys, monkeypatch):
    scenario = _write(tmp_path, SOBOL)
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = _run(capsys, "run", scenario, "--set", "sobol.n=8")
    assert code == 0
    assert (tmp_path / "results" / "tiny" / "indices.csv").is_file()
    assert f"to {Path('results') / 'tiny'}/" in stdout


def test_jobs_must_be_positive(tmp_path, capsys):
    code, _, stderr = _run(capsys, "run", _write(tmp_path, SOBOL), "--jobs", "0", "--out", tmp_path / "o")
    assert (code, stderr) == (2, "error: --jobs must be between 1 and 1024; got 0\n")
    code, _, stderr = _run(capsys, "run", _write(tmp_path, SOBOL), "--jobs", "100000", "--out", tmp_path / "o")
    assert (code, stderr) == (2, "error: --jobs must be between 1 and 1024; got 100000\n")
    assert not (tmp_path / "o").exists()


# -- failed rows under on_failure (a patched model marks rows NOT_CONVERGED) -----------------------------
FAILING = textwrap.dedent("""\
    schema_version: 1
    name: failing
    kind: sobol
    seed: 3
    models: [clm5_firstorder]
    drivers:
      c_input: {relative: [0.5, 1.5]}
      temperature: {range: [5.0, 25.0]}
    sobol: {n: 16, replicates: 4}
    on_failure: {policy}
    """)


@pytest.fixture
def hottest_row_fails(monkeypatch):
    """Make the CLM5 adapter report its hottest row of every batch as NOT_CONVERGED."""
    from models.clm5_firstorder import Clm5FirstOrderAdapter

    original = Clm5FirstOrderAdapter._steady_state

    def failing(self, theta, forcing, **prepared):
        parts = original(self, theta, forcing, **prepared)
        status = np.array(parts.status, dtype=np.int8)
        status[np.argmax(forcing[:, self.driver_names.index("temperature")])] = Status.NOT_CONVERGED
        messages = np.where(status == Status.OK, "", "patched: did not converge")
        return dataclasses.replace(parts, status=status, message=messages)

    monkeypatch.setattr(Clm5FirstOrderAdapter, "_steady_state", failing)


def test_failed_rows_under_on_failure_error_exit_1(tmp_path, capsys, hottest_row_fails):
    scenario = _write(tmp_path, FAILING.replace("{policy}", "error"))
    out = tmp_path / "out"
    code, _, stderr = _run(capsys, "run", scenario, "--out", out)
    assert code == 1
    assert ("error: clm5_firstorder, output soc, drivers: 1 rows failed (in 1 of 16 Saltelli blocks); "
            "Sobol indices need every row.") in stderr
    assert "Traceback" not in stderr
    failures = pd.read_csv(out / "failures.csv").query("design == 'driver'")
    assert list(failures[["member", "design", "status", "message"]].itertuples(index=False, name=None)) == [
        ("clm5_firstorder", "driver", "not converged", "patched: did not converge")]
    indices = pd.read_csv(out / "indices.csv")
    assert indices["S1"].isna().all() and indices["note"].str.startswith("failed:").all()
    verdict = pd.read_csv(out / "verdict.csv")
    assert list(verdict["answer"]) == ["failed"]  # shown as failed, with the reason, never counted
    assert verdict["reason"].iloc[0].startswith("1 rows failed (in 1 of 16 Saltelli blocks)")


def test_failed_rows_under_on_failure_drop_blocks(tmp_path, capsys, hottest_row_fails):
    scenario = _write(tmp_path, FAILING.replace("{policy}", "drop_blocks"))
    out = tmp_path / "out"
    code, _, stderr = _run(capsys, "run", scenario, "--out", out)
    assert code == 0, stderr
    indices = pd.read_csv(out / "indices.csv")
    assert (indices["n_base"] == 15).all()
    assert (indices["note"] == "1 of 16 blocks dropped").all()
    assert np.isfinite(indices["ST"]).all()
    assert (out / "failures.csv").is_file()


# -- run, kind points ---------------------------------------------------------------------------------
def test_run_points_keeps_the_bad_case(tmp_path, capsys):
    scenario = _write(tmp_path, POINTS)
    out = tmp_path / "out"
    code, stdout, stderr = _run(capsys, "run", scenario, "--out", out)
    assert code == 0, stderr
    assert "wrote 9 files to" in stdout
    assert "case_id" in stdout and "soc [g C m-2]" in stdout  # the values table
    assert "warning: clm5_firstorder[normalize_q10=True]: 1 of 3 cases failed (see points.csv)" in stderr
    table = pd.read_csv(out / "points.csv", keep_default_na=False, na_values=[""])
    assert len(table) == 3 * 2  # case x member
    assert list(table["case_id"]) == ["a", "bad", "c"] * 2
    assert list(table["normalize_q10"]) == [True] * 3 + [False] * 3
    pools = [c for c in table.columns if c.startswith("pool.")]
    assert pools == [f"pool.{p}" for p in ("cwd", "l1", "l2", "l3", "s1", "s2", "s3")]
    assert list(table.columns[-2:]) == ["status", "message"]
    bad = table[table["case_id"] == "bad"]
    good = table[table["case_id"] != "bad"]
    assert (bad["status"] == "out of domain").all()
    assert (bad["message"] == "driver c_input=-1.0 [g C m-2 yr-1] outside (0, inf)").all()
    assert bad[pools + ["soc"]].isna().all().all()
    assert (good["status"] == "ok").all() and good["message"].isna().all()
    assert np.isfinite(good[pools + ["soc"]].to_numpy()).all()
    summary = json.loads((out / "summary.json").read_text())
    assert [m["status"] for m in summary["members"]] == [{"ok": 2, "out of domain": 1}] * 2
    assert summary["problems"] == []


# -- validate, models, describe ------------------------------------------------------------------------
def test_validate_ok(tmp_path, capsys):
    scenario = _write(tmp_path, SOBOL)
    code, stdout, stderr = _run(capsys, "validate", scenario)
    assert (code, stderr) == (0, "")
    assert stdout == f"{scenario}: valid sobol scenario 'tiny' (1 model x variant members)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml"]  # nothing run or written


def test_validate_points(tmp_path, capsys):
    scenario = _write(tmp_path, POINTS)
    assert _run(capsys, "validate", scenario) == (
        0, f"{scenario}: valid points scenario 'pts' (2 model x variant members)\n", "")


def test_validate_bad_scenario_exit_2(tmp_path, capsys):
    scenario = _write(tmp_path, SOBOL.replace("seed: 42", "seed: 0"))
    code, stdout, stderr = _run(capsys, "validate", scenario)
    assert (code, stdout) == (2, "")
    assert stderr.endswith(f"1 error in {scenario}; nothing was run.\n")


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_reraises_harness_errors(tmp_path, where):
    """--debug is a global option: accepted before or after the command."""
    scenario = _write(tmp_path, SOBOL.replace("seed: 42", "seed: 0"))
    argv = ["--debug", "validate", str(scenario)] if where == "before" else ["validate", str(scenario), "--debug"]
    with pytest.raises(ScenarioError):
        main(argv)


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert (info.value.code, capsys.readouterr().out) == (0, f"soilbench {version('soilbench')}\n")


def test_every_argument_of_every_command_has_help():
    from harness.cli import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}"
               for name, sub in {"(main)": parser, **commands.choices}.items()
               for action in sub._actions if not action.help]
    assert not missing, missing
    assert "``" not in parser.format_help()  # plain text, not reStructuredText


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_models_lists_clm5(capsys):
    code, stdout, _ = _run(capsys, "models")
    assert code == 0
    row = next(line for line in stdout.splitlines() if line.startswith("clm5_firstorder "))
    assert "builtin" in row and "soilbench" in row and "CLM5 CENTURY-based" in row
    assert _run(capsys, "list-models")[1] == stdout


def test_describe_prints_parameters_with_units(capsys):
    code, stdout, _ = _run(capsys, "describe", "clm5_firstorder")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].startswith("clm5_firstorder: CLM5 CENTURY-based")
    header = next(line for line in lines if line.startswith("parameter "))
    assert header.split() == ["parameter", "units", "default", "bounds", "description"]
    tau_s2 = next(line for line in lines if line.startswith("tau_s2 "))
    assert tau_s2.split()[:4] == ["tau_s2", "yr", "5", "(1,"]
    assert next(line for line in lines if line.startswith("psi_min ")).split()[1] == "MPa"
    c_input = next(line for line in lines if line.startswith("c_input "))
    assert "g C m-2 yr-1" in c_input and "(0, inf)" in c_input
    assert "not represented" in next(line for line in lines if line.startswith("beta "))
    assert any(line.startswith("s3 ") and "som" in line for line in lines)


@pytest.mark.parametrize("name, hint", [("clm5", "known: awb, clm5_firstorder"),
                                        ("clm5_firstordr", "did you mean 'clm5_firstorder'?"),
                                        ("MIMICS", "did you mean 'mimics'?")])
def test_describe_unknown_model_exit_2(capsys, name, hint):
    code, stdout, stderr = _run(capsys, "describe", name)
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"error: unknown model {name!r}")
    assert hint.lower() in stderr.lower()


# -- the one subprocess test ---------------------------------------------------------------------------
def test_python_m_harness_bad_scenario_exit_2_without_traceback(tmp_path):
    scenario = _write(tmp_path, SOBOL.replace("clm5_firstorder", "clm5_firstordr"))
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(scenario), "--out", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr == (
        f"{scenario}:7:12: models[0].model: unknown model 'clm5_firstordr'. "
        "Hint: did you mean 'clm5_firstorder'?\n"
        f"1 error in {scenario}; nothing was run.\n")
    assert not (tmp_path / "out").exists()


def test_a_label_tells_two_entries_of_one_model_apart(tmp_path, capsys):
    """The same model twice with different parameters: `label:` names the second entry's members,
    so every result is keyed by a distinct label (without it validation stops with exit 2)."""
    text = SOBOL.replace("  - model: clm5_firstorder\n", "  - model: clm5_firstorder\n  - model: clm5_firstorder\n"
                         "    label: clm5_slow\n    parameters: {tau_s2: 20.0}\n")
    out = tmp_path / "out"
    code, _, stderr = _run_sobol(capsys, _write(tmp_path, text), out)
    assert code == 0, stderr
    verdict = pd.read_csv(out / "verdict.csv")
    assert list(verdict["member"].unique()) == ["clm5_firstorder", "clm5_slow"]
    assert set(verdict["model"]) == {"clm5_firstorder"}


# -- what each command imports (issue 18: --help must not wait for the engine) -----------------------
_IMPORTED = """
import contextlib, io, sys
from harness.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(" ".join(sorted(m for m in sys.modules if m.partition(".")[0] in {"numpy", "pandas", "scipy", "matplotlib",
                                                                        "SALib", "tabulate"} or m == "scipy.stats")))
"""


def _imported(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _IMPORTED, *args], capture_output=True, text=True, check=True,
                          cwd=REPO)
    return set(done.stdout.split())


def test_help_loads_none_of_the_engine():
    assert _imported("--help") == set()
    assert _imported("run", "--help") == set()


def test_validate_loads_neither_scipy_stats_nor_salib_nor_matplotlib():
    loaded = _imported("validate", "scenarios/beta_sweep.yaml")
    assert "numpy" in loaded  # it does check the scenario
    assert not {"scipy.stats", "SALib", "matplotlib"} & loaded


def test_a_long_points_table_is_summarised_in_the_report(tmp_path):
    """300 cases: report.html shows the first and last 10, the failed ones and column statistics."""
    import harness

    cases = [{"case_id": f"c{i}", "c_input": 100.0 + i} for i in range(300)]
    cases[150] = {"case_id": "bad", "c_input": -1.0}
    result = harness.run({"schema_version": 1, "name": "long", "kind": "points", "seed": 1,
                          "models": [{"model": "clm5_firstorder"}], "cases": cases, "outputs": ["soc"]},
                         tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text()
    assert "300 rows, 1 not ok; every row is in" in page and 'href="points.csv"' in page
    shown = set(re.findall(r"<td>(c\d+|bad) *</td>", page))
    assert shown == {f"c{i}" for i in [*range(10), *range(290, 300)]} | {"bad"}
    assert re.search(r"<th[^>]*> *median</th>", page) and re.search(r"<td>soc *</td>", page)  # column statistics
    assert len(result.table("points.csv")) == 300  # the CSV keeps every row


def test_report_of_an_unfinished_run_says_how_to_finish_it(tmp_path, capsys):
    (tmp_path / "out" / "chunks" / "member").mkdir(parents=True)  # what an interrupted run leaves
    code, stdout, stderr = _run(capsys, "report", str(tmp_path / "out"))
    assert (code, stdout) == (2, "")
    assert "its run did not finish" in stderr and "--resume" in stderr


def test_a_run_says_what_it_is_doing_on_stderr(sobol_run):
    """One line per phase, each with the seconds since the command started (flushed: piped output shows it)."""
    stderr = sobol_run[4]
    progress = [line for line in stderr.splitlines() if re.match(r"\[ *\d+\.\d s\] ", line)]
    assert [re.sub(r"\[ *\d+\.\d s\] ", "", line) for line in progress] == [
        "running 1 model x variant members (sobol)", "solved and analysed clm5_firstorder (1 of 1)",
        "writing the tables, verdict and results.nc", "drawing the figures and writing report.html"]

"""compare: nothing moves between identical runs; a planted drift is reported with exit code 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _suite(tmp_path: Path, q10: float | None = None) -> Path:
    """A two-run suite (a CLM5 Sobol run and the CLM5 reference points) in a temporary copy of
    the scenarios, optionally with a planted change of a model parameter (CLM5's Q10)."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir(parents=True)
    for name in ("clm5_reference.yaml", "clm5_reference_cases.csv"):
        (scenarios / name).write_text((ROOT / "scenarios" / name).read_text())
    sweep = yaml.safe_load((ROOT / "scenarios" / "beta_sweep.yaml").read_text())
    sweep["models"] = [{"model": "clm5_firstorder"}]
    sweep["drivers"] = {k: v for k, v in sweep["drivers"].items() if k not in ("mic_turnover_scale", "lignin_n")}
    sweep["sobol"].update(n=256, bootstrap=200)
    reference = yaml.safe_load((scenarios / "clm5_reference.yaml").read_text())
    if q10 is not None:
        sweep["models"][0]["parameters"] = {"q10": q10}
        reference["models"][0]["parameters"] = {"q10": q10}
    (scenarios / "beta_sweep.yaml").write_text(yaml.safe_dump(sweep))
    (scenarios / "clm5_reference.yaml").write_text(yaml.safe_dump(reference))
    suite = tmp_path / "suite.yaml"
    suite.write_text("runs:\n  - scenario: scenarios/beta_sweep.yaml\n  - scenario: scenarios/clm5_reference.yaml\n")
    return suite


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("base")
    assert main(["suite", str(_suite(root)), "--out", str(root / "baseline"), "--prune"]) == 0
    assert not (root / "baseline" / "beta_sweep" / "results.nc").exists()  # pruned to small tables
    return root / "baseline"


def test_identical_runs_move_nothing(baseline, tmp_path, capsys):
    assert main(["suite", str(_suite(tmp_path)), "--out", str(tmp_path / "new")]) == 0
    assert main(["compare", str(baseline), str(tmp_path / "new")]) == 0
    report = (tmp_path / "new" / "comparison.md").read_text()
    assert "**Nothing moved.**" in report and "Compared runs: beta_sweep, clm5_reference." in report


def test_planted_drift_is_reported_with_exit_3(baseline, tmp_path, capsys):
    assert main(["suite", str(_suite(tmp_path, q10=2.5)), "--out", str(tmp_path / "new")]) == 0
    capsys.readouterr()
    assert main(["compare", str(baseline), str(tmp_path / "new")]) == 3
    moved = json.loads((tmp_path / "new" / "comparison.json").read_text())["moved"]
    drifted = {(m["case_id"], m["column"]) for m in moved["values drifted"]}
    assert ("example", "soc") in drifted and ("example", "pool.s3") in drifted
    assert any(m["driver"] == "temperature" and m["index"] == "ST" for m in moved["indices moved"])
    report = (tmp_path / "new" / "comparison.md").read_text()
    assert "## values drifted" in report and "Exit code 3: something moved." in report
    assert "something moved" in capsys.readouterr().out


def test_the_stored_baseline_matches_the_suite_it_was_made_from():
    suite = yaml.safe_load((ROOT / "baselines" / "suite.yaml").read_text())
    stored = {p.parent.name for p in (ROOT / "baselines").glob("*/summary.json")}
    assert stored == {Path(r["scenario"]).stem for r in suite["runs"]}


@pytest.mark.parametrize("name, jobs", [("tests.yml", {"tests"}), ("nightly.yml", {"compare"})])
def test_workflows_are_valid_yaml_with_the_expected_jobs(name, jobs):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    assert set(workflow["jobs"]) == jobs
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    if name == "nightly.yml":
        assert "schedule" in triggers and "workflow_dispatch" in triggers
        assert any("harness compare baselines" in s for s in steps)
        uploads = [s for job in workflow["jobs"].values() for s in job["steps"]
                   if s.get("uses", "").startswith("actions/upload-artifact")]
        paths = uploads[0]["with"]["path"]
        assert "comparison.md" in paths and "report.html" in paths and uploads[0].get("if") == "always()"
    else:
        assert "push" in triggers
        readme = (ROOT / "README.md").read_text()
        command = next(s for s in steps if "pytest" in s)
        assert command.strip() in readme  # the README test command, verbatim

"""The Python API (``harness.api``) and the kind registry: a toy kind added in one module runs end
to end through the API and the CLI, is validated, reported and compared; the README's example runs."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from toy_kind import TOY

import harness
from harness import kinds as kind_registry
from harness.cli import main
from harness.errors import HarnessError, RegistryError, ScenarioError
from harness.store import sha256_of

REPO = Path(__file__).resolve().parents[1]

TOY_SCENARIO = {
    "schema_version": 1, "name": "toy_run", "kind": "toy", "seed": 3,
    "models": [{"model": "clm5_firstorder"}], "baseline": {"c_input": 400.0}, "toy": {"repeat": 2},
}


@pytest.fixture
def toy_kind():
    kind_registry.register(TOY)
    yield TOY
    kind_registry.unregister(TOY.name)


def test_a_toy_kind_runs_through_the_api_without_files(toy_kind):
    plan = harness.from_dict(TOY_SCENARIO)
    assert [m.label for m in plan.members] == ["clm5_firstorder"]
    result = harness.run(plan)
    assert result.ok and result.directory is None
    table = result.table("toy")
    assert list(table.columns) == ["member", "row", "soc"] and len(table) == 2
    assert table["soc"].iloc[0] == table["soc"].iloc[1] > 0
    assert set(result.manifest["files"]) >= {"toy.csv", "summary.json", "scenario.yaml", "provenance.json"}
    assert result.manifest["kind"] == "toy" and result.manifest["seed"] == 3


def test_a_toy_kind_runs_through_the_cli(toy_kind, tmp_path, capsys):
    path = tmp_path / "toy.yaml"
    path.write_text(json.dumps(TOY_SCENARIO))  # JSON is YAML
    assert main(["validate", str(path)]) == 0
    assert "valid toy scenario 'toy_run'" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert sha256_of(out / name) == digest, name
    assert "Toy: SOC at the baseline" in (out / "report.html").read_text()
    assert main(["compare", str(out), str(out)]) == 0
    assert "nothing moved" in capsys.readouterr().out


def test_the_toy_kind_checks_its_section(toy_kind):
    with pytest.raises(ScenarioError) as err:
        harness.from_dict({**TOY_SCENARIO, "toy": {"repeat": 1000}})
    assert "toy.repeat: at most 100 rows; got 1000" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        harness.from_dict({k: v for k, v in TOY_SCENARIO.items() if k != "toy"})
    assert "a toy scenario needs a `toy` section" in str(err.value)


def test_a_section_of_another_kind_is_named():
    with pytest.raises(ScenarioError) as err:
        harness.from_dict({**TOY_SCENARIO, "kind": "points", "cases": [{"c_input": 300.0}]})
    assert "toy: unknown key 'toy'" in str(err.value)  # toy is not registered here


def test_runs_that_answer_different_questions_are_not_compared(tmp_path, capsys):
    path = REPO / "scenarios" / "clm5_reference.yaml"
    a, b = tmp_path / "a", tmp_path / "b"
    harness.run(path, a)
    harness.run(harness.load(path), b)
    manifest = json.loads((b / "manifest.json").read_text())
    (b / "manifest.json").write_text(json.dumps({**manifest, "kind": "sweep"}))
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert "not comparable: " in err and "kind 'points' -> 'sweep'" in err
    assert "## not comparable" in (b / "comparison.md").read_text()


def test_read_result_gives_the_tables_a_run_wrote(tmp_path):
    out = tmp_path / "run"
    result = harness.run(REPO / "scenarios" / "clm5_reference.yaml", out)
    again = harness.read_result(out)
    pd.testing.assert_frame_equal(again.table("points"), pd.read_csv(out / "points.csv"))
    assert again.manifest == result.manifest


def test_the_readme_example_runs(tmp_path, monkeypatch):
    """The Python block of the README's "Python API" section, run as written (from the repository root)."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    exec(compile(textwrap.dedent(code), "README.md", "exec"), namespace)  # noqa: S102
    assert isinstance(namespace["verdict"], pd.DataFrame) and len(namespace["verdict"])


class _EntryPoint:
    """What the kind registry reads of an entry point."""

    def __init__(self, name: str, value: object, group: str = kind_registry.ENTRY_POINT_GROUP):
        self.name, self.value, self.group = name, f"fake:{name}", group
        self._object = value

    def load(self) -> object:
        if isinstance(self._object, Exception):
            raise self._object
        return self._object


@pytest.fixture
def offer_kinds(monkeypatch):
    """``offer_kinds(ep, ...)``: make these the installed entry points of every group."""

    def install(*entry_points: _EntryPoint) -> None:
        monkeypatch.setattr(importlib.metadata, "entry_points",
                            lambda *, group=None, **_: [e for e in entry_points if group in (None, e.group)])
        kind_registry.installed.cache_clear()

    yield install
    kind_registry.installed.cache_clear()


def test_a_kind_from_an_installed_package_is_a_kind(offer_kinds):
    offer_kinds(_EntryPoint("toy", TOY))
    assert kind_registry.kinds()["toy"] is TOY
    plan = harness.from_dict(TOY_SCENARIO)
    assert harness.run(plan).table("toy")["soc"].gt(0).all()


@pytest.mark.parametrize(("offered", "message"), [
    (ImportError("no module named soilbench_toy"), "kind 'toy' (fake:toy) cannot be loaded: no module named"),
    ("not a kind", "entry point 'toy' (fake:toy) is not a soilbench Kind"),
])
def test_a_broken_kind_plugin_names_itself(offer_kinds, offered, message):
    offer_kinds(_EntryPoint("toy", offered))
    with pytest.raises(RegistryError, match=re.escape(message)):
        kind_registry.kinds()


def test_a_plugin_cannot_replace_a_built_in_kind(offer_kinds):
    offer_kinds(_EntryPoint("sobol", dataclasses.replace(TOY, name="sobol")))
    with pytest.raises(RegistryError, match="offers kind 'sobol', a built-in kind"):
        kind_registry.kinds()


def test_a_stored_baseline_reads_back_without_its_pruned_files():
    result = harness.read_result(REPO / "baselines" / "beta_sweep")
    assert result.manifest["kind"] == "sobol" and result.manifest["n"] == 512
    assert {"verdict.csv", "indices.csv"} <= set(result.tables) and "attribution.csv" not in result.tables


def test_overrides_belong_to_load_not_to_a_checked_plan():
    scenario = {k: v for k, v in TOY_SCENARIO.items() if k != "toy"}
    plan = harness.from_dict({**scenario, "kind": "points", "cases": [{"c_input": 300.0}]})
    with pytest.raises(HarnessError, match="pass the overrides to harness.load"):
        harness.run(plan, overrides=["seed=2"])

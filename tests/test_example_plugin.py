"""The worked example of ``docs/adapters.md`` installs and runs as a real third-party plug-in.

``examples/soilbench-example`` is installed for real, with pip, into a temporary folder (never
into the venv)::

    python -m pip install --no-deps --no-build-isolation --no-index --target TMP examples/soilbench-example

which works offline with nothing but pip: the package builds with its own standard-library
backend (``_build/backend.py``), since the venv's setuptools (65.5 in a Python 3.11 venv) cannot
build a wheel without the ``wheel`` package, which the venv does not hold. Then, in subprocesses
with ``PYTHONPATH=TMP`` (the entry point is found through the installed ``*.dist-info``), the
registry lists the model, the public contract suite passes on it, and its scenario runs.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "soilbench-example"
#: each step takes 1-3 s; a hung pip or run must not hang the suite
TIMEOUT = 120


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The folder the example is installed into, and an environment that sees it."""
    target = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    result = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                   "--target", str(target), str(EXAMPLE)], env)
    assert result.returncode == 0, result.stdout + result.stderr
    paths = [str(target), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return target, {**env, "PYTHONPATH": os.pathsep.join(paths)}


def test_pip_installs_the_package_with_its_entry_point(installed):
    target, _ = installed
    (dist_info,) = target.glob("soilbench_example-*.dist-info")
    entry_points = (dist_info / "entry_points.txt").read_text()
    assert "[soilbench.models]\ntwopool = soilbench_example:TwoPoolAdapter" in entry_points
    assert (target / "soilbench_example" / "adapter.py").is_file()
    # nothing was written into the example's own folder
    assert not [p for p in EXAMPLE.rglob("*") if p.suffix in {".whl", ".egg-info"} or p.name == "build"]


def test_models_lists_the_plugin(installed):
    _, env = installed
    result = _run([sys.executable, "-m", "harness", "models"], env)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("twopool "))
    assert "entry point" in row and "soilbench-example 0.1.0" in row


def test_contract_suite_passes_on_the_plugin(installed):
    _, env = installed
    code = ("from harness.registry import get_adapter\n"
            "from harness.testing import check_adapter\n"
            "adapter = get_adapter('twopool')\n"
            "check_adapter(adapter)\n"
            "print(type(adapter).__module__)\n")
    result = _run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "soilbench_example.adapter"


def test_scenario_runs_the_plugin(installed):
    target, env = installed
    out = target.parent / "out"
    result = _run([sys.executable, "-m", "harness", "run", str(EXAMPLE / "scenario.yaml"), "--out", str(out)], env)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out / "points.csv", newline="") as file:
        rows = {row["case_id"]: row for row in csv.DictReader(file)}
    # the closed form (docs/adapters.md, "The worked example")
    assert {case: float(row["soc"]) for case, row in rows.items()} == {"defaults": 1800.0, "warm": 900.0,
                                                                       "efficient": 3600.0}
    assert {row["status"] for row in rows.values()} == {"ok"}
    assert float(rows["defaults"]["cue_bulk"]) == pytest.approx(0.3 / 1.3, rel=1e-12)

"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def lter_calibration(tmp_path_factory):
    """A short calibrate_lter run (the shipped scenario, few draws of the cheapest sampler) for posterior-informed runs."""
    out = tmp_path_factory.mktemp("calibrate_lter")
    code = main(["run", str(ROOT / "scenarios" / "calibrate_lter.yaml"), "--out", str(out), "--data-root", str(ROOT),
                 "--set", "calibrate.sampler={name: DEMetropolisZ, draws: 60, tune: 60, chains: 4}"])
    assert code == 0
    return out

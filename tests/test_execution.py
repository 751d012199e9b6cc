"""Executors give the serial results; an interrupted run resumes to byte-identical tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--set", "sobol.n=64", "--set", "sobol.bootstrap=50", "--set", "executor.chunk_rows=128"]


def _indices(out: Path) -> bytes:
    return (out / "indices.csv").read_bytes()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--out", str(out)]) == 0
    return out


def test_process_pool_matches_serial(serial, tmp_path):
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--jobs", "2", "--out", str(tmp_path)]) == 0
    assert _indices(tmp_path) == _indices(serial)


def test_dask_local_cluster_matches_serial(serial, tmp_path):
    pytest.importorskip("dask.distributed", reason="the dask extra is not installed")
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--dask", "--jobs", "2", "--out", str(tmp_path)]) == 0
    assert _indices(tmp_path) == _indices(serial)


def test_resume_reuses_chunks_and_matches_serial(serial, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--out", str(out)]) == 0
    chunks = sorted((out / "chunks").rglob("*.npz"))
    before = {p: p.stat().st_mtime_ns for p in chunks}
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--resume", "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in chunks} == before, "a stored chunk was solved again"
    assert _indices(out) == _indices(serial)


def test_killed_run_resumes_to_identical_tables(serial, tmp_path):
    """SIGKILL a run once some chunks are on disk, resume it, and compare with the serial run."""
    out = tmp_path / "killed"
    slow = [*QUICK, "--set", "executor.chunk_rows=8"]  # many small chunks: the run takes a while
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", "scenarios/beta_sweep.yaml", *slow,
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "chunks").rglob("*.npz"))) < 20:
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be killed; make it slower")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "indices.csv").exists(), "killed before the analysis: no tables yet"
    kept = {p: p.stat().st_mtime_ns for p in (out / "chunks").rglob("*.npz")}
    assert main(["run", "scenarios/beta_sweep.yaml", *slow, "--resume", "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in kept} == kept, "chunks written before the kill were solved again"
    assert _indices(out) == _indices(serial)

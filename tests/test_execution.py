"""Executors give the serial results; an interrupted run resumes to byte-identical tables.

A killed run leaves no worker processes behind, and a damaged or rewritten chunk is solved again
(the command line prints each :class:`~harness.errors.ChunkWarning` as one ``warning: ...`` line).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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


def test_resume_reuses_chunks_and_matches_serial(serial, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--out", str(out)]) == 0
    chunks = sorted((out / "chunks").rglob("*.npz"))
    before = {p: p.stat().st_mtime_ns for p in chunks}
    capsys.readouterr()
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--resume", "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in chunks} == before, "a stored chunk was solved again"
    assert _indices(out) == _indices(serial)
    assert f"resumed: {len(chunks)} of {len(chunks)} chunks reused from {out / 'chunks'}, 0 solved" in capsys.readouterr().out


SLOW = [*QUICK, "--set", "executor.chunk_rows=32"]  # many small chunks: a run lasts long enough to kill it


def _run_and_kill(out: Path, args: list[str], chunks: int = 20) -> list[int]:
    """Start ``harness run`` with ``args``, SIGKILL it once ``chunks`` chunks are on disk; its children's pids."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", "scenarios/beta_sweep.yaml", *args,
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list((out / "chunks").rglob("*.npz"))) < chunks:
            if proc.poll() is not None:
                pytest.fail("the run finished before it could be killed; make it slower")
            time.sleep(0.05)
        children = _children(proc.pid)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return children


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state, ppid, ...); None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    """Pids of the processes whose parent is ``pid`` (Linux: /proc)."""
    if not Path("/proc/self/stat").exists():
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (a zombie waiting to be reaped has)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_killed_run_resumes_to_identical_tables(serial, tmp_path, jobs):
    """SIGKILL a run once some chunks are on disk, resume it, and compare with the serial run."""
    out = tmp_path / "killed"
    args = [*SLOW, "--jobs", jobs]
    _run_and_kill(out, args)
    assert not (out / "indices.csv").exists(), "killed before the analysis: no tables yet"
    kept = {p: p.stat().st_mtime_ns for p in (out / "chunks").rglob("[0-9]*.npz")}  # stored, not half written
    assert main(["run", "scenarios/beta_sweep.yaml", *args, "--resume", "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in kept} == kept, "chunks written before the kill were solved again"
    assert not list(out.rglob(".tmp-*")), "a temporary file the kill left was not removed"
    assert _indices(out) == _indices(serial)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers through /proc")
def test_killed_parallel_run_leaves_no_workers(tmp_path):
    """SIGKILL a ``--jobs 2`` run: its worker processes exit too instead of living on as orphans."""
    workers = _run_and_kill(tmp_path / "killed", [*SLOW, "--jobs", "2"])
    assert len(workers) >= 2, f"expected the run's 2 worker processes, found {workers}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.05)
    alive = [pid for pid in workers if _running(pid)]
    for pid in alive:  # do not leave them behind for the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"worker processes {alive} outlived the killed run"


def _resumable_copy(serial: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    """A copy of the serial run (every chunk stored) to resume, and its chunk files."""
    out = tmp_path / "copy"
    shutil.copytree(serial, out)
    chunks = sorted((out / "chunks").rglob("[0-9]*.npz"))
    assert len(chunks) >= 3
    return out, chunks


def _contents(path: Path) -> dict[str, tuple[str, tuple[int, ...], bytes]]:
    """Every array of a chunk file as (dtype, shape, bytes): equal only if bit-identical (NaN included)."""
    with np.load(path, allow_pickle=False) as data:
        return {name: (data[name].dtype.str, data[name].shape, data[name].tobytes()) for name in data.files}


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _chunk_warnings(stderr: str) -> list[str]:
    """The ChunkWarnings a run printed: one ``warning: ...`` line each (not Python's warning format)."""
    assert "ChunkWarning" not in stderr
    return sorted(line.removeprefix("warning: ") for line in stderr.splitlines()
                  if line.startswith("warning: stored chunk"))


def test_forged_chunk_is_solved_again(serial, tmp_path, capsys):
    """A chunk rewritten with its right input digest (and old checksum) but other values is not used."""
    out, chunks = _resumable_copy(serial, tmp_path)
    forged = chunks[len(chunks) // 2]
    original = _contents(forged)
    arrays = _arrays(forged)
    np.savez(forged, **{**arrays, "outputs": np.full_like(arrays["outputs"], 42.0)})
    capsys.readouterr()
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--resume", "--out", str(out)]) == 0
    [text] = _chunk_warnings(capsys.readouterr().err)
    assert re.match(re.escape(f"stored chunk {forged}") + ".*do not match their checksum", text)
    assert _contents(forged) == original, "the chunk was not solved again"
    assert _indices(out) == _indices(serial)


def test_damaged_chunks_are_solved_again(serial, tmp_path, capsys):
    """A truncated, a bit-flipped and a checksum-less (older) chunk: each is solved again with a warning."""
    out, chunks = _resumable_copy(serial, tmp_path)
    truncated, flipped, unchecked = chunks[0], chunks[len(chunks) // 2], chunks[-1]
    originals = {path: _contents(path) for path in (truncated, flipped, unchecked)}
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    raw = bytearray(flipped.read_bytes())
    at = bytes(raw).index(_arrays(flipped)["outputs"].tobytes(order="A")) + 5  # a byte inside the stored outputs
    raw[at] ^= 0x10
    flipped.write_bytes(bytes(raw))
    np.savez(unchecked, **{k: v for k, v in _arrays(unchecked).items() if k != "checksum"})
    capsys.readouterr()
    assert main(["run", "scenarios/beta_sweep.yaml", *QUICK, "--resume", "--out", str(out)]) == 0
    texts = _chunk_warnings(capsys.readouterr().err)
    assert len(texts) == 3, texts
    assert texts[-1] == "stored chunks without a checksum (written by an older soilbench) are solved again"
    for path in (truncated, flipped):
        assert any(str(path) in text and "cannot be read" in text for text in texts), (path, texts)
    for path in (truncated, flipped, unchecked):
        assert _contents(path) == originals[path], f"{path} was not solved again"
    assert _indices(out) == _indices(serial)

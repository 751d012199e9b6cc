"""The output directory a run owns: its lock, the files it removes and refuses, modes, and one-line errors.

A run locks its ``--out`` for its whole length (a second run is refused with exit 2 naming the
holder), removes only files an earlier run there wrote (its manifest, or the journal of a run that
was killed), refuses to overwrite anything else, writes with the user's umask, and turns a full
disk, a denied permission, an unreachable scheduler or Ctrl-C into one line and an exit code.
Runs are in-process through ``harness.cli.main`` and tiny (a points run of 3 cases, a Sobol run
of N = 8), except the concurrency test, whose first run is a subprocess paused while it holds the
lock.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from harness.cli import main
from harness.lock import LOCK, DirectoryLock
from harness.store import JOURNAL, MANIFEST, sha256_of

REPO = Path(__file__).resolve().parents[1]

SOBOL = textwrap.dedent("""\
    schema_version: 1
    name: tiny
    kind: sobol
    seed: 42
    models: [clm5_firstorder]
    baseline: {c_input: 500.0}
    drivers:
      c_input: {relative: [0.5, 1.5], group: input}
      temperature: {range: [5.0, 25.0], group: environment}
    sobol: {n: 8, replicates: 4, gates: {halfwidth: 5.0}}
    outputs: [soc]
    """)

POINTS = textwrap.dedent("""\
    schema_version: 1
    name: pts
    kind: points
    seed: 1
    models: [clm5_firstorder]
    cases:
      - {case_id: a, c_input: 400.0, temperature: 10.0}
      - {case_id: bad, c_input: -1.0, temperature: 10.0}
    outputs: [soc]
    """)

SOBOL_FILES = {"indices.csv", "verdict.csv", "verdict.md", "votes.csv", "results.nc", "ranking.md", "convergence.csv",
               "attribution.csv", "beta_effects.csv"}


@pytest.fixture
def scenarios(tmp_path) -> dict[str, Path]:
    """The two scenario files, outside every output directory."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    paths = {"sobol": folder / "sobol.yaml", "points": folder / "points.yaml"}
    paths["sobol"].write_text(SOBOL, encoding="utf-8")
    paths["points"].write_text(POINTS, encoding="utf-8")
    return paths


PROGRESS = re.compile(r"\[ *\d+\.\d s\] .*\n")  # a run's progress lines on stderr


def _run(capsys, scenario: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a run, its progress lines left out of stderr."""
    code = main(["run", str(scenario), "--out", str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out, PROGRESS.sub("", captured.err)


def _top_level(out: Path) -> set[str]:
    return {p.name for p in out.iterdir()}


def _assert_consistent(out: Path, seed: int) -> dict:
    """Every file the manifest lists has its sha256; no lock, journal or temporary is left; one seed throughout."""
    manifest = json.loads((out / MANIFEST).read_text())
    for name, digest in manifest["files"].items():
        assert sha256_of(out / name) == digest, name
    hidden = [p.name for p in out.rglob(".*")]
    assert not hidden, f"left behind: {hidden}"
    summary = json.loads((out / "summary.json").read_text())
    provenance = json.loads((out / "provenance.json").read_text())
    assert manifest["seed"] == summary["seed"] == provenance["scenario"]["seed"] == seed
    return manifest


# -- the lock -------------------------------------------------------------------------------------------
PAUSED_RUN = """
import sys, time
from pathlib import Path
import harness.api as api
from harness.cli import main
render, gate = api.render_report, Path(sys.argv[1])
def paused(out_dir, files=None, drawing=None):  # the lock is held: say so, wait for the gate, go on
    (gate.parent / "waiting").touch()
    deadline = time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return render(out_dir, files, drawing)
api.render_report = paused
sys.exit(main(sys.argv[2:]))
"""


def test_a_second_run_into_a_busy_directory_is_refused_and_the_first_completes(scenarios, tmp_path):
    out, gate = tmp_path / "out", tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", PAUSED_RUN, str(gate), "run", str(scenarios["sobol"]),
                              "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "waiting").exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first run ended before it was paused"
            time.sleep(0.02)
        second = subprocess.run([sys.executable, "-m", "harness", "run", str(scenarios["sobol"]), "--out", str(out),
                                 "--set", "seed=7"], cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        gate.touch()
        _, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_err
    assert (second.returncode, second.stdout) == (2, "")
    assert len(second.stderr.splitlines()) == 1 and "Traceback" not in second.stderr
    assert second.stderr.startswith(f"error: {out} is in use by another soilbench run (pid {first.pid} on ")
    assert "since " in second.stderr and f"harness run {scenarios['sobol']}" in second.stderr
    _assert_consistent(out, seed=42)
    with netCDF4.Dataset(out / "results.nc") as ds:
        assert int(ds.seed) == 42


def test_a_held_lock_names_its_holder_and_a_stale_lock_file_does_not_block(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    with DirectoryLock(out, ["my", "long", "job"]):
        code, _, err = _run(capsys, scenarios["points"], out)
        assert code == 2
        assert f"(pid {os.getpid()} on " in err and ": my long job); wait for it to finish or choose another --out" in err
        assert _top_level(out) == {LOCK}  # nothing of the refused run
    assert not (out / LOCK).exists()  # removed on release
    (out / LOCK).write_text('{"pid": 999999999, "host": "gone", "command": "killed", "since": "yesterday"}')
    assert _run(capsys, scenarios["points"], out)[0] == 0  # a lock file nobody holds (a killed run's)
    _assert_consistent(out, seed=1)


# -- files the run owns, removes and refuses --------------------------------------------------------------
def test_user_files_survive_a_run_and_a_resume(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "chunks" / "mine").mkdir(parents=True)
    mine = {out / "notes.txt": "my notes", out / "chunks" / "important.txt": "keep me",
            out / "chunks" / "mine" / "000000.npz": "not a chunk of the harness"}
    for path, text in mine.items():
        path.write_text(text)
    assert _run(capsys, scenarios["points"], out)[0] == 0
    [folder] = [p for p in (out / "chunks").iterdir() if p.is_dir() and p.name != "mine"]
    (folder / "notes.txt").write_text("mine too")
    mine[folder / "notes.txt"] = "mine too"
    leftovers = [out / ".tmp-abcd1234-points.csv", out / ".results.nc.tmp", out / ".summary.json.k2x_9abc",
                 folder / ".tmp-abcd1234-000000.npz", folder / ".tmp-abcd1234.npz"]
    for path in leftovers:  # what killed runs leave: the harness's own temporary names
        path.write_text("half written")
    assert _run(capsys, scenarios["points"], out, "--resume")[0] == 0
    assert not any(p.exists() for p in leftovers)
    assert _run(capsys, scenarios["points"], out)[0] == 0  # without --resume: the stored chunks go, not the rest
    assert {path: path.read_text() for path in mine} == mine
    manifest = json.loads((out / MANIFEST).read_text())
    assert "notes.txt" not in manifest["files"]


def test_files_of_an_earlier_run_are_removed_and_the_report_shows_this_run(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(capsys, scenarios["points"], out)[0] == 0
    assert {"points.csv", "failures.csv"} <= _top_level(out)
    assert _run(capsys, scenarios["sobol"], out)[0] == 0
    assert SOBOL_FILES <= _top_level(out) and not {"points.csv", "failures.csv"} & _top_level(out)
    sobol_figures = {p.name for p in (out / "figures").iterdir()}
    assert sobol_figures
    (out / "notes.txt").write_text("mine")
    assert _run(capsys, scenarios["points"], out)[0] == 0
    manifest = _assert_consistent(out, seed=1)
    listed = {name.split("/")[0] for name in manifest["files"]}
    assert _top_level(out) == listed | {MANIFEST, "chunks", "figures", "notes.txt"}
    assert not SOBOL_FILES & _top_level(out)
    assert {f"figures/{p.name}" for p in (out / "figures").iterdir()} <= set(manifest["files"])
    report = (out / "report.html").read_text()
    assert "Verdict" not in report and "Steady states at the listed cases" in report


def test_a_file_edited_since_its_run_is_left_in_place_with_a_warning(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(capsys, scenarios["sobol"], out)[0] == 0
    with open(out / "verdict.md", "a") as fh:
        fh.write("my own conclusion\n")
    code, _, err = _run(capsys, scenarios["points"], out)
    assert code == 0
    assert (out / "verdict.md").read_text().endswith("my own conclusion\n")
    assert f"warning: {out / 'verdict.md'} was changed since the run that wrote it" in err
    assert "HarnessWarning" not in err  # one line, not Python's warning format
    assert not (out / "indices.csv").exists()


def test_the_report_reads_only_the_files_the_manifest_lists(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(capsys, scenarios["points"], out)[0] == 0
    assert "Steady states at the listed cases" in (out / "report.html").read_text()
    manifest = json.loads((out / MANIFEST).read_text())
    del manifest["files"]["points.csv"]  # as if this run had not written it
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert main(["report", str(out)]) == 0
    assert "Steady states at the listed cases" not in (out / "report.html").read_text()
    _assert_consistent(out, seed=1)


@pytest.mark.parametrize("name, text", [("scenario.yaml", "my own scenario\n"), (MANIFEST, '{"name": "mine"}\n')])
def test_a_file_of_the_users_in_the_way_is_refused_before_anything_runs(scenarios, tmp_path, capsys, name, text):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text(text)
    code, stdout, err = _run(capsys, scenarios["points"], out)
    assert (code, stdout) == (2, "")
    assert err.startswith(f"error: {out / name} is not from a soilbench run here") and len(err.splitlines()) == 1
    assert "Choose another --out or move them away" in err
    assert _top_level(out) == {name} and (out / name).read_text() == text  # no chunks: no model ran


def test_a_file_no_manifest_lists_is_refused_even_after_another_run(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(capsys, scenarios["points"], out)[0] == 0
    before = (out / MANIFEST).read_bytes()
    (out / "indices.csv").write_text("my indices\n")  # a name a sobol run writes; the points run did not
    code, _, err = _run(capsys, scenarios["sobol"], out)
    assert code == 2 and f"{out / 'indices.csv'} is not from a soilbench run here" in err
    assert (out / "indices.csv").read_text() == "my indices\n"
    assert (out / MANIFEST).read_bytes() == before and (out / "points.csv").exists()  # the earlier run is intact


def test_a_file_in_the_way_found_while_writing_is_refused_and_resume_continues(scenarios, tmp_path, capsys):
    """results.nc is not among the names checked before the run: it is refused when the run gets to it."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.nc").write_text("my results\n")
    code, _, err = _run(capsys, scenarios["sobol"], out)
    assert code == 2 and f"{out / 'results.nc'} is not from a soilbench run here" in err
    assert (out / "results.nc").read_text() == "my results\n"
    (out / "results.nc").rename(tmp_path / "results.nc")
    assert _run(capsys, scenarios["sobol"], out, "--resume")[0] == 0
    _assert_consistent(out, seed=42)


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_files_get_the_mode_of_the_users_umask(scenarios, tmp_path, capsys, mask):
    out = tmp_path / "out"
    previous = os.umask(mask)
    try:
        assert _run(capsys, scenarios["sobol"], out)[0] == 0
    finally:
        os.umask(previous)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"results.nc", "indices.csv", "report.html", MANIFEST} <= {p.name for p in files}
    assert any(p.suffix == ".npz" for p in files) and any(p.suffix == ".png" for p in files)
    assert {p.relative_to(out).as_posix(): oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
        p.relative_to(out).as_posix(): oct(0o666 & ~mask) for p in files}


# -- one line and an exit code ------------------------------------------------------------------------------
def test_out_naming_a_file_exit_2(scenarios, tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("a file\n")
    assert _run(capsys, scenarios["points"], out) == (
        2, "", f"error: cannot use {out} as the output directory: it is a file; choose another --out\n")
    assert out.read_text() == "a file\n"


def test_a_read_only_directory_exit_2(scenarios, tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories: permissions mean nothing here")
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert _run(capsys, scenarios["points"], out) == (2, "", f"error: cannot write to {out}: permission denied\n")
    finally:
        out.chmod(0o755)


def test_a_denied_lock_file_exit_2(scenarios, tmp_path, capsys, monkeypatch):
    """What a read-only directory does, simulated (the tests may run as root)."""
    out = tmp_path / "out"
    out.mkdir()
    real = os.open

    def denied(path, flags, mode=0o777, *, dir_fd=None):
        if str(path).endswith(LOCK):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", denied)
    assert _run(capsys, scenarios["points"], out) == (2, "", f"error: cannot write to {out}: permission denied\n")


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("scenario, target, written", [
    ("points", "harness.store.write_csv", "points.csv"),  # a table
    ("points", "numpy.savez", "chunks/"),  # a chunk
    ("sobol", "harness.netcdf.netCDF4.Dataset", "results.nc"),  # a netCDF file
])
def test_a_full_disk_is_one_line_naming_the_file(scenarios, tmp_path, capsys, monkeypatch, scenario, target, written):
    out = tmp_path / "out"
    monkeypatch.setattr(target, _disk_full)
    code, _, err = _run(capsys, scenarios[scenario], out)
    assert code == 1 and "Traceback" not in err
    assert err.startswith(f"error: disk full while writing {out / written}")
    assert err.endswith("; free space and rerun with --resume\n") and len(err.splitlines()) == 1
    assert not [p for p in out.rglob(".tmp-*")], "a temporary file was left behind"
    assert not (out / LOCK).exists()


def test_ctrl_c_exit_130_keeps_the_chunks_and_resume_finishes(scenarios, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    import harness.runner

    solve = harness.runner.solve_chunk
    calls = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return solve(*args)

    monkeypatch.setattr(harness.runner, "solve_chunk", interrupted)
    assert _run(capsys, scenarios["sobol"], out, "--set", "executor.chunk_rows=16") == (
        130, "", f"interrupted; finished chunks are kept in {out / 'chunks'}: rerun with --resume to continue\n")
    assert not (out / LOCK).exists() and (out / JOURNAL).exists()
    assert len(list((out / "chunks").rglob("*.npz"))) == 1
    monkeypatch.setattr(harness.runner, "solve_chunk", solve)
    assert _run(capsys, scenarios["sobol"], out, "--set", "executor.chunk_rows=16", "--resume")[0] == 0
    _assert_consistent(out, seed=42)


def test_an_unreachable_dask_scheduler_exit_2_in_a_few_seconds(scenarios, tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed", reason="the dask extra is not installed")
    monkeypatch.setattr("harness.executors.DASK_CONNECT_SECONDS", 1.0)
    out = tmp_path / "out"
    start = time.monotonic()
    code, stdout, err = _run(capsys, scenarios["points"], out, "--dask", "tcp://127.0.0.1:1")
    assert time.monotonic() - start < 10
    assert (code, stdout) == (2, "")
    assert err.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 1 s")
    assert len(err.splitlines()) == 1
    assert not out.exists() or _top_level(out) == set()  # nothing written


def test_a_chunk_warning_is_one_line(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(capsys, scenarios["points"], out)[0] == 0
    chunk = next((out / "chunks").rglob("000000.npz"))
    with np.load(chunk) as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(chunk, **{**arrays, "outputs": arrays["outputs"] + 1.0})
    code, _, err = _run(capsys, scenarios["points"], out, "--resume")
    assert code == 0
    assert f"warning: stored chunk {chunk} is not used: its contents do not match their checksum" in err
    assert "ChunkWarning" not in err and "warnings.warn" not in err


def test_compare_does_not_write_into_a_directory_a_run_holds(tmp_path, capsys):
    out = tmp_path / "held"
    with DirectoryLock(out, ["a", "run"]):
        code = main(["compare", str(REPO / "baselines"), str(REPO / "baselines"), "--out", str(out)])
    stderr = capsys.readouterr().err
    assert code == 2 and "is in use by another soilbench run" in stderr and "a run" in stderr
    assert not (out / "comparison.md").exists()

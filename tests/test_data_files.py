"""Data files a scenario names: never a crash, never a leak, never outside the data root (issue 17).

Every fault is caught by ``validate`` (the plan reads each input once) and ends in exit 2 with one
line naming the scenario key's position, the data file and, for a CSV, the line and column.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import netCDF4
import numpy as np
import pytest

import harness
from harness.cli import main
from harness.csv_table import MAX_CSV_BYTES
from harness.errors import HarnessError
from harness.suite import read_suite

ROOT = Path(__file__).resolve().parents[1]
CASES_HEADER = "case_id,parameter_set,c_input,temperature,clay,lignin_n,cue_scale,beta"
CASES_ROW = "M1,gmd2015_fwd,100,0,5,5,1,1"
OBS_HEADER = "site,soc,c_input,temperature,clay,lignin_n"
OBS_ROWS = "A,4900.0,70.5,-7.0,5,12.1\nB,6500.0,150.0,-5.0,5,26.7\n"
REGRESSION = """\
    schema_version: 1
    name: t
    seed: 7
    kind: regression
    regression: {data: DATA, response: soc, predictors: [npp], group: source}
    """
PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def _points(tmp_path: Path, cases: str = "cases.csv", csv: str | bytes | None = None) -> Path:
    """mimics_reference in ``tmp_path`` with ``cases`` (and, given, the bytes of cases.csv)."""
    text = (ROOT / "scenarios" / "mimics_reference.yaml").read_text()
    path = tmp_path / "s.yaml"
    path.write_text(re.sub(r"^cases: .*$", f"cases: {cases}", text, flags=re.M))
    if csv is not None:
        (tmp_path / "cases.csv").write_bytes(csv.encode() if isinstance(csv, str) else csv)
    return path


def _calibrate(tmp_path: Path, csv: str) -> Path:
    """calibrate_lter in ``tmp_path`` reading obs.csv (``csv``)."""
    text = (ROOT / "scenarios" / "calibrate_lter.yaml").read_text()
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("file: ../data/lter_sites.csv", "file: obs.csv"))
    (tmp_path / "obs.csv").write_text(csv)
    return path


def _regression(tmp_path: Path, data: str = "obs.csv", csv: str | None = None) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(REGRESSION).replace("DATA", data))
    if csv is not None:
        (tmp_path / "obs.csv").write_text(csv)
    return path


def _grid(tmp_path: Path, forcing: str = "forcing.nc", layer: str = "soc.nc") -> Path:
    """global_grid in ``tmp_path`` with copies of its netCDF files (the real forcing) next to it."""
    shutil.copy(ROOT / "data" / "global_forcing" / "forcing_2deg.nc", tmp_path / "forcing.nc")
    shutil.copy(ROOT / "data" / "soc_stock_global_coarse" / "soc_stock_sanderman2017_2deg.nc", tmp_path / "soc.nc")
    text = (ROOT / "scenarios" / "global_grid.yaml").read_text()
    text = re.sub(r"^  forcing: .*$", f"  forcing: {forcing}", text, flags=re.M)
    path = tmp_path / "s.yaml"
    path.write_text(re.sub(r"^      file: .*$", f"      file: {layer}", text, flags=re.M))
    return path


def _rejected(argv: list[str], capsys, *needles: str) -> str:
    """Run ``main(argv)``; exit 2, every needle in stderr, no traceback; stderr."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def _located(err: str, scenario: Path, key: str) -> None:
    """The first line starts ``SCENARIO:LINE:COL: KEY:``."""
    assert re.match(rf"{re.escape(str(scenario))}:\d+:\d+: {re.escape(key)}: ", err), err


# --- paths: inside the data root -------------------------------------------------------------------

@pytest.mark.parametrize("value", ["/etc/passwd", "../../../../../../etc/passwd", "link.csv"])
def test_paths_that_leave_the_scenarios_folder_are_refused_at_the_key(tmp_path, capsys, value):
    (tmp_path / "link.csv").symlink_to("/etc/passwd")
    path = _points(tmp_path, value)
    err = _rejected(["validate", str(path)], capsys, "outside the data root", "--data-root DIR", "data_root=DIR")
    _located(err, path, "cases")
    assert "root:x" not in err


def test_data_root_widens_the_folder_files_may_lie_in(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "cases.csv").write_text(f"{CASES_HEADER}\n{CASES_ROW}\n")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    path = _points(scenarios, "../data/cases.csv")
    _rejected(["validate", str(path)], capsys, "outside the data root")
    assert main(["validate", str(path), "--data-root", str(tmp_path)]) == 0
    assert len(harness.load(path, data_root=tmp_path).inputs["cases"]) == 1
    with pytest.raises(HarnessError, match="outside the data root"):
        harness.load(path)
    _rejected(["validate", str(path), "--data-root", str(tmp_path / "nowhere")], capsys, "is not a directory")


def test_shipped_scenarios_reading_data_need_the_repository_as_data_root(capsys):
    path = ROOT / "scenarios" / "global_grid.yaml"
    _rejected(["validate", str(path)], capsys, "grid.forcing: '../data/global_forcing/forcing_2deg.nc' resolves to")
    assert main(["validate", str(path), "--data-root", str(ROOT)]) == 0


def test_suite_entries_give_a_data_root_relative_to_the_suite_file():
    runs = {Path(r["scenario"]).stem: r for r in read_suite(ROOT / "baselines" / "suite.yaml")}
    assert Path(runs["global_grid"]["data_root"]).resolve() == ROOT
    assert runs["beta_sweep"]["data_root"] is None


# --- files that are not data tables ----------------------------------------------------------------

def test_a_system_file_is_read_without_quoting_it(tmp_path, capsys):
    """With the data root widened to /, /etc/passwd is refused and no byte of it is printed."""
    err = _rejected(["validate", str(_points(tmp_path, "/etc/passwd")), "--data-root", "/"], capsys, "/etc/passwd")
    assert "root:x" not in err and "daemon" not in err and "/bin/" not in err


def test_hints_never_list_the_columns_of_a_file_that_is_not_a_table(tmp_path, capsys):
    path = _calibrate(tmp_path, PASSWD.replace(":", ";") + "x\n")
    err = _rejected(["validate", str(path)], capsys, "obs.csv: no column 'site'", "the file has 1 column")
    assert "root;x" not in err and "daemon" not in err


@pytest.mark.parametrize("kind", ["device", "directory", "fifo"])
def test_non_regular_files_are_refused_unread(tmp_path, capsys, kind):
    value = {"device": "/dev/zero", "directory": "sub", "fifo": "pipe.csv"}[kind]
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "pipe.csv")
    args = ["--data-root", "/"] if kind == "device" else []
    err = _rejected(["validate", str(_points(tmp_path, value)), *args], capsys,
                    "is a directory" if kind == "directory" else "is not a regular file")
    _located(err, tmp_path / "s.yaml", "cases")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path, capsys):
    path = _points(tmp_path)
    with (tmp_path / "cases.csv").open("wb") as fh:
        fh.truncate(MAX_CSV_BYTES + 1)  # sparse: nothing is written, and nothing may be read
    _rejected(["validate", str(path)], capsys, "'cases.csv' has 100.0 MiB; such files are limited to 100 MiB")


# --- CSV tables --------------------------------------------------------------------------------------

@pytest.mark.parametrize("csv, needle", [
    (b"", "cases.csv is empty"),
    (f"{CASES_HEADER}\n".encode(), "cases.csv: the header has no rows below it"),
    (f"{CASES_HEADER}\n{CASES_ROW}\nM2,caf\xe9\n".encode("latin-1"), "cases.csv:3: the line is not UTF-8 text"),
    (f"{CASES_HEADER}\n{CASES_ROW}\n{CASES_ROW}\0\n".encode(), "cases.csv:3: the line holds a NUL byte"),
    (f"{CASES_HEADER}\n{CASES_ROW},9\n".encode(), "cases.csv:2: the row has 9 values; the header has 8 columns"),
    (f"{CASES_HEADER}\n{CASES_ROW}\n\nM2,gmd2015_fwd\n".encode(), "cases.csv:4: the row has 2 values"),
    (f"{CASES_HEADER},clay\n{CASES_ROW},3\n".encode(), "cases.csv:1: column 'clay' repeats the name of column number 5"),
    (f"{CASES_HEADER}\n{CASES_ROW}\nM2,\"gmd2015_fwd,1\n".encode(), "cases.csv:3: cannot read the row as CSV"),
    (f"{CASES_HEADER}\nM1,gmd2015_fwd,abc,0,5,5,1,1\n".encode(), "cases.csv:2: column 'c_input': expected a number"),
    (f"{CASES_HEADER}\nM1,gmd2015_fwd,nan,0,5,5,1,1\n".encode(), "cases.csv:2: column 'c_input': expected a number"),
    (f"{CASES_HEADER}\nM1,gmd2015_fwd,100,inf,5,5,1,1\n".encode(), "cases.csv:2: column 'temperature': expected a"),
    (f"{CASES_HEADER}\nM1,[unclosed,100,0,5,5,1,1\n".encode(), "cases.csv:2: column 'parameter_set': expected one value"),
    (f"{CASES_HEADER}\nM1,!!python/name:os.system,100,0,5,5,1,1\n".encode(), "column 'parameter_set': expected one"),
    (CASES_HEADER.replace(",", ";").encode() + b"\nM1;x\n", "cases.csv:1: column number 1 of the header is not a"),
], ids=["empty", "header_only", "not_utf8", "nul", "ragged_long", "ragged_short", "duplicate_column",
        "unclosed_quote", "non_numeric", "nan", "inf", "unclosed_bracket", "yaml_tag", "not_a_header"])
def test_bad_cases_csv_names_file_line_and_column(tmp_path, capsys, csv, needle):
    path = _points(tmp_path, csv=csv)
    err = _rejected(["validate", str(path)], capsys, needle)
    _located(err, path, "cases")
    assert len(err.strip().splitlines()) == 2, err  # one line per fault, then the count


def test_bad_cells_are_counted_beyond_the_first_ten(tmp_path, capsys):
    rows = "".join(f"M{i},gmd2015_fwd,x,0,5,5,1,1\n" for i in range(25))
    err = _rejected(["validate", str(_points(tmp_path, csv=f"{CASES_HEADER}\n{rows}"))], capsys,
                    "cases.csv:11: column 'c_input'", "... and 15 more cells like these")
    assert "cases.csv:12:" not in err


@pytest.mark.parametrize("csv, needle", [
    (f"{OBS_HEADER}\n", "obs.csv: the header has no rows below it"),
    (f"{OBS_HEADER},soc\nA,1,2,3,4,5,6\n", "obs.csv:1: column 'soc' repeats the name of column number 2"),
    (f"{OBS_HEADER}\nA,4900.0,70.5\n", "obs.csv:2: the row has 3 values; the header has 6 columns"),
    (f"{OBS_HEADER}\n{OBS_ROWS}C,inf,1,1,1,1\n", "obs.csv:4: column 'soc': expected a finite number; got 'inf'"),
])
def test_bad_observation_table_names_file_and_line(tmp_path, capsys, csv, needle):
    path = _calibrate(tmp_path, csv)
    _located(_rejected(["validate", str(path)], capsys, needle), path, "calibrate.observations.file")


@pytest.mark.parametrize("csv, needle", [
    ("source,npp,soc\nA,abc,1\nB,2,3\n", "obs.csv:2: column 'npp': expected a finite number or an empty cell"),
    ("source,npp,soc\nA,1,-inf\nB,2,3\n", "obs.csv:2: column 'soc': expected a finite number"),
    ("source,npp,soc\nA,1,2\nB,2\n", "obs.csv:3: the row has 2 values; the header has 3 columns"),
    ("", "obs.csv is empty"),
])
def test_bad_regression_data_names_file_and_line(tmp_path, capsys, csv, needle):
    path = _regression(tmp_path, csv=csv)
    _located(_rejected(["validate", str(path)], capsys, needle), path, "regression.data")


def test_regression_data_with_missing_cells_is_valid(tmp_path, capsys):
    path = _regression(tmp_path, csv="source,npp,soc,note\nA,1,2,x\nB,,3,\nB,3,4,y\n")
    data = harness.load(path).inputs["data"]
    assert np.isnan(data["npp"].iloc[1]) and data["soc"].tolist() == [2.0, 3.0, 4.0]


def test_run_refuses_what_validate_refuses(tmp_path, capsys):
    path = _points(tmp_path, csv=f"{CASES_HEADER}\n{CASES_ROW},7\n")
    _rejected(["run", str(path), "--out", str(tmp_path / "out")], capsys, "cases.csv:2: the row has 9 values")
    assert not (tmp_path / "out").exists()


# --- netCDF files ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["not_netcdf", "truncated", "missing_variable"])
def test_bad_forcing_names_the_file(tmp_path, capsys, fault):
    path = _grid(tmp_path)
    forcing = tmp_path / "forcing.nc"
    if fault == "not_netcdf":
        forcing.write_text(PASSWD)
    elif fault == "truncated":
        forcing.write_bytes(forcing.read_bytes()[:4096])
    else:
        path.write_text(path.read_text().replace("c_input: npp ", "c_input: npp_missing "))
    needle = {"not_netcdf": "cannot read forcing.nc as netCDF", "truncated": "cannot read forcing.nc as netCDF",
              "missing_variable": "forcing.nc has no variable 'npp_missing'"}[fault]
    err = _rejected(["validate", str(path)], capsys, needle)
    _located(err, path, "grid.forcing" if fault != "missing_variable" else "grid.drivers.c_input")
    assert "root:x" not in err


def test_a_cut_netcdf3_forcing_is_refused_not_read_as_zeros(tmp_path, capsys):
    """A netCDF-3 file cut short opens, and reads the missing data as zeros: its size gives it away."""
    with netCDF4.Dataset(tmp_path / "whole.nc", "w", format="NETCDF3_CLASSIC") as ds:
        for name, size, units in (("lat", 90, "degrees_north"), ("lon", 180, "degrees_east")):
            ds.createDimension(name, size)
            axis = ds.createVariable(name, "f8", (name,))
            axis[:], axis.units = np.linspace(-89 if name == "lat" else -179, 89 if name == "lat" else 179, size), units
        npp = ds.createVariable("npp", "f8", ("lat", "lon"))
        npp[:], npp.units = 1e-8, "kg m-2 s-1"
    data = (tmp_path / "whole.nc").read_bytes()
    (tmp_path / "cut.nc").write_bytes(data[: len(data) // 2])
    path = tmp_path / "s.yaml"
    path.write_text("schema_version: 1\nname: t\nseed: 7\nkind: grid\nmodels: [clm5_firstorder]\n"
                    "grid:\n  forcing: cut.nc\n  drivers: {c_input: npp}\n")
    _located(_rejected(["validate", str(path)], capsys, "cut.nc is truncated"), path, "grid.forcing")
    path.write_text(path.read_text().replace("cut.nc", "whole.nc"))
    assert main(["validate", str(path)]) == 0


def test_netcdf_variable_names_are_listed_only_when_they_look_like_names(tmp_path, capsys):
    path = _grid(tmp_path)
    with netCDF4.Dataset(tmp_path / "soc.nc", "a") as ds:
        ds.renameVariable("socs_0_30cm_2010", "root:x:0:0")
    _rejected(["validate", str(path)], capsys, "soc.nc has no variable 'socs_0_30cm_2010'",
              "(not shown: they do not look like names)")


def test_netcdf_regression_data_that_is_not_netcdf_names_the_file(tmp_path, capsys):
    (tmp_path / "obs.nc").write_text("source,npp,soc\n")
    path = _regression(tmp_path, "obs.nc")
    _located(_rejected(["validate", str(path)], capsys, "cannot read obs.nc as netCDF"), path, "regression.data")


# --- drivers_from ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault, needle", [
    ("empty", "'calibration' has no posterior.nc"),
    ("corrupt", "calibration/posterior.nc: not a soilbench calibration posterior"),
    ("not_a_posterior", "calibration/posterior.nc: not a soilbench calibration posterior"),
    ("escaping", "'calibration/posterior.nc' resolves to"),
])
def test_bad_drivers_from_directory_is_refused(tmp_path, capsys, fault, needle):
    folder = tmp_path / "calibration"
    folder.mkdir()
    if fault == "corrupt":
        (folder / "posterior.nc").write_bytes(b"CDF\x01" + b"\xff" * 64)
    elif fault == "not_a_posterior":
        shutil.copy(ROOT / "data" / "synthetic_forcing" / "forcing_2deg.nc", folder / "posterior.nc")
    elif fault == "escaping":
        (folder / "posterior.nc").symlink_to(ROOT / "data" / "synthetic_forcing" / "forcing_2deg.nc")
    path = tmp_path / "s.yaml"
    path.write_text((ROOT / "scenarios" / "beta_sweep_posterior.yaml").read_text().replace(
        "drivers_from: ../results/calibrate_lter", "drivers_from: calibration"))
    _located(_rejected(["validate", str(path)], capsys, needle), path, "drivers_from")

"""Gridded runs: units, CF grids, the synthetic forcing, kind ``grid`` and its regression.

The kind is exercised on the SYNTHETIC forcing (``tests/fixtures/global_grid_synthetic.yaml``), where
every driver is mapped and the land mask is the SOC product's; the shipped ``global_grid`` scenario
on real forcing is checked in ``tests/test_global_forcing.py``.
"""

from __future__ import annotations

import importlib.util
import shutil
import textwrap
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from harness.cli import main
from harness.grids import EARTH_RADIUS, GridError, open_dataset, read_field, read_grid, read_table
from harness.members import build_member
from harness.units import cf_units, conversion

ROOT = Path(__file__).resolve().parents[1]
FORCING = ROOT / "data" / "synthetic_forcing" / "forcing_2deg.nc"
SYNTHETIC_GRID = ROOT / "tests" / "fixtures" / "global_grid_synthetic.yaml"  # the grid kind on FORCING
SOC_2DEG = ROOT / "data" / "soc_stock_global_coarse" / "soc_stock_sanderman2017_2deg.nc"
SECONDS_PER_YEAR = 365.25 * 86400.0


# --- units -----------------------------------------------------------------------------------

@pytest.mark.parametrize("source, target, expected", [
    ("K", "degC", (1.0, -273.15)),
    ("degC", "degC", (1.0, 0.0)),
    ("degree_Celsius", "K", (1.0, 273.15)),
    ("kg m-2 s-1", "g C m-2 yr-1", (1000.0 * SECONDS_PER_YEAR, 0.0)),
    ("kg C m-2", "g C m-2", (1000.0, 0.0)),
    ("Mg C ha-1", "g C m-2", (100.0, 0.0)),
    ("g/m2/yr", "g C m-2 yr-1", (1.0, 0.0)),
    ("1", "%", (100.0, 0.0)),
    ("%", "1", (0.01, 0.0)),
    ("m3 m-3", "m3 m-3", (1.0, 0.0)),
    ("fraction", "m3 m-3", (1.0, 0.0)),
])
def test_unit_conversions(source, target, expected):
    scale, offset = conversion(source, target)
    assert scale == pytest.approx(expected[0], rel=1e-12) and offset == pytest.approx(expected[1], abs=1e-12)


@pytest.mark.parametrize("source, target", [
    ("W m-2", "degC"), ("K", "%"), ("kg m-2", "g C m-2 yr-1"), ("furlongs", "g C m-2"), ("kg m-2 s-1", "1"),
])
def test_inconvertible_units_are_refused(source, target):
    assert conversion(source, target) is None


def test_cf_units_drop_the_carbon_label():
    assert (cf_units("g C m-2 yr-1"), cf_units("g C m-2"), cf_units("1"), cf_units("degC")) == (
        "g m-2 yr-1", "g m-2", "1", "degC")


# --- CF grids --------------------------------------------------------------------------------

def test_cell_areas_cover_the_sphere_and_match_the_soc_product():
    with open_dataset(SOC_2DEG) as ds:
        grid = read_grid(ds)
        product_area = ds["cell_area"][:].filled()
    area = grid.cell_area()
    assert area.sum() == pytest.approx(4 * np.pi * EARTH_RADIUS**2, rel=1e-12)
    np.testing.assert_allclose(area, product_area, rtol=1e-9)


def _reordered_copy(tmp_path: Path, variable: str, units: str | None) -> Path:
    """``variable`` of the forcing on a south-to-north, 0..360 grid, with other ``units``."""
    with netCDF4.Dataset(FORCING) as src:
        lat, lon = src["lat"][:], src["lon"][:]
        values = src[variable][:]
    order = np.argsort(lon % 360)
    path = tmp_path / "reordered.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("latitude", lat.size)
        ds.createDimension("longitude", lon.size)
        y = ds.createVariable("latitude", "f8", ("latitude",))
        y[:], y.units = lat[::-1], "degrees_north"
        x = ds.createVariable("longitude", "f8", ("longitude",))
        x[:], x.units = (lon % 360)[order], "degrees_east"
        var = ds.createVariable("field", "f8", ("longitude", "latitude"), fill_value=-9999.0)  # transposed too
        var[:] = (values[::-1][:, order]).T
        if units:
            var.units = units
    return path


def test_fields_on_another_orientation_are_laid_onto_the_forcing_grid(tmp_path):
    with open_dataset(FORCING) as ds:
        grid = read_grid(ds)
        expected = read_field(ds, "tsl", "degC", grid)
    with open_dataset(_reordered_copy(tmp_path, "tsl", "K")) as ds:
        got = read_field(ds, "field", "degC", grid)
    np.testing.assert_array_equal(got, expected)
    assert np.nanmin(expected) == pytest.approx(-15.0, abs=1e-4)  # 258.15 K, float32


@pytest.mark.parametrize("units, message", [
    (None, "variable 'field' has no units attribute; expected 'degC'"),
    ("W m-2", "variable 'field' is in 'W m-2', which cannot be converted to 'degC'"),
])
def test_unusable_units_raise_with_a_hint(tmp_path, units, message):
    with open_dataset(FORCING) as ds:
        grid = read_grid(ds)
    with open_dataset(_reordered_copy(tmp_path, "tsl", units)) as ds, pytest.raises(GridError) as info:
        read_field(ds, "field", "degC", grid)
    assert message in info.value.message and info.value.hint


def test_another_resolution_is_refused():
    with open_dataset(FORCING) as ds:
        grid = read_grid(ds)
    with open_dataset(SOC_2DEG.with_name("soc_stock_sanderman2017_4deg.nc")) as ds, pytest.raises(GridError) as info:
        read_field(ds, "socs_0_30cm_2010", "g C m-2", grid)
    assert "lies on 45 x 90 cells (4 degrees), the forcing on 90 x 180 cells (2 degrees)" in info.value.message


def test_read_table_flattens_the_largest_grid(tmp_path):
    path = tmp_path / "t.nc"
    with netCDF4.Dataset(path, "w") as ds:
        for name, n in (("member", 2), ("lat", 3), ("lon", 4)):
            ds.createDimension(name, n)
        ds.createVariable("member", str, ("member",))[:] = np.array(["a", "b"], dtype=object)
        ds.createVariable("lat", "f8", ("lat",))[:] = [10.0, 0.0, -10.0]
        ds.createVariable("lon", "f8", ("lon",))[:] = [0.0, 90.0, 180.0, 270.0]
        soc = ds.createVariable("soc", "f8", ("member", "lat", "lon"), fill_value=-1.0)
        soc[:] = np.ma.masked_less(np.arange(24.0).reshape(2, 3, 4), 1.0)
        ds.createVariable("npp", "f8", ("lon", "lat"))[:] = np.arange(12.0).reshape(4, 3)
    table = read_table(path)
    assert len(table) == 24 and list(table["member"][:13:12]) == ["a", "b"]
    row = table.iloc[13]  # member b, lat 10, lon 90
    assert (row["member"], row["lat"], row["lon"], row["soc"], row["npp"]) == ("b", 10.0, 90.0, 13.0, 3.0)
    assert np.isnan(table["soc"].iloc[0])


# --- the shipped synthetic forcing ------------------------------------------------------------

def test_synthetic_forcing_is_rebuilt_exactly_and_labelled(tmp_path):
    spec = importlib.util.spec_from_file_location("make_forcing", FORCING.with_name("make_forcing.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(out=tmp_path / "f.nc")
    with netCDF4.Dataset(FORCING) as shipped, netCDF4.Dataset(tmp_path / "f.nc") as rebuilt:
        assert "SYNTHETIC" in shipped.title and shipped.synthetic.startswith("yes")
        for name in ("lat", "lon", "land_fraction", *module.VARIABLES):
            np.testing.assert_array_equal(shipped[name][:], rebuilt[name][:], err_msg=name)
        land = ~np.ma.getmaskarray(shipped["tsl"][:])
    with netCDF4.Dataset(SOC_2DEG) as soc:  # the land mask is the SOC product's valid cells
        np.testing.assert_array_equal(land, ~np.ma.getmaskarray(soc["socs_0_30cm_2010"][:]))


# --- kind grid -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def global_grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("global_grid")
    assert main(["run", str(SYNTHETIC_GRID), "--out", str(out), "--data-root", str(ROOT)]) == 0
    return out


def test_grid_nc_is_cf_and_readable_by_xarray(global_grid):
    ds = xr.open_dataset(global_grid / "grid.nc")
    assert ds.attrs["Conventions"] == "CF-1.10" and ds.attrs["forcing_synthetic"].startswith("yes")
    assert len(ds.attrs["forcing_sha256"]) == 64 and "sha256" in ds.attrs["observation_sanderman2017_0_30cm"]
    for name, units, standard in (("lat", "degrees_north", "latitude"), ("lon", "degrees_east", "longitude")):
        assert (ds[name].attrs["units"], ds[name].attrs["standard_name"], ds[name].attrs["bounds"]) == (
            units, standard, f"{name}_bnds")
    assert ds["soc"].dims == ("member", "lat", "lon")
    assert ds["soc"].attrs["standard_name"] == "soil_mass_content_of_carbon" and ds["soc"].attrs["units"] == "g m-2"
    assert ds["soc"].encoding["_FillValue"] == 1e20 and ds["c_input"].attrs["units"] == "g m-2 yr-1"
    assert ds["temperature"].attrs["units"] == "degC"
    land = np.isfinite(ds["land_fraction"].values)
    assert land.sum() == 5231
    status = ds["status"]
    assert status.encoding["_FillValue"] == -1 and np.isnan(status.values[:, ~land]).all()
    assert status.attrs["flag_meanings"].split()[:2] == ["ok", "not_converged"]
    assert np.isfinite(status.values[:, land]).all()
    assert ds.sizes["member"] == 7 and ds["member_label"].values[0].startswith("mimics[")
    assert "member_label" in ds["soc"].coords  # a CF label (auxiliary coordinate), as xarray reads it


def test_grid_cells_equal_direct_adapter_calls_and_balance_mass(global_grid):
    """CLM5 and MIMICS at a few land cells, solved directly from the forcing file's raw values."""
    with netCDF4.Dataset(FORCING) as f:
        land = ~np.ma.getmaskarray(f["tsl"][:])
        raw = {v: f[v][:].filled(np.nan)[land].astype(float) for v in ("tsl", "npp", "mrsos", "clay", "sand",
                                                                         "silt", "lignin_n", "cue_scale")}
    drivers = {"temperature": raw["tsl"] - 273.15, "c_input": raw["npp"] * 1000.0 * SECONDS_PER_YEAR,
               "moisture": raw["mrsos"], "clay": raw["clay"], "sand": raw["sand"], "silt": raw["silt"],
               "lignin_n": raw["lignin_n"], "cue_scale": raw["cue_scale"]}
    with netCDF4.Dataset(global_grid / "grid.nc") as ds:
        members = list(ds["member_label"][:])
        soc = {m: ds["soc"][i].filled(np.nan)[land] for i, m in enumerate(members)}
        respiration = {m: ds["respiration"][i].filled(np.nan)[land] for i, m in enumerate(members)}
        c_input = ds["c_input"][:].filled(np.nan)[land]
    cells = np.arange(0, land.sum(), 97)
    for model, variant, label in (("clm5_firstorder", {}, "clm5_firstorder"),
                                  ("mimics", {"parameter_set": "stode_rev_beta", "beta": 2.0,
                                              "beta_rescale": "reference"},
                                   "mimics[parameter_set=stode_rev_beta, beta=2.0, beta_rescale=reference]")):
        member = build_member(model, variant, {}, {})
        forcing = member.forcing(cells.size, {k: v[cells] for k, v in drivers.items()})
        direct = member.adapter.steady_state(member.theta(cells.size), forcing)
        np.testing.assert_allclose(soc[label][cells], direct.get("soc"), rtol=1e-9)
        solved = np.isfinite(respiration[label])
        np.testing.assert_allclose(respiration[label][solved], c_input[solved], rtol=1e-6)  # inputs = losses


def test_grid_summary_reproduces_the_soc_products_global_total(global_grid):
    summary = pd.read_csv(global_grid / "grid_summary.csv").set_index("product")
    observed = summary.loc["sanderman2017_0_30cm"]
    assert observed["stock over them [Pg C]"] == pytest.approx(867.1, abs=0.05)  # data README
    assert observed["cells"] == 5231 and observed["cells with SOC > 0"] == 4829  # 402 cells of zero stock
    awb = summary.loc["awb"]
    assert awb["cells with SOC > 0"] == 4639 < awb["cells"]  # cold cells leave AWB's domain: counted, not hidden
    assert summary["common cells"].nunique() == 1


def test_a_layer_constant_up_to_round_off_has_no_correlation():
    """Tao et al.'s CUE is fixed: across cells it varies by round-off only, and a correlation with
    that noise (R² 4e-4 one day, 6e-4 with another NumPy) is NaN, not a number; real variation of
    relative size 1e-5 (MIMICS's CUE) still correlates."""
    from harness.kinds.grid import _correlation

    rng = np.random.default_rng(2)
    soc = rng.lognormal(8.0, 1.0, 500)
    fixed = 0.35 * (1.0 + 1e-16 * rng.standard_normal(500))
    assert np.ptp(fixed) > 0 and np.isnan(_correlation(np.log10(soc), fixed))
    small = 0.54 * (1.0 + 1e-5 * (np.log10(soc) - 3.5))
    assert _correlation(np.log10(soc), small) == pytest.approx(1.0)
    assert np.isnan(_correlation(soc[:2], small[:2]))


def test_reply_style_regression_on_the_grid(global_grid):
    table = pd.read_csv(global_grid / "regression.csv")
    fits = table[table["term"] != "(Intercept)"].set_index("formula")
    assert list(fits.index) == ["cue", "npp"]
    assert fits.loc["cue", "n_groups"] == 7 and fits.loc["npp", "n_groups"] == 8  # no CUE is observed
    text = (global_grid / "regression.md").read_text()
    assert "log10_soc ~ cue or npp + (1 | product)" in text and "not Satterthwaite" in text
    html = (global_grid / "report.html").read_text()
    for needle in ("Gridded run", "SYNTHETIC", "Mixed-effects regression", 'id="fig-maps_soc"'):
        assert needle in html


def test_regression_on_grid_nc_reproduces_the_grid_kinds_cue_fit(global_grid, tmp_path):
    """The ``regression`` kind reads grid.nc as a table; only model cells have CUE, so its fit of
    log10 SOC ~ cue_bulk + (1 | member_label) is the grid run's CUE fit."""
    shutil.copy(global_grid / "grid.nc", tmp_path / "grid.nc")
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent("""
        schema_version: 1
        name: from_grid
        seed: 1
        kind: regression
        regression:
          data: grid.nc
          response: log10_soc
          predictors: [cue_bulk]
          group: member_label
          transform: {log10_soc: log10(soc)}
        """))
    table = read_table(tmp_path / "grid.nc")
    assert {"member_label", "lat", "lon", "soc", "cue_bulk", "c_input", "obs_sanderman2017_0_30cm"} <= set(table)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    ours = pd.read_csv(tmp_path / "out" / "regression.csv").set_index("term")
    grid = pd.read_csv(global_grid / "regression.csv")
    grid = grid[grid["formula"] == "cue"].set_index("term")
    np.testing.assert_allclose(ours.loc["cue_bulk", ["estimate", "ci_low", "ci_high"]],
                               grid.loc["cue", ["estimate", "ci_low", "ci_high"]], rtol=1e-6)
    assert ours["n_obs"].iloc[0] == grid["n_obs"].iloc[0]


def test_grid_runs_are_reproducible(global_grid, tmp_path):
    assert main(["run", str(SYNTHETIC_GRID), "--out", str(tmp_path / "b"), "--data-root", str(ROOT)]) == 0
    for name in ("regression.csv", "grid_summary.csv"):
        assert (global_grid / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    a, b = xr.open_dataset(global_grid / "grid.nc"), xr.open_dataset(tmp_path / "b" / "grid.nc")
    xr.testing.assert_identical(a, b)


# --- bad grid scenarios ----------------------------------------------------------------------

HEAD = f"""schema_version: 1
name: t
seed: 7
kind: grid
models: [clm5_firstorder]
grid:
  forcing: {FORCING}
"""


@pytest.mark.parametrize("body, message", [
    ("  drivers: {temperature: clay}\n",
     "s.yaml:8:26: grid.drivers.temperature: forcing_2deg.nc: variable 'clay' is in '%', which cannot be "
     "converted to 'degC'. Hint: map a variable in 'degC' or a convertible unit"),
    ("  drivers: {temperature: tas}\n",
     "s.yaml:8:26: grid.drivers.temperature: forcing_2deg.nc has no variable 'tas'. Hint: 2-D variables in the "
     "file: clay, cue_scale"),
    ("  drivers: {temprature: tsl}\n", "grid.drivers.temprature: unknown driver 'temprature'. Hint: did you mean "
     "'temperature'?"),
    ("  drivers: {lignin_n: lignin_n}\n", "grid.drivers.lignin_n: no model of the scenario represents 'lignin_n'"),
    (f"  drivers: {{c_input: npp}}\n  observations:\n    s4: {{file: {SOC_2DEG.with_name('soc_stock_sanderman2017_4deg.nc')}, "
     "variable: socs_0_30cm_2010}\n",
     "grid.observations.s4: soc_stock_sanderman2017_4deg.nc: 'socs_0_30cm_2010' lies on 45 x 90 cells (4 degrees)"),
    ("  drivers: {c_input: npp}\nregression: {response: log10_soc, predictors: [mat], group: product}\n",
     "regression.predictors[0]: column 'mat' is not in the gridded outputs"),
    ("  drivers: {c_input: npp}\nregression: {data: x.csv, predictors: [npp], group: product}\n",
     "regression.data: a grid scenario fits the regression to its own gridded outputs"),
])
def test_bad_grid_sections_exit_2_with_positions(tmp_path, capsys, body, message):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + body)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--data-root", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "nothing was run" in err and "Traceback" not in err


def test_compare_reports_a_moved_grid_summary(tmp_path):
    for side in ("base", "new"):
        shutil.copytree(ROOT / "baselines" / "global_grid", tmp_path / side / "global_grid")
    path = tmp_path / "new" / "global_grid" / "grid_summary.csv"
    summary = pd.read_csv(path)
    summary.loc[summary["product"] == "clm5_firstorder", "stock over them [Pg C]"] *= 1.01
    summary.to_csv(path, index=False)
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "new")]) == 3
    text = (tmp_path / "new" / "comparison.md").read_text()
    assert "values drifted" in text and "clm5_firstorder" in text and "stock over them [Pg C]" in text


def test_report_maps_the_bias_and_the_failed_cells(global_grid):
    """A bias map per observation layer (log10 model / observed), and the cells with no steady state
    of every member that has any (Millennial at beta = 1 fails on many synthetic cells)."""
    html = (global_grid / "report.html").read_text()
    assert 'id="fig-maps_bias_sanderman2017_0_30cm"' in html and "log10(model / observed)" in html
    with netCDF4.Dataset(global_grid / "grid.nc") as ds:
        failing = int((ds["status"][:].filled(-1) > 0).any(axis=(1, 2)).sum())
    assert failing > 0 and ('id="fig-maps_failed"' in html)
    assert (global_grid / "figures" / "maps_failed.png").stat().st_size > 0

"""The real global forcing (``data/global_forcing``) and the ``global_grid`` scenario that runs on it.

NPP totals on the testbed grid and after conservative regridding, the land mask as the harness
reads it, no masked cell in a run, and the shipped file rebuilt exactly by its script. The
regridding is re-derived here independently of ``regrid.py``: overlap matrices per axis (latitude
overlap in sin(lat), longitude overlap with wrap-around) instead of the script's exchange grid.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

import harness
from harness.cli import main
from harness.grids import EARTH_RADIUS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "global_forcing"
FORCING = DATA / "forcing_2deg.nc"
TESTBED = DATA / "testbed_f19_npp_clay.nc"
GLDAS = DATA / "gldas21_noah10_clim_2012_2022.nc"
SCENARIO = ROOT / "scenarios" / "global_grid.yaml"
LAND_CELLS = 3833  # printed by `python data/global_forcing/regrid.py`
NO_NPP_ESTIMATE = (11, 17)  # IGBP types without an NPP estimate in the testbed (wetlands, water bodies)
PG = 1e-15


def _edges(centres: np.ndarray, latitude: bool) -> np.ndarray:
    """(n + 1) cell edges halfway between centres, latitude clipped to +-90 [degrees]."""
    mid = (centres[1:] + centres[:-1]) / 2
    edges = np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])
    return np.clip(edges, -90.0, 90.0) if latitude else edges


def _lat_overlap(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """(n_target, n_source) overlap of latitude cells measured in sin(lat) [1]."""
    t = np.sort(np.column_stack([target[:-1], target[1:]]), axis=1)
    s = np.sort(np.column_stack([source[:-1], source[1:]]), axis=1)
    lo = np.maximum(t[:, None, 0], s[None, :, 0])
    hi = np.minimum(t[:, None, 1], s[None, :, 1])
    return np.where(hi > lo, np.sin(np.deg2rad(hi)) - np.sin(np.deg2rad(lo)), 0.0)


def _lon_overlap(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """(n_target, n_source) overlap of longitude cells on the circle [radians]."""
    out = np.zeros((target.size - 1, source.size - 1))
    for shift in (-360.0, 0.0, 360.0):
        lo = np.maximum(target[:-1, None], source[None, :-1] + shift)
        hi = np.minimum(target[1:, None], source[None, 1:] + shift)
        out += np.deg2rad(np.maximum(hi - lo, 0.0))
    return out


def _axes(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, lat edges, lon edges) of a netCDF file [degrees]."""
    with netCDF4.Dataset(path) as ds:
        lat, lon = np.asarray(ds["lat"][:], float), np.asarray(ds["lon"][:], float)
    return lat, lon, _edges(lat, True), _edges(lon, False)


def _regrid(source: Path, values: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` on ``source``'s grid, conservatively onto the forcing grid: (mean, valid area [m2])."""
    _, _, t_lat, t_lon = _axes(FORCING)
    _, _, s_lat, s_lon = _axes(source)
    a, b = _lat_overlap(t_lat, s_lat), _lon_overlap(t_lon, s_lon)
    area = EARTH_RADIUS**2 * a @ weight @ b.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, EARTH_RADIUS**2 * a @ np.where(weight > 0, values * weight, 0.0) @ b.T / area,
                        np.nan), area


def _testbed() -> dict[str, np.ndarray]:
    """f19 NPP [g C m-2 yr-1], cell area [m2], land fraction [1] and the NPP weight (land where NPP is known)."""
    lat, lon, lat_edges, lon_edges = _axes(TESTBED)
    with netCDF4.Dataset(TESTBED) as ds:
        npp = ds["npp"][:].filled(np.nan).astype(float)
    area = EARTH_RADIUS**2 * np.abs(np.diff(np.sin(np.deg2rad(lat_edges))))[:, None] * np.deg2rad(np.diff(lon_edges))
    table = np.loadtxt(DATA / "gridinfo_igbpz.csv", delimiter=",", skiprows=1, usecols=(1, 2, 3, 6))
    i = np.abs(lat[None, :] - table[:, :1]).argmin(axis=1)
    j = np.abs(lon[None, :] - table[:, 1:2]).argmin(axis=1)
    land, kind = np.zeros_like(npp), np.zeros(npp.shape, int)
    land[i, j], kind[i, j] = np.minimum(table[:, 3] / area[i, j], 1.0), table[:, 2]
    known = np.isfinite(npp) & ~np.isin(kind, NO_NPP_ESTIMATE)
    return {"npp": npp, "area": area, "land": land, "weight": np.where(known, land, 0.0)}


def _shipped(name: str) -> np.ndarray:
    with netCDF4.Dataset(FORCING) as ds:
        return ds[name][:].filled(np.nan).astype(float)


@pytest.fixture(scope="module")
def forcing():
    """The forcing of the shipped scenario as the harness loads it."""
    return harness.load(SCENARIO, data_root=ROOT).inputs["forcing"]


def test_testbed_npp_total_is_the_published_figure():
    """47.056 Pg C yr-1 with spherical cell areas (R = 6371 km) x the testbed's land fraction.

    The testbed README gives 47.1 (rounded to 0.1, i.e. within 0.11 %); the CSV's own land areas
    give 47.062: the 0.013 % between them is the radius (CLM's 6371.22 km) and land fractions of
    tiny polar cells clipped to 1. Without the land fraction it would be 49.3.
    """
    tb = _testbed()
    total = np.nansum(tb["npp"] * tb["area"] * tb["land"]) * PG
    assert total == pytest.approx(47.1, rel=1.1e-3) and total == pytest.approx(47.062, rel=2e-4)
    assert np.nansum(tb["npp"] * tb["area"] * (tb["weight"] > 0)) * PG > 49.0  # the whole cell is too much
    assert np.nansum(tb["npp"][tb["land"] != tb["weight"]]) == 0.0  # points without an estimate hold NPP 0


def test_regridding_conserves_npp_and_matches_an_independent_regridder():
    """The regridded NPP times its valid area sums to the f19 total; float32 storage (rel. 6e-8 per
    cell) is the only difference, hence rel=1e-6. Cell by cell it is the overlap-matrix mean."""
    tb = _testbed()
    expected, area = _regrid(TESTBED, tb["npp"], tb["weight"])
    shipped = _shipped("npp")
    np.testing.assert_array_equal(np.isfinite(shipped), area > 0)
    np.testing.assert_allclose(shipped[area > 0], expected[area > 0], rtol=1e-6, atol=1e-6)
    before = np.nansum(tb["npp"] * tb["area"] * tb["weight"])
    assert np.sum(shipped[area > 0] * area[area > 0]) == pytest.approx(before, rel=1e-6)
    assert before * PG == pytest.approx(47.062, rel=2e-4)


def test_gldas_fields_exclude_land_ice_and_match_an_independent_regridder():
    with netCDF4.Dataset(GLDAS) as ds:
        raw = {v: ds[v][:].filled(np.nan).astype(float) for v in ds.variables if v not in ("lat", "lon")}
    ice = (raw["sm_vol_0_10cm"] == 1.0) | (raw["sm_vol_10_40cm"] == 1.0)
    assert ice.sum() == 556
    valid = np.logical_and.reduce([np.isfinite(v) for v in raw.values()]) & ~ice
    moisture = (0.1 * raw["sm_vol_0_10cm"] + 0.3 * raw["sm_vol_10_40cm"]) / 0.4
    expected, area = _regrid(GLDAS, moisture, valid.astype(float))
    shipped = _shipped("moisture")
    np.testing.assert_array_equal(np.isfinite(shipped), area > 0)
    np.testing.assert_allclose(shipped[area > 0], expected[area > 0], rtol=1e-6)
    assert np.nanmax(shipped) <= moisture[valid].max() < 1.0  # no ice filler value leaks in


def test_land_cells_as_the_harness_loads_them(forcing):
    assert forcing.n_cells == LAND_CELLS
    assert set(forcing.drivers) == {"c_input", "temperature", "moisture", "clay", "sand", "silt"}
    assert all(np.isfinite(v).all() for v in forcing.drivers.values())
    assert (forcing.drivers["c_input"] > 0).all() and (forcing.land_fraction > 0).all()
    np.testing.assert_array_equal(forcing.land, _shipped("land_fraction") > 0)
    total = np.sum(forcing.drivers["c_input"] * forcing.land_area()) * PG
    assert total == pytest.approx(45.24, abs=0.01)  # printed by regrid.py: the NPP of the land mask
    assert -18.0 < forcing.drivers["temperature"].min() < -16.0 < 34.0 < forcing.drivers["temperature"].max() < 35.0
    assert 60.0 < forcing.drivers["clay"].max() <= 100.0  # mass fraction [1] read as %


def _masked_cells() -> tuple[np.ndarray, np.ndarray]:
    """(south of 60 S, land ice only) on the forcing grid: cells no run may use.

    Land ice only: the GLDAS cells inside the 2-degree cell (a 2 x 2 block: the grids' edges
    coincide) hold land ice and no valid soil.
    """
    lat, lon, _, _ = _axes(FORCING)
    with netCDF4.Dataset(GLDAS) as ds:
        g_lat, g_lon = np.asarray(ds["lat"][:], float), np.asarray(ds["lon"][:], float)
        sm = np.fmax(ds["sm_vol_0_10cm"][:].filled(np.nan), ds["sm_vol_10_40cm"][:].filled(np.nan))
    rows = np.abs(g_lat[:, None] - lat[None, :]) < 1.0  # GLDAS row i lies in target row k
    cols = np.abs(g_lon[:, None] - lon[None, :]) < 1.0
    assert rows.sum(axis=0)[lat > -60].tolist() == [2] * (lat > -60).sum() and (cols.sum(axis=0) == 2).all()
    ice = rows.T.astype(float) @ (sm == 1.0) @ cols.astype(float)
    soil = rows.T.astype(float) @ (np.isfinite(sm) & (sm < 1.0)) @ cols.astype(float)
    south = np.broadcast_to((lat < -60.0)[:, None], ice.shape)
    return south, (ice > 0) & (soil == 0)


def test_no_masked_cell_enters_a_run(tmp_path, forcing):
    south, ice = _masked_cells()
    assert ice.sum() > 50 and south.any()
    assert not (forcing.land & (south | ice)).any()
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "schema_version: 1\nname: real_grid_clm5\nseed: 1\nkind: grid\nmodels: [clm5_firstorder]\n"
        f"grid:\n  forcing: {FORCING}\n  land_fraction: land_fraction\n"
        "  drivers: {c_input: npp, temperature: temperature, moisture: moisture, clay: clay, sand: sand}\n"
        "outputs: [soc]\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--data-root", str(ROOT)]) == 0
    with netCDF4.Dataset(tmp_path / "out" / "grid.nc") as ds:
        assert ds.forcing_synthetic == "no"
        ran = ~np.ma.getmaskarray(ds["status"][0])
        drivers = {v: ds[v][:].filled(np.nan) for v in ("c_input", "temperature", "moisture", "clay", "sand")}
        solved = np.isfinite(ds["soc"][0].filled(np.nan))
    np.testing.assert_array_equal(ran, forcing.land)
    assert ran.sum() == LAND_CELLS and not (ran & (south | ice)).any()
    for name, values in drivers.items():
        assert np.isfinite(values[ran]).all() and np.isnan(values[~ran]).all(), name
    assert solved.sum() > 0.9 * LAND_CELLS and not (solved & ~ran).any()


def test_forcing_is_rebuilt_exactly_and_labelled_real(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("global_forcing_regrid", DATA / "regrid.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    figures = module.build(out=tmp_path / "f.nc")
    assert figures["land_cells"] == LAND_CELLS
    assert figures["regridded_total"] == pytest.approx(figures["f19_total"], rel=1e-12)
    with netCDF4.Dataset(FORCING) as shipped, netCDF4.Dataset(tmp_path / "f.nc") as rebuilt:
        assert shipped.synthetic == "no" and shipped.Conventions == "CF-1.10"
        assert shipped.__dict__ == rebuilt.__dict__
        assert set(shipped.variables) == set(rebuilt.variables)
        for name in shipped.variables:
            np.testing.assert_array_equal(shipped[name][:].filled(np.nan), rebuilt[name][:].filled(np.nan),
                                          err_msg=name)
            assert shipped[name].__dict__ == rebuilt[name].__dict__, name
        for name in module.VARIABLES:
            assert shipped[name].units and shipped[name].long_name, name

"""Build the REAL 2-degree forcing grid ``data/global_forcing/forcing_2deg.nc`` from the files beside it.

    python data/global_forcing/regrid.py          # from the repository root

Inputs (this folder; sources, licences and caveats in README.md):

- ``testbed_f19_npp_clay.nc``: annual NPP on the CLM 1.9 x 2.5 degree (f19) grid, 96 x 144 cells.
- ``gridinfo_soil_CLM5_GSWP3.csv``: clay, sand and silt mass fractions of the f19 land points.
- ``gridinfo_igbpz.csv``: the land area (hence land fraction) and IGBP type of each f19 land point.
- ``gldas21_noah10_clim_2012_2022.nc``: 2012-2022 mean soil moisture and temperature (0-10 and
  10-40 cm) and air temperature on the GLDAS 1-degree grid (land 60 S - 90 N).

Output grid: exactly the cells of ``../soc_stock_global_coarse/soc_stock_sanderman2017_2deg.nc``
(same centres, same order). Every field is regridded by first-order conservative area
weighting between rectilinear lat/lon grids: the grids' cell edges are merged into one exchange
grid, whose cells lie in one cell of each grid; an exchange cell's area is its latitude
overlap in sin(lat) times its longitude overlap (longitudes of every grid are put into the
output grid's -180..180 frame first, splitting the f19 cell that straddles 180 degrees). A
target value is the mean of the source values over the valid source area inside the target
cell. For f19 fields that area is the land area (cell area x land fraction), so the global
integral (e.g. NPP in Pg C yr-1) is preserved. Invalid: f19 cells with no land point, the NPP
of f19 land points without an NPP estimate (``NO_NPP_ESTIMATE``), GLDAS cells with NaN (ocean,
south of 60 S) and GLDAS land ice (moisture == 1.0 in either layer).

``land_fraction`` is the share of the target cell's area that is f19 land valid for every f19
field AND lies in GLDAS cells valid for every GLDAS field; it is set to 0 where the regridded
NPP is not positive (no carbon input). The harness's land mask is ``land_fraction > 0``.

It uses numpy, netCDF4 and the harness's own grid geometry (``harness.grids``: cell edges and
areas on the same sphere the runs use); the output is the same, value for value, on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np

from harness.grids import EARTH_RADIUS, Grid

HERE = Path(__file__).resolve().parent
OUT = HERE / "forcing_2deg.nc"
TESTBED = HERE / "testbed_f19_npp_clay.nc"
TESTBED_SOIL = HERE / "gridinfo_soil_CLM5_GSWP3.csv"
TESTBED_LAND = HERE / "gridinfo_igbpz.csv"
GLDAS = HERE / "gldas21_noah10_clim_2012_2022.nc"
TARGET = HERE.parent / "soc_stock_global_coarse" / "soc_stock_sanderman2017_2deg.nc"

LAND_ICE = 1.0  # [m3 m-3] GLDAS Noah's filler soil moisture on glaciers
TOP, SUB = 0.1, 0.3  # [m] thickness of the GLDAS layers 0-10 cm and 10-40 cm
SOUTH_OF_GLDAS = -60.0  # [degrees_north] GLDAS has no cell south of it
MATCH = 0.05  # [degrees] largest distance of a CSV land point from its f19 cell centre
#: IGBP types of f19 land points for which CASA-CNP has no vegetation and writes NPP = 0: permanent
#: wetlands (11) and water bodies (17). Their NPP is unknown, not zero, so it is treated as missing.
NO_NPP_ESTIMATE = (11, 17)
HISTORY = "python data/global_forcing/regrid.py"
TESTBED_REPO = "github.com/wwieder/biogeochem_testbed commit 27ae1a0b673411642cd780ecad66d1c8f84e6a58"
GLDAS_REPO = ("github.com/ITWSDataScience/Vehicle_Accidents_Analysis_due_to_Snowfall_Group1_Fall2023 commit "
              "cb8406033424f1124baadd4ebe7a42a6e76ac208 (unmodified NASA GES DISC GLDAS_NOAH10_M.2.1 files)")


# --- grids ----------------------------------------------------------------------------------

def cell_edges(centres: np.ndarray, latitude: bool) -> np.ndarray:
    """(n, 2) edges halfway between centres, the outer ones mirrored (latitude clipped to +-90) [degrees]."""
    mid = (centres[1:] + centres[:-1]) / 2
    edges = np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])
    if latitude:
        edges = np.clip(edges, -90.0, 90.0)
    return np.column_stack([edges[:-1], edges[1:]])


def read_grid(path: Path) -> Grid:
    """The grid of the netCDF file ``path`` (variables ``lat``, ``lon``; edges from the centres)."""
    with netCDF4.Dataset(path) as ds:
        lat = np.asarray(ds["lat"][:], dtype=float)
        lon = np.asarray(ds["lon"][:], dtype=float)
    return Grid(lat, lon, cell_edges(lat, True), cell_edges(lon, False))


# --- the exchange grid ----------------------------------------------------------------------

def _lat_pieces(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, cell index) of each latitude cell [degrees_north]."""
    return bounds.min(axis=1), bounds.max(axis=1), np.arange(len(bounds))


def _lon_pieces(bounds: np.ndarray, start: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, cell index) of each longitude cell moved into [start, start + 360) [degrees_east].

    A cell that crosses ``start + 360`` is split in two pieces with the same index.
    """
    lower, upper = bounds.min(axis=1), bounds.max(axis=1)
    shift = 360.0 * np.floor((lower - start) / 360.0)
    lower, upper, index = lower - shift, upper - shift, np.arange(len(bounds))
    cross = upper > start + 360.0
    return (np.concatenate([lower, np.full(cross.sum(), start)]),
            np.concatenate([np.minimum(upper, start + 360.0), upper[cross] - 360.0]),
            np.concatenate([index, index[cross]]))


def _parents(lower: np.ndarray, upper: np.ndarray, pieces) -> np.ndarray:
    """Index of the cell holding each exchange interval (lower, upper), -1 where no cell does."""
    mid = (lower + upper) / 2
    low, high, index = pieces
    inside = (mid[:, None] >= low[None, :]) & (mid[:, None] < high[None, :])
    return np.where(inside.any(axis=1), index[inside.argmax(axis=1)], -1)


def _axis(pieces: list, first: float, last: float) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Exchange intervals of one axis between ``first`` and ``last``: (lower, upper, parents per grid)."""
    breaks = np.unique(np.concatenate([[first, last], *[np.concatenate(p[:2]) for p in pieces]]))
    breaks = breaks[(breaks >= first) & (breaks <= last)]
    lower, upper = breaks[:-1], breaks[1:]
    return lower, upper, [_parents(lower, upper, p) for p in pieces]


@dataclass(frozen=True)
class Exchange:
    """The cells common to several grids: each lies in one cell of every grid (or outside it).

    Attributes
    ----------
    area : ndarray
        (lat, lon) area of each exchange cell. [m2]
    lat_parent, lon_parent : dict
        Grid name -> index of the row / column of that grid holding each exchange row / column
        (-1: outside the grid).
    shapes : dict
        Grid name -> (n_lat, n_lon).
    """

    area: np.ndarray
    lat_parent: dict[str, np.ndarray]
    lon_parent: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, int]]

    def lift(self, name: str, field: np.ndarray, fill=np.nan) -> np.ndarray:
        """``field`` of grid ``name`` on the exchange cells, ``fill`` outside that grid."""
        rows, cols = self.lat_parent[name], self.lon_parent[name]
        inside = (rows[:, None] >= 0) & (cols[None, :] >= 0)
        lifted = np.asarray(field)[np.maximum(rows, 0)[:, None], np.maximum(cols, 0)[None, :]]
        return np.where(inside, lifted, fill)

    def total(self, name: str, field: np.ndarray) -> np.ndarray:
        """Sum of the exchange ``field`` over each cell of grid ``name`` (which must cover the sphere)."""
        n_lat, n_lon = self.shapes[name]
        flat = self.lat_parent[name][:, None] * n_lon + self.lon_parent[name][None, :]
        return np.bincount(flat.ravel(), weights=field.ravel(), minlength=n_lat * n_lon).reshape(n_lat, n_lon)


def exchange_grid(grids: dict[str, Grid], frame: Grid) -> Exchange:
    """The exchange grid of ``grids`` in the longitude frame of ``frame`` (its first edge)."""
    start = float(frame.lon_bounds.min())
    lat_lower, lat_upper, lat_parent = _axis([_lat_pieces(g.lat_bounds) for g in grids.values()], -90.0, 90.0)
    lon_lower, lon_upper, lon_parent = _axis([_lon_pieces(g.lon_bounds, start) for g in grids.values()],
                                             start, start + 360.0)
    dsin = np.sin(np.deg2rad(lat_upper)) - np.sin(np.deg2rad(lat_lower))
    area = EARTH_RADIUS**2 * dsin[:, None] * np.deg2rad(lon_upper - lon_lower)[None, :]
    return Exchange(area, dict(zip(grids, lat_parent)), dict(zip(grids, lon_parent)),
                    {name: g.shape for name, g in grids.items()})


def conservative(ex: Exchange, source: str, values: np.ndarray, weight: np.ndarray,
                 target: str = "target") -> tuple[np.ndarray, np.ndarray]:
    """``values`` of grid ``source`` regridded onto ``target``: area-weighted mean over valid source area.

    ``weight`` [1] is the share of each source cell that counts (0 where invalid). Returns the
    mean (NaN where a target cell holds no valid source area) and that area [m2].
    """
    w = ex.area * ex.lift(source, weight, fill=0.0)
    v = np.where(w > 0, ex.lift(source, values, fill=0.0), 0.0)
    area = ex.total(target, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(area > 0, ex.total(target, w * v) / area, np.nan)
    return mean, area


# --- the sources ----------------------------------------------------------------------------

def _points_on(grid: Grid, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the f19 cell of each land point; the points must lie at cell centres."""
    i = np.abs(grid.lat[None, :] - lat[:, None]).argmin(axis=1)
    j = np.abs(grid.lon[None, :] - lon[:, None]).argmin(axis=1)
    assert np.abs(grid.lat[i] - lat).max() < MATCH and np.abs(grid.lon[j] - lon).max() < MATCH
    return i, j


def _csv_columns(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Columns ``names`` of the testbed CSV ``path`` (header line, rows may end with a comma)."""
    header = [h.strip() for h in path.read_text().splitlines()[0].split(",")]
    columns = [header.index(n) for n in names]
    table = np.loadtxt(path, delimiter=",", skiprows=1, usecols=columns, ndmin=2)
    return dict(zip(names, table.T))


def on_f19(grid: Grid, path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Columns ``names`` of a testbed CSV on the f19 grid, NaN where it has no land point."""
    table = _csv_columns(path, ("lat", "lon", *names))
    i, j = _points_on(grid, table["lat"], table["lon"])
    out = {}
    for name in names:
        field = np.full(grid.shape, np.nan)
        field[i, j] = table[name]
        out[name] = field
    return out


def testbed(grid: Grid) -> dict[str, np.ndarray]:
    """f19 fields: ``npp`` [g C m-2 yr-1], ``clay``, ``sand``, ``silt`` [1] and ``land`` fraction [1].

    The land fraction is the CSV land area over the spherical cell area, at most 1 (0 off land).
    NPP is missing (NaN) at land points of the types ``NO_NPP_ESTIMATE`` (all of them hold 0).
    """
    with netCDF4.Dataset(TESTBED) as ds:
        npp = ds["npp"][:].filled(np.nan).astype(float)
        clay_nc = ds["clay_frac_clm5"][:].filled(np.nan)
    soil = on_f19(grid, TESTBED_SOIL, ("clay", "sand", "silt"))
    both = np.isfinite(clay_nc)
    assert np.array_equal(both, np.isfinite(soil["clay"])) and np.array_equal(
        clay_nc[both], soil["clay"][both].astype(np.float32)), "the CSV and the netCDF clay differ"
    land = on_f19(grid, TESTBED_LAND, ("landarea", "ivt_igbp"))
    no_estimate = np.isin(land["ivt_igbp"], NO_NPP_ESTIMATE)
    assert np.all(npp[no_estimate] == 0.0), "a land point without an NPP estimate has NPP"
    npp[no_estimate] = np.nan
    fraction = np.minimum(np.nan_to_num(land["landarea"], nan=0.0) / grid.cell_area(), 1.0)
    return {"npp": npp, **soil, "land": fraction}


def gldas() -> dict[str, np.ndarray]:
    """GLDAS fields on its own 1-degree grid, and its masks.

    ``moisture`` [m3 m-3] and ``temperature`` [K]: 0-40 cm thickness-weighted means of the two
    layers; ``tas`` [K]; ``ice``: land ice (moisture 1.0 in either layer); ``valid``: every field
    finite and not land ice.
    """
    with netCDF4.Dataset(GLDAS) as ds:
        raw = {v: ds[v][:].filled(np.nan).astype(float) for v in
               ("sm_vol_0_10cm", "sm_vol_10_40cm", "tsoil_0_10cm", "tsoil_10_40cm", "tas")}
    ice = (raw["sm_vol_0_10cm"] == LAND_ICE) | (raw["sm_vol_10_40cm"] == LAND_ICE)
    finite = np.logical_and.reduce([np.isfinite(v) for v in raw.values()])
    return {
        "moisture": (TOP * raw["sm_vol_0_10cm"] + SUB * raw["sm_vol_10_40cm"]) / (TOP + SUB),
        "temperature": (TOP * raw["tsoil_0_10cm"] + SUB * raw["tsoil_10_40cm"]) / (TOP + SUB),
        "tas": raw["tas"],
        "ice": ice,
        "valid": finite & ~ice,
    }


# --- the forcing ----------------------------------------------------------------------------

F19_FIELDS = ("npp", "clay", "sand", "silt")
GLDAS_FIELDS = ("moisture", "temperature", "tas")


def regrid() -> dict:
    """Every output field on the target grid (``grid``, ``fields``) and the printed ``figures``."""
    target, f19, one = read_grid(TARGET), read_grid(TESTBED), read_grid(GLDAS)
    ex = exchange_grid({"target": target, "f19": f19, "gldas": one}, target)
    tb, gl = testbed(f19), gldas()
    out, area = {}, {}
    for name in F19_FIELDS:
        out[name], area[name] = conservative(ex, "f19", tb[name], tb["land"] * np.isfinite(tb[name]))
    for name in GLDAS_FIELDS:
        out[name], area[name] = conservative(ex, "gldas", gl[name], gl["valid"].astype(float))
    valid, ice = _shared_land(ex, tb, gl)
    out["land_fraction"] = np.where(out["npp"] > 0, np.minimum(valid / target.cell_area(), 1.0), 0.0)
    figures = {
        "f19_total": np.nansum(tb["npp"] * tb["land"] * f19.cell_area()),
        **_figures(target, out, area["npp"], valid, ice),
    }
    return {"grid": target, "fields": out, "figures": figures}


def _shared_land(ex: Exchange, tb: dict, gl: dict) -> tuple[np.ndarray, np.ndarray]:
    """Shared valid land and land on ice per target cell [m2].

    The first: f19 land valid for every f19 field inside GLDAS cells valid for every GLDAS field;
    the second: the same f19 land inside GLDAS land-ice cells.
    """
    f19_valid = tb["land"] * np.logical_and.reduce([np.isfinite(tb[n]) for n in F19_FIELDS])
    land = ex.area * ex.lift("f19", f19_valid, fill=0.0)
    return (ex.total("target", land * ex.lift("gldas", gl["valid"], fill=False)),
            ex.total("target", land * ex.lift("gldas", gl["ice"], fill=False)))


def _figures(target: Grid, out: dict, npp_area: np.ndarray, valid: np.ndarray, ice_area: np.ndarray) -> dict:
    """NPP totals [g C yr-1] and the counts of land cells and of cells with source NPP masked, by reason.

    A cell with source NPP is masked for ``coverage`` (south of 60 S), else ``ice`` (its land lies
    in GLDAS land ice only), else ``missing`` (no land valid in every field), else ``no_input``
    (NPP <= 0).
    """
    with_npp = npp_area > 0
    land = out["land_fraction"] > 0
    south = (target.lat < SOUTH_OF_GLDAS)[:, None] & with_npp
    ice = with_npp & ~south & (valid == 0) & (ice_area > 0)
    masks = {"coverage": south, "ice": ice, "missing": with_npp & ~south & ~ice & (valid == 0),
             "no_input": with_npp & (valid > 0) & ~land}
    return {
        "regridded_total": np.sum(out["npp"][with_npp] * npp_area[with_npp]),
        "land_total": np.sum((out["npp"] * target.cell_area() * out["land_fraction"])[land]),
        "land_cells": int(land.sum()),
        "cells_with_npp": int(with_npp.sum()),
        **{f"masked_{k}": int(v.sum()) for k, v in masks.items()},
    }


VARIABLES = {  # name: (units, standard_name or "", long_name)
    "npp": ("g m-2 yr-1", "net_primary_productivity_of_biomass_expressed_as_carbon",
            "annual net primary production as carbon (CASA-CNP, biogeochem_testbed prespin, year-1901 "
            "CLM4.5-SP/CRU-NCEP forcing), mean over the cell's f19 land with an NPP estimate (not wetland or "
            "water-body points); the plant carbon input to the soil"),
    "clay": ("1", "", "clay mass fraction, depth-weighted top 50 cm (CLM5 surface data via biogeochem_testbed)"),
    "sand": ("1", "", "sand mass fraction, depth-weighted top 50 cm (CLM5 surface data via biogeochem_testbed)"),
    "silt": ("1", "", "silt mass fraction, depth-weighted top 50 cm (CLM5 surface data via biogeochem_testbed)"),
    "moisture": ("m3 m-3", "volume_fraction_of_condensed_water_in_soil",
                 "volumetric soil water 0-40 cm, thickness-weighted mean (0.1 x 0-10 cm + 0.3 x 10-40 cm) / 0.4 "
                 "of GLDAS-2.1 Noah, 2012-2022 mean, land ice excluded"),
    "temperature": ("K", "soil_temperature",
                    "soil temperature 0-40 cm, thickness-weighted mean (0.1 x 0-10 cm + 0.3 x 10-40 cm) / 0.4 of "
                    "GLDAS-2.1 Noah, 2012-2022 mean, land ice excluded"),
    "tas": ("K", "air_temperature", "near-surface air temperature (GLDAS-2.1 forcing Tair_f_inst), 2012-2022 mean, "
            "land ice excluded"),
    "land_fraction": ("1", "land_area_fraction",
                      "share of the cell's area that is f19 land valid for npp, clay, sand and silt AND lies in "
                      "GLDAS cells valid for moisture, temperature and tas (not land ice, not south of 60 S); "
                      "0 where npp <= 0 (no carbon input)"),
}

ATTRIBUTES = {
    "Conventions": "CF-1.10",
    "title": "Real 2-degree forcing for soilbench gridded runs: NPP and soil texture (biogeochem_testbed, CLM f19) "
             "and soil moisture and temperature (GLDAS-2.1 Noah, 2012-2022), conservatively regridded",
    "synthetic": "no",
    "source": (f"npp, clay, sand, silt and the f19 land fraction: {TESTBED_REPO}, EXAMPLE_GRID/"
               "cnpflux_end_prespin_1901_x100.csv (NPP, via testbed_f19_npp_clay.nc), GRID_CN/"
               "gridinfo_soil_CLM5_GSWP3.csv, EXAMPLE_GRID/gridinfo_igbpz.csv; moisture, temperature, tas: "
               f"GLDAS_NOAH10_M v2.1 monthly 2012-01..2022-12 from {GLDAS_REPO}, via "
               "gldas21_noah10_clim_2012_2022.nc; grid: soc_stock_sanderman2017_2deg.nc"),
    "license": ("npp, clay, sand, silt: MIT (biogeochem_testbed, Copyright (c) 2024 Will Wieder, Melannie Hartman, "
                "Ben Sulman, Emily Kyker-Snowman & Ying-Ping Wang; LICENSE_testbed.txt); moisture, temperature, tas: "
                "NASA Earth science data, free and open, citation requested (LICENSE_GLDAS.txt)"),
    "references": ("Wieder, W. R. et al. (2018) Global Change Biology 24, 1563-1579, doi:10.1111/gcb.13979; "
                   "Beaudoing, H., Rodell, M. (2020) GLDAS Noah Land Surface Model L4 monthly 1.0 x 1.0 degree "
                   "V2.1, GES DISC, doi:10.5067/LWTYSMP3VM5Z; Rodell, M. et al. (2004) Bull. Amer. Meteor. Soc. "
                   "85, 381-394, doi:10.1175/BAMS-85-3-381"),
    "history": HISTORY,
    "comment": ("First-order conservative (area-weighted) regridding on the sphere; a value is the mean over the "
                "valid source area in the cell (f19: land area). Masks: GLDAS land ice (soil moisture 1.0), "
                "no GLDAS cell south of 60 S, ocean, cells without positive NPP; see land_fraction and "
                "data/global_forcing/README.md."),
}


def write(out: Path, grid: Grid, fields: dict[str, np.ndarray]) -> None:
    """Write ``fields`` on ``grid`` to the CF netCDF file ``out`` (float32, missing values filled)."""
    with netCDF4.Dataset(out, "w", format="NETCDF4") as ds:
        ds.setncatts(ATTRIBUTES)
        ds.createDimension("lat", grid.lat.size)
        ds.createDimension("lon", grid.lon.size)
        ds.createDimension("nv", 2)
        for name, centres, bounds, units, standard, axis in (
                ("lat", grid.lat, grid.lat_bounds, "degrees_north", "latitude", "Y"),
                ("lon", grid.lon, grid.lon_bounds, "degrees_east", "longitude", "X")):
            var = ds.createVariable(name, "f8", (name,))
            var[:] = centres
            var.setncatts({"units": units, "standard_name": standard, "axis": axis, "bounds": f"{name}_bnds"})
            ds.createVariable(f"{name}_bnds", "f8", (name, "nv"))[:] = bounds
        for name, (units, standard, long_name) in VARIABLES.items():
            var = ds.createVariable(name, "f4", ("lat", "lon"), zlib=True, fill_value=np.float32(1e20))
            var[:] = np.ma.masked_invalid(fields[name].astype(np.float32))
            var.setncatts({"units": units, "long_name": long_name, **({"standard_name": standard} if standard else {})})


def build(out: Path = OUT) -> dict[str, float]:
    """Write the forcing file ``out``; returns the figures ``report`` prints."""
    result = regrid()
    write(out, result["grid"], result["fields"])
    return result["figures"]


def report(figures: dict[str, float]) -> str:
    """The NPP totals [Pg C yr-1] and cell counts, as printed."""
    pg = 1e-15
    return "\n".join([
        f"NPP total on the f19 grid (land area = CSV land fraction x spherical cell area): "
        f"{figures['f19_total'] * pg:.4f} Pg C yr-1",
        f"NPP total after regridding, over the {figures['cells_with_npp']} target cells with source NPP: "
        f"{figures['regridded_total'] * pg:.4f} Pg C yr-1",
        f"NPP total over the land mask (cell area x land_fraction): {figures['land_total'] * pg:.4f} Pg C yr-1",
        f"land cells (land_fraction > 0): {figures['land_cells']}",
        f"target cells with source NPP but masked: {figures['masked_coverage']} south of 60 S (no GLDAS), "
        f"{figures['masked_ice']} land ice only, {figures['masked_missing']} missing drivers (no cell valid in "
        f"every field), {figures['masked_no_input']} without positive NPP",
    ])


if __name__ == "__main__":
    print(report(build()))
    print(f"wrote {OUT}")

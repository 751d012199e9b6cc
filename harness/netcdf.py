"""netCDF4 output: Sobol runs (indices, designs, evaluations), long tables and CF lat/lon grids.

The writers write ``path`` directly: a run calls them through ``ResultDir.produce``, which gives
them a unique temporary name beside the file and renames it into place (``store.atomic_path``),
with the mode the user's umask gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import pandas as pd

from .adapter import Status, SteadyStateResult
from .members import Member
from .units import cf_units
from .vocabulary import DRIVERS, OUTPUTS, POOL_PREFIX


def write_sobol_results(path: Path, scenario: Any, designs: list, members: list[Member],
                        results: dict[tuple[str, str], SteadyStateResult], indices: pd.DataFrame) -> None:
    """One netCDF group per design level (``driver``, ``group``), CF-style attributes."""
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        _global_attributes(ds, f"soilbench Sobol analysis: {scenario.name}", scenario)
        ds.seed = np.int64(scenario.seed)
        ds.sobol_n = np.int64(scenario.sobol.n)
        ds.replicates = np.int64(scenario.sobol.replicates)
        ds.intervals = scenario.sobol.intervals
        ds.analysis_scale = "ln of each output" if scenario.sobol.scale == "log" else "raw output"
        ds.confidence = scenario.sobol.confidence
        for design in designs:
            _write_design(ds.createGroup(design.level), design, members, results, indices, scenario.outputs)


def _global_attributes(ds, title: str, scenario: Any) -> None:
    ds.Conventions = "CF-1.10"
    ds.title = title
    ds.source = "soilbench"
    ds.scenario_sha256 = scenario.sha256


def _strings(ds, name: str, dim: str, values: list[str], long_name: str) -> None:
    var = ds.createVariable(name, str, (dim,))
    var[:] = np.array(values, dtype=object)
    var.long_name = long_name


def _write_design(grp, design, members, results, indices, outputs) -> None:
    labels = [m.label for m in members]
    grp.createDimension("member", len(labels))
    grp.createDimension("output", len(outputs))
    grp.createDimension("factor", len(design.factors))
    grp.createDimension("driver", len(design.drivers))
    grp.createDimension("sample", design.unit.shape[0])
    _strings(grp, "member", "member", labels, "model x structural variant")
    _strings(grp, "output", "output", list(outputs), "analysed output")
    _strings(grp, "factor", "factor", list(design.factors), f"sampled {design.level}")
    _strings(grp, "driver", "driver", [d.name for d in design.drivers], "sampled driver")
    unit = grp.createVariable("unit_sample", "f8", ("sample", "driver"))
    unit[:] = design.unit
    unit.long_name = ("Sobol design in the unit box (mapped onto each member's ranges): the replicates' "
                      "Saltelli samples, stacked")
    unit.units = "1"
    unit.replicates = np.int64(design.replicates)
    table = indices[indices["level"] == design.level].set_index(["member", "output", "driver"])
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        var = grp.createVariable(key, "f8", ("member", "output", "factor"), fill_value=np.nan)
        var[:] = _cube(table, key, labels, outputs, design.factors)
        var.units = "1"
        var.long_name = {"S1": "first-order Sobol index", "ST": "total Sobol index"}.get(
            key, f"confidence half-width of {key[:2]}")
    status = grp.createVariable("status", "i1", ("member", "sample"))
    status[:] = np.stack([results[(m, design.level)].status for m in labels])
    _status_flags(status)
    for j, output in enumerate(outputs):
        var = grp.createVariable(f"y_{j}", "f8", ("member", "sample"), fill_value=np.nan)
        var.long_name = f"model output {output} at each sample"
        var.output_name = output
        units = indices.loc[(indices["output"] == output) & (indices["units"] != ""), "units"]
        var.units = str(units.iloc[0]) if len(units) else "1"
        var[:] = np.stack([_output_or_nan(results[(m, design.level)], output) for m in labels])


def _status_flags(var) -> None:
    """CF flag attributes of a variable holding ``Status`` codes (meanings as ``Status.flag``)."""
    var.flag_values = np.array([s.value for s in Status], dtype="i1")
    var.flag_meanings = " ".join(s.flag for s in Status)


def _cube(table: pd.DataFrame, key: str, labels, outputs, factors) -> np.ndarray:
    cube = np.full((len(labels), len(outputs), len(factors)), np.nan)
    for i, m in enumerate(labels):
        for j, o in enumerate(outputs):
            for k, f in enumerate(factors):
                if (m, o, f) in table.index:
                    cube[i, j, k] = table.at[(m, o, f), key]
    return cube


def _output_or_nan(result: SteadyStateResult, output: str) -> np.ndarray:
    try:
        return result.get(output)
    except ValueError:
        return np.full(result.status.size, np.nan)


def write_table(path: Path, table: pd.DataFrame, scenario: Any, title: str) -> None:
    """A long table as netCDF: one ``row`` dimension, one variable per column, units where known."""
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        _global_attributes(ds, f"{title}: {scenario.name}", scenario)
        ds.featureType = "point"
        ds.createDimension("row", len(table))
        for name in table.columns:
            column = table[name]
            if column.dtype.kind in "fi":
                var = ds.createVariable(_nc_name(name), "f8", ("row",), fill_value=np.nan)
                var[:] = column.to_numpy(float)
            else:
                var = ds.createVariable(_nc_name(name), str, ("row",))
                var[:] = column.astype(str).to_numpy(object)
            var.long_name = name
            base = name.removesuffix("_z")
            units = "g C m-2" if base.startswith(POOL_PREFIX) else (DRIVERS.get(base) or OUTPUTS.get(base) or ("",))[0]
            if name.endswith("_z") and units:
                units = "1"  # z-scores
            if units:
                var.units = units


def _nc_name(name: str) -> str:
    return name.replace(".", "__")


#: CF standard names of the harmonised outputs that have one
STANDARD_NAMES = {"soc": "soil_mass_content_of_carbon", "litter": "litter_mass_content_of_carbon",
                  "respiration": "heterotrophic_respiration_carbon_flux"}
GRID_FILL = 1e20  # the CMIP/ILAMB fill value


def write_grid(path: Path, scenario: Any, forcing: Any, labels: list[str], fields: dict[str, np.ndarray],
               status: np.ndarray, attributes: dict[str, str]) -> None:
    """Gridded results as CF-1.10 netCDF, readable by xarray and ILAMB-style tools.

    Parameters
    ----------
    forcing : grids.Forcing
        The grid, its land cells, drivers and observation layers (all written).
    labels : list of str
        Model x variant labels (the ``member`` dimension).
    fields : dict
        Output name -> (member, land cell) values [vocabulary units], NaN where not solved.
    status : ndarray
        (member, land cell) ``Status`` values.
    attributes : dict
        Global attributes with provenance (inputs and their sha256).
    """
    grid = forcing.grid
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        _global_attributes(ds, f"soilbench gridded steady states: {scenario.name}", scenario)
        ds.seed = np.int64(scenario.seed)
        for key, value in attributes.items():
            setattr(ds, key, value)
        ds.createDimension("member", len(labels))
        ds.createDimension("lat", grid.lat.size)
        ds.createDimension("lon", grid.lon.size)
        ds.createDimension("nv", 2)
        # CF coordinate variables are numeric; labels are auxiliary coordinates (CF 6.1)
        _strings(ds, "member_label", "member", labels, "model x structural variant")
        for name, centres, bounds, units, standard, axis in (
                ("lat", grid.lat, grid.lat_bounds, "degrees_north", "latitude", "Y"),
                ("lon", grid.lon, grid.lon_bounds, "degrees_east", "longitude", "X")):
            var = ds.createVariable(name, "f8", (name,))
            var[:] = centres
            var.units, var.standard_name, var.axis, var.bounds = units, standard, axis, f"{name}_bnds"
            ds.createVariable(f"{name}_bnds", "f8", (name, "nv"))[:] = bounds
        _field(ds, "cell_area", ("lat", "lon"), grid.cell_area(), "m2", "cell_area", "area of the grid cell (sphere)",
               measures=False)
        _field(ds, "land_fraction", ("lat", "lon"), forcing.on_grid(forcing.land_fraction), "1", "land_area_fraction",
               "fraction of the cell that is land (the cells solved)")
        for name, values in forcing.drivers.items():
            _field(ds, name, ("lat", "lon"), forcing.on_grid(values), cf_units(DRIVERS[name][0]), "",
                   f"driver {name}: {DRIVERS[name][1]}")
        for name, values in forcing.observations.items():
            _field(ds, f"obs_{name}", ("lat", "lon"), forcing.on_grid(values), "g m-2", STANDARD_NAMES["soc"],
                   f"observed soil organic carbon stock, layer {name} (g of carbon per m2)")
        for output, values in fields.items():
            cube = np.stack([forcing.on_grid(v) for v in values])
            units = "g m-2" if output.startswith(POOL_PREFIX) else cf_units(OUTPUTS[output][0])
            meaning = f"native pool {output[len(POOL_PREFIX):]}" if output.startswith(POOL_PREFIX) else OUTPUTS[output][1]
            _field(ds, _nc_name(output), ("member", "lat", "lon"), cube, units, STANDARD_NAMES.get(output, ""),
                   f"steady-state {output}: {meaning} (carbon)" if units != "1" else f"steady-state {output}: {meaning}")
            ds[_nc_name(output)].coordinates = "member_label"
        flags = ds.createVariable("status", "i1", ("member", "lat", "lon"), fill_value=np.int8(-1), zlib=True)
        cube = np.full((len(labels), *grid.shape), -1, dtype=np.int8)
        cube[:, forcing.land] = status
        flags[:] = cube
        _status_flags(flags)
        flags.long_name = "steady-state status of each land cell (fill: not land)"
        flags.coordinates = "member_label"


def _field(ds, name: str, dims: tuple[str, ...], values: np.ndarray, units: str, standard_name: str,
           long_name: str, measures: bool = True) -> None:
    var = ds.createVariable(name, "f8", dims, fill_value=GRID_FILL, zlib=True)
    var[:] = np.ma.masked_invalid(values)
    var.units, var.long_name = units, long_name
    if standard_name:
        var.standard_name = standard_name
    if measures:
        var.cell_measures = "area: cell_area"

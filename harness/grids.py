"""Reading CF netCDF lat/lon grids: coordinates, cell areas and fields in the vocabulary's units.

A grid is whatever the file stores (any resolution, latitude north-to-south or south-to-north,
longitude -180..180 or 0..360). Fields from other files are laid onto the first file's grid:
flipped or rolled when they hold the same cells in another order, refused otherwise. Problems
raise ``GridError`` with a hint, which the scenario checks turn into ``FILE:LINE`` messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd

from .errors import HarnessError
from .units import conversion
from .vocabulary import DRIVERS, OUTPUTS

EARTH_RADIUS = 6.371e6  # [m], the sphere of CF's cell_area convention and of the SOC product
_TOLERANCE = 1e-6  # [degrees] coordinates that differ less are the same cell


class GridError(HarnessError):
    """A netCDF grid cannot be used; ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Grid:
    """Cell centres and edges of a regular lat/lon grid.

    Attributes
    ----------
    lat, lon : ndarray
        Cell centres in the file's order. [degrees_north], [degrees_east]
    lat_bounds, lon_bounds : ndarray
        (n, 2) cell edges. [degrees_north], [degrees_east]
    """

    lat: np.ndarray
    lon: np.ndarray
    lat_bounds: np.ndarray
    lon_bounds: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """Cells along latitude and longitude, (n_lat, n_lon)."""
        return self.lat.size, self.lon.size

    def cell_area(self) -> np.ndarray:
        """Area of each cell on the sphere of radius ``EARTH_RADIUS``, (lat, lon) [m2]."""
        sin = np.sin(np.deg2rad(self.lat_bounds))
        dlon = np.deg2rad(np.abs(self.lon_bounds[:, 1] - self.lon_bounds[:, 0]))
        return EARTH_RADIUS**2 * np.abs(sin[:, 1] - sin[:, 0])[:, None] * dlon[None, :]

    def describe(self) -> str:
        """Size and spacing of the grid, for the report."""
        step = abs(float(self.lat[1] - self.lat[0])) if self.lat.size > 1 else float("nan")
        return f"{self.lat.size} x {self.lon.size} cells ({step:g} degrees)"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def open_dataset(path: Path) -> netCDF4.Dataset:
    """The netCDF file at ``path``; raises ``GridError`` when it cannot be read."""
    try:
        return netCDF4.Dataset(path)
    except (OSError, RuntimeError) as exc:
        raise GridError(f"cannot read {path.name} as netCDF: {exc}",
                        "the path is relative to the scenario file; check the file with `ncdump -h`") from exc


def read_grid(ds: netCDF4.Dataset) -> Grid:
    """The latitude and longitude coordinates of ``ds``.

    Found by ``standard_name``, ``units`` or name, as CF allows.
    """
    return _axes(ds)[0]


def _axes(ds: netCDF4.Dataset) -> tuple[Grid, tuple[str, str]]:
    """The grid of ``ds`` and the names of its latitude and longitude dimensions."""
    lat, lon = (_coordinate(ds, axis) for axis in ("latitude", "longitude"))
    return Grid(lat[0], lon[0], lat[1], lon[1]), (lat[2], lon[2])


def read_field(ds: netCDF4.Dataset, variable: str, units: str, grid: Grid) -> np.ndarray:
    """``variable`` of ``ds`` on ``grid`` in ``units``, (lat, lon); missing values are NaN.

    Raises ``GridError`` if the variable is absent, has other dimensions, lacks a convertible
    ``units`` attribute, or lies on other cells than ``grid``.
    """
    if variable not in ds.variables:
        names = sorted(v for v in ds.variables if ds.variables[v].ndim == 2)
        raise GridError(f"{_name(ds)} has no variable {variable!r}",
                        f"2-D variables in the file: {', '.join(names) or 'none'}")
    var = ds.variables[variable]
    own, (lat_dim, lon_dim) = _axes(ds)
    if set(var.dimensions) != {lat_dim, lon_dim}:
        raise GridError(f"{_name(ds)}: variable {variable!r} has dimensions {var.dimensions}; "
                        f"expected ({lat_dim}, {lon_dim})", "select a single 2-D field (e.g. with `ncks -d time,0`)")
    found = getattr(var, "units", None)
    if found is None:
        raise GridError(f"{_name(ds)}: variable {variable!r} has no units attribute; expected {units!r}",
                        f"add it, e.g. `ncatted -a units,{variable},c,c,'{units}' FILE`")
    scale_offset = conversion(str(found), units)
    if scale_offset is None:
        raise GridError(f"{_name(ds)}: variable {variable!r} is in {found!r}, which cannot be converted to {units!r}",
                        f"map a variable in {units!r} or a convertible unit")
    values = np.ma.filled(var[:].astype(float), np.nan)
    if var.dimensions != (lat_dim, lon_dim):
        values = values.T
    scale, offset = scale_offset
    return _onto(values * scale + offset, own, grid, f"{_name(ds)}: {variable!r}")


def _onto(values: np.ndarray, own: Grid, target: Grid, what: str) -> np.ndarray:
    """``values`` on ``own`` reordered onto ``target`` (latitude flipped, longitude rolled)."""
    if own.shape != target.shape:
        raise GridError(f"{what} lies on {own.describe()}, the forcing on {target.describe()}",
                        "regrid it onto the forcing grid first (e.g. with `cdo remapcon`)")
    if own.lat[0] != target.lat[0] and np.allclose(own.lat[::-1], target.lat, atol=_TOLERANCE):
        values, own = values[::-1], Grid(own.lat[::-1], own.lon, own.lat_bounds[::-1], own.lon_bounds)
    shift = int(np.argmin(np.abs(((own.lon - target.lon[0]) + 180.0) % 360.0 - 180.0)))
    lon = np.roll(own.lon, -shift)
    values = np.roll(values, -shift, axis=1)
    same_lon = np.allclose(((lon - target.lon) + 180.0) % 360.0 - 180.0, 0.0, atol=_TOLERANCE)
    if not (np.allclose(own.lat, target.lat, atol=_TOLERANCE) and same_lon):
        raise GridError(f"{what} lies on other cells than the forcing ({own.describe()})",
                        "regrid it onto the forcing grid first (e.g. with `cdo remapcon`)")
    return values


def _coordinate(ds: netCDF4.Dataset, axis: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(centres, (n, 2) bounds, dimension name) of the ``latitude`` or ``longitude`` axis."""
    units = {"latitude": ("degrees_north", "degree_north", "degree_N", "degrees_N"),
             "longitude": ("degrees_east", "degree_east", "degree_E", "degrees_E")}[axis]
    short = axis[:3]
    for name, var in ds.variables.items():
        if var.ndim == 1 and (getattr(var, "standard_name", "") == axis or getattr(var, "units", "") in units
                              or name in (axis, short)):
            centres = np.ma.filled(var[:].astype(float), np.nan)
            if centres.size < 2 or not np.isfinite(centres).all() or not (
                    np.all(np.diff(centres) > 0) or np.all(np.diff(centres) < 0)):
                raise GridError(f"{_name(ds)}: {axis} {name!r} is not a monotonic coordinate of at least 2 cells",
                                "write cell centres in increasing or decreasing order")
            bounds_name = getattr(var, "bounds", None)
            if bounds_name and bounds_name in ds.variables:
                bounds = np.asarray(ds.variables[bounds_name][:], dtype=float)
            else:
                bounds = _edges(centres, axis)
            return centres, bounds, var.dimensions[0]
    raise GridError(f"{_name(ds)} has no {axis} coordinate",
                    f"name it {short!r} or give it `standard_name = \"{axis}\"` and units {units[0]!r}")


def _edges(centres: np.ndarray, axis: str) -> np.ndarray:
    """Cell edges halfway between centres (latitude clipped to the poles) [degrees]."""
    mid = (centres[1:] + centres[:-1]) / 2
    first, last = 2 * centres[0] - mid[0], 2 * centres[-1] - mid[-1]
    edges = np.concatenate([[first], mid, [last]])
    if axis == "latitude":
        edges = np.clip(edges, -90.0, 90.0)
    return np.column_stack([edges[:-1], edges[1:]])


def _name(ds: netCDF4.Dataset) -> str:
    return Path(ds.filepath()).name


@dataclass(frozen=True)
class Forcing:
    """Drivers and observation layers on the land cells of a forcing grid.

    Attributes
    ----------
    grid : Grid
    land : ndarray
        (lat, lon) True where every mapped driver is valid (and the land fraction > 0).
    drivers : dict
        Driver name -> values per land cell, in the vocabulary's units.
    land_fraction : ndarray
        Per land cell. [1]
    observations : dict
        Layer name -> SOC per land cell, NaN where the layer has none. [g C m-2]
    files : dict
        File name -> {sha256, title, synthetic}: what went in, for provenance.
    """

    grid: Grid
    land: np.ndarray
    drivers: dict[str, np.ndarray]
    land_fraction: np.ndarray
    observations: dict[str, np.ndarray]
    files: dict[str, dict[str, str]]

    @property
    def n_cells(self) -> int:
        """Number of land cells."""
        return int(self.land.sum())

    def land_area(self) -> np.ndarray:
        """Land area of each land cell: cell area x land fraction [m2]."""
        return self.grid.cell_area()[self.land] * self.land_fraction

    def on_grid(self, values: np.ndarray) -> np.ndarray:
        """Per-land-cell ``values`` as a (lat, lon) field, NaN off land."""
        field = np.full(self.grid.shape, np.nan)
        field[self.land] = values
        return field


def load_forcing(base: Path, settings) -> tuple[Forcing | None, list[tuple[str, GridError]]]:
    """Read the ``grid`` section of a scenario (paths relative to ``base``).

    Drivers are read in the vocabulary's units (unknown driver names are skipped; the scenario
    checks name them), observation layers in the units of ``soc``.

    Returns the forcing (None if the forcing file itself is unusable) and every problem found
    as (scenario path, error), so a scenario check can report them all at once.
    """
    problems: list[tuple[str, GridError]] = []
    try:
        ds = open_dataset(base / settings.forcing)
    except GridError as exc:
        return None, [("grid.forcing", exc)]
    with ds:
        try:
            grid = read_grid(ds)
        except GridError as exc:
            return None, [("grid.forcing", exc)]
        fields, files = {}, {settings.forcing: _describe(ds, base / settings.forcing)}
        for name, variable, where in settings.drivers:
            if name in DRIVERS:
                try:
                    fields[name] = read_field(ds, variable, DRIVERS[name][0], grid)
                except GridError as exc:
                    problems.append((where, exc))
        fraction = np.ones(grid.shape)
        if settings.land_fraction:
            try:
                fraction = np.nan_to_num(read_field(ds, settings.land_fraction, "1", grid), nan=0.0)
            except GridError as exc:
                problems.append(("grid.land_fraction", exc))
    land = (fraction > 0) & np.logical_and.reduce([np.isfinite(f) for f in fields.values()] or [np.ones(grid.shape, bool)])
    if not problems and not land.any():
        problems.append(("grid.drivers", GridError("no cell has a valid value of every mapped variable",
                                                   "check the variables' _FillValue and land mask")))
    observations = {}
    for obs in settings.observations:
        try:
            with open_dataset(base / obs.file) as ods:
                observations[obs.name] = read_field(ods, obs.variable, OUTPUTS["soc"][0], grid)[land]
                files[obs.file] = _describe(ods, base / obs.file)
        except GridError as exc:
            problems.append((obs.path, exc))
    forcing = Forcing(grid, land, {k: v[land] for k, v in fields.items()}, fraction[land], observations, files)
    return forcing, problems


def _describe(ds: netCDF4.Dataset, path: Path) -> dict[str, str]:
    return {"sha256": file_sha256(path), "title": str(getattr(ds, "title", "")),
            "synthetic": str(getattr(ds, "synthetic", "no"))}


def read_table(path: Path) -> pd.DataFrame:
    """The variables of a netCDF file as a long table, one row per cell of its largest grid.

    The grid is the dimensions of the variable with the most dimensions (e.g. member, lat,
    lon); every variable on a subset of them (coordinates, labels, fields) becomes a column,
    broadcast over the rest. Missing values are NaN. Raises ``GridError`` if unreadable.
    """
    with open_dataset(Path(path)) as ds:
        variables = list(ds.variables.values())
        if not variables:
            raise GridError(f"{Path(path).name} has no variables", "write the data table as variables")
        dims = max((v.dimensions for v in variables), key=len)
        shape = tuple(len(ds.dimensions[d]) for d in dims)
        columns = {}
        for var in variables:
            if not set(var.dimensions) <= set(dims):
                continue
            values = var[:]
            values = np.asarray(values, dtype=object) if var.dtype is str else np.ma.filled(
                np.ma.asarray(values, dtype=float), np.nan)
            order = [d for d in dims if d in var.dimensions]
            values = np.transpose(values, [var.dimensions.index(d) for d in order])
            expand = tuple(slice(None) if d in var.dimensions else None for d in dims)
            columns[var.name] = np.broadcast_to(values[expand], shape).ravel()
    return pd.DataFrame(columns)

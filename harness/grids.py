"""Reading the data files a scenario names: CF netCDF lat/lon grids and tables.

Every file is located first (``locate``): resolved against the scenario's folder, symlinks
followed, it must lie inside the data root, be a regular file and not exceed its size limit,
else it is refused without being read. CSV tables are read by ``harness.csv_table``.

A grid is whatever the file stores (any resolution, latitude north-to-south or south-to-north,
longitude -180..180 or 0..360). Fields from other files are laid onto the first file's grid:
flipped or rolled when they hold the same cells in another order, refused otherwise. Problems
raise ``InputFileError`` (``GridError`` for netCDF) with a hint, which the scenario checks turn
into ``FILE:LINE`` messages. A message never quotes a file's bytes: it names what the harness
expects, and a file's column or variable names only when they all look like names
(``csv_table.plausible_names``).
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd

from .csv_table import listed, quoted
from .errors import InputFileError
from .spec import DriverRange
from .units import conversion
from .vocabulary import DRIVERS, OUTPUTS

EARTH_RADIUS = 6.371e6  # [m], the sphere of CF's cell_area convention and of the SOC product
_TOLERANCE = 1e-6  # [degrees] coordinates that differ less are the same cell
MAX_NETCDF_BYTES = 4 * 2**30  # [bytes] the largest netCDF file a scenario may name (read field by field)
MAX_GRID_CELLS = 3600 * 7200  # the most cells of a grid (a global 0.05-degree grid)
MAX_TABLE_ROWS = 10_000_000  # the most rows of a netCDF file read as a table (``regression.data``)
DATA_ROOT_HINT = ("a scenario reads files in its own folder and below it; to read from a wider folder, pass "
                  "`--data-root DIR` (CLI) or `data_root=DIR` (API)")


class GridError(InputFileError):
    """A netCDF grid cannot be used; ``hint`` says how to fix it."""


def resolve_data_path(base: Path, value: str, root: Path) -> Path:
    """``value`` resolved against ``base`` (symlinks followed); ``InputFileError`` unless inside ``root``."""
    try:
        path = (Path(base) / value).resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop, a name too long
        raise InputFileError(f"{value!r} is not a usable path ({exc.__class__.__name__})",
                             "name a file relative to the scenario's folder") from exc
    if not path.is_relative_to(root):
        raise InputFileError(f"{value!r} resolves to {path}, outside the data root {root}", DATA_ROOT_HINT)
    return path


def locate(base: Path, value: str, root: Path, limit: int) -> Path:
    """The data file ``value`` names (relative to ``base``), checked without reading it.

    Raises ``InputFileError`` when it lies outside ``root``, is missing, is not a regular file (a
    directory, device or pipe) or is larger than ``limit`` [bytes].
    """
    path = resolve_data_path(base, value, root)
    try:
        info = path.stat()
    except OSError as exc:
        raise InputFileError(f"cannot read {value!r}: {exc.strerror}",
                             "the path is relative to the scenario file") from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(f"{value!r} is a directory", "name a data file in it")
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(f"{value!r} is not a regular file (a device, pipe or socket)", "name a data file")
    if info.st_size > limit:
        raise InputFileError(f"{value!r} has {info.st_size / 2**20:.1f} MiB; such files are limited to "
                             f"{limit / 2**20:.0f} MiB", "split the data or reduce it to what the scenario uses")
    return path


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
    """Hex SHA-256 of the file at ``path`` (read in blocks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_dataset(path: Path) -> netCDF4.Dataset:
    """The netCDF file at ``path``; raises ``GridError`` when it cannot be read."""
    try:
        ds = netCDF4.Dataset(path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise GridError(f"cannot read {Path(path).name} as netCDF: {exc}",
                        "the path is relative to the scenario file; check the file with `ncdump -h`") from exc
    try:
        _check_complete(ds, Path(path))
    except GridError:
        ds.close()
        raise
    return ds


def _check_complete(ds: netCDF4.Dataset, path: Path) -> None:
    """A netCDF-3 file is at least as long as the data its header declares (a cut one reads as zeros)."""
    if not str(ds.disk_format).startswith("NETCDF3"):
        return  # netCDF-4 (HDF5) files that are cut fail to open
    declared = sum(float(np.prod(v.shape, dtype=float)) * v.dtype.itemsize for v in ds.variables.values())
    size = path.stat().st_size
    if size < declared:
        raise GridError(f"{path.name} is truncated: it has {size} bytes, its header declares {declared:.0f} bytes "
                        "of data", "copy or download the file again")


def _values(ds: netCDF4.Dataset, var: netCDF4.Variable, text: bool = False) -> np.ndarray:
    """The values of ``var``: floats with missing ones NaN, or strings (objects) if ``text`` allows.

    Raises ``GridError`` when the file cannot give them (truncated, or not numbers).
    """
    if var.dtype is str and not text:
        raise GridError(f"{_name(ds)}: variable {quoted(var.name)} holds strings, not numbers",
                        "map a numeric variable")
    try:
        if var.dtype is str:
            return np.asarray(var[:], dtype=object)
        return np.ma.filled(np.ma.asarray(var[:], dtype=float), np.nan)
    except (OSError, RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise GridError(f"{_name(ds)}: variable {quoted(var.name)} cannot be read as numbers or strings "
                        f"({exc.__class__.__name__})",
                        "the file may be truncated; check it with `ncdump -h`") from exc


def read_grid(ds: netCDF4.Dataset) -> Grid:
    """The latitude and longitude coordinates of ``ds``.

    Found by ``standard_name``, ``units`` or name, as CF allows.
    """
    return _axes(ds)[0]


def _axes(ds: netCDF4.Dataset) -> tuple[Grid, tuple[str, str]]:
    """The grid of ``ds`` and the names of its latitude and longitude dimensions."""
    lat, lon = (_coordinate(ds, axis) for axis in ("latitude", "longitude"))
    if lat[0].size * lon[0].size > MAX_GRID_CELLS:
        raise GridError(f"{_name(ds)}: the grid has {lat[0].size} x {lon[0].size} cells; at most {MAX_GRID_CELLS} "
                        "are read", "regrid the data to a coarser grid (e.g. with `cdo remapcon`)")
    return Grid(lat[0], lon[0], lat[1], lon[1]), (lat[2], lon[2])


def read_field(ds: netCDF4.Dataset, variable: str, units: str, grid: Grid) -> np.ndarray:
    """``variable`` of ``ds`` on ``grid`` in ``units``, (lat, lon); missing values are NaN.

    Raises ``GridError`` if the variable is absent, has other dimensions, lacks a convertible
    ``units`` attribute, or lies on other cells than ``grid``.
    """
    if variable not in ds.variables:
        names = sorted(v for v in ds.variables if ds.variables[v].ndim == 2)
        raise GridError(f"{_name(ds)} has no variable {variable!r}", f"2-D variables in the file: {listed(names)}")
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
    values = _values(ds, var)
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
            centres = _values(ds, var)
            if centres.size < 2 or not np.isfinite(centres).all() or not (
                    np.all(np.diff(centres) > 0) or np.all(np.diff(centres) < 0)):
                raise GridError(f"{_name(ds)}: the {axis} coordinate is not monotonic or has fewer than 2 cells",
                                "write cell centres in increasing or decreasing order")
            bounds_name = getattr(var, "bounds", None)
            if bounds_name and bounds_name in ds.variables:
                bounds = _values(ds, ds.variables[bounds_name])
                if bounds.shape != (centres.size, 2) or not np.isfinite(bounds).all():
                    raise GridError(f"{_name(ds)}: the bounds of the {axis} coordinate are not (n, 2) finite edges",
                                    "write one (lower, upper) pair per cell, or drop the `bounds` attribute")
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


def load_forcing(base: Path, settings, root: Path | None = None) -> tuple[Forcing | None,
                                                                          list[tuple[str, InputFileError]]]:
    """Read the ``grid`` section of a scenario (paths relative to ``base``, files inside ``root``).

    Drivers are read in the vocabulary's units (unknown driver names are skipped; the scenario
    checks name them), observation layers in the units of ``soc``. ``root`` is the data root
    (default: ``base``).

    Returns the forcing (None if the forcing file itself is unusable) and every problem found
    as (scenario path, error), so a scenario check can report them all at once.
    """
    root = Path(base).resolve() if root is None else root
    problems: list[tuple[str, InputFileError]] = []
    try:
        path = locate(base, settings.forcing, root, MAX_NETCDF_BYTES)
        ds = open_dataset(path)
    except InputFileError as exc:
        return None, [("grid.forcing", exc)]
    with ds:
        try:
            grid = read_grid(ds)
        except GridError as exc:
            return None, [("grid.forcing", exc)]
        fields, files = {}, {settings.forcing: _describe(ds, path)}
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
            obs_path = locate(base, obs.file, root, MAX_NETCDF_BYTES)
            with open_dataset(obs_path) as ods:
                observations[obs.name] = read_field(ods, obs.variable, OUTPUTS["soc"][0], grid)[land]
                files[obs.file] = _describe(ods, obs_path)
        except InputFileError as exc:
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
    broadcast over the rest. Missing values are NaN. Raises ``GridError`` if unreadable or longer
    than ``MAX_TABLE_ROWS``.
    """
    with open_dataset(Path(path)) as ds:
        variables = list(ds.variables.values())
        if not variables:
            raise GridError(f"{Path(path).name} has no variables", "write the data table as variables")
        dims = max((v.dimensions for v in variables), key=len)
        shape = tuple(len(ds.dimensions[d]) for d in dims)
        if np.prod(shape, dtype=float) > MAX_TABLE_ROWS:
            raise GridError(f"{Path(path).name}: the table has {np.prod(shape, dtype=float):.0f} rows; at most "
                            f"{MAX_TABLE_ROWS} are read", "reduce the file to the cells the regression uses")
        columns = {}
        for var in variables:
            if not set(var.dimensions) <= set(dims):
                continue
            values = _values(ds, var, text=True)
            order = [d for d in dims if d in var.dimensions]
            values = np.transpose(values, [var.dimensions.index(d) for d in order])
            expand = tuple(slice(None) if d in var.dimensions else None for d in dims)
            columns[var.name] = np.broadcast_to(values[expand], shape).ravel()
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class LandSample:
    """The land cells a ``grid``-sampled Sobol design draws its drivers from.

    Attributes
    ----------
    drivers : tuple of DriverRange
        One (mode ``grid``) per mapped driver, carrying its area-weighted
        empirical distribution over the kept cells.
    cells, land_cells : int
        Cells kept, and land cells of the forcing.
    excluded_area_share : float
        Share of the land area left out because a driver lies outside some model's valid interval. [1]
    excluded_by : dict
        Driver -> land cells outside some model's valid interval for it.
    """

    drivers: tuple[DriverRange, ...]
    cells: int
    land_cells: int
    excluded_area_share: float
    excluded_by: dict[str, int]


def land_sample(forcing: Forcing, mapped: Iterable[tuple[str, str, str]], members: Iterable) -> LandSample:
    """The area-weighted empirical distribution of each mapped driver over the forcing's land cells.

    Only cells where every driver lies inside the valid interval of every member that reads it are
    kept, so that no row of the design leaves a model's domain; the share of land area this leaves
    out is reported. Each driver is sampled from its own marginal: a Sobol design needs independent
    inputs, so the correlation between drivers across cells is not kept.

    ``mapped`` holds (driver, variable, scenario path) as ``GridSettings.drivers``. Raises
    ``GridError`` when no cell is kept.
    """
    mapped, members = list(mapped), list(members)
    inside = np.ones(forcing.n_cells, dtype=bool)
    excluded_by = {}
    for name, _, _ in mapped:
        ok = np.ones(forcing.n_cells, dtype=bool)
        for m in members:
            if name in m.adapter.driver_names:
                ok &= m.adapter.drivers[m.adapter.driver_names.index(name)].contains(forcing.drivers[name])
        excluded_by[name] = int((~ok).sum())
        inside &= ok
    if not inside.any():
        raise GridError("no land cell has every mapped driver inside the valid interval of every model "
                        f"(cells outside, per driver: {excluded_by})", "map fewer drivers, or drop the model whose "
                        "interval excludes them (its valid intervals are in docs/models)")
    area = forcing.land_area()
    drivers = []
    for name, _, where in mapped:
        order = np.argsort(forcing.drivers[name][inside], kind="stable")
        values, weights = forcing.drivers[name][inside][order], area[inside][order]
        cdf = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
        drivers.append(DriverRange(name, "grid", float(values[0]), float(values[-1]), None, where, (values, cdf)))
    return LandSample(tuple(drivers), int(inside.sum()), forcing.n_cells,
                      float(1.0 - area[inside].sum() / area.sum()), excluded_by)

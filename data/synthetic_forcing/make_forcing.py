"""Build the SYNTHETIC 2-degree forcing grid ``data/synthetic_forcing/forcing_2deg.nc``.

    python data/synthetic_forcing/make_forcing.py

The fields are invented, not observed: smooth functions of latitude plus seeded smooth noise,
shaped only so that every model meets plausible values (warm wet tropics, dry subtropics, cold
high latitudes). They exist to exercise gridded runs end to end. The land mask is the set of
cells where the real SOC product (``data/soc_stock_global_coarse``, Sanderman et al. 2017) has
a 0-30 cm stock, so model maps and the observation layer cover the same cells. Units follow
CMIP conventions on purpose (``K``, ``kg m-2 s-1``), so the harness's unit conversion is used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import netCDF4
import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "forcing_2deg.nc"
SOC = HERE.parent / "soc_stock_global_coarse" / "soc_stock_sanderman2017_2deg.nc"
SEED = 20261125
SECONDS_PER_YEAR = 365.25 * 86400.0


def smooth_noise(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, waves: int = 6) -> np.ndarray:
    """A smooth random field of unit standard deviation on (lat, lon) [1].

    A sum of plane waves in latitude and longitude with random wavenumbers 1-4 and phases.
    """
    phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    field = np.zeros((lat.size, lon.size))
    for _ in range(waves):
        k, m = rng.integers(1, 5, size=2)
        field += np.cos(k * phi + rng.uniform(0, 2 * np.pi)) * np.cos(m * lam + rng.uniform(0, 2 * np.pi))
    return field / field.std()


def fields(lat: np.ndarray, lon: np.ndarray, seed: int = SEED) -> dict[str, np.ndarray]:
    """The synthetic fields on the full grid (lat, lon), in the units written to the file."""
    rng = np.random.default_rng(seed)
    coslat = np.cos(np.deg2rad(lat))[:, None]
    absolute = np.abs(lat)[:, None]
    temperature = np.clip(-18.0 + 45.0 * coslat**1.5 + 2.5 * smooth_noise(rng, lat, lon), -15.0, 30.0)  # [degC]
    # relative wetness of the pore space: wet tropics, dry subtropics; kept above 0.58 so that
    # the matric potential stays above -2.5 MPa (where CLM5 and Tao stop) for every texture
    wet = 0.8 + 0.15 * np.exp(-((absolute / 12.0) ** 2)) - 0.2 * np.exp(-(((absolute - 25.0) / 8.0) ** 2))
    wetness = np.clip(wet + 0.05 * smooth_noise(rng, lat, lon), 0.58, 0.97)  # [1]
    clay = np.clip(25.0 + 9.0 * smooth_noise(rng, lat, lon), 5.0, 45.0)  # [%]
    sand = np.clip(40.0 + 15.0 * smooth_noise(rng, lat, lon), 10.0, 85.0 - clay)  # [%]
    moisture = wetness * (0.489 - 0.00126 * sand)  # [m3 m-3]: wetness x porosity (Cosby et al. 1984)
    f_t = 1.0 / (1.0 + np.exp(-0.18 * (temperature - 5.0)))
    f_w = np.clip((wetness - 0.5) / 0.35, 0.0, 1.0)
    npp = np.clip(1100.0 * f_t * f_w, 20.0, None)  # [g C m-2 yr-1]
    return {
        "tsl": temperature + 273.15,  # [K]
        "mrsos": moisture,
        "npp": npp / 1000.0 / SECONDS_PER_YEAR,  # [kg m-2 s-1]
        "clay": clay,
        "sand": sand,
        "silt": 100.0 - clay - sand,
        "ph": np.clip(8.5 - 8.0 * (wetness - 0.58), 4.2, 8.5),  # [1]
        "lignin_n": np.clip(22.0 + 6.0 * smooth_noise(rng, lat, lon), 8.0, 40.0),  # [1]
        "cue_scale": np.clip(1.0 + 0.1 * smooth_noise(rng, lat, lon), 0.8, 1.2),  # [1]
    }


VARIABLES = {  # name: (units, standard_name or "", long_name)
    "tsl": ("K", "soil_temperature", "SYNTHETIC soil temperature (annual mean)"),
    "mrsos": ("m3 m-3", "volume_fraction_of_condensed_water_in_soil",
              "SYNTHETIC volumetric soil water (annual mean)"),
    "npp": ("kg m-2 s-1", "net_primary_productivity_of_biomass_expressed_as_carbon",
            "SYNTHETIC net primary production, used as the plant carbon input to the soil"),
    "clay": ("%", "", "SYNTHETIC clay content"),
    "sand": ("%", "", "SYNTHETIC sand content"),
    "silt": ("%", "", "SYNTHETIC silt content (100 - clay - sand)"),
    "ph": ("1", "", "SYNTHETIC soil pH"),
    "lignin_n": ("1", "", "SYNTHETIC litter lignin:N"),
    "cue_scale": ("1", "", "SYNTHETIC multiplier on microbial carbon-use efficiency"),
}


def build(out: Path = OUT, soc: Path = SOC, seed: int = SEED) -> None:
    """Write the synthetic forcing file ``out`` on the grid of the SOC product ``soc``."""
    with netCDF4.Dataset(soc) as ds:
        lat, lon = ds["lat"][:].filled(), ds["lon"][:].filled()
        stock = ds["socs_0_30cm_2010"][:]
        land_fraction = np.where(np.ma.getmaskarray(stock), 0.0, ds["valid_fraction"][:].filled(0.0))
    land = land_fraction > 0
    values = fields(lat, lon, seed)
    with netCDF4.Dataset(out, "w", format="NETCDF4") as ds:
        ds.Conventions = "CF-1.10"
        ds.title = "SYNTHETIC 2-degree forcing for soilbench gridded runs (not observations)"
        ds.synthetic = "yes: invented smooth fields, for exercising gridded runs only; do not interpret"
        ds.source = f"data/synthetic_forcing/make_forcing.py, numpy.random.default_rng({seed})"
        ds.land_mask_source = (f"cells with a 0-30 cm stock in {soc.name} (Sanderman et al. 2017), "
                               f"sha256 {hashlib.sha256(soc.read_bytes()).hexdigest()}")
        ds.createDimension("lat", lat.size)
        ds.createDimension("lon", lon.size)
        ds.createDimension("nv", 2)
        for name, centres, units, standard in (("lat", lat, "degrees_north", "latitude"),
                                               ("lon", lon, "degrees_east", "longitude")):
            var = ds.createVariable(name, "f8", (name,))
            var[:] = centres
            var.units, var.standard_name, var.axis = units, standard, "Y" if name == "lat" else "X"
            var.bounds = f"{name}_bnds"
            step = np.abs(centres[1] - centres[0]) / 2
            bounds = ds.createVariable(f"{name}_bnds", "f8", (name, "nv"))
            bounds[:] = np.column_stack([centres - step, centres + step]) if centres[1] > centres[0] else \
                np.column_stack([centres + step, centres - step])
        fraction = ds.createVariable("land_fraction", "f4", ("lat", "lon"), zlib=True)
        fraction[:] = land_fraction
        fraction.units, fraction.standard_name = "1", "land_area_fraction"
        fraction.long_name = "fraction of the cell with a valid SOC stock in the observation layer"
        for name, (units, standard, long_name) in VARIABLES.items():
            var = ds.createVariable(name, "f4", ("lat", "lon"), zlib=True, fill_value=np.float32(1e20))
            var[:] = np.ma.masked_array(values[name], ~land)
            var.units, var.long_name = units, long_name
            if standard:
                var.standard_name = standard


if __name__ == "__main__":
    build()
    print(f"wrote {OUT}")

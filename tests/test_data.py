"""The observation data shipped in ``data/`` are intact and convert as documented."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


def _tidy_module():
    spec = importlib.util.spec_from_file_location("tidy_lter_sites", DATA / "tidy_lter_sites.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lter_table_is_the_tidy_form_of_the_verbatim_source():
    raw = DATA / "mimics_lter_sites" / "LTER_SITE_1.csv"
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == (
        "e47f67d7d2001c4330f2ef82ce441264c9f197fa9ae1aeb18d48001080bb7aa8")
    rebuilt = _tidy_module().tidy(pd.read_csv(raw).drop(columns="Unnamed: 17"))
    shipped = pd.read_csv(DATA / "lter_sites.csv")
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), shipped, check_dtype=False)
    assert list(shipped.columns) == [
        "site", "soc", "anpp", "c_input", "temperature", "precipitation", "clay", "sand", "texture_measured",
        "lignin", "nitrogen", "lignin_n", "silt", "moisture", "ph"]
    hbr = shipped.set_index("site").loc["HBR"]
    assert (hbr["soc"], hbr["c_input"], hbr["lignin_n"]) == (8900.0, 352.0, pytest.approx(21.0 / 1.02, abs=1e-6))


#: Saxton & Rawls (2006) Table 3 at OM 2.5 %: sand, clay [% w] -> theta_33 [% v, rounded to 1 %]
SAXTON_RAWLS_TABLE_3 = {
    "sand": (88, 5, 10), "loamy sand": (80, 5, 12), "sandy loam": (65, 10, 18), "loam": (40, 20, 28),
    "silt loam": (20, 15, 31), "silt": (10, 5, 30), "sandy clay loam": (60, 25, 27), "clay loam": (30, 35, 36),
    "silty clay loam": (10, 35, 38), "silty clay": (10, 45, 41), "sandy clay": (50, 40, 36), "clay": (25, 50, 42),
}


@pytest.mark.parametrize("texture", sorted(SAXTON_RAWLS_TABLE_3))
def test_field_capacity_reproduces_saxton_rawls_table_3(texture):
    """theta_33 of every texture class within the table's rounding (0.5 % v) of the published value."""
    sand, clay, theta_33 = SAXTON_RAWLS_TABLE_3[texture]
    value = float(_tidy_module().saxton_rawls_theta_33(sand, clay, 2.5))
    assert value == pytest.approx(theta_33 / 100.0, abs=0.005)


def test_lter_moisture_ph_and_silt_are_the_documented_derived_drivers():
    module = _tidy_module()
    sites = pd.read_csv(DATA / "lter_sites.csv")
    assert module.ORGANIC_MATTER == 2.5 and module.ASSUMED_PH == 6.5
    moisture = sites["moisture"].to_numpy()
    assert np.all((moisture > 0.05) & (moisture < 0.6))
    np.testing.assert_allclose(moisture, module.saxton_rawls_theta_33(sites["sand"], sites["clay"], 2.5), atol=5e-5)
    # below the porosity CLM5 and Tao et al. allow (Cosby et al. 1984) and Millennial's (0.6)
    assert np.all(moisture < 0.489 - 0.00126 * sites["sand"].to_numpy())
    # finer soils hold more water: KNZ (39 % clay) is wettest, CDR (87 % sand) driest
    assert sites.set_index("site")["moisture"].idxmax() == "KNZ"
    assert sites.set_index("site")["moisture"].idxmin() == "CDR"
    assert (sites["ph"] == 6.5).all()
    assert (sites["silt"] == 100 - sites["clay"] - sites["sand"]).all() and (sites["silt"] >= 0).all()


@pytest.mark.parametrize("resolution", ["2deg", "4deg"])
def test_soc_product_gives_the_documented_global_totals(resolution):
    """README: 0-30 cm 2010 = 867.1 Pg C, 0-100 cm = 1994.9 Pg C (sum of stock x valid area)."""
    with netCDF4.Dataset(DATA / "soc_stock_global_coarse" / f"soc_stock_sanderman2017_{resolution}.nc") as ds:
        area = ds["valid_fraction"][:].filled(0.0) * ds["cell_area"][:].filled(0.0)
        for name, total in (("socs_0_30cm_2010", 867.1), ("socs_0_100cm_2010", 1994.9)):
            stock = ds[name][:].filled(0.0)  # kg C m-2; fill cells have no valid area
            assert np.sum(stock * area) / 1e12 == pytest.approx(total, abs=0.05), name

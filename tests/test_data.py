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


def test_lter_table_is_the_tidy_form_of_the_verbatim_source():
    raw = DATA / "mimics_lter_sites" / "LTER_SITE_1.csv"
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == (
        "e47f67d7d2001c4330f2ef82ce441264c9f197fa9ae1aeb18d48001080bb7aa8")
    spec = importlib.util.spec_from_file_location("tidy_lter_sites", DATA / "tidy_lter_sites.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.tidy(pd.read_csv(raw).drop(columns="Unnamed: 17"))
    shipped = pd.read_csv(DATA / "lter_sites.csv")
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), shipped, check_dtype=False)
    hbr = shipped.set_index("site").loc["HBR"]
    assert (hbr["soc"], hbr["c_input"], hbr["lignin_n"]) == (8900.0, 352.0, pytest.approx(21.0 / 1.02, abs=1e-6))


@pytest.mark.parametrize("resolution", ["2deg", "4deg"])
def test_soc_product_gives_the_documented_global_totals(resolution):
    """README: 0-30 cm 2010 = 867.1 Pg C, 0-100 cm = 1994.9 Pg C (sum of stock x valid area)."""
    with netCDF4.Dataset(DATA / "soc_stock_global_coarse" / f"soc_stock_sanderman2017_{resolution}.nc") as ds:
        area = ds["valid_fraction"][:].filled(0.0) * ds["cell_area"][:].filled(0.0)
        for name, total in (("socs_0_30cm_2010", 867.1), ("socs_0_100cm_2010", 1994.9)):
            stock = ds[name][:].filled(0.0)  # kg C m-2; fill cells have no valid area
            assert np.sum(stock * area) / 1e12 == pytest.approx(total, abs=0.05), name

"""Build ``data/lter_sites.csv`` from the verbatim MIMICS LTER table (run from the repo root).

    python data/tidy_lter_sites.py

Conversions (see ``data/README.md``): SOC kg C m-2 -> g C m-2 (x 1000); c_input = ANPP / 2
(g dry mass -> g C, 50 % carbon, as the MIMICS scripts do); lignin_n = LIG / N; clay and sand
are the gap-filled CLAY2 and SAND2 columns the model code reads.

Drivers the source table lacks, added for the models that need them (derived or assumed, not
observed; ``data/README.md`` says so):

- ``silt`` = 100 - clay - sand [%].
- ``moisture``: volumetric water content at field capacity (33 kPa), theta_33 [m3 m-3], from clay
  and sand by the pedotransfer function of Saxton & Rawls (2006) (``saxton_rawls_theta_33``) with
  one stated organic matter content for every site, ``ORGANIC_MATTER`` = 2.5 %. OM is not
  derived from the observed SOC: that is the calibration target.
- ``ph`` = ``ASSUMED_PH`` = 6.5 at every site: the source has no pH and no per-site value was
  taken from a verified source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RAW = HERE / "mimics_lter_sites" / "LTER_SITE_1.csv"
TIDY = HERE / "lter_sites.csv"

#: organic matter content used in the pedotransfer function at every site [% by weight]: the
#: value of Saxton & Rawls' (2006) Table 3; theta_33 at these sites changes by 0.007-0.063 m3 m-3
#: between OM 1 % and 5 % (data/README.md)
ORGANIC_MATTER = 2.5
#: soil pH assumed at every site [1] (the source table has no pH)
ASSUMED_PH = 6.5


def saxton_rawls_theta_33(sand, clay, organic_matter):
    """Volumetric water content at 33 kPa (field capacity) by Saxton & Rawls (2006), Table 1, Eq 2.

    Saxton, K. E., Rawls, W. J. (2006) Soil water characteristic estimates by texture and
    organic matter for hydrologic solutions. Soil Sci. Soc. Am. J. 70, 1569-1578,
    doi:10.2136/sssaj2005.0117::

        theta_33t = -0.251 S + 0.195 C + 0.011 OM + 0.006 S OM - 0.027 C OM + 0.452 S C + 0.299
        theta_33  = theta_33t + (1.283 theta_33t^2 - 0.374 theta_33t - 0.015)

    with S and C as weight fractions and OM in % by weight (the form that reproduces their
    Table 3). No density, gravel or salinity adjustment.

    Parameters
    ----------
    sand, clay : array_like
        Sand and clay content. [% by weight]
    organic_matter : array_like
        Organic matter content (the regression covers up to 8 %). [% by weight]

    Returns
    -------
    ndarray
        theta_33. [m3 m-3]
    """
    s = np.asarray(sand, dtype=float) / 100.0
    c = np.asarray(clay, dtype=float) / 100.0
    om = np.asarray(organic_matter, dtype=float)
    first = (-0.251 * s + 0.195 * c + 0.011 * om + 0.006 * s * om - 0.027 * c * om + 0.452 * s * c
             + 0.299)
    return first + (1.283 * first**2 - 0.374 * first - 0.015)


def tidy(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per site, SI-style units in ``data/README.md``."""
    clay, sand = raw["CLAY2"], raw["SAND2"]
    return pd.DataFrame({
        "site": raw["Site"],
        "soc": raw["SOC"] * 1000.0,  # [g C m-2, 0-30 cm]
        "anpp": raw["ANPP"],  # [g dry mass m-2 yr-1]
        "c_input": raw["ANPP"] / 2.0,  # [g C m-2 yr-1]
        "temperature": raw["MAT"],  # [degC]
        "precipitation": raw["MAP"],  # [mm yr-1]
        "clay": clay,  # [%]
        "sand": sand,  # [%]
        "texture_measured": raw["CLAY"].notna(),
        "lignin": raw["LIG"],  # [%]
        "nitrogen": raw["N"],  # [%]
        "lignin_n": (raw["LIG"] / raw["N"]).round(6),  # [1]
        # derived or assumed drivers (not in the source)
        "silt": 100 - clay - sand,  # [%]
        "moisture": saxton_rawls_theta_33(sand, clay, ORGANIC_MATTER).round(4),  # [m3 m-3]
        "ph": ASSUMED_PH,  # [1]
    })


if __name__ == "__main__":
    table = tidy(pd.read_csv(RAW).drop(columns="Unnamed: 17"))
    table.to_csv(TIDY, index=False, lineterminator="\n")
    print(f"wrote {len(table)} sites to {TIDY}")

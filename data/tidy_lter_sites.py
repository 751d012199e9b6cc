"""Build ``data/lter_sites.csv`` from the verbatim MIMICS LTER table (run from the repo root).

    python data/tidy_lter_sites.py

Conversions (see ``data/README.md``): SOC kg C m-2 -> g C m-2 (x 1000); c_input = ANPP / 2
(g dry mass -> g C, 50 % carbon, as the MIMICS scripts do); lignin_n = LIG / N; clay and sand
are the gap-filled CLAY2 and SAND2 columns the model code reads.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
RAW = HERE / "mimics_lter_sites" / "LTER_SITE_1.csv"
TIDY = HERE / "lter_sites.csv"


def tidy(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per site, SI-style units in ``data/README.md``."""
    return pd.DataFrame({
        "site": raw["Site"],
        "soc": raw["SOC"] * 1000.0,  # [g C m-2, 0-30 cm]
        "anpp": raw["ANPP"],  # [g dry mass m-2 yr-1]
        "c_input": raw["ANPP"] / 2.0,  # [g C m-2 yr-1]
        "temperature": raw["MAT"],  # [degC]
        "precipitation": raw["MAP"],  # [mm yr-1]
        "clay": raw["CLAY2"],  # [%]
        "sand": raw["SAND2"],  # [%]
        "texture_measured": raw["CLAY"].notna(),
        "lignin": raw["LIG"],  # [%]
        "nitrogen": raw["N"],  # [%]
        "lignin_n": (raw["LIG"] / raw["N"]).round(6),  # [1]
    })


if __name__ == "__main__":
    table = tidy(pd.read_csv(RAW).drop(columns="Unnamed: 17"))
    table.to_csv(TIDY, index=False, lineterminator="\n")
    print(f"wrote {len(table)} sites to {TIDY}")

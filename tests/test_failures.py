"""Every row that is not OK is listed in failures.csv, whatever ``on_failure`` says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harness

# CLM5 at c_input up to 2e307 g C m-2 yr-1: soc is then 1e308 (implausible) or overflows (non-finite)
SCENARIO = {
    "schema_version": 1, "name": "overflow", "kind": "sobol", "seed": 3,
    "models": [{"model": "clm5_firstorder"}],
    "baseline": {"c_input": 1.0e307, "temperature": 15.0, "sand": 40.0, "clay": 20.0},
    "drivers": {"c_input": {"relative": [1.0e-310, 2.0]}, "temperature": {"range": [10.0, 20.0]}},
    "sobol": {"n": 64},
    "outputs": ["soc"],
}


@pytest.mark.parametrize("policy", ["error", "drop_blocks"])
def test_every_failed_row_is_in_failures_csv(tmp_path, policy):
    result = harness.run({**SCENARIO, "on_failure": policy}, tmp_path / policy)
    assert not result.ok if policy == "error" else True
    failures = pd.read_csv(tmp_path / policy / "failures.csv")
    results = result.table("failures.csv")
    pd.testing.assert_frame_equal(failures, results, check_dtype=False)
    assert set(failures["status"]) >= {"implausible", "non finite"}
    counted = sum(m["rows"] - m["status"]["ok"] for m in result.summary["members"])
    designs = failures[failures["design"].isin(["driver", "group"]) & (failures["status"] != "screened")]
    assert len(designs) == counted > 0
    # and the rows of the further evaluations: component control and baseline elasticities
    assert {"fix temperature", "baseline elasticities"} <= set(failures["design"])
    assert np.isfinite(designs["c_input"]).all()  # the sampled inputs of each failed row

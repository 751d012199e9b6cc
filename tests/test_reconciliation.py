"""The reconciliation table: spread across structures of ln(ST(input)/ST(CUE)), prior box against posterior."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.kinds.gates import Fit
from harness.kinds.reconciliation import reconciliation_markdown, reconciliation_table

R = 8  # replicates


def _fit(log_ratio: np.ndarray) -> Fit:
    """A fit whose per-replicate ST give ln(ST(c_input)/ST(cue_scale)) = ``log_ratio``."""
    st_cue = np.full(R, 0.2)
    st = np.column_stack([st_cue * np.exp(log_ratio), st_cue])
    return Fit(("c_input", "cue_scale"), SimpleNamespace(estimates=SimpleNamespace(ST=st)))  # type: ignore[arg-type]


def _case(prior_means, posterior_means, noise=0.05, seed=1, estimable=None):
    rng = np.random.default_rng(seed)
    fits, rows, conditioned = {}, [], {}
    for k, (a, b) in enumerate(zip(prior_means, posterior_means)):
        label = f"model{k}"
        for name, mean in ((label, a), (f"{label} | posterior", b)):
            fits[(name, "soc")] = _fit(mean + noise * rng.standard_normal(R))
            ok = True if estimable is None else estimable.get(name, True)
            rows.append({"member": name, "output": "soc", "estimable": ok, "cue_effect": "lowers" if k else "raises"})
        conditioned[f"{label} | posterior"] = "conditioned on the data"
    return pd.DataFrame(rows), fits, conditioned


def test_spread_and_its_paired_change_by_replicate():
    verdict, fits, conditioned = _case([-2.0, 0.0, 2.0], [-0.1, 0.0, 0.1])
    row = reconciliation_table(verdict, fits, conditioned, 0.95).iloc[0]
    logs = {side: np.stack([np.log(fits[(f"model{k}{side}", "soc")].per_replicate("c_input") /
                                   fits[(f"model{k}{side}", "soc")].per_replicate("cue_scale")) for k in range(3)],
                           axis=1) for side in ("", " | posterior")}
    sd_prior, sd_post = logs[""].std(axis=1, ddof=1), logs[" | posterior"].std(axis=1, ddof=1)
    t = stats.t.ppf(0.975, R - 1)
    assert row["prior_sd"] == pytest.approx(sd_prior.mean(), rel=1e-12)
    assert row["prior_sd_conf"] == pytest.approx(t * sd_prior.std(ddof=1) / np.sqrt(R), rel=1e-12)
    assert row["posterior_range"] == pytest.approx(np.ptp(logs[" | posterior"], axis=1).mean(), rel=1e-12)
    change = sd_post - sd_prior
    assert row["change"] == pytest.approx(change.mean(), rel=1e-12)
    assert row["change_conf"] == pytest.approx(t * change.std(ddof=1) / np.sqrt(R), rel=1e-12)
    assert row["structures"] == 3 and row["prior_cue_raises"] == 1 and row["prior_cue_lowers"] == 2
    assert row["answer"].startswith("yes, assimilation brought the structures together")


@pytest.mark.parametrize("prior, posterior, start", [
    ([-0.1, 0.0, 0.1], [-2.0, 0.0, 2.0], "no, the structures moved apart"),
    ([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], "the data do not settle it"),
])
def test_the_answer_follows_the_interval_of_the_change(prior, posterior, start):
    verdict, fits, conditioned = _case(prior, posterior, noise=0.3)
    assert reconciliation_table(verdict, fits, conditioned, 0.95).iloc[0]["answer"].startswith(start)


def test_structures_not_estimable_on_either_side_are_left_out_and_named():
    verdict, fits, conditioned = _case([-2.0, 0.0, 2.0], [-0.1, 0.0, 0.1],
                                       estimable={"model2 | posterior": False})
    row = reconciliation_table(verdict, fits, conditioned, 0.95).iloc[0]
    assert row["structures"] == 2 and row["left_out"] == "model2"
    verdict, fits, conditioned = _case([-2.0, 0.0], [-0.1, 0.0], estimable={"model1": False})
    row = reconciliation_table(verdict, fits, conditioned, 0.95).iloc[0]
    assert row["answer"].startswith("not estimable: 1 structure(s)")
    assert "not estimable" in reconciliation_markdown(reconciliation_table(verdict, fits, conditioned, 0.95))

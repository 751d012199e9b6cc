"""The scorecard at the top of a Sobol report: the one-sentence answer, the member labels it uses and
the overview figure, from small hand-made verdict tables."""

from __future__ import annotations

import math

import pandas as pd

from harness import plots
from harness.kinds.sobol_page import _crossover_width, _overview_rows
from harness.verdict_report import display_labels, greek, headline, short_labels

SOBOL = {"scale": "log", "crossover": {"c_input": [0.1, 0.3, 0.5], "cue_scale": [0.1, 0.2, 0.3]}}
BOX = "c_input ×[0.5, 1.5], cue_scale ×[0.8, 1.2], temperature [10, 20] degC (× = multiplier on each model's baseline)"


def _verdict() -> pd.DataFrame:
    rows = [("clm5", math.nan, "clm5", 0.8, "raises", "CUE, raises"),
            ("mimics", 1.0, "mimics[set=a, beta=1.0]", 1.7, "raises", "input, raises"),
            ("mimics", 2.0, "mimics[set=a, beta=2.0]", 1.5, "raises", "input, raises"),
            ("tao", 1.0, "tao[set=b, beta=1.0]", 0.001, "lowers", "CUE, lowers"),
            ("tao", 2.0, "tao[set=b, beta=2.0]", 0.08, "lowers", "not estimable")]
    frames = []
    for output in ("soc", "soc_total"):
        frames.append(pd.DataFrame(
            [{"model": m, "set": "" if m == "clm5" else ("a" if m == "mimics" else "b"), "beta": b, "member": member,
              "output": output, "ratio": r, "ratio_low": r / 1.1, "ratio_high": r * 1.1, "cue_effect": e, "answer": a}
             for m, b, member, r, e, a in rows]))
    return pd.concat(frames, ignore_index=True)


def _votes(tao_total: str = "depends on beta") -> pd.DataFrame:
    rows = []
    for output in ("soc", "soc_total"):
        for model, vote in (("clm5", "CUE, raises"), ("mimics", "input, raises"),
                            ("tao", tao_total if output == "soc_total" else "depends on beta")):
            rows.append({"model": model, "output": output, "vote": vote, "variants": 2, "distinct": 2, "answers": ""})
    return pd.DataFrame(rows)


def _crossovers() -> pd.DataFrame:
    states = {"clm5": ("crosses", "CUE throughout"), "mimics[set=a, beta=1.0]": ("input throughout",) * 2,
              "mimics[set=a, beta=2.0]": ("crosses", "crosses"), "tao[set=b, beta=1.0]": ("CUE throughout",) * 2,
              "tao[set=b, beta=2.0]": ("not estimable",) * 2}
    return pd.DataFrame([{"member": m, "output": o, "h_cue": h, "k": 1.5 if s == "crosses" else math.nan,
                          "k_low": 1.2, "k_high": math.nan, "ratio_min": 0.1 / h, "ratio_max": 0.5 / h, "state": s}
                         for m, pair in states.items() for o in ("soc", "soc_total") for h, s in zip((0.1, 0.2), pair)])


def test_headline_counts_votes_with_their_sign_and_what_they_depend_on():
    sentence = headline(_verdict(), _votes(), _crossovers(), SOBOL)
    assert sentence.startswith("**Of 3 model structures** (5 model × variant combinations, Sobol total indices of "
                               "ln soc), ")
    assert "CUE outranks input and raises soc in 1 (clm5)" in sentence
    assert "input outranks CUE in 1 (mimics)" in sentence
    assert "the answer depends on β in 1 (tao), and where CUE outranks input in them it lowers soc" in sentence
    # clm5 and mimics[beta=2] cross inside the grid; the not estimable tao[beta=2] is not counted
    assert "in 2 of 4 estimable variants which driver dominates also depends on the range box" in sentence
    assert "(c_input ±10–50 % against cue_scale ±10–30 %)" in sentence
    assert sentence.endswith("; soc_total gives the same votes.")
    assert headline(_verdict(), _votes("inconclusive"), _crossovers(), SOBOL).endswith(
        "; for soc_total the vote differs in 1 (tao).")


def test_labels_keep_only_the_variant_keys_that_vary_within_a_model():
    labels = display_labels(_verdict())
    assert labels == {"clm5": "clm5", "mimics[set=a, beta=1.0]": "mimics[beta=1]",
                      "mimics[set=a, beta=2.0]": "mimics[beta=2]", "tao[set=b, beta=1.0]": "tao[beta=1]",
                      "tao[set=b, beta=2.0]": "tao[beta=2]"}
    members = [("awb[beta=1.0, beta_enz=0.5]", "awb", {"beta": 1.0, "beta_enz": 0.5}),
               ("awb[beta=1.0, beta_enz=1.0]", "awb", {"beta": 1.0, "beta_enz": 1.0}),
               ("awb[beta=1.0, beta_enz=1.0] | posterior", "awb", {"beta": 1.0, "beta_enz": 1.0})]
    assert list(short_labels(members).values()) == ["awb[beta_enz=0.5]", "awb[beta_enz=1]", "awb[beta_enz=1] | posterior"]
    assert greek("awb[beta=1, beta_enz=0.5, beta_rescale=site]") == "awb[β=1, β_enz=0.5, beta_rescale=site]"


def test_overview_takes_the_crossover_at_the_box_and_names_members_without_a_value():
    h_cue, ratio = _crossover_width(_crossovers(), BOX)
    assert h_cue == 0.2 and math.isclose(ratio, 2.5)  # cue_scale ×[0.8, 1.2]: ±20 %; c_input ±50 %
    assert _crossover_width(pd.DataFrame(), "temperature [10, 20] degC") == (None, None)
    rows = _overview_rows(_verdict(), _crossovers(), h_cue)
    assert list(rows["label"].unique()) == ["clm5", "mimics[β=1]", "mimics[β=2]", "tao[β=1]", "tao[β=2]"]
    assert rows.loc[rows["label"] == "tao[β=2]", "status"].eq("not estimable").all()
    assert rows.loc[rows["label"] == "mimics[β=1]", "state"].eq("input throughout").all()
    png = plots.overview(rows, ["soc", "soc_total"], "ln ", ratio, h_cue)
    assert png.startswith(b"\x89PNG")
    alone = plots.overview(_overview_rows(_verdict(), pd.DataFrame(), None), ["soc", "soc_total"], "ln ", None, None)
    assert alone.startswith(b"\x89PNG")  # without crossover.csv: the ratio panel alone

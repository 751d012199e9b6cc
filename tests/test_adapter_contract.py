"""The public contract suite on every built-in and installed adapter, under each option set.

Known failures are listed as ``{adapter: {check: "reason, issue link"}}`` under strict xfail,
so a check that starts passing fails the build until its entry is removed.
"""

from __future__ import annotations

from harness.registry import available_adapters, get_adapter, get_adapter_class
from harness.testing import parametrize_with_adapter_checks

#: beta_rescale 'site' anchored at the flagship scenario's shared site (scenarios/beta_sweep.yaml)
_SITE = {"beta_rescale": "site", "anchor": {"c_input": 400.0, "cue_scale": 1.0, "mic_turnover_scale": 1.0}}
_FLAGSHIP = {"temperature": 15.0, "moisture": 0.30, "clay": 20.0, "silt": 40.0, "sand": 40.0, "lignin_n": 20.0,
             "ph": 6.5}


def _site(*drivers: str, **options):
    """``beta_rescale: site`` options anchored at the flagship site (the drivers the model represents)."""
    return {**options, **_SITE, "anchor": {**_SITE["anchor"], **{d: _FLAGSHIP[d] for d in drivers}}}


#: option sets worth checking beyond the defaults, per adapter
OPTION_SETS = {
    "awb": [{}, {"parameter_set": "li2014"}, {"parameter_set": "he2024_fit"}, {"beta_rescale": "reference"},
            {"parameter_set": "li2014", "beta_rescale": "reference"}, _site("temperature"),
            _site(parameter_set="li2014")],
    "clm5_firstorder": [{}, {"normalize_q10": False}, {"normalize_q10": False, "use_century_tfunc": True}],
    "millennial": [{}, {"parameter_set": "default"}, {"beta_rescale": "reference"},
                   {"parameter_set": "default", "beta_rescale": "reference"},
                   _site("temperature", "moisture", "clay", "silt", "ph")],
    "mimics": [{}, {"parameter_set": "stode_rev_npp"}, {"parameter_set": "stode_rev_beta"},
               {"beta_rescale": "reference"}, {"parameter_set": "stode_rev_beta", "beta_rescale": "reference"},
               _site("temperature", "clay", "lignin_n", parameter_set="stode_rev_beta")],
    # couple_tau_enz_to_ka=True has no steady state at the defaults (spec R7): tested in test_tao_enzyme.py
    "tao_enzyme": [{}, {"beta_rescale": "none"}, {"km_scale_with_xi": False},
                   _site("temperature", "moisture", "clay", "sand")],
}

EXPECTED_FAILURES: dict[str, dict[str, str]] = {}


def _adapters():
    for name in sorted(available_adapters()):
        for options in OPTION_SETS.get(name, [{}]):
            yield get_adapter(name, **options)


@parametrize_with_adapter_checks(list(_adapters()), expected_failures=EXPECTED_FAILURES)
def test_adapter_contract(adapter, check):
    check(adapter)


def test_every_builtin_has_option_sets_listed():
    """A new built-in adapter must state which option sets the suite runs on."""
    missing = [n for n in available_adapters() if n not in OPTION_SETS]
    assert not missing, f"add {missing} to OPTION_SETS in this file"
    for name, sets in OPTION_SETS.items():
        for options in sets:
            get_adapter_class(name)(**options)  # every listed option set is valid

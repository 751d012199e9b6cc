"""Parameter sets and reference cases of the AWB microbial-enzyme model.

Source of every default and reference value: ``docs/models/awb.md`` sections (d), (e) and (h).
No prior ranges are published (spec (d)): every bound below is the ADMISSIBLE domain of the
equations (a rate > 0, a fraction in [0, 1], ...), not a prior; a calibration or Sobol study must
declare its own ranges inside these.

Three sets (option ``parameter_set``):

- ``awb2010``: Allison et al. (2010) Supplementary Table 1, temperature functions, mg C cm-3, h;
- ``li2014``: Li et al. (2014) constants (third-party code, spec (d)), mg C g-1, h;
- ``he2024_fit``: not published; the spec's least-squares fit to He et al. (2024)'s
  sensitivities (spec (h) H3): AWB-2010 20 degC constants with CUE 0.312, V_max 1.10, mg C cm-3.
"""

from __future__ import annotations

import math
from decimal import Decimal

from harness.adapter import FailingCase, Interval, Parameter, ReferenceCase

AWB = "Allison, Wallenstein & Bradford (2010) Nat. Geosci. 3, 336-340, doi:10.1038/ngeo846 (Suppl. Table 1)"
LI = ("Li, Wang, Allison, Mayes & Luo (2014) Biogeochemistry 119, 67-84, doi:10.1007/s10533-013-9948-8, "
      "values via bgc_md2 and TempMoistExp code (spec (d))")
HE = ("fit of docs/models/awb.md (h) H3 to He et al. (2024) Nature, doi:10.1038/s41586-023-06999-1; "
      f"other values: {AWB}")
SPEC = "docs/models/awb.md"
HARNESS = f"harness convention, not part of the model ({SPEC} (b))"

#: the bounds are admissible domains, stated in every description
_NO_PRIOR = "admissible domain; no prior range published"
_INF = float("inf")
_OPEN = (True, True)
_POSITIVE = Interval(0.0, _INF, _OPEN)
#: [0, inf): closed at 0, open at infinity
_NON_NEGATIVE = (False, True)

#: AWB-2010 reference temperature of the published state and of ``he2024_fit`` [degC]
T_REFERENCE = 20.0
#: V_up(20 degC) of AWB-2010 = V_max(20 degC), 0.417601 h-1 (R = 0.008314, offset 273)
_V20 = 1e8 * math.exp(-47.0 / (0.008314 * (T_REFERENCE + 273.0)))

#: published inputs I_S, I_D [native pool h-1] per set: c_input defaults reproduce them
PUBLISHED_INPUTS = {
    "awb2010": (5e-4, 5e-4),
    "li2014": (1.4e-4, 1e-5),
    "he2024_fit": (7.188e-5, 9.52e-6),
}
#: share of the input entering SOC, s = I_S/(I_S + I_D), of each published input pair
INPUT_SOC_FRACTION = {"awb2010": 0.5, "li2014": 14 / 15, "he2024_fit": 7188 / 8140}
#: c_input [g C m-2 yr-1] reproducing PUBLISHED_INPUTS at h = 0.3 m (and rho_b = 1.2 g cm-3):
#: (I_S + I_D) x 1000 h (rho_b) x 8760 h yr-1; the spec rounds the last to 213.92
DEFAULT_C_INPUT = {"awb2010": 2628.0, "li2014": 473.04, "he2024_fit": 213.9192}


def _positive(name: str, units: str, default: float, what: str, reference: str) -> Parameter:
    return Parameter(name, units, default, _POSITIVE, f"{what} ({_NO_PRIOR})", reference)


def _fraction(name: str, default: float, what: str, reference: str) -> Parameter:
    return Parameter(name, "1", default, Interval(0.0, 1.0), f"{what} ({_NO_PRIOR})", reference)


def _shared(name: str, pool: str, reference: str, k_d: float, k_e: float, a_note: str = "") -> tuple[Parameter, ...]:
    """Turnover constants, necromass split, input split and the reporting depth of set ``name``."""
    return (
        _positive("k_death", "h-1", k_d, "k_d: microbial death rate (times mic_turnover_scale); "
                  f"(mg C {pool})^(1-beta) h-1 when beta != 1", reference),
        _positive("k_enzprod", "h-1", k_e, "k_e: enzyme production per unit MIC; "
                  f"(mg C {pool})^(1-beta_enz) h-1 when beta_enz != 1", reference),
        _positive("k_enzloss", "h-1", 1e-3, "k_l: enzyme loss rate (lost enzyme -> DOC)", reference),
        _fraction("mic_to_soc", 0.5, f"a: share of dead microbial C entering SOC (rest DOC){a_note}", reference),
        _fraction("input_soc_fraction", INPUT_SOC_FRACTION[name],
                  "s = I_S/(I_S + I_D): share of c_input entering SOC (rest DOC); default reproduces "
                  f"the published inputs {PUBLISHED_INPUTS[name][0]:g} + {PUBLISHED_INPUTS[name][1]:g}",
                  f"{reference}; {SPEC} (e)"),
        _positive("layer_depth_m", "m", 0.3, "h: soil depth converting mg C per unit soil to g C m-2",
                  HARNESS),
    )


_AWB2010: tuple[Parameter, ...] = (
    _positive("vmax0", "h-1", 1e8, "V0: Arrhenius pre-factor of V_max (SOC decomposition per unit ENZ); "
              "V_max(20 degC) = 0.417601", AWB),
    _positive("vup0", "h-1", 1e8, "V0_up: Arrhenius pre-factor of V_up (DOC uptake per unit MIC)", AWB),
    Parameter("ea", "kJ mol-1", 47.0, Interval(0.0, _INF, _NON_NEGATIVE), f"Ea of V_max ({_NO_PRIOR})", AWB),
    Parameter("ea_up", "kJ mol-1", 47.0, Interval(0.0, _INF, _NON_NEGATIVE), f"Ea of V_up ({_NO_PRIOR})", AWB),
    _positive("km0", "mg C cm-3", 500.0, "K_m0: SOC half-saturation at 0 degC; K_m(20) = 600", AWB),
    Parameter("km_slope", "mg C cm-3 degC-1", 5.0, Interval(-_INF, _INF, _OPEN),
              f"K_ms: temperature slope of K_m; K_m(T) > 0 is a cross-constraint ({_NO_PRIOR})",
              f"{AWB}; SoilR's 0.5 is a typo ({SPEC} (i))"),
    _positive("kup0", "mg C cm-3", 0.1, "K_up0: DOC half-saturation at 0 degC; K_up(20) = 0.3", AWB),
    Parameter("kup_slope", "mg C cm-3 degC-1", 0.01, Interval(-_INF, _INF, _OPEN),
              f"K_ups: temperature slope of K_up; K_up(T) > 0 is a cross-constraint ({_NO_PRIOR})",
              f"{AWB}; SoilR's 0.1 is a typo ({SPEC} (i))"),
    Parameter("cue0", "1", 0.63, Interval(0.0, 1.0, _OPEN), f"CUE_0: carbon-use efficiency at 0 degC ({_NO_PRIOR})",
              AWB),
    Parameter("cue_slope", "degC-1", -0.016, Interval(-_INF, _INF, _OPEN), "CUE_s: temperature slope of CUE; "
              f"CUE(20) = 0.31; CUE(T) cue_scale in (0, 1) is a cross-constraint ({_NO_PRIOR})", AWB),
    *_shared("awb2010", "cm-3", AWB, 2e-4, 5e-6),
)

_LI2014: tuple[Parameter, ...] = (
    _positive("vmax", "h-1", 1.0, "V_max: SOC decomposition per unit ENZ (no temperature function)", LI),
    _positive("vup", "h-1", 0.01, "V_up: DOC uptake per unit MIC (no temperature function)", LI),
    _positive("km", "mg C g-1", 250.0, "K_m: SOC half-saturation", LI),
    _positive("kup", "mg C g-1", 0.26, "K_up: DOC half-saturation", LI),
    Parameter("cue", "1", 0.31, Interval(0.0, 1.0, _OPEN), f"CUE: Li (2014)'s constant-CUE case ({_NO_PRIOR})",
              LI),
    *_shared("li2014", "g-1", LI, 2.8e-4, 5.6e-6, a_note="; 0.5 assumed"),
    Parameter("bulk_density", "g cm-3", 1.2, Interval(0.0, 2.65, (True, False)), "rho_b: converts mg C g-1 soil "
              "to mg C cm-3 (admissible: up to the particle density of quartz)", HARNESS),
)

_HE2024_FIT: tuple[Parameter, ...] = (
    _positive("vmax", "h-1", 1.10, "V_max: SOC decomposition per unit ENZ, fitted", HE),
    _positive("vup", "h-1", _V20, "V_up: DOC uptake per unit MIC, AWB-2010 V_up(20 degC) = 0.417601", HE),
    _positive("km", "mg C cm-3", 600.0, "K_m: SOC half-saturation, AWB-2010 K_m(20 degC)", HE),
    _positive("kup", "mg C cm-3", 0.3, "K_up: DOC half-saturation, AWB-2010 K_up(20 degC)", HE),
    Parameter("cue", "1", 0.312, Interval(0.0, 1.0, _OPEN), f"CUE: fitted, temperature-independent ({_NO_PRIOR})",
              HE),
    *_shared("he2024_fit", "cm-3", HE, 2e-4, 5e-6),
)

PARAMETER_SETS: dict[str, tuple[Parameter, ...]] = {
    "awb2010": _AWB2010,
    "li2014": _LI2014,
    "he2024_fit": _HE2024_FIT,
}


def _g_m2(native: str, factor: int) -> str:
    """A value printed in native units, times the exact factor to g C m-2, keeping its digits.

    ``Decimal`` multiplication is exact, so the printed number is carried over unchanged; its
    rounding allowance (half a unit of the last digit, ``ReferenceCase``) is then ``factor``
    times smaller than the source's: stricter, never looser.
    """
    return str(Decimal(native) * Decimal(factor))


_H = f"{SPEC} (h)"
_AWB_BASE = {"temperature": 20.0, "c_input": 2628.0}
_LI_BASE = {"c_input": 473.04}
_LI = {"parameter_set": "li2014"}
_REF = {"beta_rescale": "reference"}
#: H1: AWB-2010 at 20 degC in g C m-2 (h = 0.3 m), printed in (h) directly
_H1 = {
    "pool.soc_pool": "33562.9", "pool.mic": "657.48", "pool.enz": "3.287", "pool.doc": "0.1427",
    "soc": "34223.8", "soc_total": "34223.8", "mic": "657.48", "litter": "0", "respiration": "2628",
    "cue_bulk": "0.31",
}
#: H2: Li-2014 at beta = beta_enz = 1, printed in mg C g-1, times 360 (rho_b 1.2, h 0.3 m)
_LI_LINEAR = {
    "pool.mic": _g_m2("0.235964", 360), "pool.enz": _g_m2("1.3214e-3", 360),
    "pool.soc_pool": _g_m2("37.6699", 360), "pool.doc": _g_m2("0.0263843", 360),
}

#: values as printed in the spec (g C m-2 directly, or native x 300 / 360 exactly, see ``_g_m2``);
#: each is met within rtol 1e-5 plus half a unit of its last digit (``ReferenceCase.checks``)
REFERENCE_CASES: tuple[ReferenceCase, ...] = (
    ReferenceCase("H1 awb2010 20 degC", _AWB_BASE, _H1, _H, rtol=1e-5),
    ReferenceCase("H1 awb2010 c_input 500: SOC unchanged", {**_AWB_BASE, "c_input": 500.0},
                  {"pool.soc_pool": "33562.9", "pool.mic": _g_m2("0.416969", 300)}, _H, rtol=1e-5),
    ReferenceCase("H2 awb2010 beta_enz 0.5, none", {**_AWB_BASE, "beta_enz": 0.5},
                  {"pool.soc_pool": _g_m2("181.549", 300), "pool.mic": _g_m2("2.20922", 300)}, _H, rtol=1e-5),
    ReferenceCase("H2 awb2010 beta 1.5, none", {**_AWB_BASE, "beta": 1.5},
                  {"pool.soc_pool": _g_m2("153.503", 300), "pool.mic": _g_m2("1.69361", 300)}, _H, rtol=1e-5),
    ReferenceCase("H2 li2014 beta = beta_enz = 1", _LI_BASE, _LI_LINEAR, _H, rtol=1e-5, options=_LI),
    ReferenceCase("H2 li2014 beta_enz 0.5, none", {**_LI_BASE, "beta_enz": 0.5},
                  {"pool.soc_pool": _g_m2("17.1012", 360)}, _H, rtol=1e-5, options=_LI),
    ReferenceCase("H2 li2014 beta 1.5, none", {**_LI_BASE, "beta": 1.5},
                  {"pool.soc_pool": _g_m2("22.1502", 360)}, _H, rtol=1e-5, options=_LI),
    # `reference`: every baseline equals the beta = beta_enz = 1 state
    ReferenceCase("H2 awb2010 beta_enz 0.5, reference", {**_AWB_BASE, "beta_enz": 0.5}, _H1, _H, rtol=1e-5,
                  options=_REF),
    ReferenceCase("H2 awb2010 beta 1.5, reference", {**_AWB_BASE, "beta": 1.5}, _H1, _H, rtol=1e-5,
                  options=_REF),
    ReferenceCase("H2 li2014 beta_enz 0.5, reference", {**_LI_BASE, "beta_enz": 0.5}, _LI_LINEAR, _H,
                  rtol=1e-5, options={**_LI, **_REF}),
    ReferenceCase("H2 li2014 beta 1.5, reference", {**_LI_BASE, "beta": 1.5}, _LI_LINEAR, _H,
                  rtol=1e-5, options={**_LI, **_REF}),
)

#: in every column's bounds, but CUE = 0.031 leaves too little enzyme: V_max ENZ* = 3.26e-4 is
#: below the supply to SOC F = 5.16e-4 mg C cm-3 h-1, so SOC has no steady state (spec (g))
FAILING_CASE = FailingCase(
    "awb2010 cue_scale 0.1: no SOC steady state", {**_AWB_BASE, "cue_scale": 0.1},
    f"{SPEC} (g): SOC* exists iff V_max ENZ* > F",
)

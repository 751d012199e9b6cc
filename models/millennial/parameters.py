"""Parameters and reference cases of Millennial v2.

Source of every default and reference value: ``docs/models/millennial.md`` (sections 4 and 8),
checked against ``rabramoff/Millennial`` @ ``859f977``: ``Fortran/MillennialV2/simulationv2/
soilpara_in_fit.txt`` and ``soilpara_in_default.txt`` (last changed in ``e95bca9``) and, for the
site parameters ``param_bulkd`` and ``param_pc``, ``R/simulation/model_tutorial.Rmd``. The spec
gives no ranges, so bounds are the admissible (physical) ones: shares in [0, 1], rates and
half-saturations positive, exponent terms unbounded. Rates that a steady state needs (breakdown,
leaching, turnover) have an open lower bound at 0.
"""

from __future__ import annotations

from types import MappingProxyType

from harness.adapter import FailingCase, Interval, Parameter, ReferenceCase

ABRAMOFF = "Abramoff et al. (2022) Soil Biol. Biochem. 164:108466, doi:10.1016/j.soilbio.2021.108466"
_CODE = "rabramoff/Millennial@859f977 Fortran/MillennialV2/simulationv2/soilpara_in_{set}.txt"
TUTORIAL = (f"rabramoff/Millennial@859f977 R/simulation/model_tutorial.Rmd (site parameters); {ABRAMOFF}")
SPEC = "docs/models/millennial.md"

_INF = float("inf")
_SHARE = Interval(0.0, 1.0)
_OPEN_SHARE = Interval(0.0, 1.0, (True, True))
_POSITIVE = Interval(0.0, _INF, (True, True))
#: [0, inf): closed at 0, open at infinity
_NON_NEGATIVE = Interval(0.0, _INF, (False, True))
_REAL = Interval(-_INF, _INF, (True, True))

#: name -> (units, fit value, default value, interval, description), in spec order
_TABLE: dict[str, tuple[str, float, float, Interval, str]] = {
    "param_pi": ("1", 0.66, 0.66, _SHARE, "share of c_input to POM (the rest to LMWC)"),
    "param_pa": ("1", 0.33, 0.33, _SHARE, "share of AGG breakdown to POM (the rest to MAOM)"),
    "kaff_pl": ("g C m-2", 6443.0, 1e4, _POSITIVE, "half-saturation (in MIC) of POM depolymerisation"),
    "alpha_pl": ("d-1", 1.8e12, 2.5e12, _POSITIVE, "pre-exponential factor of depolymerisation (Eq 3)"),
    "eact_pl": ("J mol-1", 63909.0, 64320.0, _NON_NEGATIVE, "activation energy of depolymerisation"),
    "rate_pa": ("d-1", 0.018, 0.02, _NON_NEGATIVE, "POM -> AGG (aggregate formation, Eq 5)"),
    "rate_break": ("d-1", 0.02, 0.019, _POSITIVE, "AGG breakdown (Eq 6)"),
    "rate_leach": ("d-1", 0.0015, 0.0015, _POSITIVE, "LMWC leaching (Eq 8)"),
    "kaff_des": ("g C m-2 d-1", 1.0, 1.0, _POSITIVE,
                 "desorption rate (Eq 12); also scales the binding affinity K_lm (Eq 10)"),
    "param_p1": ("1", 0.12, 0.186, _REAL, "pH slope of the binding affinity (Eq 10)"),
    "param_p2": ("1", 0.216, 0.216, _REAL, "offset of the binding affinity (Eq 10)"),
    "kaff_lb": ("g C m-2", 774.6, 290.0, _POSITIVE, "half-saturation (in LMWC) of microbial uptake"),
    "alpha_lb": ("d-1", 2.3e12, 2.6e12, _POSITIVE, "pre-exponential factor of uptake (Eq 14)"),
    "eact_lb": ("J mol-1", 57865.0, 60260.0, _NON_NEGATIVE, "activation energy of uptake"),
    "rate_bd": ("(g C m-2)^(1-beta) d-1", 0.0045, 0.0036, _POSITIVE,
                "microbial turnover coefficient of Eq 16, calibrated for beta = 2"),
    "rate_ma": ("d-1", 0.0048, 0.02, _NON_NEGATIVE, "MAOM -> AGG (Eq 18)"),
    "cue_ref": ("1", 0.19, 0.6, _OPEN_SHARE, "carbon-use efficiency at tae_ref (Eq 21)"),
    "cue_t": ("degC-1", 0.012, 0.012, _REAL, "decrease of CUE per degC (Eq 21)"),
    "tae_ref": ("degC", 15.0, 15.0, _REAL, "reference temperature of CUE (Eq 21)"),
    "matpot": ("kPa", 15.0, 15.0, _NON_NEGATIVE,
               "matric potential (magnitude) in w_b; unit from the paper's table, unverified"),
    "lambda_": ("kPa-1", 2.1e-4, 2.1e-4, _NON_NEGATIVE, "uptake sensitivity to matric potential"),
    "porosity": ("m3 m-3", 0.6, 0.6, Interval(0.0, 1.0, (True, False)), "porosity phi; moisture must stay below it"),
    "kamin": ("1", 0.2, 0.2, _SHARE, "relative microbial uptake at saturation (Eq 15)"),
    "param_pb": ("1", 0.5, 0.5, _SHARE, "share of microbial turnover to MAOM (the rest to LMWC)"),
    "param_bulkd": ("kg m-3", 1000.0, 1000.0, _POSITIVE, "bulk density (tutorial site)"),
    "param_pc": ("g C kg-1 %-1", 0.86, 0.86, _POSITIVE,
                 "slope of Q_max with clay + silt (Eq 11); the tutorial cites Georgiou et al., in review"),
}
_SITE = ("param_bulkd", "param_pc")


def _parameters(parameter_set: str) -> tuple[Parameter, ...]:
    column = 1 if parameter_set == "fit" else 2
    params = []
    for name, row in _TABLE.items():
        units, interval, description = row[0], row[3], row[4]
        reference = TUTORIAL if name in _SITE else f"{_CODE.format(set=parameter_set)}; {ABRAMOFF}"
        params.append(Parameter(name, units, row[column], interval, description, reference))
    return tuple(params)


#: parameter set name -> parameters in theta order: ``fit`` (calibrated, the adapter default) and
#: ``default`` (pre-calibration; the name is the file's)
PARAMETERS = MappingProxyType({name: _parameters(name) for name in ("fit", "default")})

#: the reference site: the tutorial site at the annual mean of globalaverage.txt (spec section 8)
REFERENCE_SITE = MappingProxyType({
    "c_input": 172.89779,  # 365 x 0.473692575342466 g C m-2 d-1
    "cue_scale": 1.0,
    "temperature": 11.2196094794521,
    "moisture": 0.242204383561644,
    "clay": 20.0,
    "silt": 60.0,
    "ph": 7.0,
    "beta": 2.0,
    "mic_turnover_scale": 1.0,
})

_S8 = f"{SPEC} section 8 (steady states of derivs_V2_MM.R, fit set)"
_N1 = {
    "pool.pom": "512.724", "pool.lmwc": "3.01273", "pool.agg": "1548.25", "pool.mic": "5.67499",
    "pool.maom": "4528.34", "soc": "6598.00", "soc_total": "6598.00", "litter": "0", "mic": "5.67499",
    "maom": "4528.34", "pom": "512.724", "respiration": "171.850", "cue_bulk": "0.235365",
}
_N2 = {
    "pool.pom": "608.237", "pool.lmwc": "4.38925", "pool.agg": "1888.55", "pool.mic": "8.25329",
    "pool.maom": "5588.06", "soc": "8097.49", "soc_total": "8097.49", "litter": "0", "mic": "8.25329",
    "maom": "5588.06", "pom": "608.237", "respiration": "363.473", "cue_bulk": "0.235365",
}
_N3 = {
    "pool.pom": "393.922", "pool.lmwc": "2.68770", "pool.agg": "1225.57", "pool.mic": "7.43197",
    "pool.maom": "3629.33", "soc": "5258.94", "soc_total": "5258.94", "litter": "0", "mic": "7.43197",
    "maom": "3629.33", "pom": "393.922", "respiration": "171.963", "cue_bulk": "0.345365",
}
#: leaching (365 F_le) of N1..N3 [g C m-2 yr-1], a native diagnostic rather than an output
#: by the first word of the case name
LEACHING = MappingProxyType({"N1": "1.04800", "N2": "1.52683", "N3": "0.934933"})

#: spec section 8, transcribed as printed: each value is met within rtol 1e-6 plus half a unit of
#: its last printed digit (``ReferenceCase.checks``), which is the spec's tolerance formula
REFERENCE_CASES: tuple[ReferenceCase, ...] = (
    ReferenceCase("N1 reference", dict(REFERENCE_SITE), _N1, _S8, rtol=1e-6),
    ReferenceCase("N2 high input", {**REFERENCE_SITE, "c_input": 365.0}, _N2, _S8, rtol=1e-6),
    ReferenceCase("N3 higher cue_ref", dict(REFERENCE_SITE), _N3, _S8, rtol=1e-6, parameters={"cue_ref": 0.30}),
    # spec section 5: with beta_rescale 'reference' the reference steady state is the same for every beta
    ReferenceCase("N1 at beta 1.5, beta_rescale reference", {**REFERENCE_SITE, "beta": 1.5}, _N1,
                  f"{_S8}; {SPEC} section 5", rtol=1e-6, options={"beta_rescale": "reference"}),
    # beta_rescale 'site' (a harness extension of section 5): anchored at N2, N2 is the same for every beta
    ReferenceCase("N2 at beta 1.5, beta_rescale site anchored at N2", {**REFERENCE_SITE, "c_input": 365.0, "beta": 1.5},
                  _N2, f"{_S8}; harness beta_rescale 'site' (harness/vocabulary.py)", rtol=1e-6,
                  options={"beta_rescale": "site", "anchor": {**REFERENCE_SITE, "c_input": 365.0}}),
)

#: in every column's bounds, but with beta = 1 a 2000-fold turnover exceeds the largest growth
#: CUE V_lb w_b (6.59 d-1 at N1 vs k_b = 9 d-1): no positive steady state (spec section 7, step 2)
FAILING_CASE = FailingCase(
    "beta 1 with mic_turnover_scale 2000", {**REFERENCE_SITE, "beta": 1.0, "mic_turnover_scale": 2000.0},
    f"{SPEC} section 7: beta = 1 needs CUE V_lb w_b > k_b",
)

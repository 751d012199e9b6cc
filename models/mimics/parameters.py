"""Parameter sets, variants and reference cases of MIMICS.

Source of every default and reference value: ``docs/models/mimics.md`` (sections 4 and 8), which
takes the 2015 column from ``wwieder/MIMICS`` @ 2b71740 (``MIMIC2_LIDET_GMDD_2015_public.R``) and
the sandbox column from ``piersond/MIMICS_STODE`` @ ee25766
(``Parameters/MIMICS_parameters_sandbox_20231129.R``); both were checked against that code.
Vector parameters of the public code become scalar columns numbered as there (``v_mod_1`` is
``vMOD[1]``, ``tau_r_2`` is ``tau_r[2]``).

Bounds are where the equations stay well defined (rates and scales > 0, fractions in [0, 1),
exponents of moderate size), not priors; cross-constraints (fMET in (0, 1), fAVAI >= 0, every
efficiency below 1) are checked by the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.adapter import POOL_PREFIX, FailingCase, Interval, Parameter, ReferenceCase


class ParameterSet(StrEnum):
    """Values of the option ``parameter_set``: kinetics, parameter column and turnover modifier."""

    GMD2015_FWD = "gmd2015_fwd"
    STODE_REV_NPP = "stode_rev_npp"
    STODE_REV_BETA = "stode_rev_beta"


@dataclass(frozen=True)
class Variant:
    """What a parameter set fixes besides the parameter column (spec section 4).

    ``tau_modifier`` names the method of ``equations.tau_modifier``; ``beta_must_be_one`` is
    MIMICS_STODE's ``tauMethod='NPP'``, which sets beta = 1 whatever is asked.
    """

    forward: bool
    column: str
    tau_modifier: str
    beta_default: float
    beta_must_be_one: bool


VARIANTS = {
    ParameterSet.GMD2015_FWD.value: Variant(True, "2015", "npp", 1.0, False),
    ParameterSet.STODE_REV_NPP.value: Variant(False, "sandbox", "npp_clamped", 1.0, True),
    ParameterSet.STODE_REV_BETA.value: Variant(False, "sandbox", "constant", 1.5, False),
}

#: the reference site of ``beta_rescale = 'reference'`` (spec section 5); beta is 1 there
REFERENCE_SITE = {"c_input": 500.0, "temperature": 15.0, "clay": 20.0, "lignin_n": 20.0,
                  "cue_scale": 1.0, "mic_turnover_scale": 1.0}

W2015 = "Wieder et al. (2015) Geosci. Model Dev. 8, 1789-1808, doi:10.5194/gmd-8-1789-2015"
CODE_2015 = "wwieder/MIMICS@2b71740 MIMIC2_LIDET_GMDD_2015_public.R"
CODE_SANDBOX = "piersond/MIMICS_STODE@ee25766 Parameters/MIMICS_parameters_sandbox_20231129.R"
GERMAN = "German et al. (2012) Glob. Change Biol. 18, 1468-1479, doi:10.1111/j.1365-2486.2011.02615.x"
SPEC = "docs/models/mimics.md section 4"

_OPEN_LOW = (True, False)
_OPEN = (True, True)
_OPEN_HIGH = (False, True)


def _row(name, units, default_2015, default_sandbox, interval, description, source=None):
    return (name, units, default_2015, default_sandbox, interval, description, source)


def _vector(name, units, values_2015, values_sandbox, interval, description, labels, **kw):
    """One row per element: ``description`` formatted with the element's number j and label."""
    return [
        _row(f"{name}_{j}", units, a, b, interval, description.format(j=j, label=label), **kw)
        for j, (a, b, label) in enumerate(zip(values_2015, values_sandbox, labels), start=1)
    ]


#: the flux of each V_j and K_j, and the uptakes each efficiency applies to
_FLUXES = ("LITm -> MICr", "LITs -> MICr", "SOMa -> MICr", "LITm -> MICK", "LITs -> MICK", "SOMa -> MICK")
_GROWTH = ("LITm and SOMa -> MICr", "LITs -> MICr", "LITm and SOMa -> MICK", "LITs -> MICK")

#: (name, units, 2015 default, sandbox default, interval, description, extra source)
_TABLE = [
    _row("v_slope", "degC-1", 0.063, 0.063, Interval(0.0, 0.2), "temperature slope of ln V", GERMAN),
    _row("v_int", "ln h-1", 5.47, 5.47, Interval(0.0, 10.0), "intercept of ln V", GERMAN),
    _row("a_v", "1", 8e-6, 8e-6, Interval(0.0, 1e-3, _OPEN_LOW), "tuning scalar of V"),
    *_vector("v_mod", "1", (10.0, 2.0, 10.0, 3.0, 3.0, 2.0), (10.0, 2.0, 10.0, 3.0, 3.0, 2.0),
             Interval(0.0, 100.0, _OPEN_LOW), "multiplier of V_{j} ({label})", _FLUXES),
    *_vector("k_slope", "degC-1", (0.017, 0.027, 0.017, 0.017, 0.027, 0.017),
             (0.025, 0.035, 0.025, 0.025, 0.035, 0.025), Interval(0.0, 0.1),
             "temperature slope of ln K_{j} ({label}), as in the code (Wieder et al. 2015 Table B1 "
             "differs)", _FLUXES),
    _row("k_int", "ln(mgC cm-3)", 3.19, 3.19, Interval(0.0, 10.0), "intercept of ln K"),
    _row("a_k", "1", 10.0, 10.0, Interval(0.0, 1000.0, _OPEN_LOW), "tuning scalar of K"),
    *_vector("k_mod", "1", (8.0, 2.0, 4.0, 2.0, 4.0, 6.0), (8.0, 2.0, 4.0, 2.0, 4.0, 6.0),
             Interval(0.0, 100.0, _OPEN_LOW),
             "divisor of K_{j} ({label}); those of K_3 and K_6 are multiplied by the clay scalar P", _FLUXES),
    _row("p_scalar_1", "1", 2.0, 2.0, Interval(0.0, 10.0, _OPEN_LOW),
         "a of the clay scalar P = a exp(-b sqrt(fc))"),
    _row("p_scalar_2", "1", 2.0, 2.0, Interval(0.0, 10.0), "b of the clay scalar P = a exp(-b sqrt(fc)) "
         "(the code's PHYS_scalar[2] = -2 with a + sign in the exponent)"),
    _row("ko_1", "1", 4.0, 6.0, Interval(0.0, 100.0, _OPEN_LOW), "K multiplier of SOMc oxidation by MICr"),
    _row("ko_2", "1", 4.0, 6.0, Interval(0.0, 100.0, _OPEN_LOW), "K multiplier of SOMc oxidation by MICK"),
    *_vector("mge", "1", (0.55, 0.25, 0.75, 0.35), (0.55, 0.25, 0.75, 0.35), Interval(0.0, 1.0, _OPEN),
             "growth efficiency e_{j} before cue_scale ({label})", _GROWTH),
    _row("tau_r_1", "h-1", 5.2e-4, 5.2e-4, Interval(0.0, 0.1, _OPEN_LOW),
         "tau0 of MICr turnover tau0 exp(c fMET) (units at beta = 1), "
         "before M, mic_turnover_scale and the beta rescaling"),
    _row("tau_r_2", "1", 0.3, 0.3, Interval(-10.0, 10.0), "c of MICr turnover tau0 exp(c fMET)"),
    _row("tau_k_1", "h-1", 2.4e-4, 2.4e-4, Interval(0.0, 0.1, _OPEN_LOW),
         "tau0 of MICK turnover tau0 exp(c fMET) (units at beta = 1), "
         "before M, mic_turnover_scale and the beta rescaling"),
    _row("tau_k_2", "1", 0.1, 0.1, Interval(-10.0, 10.0), "c of MICK turnover tau0 exp(c fMET)"),
    _row("f_phys_r_1", "1", 0.3, 0.3, Interval(0.0, 1.0, _OPEN_LOW),
         "a of fPHYS_r = a exp(b fc), MICr necromass to SOMp"),
    _row("f_phys_r_2", "1", 1.3, 1.3, Interval(-10.0, 10.0), "b of fPHYS_r = a exp(b fc)"),
    _row("f_phys_k_1", "1", 0.2, 0.2, Interval(0.0, 1.0, _OPEN_LOW),
         "a of fPHYS_K = a exp(b fc), MICK necromass to SOMp"),
    _row("f_phys_k_2", "1", 0.8, 0.8, Interval(-10.0, 10.0), "b of fPHYS_K = a exp(b fc)"),
    _row("f_chem_r_1", "1", 0.1, 0.1, Interval(0.0, 1.0, _OPEN_LOW),
         "a of fCHEM_r = a exp(b fMET), MICr necromass to SOMc"),
    _row("f_chem_r_2", "1", -3.0, -3.0, Interval(-10.0, 10.0), "b of fCHEM_r = a exp(b fMET)"),
    _row("f_chem_k_1", "1", 0.3, 0.3, Interval(0.0, 1.0, _OPEN_LOW),
         "a of fCHEM_K = a exp(b fMET), MICK necromass to SOMc"),
    _row("f_chem_k_2", "1", -3.0, -3.0, Interval(-10.0, 10.0), "b of fCHEM_K = a exp(b fMET)"),
    _row("desorb_1", "h-1", 1.5e-5, 1.5e-5, Interval(0.0, 0.01, _OPEN_LOW), "a of the desorption rate D = a exp(b fc), "
         "SOMp -> SOMa"),
    _row("desorb_2", "1", -1.5, -1.5, Interval(-10.0, 10.0), "b of the desorption rate D = a exp(b fc)"),
    _row("fi_1", "1", 0.05, 0.05, Interval(0.0, 1.0, _OPEN_HIGH),
         "share of metabolic input going straight to SOMp"),
    _row("fi_2", "1", 0.05, 0.05, Interval(0.0, 1.0, _OPEN_HIGH),
         "share of structural input going straight to SOMc"),
    _row("fmet_p_1", "1", 1.0, 1.0, Interval(0.0, 2.0, _OPEN_LOW), "p1 of fMET = p1 (p2 - p3 lignin_n) (DAYCENT)"),
    _row("fmet_p_2", "1", 0.85, 0.85, Interval(0.0, 1.0, _OPEN_LOW), "p2 of fMET = p1 (p2 - p3 lignin_n)"),
    _row("fmet_p_3", "1", 0.013, 0.013, Interval(0.0, 0.1), "p3 of fMET = p1 (p2 - p3 lignin_n)"),
    _row("depth", "cm", 30.0, 30.0, Interval(0.0, 100.0, _OPEN_LOW),
         "layer depth: I = c_input/(8760 h yr-1 x 10 depth) and pools reported x 10 depth"),
]


def _parameters(column: str) -> tuple[Parameter, ...]:
    code = CODE_2015 if column == "2015" else CODE_SANDBOX
    out = []
    for name, units, d2015, dsandbox, interval, description, source in _TABLE:
        reference = "; ".join(s for s in (source, W2015, code, SPEC) if s)
        default = d2015 if column == "2015" else dsandbox
        out.append(Parameter(name, units, default, interval, description, reference))
    return tuple(out)


#: parameter tuple of each parameter set (immutable)
PARAMETERS: dict[str, tuple[Parameter, ...]] = {name: _parameters(v.column) for name, v in VARIANTS.items()}


def _case(name, options, drivers, pools, litter, mic, soc, soc_total):
    expected = {POOL_PREFIX + n: v for n, v in pools.items()}
    expected.update(maom=pools["som_p"], pom=pools["som_c"], litter=litter, mic=mic, soc=soc,
                    soc_total=soc_total, respiration=float(drivers["c_input"]))
    return ReferenceCase(name, drivers, expected, "docs/models/mimics.md section 8 (steady states of the "
                         "published R code, beta_rescale none)", rtol=1e-6, options=options)


def _pools(*values):
    return dict(zip(("lit_m", "lit_s", "mic_r", "mic_k", "som_p", "som_c", "som_a"), values))


_SITE = {"c_input": 500.0, "temperature": 15.0, "clay": 20.0, "lignin_n": 20.0, "cue_scale": 1.0}

#: spec section 8, transcribed as printed: each value is met within rtol 1e-6 plus half a unit of
#: its last printed digit (``ReferenceCase.checks``); respiration equals c_input exactly
REFERENCE_CASES: tuple[ReferenceCase, ...] = (
    _case("M1", {"parameter_set": "gmd2015_fwd"},
          {"c_input": 100.0, "temperature": 0.0, "clay": 5.0, "lignin_n": 5.0, "cue_scale": 1.0, "beta": 1.0},
          _pools("226.086", "743.135", "18.1766", "4.25795", "323.915", "332.819", "546.482"),
          "969.221", "22.4345", "1225.65", "2194.87"),
    _case("M2", {"parameter_set": "gmd2015_fwd"}, {**_SITE, "cue_scale": 0.6, "beta": 1.0},
          _pools("585.819", "2564.40", "12.7594", "13.2207", "930.532", "796.590", "1027.26"),
          "3150.22", "25.9801", "2780.36", "5930.58"),
    _case("M3", {"parameter_set": "stode_rev_npp"},
          {"c_input": 300.0, "temperature": 10.0, "clay": 20.0, "lignin_n": 15.0, "cue_scale": 1.0, "beta": 1.0},
          _pools("327.917", "1239.72", "20.2068", "15.1480", "1372.39", "935.751", "1352.84"),
          "1567.64", "35.3548", "3696.33", "5263.97"),
    _case("M4", {"parameter_set": "stode_rev_beta"}, {**_SITE, "beta": 1.0},
          _pools("213.255", "890.743", "37.7954", "39.8783", "2223.16", "722.157", "935.253"),
          "1104.00", "77.6737", "3958.24", "5062.24"),
    _case("M5", {"parameter_set": "stode_rev_beta"}, {**_SITE, "beta": 1.5},
          _pools("107.160", "459.137", "75.6337", "76.7020", "2219.25", "368.866", "470.131"),
          "566.297", "152.336", "3210.58", "3776.88"),
)

#: within every column's bounds, but at 95 % clay fPHYS_r = 0.3 exp(1.3 x 0.95) = 1.03 > 1, so
#: fAVAI_r < 0 (spec section 7: reject)
FAILING_CASE = FailingCase(
    "clay 95 %: fAVAI_r < 0", {**_SITE, "clay": 95.0}, "docs/models/mimics.md section 7: reject any fAVAI < 0",
)

"""Parameters and reference cases of the Tao et al. (2023) microbial-enzyme model.

Source of every default, bound and reference value: ``docs/models/tao_enzyme.md`` (sections (d)
and (h)). Bounds are the uniform (tau_enz: log-uniform) priors of the published v22 code
(phxtao/PRODA_MIC ``SRC_DA/src_cesm2_clm5_mic_vr_v22/matrix_fun.m``), opened at 0 where 0 is
invalid (tau_l1, tau_mic, tau_soc: a rate 1/0). Kinetic constants are volumetric, in the
internal units g C m-3 and yr.
"""

from __future__ import annotations

from harness.adapter import FailingCase, Interval, Parameter, ReferenceCase

TAO = "Tao et al. (2023) Nature 618, 981-985, doi:10.1038/s41586-023-06042-3"
V22 = f"{TAO}; prior of the v22 code (phxtao/PRODA_MIC matrix_fun.m)"
CLM5 = "Lawrence et al. (2019) JAMES 11, 4245-4287, doi:10.1029/2018MS001583; CLM5 Technical Note"
SPEC = "docs/models/tao_enzyme.md"

_OPEN_LOW = (True, False)
_NAN = float("nan")


def _tau(name: str, default: float, interval: Interval, what: str, note: str = "") -> Parameter:
    return Parameter(name, "yr", default, interval, f"{what} at xi = 1{note}", V22)


def _share(name: str, default: float, interval: Interval, what: str) -> Parameter:
    return Parameter(name, "1", default, interval, what, V22)


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("layer_depth_m", "m", 0.3, Interval(0.0, 8.6, _OPEN_LOW), "thickness h of the single layer: "
              "volumetric state x h = reported g C m-2 (the published 20 layers span 0-8.6 m)", f"{SPEC} (b)"),
    _tau("tau_cwd", 3.33, Interval(1.0, 6.0), "CWD fragmentation time"),
    _tau("tau_l1", 0.05, Interval(0.0, 0.1, _OPEN_LOW), "metabolic litter (L1) turnover time"),
    _tau("tau_l2", 0.2, Interval(0.1, 0.3), "cellulose and lignin litter (L2 = L3) turnover time"),
    _tau("tau_doc", 0.011, Interval(0.001, 0.03), "1/(maximum DOC uptake per unit MIC)"),
    _tau("tau_mic", 0.2, Interval(0.0, 2.0, _OPEN_LOW), "microbial mortality time (before mic_turnover_scale)"),
    _tau("tau_enzprod", 22.0, Interval(15.0, 30.0), "time of enzyme production, MIC -> ENZ"),
    _tau("tau_enz", 0.05, Interval(0.001, 1.0), "enzyme decay time",
         " (log-uniform prior; ignored with couple_tau_enz_to_ka)"),
    _tau("tau_soc", 1e-4, Interval(0.0, 3e-4, _OPEN_LOW), "1/(maximum SOC loss per unit ENZ)"),
    Parameter("km_doc", "g C m-3", 400.0, Interval(300.0, 3000.0), "half-saturation K_a of DOC uptake "
              "(volumetric; times xi with km_scale_with_xi)", V22),
    Parameter("km_soc", "g C m-3", 5e5, Interval(1e5, 1e6), "half-saturation K_d of depolymerisation "
              "(volumetric; times xi with km_scale_with_xi)", V22),
    _share("f_cwdl2", 0.75, Interval(0.5, 1.0), "fraction of CWD fragmentation entering L2 (rest L3)"),
    _share("p_l1", 0.05, Interval(0.0, 0.1), "fraction of L1 decomposition entering DOC (rest to MIC uptake)"),
    _share("p_l2", 0.175, Interval(0.05, 0.3), "fraction of L2 decomposition entering DOC"),
    _share("p_l3", 0.775, Interval(0.6, 0.95), "fraction of L3 decomposition entering SOC directly"),
    _share("eps_l1", 0.65, Interval(0.4, 0.9), "efficiency of microbial growth on L1 (before cue_scale)"),
    # 0 is admissible (prior 0-0.4): all carbon taken up from L2, L3 is then respired
    _share("eps_l23", 0.2, Interval(0.0, 0.4), "efficiency of microbial growth on L2, L3 (before cue_scale)"),
    _share("cue", 0.35, Interval(0.01, 0.7), "microbial CUE of DOC uptake, mic_cue (before cue_scale)"),
    _share("p_death_soc", 0.5, Interval(0.0, 1.0), "fraction of microbial necromass entering SOC (rest DOC)"),
    Parameter("q10", "1", 1.5, Interval(1.2, 3.0), "Q10 of every rate, reference 25 degC", V22),
    Parameter("w_scaling", "1", 1.0, Interval(0.0, 5.0, _OPEN_LOW),
              "multiplier on the water scalar, product capped at 1", V22),
    Parameter("psi_min", "MPa", -2.5, Interval(-10.0, -0.5), "water potential of no decomposition (CLM5 -2.5; "
              "the v22 code sets -2 but uses CESM2's W_SCALAR)", f"{CLM5}; {SPEC} (e)"),
    Parameter("psi_max", "MPa", -0.002, Interval(-0.1, 0.0, (False, True)),
              "water potential of unlimited decomposition", f"{CLM5}; {SPEC} (e)"),
    Parameter("xi_depth", "1", 1.0, Interval(0.0, 1.0, _OPEN_LOW), "depth scalar of the layer (layered code: "
              "exp(-z/0.5 m))", f"{SPEC} (c); {TAO}"),
    Parameter("xi_fixed", "1", _NAN, Interval(0.0, 5.0, _OPEN_LOW), "overrides xi = xi_T xi_W xi_depth when set "
              "(NaN: unset)", f"{SPEC} (c)", optional=True),
    Parameter("psi_mpa", "MPa", _NAN, Interval(-100.0, 0.0, (False, True)), "soil water potential overriding "
              "the moisture -> psi conversion when set (NaN: unset)", f"{SPEC} (e); {CLM5}", optional=True),
    Parameter("f_cwd", "1", 0.0, Interval(0.0, 1.0), "share of c_input entering CWD", f"{SPEC} (d)"),
    Parameter("f_l1", "1", 0.25, Interval(0.0, 1.0), "share of c_input entering metabolic litter L1",
              f"{SPEC} (d)"),
    Parameter("f_l2", "1", 0.5, Interval(0.0, 1.0), "share of c_input entering cellulose litter L2",
              f"{SPEC} (d)"),
    Parameter("f_l3", "1", 0.25, Interval(0.0, 1.0), "share of c_input entering lignin litter L3", f"{SPEC} (d)"),
)

_H = f"{SPEC} (h)"
_R1 = {"c_input": 300.0}
_XI = {"xi_fixed": 0.3}
#: spec (h) R7: every normalised v22 parameter at 0.5 (K_a 1650 -> tau_enz 10**-1.5 yr)
MID_PRIOR = {
    **_XI, "tau_cwd": 3.5, "tau_l1": 0.05, "tau_l2": 0.2, "tau_doc": 0.0155, "tau_mic": 1.0,
    "tau_enzprod": 22.5, "km_doc": 1650.0, "tau_soc": 1.5e-4, "km_soc": 5.5e5, "f_cwdl2": 0.75,
    "p_l1": 0.05, "p_l2": 0.175, "p_l3": 0.775, "eps_l1": 0.65, "eps_l23": 0.2, "cue": 0.355,
    "p_death_soc": 0.5,
}


def _r3(tau_enz: float, tau_mic: float, soc_pool: str, mic: str, soc: str) -> ReferenceCase:
    return ReferenceCase(
        f"R3 tau_enz {tau_enz:g} yr, tau_mic {tau_mic:g} yr", _R1,
        {"pool.soc_pool": soc_pool, "mic": mic, "soc": soc}, f"{_H} R3", rtol=1e-4,
        parameters={**_XI, "tau_enz": tau_enz, "tau_mic": tau_mic},
    )


#: values transcribed as printed in the spec (spaces between digit groups dropped): each is met
#: within rtol 1e-4 plus half a unit of its last printed digit (``ReferenceCase.checks``)
REFERENCE_CASES: tuple[ReferenceCase, ...] = (
    ReferenceCase("R1 base", _R1, {
        "pool.cwd": "0", "pool.l1": "12.5", "pool.l2": "100.0", "pool.l3": "50.0",
        "pool.doc": "3.37423", "pool.mic": "107.0080", "pool.enz": "0.243200",
        "pool.soc_pool": "10532.72", "soc": "10643.35", "litter": "162.5", "soc_total": "10805.85",
        "mic": "107.0080", "respiration": "300.000", "cue_bulk": "0.350609",
    }, f"{_H} R1", rtol=1e-4, parameters=_XI),
    ReferenceCase("R6 xi_fixed 0.15", _R1, {"pool.soc_pool": "5266.36", "mic": "214.016"},
                  f"{_H} R6", rtol=1e-4, parameters={"xi_fixed": 0.15}),
    ReferenceCase("R6 xi_fixed 0.6", _R1, {"pool.soc_pool": "21065.45", "mic": "53.504"},
                  f"{_H} R6", rtol=1e-4, parameters={"xi_fixed": 0.6}),
    _r3(0.5, 0.2, "870.0", "107.01", "982.8"),
    _r3(0.05, 1.5, "1197.0", "758.16", "1957.3"),
    _r3(0.5, 1.5, "116.9", "758.16", "892.7"),
    ReferenceCase("R4 beta_enz 1.5 with beta_rescale none", {**_R1, "beta_enz": 1.5},
                  {"pool.soc_pool": "520.98"}, f"{_H} R4", rtol=1e-4, parameters=_XI,
                  options={"beta_rescale": "none"}),
    ReferenceCase("R7 mid-prior set, tau_enz coupled to K_a", _R1, {"soc": "5596.70"}, f"{_H} R7",
                  rtol=1e-4, parameters=MID_PRIOR, options={"couple_tau_enz_to_ka": True}),
)

#: in every column's bounds, but the shortest enzyme lifetime of the prior leaves c = 48.6 < a =
#: 461 g C m-3 yr-1: enzymes cannot depolymerise what reaches SOC, so no steady state exists
FAILING_CASE = FailingCase(
    "tau_enz 0.001 yr: no steady state (c <= a)", _R1, f"{_H}; {SPEC} (g): reject c <= a",
    parameters={**_XI, "tau_enz": 0.001},
)

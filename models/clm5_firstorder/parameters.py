"""Parameters and reference cases of the CLM5 first-order cascade.

Source of every default, bound and reference value: ``docs/models/clm5_firstorder.md``
(sections (d) and (h)). Bounds are the PRODA uniform priors (Tao et al. 2023) where the spec gives
one, widened to contain the CLM5 default; strictly positive quantities have an open lower bound.
"""

from __future__ import annotations

from harness.adapter import FailingCase, Interval, Parameter, ReferenceCase

CLM5 = "Lawrence et al. (2019) JAMES 11, 4245-4287, doi:10.1029/2018MS001583; CLM5 Technical Note"
KOVEN = "Koven et al. (2013) Biogeosciences 10, 7109-7131, doi:10.5194/bg-10-7109-2013"
PARTON = "Parton et al. (1988) Biogeochemistry 5, 109-131, doi:10.1007/BF02180320"
PRODA = "prior of Tao et al. (2023) Nature 618, 981-985, doi:10.1038/s41586-023-06042-3"
SPEC = "docs/models/clm5_firstorder.md"

_OPEN_LOW = (True, False)
_PFT = f"{CLM5} (PFT table)"


def _tau(name: str, default: float, interval: Interval, what: str) -> Parameter:
    return Parameter(
        name, "yr", default, interval, f"base turnover time of {what} at xi = 1",
        f"{KOVEN} (CLM5-era code); bounds: {PRODA}",
    )


def _transfer(name: str, default: float, interval: Interval, step: str, optional: bool = False) -> Parameter:
    return Parameter(
        name, "1", default, interval,
        f"fraction of {step} decomposition reaching the receiver, (1 - rf) pathfrac, before cue_scale",
        f"{CLM5}; {PARTON}; bounds: {PRODA}", optional=optional,
    )


PARAMETERS: tuple[Parameter, ...] = (
    _tau("tau_cwd", 1 / 0.3, Interval(1.0, 6.0, _OPEN_LOW), "coarse woody debris (fragmentation)"),
    _tau("tau_l1", 1 / 18.5, Interval(0.0, 0.11, _OPEN_LOW), "metabolic litter L1"),
    _tau("tau_l2_l3", 1 / 4.9, Interval(0.1, 0.3, _OPEN_LOW), "cellulose and lignin litter L2, L3"),
    _tau("tau_s1", 1 / 7.3, Interval(0.0, 1.0, _OPEN_LOW), "active SOM S1"),
    _tau("tau_s2", 5.0, Interval(1.0, 50.0, _OPEN_LOW), "slow SOM S2"),
    _tau("tau_s3", 1 / 0.0045, Interval(200.0, 1000.0, _OPEN_LOW), "passive SOM S3"),
    _transfer("f_l1s1", 0.45, Interval(0.1, 0.8), "L1 -> S1"),
    _transfer("f_l2s1", 0.50, Interval(0.2, 0.8), "L2 -> S1"),
    _transfer("f_l3s2", 0.50, Interval(0.2, 0.8), "L3 -> S2"),
    # Unset (NaN): CLM's texture rule 1 - t(sand) - f_s1s3. The PRODA prior [0, 0.4] cannot hold
    # the CLM value (0.146 .. 0.826 over sand 0 .. 100 %), so the bounds are widened to [0, 1].
    _transfer("f_s1s2", float("nan"), Interval(0.0, 1.0), "S1 -> S2 (NaN: 1 - t(sand) - f_s1s3)", optional=True),
    _transfer("f_s1s3", 0.004, Interval(0.0, 0.05), "S1 -> S3"),
    _transfer("f_s2s1", 0.42, Interval(0.1, 0.74), "S2 -> S1"),
    _transfer("f_s2s3", 0.03, Interval(0.0, 0.1), "S2 -> S3"),
    # S3's only exit to the system: 0 would make S3 respire all it receives (spec (g): every
    # retained fraction in (0, 1)), so the PRODA prior [0, 0.9] is opened at 0
    _transfer("f_s3s1", 0.45, Interval(0.0, 0.9, _OPEN_LOW), "S3 -> S1"),
    Parameter("cwd_fcel", "1", 0.76, Interval(0.5, 1.0), "fraction of CWD fragmentation entering L2 (rest L3)",
              f"{CLM5}; bounds: {PRODA}"),
    Parameter("q10", "1", 1.5, Interval(1.2, 3.0), "Q10 of decomposition above 0 degC (reference 25 degC)",
              f"{KOVEN}; bounds: {PRODA}"),
    Parameter("q10_froz", "1", 1.5, Interval(1.2, 3.0), "Q10 of decomposition below 0 degC",
              f"{KOVEN}; bounds: {PRODA}"),
    Parameter("psi_min", "MPa", -2.5, Interval(-10.0, -0.5), "water potential of no decomposition "
              "(CLM5 -2.5, CLM4.5 -10, PRODA -2)", f"{CLM5}; {SPEC} (d)"),
    Parameter("psi_max", "MPa", -0.002, Interval(-0.1, 0.0, (False, True)),
              "water potential of unlimited decomposition", f"{CLM5}; {SPEC} (d)"),
    Parameter("w_scaling", "1", 1.0, Interval(0.0, 5.0, _OPEN_LOW), "multiplier on r_W, product capped at 1",
              f"{PRODA}"),
    Parameter("f_wood", "1", 0.0, Interval(0.0, 1.0), "fraction of c_input entering CWD", CLM5),
    Parameter("f_lab", "1", 0.25, Interval(0.0, 1.0), "labile (L1) share of non-woody input", _PFT),
    Parameter("f_cel", "1", 0.50, Interval(0.0, 1.0), "cellulose (L2) share of non-woody input", _PFT),
    Parameter("f_lig", "1", 0.25, Interval(0.0, 1.0), "lignin (L3) share of non-woody input", _PFT),
    Parameter("xi_fixed", "1", float("nan"), Interval(0.0, 5.0, _OPEN_LOW),
              "overrides xi = r_T r_W when set (NaN: unset)", f"{SPEC} (d); {CLM5}", optional=True),
    Parameter("psi_mpa", "MPa", float("nan"), Interval(-100.0, 0.0, (False, True)), "soil water potential "
              "overriding the moisture -> psi conversion when set (NaN: unset)", f"{SPEC} (c); {CLM5}",
              optional=True),
)


_EXAMPLE = {"c_input": 500.0, "sand": 40.0, "temperature": 10.0}
_PSI = {"psi_mpa": -0.05}
_H = f"{SPEC} (h)"

#: values transcribed as printed in the spec: each is met within rtol 1e-5 plus half a unit of its
#: last printed digit (``ReferenceCase.checks``); a printed 0 must match exactly
REFERENCE_CASES: tuple[ReferenceCase, ...] = (
    ReferenceCase("example T=10 degC, psi=-0.05 MPa", _EXAMPLE, {
        "pool.cwd": "0", "pool.l1": "27.573", "pool.l2": "208.207", "pool.l3": "104.103",
        "pool.s1": "153.644", "pool.s2": "4382.103", "pool.s3": "6839.783", "soc": "11375.53",
        "litter": "339.883", "soc_total": "11715.41", "respiration": "500.000",
        "cue_bulk": "0.498572",
    }, _H, rtol=1e-5, parameters=_PSI),
    ReferenceCase("xi = N: T=25 degC, moisture absent", {**_EXAMPLE, "temperature": 25.0},
                  {"soc": "3396.97"}, _H, rtol=1e-5),
    ReferenceCase("example at 0 % sand", {**_EXAMPLE, "sand": 0.0}, {"soc": "17137.62"}, _H,
                  rtol=1e-5, parameters=_PSI),
    # clay 0: clay + sand must not exceed 100 %; clay enters only theta -> psi, unused with psi_mpa set
    ReferenceCase("example at 100 % sand", {**_EXAMPLE, "sand": 100.0, "clay": 0.0}, {"soc": "5457.60"}, _H,
                  rtol=1e-5, parameters=_PSI),
)

#: in every column's bounds, but cue_scale 1.3 takes S1's retained fraction at 0 % sand to 1.079
FAILING_CASE = FailingCase(
    "cue_scale 1.3 at 0 % sand", {**_EXAMPLE, "sand": 0.0, "cue_scale": 1.3},
    f"{SPEC} (e): reject cue_scale with s (1 - t) >= 1 (s < 1.205 at 0 % sand)",
)

"""The shared vocabulary: common drivers, harmonised outputs and pool kinds.

Scenario files and reports speak these names; each adapter maps them to its own parameters.
Source: ``docs/science.md`` (shared driver and output vocabulary). Also the one home of names
and defaults that the scenario schema checks and lower layers act on (priors, samplers, chunk
size), since ``harness.spec.schema`` imports nothing above this module.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

#: driver name -> (units, meaning)
DRIVERS = MappingProxyType(
    {
        "c_input": ("g C m-2 yr-1", "total plant carbon input to the soil (NPP proxy)"),
        "cue_scale": ("1", "multiplier on all microbial carbon-use/growth efficiencies"),
        "temperature": ("degC", "soil temperature (MAT proxy)"),
        "moisture": ("m3 m-3", "volumetric soil water"),
        "clay": ("%", "clay content"),
        "silt": ("%", "silt content"),
        "sand": ("%", "sand content"),
        "lignin_n": ("1", "litter lignin:N"),
        "ph": ("1", "soil pH"),
        "beta": ("1", "microbial turnover exponent: turnover = k * MIC**beta"),
        "beta_enz": ("1", "enzyme production exponent: production = p * MIC**beta_enz"),
        "mic_turnover_scale": ("1", "multiplier on microbial turnover rate constants"),
    }
)

#: output name -> (units, meaning)
OUTPUTS = MappingProxyType(
    {
        "soc": ("g C m-2", "all soil pools except plant litter"),
        "soc_total": ("g C m-2", "soc + litter"),
        "litter": ("g C m-2", "plant litter pools"),
        "mic": ("g C m-2", "microbial biomass"),
        "maom": ("g C m-2", "mineral-associated organic matter"),
        "pom": ("g C m-2", "particulate organic matter"),
        "respiration": ("g C m-2 yr-1", "heterotrophic respiration"),
        "cue_bulk": ("1", "flux-weighted microbial CUE (growth / uptake)"),
    }
)

#: output name -> (lower, upper) physically plausible values [output units]. A steady state outside
#: them is not a soil (``Status.IMPLAUSIBLE``): 1e7 g C m-2 is ten times the carbon of the deepest
#: peat column, 1e6 g C m-2 yr-1 a hundred times the largest terrestrial NPP, and a bulk CUE is a
#: fraction of the carbon taken up. Scenario-level bounds (``sobol.plausible``) screen far tighter.
PLAUSIBLE_OUTPUTS = MappingProxyType(
    {
        **{name: (0.0, 1e7) for name in ("soc", "soc_total", "litter", "mic", "maom", "pom")},
        "respiration": (0.0, 1e6),
        "cue_bulk": (0.0, 1.0),
    }
)

#: Kinds a native pool may declare. Every kind except ``litter`` counts towards ``soc``.
POOL_KINDS = frozenset({"litter", "mic", "maom", "pom", "som", "doc", "enz", "agg"})

#: Pool kinds that feed the harmonised output of the same name.
KIND_OUTPUTS = ("litter", "mic", "maom", "pom")

#: Fluxes every adapter's ``tendencies`` returns [g C m-2 yr-1].
REQUIRED_FLUXES = ("uptake", "growth", "respiration", "leaching")

#: Fluxes that carry carbon out of the soil [g C m-2 yr-1]: at a steady state they sum to the
#: input ``c_input`` (an adapter with a further loss, e.g. erosion, declares it in ``loss_fluxes``).
LOSS_FLUXES = ("respiration", "leaching")

#: Largest turnover exponent ``beta`` and enzyme-production exponent ``beta_enz`` a built-in model
#: admits [1]: the papers, scenarios and priors use 0.5-3 (He et al. 2024: 1-2; calibrate_lter.yaml:
#: uniform 1-3), so 10 excludes no published structure.
EXPONENT_MAX = 10.0
#: The pH scale [1], the bounds of the driver ``ph``.
PH_RANGE = (0.0, 14.0)

#: virtual "measurements" (kind regression) -> the driver whose Sobol index they are set beside
PREDICTOR_DRIVERS = MappingProxyType({"cue": "cue_scale", "npp": "c_input"})

POOL_PREFIX = "pool."
PARAM_PREFIX = "param."
#: calibration: a prior on ``<driver>_multiplier`` scales a driver read from the observation table
MULTIPLIER_SUFFIX = "_multiplier"
#: calibration: the standard deviation of the observation error
SIGMA = "sigma"
#: calibration: prior distribution -> its parameters, both named as in PyMC (``pymc.<Class>(name, **parameters)``)
PRIOR_PARAMETERS = MappingProxyType(
    {
        "uniform": ("lower", "upper"),
        "normal": ("mu", "sigma"),
        "truncated_normal": ("mu", "sigma", "lower", "upper"),
        "lognormal": ("mu", "sigma"),
        "halfnormal": ("sigma",),
    }
)
#: calibration: the samplers (``calibrate.sampler.name``), the default first; NUTS uses the gradient by the implicit function theorem
SAMPLERS = ("NUTS", "DEMetropolisZ", "SMC")
#: NUTS's mass matrix (``calibrate.sampler.mass_matrix``), the default first: adapted from the tuning
#: draws' variances (diagonal) or their covariance (full, for correlated posteriors)
MASS_MATRICES = ("diagonal", "full")
#: rows per chunk of steady states (``executor.chunk_rows``): solved, stored and resumed as one
CHUNK_ROWS = 8192


class BetaRescale(StrEnum):
    """The shared ``beta_rescale`` option: how turnover constants follow the exponent beta.

    ``none``: constants as published (their units change with beta); ``reference``:
    k' = k * MIC_ref**(beta0 - beta), MIC_ref being the steady state of the same parameter row at
    beta0 at the model's own, fixed reference site (a different site for each model), so that site
    keeps its pools at every beta; ``site``: the same formula with MIC_site, the steady state at
    beta0 at an anchor site given to the adapter (option ``anchor``: the scenario's baseline
    drivers), so every beta variant has the pools of beta0 at that one shared operating point.
    Where a model has ``beta_enz``, its constant is rescaled alike (reference value 1).
    """

    NONE = "none"
    REFERENCE = "reference"
    SITE = "site"

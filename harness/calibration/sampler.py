"""PyMC glue: the steady-state likelihood as a PyTensor Op, priors, and one chain per task.

PyMC and PyTensor are imported inside functions (the ``calibration`` extra). The likelihood's
gradient comes from the steady state's sensitivities by the implicit function theorem
(``harness.sensitivity``), so NUTS (default) samples it; DEMetropolisZ (each chain proposes from
differences of its own past states) and SMC stay available and never ask for a gradient. Chains
are independent tasks, so they run on the harness's executors and their seeds depend only on the
scenario.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..adapter import Status
from ..errors import HarnessError
from ..vocabulary import MASS_MATRICES, SAMPLERS
from .priors import pymc_prior, scipy_prior
from .target import Target

#: draws from the prior tried for a chain's start before giving up
START_TRIES = 200
#: likelihood values remembered per chain (the current state and the last proposals)
RECENT = 4
#: samplers that use the likelihood's gradient
GRADIENT_SAMPLERS = ("NUTS",)


def require_pymc() -> Any:
    """The ``pymc`` module, or a clear error saying how to install it."""
    try:
        import pymc
    except ImportError as exc:
        raise HarnessError('the calibrate kind needs PyMC, the optional extra "calibration": '
                           'pip install -e ".[calibration]" in the soilbench folder') from exc
    return pymc


@dataclass
class ChainResult:
    """One chain: draws per quantity, acceptance, divergences, and how many likelihood calls failed."""

    draws: dict[str, np.ndarray]
    accepted: float  # share of accepted proposals after tuning [1]; NaN for SMC
    divergent: int | None = None  # NUTS's divergent transitions after tuning; None for other samplers
    divergent_at_failure: int | None = None  # those whose trajectory reached a failed steady state
    evaluations: int = 0  # likelihood calls, tuning included
    failed: int = 0  # calls with a failed steady state at some site (zero likelihood)
    statuses: dict[str, int] = field(default_factory=dict)  # failed sites by status label


class _Counter:
    """Likelihood calls and failures of one chain."""

    def __init__(self) -> None:
        self.evaluations = 0
        self.failed = 0
        self.statuses: dict[str, int] = {}

    def record(self, status: np.ndarray) -> None:
        self.evaluations += 1
        bad = status[status != Status.OK]
        if bad.size:
            self.failed += 1
            for code in bad:
                label = Status(int(code)).label
                self.statuses[label] = self.statuses.get(label, 0) + 1


class _Cache:
    """The likelihood (and, when asked, its gradient) at the last few points of one chain.

    Metropolis steps evaluate the current point again, and NUTS asks for the value and the gradient
    at the same point through two Ops: each point is solved once.
    """

    def __init__(self, target: Target, counter: _Counter, gradients: bool) -> None:
        self.target, self.counter, self.gradients = target, counter, gradients
        self.recent: dict[bytes, tuple[float, np.ndarray | None]] = {}

    def value(self, x: np.ndarray) -> float:
        key = x.tobytes()
        if key not in self.recent:
            if self.gradients:  # the gradient will be asked for at this point next
                return float(self._evaluate_with_gradient(key, x)[0])
            value, status = self.target.loglike(x)
            self._remember(key, value, None, status)
        return self.recent[key][0]

    def gradient(self, x: np.ndarray) -> np.ndarray:
        key = x.tobytes()
        cached = self.recent.get(key)
        if cached is not None and cached[1] is not None:
            return cached[1]
        return self._evaluate_with_gradient(key, x, counted=cached is not None)[1]

    def _evaluate_with_gradient(self, key: bytes, x: np.ndarray, counted: bool = False) -> tuple[float, np.ndarray]:
        value, gradient, status = self.target.loglike_and_gradient(x)
        self._remember(key, value, gradient, status, counted)
        return value, gradient

    def _remember(self, key: bytes, value: float, gradient: np.ndarray | None, status: np.ndarray,
                  counted: bool = False) -> None:
        if not counted:
            self.counter.record(status)
        self.recent.pop(key, None)
        if len(self.recent) >= RECENT:
            self.recent.pop(next(iter(self.recent)))
        self.recent[key] = (value, gradient)


def _loglike_op(target: Target, counter: _Counter, gradients: bool) -> Any:
    """A PyTensor Op: vector of calibrated quantities -> scalar log-likelihood, with its gradient.

    ``gradients``: whether the sampler uses them (then each point is solved with its sensitivities).
    """
    import pytensor.tensor as pt
    from pytensor.graph.op import Op

    cache = _Cache(target, counter, gradients)

    class SteadyStateLogLikeGrad(Op):
        itypes = [pt.dvector]
        otypes = [pt.dvector]

        def perform(self, node, inputs, outputs):  # noqa: ARG002 (PyTensor's signature)
            outputs[0][0] = np.asarray(cache.gradient(np.asarray(inputs[0], dtype=float)))

    gradient_op = SteadyStateLogLikeGrad()

    class SteadyStateLogLike(Op):
        itypes = [pt.dvector]
        otypes = [pt.dscalar]

        def perform(self, node, inputs, outputs):  # noqa: ARG002 (PyTensor's signature)
            outputs[0][0] = np.asarray(cache.value(np.asarray(inputs[0], dtype=float)))

        def grad(self, inputs, output_gradients):
            return [output_gradients[0] * gradient_op(inputs[0])]

    return SteadyStateLogLike()


def start_point(target: Target, priors: tuple, seed: int) -> dict[str, float]:
    """A draw from the prior with a finite likelihood (chains start dispersed, for R-hat)."""
    rng = np.random.default_rng(seed)
    for _ in range(START_TRIES):
        draw = np.array([scipy_prior(p.dist, p.args).rvs(random_state=rng) for p in priors])
        if np.isfinite(target.loglike(draw)[0]):
            return {p.name: float(v) for p, v in zip(priors, draw)}
    raise HarnessError(f"{target.member.label}: none of {START_TRIES} prior draws has a steady state at "
                       "every observation; check the priors and the observation table")


def _sample_demetropolisz(pm: Any, target: Target, priors: tuple, draws: int, tune: int, seed: int,
                          common: dict[str, Any], nuts: dict[str, Any]) -> tuple[Any, float]:  # noqa: ARG001
    idata = pm.sample(draws=draws, tune=tune, step=pm.DEMetropolisZ(), chains=1, cores=1,
                      initvals=start_point(target, priors, seed), discard_tuned_samples=True, **common)
    return idata, float(np.mean(idata.sample_stats["accepted"].values))


def _sample_nuts(pm: Any, target: Target, priors: tuple, draws: int, tune: int, seed: int,
                 common: dict[str, Any], nuts: dict[str, Any]) -> tuple[Any, float]:
    start = start_point(target, priors, seed)
    if nuts["mass_matrix"] == "full":
        with warnings.catch_warnings():  # PyMC labels the dense adaptation experimental; docs/scenarios.md says so
            warnings.filterwarnings("ignore", "QuadPotentialFullAdapt is an experimental feature")
            _, step = pm.init_nuts(init="adapt_full", chains=1, initvals=start, random_seed=seed, tune=tune,
                                   progressbar=False, quiet=True, target_accept=nuts["target_accept"])
    else:
        step = pm.NUTS(target_accept=nuts["target_accept"])
    idata = pm.sample(draws=draws, tune=tune, step=step, chains=1, cores=1, initvals=start,
                      discard_tuned_samples=True, **common)
    return idata, float(np.mean(idata.sample_stats["acceptance_rate"].values))


def _sample_smc(pm: Any, target: Target, priors: tuple, draws: int, tune: int, seed: int,  # noqa: ARG001
                common: dict[str, Any], nuts: dict[str, Any]) -> tuple[Any, float]:  # noqa: ARG001
    return pm.sample_smc(draws=draws, chains=1, cores=1, **common), float("nan")


#: sampler name (``vocabulary.SAMPLERS``) -> how it samples one chain: (inference data, acceptance)
_SAMPLE = {"NUTS": _sample_nuts, "DEMetropolisZ": _sample_demetropolisz, "SMC": _sample_smc}
if set(_SAMPLE) != set(SAMPLERS):
    raise RuntimeError(f"harness.calibration.sampler runs {list(_SAMPLE)}; the vocabulary's samplers are "
                       f"{list(SAMPLERS)}")


def run_chain(target: Target, priors: tuple, sampler: str, draws: int, tune: int, seed: int,
              target_accept: float = 0.8, mass_matrix: str = MASS_MATRICES[0]) -> ChainResult:
    """Sample one chain (a picklable task for the executors); ``target_accept`` [1] and ``mass_matrix`` are NUTS's."""
    pm = require_pymc()
    import pytensor.tensor as pt

    counter = _Counter()
    logging.getLogger("pymc").setLevel(logging.WARNING)  # one chain per task: PyMC's chatter is noise
    with pm.Model(), warnings.catch_warnings():
        # DEMetropolisZ stores exp(log acceptance ratio), which overflows for very good proposals
        warnings.filterwarnings("ignore", "overflow encountered in exp", RuntimeWarning)
        # a divergent NUTS trajectory overflows in the mass matrix's products; divergences are counted
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"pymc\.step_methods\.hmc")
        quantities = [pymc_prior(pm, p) for p in priors]
        pm.Potential("loglik", _loglike_op(target, counter, sampler in GRADIENT_SAMPLERS)(pt.stack(quantities)))
        common = dict(random_seed=seed, progressbar=False, compute_convergence_checks=False,
                      return_inferencedata=True)
        nuts = {"target_accept": target_accept, "mass_matrix": mass_matrix}
        idata, accepted = _SAMPLE[sampler](pm, target, priors, draws, tune, seed, common, nuts)
    posterior = idata.posterior
    return ChainResult({p.name: np.asarray(posterior[p.name].values[0], dtype=float) for p in priors},
                       accepted, *_divergences(idata), counter.evaluations, counter.failed, counter.statuses)


def _divergences(idata: Any) -> tuple[int | None, int | None]:
    """NUTS's divergent transitions after tuning, and how many of them reached a failed steady state.

    A trajectory that steps onto a point without a steady state (zero likelihood) has an infinite
    energy error; NUTS stops it there from whichever of its points it started, so the chain stays
    exact and only loses efficiency. A finite energy error above PyMC's limit (1000) means steps too
    large for the posterior's curvature, which can bias the draws. (None, None) for other samplers.
    """
    stats = getattr(idata, "sample_stats", None)
    if stats is None or "diverging" not in stats:
        return None, None
    diverging = stats["diverging"].values.astype(bool)
    at_failure = diverging & ~np.isfinite(stats["max_energy_error"].values)
    return int(diverging.sum()), int(at_failure.sum())

"""Kind ``calibrate``: posteriors of calibrated drivers and parameters given observations.

Each model x variant is calibrated on its own against the same observation table. Chains are
independent tasks on the run's executor, each seeded from the scenario seed, the member and the
chain number, so results do not depend on ``--jobs``. After sampling, every posterior draw is
solved once more in one batch for the predictions and the pointwise log-likelihood (for LOO and
WAIC). Written: ``posterior.nc`` (ArviZ InferenceData, one ``member`` dimension),
``posterior_summary.csv``, ``predictions.csv``, ``fit.csv``, ``model_comparison.csv``,
``sampling.csv`` and ``calibration.md``.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import checks, plots
from ..calibration.priors import scipy_prior
from ..calibration.sampler import ChainResult, require_pymc, run_chain
from ..calibration.target import Target
from ..checks import calibrates
from ..members import Member
from ..page import Page, stored_table
from ..plan import Plan
from ..posterior import FILE as POSTERIOR_FILE
from ..posterior import load_posterior
from ..report import calibration_markdown, divergence_text
from ..spec import CalibrationSettings, Section
from ..spec.schema import Context, build_calibrate
from ..verdict_report import summary_labels
from .base import Kind
from .common import RunContext, RunOutcome

RHAT_MAX = 1.01
INTERVAL = (0.05, 0.95)  # the 90 % credible interval reported throughout
PREDICTIVE_STREAM = 2**31  # "chain" number of the posterior predictive noise stream


def run_calibrate(ctx: RunContext) -> RunOutcome:
    """Run kind ``calibrate``: sample each member's posterior and write its draws and summaries."""
    pm = require_pymc()
    import arviz as az
    import xarray as xr

    c = ctx.scenario.calibrate
    outcome = RunOutcome(settings={"calibrate": {
        "sampler": c.sampler, "draws": c.draws, "tune": c.tune, "chains": c.chains, "target_accept": c.target_accept,
        "mass_matrix": c.mass_matrix, "file": c.file,
        "output": c.output, "column": c.column, "units": c.units, "error_model": c.error_model,
        "sigma": c.sigma if isinstance(c.sigma, float) else str(c.sigma),
        "priors": {p.name: {"dist": p.dist, **p.args} for p in c.calibrated}, "id": c.id_column,
        "pymc": pm.__version__}})
    table = ctx.plan.inputs["observations"]
    targets = [target_for(m, c, table) for m in ctx.members]
    chains: list[list[ChainResult]] = []
    for i, target in enumerate(targets):
        start = time.perf_counter()
        chains.append(_sample(ctx, target, c, i))
        outcome.members.append({
            "member": target.member.label, "model": target.member.model, "variant": target.member.variant,
            "design": f"{c.sampler} x {c.chains}", "rows": sum(r.evaluations for r in chains[-1]) * target.n_obs,
            "status": {"ok": sum(r.evaluations * target.n_obs - sum(r.statuses.values()) for r in chains[-1])},
            "seconds": round(time.perf_counter() - start, 3)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's refactor notice and Pareto-k warnings (reported in the tables)
        idata, predictions = _inference_data(az, xr, ctx, targets, chains, table)
        ctx.files.produce(POSTERIOR_FILE, lambda path: idata.to_netcdf(str(path)))
        summary = _summary(az, idata, targets, c)
        comparison = _comparison(az, idata, targets, c.output)
    fit = _fit_table(predictions)
    sampling = _sampling_table(targets, chains, c)
    for name, frame in (("posterior_summary.csv", summary), ("predictions.csv", predictions), ("fit.csv", fit),
                        ("model_comparison.csv", comparison), ("sampling.csv", sampling)):
        ctx.files.csv(name, frame)
    ctx.files.text("calibration.md",
                   calibration_markdown(ctx.scenario, summary, predictions, fit, comparison, sampling, RHAT_MAX))
    high = summary[summary["r_hat"] > RHAT_MAX]
    outcome.warnings += [f"{r['member']}: R-hat of {r['quantity']} is {r['r_hat']:.3f} > {RHAT_MAX}; the chains "
                         "have not mixed: raise calibrate.sampler.draws and tune" for _, r in high.iterrows()]
    outcome.warnings += _divergence_warnings(sampling)
    outcome.tables.append(calibration_markdown(ctx.scenario, summary, predictions, fit, comparison, sampling,
                                               RHAT_MAX, brief=True))
    return outcome


def target_for(member: Member, c: CalibrationSettings, table: pd.DataFrame) -> Target:
    """The member's likelihood of the table's observations.

    The member reads the table's drivers it represents and calibrates the quantities it has
    (``checks.calibrates``: e.g. beta only where the model has beta).
    """
    return Target(
        member=member, names=tuple(p.name for p in c.calibrated if calibrates(member, p.name)),
        table={d.name: table[d.column].to_numpy(dtype=float) for d in c.drivers
               if d.name in member.adapter.driver_names},
        observed=table[c.column].to_numpy(dtype=float), output=c.output, error_model=c.error_model,
        sigma=c.sigma if isinstance(c.sigma, float) else None)


def chain_seed(seed: int, member: str, chain: int) -> int:
    """Seed of one chain, from the scenario seed, the member label and the chain number."""
    label = int(hashlib.sha256(member.encode()).hexdigest()[:8], 16)
    return int(np.random.SeedSequence([seed, label, chain]).generate_state(1)[0])


def _sample(ctx: RunContext, target: Target, c: CalibrationSettings, index: int) -> list[ChainResult]:
    label = target.member.label
    priors = tuple(p for p in c.calibrated if p.name in target.names)
    tasks = [(target, priors, c.sampler, c.draws, c.tune, chain_seed(ctx.scenario.seed, label, k), c.target_accept,
              c.mass_matrix) for k in range(c.chains)]
    with tqdm(total=c.chains, desc=f"{label} chains", unit="chain", leave=False, disable=None) as bar:
        results = []
        for result in ctx.executor.map(run_chain, tasks):
            results.append(result)
            bar.update()
    return results


def _inference_data(az: Any, xr: Any, ctx: RunContext, targets: list[Target], chains: list[list[ChainResult]],
                    table: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    """InferenceData with a ``member`` dimension, and the per-site prediction table."""
    c = ctx.scenario.calibrate
    names = [p.name for p in c.calibrated]
    n_chain = c.chains
    n_draw = min(len(r.draws[t.names[0]]) for t, rs in zip(targets, chains) for r in rs)
    n_obs = targets[0].n_obs
    posterior = {n: np.full((n_chain, n_draw, len(targets)), np.nan) for n in names}  # NaN: not calibrated
    prediction = np.empty((n_chain, n_draw, len(targets), n_obs))
    loglik = np.empty_like(prediction)
    rows = []
    for k, (target, results) in enumerate(zip(targets, chains)):
        draws = np.stack([np.stack([r.draws[n][:n_draw] for n in target.names], axis=-1) for r in results])
        for j, n in enumerate(target.names):
            posterior[n][:, :, k] = draws[..., j]
        ll, pred, _ = target.pointwise(draws.reshape(-1, len(target.names)))
        prediction[:, :, k] = pred.reshape(n_chain, n_draw, n_obs)
        loglik[:, :, k] = ll.reshape(n_chain, n_draw, n_obs)
        lo, mid, hi = np.quantile(pred, [INTERVAL[0], 0.5, INTERVAL[1]], axis=0)
        rng = np.random.default_rng(chain_seed(ctx.scenario.seed, target.member.label, PREDICTIVE_STREAM))
        noisy = _with_noise(pred, draws.reshape(-1, len(target.names)), target, rng)
        p_lo, p_hi = np.quantile(noisy, INTERVAL, axis=0)
        for i in range(n_obs):
            rows.append({"member": target.member.label, "model": target.member.model, c.id_column: table[c.id_column].iloc[i],
                         "observed": target.observed[i], "predicted_median": mid[i], "predicted_q05": lo[i],
                         "predicted_q95": hi[i], "predictive_q05": p_lo[i], "predictive_q95": p_hi[i],
                         "units": c.units, "failed_draws": int(np.isinf(ll[:, i]).sum())})
    labels = [t.member.label for t in targets]
    sites = [str(s) for s in table[c.id_column]]
    idata = az.from_dict(
        posterior={**posterior, "prediction": prediction},
        log_likelihood={c.output: loglik},
        coords={"member": labels, "site": sites},
        dims={**{n: ["member"] for n in names}, "prediction": ["member", "site"], c.output: ["member", "site"]},
        attrs={"scenario": ctx.scenario.name, "seed": ctx.scenario.seed, "sampler": c.sampler,
               "output": c.output, "units": c.units, "error_model": c.error_model, "observations": c.file,
               "calibrated": "; ".join(f"{p.name} ~ {p}" for p in c.calibrated)},
    )
    site = {"site": sites}
    idata.add_groups(
        observed_data=xr.Dataset({c.output: ("site", targets[0].observed, {"units": c.units})}, coords=site),
        constant_data=xr.Dataset({d.name: ("site", table[d.column].to_numpy(dtype=float), {"units": d.units})
                                  for d in c.drivers}, coords=site),
    )
    idata.posterior["prediction"].attrs["units"] = c.units
    return idata, pd.DataFrame(rows)


def _with_noise(prediction: np.ndarray, draws: np.ndarray, target: Target, rng: np.random.Generator) -> np.ndarray:
    """Posterior predictive draws: each steady state with one draw of the observation error."""
    sigma = draws[:, [-1]] if target.sigma is None else target.sigma
    noise = rng.standard_normal(prediction.shape) * sigma
    return prediction * np.exp(noise) if target.error_model == "lognormal" else prediction + noise


def _own_draws(idata: Any, k: int, target: Target) -> Any:
    """Member ``k``'s posterior draws of the quantities it calibrates (another member's are NaN in its column)."""
    return idata.posterior[list(target.names)].isel(member=k)


def _summary(az: Any, idata: Any, targets: list[Target], c: CalibrationSettings) -> pd.DataFrame:
    rows = []
    for k, target in enumerate(targets):
        own = _own_draws(idata, k, target)
        rhat, ess_bulk, ess_tail = az.rhat(own), az.ess(own, method="bulk"), az.ess(own, method="tail")
        for p in c.calibrated:
            if p.name not in target.names:
                continue
            draws = own[p.name].values.ravel()
            q05, q50, q95 = np.quantile(draws, [INTERVAL[0], 0.5, INTERVAL[1]])
            rows.append({"member": target.member.label, "model": target.member.model, "quantity": p.name,
                         "prior": str(p), "mean": draws.mean(), "sd": draws.std(ddof=1), "q05": q05, "median": q50,
                         "q95": q95, "r_hat": float(rhat[p.name]),
                         "ess_bulk": float(ess_bulk[p.name]), "ess_tail": float(ess_tail[p.name])})
    return pd.DataFrame(rows)


def _comparison(az: Any, idata: Any, targets: list[Target], output: str) -> pd.DataFrame:
    """PSIS-LOO and WAIC per member, ranked by expected log predictive density (LOO)."""
    rows, loos = [], {}
    for k, target in enumerate(targets):
        one = idata.isel(member=k)
        # PSIS's relative efficiency from this member's own quantities: ArviZ's default averages every
        # posterior variable, and a quantity another member calibrates is NaN here
        own = _own_draws(idata, k, target)
        ess = az.ess(own, method="mean")
        reff = float(np.mean([ess[n] for n in target.names])) / (own.sizes["chain"] * own.sizes["draw"])
        loo = loos[target.member.label] = az.loo(one, var_name=output, pointwise=True, reff=reff)
        waic = az.waic(one, var_name=output)
        rows.append({"member": target.member.label, "model": target.member.model, "elpd_loo": float(loo.elpd_loo),
                     "elpd_loo_se": float(loo.se), "p_loo": float(loo.p_loo),
                     "pareto_k_over_0.7": int((np.asarray(loo.pareto_k) > 0.7).sum()),
                     "elpd_waic": float(waic.elpd_waic), "elpd_waic_se": float(waic.se),
                     "p_waic": float(waic.p_waic)})
    frame = pd.DataFrame(rows).sort_values("elpd_loo", ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["delta_elpd_loo"] = frame["elpd_loo"].iloc[0] - frame["elpd_loo"]
    # the standard error of each difference to the best, from the pointwise differences (ArviZ's dse)
    dse = az.compare(loos, ic="loo")["dse"] if len(loos) > 1 else pd.Series({frame["member"].iloc[0]: 0.0})
    frame["delta_elpd_loo_se"] = frame["member"].map(dse).astype(float)
    return frame


def _fit_table(predictions: pd.DataFrame) -> pd.DataFrame:
    """RMSE and R² of the posterior median prediction, on the observations' scale and in log."""
    rows = []
    for member, block in predictions.groupby("member", sort=False):
        obs, pred = block["observed"].to_numpy(), block["predicted_median"].to_numpy()
        inside = (block["predictive_q05"] <= obs) & (obs <= block["predictive_q95"])
        rows.append({"member": member, "model": block["model"].iloc[0], "n": len(block),
                     "rmse": float(np.sqrt(np.mean((pred - obs) ** 2))),
                     "r2": float(1 - np.sum((obs - pred) ** 2) / np.sum((obs - obs.mean()) ** 2)),
                     "rmse_log": float(np.sqrt(np.mean((np.log(pred) - np.log(obs)) ** 2))) if (obs > 0).all()
                     and (pred > 0).all() else float("nan"),
                     "inside_90": int(inside.sum()), "units": block["units"].iloc[0]})
    return pd.DataFrame(rows)


def _sampling_table(targets: list[Target], chains: list[list[ChainResult]], c: CalibrationSettings) -> pd.DataFrame:
    rows = []
    for target, results in zip(targets, chains):
        for k, r in enumerate(results):
            rows.append({"member": target.member.label, "chain": k, "sampler": c.sampler, "draws": len(next(iter(r.draws.values()))),
                         "tune": c.tune, "acceptance": r.accepted,
                         "divergent": np.nan if r.divergent is None else r.divergent,
                         "divergent_at_failure": np.nan if r.divergent_at_failure is None else r.divergent_at_failure,
                         "likelihood_calls": r.evaluations,
                         "failed_calls": r.failed,
                         "failed_sites": "; ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items()))})
    return pd.DataFrame(rows)


def _divergence_warnings(sampling: pd.DataFrame) -> list[str]:
    """One warning per member whose NUTS chains diverged after tuning at a finite energy error.

    Divergences at a failed steady state (``divergent_at_failure``) cost efficiency, not exactness
    (``calibration.sampler._divergences``): they are counted in ``calibration.md``, not warned of.
    """
    warnings_ = []
    for member, chains in sampling.groupby("member", sort=False):
        curvature = (chains["divergent"] - chains["divergent_at_failure"]).fillna(0).astype(int)
        if curvature.sum():
            per_chain = ", ".join(f"{n} in chain {k}" for k, n in zip(chains["chain"], curvature) if n)
            warnings_.append(f"{member}: {curvature.sum()} divergent NUTS transitions after tuning ({per_chain}) of "
                             f"{int(chains['draws'].sum())} draws, where the steps were too large for the posterior's "
                             "curvature; the draws may be biased there: raise calibrate.sampler.target_accept (e.g. 0.9)")
    return warnings_


__all__ = ["run_calibrate", "target_for", "chain_seed"]


def report_section(page: Page, out_dir: Path, summary: dict) -> None:
    """The ``report.html`` section of a calibrate run (nothing if its files are missing)."""
    labels = summary_labels(summary)

    def stored(name: str) -> pd.DataFrame | None:  # members named by the variant keys that vary
        table = stored_table(out_dir, name)
        return None if table is None else table.assign(member=table["member"].map(lambda m: labels.get(m, m)))

    posterior = stored("posterior_summary.csv")
    if posterior is None:
        return
    settings = summary["settings"]["calibrate"]
    fit, comparison, predictions = stored("fit.csv"), stored("model_comparison.csv"), stored("predictions.csv")
    sampling = stored_table(out_dir, "sampling.csv")
    page.heading("Calibration")
    page.text(f"{settings['sampler']}, {settings['chains']} chains x {settings['draws']} draws; output "
              f"{settings['output']} [{settings['units']}] against column {settings['column']} of "
              f"{settings['file']}; {settings['error_model']} error. Full tables: calibration.md.", "muted")
    worst = posterior["r_hat"].max()
    page.text(f"**Largest R-hat {worst:.4f}** ({'all' if worst <= 1.01 else 'NOT all'} ≤ 1.01).", "verdict")
    page.table(posterior[["member", "quantity", "prior", "mean", "sd", "q05", "median", "q95", "r_hat",
                            "ess_bulk", "ess_tail"]])
    draws = {labels.get(member, member): d for member, d in load_posterior(out_dir).items()}
    priors = {name: scipy_prior(p["dist"], {k: v for k, v in p.items() if k != "dist"})
              for name, p in settings["priors"].items()}
    page.figure("posterior", plots.posterior_densities(draws, priors, "posterior densities (prior dashed)"),
                "Posterior densities of the calibrated quantities per model x variant; prior dashed.")
    if predictions is not None:
        page.figure("observed_vs_predicted", plots.observed_vs_predicted(predictions, settings["id"], settings["units"]),
                    "Observed against predicted (posterior median and 90 % interval of the steady state).")
    if fit is not None:
        page.heading("Fit", 3)
        page.table(fit)
    if comparison is not None:
        page.heading("Model comparison (PSIS-LOO, WAIC)", 3)
        page.table(comparison)
    if sampling is not None:
        page.text(f"{int(sampling['failed_calls'].sum())} of {int(sampling['likelihood_calls'].sum())} likelihood "
                  "calls hit a failed steady state and got zero likelihood.", "muted")
        if "divergent" in sampling and sampling["divergent"].notna().any():  # NUTS
            page.text(divergence_text(sampling), "muted")


def _check(plan: Plan, ctx: Context) -> None:
    if "calibrate" in plan.scenario.given:
        plan.inputs["observations"] = checks.check_calibration(plan.scenario, plan.members, ctx)


KIND = Kind(
    name="calibrate",
    description="Bayesian calibration of drivers and parameters against an observation table (PyMC)",
    sections={"calibrate": Section(build_calibrate, CalibrationSettings(), (
        "a calibrate scenario needs a `calibrate` section",
        "add `calibrate: {observations: {...}, priors: {...}}` (see docs/scenarios.md)"))},
    run=run_calibrate,
    report=report_section,
    check=_check,
)

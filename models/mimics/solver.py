"""Steady state of MIMICS for a batch: Newton in log space, a stiff fall-back, and checks.

Spec ``docs/models/mimics.md`` section 7. Native units throughout: pools [mgC cm-3], time [h].

0. Start (unless told otherwise) from an analytic guess: microbial biomass where turnover
   equals the growth ``e/(1-e) I`` of a mean efficiency e (shared equally by r and K), and the
   other five pools at balance for that biomass (``equations.slaved_pools``).
1. Newton on ``F(z) = f(e^z)/e^z``, ``z = ln y``, for every row at once, with the exact analytic
   Jacobian ``J_F = diag(1/y) (J_y - diag(f/y)) diag(y)``, i.e. ``(J_y - diag(f/y)) dy = -f`` and
   ``dz = dy/y``. Given the two microbial pools, the other five form a lower-triangular block of
   that matrix, so each step is a 2x2 Schur complement plus back-substitution, all elementwise.
   Each component of dz is clipped to [-2, 2]. A row stops once a step with ``max|dz| < 1e-13``
   has been applied; stopped rows are frozen and dropped from the working set as it thins.
2. Rows that fail (no convergence within ``MAX_NEWTON``, or a check of step 3) are integrated one
   by one, ``dz/dt = F(z)`` with LSODA (rtol = atol = 1e-8) to t = 1e8 h from their starting
   state (within ``MAX_ODE_STEPS`` steps, else the row fails), then Newton again. The fall-back
   runs per row on purpose: a stacked integration shares step-size control between rows, so a
   row's result would depend on the other rows of its batch.
3. Every row is verified: finite and > 0, both microbial pools > 1e-9 mgC cm-3,
   ``max|f|/I <= 1e-10``, ``|CO2 - I|/I <= 1e-8`` and every eigenvalue of the Jacobian with a
   negative real part (Routh-Hurwitz on the characteristic polynomial, ``models.stability``;
   eigenvalues of ``z_jacobian`` only for rows it does not decide stable, which an unstable row's
   message quotes). A row failing any check gets a status and a message, never a number.

Why not the spec's ``J_z = diag(1/y) J_y diag(y)``: that is Newton on ``f(e^z)`` (not on
``f(e^z)/e^z``), for which a vanishing microbial pool is an attracting root, since
``f_MIC = MIC x (specific growth - turnover)`` -> 0 as MIC -> 0. From the spec's starting state it
drove 10-30 % of random rows in the benchmark ranges towards MIC = 0; the exact Jacobian of F
has no such root, and Newton from the analytic guess converged on every one of 1e5 such rows.

Every row is computed from its own inputs only, so a batch is bit-identical to its rows solved
one at a time.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.integrate import LSODA

from .. import stability as stab
from . import equations as eq

#: spec section 7, step 1: LIT = (1, 1), MIC = (0.1, 0.1), SOM = (5, 5, 5) [mgC cm-3]
DEFAULT_GUESS = np.array([1.0, 1.0, 0.1, 0.1, 5.0, 5.0, 5.0])
#: largest |dz| of one Newton step (spec section 7, step 2) [1]
MAX_STEP = 2.0
#: a row has converged once a step with max|dz| < STEP_TOL has been applied [1]. No residual
#: test stops Newton: max|f|/I <= 1e-12 still leaves the slowest pools ~1e-11 (relative) from
#: the root, while the step test gives restarts that agree to ~1e-15 (spec section 7)
STEP_TOL = 1e-13
#: Newton iterations before a row goes to the fall-back
MAX_NEWTON = 60
#: the working set is compressed once fewer than this share of its rows is still iterating
COMPRESS_BELOW = 0.5
#: fall-back integration: end time [h] and tolerances (spec section 7, step 3)
T_END = 1e8
ODE_RTOL = ODE_ATOL = 1e-8
#: step budget of one fall-back integration: rows that reach a steady state took 340-1500 steps
#: from the spec's start (120 random rows), and up to 9278 from 100 times it with SciPy 1.17's
#: LSODA (under 5000 with earlier SciPy); cycling or collapsing rows can take tens of thousands
#: (about 45 us a step: a row that exhausts the budget costs about 1 s)
MAX_ODE_STEPS = 20000
#: checks of step 3 (spec step 4): smallest microbial pool [mgC cm-3], residual and respiration mismatch [1]
MIC_MIN = 1e-9
CHECK_RESIDUAL = 1e-10
CHECK_CO2 = 1e-8

# status codes, equal to harness Status values (this module does not import the harness)
OK, NOT_CONVERGED, SOLVER_FAILED = 0, 1, 4


def spec_guess(n: int) -> np.ndarray:
    """The spec's starting state for ``n`` rows, pool-major (7, n) [mgC cm-3]."""
    return np.repeat(DEFAULT_GUESS[:, None], n, axis=1)


def initial_guess(kin: eq.Kinetics) -> np.ndarray:
    """Analytic starting state: microbes from a growth-turnover balance, the rest at balance.

    Parameters
    ----------
    kin : Kinetics
        Rate constants of ``n`` rows.

    Returns
    -------
    ndarray, shape (7, n)
        ``MIC_x = (G/2 / tau_x)^(1/beta)`` with growth ``G = e/(1-e) I`` and e the mean of
        e1..e4, then ``equations.slaved_pools``; a pool without a balance (forward kinetics
        saturating below its input) takes its ``DEFAULT_GUESS`` value. [mgC cm-3]
    """
    e = 0.25 * (kin.e1 + kin.e2 + kin.e3 + kin.e4)
    half_growth = 0.5 * e / (1.0 - e) * kin.i_tot
    inv_beta = 1.0 / kin.beta
    with np.errstate(all="ignore"):
        y = eq.slaved_pools((half_growth / kin.tau_r) ** inv_beta, (half_growth / kin.tau_k) ** inv_beta, kin)
    return np.where(np.isfinite(y) & (y > 0.0), y, DEFAULT_GUESS[:, None])


def newton_step(p: eq.Partials, kin: eq.Kinetics, f: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Solve ``(J - diag(shift)) dy = -f`` for every row, using the block structure of J.

    Parameters
    ----------
    p : Partials
        Fluxes and derivatives at the current state.
    kin : Kinetics
        Rate constants.
    f : ndarray, shape (7, n)
        Right-hand side at the current state. [mgC cm-3 h-1]
    shift : ndarray, shape (7, n)
        Subtracted from the diagonal of J; ``f/y`` gives the exact Newton step on f/y. [h-1]

    Returns
    -------
    ndarray, shape (7, n)
        Newton step dy. [mgC cm-3]

    Notes
    -----
    With x = (LITm, LITs, SOMp, SOMc, SOMa) and m = (MICr, MICK), J = [[A, B], [C, D]] where
    A is lower triangular (only SOMa's row has off-diagonal entries, from SOMp and SOMc), D is
    diagonal and C has non-zero columns LITm, LITs and SOMa only. Then
    ``(D - C A^-1 B) dm = -f_m + C A^-1 f_x`` and ``dx = -A^-1 (f_x + B dm)``.
    """
    ox_s = p.so_r + p.so_k
    inv_lm = -1.0 / (p.s1 + p.s4 + shift[eq.LIT_M])
    inv_ls = -1.0 / (p.s2 + p.s5 + shift[eq.LIT_S])
    inv_sp = -1.0 / (kin.desorb + shift[eq.SOM_P])
    inv_sc = -1.0 / (ox_s + shift[eq.SOM_C])
    inv_sa = -1.0 / (p.s3 + p.s6 + shift[eq.SOM_A])

    def solve_a(v_lm, v_ls, v_sp, v_sc, v_sa):
        w_sp, w_sc = v_sp * inv_sp, v_sc * inv_sc
        return v_lm * inv_lm, v_ls * inv_ls, w_sp, w_sc, (v_sa - kin.desorb * w_sp - ox_s * w_sc) * inv_sa

    px = solve_a(-f[eq.LIT_M], -f[eq.LIT_S], -f[eq.SOM_P], -f[eq.SOM_C], -f[eq.SOM_A])
    qr = solve_a(-p.b1, -p.b2, kin.fp_r * p.dt_r, kin.fc_r * p.dt_r - p.bo_r,
                 kin.fa_r * p.dt_r + p.bo_r - p.b3)
    qk = solve_a(-p.b4, -p.b5, kin.fp_k * p.dt_k, kin.fc_k * p.dt_k - p.bo_k,
                 kin.fa_k * p.dt_k + p.bo_k - p.b6)
    cr = (kin.e1 * p.s1, kin.e2 * p.s2, kin.e1 * p.s3)  # C's r row at LITm, LITs, SOMa
    ck = (kin.e3 * p.s4, kin.e4 * p.s5, kin.e3 * p.s6)

    def c_dot(c, w):
        return c[0] * w[0] + c[1] * w[1] + c[2] * w[4]

    s_rr = kin.e1 * (p.b1 + p.b3) + kin.e2 * p.b2 - p.dt_r - shift[eq.MIC_R] - c_dot(cr, qr)
    s_kk = kin.e3 * (p.b4 + p.b6) + kin.e4 * p.b5 - p.dt_k - shift[eq.MIC_K] - c_dot(ck, qk)
    s_rk = -c_dot(cr, qk)
    s_kr = -c_dot(ck, qr)
    g_r = -f[eq.MIC_R] - c_dot(cr, px)
    g_k = -f[eq.MIC_K] - c_dot(ck, px)
    inv_det = 1.0 / (s_rr * s_kk - s_rk * s_kr)
    dm_r = (g_r * s_kk - s_rk * g_k) * inv_det
    dm_k = (s_rr * g_k - s_kr * g_r) * inv_det
    dy = np.empty_like(f)
    dy[eq.LIT_M] = px[0] - qr[0] * dm_r - qk[0] * dm_k
    dy[eq.LIT_S] = px[1] - qr[1] * dm_r - qk[1] * dm_k
    dy[eq.MIC_R] = dm_r
    dy[eq.MIC_K] = dm_k
    dy[eq.SOM_P] = px[2] - qr[2] * dm_r - qk[2] * dm_k
    dy[eq.SOM_C] = px[3] - qr[3] * dm_r - qk[3] * dm_k
    dy[eq.SOM_A] = px[4] - qr[4] * dm_r - qk[4] * dm_k
    return dy


def _max_abs(a: np.ndarray) -> np.ndarray:
    """Maximum over pools of |a| for pool-major ``a`` (7, n), without a reduction over rows."""
    m = np.abs(a[0])
    for row in a[1:]:
        m = np.maximum(m, np.abs(row))
    return m


def newton(kin: eq.Kinetics, y0: np.ndarray, max_iter: int = MAX_NEWTON) -> tuple[np.ndarray, np.ndarray]:
    """Newton iteration in log space on every row of a batch.

    Parameters
    ----------
    kin : Kinetics
        Rate constants of ``n`` rows.
    y0 : ndarray, shape (7, n)
        Starting state, > 0. [mgC cm-3]
    max_iter : int
        Iterations before a row is given up.

    Returns
    -------
    pools : ndarray, shape (7, n)
        Last iterate of every row. [mgC cm-3]
    converged : ndarray of bool, shape (n,)
        Rows that met the step rule with finite values.
    """
    y = np.array(y0, dtype=float, copy=True)
    converged = np.zeros(y.shape[1], dtype=bool)
    rows = np.arange(y.shape[1])  # working set: global row numbers
    k, ya = kin, y.copy()
    live = np.ones(rows.size, dtype=bool)  # rows of the working set still iterating
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            if not live.any():
                break
            if live.sum() < COMPRESS_BELOW * live.size:
                keep = np.flatnonzero(live)
                rows, k, ya, live = rows[keep], k.take(keep), ya[:, keep], live[keep]
            p = eq.partials(ya, k)
            f, _ = eq.tendencies(ya, k, p)
            dz = np.clip(newton_step(p, k, f, f / ya) / ya, -MAX_STEP, MAX_STEP)
            size = _max_abs(dz)
            ya = np.where(live, ya * np.exp(dz), ya)
            finite = np.isfinite(size) & np.isfinite(ya).all(axis=0) & (ya > 0.0).all(axis=0)
            stopped = live & (size < STEP_TOL) & finite
            failed = live & ~finite
            done = stopped | failed
            y[:, rows[done]] = ya[:, done]
            converged[rows[stopped]] = True
            live &= ~done
        y[:, rows[live]] = ya[:, live]
    return y, converged


def z_jacobian(pools: np.ndarray, kin: eq.Kinetics) -> np.ndarray:
    """``diag(1/y) J_y diag(y)``: at a steady state (f = 0) the Jacobian of ``dz/dt = f(e^z)/e^z``.

    Parameters
    ----------
    pools : ndarray, shape (7, n)
        Pools, pool-major. [mgC cm-3]
    kin : Kinetics
        Rate constants.

    Returns
    -------
    ndarray, shape (n, 7, 7)
        Similar to J_y (same eigenvalues), and better scaled. [h-1]
    """
    y = pools.T
    return eq.jacobian(pools, kin) * y[:, None, :] / y[:, :, None]


def check(kin: eq.Kinetics, pools: np.ndarray, stability: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The checks of every row (spec section 7, step 4).

    Parameters
    ----------
    kin : Kinetics
        Rate constants of ``n`` rows.
    pools : ndarray, shape (7, n)
        Candidate steady states. [mgC cm-3]
    stability : bool
        Check local stability too: every eigenvalue of the Jacobian with a negative real part,
        decided by ``models.stability.unstable_rows`` (Routh-Hurwitz, eigenvalues where undecided).

    Returns
    -------
    status : ndarray of int8, shape (n,)
        ``OK``, ``NOT_CONVERGED`` (residual or respiration) or ``SOLVER_FAILED``.
    message : ndarray of object, shape (n,)
        The first failed check and by how much; "" for OK rows.
    """
    n = pools.shape[1]
    status = np.zeros(n, dtype=np.int8)
    message = np.full(n, "", dtype=object)
    with np.errstate(all="ignore"):
        f, co2 = eq.tendencies(pools, kin)
        residual = _max_abs(f) / kin.i_tot
        co2_error = np.abs(co2 - kin.i_tot) / kin.i_tot
        mic = np.minimum(pools[eq.MIC_R], pools[eq.MIC_K])
    positive = np.isfinite(pools).all(axis=0) & (pools > 0.0).all(axis=0)
    tests = [
        (~positive, SOLVER_FAILED, lambda i: "pools not finite and > 0: " + ", ".join(
            f"{name}={pools[j, i]:.3g}" for j, name in enumerate(eq.POOL_NAMES))),
        (~(mic > MIC_MIN), SOLVER_FAILED, lambda i: f"microbial collapse: min(mic_r, mic_k) = "
                                                    f"{mic[i]:.3g} mgC cm-3 <= {MIC_MIN:g}"),
        (~(residual <= CHECK_RESIDUAL), NOT_CONVERGED, lambda i: f"max|dX/dt|/I = {residual[i]:.3g} (at "
         f"{eq.POOL_NAMES[int(np.argmax(np.abs(f[:, i])))]}) > {CHECK_RESIDUAL:g}"),
        (~(co2_error <= CHECK_CO2), NOT_CONVERGED, lambda i: f"|CO2 - I|/I = {co2_error[i]:.3g} "
                                                             f"> {CHECK_CO2:g}"),
    ]
    for bad, code, text in tests:
        for i in np.flatnonzero(bad & (status == OK)):
            status[i], message[i] = code, text(i)
    rows = np.flatnonzero(status == OK)
    if stability and rows.size:
        sub, at = (kin, pools) if rows.size == n else (kin.take(rows), pools[:, rows])
        # Routh-Hurwitz on J_y (same characteristic polynomial as J_z); eigenvalues of J_z, as
        # before, only for the rows it does not find stable
        unstable, growth = stab.unstable_rows(
            eq.jacobian(at, sub), eigen_matrix=lambda k: z_jacobian(at[:, k], sub.take(k)))
        for k, value in zip(unstable, growth):
            status[rows[k]] = SOLVER_FAILED
            message[rows[k]] = f"unstable steady state: largest Re(eigenvalue) = {value:.3g} h-1 >= 0"
    return status, message


def integrate(kin: eq.Kinetics, y0: np.ndarray) -> tuple[np.ndarray, str]:
    """Fall-back: integrate ``dz/dt = f(e^z)/e^z`` for one row to ``T_END`` (stiff, LSODA).

    Parameters
    ----------
    kin : Kinetics
        Rate constants of one row as scalars (``Kinetics.take(i)``), which keeps each
        right-hand side evaluation to scalar arithmetic.
    y0 : ndarray, shape (7,)
        Starting state. [mgC cm-3]

    Returns
    -------
    pools : ndarray, shape (7,)
        State at ``T_END`` (NaN if the integration failed). [mgC cm-3]
    message : str
        "" on success, else why the integration failed.
    """

    def rhs(_t, z):
        y = np.exp(z)
        return eq.tendencies(y, kin)[0] / y

    def jac(_t, z):
        y = np.exp(z)
        p = eq.partials(y, kin)
        f = eq.tendencies(y, kin, p)[0]
        return eq.jacobian(y, kin, p) * y[None, :] / y[:, None] - np.diag(f / y)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LSODA's convergence warnings: failures are reported as a status
        try:
            ode = LSODA(rhs, 0.0, np.log(y0), T_END, rtol=ODE_RTOL, atol=ODE_ATOL, jac=jac)
            for _ in range(MAX_ODE_STEPS):
                if ode.status != "running":
                    break
                ode.step()
        except (ValueError, ArithmeticError) as exc:  # non-finite states reach the LU factorisation
            return np.full(eq.N_POOLS, np.nan), f"fall-back integration failed: {exc}"
    if ode.status == "running":
        low = min(np.exp(ode.y[eq.MIC_R]), np.exp(ode.y[eq.MIC_K]))
        return np.full(eq.N_POOLS, np.nan), (
            f"fall-back integration used its {MAX_ODE_STEPS} steps and stopped at t = {ode.t:.3g} h "
            f"< {T_END:g} h (min(mic_r, mic_k) = {low:.3g} mgC cm-3 there): no steady state was approached")
    if ode.status != "finished" or not np.isfinite(ode.y).all():
        return np.full(eq.N_POOLS, np.nan), f"fall-back integration failed at t = {ode.t:.3g} h (non-finite state)"
    return np.exp(ode.y), ""


def steady_state(
    kin: eq.Kinetics, y0: np.ndarray | None = None, stability: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verified steady states of a batch (spec section 7).

    Parameters
    ----------
    kin : Kinetics
        Rate constants of ``n`` rows.
    y0 : ndarray, shape (7, n) or (7,), optional
        Starting state [mgC cm-3]; default ``initial_guess(kin)``.
    stability : bool
        Include the stability check (default). Without it, a row whose Newton state would fail
        only that check is returned as OK.

    Returns
    -------
    pools : ndarray, shape (7, n)
        Steady states; NaN for rows that failed. [mgC cm-3]
    status : ndarray of int8, shape (n,)
        ``OK``, ``NOT_CONVERGED`` or ``SOLVER_FAILED`` (harness Status values).
    message : ndarray of object, shape (n,)
        Why a row failed; "" for OK rows.
    """
    n = kin.size
    y0 = initial_guess(kin) if y0 is None else np.broadcast_to(np.asarray(y0, dtype=float).reshape(7, -1), (7, n))
    pools, converged = newton(kin, y0)
    status, message = check(kin, pools, stability)
    for i in np.flatnonzero(status != OK):
        why = "Newton did not converge" if not converged[i] else f"Newton's state failed a check ({message[i]})"
        end, failure = integrate(kin.take(i), y0[:, i])
        low = min(end[eq.MIC_R], end[eq.MIC_K])
        if not failure and not low > MIC_MIN:
            failure = (f"the fall-back integration to t = {T_END:g} h ends in microbial collapse: "
                       f"min(mic_r, mic_k) = {low:.3g} mgC cm-3 <= {MIC_MIN:g}")
        if failure:
            pools[:, i], status[i], message[i] = np.nan, SOLVER_FAILED, f"{why}; {failure}"
            continue
        one = kin.take([i])
        again, _ = newton(one, end[:, None])
        row_status, row_message = check(one, again, stability)
        pools[:, i], status[i] = again[:, 0], row_status[0]
        message[i] = "" if row_status[0] == OK else (
            f"{why}; after the fall-back integration to t = {T_END:g} h and Newton: {row_message[0]}")
    pools[:, status != OK] = np.nan
    return pools, status, message

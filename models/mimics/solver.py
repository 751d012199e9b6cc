"""Steady state of MIMICS for a batch: Newton in log space, a stiff fall-back, and checks.

Spec ``docs/models/mimics.md`` section 7. Native units throughout: pools [mgC cm-3], time [h].

1. Newton on ``z = ln y`` for every row at once, with the analytic Jacobian. Given the two
   microbial pools, the other five (LITm, LITs, SOMp, SOMc, SOMa) form a lower-triangular block
   of the Jacobian, so each step is a 2x2 Schur complement plus back-substitution, all
   elementwise. The step in z is ``dz = dy / y`` with ``J_y dy = -f``, scaled so that
   ``max|dz| <= 2``. A row stops when ``max|f|/I <= 1e-12`` or ``max|dz| < 1e-13``; rows that
   stopped are frozen and dropped from the working set as it thins out.
2. Rows that fail (no convergence within ``MAX_NEWTON``, or a step-4 check) are integrated one by
   one, ``dz/dt = f(e^z)/e^z`` with BDF (rtol = atol = 1e-8) to t = 1e8 h, then Newton again.
   The fall-back runs per row on purpose: a stacked integration shares step-size control
   between rows, so a row's result would depend on the other rows of its batch.
3. Every row is verified: finite and > 0, both microbial pools > 1e-9 mgC cm-3,
   ``max|f|/I <= 1e-10``, ``|CO2 - I|/I <= 1e-8`` and every eigenvalue of the Jacobian with a
   negative real part. A row failing any check gets a status and a message, never a number.

Every row is computed from its own inputs only, so a batch is bit-identical to its rows solved
one at a time.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from . import equations as eq

#: spec section 7, step 1: LIT = (1, 1), MIC = (0.1, 0.1), SOM = (5, 5, 5) [mgC cm-3]
DEFAULT_GUESS = np.array([1.0, 1.0, 0.1, 0.1, 5.0, 5.0, 5.0])
#: largest |dz| of one Newton step (spec section 7, step 2) [1]
MAX_STEP = 2.0
#: a row has converged when max|dz| < STEP_TOL or max|f|/I <= RESIDUAL_TOL [1]
STEP_TOL = 1e-13
RESIDUAL_TOL = 1e-12
#: Newton iterations before a row goes to the fall-back
MAX_NEWTON = 80
#: the working set is compressed once fewer than this share of its rows is still iterating
COMPRESS_BELOW = 0.5
#: fall-back integration: end time [h] and tolerances (spec section 7, step 3)
T_END = 1e8
ODE_RTOL = ODE_ATOL = 1e-8
#: step-4 checks: smallest microbial pool [mgC cm-3], residual and respiration mismatch [1]
MIC_MIN = 1e-9
CHECK_RESIDUAL = 1e-10
CHECK_CO2 = 1e-8

# status codes, equal to harness Status values (this module does not import the harness)
OK, NOT_CONVERGED, SOLVER_FAILED = 0, 1, 4


def initial_guess(n: int) -> np.ndarray:
    """The spec's starting state for ``n`` rows, pool-major (7, n). [mgC cm-3]"""
    return np.repeat(DEFAULT_GUESS[:, None], n, axis=1)


def newton_step(p: eq.Partials, kin: eq.Kinetics, f: np.ndarray) -> np.ndarray:
    """Solve ``J dy = -f`` for every row, using the block structure of J.

    Parameters
    ----------
    p : Partials
        Fluxes and derivatives at the current state.
    kin : Kinetics
        Rate constants.
    f : ndarray, shape (7, n)
        Right-hand side at the current state. [mgC cm-3 h-1]

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
    inv_lm = -1.0 / (p.s1 + p.s4)
    inv_ls = -1.0 / (p.s2 + p.s5)
    inv_sp = -1.0 / kin.desorb
    inv_sc = -1.0 / ox_s
    inv_sa = -1.0 / (p.s3 + p.s6)

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

    s_rr = kin.e1 * (p.b1 + p.b3) + kin.e2 * p.b2 - p.dt_r - c_dot(cr, qr)
    s_kk = kin.e3 * (p.b4 + p.b6) + kin.e4 * p.b5 - p.dt_k - c_dot(ck, qk)
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
    """max over pools of |a| for pool-major ``a`` (7, n), without a reduction over rows."""
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
        Rows that met a stopping rule with finite values.
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
            small = _max_abs(f) / k.i_tot <= RESIDUAL_TOL
            dz = newton_step(p, k, f) / ya
            size = _max_abs(dz)
            dz *= np.where(size > MAX_STEP, MAX_STEP / size, 1.0)
            moving = live & ~small
            ya = np.where(moving, ya * np.exp(dz), ya)
            finite = np.isfinite(size) & np.isfinite(ya).all(axis=0) & (ya > 0.0).all(axis=0)
            stopped = live & ((small | (size < STEP_TOL)) & finite)
            failed = live & ~finite
            done = stopped | failed
            y[:, rows[done]] = ya[:, done]
            converged[rows[stopped]] = True
            live &= ~done
        y[:, rows[live]] = ya[:, live]
    return y, converged


def z_jacobian(pools: np.ndarray, kin: eq.Kinetics) -> np.ndarray:
    """Jacobian of ``dz/dt = f(e^z)/e^z`` at a steady state, ``diag(1/y) J_y diag(y)``.

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


def check(kin: eq.Kinetics, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step-4 checks of every row (spec section 7).

    Parameters
    ----------
    kin : Kinetics
        Rate constants of ``n`` rows.
    pools : ndarray, shape (7, n)
        Candidate steady states. [mgC cm-3]

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
        (~(residual <= CHECK_RESIDUAL), NOT_CONVERGED, lambda i: f"max|dX/dt|/I = {residual[i]:.3g} "
                                                                 f"> {CHECK_RESIDUAL:g}"),
        (~(co2_error <= CHECK_CO2), NOT_CONVERGED, lambda i: f"|CO2 - I|/I = {co2_error[i]:.3g} "
                                                             f"> {CHECK_CO2:g}"),
    ]
    for bad, code, text in tests:
        for i in np.flatnonzero(bad & (status == OK)):
            status[i], message[i] = code, text(i)
    rows = np.flatnonzero(status == OK)
    if rows.size:
        sub = kin.take(rows)
        growth = np.linalg.eigvals(z_jacobian(pools[:, rows], sub)).real.max(axis=1)
        for k in np.flatnonzero(~(growth < 0.0)):
            status[rows[k]] = SOLVER_FAILED
            message[rows[k]] = f"unstable steady state: largest Re(eigenvalue) = {growth[k]:.3g} h-1 >= 0"
    return status, message


def integrate(kin: eq.Kinetics, y0: np.ndarray) -> tuple[np.ndarray, str]:
    """Fall-back: integrate ``dz/dt = f(e^z)/e^z`` for one row to ``T_END`` (BDF).

    Parameters
    ----------
    kin : Kinetics
        Rate constants of one row.
    y0 : ndarray, shape (7,)
        Starting state. [mgC cm-3]

    Returns
    -------
    pools : ndarray, shape (7,)
        State at ``T_END`` (NaN if the integration failed). [mgC cm-3]
    message : str
        "" on success, else the integrator's message.
    """

    def rhs(_t, z):
        y = np.exp(z)[:, None]
        return eq.tendencies(y, kin)[0][:, 0] / y[:, 0]

    def jac(_t, z):
        y = np.exp(z)[:, None]
        f = eq.tendencies(y, kin)[0][:, 0] / y[:, 0]
        return z_jacobian(y, kin)[0] - np.diag(f)

    with np.errstate(all="ignore"):
        sol = solve_ivp(rhs, (0.0, T_END), np.log(y0), method="BDF", jac=jac, rtol=ODE_RTOL, atol=ODE_ATOL)
    if not sol.success:
        return np.full(eq.N_POOLS, np.nan), f"fall-back integration failed: {sol.message}"
    return np.exp(sol.y[:, -1]), ""


def steady_state(kin: eq.Kinetics, y0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verified steady states of a batch (spec section 7).

    Parameters
    ----------
    kin : Kinetics
        Rate constants of ``n`` rows.
    y0 : ndarray, shape (7, n) or (7,), optional
        Starting state [mgC cm-3]; default ``DEFAULT_GUESS``.

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
    y0 = initial_guess(n) if y0 is None else np.broadcast_to(np.asarray(y0, dtype=float).reshape(7, -1), (7, n))
    pools, converged = newton(kin, y0)
    status, message = check(kin, pools)
    for i in np.flatnonzero(status != OK):
        one = kin.take([i])
        why = "Newton did not converge" if not converged[i] else f"Newton's state failed a check ({message[i]})"
        end, failure = integrate(one, y0[:, i])
        if failure:
            pools[:, i], status[i], message[i] = np.nan, SOLVER_FAILED, f"{why}; {failure}"
            continue
        again, _ = newton(one, end[:, None])
        row_status, row_message = check(one, again)
        pools[:, i], status[i] = again[:, 0], row_status[0]
        message[i] = "" if row_status[0] == OK else (
            f"{why}; after the fall-back integration to t = {T_END:g} h and Newton: {row_message[0]}")
    pools[:, status != OK] = np.nan
    return pools, status, message

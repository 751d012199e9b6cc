"""Local stability of a batch of real matrices by the Routh-Hurwitz criterion, without eigenvalues.

A steady state is locally stable when every eigenvalue of its Jacobian has a negative real part.
``numpy.linalg.eigvals`` answers that one matrix at a time; here every row of a batch is decided
at once from the coefficients of its characteristic polynomial:

1. the polynomial ``det(lambda I - A)`` is expanded from the entries of ``A`` that are non-zero
   somewhere in the batch (a sum over permutations, organised as a dynamic programme over the
   sets of columns used, so a sparse Jacobian costs a few dozen vector operations), with the
   *magnitude* of each coefficient: the same sum over absolute values, or a cheaper bound on it;
2. the Routh array of the coefficients is formed, each entry with a running magnitude (first-order
   propagation of the coefficients' magnitudes, which also bounds its rounding error);
3. a row is *decided* when every entry of the Routh array's first column is finite and exceeds
   ``rtol`` times its magnitude; it is stable when they are all positive.

Rows that are not decided (a root on or near the imaginary axis, an exactly zero first-column
entry, an entry that is not finite) are left to ``numpy.linalg.eigvals`` (:func:`unstable_rows`),
so the verdict is always the one eigenvalues give, and the rows reported unstable can quote their
largest real part. Pure numpy, no harness imports; shared by the models' steady-state checks.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numpy as np

#: a row is decided when every Routh first-column entry exceeds HURWITZ_RTOL times its magnitude.
#: Rounding moves an entry by a few eps times its magnitude (< 1e-14 for n <= 8), so a decided
#: sign also holds, to first order, for every matrix whose entries differ from the given ones by
#: relative amounts up to ~1e-10 (models/tao_enzyme uses the same value)
HURWITZ_RTOL = 1e-9
#: a first-column entry below this is undecided: with the largest entry of a row in
#: [2**-_SAFE_EXPONENT, 2**_SAFE_EXPONENT], only gradual underflow, whose rounding is not
#: relative, could bring one this low
_TINY = 1e-250
#: rows whose largest entry lies outside [2**-60, 2**60] are scaled by a power of two (exact)
#: first, so that no product of up to 8 entries over- or underflows
_SAFE_EXPONENT = 60


class _Expansion(NamedTuple):
    """How ``det(lambda I - A)`` is expanded for one sparsity pattern (see :func:`_expansion`)."""

    n: int
    entries: np.ndarray  # (m,) flat indices i*n + j of the entries used
    #: (source, entry, target, sign, diagonal, last): move from one state to the next with one more
    #: row assigned to a column; ``last``: no later move reads the source state
    steps: tuple[tuple[int, int, int, int, bool, bool], ...]
    degree: tuple[int, ...]  # per state: highest power of lambda its polynomial can hold


def _extend(states: set[int], columns: list[int]) -> set[int]:
    """The column sets (bitmasks) after one more row, whose non-zero columns are ``columns``."""
    return {s | 1 << j for s in states for j in columns if not s >> j & 1}


def _expansion(pattern: np.ndarray) -> _Expansion:
    """The dynamic programme of ``det(lambda I - A)`` for entries non-zero where ``pattern`` is.

    Built once per pattern and remembered: a model's Jacobians share a few patterns, and building
    one costs more than expanding a small batch with it (e.g. a calibration's 14 sites).
    """
    pattern = np.asarray(pattern, dtype=bool)
    return _built_expansion(pattern.shape[0], pattern.tobytes())


@lru_cache(maxsize=64)
def _built_expansion(n: int, pattern_bytes: bytes) -> _Expansion:
    """:func:`_expansion` of the ``n`` x ``n`` boolean pattern stored in ``pattern_bytes``.

    Rows are taken in a greedy order (next, the one that leaves the fewest sets of used columns),
    rows and columns relabelled alike (``P B P^T`` has the determinant of B). A state is the set
    of columns assigned to the rows taken so far; it holds the sum, over those partial
    permutations, of their signed products of entries of ``lambda I - A``, a polynomial in
    lambda. Moves into states from which no permutation can be completed are dropped.
    """
    pattern = np.frombuffer(pattern_bytes, dtype=bool).reshape(n, n) | np.eye(n, dtype=bool)
    columns = [[int(j) for j in np.flatnonzero(row)] for row in pattern]
    order: list[int] = []
    frontier = {0}
    while len(order) < n:
        _, best = min((len(_extend(frontier, columns[i])), i) for i in range(n) if i not in order)
        order.append(best)
        frontier = _extend(frontier, columns[best])
    pattern = pattern[np.ix_(order, order)]
    columns = [[int(j) for j in np.flatnonzero(row)] for row in pattern]
    levels = [{0}]
    for k in range(n):
        levels.append(_extend(levels[-1], columns[k]))
    alive = {(1 << n) - 1}
    by_level = []
    for k in range(n - 1, -1, -1):  # backwards: keep the moves from which every column is reached
        moves = [(source, j, source | 1 << j) for source in sorted(levels[k]) for j in columns[k]
                 if not source >> j & 1 and source | 1 << j in alive]
        by_level.append((k, moves))
        alive = {source for source, _, _ in moves}
    state: dict[int, int] = {0: 0}  # bitmask -> state number
    entry: dict[int, int] = {}  # flat index i*n + j -> entry number
    degree, steps = [0], []
    for k, moves in reversed(by_level):
        for source, j, target in moves:
            t = state.setdefault(target, len(degree))
            if t == len(degree):
                degree.append(0)
            degree[t] = max(degree[t], degree[state[source]] + (j == k))
            sign = -1 if bin(source >> (j + 1)).count("1") % 2 else 1  # used columns after j: inversions
            e = entry.setdefault(order[k] * n + order[j], len(entry))
            steps.append((state[source], e, t, sign, j == k))
    last_use = {step[0]: i for i, step in enumerate(steps)}
    return _Expansion(n, np.array(list(entry), dtype=np.intp),
                      tuple((*step, last_use[step[0]] == i) for i, step in enumerate(steps)), tuple(degree))


def _gather(matrix: np.ndarray) -> tuple[_Expansion, np.ndarray]:
    """The expansion of a batch's sparsity pattern, and the entries it uses, shape (m, rows).

    ``matrix`` (rows, n, n) may be stored row-major (C order) or entry-major (a view
    ``np.moveaxis(a, -1, 0)`` of a C-ordered ``a`` of shape (n, n, rows), each entry contiguous
    over rows); any other layout is copied to C order first.
    """
    rows, n = matrix.shape[0], matrix.shape[-1]
    by_entry = np.moveaxis(matrix, 0, -1)
    if by_entry.flags.c_contiguous:  # entry-major: every entry's rows are contiguous already
        flat = by_entry.reshape(n * n, rows)
        plan = _expansion((flat != 0).any(axis=1).reshape(n, n))  # NaN counts as non-zero
        return plan, flat[plan.entries]
    flat = np.ascontiguousarray(matrix).reshape(rows, n * n)
    plan = _expansion((flat != 0).any(axis=0).reshape(n, n))
    return plan, np.ascontiguousarray(flat.T[plan.entries])


def _expand(plan: _Expansion, entries: np.ndarray, absolute: bool = False) -> np.ndarray:
    """c_1 .. c_n of ``det(lambda I - A)`` from the entries ``plan`` uses, shape (n, rows).

    With ``absolute``, the same expansion on ``|a_ij|`` with every sign positive: the sum of the
    absolute values of each coefficient's monomials (``entries`` must then be ``|a_ij|``).
    """
    rows = entries.shape[1]
    plus, minus = (entries, entries) if absolute else (-entries, entries)  # factor for sign +1, -1
    polys: list[np.ndarray | None] = [None] * len(plan.degree)
    for source, entry, target, sign, diagonal, last in plan.steps:
        sign = 1 if absolute else sign
        poly, held = polys[target], polys[source]
        factor = plus[entry] if sign > 0 else minus[entry]
        if held is None:  # the first row: the empty product is 1
            poly = polys[target] = np.zeros((plan.degree[target] + 1, rows)) if poly is None else poly
            poly[0] += factor
            if diagonal:
                poly[1] += sign
            continue
        d = held.shape[0]
        if poly is None:  # first move into this state
            poly = polys[target] = np.empty((plan.degree[target] + 1, rows))
            np.multiply(held, factor, out=poly[:d])
            poly[d:] = 0.0
        else:
            poly[:d] += held * factor
        if diagonal:  # the lambda of lambda - a_ii
            if sign > 0:
                poly[1 : d + 1] += held
            else:
                poly[1 : d + 1] -= held
        if last:
            polys[source] = None
    full = polys[-1]  # every column used: the whole polynomial, coefficients of lambda**0 .. lambda**n
    return full[-2::-1]  # type: ignore[index]


def _magnitude_bound(plan: _Expansion, size: np.ndarray) -> np.ndarray:
    """Upper bounds on the magnitudes of c_1 .. c_n from the entries' absolute values ``size``.

    ``e_k(r)``, the elementary symmetric polynomial of the rows' absolute sums, or of the
    columns', whichever is smaller: the permanent of a k x k principal submatrix of ``|A|`` is at
    most the product of its rows' (columns') absolute sums. A few times cheaper than the exact
    magnitudes, and within a factor ~10-400 of them on the models' Jacobians; not invariant under
    a diagonal similarity, so loose for badly scaled matrices.
    """
    n = plan.n
    row_sum, col_sum = np.zeros((n, size.shape[1])), np.zeros((n, size.shape[1]))
    for e, flat in enumerate(plan.entries.tolist()):
        row_sum[flat // n] += size[e]
        col_sum[flat % n] += size[e]
    return np.minimum(_elementary_symmetric(row_sum), _elementary_symmetric(col_sum))


def _elementary_symmetric(values: np.ndarray) -> np.ndarray:
    """e_1 .. e_n of the columns of ``values`` (n, rows), shape (n, rows)."""
    n = values.shape[0]
    e = np.zeros((n + 1, values.shape[1]))
    e[0] = 1.0
    for i in range(n):
        e[1 : i + 2] += values[i] * e[: i + 1]
    return e[1:]


def characteristic_polynomial(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of ``det(lambda I - A) = lambda**n + c_1 lambda**(n-1) + ... + c_n`` of every row.

    Parameters
    ----------
    matrix : ndarray, shape (rows, n, n)
        Real matrices. [any unit u]

    Returns
    -------
    coefficients : ndarray, shape (n, rows)
        c_1 .. c_n. [u .. u**n]
    magnitudes : ndarray, shape (n, rows)
        The same expansion on the entries' absolute values with every sign positive: the sum of
        the absolute values of each coefficient's monomials. A coefficient's rounding error is
        below ~2n eps times this, and a relative change delta of every entry moves it by at most
        ~k delta times this. [u .. u**n]

    Notes
    -----
    ``c_k`` is ``(-1)**k`` times the sum of the k x k principal minors, expanded over the
    permutations the batch's sparsity pattern allows (MIMICS' 7 x 7 Jacobian: 50 steps of a few
    vector operations; a dense 8 x 8 matrix: 1024). Without a division, each coefficient is as accurate as its monomials allow, also
    when the eigenvalues span many orders of magnitude (where Faddeev-LeVerrier, or any method
    through power sums, loses the small ones).
    """
    matrix = np.asarray(matrix, dtype=float)
    n = matrix.shape[-1]
    if matrix.shape[0] == 0:
        return np.zeros((n, 0)), np.zeros((n, 0))
    plan, entries = _gather(matrix)
    return _expand(plan, entries), _expand(plan, np.abs(entries), absolute=True)


def routh_hurwitz(coefficients: np.ndarray, magnitudes: np.ndarray,
                  rtol: float = HURWITZ_RTOL) -> tuple[np.ndarray, np.ndarray]:
    """Whether every root of ``lambda**n + c_1 lambda**(n-1) + ... + c_n`` has a negative real part.

    Parameters
    ----------
    coefficients : array_like, shape (n, rows)
        c_1 .. c_n of each row's monic polynomial, n >= 1. [u .. u**n]
    magnitudes : array_like, shape (n, rows)
        Bounds on the coefficients' errors up to a common factor, at least their absolute values:
        e.g. the same expressions evaluated on absolute values (:func:`characteristic_polynomial`,
        ``models.tao_enzyme.equations.characteristic_coefficients``). [u .. u**n]
    rtol : float
        A row is decided when every Routh first-column entry exceeds ``rtol`` times its
        magnitude. [1]

    Returns
    -------
    stable : ndarray of bool, shape (rows,)
        Every Routh first-column entry is positive (trusted where ``decided``).
    decided : ndarray of bool, shape (rows,)
        False where a first-column entry is within ``rtol`` of its magnitude, below ``_TINY``, or
        not finite: decide those rows otherwise (eigenvalues).

    Notes
    -----
    Routh's array starts from the rows ``(1, c_2, c_4, ...)`` and ``(c_1, c_3, ...)``; each next
    row is ``r_new[t] = r_prev[t+1] - q r_cur[t+1]`` with ``q = r_prev[0]/r_cur[0]``. All roots
    lie in the open left half-plane iff the n first-column entries after the leading 1 are all
    positive (they are ratios of successive Hurwitz determinants; the Lienard-Chipart form of
    the same test). Magnitudes follow each operation to first order,
    ``m(q) = (m(a) + |q| m(b))/|b|`` for ``q = a/b`` and ``m(x) = m(u) + |q| m(v) + |v| m(q)``
    for ``x = u - q v``; each is at least the size of the terms it sums, so it also bounds the
    step's rounding.
    """
    c = np.asarray(coefficients, dtype=float)
    m = np.asarray(magnitudes, dtype=float)
    n, rows = c.shape
    prev = np.concatenate((np.ones((1, rows)), c[1::2]))  # (1, c_2, c_4, ...); 1 is exact
    prev_m = np.concatenate((np.zeros((1, rows)), m[1::2]))
    cur, cur_m = c[0::2], m[0::2]  # (c_1, c_3, ...)
    first, first_m = np.empty((n, rows)), np.empty((n, rows))
    first[0], first_m[0] = cur[0], cur_m[0]
    with np.errstate(all="ignore"):
        for k in range(1, n):
            q = prev[0] / cur[0]
            q_abs = np.abs(q)
            q_m = (prev_m[0] + q_abs * cur_m[0]) / np.abs(cur[0])
            new, new_m = prev[1:].copy(), prev_m[1:].copy()  # r_cur[t+1] = 0 beyond its end
            used = cur.shape[0] - 1
            if used:
                new[:used] -= q * cur[1:]
                new_m[:used] += q_abs * cur_m[1:] + np.abs(cur[1:]) * q_m
            prev, prev_m, cur, cur_m = cur, cur_m, new, new_m
            first[k], first_m[k] = cur[0], cur_m[0]
        size = np.abs(first)
        decided = np.all((size > rtol * first_m) & (size > _TINY), axis=0)  # False for NaN and inf too
    return np.all(first > 0.0, axis=0), decided


def hurwitz_stable(matrix: np.ndarray, rtol: float = HURWITZ_RTOL) -> tuple[np.ndarray, np.ndarray]:
    """Local stability of every row by the Routh-Hurwitz criterion, and where it is decided.

    Parameters
    ----------
    matrix : ndarray, shape (rows, n, n)
        Real matrices, e.g. Jacobians at steady states; fastest when each entry is contiguous
        over rows (``np.moveaxis(a, -1, 0)`` of an array ``a`` of shape (n, n, rows)). [any unit]
    rtol : float
        See :func:`routh_hurwitz`. [1]

    Returns
    -------
    stable : ndarray of bool, shape (rows,)
        Every eigenvalue has a negative real part (trusted where ``decided``).
    decided : ndarray of bool, shape (rows,)
        False for a row with an entry that is not finite, and where a Routh quantity is within
        ``rtol`` of its magnitude (an eigenvalue on or close to the imaginary axis, relative to
        the entries): decide those with eigenvalues (:func:`unstable_rows` does).

    Notes
    -----
    The verdict of :func:`routh_hurwitz` on :func:`characteristic_polynomial`, faster: rows are
    first tested with a cheaper bound on the magnitudes (:func:`_magnitude_bound`), and only the
    rows it leaves undecided with the exact ones (a smaller magnitude only decides more). A row
    whose largest entry lies outside ``[2**-60, 2**60]`` is first scaled by a power of two (exact,
    the signs of the eigenvalues' real parts unchanged), so that no coefficient over- or
    underflows. A decided row's answer does not depend on the other rows of the batch.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    plan, entries = _gather(matrix)
    size = np.abs(entries)
    top = size.max(axis=0)  # NaN or inf where an entry is not finite
    finite = np.isfinite(top)
    _, exponent = np.frexp(np.where(finite, top, 1.0))
    if (np.abs(exponent) > _SAFE_EXPONENT).any():
        exponent = np.where((np.abs(exponent) > _SAFE_EXPONENT) & (top > 0.0), exponent, 0)
        entries, size = np.ldexp(entries, -exponent), np.ldexp(size, -exponent)
    with np.errstate(all="ignore"):
        coefficients = _expand(plan, entries)
        stable, decided = routh_hurwitz(coefficients, _magnitude_bound(plan, size), rtol)
        retry = np.flatnonzero(~decided & finite)
        if retry.size:  # the bound may be loose: the exact magnitudes, for these rows only
            stable[retry], decided[retry] = routh_hurwitz(
                coefficients[:, retry], _expand(plan, size[:, retry], absolute=True), rtol)
    return stable, decided & finite


def max_real_eigenvalue(matrix: np.ndarray) -> np.ndarray:
    """Largest real part of the eigenvalues of every row (``numpy.linalg.eigvals``).

    Parameters
    ----------
    matrix : ndarray, shape (rows, n, n)
        Real matrices. [any unit u]

    Returns
    -------
    ndarray, shape (rows,)
        [u]; NaN for a row with an entry that is not finite (it has no eigenvalues).
    """
    matrix = np.asarray(matrix, dtype=float)
    result = np.full(matrix.shape[0], np.nan)
    finite = np.isfinite(matrix).all(axis=(1, 2))
    if finite.all() and finite.size:
        return np.linalg.eigvals(matrix).real.max(axis=1)
    if finite.any():
        result[finite] = np.linalg.eigvals(matrix[finite]).real.max(axis=1)
    return result


def unstable_rows(matrix: np.ndarray, rtol: float = HURWITZ_RTOL,
                  eigen_matrix: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows with an eigenvalue of real part >= 0 (or none at all), and that largest real part.

    Parameters
    ----------
    matrix : ndarray, shape (rows, n, n)
        Real matrices. [any unit u]
    rtol : float
        See :func:`routh_hurwitz`. [1]
    eigen_matrix : callable, optional
        ``eigen_matrix(index)`` gives, for the row numbers ``index``, matrices similar to
        ``matrix[index]`` (same eigenvalues, e.g. better scaled) whose eigenvalues are computed
        instead. Default: ``matrix[index]``.

    Returns
    -------
    index : ndarray of intp
        Row numbers, increasing, whose largest real part is not < 0 (NaN included: a matrix with
        an entry that is not finite).
    max_real : ndarray, shape (len(index),)
        Their largest real part (:func:`max_real_eigenvalue`). [u]

    Notes
    -----
    Rows that :func:`hurwitz_stable` decides stable are stable; every other row (undecided, or
    decided unstable) is judged by ``numpy.linalg.eigvals``, so the answer is the one eigenvalues
    give, computed for those rows only.
    """
    stable, decided = hurwitz_stable(matrix, rtol)
    check = np.flatnonzero(~(stable & decided))
    if not check.size:
        return check, np.zeros(0)
    values = max_real_eigenvalue(np.asarray(matrix)[check] if eigen_matrix is None else eigen_matrix(check))
    bad = ~(values < 0.0)
    return check[bad], values[bad]

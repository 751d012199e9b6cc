"""Tests of ``models/stability.py``: the Routh-Hurwitz stability test against eigenvalues.

Tolerances: coefficients against exact rational arithmetic within ``2 n eps`` times their
magnitude (the rounding bound the module states: every monomial is a product of at most n
entries, summed along at most n levels); everything else is exact: signs, row sets, and
eigenvalues of the rows left to ``numpy.linalg.eigvals`` (the same call on the same matrices).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from harness.api import load
from models import stability
from models.mimics import MimicsAdapter
from models.stability import (
    characteristic_polynomial,
    hurwitz_stable,
    max_real_eigenvalue,
    routh_hurwitz,
    unstable_rows,
)

ROOT = Path(__file__).resolve().parents[2]
EPS = np.finfo(float).eps
SIZES = range(2, 9)


# -- random matrices ----------------------------------------------------------------------------
def _similar(rng, spectrum_blocks: np.ndarray) -> np.ndarray:
    """``V B V^-1`` for a random well-conditioned V, batch of block-diagonal real B."""
    rows, n, _ = spectrum_blocks.shape
    v = rng.normal(size=(rows, n, n)) + 3.0 * np.eye(n)
    return v @ spectrum_blocks @ np.linalg.inv(v)


def _blocks(rng, real_parts: np.ndarray, imag_parts: np.ndarray) -> np.ndarray:
    """Real block-diagonal matrices: 2x2 blocks [[a, b], [-b, a]] where imag_parts != 0, else a."""
    rows, n = real_parts.shape
    b = np.zeros((rows, n, n))
    idx = np.arange(n)
    b[:, idx, idx] = real_parts
    for k in range(0, n - 1, 2):  # pairs (k, k+1) share the real part of k
        pair = imag_parts[:, k] != 0
        b[pair, k + 1, k + 1] = real_parts[pair, k]
        b[pair, k, k + 1] = imag_parts[pair, k]
        b[pair, k + 1, k] = -imag_parts[pair, k]
    return b


def families(n: int, rows: int, seed: int) -> dict[str, np.ndarray]:
    """Batches of n x n matrices, stable and unstable, of increasing difficulty."""
    rng = np.random.default_rng(seed)
    eye = np.eye(n)
    shift = rng.uniform(0.0, 2.0 * np.sqrt(n), (rows, 1, 1))  # about half of them stable
    dense = rng.normal(size=(rows, n, n)) - shift * eye
    mask = (rng.random((rows, n, n)) < 0.4) | eye.astype(bool)
    sparse = np.where(mask[:1], dense, 0.0)  # one pattern for the whole batch, as a model's Jacobian
    scale = 10.0 ** rng.uniform(-4, 4, (rows, n))
    graded = dense * scale[:, None, :] / scale[:, :, None]  # diagonal similarity: same eigenvalues
    # eigenvalues spread over 8 orders of magnitude, as a soil model's (years to hours), a few
    # unstable; V mixes every pool, so the small ones come from cancellation among the entries
    real = -(10.0 ** rng.uniform(-8, 0, (rows, n))) * rng.choice([1.0, -1.0], (rows, n), p=[0.9, 0.1])
    imag = np.where(rng.random((rows, n)) < 0.5, 10.0 ** rng.uniform(-8, 0, (rows, n)), 0.0)
    spread = _similar(rng, _blocks(rng, real, imag))
    # one real eigenvalue, or the real part of one complex pair, within 1e-15..1e-6 of zero
    near = -rng.uniform(0.1, 2.0, (rows, n))
    near[:, 0] = rng.choice([1.0, -1.0], rows) * 10.0 ** rng.uniform(-15, -6, rows)
    pair_imag = np.zeros((rows, n))
    pair_imag[:, 0] = np.where(rng.random(rows) < 0.5, rng.uniform(0.5, 2.0, rows), 0.0)
    near_axis = _similar(rng, _blocks(rng, near, pair_imag))
    singular = dense.copy()
    singular[:, rng.integers(n)] = 0.0  # a zero row: an exactly zero eigenvalue
    nonfinite = dense.copy()
    bad = rng.random(rows) < 0.2
    nonfinite[bad, rng.integers(n), rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf], bad.sum())
    return {"dense": dense, "sparse": sparse, "graded": graded, "spread": spread, "near_axis": near_axis,
            "singular": singular, "nonfinite": nonfinite}


@pytest.fixture(scope="module")
def batches():
    return {(n, name): m for n in SIZES for name, m in families(n, 600, seed=100 + n).items()}


def test_decided_rows_agree_with_eigenvalues(batches):
    """Where Routh-Hurwitz decides, its verdict is the sign eigenvalues give; most rows are decided."""
    total = decided_total = 0
    for (n, name), matrix in batches.items():
        stable, decided = hurwitz_stable(matrix)
        reference = max_real_eigenvalue(matrix) < 0.0
        np.testing.assert_array_equal(stable[decided], reference[decided], err_msg=f"n={n} {name}")
        total += matrix.shape[0]
        decided_total += decided.sum()
        if name in ("dense", "graded", "sparse"):  # measured: every row decided
            assert decided.mean() > 0.98, (n, name, decided.mean())
            assert 0 < reference[decided].sum() < decided.sum()  # both verdicts occur
    # 'spread' (small eigenvalues made by cancellation among O(1) entries: the coefficients lose
    # them relative to their magnitudes) and 'near_axis' leave many rows to eigenvalues
    assert total == 7 * 7 * 600 and decided_total > 0.6 * total


def test_undecided_rows_are_those_near_the_axis_or_not_finite(batches):
    """Undecided: an eigenvalue within ~1e-9 (relative) of the imaginary axis, or a non-finite entry."""
    for n in SIZES:
        near = batches[n, "near_axis"]
        _, decided = hurwitz_stable(near)
        assert 0.3 < (~decided).mean() < 1.0, n  # the fall-back is exercised, but not for every row
        _, decided = hurwitz_stable(batches[n, "singular"])
        assert not decided.any()  # c_n = det(-A) = 0 exactly
        matrix = batches[n, "nonfinite"]
        finite = np.isfinite(matrix).all(axis=(1, 2))
        _, decided = hurwitz_stable(matrix)
        assert not decided[~finite].any() and (~finite).sum() > 50


def test_unstable_rows_is_exactly_the_eigenvalue_verdict(batches):
    """With the fall-back, the rows and values are those of eigvals on every row (undecided included)."""
    fallback = 0
    for (n, name), matrix in batches.items():
        reference = max_real_eigenvalue(matrix)
        expected = np.flatnonzero(~(reference < 0.0))
        index, values = unstable_rows(matrix)
        np.testing.assert_array_equal(index, expected, err_msg=f"n={n} {name}")
        np.testing.assert_array_equal(values, reference[expected])
        fallback += (~hurwitz_stable(matrix)[1]).sum()
    assert fallback > 1000


def test_eigen_matrix_is_used_for_the_reported_rows():
    """``eigen_matrix`` (a similar matrix) gives the values, for the rows not decided stable only."""
    matrix = np.array([np.diag([-1.0, -2.0]), np.diag([0.5, -2.0]), [[0.0, 1.0], [-1.0, 0.0]]])
    asked = []

    def similar(index):
        asked.append(index.tolist())
        d = np.diag([1.0, 1e3])
        return np.linalg.inv(d) @ matrix[index] @ d

    index, values = unstable_rows(matrix, eigen_matrix=similar)
    assert asked == [[1, 2]] and index.tolist() == [1, 2]
    np.testing.assert_allclose(values, [0.5, 0.0], atol=1e-15)


# -- known matrices and polynomials -------------------------------------------------------------
@pytest.mark.parametrize(("matrix", "stable", "decided"), [
    ([[-1.0]], True, True),
    ([[2.0]], False, True),
    ([[0.0]], False, False),
    (np.diag([-1.0, -2.0, -3.0]), True, True),
    (np.diag([-1.0, 2.0, -3.0]), False, True),
    ([[0.0, 1.0], [-1.0, 0.0]], False, False),  # +-i: on the axis
    ([[-1e-3, 1.0], [-1.0, -1e-3]], True, True),  # -1e-3 +- i
    ([[1e-3, 1.0], [-1.0, 1e-3]], False, True),
    ([[-1.0, 1e6], [0.0, -1.0]], True, True),  # non-normal: a Jordan-like block
    ([[-2.0, 1.0, 0.0], [0.0, -2.0, 1.0], [1.0, 0.0, -2.0]], True, True),  # -1 and -2.5 +- 0.87i
    ([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]], False, False),  # (l + 1)(l**2 + 1)
    ([[1.0, 1.0], [-2.0, -1.0]], False, False),  # trace 0, det 1: +-i again, after cancellation
])
def test_known_matrices(matrix, stable, decided):
    s, d = hurwitz_stable(np.asarray(matrix, dtype=float)[None])
    assert (bool(d[0]), bool(s[0]) if d[0] else None) == (decided, stable if decided else None)


@pytest.mark.parametrize("roots", [
    [-1.0] * 8,  # (l + 1)**8: a repeated root is no problem for the coefficients
    [-1e-8, -1e-4, -1.0, -1e4],
    [-1.0, -2.0, 0.5],
    [-1.0 + 2j, -1.0 - 2j, -3.0],
    [1e-3 + 1j, 1e-3 - 1j, -1.0, -1.0, -2.0],  # unstable pair close to the axis: still decided
    [-0.5 + 1j, -0.5 - 1j, 0.2 + 5j, 0.2 - 5j],
])
def test_routh_hurwitz_on_polynomials_with_known_roots(roots):
    coefficients = np.poly(roots).real[1:, None]
    stable, decided = routh_hurwitz(coefficients, np.abs(coefficients) * 4.0)
    assert decided[0] and stable[0] == all(np.real(roots) < 0)


def test_routh_hurwitz_takes_every_row_separately():
    # columns: (l + 1)**3; l**3 + l (roots 0, +-i); l**3 + 3 l**2 - l + 2 (a positive pair)
    c = np.array([[3.0, 0.0, 3.0], [3.0, 1.0, -1.0], [1.0, 0.0, 2.0]])
    stable, decided = routh_hurwitz(c, np.abs(c) + 1.0)
    assert decided.tolist() == [True, False, True] and stable[[0, 2]].tolist() == [True, False]


def test_empty_batch():
    assert [a.shape for a in hurwitz_stable(np.zeros((0, 3, 3)))] == [(0,), (0,)]
    assert [a.shape for a in characteristic_polynomial(np.zeros((0, 3, 3)))] == [(3, 0), (3, 0)]
    assert [a.shape for a in unstable_rows(np.zeros((0, 3, 3)))] == [(0,), (0,)]


def test_scaled_rows_keep_their_verdict():
    """Huge or tiny entries (coefficients would over- or underflow) are scaled, not left undecided."""
    base = np.array([[[-1.0, 3.0, 0.0], [-3.0, -1.0, 2.0], [0.0, -2.0, -4.0]],  # -1.3 +- 3.4i, -3.4
                     [[1.0, 3.0, 0.0], [-3.0, 1.0, 2.0], [0.0, -2.0, -4.0]]])  # 0.69 +- 3.2i, -3.4
    for factor in (1.0, 1e-150, 1e150, 2.0 ** -1000):
        stable, decided = hurwitz_stable(base * factor)
        assert decided.all() and stable.tolist() == [True, False], factor


# -- coefficients -------------------------------------------------------------------------------
def _exact_coefficients(matrix: np.ndarray) -> list[Fraction]:
    """c_1..c_n of det(lambda I - A) in exact rational arithmetic (Faddeev-LeVerrier)."""
    n = matrix.shape[0]
    a = [[Fraction(float(x)) for x in row] for row in matrix]
    m = [[Fraction(0)] * n for _ in range(n)]
    c = [Fraction(1)]
    for k in range(1, n + 1):
        m = [[sum((a[i][t] * m[t][j] for t in range(n)), Fraction(0)) + (c[-1] if i == j else 0)
              for j in range(n)] for i in range(n)]
        c.append(-sum((a[i][t] * m[t][i] for i in range(n) for t in range(n)), Fraction(0)) / k)
    return c[1:]


@pytest.mark.parametrize("n", [2, 4, 6])
def test_coefficients_are_exact_to_their_rounding_bound(batches, n):
    for name in ("sparse", "graded", "spread"):
        matrix = batches[n, name][:25]
        coefficients, magnitudes = characteristic_polynomial(matrix)
        for row in range(matrix.shape[0]):
            exact = _exact_coefficients(matrix[row])
            for k in range(n):
                error = abs(Fraction(float(coefficients[k, row])) - exact[k])
                assert error <= Fraction(2 * n * EPS) * Fraction(float(magnitudes[k, row])), (name, row, k)
                assert abs(exact[k]) <= Fraction(float(magnitudes[k, row])) * (1 + Fraction(2 * n * EPS))


def test_coefficients_of_a_batch_do_not_depend_on_its_pattern(batches):
    """A row's coefficients alone equal its coefficients inside a batch with a wider pattern."""
    matrix = batches[5, "sparse"][:40]
    together = characteristic_polynomial(np.concatenate([matrix, batches[5, "dense"][:5]]))[0][:, :40]
    alone, magnitudes = characteristic_polynomial(matrix)
    assert (np.abs(together - alone) <= 2 * 2 * 5 * EPS * magnitudes).all()  # each within its rounding bound


# -- the models ---------------------------------------------------------------------------------
def _decide_nothing(matrix, rtol=stability.HURWITZ_RTOL):
    return np.zeros(len(matrix), dtype=bool), np.zeros(len(matrix), dtype=bool)


@pytest.fixture(scope="module")
def flagship():
    plan = load(ROOT / "scenarios" / "beta_sweep.yaml")
    return plan, [m for m in plan.members if m.model in ("mimics", "millennial")]


def test_model_verdicts_equal_the_eigenvalue_path(flagship, monkeypatch):
    """MIMICS and Millennial on random rows of the flagship's boxes: same statuses, messages and
    pools as with every row judged by eigenvalues (the code before the Routh-Hurwitz test)."""
    plan, members = flagship
    assert [m.model for m in members] == ["mimics"] * 4 + ["millennial"] * 3
    unstable = 0
    for k, member in enumerate(members):
        forcing = member.random_forcing(plan.scenario.drivers, 3000, np.random.default_rng(k))
        theta = member.theta(3000)
        new = member.adapter.steady_state(theta, forcing)
        with monkeypatch.context() as patch:
            patch.setattr(stability, "hurwitz_stable", _decide_nothing)
            old = member.adapter.steady_state(theta, forcing)
        np.testing.assert_array_equal(new.status, old.status, err_msg=member.label)
        assert list(new.message) == list(old.message), member.label
        np.testing.assert_array_equal(new.pools, old.pools, err_msg=member.label)
        unstable += sum("stable" in text for text in new.message)
    assert unstable > 1000  # Millennial at beta = 1: about half its rows are saddles


def test_unstable_model_rows_are_reported_with_their_eigenvalue(flagship):
    """Millennial at beta = 1: the rows flagged unstable are those eigvals finds unstable."""
    plan, members = flagship
    member = members[4]
    assert member.variant["beta"] == 1.0
    forcing = member.random_forcing(plan.scenario.drivers, 2000, np.random.default_rng(11))
    result = member.adapter.steady_state(member.theta(2000), forcing)
    flagged = np.array(["not a stable fixed point" in text for text in result.message])
    assert 0.2 < flagged.mean() < 0.8
    assert all("real part" in text and "d-1 (must be < 0)" in text for text in result.message[flagged])


def test_mimics_unstable_rows_quote_the_eigenvalue_of_the_old_path(monkeypatch):
    """MIMICS near its Hopf point (test_mimics): the messages quote J_z's eigenvalue, as before."""
    adapter = MimicsAdapter()
    rng = np.random.default_rng(3)
    hopf = {"c_input": 1161.0, "cue_scale": 0.5841, "clay": 8.838, "lignin_n": 17.61, "mic_turnover_scale": 1.471}
    forcing = adapter.make_forcing(6, temperature=rng.uniform(-1.0, 1.0, 6), **hopf)
    theta = adapter.default_theta(6)
    new = adapter.steady_state(theta, forcing)
    monkeypatch.setattr(stability, "hurwitz_stable", _decide_nothing)
    old = adapter.steady_state(theta, forcing)
    assert sum("unstable steady state: largest Re(eigenvalue) = " in text for text in new.message) >= 3
    assert list(new.message) == list(old.message)
    np.testing.assert_array_equal(new.status, old.status)

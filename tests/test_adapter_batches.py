"""How ``BaseAdapter.steady_state`` handles a batch: bounds, shared work, blocks and its fast checks.

The per-column bounds are compared against closed bounds moved one float inwards for open and
infinite ends, a column at a time only where its least or greatest value is outside; the outputs
are summed column by column; ``_prepare`` runs once per batch; ``block_rows`` splits a batch.
Each must give what the plain definitions give, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.adapter import (
    BaseAdapter,
    Driver,
    Interval,
    Parameter,
    Pool,
    Status,
    SteadyStateParts,
    _outside_columns,
    _row_sum,
    column_major,
)

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.5, np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324, -5e-324,
                    np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0), np.nextafter(2.5, 3.0), np.nextafter(2.5, 0.0)])
INTERVALS = [Interval(lo, hi, (a, b)) for lo, hi in ((0.0, 1.0), (-1.0, 2.5), (0.0, np.inf), (-np.inf, 0.0),
                                                     (-np.inf, np.inf), (1.0, 1.0), (2.5, 1e308))
             for a in (False, True) for b in (False, True)]


def _metas(optional: bool) -> list[Parameter]:
    return [Parameter(f"p{j}", "1", 0.0, interval, "test", "test", optional=optional)
            for j, interval in enumerate(INTERVALS)]


@pytest.mark.parametrize("optional", [False, True])
def test_outside_columns_is_each_columns_contains(optional):
    """Every special value (signed zeros, neighbours of the bounds, infinities, NaN) in every kind of interval."""
    metas = _metas(optional)
    rng = np.random.default_rng(5)
    matrix = rng.choice(SPECIAL, (4000, len(metas)))
    matrix[:, 0] = 0.5  # a column inside everywhere: skipped by its least and greatest value
    expected = np.column_stack([~m.contains(matrix[:, j]) for j, m in enumerate(metas)])
    outside = _outside_columns(column_major(matrix), metas)
    np.testing.assert_array_equal(outside.T, expected)
    assert not expected[:, 0].any()


def test_outside_columns_is_none_when_every_entry_is_inside():
    metas = [m for m in _metas(optional=True) if any(m.contains(SPECIAL[np.isfinite(SPECIAL)]))]  # not empty
    inside = [SPECIAL[np.isfinite(SPECIAL) & m.contains(SPECIAL)] for m in metas]
    matrix = np.column_stack([np.resize(values, 40) for values in inside])
    assert _outside_columns(column_major(matrix), metas) is None
    matrix[3, 2] = np.nan  # admitted in an optional column only
    assert _outside_columns(column_major(matrix), metas) is None
    strict = [Parameter(m.name, "1", 0.0, m.interval, "test", "test") for m in metas]
    outside = _outside_columns(column_major(matrix), strict)
    assert outside is not None and np.argwhere(outside).tolist() == [[2, 3]]


@pytest.mark.parametrize("k", range(10))
def test_row_sum_is_numpys_row_sum_bit_for_bit(k):
    """Fewer than 8 columns are added one by one from 0.0, as numpy does; 8 or more are numpy's own."""
    rng = np.random.default_rng(k)
    matrix = rng.uniform(-1.0, 1.0, (5000, 12)) * 10.0 ** rng.integers(-8, 8, (5000, 12))
    matrix[rng.uniform(size=matrix.shape) < 0.05] = -0.0
    picked = sorted(rng.choice(12, k, replace=False).tolist())
    expected = matrix[:, picked].sum(axis=1)
    total = _row_sum(matrix, column_major(matrix), picked)
    np.testing.assert_array_equal(total.view(np.int64), expected.view(np.int64))


def test_column_major_is_the_transpose():
    matrix = np.random.default_rng(0).uniform(size=(1300, 7))
    np.testing.assert_array_equal(column_major(matrix), matrix.T)
    np.testing.assert_array_equal(column_major(np.asfortranarray(matrix)), matrix.T)
    out = np.empty((7, 2000))[:, :1300]
    assert column_major(matrix, out=out) is out
    np.testing.assert_array_equal(out, matrix.T)


class Shared(BaseAdapter):
    """Two pools whose rates ``_prepare`` computes once, for the domain check and the solver; counts its calls."""

    name = "shared"
    description = "a test model with _prepare"
    reference = "no publication: a test model"
    steady_state_method = "closed form"
    parameters = (Parameter("k", "yr-1", 0.5, Interval(0.0, 10.0, (True, False)), "decay", "test"),
                  Parameter("e", "1", 0.4, Interval(0.0, 1.0, (True, True)), "efficiency", "test"))
    drivers = (Driver("c_input", "g C m-2 yr-1", "input", Interval(0.0, np.inf, (True, True)), 300.0),
               Driver("cue_scale", "1", "scales e", Interval(0.0, np.inf, (True, True)), 1.0))
    pools = (Pool("litter", "g C m-2", "litter", "litter"), Pool("som", "g C m-2", "som", "som"))
    outputs = ("soc", "soc_total", "respiration", "cue_bulk")
    calls: list[int]

    class Rates:
        def __init__(self, k, e, c_input):
            self.k, self.e, self.c_input = k, e, c_input

        def take(self, rows):
            return Shared.Rates(self.k[rows], self.e[rows], self.c_input[rows])

    def __init__(self, **options):
        super().__init__(**options)
        self.calls = []  # a test's probe, not state the results depend on

    def _prepare(self, parameters, drivers):
        self.calls.append(parameters["k"].shape[0])
        return Shared.Rates(parameters["k"], parameters["e"] * drivers["cue_scale"], drivers["c_input"])

    def _domain_violations(self, theta, forcing, prepared=None):
        rates = prepared if prepared is not None else self._prepare(dict(zip(self.parameter_names, theta.T)),
                                                                     dict(zip(self.driver_names, forcing.T)))
        return [(rates.e >= 1.0, {})]

    def _steady_state(self, theta, forcing, prepared=None):
        assert prepared is not None and prepared.k.shape[0] == theta.shape[0]
        pools = np.column_stack([prepared.c_input / prepared.k, prepared.e * prepared.c_input / 0.02])
        return SteadyStateParts(pools, np.zeros(theta.shape[0], dtype=np.int8))

    def _tendencies(self, theta, forcing, pools):
        k, e = theta[:, 0], theta[:, 1] * forcing[:, 1]
        uptake, decay = k * pools[:, 0], 0.02 * pools[:, 1]
        fluxes = {"uptake": uptake, "growth": e * uptake, "respiration": uptake - e * uptake + decay,
                  "leaching": np.zeros(len(theta))}
        return np.column_stack([forcing[:, 0] - uptake, e * uptake - decay]), fluxes


def test_prepare_runs_once_and_is_taken_to_the_rows_solved():
    model = Shared()
    theta = model.default_theta(6, k=[0.5, 20.0, 0.5, 0.5, 0.5, 0.5])  # row 1 outside k's bounds
    forcing = model.make_forcing(6, cue_scale=[1.0, 1.0, 3.0, 1.0, 1.0, 1.2])  # row 2 breaks e < 1
    result = model.steady_state(theta, forcing)
    assert model.calls == [5]  # the rows within every column's interval, once
    assert list(result.status) == [Status.OK, Status.OUT_OF_DOMAIN, Status.OUT_OF_DOMAIN, Status.OK, Status.OK,
                                   Status.OK]
    alone = [model.steady_state(theta[[i]], forcing[[i]]) for i in (0, 3, 4, 5)]
    for i, one in zip((0, 3, 4, 5), alone):
        np.testing.assert_array_equal(result.pools[i], one.pools[0])
        np.testing.assert_array_equal(result.outputs[i], one.outputs[0])


@pytest.mark.parametrize("block", [1, 3, 7, 64])
def test_blocks_give_the_batch_bit_for_bit(monkeypatch, block):
    from models.tao_enzyme import TaoEnzymeAdapter

    model = TaoEnzymeAdapter()
    rng = np.random.default_rng(3)
    n = 50
    forcing = model.make_forcing(n, c_input=rng.uniform(100.0, 900.0, n), beta=rng.choice([0.25, 1.0, 1.5], n),
                                 beta_enz=rng.choice([0.5, 1.0], n), cue_scale=rng.uniform(0.8, 1.7, n))
    whole = model.steady_state(model.default_theta(n), forcing)
    assert len(set(whole.status.tolist())) > 1  # OK, out-of-domain and failed rows
    monkeypatch.setattr(TaoEnzymeAdapter, "block_rows", block)
    blocks = model.steady_state(model.default_theta(n), forcing)
    np.testing.assert_array_equal(blocks.pools, whole.pools)
    np.testing.assert_array_equal(blocks.outputs, whole.outputs)
    np.testing.assert_array_equal(blocks.status, whole.status)
    assert list(blocks.message) == list(whole.message)


def test_an_empty_batch():
    from models.clm5_firstorder import Clm5FirstOrderAdapter

    model = Clm5FirstOrderAdapter()
    result = model.steady_state(model.default_theta(0), model.make_forcing(0))
    assert result.pools.shape == (0, 7) and result.outputs.shape == (0, 5) and result.status.shape == (0,)


def test_inputs_stay_writable_and_unchanged():
    model = Shared()
    theta, forcing = model.default_theta(4), model.make_forcing(4)
    before = theta.copy(), forcing.copy()
    model.steady_state(theta, forcing)
    assert theta.flags.writeable and forcing.flags.writeable
    np.testing.assert_array_equal(theta, before[0])
    np.testing.assert_array_equal(forcing, before[1])

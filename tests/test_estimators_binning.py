"""Tests of the binning and plug-in MI estimators against truths from outside the code.

Truth comes from: ibkit.measures.mutual_information of the contingency table the
samples were built from; the entropy of Binomial(12, 1/2) (scipy.stats) for the
popcount of all 4096 distinct 12-bit patterns, a deterministic layer for which
I(X;T) = H(T) ≤ log2 n; the closed form −½ log2(1 − ρ²) of a Gaussian pair; the
first-order bias (m_xy − m_x − m_y + 1)/(2n) of the plug-in estimate on independent
data; symmetry, units, the registry; and every validation message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from ibkit.estimators._base import available_methods, estimate_mi
from ibkit.estimators.binning import BinningEstimator, PluginEstimator, _symbols
from ibkit.measures import mutual_information

TABLE = np.array([[12, 3, 0, 5], [1, 20, 4, 0], [6, 0, 9, 15]])
BITS12 = ((np.arange(4096)[:, None] >> np.arange(12)) & 1).astype(float)


def _samples_from_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.nonzero(table)
    reps = table[i, j]
    return np.repeat(i, reps), np.repeat(j, reps)


# --- plug-in ------------------------------------------------------------------------


def test_plugin_equals_mutual_information_of_table():
    x, y = _samples_from_table(TABLE)
    est = PluginEstimator().estimate(x, y)
    assert_allclose(est.value, mutual_information(TABLE, normalize=True), rtol=1e-12)
    assert est.method == "plugin" and est.n_samples == TABLE.sum()
    assert est.lower is None and est.upper is None and est.std_error is None


def test_plugin_rows_of_x_are_symbols():
    x, y = _samples_from_table(TABLE)
    x2 = np.stack([x // 2, x % 2], axis=1).astype(float)  # row index as two columns
    y2 = np.stack([y, -y], axis=1).astype(float)  # float 2-D y: rows are symbols
    truth = mutual_information(TABLE, normalize=True)
    assert_allclose(PluginEstimator().estimate(x2, y).value, truth, rtol=1e-12)
    assert_allclose(PluginEstimator().estimate(x2, y2).value, truth, rtol=1e-12)


def test_plugin_miller_madow_matches_occupancy_formula():
    x, y = _samples_from_table(TABLE)
    n = TABLE.sum()
    m_xy = np.count_nonzero(TABLE)
    m_x, m_y = TABLE.shape
    correction_bits = ((m_x - 1) + (m_y - 1) - (m_xy - 1)) / (2 * n) / math.log(2)
    est = PluginEstimator(miller_madow=True).estimate(x, y)
    assert_allclose(est.value, mutual_information(TABLE, normalize=True) + correction_bits)


# --- binning: deterministic layer ---------------------------------------------------


def test_deterministic_layer_gives_entropy_of_layer():
    t = BITS12.sum(axis=1)  # popcount: Binomial(12, 1/2) over distinct inputs
    est = BinningEstimator(n_bins=13, value_range=(-0.5, 12.5)).estimate(BITS12, t)
    h_t = stats.binom(12, 0.5).entropy() / math.log(2)
    assert_allclose(est.value, h_t, rtol=1e-10)
    assert est.value <= math.log2(4096)


def test_injective_layer_reaches_log_n():
    w = np.random.default_rng(0).normal(size=(12, 5))
    t = np.tanh(BITS12 @ w)
    est = BinningEstimator(n_bins=1000, value_range=(-1, 1)).estimate(BITS12, t)
    # I(X;T) = H(T) for a deterministic layer; fine bins keep (almost) all patterns apart
    t_codes = np.unique(np.clip(np.floor((t + 1) / 2 * 1000), 0, 999), axis=0).shape[0]
    assert est.value <= math.log2(4096) + 1e-12
    assert t_codes > 4000 and est.value > 11.9


# --- binning: continuous data -------------------------------------------------------


def test_independent_uniform_small_and_miller_madow_reduces_bias():
    n, k = 5000, 5
    plain, mm = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x, y = rng.uniform(size=n), rng.uniform(size=n)
        plain.append(BinningEstimator(n_bins=k).estimate(x, y).value)
        mm.append(BinningEstimator(n_bins=k, miller_madow=True).estimate(x, y).value)
    assert max(plain) < 0.05
    expected_bias = (k - 1) ** 2 / (2 * n) / math.log(2)
    assert_allclose(np.mean(plain), expected_bias, rtol=0.5)
    assert abs(np.mean(mm)) < 0.25 * np.mean(plain)


def test_gaussian_quantile_bins_near_closed_form():
    rho = 0.8
    rng = np.random.default_rng(1)
    xy = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=20000)
    est = BinningEstimator(n_bins=20, strategy="quantile").estimate(xy[:, 0], xy[:, 1])
    assert abs(est.value - (-0.5 * math.log2(1 - rho**2))) < 0.1


def test_symmetry_for_continuous_y():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(800, 2))
    y = x[:, :1] + rng.normal(size=(800, 1))
    for est in (BinningEstimator(n_bins=8), BinningEstimator(n_bins=8, strategy="quantile")):
        assert_allclose(est.estimate(x, y).value, est.estimate(y, x).value, rtol=1e-12)


def test_units_nats_is_bits_times_ln2():
    rng = np.random.default_rng(3)
    x = rng.normal(size=1000)
    y = x + rng.normal(size=1000)
    est = BinningEstimator(n_bins=10)
    assert_allclose(est.estimate(x, y, units="nats").value, est.estimate(x, y).value * math.log(2))


def test_bin_size_grid_on_unbounded_relu_data():
    rng = np.random.default_rng(4)
    x = np.maximum(rng.normal(size=(2000, 3)) * 1e3, 0.0)  # huge range: no dense grid
    y = np.maximum(x[:, :1] + rng.normal(size=(2000, 1)) * 300, 0.0)
    est = BinningEstimator(bin_size=500.0).estimate(x, y)
    cx = np.unique(np.floor(x / 500.0), axis=0, return_inverse=True)[1].reshape(-1)
    cy = np.floor(y[:, 0] / 500.0).astype(int)
    table = np.zeros((cx.max() + 1, cy.max() - cy.min() + 1))
    np.add.at(table, (cx, cy - cy.min()), 1)
    assert_allclose(est.value, mutual_information(table, normalize=True), rtol=1e-10)
    assert est.params["bin_size"] == 500.0 and est.params["n_bins"] is None


def test_discrete_labels_used_directly():
    x, y = _samples_from_table(TABLE)
    est = BinningEstimator(n_bins=3).estimate(x.astype(float), y)
    assert_allclose(est.value, mutual_information(TABLE, normalize=True), rtol=1e-12)


def test_estimate_mi_goes_through_registry():
    assert {"binning", "plugin"} <= set(available_methods())
    rng = np.random.default_rng(5)
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    got = estimate_mi(x, y, method="binning", n_bins=10)
    assert got.method == "binning" and got.params["n_bins"] == 10
    assert_allclose(got.value, BinningEstimator(n_bins=10).estimate(x, y).value)
    x_d, y_d = _samples_from_table(TABLE)
    assert_allclose(
        estimate_mi(x_d, y_d, method="plugin").value,
        mutual_information(TABLE, normalize=True),
    )


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bins": 0}, "n_bins must be an integer >= 1"),
        ({"n_bins": 2.5}, "n_bins must be an integer >= 1"),
        ({"bin_size": -1}, "bin_size must be a finite number > 0"),
        ({"n_bins": 10, "bin_size": 0.5}, "either n_bins or bin_size, not both"),
        ({"bin_size": 0.5, "value_range": (0, 1)}, "value_range applies to the n_bins grid"),
        ({"value_range": (1, 1)}, "value_range must have lo < hi"),
        ({"value_range": (2, -1)}, "value_range must have lo < hi"),
        ({"value_range": (0, np.nan)}, "value_range must be a pair"),
        ({"value_range": 1.0}, "value_range must be a pair"),
        ({"strategy": "kmeans"}, "strategy must be 'uniform' or 'quantile'"),
        ({"strategy": "quantile", "value_range": (0, 1)}, "value_range needs strategy"),
        ({"strategy": "quantile", "bin_size": 1.0}, "bin_size needs strategy"),
        ({"miller_madow": "yes"}, "miller_madow must be True or False"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BinningEstimator(**kwargs)


def test_bad_plugin_parameter():
    with pytest.raises(ValueError, match="miller_madow must be True or False"):
        PluginEstimator(miller_madow=1)


@pytest.mark.parametrize("est", [BinningEstimator(), PluginEstimator()])
def test_bad_samples(est):
    with pytest.raises(ValueError, match="one row per sample"):
        est.estimate(np.zeros(10), np.zeros(9))
    x = np.zeros(10)
    x[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        est.estimate(x, np.zeros(10))
    with pytest.raises(ValueError, match="at least 2 samples"):
        est.estimate(np.zeros(1), np.zeros(1))


def test_distinct_rows_are_found_exactly_whether_packed_or_compared_as_bytes():
    """Row codes are exact: the symbols of a table equal those of its rows as tuples."""
    rng = np.random.default_rng(5)
    small = rng.integers(-3, 4, size=(500, 6))  # packs into one int64 key
    huge = small * (2**40)  # ranges multiply past 2**62: compared as raw bytes
    floats = rng.standard_normal((500, 3)).round(1)
    for arr in (small, huge, floats):
        rows = [tuple(r) for r in arr]
        symbols = _symbols(arr)
        assert sorted(set(symbols)) == list(range(len(set(rows))))  # codes 0..k-1
        symbol_of = dict(zip(rows, symbols, strict=True))  # same row -> same symbol
        assert all(symbol_of[row] == s for row, s in zip(rows, symbols, strict=True))


@pytest.mark.parametrize(
    "params", [{"n_bins": 30, "value_range": (-1.0, 1.0)}, {"bin_size": 0.07}, {"n_bins": 8}]
)
def test_plane_point_equals_two_estimates(params):
    rng = np.random.default_rng(2)
    t = np.tanh(rng.standard_normal((400, 4)) * 2)
    x_labels, y_labels = np.arange(400) // 2, rng.integers(0, 3, 400)
    est = BinningEstimator(**params)
    i_xt, i_ty = est.plane_point(t, x_labels, y_labels, units="nats")
    assert i_xt.value == pytest.approx(est.estimate(t, x_labels, units="nats").value, rel=1e-12)
    assert i_ty.value == pytest.approx(est.estimate(t, y_labels, units="nats").value, rel=1e-12)
    assert i_xt.value <= np.log(200) + 1e-12  # at most log of the number of inputs
    with pytest.raises(ValueError, match="integer labels"):
        est.plane_point(t, x_labels, rng.standard_normal(400))

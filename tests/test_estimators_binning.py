"""Tests of the binning and plug-in MI estimators against truths from outside the code.

Truth comes from: ibkit.measures.mutual_information of the contingency table the
samples were built from; the entropy of Binomial(12, 1/2) (scipy.stats) for the
popcount of all 4096 distinct 12-bit patterns, a deterministic layer for which
I(X;T) = H(T) ≤ log2 n; the closed form −½ log2(1 − ρ²) of a Gaussian pair; the
first-order bias (m_xy − m_x − m_y + 1)/(2n) of the plug-in estimate on independent
data; the invariance of MI under increasing maps of each coordinate; the entropy of
equal-mass bins counted by hand; symmetry, units, the registry; and every validation
message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from ibkit.datasets import gaussian_task, independent_task
from ibkit.estimators._base import available_methods, estimate_mi, resolve_plane_estimators
from ibkit.estimators.binning import (
    BinningEstimator,
    PluginEstimator,
    _row_symbols,
    _symbols,
)
from ibkit.measures import mutual_information
from ibkit.study.plane_study import PLANE_ESTIMATORS

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


@pytest.mark.parametrize("block", [1, 3, 512])
def test_wide_rows_of_codes_are_told_apart_exactly_block_by_block(block, monkeypatch):
    """Symbols built column block by column block, with codes far wider than the rows
    (spans above n are ranked first, spans that fill a key on their own) and rows that
    stay equal to the end, are those of the rows as tuples."""
    monkeypatch.setattr("ibkit.estimators.binning._CODE_BLOCK", block)
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 3, size=(300, 25))
    codes[:, 4] *= 2**40  # a span far above n
    codes[:, 7] = rng.integers(-(2**50), 2**50, 300)
    codes[::4] = codes[1]  # a quarter of the rows are one row
    symbols = _row_symbols(codes.astype(float), lambda block: block.astype(np.int64))
    rows = [tuple(r) for r in codes]
    assert sorted(set(symbols)) == list(range(len(set(rows))))
    symbol_of = dict(zip(rows, symbols, strict=True))
    assert all(symbol_of[row] == s for row, s in zip(rows, symbols, strict=True))


def test_distinct_rows_stop_the_coding_of_further_columns():
    """Once every row has a symbol of its own, the columns left are not coded."""
    t = np.hstack([np.arange(50.0)[:, None], np.zeros((50, 2000))])
    coded = []

    def codes_of(block):
        coded.append(block.shape[1])
        return np.floor(block).astype(np.int64)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("ibkit.estimators.binning._CODE_BLOCK", 100)
        symbols = _row_symbols(t, codes_of)
    assert sorted(symbols) == list(range(50)) and coded == [100]


@pytest.mark.parametrize(
    "params",
    [{"n_bins": 30, "value_range": (-1.0, 1.0)}, {"bin_size": 0.07}, {"n_bins": 8}, {}],
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


# --- the default: equal-mass bins, as many as the data support ----------------------


@pytest.mark.parametrize(
    ("n", "two_columns", "bins"),
    [(1400, False, 280), (980, True, 14), (12, True, 2)],
    ids=["d=1: n/5 bins", "d=2: sqrt(n/5) bins", "at least 2 bins"],
)
def test_default_number_of_equal_mass_bins(n, two_columns, bins):
    # I(X;T) of a binned variable against itself (or against every sample's own label)
    # is the entropy of its bins; equal-mass bins of n / b samples each give log2 b.
    # d = 1 (labels are not binned): b = n / 5; d = 2: b = round(sqrt(n / 5)), at least 2.
    x = np.random.default_rng(6).standard_normal(n)
    y = x if two_columns else np.arange(n)
    assert_allclose(BinningEstimator().estimate(x, y).value, math.log2(bins), rtol=1e-12)


def test_default_ties_share_a_bin_and_are_not_merged():
    # 2 zeros and 6 ones in 2 equal-mass bins: each value is one bin, H = h2(1/4).
    for x in (np.repeat([0.0, 1.0], [2, 6]), np.repeat([0.0, 1.0], [6, 2])):
        got = BinningEstimator().estimate(x, x).value
        assert_allclose(got, stats.entropy([2, 6], base=2), rtol=1e-12)


def test_default_does_not_depend_on_increasing_maps_of_any_coordinate():
    # I(X;Y) is unchanged by an increasing map of each coordinate; so are the ranks that
    # the default bins are cut from: any rescaling, shift, cube or exponential of one
    # column of x or of y gives the same estimate.
    x, y = gaussian_task(2, 0.8).sample(2000, random_state=7)
    est = BinningEstimator()
    want = est.estimate(x, y).value
    assert want > 1.0
    maps = [lambda v: 1e-8 * v, lambda v: 1e8 * v + 3.0, lambda v: v**3, np.exp, np.arcsinh]
    for f in maps:
        for column in range(2):
            x_mapped, y_mapped = x.copy(), y.copy()
            x_mapped[:, column] = f(x[:, column])
            y_mapped[:, column] = f(y[:, column])
            assert est.estimate(x_mapped, y).value == want
            assert est.estimate(x, y_mapped).value == want


@pytest.mark.parametrize(("dim", "rho"), [(1, 0.8), (1, 0.5), (2, 0.8)])
def test_default_near_the_gaussian_closed_form(dim, rho):
    # n = 5000: 32 bins per coordinate in 1-D (biased up by about 0.14 bits, see below),
    # 6 in 2-D (the task knows its MI).
    task = gaussian_task(dim, rho)
    x, y = task.sample(5000, random_state=8)
    assert_allclose(BinningEstimator().estimate(x, y).value, task.mi("bits"), atol=0.2)


def test_default_bias_on_independent_data_is_the_plug_in_bias():
    # 1-D, n = 5000: b = 32 bins per coordinate, nearly all b^2 cells occupied, so the
    # plug-in is biased up by about (b - 1)^2 / (2n) nats (Miller 1955), which the
    # Miller-Madow correction removes.
    n, b = 5000, 32
    plain, corrected = [], []
    for seed in range(5):
        x, y = independent_task(1).sample(n, random_state=seed)
        plain.append(BinningEstimator().estimate(x, y, units="nats").value)
        corrected.append(BinningEstimator(miller_madow=True).estimate(x, y, units="nats").value)
    assert_allclose(np.mean(plain), (b - 1) ** 2 / (2 * n), rtol=0.2)
    assert abs(np.mean(corrected)) < 0.1 * np.mean(plain)


def test_default_in_ten_joint_dimensions_is_no_longer_log_n():
    # Gaussian 5-D, rho = 0.5 (1.04 bits), n = 5000: a 30-bin grid puts every sample in
    # its own cell and returns about log2 n = 12.3 bits; two equal-mass bins per
    # coordinate lose part of the dependence instead, and stay below the truth.
    task = gaussian_task(5, 0.5)
    x, y = task.sample(5000, random_state=9)
    assert BinningEstimator(n_bins=30).estimate(x, y).value > 12.0
    assert 0.2 < BinningEstimator().estimate(x, y).value < task.mi("bits")


def test_grids_of_the_information_plane_studies_are_unchanged():
    # 30 equal-width bins over the range of the variable (all its coordinates), by hand.
    rng = np.random.default_rng(10)
    t = np.tanh(rng.standard_normal((500, 3)))
    labels = rng.integers(0, 2, 500)
    lo, hi = t.min(), t.max()
    codes = np.clip(np.floor((t - lo) / (hi - lo) * 30), 0, 29)
    _, cells = np.unique(codes, axis=0, return_inverse=True)
    table = np.zeros((cells.max() + 1, 2))
    np.add.at(table, (cells.reshape(-1), labels), 1)
    for est in (BinningEstimator(n_bins=30), BinningEstimator(strategy="uniform")):
        assert_allclose(est.estimate(t, labels).value, mutual_information(table, normalize=True))
    assert BinningEstimator(value_range=(-1, 1)).params["n_bins"] == 30
    # the binning labels of the plane study keep their uniform grids
    plane = resolve_plane_estimators(PLANE_ESTIMATORS)
    grids = {label: est.params for label, est in plane.items() if est.name == "binning"}
    uniform = {"strategy": "uniform", "miller_madow": False}
    assert grids == {
        "bin30[-1:1]": {"n_bins": 30, "value_range": (-1.0, 1.0), "bin_size": None} | uniform,
        "bin0.07": {"n_bins": None, "value_range": None, "bin_size": 0.07} | uniform,
        "bin30": {"n_bins": 30, "value_range": None, "bin_size": None} | uniform,
    }
    assert BinningEstimator().params == {
        "n_bins": None,
        "value_range": None,
        "bin_size": None,
        "strategy": "quantile",
        "miller_madow": False,
    }

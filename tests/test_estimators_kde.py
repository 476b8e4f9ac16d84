"""Tests for the noisy-layer estimators ``kde`` and ``noisy_mc``."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import ibkit.estimators.kde  # noqa: F401  (registers the estimators)
from ibkit._validation import InvalidParameterError
from ibkit.datasets import tishby_12bit
from ibkit.estimators._base import available_methods, estimate_mi
from ibkit.estimators.kde import KDEEstimator, NoisyMCEstimator
from ibkit.measures import mutual_information

N, D = 300, 3


@pytest.fixture(scope="module")
def layer():
    return np.random.default_rng(0).uniform(-1.0, 1.0, size=(N, D))


@pytest.mark.parametrize("s2", [1e-3, 0.1, 1.0])
def test_bounds_bracket_monte_carlo(layer, s2):
    labels = np.arange(N)
    kde = KDEEstimator(noise_variance=s2).estimate(layer, labels, units="nats")
    mc = NoisyMCEstimator(noise_variance=s2, n_mc=10).estimate(
        layer, labels, units="nats", random_state=1
    )
    assert kde.lower <= kde.upper
    assert kde.value == pytest.approx(0.5 * (kde.lower + kde.upper))
    tol = 3 * mc.std_error + 1e-12
    assert kde.lower - tol <= mc.value <= kde.upper + tol
    assert 0.0 <= kde.lower and kde.upper <= np.log(N) + 1e-12


def test_small_noise_gives_log_n(layer):
    labels = np.arange(N)
    kde = KDEEstimator(noise_variance=1e-8).estimate(layer, labels, units="nats")
    mc = NoisyMCEstimator(noise_variance=1e-8, n_mc=2).estimate(
        layer, labels, units="nats", random_state=0
    )
    np.testing.assert_allclose([kde.lower, kde.upper, mc.value], np.log(N), atol=1e-8)


def test_huge_noise_gives_zero(layer):
    labels = np.arange(N)
    kde = KDEEstimator(noise_variance=1e8).estimate(layer, labels, units="nats")
    mc = NoisyMCEstimator(noise_variance=1e8, n_mc=2).estimate(
        layer, labels, units="nats", random_state=0
    )
    np.testing.assert_allclose([kde.lower, kde.upper], 0.0, atol=1e-7)
    assert abs(mc.value) <= 3 * mc.std_error + 1e-9 and mc.std_error < 1e-5


def test_two_clusters_information_about_labels():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1], 100)
    t = rng.normal(scale=0.1, size=(200, 2)) + 10.0 * labels[:, None]
    kde = KDEEstimator(noise_variance=1e-3).estimate(t, labels, units="nats")
    mc = NoisyMCEstimator(noise_variance=1e-3).estimate(t, labels, units="nats", random_state=0)
    np.testing.assert_allclose([kde.lower, kde.upper, mc.value], np.log(2), atol=1e-8)
    bits = KDEEstimator(noise_variance=1e-3).estimate(t, labels)
    np.testing.assert_allclose(bits.value, 1.0, atol=1e-8)


def test_chunking_invariance(layer):
    rng = np.random.default_rng(3)
    for labels in (np.arange(N), rng.integers(0, 4, N)):
        a = KDEEstimator(noise_variance=0.1, chunk_size=7, dtype="float64").estimate(layer, labels)
        b = KDEEstimator(noise_variance=0.1, chunk_size=2048, dtype="float64").estimate(
            layer, labels
        )
        np.testing.assert_allclose([a.lower, a.upper], [b.lower, b.upper], rtol=1e-10)
        mc = {"noise_variance": 0.1, "n_mc": 2, "dtype": "float64"}
        c = NoisyMCEstimator(**mc, chunk_size=7).estimate(layer, labels, random_state=5)
        e = NoisyMCEstimator(**mc, chunk_size=2048).estimate(layer, labels, random_state=5)
        np.testing.assert_allclose([c.value, c.std_error], [e.value, e.std_error], rtol=1e-10)


def test_units_and_registry(layer):
    assert {"kde", "noisy_mc"} <= set(available_methods())
    labels = np.arange(N)
    nats = estimate_mi(layer, labels, method="kde", units="nats", noise_variance=0.1)
    bits = estimate_mi(layer, labels, method="kde", units="bits", noise_variance=0.1)
    assert nats.method == "kde" and bits.units == "bits"
    np.testing.assert_allclose(
        [bits.lower, bits.upper, bits.value],
        np.array([nats.lower, nats.upper, nats.value]) / np.log(2),
        rtol=1e-12,
    )
    assert nats.params == {
        "noise_variance": 0.1,
        "noise_relative": False,
        "dtype": "float32",
        "chunk_size": 512,
    }
    mc = estimate_mi(layer, labels, method="noisy_mc", units="nats", random_state=0, n_mc=3)
    assert mc.std_error > 0 and mc.lower is None and mc.n_samples == N


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
def test_bad_input(cls, layer):
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="noise_variance must be a finite number > 0"):
            cls(noise_variance=bad)
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1"):
        cls(chunk_size=0)
    x = layer.copy()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="x has 1 NaN or infinite entries"):
        cls().estimate(x, np.arange(N))
    with pytest.raises(ValueError, match="y must be 1-D integer labels"):
        cls().estimate(layer, layer[:, 0])


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
def test_bad_noise_relative(cls):
    with pytest.raises(InvalidParameterError, match="noise_relative must be True or False"):
        cls(noise_relative="yes")


def test_bad_dtype():
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'; got 'float16'"):
        KDEEstimator(dtype="float16")


def test_bad_plane_point_input(layer):
    est = KDEEstimator()
    with pytest.raises(ValueError, match="y must be 1-D integer labels"):
        est.plane_point(layer, np.arange(N), layer[:, 0])
    with pytest.raises(ValueError, match="one row per sample"):
        est.plane_point(layer, np.arange(N), np.zeros(N - 1, dtype=int))
    with pytest.raises(ValueError, match="units must be"):
        est.plane_point(layer, np.arange(N), np.zeros(N, dtype=int), units="bans")


def test_bad_n_mc():
    with pytest.raises(ValueError, match="n_mc must be an integer >= 1"):
        NoisyMCEstimator(n_mc=0)


# --- the information-plane path: merged rows, shared work, float32 -------------------


def _naive_kde(t, labels, s2, scale):
    """The KDE formula of the docstring, written out on the full n x n matrix (nats)."""
    n = t.shape[0]
    arg = -((t[:, None, :] - t[None, :, :]) ** 2).sum(axis=2) / (scale * s2)
    same = labels[:, None] == labels[None, :]
    n_c = same.sum(axis=1)
    cls = logsumexp(np.where(same, arg, -np.inf), axis=1) - np.log(n_c)
    return float(np.mean(cls - (logsumexp(arg, axis=1) - np.log(n))))


@pytest.fixture(scope="module")
def repeated_layer():
    """A layer with many identical rows (a saturated layer) and its class labels."""
    rng = np.random.default_rng(7)
    base = rng.choice([-1.0, 1.0], size=(12, 3)) * rng.uniform(0.2, 1.0, size=(12, 3))
    rows = rng.integers(0, 12, size=200)
    return base[rows], rng.integers(0, 3, size=200)


@pytest.mark.parametrize("chunk_size", [5, 512])
@pytest.mark.parametrize("s2", [1e-2, 0.3])
def test_repeated_rows_give_the_formula_exactly(repeated_layer, s2, chunk_size):
    t, y = repeated_layer
    est = KDEEstimator(noise_variance=s2, dtype="float64", chunk_size=chunk_size)
    for labels in (np.arange(t.shape[0]), y, np.repeat(np.arange(100), 2)):
        got = est.estimate(t, labels, units="nats")
        want = sorted(_naive_kde(t, labels, s2, scale) for scale in (2.0, 8.0))
        np.testing.assert_allclose([got.lower, got.upper], want, rtol=1e-10)


@pytest.mark.parametrize("s2", [1e-3, 0.05])
def test_distinct_rows_in_tiles_give_the_formula(layer, s2):
    # 300 distinct rows in 64-row tiles (ragged last tile, off-diagonal tiles counted for
    # their rows and their columns); 2, 10 and 150 labels (dense class counts summed
    # label by label, dense counts in one product, sparse class counts).
    labels = (np.arange(N), np.arange(N) % 2, np.arange(N) % 10, np.arange(N) // 2)
    for dtype, rtol in (("float64", 1e-10), ("float32", 1e-5)):
        est = KDEEstimator(noise_variance=s2, dtype=dtype, chunk_size=64)
        for y in labels:
            got = est.estimate(layer, y, units="nats")
            want = sorted(_naive_kde(layer, y, s2, scale) for scale in (2.0, 8.0))
            np.testing.assert_allclose([got.lower, got.upper], want, rtol=rtol)


def test_separated_values_give_the_discrete_mi():
    # Two values far apart (sigma^2 tiny): T~ is discrete, I(X;T) = H(T) and I(T;Y) is the
    # MI of the 2x2 table of counts, both by hand. Rows repeat, labels do not divide evenly.
    t = np.repeat([[0.0, 0.0], [5.0, 5.0]], [6, 4], axis=0)
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    h_t = -(0.6 * np.log(0.6) + 0.4 * np.log(0.4))
    # p(t, y): (a,0)=5/10, (a,1)=1/10, (b,1)=4/10; p(y) = (1/2, 1/2)
    i_ty = 0.5 * np.log(0.5 / (0.6 * 0.5)) + 0.1 * np.log(0.1 / (0.6 * 0.5))
    i_ty += 0.4 * np.log(0.4 / (0.4 * 0.5))
    for dtype in ("float32", "float64"):
        ixt, ity = KDEEstimator(noise_variance=1e-4, dtype=dtype).plane_point(
            t, np.arange(10), y, units="nats"
        )
        np.testing.assert_allclose([ixt.lower, ixt.upper], h_t, rtol=1e-6)
        np.testing.assert_allclose([ity.lower, ity.upper], i_ty, rtol=1e-6)
        ixt, ity = NoisyMCEstimator(noise_variance=1e-4, dtype=dtype).plane_point(
            t, np.arange(10), y, units="nats", random_state=0
        )
        np.testing.assert_allclose([ixt.value, ity.value], [h_t, i_ty], rtol=1e-6)


def test_noisy_mc_repeated_rows_give_the_formula_exactly(repeated_layer):
    # The same noise draws (seed 3), the mixture log-densities written out over all rows.
    t, y = repeated_layer
    n, d = t.shape
    s2, n_mc = 0.05, 3
    z = np.repeat(t, n_mc, axis=0)
    z = z + np.random.default_rng(3).normal(scale=np.sqrt(s2), size=(n * n_mc, d))
    arg = -((z[:, None, :] - t[None, :, :]) ** 2).sum(axis=2) / (2 * s2)
    est = NoisyMCEstimator(noise_variance=s2, n_mc=n_mc, dtype="float64")
    for labels in (np.arange(n), y, np.arange(n) % 10):  # 3 and 10 labels: both dense paths
        z_labels = np.repeat(labels, n_mc)
        same = z_labels[:, None] == labels[None, :]
        cls = logsumexp(np.where(same, arg, -np.inf), axis=1) - np.log(same.sum(axis=1))
        terms = cls - (logsumexp(arg, axis=1) - np.log(n))
        got = est.estimate(t, labels, units="nats", random_state=3)
        np.testing.assert_allclose(got.value, terms.mean(), rtol=1e-9)
        want_se = terms.std(ddof=1) / np.sqrt(terms.size)
        np.testing.assert_allclose(got.std_error, want_se, rtol=1e-9)


def _noisy_mc_formula(t, labels, eps, s2):
    """The noisy_mc average for draws ``z = t + eps`` (one per row), written out (nats)."""
    z = t + eps
    arg = -((z[:, None, :] - t[None, :, :]) ** 2).sum(axis=2) / (2 * s2)
    same = labels[:, None] == labels[None, :]
    cls = logsumexp(np.where(same, arg, -np.inf), axis=1) - np.log(same.sum(axis=1))
    return float(np.mean(cls - (logsumexp(arg, axis=1) - np.log(t.shape[0]))))


def test_noisy_mc_draws_far_from_their_own_class():
    # Each draw of a class-0 row lands exactly on a class-1 row, at ||eps||^2 / 2 ~ 50
    # nats from its own component: its class sum is e^-50 times the row maximum.
    d, s2, half = 100, 1.0, 10
    eps = np.random.default_rng(3).normal(scale=np.sqrt(s2), size=(2 * half, d))
    t0 = np.random.default_rng(4).normal(scale=3.0, size=(half, d))
    t = np.vstack([t0, t0 + eps[:half]])
    labels = np.repeat([0, 1], half)
    want = _noisy_mc_formula(t, labels, eps, s2)
    for dtype, rtol in (("float64", 1e-9), ("float32", 1e-5)):
        est = NoisyMCEstimator(noise_variance=s2, n_mc=1, dtype=dtype)
        got = est.estimate(t, labels, units="nats", random_state=3)
        np.testing.assert_allclose(got.value, want, rtol=rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
def test_plane_point_equals_two_estimates(repeated_layer, layer, dtype, cls):
    # equal to round-off: one pass's mixture sums are its class sums of y added over
    # the labels, while I(X;T) alone (all labels distinct) sums the mixture directly
    rng = np.random.default_rng(4)
    rel = 1e-6 if dtype == "float32" else 1e-12
    for t, y in (repeated_layer, (layer, rng.integers(0, 2, N))):
        x_labels = np.arange(t.shape[0])
        est = cls(noise_variance=0.05, dtype=dtype, chunk_size=64)
        ixt, ity = est.plane_point(t, x_labels, y, random_state=11)
        for got, labels in ((ixt, x_labels), (ity, y)):
            want = est.estimate(t, labels, random_state=11)
            got_fields, want_fields = _flat(got.to_dict()), _flat(want.to_dict())
            assert got_fields.keys() == want_fields.keys()
            for key, w in want_fields.items():  # numbers to round-off, the rest exactly
                g = got_fields[key]
                assert g == (pytest.approx(w, rel=rel) if type(w) is float else w), key


def _flat(fields: dict, prefix: str = "") -> dict:
    """A nested dict's leaves keyed by their dotted paths."""
    out = {}
    for key, value in fields.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _tanh_layer(width, gain, n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, 12)).astype(float)
    return np.tanh(gain * (x - 0.5) @ rng.normal(size=(12, width)) / np.sqrt(12)), x[:, 0] > 0


@pytest.mark.parametrize("s2", [1e-3, 0.1])
@pytest.mark.parametrize("gain", [1.0, 300.0])
def test_float32_close_to_float64(s2, gain):
    t, y = _tanh_layer(5, gain)
    y = y.astype(int)
    x_labels = np.arange(t.shape[0])
    single = KDEEstimator(noise_variance=s2).plane_point(t, x_labels, y)
    double = KDEEstimator(noise_variance=s2, dtype="float64").plane_point(t, x_labels, y)
    for a, b in zip(single, double, strict=True):
        np.testing.assert_allclose([a.lower, a.upper], [b.lower, b.upper], atol=2e-4)
    single = NoisyMCEstimator(noise_variance=s2).plane_point(t, x_labels, y, random_state=0)
    double = NoisyMCEstimator(noise_variance=s2, dtype="float64").plane_point(
        t, x_labels, y, random_state=0
    )
    for a, b in zip(single, double, strict=True):
        np.testing.assert_allclose(a.value, b.value, atol=2e-4)


@pytest.mark.parametrize("s2", [1e-3, 0.1])
def test_float32_close_to_float64_on_saturated_12bit_layer(s2):
    # 4096 inputs of the 12-bit task, a saturated tanh layer of width 10: many rows are
    # nearly equal, ||t||^2 / sigma^2 ~ 1e4, the worst case for float32 cancellation.
    task = tishby_12bit()
    x = np.asarray(task.x, dtype=float) - 0.5
    w = np.random.default_rng(0).normal(size=(x.shape[1], 10)) / np.sqrt(x.shape[1])
    t = np.tanh(300.0 * x @ w)
    x_labels, y = np.arange(t.shape[0]), np.asarray(task.y)
    single = KDEEstimator(noise_variance=s2).plane_point(t, x_labels, y)
    double = KDEEstimator(noise_variance=s2, dtype="float64").plane_point(t, x_labels, y)
    for a, b in zip(single, double, strict=True):
        np.testing.assert_allclose([a.lower, a.upper], [b.lower, b.upper], atol=1e-4)


@pytest.mark.parametrize("seed", range(4))
def test_plane_point_within_entropy_bounds(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    t = np.round(rng.normal(size=(n, int(rng.integers(1, 6)))), int(rng.integers(0, 3)))
    y = rng.integers(0, int(rng.integers(2, 6)), size=n)
    p_y = np.bincount(y) / n
    h_y = -float(np.sum(p_y[p_y > 0] * np.log2(p_y[p_y > 0])))
    ixt, ity = KDEEstimator(noise_variance=float(10 ** rng.uniform(-4, 1))).plane_point(
        t, np.arange(n), y
    )
    assert -1e-6 <= ixt.lower <= ixt.upper <= np.log2(n) + 1e-6
    assert ity.upper <= h_y + 1e-6


def _mixture_entropy_grid(means, weights, s2):
    """Entropy (nats) of the 1-D mixture sum_k w_k N(m_k, s2) by the trapezoid rule."""
    sd = np.sqrt(s2)
    z = np.linspace(means.min() - 12 * sd, means.max() + 12 * sd, 400_001)
    log_w = np.log(weights / weights.sum())
    log_p = logsumexp(log_w[:, None] - 0.5 * (z[None, :] - means[:, None]) ** 2 / s2, axis=0)
    log_p -= 0.5 * np.log(2 * np.pi * s2)
    return float(np.trapezoid(-np.exp(log_p) * log_p, z))


@pytest.mark.parametrize("s2", [0.01, 0.1, 1.0])
def test_noisy_1d_layer_against_numerical_integration(s2):
    # A layer with three values on 8 equally likely inputs, two classes:
    # I(X;T~) = H(T~) - H(noise) and I(T~;Y) = H(T~) - sum_c p(c) H(T~|Y=c).
    values, counts, classes = np.array([0.0, 0.5, 1.5]), np.array([3, 2, 3]), np.array([0, 0, 1])
    t = np.repeat(values, counts)[:, None]
    y = np.repeat(classes, counts)
    h_t = _mixture_entropy_grid(values, counts.astype(float), s2)
    i_xt = h_t - 0.5 * np.log(2 * np.pi * np.e * s2)
    h_t_y = 5 / 8 * _mixture_entropy_grid(values[:2], counts[:2].astype(float), s2)
    i_ty = h_t - h_t_y  # class 1 is a single Gaussian: its entropy is that of the noise
    i_ty -= 3 / 8 * 0.5 * np.log(2 * np.pi * np.e * s2)
    ixt, ity = KDEEstimator(noise_variance=s2).plane_point(t, np.arange(8), y, units="nats")
    assert ixt.lower - 1e-6 <= i_xt <= ixt.upper + 1e-6
    mc = NoisyMCEstimator(noise_variance=s2, n_mc=300).plane_point(
        t, np.arange(8), y, units="nats", random_state=0
    )
    for got, truth in zip(mc, (i_xt, i_ty), strict=True):
        assert abs(got.value - truth) <= 4 * got.std_error


# --- scale: no overflow, no lost precision --------------------------------------------


def _clustered_layer(spread):
    """Four clusters of 30 rows, each within 3 noise sd, spread over 2 * ``spread`` noise
    sd (s2 = 1), and I(X;T~) in nats: the clusters do not overlap (e^-(0.35 spread)^2/2),
    so H(T~) is the cluster entropy log 4 plus the mean within-cluster mixture entropy,
    by quadrature over the offsets as float64 stores them (at 1e12, to about 1e-4)."""
    offsets = np.random.default_rng(0).uniform(-3.0, 3.0, size=(4, 30))
    centres = spread * np.array([-1.0, -0.3, 0.4, 1.0])[:, None]
    t = centres + offsets
    stored = t - centres  # exact: t and its centre are within a factor 2
    h = np.log(4) + np.mean([_mixture_entropy_grid(o, np.ones(30), 1.0) for o in stored])
    return t.reshape(-1, 1), h - 0.5 * np.log(2 * np.pi * np.e)


@pytest.mark.parametrize("spread", [1e3, 1e4, 1e6, 1e9, 1e12])
def test_rows_far_apart_in_noise_units_keep_their_precision(spread):
    # ||t||^2 / s2 up to 1e24: float32 expanded distances would err by ~10 nats per kernel
    # exponent at 1e4 (the Monte Carlo value was 1.0 nats against 2.07), expanded float64
    # ones by ~1e8 nats at 1e12; the differences keep them exact.
    t, truth = _clustered_layer(spread)
    labels = np.arange(t.shape[0])
    kde = KDEEstimator(noise_variance=1.0).estimate(t, labels, units="nats")
    assert 0.0 <= kde.lower <= truth <= kde.upper
    mc = NoisyMCEstimator(noise_variance=1.0, n_mc=50).estimate(
        t, labels, units="nats", random_state=0
    )
    assert abs(mc.value - truth) <= 4 * mc.std_error


@pytest.mark.parametrize("spread", [1e3, 1e6, 1e9, 1e12])
@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
def test_rows_apart_by_huge_spreads_give_the_discrete_information(cls, spread):
    # Eleven distinct 2-D rows on a grid, at least spread / 2 noise sd apart: the noisy
    # components do not overlap, so I(X;T~) is the entropy of the rows' frequencies and
    # I(T~;Y) the plug-in MI of rows and labels (scipy.stats.entropy, measures).
    rng = np.random.default_rng(5)
    grid = np.stack(np.meshgrid(np.arange(5), np.arange(5)), axis=-1).reshape(-1, 2) / 2 - 1
    rows = grid[rng.choice(25, size=11, replace=False)] * spread
    which = rng.integers(0, 11, size=200)
    labels = rng.integers(0, 3, size=200)
    table = np.zeros((11, 3))
    np.add.at(table, (which, labels), 1)
    i_xt = stats.entropy(table.sum(axis=1))
    i_ty = mutual_information(table, normalize=True, units="nats")
    got = cls(noise_variance=1.0).plane_point(
        rows[which], np.arange(200), labels, units="nats", random_state=0
    )
    for estimate, truth in zip(got, (i_xt, i_ty), strict=True):
        low, high = (estimate.lower, estimate.upper)
        if low is None:  # noisy_mc: one value
            low = high = estimate.value
        assert 0.0 <= low <= high
        np.testing.assert_allclose([low, high], truth, rtol=1e-9)


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_extreme_scales_give_the_unit_scale_estimate(cls, scale, repeated_layer):
    # Only t / sigma matters: (c t, c^2 s2) must give the (t, s2) estimate, without
    # overflowing (c = 1e150) or underflowing (c = 1e-150) on the way.
    t, y = repeated_layer
    want = cls(noise_variance=0.1).plane_point(t, np.arange(t.shape[0]), y, random_state=0)
    got = cls(noise_variance=0.1 * scale**2).plane_point(
        scale * t, np.arange(t.shape[0]), y, random_state=0
    )
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.value, w.value, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_noise_variance_gives_zero(cls, dtype, layer):
    # s2 = 1e300 swamps the layer: the noisy layer carries no information, to the
    # round-off of sums of kernels in the working precision.
    labels = np.random.default_rng(4).integers(0, 3, N)
    for got in cls(noise_variance=1e300, dtype=dtype).plane_point(
        layer, np.arange(N), labels, random_state=0
    ):
        np.testing.assert_allclose(got.value, 0.0, atol=1e-9 if dtype == "float64" else 1e-6)


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
def test_noise_variance_too_small_for_the_layer_is_refused(cls, layer):
    # s2 = 1e-300: the rows lie ~1e150 noise sd apart, beyond what float64 distances
    # resolve; the error names the parameter and the smallest usable value.
    with pytest.raises(InvalidParameterError, match=r"noise_variance=1e-300 is too small .*"
                       r"pass noise_variance >= \d"):  # fmt: skip
        cls(noise_variance=1e-300).estimate(layer, np.arange(N), random_state=0)


# --- noise relative to the layer's scale ----------------------------------------------


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
@pytest.mark.parametrize("factor", [1e-150, 1e-6, 1e6, 1e150])
def test_relative_noise_makes_the_plane_point_scale_free(cls, factor, repeated_layer):
    # sigma^2 = noise_variance * mean unit variance scales with t: both coordinates of
    # c t are those of t, for any c, without overflow or underflow.
    t, y = repeated_layer
    est = cls(noise_variance=0.1, noise_relative=True)
    want = est.plane_point(t, np.arange(t.shape[0]), y, random_state=0)
    got = est.plane_point(factor * t, np.arange(t.shape[0]), y, random_state=0)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.value, w.value, rtol=1e-6, atol=1e-9)
    assert want[0].value > 0.5  # informative: the noise does not swamp the layer


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
def test_relative_noise_is_the_absolute_noise_times_the_mean_unit_variance(cls, layer):
    labels = np.random.default_rng(6).integers(0, 3, N)
    mean_var = float(np.mean(np.var(layer, axis=0)))  # numpy's population variance
    relative = cls(noise_variance=0.2, noise_relative=True, dtype="float64")
    absolute = cls(noise_variance=0.2 * mean_var, dtype="float64")
    for got, want in zip(
        relative.plane_point(layer, np.arange(N), labels, random_state=2),
        absolute.plane_point(layer, np.arange(N), labels, random_state=2),
        strict=True,
    ):
        np.testing.assert_allclose(got.value, want.value, rtol=1e-9)


@pytest.mark.parametrize("cls", [KDEEstimator, NoisyMCEstimator])
def test_relative_noise_on_a_constant_layer_gives_zero(cls):
    t = np.full((20, 3), 0.7)
    labels = np.arange(20) % 2
    for got in cls(noise_relative=True).plane_point(t, np.arange(20), labels, random_state=0):
        np.testing.assert_allclose(got.value, 0.0, atol=1e-12)

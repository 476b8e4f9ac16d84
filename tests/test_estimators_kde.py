"""Tests for the noisy-layer estimators ``kde`` and ``noisy_mc``."""

import numpy as np
import pytest

import ibkit.estimators.kde  # noqa: F401  (registers the estimators)
from ibkit.estimators._base import available_methods, estimate_mi
from ibkit.estimators.kde import KDEEstimator, NoisyMCEstimator

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
        a = KDEEstimator(noise_variance=0.1, chunk_size=7).estimate(layer, labels)
        b = KDEEstimator(noise_variance=0.1, chunk_size=2048).estimate(layer, labels)
        np.testing.assert_allclose([a.lower, a.upper], [b.lower, b.upper], rtol=1e-10)
        c = NoisyMCEstimator(noise_variance=0.1, n_mc=2, chunk_size=7).estimate(
            layer, labels, random_state=5
        )
        e = NoisyMCEstimator(noise_variance=0.1, n_mc=2, chunk_size=2048).estimate(
            layer, labels, random_state=5
        )
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
    assert nats.params == {"noise_variance": 0.1, "chunk_size": 512}
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


def test_bad_n_mc():
    with pytest.raises(ValueError, match="n_mc must be an integer >= 1"):
        NoisyMCEstimator(n_mc=0)

"""Tests of the KSG and Gaussian mutual-information estimators.

Truth comes from closed forms outside the code under test: for jointly Gaussian pairs
with correlations ρ_i, I(X;Y) = −½ Σ log(1 − ρ_i²) nats; a label read off exactly from
well-separated clusters has I = H(Y) = log 2.
"""

from __future__ import annotations

import numpy as np
import pytest

import ibkit.estimators.gaussian  # noqa: F401  (registers "gaussian")
import ibkit.estimators.ksg  # noqa: F401  (registers "ksg")
from ibkit.estimators._base import available_methods, estimate_mi
from ibkit.estimators.gaussian import GaussianEstimator
from ibkit.estimators.ksg import KSGEstimator
from ibkit.ib.gaussian import gaussian_ib


def correlated(n: int, rho: float, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """d independent pairs (x_i, y_i) with correlation rho; returns x, y and the true MI."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = rho * x + np.sqrt(1.0 - rho**2) * rng.standard_normal((n, d))
    return x, y, -0.5 * d * np.log(1.0 - rho**2)


def ksg_nats(x, y, **params) -> float:
    return KSGEstimator(**params).estimate(x, y, units="nats", random_state=0).value


# --- accuracy against closed forms ----------------------------------------------------


ALGORITHMS = ["kd_tree", "brute"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("variant", [1, 2])
def test_ksg_1d_gaussian(variant, algorithm):
    x, y, truth = correlated(2000, 0.6, 1, seed=0)
    value = ksg_nats(x[:, 0], y[:, 0], variant=variant, algorithm=algorithm)
    np.testing.assert_allclose(value, truth, atol=0.05)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_ksg_hand_computed(algorithm):
    # y = x on 0, 1, 3, 6, 10 with k = 1: the nearest-neighbour distances are 1, 1, 2, 3, 4
    # and no other point is strictly closer in x or y, so n_x = n_y = 0 and
    # I = psi(1) + psi(5) - 2 psi(1) = psi(5) - psi(1) = 1 + 1/2 + 1/3 + 1/4.
    x = np.array([0.0, 1.0, 3.0, 6.0, 10.0])
    value = ksg_nats(x, x, k=1, jitter=0.0, algorithm=algorithm)
    np.testing.assert_allclose(value, 1 + 1 / 2 + 1 / 3 + 1 / 4, rtol=1e-12)


@pytest.mark.parametrize("variant", [1, 2])
def test_ksg_algorithms_agree(variant):
    # The k-d tree and the all-pairs scan are two searches for the same neighbours.
    rng = np.random.default_rng(20)
    x, y, _ = correlated(700, 0.7, 3, seed=21)
    labels = rng.integers(0, 3, 700)
    for yy in (y, labels):
        a = ksg_nats(x, yy, variant=variant, algorithm="kd_tree")
        b = ksg_nats(x, yy, variant=variant, algorithm="brute")
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_gaussian_1d_gaussian():
    x, y, truth = correlated(2000, 0.6, 1, seed=0)
    value = GaussianEstimator().estimate(x, y, units="nats").value
    np.testing.assert_allclose(value, truth, atol=0.03)


@pytest.mark.parametrize("algorithm", ["auto", "kd_tree"])
def test_ksg_5d_gaussian(algorithm):
    # KSG is known to underestimate in higher joint dimension (here 10) at moderate n
    # (Kraskov et al. 2004, fig. 5; Gao, Ver Steeg & Galstyan 2015). With k=3, n=2000
    # the bias is about −0.15 to −0.2 nats; check the estimate is in that band.
    x, y, truth = correlated(2000, 0.5, 5, seed=1)
    value = ksg_nats(x, y, algorithm=algorithm)
    assert value < truth
    np.testing.assert_allclose(value, truth, atol=0.25)


def test_ksg_independence():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2000, 2)), rng.standard_normal((2000, 1))
    assert abs(ksg_nats(x, y)) < 0.03


def test_ksg_after_monotone_maps_stays_near_truth():
    x, y, truth = correlated(2000, 0.6, 1, seed=4)
    value = ksg_nats(x**3, np.arcsinh(y), jitter=0.0)
    np.testing.assert_allclose(value, truth, atol=0.1)


def test_gaussian_matches_closed_form_gaussian_ib():
    cov_x = np.array([[1.0, 0.3], [0.3, 2.0]])
    cov_y = np.array([[1.5, -0.2], [-0.2, 1.0]])
    cov_xy = np.array([[0.5, 0.1], [-0.3, 0.6]])
    truth = gaussian_ib(cov_x, cov_xy, cov_y, [10.0], units="nats").i_xy
    joint = np.block([[cov_x, cov_xy], [cov_xy.T, cov_y]])
    z = np.random.default_rng(5).multivariate_normal(np.zeros(4), joint, size=100_000)
    value = GaussianEstimator().estimate(z[:, :2], z[:, 2:], units="nats").value
    np.testing.assert_allclose(value, truth, atol=0.01)


# --- exact invariances ----------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("variant", [1, 2])
def test_ksg_permutation_invariant(variant, algorithm):
    x, y, _ = correlated(500, 0.6, 2, seed=6)
    perm = np.random.default_rng(7).permutation(500)
    a = ksg_nats(x, y, variant=variant, jitter=0.0, algorithm=algorithm)
    b = ksg_nats(x[perm], y[perm], variant=variant, jitter=0.0, algorithm=algorithm)
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("variant", [1, 2])
def test_ksg_symmetric(variant, algorithm):
    x, y, _ = correlated(500, 0.6, 1, seed=8)
    x = np.hstack([x, np.random.default_rng(9).standard_normal((500, 1))])
    a = ksg_nats(x, y, variant=variant, jitter=0.0, algorithm=algorithm)
    b = ksg_nats(y, x, variant=variant, jitter=0.0, algorithm=algorithm)
    assert a == b


def _noisy_copy(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """y = x + 0.5 noise per coordinate (unit normal x), and the true MI in bits:
    d * ½ log2(1 + 1 / 0.25) = 1.161 bits per coordinate."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, x + 0.5 * rng.standard_normal((n, d)), d * 0.5 * np.log2(1 + 1 / 0.25)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("variant", [1, 2])
@pytest.mark.parametrize("factor", [1e-8, 1e-3, 1e3, 1e8])
def test_ksg_standardized_does_not_depend_on_units(factor, variant, algorithm):
    # Rescaling x or y, or one column of x, by any factor leaves the estimate as it was
    # (same jitter seed), and that estimate is near the truth.
    x, y, truth = _noisy_copy(2000, 1, seed=18)
    est = KSGEstimator(variant=variant, algorithm=algorithm)
    want = est.estimate(x, y, random_state=0).value
    np.testing.assert_allclose(want, truth, atol=0.06)
    for xs, ys in ((factor * x, y), (x, factor * y)):
        np.testing.assert_allclose(est.estimate(xs, ys, random_state=0).value, want, rtol=1e-12)
    x2 = np.hstack([x, np.random.default_rng(19).standard_normal((2000, 1))])
    want = est.estimate(x2, y, random_state=0).value
    got = est.estimate(x2 * [1.0, factor], y, random_state=0).value
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_ksg_unstandardized_measures_in_the_units_given():
    # Without standardisation the max-norm is in the data's units: on unit-scale data
    # the estimate is as good, but x * 1e8 takes over the neighbourhoods (about 0 bits).
    x, y, truth = _noisy_copy(2000, 1, seed=18)
    raw = KSGEstimator(standardize=False)
    np.testing.assert_allclose(raw.estimate(x, y, random_state=0).value, truth, atol=0.06)
    assert abs(raw.estimate(1e8 * x, y, random_state=0).value) < 0.05
    assert raw.params["standardize"] is False


def test_ksg_jitter_reproducible_with_seed():
    x, y, _ = correlated(300, 0.6, 1, seed=10)
    est = KSGEstimator(jitter=1e-6)
    a = est.estimate(x, y, random_state=1).value
    b = est.estimate(x, y, random_state=1).value
    assert a == b


# --- discrete y -----------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_ksg_discrete_separated_classes(algorithm):
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 2, 2000)
    x = 10.0 * labels + rng.standard_normal(2000)
    np.testing.assert_allclose(ksg_nats(x, labels, algorithm=algorithm), np.log(2.0), atol=0.02)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_ksg_discrete_independent(algorithm):
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 3, 2000)
    assert abs(ksg_nats(rng.standard_normal((2000, 2)), labels, algorithm=algorithm)) < 0.03


def test_ksg_discrete_singleton_labels():
    rng = np.random.default_rng(13)
    x = rng.standard_normal(50)
    labels = np.r_[np.zeros(49, dtype=int), 1]
    assert np.isfinite(ksg_nats(x, labels))  # the singleton is dropped
    with pytest.raises(ValueError, match="only once"):
        ksg_nats(x[:5], np.arange(5))


def test_gaussian_discrete():
    # x | c ~ N(2c, 1), equal priors; the Gaussian-model value is
    # ½ log Var(x) − ½ log 1 with Var(x) = 1 + 1 = 2.
    rng = np.random.default_rng(14)
    labels = np.repeat([0, 1], 50_000)
    x = 2.0 * labels + rng.standard_normal(100_000)
    value = GaussianEstimator().estimate(x, labels, units="nats").value
    np.testing.assert_allclose(value, 0.5 * np.log(2.0), atol=0.01)


# --- units, registry ------------------------------------------------------------------


def test_units_bits_vs_nats():
    x, y, _ = correlated(500, 0.6, 1, seed=15)
    for est in (KSGEstimator(), GaussianEstimator()):
        nats = est.estimate(x, y, units="nats", random_state=0)
        bits = est.estimate(x, y, units="bits", random_state=0)
        np.testing.assert_allclose(bits.value, nats.value / np.log(2.0), rtol=1e-12)
        assert bits.units == "bits" and bits.n_samples == 500


def test_registry():
    assert {"ksg", "gaussian"} <= set(available_methods())
    x, y, _ = correlated(500, 0.6, 1, seed=16)
    res = estimate_mi(x, y, method="ksg", units="nats", random_state=0, k=5, variant=2)
    assert res.method == "ksg" and res.params == {
        "k": 5,
        "variant": 2,
        "jitter": 1e-10,
        "algorithm": "auto",
        "standardize": True,
    }
    np.testing.assert_allclose(res.value, ksg_nats(x, y, k=5, variant=2), rtol=1e-12)
    res = estimate_mi(x, y, method="gaussian", units="nats", ridge=0.0)
    assert res.method == "gaussian" and res.lower is None and res.std_error is None


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"k": 0}, "k must be an integer >= 1"),
        ({"k": 2.5}, "k must be an integer"),
        ({"variant": 3}, "variant must be 1 or 2"),
        ({"jitter": -1e-3}, "jitter must be a finite number >= 0"),
        ({"algorithm": "ball_tree"}, "algorithm must be one of 'auto', 'kd_tree', 'brute'"),
        ({"standardize": "yes"}, "standardize must be True or False; got 'yes'"),
    ],
)
def test_ksg_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        KSGEstimator(**params)


def test_ksg_too_few_samples():
    with pytest.raises(ValueError, match="needs at least 4 samples; got 3"):
        KSGEstimator(k=3).estimate(np.arange(3.0), np.arange(3.0))


def test_gaussian_bad_ridge():
    with pytest.raises(ValueError, match="ridge must be a finite number >= 0"):
        GaussianEstimator(ridge=-1.0)


def test_gaussian_singular_and_ridge():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((200, 1))
    x = np.hstack([x, x])  # duplicated column
    y = x[:, :1] + rng.standard_normal((200, 1))
    with pytest.raises(ValueError, match="singular.*ridge > 0"):
        GaussianEstimator().estimate(x, y)
    assert np.isfinite(GaussianEstimator(ridge=1e-3).estimate(x, y).value)


def test_gaussian_too_few_samples():
    with pytest.raises(ValueError, match="at least d_x \\+ d_y \\+ 2 = 6 samples; got 5"):
        GaussianEstimator().estimate(np.ones((5, 2)), np.ones((5, 2)))

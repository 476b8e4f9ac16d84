"""Matrix-based Rényi α-order mutual information (``renyi``).

Truth is built here, apart from the estimator: Gram matrices by numpy broadcasting or
written out by hand, spectra by :func:`numpy.linalg.eigvalsh`, classical Rényi
entropies of label frequencies, and the limits and inequalities of the functional
(α → 1, narrow and wide kernels, 0 ≤ I₁ ≤ min(S(A), S(B))).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ibkit._validation import InvalidParameterError
from ibkit.estimators import available_methods, estimate_mi, get_estimator, plane_methods
from ibkit.estimators.renyi import RenyiEstimator

LN2 = np.log(2.0)


# --- truth, computed with numpy alone ---------------------------------------------------


def gauss_gram(rows: np.ndarray, sigma: float) -> np.ndarray:
    rows = np.asarray(rows, dtype=float).reshape(len(rows), -1)
    sq = ((rows[:, None, :] - rows[None, :, :]) ** 2).sum(-1)
    return np.exp(-sq / (2 * sigma**2))


def delta_gram(labels: np.ndarray) -> np.ndarray:
    return (labels[:, None] == labels[None, :]).astype(float)


def entropy_of(gram: np.ndarray, alpha: float) -> float:
    """S_α of gram / tr(gram), nats (eigenvalues below 1e-13 are zero)."""
    lam = np.linalg.eigvalsh(gram / np.trace(gram))
    lam = lam[lam > 1e-13]
    if alpha == 1:
        return float(-(lam * np.log(lam)).sum())
    return float(np.log((lam**alpha).sum()) / (1 - alpha))


def mi_of(gram_a: np.ndarray, gram_b: np.ndarray, alpha: float) -> float:
    joint = gram_a * gram_b
    return entropy_of(gram_a, alpha) + entropy_of(gram_b, alpha) - entropy_of(joint, alpha)


def renyi_of_frequencies(counts: np.ndarray, alpha: float) -> float:
    p = np.asarray(counts, dtype=float) / np.sum(counts)
    if alpha == 1:
        return float(-(p * np.log(p)).sum())
    return float(np.log((p**alpha).sum()) / (1 - alpha))


def nats(x, y, **params) -> float:
    return get_estimator("renyi", **params).estimate(x, y, units="nats", random_state=0).value


# --- registration -------------------------------------------------------------------------


def test_registered_and_on_the_plane():
    assert "renyi" in available_methods() and "renyi" in plane_methods()
    est = get_estimator("renyi")
    assert isinstance(est, RenyiEstimator)
    assert est.params == {"alpha": 1.01, "kernel_width": "silverman", "batch_size": 1000}


# --- small cases by hand ------------------------------------------------------------------

X3 = np.array([[0.0], [1.0], [3.0]])


def test_three_rows_by_hand():
    # σ = 1: K written out entry by entry from the squared distances 1, 9, 4.
    e1, e2, e9 = np.exp(-0.5), np.exp(-2.0), np.exp(-4.5)
    k = np.array([[1, e1, e9], [e1, 1, e2], [e9, e2, 1]])
    y3 = np.array([[0.0], [2.0], [1.0]])  # squared distances 4, 1, 1
    f1, f2 = np.exp(-0.5), np.exp(-2.0)
    ky = np.array([[1, f2, f1], [f2, 1, f1], [f1, f1, 1]])
    for alpha in (0.5, 1.01, 2.0):
        lam = np.linalg.eigvalsh(k / 3)
        s_k = np.log((lam**alpha).sum()) / (1 - alpha)
        lam_y = np.linalg.eigvalsh(ky / 3)
        s_y = np.log((lam_y**alpha).sum()) / (1 - alpha)
        lam_j = np.linalg.eigvalsh(k * ky / 3)
        s_j = np.log((lam_j**alpha).sum()) / (1 - alpha)
        got = nats(X3, y3, alpha=alpha, kernel_width=1.0)
        np.testing.assert_allclose(got, s_k + s_y - s_j, rtol=1e-10)
        # Labels (0, 0, 1): the joint Gram keeps K within a label and zeros across.
        lam_l = np.array([2 / 3, 1 / 3])
        s_l = np.log((lam_l**alpha).sum()) / (1 - alpha)
        joint = np.array([[1, e1, 0], [e1, 1, 0], [0, 0, 1]])
        lam_jl = np.linalg.eigvalsh(joint / 3)
        s_jl = np.log((lam_jl**alpha).sum()) / (1 - alpha)
        got = nats(X3, np.array([0, 0, 1]), alpha=alpha, kernel_width=1.0)
        np.testing.assert_allclose(got, s_k + s_l - s_jl, rtol=1e-10)


def test_two_rows_in_closed_form():
    # K = [[1, k], [k, 1]] has eigenvalues (1 ± k)/2; K∘K those of (1 ± k²)/2.
    k = np.exp(-0.5 * 0.7**2)
    x = np.array([[0.0], [0.7]])

    def s2(c):  # S_2 of eigenvalues (1 ± c)/2
        return -np.log(((1 + c) / 2) ** 2 + ((1 - c) / 2) ** 2)

    np.testing.assert_allclose(nats(x, x, alpha=2.0, kernel_width=1.0), 2 * s2(k) - s2(k**2))


def test_the_delta_kernel_gives_classical_entropies():
    # x on a grid with a narrow width is, in effect, the delta kernel on its values: at
    # α = 1 the functional is the Shannon MI of the empirical joint.
    x = np.array([0.0, 0, 0, 1])
    y = np.array([0, 0, 1, 0])
    h = renyi_of_frequencies
    shannon = 2 * h([3, 1], 1) - h([2, 1, 1], 1)  # = 2 h(1/4) − 1.5 bits
    np.testing.assert_allclose(shannon / LN2, 2 * 0.8112781244591328 - 1.5)
    np.testing.assert_allclose(nats(x, y, alpha=1.0, kernel_width=1e-3), shannon, rtol=1e-12)
    # α = 2 is not subadditive: I₂ = log(0.96) < 0 (see the class docstring).
    np.testing.assert_allclose(nats(x, y, alpha=2.0, kernel_width=1e-3), np.log(0.96))


# --- limits and identities ----------------------------------------------------------------


def test_alpha_one_is_the_von_neumann_entropy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 2))
    labels = np.arange(40)  # I(X;T) with distinct inputs is S(T): read S through it
    lam = np.linalg.eigvalsh(gauss_gram(x, 0.8) / 40)
    von_neumann = -(lam * np.log(lam)).sum()

    def s(alpha):
        est = get_estimator("renyi", alpha=alpha, kernel_width=0.8)
        return est.estimate(x, labels, units="nats").value

    np.testing.assert_allclose(s(1.0), von_neumann, rtol=1e-12)
    for alpha in (1 - 1e-6, 1 + 1e-6):
        np.testing.assert_allclose(s(alpha), von_neumann, rtol=1e-5)
    # Rényi entropies decrease in α.
    assert s(0.5) > s(1 - 1e-6) > s(1 + 1e-6) > s(2.0)


def test_identical_variables_under_the_delta_kernel():
    # I(X;X) = S(X) when the kernel is idempotent (δ∘δ = δ): the Rényi entropy of the
    # value frequencies.
    x = np.repeat([0.0, 1.0, 2.0], [5, 3, 2])
    want = renyi_of_frequencies([5, 3, 2], 1.01)
    np.testing.assert_allclose(nats(x, x.astype(int), kernel_width=1e-3), want, rtol=1e-12)
    np.testing.assert_allclose(nats(x, x, kernel_width=1e-3), want, rtol=1e-12)


def test_identical_variables_under_a_gaussian_kernel_stay_below_the_entropy():
    # K∘K is a narrower kernel, so S(A∘A) > S(A) and I(X;X) = 2S(A) − S(A∘A) < S(A).
    x = np.random.default_rng(4).standard_normal((30, 1))
    s_x = entropy_of(gauss_gram(x, 0.5), 1.01)
    got = nats(x, x, kernel_width=0.5)
    np.testing.assert_allclose(got, 2 * s_x - entropy_of(gauss_gram(x, 0.5) ** 2, 1.01))
    assert 0 < got < s_x


def test_independent_variables_give_nearly_zero():
    # A fixed width: the functional of independent samples tends to 0 as n grows (the
    # joint spectrum tends to the product of the marginal ones): about 0.045 nats at
    # n = 100 and 0.015 at n = 400, against I(X;X) of about 0.75 nats.
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((2, 400, 1))
    got = nats(x, y, kernel_width=1.0)
    assert 0 <= got < 0.03
    assert got < nats(x[:100], y[:100], kernel_width=1.0) / 2
    assert got < nats(x, x, kernel_width=1.0) / 25


def test_narrow_and_wide_kernels_reach_log_n_and_zero():
    x = np.random.default_rng(6).standard_normal((50, 3))
    est = get_estimator("renyi", kernel_width=1e-6)
    i_xt, _ = est.plane_point(x, np.arange(50), np.zeros(50, int), units="nats")
    np.testing.assert_allclose(i_xt.value, np.log(50), rtol=1e-12)
    est = get_estimator("renyi", kernel_width=1e6)
    i_xt, i_ty = est.plane_point(x, np.arange(50), np.arange(50) % 2, units="nats")
    np.testing.assert_allclose([i_xt.value, i_ty.value], 0.0, atol=1e-9)


def test_constant_rows_have_zero_entropy():
    t = np.ones((20, 4))
    for width in ("silverman", "knn"):
        est = get_estimator("renyi", kernel_width=width)
        i_xt, i_ty = est.plane_point(t, np.arange(20), np.arange(20) % 3)
        np.testing.assert_allclose([i_xt.value, i_ty.value], 0.0, atol=1e-12)


# --- inequalities over random data --------------------------------------------------------


@st.composite
def small_samples(draw):
    n = draw(st.integers(2, 8))
    x = draw(arrays(float, (n, draw(st.integers(1, 2))), elements=st.floats(-3, 3)))
    if draw(st.booleans()):
        y = draw(arrays(np.int64, n, elements=st.integers(0, 2)))
    else:
        y = draw(arrays(float, (n, 1), elements=st.floats(-3, 3)))
    return x, y, draw(st.floats(0.2, 5.0))


def _gram(v: np.ndarray, sigma: float) -> np.ndarray:
    return delta_gram(v) if v.ndim == 1 else gauss_gram(v, sigma)


@settings(max_examples=60, deadline=None)
@given(small_samples())
def test_bounds_and_definition_on_random_data(case):
    x, y, sigma = case
    ka, kb = gauss_gram(x, sigma), _gram(y, sigma)
    for alpha in (1.0, 1.01, 2.0):
        got = nats(x, y, alpha=alpha, kernel_width=sigma)
        np.testing.assert_allclose(got, mi_of(ka, kb, alpha), rtol=1e-9, atol=1e-9)
        # S(A,B) >= max(S(A), S(B)) for every α (a separable state's spectrum is
        # majorised by its marginals'): I <= min(S(A), S(B)).
        assert got <= min(entropy_of(ka, alpha), entropy_of(kb, alpha)) + 1e-9
    assert nats(x, y, alpha=1.0, kernel_width=sigma) >= -1e-9  # subadditivity at α = 1


def test_permuting_the_samples_changes_nothing():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((60, 3)), rng.integers(0, 3, 60)
    order = rng.permutation(60)
    for width in ("silverman", "knn", 0.7):
        np.testing.assert_allclose(
            nats(x[order], y[order], kernel_width=width),
            nats(x, y, kernel_width=width),
            rtol=1e-10,
        )


# --- units, scale and the kernel-width rules ----------------------------------------------


def test_units():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((50, 2)), rng.integers(0, 2, 50)
    bits = estimate_mi(x, y, "renyi")
    got = estimate_mi(x, y, "renyi", units="nats")
    assert (bits.units, got.units, bits.method) == ("bits", "nats", "renyi")
    np.testing.assert_allclose(bits.value * LN2, got.value, rtol=1e-12)
    assert bits.lower is bits.upper is bits.std_error is None


@pytest.mark.parametrize("width", ["silverman", "knn"])
@pytest.mark.parametrize("factor", [1e-3, 1e3, 1e-200, 1e200])
def test_the_width_rules_scale_with_the_data(width, factor):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((80, 3))
    y = x[:, :1] + 0.5 * rng.standard_normal((80, 1))
    want = nats(x, y, kernel_width=width)
    assert want > 0.1
    np.testing.assert_allclose(nats(factor * x, y, kernel_width=width), want, rtol=1e-9)
    np.testing.assert_allclose(nats(x, factor * y, kernel_width=width), want, rtol=1e-9)


def test_a_fixed_width_does_not_scale_with_the_data():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((80, 2)), rng.integers(0, 2, 80)
    assert abs(nats(10 * x, y, kernel_width=1.0) - nats(x, y, kernel_width=1.0)) > 0.1
    # ... but the width in the data's units does: (c x, c σ) is (x, σ).
    np.testing.assert_allclose(
        nats(10 * x, y, kernel_width=10.0), nats(x, y, kernel_width=1.0), rtol=1e-12
    )


def test_silverman_rule_as_stated():
    # σ = s n^(−1/(4+d)), s the root of the total variance (sum of column variances).
    rng = np.random.default_rng(10)
    x = rng.standard_normal((40, 3)) * [1.0, 2.0, 0.5]
    y = rng.integers(0, 3, 40)
    sigma = np.sqrt(x.var(axis=0).sum()) * 40 ** (-1 / 7)
    np.testing.assert_allclose(
        nats(x, y, kernel_width="silverman"), nats(x, y, kernel_width=sigma), rtol=1e-10
    )


def test_knn_rule_as_stated():
    # σ = the mean over rows of the distance to the 10th nearest neighbour.
    rng = np.random.default_rng(11)
    x = rng.standard_normal((40, 2))
    y = rng.integers(0, 3, 40)
    dist = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    sigma = np.sort(dist, axis=1)[:, 10].mean()  # column 0 is the row itself
    np.testing.assert_allclose(
        nats(x, y, kernel_width="knn"), nats(x, y, kernel_width=sigma), rtol=1e-10
    )
    # Fewer than 11 rows: the farthest neighbour.
    small = x[:6]
    sigma = np.sort(dist[:6, :6], axis=1)[:, 5].mean()
    np.testing.assert_allclose(
        nats(small, y[:6], kernel_width="knn"), nats(small, y[:6], kernel_width=sigma)
    )


def test_knn_rule_on_repeated_rows_is_the_delta_kernel():
    # Every row has more than 10 copies: σ = 0, and the Gram matrix is the delta kernel
    # on the rows' values, whose entropy is that of their frequencies.
    # At α = 0.5 the rounding noise of the zero eigenvalues would count: it is dropped.
    t = np.repeat([[0.0, 1.0], [1.0, 1.0]], [12, 24], axis=0)
    for alpha in (0.5, 1.01):
        est = get_estimator("renyi", alpha=alpha, kernel_width="knn")
        i_xt, _ = est.plane_point(t, np.arange(36), np.zeros(36, int), units="nats")
        want = renyi_of_frequencies([12, 24], alpha)
        np.testing.assert_allclose(i_xt.value, want, rtol=1e-12)


# --- batches ------------------------------------------------------------------------------


def test_batches_average_the_batches_of_one_shuffle():
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal((250, 2)), rng.integers(0, 3, 250)
    order = np.random.default_rng(3).permutation(250)[:240]  # 3 batches of 80; 10 left out
    want = np.mean([nats(x[b], y[b], kernel_width="knn") for b in np.split(order, 3)])
    est = get_estimator("renyi", kernel_width="knn", batch_size=80)
    got = est.estimate(x, y, units="nats", random_state=3)
    np.testing.assert_allclose(got.value, want, rtol=1e-12)
    assert got.n_samples == 250
    seeded = est.estimate(x, y, random_state=3)
    assert est.estimate(x, y, random_state=3).to_dict() == seeded.to_dict()
    assert est.estimate(x, y, random_state=4).value != seeded.value


def test_a_batch_is_an_estimate_at_its_size():
    # Distinct rows and a narrow kernel: S(T) = log n of the rows in the Gram matrix.
    t = np.random.default_rng(13).standard_normal((300, 2))
    for size, want in ((300, np.log2(300)), (100, np.log2(100)), (64, np.log2(64))):
        est = get_estimator("renyi", kernel_width=1e-6, batch_size=size)
        i_xt, _ = est.plane_point(t, np.arange(300), np.zeros(300, int), random_state=0)
        np.testing.assert_allclose(i_xt.value, want, rtol=1e-12)


# --- the information plane ----------------------------------------------------------------


@pytest.mark.parametrize("width", ["silverman", "knn", 0.5])
def test_plane_point_against_the_definition(width):
    rng = np.random.default_rng(14)
    t = np.tanh(rng.standard_normal((90, 4)))
    y = rng.integers(0, 3, 90)
    est = get_estimator("renyi", kernel_width=width)
    i_xt, i_ty = est.plane_point(t, np.arange(90), y, units="nats")
    s_t = est.estimate(t, np.arange(90), units="nats").value  # I(X;T) for distinct inputs
    sigma = {"silverman": np.sqrt(t.var(axis=0).sum()) * 90 ** (-1 / 8), 0.5: 0.5}.get(width)
    if sigma is not None:
        k = gauss_gram(t, sigma)
        # I(X;T) = S(T) for distinct inputs: A_X ∘ A_T = I/n² is diagonal.
        np.testing.assert_allclose(i_xt.value, entropy_of(k, 1.01), rtol=1e-10)
        np.testing.assert_allclose(i_ty.value, mi_of(k, delta_gram(y), 1.01), rtol=1e-10)
    np.testing.assert_allclose(i_xt.value, s_t, rtol=1e-12)
    np.testing.assert_allclose(i_ty.value, est.estimate(t, y, units="nats").value, rtol=1e-12)


def test_plane_point_with_repeated_inputs():
    # Several rows per input: X's delta kernel has blocks, checked against dense matrices.
    rng = np.random.default_rng(15)
    t = rng.standard_normal((60, 2))
    inputs = np.arange(60) // 4
    y = inputs % 3
    i_xt, i_ty = get_estimator("renyi", kernel_width=0.6).plane_point(t, inputs, y, units="nats")
    k = gauss_gram(t, 0.6)
    np.testing.assert_allclose(i_xt.value, mi_of(k, delta_gram(inputs), 1.01), rtol=1e-10)
    np.testing.assert_allclose(i_ty.value, mi_of(k, delta_gram(y), 1.01), rtol=1e-10)


def test_plane_point_of_separated_classes():
    # One tight cluster per class, far apart relative to the width: A_T∘A_Y = A_T, so
    # I(T;Y) = S(Y), the Rényi entropy of the class frequencies (Shannon's at α = 1).
    rng = np.random.default_rng(16)
    y = rng.choice(3, size=120, p=[0.5, 0.3, 0.2])
    t = 10.0 * y[:, None] + 0.1 * rng.standard_normal((120, 2))
    for alpha in (1.0, 1.01):
        est = get_estimator("renyi", alpha=alpha, kernel_width="knn")
        i_xt, i_ty = est.plane_point(t, np.arange(120), y, units="nats")
        np.testing.assert_allclose(i_ty.value, renyi_of_frequencies(np.bincount(y), alpha))
        assert i_ty.value < i_xt.value <= np.log(120)


def test_plane_point_matches_two_estimates_when_batched():
    rng = np.random.default_rng(17)
    t, y = rng.standard_normal((200, 3)), rng.integers(0, 2, 200)
    est = get_estimator("renyi", batch_size=64)
    i_xt, i_ty = est.plane_point(t, np.arange(200), y, random_state=5)
    assert i_xt.to_dict() == est.estimate(t, np.arange(200), random_state=5).to_dict()
    assert i_ty.to_dict() == est.estimate(t, y, random_state=5).to_dict()


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"alpha": 0.0}, ["alpha", "> 0", "0.0"]),
        ({"alpha": -1.0}, ["alpha", "> 0"]),
        ({"alpha": np.inf}, ["alpha", "finite"]),
        ({"alpha": "1"}, ["alpha", "real number", "'1'"]),
        ({"kernel_width": "scott"}, ["kernel_width", "'silverman', 'knn'", "'scott'"]),
        ({"kernel_width": 0.0}, ["kernel_width", "number > 0", "0.0"]),
        ({"kernel_width": -2}, ["kernel_width", "-2"]),
        ({"kernel_width": np.nan}, ["kernel_width", "nan"]),
        ({"kernel_width": True}, ["kernel_width", "True"]),
        ({"batch_size": 1}, ["batch_size", ">= 2", "1"]),
        ({"batch_size": 10.5}, ["batch_size", "integer", "10.5"]),
        ({"kernel": "gauss"}, ["renyi", "'kernel'", "alpha, batch_size, kernel_width"]),
    ],
)
def test_bad_parameters_are_refused_naming_them(params, words):
    with pytest.raises(InvalidParameterError) as err:
        get_estimator("renyi", **params)
    for word in words:
        assert word in str(err.value), str(err.value)


def test_bad_samples_are_refused_naming_them():
    x = np.random.default_rng(18).standard_normal((10, 2))
    est = get_estimator("renyi")
    for args, name in [
        ((x[:1], np.zeros(1, int)), "at least 2 samples"),
        ((x, np.zeros(9, int)), "one row per sample"),
        ((np.where(x > 1, np.nan, x), np.zeros(10, int)), "x has"),
        ((x + 1j, np.zeros(10, int)), "x is complex"),
    ]:
        with pytest.raises(InvalidParameterError, match=name):
            est.estimate(*args)
    with pytest.raises(InvalidParameterError, match="t and x_labels must have one row"):
        est.plane_point(x, np.arange(9), np.zeros(10, int))

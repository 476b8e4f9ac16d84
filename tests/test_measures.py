"""Tests of the discrete information measures against truths from outside the code.

Truth comes from: closed forms worked out by hand (uniform entropy log2 n, binary
entropies such as H(1/4) = 2 − (3/4)·log2 3, KL and JS of simple pairs, I of independent
and of diagonal joints); the identities of Cover & Thomas ch. 2 (I = H(X) + H(Y) − H(X,Y),
the chain rule, 0 ≤ I ≤ min(H(X), H(Y)), Gibbs' and Pinsker's inequalities, JS ≤ 1 bit)
checked by hypothesis on random tables with zeros; invariances (permutations, units,
normalisation of counts); and every validation message at the public edge.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from ibkit.measures import (
    conditional_entropy,
    entropy,
    js_divergence,
    kl_divergence,
    mutual_information,
)

LOG2_3 = math.log2(3.0)
LN2 = math.log(2.0)

# --------------------------------------------------------------------------- strategies

# entries in [0, 1] with plenty of exact zeros; the tables are normalised by the test
_cell = st.one_of(st.just(0.0), st.floats(0.0, 1.0, allow_subnormal=False))


@st.composite
def tables(draw, min_side: int = 1, max_side: int = 5) -> np.ndarray:
    """A 2-D non-negative table with positive total, normalised to a joint p(x,y)."""
    n_x = draw(st.integers(min_side, max_side))
    n_y = draw(st.integers(min_side, max_side))
    a = draw(arrays(np.float64, (n_x, n_y), elements=_cell).filter(lambda a: a.sum() > 0))
    return a / a.sum()


@st.composite
def distributions(draw, size: int | None = None, min_size: int = 1, max_size: int = 6):
    n = draw(st.integers(min_size, max_size)) if size is None else size
    a = draw(arrays(np.float64, (n,), elements=_cell).filter(lambda a: a.sum() > 0))
    return a / a.sum()


@st.composite
def distribution_pairs(draw):
    n = draw(st.integers(1, 6))
    return draw(distributions(size=n)), draw(distributions(size=n))


PROPERTY = settings(max_examples=60, deadline=None)


def h2(p: float) -> float:
    """Binary entropy in bits, written out (0 log 0 = 0)."""
    return -sum(x * math.log2(x) for x in (p, 1.0 - p) if x > 0)


# --------------------------------------------------------------------------- entropy


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 16])
def test_uniform_entropy_is_log2_n(n):
    assert_allclose(entropy(np.full(n, 1.0 / n)), math.log2(n), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.5, 1.0),
        (0.25, 2.0 - 0.75 * LOG2_3),  # −¼ log2 ¼ − ¾ log2 ¾ = ½ + ¾ (2 − log2 3)
        (1.0 / 3.0, LOG2_3 - 2.0 / 3.0),  # −⅓ log2 ⅓ − ⅔ log2 ⅔
        (0.0, 0.0),
        (1.0, 0.0),
    ],
)
def test_binary_entropy_closed_forms(p, expected):
    assert_allclose(entropy([p, 1.0 - p]), expected, rtol=1e-14, atol=1e-15)
    assert_allclose(h2(p), expected, rtol=1e-14, atol=1e-15)  # the helper agrees


def test_entropy_of_a_joint_counts_every_cell():
    # four equiprobable cells: 2 bits whatever the shape
    assert_allclose(entropy(np.full((2, 2), 0.25)), 2.0, rtol=1e-15)
    assert_allclose(entropy(np.full((1, 4, 1), 0.25)), 2.0, rtol=1e-15)


def test_entropy_normalize_accepts_counts():
    # counts 1, 1, 2 → (¼, ¼, ½) → 1.5 bits
    assert_allclose(entropy([1, 1, 2], normalize=True), 1.5, rtol=1e-15)
    assert_allclose(entropy(np.array([10.0, 10.0, 20.0]), normalize=True), 1.5, rtol=1e-15)


@given(distributions())
@PROPERTY
def test_entropy_bounds(p):
    h = entropy(p)
    assert 0.0 <= h <= math.log2(p.size) + 1e-12


# --------------------------------------------------------------------------- conditional entropy


def test_conditional_entropy_hand_computed():
    # X=0: Y uniform (1 bit); X=1: Y fixed (0 bits); p(X=0) = ½ → H(Y|X) = ½
    assert conditional_entropy([[0.25, 0.25], [0.5, 0.0]]) == 0.5
    # Y a function of X → 0; Y independent of X → H(Y)
    assert_allclose(conditional_entropy(np.diag([0.2, 0.3, 0.5])), 0.0, atol=1e-15)
    p_y = np.array([0.25, 0.75])
    joint = np.outer([0.4, 0.6], p_y)
    assert_allclose(conditional_entropy(joint), h2(0.25), rtol=1e-13)


def test_conditional_entropy_counts_and_zero_rows():
    # a row of zero mass contributes nothing
    assert_allclose(conditional_entropy([[1, 1], [0, 0], [2, 0]], normalize=True), 0.5, rtol=1e-14)


@given(tables())
@PROPERTY
def test_chain_rule(p_xy):
    # H(X,Y) = H(X) + H(Y|X)
    h_x = entropy(p_xy.sum(axis=1))
    assert_allclose(entropy(p_xy), h_x + conditional_entropy(p_xy), rtol=1e-10, atol=1e-12)
    assert conditional_entropy(p_xy) >= 0.0


# --------------------------------------------------------------------------- mutual information


def test_mutual_information_of_independent_variables_is_zero():
    joint = np.outer([0.1, 0.2, 0.7], [0.3, 0.3, 0.4])
    assert_allclose(mutual_information(joint), 0.0, atol=1e-14)
    assert_allclose(mutual_information(np.full((3, 5), 1 / 15)), 0.0, atol=1e-14)
    assert_allclose(mutual_information([[1.0]]), 0.0, atol=0)


@pytest.mark.parametrize("p", [[0.5, 0.5], [0.25, 0.75], [0.1, 0.2, 0.3, 0.4], [1 / 3] * 3])
def test_mutual_information_of_identity_joint_is_entropy(p):
    # I(X;X) = H(X); a permuted diagonal (Y a bijection of X) too
    diag = np.diag(p)
    assert_allclose(mutual_information(diag), entropy(p), rtol=1e-13)
    assert_allclose(mutual_information(diag[::-1]), entropy(p), rtol=1e-13)


def test_mutual_information_hand_computed():
    # contingency table [[10, 0], [0, 30]]: Y = X, p(X=0) = ¼ → I = H(¼)
    assert_allclose(
        mutual_information([[10, 0], [0, 30]], normalize=True), 2.0 - 0.75 * LOG2_3, rtol=1e-14
    )
    # binary symmetric channel, uniform input, crossover ¼: I = 1 − H(¼)
    bsc = 0.5 * np.array([[0.75, 0.25], [0.25, 0.75]])
    assert_allclose(mutual_information(bsc), 1.0 - (2.0 - 0.75 * LOG2_3), rtol=1e-13)
    # Y = X on {0,1}, X uniform, plus an unused value of Y: still 1 bit
    assert_allclose(mutual_information([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]), 1.0, rtol=1e-15)


@pytest.mark.parametrize("tiny", [1e-170, 1e-200, 1e-300, 5e-324])
def test_mutual_information_tiny_cells_are_finite(tiny):
    # p(x)p(y) = tiny² underflows to 0; the exact value is H(tiny, 1 − tiny) ≈ tiny·log(1/tiny)
    joint = np.array([[tiny, 0.0], [0.0, 1.0]])
    mi = mutual_information(joint, units="nats")
    assert np.isfinite(mi)
    expected = -tiny * math.log(tiny)  # + (1 − tiny)·(−log(1 − tiny)) ≈ tiny, below the ulp
    assert_allclose(mi, expected, rtol=1e-2 if tiny < 1e-307 else 1e-12)


def test_tiny_cells_give_finite_results_everywhere():
    joint = np.array([[1e-300, 0.5], [0.5 - 1e-300, 0.0]])
    assert np.isfinite(mutual_information(joint))
    assert np.isfinite(conditional_entropy(joint))
    assert_allclose(mutual_information(joint), 1.0, rtol=1e-12)
    p = np.array([1e-300, 1.0])
    q = np.array([0.5, 0.5])
    for value in (entropy(p), kl_divergence(p, q), kl_divergence(q, p), js_divergence(p, q)):
        assert np.isfinite(value)
    # D(q‖p) = ½ log2(½ / 1e-300) + ½ log2(½ / 1)
    assert_allclose(kl_divergence(q, p), 0.5 * (300 * math.log2(10) - 1) - 0.5, rtol=1e-13)


@given(tables())
@PROPERTY
def test_mutual_information_identities(p_xy):
    mi = mutual_information(p_xy)
    h_x = entropy(p_xy.sum(axis=1))
    h_y = entropy(p_xy.sum(axis=0))
    h_xy = entropy(p_xy)
    assert -1e-15 <= mi <= min(h_x, h_y) + 1e-12
    assert_allclose(mi, h_x + h_y - h_xy, rtol=1e-9, atol=1e-12)
    # I(X;Y) = H(Y) − H(Y|X), and symmetric
    assert_allclose(mi, h_y - conditional_entropy(p_xy), rtol=1e-9, atol=1e-12)
    assert_allclose(mutual_information(p_xy.T), mi, rtol=1e-12, atol=1e-14)


@given(tables(), st.randoms(use_true_random=False))
@PROPERTY
def test_mutual_information_permutation_invariant(p_xy, rnd):
    rows = list(range(p_xy.shape[0]))
    cols = list(range(p_xy.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    permuted = p_xy[rows][:, cols]
    assert_allclose(mutual_information(permuted), mutual_information(p_xy), rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- KL and JS


def test_kl_hand_computed():
    # ½ log2(½/¼) + ½ log2(½/¾) = ½ + ½ (1 − log2 3) = 1 − ½ log2 3
    assert_allclose(kl_divergence([0.5, 0.5], [0.25, 0.75]), 1.0 - 0.5 * LOG2_3, rtol=1e-14)
    # a point mass against uniform on n: log2 n
    assert_allclose(kl_divergence([1.0, 0.0, 0.0, 0.0], [0.25] * 4), 2.0, rtol=1e-15)
    # the reverse direction puts mass where the point mass has none
    assert kl_divergence([0.25] * 4, [1.0, 0.0, 0.0, 0.0]) == math.inf
    assert kl_divergence([1.0, 0.0], [0.0, 1.0]) == math.inf
    # 0 log(0/q) = 0: the support of p inside the support of q
    assert_allclose(kl_divergence([0.0, 1.0], [0.5, 0.5]), 1.0, rtol=1e-15)


def test_kl_of_a_distribution_with_itself_is_exactly_zero():
    p = np.array([0.1, 0.0, 0.3, 0.6])
    assert kl_divergence(p, p) == 0.0


@given(distribution_pairs())
@PROPERTY
def test_kl_gibbs_and_pinsker(pq):
    p, q = pq
    kl = kl_divergence(p, q)
    assert kl >= 0.0  # Gibbs, with no round-off below 0
    assert kl_divergence(p, p) == 0.0
    # Pinsker: D(P‖Q) ≥ ‖P − Q‖₁² / (2 ln 2) bits, so D > 0 whenever P ≠ Q
    l1 = float(np.abs(p - q).sum())
    assert kl >= l1**2 / (2 * LN2) * (1 - 1e-9) - 1e-15


def test_kl_nearly_equal_is_not_negative():
    # the sum of the signed terms p log(p/q) rounds below 0 without the clip
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.dirichlet(np.ones(5))
        q = np.abs(p + rng.normal(size=5) * 1e-17)
        assert kl_divergence(p, q, normalize=True) >= 0.0


def test_js_hand_computed():
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == 1.0  # disjoint supports: 1 bit
    assert_allclose(js_divergence([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]), 1.0, rtol=1e-15)
    assert js_divergence([0.2, 0.8], [0.2, 0.8]) == 0.0
    # disjoint supports with weights π: the entropy of π
    assert_allclose(
        js_divergence([1.0, 0.0], [0.0, 1.0], weights=(0.25, 0.75)), 2.0 - 0.75 * LOG2_3
    )
    # P = (1, 0), Q = (½, ½): M = (¾, ¼), JS = H(¼) − ½·0 − ½·1
    assert_allclose(js_divergence([1.0, 0.0], [0.5, 0.5]), (2.0 - 0.75 * LOG2_3) - 0.5, rtol=1e-14)


@given(distribution_pairs())
@PROPERTY
def test_js_bounded_and_symmetric(pq):
    p, q = pq
    js = js_divergence(p, q)
    assert 0.0 <= js <= 1.0 + 1e-12
    assert_allclose(js_divergence(q, p), js, rtol=1e-12, atol=1e-15)
    # JS = ½ D(P‖M) + ½ D(Q‖M) with M the midpoint
    m = 0.5 * (p + q)
    assert_allclose(
        js, 0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m), rtol=1e-9, atol=1e-12
    )


# --------------------------------------------------------------------------- units and normalize


def _all_measures(units: str) -> list[float]:
    p = np.array([0.1, 0.2, 0.7])
    q = np.array([0.3, 0.3, 0.4])
    joint = np.array([[0.1, 0.2], [0.3, 0.05], [0.0, 0.35]])
    return [
        entropy(p, units=units),
        conditional_entropy(joint, units=units),
        mutual_information(joint, units=units),
        kl_divergence(p, q, units=units),
        js_divergence(p, q, units=units),
        js_divergence(p, q, weights=(0.3, 0.7), units=units),
    ]


def test_nats_are_bits_times_ln2():
    bits = np.array(_all_measures("bits"))
    nats = np.array(_all_measures("nats"))
    assert (bits > 0).all()
    assert_allclose(nats, bits * LN2, rtol=1e-13)
    assert_allclose(entropy([0.5, 0.5], units="nats"), LN2, rtol=1e-15)


def test_default_units_are_bits():
    assert_allclose(
        _all_measures("bits"),
        [
            entropy([0.1, 0.2, 0.7]),
            conditional_entropy([[0.1, 0.2], [0.3, 0.05], [0.0, 0.35]]),
            mutual_information([[0.1, 0.2], [0.3, 0.05], [0.0, 0.35]]),
            kl_divergence([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]),
            js_divergence([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]),
            js_divergence([0.1, 0.2, 0.7], [0.3, 0.3, 0.4], weights=(0.3, 0.7)),
        ],
        rtol=0,
        atol=0,
    )


def test_normalize_counts_equals_probabilities():
    counts = np.array([[3, 1, 0], [0, 2, 4]])
    p = counts / counts.sum()
    assert_allclose(mutual_information(counts, normalize=True), mutual_information(p), rtol=1e-14)
    assert_allclose(conditional_entropy(counts, normalize=True), conditional_entropy(p), rtol=1e-14)
    assert_allclose(entropy(counts, normalize=True), entropy(p), rtol=1e-14)
    a, b = np.array([1, 3]), np.array([2, 2])
    assert_allclose(kl_divergence(a, b, normalize=True), kl_divergence(a / 4, b / 4), rtol=1e-14)
    assert_allclose(js_divergence(a, b, normalize=True), js_divergence(a / 4, b / 4), rtol=1e-14)


def test_sums_within_tolerance_are_accepted():
    # off by 1e-9 (within the 1e-6 tolerance): accepted and renormalised
    assert_allclose(entropy([0.5, 0.5 + 1e-9]), 1.0, rtol=1e-12)


# --------------------------------------------------------------------------- bad input

ONE_D = {
    "entropy": lambda p, **kw: entropy(p, **kw),
    "kl_divergence (p)": lambda p, **kw: kl_divergence(p, [0.5, 0.5], **kw),
    "kl_divergence (q)": lambda q, **kw: kl_divergence([0.5, 0.5], q, **kw),
    "js_divergence (p)": lambda p, **kw: js_divergence(p, [0.5, 0.5], **kw),
    "js_divergence (q)": lambda q, **kw: js_divergence([0.5, 0.5], q, **kw),
}
TWO_D = {
    "conditional_entropy": lambda p, **kw: conditional_entropy(p, **kw),
    "mutual_information": lambda p, **kw: mutual_information(p, **kw),
}


def _name(key: str) -> str:
    return "q" if key.endswith("(q)") else ("p" if key in ONE_D else "p_xy")


@pytest.mark.parametrize("key", list(ONE_D))
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([-0.5, 1.5], r"has 1 negative entries \(min -0\.5\)"),
        ([np.nan, 1.0], r"has 1 NaN or infinite entries"),
        ([np.inf, 1.0], r"has 1 NaN or infinite entries"),
        ([0.3, 0.3], r"sums to 0\.6, not 1; pass probabilities or set normalize=True"),
        ([0.0, 0.0], r"is all zeros"),
        (["a", "b"], r"must be a numeric array"),
    ],
)
def test_bad_one_d_input(key, bad, match):
    with pytest.raises(ValueError, match=rf"^{_name(key)} {match}"):
        ONE_D[key](bad)


@pytest.mark.parametrize("key", list(ONE_D))
def test_bad_one_d_input_is_rejected_with_normalize_too(key):
    name = _name(key)
    with pytest.raises(ValueError, match=rf"^{name} has 1 negative entries"):
        ONE_D[key]([-1.0, 3.0], normalize=True)
    with pytest.raises(ValueError, match=rf"^{name} is all zeros"):
        ONE_D[key]([0, 0], normalize=True)
    with pytest.raises(ValueError, match=rf"^{name} is empty"):
        ONE_D[key]([])


@pytest.mark.parametrize("key", list(TWO_D))
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([[-0.1, 0.6], [0.25, 0.25]], r"p_xy has 1 negative entries"),
        ([[np.nan, 0.5], [0.25, 0.25]], r"p_xy has 1 NaN or infinite entries"),
        ([[np.inf, 0.5], [0.25, 0.25]], r"p_xy has 1 NaN or infinite entries"),
        ([0.5, 0.5], r"p_xy must be 2-D; got an array of shape \(2,\)"),
        ([[[0.5, 0.5]]], r"p_xy must be 2-D; got an array of shape \(1, 1, 2\)"),
        ([[0.5, 0.5], [0.5, 0.5]], r"p_xy sums to 2, not 1; pass probabilities or set normalize"),
        ([[0.0, 0.0], [0.0, 0.0]], r"p_xy is all zeros"),
        (np.zeros((0, 2)), r"p_xy is empty"),
    ],
)
def test_bad_joint(key, bad, match):
    with pytest.raises(ValueError, match=match):
        TWO_D[key](bad)


@pytest.mark.parametrize("fn", [kl_divergence, js_divergence])
def test_shape_mismatch(fn):
    msg = r"p and q must have the same shape; got \(2,\) and \(3,\)"
    with pytest.raises(ValueError, match=msg):
        fn([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match=r"same shape; got \(4,\) and \(2, 2\)"):
        fn([0.25] * 4, [[0.25, 0.25], [0.25, 0.25]])


@pytest.mark.parametrize(
    "call",
    [
        lambda u: entropy([0.5, 0.5], units=u),
        lambda u: conditional_entropy([[0.5, 0.5]], units=u),
        lambda u: mutual_information([[0.5, 0.5]], units=u),
        lambda u: kl_divergence([0.5, 0.5], [0.5, 0.5], units=u),
        lambda u: js_divergence([0.5, 0.5], [0.5, 0.5], units=u),
    ],
)
@pytest.mark.parametrize("units", ["bit", "Bits", "nat", "", None, 2])
def test_bad_units(call, units):
    with pytest.raises(ValueError, match=r"units must be 'bits' or 'nats'; got"):
        call(units)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ((0.3, 0.3), r"weights must be two numbers >= 0 summing to 1; got \(0\.3, 0\.3\)"),
        ((-0.5, 1.5), r"weights must be two numbers >= 0 summing to 1; got \(-0\.5, 1\.5\)"),
        ((0.2, 0.3, 0.5), r"weights must hold two numbers; got 3"),
        ((1.0,), r"weights must hold two numbers; got 1"),
        ((np.nan, 0.5), r"weights has 1 NaN or infinite entries"),
        (0.5, r"weights must be 1-D"),
        (("a", "b"), r"weights must be a numeric array"),
    ],
)
def test_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        js_divergence([0.5, 0.5], [0.25, 0.75], weights=weights)


def test_weights_are_not_normalised_by_normalize():
    # normalize=True applies to p and q (counts), never to the weights
    with pytest.raises(ValueError, match=r"weights must be two numbers >= 0 summing to 1"):
        js_divergence([1, 1], [1, 3], weights=(1, 3), normalize=True)

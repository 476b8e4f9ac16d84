"""Tests of the IB clustering estimators against truth from outside the code under test.

Truth comes from: planted clusters (items drawn from K topic distributions over Y),
recovered as the separation grows, scored by scikit-learn's adjusted mutual
information; the IB curve of the same joint (:func:`ibkit.ib.ib_curve`), above which no
partition can lie; the local optimality of a converged sIB partition, checked item by
item with :func:`ibkit.measures.js_divergence`; informations recomputed from the labels
with :mod:`ibkit.measures`; the IB encoder and the KL assignment rule written out with
:func:`ibkit.measures.kl_divergence`; and scikit-learn's own estimator checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_mutual_info_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from ibkit._validation import ConvergenceWarning, InvalidParameterError
from ibkit.cluster import (
    AgglomerativeIB,
    DeterministicIB,
    InformationBottleneck,
    SequentialIB,
    _sib,
    sequential,
)
from ibkit.ib import agglomerative_ib, ib_curve
from ibkit.measures import entropy, js_divergence, kl_divergence, mutual_information

# --------------------------------------------------------------------------- helpers


def planted(
    separation: float,
    *,
    n_items: int = 90,
    n_features: int = 30,
    k: int = 3,
    length: int = 60,
    seed: int = 0,
    draw: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of items drawn from k topics p_k = (1 − s)·uniform + s·Dirichlet(0.5).

    Item i belongs to topic i mod k and has ``length`` draws; s = 0 gives no signal.
    ``seed`` fixes the topics and ``draw`` the items drawn from them.
    """
    topics = np.random.default_rng(seed).dirichlet(np.full(n_features, 0.5), size=k)
    mix = (1 - separation) / n_features + separation * topics
    truth = np.arange(n_items) % k
    return np.random.default_rng([seed, draw]).multinomial(length, mix[truth]), truth


def cluster_joint(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p(t, y) of a hard partition: the normalised rows of X summed per label."""
    p_xy = np.asarray(X, dtype=float) / np.sum(X)
    out = np.zeros((labels.max() + 1, p_xy.shape[1]))
    for x, t in enumerate(labels):
        out[t] += p_xy[x]
    return out


def ami(truth: np.ndarray, labels: np.ndarray) -> float:
    return adjusted_mutual_info_score(truth, labels)


ESTIMATORS = [
    lambda k: SequentialIB(k, random_state=0),
    lambda k: AgglomerativeIB(k),
    lambda k: DeterministicIB(k, beta=50.0, random_state=0),
    lambda k: InformationBottleneck(k, beta=50.0, random_state=0),
]
NAMES = ["sIB", "aIB", "DIB", "IB"]


# --------------------------------------------------------------------------- scikit-learn


def _expected_failures(estimator) -> dict[str, str]:
    failures = {
        "check_clustering": (
            "fits standardised blobs with negative entries, which are not counts; the "
            "positive_only tag is not applied in this check (the label properties it "
            "asserts are tested in test_labels_are_consecutive_integers_from_zero)"
        )
    }
    if isinstance(estimator, InformationBottleneck):
        reason = (
            "the check reads classifier tags whenever predict_proba exists, and a "
            "clusterer has none; sparse input is tested in "
            "test_sparse_and_dense_input_give_the_same_result"
        )
        failures["check_estimator_sparse_matrix"] = reason
        failures["check_estimator_sparse_array"] = reason
    return failures


@parametrize_with_checks(
    [
        SequentialIB(n_init=2),
        AgglomerativeIB(),
        DeterministicIB(n_init=2),
        InformationBottleneck(n_init=2),
    ],
    expected_failed_checks=_expected_failures,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- planted truth


def test_sequential_ib_recovers_planted_clusters_as_the_signal_grows():
    separations = [0.0, 0.1, 0.2, 0.3, 0.4, 0.7, 1.0]
    scores = []
    for s in separations:
        X, truth = planted(s)
        scores.append(ami(truth, SequentialIB(3, random_state=0).fit_predict(X)))
    assert scores[0] < 0.1  # no signal: chance level
    assert np.all(np.diff(scores) > -0.02)
    assert_allclose(scores[-2:], 1.0)


@pytest.mark.parametrize("make", ESTIMATORS, ids=NAMES)
def test_every_estimator_recovers_well_separated_clusters(make):
    X, truth = planted(0.6, seed=1)
    est = make(3).fit(X)
    assert_allclose(ami(truth, est.labels_), 1.0)
    new, new_truth = planted(0.6, seed=1, draw=1, n_items=30)  # same topics, new items
    assert ami(new_truth, est.predict(new)) > 0.9


@pytest.fixture(scope="module")
def curve_problem():
    """Random counts (16 items, 5 features) and their IB curve."""
    X = np.random.default_rng(1).integers(0, 6, size=(16, 5))
    with pytest.warns(ConvergenceWarning):  # a few β next to phase transitions
        return X, ib_curve(X, normalize=True, random_state=0)


@pytest.mark.parametrize("make", ESTIMATORS, ids=NAMES)
def test_no_solution_lies_above_the_ib_curve(make, curve_problem):
    X, curve = curve_problem
    for k in (2, 3, 4):
        est = make(k).fit(X)
        assert 0 < est.i_ty_ <= est.i_xy_ + 1e-12
        assert float(curve.i_ty_at(est.i_xt_)) >= est.i_ty_ - 1e-9


def test_a_converged_partition_is_locally_optimal():
    """No single move of an item lowers the loss, by JS costs computed from scratch."""
    X, _ = planted(0.3, n_items=40, n_features=12, k=4, seed=2)
    sib = SequentialIB(4, n_init=1, max_iter=100, tol=0.0, random_state=0).fit(X)
    p_xy = X / X.sum()
    labels = sib.labels_
    for x in range(X.shape[0]):
        own = labels[x]
        if np.count_nonzero(labels == own) == 1:
            continue
        costs = []
        for t in range(4):
            members = (labels == t) & (np.arange(X.shape[0]) != x)
            p_t = p_xy[members].sum(axis=0)
            w, m = p_xy[x].sum(), p_t.sum()
            js = js_divergence(p_xy[x] / w, p_t / m, weights=(w / (w + m), m / (w + m)))
            costs.append((w + m) * js)
        assert costs[own] <= min(costs) + 1e-12


# --------------------------------------------------------------------------- sIB internals


def _sib_state(X: np.ndarray, labels: np.ndarray, k: int):
    """The sIB solver's view of counts X and one restart's partition ``labels``."""
    counts = sparse.csr_matrix(np.asarray(X, dtype=float))
    items = sequential._Items.of(counts)
    return items, sequential._Clusters.of(items, labels, k)


def _item_costs(items, state, x: int, here: int) -> np.ndarray:
    """The solver's cost of item x against every cluster, back in probabilities."""
    indptr, indices, data, weight, _ = items.csr()
    sums = (state.joint, state.phi_joint, state.mass, state.phi_mass)
    cost = np.array([
        _sib.own_cost(indptr, indices, data, weight, x, here, *sums) if t == here
        else _sib.merge_cost(indptr, indices, data, weight, x, t, *sums)
        for t in range(state.mass.size)
    ])  # fmt: skip
    q = data[indptr[x] : indptr[x + 1]]
    phi = q @ np.log(q) - weight[x] * np.log(weight[x])  # the item's own terms, dropped
    return (cost + phi) / weight.sum()  # φ is homogeneous up to terms that cancel


@pytest.mark.parametrize("integer", [True, False], ids=["counts", "weights"])
def test_fast_merge_cost_is_the_weighted_js_divergence(integer):
    """The sparse cost equals (p(x) + p(t))·JS_π[p(y|x), p(y|t)], its own cluster without x."""
    rng = np.random.default_rng(11)
    X = rng.integers(0, 4, size=(14, 9)) * (rng.random((14, 9)) < 0.6)
    X[X.sum(axis=1) == 0, 0] = 1
    X = X if integer else X * rng.random((14, 9)) * 3
    labels = np.arange(14) % 3
    items, state = _sib_state(X, labels, 3)
    p_xy = X / X.sum()
    for x in range(14):
        expected = []
        for t in range(3):
            members = (labels == t) & (np.arange(14) != x)
            p_t = p_xy[members].sum(axis=0)
            w, m = p_xy[x].sum(), p_t.sum()
            weights = (w / (w + m), m / (w + m))
            js = js_divergence(p_xy[x] / w, p_t / m, weights=weights, units="nats")
            expected.append((w + m) * js)
        assert_allclose(_item_costs(items, state, x, labels[x]), expected, rtol=1e-9, atol=1e-12)


def test_screening_bound_is_below_every_merge_cost():
    """The bound never exceeds the exact cost of a cluster that does not hold x."""
    rng = np.random.default_rng(12)
    X = rng.poisson(0.7, size=(40, 25)) * rng.random((40, 25)) ** 2
    X[X.sum(axis=1) == 0, 0] = 0.5
    labels = rng.permutation(np.arange(40) % 4)
    items, state = _sib_state(X, labels, 4)
    indptr, indices, data, weight, _ = items.csr()
    lower, slack = np.empty(4), np.empty(4)
    for x in range(40):
        _sib.lower_bounds(
            indptr, indices, data, weight, x, state.bound, state.mass,
            state.phi_mass, np.empty(4), lower, slack,
        )  # fmt: skip
        q = data[indptr[x] : indptr[x + 1]]
        exact = _item_costs(items, state, x, labels[x]) * weight.sum()
        exact -= q @ np.log(q) - weight[x] * np.log(weight[x])
        others = np.arange(4) != labels[x]
        assert np.all(lower[others] <= exact[others] + 1e-12 * np.abs(exact[others]))


@pytest.mark.parametrize("weights", [False, True], ids=["counts", "row-normalised"])
def test_screening_changes_no_decision(weights):
    """Sweeps that screen clusters by the bound move exactly the items that full sweeps
    move, sweep after sweep."""
    X, _ = planted(0.25, n_items=240, n_features=40, k=5, seed=13)
    X = X / X.sum(axis=1, keepdims=True) if weights else X
    items = sequential._Items.of(sparse.csr_matrix(X.astype(float)))
    for seed in (1, 2, 3):
        screened, full = (
            sequential.sequential_ib(items, 5, 50, 0.0, seed, screen=screen)
            for screen in (True, False)
        )
        assert_array_equal(screened.labels, full.labels)
        assert screened.n_iter == full.n_iter


def test_reported_informations_are_those_of_the_partition():
    X, _ = planted(0.3, seed=3)
    sib = SequentialIB(4, random_state=0).fit(X)
    p_ty = cluster_joint(X, sib.labels_)
    assert_allclose(sib.i_xy_, mutual_information(X, normalize=True), rtol=1e-12)
    assert_allclose(sib.i_ty_, mutual_information(p_ty), rtol=1e-12)
    assert_allclose(sib.i_xt_, entropy(p_ty.sum(axis=1)), rtol=1e-12)
    assert_allclose(sib.objective_, sib.i_xy_ - sib.i_ty_, rtol=1e-12)
    assert_allclose(sib.p_t_, p_ty.sum(axis=1), rtol=1e-12)
    assert_allclose(sib.p_y_given_t_, p_ty / p_ty.sum(axis=1, keepdims=True), rtol=1e-12)


def test_more_restarts_never_lower_i_ty():
    X, _ = planted(0.15, seed=4)
    for seed in range(4):
        one = SequentialIB(5, n_init=1, random_state=seed).fit(X)
        many = SequentialIB(5, n_init=6, random_state=seed).fit(X)
        assert many.i_ty_ >= one.i_ty_


# --------------------------------------------------------------------------- input forms


@pytest.mark.parametrize("make", ESTIMATORS, ids=NAMES)
def test_sparse_and_dense_input_give_the_same_result(make):
    X, _ = planted(0.2, seed=6)
    dense = make(3).fit(X)
    # COO with every entry split in two duplicates, shuffled: canonicalised on input
    rows, cols = np.nonzero(X)
    order = np.random.default_rng(0).permutation(2 * rows.size)
    half = X[rows, cols] / 2
    coo = sparse.coo_matrix(
        (np.tile(half, 2)[order], (np.tile(rows, 2)[order], np.tile(cols, 2)[order])),
        shape=X.shape,
    )
    for matrix in (sparse.csr_matrix(X), coo.tocsr(), sparse.csr_array(X)):
        est = make(3).fit(matrix)
        assert_array_equal(est.labels_, dense.labels_)
        assert_allclose(est.i_ty_, dense.i_ty_, rtol=1e-12)
        assert_allclose(est.transform(matrix), dense.transform(X), rtol=1e-12)


def test_same_seed_same_clusters_whatever_n_jobs():
    X, _ = planted(0.15, seed=7)
    a = SequentialIB(4, n_init=4, random_state=3).fit(X)
    b = SequentialIB(4, n_init=4, random_state=3).fit(X)
    c = SequentialIB(4, n_init=4, random_state=3, n_jobs=2).fit(X)
    assert_array_equal(a.labels_, b.labels_)
    assert_array_equal(a.labels_, c.labels_)
    assert a.i_ty_ == c.i_ty_


def test_rows_without_counts_join_the_heaviest_cluster_and_change_nothing_else():
    X, _ = planted(0.3, seed=8)
    with_zeros = np.insert(X, [0, 10, 10, 50], 0, axis=0)
    live = with_zeros.sum(axis=1) > 0
    plain = SequentialIB(3, random_state=0).fit(X)
    est = SequentialIB(3, random_state=0).fit(with_zeros)
    assert_array_equal(est.labels_[live], plain.labels_)
    assert_array_equal(est.labels_[~live], np.argmax(est.p_t_))
    assert_allclose(est.i_ty_, plain.i_ty_, rtol=1e-12)


@pytest.mark.parametrize("make", ESTIMATORS[:3], ids=NAMES[:3])
def test_labels_are_consecutive_integers_from_zero(make):
    X, _ = planted(0.3, seed=9)
    noise = np.random.default_rng(0).integers(0, 4, size=(5, X.shape[1]))
    X = np.vstack([X, noise])
    est = make(4)
    labels = est.fit_predict(X)
    assert labels.dtype == np.int64
    assert_array_equal(labels, est.labels_)
    assert_array_equal(np.unique(labels), np.arange(est.n_clusters_))
    assert est.n_clusters_ <= 4
    assert_array_equal(make(4).fit_predict(X), labels)  # same seed, same labels


# --------------------------------------------------------------------------- new rows


def test_predict_and_transform_follow_the_kl_rule():
    X, _ = planted(0.3, seed=10)
    sib = SequentialIB(3, random_state=0).fit(X)
    new = np.random.default_rng(1).integers(0, 3, size=(12, X.shape[1]))
    new[0] = 0
    new[0, 0] = 5  # one feature only: finite or infinite divergences, either is exact
    expected = np.array(
        [[kl_divergence(row, q, normalize=True) for q in sib.p_y_given_t_] for row in new[1:]]
    )
    assert_allclose(sib.transform(new[1:]), expected, rtol=1e-10, atol=1e-12)
    assert_array_equal(sib.predict(new[1:]), np.argmin(expected, axis=1))


def test_ties_and_rows_ruled_out_by_every_cluster_go_to_the_heavier_cluster():
    X = np.array([[3, 0, 0, 0], [2, 0, 0, 0], [0, 0, 3, 0], [0, 0, 2, 0], [0, 0, 4, 0]])
    sib = SequentialIB(2, random_state=0).fit(X)
    heavy = sib.labels_[2]  # the cluster of mass 9/14
    assert sib.labels_[0] != heavy
    new = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]])
    divergences = sib.transform(new)
    assert np.all(np.isinf(divergences[:2]))
    assert_array_equal(divergences[2], 0.0)
    assert_array_equal(sib.predict(new), [heavy, heavy, heavy, sib.labels_[0]])


def test_information_bottleneck_encoder():
    X, _ = planted(0.2, seed=11)
    ib = InformationBottleneck(3, beta=5.0, random_state=0).fit(X)
    # at the fixed point the encoder formula gives back the fitted encoder
    assert_allclose(ib.predict_proba(X), ib.p_t_given_x_, atol=1e-6)
    assert_array_equal(ib.labels_, np.argmax(ib.p_t_given_x_, axis=1))
    assert_allclose(ib.objective_, ib.i_xt_ - 5.0 * ib.i_ty_, rtol=1e-9)
    # new rows: p(t|x) ∝ p(t) exp(−β KL[p(y|x) ‖ p(y|t)]), KL in nats
    new = np.random.default_rng(2).integers(0, 4, size=(6, X.shape[1]))
    kl = np.array(
        [
            [kl_divergence(row, q, normalize=True, units="nats") for q in ib.p_y_given_t_]
            for row in new
        ]
    )
    expected = ib.p_t_ * np.exp(-5.0 * (kl - kl.min(axis=1, keepdims=True)))
    expected /= expected.sum(axis=1, keepdims=True)
    assert_allclose(ib.predict_proba(new), expected, rtol=1e-9)


def test_information_bottleneck_falls_back_to_the_prior_for_ruled_out_rows():
    X = np.array([[3, 0, 0], [2, 0, 0], [0, 0, 3], [0, 0, 2]])
    ib = InformationBottleneck(2, beta=50.0, random_state=0).fit(X)
    assert_allclose(ib.predict_proba([[0, 1, 0], [0, 0, 0]]), [ib.p_t_, ib.p_t_])


def test_deterministic_ib_reports_its_objective():
    X, _ = planted(0.3, seed=12)
    dib = DeterministicIB(4, beta=20.0, random_state=0).fit(X)
    assert dib.n_clusters_ > 1
    assert_array_equal(np.unique(dib.p_t_given_x_), [0.0, 1.0])
    assert_allclose(dib.i_xt_, entropy(dib.p_t_), rtol=1e-12)  # hard: I(X;T) = H(T)
    assert_allclose(dib.objective_, dib.i_xt_ - 20.0 * dib.i_ty_, rtol=1e-9)


def test_agglomerative_estimator_is_the_solver_cut_at_n_clusters():
    X, _ = planted(0.3, n_items=30, seed=13)
    est = AgglomerativeIB(4).fit(X)
    tree = agglomerative_ib(X, normalize=True)
    assert_array_equal(est.labels_, tree.partition(4))
    assert_allclose(est.i_ty_, tree.i_ty[tree.n_clusters == 4][0], rtol=1e-12)
    assert_allclose(est.objective_, tree.merge_costs[: 30 - 4].sum(), rtol=1e-9)
    assert est.n_iter_ == 30 - 4


def test_sequential_ib_warns_when_max_iter_stops_it():
    X, _ = planted(0.2, seed=14)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        SequentialIB(3, n_init=1, max_iter=1, tol=0.0, random_state=0).fit(X)


# --------------------------------------------------------------------------- bad input

GOOD = np.array([[3, 1, 0], [2, 2, 0], [0, 1, 4], [0, 2, 3]])


@pytest.mark.parametrize(
    ("make", "X", "match"),
    [
        (lambda: SequentialIB(2), [[1, -1], [2, 0]], r"^X has 1 negative entries \(min -1\)"),
        (lambda: SequentialIB(2), [[1, np.nan], [2, 0]], r"^X must be .*NaN"),
        (lambda: SequentialIB(2), [[1 + 1j, 0], [2, 0]], r"(?i)^X must be .*complex"),
        (lambda: SequentialIB(2), [1, 2, 3], r"^X must be .*2D"),
        (lambda: SequentialIB(2), np.zeros((4, 3)), r"^X is all zeros"),
        (lambda: SequentialIB(2), [[1e308, 1e308], [1, 0]], r"^X sums to infinity"),
        (
            lambda: SequentialIB(3),
            [[1, 0], [0, 0], [2, 1]],
            r"^n_clusters must be <= .* \(2 of 3\)",
        ),
        (lambda: SequentialIB(0), GOOD, r"^n_clusters must be an integer >= 1; got 0"),
        (lambda: SequentialIB(2, n_init=0), GOOD, r"^n_init must be an integer >= 1"),
        (lambda: SequentialIB(2, max_iter=0), GOOD, r"^max_iter must be an integer >= 1"),
        (lambda: SequentialIB(2, tol=-1.0), GOOD, r"^tol must be a finite number >= 0"),
        (lambda: SequentialIB(2, n_jobs=0), GOOD, r"^n_jobs must be None or a nonzero"),
        (lambda: SequentialIB(2, random_state=-1), GOOD, r"^random_state must be"),
        (lambda: AgglomerativeIB(5), GOOD, r"^n_clusters must be <="),
        (lambda: DeterministicIB(2, beta=0.0), GOOD, r"^beta must be a finite number > 0"),
        (lambda: InformationBottleneck(2, tol=0.0), GOOD, r"^tol must be a finite number > 0"),
        (lambda: InformationBottleneck(2, n_init=1.5), GOOD, r"^n_init must be an integer"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(make, X, match):
    with pytest.raises(InvalidParameterError, match=match):
        make().fit(X)


@pytest.mark.parametrize("make", ESTIMATORS, ids=NAMES)
def test_predict_refuses_rows_it_cannot_read(make):
    est = make(2)
    with pytest.raises(NotFittedError):
        est.predict(GOOD)
    est.fit(GOOD)
    with pytest.raises(InvalidParameterError, match=r"^X must be .*expecting 3 features"):
        est.predict([[1, 2]])
    with pytest.raises(InvalidParameterError, match=r"^X has 1 negative entries"):
        est.transform([[1, -2, 0]])

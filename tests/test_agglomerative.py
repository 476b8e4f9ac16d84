"""Tests of agglomerative IB against truths computed outside the code under test.

Truth comes from: a 4-input example worked out by hand (arithmetic written below);
brute-force greedy merging that scores every pair by recomputing I(T;Y) of the merged
joint with :func:`ibkit.measures.mutual_information`; a plain O(|X|³|Y|) reference that
rebuilds the whole Jensen–Shannon cost matrix with :func:`scipy.special.entr` at every
step; the information of each reported partition recomputed by summing rows of p(x,y);
and properties (I(T;Y) non-increasing, costs summing to I(X;Y), permutation
equivariance, exact recovery of groups of identical conditionals).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy.cluster.hierarchy import is_valid_linkage
from scipy.special import entr

import ibkit.ib.agglomerative as agg_module
from ibkit.ib._result import IBResult
from ibkit.ib.agglomerative import AgglomerativeIBResult, agglomerative_ib
from ibkit.measures import entropy, js_divergence, mutual_information

LOG2_3 = np.log2(3.0)
LOG2_5 = np.log2(5.0)


# --------------------------------------------------------------------------- helpers


def random_joint(rng: np.random.Generator, n_x: int, n_y: int) -> np.ndarray:
    """Generic joint: Dirichlet(1) conditionals and marginal (no ties, no zeros)."""
    cond = rng.dirichlet(np.ones(n_y), size=n_x)
    p_x = rng.dirichlet(np.ones(n_x))
    joint = p_x[:, None] * cond
    return joint / joint.sum()


def rows_by_label(p_xy: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Joint p(t, y) of a hard partition: sum the rows of p(x, y) with equal labels."""
    out = np.zeros((labels.max() + 1, p_xy.shape[1]))
    for x, t in enumerate(labels):
        out[t] += p_xy[x]
    return out


def as_set_partition(labels: np.ndarray) -> frozenset[frozenset[int]]:
    return frozenset(frozenset(np.flatnonzero(labels == t).tolist()) for t in set(labels.tolist()))


def brute_force_greedy(p_xy: np.ndarray) -> tuple[list[frozenset], list[float]]:
    """Greedy merging scoring every pair by I(T;Y) of the merged joint (bits)."""
    clusters = [[x] for x in range(p_xy.shape[0])]
    partitions = [frozenset(frozenset(c) for c in clusters)]
    losses = []
    while len(clusters) > 1:
        joint = np.array([p_xy[c].sum(axis=0) for c in clusters])
        current = mutual_information(joint)
        best = None
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                merged = np.delete(joint, j, axis=0)
                merged[i] = joint[i] + joint[j]
                loss = current - mutual_information(merged)
                if best is None or loss < best[0]:
                    best = (loss, i, j)
        loss, i, j = best
        clusters[i] = clusters[i] + clusters[j]
        del clusters[j]
        partitions.append(frozenset(frozenset(c) for c in clusters))
        losses.append(loss)
    return partitions, losses


def reference_js_greedy(p_xy: np.ndarray) -> tuple[list[frozenset], list[float]]:
    """Greedy merging with the full weighted-JS cost matrix rebuilt at every step (nats)."""
    clusters = [[x] for x in range(p_xy.shape[0])]
    partitions = [frozenset(frozenset(c) for c in clusters)]
    costs = []
    while len(clusters) > 1:
        q = np.array([p_xy[c].sum(axis=0) for c in clusters])
        w = q.sum(axis=1)
        cond = q / w[:, None]
        h = entr(cond).sum(axis=1)
        wi, wj = w[:, None], w[None, :]
        mix = (wi[..., None] * cond[:, None, :] + wj[..., None] * cond[None, :, :]) / (wi + wj)[
            ..., None
        ]
        js = entr(mix).sum(axis=2) - (wi * h[:, None] + wj * h[None, :]) / (wi + wj)
        cost = (wi + wj) * js
        cost[np.tril_indices(len(clusters))] = np.inf
        i, j = np.unravel_index(np.argmin(cost), cost.shape)
        costs.append(float(cost[i, j]))
        clusters[i] = clusters[i] + clusters[j]
        del clusters[j]
        partitions.append(frozenset(frozenset(c) for c in clusters))
    return partitions, costs


@st.composite
def small_joints(draw, max_x: int = 6, max_y: int = 4) -> np.ndarray:
    """Small non-negative tables with exact zeros and repeated values (ties, dead rows)."""
    n_x = draw(st.integers(1, max_x))
    n_y = draw(st.integers(1, max_y))
    cells = st.one_of(st.integers(0, 3).map(float), st.floats(1e-6, 1.0))
    table = draw(arrays(np.float64, (n_x, n_y), elements=cells))
    if table.sum() <= 0:
        table[0, 0] = 1.0
    return table / table.sum()


# --------------------------------------------------------------------------- by hand


HAND = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]) / 4  # p(x) = 1/4


def test_hand_example_merges_and_costs():
    # p(y|x) rows: x0 = x1 = [1, 0], x2 = [0, 1], x3 = [1/2, 1/2]; p(x) = 1/4 each.
    # Merge 1: x0, x1 are identical, JS = 0, cost 0 -> t01 (p = 1/2, p(y|t) = [1, 0]).
    # Candidates then (H2 is the binary entropy in bits):
    #   t01+x2: (3/4)·[H2(1/3) − 0] = (3/4)·H2(1/3) ≈ 0.6887
    #   t01+x3: (3/4)·[H2(1/6) − (1/3)·1] ≈ 0.2375
    #   x2+x3:  (1/2)·[H2(1/4) − (1/2)·1], H2(1/4) = 2 − (3/4)·log2 3,
    #           so the cost is 3/4 − (3/8)·log2 3 ≈ 0.1556   <- smallest
    # Merge 3: t01 ([1, 0], 1/2) + t23 ([1/4, 3/4], 1/2) gives p(y) = [5/8, 3/8]:
    #   H2(5/8) − (1/2)·0 − (1/2)·H2(1/4), with H2(5/8) = 3 − (5/8)·log2 5 − (3/8)·log2 3,
    #   = 2 − (5/8)·log2 5 ≈ 0.5488.
    # I(X;Y) = H(Y) − H(Y|X) = H2(5/8) − 1/4 (only x3 is uncertain, 1 bit, weight 1/4).
    cost2 = 0.75 - 0.375 * LOG2_3
    cost3 = 2.0 - 0.625 * LOG2_5
    i_xy = 3.0 - 0.625 * LOG2_5 - 0.375 * LOG2_3 - 0.25

    def h2(p):
        return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))

    assert 0.75 * h2(1 / 3) > cost2 and 0.75 * (h2(1 / 6) - 1 / 3) > cost2

    res = agglomerative_ib(HAND)
    assert isinstance(res, AgglomerativeIBResult)
    assert_array_equal(res.n_clusters, [4, 3, 2, 1])
    assert_array_equal(res.merges, [[0, 1], [2, 3], [4, 5]])
    assert_allclose(res.merge_costs, [0.0, cost2, cost3], atol=1e-13)
    assert_allclose(res.i_ty, [i_xy, i_xy, i_xy - cost2, 0.0], atol=1e-13)
    assert_allclose(res.h_t, [2.0, 1.5, 1.0, 0.0], atol=1e-13)
    assert_allclose(res.i_xt, res.h_t, atol=0)
    # β_k = ΔH/δI of the merge leaving k: +inf for the free merge, 0 at |T| = 1.
    assert_allclose(res.betas, [np.inf, 0.5 / cost2, 1.0 / cost3, 0.0])
    assert_array_equal(res.partition(4), [0, 1, 2, 3])
    assert_array_equal(res.partition(3), [0, 0, 1, 2])
    assert_array_equal(res.partition(2), [0, 0, 1, 1])
    assert_array_equal(res.partition(1), [0, 0, 0, 0])
    assert res.units == "bits"


def test_hand_example_in_nats_and_counts():
    bits = agglomerative_ib(HAND)
    nats = agglomerative_ib(HAND * 80, units="nats", normalize=True)
    ln2 = np.log(2.0)
    assert_allclose(nats.merge_costs, bits.merge_costs * ln2, atol=1e-13)
    assert_allclose(nats.i_ty, bits.i_ty * ln2, atol=1e-13)
    assert_allclose(nats.h_t, bits.h_t * ln2, atol=1e-13)
    assert_allclose(nats.betas, bits.betas)  # β is a ratio of informations: unitless
    assert nats.units == "nats"


def test_hand_example_result_is_the_evaluated_hard_encoder():
    res = agglomerative_ib(HAND)
    cost3 = 2.0 - 0.625 * LOG2_5
    out = res.result(2)
    assert isinstance(out, IBResult)
    assert_array_equal(out.p_t_given_x, [[1, 0], [1, 0], [0, 1], [0, 1]])
    assert_allclose(out.p_t, [0.5, 0.5])
    assert_allclose(out.p_y_given_t, [[1.0, 0.0], [0.25, 0.75]])
    assert_allclose([out.i_xt, out.h_t, out.i_ty], [1.0, 1.0, res.i_ty[2]], atol=1e-13)
    assert out.alpha == 1.0
    assert_allclose(out.beta, 1.0 / cost3)
    assert_allclose(out.objective, 1.0 - out.beta * out.i_ty, atol=1e-13)
    assert out.n_iter == 2 and out.converged
    custom = res.result(2, beta=4.0)
    assert custom.beta == 4.0
    assert_allclose(custom.objective, 1.0 - 4.0 * out.i_ty, atol=1e-13)
    trivial = res.result(1)
    assert trivial.beta == 0.0 and trivial.i_ty == 0.0 and trivial.objective == 0.0


# --------------------------------------------------------------------------- brute force


@pytest.mark.parametrize("seed", range(12))
def test_first_merge_is_the_brute_force_best_pair(seed):
    rng = np.random.default_rng(seed)
    n_x, n_y = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    p_xy = random_joint(rng, n_x, n_y)
    i_xy = mutual_information(p_xy)
    losses = {}
    for i in range(n_x):
        for j in range(i + 1, n_x):
            merged = np.delete(p_xy, j, axis=0)
            merged[i] = p_xy[i] + p_xy[j]
            losses[(i, j)] = i_xy - mutual_information(merged)
    best = min(losses, key=losses.get)
    res = agglomerative_ib(p_xy)
    assert tuple(res.merges[0]) == best
    assert_allclose(res.merge_costs[0], losses[best], atol=1e-12)
    # The cost is also (p_i + p_j)·JS_π of the conditionals, with π ∝ (p_i, p_j).
    i, j = best
    p_i, p_j = p_xy[i].sum(), p_xy[j].sum()
    js = js_divergence(p_xy[i] / p_i, p_xy[j] / p_j, weights=(p_i / (p_i + p_j), p_j / (p_i + p_j)))
    assert_allclose(res.merge_costs[0], (p_i + p_j) * js, atol=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_whole_sequence_matches_brute_force_greedy(seed):
    rng = np.random.default_rng(100 + seed)
    p_xy = random_joint(rng, int(rng.integers(2, 7)), int(rng.integers(2, 5)))
    partitions, losses = brute_force_greedy(p_xy)
    res = agglomerative_ib(p_xy)
    n = p_xy.shape[0]
    for s, expected in enumerate(partitions):
        assert as_set_partition(res.partition(n - s)) == expected
    assert_allclose(res.merge_costs, losses, atol=1e-12)


@pytest.mark.parametrize(("n_x", "n_y", "seed"), [(40, 3, 0), (150, 4, 1), (150, 2, 2)])
def test_matches_reference_with_full_cost_matrix(n_x, n_y, seed):
    # |X| = 150 crosses the compaction of the cost matrix (live clusters <= half).
    p_xy = random_joint(np.random.default_rng(seed), n_x, n_y)
    partitions, costs = reference_js_greedy(p_xy)
    res = agglomerative_ib(p_xy, units="nats")
    for s in range(0, n_x, 7):
        assert as_set_partition(res.partition(n_x - s)) == partitions[s]
    assert as_set_partition(res.partition(2)) == partitions[-2]
    assert_allclose(res.merge_costs, costs, atol=1e-12)


def test_compaction_does_not_change_the_sequence(monkeypatch):
    p_xy = random_joint(np.random.default_rng(7), 60, 3)
    plain = agglomerative_ib(p_xy)
    monkeypatch.setattr(agg_module, "_COMPACT_MIN", 2)
    compacted = agglomerative_ib(p_xy)
    assert_array_equal(compacted.merges, plain.merges)
    assert_allclose(compacted.merge_costs, plain.merge_costs, atol=1e-15)


def test_cost_matrix_blocks_do_not_change_costs(monkeypatch):
    p_xy = random_joint(np.random.default_rng(8), 30, 5)
    plain = agglomerative_ib(p_xy)
    monkeypatch.setattr(agg_module, "_BLOCK_ELEMENTS", 1)  # one row per block
    blocked = agglomerative_ib(p_xy)
    assert_array_equal(blocked.merges, plain.merges)
    assert_allclose(blocked.merge_costs, plain.merge_costs, atol=1e-15)


# --------------------------------------------------------------------------- properties


def check_points_against_partitions(res: AgglomerativeIBResult, p_xy: np.ndarray) -> None:
    """Every curve point equals the informations of its partition, recomputed."""
    for i, k in enumerate(res.n_clusters):
        labels = res.partition(int(k))
        assert labels.shape == (p_xy.shape[0],)
        assert_array_equal(np.unique(labels), np.arange(k))
        assert labels[0] == 0
        joint = rows_by_label(p_xy, labels)
        assert_allclose(res.i_ty[i], mutual_information(joint), atol=1e-9)
        assert_allclose(res.h_t[i], entropy(joint.sum(axis=1)), atol=1e-9)
        assert_allclose(res.i_xt[i], res.h_t[i], atol=0)


@settings(max_examples=60, deadline=None)
@given(small_joints())
def test_curve_properties(p_xy):
    res = agglomerative_ib(p_xy)
    n = p_xy.shape[0]
    i_xy = mutual_information(p_xy)
    assert_array_equal(res.n_clusters, np.arange(n, 0, -1))
    assert res.merges.shape == (n - 1, 2) and res.merge_costs.shape == (n - 1,)
    assert np.all(np.diff(res.i_ty) <= 0)
    assert np.all(res.i_ty >= 0) and np.all(res.i_ty <= i_xy + 1e-9)
    assert_allclose(res.i_ty[0], i_xy, atol=1e-9)
    assert res.i_ty[-1] == 0.0 and res.h_t[-1] == 0.0 and res.i_xt[-1] == 0.0
    assert np.all(res.merge_costs >= 0)
    assert_allclose(res.merge_costs.sum(), i_xy, atol=1e-9)
    assert np.all(np.diff(res.h_t) <= 1e-12)  # merging never increases H(T)
    assert np.all(res.betas >= 0)
    check_points_against_partitions(res, p_xy)
    # scipy-style linkage: ids < |X| + s at step s, each id used once.
    if n > 1:
        sizes = np.ones(2 * n - 1)
        for s, (a, b) in enumerate(res.merges):
            assert a < b < n + s
            sizes[n + s] = sizes[a] + sizes[b]
        linkage = np.column_stack([res.merges, res.merge_costs, sizes[n:]]).astype(float)
        assert is_valid_linkage(linkage)


@settings(max_examples=30, deadline=None)
@given(small_joints(max_x=7), st.integers(1, 7))
def test_stopping_early_gives_the_prefix(p_xy, k):
    n = p_xy.shape[0]
    k = min(k, n)
    full = agglomerative_ib(p_xy)
    part = agglomerative_ib(p_xy, n_clusters=k)
    m = n - k
    assert_array_equal(part.n_clusters, np.arange(n, k - 1, -1))
    assert_array_equal(part.merges, full.merges[:m])
    assert_allclose(part.merge_costs, full.merge_costs[:m], atol=1e-15)
    assert_allclose(part.i_ty, full.i_ty[: m + 1], atol=1e-15)
    assert_allclose(part.h_t, full.h_t[: m + 1], atol=1e-15)
    assert_allclose(part.betas, full.betas[: m + 1], rtol=1e-9)  # needs the next merge
    assert_array_equal(part.partition(k), full.partition(k))
    if k > 1:
        with pytest.raises(ValueError, match=r"k must be an integer between"):
            part.partition(k - 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 7), st.integers(2, 4), st.booleans())
def test_permuting_rows_permutes_partitions(seed, n_x, n_y, degenerate):
    rng = np.random.default_rng(seed)
    p_xy = random_joint(rng, n_x, n_y)
    if degenerate:  # add a duplicate conditional (different mass) and a dead row
        p_xy = np.vstack([p_xy, 0.5 * p_xy[0], np.zeros(n_y)])
        p_xy /= p_xy.sum()
    perm = rng.permutation(p_xy.shape[0])
    res = agglomerative_ib(p_xy)
    res_p = agglomerative_ib(p_xy[perm])
    assert_allclose(res_p.i_ty, res.i_ty, atol=1e-12)
    assert_allclose(res_p.h_t, res.h_t, atol=1e-12)
    assert_allclose(res_p.merge_costs, res.merge_costs, atol=1e-12)
    live = p_xy.sum(axis=1) > 0
    for k in res.n_clusters:
        labels, labels_p = res.partition(int(k)), res_p.partition(int(k))
        # Row i of the permuted problem is row perm[i] of the original.
        original = np.empty_like(labels_p)
        original[perm] = labels_p
        # Dead rows may attach to a different (but equally massless-irrelevant) cluster.
        sub = np.flatnonzero(live)
        assert as_set_partition(labels[sub]) == as_set_partition(original[sub])


@pytest.mark.parametrize("seed", range(5))
def test_groups_of_identical_conditionals_are_recovered(seed):
    rng = np.random.default_rng(seed)
    k, n_y = int(rng.integers(2, 5)), 4
    centres = rng.dirichlet(np.ones(n_y), size=k)
    groups = np.concatenate([np.arange(k), rng.integers(0, k, size=12)])
    rng.shuffle(groups)
    p_x = rng.dirichlet(np.ones(groups.size))
    p_xy = p_x[:, None] * centres[groups]  # proportional rows: equal only after dividing
    p_xy /= p_xy.sum()
    res = agglomerative_ib(p_xy)
    n = groups.size
    i = n - k
    assert as_set_partition(res.partition(k)) == as_set_partition(groups)
    assert_allclose(res.i_ty[i], mutual_information(p_xy), atol=1e-12)
    assert_array_equal(res.merge_costs[:i], 0.0)
    assert res.merge_costs[i] > 1e-6
    assert np.all(np.isinf(res.betas[:i]))
    assert np.isfinite(res.betas[i]) and res.betas[i] > 0


def test_independent_rows_give_a_flat_zero_curve():
    p_xy = np.outer([0.2, 0.3, 0.5], [0.1, 0.9])
    res = agglomerative_ib(p_xy)
    assert_array_equal(res.i_ty, 0.0)
    assert_array_equal(res.merge_costs, 0.0)
    assert_array_equal(res.betas, 0.0)  # I(T;Y) = 0: objective independent of β
    assert_allclose(res.h_t[0], entropy([0.2, 0.3, 0.5]))
    assert np.isfinite(res.result(3).objective)


def test_zero_mass_rows_join_the_first_live_input():
    p_xy = np.array([[0.0, 0.0], [0.3, 0.1], [0.0, 0.0], [0.1, 0.3], [0.2, 0.0]])
    p_xy /= p_xy.sum()
    res = agglomerative_ib(p_xy)
    # The two dead rows merge first, into x1's cluster, changing nothing.
    assert_array_equal(res.merges[:2], [[0, 1], [2, 5]])
    assert_array_equal(res.merge_costs[:2], 0.0)
    assert_allclose(res.h_t[:3], res.h_t[0], atol=1e-15)
    assert_allclose(res.i_ty[:3], mutual_information(p_xy), atol=1e-12)
    labels = res.partition(3)
    assert labels[0] == labels[1] == labels[2]
    check_points_against_partitions(res, p_xy)
    out = res.result(5)  # dead singletons carry no mass and are dropped
    assert out.p_t_given_x.shape == (5, 3) and np.all(out.p_t > 0)


def test_single_input():
    res = agglomerative_ib([[0.25, 0.75]])
    assert_array_equal(res.n_clusters, [1])
    assert res.merges.shape == (0, 2) and res.merge_costs.shape == (0,)
    assert_array_equal(res.i_ty, [0.0])
    assert_array_equal(res.partition(1), [0])
    assert res.result(1).i_xt == 0.0


def test_moderate_size_runs():
    p_xy = random_joint(np.random.default_rng(3), 400, 8)
    res = agglomerative_ib(p_xy, n_clusters=5)
    assert res.n_clusters[-1] == 5
    for k in [400, 100, 20, 5]:
        joint = rows_by_label(p_xy, res.partition(k))
        assert_allclose(res.i_ty[400 - k], mutual_information(joint), atol=1e-10)


# --------------------------------------------------------------------------- frames


def test_to_frame():
    pd = pytest.importorskip("pandas")
    frame = agglomerative_ib(HAND).to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["n_clusters", "i_xt", "i_ty", "h_t", "beta", "units"]
    assert len(frame) == 4
    assert set(frame["units"]) == {"bits"}


def test_to_frame_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install .ibkit.plot.."):
        agglomerative_ib(HAND).to_frame()


def test_to_dict():
    d = agglomerative_ib(HAND).to_dict()
    assert set(d) >= {"n_clusters", "i_xt", "i_ty", "h_t", "betas", "merge_costs", "merges"}
    assert d["units"] == "bits"
    assert d["n_clusters"] == [4, 3, 2, 1]
    assert_allclose(d["i_xy"], mutual_information(HAND), rtol=1e-12)


# --------------------------------------------------------------------------- coarsest lossless


def digits_pixel_joint() -> np.ndarray:
    """Counts of (intensity of pixel 41, digit) over scikit-learn's 1797 digits.

    Its 17 intensities have a few repeated conditionals p(y|x), which is the case where
    a merge index and a cluster count differ.
    """
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    counts = np.zeros((17, 10))
    np.add.at(counts, (digits.data[:, 41].astype(int), digits.target), 1.0)
    return counts[counts.sum(axis=1) > 0]


def test_coarsest_lossless_is_a_cluster_count_by_hand():
    # HAND has three distinct conditionals: (1, 0) twice, (0, 1) and (1/2, 1/2)
    res = agglomerative_ib(HAND)
    assert res.coarsest_lossless == 3
    assert_allclose(res.result(3).i_ty, mutual_information(HAND), rtol=1e-12)


def test_coarsest_lossless_keeps_all_information_on_digits():
    counts = digits_pixel_joint()
    truth = mutual_information(counts, normalize=True)
    res = agglomerative_ib(counts, normalize=True)
    k = res.coarsest_lossless
    distinct = np.unique(np.round(counts / counts.sum(axis=1, keepdims=True), 12), axis=0)
    assert k == distinct.shape[0] < counts.shape[0]
    assert_allclose(res.result(k).i_ty, truth, rtol=1e-10)
    assert_allclose(rows_by_label(res.p_xy, res.partition(k)).sum(), 1.0)
    assert_allclose(mutual_information(rows_by_label(res.p_xy, res.partition(k))), truth)
    assert res.result(k - 1).i_ty < truth - 1e-7  # one merge more loses information


def test_coarsest_lossless_when_merging_stops_early():
    res = agglomerative_ib(HAND, n_clusters=4)
    assert res.coarsest_lossless == 4
    assert_allclose(res.result(4).i_ty, mutual_information(HAND), rtol=1e-12)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("p_xy", "kwargs", "message"),
    [
        ([0.5, 0.5], {}, r"p_xy must be 2-D; got an array of shape \(2,\)"),
        ([[0.5, -0.1], [0.3, 0.3]], {}, r"p_xy has 1 negative entries"),
        ([[0.5, np.nan], [0.25, 0.25]], {}, r"p_xy has 1 NaN or infinite entries"),
        ([[0.0, 0.0], [0.0, 0.0]], {"normalize": True}, r"p_xy is all zeros"),
        ([[0.5, 0.5], [0.5, 0.5]], {}, r"p_xy sums to 2, not 1.*normalize=True"),
        ([["a", "b"]], {}, r"p_xy must be a numeric array"),
        (HAND, {"n_clusters": 0}, r"n_clusters must be an integer >= 1; got 0"),
        (HAND, {"n_clusters": 1.5}, r"n_clusters must be an integer >= 1; got 1.5"),
        (HAND, {"n_clusters": True}, r"n_clusters must be an integer >= 1; got True"),
        (HAND, {"n_clusters": 5}, r"n_clusters must be <= \|X\| = 4 .*; got 5"),
        (HAND, {"n_clusters": 10**8}, r"n_clusters must be <= \|X\| = 4 .*; got 100000000"),
        (HAND, {"units": "dits"}, r"units must be 'bits' or 'nats'; got 'dits'"),
    ],
)
def test_bad_input(p_xy, kwargs, message):
    with pytest.raises(ValueError, match=message):
        agglomerative_ib(p_xy, **kwargs)


@pytest.mark.parametrize("k", [0, 5, 2.0, True, "2"])
def test_bad_k(k):
    res = agglomerative_ib(HAND)
    with pytest.raises(ValueError, match=r"k must be an integer between 1 and 4"):
        res.partition(k)
    with pytest.raises(ValueError, match=r"k must be an integer between 1 and 4"):
        res.result(k)


@pytest.mark.parametrize("beta", [-1.0, np.inf, np.nan, "1"])
def test_bad_beta(beta):
    with pytest.raises(ValueError, match=r"beta must be"):
        agglomerative_ib(HAND).result(2, beta=beta)

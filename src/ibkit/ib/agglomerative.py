r"""Agglomerative Information Bottleneck (aIB) of Slonim & Tishby (1999).

Hard clustering of X that keeps as much information about Y as possible. The algorithm
starts from the finest partition, T = X (every x its own cluster), and repeatedly merges
the two clusters whose union loses the least relevant information I(T;Y), until one
cluster is left (or ``n_clusters`` are). Merging :math:`t_i` and :math:`t_j` into
:math:`\bar t` costs

.. math::

    \delta I(t_i, t_j) = I(T_\text{before};Y) - I(T_\text{after};Y)
        = \big(p(t_i) + p(t_j)\big)\,
          \mathrm{JS}_\pi\big[p(y|t_i),\, p(y|t_j)\big],

with weights :math:`\pi = \big(p(t_i), p(t_j)\big) / \big(p(t_i) + p(t_j)\big)` and the
weighted Jensen–Shannon divergence
:math:`\mathrm{JS}_\pi[P,Q] = H(\pi_1 P + \pi_2 Q) - \pi_1 H(P) - \pi_2 H(Q)`. The greedy
sequence gives a hard partition, and a point of the information curve, for every
|T| from |X| down to 1; for a hard partition :math:`I(X;T) = H(T)` because
:math:`H(T|X) = 0`. The costs of all merges add up to I(X;Y).

Implementation notes
--------------------
- With joint rows :math:`q_t = p(t, \cdot)` and :math:`\varphi(q) = W\,H(q/W)` where
  :math:`W = \sum_y q_y` (so :math:`\varphi(q) = W\log W - \sum_y q_y \log q_y`), the cost
  is :math:`\delta I = \varphi(q_i + q_j) - \varphi(q_i) - \varphi(q_j)`: no division,
  and exact at zero probabilities (:math:`0\log 0 = 0`).
- The |X|×|X| cost matrix is computed once, vectorised in row blocks of bounded memory
  (a few 16 MB temporaries). After a merge only the merged cluster's row and column
  are recomputed (O(|T|·|Y|)), and per-row minima (and their arg-minima) are maintained:
  rows whose minimum pointed at one of the merged clusters are rescanned, the others
  are compared with the new column only. The total is O(|X|²|Y|) for the matrix plus,
  typically, O(|X|·|Y|) per merge.
- Exact reductions come first, at cost exactly 0 and in this order: (1) every x with
  p(x) = 0 (its p(y|x) is undefined and it carries no weight) is merged, in index
  order, into the cluster of the first x with p(x) > 0, which changes neither H(T) nor
  I(T;Y); (2) inputs whose conditionals p(y|x) agree to 10 decimals (the pooling of
  :func:`ibkit.ib.iterative.reduce_problem`) are merged, group
  by group (groups ordered by their first member, members in index order), since
  :math:`\mathrm{JS}_\pi[P, P] = 0`. The greedy search then runs on the distinct
  conditionals only. Costs are never negative: round-off below zero is clipped to 0.
- Ties in the cost are broken deterministically (towards low indices).

Reference: N. Slonim and N. Tishby, "Agglomerative Information Bottleneck", Advances in
Neural Information Processing Systems 12 (NIPS 1999), pp. 617–623.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ibkit._validation import (
    InvalidParameterError,
    check_positive,
    check_probabilities,
    check_units,
    from_nats,
)
from ibkit.ib._result import CurveResult, IBResult, evaluate_encoder
from ibkit.ib.iterative import check_n_clusters, reduce_problem
from ibkit.measures import entropy_nats, mutual_information_nats

__all__ = ["AgglomerativeIBResult", "agglomerative_ib"]

_TINY = np.finfo(np.float64).tiny

#: Smallest number of live clusters for which the cost matrix is compacted.
_COMPACT_MIN = 64

#: Number of float64 temporaries (per array) allowed when building the cost matrix.
_BLOCK_ELEMENTS = 1 << 21


@dataclass(frozen=True, eq=False)
class AgglomerativeIBResult(CurveResult):
    r"""The merge sequence and information curve of agglomerative IB.

    Point ``i`` of every curve array belongs to the partition with
    ``n_clusters[i] = |X| − i`` clusters, that is after the first ``i`` merges. Shares
    ``to_frame()`` (one row per point), ``to_dict()`` and ``plot()`` with the other curve
    results (:class:`~ibkit.ib.CurveResult`).

    Attributes
    ----------
    n_clusters : ndarray of int, shape (n_points,)
        Number of clusters |T| of each point: |X|, |X| − 1, ..., down to the requested
        ``n_clusters`` (1 by default). Inputs with p(x) = 0 count as clusters until
        they are merged (first, at no cost), so the first points can repeat the same
        (I(X;T), I(T;Y)).
    i_xt, i_ty, h_t : ndarray, shape (n_points,)
        I(X;T), I(T;Y) and H(T) in ``units``. For hard partitions I(X;T) = H(T).
        ``i_ty`` starts at I(X;Y) and decreases by ``merge_costs``; it is exactly
        non-increasing and is 0 at |T| = 1.
    betas : ndarray, shape (n_points,)
        Trade-off parameter of each point: β_k = ΔH(T)/δI of the merge leaving the
        k-cluster partition, the β at which the IB Lagrangian
        I(X;T) − β·I(T;Y) takes the same value on T_k and on T_{k−1}
        (T_k is preferred for larger β). It is +inf when that merge loses no relevant
        information (exact reductions) and 0 when I(T_k;Y) = 0 (in particular at
        |T| = 1), where the objective does not depend on β.
    merge_costs : ndarray, shape (n_merges,)
        δI of each merge, in ``units``; non-negative, and summing to I(X;Y) when the
        sequence runs down to one cluster.
    merges : ndarray of int, shape (n_merges, 2)
        The two cluster ids merged at each step, smaller id first, in the convention of
        :func:`scipy.cluster.hierarchy.linkage`: ids 0..|X|−1 are the singletons {x},
        and merge ``s`` creates the cluster with id |X| + s.
    i_xy : float
        I(X;Y) in ``units``, the I(T;Y) of the finest partition T = X.
    units : str
        ``"bits"`` or ``"nats"``.
    p_xy : ndarray, shape (|X|, |Y|)
        The normalised joint the sequence was computed on.
    """

    n_clusters: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    h_t: np.ndarray
    betas: np.ndarray
    merge_costs: np.ndarray
    merges: np.ndarray
    i_xy: float
    units: str
    p_xy: np.ndarray = field(repr=False)

    _COLUMNS: ClassVar[dict[str, str]] = {
        "n_clusters": "n_clusters",
        "i_xt": "i_xt",
        "i_ty": "i_ty",
        "h_t": "h_t",
        "beta": "betas",
    }
    _PLOT: ClassVar[str] = "plot_agglomerative"

    @property
    def n_inputs(self) -> int:
        """|X|, the number of rows of ``p_xy``."""
        return int(self.p_xy.shape[0])

    @property
    def coarsest_lossless(self) -> int:
        """Number of clusters of the coarsest partition that keeps I(T;Y) = I(X;Y).

        A cluster count, as :meth:`partition` and :meth:`result` take it:
        ``result(coarsest_lossless).i_ty`` is I(X;Y) (to round-off, 1e-12 relative) and
        any coarser partition loses relevant information. It is the number of distinct
        conditionals p(y|x) (or ``n_clusters[-1]`` when merging stopped before), since
        finer partitions differ from it only by the free merges of inputs with equal
        p(y|x) or of zero mass; figures and tables usually start here.
        """
        lossless = np.abs(self.i_ty - self.i_xy) <= 1e-12 * max(self.i_xy, 1.0)
        return int(self.n_clusters[lossless][-1])

    def _point(self, k: Any) -> int:
        """Validate a number of clusters and return the index of its curve point."""
        n = self.n_inputs
        lo = int(self.n_clusters[-1])
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not lo <= k <= n:
            raise InvalidParameterError(
                f"k must be an integer between {lo} and {n} (the cluster counts on the "
                f"curve); got {k!r}"
            )
        return n - int(k)

    def partition(self, k: int) -> np.ndarray:
        """Cluster label of every x in the partition with ``k`` clusters.

        Labels are 0..k−1, numbered in order of first appearance along x (x = 0 always
        has label 0). Inputs with p(x) = 0 share the label of the first input with
        p(x) > 0 once the exact reductions have been applied (see the module notes).

        Parameters
        ----------
        k : int
            Number of clusters, between ``n_clusters[-1]`` and |X|.

        Returns
        -------
        ndarray of int, shape (|X|,)
        """
        n_merges = self._point(k)
        n = self.n_inputs
        parent = np.full(n + n_merges, -1, dtype=np.int64)
        new_ids = np.arange(n, n + n_merges)
        parent[self.merges[:n_merges, 0]] = new_ids
        parent[self.merges[:n_merges, 1]] = new_ids
        # Top-down: a parent's id is always larger than its children's.
        root = np.empty(n + n_merges, dtype=np.int64)
        for cid in range(n + n_merges - 1, -1, -1):
            p = parent[cid]
            root[cid] = cid if p < 0 else root[p]
        _, first, inverse = np.unique(root[:n], return_index=True, return_inverse=True)
        rank = np.empty(first.shape[0], dtype=np.int64)
        rank[np.argsort(first)] = np.arange(first.shape[0])
        return rank[inverse.reshape(-1)]

    def result(self, k: int, *, beta: float | None = None) -> IBResult:
        """The hard partition with ``k`` clusters as an :class:`IBResult`.

        The encoder is the one-hot p(t|x) of :meth:`partition`, evaluated by the shared
        evaluator with α = 1 (so ``objective`` is I(X;T) − β·I(T;Y); H(T|X) = 0 makes
        it equal to the DIB objective as well). Clusters of zero mass are dropped, so
        ``p_t_given_x`` may have fewer than ``k`` columns when inputs have p(x) = 0.

        Parameters
        ----------
        k : int
            Number of clusters, between ``n_clusters[-1]`` and |X|.
        beta : float, optional
            β ≥ 0 at which ``objective`` is evaluated. Default: ``betas`` of the point
            (which may be +inf, making the objective −inf, for partitions finer than
            the number of distinct conditionals p(y|x)).

        Returns
        -------
        IBResult
            With ``n_iter`` = |X| − k merges and ``converged=True``.
        """
        i = self._point(k)
        b = float(self.betas[i]) if beta is None else check_positive(beta, "beta", allow_zero=True)
        labels = self.partition(k)
        encoder = np.zeros((self.n_inputs, int(k)))
        encoder[np.arange(self.n_inputs), labels] = 1.0
        return evaluate_encoder(
            self.p_xy,
            encoder,
            beta=b,
            alpha=1.0,
            units=self.units,
            n_iter=i,
            converged=True,
        )


def agglomerative_ib(
    p_xy: Any,
    *,
    n_clusters: int | None = None,
    units: str = "bits",
    normalize: bool = False,
) -> AgglomerativeIBResult:
    r"""Agglomerative Information Bottleneck: greedy merging of X that keeps I(T;Y).

    Starting from T = X, merges at each step the pair of clusters with the smallest
    information loss

    .. math::

        \delta I = \big(p(t_i) + p(t_j)\big)\,
            \mathrm{JS}_\pi\big[p(y|t_i), p(y|t_j)\big],\qquad
        \pi = \frac{\big(p(t_i), p(t_j)\big)}{p(t_i) + p(t_j)},

    where :math:`\mathrm{JS}_\pi[P,Q] = H(\pi_1 P + \pi_2 Q) - \pi_1 H(P) - \pi_2 H(Q)`,
    until ``n_clusters`` clusters remain. The merged cluster has
    :math:`p(\bar t) = p(t_i) + p(t_j)` and
    :math:`p(y|\bar t) = \pi_1 p(y|t_i) + \pi_2 p(y|t_j)`. Every intermediate partition
    is a point (I(X;T) = H(T), I(T;Y)) of a hard-clustering information curve.

    Inputs with p(x) = 0 and inputs with identical p(y|x) are merged first, at cost 0
    (see the module notes for the exact order).

    Parameters
    ----------
    p_xy : array_like, shape (|X|, |Y|)
        Joint distribution p(x, y): finite, non-negative, summing to 1 (or any
        non-negative table with positive total when ``normalize=True``).
    n_clusters : int, optional
        Stop when this many clusters remain, 1 ≤ n_clusters ≤ |X|. Default 1 (the
        whole dendrogram).
    units : {"bits", "nats"}
        Units of the informations and costs reported.
    normalize : bool
        Divide ``p_xy`` by its total (so counts are accepted) instead of requiring
        that it sums to 1.

    Returns
    -------
    AgglomerativeIBResult
        Curve arrays ``n_clusters``, ``i_xt``, ``i_ty``, ``h_t``, ``betas``, the
        ``merge_costs`` and the scipy-style ``merges``; :meth:`~AgglomerativeIBResult.
        partition` and :meth:`~AgglomerativeIBResult.result` give the partition and
        :class:`IBResult` of any point.

    Raises
    ------
    ValueError
        If ``p_xy`` is not a valid 2-D probability table, ``n_clusters`` is not an
        integer in [1, |X|], or ``units`` is unknown.

    Notes
    -----
    Cost: O(|X|²·|Y|) time for the initial cost matrix and O(|X|²) memory, then
    typically O(|X|·|Y|) per merge. The greedy sequence is not guaranteed to give the
    best partition of each size; it is the standard bottom-up approximation.

    References
    ----------
    N. Slonim and N. Tishby, "Agglomerative Information Bottleneck", NIPS 12 (1999).

    Examples
    --------
    Two inputs with the same p(y|x) merge first, for free:

    >>> import numpy as np
    >>> from ibkit.ib.agglomerative import agglomerative_ib
    >>> p_xy = np.array([[2, 0], [2, 0], [0, 2], [1, 1]]) / 8
    >>> res = agglomerative_ib(p_xy)
    >>> res.merges
    array([[0, 1],
           [2, 3],
           [4, 5]])
    >>> res.merge_costs.round(4)
    array([0.    , 0.1556, 0.5488])
    >>> res.h_t
    array([2. , 1.5, 1. , 0. ])
    >>> res.partition(2)
    array([0, 0, 1, 1])
    >>> float(res.i_ty[0].round(4))  # I(X;Y)
    0.7044
    """
    units = check_units(units)
    joint = check_probabilities(p_xy, "p_xy", ndim=2, normalize=normalize)
    target = 1 if n_clusters is None else check_n_clusters(n_clusters, "n_clusters", joint.shape[0])
    return _agglomerate(joint, target, units)


# --------------------------------------------------------------------------- internals


def _xlogx(q: np.ndarray) -> np.ndarray:
    """q log q elementwise with 0 log 0 = 0 (fast: the log argument is floored at the
    smallest normal float, which changes only subnormal terms, by less than 1e-305)."""
    out = np.log(np.maximum(q, _TINY))
    out *= q
    return out


def _sum_plogp(q: np.ndarray) -> np.ndarray:
    """Σ q log q over the last axis (0 log 0 = 0)."""
    out = _xlogx(q)
    # A matrix-vector product sums short last axes much faster than ``sum(axis=-1)``.
    flat = out.reshape(-1, q.shape[-1]) @ np.ones(q.shape[-1])
    return flat.reshape(q.shape[:-1])


def _plogp(w: np.ndarray | float) -> np.ndarray:
    """w log w elementwise with 0 log 0 = 0."""
    return _xlogx(np.asarray(w, dtype=np.float64))


def _phi(q: np.ndarray) -> np.ndarray:
    """φ(q) = W log W − Σ q log q = W·H(q/W) over the last axis, W = Σ q."""
    return _plogp(q.sum(axis=-1)) - _sum_plogp(q)


def _premerges(joint: np.ndarray) -> tuple[list[tuple[int, int]], int]:
    """The zero-cost merges (kept, dropped) of the exact reduction, and the number left.

    Zero-mass inputs go into the first input of positive mass; inputs with equal
    conditionals go into the first input of their group.
    """
    n = joint.shape[0]
    groups = reduce_problem(joint).groups  # −1 marks inputs of zero mass
    live = np.flatnonzero(groups >= 0)
    anchor = int(live[0])
    pairs = [(anchor, int(z)) for z in np.flatnonzero(groups < 0)]
    first_of_group: dict[int, int] = {}
    for x, g in zip(live.tolist(), groups[live].tolist(), strict=True):
        if g in first_of_group:
            pairs.append((first_of_group[g], x))
        else:
            first_of_group[g] = x
    # Group by group (groups ordered by first member), members in index order.
    zero_part = pairs[: n - live.shape[0]]
    same_part = sorted(pairs[n - live.shape[0] :])
    return zero_part + same_part, len(first_of_group)


class _Recorder:
    """Collects the merge sequence (scipy-style ids and slots) and the costs in nats."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.ids = np.arange(n)  # current cluster id of each slot (slot = leaf index)
        self.merges: list[tuple[int, int]] = []
        self.slots: list[tuple[int, int]] = []  # (kept slot, dropped slot) of each merge
        self.costs: list[float] = []
        self.dh: list[float] = []

    def merge(self, keep: int, drop: int, cost: float, w_keep: float, w_drop: float) -> None:
        a, b = int(self.ids[keep]), int(self.ids[drop])
        self.merges.append((min(a, b), max(a, b)))
        self.slots.append((keep, drop))
        self.ids[keep] = self.n + len(self.costs)
        self.costs.append(cost)
        self.dh.append(_delta_h(w_keep, w_drop))

    @property
    def n_clusters(self) -> int:
        return self.n - len(self.costs)


def _delta_h(w_i: float, w_j: float) -> float:
    """Decrease of H(T) (nats) when clusters of masses w_i and w_j merge; ≥ 0."""

    def plogp(v: float) -> float:
        return v * math.log(v) if v > 0 else 0.0

    return max(plogp(float(w_i) + float(w_j)) - plogp(float(w_i)) - plogp(float(w_j)), 0.0)


def _cost_matrix(q: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Symmetric matrix of merge costs δI (nats), +inf on the diagonal.

    Built in blocks of rows (upper triangle, mirrored), one y at a time, so temporaries
    hold at most ``_BLOCK_ELEMENTS`` floats each.
    """
    g = q.shape[0]
    w = q.sum(axis=1)
    q_t = np.ascontiguousarray(q.T)
    cost = np.empty((g, g))
    block = max(1, _BLOCK_ELEMENTS // g)
    for a in range(0, g, block):
        b = min(a + block, g)
        part = _plogp(w[a:b, None] + w[None, a:])
        for q_y in q_t:
            part -= _xlogx(q_y[a:b, None] + q_y[None, a:])
        part -= phi[a:b, None]
        part -= phi[None, a:]
        np.maximum(part, 0.0, out=part)
        cost[a:b, a:] = part
        cost[a:, a:b] = part.T
    np.fill_diagonal(cost, np.inf)
    return cost


def _agglomerate(joint: np.ndarray, target: int, units: str) -> AgglomerativeIBResult:
    n = joint.shape[0]
    rec = _Recorder(n)
    w_all = joint.sum(axis=1)
    h_t = [float(entropy_nats(w_all))]

    pre, n_distinct = _premerges(joint)
    i_xy = mutual_information_nats(joint) if n_distinct > 1 else 0.0
    slot_active = np.ones(n, dtype=bool)
    w_slot = w_all.copy()
    next_merge: tuple[float, float] | None = None  # (δI, ΔH) of the merge after the last point

    for keep, drop in pre:
        if rec.n_clusters == target:
            next_merge = (0.0, _delta_h(w_slot[keep], w_slot[drop]))
            break
        rec.merge(keep, drop, 0.0, w_slot[keep], w_slot[drop])
        w_slot[keep] += w_slot[drop]
        w_slot[drop] = 0.0
        slot_active[drop] = False
        h_t.append(-float(_plogp(w_slot[slot_active]).sum()))

    if next_merge is None and rec.n_clusters > 1:
        next_merge = _greedy(joint, slot_active, rec, target, h_t)

    costs = np.asarray(rec.costs, dtype=np.float64)
    i_ty = np.maximum(i_xy - np.cumsum(np.concatenate([[0.0], costs])), 0.0)
    h = np.asarray(h_t, dtype=np.float64)
    counts = np.arange(n, n - h.shape[0], -1)
    h[counts == 1] = 0.0
    i_ty[counts == 1] = 0.0

    # β of each point from the merge that leaves it.
    d_i = np.append(costs, np.nan if next_merge is None else next_merge[0])
    d_h = np.append(
        np.asarray(rec.dh, dtype=np.float64), np.nan if next_merge is None else next_merge[1]
    )
    betas = np.zeros(h.shape[0])
    has_info = (i_ty > 0) & ~np.isnan(d_i)
    free = has_info & (d_i <= 0)
    betas[free] = np.inf
    slope = has_info & (d_i > 0)
    betas[slope] = d_h[slope] / d_i[slope]

    merges = np.asarray(rec.merges, dtype=np.int64).reshape(-1, 2)
    return AgglomerativeIBResult(
        n_clusters=counts,
        i_xt=from_nats(h, units),
        i_ty=from_nats(i_ty, units),
        h_t=from_nats(h, units),
        betas=betas,
        merge_costs=from_nats(costs, units),
        merges=merges,
        i_xy=float(from_nats(i_xy, units)),
        units=units,
        p_xy=joint,
    )


def _greedy(
    joint: np.ndarray,
    slot_active: np.ndarray,
    rec: _Recorder,
    target: int,
    h_t: list[float],
) -> tuple[float, float] | None:
    """Greedy merging of the clusters left after the exact reduction, down to ``target``.

    Works on compact arrays over the surviving slots; records merges in ``rec`` and H(T)
    in ``h_t``. Returns (δI, ΔH) in nats of the merge that would come next
    (None when one cluster is left).
    """
    slots = np.flatnonzero(slot_active)
    # Joint rows of the surviving clusters: sum the rows merged into each slot.
    # (Kept slots of the exact reduction are never dropped by it, so one pass suffices.)
    owner = np.arange(joint.shape[0])
    for keep, drop in rec.slots:
        owner[drop] = keep
    q = np.zeros((slots.shape[0], joint.shape[1]))
    local_of_slot = np.full(joint.shape[0], -1)
    local_of_slot[slots] = np.arange(slots.shape[0])
    np.add.at(q, local_of_slot[owner], joint)
    w = q.sum(axis=1)
    phi = _phi(q)
    cost = _cost_matrix(q, phi)
    g = q.shape[0]
    active = np.ones(g, dtype=bool)
    dead = np.zeros(g)  # +inf in the columns of clusters merged away
    row_arg = np.argmin(cost, axis=1)
    row_min = cost[np.arange(g), row_arg]

    while True:
        a = int(np.argmin(row_min))
        b = int(row_arg[a])
        if a > b:
            a, b = b, a
        delta = float(row_min[a])
        if rec.n_clusters == target:
            return delta, _delta_h(w[a], w[b])
        rec.merge(int(slots[a]), int(slots[b]), delta, w[a], w[b])
        q[a] += q[b]
        w[a] += w[b]
        phi[a] = _phi(q[a])
        active[b] = False
        w[b] = 0.0
        h_t.append(-float(_plogp(w[active]).sum()))
        if rec.n_clusters == 1:
            return None
        dead[b] = np.inf
        row_min[b] = np.inf
        row_arg[b] = -1
        live = np.flatnonzero(active)
        new = _plogp(w[a] + w[live]) - _sum_plogp(q[a] + q[live]) - phi[a] - phi[live]
        np.maximum(new, 0.0, out=new)
        new[np.searchsorted(live, a)] = np.inf
        # Entries of merged-away clusters are left stale and masked by ``dead``.
        cost[a, live] = new
        cost[live, a] = new
        # Rows whose minimum pointed at a or b are rescanned; others see the new column.
        stale = (row_arg == a) | (row_arg == b)
        stale[a] = True
        stale_rows = np.flatnonzero(stale)
        sub = cost[stale_rows]
        sub += dead
        args = np.argmin(sub, axis=1)
        row_arg[stale_rows] = args
        row_min[stale_rows] = sub[np.arange(stale_rows.size), args]
        better = ~stale[live] & (new < row_min[live])
        rows = live[better]
        row_min[rows] = new[better]
        row_arg[rows] = a
        if 2 * live.size <= g and live.size >= _COMPACT_MIN:
            # Drop merged-away clusters so the matrix stays small and cache-friendly.
            # ``live`` is sorted, so index order (and thus tie-breaking) is kept.
            remap = np.full(g, -1)
            remap[live] = np.arange(live.size)
            cost = cost[np.ix_(live, live)]
            row_arg = remap[row_arg[live]]
            row_min = row_min[live]
            q, w, phi, slots = q[live], w[live], phi[live], slots[live]
            g = live.size
            active = np.ones(g, dtype=bool)
            dead = np.zeros(g)

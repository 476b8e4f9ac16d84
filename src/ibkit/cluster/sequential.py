r"""Sequential Information Bottleneck (sIB) of Slonim, Friedman & Tishby (2002).

Hard clustering of the items X into a fixed number K of clusters T that keeps as much
of I(X;Y) as it can: it maximises I(T;Y), the β → ∞ end of the IB at fixed |T|. It
starts from a random partition and sweeps over the items in random order: each item x
is drawn out of its cluster, made a singleton, and merged into the cluster t whose
merger with it loses the least I(T;Y),

.. math::

    d(x, t) = \big(p(x) + p(t)\big)\, \mathrm{JS}_\pi\big[p(y|x),\, p(y|t)\big],\qquad
    \pi = \frac{\big(p(x),\, p(t)\big)}{p(x) + p(t)},

the cost of agglomerative IB (Slonim & Tishby 1999) with its own cluster counted
without x. Every move raises I(T;Y), so the sweeps stop, at the latest when no item
moves; the result is a local optimum, hence restarts.

Implementation notes
--------------------
- With q = p(x, ·) the item's joint row, b_t = p(t, ·) the cluster's, w and W_t their
  masses and φ(v) = v log v (φ(0) = 0), the cost is

  .. math::

      d(x, t) = \varphi(w + W_t) - \varphi(W_t)
          - \sum_{y:\, q_y > 0} \big[\varphi(q_y + b_{ty}) - \varphi(b_{ty})\big]
          + \sum_{y:\, q_y > 0} \varphi(q_y) - \varphi(w),

  because the terms of the y where the item has no mass cancel exactly; the last two
  terms depend on the item alone and drop out of its choice. So one item against all
  K clusters costs K·nnz(x) logarithms: one gather of the cluster joint at the item's
  nonzero columns, an elementwise log, and one matrix-vector product for the sum over
  y; the values φ(b_ty) of every cluster are kept and updated only where a move
  changes them. This is the floor of the sequential step (the JS terms at the item's
  nonzero y must each be evaluated); sparse and dense input run this one code path.
- A restart stops after a sweep in which no item moved, or whose gain in I(T;Y) was at
  most ``tol`` times I(T;Y), or after ``max_iter`` sweeps.
- The arithmetic is in the scale of the counts (φ is homogeneous: scaling the joint
  scales every cost), so integer counts are added and removed exactly; the cluster
  sums are recomputed from the labels after every sweep in any case.
- An item alone in its cluster stays (drawing it out would empty the cluster, where it
  would return at cost 0), so every restart keeps K clusters. Items without counts
  carry no mass and take no part; they join the heaviest cluster at the end.

Reference: N. Slonim, N. Friedman and N. Tishby, "Unsupervised document classification
using sequential information maximization", SIGIR 2002, pp. 129–136.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from scipy.special import xlogy

from ibkit.cluster._base import IBClustering, mutual_information_sparse_nats
from ibkit.measures import entropy_nats, mutual_information_nats

__all__ = ["SequentialIB"]


class SequentialIB(IBClustering):
    r"""Sequential Information Bottleneck clustering (Slonim, Friedman & Tishby 2002).

    Partitions the rows of a count matrix (documents × terms, items × features) into
    ``n_clusters`` clusters T maximising I(T;Y) for p(x, y) ∝ X: from a random
    partition, each item in turn is drawn out of its cluster and merged into the one
    of least information loss d(x, t) = (p(x) + p(t))·JS_π[p(y|x), p(y|t)],
    π = (p(x), p(t)) / (p(x) + p(t)), until no item moves. See
    :mod:`ibkit.cluster.sequential` for the algorithm and its cost.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K, at most the number of rows with counts.
    n_init : int, default=10
        Restarts from independent random partitions; the one of largest I(T;Y) is kept.
        Restart i is the same for every ``n_init``, so more restarts never lower I(T;Y).
    max_iter : int, default=30
        Most sweeps over the items per restart.
    tol : float, default=1e-4
        A restart stops after a sweep in which no item moved, or which raised I(T;Y)
        by at most ``tol`` times its value.
    random_state : None, int or numpy.random.Generator
        Seeds the restarts; the same seed gives the same clusters, for every ``n_jobs``.
    n_jobs : int, optional
        Restarts run in parallel by joblib (-1: all cores; None: one process).

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_samples,)
        The cluster of each row.
    p_t_ : ndarray, shape (n_clusters_,)
        Cluster masses p(t).
    p_y_given_t_ : ndarray, shape (n_clusters_, n_features)
        Cluster decoders p(y|t), used by ``predict`` and ``transform``.
    n_clusters_ : int
        Number of clusters (``n_clusters``).
    i_xt_, i_ty_, i_xy_ : float
        I(X;T) (= H(T) for a hard partition), I(T;Y) and I(X;Y), in bits.
    objective_ : float
        The information lost, I(X;Y) − I(T;Y) in bits, which sIB minimises.
    n_iter_ : int
        Sweeps of the kept restart.
    n_features_in_ : int
        Number of columns of ``X``.

    Notes
    -----
    p(x) is the row total over the grand total, so long documents weigh more; divide
    each row of ``X`` by its total first for a uniform p(x). Rows without counts join
    the heaviest cluster. ``predict`` uses the IB assignment rule
    argmin_t D_KL[p(y|x) ‖ p(y|t)] (the sIB cost of an item of vanishing mass), and
    ``transform`` gives those divergences in bits.

    If the kept restart used all ``max_iter`` sweeps, a
    :class:`~ibkit.ConvergenceWarning` is issued.

    References
    ----------
    N. Slonim, N. Friedman, N. Tishby. Unsupervised document classification using
    sequential information maximization. SIGIR 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from ibkit.cluster import SequentialIB
    >>> X = np.array([[5, 1, 0, 0], [4, 2, 0, 0], [0, 0, 3, 3], [0, 1, 2, 4]])
    >>> sib = SequentialIB(n_clusters=2, random_state=0).fit(X)
    >>> bool(sib.labels_[0] == sib.labels_[1] != sib.labels_[2] == sib.labels_[3])
    True
    >>> bool(sib.predict([[9, 0, 0, 0]])[0] == sib.labels_[0])
    True
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        n_init: int = 10,
        max_iter: int = 30,
        tol: float = 1e-4,
        random_state: Any = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> SequentialIB:
        """Cluster the rows of ``X`` (counts, dense or sparse); ``y`` is ignored.

        Returns
        -------
        SequentialIB
            The fitted estimator.
        """
        counts, k = self._fit_counts(X)
        max_iter, tol = self._stopping(allow_zero_tol=True)
        best = self._best_restart(
            sequential_ib,
            (counts, k, max_iter, tol),
            loss=lambda run: run.h_y_given_t,
            max_iter=max_iter,
            tol=tol,
            unit="sweeps",
        )
        labels = best.labels
        one_hot = sparse.csr_matrix(
            (np.ones(labels.size), (labels, np.arange(labels.size))), shape=(k, labels.size)
        )
        p_ty = (one_hot @ counts).toarray()
        p_ty /= p_ty.sum()
        p_t = p_ty.sum(axis=1)
        i_xy = mutual_information_sparse_nats(counts)
        i_ty = mutual_information_nats(p_ty)
        self._store(
            labels,
            p_t,
            p_ty / p_t[:, None],
            i_xy=i_xy,
            i_xt=float(entropy_nats(p_t)),
            i_ty=i_ty,
            n_iter=best.n_iter,
            objective=max(i_xy - i_ty, 0.0),
        )
        return self


# --------------------------------------------------------------------- the algorithm


class _Run(NamedTuple):
    """One restart: labels, N·H(Y|T) (count scale), sweeps used and convergence."""

    labels: np.ndarray
    h_y_given_t: float
    n_iter: int
    converged: bool


def _xlogx(v: Any) -> Any:
    """v log v with 0 log 0 = 0."""
    return xlogy(v, v)


def sequential_ib(
    counts: sparse.csr_matrix, n_clusters: int, max_iter: int, tol: float, seed: int
) -> _Run:
    """One sIB restart on a canonical CSR count matrix (sorted indices, no stored 0).

    Assumes validated input: entries ≥ 0 and at least ``n_clusters`` rows with counts.
    """
    rng = np.random.default_rng(seed)
    mass = np.asarray(counts.sum(axis=1)).ravel()
    live = np.flatnonzero(mass > 0)
    column_totals = np.asarray(counts.sum(axis=0)).ravel()
    h_y = _xlogx(mass.sum()) - _xlogx(column_totals).sum()  # N·H(Y)

    labels = np.zeros(counts.shape[0], dtype=np.int64)
    labels[live[rng.permutation(live.size)]] = np.arange(live.size) % n_clusters
    state = _Clusters.of(counts, labels, n_clusters)
    h_prev = state.h_y_given_t()
    converged = False
    n_iter = 0
    while n_iter < max_iter and not converged:
        n_iter += 1
        moved = _sweep(counts, mass, state, labels, rng.permutation(live))
        state = _Clusters.of(counts, labels, n_clusters)  # exact sums, no drift
        h = state.h_y_given_t()
        converged = moved == 0 or h_prev - h <= tol * (h_y - h)
        h_prev = h
    labels[mass == 0] = int(np.argmax(state.mass))
    return _Run(labels, h_prev, n_iter, converged)


class _Clusters(NamedTuple):
    """Cluster sums in the scale of the counts, with their φ values kept beside them."""

    joint: np.ndarray  # (|Y|, K): Σ_{x in t} counts(x, y), one row per y for fast gathers
    phi_joint: np.ndarray  # (|Y|, K): φ of each entry
    mass: np.ndarray  # (K,)
    phi_mass: np.ndarray  # (K,)
    sizes: np.ndarray  # (K,) items with counts in each cluster

    @classmethod
    def of(cls, counts: sparse.csr_matrix, labels: np.ndarray, k: int) -> _Clusters:
        live = np.diff(counts.indptr) > 0
        one_hot = sparse.csr_matrix(
            (np.ones(labels.size), (np.arange(labels.size), labels)), shape=(labels.size, k)
        )
        joint = np.ascontiguousarray((counts.T @ one_hot).toarray())
        mass = joint.sum(axis=0)
        sizes = np.bincount(labels[live], minlength=k)
        return cls(joint, _xlogx(joint), mass, _xlogx(mass), sizes)

    def h_y_given_t(self) -> float:
        """N·H(Y|T) = Σ_t φ(W_t) − Σ_{t,y} φ(b_ty)."""
        return float(self.phi_mass.sum() - self.phi_joint.sum())


def _sweep(
    counts: sparse.csr_matrix,
    mass: np.ndarray,
    state: _Clusters,
    labels: np.ndarray,
    order: np.ndarray,
) -> int:
    """Draw each item of ``order`` out and merge it back at least cost; returns the moves.

    An item alone in its cluster stays. Updates ``labels`` and ``state`` in place.
    """
    ones = np.ones(int(np.diff(counts.indptr).max()))
    moved = 0
    for x in order.tolist():
        here = labels[x]
        if state.sizes[here] == 1:
            continue
        cost = _costs(counts, mass[x], state, x, here, ones)
        best = int(cost.argmin())
        if cost[best] < cost[here]:
            _move(counts, mass[x], state, labels, x, best)
            moved += 1
    return moved


def _costs(
    counts: sparse.csr_matrix,
    w: float,
    state: _Clusters,
    x: int,
    here: int,
    ones: np.ndarray,
) -> np.ndarray:
    """d(x, t) − Σ_y φ(q_y) + φ(w) for every cluster t (count scale), ``here`` without x.

    The dropped term depends on the item alone. The item's own cluster is counted
    without it (b − q, W − w); every φ(q_y + b_ty) is of a positive number.
    """
    lo, hi = counts.indptr[x], counts.indptr[x + 1]
    cols, q = counts.indices[lo:hi], counts.data[lo:hi]
    block = state.joint.take(cols, axis=0)  # (nnz, K)
    phi_block = state.phi_joint.take(cols, axis=0)
    rest = block[:, here]
    rest -= q
    np.maximum(rest, 0.0, out=rest)  # round-off of non-integer counts
    phi_block[:, here] = xlogy(rest, rest)
    block += q[:, None]
    gains = np.log(block)
    gains *= block
    gains -= phi_block
    merged = state.mass + w
    mass_term = merged * np.log(merged) - state.phi_mass
    w_rest = max(state.mass[here] - w, 0.0)  # the own cluster's mass without the item
    mass_term[here] = _xlogx(w_rest + w) - _xlogx(w_rest)
    return mass_term - ones[: q.size] @ gains


def _move(
    counts: sparse.csr_matrix,
    w: float,
    state: _Clusters,
    labels: np.ndarray,
    x: int,
    t: int,
) -> None:
    """Move item ``x`` (mass ``w``) from its cluster to cluster ``t``: sums, φ, sizes."""
    here = labels[x]
    lo, hi = counts.indptr[x], counts.indptr[x + 1]
    cols, q = counts.indices[lo:hi], counts.data[lo:hi]
    rest = np.maximum(state.joint[cols, here] - q, 0.0)
    state.joint[cols, here] = rest
    state.phi_joint[cols, here] = _xlogx(rest)
    grown = state.joint[cols, t] + q
    state.joint[cols, t] = grown
    state.phi_joint[cols, t] = _xlogx(grown)
    state.mass[here] = max(state.mass[here] - w, 0.0)
    state.phi_mass[here] = _xlogx(state.mass[here])
    state.mass[t] += w
    state.phi_mass[t] = _xlogx(state.mass[t])
    state.sizes[here] -= 1
    state.sizes[t] += 1
    labels[x] = t

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
  K clusters costs K·nnz(x) logarithms, and the values φ(b_ty) of every cluster are
  kept and updated only where a move changes them. Sparse and dense input run this one
  code path.
- Most of those logarithms can be skipped. As φ'(s) = 1 + log s and log is concave,
  for any c > 0

  .. math::

      \varphi(b + q) - \varphi(b) = \int_b^{b+q} (1 + \log s)\, ds
          \le q\,\big[1 + \log(b + \tfrac{q}{2})\big]
          \le A(b)\, q + B(b)\, q^2,

  with A(b) = 1 + log(b + c/2) − c/(2b + c) and B(b) = 1/(2b + c) (Jensen at the
  midpoint, then the tangent of log at b + c/2); the bound is tight to second order in
  q/b and c_y, the mean nonzero count of column y, makes it tightest where the counts
  are typical. Hence d(x, t) ≥ φ(w + W_t) − φ(W_t) − Σ_y [A(b_ty) q_y + B(b_ty) q_y²]
  (item constants dropped): with A and B kept beside every cluster sum, the bound costs
  two multiply-adds per nonzero and no logarithm. Clusters are costed in order; one
  whose bound exceeds the least exact cost so far (the item's own cluster's, to begin
  with) cannot receive the item and is skipped, so only a few per cent of them are
  costed exactly once the clusters have formed. The decision is the exact sIB
  decision: no approximation is made.
- The sweep is compiled (numba, :mod:`ibkit.cluster._sib`): one item at a time, as
  the algorithm is sequential, each restart on its own; restarts run in parallel
  processes with ``n_jobs``.
- A restart stops after a sweep in which at most ``tol`` times the number of items
  moved (the rule and defaults of sib-clustering: ``tol=0.02``, ``max_iter=15``), or
  after ``max_iter`` sweeps; ``tol=0`` runs to a partition where no item moves.
- The arithmetic is in the scale of the counts (φ is homogeneous: scaling the joint
  scales every cost), so integer counts are added and removed exactly; the kept
  restart's informations are recomputed from its labels.
- An item alone in its cluster stays (drawing it out would empty the cluster, where it
  would return at cost 0), so every restart keeps K clusters. Items without counts
  carry no mass and take no part; they join the heaviest cluster at the end.

References: N. Slonim, N. Friedman and N. Tishby, "Unsupervised document
classification using sequential information maximization", SIGIR 2002, pp. 129–136;
N. Slonim and N. Tishby, "Agglomerative information bottleneck", NIPS 1999 (the cost).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from scipy.special import xlogy

from ibkit._validation import optional_module
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
    max_iter : int, default=15
        Most sweeps over the items per restart.
    tol : float, default=0.02
        A restart stops after a sweep in which at most ``tol`` times the number of
        items (rows with counts) moved; 0 runs until no item moves.
    random_state : None, int or numpy.random.Generator
        Seeds the restarts; the same seed gives the same clusters, for every ``n_jobs``.
    n_jobs : int, optional
        Restarts run in parallel processes by joblib (-1: all cores; None: one process).

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

    If the kept restart used all ``max_iter`` sweeps and its last one still moved more
    than ``tol`` of the items, a :class:`~ibkit.ConvergenceWarning` is issued.

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
        max_iter: int = 15,
        tol: float = 0.02,
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
        items = _Items.of(counts)
        best = self._best_restart(
            sequential_ib,
            (items, k, max_iter, tol),
            loss=lambda run: run.h_y_given_t,
            max_iter=max_iter,
            tol=tol,
            unit="sweeps",
        )
        labels = best.labels
        p_ty = _cluster_joint(items, labels, k).T
        p_ty /= p_ty.sum()
        p_t = p_ty.sum(axis=1)
        labels[items.mass == 0] = np.argmax(p_t)  # rows without counts join the heaviest cluster
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
    """One restart: labels (rows without counts left in cluster 0), N·H(Y|T) (count
    scale), sweeps used and convergence."""

    labels: np.ndarray
    h_y_given_t: float
    n_iter: int
    converged: bool


class _Items(NamedTuple):
    """The count matrix as sIB reads it: CSR rows, row totals and the bound's scale."""

    counts: sparse.csr_matrix  # canonical: sorted indices, no stored 0
    indptr: np.ndarray  # its CSR arrays in int64, as the compiled sweep reads them
    indices: np.ndarray
    mass: np.ndarray  # (n,) row totals w
    live: np.ndarray  # rows with counts
    half_c: np.ndarray  # (|Y|,) c_y / 2, c_y the mean nonzero count of column y

    @classmethod
    def of(cls, counts: sparse.csr_matrix) -> _Items:
        col_nnz = np.bincount(counts.indices, minlength=counts.shape[1])
        col_sums = np.asarray(counts.sum(axis=0)).ravel()
        c = np.divide(col_sums, col_nnz, out=np.ones(counts.shape[1]), where=col_nnz > 0)
        mass = np.asarray(counts.sum(axis=1)).ravel()
        indptr, indices = counts.indptr.astype(np.int64), counts.indices.astype(np.int64)
        live = np.flatnonzero(np.diff(indptr) > 0)
        return cls(counts, indptr, indices, mass, live, c / 2)

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The arguments of the compiled sweep that describe the items."""
        return self.indptr, self.indices, self.counts.data, self.mass, self.half_c


class _Clusters(NamedTuple):
    """Cluster sums of one restart in the scale of the counts, with φ and the bound's
    coefficients of each entry beside them (the ``state`` of :func:`._sib.sweep`)."""

    joint: np.ndarray  # (|Y|, K): Σ_{x in t} counts(x, y)
    phi_joint: np.ndarray  # (|Y|, K): φ of each entry
    bound: np.ndarray  # (|Y|, 2K): A(b) then B(b) of φ(b + q) − φ(b) ≤ A q + B q², float32
    mass: np.ndarray  # (K,)
    phi_mass: np.ndarray  # (K,)
    sizes: np.ndarray  # (K,) items with counts in each cluster

    @classmethod
    def of(cls, items: _Items, labels: np.ndarray, k: int) -> _Clusters:
        """The sums of the partition ``labels``."""
        joint = _cluster_joint(items, labels, k)
        mass = joint.sum(axis=0)
        return cls(
            joint,
            _xlogx(joint),
            _compiled().bound_table(joint, items.half_c),
            mass,
            _xlogx(mass),
            np.bincount(labels[items.live], minlength=k).astype(np.int64),
        )


def _cluster_joint(items: _Items, labels: np.ndarray, k: int) -> np.ndarray:
    """(|Y|, K): the sums of the partition ``labels``, exact (one sparse product)."""
    n = labels.size
    one_hot = sparse.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, k))
    return (items.counts.T @ one_hot).toarray()


def _h_y_given_t(joint: np.ndarray) -> float:
    """N·H(Y|T) = Σ_t φ(W_t) − Σ_{t,y} φ(b_ty) of the sums ``joint`` (|Y|, K)."""
    return float(_xlogx(joint.sum(axis=0)).sum() - _xlogx(joint).sum())


def _compiled() -> Any:
    """:mod:`ibkit.cluster._sib`, the compiled sweep (numba, the ``cluster`` extra)."""
    optional_module("numba", "SequentialIB", "cluster")
    from ibkit.cluster import _sib

    return _sib


def _xlogx(v: Any) -> Any:
    """v log v with 0 log 0 = 0."""
    return xlogy(v, v)


def sequential_ib(
    items: _Items, n_clusters: int, max_iter: int, tol: float, seed: int, *, screen: bool = True
) -> _Run:
    """One sIB restart from the random partition of ``seed``, on validated counts (at
    least ``n_clusters`` rows with counts); ``screen=False`` costs every cluster exactly
    (same decisions, slower: the reference of the screening)."""
    k, live = n_clusters, items.live
    rng = np.random.default_rng(seed)
    labels = np.zeros(items.mass.size, dtype=np.int64)
    labels[live[rng.permutation(live.size)]] = np.arange(live.size) % k
    state = _Clusters.of(items, labels, k)
    csr, sweep = items.csr(), _compiled().sweep
    n_iter, converged = 0, False
    while not converged and n_iter < max_iter:
        moves = sweep(*csr, rng.permutation(live), labels, tuple(state), screen)
        n_iter += 1
        converged = moves <= tol * live.size
    exact = _cluster_joint(items, labels, k)  # sums without the drift of the moves
    return _Run(labels, _h_y_given_t(exact), n_iter, converged)

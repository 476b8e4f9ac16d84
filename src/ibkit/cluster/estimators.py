r"""scikit-learn estimators over the exact IB solvers of :mod:`ibkit.ib`.

- :class:`AgglomerativeIB`: :func:`ibkit.ib.agglomerative_ib`, cut at ``n_clusters``.
- :class:`DeterministicIB`: :func:`ibkit.ib.iterative_ib` with α = 0, the hard encoder
  minimising H(T) − β·I(T;Y) (Strouse & Schwab 2017), best of ``n_init`` restarts.
- :class:`InformationBottleneck`: :func:`ibkit.ib.iterative_ib` with α = 1, the soft
  encoder minimising I(X;T) − β·I(T;Y) (Tishby, Pereira & Bialek 2000), with
  ``predict_proba`` = p(t|x).

The rows of ``X`` are the items and p(x, y) ∝ X, as for :class:`ibkit.cluster.SequentialIB`.
These solvers work on the dense joint (|X|·|Y| floats, and agglomerative IB an
|X|×|X| cost matrix), so sparse input is densified; :class:`~ibkit.cluster.SequentialIB`
is the one for large sparse corpora.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp

from ibkit._validation import ConvergenceWarning, check_positive
from ibkit.cluster._base import IBClustering, mutual_information_sparse_nats
from ibkit.ib import IBResult, agglomerative_ib, iterative_ib

__all__ = ["AgglomerativeIB", "DeterministicIB", "InformationBottleneck"]


class AgglomerativeIB(IBClustering):
    r"""Agglomerative IB clustering (Slonim & Tishby 1999), cut at ``n_clusters``.

    Starts from one cluster per row and greedily merges the pair of clusters whose
    union loses the least I(T;Y), δI = (p(t_i) + p(t_j))·JS_π[p(y|t_i), p(y|t_j)],
    until ``n_clusters`` remain (see :func:`ibkit.ib.agglomerative_ib`). Deterministic.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, at most the number of rows with counts.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_samples,)
        Cluster of each row, numbered in order of first appearance.
    p_t_, p_y_given_t_ : ndarray
        Cluster masses p(t) and decoders p(y|t) (shape (n_clusters_, n_features)).
    n_clusters_ : int
        Number of clusters (``n_clusters``).
    i_xt_, i_ty_, i_xy_ : float
        I(X;T) = H(T), I(T;Y) and I(X;Y) in bits.
    objective_ : float
        The information lost, I(X;Y) − I(T;Y) in bits: the sum of the merge costs.
    n_iter_ : int
        Number of merges, n_samples − n_clusters.
    n_features_in_ : int
        Number of columns of ``X``.

    Notes
    -----
    Needs O(n_samples²) memory for the cost matrix. ``predict`` uses the IB
    assignment rule argmin_t D_KL[p(y|x) ‖ p(y|t)]; ``transform`` gives those
    divergences in bits.

    Examples
    --------
    >>> from ibkit.cluster import AgglomerativeIB
    >>> X = [[5, 1, 0], [4, 2, 0], [0, 1, 6], [0, 2, 5]]
    >>> AgglomerativeIB(n_clusters=2).fit(X).labels_
    array([0, 0, 1, 1])
    """

    def __init__(self, n_clusters: int = 8) -> None:
        self.n_clusters = n_clusters

    def fit(self, X: Any, y: Any = None) -> AgglomerativeIB:
        """Cluster the rows of ``X`` (counts, dense or sparse); ``y`` is ignored.

        Returns
        -------
        AgglomerativeIB
            The fitted estimator.
        """
        counts, k = self._fit_counts(X)
        tree = agglomerative_ib(counts.toarray(), n_clusters=k, units="nats", normalize=True)
        result = tree.result(k, beta=0.0)  # β only scales the objective, not used here
        self._store(
            tree.partition(k),
            result.p_t,
            result.p_y_given_t,
            i_xy=tree.i_xy,
            i_xt=result.i_xt,
            i_ty=result.i_ty,
            n_iter=result.n_iter,
            objective=max(tree.i_xy - result.i_ty, 0.0),
        )
        return self


class _IterativeIB(IBClustering):
    """The estimators over :func:`ibkit.ib.iterative_ib`; subclasses fix α.

    The restarts run here, one ``iterative_ib`` call per seed, rather than through its
    own serial ``n_init``, so that ``n_jobs`` can run them in parallel with the same
    per-restart seeds (and results) as :class:`~ibkit.cluster.SequentialIB`.
    """

    _ALPHA: ClassVar[float]

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        beta: float = 100.0,
        n_init: int = 10,
        max_iter: int = 1000,
        tol: float = 1e-12,
        random_state: Any = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.beta = beta
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> _IterativeIB:
        """Solve the IB on p(x, y) ∝ ``X`` (counts, dense or sparse); ``y`` is ignored.

        Returns
        -------
        self
            The fitted estimator.
        """
        counts, k = self._fit_counts(X)
        beta = check_positive(self.beta, "beta")
        max_iter, tol = self._stopping(allow_zero_tol=False)
        p_xy = counts.toarray()
        p_xy /= p_xy.sum()
        best = self._best_restart(
            _solve,
            (p_xy, beta, k, self._ALPHA, max_iter, tol),
            loss=lambda result: result.objective,
            max_iter=max_iter,
            tol=tol,
            unit="iterations",
        )
        self._beta = beta
        self.p_t_given_x_ = best.p_t_given_x
        self._store(
            np.argmax(best.p_t_given_x, axis=1),
            best.p_t,
            best.p_y_given_t,
            i_xy=mutual_information_sparse_nats(counts),
            i_xt=best.i_xt,
            i_ty=best.i_ty,
            n_iter=best.n_iter,
            objective=best.objective,
        )
        return self


def _solve(
    p_xy: np.ndarray, beta: float, k: int, alpha: float, max_iter: int, tol: float, seed: int
) -> IBResult:
    """One restart of :func:`iterative_ib` in nats; its warning is left to the caller."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return iterative_ib(
            p_xy,
            beta,
            n_clusters=k,
            alpha=alpha,
            max_iter=max_iter,
            tol=tol,
            units="nats",
            random_state=seed,
        )


_ITERATIVE_PARAMETERS = """
    Parameters
    ----------
    n_clusters : int, default=8
        Clusters of the random start, at most the number of rows with counts; the
        solution can use fewer (empty clusters are dropped, coinciding ones merged).
    beta : float, default=100.0
        Trade-off β > 0: larger β keeps more of I(X;Y) in T. The default keeps
        ``n_clusters`` distinct clusters on most data; lower β merges clusters (DIB) or
        softens the assignment (IB), down to a single cluster for β near 1.
    n_init : int, default=10
        Restarts from independent random encoders; the lowest objective is kept.
    max_iter, tol : int, float
        Per restart: stop when an iteration lowers the free energy by less than ``tol``
        nats (see :func:`ibkit.ib.iterative_ib`) or after ``max_iter`` iterations; a
        :class:`~ibkit.ConvergenceWarning` is issued if the kept restart did not converge.
    random_state : None, int or numpy.random.Generator
        Seeds the restarts; the same seed gives the same clusters, for every ``n_jobs``.
    n_jobs : int, optional
        Restarts run in parallel by joblib (-1: all cores; None: one process).
"""

_ITERATIVE_ATTRIBUTES = """
    labels_ : ndarray of int64, shape (n_samples,)
        The cluster of largest p(t|x) for each row.
    p_t_given_x_ : ndarray, shape (n_samples, n_clusters_)
        The fitted encoder.
    p_t_, p_y_given_t_ : ndarray
        Cluster masses p(t) and decoders p(y|t) (shape (n_clusters_, n_features)).
    n_clusters_ : int
        Clusters in use (at most ``n_clusters``).
    i_xt_, i_ty_, i_xy_ : float
        I(X;T), I(T;Y) and I(X;Y) in bits.
    n_iter_ : int
        Iterations of the kept restart.
    n_features_in_ : int
        Number of columns of ``X``.
"""


class DeterministicIB(_IterativeIB):
    __doc__ = (
        r"""Deterministic IB clustering (Strouse & Schwab 2017).

    Minimises H(T) − β·I(T;Y) over hard encoders by iterating
    t(x) = argmax_t [log p(t) − β·D_KL(p(y|x) ‖ p(y|t))] with p(t), p(y|t) updated
    (:func:`ibkit.ib.iterative_ib` with ``alpha=0``). The H(T) term favours few,
    unequal clusters: small β merges clusters, large β approaches sIB.
"""
        + _ITERATIVE_PARAMETERS
        + """
    Attributes
    ----------"""
        + _ITERATIVE_ATTRIBUTES
        + """    objective_ : float
        H(T) − β·I(T;Y) in bits, the DIB objective of the kept restart.

    Notes
    -----
    ``predict`` uses the IB assignment rule argmin_t D_KL[p(y|x) ‖ p(y|t)] (the
    β → ∞ limit; the fit's own rule adds log p(t)/β), ``transform`` gives those
    divergences in bits. Sparse input is densified.

    References
    ----------
    D. J. Strouse, D. J. Schwab. The deterministic information bottleneck. Neural
    Computation 29(6), 2017.

    Examples
    --------
    >>> from ibkit.cluster import DeterministicIB
    >>> X = [[5, 1, 0], [4, 2, 0], [0, 1, 6], [0, 2, 5]]
    >>> dib = DeterministicIB(n_clusters=2, beta=20.0, random_state=0).fit(X)
    >>> int(dib.n_clusters_), bool(dib.labels_[0] == dib.labels_[1] != dib.labels_[2])
    (2, True)
    """
    )

    _ALPHA: ClassVar[float] = 0.0


class InformationBottleneck(_IterativeIB):
    __doc__ = (
        r"""Soft IB clustering: the self-consistent IB encoder (Tishby, Pereira & Bialek 2000).

    Minimises I(X;T) − β·I(T;Y) by iterating
    p(t|x) ∝ p(t)·exp(−β·D_KL[p(y|x) ‖ p(y|t)]) with p(t), p(y|t) updated
    (:func:`ibkit.ib.iterative_ib` with ``alpha=1``).
"""
        + _ITERATIVE_PARAMETERS
        + """
    Attributes
    ----------"""
        + _ITERATIVE_ATTRIBUTES
        + """    objective_ : float
        I(X;T) − β·I(T;Y) in bits, the IB Lagrangian of the kept restart.

    Notes
    -----
    ``predict_proba`` applies the encoder formula to any row; at the fixed point it
    gives back ``p_t_given_x_`` on the training rows. ``predict`` uses the IB
    assignment rule argmin_t D_KL[p(y|x) ‖ p(y|t)] (the β → ∞ limit of the encoder),
    ``transform`` gives those divergences in bits. A soft cluster may be no row's
    most likely one, so ``labels_`` need not use every cluster. Sparse input is
    densified.

    References
    ----------
    N. Tishby, F. C. Pereira, W. Bialek. The information bottleneck method. 2000.

    Examples
    --------
    >>> from ibkit.cluster import InformationBottleneck
    >>> X = [[5, 1, 0], [4, 2, 0], [0, 1, 6], [0, 2, 5]]
    >>> ib = InformationBottleneck(n_clusters=2, beta=20.0, random_state=0).fit(X)
    >>> float(ib.predict_proba([[1, 0, 0]]).max().round(3))
    1.0
    """
    )

    _ALPHA: ClassVar[float] = 1.0

    def predict_proba(self, X: Any) -> np.ndarray:
        """p(t|x) ∝ p(t)·exp(−β·D_KL[p(y|x) ‖ p(y|t)]) for each row of ``X``.

        A row that every cluster rules out (D_KL = +∞ for all t) gets the prior p(t).

        Parameters
        ----------
        X : array_like or sparse matrix, shape (n_samples, n_features)
            Non-negative counts, with the columns seen in ``fit``.

        Returns
        -------
        ndarray, shape (n_samples, n_clusters_)
            Rows sum to 1.
        """
        divergences = self._divergences_nats(X)
        log_prior = np.log(self.p_t_)
        scores = log_prior - self._beta * divergences
        ruled_out = np.isneginf(scores).all(axis=1)
        scores[ruled_out] = log_prior
        return np.exp(scores - logsumexp(scores, axis=1, keepdims=True))

r"""What the IB clustering estimators share: count input, the assignment rule, restarts.

Rows of ``X`` are the items x to cluster and columns the values y of the relevant
variable (terms of a document, features), so the joint is p(x, y) ∝ X: an item's mass
p(x) is its row total and its conditional p(y|x) its normalised row. A fitted estimator
holds the clusters' marginal p(t) (``p_t_``) and decoders p(y|t) (``p_y_given_t_``), and
places any row x by the IB assignment rule

.. math::

    t(x) = \arg\min_t D_{KL}\big[p(y|x)\,\|\,p(y|t)\big],

the β → ∞ limit of the IB encoder p(t|x) ∝ p(t)·exp(−β·D_KL[p(y|x) ‖ p(y|t)])
(Tishby, Pereira & Bialek 2000), ties going to the cluster of larger p(t). All the
divergences of a batch are one sparse-dense product,
:math:`D_{KL} = \sum_y p(y|x)\log p(y|x) - p(y|x)\,[\log p(y|t)]^\top`, over the nonzero
entries of p(y|x) only; a cluster that gives no mass to a y of the row is at +∞. A row
without counts has no conditional: it is at divergence 0 from every cluster (the sum
has no terms), so it goes to the heaviest cluster, in fit and in predict alike.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from scipy.special import rel_entr, xlogy
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ibkit._validation import (
    ConvergenceWarning,
    InvalidParameterError,
    check_int,
    check_positive,
    check_random_state,
    from_nats,
)

__all__: list[str] = []


class IBClustering(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Base of the IB clustering estimators: input checks, ``predict``, ``transform``.

    Subclasses implement ``fit``: :meth:`_fit_counts` first, :meth:`_store` last, and
    for the restarting solvers :meth:`_stopping` and :meth:`_best_restart` between.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # counts
        tags.input_tags.sparse = True
        return tags

    @property
    def _n_features_out(self) -> int:
        """Columns of ``transform``: one per cluster (for ``get_feature_names_out``)."""
        return self.n_clusters_

    # ----------------------------------------------------------------- input

    def _counts(self, X: Any, *, reset: bool) -> sparse.csr_matrix:
        """``X`` as a canonical CSR matrix of float64 counts (a copy; ``X`` is untouched).

        scikit-learn's checks (shape, dtype, NaN/inf, complex, feature count and names)
        run first; their errors are re-raised as :class:`InvalidParameterError` that
        also say what ``X`` must be. Then entries must be ≥ 0 with a finite total and, in
        ``fit``, not all 0.
        """
        name = type(self).__name__
        try:
            data = validate_data(
                self, X, accept_sparse="csr", dtype=np.float64, reset=reset, copy=True
            )
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"X must be a 2-D array or sparse matrix of non-negative counts (rows: "
                f"items to cluster, columns: features); {exc}"
            ) from None
        counts = sparse.csr_matrix(data)
        counts.sum_duplicates()  # sorts the indices: dense and sparse input agree exactly
        counts.eliminate_zeros()
        if counts.nnz and counts.data.min() < 0:
            negative = counts.data[counts.data < 0]
            raise InvalidParameterError(
                f"X has {negative.size} negative entries (min {negative.min():.3g}); pass "
                f"non-negative counts or weights, as p(x, y) ∝ X (Negative values in data "
                f"passed to {name})"
            )
        with np.errstate(over="ignore"):  # an overflowing total is the error reported
            total = counts.data.sum()
        if not np.isfinite(total):
            raise InvalidParameterError(
                "X sums to infinity; divide the counts by a common factor (only their "
                "ratios matter)"
            )
        if reset and counts.nnz == 0:
            raise InvalidParameterError(
                f"X is all zeros; {name} needs positive counts in at least n_clusters rows"
            )
        return counts

    def _n_clusters(self, counts: sparse.csr_matrix) -> int:
        """``n_clusters`` checked against the rows of ``X`` that have counts."""
        k = check_int(self.n_clusters, "n_clusters")
        n_live = int(np.count_nonzero(np.diff(counts.indptr)))
        if k > n_live:
            raise InvalidParameterError(
                f"n_clusters must be <= the number of rows of X with positive counts "
                f"({n_live} of {counts.shape[0]}); got {self.n_clusters!r}; lower n_clusters "
                "or pass more rows"
            )
        return k

    def _fit_counts(self, X: Any) -> tuple[sparse.csr_matrix, int]:
        """The preamble of every ``fit``: the counts of ``X`` and the checked ``n_clusters``."""
        counts = self._counts(X, reset=True)
        return counts, self._n_clusters(counts)

    def _stopping(self, *, allow_zero_tol: bool) -> tuple[int, float]:
        """``max_iter`` and ``tol`` of the restarting solvers, checked."""
        max_iter = check_int(self.max_iter, "max_iter")
        tol = check_positive(self.tol, "tol", allow_zero=allow_zero_tol)
        return max_iter, tol

    # ----------------------------------------------------------------- restarts

    def _best_restart(
        self,
        run: Callable[..., Any],
        args: tuple[Any, ...],
        *,
        loss: Callable[[Any], float],
        max_iter: int,
        tol: float,
        unit: str,
    ) -> Any:
        """``run(*args, seed)`` for ``n_init`` seeds in parallel; the run of least ``loss``.

        The seeds are drawn from ``random_state`` before anything runs, so the result is
        the same for every ``n_jobs``, and restart i gets the i-th seed whatever
        ``n_init`` is, so more restarts never give a worse result; ties go to the earlier
        restart. A :class:`~ibkit.ConvergenceWarning` is issued if the kept run (its
        ``converged``) stopped at ``max_iter`` ``unit``.
        """
        n_init = check_int(self.n_init, "n_init")
        n_jobs = check_n_jobs(self.n_jobs)
        rng = check_random_state(self.random_state)
        seeds = rng.integers(np.iinfo(np.int64).max, size=n_init)
        runs = Parallel(n_jobs=n_jobs)(delayed(run)(*args, int(seed)) for seed in seeds)
        best = min(runs, key=loss)
        if not best.converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={max_iter} {unit} "
                f"(tol={tol:g}); increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=3,  # the caller of fit
            )
        return best

    # ----------------------------------------------------------------- results

    def _store(
        self,
        labels: np.ndarray,
        p_t: np.ndarray,
        p_y_given_t: np.ndarray,
        *,
        i_xy: float,
        i_xt: float,
        i_ty: float,
        n_iter: int,
        objective: float,
    ) -> None:
        """Set the fitted attributes; informations come in nats and are kept in bits."""
        self.labels_ = labels.astype(np.int64)
        self.p_t_ = p_t
        self.p_y_given_t_ = p_y_given_t
        self.n_clusters_ = int(p_t.shape[0])
        self.i_xy_ = float(from_nats(i_xy, "bits"))
        self.i_xt_ = float(from_nats(i_xt, "bits"))
        self.i_ty_ = float(from_nats(i_ty, "bits"))
        self.n_iter_ = int(n_iter)
        self.objective_ = float(from_nats(objective, "bits"))

    # ----------------------------------------------------------------- the rule

    def _divergences_nats(self, X: Any) -> np.ndarray:
        """D_KL[p(y|x) ‖ p(y|t)] in nats for every row of ``X`` and every cluster."""
        check_is_fitted(self)
        counts = self._counts(X, reset=False)
        return divergences_nats(counts, self.p_y_given_t_)

    def transform(self, X: Any) -> np.ndarray:
        """D_KL[p(y|x) ‖ p(y|t)] in bits from each row of ``X`` to each cluster.

        Parameters
        ----------
        X : array_like or sparse matrix, shape (n_samples, n_features)
            Non-negative counts, with the columns seen in ``fit``.

        Returns
        -------
        ndarray, shape (n_samples, n_clusters_)
            +inf where the cluster gives no mass to a feature the row has; 0 for every
            cluster on a row without counts.
        """
        return from_nats(self._divergences_nats(X), "bits")

    def predict(self, X: Any) -> np.ndarray:
        """The cluster of least D_KL[p(y|x) ‖ p(y|t)] for each row (the IB assignment rule).

        The β → ∞ limit of the IB encoder p(t|x) ∝ p(t)·exp(−β·D_KL); ties (such as a
        row without counts, or one at +∞ from every cluster) go to the larger p(t).

        Parameters
        ----------
        X : array_like or sparse matrix, shape (n_samples, n_features)
            Non-negative counts, with the columns seen in ``fit``.

        Returns
        -------
        ndarray of int64, shape (n_samples,)
        """
        return assign(self._divergences_nats(X), self.p_t_)


# --------------------------------------------------------------------- functions


def divergences_nats(counts: sparse.csr_matrix, p_y_given_t: np.ndarray) -> np.ndarray:
    """D_KL[p(y|x) ‖ p(y|t)] (nats) for the rows of a canonical CSR count matrix.

    One sparse-dense product over the nonzero p(y|x): Σ_y p log p − p·[log p(y|t)]ᵀ,
    with log 0 = −∞ for the decoders (a row with mass on such a y is at +∞). Rows
    without counts give 0. Round-off below 0 is clipped.
    """
    totals = np.asarray(counts.sum(axis=1)).ravel()
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    cond = counts.data / totals[rows]
    p_y_given_x = sparse.csr_matrix((cond, counts.indices, counts.indptr), shape=counts.shape)
    neg_entropy = np.bincount(rows, weights=xlogy(cond, cond), minlength=counts.shape[0])
    zero = p_y_given_t == 0
    log_q = np.log(p_y_given_t, out=np.full(p_y_given_t.shape, -np.inf), where=~zero)
    kl = neg_entropy[:, None] - np.asarray(p_y_given_x @ log_q.T)
    return np.maximum(kl, 0.0)


def assign(divergences: np.ndarray, p_t: np.ndarray) -> np.ndarray:
    """Arg-min over clusters of each row, ties to the cluster of larger p(t)."""
    order = np.argsort(-p_t, kind="stable")
    return order[np.argmin(divergences[:, order], axis=1)].astype(np.int64)


def mutual_information_sparse_nats(counts: sparse.csr_matrix) -> float:
    """I(X;Y) in nats of p(x, y) ∝ ``counts`` (canonical CSR, no explicit zeros).

    Σ_{x,y} p(x) rel_entr(p(y|x), p(y)) over the stored entries, as
    :func:`ibkit.measures.mutual_information_nats` computes it on a dense joint.
    """
    joint = counts.data / counts.data.sum()
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    p_x = np.bincount(rows, weights=joint, minlength=counts.shape[0])
    p_y = np.bincount(counts.indices, weights=joint, minlength=counts.shape[1])
    cond = joint / p_x[rows]
    return max(float(p_x[rows] @ rel_entr(cond, p_y[counts.indices])), 0.0)


def check_n_jobs(n_jobs: Any) -> int | None:
    """``n_jobs`` for joblib: None (one process) or a nonzero int (-1: all cores)."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise InvalidParameterError(
            f"n_jobs must be None or a nonzero integer (-1 for all cores); got {n_jobs!r}"
        )
    return int(n_jobs)

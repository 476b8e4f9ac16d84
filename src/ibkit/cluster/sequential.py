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
  (item constants dropped), a lower bound whose sum is one entry of a table
  [q, q²]·[A; B] over items × clusters, built once by a sparse product and updated on
  the items sharing a column with each moved item. A cluster whose bound exceeds the
  item's exact cost in its own cluster cannot receive it; only the others (a few per
  cent of them once the clusters have formed) are costed exactly. The decision is the
  exact sIB decision: no approximation is made.
- Python-level work is amortised over the restarts of one process, which sweep
  together (each over its own random order). While a restart's last sweep moved more
  than ``_SCREEN_BELOW`` of its items (the first sweeps from a random partition, where
  the bound prunes little and most items move), each step takes the next item of every
  restart and costs it against all clusters exactly. Afterwards the restart screens:
  each step takes the next chunk of items of every restart, computes their own costs
  and bounds at once, costs the candidates exactly, and moves the first item of each
  chunk that moves; that restart's next chunk starts after it, since the move changes
  the costs of the items after it. Every item thus gets the costs of the current
  partition, as the sequential algorithm requires, and a restart's result does not
  depend on the restarts beside it. Each restart holds 2·|Y|·K + K·n values (sums, their
  φ and its bound table); restarts beyond ``_GROUP_BYTES`` of them run group after group.
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
        Restarts run in parallel by joblib, in one group per process (-1: all cores;
        None: one process).

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
        best = self._best_restart(
            sequential_ib,
            (_Items.of(counts), k, max_iter, tol),
            loss=lambda run: run.h_y_given_t,
            max_iter=max_iter,
            tol=tol,
            unit="sweeps",
            batched=True,
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

#: Relative slack of the screening bound against round-off: a cluster is skipped only if
#: its lower bound exceeds the item's own cost by more than this share of the magnitudes.
_MARGIN = 1e-9
#: Least and largest chunk of items screened at once.
_CHUNK = (4, 512)
#: Memory the restarts run together may take (their cluster sums and bound tables, 8
#: bytes a value); more restarts are run group after group.
_GROUP_BYTES = 2**28
#: A restart sweeps with every cost computed while its last sweep moved more than this
#: share of its items, and with screening afterwards (see the module notes).
_SCREEN_BELOW = 0.25


class _Run(NamedTuple):
    """One restart: labels, N·H(Y|T) (count scale), sweeps used and convergence."""

    labels: np.ndarray
    h_y_given_t: float
    n_iter: int
    converged: bool


class _Items(NamedTuple):
    """The count matrix as sIB reads it: rows (CSR), columns (CSC) and per-row sums."""

    counts: sparse.csr_matrix  # canonical: sorted indices, no stored 0
    nnz: np.ndarray  # (n,) stored entries of each row
    mass: np.ndarray  # (n,) row totals w
    live: np.ndarray  # rows with counts
    col_indptr: np.ndarray  # CSC of the counts: the rows holding each column
    col_rows: np.ndarray
    col_data: np.ndarray
    col_nnz: np.ndarray
    half_c: np.ndarray  # (|Y|,) c_y / 2, c_y the mean nonzero count of column y
    linear_square: sparse.csr_matrix  # (n, 2|Y|): [counts, counts²], for the bound table

    @classmethod
    def of(cls, counts: sparse.csr_matrix) -> _Items:
        csc = counts.tocsc()
        col_nnz = np.diff(csc.indptr)
        col_sums = np.asarray(counts.sum(axis=0)).ravel()
        c = np.divide(col_sums, col_nnz, out=np.ones(counts.shape[1]), where=col_nnz > 0)
        mass = np.asarray(counts.sum(axis=1)).ravel()
        nnz = np.diff(counts.indptr)
        linear_square = sparse.hstack([counts, counts.multiply(counts)], format="csr")
        return cls(
            counts,
            nnz,
            mass,
            np.flatnonzero(nnz > 0),
            csc.indptr,
            csc.indices,
            csc.data,
            col_nnz,
            c / 2,
            linear_square,
        )


class _Clusters(NamedTuple):
    """Cluster sums of a group of restarts in the scale of the counts, φ kept beside them."""

    joint: np.ndarray  # (R, |Y|, K): Σ_{x in t} counts(x, y), a row per y for gathers
    phi_joint: np.ndarray  # (R, |Y|, K): φ of each entry
    mass: np.ndarray  # (R, K)
    phi_mass: np.ndarray  # (R, K)
    sizes: np.ndarray  # (R, K) items with counts in each cluster

    @classmethod
    def of(cls, items: _Items, labels: np.ndarray, k: int) -> _Clusters:
        n_runs, n_features = labels.shape[0], items.counts.shape[1]
        state = cls(
            np.zeros((n_runs, n_features, k)),
            np.zeros((n_runs, n_features, k)),
            np.zeros((n_runs, k)),
            np.zeros((n_runs, k)),
            np.zeros((n_runs, k), dtype=np.int64),
        )
        state.refresh(items, labels, np.arange(n_runs))
        return state

    def refresh(self, items: _Items, labels: np.ndarray, runs: np.ndarray) -> None:
        """Recompute the sums of ``runs`` from their labels (exact, no drift)."""
        n, k = labels.shape[1], self.mass.shape[1]
        for r in runs.tolist():
            one_hot = sparse.csr_matrix((np.ones(n), (np.arange(n), labels[r])), shape=(n, k))
            self.joint[r] = (items.counts.T @ one_hot).toarray()
            self.phi_joint[r] = _xlogx(self.joint[r])
            self.mass[r] = self.joint[r].sum(axis=0)
            self.phi_mass[r] = _xlogx(self.mass[r])
            self.sizes[r] = np.bincount(labels[r, items.live], minlength=k)

    def h_y_given_t(self, r: int) -> float:
        """N·H(Y|T) = Σ_t φ(W_t) − Σ_{t,y} φ(b_ty) of restart ``r``."""
        return float(self.phi_mass[r].sum() - self.phi_joint[r].sum())


def _xlogx(v: Any) -> Any:
    """v log v with 0 log 0 = 0."""
    return xlogy(v, v)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(s, s + l)`` for each pair, and where each range begins."""
    offsets = np.cumsum(lengths) - lengths
    return np.arange(offsets[-1] + lengths[-1]) + np.repeat(starts - offsets, lengths), offsets


def sequential_ib(
    items: _Items, n_clusters: int, max_iter: int, tol: float, seeds: np.ndarray
) -> list[_Run]:
    """sIB restarts, one per seed, on validated counts (≥ ``n_clusters`` rows with counts).

    Restart i depends on ``seeds[i]`` only: the restarts share the loop for speed, not
    arithmetic, so a restart gives the same result in any group.
    """
    k, n_runs, live = n_clusters, len(seeds), items.live
    group = max(1, _GROUP_BYTES // (8 * k * (2 * items.counts.shape[1] + items.mass.size)))
    if n_runs > group:
        return [
            run
            for start in range(0, n_runs, group)
            for run in sequential_ib(items, k, max_iter, tol, seeds[start : start + group])
        ]
    rngs = [np.random.default_rng(int(seed)) for seed in seeds]
    labels = np.zeros((n_runs, items.mass.size), dtype=np.int64)
    for r, rng in enumerate(rngs):
        labels[r, live[rng.permutation(live.size)]] = np.arange(live.size) % k
    state = _Clusters.of(items, labels, k)
    bound = np.zeros((n_runs, k, items.mass.size))  # filled when a restart starts screening
    screening = np.zeros(n_runs, dtype=bool)
    n_iter = np.zeros(n_runs, dtype=np.int64)
    converged = np.zeros(n_runs, dtype=bool)
    running = np.ones(n_runs, dtype=bool)
    while running.any():
        runs = np.flatnonzero(running)
        orders = np.stack([rngs[r].permutation(live) for r in runs.tolist()])
        moves = np.zeros(runs.size, dtype=np.int64)
        screened = screening[runs]
        if not screened.all():
            moves[~screened] = _full_sweep(items, state, labels, runs[~screened], orders[~screened])
        if screened.any():
            moves[screened] = _screened_sweep(
                items, state, labels, bound, runs[screened], orders[screened]
            )
        n_iter[runs] += 1
        converged[runs] = moves <= tol * live.size
        running[runs] = ~converged[runs] & (n_iter[runs] < max_iter)
        for r in runs[running[runs] & ~screened & (moves <= _SCREEN_BELOW * live.size)]:
            bound[r] = _bound_table(items, state.joint[r])
            screening[r] = True
    state.refresh(items, labels, np.arange(n_runs))  # exact sums for the loss
    heaviest = np.argmax(state.mass, axis=1)
    empty = items.mass == 0
    return [
        _Run(
            np.where(empty, heaviest[r], labels[r]),
            state.h_y_given_t(r),
            int(n_iter[r]),
            bool(converged[r]),
        )
        for r in range(n_runs)
    ]


def _full_sweep(
    items: _Items, state: _Clusters, labels: np.ndarray, runs: np.ndarray, orders: np.ndarray
) -> np.ndarray:
    """One sweep of each of ``runs`` (order ``orders[i]``), their j-th items taken together.

    Every cost of every item is computed (:func:`_full_costs`), one vectorised step for
    one item of each restart. Returns the moves of each restart.
    """
    n_runs, n_steps = orders.shape
    n_features = state.joint.shape[1]
    # the nonzeros of every step, laid out step after step, restart after restart
    visits = orders.T.ravel()
    lengths = items.nnz[visits]
    entries, offsets = _ranges(items.counts.indptr[visits], lengths)
    cols_all, q_all = items.counts.indices[entries], items.counts.data[entries]
    owner_all = np.repeat(np.tile(np.arange(n_runs), n_steps), lengths)
    rows_all = runs[owner_all] * n_features + cols_all
    bounds = np.append(offsets[::n_runs], entries.size)
    starts_all = offsets.reshape(n_steps, n_runs) - bounds[:-1, None]
    k, n = state.mass.shape[1], labels.shape[1]
    flat_labels, flat_sizes = labels.reshape(-1), state.sizes.reshape(-1)
    run_items, run_clusters, each = runs * n, runs * k, np.arange(n_runs) * k
    moves = np.zeros(n_runs, dtype=np.int64)
    for step in range(n_steps):
        lo, hi = bounds[step], bounds[step + 1]
        rows, q, owner = rows_all[lo:hi], q_all[lo:hi], owner_all[lo:hi]
        z = orders[:, step]
        here = flat_labels.take(run_items + z)
        cost = _full_costs(state, runs, here, items.mass[z], (rows, q, owner, starts_all[step]))
        best = cost.argmin(axis=1)
        cost = cost.reshape(-1)
        move = cost.take(each + best) < cost.take(each + here)
        move &= flat_sizes.take(run_clusters + here) > 1
        if not move.any():
            continue
        moves += move
        mine = move[owner]
        _move(
            items,
            state,
            labels,
            None,
            (runs[move], z[move], here[move], best[move]),
            (cols_all[lo:hi][mine], q[mine], rows[mine], (np.cumsum(move) - 1)[owner[mine]]),
        )
    return moves


def _full_costs(
    state: _Clusters,
    runs: np.ndarray,
    here: np.ndarray,
    w: np.ndarray,
    nonzeros: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """d(x, t) − Σ_y φ(q_y) + φ(w) (count scale) of one item of each of ``runs``, all t.

    The item of restart ``runs[i]`` is in cluster ``here[i]`` with mass ``w[i]``; its
    own cluster is counted without it. ``nonzeros`` = (rows of the sums r·|Y| + y,
    counts, index i of each, where each item's nonzeros start). Returns (runs, K).
    """
    rows, q, owner, starts = nonzeros
    k = state.mass.shape[1]
    block = state.joint.reshape(-1, k).take(rows, axis=0)  # (nonzeros, K)
    phi_block = state.phi_joint.reshape(-1, k).take(rows, axis=0)
    own = np.arange(0, rows.size * k, k) + here[owner]  # the own cluster, flattened
    rest = block.reshape(-1).take(own) - q  # the own cluster without the item
    np.maximum(rest, 0.0, out=rest)  # round-off of non-integer counts
    block.reshape(-1)[own] = rest
    phi_block.reshape(-1)[own] = _xlogx(rest)
    block += q[:, None]
    gains = np.log(block)
    gains *= block
    gains -= phi_block
    mass = state.mass[runs]
    own_mass = np.arange(0, runs.size * k, k) + here
    mass.reshape(-1)[own_mass] = np.maximum(mass.reshape(-1).take(own_mass) - w, 0.0)
    return _xlogx(mass + w[:, None]) - _xlogx(mass) - np.add.reduceat(gains, starts, axis=0)


def _screened_sweep(
    items: _Items,
    state: _Clusters,
    labels: np.ndarray,
    bound: np.ndarray,
    runs: np.ndarray,
    orders: np.ndarray,
) -> np.ndarray:
    """One sweep of each restart of ``runs`` over its items in the order of ``orders``.

    Each step takes the next chunk of items of every restart at once: own costs and
    bounds for all, exact costs for the candidates, and the first item of each chunk
    that moves is moved; its restart's next chunk starts after it, the others' after
    their chunk. Chunks double after a step without a move and shrink to twice the
    distance to the move otherwise. Returns the moves of each restart.
    """
    n_runs, n_live = orders.shape
    n, k = labels.shape[1], state.mass.shape[1]
    n_features = state.joint.shape[1]
    joint, phi_joint = state.joint.reshape(-1), state.phi_joint.reshape(-1)
    flat_bound, flat_labels = bound.reshape(-1), labels.reshape(-1)
    flat_sizes = state.sizes.reshape(-1)
    clusters = np.arange(k)
    bound_columns = clusters * n  # bound[r, t, x] is at (r·K + t)·n + x
    flat_orders = orders.ravel()
    position = np.zeros(n_runs, dtype=np.int64)
    size = np.full(n_runs, _CHUNK[0])
    moves = np.zeros(n_runs, dtype=np.int64)
    while True:
        active = np.flatnonzero(position < n_live)
        if not active.size:
            return moves
        taken = np.minimum(size[active], n_live - position[active])
        slots, _ = _ranges(active * n_live + position[active], taken)
        x = flat_orders[slots]
        local = np.repeat(active, taken)
        r = runs[local]
        here = flat_labels.take(r * n + x)
        w, lengths = items.mass[x], items.nnz[x]
        entries, starts = _ranges(items.counts.indptr[x], lengths)
        cols, q = items.counts.indices[entries], items.counts.data[entries]
        rows = np.repeat(r * n_features, lengths) + cols  # row of (run, y) in the sums
        at = rows * k + np.repeat(here, lengths)
        rest = np.maximum(joint.take(at) - q, 0.0)  # the own cluster without the item
        own_gain = np.add.reduceat(phi_joint.take(at) - _xlogx(rest), starts)
        mass, phi_mass = state.mass[r], state.phi_mass[r]  # (chunk items, K)
        own = np.arange(x.size) * k + here  # the own cluster in a flattened (items, K)
        own_cost = phi_mass.take(own) - _xlogx(np.maximum(mass.take(own) - w, 0.0)) - own_gain
        merge = _xlogx(mass + w[:, None]) - phi_mass
        upper = flat_bound.take((r * (k * n) + x)[:, None] + bound_columns)
        slack = np.abs(merge) + np.abs(upper)
        slack *= _MARGIN
        slack += own_cost[:, None]
        candidate = merge - upper <= slack
        candidate.reshape(-1)[own] = False
        candidate &= (flat_sizes.take(r * k + here) > 1)[:, None]
        item_of, target = np.nonzero(candidate)
        if not item_of.size:
            position[active] += taken
            size[active] = np.minimum(2 * size[active], _CHUNK[1])
            continue
        # exact costs of the candidates; the least per item, the first cluster of ties
        pair_lengths = lengths[item_of]
        pair_entries, pair_starts = _ranges(starts[item_of], pair_lengths)
        pair_at = rows[pair_entries] * k + np.repeat(target, pair_lengths)
        merged = joint.take(pair_at) + q[pair_entries]
        gains = np.log(merged)
        gains *= merged
        gains -= phi_joint.take(pair_at)
        pair = item_of * k + target
        cost = np.full(x.size * k, np.inf)
        cost[pair] = merge.reshape(-1).take(pair) - np.add.reduceat(gains, pair_starts)
        cost = cost.reshape(x.size, k)
        best = cost.argmin(axis=1)
        moving = np.flatnonzero(cost.reshape(-1).take(best + own - here) < own_cost)
        # the first item of each chunk that moves
        chunk_of = local[moving]
        first = np.ones(moving.size, dtype=bool)
        first[1:] = chunk_of[1:] != chunk_of[:-1]
        movers, chunk_of = moving[first], chunk_of[first]
        offset = slots[movers] - chunk_of * n_live - position[chunk_of]
        position[active] += taken
        size[active] = np.minimum(2 * size[active], _CHUNK[1])
        position[chunk_of] += offset + 1 - taken[np.searchsorted(active, chunk_of)]
        size[chunk_of] = np.maximum(2 * (offset + 1), _CHUNK[0])
        if not movers.size:
            continue
        moves[chunk_of] += 1
        mine, _ = _ranges(starts[movers], lengths[movers])
        _move(
            items,
            state,
            labels,
            bound,
            (r[movers], x[movers], here[movers], best[movers]),
            (cols[mine], q[mine], rows[mine], np.repeat(np.arange(movers.size), lengths[movers])),
        )


def _move(
    items: _Items,
    state: _Clusters,
    labels: np.ndarray,
    bound: np.ndarray | None,
    moved: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    nonzeros: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Move items x (at most one per restart r) from clusters a to b: ``moved`` = (r, x, a, b).

    ``nonzeros`` = (columns, counts, rows of the sums, which move) of their nonzeros.
    Updates the sums and their φ, the masses, sizes, labels and, unless ``bound`` is
    None (restarts not screening yet), the bound table.
    """
    r, x, a, b = moved
    cols, q, rows, which = nonzeros
    k, n = state.mass.shape[1], labels.shape[1]
    at = np.concatenate([rows * k + a[which], rows * k + b[which]])  # out of a, into b
    old = state.joint.reshape(-1).take(at)
    new = old + np.concatenate([-q, q])
    np.maximum(new, 0.0, out=new)  # round-off of non-integer counts
    state.joint.reshape(-1)[at] = new
    state.phi_joint.reshape(-1)[at] = _xlogx(new)
    pair = np.concatenate([r * k + a, r * k + b])
    w = items.mass[x]
    mass = state.mass.reshape(-1)[pair] + np.concatenate([-w, w])
    np.maximum(mass, 0.0, out=mass)
    state.mass.reshape(-1)[pair] = mass
    state.phi_mass.reshape(-1)[pair] = _xlogx(mass)
    state.sizes.reshape(-1)[pair] += np.repeat([-1, 1], r.size)
    labels.reshape(-1)[r * n + x] = b
    if bound is None:
        return
    # the bounds for a and b change on the items that share a column with a moved item
    lengths = items.col_nnz[cols]
    entries, _ = _ranges(items.col_indptr[cols], lengths)
    qz = np.tile(items.col_data[entries], 2)
    per_entry = np.repeat(np.arange(cols.size), lengths)
    key = (which[per_entry] * 2) * n + items.col_rows[entries]
    half_c = np.tile(items.half_c[cols], 2)
    lin_old, sq_old = _upper_tables(old, half_c)
    lin_new, sq_new = _upper_tables(new, half_c)
    per_entry = np.concatenate([per_entry, per_entry + cols.size])
    change = ((sq_new - sq_old)[per_entry] * qz + (lin_new - lin_old)[per_entry]) * qz
    total = np.bincount(
        np.concatenate([key, key + n]), weights=change, minlength=2 * n * r.size
    ).reshape(r.size, 2, n)
    bound.reshape(-1, n)[pair] += total.transpose(1, 0, 2).reshape(-1, n)  # rows r·K + t


def _upper_tables(joint: Any, half_c: Any) -> tuple[Any, Any]:
    """The coefficients (A, B) of the bound φ(b + q) − φ(b) ≤ A·q + B·q² at b = ``joint``."""
    shifted = joint + half_c
    return np.log(shifted) + 1.0 - half_c / shifted, 0.5 / shifted


def _bound_table(items: _Items, joint: np.ndarray) -> np.ndarray:
    """(K, n): Σ_y A(b_ty)·q_xy + B(b_ty)·q_xy² for the sums ``joint`` (|Y|, K) of a restart.

    So d(x, t) − Σ_y φ(q_y) + φ(w) ≥ φ(w + W_t) − φ(W_t) − table[t, x] for every cluster t
    that does not hold x (see the module notes).
    """
    linear, square = _upper_tables(joint, items.half_c[:, None])
    return np.ascontiguousarray((items.linear_square @ np.vstack([linear, square])).T)

r"""The IB curve: the frontier of I(T;Y) against I(X;T) over all encoders.

:func:`ib_curve` traces the frontier by deterministic annealing (Rose 1998; the IB
version in Slonim's thesis, 2002, and Zaslavsky & Tishby 2019): β rises from 1, where
the trivial encoder is optimal (I(T;Y) ≤ I(X;T) makes the objective ≥ 0 for β ≤ 1), and
at each β every cluster is split in two, the copies leaning towards different members,
before the self-consistent equations are iterated from the previous solution. Copies
that do not separate are merged back, so the number of distinct clusters grows only at
the phase transitions of the problem. A second pass walks β back down from the minimal
sufficient statistic (the β → ∞ solution); at each β the solution with the lower
objective is kept, and a last pass re-solves any β at which another solution scores
better (the optimum at β must beat every achievable point on I(X;T) − β·I(T;Y)).

The Lagrangian only reaches the points where the frontier is strictly concave. Any
point on a chord between two achievable points is achievable too, by using one encoder
or the other at random (the mixture's I(X;T) is no larger than the chord, its I(T;Y) is
equal), so the curve reported is the upper concave envelope of every solution found,
together with (0, 0) and the minimal sufficient statistic (I(X;X̃), I(X;Y)), after
Pareto filtering. When Y is a deterministic function of X the Lagrangian finds only
those corners and the envelope is exactly the true curve I(T;Y) = min(I(X;T), H(Y))
(Kolchinsky, Tracey & Van Kuyk 2019).

Scale. The curve keeps each solution by its decoder (p(t), p(y|t)), |T|×|Y| numbers
whose encoder is one self-consistent update away, so memory does not grow with
|X|·|T| per β. Once a solve starts with more than 4·32 clusters (the solutions near the
minimal sufficient statistic, where |T| approaches |X|), each input keeps its 32 best
clusters by log p(t) − β·KL[p(y|x) ‖ p(y|t)] and the iterations run on those only: the
solution is that sparse encoder, scored exactly, and a step costs O(|X|·32·|Y|) instead
of O(|X|·|T|·|Y|). The automatic grid stops as soon as T = X̃ is optimal to 1e-5·I(X;Y)
(one update from it keeps I(T;Y) there), instead of waiting for the upward pass to
grow |T| to |X|.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np
from scipy import sparse
from scipy.special import xlogy

from ibkit._validation import (
    ConvergenceWarning,
    InvalidParameterError,
    Progress,
    check_array,
    check_callback,
    check_int,
    check_positive,
    check_random_state,
    check_units,
    from_nats,
)
from ibkit.ib._result import NEGLIGIBLE_MASS, CurveResult, IBResult, evaluate_encoder
from ibkit.ib.iterative import (
    ReducedProblem,
    check_alpha,
    check_n_clusters,
    decoder,
    encoder_from_decoder,
    iterate,
    prepare_joint,
    reduce_problem,
    update_encoder,
)
from ibkit.measures import entropy_nats, mutual_information_nats

__all__ = ["IBCurve", "ib_curve", "upper_concave_envelope"]

Decoder = tuple[np.ndarray, np.ndarray]
"""A solution stored by its decoder (p(t), p(y|t)); its encoder is one update away."""
Solution = Decoder | sparse.csr_matrix
"""How the curve keeps a solution: by its decoder, or as a sparse encoder."""


def _encoder_of(
    problem: ReducedProblem, sol: Solution | np.ndarray, beta: float, alpha: float
) -> np.ndarray:
    """The dense |X̃|×|T| encoder of a solution (a decoder's is rebuilt at ``beta``)."""
    if isinstance(sol, np.ndarray):
        return sol
    if sparse.issparse(sol):
        return sol.toarray()
    return encoder_from_decoder(problem, *sol, beta, alpha)[0]


def upper_concave_envelope(i_xt: Any, i_ty: Any) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the upper concave envelope of points, up to the highest I(T;Y).

    The envelope is the smallest concave, non-decreasing function lying above every
    point (the Pareto frontier of achievable points under mixing). Returned vertices are
    sorted by I(X;T); points to the right of the highest I(T;Y) are dominated and dropped.
    """
    x = check_array(i_xt, "i_xt", ndim=1)
    y = check_array(i_ty, "i_ty", ndim=1)
    if x.shape != y.shape:
        raise InvalidParameterError(
            f"i_xt and i_ty must hold one value per point; got {x.size} and {y.size} values"
        )
    order = np.lexsort((-y, x))
    hull: list[tuple[float, float]] = []
    for px, py in zip(x[order], y[order], strict=True):
        if hull and px == hull[-1][0]:
            continue  # same I(X;T): the first one has the largest I(T;Y)
        while len(hull) >= 2:
            (ax, ay), (bx, by) = hull[-2], hull[-1]
            # drop b when it lies on or below the chord from a to the new point
            if (bx - ax) * (py - ay) - (by - ay) * (px - ax) >= 0:
                hull.pop()
            else:
                break
        hull.append((px, py))
    hx, hy = np.array(hull).T
    top = int(np.argmax(hy))
    return hx[: top + 1], hy[: top + 1]


@dataclass(frozen=True, eq=False)
class IBCurve(CurveResult):
    """The IB curve of a joint distribution.

    Per-β arrays (ascending β) describe the Lagrangian solution kept at each β; the
    ``envelope_*`` arrays are the vertices of the frontier, the upper concave envelope of
    every solution found (see the module docstring). Values are in ``units``. Shares
    ``to_frame()`` (one row per β), ``to_dict()`` and ``plot()`` with the other curve
    results (:class:`~ibkit.ib.CurveResult`).

    Attributes
    ----------
    betas, i_xt, i_ty, h_t, objective : ndarray
        β and the solution kept at that β.
    n_clusters : ndarray of int
        Distinct clusters in use in each solution.
    envelope_i_xt, envelope_i_ty : ndarray
        Frontier vertices, from (0, 0) to the minimal sufficient statistic (to the best
        solution found when ``max_clusters`` caps |T| below its size).
    critical_betas : ndarray
        Estimated β of each phase transition (where the number of clusters first grows
        past its previous maximum): the geometric mean of the two grid values that
        bracket it.
    i_xy, h_y, h_x : float
        I(X;Y), H(Y) and H(X) of the problem.
    deterministic : bool
        True when Y is a function of X (then the frontier is min(I(X;T), H(Y))).
    alpha : float
        1 for IB, 0 for the deterministic IB (then the x-axis quantity H(T) equals
        I(X;T) for every solution).
    n_iter : ndarray of int
        Iterations of the solve that produced each kept solution.
    converged : ndarray of bool
        Whether the solver met its tolerance at each β.
    note : str
        A sentence on how to read the curve.
    """

    betas: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    h_t: np.ndarray
    objective: np.ndarray
    n_clusters: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    envelope_i_xt: np.ndarray
    envelope_i_ty: np.ndarray
    critical_betas: np.ndarray
    i_xy: float
    h_x: float
    h_y: float
    deterministic: bool
    alpha: float
    units: str
    note: str
    _problem: ReducedProblem = field(repr=False)
    _solutions: tuple[Solution, ...] = field(repr=False)

    _COLUMNS: ClassVar[dict[str, str]] = {
        "beta": "betas",
        "i_xt": "i_xt",
        "i_ty": "i_ty",
        "h_t": "h_t",
        "objective": "objective",
        "n_clusters": "n_clusters",
        "converged": "converged",
    }
    _PLOT: ClassVar[str] = "plot_ib_curve"

    def solution(self, index: int) -> IBResult:
        """The full :class:`IBResult` (encoder over the original X) at ``betas[index]``.

        The curve keeps each solution by its decoder (p(t), p(y|t)), whose encoder is
        one self-consistent update away, or as a sparse encoder (see ``_Annealer``); the
        encoder is rebuilt here exactly as the curve scored it.
        """
        n = len(self.betas)
        if (
            isinstance(index, bool)
            or not isinstance(index, (int, np.integer))
            or not (-n <= index < n)
        ):
            raise InvalidParameterError(f"index must be an integer in [{-n}, {n}); got {index!r}")
        return evaluate_encoder(
            self._problem.p_xy,
            self._problem.expand(
                _encoder_of(
                    self._problem, self._solutions[index], float(self.betas[index]), self.alpha
                ),
                hard=self.alpha == 0,
            ),
            beta=float(self.betas[index]),
            alpha=self.alpha,
            units=self.units,
            n_iter=int(self.n_iter[index]),
            converged=bool(self.converged[index]),
        )

    @property
    def transition_index(self) -> np.ndarray:
        """Indices k such that a phase transition lies between ``betas[k]`` and ``betas[k+1]``."""
        return _transition_index(self.n_clusters)

    @property
    def solutions(self) -> list[IBResult]:
        """Every kept solution as an :class:`IBResult`, in the order of ``betas``."""
        return [self.solution(i) for i in range(len(self.betas))]

    def i_ty_at(self, i_xt: Any) -> np.ndarray:
        """The frontier's I(T;Y) at given I(X;T) (linear between vertices, flat after)."""
        x = check_array(i_xt, "i_xt", ndim=(0, 1))
        return np.interp(x, self.envelope_i_xt, self.envelope_i_ty)


#: Entries scored at a time in a candidate iteration: their gathered decoder rows,
#: 8192·|Y| floats (1.3 MB at |Y| = 20), are read again while still in cache.
_ENTRY_BLOCK = 8192
#: How far below the IB curve the automatic grid lets a chord between neighbouring
#: solutions lie, as a share of I(X;Y) (see :func:`_chord_gap`). On the random 2000×20
#: joint of ``benchmarks/bench_ib_curve.py`` 1e-5 keeps the frontier within 3.9e-6·I(X;Y)
#: of the best 30-β frontier, with 158 β (1e-4: 3.5e-5·I(X;Y), 100 β); on the 200×10
#: joint of the tests, within 3.4e-6·I(X;Y).
_CHORD_GAP = 1e-5


class _Point(NamedTuple):
    """The scores of one solution, in nats (what the trace keeps besides the solution)."""

    h_t: float
    i_xt: float
    i_ty: float
    objective: float
    n_clusters: int
    n_iter: int
    converged: bool


@dataclass
class _Annealer:
    """Solves the reduced problem at one β, warm-started, with cluster splits (internal).

    A split replaces each of the heaviest clusters by two copies whose shares of each x
    differ by up to ±25 %, along a random direction of the members' conditionals. After
    ``n_probe`` free iterations, a pair of copies whose decoders p(y|t) drew apart is a
    real bifurcation and is kept; a pair that drew together is merged back. The encoder
    is then iterated to convergence, merging clusters whose decoders agree to
    ``decimals`` decimals (two clusters with one decoder are one cluster).

    Two ways to iterate, chosen by the number of clusters of the start:

    - dense (|T| ≤ 4·``width``, or α = 0, or some p(y|x) = 0): the |X̃|×|T| encoder,
      ending with one update from its decoder (p(t), p(y|t)), so the encoder is a
      function of the decoder, β and α (:func:`~ibkit.ib.iterative.encoder_from_decoder`)
      and the curve keeps only the |T|×|Y| decoder;
    - on candidates (|T| > 4·``width``): each input keeps the ``width`` clusters of
      highest score log p(t) − β·KL[p(y|x̃) ‖ p(y|t)] under the start's decoder, and the
      self-consistent equations are iterated with the softmax over those only (see
      :meth:`_solve_candidates`). The solution is that sparse encoder, an achievable
      encoder scored exactly; at the β where |T| is large an input's encoder sits on a
      few clusters close to it, so the mass left out is negligible. A step costs
      O(|X̃|·``width``·|Y|) time and memory instead of O(|X̃|·|T|·|Y|).
    """

    problem: ReducedProblem
    alpha: float
    max_iter: int
    tol: float
    max_clusters: int
    rng: np.random.Generator
    n_probe: int = 10
    decimals: int = 5
    #: Candidate clusters per input; iterations use them once |T| > 4·width.
    width: ClassVar[int] = 32
    #: Entries of one block of candidate scores (16 MiB).
    chunk: ClassVar[int] = 1 << 21

    @property
    def identity_allowed(self) -> bool:
        """Whether T = X̃ (one cluster per pooled input) respects the cap on |T|."""
        return self.max_clusters >= self.problem.n_inputs

    def identity(self) -> Decoder:
        """The decoder of T = X̃: p(t) = p(x̃), p(y|t) = p(y|x̃)."""
        return self.problem.p_x, self.problem.p_y_given_x

    def dense(self, sol: Solution | np.ndarray, beta: float) -> np.ndarray:
        """The |X̃|×|T| encoder of a solution (a decoder's is rebuilt at ``beta``)."""
        return _encoder_of(self.problem, sol, beta, self.alpha)

    def decoder_of(self, sol: Solution | np.ndarray) -> Decoder:
        """(p(t), p(y|t)) of a solution or of a dense encoder."""
        return sol if isinstance(sol, tuple) else decoder(self.problem, sol)

    def on_candidates(self, start: Solution | np.ndarray) -> bool:
        """Whether a solve from ``start`` iterates on candidate clusters (class notes)."""
        n_clusters = start[0].shape[0] if isinstance(start, tuple) else start.shape[1]
        return (
            n_clusters > 4 * self.width and self.alpha > 0 and bool(self.problem.p_y_given_x.all())
        )

    def solve(self, start: Solution | np.ndarray, beta: float) -> tuple[Solution, _Point]:
        """Iterate from ``start`` at ``beta``; returns the solution and its scores (nats)."""
        if self.on_candidates(start):
            return self._solve_candidates(self.decoder_of(start), beta)
        q, n_iter, converged = iterate(
            self.problem,
            self.dense(start, beta),
            beta,
            self.alpha,
            self.max_iter,
            self.tol,
            decimals=self.decimals,
        )
        dec = decoder(self.problem, q)
        res = evaluate_encoder(
            self.problem.joint,
            encoder_from_decoder(self.problem, *dec, beta, self.alpha)[0],
            beta=beta,
            alpha=self.alpha,
            units="nats",
            n_iter=n_iter + 1,
            converged=converged,
        )
        point = _Point(
            res.h_t, res.i_xt, res.i_ty, res.objective, res.n_clusters, res.n_iter, converged
        )
        return dec, point

    def split_and_solve(self, q: np.ndarray, beta: float) -> tuple[Solution, _Point]:
        """Try to split every cluster at ``beta`` and keep the splits that take.

        No split once |T| is past the dense range (4·``width`` clusters): there the
        downward pass from T = X̃ supplies the solutions with many clusters.
        """
        n_split = min(q.shape[1], self.max_clusters - q.shape[1])
        # for β ≤ 1 one cluster is optimal, as H(T) − α·H(T|X) ≥ I(X;T) ≥ I(T;Y) for α ≤ 1
        if n_split > 0 and beta > 1 and not self.on_candidates(q):
            q = self._split(q, beta, n_split)
        return self.solve(q, beta)

    def sufficient_at(self, beta: float, i_xy: float, rel: float = 1e-5) -> bool:
        """Whether one update from T = X̃ at ``beta`` keeps I(T;Y) ≥ (1 − ``rel``)·I(X;Y).

        Past that β the solutions are the minimal sufficient statistic up to ``rel``:
        the automatic grid can stop there (the downward pass starts from T = X̃). The
        update is restricted to ``width`` candidates per input when that is how the
        curve iterates with |X̃| clusters.
        """
        if not self.identity_allowed:
            return False
        if self.on_candidates(self.identity()):
            p_ty = np.asarray(self._candidates(self.identity(), beta).T @ self.problem.joint)
        else:
            p_ty = self.dense(self.identity(), beta).T @ self.problem.joint
        return i_xy - mutual_information_nats(p_ty) <= rel * i_xy

    def _candidates(self, dec: Decoder, beta: float) -> sparse.csr_matrix:
        """The encoder of a decoder restricted to each input's ``width`` best clusters.

        Scores s(x̃, t) = log p(t) − β·KL[p(y|x̃) ‖ p(y|t)] are computed in row blocks of
        at most ``chunk`` entries; each row keeps its ``width`` highest and takes the
        softmax of s/α over them.
        """
        p_t, p_y_given_t = dec
        live = p_t > 0
        p_t, p_y_given_t = p_t[live], p_y_given_t[live]
        n, n_t = self.problem.n_inputs, p_t.shape[0]
        k = min(self.width, n_t)
        weights = _right_factor(p_t, p_y_given_t, beta)
        left = self.problem.p_y_given_x_one_neg_h
        idx = np.empty((n, k), dtype=np.int64)
        val = np.empty((n, k))
        step = max(1, self.chunk // n_t)
        for lo in range(0, n, step):
            block = left[lo : lo + step] @ weights.T
            best = np.argpartition(block, n_t - k, axis=1)[:, n_t - k :]
            idx[lo : lo + step] = best
            val[lo : lo + step] = np.take_along_axis(block, best, axis=1)
        q = sparse.csr_matrix(
            (val.ravel(), idx.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n_t)
        )
        _row_softmax(q.data, q.indptr[:-1], _entry_rows(q), self.alpha, k)
        return q

    def _solve_candidates(self, dec: Decoder, beta: float) -> tuple[sparse.csr_matrix, _Point]:
        """Iterate on candidate clusters from the encoder of ``dec`` (see the class notes).

        Each step is the self-consistent update with the softmax restricted to the
        stored entries of the sparse encoder: p(t, y) = Σ_x̃ p(t|x̃) p(x̃, y), then
        p(t|x̃) ∝ exp([log p(t) − β·KL(p(y|x̃) ‖ p(y|t))]/α) over the candidates of x̃.
        Stops as :func:`~ibkit.ib.iterative.iterate` does (free energy within ``tol``,
        entries within √tol) or after ``max_iter`` steps; clusters are compacted every
        ten steps and at the end.
        """
        q = self._candidates(dec, beta)
        entries = _Entries(self.problem, q)
        free_energy = np.inf
        converged = False
        n_iter = 0
        while n_iter < self.max_iter and not converged:
            n_iter += 1
            before = q.data.copy()
            new_free_energy = _candidate_update(self.problem, q, entries, beta, self.alpha)
            converged = bool(
                abs(free_energy - new_free_energy) < self.tol
                and np.max(np.abs(q.data - before)) < np.sqrt(self.tol)
            )
            free_energy = new_free_energy
            if n_iter % 10 == 0 and not converged:
                compact = _compact_sparse(self.problem, q, self.decimals)
                if compact is not q:
                    q, entries = compact, _Entries(self.problem, compact)
        q = _compact_sparse(self.problem, q, self.decimals)
        return q, _score_sparse(self.problem, q, beta, self.alpha, n_iter, converged)

    def _split(self, q: np.ndarray, beta: float, n_split: int) -> np.ndarray:
        heavy = np.argsort(self.problem.p_x @ q)[::-1][:n_split]
        rest = np.setdiff1d(np.arange(q.shape[1]), heavy)
        parents = q[:, heavy]
        eta = self._split_direction(parents)
        trial = np.concatenate([parents * (1 + eta), parents * (1 - eta), q[:, rest]], axis=1)
        trial[:, : 2 * n_split] /= 2.0  # the two copies share their parent's mass
        gap_before = self._sibling_gap(trial, n_split)
        for _ in range(self.n_probe):
            trial, _ = update_encoder(self.problem, trial, beta, self.alpha)
        took = self._sibling_gap(trial, n_split) > gap_before
        first, second = trial[:, :n_split], trial[:, n_split : 2 * n_split]
        return np.concatenate(
            [
                first[:, took],
                second[:, took],
                first[:, ~took] + second[:, ~took],
                trial[:, 2 * n_split :],
            ],
            axis=1,
        )

    def _split_direction(self, parents: np.ndarray) -> np.ndarray:
        """Per-input share changes η ∈ [−¼, ¼] that pull a cluster's copies apart.

        η(x) is the projection of p(y|x) − p(y|t) on a random direction of the simplex,
        so the two copies lean towards different members of the cluster and their
        decoders differ unless every member has the same p(y|x).
        """
        _, centres = decoder(self.problem, parents)
        directions = self.rng.standard_normal(centres.shape)
        eta = self.problem.p_y_given_x @ directions.T - (centres * directions).sum(axis=1)
        scale = np.abs(eta).max(axis=0)
        return 0.25 * np.divide(eta, scale, out=np.zeros_like(eta), where=scale > 0)

    def _sibling_gap(self, q: np.ndarray, n_split: int) -> np.ndarray:
        """L1 distance between the decoders of each pair of copies."""
        _, p_y_given_t = decoder(self.problem, q[:, : 2 * n_split])
        return np.abs(p_y_given_t[:n_split] - p_y_given_t[n_split:]).sum(axis=1)


def _right_factor(p_t: np.ndarray, p_y_given_t: np.ndarray, beta: float) -> np.ndarray:
    """[β log p(y|t), log p(t), −β] per cluster.

    With the left factor [p(y|x̃), 1, Σ_y p(y|x̃) log p(y|x̃)] the product is
    log p(t) − β·KL[p(y|x̃) ‖ p(y|t)]. Empty clusters get log p(t) = −∞ (and
    log p(y|t) = 0), so they score −∞. Needs p(y|t) > 0 for every cluster with mass.
    """
    weights = np.empty((p_t.shape[0], p_y_given_t.shape[1] + 2))
    with np.errstate(divide="ignore"):
        np.log(np.where(p_t[:, None] > 0, p_y_given_t, 1.0), out=weights[:, :-2])
        np.log(p_t, out=weights[:, -2])
    weights[:, :-2] *= beta
    weights[:, -1] = -beta
    return weights


def _entry_rows(q: sparse.csr_matrix) -> np.ndarray:
    """The row of every stored entry of a CSR matrix."""
    return np.repeat(np.arange(q.shape[0]), np.diff(q.indptr))


class _Entries:
    """What a candidate iteration needs of a sparse encoder's fixed pattern of entries.

    ``rows`` is the row x̃ of every entry and ``p_y_given_x`` its p(y|x̃) (shape
    (entries, |Y|)); ``width`` is the number of entries per row when every row has the
    same (the softmax then works on a reshaped view), else None.
    """

    def __init__(self, problem: ReducedProblem, q: sparse.csr_matrix) -> None:
        self.rows = _entry_rows(q)
        self.p_y_given_x = problem.p_y_given_x[self.rows]
        counts = np.diff(q.indptr)
        self.width = int(counts[0]) if (counts == counts[0]).all() else None


def _row_softmax(
    data: np.ndarray, starts: np.ndarray, rows: np.ndarray, alpha: float, width: int | None = None
) -> np.ndarray:
    """Softmax of s/α within each row of CSR entries ``data``, in place.

    ``starts`` are the row offsets (``indptr[:-1]``, every row non-empty) and ``rows``
    the row of every entry; with ``width``, every row has that many entries. Returns
    log Σ_t exp(s(x̃,t)/α) per row (the row maximum is subtracted first, so nothing
    overflows).
    """
    if alpha != 1:
        data /= alpha
    if width is not None:
        block = data.reshape(-1, width)
        top = block.max(axis=1)
        block -= top[:, None]
        np.exp(block, out=block)
        norm = block.sum(axis=1)
        block /= norm[:, None]
        return top + np.log(norm)
    top = np.maximum.reduceat(data, starts)
    data -= top[rows]
    np.exp(data, out=data)
    norm = np.add.reduceat(data, starts)
    data /= norm[rows]
    return top + np.log(norm)


def _candidate_update(
    problem: ReducedProblem, q: sparse.csr_matrix, entries: _Entries, beta: float, alpha: float
) -> float:
    """One self-consistent step over the stored entries of a sparse encoder, in place.

    An entry's score is log p(t) − β·KL[p(y|x̃) ‖ p(y|t)] = s'(x̃,t) − β Σ_y p(y|x̃)
    log p(y|x̃), with s' = log p(t) + β Σ_y p(y|x̃) log p(y|t); the second term is the
    same for every entry of a row, so the softmax takes s' alone (a dot product over
    |Y| per entry) and the row's term enters the free energy only. Returns
    F = −α Σ_x̃ p(x̃) log Σ_{t ∈ C(x̃)} exp([log p(t) − β·KL(x̃, t)]/α) in nats.
    """
    weights = _right_factor(*decoder(problem, q), beta)  # an emptied cluster scores −∞
    cross = np.ascontiguousarray(weights[:, :-2])  # β log p(y|t), gathered row by row
    log_p_t = weights[:, -2]
    scores = q.data
    for lo in range(0, scores.size, _ENTRY_BLOCK):  # the gathered rows stay in cache
        block = slice(lo, lo + _ENTRY_BLOCK)
        gathered = cross.take(q.indices[block], axis=0)
        np.einsum("ej,ej->e", entries.p_y_given_x[block], gathered, out=scores[block])
    scores += log_p_t.take(q.indices)
    log_z = _row_softmax(scores, q.indptr[:-1], entries.rows, alpha, entries.width)
    return beta * float(problem.p_x @ problem.neg_h_y_given_x) - alpha * float(problem.p_x @ log_z)


def _compact_sparse(
    problem: ReducedProblem, q: sparse.csr_matrix, decimals: int
) -> sparse.csr_matrix:
    """Drop clusters of negligible mass and merge clusters whose decoders agree.

    As :func:`~ibkit.ib.iterative.compact_clusters` for a sparse encoder: clusters with
    p(t) ≤ 1e-15 (those :func:`~ibkit.ib.evaluate_encoder` drops) lose their entries and
    rows are renormalised (an input left with none joins the heaviest cluster); clusters
    whose p(y|t) agree to ``decimals`` decimals become one.
    """
    p_t, p_y_given_t = decoder(problem, q)
    live = p_t > NEGLIGIBLE_MASS
    label = np.full(p_t.shape[0], -1)
    _, inverse = np.unique(np.round(p_y_given_t[live], decimals), axis=0, return_inverse=True)
    label[live] = inverse.reshape(-1)
    n_new = int(label.max()) + 1
    if live.all() and n_new == p_t.shape[0]:
        return q
    rows, cols = _entry_rows(q), label[q.indices]
    keep = cols >= 0
    rows, cols, data = rows[keep], cols[keep], q.data[keep]
    orphans = np.flatnonzero(np.bincount(rows, weights=data, minlength=q.shape[0]) == 0)
    if orphans.size:
        heaviest = label[np.argmax(np.where(live, p_t, -1.0))]
        rows = np.concatenate([rows, orphans])
        cols = np.concatenate([cols, np.full(orphans.size, heaviest)])
        data = np.concatenate([data, np.ones(orphans.size)])
    new = sparse.csr_matrix((data, (rows, cols)), shape=(q.shape[0], n_new))
    new.sum_duplicates()
    new.data /= np.add.reduceat(new.data, new.indptr[:-1])[_entry_rows(new)]
    return new


def _score_sparse(
    problem: ReducedProblem,
    q: sparse.csr_matrix,
    beta: float,
    alpha: float,
    n_iter: int,
    converged: bool,
) -> _Point:
    """H(T), I(X;T), I(T;Y) and the objective of a sparse encoder, as
    :func:`~ibkit.ib.evaluate_encoder` computes them, in O(entries·|Y|)."""
    p_xt = problem.p_x[_entry_rows(q)] * q.data
    p_t = np.bincount(q.indices, weights=p_xt, minlength=q.shape[1])
    p_t /= p_t.sum()
    h_t = float(entropy_nats(p_t))
    h_t_given_x = float(-xlogy(p_xt, q.data).sum())
    i_ty = mutual_information_nats(np.asarray(q.T @ problem.joint))
    objective = h_t - alpha * h_t_given_x - beta * i_ty
    return _Point(
        h_t,
        max(h_t - h_t_given_x, 0.0),
        i_ty,
        objective,
        int(np.count_nonzero(p_t > 0)),
        n_iter,
        converged,
    )


@dataclass
class _Trace:
    """Solutions found so far, kept sorted by β (internal)."""

    betas: list[float]
    solutions: list[Solution]
    points: list[_Point]

    def offer(self, k: int, sol: Solution, point: _Point) -> None:
        """Keep the solution at position ``k`` if it has the lower objective."""
        if point.objective < self.points[k].objective - 1e-12:
            self.solutions[k], self.points[k] = sol, point

    def insert(self, k: int, beta: float, sol: Solution, point: _Point) -> None:
        self.betas.insert(k, beta)
        self.solutions.insert(k, sol)
        self.points.insert(k, point)

    def scores_at(self, beta: float, alpha: float) -> np.ndarray:
        """Objective H(T) − α·H(T|X) − β·I(T;Y) of every kept solution at ``beta``."""
        h_t, i_xt, i_ty = (
            np.array([getattr(p, f) for p in self.points]) for f in ("h_t", "i_xt", "i_ty")
        )
        return h_t - alpha * (h_t - i_xt) - beta * i_ty


def _forward(
    solver: _Annealer,
    betas: Sequence[float] | None,
    i_xy: float,
    h_xr: float,
    beta_max: float,
) -> _Trace:
    """Anneal upwards in β with splits, over ``betas`` or, when None, an automatic grid.

    The automatic grid starts at β = 1 and grows by 25 % a step until β is past
    1.25·H(X̃)/I(X;Y) and either I(T;Y) is within 1e-4·I(X;Y) of I(X;Y), or T = X̃
    scores better than the solution found and one update from it keeps I(T;Y) within
    1e-5·I(X;Y) of I(X;Y) (past that β the optimum is T = X̃ to that precision, and the
    downward pass starts there), or β reaches ``beta_max``.
    """
    q: Solution | np.ndarray = np.ones((solver.problem.n_inputs, 1))
    trace = _Trace([], [], [])
    beta = 1.0 if betas is None else float(betas[0])
    # past H(X̃)/I(X;Y) the sufficient statistic beats the trivial encoder for any α
    beta_enough = 1.25 * h_xr / i_xy if i_xy > 0 else 1.0
    while True:
        if isinstance(q, np.ndarray):
            sol, point = solver.split_and_solve(q, beta)
        else:
            sol, point = solver.solve(q, beta)
        trace.insert(len(trace.betas), beta, sol, point)
        q = sol if sparse.issparse(sol) else solver.dense(sol, beta)
        if betas is not None:
            if len(trace.betas) == len(betas):
                return trace
            beta = float(betas[len(trace.betas)])
        elif beta >= beta_max or (
            beta >= beta_enough
            and (
                i_xy - point.i_ty <= 1e-4 * i_xy
                or (h_xr - beta * i_xy <= point.objective and solver.sufficient_at(beta, i_xy))
            )
        ):
            return trace
        else:
            beta = min(beta * 1.25, beta_max)


def _reverse(solver: _Annealer, trace: _Trace) -> None:
    """Anneal downwards from the minimal sufficient statistic (T = X̃, optimal as β → ∞)."""
    sol = solver.identity() if solver.identity_allowed else trace.solutions[-1]
    for k in range(len(trace.betas) - 1, -1, -1):
        sol, point = solver.solve(sol, trace.betas[k])
        trace.offer(k, sol, point)


def _chord_gap(lo: _Point, hi: _Point, beta_lo: float, beta_hi: float) -> float:
    """How far the IB curve (α = 1) can rise above the chord between two of its points.

    At the optimum of β the curve's slope is dI(T;Y)/dI(X;T) = 1/β, and the concave curve
    lies under its tangents, so between the points it lies under both tangents: the chord
    sags below the curve by at most the height of the tangents' crossing above it. 0
    where the points are not in order or the tangents do not cross between them (the
    solutions are not optima there).
    """
    dx, s_lo, s_hi = hi.i_xt - lo.i_xt, 1.0 / beta_lo, 1.0 / beta_hi
    if dx <= 0 or s_lo <= s_hi:
        return 0.0
    x = (hi.i_ty - lo.i_ty + s_lo * lo.i_xt - s_hi * hi.i_xt) / (s_lo - s_hi)
    if not lo.i_xt <= x <= hi.i_xt:
        return 0.0
    return (x - lo.i_xt) * (s_lo - (hi.i_ty - lo.i_ty) / dx)


def _refine(
    solver: _Annealer, trace: _Trace, step_x: float, step_y: float, gap: float, budget: int
) -> None:
    """Insert β midway where neighbouring solutions are far apart.

    Far apart: more than ``step_x`` in I(X;T) or ``step_y`` in I(T;Y), or, for the IB
    (α = 1), a chord between them that may lie more than ``gap`` below the curve
    (:func:`_chord_gap`). The new β, midway (geometric mean), is solved warm from both
    neighbours and the better solution kept, or only from the kept solution (of any β)
    that scores best at the new β where a neighbour has more clusters than the dense
    range or only the chord's sag is at stake (the polishing pass, which also tries
    T = X̃, would otherwise often re-solve from it). Rounds repeat until the curve is
    resolved so, neighbouring β are within 1 % of each other, or ``budget`` new β are
    spent.
    """
    while budget > 0:
        todo = []
        for k in range(len(trace.betas) - 1):
            lo, hi = trace.points[k], trace.points[k + 1]
            b_lo, b_hi = trace.betas[k], trace.betas[k + 1]
            if b_hi <= 1.01 * b_lo:
                continue
            if abs(hi.i_xt - lo.i_xt) > step_x or abs(hi.i_ty - lo.i_ty) > step_y:
                todo.append((k, float(np.sqrt(b_lo * b_hi)), False))
            elif solver.alpha == 1.0 and _chord_gap(lo, hi, b_lo, b_hi) > gap:
                todo.append((k, float(np.sqrt(b_lo * b_hi)), True))
        if not todo:
            return
        for k, beta, one in reversed(todo[:budget]):
            starts = trace.solutions[k], trace.solutions[k + 1]
            if one or any(solver.on_candidates(s) for s in starts):  # the best one only
                starts = (trace.solutions[int(np.argmin(trace.scores_at(beta, solver.alpha)))],)
            trace.insert(k + 1, beta, *solver.solve(starts[0], beta))
            for start in starts[1:]:
                trace.offer(k + 1, *solver.solve(start, beta))
        budget -= len(todo)


def ib_curve(
    p_xy: Any,
    betas: Sequence[float] | np.ndarray | None = None,
    *,
    alpha: float = 1.0,
    method: str = "anneal",
    max_clusters: int | None = None,
    beta_max: float = 1e4,
    resolution: float = 0.02,
    max_iter: int | None = None,
    tol: float = 1e-10,
    units: str = "bits",
    normalize: bool = False,
    random_state: Any = None,
    progress: Progress | None = None,
) -> IBCurve:
    r"""Trace the IB curve of a joint distribution by deterministic annealing.

    Parameters
    ----------
    p_xy : array_like, shape (|X|, |Y|)
        The joint distribution (counts with ``normalize=True``).
    betas : sequence of float, optional
        β values to solve at (any order; results come sorted). When omitted, a grid
        starts at β = 1 (always the trivial solution) and grows geometrically until β
        is past 1.25·H(X̃)/I(X;Y) (where the sufficient statistic beats the trivial
        encoder) and either I(T;Y) is within 1e-4·I(X;Y) of I(X;Y) or T = X̃ is optimal
        to 1e-5·I(X;Y) (it scores better and one update from it keeps I(T;Y) that
        close), or β reaches ``beta_max``; it is then refined wherever neighbouring
        solutions are further apart than ``resolution`` of the plane's extent or, for
        the IB (α = 1), the chord between them may lie more than 1e-5·I(X;Y) below the
        curve (bounded by the tangents of slope 1/β at the two solutions).
    alpha : float
        1 for IB (Tishby et al. 2000), 0 for the deterministic IB (Strouse & Schwab 2017),
        in between (within [0, 1]) for the generalised IB.
    method : {"anneal"}
        Deterministic annealing with splits, plus a reverse pass from the minimal
        sufficient statistic (:func:`ibkit.ib.agglomerative_ib` gives the hard,
        bottom-up alternative).
    max_clusters : int, optional
        Cap on |T|, in [1, |X|] (default: the number of distinct conditionals p(y|x)).
    beta_max, resolution : float
        Largest β and relative resolution of the automatic grid.
    max_iter, tol : int or None, float
        Per-β limits of the self-consistent iterations (``tol`` bounds the change of the
        free energy in nats per iteration); β values that did not converge are flagged
        in ``converged`` and reported in one :class:`~ibkit.ConvergenceWarning`.
        ``max_iter`` defaults to 1000 when at most 100 inputs have distinct
        conditionals, else 40: a point stopped early is still an achievable point on
        the frontier, only slightly away from the exact optimum of its β (on a random
        2000 × 20 joint, 100 iterations brought the frontier no closer to the best one
        known than 40 did, at twice the time).
    units : {"bits", "nats"}
    normalize : bool
        Accept counts by dividing ``p_xy`` by its sum.
    random_state : None, int or numpy.random.Generator
        Seeds the split perturbations; the same seed gives the same curve.
    progress : callable(done, total), optional
        Called after each of the three stages (upward annealing, downward annealing,
        refinement and polishing) with ``(stage, 3)``.

    Returns
    -------
    IBCurve

    Examples
    --------
    >>> import numpy as np
    >>> from ibkit.ib import ib_curve
    >>> p_xy = np.array([[0.45, 0.05], [0.05, 0.45]])  # a binary symmetric channel, ε = 0.1
    >>> curve = ib_curve(p_xy, random_state=0)
    >>> round(float(curve.critical_betas[0]), 2)  # theory: 1 / (1 − 2ε)² = 1.5625
    1.57
    >>> bool(abs(curve.envelope_i_ty[-1] - curve.i_xy) < 1e-9)
    True
    """
    p_xy = prepare_joint(p_xy, normalize)
    opts = check_curve_options(
        betas=betas,
        alpha=alpha,
        method=method,
        max_clusters=max_clusters,
        beta_max=beta_max,
        resolution=resolution,
        max_iter=max_iter,
        tol=tol,
        units=units,
        progress=progress,
        n_inputs=p_xy.shape[0],
    )
    rng = check_random_state(random_state)
    problem = reduce_problem(p_xy)
    cap = problem.n_inputs if opts.max_clusters is None else opts.max_clusters
    max_iter = opts.max_iter
    if max_iter is None:  # iterations are cheap on small problems, dear on large ones
        max_iter = 1000 if problem.n_inputs <= 100 else 40
    solver = _Annealer(problem, opts.alpha, max_iter, opts.tol, cap, rng)

    i_xy = mutual_information_nats(p_xy)
    h_xr = float(entropy_nats(problem.p_x))  # I(X;X̃): the sufficient statistic's I(X;T)
    grid = None if opts.betas is None else list(opts.betas)
    trace = _forward(solver, grid, i_xy, h_xr, opts.beta_max)
    _report(opts.progress, 1)
    _reverse(solver, trace)
    _report(opts.progress, 2)
    if grid is None:
        # polishing can replace solutions by far better ones, opening gaps: refine twice
        steps = opts.resolution * max(h_xr, 1e-12), opts.resolution * max(i_xy, 1e-12)
        steps += (_CHORD_GAP * i_xy,)
        budget = 4 * len(trace.betas)
        _refine(solver, trace, *steps, budget=budget)
        _polish(solver, trace)
        _refine(solver, trace, *steps, budget=budget)
    _polish(solver, trace)
    _report(opts.progress, 3)
    return _assemble(problem, trace, i_xy, h_xr, opts.alpha, opts.units, cap)


class CurveOptions(NamedTuple):
    """The options of :func:`ib_curve` as checked by :func:`check_curve_options`."""

    betas: np.ndarray | None
    alpha: float
    max_clusters: int | None
    beta_max: float
    resolution: float
    max_iter: int | None
    tol: float
    units: str
    progress: Progress | None


def check_curve_options(
    *,
    betas: Any,
    alpha: Any,
    method: Any,
    max_clusters: Any,
    beta_max: Any,
    resolution: Any,
    max_iter: Any,
    tol: Any,
    units: Any,
    progress: Any,
    n_inputs: int,
) -> CurveOptions:
    """Check the options of :func:`ib_curve` (all but the joint distribution).

    ``n_inputs`` is |X|, the bound of ``max_clusters``. Returns the values to use
    (``betas`` sorted, or None).

    Raises
    ------
    InvalidParameterError
        Naming the first option out of its range, with the value received.
    """
    alpha = check_alpha(alpha)
    units = check_units(units)
    if method != "anneal":
        raise InvalidParameterError(f"method must be 'anneal'; got {method!r}")
    if max_iter is not None:
        max_iter = check_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    beta_max = check_positive(beta_max, "beta_max")
    if beta_max <= 1:
        raise InvalidParameterError(
            f"beta_max must be > 1 (every beta <= 1 gives the trivial encoder); got {beta_max:g}"
        )
    resolution = check_positive(resolution, "resolution")
    grid = None
    if betas is not None:
        grid = np.sort(np.atleast_1d(check_array(betas, "betas", ndim=(0, 1))))
        if (grid <= 0).any():
            raise InvalidParameterError(f"betas must all be > 0; got min {grid.min():g}")
    progress = check_callback(progress, "progress")
    if max_clusters is not None:
        max_clusters = check_n_clusters(max_clusters, "max_clusters", n_inputs)
    return CurveOptions(
        grid, alpha, max_clusters, beta_max, resolution, max_iter, tol, units, progress
    )


def _report(progress: Progress | None, stage: int) -> None:
    if progress is not None:
        progress(stage, 3)


def _polish(solver: _Annealer, trace: _Trace, max_rounds: int = 5) -> None:
    """Re-solve each β from any other solution that scores better there.

    Solution j scores H(T_j) − α·H(T_j|X) − β_k·I(T_j;Y) at β_k, read off its reported
    quantities. The candidates are every kept solution plus, unless |T| is capped, the
    minimal sufficient statistic T = X̃ (H(T) = I(X;T) = H(X̃), I(T;Y) = I(X;Y)). Where a
    candidate beats the solution kept at β_k, the equations are iterated at β_k from the
    candidate's encoder (rebuilt at β_k from its decoder) and the result offered.
    """
    problem = solver.problem
    identity = solver.identity_allowed
    # the minimal sufficient statistic's H(T) − α·H(T|X) and I(T;Y), when it is a candidate
    extra_fixed, extra_i_ty = (
        ([entropy_nats(problem.p_x)], [mutual_information_nats(problem.joint)])
        if identity
        else ([], [])
    )
    for _ in range(max_rounds):
        h_t, i_xt, i_ty = (
            np.array([getattr(p, name) for p in trace.points]) for name in ("h_t", "i_xt", "i_ty")
        )
        fixed = np.append(h_t - solver.alpha * (h_t - i_xt), extra_fixed)
        i_ty = np.append(i_ty, extra_i_ty)
        scores = fixed[None, :] - np.array(trace.betas)[:, None] * i_ty[None, :]
        best = scores.argmin(axis=1)
        rows = np.arange(len(trace.betas))
        todo = np.flatnonzero(scores[rows, best] < scores[rows, rows] - 1e-12)
        if todo.size == 0:
            return
        for k in todo:
            start = trace.solutions[best[k]] if best[k] < len(rows) else solver.identity()
            trace.offer(k, *solver.solve(start, trace.betas[k]))


def _transition_index(n_clusters: np.ndarray) -> np.ndarray:
    """Indices k where |T| at the next β first exceeds every value it had before."""
    return np.flatnonzero(n_clusters[1:] > np.maximum.accumulate(n_clusters)[:-1])


def _assemble(
    problem: ReducedProblem,
    trace: _Trace,
    i_xy: float,
    h_xr: float,
    alpha: float,
    units: str,
    max_clusters: int,
) -> IBCurve:
    """Collect the per-β solutions into an :class:`IBCurve` (values in ``units``)."""
    betas, results = trace.betas, trace.points
    i_xt = np.array([r.i_xt for r in results])
    i_ty = np.array([r.i_ty for r in results])
    n_clusters = np.array([r.n_clusters for r in results])
    converged = np.array([r.converged for r in results])
    # the minimal sufficient statistic (I(X;X̃), I(X;Y)) is achievable unless |T| is capped
    capped = problem.n_inputs > max_clusters
    corner_x, corner_y = ([0.0], [0.0]) if capped else ([0.0, h_xr], [0.0, i_xy])
    env_x, env_y = upper_concave_envelope(
        np.concatenate([corner_x, i_xt]), np.concatenate([corner_y, i_ty])
    )
    change = _transition_index(n_clusters)
    beta_arr = np.array(betas)
    critical = np.sqrt(beta_arr[change] * beta_arr[change + 1])
    h_y = float(entropy_nats(problem.p_xy.sum(axis=0)))
    deterministic = bool(np.all(np.isin(problem.p_y_given_x, (0.0, 1.0))))
    if deterministic:
        note = (
            "Y is a deterministic function of X: the IB Lagrangian only reaches the corners, "
            "and the frontier is I(T;Y) = min(I(X;T), H(Y)), traced by mixing them."
        )
    else:
        note = (
            "The frontier is the upper concave envelope of the solutions found; points "
            "between vertices are reached by mixing the neighbouring encoders."
        )
    if not converged.all():
        warnings.warn(
            f"ib_curve: {int((~converged).sum())} of {len(betas)} beta values did not "
            "converge within max_iter (typical next to a phase transition); increase "
            "max_iter or tol for tighter solutions there.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return IBCurve(
        betas=beta_arr,
        i_xt=from_nats(i_xt, units),
        i_ty=from_nats(i_ty, units),
        h_t=from_nats(np.array([r.h_t for r in results]), units),
        objective=from_nats(np.array([r.objective for r in results]), units),
        n_clusters=n_clusters,
        n_iter=np.array([r.n_iter for r in results]),
        converged=converged,
        envelope_i_xt=from_nats(env_x, units),
        envelope_i_ty=from_nats(env_y, units),
        critical_betas=critical,
        i_xy=float(from_nats(i_xy, units)),
        h_x=float(from_nats(entropy_nats(problem.p_xy.sum(axis=1)), units)),
        h_y=float(from_nats(h_y, units)),
        deterministic=deterministic,
        alpha=alpha,
        units=units,
        note=note,
        _problem=problem,
        _solutions=tuple(trace.solutions),
    )

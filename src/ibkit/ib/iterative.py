r"""Iterative (self-consistent) Information Bottleneck, generalised to DIB.

The IB problem (Tishby, Pereira & Bialek 2000) asks for an encoder p(t|x) minimising
I(X;T) − β·I(T;Y) along the Markov chain Y — X — T. Its stationary points satisfy

.. math::

    p(t|x) = \frac{p(t)}{Z(x,\beta)} \exp\big(-\beta\, D_{KL}[p(y|x)\,\|\,p(y|t)]\big),\quad
    p(t) = \sum_x p(x)p(t|x),\quad p(y|t) = \frac{1}{p(t)}\sum_x p(x,y)p(t|x),

and iterating them is a Blahut–Arimoto-style alternating minimisation that decreases the
objective monotonically to a local optimum. Strouse & Schwab (2017) generalise the
objective to H(T) − α·H(T|X) − β·I(T;Y), whose update is

.. math::

    p(t|x) \propto \exp\Big(\tfrac{1}{\alpha}\big[\log p(t) - \beta\, d(x,t)\big]\Big),

α = 1 giving IB and α → 0 the deterministic IB (DIB), whose encoder is the hard
assignment :math:`f(x) = \arg\max_t [\log p(t) - \beta d(x,t)]`.

Implementation notes
--------------------
- The divergence for all (x, t) is one matrix product,
  :math:`d = \sum_y p(y|x)\log p(y|x) - p(y|x)\,[\log p(y|t)]^\top`, and the update
  is a softmax over t taken after subtracting each row's maximum, so large β gives no
  overflow and no NaN. Zeros of p(y|t) are handled exactly (d = +∞ where x puts mass
  on such y) rather than by adding a small constant.
- Inputs x whose conditionals p(y|x) are identical (to 10 decimals) are solved as one:
  the update makes their encoder rows equal after one step, so the reduction is exact
  and makes problems with a few distinct conditionals (such as a deterministic
  labelling) cheap.
- Clusters that lose all mass are dropped, and clusters whose decoders p(y|t) coincide
  are merged; both leave the objective unchanged (for α ≤ 1 merging can only lower it),
  so the effective |T| is the number of distinct clusters in use.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import xlogy

from ibkit._validation import (
    SUM_TOL,
    ConvergenceWarning,
    InvalidParameterError,
    check_array,
    check_int,
    check_positive,
    check_probabilities,
    check_random_state,
    check_units,
)
from ibkit.ib._result import IBResult, evaluate_encoder

__all__ = ["iterative_ib"]

#: Decimals to which conditionals p(y|x) are rounded to decide that two inputs coincide.
_SAME_DECIMALS = 10
#: Decimals to which decoders p(y|t) are compared when merging clusters.
_CLUSTER_DECIMALS = 8
#: Relative difference of objectives below which two starts reached the same optimum.
_SAME_OBJECTIVE = 1e-6


def sum_rows_by_label(rows: np.ndarray, labels: np.ndarray, n_labels: int) -> np.ndarray:
    """Sum the rows of a matrix that share a label: out[k] = Σ_{i: labels[i]=k} rows[i]."""
    one_hot = sparse.csr_matrix(
        (np.ones(labels.shape[0]), (labels, np.arange(labels.shape[0]))),
        shape=(n_labels, labels.shape[0]),
    )
    return np.asarray(one_hot @ rows)


@dataclass(frozen=True, eq=False)
class ReducedProblem:
    """A joint p(x,y) with inputs of identical conditional p(y|x) pooled.

    ``groups[x]`` is the pooled input x̃ of each original x (−1 for rows of zero mass).
    """

    p_xy: np.ndarray  # the original joint, normalised
    groups: np.ndarray  # (|X|,) index of x̃ for each x
    p_x: np.ndarray  # (|X̃|,)
    p_y_given_x: np.ndarray  # (|X̃|, |Y|)
    neg_h_y_given_x: np.ndarray  # (|X̃|,) Σ_y p(y|x̃) log p(y|x̃)

    @property
    def n_inputs(self) -> int:
        return self.p_x.shape[0]

    @cached_property
    def joint(self) -> np.ndarray:
        """p(x̃, y) of the pooled inputs."""
        return self.p_x[:, None] * self.p_y_given_x

    @cached_property
    def p_y_given_x_one_neg_h(self) -> np.ndarray:
        """[p(y|x̃), 1, Σ_y p(y|x̃) log p(y|x̃)]: the left factor of the assignment scores."""
        return np.column_stack([self.p_y_given_x, np.ones(self.n_inputs), self.neg_h_y_given_x])

    def expand(self, q: np.ndarray, *, hard: bool = False) -> np.ndarray:
        """Encoder over the original X from one over pooled inputs.

        Rows of zero mass carry no weight; they get p(t), or with ``hard`` the heaviest
        cluster, so that a deterministic encoder stays deterministic.
        """
        p_t = self.p_x @ q
        full = np.empty((self.groups.shape[0], q.shape[1]))
        live = self.groups >= 0
        full[live] = q[self.groups[live]]
        full[~live] = np.eye(q.shape[1])[np.argmax(p_t)] if hard else p_t
        return full

    def pool(self, encoder: np.ndarray) -> np.ndarray:
        """p(x)-weighted average of an encoder over each pooled input (exact, see module)."""
        p_x_full = self.p_xy.sum(axis=1)
        live = self.groups >= 0
        weighted = p_x_full[live, None] * encoder[live]
        return sum_rows_by_label(weighted, self.groups[live], self.n_inputs) / self.p_x[:, None]


def reduce_problem(p_xy: np.ndarray) -> ReducedProblem:
    """Pool the inputs of a normalised joint whose conditionals p(y|x) coincide."""
    p_x_full = p_xy.sum(axis=1)
    live = p_x_full > 0
    cond = p_xy[live] / p_x_full[live, None]
    _, first, inverse = np.unique(
        np.round(cond, _SAME_DECIMALS), axis=0, return_index=True, return_inverse=True
    )
    inverse = inverse.reshape(-1)
    groups = np.full(p_xy.shape[0], -1)
    groups[live] = inverse
    p_x = np.bincount(inverse, weights=p_x_full[live])
    p_y_given_x = cond[first]
    return ReducedProblem(
        p_xy=p_xy,
        groups=groups,
        p_x=p_x,
        p_y_given_x=p_y_given_x,
        neg_h_y_given_x=xlogy(p_y_given_x, p_y_given_x).sum(axis=1),
    )


def decoder(problem: ReducedProblem, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p(t) and p(y|t) implied by an encoder q = p(t|x̃) (dense, or a scipy sparse
    matrix); empty clusters get p(y|t) = 0.

    p(t, y) = qᵀ·p(x̃, y) is one product, and p(t) = Σ_y p(t, y) its row sums.
    """
    p_ty = np.asarray(q.T @ problem.joint)
    p_t = p_ty.sum(axis=1)
    if p_t.all():
        p_ty /= p_t[:, None]
        return p_t, p_ty
    return p_t, np.divide(p_ty, p_t[:, None], out=np.zeros_like(p_ty), where=p_t[:, None] > 0)


def assignment_scores(
    problem: ReducedProblem,
    p_t: np.ndarray,
    p_y_given_t: np.ndarray,
    beta: float,
    rows: np.ndarray | slice = slice(None),
) -> np.ndarray:
    """s(x̃,t) = log p(t) − β·KL[p(y|x̃) ‖ p(y|t)] for all pairs, as one matrix product.

    With the left factor [p(y|x̃), 1, Σ_y p(y|x̃) log p(y|x̃)] and the right factor
    [β log p(y|t), log p(t), −β], the product is
    log p(t) + β Σ_y p(y|x̃) log p(y|t) − β Σ_y p(y|x̃) log p(y|x̃). Every score is ≤ 0
    (Gibbs' inequality, up to round-off), so exp(s) cannot overflow. It is −∞ exactly
    where t is empty or gives no mass to a y on which x̃ puts some. ``rows`` selects the
    inputs x̃ to score (all by default).
    """
    if p_y_given_t.all():  # the common case: one product
        weights = np.empty((p_t.shape[0], problem.p_y_given_x.shape[1] + 2))
        np.log(p_y_given_t, out=weights[:, :-2])
        weights[:, :-2] *= beta
        np.log(p_t, out=weights[:, -2])
        weights[:, -1] = -beta
        return problem.p_y_given_x_one_neg_h[rows] @ weights.T
    zero = p_y_given_t == 0
    log_p = np.log(p_y_given_t, out=np.zeros_like(p_y_given_t), where=~zero)
    p_y_given_x = problem.p_y_given_x[rows]
    scores = p_y_given_x @ log_p.T
    scores -= problem.neg_h_y_given_x[rows, None]
    impossible = (p_y_given_x > 0).astype(float) @ zero.T.astype(float) > 0
    scores[impossible] = -np.inf
    scores *= beta
    with np.errstate(divide="ignore"):  # an empty cluster has log p(t) = −∞: it stays empty
        scores += np.log(p_t)
    return scores


#: Row sums of exp(s) below this are recomputed after subtracting the row maximum.
_UNDERFLOW = 1e-250


def encoder_from_decoder(
    problem: ReducedProblem, p_t: np.ndarray, p_y_given_t: np.ndarray, beta: float, alpha: float
) -> tuple[np.ndarray, float]:
    """The encoder p(t|x̃) ∝ exp([log p(t) − β·KL]/α) of a decoder, and its free energy.

    Returns the encoder and F = −α Σ_x p(x) log Z_α(x) in nats, where
    Z_α(x) = Σ_t exp([log p(t) − β·KL(x, t)]/α). For α = 0 the encoder is the hard
    arg-max and F = −Σ_x p(x) max_t [log p(t) − β·KL(x, t)].

    The softmax works in place on the one |X̃|×|T| score matrix. The scores are ≤ 0, so
    exp needs no shift; only rows where every exp underflows (no cluster within about
    575·α nats) are recomputed after subtracting their maximum.
    """
    scores = assignment_scores(problem, p_t, p_y_given_t, beta)
    if alpha == 0:
        best = scores.argmax(axis=1)
        top = scores[np.arange(scores.shape[0]), best]
        hard = np.zeros_like(scores)
        hard[np.arange(scores.shape[0]), best] = 1.0
        return hard, float(-(problem.p_x @ top))
    shift = np.zeros(scores.shape[0])
    if alpha != 1:
        scores /= alpha
    e = np.exp(scores, out=scores)
    norm = e.sum(axis=1)
    low = norm < _UNDERFLOW
    if low.any():  # recompute those rows with their maximum subtracted
        rows = assignment_scores(problem, p_t, p_y_given_t, beta, np.flatnonzero(low)) / alpha
        shift[low] = rows.max(axis=1)
        rows -= shift[low, None]
        np.exp(rows, out=rows)
        e[low] = rows
        norm[low] = rows.sum(axis=1)
    e /= norm[:, None]
    free_energy = -alpha * (problem.p_x @ (shift + np.log(norm)))
    return e, float(free_energy)


def update_encoder(
    problem: ReducedProblem, q: np.ndarray, beta: float, alpha: float
) -> tuple[np.ndarray, float]:
    """One self-consistent step: encoder → (p(t), p(y|t)) → new encoder.

    Also returns the free energy F = −α Σ_x p(x) log Z_α(x) in nats, the value of the
    alternating-minimisation functional after the step; it decreases monotonically and
    differs from the objective by the constant β·I(X;Y) at the fixed point.
    """
    p_t, p_y_given_t = decoder(problem, q)
    return encoder_from_decoder(problem, p_t, p_y_given_t, beta, alpha)


def compact_clusters(
    problem: ReducedProblem, q: np.ndarray, decimals: int = _CLUSTER_DECIMALS
) -> np.ndarray:
    """Drop clusters without mass and merge clusters whose decoders agree to ``decimals``."""
    p_t = problem.p_x @ q
    q = q[:, p_t > 0]
    if q.shape[1] < 2:
        return q
    _, p_y_given_t = decoder(problem, q)
    _, label = np.unique(np.round(p_y_given_t, decimals), axis=0, return_inverse=True)
    label = label.reshape(-1)
    if label.max() + 1 == q.shape[1]:
        return q
    return sum_rows_by_label(q.T, label, label.max() + 1).T


def iterate(
    problem: ReducedProblem,
    q: np.ndarray,
    beta: float,
    alpha: float,
    max_iter: int,
    tol: float,
    *,
    decimals: int = _CLUSTER_DECIMALS,
    compact_every: int = 10,
) -> tuple[np.ndarray, int, bool]:
    """Iterate the self-consistent equations from ``q`` until the free energy settles.

    Converged means the free energy changed by less than ``tol`` nats in one step, the
    encoder by less than √tol, and no cluster's mass is still growing.

    Clusters are compacted (see :func:`compact_clusters`, with ``decimals``) every
    ``compact_every`` iterations and at the end. Returns the encoder over pooled inputs,
    the iterations used and whether it converged. Assumes validated inputs.
    """
    q = compact_clusters(problem, q, decimals)
    converged = False
    n_iter = 0
    free_energy = np.inf
    while n_iter < max_iter and not converged:
        n_iter += 1
        new, new_free_energy = update_encoder(problem, q, beta, alpha)
        converged = abs(free_energy - new_free_energy) < tol and _settled(problem, q, new, tol)
        free_energy = new_free_energy
        q = compact_clusters(problem, new, decimals) if n_iter % compact_every == 0 else new
    return compact_clusters(problem, q, decimals), n_iter, converged


def _settled(problem: ReducedProblem, old: np.ndarray, new: np.ndarray, tol: float) -> bool:
    """The encoder moved by less than √tol and no cluster's mass still grows by a factor.

    The free energy is flat along slow directions (two clusters drifting together), and
    a nearly empty cluster that is taking inputs over barely changes it at first, yet
    one more step can move whole inputs to it; these two checks catch both.
    """
    if np.max(np.abs(new - old)) >= np.sqrt(tol):
        return False
    p_old, p_new = problem.p_x @ old, problem.p_x @ new
    return bool(np.all(p_new <= p_old * (1.0 + np.sqrt(tol))))


def prepare_joint(p_xy: Any, normalize: bool) -> np.ndarray:
    """Validate a joint p(x,y) for the IB solvers (2-D, finite, ≥ 0, sums to 1)."""
    return check_probabilities(p_xy, "p_xy", ndim=2, normalize=normalize)


def check_n_clusters(value: Any, name: str, n_x: int) -> int:
    """A cluster count in [1, |X|]: a partition of |X| inputs never has more parts.

    Checked before anything is allocated, so a huge count fails at once instead of
    building an |X|-by-``value`` encoder.
    """
    count = check_int(value, name)
    if count > n_x:
        raise InvalidParameterError(
            f"{name} must be <= |X| = {n_x} (the number of rows of p_xy); got {value!r}; "
            f"pass at most {n_x}, or None for the default"
        )
    return count


def check_alpha(alpha: Any) -> float:
    """α in [0, 1] for the generalised IB objective (0 = DIB, 1 = IB).

    Above 1 the objective rewards splitting a cluster into identical copies, so it has
    no meaningful optimum and merging coinciding clusters would not be exact.
    """
    value = check_positive(alpha, "alpha", allow_zero=True)
    if value > 1:
        raise InvalidParameterError(f"alpha must be in [0, 1] (1 = IB, 0 = DIB); got {alpha!r}")
    return value


def initial_encoder(
    problem: ReducedProblem,
    n_clusters: int,
    alpha: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A random encoder over pooled inputs: soft rows for IB, a hard partition for DIB."""
    n = problem.n_inputs
    if alpha == 0:
        q = np.zeros((n, n_clusters))
        q[np.arange(n), rng.integers(n_clusters, size=n)] = 1.0
        return q
    q = rng.random((n, n_clusters)) + 0.5
    return q / q.sum(axis=1, keepdims=True)


def check_conditional(value: Any, name: str, symbol: str) -> np.ndarray:
    """Validate a conditional distribution such as p(t|x): 2-D, ≥ 0, rows summing to 1.

    ``symbol`` names it in messages. Rows within ``SUM_TOL`` of 1 are renormalised.
    """
    q = check_array(value, name, ndim=2)
    if (q < 0).any():
        raise InvalidParameterError(
            f"{name} has negative entries (min {q.min():.3g}); pass {symbol} >= 0"
        )
    rows = q.sum(axis=1)
    bad = int(np.argmax(np.abs(rows - 1)))
    if abs(rows[bad] - 1) > SUM_TOL:
        raise InvalidParameterError(
            f"{name} rows must each sum to 1 ({symbol}); row {bad} sums to {rows[bad]:.6g}"
        )
    return q / rows[:, None]


def check_encoder(init: Any, n_x: int) -> np.ndarray:
    """Validate a user's encoder p(t|x): shape (|X|, k), entries ≥ 0, rows summing to 1."""
    q = check_conditional(init, "init", "p(t|x)")
    if q.shape[0] != n_x:
        raise InvalidParameterError(
            f"init must be an encoder of shape (|X|, |T|) = ({n_x}, k); got shape {q.shape}"
        )
    return q


def _best_run(
    problem: ReducedProblem, encoders: list[np.ndarray], beta: float, alpha: float
) -> tuple[int, int]:
    """Index of the encoder of lowest objective, and how many reach it within ``_SAME_OBJECTIVE``.

    Objectives are scored on the pooled joint, where they equal those on the original.
    """
    objectives = np.array(
        [
            evaluate_encoder(
                problem.joint, q, beta=beta, alpha=alpha, units="nats", n_iter=0, converged=True
            ).objective
            for q in encoders
        ]
    )
    best = int(np.argmin(objectives))
    tie = _SAME_OBJECTIVE * max(1.0, abs(objectives[best]))
    return best, int(np.sum(objectives <= objectives[best] + tie))


def iterative_ib(
    p_xy: Any,
    beta: float,
    *,
    n_clusters: int | None = None,
    alpha: float = 1.0,
    init: Any = None,
    n_init: int = 1,
    max_iter: int = 1000,
    tol: float = 1e-12,
    units: str = "bits",
    normalize: bool = False,
    random_state: Any = None,
) -> IBResult:
    r"""Solve the (generalised) IB at one β by iterating the self-consistent equations.

    Minimises :math:`H(T) - \alpha H(T|X) - \beta I(T;Y)`: the IB Lagrangian
    :math:`I(X;T) - \beta I(T;Y)` at ``alpha=1`` (Tishby, Pereira & Bialek 2000) and the
    deterministic IB :math:`H(T) - \beta I(T;Y)` at ``alpha=0`` (Strouse & Schwab 2017).
    The result is a local optimum that depends on the starting encoder; use
    :func:`ibkit.ib.ib_curve` for the global frontier.

    Parameters
    ----------
    p_xy : array_like, shape (|X|, |Y|)
        Joint distribution (counts with ``normalize=True``). Rows with zero mass are
        allowed: they carry no weight and get the encoder row p(t) (for DIB, the
        heaviest cluster).
    beta : float
        Trade-off β > 0; values up to 1e10 are safe (no overflow, no NaN).
    n_clusters : int, optional
        Number of clusters of the random start (the most |T| can reach), in [1, |X|].
        Defaults to the number of distinct conditionals p(y|x), the size of the minimal
        sufficient statistic of X about Y. A random start can still end in a local
        optimum with fewer clusters; :func:`ibkit.ib.ib_curve` avoids that by annealing.
    alpha : float
        Generalisation parameter α in [0, 1] (1 = IB, 0 = DIB).
    init : array_like, shape (|X|, k), optional
        Starting encoder p(t|x) (rows sum to 1). Random when omitted.
    n_init : int
        Random starts to solve from; the solution of the lowest objective is kept, and
        its ``n_init_best`` says how many starts reached that objective (to a relative
        ``1e-6``). The starts are drawn one after another from ``random_state``, so the
        first is the start of ``n_init=1`` and more starts never give a worse objective.
        Restarts help where single starts end in poor local optima; at very large β
        they rarely reach the global one, as clusters that merge in the first steps
        cannot split again: there ``init=np.eye(len(p_xy))`` (the minimal sufficient
        statistic, optimal as β → ∞) or :func:`ibkit.ib.ib_curve` find it. Must be 1
        with ``init``.
    max_iter, tol : int, float
        Stop when one iteration lowers the free energy (the objective up to a constant)
        by less than ``tol`` nats, moves p(t|x) by less than √tol and no cluster is
        still gaining mass, or after
        ``max_iter`` iterations; in the latter case a :class:`~ibkit.ConvergenceWarning` is issued
        and ``converged`` is False.
    units : {"bits", "nats"}
    normalize : bool
        Divide ``p_xy`` by its sum instead of requiring it to sum to 1.
    random_state : None, int or numpy.random.Generator
        Seeds the random starting encoders.

    Returns
    -------
    IBResult
        Encoder, decoder, I(X;T), I(T;Y), H(T) and the objective in ``units``; ``n_iter``
        and ``converged`` are those of the kept start.

    Examples
    --------
    >>> import numpy as np
    >>> from ibkit.ib import iterative_ib
    >>> p_xy = np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.5]])
    >>> res = iterative_ib(p_xy, beta=20.0, random_state=0)
    >>> round(res.i_ty, 6), res.n_clusters
    (1.0, 2)
    """
    p_xy = prepare_joint(p_xy, normalize)
    beta = check_positive(beta, "beta")
    alpha = check_alpha(alpha)
    units = check_units(units)
    max_iter = check_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    n_init = check_int(n_init, "n_init")
    rng = check_random_state(random_state)
    if init is not None and n_clusters is not None:
        raise InvalidParameterError("pass either init or n_clusters, not both (init fixes |T|)")
    if init is not None and n_init > 1:
        raise InvalidParameterError(
            f"n_init must be 1 when init is given (init is the one start); got {n_init}"
        )
    if n_clusters is not None:
        n_clusters = check_n_clusters(n_clusters, "n_clusters", p_xy.shape[0])
    problem = reduce_problem(p_xy)
    if init is None:
        k = problem.n_inputs if n_clusters is None else n_clusters
        starts = [initial_encoder(problem, k, alpha, rng) for _ in range(n_init)]
    else:
        starts = [problem.pool(check_encoder(init, p_xy.shape[0]))]
    runs = [iterate(problem, q0, beta, alpha, max_iter, tol) for q0 in starts]
    best, n_best = _best_run(problem, [q for q, _, _ in runs], beta, alpha)
    q, n_iter, converged = runs[best]
    if not converged:
        warnings.warn(
            f"iterative_ib did not converge in max_iter={max_iter} iterations at "
            f"beta={beta:g} (tol={tol:g}); increase max_iter or tol. Slow convergence is "
            "typical near a phase transition of the IB curve.",
            ConvergenceWarning,
            stacklevel=2,
        )
    result = evaluate_encoder(
        p_xy,
        problem.expand(q, hard=alpha == 0),
        beta=beta,
        alpha=alpha,
        units=units,
        n_iter=n_iter,
        converged=converged,
    )
    return replace(result, n_init_best=n_best)

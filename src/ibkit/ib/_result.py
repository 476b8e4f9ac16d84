r"""The result type shared by every discrete IB solver, and the one evaluator.

Every solver (iterative IB, deterministic IB, agglomerative IB) produces an encoder
p(t|x) and hands it to :func:`evaluate_encoder`, which computes all reported quantities
the same way:

- p(t) = Σ_x p(x) p(t|x) and p(y|t) = Σ_x p(x,y) p(t|x) / p(t),
- I(X;T) = H(T) − H(T|X),  I(T;Y) = H(Y) − H(Y|T),
- the generalised objective L = H(T) − α·H(T|X) − β·I(T;Y) of Strouse & Schwab (2017),
  which is the IB Lagrangian I(X;T) − β·I(T;Y) at α = 1 and the deterministic IB
  objective H(T) − β·I(T;Y) at α = 0.

The results that trace a whole curve (:class:`~ibkit.ib.IBCurve`,
:class:`~ibkit.ib.AgglomerativeIBResult`, :class:`~ibkit.ib.GaussianIBResult`) share one
contract, :class:`CurveResult`: ``i_xy``, ``units``, ``to_frame()``, ``to_dict()`` and
``plot()``.

``to_dict()`` means one thing on every result object of ibkit: the public fields as
plain Python values that :func:`json.dumps` accepts as they are (numpy arrays and
tuples become lists, numpy scalars Python numbers; see :func:`plain_fields`), so a
result can be written to JSON or compared with ``==``; the arrays stay on the object's
attributes, and ``to_frame()`` gives the tidy table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
from scipy.special import xlogy

from ibkit._plain import plain
from ibkit._validation import from_nats, pandas_module
from ibkit.measures import entropy_nats, mutual_information_nats

__all__ = ["CurveResult", "IBResult", "evaluate_encoder"]

#: Clusters with p(t) at or below this are dropped from reported solutions.
NEGLIGIBLE_MASS = 1e-15


class CurveResult:
    """The contract shared by every result that traces an information curve.

    Subclasses are frozen dataclasses with the fields ``i_xy`` (I(X;Y) of the problem,
    the ceiling of the curve's I(T;Y)) and ``units`` (the rate–distortion curve
    :class:`~ibkit.rd.RDCurve`, whose axes are the distortion and the rate, has no
    ``i_xy``), and name their table columns in
    ``_COLUMNS`` (column -> attribute, one value per curve point) and their figure in
    ``_PLOT`` (a function of :mod:`ibkit.plots`).
    """

    i_xy: float
    units: str
    _COLUMNS: ClassVar[dict[str, str]]
    _PLOT: ClassVar[str]

    def to_frame(self) -> Any:
        """A tidy :class:`pandas.DataFrame`, one row per point, with a ``units`` column."""
        pd = pandas_module(f"{type(self).__name__}.to_frame")
        columns = {column: getattr(self, name) for column, name in self._COLUMNS.items()}
        return pd.DataFrame({**columns, "units": self.units})

    def to_dict(self) -> dict[str, Any]:
        """The public fields as plain Python values (arrays become nested lists)."""
        return plain_fields(self)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the curve in the information plane (see :mod:`ibkit.plots`); returns the Axes."""
        from ibkit import plots

        return getattr(plots, self._PLOT)(self, ax=ax, **kwargs)


def plain_fields(result: Any) -> dict[str, Any]:
    """The public fields of the dataclass ``result`` as plain Python values.

    Each value goes through :func:`ibkit._plain.plain` (numpy arrays and tuples become
    lists, numpy scalars Python numbers); fields whose names start with ``_`` are left
    out.
    """
    return {
        f.name: plain(getattr(result, f.name)) for f in fields(result) if not f.name.startswith("_")
    }


@dataclass(frozen=True, eq=False)
class IBResult:
    """One solution of the (generalised) Information Bottleneck problem.

    Attributes
    ----------
    p_t_given_x : ndarray, shape (|X|, |T|)
        The encoder; row x is the distribution of T given X = x.
    p_t : ndarray, shape (|T|,)
        Marginal of the bottleneck variable.
    p_y_given_t : ndarray, shape (|T|, |Y|)
        The decoder implied by the encoder (Bayes' rule through the Markov chain).
    beta, alpha : float
        Trade-off parameter β and the generalisation parameter α (1 = IB, 0 = DIB).
    i_xt, i_ty, h_t : float
        I(X;T), I(T;Y) and H(T) in ``units``.
    objective : float
        H(T) − α·H(T|X) − β·I(T;Y) in ``units``.
    units : str
        ``"bits"`` or ``"nats"``.
    n_iter : int
        Iterations (or merges) the solver used.
    converged : bool
        Whether the solver met its tolerance.
    n_init_best : int
        How many random starts of :func:`~ibkit.ib.iterative_ib` (``n_init``) reached
        this objective; 1 for a single start and for the other solvers.
    """

    p_t_given_x: np.ndarray
    p_t: np.ndarray
    p_y_given_t: np.ndarray
    beta: float
    alpha: float
    i_xt: float
    i_ty: float
    h_t: float
    objective: float
    units: str
    n_iter: int
    converged: bool
    n_init_best: int = 1

    @property
    def n_clusters(self) -> int:
        """Number of clusters that carry probability mass (p(t) > 0)."""
        return int(np.count_nonzero(self.p_t > 0))

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values (arrays become nested lists)."""
        return plain_fields(self)


def evaluate_encoder(
    p_xy: np.ndarray,
    p_t_given_x: np.ndarray,
    *,
    beta: float,
    alpha: float,
    units: str,
    n_iter: int,
    converged: bool,
) -> IBResult:
    """Compute every reported quantity of an encoder on a normalised joint p(x,y).

    Clusters whose mass is at most ``NEGLIGIBLE_MASS`` (1e-15, below what any reported
    quantity can resolve in double precision) are dropped and the encoder rows
    renormalised, so ``p_t`` is strictly positive and p(y|t) is well conditioned.
    Assumes validated inputs: ``p_xy`` sums to 1, rows of ``p_t_given_x`` sum to 1.
    """
    p_x = p_xy.sum(axis=1)
    keep = p_x @ p_t_given_x > NEGLIGIBLE_MASS
    p_t_given_x = p_t_given_x[:, keep]
    rows = p_t_given_x.sum(axis=1, keepdims=True)
    p_t_given_x = np.divide(p_t_given_x, rows, out=np.zeros_like(p_t_given_x), where=rows > 0)
    p_xt = p_x[:, None] * p_t_given_x
    p_t = p_xt.sum(axis=0)
    p_t /= p_t.sum()  # exactly normalised, so a one-cluster encoder has H(T) = 0
    p_t_given_x[rows[:, 0] == 0] = p_t  # inputs of (almost) no mass whose clusters vanished
    p_ty = p_t_given_x.T @ p_xy
    p_y_given_t = p_ty / p_ty.sum(axis=1, keepdims=True)  # = p(t,y) / p(t), exactly normalised
    h_t = float(entropy_nats(p_t))
    h_t_given_x = float(-xlogy(p_xt, p_t_given_x).sum())
    i_xt = max(h_t - h_t_given_x, 0.0)
    i_ty = mutual_information_nats(p_ty)
    objective = h_t - alpha * h_t_given_x - beta * i_ty
    return IBResult(
        p_t_given_x=p_t_given_x,
        p_t=p_t,
        p_y_given_t=p_y_given_t,
        beta=float(beta),
        alpha=float(alpha),
        i_xt=float(from_nats(i_xt, units)),
        i_ty=float(from_nats(i_ty, units)),
        h_t=float(from_nats(h_t, units)),
        objective=float(from_nats(objective, units)),
        units=units,
        n_iter=int(n_iter),
        converged=bool(converged),
    )

r"""Information measures of discrete distributions.

All functions take probability arrays (validated at the edge; counts are accepted with
``normalize=True``) and return values in bits unless ``units="nats"``. Zero
probabilities follow the conventions :math:`0 \log 0 = 0` and :math:`0 \log(0/q) = 0`
exactly, through :func:`scipy.special.xlogy` and :func:`scipy.special.rel_entr`; there
are no additive fudges inside logarithms.

Reference: T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., 2006,
chapter 2.

Examples
--------
>>> import numpy as np
>>> from ibkit.measures import mutual_information
>>> mutual_information(np.array([[0.5, 0.0], [0.0, 0.5]]))
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import rel_entr, xlogy

from ibkit._validation import (
    SUM_TOL,
    InvalidParameterError,
    check_array,
    check_probabilities,
    check_units,
    from_nats,
)

__all__ = [
    "entropy",
    "conditional_entropy",
    "mutual_information",
    "kl_divergence",
    "js_divergence",
]


def entropy_nats(p: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """H(p) = −Σ p log p in nats along ``axis`` (all entries when None); trusts ``p``."""
    return -xlogy(p, p).sum(axis=axis) + 0.0  # + 0.0 turns −0.0 into 0.0


def mutual_information_nats(p_xy: np.ndarray) -> float:
    """I(X;Y) in nats of a normalised 2-D joint; trusts its input.

    Computed as Σ_x p(x) KL[p(y|x) ‖ p(y)] = Σ_x p(x) Σ_y rel_entr(p(y|x), p(y)), which is
    exact at zeros (rows with p(x) = 0 contribute nothing). The product p(x)p(y) is never
    formed: it underflows to 0 for cells below ~1e-154 and would turn a finite I into
    inf, whereas p(y|x) lies in [0, 1] and p(y) ≥ p(x,y) > 0 wherever p(y|x) > 0, so the
    ratio inside the logarithm stays within 1/p(x). Summation round-off is clipped at 0.
    """
    p_x = p_xy.sum(axis=1)
    p_y = p_xy.sum(axis=0)
    live = p_x[:, None] > 0
    p_y_given_x = np.divide(p_xy, p_x[:, None], out=np.zeros(p_xy.shape), where=live)
    return max(float(p_x @ rel_entr(p_y_given_x, p_y[None, :]).sum(axis=1)), 0.0)


def entropy(p: Any, *, units: str = "bits", normalize: bool = False) -> float:
    r"""Shannon entropy :math:`H(P) = -\sum_i p_i \log p_i` of a distribution.

    Parameters
    ----------
    p : array_like
        Probabilities of any shape (a joint array is treated as one distribution over
        all its cells).
    units : {"bits", "nats"}
    normalize : bool
        Divide ``p`` by its sum (so counts are accepted) instead of requiring sum 1.

    Examples
    --------
    >>> entropy([0.25, 0.25, 0.25, 0.25])
    2.0
    """
    units = check_units(units)
    arr = check_probabilities(p, "p", normalize=normalize)
    return float(from_nats(entropy_nats(arr), units))


def conditional_entropy(p_xy: Any, *, units: str = "bits", normalize: bool = False) -> float:
    r"""Conditional entropy :math:`H(Y|X) = H(X,Y) - H(X)` of a joint shaped (|X|, |Y|).

    Rows index the conditioning variable X, columns the variable Y.

    Examples
    --------
    >>> conditional_entropy([[0.25, 0.25], [0.5, 0.0]])
    0.5
    """
    units = check_units(units)
    arr = check_probabilities(p_xy, "p_xy", ndim=2, normalize=normalize)
    # −Σ p(x,y) log p(y|x) term by term (each term ≥ 0): the difference H(X,Y) − H(X)
    # would lose the last bits to cancellation (0.49999999999999994 instead of 0.5 above)
    p_x = arr.sum(axis=1, keepdims=True)
    p_y_given_x = np.divide(arr, p_x, out=np.zeros(arr.shape), where=p_x > 0)
    h = -float(xlogy(arr, p_y_given_x).sum())
    return float(from_nats(max(h, 0.0), units))


def mutual_information(p_xy: Any, *, units: str = "bits", normalize: bool = False) -> float:
    r"""Mutual information :math:`I(X;Y) = \sum p(x,y)\log\frac{p(x,y)}{p(x)p(y)}`.

    Parameters
    ----------
    p_xy : array_like, shape (|X|, |Y|)
        The joint distribution (or a contingency table with ``normalize=True``).

    Examples
    --------
    >>> mutual_information([[10, 0], [0, 30]], normalize=True)  # doctest: +ELLIPSIS
    0.811278...
    """
    units = check_units(units)
    arr = check_probabilities(p_xy, "p_xy", ndim=2, normalize=normalize)
    return float(from_nats(mutual_information_nats(arr), units))


def _check_pair(p: Any, q: Any, normalize: bool) -> tuple[np.ndarray, np.ndarray]:
    p_arr = check_probabilities(p, "p", normalize=normalize)
    q_arr = check_probabilities(q, "q", normalize=normalize)
    if p_arr.shape != q_arr.shape:
        raise InvalidParameterError(
            f"p and q must have the same shape; got {p_arr.shape} and {q_arr.shape}"
        )
    return p_arr, q_arr


def kl_divergence(p: Any, q: Any, *, units: str = "bits", normalize: bool = False) -> float:
    r"""Kullback–Leibler divergence :math:`D(P\|Q) = \sum_i p_i \log(p_i / q_i)`.

    Infinite when P puts mass where Q has none. The terms :math:`p_i \log(p_i/q_i)` may be
    negative, so round-off could push the sum of nearly equal P and Q below 0; the result
    is clipped at 0 (Gibbs' inequality).

    Examples
    --------
    >>> kl_divergence([0.5, 0.5], [0.25, 0.75])  # doctest: +ELLIPSIS
    0.2075...
    """
    units = check_units(units)
    p_arr, q_arr = _check_pair(p, q, normalize)
    return float(from_nats(max(float(rel_entr(p_arr, q_arr).sum()), 0.0), units))


def js_divergence(
    p: Any,
    q: Any,
    *,
    weights: tuple[float, float] = (0.5, 0.5),
    units: str = "bits",
    normalize: bool = False,
) -> float:
    r"""Jensen–Shannon divergence of two distributions with weights :math:`\pi`.

    :math:`JS_\pi(P,Q) = H(\pi_1 P + \pi_2 Q) - \pi_1 H(P) - \pi_2 H(Q)`.

    With weights :math:`\pi` it is the information-loss cost of merging two clusters in
    agglomerative IB (Slonim & Tishby 1999). Bounded by 1 bit for equal weights.

    Examples
    --------
    >>> js_divergence([1.0, 0.0], [0.0, 1.0])
    1.0
    """
    units = check_units(units)
    p_arr, q_arr = _check_pair(p, q, normalize)
    w = check_array(weights, "weights", ndim=1)
    if w.shape != (2,):
        raise InvalidParameterError(f"weights must hold two numbers; got {w.shape[0]}")
    # ``normalize`` applies to p and q only, so the weights are checked on their own
    if (w < 0).any() or abs(w.sum() - 1.0) > SUM_TOL:
        raise InvalidParameterError(
            f"weights must be two numbers >= 0 summing to 1; got ({w[0]:.6g}, {w[1]:.6g})"
        )
    w = w / w.sum()
    m = w[0] * p_arr + w[1] * q_arr
    js = entropy_nats(m) - w[0] * entropy_nats(p_arr) - w[1] * entropy_nats(q_arr)
    return float(from_nats(max(js, 0.0), units))

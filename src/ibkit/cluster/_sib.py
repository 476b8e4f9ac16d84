r"""The compiled inner loop of sequential IB: one sweep of one restart over its items.

Everything is in the scale of the counts (see :mod:`ibkit.cluster.sequential`): an item
``x`` is the row ``q = counts[x]`` of the CSR arrays ``(indptr, indices, data)`` with mass
``w = weight[x]``; cluster ``t`` holds the sums ``joint[y, t]`` and ``mass[t]``, kept
beside their :math:`\varphi(v) = v \log v` (``phi_joint``, ``phi_mass``) and the
coefficients ``bound`` of the screening bound :math:`\varphi(b + q) - \varphi(b) \le
A(b)\,q + B(b)\,q^2`. The cost of merging ``x`` into ``t``, item constants dropped, is

.. math::

    c(x, t) = \varphi(w + W_t) - \varphi(W_t)
        - \sum_{y:\, q_y > 0} \big[\varphi(q_y + b_{ty}) - \varphi(b_{ty})\big],

its own cluster counted without it; :func:`lower_bounds` bounds it from below with
:math:`2\,\mathrm{nnz}(x)` multiply-adds per cluster and no logarithm.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Relative slack of the screening bound against round-off: a cluster is skipped only if
#: its lower bound exceeds the best cost so far by more than this share of the magnitudes.
MARGIN = 1e-9


@njit(cache=True)
def phi(v: float) -> float:
    """:math:`v \\log v`, 0 at 0."""
    return v * math.log(v) if v > 0.0 else 0.0


@njit(cache=True)
def coefficients(b: float, half_c: float) -> tuple[float, float]:
    """``(A, B)`` with :math:`\\varphi(b + q) - \\varphi(b) \\le A q + B q^2` for q ≥ 0.

    By concavity of log: the integral of :math:`1 + \\log s` over [b, b + q] is at most
    :math:`q (1 + \\log(b + q/2))`, and :math:`\\log(b + q/2)` is at most the tangent of
    log at :math:`b + c/2`, tightest for counts q near ``c = 2 half_c``.
    """
    s = b + half_c
    return math.log(s) + 1.0 - half_c / s, 0.5 / s


@njit(cache=True)
def _rounded_up(v: float) -> np.float32:
    """The least float32 at or above ``v``."""
    r = np.float32(v)
    return r if r >= v else np.nextafter(r, np.float32(np.inf))


@njit(cache=True)
def set_coefficients(bound, y, t, b, half_c):
    """Store the bound's ``(A, B)`` at sum ``b`` for entry (y, t) of ``bound`` (|Y|, 2K):
    in float32, half the memory the bound loop reads, each rounded up (q ≥ 0, so larger
    coefficients keep an upper bound)."""
    k = bound.shape[1] // 2
    a, b2 = coefficients(b, half_c)
    bound[y, t], bound[y, k + t] = _rounded_up(a), _rounded_up(b2)


@njit(cache=True)
def bound_table(joint, half_c):
    """``(|Y|, 2K)`` float32: the bound's A then B of every sum of ``joint`` (|Y|, K)."""
    n_features, k = joint.shape
    bound = np.empty((n_features, 2 * k), dtype=np.float32)
    for y in range(n_features):
        for t in range(k):
            set_coefficients(bound, y, t, joint[y, t], half_c[y])
    return bound


@njit(cache=True)
def own_cost(indptr, indices, data, weight, x, here, joint, phi_joint, mass, phi_mass):
    """:math:`c(x, t)` for the item's own cluster ``here``, counted without the item."""
    cost = phi_mass[here] - phi(max(mass[here] - weight[x], 0.0))
    for e in range(indptr[x], indptr[x + 1]):
        y = indices[e]
        cost -= phi_joint[y, here] - phi(max(joint[y, here] - data[e], 0.0))
    return cost


@njit(cache=True)
def merge_cost(indptr, indices, data, weight, x, t, joint, phi_joint, mass, phi_mass):
    """:math:`c(x, t)` for a cluster ``t`` that does not hold the item."""
    cost = phi(mass[t] + weight[x]) - phi_mass[t]
    for e in range(indptr[x], indptr[x + 1]):
        y = indices[e]
        cost -= phi(joint[y, t] + data[e]) - phi_joint[y, t]
    return cost


@njit(cache=True)
def lower_bounds(indptr, indices, data, weight, x, bound, mass, phi_mass, upper, lower, slack):
    """Fill ``lower[t]`` with a lower bound on :math:`c(x, t)` for every cluster not
    holding the item, and ``slack[t]`` with :data:`MARGIN` times its terms' magnitude
    (``upper`` is work space)."""
    w = weight[x]
    k = mass.shape[0]
    upper[:] = 0.0
    for e in range(indptr[x], indptr[x + 1]):
        y, q = indices[e], data[e]
        row = bound[y]
        for t in range(k):
            upper[t] += (row[t] + row[k + t] * q) * q
    for t in range(k):
        merge = phi(mass[t] + w) - phi_mass[t]
        lower[t] = merge - upper[t]
        slack[t] = MARGIN * (abs(merge) + abs(upper[t]))


@njit(cache=True)
def _add(indptr, indices, data, weight, half_c, x, t, sign, state):
    """Add (``sign`` = 1) or take (-1) item ``x`` to or from cluster ``t``, keeping
    φ and the bound coefficients of every entry that changes."""
    joint, phi_joint, bound, mass, phi_mass, sizes = state
    for e in range(indptr[x], indptr[x + 1]):
        y = indices[e]
        b = max(joint[y, t] + sign * data[e], 0.0)  # round-off of non-integer counts
        joint[y, t] = b
        phi_joint[y, t] = phi(b)
        set_coefficients(bound, y, t, b, half_c[y])
    mass[t] = max(mass[t] + sign * weight[x], 0.0)
    phi_mass[t] = phi(mass[t])
    sizes[t] += 1 if sign > 0 else -1


@njit(cache=True)
def sweep(indptr, indices, data, weight, half_c, order, labels, state, screen):
    """One pass over the items in ``order``: each goes to the cluster of least cost.

    An item moves only if another cluster costs strictly less than its own (ties: the
    first such cluster); an item alone in its cluster stays. With ``screen``, a cluster
    whose lower bound exceeds the best cost found so far is not costed exactly: the
    decisions are those of the exact costs. ``state`` = (joint, phi_joint, bound,
    mass, phi_mass, sizes) is updated in place with ``labels``. Returns the moves.
    """
    joint, phi_joint, bound, mass, phi_mass, sizes = state
    k = mass.shape[0]
    upper, lower, slack = np.empty(k), np.empty(k), np.empty(k)
    moves = 0
    for x in order:
        here = labels[x]
        if sizes[here] == 1:
            continue
        best = own_cost(indptr, indices, data, weight, x, here, joint, phi_joint, mass, phi_mass)
        target = here
        if screen:
            lower_bounds(
                indptr, indices, data, weight, x, bound, mass, phi_mass, upper, lower, slack
            )
        for t in range(k):
            if t == here or (screen and lower[t] - slack[t] > best):
                continue
            cost = merge_cost(indptr, indices, data, weight, x, t, joint, phi_joint, mass, phi_mass)
            if cost < best:
                best, target = cost, t
        if target != here:
            _add(indptr, indices, data, weight, half_c, x, here, -1.0, state)
            _add(indptr, indices, data, weight, half_c, x, target, 1.0, state)
            labels[x] = target
            moves += 1
    return moves

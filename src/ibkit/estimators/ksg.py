r"""The Kraskov–Stögbauer–Grassberger (KSG) k-nearest-neighbour estimator.

For continuous :math:`X \in \mathbb{R}^{d_x}` and :math:`Y \in \mathbb{R}^{d_y}` the
estimator works in the joint space :math:`Z = (X, Y)` with the max-norm
:math:`\|z - z'\| = \max(\|x - x'\|_\infty, \|y - y'\|_\infty)`. Let
:math:`\epsilon_i` be the distance from :math:`z_i` to its k-th nearest neighbour.

*Variant 1* counts, for each sample, the points :math:`n_{x,i}` (:math:`n_{y,i}`) whose
marginal distance to :math:`x_i` (:math:`y_i`) is strictly less than :math:`\epsilon_i`:

.. math::

    \hat I^{(1)} = \psi(k) + \psi(n)
        - \big\langle \psi(n_x + 1) + \psi(n_y + 1) \big\rangle .

*Variant 2* uses the marginal extents :math:`\epsilon_{x,i}`, :math:`\epsilon_{y,i}` of
the k nearest neighbours and counts points at marginal distance :math:`\le` them:

.. math::

    \hat I^{(2)} = \psi(k) - \frac1k + \psi(n)
        - \big\langle \psi(n_x) + \psi(n_y) \big\rangle .

For a *discrete* ``y`` (integer labels) the estimator of Ross (2014) is used: for each
sample, :math:`d_i` is the distance (max-norm in X) to its k-th nearest neighbour among
the :math:`N_{y_i}` samples with the same label, and :math:`m_i` counts all samples
(any label, excluding the sample itself) within :math:`d_i`:

.. math::

    \hat I = \psi(n) - \langle \psi(N_y) \rangle + \langle \psi(k) \rangle
        - \langle \psi(m) \rangle ,

with k capped at :math:`N_c - 1` for a label with :math:`N_c` samples; samples whose
label occurs only once are dropped (they carry no neighbour information).

The estimate is not clipped: it can be slightly negative for independent variables.
Ties (repeated values) bias the counts; as Kraskov et al. advise, tiny Gaussian noise
(``jitter`` times each column's standard deviation) is added before estimating.

References
----------
A. Kraskov, H. Stögbauer and P. Grassberger, "Estimating mutual information",
*Physical Review E* 69:066138, 2004.

B. C. Ross, "Mutual information between discrete and continuous data sets",
*PLoS ONE* 9(2):e87357, 2014.

Examples
--------
>>> import numpy as np
>>> from ibkit.estimators.ksg import KSGEstimator
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal(1000)
>>> y = 0.6 * x + 0.8 * rng.standard_normal(1000)  # rho = 0.6: I = 0.223 nats
>>> est = KSGEstimator(k=3).estimate(x, y, units="nats", random_state=0)
>>> bool(abs(est.value - 0.223) < 0.06)
True
"""

from __future__ import annotations

import numpy as np

from ibkit._validation import check_int, check_positive
from ibkit.estimators._base import MIEstimator, Samples, register

__all__ = ["KSGEstimator"]


def _add_jitter(a: np.ndarray, jitter: float, rng: np.random.Generator) -> np.ndarray:
    """``a`` plus Gaussian noise of ``jitter`` times each column's std (1 if constant)."""
    scale = a.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return a + jitter * scale * rng.standard_normal(a.shape)


def _count_within(points: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Number of other points at max-norm distance ≤ ``radius[i]`` from ``points[i]``."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    counts = tree.query_ball_point(points, r=radius, p=np.inf, return_length=True)
    return np.asarray(counts, dtype=np.int64) - 1  # minus the point itself


@register
class KSGEstimator(MIEstimator):
    r"""Kraskov–Stögbauer–Grassberger k-nearest-neighbour estimator of I(X;Y).

    Parameters
    ----------
    k : int, default 3
        Number of nearest neighbours, ≥ 1. Small k: low bias, high variance.
    variant : {1, 2}, default 1
        Which of the two KSG estimators to use (ignored for discrete ``y``).
    jitter : float, default 1e-10
        Relative amplitude (≥ 0) of the Gaussian noise added to every column, scaled by
        the column's standard deviation, to break ties. 0 disables it (and makes the
        estimate deterministic).

    Notes
    -----
    Needs at least ``k + 1`` samples. Cost is :math:`O(n \log n)` per query through
    :class:`scipy.spatial.cKDTree`.
    """

    name = "ksg"

    def __init__(self, k: int = 3, variant: int = 1, jitter: float = 1e-10) -> None:
        k = check_int(k, "k", minimum=1)
        if isinstance(variant, bool) or variant not in (1, 2):
            raise ValueError(f"variant must be 1 or 2; got {variant!r}")
        jitter = check_positive(jitter, "jitter", allow_zero=True)
        super().__init__(k=k, variant=int(variant), jitter=jitter)
        self.min_samples = k + 1

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, float | None, float | None, float | None]:
        from scipy.spatial import cKDTree  # scipy is imported lazily, on first use
        from scipy.special import digamma

        k: int = self.params["k"]
        jitter: float = self.params["jitter"]
        x = samples.x
        if jitter > 0:
            x = _add_jitter(x, jitter, rng)
        if samples.y_discrete:
            return _ksg_discrete(x, samples.y, k), None, None, None
        y = samples.y
        if jitter > 0:
            y = _add_jitter(y, jitter, rng)
        n = x.shape[0]
        z = np.hstack([x, y])
        dist, idx = cKDTree(z).query(z, k=k + 1, p=np.inf)
        if self.params["variant"] == 1:
            eps = dist[:, k]
            radius = np.nextafter(eps, 0.0)  # strictly within eps
            n_x = _count_within(x, radius)
            n_y = _count_within(y, radius)
            value = digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1))
        else:
            # Marginal extents of the k nearest neighbours (the point itself adds 0).
            eps_x = np.abs(x[idx] - x[:, None, :]).max(axis=(1, 2))
            eps_y = np.abs(y[idx] - y[:, None, :]).max(axis=(1, 2))
            n_x = _count_within(x, eps_x)
            n_y = _count_within(y, eps_y)
            value = digamma(k) - 1.0 / k + digamma(n) - np.mean(digamma(n_x) + digamma(n_y))
        return float(value), None, None, None


def _ksg_discrete(x: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Ross (2014) estimate in nats for continuous ``x`` and labels 0..L−1."""
    from scipy.spatial import cKDTree
    from scipy.special import digamma

    counts = np.bincount(labels)
    keep = counts[labels] > 1
    if not keep.any():
        raise ValueError(
            "every label of y occurs only once; the discrete KSG estimator needs at least "
            "two samples sharing a label"
        )
    x, labels = x[keep], labels[keep]
    n = x.shape[0]
    radius = np.empty(n)
    k_used = np.empty(n)
    n_label = np.empty(n)
    for c in np.unique(labels):
        mask = labels == c
        n_c = int(mask.sum())
        k_c = min(k, n_c - 1)
        dist, _ = cKDTree(x[mask]).query(x[mask], k=[k_c + 1], p=np.inf)
        radius[mask] = dist[:, 0]
        k_used[mask] = k_c
        n_label[mask] = n_c
    m = _count_within(x, radius)  # ≥ k_c: includes the same-label neighbours
    value = digamma(n) - np.mean(digamma(n_label)) + np.mean(digamma(k_used) - digamma(m))
    return float(value)

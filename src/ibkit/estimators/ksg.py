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

By default every column is first standardised (centred, divided by its standard
deviation, as benchmark-mi does), so the max-norm weighs the coordinates alike and the
estimate does not depend on the units of the data: rescaling any column of ``x`` or
``y`` by any factor leaves it unchanged. The estimate is not clipped: it can be slightly
negative for independent variables. Ties (repeated values) bias the counts; as Kraskov
et al. advise, tiny Gaussian noise (``jitter`` standard deviations of each column) is
added before estimating.

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

from collections.abc import Iterator

import numpy as np

from ibkit._validation import InvalidParameterError, check_bool, check_int, check_positive
from ibkit.estimators._base import MIEstimator, Samples, register

__all__ = ["KSGEstimator"]


#: Joint dimension from which "auto" searches by brute force: k-d trees lose to a
#: chunked all-pairs scan in about 8 dimensions (measured in benchmarks/bench_bmi.py).
_BRUTE_FROM_DIM = 8

#: Pairwise distances held at once by the brute-force search (rows per block × n): small
#: blocks stay in cache, which measured faster than large ones.
_BLOCK_ENTRIES = 1 << 17

_ALGORITHMS = ("auto", "kd_tree", "brute")


def _prepare(
    a: np.ndarray, standardize: bool, jitter: float, rng: np.random.Generator
) -> np.ndarray:
    r"""The columns of ``a`` as the neighbour search sees them.

    With ``standardize``, each column :math:`a_j` becomes :math:`(a_j - \bar a_j) / s_j`
    (:math:`s_j` its standard deviation; a constant column is only centred), so that the
    max-norm weighs every coordinate alike and the estimate does not depend on the units
    of the data. With ``jitter > 0``, Gaussian noise of ``jitter`` standard deviations of
    each column is added to break ties.
    """
    scale = a.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    if standardize:
        a = (a - a.mean(axis=0)) / scale
        scale = np.ones_like(scale)
    if jitter > 0:
        a = a + jitter * scale * rng.standard_normal(a.shape)
    return a


def _blocks(n: int) -> Iterator[slice]:
    """Row blocks of the brute-force search, ``_BLOCK_ENTRIES`` distances each."""
    step = max(1, _BLOCK_ENTRIES // n)
    for start in range(0, n, step):
        yield slice(start, min(start + step, n))


def _chebyshev(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Max-norm distances between the rows of ``a`` and ``b``."""
    from scipy.spatial.distance import cdist

    return cdist(a, b, "chebyshev")


def _count_within(points: np.ndarray, radius: np.ndarray, brute: bool) -> np.ndarray:
    """Number of other points at max-norm distance ≤ ``radius[i]`` from ``points[i]``."""
    if not brute:
        from scipy.spatial import cKDTree

        tree = cKDTree(points)
        counts = tree.query_ball_point(points, r=radius, p=np.inf, return_length=True)
        return np.asarray(counts, dtype=np.int64) - 1  # minus the point itself
    out = np.empty(points.shape[0], dtype=np.int64)
    for rows in _blocks(points.shape[0]):
        within = _chebyshev(points[rows], points) <= radius[rows, None]
        out[rows] = np.count_nonzero(within, axis=1) - 1
    return out


def _kth_distance(points: np.ndarray, k: int, brute: bool) -> np.ndarray:
    """Max-norm distance from each point to its k-th nearest other point."""
    if not brute:
        from scipy.spatial import cKDTree

        dist, _ = cKDTree(points).query(points, k=[k + 1], p=np.inf)
        return dist[:, 0]
    out = np.empty(points.shape[0])
    for rows in _blocks(points.shape[0]):
        out[rows] = np.partition(_chebyshev(points[rows], points), k, axis=1)[:, k]
    return out


def _joint_counts_brute(
    x: np.ndarray, y: np.ndarray, k: int, variant: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(n_x, n_y)`` of the KSG variant, from one all-pairs scan in row blocks.

    The marginal distance blocks give the joint max-norm distance, its k-th smallest
    value per row (position 0 is the point itself) and the marginal counts at once.
    """
    n = x.shape[0]
    n_x = np.empty(n, dtype=np.int64)
    n_y = np.empty(n, dtype=np.int64)
    for rows in _blocks(n):
        dx, dy = _chebyshev(x[rows], x), _chebyshev(y[rows], y)
        dz = np.maximum(dx, dy)
        if variant == 1:
            eps = np.partition(dz, k, axis=1)[:, k, None]
            n_x[rows] = np.count_nonzero(dx < eps, axis=1) - 1
            n_y[rows] = np.count_nonzero(dy < eps, axis=1) - 1
        else:
            near = np.argpartition(dz, k, axis=1)[:, : k + 1]
            eps_x = np.take_along_axis(dx, near, axis=1).max(axis=1, keepdims=True)
            eps_y = np.take_along_axis(dy, near, axis=1).max(axis=1, keepdims=True)
            n_x[rows] = np.count_nonzero(dx <= eps_x, axis=1) - 1
            n_y[rows] = np.count_nonzero(dy <= eps_y, axis=1) - 1
    return n_x, n_y


def _joint_counts_tree(
    x: np.ndarray, y: np.ndarray, k: int, variant: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(n_x, n_y)`` of the KSG variant, from k-d tree queries."""
    from scipy.spatial import cKDTree

    z = np.hstack([x, y])
    dist, idx = cKDTree(z).query(z, k=k + 1, p=np.inf)
    if variant == 1:
        radius = np.nextafter(dist[:, k], 0.0)  # strictly within eps
        return _count_within(x, radius, False), _count_within(y, radius, False)
    # Marginal extents of the k nearest neighbours (the point itself adds 0).
    eps_x = np.abs(x[idx] - x[:, None, :]).max(axis=(1, 2))
    eps_y = np.abs(y[idx] - y[:, None, :]).max(axis=(1, 2))
    return _count_within(x, eps_x, False), _count_within(y, eps_y, False)


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
        Amplitude (≥ 0) of the Gaussian noise added to every column, in standard
        deviations of that column, to break ties. 0 disables it (and makes the estimate
        deterministic).
    standardize : bool, default True
        Divide every column of ``x`` and ``y`` by its standard deviation (after
        centring) before the neighbour search, so that the estimate does not depend on
        the units of any column. ``False`` measures the max-norm in the units given:
        use it only where the columns share meaningful units, since a column on a
        larger scale then dominates the neighbourhoods (a column multiplied by 1e8
        takes them over, and the estimate falls towards 0).
    algorithm : {"auto", "kd_tree", "brute"}, default "auto"
        Neighbour search: :class:`scipy.spatial.cKDTree` (:math:`O(n \log n)` in low
        dimension), or an all-pairs scan in row blocks (:math:`O(n^2 d)` time,
        blocks of about 131,000 distances), which wins from a joint dimension of about 8.
        ``"auto"`` picks by the joint dimension (the dimension of ``x`` for discrete
        ``y``). Both give the same estimate.

    Notes
    -----
    Needs at least ``k + 1`` samples.
    """

    name = "ksg"
    on_plane = False

    def __init__(
        self,
        k: int = 3,
        variant: int = 1,
        jitter: float = 1e-10,
        algorithm: str = "auto",
        *,
        standardize: bool = True,
    ) -> None:
        k = check_int(k, "k", minimum=1)
        if isinstance(variant, bool) or variant not in (1, 2):
            raise InvalidParameterError(f"variant must be 1 or 2; got {variant!r}")
        jitter = check_positive(jitter, "jitter", allow_zero=True)
        if algorithm not in _ALGORITHMS:
            raise InvalidParameterError(
                f"algorithm must be one of {', '.join(map(repr, _ALGORITHMS))}; got {algorithm!r}"
            )
        super().__init__(
            k=k,
            variant=int(variant),
            jitter=jitter,
            algorithm=algorithm,
            standardize=check_bool(standardize, "standardize"),
        )
        self.min_samples = k + 1

    def _brute(self, dim: int) -> bool:
        algorithm = self.params["algorithm"]
        return algorithm == "brute" or (algorithm == "auto" and dim >= _BRUTE_FROM_DIM)

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, float | None, float | None, float | None]:
        from scipy.special import digamma  # scipy is imported lazily, on first use

        k: int = self.params["k"]
        prepare = (self.params["standardize"], self.params["jitter"], rng)
        x = _prepare(samples.x, *prepare)
        if samples.y_discrete:
            return _ksg_discrete(x, samples.y, k, self._brute(x.shape[1])), None, None, None
        y = _prepare(samples.y, *prepare)
        n = x.shape[0]
        counts = _joint_counts_brute if self._brute(x.shape[1] + y.shape[1]) else _joint_counts_tree
        n_x, n_y = counts(x, y, k, self.params["variant"])
        if self.params["variant"] == 1:
            value = digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1))
        else:
            value = digamma(k) - 1.0 / k + digamma(n) - np.mean(digamma(n_x) + digamma(n_y))
        return float(value), None, None, None


def _ksg_discrete(x: np.ndarray, labels: np.ndarray, k: int, brute: bool) -> float:
    """Ross (2014) estimate in nats for continuous ``x`` and labels 0..L−1."""
    from scipy.special import digamma

    counts = np.bincount(labels)
    keep = counts[labels] > 1
    if not keep.any():
        raise InvalidParameterError(
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
        radius[mask] = _kth_distance(x[mask], k_c, brute)
        k_used[mask] = k_c
        n_label[mask] = n_c
    m = _count_within(x, radius, brute)  # ≥ k_c: includes the same-label neighbours
    value = digamma(n) - np.mean(digamma(n_label)) + np.mean(digamma(k_used) - digamma(m))
    return float(value)

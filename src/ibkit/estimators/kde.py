r"""Mutual information of a noisy deterministic layer: pairwise-distance bounds and Monte Carlo.

Setting (Saxe et al. 2018; Kolchinsky & Tracey 2017; Goldfeld et al. 2019): a
deterministic layer :math:`T = h(X)` is made stochastic by adding isotropic Gaussian
noise, :math:`\tilde T = h(X) + \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, \sigma^2
I_d)`, and :math:`X` is uniform over the ``n`` given inputs. The rows ``t_i`` of ``x``
passed to :meth:`~ibkit.estimators._base.MIEstimator.estimate` are the layer activations
:math:`h(x_i)`, so :math:`\tilde T` is an equal-weight mixture of ``n`` Gaussians
:math:`\mathcal N(t_i, \sigma^2 I_d)`.

``y`` must be 1-D integer labels (one per row):

* **I(X;T)**: pass ``y = np.arange(n)`` (every input its own label, i.e. all inputs are
  distinct). The class-conditional entropy is then exactly the noise entropy
  :math:`H(\varepsilon) = \tfrac d2 \log(2\pi e\sigma^2)` and
  :math:`I(X;\tilde T) = H(\tilde T) - H(\varepsilon)`.
* **I(T;Y)**: pass the class labels; :math:`I(\tilde T;Y) = H(\tilde T) - \sum_c p(c)\,
  H(\tilde T \mid Y=c)`, each conditional law being the mixture over the rows of class ``c``.

Two estimators are registered:

``"kde"`` (:class:`KDEEstimator`)
    Pairwise-distance bounds of Kolchinsky & Tracey (2017) on the mixture entropy.
``"noisy_mc"`` (:class:`NoisyMCEstimator`)
    Monte Carlo integration of the exact mixture log-density (Goldfeld et al. 2019).

Distances are computed with BLAS (:math:`\|a\|^2 + \|b\|^2 - 2 a^\top b`, clipped at 0) in
row chunks of ``chunk_size`` rows, so memory is ``O(chunk_size * n)`` and ``n = 50,000``
runs in bounded memory.

References
----------
.. [1] A. Kolchinsky and B. D. Tracey, "Estimating mixture entropy with pairwise
   distances", Entropy 19(7):361, 2017.
.. [2] A. M. Saxe et al., "On the information bottleneck theory of deep learning",
   ICLR 2018.
.. [3] Z. Goldfeld et al., "Estimating information flow in deep neural networks",
   ICML 2019.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ibkit._validation import check_int, check_positive
from ibkit.estimators._base import MIEstimator, Samples, register

__all__ = ["KDEEstimator", "NoisyMCEstimator"]


def _labels(samples: Samples) -> np.ndarray:
    if not samples.y_discrete:
        raise ValueError(
            "y must be 1-D integer labels for the noisy-layer estimators; pass the class "
            "labels for I(T;Y), or np.arange(n) (all inputs distinct) for I(X;T)"
        )
    return samples.y


def _sq_dist_chunks(
    q: np.ndarray, p: np.ndarray, chunk_size: int, *, zero_diagonal: bool
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(rows, D)`` with ``D[k, j] = ||q[rows][k] - p[j]||^2`` (clipped at 0).

    With ``zero_diagonal`` (``q is p``) the self-distances are set to exactly 0.
    """
    p_sq = np.einsum("ij,ij->i", p, p)
    q_sq = np.einsum("ij,ij->i", q, q)
    for start in range(0, q.shape[0], chunk_size):
        rows = slice(start, min(start + chunk_size, q.shape[0]))
        d = q[rows] @ p.T
        d *= -2.0
        d += q_sq[rows, None]
        d += p_sq[None, :]
        np.maximum(d, 0.0, out=d)
        if zero_diagonal:
            k = np.arange(rows.stop - rows.start)
            d[k, k + rows.start] = 0.0
        yield rows, d


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """Row-wise ``log(sum(exp(a)))``; every row has at least one finite entry."""
    m = a.max(axis=1, keepdims=True)
    return m[:, 0] + np.log(np.exp(a - m).sum(axis=1))


def _row_lse(arg: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise logsumexp over all columns and over the columns where ``mask`` holds."""
    return _logsumexp_rows(arg), _logsumexp_rows(np.where(mask, arg, -np.inf))


class _NoisyLayerEstimator(MIEstimator):
    """Shared parameters of the noisy-layer estimators: σ² and the distance block size."""

    def __init__(self, noise_variance: float, chunk_size: int, **extra: Any) -> None:
        super().__init__(
            noise_variance=check_positive(noise_variance, "noise_variance"),
            **extra,
            chunk_size=check_int(chunk_size, "chunk_size", minimum=1),
        )


@register
class KDEEstimator(_NoisyLayerEstimator):
    r"""Pairwise-distance (KL / Bhattacharyya) bounds on the MI of a noisy layer.

    For an equal-weight mixture of Gaussians :math:`\mathcal N(t_i, \sigma^2 I_d)`,
    Kolchinsky & Tracey (2017) bound the entropy by

    .. math::

        \hat H_D = H(\varepsilon) - \frac1n \sum_i \log \frac1n \sum_j e^{-D_{ij}},

    an upper bound with :math:`D_{ij} = \mathrm{KL}_{ij} = \|t_i - t_j\|^2 / (2\sigma^2)`
    and a lower bound with the Bhattacharyya distance
    :math:`\mathrm{BD}_{ij} = \|t_i - t_j\|^2 / (8\sigma^2)`. The component entropy
    :math:`H(\varepsilon)` cancels in the mutual information:

    .. math::

        I_D(\tilde T; Y) = \frac1n \sum_i \Big[\log \frac{1}{n_{c_i}} \sum_{j: c_j = c_i}
        e^{-D_{ij}} - \log \frac1n \sum_j e^{-D_{ij}}\Big],

    where :math:`c_i` is the label of row ``i`` and :math:`n_c` the size of class ``c``.
    With all-distinct labels (``y = np.arange(n)``) the class term is exactly 0 and the
    KL and BD versions are strict upper and lower bounds on :math:`I(X;\tilde T)`. With
    general labels the same kernel is used in both terms, as in the references [2]_ and
    Kolchinsky's code; the two values are then estimates, not strict bounds, and are
    reported sorted as ``lower`` and ``upper``. ``value`` is their midpoint.

    Parameters
    ----------
    noise_variance : float, default 1e-3
        :math:`\sigma^2 > 0`, the variance of the added noise per dimension.
    chunk_size : int, default 512
        Rows per block of the pairwise-distance computation (memory ``~ chunk_size * n``).

    References
    ----------
    .. [1] A. Kolchinsky and B. D. Tracey, Entropy 19(7):361, 2017.
    .. [2] A. M. Saxe et al., ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[0.0], [10.0]])
    >>> est = KDEEstimator(noise_variance=0.01).estimate(t, np.arange(2))
    >>> round(est.lower, 6), round(est.upper, 6)  # bits: two distinct inputs -> 1 bit
    (1.0, 1.0)
    """

    name = "kde"

    def __init__(self, noise_variance: float = 1e-3, chunk_size: int = 512) -> None:
        super().__init__(noise_variance, chunk_size)

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, float | None, float | None, float | None]:
        labels = _labels(samples)
        t = samples.x
        n = t.shape[0]
        counts = np.bincount(labels)
        distinct = counts.size == n  # all labels distinct: class term is exactly 0
        s2 = self.params["noise_variance"]
        per_row = {"kl": np.empty(n), "bd": np.empty(n)}
        log_n = np.log(n)
        log_nc = np.log(counts[labels])
        for rows, d in _sq_dist_chunks(t, t, self.params["chunk_size"], zero_diagonal=True):
            mask = None if distinct else labels[rows, None] == labels[None, :]
            for key, scale in (("kl", 2.0), ("bd", 8.0)):
                # Every argument is <= 0 and the self term is exactly 0, so the row sums
                # are >= 1 and plain exp/sum/log is safe (no max-shift needed).
                k = np.multiply(d, -1.0 / (scale * s2))
                np.exp(k, out=k)
                lse_all = np.log(k.sum(axis=1))
                if mask is None:
                    cls = 0.0
                else:
                    cls = np.log(np.where(mask, k, 0.0).sum(axis=1)) - log_nc[rows]
                per_row[key][rows] = cls - (lse_all - log_n)
        i_kl = float(np.mean(per_row["kl"]))
        i_bd = float(np.mean(per_row["bd"]))
        lower, upper = min(i_kl, i_bd), max(i_kl, i_bd)
        return 0.5 * (lower + upper), lower, upper, None


@register
class NoisyMCEstimator(_NoisyLayerEstimator):
    r"""Monte Carlo MI of a noisy layer from the exact Gaussian-mixture density.

    Each row ``t_i`` is perturbed ``n_mc`` times, :math:`z = t_i + \varepsilon`,
    :math:`\varepsilon \sim \mathcal N(0, \sigma^2 I_d)`, and the exact mixture
    log-densities are evaluated (chunked logsumexp over all rows):

    .. math::

        \hat I(\tilde T; Y) = \operatorname{mean}_{z}\Big[\log \frac{1}{n_{c}}
        \sum_{j: c_j = c} e^{-\|z - t_j\|^2 / 2\sigma^2}
        - \log \frac1n \sum_j e^{-\|z - t_j\|^2 / 2\sigma^2}\Big],

    with ``c`` the label of the row ``z`` was drawn from. This is
    :math:`\hat H(\tilde T) - \sum_c p(c) \hat H(\tilde T \mid Y=c)`; with all-distinct
    labels (``y = np.arange(n)``) it estimates :math:`I(X;\tilde T) = H(\tilde T) -
    H(\varepsilon)`. The estimate is unbiased; ``std_error`` is the sample standard
    deviation of the ``n * n_mc`` terms over :math:`\sqrt{n\,n_{mc}}` (conservative, as
    the rows are stratified rather than sampled).

    Parameters
    ----------
    noise_variance : float, default 1e-3
        :math:`\sigma^2 > 0`.
    n_mc : int, default 10
        Noise draws per row.
    chunk_size : int, default 512
        Rows of noisy samples per block (memory ``~ chunk_size * n``).

    References
    ----------
    .. [1] Z. Goldfeld et al., "Estimating information flow in deep neural networks",
       ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[0.0], [10.0]])
    >>> est = NoisyMCEstimator(noise_variance=0.01).estimate(t, np.arange(2), random_state=0)
    >>> round(est.value, 6)
    1.0
    """

    name = "noisy_mc"

    def __init__(self, noise_variance: float = 1e-3, n_mc: int = 10, chunk_size: int = 512) -> None:
        super().__init__(noise_variance, chunk_size, n_mc=check_int(n_mc, "n_mc", minimum=1))

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, float | None, float | None, float | None]:
        labels = _labels(samples)
        t = samples.x
        n, d = t.shape
        n_mc = self.params["n_mc"]
        s2 = self.params["noise_variance"]
        counts = np.bincount(labels)
        src = np.repeat(np.arange(n), n_mc)
        z = t[src] + rng.normal(scale=np.sqrt(s2), size=(n * n_mc, d))
        z_labels = labels[src]
        log_nc = np.log(counts[z_labels])
        terms = np.empty(n * n_mc)
        for rows, dist in _sq_dist_chunks(z, t, self.params["chunk_size"], zero_diagonal=False):
            mask = z_labels[rows, None] == labels[None, :]
            lse_all, lse_cls = _row_lse(dist * (-0.5 / s2), mask)
            terms[rows] = (lse_cls - log_nc[rows]) - (lse_all - np.log(n))
        value = float(np.mean(terms))
        std_error = float(np.std(terms, ddof=1) / np.sqrt(terms.size)) if terms.size > 1 else 0.0
        return value, None, None, std_error

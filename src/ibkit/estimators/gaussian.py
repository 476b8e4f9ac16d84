r"""The Gaussian (plug-in covariance) estimator of mutual information.

Treating :math:`(X, Y)` as jointly Gaussian with the sample covariance

.. math::

    \Sigma = \begin{pmatrix} \Sigma_x & \Sigma_{xy} \\ \Sigma_{yx} & \Sigma_y \end{pmatrix},
    \qquad
    \hat I = \tfrac12 \log \frac{\det\Sigma_x \det\Sigma_y}{\det\Sigma} .

This is exact in the limit for Gaussian data and, for any distribution, the MI of the
Gaussian with the same second moments (a lower bound on I(X;Y) when the marginals are
Gaussian; otherwise only a linear-dependence summary).

For a *discrete* ``y`` (integer labels) X is modelled as Gaussian within each class:

.. math::

    \hat I = \tfrac12 \log\det\Sigma_x
        - \sum_c \hat p(c)\, \tfrac12 \log\det\Sigma_{x|c},

the Gaussian entropy of X minus the average Gaussian entropy of X given the class.

A ``ridge`` added to the covariance diagonals regularises near-singular covariances.

References
----------
T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., 2006,
section 8.5 (differential entropy of the multivariate normal).

Examples
--------
>>> import numpy as np
>>> from ibkit.estimators.gaussian import GaussianEstimator
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal(10_000)
>>> y = 0.6 * x + 0.8 * rng.standard_normal(10_000)  # rho = 0.6: I = 0.223 nats
>>> round(GaussianEstimator().estimate(x, y, units="nats").value, 2)
0.22
"""

from __future__ import annotations

import numpy as np

from ibkit._validation import InvalidParameterError, check_positive
from ibkit.estimators._base import MIEstimator, Samples, register

__all__ = ["GaussianEstimator"]

#: Largest admissible condition number of a covariance after scaling to unit diagonal.
_MAX_COND = 1e12


def _logdet(cov: np.ndarray, name: str) -> float:
    """log det ``cov`` for a symmetric positive definite matrix; raise if (near) singular."""
    diag = np.diag(cov)
    if np.any(diag <= 0):
        raise InvalidParameterError(
            f"the covariance of {name} is singular (a constant column); "
            "pass ridge > 0 or drop the column"
        )
    s = np.sqrt(diag)
    eig = np.linalg.eigvalsh(cov / np.outer(s, s))
    if eig[0] <= eig[-1] / _MAX_COND:
        raise InvalidParameterError(
            f"the covariance of {name} is singular or nearly so (condition number "
            f">= {_MAX_COND:.0e}; e.g. a duplicated or linearly dependent column); "
            "pass ridge > 0 or remove the redundant columns"
        )
    return float(2.0 * np.log(s).sum() + np.log(eig).sum())


def _cov(a: np.ndarray, ridge: float) -> np.ndarray:
    """Sample covariance (ddof=1) of the columns of ``a`` plus ``ridge`` on the diagonal."""
    cov = np.atleast_2d(np.cov(a, rowvar=False))
    return cov + ridge * np.eye(cov.shape[0])


@register
class GaussianEstimator(MIEstimator):
    r"""Mutual information of the Gaussian fitted to the samples' covariance.

    Parameters
    ----------
    ridge : float, default 0.0
        Non-negative value added to every covariance diagonal (after estimation).

    Notes
    -----
    Needs at least :math:`d_x + d_y + 2` samples (:math:`d_y = 1` for labels). Raises
    :class:`ValueError` when a covariance is singular; ``ridge > 0`` is the remedy.
    """

    name = "gaussian"
    min_samples = 3
    on_plane = False

    def __init__(self, ridge: float = 0.0) -> None:
        ridge = check_positive(ridge, "ridge", allow_zero=True)
        super().__init__(ridge=ridge)

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, float | None, float | None, float | None]:
        ridge: float = self.params["ridge"]
        x, y = samples.x, samples.y
        d_x = x.shape[1]
        d_y = 1 if samples.y_discrete else y.shape[1]
        if samples.n < d_x + d_y + 2:
            raise InvalidParameterError(
                f"method 'gaussian' needs at least d_x + d_y + 2 = {d_x + d_y + 2} samples; "
                f"got {samples.n}"
            )
        if samples.y_discrete:
            value = 0.5 * _logdet(_cov(x, ridge), "x")
            n = samples.n
            for c in np.unique(y):
                mask = y == c
                n_c = int(mask.sum())
                if n_c < d_x + 1:
                    raise InvalidParameterError(
                        f"label {int(c)} of y has {n_c} samples; the Gaussian estimator needs "
                        f"at least d_x + 1 = {d_x + 1} per label"
                    )
                value -= n_c / n * 0.5 * _logdet(_cov(x[mask], ridge), f"x given y={int(c)}")
            return float(value), None, None, None
        cov = _cov(np.hstack([x, y]), ridge)
        value = 0.5 * (
            _logdet(cov[:d_x, :d_x], "x")
            + _logdet(cov[d_x:, d_x:], "y")
            - _logdet(cov, "the joint (x, y)")
        )
        return float(value), None, None, None

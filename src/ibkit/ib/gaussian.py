r"""The Gaussian Information Bottleneck in closed form.

For jointly Gaussian :math:`X \in \mathbb{R}^{d_x}` and :math:`Y \in \mathbb{R}^{d_y}`
the IB problem :math:`\min_{p(t|x)} I(X;T) - \beta I(T;Y)` is solved by a noisy linear
projection :math:`T = AX + \xi` with :math:`\xi \sim \mathcal{N}(0, I)` (Chechik,
Globerson, Tishby & Weiss, 2005). Everything follows from one generalised symmetric
eigenproblem:

.. math::

    \Sigma_{x|y} w_i = \lambda_i \Sigma_x w_i, \qquad
    \Sigma_{x|y} = \Sigma_x - \Sigma_{xy} \Sigma_y^{-1} \Sigma_{yx},

whose solutions :math:`v_i = w_i^\top` are the left eigenvectors of
:math:`\Sigma_{x|y}\Sigma_x^{-1}`, with :math:`0 < \lambda_1 \le \dots \le
\lambda_{d_x} \le 1` (:math:`1 - \lambda_i` are the squared canonical correlations).
Component :math:`i` is active when :math:`\beta > \beta_i^c = 1/(1 - \lambda_i)`; then

.. math::

    A = \operatorname{diag}(\alpha_1, \dots, \alpha_{d_x})\, V, \qquad
    \alpha_i = \sqrt{\frac{\beta(1 - \lambda_i) - 1}{\lambda_i r_i}}, \quad
    r_i = v_i \Sigma_x v_i^\top,

and :math:`\alpha_i = 0` for inactive components. Because the :math:`v_i` are
:math:`\Sigma_x`- and :math:`\Sigma_{x|y}`-orthogonal, both
:math:`A\Sigma_x A^\top` and :math:`A\Sigma_{x|y}A^\top` are diagonal, and with
:math:`n_\beta` active components the information curve is, in nats,

.. math::

    I(X;T) = \tfrac12 \sum_{i \le n_\beta} \log\frac{(\beta - 1)(1 - \lambda_i)}{\lambda_i},
    \qquad
    I(T;Y) = \tfrac12 \sum_{i \le n_\beta} \log\frac{\beta - 1}{\beta \lambda_i}.

As :math:`\beta \to \infty`, :math:`I(T;Y) \to -\tfrac12 \sum_i \log \lambda_i = I(X;Y)
= \tfrac12 \log(\det\Sigma_x \det\Sigma_y / \det\Sigma)`.

Reference: G. Chechik, A. Globerson, N. Tishby and Y. Weiss, "Information Bottleneck for
Gaussian Variables", *Journal of Machine Learning Research* 6:165–188, 2005.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.linalg as sla

from ibkit._validation import (
    InvalidParameterError,
    check_array,
    check_positive,
    check_units,
    from_nats,
)
from ibkit.ib._result import CurveResult

__all__ = ["GaussianIBResult", "gaussian_ib", "gaussian_ib_from_samples"]

#: Largest admissible condition number of a covariance after scaling to unit diagonal.
_MAX_COND = 1e12
#: Relative tolerance of the symmetry check.
_SYM_RTOL = 1e-8


@dataclass(frozen=True, eq=False)
class GaussianIBResult(CurveResult):
    r"""The Gaussian IB curve at a grid of trade-off parameters β.

    Shares ``to_frame()`` (one row per β), ``to_dict()`` and ``plot()`` with the other
    curve results (:class:`~ibkit.ib.CurveResult`).

    Attributes
    ----------
    betas : ndarray, shape (n_betas,)
        The trade-off parameters, in the order given.
    i_xt, i_ty : ndarray, shape (n_betas,)
        I(X;T) and I(T;Y) of the optimal bottleneck at each β, in ``units``.
    n_active : ndarray of int, shape (n_betas,)
        Number of active components (those with :math:`\beta > \beta_i^c`) at each β.
    eigenvalues : ndarray, shape (d_x,)
        :math:`\lambda_i` of :math:`\Sigma_{x|y}\Sigma_x^{-1}`, ascending, in (0, 1].
    critical_betas : ndarray, shape (d_x,)
        :math:`\beta_i^c = 1/(1-\lambda_i)`, ascending; ``inf`` where :math:`\lambda_i = 1`
        (a direction of X uncorrelated with Y, which never becomes active).
    eigenvectors : ndarray, shape (d_x, d_x)
        Row i is the left eigenvector :math:`v_i`, scaled so that
        :math:`v_i \Sigma_x v_i^\top = 1` and signed so that the largest-magnitude entry
        of :math:`v_i \operatorname{diag}(\Sigma_x)^{1/2}` (the weights on standardised X)
        is positive.
    i_xy : float
        :math:`I(X;Y) = \tfrac12\log(\det\Sigma_x \det\Sigma_y / \det\Sigma)` in ``units``,
        the supremum of ``i_ty``.
    units : str
        ``"bits"`` or ``"nats"``.
    """

    betas: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    n_active: np.ndarray
    eigenvalues: np.ndarray
    critical_betas: np.ndarray
    eigenvectors: np.ndarray
    i_xy: float
    units: str

    _COLUMNS: ClassVar[dict[str, str]] = {
        "beta": "betas",
        "i_xt": "i_xt",
        "i_ty": "i_ty",
        "n_active": "n_active",
    }
    _PLOT: ClassVar[str] = "plot_gaussian_ib"

    def projection(self, beta: float) -> np.ndarray:
        r"""The optimal projection :math:`A` of :math:`T = AX + \xi`, :math:`\xi\sim N(0,I)`.

        Parameters
        ----------
        beta : float
            Trade-off parameter, > 0 (any β, not only those of :attr:`betas`).

        Returns
        -------
        ndarray, shape (d_x, d_x)
            :math:`A = \operatorname{diag}(\alpha)\,V`. Rows follow :attr:`eigenvalues`
            (ascending), so the active components come first and the rows of inactive
            components are zero; ``A[:n_active]`` is the compact projection onto the
            informative dimensions (the zero rows only add independent noise to T).
        """
        beta = check_positive(beta, "beta")
        lam = self.eigenvalues
        # r_i = v_i Σx v_iᵀ = 1 by the normalisation of the eigenvectors.
        alpha = np.sqrt(np.maximum(beta * (1.0 - lam) - 1.0, 0.0) / lam)
        return alpha[:, None] * self.eigenvectors

    def information_at(self, betas: Any) -> tuple[np.ndarray, np.ndarray]:
        """I(X;T) and I(T;Y) in ``units`` of the optimal bottleneck at other β values."""
        grid = np.atleast_1d(check_array(betas, "betas", ndim=(0, 1)))
        if (grid <= 0).any():
            raise InvalidParameterError(f"betas must all be > 0; got min {grid.min():g}")
        i_xt, i_ty, _ = _curve_nats(1.0 - self.eigenvalues, grid)
        return from_nats(i_xt, self.units), from_nats(i_ty, self.units)


def gaussian_ib(
    cov_x: Any, cov_xy: Any, cov_y: Any, betas: Any, *, units: str = "bits"
) -> GaussianIBResult:
    r"""Solve the Gaussian Information Bottleneck exactly for a grid of β.

    Parameters
    ----------
    cov_x : array_like, shape (d_x, d_x)
        Covariance :math:`\Sigma_x` of X.
    cov_xy : array_like, shape (d_x, d_y)
        Cross-covariance :math:`\Sigma_{xy} = \operatorname{Cov}(X, Y)`.
    cov_y : array_like, shape (d_y, d_y)
        Covariance :math:`\Sigma_y` of Y.
    betas : float or array_like, shape (n_betas,)
        Trade-off parameters, each finite and > 0 (β ≤ 1 always gives the trivial T).
    units : {"bits", "nats"}
        Units of the returned informations.

    Returns
    -------
    GaussianIBResult
        The curve ``(i_xt, i_ty)`` at each β, the eigen-decomposition behind it and
        :meth:`~GaussianIBResult.projection` for the optimal encoder.

    Raises
    ------
    ValueError
        If a covariance has the wrong shape, is not finite or not symmetric, or if the
        joint covariance :math:`\Sigma = [[\Sigma_x, \Sigma_{xy}], [\Sigma_{yx},
        \Sigma_y]]` is not (numerically) positive definite — a singular Σ means some
        direction of X is a deterministic function of Y and I(X;Y) is infinite; or if
        ``betas`` is empty or holds a value ≤ 0.

    Notes
    -----
    With :math:`\lambda_i` the ascending eigenvalues of the generalised symmetric problem
    :math:`\Sigma_{x|y} w = \lambda \Sigma_x w` and :math:`n_\beta` the number of
    :math:`\lambda_i` with :math:`\beta(1-\lambda_i) > 1`, in nats,

    .. math::

        I(X;T) = \tfrac12 \sum_{i\le n_\beta} \log\frac{(\beta-1)(1-\lambda_i)}{\lambda_i},
        \qquad
        I(T;Y) = I(X;T) - \tfrac12 \sum_{i\le n_\beta} \log\big(\beta(1-\lambda_i)\big).

    The curve is evaluated for all β at once. The slope
    :math:`dI(T;Y)/dI(X;T) = 1/\beta`, so the curve is increasing and concave.

    Numerically, the same pencil is solved with :func:`scipy.linalg.eigh` in the shifted
    form :math:`\Sigma_{xy}\Sigma_y^{-1}\Sigma_{yx} w = (1-\lambda)\Sigma_x w`, on the
    covariances rescaled to unit diagonal (the problem is invariant to rescaling X and
    Y). This gives :math:`1-\lambda_i` (the squared canonical correlations) and
    :math:`\beta_i^c` to full relative precision even for very weak dependence.
    Values of :math:`1-\lambda_i` below the rounding level, about
    :math:`\epsilon \operatorname{cond}(\Sigma)`, are set to 0 (:math:`\lambda_i = 1`,
    :math:`\beta_i^c = \infty`): when :math:`d_x > d_y` at least :math:`d_x - d_y`
    directions of X carry no information about Y.

    References
    ----------
    G. Chechik, A. Globerson, N. Tishby and Y. Weiss, "Information Bottleneck for Gaussian
    Variables", *JMLR* 6:165–188, 2005.

    Examples
    --------
    Scalar X and Y with correlation ρ = 0.8: λ = 1 − ρ² and :math:`\beta^c = 1/\rho^2`.

    >>> from ibkit.ib.gaussian import gaussian_ib
    >>> res = gaussian_ib([[1.0]], [[0.8]], [[1.0]], [1.0, 2.0, 1e9])
    >>> res.eigenvalues.round(6), res.critical_betas.round(6)
    (array([0.36]), array([1.5625]))
    >>> res.n_active
    array([0, 1, 1])
    >>> res.i_xt.round(3), res.i_ty.round(3), round(res.i_xy, 3)
    (array([ 0.   ,  0.415, 15.364]), array([0.   , 0.237, 0.737]), 0.737)
    """
    units = check_units(units)
    cov_x = _check_cov(cov_x, "cov_x")
    cov_y = _check_cov(cov_y, "cov_y")
    dx, dy = cov_x.shape[0], cov_y.shape[0]
    cov_xy = check_array(cov_xy, "cov_xy", ndim=2)
    if cov_xy.shape != (dx, dy):
        raise InvalidParameterError(
            f"cov_xy must have shape (d_x, d_y) = ({dx}, {dy}) to match cov_x and cov_y; "
            f"got shape {cov_xy.shape}"
        )
    betas = np.atleast_1d(check_array(betas, "betas", ndim=(0, 1))).copy()
    if (betas <= 0).any():
        raise InvalidParameterError(
            f"betas must all be > 0; got {int((betas <= 0).sum())} value(s) <= 0 "
            f"(min {betas.min():.6g})"
        )

    # Work on the unit-diagonal (correlation) scale: the eigenvalues are invariant under
    # X -> D X, and v = v' D^{-1} maps the eigenvectors back with v Σx vᵀ unchanged.
    sx, sy = np.sqrt(np.diag(cov_x)), np.sqrt(np.diag(cov_y))
    rx, ry = cov_x / np.outer(sx, sx), cov_y / np.outer(sy, sy)
    rxy = cov_xy / np.outer(sx, sy)
    joint = np.block([[rx, rxy], [rxy.T, ry]])
    cond = _check_well_conditioned(
        joint,
        "the joint covariance [[cov_x, cov_xy], [cov_xy.T, cov_y]]",
        extra=(
            "a singular joint covariance means X is partly a deterministic function of Y "
            "and I(X;Y) is infinite"
        ),
    )
    # Σ_{x|y} w = λ Σx w  <=>  Σxy Σy⁻¹ Σyx w = (1 − λ) Σx w. Solving for the squared
    # canonical correlations ρ² = 1 − λ keeps full relative precision for weakly
    # informative directions (λ near 1), where β^c = 1/ρ² is large.
    explained = rxy @ sla.cho_solve(sla.cho_factor(ry), rxy.T)
    rho2, w = sla.eigh((explained + explained.T) / 2.0, rx)
    rho2, w = rho2[::-1], w[:, ::-1]  # descending ρ², i.e. ascending λ
    # Eigenvalue errors grow like eps·cond: below that, ρ² is indistinguishable from 0.
    tol = 16.0 * (dx + dy) * np.finfo(float).eps * cond
    rho2 = np.where(rho2 <= tol, 0.0, rho2)
    lam = 1.0 - rho2
    if lam[0] <= 0.0:
        raise InvalidParameterError(
            "the joint covariance [[cov_x, cov_xy], [cov_xy.T, cov_y]] is numerically "
            f"singular: smallest eigenvalue of cov_x|y cov_x^-1 is {lam[0]:.3g} <= 0, "
            "so X is (nearly) a deterministic function of Y and I(X;Y) is infinite"
        )
    w *= np.sign(w[np.abs(w).argmax(axis=0), np.arange(dx)])[None, :]
    v = w.T / sx[None, :]
    with np.errstate(divide="ignore"):
        critical = 1.0 / rho2

    i_xt, i_ty, active = _curve_nats(rho2, betas)
    # ½ log(det Σx det Σy / det Σ) = −½ log det(Σ_{x|y} Σx⁻¹) = −½ Σ log λ_i.
    i_xy = -0.5 * np.log1p(-rho2).sum()

    return GaussianIBResult(
        betas=betas,
        i_xt=from_nats(i_xt, units),
        i_ty=from_nats(i_ty, units),
        n_active=active.sum(axis=1),
        eigenvalues=lam,
        critical_betas=critical,
        eigenvectors=v,
        i_xy=float(from_nats(max(i_xy, 0.0), units)),
        units=units,
    )


def _curve_nats(rho2: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """I(X;T), I(T;Y) in nats at each β from the squared canonical correlations ρ² = 1 − λ.

    Component i is active when β > 1/ρ_i²; the per-component terms are written as sums
    of logs for accuracy at large β. Also returns the (n_betas, d_x) activity mask.
    """
    with np.errstate(divide="ignore"):
        active = betas[:, None] > 1.0 / rho2[None, :]
    log_lam = np.log1p(-rho2)
    with np.errstate(divide="ignore", invalid="ignore"):
        term_ty = np.log1p(-1.0 / betas)[:, None] - log_lam
        term_xt = np.log(betas - 1.0)[:, None] + np.log(rho2) - log_lam
    i_xt = 0.5 * np.where(active, term_xt, 0.0).sum(axis=1)
    i_ty = 0.5 * np.where(active, term_ty, 0.0).sum(axis=1)
    return np.maximum(i_xt, 0.0), np.maximum(i_ty, 0.0), active


def gaussian_ib_from_samples(
    x: Any, y: Any, betas: Any, *, units: str = "bits"
) -> GaussianIBResult:
    r"""Gaussian IB on covariances estimated from paired samples.

    The unbiased sample covariance (:func:`numpy.cov`) of the stacked ``[x, y]`` is
    split into :math:`\Sigma_x, \Sigma_{xy}, \Sigma_y` and passed to
    :func:`gaussian_ib`. The plug-in estimate of I(X;Y) is biased upwards by about
    :math:`d_x d_y / (2n)` nats.

    Parameters
    ----------
    x : array_like, shape (n, d_x) or (n,)
        Samples of X, one row per observation (1-D means d_x = 1).
    y : array_like, shape (n, d_y) or (n,)
        Samples of Y paired row by row with ``x``.
    betas : float or array_like, shape (n_betas,)
        Trade-off parameters, each > 0.
    units : {"bits", "nats"}
        Units of the returned informations.

    Returns
    -------
    GaussianIBResult

    Raises
    ------
    ValueError
        If ``x`` or ``y`` is not finite or 1-D/2-D, if their numbers of rows differ, or if
        n ≤ d_x + d_y (the sample joint covariance would be singular); plus everything
        :func:`gaussian_ib` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from ibkit.ib.gaussian import gaussian_ib_from_samples
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal(100_000)
    >>> x = 0.8 * y + 0.6 * rng.standard_normal(100_000)
    >>> res = gaussian_ib_from_samples(x, y, [10.0])
    >>> bool(abs(res.critical_betas[0] - 1 / 0.64) < 0.02)
    True
    """
    x = check_array(x, "x", ndim=(1, 2))
    y = check_array(y, "y", ndim=(1, 2))
    x = x[:, None] if x.ndim == 1 else x
    y = y[:, None] if y.ndim == 1 else y
    (n, dx), dy = x.shape, y.shape[1]
    if y.shape[0] != n:
        raise InvalidParameterError(
            f"x and y must have the same number of rows (paired samples); "
            f"got x with {n} and y with {y.shape[0]}"
        )
    if n <= dx + dy:
        raise InvalidParameterError(
            f"x and y need more samples than dimensions, n > d_x + d_y = {dx + dy}; got n = {n}"
        )
    cov = np.cov(np.hstack([x, y]), rowvar=False)
    return gaussian_ib(cov[:dx, :dx], cov[:dx, dx:], cov[dx:, dx:], betas, units=units)


def _check_cov(a: Any, name: str) -> np.ndarray:
    """Validate a square, finite, symmetric, positive-definite covariance; symmetrise it."""
    a = check_array(a, name, ndim=2)
    if a.shape[0] != a.shape[1]:
        raise InvalidParameterError(f"{name} must be a square matrix; got shape {a.shape}")
    asym = np.abs(a - a.T).max()
    if asym > _SYM_RTOL * np.abs(a).max():
        raise InvalidParameterError(
            f"{name} must be symmetric; got max |{name} - {name}.T| = {asym:.3g}"
        )
    diag = np.diag(a)
    if (diag <= 0).any():
        raise InvalidParameterError(
            f"{name} must be positive definite; got a diagonal entry {diag.min():.3g} <= 0"
        )
    a = (a + a.T) / 2.0
    _check_well_conditioned(a / np.sqrt(np.outer(diag, diag)), name)
    return a


def _check_well_conditioned(corr: np.ndarray, name: str, extra: str = "") -> float:
    """Return the condition number of a unit-diagonal symmetric matrix; raise unless it is
    numerically positive definite."""
    eig = np.linalg.eigvalsh(corr)
    if eig[0] <= eig[-1] / _MAX_COND:
        why = f"; {extra}" if extra else ""
        raise InvalidParameterError(
            f"{name} must be positive definite (condition number of its correlation "
            f"matrix <= {_MAX_COND:.0e}); got smallest/largest eigenvalue "
            f"{eig[0]:.3g}/{eig[-1]:.3g}{why}"
        )
    return float(eig[-1] / eig[0])

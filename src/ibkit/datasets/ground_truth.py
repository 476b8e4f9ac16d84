r"""Ground-truth samplers: joint distributions of (X, Y) that know their own I(X;Y).

Used to measure the estimators of :mod:`ibkit.estimators` against the truth.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ibkit._validation import (
    InvalidParameterError,
    check_bool,
    check_int,
    check_positive,
    check_probabilities,
    check_random_state,
    check_units,
    from_nats,
)

__all__ = [
    "GroundTruthTask",
    "TRANSFORMS",
    "discrete_task",
    "gaussian_task",
    "independent_task",
    "student_t_task",
    "transformed_task",
]

#: Invertible per-coordinate maps usable by :func:`transformed_task`.
TRANSFORMS: dict[str, Any] = {"cube": lambda a: a**3, "asinh": np.arcsinh}


def _student_t_correction(dof: float, dim_x: int, dim_y: int) -> float:
    r"""MI of a multivariate Student-t minus that of the Gaussian with its scale matrix.

    With :math:`f(k) = \log\Gamma(k/2) - \tfrac{k}{2}\psi(k/2)`, the correction is
    :math:`f(\nu) + f(\nu + d_x + d_y) - f(\nu + d_x) - f(\nu + d_y)` (from the
    differential entropy of the multivariate t; it is > 0 and vanishes as
    :math:`\nu \to \infty`).
    """
    from scipy.special import digamma, gammaln

    def f(k: float) -> float:
        return float(gammaln(k / 2) - k / 2 * digamma(k / 2))

    return f(dof) + f(dof + dim_x + dim_y) - f(dof + dim_x) - f(dof + dim_y)


@dataclass(frozen=True, eq=False)
class GroundTruthTask:
    r"""A joint distribution of (X, Y) that can be sampled and whose I(X;Y) is known.

    Build one with :func:`gaussian_task`, :func:`student_t_task`,
    :func:`independent_task`, :func:`transformed_task` or :func:`discrete_task`;
    construction only stores parameters, :meth:`sample` draws the data.

    Attributes
    ----------
    name : str
        A short description of the task.
    mi_nats : float
        The exact mutual information :math:`I(X;Y)` in nats.
    kind : {"gaussian", "student_t", "discrete"}
        The family sampled from.
    rho : tuple of float
        Per-coordinate correlation :math:`\rho_i` between :math:`X_i` and :math:`Y_i`
        (``"gaussian"`` and ``"student_t"``; their scale matrix has unit diagonal and
        no other off-diagonal entries). Its length is the dimension of X and of Y.
    dof : float or None
        Degrees of freedom :math:`\nu` (``"student_t"`` only).
    transforms : tuple of str
        Names of :data:`TRANSFORMS` applied, in order, to every coordinate of the
        continuous samples.
    p_xy : ndarray or None
        The joint table, shape (|X|, |Y|) (``"discrete"`` only).
    """

    name: str
    mi_nats: float
    kind: str
    rho: tuple[float, ...] = ()
    dof: float | None = None
    transforms: tuple[str, ...] = ()
    p_xy: np.ndarray | None = None

    @property
    def dim(self) -> int:
        """Dimension of X and of Y (1 for a discrete task)."""
        return len(self.rho) if self.kind != "discrete" else 1

    def mi(self, units: str = "bits") -> float:
        """The exact mutual information :math:`I(X;Y)` in ``units``."""
        return float(from_nats(self.mi_nats, check_units(units)))

    def sample(self, n: int, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` independent pairs.

        Returns
        -------
        x, y : ndarray
            Continuous tasks: float64 arrays of shape (n, dim) each. Discrete tasks:
            int64 labels of shape (n,) each (row and column indices of ``p_xy``).
        """
        n = check_int(n, "n", minimum=1)
        rng = check_random_state(random_state)
        if self.kind == "discrete":
            assert self.p_xy is not None
            n_y = self.p_xy.shape[1]
            flat = rng.choice(self.p_xy.size, size=n, p=self.p_xy.ravel())
            return (flat // n_y).astype(np.int64), (flat % n_y).astype(np.int64)
        rho = np.asarray(self.rho, dtype=np.float64)
        z = rng.standard_normal((2, n, rho.size))
        x = z[0]
        y = rho * z[0] + np.sqrt(1.0 - rho**2) * z[1]
        if self.kind == "student_t":
            assert self.dof is not None
            scale = np.sqrt(self.dof / rng.chisquare(self.dof, size=(n, 1)))
            x, y = x * scale, y * scale
        for t in self.transforms:
            x, y = TRANSFORMS[t](x), TRANSFORMS[t](y)
        return x, y


def _check_rho(rho: Any, dim: Any, sparse: bool) -> tuple[int, tuple[float, ...]]:
    dim = check_int(dim, "dim", minimum=1)
    sparse = check_bool(sparse, "sparse")
    if isinstance(rho, bool) or not isinstance(rho, numbers.Real) or not abs(rho) < 1:
        raise InvalidParameterError(f"rho must be a real number with |rho| < 1; got {rho!r}")
    n_corr = max(1, dim // 5) if sparse else dim
    return dim, (float(rho),) * n_corr + (0.0,) * (dim - n_corr)


def _gaussian_mi_nats(rho: tuple[float, ...]) -> float:
    return float(-0.5 * np.sum(np.log1p(-np.square(rho))))


def gaussian_task(dim: int = 1, rho: float = 0.8, *, sparse: bool = False) -> GroundTruthTask:
    r"""Jointly Gaussian X, Y in :math:`\mathbb{R}^{dim}` with unit variances.

    :math:`\operatorname{corr}(X_i, Y_i) = \rho` for every coordinate (``sparse=False``)
    or only the first ``max(1, dim // 5)`` (``sparse=True``, the rest independent); all
    other pairs are uncorrelated. :math:`I(X;Y) = -\tfrac12\sum_i \log(1 - \rho_i^2)`.

    Examples
    --------
    >>> round(gaussian_task(2, 0.8).mi("nats"), 6)  # -log(1 - 0.64)
    1.021651
    """
    dim, rhos = _check_rho(rho, dim, sparse)
    name = f"gaussian(dim={dim}, rho={rho}{', sparse' if sparse else ''})"
    return GroundTruthTask(name, _gaussian_mi_nats(rhos), "gaussian", rhos)


def student_t_task(
    dim: int = 1, rho: float = 0.8, dof: float = 3.0, *, sparse: bool = False
) -> GroundTruthTask:
    r"""Multivariate Student-t (X, Y) with :math:`\nu` = ``dof`` and Gaussian-task scale.

    :math:`(X, Y) = Z / \sqrt{W/\nu}` with :math:`Z` as in :func:`gaussian_task` and
    :math:`W \sim \chi^2_\nu` shared by all coordinates, so
    :math:`I(X;Y) = -\tfrac12\sum_i \log(1-\rho_i^2) + c(\nu, d, d)` with
    :math:`c` > 0 from the multivariate-t entropy: X and Y share information through
    :math:`W` even when :math:`\rho = 0`.
    """
    dim, rhos = _check_rho(rho, dim, sparse)
    nu = check_positive(dof, "dof")
    mi = _gaussian_mi_nats(rhos) + _student_t_correction(nu, dim, dim)
    name = f"student_t(dim={dim}, rho={rho}, dof={dof}{', sparse' if sparse else ''})"
    return GroundTruthTask(name, mi, "student_t", rhos, dof=nu)


def independent_task(dim: int = 1) -> GroundTruthTask:
    """Independent standard normal X, Y in :math:`\\mathbb{R}^{dim}`; I(X;Y) = 0."""
    dim, rhos = _check_rho(0.0, dim, False)
    return GroundTruthTask(f"independent(dim={dim})", 0.0, "gaussian", rhos)


def transformed_task(base: GroundTruthTask, transform: str = "cube") -> GroundTruthTask:
    """``base`` with an invertible map applied to every coordinate of x and y.

    Mutual information is invariant under invertible maps of X and of Y, so
    ``mi_nats`` is that of ``base``; with the same seed, the samples are the transform
    of ``base``'s samples. ``transform`` is a key of :data:`TRANSFORMS`
    (``"cube"``: :math:`t^3`, ``"asinh"``: :math:`\\operatorname{asinh} t`).
    """
    if not isinstance(base, GroundTruthTask) or base.kind == "discrete":
        raise InvalidParameterError(
            f"base must be a continuous GroundTruthTask; got {getattr(base, 'name', base)!r}"
        )
    if transform not in TRANSFORMS:
        raise InvalidParameterError(
            f"transform must be one of {sorted(TRANSFORMS)}; got {transform!r}"
        )
    return GroundTruthTask(
        f"{transform}({base.name})",
        base.mi_nats,
        base.kind,
        base.rho,
        base.dof,
        base.transforms + (transform,),
    )


def discrete_task(p_xy: Any, *, normalize: bool = False) -> GroundTruthTask:
    """Integer pairs (x, y) drawn from the joint table ``p_xy`` of shape (|X|, |Y|).

    ``normalize=True`` accepts counts. ``mi_nats`` is
    :func:`ibkit.measures.mutual_information` of the table.
    """
    from ibkit.measures import mutual_information

    p = check_probabilities(p_xy, "p_xy", ndim=2, normalize=normalize)
    p.setflags(write=False)
    mi = mutual_information(p, units="nats")
    return GroundTruthTask(f"discrete({p.shape[0]}x{p.shape[1]})", mi, "discrete", p_xy=p)

r"""Matrix-based Rényi α-order entropy and mutual information.

Sánchez Giraldo, Rao & Príncipe (2015) define entropy-like functionals on the Gram
matrix of a positive definite kernel, with no density estimate. With
:math:`K_{ij} = \kappa(x_i, x_j)` on the ``n`` rows and

.. math::

    A = \frac{1}{n}\,\Big[\frac{K_{ij}}{\sqrt{K_{ii} K_{jj}}}\Big]_{ij}

(positive semidefinite with unit trace), the entropy of order :math:`\alpha > 0` is

.. math::

    S_\alpha(A) = \frac{1}{1 - \alpha} \log \sum_{i=1}^n \lambda_i(A)^\alpha,

the Rényi entropy of the eigenvalues of :math:`A` (they sum to 1), and at
:math:`\alpha = 1` its limit, the von Neumann entropy :math:`-\sum_i \lambda_i \log
\lambda_i`. Joint entropy and mutual information use the Hadamard product:

.. math::

    S_\alpha(A, B) = S_\alpha\Big(\frac{A \circ B}{\operatorname{tr}(A \circ B)}\Big),
    \qquad I_\alpha(A; B) = S_\alpha(A) + S_\alpha(B) - S_\alpha(A, B).

Both kernels used here have :math:`K_{ii} = 1`, so the normalisation is :math:`A = K/n`
and :math:`\operatorname{tr}(A \circ B) = 1/n`:

* a Gaussian kernel :math:`K_{ij} = e^{-\|x_i - x_j\|^2 / 2\sigma^2}` on continuous rows,
  its width :math:`\sigma` set by a rule (see :class:`RenyiEstimator`);
* the delta kernel :math:`K_{ij} = [y_i = y_j]` on discrete labels (1-D integers). Its
  Gram matrix is block diagonal once the rows are grouped by label, with a block of
  ones per label, so :math:`S_\alpha(A_Y)` is the classical Rényi entropy of the label
  frequencies and :math:`A \circ A_Y` is block diagonal: its spectrum is the union of
  those of the blocks, found block by block.

This is **not** Shannon mutual information: it is an α-order functional of kernel
matrices, and it depends on the kernel width by construction. As :math:`\alpha \to 1`
it tends to the von Neumann entropy of the normalised Gram matrix, not to a
differential entropy. Yu et al. (2020) extend it to several variables; Wickstrøm et
al. (2019) use it for the information plane of neural networks, at :math:`\alpha =
1.01`.

References
----------
.. [1] L. G. Sánchez Giraldo, M. Rao and J. C. Príncipe, "Measures of entropy from data
   using infinitely divisible kernels", IEEE Trans. Inf. Theory 61(1):535-548, 2015.
.. [2] S. Yu, L. G. Sánchez Giraldo, R. Jenssen and J. C. Príncipe, "Multivariate
   extension of matrix-based Rényi's α-order entropy functional", IEEE TPAMI
   42(11):2960-2966, 2020.
.. [3] K. Wickstrøm, S. Løkse, M. Kampffmeyer, S. Yu, J. C. Príncipe and R. Jenssen,
   "Information plane analysis of deep neural networks via matrix-based Rényi's entropy
   and tensor kernels", arXiv:1909.11396, 2019.
.. [4] B. W. Silverman, "Density Estimation for Statistics and Data Analysis", Chapman
   & Hall, 1986.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy.special import entr, logsumexp

from ibkit._validation import InvalidParameterError, check_int, check_positive, check_random_state
from ibkit.estimators._base import MIEstimator, Nats, Samples, register
from ibkit.estimators._xp import namespace

__all__ = ["RenyiEstimator"]

#: The kernel-width rules, by name.
WIDTH_RULES = ("silverman", "knn")

#: γ of Silverman's rule σ = γ s n^(−1/(4+d)).
SILVERMAN_GAMMA = 1.0

#: k of the nearest-neighbour rule (Wickstrøm et al. 2019).
KNN_NEIGHBORS = 10


def _renyi_entropy_nats(eigenvalues: np.ndarray, alpha: float) -> float:
    r""":math:`S_\alpha` in nats of the PSD matrix with these eigenvalues, scaled to unit
    trace.

    Eigenvalues below ``n * eps * max`` (the numerical-rank tolerance of
    :func:`numpy.linalg.matrix_rank`) are rounding noise of zero eigenvalues and are
    dropped; they would otherwise count for :math:`\alpha < 1`.
    """
    tol = eigenvalues.max() * eigenvalues.size * np.finfo(float).eps
    lam = eigenvalues[eigenvalues > tol]
    lam = lam / lam.sum()
    if alpha == 1.0:
        return float(entr(lam).sum())
    return float(logsumexp(alpha * np.log(lam)) / (1.0 - alpha))


def _label_eigenvalues(labels: np.ndarray) -> np.ndarray:
    """Eigenvalues of the delta-kernel Gram matrix: one block of ones per label, whose
    eigenvalues are the label's count and zeros."""
    return np.bincount(labels).astype(float)


def _joint_label_eigenvalues(gram: Any, labels: np.ndarray) -> np.ndarray:
    """Eigenvalues of ``gram ∘ [labels_i = labels_j]``: block diagonal once the rows are
    grouped by label, its spectrum is that of the blocks (a row alone is ``gram_ii = 1``).
    ``gram`` is an array or a tensor, the labels and the eigenvalues on the host."""
    xp = namespace(gram)
    counts = np.bincount(labels)
    shared = np.flatnonzero(counts[labels] > 1)
    grouped = shared[np.argsort(labels[shared], kind="stable")]
    blocks = np.split(grouped, np.cumsum(counts[counts > 1])[:-1])
    alone = np.ones(labels.size - shared.size)
    return np.concatenate([alone, *(xp.eigvalsh(gram[b[:, None], b]) for b in blocks)])


def _gaussian_gram(rows: Any, kernel_width: str | float) -> Any:
    r"""The Gaussian Gram matrix :math:`e^{-\|r_i - r_j\|^2 / 2\sigma^2}` of ``rows``, with
    ``σ`` given or set by the named rule (see :class:`RenyiEstimator`).

    The rows are first divided by the power of two just above their largest magnitude
    (exact), so that no scale of the data overflows or underflows the distances; a
    given width is divided alike. ``σ = 0`` (all rows equal or, under the
    nearest-neighbour rule, every row repeated more than ``k`` times) is the kernel's
    limit, the delta kernel on the rows' values. ``rows`` is an array or a tensor, and so
    is the Gram matrix.
    """
    xp = namespace(rows)
    peak = float(abs(rows).max())
    shift = math.frexp(peak)[1] if peak > 0 else 0
    unit = xp.ldexp(rows, -shift)
    dist = xp.distances(unit)
    if kernel_width == "silverman":
        n, d = unit.shape
        spread = math.sqrt(float(xp.var0(unit).sum()))
        sigma = SILVERMAN_GAMMA * spread * n ** (-1.0 / (4 + d))
    elif kernel_width == "knn":
        k = min(KNN_NEIGHBORS, unit.shape[0] - 1)
        sigma = float(xp.kth_smallest(dist, k).mean())
    else:
        try:
            sigma = math.ldexp(kernel_width, -shift)
        except OverflowError:  # wider than float range in units of tiny rows: kernel 1
            sigma = math.inf
    return xp.astype(dist == 0.0, np.float64) if sigma == 0 else xp.exp(-0.5 * (dist / sigma) ** 2)


def _check_kernel_width(value: Any) -> str | float:
    if isinstance(value, str) and value in WIDTH_RULES:
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < np.inf:
        return float(value)
    raise InvalidParameterError(
        f"kernel_width must be 'silverman', 'knn' or a finite number > 0 (in the units of "
        f"the data); got {value!r}"
    )


@register
class RenyiEstimator(MIEstimator):
    r"""Matrix-based Rényi α-order mutual information (Sánchez Giraldo et al. 2015).

    :math:`I_\alpha(X;Y) = S_\alpha(A_X) + S_\alpha(A_Y) - S_\alpha(A_X, A_Y)` from the
    normalised Gram matrices of the rows of ``x`` (Gaussian kernel) and of ``y``
    (Gaussian kernel, or the delta kernel on 1-D integer labels); see
    :mod:`ibkit.estimators.renyi` for the definitions. It is an α-order functional of
    kernel matrices, **not** Shannon mutual information: its values depend on the
    kernel width by construction, are at most :math:`\log n` (the entropy of ``n``
    equal eigenvalues), and at :math:`\alpha \to 1` tend to von Neumann entropies of the
    Gram matrices, not to differential entropies.

    **Bounds.** Write :math:`K_{ij} = \langle\phi_i, \phi_j\rangle` and :math:`L_{ij} =
    \langle\psi_i, \psi_j\rangle` with unit-norm features (:math:`K_{ii} = L_{ii} = 1`).
    The spectra of :math:`A`, :math:`B` and :math:`A \circ B / \operatorname{tr}(A \circ
    B)` are those of the density operators :math:`\rho_X = \frac1n \sum_i \phi_i
    \phi_i^\top`, :math:`\rho_Y` and the separable state :math:`\rho_{XY} = \frac1n
    \sum_i (\phi_i \otimes \psi_i)(\phi_i \otimes \psi_i)^\top`, whose partial traces are
    :math:`\rho_X` and :math:`\rho_Y`. The spectrum of a separable state is majorised by
    those of its marginals (Nielsen & Kempe 2001), so :math:`I_\alpha \le
    \min(S_\alpha(A), S_\alpha(B))` for every α. At :math:`\alpha = 1`, subadditivity of
    the von Neumann entropy (Araki & Lieb 1970) gives :math:`I_1 \ge 0`. For
    :math:`\alpha \ne 1` Rényi entropies are not subadditive, not even for discrete
    distributions (the delta kernel), so :math:`I_\alpha` can be slightly negative: the
    rows ``x = (0, 0, 0, 1)`` (a width much below 1, so the delta kernel in effect) and
    labels ``y = (0, 0, 1, 0)`` give :math:`I_2 = \log 0.96` nats. Values are reported as
    computed.

    **On the information plane** (:meth:`plane_point`), X is the identity of the probe
    inputs: the delta kernel on ``x_labels``. When all inputs are distinct
    (``x_labels = np.arange(n)``), :math:`A_X = I/n` and :math:`A_X \circ A_T =
    \operatorname{diag}(A_T)/n = I/n^2` is diagonal (:math:`(A_T)_{ii} = 1/n`); normalised,
    it is :math:`I/n` again, so :math:`S_\alpha(A_X, A_T) = S_\alpha(A_X) = \log n` and

    .. math::

        I_\alpha(X;T) = S_\alpha(A_T),

    the entropy of the layer's Gram matrix. :math:`I_\alpha(T;Y)` uses the delta kernel
    on the class labels. The Gram matrix of T, its width and its spectrum are computed
    once for both coordinates.

    Parameters
    ----------
    alpha : float, default 1.01
        The order :math:`\alpha > 0`; 1.01 as in Wickstrøm et al. (2019) (close to the von
        Neumann limit, which ``alpha=1`` gives exactly).
    kernel_width : {"silverman", "knn"} or float, default "silverman"
        :math:`\sigma` of the Gaussian kernel on the continuous variables (each gets its
        own), worked out on each batch:

        * ``"silverman"``: Silverman's rule of thumb (Silverman 1986),
          :math:`\sigma = \gamma\, s\, n^{-1/(4+d)}` with :math:`\gamma = 1` and
          :math:`s = \sqrt{\operatorname{tr} \hat\Sigma}`, the root of the total variance
          of the ``n`` rows of dimension ``d``: the rule applied to the rows scaled,
          by one factor for all columns, to unit total variance. One factor keeps the
          geometry of a layer (a dead or near-constant unit weighs nothing), and typical
          distances between rows stay near :math:`\sqrt 2 s` in any dimension, so the
          kernel does not collapse to the identity in wide layers. (Silverman's
          normal-reference constant :math:`(4/(d+2))^{1/(d+4)}` lies in [0.92, 1.06].)
        * ``"knn"``: the mean over the rows of the distance to the k-th nearest
          neighbour, ``k = 10`` (``n - 1`` if fewer rows), after Wickstrøm et al. (2019).
          It adapts to the data's local scale; repeated rows (saturated units) push it
          towards 0, and at :math:`\sigma = 0` (every row repeated more than ``k``
          times) the kernel is its limit, the delta kernel on the rows' values.
        * a number: :math:`\sigma` itself, in the units of the data.

        Both rules scale with the data, so rescaling ``x`` (or ``y``) leaves the estimate
        unchanged; a fixed width does not. Every value depends on :math:`\sigma`: a
        narrow kernel pushes :math:`A` towards :math:`I/n` (:math:`S_\alpha \to \log n`),
        a wide one towards :math:`\mathbf{1}\mathbf{1}^\top / n` (:math:`S_\alpha \to 0`).
    batch_size : int, default 1000
        Rows per Gram matrix. With more rows, the rows are shuffled (``random_state``)
        and split into ``n // batch_size`` batches of ``batch_size`` rows (the remaining
        ``n mod batch_size`` rows are left out), and the estimate is the mean of the
        batches' values, the width rule applied in each batch: the papers' practice,
        which bounds the cost at :math:`O(\mathrm{batch\_size}^3)` per batch and the
        memory at :math:`O(\mathrm{batch\_size}^2)`. It changes the value: the result is
        an estimate at that batch size (every entropy is at most
        :math:`\log(\mathrm{batch\_size})`), so compare values at equal batch size.
        With ``n <= batch_size`` the full Gram matrix is used and nothing is random.

    Notes
    -----
    Eigenvalues come from :func:`scipy.linalg.eigvalsh` (:func:`torch.linalg.eigvalsh`
    for tensors); those below the numerical-rank
    tolerance are rounding noise and are dropped. Discrete labels never need a
    dense eigendecomposition: :math:`S_\alpha(A_Y)` comes from the label counts and
    :math:`S_\alpha(A_X, A_Y)` from the blocks of :math:`A_X` within each label.
    :meth:`plane_point` draws one shuffle for both coordinates; with an integer
    ``random_state`` its numbers are those of two :meth:`estimate` calls with that seed.
    Its diagnostics say whether the value sits within 0.01 bits of its ceiling
    :math:`\log \min(n, \text{batch\_size})` (a kernel so narrow that the Gram matrix is
    about :math:`I/n`: a wider ``kernel_width`` moves it off) or is negative.

    References
    ----------
    .. [1] L. G. Sánchez Giraldo, M. Rao and J. C. Príncipe, IEEE Trans. Inf. Theory
       61(1):535-548, 2015.
    .. [2] S. Yu, L. G. Sánchez Giraldo, R. Jenssen and J. C. Príncipe, IEEE TPAMI
       42(11):2960-2966, 2020.
    .. [3] K. Wickstrøm et al., arXiv:1909.11396, 2019.
    .. [4] M. A. Nielsen and J. Kempe, "Separable states are more disordered globally than
       locally", Phys. Rev. Lett. 86:5184, 2001.
    .. [5] H. Araki and E. H. Lieb, "Entropy inequalities", Commun. Math. Phys.
       18:160-170, 1970.

    Examples
    --------
    Two labels, each on its own cluster far apart relative to the width: the layer's
    Gram matrix is block diagonal, :math:`I_\alpha(T;Y) = S_\alpha(A_Y)`, the Rényi
    entropy of the label frequencies (1 bit for two equal classes), and
    :math:`I_\alpha(X;T) = S_\alpha(A_T) = 1` bit too.

    >>> import numpy as np
    >>> t = np.array([[0.0], [0.0], [10.0], [10.0]])
    >>> est = RenyiEstimator(kernel_width=0.1)
    >>> i_xt, i_ty = est.plane_point(t, np.arange(4), np.array([0, 0, 1, 1]))
    >>> round(i_xt.value, 6), round(i_ty.value, 6)
    (1.0, 1.0)
    """

    name = "renyi"
    tensors = True

    def __init__(
        self, alpha: float = 1.01, kernel_width: str | float = "silverman", batch_size: int = 1000
    ) -> None:
        super().__init__(
            alpha=check_positive(alpha, "alpha"),
            kernel_width=_check_kernel_width(kernel_width),
            batch_size=check_int(batch_size, "batch_size", minimum=2),
        )

    def _estimate_nats(self, samples: Samples, rng: np.random.Generator) -> Nats:
        (value,) = self._mean_mi(samples.x, [samples], rng)
        return Nats(value)

    def _plane_nats(
        self, x_samples: Samples, y_samples: Samples, random_state: Any
    ) -> tuple[Nats, Nats]:
        i_xt, i_ty = self._mean_mi(
            x_samples.x, [x_samples, y_samples], check_random_state(random_state)
        )
        return Nats(i_xt), Nats(i_ty)

    def _ceiling_nats(self, samples: Samples) -> float:
        r""":math:`\log \min(n, \text{batch\_size})`: every entropy of a Gram matrix of
        ``m`` rows is at most :math:`\log m`, and so is :math:`I_\alpha \le S_\alpha(A)`.

        With discrete ``y`` on one batch (``n <= batch_size``), also at most
        :math:`S_\alpha(A_Y)`, the Rényi entropy of the label frequencies (the same bound
        on the label side), as for the plug-in estimators."""
        ceiling = math.log(min(samples.n, self.params["batch_size"]))
        if samples.y_discrete and samples.n <= self.params["batch_size"]:
            labels = _renyi_entropy_nats(_label_eigenvalues(samples.y), self.params["alpha"])
            ceiling = min(ceiling, labels)
        return ceiling

    def _mean_mi(self, t: Any, others: list[Samples], rng: np.random.Generator) -> list[float]:
        r""":math:`I_\alpha(T; Y)` in nats for the ``y`` of each of ``others``, averaged over
        the batches (one shuffle for all)."""
        n, size = t.shape[0], self.params["batch_size"]
        if n <= size:
            batches = [np.arange(n)]
        else:
            n_batches = n // size
            batches = np.split(rng.permutation(n)[: n_batches * size], n_batches)
        values = [self._batch_mi(t[b], [(s.y[b], s.y_discrete) for s in others]) for b in batches]
        return [float(v) for v in np.mean(values, axis=0)]

    def _batch_mi(self, t: Any, others: list[tuple[Any, bool]]) -> list[float]:
        """:math:`S(A_T) + S(A_Y) - S(A_T, A_Y)` for each ``(y, discrete)``, sharing
        the Gram matrix of ``t`` and its entropy."""
        alpha, width = self.params["alpha"], self.params["kernel_width"]
        xp = namespace(t)
        gram = _gaussian_gram(t, width)
        h_t = _renyi_entropy_nats(xp.eigvalsh(gram), alpha)
        out = []
        for y, discrete in others:
            if discrete:
                marginal, joint = _label_eigenvalues(y), _joint_label_eigenvalues(gram, y)
            else:
                gram_y = _gaussian_gram(y, width)
                marginal = xp.eigvalsh(gram_y)
                joint = xp.eigvalsh(gram * gram_y)
            out.append(
                h_t + _renyi_entropy_nats(marginal, alpha) - _renyi_entropy_nats(joint, alpha)
            )
        return out

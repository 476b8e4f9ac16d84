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

Identical rows (saturated or dead units repeat rows often) are merged into one mixture
component weighted by its count, which is exact. The rows are centred and divided, with
σ, by a power of two (exact), so that nothing overflows whatever the scale of the input.
One BLAS product of the augmented rows gives minus half the squared distances,
:math:`[a, -\tfrac12\|a\|^2, 1]^\top [b, 1, -\tfrac12\|b\|^2] = -\tfrac12\|a - b\|^2`,
in float32 by default, in float64 where the rows spread over more than :math:`10^3`
noise standard deviations, and, beyond :math:`10^6`, where that expansion cancels away
the digits, from the differences :math:`a - b` themselves in float64
(:func:`scipy.spatial.distance.cdist`), up to :math:`3 \cdot 10^{12}` (wider spreads are
refused, naming the noise variance that would do). The work is done in blocks of
``chunk_size`` rows (``kde``: tiles of ``chunk_size`` squared, on and above the diagonal
only, the kernels being symmetric), so memory is ``O(chunk_size * n)`` and
``n = 50,000`` runs in bounded memory.

The noise is absolute by default: σ² is ``noise_variance`` in the squared units of the
layer, the same for every layer and epoch, so the values are those of one fixed noisy
channel, and they move when a layer merely grows or shrinks (weights that grow push a
layer apart in noise units and raise its I). With ``noise_relative=True``, σ² is
``noise_variance`` times the layer's mean per-unit variance
:math:`\tfrac1d \sum_j \operatorname{Var}(t_j)` over the rows passed: the estimates
depend on the layer's shape, not its scale, so rescaling ``t`` leaves both
information-plane coordinates unchanged. The price: σ then follows each layer and, in
training, each epoch, so values at two epochs (or of two layers) are measured with
different noise, and a change between them mixes what the layer did with how much noise
it was measured with. (A constant layer has no variance to scale by; it carries no
information at any σ and keeps σ² = ``noise_variance``.)

``plane_point(t, x_labels, y_labels)`` gives both information-plane coordinates from one
pass over the distances.

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

import abc
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ibkit._validation import (
    InvalidParameterError,
    check_bool,
    check_int,
    check_positive,
    check_random_state,
)
from ibkit.estimators._base import MIEstimator, Nats, Samples, register
from ibkit.estimators._xp import namespace, to_numpy
from ibkit.measures import entropy_nats

__all__ = ["KDEEstimator", "NoisyMCEstimator"]


#: Kernel exponents are clamped from below at this value before ``exp``: every sum they
#: enter holds a self term 1, next to which ``n * e^-60`` is far below float32
#: resolution, and ``exp`` stays out of the slow underflow (denormal) range.
_EXP_FLOOR = -60.0

#: A Monte Carlo draw's own kernel exponent (minus half its squared noise, in noise
#: variances) down to which its block's kernels are not shifted at all (see
#: :func:`_own_shifted_exp`): each row sum is then at least e^-25, and the floor
#: e^(-60 - 25) is still a normal float32.
_OWN_SHIFT_MIN = -25.0

#: Label sets with at most this many labels keep their per-row weights dense.
_DENSE_LABELS = 64

#: Dense class sums over at most this many labels are one matrix-vector product per
#: label: BLAS's product with so narrow a matrix is several times slower.
_BY_LABEL = 8

_DTYPES = {"float32": np.float32, "float64": np.float64}

#: Largest squared radius of the rows, in noise variances, at which the distances are
#: worked out in float32 (see :func:`_distance_work`); above it, float64.
_FLOAT32_MAX_RATIO = 1e6

#: Largest squared radius of the rows, in noise variances, that the expanded float64
#: distances resolve; above it, the distances are formed from differences.
_FLOAT64_MAX_RATIO = 1e12

#: Largest squared radius of the rows, in noise variances, accepted at all: float64 rows
#: within r of their mean are known to about 2.2e-16 r, at most 7e-4 noise standard
#: deviations up to this radius.
_EXACT_MAX_RATIO = 1e25


def _labels(samples: Samples) -> np.ndarray:
    if not samples.y_discrete:
        raise InvalidParameterError(
            "y must be 1-D integer labels for the noisy-layer estimators; pass the class "
            "labels for I(T;Y), or np.arange(n) (all inputs distinct) for I(X;T)"
        )
    return samples.y


def _half_sq_dist_factors(t: Any, dtype: type) -> tuple[Any, Any]:
    r"""Row factors ``(a, b)`` such that one matrix product gives minus half the squared
    distances: ``(a @ b.T)[i, j] = -||t_i - t_j||^2 / 2``.

    With :math:`r_i = -\|t_i\|^2 / 2`, :math:`a_i = [t_i,\ r_i,\ 1]` and
    :math:`b_j = [t_j,\ 1,\ r_j]`, so that :math:`a_i^\top b_j = t_i^\top t_j + r_i + r_j`.
    The norms are formed in the precision of ``t`` and the factors returned in ``dtype``
    (each entry cast once, as casting the float64 factors would). Callers divide the
    product by :math:`\sigma^2` afterwards: in float32, factors prescaled by
    :math:`1/\sigma^2` round apart from their norms, which costs about ten times the
    accuracy on saturated layers (many nearly equal rows).
    """
    xp = namespace(t)
    half_sq = xp.astype(-0.5 * xp.einsum("ij,ij->i", t, t)[:, None], dtype)
    one = xp.ones_like(half_sq)
    t = xp.astype(t, dtype)  # cast once, before stacking: no float64 copy of the factors
    return xp.hstack([t, half_sq, one]), xp.hstack([t, one, half_sq])


def _operands(left: Any, right: Any, dtype: type, exact: bool) -> tuple[Any, Any]:
    """``(a, b_t)`` from which :func:`_half_sq_dist` gives minus half the squared
    distances between the rows of ``left`` and those of ``right``: the factors of
    :func:`_half_sq_dist_factors` in ``dtype`` (``b`` transposed), or, with ``exact``,
    the float64 rows themselves (``right`` transposed)."""
    if exact:
        return left, np.ascontiguousarray(right.T)
    a, b = _half_sq_dist_factors(left, dtype)
    if right is not left:
        b = _half_sq_dist_factors(right, dtype)[1]
    return a, namespace(right).transposed(b)


def _half_sq_dist(a: Any, b_t: Any, exact: bool, out: Any = None, scale: float = 1.0) -> Any:
    r"""Minus half the squared distances between the rows of ``a`` and the columns of
    ``b_t``, operands of :func:`_operands`, times ``scale`` (the kernel's :math:`1/\sigma^2`
    or :math:`1/4\sigma^2`; for tensors, folded into the product).

    The product ``a @ b_t`` of the factors expands :math:`\|u - v\|^2 = \|u\|^2 +
    \|v\|^2 - 2u^\top v` and so loses about :math:`\epsilon r^2` to cancellation (rows
    within :math:`r` of the centre, :math:`\epsilon` the unit round-off); with ``exact``,
    :func:`scipy.spatial.distance.cdist` forms the differences :math:`u - v` first and
    keeps their relative precision, at a few times the cost (numpy arrays only).
    """
    if not exact:
        return namespace(a).scaled_matmul(a, b_t, scale, out=out)
    from scipy.spatial.distance import cdist

    out = cdist(a, b_t.T, "sqeuclidean", out=out)
    return np.multiply(out, -0.5 * scale, out=out)


def _half_sq_dist_blocks(
    a: Any, b_t: Any, chunk_size: int, *, symmetric: bool, exact: bool, scale: float = 1.0
) -> Iterator[tuple[slice, slice, Any]]:
    """Yield ``(rows, cols, g)`` with ``g = _half_sq_dist(a[rows], b_t[:, cols], exact,
    scale=scale)`` (see :func:`_operands`), in one reused buffer.

    With ``symmetric`` (``a`` and ``b_t`` the operands of the same rows) only the tiles
    ``chunk_size x chunk_size`` on and above the diagonal are yielded, and the diagonal of
    a diagonal tile is exactly 0; otherwise each block holds ``chunk_size`` rows of ``a``
    against all columns of ``b_t``.
    """
    xp = namespace(a)
    n_rows, n_cols = a.shape[0], b_t.shape[1]
    width = chunk_size if symmetric else n_cols
    buffer = xp.empty(chunk_size * width, a)
    for start in range(0, n_rows, chunk_size):
        rows = slice(start, min(start + chunk_size, n_rows))
        for col_start in range(start, n_cols, chunk_size) if symmetric else (0,):
            cols = slice(col_start, min(col_start + width, n_cols))
            g = buffer[: (rows.stop - start) * (cols.stop - col_start)]
            g = g.reshape(rows.stop - start, cols.stop - col_start)
            _half_sq_dist(a[rows], b_t[:, cols], exact, out=g, scale=scale)
            if symmetric and col_start == start:
                xp.fill_diagonal(g, 0.0)
            yield rows, cols, g


class _ClassWeights:
    """How many rows of each label sit on each distinct layer value.

    ``counts[u, c]`` is the number of rows with distinct value ``u`` and label ``c``
    (``dense`` for few labels, sparse otherwise); ``u``, ``c``, ``count`` list its nonzero
    entries sorted by ``u``, ``pairs_of[c]`` indexes those of label ``c``, ``size`` holds
    the label counts and ``entropy`` the label entropy in nats.
    """

    def __init__(self, inverse: np.ndarray, labels: np.ndarray, m: int, dtype: type) -> None:
        from scipy.sparse import csr_array

        n_labels = int(labels.max()) + 1
        code, count = np.unique(inverse * n_labels + labels, return_counts=True)
        self.u, self.c = np.divmod(code, n_labels)
        self.count = count.astype(np.float64)
        counts = csr_array((count.astype(dtype), (self.u, self.c)), shape=(m, n_labels))
        self.dense = n_labels <= _DENSE_LABELS
        self.counts = counts.toarray() if self.dense else counts
        self.size = np.bincount(labels)
        order = np.argsort(self.c, kind="stable")
        self.pairs_of = np.split(order, np.searchsorted(self.c[order], np.arange(1, n_labels)))
        self.entropy = float(entropy_nats(self.size / labels.size))
        self.by_label = None  # each label's column of the dense counts, set by ``to``

    def log_class_density(self, arg: np.ndarray, z_labels: np.ndarray) -> np.ndarray:
        """``log (1/n_c) sum_{v} counts[v, c] exp(arg[k, v])`` with ``c = z_labels[k]``.

        Each row is summed over the distinct values that hold its own label only.
        """
        out = np.empty(arg.shape[0])
        count = self.count.astype(arg.dtype)
        for c in np.unique(z_labels):
            rows = np.flatnonzero(z_labels == c)
            pairs = self.pairs_of[c]
            sums = _lse_rows(arg[np.ix_(rows, self.u[pairs])], count[pairs])
            out[rows] = sums - np.log(self.size[c])
        return out

    def times_counts(self, kernel: Any) -> np.ndarray:
        """``kernel @ counts`` (dense counts, in the namespace of ``kernel``) in float64
        on the host: the kernel sums of each row over each label's values."""
        if self.by_label is None:
            sums = kernel @ self.counts
        else:
            sums = namespace(kernel).stack([kernel @ c for c in self.by_label], axis=1)
        return to_numpy(sums).astype(np.float64)

    def log_class_density_from_sums(
        self, sums: np.ndarray, base: np.ndarray, floor: float, z_labels: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`log_class_density` from the class sums ``sums = times_counts(kernel)``
        of ``kernel = exp(max(arg - base, floor))`` (``base`` and ``floor`` of
        :func:`_own_shifted_exp`), and which rows it cannot resolve.

        Each floored term adds at most ``e^floor`` per row to a class sum; a row is
        unresolved when that could exceed ``1e-12`` of its sum (its own class lies far
        below the row's shift), and must then be computed by :meth:`log_class_density`.
        """
        log_sums = np.log(sums[np.arange(sums.shape[0]), z_labels])
        unresolved = log_sums < floor + np.log(self.size.sum()) + 28.0
        return base + log_sums - np.log(self.size[z_labels]), unresolved

    def to(self, xp: Any) -> None:
        """Move the dense counts into ``xp``, and for at most :data:`_BY_LABEL` labels
        each label's column on its own (``by_label``, else None)."""
        narrow = self.counts.shape[1] <= _BY_LABEL
        self.by_label = xp.from_host(np.ascontiguousarray(self.counts.T)) if narrow else None
        self.counts = xp.from_host(self.counts)

    def zero_sums(self, n_kernels: int, xp: Any) -> Any:
        """Accumulators for :meth:`add_sums` in namespace ``xp``, one row per kernel: per
        (distinct value, label) when the counts are dense, per nonzero pair ``(u, c)``
        otherwise."""
        size = self.counts.shape if self.dense else (self.u.size,)
        return xp.zeros((n_kernels, *size))

    def add_sums(self, kernel: Any, rows: slice, cols: slice, out: Any) -> None:
        """``out[u, c] += sum_{v in cols} kernel[u, v] counts[v, c]`` for ``u`` in ``rows``
        (``kernel`` is the ``rows x cols`` block; sparse counts keep the nonzero pairs)."""
        if self.by_label is not None:
            for c, column in enumerate(self.by_label):
                out[rows, c] += kernel @ column[cols]
            return
        sums = kernel @ self.counts[cols]
        if self.dense:
            out[rows] += sums
        else:
            lo, hi = np.searchsorted(self.u, [rows.start, rows.stop])
            out[lo:hi] += sums[self.u[lo:hi] - rows.start, self.c[lo:hi]]

    def weighted_log(self, sums: np.ndarray) -> np.ndarray:
        """``sum_{(u, c)} count[u, c] log sums[..., u, c]`` for accumulators of :meth:`add_sums`."""
        pairs = sums[..., self.u, self.c] if self.dense else sums
        return np.log(pairs) @ self.count


def _noise_units(values: Any, sigma: float) -> tuple[Any, float]:
    """``(u, σ_u)``: the rows centred on their mean, and ``σ``, divided by one power of two.

    The power of two is the smallest above both the rows' largest deviation from their
    mean and ``σ`` (a first division keeps the mean itself from overflowing), so
    ``|u| < 1`` and ``σ_u < 1``: squared norms, noise draws and kernel factors stay finite
    whatever the scale of the input. Division by a power of two is exact, so ``u / σ_u``,
    all that the estimators use, is the same as for the raw rows.
    """
    xp = namespace(values)
    first = math.frexp(_abs_max(values))[1]
    u = xp.ldexp(values, -first)
    u -= u.mean(axis=0)
    spread = _abs_max(u)
    shift = math.frexp(sigma)[1] - first
    if spread > 0:
        shift = max(shift, math.frexp(spread)[1])
    u *= math.ldexp(1.0, -shift)  # in place; exact, as ldexp
    return u, math.ldexp(sigma, -first - shift)


def _abs_max(values: Any) -> float:
    """The largest absolute entry, without an array of absolute values."""
    return max(float(values.max()), -float(values.min()))


def _sq_radius(rows: Any) -> float:
    """Largest squared norm of the rows."""
    return float(namespace(rows).einsum("ij,ij->i", rows, rows).max())


def _distance_work(
    sq_radius: float, sigma: float, noise_variance: float, dtype: type
) -> tuple[type, bool]:
    r"""``(dtype, exact)``: the precision of the distance work and whether the distances
    are formed from differences (see :func:`_half_sq_dist`), decided from the data.

    The expanded squared distances of rows within :math:`r` of the centre err by about
    :math:`\epsilon r^2` (:math:`\epsilon` the unit round-off), :math:`\epsilon r^2 /
    \sigma^2` in a kernel exponent: the requested ``dtype`` (float32 by default) is kept
    while :math:`r^2/\sigma^2 \le 10^6` (float32 and float64 estimates then differ by a
    few 1e-4 bits at most), expanded float64 up to :math:`10^{12}`, and float64
    differences beyond, up to :math:`10^{25}` (:math:`r \approx 3 \cdot 10^{12}\sigma`),
    where the float64 rows themselves resolve :math:`\sigma` only to :math:`7 \cdot
    10^{-4}`; wider spreads are refused, naming the ``noise_variance`` that would do.
    """
    if sq_radius <= _FLOAT32_MAX_RATIO * sigma * sigma:
        return dtype, False
    if sq_radius <= _FLOAT64_MAX_RATIO * sigma * sigma:
        return np.float64, False
    if sq_radius <= _EXACT_MAX_RATIO * sigma * sigma:
        return np.float64, True
    sds = math.sqrt(sq_radius) / sigma if sigma > 0 else math.inf
    needed = noise_variance * sds * sds / _EXACT_MAX_RATIO
    raise InvalidParameterError(
        f"noise_variance={noise_variance:g} is too small for the spread of t: its rows lie "
        f"up to {sds:.3g} noise standard deviations from their mean, more than the "
        f"{math.sqrt(_EXACT_MAX_RATIO):.3g} within which float64 numbers resolve a noise "
        f"standard deviation; pass noise_variance >= {needed:.3g}"
    )


def _class_weights(
    inverse: np.ndarray, label_sets: list[np.ndarray], m: int, dtype: type
) -> list[_ClassWeights | None]:
    """The class weights of each label set over the ``m`` distinct rows (``None``: all
    labels distinct)."""
    return [
        None if np.unique(labels).size == inverse.size else _ClassWeights(inverse, labels, m, dtype)
        for labels in label_sets
    ]


def _work_namespace(
    exact: bool, classes: list[_ClassWeights | None], *arrays: Any
) -> tuple[Any, tuple[Any, ...]]:
    """The namespace the pairwise work runs in, the ``arrays`` moved there, and the dense
    class counts moved with them.

    The data's own (a tensor's device) unless the distances must be formed from
    differences (``exact``) or a label set has sparse class counts: those run on the host.
    """
    if exact or any(cls is not None and not cls.dense for cls in classes):
        arrays = tuple(to_numpy(a) for a in arrays)
    xp = namespace(arrays[0])
    for cls in classes:
        if cls is not None and cls.dense:
            cls.to(xp)
    return xp, arrays


def _kde_mi_nats(
    t: Any,
    label_sets: list[np.ndarray],
    sigma: float,
    noise_variance: float,
    chunk_size: int,
    dtype: type,
) -> list[tuple[float, float]]:
    r"""``(I_KL, I_BD)`` in nats for each label set, sharing the work between them.

    ``sigma`` is the noise standard deviation (``noise_variance`` the parameter it came
    from, for messages). Identical rows are merged into one weighted row (exact). One
    product per tile gives :math:`g_{ij} = -\|t_i - t_j\|^2 / 2` (see
    :func:`_half_sq_dist`; differences where the rows spread too far for it). The
    Bhattacharyya kernel is :math:`B_{ij} = e^{\max(g_{ij} / 4\sigma^2,\, f)}` (``f`` the
    exponent floor) and the KL kernel :math:`\max(B_{ij}, e^{f/4})^4 = e^{\max(g_{ij} /
    \sigma^2,\, f)}`, two squarings instead of a second exponential. Both are symmetric,
    so only the tiles on and above the diagonal are computed and each off-diagonal tile
    adds to the sums of its rows and of its columns: :math:`S_i = \sum_j w_j K_{ij}`
    (mixture, ``w`` the row counts) and :math:`S_{ic} = \sum_j \mathrm{counts}_{jc}
    K_{ij}` (class ``c``). The logs are taken once all tiles are summed.

    A torch tensor ``t`` is worked on its device, in the same steps, except where the
    rows spread so far that the distances are formed from differences, or a label set
    has more than ``_DENSE_LABELS`` labels, not all distinct (sparse class counts): those
    run on the host.
    """
    n = t.shape[0]
    values, inverse, weight = namespace(t).unique_rows(t)
    if values.shape[0] == 1:  # one value: the noisy layer is independent of every label
        return [(0.0, 0.0)] * len(label_sets)
    values, sigma = _noise_units(values, sigma)
    dtype, exact = _distance_work(_sq_radius(values), sigma, noise_variance, dtype)
    # All labels distinct (cls None): each class sum is the self term alone, its log 0.
    inverse, weight = to_numpy(inverse), to_numpy(weight)
    classes = _class_weights(inverse, label_sets, values.shape[0], dtype)
    xp, (values,) = _work_namespace(exact, classes, values)
    weight_k = xp.from_host(weight.astype(dtype))
    a, b_t = _operands(values, values, dtype, exact)
    # Row sums of the KL (index 0) and Bhattacharyya (index 1) kernels (mixture) and
    # class sums, accumulated in float64. Every row has one label, so the mixture sums
    # are the sums over labels of a dense label set's class sums: then they are not
    # accumulated on their own.
    class_sums = [None if cls is None else cls.zero_sums(2, xp) for cls in classes]
    dense = next(
        (sums for cls, sums in zip(classes, class_sums, strict=True) if cls and cls.dense), None
    )
    mixture = xp.zeros((2, values.shape[0])) if dense is None else None

    def accumulate(s: int, k: Any, rows: slice, cols: slice) -> None:
        if dense is None:
            mixture[s, rows] += k @ weight_k[cols]
            if cols != rows:
                mixture[s, cols] += weight_k[rows] @ k
        for cls, sums in zip(classes, class_sums, strict=True):
            if cls is not None:
                cls.add_sums(k, rows, cols, sums[s])
                if cols != rows:
                    cls.add_sums(k.T, cols, rows, sums[s])

    blocks = _half_sq_dist_blocks(
        a, b_t, chunk_size, symmetric=True, exact=exact, scale=0.25 / sigma**2
    )
    for rows, cols, g in blocks:
        # Bhattacharyya exponent, clamped to [floor, 0] (round-off can leave tiny positive
        # values; the diagonal is exactly 0), then the kernels, all in place.
        xp.clip(g, _EXP_FLOOR, 0.0, out=g)
        bd = xp.exp(g, out=g)
        accumulate(1, bd, rows, cols)
        xp.clip(bd, math.exp(_EXP_FLOOR / 4), 1.0, out=bd)  # two bounds: numpy's fast path
        xp.square(bd, out=bd)
        accumulate(0, xp.square(bd, out=bd), rows, cols)
    if dense is not None:
        mixture = dense.sum(axis=-1)
    log_mixture = np.log(to_numpy(mixture)) @ weight
    out = []
    for cls, sums in zip(classes, class_sums, strict=True):
        h_labels = np.log(n) if cls is None else cls.entropy
        log_class = 0.0 if cls is None else cls.weighted_log(to_numpy(sums))
        mi = h_labels + (log_class - log_mixture) / n
        out.append((float(mi[0]), float(mi[1])))
    return out


def _shifted_exp(a: Any) -> np.ndarray:
    """Overwrite ``a`` (array or tensor) with ``exp(max(a - top, _EXP_FLOOR))``, ``top``
    the row maximum, and return ``top`` (float64, on the host).

    Terms raised to the floor are negligible next to the largest, which is 1.
    """
    xp = namespace(a)
    top = xp.row_max(a)
    a -= top[:, None]
    xp.clip(a, _EXP_FLOOR, 0.0, out=a)  # two bounds: numpy's fast path
    xp.exp(a, out=a)
    return to_numpy(top).astype(np.float64)


def _own_shifted_exp(a: Any, own: Any) -> tuple[np.ndarray, float]:
    r"""Overwrite the block ``a`` of kernel exponents (array or tensor) with
    :math:`e^{\max(a - b,\, f)}` and return the shifts ``b`` per row (float64, on the
    host) and the floor ``f``.

    Each row of a Monte Carlo block holds its draw's own exponent ``own``, its own
    component's. Where every ``own`` of the block is at least :data:`_OWN_SHIFT_MIN`,
    the exponents are not shifted (``b = 0``: no pass over the block) and the floor is
    ``_EXP_FLOOR + _OWN_SHIFT_MIN``: each row sum is at least its own term
    :math:`e^{own} \ge e^{-25}`, next to which the floored terms add at most
    :math:`n e^{f - own} \le n e^{-60}`, and :math:`e^{f} \approx 10^{-37}` is still a
    normal float32. Otherwise the shift is the row maximum (:func:`_shifted_exp`), the
    floor ``_EXP_FLOOR``, and each row holds a term 1.
    """
    if float(own.min()) < _OWN_SHIFT_MIN:
        return _shifted_exp(a), _EXP_FLOOR
    floor = _EXP_FLOOR + _OWN_SHIFT_MIN
    xp = namespace(a)
    xp.clip(a, floor, 0.0, out=a)  # exponents are at most 0, up to round-off
    xp.exp(a, out=a)
    return np.zeros(a.shape[0]), floor


def _lse_rows(a: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Row-wise ``log(sum_j weight_j exp(a_ij))`` in float64 (``a`` may be float32);
    overwrites ``a``."""
    top = _shifted_exp(a)
    return top + np.log((a @ weight).astype(np.float64))


def _noisy_mc_nats(
    t: Any,
    label_sets: list[np.ndarray],
    sigma: float,
    noise_variance: float,
    n_mc: int,
    chunk_size: int,
    dtype: type,
    rng: np.random.Generator,
) -> list[tuple[float, float]]:
    r"""``(value, std_error)`` in nats for each label set, from one set of noise draws.

    ``sigma`` and ``noise_variance`` are as for :func:`_kde_mi_nats`. The draws, the
    exponents :math:`-\|z - t_j\|^2 / 2\sigma^2` to the distinct rows (one product per
    block, see :func:`_half_sq_dist`, the scale folded in) and the shifted exponentials
    :math:`e^{\max(a - b,\, f)}` of the mixture term (``f`` the exponent floor) are
    shared; no shift (``b = 0``) while every draw of the block lies within reach of its
    own component, else the row maximum (see :func:`_own_shifted_exp`). The class term
    of all-distinct labels is the draw's own component, read off directly; with dense
    class counts it is one matrix-vector product per label of those exponentials,
    recomputed exactly for the rare draws whose own class lies far below the row's
    shift; the mixture sum is then those class sums added over the labels (every row
    has one label), else one product with the row counts. A layer of one distinct value
    carries nothing: 0, exactly.

    A torch tensor ``t`` is worked on its device, in the same steps and from the same
    draws (made by ``rng`` on the host and copied there), except where the rows spread so
    far that the distances are formed from differences, or a label set has more than
    ``_DENSE_LABELS`` labels, not all distinct (sparse class counts): those run on the
    host. The sums of logs are float64 on the host either way.
    """
    n, d = t.shape
    xp = namespace(t)
    cols, inverse, weight = xp.unique_rows(t)
    if cols.shape[0] == 1:  # one value: the noisy layer is independent of every label
        return [(0.0, 0.0)] * len(label_sets)
    inverse, weight = to_numpy(inverse), to_numpy(weight)
    cols, sigma = _noise_units(cols, sigma)
    src = np.repeat(np.arange(n), n_mc)
    z = cols[xp.from_host(inverse[src])] + sigma * xp.from_host(rng.standard_normal((n * n_mc, d)))
    sq_radius = max(_sq_radius(cols), _sq_radius(z))
    dtype, exact = _distance_work(sq_radius, sigma, noise_variance, dtype)
    classes = _class_weights(inverse, label_sets, cols.shape[0], dtype)
    xp, (cols, z) = _work_namespace(exact, classes, cols, z)
    a, b_t = _operands(z, cols, dtype, exact)
    inv_s2 = float(dtype(1.0 / sigma**2))  # exact in ``dtype``
    weight_k = xp.from_host(weight.astype(dtype))
    within = np.empty((len(label_sets), n * n_mc))
    mixture = np.empty(n * n_mc)
    blocks = _half_sq_dist_blocks(a, b_t, chunk_size, symmetric=False, exact=exact, scale=inv_s2)
    for rows, _, arg in blocks:
        own = arg[xp.from_host(np.arange(arg.shape[0])), xp.from_host(inverse[src[rows]])]
        for j, (labels, cls) in enumerate(zip(label_sets, classes, strict=True)):
            if cls is None:
                within[j, rows] = to_numpy(own)
            elif not cls.dense:
                within[j, rows] = cls.log_class_density(arg, labels[src[rows]])
        base, floor = _own_shifted_exp(arg, own)
        class_sums = {
            j: cls.times_counts(arg) for j, cls in enumerate(classes) if cls and cls.dense
        }
        # every draw's source row has one label: a dense label set's class sums add up
        # to the mixture sum
        total = (
            next(iter(class_sums.values())).sum(axis=1)
            if class_sums
            else to_numpy(arg @ weight_k).astype(np.float64)
        )
        mixture[rows] = base + np.log(total) - np.log(n)
        for j, sums in class_sums.items():
            z_labels = label_sets[j][src[rows]]
            value, redo = classes[j].log_class_density_from_sums(sums, base, floor, z_labels)
            if redo.any():
                again = _half_sq_dist(a[rows][xp.from_host(redo)], b_t, exact, scale=inv_s2)
                value[redo] = classes[j].log_class_density(to_numpy(again), z_labels[redo])
            within[j, rows] = value
    terms = within - mixture
    std_error = terms.std(axis=1, ddof=1) / np.sqrt(terms.shape[1])  # n >= 2 rows
    return [(float(v), float(e)) for v, e in zip(terms.mean(axis=1), std_error, strict=True)]


def _layer_sd(t: Any) -> float:
    r"""The layer's root-mean-square unit standard deviation,
    :math:`\sqrt{\tfrac1d \sum_j \operatorname{Var} t_j}` over the rows of ``t``, worked
    out on ``t`` divided by a power of two (exact), so that no scale overflows."""
    xp = namespace(t)
    exponent = math.frexp(float(abs(t).max()))[1]
    unit = xp.ldexp(t, -exponent)
    return math.ldexp(math.sqrt(float(xp.var0(unit).mean())), exponent)


class _NoisyLayerEstimator(MIEstimator):
    """Shared parts of the noisy-layer estimators: σ², block size, precision, and the
    plane point that computes both coordinates in one pass."""

    def __init__(
        self,
        noise_variance: float,
        chunk_size: int,
        dtype: str,
        noise_relative: bool,
        **extra: Any,
    ) -> None:
        if dtype not in _DTYPES:
            raise InvalidParameterError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
        super().__init__(
            noise_variance=check_positive(noise_variance, "noise_variance"),
            noise_relative=check_bool(noise_relative, "noise_relative"),
            **extra,
            chunk_size=check_int(chunk_size, "chunk_size", minimum=1),
            dtype=dtype,
        )

    def _noise_sd(self, t: Any) -> float:
        """σ: the square root of ``noise_variance``, times the layer's RMS unit standard
        deviation (:func:`_layer_sd`) with ``noise_relative``, unless the layer is
        constant (one row repeated: no information at any σ)."""
        sigma = math.sqrt(self.params["noise_variance"])
        scale = _layer_sd(t) if self.params["noise_relative"] else 0.0
        return sigma * scale if scale > 0 else sigma

    @abc.abstractmethod
    def _nats(
        self, t: np.ndarray, label_sets: list[np.ndarray], rng: np.random.Generator
    ) -> list[Nats]:
        """``(value, lower, upper, std_error)`` in nats for each label set."""

    def _estimate_nats(self, samples: Samples, rng: np.random.Generator) -> Nats:
        return self._nats(samples.x, [_labels(samples)], rng)[0]

    def _plane_nats(
        self, x_samples: Samples, y_samples: Samples, random_state: Any
    ) -> tuple[Nats, Nats]:
        """Both coordinates in one pass (for ``noisy_mc``, one set of noise draws)."""
        label_sets = [_labels(x_samples), _labels(y_samples)]
        i_xt, i_ty = self._nats(x_samples.x, label_sets, check_random_state(random_state))
        return i_xt, i_ty


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
        Side of the square tiles of the pairwise-distance computation (memory
        ``~ chunk_size**2``); only the tiles on and above the diagonal are computed.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the distance and kernel work (sums of logs are always float64).
        float32 is several times faster and, on tanh layers of the 12-bit task, within
        about 1e-4 bits of float64. It is used only while the rows lie within
        :math:`10^3\sigma` of their mean; beyond, the work is done in float64, from the
        differences of the rows beyond :math:`10^6\sigma`, and beyond
        :math:`3 \cdot 10^{12}\sigma` (too small a ``noise_variance`` for the layer's
        spread) the estimate is refused with an error.
    noise_relative : bool, default False
        Multiply ``noise_variance`` by the layer's mean per-unit variance, so that the
        noise scales with the layer and the estimate does not depend on its scale; σ then
        differs between layers and epochs (see the module notes).

    Notes
    -----
    Identical rows of ``t`` (saturated or dead units repeat rows often) are merged into
    one row of weight equal to their count, which is exact. Kernel exponents below -60
    are raised to -60: each sum holds a self term 1, so this changes nothing at float32
    resolution and keeps ``exp`` out of its slow underflow range. The kernels are
    symmetric, so each tile above the diagonal is computed once and counted for its rows
    and its columns, and the KL kernel is the fourth power of the Bhattacharyya one
    (:math:`e^{-D/2\sigma^2} = (e^{-D/8\sigma^2})^4`, same floor): one exponential per pair
    of distinct rows. The mixture sums are the sums over labels of the class sums when the
    labels have dense class counts (every row has one label), so they cost no product of
    their own. :meth:`plane_point` computes the distances and the mixture term once for
    both coordinates; its numbers are those of two :meth:`estimate` calls to round-off.

    Device: the data's. A torch tensor ``t`` is worked on its device (a CUDA tensor on its
    GPU), a numpy array on the host, with the same numbers to float32 round-off; the
    float64 sums of logs are made on the host. Where the rows spread so far that the
    distances are formed from differences, or a label set has more than 64 labels, not
    all distinct, the work moves to the host.

    Diagnostics (:class:`~ibkit.estimators.Diagnostics`): ``bound_gap`` is ``upper −
    lower``, and ``at_ceiling`` says the upper bound lies within 0.01 bits of its ceiling,
    the entropy of the labels (:math:`\log n` for ``y = np.arange(n)``): the noisy copies
    of distinct rows hardly overlap, as when σ is small next to the spacing of the
    layer's values, so the bound says nothing about what the layer keeps of X. More noise
    (for wide layers, relative to their scale: ``noise_relative=True``) moves it off.

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
    tensors = True

    def __init__(
        self,
        noise_variance: float = 1e-3,
        chunk_size: int = 512,
        dtype: str = "float32",
        *,
        noise_relative: bool = False,
    ) -> None:
        super().__init__(noise_variance, chunk_size, dtype, noise_relative)

    def _nats(
        self, t: np.ndarray, label_sets: list[np.ndarray], rng: np.random.Generator
    ) -> list[Nats]:
        p = self.params
        out = []
        sigma = self._noise_sd(t)
        for pair in _kde_mi_nats(
            t, label_sets, sigma, p["noise_variance"], p["chunk_size"], _DTYPES[p["dtype"]]
        ):
            lower, upper = min(pair), max(pair)
            out.append(Nats(0.5 * (lower + upper), lower, upper))
        return out


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
    dtype : {"float32", "float64"}, default "float32"
        Precision of the distance and kernel work (means and logs are float64); as for
        :class:`KDEEstimator`, float64 is used where float32 cannot resolve the kernels.
    noise_relative : bool, default False
        As for :class:`KDEEstimator`: σ² is ``noise_variance`` times the layer's mean
        per-unit variance.

    Notes
    -----
    The densities are evaluated against the distinct rows of ``t``, each weighted by its
    count (exact). Device: as for :class:`KDEEstimator`, the data's; the noise is drawn
    on the host by ``random_state`` and copied to the device, so arrays and tensors give
    the same numbers to float32 round-off. :meth:`plane_point` draws the noise once and
    shares the distances and the mixture term between the two coordinates; with an
    integer ``random_state`` its numbers are those of two :meth:`estimate` calls with
    that seed, to round-off (its mixture term adds up the class sums of ``y``). Its
    diagnostics are
    the ``std_error`` of the estimate and, as for :class:`KDEEstimator`, whether the value
    sits at its ceiling, the entropy of the labels.

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
    tensors = True

    def __init__(
        self,
        noise_variance: float = 1e-3,
        n_mc: int = 10,
        chunk_size: int = 512,
        dtype: str = "float32",
        *,
        noise_relative: bool = False,
    ) -> None:
        n_mc = check_int(n_mc, "n_mc", minimum=1)
        super().__init__(noise_variance, chunk_size, dtype, noise_relative, n_mc=n_mc)

    def _nats(
        self, t: np.ndarray, label_sets: list[np.ndarray], rng: np.random.Generator
    ) -> list[Nats]:
        p = self.params
        results = _noisy_mc_nats(
            t,
            label_sets,
            self._noise_sd(t),
            p["noise_variance"],
            p["n_mc"],
            p["chunk_size"],
            _DTYPES[p["dtype"]],
            rng,
        )
        return [Nats(value, std_error=std_error) for value, std_error in results]

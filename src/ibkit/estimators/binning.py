r"""Discretisation ("binning") and plug-in estimators of mutual information.

Both estimators reduce each sample to one discrete *symbol* and return the empirical
(plug-in) mutual information of the symbols,

.. math::

    \hat I(A;B) = \hat H(A) + \hat H(B) - \hat H(A,B), \qquad
    \hat H(A) = -\sum_a \hat p(a) \log \hat p(a), \quad \hat p(a) = n_a / n,

optionally with the Miller–Madow correction :math:`\hat H_{MM} = \hat H + (m-1)/(2n)`
applied to each of the three entropies, :math:`m` being the number of occupied cells.

:class:`BinningEstimator` ("binning") quantises every coordinate of continuous data
first: by default into equal-mass bins, as many per coordinate as the sample size
supports (about 5 samples per joint cell), which makes it an estimator of I(X;Y) for
continuous data in a few dimensions; or onto the fixed grids of the information-plane
analyses of deep networks (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018).
:class:`PluginEstimator` ("plugin") takes data that are already discrete.

References
----------
R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
information", arXiv:1703.00810, 2017.

A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.

G. A. Miller, "Note on the bias of information estimates", in *Information Theory in
Psychology*, 1955.

L. Paninski, "Estimation of entropy and mutual information", *Neural Computation* 15,
2003.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError, check_bool, check_int, check_positive
from ibkit.estimators._base import MIEstimator, Nats, Samples, SaturationWarning, register
from ibkit.estimators._xp import is_tensor, namespace, to_numpy
from ibkit.measures import entropy_nats

__all__ = ["BinningEstimator", "PluginEstimator"]

_STRATEGIES = ("uniform", "quantile")

#: Samples expected per joint cell, under independence, by the default number of bins
#: (Cellucci, Albano & Rapp 2005).
_SAMPLES_PER_CELL = 5

#: Columns binned at a time: the integer codes held at once are ``n x _CODE_BLOCK``.
_CODE_BLOCK = 512

#: Bits of the int64 keys that combine row symbols with packed codes (2**62 leaves a
#: factor of two below the int64 limit for the rounding of the bit counts).
_KEY_BITS = 62.0


def _symbols(arr: np.ndarray) -> np.ndarray:
    """Codes 0..k−1, one per distinct row of ``arr`` (a 1-D array is one column).

    Rows of integer codes whose ranges multiply to less than 2**62 are first packed into
    one int64 key (mixed radix), so a single 1-D sort finds the distinct rows; other rows
    are compared as raw bytes. Both are exact.
    """
    arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[1] == 1:
        keys = arr[:, 0]
    elif np.issubdtype(arr.dtype, np.integer) and (packed := _packed_rows(arr)) is not None:
        keys = packed
    else:
        row = np.ascontiguousarray(arr)
        keys = row.view(np.dtype((np.void, row.dtype.itemsize * row.shape[1]))).ravel()
    _, inv = np.unique(keys, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def _packed_rows(codes: np.ndarray) -> np.ndarray | None:
    """One int64 per row, ``sum_j (c_j − min_j) · stride_j``; None if it could overflow."""
    lo = codes.min(axis=0)
    span = codes.max(axis=0) - lo + 1
    if float(np.log2(span).sum()) >= 62.0:  # the product could overflow a float
        return None
    strides = np.concatenate(([1], np.cumprod(span[:-1]))).astype(np.int64)
    return (codes - lo) @ strides


def _row_symbols(arr: Any, codes_of: Any) -> np.ndarray:
    r"""Symbols 0..k−1 (host int64), one per distinct row of the integer bin codes that
    ``codes_of`` gives for column blocks of the (n, d) array or tensor ``arr``.

    The rows are told apart exactly, with no hashing and so no collisions, and in
    :math:`O(n \cdot` :data:`_CODE_BLOCK` :math:`)` memory however wide the layer:
    :data:`_CODE_BLOCK` columns are coded at a time, each shifted to start at 0 (span
    :math:`m_j`), and folded in turn into the symbols :math:`s` of the columns before
    them. A group of columns whose spans multiply to :math:`M \le 2^{62} / k` (``k``
    symbols so far) gives one int64 key per row,

    .. math:: s \cdot M + \sum_j c_j \prod_{i < j} m_i \;<\; 2^{62},

    and the distinct keys, found by one sort, are the new symbols. A column of span above
    ``n`` is first replaced by the rank of its distinct codes, so that every column fits.
    Once the ``n`` rows all have symbols of their own, the columns left cannot split them
    further and are not coded. A tensor is coded on its device; its symbols come back to
    the host.
    """
    xp = namespace(arr)
    n, d = arr.shape
    symbols, k = None, 1
    for start in range(0, d, _CODE_BLOCK):
        codes = codes_of(arr[:, start : start + _CODE_BLOCK])
        codes = codes - xp.amin(codes, 0)
        span = to_numpy(xp.amax(codes, 0)).astype(np.int64) + 1
        for j in np.flatnonzero(span > n):  # wide spans: ranks of the distinct codes
            codes[:, j] = xp.distinct_codes(codes[:, j])
            span[j] = int(codes[:, j].max()) + 1
        bits = np.log2(span)
        j = 0
        while j < span.size:
            # the longest run of columns from j that fits beside the k symbols
            room = _KEY_BITS - math.log2(k)
            stop = j + max(1, int(np.searchsorted(np.cumsum(bits[j:]), room, side="right")))
            strides = np.concatenate(([1], np.cumprod(span[j : stop - 1])))
            key = (codes[:, j:stop] * xp.from_host(strides)).sum(1)
            if symbols is not None:
                key += symbols * int(strides[-1] * span[stop - 1])
            symbols = xp.distinct_codes(key)
            k = int(symbols.max()) + 1
            if k == n:
                return to_numpy(symbols).astype(np.int64)
            j = stop
    return to_numpy(symbols).astype(np.int64)


def _entropy_of_counts(counts: np.ndarray, n: int, miller_madow: bool) -> float:
    """Plug-in entropy in nats of occupied-cell ``counts`` summing to ``n``."""
    h = float(entropy_nats(counts / n))
    if miller_madow:
        h += (counts.size - 1) / (2.0 * n)
    return h


def _mi_of_symbols(a: np.ndarray, b: np.ndarray, miller_madow: bool) -> float:
    """Plug-in I(A;B) in nats of paired symbol codes ``a``, ``b`` (each 0..k−1).

    The joint table is never formed densely: joint symbols ``a·k_b + b`` are counted
    with :func:`numpy.unique`, so memory stays O(n) however many cells there are.
    Without the correction, round-off below 0 is clipped; the Miller–Madow estimate is
    bias-corrected and may legitimately be slightly negative.
    """
    n = a.shape[0]
    count_a = np.bincount(a)
    count_b = np.bincount(b)
    _, count_ab = np.unique(a * count_b.size + b, return_counts=True)
    count_a = count_a[count_a > 0]
    count_b = count_b[count_b > 0]
    mi = (
        _entropy_of_counts(count_a, n, miller_madow)
        + _entropy_of_counts(count_b, n, miller_madow)
        - _entropy_of_counts(count_ab, n, miller_madow)
    )
    return mi if miller_madow else max(mi, 0.0)


def _singleton_share(symbols: np.ndarray) -> float:
    """Share of the samples alone in their cell, from symbol codes 0..k−1 (O(n + k))."""
    return float(np.count_nonzero(np.bincount(symbols) == 1)) / symbols.size


def _default_bins(n: int, d: int) -> int:
    """Equal-mass bins per coordinate of the default rule, ``max(2, round((n/5)^(1/d)))``
    for ``n`` samples and ``d`` binned coordinates (about 5 samples per joint cell)."""
    return max(2, math.floor((n / _SAMPLES_PER_CELL) ** (1.0 / d) + 0.5))


def _warn_if_sparse(n: int, d: int) -> None:
    r"""Warn when the default rule's :math:`b^d` joint cells outnumber the ``n`` samples.

    Two bins per coordinate are the fewest the rule uses, so beyond :math:`d = \log_2 n`
    most samples sit alone in their joint cell: the plug-in bias, about (occupied
    cells)/(2n) nats, then outweighs the dependence and the estimate drifts towards
    :math:`\log n` whatever the truth.
    """
    b = _default_bins(n, d)
    if n < b**d:
        warnings.warn(
            f"binning: {b} bins per coordinate over {d} coordinates make {b}^{d} joint "
            f"cells for {n} samples (under one sample per cell), so the estimate is "
            "mostly the plug-in's upward bias, up to log2 n; use ksg or gaussian, reduce "
            "the dimension, or take more samples",
            SaturationWarning,
            stacklevel=4,
        )


def _equal_mass_codes(arr: Any, n_bins: int) -> Any:
    r"""Codes :math:`\lfloor b\,(r - \tfrac12) / n \rfloor` in 0..b−1 per column of the
    (n, d) ``arr``, :math:`r` the mid-rank of the value in its column.

    Distinct values fill the ``b = n_bins`` bins with :math:`\lfloor n/b \rfloor` or
    :math:`\lceil n/b \rceil` samples each; tied values share their average rank, hence
    one code, and a block of ties goes to the bin that holds its middle. The codes depend
    on the order within each column only. Twice the mid-rank, :math:`2r`, is an integer:
    :func:`scipy.stats.rankdata` gives it for an array; for a tensor, on its device, a
    block of ties at sorted positions :math:`i..j` (from 0) has :math:`2r = i + j + 2`.
    """
    if is_tensor(arr):
        twice_rank = _twice_mid_ranks(arr)
    else:
        from scipy.stats import rankdata

        twice_rank = np.rint(2.0 * rankdata(arr, axis=0)).astype(np.int64)
    return (n_bins * (twice_rank - 1)) // (2 * arr.shape[0])


def _twice_mid_ranks(arr: Any) -> Any:
    """Twice the mid-rank of each entry of the (n, d) tensor ``arr`` in its column (int64),
    from one sort per column: the first and last sorted positions of each block of ties
    are carried down and up the column by running maxima and minima."""
    import torch

    n = arr.shape[0]
    values, order = torch.sort(arr, dim=0, stable=True)
    position = torch.arange(n, device=arr.device)[:, None].expand_as(values)
    new = torch.ones_like(values, dtype=torch.bool)
    new[1:] = values[1:] != values[:-1]  # a tie block starts
    first = torch.where(new, position, 0).cummax(dim=0).values
    end = torch.ones_like(new)
    end[:-1] = new[1:]  # a tie block ends
    last = torch.where(end, position, n - 1).flip(0).cummin(dim=0).values.flip(0)
    return torch.empty_like(order).scatter_(0, order, first + last + 2)


@register
class BinningEstimator(MIEstimator):
    r"""Mutual information through bins: equal-mass bins that adapt to the data by
    default, or the fixed grids of the information-plane studies.

    Every coordinate is mapped to an integer bin code; the vector of codes of a sample
    is one symbol :math:`T`, and the estimate is the plug-in
    :math:`\hat I(T_X;T_Y) = \hat H(T_X) + \hat H(T_Y) - \hat H(T_X,T_Y)` (a discrete
    ``y`` label is used as it is). For a deterministic layer ``y = f(x)`` over distinct
    inputs this equals :math:`\hat H(T_Y) \le \log n`, the quantity plotted in the
    information planes of Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018).

    **The default** (none of ``n_bins``, ``value_range``, ``bin_size``, ``strategy``
    given) cuts every coordinate into :math:`b` equal-mass bins, :math:`b` chosen from
    the sample size :math:`n` and the number :math:`d` of binned coordinates
    (:math:`d_x + d_y`, or :math:`d_x` for a discrete label ``y``) at each call:

    .. math::

        b = \max\big(2,\ \operatorname{round}\,(n / 5)^{1/d}\big).

    With equal-mass marginals each of the :math:`b^d` joint cells expects :math:`n / b^d
    \approx 5` samples where X and Y are independent: the rule of at least five expected
    samples per cell (Cochran's, for contingency tables) that Cellucci, Albano & Rapp
    (2005) apply to equiprobable partitions, :math:`b = \sqrt{n/5}` for two 1-D variables.
    It keeps the upward bias of the plug-in, about (occupied cells)/(2n) nats (Miller
    1955; Paninski 2003), near 0.1 nats, while coarser bins would lose the dependence
    inside each bin. The codes depend on the ranks of each coordinate only, so the
    estimate does not change under any increasing map of any coordinate (rescaling,
    standardising, cubing), as the mutual information itself does not. It is a usable
    estimator in a few joint dimensions. Two bins per coordinate are the fewest it uses:
    near :math:`d = \log_2(n/5)` (d = 10 at n = 5000) they already lose much of the
    dependence (0.55 of 1.04 bits for 5 + 5 Gaussian coordinates, ρ = 0.5), and well
    beyond it the joint cells hold one sample each and the estimate climbs towards
    :math:`\log n` (12 bits at d = 40, n = 5000, where the truth is 3): use ``ksg`` or
    ``gaussian`` there. Equal-mass bins follow ranks, not gaps: a cluster whose share of
    the samples is not a multiple of :math:`1/b` shares a bin with its neighbour however
    far apart they lie (three separated classes of 50, 30 and 20 % in 5 bins per unit:
    I(T;Y) = 1.40 of H(Y) = 1.51 bits), where a uniform grid (``n_bins``) keeps apart
    clusters further apart than its bins are wide.

    **Device and memory.** The device is the data's: torch tensors are binned where they
    live (a CUDA tensor on its GPU), numpy arrays on the host, with the same codes and so
    the same estimate; only the symbols, one integer per sample, come back to the host for
    the plug-in counts. The distinct rows of codes are found exactly, without hashing (no
    collisions), :data:`_CODE_BLOCK` columns at a time, and the columns left once every
    sample has a symbol of its own are not coded: besides a float64 copy of the data, the
    work holds ``n`` × 512 codes, however wide the layer (1,000 × 25,088 conv units: 0.5 s
    and 0.2 GB with 30 bins).

    **Diagnostics** (:class:`~ibkit.estimators.Diagnostics`): ``singleton_share``, the
    share of the samples alone in their cell of ``x``, and ``at_ceiling``, the estimate
    within 0.01 bits of its ceiling :math:`\hat H(Y)` (discrete ``y``) or :math:`\log
    n`: every cell of the deterministic layer holds one input, :math:`\hat I(X;T) =
    \hat H(X)`, whatever the layer does. Fewer or wider bins move it off. The default
    rule raises a :class:`~ibkit.estimators.SaturationWarning` when even two bins per
    coordinate make more joint cells than samples (:math:`n < 2^d`): on 5 + 5
    coordinates at n = 1000 the estimate of independent data is then 0.77 bits.

    Parameters
    ----------
    n_bins : int, optional
        Bins per coordinate (≥ 1). Cannot be combined with ``bin_size``. Not given: 30
        for the uniform grid (the information-plane studies), the rule above for
        ``strategy="quantile"``.
    value_range : tuple of two floats, optional
        ``(lo, hi)`` of the uniform grid, e.g. ``(-1, 1)`` for tanh units; values outside
        fall into the end bins. ``None`` uses the minimum and maximum of each variable
        (over all its coordinates) at each call. Uniform strategy only.
    bin_size : float, optional
        Width of an unbounded uniform grid, codes :math:`\lfloor v / \Delta \rfloor`, as
        Saxe et al. (2018) used for ReLU layers. Excludes ``n_bins`` and ``value_range``.
    strategy : {"uniform", "quantile"}, optional
        ``"uniform"``: equal-width bins (the default once ``n_bins``, ``value_range`` or
        ``bin_size`` is given). ``"quantile"``: equal-mass bins per coordinate (the
        default otherwise), code :math:`\lfloor b\,(r - \tfrac12) / n \rfloor` for a
        value of mid-rank :math:`r` in its coordinate, so equal values share a code.
    miller_madow : bool
        Add :math:`(m-1)/(2n)` to each of the three entropies (``m`` occupied bins).

    References
    ----------
    Shwartz-Ziv & Tishby, arXiv:1703.00810 (2017); Saxe et al., ICLR 2018; Miller (1955);
    L. Paninski, *Neural Computation* 15, 2003; C. J. Cellucci, A. M. Albano and P. E.
    Rapp, "Statistical validation of mutual information calculations: comparison of
    alternative numerical algorithms", *Physical Review E* 71:066208, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.repeat([0.0, 1.0], 50)
    >>> round(BinningEstimator(n_bins=2).estimate(x, x).value, 6)
    1.0
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(5000)  # y = x + noise: I = ½ log2(1 + 1/0.25) = 1.161 bits
    >>> est = BinningEstimator().estimate(x, x + 0.5 * rng.standard_normal(5000))
    >>> est.params["strategy"], bool(abs(est.value - 1.161) < 0.1)
    ('quantile', True)
    """

    name = "binning"
    tensors = True

    def __init__(
        self,
        n_bins: int | None = None,
        *,
        value_range: tuple[float, float] | None = None,
        bin_size: float | None = None,
        strategy: str | None = None,
        miller_madow: bool = False,
    ) -> None:
        if strategy is None:
            grid = (n_bins, value_range, bin_size)
            strategy = "quantile" if all(v is None for v in grid) else "uniform"
        if strategy not in _STRATEGIES:
            raise InvalidParameterError(
                f"strategy must be 'uniform' or 'quantile'; got {strategy!r}"
            )
        if bin_size is not None:
            if n_bins is not None:
                raise InvalidParameterError(
                    f"pass either n_bins or bin_size, not both; got n_bins={n_bins!r} "
                    f"and bin_size={bin_size!r}"
                )
            if value_range is not None:
                raise InvalidParameterError(
                    "value_range applies to the n_bins grid; bin_size gives an unbounded "
                    f"grid, so pass one of them; got value_range={value_range!r}"
                )
            if strategy != "uniform":
                raise InvalidParameterError(
                    f"bin_size needs strategy='uniform'; got strategy={strategy!r}"
                )
            bin_size = check_positive(bin_size, "bin_size")
        elif n_bins is not None:
            n_bins = check_int(n_bins, "n_bins")
        elif strategy == "uniform":
            n_bins = 30
        if value_range is not None:
            if strategy != "uniform":
                raise InvalidParameterError(
                    f"value_range needs strategy='uniform'; got strategy={strategy!r}"
                )
            value_range = _check_value_range(value_range)
        super().__init__(
            n_bins=n_bins,
            value_range=value_range,
            bin_size=bin_size,
            strategy=strategy,
            miller_madow=check_bool(miller_madow, "miller_madow"),
        )

    def _symbols(self, arr: Any, n_binned: int) -> np.ndarray:
        """Symbols 0..k−1 (host int64), one per distinct row of bin codes of the (n, d)
        float array or tensor ``arr``; ``n_binned`` is the number of coordinates binned in
        all (``d`` of the default rule). The codes are made :data:`_CODE_BLOCK` columns at
        a time, on the tensor's device for a tensor (see :func:`_row_symbols`)."""
        p = self.params
        xp = namespace(arr)
        if p["bin_size"] is not None:
            size = p["bin_size"]
            return _row_symbols(arr, lambda block: xp.astype(xp.floor(block / size), np.int64))
        n_bins = p["n_bins"] or _default_bins(arr.shape[0], n_binned)
        if p["strategy"] == "quantile":
            return _row_symbols(arr, lambda block: _equal_mass_codes(block, n_bins))
        if p["value_range"] is not None:
            lo, hi = p["value_range"]
        else:
            lo, hi = float(arr.min()), float(arr.max())
        if hi <= lo:  # constant data: one bin
            return np.zeros(arr.shape[0], dtype=np.int64)

        def uniform(block: Any) -> Any:
            codes = xp.astype(xp.floor((block - lo) / (hi - lo) * n_bins), np.int64)
            return xp.clip(codes, 0, n_bins - 1)

        return _row_symbols(arr, uniform)

    def _estimate_nats(self, samples: Samples, rng: np.random.Generator) -> Nats:
        d = samples.x.shape[1] + (0 if samples.y_discrete else samples.y.shape[1])
        if self.params["n_bins"] is None and self.params["bin_size"] is None:
            _warn_if_sparse(samples.x.shape[0], d)
        a = self._symbols(samples.x, d)
        b = samples.y if samples.y_discrete else self._symbols(samples.y, d)
        mi = _mi_of_symbols(a, b.astype(np.int64), self.params["miller_madow"])
        return Nats(mi, singleton_share=_singleton_share(a))

    def _plane_nats(
        self, x_samples: Samples, y_samples: Samples, random_state: Any
    ) -> tuple[Nats, Nats]:
        """Both coordinates from one binning of ``t`` (see the base class)."""
        if not (x_samples.y_discrete and y_samples.y_discrete):
            raise InvalidParameterError(
                "x_labels and y_labels must be 1-D integer labels, one per row of t"
            )
        symbols = self._symbols(x_samples.x, x_samples.x.shape[1])
        mm, share = self.params["miller_madow"], _singleton_share(symbols)
        return (
            Nats(_mi_of_symbols(symbols, x_samples.y, mm), singleton_share=share),
            Nats(_mi_of_symbols(symbols, y_samples.y, mm), singleton_share=share),
        )


@register
class PluginEstimator(MIEstimator):
    r"""Empirical (plug-in) mutual information of discrete data.

    Each row of ``x`` is one symbol (distinct rows, compared exactly, are distinct
    symbols); ``y`` is a label or, when 2-D or float, its rows are symbols. Returns
    :math:`\sum_{a,b} \hat p(a,b) \log \frac{\hat p(a,b)}{\hat p(a)\hat p(b)}` with
    :math:`\hat p` the relative frequencies. Its bias is about
    :math:`+(m_{AB} - m_A - m_B + 1)/(2n)` nats (Miller 1955; Paninski 2003), which the
    Miller–Madow option removes to first order. Its diagnostics are those of
    :class:`BinningEstimator`: the share of samples alone in their symbol of ``x``, and
    whether the estimate sits at its ceiling.

    Parameters
    ----------
    miller_madow : bool
        Add :math:`(m-1)/(2n)` to each of the three entropies (``m`` occupied cells).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0, 0, 1, 1])
    >>> PluginEstimator().estimate(x, x).value
    1.0
    """

    name = "plugin"

    def __init__(self, *, miller_madow: bool = False) -> None:
        super().__init__(miller_madow=check_bool(miller_madow, "miller_madow"))

    def _estimate_nats(self, samples: Samples, rng: np.random.Generator) -> Nats:
        a = _symbols(samples.x)
        b = samples.y if samples.y_discrete else _symbols(samples.y)
        mi = _mi_of_symbols(a, b.astype(np.int64), self.params["miller_madow"])
        return Nats(mi, singleton_share=_singleton_share(a))


def _check_value_range(value_range: Any) -> tuple[float, float]:
    ok = (
        isinstance(value_range, (tuple, list))
        and len(value_range) == 2
        and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
            for v in value_range
        )
    )
    if not ok:
        raise InvalidParameterError(
            f"value_range must be a pair (lo, hi) of finite numbers; got {value_range!r}"
        )
    lo, hi = float(value_range[0]), float(value_range[1])
    if lo >= hi:
        raise InvalidParameterError(f"value_range must have lo < hi; got ({lo!r}, {hi!r})")
    return lo, hi

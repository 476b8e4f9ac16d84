r"""Discretisation ("binning") and plug-in estimators of mutual information.

Both estimators reduce each sample to one discrete *symbol* and return the empirical
(plug-in) mutual information of the symbols,

.. math::

    \hat I(A;B) = \hat H(A) + \hat H(B) - \hat H(A,B), \qquad
    \hat H(A) = -\sum_a \hat p(a) \log \hat p(a), \quad \hat p(a) = n_a / n,

optionally with the Miller–Madow correction :math:`\hat H_{MM} = \hat H + (m-1)/(2n)`
applied to each of the three entropies, :math:`m` being the number of occupied cells.

:class:`BinningEstimator` ("binning") quantises every coordinate of continuous data
onto a grid first, as in the information-plane analyses of deep networks (Shwartz-Ziv
& Tishby 2017; Saxe et al. 2018). :class:`PluginEstimator` ("plugin") takes data that
are already discrete.

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

import numbers
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError, check_int, check_positive
from ibkit.estimators._base import MIEstimator, Nats, Samples, register
from ibkit.measures import entropy_nats

__all__ = ["BinningEstimator", "PluginEstimator"]

_STRATEGIES = ("uniform", "quantile")


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
    if float(np.prod(span.astype(np.float64))) >= 2.0**62:
        return None
    strides = np.concatenate(([1], np.cumprod(span[:-1]))).astype(np.int64)
    return (codes - lo) @ strides


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


def _check_miller_madow(value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"miller_madow must be True or False; got {value!r}")
    return bool(value)


@register
class BinningEstimator(MIEstimator):
    r"""Mutual information of continuous data through a grid of bins.

    Every coordinate is mapped to an integer bin code; the vector of codes of a sample
    is one symbol :math:`T`, and the estimate is the plug-in
    :math:`\hat I(T_X;T_Y) = \hat H(T_X) + \hat H(T_Y) - \hat H(T_X,T_Y)` (a discrete
    ``y`` label is used as it is). For a deterministic layer ``y = f(x)`` over distinct
    inputs this equals :math:`\hat H(T_Y) \le \log n`, the quantity plotted in the
    information planes of Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018).

    Parameters
    ----------
    n_bins : int, default 30
        Bins per coordinate (≥ 1). Cannot be combined with ``bin_size``.
    value_range : tuple of two floats, optional
        ``(lo, hi)`` of the uniform grid, e.g. ``(-1, 1)`` for tanh units; values outside
        fall into the end bins. ``None`` uses the minimum and maximum of each variable
        (over all its coordinates) at each call. Uniform strategy only.
    bin_size : float, optional
        Width of an unbounded uniform grid, codes :math:`\lfloor v / \Delta \rfloor`, as
        Saxe et al. (2018) used for ReLU layers. Excludes ``n_bins`` and ``value_range``.
    strategy : {"uniform", "quantile"}
        ``"quantile"``: equal-mass bins per coordinate from :func:`numpy.quantile`.
    miller_madow : bool
        Add :math:`(m-1)/(2n)` to each of the three entropies (``m`` occupied bins).

    References
    ----------
    Shwartz-Ziv & Tishby, arXiv:1703.00810 (2017); Saxe et al., ICLR 2018; Miller (1955).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.repeat([0.0, 1.0], 50)
    >>> round(BinningEstimator(n_bins=2).estimate(x, x).value, 6)
    1.0
    """

    name = "binning"

    def __init__(
        self,
        n_bins: int | None = None,
        *,
        value_range: tuple[float, float] | None = None,
        bin_size: float | None = None,
        strategy: str = "uniform",
        miller_madow: bool = False,
    ) -> None:
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
        else:
            n_bins = 30 if n_bins is None else check_int(n_bins, "n_bins")
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
            miller_madow=_check_miller_madow(miller_madow),
        )

    def _codes(self, arr: np.ndarray) -> np.ndarray:
        """Integer bin codes, same shape as the (n, d) float array ``arr``."""
        p = self.params
        if p["bin_size"] is not None:
            return np.floor(arr / p["bin_size"]).astype(np.int64)
        n_bins = p["n_bins"]
        if p["strategy"] == "quantile":
            inner = np.quantile(arr, np.linspace(0.0, 1.0, n_bins + 1)[1:-1], axis=0)
            codes = np.empty(arr.shape, dtype=np.int64)
            for j in range(arr.shape[1]):  # a loop over coordinates, not samples
                codes[:, j] = np.searchsorted(inner[:, j], arr[:, j], side="right")
            return codes
        lo, hi = p["value_range"] if p["value_range"] is not None else (arr.min(), arr.max())
        if hi <= lo:  # constant data: one bin
            return np.zeros(arr.shape, dtype=np.int64)
        codes = np.floor((arr - lo) / (hi - lo) * n_bins).astype(np.int64)
        return np.clip(codes, 0, n_bins - 1)

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, None, None, None]:
        a = _symbols(self._codes(samples.x))
        b = samples.y if samples.y_discrete else _symbols(self._codes(samples.y))
        return _mi_of_symbols(a, b.astype(np.int64), self.params["miller_madow"]), None, None, None

    def _plane_nats(
        self, x_samples: Samples, y_samples: Samples, random_state: Any
    ) -> tuple[Nats, Nats]:
        """Both coordinates from one binning of ``t`` (see the base class)."""
        if not (x_samples.y_discrete and y_samples.y_discrete):
            raise InvalidParameterError(
                "x_labels and y_labels must be 1-D integer labels, one per row of t"
            )
        symbols = _symbols(self._codes(x_samples.x))
        mm = self.params["miller_madow"]
        return (
            (_mi_of_symbols(symbols, x_samples.y, mm), None, None, None),
            (_mi_of_symbols(symbols, y_samples.y, mm), None, None, None),
        )


@register
class PluginEstimator(MIEstimator):
    r"""Empirical (plug-in) mutual information of discrete data.

    Each row of ``x`` is one symbol (distinct rows, compared exactly, are distinct
    symbols); ``y`` is a label or, when 2-D or float, its rows are symbols. Returns
    :math:`\sum_{a,b} \hat p(a,b) \log \frac{\hat p(a,b)}{\hat p(a)\hat p(b)}` with
    :math:`\hat p` the relative frequencies. Its bias is about
    :math:`+(m_{AB} - m_A - m_B + 1)/(2n)` nats (Miller 1955; Paninski 2003), which the
    Miller–Madow option removes to first order.

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
        super().__init__(miller_madow=_check_miller_madow(miller_madow))

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, None, None, None]:
        a = _symbols(samples.x)
        b = samples.y if samples.y_discrete else _symbols(samples.y)
        return _mi_of_symbols(a, b.astype(np.int64), self.params["miller_madow"]), None, None, None


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

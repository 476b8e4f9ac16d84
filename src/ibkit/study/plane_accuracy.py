r"""How right is an estimator on the information plane? Errors against truth, and DPI.

On a plane recorded beside its exact values (:func:`ibkit.study.ground_truth_plane`),
:func:`plane_accuracy` measures, per estimator and layer, the mean absolute error of
each coordinate along the training trajectories, and whether the estimator sees the
layer's compression: the drop of :math:`I(X;T)` from its peak to the last epoch
(:func:`ibkit.study.compression_metrics`) is computed from the estimates and from the
truth, and the estimator is right on a trajectory when both drops exceed ``min_drop``
or neither does.

Where there is no truth, one property still holds: along the layers of a network,
:math:`X \to T_1 \to T_2 \to \cdots` is a Markov chain, so the data-processing
inequality demands :math:`I(X;T_{l+1}) \le I(X;T_l)` and :math:`I(T_{l+1};Y) \le
I(T_l;Y)` (Cover & Thomas 2006, §2.8). :func:`dpi_violations` counts how often a
recorded plane breaks it between adjacent layers: each break is an estimation
artefact (binning each layer on its own grid, or noise added to each layer apart).

References
----------
T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., 2006.

A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.

Examples
--------
>>> import pandas as pd
>>> plane = pd.DataFrame({
...     "run": "demo", "activation": "tanh", "estimator": "binning", "seed": 0,
...     "epoch": [0, 0, 1, 1], "layer": ["1", "2"] * 2, "layer_index": [0, 1] * 2,
...     "i_xt": [3.0, 3.5, 2.0, 1.5], "i_ty": [0.9, 0.8, 0.9, 0.9], "units": "bits"})
>>> dpi_violations(plane)[["n_pairs", "i_xt_violations", "i_xt_max_excess"]]
   n_pairs  i_xt_violations  i_xt_max_excess
0        2              0.5              0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ibkit._validation import InvalidParameterError, check_positive, pandas_module
from ibkit.study.ground_truth import TRUTH_COLUMNS
from ibkit.study.metrics import RUN_COLUMNS, _check_table, compression_metrics

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["dpi_violations", "plane_accuracy"]

#: The information about the input whose compression :func:`plane_accuracy` can judge.
COMPRESSIBLE = ("i_xt", "i_xt_rel", "i_xt_irr")

#: One row of :func:`plane_accuracy` per these keys.
ACCURACY_KEYS = ("run", "activation", "estimator", "layer")


def _in_bits(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` in bits (rows in nats divided by ln 2)."""
    values = frame[column].to_numpy(dtype=np.float64)
    return np.where(frame["units"].to_numpy() == "nats", values / math.log(2.0), values)


def plane_accuracy(
    results: pd.DataFrame, *, compression: str = "i_xt", min_drop: float = 0.1
) -> pd.DataFrame:
    r"""Errors of every estimator against the truth, per layer, along the trajectories.

    Parameters
    ----------
    results : pandas.DataFrame
        A ground-truth plane (:attr:`ibkit.study.GroundTruthPlane.results`): the columns
        ``run, seed, activation, estimator, layer, layer_index, epoch, i_xt, i_ty,
        units`` and ``i_xt_true, i_ty_true``; ``i_xt_rel``, ``i_xt_irr`` and their ``_true`` columns
        are scored too when present.
    compression : str
        The information whose compression is judged: ``"i_xt"``, or ``"i_xt_rel"`` /
        ``"i_xt_irr"`` (the linear plane's relevant and irrelevant information).
    min_drop : float
        A trajectory compresses when its drop from peak to end exceeds this many bits.

    Returns
    -------
    pandas.DataFrame
        One row per (``run``, ``activation``, ``estimator``, ``layer``), in layer order:
        those keys, ``n_seeds``, ``mae_<c>`` (mean over seeds and recorded epochs of
        :math:`|\hat I - I|` in bits) for each scored column ``c``, then, for
        ``compression``, ``true_drop`` and ``est_drop`` (means over seeds of peak − end,
        bits), ``drop_error`` (mean :math:`|\widehat{drop} - drop|`),
        ``compression_agreement`` (fraction of seeds where the estimate and the truth
        agree on whether the layer compresses) and ``units`` (``"bits"``).

    Examples
    --------
    >>> import pandas as pd
    >>> plane = pd.DataFrame({
    ...     "run": "r", "activation": "tanh", "estimator": "binning", "layer": "1",
    ...     "layer_index": 0, "seed": 0, "epoch": [0, 1, 2], "units": "bits",
    ...     "i_xt": [2.0, 3.0, 3.0], "i_xt_true": [2.0, 4.0, 3.0],
    ...     "i_ty": [0.5, 0.6, 0.7], "i_ty_true": [0.5, 0.6, 0.7]})
    >>> acc = plane_accuracy(plane)
    >>> acc[["mae_i_xt", "true_drop", "est_drop", "compression_agreement"]]
       mae_i_xt  true_drop  est_drop  compression_agreement
    0  0.333333        1.0       0.0                    0.0
    """
    pandas_module("plane_accuracy")
    if compression not in COMPRESSIBLE:
        raise InvalidParameterError(
            f"compression must be one of {list(COMPRESSIBLE)}; got {compression!r}"
        )
    required = (
        *RUN_COLUMNS,
        "layer_index",
        "i_xt_true",
        "i_ty_true",
        compression,
        TRUTH_COLUMNS[compression],
    )
    _check_table(results, tuple(dict.fromkeys(required)), "plane_accuracy")
    min_drop = check_positive(min_drop, "min_drop", allow_zero=True)
    pairs = {c: t for c, t in TRUTH_COLUMNS.items() if c in results and t in results}

    errors = results[[*ACCURACY_KEYS, "layer_index", "seed"]].copy()
    for column, truth in pairs.items():
        errors[f"mae_{column}"] = np.abs(_in_bits(results, column) - _in_bits(results, truth))
    summary = errors.groupby(list(ACCURACY_KEYS)).agg(
        layer_index=("layer_index", "first"),
        n_seeds=("seed", "nunique"),
        **{f"mae_{c}": (f"mae_{c}", "mean") for c in pairs},
    )

    def drops(column: str) -> pd.DataFrame:
        frame = results.assign(i_xt=_in_bits(results, column), units="bits")
        return compression_metrics(frame)

    keys = ["run", "activation", "estimator", "layer", "seed"]
    estimated = drops(compression)[[*keys, "drop_bits"]]
    true = drops(TRUTH_COLUMNS[compression])[[*keys, "drop_bits"]]
    both = estimated.merge(true, on=keys, suffixes=("_est", "_true"), validate="one_to_one")
    both["drop_error"] = (both["drop_bits_est"] - both["drop_bits_true"]).abs()
    both["agree"] = (both["drop_bits_est"] > min_drop) == (both["drop_bits_true"] > min_drop)
    compressed = both.groupby(list(ACCURACY_KEYS)).agg(
        true_drop=("drop_bits_true", "mean"),
        est_drop=("drop_bits_est", "mean"),
        drop_error=("drop_error", "mean"),
        compression_agreement=("agree", "mean"),
    )
    out = summary.join(compressed).reset_index().assign(units="bits")
    out = out.sort_values(["run", "activation", "estimator", "layer_index"], kind="stable")
    return out.drop(columns="layer_index").reset_index(drop=True)


def dpi_violations(
    results: pd.DataFrame,
    *,
    columns: Sequence[str] = ("i_xt", "i_ty"),
    by: Sequence[str] = ("run", "activation", "estimator"),
    tol: float = 1e-6,
) -> pd.DataFrame:
    r"""How often a recorded plane breaks the data-processing inequality between layers.

    Within each recorded network (``seed``) and epoch, layers are taken in
    ``layer_index`` order (the output layer last) and each adjacent pair
    :math:`(T_l, T_{l+1})` is checked: a violation is :math:`\hat I(X;T_{l+1}) >
    \hat I(X;T_l) + \mathrm{tol}` (and likewise for each column).

    Parameters
    ----------
    results : pandas.DataFrame
        An information-plane table with ``seed, epoch, layer_index, units``, the ``by``
        columns and ``columns`` (e.g. :attr:`ibkit.nn.InformationPlane.results`).
    columns : sequence of str
        The information columns to check (``i_xt_true`` checks a ground truth).
    by : sequence of str
        One output row per combination of these columns.
    tol : float
        Slack in bits (≥ 0) for rounding.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` group: those columns, ``n_pairs`` (adjacent layer pairs
        checked), and per column ``c`` the fraction ``c_violations`` of pairs that break
        the inequality and the largest increase ``c_max_excess`` in bits (0 when the
        values never increase).
    """
    pandas_module("dpi_violations")
    if isinstance(columns, str) or isinstance(by, str):
        raise InvalidParameterError("columns and by must be sequences of column names")
    by, columns = list(by), list(columns)
    if not by or not columns:
        raise InvalidParameterError("columns and by must each name at least one column")
    required = (*by, "seed", "epoch", "layer_index", "units", *columns)
    _check_table(results, tuple(dict.fromkeys(required)), "dpi_violations")
    tol = check_positive(tol, "tol", allow_zero=True)
    frame = results.sort_values([*by, "seed", "epoch", "layer_index"], kind="stable")
    chains = frame.groupby([*by, "seed", "epoch"], sort=False)
    steps = frame[by].copy()
    for column in columns:
        values = frame.assign(_bits=_in_bits(frame, column))
        steps[column] = values.groupby(chains.ngroup())["_bits"].diff().to_numpy()
    steps = steps[steps[columns[0]].notna()]
    if steps.empty:
        raise InvalidParameterError(
            "dpi_violations: no network has two layers recorded at one epoch; nothing to check"
        )
    grouped = steps.groupby(by, sort=True)
    out = grouped.size().rename("n_pairs").to_frame()
    for column in columns:
        out[f"{column}_violations"] = grouped[column].agg(lambda d: float((d > tol).mean()))
        out[f"{column}_max_excess"] = grouped[column].max().clip(lower=0.0)
    return out.reset_index()

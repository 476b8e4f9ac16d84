r"""Compression metrics of information-plane runs, and their spread across seeds.

Shwartz-Ziv & Tishby (2017) describe training as a fitting phase, in which the
information :math:`I(X;T)` of a hidden layer :math:`T` about the input rises, followed by
a compression phase, in which it falls. Saxe et al. (2018) found that whether the fall
appears depends on the activation and on the estimator of :math:`I(X;T)`. For one
recorded trajectory :math:`I_e = I(X;T)` at epochs :math:`e`, this module measures

.. math::

    \text{peak} = \max_e I_e, \qquad
    \text{final} = I_{e_\text{last}}, \qquad
    \text{drop} = \text{peak} - \text{final} \;\ge 0, \qquad
    \text{drop}_\text{rel} = \text{drop} / \text{peak},

and, across the seeds :math:`s = 1..n` of one (activation, estimator, layer), the mean
:math:`\bar m` of each metric with the Student t confidence interval
:math:`\bar m \pm t_{(1+c)/2,\,n-1}\, s_m / \sqrt{n}` (:math:`s_m` the sample standard
deviation, :math:`c` the confidence). A layer *compresses* when the lower end of the
interval of the drop is above zero.

All information values are reported in bits; rows recorded in nats are divided by
:math:`\ln 2`.

References
----------
R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
information", arXiv:1703.00810, 2017.

A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({
...     "run": "demo", "activation": "tanh", "estimator": "binning", "layer": 1,
...     "seed": [0, 0, 0, 1, 1, 1], "epoch": [0, 10, 20] * 2,
...     "i_xt": [2.0, 5.0, 4.0, 2.0, 6.0, 4.5], "i_ty": [0.1, 0.8, 0.9, 0.2, 0.7, 0.9],
...     "units": "bits"})
>>> m = compression_metrics(runs)
>>> m[["seed", "peak_i_xt", "peak_epoch", "final_i_xt", "drop_bits"]]
   seed  peak_i_xt  peak_epoch  final_i_xt  drop_bits
0     0        5.0          10         4.0        1.0
1     1        6.0          10         4.5        1.5
>>> s = summarize_compression(m)
>>> float(s.loc[0, "drop_bits"]), int(s.loc[0, "n_seeds"])
(1.25, 2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from ibkit._validation import UNITS, InvalidParameterError, check_confidence, pandas_module

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METRICS", "RUN_COLUMNS", "compression_metrics", "summarize_compression", "t_interval"]

#: Columns :func:`compression_metrics` needs, one row per recorded epoch of a layer.
RUN_COLUMNS = ("run", "seed", "activation", "estimator", "layer", "epoch", "i_xt", "i_ty", "units")

#: One trajectory: the keys of a row of :func:`compression_metrics`.
TRAJECTORY_KEYS = ("run", "activation", "estimator", "layer", "seed")

#: What :func:`summarize_compression` averages over seeds: one row per these keys.
SUMMARY_KEYS = ("activation", "estimator", "layer")

#: The per-trajectory metrics, in column order.
METRICS = (
    "peak_i_xt",
    "peak_epoch",
    "final_i_xt",
    "drop_bits",
    "drop_relative",
    "final_i_ty",
)


def _check_table(df: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    """Raise ``ValueError`` if ``df`` is not a non-empty DataFrame with ``columns``."""
    pd = pandas_module(name)
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(f"{name} needs a pandas DataFrame; got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"{name}: the table lacks the columns {missing}; it needs {list(columns)} "
            f"and has {list(df.columns)}"
        )
    if df.empty:
        raise InvalidParameterError(f"{name}: the table has no rows")
    bad = [c for c in columns if df[c].isna().any()]
    if bad:
        raise InvalidParameterError(
            f"{name}: the columns {bad} have missing values; fill or drop those rows"
        )


def compression_metrics(df: pd.DataFrame) -> pd.DataFrame:
    r"""Peak, final value and drop of I(X;T) for every recorded trajectory.

    Parameters
    ----------
    df : pandas.DataFrame
        A tidy table with the columns :data:`RUN_COLUMNS`: one row per run × seed ×
        activation × estimator × layer × recorded epoch, with ``i_xt`` and ``i_ty`` in
        ``units`` (``"bits"`` or ``"nats"``). Other columns are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per (``run``, ``activation``, ``estimator``, ``layer``, ``seed``), sorted
        by them, with those keys and then

        - ``peak_i_xt`` — :math:`\max_e I(X;T)`;
        - ``peak_epoch`` — the epoch of the peak (the earliest if several tie);
        - ``final_i_xt`` — :math:`I(X;T)` at the last recorded epoch;
        - ``drop_bits`` — peak − final (≥ 0; 0 for a trajectory that never falls);
        - ``drop_relative`` — drop / peak (0 when the peak is ≤ 0);
        - ``final_i_ty`` — :math:`I(T;Y)` at the last recorded epoch;
        - ``units`` — ``"bits"``: every information value is in bits.

    Raises
    ------
    ValueError
        If a column is missing or has missing values, the table is empty, ``units``
        holds anything but ``"bits"``/``"nats"``, ``i_xt``/``i_ty`` are not finite
        numbers, ``epoch`` is not numeric, or an epoch appears twice in one trajectory.
    """
    _check_table(df, RUN_COLUMNS, "compression_metrics")
    keys = list(TRAJECTORY_KEYS)
    bad_units = sorted(set(df["units"]) - set(UNITS))
    if bad_units:
        raise InvalidParameterError(
            f"compression_metrics: units must be 'bits' or 'nats'; found {bad_units}"
        )
    try:
        info = df[["i_xt", "i_ty"]].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"compression_metrics: i_xt and i_ty must be numbers; {exc}"
        ) from None
    if not np.isfinite(info).all():
        raise InvalidParameterError("compression_metrics: i_xt and i_ty must be finite numbers")
    if df["epoch"].dtype.kind not in "iuf":
        raise InvalidParameterError(
            f"compression_metrics: epoch must be numeric; got dtype {df['epoch'].dtype}"
        )
    repeated = df.duplicated([*keys, "epoch"])
    if repeated.any():
        first = df.loc[repeated, [*keys, "epoch"]].iloc[0].to_dict()
        raise InvalidParameterError(
            f"compression_metrics: {int(repeated.sum())} rows repeat an epoch of their "
            f"trajectory, e.g. {first}; give each trajectory its own run or seed"
        )
    per_bit = np.where(df["units"].to_numpy() == "nats", 1.0 / np.log(2.0), 1.0)
    table = df[[*keys, "epoch"]].assign(i_xt=info[:, 0] * per_bit, i_ty=info[:, 1] * per_bit)
    table = table.sort_values([*keys, "epoch"], kind="stable").reset_index(drop=True)
    groups = table.groupby(keys, sort=True)
    peak = table.loc[groups["i_xt"].idxmax()].set_index(keys)
    final = table.loc[groups["epoch"].idxmax()].set_index(keys)
    drop = peak["i_xt"] - final["i_xt"]
    out = peak[[]].assign(
        peak_i_xt=peak["i_xt"],
        peak_epoch=peak["epoch"],
        final_i_xt=final["i_xt"],
        drop_bits=drop,
        drop_relative=np.divide(
            drop, peak["i_xt"], out=np.zeros(len(drop)), where=peak["i_xt"].to_numpy() > 0
        ),
        final_i_ty=final["i_ty"],
        units="bits",
    )
    return out.reset_index()


def summarize_compression(metrics: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    r"""Mean and Student t confidence interval over seeds of each compression metric.

    Parameters
    ----------
    metrics : pandas.DataFrame
        The output of :func:`compression_metrics` (at least ``activation``,
        ``estimator``, ``layer``, ``seed``, ``units`` and the :data:`METRICS`), for one
        configuration: each (activation, estimator, layer) may hold each seed once.
    confidence : float
        Coverage :math:`c \in (0, 1)` of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per (``activation``, ``estimator``, ``layer``), sorted by them, with those
        keys, ``n_seeds``, then for each metric ``m`` of :data:`METRICS` its mean ``m``
        and interval ends ``m_low``, ``m_high``
        (:math:`\bar m \mp t_{(1+c)/2,\,n-1}\,s_m/\sqrt n`), then ``compresses``
        (``drop_bits_low > 0``) and ``units``. With one seed the interval is NaN and
        ``compresses`` is False. ``attrs["confidence"]`` records :math:`c`.

    Raises
    ------
    ValueError
        If a column is missing or has missing values, the table is empty,
        ``confidence`` is not in (0, 1), a seed appears twice in one group, or a group
        mixes units.
    """
    columns = (*SUMMARY_KEYS, "seed", *METRICS, "units")
    _check_table(metrics, columns, "summarize_compression")
    check_confidence(confidence)
    keys = list(SUMMARY_KEYS)
    repeated = metrics.duplicated([*keys, "seed"])
    if repeated.any():
        first = metrics.loc[repeated, [*keys, "seed"]].iloc[0].to_dict()
        raise InvalidParameterError(
            f"summarize_compression: a seed appears twice in one group, e.g. {first}; "
            "summarize one run at a time, e.g. metrics[metrics['run'] == name]"
        )
    groups = metrics.groupby(keys, sort=True)
    n_units = groups["units"].nunique()
    if (n_units > 1).any():
        raise InvalidParameterError(
            f"summarize_compression: the groups {n_units[n_units > 1].index.tolist()} mix "
            "units; convert them to one unit first"
        )
    values = metrics[[*keys, *METRICS]].astype({m: np.float64 for m in METRICS})
    stats_by_group = values.groupby(keys, sort=True)
    n = groups.size()
    mean = stats_by_group.mean()
    sem = stats_by_group.std(ddof=1).div(np.sqrt(n), axis=0)
    t = stats.t.ppf(0.5 + confidence / 2.0, df=np.maximum(n - 1, 1).to_numpy())
    half = sem.mul(np.where(n > 1, t, np.nan), axis=0)
    out = mean[[]].assign(n_seeds=n)
    for m in METRICS:
        out[m] = mean[m]
        out[f"{m}_low"] = mean[m] - half[m]
        out[f"{m}_high"] = mean[m] + half[m]
    out["compresses"] = out["drop_bits_low"] > 0
    out["units"] = groups["units"].first()
    out = out.reset_index()
    out.attrs["confidence"] = float(confidence)
    return out


def t_interval(values: np.ndarray, confidence: float) -> np.ndarray:
    r"""Mean of the finite ``values`` and its Student t interval: (mean, low, high).

    :math:`\bar v \pm t_{(1+c)/2,\,n-1}\, s / \sqrt n`, the interval of
    :func:`summarize_compression` for one group; NaN ends below two values, all NaN
    with none.
    """
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return np.full(3, np.nan)
    mean = float(v.mean())
    if len(v) < 2:
        return np.array([mean, np.nan, np.nan])
    half = float(stats.t.ppf(0.5 + confidence / 2.0, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return np.array([mean, mean - half, mean + half])

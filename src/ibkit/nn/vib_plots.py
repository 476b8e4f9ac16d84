r"""Figures of a β sweep: the information plane and accuracy against β.

:func:`plot_vib_sweep` draws the table of :func:`~ibkit.nn.vib_sweep`:

- left, each β as a point (rate :math:`\ge I(X;Z)`, relevance :math:`\le I(Z;Y)`) with the
  bounds every true point obeys, :math:`I(Z;Y) \le H(Y)` and :math:`I(Z;Y) \le I(X;Z)`;
- right, train and test accuracy against β on a log axis, with the β = 0 baseline (if the
  sweep has one) and the share of the most frequent class as dashed lines;
- a third panel with test accuracy against the FGSM step ε per β, if the table has
  ``fgsm_acc_<eps>`` columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError

__all__ = ["plot_vib_sweep"]

_REQUIRED = ("beta", "rate_bits", "relevance_bits", "h_y_bits", "train_acc", "test_acc")


def plot_vib_sweep(df: Any) -> Any:
    """Information plane and accuracy of a β sweep.

    Parameters
    ----------
    df : pandas.DataFrame
        The table returned by :func:`~ibkit.nn.vib_sweep` (columns ``beta``,
        ``rate_bits``, ``relevance_bits``, ``h_y_bits``, ``train_acc``, ``test_acc``;
        optional ``chance_acc`` and ``fgsm_acc_<eps>``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"beta": [0.0, 1e-3, 1.0], "rate_bits": [40.0, 9.0, 0.1],
    ...     "relevance_bits": [3.3, 3.2, 0.05], "h_y_bits": 3.32,
    ...     "train_acc": [1.0, 0.99, 0.2], "test_acc": [0.97, 0.98, 0.2]})
    >>> fig = plot_vib_sweep(df)
    >>> len(fig.axes)  # the plane, its colour bar, the accuracy
    3
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt

    missing = [c for c in _REQUIRED if c not in getattr(df, "columns", ())]
    if missing:
        raise InvalidParameterError(
            f"df lacks the columns {missing}; pass the DataFrame returned by vib_sweep"
        )
    fgsm = [c for c in df.columns if c.startswith("fgsm_acc_")]
    fig, axes = plt.subplots(1, 3 if fgsm else 2, figsize=(15 if fgsm else 10, 4.2))
    _plane(axes[0], df)
    _accuracy(axes[1], df)
    if fgsm:
        _robustness(axes[2], df, fgsm)
    fig.tight_layout()
    return fig


def _plane(ax: Any, df: Any) -> None:
    h_y = float(df["h_y_bits"].iloc[0])
    rate = df["rate_bits"].to_numpy()
    top = max(float(rate.max()), h_y) * 1.05
    ax.plot([0, h_y, top], [0, h_y, h_y], "k--", lw=1, label="I(Z;Y) ≤ min(I(X;Z), H(Y))")
    pos = df["beta"] > 0
    pts = ax.scatter(
        rate[pos], df["relevance_bits"][pos], c=np.log10(df["beta"][pos]), cmap="viridis"
    )
    if (~pos).any():
        ax.scatter(rate[~pos], df["relevance_bits"][~pos], c="k", marker="x", label="β = 0")
    for b, r, v in zip(df["beta"], rate, df["relevance_bits"], strict=True):
        ax.annotate(f"{b:g}", (r, v), textcoords="offset points", xytext=(3, -11), fontsize=7)
    ax.figure.colorbar(pts, ax=ax, label="log10 β")
    if top > 30 * h_y:  # rates over orders of magnitude: linear below 1 bit, log above
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("rate: upper bound on I(X;Z) [bits]")
    ax.set_ylabel("relevance: H(Y) − CE, lower bound on I(Z;Y) [bits]")
    ax.set_title("Information plane (labels: β)")
    ax.legend(loc="lower right", fontsize=8)


def _accuracy(ax: Any, df: Any) -> None:
    pos = df[df["beta"] > 0]
    ax.semilogx(pos["beta"], pos["test_acc"], "o-", label="test")
    ax.semilogx(pos["beta"], pos["train_acc"], "s--", alpha=0.6, label="train")
    base = df[df["beta"] == 0]
    if len(base):
        ax.axhline(float(base["test_acc"].iloc[0]), color="C2", ls=":", label="β = 0, test")
    if "chance_acc" in df:
        ax.axhline(float(df["chance_acc"].iloc[0]), color="gray", ls="--", label="chance")
    ax.set_xlabel("β")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("Accuracy against β")
    ax.legend(fontsize=8)


def _robustness(ax: Any, df: Any, columns: list[str]) -> None:
    eps = [float(c.removeprefix("fgsm_acc_")) for c in columns]
    for _, row in df.iterrows():
        ax.plot(eps, [row[c] for c in columns], "o-", label=f"β={row['beta']:g}")
    ax.set_xlabel("FGSM step ε")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("Robustness to FGSM")
    ax.legend(fontsize=7)

r"""Figure of the SGD/full-batch study: the two information planes side by side.

One row per activation: the information plane of minibatch SGD, that of full-batch
gradient descent (same seeds, split, epochs and estimator; drawn by
:func:`~ibkit.study.figures.plot_information_plane`, points at the estimator's ceiling
hollow), and the gradient signal-to-noise ratio of each weight matrix against epoch for
both methods (geometric mean over seeds, :math:`\exp \overline{\ln \mathrm{SNR}}`;
solid SGD, dashed full batch), with the drift/diffusion line :math:`\mathrm{SNR} = 1`
(Shwartz-Ziv & Tishby 2017, Fig. 4). If compression were caused by the noise of SGD,
the full-batch plane would not show it (Saxe et al. 2018, sec. 4).

References
----------
R. Shwartz-Ziv and N. Tishby, arXiv:1703.00810, 2017.
A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError
from ibkit.ib.curve import IBCurve
from ibkit.plots import _subplots

__all__ = ["plot_sgd_vs_full_batch"]

_TITLES = {"sgd": "minibatch SGD", "full_batch": "full-batch GD"}


def plot_sgd_vs_full_batch(
    result: Any,
    *,
    estimator: str | Mapping[str, str] | None = None,
    activations: Sequence[str] | None = None,
    bound: IBCurve | None = None,
    panel_size: tuple[float, float] = (3.6, 2.9),
) -> Any:
    """Information planes of both methods and their gradient SNR, one row per activation.

    Parameters
    ----------
    result : SGDNoiseResult
        What :func:`~ibkit.study.sgd_noise.sgd_vs_full_batch` returned.
    estimator : str or dict, optional
        The estimator label of the planes (default: the first of the study), or one per
        activation, e.g. ``{"tanh": "bin30[-1:1]", "relu": "bin0.07"}`` (a fixed
        [−1, 1] grid suits tanh, not ReLU, whose activations pass 1).
    activations : sequence of str, optional
        Rows to draw, in order (default: all of the study).
    bound : IBCurve, optional
        The exact IB curve of the 12-bit task, drawn on each plane as the bound.
    panel_size : (float, float)
        Width and height of one panel, inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ibkit.study.figures import plot_information_plane
    from ibkit.study.sgd_noise import METHODS, SGDNoiseResult

    if not isinstance(result, SGDNoiseResult):
        raise InvalidParameterError(
            f"result must be an SGDNoiseResult; got {type(result).__name__}"
        )
    known = list(result.settings["activations"])
    rows = known if activations is None else list(activations)
    unknown = [a for a in rows if a not in known]
    if unknown or not rows or isinstance(activations, str):
        raise InvalidParameterError(
            f"activations must be a non-empty sequence of {known}; got {activations!r}"
        )
    studied = list(result.settings["estimators"])
    if estimator is None:
        estimator = studied[0]
    chosen = dict(estimator) if isinstance(estimator, Mapping) else dict.fromkeys(rows, estimator)
    if set(rows) - set(chosen) or not set(chosen.values()) <= set(studied):
        raise InvalidParameterError(
            f"estimator must be one of {studied}, or a dict giving one for each of {rows}; "
            f"got {estimator!r}"
        )
    fig, axes = _subplots(
        len(rows),
        3,
        figsize=(panel_size[0] * 3, panel_size[1] * len(rows)),
        squeeze=False,
    )
    lrs = result.tuning[result.tuning["chosen"]].set_index(["method", "activation"])["lr"]
    for axes_row, activation in zip(axes, rows, strict=True):
        planes = result.results[result.results["estimator"] == chosen[activation]]
        for ax, method in zip(axes_row[:2], METHODS, strict=True):
            panel = planes[(planes["method"] == method) & (planes["activation"] == activation)]
            title = (
                f"{activation} · {_TITLES[method]} (lr {lrs[(method, activation)]:g})"
                f" · {chosen[activation]}"
            )
            plot_information_plane(panel, ax=ax, bound=bound, title=title)
        _plot_snr(result.gradients, activation, axes_row[2])
    return fig


def _plot_snr(gradients: Any, activation: str, ax: Any) -> None:
    """Geometric-mean SNR per weight matrix against epoch; SGD solid, full batch dashed."""
    from ibkit.study.sgd_noise import METHODS

    rows = gradients[gradients["activation"] == activation]
    rows = rows.assign(log_snr=np.log(rows["snr"].to_numpy(np.float64)))
    means = rows.groupby(["method", "layer_index", "layer", "epoch"], sort=True)["log_snr"].mean()
    colours: dict[str, Any] = {}
    for method, style in zip(METHODS, ("-", "--"), strict=True):
        for (_, layer), curve in means.loc[method].groupby(level=[0, 1], sort=True):
            epochs = np.maximum(curve.index.get_level_values("epoch").to_numpy(float), 1.0)
            (line,) = ax.plot(
                epochs,
                np.exp(curve.to_numpy()),
                ls=style,
                lw=1.1,
                color=colours.get(layer),
                label=layer if layer not in colours else None,
            )
            colours[layer] = line.get_color()
    ax.axhline(1.0, color="0.3", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient SNR (— SGD, -- full batch)")
    ax.set_title(f"{activation} · minibatch gradient SNR", fontsize=9)
    ax.legend(fontsize=7, frameon=False, ncol=2)

"""Figures of IB curves in the information plane (needs matplotlib: ``ibkit[plot]``).

Every function draws on an existing :class:`matplotlib.axes.Axes` (or a new one when
``ax`` is omitted) and returns it, so curves of several solvers can be overlaid:

>>> ax = curve.plot()                                   # doctest: +SKIP
>>> plot_agglomerative(agglomerative_ib(p_xy), ax=ax)   # doctest: +SKIP

The axes are I(X;T) (compression, horizontal) and I(T;Y) (relevant information,
vertical), in the units of the result; a rate–distortion curve
(:func:`plot_rd_curve`) has the distortion and the rate I(X;X̂) instead. Overlaying
results in different units raises :class:`ValueError`. matplotlib is imported only
when a function is called, so ``import ibkit`` never imports it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ibkit._validation import InvalidParameterError, check_bool

if TYPE_CHECKING:  # the results import this module lazily, from their plot()
    from ibkit.ib import AgglomerativeIBResult, GaussianIBResult, IBCurve
    from ibkit.rd import RDCurve

__all__ = [
    "plot_agglomerative",
    "plot_gaussian_ib",
    "plot_ib_curve",
    "plot_rd_curve",
    "save_figure",
]

_INSTALL_HINT = "ibkit.plots needs matplotlib; install it with: pip install 'ibkit[plot]'"

#: gid of the artists drawn once per Axes however many curves are overlaid.
_GID_DIAGONAL = "ibkit-diagonal"
#: gid of the markers of the phase transitions.
_GID_CRITICAL = "ibkit-critical"
#: Attribute on the Axes holding the plane extent drawn so far (x_max, y_max).
_EXTENT_ATTR = "_ibkit_extent"

#: Relative headroom above the largest value on each axis.
_X_PAD, _Y_PAD = 1.05, 1.12


# --------------------------------------------------------------------------- public


def plot_ib_curve(
    curve: IBCurve,
    ax: Any = None,
    *,
    show_points: bool = True,
    show_bounds: bool = True,
    show_critical: bool = True,
    show_note: bool = True,
    color_by_beta: bool = False,
    label: str | None = None,
    color: Any = None,
    legend: bool | str = "best",
) -> Any:
    """Draw an :class:`~ibkit.ib.IBCurve` in the information plane.

    Parameters
    ----------
    curve : IBCurve
        The result of :func:`ibkit.ib.ib_curve`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure). Curves in the same units overlay.
    show_points : bool
        Mark the Lagrangian solution found at each β (open circles; the frontier
        between them is reached by mixing encoders).
    show_bounds : bool
        Draw I(T;Y) = I(X;Y) (dashed, labelled) and the data-processing bound
        I(T;Y) = I(X;T) (light dotted diagonal).
    show_critical : bool
        Mark each phase transition (``curve.transition_index``: |T| grows past its
        previous maximum) at the last solution before it (the branch point, a filled
        triangle), and list the estimated critical βs (``curve.critical_betas``) in the
        legend label.
    show_note : bool
        When Y is a deterministic function of X, print ``curve.note`` in the empty
        region below the diagonal.
    color_by_beta : bool
        Colour the per-β solutions by log10 β and add a colour bar (needs
        ``show_points``).
    label : str, optional
        Legend label of the frontier (default ``"IB frontier"``).
    color : matplotlib colour, optional
        Colour of the frontier and its markers (default: next in the colour cycle).
    legend : bool or str
        Location of the legend (a matplotlib ``loc``; ``True`` means ``"best"``), or
        ``False`` for none. The legend is redrawn, listing every curve on the Axes.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        A ``TypeError`` if ``curve`` is not an :class:`IBCurve` or ``ax`` is not an Axes;
        a ``ValueError`` if ``ax`` already shows a plane in other units, or a ``show_*``
        flag, ``color_by_beta`` or ``legend`` is not a bool (``legend`` may also be a
        ``loc``). It is both.
    ImportError
        If matplotlib is not installed.
    """
    _require(curve, "curve", "IBCurve", "ibkit.ib.ib_curve")
    show_points, show_bounds, show_critical, show_note, color_by_beta = _check_flags(
        show_points=show_points,
        show_bounds=show_bounds,
        show_critical=show_critical,
        show_note=show_note,
        color_by_beta=color_by_beta,
    )
    legend = _check_legend(legend)
    ax = _prepare_axes(ax, curve.units)
    change = curve.transition_index
    crit = np.asarray(curve.critical_betas, dtype=float)
    label = "IB frontier" if label is None else label
    if show_critical and len(crit):
        label += _critical_suffix(crit, approx=True)
    color = _draw_frontier(
        ax,
        curve.envelope_i_xt,
        curve.envelope_i_ty,
        color=color,
        label=label,
        gid="ibkit-frontier",
        solid_joinstyle="round",
    )

    if show_points:
        if color_by_beta:
            points = ax.scatter(
                curve.i_xt,
                curve.i_ty,
                c=np.log10(curve.betas),
                cmap="viridis",
                s=16,
                edgecolors="none",
                zorder=4,
                clip_on=False,
            )
            cbar = ax.figure.colorbar(points, ax=ax, fraction=0.046, pad=0.03)
            cbar.set_label(r"$\log_{10}\beta$", fontsize=8)
            cbar.ax.tick_params(labelsize=7)
            cbar.outline.set_visible(False)
            points.set_gid("ibkit-solutions")
        else:
            _draw_solutions(ax, curve.i_xt, curve.i_ty, color, "ibkit-solutions")

    if show_critical and len(change):
        _mark_critical(ax, curve.i_xt[change], curve.i_ty[change], color)

    if show_bounds:
        _draw_bounds(ax, curve.i_xy, curve.units, color)

    if show_note and curve.deterministic:
        ax.text(
            0.97,
            0.04,
            textwrap.fill(curve.note, 38),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6.5,
            color="0.35",
            linespacing=1.25,
        ).set_gid("ibkit-note")

    x_max = max(np.max(curve.envelope_i_xt), np.max(curve.i_xt))
    _finish(ax, x_max, curve.i_xy, legend)
    return ax


def plot_agglomerative(
    result: AgglomerativeIBResult,
    ax: Any = None,
    *,
    drop_redundant: bool = True,
    annotate: bool = True,
    label: str | None = None,
    color: Any = None,
    marker: str = "s",
    legend: bool | str = "best",
) -> Any:
    """Draw the hard-clustering curve of agglomerative IB in the information plane.

    Each point is a partition of X with |T| clusters, at (H(T), I(T;Y)) (for a hard
    partition I(X;T) = H(T)); consecutive partitions are joined by a thin line (the
    points on it are reached by mixing the two partitions).

    Parameters
    ----------
    result : AgglomerativeIBResult
        The result of :func:`ibkit.ib.agglomerative_ib`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on, e.g. one returned by :func:`plot_ib_curve`.
    drop_redundant : bool
        Leave out the partitions finer than the first one that loses no relevant
        information (the exact reductions: merges of inputs with equal p(y|x) cost
        nothing and only move the point left at I(T;Y) = I(X;Y)). The finest of them
        stays, so the curve still ends at I(X;Y).
    annotate : bool
        Label the points with |T| when at most 12 are drawn (not the origin, nor a
        point crowding the previous label).
    label : str, optional
        Legend label (default ``"aIB (hard)"``).
    color : matplotlib colour, optional
    marker : str
        Marker of the points.
    legend : bool or str
        Location of the legend (a matplotlib ``loc``; ``True`` means ``"best"``), or
        ``False`` for none. The legend is redrawn, listing every curve on the Axes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(result, "result", "AgglomerativeIBResult", "ibkit.ib.agglomerative_ib")
    drop_redundant, annotate = _check_flags(drop_redundant=drop_redundant, annotate=annotate)
    legend = _check_legend(legend)
    ax = _prepare_axes(ax, result.units)
    x, y, k = result.i_xt, result.i_ty, result.n_clusters
    if drop_redundant:
        kept = k <= result.coarsest_lossless
        x, y, k = x[kept], y[kept], k[kept]
    (line,) = ax.plot(
        x,
        y,
        "-",
        marker=marker,
        color=color,
        lw=0.9,
        ms=4.5,
        label="aIB (hard)" if label is None else label,
        zorder=3,
        clip_on=False,
    )
    line.set_gid("ibkit-agglomerative")
    if annotate and len(x) <= 12:
        scale = np.array([max(float(np.max(x)), 1e-12), max(float(np.max(y)), 1e-12)])
        last = None
        for xi, yi, ki in zip(x, y, k, strict=True):
            here = np.array([xi, yi]) / scale
            if xi <= 0 or (last is not None and np.hypot(*(here - last)) < 0.12):
                continue  # |T| = 1 sits at the origin; skip crowded neighbours
            last = here
            ax.annotate(
                f"|T|={int(ki)}",
                (xi, yi),
                xytext=(4, -9),
                textcoords="offset points",
                fontsize=6.5,
                color=line.get_color(),
            )
    _finish(ax, float(np.max(x)), float(np.max(y)), legend)
    return ax


def plot_gaussian_ib(
    result: GaussianIBResult,
    ax: Any = None,
    *,
    show_bounds: bool = True,
    show_critical: bool = True,
    label: str | None = None,
    color: Any = None,
    legend: bool | str = "best",
) -> Any:
    r"""Draw a Gaussian IB curve with its critical βs.

    The curve joins the solutions at ``result.betas`` in order of β. Each critical
    :math:`\beta_i^c` inside the range of β is marked (filled triangle) at its exact
    point on the curve, where component i becomes active (the curve is continuous
    there), and the values are listed in the legend label.

    Parameters
    ----------
    result : GaussianIBResult
        The result of :func:`ibkit.ib.gaussian_ib`.
    ax : matplotlib.axes.Axes, optional
    show_bounds : bool
        Draw I(T;Y) = I(X;Y) and the diagonal I(T;Y) = I(X;T).
    show_critical : bool
        Mark the critical βs and list them in the legend.
    label : str, optional
        Legend label (default ``"Gaussian IB"``).
    color : matplotlib colour, optional
    legend : bool or str
        Location of the legend (a matplotlib ``loc``; ``True`` means ``"best"``), or
        ``False`` for none. The legend is redrawn, listing every curve on the Axes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(result, "result", "GaussianIBResult", "ibkit.ib.gaussian_ib")
    show_bounds, show_critical = _check_flags(show_bounds=show_bounds, show_critical=show_critical)
    legend = _check_legend(legend)
    ax = _prepare_axes(ax, result.units)
    order = np.argsort(result.betas, kind="stable")
    lo, hi = float(result.betas.min()), float(result.betas.max())
    crit = result.critical_betas
    crit = crit[np.isfinite(crit) & (crit >= lo) & (crit <= hi)]
    label = "Gaussian IB" if label is None else label
    if show_critical and len(crit):
        label += _critical_suffix(crit, approx=False)
    color = _draw_frontier(
        ax, result.i_xt[order], result.i_ty[order], color=color, label=label, gid="ibkit-gaussian"
    )
    if show_critical and len(crit):
        _mark_critical(ax, *result.information_at(crit), color)
    if show_bounds:
        _draw_bounds(ax, result.i_xy, result.units, color)
    _finish(ax, float(np.max(result.i_xt)), max(result.i_xy, float(np.max(result.i_ty))), legend)
    return ax


def plot_rd_curve(
    curve: RDCurve,
    ax: Any = None,
    *,
    show_points: bool = True,
    label: str | None = None,
    color: Any = None,
    legend: bool | str = "best",
) -> Any:
    """Draw a rate–distortion curve: distortion (horizontal) against rate (vertical).

    The frontier joins the envelope vertices from (D_min, R(D_min)) to (D_max, 0); a
    dotted vertical line marks D_min, below which no encoder reaches.

    Parameters
    ----------
    curve : RDCurve
        The result of :func:`ibkit.rd.rd_curve`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure). Curves in the same units overlay.
    show_points : bool
        Mark the solution at each β (open circles).
    label : str, optional
        Legend label of the frontier (default ``"R(D)"``).
    color : matplotlib colour, optional
    legend : bool or str
        Location of the legend (a matplotlib ``loc``; ``True`` means ``"best"``), or
        ``False`` for none.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(curve, "curve", "RDCurve", "ibkit.rd.rd_curve", module="ibkit.rd")
    (show_points,) = _check_flags(show_points=show_points)
    legend = _check_legend(legend)
    ax = _prepare_axes(ax, curve.units)
    ax.set_xlabel(r"distortion $E\,d(X,\hat X)$")
    ax.set_ylabel(rf"rate $I(X;\hat X)$ [{curve.units}]")
    color = _draw_frontier(
        ax,
        curve.envelope_distortion,
        curve.envelope_rate,
        color=color,
        label="R(D)" if label is None else label,
        gid="ibkit-rd-frontier",
    )
    if show_points:
        _draw_solutions(ax, curve.distortion, curve.rate, color, "ibkit-rd-solutions")
    ax.axvline(curve.d_min, ls=":", lw=0.9, color=color, alpha=0.7, zorder=1).set_gid("ibkit-d_min")
    _finish(ax, curve.d_max, curve.rate_at_d_min, legend)
    return ax


def save_figure(fig: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a Figure (or the Figure of an Axes) at ``dpi`` with a tight bounding box.

    Parent folders are created. Returns the path written.
    """
    _pyplot_free_import()
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if isinstance(fig, Axes):
        fig = fig.figure
    if not isinstance(fig, Figure):
        raise InvalidParameterError(
            f"fig must be a matplotlib Figure or Axes; got {type(fig).__name__}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


# --------------------------------------------------------------------------- helpers
# _pyplot_free_import, _subplots and _prepare_axes also serve ibkit.study.figures and
# ibkit.demo: the one place that imports matplotlib lazily and sets up the plane's axes.


def _pyplot_free_import() -> Any:
    """Import matplotlib (not pyplot), with installation advice when it is missing."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return matplotlib


def _subplots(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """``pyplot.subplots`` in the constrained layout, with installation advice."""
    _pyplot_free_import()
    import matplotlib.pyplot as plt

    return plt.subplots(*args, layout="constrained", **kwargs)


def _require(obj: Any, name: str, cls_name: str, source: str, module: str = "ibkit.ib") -> None:
    """Refuse the parameter ``name`` unless it is a ``<module>.<cls_name>`` (imported now)."""
    import importlib

    if not isinstance(obj, getattr(importlib.import_module(module), cls_name)):
        raise InvalidParameterError(
            f"{name} must be the {cls_name} that {source} returns; got {type(obj).__name__}"
        )


def _check_flags(**flags: Any) -> tuple[bool, ...]:
    """Each keyword checked as a bool (``"no"`` is not False), in the order given."""
    return tuple(check_bool(value, name) for name, value in flags.items())


def _check_legend(legend: Any) -> bool | str:
    """``legend`` as True, False or a matplotlib ``loc`` string."""
    if isinstance(legend, str):
        return legend
    if not isinstance(legend, bool | np.bool_):
        raise InvalidParameterError(
            f"legend must be True, False or a matplotlib loc such as 'best'; got {legend!r}"
        )
    return bool(legend)


def _prepare_axes(ax: Any, units: str) -> Any:
    """Return ``ax`` (or new Axes) labelled for ``units``; refuse mixing units."""
    if ax is None:
        _, ax = _subplots(figsize=(4.4, 3.4))
    else:
        _pyplot_free_import()
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise InvalidParameterError(
                f"ax must be a matplotlib Axes or None; got {type(ax).__name__}"
            )
    current = getattr(ax, "_ibkit_units", None)
    if current is not None and current != units:
        raise InvalidParameterError(
            f"these axes show information in {current}; cannot overlay a result in {units} "
            f"(compute it with units={current!r})"
        )
    ax._ibkit_units = units
    ax.set_xlabel(f"$I(X;T)$ [{units}]")
    ax.set_ylabel(f"$I(T;Y)$ [{units}]")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(direction="out", length=3, labelsize=8)
    ax.xaxis.label.set_size(9)
    ax.yaxis.label.set_size(9)
    return ax


def _draw_bounds(ax: Any, i_xy: float, units: str, color: Any) -> None:
    """Dashed I(X;Y) line (labelled) and, once per Axes, the dotted diagonal."""
    ax.axhline(i_xy, ls=(0, (4, 3)), lw=0.9, color=color, alpha=0.7, zorder=2).set_gid("ibkit-i_xy")
    ax.annotate(
        f"$I(X;Y) = {i_xy:.3f}$",
        (0.0, i_xy),
        xycoords=("axes fraction", "data"),
        xytext=(3, 2),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=7,
        color=color,
    ).set_gid("ibkit-i_xy-label")
    if not any(line.get_gid() == _GID_DIAGONAL for line in ax.lines):
        ax.axline(
            (0.0, 0.0),
            slope=1.0,
            ls=":",
            lw=0.9,
            color="0.6",
            zorder=1,
            label=r"$I(T;Y) = I(X;T)$ (data processing)",
        ).set_gid(_GID_DIAGONAL)


def _draw_frontier(
    ax: Any, x: Any, y: Any, *, color: Any, label: str, gid: str, **style: Any
) -> Any:
    """The curve as a labelled solid line (tagged ``gid``); returns its colour."""
    (line,) = ax.plot(x, y, "-", color=color, lw=1.8, label=label, zorder=3, **style)
    line.set_gid(gid)
    return line.get_color()


def _draw_solutions(ax: Any, x: Any, y: Any, color: Any, gid: str) -> None:
    """The solution at each β as an open circle (tagged ``gid``)."""
    ax.plot(x, y, "o", ms=4, mfc="white", mec=color, mew=1.0, zorder=4, clip_on=False)[0].set_gid(
        gid
    )


def _critical_suffix(betas: np.ndarray, *, approx: bool, limit: int = 3) -> str:
    """Legend suffix listing the critical βs (at most ``limit``, then an ellipsis)."""
    shown = ", ".join(_fmt(b) for b in betas[:limit])
    more = r", \ldots" if len(betas) > limit else ""
    sign = r"\approx" if approx else "="
    return rf" ($\beta_c {sign} {shown}{more}$)"


def _mark_critical(ax: Any, x: Any, y: Any, color: Any) -> None:
    """Filled triangles at the branch points of the phase transitions."""
    ax.plot(
        np.atleast_1d(x),
        np.atleast_1d(y),
        "^",
        ms=6,
        color=color,
        mec="white",
        mew=0.6,
        zorder=5,
        clip_on=False,
    )[0].set_gid(_GID_CRITICAL)


def _finish(ax: Any, x_max: float, y_max: float, legend: bool | str) -> None:
    """Limits from 0 to the largest extent drawn so far (with headroom), and a legend."""
    prev_x, prev_y = getattr(ax, _EXTENT_ATTR, (0.0, 0.0))
    x_max, y_max = max(prev_x, float(x_max)), max(prev_y, float(y_max))
    setattr(ax, _EXTENT_ATTR, (x_max, y_max))
    ax.set_xlim(0.0, x_max * _X_PAD if x_max > 0 else 1.0)
    ax.set_ylim(0.0, y_max * _Y_PAD if y_max > 0 else 1.0)
    if legend is False:
        return
    handles, labels = ax.get_legend_handles_labels()
    bound = [i for i, h in enumerate(handles) if h.get_gid() == _GID_DIAGONAL]
    order = [i for i in range(len(handles)) if i not in bound] + bound  # bound last
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="best" if legend is True else legend,
        fontsize=7,
        frameon=True,
        facecolor="white",
        edgecolor="none",
        framealpha=0.85,
        handlelength=2.2,
        borderaxespad=0.4,
    )


def _fmt(value: float) -> str:
    """A β for an annotation: three significant digits, no exponent for usual ranges."""
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.2e}"

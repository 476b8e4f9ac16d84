"""Figures of information-plane runs: planes, layer trajectories, gradient SNR, training.

All functions take the tidy tables written by :class:`ibkit.nn.InformationPlane` (and the
training history of :func:`ibkit.nn.fit`) and return matplotlib objects; save them with
:func:`ibkit.plots.save_figure` (PNG, SVG or PDF by the file's suffix).

The information plane is drawn in the style of Shwartz-Ziv & Tishby (2017): x = I(X;T),
y = I(T;Y), one point per layer and recorded epoch, coloured by epoch, the layers of one
epoch joined by a thin line, a colour bar; values are means over seeds, and the spread
across seeds at the last epoch is drawn as error bars (± one standard deviation). The
exact IB curve of the dataset (an :class:`~ibkit.ib.IBCurve`) bounds every point from
above: no representation T of X can carry more than the curve's I(T;Y) at its I(X;T).
Points at the estimator's ceiling (the table's ``at_ceiling`` column: I(X;T) as high as
the estimator can give on the probe inputs, every input told apart) are drawn hollow:
they can show neither fitting nor compression, and a legend entry says so.

:func:`plot_plane_interactive` draws the same planes as one Plotly figure (needs
plotly: ``ibkit[report]``) for the HTML report: a menu picks the activation and
estimator, a slider the epochs shown, and hovering a point names its layer, epoch, seed
and values; points at the ceiling are hollow there too.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError, check_int, optional_module
from ibkit.ib.curve import IBCurve
from ibkit.plots import _prepare_axes, _subplots

__all__ = [
    "plot_gradient_snr",
    "plot_information_plane",
    "plot_layer_trajectories",
    "plot_plane_grid",
    "plot_plane_interactive",
    "plot_training_curves",
]

#: Columns every information-plane table has.
_PLANE_COLUMNS = ("epoch", "layer", "estimator", "i_xt", "i_ty", "units")

#: Font sizes (points) of a plane panel: ticks, axis labels and titles, legend.
_TICK_PT, _LABEL_PT, _LEGEND_PT = 9, 10, 8

#: Legend text of the hollow markers.
_CEILING_NOTE = "hollow: at the estimator's ceiling\n(every input told apart: says nothing)"


def plot_information_plane(
    results: Any,
    *,
    ax: Any = None,
    bound: IBCurve | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    title: str | None = None,
) -> Any:
    """Draw the information plane of one activation × estimator, averaged over seeds.

    A point is drawn hollow where the ``at_ceiling`` column of any of its seeds is true
    (see :func:`ibkit.nn.plane_points`): the estimator told every probe input apart, so
    the point sits at the most the estimator can give and its position says nothing
    about the layer. A legend entry explains the hollow markers. Tables without the
    column, or rows with it empty, are drawn filled.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of one estimator (and one activation, if the table has that column).
    ax : matplotlib.axes.Axes, optional
    bound : IBCurve, optional
        The exact IB curve of the dataset, drawn as the upper bound (same units).
    cmap : str
        Colour map of the epochs (logarithmic colour scale when epochs span more than
        two decades).
    colorbar, title
        Draw a colour bar labelled "epoch"; set the axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    df = _check_plane_table(results, one_panel=True)
    units = str(df["units"].iloc[0])
    ax = _prepare_axes(ax, units)
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm, Normalize

    mean = _mean_over_seeds(df)
    epochs = np.sort(mean["epoch"].unique())
    lo, hi = max(float(epochs.min()), 1.0), max(float(epochs.max()), 2.0)
    norm = LogNorm(lo, hi) if hi / lo > 100 else Normalize(float(epochs.min()), hi)
    colours = colormaps[cmap]
    for epoch, layer_rows in mean.groupby("epoch", sort=True):
        ordered = layer_rows.sort_values("layer_index")
        ax.plot(
            ordered["i_xt"],
            ordered["i_ty"],
            lw=0.4,
            alpha=0.35,
            color=colours(norm(max(epoch, lo))),
            zorder=1,
            gid="ibkit-epoch",
        )

    def points(rows: Any, **style: Any) -> None:
        """Filled points, then hollow ones (at the ceiling); no empty collections."""
        colour = colours(norm(np.maximum(rows["epoch"].to_numpy(float), lo)))
        at_ceiling = rows["at_ceiling"].to_numpy(bool)
        for hollow in (False, True):
            pick = at_ceiling == hollow
            if not pick.any():
                continue
            paint = (
                {"facecolors": "none", "edgecolors": colour[pick], "linewidths": 0.9}
                if hollow
                else {"c": colour[pick], "linewidths": 0}
            )
            ax.scatter(
                rows["i_xt"].to_numpy()[pick],
                rows["i_ty"].to_numpy()[pick],
                zorder=3,
                gid="ibkit-ceiling" if hollow else "ibkit-points",
                **paint,
                **style,
            )

    points(mean[~mean["is_output"]], s=16)
    out = mean[mean["is_output"]]
    if len(out):
        points(out, s=24, marker="s")
        ax.scatter([], [], s=24, marker="s", c="0.4", linewidths=0, label="output layer")
    if mean["at_ceiling"].any():
        ax.scatter(
            [],
            [],
            s=16,
            facecolors="none",
            edgecolors="0.4",
            linewidths=0.9,
            label=_CEILING_NOTE,
        )
    _draw_final_spread(ax, df)
    if bound is not None:
        _draw_bound(ax, bound, units, x_max=float(df["i_xt"].max()))
    if colorbar:
        from matplotlib.cm import ScalarMappable

        bar = ax.figure.colorbar(ScalarMappable(norm, colours), ax=ax, pad=0.02)
        bar.set_label("epoch", size=_LABEL_PT)
        bar.ax.tick_params(labelsize=_TICK_PT)
    ax.tick_params(labelsize=_TICK_PT)
    ax.xaxis.label.set_size(_LABEL_PT)
    ax.yaxis.label.set_size(_LABEL_PT)
    if title is not None:
        ax.set_title(title, fontsize=_LABEL_PT)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=_LEGEND_PT, frameon=False, loc="best")
    return ax


def plot_plane_grid(
    results: Any,
    *,
    bound: IBCurve | None = None,
    activations: list[str] | None = None,
    estimators: list[str] | None = None,
    ncols: int = 2,
    panel_size: tuple[float, float] = (4.6, 3.5),
) -> Any:
    """One information plane per estimator × activation, ``ncols`` panels to a row.

    Panels run estimator by estimator, each estimator's activations side by side (with
    two activations and ``ncols=2``, a row per estimator), so that at the width of a
    page (1280 px on screen, a column of a paper) every text stays legible.
    ``activations`` and ``estimators`` choose and order the panels (default: all, in
    order of appearance); a combination without rows is left out. Returns the
    matplotlib Figure.
    """
    df = _check_plane_table(results, one_panel=False)
    ncols = check_int(ncols, "ncols", minimum=1)
    if "activation" not in df:
        df = df.assign(activation="")
    panels = [
        (act, est, rows)
        for est, act in _panel_keys(df, activations, estimators)
        if not (rows := df[(df["activation"] == act) & (df["estimator"] == est)]).empty
    ]
    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = _subplots(
        nrows,
        ncols,
        figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
        squeeze=False,
    )
    for ax, (act, est, rows) in zip(axes.flat, panels, strict=False):
        plot_information_plane(rows, ax=ax, bound=bound, title=f"{act} · {est}".strip(" ·"))
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    return fig


def _panel_keys(
    df: Any, activations: list[str] | None, estimators: list[str] | None
) -> list[tuple[str, str]]:
    """(estimator, activation) of every panel asked for, estimator by estimator."""
    acts = activations or list(dict.fromkeys(df["activation"]))
    ests = estimators or list(dict.fromkeys(df["estimator"]))
    return [(est, act) for est in ests for act in acts]


def plot_plane_interactive(
    results: Any,
    *,
    bound: IBCurve | None = None,
    activations: list[str] | None = None,
    estimators: list[str] | None = None,
    colorscale: str = "Viridis",
) -> Any:
    """The information planes as one interactive Plotly figure (needs ``ibkit[report]``).

    One panel (activation · estimator) at a time, picked in a menu; a slider shows the
    recorded epochs up to the one it points at (all of them at first). Each point is
    one layer of one seed at one epoch, coloured by epoch on the scale of
    :func:`plot_information_plane` (logarithmic when the epochs span more than two
    decades), the layers of a seed at an epoch joined by a thin line, the output layer a
    square; hovering a point shows its layer, epoch, seed, I(X;T) and I(T;Y). Points at
    the estimator's ceiling (``at_ceiling``) are hollow, as in the static figures, and
    the hover says so. ``bound`` adds the exact IB curve of the data above the points.

    Parameters
    ----------
    results : pandas.DataFrame
        An information-plane table (:class:`ibkit.nn.InformationPlane`), any number of
        activations and estimators.
    bound : IBCurve, optional
    activations, estimators : list of str, optional
        Choose and order the panels (default: all, in order of appearance).
    colorscale : str
        A Plotly colour scale of the epochs.

    Returns
    -------
    plotly.graph_objects.Figure
        Its traces are, panel by panel, one per recorded epoch (``meta``: ``{"panel":
        k, "epoch": e}``) and the bound (``{"panel": k}``); then the legend entries and
        the colour bar (``meta`` None), shown with every panel.

    Examples
    --------
    >>> fig = plot_plane_interactive(result.results, bound=result.bound)  # doctest: +SKIP
    >>> fig.write_html("planes.html")                                     # doctest: +SKIP
    """
    go = optional_module("plotly.graph_objects", "plot_plane_interactive", "report")
    from plotly.colors import sample_colorscale

    df = _check_plane_table(results, one_panel=False)
    if "activation" not in df:
        df = df.assign(activation="")
    if "seed" not in df:
        df = df.assign(seed="")
    units = str(df["units"].iloc[0])
    epochs = np.sort(df["epoch"].unique())
    positions = _epoch_positions(epochs)
    colours = sample_colorscale(colorscale, list(positions))
    traces, names = [], []
    for est, act in _panel_keys(df, activations, estimators):
        rows = df[(df["activation"] == act) & (df["estimator"] == est)]
        if rows.empty:
            continue
        panel, name = len(names), f"{act} · {est}".strip(" ·")
        names.append(name)
        by_epoch = dict(tuple(rows.groupby("epoch", sort=True)))
        for epoch, colour in zip(epochs, colours, strict=True):
            if epoch in by_epoch:
                trace = _epoch_trace(go, by_epoch[epoch], colour, name, units)
                trace.update(visible=panel == 0, meta={"panel": panel, "epoch": int(epoch)})
                traces.append(trace)
        if bound is not None:
            x, y = _bound_line(bound, units, x_max=float(rows["i_xt"].max()))
            traces.append(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    line={"color": "black", "width": 1.5},
                    name="IB bound of the data",
                    hoverinfo="skip",
                    visible=panel == 0,
                    meta={"panel": panel},
                )
            )
    traces += _legend_traces(go, df)
    ticks = np.unique(np.linspace(0, len(epochs) - 1, min(6, len(epochs))).round().astype(int))
    traces.append(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            hoverinfo="skip",
            showlegend=False,
            marker={
                "color": [0.0],
                "cmin": 0.0,
                "cmax": 1.0,
                "colorscale": colorscale,
                "showscale": True,
                "colorbar": {
                    "title": {"text": "epoch"},
                    "tickvals": list(positions[ticks]),
                    "ticktext": [f"{epochs[i]:g}" for i in ticks],
                },
            },
        )
    )
    fig = go.Figure(traces)
    panel_of = [(t.meta or {}).get("panel") for t in fig.data]
    epoch_traces = [i for i, t in enumerate(fig.data) if "epoch" in (t.meta or {})]
    epoch_of = [fig.data[i].meta["epoch"] for i in epoch_traces]
    buttons = [
        {
            "label": name,
            "method": "update",
            "args": [
                {"visible": [p is None or p == k for p in panel_of]},
                {"xaxis.autorange": True, "yaxis.autorange": True},
            ],
        }
        for k, name in enumerate(names)
    ]
    steps = [
        {
            "label": f"{epoch:g}",
            "method": "restyle",
            "args": [
                {
                    "opacity": [1.0 if e <= epoch else 0.0 for e in epoch_of],
                    "hoverinfo": ["all" if e <= epoch else "skip" for e in epoch_of],
                },
                epoch_traces,
            ],
        }
        for epoch in epochs
    ]
    fig.update_layout(
        template="plotly_white",
        height=680,
        font={"size": 14},
        margin={"l": 70, "r": 20, "t": 120, "b": 40},
        xaxis={"title": {"text": f"I(X;T) [{units}]"}, "zeroline": False},
        yaxis={"title": {"text": f"I(T;Y) [{units}]"}, "zeroline": False},
        legend={"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        hoverlabel={"font": {"size": 14}},
        updatemenus=[
            {
                "buttons": buttons,
                "active": 0,
                "direction": "down",
                "showactive": True,
                "x": 0.0,
                "xanchor": "left",
                "y": 1.14,
                "yanchor": "bottom",
            }
        ],
        sliders=[
            {
                "active": len(steps) - 1,
                "currentvalue": {"prefix": "epochs up to "},
                "pad": {"t": 60},
                "steps": steps,
            }
        ],
    )
    return fig


def _epoch_positions(epochs: np.ndarray) -> np.ndarray:
    """Where each epoch sits on the colour scale, in [0, 1]: the normalisation of
    :func:`plot_information_plane` (logarithmic beyond two decades, epoch 0 at 1)."""
    e = epochs.astype(float)
    lo, hi = max(float(e.min()), 1.0), max(float(e.max()), 2.0)
    if hi / lo > 100:
        position = np.log(np.maximum(e, lo) / lo) / np.log(hi / lo)
    else:
        position = (e - e.min()) / (hi - e.min())
    return np.clip(position, 0.0, 1.0)


def _epoch_trace(go: Any, rows: Any, colour: str, panel: str, units: str) -> Any:
    """The points of one epoch: each seed's layers in order, joined, a gap between seeds.

    Names go in the hover label escaped (Plotly reads its text as HTML)."""
    x: list[Any] = []
    y: list[Any] = []
    symbols: list[str] = []
    custom: list[list[Any]] = []
    for seed, group in rows.groupby("seed", sort=True):
        if x:
            x.append(None)
            y.append(None)
            symbols.append("circle")
            custom.append([None] * 4)
        group = group.sort_values("layer_index")
        x += group["i_xt"].tolist()
        y += group["i_ty"].tolist()
        for layer, epoch, output, hollow in zip(
            group["layer"], group["epoch"], group["is_output"], group["at_ceiling"], strict=True
        ):
            symbols.append(("square" if output else "circle") + ("-open" if hollow else ""))
            note = "<br>hollow: at the estimator's ceiling, says nothing" if hollow else ""
            custom.append([html.escape(str(layer)), f"{epoch:g}", html.escape(str(seed)), note])
    return go.Scatter(
        x=x,
        y=y,
        mode="lines+markers",
        line={"color": colour.replace("rgb(", "rgba(").replace(")", ", 0.45)"), "width": 1},
        marker={"color": colour, "symbol": symbols, "size": 9, "line": {"width": 1.6}},
        customdata=custom,
        hovertemplate=(
            "layer %{customdata[0]}, epoch %{customdata[1]}, seed %{customdata[2]}"
            f"<br>I(X;T) = %{{x:.3f}} {units}<br>I(T;Y) = %{{y:.3f}} {units}"
            f"%{{customdata[3]}}<extra>{html.escape(panel)}</extra>"
        ),
        showlegend=False,
    )


def _legend_traces(go: Any, df: Any) -> list[Any]:
    """Legend entries of the marker shapes (no points): hidden and output layers, and
    the hollow markers where some point is at the ceiling."""
    entries = [("circle", "hidden layer")]
    if df["is_output"].any():
        entries.append(("square", "output layer"))
    if df["at_ceiling"].any():
        entries.append(("circle-open", "hollow: at the estimator's ceiling (says nothing)"))
    return [
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"color": "#666", "symbol": symbol, "size": 9, "line": {"width": 1.6}},
            name=label,
            hoverinfo="skip",
        )
        for symbol, label in entries
    ]


def plot_layer_trajectories(
    results: Any, *, quantity: str = "i_xt", ax: Any = None, title: str | None = None
) -> Any:
    """``quantity`` (``"i_xt"`` or ``"i_ty"``) of each layer against epoch: mean ± std band.

    Rows of one estimator (and activation). Epochs on a logarithmic axis (epoch 0 is
    drawn at 1), so an early peak and a slow decline — compression — are both visible.
    """
    if quantity not in ("i_xt", "i_ty"):
        raise InvalidParameterError(f"quantity must be 'i_xt' or 'i_ty'; got {quantity!r}")
    df = _check_plane_table(results, one_panel=True)
    if ax is None:
        _, ax = _subplots(figsize=(4.4, 3.2))
    units = str(df["units"].iloc[0])
    stats = _mean_over_seeds(df)
    for _, rows in stats.groupby("layer_index", sort=True):
        rows = rows.sort_values("epoch")
        x = np.maximum(rows["epoch"].to_numpy(float), 1.0)
        mean, std = rows[quantity].to_numpy(), rows[f"{quantity}_std"].fillna(0).to_numpy()
        (line,) = ax.plot(x, mean, lw=1.2, label=str(rows["layer"].iloc[0]))
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"${'I(X;T)' if quantity == 'i_xt' else 'I(T;Y)'}$ [{units}]")
    ax.legend(fontsize=7, frameon=False, ncol=2)
    if title is not None:
        ax.set_title(title, fontsize=9)
    return ax


def plot_gradient_snr(gradients: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """Norms of the mean and of the std of minibatch gradients per layer, log–log.

    The drift/diffusion picture of Shwartz-Ziv & Tishby (2017, Fig. 4): solid lines are
    ‖mean‖, dashed lines ‖std‖, one colour per layer, averaged over seeds. ``gradients``
    has the columns ``epoch, layer, grad_mean_norm, grad_std_norm``.
    """
    need = ("epoch", "layer", "grad_mean_norm", "grad_std_norm")
    _require_columns(gradients, need, "gradient table")
    if ax is None:
        _, ax = _subplots(figsize=(4.4, 3.2))
    means = gradients.groupby(["layer", "epoch"], sort=False)[list(need[2:])].mean().reset_index()
    for layer, rows in means.groupby("layer", sort=False):
        rows = rows.sort_values("epoch")
        x = np.maximum(rows["epoch"].to_numpy(float), 1.0)
        (line,) = ax.plot(x, rows["grad_mean_norm"], lw=1.1, label=f"{layer}")
        ax.plot(x, rows["grad_std_norm"], lw=1.1, ls="--", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient norm (— mean, -- std)")
    ax.legend(fontsize=7, frameon=False, ncol=2)
    if title is not None:
        ax.set_title(title, fontsize=9)
    return ax


def plot_training_curves(history: Any, *, axes: Any = None, title: str | None = None) -> Any:
    """Loss and accuracy against epoch, train and test, mean ± std band over seeds.

    ``history`` is what :func:`ibkit.nn.fit` returns (a ``TrainingHistory``), or a
    table with the columns ``epoch, train_loss, train_acc`` and optionally
    ``test_loss, test_acc`` (one row per epoch and seed). Returns the two Axes.
    """
    if hasattr(history, "to_frame") and not hasattr(history, "columns"):
        history = history.to_frame()
    _require_columns(history, ("epoch", "train_loss", "train_acc"), "training history")
    if axes is None:
        _, axes = _subplots(1, 2, figsize=(7.6, 2.8))
    for ax, what in zip(axes, ("loss", "acc"), strict=True):
        for split in ("train", "test"):
            col = f"{split}_{what}"
            if col not in history or history[col].isna().all():
                continue
            stats = history.groupby("epoch")[col].agg(["mean", "std"]).reset_index()
            x = np.maximum(stats["epoch"].to_numpy(float), 1.0)
            (line,) = ax.plot(x, stats["mean"], lw=1.1, label=split)
            band = stats["std"].fillna(0).to_numpy()
            lo, hi = stats["mean"] - band, stats["mean"] + band
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if what == "loss" else "accuracy")
        ax.legend(fontsize=7, frameon=False)
    if title is not None:
        axes[0].figure.suptitle(title, fontsize=9)
    return axes


# --------------------------------------------------------------------------- helpers


def _require_columns(df: Any, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in getattr(df, "columns", ())]
    if missing:
        raise InvalidParameterError(f"the {what} lacks the column(s) {', '.join(missing)}")


def _check_plane_table(results: Any, *, one_panel: bool) -> Any:
    """Validate an information-plane table; fill optional columns; one panel if asked."""
    _require_columns(results, _PLANE_COLUMNS, "information-plane table")
    if results.empty:
        raise InvalidParameterError(
            "the information-plane table is empty; record some epochs first"
        )
    df = results
    if "is_output" not in df:
        df = df.assign(is_output=df["layer"] == "output")
    ceiling = df["at_ceiling"].eq(True) if "at_ceiling" in df else False
    df = df.assign(at_ceiling=ceiling)
    if "layer_index" not in df:
        order = {name: k for k, name in enumerate(dict.fromkeys(df["layer"]))}
        df = df.assign(layer_index=df["layer"].map(order))
    if df["units"].nunique() > 1:
        raise InvalidParameterError("the table mixes units; select rows in one unit")
    if one_panel:
        keys = [c for c in ("activation", "estimator") if c in df]
        combos = df[keys].drop_duplicates()
        if len(combos) > 1:
            raise InvalidParameterError(
                f"the table holds {len(combos)} panels ({', '.join(keys)}); select one "
                "(e.g. results[results.estimator == 'binning']) or use plot_plane_grid"
            )
    return df


def _mean_over_seeds(df: Any) -> Any:
    """Per (epoch, layer): mean and std over seeds of I(X;T) and I(T;Y), and whether any
    seed's point is at the ceiling."""
    keys = ["epoch", "layer", "layer_index", "is_output"]
    groups = df.groupby(keys, sort=True)
    stats = groups[["i_xt", "i_ty"]].agg(["mean", "std"])
    stats.columns = [c if s == "mean" else f"{c}_std" for c, s in stats.columns]
    stats["at_ceiling"] = groups["at_ceiling"].any()
    return stats.reset_index()


def _draw_final_spread(ax: Any, df: Any) -> None:
    """± one std over seeds of both coordinates at the last recorded epoch."""
    last = df[df["epoch"] == df["epoch"].max()]
    stats = _mean_over_seeds(last)
    if stats[["i_xt_std", "i_ty_std"]].isna().all().all():
        return
    ax.errorbar(
        stats["i_xt"],
        stats["i_ty"],
        xerr=stats["i_xt_std"].fillna(0),
        yerr=stats["i_ty_std"].fillna(0),
        fmt="none",
        ecolor="0.25",
        elinewidth=0.7,
        capsize=1.5,
        zorder=4,
    )


def _draw_bound(ax: Any, bound: IBCurve, units: str, *, x_max: float) -> None:
    """The envelope of the IB curve, continued flat at I(X;Y) up to ``x_max``."""
    x, y = _bound_line(bound, units, x_max=x_max)
    ax.plot(x, y, color="k", lw=1.0, zorder=2, label="IB bound of the data")
    ax.axhline(bound.i_xy, color="k", lw=0.6, ls=":", zorder=2)


def _bound_line(bound: IBCurve, units: str, *, x_max: float) -> tuple[np.ndarray, np.ndarray]:
    """The envelope of ``bound`` (checked: an IBCurve in ``units``), flat from its end
    at I(X;Y) up to ``x_max``."""
    if not isinstance(bound, IBCurve):
        raise InvalidParameterError(
            "bound must be None or the IBCurve that ibkit.ib.ib_curve returns; "
            f"got {type(bound).__name__}"
        )
    if bound.units != units:
        raise InvalidParameterError(
            f"the bound is in {bound.units} and the table in {units}; compute the curve "
            f"with units={units!r}"
        )
    x = np.append(bound.envelope_i_xt, max(x_max, float(bound.envelope_i_xt[-1])))
    y = np.append(bound.envelope_i_ty, bound.envelope_i_ty[-1])
    return x, y

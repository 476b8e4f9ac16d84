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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError
from ibkit.ib.curve import IBCurve
from ibkit.plots import _prepare_axes, _subplots

__all__ = [
    "plot_gradient_snr",
    "plot_information_plane",
    "plot_layer_trajectories",
    "plot_plane_grid",
    "plot_training_curves",
]

#: Columns every information-plane table has.
_PLANE_COLUMNS = ("epoch", "layer", "estimator", "i_xt", "i_ty", "units")


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
                {"facecolors": "none", "edgecolors": colour[pick], "linewidths": 0.7}
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

    points(mean[~mean["is_output"]], s=9)
    out = mean[mean["is_output"]]
    if len(out):
        points(out, s=14, marker="s")
        ax.scatter([], [], s=14, marker="s", c="0.4", linewidths=0, label="output layer")
    if mean["at_ceiling"].any():
        ax.scatter(
            [],
            [],
            s=9,
            facecolors="none",
            edgecolors="0.4",
            linewidths=0.7,
            label="hollow: at the estimator's ceiling\n(every input told apart: says nothing)",
        )
    _draw_final_spread(ax, df)
    if bound is not None:
        _draw_bound(ax, bound, units, x_max=float(df["i_xt"].max()))
    if colorbar:
        from matplotlib.cm import ScalarMappable

        ax.figure.colorbar(ScalarMappable(norm, colours), ax=ax, label="epoch", pad=0.02)
    if title is not None:
        ax.set_title(title, fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False, loc="best")
    return ax


def plot_plane_grid(
    results: Any,
    *,
    bound: IBCurve | None = None,
    activations: list[str] | None = None,
    estimators: list[str] | None = None,
    panel_size: tuple[float, float] = (3.6, 2.9),
) -> Any:
    """One information plane per activation (rows) × estimator (columns).

    ``activations`` and ``estimators`` choose and order the panels (default: all, in
    order of appearance). Returns the matplotlib Figure.
    """
    df = _check_plane_table(results, one_panel=False)
    if "activation" not in df:
        df = df.assign(activation="")
    rows = activations or list(dict.fromkeys(df["activation"]))
    cols = estimators or list(dict.fromkeys(df["estimator"]))
    fig, axes = _subplots(
        len(rows),
        len(cols),
        figsize=(panel_size[0] * len(cols), panel_size[1] * len(rows)),
        squeeze=False,
    )
    for i, act in enumerate(rows):
        for j, est in enumerate(cols):
            panel = df[(df["activation"] == act) & (df["estimator"] == est)]
            if panel.empty:
                axes[i, j].set_visible(False)
                continue
            plot_information_plane(
                panel, ax=axes[i, j], bound=bound, title=f"{act} · {est}".strip(" ·")
            )
    return fig


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
    ax.plot(x, y, color="k", lw=1.0, zorder=2, label="IB bound of the data")
    ax.axhline(bound.i_xy, color="k", lw=0.6, ls=":", zorder=2)

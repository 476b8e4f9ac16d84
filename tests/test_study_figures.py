"""Tests of the information-plane figures on small hand-made tidy tables."""

import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from plane_tables import LAYERS, plane_table  # noqa: E402

from ibkit import InvalidParameterError  # noqa: E402
from ibkit.datasets import tishby_12bit  # noqa: E402
from ibkit.ib import ib_curve  # noqa: E402
from ibkit.measures import mutual_information  # noqa: E402
from ibkit.plots import save_figure  # noqa: E402
from ibkit.study.figures import (  # noqa: E402
    plot_gradient_snr,
    plot_information_plane,
    plot_layer_trajectories,
    plot_plane_grid,
    plot_training_curves,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plane_points_are_seed_means_and_output_is_separate():
    df = plane_table()
    ax = plot_information_plane(df)
    hidden, output = ax.collections[0], ax.collections[1]
    # 3 epochs x 2 hidden layers, and 3 output points; coordinates are the seed means
    assert hidden.get_offsets().shape == (6, 2)
    assert output.get_offsets().shape == (3, 2)
    expected = df[df.layer == "act1"].groupby("epoch")[["i_xt", "i_ty"]].mean().to_numpy()
    got = np.asarray(hidden.get_offsets())
    for point in expected:
        assert np.isclose(got, point).all(axis=1).any()
    # one thin line per epoch joins the layers of that epoch
    epoch_lines = [ln for ln in ax.lines if ln.get_gid() == "ibkit-epoch"]
    assert [len(ln.get_xdata()) for ln in epoch_lines] == [3, 3, 3]
    assert ax.figure.axes[-1].get_ylabel() == "epoch"  # the colour bar


def test_bound_is_drawn_and_lies_above_every_exact_solution():
    p_xy = tishby_12bit().p_xy
    curve = ib_curve(p_xy, betas=np.geomspace(0.5, 50, 8))
    ax = plot_information_plane(plane_table(), bound=curve)
    bound = next(ln for ln in ax.lines if ln.get_label() == "IB bound of the data")
    xs, ys = bound.get_data()
    assert ys.max() == pytest.approx(mutual_information(p_xy), abs=1e-9)
    assert (np.interp(curve.i_xt, xs, ys) >= curve.i_ty - 1e-9).all()
    assert xs.max() >= plane_table()["i_xt"].max() - 1e-9


def test_bound_must_be_an_ib_curve_in_the_units_of_the_table():
    with pytest.raises(
        InvalidParameterError, match=r"^bound must be None or the IBCurve .*; got str"
    ):
        plot_information_plane(plane_table(), bound="curve")
    curve = ib_curve(np.array([[0.45, 0.05], [0.05, 0.45]]), betas=[2.0], units="nats")
    with pytest.raises(ValueError, match="the bound is in nats and the table in bits"):
        plot_information_plane(plane_table(), bound=curve)


def test_one_panel_functions_refuse_several_panels_and_the_grid_draws_them():
    df = plane_table(activations=("tanh", "relu"), estimators=("binning", "kde"))
    with pytest.raises(ValueError, match="plot_plane_grid"):
        plot_information_plane(df)
    fig = plot_plane_grid(df)
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert titles == ["relu · binning", "relu · kde", "tanh · binning", "tanh · kde"]


def test_missing_columns_and_mixed_units_are_clear_errors():
    df = plane_table()
    with pytest.raises(ValueError, match="i_ty"):
        plot_information_plane(df.drop(columns="i_ty"))
    mixed = df.copy()
    mixed.loc[0, "units"] = "nats"
    with pytest.raises(ValueError, match="units"):
        plot_information_plane(mixed)
    with pytest.raises(ValueError, match="empty"):
        plot_information_plane(df.iloc[:0])


def test_trajectories_snr_and_training_curves(tmp_path):
    df = plane_table(epochs=(0, 1, 10, 100, 1000))
    ax = plot_layer_trajectories(df, quantity="i_xt")
    assert len(ax.lines) == len(LAYERS)
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="quantity"):
        plot_layer_trajectories(df, quantity="h_t")
    grads = pd.DataFrame(
        {
            "epoch": [1, 10, 1, 10],
            "layer": ["fc1", "fc1", "fc2", "fc2"],
            "grad_mean_norm": [1.0, 0.1, 2.0, 0.2],
            "grad_std_norm": [0.1, 0.3, 0.2, 0.4],
        }
    )
    ax = plot_gradient_snr(grads)
    assert len(ax.lines) == 4 and ax.get_yscale() == "log"
    hist = pd.DataFrame(
        {
            "epoch": [1, 2, 1, 2],
            "seed": [0, 0, 1, 1],
            "train_loss": [1, 0.5, 1, 0.4],
            "train_acc": [0.5, 0.8, 0.6, 0.9],
        }
    )
    axes = plot_training_curves(hist)
    assert np.allclose(axes[0].lines[0].get_ydata(), [1.0, 0.45])
    for suffix in ("png", "svg", "pdf"):
        assert save_figure(axes[0], tmp_path / f"t.{suffix}").stat().st_size > 0


def test_training_curves_take_the_history_fit_returns():
    torch = pytest.importorskip("torch")
    from ibkit.nn import MLP, fit

    x = torch.tensor(np.eye(4), dtype=torch.float32)
    y = torch.tensor([0, 1, 0, 1])
    history = fit(MLP(4, [3], 2, seed=0), x, y, epochs=3, lr=0.1)
    axes = plot_training_curves(history)
    frame = history.to_frame()
    mean_loss = frame.groupby("epoch")["train_loss"].mean().to_numpy()
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), mean_loss)
    plt.close(axes[0].figure)


def _hollow(ax):
    return [c for c in ax.collections if c.get_gid() == "ibkit-ceiling"]


def test_points_at_the_ceiling_are_hollow_with_a_legend_entry():
    df = plane_table()
    # act1 at the ceiling for one seed at epochs 0 and 10; the output layer at epoch 100
    df["at_ceiling"] = (df.layer == "act1") & (df.seed == 0) & (df.epoch < 100) | (
        df.layer == "output"
    ) & (df.epoch == 100)
    ax = plot_information_plane(df)
    hollow_hidden, hollow_output = _hollow(ax)
    means = df.groupby(["layer", "epoch"])[["i_xt", "i_ty"]].mean()
    np.testing.assert_allclose(
        hollow_hidden.get_offsets(), means.loc[[("act1", 0), ("act1", 10)]].to_numpy()
    )
    np.testing.assert_allclose(hollow_output.get_offsets(), means.loc[[("output", 100)]])
    for collection in (hollow_hidden, hollow_output):
        assert len(collection.get_facecolors()) == 0  # no fill
        assert len(collection.get_edgecolors()) == len(collection.get_offsets())
    # every other point is drawn filled, once
    filled = [c for c in ax.collections if c.get_gid() == "ibkit-points"]
    assert sum(len(c.get_offsets()) for c in filled) == 3 * len(LAYERS) - 3
    assert all(len(c.get_facecolors()) == len(c.get_offsets()) for c in filled)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(text.startswith("hollow: at the estimator's ceiling") for text in legend)


@pytest.mark.parametrize("column", ["absent", "empty"])
def test_tables_without_diagnostics_are_drawn_filled(column):
    df = plane_table()
    if column == "empty":  # rows recorded before the diagnostics existed, read from a CSV
        df["at_ceiling"] = np.nan
    ax = plot_information_plane(df)
    assert not _hollow(ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["output layer"]


# --------------------------------------------------------------------------- grid layout

#: Width of the report's text column (60rem) in a 1280 px wide window, in CSS pixels.
REPORT_COLUMN_PX = 960


def smallest_text_px(fig, dpi=150):
    """The smallest visible text of ``fig`` in CSS pixels once its PNG (``dpi``, tight
    box) is shrunk to the report's column, as the report shows it."""
    import io

    from matplotlib.text import Text

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    width = int.from_bytes(buffer.getvalue()[16:20], "big")  # the PNG header's width
    scale = min(1.0, REPORT_COLUMN_PX / width)
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())
    ]
    return min(sizes) * dpi / 72 * scale


def test_plane_grid_is_legible_in_the_report_at_1280px():
    # the demo's study: two activations under four estimators
    df = plane_table(activations=("tanh", "relu"), estimators=("a", "b", "c", "d"))
    df["at_ceiling"] = df.layer == "act1"
    fig = plot_plane_grid(df)
    panels = [ax for ax in fig.axes if ax.get_title()]
    columns = {round(ax.get_position().x0, 3) for ax in panels}
    assert len(panels) == 8 and len(columns) == 2  # a row per estimator: tanh, relu
    assert [ax.get_title() for ax in panels[:2]] == ["tanh · a", "relu · a"]
    assert smallest_text_px(fig) >= 10


def test_plane_grid_wraps_panels_and_hides_the_spare_axes():
    df = plane_table(activations=("tanh",), estimators=("a", "b", "c"))
    fig = plot_plane_grid(df, ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    hidden = [ax for ax in fig.axes if not ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["tanh · a", "tanh · b", "tanh · c"]
    assert len(hidden) == 1
    with pytest.raises(ValueError, match="ncols must be an integer >= 1; got 0"):
        plot_plane_grid(df, ncols=0)


# --------------------------------------------------------------------------- interactive


def interactive(df, **kwargs):
    pytest.importorskip("plotly")
    from ibkit.study.figures import plot_plane_interactive

    return plot_plane_interactive(df, **kwargs)


def epoch_traces(fig, panel):
    return [t for t in fig.data if (t.meta or {}).get("panel") == panel and "epoch" in t.meta]


def test_interactive_plane_has_a_trace_per_panel_and_epoch_with_every_seed():
    df = plane_table(activations=("tanh", "relu"), estimators=("binning", "kde"))
    fig = interactive(df)
    menu = fig.layout.updatemenus[0]
    names = ["tanh · binning", "relu · binning", "tanh · kde", "relu · kde"]
    assert [b.label for b in menu.buttons] == names
    for k, name in enumerate(names):
        act, est = name.split(" · ")
        traces = epoch_traces(fig, k)
        assert [t.meta["epoch"] for t in traces] == [0, 10, 100]
        for trace in traces:
            rows = df[(df.activation == act) & (df.estimator == est)]
            rows = rows[rows.epoch == trace.meta["epoch"]].sort_values(["seed", "layer_index"])
            # seed 0's layers, a gap, seed 1's layers
            expected = [*rows.i_xt[:3], None, *rows.i_xt[3:]]
            assert list(trace.x) == pytest.approx(expected)
            assert list(trace.customdata[0][:3]) == ["act1", f"{trace.meta['epoch']:g}", "0"]
            assert trace.customdata[4][2] == "1"
            assert trace.hovertemplate.endswith(f"<extra>{name}</extra>")
            assert "%{customdata[2]}" in trace.hovertemplate  # the seed
            assert trace.visible == (k == 0)
    # the menu shows one panel's traces, and the shared ones, at a time
    shared = [i for i, t in enumerate(fig.data) if t.meta is None]
    for k, button in enumerate(menu.buttons):
        visible = button.args[0]["visible"]
        shown = [i for i, v in enumerate(visible) if v]
        panel = [i for i, t in enumerate(fig.data) if (t.meta or {}).get("panel") == k]
        assert shown == sorted(panel + shared)


def test_interactive_plane_slider_shows_the_epochs_up_to_its_step():
    df = plane_table(activations=("tanh", "relu"))
    fig = interactive(df)
    slider = fig.layout.sliders[0]
    assert [s.label for s in slider.steps] == ["0", "10", "100"]
    assert slider.active == 2  # all epochs at first
    for step in slider.steps:
        changes, indices = step.args
        epochs = [fig.data[i].meta["epoch"] for i in indices]
        assert sorted(indices) == [i for i, t in enumerate(fig.data) if "epoch" in (t.meta or {})]
        limit = float(step.label)
        assert changes["opacity"] == [1.0 if e <= limit else 0.0 for e in epochs]
        assert changes["hoverinfo"] == ["all" if e <= limit else "skip" for e in epochs]


def test_interactive_plane_draws_points_at_the_ceiling_hollow():
    df = plane_table()
    df["at_ceiling"] = (df.layer == "act1") & (df.seed == 0) | (df.layer == "output") & (
        df.epoch == 100
    )
    fig = interactive(df)
    last = epoch_traces(fig, 0)[-1]  # epoch 100: seed 0 then seed 1
    assert list(last.marker.symbol) == [
        "circle-open", "circle", "square-open", "circle", "circle", "circle", "square-open"
    ]  # fmt: skip
    assert "ceiling" in last.customdata[0][3] and last.customdata[1][3] == ""
    legend = [t.name for t in fig.data if t.showlegend is not False and t.meta is None]
    assert legend == [
        "hidden layer", "output layer", "hollow: at the estimator's ceiling (says nothing)"
    ]  # fmt: skip
    filled = interactive(plane_table())
    assert not any("open" in s for t in epoch_traces(filled, 0) for s in t.marker.symbol)
    assert [t.name for t in filled.data if t.meta is None and t.showlegend is not False] == [
        "hidden layer", "output layer"
    ]  # fmt: skip


def test_interactive_plane_bound_and_colour_scale():
    curve = ib_curve(tishby_12bit().p_xy, betas=np.geomspace(0.5, 50, 8))
    df = plane_table(epochs=(0, 1, 10, 100, 1000))
    fig = interactive(df, bound=curve)
    bound = next(t for t in fig.data if t.name == "IB bound of the data")
    assert bound.meta == {"panel": 0}
    assert max(bound.y) == pytest.approx(curve.i_xy)
    assert max(bound.x) == pytest.approx(df.i_xt.max())
    bar = next(t for t in fig.data if t.marker.showscale)
    # epochs spanning three decades: a logarithmic colour scale, epoch 0 drawn at 1
    assert list(bar.marker.colorbar.ticktext) == ["0", "1", "10", "100", "1000"]
    np.testing.assert_allclose(bar.marker.colorbar.tickvals, [0, 0, 1 / 3, 2 / 3, 1])
    with pytest.raises(ValueError, match="the bound is in nats"):
        interactive(df, bound=ib_curve(np.array([[0.4, 0.1], [0.1, 0.4]]), units="nats"))


def test_interactive_plane_refuses_bad_tables_and_says_how_to_get_plotly(monkeypatch):
    with pytest.raises(ValueError, match="i_ty"):
        interactive(plane_table().drop(columns="i_ty"))
    from ibkit.study.figures import plot_plane_interactive

    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(ImportError, match=r"pip install 'ibkit\[report\]'"):
        plot_plane_interactive(plane_table())

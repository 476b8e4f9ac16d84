"""Tests of the information-plane figures on small hand-made tidy tables."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

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

LAYERS = ("act1", "act2", "output")


def plane_table(activations=("tanh",), estimators=("binning",), seeds=(0, 1), epochs=(0, 10, 100)):
    rows = []
    for act in activations:
        for est in estimators:
            for seed in seeds:
                for epoch in epochs:
                    for k, layer in enumerate(LAYERS):
                        rows.append(
                            {
                                "activation": act,
                                "estimator": est,
                                "seed": seed,
                                "epoch": epoch,
                                "layer": layer,
                                "layer_index": k,
                                "is_output": layer == "output",
                                "i_xt": 12.0 - 3 * k - 0.01 * epoch + 0.1 * seed,
                                "i_ty": 0.5 + 0.001 * epoch + 0.01 * seed,
                                "units": "bits",
                            }
                        )
    return pd.DataFrame(rows)


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

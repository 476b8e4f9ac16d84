"""Tests of the information-plane figures (:mod:`ibkit.plots`) and of :mod:`ibkit.demo`.

Truth comes from the result objects the figures draw (the artists must carry exactly
their arrays), from an independent Gaussian IB evaluation at each critical β, from
I(X;Y) recomputed here with numpy from the joint of the 12-bit task, and from the PNG
signature.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pd = pytest.importorskip("pandas")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from ibkit import ConvergenceWarning, InvalidParameterError  # noqa: E402
from ibkit.datasets import tishby_12bit  # noqa: E402
from ibkit.demo import CSV_COLUMNS, DemoSummary, run_demo  # noqa: E402
from ibkit.ib import agglomerative_ib, gaussian_ib, ib_curve  # noqa: E402
from ibkit.plots import (  # noqa: E402
    plot_agglomerative,
    plot_gaussian_ib,
    plot_ib_curve,
    save_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: A noisy joint (Y not a function of X) with a phase transition.
P_NOISY = np.array([[0.3, 0.05], [0.05, 0.3], [0.15, 0.15]])
#: A joint where Y is a function of X.
P_DETERMINISTIC = np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.3], [0.0, 0.2]])


# --------------------------------------------------------------------------- helpers


def _curve(p_xy, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ib_curve(p_xy, random_state=0, **kwargs)


@pytest.fixture(scope="module")
def noisy_curve():
    return _curve(P_NOISY)


@pytest.fixture(scope="module")
def deterministic_curve():
    return _curve(P_DETERMINISTIC)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(ax, gid):
    """Lines of ``ax`` with the given gid."""
    return [line for line in ax.lines if line.get_gid() == gid]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def mutual_information_bits(p_xy):
    """I(X;Y) in bits, written out here from the definition."""
    p_x = p_xy.sum(axis=1, keepdims=True)
    p_y = p_xy.sum(axis=0, keepdims=True)
    mask = p_xy > 0
    return float(np.sum(p_xy[mask] * np.log2(p_xy[mask] / (p_x @ p_y)[mask])))


# --------------------------------------------------------------------------- imports


def test_importing_ibkit_and_plots_does_not_import_matplotlib():
    code = (
        "import sys, ibkit, ibkit.ib, ibkit.plots, ibkit.demo\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_gives_install_advice(monkeypatch, noisy_curve):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'ibkit\[plot\]'"):
        plot_ib_curve(noisy_curve)


# --------------------------------------------------------------------------- plot_ib_curve


def test_ib_curve_frontier_points_and_labels(noisy_curve):
    c = noisy_curve
    ax = plot_ib_curve(c)
    assert isinstance(ax, Axes)
    (frontier,) = by_gid(ax, "ibkit-frontier")
    assert_array_equal(frontier.get_xdata(), c.envelope_i_xt)
    assert_array_equal(frontier.get_ydata(), c.envelope_i_ty)
    assert frontier.get_linestyle() == "-"
    (points,) = by_gid(ax, "ibkit-solutions")
    assert_array_equal(points.get_xdata(), c.i_xt)
    assert_array_equal(points.get_ydata(), c.i_ty)
    assert points.get_linestyle() == "None"
    assert "I(X;T)" in ax.get_xlabel() and "[bits]" in ax.get_xlabel()
    assert "I(T;Y)" in ax.get_ylabel() and "[bits]" in ax.get_ylabel()
    assert ax.get_xlim()[0] == 0.0 and ax.get_ylim()[0] == 0.0
    assert ax.get_xlim()[1] >= c.envelope_i_xt.max()
    assert ax.get_ylim()[1] > c.i_xy


def test_ib_curve_bounds(noisy_curve):
    c = noisy_curve
    ax = plot_ib_curve(c)
    (hline,) = by_gid(ax, "ibkit-i_xy")
    assert_allclose(hline.get_ydata(), [c.i_xy, c.i_xy])
    assert hline.get_linestyle() == "--"
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "ibkit-i_xy-label"]
    assert labels == [f"$I(X;Y) = {c.i_xy:.3f}$"]
    (diagonal,) = by_gid(ax, "ibkit-diagonal")
    assert diagonal.get_linestyle() == ":"
    assert "I(T;Y) = I(X;T)" in " ".join(legend_texts(ax))

    bare = plot_ib_curve(c, show_points=False, show_bounds=False, show_critical=False)
    assert [line.get_gid() for line in bare.lines] == ["ibkit-frontier"]


def test_ib_curve_critical_betas_marked_at_branch_points(noisy_curve):
    c = noisy_curve
    assert len(c.critical_betas) >= 1
    ax = plot_ib_curve(c, label="noisy")
    (marks,) = by_gid(ax, "ibkit-critical")
    # a transition: |T| at the next β exceeds every earlier |T|
    change = [
        k for k in range(len(c.n_clusters) - 1) if c.n_clusters[k + 1] > max(c.n_clusters[: k + 1])
    ]
    assert_array_equal(marks.get_xdata(), c.i_xt[change])
    assert_array_equal(marks.get_ydata(), c.i_ty[change])
    (text,) = [t for t in legend_texts(ax) if t.startswith("noisy")]
    assert r"\beta_c" in text and f"{c.critical_betas[0]:.3g}" in text


def test_ib_curve_label_color_and_overlay(noisy_curve, deterministic_curve):
    fig, ax = plt.subplots()
    out = plot_ib_curve(noisy_curve, ax, label="A", color="tab:red", show_critical=False)
    assert out is ax
    plot_ib_curve(deterministic_curve, ax, label="B", show_critical=False)
    frontiers = by_gid(ax, "ibkit-frontier")
    assert len(frontiers) == 2
    assert matplotlib.colors.same_color(frontiers[0].get_color(), "tab:red")
    assert len(by_gid(ax, "ibkit-diagonal")) == 1  # the shared bound is drawn once
    assert len(by_gid(ax, "ibkit-i_xy")) == 2
    assert legend_texts(ax)[:2] == ["A", "B"]
    assert legend_texts(ax)[-1].startswith("$I(T;Y) = I(X;T)$")
    # limits cover both curves
    assert ax.get_xlim()[1] >= max(noisy_curve.envelope_i_xt.max(), 1.0)
    assert ax.get_ylim()[1] > max(noisy_curve.i_xy, deterministic_curve.i_xy)


def test_ib_curve_method_and_nats_units(noisy_curve):
    c = _curve(P_NOISY, units="nats", betas=np.geomspace(1.0, 50.0, 12))
    ax = c.plot()
    assert "[nats]" in ax.get_xlabel() and "[nats]" in ax.get_ylabel()
    (frontier,) = by_gid(ax, "ibkit-frontier")
    assert_array_equal(frontier.get_ydata(), c.envelope_i_ty)
    with pytest.raises(ValueError, match="nats"):
        plot_ib_curve(noisy_curve, ax)


def test_ib_curve_deterministic_note(deterministic_curve, noisy_curve):
    c = deterministic_curve
    assert c.deterministic
    ax = plot_ib_curve(c)
    (note,) = [t for t in ax.texts if t.get_gid() == "ibkit-note"]
    assert note.get_text().split() == c.note.split()
    assert not [t for t in plot_ib_curve(noisy_curve).texts if t.get_gid() == "ibkit-note"]
    assert not [t for t in plot_ib_curve(c, show_note=False).texts if t.get_gid() == "ibkit-note"]


def test_ib_curve_color_by_beta_adds_colorbar(noisy_curve):
    fig, ax = plt.subplots()
    plot_ib_curve(noisy_curve, ax, color_by_beta=True)
    assert len(fig.axes) == 2  # the colour bar
    (points,) = [c for c in ax.collections if c.get_gid() == "ibkit-solutions"]
    assert_array_equal(points.get_offsets(), np.column_stack([noisy_curve.i_xt, noisy_curve.i_ty]))
    assert_allclose(points.get_array(), np.log10(noisy_curve.betas))


def test_legend_option(noisy_curve):
    assert plot_ib_curve(noisy_curve, legend=False).get_legend() is None
    assert plot_ib_curve(noisy_curve, legend="lower right").get_legend() is not None


@pytest.mark.parametrize("bad", [None, {"i_xt": [0, 1]}, np.zeros((3, 2)), "curve"])
def test_plot_ib_curve_rejects_non_curves(bad):
    with pytest.raises(InvalidParameterError, match=r"^curve must be the IBCurve that ibkit"):
        plot_ib_curve(bad)


def test_plot_ib_curve_rejects_bad_axes(noisy_curve):
    with pytest.raises(
        InvalidParameterError, match=r"^ax must be a matplotlib Axes or None; got str"
    ):
        plot_ib_curve(noisy_curve, ax="not axes")


# --------------------------------------------------------------------------- aIB


def test_plot_agglomerative_drops_lossless_prefix():
    p_xy = tishby_12bit(label_noise=0.1).p_xy
    res = agglomerative_ib(p_xy)
    ax = plot_agglomerative(res)
    (line,) = by_gid(ax, "ibkit-agglomerative")
    # 4096 inputs with only two distinct p(y|x): the coarsest lossless partition has
    # |T| = 2, then |T| = 1
    assert_allclose(line.get_xdata(), res.i_xt[-2:])
    assert_allclose(line.get_ydata(), res.i_ty[-2:])
    assert [t.get_text() for t in ax.texts] == ["|T|=2"]
    assert "[bits]" in ax.get_xlabel()

    full = plot_agglomerative(res, drop_redundant=False, annotate=False)
    (line,) = by_gid(full, "ibkit-agglomerative")
    assert_array_equal(line.get_xdata(), res.i_xt)
    assert not full.texts


def test_plot_agglomerative_overlays_ib_curve(noisy_curve):
    ax = plot_ib_curve(noisy_curve)
    out = plot_agglomerative(agglomerative_ib(P_NOISY), ax, label="hard")
    assert out is ax
    assert "hard" in legend_texts(ax)
    (line,) = by_gid(ax, "ibkit-agglomerative")
    # hard partitions lie on or under the IB frontier
    assert np.all(line.get_ydata() <= noisy_curve.i_ty_at(line.get_xdata()) + 1e-9)


def test_plot_agglomerative_rejects_other_results(noisy_curve):
    with pytest.raises(
        InvalidParameterError, match=r"^result must be the AgglomerativeIBResult .*; got IBCurve"
    ):
        plot_agglomerative(noisy_curve)


# --------------------------------------------------------------------------- Gaussian


def test_plot_gaussian_ib_curve_and_critical_points():
    cov_x = np.array([[1.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.0]])
    cov_xy = np.array([[0.8, 0.1], [0.2, 0.5], [0.0, 0.3]])
    cov_y = np.eye(2)
    betas = np.geomspace(1.0, 200.0, 300)[::-1]  # any order
    res = gaussian_ib(cov_x, cov_xy, cov_y, betas)
    ax = plot_gaussian_ib(res, label="G")
    (line,) = by_gid(ax, "ibkit-gaussian")
    order = np.argsort(betas)
    assert_array_equal(line.get_xdata(), res.i_xt[order])
    assert_array_equal(line.get_ydata(), res.i_ty[order])

    crit = res.critical_betas[np.isfinite(res.critical_betas)]
    assert len(crit) == 2
    (marks,) = by_gid(ax, "ibkit-critical")
    exact = gaussian_ib(cov_x, cov_xy, cov_y, crit)  # evaluated independently at β_c
    assert_allclose(marks.get_xdata(), exact.i_xt, atol=1e-12)
    assert_allclose(marks.get_ydata(), exact.i_ty, atol=1e-12)
    (text,) = [t for t in legend_texts(ax) if t.startswith("G")]
    assert all(f"{b:.3g}" in text for b in crit)
    (hline,) = by_gid(ax, "ibkit-i_xy")
    assert_allclose(hline.get_ydata(), [res.i_xy, res.i_xy])


def test_plot_gaussian_ib_rejects_other_results():
    with pytest.raises(InvalidParameterError, match=r"^result must be the GaussianIBResult that"):
        plot_gaussian_ib([[1.0]])


# --------------------------------------------------------------------------- save_figure


def test_save_figure_writes_png(tmp_path, noisy_curve):
    ax = plot_ib_curve(noisy_curve)
    path = save_figure(ax.figure, tmp_path / "sub" / "curve.png")
    assert path == tmp_path / "sub" / "curve.png"
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)
    # an Axes is accepted for its Figure
    assert save_figure(ax, tmp_path / "ax.png").read_bytes().startswith(PNG_SIGNATURE)


def test_save_figure_rejects_non_figures(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"^fig must be a matplotlib Figure or Axes"):
        save_figure("figure", tmp_path / "x.png")


# --------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    calls = []
    summary = run_demo(out, progress=lambda done, total: calls.append((done, total)))
    return out, summary, calls


def test_run_demo_writes_figure_and_csv(demo):
    out, summary, _ = demo
    assert isinstance(summary, DemoSummary)
    assert summary.figure == out / "ib_curve_12bit.png"
    assert summary.csv == out / "ib_curve_12bit.csv"
    assert summary.figure.read_bytes().startswith(PNG_SIGNATURE)
    assert summary.figure.stat().st_size > 10_000
    frame = pd.read_csv(summary.csv)
    assert tuple(frame.columns) == CSV_COLUMNS
    assert {"task", "beta", "i_xt", "i_ty", "n_clusters", "units"} <= set(frame.columns)
    assert set(frame["units"]) == {"bits"}
    assert set(frame["task"]) == {"12bit", "12bit_noise0.05", "12bit_noise0.1"}
    assert set(frame.loc[frame["method"] == "aib", "task"]) == {"12bit_noise0.1"}


def test_run_demo_csv_obeys_information_bounds(demo):
    _, summary, _ = demo
    frame = pd.read_csv(summary.csv)
    for (task, noise), rows in frame.groupby(["task", "label_noise"]):
        i_xy = mutual_information_bits(tishby_12bit(label_noise=noise).p_xy)
        assert (rows["i_ty"] <= i_xy + 1e-9).all(), task
        assert (rows["i_ty"] <= rows["i_xt"] + 1e-9).all(), task
        assert (rows["i_ty"] >= -1e-12).all(), task
        ib = rows[rows["method"] == "ib"]
        # the curve reaches I(X;Y) and starts at the trivial solution
        assert ib["i_ty"].max() == pytest.approx(i_xy, abs=1e-3)
        assert ib["i_ty"].min() == pytest.approx(0.0, abs=1e-9)


def test_run_demo_summary_and_progress(demo):
    _, summary, calls = demo
    ib_rows = [t for t in summary.tasks if t.method == "ib"]
    assert [t.label_noise for t in ib_rows] == [0.0, 0.05, 0.1]
    for t in ib_rows:
        i_xy = mutual_information_bits(tishby_12bit(label_noise=t.label_noise).p_xy)
        assert t.i_xy == pytest.approx(i_xy, rel=1e-9)
        assert t.n_transitions == len(t.critical_betas) >= 1
        assert t.n_betas > 1
    # binary symmetric channel with flip ε: the trivial solution is optimal up to
    # β = 1/(1 − 2ε)²; the estimate lies within one grid step of it
    noisy = next(t for t in ib_rows if t.label_noise == 0.1)
    assert 1.0 / 0.8**2 / 1.3 < noisy.critical_betas[0] < 1.0 / 0.8**2 * 1.3
    # every task is timed within the total, and counts the rows it wrote
    assert sum(t.seconds for t in summary.tasks) <= summary.seconds
    frame = pd.read_csv(summary.csv)
    for t in summary.tasks:
        rows = frame[(frame["task"] == t.task) & (frame["method"] == t.method)]
        assert t.n_betas == len(rows), (t.task, t.method)
    assert calls and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    d = summary.to_dict()
    assert d["figure"] == str(summary.figure) and len(d["tasks"]) == len(summary.tasks)

"""A worked example: the IB curve of the 12-bit task of Shwartz-Ziv & Tishby (2017).

:func:`run_demo` computes, on the exact joint distribution,

- the IB curve of the noise-free task (Y is a function of X, so the frontier is
  I(T;Y) = min(I(X;T), H(Y))),
- the IB curves with labels flipped with probability 0.05 and 0.1,
- the agglomerative (hard-clustering) IB curve of the 0.1 variant,

and writes ``DIR/ib_curve_12bit.png`` (two panels: noise-free, noisy) and the tidy
``DIR/ib_curve_12bit.csv``, one row per β (and per aIB partition), with columns
``task, label_noise, method, beta, i_xt, i_ty, n_clusters, units``. It takes about a
second, and returns a :class:`DemoSummary`.

The full demo, :func:`run_full_demo` (``ibkit demo --out DIR``, ``make demo``), adds four
studies and writes ``DIR/report.html`` (self-contained) and a tidy ``DIR/results.csv``:

- the IB curves above;
- the accuracy of the KSG, Gaussian and binning estimators on sampled tasks of known MI;
- the information planes of tanh and ReLU networks on the 12-bit task under binning, KDE
  and the noisy-layer Monte Carlo estimator, with the compression metrics across seeds,
  the gradient signal-to-noise ratio and the training curves (``DIR/plane/``);
- the information planes of the small CNN (:class:`~ibkit.nn.cnn.ConvNet`) trained on
  scikit-learn's digits, under default binning, which its wide layers saturate, and
  two estimators that can see them: KDE bounds with noise relative to each layer's
  scale, and the matrix-based Rényi functional (``DIR/cnn/``);
- a Variational IB β sweep on scikit-learn's digits (``DIR/vib/``).

With plotly installed (``ibkit[report]``) the information planes are interactive in the
report; without it they are the static images.

:class:`DemoSizes` sets how big each study is: the defaults take a few minutes on two
cores, :data:`QUICK` seconds.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ibkit._validation import ConvergenceWarning, Progress, Say, pandas_module
from ibkit.datasets import tishby_12bit
from ibkit.ib import agglomerative_ib, ib_curve
from ibkit.study.plane_study import PLANE_ESTIMATORS, PlaneStudy

__all__ = [
    "QUICK",
    "DemoReport",
    "DemoSizes",
    "DemoSummary",
    "TaskSummary",
    "run_demo",
    "run_full_demo",
]

FIGURE_NAME = "ib_curve_12bit.png"
CSV_NAME = "ib_curve_12bit.csv"
CSV_COLUMNS = ("task", "label_noise", "method", "beta", "i_xt", "i_ty", "n_clusters", "units")

#: Label-flip probabilities of the noisy variants.
NOISE_LEVELS = (0.05, 0.1)
#: The noisy variant also solved by agglomerative IB.
AIB_NOISE = 0.1


@dataclass(frozen=True)
class TaskSummary:
    """One computed curve of the demo.

    For IB, ``critical_betas`` holds the curve's estimated phase transitions and
    ``n_transitions`` their number; for aIB (``method == "aib"``) ``critical_betas`` is
    empty, ``n_transitions`` is 0 and ``n_betas`` is the number of partitions drawn.
    """

    task: str
    label_noise: float
    method: str
    i_xy: float
    n_betas: int
    n_transitions: int
    critical_betas: tuple[float, ...]
    n_unconverged: int
    seconds: float


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`run_demo` computed and wrote."""

    figure: Path
    csv: Path
    tasks: tuple[TaskSummary, ...]
    units: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (paths as strings), e.g. for JSON."""
        out = asdict(self)
        out["figure"], out["csv"] = str(self.figure), str(self.csv)
        return out


def _task_name(noise: float) -> str:
    return "12bit" if noise == 0 else f"12bit_noise{noise:g}"


def run_demo(
    out_dir: str | Path,
    *,
    random_state: Any = 0,
    progress: Progress | None = None,
    noise_levels: Sequence[float] = NOISE_LEVELS,
) -> DemoSummary:
    """Compute the 12-bit IB curves, draw them and write the figure and CSV.

    Parameters
    ----------
    out_dir : str or Path
        Folder for ``ib_curve_12bit.png`` and ``ib_curve_12bit.csv`` (created).
    random_state : None, int or numpy.random.Generator
        Seed of :func:`ibkit.ib.ib_curve` (the same for every task).
    progress : callable(done, total), optional
        Called after each step (each curve, then the figure and CSV).
    noise_levels : sequence of float
        Label-flip probabilities of the noisy variants, each in (0, 0.5]; the aIB curve
        is computed for the largest.

    Returns
    -------
    DemoSummary
        Paths written and, per curve, I(X;Y), number of β, phase transitions and time.
        Convergence warnings of the solver are not re-raised: they are counted in
        ``n_unconverged``.
    """
    from ibkit.plots import _pyplot_free_import

    _pyplot_free_import()  # fail early, before computing, when matplotlib is missing
    pd = pandas_module("ibkit.demo")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    noises = [0.0, *sorted({float(e) for e in noise_levels if e != 0})]
    aib_noise = max(noises)
    total = len(noises) + (1 if aib_noise > 0 else 0) + 1
    start = time.perf_counter()

    curves, frames, summaries = {}, [], []
    for step, noise in enumerate(noises, start=1):
        t0 = time.perf_counter()
        task = tishby_12bit(label_noise=noise)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            curve = ib_curve(task.p_xy, random_state=random_state)
        seconds = time.perf_counter() - t0
        curves[noise] = curve
        name = _task_name(noise)
        frame = curve.to_frame()
        frame.insert(0, "method", "ib")
        frame.insert(0, "label_noise", noise)
        frame.insert(0, "task", name)
        frames.append(frame)
        summaries.append(
            TaskSummary(
                task=name,
                label_noise=noise,
                method="ib",
                i_xy=curve.i_xy,
                n_betas=len(curve.betas),
                n_transitions=len(curve.critical_betas),
                critical_betas=tuple(float(b) for b in curve.critical_betas),
                n_unconverged=int((~curve.converged).sum()),
                seconds=seconds,
            )
        )
        if progress is not None:
            progress(step, total)

    aib = None
    if aib_noise > 0:
        t0 = time.perf_counter()
        aib = agglomerative_ib(tishby_12bit(label_noise=aib_noise).p_xy)
        seconds = time.perf_counter() - t0
        frame = _aib_frame(aib)
        frame.insert(0, "method", "aib")
        frame.insert(0, "label_noise", aib_noise)
        frame.insert(0, "task", _task_name(aib_noise))
        frames.append(frame)
        summaries.append(
            TaskSummary(
                task=_task_name(aib_noise),
                label_noise=aib_noise,
                method="aib",
                i_xy=float(aib.i_ty[0]),
                n_betas=len(frame),
                n_transitions=0,
                critical_betas=(),
                n_unconverged=0,
                seconds=seconds,
            )
        )
        if progress is not None:
            progress(len(noises) + 1, total)

    figure = _draw(curves, aib, aib_noise, out / FIGURE_NAME)
    csv = out / CSV_NAME
    table = pd.concat(frames, ignore_index=True)[list(CSV_COLUMNS)]
    table.to_csv(csv, index=False)
    if progress is not None:
        progress(total, total)
    units = next(iter(curves.values())).units
    return DemoSummary(
        figure=figure,
        csv=csv,
        tasks=tuple(summaries),
        units=units,
        seconds=time.perf_counter() - start,
    )


def _aib_frame(aib: Any) -> Any:
    """The aIB partitions from the coarsest lossless one down to |T| = 1."""
    frame = aib.to_frame()
    return frame[frame["n_clusters"] <= aib.coarsest_lossless].reset_index(drop=True)


def _draw(curves: dict[float, Any], aib: Any, aib_noise: float, path: Path) -> Path:
    """Two panels: the noise-free curve, then the noisy ones with aIB overlaid."""
    from matplotlib.figure import Figure

    from ibkit.plots import plot_agglomerative, plot_ib_curve, save_figure

    noisy = [e for e in curves if e > 0]
    fig = Figure(figsize=(8.0, 3.5), layout="constrained")
    axes = fig.subplots(1, 2 if noisy else 1, squeeze=False)[0]
    plot_ib_curve(
        curves[0.0], axes[0], label=r"IB, $\varepsilon = 0$", color="0.1", legend="upper left"
    )
    # below the I(X;Y) line, above the diagonal (where no point is achievable)
    axes[0].get_legend().set_bbox_to_anchor((0.0, 0.86), transform=axes[0].transAxes)
    axes[0].set_title("(a) noise-free labels", fontsize=9, loc="left")
    if noisy:
        palette = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
        for noise, col in zip(sorted(noisy, reverse=True), palette, strict=False):
            plot_ib_curve(
                curves[noise], axes[1], label=rf"IB, $\varepsilon = {noise:g}$", color=col
            )
        if aib is not None:
            plot_agglomerative(
                aib, axes[1], label=rf"aIB, $\varepsilon = {aib_noise:g}$", color="tab:red"
            )
        axes[1].set_title(r"(b) labels flipped with prob. $\varepsilon$", fontsize=9, loc="left")
    return save_figure(fig, path)


# --------------------------------------------------------------------------- the full demo

#: The estimators of the demo's information planes (labels of ``PLANE_ESTIMATORS``).
PLANE_DEMO_ESTIMATORS = ("bin30[-1:1]", "bin0.07", "kde0.1", "noisy_mc0.1")
#: The estimators of the CNN's planes on digits, by label. Default binning (equal-mass
#: bins per unit, as many as the probe supports) tells every probe image apart in the
#: convolution layers (16x8x8 and 32x4x4 units): the saturation. The KDE noise is 30
#: times each layer's mean per-unit variance, enough to leave the ceiling on the demo's
#: 500 probe digits even in the 1024 units of the first layer (squared distances grow
#: with the width); Renyi's functional stays well below its own ceiling there.
CNN_ESTIMATORS: dict[str, tuple[str, dict[str, Any]]] = {
    "binning": ("binning", {}),
    **{label: PLANE_ESTIMATORS[label] for label in ("kde_rel30", "renyi")},
}
REPORT_TITLE = "ibkit demo: the Information Bottleneck, exact, estimated and learned"
RESULTS_NAME = "results.csv"


@dataclass(frozen=True)
class DemoSizes:
    """How big each study of :func:`run_full_demo` is.

    The defaults take a few minutes on two cores; :data:`QUICK` is a smoke test.

    Attributes
    ----------
    accuracy_n : int
        Samples per estimate in the estimator-accuracy table.
    accuracy_seeds : tuple of int
        One fresh sample per seed.
    plane : PlaneStudy
        The information-plane study (its seeds are offset by the demo's seed).
    cnn_activations, cnn_seeds : tuple
        The CNNs on digits: one network per activation and seed (seeds offset by the
        demo's seed).
    cnn_epochs, cnn_points, cnn_probe : int
        Their training epochs, the log-spaced epochs recorded (0 and the last
        included), and the digits (drawn once) on which the layers are recorded.
    vib_betas : tuple of float
        β values of the VIB sweep on digits.
    vib_epochs : int
        Training epochs per β.
    """

    accuracy_n: int = 1000
    accuracy_seeds: tuple[int, ...] = (0, 1)
    plane: PlaneStudy = field(
        default_factory=lambda: PlaneStudy(
            seeds=(0, 1, 2), epochs=1500, n_points=15, estimators=PLANE_DEMO_ESTIMATORS
        )
    )
    cnn_activations: tuple[str, ...] = ("tanh", "relu")
    cnn_seeds: tuple[int, ...] = (0, 1, 2)
    cnn_epochs: int = 40
    cnn_points: int = 10
    cnn_probe: int = 500
    vib_betas: tuple[float, ...] = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    vib_epochs: int = 20


#: Tiny sizes for a smoke test of every section (seconds, not minutes).
QUICK = DemoSizes(
    accuracy_n=200,
    plane=PlaneStudy(seeds=(0, 1), epochs=10, n_points=3, estimators=PLANE_DEMO_ESTIMATORS[:2]),
    cnn_activations=("relu",),
    cnn_seeds=(0,),
    cnn_epochs=2,
    cnn_points=2,
    cnn_probe=100,
    vib_betas=(1e-3, 1.0),
    vib_epochs=2,
)


@dataclass(frozen=True)
class DemoReport:
    """What :func:`run_full_demo` wrote: the report, the tidy table, seconds per section."""

    report: Path
    results: Path
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (paths as strings), e.g. for JSON."""
        return {"report": str(self.report), "results": str(self.results), "seconds": self.seconds}


@dataclass(frozen=True)
class _Part:
    """One section of the report with its rows of ``results.csv`` (``ids`` name them)."""

    section: Any
    table: Any
    ids: tuple[str, ...]


def run_full_demo(
    out_dir: str | Path,
    *,
    sizes: DemoSizes | None = None,
    random_state: int = 0,
    n_jobs: int = 2,
    say: Say | None = None,
) -> DemoReport:
    """Run the studies of the demo and write ``report.html`` and ``results.csv``.

    Parameters
    ----------
    out_dir : str or Path
        Folder of the report, the tidy table and each study's files (created). The
        information-plane study resumes from ``out_dir/plane`` when run again with the
        same sizes and seed.
    sizes : DemoSizes, optional
        How big each study is (default: :class:`DemoSizes`, a few minutes).
    random_state : int
        Seed of every study (the network seeds of the plane study are offset by it).
    n_jobs : int
        Processes training the activations of the plane studies (12-bit MLPs, CNNs).
    say : callable(str), optional
        Called with a line as each step starts and ends.

    Returns
    -------
    DemoReport
    """
    import pandas as pd

    from ibkit.report import build_report

    sizes = DemoSizes() if sizes is None else sizes
    say = say or (lambda message: None)
    out = Path(out_dir)
    steps = (
        ("IB curves", lambda: _curve_part(out, random_state)),
        ("estimator accuracy", lambda: _accuracy_part(sizes, random_state)),
        ("information planes", lambda: _plane_part(out, sizes, random_state, n_jobs, say)),
        ("CNN on digits", lambda: _cnn_part(out, sizes, random_state, n_jobs)),
        ("VIB beta sweep", lambda: _vib_part(out, sizes, random_state)),
    )
    parts, seconds = [], {}
    for number, (name, step) in enumerate(steps, start=1):
        say(f"[{number}/{len(steps)}] {name} ...")
        started = time.perf_counter()
        parts.append(step())
        seconds[name] = time.perf_counter() - started
        say(f"[{number}/{len(steps)}] {name}: done in {seconds[name]:.1f} s")
    results = out / RESULTS_NAME
    tidy = pd.concat([_tidy(part) for part in parts], ignore_index=True)
    last = ["metric", "value"]
    tidy[[*(c for c in tidy.columns if c not in last), *last]].to_csv(results, index=False)
    report = build_report(
        [part.section for part in parts],
        out,
        title=REPORT_TITLE,
        intro=f"Computed with seed {random_state}; the tidy numbers are in {RESULTS_NAME} "
        "(one row per section, item and metric).",
    )
    return DemoReport(report=report, results=results, seconds=seconds)


def _tidy(part: _Part) -> Any:
    """The numbers of a part in long form: ``section, <ids>, metric, value``."""
    table = part.table
    numeric = [c for c in table.columns if c not in part.ids and table[c].dtype.kind in "biuf"]
    long = table.melt(id_vars=list(part.ids), value_vars=numeric, var_name="metric")
    long.insert(0, "section", part.section.title)
    return long


def _curve_part(out: Path, random_state: int) -> _Part:
    """Section (a): the exact IB curves of the 12-bit task (:func:`run_demo`)."""
    import pandas as pd

    from ibkit.report import Section

    summary = run_demo(out, random_state=random_state)
    tasks = pd.DataFrame(
        {
            "task": t.task,
            "method": t.method,
            "i_xy_bits": t.i_xy,
            "solutions": t.n_betas,
            "critical beta": ", ".join(f"{b:.3g}" for b in t.critical_betas) or "-",
            "not converged": t.n_unconverged,
        }
        for t in summary.tasks
    )
    section = Section(
        title="IB curves of the 12-bit task",
        text=(
            "Each panel plots the exact IB frontier, relevant information I(T;Y) against "
            "compression I(X;T), for the 12-bit task of Shwartz-Ziv & Tishby (2017), with "
            "triangles at the phase transitions where the optimal encoder gains a cluster. "
            "With noise-free labels the frontier is min(I(X;T), H(Y)); flipping labels "
            "lowers I(X;Y) and bends it, and agglomerative (hard) IB stays on or below the "
            "soft frontier."
        ),
        figures=[summary.figure],
        tables=[tasks],
    )
    return _Part(section, tasks, ids=("task", "method", "critical beta"))


def _accuracy_part(sizes: DemoSizes, random_state: int) -> _Part:
    """Section (b): KSG, Gaussian and binning estimates against the known MI."""
    from ibkit.datasets import gaussian_task, student_t_task, transformed_task
    from ibkit.report import Section
    from ibkit.study.accuracy import estimator_accuracy, summarize_accuracy

    tasks = {
        "gaussian, d=1": gaussian_task(1, 0.8),
        "gaussian, d=3": gaussian_task(3, 0.6),
        "student-t, d=1": student_t_task(1, 0.5, 3.0),
        "cube of gaussian, d=1": transformed_task(gaussian_task(1, 0.8), "cube"),
    }
    seeds = [random_state + s for s in sizes.accuracy_seeds]
    table = estimator_accuracy(
        tasks, ["ksg", "gaussian", "binning"], n=(sizes.accuracy_n,), seeds=seeds
    )
    summary = summarize_accuracy(table)
    section = Section(
        title="How accurate are the MI estimators?",
        text=(
            f"Each point is the mean estimate of I(X;Y) over {len(seeds)} samples of "
            f"n = {sizes.accuracy_n} pairs (bars: one standard deviation), the black line the "
            "true value of the task. The Gaussian estimator is exact only for Gaussian data "
            "and misses the information a non-linear (cube) map hides, KSG stays close on "
            "every task, and binning is biased: a little above the truth in one dimension, "
            "below it in three, where the sample supports only two or three equal-mass "
            "bins per coordinate."
        ),
        figures=[_draw_accuracy(summary)],
        tables=[summary],
    )
    return _Part(section, summary, ids=("task", "n", "estimator"))


def _draw_accuracy(summary: Any) -> Any:
    """Mean estimate ± std per task and estimator, with the truth as a black line."""
    from matplotlib.figure import Figure

    tasks = list(dict.fromkeys(summary["task"]))
    methods = list(dict.fromkeys(summary["estimator"]))
    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        rows = summary[summary["estimator"] == method].set_index("task").loc[tasks]
        x = [i - 0.4 + width * (k + 0.5) for i in range(len(tasks))]
        ax.errorbar(x, rows["mean"], yerr=rows["std"].fillna(0), fmt="o", ms=4, label=method)
    truth = summary.drop_duplicates("task").set_index("task").loc[tasks, "truth"]
    ax.hlines(
        truth,
        [i - 0.45 for i in range(len(tasks))],
        [i + 0.45 for i in range(len(tasks))],
        colors="black",
        lw=1.5,
        label="truth",
    )
    ax.set_xticks(range(len(tasks)), tasks, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("I(X;Y) [bits]")
    ax.legend(fontsize=8, frameon=False, ncol=4)
    return fig


def _plane_part(out: Path, sizes: DemoSizes, random_state: int, n_jobs: int, say: Say) -> _Part:
    """Section (c): tanh against ReLU information planes and their compression metrics."""
    from ibkit.report import Interactive, Section
    from ibkit.study.figures import plot_plane_interactive
    from ibkit.study.plane_study import run_plane_study

    study = replace(sizes.plane, seeds=tuple(random_state + s for s in sizes.plane.seeds))
    result = run_plane_study(study, out / "plane", n_jobs=n_jobs, say=say)
    figures = result.save_figures(("png",))
    by_stem = {path.stem: path for path in figures}
    planes = Interactive(
        lambda: plot_plane_interactive(
            result.results,
            bound=result.bound,
            activations=list(study.activations),
            estimators=list(study.estimators),
        ),
        by_stem["planes"],
    )
    columns = ["activation", "estimator", "layer", "n_seeds"]
    for metric in ("drop_bits", "peak_epoch", "final_i_ty"):
        columns += [metric, f"{metric}_low", f"{metric}_high"]
    summary = result.summary[[*columns, "compresses"]]
    keys = ["activation", "estimator", "layer"]
    ceiling = result.results.groupby(keys)["at_ceiling"].agg(lambda c: c.eq(True).any())
    hollow = summary.join(ceiling, on=keys)["at_ceiling"]
    acts, ests = " and ".join(study.activations), ", ".join(study.estimators)
    section = Section(
        title="Information planes of tanh and ReLU networks",
        text=(
            f"Each panel shows one activation ({acts}) under one estimator ({ests}): every "
            f"hidden layer's (I(X;T), I(T;Y)) at {study.n_points} epochs of {study.epochs}, "
            f"averaged over {len(study.seeds)} seeds and coloured by epoch, below the exact "
            "IB curve of the task (in the interactive figure: every seed's layers, a menu "
            "for the panel, a slider over epochs, and a point's layer, epoch, seed and "
            "values on hover). A layer compresses when I(X;T) falls after its peak: the "
            "table gives that drop in bits, mean [95% interval] across seeds (* where the "
            "interval lies above zero; ○ where the layer has points at the estimator's "
            "ceiling, drawn hollow, which can show no compression), and the figures below "
            "show the gradient signal-to-noise ratio per layer and the training curves."
        ),
        figures=[
            planes,
            *(by_stem[stem] for stem in ("gradient_snr", "training") if stem in by_stem),
        ],
        tables=[_drop_table(summary, study.estimators, hollow)],
    )
    return _Part(
        section,
        summary.assign(compresses=summary["compresses"].astype(int)),
        ids=("activation", "estimator", "layer"),
    )


def _drop_table(summary: Any, estimators: Sequence[str], hollow: Any) -> Any:
    """The drop of I(X;T) per activation and layer (rows) and estimator (columns);
    ``hollow`` (a boolean per row of ``summary``: points at the ceiling) adds " ○"."""
    cells = [
        f"{row.drop_bits:.2f} [{row.drop_bits_low:.2f}, {row.drop_bits_high:.2f}]"
        + (" *" if row.compresses else "")
        + (" ○" if mark else "")
        for row, mark in zip(summary.itertuples(), hollow, strict=True)
    ]
    table = summary.assign(drop=cells).pivot(
        index=["activation", "layer"], columns="estimator", values="drop"
    )
    return table[list(estimators)].reset_index().rename_axis(columns=None)


def _cnn_part(out: Path, sizes: DemoSizes, random_state: int, n_jobs: int) -> _Part:
    """Section (d): the CNN on digits under saturating binning, relative KDE and Renyi."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from joblib import Parallel, delayed

    from ibkit.datasets import load_digits
    from ibkit.plots import save_figure
    from ibkit.report import Interactive, Section
    from ibkit.study.figures import plot_plane_grid, plot_plane_interactive
    from ibkit.study.metrics import compression_metrics, summarize_compression

    acts, ests = list(sizes.cnn_activations), list(CNN_ESTIMATORS)
    runs = Parallel(n_jobs=min(n_jobs, len(acts)))(
        delayed(_cnn_activation)(act, sizes, random_state) for act in acts
    )
    results = pd.concat([r for r, _ in runs], ignore_index=True)
    history = pd.concat([h for _, h in runs], ignore_index=True)
    folder = out / "cnn"
    folder.mkdir(parents=True, exist_ok=True)
    results.to_csv(folder / "plane.csv", index=False)
    history.to_csv(folder / "history.csv", index=False)
    grid = plot_plane_grid(results, activations=acts, estimators=ests)
    static = save_figure(grid, folder / "planes.png")
    plt.close(grid)
    planes = Interactive(
        lambda: plot_plane_interactive(results, activations=acts, estimators=ests), static
    )
    keys = ["activation", "estimator", "layer"]
    ceiling = results.groupby(keys, sort=False)["at_ceiling"].mean().rename("at_ceiling_share")
    summary = summarize_compression(compression_metrics(results)).join(ceiling, on=keys)
    binning = results[results["estimator"] == "binning"]
    full = binning.groupby("layer", sort=False)["at_ceiling"].all()
    saturated = list(full.index[full])
    shares = results.groupby("estimator", sort=False)["at_ceiling"].mean()
    probe = min(sizes.cnn_probe, len(load_digits()[1]))
    final = history[history["epoch"] == history["epoch"].max()]
    section = Section(
        title="Information planes of a CNN on digits",
        text=(
            "The built-in small CNN (two 3x3 convolution blocks of 16 and 32 maps, a dense "
            "layer of 64 units, 10 outputs; " + " and ".join(acts) + ") trained with Adam "
            f"on scikit-learn's 8x8 digits for {sizes.cnn_epochs} epochs, "
            f"{len(sizes.cnn_seeds)} seed{'s' if len(sizes.cnn_seeds) > 1 else ''} per "
            "activation (final test accuracy "
            f"{final['test_acc'].mean():.1%}), its layers recorded on {probe} digits at "
            f"{results['epoch'].nunique()} epochs. Default binning (equal-mass bins per "
            "unit) gives every digit a cell of its own in wide layers (the convolutions "
            f"have 1024 and 512 units): in {' and '.join(saturated) or 'no layer'} "
            f"I(X;T) sits at its ceiling, log2 {probe} = {np.log2(probe):.2f} bits, at "
            "every epoch, and those points, drawn hollow, show neither fitting nor "
            "compression. KDE bounds with noise 30 times each layer's "
            "per-unit variance (kde_rel30; the noise follows the layer's scale from epoch "
            "to epoch) and Renyi's matrix functional (order 1.01: not Shannon information, "
            "on its own scale) can see these layers, and their points move as the network "
            "learns. Points at the ceiling: "
            + ", ".join(f"{est} {shares[est]:.0%}" for est in ests)
            + ". The table gives the drop of I(X;T) after its peak, mean [95% interval] "
            "across seeds (* where the interval lies above zero; ○ where the layer has "
            "points at the ceiling)."
        ),
        figures=[planes],
        tables=[_drop_table(summary, ests, summary["at_ceiling_share"] > 0)],
    )
    table = summary.assign(compresses=summary["compresses"].astype(int))
    return _Part(section, table, ids=("activation", "estimator", "layer"))


def _cnn_activation(activation: str, sizes: DemoSizes, random_state: int) -> tuple[Any, Any]:
    """Train and record the CNNs of one activation, one seed after another, with one
    torch and BLAS thread (the numbers then depend on the seeds alone); return the
    plane rows and the training history. Saturation warnings are silenced: the report
    draws those points hollow."""
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from ibkit.datasets import load_digits, train_test_split
    from ibkit.estimators import SaturationWarning
    from ibkit.nn import InformationPlane, fit, torch_threads
    from ibkit.nn.cnn import ConvNet

    x, y = load_digits()
    shape = (1, 8, 8)
    split = train_test_split(x, y, 0.85, random_state=random_state)
    planes, histories = [], []
    with threadpool_limits(1), torch_threads(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        for seed in (random_state + s for s in sizes.cnn_seeds):
            net = ConvNet(shape, 10, activation, seed=seed)
            plane = InformationPlane(
                net,
                x.reshape(-1, *shape),
                y,
                CNN_ESTIMATORS,
                schedule="log",
                n_epochs=sizes.cnn_epochs + 1,
                n_points=sizes.cnn_points,
                probe_size=min(sizes.cnn_probe, len(x)),
                run="cnn_digits",
                seed=seed,
                labels={"activation": activation},
                random_state=random_state,
            )
            with plane:
                history = fit(
                    net,
                    split.x_train.reshape(-1, *shape),
                    split.y_train,
                    epochs=sizes.cnn_epochs,
                    batch_size=64,
                    optimizer="adam",
                    lr=1e-3,
                    random_state=seed,
                    x_test=split.x_test.reshape(-1, *shape),
                    y_test=split.y_test,
                    on_epoch=plane.record,
                )
            planes.append(plane.results)
            histories.append(history.to_frame().assign(activation=activation))
    return pd.concat(planes, ignore_index=True), pd.concat(histories, ignore_index=True)


def _vib_part(out: Path, sizes: DemoSizes, random_state: int) -> _Part:
    """Section (e): a Variational IB β sweep on scikit-learn's digits."""
    from ibkit.datasets import load_digits
    from ibkit.nn import vib_sweep
    from ibkit.nn.training import torch_threads
    from ibkit.nn.vib_plots import plot_vib_sweep
    from ibkit.plots import save_figure
    from ibkit.report import Section

    x, y = load_digits()
    with torch_threads(1):
        table = vib_sweep(x, y, sizes.vib_betas, epochs=sizes.vib_epochs, random_state=random_state)
    folder = out / "vib"
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "vib_sweep.csv", index=False)
    figure = save_figure(plot_vib_sweep(table), folder / "vib_sweep.png")
    section = Section(
        title="Variational IB on digits: a beta sweep",
        text=(
            f"Each point is one VIB classifier trained for {sizes.vib_epochs} epochs on "
            "scikit-learn's 8x8 digits: left, its rate (an upper bound on I(X;Z)) against its "
            "relevance (a lower bound on I(Z;Y)); right, train and test accuracy against beta. "
            "A larger beta squeezes the code towards zero rate, and past a point the "
            "classifier loses the information it needs and its accuracy falls towards chance."
        ),
        figures=[figure],
        tables=[table.drop(columns="model")],
    )
    return _Part(section, table, ids=("model", "beta"))

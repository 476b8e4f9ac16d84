"""Is compression caused by the noise of SGD? Minibatch SGD against full-batch descent.

Run with ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/study_sgd_noise.py [--quick]``.

Saxe et al. (ICLR 2018, sec. 4) trained the network of Shwartz-Ziv & Tishby (2017) on
the 12-bit task by stochastic (minibatch) gradient descent and by full-batch gradient
descent, which has no gradient noise, and saw the same information-plane dynamics. This
script repeats it with :func:`ibkit.study.sgd_vs_full_batch`: the 12-10-7-5-4-3-2 network,
tanh and ReLU, 5 seeds trained at once, the same seeds, split (85 %, stratified, seed 0)
and epochs for both methods, plain SGD (no momentum) with batches of 256 rows against
one full-batch step per epoch; each method's learning rate is the one of its grid with
the lowest final training loss (mean over seeds), chosen per activation. The plane is
recorded at log-spaced epochs on all 4096 patterns with the binning of Shwartz-Ziv &
Tishby (30 bins on [-1, 1]) and of Saxe et al. (bins of width 0.07), and the gradient
SNR of every weight matrix over minibatches of 256 rows at the same epochs.

Printed: the training outcome, the compression of every layer (drop of I(X;T) from its
peak to the end, 95 % Student t intervals over seeds) and the gradient phases, the two
methods side by side, as markdown. Written: ``benchmarks/results/sgd_noise.json`` and
the figure ``docs/findings/sgd-noise.png``. ``--quick`` (about a minute) runs 2 seeds,
tanh only, 150 epochs and one learning rate per method.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from report import finish, markdown_table, print_markdown, quick_parser, versions
from scipy import stats

from ibkit.datasets import tishby_12bit
from ibkit.ib import ib_curve
from ibkit.plots import save_figure
from ibkit.study import plot_sgd_vs_full_batch, sgd_vs_full_batch

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "sgd_noise.json"
FIGURE = ROOT.parent / "docs" / "findings" / "sgd-noise.png"

CONFIG = {
    "quick": {
        "activations": ("tanh",),
        "seeds": (0, 1),
        "epochs": 150,
        "n_points": 15,
        "learning_rates": {"sgd": (0.03,), "full_batch": (0.5,)},
    },
    "full": {
        "activations": ("tanh", "relu"),
        "seeds": (0, 1, 2, 3, 4),
        "epochs": 1500,
        "n_points": 40,
        "learning_rates": {"sgd": (0.03, 0.1, 0.3), "full_batch": (0.1, 0.25, 0.5, 1.0)},
    },
}
ESTIMATORS = ("bin30[-1:1]", "bin0.07")
#: The binning drawn for each activation: [-1, 1] suits tanh, not ReLU (values pass 1).
PLANES = {"tanh": "bin30[-1:1]", "relu": "bin0.07"}
LABEL = {"sgd": "SGD", "full_batch": "full batch"}


def interval(mean: float, low: float, high: float, digits: int = 2) -> str:
    """``mean [low, high]``, or the mean alone without an interval, or a dash."""
    if not np.isfinite(mean):
        return "–"
    if not np.isfinite(low):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def training_table(result) -> str:
    """Method × activation: chosen rate, final training loss and train/test accuracy."""
    history = result.history
    final = history[history["epoch"] == history["epoch"].max()]
    rows = []
    for (method, activation), part in final.groupby(["method", "activation"], sort=False):
        cells = [LABEL[method], activation, f"{part['lr'].iloc[0]:g}"]
        for column, digits in (("train_loss", 3), ("train_acc", 3), ("test_acc", 3)):
            values = part[column].to_numpy(float)
            half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
            cells.append(
                interval(values.mean(), values.mean() - half, values.mean() + half, digits)
            )
        rows.append(tuple(cells))
    header = ("method", "activation", "lr", "train loss", "train acc", "test acc")
    return markdown_table(header, rows)


def tuning_table(result) -> str:
    """Every rate of each grid: final training loss (mean over seeds), and which was kept."""
    rows = [
        (
            LABEL[r.method],
            r.activation,
            f"{r.lr:g}",
            "diverged" if r.diverged else f"{r.final_train_loss:.3f}",
            "yes" if r.chosen else "",
        )
        for r in result.tuning.itertuples()
    ]
    return markdown_table(("method", "activation", "lr", "final train loss", "kept"), rows)


def grid_table(result, planes: dict[str, str]) -> str:
    """Every rate of the grids: training loss and the drop of the two deepest hidden layers.

    Each activation under its usual binning (``planes``), as in the figure.
    """
    grid = result.grid_summary
    tuning = result.tuning.set_index(["method", "activation", "lr"])["final_train_loss"]
    rows = []
    for (method, activation, lr), part in grid.groupby(["method", "activation", "lr"], sort=False):
        part = part[part["estimator"] == planes[activation]].set_index("layer")
        cells = [LABEL[method], activation, planes[activation], f"{lr:g}"]
        cells.append(f"{tuning[(method, activation, lr)]:.3f}")
        for layer in ("act4", "act5"):
            row = part.loc[layer]
            drop = interval(*_three(row, "drop_bits"))
            cells.append(drop + (" ✓" if row["compresses"] else ""))
        rows.append(tuple(cells))
    header = ("method", "activation", "estimator", "lr", "train loss", "drop act4", "drop act5")
    return markdown_table(header, rows)


def compression_table(result, estimator: str) -> str:
    """Drop of I(X;T) from peak to end and the epoch of the peak, both methods."""
    wide = result.side_by_side(["drop_bits", "peak_epoch"])
    rows = []
    for (activation, est, layer), row in wide.iterrows():
        if est != estimator:
            continue
        cells = [activation, layer]
        for method in ("sgd", "full_batch"):
            drop = [row[(f"drop_bits{s}", method)] for s in ("", "_low", "_high")]
            cells.append(interval(*drop) + (" ✓" if row[("compresses", method)] else ""))
        for method in ("sgd", "full_batch"):
            peak = [row[(f"peak_epoch{s}", method)] for s in ("", "_low", "_high")]
            cells.append(interval(*peak, digits=0))
        rows.append(tuple(cells))
    header = (
        "activation",
        "layer",
        "drop SGD (bits)",
        "drop full batch (bits)",
        "peak epoch SGD",
        "peak epoch full batch",
    )
    return markdown_table(header, rows)


def phase_table(result) -> str:
    """Drift/diffusion transition epoch and SNR at the start and end, both methods."""
    summary = result.summary.drop_duplicates(["method", "activation", "layer_index"])
    rows = []
    for (activation, weights), part in summary.groupby(["activation", "weights"], sort=False):
        part = part.set_index("method")
        cells = [activation, weights, interval(*_three(part.loc["sgd"], "snr_start"))]
        for method in ("sgd", "full_batch"):
            row = part.loc[method]
            n = f" ({row['n_transitions']}/{row['n_seeds']})"
            cells.append(interval(*_three(row, "transition_epoch"), digits=0) + n)
        for method in ("sgd", "full_batch"):
            cells.append(interval(*_three(part.loc[method], "snr_end")))
        rows.append(tuple(cells))
    header = (
        "activation",
        "weights",
        "SNR at epoch 0",
        "SNR < 1 from epoch: SGD (seeds)",
        "full batch (seeds)",
        "final SNR SGD",
        "final SNR full batch",
    )
    return markdown_table(header, rows)


def _three(row, metric: str) -> tuple[float, float, float]:
    return (row[metric], row[f"{metric}_low"], row[f"{metric}_high"])


def main() -> None:
    parser = quick_parser(
        __doc__.splitlines()[0], RESULTS, "2 seeds, tanh, 150 epochs (about a minute)"
    )
    parser.add_argument("--figure", type=Path, default=FIGURE, help="PNG of the figure")
    args = parser.parse_args()
    config = CONFIG["quick" if args.quick else "full"]
    started = time.perf_counter()
    result = sgd_vs_full_batch(**config, estimators=ESTIMATORS, say=print)
    planes = {a: PLANES[a] for a in config["activations"]}
    tables = [training_table(result), tuning_table(result)]
    tables += [compression_table(result, e) for e in ESTIMATORS]
    tables += [phase_table(result), grid_table(result, planes)]
    titles = [
        "Training (95 % t intervals over seeds)",
        "Learning-rate grids",
        *[f"Compression, {e} (✓: the interval of the drop lies above 0)" for e in ESTIMATORS],
        "Gradient SNR phases (weight matrix feeding each layer)",
        "Every rate of the grids: compression of the deepest hidden layers",
    ]
    print_markdown(*[f"**{t}**\n\n{table}" for t, table in zip(titles, tables, strict=True)])
    fig = plot_sgd_vs_full_batch(result, estimator=planes, bound=ib_curve(tishby_12bit().p_xy))
    save_figure(fig, args.figure)
    print(f"figure: {args.figure}")
    finish(
        args.out,
        {
            "benchmark": "sgd_noise",
            "quick": args.quick,
            "result": result.to_dict(),
            "markdown": dict(zip(titles, tables, strict=True)),
            "versions": versions(("ibkit", "torch", "numpy", "pandas")),
        },
        time.perf_counter() - started,
    )


if __name__ == "__main__":
    main()

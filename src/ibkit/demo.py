"""A worked example: the IB curve of the 12-bit task of Shwartz-Ziv & Tishby (2017).

Run ``python -m ibkit.demo --out DIR``. It computes, on the exact joint distribution,

- the IB curve of the noise-free task (Y is a function of X, so the frontier is
  I(T;Y) = min(I(X;T), H(Y))),
- the IB curves with labels flipped with probability 0.05 and 0.1,
- the agglomerative (hard-clustering) IB curve of the 0.1 variant,

and writes ``DIR/ib_curve_12bit.png`` (two panels: noise-free, noisy) and the tidy
``DIR/ib_curve_12bit.csv``, one row per β (and per aIB partition), with columns
``task, label_noise, method, beta, i_xt, i_ty, n_clusters, units``. It takes about a
second. :func:`run_demo` returns a :class:`DemoSummary`; only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ibkit._validation import ConvergenceWarning
from ibkit.datasets import tishby_12bit
from ibkit.ib import agglomerative_ib, ib_curve

__all__ = ["DemoSummary", "TaskSummary", "main", "run_demo"]

FIGURE_NAME = "ib_curve_12bit.png"
CSV_NAME = "ib_curve_12bit.csv"
CSV_COLUMNS = ("task", "label_noise", "method", "beta", "i_xt", "i_ty", "n_clusters", "units")

#: Label-flip probabilities of the noisy variants.
NOISE_LEVELS = (0.05, 0.1)
#: The noisy variant also solved by agglomerative IB.
AIB_NOISE = 0.1

Progress = Callable[[int, int], None]


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

    def table(self) -> str:
        """A short fixed-width table of the tasks."""
        head = (
            f"{'task':<16} {'method':<6} {'I(X;Y)':>8} {'#beta':>6} {'#trans':>6}  "
            f"{'critical betas':<18} {'time':>7}"
        )
        lines = [head, "-" * len(head)]
        for t in self.tasks:
            crit = ", ".join(f"{b:.3g}" for b in t.critical_betas) or "-"
            flag = f"  ({t.n_unconverged} beta not converged)" if t.n_unconverged else ""
            lines.append(
                f"{t.task:<16} {t.method:<6} {t.i_xy:>8.4f} {t.n_betas:>6d} "
                f"{t.n_transitions:>6d}  {crit:<18} {t.seconds:>6.2f}s{flag}"
            )
        lines.append(f"I(X;Y) in {self.units}; total {self.seconds:.2f}s")
        return "\n".join(lines)


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
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "ibkit.demo needs pandas; install it with: pip install 'ibkit[plot]'"
        ) from exc

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
    frame = aib.to_frame().iloc[aib.coarsest_lossless :].reset_index(drop=True)
    frame["units"] = aib.units
    return frame


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


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m ibkit.demo --out DIR [--seed N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m ibkit.demo",
        description="IB curve of the 12-bit task (noise-free and noisy labels): "
        f"writes {FIGURE_NAME} and {CSV_NAME}.",
    )
    parser.add_argument("--out", default="ibkit-demo", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")  # headless; run_demo itself never touches pyplot
    summary = run_demo(args.out, random_state=args.seed)
    print(summary.table())
    print(f"figure: {summary.figure}")
    print(f"table:  {summary.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training benchmark: ensemble-epochs per second of ``fit`` on the 12-bit task, and what each
optimisation of the fused step buys.

Run with ``.venv/bin/python benchmarks/bench_training.py [--quick] [--repeats N] [--compile]``.
The network is the 12-10-7-5-4-3-2 tanh MLP of Shwartz-Ziv & Tishby (2017) on the
12-bit task, trained on a stratified 85 % split (3482 patterns; the other 614 are the
test set, evaluated every epoch as the history does), with Adam, lr 4e-4 and minibatches
of 256 (Saxe et al. 2018's code): 14 steps per epoch, on one torch thread (the grid
also on two).

The tables:

- ``fit``: epochs per second of ``fit`` on an ``EnsembleMLP`` of 5, 10 and 20 seeds (an
  epoch trains every member once; "ensemble-epochs/s") and on one ``MLP``, through the
  autograd path (``fused=False``: module forward, autograd, ``torch.optim.Adam(fused=True)``,
  one gather per batch, the history in two module passes, as before the fused step),
  through the fused step with the history in one pass over all 4096 samples, and through
  the fused step as it is (the history in chunks). The runs of a cell alternate, so that a
  busy machine slows them alike.
- ``breakdown``: milliseconds per epoch of each part of an epoch, before and after its
  optimisation: the optimiser update (``torch.optim.Adam(fused=True)`` over 12 tensors,
  against one update of the flat buffers), the gradient (module forward and autograd
  backward, against the fused forward and backward), the batches (one ``x[index]`` per
  batch, against one ``index_select`` per epoch) and the history (two module passes,
  against one fused pass over training and test data). Repeated back to back, the history
  reuses its freed memory; inside ``fit`` it did not, which the ``fit`` table's middle
  column shows.

A third table, ``grid``, is the one the documentation shows: epochs per second of ``fit``
as it is, for one seed and for 10, with Adam on batches of 256 and with full-batch SGD
(lr 0.1), on 1 and 2 threads (``results`` in the JSON, with ``n_members``).

With ``--compile``, a fourth table: one gradient (10 seeds, a batch of 256) eager and
through :func:`torch.compile` (inductor, C++ on the CPU), for the autograd step and for the
fused one, with the seconds the compilation took.

Both wall-clock and process CPU time are reported (median of the repeats): on a machine
shared with other work the wall clock measures the load as much as the code, and the CPU
time is the steadier of the two. The load averages before and after go into the JSON.
Results go to ``benchmarks/results/training.json``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from report import default_repeats, finish, quick_parser, show_table, versions

from ibkit.datasets import tishby_12bit, train_test_split
from ibkit.nn import training
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.mlp import MLP
from ibkit.nn.training import (
    _epoch_order,
    _evaluate,
    _FusedStep,
    _make_optimizer,
    _order_generator,
    fit,
    member_losses,
)

RESULTS = Path(__file__).resolve().parent / "results" / "training.json"
SETUP = {"optimizer": "adam", "lr": 4e-4, "batch_size": 256}
#: the set-ups of the ``grid`` table (the one the documentation shows)
GRID_SETUPS: dict[str, dict[str, Any]] = {
    "adam/256": SETUP,
    "sgd/full": {"optimizer": "sgd", "lr": 0.1},
}
MEMBERS = (5, 10, 20)
BREAKDOWN_MEMBERS = 10


def split() -> tuple[np.ndarray, ...]:
    """Stratified 85/15 split of the 12-bit task (seed 0, as the study), float32/int64 arrays."""
    task = tishby_12bit()
    s = train_test_split(task.x.astype(np.float32), task.y.astype(np.int64), 0.85, random_state=0)
    return s.x_train, s.y_train, s.x_test, s.y_test


def clocks() -> tuple[float, float]:
    """Wall-clock and process CPU time, seconds."""
    return time.perf_counter(), time.process_time()


def rates(runs: dict[str, Callable[[int], Any]], seconds: float, repeats: int) -> dict[str, Any]:
    """Median runs per second of each ``run(count)``, wall and CPU, the runs alternating.

    ``count`` is sized from a warm-up so that one timed call takes about ``seconds``.
    """
    counts = {}
    for name, run in runs.items():
        run(2)
        wall = clocks()[0]
        run(3)
        counts[name] = max(3, round(seconds / ((clocks()[0] - wall) / 3)))
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            wall, cpu = clocks()
            run(counts[name])
            end_wall, end_cpu = clocks()
            samples[name].append(
                (counts[name] / (end_wall - wall), counts[name] / max(end_cpu - cpu, 1e-9))
            )
    return {
        name: {
            "wall": statistics.median(w for w, _ in got),
            "cpu": statistics.median(c for _, c in got),
        }
        for name, got in samples.items()
    }


def repeated(f: Callable[[], Any]) -> Callable[[int], None]:
    """``run(count)`` calling ``f`` count times."""

    def run(count: int) -> None:
        for _ in range(count):
            f()

    return run


#: the ``fit`` variants timed: the autograd path, the fused step with its history in one
#: pass over all samples (no chunks), and the fused step as it is
VARIANTS = ("autograd", "fused, unchunked history", "fused")


def grid(data: tuple[np.ndarray, ...], seconds: float, repeats: int) -> list[dict[str, Any]]:
    """Epochs per second of ``fit`` (as it is) for one seed and 10, per set-up and threads."""
    x_tr, y_tr, x_te, y_te = data
    rows = []
    for setup, options in GRID_SETUPS.items():
        for threads in (1, 2):
            torch.set_num_threads(threads)
            runs = {}
            for label, model in (
                ("single", MLP(12, seed=0)),
                ("ensemble", EnsembleMLP(BREAKDOWN_MEMBERS, 12)),
            ):

                def run(
                    epochs: int, model: torch.nn.Module = model, options: dict[str, Any] = options
                ) -> None:
                    fit(model, x_tr, y_tr, epochs=epochs, x_test=x_te, y_test=y_te, **options)

                runs[label] = run
            got = rates(runs, seconds, repeats)
            rows.append(
                {
                    "setup": setup,
                    "threads": threads,
                    "single_epochs_per_s": got["single"]["wall"],
                    "ensemble_epochs_per_s": got["ensemble"]["wall"],
                    "ensemble_speedup": got["ensemble"]["wall"]
                    * BREAKDOWN_MEMBERS
                    / got["single"]["wall"],
                    "single_epochs_per_cpu_s": got["single"]["cpu"],
                    "ensemble_epochs_per_cpu_s": got["ensemble"]["cpu"],
                }
            )
    torch.set_num_threads(1)
    return rows


def fit_rates(data: tuple[np.ndarray, ...], seconds: float, repeats: int) -> list[dict[str, Any]]:
    """Epochs per second of ``fit`` in each of :data:`VARIANTS`, per model size."""
    x_tr, y_tr, x_te, y_te = data
    chunk = training._EVAL_VALUES
    rows = []
    for members in (1, *MEMBERS):
        runs = {}
        for variant in VARIANTS:
            model = MLP(12, seed=0) if members == 1 else EnsembleMLP(members, 12)
            # one chunk of the whole data set for the unchunked variant
            values = 2**62 if variant == "fused, unchunked history" else chunk

            def run(
                epochs: int,
                model: torch.nn.Module = model,
                variant: str = variant,
                values: int = values,
            ) -> None:
                training._EVAL_VALUES = values
                try:
                    fit(
                        model,
                        x_tr,
                        y_tr,
                        epochs=epochs,
                        x_test=x_te,
                        y_test=y_te,
                        fused=variant != "autograd",
                        **SETUP,
                    )
                finally:
                    training._EVAL_VALUES = chunk

            runs[variant] = run
        got = rates(runs, seconds, repeats)
        rows.append({"model": "MLP" if members == 1 else "EnsembleMLP", "members": members, **got})
    return rows


def breakdown(data: tuple[np.ndarray, ...], seconds: float, repeats: int) -> list[dict[str, Any]]:
    """Milliseconds per epoch of each part of an epoch, before and after its optimisation."""
    x_tr, y_tr, x_te, y_te = (torch.from_numpy(a) for a in data)
    n, batch = x_tr.shape[0], SETUP["batch_size"]
    steps = -(-n // batch)
    before, after = EnsembleMLP(BREAKDOWN_MEMBERS, 12), EnsembleMLP(BREAKDOWN_MEMBERS, 12)
    opt = _make_optimizer("adam", list(before.parameters()), SETUP["lr"], 0.0)
    fused_opt = _make_optimizer("adam", list(after.parameters()), SETUP["lr"], 0.0)
    engine = _FusedStep(after, fused_opt, "softmax", x_tr, y_tr, (x_te, y_te))
    generators = [_order_generator(None, s) for s in before.seeds]
    order = _epoch_order(n, generators, x_tr.device)
    index = order[:, :batch]
    x_batch, y_batch = x_tr[index], y_tr[index]
    fused_batch = next(engine.batches(order, batch))

    def autograd_gradient() -> None:
        opt.zero_grad(set_to_none=True)
        member_losses(before(x_batch), y_batch, "softmax").sum().backward()

    autograd_gradient()
    parts: dict[str, tuple[Callable[[], Any], Callable[[], Any], int]] = {
        "optimizer update": (opt.step, engine.update, steps),
        "gradient": (autograd_gradient, lambda: engine._gradient(*fused_batch), steps),
        "batches": (
            lambda: [(x_tr[i], y_tr[i]) for i in order.split(batch, dim=1)],
            lambda: list(engine.batches(order, batch)),
            1,
        ),
        "history": (
            lambda: (
                _evaluate(before, x_tr, y_tr, "softmax"),
                _evaluate(before, x_te, y_te, "softmax"),
            ),
            engine.evaluate,
            1,
        ),
    }
    rows = []
    for name, (old, new, per_epoch) in parts.items():
        got = rates({"before": repeated(old), "after": repeated(new)}, seconds / 3, repeats)
        rows.append(
            {
                "part": name,
                "calls_per_epoch": per_epoch,
                **{
                    f"{when}_ms_per_epoch_{clock}": 1e3 * per_epoch / got[when][clock]
                    for when in ("before", "after")
                    for clock in ("wall", "cpu")
                },
            }
        )
    return rows


def compiled(data: tuple[np.ndarray, ...], seconds: float, repeats: int) -> list[dict[str, Any]]:
    """Milliseconds per gradient, eager and compiled, autograd and fused; compile seconds."""
    x_tr, y_tr, x_te, y_te = (torch.from_numpy(a) for a in data)
    batch = SETUP["batch_size"]
    model, fused_model = EnsembleMLP(BREAKDOWN_MEMBERS, 12), EnsembleMLP(BREAKDOWN_MEMBERS, 12)
    opt = _make_optimizer("adam", list(fused_model.parameters()), SETUP["lr"], 0.0)
    engine = _FusedStep(fused_model, opt, "softmax", x_tr, y_tr, (x_te, y_te))
    generators = [_order_generator(None, s) for s in model.seeds]
    order = _epoch_order(x_tr.shape[0], generators, x_tr.device)
    x_batch, y_batch = x_tr[order[:, :batch]], y_tr[order[:, :batch]]
    fused_batch = next(engine.batches(order, batch))

    def autograd(net: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            model.zero_grad(set_to_none=True)
            member_losses(net(x_batch), y_batch, "softmax").sum().backward()

        return run

    fast = torch.compile(engine._gradient, dynamic=False)
    steps = {
        "autograd": (autograd(model), autograd(torch.compile(model, dynamic=False))),
        "fused": (lambda: engine._gradient(*fused_batch), lambda: fast(*fused_batch)),
    }
    rows = []
    for name, (eager, compiled_step) in steps.items():
        start = time.perf_counter()
        compiled_step()
        compile_seconds = time.perf_counter() - start
        got = rates(
            {"eager": repeated(eager), "compiled": repeated(compiled_step)}, seconds, repeats
        )
        rows.append(
            {
                "step": name,
                "compile_seconds": compile_seconds,
                **{
                    f"{mode}_ms_{clock}": 1e3 / got[mode][clock]
                    for mode in ("eager", "compiled")
                    for clock in ("wall", "cpu")
                },
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = quick_parser(__doc__.split("\n")[0], RESULTS, "0.5 s per run")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    args = parser.parse_args(argv)
    repeats = default_repeats(args)
    seconds = 0.5 if args.quick else 1.5
    torch.set_num_threads(1)
    data = split()
    load_before = os.getloadavg()
    start = time.perf_counter()
    fits = fit_rates(data, seconds, repeats)
    parts = breakdown(data, seconds, repeats)
    results = grid(data, seconds, repeats)
    compile_rows = compiled(data, seconds / 3, repeats) if args.compile else []
    load_after = os.getloadavg()

    print(
        f"12-bit task, 12-10-7-5-4-3-2 tanh, {len(data[0])} train / {len(data[2])} test, "
        f"Adam lr 4e-4, batches of 256, 1 thread; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after"
    )
    show_table(
        "fit: epochs/s (every member once per epoch), median wall | CPU",
        ("model", "seeds", *VARIANTS, "speed-up (wall | CPU)"),
        [
            (
                r["model"],
                str(r["members"]),
                *(f"{r[v]['wall']:.0f} | {r[v]['cpu']:.0f}" for v in VARIANTS),
                f"{r['fused']['wall'] / r['autograd']['wall']:.2f}x | "
                f"{r['fused']['cpu'] / r['autograd']['cpu']:.2f}x",
            )
            for r in fits
        ],
    )
    show_table(
        f"\nbreakdown, {BREAKDOWN_MEMBERS} seeds: ms per epoch, median wall | CPU",
        ("part", "calls/epoch", "before", "after"),
        [
            (
                r["part"],
                str(r["calls_per_epoch"]),
                f"{r['before_ms_per_epoch_wall']:.2f} | {r['before_ms_per_epoch_cpu']:.2f}",
                f"{r['after_ms_per_epoch_wall']:.2f} | {r['after_ms_per_epoch_cpu']:.2f}",
            )
            for r in parts
        ],
    )
    show_table(
        f"\ngrid: epochs/s of fit, 1 seed and {BREAKDOWN_MEMBERS}, median wall | CPU",
        ("set-up", "threads", "1 seed", f"{BREAKDOWN_MEMBERS} seeds", "speed-up (wall)"),
        [
            (
                r["setup"],
                str(r["threads"]),
                f"{r['single_epochs_per_s']:.0f} | {r['single_epochs_per_cpu_s']:.0f}",
                f"{r['ensemble_epochs_per_s']:.0f} | {r['ensemble_epochs_per_cpu_s']:.0f}",
                f"{r['ensemble_speedup']:.1f}x",
            )
            for r in results
        ],
    )
    if compile_rows:
        show_table(
            f"\ntorch.compile, {BREAKDOWN_MEMBERS} seeds: ms per gradient, median wall | CPU",
            ("step", "compile s", "eager", "compiled"),
            [
                (
                    r["step"],
                    f"{r['compile_seconds']:.0f}",
                    f"{r['eager_ms_wall']:.3f} | {r['eager_ms_cpu']:.3f}",
                    f"{r['compiled_ms_wall']:.3f} | {r['compiled_ms_cpu']:.3f}",
                )
                for r in compile_rows
            ],
        )
    finish(
        args.out,
        {
            "task": "tishby_12bit, stratified 85/15 split (seed 0)",
            "network": "MLP(12, (10, 7, 5, 4, 3), 2, 'tanh')",
            "setup": SETUP,
            "threads": 1,
            "seconds_per_run": seconds,
            "repeats": repeats,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "fit": fits,
            "n_members": BREAKDOWN_MEMBERS,
            "grid_setups": GRID_SETUPS,
            "results": results,
            "breakdown_members": BREAKDOWN_MEMBERS,
            "breakdown": parts,
            "compile": compile_rows,
            "versions": versions(["torch", "numpy", "ibkit"]),
        },
        time.perf_counter() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

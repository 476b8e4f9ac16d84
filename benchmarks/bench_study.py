"""The reference information-plane study, stage by stage, and end to end.

Run with ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_study.py [--quick]
[--seeds N] [--points N] [--no-wall]``.

The study is :class:`ibkit.study.PlaneStudy`'s default: tanh and ReLU, 5 seeds, 4000
epochs, 200 recorded epochs, the six reference estimators, gradient statistics. Two
measurements:

- ``stages``: each activation run by :func:`ibkit.study.run_plane_study` in this
  process, on one thread, with the time of every ``plane_point`` summed per estimator
  label, the recorder's forward passes, and the rest (training with its per-epoch
  evaluation, tables, checkpoints): CPU seconds per stage;
- ``wall``: the whole study as ``ibkit plane --jobs 2`` (the two activations in two
  processes) in a fresh process: wall-clock and CPU seconds (skipped with
  ``--no-wall``).

``--seeds`` runs the same study with that many seeds per activation (20: the
statistical power the README's tables use). ``--quick``: 500 epochs and 20 recorded
epochs. Results go to ``benchmarks/results/study.json``.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from report import finish, quick_parser, show_table, versions

from ibkit.estimators import MIEstimator, SaturationWarning, get_estimator
from ibkit.nn.plane import InformationPlane
from ibkit.study import PLANE_ESTIMATORS, PlaneStudy, run_plane_study

RESULTS = Path(__file__).resolve().parent / "results" / "study.json"


def _key(estimator: MIEstimator) -> str:
    return f"{estimator.name} {sorted(estimator.params.items())}"


#: The study label of each estimator setting.
LABELS = {_key(get_estimator(m, **p)): label for label, (m, p) in PLANE_ESTIMATORS.items()}


def stage_seconds(study: PlaneStudy, activation: str) -> dict[str, Any]:
    """CPU seconds per stage of one activation, run in this process on one thread."""
    seconds: dict[str, float] = defaultdict(float)
    original_point, original_capture = MIEstimator.plane_point, InformationPlane._capture

    def timed(label_of: Any, original: Any) -> Any:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return original(self, *args, **kwargs)
            finally:
                seconds[label_of(self)] += time.process_time() - start

        return run

    MIEstimator.plane_point = timed(lambda est: LABELS[_key(est)], original_point)
    InformationPlane._capture = timed(lambda plane: "forward passes", original_capture)
    try:
        one = PlaneStudy(**{**study.to_dict(), "activations": (activation,)})
        with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
            warnings.simplefilter("ignore", SaturationWarning)
            start = time.process_time()
            run_plane_study(one, out, n_jobs=1)
            total = time.process_time() - start
    finally:
        MIEstimator.plane_point, InformationPlane._capture = original_point, original_capture
    rest = total - sum(seconds.values())
    return {"activation": activation, "total": total, **seconds, "rest": rest}


def wall(study: PlaneStudy) -> dict[str, float]:
    """Wall-clock and CPU seconds of the study as ``ibkit plane --jobs 2``."""
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable, "-m", "ibkit.cli", "plane", "--jobs", "2", "--quiet",
            "--seeds", str(len(study.seeds)), "--epochs", str(study.epochs),
            "--points", str(study.n_points), "--out", out,
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": seconds, "cpu_seconds": cpu}


def main(argv: list[str] | None = None) -> int:
    parser = quick_parser(__doc__.split("\n")[0], RESULTS, "500 epochs, 20 recorded epochs")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per activation (5)")
    parser.add_argument("--points", type=int, help="recorded epochs (200; quick 20)")
    parser.add_argument("--no-wall", action="store_true", help="skip the end-to-end run")
    args = parser.parse_args(argv)
    study = PlaneStudy(
        seeds=tuple(range(args.seeds)),
        epochs=500 if args.quick else 4000,
        n_points=args.points or (20 if args.quick else 200),
    )
    start = time.perf_counter()
    rows = [stage_seconds(study, activation) for activation in study.activations]
    labels = [*study.estimators, "forward passes", "rest"]
    print(
        f"{len(study.seeds)} seeds x {study.epochs} epochs x {study.n_points} recorded "
        "epochs, one thread per activation"
    )
    markdown = show_table(
        "stages: CPU seconds (share of the activation's total)",
        ("stage", *study.activations),
        [
            (
                label,
                *(
                    f"{r.get(label, 0.0):.1f} ({100 * r.get(label, 0.0) / r['total']:.0f} %)"
                    for r in rows
                ),  # fmt: skip
            )
            for label in [*labels, "total"]
        ],
    )
    end_to_end = None if args.no_wall else wall(study)
    if end_to_end is not None:
        print(
            f"\nibkit plane --jobs 2: {end_to_end['wall_seconds']:.0f} s wall, "
            f"{end_to_end['cpu_seconds']:.0f} s CPU"
        )
    finish(
        args.out,
        {
            "quick": args.quick,
            "study": study.to_dict(),
            "stages": rows,
            "markdown": markdown,
            "wall": end_to_end,
            "versions": versions(["torch", "numpy", "ibkit"]),
        },
        time.perf_counter() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

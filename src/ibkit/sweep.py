"""Sweeps: a grid of independent jobs, run in-process, on local processes or on Dask.

A *job* is a function ``job(*, random_state, **params) -> list[dict]`` returning tidy
rows; a *grid* is a list of parameter dicts (:func:`expand_grid` builds the Cartesian
product of lists). :func:`run_sweep` runs the job once per grid point and returns one
tidy table, one block of rows per grid point in grid order, with columns

``job_index, <params>, <the job's columns>, status, error, job_key``.

Determinism: job ``i`` gets ``numpy.random.default_rng(SeedSequence(seed).spawn(n)[i])``
(by grid position), so the table is the same whether the jobs run in this process
(``backend="serial"``), on local worker processes (``"processes"``, joblib's loky) or
on a Dask distributed cluster (``"dask"``; a ``LocalCluster`` when no ``scheduler`` is
given).

Fault tolerance: a job that raises is recorded as one row with ``status="error"`` and
the exception in ``error``, and the others go on. With ``path``, rows are appended to
that CSV as each job finishes; a later call with the same path and grid skips the jobs
already finished there (matched by grid position and ``job_key``, a hash of the job,
the seed and the parameters) and retries the failed ones.

Jobs are registered by name (:func:`register_job`; ``"curve"``, ``"estimate"``,
``"plane"`` and ``"vib"`` are built in) or given as a callable or an importable
``"module:function"`` string.

>>> table = run_sweep("estimate", expand_grid({"rho": [0.0, 0.9]}, {"method": "gaussian"}))
>>> table[["job_index", "rho", "status"]].to_dict("list")
{'job_index': [0, 1], 'rho': [0.0, 0.9], 'status': ['ok', 'ok']}
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib
import itertools
import json
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ibkit._validation import ConvergenceWarning, InvalidParameterError, check_int

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "BACKENDS",
    "SweepConfig",
    "available_jobs",
    "expand_grid",
    "load_config",
    "register_job",
    "resolve_job",
    "run_sweep",
]

BACKENDS = ("serial", "processes", "dask")
#: Columns the runner adds; parameters and job rows may not use these names.
RESERVED = ("job_index", "status", "error", "job_key")

Job = Callable[..., Any]
Progress = Callable[[int, int], None]

_JOBS: dict[str, Job] = {}


# --------------------------------------------------------------------------- jobs


def register_job(name: str) -> Callable[[Job], Job]:
    """Decorator: make ``func(*, random_state, **params) -> list[dict]`` a named job."""

    def decorate(func: Job) -> Job:
        _JOBS[name] = func
        return func

    return decorate


def available_jobs() -> list[str]:
    """Names of the registered jobs, sorted."""
    return sorted(_JOBS)


def resolve_job(job: str | Job) -> tuple[str, Job]:
    """The name and function of a job given by registered name, callable or import path.

    An import path is ``"package.module:function"`` (or ``"package.module.function"``).
    """
    if callable(job):
        return f"{job.__module__}:{job.__qualname__}", job
    if not isinstance(job, str):
        raise InvalidParameterError(
            f"job must be a name, a callable or 'module:function'; got {job!r}"
        )
    if job in _JOBS:
        return job, _JOBS[job]
    module, sep, attr = job.rpartition(":") if ":" in job else job.rpartition(".")
    if not sep or not module:
        raise InvalidParameterError(
            f"unknown job {job!r}; choose one of: {', '.join(available_jobs())}, "
            "or give an importable 'module:function'"
        )
    func = getattr(importlib.import_module(module), attr, None)
    if not callable(func):
        raise InvalidParameterError(f"job {job!r}: module {module!r} has no function {attr!r}")
    return job, func


# --------------------------------------------------------------------------- grids


def expand_grid(
    grid: Mapping[str, Sequence[Any]], fixed: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The Cartesian product of parameter lists, each point merged with ``fixed``.

    The last parameter varies fastest.

    >>> expand_grid({"k": [3, 5], "n": [100]}, {"method": "ksg"})
    [{'k': 3, 'n': 100, 'method': 'ksg'}, {'k': 5, 'n': 100, 'method': 'ksg'}]
    """
    fixed = dict(fixed or {})
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise InvalidParameterError(
                f"grid parameter {name!r} must be a non-empty list of values; got {values!r} "
                "(put constants among the fixed parameters)"
            )
    both = sorted(set(grid) & set(fixed))
    if both:
        raise InvalidParameterError(f"parameters {', '.join(both)} are both in the grid and fixed")
    names = list(grid)
    return [
        {**dict(zip(names, values, strict=True)), **fixed}
        for values in itertools.product(*grid.values())
    ]


@dataclass(frozen=True)
class SweepConfig:
    """A sweep read from a TOML file by :func:`load_config`."""

    job: str
    grid: list[dict[str, Any]]
    seed: int = 0
    backend: str = "serial"
    scheduler: str | None = None
    n_jobs: int | None = None


_CONFIG_KEYS = ("job", "seed", "backend", "scheduler", "n_jobs", "grid", "fixed")


def load_config(path: str | os.PathLike[str]) -> SweepConfig:
    """Read a sweep from TOML.

    Top-level keys: ``job`` (required), ``seed``, ``backend``, ``scheduler``,
    ``n_jobs``; table ``[grid]`` with a list of values per parameter (their Cartesian
    product is swept) and table ``[fixed]`` with parameters shared by every job.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameterError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(_CONFIG_KEYS))
    if unknown:
        raise InvalidParameterError(
            f"{path}: unknown key(s) {', '.join(unknown)}; expected {', '.join(_CONFIG_KEYS)}"
        )
    if "job" not in data:
        raise InvalidParameterError(
            f"{path}: missing the key 'job' (one of {', '.join(available_jobs())})"
        )
    for table in ("grid", "fixed"):
        if not isinstance(data.get(table, {}), dict):
            raise InvalidParameterError(f"{path}: '{table}' must be a table ([{table}])")
    try:
        grid = expand_grid(data.get("grid", {}), data.get("fixed", {}))
    except ValueError as exc:
        raise InvalidParameterError(f"{path}: {exc}") from None
    return SweepConfig(
        job=data["job"],
        grid=grid,
        seed=data.get("seed", 0),
        backend=data.get("backend", "serial"),
        scheduler=data.get("scheduler"),
        n_jobs=data.get("n_jobs"),
    )


# --------------------------------------------------------------------------- runner


def run_sweep(
    job: str | Job,
    grid: Sequence[Mapping[str, Any]],
    *,
    seed: int = 0,
    backend: str = "serial",
    scheduler: str | None = None,
    n_jobs: int | None = None,
    path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Any:
    """Run ``job`` once per grid point and gather the rows in one tidy table.

    Parameters
    ----------
    job : str or callable
        A registered name (:func:`available_jobs`), an importable
        ``"module:function"``, or a function ``job(*, random_state, **params)``
        returning a list of row dicts (a DataFrame is accepted too).
    grid : sequence of dict
        One dict of parameters per job (see :func:`expand_grid`).
    seed : int
        Root of the per-job seeds (``SeedSequence(seed).spawn(len(grid))``).
    backend : {"serial", "processes", "dask"}
        Where the jobs run: this process, local worker processes (joblib's loky), or
        a Dask distributed cluster.
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``); ``backend="dask"`` only.
        Without it a ``LocalCluster`` of ``n_jobs`` single-threaded worker processes
        is started and closed afterwards.
    n_jobs : int, optional
        Worker processes (default: one per CPU).
    path : str or path-like, optional
        A ``.csv`` to stream rows into as jobs finish, and to resume from.
    progress : callable(done, total), optional
        Called as jobs finish (jobs found finished in ``path`` count as done).

    Returns
    -------
    pandas.DataFrame
        Rows of job 0, then job 1, ... (see the module docstring for the columns).
        With ``path``, the table as read back from the CSV.
    """
    import pandas as pd

    name, func = resolve_job(job)
    points = _check_grid(grid)
    seed = check_int(seed, "seed", minimum=0)
    if backend not in BACKENDS:
        raise InvalidParameterError(
            f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}"
        )
    if scheduler is not None and backend != "dask":
        raise InvalidParameterError(
            f"a scheduler address needs backend='dask'; got backend={backend!r}"
        )
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", minimum=1)

    keys = [_job_key(name, seed, params) for params in points]
    seeds = np.random.SeedSequence(seed).spawn(len(points))
    params_names = list(dict.fromkeys(k for params in points for k in params))
    table = _Table(params_names, None if path is None else Path(path))
    finished = table.resume(keys)
    todo = [(i, keys[i], points[i], seeds[i]) for i in range(len(points)) if i not in finished]
    done = len(points) - len(todo)
    if progress is not None and done:
        progress(done, len(points))
    for _, rows in _execute(func, todo, backend, scheduler, n_jobs):
        table.add(rows)
        done += 1
        if progress is not None:
            progress(done, len(points))
    if table.path is not None:
        return table.finish()
    return pd.DataFrame(sorted(table.rows, key=lambda r: r["job_index"]), columns=table.columns)


def _check_grid(grid: Any) -> list[dict[str, Any]]:
    if isinstance(grid, Mapping) or not isinstance(grid, Sequence) or not grid:
        raise InvalidParameterError(
            "grid must be a non-empty list of parameter dicts (see expand_grid); "
            f"got {type(grid).__name__}"
        )
    points = []
    for i, params in enumerate(grid):
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise InvalidParameterError(
                f"grid[{i}] must be a dict of parameters by name; got {params!r}"
            )
        clash = sorted(set(params) & set(RESERVED))
        if clash:
            raise InvalidParameterError(
                f"grid[{i}]: parameter names {', '.join(clash)} are reserved"
            )
        points.append(dict(params))
    return points


def _job_key(name: str, seed: int, params: Mapping[str, Any]) -> str:
    """A short hash of what a job computes: its name, the sweep seed and its parameters."""
    text = json.dumps([name, seed, params], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cell(value: Any) -> Any:
    """A parameter value as a table cell: scalars as they are, others as JSON."""
    if value is None or isinstance(value, (str, bool, numbers.Number)):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _run_one(
    func: Job, index: int, key: str, params: dict[str, Any], seed: np.random.SeedSequence
) -> tuple[int, list[dict[str, Any]]]:
    """Run one job; its rows carry the runner's columns. Exceptions become an error row."""
    head = {"job_index": index, **{k: _cell(v) for k, v in params.items()}}
    tail = {"job_key": key}
    try:
        rows = _as_rows(func(random_state=np.random.default_rng(seed), **params))
    except Exception as exc:  # a failed job is recorded and the sweep goes on
        return index, [{**head, "status": "error", "error": f"{type(exc).__name__}: {exc}", **tail}]
    ok = {"status": "ok", "error": None, **tail}
    return index, [{**head, **row, **ok} for row in rows] or [{**head, **ok}]


def _as_rows(result: Any) -> list[dict[str, Any]]:
    if hasattr(result, "to_dict") and hasattr(result, "columns"):
        result = result.to_dict("records")
    if not isinstance(result, (list, tuple)) or not all(isinstance(r, Mapping) for r in result):
        raise TypeError(f"a job must return a list of row dicts; got {type(result).__name__}")
    for row in result:
        clash = sorted(set(row) & set(RESERVED))
        if clash:
            raise InvalidParameterError(
                f"job rows may not have the reserved columns {', '.join(clash)}"
            )
    return [dict(r) for r in result]


def _execute(
    func: Job, tasks: list[tuple], backend: str, scheduler: str | None, n_jobs: int | None
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Yield ``(index, rows)`` of each task as it finishes."""
    if not tasks:
        return
    if backend == "serial":
        for task in tasks:
            yield _run_one(func, *task)
    elif backend == "processes":
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs or -1, backend="loky", return_as="generator_unordered")
        yield from parallel(delayed(_run_one)(func, *task) for task in tasks)
    else:
        from dask.distributed import as_completed

        with _dask_client(scheduler, n_jobs) as client:
            futures = [client.submit(_run_one, func, *task, pure=False) for task in tasks]
            for future in as_completed(futures):
                yield future.result()


@contextlib.contextmanager
def _dask_client(scheduler: str | None, n_jobs: int | None) -> Iterator[Any]:
    """A client of the scheduler, or of a new LocalCluster closed on exit."""
    import logging

    from dask.distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n_jobs,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # a free port: never clash with a running cluster
                    silence_logs=logging.ERROR,
                )
            )
            yield stack.enter_context(Client(cluster))
        else:
            yield stack.enter_context(Client(scheduler, timeout=30))


class _Table:
    """The growing table: rows in memory, or streamed to a CSV that can be resumed.

    Columns are ``job_index``, the parameters, the jobs' columns in order of first
    appearance, then ``status``, ``error``, ``job_key``. When a job brings a new column
    the CSV is rewritten with the wider header (cells kept as written).
    """

    def __init__(self, params: list[str], path: Path | None) -> None:
        if path is not None and path.suffix.lower() != ".csv":
            raise InvalidParameterError(f"path must name a .csv file; got {str(path)!r}")
        self.params = params
        self.path = path
        self.extra: list[str] = []
        self.rows: list[dict[str, Any]] = []

    @property
    def columns(self) -> list[str]:
        return ["job_index", *self.params, *self.extra, *RESERVED[1:]]

    def resume(self, keys: list[str]) -> set[int]:
        """Indices of the jobs finished in the CSV; drops its other rows (failed, stale)."""
        if self.path is None or not self.path.is_file() or self.path.stat().st_size == 0:
            return set()
        header, rows = self._read_raw()
        if not {"job_index", "status", "job_key"} <= set(header):
            raise InvalidParameterError(
                f"{self.path} is not a sweep table (no job_index/status/job_key columns); "
                "pass another path or remove the file"
            )
        fixed = set(self.columns)
        self.extra = [c for c in header if c not in fixed]
        current = [r for r in rows if self._current(r, keys)]
        failed = {r["job_index"] for r in current if r["status"] != "ok"}
        keep = [r for r in current if r["job_index"] not in failed]
        if len(keep) < len(rows) or header != self.columns:
            self._write_raw(keep)
        return {int(r["job_index"]) for r in keep}

    @staticmethod
    def _current(row: dict[str, Any], keys: list[str]) -> bool:
        """Whether a row is whole (not torn by a kill mid-write) and of this grid."""
        index = row["job_index"] or ""
        whole = None not in row and None not in row.values()
        return (
            whole
            and index.isdigit()
            and int(index) < len(keys)
            and keys[int(index)] == row["job_key"]
        )

    def add(self, rows: list[dict[str, Any]]) -> None:
        known = set(self.columns)
        new = list(dict.fromkeys(c for row in rows for c in row if c not in known))
        self.extra.extend(new)
        if self.path is None:
            self.rows.extend(rows)
            return
        if new or not self.path.is_file():
            self._write_raw(self._read_raw()[1] if self.path.is_file() else [])
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, self.columns)
            writer.writerows({k: _text(v) for k, v in row.items()} for row in rows)

    def finish(self) -> Any:
        """Sort the CSV by job (rows of a job in their order) and read it back."""
        import pandas as pd

        rows = self._read_raw()[1]
        self._write_raw(sorted(rows, key=lambda r: int(r["job_index"])))
        return pd.read_csv(self.path, dtype={"job_key": str, "error": str, "status": str})

    def _read_raw(self) -> tuple[list[str], list[dict[str, str]]]:
        with self.path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return list(reader.fieldnames or []), rows

    def _write_raw(self, rows: list[dict[str, str]]) -> None:
        """Replace the CSV atomically by ``rows`` under the current header."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, self.columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self.path)


def _text(value: Any) -> str:
    """A cell as CSV text (floats in their shortest exact form)."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


# --------------------------------------------------------------------------- built-in jobs


@register_job("curve")
def curve_job(
    *,
    random_state: Any,
    data: str = "12bit",
    label_noise: float = 0.0,
    labels: bool = False,
    **options: Any,
) -> list[dict[str, Any]]:
    """The IB curve of a joint table: one row per β (:meth:`IBCurve.to_frame` plus I(X;Y)).

    ``data`` is ``"12bit"`` (the task of :func:`ibkit.datasets.tishby_12bit`, with
    ``label_noise``) or the path of a table file (see :func:`ibkit._io.read_joint`,
    ``labels`` as there). Other parameters go to :func:`ibkit.ib.ib_curve`.
    """
    from ibkit._io import read_joint
    from ibkit.datasets import tishby_12bit
    from ibkit.ib import ib_curve

    if data == "12bit":
        p_xy = tishby_12bit(label_noise=label_noise).p_xy
    elif label_noise:
        raise InvalidParameterError(f"label_noise applies to data='12bit' only; got data={data!r}")
    else:
        p_xy = read_joint(data, labels=labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        curve = ib_curve(p_xy, normalize=True, random_state=random_state, **options)
    frame = curve.to_frame()
    frame["i_xy"] = curve.i_xy
    return frame.to_dict("records")


#: Ground-truth samplers usable as ``data`` by the "estimate" job.
_TASKS = {
    "gaussian": "gaussian_task",
    "student_t": "student_t_task",
    "independent": "independent_task",
}


@register_job("estimate")
def estimate_job(
    *,
    random_state: Any,
    method: str,
    data: str = "gaussian",
    n_samples: int = 1000,
    dim: int | None = None,
    rho: float | None = None,
    dof: float | None = None,
    sparse: bool | None = None,
    transform: str | None = None,
    x: Sequence[str] | str | None = None,
    y: Sequence[str] | str | None = None,
    units: str = "bits",
    **params: Any,
) -> list[dict[str, Any]]:
    """One MI estimate: a row with ``value, lower, upper, std_error, units, n_samples``.

    ``data`` is a ground-truth task of :mod:`ibkit.datasets` (``"gaussian"``,
    ``"student_t"``, ``"independent"``, with ``dim``, ``rho``, ``dof``, ``sparse`` as
    there, and ``transform`` for :func:`~ibkit.datasets.transformed_task`):
    ``n_samples`` pairs are drawn and the row also holds ``true_mi``. Otherwise ``data``
    is the path of a ``.csv``/``.npz`` file whose columns ``x`` and ``y`` are read. Other
    parameters go to the estimator ``method``.
    """
    from ibkit import datasets
    from ibkit._io import parse_columns, read_samples
    from ibkit.estimators import estimate_mi

    task = {"dim": dim, "rho": rho, "dof": dof, "sparse": sparse}
    task = {k: v for k, v in task.items() if v is not None}
    row: dict[str, Any] = {}
    if data in _TASKS:
        truth = getattr(datasets, _TASKS[data])(**task)
        if transform is not None:
            truth = datasets.transformed_task(truth, transform)
        xs, ys = truth.sample(n_samples, random_state=random_state)
        row["true_mi"] = truth.mi(units)
    else:
        if task or transform is not None:
            raise InvalidParameterError(
                f"{', '.join([*task, *(['transform'] if transform else [])])} apply to the "
                f"ground-truth tasks ({', '.join(_TASKS)}), not to the file {data!r}"
            )
        if x is None or y is None:
            raise InvalidParameterError(f"data={data!r} is a file: give its columns as x and y")
        cols = [parse_columns(c) if isinstance(c, str) else list(c) for c in (x, y)]
        xs, ys = read_samples(data, *cols)
    est = estimate_mi(xs, ys, method=method, units=units, random_state=random_state, **params)
    keep = ("value", "lower", "upper", "std_error", "units", "n_samples")
    return [{**{k: v for k, v in est.to_dict().items() if k in keep}, **row}]


#: What the "plane" job returns: per-seed metrics, or their means with intervals.
_PLANE_TABLES = ("summary", "compression")


@register_job("plane")
def plane_job(
    *,
    random_state: Any,
    activation: str = "tanh",
    seeds: int | Sequence[int] = 5,
    table: str = "summary",
    out: str | None = None,
    **study: Any,
) -> list[dict[str, Any]]:
    """An information-plane study of one activation: its compression metrics.

    ``seeds`` is a number of networks (seeds 0, 1, ...) or a list of seeds; the other
    parameters are settings of :class:`ibkit.study.plane_study.PlaneStudy` (``epochs``,
    ``n_points``, ``hidden``, ``estimators``, ...). Returns the rows of
    :func:`~ibkit.study.metrics.summarize_compression` (``table="summary"``: one per
    estimator and layer, with intervals across seeds) or of
    :func:`~ibkit.study.metrics.compression_metrics` (``table="compression"``: one per
    seed too). The study runs in ``out`` (resumable) or in a temporary folder. The
    network seeds are the study's own, so ``random_state`` is not used.
    """
    import tempfile

    from ibkit.study.plane_study import PlaneStudy, run_plane_study

    if table not in _PLANE_TABLES:
        raise InvalidParameterError(
            f"table must be one of {', '.join(_PLANE_TABLES)}; got {table!r}"
        )
    if isinstance(seeds, numbers.Integral):
        seeds = range(check_int(seeds, "seeds", minimum=1))
    config = PlaneStudy(activations=(activation,), seeds=tuple(seeds), **study)
    with contextlib.ExitStack() as stack:
        folder = out or stack.enter_context(tempfile.TemporaryDirectory(prefix="ibkit-plane-"))
        result = run_plane_study(config, folder)
        frame = result.summary if table == "summary" else result.compression
        return frame.drop(columns="activation").to_dict("records")


@register_job("vib")
def vib_job(
    *,
    random_state: Any,
    beta: float,
    data: str = "digits",
    seed: int | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """One Variational IB classifier at ``beta``: one row of :func:`ibkit.nn.vib_sweep`.

    ``data`` is ``"digits"`` (:func:`ibkit.datasets.load_digits`) or the path of a
    ``.csv``/``.npz`` table of inputs ``x`` and labels ``y``
    (:func:`ibkit.datasets.load_table`). ``seed`` fixes the split, the initial weights
    and the noise for every β of a grid (common random numbers, as in one
    :func:`~ibkit.nn.vib_sweep` call); without it each job uses its own seed. Other
    parameters (``epochs``, ``dim``, ``encoder``, ``lr``, ``fgsm_eps``, ...) go to
    :func:`~ibkit.nn.vib_sweep`.
    """
    from ibkit.datasets import load_digits, load_table
    from ibkit.nn.vib_sweep import vib_sweep

    x, y = load_digits() if data == "digits" else load_table(data)
    state = random_state if seed is None else seed
    frame = vib_sweep(x, y, [beta], random_state=state, **options)
    return frame.drop(columns="beta").to_dict("records")

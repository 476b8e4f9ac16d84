"""Sweeps: a grid of independent jobs, run in-process, on local processes or on Dask.

A *job* is a function ``job(*, random_state, **params) -> list[dict]`` returning tidy
rows; a *grid* is a list of parameter dicts (:func:`expand_grid` builds the Cartesian
product of lists, or the union of several products). :func:`run_sweep` runs the job once
per grid point and returns one tidy table, one block of rows per grid point in grid
order, with columns

``job_index, <params>, <the job's columns>, status, error, job_key``.

Validation: every grid point is checked before any job runs: against the job's
signature (a missing or unknown parameter), and by the check the job was registered with
(:func:`register_job`; the built-in jobs check their values, files and settings).

Determinism: job ``i`` gets ``numpy.random.default_rng(SeedSequence(seed).spawn(n)[i])``
(by grid position) and computes on one thread, BLAS and torch alike (:func:`one_thread`;
a job that loads torch itself pins it once loaded, as the built-in jobs do), so the
table is the same whether the jobs run in this process (``backend="serial"``), on local
worker processes (``"processes"``, joblib's loky) or on a Dask distributed cluster
(``"dask"``; a ``LocalCluster`` on this machine's loopback address when no ``scheduler``
is given).

Fault tolerance: a job that raises is recorded as one row with ``status="error"`` and
the exception in ``error``, and the others go on. With ``path``, the sweep holds the lock
of the CSV (``<name>.lock`` beside it) while it runs (a second sweep on that table is
refused; other tables in the folder are free), and each job's rows
are appended and committed as one unit as it finishes; a later call with the same path
and grid skips the jobs finished there (matched by grid position and ``job_key``, a hash
of the job, the seed and the parameters, and checked row by row against the commit) and
reruns the others: failed, cut short, or never committed. See :mod:`ibkit._tables`.

Trust: a sweep configuration is as trusted as a script. ``job = "module:function"``
imports that module and runs the function with the configured parameters, and a job
writes where its parameters say; run only configurations you would run as code. Paths
are anchored: the input files of a registered job are read relative to the folder of
its configuration (:func:`load_config`), and its output folders are placed inside the
sweep's output folder, which a relative path may not leave (an absolute path is taken
as given).

Jobs are registered by name (:func:`register_job`; ``"curve"``, ``"estimate"``,
``"plane"`` and ``"vib"`` are built in, see :mod:`ibkit.jobs`) or given as a callable or
an importable ``"module:function"`` string.

>>> table = run_sweep("estimate", expand_grid({"rho": [0.0, 0.9]}, {"method": "gaussian"}))
>>> table[["job_index", "rho", "status"]].to_dict("list")
{'job_index': [0, 1], 'rho': [0.0, 0.9], 'status': ['ok', 'ok']}
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import itertools
import json
import numbers
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ibkit._tables import RESERVED, JobTable, Owner, TableLock, writing_for
from ibkit._validation import InvalidParameterError, Progress, check_callback, check_int

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
    "one_thread",
    "register_job",
    "resolve_job",
    "run_sweep",
]

BACKENDS = ("serial", "processes", "dask")

Job = Callable[..., Any]
Check = Callable[[dict[str, Any]], None]


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class JobSpec:
    """A job and what the runner knows of its parameters (see :func:`register_job`)."""

    name: str
    func: Job
    check: Check | None = None
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()


_JOBS: dict[str, JobSpec] = {}


def register_job(
    name: str,
    *,
    check: Check | None = None,
    inputs: Mapping[str, Sequence[str]] | None = None,
    outputs: Sequence[str] = (),
) -> Callable[[Job], Job]:
    """Decorator: make ``func(*, random_state, **params) -> list[dict]`` a named job.

    Parameters
    ----------
    name : str
        The name a grid or a configuration uses (``job = "name"``).
    check : callable, optional
        ``check(arguments)`` validates one grid point before any job of the sweep runs:
        ``arguments`` maps every parameter of ``func`` to its value (defaults filled in,
        extra keywords under the name of ``func``'s ``**`` parameter); it raises
        :class:`ValueError` naming the parameter, the constraint and the value.
    inputs : dict, optional
        Parameters that name a file the job reads, each with the values that are not
        files (names of built-in data, e.g. ``{"data": ("12bit",)}``). In a configuration
        a relative file path is read from the configuration's folder.
    outputs : sequence of str
        Parameters that name a folder the job writes. A relative path is placed inside
        the sweep's output folder and may not leave it; an absolute path is taken as is.
    """
    spec_inputs = {key: tuple(values) for key, values in (inputs or {}).items()}

    def decorate(func: Job) -> Job:
        _JOBS[name] = JobSpec(name, func, check, spec_inputs, tuple(outputs))
        return func

    return decorate


def _load_builtin_jobs() -> None:
    importlib.import_module("ibkit.jobs")


def available_jobs() -> list[str]:
    """Names of the registered jobs, sorted."""
    _load_builtin_jobs()
    return sorted(_JOBS)


def resolve_job(job: str | Job) -> tuple[str, Job]:
    """The name and function of a job given by registered name, callable or import path.

    An import path is ``"package.module:function"`` (or ``"package.module.function"``);
    resolving it imports the module, which runs its code.
    """
    spec = _spec(job)
    return spec.name, spec.func


def _spec(job: str | Job) -> JobSpec:
    _load_builtin_jobs()
    if callable(job):
        return _registered(job) or JobSpec(f"{job.__module__}:{job.__qualname__}", job)
    if not isinstance(job, str):
        raise InvalidParameterError(
            f"job must be a name, a callable or 'module:function'; got {job!r}"
        )
    if job in _JOBS:
        return _JOBS[job]
    module, sep, attr = job.rpartition(":") if ":" in job else job.rpartition(".")
    if not sep or not module:
        raise InvalidParameterError(
            f"unknown job {job!r}; choose one of: {', '.join(available_jobs())}, "
            "or give an importable 'module:function'"
        )
    func = getattr(importlib.import_module(module), attr, None)
    if not callable(func):
        raise InvalidParameterError(f"job {job!r}: module {module!r} has no function {attr!r}")
    registered = _registered(func)
    return JobSpec(job, func) if registered is None else replace(registered, name=job)


def _registered(func: Job) -> JobSpec | None:
    return next((spec for spec in _JOBS.values() if spec.func is func), None)


# --------------------------------------------------------------------------- grids


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
    fixed: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The Cartesian product of parameter lists, each point merged with ``fixed``.

    The last parameter varies fastest. A list of such dicts gives the union of their
    products, in order: the way to give a parameter to some points only, e.g. ``k`` to
    the ``ksg`` jobs of a grid over estimators.

    >>> expand_grid({"k": [3, 5], "n": [100]}, {"method": "ksg"})
    [{'k': 3, 'n': 100, 'method': 'ksg'}, {'k': 5, 'n': 100, 'method': 'ksg'}]
    >>> expand_grid([{"method": ["ksg"], "k": [3]}, {"method": ["gaussian"]}])
    [{'method': 'ksg', 'k': 3}, {'method': 'gaussian'}]
    """
    fixed = dict(fixed or {})
    if isinstance(grid, Mapping):
        grids = [grid]
    elif isinstance(grid, Sequence) and grid and all(isinstance(g, Mapping) for g in grid):
        grids = list(grid)
    else:
        raise InvalidParameterError(
            "grid must be a dict of parameter lists, or a non-empty list of such dicts; "
            f"got {grid!r}"
        )
    points = []
    for part in grids:
        for name, values in part.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                raise InvalidParameterError(
                    f"grid parameter {name!r} must be a non-empty list of values; got "
                    f"{values!r} (put constants among the fixed parameters)"
                )
        both = sorted(set(part) & set(fixed))
        if both:
            raise InvalidParameterError(
                f"parameters {', '.join(both)} are both in the grid and fixed"
            )
        names = list(part)
        points += [
            {**dict(zip(names, values, strict=True)), **fixed}
            for values in itertools.product(*part.values())
        ]
    return points


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
    ``n_jobs``; the table ``[grid]`` with a list of values per parameter (their Cartesian
    product is swept), or several ``[[grid]]`` tables (the union of their products: a
    parameter can belong to some points only), and the table ``[fixed]`` with parameters
    shared by every job. The input files of a registered job (``data = "x.csv"``) are
    read relative to the configuration's folder.

    A configuration is as trusted as a script: ``job = "module:function"`` imports that
    module (here, while loading) and the sweep runs its function.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameterError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise InvalidParameterError(
            f"{path}: not valid TOML (not UTF-8 text); pass the sweep's .toml file"
        ) from None
    try:
        return _config(data, path.parent.absolute())
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(f"{path}: {exc}") from None
    except ImportError as exc:  # job = "module:function" with a module that is not there
        raise ImportError(f"{path}: {exc}") from None


def _config(data: dict[str, Any], folder: Path) -> SweepConfig:
    unknown = sorted(set(data) - set(_CONFIG_KEYS))
    if unknown:
        raise InvalidParameterError(
            f"unknown key(s) {', '.join(unknown)}; expected {', '.join(_CONFIG_KEYS)}"
        )
    if "job" not in data:
        raise InvalidParameterError(f"missing the key 'job' (one of {', '.join(available_jobs())})")
    if not isinstance(data["job"], str):
        raise InvalidParameterError(f"job must be a string; got {data['job']!r}")
    settings = _check_settings(
        data.get("seed", 0),
        data.get("backend", "serial"),
        data.get("scheduler"),
        data.get("n_jobs"),
    )
    grid = data.get("grid", {})
    if not isinstance(grid, dict) and not (
        isinstance(grid, list) and grid and all(isinstance(g, dict) for g in grid)
    ):
        raise InvalidParameterError("'grid' must be a table ([grid]) or tables ([[grid]])")
    if not isinstance(data.get("fixed", {}), dict):
        raise InvalidParameterError("'fixed' must be a table ([fixed])")
    spec = _spec(data["job"])
    points = expand_grid(grid, data.get("fixed", {}))
    for point in points:
        for name, builtin in spec.inputs.items():
            value = point.get(name)
            if isinstance(value, str) and value not in builtin:
                point[name] = _input_path(name, value, builtin, folder)
    return SweepConfig(data["job"], points, *settings)


def _input_path(name: str, value: str, builtin: Sequence[str], folder: Path) -> str:
    """The file ``value`` of the input parameter ``name``, a relative path read from ``folder``.

    A missing file is an error naming ``value`` as written, the path looked for and the
    ``builtin`` names that are not files.
    """
    path = folder / value
    if not path.is_file():
        looked = "" if str(path) == value else f" (no file {path})"
        raise InvalidParameterError(
            f"{name}={value!r} is neither one of {', '.join(builtin)} nor an existing "
            f"file{looked}; fix the name or the path"
        )
    return str(path)


def _check_settings(
    seed: Any, backend: Any, scheduler: Any, n_jobs: Any
) -> tuple[int, str, str | None, int | None]:
    seed = check_int(seed, "seed", minimum=0)
    if backend not in BACKENDS:
        raise InvalidParameterError(
            f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}"
        )
    if scheduler is not None and not isinstance(scheduler, str):
        raise InvalidParameterError(
            f"scheduler must be the address of a Dask scheduler such as 'tcp://host:8786'; "
            f"got {scheduler!r}"
        )
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", minimum=1)
    return seed, backend, scheduler, n_jobs


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
        ``"module:function"`` (its module is imported and run: give only code you
        trust), or a function ``job(*, random_state, **params)`` returning a list of row
        dicts (a DataFrame is accepted too).
    grid : sequence of dict
        One dict of parameters per job (see :func:`expand_grid`). Every point is
        checked before any job runs; a bad one raises ``ValueError`` naming it.
    seed : int
        Root of the per-job seeds (``SeedSequence(seed).spawn(len(grid))``).
    backend : {"serial", "processes", "dask"}
        Where the jobs run: this process, local worker processes (joblib's loky), or
        a Dask distributed cluster.
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``); ``backend="dask"`` only.
        Without it a ``LocalCluster`` of ``n_jobs`` single-threaded worker processes,
        listening on 127.0.0.1 only (its dashboard too), is started and closed
        afterwards.
    n_jobs : int, optional
        Worker processes (default: one per CPU).
    path : str or path-like, optional
        A ``.csv`` to stream rows into as jobs finish, and to resume from. It is locked
        for the run, by the file ``<name>.lock`` beside it (a second sweep on the same
        table raises :class:`OSError` naming the PID that holds it; sweeps on other
        tables of the folder are not affected). Its folder is the home of the jobs'
        relative output paths; without a path, the current folder is.
    progress : callable(done, total), optional
        Called as jobs finish (jobs found finished in ``path`` count as done).

    Returns
    -------
    pandas.DataFrame
        Rows of job 0, then job 1, ... (see the module docstring for the columns).
        With ``path``, the table as read back from the CSV.
    """
    spec = _spec(job)
    points = _check_grid(grid)
    seed, backend, scheduler, n_jobs = _check_settings(seed, backend, scheduler, n_jobs)
    if scheduler is not None and backend != "dask":
        raise InvalidParameterError(
            f"a scheduler address needs backend='dask'; got backend={backend!r}"
        )
    progress = check_callback(progress, "progress")
    path = None if path is None else Path(path)
    params_names = list(dict.fromkeys(k for params in points for k in params))
    table = JobTable(params_names, path)
    folder = Path.cwd() if path is None else path.parent
    runs = _prepare(spec, points, folder)

    keys = [_job_key(spec.name, seed, params) for params in points]
    seeds = np.random.SeedSequence(seed).spawn(len(points))
    cells = [{k: _cell(v) for k, v in params.items()} for params in points]
    with TableLock(path) if path is not None else contextlib.nullcontext() as owner:
        finished = table.resume(keys)
        todo = [(i, runs[i], seeds[i]) for i in range(len(points)) if i not in finished]
        done = len(points) - len(todo)
        if progress is not None and done:
            progress(done, len(points))
        for index, result in _execute(spec.func, owner, todo, backend, scheduler, n_jobs):
            table.add(index, keys[index], _rows(index, cells[index], keys[index], result))
            done += 1
            if progress is not None:
                progress(done, len(points))
        return table.finish()


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


def _prepare(spec: JobSpec, points: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """The parameters each job runs with, every point checked first (nothing runs before).

    Output paths are resolved inside ``folder``; two jobs may not write one folder.
    """
    signature = inspect.signature(spec.func)
    runs = []
    writers: dict[Path, int] = {}
    for i, params in enumerate(points):
        where = f"grid[{i}] {_describe(params)}"
        params = dict(params)
        for name in spec.outputs:
            if params.get(name) is not None:
                target = _output(folder, params[name], f"{where}: {name}")
                if target in writers:
                    raise InvalidParameterError(
                        f"{where}: {name}={params[name]!r} is also the output of "
                        f"grid[{writers[target]}]; give each job its own folder"
                    )
                writers[target] = i
                params[name] = str(target)
        try:
            bound = signature.bind(random_state=None, **params)
        except TypeError as exc:
            problem = _mismatch(spec.name, signature, params, exc)
            raise InvalidParameterError(f"{where}: {problem}") from None
        if spec.check is not None:
            bound.apply_defaults()
            try:
                spec.check(dict(bound.arguments))
            except (ValueError, TypeError) as exc:
                raise InvalidParameterError(f"{where}: {exc}") from None
        runs.append(params)
    return runs


def _mismatch(
    name: str, signature: inspect.Signature, params: Mapping[str, Any], exc: TypeError
) -> str:
    """Why ``params`` do not fit the job's signature: unknown and missing names."""
    named = {k: p for k, p in signature.parameters.items() if k != "random_state"}
    kinds = {p.kind for p in named.values()}
    unknown = [] if inspect.Parameter.VAR_KEYWORD in kinds else sorted(set(params) - set(named))
    missing = [
        k
        for k, p in named.items()
        if p.default is p.empty and k not in params and p.kind is not p.VAR_KEYWORD
    ]
    parts = [f"has no parameter {', '.join(map(repr, unknown))}"] if unknown else []
    parts += [f"needs the parameter {', '.join(map(repr, missing))}"] if missing else []
    known = [k for k, p in named.items() if p.kind is not p.VAR_KEYWORD]
    more = ", ..." if inspect.Parameter.VAR_KEYWORD in kinds else ""
    return f"job {name!r} {' and '.join(parts) or exc} (its parameters: {', '.join(known)}{more})"


def _describe(params: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + "}"


def _output(folder: Path, value: Any, what: str) -> Path:
    """``value`` as an output folder: absolute as given, relative inside ``folder``."""
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidParameterError(f"{what} must be a folder path; got {value!r}")
    target = Path(value)
    if target.is_absolute():
        return target
    home = folder.resolve()
    target = (home / target).resolve()
    if target == home or not target.is_relative_to(home):
        raise InvalidParameterError(
            f"{what}={str(value)!r} is not inside the sweep's output folder {folder}; give "
            "a subfolder, or an absolute path to write elsewhere"
        )
    return target


def _job_key(name: str, seed: int, params: Mapping[str, Any]) -> str:
    """A short hash of what a job computes: its name, the sweep seed and its parameters."""
    text = json.dumps([name, seed, params], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cell(value: Any) -> Any:
    """A parameter value as a table cell: scalars as they are, others as JSON."""
    if value is None or isinstance(value, (str, bool, numbers.Number)):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _rows(
    index: int, cells: dict[str, Any], key: str, result: list[dict[str, Any]] | str
) -> list[dict[str, Any]]:
    """A job's table rows: its own rows (or its error) between the runner's columns."""
    head = {"job_index": index, **cells}
    if isinstance(result, str):
        return [{**head, "status": "error", "error": result, "job_key": key}]
    ok = {"status": "ok", "error": None, "job_key": key}
    return [{**head, **row, **ok} for row in result] or [{**head, **ok}]


def _run_one(
    func: Job, owner: Owner | None, index: int, params: dict[str, Any], seed: Any
) -> tuple[int, list[dict[str, Any]] | str]:
    """Run one job; its rows, or the text of the exception it raised."""
    try:
        with writing_for(owner), one_thread():
            return index, _as_rows(func(random_state=np.random.default_rng(seed), **params))
    except Exception as exc:  # a failed job is recorded and the sweep goes on
        return index, f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Compute on one thread in the block: BLAS and OpenMP (threadpoolctl), and torch.

    The runner runs every job inside it, so the table does not depend on the threads a
    worker process happens to have. It limits the libraries loaded when it is entered: a
    job that loads a threaded library itself (torch, by a neural estimator) enters it
    again once that is loaded. Nothing is imported here.
    """
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(ImportError):  # threadpoolctl comes with scikit-learn
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(1))
        if "torch" in sys.modules:
            from ibkit.nn.training import torch_threads

            stack.enter_context(torch_threads(1))
        yield


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
    func: Job,
    owner: Owner | None,
    tasks: list[tuple[int, dict[str, Any], Any]],
    backend: str,
    scheduler: str | None,
    n_jobs: int | None,
) -> Iterator[tuple[int, list[dict[str, Any]] | str]]:
    """Yield ``(index, rows or error)`` of each task as it finishes."""
    if not tasks:
        return
    if backend == "serial":
        for task in tasks:
            yield _run_one(func, owner, *task)
    elif backend == "processes":
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs or -1, backend="loky", return_as="generator_unordered")
        yield from parallel(delayed(_run_one)(func, owner, *task) for task in tasks)
    else:
        from dask.distributed import as_completed

        with _dask_client(scheduler, n_jobs) as client:
            futures = [client.submit(_run_one, func, owner, *task, pure=False) for task in tasks]
            for future in as_completed(futures):
                yield future.result()


@contextlib.contextmanager
def _dask_client(scheduler: str | None, n_jobs: int | None) -> Iterator[Any]:
    """A client of the scheduler, or of a new loopback-only LocalCluster closed on exit."""
    import logging

    from dask.distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n_jobs,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",  # scheduler and workers: not reachable from outside
                    dashboard_address="127.0.0.1:0",  # a free port, loopback only
                    silence_logs=logging.ERROR,
                )
            )
            yield stack.enter_context(Client(cluster))
        else:
            yield stack.enter_context(Client(scheduler, timeout=30))

"""The jobs that :func:`ibkit.sweep.run_sweep` knows by name.

``curve`` (an IB curve), ``estimate`` (one MI estimate), ``plane`` (an
information-plane study of one activation) and ``vib`` (one Variational IB classifier).
Each is a function ``job(*, random_state, **params) -> list[dict]`` registered with
:func:`ibkit.sweep.register_job` together with a check of its parameters, which the
runner calls for every grid point before any job runs, so a misspelt value or setting
stops the sweep at once instead of failing job by job. The jobs trust what their check
accepted.

>>> from ibkit.sweep import run_sweep
>>> run_sweep("estimate", [{"method": "gaussian", "rho": 0.5}])["status"].tolist()
['ok']
"""

from __future__ import annotations

import contextlib
import inspect
import numbers
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ibkit._validation import (
    ConvergenceWarning,
    InvalidParameterError,
    check_bool,
    check_int,
    check_positive,
    check_units,
)
from ibkit.sweep import _input_path, one_thread, register_job

__all__ = ["curve_job", "estimate_job", "plane_job", "vib_job"]


def _check_source(data: Any, builtin: Sequence[str], name: str = "data") -> None:
    """``data`` is one of the ``builtin`` names or an existing file (relative: here)."""
    if not isinstance(data, str):
        raise InvalidParameterError(
            f"{name} must be one of {', '.join(builtin)} or a file path; got {data!r}"
        )
    if data not in builtin:
        _input_path(name, data, builtin, Path.cwd())


def _check_names(options: dict[str, Any], owners: Sequence[Callable[..., Any]], job: str) -> None:
    """Every key of ``options`` is a keyword parameter of one of ``owners``."""
    keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    known = {
        p.name
        for owner in owners
        for p in inspect.signature(owner).parameters.values()
        if p.kind in keyword
    }
    unknown = sorted(set(options) - known)
    if unknown:
        names = ", ".join(getattr(o, "__name__", str(o)) for o in owners)
        raise InvalidParameterError(
            f"the {job} job has no parameter {', '.join(map(repr, unknown))}; its other "
            f"parameters go to {names}, which take: {', '.join(sorted(known))}"
        )


def _check_values(
    check: Callable[..., Any], func: Callable[..., Any], options: dict[str, Any], **known: Any
) -> None:
    """Run ``check`` on the options of ``func``: the given ones, else ``func``'s defaults.

    ``check`` takes keywords named as ``func``'s parameters, plus the ``known`` ones;
    if it takes ``**`` keywords too, the options that ``func`` does not name go there.
    """
    defaults = inspect.signature(func).parameters
    params = inspect.signature(check).parameters.values()
    values = {
        p.name: options.get(p.name, defaults[p.name].default)
        for p in params
        if p.kind is p.KEYWORD_ONLY and p.name not in known
    }
    if any(p.kind is p.VAR_KEYWORD for p in params):
        values.update({k: v for k, v in options.items() if k not in defaults})
    check(**values, **known)


# --------------------------------------------------------------------------- curve


def _joint(data: str, label_noise: float, labels: bool | None) -> Any:
    """The joint table p(x, y) of the curve job."""
    from ibkit._io import read_joint
    from ibkit.datasets import tishby_12bit

    if data == "12bit":
        return tishby_12bit(label_noise=label_noise).p_xy
    return read_joint(data, labels=labels)


def _check_curve(args: dict[str, Any]) -> None:
    from ibkit.ib import ib_curve
    from ibkit.ib.curve import check_curve_options

    _check_source(args["data"], ("12bit",))
    check_positive(args["label_noise"], "label_noise", allow_zero=True)
    if args["label_noise"] and args["data"] != "12bit":
        raise InvalidParameterError(
            f"label_noise applies to data='12bit' only; got data={args['data']!r}"
        )
    options = args["options"]
    taken = sorted(set(options) & {"p_xy", "normalize", "random_state"})
    if taken:
        raise InvalidParameterError(f"the curve job sets {', '.join(taken)} itself")
    _check_names(options, [ib_curve], "curve")
    p_xy = _joint(args["data"], args["label_noise"], args["labels"])
    _check_values(check_curve_options, ib_curve, options, n_inputs=p_xy.shape[0])


@register_job("curve", check=_check_curve, inputs={"data": ("12bit",)})
def curve_job(
    *,
    random_state: Any,
    data: str = "12bit",
    label_noise: float = 0.0,
    labels: bool | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """The IB curve of a joint table: one row per β (:meth:`IBCurve.to_frame` plus I(X;Y)).

    ``data`` is ``"12bit"`` (the task of :func:`ibkit.datasets.tishby_12bit`, with
    ``label_noise``) or the path of a table file (see :func:`ibkit._io.read_joint`,
    ``labels`` as there: ``None`` refuses a file that looks like (x, y) pairs). Other
    parameters go to :func:`ibkit.ib.ib_curve`.
    """
    from ibkit.ib import ib_curve

    p_xy = _joint(data, label_noise, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        curve = ib_curve(p_xy, normalize=True, random_state=random_state, **options)
    frame = curve.to_frame()
    frame["i_xy"] = curve.i_xy
    return frame.to_dict("records")


# --------------------------------------------------------------------------- estimate

#: Ground-truth samplers usable as ``data`` by the "estimate" job.
_TASKS = {
    "gaussian": "gaussian_task",
    "student_t": "student_t_task",
    "independent": "independent_task",
}
_TASK_SETTINGS = ("dim", "rho", "dof", "sparse", "transform")


def _task(args: dict[str, Any]) -> Any:
    """The ground-truth task named by ``args["data"]`` with its settings."""
    from ibkit import datasets

    settings = {k: args[k] for k in _TASK_SETTINGS[:-1] if args[k] is not None}
    truth = getattr(datasets, _TASKS[args["data"]])(**settings)
    if args["transform"] is not None:
        truth = datasets.transformed_task(truth, args["transform"])
    return truth


def _check_estimate(args: dict[str, Any]) -> None:
    from ibkit.estimators import get_estimator

    _check_source(args["data"], tuple(_TASKS))
    check_bool(args["y_labels"], "y_labels")
    if args["data"] in _TASKS and args["y_labels"]:
        raise InvalidParameterError(
            f"y_labels reads the y column of a file; data={args['data']!r} is a ground-truth "
            "task, whose y it draws"
        )
    if args["data"] in _TASKS:
        try:
            _task(args)
        except TypeError as exc:  # a setting the task does not take (dof of a Gaussian)
            raise InvalidParameterError(f"data={args['data']!r}: {exc}") from None
    else:
        given = [k for k in _TASK_SETTINGS if args[k] is not None]
        if given:
            raise InvalidParameterError(
                f"{', '.join(given)} apply to the ground-truth tasks ({', '.join(_TASKS)}), "
                f"not to the file {args['data']!r}"
            )
        if args["x"] is None or args["y"] is None:
            raise InvalidParameterError(
                f"data={args['data']!r} is a file: give its columns as x and y"
            )
    check_int(args["n_samples"], "n_samples", minimum=2)
    check_units(args["units"])
    get_estimator(args["method"], **args["params"])  # its parameters, checked by the method


@register_job("estimate", check=_check_estimate, inputs={"data": tuple(_TASKS)})
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
    y_labels: bool = False,
    units: str = "bits",
    **params: Any,
) -> list[dict[str, Any]]:
    """One MI estimate: a row with ``value, lower, upper, std_error, units, n_samples``.

    ``data`` is a ground-truth task of :mod:`ibkit.datasets` (``"gaussian"``,
    ``"student_t"``, ``"independent"``, with ``dim``, ``rho``, ``dof``, ``sparse`` as
    there, and ``transform`` for :func:`~ibkit.datasets.transformed_task`):
    ``n_samples`` pairs are drawn and the row also holds ``true_mi``. Otherwise ``data``
    is the path of a ``.csv``/``.npz`` file whose columns ``x`` and ``y`` are read
    (``y_labels=True`` reads the one ``y`` column as class labels, as ``--y-labels`` of
    ``ibkit estimate``; see :func:`ibkit._io.read_samples`). Other parameters go to the
    estimator ``method``.
    """
    from ibkit._io import parse_columns, read_samples
    from ibkit.estimators import get_estimator

    row: dict[str, Any] = {}
    if data in _TASKS:
        args = {"data": data, "dim": dim, "rho": rho, "dof": dof, "sparse": sparse}
        truth = _task({**args, "transform": transform})
        xs, ys = truth.sample(n_samples, random_state=random_state)
        row["true_mi"] = truth.mi(units)
    else:
        cols = [parse_columns(c) if isinstance(c, str) else list(c) for c in (x, y)]
        xs, ys = read_samples(data, *cols, y_labels=y_labels)
    estimator = get_estimator(method, **params)  # a neural method loads torch here,
    with one_thread():  # so its threads are pinned once it is loaded
        est = estimator.estimate(xs, ys, units=units, random_state=random_state)
    keep = ("value", "lower", "upper", "std_error", "units", "n_samples")
    return [{**{k: v for k, v in est.to_dict().items() if k in keep}, **row}]


# --------------------------------------------------------------------------- plane

#: What the "plane" job returns: per-seed metrics, or their means with intervals.
_PLANE_TABLES = ("summary", "compression")


def _plane_study(activation: str, seeds: Any, study: dict[str, Any]) -> Any:
    """The :class:`~ibkit.study.plane_study.PlaneStudy` of one plane job."""
    from ibkit.study.plane_study import PlaneStudy

    if "activations" in study:
        raise InvalidParameterError(
            "the plane job studies one activation: give activation, not activations"
        )
    _check_names(study, [PlaneStudy], "plane")
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = range(check_int(seeds, "seeds", minimum=1))
    return PlaneStudy(activations=(activation,), seeds=seeds, **study)


def _check_plane(args: dict[str, Any]) -> None:
    if args["table"] not in _PLANE_TABLES:
        raise InvalidParameterError(
            f"table must be one of {', '.join(_PLANE_TABLES)}; got {args['table']!r}"
        )
    _plane_study(args["activation"], args["seeds"], args["study"])


@register_job("plane", check=_check_plane, outputs=("out",))
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
    ``n_points``, ``hidden``, ``estimators``, ``data``, ``model``, ...; a relative
    ``data`` path is read from the folder the sweep runs in, and a ``module:factory``
    model imports that module). Returns the rows of
    :func:`~ibkit.study.metrics.summarize_compression` (``table="summary"``: one per
    estimator and layer, with intervals across seeds) or of
    :func:`~ibkit.study.metrics.compression_metrics` (``table="compression"``: one per
    seed too). The study runs in ``out`` (resumable; a relative path is a subfolder of
    the sweep's output folder) or in a temporary folder. The network seeds are the
    study's own, so ``random_state`` is not used; training and estimation use one
    thread.
    """
    import tempfile

    from ibkit.study.plane_study import run_plane_study

    config = _plane_study(activation, seeds, study)
    with contextlib.ExitStack() as stack:
        folder = out or stack.enter_context(tempfile.TemporaryDirectory(prefix="ibkit-plane-"))
        result = run_plane_study(config, folder)
        frame = result.summary if table == "summary" else result.compression
        return frame.drop(columns="activation").to_dict("records")


# --------------------------------------------------------------------------- vib


def _check_vib(args: dict[str, Any]) -> None:
    from ibkit.nn import NonlinearIB, VIBClassifier, vib_sweep
    from ibkit.nn._vib_sweep import check_sweep_options
    from ibkit.nn.vib import check_beta

    check_beta(args["beta"])
    _check_source(args["data"], ("digits",))
    if args["seed"] is not None:
        check_int(args["seed"], "seed", minimum=0)
    options = args["options"]
    taken = sorted(set(options) & {"x", "y", "betas", "random_state"})
    if taken:
        raise InvalidParameterError(f"the vib job sets {', '.join(taken)} itself")
    model = NonlinearIB if options.get("model") == "nonlinear_ib" else VIBClassifier
    _check_names(options, [vib_sweep, model], "vib")
    _check_values(check_sweep_options, vib_sweep, options)


@register_job("vib", check=_check_vib, inputs={"data": ("digits",)})
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
    :func:`~ibkit.nn.vib_sweep`. Training uses one torch thread.
    """
    from ibkit.datasets import load_digits, load_table
    from ibkit.nn import vib_sweep

    x, y = load_digits() if data == "digits" else load_table(data)
    state = random_state if seed is None else seed
    with one_thread():  # torch is loaded now: pin it too
        frame = vib_sweep(x, y, [beta], random_state=state, **options)
    return frame.drop(columns="beta").to_dict("records")

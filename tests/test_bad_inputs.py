"""Bad input at the public edge: complex numbers everywhere, and booleans that are not.

numpy turns a complex array into its real part with no more than a ComplexWarning, so
every public entry point that takes numbers must refuse complex input itself, with an
:class:`~ibkit.InvalidParameterError` whose message starts with the parameter's name.
The walk covers the array parameters of the measures, the IB solvers and their results,
the datasets, every non-neural estimator (``estimate_mi`` and ``plane_point``) and the
PyTorch entry points (imported only by the cases that need them), plus scalar
parameters. Each case first runs with the real input, so the refusal comes from the
complex numbers alone.

Boolean parameters must be booleans: ``normalize="no"`` is a non-empty string, which
Python treats as true, so ``bool("no")`` would turn it into ``normalize=True``. A
parameter that takes one kind of object (a model, a result to plot) refuses any other
with an InvalidParameterError too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ibkit import InvalidParameterError, estimate_mi
from ibkit import measures as m
from ibkit.datasets import (
    DiscreteTask,
    discrete_task,
    gaussian_task,
    student_t_task,
    tishby_12bit,
    train_test_split,
)
from ibkit.estimators import get_estimator
from ibkit.ib import (
    agglomerative_ib,
    gaussian_ib,
    gaussian_ib_from_samples,
    ib_curve,
    iterative_ib,
    upper_concave_envelope,
)

P = np.array([0.25, 0.75])
Q = np.array([0.5, 0.5])
P_XY = np.array([[0.3, 0.1], [0.1, 0.2], [0.05, 0.25]])
COV_X, COV_XY, COV_Y = np.array([[1.0]]), np.array([[0.6]]), np.array([[1.0]])
RNG = np.random.default_rng(0)
X = RNG.random((20, 2))
X1 = X[:, 0]
LABELS = np.arange(20) % 2
INPUTS = np.arange(20) // 5  # four inputs of five rows each
NON_NEURAL = ("binning", "plugin", "kde", "noisy_mc", "ksg", "gaussian")
AIB = agglomerative_ib(P_XY)
GAUSSIAN = gaussian_ib(COV_X, COV_XY, COV_Y, 2.0)


def small_mlp() -> Any:
    from ibkit.nn import MLP

    return MLP(2, hidden=(3,), out_features=2, seed=0)


def fit_call(**data: Any) -> Any:
    from ibkit.nn import fit

    args = {"x_train": X, "y_train": LABELS, "x_test": X, "y_test": LABELS} | data
    return fit(small_mlp(), epochs=1, **args)


def evaluate_call(**data: Any) -> Any:
    from ibkit.nn import evaluate

    return evaluate(small_mlp(), **({"x": X, "y": LABELS} | data))


def plane_call(**data: Any) -> Any:
    from ibkit.nn import InformationPlane

    args = {"x_probe": X, "y_probe": LABELS} | data
    return InformationPlane(small_mlp(), estimators="binning", **args)


def plane_points_call(t: Any = X, **data: Any) -> Any:
    from ibkit.nn import plane_points

    return plane_points({"t": t}, estimators="binning", **({"y": LABELS, "x": X} | data))


def vib_sweep_call(**data: Any) -> Any:
    from ibkit.nn import vib_sweep

    args = {"x": X, "y": LABELS, "betas": [1e-3], "x_test": X, "y_test": LABELS}
    args |= {"fgsm_eps": [0.1]} | data
    return vib_sweep(epochs=1, dim=2, encoder=(4,), batch_size=10, **args)


def estimator_cases(method: str) -> list[tuple[str, str, Any, Callable[[Any], Any]]]:
    x = LABELS if method == "plugin" else X
    estimator = get_estimator(method)

    def plane(**data: Any) -> Any:
        args = {"t": x, "x_labels": INPUTS, "y_labels": LABELS} | data
        return estimator.plane_point(args["t"], args["x_labels"], args["y_labels"])

    samples = [
        (f"estimate_mi[{method}]", "x", x, lambda v: estimate_mi(v, LABELS, method)),
        (f"estimate_mi[{method}]", "y", LABELS, lambda v: estimate_mi(x, v, method)),
    ]
    if not estimator.on_plane:  # the estimator refuses to place layers at all
        return samples
    return [
        *samples,
        (f"plane_point[{method}]", "t", x, lambda v: plane(t=v)),
        (f"plane_point[{method}]", "x_labels", INPUTS, lambda v: plane(x_labels=v)),
        (f"plane_point[{method}]", "y_labels", LABELS, lambda v: plane(y_labels=v)),
    ]


# (entry point, parameter, real input, call with the input in that parameter)
ARRAY_CASES = [
    ("entropy", "p", P, m.entropy),
    ("conditional_entropy", "p_xy", P_XY, m.conditional_entropy),
    ("mutual_information", "p_xy", P_XY, m.mutual_information),
    ("kl_divergence", "p", P, lambda v: m.kl_divergence(v, Q)),
    ("kl_divergence", "q", Q, lambda v: m.kl_divergence(P, v)),
    ("js_divergence", "p", P, lambda v: m.js_divergence(v, Q)),
    ("js_divergence", "q", Q, lambda v: m.js_divergence(P, v)),
    ("js_divergence", "weights", Q, lambda v: m.js_divergence(P, Q, weights=v)),
    ("iterative_ib", "p_xy", P_XY, lambda v: iterative_ib(v, 5.0, random_state=0)),
    ("iterative_ib", "init", np.eye(3), lambda v: iterative_ib(P_XY, 5.0, init=v)),
    ("ib_curve", "p_xy", P_XY, lambda v: ib_curve(v, [2.0], random_state=0)),
    ("ib_curve", "betas", np.array([2.0]), lambda v: ib_curve(P_XY, v, random_state=0)),
    ("upper_concave_envelope", "i_xt", Q, lambda v: upper_concave_envelope(v, Q)),
    ("upper_concave_envelope", "i_ty", Q, lambda v: upper_concave_envelope(Q, v)),
    (
        "IBCurve.i_ty_at",
        "i_xt",
        Q,
        lambda v: ib_curve(P_XY, [2.0], random_state=0).i_ty_at(v),
    ),
    ("agglomerative_ib", "p_xy", P_XY, agglomerative_ib),
    ("gaussian_ib", "cov_x", COV_X, lambda v: gaussian_ib(v, COV_XY, COV_Y, 2.0)),
    ("gaussian_ib", "cov_xy", COV_XY, lambda v: gaussian_ib(COV_X, v, COV_Y, 2.0)),
    ("gaussian_ib", "cov_y", COV_Y, lambda v: gaussian_ib(COV_X, COV_XY, v, 2.0)),
    ("gaussian_ib", "betas", Q + 1, lambda v: gaussian_ib(COV_X, COV_XY, COV_Y, v)),
    ("gaussian_ib_from_samples", "x", X1, lambda v: gaussian_ib_from_samples(v, X1**2, 2.0)),
    ("gaussian_ib_from_samples", "y", X1, lambda v: gaussian_ib_from_samples(X1**2, v, 2.0)),
    ("gaussian_ib_from_samples", "betas", Q + 1, lambda v: gaussian_ib_from_samples(X1, X1**2, v)),
    (
        "GaussianIBResult.information_at",
        "betas",
        Q + 1,
        lambda v: GAUSSIAN.information_at(v),
    ),
    ("discrete_task", "p_xy", P_XY, discrete_task),
    ("DiscreteTask", "x", X, lambda v: DiscreteTask(v, LABELS)),
    ("DiscreteTask", "y", LABELS, lambda v: DiscreteTask(X, v)),
    ("train_test_split", "x", X, lambda v: train_test_split(v, LABELS, 0.5)),
    ("train_test_split", "y", LABELS, lambda v: train_test_split(X, v, 0.5)),
    *[case for method in NON_NEURAL for case in estimator_cases(method)],
]

TORCH_CASES = [
    ("InformationPlane", "x_probe", X, lambda v: plane_call(x_probe=v)),
    ("InformationPlane", "y_probe", LABELS, lambda v: plane_call(y_probe=v)),
    ("plane_points", "activations['t']", X, plane_points_call),
    ("plane_points", "y", LABELS, lambda v: plane_points_call(y=v)),
    ("plane_points", "x", X, lambda v: plane_points_call(x=v)),
    ("fit", "x_train", X, lambda v: fit_call(x_train=v)),
    ("fit", "y_train", LABELS, lambda v: fit_call(y_train=v)),
    ("fit", "x_test", X, lambda v: fit_call(x_test=v)),
    ("fit", "y_test", LABELS, lambda v: fit_call(y_test=v)),
    ("evaluate", "x", X, lambda v: evaluate_call(x=v)),
    ("evaluate", "y", LABELS, lambda v: evaluate_call(y=v)),
    ("vib_sweep", "x", X, lambda v: vib_sweep_call(x=v)),
    ("vib_sweep", "y", LABELS, lambda v: vib_sweep_call(y=v)),
    ("vib_sweep", "betas", np.array([1e-3]), lambda v: vib_sweep_call(betas=v)),
    ("vib_sweep", "x_test", X, lambda v: vib_sweep_call(x_test=v)),
    ("vib_sweep", "y_test", LABELS, lambda v: vib_sweep_call(y_test=v)),
    ("vib_sweep", "fgsm_eps", np.array([0.1]), lambda v: vib_sweep_call(fgsm_eps=v)),
]

# complex numbers where one real number belongs
SCALAR_CASES = [
    ("iterative_ib", "beta", 5.0, lambda v: iterative_ib(P_XY, v, random_state=0)),
    ("iterative_ib", "alpha", 0.5, lambda v: iterative_ib(P_XY, 5.0, alpha=v, random_state=0)),
    ("iterative_ib", "tol", 1e-9, lambda v: iterative_ib(P_XY, 5.0, tol=v, random_state=0)),
    ("ib_curve", "beta_max", 10.0, lambda v: ib_curve(P_XY, beta_max=v, random_state=0)),
    ("ib_curve", "resolution", 0.1, lambda v: ib_curve(P_XY, resolution=v, random_state=0)),
    ("AgglomerativeIBResult.result", "beta", 2.0, lambda v: AIB.result(2, beta=v)),
    ("GaussianIBResult.projection", "beta", 2.0, lambda v: GAUSSIAN.projection(v)),
    ("gaussian_task", "rho", 0.5, lambda v: gaussian_task(1, v)),
    ("student_t_task", "dof", 3.0, lambda v: student_t_task(1, 0.5, v)),
    ("tishby_12bit", "label_noise", 0.1, tishby_12bit),
    ("train_test_split", "train_size", 0.5, lambda v: train_test_split(X, LABELS, v)),
]


def complex_forms(real: Any, *, torch_too: bool) -> dict[str, Any]:
    """The real input as complex numbers: a numpy array, a list and (maybe) a tensor."""
    arr = np.asarray(real) + 1j
    forms = {"ndarray": arr, "list": arr.tolist()}
    if torch_too:
        import torch

        forms["tensor"] = torch.as_tensor(arr)
    return forms


def refuses(call: Callable[[Any], Any], value: Any, param: str) -> None:
    """``call(value)`` raises InvalidParameterError with a message starting with ``param``."""
    with pytest.raises(InvalidParameterError, match=rf"^{re.escape(param)}(?!\w)"):
        call(value)


def case_id(case: tuple) -> str:
    return f"{case[0]}-{case[1]}"


@pytest.mark.parametrize("case", ARRAY_CASES + SCALAR_CASES, ids=case_id)
def test_the_walk_runs_on_real_input(case):
    _, _, real, call = case
    call(real)


@pytest.mark.parametrize("case", TORCH_CASES, ids=case_id)
def test_the_torch_walk_runs_on_real_input(case):
    pytest.importorskip("torch")
    _, _, real, call = case
    call(real)


@pytest.mark.parametrize("form", ["ndarray", "list"])
@pytest.mark.parametrize("case", ARRAY_CASES, ids=case_id)
def test_complex_arrays_are_refused(case, form):
    _, param, real, call = case
    refuses(call, complex_forms(real, torch_too=False)[form], param)


@pytest.mark.parametrize("form", ["ndarray", "list", "tensor"])
@pytest.mark.parametrize("case", TORCH_CASES, ids=case_id)
def test_complex_arrays_are_refused_by_the_torch_entry_points(case, form):
    pytest.importorskip("torch")
    _, param, real, call = case
    refuses(call, complex_forms(real, torch_too=True)[form], param)


@pytest.mark.parametrize("case", SCALAR_CASES, ids=case_id)
def test_complex_scalars_are_refused(case):
    _, param, real, call = case
    refuses(call, complex(real, 1.0), param)


def test_complex_refusal_says_how_to_fix():
    with pytest.raises(InvalidParameterError, match=r"p_xy is complex; pass real numbers"):
        m.mutual_information(P_XY + 0j)


# (entry point, parameter, call with a pandas object built from the input's values)
PANDAS_CASES = [
    ("entropy", "p", lambda pd, v: m.entropy(pd.Series(P + v))),
    ("mutual_information", "p_xy", lambda pd, v: m.mutual_information(pd.DataFrame(P_XY + v))),
    ("estimate_mi[ksg]", "x", lambda pd, v: estimate_mi(pd.DataFrame(X + v), X1, "ksg")),
    ("estimate_mi[ksg]", "y", lambda pd, v: estimate_mi(X, pd.Series(X1 + v), "ksg")),
    ("estimate_mi[kde]", "x", lambda pd, v: estimate_mi(pd.DataFrame(X + v), LABELS, "kde")),
]


@pytest.mark.parametrize("case", PANDAS_CASES, ids=case_id)
def test_complex_pandas_objects_are_refused(case):
    pd = pytest.importorskip("pandas")
    _, param, call = case
    call(pd, 0.0)  # the real frame is accepted
    refuses(lambda v: call(pd, v), 1j, param)


# --------------------------------------------------------------------------- booleans


def curve_plot(**flags: Any) -> Any:
    from ibkit.plots import plot_ib_curve

    return plot_ib_curve(ib_curve(P_XY, [2.0], random_state=0), **flags)


def agglomerative_plot(**flags: Any) -> Any:
    from ibkit.plots import plot_agglomerative

    return plot_agglomerative(agglomerative_ib(P_XY), **flags)


def gaussian_plot(**flags: Any) -> Any:
    from ibkit.plots import plot_gaussian_ib

    return plot_gaussian_ib(gaussian_ib(COV_X, COV_XY, COV_Y, [1.0, 4.0]), **flags)


def torch_only(call: Callable[..., Any], **kwargs: Any) -> Any:
    pytest.importorskip("torch")
    return call(**kwargs)


# (entry point, parameter, call with keyword arguments)
BOOL_CASES = [
    ("entropy", "normalize", lambda **k: m.entropy(P, **k)),
    ("conditional_entropy", "normalize", lambda **k: m.conditional_entropy(P_XY, **k)),
    ("mutual_information", "normalize", lambda **k: m.mutual_information(P_XY, **k)),
    ("kl_divergence", "normalize", lambda **k: m.kl_divergence(P, Q, **k)),
    ("js_divergence", "normalize", lambda **k: m.js_divergence(P, Q, **k)),
    ("iterative_ib", "normalize", lambda **k: iterative_ib(P_XY, 5.0, random_state=0, **k)),
    ("ib_curve", "normalize", lambda **k: ib_curve(P_XY, [2.0], random_state=0, **k)),
    ("agglomerative_ib", "normalize", lambda **k: agglomerative_ib(P_XY, **k)),
    ("discrete_task", "normalize", lambda **k: discrete_task(P_XY, **k)),
    ("gaussian_task", "sparse", lambda **k: gaussian_task(5, 0.5, **k)),
    ("student_t_task", "sparse", lambda **k: student_t_task(5, 0.5, **k)),
    ("train_test_split", "stratify", lambda **k: train_test_split(X, LABELS, 0.5, **k)),
    ("plot_ib_curve", "show_points", curve_plot),
    ("plot_ib_curve", "show_bounds", curve_plot),
    ("plot_ib_curve", "show_critical", curve_plot),
    ("plot_ib_curve", "show_note", curve_plot),
    ("plot_ib_curve", "color_by_beta", curve_plot),
    ("plot_agglomerative", "drop_redundant", agglomerative_plot),
    ("plot_agglomerative", "annotate", agglomerative_plot),
    ("plot_gaussian_ib", "show_bounds", gaussian_plot),
    ("plot_gaussian_ib", "show_critical", gaussian_plot),
    ("BinningEstimator", "miller_madow", lambda **k: get_estimator("binning", **k)),
    ("PluginEstimator", "miller_madow", lambda **k: get_estimator("plugin", **k)),
    ("InformationPlane", "track_gradients", lambda **k: torch_only(plane_call, **k)),
]


@pytest.mark.parametrize("bad", ["no", "False", 0, 1, None, [True]])
@pytest.mark.parametrize("case", BOOL_CASES, ids=case_id)
def test_booleans_must_be_booleans(case, bad):
    _, param, call = case
    with pytest.raises(InvalidParameterError, match=rf"^{param} must be True or False; got"):
        call(**{param: bad})


@pytest.mark.parametrize("case", BOOL_CASES, ids=case_id)
def test_the_boolean_walk_accepts_true_and_false(case):
    _, param, call = case
    for value in (True, False, np.True_):
        call(**{param: value})


@pytest.mark.parametrize("plot", [curve_plot, agglomerative_plot, gaussian_plot])
@pytest.mark.parametrize("bad", [None, 1, 0.5])
def test_legend_is_a_bool_or_a_location(plot, bad):
    with pytest.raises(InvalidParameterError, match=r"^legend must be True, False or a"):
        plot(legend=bad)


# --------------------------------------------------------------------------- objects


def test_training_refuses_a_model_that_is_not_a_module():
    pytest.importorskip("torch")
    from ibkit.nn import evaluate, fit

    for call in (
        lambda: fit("mlp", X, LABELS, epochs=1),
        lambda: evaluate(np.eye(2), X, LABELS),
    ):
        with pytest.raises(
            InvalidParameterError,
            match=r"^model must be an MLP, an EnsembleMLP or a torch.nn.Module classifier",
        ):
            call()

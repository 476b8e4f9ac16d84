r"""Information planes with known truth: networks whose layer information is exact.

Every value on an information plane is an estimator's value, so the plane alone cannot
say which estimator is right. Two networks have exact layer information at every
epoch, and :func:`ground_truth_plane` records them with the chosen estimators, putting
the truth beside every estimate.

``kind="linear"`` — a deep linear student with Gaussian noise after each layer, trained
on a noisy linear teacher (the student–teacher setting of Saxe et al. 2018):

.. math::

    X \sim \mathcal N(0, I), \quad Y = W^* X + \varepsilon, \quad
    T_l = W_l T_{l-1} + \xi_l, \quad T_0 = X, \quad
    \xi_l \sim \mathcal N(0, \sigma^2 I), \quad \varepsilon \sim \mathcal N(0, \sigma_y^2 I).

The teacher reads only the first ``n_relevant`` inputs; the others are task-irrelevant.
:math:`(X, T_1, \dots, T_L, Y)` is jointly Gaussian, each block a linear map of the
independent sources :math:`(X, \xi_1, \dots, \xi_L, \varepsilon)`, so every information
is a difference of log-determinants of the covariance built from the weights
(:func:`linear_layer_information`),

.. math::

    I(A;B) = \tfrac12 \big(\log\det\Sigma_{AA} + \log\det\Sigma_{BB}
    - \log\det\Sigma_{[AB]}\big),

which gives :math:`I(X;T_l) = \tfrac12\log\det\operatorname{Cov}(T_l) -
\tfrac12\log\det\operatorname{Cov}(T_l \mid X)`, :math:`I(T_l;Y)`, and the information
about the relevant and the irrelevant inputs, :math:`I(X_{rel};T_l)` and
:math:`I(X_{irr};T_l)`. The student minimises the expected squared error of its noisy
output by full-batch gradient descent (the noise averaged out in closed form, see
:class:`LinearNetwork`). X and Y are continuous, so the estimators are those of MI
between continuous samples (``gaussian``, ``ksg``, the neural ones), run at every
recorded epoch on fresh samples of :math:`(X, T_l, Y)` drawn through the noisy network.

``kind="quantized"`` — the 12-bit task with every hidden activation quantised to
:math:`k` bits (``MLP(..., quantize_bits=k)``, Lorenzen, Igel & Nielsen 2022). Each
hidden layer is then a deterministic function of :math:`X` with finitely many values
on the 4096 inputs, so :math:`I(X;T) = H(T)` and :math:`I(T;Y)` are exact sums over the
joint of :math:`(T, Y)` under the task's :math:`p(x, y)`
(:func:`discrete_layer_information`). The network is recorded with the
:class:`~ibkit.nn.InformationPlane` and the plane estimators (binning, KDE, ...).

In both kinds :math:`X \to T_1 \to \dots \to T_L` is a Markov chain, so the true values
obey the data-processing inequality: :math:`I(X;T_l)` and :math:`I(T_l;Y)` never
increase along the layers.

References
----------
A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.

S. S. Lorenzen, C. Igel, M. Nielsen, "Information bottleneck: exact analysis of
(quantized) neural networks", ICLR 2022.

T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., 2006, §8.4
(Gaussian entropy) and §2.8 (data-processing inequality).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from ibkit._validation import (
    InvalidParameterError,
    Progress,
    check_array,
    check_callback,
    check_int,
    check_positive,
    check_probabilities,
    check_random_state,
    check_units,
    from_nats,
    pandas_module,
)
from ibkit.measures import entropy_nats, mutual_information_nats
from ibkit.study.plane_study import PLANE_ESTIMATORS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GroundTruthPlane",
    "LinearNetwork",
    "LinearSetting",
    "QuantizedSetting",
    "discrete_layer_information",
    "ground_truth_plane",
    "linear_layer_information",
]

#: Estimators recorded by default, per kind (labels -> (method, parameters)).
DEFAULT_ESTIMATORS: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "linear": {"gaussian": ("gaussian", {}), "ksg": ("ksg", {})},
    "quantized": {
        "plugin": ("plugin", {}),
        **{label: PLANE_ESTIMATORS[label] for label in ("bin30[-1:1]", "kde1e-3")},
    },
}

#: Estimate -> the exact-value column beside it (the last two on the linear plane only).
TRUTH_COLUMNS = {
    "i_xt": "i_xt_true",
    "i_ty": "i_ty_true",
    "i_xt_rel": "i_xt_rel_true",
    "i_xt_irr": "i_xt_irr_true",
}


# ---------------------------------------------------------------------------
# exact information


def _gaussian_mi_nats(maps_a: np.ndarray, maps_b: np.ndarray, source_cov: np.ndarray) -> float:
    """I(A;B) in nats for A = maps_a S, B = maps_b S with S ~ N(0, source_cov)."""
    if maps_a.shape[0] == 0 or maps_b.shape[0] == 0:
        return 0.0
    joint = np.vstack([maps_a, maps_b])
    cov = joint @ source_cov @ joint.T
    k = maps_a.shape[0]

    def logdet(c: np.ndarray) -> float:
        return 2.0 * float(np.log(np.diag(np.linalg.cholesky(c))).sum())

    return 0.5 * (logdet(cov[:k, :k]) + logdet(cov[k:, k:]) - logdet(cov))


def linear_layer_information(
    weights: Sequence[Any],
    teacher: Any,
    *,
    noise_variance: float,
    teacher_noise: float,
    n_relevant: int | None = None,
    input_cov: Any = None,
    units: str = "bits",
) -> pd.DataFrame:
    r"""Exact information of every layer of a noisy deep linear network.

    The network is :math:`T_l = W_l T_{l-1} + \xi_l` with :math:`T_0 = X \sim \mathcal
    N(0, \Sigma_x)` and :math:`\xi_l \sim \mathcal N(0, \sigma^2 I)`; the target is
    :math:`Y = W^* X + \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, \sigma_y^2 I)`.
    Writing every variable as a linear map :math:`M_V` of the independent sources
    :math:`S = (X, \xi_1, \dots, \xi_L, \varepsilon)` with block-diagonal covariance
    :math:`\Sigma_S` (so :math:`M_{T_l} = W_l M_{T_{l-1}} + E_{\xi_l}`), the joint
    covariance of any two blocks is :math:`M \Sigma_S M^\top` and

    .. math::

        I(A;B) = \tfrac12\big(\log\det\Sigma_{AA} + \log\det\Sigma_{BB} -
        \log\det\Sigma_{[AB]}\big)

    (Cover & Thomas 2006, §8.4), the log-determinants from Cholesky factors.

    Parameters
    ----------
    weights : sequence of array_like
        :math:`W_1, \dots, W_L`, shapes :math:`(d_l, d_{l-1})` with :math:`d_0` the input
        width (the hidden layers; a readout after :math:`T_L` does not enter).
    teacher : array_like, shape (d_y, d_0)
        :math:`W^*`.
    noise_variance : float
        :math:`\sigma^2 > 0`, the variance of every unit's noise.
    teacher_noise : float
        :math:`\sigma_y^2 > 0`, the variance of each target's noise.
    n_relevant : int, optional
        The first ``n_relevant`` inputs are :math:`X_{rel}`, the others :math:`X_{irr}`
        (default: all inputs relevant, :math:`I(X_{irr};T) = 0`).
    input_cov : array_like, shape (d_0, d_0), optional
        :math:`\Sigma_x`, symmetric positive definite (default: the identity).
    units : {"bits", "nats"}

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer`` (``"T1"``, ...), ``layer_index`` (0-based),
        ``width``, ``i_xt`` = :math:`I(X;T_l)`, ``i_ty`` = :math:`I(T_l;Y)`,
        ``i_xt_rel`` = :math:`I(X_{rel};T_l)`, ``i_xt_irr`` = :math:`I(X_{irr};T_l)`,
        ``units``. ``i_xt`` and ``i_ty`` never increase down the rows (data processing).

    Examples
    --------
    One layer, one unit: :math:`I(X;T) = \tfrac12\log_2(1 + w^2/\sigma^2)`.

    >>> info = linear_layer_information([[[3.0]]], [[1.0]], noise_variance=1.0,
    ...                                 teacher_noise=1.0)
    >>> round(float(info.i_xt[0]), 6) == round(0.5 * math.log2(10.0), 6)
    True
    """
    pd = pandas_module("linear_layer_information")
    units = check_units(units)
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
        raise InvalidParameterError(
            "weights must be a non-empty list of 2-D arrays W_1, ..., W_L (one per layer)"
        )
    ws = [check_array(w, f"weights[{i}]", ndim=2) for i, w in enumerate(weights)]
    for i in range(1, len(ws)):
        if ws[i].shape[1] != ws[i - 1].shape[0]:
            raise InvalidParameterError(
                f"weights[{i}] has shape {ws[i].shape} but weights[{i - 1}] has "
                f"{ws[i - 1].shape[0]} rows; W_l must be (d_l, d_(l-1))"
            )
    d_x = ws[0].shape[1]
    w_star = check_array(teacher, "teacher", ndim=2)
    if w_star.shape[1] != d_x:
        raise InvalidParameterError(
            f"teacher must have shape (d_y, {d_x}) (one column per input); got {w_star.shape}"
        )
    sigma2 = check_positive(noise_variance, "noise_variance")
    sigma_y2 = check_positive(teacher_noise, "teacher_noise")
    n_rel = d_x if n_relevant is None else check_int(n_relevant, "n_relevant", minimum=0)
    if n_rel > d_x:
        raise InvalidParameterError(
            f"n_relevant must be at most the number of inputs ({d_x}); got {n_rel}"
        )
    cov_x = np.eye(d_x) if input_cov is None else _check_cov(input_cov, d_x)

    widths = [w.shape[0] for w in ws]
    dims = [d_x, *widths, w_star.shape[0]]
    starts = np.concatenate([[0], np.cumsum(dims)])
    source_cov = np.zeros((starts[-1], starts[-1]))
    variances = [sigma2] * len(ws) + [sigma_y2]
    source_cov[:d_x, :d_x] = cov_x
    for k, var in enumerate(variances, start=1):
        block = slice(starts[k], starts[k + 1])
        source_cov[block, block] = var * np.eye(dims[k])

    def source(k: int) -> np.ndarray:
        """The map that picks source block k."""
        m = np.zeros((dims[k], starts[-1]))
        m[:, starts[k] : starts[k + 1]] = np.eye(dims[k])
        return m

    x_map = source(0)
    y_map = w_star @ x_map + source(len(dims) - 1)
    rows, t_map = [], x_map
    for layer, w in enumerate(ws, start=1):
        t_map = w @ t_map + source(layer)
        nats = [
            _gaussian_mi_nats(x_map, t_map, source_cov),
            _gaussian_mi_nats(t_map, y_map, source_cov),
            _gaussian_mi_nats(x_map[:n_rel], t_map, source_cov),
            _gaussian_mi_nats(x_map[n_rel:], t_map, source_cov),
        ]
        rows.append(
            (f"T{layer}", layer - 1, w.shape[0], *(float(from_nats(v, units)) for v in nats))
        )
    frame = pd.DataFrame(
        rows, columns=["layer", "layer_index", "width", "i_xt", "i_ty", "i_xt_rel", "i_xt_irr"]
    )
    frame["units"] = units
    return frame


def _check_cov(cov: Any, d: int) -> np.ndarray:
    """``cov`` as a symmetric positive definite (d, d) array, else raise."""
    arr = check_array(cov, "input_cov", ndim=2)
    if arr.shape != (d, d) or not np.allclose(arr, arr.T, rtol=1e-12, atol=1e-12):
        raise InvalidParameterError(
            f"input_cov must be a symmetric ({d}, {d}) matrix; got shape {arr.shape}"
            + ("" if arr.shape != (d, d) else " that is not symmetric")
        )
    try:
        np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        raise InvalidParameterError(
            f"input_cov must be positive definite; its smallest eigenvalue is "
            f"{np.linalg.eigvalsh(arr)[0]:.3g}"
        ) from None
    return arr


def discrete_layer_information(
    activations: Mapping[str, Any], p_xy: Any, *, units: str = "bits"
) -> pd.DataFrame:
    r"""Exact information of deterministic layers with finitely many values.

    Row :math:`i` of each layer's activations is :math:`T(x_i)` for input :math:`x_i`,
    which has probability :math:`p(x_i) = \sum_y p(x_i, y)`. Equal rows are one value
    :math:`t` of :math:`T`, so :math:`p(t, y) = \sum_{i:\,T(x_i) = t} p(x_i, y)` and,
    :math:`T` being a function of :math:`X`,

    .. math:: I(X;T) = H(T) = -\sum_t p(t)\log p(t), \qquad
              I(T;Y) = \sum_{t,y} p(t,y) \log\frac{p(t,y)}{p(t)p(y)}.

    These are the exact values for a quantised network on a finite input set (Lorenzen,
    Igel & Nielsen 2022), not estimates: rows are compared exactly, so pass the layer's
    own values (a quantised layer's are exact levels).

    Parameters
    ----------
    activations : mapping of str to array_like
        Layer name -> activations, shape (n, ...) (flattened per row), row i for input i.
    p_xy : array_like, shape (n, |Y|)
        The joint of the inputs and the target (e.g. ``tishby_12bit().p_xy``).
    units : {"bits", "nats"}

    Returns
    -------
    pandas.DataFrame
        One row per layer in the given order: ``layer``, ``layer_index``, ``width``,
        ``n_values`` (distinct values of :math:`T` with :math:`p(t) > 0`), ``i_xt``,
        ``i_ty``, ``units``.

    Examples
    --------
    >>> p_xy = np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.25], [0.0, 0.25]])
    >>> t = np.array([[0.0], [0.0], [1.0], [-1.0]])  # merges the first two inputs
    >>> discrete_layer_information({"t": t}, p_xy)[["n_values", "i_xt", "i_ty"]]
       n_values  i_xt  i_ty
    0         3   1.5   1.0
    """
    pd = pandas_module("discrete_layer_information")
    units = check_units(units)
    joint = check_probabilities(p_xy, "p_xy", ndim=2)
    if not isinstance(activations, Mapping) or not activations:
        raise InvalidParameterError(
            "activations must be a non-empty dict layer name -> (n, ...) array"
        )
    rows = []
    for index, (name, values) in enumerate(activations.items()):
        t = np.atleast_1d(check_array(values, f"activations[{name!r}]"))
        if t.shape[0] != joint.shape[0]:
            raise InvalidParameterError(
                f"activations[{name!r}] has {t.shape[0]} rows but p_xy has {joint.shape[0]} "
                "inputs; pass one row per input, in the order of p_xy"
            )
        t = t.reshape(t.shape[0], -1)
        _, inverse = np.unique(t, axis=0, return_inverse=True)
        p_ty = np.zeros((int(inverse.max()) + 1, joint.shape[1]))
        np.add.at(p_ty, inverse.reshape(-1), joint)
        p_t = p_ty.sum(axis=1)
        rows.append(
            (
                name,
                index,
                t.shape[1],
                int((p_t > 0).sum()),
                float(from_nats(entropy_nats(p_t), units)),
                float(from_nats(mutual_information_nats(p_ty), units)),
                units,
            )
        )
    columns = ["layer", "layer_index", "width", "n_values", "i_xt", "i_ty", "units"]
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------------------
# the two settings


class _Setting:
    """What the settings of both kinds share."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (tuples as lists)."""
        return json.loads(json.dumps(asdict(self)))


@dataclass(frozen=True)
class LinearSetting(_Setting):
    r"""The deep linear student–teacher network with noisy layers (``kind="linear"``).

    Attributes
    ----------
    n_relevant, n_irrelevant : int
        Inputs the teacher reads (≥ 1) and inputs it ignores (≥ 0); all are independent
        standard normals.
    n_outputs : int
        Width of :math:`Y`.
    hidden : tuple of int
        Widths of the noisy hidden layers :math:`T_1, \dots, T_L`.
    noise_variance : float
        :math:`\sigma^2` of the noise after every hidden layer.
    teacher_noise : float
        :math:`\sigma_y^2` of the noise of the targets.
    n_train : int
        Training pairs drawn from the teacher (few make the irrelevant inputs matter).
    epochs : int
        Full-batch gradient steps.
    lr : float
        Learning rate.
    n_samples : int
        Samples of :math:`(X, T_l, Y)` drawn at each recorded epoch for the estimators.
    task_seed : int
        Seed of the teacher and the training set (the same for every network seed).
    """

    n_relevant: int = 4
    n_irrelevant: int = 8
    n_outputs: int = 2
    hidden: tuple[int, ...] = (8, 6, 4)
    noise_variance: float = 0.2
    teacher_noise: float = 0.25
    n_train: int = 64
    epochs: int = 2000
    lr: float = 0.05
    n_samples: int = 1000
    task_seed: int = 0

    def __post_init__(self) -> None:
        _check_hidden(self)
        check_int(self.n_relevant, "n_relevant")
        check_int(self.n_irrelevant, "n_irrelevant", minimum=0)
        check_int(self.n_outputs, "n_outputs")
        check_positive(self.noise_variance, "noise_variance")
        check_positive(self.teacher_noise, "teacher_noise")
        check_int(self.n_train, "n_train")
        check_int(self.epochs, "epochs")
        check_positive(self.lr, "lr")
        check_int(self.n_samples, "n_samples", minimum=2)
        check_int(self.task_seed, "task_seed", minimum=0)


@dataclass(frozen=True)
class QuantizedSetting(_Setting):
    """The 12-bit task with quantised hidden activations (``kind="quantized"``).

    Attributes
    ----------
    hidden : tuple of int
        Hidden widths (12 inputs and 2 softmax outputs around them).
    activation : str
        A bounded activation of :data:`ibkit.nn.mlp.QUANTIZED_RANGES` (tanh: [−1, 1]).
    quantize_bits : int
        Bits per unit: :math:`2^k` levels (8 in Lorenzen et al. 2022).
    epochs, optimizer, lr, batch_size
        Training settings of :func:`ibkit.nn.fit`.
    train_size, split_seed : float, int
        Fraction of the 4096 patterns used for training, and the seed of the split.
    """

    hidden: tuple[int, ...] = (10, 7, 5, 4, 3)
    activation: str = "tanh"
    quantize_bits: int = 8
    epochs: int = 1000
    optimizer: str = "adam"
    lr: float = 4e-4
    batch_size: int = 256
    train_size: float = 0.85
    split_seed: int = 0

    def __post_init__(self) -> None:
        from ibkit.nn.mlp import check_quantize_bits
        from ibkit.nn.training import OPTIMIZERS

        _check_hidden(self)
        check_quantize_bits(self.quantize_bits, self.activation)
        check_int(self.epochs, "epochs")
        if self.optimizer not in OPTIMIZERS:
            raise InvalidParameterError(
                f"optimizer must be one of {list(OPTIMIZERS)}; got {self.optimizer!r}"
            )
        check_positive(self.lr, "lr")
        check_int(self.batch_size, "batch_size")
        if check_positive(self.train_size, "train_size") >= 1:
            raise InvalidParameterError(
                f"train_size must be a fraction strictly between 0 and 1; got {self.train_size!r}"
            )
        check_int(self.split_seed, "split_seed", minimum=0)


def _check_hidden(setting: Any) -> None:
    hidden = setting.hidden
    if isinstance(hidden, str) or not isinstance(hidden, Sequence) or not hidden:
        raise InvalidParameterError(
            f"hidden must be a non-empty sequence of layer widths; got {hidden!r}"
        )
    for i, width in enumerate(hidden):
        check_int(width, f"hidden[{i}]")
    object.__setattr__(setting, "hidden", tuple(int(w) for w in hidden))


#: kind -> its settings class
SETTINGS: dict[str, type[LinearSetting] | type[QuantizedSetting]] = {
    "linear": LinearSetting,
    "quantized": QuantizedSetting,
}


# ---------------------------------------------------------------------------
# the linear network


@dataclass(frozen=True, eq=False)
class LinearNetwork:
    r"""A noisy deep linear student, its readout and its teacher, at one moment of training.

    Attributes
    ----------
    weights : tuple of ndarray
        :math:`W_1, \dots, W_L`, shapes :math:`(d_l, d_{l-1})`; :math:`T_l = W_l T_{l-1}
        + \xi_l`, :math:`\xi_l \sim \mathcal N(0, \sigma^2 I)`.
    readout : ndarray, shape (d_y, d_L)
        The prediction :math:`\hat Y = W_{out} T_L`.
    teacher : ndarray, shape (d_y, d_0)
        :math:`W^*`: :math:`Y = W^* X + \varepsilon`, zero on the irrelevant inputs.
    noise_variance, teacher_noise : float
        :math:`\sigma^2` and :math:`\sigma_y^2`.
    n_relevant : int
        The first ``n_relevant`` inputs are the relevant ones.

    Notes
    -----
    :math:`\hat Y = M X + \sum_l B_l \xi_l` with :math:`M = W_{out} W_L \cdots W_1` and
    :math:`B_l = W_{out} W_L \cdots W_{l+1}`, so the expected squared error over the
    noise of a pair :math:`(x, y)` is :math:`\lVert Mx - y\rVert^2 + \sigma^2 \sum_l
    \lVert B_l \rVert_F^2`, the objective of the training (:func:`ground_truth_plane`).
    """

    weights: tuple[np.ndarray, ...]
    readout: np.ndarray
    teacher: np.ndarray
    noise_variance: float
    teacher_noise: float
    n_relevant: int

    def sample(
        self, n: int, random_state: Any = None
    ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """Draw ``n`` samples ``(x, [t_1, ..., t_L], y)`` through the noisy network.

        ``x`` is (n, d_0) standard normal, ``t_l`` = ``t_(l-1) @ W_l.T`` plus noise of
        variance :math:`\\sigma^2`, ``y`` = ``x @ teacher.T`` plus noise of variance
        :math:`\\sigma_y^2`.
        """
        n = check_int(n, "n")
        rng = check_random_state(random_state)
        x = rng.standard_normal((n, self.teacher.shape[1]))
        layers, t = [], x
        for w in self.weights:
            t = t @ w.T + math.sqrt(self.noise_variance) * rng.standard_normal((n, w.shape[0]))
            layers.append(t)
        y = x @ self.teacher.T
        y = y + math.sqrt(self.teacher_noise) * rng.standard_normal(y.shape)
        return x, layers, y

    def information(self, units: str = "bits") -> pd.DataFrame:
        """The exact information of every layer (:func:`linear_layer_information`)."""
        return linear_layer_information(
            list(self.weights),
            self.teacher,
            noise_variance=self.noise_variance,
            teacher_noise=self.teacher_noise,
            n_relevant=self.n_relevant,
            units=units,
        )


def _linear_task(setting: LinearSetting) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The teacher :math:`W^*` (zero on the irrelevant inputs) and the training pairs."""
    rng = np.random.default_rng(setting.task_seed)
    n_rel, n_out = setting.n_relevant, setting.n_outputs
    teacher = np.zeros((n_out, n_rel + setting.n_irrelevant))
    teacher[:, :n_rel] = rng.standard_normal((n_out, n_rel)) / math.sqrt(n_rel)
    x = rng.standard_normal((setting.n_train, teacher.shape[1]))
    y = x @ teacher.T + math.sqrt(setting.teacher_noise) * rng.standard_normal((x.shape[0], n_out))
    return teacher, x, y


def _expected_loss(params: list[Any], x: Any, y: Any, noise_variance: float) -> Any:
    """Mean over the pairs of the expected ‖Ŷ − y‖² of the noisy linear network."""
    b = params[-1]
    noise = 0.0
    for w in reversed(params[:-1]):
        noise = noise + (b * b).sum()
        b = b @ w
    return ((x @ b.T - y) ** 2).sum(dim=1).mean() + noise_variance * noise


def _train_linear(
    setting: LinearSetting, seed: int, x: np.ndarray, y: np.ndarray
) -> Iterator[tuple[int, float, tuple[np.ndarray, ...]]]:
    """Yield ``(epoch, loss, weights)`` before training and after each gradient step.

    The weights ``W_1, ..., W_L, W_out`` start as :class:`~ibkit.nn.MLP`'s (truncated
    normal, seeded) and follow full-batch gradient descent on half the expected loss.
    """
    import torch

    from ibkit.nn.mlp import draw_linear, seeded_generator
    from ibkit.nn.training import torch_threads

    generator = seeded_generator(seed)
    widths = (x.shape[1], *setting.hidden, y.shape[1])
    params = [
        draw_linear(i, o, "truncated_normal", generator)[0].double().requires_grad_()
        for i, o in zip(widths[:-1], widths[1:], strict=True)
    ]
    opt = torch.optim.SGD(params, lr=setting.lr)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    with torch_threads(1):
        for epoch in range(setting.epochs + 1):
            if epoch > 0:
                opt.zero_grad(set_to_none=True)
                (0.5 * _expected_loss(params, x_t, y_t, setting.noise_variance)).backward()
                opt.step()
            with torch.no_grad():
                loss = float(_expected_loss(params, x_t, y_t, setting.noise_variance))
            yield epoch, loss, tuple(p.detach().numpy().copy() for p in params)


def _linear_runs(
    setting: LinearSetting,
    estimators: Mapping[str, Any],
    seeds: tuple[int, ...],
    n_points: int,
    units: str,
    random_state: int,
    progress: Progress | None,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[LinearNetwork, ...]]:
    """Train one linear student per seed on one teacher; record truth and estimates."""
    from ibkit.nn.plane import COLUMNS
    from ibkit.nn.schedule import EpochSchedule

    pd = pandas_module("ground_truth_plane")
    teacher, x_train, y_train = _linear_task(setting)
    schedule = EpochSchedule("log", n_epochs=setting.epochs + 1, n_points=n_points)
    frames, history, finals = [], [], []
    for member, seed in enumerate(seeds):
        for epoch, loss, weights in _train_linear(setting, seed, x_train, y_train):
            history.append((epoch, seed, loss))
            net = LinearNetwork(
                weights[:-1],
                weights[-1],
                teacher,
                setting.noise_variance,
                setting.teacher_noise,
                setting.n_relevant,
            )
            if schedule(epoch):
                rng = np.random.default_rng([random_state, seed, epoch])
                frame = _linear_points(net, estimators, setting.n_samples, units, rng)
                frame.insert(0, "run", "linear")
                frame.insert(1, "seed", seed)
                frame.insert(2, "member", member)
                frame.insert(3, "epoch", epoch)
                frames.append(frame.assign(activation="linear", train_loss=loss))
            if progress is not None and epoch > 0:
                progress(member * setting.epochs + epoch, len(seeds) * setting.epochs)
        finals.append(net)
    extra = ["i_xt_rel", "i_xt_irr", *TRUTH_COLUMNS.values()]
    results = pd.concat(frames, ignore_index=True)[[*COLUMNS, "activation", "train_loss", *extra]]
    return results, pd.DataFrame(history, columns=["epoch", "seed", "train_loss"]), tuple(finals)


def _linear_points(
    net: LinearNetwork,
    estimators: Mapping[str, Any],
    n_samples: int,
    units: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per layer and estimator: the estimates on fresh samples, their
    diagnostics, and the truth."""
    from ibkit.nn.plane import DIAGNOSTIC_COLUMNS, _diagnostic_values

    pd = pandas_module("ground_truth_plane")
    truth = net.information(units).rename(columns=TRUTH_COLUMNS)
    x, layers, y = net.sample(n_samples, rng)
    inputs = {"i_xt": x, "i_xt_rel": x[:, : net.n_relevant], "i_xt_irr": x[:, net.n_relevant :]}
    rows = []
    for index, t in enumerate(layers):
        for label, est in estimators.items():
            values = {
                column: est.estimate(a, t, units=units, random_state=rng) if a.shape[1] else None
                for column, a in inputs.items()
            }
            values["i_ty"] = est.estimate(t, y, units=units, random_state=rng)
            xt, ty = values["i_xt"], values["i_ty"]
            bounds = [np.nan if v is None else v for v in (xt.lower, xt.upper, ty.lower, ty.upper)]
            estimates = [np.nan if v is None else v.value for v in values.values()]
            diagnostics = _diagnostic_values(xt, ty)
            rows.append((index, False, label, *estimates, *bounds, units, *diagnostics))
    columns = ["layer_index", "is_output", "estimator", *inputs, "i_ty"]
    columns += ["i_xt_lower", "i_xt_upper", "i_ty_lower", "i_ty_upper", "units"]
    columns += DIAGNOSTIC_COLUMNS
    points = pd.DataFrame(rows, columns=columns)
    return truth.drop(columns="units").merge(points, on="layer_index", validate="one_to_many")


# ---------------------------------------------------------------------------
# the quantised network


def _quantized_runs(
    setting: QuantizedSetting,
    estimators: Any,
    seeds: tuple[int, ...],
    n_points: int,
    units: str,
    random_state: int,
    progress: Progress | None,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[Any, ...]]:
    """Train an ensemble of quantised MLPs on the 12-bit task; record truth and estimates."""
    import torch

    from ibkit.datasets import tishby_12bit, train_test_split
    from ibkit.nn import EnsembleMLP, InformationPlane, fit, torch_threads

    pd = pandas_module("ground_truth_plane")
    task = tishby_12bit()
    split = train_test_split(task.x, task.y, setting.train_size, random_state=setting.split_seed)
    model = EnsembleMLP(
        seeds,
        task.x.shape[1],
        hidden=setting.hidden,
        activation=setting.activation,
        quantize_bits=setting.quantize_bits,
    )
    plane = InformationPlane(
        model,
        task.x,
        task.y,
        estimators,
        output=None,
        schedule="log",
        n_epochs=setting.epochs + 1,
        n_points=n_points,
        units=units,
        run="quantized",
        labels={"activation": setting.activation},
        random_state=random_state,
    )
    probe = torch.as_tensor(task.x, dtype=torch.float32)
    truths = []

    def on_epoch(epoch: int) -> None:
        if plane.record(epoch) is None:
            return
        layers = _hidden_activations(model, probe, plane.layer_names)
        for member in range(len(seeds)):
            frame = discrete_layer_information(
                {name: a[member] for name, a in layers.items()}, task.p_xy, units=units
            )
            truths.append(frame.assign(epoch=epoch, member=member))

    with plane, torch_threads(1):
        history = fit(
            model,
            split.x_train,
            split.y_train,
            epochs=setting.epochs,
            batch_size=setting.batch_size,
            optimizer=setting.optimizer,
            lr=setting.lr,
            random_state=random_state,
            x_test=split.x_test,
            y_test=split.y_test,
            on_epoch=on_epoch,
            progress=progress,
        )
    truth = pd.concat(truths, ignore_index=True)[["epoch", "member", "layer", "i_xt", "i_ty"]]
    history_frame = history.to_frame()
    results = plane.results.merge(
        history_frame[["epoch", "seed", "train_loss"]].astype({"seed": "int64"}),
        on=["epoch", "seed"],
        how="left",
        validate="many_to_one",
    ).merge(
        truth.rename(columns=TRUTH_COLUMNS),
        on=["epoch", "member", "layer"],
        how="left",
        validate="many_to_one",
    )
    return results, history_frame, tuple(model.member(s) for s in range(len(seeds)))


def _hidden_activations(model: Any, x: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The outputs of the children ``names`` of a sequential model on ``x``, as numpy."""
    import torch

    was_training = model.training
    model.eval()
    out = {}
    try:
        with torch.no_grad():
            h = x
            for name, module in model.named_children():
                h = module(h)
                if name in names:
                    out[name] = h.numpy().copy()
    finally:
        model.train(was_training)
    return out


# ---------------------------------------------------------------------------
# the entry point


@dataclass(frozen=True, eq=False)
class GroundTruthPlane:
    """An information plane recorded beside its exact values.

    Attributes
    ----------
    kind : {"linear", "quantized"}
    setting : LinearSetting or QuantizedSetting
    results : pandas.DataFrame
        The recorder's columns (``run, seed, member, epoch, layer, layer_index,
        is_output, width, estimator, i_xt, i_ty, i_xt_lower, i_xt_upper, i_ty_lower,
        i_ty_upper, units`` and the point's diagnostics ``at_ceiling, negative,
        singleton_share, bound_gap, std_error``; see :func:`ibkit.nn.plane_points`), then
        ``activation``, ``train_loss`` and the exact values
        ``i_xt_true``, ``i_ty_true``; ``kind="linear"`` also has the estimates and exact
        values of the information about the relevant and irrelevant inputs,
        ``i_xt_rel, i_xt_irr, i_xt_rel_true, i_xt_irr_true`` (NaN estimates without
        irrelevant inputs). One row per seed, recorded epoch, hidden layer and estimator.
    history : pandas.DataFrame
        ``epoch, seed, train_loss`` (and for ``"quantized"`` the accuracies and test
        loss of :func:`ibkit.nn.fit`) after every epoch.
    models : tuple
        The trained network of each seed: :class:`LinearNetwork` or
        :class:`~ibkit.nn.MLP`.
    """

    kind: str
    setting: LinearSetting | QuantizedSetting
    results: Any
    history: Any
    models: tuple[Any, ...]

    def to_frame(self) -> pd.DataFrame:
        """The results table."""
        return self.results

    def to_dict(self) -> dict[str, Any]:
        """``kind``, ``setting`` and the ``results`` and ``history`` tables (column ->
        list of values), in plain Python; the models are left out."""
        return {
            "kind": self.kind,
            "setting": self.setting.to_dict(),
            "results": {c: self.results[c].tolist() for c in self.results},
            "history": {c: self.history[c].tolist() for c in self.history},
        }


def ground_truth_plane(
    kind: str,
    *,
    estimators: Any = None,
    seeds: Sequence[int] = (0, 1, 2),
    n_points: int = 20,
    units: str = "bits",
    random_state: int = 0,
    progress: Progress | None = None,
    **settings: Any,
) -> GroundTruthPlane:
    """Train networks whose layer information is known, and record it with estimators.

    Parameters
    ----------
    kind : {"linear", "quantized"}
        The noisy deep linear student–teacher network (:class:`LinearSetting`) or the
        quantised network on the 12-bit task (:class:`QuantizedSetting`); see the module
        documentation for the truth of each.
    estimators : names, MIEstimator objects, or dict label -> either, optional
        ``"linear"``: estimators of MI between continuous samples (``gaussian``, ``ksg``,
        ``infonce``, ``mine``, ``nwj``), each run on the fresh samples of every recorded
        epoch. ``"quantized"``: plane estimators as for :class:`~ibkit.nn.InformationPlane`
        (``binning``, ``plugin``, ``kde``, ``noisy_mc``). Default:
        :data:`DEFAULT_ESTIMATORS` of the kind.
    seeds : sequence of int
        Network seeds (distinct, ≥ 0): initial weights and, for ``"quantized"``, the
        order of the minibatches.
    n_points : int
        Log-spaced epochs recorded, the first (before training) and last included.
    units : {"bits", "nats"}
    random_state : int
        Seeds the samples of ``"linear"`` and the estimators' random numbers.
    progress : callable(done, total), optional
        Called after every training epoch.
    **settings
        Fields of the kind's settings class (e.g. ``epochs=200, hidden=(4, 3)``).

    Returns
    -------
    GroundTruthPlane
        ``results`` holds every estimate with ``i_xt_true`` and ``i_ty_true`` beside it.

    Examples
    --------
    >>> gt = ground_truth_plane("linear", estimators=["gaussian"], seeds=[0], n_points=2,
    ...                         epochs=5, n_samples=20000)
    >>> r = gt.results
    >>> bool((r.i_xt - r.i_xt_true).abs().max() < 0.1)  # Gaussian estimator, Gaussian truth
    True
    """
    if kind not in SETTINGS:
        raise InvalidParameterError(f"kind must be one of {list(SETTINGS)}; got {kind!r}")
    setting_class = SETTINGS[kind]
    known = [f.name for f in fields(setting_class)]
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise InvalidParameterError(
            f"kind={kind!r} has no setting {unknown}; its settings are {known}"
        )
    setting = setting_class(**settings)
    seeds = _check_seeds(seeds)
    n_points = check_int(n_points, "n_points", minimum=2)
    units = check_units(units)
    random_state = check_int(random_state, "random_state", minimum=0)
    progress = check_callback(progress, "progress")
    chosen = DEFAULT_ESTIMATORS[kind] if estimators is None else estimators
    if kind == "linear":
        resolved = _continuous_estimators(chosen)
        results, history, models = _linear_runs(
            setting, resolved, seeds, n_points, units, random_state, progress
        )
    else:
        results, history, models = _quantized_runs(
            setting, chosen, seeds, n_points, units, random_state, progress
        )
    return GroundTruthPlane(kind, setting, results, history, models)


def _check_seeds(seeds: Any) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise InvalidParameterError(
            f"seeds must be a non-empty sequence of integers; got {seeds!r}"
        )
    checked = tuple(check_int(s, "seeds", minimum=0) for s in seeds)
    if len(set(checked)) != len(checked):
        raise InvalidParameterError(f"seeds must be distinct; got {list(checked)}")
    return checked


def _continuous_estimators(estimators: Any) -> dict[str, Any]:
    """Resolve estimators for continuous X, T and Y; refuse the plane-only methods."""
    from ibkit.estimators import resolve_estimators

    resolved = resolve_estimators(estimators)
    plane_only = {label: est.name for label, est in resolved.items() if est.on_plane}
    if plane_only:
        raise InvalidParameterError(
            f"kind='linear' estimates I(X;T) and I(T;Y) from samples of continuous X, T and "
            f"Y, which the plane methods {plane_only} do not take (they need class labels "
            "and a deterministic layer); use estimators of MI between continuous samples: "
            "gaussian, ksg, infonce, mine or nwj, or kind='quantized' for plane methods"
        )
    return resolved

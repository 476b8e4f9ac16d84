"""The estimator protocol shared by every mutual-information estimator.

Each method is a small class registered under its name: the constructor only stores
its parameters (validated once), and :meth:`MIEstimator.estimate` turns samples into an
:class:`MIEstimate`. :func:`estimate_mi` is the one-call entry point; the names it
accepts are the same strings the command line and configuration files use.
"""

from __future__ import annotations

import abc
import importlib
import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ibkit._plain import plain
from ibkit._validation import (
    InvalidParameterError,
    check_array,
    check_random_state,
    check_real,
    check_units,
    from_nats,
)
from ibkit.estimators._xp import is_tensor, namespace, to_numpy
from ibkit.measures import entropy_nats

__all__ = [
    "CEILING_TOLERANCE_BITS",
    "NEGATIVE_TOLERANCE_BITS",
    "Diagnostics",
    "MIEstimate",
    "MIEstimator",
    "SaturationWarning",
    "Samples",
    "available_methods",
    "check_on_plane",
    "estimate_mi",
    "get_estimator",
    "plane_methods",
    "prepare_samples",
    "register",
    "resolve_estimators",
    "resolve_plane_estimators",
]

_REGISTRY: dict[str, type[MIEstimator]] = {}

#: Methods whose module is imported on first use (the neural ones need torch).
_LAZY_MODULES = {
    "mine": "ibkit.estimators.neural",
    "infonce": "ibkit.estimators.neural",
    "nwj": "ibkit.estimators.neural",
}

#: How close to its ceiling an estimate sits on it, in bits (0.01 bits; any units alike).
CEILING_TOLERANCE_BITS = 0.01

#: How far below 0 an estimate must lie to be flagged ``negative``, in bits: the
#: round-off of float32 kernel sums on a layer that carries nothing (about 1e-8 bits)
#: is not a negative estimate.
NEGATIVE_TOLERANCE_BITS = 1e-6


class Nats(NamedTuple):
    """An estimate in nats as a method computes it; None where the method has none.

    Methods may return a plain tuple ``(value, lower, upper, std_error)``; binning and
    plug-in estimators add the ``singleton_share`` of :class:`Diagnostics`.
    """

    value: float
    lower: float | None = None
    upper: float | None = None
    std_error: float | None = None
    singleton_share: float | None = None


class SaturationWarning(UserWarning):
    """An estimate sits at its ceiling: the estimator tells every sample apart, so the
    value reflects the number of samples, not the dependence (see :class:`Diagnostics`)."""


@dataclass(frozen=True)
class Diagnostics:
    r"""Whether an estimate can mean anything, from what the method computes anyway.

    Attributes
    ----------
    negative : bool
        The value is below 0 (by more than :data:`NEGATIVE_TOLERANCE_BITS`, 1e-6 bits,
        the round-off of the method's float32 sums), which mutual information never is:
        bias (Miller–Madow, KSG on independent data) or noise of the method.
    ceiling : float or None
        The largest value the method can give on these samples, in the estimate's units.
        Binning, plug-in and the noisy-layer methods (``kde``, ``noisy_mc``) estimate
        the MI of a discrete or noisy copy over ``n`` samples, which is at most the
        entropy of either side: the plug-in entropy :math:`\hat H(Y)` of discrete
        labels ``y`` (:math:`\log n` when all ``n`` are distinct; on the information
        plane, with ``y`` the input labels, :math:`\log_2` of the number of distinct
        probe inputs when each appears once), else :math:`\log n`. ``renyi``:
        :math:`\log \min(n, \text{batch\_size})`, the entropy of as many equal
        eigenvalues. None where the method has no ceiling (``ksg``, ``gaussian``, the
        neural methods).
    at_ceiling : bool
        The estimate (its upper bound, for methods that give bounds) is within
        :data:`CEILING_TOLERANCE_BITS` (0.01 bits) of ``ceiling``: the method tells every
        sample apart, so the value measures how many samples there are, not how much
        they depend on each other. For I(X;T) on the information plane: the layer's
        point cannot move, so it shows neither fitting nor compression. (For I(T;Y)
        with class labels the ceiling :math:`\hat H(Y)` is the truth's own maximum:
        reaching it means T predicts the labels of the samples perfectly.)
    bound_gap : float or None
        ``upper − lower``, for methods that give bounds (``kde``): how far apart the
        truth may lie.
    singleton_share : float or None
        Binning and plug-in: the share of the samples alone in their cell of ``x`` (on
        the plane, of the probe inputs alone in their cell of the layer; a repeated
        probe input is not alone). 1 goes with the ceiling.
    """

    negative: bool = False
    ceiling: float | None = None
    at_ceiling: bool = False
    bound_gap: float | None = None
    singleton_share: float | None = None


@dataclass(frozen=True, eq=False)
class MIEstimate:
    """A mutual-information estimate.

    Attributes
    ----------
    value : float
        The estimate (for bounding methods, the midpoint of ``lower`` and ``upper``).
    lower, upper : float or None
        Bounds, where the method gives them.
    std_error : float or None
        Standard error, where the method gives one (Monte Carlo methods).
    units : str
        ``"bits"`` or ``"nats"``.
    method : str
        The registered name of the estimator.
    params : dict
        The estimator's parameters.
    n_samples : int
        Number of samples used.
    diagnostics : Diagnostics
        Whether the value can mean anything: negative, at the method's ceiling, bounds
        apart, share of samples alone in their cell.
    """

    value: float
    lower: float | None
    upper: float | None
    std_error: float | None
    units: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    n_samples: int = 0
    diagnostics: Diagnostics = field(default_factory=Diagnostics)

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values (what ``json.dumps`` accepts)."""
        return plain(asdict(self))


@dataclass(frozen=True, eq=False)
class Samples:
    """Validated samples: ``x`` is (n, d_x) float64; ``y`` is (n, d_y) float64 or, when
    ``y_discrete``, (n,) integer labels recoded to 0..k−1 (a numpy array).

    ``x`` and a float ``y`` are torch tensors, on their device, where the estimator works
    on tensors (:attr:`MIEstimator.tensors`) and was given them; numpy arrays otherwise.
    """

    x: Any
    y: Any
    y_discrete: bool

    @property
    def n(self) -> int:
        return self.x.shape[0]


def prepare_samples(
    x: Any, y: Any, *, names: tuple[str, str] = ("x", "y"), tensors: bool = False
) -> Samples:
    """Validate two sample arrays with one row per sample.

    1-D arrays are single columns. A 1-D integer (or boolean) ``y`` is a discrete label
    and is recoded to 0..k−1 (on the host, whatever ``y`` was). ``names`` are the
    arguments' names in error messages. With ``tensors``, torch tensors stay tensors on
    their device (float64); without, they are copied to numpy first.
    """
    x_name, y_name = names
    if not tensors:
        x, y = to_numpy(x), to_numpy(y)
    y_labels = _labels_dtype(y)
    y_discrete = y_labels and np.ndim(y) == 1
    x_arr = _check_samples(x, x_name)
    if y_discrete:
        _, y_arr = np.unique(to_numpy(y), return_inverse=True)
        y_arr = y_arr.reshape(-1)
    else:
        y_arr = _check_samples(y, y_name)
        if is_tensor(x_arr) and not is_tensor(y_arr):  # both on the tensor's device
            y_arr = namespace(x_arr).from_host(y_arr)
        elif is_tensor(y_arr) and not is_tensor(x_arr):
            x_arr = namespace(y_arr).from_host(x_arr)
    if x_arr.shape[0] != y_arr.shape[0]:
        raise InvalidParameterError(
            f"{x_name} and {y_name} must have one row per sample; got {x_arr.shape[0]} and "
            f"{y_arr.shape[0]} rows"
        )
    return Samples(x=x_arr, y=y_arr, y_discrete=y_discrete)


def _labels_dtype(a: Any) -> bool:
    """Whether ``a`` holds integers or booleans (an array, tensor or anything numpy reads)."""
    if is_tensor(a):
        return not (a.dtype.is_floating_point or a.dtype.is_complex)
    kind = np.asarray(a).dtype
    return np.issubdtype(kind, np.integer) or np.issubdtype(kind, np.bool_)


def _check_samples(a: Any, name: str) -> Any:
    """``a`` as a finite float64 (n, d) array, or tensor on its device (1-D: one column)."""
    if not is_tensor(a):
        arr = check_array(a, name, ndim=(1, 2))
        return arr[:, None] if arr.ndim == 1 else arr
    check_real(a, name)
    if a.ndim not in (1, 2):
        raise InvalidParameterError(
            f"{name} must be 1-D or 2-D; got a tensor of shape {tuple(a.shape)}"
        )
    if a.numel() == 0:
        raise InvalidParameterError(
            f"{name} is empty (shape {tuple(a.shape)}); pass at least one entry"
        )
    arr = a.detach().double()
    n_bad = int((~arr.isfinite()).sum())
    if n_bad:
        raise InvalidParameterError(
            f"{name} has {n_bad} NaN or infinite entries; pass finite numbers"
        )
    return arr[:, None] if arr.ndim == 1 else arr


class MIEstimator(abc.ABC):
    """Base class: configure once, then call :meth:`estimate` as often as needed.

    Subclasses set ``name``, validate their parameters in ``__init__`` (storing them in
    ``self.params``) and implement :meth:`_estimate_nats`.
    """

    name: ClassVar[str]
    #: Smallest number of samples the method accepts.
    min_samples: ClassVar[int] = 2
    #: Whether :meth:`plane_point` can place a deterministic layer on the information
    #: plane; methods for continuous samples only (k-NN, Gaussian, neural) set False.
    on_plane: ClassVar[bool] = True
    #: Whether the method works on torch tensors, on their device; the others are given
    #: tensors copied to numpy.
    tensors: ClassVar[bool] = False

    def __new__(cls, *args: Any, **params: Any) -> MIEstimator:
        """Refuse, for every method alike, a parameter the constructor does not declare."""
        accepted = cls.param_names()
        unknown = [name for name in params if accepted is not None and name not in accepted]
        if unknown:
            raise InvalidParameterError(
                f"method {cls.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"it accepts: {', '.join(accepted) or '(none)'}"
            )
        return super().__new__(cls)

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params

    @classmethod
    def param_names(cls) -> tuple[str, ...] | None:
        """The parameters the constructor accepts, sorted; None if it accepts any.

        They are the named parameters of ``__init__`` and, while it forwards ``**kwargs``,
        of the parents' ``__init__`` (a class that defines none accepts any, as the
        base class stores whatever it is given).
        """
        names: set[str] = set()
        for klass in cls.__mro__:
            if klass is MIEstimator:
                return None
            if "__init__" not in vars(klass):
                continue
            params = list(inspect.signature(klass.__init__).parameters.values())[1:]
            named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            names.update(p.name for p in params if p.kind in named)
            if all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params):
                return tuple(sorted(names))
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def estimate(
        self, x: Any, y: Any, *, units: str = "bits", random_state: Any = None
    ) -> MIEstimate:
        """Estimate I(X;Y) from paired samples ``x`` (n, d_x) and ``y`` (n, d_y) or labels."""
        units = check_units(units)
        samples = self._samples(x, y)
        nats = self._estimate_nats(samples, check_random_state(random_state))
        return self._result(nats, units, samples)

    def _samples(self, x: Any, y: Any, names: tuple[str, str] = ("x", "y")) -> Samples:
        """:func:`prepare_samples`, checking there are at least ``min_samples`` rows."""
        samples = prepare_samples(x, y, names=names, tensors=self.tensors)
        if samples.n < self.min_samples:
            raise InvalidParameterError(
                f"method {self.name!r} needs at least {self.min_samples} samples; "
                f"got {samples.n} rows in {names[0]} and {names[1]}"
            )
        return samples

    def _result(self, nats: tuple, units: str, samples: Samples) -> MIEstimate:
        """An :class:`MIEstimate` in ``units`` (already checked) from a :class:`Nats`
        tuple (or its first four entries) computed on ``samples``, with its diagnostics."""
        value, lower, upper, std_error, singleton_share = Nats(*nats)

        def conv(v: float | None) -> float | None:
            return None if v is None else float(from_nats(v, units))

        ceiling = self._ceiling_nats(samples)
        top = value if upper is None else upper
        diagnostics = Diagnostics(
            negative=bool(value < -NEGATIVE_TOLERANCE_BITS * math.log(2)),
            ceiling=conv(ceiling),
            at_ceiling=ceiling is not None
            and bool(top >= ceiling - CEILING_TOLERANCE_BITS * math.log(2)),
            bound_gap=None if lower is None or upper is None else conv(upper - lower),
            singleton_share=singleton_share,
        )
        return MIEstimate(
            value=float(from_nats(value, units)),
            lower=conv(lower),
            upper=conv(upper),
            std_error=conv(std_error),
            units=units,
            method=self.name,
            params=dict(self.params),
            n_samples=samples.n,
            diagnostics=diagnostics,
        )

    def _ceiling_nats(self, samples: Samples) -> float | None:
        r"""The largest value the method can give on ``samples``, in nats (see
        :attr:`Diagnostics.ceiling`); None if it has none.

        Methods that can place a layer on the plane (:attr:`on_plane`) estimate the MI of
        a discrete or noisy copy over the ``n`` samples, at most the plug-in entropy of
        discrete ``y``, or :math:`\log n`; the others have no ceiling unless they say so.
        """
        if not self.on_plane:
            return None
        if samples.y_discrete:
            return float(entropy_nats(np.bincount(samples.y) / samples.n))
        return math.log(samples.n)

    def plane_point(
        self,
        t: Any,
        x_labels: Any,
        y_labels: Any,
        *,
        units: str = "bits",
        random_state: Any = None,
    ) -> tuple[MIEstimate, MIEstimate]:
        """Both coordinates of a layer on the information plane: (I(X;T), I(T;Y)).

        ``t`` (n, d) are the layer's activations on the probe inputs, ``x_labels`` one
        integer per row naming its input (``np.arange(n)`` when all inputs are
        distinct) and ``y_labels`` the class labels. Methods that can share work
        between the two estimates override :meth:`_plane_nats`; the results are the
        same as two calls of :meth:`estimate`. Methods that are not :attr:`on_plane`
        raise :class:`~ibkit._validation.InvalidParameterError`.
        """
        check_on_plane(self, self.name)
        units = check_units(units)
        x_samples = self._samples(t, x_labels, ("t", "x_labels"))
        # the validated float64 ``t`` again: one copy of the layer, not two
        y_samples = self._samples(x_samples.x, y_labels, ("t", "y_labels"))
        i_xt, i_ty = self._plane_nats(x_samples, y_samples, random_state)
        return self._result(i_xt, units, x_samples), self._result(i_ty, units, y_samples)

    def _plane_nats(
        self, x_samples: Samples, y_samples: Samples, random_state: Any
    ) -> tuple[Nats, Nats]:
        """(I(X;T), I(T;Y)) as :meth:`_estimate_nats` tuples, from validated
        ``(t, x_labels)`` and ``(t, y_labels)``.

        ``random_state`` is as the caller passed it: this default turns it into a
        generator for each estimate, as two :meth:`estimate` calls would (an int seed
        gives both the same draws; a generator is shared and advances).
        """
        return (
            self._estimate_nats(x_samples, check_random_state(random_state)),
            self._estimate_nats(y_samples, check_random_state(random_state)),
        )

    @abc.abstractmethod
    def _estimate_nats(self, samples: Samples, rng: np.random.Generator) -> tuple:
        """A :class:`Nats` tuple, or ``(value, lower, upper, std_error)``, in nats;
        ``samples`` are validated."""


def plane_methods() -> list[str]:
    """Names of the registered methods that can place a layer on the information plane."""
    return sorted(name for name, cls in _REGISTRY.items() if cls.on_plane)


def check_on_plane(estimator: MIEstimator, label: str) -> MIEstimator:
    """Return ``estimator`` if it can place a layer on the information plane, else raise.

    On the plane, X is the input identity (all inputs distinct) and T a deterministic
    function of it, so I(X;T) is finite only for a discretised layer (binning, plugin)
    or a noisy one (kde, noisy_mc); estimators of MI between continuous samples have no
    finite value to estimate there.
    """
    if not estimator.on_plane:
        raise InvalidParameterError(
            f"estimator {label!r} (method {estimator.name!r}) cannot place layers on the "
            "information plane: I(X;T) of a deterministic layer over distinct inputs is "
            "finite only for a discretised or noisy layer; use one of: "
            f"{', '.join(plane_methods())}"
        )
    return estimator


def resolve_plane_estimators(estimators: Any) -> dict[str, MIEstimator]:
    """:func:`resolve_estimators`, refusing those that cannot give information-plane
    points (see :func:`check_on_plane`)."""
    return {
        label: check_on_plane(est, label) for label, est in resolve_estimators(estimators).items()
    }


def register(cls: type[MIEstimator]) -> type[MIEstimator]:
    """Class decorator: make an estimator available under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_methods() -> list[str]:
    """Method names, sorted (including those whose module loads on first use)."""
    return sorted(set(_REGISTRY) | set(_LAZY_MODULES))


def get_estimator(method: str, **params: Any) -> MIEstimator:
    """The estimator registered as ``method``, configured with ``params``."""
    if method not in _REGISTRY and method in _LAZY_MODULES:
        try:
            importlib.import_module(_LAZY_MODULES[method])
        except ImportError as exc:
            raise ImportError(
                f"method {method!r} needs PyTorch: pip install 'ibkit[torch]' ({exc})"
            ) from exc
    if method not in _REGISTRY:
        raise InvalidParameterError(
            f"unknown method {method!r}; choose one of: {', '.join(available_methods())}"
        )
    return _REGISTRY[method](**params)


def resolve_estimators(estimators: Any) -> dict[str, MIEstimator]:
    """Label -> configured estimator, from names, (name, params) pairs, objects or a dict.

    A name is configured with the method's own defaults and labelled by it; so is an
    :class:`MIEstimator` object; a dict gives its own labels, and its values may also be
    ``(name, params)`` pairs.

    >>> sorted(resolve_estimators(["ksg", "gaussian"]))
    ['gaussian', 'ksg']
    >>> est = resolve_estimators({"kde σ²=0.1": ("kde", {"noise_variance": 0.1})})["kde σ²=0.1"]
    >>> est.name, est.params["noise_variance"]
    ('kde', 0.1)
    """
    if isinstance(estimators, (str, MIEstimator)):
        estimators = [estimators]
    if isinstance(estimators, Mapping):
        items = list(estimators.items())
    elif isinstance(estimators, Sequence):
        items = [(e if isinstance(e, str) else getattr(e, "name", None), e) for e in estimators]
    else:
        raise InvalidParameterError(
            "estimators must be a method name, an MIEstimator, a list of them or a dict "
            f"label -> estimator; got {type(estimators).__name__}"
        )
    if not items:
        raise InvalidParameterError(
            "estimators is empty; pass at least one, e.g. ['binning', 'kde']"
        )
    resolved: dict[str, MIEstimator] = {}
    for label, est in items:
        if isinstance(est, str):
            est = get_estimator(est)
        elif isinstance(est, tuple) and len(est) == 2 and isinstance(est[1], Mapping):
            est = get_estimator(est[0], **est[1])
        if not isinstance(est, MIEstimator):
            raise InvalidParameterError(
                f"estimator {label!r} must be a method name, a (name, params) pair or an "
                f"MIEstimator; got {est!r}"
            )
        if not isinstance(label, str) or not label:
            raise InvalidParameterError(
                f"estimator labels must be non-empty strings; got {label!r}"
            )
        if label in resolved:
            raise InvalidParameterError(
                f"two estimators are labelled {label!r}; pass a dict label -> estimator, "
                "e.g. {'kde_1e-3': ('kde', {'noise_variance': 1e-3}), ...}"
            )
        resolved[label] = est
    return resolved


def estimate_mi(
    x: Any,
    y: Any,
    method: str = "ksg",
    *,
    units: str = "bits",
    random_state: Any = None,
    **params: Any,
) -> MIEstimate:
    """Estimate I(X;Y) from samples with the named method.

    Parameters
    ----------
    x, y : array_like
        Paired samples, (n, d) or (n,); a 1-D integer ``y`` is a discrete label.
    method : str
        One of :func:`available_methods`.
    units : {"bits", "nats"}
    random_state : None, int or numpy.random.Generator
        For methods that draw random numbers (jitter, Monte Carlo, training).
    **params
        The method's parameters (see its class).
    """
    return get_estimator(method, **params).estimate(x, y, units=units, random_state=random_state)

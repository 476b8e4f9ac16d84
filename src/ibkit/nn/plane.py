r"""The information plane of a network while it trains.

Every hidden layer :math:`T` of a network, evaluated on a fixed probe set
:math:`\{(x_i, y_i)\}_{i=1}^n` with :math:`X` uniform over the probe inputs, is one
point :math:`(I(X;T), I(T;Y))` of the information plane (Shwartz-Ziv & Tishby 2017).
For a deterministic network both coordinates are the values of an estimator: binning
the activations (Shwartz-Ziv & Tishby used 30 bins on :math:`[-1, 1]` for tanh), or the
Kolchinsky–Tracey KDE bounds for the layer with Gaussian noise added (Saxe et al.
2018). Along a chain :math:`Y - X - T_1 - T_2` the data-processing inequality gives
:math:`I(T_2;Y) \le I(T_1;Y) \le I(X;Y)` for the true quantities.

:class:`InformationPlane` hooks any :class:`torch.nn.Module` for its own forward passes
(between them the model carries no hook of the recorder's, so :func:`~ibkit.nn.fit`
keeps its fused step), runs the probe through the model at the epochs a schedule
picks, and appends one row per
layer, estimator (and ensemble member) to a tidy table, optionally streamed to a CSV
file that an interrupted run resumes from. :func:`plane_points` is the same computation
on activations the caller already has.

Every point says whether it can mean anything: its I(X;T) may sit at the estimator's
ceiling, the most it can give on the probe inputs (:math:`\log_2 n` for ``n`` distinct
inputs), where the estimator tells every input apart and the point can show neither
fitting nor compression; its bounds may lie far apart; a coordinate may be negative.
The rows carry these diagnostics, and a :class:`~ibkit.estimators.SaturationWarning`
names each layer and estimator found at the ceiling, once.

References
----------
R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
information", arXiv:1703.00810, 2017.

A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.

A. Kolchinsky and B. D. Tracey, "Estimating mixture entropy with pairwise distances",
Entropy 19(7):361, 2017.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ibkit._plain import plain
from ibkit._tables import PlaneTables, atomic_write
from ibkit._validation import (
    InvalidParameterError,
    check_array,
    check_bool,
    check_int,
    check_random_state,
    check_real,
    check_units,
)
from ibkit.estimators import (
    MIEstimate,
    MIEstimator,
    SaturationWarning,
    resolve_plane_estimators,
)
from ibkit.nn.ensemble import ensemble_size, member_seeds
from ibkit.nn.gradients import GradientSNR
from ibkit.nn.mlp import output_kind, output_probabilities
from ibkit.nn.schedule import EpochSchedule

__all__ = ["ACTIVATION_TYPES", "InformationPlane", "plane_points"]

#: Module types recorded by default (``layers=None``), in module order.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.Tanh,
    nn.ReLU,
    nn.Sigmoid,
    nn.Softsign,
    nn.Softplus,
    nn.Hardtanh,  # includes ReLU6
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.GELU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.RReLU,
    nn.SiLU,
    nn.Mish,
    nn.Hardsigmoid,
    nn.Hardswish,
    nn.LogSigmoid,
    nn.Tanhshrink,
    nn.Identity,
)

#: The diagnostics of a point (see :func:`plane_points`), the last of :data:`COLUMNS`.
DIAGNOSTIC_COLUMNS = ("at_ceiling", "negative", "singleton_share", "bound_gap", "std_error")

#: The columns every row has, in order; label columns and metrics follow.
COLUMNS = (
    "run",
    "seed",
    "member",
    "epoch",
    "layer",
    "layer_index",
    "is_output",
    "width",
    "estimator",
    "i_xt",
    "i_ty",
    "i_xt_lower",
    "i_xt_upper",
    "i_ty_lower",
    "i_ty_upper",
    "units",
    *DIAGNOSTIC_COLUMNS,
)
#: The seed of torch's generator during the recorder's forward passes (see ``_forward``).
_PASS_SEED = 0
_POINT_COLUMNS = COLUMNS[COLUMNS.index("layer") :]
_TEXT_COLUMNS = ("run", "layer", "estimator", "units")
_OUTPUTS = ("softmax", "logits", None)


def _input_labels(x: np.ndarray) -> np.ndarray:
    """One integer per row naming its distinct input (equal rows share a label)."""
    _, inverse = np.unique(x.reshape(x.shape[0], -1), axis=0, return_inverse=True)
    return inverse.reshape(-1)


def _check_labels(y: Any, n: int, name: str) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        raise InvalidParameterError(
            f"{name} must be 1-D integer class labels; got dtype {y.dtype} and shape "
            f"{y.shape} (for one-hot rows pass y.argmax(1); for floats pass y.astype(int))"
        )
    if y.shape[0] != n:
        raise InvalidParameterError(f"{name} has {y.shape[0]} labels but the probe has {n} rows")
    return y


def _layer_rows(
    index: int,
    layer: str,
    t: np.ndarray,
    x_labels: np.ndarray,
    y_labels: np.ndarray,
    estimators: Mapping[str, MIEstimator],
    units: str,
    rng: np.random.Generator,
    is_output: bool = False,
) -> list[tuple[Any, ...]]:
    """One row per estimator for the (n, width) activations ``t`` of one layer, values in
    the order of ``_POINT_COLUMNS`` (NaN for no bound or diagnostic)."""
    rows = []
    for label, est in estimators.items():
        xt, ty = est.plane_point(t, x_labels, y_labels, units=units, random_state=rng)
        bounds = [np.nan if v is None else v for v in (xt.lower, xt.upper, ty.lower, ty.upper)]
        point = (layer, index, is_output, t.shape[1], label, xt.value, ty.value)
        rows.append((*point, *bounds, units, *_diagnostic_values(xt, ty)))
    return rows


def _diagnostic_values(xt: MIEstimate, ty: MIEstimate) -> tuple[Any, ...]:
    """The :data:`DIAGNOSTIC_COLUMNS` of a point from its two estimates: I(X;T)
    at its ceiling, either coordinate negative, the layer's share of inputs alone in
    their cell, and the larger bound gap and standard error of the two (NaN for none)."""

    def largest(a: float | None, b: float | None) -> float:
        return max((v for v in (a, b) if v is not None), default=np.nan)

    share = xt.diagnostics.singleton_share
    return (
        xt.diagnostics.at_ceiling,
        xt.diagnostics.negative or ty.diagnostics.negative,
        np.nan if share is None else share,
        largest(xt.diagnostics.bound_gap, ty.diagnostics.bound_gap),
        largest(xt.std_error, ty.std_error),
    )


def _warn_saturated(
    rows: pd.DataFrame,
    warned: set[tuple[Any, ...]],
    scope: Sequence[str] = ("layer", "estimator"),
) -> None:
    """Warn (:class:`~ibkit.estimators.SaturationWarning`) once per group of the ``scope``
    columns (layer, estimator and any others) with a point of ``rows`` at the ceiling,
    unless the group is in ``warned``; add the groups warned about to ``warned``.

    Rows without diagnostics (NaN ``at_ceiling``, from tables recorded before they
    existed) are not at the ceiling, nor are tables without the column.
    """
    if "at_ceiling" not in rows:
        return
    saturated = rows[rows["at_ceiling"].eq(True)]
    top = saturated["i_xt_upper"].fillna(saturated["i_xt"])
    for key, group in top.groupby([saturated[c] for c in scope], sort=False):
        if key in warned:
            continue
        warned.add(key)
        where = dict(zip(scope, key, strict=True))
        layer, label = where.pop("layer"), where.pop("estimator")
        first = saturated.loc[group.index[0]]
        context = "".join(f", {k} {v!r}" for k, v in where.items())
        warnings.warn(
            f"layer {layer!r} ({first['width']} units{context}) sits at the ceiling of "
            f"estimator {label!r}: I(X;T) = {group.max():.2f} {first['units']}, within "
            "0.01 bits of the most it can give on these probe inputs. It tells every input "
            "apart, so these points show neither fitting nor compression. To measure the "
            "layer: fewer or wider bins, e.g. ('binning', {'n_bins': 10}) or ('binning', "
            f"{{'bin_size': 0.5}}) (b bins per unit make up to b**{first['width']} cells); "
            "more noise, relative to the layer's scale, e.g. ('kde', {'noise_variance': "
            "1.0, 'noise_relative': True}), raised until the point leaves the ceiling "
            "(squared distances grow with the width); or another estimator, e.g. 'renyi'",
            SaturationWarning,
            stacklevel=3,
        )


def plane_points(
    activations: Mapping[str, Any],
    y: Any,
    *,
    x: Any = None,
    estimators: Any = ("binning", "kde"),
    units: str = "bits",
    random_state: Any = 0,
) -> pd.DataFrame:
    r"""Information-plane coordinates of layers whose activations are already computed.

    Parameters
    ----------
    activations : mapping of str to array_like
        Layer name -> activations on the probe, shape (n, ...) (flattened per row).
    y : array_like of int, shape (n,)
        Class labels of the probe rows.
    x : array_like, shape (n, ...), optional
        The probe inputs; equal rows count as one input value of :math:`X`. Default:
        all rows distinct.
    estimators : name, MIEstimator, list of them, or dict label -> either
        See :class:`InformationPlane`.
    units : {"bits", "nats"}
    random_state : None, int or numpy.random.Generator
        For estimators that draw random numbers; the layers use it in order.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer, layer_index, is_output (False), width, estimator, i_xt, i_ty,
        i_xt_lower, i_xt_upper, i_ty_lower, i_ty_upper, units`` (bounds NaN where the
        estimator gives none) and the diagnostics of each point:

        - ``at_ceiling``: I(X;T) (its upper bound, for ``kde``) lies within 0.01 bits of
          the most the estimator can give on the probe inputs (``log2 n`` for ``n``
          distinct inputs; see :class:`~ibkit.estimators.Diagnostics`): the estimator
          tells every input apart, and the point cannot show fitting or compression;
        - ``negative``: either coordinate is below 0 (by more than the 1e-6 bits of
          float32 round-off, :data:`~ibkit.estimators.NEGATIVE_TOLERANCE_BITS`);
        - ``singleton_share``: share of the probe inputs alone in their cell of the layer
          (``binning``, ``plugin``; NaN otherwise);
        - ``bound_gap``: the larger ``upper − lower`` of the two coordinates (``kde``);
        - ``std_error``: the larger standard error of the two (``noisy_mc``).

    Warns
    -----
    SaturationWarning
        Once per layer and estimator with its point at the ceiling, naming both and
        what moves the point off it.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.repeat(np.eye(4), 2, axis=0)  # 8 distinct inputs, 4 distinct codes
    >>> df = plane_points({"t": t}, np.array([0, 0, 0, 0, 1, 1, 1, 1]), estimators="binning")
    >>> # H(T) = 2 bits and I(T;Y) = H(Y) = 1 bit
    >>> round(float(df.i_xt[0]), 9), round(float(df.i_ty[0]), 9)
    (2.0, 1.0)
    """
    units = check_units(units)
    if not isinstance(activations, Mapping) or not activations:
        raise InvalidParameterError(
            "activations must be a non-empty dict layer name -> (n, ...) array"
        )
    acts = {}
    for name, a in activations.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        a = np.atleast_1d(check_array(a, f"activations[{name!r}]"))
        acts[name] = a.reshape(a.shape[0], -1)
    n = next(iter(acts.values())).shape[0]
    uneven = {name: a.shape[0] for name, a in acts.items() if a.shape[0] != n}
    if uneven:
        raise InvalidParameterError(
            f"every layer needs the same {n} probe rows; got row counts {uneven}"
        )
    y_labels = _check_labels(y, n, "y")
    if x is None:
        x_labels = np.arange(n)
    else:
        x_arr = np.asarray(check_real(x, "x"))
        if x_arr.ndim == 0 or x_arr.shape[0] != n:
            raise InvalidParameterError(
                f"x must have one row per probe row ({n}); got shape {x_arr.shape}"
            )
        x_labels = _input_labels(x_arr)
    rng = check_random_state(random_state)
    resolved = resolve_plane_estimators(estimators)
    points = [
        row
        for index, (layer, t) in enumerate(acts.items())
        for row in _layer_rows(index, layer, t, x_labels, y_labels, resolved, units, rng)
    ]
    rows = pd.DataFrame(points, columns=list(_POINT_COLUMNS))
    _warn_saturated(rows, set())
    return rows


class InformationPlane:
    r"""Record the information plane of any PyTorch model during training.

    Parameters
    ----------
    model : torch.nn.Module
        The network. If it has an integer attribute ``n_members`` (an ensemble such as
        :class:`~ibkit.nn.ensemble.EnsembleMLP`), activations have shape (S, n, ...) and
        every member gets its own rows, with ``seed`` from ``model.seeds``.
    x_probe : array_like or torch.Tensor, shape (n, ...)
        Inputs on which the layers are evaluated (often the whole 12-bit input set);
        rows are samples. Equal rows count as one input value of :math:`X`.
    y_probe : array_like of int, shape (n,)
        Their class labels.
    estimators : name, MIEstimator, list of them, or dict label -> name or MIEstimator
        Each one gives its own rows; its label goes in the ``estimator`` column and its
        parameters in :attr:`estimator_params`. Names use the estimator's defaults:
        ``"binning"`` is equal-mass bins per unit, as many as the probe supports (see
        :class:`~ibkit.estimators.binning.BinningEstimator`; for 30 bins spanning each
        layer's values at that epoch pass ``{"bin30": ("binning", {"n_bins": 30})}``, for
        the fixed :math:`[-1, 1]` grid of the tanh study
        ``{"binning": get_estimator("binning", value_range=(-1, 1))}``), ``"kde"`` the
        KDE bounds with noise variance :math:`\sigma^2 = 10^{-3}`.
    layers : sequence of str, optional
        Qualified module names (as in ``model.named_modules()``) whose outputs are
        recorded. Default: every activation module (:data:`ACTIVATION_TYPES`) that runs
        in the forward pass. Layers are indexed in the order they run.
    output : {"softmax", "logits", None}
        How the model's output is recorded as the layer ``"output"`` (``is_output`` is
        True): class probabilities (softmax, or sigmoid for one output unit, as
        :func:`~ibkit.nn.mlp.output_probabilities`), the raw output, or not at all.
    schedule : None, "log", iterable of int, callable or EpochSchedule
        Which epochs :meth:`record` records (see :class:`~ibkit.nn.schedule.EpochSchedule`);
        ``None`` records every epoch.
    n_epochs : int, optional
        Number of training epochs (needed by ``"log"``; bounds the epoch numbers).
    n_points : int, default 200
        Epochs of the ``"log"`` schedule.
    units : {"bits", "nats"}
    batch_size : int, optional
        Probe rows per forward pass (default: the whole probe at once). At image scale
        pass a few hundred: the model's own tensors of one pass grow with it.
    probe_size : int, optional
        Record on this many probe rows, drawn once without replacement with the seed
        ``random_state`` (the rows kept are :attr:`probe_indices`), instead of all ``n``:
        the same seed gives the same subsample, so a resumed run uses the same rows.
    track_gradients : bool
        Also collect the gradient signal-to-noise ratio of every weight matrix
        (:class:`~ibkit.nn.gradients.GradientSNR`) between calls of :meth:`record`, into
        :attr:`gradients`.
    path : str or Path, optional
        CSV file the rows are appended to (synced to disk at every record). If it
        exists, its rows are loaded and epochs already recorded for this ``run``,
        ``labels`` and seed(s) are skipped, so a rerun of an interrupted script resumes;
        a torn last line, and the rows of an epoch recorded only in part, are dropped
        (see :meth:`recorded_epochs`). With ``track_gradients`` the gradient rows go to
        ``<stem>_gradients<suffix>`` beside it, and an epoch counts as recorded only
        with them. ``<path>.estimators.json`` keeps the method and parameters of every
        estimator label recorded in the table: resuming a label with other settings is
        refused, as it would mix two estimators under one name.
    run : str
        Value of the ``run`` column.
    seed : int, optional
        Value of the ``seed`` column for a plain model (ensembles use ``model.seeds``).
    labels : dict, optional
        Extra constant columns, e.g. ``{"activation": "tanh"}``.
    random_state : None or int
        Seed of the estimators' random numbers and of the ``probe_size`` subsample; each
        (epoch, member) gets its own stream, so a resumed run reproduces an
        uninterrupted one.

    Notes
    -----
    Memory. A record takes one layer at a time: the probe runs through the model in
    chunks of ``batch_size`` rows, each forward pass stopping at the layer, whose output
    (a convolution's (C, H, W) flattened per sample) is copied into one float32 buffer;
    the estimators place that layer, and the buffer is freed before the next layer.

    Device. The buffer lives where the layer's output is computed when that is a CUDA
    device: the activations stay there as a float32 tensor, and the estimators that work
    on tensors (``binning``, ``kde``, ``noisy_mc``, ``renyi``: their ``tensors``
    attribute) place the layer on that device, the others get a host copy. On any other
    device (the CPU) the buffer is a numpy array on the host, the faster path there.
    The recorder's peak is therefore

    .. math:: n \times \max_l \mathrm{width}_l \times 4 \text{ bytes}
              \;(\times S \text{ members of an ensemble}),

    reported after each record as :attr:`peak_buffer_bytes`, whatever the number of
    layers or epochs, plus the model's tensors for one chunk of ``batch_size`` rows
    and the estimator's work on that one layer: ``kde`` and ``noisy_mc`` hold at most
    about nine float32 layer sizes (the float64 layer, its centred distinct rows and two
    distance factors; tested on an 8192-unit layer) plus tiles of ``chunk_size`` rows
    (``noisy_mc``: its draws too, ``n_mc`` layer sizes), ``renyi`` in batches of
    ``batch_size`` rows (a Gram matrix of ``batch_size``\ :sup:`2`), and ``binning``
    makes a float64 copy of the ``n × width`` activations and codes them 512 columns at
    a time, nothing ``n × n``. The cost is
    one forward pass per layer, each cut short at it; with ``probe_size`` fewer rows
    reduce all of it in proportion.

    Attributes
    ----------
    results : pandas.DataFrame
        One row per recorded (member, epoch, layer, estimator): the columns of
        ``COLUMNS`` (``run, seed, member, epoch, layer, layer_index, is_output, width,
        estimator, i_xt, i_ty, i_xt_lower, i_xt_upper, i_ty_lower, i_ty_upper, units``
        and the diagnostics ``at_ceiling, negative, singleton_share, bound_gap,
        std_error`` of :func:`plane_points`), then the label columns and the metrics
        passed to :meth:`record`. Rows read from a table written before the diagnostics
        existed have them empty (NaN).
    gradients : pandas.DataFrame or None
        With ``track_gradients``: ``run, seed, member, epoch, layer, layer_index,
        grad_mean_norm, grad_std_norm, snr, n_batches`` and the label columns.
    estimator_params : dict
        Label -> the estimator's parameters.
    layer_names : list of str
        The recorded modules, in forward order (known once attached).
    last_timing : dict
        Seconds spent by the last :meth:`record` in the forward passes and in estimation.
    peak_buffer_bytes : int
        Bytes of the largest activation buffer of the last :meth:`record`: the most the
        recorder held at once (see Notes).
    probe_indices : numpy.ndarray or None
        The probe rows recorded, sorted, with ``probe_size``; None for all of them.

    Examples
    --------
    >>> import torch
    >>> from ibkit.datasets import tishby_12bit
    >>> task = tishby_12bit()
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    >>> plane = InformationPlane(model, task.x, task.y, estimators=["binning"])
    >>> with plane:
    ...     for epoch in range(2):
    ...         # ... train one epoch here ...
    ...         _ = plane.record(epoch, train_loss=0.5)
    >>> plane.results[["epoch", "layer", "is_output", "width"]].values.tolist()
    [[0, '1', False, 3], [0, 'output', True, 2], [1, '1', False, 3], [1, 'output', True, 2]]
    """

    def __init__(
        self,
        model: nn.Module,
        x_probe: Any,
        y_probe: Any,
        estimators: Any = ("binning", "kde"),
        *,
        layers: Sequence[str] | None = None,
        output: str | None = "softmax",
        schedule: Any = None,
        n_epochs: int | None = None,
        n_points: int = 200,
        units: str = "bits",
        batch_size: int | None = None,
        probe_size: int | None = None,
        track_gradients: bool = False,
        path: str | os.PathLike[str] | None = None,
        run: str = "run",
        seed: int | None = None,
        labels: Mapping[str, Any] | None = None,
        random_state: int | None = 0,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidParameterError(
                f"model must be a torch.nn.Module; got {type(model).__name__}"
            )
        self.model = model
        self.x_probe = _check_probe(x_probe)
        self.y_probe = _check_labels(y_probe, self.x_probe.shape[0], "y_probe")
        self.random_state = (
            None if random_state is None else check_int(random_state, "random_state", minimum=0)
        )
        self.probe_indices = _probe_rows(self.x_probe.shape[0], probe_size, self.random_state)
        if self.probe_indices is not None:
            self.x_probe = self.x_probe[torch.from_numpy(self.probe_indices)]
            self.y_probe = self.y_probe[self.probe_indices]
        n = self.x_probe.shape[0]
        self.x_labels = _input_labels(self.x_probe.numpy())
        self.estimators = resolve_plane_estimators(estimators)
        self.estimator_params = {k: dict(e.params) for k, e in self.estimators.items()}
        if isinstance(layers, str):
            layers = [layers]
        self.layers = None if layers is None else list(layers)
        if output not in _OUTPUTS:
            raise InvalidParameterError(
                f"output must be 'softmax', 'logits' or None; got {output!r}"
            )
        self.output = output
        self.schedule = EpochSchedule(schedule, n_epochs=n_epochs, n_points=n_points)
        self.units = check_units(units)
        self.batch_size = n if batch_size is None else check_int(batch_size, "batch_size")
        self.track_gradients = check_bool(track_gradients, "track_gradients")
        self.path = None if path is None else _check_path(path)
        if not isinstance(run, str) or not run:
            raise InvalidParameterError(f"run must be a non-empty string; got {run!r}")
        self.run = run
        self.labels = dict(labels or {})
        clash = sorted(set(self.labels) & set(COLUMNS))
        if clash:
            raise InvalidParameterError(f"labels {clash} clash with table columns; rename them")
        self.n_members = ensemble_size(model)
        self.seeds = member_seeds(model, self.n_members, seed)
        self.seed = seed
        self.layer_names: list[str] = []
        self.last_timing: dict[str, float] = {}
        self.peak_buffer_bytes = 0
        self._modules: dict[str, nn.Module] | None = None  # hooked in own passes; None: detached
        self._done: set[int] | None = None
        self._mode: str | None = None  # in the recorder's own passes: "dry" or "capture"
        self._calls: dict[str, list[tuple[int, ...]]] = {}
        self._target: str | None = None  # the layer being captured
        self._buffer: Any = None  # its activations (numpy array or CUDA tensor)
        self._rows: slice = slice(0, 0)
        self._gradient_snr: GradientSNR | None = None
        self._gradient_rows: tuple[int, pd.DataFrame | None] | None = None
        self._plane_tables: PlaneTables | None = None
        self._warned: set[tuple[Any, ...]] = set()

    # -- tables -----------------------------------------------------------------------

    def _tables(self) -> PlaneTables:
        """The results and gradients tables, read from ``path`` on first use."""
        if self._plane_tables is None:
            text = _TEXT_COLUMNS + tuple(k for k, v in self.labels.items() if isinstance(v, str))
            key = {"run": self.run, **self.labels}
            self._plane_tables = PlaneTables(self.path, key, self.seeds, text)
        return self._plane_tables

    @property
    def results(self) -> pd.DataFrame:
        frame = self._tables().frame("results")
        return pd.DataFrame(columns=list(COLUMNS)) if frame is None else frame.copy()

    @property
    def gradients(self) -> pd.DataFrame | None:
        frame = self._tables().frame("gradients")
        return None if frame is None else frame.copy()

    def recorded_epochs(self) -> set[int]:
        """Epochs whose rows are all in the tables for this run, labels and seed(s).

        Found when the tables are loaded, on first use: the rows of any epoch recorded
        only in part, by a run killed while writing them, are dropped from the tables
        (and their files), so that it is recorded again. How many rows an epoch has
        depends on the recorded layers: before :meth:`attach`, the model runs once on
        two probe rows to find them, as attaching does.
        """
        if self._done is None:
            self.attach()  # learns the layers and loads the tables
            self.detach()
        return self._done

    def missing_epochs(self) -> set[int]:
        """Scheduled epochs not yet recorded (needs ``n_epochs``); see :meth:`recorded_epochs`."""
        if self.schedule.n_epochs is None:
            raise InvalidParameterError(
                "missing_epochs needs the number of epochs: pass n_epochs to the recorder"
            )
        scheduled = {e for e in range(self.schedule.n_epochs) if self.schedule(e)}
        return scheduled - self.recorded_epochs()

    def _load_tables(self) -> None:
        """Find the recorded epochs, from blocks of one row per layer and estimator."""
        block_rows = {"results": len(self.layer_names) * len(self.estimators)}
        if self._gradient_snr is not None:
            block_rows["gradients"] = len(self._gradient_snr.weights)
        self._done = self._tables().complete_epochs(block_rows)
        if self.path is not None:
            self._keep_estimator_settings()

    def _keep_estimator_settings(self) -> None:
        """Check this recorder's estimators against those its table was recorded with.

        ``<path>.estimators.json`` beside the table holds the method and parameters of
        every label recorded there. A label already recorded with other settings is
        refused (resuming would mix two estimators under one name); new labels are
        added. A table recorded before the settings were kept is resumed with a warning,
        as its labels cannot be checked.
        """
        sidecar = self.path.with_name(self.path.name + ".estimators.json")
        mine = {
            label: {"method": est.name, "params": plain(est.params)}
            for label, est in self.estimators.items()
        }
        try:
            kept = json.loads(sidecar.read_text()) if sidecar.exists() else None
        except (OSError, ValueError) as exc:
            raise InvalidParameterError(
                f"cannot read {str(sidecar)!r} ({exc}); it records the estimators of the "
                f"table {str(self.path)!r}: delete both to record afresh"
            ) from None
        recorded = self._tables().frame("results")
        if kept is None and recorded is not None and len(recorded):
            warnings.warn(
                f"{str(self.path)!r} was recorded before ibkit kept its estimator settings; "
                f"resuming assumes its labels {sorted(mine)} mean what they mean now",
                UserWarning,
                stacklevel=4,
            )
        kept = kept if isinstance(kept, dict) else {}
        changed = sorted(k for k in mine if k in kept and kept[k] != mine[k])
        if changed:
            label = changed[0]
            raise InvalidParameterError(
                f"the table {str(self.path)!r} recorded estimator label {label!r} as "
                f"{kept[label]}, not {mine[label]}: resuming would mix two estimators "
                "under one name; give the new settings another label, or another path"
            )
        if any(k not in kept for k in mine):
            with atomic_write(sidecar) as handle:
                json.dump({**kept, **mine}, handle, indent=1, sort_keys=True)

    def should_record(self, epoch: int) -> bool:
        """Whether :meth:`record` would record ``epoch`` (scheduled, not yet recorded).

        Call it, like :meth:`record`, after training the epoch: the first call for a new
        epoch closes the gradient statistics of that epoch (with ``track_gradients``).
        """
        due = self.schedule(epoch) and epoch not in self.recorded_epochs()
        if self._gradient_snr is not None and (
            self._gradient_rows is None or self._gradient_rows[0] != epoch
        ):
            # the statistics of an epoch that is not recorded are dropped without a table
            rows = self._gradient_snr.snapshot(epoch) if due else self._gradient_snr.reset()
            self._gradient_rows = (epoch, rows)
        return due

    # -- hooks ------------------------------------------------------------------------

    def attach(self) -> InformationPlane:
        """Pick the layers, check the model on a dry run of two probe rows, load the tables.

        The layers' forward hooks are registered for the recorder's own forward passes
        only, and removed after each: while training, the model carries none of them.

        Raises
        ------
        ValueError
            If the model rejects the probe, a named layer does not exist, does not run
            or runs more than once per forward pass, a layer's output is not a tensor
            with the probe rows on its sample axis, or ``path`` holds a file that is not
            an information-plane table.
        """
        if self._modules is not None:
            return self
        modules = self._candidate_modules()
        self._modules = dict(modules)
        if self.output is not None:
            self._modules["output"] = self.model
        try:
            self._dry_run(modules)
            if self.track_gradients:
                self._gradient_snr = GradientSNR(self.model, seed=self.seed).attach()
            self._load_tables()
        except BaseException:
            self.detach()
            raise
        return self

    def detach(self) -> None:
        """Stop recording (and counting gradients); the table is kept."""
        self._modules = None
        self._buffer = None
        if self._gradient_snr is not None:
            self._gradient_snr.detach()
            self._gradient_snr = None
            self._gradient_rows = None

    def __enter__(self) -> InformationPlane:
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _candidate_modules(self) -> dict[str, nn.Module]:
        named = {name: m for name, m in self.model.named_modules() if name}
        if self.layers is None:
            return {name: m for name, m in named.items() if isinstance(m, ACTIVATION_TYPES)}
        unknown = [name for name in self.layers if name not in named]
        if unknown:
            raise InvalidParameterError(
                f"no module named {unknown} in the model; available: {list(named)}"
            )
        return {name: named[name] for name in self.layers}

    def _hook(self, name: str) -> Any:
        def hook(module: nn.Module, inputs: Any, out: Any) -> None:
            if not isinstance(out, torch.Tensor):
                fix = "pass output=None" if name == "output" else "pick other modules with layers="
                raise _LayerError(
                    f"layer {name!r} returned {type(out).__name__}, not a tensor; {fix}"
                )
            if self._mode == "dry":
                self._calls.setdefault(name, []).append(tuple(out.shape))
            elif name == self._target:
                self._store(name, out)
                raise _StopForward  # the rest of the forward pass is not needed

        return hook

    def _dry_run(self, modules: Mapping[str, nn.Module]) -> None:
        self._calls = {}
        probe = self.x_probe[:2]
        try:
            self._forward(probe, "dry")
        except _LayerError:
            raise
        except Exception as exc:
            raise InvalidParameterError(
                f"the model rejected the probe: a batch of shape {tuple(probe.shape)} "
                f"(probe shape {tuple(self.x_probe.shape)}) raised {type(exc).__name__}: {exc}"
            ) from exc
        repeated = [name for name, calls in self._calls.items() if len(calls) > 1]
        if repeated:
            raise InvalidParameterError(
                f"modules {repeated} run more than once per forward pass, so their output "
                "is ambiguous; give each use its own module instance or pick others with layers="
            )
        silent = [name for name in modules if name not in self._calls]
        if self.layers is not None and silent:
            raise InvalidParameterError(f"layers {silent} do not run in the model's forward pass")
        if self.output is not None and "output" not in self._calls:
            raise InvalidParameterError(
                "the model produced no output on the probe; pass output=None"
            )
        rows = probe.shape[0]
        lead = (rows,) if self.n_members is None else (self.n_members, rows)
        axes = "(samples, ...)" if self.n_members is None else "(members, samples, ...)"
        for name, (shape,) in self._calls.items():
            if shape[: len(lead)] != lead:
                raise InvalidParameterError(
                    f"layer {name!r} gave shape {shape} for {rows} probe rows; recorded "
                    f"layers must have shape {axes} starting with {lead}"
                )
        for name in silent:  # default-selected modules that do not run
            del self._modules[name]
        # the output hook, on the model itself, runs last
        self.layer_names = list(self._calls)

    def _forward(self, probe: torch.Tensor, mode: str) -> None:
        """Run ``probe`` through the model in eval mode without autograd, in chunks.

        Each chunk draws from torch's generator seeded alike (and restored afterwards), so
        a model that stays random in eval mode (sampling layers, noise) gives every
        layer's pass the same draws up to that layer: the layers of one record are those
        of one forward pass, and recording leaves the training's random stream alone.
        """
        device = next((p.device for p in self.model.parameters()), torch.device("cpu"))
        dtype = next(
            (p.dtype for p in self.model.parameters() if p.is_floating_point()), torch.float32
        )
        was_training = self.model.training
        self.model.eval()
        self._mode = mode
        devices = [device] if device.type == "cuda" else []
        handles = [m.register_forward_hook(self._hook(name)) for name, m in self._modules.items()]
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=devices):
                for start in range(0, probe.shape[0], self.batch_size):
                    torch.manual_seed(_PASS_SEED + start)  # each chunk alike in every pass
                    stop = min(start + self.batch_size, probe.shape[0])
                    self._rows = slice(start, stop)
                    chunk = probe[start:stop].to(device)
                    with contextlib.suppress(_StopForward):
                        self.model(chunk.to(dtype) if chunk.is_floating_point() else chunk)
        finally:
            for handle in handles:
                handle.remove()
            self._mode = None
            self.model.train(was_training)

    def _capture(self, layer: str) -> Any:
        """The float32 activations of ``layer`` on the probe, shape (n, width) or, for an
        ensemble, (S, n, width), from forward passes of ``batch_size`` rows that stop at
        the layer: a tensor on the layer's CUDA device, else a numpy array (see the class
        Notes); the recorder keeps no reference to them."""
        self._target = layer
        try:
            self._forward(self.x_probe, "capture")
            return self._buffer
        finally:
            self._target, self._buffer = None, None

    def _store(self, name: str, out: torch.Tensor) -> None:
        """Copy one chunk of the captured layer's output into its float32 buffer: a tensor
        on the output's device if that is a CUDA device, else a numpy array."""
        if name == "output" and self.output == "softmax":
            out = output_probabilities(out, output_kind(out.shape[-1]))
        lead = 1 if self.n_members is None else 2
        values = out.detach().reshape(*out.shape[:lead], -1).to(dtype=torch.float32)
        on_device = _stays_on_device(values.device)
        if self._buffer is None:
            n = self.x_probe.shape[0]
            shape = (n, values.shape[-1]) if lead == 1 else (self.n_members, n, values.shape[-1])
            if on_device:
                self._buffer = torch.empty(shape, dtype=torch.float32, device=values.device)
            else:
                self._buffer = np.empty(shape, dtype=np.float32)
            self.peak_buffer_bytes = max(self.peak_buffer_bytes, 4 * int(np.prod(shape)))
        self._buffer[..., self._rows, :] = values if on_device else values.cpu().numpy()

    # -- recording --------------------------------------------------------------------

    def record(self, epoch: int, **metrics: Any) -> pd.DataFrame | None:
        """Record ``epoch`` if the schedule says so and it is not recorded yet.

        Layer by layer, the probe runs through the model in eval mode under
        :func:`torch.no_grad` (the train/eval mode is restored) up to the layer, whose
        activations are copied to a float32 buffer (on the model's CUDA device, or on
        the host: see the class Notes); each estimator's
        :meth:`~ibkit.estimators.MIEstimator.plane_point` gives the two coordinates, and
        the buffer is freed before the next layer (the memory bound is in the class
        Notes).

        Parameters
        ----------
        epoch : int
            The epoch number (≥ 0; below ``n_epochs`` when that is set).
        **metrics
            Extra columns for these rows (``train_loss=0.3``, ``test_acc=...``): numbers,
            or for an ensemble one number per member.

        Returns
        -------
        pandas.DataFrame or None
            The new rows, or None when the epoch is skipped. With ``track_gradients``
            the gradient statistics are those of the minibatches since the first call of
            :meth:`record` or :meth:`should_record` for the previous epoch; they are
            kept for recorded epochs only.

        Warns
        -----
        SaturationWarning
            The first time a layer's point sits at an estimator's ceiling (see
            :func:`plane_points`), once per layer and estimator for this recorder, after
            the rows are stored.
        """
        if self._modules is None:
            raise RuntimeError(
                "the recorder is not attached; use `with plane:` or call plane.attach() first"
            )
        if not self.should_record(epoch):
            return None
        metric_values = self._check_metrics(metrics)
        base = self.random_state
        rngs = [
            np.random.default_rng(None if base is None else [base, epoch, member])
            for member in range(len(self.seeds))
        ]
        self.peak_buffer_bytes = 0
        self.last_timing = {"forward": 0.0, "estimation": 0.0}
        rows: list[list[tuple[Any, ...]]] = [[] for _ in self.seeds]
        for index, layer in enumerate(self.layer_names):
            layer_rows = self._layer_points(index, layer, rngs)
            for member_rows, new_rows in zip(rows, layer_rows, strict=True):
                member_rows.extend(new_rows)
        frames = [
            self._decorate(
                pd.DataFrame(member_rows, columns=list(_POINT_COLUMNS)),
                epoch,
                member,
                seed,
                metric_values,
            )
            for member, (member_rows, seed) in enumerate(zip(rows, self.seeds, strict=True))
        ]
        new = pd.concat(frames, ignore_index=True)
        self._tables().append("results", new)
        self.recorded_epochs().add(epoch)
        if self._gradient_rows is not None and self._gradient_rows[1] is not None:
            gradient_rows = self._gradient_rows[1].copy()
            gradient_rows.insert(0, "run", self.run)
            for key, value in self.labels.items():
                gradient_rows[key] = value
            self._tables().append("gradients", gradient_rows)
        _warn_saturated(new, self._warned)
        return new

    def _layer_points(
        self, index: int, layer: str, rngs: Sequence[np.random.Generator]
    ) -> list[list[tuple[Any, ...]]]:
        """The rows of one layer for each member: capture its activations, estimate with
        each member's generator, and free them on return; adds to :attr:`last_timing`."""
        start = time.perf_counter()
        acts = self._capture(layer)
        captured = time.perf_counter()
        rows = [
            _layer_rows(
                index,
                layer,
                acts if self.n_members is None else acts[member],
                self.x_labels,
                self.y_probe,
                self.estimators,
                self.units,
                rng,
                is_output=layer == "output",
            )
            for member, rng in enumerate(rngs)
        ]
        self.last_timing["forward"] += captured - start
        self.last_timing["estimation"] += time.perf_counter() - captured
        return rows

    def _decorate(
        self, frame: pd.DataFrame, epoch: int, member: int, seed: Any, metrics: dict[str, Any]
    ) -> pd.DataFrame:
        """Add the run, seed, member and epoch columns in front, labels and metrics behind."""
        for position, (key, value) in enumerate(
            (("run", self.run), ("seed", seed), ("member", member), ("epoch", epoch))
        ):
            frame.insert(position, key, value)
        for key, value in self.labels.items():
            frame[key] = value
        for key, value in metrics.items():
            frame[key] = value if np.ndim(value) == 0 else value[member]
        return frame

    def _check_metrics(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        checked = {}
        for key, value in metrics.items():
            if key in COLUMNS or key in self.labels:
                raise InvalidParameterError(
                    f"metric {key!r} clashes with a table column; rename it"
                )
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            arr = np.asarray(value)
            if arr.ndim == 0:
                checked[key] = arr.item()
            elif self.n_members is not None and arr.shape == (self.n_members,):
                checked[key] = arr.tolist()
            else:
                per = "" if self.n_members is None else f" or one per member ({self.n_members})"
                raise InvalidParameterError(
                    f"metric {key!r} must be a single number{per}; got shape {arr.shape}"
                )
        return checked


def _stays_on_device(device: torch.device) -> bool:
    """Whether activations computed on ``device`` are handed to the estimators there, as
    tensors (CUDA devices), rather than copied to the host as numpy arrays (the CPU, where
    the numpy paths are the faster)."""
    return device.type == "cuda"


def _check_probe(x_probe: Any) -> torch.Tensor:
    check_real(x_probe, "x_probe")
    try:
        x = (
            x_probe.detach().cpu()
            if isinstance(x_probe, torch.Tensor)
            else torch.as_tensor(x_probe)
        )
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidParameterError(
            f"x_probe must be a numeric array or tensor, rows = samples; got "
            f"{type(x_probe).__name__} ({exc})"
        ) from None
    if x.ndim == 0 or x.shape[0] < 2:
        raise InvalidParameterError(
            f"x_probe must have at least 2 rows (samples); got shape {tuple(x.shape)}"
        )
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise InvalidParameterError("x_probe has NaN or infinite entries; pass finite inputs")
    return x


def _check_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(f"path must be a file path; got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(
            f"path {str(path)!r} is a folder; pass the path of a CSV file in it, such as "
            f"{str(path / 'plane.csv')!r}"
        )
    return path


def _probe_rows(n: int, probe_size: Any, random_state: int | None) -> np.ndarray | None:
    """Sorted indices of ``probe_size`` of the ``n`` probe rows, drawn without replacement
    with the seed ``random_state``; None for ``probe_size=None`` (every row)."""
    if probe_size is None:
        return None
    size = check_int(probe_size, "probe_size", minimum=2)
    if size > n:
        raise InvalidParameterError(
            f"probe_size must be at most the {n} probe rows; got {size}; pass a smaller "
            "probe_size, or None for the whole probe"
        )
    return np.sort(np.random.default_rng(random_state).choice(n, size, replace=False))


class _StopForward(Exception):
    """Raised by the captured layer's hook to end a forward pass that has given it."""


class _LayerError(ValueError):
    """A recorded layer's output cannot be recorded (raised from inside a hook)."""

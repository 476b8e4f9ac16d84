r"""Is compression caused by the noise of SGD? Minibatch SGD against full-batch descent.

Shwartz-Ziv & Tishby (2017) saw the compression phase of a tanh network begin when the
minibatch gradients turn from *drift* (their mean dominates their spread) to *diffusion*
(the spread dominates), and proposed the noise of stochastic gradient descent as its
cause. Saxe et al. (2018, sec. 4) trained the same network by minibatch SGD and by
full-batch gradient descent (BGD), which injects no noise at all, and found the same
information-plane dynamics with both. :func:`sgd_vs_full_batch` repeats that comparison:

1. the 12-bit task (:func:`ibkit.datasets.tishby_12bit`) and one seeded stratified split
   (:func:`ibkit.datasets.train_test_split`), made afresh, from the same seed, for each
   method; all 4096 patterns are the probe of the plane;
2. for each method, activation and learning rate of its grid, an
   :class:`~ibkit.nn.EnsembleMLP` of all seeds (the same seeds, hence the same initial
   weights, for every method) trained by plain SGD (no momentum) for the same number of
   epochs with :func:`ibkit.nn.fit`: minibatches of ``batch_size`` rows for SGD
   (:math:`\lceil n/B \rceil` steps per epoch), the whole training set for full batch
   (one step per epoch);
3. an :class:`~ibkit.nn.InformationPlane` with the estimators of
   :data:`~ibkit.study.plane_study.PLANE_ESTIMATORS` at log-spaced epochs, and at the
   same epochs the gradient signal-to-noise ratio of every weight matrix
   (:class:`~ibkit.nn.GradientSNR`) over the minibatches of one pass through the
   training set at the current weights (see *Gradient noise* below);
4. the learning rate of each (method, activation): the one of its grid with the lowest
   final training loss, averaged over the seeds (Saxe et al. chose, for each method, the
   rate that gave the best training performance); the tables of that run are kept;
5. the compression metrics of :mod:`ibkit.study.metrics` (peak, drop from peak to end of
   :math:`I(X;T)` per layer, Student t intervals over seeds) and the gradient phases
   (below) of each method, side by side.

Gradient noise
--------------
Full-batch descent takes one step per epoch, whose gradient has no spread, so the
statistic Shwartz-Ziv & Tishby tracked during training (mean and spread of the
minibatch gradients of one epoch) would be infinite for it by construction. Both methods
are therefore measured the same way: at each recorded epoch :math:`e`, with the weights
held fixed, the training rows are cut into minibatches :math:`b = 1..B` of ``batch_size``
rows (a permutation seeded by ``(split_seed, e)``, the same for both methods) and, for the
weight matrix :math:`W_l` of layer :math:`l`,

.. math::

    \mathrm{SNR}_l(e) = \frac{\lVert \bar g \rVert}{\lVert s \rVert}, \qquad
    \bar g = \frac1B \sum_b \nabla_{W_l} L_b, \qquad
    s = \Bigl(\frac1B \sum_b (\nabla_{W_l} L_b - \bar g)^{\odot 2}\Bigr)^{1/2},

the noise an SGD step would see there (:func:`ibkit.nn.gradient_snr`). For SGD it is
Shwartz-Ziv & Tishby's statistic without the drift of the weights within the epoch. The
*transition* from drift to diffusion is the first recorded epoch with
:math:`\mathrm{SNR}_l < 1`; the phase table gives it with the SNR at epoch 0 (the same
for both methods: same weights, same minibatches) and at the last epoch.

References
----------
R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
information", arXiv:1703.00810, 2017.

A. M. Saxe, Y. Bansal, J. Dapello, M. Advani, A. Kolchinsky, B. D. Tracey and D. D. Cox,
"On the information bottleneck theory of deep learning", ICLR 2018.

Examples
--------
>>> from ibkit.study import sgd_vs_full_batch
>>> result = sgd_vs_full_batch(  # doctest: +SKIP
...     activations=("tanh",), seeds=(0, 1, 2), epochs=300, n_points=20,
...     learning_rates={"sgd": (0.1,), "full_batch": (1.0, 3.0)})
>>> result.side_by_side()  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ibkit._plain import plain
from ibkit._validation import (
    DivergenceError,
    InvalidParameterError,
    Say,
    check_callback,
    check_confidence,
    check_int,
    check_positive,
    optional_module,
)
from ibkit.study.metrics import t_interval

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "GRADIENT_COLUMNS",
    "METHODS",
    "PHASE_METRICS",
    "SGDNoiseResult",
    "gradient_phases",
    "sgd_vs_full_batch",
]

#: The two training methods, by label.
METHODS = ("sgd", "full_batch")

#: Per-seed gradient phase metrics, in column order (see the module documentation).
PHASE_METRICS = ("transition_epoch", "snr_start", "snr_end")

#: Default learning-rate grids. SGD takes ⌈n/B⌉ = 14 steps an epoch on the 12-bit
#: training split and full batch one, so full batch needs larger rates for the same
#: progress per epoch; above 1 its members saturate or diverge (tanh and ReLU, 1000
#: epochs), so its grid ends there.
DEFAULT_LEARNING_RATES: dict[str, tuple[float, ...]] = {
    "sgd": (0.03, 0.1, 0.3),
    "full_batch": (0.1, 0.25, 0.5, 1.0),
}

#: Columns :func:`gradient_phases` needs.
GRADIENT_COLUMNS = ("method", "activation", "layer_index", "layer", "seed", "epoch", "snr")

_SIDE_METRICS = ("drop_bits", "drop_relative", "peak_epoch", *PHASE_METRICS)


@dataclass(frozen=True, eq=False)
class SGDNoiseResult:
    r"""Minibatch SGD against full-batch gradient descent on the same networks and split.

    Attributes
    ----------
    settings : dict
        The configuration the study ran with (plain values).
    tuning : pandas.DataFrame
        One row per method × activation × learning rate of the grid: ``final_train_loss``
        and ``final_train_acc`` (means over seeds at the last epoch; NaN if the run
        diverged), ``diverged``, ``optimizer_steps`` (steps counted during the run) and
        ``chosen`` (the rate kept for that method and activation).
    results : pandas.DataFrame
        The information-plane rows of the chosen runs (``run`` is the method; columns of
        :attr:`ibkit.nn.InformationPlane.results`, with ``method``, ``activation``,
        ``lr`` and that epoch's losses).
    gradients : pandas.DataFrame
        The gradient SNR of every weight matrix at every recorded epoch of the chosen
        runs (columns of :meth:`ibkit.nn.GradientSNR.snapshot`, with ``method``,
        ``activation`` and ``lr``).
    history : pandas.DataFrame
        Loss and accuracy per epoch and seed of the chosen runs.
    compression : pandas.DataFrame
        :func:`~ibkit.study.metrics.compression_metrics` of every trajectory (``run`` is
        the method).
    phases : pandas.DataFrame
        Per method, activation, weight layer and seed: ``transition_epoch`` (NaN if the
        SNR never falls below 1), ``snr_start``, ``snr_end``.
    summary : pandas.DataFrame
        Per method, activation, estimator and layer: the columns of
        :func:`~ibkit.study.metrics.summarize_compression`, then ``layer_index``, the
        weight matrix feeding the layer (``weights``: ``fc1`` feeds ``act1``, ``out`` the
        output), for each metric of :data:`PHASE_METRICS` its mean over seeds and
        interval (``*_low``, ``*_high``; the transition epoch over the seeds that have
        one; the SNRs as geometric means, the interval of the mean of
        :math:`\ln \mathrm{SNR}` exponentiated), ``n_transitions`` (seeds whose SNR fell
        below 1), and ``lr``.
    grid_summary : pandas.DataFrame
        The same summary for every learning rate of the grids that did not diverge
        (``lr`` tells them apart): is what the chosen rate shows a property of the
        method, or of the rate?
    train_index : dict
        ``"method/activation"`` -> the rows of the 12-bit task it trained on (sorted).
    initial_weights : dict
        ``"method/activation"`` -> every member's parameters before training, flattened,
        shape (n_seeds, n_parameters).
    confidence : float
        Coverage of the intervals.
    timing : dict
        Seconds per method and activation (all the grid), and in total.
    """

    settings: dict[str, Any]
    tuning: Any
    results: Any
    gradients: Any
    history: Any
    compression: Any
    phases: Any
    summary: Any
    grid_summary: Any
    train_index: dict[str, np.ndarray]
    initial_weights: dict[str, np.ndarray]
    confidence: float
    timing: dict[str, float] = field(default_factory=dict)

    def to_frame(self) -> Any:
        """The tidy summary: one row per method, activation, estimator and layer."""
        return self.summary.copy()

    def side_by_side(self, metrics: Sequence[str] = _SIDE_METRICS) -> Any:
        """The summary with the methods side by side.

        One row per (activation, estimator, layer); for each metric ``m`` of
        ``metrics`` and each method, the columns ``(m, method)``, ``(m_low, method)``
        and ``(m_high, method)``, then ``(compresses, method)`` and ``(lr, method)``.
        """
        keys = ["activation", "estimator", "layer"]
        unknown = [m for m in metrics if m not in _SIDE_METRICS]
        if unknown or isinstance(metrics, str):
            raise InvalidParameterError(
                f"metrics must be a sequence of {list(_SIDE_METRICS)}; got {metrics!r}"
            )
        columns = [c for m in metrics for c in (m, f"{m}_low", f"{m}_high")]
        wide = self.summary.pivot(
            index=keys, columns="method", values=[*columns, "compresses", "lr"]
        )
        order = [(c, m) for c in [*columns, "compresses", "lr"] for m in METHODS]
        return wide[[c for c in order if c in wide.columns]]

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python values (tables as lists of row dicts): JSON-able."""
        tables = {
            name: getattr(self, name).to_dict(orient="records")
            for name in ("tuning", "compression", "phases", "summary", "grid_summary")
        }
        return plain(
            {
                "settings": self.settings,
                **tables,
                "train_index": self.train_index,
                "initial_weights": self.initial_weights,
                "confidence": self.confidence,
                "timing": self.timing,
            },
            finite=True,
        )

    def figure(self, estimator: str | None = None) -> Any:
        """Both methods' information planes and gradient SNR (:func:`plot_sgd_vs_full_batch`)."""
        from ibkit.study.sgd_figures import plot_sgd_vs_full_batch

        return plot_sgd_vs_full_batch(self, estimator=estimator)


def sgd_vs_full_batch(
    *,
    activations: Sequence[str] = ("tanh", "relu"),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    epochs: int = 1500,
    n_points: int = 40,
    hidden: Sequence[int] = (10, 7, 5, 4, 3),
    train_size: float = 0.85,
    split_seed: int = 0,
    batch_size: int = 256,
    learning_rates: Mapping[str, Sequence[float]] | None = None,
    estimators: Sequence[str] = ("bin30[-1:1]", "bin0.07"),
    confidence: float = 0.95,
    say: Say | None = None,
) -> SGDNoiseResult:
    r"""Train the 12-bit network by minibatch SGD and by full-batch descent; compare.

    Parameters
    ----------
    activations : sequence of str
        One ensemble per activation (names of :data:`ibkit.nn.ACTIVATIONS`); tanh is
        where Shwartz-Ziv & Tishby saw compression, ReLU where Saxe et al. saw none.
    seeds : sequence of int
        Network seeds (≥ 2 for intervals), shared by both methods: the same initial
        weights and, for SGD, the data order of :func:`ibkit.nn.fit`.
    epochs : int
        Training epochs of every run (both methods alike).
    n_points : int
        Log-spaced recorded epochs (0 and the last included).
    hidden : sequence of int
        Hidden widths (12 inputs and 2 softmax outputs around them).
    train_size, split_seed : float, int
        Fraction of the 4096 patterns used for training (stratified) and the seed of
        the split; every pattern is in the probe.
    batch_size : int
        SGD minibatch size, and the minibatch of the gradient SNR of both methods; it
        must be smaller than the training set.
    learning_rates : dict, optional
        Method (``"sgd"``, ``"full_batch"``) -> the grid of learning rates to try; the
        one with the lowest final training loss (mean over seeds) is kept for each
        activation. A single rate skips the choice. Default:
        :data:`DEFAULT_LEARNING_RATES`.
    estimators : sequence of str
        Labels of :data:`~ibkit.study.plane_study.PLANE_ESTIMATORS`.
    confidence : float
        Coverage of the Student t intervals over seeds, in (0, 1).
    say : callable(str), optional
        Called with a one-line message as each run starts.

    Returns
    -------
    SGDNoiseResult

    Raises
    ------
    InvalidParameterError
        For a bad setting (before anything is trained).
    DivergenceError
        If every learning rate of a method's grid diverges for an activation.

    Notes
    -----
    Every run trains with one torch thread and one BLAS thread, so the tables depend on
    the settings alone. The runs of one method differ from the other's only in the
    batch size and the learning rate: the split, the seeds (initial weights), the
    epochs, the recorded epochs, the estimators and the SNR minibatches are the same.
    The estimators' saturation warnings (:class:`~ibkit.estimators.SaturationWarning`)
    are silenced: the ``at_ceiling`` column of :attr:`SGDNoiseResult.results` marks
    those points, and the figure draws them hollow.
    """
    import warnings

    from threadpoolctl import threadpool_limits

    from ibkit.estimators import SaturationWarning
    from ibkit.nn import torch_threads
    from ibkit.study.metrics import compression_metrics

    pd = optional_module("pandas", "sgd_vs_full_batch", "torch")
    config = _check_settings(
        activations=activations,
        seeds=seeds,
        epochs=epochs,
        n_points=n_points,
        hidden=hidden,
        train_size=train_size,
        split_seed=split_seed,
        batch_size=batch_size,
        learning_rates=learning_rates,
        estimators=estimators,
    )
    check_confidence(confidence)
    say = check_callback(say, "say") or (lambda message: None)

    started = time.perf_counter()
    timing: dict[str, float] = {}
    tuning, every, kept, train_index, initial = [], [], [], {}, {}
    with threadpool_limits(1), torch_threads(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        for method in METHODS:
            for activation in config["activations"]:
                clock = time.perf_counter()
                runs = []
                for lr in config["learning_rates"][method]:
                    say(f"{method} · {activation} · lr {lr:g}: {config['epochs']} epochs")
                    run = _train_run(config, method, activation, lr)
                    runs.append(run)
                    tuning.append(run["tuning"])
                    train_index[f"{method}/{activation}"] = run["train_index"]
                    initial[f"{method}/{activation}"] = run["initial_weights"]
                every += runs
                chosen = _choose(runs, method, activation)
                chosen["tuning"]["chosen"] = True
                kept.append(chosen)
                timing[f"{method}/{activation}"] = time.perf_counter() - clock

    results = pd.concat([r["plane"] for r in kept], ignore_index=True)
    gradients = pd.concat([r["gradients"] for r in kept], ignore_index=True)
    history = pd.concat([r["history"] for r in kept], ignore_index=True)
    compression = compression_metrics(results)
    phases = gradient_phases(gradients)
    summary = _summarize(kept, confidence)
    grid_summary = _summarize([r for r in every if not r["tuning"]["diverged"]], confidence)
    timing["total"] = time.perf_counter() - started
    return SGDNoiseResult(
        settings=plain({**config, "confidence": confidence}),
        tuning=pd.DataFrame(tuning),
        results=results,
        gradients=gradients,
        history=history,
        compression=compression,
        phases=phases,
        summary=summary,
        grid_summary=grid_summary,
        train_index=train_index,
        initial_weights=initial,
        confidence=float(confidence),
        timing=timing,
    )


def gradient_phases(gradients: Any) -> Any:
    r"""Drift/diffusion transition and SNR of each gradient trajectory.

    Parameters
    ----------
    gradients : pandas.DataFrame
        Rows of :meth:`ibkit.nn.GradientSNR.snapshot` (``seed, epoch, layer,
        layer_index, snr``) with ``method`` and ``activation`` columns, one row per
        recorded epoch of each trajectory.

    Returns
    -------
    pandas.DataFrame
        One row per (``method``, ``activation``, ``layer_index``, ``layer``, ``seed``),
        sorted, with ``transition_epoch`` — the first recorded epoch with
        :math:`\mathrm{SNR} < 1` (NaN if none) —, ``snr_start`` (the first recorded
        epoch) and ``snr_end`` (the last).

    Raises
    ------
    InvalidParameterError
        If ``gradients`` is not a non-empty DataFrame with those columns, or repeats an
        epoch of a trajectory.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"method": "sgd", "activation": "tanh", "layer": "fc1",
    ...                   "layer_index": 0, "seed": 0, "epoch": [0, 10, 100],
    ...                   "snr": [4.0, 0.8, 0.3]})
    >>> gradient_phases(g)[["transition_epoch", "snr_start", "snr_end"]].values.tolist()
    [[10.0, 4.0, 0.3]]
    """
    pd = optional_module("pandas", "gradient_phases", "torch")
    if not isinstance(gradients, pd.DataFrame):
        raise InvalidParameterError(
            f"gradients must be a pandas DataFrame; got {type(gradients).__name__}"
        )
    missing = [c for c in GRADIENT_COLUMNS if c not in gradients.columns]
    if missing or gradients.empty:
        raise InvalidParameterError(
            f"gradients must have rows and the columns {list(GRADIENT_COLUMNS)}; it lacks "
            f"{missing} and has {len(gradients)} rows"
        )
    keys = ["method", "activation", "layer_index", "layer", "seed"]
    if gradients.duplicated([*keys, "epoch"]).any():
        raise InvalidParameterError(
            "gradients repeats an epoch of a trajectory (method, activation, layer, seed); "
            "pass one row per recorded epoch"
        )
    table = gradients.sort_values([*keys, "epoch"], kind="stable")
    groups = table.groupby(keys, sort=True)
    below = table.assign(epoch=table["epoch"].where(table["snr"] < 1).astype(float))
    out = groups["snr"].agg(snr_start="first", snr_end="last")
    out.insert(0, "transition_epoch", below.groupby(keys, sort=True)["epoch"].min())
    return out.reset_index()


# --------------------------------------------------------------------------- runs


def _train_run(config: dict[str, Any], method: str, activation: str, lr: float) -> dict[str, Any]:
    """Train one ensemble by ``method`` at ``lr`` while recording its plane and SNR."""
    import torch
    from torch.optim.optimizer import register_optimizer_step_post_hook

    from ibkit.datasets import tishby_12bit, train_test_split
    from ibkit.nn import EnsembleMLP, GradientSNR, InformationPlane, fit
    from ibkit.study.plane_study import PLANE_ESTIMATORS

    pd = optional_module("pandas", "sgd_vs_full_batch", "torch")
    task = tishby_12bit()
    split = train_test_split(
        task.x, task.y, config["train_size"], random_state=config["split_seed"]
    )
    seeds = config["seeds"]
    model = EnsembleMLP(seeds, task.x.shape[1], config["hidden"], 2, activation=activation)
    initial = torch.cat([p.detach().reshape(len(seeds), -1) for p in model.parameters()], 1)
    plane = InformationPlane(
        model,
        task.x,
        task.y,
        estimators={label: PLANE_ESTIMATORS[label] for label in config["estimators"]},
        schedule="log",
        n_epochs=config["epochs"] + 1,
        n_points=config["n_points"],
        run=method,
        labels={"method": method, "activation": activation, "lr": lr},
    )
    dtype = next(model.parameters()).dtype
    x_train = torch.as_tensor(split.x_train, dtype=dtype)
    y_train = torch.as_tensor(split.y_train, dtype=torch.int64)
    snr_rows = []

    def on_epoch(epoch: int) -> None:
        if plane.should_record(epoch):
            snr_rows.append(
                _minibatch_snr(model, GradientSNR(model), x_train, y_train, epoch, config)
            )
        plane.record(epoch)

    steps = [0]
    hook = register_optimizer_step_post_hook(lambda *args: steps.__setitem__(0, steps[0] + 1))
    try:
        with plane:
            history = fit(
                model,
                split.x_train,
                split.y_train,
                epochs=config["epochs"],
                batch_size=config["batch_size"] if method == "sgd" else len(split.y_train),
                optimizer="sgd",
                lr=lr,
                x_test=split.x_test,
                y_test=split.y_test,
                on_epoch=on_epoch,
                fused=False,  # torch.optim's steps, which the hook above counts
            )
    except DivergenceError:
        history = None
    finally:
        hook.remove()
    row = {
        "method": method,
        "activation": activation,
        "lr": lr,
        "final_train_loss": math.nan,
        "final_train_acc": math.nan,
        "diverged": history is None,
        "optimizer_steps": steps[0],
        "chosen": False,
    }
    run: dict[str, Any] = {
        "tuning": row,
        "train_index": np.sort(split.train_index),
        "initial_weights": initial.double().numpy(),
    }
    if history is None:
        return run
    row["final_train_loss"] = float(history.train_loss[-1].mean())
    row["final_train_acc"] = float(history.train_acc[-1].mean())
    frame = history.to_frame()
    frame.insert(0, "lr", lr)
    frame.insert(0, "activation", activation)
    frame.insert(0, "method", method)
    gradients = pd.concat(snr_rows, ignore_index=True)
    gradients = gradients.assign(method=method, activation=activation, lr=lr)
    plane_rows = plane.results.merge(
        frame.drop(columns=["method", "activation", "lr"]),
        on=["seed", "epoch"],
        how="left",
        validate="many_to_one",
    )
    return {**run, "plane": plane_rows, "gradients": gradients, "history": frame}


def _minibatch_snr(
    model: Any, tracker: Any, x: Any, y: Any, epoch: int, config: dict[str, Any]
) -> Any:
    """Gradient SNR of every weight matrix over one pass of minibatches, weights fixed.

    The rows are cut by a permutation seeded with ``(split_seed, epoch)``, so both
    methods see the same minibatches at the same epoch. The gradients are cleared after.
    """
    import torch

    from ibkit.nn import member_losses

    order = np.random.default_rng([config["split_seed"], epoch]).permutation(len(y))
    with tracker:
        for index in torch.as_tensor(order).split(config["batch_size"]):
            logits = model(x[index])
            member_losses(logits, y[index], model.output_kind).sum().backward()
    model.zero_grad(set_to_none=True)
    return tracker.snapshot(epoch)


def _choose(runs: list[dict[str, Any]], method: str, activation: str) -> dict[str, Any]:
    """The run of the grid with the lowest mean final training loss."""
    trained = [r for r in runs if not r["tuning"]["diverged"]]
    if not trained:
        grid = [r["tuning"]["lr"] for r in runs]
        raise DivergenceError(
            f"{method} training of the {activation} network diverged at every learning rate "
            f"of its grid {grid}; add smaller rates to learning_rates[{method!r}]"
        )
    return min(trained, key=lambda r: r["tuning"]["final_train_loss"])


def _summarize(runs: list[dict[str, Any]], confidence: float) -> Any:
    """Compression summary of each run beside the phase summary of the same layer.

    One block of rows per run (method, activation, learning rate). A hidden layer's
    activations follow the weight matrix of the same ``layer_index`` (``fc1`` feeds
    layer 1, ``out`` the output), so the two summaries join on it.
    """
    import pandas as pd

    from ibkit.study.metrics import compression_metrics, summarize_compression

    frames = []
    for run in runs:
        method, lr = run["tuning"]["method"], run["tuning"]["lr"]
        part = summarize_compression(compression_metrics(run["plane"]), confidence)
        part.insert(0, "method", method)
        layers = run["plane"][["activation", "layer", "layer_index"]].drop_duplicates()
        part = part.merge(layers, on=["activation", "layer"], how="left", validate="many_to_one")
        phases = _phase_summary(gradient_phases(run["gradients"]), confidence)
        keys = ["method", "activation", "layer_index"]
        part = part.merge(phases, on=keys, how="left", validate="many_to_one")
        part["lr"] = lr
        frames.append(part)
    summary = pd.concat(frames, ignore_index=True)
    summary.attrs["confidence"] = float(confidence)
    return summary


def _phase_summary(phases: Any, confidence: float) -> Any:
    """Per (method, activation, weight layer): each phase metric's mean and interval.

    The transition epoch is averaged over the seeds that have one; the SNRs
    geometrically (the interval of the mean of their logarithm, exponentiated).
    """
    import pandas as pd

    keys = ["method", "activation", "layer_index"]
    rows = []
    for key, group in phases.groupby(keys, sort=True):
        row = dict(zip(keys, key, strict=True), weights=group["layer"].iloc[0])
        for metric in PHASE_METRICS:
            values = group[metric].to_numpy(np.float64)
            geometric = metric != "transition_epoch"
            mean = t_interval(np.log(values) if geometric else values, confidence)
            row[metric], row[f"{metric}_low"], row[f"{metric}_high"] = (
                np.exp(mean) if geometric else mean
            )
        row["n_transitions"] = int(group["transition_epoch"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- settings


def _check_settings(
    *, learning_rates: Mapping[str, Sequence[float]] | None, **settings: Any
) -> dict[str, Any]:
    """Validate the settings; return them as plain tuples and a complete grid per method.

    The settings shared with the tanh/ReLU study are checked by
    :class:`~ibkit.study.plane_study.PlaneStudy` itself.
    """
    from ibkit.study.plane_study import PlaneStudy

    grids = dict(DEFAULT_LEARNING_RATES)
    if learning_rates is not None:
        if not isinstance(learning_rates, Mapping):
            raise InvalidParameterError(
                "learning_rates must be a dict of method -> sequence of learning rates, "
                f"methods {list(METHODS)}; got {type(learning_rates).__name__}"
            )
        unknown = [m for m in learning_rates if m not in METHODS]
        if unknown:
            raise InvalidParameterError(
                f"learning_rates has unknown method(s) {unknown}; choose from {list(METHODS)}"
            )
        grids.update(learning_rates)
    for method, grid in grids.items():
        if isinstance(grid, str) or not isinstance(grid, Sequence) or not grid:
            raise InvalidParameterError(
                f"learning_rates[{method!r}] must be a non-empty sequence of rates > 0; "
                f"got {grid!r}"
            )
        rates = tuple(check_positive(lr, f"learning_rates[{method!r}]") for lr in grid)
        if len(set(rates)) != len(rates):
            raise InvalidParameterError(f"learning_rates[{method!r}] must be distinct; got {rates}")
        grids[method] = rates
    study = PlaneStudy(optimizer="sgd", lr=grids["sgd"][0], **settings)
    n_train = math.floor(study.train_size * 4096 + 0.5)
    if check_int(study.batch_size, "batch_size") >= n_train:
        raise InvalidParameterError(
            f"batch_size must be smaller than the training set ({n_train} rows at "
            f"train_size={study.train_size}) for SGD to use minibatches; got {study.batch_size}"
        )
    return {
        "activations": study.activations,
        "seeds": study.seeds,
        "epochs": study.epochs,
        "n_points": study.n_points,
        "hidden": study.hidden,
        "train_size": study.train_size,
        "split_seed": study.split_seed,
        "batch_size": study.batch_size,
        "learning_rates": grids,
        "estimators": study.estimators,
    }

r"""The information-plane study of deep networks: tanh against ReLU, several estimators.

Shwartz-Ziv & Tishby (2017) trained a 12-10-7-5-4-3-2 tanh network on the 12-bit task,
binned each layer into 30 bins on [−1, 1] and saw I(X;T) first rise (fitting) and then
fall (compression). Saxe et al. (2018) found no compression with ReLU, traced the tanh
result to saturation under binning, and used KDE bounds on a noisy layer instead.
:func:`run_plane_study` repeats both on the same seeds, split and schedule:

1. the data (``data``: the 12-bit task by default, :func:`ibkit.datasets.tishby_12bit`;
   or digits, MNIST, a file), a seeded stratified split;
2. for each activation, the networks (``model``): an :class:`~ibkit.nn.EnsembleMLP` of
   all seeds trained at once (:func:`ibkit.nn.fit`), or a
   :class:`~ibkit.nn.cnn.ConvNet` or a network of your own trained seed after seed;
   checkpointed so an interrupted run resumes;
3. an :class:`~ibkit.nn.InformationPlane` on all the inputs (the 4096 patterns of the
   12-bit task) at log-spaced epochs, with
   every estimator of :data:`PLANE_ESTIMATORS` (binning three ways, KDE bounds at two
   noise levels, the Monte Carlo MI of the noisy layer), and the gradient SNR;
4. the compression metrics of every layer with intervals across seeds
   (:mod:`ibkit.study.metrics`), and the exact IB curve of the 12-bit task as the bound.

Every point carries the recorder's diagnostics (``at_ceiling``, ``negative``,
``singleton_share``, ``bound_gap``, ``std_error``; see :func:`ibkit.nn.plane_points`).
A layer at an estimator's ceiling, 12 bits for the 4096 inputs, cannot show
compression there, whatever its compression metrics say: the study warns once per
activation, layer and estimator from the final table, however many processes recorded
it and whether or not it resumed (:class:`~ibkit.estimators.SaturationWarning`), and
the figures draw those points hollow.

Everything is written to the output folder as it is computed (tidy CSVs, figures), and a
second call with the same folder and configuration continues where the first stopped.

References
----------
R. Shwartz-Ziv and N. Tishby, arXiv:1703.00810, 2017.
A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ibkit._tables import FolderLock, Owner, atomic_write, write_csv, writing_for
from ibkit._validation import (
    InvalidParameterError,
    Say,
    check_bool,
    check_callback,
    check_int,
    check_positive,
    optional_module,
)
from ibkit.study._plane_inputs import build_model, check_data, check_model, load_data

__all__ = [
    "PLANE_ESTIMATORS",
    "REFERENCE_ESTIMATORS",
    "PlaneStudy",
    "PlaneStudyResult",
    "run_plane_study",
]

#: The estimators of the study, by label: the settings of the two reference analyses.
PLANE_ESTIMATORS: dict[str, tuple[str, dict[str, Any]]] = {
    # Shwartz-Ziv & Tishby: 30 equal bins on the range of tanh
    "bin30[-1:1]": ("binning", {"n_bins": 30, "value_range": (-1.0, 1.0)}),
    # Saxe et al.: bins of width 0.07 on an unbounded grid (ReLU is not collapsed)
    "bin0.07": ("binning", {"bin_size": 0.07}),
    # 30 bins spanning each layer's values at that epoch
    "bin30": ("binning", {"n_bins": 30}),
    # Saxe et al.'s KDE bounds on a noisy layer, at their two noise variances
    "kde1e-3": ("kde", {"noise_variance": 1e-3}),
    "kde0.1": ("kde", {"noise_variance": 0.1}),
    # the Monte Carlo MI of the same noisy layer that the KDE bounds bracket
    "noisy_mc0.1": ("noisy_mc", {"noise_variance": 0.1, "n_mc": 1}),
    # for wide layers (conv nets): noise 30 times the layer's mean per-unit variance, so
    # the noise follows the layer's scale across layers and epochs
    "kde_rel30": ("kde", {"noise_variance": 30.0, "noise_relative": True}),
    # the matrix-based Renyi functional (alpha = 1.01), not Shannon MI
    "renyi": ("renyi", {}),
}

#: The six estimators of the reference study (the default of :class:`PlaneStudy`): the
#: three binnings, the two KDE bounds and the Monte Carlo MI of the 12-bit analyses.
REFERENCE_ESTIMATORS: tuple[str, ...] = (
    "bin30[-1:1]",
    "bin0.07",
    "bin30",
    "kde1e-3",
    "kde0.1",
    "noisy_mc0.1",
)


@dataclass(frozen=True)
class PlaneStudy:
    """The configuration of an information-plane study (defaults: the reference setup).

    Attributes
    ----------
    activations : tuple of str
        One ensemble per activation (names of :data:`ibkit.nn.ACTIVATIONS`).
    seeds : tuple of int
        Network seeds; every activation uses the same ones.
    epochs, n_points : int
        Training epochs, and how many log-spaced epochs are recorded (0 and the last
        included).
    hidden : tuple of int
        Hidden widths of ``model="mlp"`` (12 inputs and 2 softmax outputs around them on
        the 12-bit task).
    train_size, split_seed : float, int
        Fraction of the rows used for training (stratified), and the seed of the split.
    optimizer, lr, batch_size
        Training settings (Adam, 4e-4, 256 as in Saxe et al.'s reproduction).
    estimators : tuple of str
        Labels of :data:`PLANE_ESTIMATORS`; default :data:`REFERENCE_ESTIMATORS`, the six
        of the reference analyses (``kde_rel30`` and ``renyi`` are there for wide
        layers).
    label_noise : float
        Probability of flipping each label of the 12-bit task (0: the noise-free task).
    track_gradients : bool
        Record the gradient signal-to-noise ratio per layer.
    data : str
        ``"12bit"``; ``"digits"`` (1797 images 8×8); ``"mnist:DIR"`` (the 60000 MNIST
        training images in the folder DIR: ``train-images-idx3-ubyte`` and
        ``train-labels-idx1-ubyte``, plain or ``.gz``); or a ``.npz``/``.csv`` file of
        inputs ``x`` and integer labels ``y`` (:func:`ibkit.datasets.load_table`).
    model : str
        ``"mlp"``: an :class:`~ibkit.nn.EnsembleMLP` of ``hidden``, all seeds at once.
        ``"cnn"``: :class:`~ibkit.nn.cnn.ConvNet` (``digits`` or ``mnist:DIR``), seed
        after seed. ``"module:factory"``: ``factory(seed, in_shape, n_classes,
        activation)`` from an importable module, returning a :class:`torch.nn.Module`
        that maps inputs ``(n, *in_shape)`` to logits (n, n_classes), seed after seed;
        ``in_shape`` is (12,) for 12bit, (1, 8, 8) for digits, (1, 28, 28) for MNIST,
        (d,) for a file; it runs with torch's global generator seeded with ``seed``. The
        module is imported when the study is made: a configuration naming one is as
        trusted as a script.
    probe_size : int, optional
        Record each network on this many probe rows, drawn without replacement with the
        network's seed (:class:`~ibkit.nn.InformationPlane`'s ``probe_size``; the rows
        are in its ``probe_indices``); None records every row. The pairwise estimators
        cost :math:`O(n^2)` per layer and epoch, so on MNIST (60000 images) a probe of a
        few thousand keeps a record to seconds.

    Every setting is checked when the configuration is made, so a bad one is refused
    before anything is written.
    """

    activations: tuple[str, ...] = ("tanh", "relu")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    epochs: int = 4000
    n_points: int = 200
    hidden: tuple[int, ...] = (10, 7, 5, 4, 3)
    train_size: float = 0.85
    split_seed: int = 0
    optimizer: str = "adam"
    lr: float = 4e-4
    batch_size: int = 256
    estimators: tuple[str, ...] = REFERENCE_ESTIMATORS
    label_noise: float = 0.0
    track_gradients: bool = True
    data: str = "12bit"
    model: str = "mlp"
    probe_size: int | None = None

    def __post_init__(self) -> None:
        from ibkit.nn.mlp import ACTIVATIONS
        from ibkit.nn.training import OPTIMIZERS

        for name in ("activations", "seeds", "hidden", "estimators"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Sequence) or not value:
                raise InvalidParameterError(f"{name} must be a non-empty sequence; got {value!r}")
            if len(set(value)) != len(value) and name != "hidden":
                raise InvalidParameterError(f"{name} must be distinct; got {tuple(value)}")
            object.__setattr__(self, name, tuple(value))
        for name, allowed in (("activations", ACTIVATIONS), ("estimators", PLANE_ESTIMATORS)):
            unknown = [v for v in getattr(self, name) if v not in allowed]
            if unknown:
                label = "estimator label(s)" if name == "estimators" else "activation(s)"
                raise InvalidParameterError(
                    f"unknown {label} {unknown}; choose from {list(allowed)}"
                )
        for seed in self.seeds:
            check_int(seed, "seeds", minimum=0)
        for width in self.hidden:
            check_int(width, "hidden", minimum=1)
        check_int(self.epochs, "epochs", minimum=1)
        check_int(self.n_points, "n_points", minimum=2)
        if check_positive(self.train_size, "train_size") >= 1:
            raise InvalidParameterError(
                f"train_size must be a fraction strictly between 0 and 1; got {self.train_size!r}"
            )
        check_int(self.split_seed, "split_seed", minimum=0)
        if self.optimizer not in OPTIMIZERS:
            raise InvalidParameterError(
                f"optimizer must be one of {list(OPTIMIZERS)}; got {self.optimizer!r}"
            )
        check_positive(self.lr, "lr")
        check_int(self.batch_size, "batch_size", minimum=1)
        if check_positive(self.label_noise, "label_noise", allow_zero=True) > 0.5:
            raise InvalidParameterError(
                f"label_noise must be a probability in [0, 0.5]; got {self.label_noise!r}"
            )
        check_bool(self.track_gradients, "track_gradients")
        check_data(self.data)
        if self.label_noise and self.data != "12bit":
            raise InvalidParameterError(
                f"label_noise applies to data='12bit' only; got data={self.data!r}"
            )
        check_model(self.model, self.data)
        if self.probe_size is not None:
            check_int(self.probe_size, "probe_size", minimum=2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready configuration (tuples as lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlaneStudy:
        """Inverse of :meth:`to_dict`; unknown keys are an error, missing ones default."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(data) - known)
        if extra:
            raise InvalidParameterError(f"unknown study setting(s) {extra}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True, eq=False)
class PlaneStudyResult:
    """The tables of a finished study (also on disk in ``out_dir``).

    Attributes
    ----------
    study : PlaneStudy
    results : pandas.DataFrame
        The information-plane table (one row per activation, seed, epoch, layer and
        estimator), joined with the training metrics of that epoch and seed.
    gradients, history : pandas.DataFrame
        Gradient SNR rows, and loss/accuracy per epoch and seed.
    compression, summary : pandas.DataFrame
        Per-seed compression metrics, and their means with intervals across seeds.
    bound : IBCurve or None
        The exact IB curve of the 12-bit task (None for other data).
    out_dir : Path
    timing : dict
        Seconds spent per activation (training + recording), and in total.
    """

    study: PlaneStudy
    results: Any
    gradients: Any
    history: Any
    compression: Any
    summary: Any
    bound: Any
    out_dir: Path
    timing: dict[str, float] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        """The study's figures by file stem: planes, trajectories, SNR, training curves."""
        from ibkit.study.figures import (
            plot_gradient_snr,
            plot_layer_trajectories,
            plot_plane_grid,
            plot_training_curves,
        )

        plt = optional_module("matplotlib.pyplot", "PlaneStudyResult.figures", "plot")
        figs: dict[str, Any] = {"planes": plot_plane_grid(self.results, bound=self.bound)}
        acts = list(self.study.activations)
        ests = list(self.study.estimators)
        fig, axes = plt.subplots(
            len(acts),
            len(ests),
            figsize=(3.4 * len(ests), 2.7 * len(acts)),
            layout="constrained",
            squeeze=False,
        )
        for i, act in enumerate(acts):
            for j, est in enumerate(ests):
                rows = self.results[
                    (self.results["activation"] == act) & (self.results["estimator"] == est)
                ]
                plot_layer_trajectories(rows, ax=axes[i, j], title=f"{act} · {est}")
        figs["trajectories"] = fig
        if self.gradients is not None and len(self.gradients):
            fig, axes = plt.subplots(
                1, len(acts), figsize=(4.2 * len(acts), 3.0), layout="constrained", squeeze=False
            )
            for ax, act in zip(axes[0], acts, strict=True):
                plot_gradient_snr(
                    self.gradients[self.gradients["activation"] == act], ax=ax, title=act
                )
            figs["gradient_snr"] = fig
        fig, axes = plt.subplots(
            len(acts), 2, figsize=(7.6, 2.6 * len(acts)), layout="constrained", squeeze=False
        )
        for row, act in zip(axes, acts, strict=True):
            plot_training_curves(self.history[self.history["activation"] == act], axes=row)
            row[0].set_title(act, fontsize=9)
        figs["training"] = fig
        return figs

    def save_figures(self, formats: tuple[str, ...] = ("png", "pdf")) -> list[Path]:
        """Write every figure to ``out_dir`` in each format; return the paths."""
        from ibkit.plots import save_figure

        plt = optional_module("matplotlib.pyplot", "PlaneStudyResult.save_figures", "plot")
        paths = []
        for stem, fig in self.figures().items():
            paths += [save_figure(fig, self.out_dir / f"{stem}.{fmt}") for fmt in formats]
            plt.close(fig)
        return paths


def run_plane_study(
    study: PlaneStudy | None = None,
    out_dir: str | Path = "plane-study",
    *,
    n_jobs: int = 1,
    say: Say | None = None,
) -> PlaneStudyResult:
    """Run (or resume) an information-plane study and write its tables to ``out_dir``.

    Parameters
    ----------
    study : PlaneStudy, optional
        The configuration (default: the reference setup, 5 seeds × 4000 epochs).
    out_dir : str or Path
        Folder for ``config.json``, the per-activation tables and checkpoints, and the
        combined ``results.csv``, ``gradients.csv``, ``history.csv``,
        ``compression.csv`` and ``compression_summary.csv``. The study holds the folder's
        lock while it runs (a second run there raises :class:`OSError` naming the PID
        that holds it); a folder holding a study with another configuration is refused.
    n_jobs : int
        Activations trained in parallel worker processes. Every activation trains and
        estimates with one thread (torch and BLAS), so the tables depend on the seeds
        alone, whatever ``n_jobs``; a worker whose parent is killed stops writing.
    say : callable(str), optional
        Called with a one-line message as each activation starts and ends (a status
        line, not a ``progress(done, total)`` callback).

    Returns
    -------
    PlaneStudyResult

    Warns
    -----
    SaturationWarning
        Once per activation, layer and estimator of the final table with a point at the
        estimator's ceiling (e.g. ``bin30[-1:1]`` on the first tanh layers, whose 4096
        inputs all fall in cells of their own).

    Notes
    -----
    Resuming: the table of each activation ends up holding every scheduled epoch, once.
    Epochs whose rows are incomplete (a run killed while writing them) are dropped and
    recorded again; if the table lacks an epoch that the training checkpoint has already
    passed, training starts again from the beginning (it is deterministic) and records
    only the missing epochs.
    """
    import time

    from joblib import Parallel, delayed

    from ibkit.datasets import tishby_12bit
    from ibkit.ib import ib_curve
    from ibkit.nn.plane import _warn_saturated
    from ibkit.study.metrics import compression_metrics, summarize_compression

    pd = optional_module("pandas", "run_plane_study", "torch")
    study = PlaneStudy() if study is None else study
    if not isinstance(study, PlaneStudy):
        raise InvalidParameterError(f"study must be a PlaneStudy; got {type(study).__name__}")
    n_jobs = check_int(n_jobs, "n_jobs", minimum=1)
    say = check_callback(say, "say") or (lambda message: None)
    out = Path(out_dir)

    with FolderLock(out) as owner:
        _claim_folder(out, study)
        started = time.perf_counter()
        acts = study.activations
        if n_jobs == 1 or len(acts) == 1:
            timings = []
            for act in acts:
                say(f"{act}: training {len(study.seeds)} seeds for {study.epochs} epochs")
                timings.append(_run_activation(study, act, str(out), owner))
                say(f"{act}: done in {timings[-1]:.0f} s")
        else:
            say(f"training {', '.join(acts)} in {min(n_jobs, len(acts))} processes")
            timings = Parallel(n_jobs=min(n_jobs, len(acts)))(
                delayed(_run_activation)(study, act, str(out), owner) for act in acts
            )
        timing = dict(zip(acts, timings, strict=True))

        def gather(name: Callable[[str], str]) -> Any:
            frames = [pd.read_csv(out / name(act)) for act in acts if (out / name(act)).exists()]
            return pd.concat(frames, ignore_index=True) if frames else None

        history = gather(lambda act: f"history_{act}.csv")
        results = gather(lambda act: f"plane_{act}.csv").merge(
            history, on=["activation", "seed", "epoch"], how="left", validate="many_to_one"
        )
        gradients = gather(lambda act: f"plane_{act}_gradients.csv")
        _warn_saturated(results, set(), ("activation", "layer", "estimator"))
        compression = compression_metrics(results)
        summary = summarize_compression(compression)
        bound = ib_curve(tishby_12bit(study.label_noise).p_xy) if study.data == "12bit" else None
        for name, frame in (
            ("results", results),
            ("gradients", gradients),
            ("history", history),
            ("compression", compression),
            ("compression_summary", summary),
        ):
            if frame is not None:
                write_csv(frame, out / f"{name}.csv")
    timing["total"] = time.perf_counter() - started
    return PlaneStudyResult(
        study, results, gradients, history, compression, summary, bound, out, timing
    )


def _claim_folder(out: Path, study: PlaneStudy) -> None:
    """Write ``config.json`` in ``out``, or check that it holds this same study."""
    config = out / "config.json"
    if config.exists():
        try:
            previous = json.loads(config.read_text())
        except (ValueError, OSError) as exc:  # JSON or UTF-8 errors, a folder
            reason = " ".join(str(exc).split())
            raise InvalidParameterError(
                f"{config} is not a study configuration ({reason}); delete it to start a new "
                "study in that folder, or choose another one"
            ) from None
        if not isinstance(previous, dict) or _with_defaults(previous) != study.to_dict():
            raise InvalidParameterError(
                f"{out} holds a study with another configuration ({config}); resume it with "
                "the same settings, or choose another output folder"
            )
    else:
        with atomic_write(config) as handle:
            handle.write(json.dumps(study.to_dict(), indent=2) + "\n")


def _with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """A saved configuration with the settings it predates (``data``, ``model``) filled in."""
    return {**PlaneStudy().to_dict(), **config}


def _run_activation(study: PlaneStudy, activation: str, out_dir: str, owner: Owner) -> float:
    """Train and record one activation (all seeds); return the seconds spent.

    ``model="mlp"`` trains one ensemble of all seeds; another model trains one network
    per seed, in turn, each with its own checkpoint, into the same tables. One torch
    thread and one BLAS thread: the small nets train fastest so (docs/performance/speed.md), and
    the float32 sums of the estimators then do not depend on the number of threads a
    process happens to have. Every write checks that ``owner`` is alive. The recorder's
    saturation warnings are left to :func:`run_plane_study`, which gives them from the
    final table (a worker process's warnings would be lost).
    """
    import time
    import warnings

    from threadpoolctl import threadpool_limits

    from ibkit.datasets import train_test_split
    from ibkit.estimators import SaturationWarning
    from ibkit.nn import EnsembleMLP, torch_threads

    pd = optional_module("pandas", "run_plane_study", "torch")
    started = time.perf_counter()
    out = Path(out_dir)
    with writing_for(owner), threadpool_limits(1), torch_threads(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        x, y, in_shape = load_data(study.data, study.label_noise)
        split = train_test_split(x, y, study.train_size, random_state=study.split_seed)
        n_classes = int(y.max()) + 1
        if study.model == "mlp":
            model = EnsembleMLP(
                study.seeds, x.shape[1], study.hidden, n_classes, activation=activation
            )
            runs = [(model, None, f"checkpoint_{activation}.pt")]
        else:
            runs = (
                (
                    build_model(study.model, seed, in_shape, n_classes, activation),
                    seed,
                    f"checkpoint_{activation}_seed{seed}.pt",
                )
                for seed in study.seeds
            )

        def shaped(a: Any) -> Any:  # an MLP reads flat rows, other models (n, *in_shape)
            return a if study.model == "mlp" else a.reshape(-1, *in_shape)

        data = (shaped(x), y, shaped(split.x_train), split.y_train)
        data += (shaped(split.x_test), split.y_test)
        frames = []
        for model, seed, checkpoint in runs:
            history = _train_and_record(study, activation, model, seed, out / checkpoint, *data)
            frame = history.to_frame()
            if seed is not None:  # a module without a ``seed`` attribute leaves it empty
                frame["seed"] = seed
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True)
        frame.insert(0, "activation", activation)
        write_csv(frame, out / f"history_{activation}.csv")
    return time.perf_counter() - started


def _train_and_record(
    study: PlaneStudy,
    activation: str,
    model: Any,
    seed: int | None,
    checkpoint: Path,
    x: Any,
    y: Any,
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
) -> Any:
    """Train ``model`` (an ensemble, or the network of ``seed``) while recording its plane.

    Returns its :class:`~ibkit.nn.TrainingHistory`. A network of one seed shuffles its
    batches with ``random_state=seed``, an ensemble with its members' seeds.
    """
    from ibkit.nn import InformationPlane, fit
    from ibkit.nn.training import checkpoint_epoch

    plane = InformationPlane(
        model,
        x,
        y,
        estimators={label: PLANE_ESTIMATORS[label] for label in study.estimators},
        schedule="log",
        n_epochs=study.epochs + 1,
        n_points=study.n_points,
        track_gradients=study.track_gradients,
        path=checkpoint.parent / f"plane_{activation}.csv",
        run=activation,
        seed=seed,
        labels={"activation": activation},
        probe_size=study.probe_size,
    )
    with plane:
        missing = plane.missing_epochs()
        if missing and min(missing) <= checkpoint_epoch(checkpoint):
            checkpoint.unlink()  # only training again reaches the epochs it has passed
        history = fit(
            model,
            x_train,
            y_train,
            epochs=study.epochs,
            batch_size=study.batch_size,
            optimizer=study.optimizer,
            lr=study.lr,
            random_state=seed,
            x_test=x_test,
            y_test=y_test,
            on_epoch=plane.record,
            checkpoint=checkpoint,
        )
        missing = plane.missing_epochs()
    if missing:
        raise RuntimeError(f"{plane.path} lacks the epochs {sorted(missing)} after training")
    return history

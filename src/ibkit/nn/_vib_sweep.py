r"""A sweep over β: one IB classifier per β, its rate, relevance and accuracy in one table.

Each β trains a fresh model (:class:`~ibkit.nn.vib.VIBClassifier` or
:class:`~ibkit.nn.nonlinear_ib.NonlinearIB`) with :func:`~ibkit.nn.vib.train_vib` and
keeps the last epoch. Every β starts from the same initial weights and sees the same batch
order and noise (common random numbers), so the differences between rows come from β
alone. The rows are points on the information plane: the rate bounds :math:`I(X;Z)` from
above and the relevance bounds :math:`I(Z;Y)` from below, and :math:`I(Z;Y) \le
\min(I(X;Z), H(Y))` holds for the true values.

A β whose training diverges (a NaN or infinite loss, or one that runs away above 10 times
the larger of its value before training and ln K: see
:func:`~ibkit.nn.training.loss_ceiling`) stops the sweep with
:class:`~ibkit._validation.DivergenceError` naming the settings to lower (β, the learning
rate, the scale of ``x``): no row of the table is ever computed from a diverged model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ibkit._validation import (
    InvalidParameterError,
    check_array,
    check_callback,
    check_int,
    check_positive,
    pandas_module,
)
from ibkit.nn.adversarial import fgsm_accuracy
from ibkit.nn.nonlinear_ib import NonlinearIB
from ibkit.nn.training import Progress
from ibkit.nn.vib import (
    StochasticClassifier,
    VIBClassifier,
    _check_labels,
    _torch_seed,
    check_beta,
    train_vib,
)

__all__ = ["MODELS", "vib_sweep"]

#: names accepted by ``vib_sweep(model=...)``
MODELS = ("vib", "nonlinear_ib")

#: per-epoch fields of :class:`~ibkit.nn.vib.VIBHistory` kept (last epoch) in each row
_HISTORY_COLUMNS = ("rate_bits", "relevance_bits", "ce_bits", "train_acc", "test_acc")


def _build(
    model: str, in_features: int, n_classes: int, beta: float, options: dict[str, Any]
) -> StochasticClassifier:
    if model == "vib":
        return VIBClassifier(in_features, n_classes, beta=beta, **options)
    return NonlinearIB(in_features, n_classes, beta=beta, **options)


def _check_betas(betas: Any) -> np.ndarray:
    b = check_array(betas, "betas", ndim=1)
    for i, beta in enumerate(b):
        check_beta(float(beta), f"betas[{i}]")
    return b


def check_sweep_options(
    *,
    model: Any,
    epochs: Any,
    dim: Any,
    encoder: Any,
    batch_size: Any,
    lr: Any,
    test_size: Any,
    fgsm_eps: Any,
    progress: Any,
    **model_options: Any,
) -> tuple[int, np.ndarray | None, float, Progress | None]:
    """Check the options of :func:`vib_sweep` that do not depend on the data.

    The model's own options (``dim``, ``encoder``, ``model_options``) are checked by
    building it on torch's ``meta`` device, which allocates no memory and draws no random
    numbers. Returns ``epochs``, ``fgsm_eps`` as an array (or None), ``test_size`` and
    ``progress``.

    Raises
    ------
    InvalidParameterError
        Naming the first option out of its range, with the value received.
    """
    if model not in MODELS:
        raise InvalidParameterError(f"model must be one of {list(MODELS)}; got {model!r}")
    epochs = check_int(epochs, "epochs", minimum=1)
    check_int(batch_size, "batch_size", minimum=1)
    check_positive(lr, "lr")
    size = check_positive(test_size, "test_size")
    if size >= 1:
        raise InvalidParameterError(f"test_size must be in (0, 1); got {test_size!r}")
    eps = None if fgsm_eps is None else check_array(fgsm_eps, "fgsm_eps", ndim=1)
    progress = check_callback(progress, "progress")
    with torch.device("meta"):
        _build(model, 1, 2, 0.0, {"dim": dim, "encoder": encoder, **model_options})
    return epochs, eps, size, progress


def vib_sweep(
    x: Any,
    y: Any,
    betas: Sequence[float],
    *,
    model: str = "vib",
    epochs: int = 100,
    dim: int = 32,
    encoder: Sequence[int] = (256, 256),
    batch_size: int = 100,
    lr: float = 1e-3,
    test_size: float = 0.2,
    x_test: Any = None,
    y_test: Any = None,
    fgsm_eps: Sequence[float] | None = None,
    random_state: Any = 0,
    progress: Progress | None = None,
    **model_options: Any,
) -> Any:
    r"""Train one IB classifier per β and tabulate rate, relevance and accuracy.

    Parameters
    ----------
    x, y : array-like, shapes (n, d) and (n,)
        Inputs and integer class labels (0, 1, ...).
    betas : sequence of float
        The β values, each ≥ 0 (0 is the baseline without the rate term).
    model : {"vib", "nonlinear_ib"}, default "vib"
    epochs, batch_size, lr : int, int, float
        Passed to :func:`~ibkit.nn.vib.train_vib` (Adam, β₁ = 0.5, rate × 0.97 every
        2 epochs). The defaults suit scikit-learn's digits (1437 training rows); the
        paper's MNIST run uses ``lr=1e-4``, 200 epochs.
    dim : int, default 32
        Code dimension :math:`K`.
    encoder : sequence of int, default (256, 256)
        Hidden widths of the ReLU encoder.
    test_size : float, default 0.2
        Fraction held out (stratified, seeded) when ``x_test`` is not given.
    x_test, y_test : array-like, optional
        An explicit test set (then ``x, y`` are all training data).
    fgsm_eps : sequence of float, optional
        If given, adds a column ``fgsm_acc_<eps>`` per ε: test accuracy under the FGSM
        attack of :func:`~ibkit.nn.adversarial.fgsm_accuracy` (inputs must lie in [0, 1]).
    random_state : None, int or numpy Generator, default 0
        One seed for the split, the initial weights, the batch order and the noise,
        shared by every β.
    progress : callable(done, total), optional
        Called after every epoch of every β (total = ``len(betas) * epochs``).
    **model_options
        Further keyword arguments of the model (``n_samples_eval``; for NonlinearIB
        ``power``, ``decoder``, ``noise_variance``).

    Returns
    -------
    pandas.DataFrame
        One row per β, in input order: ``beta``, ``rate_bits``, ``relevance_bits``,
        ``h_y_bits``, ``ce_bits``, ``train_acc``, ``test_acc``, ``chance_acc`` (share of the
        most frequent test label), ``seconds`` (training time), ``model``, then the
        ``fgsm_acc_<eps>`` columns.

    Raises
    ------
    DivergenceError
        If the training of a β diverges: a NaN or infinite loss, or one that runs away
        (see :func:`~ibkit.nn.vib.train_vib`); the message names β (when > 0), the
        learning rate and the largest input, the knobs to lower.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((300, 4)).astype(np.float32); y = (x[:, 0] > 0.5).astype(int)
    >>> df = vib_sweep(x, y, [1e-3, 10.0], epochs=15, dim=2, encoder=(16,), lr=1e-2)
    >>> bool(df.rate_bits[0] > df.rate_bits[1]), bool(df.test_acc[0] > 0.9)
    (True, True)
    """
    pd = pandas_module("vib_sweep")
    from ibkit.datasets.split import train_test_split

    epochs, eps, size, progress = check_sweep_options(
        model=model,
        epochs=epochs,
        dim=dim,
        encoder=encoder,
        batch_size=batch_size,
        lr=lr,
        test_size=test_size,
        fgsm_eps=fgsm_eps,
        progress=progress,
        **model_options,
    )
    beta_values = _check_betas(betas)
    xa = check_array(x, "x", ndim=2)
    ya = _check_labels(y, "y", n_rows=xa.shape[0], x_name="x")
    seed = _torch_seed(random_state)
    if (x_test is None) != (y_test is None):
        raise InvalidParameterError("pass both x_test and y_test, or neither")
    if x_test is None:
        split = train_test_split(xa, ya, 1.0 - size, random_state=seed)
        x_train, y_train, x_test, y_test = split.x_train, split.y_train, split.x_test, split.y_test
    else:
        x_train, y_train = xa, ya
        x_test = check_array(x_test, "x_test", ndim=2)
        y_test = _check_labels(y_test, "y_test", n_rows=x_test.shape[0], x_name="x_test")
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    options = {"dim": dim, "encoder": encoder, **model_options}
    chance = float(np.bincount(y_test).max() / len(y_test))

    rows = []
    for k, beta in enumerate(beta_values):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = _build(model, xa.shape[1], n_classes, float(beta), options)
        tick = None
        if progress is not None:

            def tick(done: int, total: int, _k: int = k) -> None:
                progress(_k * total + done, len(beta_values) * total)

        hist = train_vib(
            net,
            x_train,
            y_train,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            x_test=x_test,
            y_test=y_test,
            eval_every=epochs,
            random_state=seed,
            progress=tick,
        )
        row = {c: float(getattr(hist, c)[-1]) for c in _HISTORY_COLUMNS}
        row.update(beta=float(beta), h_y_bits=hist.h_y_bits, chance_acc=chance)
        row.update(seconds=float(hist.seconds.sum()), model=model)
        if eps is not None:
            accs = fgsm_accuracy(net, x_test, y_test, eps, random_state=seed)
            row.update({f"fgsm_acc_{e:g}": float(a) for e, a in zip(eps, accs, strict=True)})
        rows.append(row)
    front = ["beta", "rate_bits", "relevance_bits", "h_y_bits", *_HISTORY_COLUMNS[2:]]
    frame = pd.DataFrame(rows)
    return frame[[*front, *(c for c in frame.columns if c not in front)]]

r"""Training an :class:`~ibkit.nn.mlp.MLP`, or an ensemble of seeds at once.

:func:`fit` minimises, for each member s with parameters :math:`\theta_s`, the mean
cross-entropy over its minibatch :math:`B_s`,

.. math:: L_s(\theta_s) = \frac{1}{|B_s|} \sum_{i \in B_s} -\log q_{\theta_s}(y_i | x_i),

by minimising :math:`\sum_s L_s`. Members share no parameter, so
:math:`\partial(\sum_r L_r)/\partial\theta_s = \partial L_s/\partial\theta_s`, and SGD
(with momentum) and Adam act element-wise: member s of an :class:`EnsembleMLP` follows
the same trajectory as an :class:`MLP` with the same seed trained alone, up to float
rounding.

The minibatch order of member s comes from its own :class:`torch.Generator`, seeded
from ``(seed, seeds[s])`` (see :func:`fit`), so it does not depend on the other members.
After every epoch the loss and accuracy of every member on the full training (and test)
arrays go into the history, and ``callback(epoch)`` runs: the hook for an
information-plane recorder (epoch 0 is before the first update).

References
----------
R. Shwartz-Ziv, N. Tishby (2017). Opening the black box of deep neural networks via
information. arXiv:1703.00810 (tanh, 12-bit task).
A. M. Saxe et al. (2018). On the information bottleneck theory of deep learning. ICLR
(ReLU; Adam with learning rate 4e-4 and batches of 256 in their code).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ibkit._validation import InvalidParameterError, check_int, check_positive
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.mlp import MLP, check_seed

OPTIMIZERS = ("sgd", "adam")

#: history columns after ``epoch`` and ``seed``, in the order kept in memory
_METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")


# ---------------------------------------------------------------------------
# losses on logits shaped (S, n, C), one row per member


def _logits(model: MLP | EnsembleMLP, x: torch.Tensor) -> torch.Tensor:
    """Logits with a leading member axis: (S, n, C), S = 1 for an MLP."""
    out = model(x)
    return out if out.dim() == 3 else out.unsqueeze(0)


def member_losses(logits: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    r"""Mean loss of each member, shape (S,), in nats.

    Parameters
    ----------
    logits : torch.Tensor
        Shape (S, n, C); C = 1 for ``kind="sigmoid"``.
    y : torch.Tensor
        Integer labels, shape (n,) (shared) or (S, n) (one batch per member).
    kind : {"softmax", "sigmoid"}
        Cross-entropy :math:`-z_{y} + \log\sum_c e^{z_c}`, or binary cross-entropy
        :math:`\log(1 + e^{z}) - y z`, averaged over the n samples of each member.

    Examples
    --------
    >>> z = torch.zeros(2, 3, 2)  # two members, uniform predictions
    >>> member_losses(z, torch.tensor([0, 1, 1]), "softmax")  # log 2 each
    tensor([0.6931, 0.6931])
    """
    y = y.expand(logits.shape[:2])
    if kind == "sigmoid":
        per_sample = F.binary_cross_entropy_with_logits(
            logits[..., 0], y.to(logits.dtype), reduction="none"
        )
    else:
        per_sample = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")
    return per_sample.mean(dim=1)


def _member_accuracies(logits: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Fraction of correct predictions of each member, shape (S,)."""
    # max(...).indices, not argmax: argmax is slow along the strided class axis of an
    # ensemble's feature-major logits
    predicted = (logits[..., 0] > 0).long() if kind == "sigmoid" else logits.max(dim=-1).indices
    return (predicted == y).to(logits.dtype).mean(dim=1)


@torch.no_grad()
def _evaluate(model: MLP | EnsembleMLP, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(S, 2): each member's mean loss and accuracy on the whole of (x, y)."""
    logits = _logits(model, x)
    kind = model.output_kind
    return torch.stack([member_losses(logits, y, kind), _member_accuracies(logits, y, kind)], 1)


# ---------------------------------------------------------------------------
# validation at the edge


def _check_model(model: Any) -> None:
    if not isinstance(model, (MLP, EnsembleMLP)):
        raise TypeError(f"model must be an MLP or an EnsembleMLP; got {type(model).__name__}")


def _as_tensor(a: Any, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidParameterError(
            f"{name} must be a numeric array; got {type(a).__name__}: {exc}"
        ) from None


def _data(
    model: MLP | EnsembleMLP, x: Any, y: Any, x_name: str, y_name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate (x, y) for ``model``; return float x and int64 labels on its device."""
    x_t, y_t = _as_tensor(x, x_name), _as_tensor(y, y_name)
    if x_t.dim() != 2 or x_t.shape[1] != model.in_features or x_t.shape[0] == 0:
        raise InvalidParameterError(
            f"{x_name} must have shape (n, {model.in_features}) with n >= 1; got {tuple(x_t.shape)}"
        )
    if x_t.is_complex():
        raise InvalidParameterError(f"{x_name} must be real numbers; got dtype {x_t.dtype}")
    x_t = x_t.to(torch.float64)
    if not torch.isfinite(x_t).all():
        raise InvalidParameterError(f"{x_name} has NaN or infinite entries; pass finite numbers")
    if y_t.dim() != 1 or y_t.shape[0] != x_t.shape[0]:
        raise InvalidParameterError(
            f"{y_name} must hold one label per row of {x_name} ({x_t.shape[0]}); "
            f"got shape {tuple(y_t.shape)}"
        )
    n_classes = max(model.out_features, 2)
    y_f = y_t.to(torch.float64)
    bad = ~((y_f == y_f.round()) & (y_f >= 0) & (y_f < n_classes))
    if bad.any():
        raise InvalidParameterError(
            f"{y_name} must hold integer class labels in [0, {n_classes}) for a model with "
            f"out_features={model.out_features}; got {int(bad.sum())} other values, "
            f"e.g. {y_f[bad][0].item()}"
        )
    weight = model.linear_layers()[0].weight
    return x_t.to(weight), y_t.to(device=weight.device, dtype=torch.int64)


# ---------------------------------------------------------------------------
# minibatches


def _order_generator(seed: int | None, member_seed: int | None) -> torch.Generator:
    """The data-order generator of a member: SeedSequence over the seeds that are set."""
    entropy = [int(s) for s in (seed, member_seed) if s is not None]
    sequence = np.random.SeedSequence(entropy or None)
    return torch.Generator().manual_seed(int(sequence.generate_state(1, np.uint64)[0]))


def _minibatches(
    n: int, batch_size: int, generators: list[torch.Generator], device: torch.device
) -> Iterator[torch.Tensor]:
    """One epoch of index batches, shape (S, batch) (the last one may be shorter)."""
    order = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)
    yield from order.split(batch_size, dim=1)


def _make_optimizer(
    name: str, params: list[torch.nn.Parameter], lr: float, momentum: float
) -> torch.optim.Optimizer:
    """SGD or Adam; the fused version (one kernel for all tensors) on CPU and CUDA."""
    fused = params[0].device.type in ("cpu", "cuda")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, fused=fused)
    return torch.optim.Adam(params, lr=lr, fused=fused)


# ---------------------------------------------------------------------------
# threads


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous setting.

    Small models (the 12-bit networks, digits-sized VIB) train fastest on one thread:
    more threads wait on each other, and on a busy two-core machine they were several
    times slower in our measurements (see the README's *Speed* section).
    """
    n = check_int(n, "threads")
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ---------------------------------------------------------------------------
# checkpoints


class _Checkpoint:
    """Saves and restores everything a run needs to continue exactly where it stopped."""

    def __init__(
        self,
        path: Path,
        every: int,
        settings: dict[str, Any],
        model: torch.nn.Module,
        opt: torch.optim.Optimizer,
        generators: list[torch.Generator],
        records: torch.Tensor,
    ) -> None:
        self.path, self.every, self.settings = path, every, settings
        self.model, self.opt, self.generators, self.records = model, opt, generators, records

    def restore(self) -> int:
        """Load the saved state if the file exists; return its epoch (−1 without one)."""
        if not self.path.exists():
            return -1
        state = torch.load(self.path, weights_only=True)
        if state["settings"] != self.settings:
            raise InvalidParameterError(
                f"checkpoint {self.path} was written with other settings "
                f"({state['settings']}); delete it or train with the same settings"
            )
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        for g, g_state in zip(self.generators, state["generators"], strict=True):
            g.set_state(g_state)
        epoch = int(state["epoch"])
        self.records[: epoch + 1] = state["records"]
        return epoch

    def save(self, epoch: int) -> None:
        """Write the state after ``epoch`` if it is due (every ``every`` epochs, and last)."""
        if epoch % self.every and epoch != self.settings["epochs"]:
            return
        state = {
            "settings": self.settings,
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "generators": [g.get_state() for g in self.generators],
            "records": self.records[: epoch + 1].clone(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.path)


# ---------------------------------------------------------------------------
# public API


def evaluate(model: MLP | EnsembleMLP, x: Any, y: Any) -> dict[str, np.ndarray]:
    """Mean loss (nats) and accuracy of every member of ``model`` on (x, y).

    Parameters
    ----------
    model : MLP or EnsembleMLP
    x : array-like, shape (n, in_features)
    y : array-like of int, shape (n,)
        Class labels in [0, max(out_features, 2)).

    Returns
    -------
    dict
        ``"loss"`` and ``"accuracy"``: float arrays of shape (S,), in the order of
        ``model.seeds`` (S = 1 for an MLP).

    Examples
    --------
    >>> net = MLP(2, hidden=(), out_features=1, seed=0)
    >>> with torch.no_grad():
    ...     _ = net.out.weight.zero_()
    >>> evaluate(net, [[0.0, 1.0], [1.0, 0.0]], [0, 1])["loss"]  # log 2
    array([0.69314718])
    """
    _check_model(model)
    x_t, y_t = _data(model, x, y, "x", "y")
    result = _evaluate(model, x_t, y_t).double().cpu().numpy()
    return {"loss": result[:, 0], "accuracy": result[:, 1]}


def fit(
    model: MLP | EnsembleMLP,
    x_train: Any,
    y_train: Any,
    *,
    epochs: int,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    lr: float = 0.01,
    momentum: float = 0.0,
    seed: int | None = None,
    x_test: Any = None,
    y_test: Any = None,
    callback: Callable[[int], None] | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 100,
) -> pd.DataFrame:
    r"""Train ``model`` in place; return one row of loss and accuracy per epoch and member.

    Parameters
    ----------
    model : MLP or EnsembleMLP
        Trained in place; an ensemble trains all its members at once.
    x_train : array-like, shape (n, in_features)
        Inputs, numpy or torch, converted to the model's float dtype and device.
    y_train : array-like of int, shape (n,)
        Class labels in [0, max(out_features, 2)) (bool works for two classes).
    epochs : int
        Passes over the training data, ≥ 1.
    batch_size : int, optional
        Minibatch size; ``None`` (or ≥ n) trains on the full batch. Each epoch draws a
        fresh permutation per member; the last batch of an epoch may be shorter.
    optimizer : {"sgd", "adam"}
        :class:`torch.optim.SGD` (with ``momentum``) or :class:`torch.optim.Adam`
        (default betas). Saxe et al. (2018) used Adam, ``lr=4e-4``, ``batch_size=256``.
    lr : float
        Learning rate, > 0.
    momentum : float
        SGD momentum, ≥ 0; must stay 0 with Adam.
    seed : int, optional
        Seeds the data order together with each member's model seed: member s shuffles
        with a generator seeded from ``SeedSequence([seed, seeds[s]])`` (``seed=None``:
        ``SeedSequence([seeds[s]])``; an MLP built without a seed and ``seed=None``:
        fresh entropy). So member s of an ensemble sees exactly the batches of
        ``MLP(..., seed=seeds[s])`` trained with the same ``seed``.
    x_test, y_test : array-like, optional
        Held-out data, evaluated after every epoch; both or neither.
    callback : callable, optional
        ``callback(epoch)`` is called with ``epoch = 0`` before training and after each
        epoch ``1, …, epochs``, after that epoch's row of the history is computed.
    progress : bool
        Show a ``rich`` progress bar (needs ``rich``, from the ``cli`` extra).
    checkpoint : path, optional
        File that makes the run resumable: every ``checkpoint_every`` epochs and at the
        end, the model, the optimizer, the data-order generators and the history so far
        are saved there (atomically). If the file exists when ``fit`` starts, training
        continues from the saved epoch — with the same settings, else ``ValueError`` —
        and reproduces the uninterrupted run; ``callback`` is called again only for
        the epochs after the saved one.
    checkpoint_every : int
        Epochs between checkpoints, ≥ 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch, seed, train_loss, train_acc, test_loss, test_acc``; one row per
        epoch ``0, …, epochs`` and member, members in the order of ``model.seeds``.
        Losses are mean cross-entropies in nats on the full arrays (computed without
        gradients); the test columns are NaN without test data.

    Examples
    --------
    >>> x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> ens = EnsembleMLP(2, 2, hidden=(4,), activation="relu")
    >>> history = fit(ens, x, [0, 0, 0, 1], epochs=100, optimizer="adam", lr=0.05)
    >>> history.shape, history.columns[:3].tolist()
    ((202, 6), ['epoch', 'seed', 'train_loss'])
    >>> history[history.epoch == 100].train_acc.tolist()  # x1 AND x2, learnt by both members
    [1.0, 1.0]
    """
    _check_model(model)
    epochs = check_int(epochs, "epochs")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size")
    if optimizer not in OPTIMIZERS:
        raise InvalidParameterError(
            f"optimizer must be one of {list(OPTIMIZERS)}; got {optimizer!r}"
        )
    lr = check_positive(lr, "lr")
    momentum = check_positive(momentum, "momentum", allow_zero=True)
    if optimizer == "adam" and momentum != 0:
        raise InvalidParameterError(
            f"momentum applies to SGD only; got momentum={momentum} with Adam"
        )
    check_seed(seed)
    if (x_test is None) != (y_test is None):
        raise InvalidParameterError("pass both x_test and y_test, or neither")
    x, y = _data(model, x_train, y_train, "x_train", "y_train")
    test = None if x_test is None else _data(model, x_test, y_test, "x_test", "y_test")

    member_seeds = model.seeds if isinstance(model, EnsembleMLP) else (model.seed,)
    n, n_members = x.shape[0], len(member_seeds)
    full_batch = batch_size is None or batch_size >= n
    generators = [_order_generator(seed, s) for s in member_seeds]
    opt = _make_optimizer(optimizer, list(model.parameters()), lr, momentum)
    kind = model.output_kind

    records = torch.full((epochs + 1, n_members, len(_METRICS)), math.nan, dtype=torch.float64)
    saver = None
    first = 0
    if checkpoint is not None:
        settings = {
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": optimizer,
            "lr": lr,
            "momentum": momentum,
            "seed": seed,
            "seeds": list(member_seeds),
            "n_train": n,
        }
        saver = _Checkpoint(
            Path(checkpoint),
            check_int(checkpoint_every, "checkpoint_every"),
            settings,
            model,
            opt,
            generators,
            records,
        )
        first = saver.restore() + 1

    def record(epoch: int) -> None:
        records[epoch, :, :2] = _evaluate(model, x, y).cpu()
        if test is not None:
            records[epoch, :, 2:] = _evaluate(model, *test).cpu()
        if callback is not None:
            callback(epoch)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        member_losses(_logits(model, xb), yb, kind).sum().backward()
        opt.step()

    bar: Any = contextlib.nullcontext()
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("training", total=epochs)
    with bar:
        if first == 0:
            record(0)
            first = 1
        elif progress:
            bar.advance(task, first - 1)
        for epoch in range(first, epochs + 1):
            if full_batch:
                step(x, y)
            else:
                for index in _minibatches(n, batch_size, generators, x.device):
                    step(x[index], y[index])
            record(epoch)
            if saver is not None:
                saver.save(epoch)
            if progress:
                bar.advance(task)

    values = records.reshape(-1, len(_METRICS)).numpy()
    return pd.DataFrame(
        {
            "epoch": np.repeat(np.arange(epochs + 1), n_members),
            "seed": pd.array(list(member_seeds) * (epochs + 1), dtype="Int64"),
            **{name: values[:, i] for i, name in enumerate(_METRICS)},
        }
    )

r"""Training an :class:`~ibkit.nn.mlp.MLP`, an ensemble of seeds at once, or any classifier.

:func:`fit` minimises, for each member s with parameters :math:`\theta_s`, the mean
cross-entropy over its minibatch :math:`B_s`,

.. math:: L_s(\theta_s) = \frac{1}{|B_s|} \sum_{i \in B_s} -\log q_{\theta_s}(y_i | x_i),

by minimising :math:`\sum_s L_s`. Members share no parameter, so
:math:`\partial(\sum_r L_r)/\partial\theta_s = \partial L_s/\partial\theta_s`, and SGD
(with momentum) and Adam act element-wise: member s of an :class:`EnsembleMLP` follows
the same trajectory as an :class:`MLP` with the same seed trained alone, up to float
rounding.

The minibatch order of member s comes from its own :class:`torch.Generator`, seeded
from ``(random_state, seeds[s])`` (see :func:`fit`), so it does not depend on the other
members. After every epoch the loss and accuracy of every member on the full training (and
test) arrays go into the :class:`TrainingHistory`, and ``on_epoch(epoch)`` runs: the hook
for an information-plane recorder (epoch 0 is before the first update). A training loss
that is NaN or infinite, or that runs away above :func:`loss_ceiling` (10 times the larger
of its value at epoch 0 and the ln K of a uniform guess), stops the run with
:class:`~ibkit._validation.DivergenceError`.

An :class:`~ibkit.nn.mlp.MLP` or :class:`EnsembleMLP` without module hooks trains through a
fused step (:class:`_FusedStep`) rather than autograd and ``torch.optim``: the same
arithmetic in a handful of batched kernels. With :math:`h_0` the inputs of a batch of
size B laid out feature-major (member, feature, sample), the forward pass keeps
:math:`z_l = W_l^\top h_{l-1} + b_l` and :math:`h_l = \phi(z_l)`; the backward pass is

.. math:: g_L = (\operatorname{softmax}(z_L) - \operatorname{onehot}(y)) / B, \quad
          \nabla W_l = h_{l-1} g_l^\top, \quad \nabla b_l = g_l \mathbf 1, \quad
          g_{l-1} = \phi'(z_{l-1}) \odot W_l g_l

(:math:`\sigma(z_L) - y` for one sigmoid output), each a single :func:`torch.bmm` or
element-wise kernel over all members; the parameters, gradients and optimiser moments lie
end to end in one buffer each, so an Adam or SGD update is a few element-wise kernels
whatever the number of layers. Each epoch gathers the shuffled inputs of every member
once, and the history evaluates training and test data in one forward pass, in chunks
of samples that stay in cache. Results equal the autograd path's up to float rounding,
and both draw the same batches. Tensor hooks on the parameters (gradient tracking) are
called by the fused step with each batch's gradient, as autograd calls them, and an
attached :class:`~ibkit.nn.plane.InformationPlane` hooks the model only during its own
passes; models with module hooks of their own train through autograd, so that every
hook sees every step. On the CPU, tanh goes through numpy's vectorised tanh.

Every training loop of :mod:`ibkit.nn` returns a :class:`History` and reports to the same
``progress(done, total)`` callback.

References
----------
R. Shwartz-Ziv, N. Tishby (2017). Opening the black box of deep neural networks via
information. arXiv:1703.00810 (tanh, 12-bit task).
A. M. Saxe et al. (2018). On the information bottleneck theory of deep learning. ICLR
(ReLU; Adam with learning rate 4e-4 and batches of 256 in their code).
D. P. Kingma, J. Ba (2015). Adam: a method for stochastic optimization. ICLR.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import pickle
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ibkit._plain import plain
from ibkit._tables import atomic_write
from ibkit._validation import (
    DivergenceError,
    InvalidParameterError,
    Progress,
    check_callback,
    check_int,
    check_positive,
    check_random_state,
    check_real,
    pandas_module,
)
from ibkit.nn.ensemble import BatchedLinear, EnsembleMLP
from ibkit.nn.mlp import MLP, output_kind

__all__ = [
    "History",
    "OPTIMIZERS",
    "TrainingHistory",
    "evaluate",
    "fit",
    "member_losses",
    "torch_threads",
]


OPTIMIZERS = ("sgd", "adam")

#: history columns after ``epoch`` and ``seed``, in the order kept in memory
_METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")


# ---------------------------------------------------------------------------
# histories


@runtime_checkable
class History(Protocol):
    """What every training loop of :mod:`ibkit.nn` returns (:func:`fit`, ``train_vib``).

    A frozen dataclass whose array fields follow ``epoch`` along their first axis: entry
    (or row) i belongs to epoch ``epoch[i]``. ``train_acc`` and ``test_acc`` are the
    accuracies on the training and test data (``test_acc`` is NaN without test data).
    """

    epoch: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray

    def to_frame(self) -> Any:
        """A tidy :class:`pandas.DataFrame`, one row per epoch (and member)."""

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values (arrays become nested lists): JSON-able."""


@dataclass(frozen=True, eq=False)
class TrainingHistory:
    """Loss and accuracy of every member after every epoch of a :func:`fit` run.

    Attributes
    ----------
    epoch : ndarray of int, shape (epochs + 1,)
        ``0, 1, …, epochs``; epoch 0 is before the first update.
    seeds : tuple of int or None
        The model seed of each member (``model.seeds``, or ``(model.seed,)`` for an MLP
        or another module; ``None`` for a module without a ``seed``).
    train_loss, train_acc, test_loss, test_acc : ndarray, shape (epochs + 1, n_members)
        Mean cross-entropy (nats) and accuracy of each member on the full training and
        test arrays, computed without gradients; the test columns are NaN without test
        data.
    """

    epoch: np.ndarray
    seeds: tuple[int | None, ...]
    train_loss: np.ndarray
    train_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray

    def to_frame(self) -> Any:
        """Columns ``epoch, seed, train_loss, train_acc, test_loss, test_acc``.

        One row per epoch and member, members in the order of :attr:`seeds`. Needs pandas.
        """
        pd = pandas_module("TrainingHistory.to_frame")
        n_members = len(self.seeds)
        return pd.DataFrame(
            {
                "epoch": np.repeat(self.epoch, n_members),
                "seed": pd.array(list(self.seeds) * len(self.epoch), dtype="Int64"),
                **{name: getattr(self, name).ravel() for name in _METRICS},
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values: arrays as nested lists, ``seeds`` a list.

        ``json.dumps`` accepts the result (the NaN test columns become ``NaN``).
        """
        return plain(asdict(self))


#: A training loss above this many times max(L₀, ln K) has run away (see :func:`loss_ceiling`).
RUNAWAY_FACTOR = 10.0


def loss_ceiling(start: Any, n_classes: int) -> np.ndarray:
    r"""The largest training loss (nats) of a healthy run: :math:`10\,\max(L_0, \ln K)`.

    :math:`L_0` is the training loss before the first update and :math:`\ln K` the
    cross-entropy of a uniform guess over the K classes. Training lowers the loss, so a
    healthy run stays below both (in SGD or Adam on digits and the 12-bit task, even at
    learning rates too large to learn anything, the peak was under 4 times the larger);
    a learning rate that throws the weights away sends it orders of magnitude above them
    while it can stay finite.

    Parameters
    ----------
    start : float or array-like
        :math:`L_0` (of each member), nats; a NaN counts as unknown (only ln K is used).
    n_classes : int
        K, at least 2.

    Returns
    -------
    ndarray
        :data:`RUNAWAY_FACTOR` times the larger of ``start`` and ln K, elementwise.

    Examples
    --------
    >>> loss_ceiling([0.5, 3.0], n_classes=2).round(2).tolist()  # 10 ln 2, 10 * 3
    [6.93, 30.0]
    """
    return RUNAWAY_FACTOR * np.fmax(np.asarray(start, dtype=np.float64), math.log(n_classes))


def check_loss(
    loss: Any, epoch: int, x: torch.Tensor, ceiling: Any = math.inf, **knobs: float
) -> None:
    """Raise :class:`DivergenceError` if ``loss`` is NaN, infinite or above ``ceiling``.

    Parameters
    ----------
    loss : float or array-like
        The training loss (of each member) after ``epoch``, nats.
    epoch : int
        The epoch just trained (0: before training).
    x : torch.Tensor
        The training inputs; the message quotes their largest magnitude.
    ceiling : float or array-like
        The largest loss (of each member) of a healthy run, :func:`loss_ceiling`.
    **knobs : float
        The settings that make a run diverge when too large (``lr``, ``beta``), by name.
    """
    values = np.asarray(loss, dtype=np.float64)
    limits = np.broadcast_to(np.asarray(ceiling, dtype=np.float64), values.shape)
    finite = np.isfinite(values)
    above = finite & (values > limits)
    if not finite.all():
        what = str(values[~finite][0])
    elif above.any():
        what = (
            f"{values[above][0]:.3g} nats, above {limits[above][0]:.3g} nats: {RUNAWAY_FACTOR:g} "
            "times the larger of its value before training and ln(classes)"
        )
    else:
        return
    lower = " or ".join(f"{name} (now {value:g})" for name, value in knobs.items())
    raise DivergenceError(
        f"training diverged at epoch {epoch} (the training loss is {what}); "
        f"lower {lower}, or standardise x_train (largest |x_train| is "
        f"{float(x.abs().max()):.3g})"
    )


# ---------------------------------------------------------------------------
# losses on logits shaped (S, n, C), one row per member


def _logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits with a leading member axis: (S, n, C), S = 1 for a single network."""
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
        With two classes the cross-entropy is computed as
        :math:`\log(1 + e^{z_{1-y} - z_y})`: one pass over the (S, n) margins, several
        times faster than a reduction over the short class axis.

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
    elif logits.shape[-1] == 2:
        sign = 1 - 2 * y.to(logits.dtype)  # z_{1-y} - z_y = (z_1 - z_0)(1 - 2y)
        per_sample = F.softplus((logits[..., 1] - logits[..., 0]) * sign)
    else:
        per_sample = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")
    return per_sample.mean(dim=1)


def _member_accuracies(logits: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Fraction of correct predictions of each member, shape (S,).

    The prediction is the first class of largest logit (class 1 for a positive sigmoid
    logit; with two classes, class 1 where :math:`z_1 > z_0`).
    """
    if kind == "sigmoid":
        predicted = (logits[..., 0] > 0).long()
    elif logits.shape[-1] == 2:
        predicted = (logits[..., 1] > logits[..., 0]).long()
    else:
        # max(...).indices, not argmax: argmax is slow along the strided class axis of an
        # ensemble's feature-major logits
        predicted = logits.max(dim=-1).indices
    return (predicted == y).to(logits.dtype).mean(dim=1)


@torch.no_grad()
def _evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """(S, 2): each member's mean loss and accuracy on the whole of (x, y)."""
    logits = _logits(model, x)
    return torch.stack([member_losses(logits, y, kind), _member_accuracies(logits, y, kind)], 1)


# ---------------------------------------------------------------------------
# validation at the edge


def _check_model(model: Any) -> None:
    if not isinstance(model, torch.nn.Module):
        raise InvalidParameterError(
            f"model must be an MLP, an EnsembleMLP or a torch.nn.Module classifier; got "
            f"{type(model).__name__}"
        )
    if next(model.parameters(), None) is None:
        raise InvalidParameterError(
            f"model ({type(model).__name__}) has no parameters to train; pass a network"
        )


def _head(model: torch.nn.Module, x: torch.Tensor) -> tuple[str, int]:
    """The model's output kind and number of classes K (a generic module: run on one row).

    A module other than an MLP or an ensemble must map inputs (n, ...) to logits (n, C):
    C = 1 is a sigmoid output, C ≥ 2 a softmax (:func:`~ibkit.nn.mlp.output_kind`).
    """
    if isinstance(model, (MLP, EnsembleMLP)):
        return model.output_kind, max(model.out_features, 2)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x[:1])
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InvalidParameterError(
            f"model ({type(model).__name__}) must return logits of shape (n, classes); got "
            f"{shape} for one input row"
        )
    return output_kind(out.shape[1]), max(out.shape[1], 2)


def _as_tensor(a: Any, name: str) -> torch.Tensor:
    check_real(a, name)
    try:
        return torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidParameterError(
            f"{name} must be a numeric array; got {type(a).__name__}: {exc}"
        ) from None


def _data(
    model: torch.nn.Module, x: Any, y: Any, x_name: str, y_name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate (x, y) for ``model``; return float x and int64 labels on its device."""
    x_t, y_t = _as_tensor(x, x_name), _as_tensor(y, y_name)
    if isinstance(model, (MLP, EnsembleMLP)):
        wrong, shape = x_t.dim() != 2 or x_t.shape[1] != model.in_features, model.in_features
    else:
        wrong, shape = x_t.dim() < 2, "..."
    if wrong or x_t.shape[0] == 0:
        raise InvalidParameterError(
            f"{x_name} must have shape (n, {shape}) with n >= 1; got {tuple(x_t.shape)}"
        )
    x_t = x_t.to(torch.float64)
    if not torch.isfinite(x_t).all():
        raise InvalidParameterError(f"{x_name} has NaN or infinite entries; pass finite numbers")
    if y_t.dim() != 1 or y_t.shape[0] != x_t.shape[0]:
        raise InvalidParameterError(
            f"{y_name} must hold one label per row of {x_name} ({x_t.shape[0]}); "
            f"got shape {tuple(y_t.shape)}"
        )
    weight = next(p for p in model.parameters() if p.is_floating_point())
    x_t = check_range(x_t, weight.dtype, x_name).to(weight)
    n_classes = _head(model, x_t)[1]
    y_f = y_t.to(torch.float64)
    bad = ~((y_f == y_f.round()) & (y_f >= 0) & (y_f < n_classes))
    if bad.any():
        raise InvalidParameterError(
            f"{y_name} must hold integer class labels in [0, {n_classes}) for a model with "
            f"{n_classes} classes; got {int(bad.sum())} other values, e.g. {y_f[bad][0].item()}"
        )
    return x_t, y_t.to(device=weight.device, dtype=torch.int64)


def check_range(x: torch.Tensor, dtype: torch.dtype, name: str) -> torch.Tensor:
    """Return ``x`` if its entries are finite in ``dtype`` (the model's), else raise."""
    if not torch.isfinite(x.to(dtype)).all():
        raise InvalidParameterError(
            f"{name} has entries beyond the range of {dtype} (largest |{name}| is "
            f"{float(x.abs().max()):.3g}); standardise {name}"
        )
    return x


# ---------------------------------------------------------------------------
# minibatches


def _order_generator(seed: int | None, member_seed: int | None) -> torch.Generator:
    """The data-order generator of a member: SeedSequence over the seeds that are set."""
    entropy = [int(s) for s in (seed, member_seed) if s is not None]
    sequence = np.random.SeedSequence(entropy or None)
    return torch.Generator().manual_seed(int(sequence.generate_state(1, np.uint64)[0]))


def _data_seed(random_state: Any) -> int | None:
    """The data-order seed: ``random_state`` if None or an int, else an int drawn from it."""
    generator = check_random_state(random_state)
    if random_state is None or isinstance(random_state, numbers.Integral):
        return None if random_state is None else int(random_state)
    return int(generator.integers(2**63 - 1))


def _epoch_order(n: int, generators: list[torch.Generator], device: torch.device) -> torch.Tensor:
    """One epoch's sample order of each member, shape (S, n): a permutation per generator."""
    return torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)


def _minibatches(
    n: int, batch_size: int, generators: list[torch.Generator], device: torch.device
) -> Iterator[torch.Tensor]:
    """One epoch of index batches, shape (S, batch) (the last one may be shorter)."""
    yield from _epoch_order(n, generators, device).split(batch_size, dim=1)


def _make_optimizer(
    name: str, params: list[torch.nn.Parameter], lr: float, momentum: float
) -> torch.optim.Optimizer:
    """SGD or Adam; the fused version (one kernel for all tensors) on CPU and CUDA."""
    fused = params[0].device.type in ("cpu", "cuda")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, fused=fused)
    return torch.optim.Adam(params, lr=lr, fused=fused)


# ---------------------------------------------------------------------------
# the fused step of MLP and EnsembleMLP

#: :math:`g \odot \phi'(z)` for each activation module type, from ``(module, g, z, h)``
#: with :math:`h = \phi(z)`: tanh :math:`1 - h^2`, sigmoid :math:`h(1 - h)`, ReLU
#: :math:`[h > 0]`, hardtanh :math:`[a < z < b]`, softplus :math:`\sigma(\beta z)` (1 above
#: its threshold), softsign :math:`1/(1 + |z|)^2`, identity 1. The exact types only: a
#: subclass (a quantised activation) may compute something else.
_ACTIVATION_GRADIENTS: dict[type[nn.Module], Callable[..., torch.Tensor]] = {
    nn.Tanh: lambda act, g, z, h: torch.ops.aten.tanh_backward(g, h),
    nn.Sigmoid: lambda act, g, z, h: torch.ops.aten.sigmoid_backward(g, h),
    nn.ReLU: lambda act, g, z, h: torch.ops.aten.threshold_backward(g, h, 0),
    nn.Hardtanh: lambda act, g, z, h: torch.ops.aten.hardtanh_backward(
        g, z, act.min_val, act.max_val
    ),
    nn.Softplus: lambda act, g, z, h: torch.ops.aten.softplus_backward(
        g, z, act.beta, act.threshold
    ),
    nn.Softsign: lambda act, g, z, h: g / (1 + z.abs()).square(),
    nn.Identity: lambda act, g, z, h: g,
}


#: Tensor types whose tanh :func:`_activate` hands to numpy (not bfloat16 or half).
_NUMPY_TANH = (torch.float32, torch.float64)


def _activate(activation: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """``activation(z)``; tanh of a CPU tensor through numpy's vectorised tanh, several
    times faster there than torch's (same values to an ulp or two)."""
    if type(activation) is nn.Tanh and z.device.type == "cpu" and z.dtype in _NUMPY_TANH:
        return torch.from_numpy(np.tanh(z.numpy()))
    return activation.forward(z)


def _fusable(model: torch.nn.Module) -> bool:
    """Whether :class:`_FusedStep` trains ``model`` as autograd and ``torch.optim`` would.

    True for a plain :class:`MLP` or :class:`EnsembleMLP` (not a subclass, not quantised)
    whose parameters share one dtype and device and all train, with no hook on a module,
    no post-accumulate hook on a parameter and no global module hook: the fused step
    would skip them. Tensor hooks on the parameters (``p.register_hook``, as
    :class:`~ibkit.nn.gradients.GradientSNR` registers) are kept: the fused step calls
    them with each batch's gradient, as autograd does.
    """
    if type(model) not in (MLP, EnsembleMLP) or model.quantize_bits is not None:
        return False
    params = list(model.parameters())
    if any(
        not p.requires_grad
        or p.dtype != params[0].dtype
        or p.device != params[0].device
        or getattr(p, "_post_accumulate_grad_hooks", None)
        for p in params
    ):
        return False
    kinds = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    hooked = any(getattr(m, kind, None) for m in model.modules() for kind in kinds)
    registry = torch.nn.modules.module
    if hooked or any(getattr(registry, f"_global{kind}", None) for kind in kinds):
        return False
    return all(
        type(m) in (BatchedLinear, nn.Linear) or type(m) in _ACTIVATION_GRADIENTS
        for m in model.children()
    )


@dataclass(frozen=True)
class _Layer:
    """One linear layer as the fused step sees it, feature-major.

    ``weight`` is :math:`W^\\top` (S, out, in), ``weight_t`` its transpose (S, in, out) and
    ``bias`` (S, out, 1), views of the parameters; ``weight_grad`` is the contiguous view
    of the flat gradient laid out as the parameter, (S, in, out) if ``grad_in_out`` (an
    ensemble) else (S, out, in) (an MLP), and ``bias_grad`` (S, out); ``activation``
    follows the layer (None after the output layer).
    """

    weight: torch.Tensor
    weight_t: torch.Tensor
    bias: torch.Tensor
    weight_grad: torch.Tensor
    grad_in_out: bool
    bias_grad: torch.Tensor
    activation: nn.Module | None


#: Values per layer in one chunk of the history's forward pass (512 KiB in float32):
#: chunks of the samples keep each layer's activations in cache and out of fresh pages
#: of memory (the whole 12-bit set at 10 seeds took as long in page faults as in tanh).
_EVAL_VALUES = 2**17


class _FusedStep:
    r"""Forward pass, backward pass and optimiser update of an MLP or EnsembleMLP, fused.

    The parameters become views of one flat buffer θ, their ``.grad`` views of one flat
    gradient g, and the optimiser's moments views of flat buffers too, kept in ``opt.state``
    in ``torch.optim``'s own format (so checkpoints are those of the autograd path).
    One step computes g as the module notes write it, then updates θ element-wise:

    - Adam (Kingma & Ba 2015), step t: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
      :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
      :math:`\theta \leftarrow \theta - \frac{lr}{1-\beta_1^t}\,
      m / (\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon)`, as :class:`torch.optim.Adam`;
    - SGD: :math:`b \leftarrow \mu b + g` (:math:`b = g` at the first step),
      :math:`\theta \leftarrow \theta - lr\,b`; without momentum :math:`\theta \leftarrow
      \theta - lr\,g`, as :class:`torch.optim.SGD`.

    Parameters
    ----------
    model : MLP or EnsembleMLP
        A model that :func:`_fusable` accepts.
    opt : torch.optim.Adam or torch.optim.SGD
        The optimiser of the run (one parameter group), possibly with state restored from
        a checkpoint; its hyper-parameters and state are taken over.
    kind : {"softmax", "sigmoid"}
        The model's output kind.
    x, y : torch.Tensor
        Training data, (n, in_features) and (n,) int64, on the model's device and dtype.
    test : tuple of torch.Tensor, optional
        Test data, evaluated by :meth:`evaluate` in the same forward pass as the training
        data.
    """

    def __init__(
        self,
        model: MLP | EnsembleMLP,
        opt: torch.optim.Optimizer,
        kind: str,
        x: torch.Tensor,
        y: torch.Tensor,
        test: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> None:
        self.params = list(model.parameters())
        sizes = [p.numel() for p in self.params]
        self.flat = torch.cat([p.detach().reshape(-1) for p in self.params])
        self.grad = torch.zeros_like(self.flat)
        for p, value, grad in zip(
            self.params, self.flat.split(sizes), self.grad.split(sizes), strict=True
        ):
            p.data = value.view_as(p)
            p.grad = grad.view_as(p)
        self.layers = _layers(model)
        self.n_members = self.layers[0].weight.shape[0]
        self.widths = [layer.weight.shape[1] for layer in self.layers]
        self.kind, self.y, self.n_train = kind, y, x.shape[0]
        # a row per sample: inputs (n, in) and targets (n, C), one-hot rows or, for a
        # sigmoid output, the labels themselves; gathered by rows, read feature-major
        self.x = x
        if kind == "softmax":
            self.targets = F.one_hot(y, self.layers[-1].weight.shape[1]).to(x.dtype)
        else:
            self.targets = y.to(x.dtype).unsqueeze(1)
        self.test_y = None if test is None else test[1]
        both = x if test is None else torch.cat([x, test[0]])
        columns = max(1, _EVAL_VALUES // (self.n_members * max(x.shape[1], *self.widths)))
        self.eval_x = [chunk.contiguous() for chunk in both.T.split(columns, dim=1)]
        self._take_over(opt, sizes)

    def _take_over(self, opt: torch.optim.Optimizer, sizes: list[int]) -> None:
        """Flat moments from ``opt.state`` (zeros if empty); put views of them back there."""
        group = opt.param_groups[0]
        self.lr = group["lr"]
        states = [opt.state.get(p, {}) for p in self.params]

        def flat(key: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
            if key in states[0]:
                buffer = torch.cat([s[key].reshape(-1) for s in states]).to(self.flat)
            else:
                buffer = torch.zeros_like(self.flat)
            views = [b.view_as(p) for b, p in zip(buffer.split(sizes), self.params, strict=True)]
            return buffer, views

        if isinstance(opt, torch.optim.Adam):
            self.betas, self.eps = group["betas"], group["eps"]
            self.t = int(states[0]["step"]) if "step" in states[0] else 0
            self.exp_avg, avg_views = flat("exp_avg")
            self.exp_avg_sq, sq_views = flat("exp_avg_sq")
            # a step tensor per parameter, float32 on its device as fused Adam keeps it:
            # the elements of one array, counted up at once
            self.steps = self.flat.new_full((len(sizes),), self.t, dtype=torch.float32)
            for p, step, avg, sq in zip(self.params, self.steps, avg_views, sq_views, strict=True):
                opt.state[p] = {"step": step, "exp_avg": avg, "exp_avg_sq": sq}
            self.update = self._adam
        else:
            self.momentum = group["momentum"]
            self.has_buffer = "momentum_buffer" in states[0]
            self.buffer, self.buffer_views = flat("momentum_buffer")
            self.opt = opt
            self.update = self._sgd

    def _adam(self) -> None:
        self.t += 1
        self.steps.add_(1.0)
        beta1, beta2 = self.betas
        self.exp_avg.mul_(beta1).add_(self.grad, alpha=1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(self.grad, self.grad, value=1 - beta2)
        denominator = self.exp_avg_sq.sqrt().div_(math.sqrt(1 - beta2**self.t)).add_(self.eps)
        self.flat.addcdiv_(self.exp_avg, denominator, value=-self.lr / (1 - beta1**self.t))

    def _sgd(self) -> None:
        if self.momentum == 0:
            self.flat.add_(self.grad, alpha=-self.lr)
            return
        if self.has_buffer:
            self.buffer.mul_(self.momentum).add_(self.grad)
        else:
            self.buffer.copy_(self.grad)
            self.has_buffer = True
            for p, view in zip(self.params, self.buffer_views, strict=True):
                self.opt.state[p]["momentum_buffer"] = view
        self.flat.add_(self.buffer, alpha=-self.lr)

    def _forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(z_1, h_1), …, (z_L, z_L)]`` for feature-major inputs x (S, in, n)."""
        out = []
        for layer in self.layers:
            z = torch.baddbmm(layer.bias, layer.weight, x)
            x = z if layer.activation is None else _activate(layer.activation, z)
            out.append((z, x))
        return out

    def _gradient(self, x: torch.Tensor, target: torch.Tensor) -> None:
        """Write the gradient of the summed losses on the batch x (S, in, B) with targets
        (S, C, B) into the flat gradient (the parameters' ``.grad``)."""
        passes = self._forward(x)
        z = passes[-1][0]
        output = torch.softmax(z, 1) if self.kind == "softmax" else torch.sigmoid(z)
        g = output.sub_(target).mul_(1.0 / z.shape[2])
        inputs = [x] + [h for _, h in passes[:-1]]
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if layer.grad_in_out:
                torch.bmm(inputs[i], g.mT, out=layer.weight_grad)
            else:
                torch.bmm(g, inputs[i].mT, out=layer.weight_grad)
            torch.sum(g, 2, out=layer.bias_grad)
            if i:
                below = self.layers[i - 1].activation
                z_below, h_below = passes[i - 1]
                g_h = torch.bmm(layer.weight_t, g)
                g = _ACTIVATION_GRADIENTS[type(below)](below, g_h, z_below, h_below)

    def batches(
        self, order: torch.Tensor | None, batch_size: int | None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Inputs (S, in, B) and targets (S, C, B) of each batch of an epoch.

        Batches of ``batch_size`` in ``order`` (S, n), the last one possibly shorter, or
        the full batch for ``order=None``. Each member's shuffled inputs and targets are
        gathered once for the epoch, with one :func:`torch.index_select` each; the batches
        are slices of them.
        """
        if order is None:
            members = self.n_members
            yield self.x.mT.expand(members, -1, -1), self.targets.mT.expand(members, -1, -1)
            return
        n = order.shape[1]

        def gather(a: torch.Tensor) -> torch.Tensor:
            return a.index_select(0, order.reshape(-1)).view(-1, n, a.shape[1]).mT

        x, target = gather(self.x), gather(self.targets)
        for start in range(0, n, batch_size):
            yield x[..., start : start + batch_size], target[..., start : start + batch_size]

    def epoch(self, order: torch.Tensor | None, batch_size: int | None) -> None:
        """Train one epoch on :meth:`batches`: a gradient and an update per batch."""
        for x, target in self.batches(order, batch_size):
            self._gradient(x, target)
            self._call_tensor_hooks()
            self.update()

    def _call_tensor_hooks(self) -> None:
        """Call each parameter's tensor hooks with its gradient, as autograd calls them
        before accumulating it: a hook that returns a tensor replaces the gradient."""
        for p in self.params:
            for hook in list((p._backward_hooks or {}).values()):
                replaced = hook(p.grad)
                if replaced is not None:
                    p.grad.copy_(replaced)

    def evaluate(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(S, 2) loss and accuracy of each member on the training and on the test data.

        One forward pass over both, in chunks of samples of about :data:`_EVAL_VALUES`
        values per layer; the test result is None without test data.
        """
        members = self.n_members
        passes = [self._forward(chunk.expand(members, -1, -1))[-1][0] for chunk in self.eval_x]
        logits = torch.cat(passes, dim=2).mT
        n = self.n_train
        parts = [(logits[:, :n], self.y)]
        if self.test_y is not None:
            parts.append((logits[:, n:], self.test_y))
        results = [
            torch.stack([member_losses(z, y, self.kind), _member_accuracies(z, y, self.kind)], 1)
            for z, y in parts
        ]
        return results[0], (results[1] if len(results) > 1 else None)

    def release(self) -> None:
        """Give each parameter and gradient its own storage again, as before training."""
        for p in self.params:
            p.data = p.data.clone()
            p.grad = p.grad.clone()


def _layers(model: MLP | EnsembleMLP) -> list[_Layer]:
    """The fused step's view of ``model``'s linear layers, each with the activation after it.

    An :class:`EnsembleMLP` stores weights (S, in, out) and biases (S, 1, out), an
    :class:`MLP` weights (out, in) and biases (out,): both become (S, out, in) and
    (S, out, 1) views, S = 1 for an MLP.
    """
    children = list(model.children())
    layers = []
    for i, linear in enumerate(children):
        if not isinstance(linear, (BatchedLinear, nn.Linear)):
            continue
        weight, bias = linear.weight, linear.bias
        if isinstance(linear, BatchedLinear):
            w, w_t, grad = weight.detach().mT, weight.detach(), weight.grad
            b, b_grad = bias.detach().mT, bias.grad[:, 0]
        else:
            w, grad = weight.detach().unsqueeze(0), weight.grad.unsqueeze(0)
            w_t = w.mT
            b, b_grad = bias.detach().view(1, -1, 1), bias.grad.unsqueeze(0)
        activation = children[i + 1] if i + 1 < len(children) else None
        layers.append(
            _Layer(w, w_t, b, grad, isinstance(linear, BatchedLinear), b_grad, activation)
        )
    return layers


# ---------------------------------------------------------------------------
# threads


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous setting.

    Small models (the 12-bit networks, digits-sized VIB) train fastest on one thread:
    more threads wait on each other, and on a busy two-core machine they were several
    times slower in our measurements (docs/performance/speed.md).
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
        state = _read_checkpoint(self.path)
        if state["settings"] != self.settings:
            raise InvalidParameterError(
                f"checkpoint {self.path} was written with other settings "
                f"({state['settings']}); delete it or train with the same settings"
            )
        try:
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["optimizer"])
            for g, g_state in zip(self.generators, state["generators"], strict=True):
                g.set_state(g_state)
            epoch = int(state["epoch"])
            self.records[: epoch + 1] = state["records"]
        except (RuntimeError, ValueError, TypeError, KeyError) as exc:
            raise _unusable(self.path, f"it holds another model: {exc}") from None
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
        with atomic_write(self.path, "wb") as handle:
            torch.save(state, handle)


_CHECKPOINT_KEYS = ("settings", "epoch", "model", "optimizer", "generators", "records")


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """The state saved in ``path``: plain tensors and containers only, never code.

    The safe loader's warnings (about the pickle protocol of a foreign file) are silenced:
    an unusable file is one error, in one line.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(path, weights_only=True)
    except pickle.UnpicklingError as exc:  # a class, a function or an opcode it refuses
        found = re.search(r"GLOBAL (\S+)", str(exc))
        named = f" ({found.group(1)})" if found else ""
        reason = f"it holds objects other than tensors and numbers{named}, refused for safety"
        raise _unusable(path, reason) from None
    except OSError as exc:
        raise _unusable(path, exc.strerror or type(exc).__name__) from None
    except Exception:  # EOFError, RuntimeError, ...: a file cut short or not from torch
        empty = path.stat().st_size == 0
        reason = "empty file" if empty else "truncated, or not written by torch.save"
        raise _unusable(path, reason) from None
    if not isinstance(state, dict) or not set(_CHECKPOINT_KEYS) <= set(state):
        raise _unusable(path, "not a checkpoint written by fit")
    return state


def _unusable(path: Path, reason: str) -> InvalidParameterError:
    first = next((line for line in reason.splitlines() if line.strip()), reason)
    return InvalidParameterError(
        f"checkpoint {path} cannot be used ({first.strip()}); delete it to train from the "
        "start, or pass another checkpoint path"
    )


def checkpoint_epoch(path: str | os.PathLike[str]) -> int:
    """The last epoch saved in a checkpoint of :func:`fit`, or −1 if there is no file.

    Raises
    ------
    ValueError
        If the file is not a readable checkpoint (the message says to delete it).
    """
    path = Path(path)
    return int(_read_checkpoint(path)["epoch"]) if path.exists() else -1


# ---------------------------------------------------------------------------
# public API


def evaluate(model: torch.nn.Module, x: Any, y: Any) -> dict[str, np.ndarray]:
    """Mean loss (nats) and accuracy of every member of ``model`` on (x, y).

    Parameters
    ----------
    model : MLP, EnsembleMLP or torch.nn.Module
        A network as :func:`fit` takes it.
    x : array-like, shape (n, in_features), or (n, ...) for another module
    y : array-like of int, shape (n,)
        Class labels in [0, max(C, 2)), C the number of outputs.

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
    result = _evaluate(model, x_t, y_t, _head(model, x_t)[0]).double().cpu().numpy()
    return {"loss": result[:, 0], "accuracy": result[:, 1]}


def fit(
    model: torch.nn.Module,
    x_train: Any,
    y_train: Any,
    *,
    epochs: int,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    lr: float = 0.01,
    momentum: float = 0.0,
    random_state: Any = None,
    x_test: Any = None,
    y_test: Any = None,
    on_epoch: Callable[[int], None] | None = None,
    progress: Progress | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 100,
    fused: bool = True,
) -> TrainingHistory:
    r"""Train ``model`` in place; return the loss and accuracy of every member per epoch.

    Parameters
    ----------
    model : MLP, EnsembleMLP or torch.nn.Module
        Trained in place; an ensemble trains all its members at once. Any other module
        is one classifier mapping inputs (n, ...) to logits (n, C) (C = 1: one sigmoid
        logit; C ≥ 2: softmax), such as :class:`~ibkit.nn.cnn.ConvNet`; its ``seed``
        attribute, if it has one, plays the part of an MLP's.
    x_train : array-like, shape (n, in_features), or (n, ...) for another module
        Inputs, numpy or torch, converted to the model's float dtype and device.
    y_train : array-like of int, shape (n,)
        Class labels in [0, max(C, 2)) (bool works for two classes).
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
    random_state : None, int or numpy Generator
        Seeds the data order together with each member's model seed: member s shuffles
        with a generator seeded from ``SeedSequence([random_state, seeds[s]])`` (a
        Generator gives one int drawn from it; ``None``: ``SeedSequence([seeds[s]])``, so
        the model's seeds alone fix the run; an MLP built without a seed and ``None``:
        fresh entropy). So member s of an ensemble sees exactly the batches of
        ``MLP(..., seed=seeds[s])`` trained with the same ``random_state``.
    x_test, y_test : array-like, optional
        Held-out data, evaluated after every epoch; both or neither.
    on_epoch : callable, optional
        ``on_epoch(epoch)`` is called with ``epoch = 0`` before training and after each
        epoch ``1, …, epochs``, once that epoch's losses are computed (the hook of an
        :class:`~ibkit.nn.plane.InformationPlane`: ``on_epoch=plane.record``).
    progress : callable(done, total), optional
        Called after every epoch with (epochs done, epochs).
    checkpoint : path, optional
        File that makes the run resumable: every ``checkpoint_every`` epochs and at the
        end, the model, the optimizer, the data-order generators and the history so far
        are saved there (atomically). If the file exists when ``fit`` starts, training
        continues from the saved epoch — with the same settings, else ``ValueError`` —
        and reproduces the uninterrupted run; ``on_epoch`` is called again only for
        the epochs after the saved one.
    checkpoint_every : int
        Epochs between checkpoints, ≥ 1.
    fused : bool
        Train a plain :class:`~ibkit.nn.mlp.MLP` or :class:`EnsembleMLP` (not quantised,
        without hooks on its modules or parameters) through the fused step of the module
        notes, with the batches and, up to float rounding, the results of the autograd
        path. ``False``: always autograd and ``torch.optim`` (the reference). Other
        models, and models with hooks, take the autograd path either way.

    Returns
    -------
    TrainingHistory
        Epochs ``0, …, epochs`` by members; ``to_frame()`` gives one row per epoch and
        member (columns ``epoch, seed, train_loss, train_acc, test_loss, test_acc``).

    Raises
    ------
    DivergenceError
        If a member's training loss becomes NaN or infinite, or runs away: above
        :func:`loss_ceiling`, 10 times the larger of its loss at epoch 0 and ln K (K =
        ``max(out_features, 2)``). The cause is too large a learning rate, or inputs of
        too large a scale; nothing after that epoch is recorded or saved.

    Examples
    --------
    >>> x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> ens = EnsembleMLP(2, 2, hidden=(4,), activation="relu")
    >>> history = fit(ens, x, [0, 0, 0, 1], epochs=100, optimizer="adam", lr=0.05)
    >>> history.train_loss.shape, history.to_frame().columns[:3].tolist()
    ((101, 2), ['epoch', 'seed', 'train_loss'])
    >>> history.train_acc[-1].tolist()  # x1 AND x2, learnt by both members
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
    if not isinstance(fused, bool):
        raise InvalidParameterError(f"fused must be True or False; got {fused!r}")
    seed = _data_seed(random_state)
    on_epoch = check_callback(on_epoch, "on_epoch")
    progress = check_callback(progress, "progress")
    if (x_test is None) != (y_test is None):
        raise InvalidParameterError("pass both x_test and y_test, or neither")
    x, y = _data(model, x_train, y_train, "x_train", "y_train")
    test = None if x_test is None else _data(model, x_test, y_test, "x_test", "y_test")

    if isinstance(model, EnsembleMLP):
        member_seeds = model.seeds
    else:
        member_seeds = (getattr(model, "seed", None),)
    n, n_members = x.shape[0], len(member_seeds)
    full_batch = batch_size is None or batch_size >= n
    generators = [_order_generator(seed, s) for s in member_seeds]
    opt = _make_optimizer(optimizer, list(model.parameters()), lr, momentum)
    kind, n_classes = _head(model, x)

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
    engine = _FusedStep(model, opt, kind, x, y, test) if fused and _fusable(model) else None

    def measure() -> tuple[torch.Tensor, torch.Tensor | None]:
        if engine is not None:
            return engine.evaluate()
        return _evaluate(model, x, y, kind), None if test is None else _evaluate(model, *test, kind)

    def record(epoch: int) -> None:
        train, held_out = measure()
        records[epoch, :, :2] = train.cpu()
        ceiling = loss_ceiling(records[0, :, 0], n_classes)
        check_loss(records[epoch, :, 0], epoch, x, ceiling, lr=lr)
        if held_out is not None:
            records[epoch, :, 2:] = held_out.cpu()
        if on_epoch is not None:
            on_epoch(epoch)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        member_losses(_logits(model, xb), yb, kind).sum().backward()
        opt.step()

    try:
        if first == 0:
            record(0)
            first = 1
        for epoch in range(first, epochs + 1):
            if engine is not None:
                order = None if full_batch else _epoch_order(n, generators, x.device)
                engine.epoch(order, batch_size)
            elif full_batch:
                step(x, y)
            else:
                for index in _minibatches(n, batch_size, generators, x.device):
                    # MLPs take (S, batch, features); another module one batch (batch, ...)
                    index = index if isinstance(model, (MLP, EnsembleMLP)) else index[0]
                    step(x[index], y[index])
            record(epoch)
            if saver is not None:
                saver.save(epoch)
            if progress is not None:
                progress(epoch, epochs)
    finally:
        if engine is not None:
            engine.release()

    metrics = records.permute(2, 0, 1).contiguous().numpy()
    return TrainingHistory(np.arange(epochs + 1), tuple(member_seeds), *metrics)

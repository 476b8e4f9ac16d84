r"""Variational Information Bottleneck (Alemi et al. 2017): the layer, the classifier, training.

A stochastic encoder :math:`q(z \mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))`
feeds a decoder :math:`q(y \mid z)`; the loss per example is

.. math::

    \mathcal L = \mathbb E_{z \sim q(z|x)}[-\log q(y \mid z)]
        + \beta\,\mathrm{KL}\big(q(z \mid x) \,\|\, \mathcal N(0, I)\big).

The mean KL (the *rate*) is an upper bound on :math:`I(X;Z)`, and :math:`H(Y)` minus the
mean cross-entropy a lower bound on :math:`I(Z;Y)`, so each trained model is a point under
the IB curve on the information plane.

- :class:`VariationalBottleneck` is the drop-in layer: a linear map to :math:`\mu` and
  :math:`\rho`, :math:`\sigma = \operatorname{softplus}(\rho - 5)` as in the reference code,
  a reparameterised sample :math:`z = \mu + \sigma \odot \varepsilon` in training, and the
  closed-form KL of the last batch in :meth:`~VariationalBottleneck.kl`.
- :class:`VIBClassifier` is the paper's model: ReLU MLP encoder, bottleneck, linear
  decoder; in eval mode it averages the softmax over ``n_samples_eval`` draws of :math:`z`.
- :func:`train_vib` trains it (or a :class:`~ibkit.nn.nonlinear_ib.NonlinearIB`) with Adam
  and returns a :class:`VIBHistory` of rate, relevance and accuracy per epoch, in bits (a
  :class:`~ibkit.nn.training.History`, as :func:`~ibkit.nn.training.fit` returns). A loss
  that is NaN or infinite, or that runs away (above 10 times the larger of its value
  before training and ln K), stops it with :class:`~ibkit._validation.DivergenceError`.

References
----------
.. [1] A. A. Alemi, I. Fischer, J. V. Dillon and K. Murphy, "Deep variational information
   bottleneck", ICLR 2017.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ibkit._plain import plain
from ibkit._validation import (
    InvalidParameterError,
    check_array,
    check_callback,
    check_int,
    check_positive,
    check_random_state,
    pandas_module,
)
from ibkit.measures import entropy
from ibkit.nn.training import Progress, check_loss, check_range, loss_ceiling

__all__ = [
    "IBLoss",
    "StochasticClassifier",
    "VIBClassifier",
    "VIBHistory",
    "VariationalBottleneck",
    "gaussian_kl",
    "train_vib",
]

LN2 = math.log(2.0)

#: The largest β: the losses are float32, whose largest finite value this is.
MAX_BETA = float(torch.finfo(torch.float32).max)

#: Below this pre-activation, ``log(softplus(r))`` is ``r`` to float precision.
_SOFTPLUS_LINEAR = -20.0


def gaussian_kl(mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    r"""KL divergence of a diagonal Gaussian :math:`q` to :math:`\mathcal N(0, I)`.

    .. math::

        \mathrm{KL} = \tfrac12 \sum_k \big(\mu_k^2 + \sigma_k^2 - 1 - \log \sigma_k^2\big)
        \quad \text{nats, per row.}

    Parameters
    ----------
    mu, log_sigma : Tensor of shape (..., dim)
        Means and log standard deviations (log σ keeps small σ exact).

    Returns
    -------
    Tensor of shape (...)
        The KL of each row in nats, ≥ 0, and 0 only for :math:`\mu = 0, \sigma = 1`.

    Examples
    --------
    >>> import torch
    >>> float(gaussian_kl(torch.tensor([[0.0, 2.0]]), torch.zeros(1, 2)))  # ½·2²
    2.0
    """
    return 0.5 * (mu.square() + torch.exp(2.0 * log_sigma) - 1.0 - 2.0 * log_sigma).sum(-1)


def _log_softplus(r: torch.Tensor) -> torch.Tensor:
    """``log(softplus(r))`` without underflow to ``-inf`` for very negative ``r``."""
    safe = torch.log(F.softplus(r.clamp(min=_SOFTPLUS_LINEAR)))
    return torch.where(r < _SOFTPLUS_LINEAR, r, safe)


def _draw(mu: torch.Tensor, sigma: torch.Tensor, training: bool, n_eval: int) -> torch.Tensor:
    """One draw of ``mu + sigma * eps`` in training; in eval the mean or ``n_eval`` draws."""
    if training:
        return mu + sigma * torch.randn_like(mu)
    if n_eval == 0:
        return mu
    eps = torch.randn((n_eval, *mu.shape), dtype=mu.dtype, device=mu.device)
    return mu + sigma * eps


class VariationalBottleneck(nn.Module):
    r"""Stochastic Gaussian layer with the KL to a standard normal prior (Alemi et al. 2017).

    A linear map gives :math:`2\,\text{dim}` outputs :math:`(\mu, \rho)`;
    :math:`\sigma = \operatorname{softplus}(\rho - 5)` (the offset of the reference code
    starts training with little noise). In training mode the output is one
    reparameterised sample :math:`z = \mu + \sigma \odot \varepsilon`,
    :math:`\varepsilon \sim \mathcal N(0, I)`, so gradients reach :math:`\mu` and
    :math:`\sigma`. In eval mode it is :math:`\mu` (``n_samples_eval=0``, shape
    ``(batch, dim)``) or ``n_samples_eval`` samples stacked in front (shape
    ``(n_samples_eval, batch, dim)``). Every call stores the per-example
    :math:`\mathrm{KL}(q(z|x) \| \mathcal N(0, I))` (nats) for :meth:`kl`; add
    ``beta * layer.kl().mean()`` to the loss.

    Parameters
    ----------
    in_features : int
        Width of the input.
    dim : int
        Dimension :math:`K` of the code :math:`z`.
    n_samples_eval : int, default 0
        Samples drawn in eval mode; 0 returns the mean :math:`\mu` (deterministic).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> vib = VariationalBottleneck(20, 4)
    >>> net = nn.Sequential(nn.Linear(8, 20), nn.ReLU(), vib, nn.Linear(4, 3))
    >>> x, y = torch.randn(5, 8), torch.tensor([0, 1, 2, 0, 1])
    >>> loss = nn.functional.cross_entropy(net(x), y) + 1e-3 * vib.kl().mean()
    >>> loss.backward()
    >>> tuple(vib.kl().shape), bool((vib.kl() >= 0).all())
    ((5,), True)
    """

    def __init__(self, in_features: int, dim: int, *, n_samples_eval: int = 0) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.dim = check_int(dim, "dim", minimum=1)
        self.n_samples_eval = check_int(n_samples_eval, "n_samples_eval", minimum=0)
        self.linear = nn.Linear(self.in_features, 2 * self.dim)
        self._kl: torch.Tensor | None = None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(mu, log_sigma)`` of :math:`q(z \\mid x)`, each ``(batch, dim)``."""
        mu, rho = self.linear(x).split(self.dim, dim=-1)
        return mu, _log_softplus(rho - 5.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, log_sigma = self.encode(x)
        self._kl = gaussian_kl(mu, log_sigma)
        return _draw(mu, log_sigma.exp(), self.training, self.n_samples_eval)

    def kl(self) -> torch.Tensor:
        """Per-example KL (nats) of the last batch; differentiable."""
        if self._kl is None:
            raise RuntimeError("kl() needs a forward pass first; call the layer on a batch")
        return self._kl

    def extra_repr(self) -> str:
        n_eval = self.n_samples_eval
        return f"in_features={self.in_features}, dim={self.dim}, n_samples_eval={n_eval}"


class IBLoss(NamedTuple):
    """The parts of an IB loss on one batch (scalars in nats, means over the batch).

    ``total`` is what to minimise; ``ce`` the cross-entropy averaged over the drawn codes
    (:math:`H(Y)` minus it bounds :math:`I(Z;Y)` from below); ``rate`` the bound on
    :math:`I(X;Z)`; ``logits`` the predictive log-probabilities, shape ``(batch, classes)``.
    """

    total: torch.Tensor
    ce: torch.Tensor
    rate: torch.Tensor
    logits: torch.Tensor


def _mlp(widths: Sequence[int]) -> nn.Sequential:
    """Linear layers ``widths[0] → widths[1] → …``, each followed by a ReLU."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers)


def check_beta(beta: Any, name: str = "beta") -> float:
    """Return ``beta`` as a float if it is a number in [0, :data:`MAX_BETA`], else raise."""
    value = check_positive(beta, name, allow_zero=True)
    if value > MAX_BETA:
        raise InvalidParameterError(
            f"{name} must be at most {MAX_BETA:.3g}, the largest float32 (the loss is computed "
            f"in float32); got {beta!r}; pass a smaller value"
        )
    return value


def _check_widths(widths: Any, name: str) -> tuple[int, ...]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
        raise InvalidParameterError(
            f"{name} must be a sequence of layer widths >= 1; got {widths!r}"
        )
    return tuple(check_int(w, f"{name}[{i}]", minimum=1) for i, w in enumerate(widths))


class StochasticClassifier(nn.Module):
    """Encoder, stochastic code, decoder: the shared frame of the IB classifiers.

    The constructor validates and sets ``in_features``, ``n_classes`` and ``beta``.
    Subclasses set ``decoder`` and implement ``_code(x) -> (z, rate)`` with ``z`` shaped
    ``(samples, batch, dim)`` and ``rate`` a scalar in nats, and may override ``_penalty``.
    """

    decoder: nn.Module

    def __init__(self, in_features: int, n_classes: int, beta: float) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.beta = check_beta(beta)

    def _code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _penalty(self, rate: torch.Tensor) -> torch.Tensor:
        return self.beta * rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictive log-probabilities ``(batch, classes)``: log of the mean softmax."""
        return _log_mean_softmax(self.decoder(self._code(x)[0]))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> IBLoss:
        """Cross-entropy plus the penalty on the rate, with both parts (nats)."""
        z, rate = self._code(x)
        logits = self.decoder(z)
        ce = F.cross_entropy(logits.flatten(0, 1), y.repeat(logits.shape[0]))
        return IBLoss(ce + self._penalty(rate), ce, rate, _log_mean_softmax(logits))


def _log_mean_softmax(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`\log \frac1S \sum_s \operatorname{softmax}(\ell_s)` over the leading axis."""
    return torch.logsumexp(F.log_softmax(logits, dim=-1), dim=0) - math.log(logits.shape[0])


class VIBClassifier(StochasticClassifier):
    r"""The VIB classifier of Alemi et al. (2017): MLP encoder, Gaussian code, linear decoder.

    Loss: :math:`\mathrm{CE} + \beta\,\overline{\mathrm{KL}}` (:meth:`loss` returns both
    parts). In eval mode :meth:`forward` averages the softmax over ``n_samples_eval`` codes.
    The paper's MNIST model is the default: encoder 784-1024-1024, :math:`K = 256`,
    :math:`\beta = 10^{-3}`, 12 samples at test time.

    Parameters
    ----------
    in_features : int
        Input width.
    n_classes : int
        Number of classes (≥ 2).
    encoder : sequence of int, default (1024, 1024)
        Hidden widths of the ReLU encoder.
    dim : int, default 256
        Code dimension :math:`K`.
    beta : float, default 1e-3
        Weight :math:`\beta \ge 0` of the KL term; 0 gives the (noisy) deterministic baseline.
    n_samples_eval : int, default 12
        Codes averaged over in eval mode (0: use the mean code).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> model = VIBClassifier(64, 10, encoder=(32,), dim=8, beta=1e-2)
    >>> out = model.loss(torch.rand(16, 64), torch.randint(0, 10, (16,)))
    >>> torch.allclose(out.total, out.ce + 1e-2 * out.rate)
    True
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        *,
        encoder: Sequence[int] = (1024, 1024),
        dim: int = 256,
        beta: float = 1e-3,
        n_samples_eval: int = 12,
    ) -> None:
        super().__init__(in_features, n_classes, beta)
        widths = (self.in_features, *_check_widths(encoder, "encoder"))
        self.encoder = _mlp(widths)
        self.bottleneck = VariationalBottleneck(widths[-1], dim, n_samples_eval=n_samples_eval)
        self.decoder = nn.Linear(self.bottleneck.dim, self.n_classes)

    def _code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.bottleneck(self.encoder(x))
        return (z if z.dim() == 3 else z[None]), self.bottleneck.kl().mean()


# ---------------------------------------------------------------------------
# training


@dataclass(frozen=True, eq=False)
class VIBHistory:
    """Per-epoch record of a :func:`train_vib` run (information in bits).

    A :class:`~ibkit.nn.training.History`: the arrays follow ``epoch``, and
    :meth:`to_frame` and :meth:`to_dict` give the table and the fields.

    Attributes
    ----------
    epoch : ndarray of int
        The epochs evaluated (1, 2, ..., epochs by default; see ``eval_every``).
    rate_bits : ndarray
        Mean rate on the training set: the KL for VIB (an upper bound on I(X;Z)), the KDE
        upper bound on I(X;T) on batches of ``batch_size`` rows for NonlinearIB.
    relevance_bits : ndarray
        :math:`H(Y) - \\mathrm{CE}` on the training set, a lower bound on I(Z;Y).
    ce_bits : ndarray
        Mean cross-entropy on the training set over the sampled codes.
    train_acc, test_acc : ndarray
        Accuracy of the averaged prediction (``test_acc`` is NaN without a test set).
    seconds : ndarray
        Wall time of the training steps since the previous row (evaluation excluded).
    h_y_bits : float
        Entropy of the training labels' frequencies.
    beta : float
        The model's β.
    """

    epoch: np.ndarray
    rate_bits: np.ndarray
    relevance_bits: np.ndarray
    ce_bits: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    seconds: np.ndarray
    h_y_bits: float
    beta: float

    def to_frame(self) -> Any:
        """One row per epoch, the scalars repeated as columns (needs pandas)."""
        pd = pandas_module("VIBHistory")
        cols = ("epoch", "rate_bits", "relevance_bits", "ce_bits", "train_acc", "test_acc")
        frame = pd.DataFrame({c: getattr(self, c) for c in (*cols, "seconds")})
        return frame.assign(h_y_bits=self.h_y_bits, beta=self.beta)

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values (arrays become lists): JSON-able.

        ``json.dumps`` accepts the result (a NaN ``test_acc`` becomes ``NaN``).
        """
        return plain(asdict(self))


def _check_labelled(
    x: Any, y: Any, *, names: tuple[str, str], model: StochasticClassifier
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate inputs ``(n, in_features)`` and labels in ``[0, n_classes)``; return tensors."""
    xa = check_array(x, names[0], ndim=2)
    if xa.shape[1] != model.in_features:
        raise InvalidParameterError(
            f"{names[0]} has {xa.shape[1]} columns but the model takes {model.in_features} "
            "features; build the model with in_features=x.shape[1]"
        )
    ya = _check_labels(y, names[1], n_rows=xa.shape[0], x_name=names[0])
    if ya.max() >= model.n_classes:
        raise InvalidParameterError(
            f"{names[1]} has label {int(ya.max())} but the model has {model.n_classes} classes; "
            "build it with n_classes=y.max() + 1"
        )
    xt = check_range(torch.as_tensor(xa), torch.float32, names[0])
    return xt.to(torch.float32), torch.as_tensor(ya)


def _check_labels(y: Any, name: str, *, n_rows: int, x_name: str) -> np.ndarray:
    """Return ``y`` as int64 labels ≥ 0, one per row of ``x_name``."""
    ya = check_array(y, name, ndim=1)
    if (ya != np.round(ya)).any() or ya.min() < 0:
        raise InvalidParameterError(
            f"{name} must hold integer class labels >= 0; got values like {ya[:3]}"
        )
    if ya.shape[0] != n_rows:
        raise InvalidParameterError(
            f"{x_name} has {n_rows} rows but {name} has {ya.shape[0]} labels; "
            "pass one label per row"
        )
    return ya.astype(np.int64)


def _evaluate(
    model: StochasticClassifier, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> tuple[float, float, float, float]:
    """Mean loss, CE and rate (nats) and accuracy over ``x`` in batches, in eval mode."""
    total = ce = rate = correct = 0.0
    with torch.no_grad():
        for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
            out = model.loss(xb, yb)
            total += float(out.total) * len(yb)
            ce += float(out.ce) * len(yb)
            rate += float(out.rate) * len(yb)
            correct += float((out.logits.argmax(dim=1) == yb).sum())
    n = len(y)
    return total / n, ce / n, rate / n, correct / n


def _start_ceiling(
    model: StochasticClassifier, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int
) -> np.ndarray:
    """:func:`~ibkit.nn.training.loss_ceiling` of the untrained ``model`` on (x, y).

    Evaluates the loss in eval mode, after seeding the global torch RNG with ``seed``.
    """
    torch.manual_seed(seed)
    model.eval()
    return loss_ceiling(_evaluate(model, x, y, batch_size)[0], model.n_classes)


def _torch_seed(random_state: Any) -> int:
    """A torch seed drawn from ``random_state`` (None, int, SeedSequence or Generator)."""
    return int(check_random_state(random_state).integers(2**63 - 1))


def train_vib(
    model: StochasticClassifier,
    x_train: Any,
    y_train: Any,
    *,
    epochs: int,
    batch_size: int = 100,
    lr: float = 1e-4,
    adam_betas: tuple[float, float] = (0.5, 0.999),
    decay: float = 0.97,
    decay_every: int = 2,
    x_test: Any = None,
    y_test: Any = None,
    eval_every: int = 1,
    random_state: Any = None,
    progress: Progress | None = None,
) -> VIBHistory:
    r"""Train an IB classifier with Adam and record rate, relevance and accuracy per epoch.

    The optimiser is the paper's: Adam with learning rate ``lr`` and
    ``adam_betas = (0.5, 0.999)``, the rate multiplied by ``decay`` every ``decay_every``
    epochs (:class:`torch.optim.lr_scheduler.StepLR`); minibatches of ``batch_size`` rows in
    a fresh random order each epoch; one code sample per example per step. After each epoch
    the model is evaluated on the whole training set in eval mode: rate in bits (upper
    bound on I(X;Z)), relevance :math:`H(Y) - \mathrm{CE}` in bits (lower bound on
    I(Z;Y), :math:`H(Y)` from the training label frequencies) and accuracy.

    ``random_state`` seeds the batch order and every noise draw (in a forked torch RNG;
    the global one is left as it was), so the same model (same initial weights: build it
    after ``torch.manual_seed``) and the same seed repeat exactly on the same machine.
    The model is trained in place and left in eval mode.

    Parameters
    ----------
    model : VIBClassifier or NonlinearIB
        Any :class:`StochasticClassifier`.
    x_train, y_train : array-like, shapes (n, in_features) and (n,)
        Inputs and integer labels in ``[0, n_classes)``.
    epochs : int
        Passes over the training set.
    batch_size : int, default 100
    lr : float, default 1e-4
    adam_betas : tuple of float, default (0.5, 0.999)
    decay : float, default 0.97
        Learning-rate factor in (0, 1], applied every ``decay_every`` epochs.
    decay_every : int, default 2
    x_test, y_test : array-like, optional
        A held-out set for ``test_acc``.
    eval_every : int, default 1
        Evaluate (and record a row) after every ``eval_every``-th epoch and the last one;
        ``eval_every=epochs`` records only the end, which saves the evaluation passes.
    random_state : None, int or numpy Generator
    progress : callable(done, total), optional
        Called after every epoch with (epochs done, epochs).

    Returns
    -------
    VIBHistory

    Raises
    ------
    DivergenceError
        If the loss minimised (cross-entropy plus the β-weighted rate penalty, nats)
        becomes NaN or infinite, or runs away: above
        :func:`~ibkit.nn.training.loss_ceiling`, 10 times the larger of :math:`L_0`, its
        value on the training set before the first update, and :math:`\ln K` (K =
        ``n_classes``). It is checked as the mean over each epoch's minibatches and at
        every evaluation. The cause is β or the learning rate too large, or inputs of too
        large a scale; the message names them with their values. Healthy runs stay far
        below the bound: on digits, every learning rate up to 0.3 kept the loss under
        twice :math:`\max(L_0, \ln K)`, while ``lr=10`` sent it past :math:`10^{8}` times that.

    Examples
    --------
    >>> import numpy as np, torch
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((200, 5)).astype(np.float32); y = (x[:, 0] > 0.5).astype(int)
    >>> _ = torch.manual_seed(0)
    >>> model = VIBClassifier(5, 2, encoder=(16,), dim=2, beta=1e-3)
    >>> hist = train_vib(model, x, y, epochs=30, lr=1e-2, random_state=0)
    >>> bool(hist.train_acc[-1] > 0.9), bool(hist.relevance_bits[-1] <= hist.h_y_bits)
    (True, True)
    """
    if not isinstance(model, StochasticClassifier):
        raise InvalidParameterError(
            f"model must be a VIBClassifier or NonlinearIB; got {type(model).__name__}"
        )
    xt, yt = _check_labelled(x_train, y_train, names=("x_train", "y_train"), model=model)
    if (x_test is None) != (y_test is None):
        raise InvalidParameterError("pass both x_test and y_test, or neither")
    test = None
    if x_test is not None:
        test = _check_labelled(x_test, y_test, names=("x_test", "y_test"), model=model)
    epochs = check_int(epochs, "epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    decay_every = check_int(decay_every, "decay_every", minimum=1)
    eval_every = check_int(eval_every, "eval_every", minimum=1)
    lr = check_positive(lr, "lr")
    decay = check_positive(decay, "decay")
    if decay > 1:
        raise InvalidParameterError(f"decay must be in (0, 1]; got {decay!r}")
    if len(adam_betas) != 2 or not all(0 <= b < 1 for b in adam_betas):
        raise InvalidParameterError(f"adam_betas must be two numbers in [0, 1); got {adam_betas!r}")
    progress = check_callback(progress, "progress")

    seed = _torch_seed(random_state)
    knobs = {"beta": model.beta, "lr": lr} if model.beta > 0 else {"lr": lr}
    gen = torch.Generator().manual_seed(seed)
    h_y = entropy(torch.bincount(yt).numpy(), normalize=True)
    n_batches = math.ceil(len(yt) / batch_size)
    rows: list[tuple[float, ...]] = []
    seconds = 0.0
    with torch.random.fork_rng(devices=[]):
        ceiling = _start_ceiling(model, xt, yt, batch_size, seed)
        torch.manual_seed(seed)  # training draws the same noise with or without that pass
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=tuple(adam_betas))
        schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=decay_every, gamma=decay)
        for epoch in range(1, epochs + 1):
            model.train()
            start = time.perf_counter()
            loss_sum = 0.0
            for idx in torch.randperm(len(yt), generator=gen).split(batch_size):
                out = model.loss(xt[idx], yt[idx])
                opt.zero_grad(set_to_none=True)
                out.total.backward()
                opt.step()
                loss_sum = loss_sum + out.total.detach()
            schedule.step()
            seconds += time.perf_counter() - start
            check_loss(float(loss_sum) / n_batches, epoch, xt, ceiling, **knobs)
            if epoch % eval_every == 0 or epoch == epochs:
                model.eval()
                loss, ce, rate, acc = _evaluate(model, xt, yt, batch_size)
                check_loss(loss, epoch, xt, ceiling, **knobs)
                test_acc = _evaluate(model, *test, batch_size)[3] if test else math.nan
                rows.append((epoch, rate / LN2, h_y - ce / LN2, ce / LN2, acc, test_acc, seconds))
                seconds = 0.0
            if progress is not None:
                progress(epoch, epochs)
    model.eval()
    epoch_col, *cols = np.array(rows).T
    return VIBHistory(epoch_col.astype(np.int64), *cols, h_y_bits=h_y, beta=model.beta)

r"""Neural variational lower bounds on mutual information (MINE, InfoNCE, NWJ).

A critic :math:`f_\theta(x, y)` (a small ReLU multilayer perceptron on the concatenation
:math:`[x, y]`, scalar output) is trained with Adam to maximise a variational lower bound
on :math:`I(X;Y)`. Pairs :math:`(x_i, y_i)` from the batch are samples of the joint law
:math:`P = p(x, y)`; pairs with ``y`` shuffled within the batch (or all pairs
:math:`(x_i, y_j)`, for InfoNCE) stand in for the product of marginals
:math:`Q = p(x)\,p(y)`.

Three bounds are registered:

``"infonce"`` (:class:`InfoNCEEstimator`, van den Oord et al. 2018)
    :math:`I \ge \mathbb E\bigl[f(x_i, y_i) - \log \tfrac1B \sum_{j=1}^B e^{f(x_i, y_j)}\bigr]`,
    from the :math:`B \times B` score matrix of a batch of size :math:`B`. Low variance,
    but it can never exceed :math:`\log B` (``log(batch_size)``) nats.
``"nwj"`` (:class:`NWJEstimator`, Nguyen, Wainwright & Jordan 2010)
    :math:`I \ge \mathbb E_P[f] - e^{-1}\,\mathbb E_Q[e^{f}]`.
``"mine"`` (:class:`MINEEstimator`, Belghazi et al. 2018)
    Donsker–Varadhan: :math:`I \ge \mathbb E_P[f] - \log \mathbb E_Q[e^{f}]`, trained with
    the paper's bias-corrected gradient (a moving average of :math:`\mathbb E_Q[e^f]` in
    the denominator of the gradient of the log term).

The samples are split once: the critic is trained on the first ``1 - holdout`` of a random
permutation, and the reported value is the mean of the bound over ``n_eval_batches``
random batches of the held-out part (``std_error`` is the standard deviation of those
per-batch values over :math:`\sqrt{n_\text{eval}}`). Continuous columns are z-scored with
the training-split mean and standard deviation; discrete labels are one-hot encoded.
Training is seeded from ``random_state`` (a private :class:`torch.Generator` plus a forked
global torch RNG for the weight initialisation), so a fixed seed repeats exactly on the
same machine. Everything runs on the CPU with torch's default thread settings.

These are *estimated* lower bounds: with finite samples and a finite training budget they
usually fall below the truth, but sampling noise can push them slightly above it. A failed
fit is not reported as an estimate: a non-finite training loss, or a held-out bound that
is not finite or lies below −10 nats, raises :class:`~ibkit._validation.DivergenceError`,
whose message names the learning rate ``lr`` to lower.

References
----------
.. [1] A. van den Oord, Y. Li and O. Vinyals, "Representation learning with contrastive
   predictive coding", arXiv:1807.03748, 2018.
.. [2] X. Nguyen, M. J. Wainwright and M. I. Jordan, "Estimating divergence functionals
   and the likelihood ratio by convex risk minimization", IEEE Trans. Inf. Theory
   56(11):5847–5861, 2010.
.. [3] M. I. Belghazi et al., "Mutual information neural estimation", ICML 2018.
.. [4] B. Poole et al., "On variational bounds of mutual information", ICML 2019.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._validation import (
    DivergenceError,
    InvalidParameterError,
    check_int,
    check_positive,
)
from ibkit.estimators._base import MIEstimator, Samples, register

__all__ = ["InfoNCEEstimator", "MINEEstimator", "NWJEstimator"]


#: A held-out bound below this (nats) is a failed fit, not an estimate: a constant critic
#: scores 0 (NWJ at most 0), so a bound this far below it means the critic's scores blew up
#: in training (divergence) or fit noise in the training split (overfitting).
_LOWEST_NATS = -10.0


def _check_hidden(hidden: Any) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence) or len(hidden) == 0:
        raise InvalidParameterError(
            f"hidden must be a non-empty sequence of integers >= 1; got {hidden!r}"
        )
    return tuple(check_int(h, f"hidden[{i}]", minimum=1) for i, h in enumerate(hidden))


def _open_interval(value: Any, name: str, *, include_one: bool = False) -> float:
    v = check_positive(value, name)
    if v > 1 or (v == 1 and not include_one):
        interval = "(0, 1]" if include_one else "(0, 1)"
        raise InvalidParameterError(f"{name} must be in {interval}; got {value!r}")
    return v


def _zscore(a: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Columns of ``a`` centred and scaled by the mean and std of the ``train`` rows
    (a constant column is only centred)."""
    mu, sd = a[train].mean(axis=0), a[train].std(axis=0)
    return (a - mu) / np.where(sd > 0, sd, 1.0)


def _critic(d_in: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = d_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


class _NeuralEstimator(MIEstimator):
    r"""Shared training loop of the neural bounds.

    Parameters
    ----------
    hidden : sequence of int, default (64, 64)
        Widths of the critic's hidden ReLU layers.
    steps : int, default 500
        Adam steps (one mini-batch each).
    batch_size : int, default 256
        Mini-batch size :math:`B` (capped at the size of each split).
    lr : float, default 1e-3
        Adam learning rate.
    holdout : float, default 0.2
        Fraction of the samples held out to evaluate the bound, in (0, 1).
    n_eval_batches : int, default 10
        Number of held-out batches averaged for the reported value.
    """

    min_samples = 20
    on_plane = False

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (64, 64),
        steps: int = 500,
        batch_size: int = 256,
        lr: float = 1e-3,
        holdout: float = 0.2,
        n_eval_batches: int = 10,
    ) -> None:
        super().__init__(
            hidden=_check_hidden(hidden),
            steps=check_int(steps, "steps", minimum=1),
            batch_size=check_int(batch_size, "batch_size", minimum=2),
            lr=check_positive(lr, "lr"),
            holdout=_open_interval(holdout, "holdout"),
            n_eval_batches=check_int(n_eval_batches, "n_eval_batches", minimum=1),
        )

    # -- bounds -------------------------------------------------------------------------

    def _bound(self, critic: nn.Module, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
        """The bound (nats) on one batch, as a differentiable scalar."""
        raise NotImplementedError

    def _loss(self, critic: nn.Module, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
        """Training loss on one batch (default: minus the bound)."""
        return -self._bound(critic, x, y, gen)

    @staticmethod
    def _joint_and_marginal(
        critic: nn.Module, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores on the joint pairs and on pairs with ``y`` shuffled within the batch."""
        perm = torch.randperm(y.shape[0], generator=gen)
        t_joint = critic(torch.cat([x, y], dim=1)).squeeze(1)
        t_marg = critic(torch.cat([x, y[perm]], dim=1)).squeeze(1)
        return t_joint, t_marg

    # -- training -----------------------------------------------------------------------

    def _estimate_nats(
        self, samples: Samples, rng: np.random.Generator
    ) -> tuple[float, float | None, float | None, float | None]:
        p = self.params
        n = samples.n
        order = rng.permutation(n)
        n_test = min(max(2, int(round(p["holdout"] * n))), n - 2)
        train, test = order[n_test:], order[:n_test]

        x = _zscore(samples.x, train)
        if samples.y_discrete:
            y = np.eye(int(samples.y.max()) + 1)[samples.y]
        else:
            y = _zscore(samples.y, train)
        xt = torch.as_tensor(x, dtype=torch.float32)
        yt = torch.as_tensor(y, dtype=torch.float32)
        train_t, test_t = torch.as_tensor(train), torch.as_tensor(test)

        seed = int(rng.integers(2**31))
        gen = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            critic = _critic(xt.shape[1] + yt.shape[1], p["hidden"])
        opt = torch.optim.Adam(critic.parameters(), lr=p["lr"])
        self._reset()

        b_train = min(p["batch_size"], len(train))
        for step in range(p["steps"]):
            idx = train_t[torch.randperm(len(train), generator=gen)[:b_train]]
            loss = self._loss(critic, xt[idx], yt[idx], gen)
            if not torch.isfinite(loss):
                raise self._diverged(f"the training loss is {loss.item()} at step {step + 1}")
            opt.zero_grad()
            loss.backward()
            opt.step()

        b_test = min(p["batch_size"], len(test))
        values = np.empty(p["n_eval_batches"])
        with torch.no_grad():
            for k in range(p["n_eval_batches"]):
                idx = test_t[torch.randperm(len(test), generator=gen)[:b_test]]
                values[k] = float(self._bound(critic, xt[idx], yt[idx], gen))
        value = float(values.mean())
        if not np.isfinite(value) or value < _LOWEST_NATS:
            raise self._diverged(
                f"the held-out bound is {value:.3g} nats (below {_LOWEST_NATS:g}, and an MI "
                "is >= 0)",
                "; or, if the training loss fell, use fewer steps or more samples",
            )
        std_error = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else None
        return value, None, None, std_error

    def _reset(self) -> None:
        """Reset per-fit training state (e.g. MINE's moving average)."""

    def _diverged(self, what: str, advice: str = "") -> DivergenceError:
        """The error for a failed fit, naming the knob to turn."""
        lr = self.params["lr"]
        return DivergenceError(
            f"method {self.name!r} diverged: {what}; lower lr (got {lr:g}, e.g. "
            f"lr={lr / 10:g}){advice}"
        )


@register
class InfoNCEEstimator(_NeuralEstimator):
    r"""InfoNCE / contrastive predictive coding bound (van den Oord et al. 2018).

    .. math::

        I(X;Y) \ge \frac1B \sum_{i=1}^B \Bigl[ f(x_i, y_i)
            - \log \frac1B \sum_{j=1}^B e^{f(x_i, y_j)} \Bigr],

    computed on the :math:`B \times B` matrix of scores of all pairs in a batch. Each
    term is at most :math:`\log B`, so the estimate never exceeds ``log(batch_size)``
    nats (capped further when a split is smaller than ``batch_size``): it is biased low
    when :math:`I(X;Y)` approaches :math:`\log B`. Parameters as
    :class:`_NeuralEstimator`.
    """

    name = "infonce"

    def _bound(self, critic, x, y, gen):
        b = x.shape[0]
        pairs = torch.cat(
            [x[:, None, :].expand(b, b, x.shape[1]), y[None, :, :].expand(b, b, y.shape[1])],
            dim=2,
        )
        scores = critic(pairs.reshape(b * b, -1)).reshape(b, b)
        return (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean() + math.log(b)


@register
class NWJEstimator(_NeuralEstimator):
    r"""NWJ / :math:`f`-divergence bound (Nguyen, Wainwright & Jordan 2010).

    .. math::

        I(X;Y) \ge \mathbb E_P[f] - e^{-1}\, \mathbb E_Q[e^{f}],

    with :math:`Q` drawn by shuffling ``y`` within the batch. Unbiased in the batch but
    of high variance when :math:`I(X;Y)` is large (Poole et al. 2019). Parameters as
    :class:`_NeuralEstimator`.
    """

    name = "nwj"

    def _bound(self, critic, x, y, gen):
        t_joint, t_marg = self._joint_and_marginal(critic, x, y, gen)
        return t_joint.mean() - torch.exp(t_marg - 1.0).mean()


@register
class MINEEstimator(_NeuralEstimator):
    r"""MINE: the Donsker–Varadhan bound with a bias-corrected gradient (Belghazi et al. 2018).

    .. math::

        I(X;Y) \ge \mathbb E_P[f] - \log \mathbb E_Q[e^{f}].

    The mini-batch gradient of :math:`\log \mathbb E_Q[e^f]` is biased; as in the paper it
    is replaced by :math:`\nabla \mathbb E_Q[e^f] / m`, where :math:`m` is an exponential
    moving average (rate ``ema``) of the batch means of :math:`e^f`, treated as a constant.
    The reported value is the plain Donsker–Varadhan bound on held-out batches.

    Parameters
    ----------
    ema : float, default 0.01
        Moving-average rate in (0, 1] (1 uses the current batch only).
    **kwargs
        As :class:`_NeuralEstimator`.
    """

    name = "mine"

    def __init__(self, *, ema: float = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params["ema"] = _open_interval(ema, "ema", include_one=True)
        self._ema: float | None = None

    def _reset(self) -> None:
        self._ema = None

    def _bound(self, critic, x, y, gen):
        t_joint, t_marg = self._joint_and_marginal(critic, x, y, gen)
        return t_joint.mean() - (torch.logsumexp(t_marg, dim=0) - math.log(t_marg.shape[0]))

    def _loss(self, critic, x, y, gen):
        t_joint, t_marg = self._joint_and_marginal(critic, x, y, gen)
        mean_exp = torch.exp(t_marg).mean()
        rate = self.params["ema"]
        batch = float(mean_exp.detach())
        self._ema = batch if self._ema is None else (1 - rate) * self._ema + rate * batch
        return -(t_joint.mean() - mean_exp / self._ema)

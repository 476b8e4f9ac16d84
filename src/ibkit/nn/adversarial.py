r"""Robustness to the fast gradient sign method (FGSM; Goodfellow, Shlens & Szegedy 2015).

The attack moves every input one step of size :math:`\varepsilon` along the sign of the
gradient of the cross-entropy and clips back to the pixel range:

.. math::

    x' = \operatorname{clip}\big(x + \varepsilon\,\operatorname{sign}(\nabla_x\,
    \mathrm{CE}(f(x), y)),\; 0,\; 1\big).

Alemi et al. (2017) found VIB classifiers with moderate β far more robust to such attacks
than deterministic ones; :func:`fgsm_accuracy` measures that for any classifier whose
``forward`` returns logits or log-probabilities, so a VIB model and its β = 0 baseline are
attacked the same way (each through its own eval-mode prediction, the softmax averaged
over the sampled codes for the stochastic models).

References
----------
.. [1] I. J. Goodfellow, J. Shlens and C. Szegedy, "Explaining and harnessing adversarial
   examples", ICLR 2015.
.. [2] A. A. Alemi, I. Fischer, J. V. Dillon and K. Murphy, "Deep variational information
   bottleneck", ICLR 2017.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ibkit._validation import InvalidParameterError, check_array, check_int
from ibkit.nn.vib import _check_labels, _torch_seed

__all__ = ["fgsm_accuracy", "fgsm_attack"]


def fgsm_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    clip: tuple[float, float] | None = (0.0, 1.0),
) -> torch.Tensor:
    r"""FGSM inputs :math:`x' = \mathrm{clip}(x + \varepsilon\,\mathrm{sign}\,\nabla_x L)`.

    :math:`L` is the summed cross-entropy. The model is used in whatever mode it is in;
    its parameters get no gradient. ``clip=None`` skips the clipping. Inputs are trusted
    (tensors of matching length); :func:`fgsm_accuracy` is the validated entry point.

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]])), lin.bias.zero_()
    >>> fgsm_attack(lin, torch.tensor([[0.5, 0.5]]), torch.tensor([0]), 0.1)
    tensor([[0.4000, 0.6000]])
    """
    return _step(x.detach(), _gradient_sign(model, x, y), eps, clip)


def _gradient_sign(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sign of the gradient in ``x`` of the summed cross-entropy (no parameter gradients)."""
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    return torch.autograd.grad(loss, x)[0].sign()


def _step(
    x: torch.Tensor, sign: torch.Tensor, eps: float | torch.Tensor, clip: tuple[float, float] | None
) -> torch.Tensor:
    out = x + eps * sign
    return out if clip is None else out.clamp(*clip)


def fgsm_accuracy(
    model: nn.Module,
    x: Any,
    y: Any,
    eps: float | Sequence[float],
    *,
    clip: tuple[float, float] | None = (0.0, 1.0),
    batch_size: int = 1000,
    random_state: Any = None,
) -> float | np.ndarray:
    r"""Accuracy of ``model`` on FGSM-perturbed inputs, for one ε or several.

    The model is put in eval mode (and restored afterwards); for each batch the gradient
    sign is computed once and reused for every ε. ``eps = 0`` gives the clean accuracy.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(batch, d)`` float inputs to ``(batch, classes)`` logits or log-probabilities.
    x, y : array-like, shapes (n, d) and (n,)
        Inputs (in ``[clip[0], clip[1]]`` when clipping) and integer labels.
    eps : float or sequence of float
        Step sizes ε ≥ 0 in input units (pixels in [0, 1] for images).
    clip : (float, float) or None, default (0, 1)
        Range to clip the attacked inputs to; ``None`` for no clipping.
    batch_size : int, default 1000
    random_state : None, int or numpy Generator
        Seeds the model's noise (stochastic models) in a forked torch RNG.

    Returns
    -------
    float or ndarray
        Accuracy for a scalar ``eps``, else an array shaped like ``eps``.

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[-1.0], [1.0]])), lin.bias.zero_()
    >>> x, y = [[-0.3], [-0.05], [0.1], [0.4]], [0, 0, 1, 1]  # boundary at x = 0
    >>> fgsm_accuracy(lin, x, y, [0.0, 0.075, 0.2], clip=None).tolist()
    [1.0, 0.75, 0.5]
    """
    eps_arr = check_array(eps, "eps", ndim=(0, 1))
    if (eps_arr < 0).any():
        raise InvalidParameterError(f"eps must be >= 0; got {eps!r}")
    xa = check_array(x, "x", ndim=2)
    ya = _check_labels(y, "y", n_rows=xa.shape[0], x_name="x")
    if clip is not None:
        lo, hi = clip
        if xa.min() < lo or xa.max() > hi:
            raise InvalidParameterError(
                f"x lies in [{xa.min():.3g}, {xa.max():.3g}], outside clip=({lo}, {hi}); "
                "scale the inputs to that range or pass clip=None"
            )
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    xt = torch.as_tensor(xa, dtype=torch.float32)
    yt = torch.as_tensor(ya)
    steps = torch.as_tensor(eps_arr.ravel(), dtype=torch.float32)
    correct = torch.zeros(len(steps))
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_torch_seed(random_state))
            for xb, yb in zip(xt.split(batch_size), yt.split(batch_size), strict=True):
                sign = _gradient_sign(model, xb, yb)
                with torch.no_grad():
                    for k, e in enumerate(steps):
                        pred = model(_step(xb, sign, e, clip)).argmax(dim=1)
                        correct[k] += (pred == yb).sum()
    finally:
        model.train(was_training)
    acc = (correct / len(yt)).double().numpy()
    return float(acc[0]) if eps_arr.ndim == 0 else acc

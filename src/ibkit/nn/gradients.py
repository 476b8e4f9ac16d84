r"""Signal-to-noise ratio of minibatch gradients, layer by layer (drift and diffusion).

Shwartz-Ziv & Tishby (2017, fig. 4) followed, for each layer's weight matrix
:math:`W`, the mean and the spread of the minibatch gradients :math:`g_1, \dots, g_B`
seen during one epoch:

.. math::

    \bar g = \frac1B \sum_b g_b, \qquad
    s = \sqrt{\frac1B \sum_b (g_b - \bar g)^{\odot 2}} \ \text{(elementwise)}, \qquad
    \mathrm{SNR} = \frac{\lVert \bar g \rVert}{\lVert s \rVert},

with Frobenius norms. A high SNR is their "drift" phase (gradients agree), a low one
their "diffusion" phase (noise dominates), which they linked to compression.
:math:`\lVert s \rVert^2 = \sum \operatorname{Var}` is the total variance of the gradient
(population variance, ``ddof=0``).

:class:`GradientSNR` collects these statistics during training with tensor hooks
(one update per backward pass, in float64, with Welford's running mean and sum of
squared deviations); :func:`gradient_snr` computes them from a stack of gradients.

References
----------
R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
information", arXiv:1703.00810, 2017.

B. P. Welford, "Note on a method for calculating corrected sums of squares and
products", Technometrics 4(3), 1962.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._validation import InvalidParameterError, check_array
from ibkit.nn.ensemble import ensemble_size, member_seeds

__all__ = ["GradientSNR", "gradient_snr"]

#: Columns of the table returned by :meth:`GradientSNR.snapshot`.
COLUMNS = (
    "seed",
    "member",
    "epoch",
    "layer",
    "layer_index",
    "grad_mean_norm",
    "grad_std_norm",
    "snr",
    "n_batches",
)


def _summary(mean: np.ndarray, var: np.ndarray) -> tuple[float, float, float]:
    """(‖mean‖, ‖std‖, ratio); the ratio is inf for zero spread, NaN when both are 0."""
    mean_norm = float(np.linalg.norm(mean))
    std_norm = float(np.sqrt(np.sum(var)))
    if std_norm > 0:
        snr = mean_norm / std_norm
    else:
        snr = np.inf if mean_norm > 0 else np.nan
    return mean_norm, std_norm, snr


def gradient_snr(gradients: Any) -> tuple[float, float, float]:
    r"""Mean norm, spread norm and SNR of a stack of minibatch gradients.

    Parameters
    ----------
    gradients : array_like, shape (n_batches, ...)
        One gradient of the same parameter per minibatch, stacked on axis 0.

    Returns
    -------
    grad_mean_norm, grad_std_norm, snr : float
        :math:`\lVert \bar g \rVert`, :math:`\lVert s \rVert` with the elementwise
        population standard deviation :math:`s`, and their ratio (``inf`` when all
        gradients are equal and nonzero).

    Examples
    --------
    >>> gradient_snr([[3.0, 0.0], [1.0, 0.0]])  # mean (2, 0), std (1, 0)
    (2.0, 1.0, 2.0)
    """
    g = check_array(gradients, "gradients")
    if g.ndim < 2:
        raise InvalidParameterError(
            "gradients must stack one gradient per minibatch on axis 0, shape "
            f"(n_batches, ...); got shape {g.shape}"
        )
    return _summary(g.mean(axis=0), g.var(axis=0))


class _Welford:
    """Running mean and sum of squared deviations of one tensor, in float64."""

    def __init__(self) -> None:
        self.count = 0
        self.mean: torch.Tensor | None = None
        self.m2: torch.Tensor | None = None

    def update(self, grad: torch.Tensor) -> None:
        g = grad.detach().to(torch.float64)
        self.count += 1
        if self.mean is None:
            self.mean, self.m2 = g.clone(), torch.zeros_like(g)
            return
        delta = g - self.mean
        self.mean.add_(delta, alpha=1.0 / self.count)
        self.m2.addcmul_(delta, g - self.mean)


class GradientSNR:
    """Collect per-layer gradient statistics during training; one table row per epoch.

    While attached, every backward pass that reaches a tracked weight counts as one
    minibatch. :meth:`snapshot` returns the statistics of the minibatches since the last
    snapshot (see :func:`gradient_snr` for the formulas) and starts afresh.

    Parameters
    ----------
    model : torch.nn.Module
        Any module. If it has an integer attribute ``n_members`` (an ensemble whose
        weights stack the members on axis 0), each member gets its own rows, with
        ``seed`` from ``model.seeds`` when present.
    layers : sequence of str, optional
        Qualified names of the modules whose ``weight`` is tracked. Default: every
        module owning a ``weight`` parameter of two or more dimensions (linear and
        convolution layers, batched linear layers), in module order.
    seed : int, optional
        Value of the ``seed`` column for a plain (non-ensemble) model.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = model.weight.zero_()
    >>> x, t = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0], [3.0]])
    >>> with GradientSNR(model) as snr:  # gradients -(1, 0) then -(0, 3)
    ...     for i in range(2):
    ...         (0.5 * (model(x[i]) - t[i]) ** 2).sum().backward()
    ...     row = snr.snapshot(epoch=0).iloc[0]
    >>> [round(float(row[c]) ** 2, 6) for c in ("grad_mean_norm", "grad_std_norm", "snr")]
    [2.5, 2.5, 1.0]
    >>> int(row.n_batches)
    2
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        layers: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidParameterError(
                f"model must be a torch.nn.Module; got {type(model).__name__}"
            )
        self.model = model
        self.weights = _tracked_weights(model, layers)
        self.n_members = ensemble_size(model)
        if self.n_members is not None:
            for name, w in self.weights.items():
                if w.ndim < 1 or w.shape[0] != self.n_members:
                    raise InvalidParameterError(
                        f"model has n_members={self.n_members} but the weight of {name!r} has "
                        f"shape {tuple(w.shape)}; ensemble weights must stack the members on "
                        "axis 0 (pass layers= to track only those)"
                    )
        self.seeds = member_seeds(model, self.n_members, seed)
        self._stats = {name: _Welford() for name in self.weights}
        self._handles: list[Any] = []

    def attach(self) -> GradientSNR:
        """Start counting minibatch gradients (idempotent)."""
        if not self._handles:
            self._handles = [
                w.register_hook(functools.partial(self._update, name))
                for name, w in self.weights.items()
            ]
        return self

    def _update(self, name: str, grad: torch.Tensor) -> None:
        self._stats[name].update(grad)

    def detach(self) -> None:
        """Stop counting; the statistics gathered so far are kept."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> GradientSNR:
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def reset(self) -> None:
        """Forget the minibatches counted so far."""
        self._stats = {name: _Welford() for name in self.weights}

    def snapshot(self, epoch: int) -> Any:
        """Table of the statistics since the last snapshot, then :meth:`reset`.

        Returns
        -------
        pandas.DataFrame
            One row per tracked layer (and ensemble member), columns ``seed, member,
            epoch, layer, layer_index, grad_mean_norm, grad_std_norm, snr, n_batches``.
            The norms and ``snr`` are NaN for a layer that saw no minibatch.
        """
        import pandas as pd

        rows = []
        for index, (name, stats) in enumerate(self._stats.items()):
            summaries = [(np.nan, np.nan, np.nan)] * len(self.seeds)
            if stats.count:
                mean = stats.mean.cpu().numpy()
                var = stats.m2.cpu().numpy() / stats.count
                if self.n_members is None:  # one member: give it the leading axis
                    mean, var = mean[None], var[None]
                summaries = [_summary(m, v) for m, v in zip(mean, var, strict=True)]
            for member, (seed, values) in enumerate(zip(self.seeds, summaries, strict=True)):
                rows.append((seed, member, epoch, name, index, *values, stats.count))
        self.reset()
        return pd.DataFrame(rows, columns=list(COLUMNS))


def _tracked_weights(model: nn.Module, layers: Sequence[str] | None) -> dict[str, nn.Parameter]:
    """Module name -> its ``weight`` parameter (matrices and higher only, by default)."""
    available = {
        name: module.weight
        for name, module in model.named_modules()
        if isinstance(getattr(module, "weight", None), nn.Parameter) and module.weight.ndim >= 2
    }
    if layers is None:
        if not available:
            raise InvalidParameterError(
                "model has no module with a weight matrix to track; pass layers= naming "
                "modules that own a `weight` parameter"
            )
        return available
    if isinstance(layers, str):
        layers = [layers]
    owners = {n: getattr(m, "weight", None) for n, m in model.named_modules()}
    unknown = [n for n in layers if not isinstance(owners.get(n), nn.Parameter)]
    if unknown:
        raise InvalidParameterError(
            f"no module with a weight parameter named {unknown}; available: {sorted(available)}"
        )
    return {n: owners[n] for n in layers}

r"""Nonlinear Information Bottleneck (Kolchinsky, Tracey & Wolpert 2019).

The code is a deterministic layer plus isotropic Gaussian noise,
:math:`T = h(X) + \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, \sigma^2 I)`, with a
trainable :math:`\log \sigma^2`. On a minibatch of :math:`n` rows, treated as a uniform
mixture of :math:`\mathcal N(h(x_j), \sigma^2 I)`, the pairwise-distance (KDE) bound of
Kolchinsky & Tracey (2017) gives

.. math::

    I(X;T) \le \hat I_{\mathrm{KL}} = -\frac1n \sum_i \log \frac1n \sum_j
    \exp\Big(-\frac{\|h(x_i) - h(x_j)\|^2}{2\sigma^2}\Big),

the same formula as :class:`ibkit.estimators.kde.KDEEstimator`'s ``upper`` (there in numpy,
here in torch and differentiable). :math:`I(T;Y)` enters through the cross-entropy of a
decoder, :math:`I(T;Y) \ge H(Y) - \mathrm{CE}`, and the objective

.. math::

    \min\; \beta\, \hat I_{\mathrm{KL}}^{\,p} + \mathrm{CE}
    \;\;\big(= \beta\, I(X;T)^p - I(T;Y) + H(Y)\big)

with :math:`p = 1` (IB) or :math:`p = 2` (squared IB, which traces the whole curve when
:math:`Y` is a deterministic function of :math:`X`; Kolchinsky, Tracey & Van Kuyk 2019).
Train it with :func:`ibkit.nn.vib.train_vib`.

References
----------
.. [1] A. Kolchinsky, B. D. Tracey and D. H. Wolpert, "Nonlinear information bottleneck",
   Entropy 21(12):1181, 2019.
.. [2] A. Kolchinsky and B. D. Tracey, "Estimating mixture entropy with pairwise
   distances", Entropy 19(7):361, 2017.
.. [3] A. Kolchinsky, B. D. Tracey and S. Van Kuyk, "Caveats for information bottleneck in
   deterministic scenarios", ICLR 2019.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ibkit._validation import InvalidParameterError, check_int, check_positive, check_real
from ibkit.nn.mlp import layer_stack
from ibkit.nn.vib import StochasticClassifier, _check_widths, _draw

__all__ = ["GaussianNoise", "NonlinearIB", "kde_upper_bound"]


def kde_upper_bound(h: torch.Tensor, noise_variance: torch.Tensor | float) -> torch.Tensor:
    r"""Kolchinsky–Tracey upper bound on :math:`I(X; h(X) + \varepsilon)` over a batch, nats.

    .. math::

        \hat I_{\mathrm{KL}} = \log n - \frac1n \sum_i \log \sum_j
        e^{-\|h_i - h_j\|^2 / 2\sigma^2}

    (inputs uniform over the ``n`` rows; at most :math:`\log n`). Squared distances are
    :math:`\|a\|^2 + \|b\|^2 - 2a^\top b` clipped at 0 with exact zeros on the diagonal.

    Parameters
    ----------
    h : Tensor of shape (n, d)
        The deterministic layer's output on the batch.
    noise_variance : Tensor or float
        :math:`\sigma^2 > 0` (a scalar tensor keeps the gradient).

    Returns
    -------
    Tensor
        Scalar in nats; differentiable in ``h`` and ``noise_variance``.

    Raises
    ------
    InvalidParameterError
        If ``h`` or ``noise_variance`` is complex.

    Examples
    --------
    >>> import torch
    >>> h = torch.tensor([[0.0], [10.0]])
    >>> round(float(kde_upper_bound(h, 0.01)) / math.log(2), 6)  # two far inputs: 1 bit
    1.0
    """
    check_real(h, "h")
    check_real(noise_variance, "noise_variance")
    sq = h.square().sum(dim=1)
    d = (sq[:, None] + sq[None, :] - 2.0 * (h @ h.T)).clamp(min=0.0)
    d = d.masked_fill(torch.eye(len(h), dtype=torch.bool, device=h.device), 0.0)
    return math.log(len(h)) - torch.logsumexp(-d / (2.0 * noise_variance), dim=1).mean()


class GaussianNoise(nn.Module):
    r"""Additive isotropic Gaussian noise with a trainable variance: :math:`h + \sigma\varepsilon`.

    In training one draw per row; in eval mode the input itself (``n_samples_eval=0``)
    or ``n_samples_eval`` draws stacked in front, shape ``(n_samples_eval, batch, d)``.

    Parameters
    ----------
    noise_variance : float, default 1.0
        Initial :math:`\sigma^2 > 0`; the parameter is ``log_variance``.
    n_samples_eval : int, default 0
    """

    def __init__(self, *, noise_variance: float = 1.0, n_samples_eval: int = 0) -> None:
        super().__init__()
        log_var = math.log(check_positive(noise_variance, "noise_variance"))
        self.log_variance = nn.Parameter(torch.tensor(log_var))
        self.n_samples_eval = check_int(n_samples_eval, "n_samples_eval", minimum=0)

    @property
    def variance(self) -> torch.Tensor:
        """:math:`\\sigma^2` as a differentiable scalar tensor."""
        return self.log_variance.exp()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        sigma = (0.5 * self.log_variance).exp()
        return _draw(h, sigma, self.training, self.n_samples_eval)


class NonlinearIB(StochasticClassifier):
    r"""Nonlinear IB classifier: ReLU encoder, linear :math:`h`, Gaussian noise, decoder.

    Loss on a batch: :math:`\mathrm{CE} + \beta\,\hat I_{\mathrm{KL}}^{\,p}` with
    :math:`\hat I_{\mathrm{KL}}` from :func:`kde_upper_bound` on the batch's :math:`h(x)`
    and the current :math:`\sigma^2`; :meth:`loss` reports ``rate`` = :math:`\hat
    I_{\mathrm{KL}}` (nats). As the bound is at most :math:`\log n`, it depends on the
    batch size; the reference uses large batches.

    Parameters
    ----------
    in_features, n_classes : int
    encoder : sequence of int, default (800, 800)
        Hidden widths of the ReLU encoder before the linear layer :math:`h`.
    dim : int, default 2
        Width of :math:`h` (the code :math:`T`).
    beta : float, default 0.1
        :math:`\beta \ge 0`.
    power : {1, 2}, default 1
        :math:`p`; 2 is the squared IB.
    decoder : sequence of int, default (800,)
        Hidden widths of the ReLU decoder from :math:`T` to the logits.
    noise_variance : float, default 1.0
        Initial :math:`\sigma^2`.
    n_samples_eval : int, default 12
        Noise draws averaged over in eval mode.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> model = NonlinearIB(64, 10, encoder=(32,), dim=2, decoder=(16,), beta=0.5, power=2)
    >>> out = model.loss(torch.rand(32, 64), torch.randint(0, 10, (32,)))
    >>> torch.allclose(out.total, out.ce + 0.5 * out.rate**2), bool(out.rate <= math.log(32))
    (True, True)
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        *,
        encoder: Sequence[int] = (800, 800),
        dim: int = 2,
        beta: float = 0.1,
        power: int = 1,
        decoder: Sequence[int] = (800,),
        noise_variance: float = 1.0,
        n_samples_eval: int = 12,
    ) -> None:
        super().__init__(in_features, n_classes, beta)
        if power not in (1, 2):
            raise InvalidParameterError(f"power must be 1 (IB) or 2 (squared IB); got {power!r}")
        self.power = int(power)
        dim = check_int(dim, "dim", minimum=1)
        widths = (self.in_features, *_check_widths(encoder, "encoder"), dim)
        self.encoder = nn.Sequential(layer_stack(widths, "relu", nn.Linear))
        self.noise = GaussianNoise(noise_variance=noise_variance, n_samples_eval=n_samples_eval)
        widths = (dim, *_check_widths(decoder, "decoder"), self.n_classes)
        self.decoder = nn.Sequential(layer_stack(widths, "relu", nn.Linear))

    def _code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        t = self.noise(h)
        return (t if t.dim() == 3 else t[None]), kde_upper_bound(h, self.noise.variance)

    def _penalty(self, rate: torch.Tensor) -> torch.Tensor:
        return self.beta * rate**self.power

r"""Fully connected networks of the information-plane studies, with named layers.

:class:`MLP` builds the networks of Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018):
a stack of linear layers and element-wise activations whose children are named
``fc1, act1, fc2, act2, …, out``. A forward hook on ``act<l>`` sees the representation
:math:`T_l` of hidden layer :math:`l`, and ``out`` yields the logits.

Initialisation follows the references: weights drawn from a normal with standard
deviation :math:`1/\sqrt{\text{fan\_in}}` truncated at two standard deviations, biases
zero. A ``seed`` draws them from a private :class:`torch.Generator`, so building a model
never touches torch's global random state.

With ``quantize_bits=k`` every hidden activation is rounded, in training and in
evaluation, to the nearest of :math:`2^k` equally spaced levels spanning the
activation's range (:data:`QUANTIZED_RANGES`; tanh: :math:`[-1, 1]`), its gradient
passed straight through (:func:`quantize`). On a finite input set each hidden layer
is then a deterministic function of :math:`X` with finitely many values, so
:math:`I(X;T) = H(T)` and :math:`I(T;Y)` are exact plug-in quantities (Lorenzen, Igel &
Nielsen 2022); :func:`ibkit.study.discrete_layer_information` computes them.

The helpers here (:data:`ACTIVATIONS`, :func:`make_activation`, :func:`draw_linear`,
:func:`layer_stack`, :func:`output_kind`) are shared with
:class:`ibkit.nn.ensemble.EnsembleMLP`, which initialises member ``s`` exactly as
``MLP(..., seed=seeds[s])``.

References
----------
R. Shwartz-Ziv, N. Tishby (2017). Opening the black box of deep neural networks via
information. arXiv:1703.00810.
A. M. Saxe et al. (2018). On the information bottleneck theory of deep learning. ICLR.
S. S. Lorenzen, C. Igel, M. Nielsen (2022). Information bottleneck: exact analysis of
(quantized) neural networks. ICLR.
Y. Bengio, N. Léonard, A. Courville (2013). Estimating or propagating gradients through
stochastic neurons for conditional computation. arXiv:1308.3432 (straight-through
estimator).
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import nn

from ibkit._validation import InvalidParameterError, check_int

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "QUANTIZED_RANGES",
    "make_activation",
    "output_probabilities",
    "quantize",
]


#: activation name -> factory of the torch module applied after each hidden layer
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "softsign": nn.Softsign,
    "softplus": nn.Softplus,
    "linear": nn.Identity,
    "bounded_relu": partial(nn.Hardtanh, 0.0, 1.0),
}

#: weight initialisations understood by :class:`MLP` and ``EnsembleMLP``
INITS = ("truncated_normal", "torch")

#: number of standard deviations at which ``init="truncated_normal"`` cuts the normal
TRUNCATION = 2.0


#: Most bits of :func:`quantize`: float32 activations resolve 2**24 levels on [−1, 1].
MAX_QUANTIZE_BITS = 24


def quantize(a: torch.Tensor, bits: int, low: float, high: float) -> torch.Tensor:
    r"""Round ``a`` to the nearest of :math:`2^k` uniform levels on ``[low, high]``.

    With :math:`k` = ``bits`` and step :math:`\Delta = (h - l)/(2^k - 1)`,

    .. math:: q(a) = l + \Delta\,\operatorname{clip}\big(\operatorname{round}((a - l)/\Delta),
              0, 2^k - 1\big),

    so the levels include both ends. The forward value is exactly :math:`q(a)`; the
    gradient is the straight-through estimator :math:`\partial q / \partial a := 1`
    (Bengio et al. 2013), as in the quantised networks of Lorenzen et al. (2022).

    Examples
    --------
    >>> quantize(torch.tensor([-0.9, -0.2, 0.3, 1.0]), 2, -1.0, 1.0)  # levels ±1, ±1/3
    tensor([-1.0000, -0.3333,  0.3333,  1.0000])
    """
    levels = 2**bits - 1
    step = (high - low) / levels
    q = low + step * torch.round((a.detach() - low) / step).clamp(0, levels)
    # a - a.detach() is exactly 0 forward and the identity backward: q is exact
    return q + (a - a.detach())


class QuantizedActivation(nn.Module):
    """Mixin: an activation module whose output goes through :func:`quantize`.

    Each subclass also derives from the activation's own class (``QuantizedTanh`` is an
    ``nn.Tanh``), so recorders that select layers by module type record the quantised
    output; ``low`` and ``high`` are the activation's range.

    Parameters
    ----------
    bits : int
        Bits per unit: :math:`2^{bits}` levels.
    """

    low: float
    high: float

    def __init__(self, bits: int, *args: Any) -> None:
        super().__init__(*args)
        self.bits = bits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return quantize(super().forward(x), self.bits, self.low, self.high)

    def extra_repr(self) -> str:
        return f"bits={self.bits}, range=[{self.low:g}, {self.high:g}]"


class QuantizedTanh(QuantizedActivation, nn.Tanh):
    """tanh quantised on [−1, 1]."""

    low, high = -1.0, 1.0


class QuantizedSigmoid(QuantizedActivation, nn.Sigmoid):
    """The logistic sigmoid quantised on [0, 1]."""

    low, high = 0.0, 1.0


class QuantizedSoftsign(QuantizedActivation, nn.Softsign):
    """softsign quantised on [−1, 1]."""

    low, high = -1.0, 1.0


class QuantizedBoundedReLU(QuantizedActivation, nn.Hardtanh):
    """min(max(x, 0), 1) quantised on [0, 1]."""

    low, high = 0.0, 1.0

    def __init__(self, bits: int) -> None:
        super().__init__(bits, 0.0, 1.0)


_QUANTIZED: dict[str, type[QuantizedActivation]] = {
    "tanh": QuantizedTanh,
    "sigmoid": QuantizedSigmoid,
    "softsign": QuantizedSoftsign,
    "bounded_relu": QuantizedBoundedReLU,
}

#: activation name -> the range its quantised version spans (bounded activations only)
QUANTIZED_RANGES: dict[str, tuple[float, float]] = {
    name: (cls.low, cls.high) for name, cls in _QUANTIZED.items()
}


def check_quantize_bits(quantize_bits: Any, activation: str) -> int | None:
    """``None``, or ``quantize_bits`` checked against the range of bits and ``activation``."""
    if quantize_bits is None:
        return None
    bits = check_int(quantize_bits, "quantize_bits")
    if bits > MAX_QUANTIZE_BITS:
        raise InvalidParameterError(
            f"quantize_bits must be at most {MAX_QUANTIZE_BITS} (float32 activations resolve "
            f"no more levels); got {bits}"
        )
    if activation not in QUANTIZED_RANGES:
        raise InvalidParameterError(
            f"quantize_bits needs an activation with a bounded range, one of "
            f"{sorted(QUANTIZED_RANGES)}; got activation={activation!r}: pick one of those "
            "or pass quantize_bits=None"
        )
    return bits


def make_activation(name: str, quantize_bits: int | None = None) -> nn.Module:
    r"""Return a new activation module for ``name``, a key of :data:`ACTIVATIONS`.

    ``bounded_relu`` is :math:`\min(\max(x, 0), 1)` (``nn.Hardtanh(0, 1)``); ``linear``
    is the identity. With ``quantize_bits`` (bounded activations only, see
    :data:`QUANTIZED_RANGES`) the module's output is :func:`quantize`\ d to that many
    bits; it is still an instance of the plain activation's class.

    Examples
    --------
    >>> make_activation("bounded_relu")(torch.tensor([-1.0, 0.5, 2.0]))
    tensor([0.0000, 0.5000, 1.0000])
    >>> make_activation("tanh", quantize_bits=1)(torch.tensor([-0.1, 0.2]))
    tensor([-1.,  1.])
    """
    if name not in ACTIVATIONS:
        raise InvalidParameterError(
            f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}"
        )
    bits = check_quantize_bits(quantize_bits, name)
    return ACTIVATIONS[name]() if bits is None else _QUANTIZED[name](bits)


def output_kind(out_features: int) -> str:
    """``"sigmoid"`` (binary, BCE loss) for one output unit, else ``"softmax"`` (CE loss)."""
    return "sigmoid" if out_features == 1 else "softmax"


def output_probabilities(logits: torch.Tensor, kind: str) -> torch.Tensor:
    r"""Class probabilities from logits, along the last axis.

    Parameters
    ----------
    logits : torch.Tensor
        Shape (..., C) for ``kind="softmax"``, (..., 1) for ``kind="sigmoid"``.
    kind : {"softmax", "sigmoid"}
        The model's :attr:`MLP.output_kind`.

    Returns
    -------
    torch.Tensor
        Shape (..., C) with :math:`p_c = e^{z_c} / \sum_k e^{z_k}`, or, for a sigmoid
        output :math:`z`, shape (..., 2) with :math:`(1 - \sigma(z), \sigma(z))` so that
        both kinds give one column per class.

    Examples
    --------
    >>> output_probabilities(torch.tensor([[0.0], [math.log(3.0)]]), "sigmoid")
    tensor([[0.5000, 0.5000],
            [0.2500, 0.7500]])
    """
    if kind == "softmax":
        return torch.softmax(logits, dim=-1)
    if kind == "sigmoid":
        if logits.shape[-1] != 1:
            raise InvalidParameterError(
                f"sigmoid logits must have one column; got shape {tuple(logits.shape)}"
            )
        return torch.cat([torch.sigmoid(-logits), torch.sigmoid(logits)], dim=-1)
    raise InvalidParameterError(f"kind must be 'softmax' or 'sigmoid'; got {kind!r}")


def check_architecture(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: str,
    init: str,
    quantize_bits: int | None = None,
) -> tuple[int, ...]:
    """Validate the arguments shared by ``MLP`` and ``EnsembleMLP``; return all widths."""
    widths = (in_features, *hidden, out_features)
    names = ["in_features", *(f"hidden[{i}]" for i in range(len(hidden))), "out_features"]
    widths = tuple(check_int(width, name) for name, width in zip(names, widths, strict=True))
    make_activation(activation, quantize_bits)
    if init not in INITS:
        raise InvalidParameterError(f"init must be one of {list(INITS)}; got {init!r}")
    return widths


def draw_linear(
    fan_in: int, fan_out: int, init: str, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Draw one linear layer's weight, shaped (fan_out, fan_in), and bias (fan_out,).

    ``init="truncated_normal"``: :math:`W_{ij} \sim \mathcal N(0, 1/\text{fan\_in})`
    truncated to :math:`|W_{ij}| \le 2/\sqrt{\text{fan\_in}}`, :math:`b = 0`.
    ``init="torch"``: the distribution of ``nn.Linear``'s default,
    :math:`U(\pm 1/\sqrt{\text{fan\_in}})` for weights and biases alike.
    Random numbers come from ``generator`` (torch's global one when it is ``None``) in
    the order weight then bias.
    """
    weight = torch.empty(fan_out, fan_in)
    bias = torch.zeros(fan_out)
    if init == "truncated_normal":
        std = 1.0 / math.sqrt(fan_in)
        nn.init.trunc_normal_(
            weight, std=std, a=-TRUNCATION * std, b=TRUNCATION * std, generator=generator
        )
    else:
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5.0), generator=generator)
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(bias, -bound, bound, generator=generator)
    return weight, bias


def check_seed(seed: int | None) -> None:
    """Raise ``ValueError`` unless ``seed`` is ``None`` or an integer >= 0."""
    if seed is not None and (
        not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0
    ):
        raise InvalidParameterError(f"seed must be an integer >= 0 or None; got {seed!r}")


def seeded_generator(seed: int | None) -> torch.Generator | None:
    """A private CPU generator seeded with ``seed``, or ``None`` (global RNG) for ``None``."""
    check_seed(seed)
    return None if seed is None else torch.Generator().manual_seed(int(seed))


def layer_stack(
    widths: Sequence[int],
    activation: str,
    make_linear: Callable[[int, int], nn.Module],
    quantize_bits: int | None = None,
) -> OrderedDict[str, nn.Module]:
    """Children ``fc1, act1, …, fc<L>, act<L>, out`` for layer widths ``widths``.

    ``make_linear(fan_in, fan_out)`` builds each linear layer; the activation modules come
    from :func:`make_activation` (quantised to ``quantize_bits`` when it is given).
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-2], widths[1:-1], strict=True), start=1):
        layers[f"fc{layer}"] = make_linear(fan_in, fan_out)
        layers[f"act{layer}"] = make_activation(activation, quantize_bits)
    layers["out"] = make_linear(widths[-2], widths[-1])
    return layers


class MLP(nn.Sequential):
    r"""A fully connected network with named children ``fc1, act1, …, out``.

    Parameters
    ----------
    in_features : int
        Input width (12 for the 12-bit task).
    hidden : sequence of int
        Hidden widths; the default ``(10, 7, 5, 4, 3)`` with ``out_features=2`` is the
        12-10-7-5-4-3-2 network of Shwartz-Ziv & Tishby (2017).
    out_features : int
        1: a single logit (sigmoid output, binary cross-entropy); ≥ 2: one logit per
        class (softmax output, cross-entropy). See :attr:`output_kind`.
    activation : str
        A key of :data:`ACTIVATIONS`: ``tanh`` (Shwartz-Ziv & Tishby), ``relu`` (Saxe et
        al.), ``sigmoid``, ``softsign``, ``softplus``, ``linear``, ``bounded_relu``.
    init : {"truncated_normal", "torch"}
        ``truncated_normal``: weights :math:`\mathcal N(0, 1/\text{fan\_in})` truncated at
        2 standard deviations, biases 0, as in the references; ``torch``: the
        distribution of ``nn.Linear``'s default. See :func:`draw_linear`.
    seed : int, optional
        Seeds a private generator used for the initialisation only; ``None`` draws from
        torch's global generator, as ``nn.Linear`` does.
    quantize_bits : int, optional
        Quantise every hidden activation to :math:`2^k` uniform levels over its range
        (:func:`quantize`, straight-through gradient), in training and evaluation alike;
        bounded activations only (:data:`QUANTIZED_RANGES`). ``None``: no quantisation.

    Examples
    --------
    >>> net = MLP(12, seed=0)
    >>> [name for name, _ in net.named_children()][:4], net[-1]
    (['fc1', 'act1', 'fc2', 'act2'], Linear(in_features=3, out_features=2, bias=True))
    >>> net(torch.zeros(5, 12)).shape, net.output_kind
    (torch.Size([5, 2]), 'softmax')
    >>> MLP(12, (3,), quantize_bits=8, seed=0).act1
    QuantizedTanh(bits=8, range=[-1, 1])
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (10, 7, 5, 4, 3),
        out_features: int = 2,
        activation: str = "tanh",
        *,
        init: str = "truncated_normal",
        seed: int | None = None,
        quantize_bits: int | None = None,
    ) -> None:
        widths = check_architecture(
            in_features, hidden, out_features, activation, init, quantize_bits
        )
        generator = seeded_generator(seed)

        def make_linear(fan_in: int, fan_out: int) -> nn.Linear:
            linear = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
            weight, bias = draw_linear(fan_in, fan_out, init, generator)
            with torch.no_grad():
                linear.weight.copy_(weight)
                linear.bias.copy_(bias)
            return linear

        super().__init__(layer_stack(widths, activation, make_linear, quantize_bits))
        self.in_features, self.out_features = widths[0], widths[-1]
        self.hidden = widths[1:-1]
        self.activation, self.init, self.seed = activation, init, seed
        self.quantize_bits = quantize_bits

    @property
    def output_kind(self) -> str:
        """``"sigmoid"`` for one output unit, ``"softmax"`` otherwise."""
        return output_kind(self.out_features)

    def linear_layers(self) -> list[nn.Linear]:
        """The linear layers ``fc1, …, out`` in forward order."""
        return [m for m in self if isinstance(m, nn.Linear)]

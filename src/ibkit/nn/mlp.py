r"""Fully connected networks of the information-plane studies, with named layers.

:class:`MLP` builds the networks of Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018):
a stack of linear layers and element-wise activations whose children are named
``fc1, act1, fc2, act2, …, out``. A forward hook on ``act<l>`` sees the representation
:math:`T_l` of hidden layer :math:`l`, and ``out`` yields the logits.

Initialisation follows the references: weights drawn from a normal with standard
deviation :math:`1/\sqrt{\text{fan\_in}}` truncated at two standard deviations, biases
zero. A ``seed`` draws them from a private :class:`torch.Generator`, so building a model
never touches torch's global random state.

The helpers here (:data:`ACTIVATIONS`, :func:`make_activation`, :func:`draw_linear`,
:func:`layer_stack`, :func:`output_kind`) are shared with
:class:`ibkit.nn.ensemble.EnsembleMLP`, which initialises member ``s`` exactly as
``MLP(..., seed=seeds[s])``.

References
----------
R. Shwartz-Ziv, N. Tishby (2017). Opening the black box of deep neural networks via
information. arXiv:1703.00810.
A. M. Saxe et al. (2018). On the information bottleneck theory of deep learning. ICLR.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import nn

from ibkit._validation import InvalidParameterError, check_int

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "make_activation",
    "output_probabilities",
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


def make_activation(name: str) -> nn.Module:
    r"""Return a new activation module for ``name``, a key of :data:`ACTIVATIONS`.

    ``bounded_relu`` is :math:`\min(\max(x, 0), 1)` (``nn.Hardtanh(0, 1)``); ``linear``
    is the identity.

    Examples
    --------
    >>> make_activation("bounded_relu")(torch.tensor([-1.0, 0.5, 2.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    if name not in ACTIVATIONS:
        raise InvalidParameterError(
            f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}"
        )
    return ACTIVATIONS[name]()


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
    in_features: int, hidden: Sequence[int], out_features: int, activation: str, init: str
) -> tuple[int, ...]:
    """Validate the arguments shared by ``MLP`` and ``EnsembleMLP``; return all widths."""
    widths = (in_features, *hidden, out_features)
    names = ["in_features", *(f"hidden[{i}]" for i in range(len(hidden))), "out_features"]
    widths = tuple(check_int(width, name) for name, width in zip(names, widths, strict=True))
    make_activation(activation)
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
    widths: Sequence[int], activation: str, make_linear: Callable[[int, int], nn.Module]
) -> OrderedDict[str, nn.Module]:
    """Children ``fc1, act1, …, fc<L>, act<L>, out`` for layer widths ``widths``.

    ``make_linear(fan_in, fan_out)`` builds each linear layer; the activation modules come
    from :func:`make_activation`.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-2], widths[1:-1], strict=True), start=1):
        layers[f"fc{layer}"] = make_linear(fan_in, fan_out)
        layers[f"act{layer}"] = make_activation(activation)
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

    Examples
    --------
    >>> net = MLP(12, seed=0)
    >>> [name for name, _ in net.named_children()][:4], net[-1]
    (['fc1', 'act1', 'fc2', 'act2'], Linear(in_features=3, out_features=2, bias=True))
    >>> net(torch.zeros(5, 12)).shape, net.output_kind
    (torch.Size([5, 2]), 'softmax')
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
    ) -> None:
        widths = check_architecture(in_features, hidden, out_features, activation, init)
        generator = seeded_generator(seed)

        def make_linear(fan_in: int, fan_out: int) -> nn.Linear:
            linear = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
            weight, bias = draw_linear(fan_in, fan_out, init, generator)
            with torch.no_grad():
                linear.weight.copy_(weight)
                linear.bias.copy_(bias)
            return linear

        super().__init__(layer_stack(widths, activation, make_linear))
        self.in_features, self.out_features = widths[0], widths[-1]
        self.hidden = widths[1:-1]
        self.activation, self.init, self.seed = activation, init, seed

    @property
    def output_kind(self) -> str:
        """``"sigmoid"`` for one output unit, ``"softmax"`` otherwise."""
        return output_kind(self.out_features)

    def linear_layers(self) -> list[nn.Linear]:
        """The linear layers ``fc1, …, out`` in forward order."""
        return [m for m in self if isinstance(m, nn.Linear)]

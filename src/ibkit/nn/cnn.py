r"""The small convolutional network of the MNIST information-plane studies.

:class:`ConvNet` is two convolution blocks and two dense layers, with named children:

==========  =====================================================
``conv1``   3×3 convolution, ``channels[0]`` maps, padding 1
``act1``    the activation (:data:`~ibkit.nn.mlp.ACTIVATIONS`)
``pool1``   2×2 max pooling
``conv2``   3×3 convolution, ``channels[1]`` maps, padding 1
``act2``    the activation
``pool2``   2×2 max pooling
``flat``    flattening
``fc3``     dense, ``dense`` units
``act3``    the activation
``out``     dense, one logit per class
==========  =====================================================

The activation modules ``act1``, ``act2``, ``act3`` are the layers
:class:`~ibkit.nn.InformationPlane` records by default (the convolution layers as
their maps, flattened). With padding 1, an 8×8 digit gives 16×8×8, then 32×4×4 maps
and a 32×2×2 input to ``fc3``; a 28×28 MNIST image gives 16×28×28 and 32×14×14 maps.

The network reads flat rows, shape (n, C·H·W) as the loaders of
:mod:`ibkit.datasets` give them, or images (n, C, H, W). Weights are drawn as
:class:`~ibkit.nn.MLP` draws them (``init``; :func:`~ibkit.nn.mlp.draw_linear`, with
``fan_in`` = input channels × 9 for a convolution) from a private generator seeded
with ``seed``, so building one never touches torch's global random state.

References
----------
Y. LeCun et al. (1998). Gradient-based learning applied to document recognition.
Proc. IEEE 86(11) (the convolution–pooling pattern).
R. Shwartz-Ziv, N. Tishby (2017). arXiv:1703.00810; A. M. Saxe et al. (2018), ICLR
(the information plane of tanh and ReLU networks).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ibkit._validation import InvalidParameterError, check_int
from ibkit.nn.mlp import INITS, draw_linear, make_activation, output_kind, seeded_generator

__all__ = ["ConvNet"]

#: side of the convolution kernels, and of the pooling windows
KERNEL, POOL = 3, 2


def _check_in_shape(in_shape: Any) -> tuple[int, int, int]:
    """``(channels, height, width)``, each ≥ 1; height and width ≥ 4 (two poolings)."""
    if isinstance(in_shape, (str, bytes)) or not isinstance(in_shape, Sequence):
        in_shape = None
    if in_shape is None or len(in_shape) != 3:
        raise InvalidParameterError(
            f"in_shape must be (channels, height, width) of image inputs, e.g. (1, 8, 8); "
            f"got {in_shape!r}"
        )
    channels, height, width = (check_int(v, "in_shape") for v in in_shape)
    if min(height, width) < POOL**2:
        raise InvalidParameterError(
            f"in_shape must have height and width >= {POOL**2} (two 2x2 poolings); got "
            f"{tuple(in_shape)}"
        )
    return channels, height, width


class ConvNet(nn.Sequential):
    r"""Conv 3×3 → act → maxpool 2, conv 3×3 → act → maxpool 2, dense → act, dense.

    Parameters
    ----------
    in_shape : tuple of int
        ``(channels, height, width)`` of an input image: ``(1, 8, 8)`` for digits,
        ``(1, 28, 28)`` for MNIST.
    n_classes : int
        Outputs: ≥ 2 logits (softmax), or 1 (sigmoid), as :class:`~ibkit.nn.MLP`.
    activation : str
        A key of :data:`~ibkit.nn.mlp.ACTIVATIONS` (``"tanh"``, ``"relu"``, ...), after
        both convolutions and the first dense layer.
    channels : tuple of two int
        Feature maps of the two convolutions.
    dense : int
        Units of the hidden dense layer.
    init : {"truncated_normal", "torch"}
        As :class:`~ibkit.nn.MLP` (:func:`~ibkit.nn.mlp.draw_linear`).
    seed : int, optional
        Seeds a private generator for the initialisation; ``None``: torch's global one.

    Examples
    --------
    >>> net = ConvNet((1, 8, 8), 10, activation="tanh", seed=0)
    >>> net(torch.zeros(5, 64)).shape, net.act1, net.output_kind
    (torch.Size([5, 10]), Tanh(), 'softmax')
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        n_classes: int,
        activation: str = "relu",
        *,
        channels: Sequence[int] = (16, 32),
        dense: int = 64,
        init: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        in_shape = _check_in_shape(in_shape)
        n_classes = check_int(n_classes, "n_classes")
        if isinstance(channels, (str, bytes)) or len(channels) != 2:
            raise InvalidParameterError(
                f"channels must be two numbers of feature maps, e.g. (16, 32); got {channels!r}"
            )
        c1, c2 = (check_int(c, "channels") for c in channels)
        dense = check_int(dense, "dense")
        make_activation(activation)
        if init not in INITS:
            raise InvalidParameterError(f"init must be one of {list(INITS)}; got {init!r}")
        generator = seeded_generator(seed)

        def drawn(layer: nn.Module, fan_in: int) -> nn.Module:
            weight, bias = draw_linear(fan_in, layer.weight.shape[0], init, generator)
            with torch.no_grad():
                layer.weight.copy_(weight.reshape(layer.weight.shape))
                layer.bias.copy_(bias)
            return layer

        def conv(c_in: int, c_out: int) -> nn.Module:
            layer = nn.utils.skip_init(nn.Conv2d, c_in, c_out, KERNEL, padding=KERNEL // 2)
            return drawn(layer, c_in * KERNEL * KERNEL)

        def linear(fan_in: int, fan_out: int) -> nn.Module:
            return drawn(nn.utils.skip_init(nn.Linear, fan_in, fan_out), fan_in)

        height, width = (side // POOL // POOL for side in in_shape[1:])
        super().__init__(
            OrderedDict(
                conv1=conv(in_shape[0], c1),
                act1=make_activation(activation),
                pool1=nn.MaxPool2d(POOL),
                conv2=conv(c1, c2),
                act2=make_activation(activation),
                pool2=nn.MaxPool2d(POOL),
                flat=nn.Flatten(),
                fc3=linear(c2 * height * width, dense),
                act3=make_activation(activation),
                out=linear(dense, n_classes),
            )
        )
        self.in_shape, self.n_classes = in_shape, n_classes
        self.channels, self.dense = (c1, c2), dense
        self.activation, self.init, self.seed = activation, init, seed

    @property
    def output_kind(self) -> str:
        """``"sigmoid"`` for one output unit, ``"softmax"`` otherwise."""
        return output_kind(self.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (n, n_classes) of images (n, C, H, W) or flat rows (n, C·H·W)."""
        if x.dim() == 2 and x.shape[1] == math.prod(self.in_shape):
            x = x.reshape(x.shape[0], *self.in_shape)
        return super().forward(x)

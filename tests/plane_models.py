"""Network factories that the plane-study tests load as ``plane_models:<name>``."""

import math

from torch import nn

from ibkit.nn import make_activation


def small_net(seed, in_shape, n_classes, activation):
    """A one-hidden-layer network on inputs ``in_shape``, built from the global generator."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(in_shape), 5),
        make_activation(activation),
        nn.Linear(5, n_classes),
    )


def not_a_module(seed, in_shape, n_classes, activation):
    """A factory that forgets to return the network."""
    return None

r"""Ensembles of seeds: S independent copies of an :class:`~ibkit.nn.mlp.MLP` in one module.

The figures of the information-plane studies average many seeds of one small network.
:class:`EnsembleMLP` holds S such networks side by side: each linear layer stores a
weight of shape (S, in, out) and a bias of shape (S, 1, out) and computes, for every
member s at once,

.. math:: H^{(s)}_\text{out} = b^{(s)} + H^{(s)}_\text{in} W^{(s)}

with one :func:`torch.baddbmm` (evaluated feature-major, see :class:`BatchedLinear`).
Members share no parameter, so the gradient of the sum
of the members' losses with respect to member s's parameters is member s's own gradient,
and training them together equals training them one by one.

The children are named ``fc1, act1, …, out`` as in :class:`~ibkit.nn.mlp.MLP`, with the
same activation modules, so a forward hook on ``act1`` sees a tensor (S, n, width).

Any module that has an integer ``n_members`` (and optionally ``seeds``) counts as an
ensemble for the recorders: :func:`ensemble_size` and :func:`member_seeds` read them.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._validation import InvalidParameterError
from ibkit.nn.mlp import (
    MLP,
    check_architecture,
    check_seed,
    draw_linear,
    layer_stack,
    output_kind,
    seeded_generator,
)

__all__ = [
    "BatchedLinear",
    "EnsembleMLP",
    "ensemble_size",
    "member_seeds",
]


class BatchedLinear(nn.Module):
    """S independent linear layers: (S, n, in) or broadcast (n, in) -> (S, n, out).

    The result is a (S, n, out) view of a (S, out, n) array (see ``forward``).

    Parameters
    ----------
    n_members, in_features, out_features : int
        Number of members S and the layer's widths. Parameters are allocated
        uninitialised; :class:`EnsembleMLP` fills them.

    Attributes
    ----------
    weight : nn.Parameter
        Shape (S, in_features, out_features): member s computes ``x @ weight[s]``, so
        ``weight[s]`` is the transpose of the matching ``nn.Linear.weight``.
    bias : nn.Parameter
        Shape (S, 1, out_features).
    """

    def __init__(self, n_members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.n_members, self.in_features, self.out_features = n_members, in_features, out_features
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Computed feature-major, out^T = b^T + W^T x^T, as a (S, out, n) array returned as
        # a (S, n, out) view: with a few units per layer the GEMMs are far faster with n as
        # their long dimension (2.3x on the 12-bit network's forward pass on a CPU), and the
        # next layer's transpose of the view is contiguous again.
        if x.dim() == 2:
            x = x.expand(self.n_members, *x.shape)
        out = torch.baddbmm(
            self.bias.transpose(1, 2), self.weight.transpose(1, 2), x.transpose(1, 2)
        )
        return out.transpose(1, 2)

    def extra_repr(self) -> str:
        return (
            f"n_members={self.n_members}, in_features={self.in_features}, "
            f"out_features={self.out_features}"
        )


def ensemble_size(model: nn.Module) -> int | None:
    """``model.n_members`` for an ensemble (members stacked on axis 0), else None."""
    n = getattr(model, "n_members", None)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InvalidParameterError(f"model.n_members must be an integer >= 1; got {n!r}")
    return n


def member_seeds(model: nn.Module, n_members: int | None, seed: Any) -> list[Any]:
    """The ``seed`` column per member: ``model.seeds`` for an ensemble, else ``[seed]``.

    NaN stands for an unknown seed.
    """
    if n_members is None:
        return [np.nan if seed is None else seed]
    seeds = list(getattr(model, "seeds", [np.nan] * n_members))
    if len(seeds) != n_members:
        raise InvalidParameterError(
            f"model.seeds has {len(seeds)} entries but model.n_members is {n_members}; "
            "give one seed per member"
        )
    return seeds


def _check_seeds(members: int | Sequence[int]) -> tuple[int, ...]:
    """``n`` -> (0, …, n-1); a sequence of distinct integers >= 0 -> a tuple of them."""
    if isinstance(members, numbers.Integral) and not isinstance(members, bool):
        if members < 1:
            raise InvalidParameterError(f"n_members must be >= 1; got {members}")
        return tuple(range(int(members)))
    if isinstance(members, (str, bytes)) or not isinstance(members, Sequence):
        raise InvalidParameterError(
            f"pass the number of members (int) or a sequence of seeds; got {members!r}"
        )
    if len(members) == 0:
        raise InvalidParameterError("seeds is empty; pass at least one seed")
    for seed in members:
        if seed is None:
            raise InvalidParameterError("seeds must be integers >= 0; got None")
        check_seed(seed)
    if len(set(members)) != len(members):
        raise InvalidParameterError(
            f"seeds must be distinct (equal seeds give equal members); got {members}"
        )
    return tuple(int(s) for s in members)


class EnsembleMLP(nn.Sequential):
    r"""S networks of the same architecture, one per seed, evaluated in one pass.

    Parameters
    ----------
    members : int or sequence of int
        The seeds, one per member, or their number n (seeds ``0, …, n-1``).
    in_features, hidden, out_features, activation, init, quantize_bits
        As for :class:`~ibkit.nn.mlp.MLP`.

    Notes
    -----
    Member s is initialised exactly as ``MLP(..., seed=seeds[s])``: a generator seeded
    with ``seeds[s]`` draws the layers in the same order, so :meth:`member` of an
    untrained ensemble equals that MLP bit for bit.

    ``forward(x)`` takes x of shape (n, in_features), given to every member, or
    (S, n, in_features), a batch per member, and returns logits (S, n, out_features).
    The logits and the hidden layers seen by hooks are (S, n, width) views of
    (S, width, n) arrays, so reshape them with ``reshape``, not ``view``.

    Examples
    --------
    >>> ens = EnsembleMLP([3, 7], 12)
    >>> ens.n_members, ens.seeds, ens(torch.zeros(5, 12)).shape
    (2, (3, 7), torch.Size([2, 5, 2]))
    >>> bool(torch.equal(ens.member(1).fc1.weight, MLP(12, seed=7).fc1.weight))
    True
    """

    def __init__(
        self,
        members: int | Sequence[int],
        in_features: int,
        hidden: Sequence[int] = (10, 7, 5, 4, 3),
        out_features: int = 2,
        activation: str = "tanh",
        *,
        init: str = "truncated_normal",
        quantize_bits: int | None = None,
    ) -> None:
        seeds = _check_seeds(members)
        widths = check_architecture(
            in_features, hidden, out_features, activation, init, quantize_bits
        )
        n = len(seeds)
        super().__init__(
            layer_stack(widths, activation, lambda i, o: BatchedLinear(n, i, o), quantize_bits)
        )
        self.seeds, self.n_members = seeds, n
        self.in_features, self.out_features = widths[0], widths[-1]
        self.hidden = widths[1:-1]
        self.activation, self.init, self.quantize_bits = activation, init, quantize_bits
        with torch.no_grad():
            for s, seed in enumerate(seeds):
                generator = seeded_generator(seed)
                for weight, bias in self._member_views(s):
                    new_weight, new_bias = draw_linear(
                        weight.shape[1], weight.shape[0], init, generator
                    )
                    weight.copy_(new_weight)
                    bias.copy_(new_bias)

    @property
    def output_kind(self) -> str:
        """``"sigmoid"`` for one output unit, ``"softmax"`` otherwise."""
        return output_kind(self.out_features)

    def linear_layers(self) -> list[BatchedLinear]:
        """The linear layers ``fc1, …, out`` in forward order."""
        return [m for m in self if isinstance(m, BatchedLinear)]

    def _member_views(self, s: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Views of member s's parameters laid out as ``nn.Linear``'s: (out, in), (out,)."""
        return [(layer.weight[s].T, layer.bias[s, 0]) for layer in self.linear_layers()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (2, 3) or x.shape[-1] != self.in_features:
            raise InvalidParameterError(
                f"x must have shape (n, {self.in_features}) or "
                f"({self.n_members}, n, {self.in_features}); got {tuple(x.shape)}"
            )
        if x.dim() == 3 and x.shape[0] != self.n_members:
            raise InvalidParameterError(
                f"x has a batch for {x.shape[0]} members but the ensemble has "
                f"{self.n_members}; pass shape ({self.n_members}, n, {self.in_features}) "
                f"or (n, {self.in_features})"
            )
        return super().forward(x)

    def member(self, s: int) -> MLP:
        """A copy of member ``s`` (an index into :attr:`seeds`) as a plain :class:`MLP`."""
        if not isinstance(s, numbers.Integral) or not 0 <= s < self.n_members:
            raise InvalidParameterError(f"s must be in [0, {self.n_members}); got {s}")
        net = MLP(
            self.in_features,
            self.hidden,
            self.out_features,
            self.activation,
            init=self.init,
            seed=self.seeds[s],
            quantize_bits=self.quantize_bits,
        )
        with torch.no_grad():
            for target, (weight, bias) in zip(
                net.linear_layers(), self._member_views(s), strict=True
            ):
                target.weight.copy_(weight)
                target.bias.copy_(bias)
        return net.to(device=self.linear_layers()[0].weight.device)

    @classmethod
    def from_members(cls, members: Sequence[MLP]) -> EnsembleMLP:
        """Stack MLPs of one architecture, each built with a distinct ``seed``, into an ensemble.

        The inverse of :meth:`member`: ``from_members([ens.member(s) for s in ...])``
        reproduces ``ens``'s parameters.
        """
        if len(members) == 0 or not all(isinstance(m, MLP) for m in members):
            raise InvalidParameterError("members must be a non-empty sequence of MLP")

        def spec_of(m: MLP) -> tuple[Any, ...]:
            return (m.in_features, m.hidden, m.out_features, m.activation, m.init, m.quantize_bits)

        spec = spec_of(members[0])
        for i, m in enumerate(members):
            other = spec_of(m)
            if other != spec:
                raise InvalidParameterError(
                    f"members[{i}] has architecture {other}, members[0] has {spec}; "
                    "stack only networks built with the same arguments"
                )
            if m.seed is None:
                raise InvalidParameterError(
                    f"members[{i}] has seed=None; build each MLP with seed=..."
                )
        ensemble = cls([m.seed for m in members], *spec[:4], init=spec[4], quantize_bits=spec[5])
        with torch.no_grad():
            for s, m in enumerate(members):
                views = ensemble._member_views(s)
                for (weight, bias), source in zip(views, m.linear_layers(), strict=True):
                    weight.copy_(source.weight)
                    bias.copy_(source.bias)
        return ensemble

"""MLP and EnsembleMLP: layers, activations, initialisation, ensemble equivalences."""

import importlib
import math
import pkgutil

import numpy as np
import pytest
import torch
from scipy import stats

import ibkit.nn
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.mlp import (
    ACTIVATIONS,
    MLP,
    QUANTIZED_RANGES,
    make_activation,
    output_probabilities,
)

X = np.array([-2.0, 0.0, 0.5, 3.0])

#: each activation written out in numpy
EXPECTED = {
    "tanh": np.tanh(X),
    "relu": np.maximum(X, 0),
    "sigmoid": 1 / (1 + np.exp(-X)),
    "softsign": X / (1 + np.abs(X)),
    "softplus": np.log1p(np.exp(X)),
    "linear": X,
    "bounded_relu": np.array([0.0, 0.0, 0.5, 1.0]),
}


def numpy_forward(net: MLP, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Logits and hidden layers of a tanh MLP, computed in float64 numpy."""
    hidden = []
    h = x
    for layer in net.linear_layers():
        w, b = layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()
        h = h @ w.T + b
        if layer is not net.out:
            h = np.tanh(h)
            hidden.append(h)
    return h, hidden


def rand_x(n: int = 9, d: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, d))).float()


# ---------------------------------------------------------------------------
# activations


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_activation_values(name):
    out = make_activation(name)(torch.tensor(X, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(out, EXPECTED[name], rtol=1e-12, atol=1e-12)


def test_registry_lists_the_seven_activations():
    assert set(ACTIVATIONS) == set(EXPECTED)


def test_unknown_activation_lists_known_names():
    with pytest.raises(ValueError, match=r"activation must be one of .*bounded_relu.*'swish'"):
        MLP(12, activation="swish")


# ---------------------------------------------------------------------------
# MLP structure and forward pass


def test_reference_network_layers():
    net = MLP(12, seed=0)
    names = [name for name, _ in net.named_children()]
    assert names == ["fc1", "act1", "fc2", "act2", "fc3", "act3", "fc4", "act4", "fc5", "act5"] + [
        "out"
    ]
    shapes = [tuple(layer.weight.shape) for layer in net.linear_layers()]
    assert shapes == [(10, 12), (7, 10), (5, 7), (4, 5), (3, 4), (2, 3)]
    assert net.hidden == (10, 7, 5, 4, 3) and net.output_kind == "softmax"


def test_forward_and_hooks_match_numpy():
    net = MLP(12, seed=1)
    x = rand_x()
    seen = {}
    handles = [
        getattr(net, f"act{i}").register_forward_hook(
            lambda _m, _i, out, i=i: seen.__setitem__(i, out.detach())
        )
        for i in range(1, 6)
    ]
    logits = net(x)
    for h in handles:
        h.remove()
    want_logits, want_hidden = numpy_forward(net, x.double().numpy())
    np.testing.assert_allclose(logits.detach().numpy(), want_logits, rtol=1e-5, atol=1e-6)
    for i, want in enumerate(want_hidden, start=1):
        np.testing.assert_allclose(seen[i].numpy(), want, rtol=1e-5, atol=1e-6)


def test_no_hidden_layer_is_a_linear_model():
    net = MLP(3, hidden=(), out_features=1, seed=0)
    assert [name for name, _ in net.named_children()] == ["out"]
    assert net.output_kind == "sigmoid"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"in_features": 0}, "in_features must be an integer >= 1; got 0"),
        ({"in_features": 12, "hidden": (10, 2.5)}, r"hidden\[1\] must be an integer"),
        ({"in_features": 12, "out_features": True}, "out_features must be an integer"),
        ({"in_features": 12, "init": "xavier"}, "init must be one of"),
        ({"in_features": 12, "seed": -1}, "seed must be an integer >= 0 or None; got -1"),
        ({"in_features": 12, "seed": 1.5}, "seed must be an integer"),
    ],
)
def test_mlp_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


# ---------------------------------------------------------------------------
# initialisation


def test_truncated_normal_init_has_the_reference_distribution():
    fan_in = 300
    net = MLP(fan_in, hidden=(), out_features=200, seed=0)
    w = net.out.weight.detach().double().numpy().ravel() * math.sqrt(fan_in)
    assert np.abs(w).max() <= 2.0
    # N(0, 1) truncated to [-2, 2], standardised by 1/sqrt(fan_in)
    assert stats.kstest(w, stats.truncnorm(-2, 2).cdf).pvalue > 1e-3
    np.testing.assert_allclose(w.std(), stats.truncnorm(-2, 2).std(), rtol=0.02)
    assert not net.out.bias.detach().any()


def test_torch_init_is_uniform_within_the_default_bound():
    fan_in = 300
    net = MLP(fan_in, hidden=(), out_features=200, init="torch", seed=0)
    bound = 1 / math.sqrt(fan_in)
    w = net.out.weight.detach().double().numpy().ravel() / bound
    b = net.out.bias.detach().double().numpy() / bound
    assert np.abs(w).max() <= 1 and np.abs(b).max() <= 1
    assert stats.kstest(w, stats.uniform(-1, 2).cdf).pvalue > 1e-3
    assert b.std() > 0.3  # uniform(-1, 1) has std 0.577


@pytest.mark.parametrize("init", ["truncated_normal", "torch"])
def test_seed_fixes_the_init_without_touching_global_rng(init):
    state = torch.get_rng_state()
    a, b, c = (MLP(12, init=init, seed=s) for s in (4, 4, 5))
    assert torch.equal(torch.get_rng_state(), state)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.fc1.weight, c.fc1.weight)


def test_unseeded_init_follows_the_global_rng():
    torch.manual_seed(3)
    a = MLP(12)
    torch.manual_seed(3)
    b = MLP(12)
    assert torch.equal(a.fc2.weight, b.fc2.weight)


# ---------------------------------------------------------------------------
# output probabilities


def test_output_probabilities_by_hand():
    z = torch.tensor([[0.0, math.log(3.0)]])
    np.testing.assert_allclose(output_probabilities(z, "softmax").numpy(), [[0.25, 0.75]])
    sig = output_probabilities(torch.tensor([[math.log(3.0)]]), "sigmoid")
    np.testing.assert_allclose(sig.numpy(), [[0.25, 0.75]], rtol=1e-6)


def test_sigmoid_equals_softmax_with_a_zero_logit():
    z = torch.linspace(-30, 30, 13, dtype=torch.float64)[:, None]
    sig = output_probabilities(z, "sigmoid")
    soft = output_probabilities(torch.cat([torch.zeros_like(z), z], dim=1), "softmax")
    np.testing.assert_allclose(sig.numpy(), soft.numpy(), rtol=1e-12, atol=1e-300)


def test_output_probabilities_bad_input():
    with pytest.raises(ValueError, match="kind must be 'softmax' or 'sigmoid'"):
        output_probabilities(torch.zeros(2, 2), "relu")
    with pytest.raises(ValueError, match="sigmoid logits must have one column"):
        output_probabilities(torch.zeros(2, 2), "sigmoid")


# ---------------------------------------------------------------------------
# ensembles


@pytest.mark.parametrize("init", ["truncated_normal", "torch"])
def test_member_init_equals_mlp_with_that_seed(init):
    ens = EnsembleMLP([11, 3, 8], 12, init=init)
    for s, seed in enumerate(ens.seeds):
        single = MLP(12, init=init, seed=seed)
        for p_member, p_single in zip(ens.member(s).parameters(), single.parameters(), strict=True):
            assert torch.equal(p_member, p_single)


@pytest.mark.parametrize("activation", sorted(EXPECTED))
def test_ensemble_forward_equals_its_members(activation):
    ens = EnsembleMLP(3, 12, activation=activation)
    x = rand_x()
    out = ens(x)
    assert out.shape == (3, 9, 2)
    for s in range(3):
        np.testing.assert_allclose(
            ens.member(s)(x).detach().numpy(), out[s].detach().numpy(), rtol=1e-6, atol=1e-6
        )


def test_ensemble_takes_one_batch_per_member():
    ens = EnsembleMLP([0, 1], 12, hidden=(6,), out_features=1, activation="relu")
    xs = torch.stack([rand_x(seed=0), rand_x(seed=1)])
    out = ens(xs)
    assert out.shape == (2, 9, 1)
    for s in range(2):
        np.testing.assert_allclose(
            ens.member(s)(xs[s]).detach().numpy(), out[s].detach().numpy(), atol=1e-6
        )


def test_ensemble_layers_match_mlp_and_hooks_see_every_member():
    ens, net = EnsembleMLP(4, 12, activation="bounded_relu"), MLP(12, activation="bounded_relu")
    assert [n for n, _ in ens.named_children()] == [n for n, _ in net.named_children()]
    assert [type(m) for m in ens if not hasattr(m, "weight")] == [
        type(m) for m in net if not hasattr(m, "weight")
    ]
    seen = []
    handle = ens.act1.register_forward_hook(lambda _m, _i, out: seen.append(out))
    ens(rand_x(n=5))
    handle.remove()
    assert seen[0].shape == (4, 5, 10)
    assert ens.seeds == (0, 1, 2, 3) and ens.n_members == 4 and ens.output_kind == "softmax"


def test_members_get_only_their_own_gradient():
    ens = EnsembleMLP(3, 12)
    ens(rand_x())[1].sum().backward()
    for layer in ens.linear_layers():
        assert layer.weight.grad[[0, 2]].abs().max() == 0
        assert layer.weight.grad[1].abs().max() > 0


def test_from_members_inverts_member():
    members = [MLP(12, hidden=(5,), activation="relu", seed=s) for s in (9, 2)]
    with torch.no_grad():
        members[0].fc1.weight.add_(1.0)  # not the seed's init any more
    ens = EnsembleMLP.from_members(members)
    assert ens.seeds == (9, 2) and ens.activation == "relu"
    for s, m in enumerate(members):
        for p_back, p_orig in zip(ens.member(s).parameters(), m.parameters(), strict=True):
            assert torch.equal(p_back, p_orig)


@pytest.mark.parametrize(
    ("members", "match"),
    [
        (0, "n_members must be >= 1; got 0"),
        ([], "seeds is empty"),
        ([1, 1], "seeds must be distinct"),
        ([0, -2], "seed must be an integer >= 0"),
        ([0, None], "seeds must be integers >= 0; got None"),
        ("abc", "pass the number of members"),
    ],
)
def test_ensemble_bad_seeds(members, match):
    with pytest.raises(ValueError, match=match):
        EnsembleMLP(members, 12)


def test_ensemble_bad_input_and_members():
    ens = EnsembleMLP(2, 12)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 12\)"):
        ens(torch.zeros(4, 11))
    with pytest.raises(ValueError, match="x has a batch for 3 members but the ensemble has 2"):
        ens(torch.zeros(3, 4, 12))
    with pytest.raises(ValueError, match=r"s must be in \[0, 2\); got 2"):
        ens.member(2)
    with pytest.raises(ValueError, match="members\\[1\\] has architecture"):
        EnsembleMLP.from_members([MLP(12, seed=0), MLP(12, activation="relu", seed=1)])
    with pytest.raises(ValueError, match="members\\[0\\] has seed=None"):
        EnsembleMLP.from_members([MLP(12)])
    with pytest.raises(ValueError, match="non-empty sequence of MLP"):
        EnsembleMLP.from_members([])


# --- the package's lazy names ---------------------------------------------------------------


def test_every_public_name_is_its_documented_object_after_all_submodules_are_imported():
    # importing ibkit.nn.<module> sets that attribute on the package: a public name equal
    # to a submodule's name would then be the module, not the object
    submodules = [m.name for m in pkgutil.iter_modules(ibkit.nn.__path__)]
    for name in submodules:
        importlib.import_module(f"ibkit.nn.{name}")
    from ibkit.nn import vib_sweep

    assert callable(vib_sweep) and vib_sweep.__name__ == "vib_sweep"
    assert not set(ibkit.nn.__all__) & set(submodules)
    for name in ibkit.nn.__all__:
        home = importlib.import_module(f"ibkit.nn.{ibkit.nn._EXPORTS[name]}")
        assert getattr(ibkit.nn, name) is getattr(home, name), name


# ---------------------------------------------------------------------------
# quantised activations


@pytest.mark.parametrize("name", sorted(QUANTIZED_RANGES))
def test_quantized_activation_rounds_to_the_nearest_of_2k_levels(name):
    bits = 3
    low, high = QUANTIZED_RANGES[name]
    levels = low + (high - low) * np.arange(2**bits) / (2**bits - 1)
    a = np.random.default_rng(0).normal(scale=3.0, size=2000)
    plain = make_activation(name)(torch.tensor(a)).numpy()
    out = make_activation(name, quantize_bits=bits)(torch.tensor(a)).numpy()
    nearest = levels[np.abs(plain[:, None] - levels[None, :]).argmin(axis=1)]
    # away from the midpoints between levels, rounding is unambiguous
    gap = np.sort(np.abs(plain[:, None] - levels[None, :]), axis=1)
    clear = gap[:, 1] - gap[:, 0] > 1e-9
    assert clear.mean() > 0.99
    np.testing.assert_allclose(out[clear], nearest[clear], rtol=0, atol=1e-15)
    # every output is a level
    np.testing.assert_allclose(np.abs(out[:, None] - levels).min(axis=1), 0.0, atol=1e-15)


def test_quantize_is_exact_and_passes_the_gradient_straight_through():
    a = torch.linspace(-3, 3, 101, dtype=torch.float64, requires_grad=True)
    act = make_activation("tanh", quantize_bits=2)
    out = act(a)
    # forward values are exactly the levels ±1, ±1/3 computed as the quantiser does
    step = 2.0 / 3.0
    exact = {-1.0, -1.0 + step, -1.0 + 2 * step, -1.0 + 3 * step}
    assert set(out.detach().numpy().tolist()) <= exact
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 1 - np.tanh(a.detach().numpy()) ** 2, rtol=1e-12)
    assert isinstance(act, torch.nn.Tanh)  # recorders that select by module type see it


def test_quantized_mlp_layers_take_at_most_2k_values_per_unit():
    net = MLP(12, (6, 4), quantize_bits=2, seed=0)
    h = torch.from_numpy(np.random.default_rng(1).normal(size=(500, 12))).float()
    for name, module in net.named_children():
        h = module(h)
        if name.startswith("act"):
            assert all(torch.unique(unit).numel() <= 4 for unit in h.T)
    assert net.quantize_bits == 2 and MLP(12).quantize_bits is None


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_quantized_ensemble_equals_its_members(activation):
    ens = EnsembleMLP([4, 9], 12, hidden=(5, 3), activation=activation, quantize_bits=4)
    x = rand_x(30)
    out = ens(x)
    for s, seed in enumerate(ens.seeds):
        member = ens.member(s)
        assert member.quantize_bits == 4
        plain = MLP(12, (5, 3), activation=activation, seed=seed, quantize_bits=4)
        torch.testing.assert_close(out[s], member(x), rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(member(x), plain(x), rtol=1e-6, atol=1e-6)
    stacked = EnsembleMLP.from_members([ens.member(0), ens.member(1)])
    assert stacked.quantize_bits == 4
    with pytest.raises(ValueError, match="architecture"):
        EnsembleMLP.from_members([ens.member(0), MLP(12, (5, 3), activation=activation, seed=1)])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"activation": "relu", "quantize_bits": 4},
            "quantize_bits needs an activation with a bounded",
        ),
        ({"quantize_bits": 0}, "quantize_bits must be an integer >= 1; got 0"),
        ({"quantize_bits": True}, "quantize_bits must be an integer >= 1; got True"),
        ({"quantize_bits": 25}, "quantize_bits must be at most 24"),
    ],
)
def test_quantize_bits_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(12, (3,), **kwargs)
    with pytest.raises(ValueError, match=match):
        EnsembleMLP(2, 12, (3,), **kwargs)

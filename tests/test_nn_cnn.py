"""Tests of the convolutional network of the MNIST information-plane studies."""

import math

import pytest

torch = pytest.importorskip("torch")

from ibkit.datasets import load_digits  # noqa: E402
from ibkit.nn import ConvNet, InformationPlane, fit  # noqa: E402

pytest.importorskip("sklearn")


def test_layers_and_shapes_follow_the_architecture():
    net = ConvNet((1, 8, 8), 10, "tanh", seed=0)
    names = [name for name, _ in net.named_children()]
    assert names == [
        "conv1",
        "act1",
        "pool1",
        "conv2",
        "act2",
        "pool2",
        "flat",
        "fc3",
        "act3",
        "out",
    ]
    assert net.fc3.in_features == 32 * 2 * 2  # 8x8 pooled twice
    flat, image = torch.rand(3, 64), None
    image = flat.reshape(3, 1, 8, 8)
    assert torch.equal(net(flat), net(image)) and net(flat).shape == (3, 10)
    assert ConvNet((1, 28, 28), 10, seed=0).fc3.in_features == 32 * 7 * 7


def test_seeded_construction_is_reproducible_and_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    a, b = ConvNet((1, 8, 8), 10, seed=3), ConvNet((1, 8, 8), 10, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    c = ConvNet((1, 8, 8), 10, seed=4)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)
    # weights within two standard deviations of N(0, 1/fan_in), biases zero
    assert a.conv1.weight.abs().max() <= 2 / 3 + 1e-6 and not a.conv1.bias.any()
    # conv2 (fan_in 16 * 3 * 3 = 144, sigma = 1/12, 4608 weights): a normal cut at 2 sigma
    # has standard deviation 0.8796 sigma, torch's default uniform init 0.577 sigma
    sigma = 1 / 12
    z = math.erf(2 / math.sqrt(2))
    cut_std = sigma * math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / z)
    w = a.conv2.weight.detach()
    assert w.numel() == 4608 and w.abs().max() <= 2 * sigma + 1e-6
    assert abs(w.std().item() / cut_std - 1) < 0.05
    assert w.abs().max() > 1.9 * sigma  # reaches the cut, unlike torch's ±sigma bound


@pytest.mark.parametrize("activation, kind", [("tanh", torch.nn.Tanh), ("relu", torch.nn.ReLU)])
def test_the_recorder_finds_and_records_every_activation(activation, kind):
    x, y = load_digits()
    x, y = x[:200], y[:200]
    net = ConvNet((1, 8, 8), 10, activation, channels=(4, 8), dense=16, seed=0)
    assert all(isinstance(getattr(net, f"act{i}"), kind) for i in (1, 2, 3))
    plane = InformationPlane(net, x, y, estimators=["binning"], seed=0)
    with plane:
        history = fit(net, x, y, epochs=2, optimizer="adam", lr=1e-2, batch_size=50,
                      on_epoch=plane.record)  # fmt: skip
    res = plane.results
    assert plane.layer_names == ["act1", "act2", "act3", "output"]
    widths = res.groupby("layer")["width"].first().to_dict()
    assert widths == {"act1": 4 * 8 * 8, "act2": 8 * 4 * 4, "act3": 16, "output": 10}
    assert sorted(res["epoch"].unique()) == [0, 1, 2] and set(res["seed"]) == {0}
    assert history.seeds == (0,) and history.train_acc.shape == (3, 1)


def test_training_learns_digits():
    x, y = load_digits()
    net = ConvNet((1, 8, 8), 10, "relu", channels=(4, 8), dense=32, seed=0)
    history = fit(net, x[:600], y[:600], epochs=8, optimizer="adam", lr=3e-3, batch_size=64)
    assert history.train_acc[-1, 0] > 0.8 > history.train_acc[0, 0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"in_shape": (64,)}, r"in_shape must be \(channels, height, width\)"),
        ({"in_shape": (1, 2, 2)}, "height and width >= 4"),
        ({"channels": (4,)}, "channels must be two numbers"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"init": "zeros"}, "init must be one of"),
        ({"n_classes": 0}, "n_classes"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    args = {"in_shape": (1, 8, 8), "n_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        ConvNet(**args)

"""Gradient signal-to-noise statistics, checked against gradients computed by hand."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from ibkit.nn.gradients import GradientSNR, gradient_snr


def _linear(w):
    model = nn.Linear(len(w), 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([w], dtype=torch.float32))
    return model


def _backward(model, x, t):
    """One minibatch: loss 0.5 * sum (w.x - t)^2, gradient sum (w.x - t) x."""
    x = torch.tensor(x, dtype=torch.float32)
    t = torch.tensor(t, dtype=torch.float32)
    (0.5 * ((model(x)[:, 0] - t) ** 2).sum()).backward()


# w = (1, -1); residuals r = w.x - t give the gradients (1, 0), (0, -2), (4, 0):
BATCHES = [([[1.0, 0.0]], [0.0]), ([[0.0, 1.0]], [1.0]), ([[1.0, 1.0], [2.0, 0.0]], [0.0, 0.0])]
# mean (5/3, -2/3); population variances (26/9, 8/9)
MEAN_NORM = math.sqrt(29) / 3
STD_NORM = math.sqrt(34) / 3


def test_statistics_match_hand_computed_gradients():
    model = _linear([1.0, -1.0])
    with GradientSNR(model, seed=7) as tracker:
        for x, t in BATCHES:
            model.zero_grad()
            _backward(model, x, t)
        table = tracker.snapshot(epoch=4)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.epoch, row.layer, row.member, row.seed, row.n_batches) == (4, "", 0, 7, 3)
    np.testing.assert_allclose(row.grad_mean_norm, MEAN_NORM, rtol=1e-12)
    np.testing.assert_allclose(row.grad_std_norm, STD_NORM, rtol=1e-12)
    np.testing.assert_allclose(row.snr, math.sqrt(29 / 34), rtol=1e-12)


def test_minibatch_gradient_is_counted_even_when_grad_accumulates():
    # Without zero_grad the .grad field sums up; the statistics must still see each
    # backward pass's own gradient.
    model = _linear([1.0, -1.0])
    with GradientSNR(model) as tracker:
        for x, t in BATCHES:
            _backward(model, x, t)
        row = tracker.snapshot(epoch=0).iloc[0]
    np.testing.assert_allclose(row.grad_mean_norm, MEAN_NORM, rtol=1e-12)


def test_snapshot_resets_and_empty_epoch_is_nan():
    model = _linear([1.0, -1.0])
    with GradientSNR(model) as tracker:
        _backward(model, *BATCHES[0])
        assert tracker.snapshot(epoch=0).n_batches.tolist() == [1]
        row = tracker.snapshot(epoch=1).iloc[0]
    assert row.n_batches == 0
    assert np.isnan(row.grad_mean_norm) and np.isnan(row.snr)


def test_equal_gradients_have_infinite_snr_and_no_warning():
    model = _linear([1.0, -1.0])
    with GradientSNR(model) as tracker:
        for _ in range(3):
            _backward(model, *BATCHES[0])
        row = tracker.snapshot(epoch=0).iloc[0]
    assert row.grad_std_norm == 0.0
    assert row.snr == np.inf


def test_detach_stops_counting_and_removes_hooks():
    model = _linear([1.0, -1.0])
    tracker = GradientSNR(model)
    with tracker:
        _backward(model, *BATCHES[0])
    assert not model.weight._backward_hooks
    _backward(model, *BATCHES[1])  # not counted
    assert tracker.snapshot(epoch=0).n_batches.tolist() == [1]


def test_hooks_removed_when_training_raises():
    model = _linear([1.0, -1.0])
    with pytest.raises(RuntimeError, match="boom"), GradientSNR(model):
        raise RuntimeError("boom")
    assert not model.weight._backward_hooks


def test_default_layers_are_weight_matrices_in_module_order():
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 2))
    tracker = GradientSNR(model)
    assert list(tracker.weights) == ["0", "3"]  # LayerNorm's 1-D weight is not a matrix
    assert list(GradientSNR(model, layers=["3"]).weights) == ["3"]


class _BatchedLinear(nn.Module):
    """S independent linear maps without bias, weight of shape (S, in, out)."""

    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(weight, dtype=torch.float32))
        self.n_members = self.weight.shape[0]
        self.seeds = (11, 12)

    def forward(self, x):
        return torch.einsum("ni,sio->sno", x, self.weight)


def test_ensemble_members_get_their_own_rows():
    # Member 1 has twice member 0's loss, so twice its gradients: both norms double and
    # the SNR, a ratio, stays the same.
    model = _BatchedLinear([[[1.0], [-1.0]], [[1.0], [-1.0]]])
    with GradientSNR(model) as tracker:
        for x, t in BATCHES:
            out = model(torch.tensor(x))[..., 0]
            res = out - torch.tensor(t)
            loss = 0.5 * (res[0] ** 2).sum() + 1.0 * (res[1] ** 2).sum()
            loss.backward()
        table = tracker.snapshot(epoch=0)
    assert table.member.tolist() == [0, 1] and table.seed.tolist() == [11, 12]
    np.testing.assert_allclose(table.grad_mean_norm, [MEAN_NORM, 2 * MEAN_NORM], rtol=1e-6)
    np.testing.assert_allclose(table.grad_std_norm, [STD_NORM, 2 * STD_NORM], rtol=1e-6)
    np.testing.assert_allclose(table.snr, [math.sqrt(29 / 34)] * 2, rtol=1e-6)


def test_running_statistics_are_accurate_for_a_large_mean():
    # Welford's update keeps the spread of gradients around a large mean; the truth is
    # numpy's two-pass variance.
    rng = np.random.default_rng(0)
    grads = 1e4 + 1e-3 * rng.standard_normal((50, 1, 3))
    model = nn.Linear(3, 1, bias=False)
    with GradientSNR(model) as tracker:
        for g in grads:
            model.weight.backward(torch.tensor(g, dtype=torch.float32))
        row = tracker.snapshot(epoch=0).iloc[0]
    g32 = grads.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(row.grad_std_norm, np.sqrt(g32.var(axis=0).sum()), rtol=1e-6)


def test_gradient_snr_of_a_stack():
    assert gradient_snr([[3.0, 0.0], [1.0, 0.0]]) == (2.0, 1.0, 2.0)
    mean_norm, std_norm, snr = gradient_snr(np.ones((4, 2, 2)))
    assert (mean_norm, std_norm, snr) == (2.0, 0.0, np.inf)
    assert np.isnan(gradient_snr(np.zeros((3, 2)))[2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "net"}, "torch.nn.Module"),
        ({"model": nn.Tanh()}, "no module with a weight matrix"),
        ({"model": nn.Sequential(nn.Linear(2, 2)), "layers": ["1"]}, r"available: \['0'\]"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GradientSNR(**kwargs)


def test_ensemble_weights_must_stack_members():
    model = _BatchedLinear([[[1.0], [-1.0]], [[1.0], [-1.0]]])
    model.n_members = 3
    with pytest.raises(ValueError, match="stack the members on axis 0"):
        GradientSNR(model)
    with pytest.raises(ValueError, match=r"gradients must stack .* shape \(3,\)"):
        gradient_snr([1.0, 2.0, 3.0])

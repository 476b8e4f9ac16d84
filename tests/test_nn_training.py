"""fit and evaluate: hand-computed steps, determinism, ensemble = members one by one."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.mlp import MLP
from ibkit.nn.training import evaluate, fit


def task(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random 12-bit inputs labelled by a majority-style rule, as numpy arrays."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, 12)).astype(np.float64)
    y = (x[:, :6].sum(1) + 0.5 * x[:, 6:].sum(1) >= 4.5).astype(np.int64)
    return x, y


def params(net: torch.nn.Module) -> list[np.ndarray]:
    return [p.detach().double().numpy().copy() for p in net.parameters()]


# ---------------------------------------------------------------------------
# one step of SGD against a gradient written out by hand


def hand_sgd_step(w1, b1, w2, b2, x, y, lr):
    """One full-batch SGD step of softmax(tanh(x W1ᵀ + b1) W2ᵀ + b2) on mean CE, in numpy."""
    h = np.tanh(x @ w1.T + b1)
    z = h @ w2.T + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(z.shape[1])[y]) / len(x)
    da = (dz @ w2) * (1 - h**2)
    return (w1 - lr * da.T @ x, b1 - lr * da.sum(0), w2 - lr * dz.T @ h, b2 - lr * dz.sum(0))


def test_one_sgd_step_matches_hand_gradient():
    x, y = task(n=16)
    net = MLP(12, hidden=(4,), out_features=3, seed=2)
    before = params(net)
    fit(net, x, np.where(x[:, 0] > 0, 2, y), epochs=1, lr=0.3)
    want = hand_sgd_step(*before, x, np.where(x[:, 0] > 0, 2, y), 0.3)
    for got, expected in zip(params(net), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_one_sgd_step_of_each_member_matches_hand_gradient():
    x, y = task(n=16)
    ens = EnsembleMLP([5, 6], 12, hidden=(4,))
    before = [params(ens.member(s)) for s in range(2)]
    fit(ens, x, y, epochs=1, lr=0.3)
    for s in range(2):
        want = hand_sgd_step(*before[s], x, y, 0.3)
        for got, expected in zip(params(ens.member(s)), want, strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_one_sgd_step_of_logistic_regression():
    # BCE gradient: mean((sigmoid(z) - y) x) and mean(sigmoid(z) - y)
    x, y = task(n=20)
    net = MLP(12, hidden=(), out_features=1, seed=0)
    w, b = params(net)
    r = 1 / (1 + np.exp(-(x @ w.T + b)[:, 0])) - y
    fit(net, x, y.astype(bool), epochs=1, lr=0.5)
    got_w, got_b = params(net)
    np.testing.assert_allclose(got_w, w - 0.5 * (r @ x)[None] / len(x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got_b, b - 0.5 * r.mean(), rtol=1e-5, atol=1e-7)


def test_evaluate_by_hand():
    net = MLP(2, hidden=(), out_features=1, seed=0)
    with torch.no_grad():
        net.out.weight.copy_(torch.tensor([[1.0, -1.0]]))
        net.out.bias.zero_()
    # logits 2, -2, 0; labels 1, 0, 1; the zero logit predicts class 0
    result = evaluate(net, [[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]], np.array([1, 0, 1]))
    want_loss = (2 * math.log1p(math.exp(-2)) + math.log(2)) / 3
    np.testing.assert_allclose(result["loss"], [want_loss], rtol=1e-6)
    np.testing.assert_allclose(result["accuracy"], [2 / 3], rtol=1e-6)


# ---------------------------------------------------------------------------
# determinism and the ensemble equivalence


def test_same_seed_same_run_and_other_seed_other_run():
    x, y = task()

    def run(data_seed):
        net = MLP(12, seed=3)
        history = fit(net, x, y, epochs=3, batch_size=32, optimizer="adam", lr=0.01, seed=data_seed)
        return params(net), history

    (p1, h1), (p2, h2), (p3, _) = run(1), run(1), run(2)
    for a, b in zip(p1, p2, strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(h1, h2)
    assert not np.array_equal(p1[0], p3[0])  # only the batch order differs


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam", "lr": 0.01, "batch_size": 32},
        {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "batch_size": 25},
        {"optimizer": "sgd", "lr": 0.5},
    ],
)
def test_ensemble_equals_members_trained_one_by_one(options):
    x, y = task()
    xt, yt = task(n=40, seed=1)
    seeds = (4, 0, 9)
    ens = EnsembleMLP(seeds, 12)
    history = fit(ens, x, y, epochs=4, seed=5, x_test=xt, y_test=yt, **options)
    for s, seed in enumerate(seeds):
        single = MLP(12, seed=seed)
        single_history = fit(single, x, y, epochs=4, seed=5, x_test=xt, y_test=yt, **options)
        for got, want in zip(params(ens.member(s)), params(single), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        rows = history[history.seed == seed].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, single_history, rtol=1e-5, atol=1e-6)


def test_members_with_other_seeds_do_not_change_a_member():
    x, y = task()
    options = {"epochs": 3, "batch_size": 16, "optimizer": "adam", "lr": 0.02}
    a, b = EnsembleMLP([1, 2], 12), EnsembleMLP([1, 7, 8], 12)
    fit(a, x, y, **options)
    fit(b, x, y, **options)
    for got, want in zip(params(a.member(0)), params(b.member(0)), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# learning, history and callback


def test_loss_decreases_on_a_separable_problem():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 0.5, (50, 2)), rng.normal(2, 0.5, (50, 2))])
    y = np.repeat([0, 1], 50)
    ens = EnsembleMLP(3, 2, hidden=(8,), activation="relu")
    history = fit(ens, torch.tensor(x, dtype=torch.float32), y, epochs=40, lr=0.2)
    first = history[history.epoch == 0]
    last = history[history.epoch == 40]
    assert (last.train_loss.to_numpy() < 0.2 * first.train_loss.to_numpy()).all()
    assert (last.train_acc == 1.0).all()


def test_history_rows_and_callback_see_the_trained_model():
    x, y = task()
    xt, yt = task(n=30, seed=2)
    ens = EnsembleMLP([3, 1], 12, activation="relu")
    seen = []

    def callback(epoch):
        seen.append((epoch, evaluate(ens, x, y)["loss"], evaluate(ens, xt, yt)["accuracy"]))

    history = fit(ens, x, y, epochs=3, batch_size=50, x_test=xt, y_test=yt, callback=callback)
    assert list(history.columns) == [
        "epoch",
        "seed",
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
    ]
    assert history.epoch.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert history.seed.tolist() == [3, 1] * 4
    assert [epoch for epoch, _, _ in seen] == [0, 1, 2, 3]
    for epoch, train_loss, test_acc in seen:
        rows = history[history.epoch == epoch]
        np.testing.assert_allclose(rows.train_loss, train_loss, rtol=1e-6)
        np.testing.assert_allclose(rows.test_acc, test_acc, rtol=1e-6)


def test_history_without_test_data_and_with_progress_bar():
    x, y = task()
    history = fit(MLP(12, seed=0), x, y, epochs=2, progress=True)
    assert history.shape == (3, 6)
    assert history.test_loss.isna().all() and history.test_acc.isna().all()
    assert history.train_loss.notna().all()


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1; got 0"),
        ({"epochs": 2.0}, "epochs must be an integer"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1; got 0"),
        ({"lr": 0.0}, "lr must be a finite number > 0; got 0.0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0"),
        ({"momentum": -0.5}, "momentum must be a finite number >= 0"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum applies to SGD only"),
        ({"optimizer": "rmsprop"}, r"optimizer must be one of \['sgd', 'adam'\]"),
        ({"seed": -3}, "seed must be an integer >= 0 or None; got -3"),
        ({"x_test": np.zeros((3, 12))}, "pass both x_test and y_test, or neither"),
        (
            {"x_test": np.zeros((3, 12)), "y_test": [0, 1]},
            r"y_test must hold one label per row of x_test \(3\); got shape \(2,\)",
        ),
    ],
)
def test_fit_bad_options(kwargs, match):
    x, y = task(n=10)
    with pytest.raises(ValueError, match=match):
        fit(MLP(12, seed=0), x, y, **{"epochs": 1, **kwargs})


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.zeros((10, 11)), np.zeros(10), r"x_train must have shape \(n, 12\)"),
        (np.zeros((0, 12)), np.zeros(0), r"x_train must have shape \(n, 12\) with n >= 1"),
        (np.full((10, 12), np.nan), np.zeros(10), "x_train has NaN or infinite entries"),
        (np.zeros((10, 12)), np.zeros(9), "y_train must hold one label per row"),
        (np.zeros((10, 12)), np.full(10, 2), r"integer class labels in \[0, 2\)"),
        (np.zeros((10, 12)), np.full(10, 0.5), "got 10 other values, e.g. 0.5"),
        (np.array([["a"] * 12]), np.zeros(1), "x_train must be a numeric array"),
    ],
)
def test_fit_bad_data(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit(MLP(12, seed=0), x, y, epochs=1)


def test_bad_model_and_evaluate_input():
    x, y = task(n=10)
    with pytest.raises(TypeError, match="model must be an MLP or an EnsembleMLP; got Linear"):
        fit(torch.nn.Linear(12, 2), x, y, epochs=1)
    with pytest.raises(ValueError, match=r"integer class labels in \[0, 3\)"):
        evaluate(MLP(12, out_features=3, seed=0), x, np.full(10, 3))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_cuda_matches_cpu():
    x, y = task()
    options = {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 0.01, "seed": 1}
    cpu, gpu = EnsembleMLP(2, 12), EnsembleMLP(2, 12).cuda()
    h_cpu, h_gpu = fit(cpu, x, y, **options), fit(gpu, x, y, **options)
    for got, want in zip(gpu.parameters(), cpu.parameters(), strict=True):
        np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), atol=1e-4)
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-4)


# ---------------------------------------------------------------------------
# checkpoints: an interrupted run resumes to the uninterrupted result


class Crash(Exception):
    pass


def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path):
    x, y = task()
    options = dict(epochs=9, batch_size=32, optimizer="adam", lr=0.01, seed=1)
    reference = EnsembleMLP((3, 4), 12, hidden=(5, 3))
    full = fit(reference, x, y, **options)

    path = tmp_path / "run.pt"
    seen = []

    def crash_at_7(epoch):
        seen.append(epoch)
        if epoch == 7:
            raise Crash

    model = EnsembleMLP((3, 4), 12, hidden=(5, 3))
    with pytest.raises(Crash):
        fit(model, x, y, **options, callback=crash_at_7, checkpoint=path, checkpoint_every=3)
    assert seen == list(range(8))
    seen.clear()
    fresh = EnsembleMLP((3, 4), 12, hidden=(5, 3))  # a new process: same init, state from disk
    resumed = fit(fresh, x, y, **options, callback=seen.append, checkpoint=path)
    assert seen == [7, 8, 9]  # continued after the checkpoint of epoch 6
    for a, b in zip(params(reference), params(fresh), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(full, resumed)


def test_checkpoint_with_other_settings_is_refused(tmp_path):
    x, y = task()
    path = tmp_path / "run.pt"
    fit(MLP(12, hidden=(4,), seed=0), x, y, epochs=2, checkpoint=path)
    with pytest.raises(ValueError, match="other settings"):
        fit(MLP(12, hidden=(4,), seed=0), x, y, epochs=2, lr=0.5, checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint_every"):
        fit(MLP(12, hidden=(4,), seed=0), x, y, epochs=2, checkpoint=path, checkpoint_every=0)

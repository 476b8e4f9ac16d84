"""fit and evaluate: hand-computed steps, determinism, ensemble = members one by one,
divergence, and the history both training loops return."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from ibkit._validation import DivergenceError, InvalidParameterError
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.mlp import MLP
from ibkit.nn.training import (
    History,
    TrainingHistory,
    _fusable,
    _member_accuracies,
    evaluate,
    fit,
    loss_ceiling,
    member_losses,
)
from ibkit.nn.vib import VIBClassifier, VIBHistory, train_vib


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
        options = {"batch_size": 32, "optimizer": "adam", "lr": 0.01}
        history = fit(net, x, y, epochs=3, random_state=data_seed, **options)
        return params(net), history.to_frame()

    (p1, h1), (p2, h2), (p3, _) = run(1), run(1), run(2)
    for a, b in zip(p1, p2, strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(h1, h2)
    assert not np.array_equal(p1[0], p3[0])  # only the batch order differs
    # a Generator is a random_state too: the same seed repeats, another differs
    (g1, _), (g2, _), (g3, _) = (run(np.random.default_rng(s)) for s in (7, 7, 8))
    np.testing.assert_array_equal(g1[0], g2[0])
    assert not np.array_equal(g1[0], g3[0])


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
    history = fit(ens, x, y, epochs=4, random_state=5, x_test=xt, y_test=yt, **options)
    frame = history.to_frame()
    for s, seed in enumerate(seeds):
        single = MLP(12, seed=seed)
        alone = fit(single, x, y, epochs=4, random_state=5, x_test=xt, y_test=yt, **options)
        for got, want in zip(params(ens.member(s)), params(single), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        rows = frame[frame.seed == seed].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, alone.to_frame(), rtol=1e-5, atol=1e-6)


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
    assert (history.train_loss[40] < 0.2 * history.train_loss[0]).all()
    np.testing.assert_array_equal(history.train_acc[40], [1.0, 1.0, 1.0])


def test_history_rows_and_on_epoch_see_the_trained_model():
    x, y = task()
    xt, yt = task(n=30, seed=2)
    ens = EnsembleMLP([3, 1], 12, activation="relu")
    seen = []

    def on_epoch(epoch):
        seen.append((epoch, evaluate(ens, x, y)["loss"], evaluate(ens, xt, yt)["accuracy"]))

    history = fit(ens, x, y, epochs=3, batch_size=50, x_test=xt, y_test=yt, on_epoch=on_epoch)
    np.testing.assert_array_equal(history.epoch, [0, 1, 2, 3])
    assert history.seeds == (3, 1)
    assert [epoch for epoch, _, _ in seen] == [0, 1, 2, 3]
    for epoch, train_loss, test_acc in seen:
        np.testing.assert_allclose(history.train_loss[epoch], train_loss, rtol=1e-6)
        np.testing.assert_allclose(history.test_acc[epoch], test_acc, rtol=1e-6)
    frame = history.to_frame()
    assert list(frame.columns) == [
        "epoch",
        "seed",
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
    ]
    assert frame.epoch.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert frame.seed.tolist() == [3, 1] * 4
    for epoch, train_loss, _ in seen:
        rows = frame[frame.epoch == epoch]
        np.testing.assert_allclose(rows.train_loss, train_loss, rtol=1e-6)


def test_history_without_test_data_and_progress_counts_epochs():
    x, y = task()
    calls = []
    history = fit(MLP(12, seed=0), x, y, epochs=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]
    assert history.train_loss.shape == (3, 1)
    assert np.isnan(history.test_loss).all() and np.isnan(history.test_acc).all()
    assert np.isfinite(history.train_loss).all()


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
        ({"random_state": -3}, "random_state must be a non-negative int; got -3"),
        ({"random_state": "zero"}, "random_state must be None, a non-negative int"),
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
    with pytest.raises(TypeError, match="model must be an MLP, an EnsembleMLP or a torch"):
        fit("mlp", x, y, epochs=1)
    with pytest.raises(ValueError, match="has no parameters to train"):
        fit(torch.nn.Tanh(), x, y, epochs=1)
    with pytest.raises(ValueError, match=r"must return logits of shape \(n, classes\)"):
        fit(torch.nn.Sequential(torch.nn.Linear(12, 2), torch.nn.Flatten(0)), x, y, epochs=1)
    with pytest.raises(ValueError, match=r"integer class labels in \[0, 3\)"):
        evaluate(MLP(12, out_features=3, seed=0), x, np.full(10, 3))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_cuda_matches_cpu():
    x, y = task()
    options = {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 0.01, "random_state": 1}
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
    options = dict(epochs=9, batch_size=32, optimizer="adam", lr=0.01, random_state=1)
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
        fit(model, x, y, **options, on_epoch=crash_at_7, checkpoint=path, checkpoint_every=3)
    assert seen == list(range(8))
    seen.clear()
    fresh = EnsembleMLP((3, 4), 12, hidden=(5, 3))  # a new process: same init, state from disk
    resumed = fit(fresh, x, y, **options, on_epoch=seen.append, checkpoint=path)
    assert seen == [7, 8, 9]  # continued after the checkpoint of epoch 6
    for a, b in zip(params(reference), params(fresh), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(full.to_frame(), resumed.to_frame())


def test_checkpoint_with_other_settings_is_refused(tmp_path):
    x, y = task()
    path = tmp_path / "run.pt"
    fit(MLP(12, hidden=(4,), seed=0), x, y, epochs=2, checkpoint=path)
    with pytest.raises(ValueError, match="other settings"):
        fit(MLP(12, hidden=(4,), seed=0), x, y, epochs=2, lr=0.5, checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint_every"):
        fit(MLP(12, hidden=(4,), seed=0), x, y, epochs=2, checkpoint=path, checkpoint_every=0)


# ---------------------------------------------------------------------------
# divergence: a NaN or infinite loss stops the run and names the knob


@pytest.mark.parametrize(
    ("scale", "lr", "match"),
    [
        (1.0, 1e30, r"lower lr \(now 1e\+30\)"),  # one step throws the weights to ~1e30
        (1e30, 0.01, r"standardise x_train \(largest \|x_train\| is 1e\+30\)"),
    ],
)
def test_fit_stops_when_the_loss_is_not_finite(scale, lr, match):
    x, y = task(n=40)
    x[0, 0] = 1.0  # the largest |x| is then exactly the scale
    seen = []
    net = MLP(12, hidden=(8,), activation="relu", seed=0)
    with pytest.raises(DivergenceError, match=match) as info:
        fit(net, x * scale, y, epochs=5, lr=lr, on_epoch=seen.append)
    assert "training diverged at epoch 1" in str(info.value)
    assert seen == [0]  # nothing of the diverged epoch reaches the hook


def test_fit_stops_when_the_loss_runs_away_while_finite():
    # lr=1e3 throws the weights to ~1e3: a finite loss of hundreds of nats, accuracy at
    # chance, which fit used to record as an ordinary run
    x, y = task(n=40)
    ens = EnsembleMLP([0, 1], 12, hidden=(8,), activation="relu")
    start = evaluate(ens, x, y)["loss"]  # the loss before training, per member
    ceilings = [f"{10 * max(s, math.log(2)):.3g}" for s in start]
    seen = []
    with pytest.raises(DivergenceError) as info:
        fit(ens, x, y, epochs=3, lr=1e3, on_epoch=seen.append)
    message = str(info.value)
    found = re.search(r"training loss is (\S+) nats, above (\S+) nats", message)
    assert found is not None, message
    assert float(found[1]) > float(found[2]) and found[2] in ceilings
    assert "training diverged at epoch 1" in message and "lower lr (now 1000)" in message
    assert seen == [0]  # nothing of the run-away epoch reaches the hook


def test_fit_lets_the_transient_rise_of_a_healthy_run_pass():
    # full-batch SGD at lr=1 first overshoots to over 3 times the loss it starts from,
    # then learns: a run the bound of 10 times must leave alone
    x, y = task(n=256)
    ens = EnsembleMLP([0, 1, 2], 12, hidden=(32, 16), activation="relu")
    history = fit(ens, x, y, epochs=30, lr=1.0)
    assert (history.train_loss / history.train_loss[0]).max() > 3
    assert (history.train_loss[-1] < history.train_loss[0]).all()


def test_loss_ceiling_is_ten_times_the_start_or_ln_k():
    got = loss_ceiling([0.1, 5.0, math.nan], n_classes=10)
    np.testing.assert_allclose(got, [10 * math.log(10), 50.0, 10 * math.log(10)])


def test_fit_refuses_inputs_beyond_float32():
    x, y = task(n=10)
    with pytest.raises(InvalidParameterError, match="x_train has entries beyond the range"):
        fit(MLP(12, seed=0), x * 1e40, y, epochs=1)


@pytest.mark.parametrize("name", ["on_epoch", "progress"])
def test_fit_checks_its_callbacks_before_training(name):
    x, y = task(n=10)
    net = MLP(12, seed=0)
    before = params(net)
    with pytest.raises(InvalidParameterError, match=f"{name} must be None or a callable; got int"):
        fit(net, x, y, epochs=1, **{name: 5})
    for got, want in zip(params(net), before, strict=True):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------
# fit and train_vib return the same kind of history


def _fit_run(x, y, progress):
    return fit(
        EnsembleMLP(2, 4, hidden=(3,)),
        x,
        y,
        epochs=3,
        x_test=x,
        y_test=y,
        progress=progress,
        random_state=0,
    )


def _vib_run(x, y, progress):
    torch.manual_seed(0)
    model = VIBClassifier(4, 2, encoder=(3,), dim=2)
    return train_vib(model, x, y, epochs=3, x_test=x, y_test=y, progress=progress, random_state=0)


@pytest.mark.parametrize(
    ("train", "kind", "rows_per_epoch"), [(_fit_run, TrainingHistory, 2), (_vib_run, VIBHistory, 1)]
)
def test_both_loops_return_a_history_and_report_progress_alike(train, kind, rows_per_epoch):
    rng = np.random.default_rng(0)
    x = rng.random((30, 4))
    y = (x[:, 0] > 0.5).astype(int)
    calls = []
    history = train(x, y, lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert isinstance(history, History) and isinstance(history, kind)
    with pytest.raises(AttributeError):
        history.epoch = None  # frozen
    n = len(history.epoch)
    assert history.train_acc.shape[0] == history.test_acc.shape[0] == n
    assert ((history.test_acc >= 0) & (history.test_acc <= 1)).all()
    frame = history.to_frame()
    assert len(frame) == n * rows_per_epoch
    np.testing.assert_array_equal(np.unique(frame["epoch"]), history.epoch)
    np.testing.assert_allclose(np.sort(frame["train_acc"]), np.sort(history.train_acc.ravel()))
    fields = history.to_dict()
    assert {"epoch", "train_acc", "test_acc"} <= set(fields)
    np.testing.assert_array_equal(fields["test_acc"], history.test_acc)


@pytest.mark.parametrize("train", [_fit_run, _vib_run])
def test_history_to_dict_is_plain_json_that_round_trips(train):
    rng = np.random.default_rng(0)
    x = rng.random((30, 4))
    y = (x[:, 0] > 0.5).astype(int)
    history = train(x, y, None)
    fields = history.to_dict()
    back = json.loads(json.dumps(fields))  # numpy arrays or int64 would not serialise
    assert set(back) == set(fields)
    for name, value in back.items():
        want = getattr(history, name)
        if isinstance(want, tuple):
            assert value == list(want)
        else:
            np.testing.assert_array_equal(np.asarray(value, dtype=float), want)
            assert not isinstance(fields[name], np.ndarray | np.generic)


def test_any_classifier_module_trains_like_an_mlp():
    # a plain torch module trains in the same loop, with an MLP's batches and numbers
    x, y = task(n=64)
    mlp = MLP(12, hidden=())  # no seed: both shuffle with random_state alone
    plain = torch.nn.Sequential(torch.nn.Linear(12, 2))
    plain.load_state_dict({"0.weight": mlp.out.weight, "0.bias": mlp.out.bias})
    kwargs = {"epochs": 3, "batch_size": 16, "random_state": 5, "x_test": x, "y_test": y}
    want, got = fit(mlp, x, y, **kwargs), fit(plain, x, y, **kwargs)
    assert got.seeds == (None,)
    np.testing.assert_allclose(got.train_loss, want.train_loss, rtol=1e-5)
    assert evaluate(plain, x, y)["loss"] == pytest.approx(got.train_loss[-1], rel=1e-6)


# ---------------------------------------------------------------------------
# the fused step: the autograd path's arithmetic, batches and checkpoints

ACTIVATION_NAMES = ["tanh", "relu", "sigmoid", "softsign", "softplus", "linear", "bounded_relu"]


def test_fused_adam_equals_a_torch_adam_loop():
    # full-batch Adam for 6 steps, written out with autograd and torch.optim.Adam
    x, y = task(n=40)
    ens = EnsembleMLP([2, 5], 12, hidden=(6, 4))
    reference = EnsembleMLP([2, 5], 12, hidden=(6, 4))
    fit(ens, x, y, epochs=6, optimizer="adam", lr=0.05)
    opt = torch.optim.Adam(reference.parameters(), lr=0.05)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    for _ in range(6):
        opt.zero_grad()
        logits = reference(xt)  # (S, n, C)
        loss = sum(torch.nn.functional.cross_entropy(z, yt) for z in logits)
        loss.backward()
        opt.step()
    for got, want in zip(params(ens), params(reference), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(params(ens)[0], params(EnsembleMLP([2, 5], 12, hidden=(6, 4)))[0])


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize(
    ("out_features", "options"),
    [
        (2, {"optimizer": "adam", "lr": 0.02, "batch_size": 16}),
        (3, {"optimizer": "sgd", "lr": 0.2, "momentum": 0.9, "batch_size": 15}),
        (1, {"optimizer": "sgd", "lr": 0.5}),
    ],
)
def test_fused_step_equals_the_autograd_path(activation, out_features, options):
    # every activation's derivative, softmax and sigmoid outputs, Adam and SGD with and
    # without momentum, minibatches with a shorter last batch, and the full batch
    x, y = task(n=40)
    labels = y if out_features < 3 else np.where(x[:, 0] > 0, 2, y)
    xt, yt = task(n=20, seed=3)
    runs = {}
    for fused in (True, False):
        for model in (
            EnsembleMLP([1, 8], 12, (7, 5), out_features, activation),
            MLP(12, (7, 5), out_features, activation, seed=8),
        ):
            assert _fusable(model)  # the fused step runs unless fused=False
            history = fit(
                model,
                x,
                labels,
                epochs=3,
                random_state=2,
                x_test=xt,
                y_test=yt,
                fused=fused,
                **options,
            )
            runs[fused, type(model)] = (params(model), history)
    for kind in (EnsembleMLP, MLP):
        (got, got_history), (want, want_history) = runs[True, kind], runs[False, kind]
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
            np.testing.assert_allclose(
                getattr(got_history, name), getattr(want_history, name), rtol=1e-5, atol=1e-6
            )
    # member 1 of the ensemble (seed 8) is the MLP of seed 8
    ens_params, mlp_params = runs[True, EnsembleMLP][0], runs[True, MLP][0]
    np.testing.assert_allclose(ens_params[0][1], mlp_params[0].T, rtol=1e-5, atol=1e-6)


def test_fused_runs_repeat_bit_for_bit_and_leave_independent_parameters():
    x, y = task()
    options = {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 0.01, "random_state": 4}
    a, b = EnsembleMLP([3, 6], 12), EnsembleMLP([3, 6], 12)
    ha, hb = fit(a, x, y, **options), fit(b, x, y, **options)
    for got, want in zip(params(a), params(b), strict=True):
        np.testing.assert_array_equal(got, want)
    pd.testing.assert_frame_equal(ha.to_frame(), hb.to_frame())
    # the flat buffers of training are gone: each parameter and gradient owns its storage
    tensors = [p for p in a.parameters()] + [p.grad for p in a.parameters()]
    assert len({t.untyped_storage().data_ptr() for t in tensors}) == len(tensors)


def test_a_hooked_model_trains_through_autograd_with_its_hooks_called():
    x, y = task(n=40)
    ens = EnsembleMLP([0, 1], 12, hidden=(5,))
    twin = EnsembleMLP([0, 1], 12, hidden=(5,))
    shapes = []
    ens.act1.register_forward_hook(lambda module, inputs, out: shapes.append(tuple(out.shape)))
    assert _fusable(twin) and not _fusable(ens)
    options = {"epochs": 2, "batch_size": 16, "optimizer": "adam", "lr": 0.01}
    fit(ens, x, y, **options)
    fit(twin, x, y, **options)
    # 3 batches of 16, 16, 8 per epoch, and the history's passes over the 40 rows
    assert shapes.count((2, 16, 5)) == 4 and shapes.count((2, 8, 5)) == 2
    for got, want in zip(params(ens), params(twin), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_fused_step_calls_tensor_hooks_with_the_gradients_autograd_gives_them():
    # a hook sees each batch's gradient of the weight, and one that returns a tensor
    # replaces it (here: halves it), on both paths alike
    x, y = task(n=40)
    options = {"epochs": 2, "batch_size": 16, "optimizer": "sgd", "lr": 0.1, "random_state": 3}
    seen, models = {}, {}
    for fused in (True, False):
        model = EnsembleMLP([0, 1], 12, hidden=(5,))
        seen[fused] = []
        model.fc1.weight.register_hook(lambda g, log=seen[fused]: log.append(g.clone()))
        model.out.weight.register_hook(lambda g: g / 2)
        assert _fusable(model)
        fit(model, x, y, fused=fused, **options)
        models[fused] = model
    assert len(seen[True]) == len(seen[False]) == 6  # 3 batches (16, 16, 8) per epoch
    for got, want in zip(seen[True], seen[False], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    for got, want in zip(params(models[True]), params(models[False]), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    halved = EnsembleMLP([0, 1], 12, hidden=(5,))
    fit(halved, x, y, **options)
    assert not np.allclose(params(halved)[-2], params(models[True])[-2])


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam", "lr": 0.01, "batch_size": 32},
        {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "batch_size": 32},
    ],
)
def test_a_fused_checkpoint_resumes_on_the_autograd_path(tmp_path, options):
    # the fused step keeps the optimiser state in torch.optim's format, step counts included
    x, y = task()
    full = EnsembleMLP((3, 4), 12, hidden=(5, 3))
    fit(full, x, y, epochs=6, random_state=1, **options)
    path = tmp_path / "run.pt"

    def crash_at_4(epoch):
        if epoch == 4:
            raise Crash

    with pytest.raises(Crash):
        fit(
            EnsembleMLP((3, 4), 12, hidden=(5, 3)),
            x,
            y,
            epochs=6,
            random_state=1,
            on_epoch=crash_at_4,
            checkpoint=path,
            checkpoint_every=3,
            **options,
        )
    resumed = EnsembleMLP((3, 4), 12, hidden=(5, 3))
    fit(resumed, x, y, epochs=6, random_state=1, checkpoint=path, fused=False, **options)
    for got, want in zip(params(resumed), params(full), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_fused_must_be_a_bool():
    x, y = task(n=10)
    with pytest.raises(InvalidParameterError, match="fused must be True or False; got 'yes'"):
        fit(MLP(12, seed=0), x, y, epochs=1, fused="yes")


def test_only_plain_models_without_hooks_take_the_fused_step():
    class Subclass(EnsembleMLP):
        pass

    frozen = EnsembleMLP(2, 12)
    frozen.fc1.bias.requires_grad_(False)
    hooked = MLP(12, seed=0)
    hooked.out.weight.register_post_accumulate_grad_hook(lambda p: None)
    tensor_hooked = MLP(12, seed=0)  # tensor hooks are the fused step's to call
    tensor_hooked.out.weight.register_hook(lambda g: g)
    assert _fusable(EnsembleMLP(2, 12, activation="softplus")) and _fusable(MLP(12, seed=0))
    assert _fusable(tensor_hooked)
    for model in (
        EnsembleMLP(2, 12, quantize_bits=4),
        Subclass(2, 12),
        frozen,
        hooked,
        torch.nn.Sequential(torch.nn.Linear(12, 2)),
    ):
        assert not _fusable(model)
    handle = torch.nn.modules.module.register_module_forward_hook(lambda *args: None)
    try:
        assert not _fusable(MLP(12, seed=0))
    finally:
        handle.remove()


@pytest.mark.parametrize("classes", [2, 3])
def test_member_losses_and_accuracies_equal_cross_entropy_and_argmax(classes):
    # two classes take a margin formula, more classes F.cross_entropy: both must agree
    # with the definitions, far into saturation and on ties (the first class wins)
    generator = torch.Generator().manual_seed(0)
    logits = 30 * torch.randn(3, 50, classes, generator=generator)
    logits[:, :5] = 0.0
    y = torch.randint(0, classes, (50,), generator=generator)
    want = torch.stack([torch.nn.functional.cross_entropy(z, y) for z in logits])
    torch.testing.assert_close(member_losses(logits, y, "softmax"), want, rtol=1e-6, atol=1e-6)
    # feature-major logits, (S, n, C) views of (S, C, n) arrays, as an ensemble returns them
    strided = logits.transpose(1, 2).contiguous().transpose(1, 2)
    torch.testing.assert_close(member_losses(strided, y, "softmax"), want, rtol=1e-6, atol=1e-6)
    accuracy = (logits.argmax(dim=-1) == y).double().mean(dim=1)
    got = _member_accuracies(strided, y, "softmax")
    torch.testing.assert_close(got.double(), accuracy)

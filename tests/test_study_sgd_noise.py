"""Minibatch SGD against full-batch descent: shared seeds and split, one step per epoch,
tables checked against values recomputed here from the recorded rows, bad settings."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

torch = pytest.importorskip("torch")

from torch.optim.optimizer import register_optimizer_step_post_hook  # noqa: E402

from ibkit._validation import DivergenceError, InvalidParameterError  # noqa: E402
from ibkit.datasets import tishby_12bit, train_test_split  # noqa: E402
from ibkit.nn import EnsembleMLP, gradient_snr, member_losses  # noqa: E402
from ibkit.study import (  # noqa: E402
    METRICS,
    SGDNoiseResult,
    plot_sgd_vs_full_batch,
    sgd_vs_full_batch,
)
from ibkit.study.sgd_noise import METHODS, PHASE_METRICS, gradient_phases  # noqa: E402

SETTINGS = {
    "activations": ("tanh",),
    "seeds": (3, 5),
    "epochs": 6,
    "n_points": 4,
    "hidden": (4, 3),
    "estimators": ("bin30[-1:1]", "bin0.07"),
    "learning_rates": {"sgd": (0.1,), "full_batch": (0.5, 1.0)},
}
N_TRAIN = math.floor(0.85 * 4096 + 0.5)  # train_test_split's rounding
SGD_STEPS = math.ceil(N_TRAIN / 256)


@pytest.fixture(scope="module")
def counted() -> tuple[SGDNoiseResult, int]:
    """The small study, and every optimizer step counted by a hook of the test's own."""
    steps = [0]

    def count(*args: object) -> None:
        steps[0] += 1

    handle = register_optimizer_step_post_hook(count)
    try:
        result = sgd_vs_full_batch(**SETTINGS)
    finally:
        handle.remove()
    return result, steps[0]


@pytest.fixture(scope="module")
def result(counted: tuple[SGDNoiseResult, int]) -> SGDNoiseResult:
    return counted[0]


def test_both_methods_train_on_the_same_split(result):
    expected = train_test_split(tishby_12bit().x, tishby_12bit().y, 0.85, random_state=0)
    for method in METHODS:
        assert_array_equal(result.train_index[f"{method}/tanh"], np.sort(expected.train_index))
    assert len(result.train_index["sgd/tanh"]) == N_TRAIN


def test_both_methods_start_from_the_same_weights(result):
    fresh = EnsembleMLP((3, 5), 12, (4, 3), 2, activation="tanh")
    weights = torch.cat([p.detach().reshape(2, -1) for p in fresh.parameters()], 1).double()
    for method in METHODS:
        assert_array_equal(result.initial_weights[f"{method}/tanh"], weights.numpy())
    # the same weights and split give the same epoch-0 points, losses and gradient SNR
    at_start = result.results[result.results["epoch"] == 0].sort_values(
        ["seed", "estimator", "layer_index"]
    )
    sgd, full = (at_start[at_start["method"] == m] for m in METHODS)
    for column in ("i_xt", "i_ty", "train_loss", "test_loss"):
        assert_array_equal(sgd[column].to_numpy(), full[column].to_numpy())
    start = result.phases.set_index(["method", "layer_index", "seed"])["snr_start"]
    assert_array_equal(start.loc["sgd"].to_numpy(), start.loc["full_batch"].to_numpy())


def test_full_batch_takes_one_step_per_epoch(counted):
    result, total = counted
    steps = result.tuning.set_index(["method", "lr"])["optimizer_steps"]
    epochs = SETTINGS["epochs"]
    assert steps[("full_batch", 0.5)] == epochs
    assert steps[("full_batch", 1.0)] == epochs
    assert steps[("sgd", 0.1)] == epochs * SGD_STEPS
    assert total == epochs * (SGD_STEPS + 2)  # the test's own count of every step


def test_the_learning_rate_kept_has_the_lowest_final_training_loss(result):
    tuning = result.tuning
    assert tuning["chosen"].sum() == 2 and not tuning["diverged"].any()
    grid = tuning[tuning["method"] == "full_batch"]
    best = grid.loc[grid["final_train_loss"].idxmin()]
    assert best["chosen"]
    assert set(result.results.query("method == 'full_batch'")["lr"]) == {best["lr"]}
    history = result.history[result.history["method"] == "full_batch"]
    final = history[history["epoch"] == SETTINGS["epochs"]]["train_loss"].mean()
    assert_allclose(best["final_train_loss"], final)


def test_the_summary_has_one_row_per_method_activation_estimator_and_layer(result):
    summary = result.to_frame()
    layers = ["act1", "act2", "output"]
    assert len(summary) == len(METHODS) * 2 * len(layers)
    assert set(summary["layer"]) == set(layers)
    for m in (*METRICS, *PHASE_METRICS):
        assert {m, f"{m}_low", f"{m}_high"} <= set(summary.columns)
    assert {"compresses", "n_transitions", "weights", "lr", "n_seeds"} <= set(summary.columns)
    pairs = summary.drop_duplicates("layer_index").set_index("layer")["weights"]
    assert pairs.to_dict() == {"act1": "fc1", "act2": "fc2", "output": "out"}
    wide = result.side_by_side(["drop_bits"])
    assert wide.shape[0] == 2 * len(layers)
    assert ("drop_bits_low", "full_batch") in wide.columns
    assert ("lr", "sgd") in wide.columns


def test_the_grid_summary_holds_every_rate_and_the_chosen_one_is_the_summary(result):
    grid = result.grid_summary
    assert sorted(set(zip(grid["method"], grid["lr"], strict=True))) == [
        ("full_batch", 0.5),
        ("full_batch", 1.0),
        ("sgd", 0.1),
    ]
    chosen = result.tuning.loc[result.tuning["chosen"], ["method", "lr"]]
    assert set(zip(result.summary["method"], result.summary["lr"], strict=True)) == set(
        zip(chosen["method"], chosen["lr"], strict=True)
    )


def test_compression_metrics_match_the_recorded_table(result):
    plane = result.results
    summary = result.summary.set_index(["method", "estimator", "layer"])
    t = stats.t.ppf(0.975, 1)
    for (method, estimator, layer), rows in plane.groupby(["method", "estimator", "layer"]):
        drops = []
        for _, trajectory in rows.groupby("seed"):
            i_xt = trajectory.sort_values("epoch")["i_xt"].to_numpy()
            drops.append(i_xt.max() - i_xt[-1])
        row = summary.loc[(method, estimator, layer)]
        assert_allclose(row["drop_bits"], np.mean(drops), atol=1e-12)
        half = t * np.std(drops, ddof=1) / np.sqrt(2)
        assert_allclose(row["drop_bits_low"], np.mean(drops) - half, atol=1e-12)
        assert_allclose(row["drop_bits_high"], np.mean(drops) + half, atol=1e-12)


def test_gradient_phases_match_the_recorded_snr(result):
    summary = result.summary.drop_duplicates(["method", "layer_index"])
    summary = summary.set_index(["method", "weights"])
    t = stats.t.ppf(0.975, 1)
    for (method, layer), rows in result.gradients.groupby(["method", "layer"]):
        crossings, ends = [], []
        for _, trajectory in rows.groupby("seed"):
            trajectory = trajectory.sort_values("epoch")
            below = trajectory["epoch"][trajectory["snr"] < 1]
            crossings.append(below.iloc[0] if len(below) else np.nan)
            ends.append(trajectory["snr"].iloc[-1])
        row = summary.loc[(method, layer)]
        found = [c for c in crossings if not np.isnan(c)]
        assert row["n_transitions"] == len(found)
        if found:
            assert_allclose(row["transition_epoch"], np.mean(found))
        else:
            assert np.isnan(row["transition_epoch"])
        log_end = np.log(ends)
        assert_allclose(row["snr_end"], np.exp(log_end.mean()))
        half = t * np.std(log_end, ddof=1) / np.sqrt(2)
        assert_allclose(row["snr_end_low"], np.exp(log_end.mean() - half))


def test_the_snr_is_that_of_minibatch_gradients_at_the_recorded_weights(result):
    """Epoch 0: fresh weights, the permutation seeded by (split_seed, 0), batches of 256."""
    task = tishby_12bit()
    split = train_test_split(task.x, task.y, 0.85, random_state=0)
    model = EnsembleMLP((3, 5), 12, (4, 3), 2, activation="tanh")
    x = torch.as_tensor(split.x_train, dtype=torch.float32)
    y = torch.as_tensor(split.y_train)
    order = np.random.default_rng([0, 0]).permutation(N_TRAIN)
    grads = []
    for start in range(0, N_TRAIN, 256):
        index = torch.as_tensor(order[start : start + 256])
        loss = member_losses(model(x[index]), y[index], "softmax").sum()
        grads.append(torch.autograd.grad(loss, model.fc2.weight)[0].double().numpy())
    stack = np.stack(grads)  # (batches, members, in, out)
    rows = result.gradients.query("method == 'sgd' and epoch == 0 and layer == 'fc2'")
    for member, seed in enumerate((3, 5)):
        mean_norm, std_norm, snr = gradient_snr(stack[:, member])
        row = rows[rows["seed"] == seed].iloc[0]
        assert row["n_batches"] == SGD_STEPS
        assert_allclose(
            row[["grad_mean_norm", "grad_std_norm", "snr"]].to_numpy(float),
            [mean_norm, std_norm, snr],
            rtol=1e-5,
        )


def test_to_dict_is_json(result):
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["settings"]["learning_rates"]["full_batch"] == [0.5, 1.0]
    assert len(data["summary"]) == len(result.summary)
    assert isinstance(result.to_frame(), pd.DataFrame)


def test_the_figure_has_both_planes_and_the_snr(result):
    fig = plot_sgd_vs_full_batch(result, estimator="bin0.07")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert any("minibatch SGD" in t for t in titles)
    assert any("full-batch GD" in t for t in titles)
    assert any("gradient SNR" in t for t in titles)
    fig = plot_sgd_vs_full_batch(result, estimator={"tanh": "bin30[-1:1]"})
    assert any("bin30[-1:1]" in ax.get_title() for ax in fig.axes)
    with pytest.raises(InvalidParameterError, match="estimator must be one of"):
        plot_sgd_vs_full_batch(result, estimator="kde0.1")
    with pytest.raises(InvalidParameterError, match="one for each of"):
        plot_sgd_vs_full_batch(result, estimator={"relu": "bin0.07"})
    with pytest.raises(InvalidParameterError, match="activations must be"):
        plot_sgd_vs_full_batch(result, activations=("relu",))
    with pytest.raises(InvalidParameterError, match="SGDNoiseResult"):
        plot_sgd_vs_full_batch(result.summary)


def test_a_diverging_rate_is_skipped_and_an_all_diverging_grid_raises():
    small = {**SETTINGS, "epochs": 3, "estimators": ("bin30[-1:1]",)}
    result = sgd_vs_full_batch(**{**small, "learning_rates": {"full_batch": (0.5, 1e4)}})
    tuning = result.tuning.set_index(["method", "lr"])
    assert tuning.loc[("full_batch", 1e4), "diverged"]
    assert not tuning.loc[("full_batch", 1e4), "chosen"]
    assert tuning.loc[("full_batch", 0.5), "chosen"]
    with pytest.raises(DivergenceError, match="every learning rate"):
        sgd_vs_full_batch(**{**small, "learning_rates": {"full_batch": (1e4,)}})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"activations": ("swish!",)}, "unknown activation"),
        ({"seeds": ()}, "seeds must be a non-empty"),
        ({"epochs": 0}, "epochs must be an integer"),
        ({"estimators": ("kde",)}, "unknown estimator"),
        ({"batch_size": N_TRAIN}, "batch_size must be smaller than the training set"),
        ({"learning_rates": {"adam": (0.1,)}}, "unknown method"),
        ({"learning_rates": {"sgd": ()}}, "non-empty sequence"),
        ({"learning_rates": {"sgd": (0.1, -1.0)}}, "must be a finite number > 0"),
        ({"learning_rates": {"sgd": (0.1, 0.1)}}, "must be distinct"),
        ({"learning_rates": (0.1,)}, "must be a dict"),
        ({"confidence": 1.0}, "confidence must be"),
        ({"say": "loud"}, "say"),
    ],
)
def test_bad_settings_are_refused(change, message):
    with pytest.raises(InvalidParameterError, match=message):
        sgd_vs_full_batch(**{**SETTINGS, **change})


def test_gradient_phases_by_hand():
    rows = pd.DataFrame(
        {
            "method": "full_batch",
            "activation": "relu",
            "layer": "fc2",
            "layer_index": 1,
            "seed": [0] * 4 + [1] * 4,
            "epoch": [0, 1, 5, 20] * 2,
            "snr": [3.0, 2.0, 1.5, 1.2, 2.0, 0.5, 1.5, 0.9],  # seed 0 never below 1
        }
    )
    phases = gradient_phases(rows.sample(frac=1.0, random_state=0))  # order is irrelevant
    assert phases["seed"].tolist() == [0, 1]
    assert_array_equal(phases["transition_epoch"], [np.nan, 1.0])
    assert_array_equal(phases["snr_start"], [3.0, 2.0])
    assert_array_equal(phases["snr_end"], [1.2, 0.9])


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([1, 2], "must be a pandas DataFrame"),
        (pd.DataFrame({"epoch": [0], "snr": [1.0]}), "lacks"),
        (
            pd.DataFrame(
                {
                    "method": "sgd",
                    "activation": "tanh",
                    "layer": "fc1",
                    "layer_index": 0,
                    "seed": 0,
                    "epoch": [3, 3],
                    "snr": [1.0, 2.0],
                }
            ),
            "repeats an epoch",
        ),
    ],
)
def test_gradient_phases_refuses_bad_tables(table, message):
    with pytest.raises(InvalidParameterError, match=message):
        gradient_phases(table)

"""Tests of the estimator-accuracy table against the tasks' known mutual information."""

import numpy as np
import pandas as pd
import pytest

from ibkit.datasets import discrete_task, gaussian_task, independent_task
from ibkit.estimators import get_estimator, resolve_estimators
from ibkit.study.accuracy import estimator_accuracy, summarize_accuracy


def test_table_has_one_row_per_cell_and_the_truth_of_each_task():
    tasks = {"g": gaussian_task(1, 0.6), "ind": independent_task(2)}
    table = estimator_accuracy(tasks, ["gaussian", "ksg"], n=(200, 400), seeds=(0, 1))
    assert len(table) == 2 * 2 * 2 * 2
    truth = table.groupby("task")["truth"].first()
    assert truth["g"] == pytest.approx(-0.5 * np.log2(1 - 0.36))
    assert truth["ind"] == 0.0
    assert table["error"].isna().all() and (table["seconds"] > 0).all()


def test_summary_statistics_match_a_hand_computation():
    # estimates 1, 2, 4 of a truth of 2: errors -1, 0, 2
    table = pd.DataFrame(
        {
            "task": "g",
            "n": 300,
            "estimator": "e",
            "seed": [0, 1, 2],
            "truth": 2.0,
            "estimate": [1.0, 2.0, 4.0],
            "seconds": [0.1, 0.2, 0.6],
        }
    )
    s = summarize_accuracy(table).iloc[0]
    assert s["truth"] == 2.0
    assert s["mean"] == pytest.approx(7 / 3)
    assert s["bias"] == pytest.approx(1 / 3)
    assert s["std"] == pytest.approx(np.sqrt(7 / 3))  # squared deviations sum to 14/3, over 2
    assert s["rmse"] == pytest.approx(np.sqrt(5 / 3))  # squared errors 1, 0, 4
    assert s["seconds"] == pytest.approx(0.3)
    assert s["n_seeds"] == 3


def test_estimates_are_those_of_the_estimator_on_the_same_sample():
    task = gaussian_task(2, 0.5)
    table = estimator_accuracy({"g": task}, {"k5": ("ksg", {"k": 5})}, n=(250,), seeds=(3,))
    x, y = task.sample(250, random_state=3)
    direct = get_estimator("ksg", k=5).estimate(x, y, random_state=3).value
    assert table["estimate"].iloc[0] == pytest.approx(direct)


def test_a_method_that_refuses_the_input_is_recorded_not_raised():
    # the noisy-layer estimators need integer labels for y; a continuous y is refused
    table = estimator_accuracy(
        {"g": gaussian_task(1, 0.5)}, ["kde", "gaussian"], n=(50,), seeds=(0,)
    )
    kde = table[table["estimator"] == "kde"].iloc[0]
    assert np.isnan(kde["estimate"]) and "integer labels" in kde["error"]
    assert table[table["estimator"] == "gaussian"]["error"].isna().all()


def test_discrete_task_with_plugin_is_close_to_truth():
    p = np.array([[0.4, 0.1], [0.1, 0.4]])
    table = estimator_accuracy({"d": discrete_task(p)}, ["plugin"], n=(20000,), seeds=(0,))
    # sd of the plug-in at this n: sd(pointwise MI) / sqrt(n) = 0.8 / 141 = 0.0057 bits
    assert abs(table["estimate"].iloc[0] - table["truth"].iloc[0]) < 4 * 0.0057


def test_bad_specs_are_clear_errors():
    with pytest.raises(ValueError, match="unknown method"):
        resolve_estimators(["nope"])
    with pytest.raises(ValueError, match="must be a method name, a"):
        resolve_estimators({"a": 3})
    with pytest.raises(ValueError, match="at least one"):
        resolve_estimators([])
    with pytest.raises(ValueError, match="two estimators are labelled"):
        resolve_estimators(["ksg", ("ksg")])
    with pytest.raises(ValueError, match="GroundTruthTask"):
        estimator_accuracy({"x": "not a task"}, ["ksg"])
    with pytest.raises(ValueError, match="lacks"):
        summarize_accuracy(
            estimator_accuracy({"g": gaussian_task()}, ["gaussian"], n=(50,), seeds=(0,)).drop(
                columns="truth"
            )
        )

"""Tests of ibkit.datasets against facts recorded from the authors' var_u.mat.

The constants below were computed once from var_u.mat (sha256 0ba95518...2036, see the
shared data notes); the tests do not need the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys

import numpy as np
import pytest
from scipy.io import savemat

from ibkit.datasets import DiscreteTask, load_var_u, tishby_12bit
from ibkit.datasets.tishby import ICOSAHEDRON_ANTIPODES, ICOSAHEDRON_NEIGHBORS
from ibkit.measures import conditional_entropy, entropy, mutual_information

#: sha256 of var_u.mat's ``y.astype(np.uint8).tobytes()``, rows in counting order.
VAR_U_Y_SHA256 = "77732f16f85e91b49d3997196b56163b3bd362d8cf631468a8de3f986e88359f"

#: Number of label-1 patterns of each Hamming weight w = 0..12 in var_u.mat.
VAR_U_ONES_BY_WEIGHT = (0, 0, 0, 0, 0, 60, 532, 732, 495, 220, 66, 12, 1)


def h2(eps: float) -> float:
    """Binary entropy in bits."""
    return 0.0 if eps == 0 else float(-eps * np.log2(eps) - (1 - eps) * np.log2(1 - eps))


@pytest.fixture(scope="module")
def task() -> DiscreteTask:
    return tishby_12bit()


def test_labels_match_var_u(task):
    assert task.y.dtype == np.int64
    assert task.y.shape == (4096,)
    assert hashlib.sha256(task.y.astype(np.uint8).tobytes()).hexdigest() == VAR_U_Y_SHA256
    assert task.y.sum() == 2118


def test_label_fractions_by_weight(task):
    weight = task.x.sum(axis=1).astype(int)
    ones = np.bincount(weight, weights=task.y, minlength=13)
    np.testing.assert_array_equal(ones, VAR_U_ONES_BY_WEIGHT)
    fractions = ones / np.bincount(weight)
    np.testing.assert_allclose(fractions[5:8], [0.076, 0.576, 0.924], atol=5e-4)


def test_inputs_are_all_patterns_in_counting_order(task):
    assert task.x.dtype == np.float64
    assert task.x.shape == (4096, 12)
    assert set(np.unique(task.x)) == {0.0, 1.0}
    np.testing.assert_array_equal(task.x @ 2.0 ** np.arange(11, -1, -1), np.arange(4096))
    np.testing.assert_array_equal(task.x[1], [0] * 11 + [1])
    np.testing.assert_array_equal(task.x[2048], [1] + [0] * 11)


def test_vertex_structure_is_the_icosahedron():
    adjacency = np.zeros((12, 12), dtype=int)
    for i, neighbors in enumerate(ICOSAHEDRON_NEIGHBORS):
        adjacency[i, list(neighbors)] = 1
    assert len(ICOSAHEDRON_NEIGHBORS) == 12
    np.testing.assert_array_equal(adjacency, adjacency.T)
    assert np.all(adjacency.sum(axis=1) == 5)
    assert adjacency.sum() // 2 == 30
    # Every neighbourhood is 2-regular on 5 vertices, hence a 5-cycle; the icosahedron
    # is the only connected graph with this property.
    for neighbors in ICOSAHEDRON_NEIGHBORS:
        assert np.all(adjacency[np.ix_(neighbors, neighbors)].sum(axis=1) == 2)
    # All-pairs graph distances (Floyd-Warshall); the diameter 3 also shows connectivity.
    distance = np.where(adjacency == 1, 1, 99)
    np.fill_diagonal(distance, 0)
    for k in range(12):
        distance = np.minimum(distance, distance[:, [k]] + distance[[k], :])
    assert distance.max() == 3
    assert np.all((distance == 3).sum(axis=1) == 1)
    antipodes = {(int(i), int(j)) for i, j in np.argwhere(distance == 3) if i < j}
    assert antipodes == set(ICOSAHEDRON_ANTIPODES)


def test_noise_free_joint(task):
    p = task.p_xy
    assert p.shape == (4096, 2)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1 / 4096)
    assert mutual_information(p) == pytest.approx(0.99916, abs=5e-6)
    assert mutual_information(p) == pytest.approx(entropy(p.sum(axis=0)), abs=1e-12)
    assert conditional_entropy(p) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("eps", [0.05, 0.25, 0.5])
def test_label_noise(eps):
    noisy = tishby_12bit(label_noise=eps)
    p = noisy.p_xy
    assert noisy.label_noise == eps
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert conditional_entropy(p) == pytest.approx(h2(eps), abs=1e-9)
    assert mutual_information(p) == pytest.approx(entropy(p.sum(axis=0)) - h2(eps), abs=1e-9)
    np.testing.assert_array_equal(noisy.y, tishby_12bit().y)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (-0.1, r"label_noise must be a finite number >= 0; got -0\.1"),
        (0.6, r"label_noise must be a finite number in \[0, 0\.5\]; got 0\.6"),
        (float("nan"), r"label_noise must be a finite number >= 0; got nan"),
        ("a", r"label_noise must be a real number; got 'a'"),
    ],
)
def test_bad_label_noise(value, match):
    with pytest.raises(ValueError, match=match):
        tishby_12bit(label_noise=value)


def test_task_is_frozen_and_converts_to_dict(task):
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.name = "other"
    assert task.to_dict().keys() == {"x", "y", "name", "label_noise"}
    assert task.to_dict()["name"] == "tishby_12bit"


def test_task_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"one label per row; got 3 rows of x and 2 labels"):
        DiscreteTask(np.eye(3), [0, 1])
    with pytest.raises(ValueError, match=r"y must hold labels 0 and 1; found values \[2\.0\]"):
        DiscreteTask(np.eye(3), [0, 1, 2])


@pytest.mark.parametrize("y_shape", [(1, 8), (8, 1)])
def test_load_var_u_round_trip(tmp_path, y_shape):
    F = np.array([[(r >> b) & 1 for b in (2, 1, 0)] for r in range(8)], dtype=np.uint8)
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1], dtype=np.uint8)
    path = tmp_path / "small.mat"
    savemat(path, {"F": F, "y": y.reshape(y_shape)})
    loaded = load_var_u(path, label_noise=0.1)
    assert loaded.name == "small"
    assert loaded.label_noise == 0.1
    np.testing.assert_array_equal(loaded.x, F.astype(np.float64))
    np.testing.assert_array_equal(loaded.y, y)


def test_load_var_u_bad_files(tmp_path):
    missing = tmp_path / "absent.mat"
    with pytest.raises(FileNotFoundError, match="absent.mat"):
        load_var_u(missing)
    not_mat = tmp_path / "text.mat"
    not_mat.write_text("not a MATLAB file")
    with pytest.raises(ValueError, match="text.mat.*not a readable MATLAB .mat file"):
        load_var_u(not_mat)
    only_f = tmp_path / "only_f.mat"
    savemat(only_f, {"F": np.eye(4), "labels": np.zeros(4)})
    with pytest.raises(
        ValueError, match=r"expected variables 'F' and 'y'; found \['F', 'labels'\]"
    ):
        load_var_u(only_f)
    short_y = tmp_path / "short_y.mat"
    savemat(short_y, {"F": np.eye(4), "y": np.zeros((1, 3))})
    with pytest.raises(ValueError, match=r"y must be a 1 x n or n x 1 vector with n = 4"):
        load_var_u(short_y)
    three_labels = tmp_path / "three.mat"
    savemat(three_labels, {"F": np.eye(4), "y": np.array([[0, 1, 2, 1]])})
    with pytest.raises(ValueError, match=r"y must hold labels 0 and 1; found values \[2\.0\]"):
        load_var_u(three_labels)


def test_import_needs_numpy_only():
    code = "import sys, ibkit.datasets; print(any(m.startswith('scipy') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

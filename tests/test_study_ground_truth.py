"""Ground-truth information planes: closed forms, Monte Carlo, exact plug-in, DPI, accuracy."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose

from ibkit.datasets import tishby_12bit
from ibkit.estimators import estimate_mi
from ibkit.study import (
    LinearSetting,
    discrete_layer_information,
    dpi_violations,
    ground_truth_plane,
    linear_layer_information,
    plane_accuracy,
)
from ibkit.study.ground_truth import _expected_loss


def gaussian_mi_bits(rho2: float) -> float:
    """I of two jointly Gaussian scalars with squared correlation rho2, in bits."""
    return -0.5 * math.log2(1.0 - rho2)


# ---------------------------------------------------------------------------
# the linear closed form


def test_one_unit_layer_by_hand():
    w, a, s2, sy2 = 1.7, -0.6, 0.3, 0.2
    info = linear_layer_information([[[w]]], [[a]], noise_variance=s2, teacher_noise=sy2)
    # I(X;T) = ½ log2(1 + w²/σ²); I(T;Y) from the correlation of T and Y
    rho2 = (w * a) ** 2 / ((w**2 + s2) * (a**2 + sy2))
    assert_allclose(info.i_xt[0], 0.5 * math.log2(1 + w**2 / s2), rtol=1e-12)
    assert_allclose(info.i_ty[0], gaussian_mi_bits(rho2), rtol=1e-12)
    assert info.i_xt_irr[0] == 0.0 and info.units[0] == "bits"


def test_noise_accumulates_along_the_layers_by_hand():
    w1, w2, s2 = 2.0, 0.5, 0.1
    info = linear_layer_information(
        [[[w1]], [[w2]]], [[1.0]], noise_variance=s2, teacher_noise=1.0, units="nats"
    )
    # T2 = w2 (w1 X + ξ1) + ξ2: Var(T2 | X) = σ²(w2² + 1)
    assert_allclose(info.i_xt[1], 0.5 * math.log(1 + (w1 * w2) ** 2 / (s2 * (1 + w2**2))))
    assert info.units[1] == "nats"


def test_relevant_and_irrelevant_inputs_by_hand():
    w_rel, w_irr, s2 = 1.5, 0.8, 0.4
    info = linear_layer_information(
        [[[w_rel, w_irr]]], [[1.0, 0.0]], noise_variance=s2, teacher_noise=0.5, n_relevant=1
    )
    # from one input's view the other is noise: I(X_1;T) = ½ log2(1 + w1²/(w2² + σ²))
    assert_allclose(info.i_xt_rel[0], 0.5 * math.log2(1 + w_rel**2 / (w_irr**2 + s2)))
    assert_allclose(info.i_xt_irr[0], 0.5 * math.log2(1 + w_irr**2 / (w_rel**2 + s2)))
    assert_allclose(info.i_xt[0], 0.5 * math.log2(1 + (w_rel**2 + w_irr**2) / s2))


def random_network(seed: int, widths=(6, 5, 7, 3), d_y=2):
    rng = np.random.default_rng(seed)
    dims = (widths[0], *widths[1:])
    weights = [rng.normal(size=(o, i)) for i, o in zip(dims[:-1], dims[1:], strict=True)]
    teacher = np.hstack([rng.normal(size=(d_y, 3)), np.zeros((d_y, widths[0] - 3))])
    return weights, teacher


def test_closed_form_matches_monte_carlo_of_the_noisy_network():
    weights, teacher = random_network(0)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 6))
    cov_x = a @ a.T / 6 + 0.5 * np.eye(6)
    s2, sy2, n = 0.3, 0.2, 200_000
    info = linear_layer_information(
        weights, teacher, noise_variance=s2, teacher_noise=sy2, n_relevant=3, input_cov=cov_x
    )
    # sample the network forward, independently of the covariance algebra
    x = rng.standard_normal((n, 6)) @ np.linalg.cholesky(cov_x).T
    y = x @ teacher.T + math.sqrt(sy2) * rng.standard_normal((n, 2))
    t = x
    for layer, w in enumerate(weights):
        t = t @ w.T + math.sqrt(s2) * rng.standard_normal((n, w.shape[0]))
        expected = info.iloc[layer]
        for value, (a_, b_) in {
            "i_xt": (x, t),
            "i_ty": (t, y),
            "i_xt_rel": (x[:, :3], t),
            "i_xt_irr": (x[:, 3:], t),
        }.items():
            mc = estimate_mi(a_, b_, method="gaussian").value
            assert_allclose(mc, expected[value], atol=0.02, err_msg=f"{value} layer {layer}")


def test_true_information_obeys_the_data_processing_inequality():
    for seed in range(5):
        # widening layers and large weights too: information can only be lost
        weights, teacher = random_network(seed, widths=(6, 9, 4, 8, 2))
        weights = [3.0 * w for w in weights]
        info = linear_layer_information(
            weights, teacher, noise_variance=0.05, teacher_noise=0.1, n_relevant=3
        )
        for column in ("i_xt", "i_ty", "i_xt_rel", "i_xt_irr"):
            assert (np.diff(info[column]) <= 1e-10).all(), (seed, column)
        # independent inputs: I(X;T) >= I(X_rel;T) + I(X_irr;T)
        assert (info.i_xt - info.i_xt_rel - info.i_xt_irr >= -1e-10).all()
        assert (info.i_ty <= gaussian_ty_bound(teacher, 0.1) + 1e-10).all()


def gaussian_ty_bound(teacher: np.ndarray, sy2: float) -> float:
    """I(X;Y) for X ~ N(0, I), Y = W* X + ε: ½ log2 det(I + W* W*ᵀ / σ_y²)."""
    return (
        0.5 * np.linalg.slogdet(np.eye(len(teacher)) + teacher @ teacher.T / sy2)[1] / math.log(2)
    )


def test_training_objective_is_the_expected_squared_error_of_the_noisy_network():
    weights, _ = random_network(2, widths=(4, 5, 3, 2))
    rng = np.random.default_rng(3)
    x, y, s2, draws = rng.normal(size=(5, 4)), rng.normal(size=(5, 2)), 0.3, 200_000
    params = [torch.from_numpy(w) for w in weights]
    exact = float(_expected_loss(params, torch.from_numpy(x), torch.from_numpy(y), s2))
    t = np.broadcast_to(x, (draws, *x.shape))
    for w in weights[:-1]:
        t = t @ w.T + math.sqrt(s2) * rng.standard_normal((draws, 5, w.shape[0]))
    mc = ((t @ weights[-1].T - y) ** 2).sum(axis=2).mean()
    assert_allclose(mc, exact, rtol=0.01)


# ---------------------------------------------------------------------------
# the linear plane


@pytest.fixture(scope="module")
def linear():
    return ground_truth_plane(
        "linear",
        estimators={"gaussian": "gaussian", "ksg": ("ksg", {"k": 3})},
        seeds=(0, 1),
        n_points=4,
        epochs=60,
        n_samples=1000,
        n_relevant=2,
        n_irrelevant=3,
        hidden=(4, 2),
    )


def test_linear_plane_puts_the_truth_beside_every_estimate(linear):
    r = linear.results
    # 2 seeds x 4 epochs x 2 layers x 2 estimators, the recorder's columns first
    assert len(r) == 2 * 4 * 2 * 2
    assert list(r.columns[:16]) == [
        "run", "seed", "member", "epoch", "layer", "layer_index", "is_output", "width",
        "estimator", "i_xt", "i_ty", "i_xt_lower", "i_xt_upper", "i_ty_lower", "i_ty_upper",
        "units",
    ]  # fmt: skip
    assert {"i_xt_true", "i_ty_true", "i_xt_rel_true", "i_xt_irr_true"} <= set(r.columns)
    assert sorted(r.epoch.unique()) == [0, 3, 14, 60]  # log-spaced, first and last
    # the Gaussian estimator is right for Gaussian variables (to its error on 1000 samples)
    g = r[r.estimator == "gaussian"]
    for column in ("i_xt", "i_ty", "i_xt_rel", "i_xt_irr"):
        assert_allclose(g[column], g[f"{column}_true"], atol=0.25)
    # each recorded truth is the closed form of that epoch's weights (the last one here)
    final = r[(r.epoch == r.epoch.max()) & (r.estimator == "ksg")]
    for member, model in enumerate(linear.models):
        rows = final[final.member == member]
        assert_allclose(rows.i_xt_true, model.information().i_xt, rtol=1e-12)
    # training lowers the loss
    h = linear.history
    assert (h.groupby("seed").train_loss.last() < h.groupby("seed").train_loss.first()).all()


def test_linear_truth_has_no_dpi_violation(linear):
    v = dpi_violations(
        linear.results, columns=("i_xt_true", "i_ty_true", "i_xt_rel_true", "i_xt_irr_true")
    )
    assert (v.filter(like="_violations") == 0).all().all()


def test_to_dict_is_plain_python(linear):
    d = linear.to_dict()
    assert d["kind"] == "linear" and d["setting"]["hidden"] == [4, 2]
    assert json.loads(json.dumps(d))["results"]["i_xt_true"] == d["results"]["i_xt_true"]
    assert all(type(v) in (int, float, str, bool) for v in d["results"]["i_xt_true"])
    assert linear.to_frame() is linear.results


def test_linear_samples_follow_the_network(linear):
    net = linear.models[0]
    x, layers, y = net.sample(50_000, random_state=0)
    assert x.shape == (50_000, 5) and [t.shape[1] for t in layers] == [4, 2]
    assert_allclose(np.cov(y.T), net.teacher @ net.teacher.T + 0.25 * np.eye(2), atol=0.03)


# ---------------------------------------------------------------------------
# the quantised plane


@pytest.fixture(scope="module")
def quantized():
    return ground_truth_plane(
        "quantized",
        estimators={
            "plugin": "plugin",
            "bin30[-1:1]": ("binning", {"n_bins": 30, "value_range": (-1.0, 1.0)}),
        },
        seeds=(0, 1),
        n_points=3,
        epochs=4,
        hidden=(5, 3),
        quantize_bits=3,
        lr=0.01,
    )


def numpy_quantized_truth(model, bits: int) -> list[tuple[float, float]]:
    """(H(T), I(T;Y)) of each hidden layer, from the 4096 inputs in float64 numpy."""
    task = tishby_12bit()
    levels = 2**bits - 1
    h = task.x
    out = []
    layers = model.linear_layers()[:-1]
    for layer in layers:
        w, b = layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()
        h = np.round((np.tanh(h @ w.T + b) + 1) / 2 * levels)  # level index 0..2^k-1
        h = -1 + 2 * h / levels
        _, code = np.unique(h, axis=0, return_inverse=True)
        joint = np.zeros((code.max() + 1, 2))
        np.add.at(joint, (code.ravel(), task.y), 1.0 / 4096)
        p_t, p_y = joint.sum(1), joint.sum(0)
        nz = joint > 0
        h_t = -(p_t * np.log2(p_t)).sum()
        i_ty = (joint[nz] * np.log2(joint[nz] / np.outer(p_t, p_y)[nz])).sum()
        out.append((h_t, i_ty))
    return out


def test_quantized_truth_equals_an_independent_enumeration(quantized):
    r = quantized.results
    last = r[(r.epoch == r.epoch.max()) & (r.estimator == "plugin")]
    for member, model in enumerate(quantized.models):
        rows = last[last.member == member].sort_values("layer_index")
        expected = np.array(numpy_quantized_truth(model, 3))
        assert_allclose(rows[["i_xt_true", "i_ty_true"]].to_numpy(), expected, atol=1e-9)


def test_plugin_on_a_quantized_layer_is_exact(quantized):
    r = quantized.results
    plugin = r[r.estimator == "plugin"]
    assert len(plugin) == 2 * 3 * 2  # seeds x epochs x layers
    assert_allclose(plugin.i_xt, plugin.i_xt_true, rtol=1e-12)
    assert_allclose(plugin.i_ty, plugin.i_ty_true, rtol=1e-12)
    # 30 bins on [-1, 1] separate the 8 levels of 3 bits: binning is exact here too
    binned = r[r.estimator == "bin30[-1:1]"]
    assert_allclose(binned.i_xt, binned.i_xt_true, rtol=1e-12)
    assert (r.i_xt_true <= 12 + 1e-12).all() and (r.i_ty_true <= 1.0).all()


def test_quantized_truth_has_no_dpi_violation(quantized):
    v = dpi_violations(quantized.results, columns=("i_xt_true", "i_ty_true"), tol=1e-12)
    assert (v[["i_xt_true_violations", "i_ty_true_violations"]] == 0).all().all()
    assert quantized.history.train_loss.notna().all()


def test_discrete_layer_information_by_hand():
    p_xy = np.array([[0.1, 0.2], [0.3, 0.0], [0.0, 0.4]])
    t = np.array([[1, 1], [1, 1], [0, 1]])
    info = discrete_layer_information({"a": t, "b": np.zeros(3)}, p_xy, units="nats")
    # T merges x0, x1: p(t) = (0.6, 0.4), p(t, y) = [[0.4, 0.2], [0, 0.4]]
    p_ty = np.array([[0.4, 0.2], [0.0, 0.4]])
    p_t, p_y = p_ty.sum(1), p_ty.sum(0)
    nz = p_ty > 0
    assert_allclose(info.i_xt[0], -(p_t * np.log(p_t)).sum(), rtol=1e-12)
    assert_allclose(info.i_ty[0], (p_ty[nz] * np.log(p_ty[nz] / np.outer(p_t, p_y)[nz])).sum())
    assert info.n_values.tolist() == [2, 1] and info.i_xt[1] == 0.0


# ---------------------------------------------------------------------------
# accuracy on the plane


def test_plane_accuracy_scores_errors_and_compression(linear):
    acc = plane_accuracy(linear.results, compression="i_xt_irr", min_drop=0.0)
    assert len(acc) == 2 * 2  # estimators x layers
    assert {"mae_i_xt", "mae_i_ty", "mae_i_xt_rel", "mae_i_xt_irr"} <= set(acc.columns)
    g = acc[acc.estimator == "gaussian"]
    assert (g.mae_i_xt < 0.25).all() and (g.compression_agreement.between(0, 1)).all()
    # by hand: recompute one MAE
    r = linear.results
    rows = r[(r.estimator == "ksg") & (r.layer == "T1")]
    row = acc[(acc.estimator == "ksg") & (acc.layer == "T1")].iloc[0]
    assert_allclose(row.mae_i_xt, (rows.i_xt - rows.i_xt_true).abs().mean(), rtol=1e-12)
    assert acc.layer.tolist() == ["T1", "T2", "T1", "T2"]


def test_plane_accuracy_converts_nats():
    plane = pd.DataFrame(
        {
            "run": "r", "activation": "a", "estimator": "e", "layer": "1", "layer_index": 0,
            "seed": 0, "epoch": [0, 1], "units": "nats",
            "i_xt": [math.log(2), 0.0], "i_xt_true": [0.0, 0.0],
            "i_ty": [0.0, 0.0], "i_ty_true": [0.0, 0.0],
        }
    )  # fmt: skip
    acc = plane_accuracy(plane)
    assert_allclose(acc.mae_i_xt, 0.5)  # 1 bit on one of two epochs
    assert_allclose(acc.est_drop, 1.0)  # the estimate falls 1 bit, the truth not at all
    assert_allclose(acc.true_drop, 0.0)
    assert acc.compression_agreement[0] == 0.0


def test_dpi_violations_counts_increases_between_adjacent_layers():
    plane = pd.DataFrame(
        {
            "run": "r", "activation": "a", "estimator": "e", "seed": [0] * 3 + [1] * 3,
            "epoch": 0, "layer_index": [0, 1, 2] * 2, "units": "bits",
            "i_xt": [5.0, 6.0, 4.0, 5.0, 4.0, 3.0], "i_ty": [1.0, 0.9, 0.8, 1.0, 0.9, 0.9],
        }
    )  # fmt: skip
    v = dpi_violations(plane)
    assert v.n_pairs[0] == 4
    # seed 0: 5 -> 6 rises by 1 bit (6 -> 4 falls); seed 1 falls: 1 of 4 pairs
    assert_allclose(v.i_xt_violations[0], 0.25)
    assert_allclose(v.i_xt_max_excess[0], 1.0)
    assert v.i_ty_violations[0] == 0.0 and v.i_ty_max_excess[0] == 0.0


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "relu"}, r"kind must be one of \['linear', 'quantized'\]; got 'relu'"),
        (
            {"kind": "linear", "activation": "tanh"},
            r"kind='linear' has no setting \['activation'\]",
        ),
        ({"kind": "linear", "estimators": ["kde"]}, r"plane methods \{'kde': 'kde'\}"),
        ({"kind": "linear", "noise_variance": 0}, "noise_variance must be a finite number > 0"),
        ({"kind": "linear", "hidden": ()}, "hidden must be a non-empty sequence"),
        ({"kind": "linear", "n_samples": 1}, "n_samples must be an integer >= 2"),
        ({"kind": "linear", "seeds": (1, 1)}, "seeds must be distinct"),
        ({"kind": "linear", "seeds": 3}, "seeds must be a non-empty sequence"),
        ({"kind": "linear", "n_points": 1}, "n_points must be an integer >= 2"),
        ({"kind": "linear", "progress": 3}, "progress must be None or a callable"),
        ({"kind": "quantized", "activation": "relu"}, "quantize_bits needs an activation"),
        ({"kind": "quantized", "quantize_bits": 30}, "quantize_bits must be at most 24"),
        ({"kind": "quantized", "train_size": 1.0}, "train_size must be a fraction"),
        ({"kind": "quantized", "optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"kind": "quantized", "estimators": ["ksg"], "epochs": 1}, "cannot place layers"),
    ],
)
def test_ground_truth_plane_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ground_truth_plane(**kwargs)


@pytest.mark.parametrize(
    ("weights", "teacher", "kwargs", "match"),
    [
        ([], [[1.0]], {}, "weights must be a non-empty list"),
        ([np.ones((2, 3)), np.ones((2, 4))], np.ones((1, 3)), {}, r"weights\[1\] has shape"),
        ([np.ones((2, 3))], np.ones((1, 2)), {}, r"teacher must have shape \(d_y, 3\)"),
        ([np.ones((2, 3))], np.ones((1, 3)), {"n_relevant": 4}, "n_relevant must be at most"),
        ([np.ones((2, 3))], np.ones((1, 3)), {"noise_variance": -1.0}, "noise_variance"),
        ([np.ones((2, 3))], np.ones((1, 3)), {"input_cov": np.ones((3, 3))}, "positive definite"),
        ([np.ones((2, 3))], np.ones((1, 3)), {"input_cov": np.eye(2)}, r"symmetric \(3, 3\)"),
        ([[[np.nan]]], [[1.0]], {}, "NaN or infinite"),
        ([[[1j]]], [[1.0]], {}, r"weights\[0\] is complex"),
    ],
)
def test_linear_layer_information_bad_input(weights, teacher, kwargs, match):
    settings = {"noise_variance": 0.1, "teacher_noise": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        linear_layer_information(weights, teacher, **settings)


def test_other_functions_bad_input():
    p_xy = np.full((4, 2), 0.125)
    with pytest.raises(ValueError, match="has 3 rows but p_xy has 4 inputs"):
        discrete_layer_information({"t": np.zeros((3, 1))}, p_xy)
    with pytest.raises(ValueError, match="activations must be a non-empty dict"):
        discrete_layer_information({}, p_xy)
    with pytest.raises(ValueError, match="p_xy sums to"):
        discrete_layer_information({"t": np.zeros(4)}, p_xy * 2)
    with pytest.raises(ValueError, match=r"lacks the columns \['i_xt_true', 'i_ty_true'"):
        plane_accuracy(pd.DataFrame({c: [0] for c in (
            "run", "seed", "activation", "estimator", "layer", "layer_index", "epoch",
            "i_xt", "i_ty", "units")}))  # fmt: skip
    with pytest.raises(ValueError, match="compression must be one of"):
        plane_accuracy(pd.DataFrame(), compression="i_ty")
    one_layer = pd.DataFrame(
        {"run": "r", "activation": "a", "estimator": "e", "seed": 0, "epoch": [0, 1],
         "layer_index": 0, "units": "bits", "i_xt": 1.0, "i_ty": 0.5}
    )  # fmt: skip
    with pytest.raises(ValueError, match="no network has two layers"):
        dpi_violations(one_layer)
    with pytest.raises(ValueError, match="columns and by must be sequences"):
        dpi_violations(one_layer, columns="i_xt")
    table = one_layer.assign(layer="1", i_xt_true=1.0, i_ty_true=0.5)
    with pytest.raises(ValueError, match="min_drop must be a finite number >= 0"):
        plane_accuracy(table, min_drop=-1.0)
    with pytest.raises(ValueError, match="n_irrelevant must be an integer >= 0"):
        LinearSetting(n_irrelevant=-1)

"""Diagnostics of estimates and information-plane points, checked against hand-computed
cases and against activations inspected independently of the estimators."""

import json
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose
from scipy.spatial.distance import pdist
from torch import nn

from ibkit.datasets import tishby_12bit
from ibkit.estimators import (
    CEILING_TOLERANCE_BITS,
    Diagnostics,
    SaturationWarning,
    get_estimator,
)
from ibkit.nn import MLP, InformationPlane, plane_points

TASK = tishby_12bit()
DIAGNOSTIC_COLUMNS = ["at_ceiling", "negative", "singleton_share", "bound_gap", "std_error"]


def _merged_pairs(n, k):
    """``n`` inputs whose first ``k`` pairs share a value: ``n - k`` distinct values."""
    t = np.arange(n)
    t[1 : 2 * k : 2] = t[0 : 2 * k : 2]
    return t


# -- estimates ------------------------------------------------------------------------


def test_plugin_singleton_share_and_ceiling_by_hand():
    # cells {0, 0}, {1}, {2}, {3}: 3 of 5 inputs alone; I(X;T) = H(T) = log2 5 - 0.4
    est = get_estimator("plugin").estimate(np.array([0, 0, 1, 2, 3]), np.arange(5))
    d = est.diagnostics
    assert_allclose(d.singleton_share, 3 / 5)
    assert_allclose(d.ceiling, math.log2(5))
    assert_allclose(est.value, math.log2(5) - 0.4)
    assert not d.at_ceiling and not d.negative and d.bound_gap is None


@pytest.mark.parametrize("k, at_ceiling", [(0, True), (4, True), (6, False), (50, False)])
def test_the_ceiling_tolerance_is_a_hundredth_of_a_bit(k, at_ceiling):
    # 1000 distinct inputs, k pairs merged: each pair of cells 1/n merges into one of 2/n,
    # so H(T) = log2 1000 - 2k/1000 bits: 0.008 bits below the ceiling for k = 4,
    # 0.012 for k = 6
    assert CEILING_TOLERANCE_BITS == 0.01
    est = get_estimator("plugin").estimate(_merged_pairs(1000, k), np.arange(1000))
    assert_allclose(est.value, math.log2(1000) - 2 * k / 1000, rtol=1e-12)
    assert_allclose(est.diagnostics.ceiling, math.log2(1000), rtol=1e-12)
    assert est.diagnostics.at_ceiling is at_ceiling
    assert_allclose(est.diagnostics.singleton_share, (1000 - 2 * k) / 1000)


def test_the_ceiling_of_repeated_labels_is_their_entropy_in_any_units():
    # labels 0, 0, 1, 2: H(Y) = 1.5 bits; distinct x determine y, so I = H(Y)
    x, y = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0, 0, 1, 2])
    bits = get_estimator("plugin").estimate(x, y)
    nats = get_estimator("plugin").estimate(x, y, units="nats")
    assert_allclose(bits.diagnostics.ceiling, 1.5)
    assert_allclose(nats.diagnostics.ceiling, 1.5 * math.log(2))
    assert bits.diagnostics.at_ceiling and nats.diagnostics.at_ceiling
    assert bits.diagnostics.singleton_share == 1.0


def test_binning_of_continuous_samples_reaches_log_n_when_every_sample_has_its_cell():
    x = np.random.default_rng(0).standard_normal(200)
    est = get_estimator("binning", n_bins=10**6).estimate(x, x)
    assert_allclose(est.diagnostics.ceiling, math.log2(200))
    assert est.diagnostics.at_ceiling and est.diagnostics.singleton_share == 1.0
    coarse = get_estimator("binning", n_bins=4).estimate(x, x)  # 2 bits at most
    assert not coarse.diagnostics.at_ceiling and coarse.diagnostics.singleton_share == 0.0


@pytest.mark.parametrize(
    "n, d, warns", [(1000, 5, True), (5000, 5, False), (1000, 20, True), (200, 1, False)]
)
def test_default_binning_warns_where_joint_cells_outnumber_samples(n, d, warns):
    # 5 + 5 Gaussian coordinates at n = 1000: 2^10 = 1024 cells for 1000 samples, and the
    # estimate of independent data is about (1024 - 63)/(2n) nats of bias; at n = 5000
    # the cells expect about 5 samples each and the bias falls to a fifth
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = get_estimator("binning").estimate(x, y)
        get_estimator("binning", n_bins=2).estimate(x, y)  # a grid the user chose: silent
    saturation = [w for w in caught if issubclass(w.category, SaturationWarning)]
    assert len(saturation) == int(warns)
    if warns:
        message = str(saturation[0].message)
        assert f"for {n} samples" in message and "ksg" in message
        assert saturation[0].filename == __file__  # points at the caller's line
        assert est.value > 0.5  # independent data: the bias the warning speaks of
    else:
        assert est.value < 0.2


@pytest.mark.parametrize("d2_over_2s2, upper_at_ceiling", [(12.0, True), (1.0, False)])
def test_kde_bound_gap_and_ceiling_in_closed_form(d2_over_2s2, upper_at_ceiling):
    # two inputs at distance 1: I_D = log 2 - log(1 + e^-D) with D = d²/2σ² (KL, upper)
    # and d²/8σ² (Bhattacharyya, lower), both in nats
    sigma2 = 1.0 / (2 * d2_over_2s2)
    est = get_estimator("kde", noise_variance=sigma2, dtype="float64").estimate(
        np.array([[0.0], [1.0]]), np.arange(2), units="nats"
    )
    upper = math.log(2) - math.log1p(math.exp(-d2_over_2s2))
    lower = math.log(2) - math.log1p(math.exp(-d2_over_2s2 / 4))
    assert_allclose([est.lower, est.upper], [lower, upper], rtol=1e-9)
    assert_allclose(est.diagnostics.bound_gap, upper - lower, rtol=1e-9)
    assert_allclose(est.diagnostics.ceiling, math.log(2))
    # the upper bound decides: at D = 12 it is 9e-6 bits below 1 bit, the lower 0.07
    assert est.diagnostics.at_ceiling is upper_at_ceiling
    assert est.diagnostics.singleton_share is None


def test_noisy_mc_gives_its_standard_error_and_the_ceiling_of_its_labels():
    t = np.array([[0.0], [0.0], [10.0], [10.0]])
    y = np.array([0, 0, 1, 2])  # H(Y) = 1.5 bits; far apart, the noisy layer knows y
    mc = get_estimator("noisy_mc", noise_variance=0.01, dtype="float64")
    est = mc.estimate(t, y, random_state=0)
    # every noisy copy lies 100 σ from the other cluster: each Monte Carlo term is
    # log 2 (to far below 1e-9 in float64), so the terms do not spread and the standard
    # error is 0
    assert est.std_error is not None
    assert_allclose(est.std_error, 0.0, atol=1e-9)
    assert_allclose(est.diagnostics.ceiling, 1.5)
    assert_allclose(est.value, 1.0, atol=1e-9)  # rows of labels 1 and 2 are equal
    assert not est.diagnostics.at_ceiling
    apart = np.array([[0.0], [10.0], [20.0]])  # three labels, 100 σ apart: I = log2 3
    far = mc.estimate(apart, y[1:], random_state=0)
    assert_allclose([far.value, far.diagnostics.ceiling], math.log2(3), atol=1e-9)
    assert far.diagnostics.at_ceiling
    assert_allclose(far.std_error, 0.0, atol=1e-9)  # every term is log 3
    # close rows: the terms spread and the standard error is positive
    near = get_estimator("noisy_mc", noise_variance=1.0).estimate(apart / 20, y[1:], random_state=0)
    assert near.std_error > 1e-3
    # in float32 (the default) the same, to the round-off of float32 kernel sums
    est32 = get_estimator("noisy_mc", noise_variance=0.01).estimate(t, y, random_state=0)
    assert_allclose([est32.value, est32.std_error], [1.0, 0.0], atol=1e-6)


@pytest.mark.parametrize("batch_size, ceiling", [(1000, math.log2(10)), (4, 2.0)])
def test_renyi_ceiling_is_log_of_the_rows_per_gram_matrix(batch_size, ceiling):
    t = np.arange(10.0)[:, None]
    est = get_estimator("renyi", kernel_width=1e-3, batch_size=batch_size)
    xt, _ = est.plane_point(t, np.arange(10), np.arange(10) % 2, random_state=0)
    # a kernel far narrower than the spacing: the Gram matrix is the identity
    assert_allclose(xt.diagnostics.ceiling, ceiling)
    assert_allclose(xt.value, ceiling, rtol=1e-9)
    assert xt.diagnostics.at_ceiling
    wide = get_estimator("renyi", kernel_width=3.0, batch_size=batch_size)
    assert not wide.plane_point(t, np.arange(10), np.arange(10) % 2)[0].diagnostics.at_ceiling


def test_renyi_ceiling_of_i_ty_is_the_label_entropy():
    # identity Gram matrix (a kernel far narrower than the spacing) and two balanced
    # labels: I(T;Y) = log 10 + log 2 - log 10 = 1 bit, the Renyi entropy of the labels
    t = np.arange(10.0)[:, None]
    est = get_estimator("renyi", kernel_width=1e-3, alpha=2.0)
    _, ty = est.plane_point(t, np.arange(10), np.arange(10) % 2, random_state=0)
    assert_allclose([ty.value, ty.diagnostics.ceiling], 1.0, rtol=1e-9)
    assert ty.diagnostics.at_ceiling
    uneven = np.r_[np.zeros(7, int), np.ones(3, int)]  # S_2 = -log2(0.7**2 + 0.3**2)
    _, ty = est.plane_point(t, np.arange(10), uneven, random_state=0)
    assert_allclose(ty.diagnostics.ceiling, -math.log2(0.58), rtol=1e-12)


def test_negative_values_are_flagged_and_continuous_methods_have_no_ceiling():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(2000), rng.standard_normal(2000)  # independent
    ksg = get_estimator("ksg").estimate(x, y, random_state=0)
    assert ksg.value < 0 and ksg.diagnostics.negative
    assert ksg.diagnostics.ceiling is None and not ksg.diagnostics.at_ceiling
    gauss = get_estimator("gaussian").estimate(x, 0.5 * x + y)
    assert gauss.value > 0 and gauss.diagnostics == Diagnostics()
    # Miller-Madow subtracts more than the plug-in exceeds on independent labels
    a, b = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    for mm in (False, True):
        est = get_estimator("plugin", miller_madow=mm).estimate(a, b)
        assert est.diagnostics.negative is (est.value < 0)


def test_diagnostics_are_plain_in_to_dict_and_survive_pickling():
    est = get_estimator("kde", noise_variance=0.1).estimate(np.arange(6.0), np.arange(6))
    d = est.to_dict()
    assert json.loads(json.dumps(d))["diagnostics"] == {
        "negative": False,
        "ceiling": est.diagnostics.ceiling,
        "at_ceiling": est.diagnostics.at_ceiling,
        "bound_gap": est.diagnostics.bound_gap,
        "singleton_share": None,
    }
    assert all(type(v) in (bool, float, type(None)) for v in d["diagnostics"].values())
    assert pickle.loads(pickle.dumps(est)).diagnostics == est.diagnostics
    with pytest.raises(AttributeError):
        est.diagnostics.at_ceiling = False  # frozen


# -- plane points ---------------------------------------------------------------------


def test_plane_rows_carry_the_diagnostics_of_both_coordinates():
    # 8 distinct inputs; "fine" puts each in its own cell (log2 8 = 3 bits), "pairs"
    # shares every cell between two inputs
    acts = {"fine": np.arange(8.0)[:, None], "pairs": np.repeat(np.arange(4.0), 2)[:, None]}
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    estimators = {
        "bin": ("binning", {"bin_size": 1.0}),
        "kde": ("kde", {"noise_variance": 0.3}),
        "mc": ("noisy_mc", {"noise_variance": 0.3, "n_mc": 3}),
    }
    with pytest.warns(SaturationWarning):
        rows = plane_points(acts, y, estimators=estimators).set_index(["layer", "estimator"])
    assert list(rows.columns[-5:]) == DIAGNOSTIC_COLUMNS
    fine, pairs = rows.loc[("fine", "bin")], rows.loc[("pairs", "bin")]
    assert fine.at_ceiling and fine.singleton_share == 1.0
    assert not pairs.at_ceiling and pairs.singleton_share == 0.0
    assert_allclose([fine.i_xt, pairs.i_xt], [3.0, 2.0])
    kde = rows.loc[("fine", "kde")]
    gaps = [kde.i_xt_upper - kde.i_xt_lower, kde.i_ty_upper - kde.i_ty_lower]
    assert_allclose(kde.bound_gap, max(gaps))
    assert np.isnan(kde.singleton_share) and np.isnan(kde.std_error)
    # the first layer's draws are those of a fresh generator seeded 0 (random_state=0)
    est = get_estimator("noisy_mc", noise_variance=0.3, n_mc=3)
    mc = est.plane_point(acts["fine"], np.arange(8), y, random_state=0)
    assert_allclose(rows.loc[("fine", "mc"), "std_error"], max(e.std_error for e in mc))
    assert rows.loc[("pairs", "mc"), "std_error"] > 0
    assert rows["negative"].dtype == bool and not rows["negative"].any()


def test_plane_points_warn_once_per_saturated_layer_and_estimator_with_advice():
    acts = {"wide": np.arange(64.0)[:, None], "narrow": np.arange(64.0)[:, None] // 8}
    with pytest.warns(SaturationWarning) as record:
        plane_points(acts, np.arange(64) % 2, estimators={"b1": ("binning", {"bin_size": 1.0})})
    assert len(record) == 1  # "narrow" has 8 cells of 8 inputs: 3 of 6 bits
    message = str(record[0].message)
    assert message.startswith("layer 'wide' (1 units) sits at the ceiling of estimator 'b1': ")
    assert "I(X;T) = 6.00 bits" in message
    for advice in ("{'n_bins': 10}", "'bin_size'", "'noise_relative': True", "another estimator"):
        assert advice in message


def _task_subset(n, seed=0):
    idx = np.random.default_rng(seed).choice(len(TASK.y), n, replace=False)
    return torch.tensor(TASK.x[idx], dtype=torch.float32), torch.tensor(TASK.y[idx])


def test_a_wide_random_layer_warns_under_the_default_estimators(recwarn):
    x, y = _task_subset(1200)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 256), nn.Tanh(), nn.Linear(256, 2))
    plane = InformationPlane(model, x, y, output=None)  # ("binning", "kde") by default
    with plane:
        plane.record(0)
        plane.record(1)
    warned = [str(w.message) for w in recwarn if w.category is SaturationWarning]
    assert [m.split(":")[0] for m in warned] == [
        "layer '1' (256 units) sits at the ceiling of estimator 'binning'",
        "layer '1' (256 units) sits at the ceiling of estimator 'kde'",
    ]  # once each, though both epochs sit there
    assert plane.results["at_ceiling"].all()
    assert_allclose(plane.results["i_xt"], math.log2(1200), atol=CEILING_TOLERANCE_BITS)
    # independently: 2 equal-mass bins per unit (the default for 256 coordinates and
    # 1200 rows) tell all 1200 inputs apart, and the nearest two noisy copies
    # (σ² = 1e-3) overlap by less than 1e-3 in total, so I_KL >= log2 n - log2(1.001)
    t = torch.tanh(model[0](x)).detach().numpy().astype(np.float64)
    above = t > np.median(t, axis=0)
    assert len(np.unique(above, axis=0)) == 1200
    assert 1199 * math.exp(-(pdist(t).min() ** 2) / (2 * 1e-3)) < 1e-3


def _capture(model, x, names):
    """The activations of the named modules of ``model`` on ``x``, outside the recorder."""
    out, handles = {}, []
    for name in names:
        module = model.get_submodule(name)
        handles.append(
            module.register_forward_hook(lambda m, i, o, name=name: out.__setitem__(name, o))
        )
    with torch.no_grad():
        model.eval()
        model(x)
    model.train()
    for handle in handles:
        handle.remove()
    return {name: a.numpy().astype(np.float32).astype(np.float64) for name, a in out.items()}


def _counts_30_bins(t):
    """How many inputs share each row of ``t`` on 30 equal bins spanning its values (the
    ``n_bins=30`` grid)."""
    codes = np.clip(np.floor((t - t.min()) / (t.max() - t.min()) * 30), 0, 29)
    return np.unique(codes, axis=0, return_counts=True)[1]


def test_the_12_bit_network_warns_for_exactly_the_layers_at_12_bits():
    model = MLP(12, seed=0)  # 12-10-7-5-4-3-2, tanh
    x, y = torch.tensor(TASK.x, dtype=torch.float32), torch.tensor(TASK.y)
    layers = [f"act{i}" for i in range(1, 6)]
    plane = InformationPlane(model, x, y, {"bin30": ("binning", {"n_bins": 30})}, output=None)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    counts = {}
    with warnings.catch_warnings(record=True) as record, plane:
        warnings.simplefilter("always")
        for epoch in range(4):
            for _ in range(5):
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
            plane.record(epoch)
            for name, t in _capture(model, x, layers).items():
                counts[name, epoch] = _counts_30_bins(t)
    # the layers at 12 bits: all 4096 inputs in binned rows of their own, at some epoch
    at_12_bits = {name for (name, _), c in counts.items() if len(c) == 4096}
    assert at_12_bits and at_12_bits != set(layers)
    saturation = [w for w in record if issubclass(w.category, SaturationWarning)]
    assert sorted(str(w.message).split("'")[1] for w in saturation) == sorted(at_12_bits)
    # per point: H(T) of the binned rows within 0.01 bits of 12 (a layer with a few
    # inputs sharing rows, e.g. 4095 distinct rows, H = 11.9995 bits, is at it too)
    expected = {
        key: 12 - (-(c / 4096) @ np.log2(c / 4096)) <= CEILING_TOLERANCE_BITS
        for key, c in counts.items()
    }
    flags = plane.results.set_index(["layer", "epoch"])["at_ceiling"]
    assert {key: bool(flag) for key, flag in flags.items()} == expected


# -- tables ---------------------------------------------------------------------------


def _record(path, epochs):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 2))
    x, y = _task_subset(200, seed=1)
    plane = InformationPlane(model, x, y, ["binning", "kde"], path=path, run="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        with plane:
            for epoch in range(epochs):
                with torch.no_grad():
                    model[0].weight.mul_(0.7)  # a deterministic change per epoch
                plane.record(epoch)
    return plane


def test_a_table_written_before_the_diagnostics_resumes_with_them_empty(tmp_path):
    full = _record(tmp_path / "full.csv", 4).results
    old = tmp_path / "old.csv"
    _record(old, 2)
    pd.read_csv(old).drop(columns=DIAGNOSTIC_COLUMNS).to_csv(old, index=False)
    resumed = _record(old, 4)
    assert resumed.recorded_epochs() == {0, 1, 2, 3}
    table = pd.read_csv(old)
    assert list(table.columns) == list(full.columns)
    early = table["epoch"] < 2
    assert table.loc[early, DIAGNOSTIC_COLUMNS].isna().all().all()  # not recomputed
    pd.testing.assert_frame_equal(  # the new rows' at_ceiling is read back among NaN
        table[~early].reset_index(drop=True),
        full[full["epoch"] >= 2].reset_index(drop=True),
        check_dtype=False,
    )
    kept = [c for c in full.columns if c not in DIAGNOSTIC_COLUMNS]
    pd.testing.assert_frame_equal(table[kept], full[kept])

"""The information-plane recorder, checked against closed forms, invariances and bounds."""

import math
import tracemalloc
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from ibkit.datasets import tishby_12bit
from ibkit.estimators import MIEstimator, get_estimator
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.plane import InformationPlane, plane_points
from ibkit.nn.schedule import EpochSchedule, log_spaced_epochs

TASK = tishby_12bit()


def _tanh_net(widths=(12, 10, 7, 5, 4, 3, 2), seed=0):
    torch.manual_seed(seed)
    layers = OrderedDict()
    for i, (a, b) in enumerate(zip(widths[:-2], widths[1:-1], strict=True), start=1):
        layers[f"fc{i}"] = nn.Linear(a, b)
        layers[f"act{i}"] = nn.Tanh()
    layers["out"] = nn.Linear(widths[-2], widths[-1])
    return nn.Sequential(layers)


def _h2(p):
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


class _Spy(MIEstimator):
    """An estimator that keeps what the recorder hands it and returns 0."""

    name = "spy"

    def __init__(self):
        super().__init__()
        self.seen, self.x_labels = [], []

    def plane_point(self, t, x_labels, y_labels, *, units="bits", random_state=None):
        self.seen.append(t.copy())
        self.x_labels.append(np.array(x_labels))
        return super().plane_point(t, x_labels, y_labels, units=units, random_state=random_state)

    def _estimate_nats(self, samples, rng):
        return 0.0, None, None, None


def _all_forward_hooks(model):
    return [h for m in model.modules() for h in m._forward_hooks]


# -- coordinates against truth --------------------------------------------------------


def test_invertible_first_layer_gives_log2_n_and_all_label_information():
    # tanh(W x) with W invertible maps the 4096 distinct inputs to 4096 distinct points;
    # with a fine grid every point has its own bin: I(X;T) = H(T) = log2 4096 = 12 bits
    # and I(T;Y) = I(X;Y) = H(Y) = h2(2118 / 4096).
    model = nn.Sequential(nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 2))
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((12, 12)))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(2 * q, dtype=torch.float32))
        model[0].bias.zero_()
    fine = get_estimator("binning", n_bins=10**6)
    plane = InformationPlane(model, TASK.x, TASK.y, {"fine": fine}, output=None)
    with plane:
        plane.record(0)
    row = plane.results.iloc[0]
    assert row.layer == "1" and row.width == 12
    np.testing.assert_allclose(row.i_xt, 12.0, rtol=1e-12)
    np.testing.assert_allclose(row.i_ty, _h2(2118 / 4096), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binned_coordinates_obey_the_probe_bounds(seed):
    # Probe with every input twice and some labels flipped on the copy, so that
    # I(X;Y) < H(Y). A binned layer is a function of X on the probe, hence
    # I(T;Y) <= I(X;Y), I(T;Y) <= H(T) = I(X;T) and I(X;T) <= log2(#inputs).
    x = np.concatenate([TASK.x[:256], TASK.x[:256]])
    y = np.concatenate(
        [TASK.y[:256], np.where(np.arange(256) % 5 == 0, 1 - TASK.y[:256], TASK.y[:256])]
    )
    _, x_labels = np.unique(x, axis=0, return_inverse=True)
    i_xy = get_estimator("plugin").estimate(x_labels.reshape(-1), y).value
    assert i_xy < get_estimator("plugin").estimate(y, y).value - 0.05  # really noisy
    plane = InformationPlane(_tanh_net(seed=seed), x, y, ["binning"])
    with plane:
        plane.record(0)
    r = plane.results
    assert len(r) == 6  # five hidden layers and the output
    assert (r.i_ty <= i_xy + 1e-12).all()
    assert (r.i_ty <= r.i_xt + 1e-12).all()
    assert (r.i_xt <= 8 + 1e-12).all()


def test_duplicate_probe_rows_count_as_one_input():
    # X is uniform over the distinct inputs: a copy of a row is the same input, and
    # doubling every probe row changes neither the mixture of the noisy layer nor
    # p(t|x), so the KDE coordinates are unchanged.
    x, y = TASK.x[:128], TASK.y[:128]
    model = _tanh_net()
    tables = []
    for reps in (1, 2):
        spy = _Spy()
        plane = InformationPlane(
            model, np.tile(x, (reps, 1)), np.tile(y, reps), {"kde": "kde", "spy": spy}
        )
        with plane:
            plane.record(0)
        tables.append(plane.results[plane.results.estimator == "kde"].reset_index())
    x_labels = spy.x_labels[0]
    assert len(np.unique(x_labels)) == 128
    np.testing.assert_array_equal(x_labels[:128], x_labels[128:])
    np.testing.assert_allclose(tables[1].i_xt, tables[0].i_xt, rtol=1e-9)
    np.testing.assert_allclose(tables[1].i_ty, tables[0].i_ty, rtol=1e-9)
    assert (tables[0].i_xt_upper <= 7 + 1e-9).all()  # KDE upper bound <= log2 128


def test_plane_points_of_given_activations():
    t = np.repeat(np.eye(4), 2, axis=0)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    table = plane_points({"a": t, "b": t[:, :1]}, y, estimators="binning")
    # a: 4 equally likely codes, each inside one class: H(T) = 2, I(T;Y) = H(Y) = 1.
    # b: code 1 on 2 rows (class 0), code 0 on 6 rows (2 of class 0, 4 of class 1):
    # H(T) = h2(1/4), I(T;Y) = H(Y) - 3/4 h2(1/3).
    np.testing.assert_allclose(table.i_xt, [2.0, _h2(0.25)], rtol=1e-12)
    np.testing.assert_allclose(table.i_ty, [1.0, 1 - 0.75 * _h2(1 / 3)], rtol=1e-12)
    assert table.layer_index.tolist() == [0, 1] and table.width.tolist() == [4, 1]
    with pytest.raises(ValueError, match="same 8 probe rows"):
        plane_points({"a": t, "b": t[:3]}, y)


# -- layers and the output ------------------------------------------------------------


def test_output_layer_is_reported_separately():
    spy = _Spy()
    model = _tanh_net(widths=(12, 6, 3))
    plane = InformationPlane(model, TASK.x[:64], TASK.y[:64], {"spy": spy})
    with plane:
        plane.record(0)
    r = plane.results
    assert r.layer.tolist() == ["act1", "output"]
    assert r.is_output.tolist() == [False, True]
    assert r.layer_index.tolist() == [0, 1] and r.width.tolist() == [6, 3]
    probs = spy.seen[1]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    with torch.no_grad():
        logits = model(torch.tensor(TASK.x[:64], dtype=torch.float32)).numpy()
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-5)

    spy.seen.clear()
    with InformationPlane(model, TASK.x[:64], TASK.y[:64], {"spy": spy}, output="logits") as p:
        p.record(0)
    np.testing.assert_allclose(spy.seen[1], logits, rtol=1e-6)
    with InformationPlane(model, TASK.x[:64], TASK.y[:64], "binning", output=None) as p:
        p.record(0)
    assert p.results.layer.tolist() == ["act1"]


def test_single_output_unit_gives_two_class_probabilities():
    spy = _Spy()
    model = nn.Sequential(nn.Linear(12, 4), nn.ReLU(), nn.Linear(4, 1))
    with InformationPlane(model, TASK.x[:32], TASK.y[:32], {"s": spy}) as plane:
        plane.record(0)
    with torch.no_grad():
        p1 = torch.sigmoid(model(torch.tensor(TASK.x[:32], dtype=torch.float32))).numpy()
    np.testing.assert_allclose(spy.seen[1], np.hstack([1 - p1, p1]), rtol=1e-5, atol=1e-7)


class _Branchy(nn.Module):
    """Registers modules in an order different from the one they run in."""

    def __init__(self):
        super().__init__()
        self.late = nn.Sigmoid()
        self.unused = nn.ReLU()
        self.block = nn.Sequential(nn.Linear(12, 5), nn.Tanh())
        self.head = nn.Linear(5, 2)

    def forward(self, x):
        return self.head(self.late(self.block(x)))


def test_default_layers_are_activations_in_the_order_they_run():
    plane = InformationPlane(_Branchy(), TASK.x[:16], TASK.y[:16], "binning")
    with plane:
        assert plane.layer_names == ["block.1", "late", "output"]
        plane.record(0)
    assert plane.results.layer_index.tolist() == [0, 1, 2]


def test_layers_by_name():
    plane = InformationPlane(_Branchy(), TASK.x[:16], TASK.y[:16], "binning", layers=["block.0"])
    with plane:
        plane.record(0)
    assert plane.results.layer.tolist() == ["block.0", "output"]
    assert plane.results.width.tolist() == [5, 2]


def test_chunked_probe_forward_gives_the_same_table():
    model = _tanh_net()
    tables = []
    for batch_size in (None, 37):
        plane = InformationPlane(
            model, TASK.x[:200], TASK.y[:200], ["binning", "kde"], batch_size=batch_size
        )
        with plane:
            plane.record(0)
        tables.append(plane.results)
    pd.testing.assert_frame_equal(tables[0], tables[1])


# -- hooks, autograd, memory ----------------------------------------------------------


def test_hooks_removed_on_exit_on_error_and_on_failed_attach():
    model = _tanh_net()
    plane = InformationPlane(model, TASK.x[:32], TASK.y[:32], "binning", track_gradients=True)
    with plane:
        # the layers are hooked for the recorder's own passes only: training sees none
        assert _all_forward_hooks(model) == []
        assert model.fc1.weight._backward_hooks
        during = []
        model.fc1.register_forward_hook(lambda *_: during.append(len(_all_forward_hooks(model))))
        plane.record(0)
        assert set(during) == {1 + 6} and _all_forward_hooks(model) != []
        model.fc1._forward_hooks.clear()
    assert _all_forward_hooks(model) == []
    assert not any(p._backward_hooks for p in model.parameters())
    with pytest.raises(RuntimeError, match="crash"), plane:
        raise RuntimeError("crash")
    assert _all_forward_hooks(model) == []
    bad = InformationPlane(model, np.zeros((8, 5)), np.zeros(8, dtype=int), "binning")
    with pytest.raises(ValueError, match=r"probe shape \(8, 5\)"), bad:
        pass
    assert _all_forward_hooks(model) == []
    plane.attach()
    plane.detach()
    assert _all_forward_hooks(model) == []


def test_an_attached_recorder_leaves_the_fused_step_its_numbers():
    # between its own passes the recorder leaves no module hook, and the gradient hooks
    # are called by the fused step: training with a recorder attached fuses, and its
    # plane and gradient statistics are those of the autograd path
    from ibkit.nn import fit
    from ibkit.nn.training import _fusable

    x, y = TASK.x[:256], TASK.y[:256]
    tables = {}
    for fused in (True, False):
        model = EnsembleMLP([0, 1], 12, hidden=(6, 4))
        plane = InformationPlane(model, x, y, "binning", track_gradients=True)
        with plane:
            assert _fusable(model)
            fit(model, x, y, epochs=3, batch_size=64, optimizer="adam", lr=0.01,
                on_epoch=plane.record, fused=fused)  # fmt: skip
        tables[fused] = plane.results, plane.gradients
    for got, want in zip(tables[True], tables[False], strict=True):
        pd.testing.assert_frame_equal(got, want, rtol=1e-5, atol=1e-6)
    gradients = tables[True][1]
    assert set(gradients.epoch) == {0, 1, 2, 3}
    assert (gradients.n_batches == np.where(gradients.epoch > 0, 4, 0)).all()  # 256 / 64


@pytest.mark.parametrize("training", [True, False])
def test_record_keeps_no_autograd_graph_and_restores_the_mode(training):
    model = _tanh_net()
    model.train(training)
    seen = []
    model.act2.register_forward_hook(
        lambda m, i, o: seen.append((o.requires_grad, o.grad_fn, m.training))
    )
    with InformationPlane(model, TASK.x[:32], TASK.y[:32], "binning") as plane:
        seen.clear()
        plane.record(0)
    assert seen and set(seen) == {(False, None, False)}  # one pass per later layer
    assert model.training is training
    assert all(p.grad is None for p in model.parameters())


def test_buffers_do_not_grow_across_epochs():
    # Activation buffers are freed after each record: memory grows only by the table
    # rows, far less than one layer's buffer (4096 x 64 float32 = 1 MiB).
    model = nn.Sequential(nn.Linear(12, 64), nn.Tanh(), nn.Linear(64, 2))
    with InformationPlane(model, TASK.x, TASK.y, "binning", output=None) as plane:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for epoch in range(8):
                plane.record(epoch)
            growth = tracemalloc.get_traced_memory()[0] - before
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert growth < 4096 * 64 * 4 / 4
    assert peak >= 4096 * 64 * 4  # the buffer did exist while recording


def _captured_layers(monkeypatch):
    """The activations the recorder hands the estimators, by layer (filled as it records)."""
    import ibkit.nn.plane as plane_module

    captured = {}
    original = plane_module._layer_rows

    def spy(index, layer, t, *args, **kwargs):
        captured[layer] = t
        return original(index, layer, t, *args, **kwargs)

    monkeypatch.setattr(plane_module, "_layer_rows", spy)
    return captured


def test_cpu_model_hands_host_arrays_to_the_estimators(monkeypatch):
    captured = _captured_layers(monkeypatch)
    with InformationPlane(_tanh_net(), TASK.x, TASK.y, ["binning", "kde"]) as plane:
        plane.record(0)
    assert list(captured) == plane.layer_names
    assert all(isinstance(t, np.ndarray) and t.dtype == np.float32 for t in captured.values())


def test_activations_kept_as_tensors_give_the_numbers_of_host_arrays(monkeypatch):
    """The path of a CUDA model, on the CPU: the buffer is a tensor where the layer runs,
    the estimators get it as it is, and the points are those of host arrays (float32
    kernel work: within 1e-6 bits; binning exactly)."""
    import ibkit.nn.plane as plane_module

    estimators = {
        "bin30": ("binning", {"n_bins": 30}),
        "bin": "binning",
        "kde": ("kde", {"noise_variance": 0.1}),
        "mc": ("noisy_mc", {"noise_variance": 0.1, "n_mc": 1}),
    }
    model = EnsembleMLP(2, 12, (6, 3), 2, activation="tanh")
    with InformationPlane(model, TASK.x, TASK.y, estimators) as plane:
        host = plane.record(0)
    captured = _captured_layers(monkeypatch)
    monkeypatch.setattr(plane_module, "_stays_on_device", lambda device: True)
    with InformationPlane(model, TASK.x, TASK.y, estimators) as plane:
        kept = plane.record(0)
    assert all(isinstance(t, torch.Tensor) for t in captured.values())
    assert plane.peak_buffer_bytes == 2 * len(TASK.x) * 6 * 4
    binned = host["estimator"].str.startswith("bin")
    for column in ("i_xt", "i_ty"):
        np.testing.assert_array_equal(kept[column][binned], host[column][binned])
        np.testing.assert_allclose(kept[column], host[column], rtol=0, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_is_placed_on_its_device_with_the_host_numbers(monkeypatch):
    """The activations stay on the GPU, and the points are those of the same activations
    copied to the host (float32 work: within 1e-5 bits)."""
    captured = _captured_layers(monkeypatch)
    estimators = {
        "bin30": ("binning", {"n_bins": 30}),
        "kde": ("kde", {"noise_variance": 0.1}),
        "mc": ("noisy_mc", {"noise_variance": 0.1, "n_mc": 1}),
        "renyi": "renyi",
    }
    model = _tanh_net().cuda()
    with InformationPlane(model, TASK.x, TASK.y, estimators) as plane:
        rows = plane.record(0)
    assert all(t.is_cuda and t.dtype == torch.float32 for t in captured.values())
    host = plane_points(
        {layer: t.cpu() for layer, t in captured.items()},
        TASK.y,
        estimators=estimators,
        random_state=np.random.default_rng([0, 0, 0]),  # the recorder's stream of epoch 0
    )
    for column in ("i_xt", "i_ty"):
        np.testing.assert_allclose(rows[column], host[column], rtol=0, atol=1e-5)


# -- schedule -------------------------------------------------------------------------


def test_log_spaced_epochs_hand_case_and_reference_density():
    # 1000^(i/3) - 1 for i = 0..3
    assert log_spaced_epochs(1000, 4).tolist() == [0, 9, 99, 999]
    e = log_spaced_epochs(10_000, 200)
    g = 10_000 ** (np.arange(200) / 199) - 1
    np.testing.assert_allclose(e[100:], g[100:], atol=0.5)  # geometric where coarse
    assert e[:50].tolist() == list(range(50))  # one-epoch steps where finer


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 5000), st.integers(2, 300))
def test_log_spaced_epochs_are_distinct_and_span_the_run(n_epochs, n_points):
    e = log_spaced_epochs(n_epochs, n_points)
    assert len(e) == min(n_epochs, n_points)
    assert e[0] == 0 and e[-1] == n_epochs - 1
    assert (np.diff(e) > 0).all()


def test_schedules_pick_the_recorded_epochs():
    model = _tanh_net(widths=(12, 3, 2))
    for schedule, expected in [
        ([0, 3], [0, 3]),
        (lambda e: e % 2 == 1, [1, 3]),
        (None, [0, 1, 2, 3]),
        ("log", [0, 1, 3]),
    ]:
        plane = InformationPlane(
            model, TASK.x[:16], TASK.y[:16], "binning", schedule=schedule, n_epochs=4, n_points=3
        )
        with plane:
            returned = [plane.record(epoch) is not None for epoch in range(4)]
        assert sorted(set(plane.results.epoch)) == expected
        assert [e for e in range(4) if returned[e]] == expected


def test_schedule_and_epoch_bounds():
    with pytest.raises(ValueError, match=r"past the last one \(9.*\[10, 12\]"):
        EpochSchedule([0, 10, 12], n_epochs=10)
    with pytest.raises(ValueError, match="needs n_epochs"):
        EpochSchedule("log")
    with pytest.raises(ValueError, match="integers >= 0"):
        EpochSchedule([0, 1.5])
    with pytest.raises(ValueError, match="schedule must be"):
        EpochSchedule("linear")
    plane = InformationPlane(
        _tanh_net(widths=(12, 3, 2)), TASK.x[:16], TASK.y[:16], "binning", n_epochs=3
    )
    with plane:
        with pytest.raises(ValueError, match="epoch 3 is past the last epoch"):
            plane.record(3)
        with pytest.raises(ValueError, match="epoch must be an integer"):
            plane.record(-1)


# -- table, metrics, resume -----------------------------------------------------------


def _train_one_epoch(model, x, y):
    """Two full-batch gradient steps (deterministic)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss = None
    for _ in range(2):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return loss.item()


def _recorder(model, x, y, path, **options):
    """The recorder of :func:`_run`: 9 rows per epoch (3 layers x 3 estimators)."""
    return InformationPlane(
        model,
        x,
        y,
        {"binning": "binning", "kde": "kde", "mc": get_estimator("noisy_mc", n_mc=2)},
        path=path,
        run="tanh-a",
        seed=3,
        labels={"activation": "tanh"},
        track_gradients=True,
        **options,
    )


def _run(path, n_epochs, crash_after=None):
    model = _tanh_net(widths=(12, 5, 3, 2), seed=3)
    x, y = torch.tensor(TASK.x[:128], dtype=torch.float32), torch.tensor(TASK.y[:128])
    plane = _recorder(model, x, y, path)
    with plane:
        for epoch in range(n_epochs):
            loss = _train_one_epoch(model, x, y)
            if plane.should_record(epoch):
                plane.record(epoch, train_loss=loss, **({"extra": 1.0} if epoch == 4 else {}))
            if epoch == crash_after:
                raise KeyboardInterrupt
    return plane


def test_interrupted_run_resumes_to_the_same_table(tmp_path):
    full = _run(tmp_path / "full.csv", 6)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "resumed.csv", 6, crash_after=2)
    partial = pd.read_csv(tmp_path / "resumed.csv")
    assert sorted(set(partial.epoch)) == [0, 1, 2]  # flushed before the crash
    resumed = _run(tmp_path / "resumed.csv", 6)
    pd.testing.assert_frame_equal(resumed.results, full.results)
    pd.testing.assert_frame_equal(resumed.gradients, full.gradients)
    for name in ("full", "resumed"):
        lines = (tmp_path / f"{name}.csv").read_text().splitlines()
        assert sum(line.startswith("run,") for line in lines) == 1
    assert (tmp_path / "full.csv").read_text() == (tmp_path / "resumed.csv").read_text()
    assert (tmp_path / "full_gradients.csv").read_text() == (
        tmp_path / "resumed_gradients.csv"
    ).read_text()
    r = full.results
    assert list(r.columns[:21]) == [
        "run", "seed", "member", "epoch", "layer", "layer_index", "is_output", "width",
        "estimator", "i_xt", "i_ty", "i_xt_lower", "i_xt_upper", "i_ty_lower", "i_ty_upper",
        "units", "at_ceiling", "negative", "singleton_share", "bound_gap", "std_error",
    ]  # fmt: skip
    assert list(r.columns[21:]) == ["activation", "train_loss", "extra"]
    assert r.extra.notna().tolist() == (r.epoch == 4).tolist()
    assert (
        r.loc[r.estimator == "kde", "i_xt_lower"] <= r.loc[r.estimator == "kde", "i_xt_upper"]
    ).all()
    assert r.loc[r.estimator == "binning", "i_xt_lower"].isna().all()


@pytest.mark.parametrize("cut", [1, 10], ids=["one-row", "an-epoch-and-a-row"])
def test_an_epoch_recorded_in_part_is_recorded_again(tmp_path, cut):
    """A run killed between the rows of an epoch: the epoch is recorded again, once."""
    full = _run(tmp_path / "full.csv", 6)
    path = tmp_path / "cut.csv"
    _run(path, 6)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-cut]))  # 9 rows per epoch: 3 layers x 3 estimators
    text = path.read_text()
    with InformationPlane(_tanh_net(), TASK.x[:16], TASK.y[:16], "binning", path=path) as other:
        assert other.recorded_epochs() == set()
    assert path.read_text() == text  # another run leaves these rows alone
    resumed = _run(path, 6)
    assert path.read_text() == (tmp_path / "full.csv").read_text()
    pd.testing.assert_frame_equal(resumed.results, full.results)


def test_an_epoch_without_its_gradient_rows_is_recorded_again(tmp_path):
    _run(tmp_path / "full.csv", 6)
    _run(tmp_path / "cut.csv", 6)
    gradients = tmp_path / "cut_gradients.csv"
    gradients.write_text("".join(gradients.read_text().splitlines(keepends=True)[:-1]))
    _run(tmp_path / "cut.csv", 6)
    for name in ("", "_gradients"):
        full, cut = (tmp_path / f"{run}{name}.csv" for run in ("full", "cut"))
        assert cut.read_text() == full.read_text()


def test_recorded_epochs_are_known_before_attaching(tmp_path):
    """An unattached recorder reads its table: whole epochs count, one recorded in part not."""
    path = tmp_path / "cut.csv"
    _run(path, 6)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))  # epoch 5 keeps 8 of its 9 rows
    model = _tanh_net(widths=(12, 5, 3, 2), seed=3)
    plane = _recorder(model, TASK.x[:128], TASK.y[:128], path, n_epochs=6)
    assert plane.recorded_epochs() == {0, 1, 2, 3, 4}
    assert plane.missing_epochs() == {5}
    assert not plane.should_record(4) and plane.should_record(5)
    assert not any(m._forward_hooks for m in model.modules())  # nothing left attached
    assert path.read_text() == "".join(lines[: 1 + 5 * 9])  # the part of epoch 5 is dropped


def test_missing_epochs_needs_the_number_of_epochs():
    plane = InformationPlane(_tanh_net(widths=(12, 3, 2)), TASK.x[:16], TASK.y[:16], "binning")
    assert plane.recorded_epochs() == set()
    with pytest.raises(ValueError, match="missing_epochs needs the number of epochs"):
        plane.missing_epochs()


def test_a_path_that_is_not_a_plane_table_is_refused(tmp_path):
    model = _tanh_net(widths=(12, 3, 2))
    with pytest.raises(ValueError, match=r"path '.*' is a folder; pass the path of a CSV file"):
        InformationPlane(model, TASK.x[:16], TASK.y[:16], "binning", path=tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    plane = InformationPlane(model, TASK.x[:16], TASK.y[:16], "binning", path=other)
    with pytest.raises(ValueError, match=rf"{other} is not an information-plane table"), plane:
        pass
    assert other.read_text() == "a,b\n1,2\n"


def test_a_different_run_in_the_same_file_is_not_skipped(tmp_path):
    path = tmp_path / "runs.csv"
    model = _tanh_net(widths=(12, 3, 2))
    for run in ("a", "b"):
        with InformationPlane(model, TASK.x[:16], TASK.y[:16], "binning", path=path, run=run) as p:
            assert p.should_record(0)
            p.record(0)
            assert not p.should_record(0)
    assert pd.read_csv(path).run.tolist() == ["a", "a", "b", "b"]


def test_gradients_are_recorded_per_epoch(tmp_path):
    model = _tanh_net(widths=(12, 4, 2))
    x, y = torch.tensor(TASK.x[:64], dtype=torch.float32), torch.tensor(TASK.y[:64])
    plane = InformationPlane(model, x, y, "binning", schedule=[1, 2], track_gradients=True)
    with plane:
        for epoch in range(3):
            _train_one_epoch(model, x, y)  # two backward passes
            plane.record(epoch)
    g = plane.gradients
    assert g.epoch.tolist() == [1, 1, 2, 2] and g.layer.tolist() == ["fc1", "out"] * 2
    assert (g.n_batches == 2).all()  # epoch 0's batches do not leak into epoch 1
    assert (g.snr > 0).all()


# -- estimators and ensembles ---------------------------------------------------------


def test_estimators_by_name_object_and_label():
    kde = get_estimator("kde", noise_variance=0.1)
    plane = InformationPlane(
        _tanh_net(widths=(12, 3, 2)), TASK.x[:16], TASK.y[:16], {"bins": "binning", "kde_0.1": kde}
    )
    assert plane.estimator_params["kde_0.1"]["noise_variance"] == 0.1
    assert plane.estimator_params["bins"] == get_estimator("binning").params  # the defaults
    with plane:
        plane.record(0)
    assert plane.results.estimator.tolist() == ["bins", "kde_0.1"] * 2
    assert set(plane.results.units) == {"bits"}
    with pytest.raises(ValueError, match="two estimators are labelled 'kde'"):
        InformationPlane(plane.model, TASK.x[:16], TASK.y[:16], ["kde", kde])


class _TinyEnsemble(nn.Module):
    """S tanh networks 12-3-2 evaluated at once: activations (S, n, width)."""

    def __init__(self, nets):
        super().__init__()
        self.n_members, self.seeds = len(nets), tuple(range(10, 10 + len(nets)))
        self.w1 = nn.Parameter(torch.stack([n[0].weight.T for n in nets]).detach().clone())
        self.b1 = nn.Parameter(torch.stack([n[0].bias[None] for n in nets]).detach().clone())
        self.w2 = nn.Parameter(torch.stack([n[2].weight.T for n in nets]).detach().clone())
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(x @ self.w1 + self.b1) @ self.w2


def test_ensemble_members_match_their_plain_networks():
    nets = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        nets.append(nn.Sequential(nn.Linear(12, 3), nn.Tanh(), nn.Linear(3, 2, bias=False)))
    x, y = TASK.x[:100], TASK.y[:100]
    plane = InformationPlane(_TinyEnsemble(nets), x, y, ["binning", "kde"])
    with plane:
        plane.record(0, train_loss=[0.5, 0.25], lr=0.1)
    r = plane.results
    assert r.member.tolist() == [0] * 4 + [1] * 4 and r.seed.tolist() == [10] * 4 + [11] * 4
    assert r.train_loss.tolist() == [0.5] * 4 + [0.25] * 4 and (r.lr == 0.1).all()
    for member, net in enumerate(nets):
        with InformationPlane(net, x, y, ["binning", "kde"]) as single:
            single.record(0)
        mine = r[r.member == member].reset_index(drop=True)
        for col in ("layer_index", "is_output", "width", "estimator"):
            assert mine[col].tolist() == single.results[col].tolist()
        np.testing.assert_allclose(mine.i_xt, single.results.i_xt, rtol=1e-5)
        np.testing.assert_allclose(mine.i_ty, single.results.i_ty, rtol=1e-5, atol=1e-9)


# -- bad input ------------------------------------------------------------------------


class _Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(12, 12), nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(self.act(x)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layers": ["fc9"]}, r"no module named \['fc9'\].*available: \['fc1', 'act1', 'out'\]"),
        ({"x_probe": np.zeros((16, 5))}, r"rejected the probe.*probe shape \(16, 5\)"),
        ({"model": _Twice()}, r"\['act'\] run more than once"),
    ],
)
def test_attach_rejects(kwargs, match):
    args = {"model": _tanh_net(widths=(12, 3, 2)), "x_probe": TASK.x[:16], "y_probe": TASK.y[:16]}
    plane = InformationPlane(**{**args, **kwargs}, estimators="binning")
    with pytest.raises(ValueError, match=match), plane:
        pass


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "net"}, "torch.nn.Module"),
        ({"x_probe": "abc"}, r"x_probe must be a numeric array or tensor, rows = samples; got str"),
        ({"x_probe": [["a", "b"]] * 16}, "x_probe must be a numeric array or tensor"),
        ({"path": 3}, "path must be a file path; got int"),
        ({"y_probe": TASK.y[:16].astype(float)}, r"integer class labels.*astype\(int\)"),
        ({"y_probe": TASK.y[:15]}, "15 labels but the probe has 16 rows"),
        ({"x_probe": TASK.x[:1], "y_probe": TASK.y[:1]}, "at least 2 rows"),
        ({"estimators": 3}, "estimators must be"),
        ({"estimators": []}, "estimators is empty"),
        ({"estimators": ["nope"]}, "unknown method 'nope'"),
        ({"output": "probs"}, "output must be"),
        ({"labels": {"epoch": 1}}, r"labels \['epoch'\] clash"),
        ({"units": "dits"}, "units must be"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"run": ""}, "run must be"),
    ],
)
def test_constructor_rejects(kwargs, match):
    args = {"model": _tanh_net(widths=(12, 3, 2)), "x_probe": TASK.x[:16], "y_probe": TASK.y[:16]}
    with pytest.raises(ValueError, match=match):
        InformationPlane(**{"estimators": "binning", **args, **kwargs})


def test_record_rejects():
    plane = InformationPlane(_tanh_net(widths=(12, 3, 2)), TASK.x[:16], TASK.y[:16], "binning")
    with pytest.raises(RuntimeError, match="not attached"):
        plane.record(0)
    with plane:
        with pytest.raises(ValueError, match="metric 'layer' clashes"):
            plane.record(0, layer=1)
        with pytest.raises(ValueError, match=r"single number; got shape \(2,\)"):
            plane.record(0, loss=[1.0, 2.0])


def test_a_label_recorded_with_other_settings_is_refused_on_resume(tmp_path):
    """Resuming under one label with another estimator would mix two estimators."""
    path = tmp_path / "plane.csv"
    model = _tanh_net(widths=(12, 3, 2))
    fine = {"b": ("binning", {"n_bins": 30})}
    with InformationPlane(model, TASK.x[:16], TASK.y[:16], fine, path=path) as plane:
        plane.record(0)
    table = path.read_text()
    coarse = {"b": ("binning", {"n_bins": 10})}
    plane = InformationPlane(model, TASK.x[:16], TASK.y[:16], coarse, path=path)
    with pytest.raises(ValueError, match="recorded estimator label 'b' as .*'n_bins': 30"), plane:
        pass
    assert path.read_text() == table
    more = {**fine, "k": ("kde", {"noise_variance": 0.1})}  # a new label joins the table
    with InformationPlane(model, TASK.x[:16], TASK.y[:16], more, path=path, run="r2") as plane:
        plane.record(0)
    kept = (tmp_path / "plane.csv.estimators.json").read_text()
    assert '"k"' in kept and '"n_bins": 30' in kept


def test_a_table_without_kept_settings_resumes_with_a_warning(tmp_path):
    path = tmp_path / "plane.csv"
    model = _tanh_net(widths=(12, 3, 2))
    with InformationPlane(model, TASK.x[:16], TASK.y[:16], "binning", path=path) as plane:
        plane.record(0)
    (tmp_path / "plane.csv.estimators.json").unlink()  # as written before settings were kept
    plane = InformationPlane(model, TASK.x[:16], TASK.y[:16], "binning", path=path)
    with pytest.warns(UserWarning, match="recorded before ibkit kept its estimator settings"):
        with plane:
            assert plane.recorded_epochs() == {0}
    assert (tmp_path / "plane.csv.estimators.json").exists()  # checked from now on

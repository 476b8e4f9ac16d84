"""Memory of the information-plane recorder, measured by buffer and traced array sizes.

The recorder holds one layer's activations at a time (n x width float32); these tests
check that bound on a small convolutional net, where the widest layer is far below the
sum over layers, and that the numbers equal those of activations captured all at once.
"""

import tracemalloc

import numpy as np
import pytest
import torch
from torch import nn

from ibkit._validation import InvalidParameterError
from ibkit.estimators import MIEstimator, get_estimator
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.plane import InformationPlane, plane_points

N = 256
#: Widths of the recorded layers of :func:`_conv_net`: its ReLUs (4 x 16 x 16, 8 x 8 x 8
#: and 16 units) and the softmax output (3).
WIDTHS = {"1": 1024, "3": 512, "6": 16, "output": 3}


def _conv_net():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(512, 16),
        nn.ReLU(),
        nn.Linear(16, 3),
    )


def _probe(n=N, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 1, 16, 16)).astype(np.float32), rng.integers(0, 3, n)


class _Constant(MIEstimator):
    """An estimator that reads nothing: its point is fixed, so the memory traced during a
    record is the recorder's own."""

    name = "constant"

    def __init__(self):
        super().__init__()
        binning = get_estimator("binning")
        self.point = binning.plane_point(np.arange(4.0), np.arange(4), np.array([0, 0, 1, 1]))

    def plane_point(self, t, x_labels, y_labels, *, units="bits", random_state=None):
        return self.point

    def _estimate_nats(self, samples, rng):
        raise AssertionError("not called")


def test_peak_buffer_is_one_layer_whatever_the_layers_and_epochs():
    x, y = _probe()
    with InformationPlane(_conv_net(), x, y, "binning", batch_size=100) as plane:
        peaks = []
        for epoch in range(3):
            plane.record(epoch)
            peaks.append(plane.peak_buffer_bytes)
    widths = plane.results.groupby("layer", sort=False)["width"].first()
    assert widths.to_dict() == WIDTHS
    assert peaks == [N * max(WIDTHS.values()) * 4] * 3
    assert peaks[0] < N * sum(WIDTHS.values()) * 4


def test_traced_memory_of_a_record_is_one_layer_not_the_sum():
    # With an estimator that allocates nothing, the arrays a record allocates are the
    # recorder's: one layer's buffer (1 MiB here), not all four layers (1.5 MiB).
    x, y = _probe()
    with InformationPlane(_conv_net(), x, y, _Constant(), batch_size=64) as plane:
        plane.record(0)  # warm up: pandas and torch caches
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            plane.record(1)
            peak = tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()
    one_layer = N * max(WIDTHS.values()) * 4
    assert one_layer <= peak < one_layer + N * sorted(WIDTHS.values())[-2] * 4 // 2


def test_an_ensemble_buffer_holds_one_layer_of_every_member():
    x = np.random.default_rng(0).normal(size=(N, 12)).astype(np.float32)
    model = EnsembleMLP(3, 12, (6, 4), 2, "tanh")
    with InformationPlane(model, x, np.arange(N) % 2, "binning") as plane:
        plane.record(0)
    assert plane.peak_buffer_bytes == 3 * N * 6 * 4


def test_streamed_layers_give_the_points_of_activations_captured_at_once():
    x, y = _probe()
    model = _conv_net()
    estimators = ["binning", "kde"]
    with InformationPlane(model, x, y, estimators, batch_size=100) as plane:
        plane.record(0)
    with torch.no_grad():
        h1 = model[:2](torch.from_numpy(x))
        h2 = model[2:4](h1)
        h3 = model[4:7](h2)
        out = torch.softmax(model[7](h3), dim=1)
    acts = {name: a.flatten(1).numpy() for name, a in zip(WIDTHS, (h1, h2, h3, out), strict=True)}
    rng = np.random.default_rng([0, 0, 0])  # the recorder's stream of epoch 0
    expected = plane_points(acts, y, estimators=estimators, random_state=rng)
    got = plane.results
    for column in ("layer", "width", "estimator"):
        assert got[column].tolist() == expected[column].tolist()
    columns = ["i_xt", "i_ty", "i_xt_lower", "i_xt_upper"]
    np.testing.assert_allclose(got[columns].to_numpy(float), expected[columns].to_numpy(float))


def test_a_forward_pass_stops_at_the_captured_layer():
    model = _conv_net()
    calls = []
    model[7].register_forward_hook(lambda *_: calls.append(1))
    x, y = _probe()
    plane = InformationPlane(model, x, y, "binning", layers=["1"], output=None, batch_size=64)
    with plane:
        calls.clear()
        rows = plane.record(0)
    assert calls == []  # the last linear layer never ran during the record
    assert rows["layer"].tolist() == ["1"]


def test_probe_subsample_is_reproducible_and_recorded():
    x, y = _probe()
    model = _conv_net()

    def record(**kwargs):
        with InformationPlane(model, x, y, "binning", output=None, **kwargs) as plane:
            plane.record(0)
        return plane

    a, b = record(probe_size=50, random_state=3), record(probe_size=50, random_state=3)
    other = record(probe_size=50, random_state=4)
    idx = a.probe_indices
    assert idx.shape == (50,) and np.all(np.diff(idx) > 0) and idx.max() < N
    np.testing.assert_array_equal(idx, b.probe_indices)
    assert not np.array_equal(idx, other.probe_indices)
    with InformationPlane(model, x[idx], y[idx], "binning", output=None, random_state=3) as p:
        p.record(0)
    assert a.results[["i_xt", "i_ty"]].equals(p.results[["i_xt", "i_ty"]])
    assert a.peak_buffer_bytes == 50 * max(WIDTHS.values()) * 4
    assert record().probe_indices is None


@pytest.mark.parametrize(
    ("probe_size", "match"),
    [
        (1, "probe_size must be an integer >= 2; got 1"),
        (N + 1, f"probe_size must be at most the {N} probe rows; got {N + 1}"),
        (2.5, "probe_size must be an integer"),
    ],
)
def test_probe_size_rejects(probe_size, match):
    x, y = _probe()
    with pytest.raises(InvalidParameterError, match=match):
        InformationPlane(_conv_net(), x, y, "binning", probe_size=probe_size)


@pytest.mark.parametrize(
    "estimator",
    [
        get_estimator("binning"),
        get_estimator("kde", chunk_size=256),
        get_estimator("renyi", batch_size=500),
    ],
    ids=["binning", "kde", "renyi"],
)
def test_plane_estimators_build_nothing_n_by_n(estimator):
    # n = 3000 rows of 20 units: an n x n float64 array would take 72 MB, the layer 0.5 MB.
    n, width = 3000, 20
    rng = np.random.default_rng(0)
    t = rng.normal(size=(n, width)).astype(np.float32)
    tracemalloc.start()
    try:
        estimator.plane_point(t, np.arange(n), rng.integers(0, 2, n), random_state=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * n * 8 / 8


def test_binning_a_wide_layer_holds_codes_of_a_block_of_columns_only():
    # 200 rows of 20,000 units (a conv layer): the float64 copy of the layer is 32 MB;
    # int64 codes of the whole layer would be as much again, a block of columns 0.8 MB.
    n, width = 200, 20_000
    rng = np.random.default_rng(1)
    t = np.maximum(rng.normal(size=(n, width)), 0).astype(np.float32)
    for params in ({"n_bins": 30}, {"bin_size": 0.07}, {}):
        tracemalloc.start()
        try:
            get_estimator("binning", **params).plane_point(t, np.arange(n), np.arange(n) % 10)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1.25 * n * width * 8, params


class _NoisyInEval(nn.Module):
    """Adds fresh Gaussian noise in train and eval mode alike (a sampling layer)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.randn_like(x)


def test_a_random_model_gives_every_layer_the_same_draws_and_leaves_the_rng_alone():
    # act2 is a copy of act1 (an identity after it): one forward pass would give equal
    # activations, and so must the per-layer passes, chunk by chunk
    model = nn.Sequential(nn.Linear(4, 3), _NoisyInEval(), nn.Tanh(), nn.Identity())
    x = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    y = np.arange(50) % 2
    plane = InformationPlane(
        model, x, y, estimators=["binning"], layers=["2", "3"], output=None, batch_size=16
    )
    with plane:
        state = torch.get_rng_state()
        first, second = plane._capture("2"), plane._capture("3")
        np.testing.assert_array_equal(first, second)
        assert torch.equal(torch.get_rng_state(), state)
        assert plane.record(0) is not None
        assert torch.equal(torch.get_rng_state(), state)


def _peak_bytes(run):
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_kde_on_a_wide_layer_copies_it_a_bounded_number_of_times():
    # 300 distinct rows of 8192 float32 units (9.4 MiB): the float64 layer, its centred
    # rows and the two distance factors, 8.4 float32 layers in all (12.2 when the
    # distinct rows were sorted and the factors stacked in float64 before their cast)
    t = np.random.default_rng(0).standard_normal((300, 8192), dtype=np.float32)
    est = get_estimator("kde")
    peak = _peak_bytes(lambda: est.plane_point(t, np.arange(300), np.arange(300) % 3))
    assert peak < 9 * t.nbytes


@pytest.mark.parametrize("collide", [False, True])
@pytest.mark.parametrize("wide", [False, True])
def test_distinct_rows_by_keys_equal_those_by_sorting(monkeypatch, collide, wide):
    from ibkit.estimators import _xp

    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, _xp._VECTOR_KEY_WIDTH + 1 if wide else 6))
    a = a[rng.integers(0, 15, 40)]  # 40 rows, at most 15 distinct
    if collide:  # every row keyed alike: the check finds it and the sort takes over
        monkeypatch.setattr(_xp, "_row_keys", lambda a: np.zeros(a.shape[0], np.int64))
    values, inverse, counts = _xp._Numpy.unique_rows(a)
    np.testing.assert_array_equal(values[inverse], a)
    np.testing.assert_array_equal(counts, np.bincount(inverse))
    expected = np.unique(a, axis=0)
    np.testing.assert_array_equal(values[np.lexsort(values.T[::-1])], expected)


@pytest.mark.parametrize("rows", ["signs", "quarters", "float32"])
def test_saturated_rows_get_one_key_each(rows):
    # ±1 rows (a saturated tanh layer) differ only in sign bits, quarter-valued rows in
    # few exponent bits: every distinct row must get its own key, or the grouping falls
    # back to sorting the rows
    from ibkit.estimators import _xp

    rng = np.random.default_rng(2)
    a = rng.standard_normal((4096, 12))
    a = {"signs": np.sign(a), "quarters": np.round(4 * a) / 4, "float32": a.astype(np.float32)}
    a = a[rows]
    assert np.unique(_xp._row_keys(a)).size == np.unique(a, axis=0).shape[0]


def test_signed_zeros_are_one_distinct_row():
    from ibkit.estimators import _xp

    a = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, -0.0]], dtype=np.float32)
    values, inverse, counts = _xp._Numpy.unique_rows(a)
    assert values.shape[0] == 2 and sorted(counts) == [1, 2]

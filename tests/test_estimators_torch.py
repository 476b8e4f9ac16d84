"""Estimators on torch tensors: the same numbers as on numpy arrays, on the tensor's device.

kde, noisy_mc, renyi and binning work on the tensor's device; the other methods copy
tensors to numpy. Tolerances (bits): float64 work 1e-9, float32 work 1e-6 (sums in
another order); binning's integer codes are exact, so its estimates agree to round-off
of the plug-in sums.
"""

import subprocess
import sys

import numpy as np
import pytest

from ibkit._validation import InvalidParameterError
from ibkit.estimators import estimate_mi, get_estimator

torch = pytest.importorskip("torch")

DEVICES = ["cpu"] + [
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    )
]

CASES = [
    ("kde", {"noise_variance": 0.05, "chunk_size": 64}, 1e-6),
    ("kde", {"noise_variance": 0.05, "chunk_size": 64, "dtype": "float64"}, 1e-9),
    ("kde", {"noise_variance": 0.5, "noise_relative": True}, 1e-6),
    ("renyi", {}, 1e-9),
    ("renyi", {"kernel_width": "knn", "batch_size": 60}, 1e-9),
    ("binning", {"n_bins": 10}, 1e-12),
    ("binning", {"n_bins": 30, "value_range": (-1.0, 1.0)}, 1e-12),
    ("binning", {"bin_size": 0.07}, 1e-12),
    ("binning", {}, 1e-12),  # equal-mass bins: ranks on the device
    ("noisy_mc", {"noise_variance": 0.05, "n_mc": 3}, 1e-6),
    ("noisy_mc", {"noise_variance": 0.05, "n_mc": 3, "dtype": "float64"}, 1e-9),
    ("noisy_mc", {"noise_variance": 0.5, "n_mc": 2, "noise_relative": True}, 1e-6),
]


def _layer(n=200, d=4, seed=0):
    rng = np.random.default_rng(seed)
    t = np.tanh(2 * rng.standard_normal((n, d)))
    t[: n // 5] = t[0]  # saturated rows repeat
    return t, rng.integers(0, 3, n)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("method", "params", "atol"), CASES)
def test_plane_point_on_tensors_matches_numpy(device, method, params, atol):
    t, y = _layer()
    est = get_estimator(method, **params)
    expected = est.plane_point(t, np.arange(len(t)), y, random_state=3)
    got = est.plane_point(
        torch.from_numpy(t).to(device),
        torch.arange(len(t), device=device),
        torch.from_numpy(y).to(device),
        random_state=3,
    )
    for e, g in zip(expected, got, strict=True):
        assert type(g.value) is float
        for field in ("value", "lower", "upper"):
            a, b = getattr(e, field), getattr(g, field)
            assert (a is None and b is None) or abs(a - b) <= atol, (field, a, b)
        assert e.diagnostics.at_ceiling == g.diagnostics.at_ceiling


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "params",
    [{"n_bins": 5}, {"bin_size": 0.2}, {"strategy": "quantile", "n_bins": 3}],
)
def test_binning_wide_tied_layer_on_tensors_matches_numpy(device, params, monkeypatch):
    """Codes made block by block (a block of 7 columns here) give the symbols of the
    whole rows, with ties in every column and repeated rows, on both paths."""
    monkeypatch.setattr("ibkit.estimators.binning._CODE_BLOCK", 7)
    rng = np.random.default_rng(4)
    t = np.round(np.tanh(rng.standard_normal((300, 40))), 1)
    t[::3] = t[0]  # a third of the rows repeat one row
    y = rng.integers(0, 4, 300)
    est = get_estimator("binning", **params)
    expected = est.plane_point(t, np.arange(300), y)
    got = est.plane_point(torch.from_numpy(t).to(device), np.arange(300), y)
    for e, g in zip(expected, got, strict=True):
        assert g.value == pytest.approx(e.value, abs=1e-12)
        assert g.diagnostics.singleton_share == e.diagnostics.singleton_share


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", ["kde", "noisy_mc"])
@pytest.mark.parametrize("n_labels", [3, 10])
def test_dense_labels_on_tensors_match_numpy(device, method, n_labels):
    """Up to 8 labels the class sums are one product per label, from 9 to 64 one
    product with all the counts: both on the tensor's device, as numpy does them."""
    t, _ = _layer(n=300, seed=6)
    labels = np.arange(300) % n_labels
    est = get_estimator(method, noise_variance=0.05)
    expected = est.plane_point(t, np.arange(300), labels, random_state=1)
    got = est.plane_point(torch.from_numpy(t).to(device), np.arange(300), labels, random_state=1)
    for e, g in zip(expected, got, strict=True):
        assert g.value == pytest.approx(e.value, abs=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_noisy_mc_sparse_labels_on_tensors_match_numpy(device):
    """More than 64 labels, not all distinct: the class sums run on the host."""
    t, _ = _layer(n=300, seed=5)
    labels = np.arange(300) // 3
    est = get_estimator("noisy_mc", noise_variance=0.05, n_mc=2)
    expected = est.estimate(t, labels, random_state=1).value
    got = est.estimate(torch.from_numpy(t).to(device), labels, random_state=1).value
    assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", ["kde", "renyi", "noisy_mc"])
def test_float32_tensors_match_float32_arrays(device, method):
    t, y = _layer(seed=1)
    t32 = t.astype(np.float32)
    expected = estimate_mi(t32, y, method=method, random_state=0)
    got = estimate_mi(
        torch.from_numpy(t32).to(device), torch.from_numpy(y), method=method, random_state=0
    )
    assert got.value == pytest.approx(expected.value, abs=1e-6)


def test_renyi_continuous_y_mixes_tensors_and_arrays():
    t, _ = _layer(seed=2)
    y = t[:, :2] ** 3
    expected = estimate_mi(t, y, method="renyi").value
    assert estimate_mi(torch.from_numpy(t), y, method="renyi").value == pytest.approx(
        expected, abs=1e-9
    )
    assert estimate_mi(t, torch.from_numpy(y), method="renyi").value == pytest.approx(
        expected, abs=1e-9
    )


@pytest.mark.parametrize("method", ["kde", "renyi", "binning", "noisy_mc"])
def test_complex_tensor_is_refused(method):
    t = torch.ones((10, 2), dtype=torch.complex64)
    with pytest.raises(InvalidParameterError, match=r"^t .*complex"):
        get_estimator(method).plane_point(t, np.arange(10), np.arange(10) % 2)


@pytest.mark.parametrize("method", ["kde", "renyi", "binning", "noisy_mc"])
def test_nan_tensor_is_refused(method):
    t = torch.zeros((10, 2), dtype=torch.float64)
    t[3, 1] = float("nan")
    with pytest.raises(InvalidParameterError, match=r"^x has 1 NaN or infinite entries"):
        estimate_mi(t, np.arange(10) % 2, method=method)


@pytest.mark.parametrize(
    ("t", "match"),
    [
        (torch.zeros((2, 2, 2)), r"^x must be 1-D or 2-D; got a tensor of shape \(2, 2, 2\)"),
        (torch.zeros((0, 2)), r"^x is empty"),
    ],
)
def test_bad_tensor_shape_is_refused(t, match):
    with pytest.raises(InvalidParameterError, match=match):
        estimate_mi(t, np.arange(2), method="kde")


def test_importing_estimators_does_not_import_torch():
    code = "import sys, ibkit.estimators; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

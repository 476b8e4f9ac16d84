"""Every registered estimator through the same checks, as scikit-learn's estimator checks.

Each method of :func:`available_methods` (the neural ones with tiny training budgets) is
checked for units, seeding, bad input, invariance to the scale of the data, and, for the
methods that can place a layer on the information plane, the plane coordinates. Values
are checked against truth from outside the estimators: entropies of label frequencies,
log n, and the exact ratio ln 2 between nats and bits.
"""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from ibkit._validation import InvalidParameterError
from ibkit.estimators import (
    MIEstimate,
    available_methods,
    get_estimator,
    plane_methods,
    resolve_plane_estimators,
)

NEURAL = {"infonce", "mine", "nwj"}
HAS_TORCH = importlib.util.find_spec("torch") is not None

#: Budgets that keep every neural fit to a few hundredths of a second.
TINY = {"steps": 10, "hidden": (8,), "batch_size": 32, "n_eval_batches": 2}

#: Methods whose estimate cannot depend on the units of x (see test_scale_invariance):
#: binning bins each variable over its own range, plugin reads rows as symbols, KSG and
#: the neural critics standardise every column, the Gaussian MI is a ratio of
#: determinants, and renyi's kernel widths ("silverman", "knn") scale with the data. The
#: noisy-layer methods are left out on purpose: their noise variance is in the units of
#: the layer, so rescaling t changes the signal-to-noise ratio (and the MI of the noisy
#: layer); they are checked for the equivalence that holds instead.
SCALE_FREE = {"binning", "plugin", "ksg", "gaussian", "renyi"} | NEURAL
NOISY_LAYER = {"kde", "noisy_mc"}

N = 120


def _methods(selected=None):
    """The registered methods as pytest parameters, the neural ones skipped without torch."""
    skip = pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
    return [
        pytest.param(m, marks=skip) if m in NEURAL else m
        for m in available_methods()
        if selected is None or m in selected
    ]


def _make(method, **params):
    return get_estimator(method, **{**(TINY if method in NEURAL else {}), **params})


@pytest.fixture(scope="module")
def data():
    """2-D x on a 0.1 grid (plugin sees repeats) and 1-D integer labels that depend on it."""
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((N, 2)), 1)
    y = (x[:, 0] + 0.5 * rng.standard_normal(N) > 0).astype(int)
    return x, y


def _fields(est: MIEstimate) -> list[float | None]:
    return [est.value, est.lower, est.upper, est.std_error]


def test_every_method_is_checked():
    assert set(available_methods()) == SCALE_FREE | NOISY_LAYER


# --- units and seeding ----------------------------------------------------------------


@pytest.mark.parametrize("method", _methods())
def test_units(method, data):
    est = _make(method)
    bits = est.estimate(*data, units="bits", random_state=0)
    nats = est.estimate(*data, units="nats", random_state=0)
    assert (bits.units, nats.units) == ("bits", "nats")
    assert [v is None for v in _fields(bits)] == [v is None for v in _fields(nats)]
    got = [v for v in _fields(bits) if v is not None]
    want = [v / np.log(2.0) for v in _fields(nats) if v is not None]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert bits.method == method and bits.n_samples == N


@pytest.mark.parametrize("method", _methods())
def test_same_seed_gives_the_same_estimate(method, data):
    est = _make(method)
    first = est.estimate(*data, random_state=7).to_dict()
    assert est.estimate(*data, random_state=7).to_dict() == first
    assert _make(method).estimate(*data, random_state=7).to_dict() == first


# --- bad input ------------------------------------------------------------------------


def _names(message: str, *params: str) -> bool:
    return all(re.search(rf"\b{p}\b", message) for p in params)


def _bad_samples(x, y, n_min):
    nan, inf = x.copy(), x.copy()
    nan[3, 1], inf[5, 0] = np.nan, np.inf
    return {
        "NaN in x": (nan, y, "x"),
        "inf in x": (inf, y, "x"),
        "complex x": (x + 0j, y, "x"),
        "complex y": (x, y + 0j, "y"),
        "text in x": (np.array(["a"] * N), y, "x"),
        "mismatched n": (x, y[:-1], "x"),
        "too few samples": (x[: n_min - 1], y[: n_min - 1], "x"),
    }


@pytest.mark.parametrize("method", _methods())
@pytest.mark.parametrize(
    "case",
    ["NaN in x", "inf in x", "complex x", "complex y", "text in x", "mismatched n",
     "too few samples"],
)  # fmt: skip
def test_bad_samples_are_refused_naming_them(method, case, data):
    est = _make(method)
    x, y, name = _bad_samples(*data, est.min_samples)[case]
    with pytest.raises(InvalidParameterError) as err:
        est.estimate(x, y, random_state=0)
    assert _names(str(err.value), name), str(err.value)


_NEURAL_PARAMS = "batch_size, hidden, holdout, lr, n_eval_batches, steps"

#: The parameters of each method, in alphabetical order, as the estimator table of
#: docs/guide/estimators.md documents them.
DOCUMENTED_PARAMS = {
    "binning": "bin_size, miller_madow, n_bins, strategy, value_range",
    "plugin": "miller_madow",
    "kde": "chunk_size, dtype, noise_relative, noise_variance",
    "noisy_mc": "chunk_size, dtype, n_mc, noise_relative, noise_variance",
    "ksg": "algorithm, jitter, k, standardize, variant",
    "gaussian": "ridge",
    "renyi": "alpha, batch_size, kernel_width",
    "infonce": _NEURAL_PARAMS,
    "nwj": _NEURAL_PARAMS,
    "mine": "batch_size, ema, hidden, holdout, lr, n_eval_batches, steps",
}


def test_every_method_has_documented_parameters():
    assert set(DOCUMENTED_PARAMS) == set(available_methods())


@pytest.mark.parametrize("method", _methods())
def test_unknown_parameter_is_refused_listing_the_accepted_ones(method):
    with pytest.raises(InvalidParameterError) as err:
        get_estimator(method, bogus=1)
    accepted = DOCUMENTED_PARAMS[method]
    assert f"method '{method}' has no parameter 'bogus'; it accepts: {accepted}" in str(err.value)


@pytest.mark.parametrize("method", _methods())
def test_text_for_a_number_or_flag_is_refused_naming_the_parameter(method):
    defaults = get_estimator(method).params
    numeric = [k for k, v in defaults.items() if isinstance(v, (bool, int, float))]
    assert numeric
    for name in numeric:
        with pytest.raises(InvalidParameterError) as err:
            get_estimator(method, **{name: "1"})
        assert _names(str(err.value), name), str(err.value)


# --- scale ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", _methods(SCALE_FREE))
@pytest.mark.parametrize("factor", [1e-3, 1e3])
def test_scale_invariance(method, factor, data):
    # x rescaled, y continuous and not: the estimate must not change.
    x, _ = data
    y = x[:, 0] + 0.3 * np.random.default_rng(2).standard_normal(N)
    est = _make(method)
    want = est.estimate(x, y, random_state=0)
    got = est.estimate(factor * x, y, random_state=0)
    if method in NEURAL:  # float32 training: the inputs agree to rounding only
        np.testing.assert_allclose(got.value, want.value, atol=1e-4)
    else:
        np.testing.assert_allclose(got.value, want.value, rtol=1e-9)
        assert want.value > 0.1  # an informative estimate, not a trivial 0


@pytest.mark.parametrize("method", _methods(NOISY_LAYER))
@pytest.mark.parametrize("factor", [1e-3, 1e3])
def test_noisy_layer_depends_on_the_layer_in_noise_units_only(method, factor, data):
    # The MI of t + N(0, s2 I) depends on t / sigma alone: (c t, c^2 s2) gives the same.
    x, y = data
    want = _make(method, noise_variance=0.01).estimate(x, y, random_state=0)
    got = _make(method, noise_variance=0.01 * factor**2).estimate(factor * x, y, random_state=0)
    np.testing.assert_allclose(got.value, want.value, rtol=1e-6, atol=1e-9)


# --- the information plane ------------------------------------------------------------


def _entropy_bits(labels: np.ndarray) -> float:
    p = np.bincount(labels) / labels.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


@pytest.fixture(scope="module")
def layer():
    """A layer of distinct rows, one tight cluster per class (10 apart, sd 0.1), and a
    layer of noise with labels it knows nothing of."""
    rng = np.random.default_rng(1)
    y = rng.choice(3, size=N, p=[0.5, 0.3, 0.2])
    separated = 10.0 * y[:, None] + 0.1 * rng.standard_normal((N, 2))
    return separated, y, rng.standard_normal((N, 3)), rng.integers(0, 4, N)


def test_plane_methods_are_those_on_the_plane():
    assert plane_methods() == ["binning", "kde", "noisy_mc", "plugin", "renyi"]


@pytest.mark.parametrize("method", plane_methods())
def test_plane_point_of_separated_classes(method, layer):
    # T determines Y (the classes do not overlap, at the noise levels and on the grid
    # used: binning's default equal-mass bins follow ranks, not gaps, and can cut a
    # cluster, so it gets a uniform grid; renyi is the Shannon quantity at alpha = 1 with
    # a kernel narrower than the gap between classes): I(T;Y) = H(Y).
    t, y, _, _ = layer
    params = {
        "binning": {"n_bins": 30},
        "renyi": {"alpha": 1.0, "kernel_width": "knn"},
    } | dict.fromkeys(NOISY_LAYER, {"noise_variance": 1e-3})
    est = _make(method, **params.get(method, {}))
    i_xt, i_ty = est.plane_point(t, np.arange(N), y, random_state=0)
    assert i_xt.units == i_ty.units == "bits"
    np.testing.assert_allclose(i_ty.value, _entropy_bits(y), atol=1e-9)
    assert 0.0 <= i_xt.value <= np.log2(N) + 1e-9
    nats = est.plane_point(t, np.arange(N), y, units="nats", random_state=0)
    np.testing.assert_allclose(
        [p.value for p in nats], [i_xt.value * np.log(2.0), i_ty.value * np.log(2.0)], rtol=1e-12
    )
    assert all(p.units == "nats" for p in nats)


@pytest.mark.parametrize("method", plane_methods())
def test_plane_point_within_its_bounds(method, layer):
    _, _, t, y = layer
    i_xt, i_ty = _make(method).plane_point(t, np.arange(N), y, random_state=0)
    for p in (i_xt, i_ty):
        slack = 1e-9 + (3 * p.std_error if p.std_error is not None else 0.0)
        assert p.lower is None or p.lower <= p.upper
        assert -slack <= p.value
    assert i_xt.value <= np.log2(N) + 1e-9
    assert i_ty.value <= _entropy_bits(y) + 1e-9


@pytest.mark.parametrize("method", plane_methods())
def test_plane_point_refuses_bad_layers_naming_them(method, layer):
    t, y, _, _ = layer
    nan = t.copy()
    nan[0, 0] = np.nan
    est = _make(method)
    for args, name in [
        ((t + 0j, np.arange(N), y), "t"),
        ((nan, np.arange(N), y), "t"),
        ((t, np.arange(N), y[:-1]), "y_labels"),
        ((t[:1], np.arange(1), y[:1]), "t"),
    ]:
        with pytest.raises(InvalidParameterError) as err:
            est.plane_point(*args)
        assert _names(str(err.value), name), str(err.value)


@pytest.mark.parametrize("method", sorted(set(available_methods()) - set(plane_methods())))
def test_methods_off_the_plane_are_refused(method, layer):
    if method in NEURAL and not HAS_TORCH:
        pytest.skip("needs torch")
    t, y, _, _ = layer
    pattern = rf"method '{method}'\) cannot place layers .* use one of: binning, kde"
    with pytest.raises(InvalidParameterError, match=pattern):
        _make(method).plane_point(t, np.arange(N), y)
    with pytest.raises(InvalidParameterError, match=pattern):
        resolve_plane_estimators({"mine too": method, "bins": "binning"})


def test_information_plane_refuses_them_at_construction(layer):
    torch = pytest.importorskip("torch")
    from ibkit.nn import InformationPlane, plane_points

    t, y, _, _ = layer
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3))
    for bad in (["ksg"], {"fit": ("gaussian", {"ridge": 1e-3})}):
        with pytest.raises(InvalidParameterError, match="cannot place layers"):
            InformationPlane(model, t, y, estimators=bad)
        with pytest.raises(InvalidParameterError, match="cannot place layers"):
            plane_points({"t": t}, y, estimators=bad)


def test_the_study_estimators_are_all_on_the_plane():
    from ibkit.study.plane_study import PLANE_ESTIMATORS

    assert set(resolve_plane_estimators(PLANE_ESTIMATORS)) == set(PLANE_ESTIMATORS)

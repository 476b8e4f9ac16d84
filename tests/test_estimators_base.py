"""The estimator protocol: sample preparation, units, the registry and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from ibkit.estimators._base import (
    MIEstimator,
    Samples,
    available_methods,
    estimate_mi,
    get_estimator,
    prepare_samples,
)


class ConstantEstimator(MIEstimator):
    """Returns ln 2 nats with bounds [0, ln 4]: a fixed truth to check the plumbing."""

    name = "constant"
    min_samples = 3

    def _estimate_nats(self, samples: Samples, rng: np.random.Generator):
        return np.log(2.0), 0.0, np.log(4.0), None


def test_prepare_samples_shapes_and_discrete_labels():
    s = prepare_samples(np.arange(5.0), np.array([3, 3, 7, 7, 9]))
    assert s.x.shape == (5, 1)
    assert s.y_discrete
    assert s.y.tolist() == [0, 0, 1, 1, 2]
    s = prepare_samples(np.ones((5, 2)), np.linspace(0, 1, 5))
    assert not s.y_discrete
    assert s.y.shape == (5, 1)


def test_units_and_result_fields():
    est = ConstantEstimator(a=1)
    bits = est.estimate(np.arange(4.0), np.arange(4.0))
    nats = est.estimate(np.arange(4.0), np.arange(4.0), units="nats")
    assert_allclose([bits.value, bits.lower, bits.upper], [1.0, 0.0, 2.0])
    assert_allclose(nats.value, np.log(2.0))
    assert bits.std_error is None
    assert bits.method == "constant"
    assert bits.params == {"a": 1}
    assert bits.n_samples == 4
    assert bits.to_dict()["units"] == "bits"
    assert repr(est) == "ConstantEstimator(a=1)"


def test_the_diagnostics_of_a_plain_four_tuple():
    # ConstantEstimator is on the plane: bounded by H(y) = 2 bits for 4 distinct labels
    # (its upper bound 2 bits sits at it), or log2 n for continuous y
    labels = ConstantEstimator().estimate(np.arange(4.0), np.arange(4)).diagnostics
    assert_allclose([labels.ceiling, labels.bound_gap], [2.0, 2.0])
    assert labels.at_ceiling and not labels.negative and labels.singleton_share is None
    continuous = ConstantEstimator().estimate(np.arange(8.0), np.arange(8.0)).diagnostics
    assert_allclose(continuous.ceiling, 3.0)
    assert not continuous.at_ceiling

    class Below(ConstantEstimator):
        name = "below"
        on_plane = False  # a method for continuous samples: no ceiling

        def _estimate_nats(self, samples, rng):
            return -0.1, None, None, 0.05

    d = Below().estimate(np.arange(4.0), np.arange(4)).diagnostics
    assert d.negative and d.ceiling is None and not d.at_ceiling and d.bound_gap is None


@pytest.mark.parametrize(("bits", "negative"), [(-1e-9, False), (-9e-7, False), (-2e-6, True)])
def test_round_off_below_zero_is_not_a_negative_estimate(bits, negative):
    # a layer that carries nothing gives 0 to the round-off of float32 sums (~1e-8 bits)
    class Tiny(ConstantEstimator):
        name = "tiny"
        on_plane = False

        def _estimate_nats(self, samples, rng):
            return bits * np.log(2), None, None, None

    assert Tiny().estimate(np.arange(4.0), np.arange(4)).diagnostics.negative is negative


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.arange(4.0), np.arange(5.0), "one row per sample; got 4 and 5"),
        (np.array([0.0, np.nan, 1.0]), np.arange(3.0), "x has 1 NaN"),
        (np.ones((2, 2, 2)), np.arange(2.0), "x must be 1-D or 2-D"),
        (np.arange(2.0), np.arange(2.0), "needs at least 3 samples; got 2"),
    ],
)
def test_bad_samples(x, y, match):
    with pytest.raises(ValueError, match=match):
        ConstantEstimator().estimate(x, y)


def test_bad_units():
    with pytest.raises(ValueError, match="units must be 'bits' or 'nats'"):
        ConstantEstimator().estimate(np.arange(4.0), np.arange(4.0), units="bans")


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown method 'nope'; choose one of: .*ksg"):
        get_estimator("nope")
    with pytest.raises(ValueError, match="unknown method"):
        estimate_mi(np.arange(4.0), np.arange(4.0), method="nope")


def test_registry_holds_the_classical_methods():
    assert {"binning", "plugin", "ksg", "gaussian", "kde", "noisy_mc"} <= set(available_methods())


def test_classical_estimators_and_solvers_do_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, ibkit, ibkit.ib, ibkit.estimators\n"
        "ibkit.estimate_mi(np.arange(50.0), np.arange(50.0) % 7, method='ksg')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class DrawEstimator(MIEstimator):
    """Returns one uniform draw (nats) from its generator, to follow the seeding."""

    name = "draw"

    def _estimate_nats(self, samples: Samples, rng: np.random.Generator):
        return float(rng.random()), None, None, None


def test_default_plane_point_seeds_like_two_estimates():
    t, x_labels, y_labels = np.arange(6.0), np.arange(6), np.array([0, 0, 0, 1, 1, 1])
    est = DrawEstimator()
    first = float(np.random.default_rng(3).random())
    i_xt, i_ty = est.plane_point(t, x_labels, y_labels, units="nats", random_state=3)
    assert (i_xt.value, i_ty.value) == (first, first)  # an int seed starts each afresh
    draws = np.random.default_rng(3).random(2)
    gen = np.random.default_rng(3)
    i_xt, i_ty = est.plane_point(t, x_labels, y_labels, units="nats", random_state=gen)
    assert [i_xt.value, i_ty.value] == draws.tolist()  # a generator is shared and advances
    assert i_xt.n_samples == 6 and i_xt.units == "nats"


def test_plane_point_validates_once_for_both_coordinates():
    est = ConstantEstimator()
    with pytest.raises(ValueError, match="units must be 'bits' or 'nats'"):
        est.plane_point(np.arange(4.0), np.arange(4), np.arange(4), units="bans")
    with pytest.raises(ValueError, match="one row per sample; got 4 and 3"):
        est.plane_point(np.arange(4.0), np.arange(4), np.arange(3))
    with pytest.raises(ValueError, match="needs at least 3 samples; got 2"):
        est.plane_point(np.arange(2.0), np.arange(2), np.arange(2))

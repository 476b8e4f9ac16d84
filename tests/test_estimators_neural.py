"""Neural variational bounds (MINE, InfoNCE, NWJ) on data with known mutual information."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

import ibkit.estimators.neural  # noqa: E402,F401  (register methods)
from ibkit._validation import DivergenceError, InvalidParameterError  # noqa: E402
from ibkit.estimators._base import get_estimator  # noqa: E402

RHO = 0.8
TRUTH = -0.5 * math.log(1 - RHO**2)  # 0.511 nats
FAST = {"steps": 300, "hidden": (32, 32)}
BATCH = {"infonce": 128, "nwj": 256, "mine": 256}


def _gaussian(n=2000, rho=RHO, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    return x, rho * x + math.sqrt(1 - rho**2) * rng.standard_normal(n)


def _fit(method, x, y, units="nats", random_state=0, **params):
    est = get_estimator(method, **{**FAST, "batch_size": BATCH[method], **params})
    return est.estimate(x, y, units=units, random_state=random_state)


@pytest.mark.parametrize("method", ["infonce", "nwj", "mine"])
def test_correlated_gaussian(method):
    x, y = _gaussian()
    est = _fit(method, x, y)
    np.testing.assert_allclose(est.value, TRUTH, atol=0.2)
    assert est.value <= TRUTH + 0.1  # an estimated lower bound
    assert est.std_error is not None and est.std_error > 0
    assert est.method == method and est.n_samples == 2000 and est.units == "nats"


@pytest.mark.parametrize("method", ["infonce", "nwj", "mine"])
def test_independent_is_near_zero(method):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((1000, 2)), rng.standard_normal(1000)
    assert _fit(method, x, y).value <= 0.1


def test_infonce_capped_by_log_batch_size():
    # Nearly deterministic y: the truth (≈ 3.5 nats) exceeds log(8) ≈ 2.08.
    x, y = _gaussian(n=500, rho=0.9995)
    est = _fit("infonce", x, y, batch_size=8, steps=200)
    assert est.value <= math.log(8) + 1e-6
    assert est.value > 0.8


@pytest.mark.parametrize("method", ["infonce", "mine"])
def test_seeded_runs_repeat(method):
    x, y = _gaussian(n=600)
    a = _fit(method, x, y, steps=50, random_state=0)
    b = _fit(method, x, y, steps=50, random_state=0)
    assert a.value == b.value and a.std_error == b.std_error
    c = _fit(method, x, y, steps=50, random_state=1)
    assert c.value != a.value


def test_discrete_labels():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 1000)
    x = 4.0 * labels + rng.standard_normal(1000)  # two well-separated classes
    est = _fit("infonce", x, labels, steps=200)
    np.testing.assert_allclose(est.value, math.log(2), atol=0.2)


def test_units_bits_vs_nats():
    x, y = _gaussian(n=600)
    nats = _fit("nwj", x, y, steps=100)
    bits = _fit("nwj", x, y, steps=100, units="bits")
    np.testing.assert_allclose(bits.value, nats.value / math.log(2), rtol=1e-12)
    np.testing.assert_allclose(bits.std_error, nats.std_error / math.log(2), rtol=1e-12)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"steps": 0}, "steps must be an integer >= 1"),
        ({"batch_size": 1}, "batch_size must be an integer >= 2"),
        ({"lr": 0}, "lr must be a finite number > 0"),
        ({"holdout": 1.5}, r"holdout must be in \(0, 1\)"),
        ({"holdout": 0.0}, "holdout must be a finite number > 0"),
        ({"hidden": (0,)}, r"hidden\[0\] must be an integer >= 1"),
        ({"hidden": ()}, "hidden must be a non-empty sequence"),
        ({"n_eval_batches": 0}, "n_eval_batches must be an integer >= 1"),
        ({"ema": 0}, "ema must be a finite number > 0"),
        ({"ema": 1.5}, r"ema must be in \(0, 1\]"),
    ],
)
def test_bad_parameters(params, match):
    method = "mine" if "ema" in params else "infonce"
    with pytest.raises(ValueError, match=match):
        get_estimator(method, **params)


def test_too_few_samples():
    with pytest.raises(ValueError, match="at least 20 samples"):
        get_estimator("nwj").estimate(np.arange(10.0), np.arange(10.0))


def test_params_recorded():
    est = get_estimator("mine", hidden=[16], steps=5)
    assert est.params["hidden"] == (16,)
    assert est.params["ema"] == 0.01
    assert est.params["batch_size"] == 256 and est.params["holdout"] == 0.2


@pytest.mark.parametrize("method", ["infonce", "nwj", "mine"])
def test_divergent_training_is_an_error_naming_the_learning_rate(method):
    # lr = 1e6 sends the critic's scores to ~1e11 or NaN; that is no estimate.
    x, y = _gaussian(n=400)
    with pytest.raises(DivergenceError, match=r"diverged: .*lower lr \(got 1e\+06"):
        _fit(method, x, y, lr=1e6, steps=20)


@pytest.mark.parametrize("method", ["infonce", "nwj", "mine"])
def test_unknown_parameter_is_refused_with_the_accepted_ones(method):
    with pytest.raises(InvalidParameterError, match=r"no parameter 'step'; it accepts: "
                       r"batch_size, .*hidden, holdout, lr, n_eval_batches, steps"):  # fmt: skip
        get_estimator(method, step=5)

"""β sweeps of the IB classifiers and their figure."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from ibkit._validation import DivergenceError
from ibkit.datasets import load_digits
from ibkit.nn import vib_sweep
from ibkit.nn.vib_plots import plot_vib_sweep

matplotlib.use("Agg")
from test_nn_vib import _blobs  # noqa: E402

SMALL = dict(epochs=15, dim=4, encoder=(32,), lr=1e-2, batch_size=60)


@pytest.fixture(scope="module")
def sweep():
    x, y = _blobs(n=300)
    return vib_sweep(x, y, [0.0, 1e-3, 1e-1, 10.0], fgsm_eps=[0.0, 0.3], **(SMALL | {"epochs": 30}))


def test_rate_falls_with_beta_and_points_lie_under_the_bounds(sweep):
    rate = sweep["rate_bits"].to_numpy()
    assert np.all(np.diff(rate) < 0)
    assert rate[-1] < 0.2 < 3.0 < rate[1]
    np.testing.assert_allclose(sweep["h_y_bits"], math.log2(3))  # balanced training labels
    assert np.all(sweep["relevance_bits"] <= sweep["h_y_bits"])
    assert np.all(sweep["relevance_bits"] <= sweep["rate_bits"] + 0.05)  # I(Z;Y) <= I(X;Z)


def test_accuracy_holds_for_small_beta_and_falls_to_chance_at_large_beta(sweep):
    acc = sweep["test_acc"].to_numpy()
    assert np.all(acc[:3] > 0.95)
    np.testing.assert_allclose(sweep["chance_acc"], 1 / 3, atol=0.01)
    assert acc[-1] < 0.5


def test_fgsm_columns_start_at_the_clean_accuracy_and_fall(sweep):
    assert list(sweep.columns[-2:]) == ["fgsm_acc_0", "fgsm_acc_0.3"]
    # eps = 0 leaves the inputs as they are (only the model's noise is drawn afresh)
    np.testing.assert_allclose(sweep["fgsm_acc_0"][:3], sweep["test_acc"][:3], atol=0.05)
    assert sweep["fgsm_acc_0.3"].iloc[0] < sweep["fgsm_acc_0"].iloc[0]


def test_seeded_sweeps_repeat_exactly():
    x, y = _blobs(n=120)
    a = vib_sweep(x, y, [1e-2], **(SMALL | dict(epochs=3)))
    b = vib_sweep(x, y, [1e-2], **(SMALL | dict(epochs=3)))
    cols = ["rate_bits", "relevance_bits", "train_acc", "test_acc"]
    np.testing.assert_array_equal(a[cols].to_numpy(), b[cols].to_numpy())


def test_nonlinear_ib_sweep_keeps_the_kde_bound_under_log_batch():
    x, y = _blobs(n=150)
    calls = []
    df = vib_sweep(
        x,
        y,
        [1e-3, 1.0],
        model="nonlinear_ib",
        decoder=(8,),
        power=2,
        progress=lambda d, t: calls.append((d, t)),
        **(SMALL | dict(dim=2, epochs=4)),
    )
    assert np.all(df["rate_bits"] <= math.log2(60) + 1e-6)
    assert calls[-1] == (8, 8) and len(calls) == 8
    assert list(df["model"]) == ["nonlinear_ib"] * 2


def test_explicit_test_set_is_used():
    x, y = _blobs(n=150)
    xt, yt = _blobs(n=30, seed=5)
    df = vib_sweep(x, y, [1e-3], x_test=xt, y_test=(yt + 1) % 3, **SMALL)  # shifted labels
    assert df["train_acc"].iloc[0] > 0.95  # all of x, y trained on
    assert df["test_acc"].iloc[0] < 0.1  # the given test set, whose labels are all wrong


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (dict(betas=[1e-3, -1.0]), r"betas\[1\] must be a finite number >= 0; got -1.0"),
        (dict(betas=[1e-3, 1e300]), r"betas\[1\] must be at most 3.4e\+38"),
        (dict(progress=5), "progress must be None or a callable; got int"),
        (dict(y=np.zeros(5, dtype=int)), "60 rows but y has 5 labels"),
        (dict(model="mine"), "model must be one of"),
        (dict(test_size=1.5), r"test_size must be in \(0, 1\)"),
        (dict(x_test=np.zeros((3, 4))), "both x_test and y_test"),
        (dict(betas=[]), "betas is empty"),
    ],
)
def test_sweep_rejects_bad_input(args, match):
    x, y = _blobs(n=60)
    kwargs = dict(x=x, y=y, betas=[1e-3], epochs=1) | args
    with pytest.raises(ValueError, match=match):
        vib_sweep(**kwargs)


def test_a_diverging_beta_stops_the_sweep_instead_of_a_nan_row():
    x, y = _blobs(n=60)
    calls = []
    with pytest.raises(DivergenceError, match=r"lower beta \(now 1e\+38\)"):
        vib_sweep(x, y, [1e-3, 1e38], progress=lambda d, t: calls.append(d), **SMALL)
    assert calls == list(range(1, 16))  # the first beta trained, the second stopped


def test_a_runaway_lr_on_digits_stops_the_sweep_instead_of_finite_nonsense():
    # lr=100 sends the digits loss to ~1e12 nats while it stays finite: the sweep used to
    # return rows of rate ~1e15 bits and chance accuracy; the default lr trains as usual
    x, y = load_digits()
    with pytest.raises(DivergenceError, match=r"above \S+ nats.*lower lr \(now 100\)"):
        vib_sweep(x, y, [0.0], epochs=1, lr=100.0)
    with pytest.raises(DivergenceError, match=r"lower beta \(now 0.001\) or lr \(now 100\)"):
        vib_sweep(x, y, [1e-3], epochs=1, lr=100.0)
    df = vib_sweep(x, y, [0.0, 1e-3], epochs=2)
    assert np.all(df["test_acc"] > 0.5)  # chance is 0.1
    assert np.all(df["ce_bits"] < math.log2(10))


def test_plot_has_the_plane_accuracy_and_robustness_panels(sweep):
    fig = plot_vib_sweep(sweep)
    assert len(fig.axes) == 4  # plane, its colour bar, accuracy, robustness
    plane = fig.axes[0]
    h_y = math.log2(3)
    bound = plane.lines[0].get_ydata()
    np.testing.assert_allclose(max(bound), h_y)  # the I(Z;Y) <= H(Y) line
    without = plot_vib_sweep(sweep.drop(columns=["fgsm_acc_0", "fgsm_acc_0.3"]))
    assert len(without.axes) == 3
    plt.close(fig)
    plt.close(without)


def test_plot_rejects_a_table_without_the_columns():
    with pytest.raises(ValueError, match="lacks the columns"):
        plot_vib_sweep(np.zeros(3))

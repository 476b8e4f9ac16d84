"""VIB layer and classifier, NonlinearIB, training and FGSM, checked against outside truth."""

import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from ibkit._validation import DivergenceError, InvalidParameterError
from ibkit.estimators.kde import KDEEstimator
from ibkit.nn.adversarial import fgsm_accuracy
from ibkit.nn.nonlinear_ib import GaussianNoise, NonlinearIB, kde_upper_bound
from ibkit.nn.vib import VariationalBottleneck, VIBClassifier, gaussian_kl, train_vib


def _blobs(n=240, n_classes=3, seed=0):
    """Well separated Gaussian blobs in [0, 1]^4 (fixed centres) with balanced labels."""
    centres = np.random.default_rng(100).random((n_classes, 4)) * 0.6 + 0.2
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    x = np.clip(centres[y] + 0.03 * rng.standard_normal((n, 4)), 0, 1).astype(np.float32)
    return x, y


def _set_layer(layer: VariationalBottleneck, mu: np.ndarray, rho: np.ndarray) -> None:
    """Make the layer's output independent of its input: weight 0, bias (mu, rho)."""
    with torch.no_grad():
        layer.linear.weight.zero_()
        layer.linear.bias.copy_(torch.as_tensor(np.concatenate([mu, rho])))


# --- the KL term --------------------------------------------------------------------------


def test_gaussian_kl_matches_monte_carlo_and_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    log_sigma = 0.5 * torch.randn(3, 5, generator=gen, dtype=torch.float64)
    q = torch.distributions.Normal(mu, log_sigma.exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((200_000,))
    log_ratio = (q.log_prob(z) - p.log_prob(z)).sum(-1)  # (samples, 3)
    mc, se = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(z.shape[0])
    kl = gaussian_kl(mu, log_sigma)
    assert torch.all((kl - mc).abs() < 5 * se)
    exact = torch.distributions.kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(kl, exact)


def test_gaussian_kl_is_zero_only_at_the_prior():
    zero = gaussian_kl(torch.zeros(1, 4), torch.zeros(1, 4))
    assert float(zero) == 0.0
    assert float(gaussian_kl(torch.zeros(1, 4), torch.full((1, 4), 0.1))) > 0


# --- the bottleneck layer -----------------------------------------------------------------


def test_layer_samples_have_the_mean_and_softplus_sigma_and_its_kl():
    torch.manual_seed(0)
    layer = VariationalBottleneck(3, 2)
    mu, rho = np.array([0.5, -1.0]), np.array([5.3, 4.0])
    _set_layer(layer, mu, rho)
    sigma = np.log1p(np.exp(rho - 5.0))  # softplus(rho - 5)
    z = layer(torch.zeros(100_000, 3)).detach().double().numpy()
    np.testing.assert_allclose(z.mean(0), mu, atol=5 * sigma.max() / math.sqrt(len(z)))
    np.testing.assert_allclose(z.std(0), sigma, rtol=0.02)
    kl = 0.5 * (mu**2 + sigma**2 - 1 - np.log(sigma**2)).sum()
    np.testing.assert_allclose(layer.kl().detach().numpy(), kl, rtol=1e-5)


def test_layer_eval_mode_returns_the_mean_deterministically():
    torch.manual_seed(0)
    layer = VariationalBottleneck(6, 3).eval()
    x = torch.rand(8, 6)
    expected = x @ layer.linear.weight[:3].T + layer.linear.bias[:3]
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer(x), layer(x), rtol=0, atol=0)


def test_layer_eval_draws_stack_samples_in_front():
    layer = VariationalBottleneck(6, 3, n_samples_eval=5).eval()
    assert layer(torch.rand(8, 6)).shape == (5, 8, 3)


def test_layer_kl_is_finite_for_tiny_sigma():
    layer = VariationalBottleneck(1, 1)
    _set_layer(layer, np.array([0.0]), np.array([-200.0]))  # sigma = e^-205 underflows
    layer(torch.zeros(1, 1))
    # KL = ½(σ² − 1 − log σ²) with log σ = -205 (softplus(r) ≈ e^r far below 0)
    np.testing.assert_allclose(float(layer.kl().detach()), 0.5 * (-1 + 2 * 205.0), rtol=1e-6)


@pytest.mark.parametrize("dim", [0, -3, 2.5])
def test_layer_rejects_bad_dim(dim):
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        VariationalBottleneck(4, dim)


def test_layer_kl_before_forward_says_what_to_do():
    with pytest.raises(RuntimeError, match="forward pass first"):
        VariationalBottleneck(4, 2).kl()


# --- training -----------------------------------------------------------------------------


def _train(beta, seed=0, epochs=15, **kw):
    x, y = _blobs()
    torch.manual_seed(0)
    model = VIBClassifier(4, 3, encoder=(32,), dim=4, beta=beta)
    hist = train_vib(model, x, y, epochs=epochs, lr=1e-2, batch_size=60, random_state=seed, **kw)
    return model, hist


def test_history_bounds_hold_and_h_y_is_the_label_entropy():
    _, hist = _train(1e-3)
    np.testing.assert_allclose(hist.h_y_bits, math.log2(3))  # balanced labels
    assert np.all(hist.rate_bits >= 0)
    assert np.all(hist.relevance_bits <= hist.h_y_bits)
    assert hist.train_acc[-1] == 1.0
    assert np.isnan(hist.test_acc).all()


def test_large_beta_drives_the_rate_to_zero_and_accuracy_to_chance():
    _, small = _train(1e-3)
    _, large = _train(10.0, epochs=40)
    assert small.rate_bits[-1] > 3.0
    assert large.rate_bits[-1] < 0.1
    assert abs(large.relevance_bits[-1]) < 0.05  # I(Z;Y) <= I(X;Z) ~ 0
    assert large.train_acc[-1] < 0.5


def test_seeded_runs_repeat_exactly_and_other_seeds_differ():
    m1, h1 = _train(1e-2, seed=3)
    m2, h2 = _train(1e-2, seed=3)
    _, h3 = _train(1e-2, seed=4)
    for f in ("rate_bits", "relevance_bits", "train_acc"):
        np.testing.assert_array_equal(getattr(h1, f), getattr(h2, f))
    for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
        torch.testing.assert_close(p1, p2, rtol=0, atol=0)
    assert not np.array_equal(h1.rate_bits, h3.rate_bits)


def test_training_leaves_the_global_torch_rng_alone():
    x, y = _blobs()
    model = VIBClassifier(4, 3, encoder=(), dim=2)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_vib(model, x, y, epochs=1, random_state=0)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)


def test_progress_is_called_once_per_epoch():
    calls = []
    _train(1e-3, epochs=3, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_eval_every_records_those_epochs_and_the_last():
    _, hist = _train(1e-3, epochs=5, eval_every=2)
    np.testing.assert_array_equal(hist.epoch, [2, 4, 5])
    assert len(hist.to_frame()) == 3


def test_test_set_accuracy_is_recorded():
    x, y = _blobs(seed=1)
    _, hist = _train(1e-3, x_test=x, y_test=y)
    assert hist.test_acc[-1] > 0.9


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(y_train=np.zeros(7, dtype=int)), "240 rows but y_train has 7 labels"),
        (dict(y_train=np.full(240, 5)), "label 5 but the model has 3 classes"),
        (dict(x_train=np.zeros((240, 9))), "9 columns but the model takes 4"),
        (dict(y_train=np.full(240, 0.5)), "integer class labels"),
        (dict(epochs=0), "epochs must be an integer >= 1"),
        (dict(decay=1.5), r"decay must be in \(0, 1\]"),
        (dict(x_test=np.zeros((3, 4))), "both x_test and y_test"),
    ],
)
def test_train_vib_rejects_bad_input(kwargs, match):
    x, y = _blobs()
    args = dict(x_train=x, y_train=y, epochs=1) | kwargs
    with pytest.raises(ValueError, match=match):
        train_vib(VIBClassifier(4, 3, encoder=(), dim=2), **args)


def test_classifier_rejects_negative_beta():
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        VIBClassifier(4, 3, beta=-1e-3)


def test_classifier_rejects_a_beta_beyond_float32():
    # 1e300 is inf in the float32 loss: every rate would be NaN
    with pytest.raises(InvalidParameterError, match=r"beta must be at most 3.4e\+38.*got 1e\+300"):
        VIBClassifier(4, 3, beta=1e300)


def _nonlinear_ib(beta):
    return NonlinearIB(4, 3, encoder=(8,), dim=2, decoder=(8,), beta=beta)


@pytest.mark.parametrize(
    ("make", "scale", "match"),
    [
        # beta * KL overflows float32 (max 3.4e38) for any KL above 3.4 nats
        (lambda: VIBClassifier(4, 3, encoder=(8,), dim=2, beta=1e38), 1.0, r"beta \(now 1e\+38\)"),
        # squared inputs of 1e30 overflow the KL (VIB) and the pairwise distances (NonlinearIB)
        (lambda: VIBClassifier(4, 3, encoder=(8,), dim=2, beta=1e-3), 1e30, "standardise x_train"),
        (lambda: _nonlinear_ib(0.1), 1e30, "standardise x_train"),
        (lambda: _nonlinear_ib(0.0), 1e30, r"lower lr \(now 0.01\), or standardise"),
    ],
)
def test_training_stops_when_the_loss_is_not_finite(make, scale, match):
    x, y = _blobs(n=60)
    torch.manual_seed(0)
    calls = []
    with pytest.raises(DivergenceError, match=match) as info:
        train_vib(
            make(),
            x * scale,
            y,
            epochs=3,
            lr=1e-2,
            random_state=0,
            progress=lambda d, t: calls.append(d),
        )
    assert "training diverged at epoch 1" in str(info.value)
    assert calls == []  # stopped inside the first epoch, before reporting it


def test_train_vib_refuses_inputs_beyond_float32():
    x, y = _blobs(n=60)
    with pytest.raises(InvalidParameterError, match="x_train has entries beyond the range"):
        train_vib(VIBClassifier(4, 3, encoder=(), dim=2), x.astype(float) * 1e40, y, epochs=1)


def test_train_vib_checks_progress_before_training():
    x, y = _blobs(n=60)
    model = VIBClassifier(4, 3, encoder=(), dim=2)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(InvalidParameterError, match="progress must be None or a callable; got int"):
        train_vib(model, x, y, epochs=1, progress=5)
    for p, q in zip(model.parameters(), before, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


# --- NonlinearIB --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_kde_bound_equals_the_estimator_module(dtype):
    rng = np.random.default_rng(0)
    h = rng.standard_normal((64, 3))
    h[5] = h[4]  # a repeated row
    for s2 in (0.05, 0.5, 5.0):
        ref = (
            KDEEstimator(noise_variance=s2, dtype="float64")
            .estimate(h, np.arange(64), units="nats")
            .upper
        )
        got = float(kde_upper_bound(torch.as_tensor(h, dtype=dtype), s2))
        np.testing.assert_allclose(got, ref, rtol=1e-10 if dtype == torch.float64 else 1e-5)


@pytest.mark.parametrize(
    ("h", "noise_variance", "param"),
    [
        (torch.ones(4, 2, dtype=torch.complex64), 0.1, "h"),
        (torch.ones(4, 2), torch.tensor(0.1 + 0j), "noise_variance"),
        (torch.ones(4, 2), 0.1j, "noise_variance"),
    ],
    ids=["complex-h", "complex-tensor-variance", "complex-variance"],
)
def test_kde_bound_refuses_complex_input_naming_it(h, noise_variance, param):
    with pytest.raises(InvalidParameterError, match=rf"^{param} is complex; pass real numbers"):
        kde_upper_bound(h, noise_variance)


def test_nonlinear_ib_rate_is_the_estimators_bound_on_its_layer():
    torch.manual_seed(0)
    model = NonlinearIB(4, 3, encoder=(16,), dim=2, decoder=(8,), noise_variance=1e-3)
    x, y = _blobs(n=50)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    rate = float(model.loss(xt, yt).rate.detach())
    h = model.encoder(xt).detach().double().numpy()
    est = KDEEstimator(noise_variance=1e-3, dtype="float64")
    ref = est.estimate(h, np.arange(50), units="nats").upper
    assert ref > 0.5  # the layer's spread is well above the noise
    np.testing.assert_allclose(rate, ref, rtol=1e-5)
    assert rate <= math.log(50) + 1e-6


def test_gradient_reaches_the_noise_variance_with_the_finite_difference_sign():
    torch.manual_seed(0)
    model = NonlinearIB(4, 3, encoder=(16,), dim=2, decoder=(), beta=1.0, power=2)
    x, y = _blobs(n=50)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    model.loss(xt, yt).total.backward()
    grad = model.noise.log_variance.grad
    assert grad is not None and torch.isfinite(grad) and grad != 0
    # the KDE bound alone: d/d(log σ²) by autograd and by central differences
    h = torch.randn(30, 2, dtype=torch.float64)
    lv = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    kde_upper_bound(h, lv.exp()).backward()
    step = 1e-5
    fd = float(kde_upper_bound(h, math.exp(step))) - float(kde_upper_bound(h, math.exp(-step)))
    np.testing.assert_allclose(float(lv.grad), fd / (2 * step), rtol=1e-6)
    assert float(lv.grad) < 0  # more noise, less information


def test_gaussian_noise_draws_have_the_set_variance():
    torch.manual_seed(0)
    noise = GaussianNoise(noise_variance=0.25)
    t = noise(torch.zeros(100_000, 2)).detach().numpy()
    np.testing.assert_allclose(t.var(0), 0.25, rtol=0.02)
    h = torch.rand(3, 2)
    torch.testing.assert_close(noise.eval()(h), h)


def test_nonlinear_ib_trains_with_squared_penalty():
    x, y = _blobs()
    torch.manual_seed(0)
    model = NonlinearIB(4, 3, encoder=(32,), dim=2, decoder=(16,), beta=0.05, power=2)
    hist = train_vib(model, x, y, epochs=15, lr=1e-2, batch_size=60, random_state=0)
    assert hist.train_acc[-1] > 0.9
    assert np.all(hist.rate_bits <= math.log2(60) + 1e-6)  # KDE bound <= log2(batch)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(power=3), "power must be 1"),
        (dict(beta=-1.0), "beta must be"),
        (dict(noise_variance=0.0), "noise_variance must be"),
        (dict(dim=0), "dim must be"),
        (dict(encoder="wide"), "encoder must be a sequence"),
    ],
)
def test_nonlinear_ib_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NonlinearIB(4, 3, **kwargs)


# --- FGSM ---------------------------------------------------------------------------------


def test_fgsm_accuracy_on_a_linear_model_matches_the_margin_rule():
    # For logits Wx + b with two classes, FGSM lowers the margin m = (w_y - w_o)·x + b_y - b_o
    # by exactly eps * ||w_y - w_o||_1 (no clipping), so accuracy = mean(m > eps ||Δw||_1).
    torch.manual_seed(0)
    lin = nn.Linear(5, 2).double()
    x = np.random.default_rng(1).standard_normal((500, 5))
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    y = (x @ w[1] + b[1] > x @ w[0] + b[0]).astype(int)
    y[:50] = 1 - y[:50]  # some wrong labels: their margin is negative
    margin = np.where(y == 1, 1, -1) * (x @ (w[1] - w[0]) + b[1] - b[0])
    eps = np.array([0.0, 0.05, 0.2, 0.5])
    expected = [(margin > e * np.abs(w[1] - w[0]).sum()).mean() for e in eps]
    model = nn.Sequential(lin, nn.Flatten()).float()
    np.testing.assert_allclose(fgsm_accuracy(model, x, y, eps, clip=None), expected, atol=1e-12)


def test_fgsm_rejects_bad_input():
    lin = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        fgsm_accuracy(lin, np.zeros((3, 2)), [0, 1, 0], -0.1)
    with pytest.raises(ValueError, match="outside clip"):
        fgsm_accuracy(lin, np.full((3, 2), 2.0), [0, 1, 0], 0.1)
    with pytest.raises(ValueError, match="3 rows but y has 2 labels"):
        fgsm_accuracy(lin, np.zeros((3, 2)), [0, 1], 0.1)


@pytest.mark.parametrize(
    ("make", "lr", "knobs"),
    [
        (lambda: VIBClassifier(4, 3, encoder=(8,), dim=2, beta=0.0), 100.0, "lower lr (now 100)"),
        (
            lambda: VIBClassifier(4, 3, encoder=(8,), dim=2, beta=1e-3),
            100.0,
            "lower beta (now 0.001) or lr (now 100)",
        ),
        (lambda: _nonlinear_ib(0.0), 10.0, "lower lr (now 10)"),
    ],
    ids=["vib", "vib-beta", "nonlinear-ib"],
)
def test_training_stops_when_the_loss_runs_away_while_finite(make, lr, knobs):
    # a learning rate this large throws the weights far away: the loss is thousands of
    # nats yet finite, and its rows would be nonsense
    x, y = _blobs(n=60)
    torch.manual_seed(0)
    calls = []
    with pytest.raises(DivergenceError) as info:
        train_vib(
            make(),
            x,
            y,
            epochs=3,
            lr=lr,
            batch_size=20,
            random_state=0,
            progress=lambda d, t: calls.append(d),
        )
    message = str(info.value)
    found = re.search(r"training loss is (\S+) nats, above (\S+) nats", message)
    assert found is not None, message
    assert float(found[1]) > float(found[2]) >= 10 * math.log(3) - 0.05  # 10 ln K at least
    assert "training diverged at epoch 1" in message and knobs in message
    assert calls == []

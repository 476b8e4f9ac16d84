"""Tests of rate–distortion and channel capacity against truths from outside the solver.

Truth comes from: closed forms (a Bernoulli(p) source under Hamming distortion has
R(D) = H(p) − H(D) for D ≤ min(p, 1 − p), reached at slope β where D = 1/(1 + e^β); a
uniform source on m letters has R(D) = log m − H(D) − D log(m − 1), reached where
D = (m − 1)/(m − 1 + e^β); the binary symmetric channel has capacity 1 − H(ε), the
binary erasure channel 1 − e, the Z channel log2(1 + (1 − ε) ε^{ε/(1−ε)})); the
optimality of the solution against any other encoder (its Lagrangian is the least) and
of the capacity against any other input; a grid search for R(D_min) with ties; the
information bottleneck traced by :func:`ibkit.ib.ib_curve` (the IB is rate–distortion
with the distortion KL[p(y|x) ‖ p(y|t)]); and the validation messages at the edge.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.special import rel_entr, xlogy

from ibkit import ConvergenceWarning, InvalidParameterError
from ibkit.ib import CurveResult, ib_curve
from ibkit.measures import entropy, mutual_information
from ibkit.rd import CapacityResult, RDCurve, RDResult, blahut_arimoto, channel_capacity, rd_curve

LN2 = math.log(2.0)


def h2(p: np.ndarray | float) -> np.ndarray:
    """Binary entropy in bits."""
    p = np.asarray(p, dtype=float)
    return -(xlogy(p, p) + xlogy(1 - p, 1 - p)) / LN2


def hamming(m: int) -> np.ndarray:
    return 1.0 - np.eye(m)


def bernoulli_rd(p: float, d: np.ndarray) -> np.ndarray:
    """R(D) in bits of a Bernoulli(p) source under Hamming distortion."""
    return np.where(d < min(p, 1 - p), h2(p) - h2(np.minimum(d, 0.5)), 0.0)


def uniform_rd(m: int, d: np.ndarray) -> np.ndarray:
    """R(D) in bits of a uniform source on m letters under Hamming distortion."""
    r = np.log2(m) - h2(d) - d * np.log2(m - 1)
    return np.where(d < (m - 1) / m, r, 0.0)


def random_source(seed: int, n_x: int = 5, n_xhat: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(n_x)), rng.random((n_x, n_xhat)) * 3.0


def lagrangian_nats(p_x: np.ndarray, d: np.ndarray, encoder: np.ndarray, beta: float) -> float:
    """I(X;X̂) + β·E d of any encoder, computed from the joint it makes."""
    joint = p_x[:, None] * encoder
    return mutual_information(joint, units="nats") + beta * float((joint * d).sum())


# --------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("p", [0.5, 0.2, 0.11])
@pytest.mark.parametrize("beta", [0.3, 1.0, 2.0, 3.0, 7.0, 20.0])
def test_bernoulli_hamming_point_is_the_closed_form(p, beta):
    res = blahut_arimoto([1 - p, p], hamming(2), beta)
    assert res.converged
    d_beta = 1.0 / (1.0 + math.exp(beta))
    if d_beta < min(p, 1 - p):  # past the slope where the curve leaves (D_max, 0)
        assert_allclose(res.distortion, d_beta, rtol=1e-6)
        assert_allclose(res.rate, h2(p) - h2(d_beta), rtol=1e-6, atol=1e-9)
    else:
        assert_allclose(res.distortion, min(p, 1 - p), rtol=1e-6)
        assert_allclose(res.rate, 0.0, atol=1e-8)
    # certified by Blahut's bound: on or above the curve, at most `gap` above it
    truth = bernoulli_rd(p, np.array(res.distortion))
    assert truth - 1e-12 <= res.rate <= truth + res.gap + 1e-12


@pytest.mark.parametrize("m", [3, 5])
@pytest.mark.parametrize("beta", [0.5, 2.0, 6.0])
def test_uniform_source_point_is_the_closed_form(m, beta):
    res = blahut_arimoto(np.full(m, 1 / m), hamming(m), beta)
    d_beta = (m - 1) / (m - 1 + math.exp(beta))
    assert_allclose(res.distortion, d_beta, rtol=1e-9)
    assert_allclose(res.rate, uniform_rd(m, np.array(d_beta)), rtol=1e-9, atol=1e-12)
    assert_allclose(res.p_xhat, np.full(m, 1 / m), rtol=1e-12)


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_bernoulli_curve_matches_the_closed_form(p):
    curve = rd_curve([1 - p, p], hamming(2))
    assert curve.d_min == 0.0 and curve.d_max == pytest.approx(min(p, 1 - p), abs=1e-15)
    assert_allclose(curve.rate_at_d_min, h2(p), rtol=1e-9)
    # every per-β point on the curve, to the solver's tolerance
    assert_allclose(curve.rate, bernoulli_rd(p, curve.distortion), rtol=0, atol=1e-8)
    # the frontier: chords of a convex curve lie on or above it, and close to it
    d = np.linspace(0.0, min(p, 1 - p), 101)
    gap = curve.rate_at(d) - bernoulli_rd(p, d)
    assert gap.min() >= -1e-8
    assert gap.max() <= 0.02 * h2(p)
    assert curve.rate_at(1.0) == 0.0 and curve.rate_at(-0.01) == np.inf


@pytest.mark.parametrize("m", [2, 4, 16])
def test_uniform_curve_matches_the_closed_form(m):
    curve = rd_curve(np.full(m, 1 / m), hamming(m), units="nats")
    assert_allclose(curve.d_max, (m - 1) / m, rtol=1e-12)
    assert_allclose(curve.rate_at_d_min, math.log(m), rtol=1e-12)
    assert_allclose(curve.rate / LN2, uniform_rd(m, curve.distortion), atol=1e-10)
    assert curve.envelope_distortion[0] == 0.0 and curve.envelope_rate[-1] == 0.0


def test_large_beta_is_exact_and_finite():
    p_x, d = random_source(0)
    for beta in (1e3, 1e6, 1e10):
        res = blahut_arimoto(p_x, d, beta)
        assert np.isfinite(res.p_xhat_given_x).all() and res.converged
        # the limit: every x goes to its nearest reproduction
        assert_allclose(res.p_xhat_given_x, np.eye(4)[d.argmin(axis=1)], atol=1e-12)
        assert_allclose(res.distortion, p_x @ d.min(axis=1), rtol=1e-12)


# --------------------------------------------------------------------------- optimality


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    beta=st.floats(0.05, 50.0),
    n_x=st.integers(1, 6),
    n_xhat=st.integers(1, 5),
)
def test_no_encoder_has_a_lower_lagrangian(seed, beta, n_x, n_xhat):
    rng = np.random.default_rng(seed)
    p_x, d = rng.dirichlet(np.ones(n_x)), rng.random((n_x, n_xhat)) * 2.0
    res = blahut_arimoto(p_x, d, beta, units="nats")
    assert res.converged
    best = lagrangian_nats(p_x, d, res.p_xhat_given_x, beta)
    assert_allclose(res.objective, best, rtol=1e-10, atol=1e-12)
    assert_allclose(res.objective, res.rate + beta * res.distortion, rtol=1e-12)
    for encoder in rng.dirichlet(np.ones(n_xhat) * 0.5, size=(20, n_x)):
        assert lagrangian_nats(p_x, d, encoder, beta) >= best - 1e-9
    # D_min ≤ D (any encoder); R + β·D ≤ β·D_max + gap (R = 0 at D_max is feasible)
    assert p_x @ d.min(axis=1) - 1e-12 <= res.distortion
    assert res.rate + beta * res.distortion <= beta * (p_x @ d).min() + res.gap + 1e-12
    assert -1e-12 <= res.rate <= entropy(p_x, units="nats") + 1e-12


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_x=st.integers(2, 5), n_xhat=st.integers(2, 4))
def test_curve_is_monotone_convex_and_within_its_ends(seed, n_x, n_xhat):
    rng = np.random.default_rng(seed)
    p_x, d = rng.dirichlet(np.ones(n_x)), rng.random((n_x, n_xhat))
    curve = rd_curve(p_x, d, units="nats")
    assert np.all(np.diff(curve.betas) > 0)
    assert np.all(np.diff(curve.distortion) <= 1e-9)  # larger slope, less distortion
    assert np.all(np.diff(curve.rate) >= -1e-9)
    assert np.all(curve.distortion >= curve.d_min - 1e-12)
    # a converged point is within tol = 1e-10 nats of optimal: D ≤ D_max + tol/β
    assert curve.converged.all()
    assert np.all(curve.distortion <= curve.d_max + 1e-10 / curve.betas + 1e-12)
    assert np.all(curve.rate <= curve.rate_at_d_min + 1e-9)
    assert curve.rate_at_d_min <= entropy(p_x, units="nats") + 1e-12
    env_d, env_r = curve.envelope_distortion, curve.envelope_rate
    assert_allclose([env_d[0], env_r[-1], env_d[-1]], [curve.d_min, 0.0, curve.d_max])
    slopes = np.diff(env_r) / np.diff(env_d)
    assert np.all(slopes <= 0) and np.all(np.diff(slopes) >= -1e-9)


def test_curve_at_given_betas_agrees_with_single_solves():
    p_x, d = random_source(1)
    betas = [8.0, 0.5, 2.0]
    curve = rd_curve(p_x, d, betas)
    assert_allclose(curve.betas, sorted(betas))
    for beta, rate, dist in zip(curve.betas, curve.rate, curve.distortion, strict=True):
        res = blahut_arimoto(p_x, d, beta)
        assert_allclose([rate, dist], [res.rate, res.distortion], rtol=1e-5, atol=1e-8)


def test_rate_at_d_min_with_ties_is_the_least_rate():
    # x = 1 is equally well served by both reproductions; the least I(X;X̂) at D = 0
    # is found by a grid search over the share λ it sends to the first
    p_x = np.array([0.5, 0.3, 0.2])
    d = np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    grid = min(
        mutual_information(p_x[:, None] * np.array([[1, 0], [v, 1 - v], [0, 1]]))
        for v in np.linspace(0.0, 1.0, 2001)
    )
    curve = rd_curve(p_x, d)
    assert grid - 1e-6 <= curve.rate_at_d_min <= grid + 1e-12
    assert curve.rate_at_d_min < min(h2(0.8), h2(0.5))  # below either hard choice for x = 1


def test_one_reproduction_best_for_all_gives_a_single_point():
    d = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 0.5]])
    curve = rd_curve([0.2, 0.3, 0.5], d)
    assert curve.d_min == curve.d_max == 0.0 and curve.rate_at_d_min == 0.0
    assert_allclose(curve.rate, [0.0], atol=1e-12) and len(curve.betas) == 1


def test_inputs_of_zero_mass_change_nothing():
    p_x, d = random_source(2)
    p_with = np.insert(p_x, 2, 0.0)
    d_with = np.insert(d, 2, [9.0, 0.0, 4.0, 1.0], axis=0)
    a = blahut_arimoto(p_x, d, 3.0)
    b = blahut_arimoto(p_with, d_with, 3.0)
    assert_allclose([a.rate, a.distortion], [b.rate, b.distortion], rtol=1e-12)
    assert_allclose(b.p_xhat_given_x.sum(axis=1), 1.0)
    ca, cb = rd_curve(p_x, d, [1.0, 4.0]), rd_curve(p_with, d_with, [1.0, 4.0])
    assert_allclose(ca.rate, cb.rate, rtol=1e-12) and ca.d_max == cb.d_max


def test_units_only_scale_the_rates():
    p_x, d = random_source(3)
    bits, nats = blahut_arimoto(p_x, d, 2.0), blahut_arimoto(p_x, d, 2.0, units="nats")
    assert_allclose(bits.rate * LN2, nats.rate, rtol=1e-12)
    assert_allclose(bits.objective * LN2, nats.objective, rtol=1e-12)
    assert bits.distortion == nats.distortion
    cb, cn = rd_curve(p_x, d, [1.0, 3.0]), rd_curve(p_x, d, [1.0, 3.0], units="nats")
    assert_allclose(cb.envelope_rate * LN2, cn.envelope_rate, rtol=1e-12)


def test_results_are_deterministic():
    p_x, d = random_source(4)
    a, b = rd_curve(p_x, d), rd_curve(p_x, d)
    assert a.to_dict() == b.to_dict()


def test_non_convergence_warns_and_still_bounds_the_curve():
    p, beta = 0.2, 1.45  # just past the slope log 4 where the second letter comes in
    with pytest.warns(ConvergenceWarning, match=r"increase max_iter or tol"):
        res = blahut_arimoto([1 - p, p], hamming(2), beta, max_iter=3, tol=1e-14)
    assert not res.converged and res.gap > 1e-14 and res.n_iter == 3
    truth = bernoulli_rd(p, np.array(res.distortion))
    assert truth - 1e-12 <= res.rate <= truth + res.gap + 1e-12
    with pytest.warns(ConvergenceWarning, match=r"rd_curve: \d+ of \d+ solves"):
        curve = rd_curve([1 - p, p], hamming(2), [beta], max_iter=3, tol=1e-14)
    assert not curve.converged.any()


def test_progress_reports_every_beta():
    calls = []
    rd_curve([0.5, 0.5], hamming(2), [1.0, 2.0, 3.0], progress=lambda *a: calls.append(a))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    calls.clear()
    curve = rd_curve([0.7, 0.3], hamming(2), progress=lambda *a: calls.append(a))
    done = [c[0] for c in calls]
    assert done == list(range(1, len(curve.betas) + 1))
    assert all(total >= n for n, total in calls) and calls[-1] == (len(curve.betas),) * 2


# --------------------------------------------------------------------------- the IB as RD


P_XY = np.array([[0.20, 0.05, 0.05], [0.05, 0.15, 0.02], [0.03, 0.05, 0.15], [0.10, 0.08, 0.07]])
P_XY = P_XY / P_XY.sum()


def kl_distortion(p_xy: np.ndarray, p_y_given_t: np.ndarray) -> np.ndarray:
    """d(x, t) = KL[p(y|x) ‖ p(y|t)] in nats (clipped at 0: Gibbs' inequality)."""
    p_y_given_x = p_xy / p_xy.sum(axis=1, keepdims=True)
    return np.maximum(rel_entr(p_y_given_x[:, None, :], p_y_given_t[None]).sum(axis=-1), 0.0)


@pytest.fixture(scope="module")
def ib():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ib_curve(P_XY, units="nats", random_state=0)


def test_ib_solutions_are_rate_distortion_solutions(ib):
    # at an IB fixed point, BA with the KL distortion of its own decoders returns the
    # same encoder: rate I(X;T), distortion I(X;Y) − I(T;Y), and the RD Lagrangian is
    # the IB objective plus β·I(X;Y)
    checked = 0
    for k in np.flatnonzero(ib.converged & (ib.n_clusters >= 2)):
        sol = ib.solution(int(k))
        spread = np.abs(sol.p_y_given_t[:, None] - sol.p_y_given_t[None]).sum(axis=-1)
        if spread[~np.eye(len(spread), dtype=bool)].min() < 1e-3:
            continue  # two clusters nearly one: the split between them is ill-posed
        res = blahut_arimoto(
            P_XY.sum(axis=1), kl_distortion(P_XY, sol.p_y_given_t), sol.beta, units="nats"
        )
        assert_allclose(res.objective, sol.objective + sol.beta * ib.i_xy, rtol=1e-8)
        assert_allclose(res.rate, sol.i_xt, atol=1e-4)
        assert_allclose(res.distortion, ib.i_xy - sol.i_ty, atol=1e-4)
        checked += 1
    assert checked >= 20


def test_rd_curves_of_fixed_decoders_lie_under_the_ib_curve(ib):
    # E d ≥ I(X;Y) − I(T;Y) for any decoders, so each RD point maps under the frontier;
    # with the decoders of an IB solution the curves touch at that solution
    p_x = P_XY.sum(axis=1)
    rng = np.random.default_rng(0)
    for n_t in (2, 3, 4):
        decoders = rng.dirichlet(np.ones(3), size=n_t)
        curve = rd_curve(p_x, kl_distortion(P_XY, decoders), units="nats")
        assert np.all(ib.i_xy - curve.distortion <= ib.i_ty_at(curve.rate) + 1e-9)
    for k in (40, 80):
        sol = ib.solution(k)
        curve = rd_curve(p_x, kl_distortion(P_XY, sol.p_y_given_t), units="nats")
        # under the frontier up to the chords of ib_curve's envelope
        assert np.all(ib.i_xy - curve.distortion <= ib.i_ty_at(curve.rate) + 1e-4)
        at = blahut_arimoto(p_x, kl_distortion(P_XY, sol.p_y_given_t), sol.beta, units="nats")
        assert_allclose(ib.i_xy - at.distortion, ib.i_ty_at(at.rate), atol=1e-5)


# --------------------------------------------------------------------------- capacity


@pytest.mark.parametrize("eps", [0.0, 0.01, 0.1, 0.3, 0.5])
def test_binary_symmetric_channel(eps):
    res = channel_capacity([[1 - eps, eps], [eps, 1 - eps]])
    assert_allclose(res.capacity, 1.0 - h2(eps), atol=1e-9)
    assert_allclose(res.p_x, [0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize("e", [0.0, 0.25, 0.9])
def test_binary_erasure_channel(e):
    res = channel_capacity([[1 - e, e, 0.0], [0.0, e, 1 - e]])
    assert_allclose(res.capacity, 1.0 - e, atol=1e-9)
    assert_allclose(res.p_y, [(1 - e) / 2, e, (1 - e) / 2], atol=1e-6)


@pytest.mark.parametrize("eps", [0.1, 0.5, 0.9])
def test_z_channel(eps):
    res = channel_capacity([[1.0, 0.0], [eps, 1 - eps]])
    truth = math.log2(1 + (1 - eps) * eps ** (eps / (1 - eps)))
    assert_allclose(res.capacity, truth, rtol=1e-8)


def test_noiseless_and_useless_channels():
    assert_allclose(channel_capacity(np.eye(5), units="nats").capacity, math.log(5))
    useless = channel_capacity([[0.2, 0.8]] * 4)
    assert useless.capacity == pytest.approx(0.0, abs=1e-12) and useless.converged


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_x=st.integers(1, 5), n_y=st.integers(1, 5))
def test_no_input_carries_more_than_the_capacity(seed, n_x, n_y):
    rng = np.random.default_rng(seed)
    channel = rng.dirichlet(np.ones(n_y) * 0.7, size=n_x)
    res = channel_capacity(channel, units="nats")
    assert res.converged and res.gap <= 1e-10
    assert_allclose(res.capacity, mutual_information(res.p_x[:, None] * channel, units="nats"))
    assert res.capacity <= math.log(min(n_x, n_y)) + 1e-12
    for p in rng.dirichlet(np.ones(n_x), size=20):
        assert mutual_information(p[:, None] * channel, units="nats") <= res.capacity + 1e-10


def test_capacity_non_convergence_warns():
    channel = [[0.6, 0.3, 0.1], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]]
    with pytest.warns(ConvergenceWarning, match=r"channel_capacity did not converge"):
        res = channel_capacity(channel, max_iter=2, tol=1e-15)
    assert not res.converged


# --------------------------------------------------------------------------- the contract


def test_rd_curve_shares_the_curve_contract():
    pd = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    from matplotlib.axes import Axes

    curve = rd_curve([0.8, 0.2], hamming(2), [1.0, 2.0, 4.0])
    assert isinstance(curve, RDCurve) and isinstance(curve, CurveResult)
    frame = curve.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3
    assert {"beta", "distortion", "rate", "units"} <= set(frame.columns)
    assert set(frame["units"]) == {"bits"}
    assert_allclose(frame["rate"].to_numpy(), curve.rate, rtol=0, atol=0)
    d = curve.to_dict()
    assert d["units"] == "bits" and not any(name.startswith("_") for name in d)
    assert json.loads(json.dumps(d)) == d
    ax = curve.plot()
    assert isinstance(ax, Axes) and "[bits]" in ax.get_ylabel() and "distortion" in ax.get_xlabel()
    assert curve.plot(ax=ax) is ax
    with pytest.raises(ValueError, match=r"cannot overlay a result in nats"):
        rd_curve([0.8, 0.2], hamming(2), [1.0], units="nats").plot(ax=ax)


def test_plot_rd_curve_refuses_other_objects():
    pytest.importorskip("matplotlib")
    from ibkit.plots import plot_rd_curve

    with pytest.raises(InvalidParameterError, match=r"curve must be the RDCurve"):
        plot_rd_curve(blahut_arimoto([0.5, 0.5], hamming(2), 1.0))


@pytest.mark.parametrize(
    "make",
    [lambda: blahut_arimoto([0.3, 0.7], hamming(2), 2.0), lambda: channel_capacity(np.eye(2))],
)
def test_single_results_are_plain_python(make):
    res = make()
    assert isinstance(res, RDResult | CapacityResult)
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d


# --------------------------------------------------------------------------- bad input

D2 = hamming(2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: blahut_arimoto([0.5, 0.6], D2, 1.0), r"p_x sums to 1\.1, not 1"),
        (lambda: blahut_arimoto([1.5, -0.5], D2, 1.0), r"p_x has 1 negative entries"),
        (lambda: blahut_arimoto([[0.5, 0.5]], D2, 1.0), r"p_x must be 1-D"),
        (lambda: blahut_arimoto([0.5, np.nan], D2, 1.0), r"p_x has 1 NaN or infinite"),
        (lambda: blahut_arimoto([0.5, 0.5j], D2, 1.0), r"p_x is complex"),
        (
            lambda: blahut_arimoto([0.2, 0.3, 0.5], D2, 1.0),
            r"distortion must have one row per letter of p_x, shape \(\|X\|, \|X̂\|\) = "
            r"\(3, k\); got shape \(2, 2\)",
        ),
        (lambda: blahut_arimoto([0.5, 0.5], [0.0, 1.0], 1.0), r"distortion must be 2-D"),
        (
            lambda: blahut_arimoto([0.5, 0.5], [[0.0, -1.0], [1.0, 0.0]], 1.0),
            r"distortion has 1 negative entries \(min -1\); pass d\(x, x̂\) >= 0",
        ),
        (
            lambda: blahut_arimoto([0.5, 0.5], [[0.0, np.nan], [1.0, 0.0]], 1.0),
            r"distortion has 1 NaN or infinite entries",
        ),
        (
            lambda: blahut_arimoto([0.5, 0.5], [[0.0, np.inf], [1.0, 0.0]], 1.0),
            r"distortion has 1 NaN or infinite entries",
        ),
        (lambda: blahut_arimoto([0.5, 0.5], D2 + 0j, 1.0), r"distortion is complex"),
        (lambda: blahut_arimoto([0.5, 0.5], D2, 0.0), r"beta must be a finite number > 0"),
        (lambda: blahut_arimoto([0.5, 0.5], D2, -1.0), r"beta must be a finite number > 0"),
        (lambda: blahut_arimoto([0.5, 0.5], D2, np.inf), r"beta must be a finite number > 0"),
        (lambda: blahut_arimoto([0.5, 0.5], D2, 1j), r"beta must be a real number"),
        (lambda: blahut_arimoto([0.5, 0.5], D2, 1.0, max_iter=0), r"max_iter must be an int"),
        (lambda: blahut_arimoto([0.5, 0.5], D2, 1.0, tol=0.0), r"tol must be a finite number"),
        (lambda: blahut_arimoto([0.5, 0.5], D2, 1.0, units="bit"), r"units must be 'bits'"),
        (lambda: rd_curve([0.5, 0.5], D2, [1.0, -2.0]), r"betas must all be > 0; got min -2"),
        (lambda: rd_curve([0.5, 0.5], D2, [1.0, 2j]), r"betas is complex"),
        (lambda: rd_curve([0.5, 0.5], D2, resolution=0), r"resolution must be a finite number"),
        (lambda: rd_curve([0.5, 0.5], D2, progress=3), r"progress must be None or a callable"),
        (lambda: rd_curve([0.5, 0.5], D2, [1.0]).rate_at(0.1j), r"distortion is complex"),
        (
            lambda: channel_capacity([[0.5, 0.6], [0.5, 0.5]]),
            r"p_y_given_x rows must each sum to 1 \(p\(y\|x\)\); row 0 sums to 1\.1",
        ),
        (
            lambda: channel_capacity([[1.5, -0.5], [0.5, 0.5]]),
            r"p_y_given_x has negative entries \(min -0\.5\); pass p\(y\|x\) >= 0",
        ),
        (lambda: channel_capacity([0.5, 0.5]), r"p_y_given_x must be 2-D"),
        (lambda: channel_capacity(np.eye(2) + 0j), r"p_y_given_x is complex"),
        (lambda: channel_capacity(np.eye(2), tol=-1.0), r"tol must be a finite number"),
    ],
)
def test_bad_input_is_refused_with_a_message(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()

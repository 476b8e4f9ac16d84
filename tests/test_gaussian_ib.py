"""Tests of the closed-form Gaussian IB against quantities computed independently.

Truth comes from outside the code under test: the informations of T = AX + ξ computed
directly from log-determinants of Gaussian covariances, eigenvalues from
``numpy.linalg.eigvals`` of the non-symmetric matrix Σ_{x|y} Σx⁻¹, I(X;Y) from
determinants, the 1-D case in closed form and by numerical minimisation of the IB
Lagrangian, and large-sample estimates.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize, minimize_scalar

from ibkit.ib.gaussian import GaussianIBResult, gaussian_ib, gaussian_ib_from_samples

LN2 = np.log(2.0)


# --------------------------------------------------------------------------- helpers


def random_joint_cov(rng: np.random.Generator, dx: int, dy: int, ridge: float = 0.05):
    """A random well-conditioned joint covariance, split into (Σx, Σxy, Σy)."""
    d = dx + dy
    m = rng.standard_normal((d, d + 2))
    joint = m @ m.T / (d + 2) + ridge * np.eye(d)
    scale = np.exp(rng.uniform(-1.0, 1.0, size=d))  # unequal variances
    joint = joint * np.outer(scale, scale)
    return joint[:dx, :dx], joint[:dx, dx:], joint[dx:, dx:]


def logdet(a: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(a)
    assert sign > 0
    return float(value)


def conditional_cov(cx, cxy, cy):
    return cx - cxy @ np.linalg.solve(cy, cxy.T)


def direct_informations(a, cx, cxy, cy):
    """I(X;T) and I(T;Y) in nats of T = AX + ξ, ξ ~ N(0, I), from log-determinants."""
    eye = np.eye(a.shape[0])
    cov_t = a @ cx @ a.T + eye
    cov_t_given_y = a @ conditional_cov(cx, cxy, cy) @ a.T + eye
    i_xt = 0.5 * logdet(cov_t)  # Cov(T|X) = I, log det I = 0
    i_ty = 0.5 * (logdet(cov_t) - logdet(cov_t_given_y))
    return i_xt, i_ty


def direct_i_xy(cx, cxy, cy):
    joint = np.block([[cx, cxy], [cxy.T, cy]])
    return 0.5 * (logdet(cx) + logdet(cy) - logdet(joint))


def independent_eigenvalues(cx, cxy, cy):
    lam = np.linalg.eigvals(conditional_cov(cx, cxy, cy) @ np.linalg.inv(cx))
    assert_allclose(lam.imag, 0.0, atol=1e-10)
    return np.sort(lam.real)


def betas_around(lam: np.ndarray) -> np.ndarray:
    """β values below, between and above the finite critical βs 1/(1 − λ)."""
    finite = 1.0 / (1.0 - lam[lam < 1.0 - 1e-8])
    return np.concatenate(
        [[0.3, 1.0, 0.5 * (1.0 + finite[0])], finite * 1.01, finite * 1.7, [1e3, 1e6]]
    )


# ------------------------------------------------------------- the curve vs direct


@pytest.mark.parametrize(("seed", "dx", "dy"), [(0, 1, 1), (1, 2, 1), (2, 3, 2), (3, 4, 5)])
@pytest.mark.parametrize("units", ["bits", "nats"])
def test_curve_matches_direct_informations_of_projection(seed, dx, dy, units):
    cx, cxy, cy = random_joint_cov(np.random.default_rng(seed), dx, dy)
    lam = independent_eigenvalues(cx, cxy, cy)
    betas = betas_around(lam)
    res = gaussian_ib(cx, cxy, cy, betas, units=units)
    to_units = 1.0 / LN2 if units == "bits" else 1.0
    for k, beta in enumerate(betas):
        a = res.projection(beta)
        assert a.shape == (dx, dx)
        i_xt, i_ty = direct_informations(a, cx, cxy, cy)
        assert_allclose(res.i_xt[k], i_xt * to_units, rtol=1e-8, atol=1e-10)
        assert_allclose(res.i_ty[k], i_ty * to_units, rtol=1e-8, atol=1e-10)
    assert res.units == units


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    dx=st.integers(1, 3),
    dy=st.integers(1, 3),
    log_beta=st.floats(-1.0, 8.0),
)
def test_property_curve_matches_direct_informations(seed, dx, dy, log_beta):
    cx, cxy, cy = random_joint_cov(np.random.default_rng(seed), dx, dy, ridge=0.1)
    beta = 10.0**log_beta
    res = gaussian_ib(cx, cxy, cy, [beta], units="nats")
    i_xt, i_ty = direct_informations(res.projection(beta), cx, cxy, cy)
    assert_allclose(res.i_xt[0], i_xt, rtol=1e-7, atol=1e-9)
    assert_allclose(res.i_ty[0], i_ty, rtol=1e-7, atol=1e-9)
    i_xy = direct_i_xy(cx, cxy, cy)
    assert res.i_ty[0] <= res.i_xt[0] + 1e-12
    assert res.i_ty[0] <= i_xy + 1e-9
    assert_allclose(res.i_xy, i_xy, rtol=1e-9)


def test_eigenvectors_are_left_eigenvectors_normalised_in_cov_x():
    cx, cxy, cy = random_joint_cov(np.random.default_rng(7), 3, 2)
    res = gaussian_ib(cx, cxy, cy, [2.0])
    v, lam = res.eigenvectors, res.eigenvalues
    m = conditional_cov(cx, cxy, cy) @ np.linalg.inv(cx)
    assert_allclose(v @ m, lam[:, None] * v, atol=1e-10)
    assert_allclose(v @ cx @ v.T, np.eye(3), atol=1e-10)  # r_i = 1, Σx-orthogonal


def test_projection_has_zero_rows_for_inactive_components():
    cx, cxy, cy = random_joint_cov(np.random.default_rng(8), 3, 3)
    res = gaussian_ib(cx, cxy, cy, [1.0])
    beta = 0.5 * (res.critical_betas[1] + res.critical_betas[2])  # two components active
    a = res.projection(beta)
    assert np.all(np.abs(a[:2]).sum(axis=1) > 0)
    assert_array_equal(a[2], 0.0)
    assert_array_equal(res.projection(0.5 * res.critical_betas[0]), 0.0)


# ------------------------------------------------------------------ optimality


def test_one_dimensional_closed_form_and_numerical_optimum():
    rho, beta = 0.6, 5.0
    res = gaussian_ib([[1.0]], [[rho]], [[1.0]], [beta], units="nats")
    assert_allclose(res.eigenvalues, [1.0 - rho**2])
    assert_allclose(res.critical_betas, [1.0 / rho**2])
    assert_allclose(res.i_xy, -0.5 * np.log(1.0 - rho**2))

    # T = aX + ξ: I(X;T) = ½log(1+a²), I(T;Y) = ½log(1+a²) − ½log(1+a²(1−ρ²)).
    def lagrangian(a):
        i_xt = 0.5 * np.log1p(a**2)
        return i_xt - beta * (i_xt - 0.5 * np.log1p(a**2 * (1.0 - rho**2)))

    best = minimize_scalar(
        lagrangian, bounds=(0.0, 20.0), method="bounded", options={"xatol": 1e-10}
    )
    assert_allclose(abs(res.projection(beta)[0, 0]), best.x, rtol=1e-5)
    assert_allclose(res.i_xt[0], 0.5 * np.log1p(best.x**2), rtol=1e-6)
    assert_allclose(res.i_xt[0], 0.5 * np.log((beta - 1) * rho**2 / (1 - rho**2)))
    assert_allclose(res.i_ty[0], 0.5 * np.log((beta - 1) / (beta * (1 - rho**2))))


def test_one_dimensional_scaled_variables():
    sx, sy, rho = 3.0, 0.2, -0.9
    res = gaussian_ib([[sx**2]], [[rho * sx * sy]], [[sy**2]], [1.0, 1.0 / rho**2 + 1e-6, 50.0])
    assert_allclose(res.eigenvalues, [1.0 - rho**2])
    assert_allclose(res.critical_betas, [1.0 / rho**2])
    assert_array_equal(res.n_active, [0, 1, 1])


@pytest.mark.parametrize("seed", [0, 1])
def test_projection_minimises_ib_lagrangian(seed):
    rng = np.random.default_rng(seed)
    dx, dy = 2, 2
    cx, cxy, cy = random_joint_cov(rng, dx, dy)
    res = gaussian_ib(cx, cxy, cy, [1.0], units="nats")
    beta = 1.5 * res.critical_betas[-1]  # both components active

    def lagrangian(flat):
        i_xt, i_ty = direct_informations(flat.reshape(dx, dx), cx, cxy, cy)
        return i_xt - beta * i_ty

    best = lagrangian(res.projection(beta).ravel())
    for _ in range(3):
        found = minimize(lagrangian, rng.standard_normal(dx * dx), method="BFGS")
        assert found.fun >= best - 1e-8
    assert_allclose(found.fun, best, rtol=1e-5, atol=1e-7)
    for _ in range(20):  # local optimality
        assert lagrangian(res.projection(beta).ravel() + 1e-3 * rng.standard_normal(4)) >= best


# ------------------------------------------------------- critical βs and limits


@pytest.mark.parametrize(("seed", "dx", "dy"), [(10, 2, 2), (11, 4, 2), (12, 3, 6)])
def test_critical_betas_from_independent_eigenvalues(seed, dx, dy):
    cx, cxy, cy = random_joint_cov(np.random.default_rng(seed), dx, dy)
    lam = independent_eigenvalues(cx, cxy, cy)
    res = gaussian_ib(cx, cxy, cy, [1.0])
    assert_allclose(res.eigenvalues, lam, rtol=1e-9, atol=1e-12)
    # rank Σxy = min(dx, dy): the other dx − dy directions of X say nothing about Y.
    k = min(dx, dy)
    assert_allclose(res.critical_betas[:k], 1.0 / (1.0 - lam[:k]), rtol=1e-8)
    assert_array_equal(res.critical_betas[k:], np.inf)
    assert np.all(np.diff(res.critical_betas[:k]) > 0)

    crit = res.critical_betas[:k]
    n_below = gaussian_ib(cx, cxy, cy, crit * (1 - 1e-7)).n_active
    n_above = gaussian_ib(cx, cxy, cy, crit * (1 + 1e-7)).n_active
    assert_array_equal(n_below, np.arange(k))
    assert_array_equal(n_above, np.arange(1, k + 1))
    between = np.concatenate([[1.0], np.sqrt(crit[:-1] * crit[1:]), [10 * crit[-1], 1e15]])
    assert_array_equal(gaussian_ib(cx, cxy, cy, between).n_active, [*range(k + 1), k])


def test_uncorrelated_direction_never_activates():
    # X2 is independent of (X1, Y): λ = 1, β^c = ∞.
    cx = np.diag([1.0, 2.0])
    cxy = np.array([[0.5], [0.0]])
    res = gaussian_ib(cx, cxy, [[1.0]], [10.0, 1e12])
    assert_allclose(res.eigenvalues, [0.75, 1.0])
    assert res.critical_betas[-1] == np.inf
    assert_array_equal(res.n_active, [1, 1])
    assert_array_equal(res.projection(1e12)[1], 0.0)


@pytest.mark.parametrize("rho", [1e-6, 1e-3, 0.5, 1.0 - 1e-6, 1.0 - 1e-9])
def test_one_dimensional_extreme_correlations(rho):
    # Weak and near-deterministic dependence keep full relative precision.
    res = gaussian_ib([[1.0]], [[rho]], [[1.0]], [1e30], units="nats")
    one_minus_rho2 = (1.0 - rho) * (1.0 + rho)
    assert_allclose(res.critical_betas, [1.0 / rho**2], rtol=1e-9)
    assert_allclose(res.eigenvalues, [one_minus_rho2], rtol=1e-6)
    assert_allclose(res.i_xy, -0.5 * np.log1p(-(rho**2)), rtol=1e-6)
    assert_allclose(res.i_ty, res.i_xy, rtol=1e-6)


@pytest.mark.parametrize(("seed", "dx", "dy"), [(20, 1, 1), (21, 3, 2), (22, 2, 4)])
def test_limits_in_beta(seed, dx, dy):
    cx, cxy, cy = random_joint_cov(np.random.default_rng(seed), dx, dy)
    i_xy = direct_i_xy(cx, cxy, cy) / LN2
    res = gaussian_ib(cx, cxy, cy, [1.0])
    first = res.critical_betas[0]
    res = gaussian_ib(cx, cxy, cy, [1e-3, 0.5, 1.0, 0.999 * first, first, 1e8, 1e12])
    assert_allclose(res.i_xy, i_xy, rtol=1e-10)
    assert_array_equal(res.i_xt[:5], 0.0)
    assert_array_equal(res.i_ty[:5], 0.0)
    assert_array_equal(res.n_active[:5], 0)
    assert_allclose(res.i_ty[-2:], i_xy, rtol=1e-6)
    assert np.all(res.i_ty <= i_xy * (1 + 1e-12))


def test_curve_is_monotone_and_concave():
    cx, cxy, cy = random_joint_cov(np.random.default_rng(30), 4, 3)
    betas = np.geomspace(1.0, 1e4, 400)
    res = gaussian_ib(cx, cxy, cy, betas, units="nats")
    assert np.all(np.diff(res.i_xt) >= 0)
    assert np.all(np.diff(res.i_ty) >= 0)
    assert np.all(res.i_ty <= res.i_xt + 1e-12)
    assert np.all(res.i_ty <= res.i_xy)
    on = np.diff(res.i_xt) > 1e-9
    slopes = np.diff(res.i_ty)[on] / np.diff(res.i_xt)[on]
    assert np.all(np.diff(slopes) <= 1e-9)  # concave: slopes non-increasing
    # The slope dI(T;Y)/dI(X;T) of the exact curve is 1/β.
    mid = np.sqrt(betas[1:] * betas[:-1])[on]
    assert_allclose(slopes, 1.0 / mid, rtol=2e-2)


def test_invariant_to_rescaling_of_x_and_y():
    rng = np.random.default_rng(40)
    cx, cxy, cy = random_joint_cov(rng, 3, 2)
    dx_, dy_ = np.diag([1e3, 1e-2, 5.0]), np.diag([1e-4, 1e2])
    betas = [1.2, 3.0, 40.0]
    res = gaussian_ib(cx, cxy, cy, betas)
    scaled = gaussian_ib(dx_ @ cx @ dx_, dx_ @ cxy @ dy_, dy_ @ cy @ dy_, betas)
    for name in ("i_xt", "i_ty", "eigenvalues", "critical_betas", "i_xy"):
        assert_allclose(getattr(scaled, name), getattr(res, name), rtol=1e-8, atol=1e-12)
    assert_allclose(scaled.eigenvectors @ dx_, res.eigenvectors, rtol=1e-7, atol=1e-10)


def test_scalar_beta_and_result_containers(monkeypatch):
    res = gaussian_ib([[1.0]], [[0.5]], [[1.0]], 3.0)
    assert isinstance(res, GaussianIBResult)
    assert res.betas.shape == res.i_xt.shape == res.i_ty.shape == res.n_active.shape == (1,)
    d = res.to_dict()
    assert set(d) == {
        "betas", "i_xt", "i_ty", "n_active", "eigenvalues", "critical_betas",
        "eigenvectors", "i_xy", "units",
    }  # fmt: skip
    with pytest.raises(AttributeError):
        res.units = "nats"
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install .ibkit.plot.."):
        res.to_frame()


def test_to_frame():
    pytest.importorskip("pandas")
    res = gaussian_ib([[1.0]], [[0.5]], [[1.0]], [1.0, 5.0, 9.0])
    frame = res.to_frame()
    assert list(frame.columns) == ["beta", "i_xt", "i_ty", "n_active", "units"]
    assert len(frame) == 3
    assert set(frame["units"]) == {"bits"}
    assert_allclose(frame["i_ty"].to_numpy(), res.i_ty)


# ----------------------------------------------------------------- from samples


def test_from_samples_converges_to_population():
    rng = np.random.default_rng(50)
    dx, dy, n = 2, 2, 200_000
    cx, cxy, cy = random_joint_cov(rng, dx, dy, ridge=0.2)
    joint = np.block([[cx, cxy], [cxy.T, cy]])
    z = rng.multivariate_normal(np.zeros(dx + dy), joint, size=n)
    pop = gaussian_ib(cx, cxy, cy, [1.0])
    betas = np.concatenate([[0.5], pop.critical_betas * 1.5, [100.0]])
    pop = gaussian_ib(cx, cxy, cy, betas)
    est = gaussian_ib_from_samples(z[:, :dx], z[:, dx:], betas)
    assert_allclose(est.eigenvalues, pop.eigenvalues, atol=5e-3)
    assert_allclose(est.i_xy, pop.i_xy, atol=1e-2)
    assert_allclose(est.i_ty, pop.i_ty, atol=1e-2)
    assert_allclose(est.i_xt, pop.i_xt, atol=3e-2)
    assert_array_equal(est.n_active, pop.n_active)


def test_from_samples_accepts_1d_arrays():
    rng = np.random.default_rng(51)
    y = rng.standard_normal(50_000)
    x = 0.8 * y + 0.6 * rng.standard_normal(50_000)
    res = gaussian_ib_from_samples(x, y, [10.0], units="nats")
    assert_allclose(res.critical_betas, [1 / 0.64], rtol=2e-2)
    assert_allclose(res.i_xy, -0.5 * np.log(0.36), rtol=2e-2)


# ------------------------------------------------------------------- bad input

GOOD = {"cov_x": np.eye(2), "cov_xy": np.full((2, 1), 0.3), "cov_y": np.eye(1)}


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"cov_x": np.ones((2, 3))}, r"cov_x must be a square matrix; got shape \(2, 3\)"),
        ({"cov_x": np.ones(2)}, r"cov_x must be 2-D; got an array of shape \(2,\)"),
        ({"cov_y": np.ones((1, 2))}, r"cov_y must be a square matrix"),
        ({"cov_xy": np.zeros((1, 2))}, r"cov_xy must have shape .* \(2, 1\).*got shape \(1, 2\)"),
        ({"cov_x": [[1.0, 0.2], [0.1, 1.0]]}, r"cov_x must be symmetric; got max \|"),
        ({"cov_x": [[1.0, 0.0], [0.0, np.nan]]}, r"cov_x has 1 NaN or infinite"),
        ({"cov_xy": [[np.inf], [0.0]]}, r"cov_xy has 1 NaN or infinite"),
        ({"cov_y": [[-1.0]]}, r"cov_y must be positive definite; got a diagonal entry -1"),
        ({"cov_x": [[1.0, 1.0], [1.0, 1.0]]}, r"cov_x must be positive definite .*smallest"),
        ({"cov_x": [[1.0, 2.0], [2.0, 1.0]]}, r"cov_x must be positive definite"),
        ({"cov_xy": [[0.9], [0.9]]}, r"joint covariance .* must be positive definite"),
        ({"cov_xy": [[1.0], [0.0]]}, r"joint covariance .*deterministic function of Y"),
    ],
)
def test_bad_covariances(changes, match):
    with pytest.raises(ValueError, match=match):
        gaussian_ib(**{**GOOD, **changes}, betas=[2.0])


@pytest.mark.parametrize(
    ("betas", "match"),
    [
        ([], r"betas is empty"),
        ([2.0, 0.0], r"betas must all be > 0; got 1 value\(s\) <= 0 \(min 0\)"),
        (-3.0, r"betas must all be > 0; .*min -3"),
        ([1.0, np.nan], r"betas has 1 NaN or infinite"),
        ([[1.0, 2.0]], r"betas must be 0-D or 1-D"),
        ("abc", r"betas must be a numeric array"),
    ],
)
def test_bad_betas(betas, match):
    with pytest.raises(ValueError, match=match):
        gaussian_ib(**GOOD, betas=betas)


def test_bad_units_and_projection_beta():
    with pytest.raises(ValueError, match=r"units must be 'bits' or 'nats'; got 'bans'"):
        gaussian_ib(**GOOD, betas=[2.0], units="bans")
    res = gaussian_ib(**GOOD, betas=[2.0])
    with pytest.raises(ValueError, match=r"beta must be a finite number > 0; got -1"):
        res.projection(-1.0)
    with pytest.raises(ValueError, match=r"beta must be a finite number > 0; got 0"):
        res.projection(0)


def test_bad_samples():
    rng = np.random.default_rng(60)
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    with pytest.raises(ValueError, match=r"same number of rows .*x with 10 and y with 9"):
        gaussian_ib_from_samples(x, y[:9], [2.0])
    with pytest.raises(ValueError, match=r"n > d_x \+ d_y = 5; got n = 5"):
        gaussian_ib_from_samples(x[:5], y[:5], [2.0])
    with pytest.raises(ValueError, match=r"x must be 1-D or 2-D; got an array of shape"):
        gaussian_ib_from_samples(x[:, :, None], y, [2.0])
    with pytest.raises(ValueError, match=r"y has 1 NaN or infinite"):
        gaussian_ib_from_samples(x, np.vstack([y[:9], [np.nan, 0.0]]), [2.0])
    collinear = np.column_stack([x[:, 0], 2 * x[:, 0], x[:, 2]])
    with pytest.raises(ValueError, match=r"cov_x must be positive definite"):
        gaussian_ib_from_samples(collinear, y, [2.0])

"""Tests of the ground-truth samplers of ibkit.datasets (tasks with known I(X;Y))."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import digamma, gammaln

from ibkit.datasets import (
    TRANSFORMS,
    GroundTruthTask,
    discrete_task,
    gaussian_task,
    independent_task,
    student_t_task,
    transformed_task,
)

P_XY = np.array([[0.3, 0.05, 0.05], [0.1, 0.2, 0.3]])


def t_correction(nu: float, dx: int, dy: int) -> float:
    """Multivariate-t MI minus Gaussian MI, from H = -log G((nu+d)/2) + log G(nu/2) + ..."""

    def h(d: int) -> float:  # entropy of a standard d-dim t, less the (d/2) log(nu pi) term
        a, b = (nu + d) / 2, nu / 2
        return float(-gammaln(a) + gammaln(b) + a * (digamma(a) - digamma(b)))

    return h(dx) + h(dy) - h(dx + dy)


@pytest.mark.parametrize(
    ("task", "expected_nats"),
    [
        (gaussian_task(), -0.5 * np.log(1 - 0.8**2)),
        (gaussian_task(3, 0.5), -1.5 * np.log(1 - 0.25)),
        (gaussian_task(10, 0.9, sparse=True), -np.log(1 - 0.81)),  # 2 of 10 pairs
        (gaussian_task(4, -0.6, sparse=True), -0.5 * np.log(1 - 0.36)),
        (independent_task(5), 0.0),
        (student_t_task(1, 0.8, 3.0), -0.5 * np.log(1 - 0.64) + t_correction(3.0, 1, 1)),
        (student_t_task(2, 0.0, 5.0), t_correction(5.0, 2, 2)),
    ],
)
def test_mi_closed_forms(task: GroundTruthTask, expected_nats: float) -> None:
    assert task.mi_nats == pytest.approx(expected_nats, rel=1e-12, abs=1e-15)
    assert task.mi("nats") == task.mi_nats
    assert task.mi() == pytest.approx(expected_nats / np.log(2), rel=1e-12, abs=1e-15)
    assert task.mi(units="bits") == task.mi()


def test_student_t_correction_positive_and_vanishing() -> None:
    assert student_t_task(1, 0.0, 2.0).mi_nats > student_t_task(1, 0.0, 20.0).mi_nats > 0
    assert student_t_task(1, 0.5, 1e6).mi_nats == pytest.approx(
        gaussian_task(1, 0.5).mi_nats, abs=1e-6
    )


def test_student_t_mi_matches_monte_carlo() -> None:
    """E[log p(x,y) - log p(x) - log p(y)] under the task's own samples."""
    task = student_t_task(1, 0.8, 3.0)
    x, y = task.sample(50_000, random_state=0)
    joint = stats.multivariate_t(np.zeros(2), [[1, 0.8], [0.8, 1]], df=3.0)
    pmi = (
        joint.logpdf(np.hstack([x, y]))
        - stats.t(3.0).logpdf(x[:, 0])
        - stats.t(3.0).logpdf(y[:, 0])
    )
    assert pmi.mean() == pytest.approx(task.mi_nats, abs=0.02)


@pytest.mark.parametrize(
    "task",
    [gaussian_task(3), independent_task(2), student_t_task(2), transformed_task(gaussian_task(4))],
)
def test_sample_shapes_and_dtypes(task: GroundTruthTask) -> None:
    x, y = task.sample(7, random_state=1)
    assert x.shape == y.shape == (7, task.dim)
    assert x.dtype == y.dtype == np.float64
    assert np.isfinite(x).all() and np.isfinite(y).all()


def test_constructors_only_store() -> None:
    task = gaussian_task(2, 0.3)
    assert task.kind == "gaussian" and task.rho == (0.3, 0.3) and task.transforms == ()
    with pytest.raises(AttributeError):
        task.mi_nats = 0.0  # type: ignore[misc]


def test_seeded_reproducibility() -> None:
    for task in (gaussian_task(2), student_t_task(2), discrete_task(P_XY)):
        a = task.sample(100, random_state=42)
        b = task.sample(100, random_state=42)
        c = task.sample(100, random_state=43)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert not np.array_equal(a[0], c[0])
    rng = np.random.default_rng(3)
    first = gaussian_task().sample(5, rng)[0]
    assert not np.array_equal(first, gaussian_task().sample(5, rng)[0])


@pytest.mark.parametrize(
    ("dim", "rho", "sparse"), [(1, 0.8, False), (3, -0.5, False), (6, 0.7, True)]
)
def test_empirical_correlation(dim: int, rho: float, sparse: bool) -> None:
    task = gaussian_task(dim, rho, sparse=sparse)
    x, y = task.sample(20_000, random_state=0)
    corr = np.corrcoef(x.T, y.T)
    np.testing.assert_allclose(np.diag(corr[:dim, dim:]), task.rho, atol=0.03)
    np.testing.assert_allclose(corr[:dim, :dim], np.eye(dim), atol=0.03)
    np.testing.assert_allclose(x.var(axis=0), 1.0, atol=0.05)
    np.testing.assert_allclose(y.var(axis=0), 1.0, atol=0.05)
    if sparse:
        assert task.rho == (rho,) + (0.0,) * (dim - 1)


def test_independent_samples_uncorrelated() -> None:
    x, y = independent_task(3).sample(20_000, random_state=0)
    np.testing.assert_allclose(np.corrcoef(x.T, y.T)[:3, 3:], 0.0, atol=0.03)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("base", [gaussian_task(2, 0.6), student_t_task(1, 0.5, 4.0)])
def test_transformed_task(base: GroundTruthTask, name: str) -> None:
    task = transformed_task(base, name)
    assert task.mi_nats == base.mi_nats and task.kind == base.kind
    x, y = task.sample(500, random_state=5)
    bx, by = base.sample(500, random_state=5)
    forward = {"cube": lambda a: a**3, "asinh": np.arcsinh}[name]
    np.testing.assert_allclose(x, forward(bx), rtol=1e-12)
    np.testing.assert_allclose(y, forward(by), rtol=1e-12)


def test_transforms_compose() -> None:
    base = gaussian_task()
    task = transformed_task(transformed_task(base, "asinh"), "cube")
    assert task.transforms == ("asinh", "cube") and task.mi_nats == base.mi_nats
    x, _ = task.sample(50, random_state=0)
    np.testing.assert_allclose(x, np.arcsinh(base.sample(50, random_state=0)[0]) ** 3)


def test_discrete_task() -> None:
    task = discrete_task(P_XY)
    assert task.kind == "discrete"
    # sum of p(x,y) log p(x,y) / (p(x) p(y)), with p(x) = (0.4, 0.6), p(y) = (0.4, 0.25, 0.35)
    mi_nats = (
        0.3 * np.log(0.3 / 0.16)
        + 0.05 * np.log(0.05 / 0.10)
        + 0.05 * np.log(0.05 / 0.14)
        + 0.1 * np.log(0.1 / 0.24)
        + 0.2 * np.log(0.2 / 0.15)
        + 0.3 * np.log(0.3 / 0.21)
    )
    assert task.mi("nats") == pytest.approx(mi_nats, rel=1e-12)
    assert task.mi() == pytest.approx(mi_nats / np.log(2), rel=1e-12)
    x, y = task.sample(50_000, random_state=0)
    assert x.shape == y.shape == (50_000,)
    assert x.dtype == y.dtype == np.int64
    freq = np.zeros_like(P_XY)
    np.add.at(freq, (x, y), 1)
    np.testing.assert_allclose(freq / freq.sum(), P_XY, atol=0.01)


def test_discrete_task_counts_and_zeros() -> None:
    task = discrete_task([[10, 0], [0, 30]], normalize=True)
    # Y = X with p(x) = (1/4, 3/4): I(X;Y) = H(X)
    assert task.mi() == pytest.approx(-(0.25 * np.log2(0.25) + 0.75 * np.log2(0.75)))
    x, y = task.sample(1000, random_state=0)
    np.testing.assert_array_equal(x, y)  # zero cells are never drawn


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: gaussian_task(0), "dim"),
        (lambda: gaussian_task(1.5), "dim"),  # type: ignore[arg-type]
        (lambda: gaussian_task(2, 1.0), "rho"),
        (lambda: gaussian_task(2, -1.2), "rho"),
        (lambda: gaussian_task(2, float("nan")), "rho"),
        (lambda: gaussian_task(2, True), "rho"),  # type: ignore[arg-type]
        (lambda: independent_task(0), "dim"),
        (lambda: student_t_task(1, 0.5, 0.0), "dof"),
        (lambda: student_t_task(1, 0.5, float("inf")), "dof"),
        (lambda: transformed_task(gaussian_task(), "square"), r"\['asinh', 'cube'\]"),
        (lambda: transformed_task(discrete_task(P_XY)), "continuous"),
        (lambda: transformed_task("gaussian"), "continuous"),  # type: ignore[arg-type]
        (lambda: discrete_task([0.5, 0.5]), "2-D"),
        (lambda: discrete_task([[0.5, 0.6]]), "sums to"),
        (lambda: discrete_task([[-0.5, 1.5]]), "negative"),
        (lambda: gaussian_task().sample(0), "n must"),
        (lambda: gaussian_task().sample(2.0), "n must"),  # type: ignore[arg-type]
        (lambda: discrete_task(P_XY).sample(-1), "n must"),
        (lambda: gaussian_task().sample(5, random_state="x"), "random_state"),
        (lambda: gaussian_task().mi("dits"), "units"),
    ],
)
def test_bad_inputs(make, match: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=match):
        make()
